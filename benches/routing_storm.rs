//! The end-to-end routing storm: the engine alone (no HTTP) on a durable sled log.
//!
//! Agents log in across skill groups (some in two), sessions arrive (as fast as the engine
//! takes them, or at `--rate` per second), each is routed to an agent under auto reception
//! and ended as soon as it is placed, so capacity cycles. It prints one figure per line:
//! sessions routed per second, enqueue-to-placement latency (from the call that opens the
//! session to the durable placement), peak RSS, bytes per open (queued) session, events per
//! routed session and replay speed.
//!
//! `cargo bench --bench routing_storm -- --agents N --groups G --sessions S --rate R`
//!
//! `--compare-stats K` runs the storm (setup and routing only) K times with the live stats
//! off and K times on, alternating, each in a fresh process on a fresh log, and prints the
//! ratio of the median throughputs and of the median CPU time per session: what recording
//! the stats costs the engine end to end.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use dashmap::DashMap;
use helpline::clock::{Clock, stopwatch};
use helpline::domain::event::CloseBy;
use helpline::domain::group::GroupCommand;
use helpline::domain::ids::{AgentId, ChannelId, GroupId, SessionId};
use helpline::domain::session::SessionCommand;
use helpline::domain::settings::AppSettings;
use helpline::domain::world::World;
use helpline::engine::Engine;
use helpline::engine::registry::SessionNews;
use helpline::log::{Durability, EventLog, LogOptions, SledLog};
use tokio::sync::Semaphore;

/// The same allocator as the `helpline` binary: actors allocate and free small objects
/// across threads all day, where glibc's malloc spends much of its time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
struct Args {
    /// Agents, all logged in and free.
    #[arg(long, default_value_t = 10_000)]
    agents: u64,
    /// Skill groups; every agent is in one, every fifth also in the next.
    #[arg(long, default_value_t = 100)]
    groups: u64,
    /// Sessions to route.
    #[arg(long, default_value_t = 1_000_000)]
    sessions: u64,
    /// Arrivals per second; 0 is as fast as the engine takes them.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Reception limit of every group.
    #[arg(long, default_value_t = 5)]
    limit: u32,
    /// Most sessions between arrival and end at once (the open-loop window).
    #[arg(long, default_value_t = 20_000)]
    in_flight: usize,
    /// Queued sessions opened at the end to measure memory per open session.
    #[arg(long, default_value_t = 100_000)]
    open_sessions: u64,
    /// fsync or none.
    #[arg(long, default_value = "fsync")]
    durability: String,
    /// Where the log goes (wiped first).
    #[arg(long, default_value = "target/routing-storm")]
    data: PathBuf,
    /// Keep the log's per-stream index while routing (see `LogOptions::stream_index`).
    #[arg(long)]
    stream_index: bool,
    /// Leaves the live stats off (they are on by default).
    #[arg(long)]
    no_stats: bool,
    /// Sets up and runs the storm only, printing one `storm:` line (for --compare-stats).
    #[arg(long, hide = true)]
    storm_only: bool,
    /// Runs the storm this many times with the live stats off and as many on, alternating,
    /// and prints the on/off throughput ratio (0: one storm, stats on).
    #[arg(long, default_value_t = 0)]
    compare_stats: usize,
    /// Passed by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

fn rss_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// CPU seconds this process has used (user and system, all threads): on a shared machine
/// it measures what the work costs, where wall time also measures what others take.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which may hold spaces) start after its ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    // The kernel reports in clock ticks, 100 per second on Linux.
    ticks as f64 / 100.0
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// An engine with its agents logged in across the groups, ready for a storm.
struct Desk {
    engine: Arc<Engine>,
    sled: Arc<SledLog>,
    log: Arc<dyn EventLog>,
    app: helpline::domain::ids::AppId,
    groups: Arc<Vec<GroupId>>,
}

/// What one storm measured.
struct Storm {
    routed_per_s: f64,
    cpu_us_per_session: f64,
    elapsed: f64,
    latencies_us: Vec<u64>,
    events: u64,
}

/// Starts an engine on a fresh log (the live stats on or off) and logs the agents in.
async fn setup(args: &Args, stats: bool) -> anyhow::Result<Desk> {
    let durability = match args.durability.as_str() {
        "fsync" => Durability::Fsync,
        "none" => Durability::None,
        other => anyhow::bail!("unknown durability {other:?}: use fsync or none"),
    };
    let _ = std::fs::remove_dir_all(&args.data);
    let options = LogOptions {
        durability,
        stream_index: args.stream_index,
    };
    let (sled, _) = SledLog::open_with(&args.data, options)?;
    let sled = Arc::new(sled);
    let log: Arc<dyn EventLog> = sled.clone();
    let engine = Arc::new(Engine::start(log.clone(), Clock::system()).await?);
    engine.shared().registry.live.set_enabled(stats);
    let app = engine.create_app("storm").await?;
    let mut settings = AppSettings::default();
    settings.reception.auto_reception = true;
    engine.update_settings(app, settings).await?;

    let setup = stopwatch();
    let mut groups = Vec::new();
    for g in 0..args.groups {
        groups.push(
            engine
                .create_group(app, &format!("group {g}"), args.limit)
                .await?,
        );
    }
    // The queue limits stay on (every queued session gets its wait-limit deadline and
    // timer), with a cap the storm's window cannot reach: it measures routing, not refusals.
    for g in &groups {
        engine
            .group(*g, GroupCommand::SetQueueLimits(storm_queue_limits()))
            .await?;
    }
    let groups = Arc::new(groups);
    let gate = Arc::new(Semaphore::new(512));
    let mut tasks = Vec::new();
    for i in 0..args.agents {
        let (engine, groups, permit) = (
            engine.clone(),
            groups.clone(),
            gate.clone().acquire_owned().await?,
        );
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            let name = format!("agent {i}");
            let a = engine
                .create_agent(app, &name, &name, &i.to_string())
                .await?;
            let n = groups.len() as u64;
            engine
                .group(groups[(i % n) as usize], GroupCommand::AddMember(a, 3))
                .await?;
            if i % 5 == 0 && n > 1 {
                engine
                    .group(
                        groups[((i + 1) % n) as usize],
                        GroupCommand::AddMember(a, 2),
                    )
                    .await?;
            }
            engine
                .agent(a, helpline::domain::agent::AgentCommand::Login)
                .await?;
            anyhow::Ok(a)
        }));
    }
    let mut agents: Vec<AgentId> = Vec::new();
    for t in tasks {
        agents.push(t.await??);
    }
    println!(
        "setup: {} agents in {} groups (limit {}) in {:.1} s",
        agents.len(),
        groups.len(),
        args.limit,
        setup.elapsed().as_secs_f64()
    );

    Ok(Desk {
        engine,
        sled,
        log,
        app,
        groups,
    })
}

/// Routes `args.sessions` sessions, ending each once placed.
async fn storm(desk: &Desk, args: &Args) -> anyhow::Result<Storm> {
    let (engine, log, app, groups) = (&desk.engine, &desk.log, desk.app, &desk.groups);
    // Latency bookkeeping: a placement may be seen before the open call returns.
    enum Mark {
        Opened(Instant),
        Placed(Instant),
    }
    let marks: Arc<DashMap<SessionId, Mark>> = Arc::new(DashMap::new());
    let latencies_us: Arc<std::sync::Mutex<Vec<u64>>> = Arc::new(std::sync::Mutex::new(Vec::new()));
    let ended = Arc::new(AtomicU64::new(0));
    let window = Arc::new(Semaphore::new(args.in_flight));
    let done = Arc::new(tokio::sync::Notify::new());
    let events_before = log.last_seq();

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<SessionNews>();
    engine.observe_sessions(tx);
    {
        let (engine, marks, latencies, ended, window, done, total) = (
            engine.clone(),
            marks.clone(),
            latencies_us.clone(),
            ended.clone(),
            window.clone(),
            done.clone(),
            args.sessions,
        );
        tokio::spawn(async move {
            while let Some(news) = rx.recv().await {
                let Some(p) = news.placement() else {
                    continue;
                };
                let now = stopwatch();
                let opened = match marks.entry(p.session) {
                    dashmap::Entry::Occupied(e) => match e.remove() {
                        Mark::Opened(t) => Some(t),
                        Mark::Placed(_) => None,
                    },
                    dashmap::Entry::Vacant(e) => {
                        e.insert(Mark::Placed(now));
                        None
                    }
                };
                if let Some(t) = opened {
                    latencies
                        .lock()
                        .unwrap()
                        .push(now.duration_since(t).as_micros() as u64);
                }
                let (engine, ended, window, done) =
                    (engine.clone(), ended.clone(), window.clone(), done.clone());
                tokio::spawn(async move {
                    let _ = engine
                        .session(
                            p.session,
                            SessionCommand::End {
                                close_by: CloseBy::Client,
                                agent: None,
                            },
                        )
                        .await;
                    window.add_permits(1);
                    if ended.fetch_add(1, Ordering::Relaxed) + 1 == total {
                        done.notify_one();
                    }
                });
            }
        });
    }

    let cpu_before = cpu_secs();
    let started = stopwatch();
    let per_tick = if args.rate > 0 {
        (args.rate / 1000).max(1)
    } else {
        0
    };
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut opened = 0u64;
    while opened < args.sessions {
        let batch = if per_tick > 0 {
            tick.tick().await;
            per_tick.min(args.sessions - opened)
        } else {
            1
        };
        for _ in 0..batch {
            let permit = window.acquire().await?;
            permit.forget();
            let (engine, marks, latencies, groups) = (
                engine.clone(),
                marks.clone(),
                latencies_us.clone(),
                groups.clone(),
            );
            let i = opened;
            tokio::spawn(async move {
                let group: GroupId =
                    groups[(i.wrapping_mul(2_654_435_761) % groups.len() as u64) as usize];
                let t = stopwatch();
                let user = format!("u{i}");
                let Ok(session) = engine
                    .open_session(app, ChannelId(1), &user, Some(group))
                    .await
                else {
                    return;
                };
                match marks.entry(session) {
                    dashmap::Entry::Occupied(e) => {
                        if let Mark::Placed(p) = e.remove() {
                            latencies
                                .lock()
                                .unwrap()
                                .push(p.duration_since(t).as_micros() as u64);
                        }
                    }
                    dashmap::Entry::Vacant(e) => {
                        e.insert(Mark::Opened(t));
                    }
                }
            });
            opened += 1;
        }
    }
    done.notified().await;
    let elapsed = started.elapsed().as_secs_f64();
    let routed_per_s = args.sessions as f64 / elapsed;
    let events = log.last_seq() - events_before;
    let mut lat = std::mem::take(&mut *latencies_us.lock().unwrap());
    lat.sort_unstable();
    // The observer task holds the engine until its channel closes: close it, so a storm
    // run after this one does not share the machine with this engine's leftovers.
    if let Ok(mut observers) = engine.shared().registry.session_news.write() {
        observers.clear();
    }
    Ok(Storm {
        routed_per_s,
        cpu_us_per_session: (cpu_secs() - cpu_before) * 1e6 / args.sessions as f64,
        elapsed,
        latencies_us: lat,
        events,
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.compare_stats > 0 {
        return compare_stats(&args).await;
    }
    let desk = setup(&args, !args.no_stats).await?;
    if args.storm_only {
        let figures = storm(&desk, &args).await?;
        println!(
            "storm: {} {}",
            figures.routed_per_s, figures.cpu_us_per_session
        );
        return Ok(());
    }
    let (engine, sled, log, app) = (&desk.engine, &desk.sled, &desk.log, desk.app);
    // Memory per open session: sessions queued in a group nobody serves, measured before
    // the storm so that memory freed by ended sessions is not reused under the count.
    let idle = engine.create_group(app, "nobody", 1).await?;
    engine
        .group(idle, GroupCommand::SetQueueLimits(storm_queue_limits()))
        .await?;
    let before_kib = rss_kib("VmRSS:");
    let gate = Arc::new(Semaphore::new(2048));
    let mut opens = Vec::new();
    for i in 0..args.open_sessions {
        let (engine, permit) = (engine.clone(), gate.clone().acquire_owned().await?);
        opens.push(tokio::spawn(async move {
            let _permit = permit;
            engine
                .open_session(app, ChannelId(2), &format!("w{i}"), Some(idle))
                .await
        }));
    }
    for o in opens {
        o.await??;
    }
    let after_kib = rss_kib("VmRSS:");
    println!(
        "bytes per open session: {} ({} queued sessions, RSS {} -> {} MiB)",
        (after_kib.saturating_sub(before_kib) * 1024) / args.open_sessions.max(1),
        args.open_sessions,
        before_kib / 1024,
        after_kib / 1024
    );

    let writer_before = sled.writer_stats();
    let Storm {
        routed_per_s,
        cpu_us_per_session,
        elapsed,
        latencies_us: lat,
        events,
    } = storm(&desk, &args).await?;
    println!("{} sessions routed/s", routed_per_s.round() as u64);
    println!("CPU per routed session: {cpu_us_per_session:.1} us (all threads)");
    println!(
        "routed {} sessions in {:.2} s ({} offered/s{})",
        args.sessions,
        elapsed,
        if args.rate > 0 {
            args.rate.to_string()
        } else {
            "unbounded".into()
        },
        if args.rate > 0 {
            ""
        } else {
            ", open loop window"
        }
    );
    println!(
        "enqueue-to-placement latency: p50 {} us, p99 {} us, max {} us ({} samples)",
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(0),
        lat.len()
    );
    println!(
        "events per routed session: {:.2} ({} events, {:.0} events/s appended)",
        events as f64 / args.sessions as f64,
        events,
        events as f64 / elapsed
    );
    println!("actor restarts: {}", engine.restarts());
    let w = sled.writer_stats();
    let frames = (w.frames - writer_before.frames).max(1);
    println!(
        "log writer: {} frames, {:.0} events/frame, write {:.0} us/frame, fsync {:.0} us/frame (max {} us)",
        frames,
        (w.events - writer_before.events) as f64 / frames as f64,
        (w.write_ns - writer_before.write_ns) as f64 / frames as f64 / 1e3,
        (w.fsync_ns - writer_before.fsync_ns) as f64 / frames as f64 / 1e3,
        w.fsync_ns_max / 1_000
    );

    println!("peak RSS: {} MiB", rss_kib("VmHWM:") / 1024);

    engine.shutdown().await?;
    log.sync()?;
    let read = stopwatch();
    let mut decoded = 0u64;
    for e in log.read_from(1) {
        e?;
        decoded += 1;
    }
    let read_secs = read.elapsed().as_secs_f64();
    println!(
        "log read: {} events in {:.2} s = {} events/s (read, check and decode only)",
        decoded,
        read_secs,
        (decoded as f64 / read_secs).round() as u64
    );
    let replay = stopwatch();
    let mut world = World::default();
    let mut replayed = 0u64;
    for e in log.read_from(1) {
        world.apply(&e?);
        replayed += 1;
    }
    let secs = replay.elapsed().as_secs_f64();
    println!(
        "replay: {} events in {:.2} s = {} events/s (read, decode and fold into World, {} live sessions)",
        replayed,
        secs,
        (replayed as f64 / secs).round() as u64,
        world.sessions.len()
    );
    world.check_invariants().map_err(anyhow::Error::msg)?;
    Ok(())
}

/// Storms with the stats off and on, alternating so drift on a shared machine hits both,
/// each in a process of its own (so no run inherits another's heap or threads), and prints
/// each figure and the ratios of the medians.
async fn compare_stats(args: &Args) -> anyhow::Result<()> {
    let mut routed: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut cpu: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for round in 0..args.compare_stats {
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for stats in order {
            let (routed_per_s, cpu_us) = storm_process(args, stats)?;
            println!(
                "stats {}: {} sessions routed/s, {:.1} us CPU per session",
                if stats { "on " } else { "off" },
                routed_per_s.round() as u64,
                cpu_us
            );
            routed[usize::from(stats)].push(routed_per_s);
            cpu[usize::from(stats)].push(cpu_us);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (off, on) = (median(&mut routed[0]), median(&mut routed[1]));
    println!(
        "stats on/off throughput ratio: {:.3} (median {} vs {} sessions routed/s, {} runs each)",
        on / off,
        on.round() as u64,
        off.round() as u64,
        args.compare_stats
    );
    let (cpu_off, cpu_on) = (median(&mut cpu[0]), median(&mut cpu[1]));
    println!(
        "stats on/off CPU per session ratio: {:.3} (median {:.1} vs {:.1} us)",
        cpu_on / cpu_off,
        cpu_on,
        cpu_off
    );
    Ok(())
}

/// Runs one storm in a child process; answers its throughput and CPU per session.
fn storm_process(args: &Args, stats: bool) -> anyhow::Result<(f64, f64)> {
    let mut command = std::process::Command::new(std::env::current_exe()?);
    command
        .arg("--storm-only")
        .args(["--agents", &args.agents.to_string()])
        .args(["--groups", &args.groups.to_string()])
        .args(["--sessions", &args.sessions.to_string()])
        .args(["--rate", &args.rate.to_string()])
        .args(["--limit", &args.limit.to_string()])
        .args(["--in-flight", &args.in_flight.to_string()])
        .args(["--durability", &args.durability])
        .arg("--data")
        .arg(&args.data);
    if !stats {
        command.arg("--no-stats");
    }
    if args.stream_index {
        command.arg("--stream-index");
    }
    let output = command.output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("storm: "))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "the storm process printed no figures: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
    let mut figures = line.split(' ').map(str::parse::<f64>);
    match (figures.next(), figures.next()) {
        (Some(Ok(routed)), Some(Ok(cpu))) => Ok((routed, cpu)),
        _ => anyhow::bail!("unreadable storm figures: {line}"),
    }
}

/// The default queue limits (a wait limit, so a deadline and a timer per queued session)
/// with the largest cap, above the storm's in-flight window and its open sessions.
fn storm_queue_limits() -> helpline::domain::group::QueueLimits {
    helpline::domain::group::QueueLimits {
        max_queued: helpline::domain::group::MAX_MAX_QUEUED,
        ..Default::default()
    }
}
