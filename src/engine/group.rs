//! The skill-group actor: keeps the group's queue in order and routes its head.
//!
//! It sees its members through the views their agent actors broadcast, ranks them with
//! the app's policy (`crate::domain::routing::choose`) and asks the best one for a
//! reservation. It never waits for the answer: while one reservation is in flight it
//! routes the next session to the next agent, counting the pending one against the
//! agent's limit. The agent's answer is final; a refusal is recorded in the decision.

use std::collections::{BTreeMap, HashSet};

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::domain::event::Event;
use crate::domain::group::{self, GroupCommand, GroupState, Queue, QueueRoom};
use crate::domain::ids::{AgentId, SessionId, StreamId};
use crate::domain::routing::{Candidate, Refusal, RefuseReason, RoutingRequest, choose};
use crate::domain::session::SessionCommand;
use crate::engine::agent::{AgentMsg, AgentView, ReserveReply};
use crate::engine::session::SessionMsg;
use crate::engine::{Reply, Shared, reply_now};
use crate::stats::record::QueueStats;

/// A group's state and queue, for dumps and tests.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct GroupDump {
    /// The durable state.
    pub state: GroupState,
    /// Sessions waiting, in order.
    pub queue: Vec<SessionId>,
}

/// One waiting session as the group sees it, for "why is it still waiting".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaitingSession {
    /// The session.
    pub session: SessionId,
    /// Its place: entry time, kept across redirects.
    pub queued_at_ms: i64,
    /// What routing knows of it.
    pub request: RoutingRequest,
    /// The member being asked for a reservation for it.
    pub asked: Option<AgentId>,
    /// Members that refused it so far.
    pub refused: Vec<Refusal>,
}

/// A group's queue and its members' view, as routing sees them now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    /// The reception limit.
    pub limit: u32,
    /// Members, by id.
    pub members: Vec<Candidate>,
    /// Waiting sessions, first to be served first.
    pub sessions: Vec<WaitingSession>,
}

/// Messages of the group actor.
#[derive(Debug)]
pub enum GroupMsg {
    /// An administrative command.
    Command(GroupCommand, Option<Reply<Vec<Event>>>),
    /// A session waits here from `queued_at_ms` (idempotent).
    Enqueue {
        /// The session.
        session: SessionId,
        /// Its place.
        queued_at_ms: i64,
        /// What routing needs.
        request: RoutingRequest,
    },
    /// A session asks to enter the queue: how full it is and its limits (none for a
    /// deleted group). When there is room the session's place is held until its `Enqueue`
    /// (or `Dequeue`, if it did not enter after all), so concurrent askers never overfill it.
    Admit {
        /// The session.
        session: SessionId,
        /// The room it would have.
        reply: RpcReplyPort<Option<QueueRoom>>,
    },
    /// A session left the queue (ended while waiting), or gave up a place it was let in to.
    Dequeue {
        /// The session.
        session: SessionId,
    },
    /// A member's current view.
    AgentView(AgentView),
    /// A member answered a reservation.
    Reserved {
        /// The session.
        session: SessionId,
        /// Yes, or why not.
        result: Result<(), RefuseReason>,
        /// The member's view after answering.
        view: AgentView,
    },
    /// Route whatever can be routed now.
    Dispatch,
    /// Re-link members with their agent actors after a restart: the named agent, or every
    /// member when the id is 0 (the group itself restarted).
    Relink(AgentId),
    /// Sessions ahead of one in the queue (`${WaitNo}`).
    Position(SessionId, RpcReplyPort<Option<usize>>),
    /// The queued sessions, first to be served first.
    Order(RpcReplyPort<Vec<SessionId>>),
    /// The group's state and queue.
    Dump(RpcReplyPort<GroupDump>),
    /// The queue with what routing knows of each session, and the members' view.
    Waiting(RpcReplyPort<Waiting>),
    /// Fault injection: the handler fails as if it had panicked, so the supervisor rebuilds
    /// the actor from its events (for tests and chaos drills; nothing else sends it).
    Fail,
}

/// The group actor.
pub struct GroupActor;

/// Startup arguments.
pub struct GroupArgs {
    /// Engine services.
    pub shared: Shared,
    /// The state, folded from the log.
    pub state: GroupState,
    /// Sessions waiting here, from the replayed sessions.
    pub queue: Queue,
    /// Members' views as replay left them.
    pub views: Vec<AgentView>,
}

/// The actor's state.
pub struct GroupRuntime {
    shared: Shared,
    state: GroupState,
    queue: Queue,
    members: BTreeMap<AgentId, Candidate>,
    /// Sessions let in whose `SessionQueued` is on its way: they count against the cap.
    admitting: HashSet<SessionId>,
    stats: QueueStats,
}

impl GroupRuntime {
    fn see(&mut self, view: AgentView) {
        if let Some(c) = self.members.get_mut(&view.agent) {
            c.online = view.online;
            c.free = view.free;
            c.load = view.load;
            c.idle_since_ms = view.idle_since_ms;
        }
    }

    fn command(
        &mut self,
        myself: &ActorRef<GroupMsg>,
        mut command: GroupCommand,
        reply: Option<Reply<Vec<Event>>>,
    ) {
        if let GroupCommand::Delete { queued } = &mut command {
            *queued = self.queue.len();
        }
        let events = match group::decide(&self.state, &command, &()) {
            Ok(events) => events,
            Err(rejection) => return reply_now(reply, Err(rejection.into())),
        };
        let now = self.shared.clock.now_ms();
        let stream = StreamId::group(self.state.id);
        if let Err(e) =
            self.shared
                .append(self.state.app, stream, &events, now, reply, events.clone())
        {
            tracing::error!(group = %self.state.id, error = %e, "append failed");
            return;
        }
        for event in &events {
            group::apply(&mut self.state, event);
            self.after(myself, event);
        }
        self.dispatch(myself);
    }

    /// How full the queue is for `session`, holding its place when there is room.
    fn admit(&mut self, session: SessionId) -> Option<QueueRoom> {
        if self.state.deleted {
            return None;
        }
        let queued = self.queue.contains(session);
        let held = self.admitting.contains(&session);
        let waiting = self.queue.len() + self.admitting.len() - usize::from(queued || held);
        let limits = self.state.queue_limits.clone();
        if limits.has_room(waiting) {
            if !queued {
                self.admitting.insert(session);
            }
            debug_assert!(self.queue.len() + self.admitting.len() <= limits.max_queued as usize);
        } else {
            self.admitting.remove(&session);
            self.stats.refused_full();
        }
        Some(QueueRoom { waiting, limits })
    }

    /// Keeps members' links in step with membership events.
    fn after(&mut self, myself: &ActorRef<GroupMsg>, event: &Event) {
        let tell = |agent: &AgentId, msg: AgentMsg| {
            if let Some(a) = self.shared.registry.agents.get(agent) {
                let _ = a.cast(msg);
            }
        };
        match event {
            Event::MemberAdded { agent, priority } => {
                self.members.insert(*agent, candidate(*agent, *priority));
                tell(
                    agent,
                    AgentMsg::Join {
                        group: self.state.id,
                        limit: self.state.reception_limit,
                        actor: myself.clone(),
                    },
                );
            }
            Event::MemberPriorityChanged { agent, priority } => {
                if let Some(c) = self.members.get_mut(agent) {
                    c.priority = *priority;
                }
            }
            Event::MemberRemoved { agent } => {
                self.members.remove(agent);
                tell(
                    agent,
                    AgentMsg::Leave {
                        group: self.state.id,
                    },
                );
            }
            Event::GroupReceptionLimitChanged { reception_limit } => {
                for agent in self.members.keys() {
                    tell(
                        agent,
                        AgentMsg::Join {
                            group: self.state.id,
                            limit: *reception_limit,
                            actor: myself.clone(),
                        },
                    );
                }
            }
            Event::GroupDeleted => {
                self.shared.registry.group_apps.remove(&self.state.id);
                let live = &self.shared.registry.live;
                self.stats.close(live, self.state.app, self.state.id);
                for agent in self.members.keys() {
                    tell(
                        agent,
                        AgentMsg::Leave {
                            group: self.state.id,
                        },
                    );
                }
                self.members.clear();
            }
            _ => {}
        }
    }

    /// Routes queued sessions, in order, while some member can take one.
    fn dispatch(&mut self, myself: &ActorRef<GroupMsg>) {
        if self.state.deleted || self.queue.is_empty() {
            return;
        }
        let policy = self.shared.registry.settings(self.state.app).routing;
        let limit = self.state.reception_limit;
        let mut after = None;
        while let Some((key, entry)) = self.queue.next_waiting(after) {
            after = Some(key);
            let session = key.1;
            // A refusal for one session means none can be routed: ranking differs between
            // sessions only in which capable member comes first.
            let request = entry.request;
            let Ok(choice) = choose(policy, limit, request, self.members.values()) else {
                break;
            };
            let Some(agent) = self
                .shared
                .registry
                .agents
                .get(&choice.agent)
                .map(|a| a.clone())
            else {
                if let Some(c) = self.members.get_mut(&choice.agent) {
                    c.online = false;
                }
                continue;
            };
            if let Some(c) = self.members.get_mut(&choice.agent) {
                c.pending += 1;
            }
            if let Some(e) = self.queue.get_mut(session) {
                e.reserving = Some(choice.agent);
                e.decision = Some(choice.decision);
            }
            let _ = agent.cast(AgentMsg::Reserve {
                session,
                limit: Some(limit),
                reply: ReserveReply::Group(myself.clone()),
            });
        }
    }

    fn reserved(
        &mut self,
        myself: &ActorRef<GroupMsg>,
        session: SessionId,
        result: Result<(), RefuseReason>,
        view: AgentView,
    ) {
        if let Some(c) = self.members.get_mut(&view.agent) {
            c.pending = c.pending.saturating_sub(1);
        }
        self.see(view);
        let release = |agent: AgentId| {
            if let Some(a) = self.shared.registry.agents.get(&agent) {
                let _ = a.cast(AgentMsg::Release { session });
            }
        };
        match result {
            Ok(()) => {
                let asked = self.queue.get_mut(session).and_then(|e| e.reserving);
                if asked != Some(view.agent) {
                    // The session left the queue while the agent was being asked, or the ask
                    // was written off when the agent was rebuilt.
                    release(view.agent);
                    return self.dispatch(myself);
                }
                let entry = self
                    .queue
                    .remove(session)
                    .expect("the entry was just found");
                let mut decision = entry.decision.expect("a decision for every reservation");
                decision.refused = entry.refused;
                decision.held = view.load.saturating_sub(1);
                let place = SessionCommand::Place {
                    agent: view.agent,
                    group: self.state.id,
                    decision,
                };
                let placed = self
                    .shared
                    .session_ref(session)
                    .is_some_and(|s| s.cast(SessionMsg::Command(place, None)).is_ok());
                if !placed {
                    // The session ended (its actor drains and refuses new messages).
                    release(view.agent);
                }
            }
            Err(reason) => {
                if let Some(entry) = self.queue.get_mut(session) {
                    entry.reserving = None;
                    entry.decision = None;
                    entry.refused.push(Refusal {
                        agent: view.agent,
                        reason,
                    });
                }
            }
        }
        self.dispatch(myself);
    }
}

fn candidate(agent: AgentId, priority: u8) -> Candidate {
    Candidate {
        agent,
        priority,
        online: false,
        free: false,
        load: 0,
        pending: 0,
        idle_since_ms: 0,
    }
}

impl Actor for GroupActor {
    type Msg = GroupMsg;
    type State = GroupRuntime;
    type Arguments = GroupArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<GroupMsg>,
        args: GroupArgs,
    ) -> Result<GroupRuntime, ActorProcessingErr> {
        let members = args
            .state
            .members
            .iter()
            .map(|(a, p)| (*a, candidate(*a, *p)))
            .collect();
        let (live, state) = (&args.shared.registry.live, &args.state);
        let stats = QueueStats::open(live, state.app, state.id, state.deleted);
        let mut runtime = GroupRuntime {
            shared: args.shared,
            state: args.state,
            queue: args.queue,
            members,
            admitting: HashSet::new(),
            stats,
        };
        for view in args.views {
            runtime.see(view);
        }
        runtime.stats.publish(&runtime.queue);
        Ok(runtime)
    }

    async fn handle(
        &self,
        myself: ActorRef<GroupMsg>,
        message: GroupMsg,
        state: &mut GroupRuntime,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            GroupMsg::Command(command, reply) => state.command(&myself, command, reply),
            GroupMsg::Enqueue {
                session,
                queued_at_ms,
                request,
            } => {
                state.admitting.remove(&session);
                if state.queue.enqueue(session, queued_at_ms, request) {
                    state.dispatch(&myself);
                }
            }
            GroupMsg::Admit { session, reply } => {
                let _ = reply.send(state.admit(session));
            }
            GroupMsg::Dequeue { session } => {
                state.admitting.remove(&session);
                state.queue.remove(session);
            }
            GroupMsg::AgentView(view) => {
                state.see(view);
                state.dispatch(&myself);
            }
            GroupMsg::Reserved {
                session,
                result,
                view,
            } => state.reserved(&myself, session, result, view),
            GroupMsg::Dispatch => state.dispatch(&myself),
            GroupMsg::Relink(agent) => {
                if agent.0 != 0 {
                    // The agent was rebuilt: an ask still unanswered died with the old actor.
                    state.queue.forget_reservations_of(agent);
                    if let Some(c) = state.members.get_mut(&agent) {
                        c.pending = 0;
                    }
                }
                let limit = state.state.reception_limit;
                for member in state
                    .members
                    .keys()
                    .filter(|m| agent.0 == 0 || **m == agent)
                {
                    if let Some(a) = state.shared.registry.agents.get(member) {
                        let _ = a.cast(AgentMsg::Join {
                            group: state.state.id,
                            limit,
                            actor: myself.clone(),
                        });
                    }
                }
            }
            GroupMsg::Position(session, reply) => {
                let _ = reply.send(state.queue.position(session));
            }
            GroupMsg::Order(reply) => {
                let _ = reply.send(state.queue.sessions().collect());
            }
            GroupMsg::Waiting(reply) => {
                let _ = reply.send(Waiting {
                    limit: state.state.reception_limit,
                    members: state.members.values().cloned().collect(),
                    sessions: state
                        .queue
                        .entries()
                        .map(|(session, queued_at_ms, e)| WaitingSession {
                            session,
                            queued_at_ms,
                            request: e.request,
                            asked: e.reserving,
                            refused: e.refused.clone(),
                        })
                        .collect(),
                });
            }
            GroupMsg::Fail => return Err("fault injected".into()),
            GroupMsg::Dump(reply) => {
                let _ = reply.send(GroupDump {
                    state: state.state.clone(),
                    queue: state.queue.sessions().collect(),
                });
            }
        }
        state.stats.publish(&state.queue);
        Ok(())
    }
}
