//! Session service flows: the pure interpreter's steps per second on a 10-node flow, and
//! sessions per second through a whole flow on the engine (open, welcome, service time,
//! menu, form, condition, transfer, an agent assigned under auto reception, the end), with
//! the hub, the in-memory log and no sockets.
//!
//! `cargo bench --bench flows` (criterion; `-- --quick` for a short run). Each figure is
//! printed as criterion's throughput: elements are flow steps, then sessions.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use helpline::api::{self, ApiConfig, ApiState, AppState};
use helpline::clock::{Clock, stopwatch};
use helpline::domain::agent::AgentCommand;
use helpline::domain::conversation::Body;
use helpline::domain::directory::{Channel, ChannelKind};
use helpline::domain::event::{CloseBy, Event};
use helpline::domain::flow::{self, FlowState, Input};
use helpline::domain::group::GroupCommand;
use helpline::domain::ids::{AppId, ChannelId, FlowId, GroupId, StreamId};
use helpline::domain::session::{Phase, SessionCommand};
use helpline::engine::Engine;
use helpline::im::hub::UserMessage;
use helpline::log::MemLog;
use serde_json::{Value, json};
use std::hint::black_box;

const APP: AppId = AppId(1);
/// Sessions walked at once on the engine.
const CONCURRENT_SESSIONS: usize = 64;

fn node(id: &str, module: Value) -> Value {
    json!({"id": id, "module": module})
}

fn edge(from: &str, port: &str, to: &str) -> Value {
    json!({"from": from, "port": port, "to": to})
}

/// start, welcome, hours, menu, form, [call], judge, vip text, transfer, end: ten nodes with
/// the interface call, nine without.
fn graph(group: u64, with_call: bool) -> Value {
    let mut nodes = vec![
        node("start", json!({"type": "start"})),
        node(
            "welcome",
            json!({"type": "send_message", "text": "Hello ${UserId}, welcome to ${ChannelName}"}),
        ),
        node(
            "hours",
            json!({"type": "service_time", "timeZone": "Europe/Paris",
            "weekly": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "hours": [{"from": "00:00", "to": "24:00"}]}]}),
        ),
        node(
            "menu",
            json!({"type": "branch", "style": "menu", "text": "Please select", "invalidPrompt": "Again",
            "options": [{"port": "sales", "content": "Pre-sales"}, {"port": "support", "content": "After-sales"}]}),
        ),
        node(
            "phone",
            json!({"type": "collect", "form": "text", "text": "Your phone?", "variable": "phone"}),
        ),
        node(
            "judge",
            json!({"type": "condition", "branches": [{"port": "vip", "combine": "all",
            "conditions": [{"variable": "score", "op": "ge", "value": "90"}]}]}),
        ),
        node(
            "vip",
            json!({"type": "send_message", "text": "Welcome back, ${phone}"}),
        ),
        node(
            "desk",
            json!({"type": "transfer_to_agent", "group": group,
            "queueMessage": "${WaitNo} ahead of you", "successMessage": "${StaffNickName} is here"}),
        ),
        node(
            "end",
            json!({"type": "end", "replyTimeoutSecs": 0, "autoTerminationMessage": "", "humanTerminationMessage": "Bye"}),
        ),
    ];
    let mut edges = vec![
        edge("start", "next", "welcome"),
        edge("welcome", "next", "hours"),
        edge("hours", "in_hours", "menu"),
        edge("hours", "out_of_hours", "end"),
        edge("menu", "sales", "phone"),
        edge("menu", "support", "desk"),
        edge("judge", "vip", "vip"),
        edge("judge", "default", "desk"),
        edge("vip", "next", "desk"),
        edge("desk", "next", "end"),
    ];
    if with_call {
        nodes.push(node(
            "score",
            json!({"type": "interface_call", "url": "http://127.0.0.1:9/score",
            "params": [{"name": "phone", "value": "${phone}"}],
            "response": [{"field": "score", "variable": "score", "default": "0"}],
            "timeoutMs": 1000, "maxAttempts": 2}),
        ));
        edges.push(edge("phone", "next", "score"));
        edges.push(edge("score", "next", "judge"));
    } else {
        // Without a call the score is asked for.
        nodes.push(node(
            "score",
            json!({"type": "collect", "form": "text", "text": "Your score?", "variable": "score"}),
        ));
        edges.push(edge("phone", "next", "score"));
        edges.push(edge("score", "next", "judge"));
    }
    json!({"nodes": nodes, "edges": edges})
}

/// The pure interpreter: one walk is four steps (begin, the menu pick, the form's answer,
/// the call's answer) through all ten nodes.
fn interpreter(c: &mut Criterion) {
    let f = flow::parse(&graph(7, true).to_string()).expect("a valid flow");
    let system = BTreeMap::from([
        ("UserId".to_owned(), "u1".to_owned()),
        ("ChannelName".to_owned(), "Support".to_owned()),
    ]);
    let now = 1_790_000_000_000;
    let answer = {
        let Value::Object(map) = json!({"score": "95"}) else {
            unreachable!()
        };
        map
    };
    let mut group = c.benchmark_group("flow steps");
    group.throughput(Throughput::Elements(4));
    group.bench_function("10-node flow, 4 steps per walk", |b| {
        b.iter(|| {
            let s = FlowState::new(&f, system.clone());
            let (_, s) = flow::step(&f, &s, &Input::Begin, now).unwrap();
            let (_, s) = flow::step(&f, &s, &Input::UserText("Pre-sales".into()), now).unwrap();
            let (out, s) = flow::step(&f, &s, &Input::UserText("555".into()), now).unwrap();
            let key = out
                .iter()
                .find_map(|o| match o {
                    flow::Output::Call { key, .. } => Some(key.clone()),
                    _ => None,
                })
                .unwrap();
            let done = Input::CallDone {
                key,
                result: Ok(answer.clone()),
            };
            let (out, s) = flow::step(&f, &s, &done, now).unwrap();
            black_box((out, s))
        })
    });
    group.finish();
}

struct Desk {
    state: AppState,
    engine: Arc<Engine>,
}

async fn desk() -> Desk {
    let log = Arc::new(MemLog::new());
    let engine = Arc::new(Engine::start(log, Clock::system()).await.unwrap());
    let state = ApiState::new(
        engine.clone(),
        Default::default(),
        helpline::im::hub::Hub::new(Default::default(), Vec::new(), Vec::new()),
        Clock::system(),
        ApiConfig::default(),
        "http://127.0.0.1".to_owned(),
    )
    .unwrap();
    api::bootstrap(&state, Some("a-long-admin-password".to_owned()))
        .await
        .unwrap();
    let mut settings = (*engine.settings(APP)).clone();
    settings.reception.auto_reception = true;
    engine.update_settings(APP, settings).await.unwrap();
    let group: GroupId = engine.create_group(APP, "support", 100).await.unwrap();
    for i in 0..20 {
        let name = format!("agent{i}");
        let agent = engine.create_agent(APP, &name, &name, &name).await.unwrap();
        engine
            .group(group, GroupCommand::AddMember(agent, 1))
            .await
            .unwrap();
        engine.agent(agent, AgentCommand::Login).await.unwrap();
    }
    let flow = FlowId(state.desk.next_id());
    let channel = ChannelId(state.desk.next_id());
    let events = vec![
        Event::FlowSaved {
            flow,
            name: "reception".into(),
            version: 1,
            graph: graph(group.0, false).to_string(),
            saved_at_ms: 0,
        },
        Event::ChannelSaved {
            channel: Channel {
                id: channel,
                name: "Support".into(),
                kind: ChannelKind::InApp {
                    user_id: "desk".into(),
                    avatar_url: None,
                    proactive_group: None,
                },
                flow: Some(flow),
                skill_group: None,
                satisfaction: None,
            },
        },
    ];
    let events = events
        .into_iter()
        .map(|e| (StreamId::app(APP), e))
        .collect();
    let turn = state.desk.turn().await;
    state.desk.append(&turn, APP, events).await.unwrap();
    drop(turn);
    Desk { state, engine }
}

async fn say(d: &Desk, user: &str, n: usize, text: &str) -> helpline::domain::ids::ConversationId {
    let message = UserMessage {
        to: "desk".into(),
        msg_id: format!("m{n}"),
        online_user_only: false,
        body: Body::Text { text: text.into() },
    };
    d.state
        .hub
        .user_send(&d.state, APP, user, message)
        .await
        .unwrap()
        .conversation_id
}

/// One user through the whole flow to an agent, then the end.
async fn walk(d: Arc<Desk>, user: String) {
    let conversation = say(&d, &user, 1, "hello").await;
    say(&d, &user, 2, "Pre-sales").await;
    say(&d, &user, 3, "555-0100").await;
    say(&d, &user, 4, "95").await;
    let session = {
        let slot = d.state.hub.lock(conversation).await.unwrap();
        slot.entry.service.session.expect("a live session")
    };
    // Auto reception assigns an agent; then the user ends it.
    for _ in 0..100_000 {
        match d.engine.session_state(session).await.map(|s| s.phase) {
            Ok(Phase::InService { .. }) => break,
            _ => tokio::task::yield_now().await,
        }
    }
    d.engine
        .session(
            session,
            SessionCommand::End {
                close_by: CloseBy::Client,
                agent: None,
            },
        )
        .await
        .unwrap();
}

fn engine(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let d = Arc::new(rt.block_on(desk()));
    let mut next_user = 0u64;
    let mut group = c.benchmark_group("sessions through a flow");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("engine + hub, whole flow to an agent and the end", |b| {
        b.iter_custom(|iters| {
            let start = stopwatch();
            rt.block_on(async {
                let mut left = iters as usize;
                while left > 0 {
                    let batch = left.min(CONCURRENT_SESSIONS);
                    left -= batch;
                    let mut tasks = Vec::with_capacity(batch);
                    for _ in 0..batch {
                        next_user += 1;
                        let user = format!("user-{next_user}");
                        tasks.push(tokio::spawn(walk(d.clone(), user)));
                    }
                    for t in tasks {
                        t.await.unwrap();
                    }
                }
            });
            start.elapsed()
        })
    });
    group.finish();
}

criterion_group!(benches, interpreter, engine);
criterion_main!(benches);
