//! The agent actor: owns one agent's status and capacity, and answers reservations.
//!
//! Groups ask it for capacity (`Reserve`); it says yes only when the agent is free and
//! under the offering group's limit, so an agent in several groups can never be
//! over-committed however many groups ask at once: its mailbox serializes them.

use std::collections::{BTreeMap, HashMap};

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::domain::agent::{self, AgentCommand, AgentState};
use crate::domain::event::AgentStatus;
use crate::domain::event::Event;
use crate::domain::ids::{AgentId, GroupId, SessionId, StreamId};
use crate::domain::routing::RefuseReason;
use crate::engine::group::GroupMsg;
use crate::engine::session::SessionMsg;
use crate::engine::{Reply, Shared, notify_on_durable, reply_now, reply_on_durable};
use crate::stats::record::AgentStats;

/// An agent as its groups see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgentView {
    /// The agent.
    pub agent: AgentId,
    /// Logged in and not deleted.
    pub online: bool,
    /// Status is free.
    pub free: bool,
    /// Sessions in hand.
    pub load: u32,
    /// Since when idle (last status or load change), ms.
    pub idle_since_ms: i64,
}

/// Where the answer to a reservation goes.
#[derive(Debug)]
pub enum ReserveReply {
    /// To the group that asked.
    Group(ActorRef<GroupMsg>),
    /// To a caller transferring a session to this agent by name.
    /// Answered with the sessions the agent held before taking this one.
    Direct(RpcReplyPort<Result<u32, RefuseReason>>),
}

/// Messages of the agent actor.
#[derive(Debug)]
pub enum AgentMsg {
    /// Login, logout, status and admin commands.
    Command(AgentCommand, Option<Reply<Vec<Event>>>),
    /// Hold capacity for a session. `limit` is the asking group's reception limit; none
    /// means the highest limit among the agent's groups (a transfer by name).
    Reserve {
        /// The session.
        session: SessionId,
        /// The limit to respect.
        limit: Option<u32>,
        /// Where the answer goes.
        reply: ReserveReply,
    },
    /// A session this agent held was placed elsewhere, missed, transferred or ended.
    Release {
        /// The session.
        session: SessionId,
    },
    /// A live session says it is held by this agent: its placement confirms a reservation,
    /// and after a restart it rebuilds the agent's count.
    Hold {
        /// The session.
        session: SessionId,
    },
    /// The agent starts `session` with a user itself (proactive contact): granted when it
    /// is online, whatever its status and load. Answered with the sessions held before.
    StartContact {
        /// The session.
        session: SessionId,
        /// The answer.
        reply: RpcReplyPort<Result<u32, RefuseReason>>,
    },
    /// The agent is a member of a group (again): report to it.
    Join {
        /// The group.
        group: GroupId,
        /// Its reception limit.
        limit: u32,
        /// Its actor.
        actor: ActorRef<GroupMsg>,
    },
    /// The agent left a group.
    Leave {
        /// The group.
        group: GroupId,
    },
    /// The agent's state, for dumps and tests.
    Dump(RpcReplyPort<AgentState>),
    /// Fault injection: the handler fails as if it had panicked, so the supervisor rebuilds
    /// the actor from its events (for tests and chaos drills; nothing else sends it).
    Fail,
}

/// The agent actor.
pub struct AgentActor;

/// Startup arguments.
pub struct AgentArgs {
    /// Engine services.
    pub shared: Shared,
    /// The state, folded from the log.
    pub state: AgentState,
    /// The groups the agent belongs to, with their limits and actors.
    pub groups: BTreeMap<GroupId, (u32, ActorRef<GroupMsg>)>,
}

/// The actor's state: the domain state plus its group links.
pub struct AgentRuntime {
    shared: Shared,
    state: AgentState,
    groups: BTreeMap<GroupId, (u32, ActorRef<GroupMsg>)>,
    idle_since_ms: i64,
    /// Reservations granted to a group and not yet confirmed by the session's placement:
    /// if that group fails with the answer still in its mailbox, nobody will place them.
    unconfirmed: HashMap<SessionId, GroupId>,
    /// The agent's place in the live status counts.
    stats: AgentStats,
}

impl AgentRuntime {
    fn view(&self) -> AgentView {
        AgentView {
            agent: self.state.id,
            online: self.state.online() && !self.state.deleted,
            free: self.state.status == AgentStatus::Free,
            load: self.state.load(),
            idle_since_ms: self.idle_since_ms,
        }
    }

    fn broadcast(&self, except: Option<GroupId>) {
        let view = self.view();
        for (group, (_, actor)) in &self.groups {
            if Some(*group) != except {
                let _ = actor.cast(GroupMsg::AgentView(view));
            }
        }
    }

    fn max_limit(&self) -> u32 {
        self.groups
            .values()
            .map(|(limit, _)| *limit)
            .max()
            .unwrap_or(0)
    }

    fn command(&mut self, command: AgentCommand, reply: Option<Reply<Vec<Event>>>) {
        let settings = self.shared.registry.settings(self.state.app);
        let events = match agent::decide(&self.state, &command, &settings) {
            Ok(events) => events,
            Err(rejection) => return reply_now(reply, Err(rejection.into())),
        };
        if events.is_empty() {
            return reply_now(reply, Ok(Vec::new()));
        }
        let now = self.shared.clock.now_ms();
        let stream = StreamId::agent(self.state.id);
        let on_durable = reply.map(|port| reply_on_durable(port, events.clone()));
        let (app, agent) = (self.state.app, self.state.id);
        let on_durable = notify_on_durable(&self.shared.registry.agent_news, on_durable, || {
            crate::engine::registry::AgentNews {
                app,
                agent,
                events: events.clone(),
            }
        });
        if let Err(e) = self
            .shared
            .append_then(self.state.app, stream, &events, now, on_durable)
        {
            tracing::error!(agent = %self.state.id, error = %e, "append failed");
            return;
        }
        let was_online = self.state.online();
        for event in &events {
            agent::apply(&mut self.state, event);
        }
        self.stats.update(&self.state);
        self.idle_since_ms = now;
        if self.state.deleted {
            self.shared.registry.agent_apps.remove(&self.state.id);
        }
        if was_online && !self.state.online() {
            // Offers not yet accepted go back to their queues at once; sessions in service stay.
            for session in &self.state.sessions {
                if let Some(actor) = self.shared.session_ref(*session) {
                    let _ = actor.cast(SessionMsg::Command(
                        crate::domain::session::SessionCommand::AgentUnavailable {
                            agent: self.state.id,
                        },
                        None,
                    ));
                }
            }
        }
        self.broadcast(None);
    }

    fn reserve(&mut self, session: SessionId, limit: Option<u32>, reply: ReserveReply) {
        let limit = limit.unwrap_or_else(|| self.max_limit());
        // A session already held is refused, not granted again: the asker would release it
        // on failure and take away the real hold.
        let verdict = if self.state.sessions.contains(&session) {
            Err(RefuseReason::AlreadyHolds)
        } else {
            self.state.can_reserve(limit)
        };
        if verdict.is_ok() && self.state.sessions.insert(session) {
            self.idle_since_ms = self.shared.clock.now_ms();
            debug_assert!(self.state.load() <= limit, "reservation over the limit");
        }
        let asked_by = match &reply {
            ReserveReply::Group(actor) => self
                .groups
                .iter()
                .find(|(_, (_, a))| a.get_id() == actor.get_id())
                .map(|(g, _)| *g),
            ReserveReply::Direct(_) => None,
        };
        let delivered = match reply {
            ReserveReply::Group(actor) => actor
                .cast(GroupMsg::Reserved {
                    session,
                    result: verdict.clone(),
                    view: self.view(),
                })
                .is_ok(),
            ReserveReply::Direct(port) => port
                .send(
                    verdict
                        .clone()
                        .map(|()| self.state.load().saturating_sub(1)),
                )
                .is_ok(),
        };
        if verdict.is_ok() && !delivered {
            // Nobody will place the session: give the capacity back.
            self.state.sessions.remove(&session);
        } else if verdict.is_ok()
            && let Some(group) = asked_by
        {
            self.unconfirmed.insert(session, group);
        }
        if verdict.is_ok() {
            self.broadcast(asked_by);
        }
    }
}

impl Actor for AgentActor {
    type Msg = AgentMsg;
    type State = AgentRuntime;
    type Arguments = AgentArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<AgentMsg>,
        args: AgentArgs,
    ) -> Result<AgentRuntime, ActorProcessingErr> {
        let live = &args.shared.registry.live;
        let stats = AgentStats::new(live, &args.state, args.groups.keys().copied());
        Ok(AgentRuntime {
            shared: args.shared,
            state: args.state,
            groups: args.groups,
            idle_since_ms: 0,
            unconfirmed: HashMap::new(),
            stats,
        })
    }

    async fn post_start(
        &self,
        _myself: ActorRef<AgentMsg>,
        state: &mut AgentRuntime,
    ) -> Result<(), ActorProcessingErr> {
        state.broadcast(None);
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<AgentMsg>,
        message: AgentMsg,
        state: &mut AgentRuntime,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            AgentMsg::Command(command, reply) => state.command(command, reply),
            AgentMsg::Reserve {
                session,
                limit,
                reply,
            } => state.reserve(session, limit, reply),
            AgentMsg::Release { session } => {
                state.unconfirmed.remove(&session);
                if state.state.sessions.remove(&session) {
                    state.idle_since_ms = state.shared.clock.now_ms();
                    state.broadcast(None);
                }
            }
            AgentMsg::StartContact { session, reply } => {
                let verdict = state.state.can_start_contact();
                let held = state.state.load();
                if verdict.is_ok() && state.state.sessions.insert(session) {
                    state.idle_since_ms = state.shared.clock.now_ms();
                    state.broadcast(None);
                }
                if reply.send(verdict.map(|()| held)).is_err() {
                    // Nobody will start the session: give the capacity back.
                    state.state.sessions.remove(&session);
                }
            }
            AgentMsg::Hold { session } => {
                state.unconfirmed.remove(&session);
                if state.state.sessions.insert(session) {
                    state.broadcast(None);
                }
            }
            AgentMsg::Join {
                group,
                limit,
                actor,
            } => {
                let rebuilt = state
                    .groups
                    .get(&group)
                    .is_some_and(|(_, old)| old.get_id() != actor.get_id());
                if rebuilt {
                    // What the failed group reserved and no session confirmed is lost with it.
                    let lost: Vec<SessionId> = state
                        .unconfirmed
                        .iter()
                        .filter(|(_, g)| **g == group)
                        .map(|(s, _)| *s)
                        .collect();
                    for session in lost {
                        state.unconfirmed.remove(&session);
                        state.state.sessions.remove(&session);
                    }
                }
                let _ = actor.cast(GroupMsg::AgentView(state.view()));
                state.groups.insert(group, (limit, actor));
                let live = &state.shared.registry.live;
                state.stats.join(live, state.state.app, group);
                if rebuilt {
                    state.broadcast(None);
                }
            }
            AgentMsg::Leave { group } => {
                state.groups.remove(&group);
                state.stats.leave(group);
            }
            AgentMsg::Fail => return Err("fault injected".into()),
            AgentMsg::Dump(reply) => {
                let _ = reply.send(state.state.clone());
            }
        }
        Ok(())
    }
}
