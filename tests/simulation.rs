//! A seeded simulation of the whole engine: proptest draws a day of random commands
//! (logins, status changes, sessions, accepts, transfers, messages, ends, membership
//! changes, time passing, restarts) and runs them against the real engine on an in-memory
//! log with paused time. After every step the invariants of DESIGN.md must hold:
//!
//! - no agent holds more sessions than its limit, and a session is held by one agent at most
//!   (`World::check_invariants` over the durable log);
//! - a queued session is never lost: every session the log says is queued sits in its
//!   group's live queue;
//! - a free agent with capacity never idles while its group has a queue;
//! - no session is let into a queue already holding its group's `max_queued` (two groups have
//!   small caps, one a wait limit the steps' time passing runs out); a session back from a
//!   missed offer returns to the place it held, full or not;
//! - a restart changes nothing: every actor's state is the same after it.
//!
//! A failing case prints its seed and the minimal list of steps that breaks.

use std::sync::Arc;
use std::time::Duration;

use helpline::clock::Clock;
use helpline::domain::agent::AgentCommand;
use helpline::domain::event::{AgentStatus, CloseBy};
use helpline::domain::group::{GroupCommand, QueueLimits};
use helpline::domain::ids::{AgentId, AppId, ChannelId, GroupId, SessionId};
use helpline::domain::session::{Phase, SessionCommand};
use helpline::domain::settings::AppSettings;
use helpline::domain::world::World;
use helpline::engine::Engine;
use helpline::log::MemLog;
use proptest::prelude::*;

const AGENTS: usize = 5;
const GROUPS: usize = 3;

#[derive(Clone, Debug)]
enum Step {
    Login(usize),
    Logout(usize),
    Status(usize, u8),
    Open(usize, u8),
    Accept(usize),
    EndByUser(usize),
    EndBySeat(usize),
    TransferToGroup(usize, usize),
    TransferToAgent(usize, usize),
    AgentSays(usize),
    UserSays(usize),
    Join(usize, usize, u8),
    Leave(usize, usize),
    ForceOffline(usize),
    Resume(usize),
    Advance(u16),
    Restart,
}

fn step() -> impl Strategy<Value = Step> {
    let a = 0..AGENTS;
    let g = 0..GROUPS;
    let s = 0usize..40;
    prop_oneof![
        3 => a.clone().prop_map(Step::Login),
        1 => a.clone().prop_map(Step::Logout),
        2 => (a.clone(), 0u8..4).prop_map(|(a, s)| Step::Status(a, s)),
        5 => (g.clone(), 0u8..6).prop_map(|(g, u)| Step::Open(g, u)),
        3 => s.clone().prop_map(Step::Accept),
        2 => s.clone().prop_map(Step::EndByUser),
        2 => s.clone().prop_map(Step::EndBySeat),
        1 => (s.clone(), g.clone()).prop_map(|(s, g)| Step::TransferToGroup(s, g)),
        1 => (s.clone(), a.clone()).prop_map(|(s, a)| Step::TransferToAgent(s, a)),
        1 => s.clone().prop_map(Step::AgentSays),
        1 => s.clone().prop_map(Step::UserSays),
        1 => (g.clone(), a.clone(), 1u8..=5).prop_map(|(g, a, p)| Step::Join(g, a, p)),
        1 => (g.clone(), a.clone()).prop_map(|(g, a)| Step::Leave(g, a)),
        1 => a.clone().prop_map(Step::ForceOffline),
        1 => a.clone().prop_map(Step::Resume),
        2 => (0u16..90).prop_map(Step::Advance),
        1 => Just(Step::Restart),
    ]
}

fn settings() -> impl Strategy<Value = AppSettings> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(auto, redirect, short_break, priority, last)| {
            let mut s = AppSettings::default();
            s.reception.auto_reception = auto;
            s.reception.redirect_on_timeout = redirect;
            s.reception.auto_short_break = short_break;
            s.reception.accept_timeout_secs = 30;
            s.user_reply_timeout_secs = 60;
            s.routing.basic = if priority {
                helpline::domain::settings::BasicRouting::AgentPriority
            } else {
                helpline::domain::settings::BasicRouting::Fifo
            };
            s.routing.last_receptionist_first = last;
            s
        })
}

async fn settle() {
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

struct Sim {
    log: Arc<MemLog>,
    engine: Engine,
    app: AppId,
    agents: Vec<AgentId>,
    groups: Vec<GroupId>,
    sessions: Vec<SessionId>,
}

impl Sim {
    async fn new(settings: AppSettings) -> Self {
        let log = Arc::new(MemLog::new());
        let engine = Engine::start(log.clone(), Clock::starting_at(1_000_000))
            .await
            .unwrap();
        let app = engine.create_app("sim").await.unwrap();
        engine.update_settings(app, settings).await.unwrap();
        let mut groups = Vec::new();
        for (i, limit) in [1u32, 2, 3].into_iter().enumerate().take(GROUPS) {
            groups.push(
                engine
                    .create_group(app, &format!("g{i}"), limit)
                    .await
                    .unwrap(),
            );
        }
        // Small caps, and a wait limit within reach of a few steps' time.
        for (g, (wait, cap)) in groups.iter().zip([(120, 3), (0, 4)]) {
            let limits = QueueLimits {
                max_queue_wait_secs: wait,
                max_queued: cap,
                ..QueueLimits::default()
            };
            engine
                .group(*g, GroupCommand::SetQueueLimits(limits))
                .await
                .unwrap();
        }
        let mut agents = Vec::new();
        for i in 0..AGENTS {
            let a = engine
                .create_agent(app, &format!("a{i}"), "n", "s")
                .await
                .unwrap();
            // Every agent in one group, some in two.
            engine
                .group(groups[i % GROUPS], GroupCommand::AddMember(a, 3))
                .await
                .unwrap();
            if i % 2 == 0 {
                engine
                    .group(groups[(i + 1) % GROUPS], GroupCommand::AddMember(a, 1))
                    .await
                    .unwrap();
            }
            agents.push(a);
        }
        Sim {
            log,
            engine,
            app,
            agents,
            groups,
            sessions: Vec::new(),
        }
    }

    fn session(&self, i: usize) -> Option<SessionId> {
        (!self.sessions.is_empty()).then(|| self.sessions[i % self.sessions.len()])
    }

    async fn holder(&self, s: SessionId) -> Option<AgentId> {
        self.engine
            .session_state(s)
            .await
            .ok()
            .and_then(|s| s.holder())
    }

    /// Runs one step; refusals are fine (they must change nothing), crashes are not.
    async fn run(&mut self, step: &Step) {
        let e = &self.engine;
        let _ = match step {
            Step::Login(a) => e
                .agent(self.agents[*a], AgentCommand::Login)
                .await
                .map(drop),
            Step::Logout(a) => e
                .agent(self.agents[*a], AgentCommand::Logout)
                .await
                .map(drop),
            Step::Status(a, s) => {
                let status = match s {
                    0 => AgentStatus::Free,
                    1 => AgentStatus::Busy,
                    2 => AgentStatus::Rest {
                        reason: "lunch".into(),
                    },
                    _ => AgentStatus::NotReady,
                };
                e.agent(self.agents[*a], AgentCommand::SetStatus(status))
                    .await
                    .map(drop)
            }
            Step::Open(g, u) => {
                match e
                    .open_session(
                        self.app,
                        ChannelId(1),
                        &format!("user{u}"),
                        Some(self.groups[*g]),
                    )
                    .await
                {
                    Ok(s) => {
                        self.sessions.push(s);
                        Ok(())
                    }
                    Err(err) => Err(err),
                }
            }
            Step::Accept(i) => match self.session(*i) {
                Some(s) => match self.engine.session_state(s).await.map(|st| st.phase) {
                    Ok(Phase::Offered { agent, .. }) => {
                        e.session(s, SessionCommand::Accept { agent }).await
                    }
                    _ => Ok(()),
                },
                None => Ok(()),
            },
            Step::EndByUser(i) => match self.session(*i) {
                Some(s) => {
                    e.session(
                        s,
                        SessionCommand::End {
                            close_by: CloseBy::Client,
                            agent: None,
                        },
                    )
                    .await
                }
                None => Ok(()),
            },
            Step::EndBySeat(i) => match self.session(*i) {
                Some(s) => {
                    let agent = self.holder(s).await;
                    e.session(
                        s,
                        SessionCommand::End {
                            close_by: CloseBy::Seat,
                            agent,
                        },
                    )
                    .await
                }
                None => Ok(()),
            },
            Step::TransferToGroup(i, g) => match self.session(*i) {
                Some(s) => match self.holder(s).await {
                    Some(from) => {
                        e.session(
                            s,
                            SessionCommand::TransferToGroup {
                                from,
                                group: self.groups[*g],
                            },
                        )
                        .await
                    }
                    None => Ok(()),
                },
                None => Ok(()),
            },
            Step::TransferToAgent(i, a) => match self.session(*i) {
                Some(s) => match self.holder(s).await {
                    Some(from) => e.transfer_to_agent(s, from, self.agents[*a]).await,
                    None => Ok(()),
                },
                None => Ok(()),
            },
            Step::AgentSays(i) => match self.session(*i) {
                Some(s) => match self.holder(s).await {
                    Some(agent) => {
                        e.session(
                            s,
                            SessionCommand::AgentMessage {
                                agent,
                                text: "hi".into(),
                            },
                        )
                        .await
                    }
                    None => Ok(()),
                },
                None => Ok(()),
            },
            Step::UserSays(i) => match self.session(*i) {
                Some(s) => {
                    e.session(s, SessionCommand::UserMessage("hello".into()))
                        .await
                }
                None => Ok(()),
            },
            Step::Join(g, a, p) => e
                .group(
                    self.groups[*g],
                    GroupCommand::AddMember(self.agents[*a], *p),
                )
                .await
                .map(drop),
            Step::Leave(g, a) => e
                .group(self.groups[*g], GroupCommand::RemoveMember(self.agents[*a]))
                .await
                .map(drop),
            Step::ForceOffline(a) => e
                .agent(self.agents[*a], AgentCommand::ForceOffline)
                .await
                .map(drop),
            Step::Resume(a) => e
                .agent(self.agents[*a], AgentCommand::Resume)
                .await
                .map(drop),
            Step::Advance(secs) => {
                tokio::time::advance(Duration::from_secs(u64::from(*secs))).await;
                Ok(())
            }
            Step::Restart => {
                settle().await;
                let before = self.engine.dump().await.unwrap();
                self.engine.shutdown().await.unwrap();
                let now = helpline::domain::world::World::from_history(&self.log.all()).last_at_ms;
                let _ = now;
                let clock_now = self.engine.shared().clock.now_ms();
                self.engine = Engine::start(self.log.clone(), Clock::starting_at(clock_now))
                    .await
                    .unwrap();
                settle().await;
                let after = self.engine.dump().await.unwrap();
                assert_eq!(before, after, "a restart changed an actor's state");
                Ok(())
            }
        };
        settle().await;
    }

    async fn check(&self) -> Result<(), String> {
        let world = World::from_history(&self.log.all());
        world.check_invariants()?;
        let idle = world.idle_capacity_beside_queue();
        if !idle.is_empty() {
            return Err(format!("free capacity idles beside a queue: {idle:?}"));
        }
        let dump = self.engine.dump().await.map_err(|e| e.to_string())?;
        admitted_within_caps(&self.log.all())?;
        for s in world.sessions.values() {
            if let Phase::Queued { group, .. } = s.phase {
                let queue = &dump
                    .groups
                    .iter()
                    .find(|g| g.state.id == group)
                    .ok_or("queue's group missing")?
                    .queue;
                if !queue.contains(&s.id) {
                    return Err(format!(
                        "{} is queued in {group} by its log but not in the live queue",
                        s.id
                    ));
                }
            }
        }
        for a in &dump.agents {
            let durable = &world.agents[&a.id];
            if a != durable {
                return Err(format!(
                    "agent actor {:?} differs from its log {:?}",
                    a, durable
                ));
            }
        }
        self.check_stats(&world, &dump)
    }

    /// The live stats agree with the actors: each queue's length, members and agents by
    /// status, sessions in service by the group that routed them.
    fn check_stats(
        &self,
        world: &World,
        dump: &helpline::engine::EngineDump,
    ) -> Result<(), String> {
        use helpline::stats::Label;
        use helpline::stats::record::status_of;
        use helpline::stats::status::{STATUS_COUNT, StatusKind};
        let live = self.engine.shared().registry.live.read();
        let by_status = |agents: &mut dyn Iterator<Item = &helpline::domain::agent::AgentState>| {
            let mut counts = [0u64; STATUS_COUNT];
            for s in agents.filter_map(status_of) {
                counts[StatusKind::ALL.iter().position(|k| *k == s).unwrap()] += 1;
            }
            counts
        };
        let app = Label::Id(u64::from(self.app.0));
        let agents = live.apps.get(&app).copied().unwrap_or_default();
        if agents != by_status(&mut dump.agents.iter()) {
            return Err(format!(
                "agents by status {agents:?}, actors {:?}",
                dump.agents
            ));
        }
        for g in &dump.groups {
            let stats = live
                .groups
                .get(&(app, Label::Id(g.state.id.0)))
                .ok_or_else(|| format!("no live stats of {}", g.state.id))?;
            if stats.queue.len != g.queue.len() as u64 {
                return Err(format!(
                    "{}: queue {} live, {} in the actor",
                    g.state.id,
                    stats.queue.len,
                    g.queue.len()
                ));
            }
            let mut members = dump
                .agents
                .iter()
                .filter(|a| g.state.members.contains_key(&a.id));
            if stats.agents != by_status(&mut members) {
                return Err(format!(
                    "{}: members by status {:?}",
                    g.state.id, stats.agents
                ));
            }
            let serving = world
                .sessions
                .values()
                .filter(|s| match s.phase {
                    Phase::InService { group, .. } => {
                        group.or(s.route.map(|r| r.0)) == Some(g.state.id)
                    }
                    _ => false,
                })
                .count() as u64;
            if stats.in_service != serving {
                return Err(format!(
                    "{}: {} in service live, {serving} by the log",
                    g.state.id, stats.in_service
                ));
            }
        }
        Ok(())
    }
}

proptest! {
    // HELPLINE_SIM_CASES=2000 for a longer hunt; 48 cases keep the suite quick.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("HELPLINE_SIM_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48),
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    })]
    #[test]
    fn the_engine_keeps_its_invariants_under_any_day(settings in settings(), steps in proptest::collection::vec(step(), 1..60)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap();
        let result: Result<(), String> = rt.block_on(async {
            let mut sim = Sim::new(settings).await;
            for (i, step) in steps.iter().enumerate() {
                sim.run(step).await;
                if let Err(e) = sim.check().await {
                    if std::env::var_os("HELPLINE_SIM_LOG").is_some() {
                        for env in sim.log.all() {
                            eprintln!("{} {} {} {:?}", env.seq, env.at_ms, env.stream, env.event);
                        }
                    }
                    return Err(format!("after step {i} {step:?}: {e}"));
                }
            }
            sim.engine.shutdown().await.map_err(|e| e.to_string())?;
            Ok(())
        });
        prop_assert!(result.is_ok(), "{}", result.unwrap_err());
    }
}

/// Every new entry into a queue (a new session, a transfer) found it under its cap, replaying
/// the log one event at a time.
fn admitted_within_caps(log: &[helpline::domain::event::Envelope]) -> Result<(), String> {
    use helpline::domain::event::{Event, QueueCause};
    let mut world = World::default();
    for env in log {
        if let Event::SessionQueued {
            group,
            cause: QueueCause::New | QueueCause::Transfer { .. },
            ..
        } = &env.event
        {
            let waiting = world.queue(*group).len();
            let cap = world.groups[group].queue_limits.max_queued as usize;
            if waiting >= cap {
                return Err(format!(
                    "session {} entered {group} holding {waiting} waiting, its max_queued {cap}",
                    env.stream.id
                ));
            }
        }
        world.apply(env);
    }
    Ok(())
}
