//! `helpline loadgen`: drives a real engine on a real log with seeded random traffic.
//!
//! It sets up (or, after a restart, reuses from the log) an app with manual reception,
//! skill groups and agents, logs the agents in, then opens sessions into random groups and
//! plays each one out: the offered agent accepts, user and agent write, the agent sometimes
//! transfers (to a group or to a colleague), and the client or the seat ends it.
//!
//! Its stdout is a contract with the crash test: one line `ack <kind> <session>` is printed
//! (and flushed) only after an engine call that changes a session returned `Ok`, which
//! means its events are durable. Whatever was acked must survive a `kill -9`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use dashmap::DashMap;
use helpline::clock::{Clock, stopwatch};
use helpline::domain::Rejection;
use helpline::domain::agent::AgentCommand;
use helpline::domain::event::{AgentStatus, CloseBy};
use helpline::domain::group::GroupCommand;
use helpline::domain::ids::{AgentId, AppId, ChannelId, GroupId, SessionId};
use helpline::domain::session::{Phase, SessionCommand};
use helpline::domain::world::World;
use helpline::engine::{Engine, EngineError};
use helpline::log::{EventLog, LogOptions};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;

use crate::LoadgenArgs;

/// Most session operations in flight at once (one per session being played out).
const MAX_IN_FLIGHT: usize = 64;
/// How long a queued session waits for word of its placement before looking again: a
/// safety net, the placement observer normally wakes it at once.
const PLACEMENT_POLL: Duration = Duration::from_millis(250);
/// Commands in a row one session may have refused before loadgen calls it a bug.
const MAX_REFUSALS_IN_A_ROW: u32 = 200;
/// Transfers per session at most, so every session ends.
const MAX_TRANSFERS: u32 = 2;
/// The channel every synthetic user writes to.
const CHANNEL: ChannelId = ChannelId(1);

/// A seeded xorshift64* generator: reproducible traffic with no dependency.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` and `stream` (different streams give unrelated sequences).
    pub fn new(seed: u64, stream: u64) -> Self {
        // splitmix64 of the pair, so neighbouring seeds do not start alike (and never at 0).
        let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Self(z | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0, "below(0)");
        self.next_u64() % n
    }
}

/// The operations acknowledged on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ack {
    Open,
    Accept,
    End,
    Transfer,
}

impl Ack {
    fn as_str(self) -> &'static str {
        match self {
            Ack::Open => "open",
            Ack::Accept => "accept",
            Ack::End => "end",
            Ack::Transfer => "transfer",
        }
    }
}

/// The desk the traffic runs against.
struct Desk {
    app: AppId,
    groups: Vec<GroupId>,
    agents: Vec<AgentId>,
}

/// What every session task shares.
struct Traffic {
    engine: Engine,
    desk: Desk,
    /// Wakes a queued session's task when its placement is durable.
    wakers: DashMap<SessionId, Arc<Notify>>,
    /// Sessions opened so far.
    opened: AtomicU64,
    /// Acks printed so far.
    acks: AtomicU64,
}

/// Runs the load until `--sessions` have been opened and played out, or a signal.
pub async fn loadgen(data: &Path, args: LoadgenArgs) -> anyhow::Result<ExitCode> {
    if args.groups == 0 || args.agents == 0 {
        anyhow::bail!(
            "loadgen needs at least one group and one agent, got {} groups and {} agents",
            args.groups,
            args.agents
        );
    }
    let log = Arc::new(crate::open_log(
        data,
        LogOptions {
            durability: args.durability,
            stream_index: args.stream_index,
        },
    )?);
    let watch = stopwatch();
    let (world, events) = crate::fold(log.as_ref(), None)?;
    let engine = Engine::start_from(log.clone(), Clock::system(), world.clone())
        .await
        .context("cannot start the engine")?;
    tracing::info!(
        events,
        replay_ms = watch.elapsed().as_millis() as u64,
        live_sessions = world.sessions.len(),
        "replayed the log"
    );
    let desk = prepare(&engine, &world, &args, &mut Rng::new(args.seed, 0)).await?;
    tracing::info!(
        app = %desk.app,
        groups = desk.groups.len(),
        agents = desk.agents.len(),
        seed = args.seed,
        "desk ready"
    );
    let adopted: Vec<SessionId> = world
        .sessions
        .values()
        .filter(|s| s.app == desk.app)
        .map(|s| s.id)
        .collect();

    let traffic = Arc::new(Traffic {
        engine,
        desk,
        wakers: DashMap::new(),
        opened: AtomicU64::new(0),
        acks: AtomicU64::new(0),
    });
    let (placed_tx, mut placed_rx) = tokio::sync::mpsc::unbounded_channel();
    traffic.engine.observe_sessions(placed_tx);
    let waker_traffic = Arc::clone(&traffic);
    let dispatcher = tokio::spawn(async move {
        while let Some(news) = placed_rx.recv().await {
            let Some(placement) = news.placement() else {
                continue;
            };
            let waker = waker_traffic
                .wakers
                .entry(placement.session)
                .or_default()
                .clone();
            waker.notify_one();
        }
    });

    let watch = stopwatch();
    let run = drive(Arc::clone(&traffic), adopted, &args);
    tokio::select! {
        done = run => done?,
        () = crate::cli_serve::shutdown_signal() => tracing::info!("stopping the load"),
    }
    dispatcher.abort();
    let _ = dispatcher.await;
    let secs = watch.elapsed().as_secs_f64().max(1e-9);
    let acks = traffic.acks.load(Ordering::Relaxed);
    tracing::info!(
        opened = traffic.opened.load(Ordering::Relaxed),
        acks,
        acks_per_sec = (acks as f64 / secs) as u64,
        secs = secs as u64,
        "load done"
    );
    match Arc::try_unwrap(traffic) {
        Ok(traffic) => traffic
            .engine
            .shutdown()
            .await
            .context("engine shutdown failed")?,
        Err(_) => tracing::debug!("session tasks still winding down: syncing the log only"),
    }
    log.sync().context("cannot sync the event log")?;
    Ok(ExitCode::SUCCESS)
}

/// Plays out the sessions left live by a previous run, then opens new ones until
/// `--sessions`.
async fn drive(
    traffic: Arc<Traffic>,
    adopted: Vec<SessionId>,
    args: &LoadgenArgs,
) -> anyhow::Result<()> {
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut tasks: JoinSet<anyhow::Result<()>> = JoinSet::new();
    let adopted_count = adopted.len();
    for session in adopted {
        let slot = Arc::clone(&slots).acquire_owned().await?;
        let traffic = Arc::clone(&traffic);
        let rng = Rng::new(args.seed, session.0);
        tasks.spawn(async move {
            let _slot = slot;
            play(&traffic, session, rng).await
        });
        reap(&mut tasks)?;
    }
    if adopted_count > 0 {
        tracing::info!(sessions = adopted_count, "playing out sessions left live");
    }
    let mut opened = 0u64;
    while opened < args.sessions {
        let slot = Arc::clone(&slots).acquire_owned().await?;
        let task_traffic = Arc::clone(&traffic);
        let mut rng = Rng::new(args.seed, u64::MAX - opened);
        let user = format!("user-{}-{opened}", args.seed);
        tasks.spawn(async move {
            let _slot = slot;
            let traffic = task_traffic;
            let group = traffic.desk.groups[rng.below(traffic.desk.groups.len() as u64) as usize];
            let session = traffic
                .engine
                .open_session(traffic.desk.app, CHANNEL, &user, Some(group))
                .await
                .with_context(|| format!("cannot open a session for {user} in {group}"))?;
            traffic.ack(Ack::Open, session)?;
            play(&traffic, session, rng).await
        });
        opened += 1;
        traffic.opened.store(opened, Ordering::Relaxed);
        reap(&mut tasks)?;
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

/// Collects finished session tasks, failing on the first that failed.
fn reap(tasks: &mut JoinSet<anyhow::Result<()>>) -> anyhow::Result<()> {
    while let Some(done) = tasks.try_join_next() {
        done??;
    }
    Ok(())
}

impl Traffic {
    /// Prints `ack <kind> <session>` and flushes it: the operation is durable.
    fn ack(&self, kind: Ack, session: SessionId) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "ack {} {}", kind.as_str(), session.0)
            .and_then(|()| out.flush())
            .context("cannot write an ack to stdout")?;
        self.acks.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn group_other_than(&self, current: Option<GroupId>, rng: &mut Rng) -> GroupId {
        let groups = &self.desk.groups;
        let pick = groups[rng.below(groups.len() as u64) as usize];
        if Some(pick) == current && groups.len() > 1 {
            let i = groups.iter().position(|g| *g == pick).unwrap_or(0);
            return groups[(i + 1) % groups.len()];
        }
        pick
    }

    /// One step of a session an agent serves: a message, a transfer or the end.
    async fn serve_step(
        &self,
        session: SessionId,
        agent: AgentId,
        group: Option<GroupId>,
        talk: &mut Talk,
        rng: &mut Rng,
    ) -> Result<Option<Ack>, EngineError> {
        let roll = rng.below(100);
        if talk.said < 2 || roll < 40 {
            let command = if talk.said.is_multiple_of(2) {
                SessionCommand::UserMessage(format!("question {} from the user", talk.said))
            } else {
                SessionCommand::AgentMessage {
                    agent,
                    text: format!("answer {} from {agent}", talk.said),
                }
            };
            self.engine.session(session, command).await?;
            talk.said += 1;
            return Ok(None);
        }
        if talk.transfers < MAX_TRANSFERS && roll < 60 {
            if roll < 52 || self.desk.agents.len() < 2 {
                let to = self.group_other_than(group, rng);
                let command = SessionCommand::TransferToGroup {
                    from: agent,
                    group: to,
                };
                self.engine.session(session, command).await?;
            } else {
                let to = self.desk.agents[rng.below(self.desk.agents.len() as u64) as usize];
                if to == agent {
                    return Ok(None);
                }
                self.engine.transfer_to_agent(session, agent, to).await?;
            }
            talk.transfers += 1;
            return Ok(Some(Ack::Transfer));
        }
        let command = if roll.is_multiple_of(2) {
            SessionCommand::End {
                close_by: CloseBy::Client,
                agent: None,
            }
        } else {
            SessionCommand::End {
                close_by: CloseBy::Seat,
                agent: Some(agent),
            }
        };
        self.engine.session(session, command).await?;
        Ok(Some(Ack::End))
    }
}

/// What a session task remembers of its conversation.
#[derive(Default)]
struct Talk {
    said: u32,
    transfers: u32,
}

/// Plays one session out from whatever phase it is in, until it ends.
async fn play(traffic: &Traffic, session: SessionId, mut rng: Rng) -> anyhow::Result<()> {
    let waker = traffic.wakers.entry(session).or_default().clone();
    let outcome = play_out(traffic, session, &waker, &mut rng).await;
    traffic.wakers.remove(&session);
    outcome
}

async fn play_out(
    traffic: &Traffic,
    session: SessionId,
    waker: &Notify,
    rng: &mut Rng,
) -> anyhow::Result<()> {
    let engine = &traffic.engine;
    let mut talk = Talk::default();
    let mut refused = 0u32;
    loop {
        let state = match engine.session_state(session).await {
            Ok(state) => state,
            // An ended session's actor is gone.
            Err(EngineError::Rejected(Rejection::NotFound(_))) => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {session}")),
        };
        let step = match state.phase {
            Phase::Ended { .. } => return Ok(()),
            Phase::Open => {
                let group = traffic.group_other_than(None, rng);
                engine
                    .session(session, SessionCommand::RequestHuman { group })
                    .await
                    .map(|()| None)
            }
            Phase::Queued { .. } => {
                let _ = tokio::time::timeout(PLACEMENT_POLL, waker.notified()).await;
                continue;
            }
            Phase::Offered { agent, .. } => engine
                .session(session, SessionCommand::Accept { agent })
                .await
                .map(|()| Some(Ack::Accept)),
            Phase::InService { agent, group } => {
                traffic
                    .serve_step(session, agent, group, &mut talk, rng)
                    .await
            }
        };
        match step {
            Ok(Some(ack)) => {
                refused = 0;
                traffic.ack(ack, session)?;
                if ack == Ack::End {
                    return Ok(());
                }
            }
            Ok(None) => refused = 0,
            Err(EngineError::Rejected(rejection)) => {
                // Races are expected (an offer redirected, a transfer target busy): look again.
                refused += 1;
                if refused >= MAX_REFUSALS_IN_A_ROW {
                    anyhow::bail!(
                        "{session}: {refused} commands in a row refused, last: {rejection}"
                    );
                }
                tracing::debug!(%session, %rejection, "refused; looking again");
                tokio::task::yield_now().await;
            }
            Err(e) => return Err(e).with_context(|| format!("command on {session} failed")),
        }
    }
}

/// Creates what the log does not have yet (the app, groups, agents, memberships) and
/// brings every agent online and free.
async fn prepare(
    engine: &Engine,
    world: &World,
    args: &LoadgenArgs,
    rng: &mut Rng,
) -> anyhow::Result<Desk> {
    let app = match world.apps.keys().next() {
        Some(app) => *app,
        None => engine
            .create_app("loadgen")
            .await
            .context("cannot create the loadgen app")?,
    };
    let mut settings = (*engine.settings(app)).clone();
    if settings.reception.auto_reception {
        settings.reception.auto_reception = false;
        engine
            .update_settings(app, settings)
            .await
            .with_context(|| format!("cannot turn auto reception off in {app}"))?;
    }

    let mut groups: Vec<GroupId> = world
        .groups
        .values()
        .filter(|g| g.app == app && !g.deleted)
        .map(|g| g.id)
        .collect();
    while groups.len() < args.groups as usize {
        let name = format!("group {}", groups.len() + 1);
        let id = engine
            .create_group(app, &name, args.reception_limit)
            .await
            .with_context(|| format!("cannot create skill group {name:?}"))?;
        groups.push(id);
    }

    let mut agents: Vec<AgentId> = world
        .agents
        .values()
        .filter(|a| a.app == app && !a.deleted)
        .map(|a| a.id)
        .collect();
    while agents.len() < args.agents as usize {
        let i = agents.len();
        let name = format!("agent {}", i + 1);
        let agent = engine
            .create_agent(
                app,
                &name,
                &format!("Agent {}", i + 1),
                &format!("{:04}", i + 1),
            )
            .await
            .with_context(|| format!("cannot create agent {name:?}"))?;
        // Every agent in one group, every third also in the next: queues share agents.
        let mut member_of = vec![groups[i % groups.len()]];
        if i.is_multiple_of(3) && groups.len() > 1 {
            member_of.push(groups[(i + 1) % groups.len()]);
        }
        for group in member_of {
            let priority = 1 + rng.below(5) as u8;
            engine
                .group(group, GroupCommand::AddMember(agent, priority))
                .await
                .with_context(|| format!("cannot add {agent} to {group}"))?;
        }
        agents.push(agent);
    }

    for agent in &agents {
        let state = engine
            .agent_state(*agent)
            .await
            .with_context(|| format!("cannot read {agent}"))?;
        if state.forced_offline {
            engine.agent(*agent, AgentCommand::Resume).await?;
        }
        if !state.online() {
            engine
                .agent(*agent, AgentCommand::Login)
                .await
                .with_context(|| format!("cannot log {agent} in"))?;
        }
        let status = engine.agent_state(*agent).await?.status;
        if status != AgentStatus::Free {
            engine
                .agent(*agent, AgentCommand::SetStatus(AgentStatus::Free))
                .await
                .with_context(|| format!("cannot set {agent} free"))?;
        }
    }
    Ok(Desk {
        app,
        groups,
        agents,
    })
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn rng_is_reproducible_and_seed_sensitive() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::new(7, 1);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::new(7, 1);
                move |_| r.next_u64()
            })
            .collect();
        let c: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::new(8, 1);
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
