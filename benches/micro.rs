//! Criterion micro benches of the routing core: one routing decision over a group's
//! members, and the session aggregate's decide + apply for a placement.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use helpline::domain::event::{Event, QueueCause};
use helpline::domain::ids::{AgentId, AppId, ChannelId, GroupId, SessionId};
use helpline::domain::routing::{Candidate, RoutingDecision, RoutingRequest, choose};
use helpline::domain::session::{self, SessionCommand, SessionCtx, SessionState};
use helpline::domain::settings::{BasicRouting, RoutingPolicy};
use std::hint::black_box;

fn members(n: u64) -> Vec<Candidate> {
    (0..n)
        .map(|i| Candidate {
            agent: AgentId(i),
            priority: (i % 5) as u8 + 1,
            online: i % 7 != 0,
            free: i % 3 != 0,
            load: (i % 4) as u32,
            pending: (i % 11 == 0) as u32,
            idle_since_ms: (i * 7919 % 1000) as i64,
        })
        .collect()
}

fn routing_decision(c: &mut Criterion) {
    let mut group = c.benchmark_group("routing decision");
    for n in [10u64, 100, 1000] {
        let m = members(n);
        group.throughput(Throughput::Elements(1));
        for (name, basic) in [
            ("fifo", BasicRouting::Fifo),
            ("priority", BasicRouting::AgentPriority),
        ] {
            let policy = RoutingPolicy {
                basic,
                last_receptionist_first: true,
            };
            let request = RoutingRequest {
                last_agent: Some(AgentId(n / 2)),
                excluded: None,
            };
            group.bench_function(format!("{name}/{n} members"), |b| {
                b.iter(|| choose(black_box(policy), 4, request, black_box(&m)))
            });
        }
    }
    group.finish();
}

fn session_place(c: &mut Criterion) {
    let mut state = SessionState::new(SessionId(1), AppId(1));
    for e in [
        Event::SessionCreated {
            channel: ChannelId(1),
            user: "u".into(),
            last_agent: None,
        },
        Event::SessionQueued {
            group: GroupId(2),
            queued_at_ms: 0,
            cause: QueueCause::New,
        },
    ] {
        session::apply(&mut state, &e);
    }
    let ctx = SessionCtx::default();
    let command = SessionCommand::Place {
        agent: AgentId(3),
        group: GroupId(2),
        decision: RoutingDecision::direct(RoutingPolicy::default(), 0),
    };
    c.bench_function("session place: decide + actions + apply", |b| {
        b.iter_batched(
            || state.clone(),
            |mut s| {
                let events = session::decide(&s, &command, &ctx).unwrap();
                for e in &events {
                    black_box(session::actions(&s, e));
                    session::apply(&mut s, e);
                }
                s
            },
            BatchSize::SmallInput,
        )
    });
}

/// The cost of a sign-in (argon2id verify) and of authenticating a request (SHA-256 of the
/// token and a map lookup happen per request; this is the hash part).
fn sign_in(c: &mut Criterion) {
    use helpline::api::auth::{hash_password, sha256_hex, verify_password};
    let hash = hash_password("a long enough password");
    let mut g = c.benchmark_group("auth");
    g.sample_size(10);
    g.bench_function("argon2id_verify", |b| {
        b.iter(|| verify_password(&hash, "a long enough password"))
    });
    g.bench_function("token_sha256", |b| {
        b.iter(|| sha256_hex("hl_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"))
    });
    g.finish();
}

criterion_group!(benches, routing_decision, session_place, sign_in);
criterion_main!(benches);
