//! The session actor: decides each session command, appends its events, and carries out
//! the actions they call for (enqueue, release an agent, arm a timer).

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::domain::agent::AgentCommand;
use crate::domain::event::Event;
use crate::domain::group::QueueRoom;
use crate::domain::ids::{GroupId, StreamId, UserKey};
use crate::domain::session::{
    self, Phase, SessionAction, SessionCommand, SessionCtx, SessionState,
};
use crate::engine::agent::AgentMsg;
use crate::engine::group::GroupMsg;
use crate::engine::timers::{TimerKind, TimerMsg};
use crate::engine::{Reply, Shared, reply_now, reply_on_durable, with_news};
use crate::stats::record::SessionStats;

/// Messages of the session actor.
#[derive(Debug)]
pub enum SessionMsg {
    /// Open the session: its first events (created, and queued when a group is named).
    Open {
        /// `SessionCreated`, already validated.
        created: Event,
        /// The group to queue in at once, if any.
        group: Option<GroupId>,
        /// Answered once durable.
        reply: Option<Reply<()>>,
    },
    /// Open the session with its first events already decided (a session an agent starts).
    OpenWith {
        /// The events, validated.
        events: Vec<Event>,
        /// Answered once durable.
        reply: Option<Reply<()>>,
    },
    /// A command from the API, a group, an agent or a timer.
    Command(SessionCommand, Option<Reply<()>>),
    /// A command whose caller hears back once its events are in the log's order, before
    /// they are durable (see [`Engine::session_ordered`](crate::engine::Engine::session_ordered)).
    Ordered(SessionCommand, Reply<()>),
    /// Re-send what other actors must know of this session (after one of them restarted).
    Reannounce,
    /// The session's state.
    Dump(RpcReplyPort<SessionState>),
    /// Fault injection: the handler fails as if it had panicked, so the supervisor rebuilds
    /// the actor from its events (for tests and chaos drills; nothing else sends it).
    Fail,
}

/// The session actor.
pub struct SessionActor;

/// Startup arguments.
pub struct SessionArgs {
    /// Engine services.
    pub shared: Shared,
    /// The state, folded from the log (or new).
    pub state: SessionState,
}

/// The actor's state.
pub struct SessionRuntime {
    shared: Shared,
    state: SessionState,
    stats: SessionStats,
}

impl SessionRuntime {
    /// Appends, applies and acts on `events`; false when the log refused them.
    fn record(
        &mut self,
        myself: &ActorRef<SessionMsg>,
        events: Vec<Event>,
        reply: Option<Reply<()>>,
    ) -> bool {
        if events.is_empty() {
            reply_now(reply, Ok(()));
            return true;
        }
        let now = self.shared.clock.now_ms();
        let stream = StreamId::session(self.state.id);
        let on_durable = reply.map(|port| reply_on_durable(port, ()));
        let on_durable = with_news(
            &self.shared,
            self.state.app,
            self.state.id,
            &events,
            on_durable,
        );
        if let Err(e) = self
            .shared
            .append_then(self.state.app, stream, &events, now, on_durable)
        {
            tracing::error!(session = %self.state.id, error = %e, "append failed");
            return false;
        }
        let mut actions = Vec::new();
        for event in &events {
            actions.extend(session::actions(&self.state, event));
            let live = &self.shared.registry.live;
            self.stats.record(live, &self.state, event, now);
            session::apply(&mut self.state, event);
        }
        for action in actions {
            self.act(action);
        }
        if self.state.ended() {
            self.shared.registry.sessions.remove(&self.state.id);
            // Drained, not stopped: a `Place` or transfer already in the mailbox carries a
            // reservation, and is refused (so released) rather than dropped with the actor;
            // what is sent after this is refused at the send, and its sender releases it.
            let _ = myself.drain();
        }
        true
    }

    fn act(&self, action: SessionAction) {
        let registry = &self.shared.registry;
        let id = self.state.id;
        match action {
            SessionAction::Enqueue {
                group,
                queued_at_ms,
                request,
            } => {
                if let Some(g) = registry.groups.get(&group) {
                    let _ = g.cast(GroupMsg::Enqueue {
                        session: id,
                        queued_at_ms,
                        request,
                    });
                }
            }
            SessionAction::Dequeue { group } => {
                if let Some(g) = registry.groups.get(&group) {
                    let _ = g.cast(GroupMsg::Dequeue { session: id });
                }
            }
            SessionAction::Release { agent } => {
                if let Some(a) = registry.agents.get(&agent) {
                    let _ = a.cast(AgentMsg::Release { session: id });
                }
            }
            SessionAction::Confirm { agent } => {
                if let Some(a) = registry.agents.get(&agent) {
                    let _ = a.cast(AgentMsg::Hold { session: id });
                }
            }
            SessionAction::Missed { agent } => {
                if let Some(a) = registry.agents.get(&agent) {
                    let _ = a.cast(AgentMsg::Command(AgentCommand::MissedOffer, None));
                }
            }
            SessionAction::ArmOfferTimer {
                generation,
                deadline_ms,
            } => {
                self.arm(
                    TimerKind::Offer,
                    deadline_ms,
                    SessionCommand::OfferExpired { generation },
                );
            }
            SessionAction::ArmReplyTimer { deadline_ms } => {
                self.arm(
                    TimerKind::Reply,
                    deadline_ms,
                    SessionCommand::ReplyExpired { deadline_ms },
                );
            }
            SessionAction::ArmReplyReminder { deadline_ms } => {
                self.arm(
                    TimerKind::ReplyReminder,
                    deadline_ms - crate::domain::session::REPLY_REMINDER_LEAD_MS,
                    SessionCommand::ReplyReminderDue { deadline_ms },
                );
            }
            SessionAction::ArmQueueTimer { deadline_ms } => {
                self.arm(
                    TimerKind::QueueWait,
                    deadline_ms,
                    SessionCommand::QueueWaitExpired { deadline_ms },
                );
            }
            SessionAction::DisarmQueueTimer => {
                if let Some(t) = self.shared.registry.timers.get(&self.state.app) {
                    let _ = t.cast(TimerMsg::Disarm {
                        session: self.state.id,
                        kind: TimerKind::QueueWait,
                    });
                }
            }
            SessionAction::Served { agent } => {
                registry
                    .last_receptionist
                    .insert(UserKey::of(self.state.channel, &self.state.user), agent);
            }
        }
    }

    fn arm(&self, kind: TimerKind, deadline_ms: i64, command: SessionCommand) {
        if let Some(t) = self.shared.registry.timers.get(&self.state.app) {
            let _ = t.cast(TimerMsg::Arm {
                session: self.state.id,
                kind,
                deadline_ms,
                command,
            });
        }
    }

    /// The queue `command` would enter, as its group sees it (the group holds the place
    /// until the session's `Enqueue`, or `Dequeue` from [`Self::give_up_place`]).
    async fn room_for(&self, command: &SessionCommand) -> Option<(GroupId, QueueRoom)> {
        let (SessionCommand::RequestHuman { group }
        | SessionCommand::TransferToGroup { group, .. }) = command
        else {
            return None;
        };
        let actor = self.shared.registry.groups.get(group).map(|g| g.clone())?;
        let session = self.state.id;
        let (tx, rx) = ractor::concurrency::oneshot();
        actor
            .cast(GroupMsg::Admit {
                session,
                reply: tx.into(),
            })
            .ok()?;
        // A group that cannot answer (stopping) lets the session in unlimited, as before.
        let room = rx.await.ok()??;
        Some((*group, room))
    }

    /// Gives back a place a group held for this session when it did not enter after all
    /// (refused, or the command failed).
    fn give_up_place(&self, room: Option<&(GroupId, QueueRoom)>) {
        let Some((group, _)) = room else {
            return;
        };
        if matches!(self.state.phase, Phase::Queued { group: g, .. } if g == *group) {
            return;
        }
        self.act(SessionAction::Dequeue { group: *group });
    }

    fn command(
        &mut self,
        myself: &ActorRef<SessionMsg>,
        command: SessionCommand,
        reply: Option<Reply<()>>,
        room: Option<(GroupId, QueueRoom)>,
    ) {
        let mut ctx = self.ctx();
        ctx.room = room.as_ref().map(|(_, r)| r.clone());
        let decided = session::decide(&self.state, &command, &ctx);
        if decided.is_err() {
            self.give_up_place(room.as_ref());
        }
        match decided {
            Ok(events) => {
                self.record(myself, events, reply);
                self.give_up_place(room.as_ref());
            }
            Err(rejection) => {
                // A reservation made for this session must not leak when placing it fails.
                let reserved = match command {
                    SessionCommand::Place { agent, .. } => Some(agent),
                    SessionCommand::TransferToAgent { to, .. } => Some(to),
                    _ => None,
                };
                if let Some(agent) = reserved {
                    self.act(SessionAction::Release { agent });
                }
                reply_now(reply, Err(rejection.into()));
            }
        }
    }

    /// What decisions depend on besides the state: the app's settings and now.
    fn ctx(&self) -> SessionCtx {
        SessionCtx {
            settings: self.shared.registry.settings(self.state.app),
            now_ms: self.shared.clock.now_ms(),
            room: None,
        }
    }

    fn ordered(
        &mut self,
        myself: &ActorRef<SessionMsg>,
        command: SessionCommand,
        reply: Reply<()>,
    ) {
        match session::decide(&self.state, &command, &self.ctx()) {
            Ok(events) => {
                let appended = self.record(myself, events, None);
                let answer = if appended {
                    Ok(())
                } else {
                    Err(crate::engine::EngineError::Unavailable(
                        "the log refused the session's events".into(),
                    ))
                };
                reply_now(Some(reply), answer);
            }
            // Only commands that reserve nothing come this way.
            Err(rejection) => reply_now(Some(reply), Err(rejection.into())),
        }
    }

    /// Tells groups, agents and timers what they must know of this session.
    fn reannounce(&self) {
        match self.state.phase {
            Phase::Queued {
                group,
                queued_at_ms,
                excluded,
            } => self.act(SessionAction::Enqueue {
                group,
                queued_at_ms,
                request: crate::domain::routing::RoutingRequest {
                    last_agent: self.state.last_agent,
                    excluded,
                },
            }),
            Phase::Offered { agent, .. } | Phase::InService { agent, .. } => {
                if let Some(a) = self.shared.registry.agents.get(&agent) {
                    let _ = a.cast(AgentMsg::Hold {
                        session: self.state.id,
                    });
                }
            }
            _ => {}
        }
        for timer in self.state.pending_timers() {
            self.act(timer);
        }
    }
}

impl Actor for SessionActor {
    type Msg = SessionMsg;
    type State = SessionRuntime;
    type Arguments = SessionArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<SessionMsg>,
        args: SessionArgs,
    ) -> Result<SessionRuntime, ActorProcessingErr> {
        let stats = SessionStats::new(&args.shared.registry.live, &args.state);
        Ok(SessionRuntime {
            shared: args.shared,
            state: args.state,
            stats,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<SessionMsg>,
        message: SessionMsg,
        state: &mut SessionRuntime,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            SessionMsg::Open {
                created,
                group,
                reply,
            } => {
                let mut events = vec![created];
                let mut room = None;
                if let Some(group) = group {
                    // Decided as the flow's ask would be: the group's cap and wait limit hold.
                    let ask = SessionCommand::RequestHuman { group };
                    room = state.room_for(&ask).await;
                    let mut opened = state.state.clone();
                    session::apply(&mut opened, &events[0]);
                    let mut ctx = state.ctx();
                    ctx.room = room.as_ref().map(|(_, r)| r.clone());
                    match session::decide(&opened, &ask, &ctx) {
                        Ok(queued) => events.extend(queued),
                        Err(rejection) => {
                            state.give_up_place(room.as_ref());
                            reply_now(reply, Err(rejection.into()));
                            return Ok(());
                        }
                    }
                }
                state.record(&myself, events, reply);
                state.give_up_place(room.as_ref());
            }
            SessionMsg::OpenWith { events, reply } => {
                state.record(&myself, events, reply);
            }
            SessionMsg::Command(command, reply) => {
                let room = state.room_for(&command).await;
                state.command(&myself, command, reply, room);
            }
            SessionMsg::Ordered(command, reply) => state.ordered(&myself, command, reply),
            SessionMsg::Reannounce => state.reannounce(),
            SessionMsg::Fail => return Err("fault injected".into()),
            SessionMsg::Dump(reply) => {
                let _ = reply.send(state.state.clone());
            }
        }
        Ok(())
    }
}
