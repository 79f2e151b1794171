//! The whole desk as a fold of the log: every app, agent, group and live session.
//!
//! The engine builds it once at start (replay) and hands each actor its slice; the CLI
//! builds it to show the state at a past instant (`helpline replay --until`); tests build
//! it to check the routing invariants after any history.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use serde::Serialize;

use crate::domain::agent::{self, AgentState};
use crate::domain::conversation::Conversations;
use crate::domain::directory::Directory;
use crate::domain::event::{Envelope, Event};
use crate::domain::group::{self, GroupState};
use crate::domain::ids::{AgentId, AppId, ConversationId, GroupId, SessionId, StreamKind, UserKey};
use crate::domain::session::{self, Phase, SessionState};
use crate::domain::settings::AppSettings;

/// An app (tenant) and its settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppState {
    /// The app.
    pub id: AppId,
    /// Display name.
    pub name: String,
    /// Routing and reception settings.
    pub settings: AppSettings,
}

/// Everything the log says, folded.
#[derive(Clone, Debug, Default, Serialize)]
pub struct World {
    /// Apps.
    pub apps: BTreeMap<AppId, AppState>,
    /// Agents, with the sessions they hold (serialized in id order).
    #[serde(serialize_with = "sorted")]
    pub agents: FxHashMap<AgentId, AgentState>,
    /// Skill groups (serialized in id order).
    #[serde(serialize_with = "sorted")]
    pub groups: FxHashMap<GroupId, GroupState>,
    /// Sessions not yet ended (serialized in id order).
    #[serde(serialize_with = "sorted")]
    pub sessions: FxHashMap<SessionId, SessionState>,
    /// The agent who last served a user on a channel.
    #[serde(skip)]
    pub last_receptionist: FxHashMap<UserKey, AgentId>,
    /// The last sequence number folded in.
    pub last_seq: u64,
    /// The time of the last event folded in.
    pub last_at_ms: i64,
    /// Sessions that have ended.
    pub ended_sessions: u64,
    /// The highest agent, group or session id seen.
    pub max_id: u64,
    /// Placements that took an agent over the limit in force when it took the session.
    #[serde(skip)]
    pub over_limit: Vec<String>,
    /// What administrators configured: accounts, roles, channels... (the API's read model).
    #[serde(skip)]
    pub directory: Directory,
    /// Every conversation between a user and a channel, with its messages.
    #[serde(skip)]
    pub conversations: Conversations,
}

/// Serializes a hash map in key order, so dumps read the same on every run.
fn sorted<S: serde::Serializer, K: Ord + Serialize, V: Serialize>(
    map: &FxHashMap<K, V>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let ordered: BTreeMap<&K, &V> = map.iter().collect();
    ordered.serialize(serializer)
}

impl World {
    /// Folds a whole history.
    pub fn from_history<'a>(envelopes: impl IntoIterator<Item = &'a Envelope>) -> Self {
        let mut world = Self::default();
        for e in envelopes {
            world.apply(e);
        }
        world
    }

    /// Folds one envelope in.
    pub fn apply(&mut self, env: &Envelope) {
        debug_assert!(env.seq > self.last_seq, "envelopes fold in sequence order");
        self.last_seq = env.seq;
        self.last_at_ms = env.at_ms;
        let id = env.stream.id;
        if !matches!(
            env.stream.kind,
            StreamKind::Session | StreamKind::Conversation
        ) {
            self.directory.apply(env.app, env.stream, &env.event);
            self.max_id = self.max_id.max(self.directory.max_id);
        }
        match env.stream.kind {
            StreamKind::App => {
                let app = AppId(id as u32);
                let state = self.apps.entry(app).or_insert_with(|| AppState {
                    id: app,
                    name: String::new(),
                    settings: AppSettings::default(),
                });
                match &env.event {
                    Event::AppCreated { name } => state.name.clone_from(name),
                    Event::SettingsChanged { settings } => state.settings = settings.clone(),
                    _ => {}
                }
            }
            StreamKind::Agent => {
                self.max_id = self.max_id.max(id);
                let state = self
                    .agents
                    .entry(AgentId(id))
                    .or_insert_with(|| AgentState::new(AgentId(id), env.app));
                agent::apply(state, &env.event);
            }
            StreamKind::Group => {
                self.max_id = self.max_id.max(id);
                let state = self
                    .groups
                    .entry(GroupId(id))
                    .or_insert_with(|| GroupState::new(GroupId(id), env.app));
                group::apply(state, &env.event);
            }
            StreamKind::Session => {
                self.max_id = self.max_id.max(id);
                self.apply_session(env, SessionId(id));
            }
            StreamKind::Conversation => {
                self.max_id = self.max_id.max(id);
                self.conversations
                    .apply(env.app, ConversationId(id), &env.event);
            }
        }
    }

    /// Folds a session event, keeping agents' held sessions and the capacity check in step.
    fn apply_session(&mut self, env: &Envelope, sid: SessionId) {
        if let Event::SessionOffered {
            agent,
            group,
            decision,
            ..
        }
        | Event::SessionAssigned {
            agent,
            group,
            decision,
        } = &env.event
        {
            self.check_capacity(env.seq, sid, *agent, *group, decision.held);
        }
        let state = self
            .sessions
            .entry(sid)
            .or_insert_with(|| SessionState::new(sid, env.app));
        let before = state.holder();
        session::apply(state, &env.event);
        let after = state.holder();
        if matches!(
            env.event,
            Event::SessionAssigned { .. }
                | Event::SessionAccepted { .. }
                | Event::SessionStartedByAgent { .. }
        ) && let Some(agent) = after
        {
            self.last_receptionist
                .insert(UserKey::of(state.channel, &state.user), agent);
        }
        let ended = state.ended();
        // The conversation's service (seat, live session) follows its session's events.
        if let Some(c) = self
            .conversations
            .find(state.app, state.channel, &state.user)
            .and_then(|c| self.conversations.get_mut(c))
        {
            c.service
                .on_session_events(sid, std::slice::from_ref(&env.event), None);
        }
        if before != after {
            if let Some(a) = before.and_then(|a| self.agents.get_mut(&a)) {
                a.sessions.remove(&sid);
            }
            if let Some(a) = after.and_then(|a| self.agents.get_mut(&a)) {
                a.sessions.insert(sid);
            }
        }
        if ended {
            self.sessions.remove(&sid);
            self.ended_sessions += 1;
        }
    }

    /// Records a placement that broke the limit. Exact per group: the agent's own count when
    /// it accepted (`decision.held`) must be under the limit of the group that asked (the
    /// highest limit of its groups, for a transfer by name). And, whatever order placements of
    /// different sessions reached the log in, the sessions the log says it holds after this
    /// one never exceed its highest limit (a placement is logged after the agent reserved,
    /// a release before the agent frees the capacity, so the log never over-counts).
    fn check_capacity(
        &mut self,
        seq: u64,
        sid: SessionId,
        agent: AgentId,
        group: Option<GroupId>,
        held: u32,
    ) {
        let limit = match group {
            Some(g) => self.groups.get(&g).map_or(0, |g| g.reception_limit),
            None => self.limit_of(agent),
        };
        if held >= limit {
            self.over_limit.push(format!(
                "seq {seq}: {sid} placed with {agent} who held {held} sessions, limit {limit}"
            ));
        }
        let logged = self.agents.get(&agent).map_or(0, |a| a.load());
        // The highest limit walks every group: only when the cheap bound is passed.
        if logged >= limit && logged >= self.limit_of(agent).max(limit) {
            let highest = self.limit_of(agent).max(limit);
            self.over_limit.push(format!(
                "seq {seq}: {sid} placed with {agent} whose logged sessions reach {logged}, highest limit {highest}"
            ));
        }
    }

    /// The settings of an app (defaults for an app not seen).
    pub fn settings(&self, app: AppId) -> AppSettings {
        self.apps
            .get(&app)
            .map(|a| a.settings.clone())
            .unwrap_or_default()
    }

    /// The sessions waiting in a group, in queue order.
    pub fn queue(&self, group: GroupId) -> Vec<SessionId> {
        let mut queued: Vec<(i64, SessionId)> = self
            .sessions
            .values()
            .filter_map(|s| match s.phase {
                Phase::Queued {
                    group: g,
                    queued_at_ms,
                    ..
                } if g == group => Some((queued_at_ms, s.id)),
                _ => None,
            })
            .collect();
        queued.sort_unstable();
        queued.into_iter().map(|(_, s)| s).collect()
    }

    /// The groups an agent belongs to.
    pub fn groups_of(&self, agent: AgentId) -> impl Iterator<Item = &GroupState> {
        self.groups
            .values()
            .filter(move |g| !g.deleted && g.members.contains_key(&agent))
    }

    /// The highest reception limit among an agent's groups (0 when in none).
    pub fn limit_of(&self, agent: AgentId) -> u32 {
        self.groups_of(agent)
            .map(|g| g.reception_limit)
            .max()
            .unwrap_or(0)
    }

    /// Checks the invariants that hold after any history: every session is held by at most
    /// one agent and each agent's sessions are exactly those that name it; no placement took
    /// an agent to or over the limit in force at that moment (an administrator may lower a
    /// limit or remove a member later: sessions in hand stay); every queued session's group
    /// exists.
    pub fn check_invariants(&self) -> Result<(), String> {
        if let Some(first) = self.over_limit.first() {
            return Err(first.clone());
        }
        let mut held: BTreeMap<AgentId, Vec<SessionId>> = BTreeMap::new();
        for s in self.sessions.values() {
            if let Some(a) = s.holder() {
                held.entry(a).or_default().push(s.id);
            }
            if let Phase::Queued { group, .. } = s.phase
                && !self.groups.contains_key(&group)
            {
                return Err(format!("{} is queued in unknown {group}", s.id));
            }
        }
        for (id, a) in &self.agents {
            let mut expected: Vec<SessionId> = held.remove(id).unwrap_or_default();
            expected.sort_unstable();
            let actual: Vec<SessionId> = a.sessions.iter().copied().collect();
            if expected != actual {
                return Err(format!(
                    "{id} holds {actual:?} but sessions name it for {expected:?}"
                ));
            }
        }
        if let Some((agent, sessions)) = held.into_iter().next() {
            return Err(format!("unknown {agent} holds {sessions:?}"));
        }
        Ok(())
    }

    /// Groups that have sessions waiting while a member could take one: must be empty once
    /// the engine is quiet ("a free agent with capacity never idles beside a queue").
    pub fn idle_capacity_beside_queue(&self) -> Vec<(GroupId, AgentId)> {
        let mut idle = Vec::new();
        for g in self.groups.values().filter(|g| !g.deleted) {
            if self.queue(g.id).is_empty() {
                continue;
            }
            for agent in g.members.keys() {
                if let Some(a) = self.agents.get(agent)
                    && a.can_reserve(g.reception_limit).is_ok()
                {
                    idle.push((g.id, *agent));
                }
            }
        }
        idle
    }
}
