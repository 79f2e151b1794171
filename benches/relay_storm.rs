//! The relay storm: messages relayed user -> agent -> user over real WebSockets on loopback.
//!
//! This process serves helpline (the API, the hub and the engine on a durable sled log in a
//! temporary directory) and starts itself again as the client, so the two sides do not
//! share a file-descriptor limit (each side holds one socket per connection). The client
//! opens the agents' sockets (online, auto reception), then the users', and every user
//! writes once to start a session. Then, for `--secs`, every user writes a line, waits for
//! its agent's answer (the agent echoes each line it gets) and writes the next. It prints
//! round trips per second, messages relayed per second (two per round trip) and the round
//! trip's latency percentiles, from the user's send to the agent's answer arriving.
//!
//! `cargo bench --bench relay_storm -- --users 10000 --agents 1000 --secs 30`

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use helpline::api::{self, ApiConfig, ApiState};
use helpline::clock::{Clock, stopwatch};
use helpline::domain::directory::{AGENT, Channel, ChannelKind};
use helpline::domain::event::Event;
use helpline::domain::group::GroupCommand;
use helpline::domain::ids::{AppId, ChannelId, StreamId};
use helpline::domain::world::World;
use helpline::engine::Engine;
use helpline::log::{Durability, EventLog, LogOptions, SledLog};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const APP: AppId = AppId(1);
const SECRET: &str = "relay-storm-im-secret";

#[derive(Parser, Debug, Clone)]
struct Args {
    /// Users, each with a socket and a session.
    #[arg(long, default_value_t = 10_000)]
    users: u64,
    /// Agents, each with a socket, serving users/agents sessions at once.
    #[arg(long, default_value_t = 1_000)]
    agents: u64,
    /// How long the measured relay runs.
    #[arg(long, default_value_t = 30)]
    secs: u64,
    /// Each user's pause between an answer and its next line (0: as fast as answers come,
    /// which measures the most the desk relays; with a pause, latency at that offered load).
    #[arg(long, default_value_t = 0)]
    think_ms: u64,
    /// fsync or none.
    #[arg(long, default_value = "fsync")]
    durability: String,
    /// Client mode (set by the server side): the server's address.
    #[arg(long)]
    client: Option<String>,
    /// Criterion's flag when run by `cargo bench` (ignored).
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match args.client.clone() {
        Some(addr) => runtime.block_on(client(args, addr)),
        None => runtime.block_on(server(args)),
    }
}

fn agent_token(i: u64) -> String {
    format!("hl_relay_storm_agent_{i}")
}

async fn server(args: Args) {
    let dir = tempfile::tempdir().expect("temp dir");
    let durability = match args.durability.as_str() {
        "none" => Durability::None,
        _ => Durability::Fsync,
    };
    let (log, _) = SledLog::open_with(
        dir.path(),
        LogOptions {
            durability,
            stream_index: false,
        },
    )
    .expect("log");
    let log = Arc::new(log);
    let mut world = World::default();
    for envelope in log.read_from(1) {
        world.apply(&envelope.expect("envelope"));
    }
    let directory = std::mem::take(&mut world.directory);
    let hub = helpline::im::hub::Hub::from_world(&mut world);
    let engine = Arc::new(
        Engine::start_observed(log.clone(), Clock::system(), world, hub.observers())
            .await
            .expect("engine"),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let addr = listener.local_addr().expect("address");
    let state = ApiState::new(
        engine.clone(),
        directory,
        hub,
        Clock::system(),
        storm_config(&args),
        format!("http://{addr}"),
    )
    .expect("state");
    api::bootstrap(&state, Some("relay-storm-admin".into()))
        .await
        .expect("bootstrap");

    // The desk: auto reception, one group with room for every user, one channel.
    let mut settings = (*engine.settings(APP)).clone();
    settings.reception.auto_reception = true;
    engine
        .update_settings(APP, settings)
        .await
        .expect("settings");
    let limit = args.users.div_ceil(args.agents).clamp(1, 100) as u32;
    let group = engine
        .create_group(APP, "relay", limit)
        .await
        .expect("group");
    // The default wait limit stays on; the cap is the largest, above the users, since they
    // all write at once and queue until the agents' sockets take them.
    let limits = helpline::domain::group::QueueLimits {
        max_queued: helpline::domain::group::MAX_MAX_QUEUED,
        ..Default::default()
    };
    engine
        .group(group, GroupCommand::SetQueueLimits(limits))
        .await
        .expect("queue limits");
    let channel = ChannelId(state.desk.next_id());
    let directory_events = vec![
        Event::ImSecretRotated {
            secret: SECRET.into(),
            previous_valid_until_ms: 0,
        },
        Event::ChannelSaved {
            channel: Channel {
                id: channel,
                name: "Relay".into(),
                kind: ChannelKind::InApp {
                    user_id: "desk".into(),
                    avatar_url: None,
                    proactive_group: None,
                },
                flow: None,
                skill_group: Some(group),
                satisfaction: None,
            },
        },
    ];
    let turn = state.desk.turn().await;
    state
        .desk
        .append(
            &turn,
            APP,
            directory_events
                .into_iter()
                .map(|e| (StreamId::app(APP), e))
                .collect(),
        )
        .await
        .expect("directory");
    drop(turn);

    // Agents with accounts signed in already (one password hash for all: setup, not load).
    let hash = api::auth::hash_password("relay-storm-agent");
    let expires_at_ms = Clock::system().now_ms() + 86_400_000;
    // In appends of at most 80 agents (three events each, under the log's append limit).
    let mut ids = Vec::new();
    for chunk in (0..args.agents).collect::<Vec<_>>().chunks(80) {
        let profiles = chunk
            .iter()
            .map(|i| (format!("agent {i}"), format!("a{i}"), format!("{i}")))
            .collect();
        let first = chunk[0];
        let (made, events) = engine
            .create_agents_with(APP, profiles, |ids| {
                ids.iter()
                    .zip(first..)
                    .flat_map(|(id, i)| {
                        [
                            Event::AccountCreated {
                                agent: *id,
                                email: format!("agent{i}@relay.example"),
                                role: AGENT,
                                password_hash: hash.clone(),
                                must_change_password: false,
                            },
                            Event::SignedIn {
                                agent: *id,
                                token_hash: api::auth::sha256_hex(&agent_token(i)),
                                expires_at_ms,
                            },
                        ]
                    })
                    .map(|e| (StreamId::app(APP), e))
                    .collect()
            })
            .await
            .expect("agents");
        state.desk.fold(APP, &events);
        ids.extend(made);
    }
    let joins = ids.iter().map(|id| {
        let engine = engine.clone();
        let id = *id;
        async move { engine.group(group, GroupCommand::AddMember(id, 1)).await }
    });
    for r in futures_util::future::join_all(joins).await {
        r.expect("member");
    }

    // Served as `helpline serve` serves: connection cap, timeouts and WebSocket pings on.
    let router = api::router(state.clone());
    let server_limits = state.config.server.clone();
    let serving = tokio::spawn(async move {
        api::connections::serve(listener, router, &server_limits, std::future::pending()).await;
    });
    eprintln!(
        "server on {addr}: {} agents, group limit {limit}",
        args.agents
    );

    let exe = std::env::current_exe().expect("exe");
    let status = tokio::process::Command::new(exe)
        .args([
            "--users",
            &args.users.to_string(),
            "--agents",
            &args.agents.to_string(),
            "--secs",
            &args.secs.to_string(),
            "--think-ms",
            &args.think_ms.to_string(),
            "--client",
            &addr.to_string(),
        ])
        .status()
        .await
        .expect("client");
    assert!(status.success(), "the client failed");
    let figures = log.writer_stats();
    println!("log: {figures:?}");
    serving.abort();
    engine.shutdown().await.ok();
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `url`; a `#bearer=<token>` suffix is sent as `Authorization: Bearer` instead (the
/// agent socket takes no sign-in token in its URL).
async fn connect(url: String) -> Socket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let (url, bearer) = match url.split_once("#bearer=") {
        Some((url, token)) => (url.to_owned(), Some(token.to_owned())),
        None => (url, None),
    };
    for attempt in 0.. {
        let mut request = url.as_str().into_client_request().unwrap();
        if let Some(token) = &bearer {
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => return socket,
            Err(e) if attempt < 20 => {
                eprintln!("retrying a connection: {e}");
                tokio::time::sleep(Duration::from_millis(50 << attempt.min(5))).await;
            }
            Err(e) => panic!("cannot connect: {e}"),
        }
    }
    unreachable!()
}

fn text_of(frame: &Message) -> Option<Value> {
    match frame {
        Message::Text(t) => serde_json::from_str(t.as_str()).ok(),
        _ => None,
    }
}

/// Opens `count` sockets, `batch` at a time.
async fn open_all(urls: Vec<String>, batch: usize) -> Vec<Socket> {
    let mut out = Vec::with_capacity(urls.len());
    for chunk in urls.chunks(batch) {
        let opened = futures_util::future::join_all(chunk.iter().cloned().map(connect)).await;
        out.extend(opened);
    }
    out
}

async fn client(args: Args, addr: String) {
    let started = stopwatch();
    // Agents: online, then echo every user line back.
    let agent_urls = (0..args.agents)
        .map(|i| format!("ws://{addr}/ws/agent#bearer={}", agent_token(i)))
        .collect();
    let agents = open_all(agent_urls, 200).await;
    let mut agent_tasks = Vec::new();
    let online = Arc::new(AtomicU64::new(0));
    for socket in agents {
        let online = online.clone();
        agent_tasks.push(tokio::spawn(async move {
            let (mut tx, mut rx) = socket.split();
            tx.send(Message::text(json!({"type": "online"}).to_string()))
                .await
                .expect("online");
            let mut n = 0u64;
            while let Some(Ok(frame)) = rx.next().await {
                let Some(v) = text_of(&frame) else { continue };
                match v["type"].as_str() {
                    Some("ok") if v["command"] == "online" => {
                        online.fetch_add(1, Ordering::Relaxed);
                    }
                    Some("message") if v["from"] == "user" => {
                        n += 1;
                        let reply = json!({"type": "send", "sessionId": v["sessionId"],
                            "msgId": format!("r{n}"), "body": v["body"]});
                        if tx.send(Message::text(reply.to_string())).await.is_err() {
                            break;
                        }
                    }
                    Some("error") => eprintln!("agent error: {v}"),
                    _ => {}
                }
            }
        }));
    }
    while online.load(Ordering::Relaxed) < args.agents {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "{} agents online in {:.1}s",
        args.agents,
        started.elapsed().as_secs_f64()
    );

    // Users: one socket each, a first line to open the session, then the relay.
    let exp = helpline::clock::wall_now_ms() / 1_000 + 86_400;
    let user_urls = (0..args.users)
        .map(|i| {
            let token = helpline::im::token::mint(
                SECRET.as_bytes(),
                &helpline::im::token::UserClaims {
                    app: APP,
                    sub: format!("user-{i}"),
                    exp,
                },
            );
            format!("ws://{addr}/ws/im?token={token}")
        })
        .collect();
    let open = open_all(user_urls, 500).await;
    eprintln!(
        "{} users connected in {:.1}s",
        args.users,
        started.elapsed().as_secs_f64()
    );
    let seated = Arc::new(AtomicU64::new(0));
    let go = Arc::new(tokio::sync::Notify::new());
    let stop = Arc::new(AtomicBool::new(false));
    let mut user_tasks = Vec::new();
    let think = Duration::from_millis(args.think_ms);
    let users = args.users;
    for (i, socket) in open.into_iter().enumerate() {
        let (seated, go, stop) = (seated.clone(), go.clone(), stop.clone());
        let notified = go.clone();
        user_tasks.push(tokio::spawn(async move {
            let (mut tx, mut rx) = socket.split();
            let waiting = notified.notified();
            tokio::pin!(waiting);
            waiting.as_mut().enable();
            let first = json!({"type": "send", "to": "desk", "msgId": "hello",
                "body": {"type": "text", "text": "hello"}});
            tx.send(Message::text(first.to_string()))
                .await
                .expect("hello");
            // Seated: src 26 inSeat.
            while let Some(Ok(frame)) = rx.next().await {
                let Some(v) = text_of(&frame) else { continue };
                if v["type"] == "message"
                    && v["body"]["data"]
                        .as_str()
                        .is_some_and(|d| d.contains("inSeat"))
                {
                    break;
                }
            }
            seated.fetch_add(1, Ordering::Relaxed);
            waiting.await;
            let mut latencies = Vec::new();
            let mut n = 0u64;
            // Users start spread over one pause, so the offered load is even.
            if think > Duration::ZERO {
                tokio::time::sleep(think.mul_f64(i as f64 / users as f64)).await;
            }
            while !stop.load(Ordering::Relaxed) {
                if n > 0 && think > Duration::ZERO {
                    tokio::time::sleep(think).await;
                }
                n += 1;
                let line = format!("u{i} line {n}");
                let sent = stopwatch();
                let frame = json!({"type": "send", "to": "desk", "msgId": format!("m{n}"),
                    "body": {"type": "text", "text": line}});
                if tx.send(Message::text(frame.to_string())).await.is_err() {
                    break;
                }
                // The agent's echo: a desk message carrying this line.
                loop {
                    let Some(Ok(frame)) = rx.next().await else {
                        return latencies;
                    };
                    let Some(v) = text_of(&frame) else { continue };
                    if v["type"] == "message" && v["from"] == "desk" && v["body"]["text"] == line {
                        latencies.push(sent.elapsed());
                        break;
                    }
                    if v["type"] == "error" {
                        eprintln!("user error: {v}");
                    }
                }
            }
            latencies
        }));
    }
    while seated.load(Ordering::Relaxed) < args.users {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "{} sessions served in {:.1}s; relaying for {}s",
        args.users,
        started.elapsed().as_secs_f64(),
        args.secs
    );
    let measured = stopwatch();
    go.notify_waiters();
    tokio::time::sleep(Duration::from_secs(args.secs)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed_at_stop = measured.elapsed();
    let mut all: Vec<Duration> = Vec::new();
    for task in user_tasks {
        // A user blocked on its last answer is counted without it.
        if let Ok(Ok(l)) = tokio::time::timeout(Duration::from_secs(10), task).await {
            all.extend(l);
        }
    }
    for task in agent_tasks {
        task.abort();
    }
    all.sort();
    let secs = elapsed_at_stop.as_secs_f64();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "users {} agents {} pause {} ms",
        args.users, args.agents, args.think_ms
    );
    println!("round trips (user -> agent -> user): {}", all.len());
    println!("round trips per second: {:.0}", all.len() as f64 / secs);
    println!(
        "messages relayed per second: {:.0}",
        2.0 * all.len() as f64 / secs
    );
    println!(
        "round trip latency: p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        pct(0.999).as_secs_f64() * 1e3,
        all.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
}

/// The desk's defaults, limits on (a closed-loop user sends well under the per-user
/// message rate), with room for every socket of the storm under the connection cap.
fn storm_config(args: &Args) -> ApiConfig {
    let mut config = ApiConfig::default();
    let sockets = (args.users + args.agents) as usize + 1_024;
    config.server.max_connections = config.server.max_connections.max(sockets);
    config
}
