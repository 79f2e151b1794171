//! Criterion benches of the live stats' hot path: what an actor pays to record one event.
//!
//! `cargo bench --bench stats` prints, among criterion's figures, the time per offer
//! recorded by a session actor (the group's cell already held: a counter, the queue wait
//! histogram and the offer time), per assignment (with the in-service gauge), the group
//! publishing its queue, an agent's status move, and the same offer recorded by two
//! threads at once into one group's cell (the contended case).

use std::hint::black_box;
use std::sync::Barrier;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use helpline::clock::stopwatch;
use helpline::domain::event::Event;
use helpline::domain::ids::{AgentId, AppId, ChannelId, GroupId, SessionId};
use helpline::domain::routing::RoutingDecision;
use helpline::domain::session::{self, Phase, SessionState};
use helpline::domain::settings::RoutingPolicy;
use helpline::stats::LiveStats;
use helpline::stats::record::SessionStats;
use helpline::stats::status::StatusKind;

const APP: AppId = AppId(1);
const GROUP: GroupId = GroupId(10);

/// A session waiting in `GROUP` since 1 s, about to be placed.
fn queued() -> SessionState {
    let mut state = SessionState::new(SessionId(7), APP);
    session::apply(
        &mut state,
        &session::create(ChannelId(1), "u1", None).unwrap(),
    );
    state.phase = Phase::Queued {
        group: GROUP,
        queued_at_ms: 1_000,
        excluded: None,
    };
    state.route = Some((GROUP, 1_000));
    state
}

fn offered() -> Event {
    Event::SessionOffered {
        agent: AgentId(3),
        group: Some(GROUP),
        generation: 1,
        deadline_ms: 60_000,
        decision: RoutingDecision::direct(RoutingPolicy::default(), 0),
    }
}

fn hot_path(c: &mut Criterion) {
    let live = LiveStats::new();
    let cell = live.open_group(APP, GROUP).unwrap();
    let before = queued();
    let offer = offered();
    let assign = Event::SessionAssigned {
        agent: AgentId(3),
        group: Some(GROUP),
        decision: RoutingDecision::direct(RoutingPolicy::default(), 0),
    };
    let mut group = c.benchmark_group("live stats");
    group.throughput(Throughput::Elements(1));

    let mut stats = SessionStats::default();
    stats.record(&live, &before, &offer, 2_000);
    group.bench_function("offer recorded", |b| {
        let mut now = 2_000;
        b.iter(|| {
            now += 1;
            stats.record(&live, black_box(&before), black_box(&offer), now);
        })
    });
    group.bench_function("assignment recorded", |b| {
        let mut now = 2_000;
        b.iter(|| {
            now += 1;
            stats.record(&live, black_box(&before), black_box(&assign), now);
        })
    });
    group.bench_function("queue published", |b| {
        let mut len = 0;
        b.iter(|| {
            len = (len + 1) % 64;
            cell.queue.publish(black_box(len), 1_000)
        })
    });
    cell.agents.add(StatusKind::Free);
    group.bench_function("status moved", |b| {
        let mut free = true;
        b.iter(|| {
            let (from, to) = if free {
                (StatusKind::Free, StatusKind::Busy)
            } else {
                (StatusKind::Busy, StatusKind::Free)
            };
            cell.agents.move_to(from, to);
            free = !free;
        })
    });
    group.bench_function("offer recorded by 2 threads into one group", |b| {
        b.iter_custom(|iters| contended(&live, iters));
    });
    group.bench_function("scrape of one group", |b| b.iter(|| live.read()));
    group.finish();
}

/// Two threads record `iters` offers each into the same group's cell; the slower one's
/// time is the time per offer (both run at once).
fn contended(live: &LiveStats, iters: u64) -> Duration {
    let barrier = Barrier::new(2);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let (before, offer) = (queued(), offered());
                    let mut stats = SessionStats::default();
                    barrier.wait();
                    let started = stopwatch();
                    for i in 0..iters {
                        stats.record(live, &before, &offer, 2_000 + i as i64);
                    }
                    started.elapsed()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a recording thread panicked"))
            .max()
            .unwrap_or_default()
    })
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
