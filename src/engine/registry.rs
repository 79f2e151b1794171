//! Where the engine finds its actors and the little shared, read-mostly state they need.
//!
//! ractor's own registry is global; per-agent, per-group and per-session actors are found
//! here instead, by id, so two engines (a test's before and after restart) never collide.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;
use ractor::{ActorId, ActorRef};

use crate::domain::ids::{AgentId, AppId, GroupId, SessionId, UserKey};
use crate::domain::settings::AppSettings;
use crate::engine::agent::AgentMsg;
use crate::engine::group::GroupMsg;
use crate::engine::session::SessionMsg;
use crate::engine::timers::TimerMsg;

/// What a supervised actor is, so the supervisor can rebuild it after a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Child {
    /// An agent actor.
    Agent(AgentId),
    /// A skill-group actor.
    Group(GroupId),
    /// A session actor.
    Session(SessionId),
    /// An app's timer actor.
    Timers(AppId),
}

/// Where a live session is.
///
/// A session that waits in a queue needs no actor: nothing happens to it until its group
/// places it, its user writes or leaves, or an administrator acts. It is kept as its state
/// (a few hundred bytes instead of an actor's ~10 KB) and woken, from that state, by the
/// first message sent to it. Once awake it stays awake until it ends.
#[derive(Debug)]
pub enum SessionSlot {
    /// Its actor runs.
    Awake(ActorRef<SessionMsg>),
    /// Waiting in a queue; the state is exactly what its events fold to.
    Waiting(Box<crate::domain::session::SessionState>),
}

impl SessionSlot {
    /// The actor, if awake.
    pub fn awake(&self) -> Option<&ActorRef<SessionMsg>> {
        match self {
            Self::Awake(actor) => Some(actor),
            Self::Waiting(_) => None,
        }
    }
}

/// A session placed with an agent: what a session's news says when it offers or assigns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The session.
    pub session: SessionId,
    /// The agent.
    pub agent: AgentId,
    /// Offered (true) or assigned at once (false).
    pub offered: bool,
}

/// A session's events, as told to a session observer once they are durable: how the user
/// end and the agent end hear of offers, seats and ends the engine decided on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionNews {
    /// The app.
    pub app: AppId,
    /// The session.
    pub session: SessionId,
    /// Its events, in log order.
    pub events: Vec<crate::domain::event::Event>,
}

impl SessionNews {
    /// The placement (offer or assignment) among the events, if any.
    pub fn placement(&self) -> Option<Placement> {
        use crate::domain::event::Event;
        self.events.iter().find_map(|e| match e {
            Event::SessionOffered { agent, .. } => Some(Placement {
                session: self.session,
                agent: *agent,
                offered: true,
            }),
            Event::SessionAssigned { agent, .. } => Some(Placement {
                session: self.session,
                agent: *agent,
                offered: false,
            }),
            _ => None,
        })
    }
}

/// An agent's events (login, status, logout), as told to an agent observer once durable:
/// how the workstation hears of status changes the engine made on its own (a missed offer's
/// short break) or an administrator made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentNews {
    /// The app.
    pub app: AppId,
    /// The agent.
    pub agent: AgentId,
    /// Its events, in log order.
    pub events: Vec<crate::domain::event::Event>,
}

/// Who hears of the engine's durable news; registered before any actor starts, so nothing
/// decided at start (an offer timing out during replay) goes unheard.
#[derive(Clone, Debug, Default)]
pub struct Observers {
    /// Told of every session's events.
    pub sessions: Vec<tokio::sync::mpsc::UnboundedSender<SessionNews>>,
    /// Told of every agent's events.
    pub agents: Vec<tokio::sync::mpsc::UnboundedSender<AgentNews>>,
}

/// Counters of the engine's own health.
#[derive(Debug, Default)]
pub struct EngineStats {
    /// Actors restarted by the supervisor after a failure.
    pub restarts: AtomicU64,
}

/// The engine's directory of actors.
#[derive(Default)]
pub struct Registry {
    /// Agent actors.
    pub agents: DashMap<AgentId, ActorRef<AgentMsg>>,
    /// Skill-group actors.
    pub groups: DashMap<GroupId, ActorRef<GroupMsg>>,
    /// Live sessions: awake with an actor, or waiting in a queue with only their state.
    pub sessions: DashMap<SessionId, SessionSlot>,
    /// The supervisor, parent of actors woken outside it (set once at start).
    pub supervisor: std::sync::OnceLock<ractor::ActorCell>,
    /// One timer actor per app.
    pub timers: DashMap<AppId, ActorRef<TimerMsg>>,
    /// Each app's settings, replaced whole on change.
    pub settings: DashMap<AppId, Arc<AppSettings>>,
    /// Apps that exist.
    pub apps: DashMap<AppId, String>,
    /// The app of every live (not deleted) skill group: checked on every session that
    /// names a group, without asking the group's actor.
    pub group_apps: DashMap<GroupId, AppId>,
    /// The app of every agent not deleted.
    pub agent_apps: DashMap<AgentId, AppId>,
    /// The agent who last served a user on a channel.
    pub last_receptionist: DashMap<UserKey, AgentId>,
    /// Supervised actors by ractor id.
    pub children: DashMap<ActorId, Child>,
    /// Engine health counters.
    pub stats: EngineStats,
    /// Live stats per app and skill group, recorded by the actors (`GET /metrics`).
    pub live: crate::stats::LiveStats,
    /// Told of every session's events once durable.
    pub session_news: std::sync::RwLock<Vec<tokio::sync::mpsc::UnboundedSender<SessionNews>>>,
    /// Told of every agent's events once durable.
    pub agent_news: std::sync::RwLock<Vec<tokio::sync::mpsc::UnboundedSender<AgentNews>>>,
    next_id: AtomicU64,
}

impl Registry {
    /// A registry whose next allocated id follows `max_id`.
    pub fn new(max_id: u64) -> Self {
        let r = Self::default();
        r.next_id.store(
            max_id.max(crate::domain::ids::FIRST_ALLOCATED_ID - 1) + 1,
            Ordering::Relaxed,
        );
        r
    }

    /// A fresh id for an agent, group, session or any configured resource.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The actor of an awake session (a waiting one is not woken: for timers, which only
    /// awake sessions have).
    pub fn awake_session(&self, id: SessionId) -> Option<ActorRef<SessionMsg>> {
        self.sessions
            .get(&id)
            .and_then(|slot| slot.awake().cloned())
    }

    /// An app's settings (defaults when the app has none yet).
    pub fn settings(&self, app: AppId) -> Arc<AppSettings> {
        self.settings
            .get(&app)
            .map(|s| Arc::clone(&s))
            .unwrap_or_default()
    }
}
