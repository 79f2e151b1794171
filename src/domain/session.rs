//! A session: one user's conversation with the desk, from its first message to its end.
//!
//! The session's stream is the single durable truth about routing: which queue it waits
//! in and since when, which agent it is offered to or served by, and why. Queues and agent
//! loads are views of it. [`actions`] says what the shell must do after each event
//! (enqueue, release an agent, arm a timer); the actor carries them out.

use serde::Serialize;

use crate::domain::Rejection;
use crate::domain::event::{CloseBy, Event, MissCause, QueueCause, TransferTarget};
use crate::domain::group::QueueRoom;
use crate::domain::ids::{AgentId, AppId, ChannelId, GroupId, SessionId};
use crate::domain::routing::{RoutingDecision, RoutingRequest};
use crate::domain::settings::AppSettings;

/// Longest user id, in bytes (the seed's IM user ids are at most 32; leave room).
pub const MAX_USER_ID_BYTES: usize = 128;
/// Longest text message, in bytes.
pub const MAX_TEXT_BYTES: usize = 12 * 1024;
/// How long before the user-reply timeout ends a session the user is reminded (src 38).
/// The shortest timeout is 60 s, so the reminder always comes after half of it at least.
pub const REPLY_REMINDER_LEAD_MS: i64 = 30_000;

/// Where a session stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "phase", rename_all = "camelCase")]
pub enum Phase {
    /// Created; the service flow runs, no human asked for yet (or between two steps).
    Open,
    /// Waiting in a group's queue.
    Queued {
        /// The group.
        group: GroupId,
        /// Its place: entry time, kept across redirects.
        queued_at_ms: i64,
        /// An agent who just missed it, tried last.
        excluded: Option<AgentId>,
    },
    /// Offered to an agent who has not accepted yet.
    Offered {
        /// The agent.
        agent: AgentId,
        /// The routing group (none after a transfer to a named agent).
        group: Option<GroupId>,
        /// The offer's generation.
        generation: u32,
        /// End of the countdown.
        deadline_ms: i64,
        /// The countdown ran out and the offer was kept (redirect off).
        overdue: bool,
    },
    /// Served by an agent.
    InService {
        /// The agent.
        agent: AgentId,
        /// The routing group (none after a transfer to a named agent).
        group: Option<GroupId>,
    },
    /// Over.
    Ended {
        /// Who ended it.
        close_by: CloseBy,
    },
}

/// The state of one session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionState {
    /// The session.
    pub id: SessionId,
    /// Its app.
    pub app: AppId,
    /// The channel the user wrote to.
    pub channel: ChannelId,
    /// The user.
    pub user: String,
    /// The user's last receptionist when the session began.
    pub last_agent: Option<AgentId>,
    /// Where it stands.
    pub phase: Phase,
    /// Offers made so far.
    pub generation: u32,
    /// The queue it was last routed from and its place there: where a missed offer returns.
    pub route: Option<(GroupId, i64)>,
    /// Agents who served it, in order.
    pub agents: Vec<AgentId>,
    /// When the session ends unless the user answers the agent.
    pub reply_deadline_ms: Option<i64>,
    /// The deadline the user was last reminded of (src 38).
    pub reminded_ms: Option<i64>,
    /// Started by an agent and the user has not written yet: the agent's messages keep the
    /// proactive deadline instead of arming the user-reply timeout.
    pub unanswered: bool,
    /// The user-reply timeout its flow set (0: off), in place of the app's.
    pub reply_timeout_secs: Option<u32>,
    /// When the queue wait limit ends the session while it waits, and what the user is told
    /// then (set on entering a queue, kept across redirects).
    pub queue_deadline: Option<(i64, String)>,
}

/// What decisions about a session depend on besides its state.
#[derive(Clone, Debug, Default)]
pub struct SessionCtx {
    /// The app's settings (shared: they change rarely and are read on every command).
    pub settings: std::sync::Arc<AppSettings>,
    /// Now, ms since the epoch.
    pub now_ms: i64,
    /// The queue a `RequestHuman` or `TransferToGroup` would enter, as its group sees it
    /// (none: no limits, as for callers that route no queue).
    pub room: Option<QueueRoom>,
}

/// What can happen to a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionCommand {
    /// The flow hands the user to a skill group.
    RequestHuman {
        /// The group.
        group: GroupId,
    },
    /// The group reserved an agent for this session.
    Place {
        /// The agent reserved.
        agent: AgentId,
        /// The group.
        group: GroupId,
        /// Why this agent.
        decision: RoutingDecision,
    },
    /// A transfer to a named agent, whose reservation succeeded.
    TransferToAgent {
        /// The serving agent.
        from: AgentId,
        /// The agent reserved.
        to: AgentId,
        /// The decision record.
        decision: RoutingDecision,
    },
    /// The offered agent accepts.
    Accept {
        /// The agent.
        agent: AgentId,
    },
    /// The accept countdown of this offer ran out.
    OfferExpired {
        /// The offer's generation (a stale one is ignored).
        generation: u32,
    },
    /// The offered agent went away (offline, logout, forced offline).
    AgentUnavailable {
        /// The agent.
        agent: AgentId,
    },
    /// The serving agent transfers to a group.
    TransferToGroup {
        /// The serving agent.
        from: AgentId,
        /// The group.
        group: GroupId,
    },
    /// The user wrote.
    UserMessage(String),
    /// The serving agent wrote.
    AgentMessage {
        /// The agent.
        agent: AgentId,
        /// The text.
        text: String,
    },
    /// The user-reply countdown that ends at `deadline_ms` ran out.
    ReplyExpired {
        /// The deadline the timer was armed for (a stale one is ignored).
        deadline_ms: i64,
    },
    /// The user-reply countdown that ends at `deadline_ms` is about to: remind the user.
    ReplyReminderDue {
        /// The deadline the reminder was armed for (a stale one is ignored).
        deadline_ms: i64,
    },
    /// The queue wait limit that ends at `deadline_ms` ran out.
    QueueWaitExpired {
        /// The deadline the timer was armed for (a stale one is ignored).
        deadline_ms: i64,
    },
    /// The flow sets the session's user-reply timeout (0: off).
    SetReplyTimeout {
        /// Seconds.
        secs: u32,
    },
    /// End the session.
    End {
        /// Who ends it.
        close_by: CloseBy,
        /// The agent ending it, for `CloseBy::Seat`.
        agent: Option<AgentId>,
    },
}

/// What the shell does after an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionAction {
    /// Put the session in a group's queue.
    Enqueue {
        /// The group.
        group: GroupId,
        /// Its place.
        queued_at_ms: i64,
        /// What routing needs.
        request: RoutingRequest,
    },
    /// Take the session out of a group's queue.
    Dequeue {
        /// The group.
        group: GroupId,
    },
    /// Give an agent's capacity back.
    Release {
        /// The agent.
        agent: AgentId,
    },
    /// Tell an agent it missed an offer (auto short break).
    Missed {
        /// The agent.
        agent: AgentId,
    },
    /// Arm the accept countdown.
    ArmOfferTimer {
        /// The offer.
        generation: u32,
        /// When it ends.
        deadline_ms: i64,
    },
    /// Arm the user-reply countdown.
    ArmReplyTimer {
        /// When it ends.
        deadline_ms: i64,
    },
    /// Arm the reminder `REPLY_REMINDER_LEAD_MS` before the user-reply countdown ends.
    ArmReplyReminder {
        /// When the countdown ends.
        deadline_ms: i64,
    },
    /// Arm the queue wait limit.
    ArmQueueTimer {
        /// When it ends.
        deadline_ms: i64,
    },
    /// Drop the queue wait limit's timer: the session left the queue.
    DisarmQueueTimer,
    /// The placement is written: the agent's reservation is confirmed (it may count it for
    /// good; a reservation never confirmed dies with a group that fails before placing it).
    Confirm {
        /// The agent.
        agent: AgentId,
    },
    /// An agent now serves the user (for "last receptionist first").
    Served {
        /// The agent.
        agent: AgentId,
    },
}

impl SessionState {
    /// A session before its `SessionCreated` event.
    pub fn new(id: SessionId, app: AppId) -> Self {
        Self {
            id,
            app,
            channel: ChannelId(0),
            user: String::new(),
            last_agent: None,
            phase: Phase::Open,
            generation: 0,
            route: None,
            agents: Vec::new(),
            reply_deadline_ms: None,
            reminded_ms: None,
            unanswered: false,
            reply_timeout_secs: None,
            queue_deadline: None,
        }
    }

    /// The user-reply deadline still to remind the user of: in service, a user-reply
    /// countdown (not a proactive contact's), not reminded yet.
    pub fn reminder_due(&self) -> Option<i64> {
        match (&self.phase, self.reply_deadline_ms) {
            (Phase::InService { .. }, Some(deadline))
                if !self.unanswered && self.reminded_ms != Some(deadline) =>
            {
                Some(deadline)
            }
            _ => None,
        }
    }

    /// The user-reply timeout in force: the flow's, or else the app's.
    pub fn reply_timeout_ms(&self, settings: &AppSettings) -> Option<i64> {
        match self.reply_timeout_secs {
            Some(0) => None,
            Some(secs) => Some(i64::from(secs) * 1_000),
            None => settings.user_reply_timeout_ms(),
        }
    }

    /// The agent holding the session (offered or serving), if any.
    pub fn holder(&self) -> Option<AgentId> {
        match self.phase {
            Phase::Offered { agent, .. } | Phase::InService { agent, .. } => Some(agent),
            _ => None,
        }
    }

    /// The agent who handed the session to its holder, as the live `offer` and `seated`
    /// frames said: the log keeps only who served it, so this reads it from there.
    pub fn handed_over_by(&self) -> Option<AgentId> {
        match self.phase {
            // Only a transfer brings a served session back to an offer, and the hand-over
            // stays named until someone takes it.
            Phase::Offered { .. } => self.agents.last().copied(),
            // Its holder is the last who served it; the one before handed it on.
            Phase::InService { .. } => self.agents.iter().rev().nth(1).copied(),
            _ => None,
        }
    }

    /// Over.
    pub fn ended(&self) -> bool {
        matches!(self.phase, Phase::Ended { .. })
    }

    /// The timers this state needs armed (after a restart, every one of them is).
    pub fn pending_timers(&self) -> Vec<SessionAction> {
        let mut timers = Vec::new();
        if let Phase::Offered {
            generation,
            deadline_ms,
            overdue: false,
            ..
        } = self.phase
        {
            timers.push(SessionAction::ArmOfferTimer {
                generation,
                deadline_ms,
            });
        }
        if let (Phase::InService { .. }, Some(deadline_ms)) = (&self.phase, self.reply_deadline_ms)
        {
            timers.push(SessionAction::ArmReplyTimer { deadline_ms });
        }
        if let Some(deadline_ms) = self.reminder_due() {
            timers.push(SessionAction::ArmReplyReminder { deadline_ms });
        }
        if let (Phase::Queued { .. }, Some((deadline_ms, _))) = (&self.phase, &self.queue_deadline)
        {
            timers.push(SessionAction::ArmQueueTimer {
                deadline_ms: *deadline_ms,
            });
        }
        timers
    }
}

/// The first events of a session an agent starts with a user (proactive contact): created,
/// and in service with `agent` until the user answers or `answer_by_ms` passes.
pub fn start_by_agent(
    channel: ChannelId,
    user: &str,
    agent: AgentId,
    group: GroupId,
    answer_by_ms: i64,
) -> Result<Vec<Event>, Rejection> {
    Ok(vec![
        create(channel, user, Some(agent))?,
        Event::SessionStartedByAgent {
            agent,
            group,
            answer_by_ms,
        },
    ])
}

/// Checks a new session's user id and returns its first event.
pub fn create(
    channel: ChannelId,
    user: &str,
    last_agent: Option<AgentId>,
) -> Result<Event, Rejection> {
    if user.is_empty() || user.len() > MAX_USER_ID_BYTES {
        return Err(Rejection::invalid(
            "userId",
            format!("must be 1 to {MAX_USER_ID_BYTES} bytes, got {}", user.len()),
        ));
    }
    Ok(Event::SessionCreated {
        channel,
        user: user.to_owned(),
        last_agent,
    })
}

fn check_text(field: &'static str, text: &str) -> Result<(), Rejection> {
    if text.is_empty() || text.len() > MAX_TEXT_BYTES {
        return Err(Rejection::invalid(
            field,
            format!("must be 1 to {MAX_TEXT_BYTES} bytes, got {}", text.len()),
        ));
    }
    Ok(())
}

/// The events of placing the session with an agent: an offer, or a direct assignment
/// under auto reception.
fn placed(
    state: &SessionState,
    ctx: &SessionCtx,
    agent: AgentId,
    group: Option<GroupId>,
    decision: RoutingDecision,
) -> Event {
    if ctx.settings.reception.auto_reception {
        Event::SessionAssigned {
            agent,
            group,
            decision,
        }
    } else {
        Event::SessionOffered {
            agent,
            group,
            generation: state.generation + 1,
            deadline_ms: ctx.now_ms + ctx.settings.accept_timeout_ms(),
            decision,
        }
    }
}

/// The refusal of a new entry into `group`, when its queue is full.
fn full_queue(group: GroupId, ctx: &SessionCtx) -> Option<Event> {
    let room = ctx.room.as_ref()?;
    (!room.limits.has_room(room.waiting)).then(|| Event::SessionQueueRefused {
        group,
        max_queued: room.limits.max_queued,
        message: room.limits.queue_full_message.clone(),
    })
}

/// The events of a new entry (not a redirect) into `group`'s queue: queued now, and the
/// deadline of the group's wait limit when it has one.
fn enter_queue(group: GroupId, cause: QueueCause, ctx: &SessionCtx) -> Vec<Event> {
    let mut events = vec![Event::SessionQueued {
        group,
        queued_at_ms: ctx.now_ms,
        cause,
    }];
    if let Some(limits) = ctx.room.as_ref().map(|r| &r.limits)
        && let Some(deadline_ms) = limits.deadline_ms(ctx.now_ms)
    {
        events.push(Event::SessionQueueDeadlineSet {
            deadline_ms,
            message: limits.queue_wait_message.clone(),
        });
    }
    events
}

/// Turns a command into events, or refuses it. Stale timers yield no events.
pub fn decide(
    state: &SessionState,
    command: &SessionCommand,
    ctx: &SessionCtx,
) -> Result<Vec<Event>, Rejection> {
    if let Phase::Ended { close_by } = state.phase {
        return match command {
            SessionCommand::OfferExpired { .. }
            | SessionCommand::ReplyExpired { .. }
            | SessionCommand::ReplyReminderDue { .. }
            | SessionCommand::QueueWaitExpired { .. } => Ok(vec![]),
            _ => Err(Rejection::conflict(format_args!(
                "{} has ended (closeBy {})",
                state.id,
                close_by.as_str()
            ))),
        };
    }
    let serving = |agent: AgentId| match state.phase {
        Phase::InService { agent: a, .. } if a == agent => Ok(()),
        _ => Err(Rejection::conflict(format_args!(
            "{agent} is not serving {}",
            state.id
        ))),
    };
    match command {
        SessionCommand::RequestHuman { group } => match state.phase {
            Phase::Open => Ok(match full_queue(*group, ctx) {
                // A new session is not let in: it ends, and the user is told why.
                Some(refusal) => vec![
                    refusal,
                    Event::SessionEnded {
                        close_by: CloseBy::Timer,
                    },
                ],
                None => enter_queue(*group, QueueCause::New, ctx),
            }),
            _ => Err(Rejection::conflict(format_args!(
                "{} already asked for a human",
                state.id
            ))),
        },
        SessionCommand::Place {
            agent,
            group,
            decision,
        } => match state.phase {
            Phase::Queued { group: g, .. } if g == *group => Ok(vec![placed(
                state,
                ctx,
                *agent,
                Some(*group),
                decision.clone(),
            )]),
            _ => Err(Rejection::conflict(format_args!(
                "{} is not queued in {group}",
                state.id
            ))),
        },
        SessionCommand::TransferToAgent { from, to, decision } => {
            serving(*from)?;
            if from == to {
                return Err(Rejection::invalid(
                    "userId",
                    "cannot transfer a session to its own agent",
                ));
            }
            Ok(vec![
                Event::SessionTransferred {
                    from: *from,
                    to: TransferTarget::Agent(*to),
                },
                placed(state, ctx, *to, None, decision.clone()),
            ])
        }
        SessionCommand::Accept { agent } => match state.phase {
            Phase::Offered { agent: a, .. } if a == *agent => {
                Ok(vec![Event::SessionAccepted { agent: *agent }])
            }
            _ => Err(Rejection::conflict(format_args!(
                "{} is not offered to {agent} (the offer may have expired)",
                state.id
            ))),
        },
        SessionCommand::OfferExpired { generation } => match state.phase {
            Phase::Offered {
                agent,
                generation: g,
                deadline_ms,
                overdue: false,
                ..
            } if g == *generation && ctx.now_ms >= deadline_ms => {
                match (ctx.settings.reception.redirect_on_timeout, state.route) {
                    (true, Some((group, queued_at_ms))) => Ok(vec![
                        Event::SessionOfferMissed {
                            agent,
                            generation: g,
                            cause: MissCause::Timeout,
                        },
                        Event::SessionQueued {
                            group,
                            queued_at_ms,
                            cause: QueueCause::Redirect { from: agent },
                        },
                    ]),
                    _ => Ok(vec![Event::SessionOfferOverdue {
                        agent,
                        generation: g,
                    }]),
                }
            }
            _ => Ok(vec![]),
        },
        SessionCommand::AgentUnavailable { agent } => match (state.phase.clone(), state.route) {
            (
                Phase::Offered {
                    agent: a,
                    generation,
                    ..
                },
                Some((group, queued_at_ms)),
            ) if a == *agent => Ok(vec![
                Event::SessionOfferMissed {
                    agent: a,
                    generation,
                    cause: MissCause::AgentUnavailable,
                },
                Event::SessionQueued {
                    group,
                    queued_at_ms,
                    cause: QueueCause::Redirect { from: a },
                },
            ]),
            _ => Ok(vec![]),
        },
        SessionCommand::TransferToGroup { from, group } => {
            serving(*from)?;
            if let Some(room) = ctx.room.as_ref().filter(|r| !r.limits.has_room(r.waiting)) {
                // The agent keeps the chat: refusing the transfer strands nobody.
                return Err(Rejection::conflict(format_args!(
                    "{group}'s queue is full ({} waiting, maxQueued {}): the session stays with {from}",
                    room.waiting, room.limits.max_queued
                )));
            }
            let mut events = vec![Event::SessionTransferred {
                from: *from,
                to: TransferTarget::Group(*group),
            }];
            events.extend(enter_queue(
                *group,
                QueueCause::Transfer { from: *from },
                ctx,
            ));
            Ok(events)
        }
        SessionCommand::UserMessage(text) => {
            check_text("text", text)?;
            Ok(vec![Event::SessionUserMessage { text: text.clone() }])
        }
        SessionCommand::AgentMessage { agent, text } => {
            serving(*agent)?;
            check_text("text", text)?;
            let reply_deadline_ms = if state.unanswered {
                state.reply_deadline_ms
            } else {
                state
                    .reply_timeout_ms(&ctx.settings)
                    .map(|t| ctx.now_ms + t)
            };
            Ok(vec![Event::SessionAgentMessage {
                agent: *agent,
                text: text.clone(),
                reply_deadline_ms,
            }])
        }
        SessionCommand::QueueWaitExpired { deadline_ms } => {
            match (&state.phase, &state.queue_deadline) {
                (Phase::Queued { group, .. }, Some((d, message)))
                    if d == deadline_ms && ctx.now_ms >= *d =>
                {
                    Ok(vec![
                        Event::SessionQueueTimedOut {
                            group: *group,
                            message: message.clone(),
                        },
                        Event::SessionEnded {
                            close_by: CloseBy::Timer,
                        },
                    ])
                }
                _ => Ok(vec![]),
            }
        }
        SessionCommand::SetReplyTimeout { secs } => {
            if *secs != 0 && !(60..=86_400).contains(secs) {
                return Err(Rejection::invalid(
                    "replyTimeoutSecs",
                    format!("{secs} is neither 0 (off) nor between 60 and 86400"),
                ));
            }
            if state.reply_timeout_secs == Some(*secs) {
                return Ok(vec![]);
            }
            Ok(vec![Event::SessionReplyTimeoutSet { secs: *secs }])
        }
        SessionCommand::ReplyExpired { deadline_ms } => {
            let live = matches!(state.phase, Phase::InService { .. })
                && state.reply_deadline_ms == Some(*deadline_ms)
                && ctx.now_ms >= *deadline_ms;
            Ok(if live {
                vec![Event::SessionEnded {
                    close_by: CloseBy::Timer,
                }]
            } else {
                vec![]
            })
        }
        SessionCommand::ReplyReminderDue { deadline_ms } => {
            let due = state.reminder_due() == Some(*deadline_ms)
                && ctx.now_ms >= deadline_ms - REPLY_REMINDER_LEAD_MS
                && ctx.now_ms < *deadline_ms;
            Ok(if due {
                vec![Event::SessionReplyReminded {
                    deadline_ms: *deadline_ms,
                }]
            } else {
                vec![]
            })
        }
        SessionCommand::End { close_by, agent } => {
            match close_by {
                CloseBy::Seat => serving(agent.ok_or_else(|| {
                    Rejection::invalid("agent", "an agent must be named to end as seat")
                })?)?,
                CloseBy::Timer => {
                    return Err(Rejection::invalid(
                        "closeBy",
                        "timer ends come from the timer",
                    ));
                }
                CloseBy::Flow if state.phase != Phase::Open => {
                    return Err(Rejection::conflict(format_args!(
                        "{} is past its flow: a human was asked for",
                        state.id
                    )));
                }
                CloseBy::Client | CloseBy::Admin | CloseBy::Flow => {}
            }
            Ok(vec![Event::SessionEnded {
                close_by: *close_by,
            }])
        }
    }
}

/// Folds one of the session's own events into its state.
pub fn apply(state: &mut SessionState, event: &Event) {
    match event {
        Event::SessionCreated {
            channel,
            user,
            last_agent,
        } => {
            state.channel = *channel;
            state.user.clone_from(user);
            state.last_agent = *last_agent;
        }
        Event::SessionQueued {
            group,
            queued_at_ms,
            cause,
        } => {
            let excluded = match cause {
                QueueCause::Redirect { from } => Some(*from),
                _ => None,
            };
            state.phase = Phase::Queued {
                group: *group,
                queued_at_ms: *queued_at_ms,
                excluded,
            };
            state.route = Some((*group, *queued_at_ms));
            state.reply_deadline_ms = None;
            // A new entry waits under its new group's limit (its deadline event follows); a
            // redirect keeps the one it had, as it keeps its place.
            if !matches!(cause, QueueCause::Redirect { .. }) {
                state.queue_deadline = None;
            }
        }
        Event::SessionQueueDeadlineSet {
            deadline_ms,
            message,
        } => state.queue_deadline = Some((*deadline_ms, message.clone())),
        Event::SessionQueueTimedOut { .. } | Event::SessionQueueRefused { .. } => {}
        Event::SessionOffered {
            agent,
            group,
            generation,
            deadline_ms,
            ..
        } => {
            debug_assert!(*generation > state.generation, "offer generations increase");
            state.generation = *generation;
            state.phase = Phase::Offered {
                agent: *agent,
                group: *group,
                generation: *generation,
                deadline_ms: *deadline_ms,
                overdue: false,
            };
        }
        Event::SessionAssigned { agent, group, .. } => {
            state.phase = Phase::InService {
                agent: *agent,
                group: *group,
            };
            state.agents.push(*agent);
        }
        Event::SessionAccepted { agent } => {
            let group = match state.phase {
                Phase::Offered { group, .. } => group,
                _ => None,
            };
            debug_assert_eq!(
                state.holder(),
                Some(*agent),
                "accepted by the offered agent"
            );
            state.phase = Phase::InService {
                agent: *agent,
                group,
            };
            state.agents.push(*agent);
        }
        Event::SessionOfferMissed { .. } | Event::SessionTransferred { .. } => {
            state.phase = Phase::Open;
            state.reply_deadline_ms = None;
        }
        Event::SessionOfferOverdue { .. } => {
            if let Phase::Offered { overdue, .. } = &mut state.phase {
                *overdue = true;
            }
        }
        Event::SessionUserMessage { .. } => {
            state.reply_deadline_ms = None;
            state.unanswered = false;
        }
        Event::SessionStartedByAgent {
            agent,
            group,
            answer_by_ms,
        } => {
            state.phase = Phase::InService {
                agent: *agent,
                group: Some(*group),
            };
            state.agents.push(*agent);
            state.reply_deadline_ms = Some(*answer_by_ms);
            state.unanswered = true;
        }
        Event::SessionAgentMessage {
            reply_deadline_ms, ..
        } => state.reply_deadline_ms = *reply_deadline_ms,
        Event::SessionReplyTimeoutSet { secs } => state.reply_timeout_secs = Some(*secs),
        Event::SessionReplyReminded { deadline_ms } => state.reminded_ms = Some(*deadline_ms),
        Event::SessionEnded { close_by } => {
            state.phase = Phase::Ended {
                close_by: *close_by,
            };
            state.reply_deadline_ms = None;
            state.queue_deadline = None;
        }
        _ => debug_assert!(false, "not a session event: {}", event.name()),
    }
}

/// What the shell must do after `event`, given the state just before it.
pub fn actions(before: &SessionState, event: &Event) -> Vec<SessionAction> {
    let mut actions = event_actions(before, event);
    // Leaving the queue (placed, or ended while waiting): the wait limit's timer goes, so the
    // wheel holds only sessions that still wait, not every session of the last half hour (a
    // redirect back into the queue arms it again).
    let leaves_queue = matches!(
        event,
        Event::SessionOffered { .. } | Event::SessionAssigned { .. } | Event::SessionEnded { .. }
    );
    if leaves_queue
        && matches!(before.phase, Phase::Queued { .. })
        && before.queue_deadline.is_some()
    {
        actions.push(SessionAction::DisarmQueueTimer);
    }
    actions
}

/// The actions `event` itself calls for.
fn event_actions(before: &SessionState, event: &Event) -> Vec<SessionAction> {
    match event {
        Event::SessionQueued {
            group,
            queued_at_ms,
            cause,
        } => {
            let excluded = match cause {
                QueueCause::Redirect { from } => Some(*from),
                _ => None,
            };
            let mut actions = vec![SessionAction::Enqueue {
                group: *group,
                queued_at_ms: *queued_at_ms,
                request: RoutingRequest {
                    last_agent: before.last_agent,
                    excluded,
                },
            }];
            // Back from a missed offer: the wait limit's timer may have fired (stale) while
            // the session was offered, so it is armed again.
            if let (Some(_), Some((deadline_ms, _))) = (excluded, &before.queue_deadline) {
                actions.push(SessionAction::ArmQueueTimer {
                    deadline_ms: *deadline_ms,
                });
            }
            actions
        }
        Event::SessionQueueDeadlineSet { deadline_ms, .. } => {
            vec![SessionAction::ArmQueueTimer {
                deadline_ms: *deadline_ms,
            }]
        }
        Event::SessionOffered {
            agent,
            generation,
            deadline_ms,
            ..
        } => {
            vec![
                SessionAction::Confirm { agent: *agent },
                SessionAction::ArmOfferTimer {
                    generation: *generation,
                    deadline_ms: *deadline_ms,
                },
            ]
        }
        Event::SessionAssigned { agent, .. } => vec![
            SessionAction::Confirm { agent: *agent },
            SessionAction::Served { agent: *agent },
        ],
        Event::SessionAccepted { agent } => {
            vec![SessionAction::Served { agent: *agent }]
        }
        Event::SessionStartedByAgent {
            agent,
            answer_by_ms,
            ..
        } => vec![
            SessionAction::Confirm { agent: *agent },
            SessionAction::Served { agent: *agent },
            SessionAction::ArmReplyTimer {
                deadline_ms: *answer_by_ms,
            },
        ],
        Event::SessionOfferMissed { agent, cause, .. } => {
            let mut actions = vec![SessionAction::Release { agent: *agent }];
            if *cause == MissCause::Timeout {
                actions.push(SessionAction::Missed { agent: *agent });
            }
            actions
        }
        Event::SessionOfferOverdue { agent, .. } => vec![SessionAction::Missed { agent: *agent }],
        Event::SessionTransferred { from, .. } => vec![SessionAction::Release { agent: *from }],
        Event::SessionAgentMessage {
            reply_deadline_ms: Some(deadline_ms),
            ..
        } => {
            let mut actions = vec![SessionAction::ArmReplyTimer {
                deadline_ms: *deadline_ms,
            }];
            // A proactive contact's deadline is not a user-reply countdown: no reminder.
            if !before.unanswered && before.reminded_ms != Some(*deadline_ms) {
                actions.push(SessionAction::ArmReplyReminder {
                    deadline_ms: *deadline_ms,
                });
            }
            actions
        }
        Event::SessionEnded { .. } => match before.phase {
            Phase::Queued { group, .. } => vec![SessionAction::Dequeue { group }],
            Phase::Offered { agent, .. } | Phase::InService { agent, .. } => {
                vec![SessionAction::Release { agent }]
            }
            _ => vec![],
        },
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::settings::RoutingPolicy;
    use crate::domain::testing::Given;

    const G: GroupId = GroupId(10);
    const A: AgentId = AgentId(1);
    const B: AgentId = AgentId(2);

    fn ctx(now_ms: i64) -> SessionCtx {
        SessionCtx {
            settings: AppSettings::default().into(),
            now_ms,
            room: None,
        }
    }

    fn given(events: &[Event]) -> Given<SessionState, SessionCommand, SessionCtx> {
        Given::new(
            SessionState::new(SessionId(7), AppId(1)),
            events,
            apply,
            decide,
        )
    }

    fn created() -> Event {
        Event::SessionCreated {
            channel: ChannelId(1),
            user: "u1".into(),
            last_agent: None,
        }
    }
    fn queued(at: i64) -> Event {
        Event::SessionQueued {
            group: G,
            queued_at_ms: at,
            cause: QueueCause::New,
        }
    }
    fn decision() -> RoutingDecision {
        RoutingDecision::direct(RoutingPolicy::default(), 0)
    }
    fn offered(agent: AgentId, generation: u32, deadline_ms: i64) -> Event {
        Event::SessionOffered {
            agent,
            group: Some(G),
            generation,
            deadline_ms,
            decision: decision(),
        }
    }

    #[test]
    fn a_reserved_agent_gets_an_offer_with_a_countdown() {
        given(&[created(), queued(100)])
            .with(ctx(1_000))
            .when(SessionCommand::Place {
                agent: A,
                group: G,
                decision: decision(),
            })
            .then_expect(&[offered(A, 1, 31_000)]);
    }

    #[test]
    fn auto_reception_assigns_at_once() {
        let mut c = ctx(1_000);
        std::sync::Arc::make_mut(&mut c.settings)
            .reception
            .auto_reception = true;
        given(&[created(), queued(100)])
            .with(c)
            .when(SessionCommand::Place {
                agent: A,
                group: G,
                decision: decision(),
            })
            .then_expect(&[Event::SessionAssigned {
                agent: A,
                group: Some(G),
                decision: decision(),
            }]);
    }

    #[test]
    fn an_expired_offer_is_redirected_keeping_the_queue_place() {
        given(&[created(), queued(100), offered(A, 1, 31_000)])
            .with(ctx(31_000))
            .when(SessionCommand::OfferExpired { generation: 1 })
            .then_expect(&[
                Event::SessionOfferMissed {
                    agent: A,
                    generation: 1,
                    cause: MissCause::Timeout,
                },
                Event::SessionQueued {
                    group: G,
                    queued_at_ms: 100,
                    cause: QueueCause::Redirect { from: A },
                },
            ]);
    }

    #[test]
    fn a_stale_or_early_offer_timer_does_nothing() {
        let past = [created(), queued(100), offered(A, 1, 31_000)];
        given(&past)
            .with(ctx(31_000))
            .when(SessionCommand::OfferExpired { generation: 0 })
            .then_expect(&[]);
        given(&past)
            .with(ctx(30_999))
            .when(SessionCommand::OfferExpired { generation: 1 })
            .then_expect(&[]);
    }

    #[test]
    fn without_redirect_the_offer_stays_and_is_marked_overdue() {
        let mut c = ctx(31_000);
        std::sync::Arc::make_mut(&mut c.settings)
            .reception
            .redirect_on_timeout = false;
        given(&[created(), queued(100), offered(A, 1, 31_000)])
            .with(c)
            .when(SessionCommand::OfferExpired { generation: 1 })
            .then_expect(&[Event::SessionOfferOverdue {
                agent: A,
                generation: 1,
            }]);
    }

    #[test]
    fn only_the_offered_agent_accepts() {
        let past = [created(), queued(100), offered(A, 1, 31_000)];
        given(&past)
            .when(SessionCommand::Accept { agent: B })
            .then_expect_conflict();
        given(&past)
            .when(SessionCommand::Accept { agent: A })
            .then_expect(&[Event::SessionAccepted { agent: A }]);
    }

    #[test]
    fn a_session_an_agent_starts_keeps_its_deadline_until_the_user_answers() {
        let g = GroupId(9);
        let mut c = ctx(5_000);
        std::sync::Arc::make_mut(&mut c.settings).user_reply_timeout_secs = 60;
        let past = start_by_agent(ChannelId(3), "u1", A, g, 600_000).unwrap();
        let mut state = SessionState::new(SessionId(1), AppId(1));
        for e in &past {
            apply(&mut state, e);
        }
        assert_eq!(state.holder(), Some(A));
        assert_eq!(state.reply_deadline_ms, Some(600_000));
        // The agent's own messages keep the proactive deadline, not the reply timeout's.
        given(&past)
            .with(c.clone())
            .when(SessionCommand::AgentMessage {
                agent: A,
                text: "hello".into(),
            })
            .then_expect(&[Event::SessionAgentMessage {
                agent: A,
                text: "hello".into(),
                reply_deadline_ms: Some(600_000),
            }]);
        // Once the user wrote, the app's reply timeout applies again.
        let mut answered = past.clone();
        answered.push(Event::SessionUserMessage { text: "hi".into() });
        given(&answered)
            .with(c.clone())
            .when(SessionCommand::AgentMessage {
                agent: A,
                text: "hello".into(),
            })
            .then_expect(&[Event::SessionAgentMessage {
                agent: A,
                text: "hello".into(),
                reply_deadline_ms: Some(65_000),
            }]);
        // Unanswered at the deadline: ended by the timer.
        c.now_ms = 600_000;
        given(&past)
            .with(c)
            .when(SessionCommand::ReplyExpired {
                deadline_ms: 600_000,
            })
            .then_expect(&[Event::SessionEnded {
                close_by: CloseBy::Timer,
            }]);
        assert!(
            start_by_agent(ChannelId(3), "", A, g, 1).is_err(),
            "a user id is needed"
        );
    }

    #[test]
    fn the_user_is_reminded_once_shortly_before_the_reply_timeout_and_not_after_answering() {
        let served = [
            created(),
            queued(100),
            offered(A, 1, 31_000),
            Event::SessionAccepted { agent: A },
        ];
        let message = Event::SessionAgentMessage {
            agent: A,
            text: "hello".into(),
            reply_deadline_ms: Some(65_000),
        };
        let mut before = SessionState::new(SessionId(1), AppId(1));
        for e in &served {
            apply(&mut before, e);
        }
        assert_eq!(
            actions(&before, &message),
            [
                SessionAction::ArmReplyTimer {
                    deadline_ms: 65_000
                },
                SessionAction::ArmReplyReminder {
                    deadline_ms: 65_000
                },
            ]
        );
        let mut waiting = served.to_vec();
        waiting.push(message);
        let due = SessionCommand::ReplyReminderDue {
            deadline_ms: 65_000,
        };
        // Early, or for another deadline: nothing.
        given(&waiting)
            .with(ctx(34_999))
            .when(due.clone())
            .then_expect(&[]);
        given(&waiting)
            .with(ctx(40_000))
            .when(SessionCommand::ReplyReminderDue {
                deadline_ms: 64_000,
            })
            .then_expect(&[]);
        given(&waiting)
            .with(ctx(35_000))
            .when(due.clone())
            .then_expect(&[Event::SessionReplyReminded {
                deadline_ms: 65_000,
            }]);
        // Once reminded, not again, and not re-armed after a restart.
        let mut reminded = waiting.clone();
        reminded.push(Event::SessionReplyReminded {
            deadline_ms: 65_000,
        });
        given(&reminded)
            .with(ctx(36_000))
            .when(due.clone())
            .then_expect(&[]);
        let mut state = SessionState::new(SessionId(1), AppId(1));
        for e in &reminded {
            apply(&mut state, e);
        }
        assert!(
            !state
                .pending_timers()
                .iter()
                .any(|t| matches!(t, SessionAction::ArmReplyReminder { .. }))
        );
        // The user answered: no reminder.
        let mut answered = waiting.clone();
        answered.push(Event::SessionUserMessage { text: "hi".into() });
        given(&answered)
            .with(ctx(40_000))
            .when(due)
            .then_expect(&[]);
        // A proactive contact's deadline is not reminded of.
        let past = start_by_agent(ChannelId(3), "u1", A, GroupId(9), 600_000).unwrap();
        let mut proactive = SessionState::new(SessionId(1), AppId(1));
        for e in &past {
            apply(&mut proactive, e);
        }
        assert_eq!(proactive.reminder_due(), None);
    }

    #[test]
    fn agent_message_starts_the_reply_countdown_and_its_expiry_ends_the_session() {
        let mut c = ctx(5_000);
        std::sync::Arc::make_mut(&mut c.settings).user_reply_timeout_secs = 60;
        let past = [
            created(),
            queued(100),
            offered(A, 1, 31_000),
            Event::SessionAccepted { agent: A },
        ];
        given(&past)
            .with(c.clone())
            .when(SessionCommand::AgentMessage {
                agent: A,
                text: "hello".into(),
            })
            .then_expect(&[Event::SessionAgentMessage {
                agent: A,
                text: "hello".into(),
                reply_deadline_ms: Some(65_000),
            }]);
        let mut with_message = past.to_vec();
        with_message.push(Event::SessionAgentMessage {
            agent: A,
            text: "hi".into(),
            reply_deadline_ms: Some(65_000),
        });
        c.now_ms = 65_000;
        given(&with_message)
            .with(c.clone())
            .when(SessionCommand::ReplyExpired {
                deadline_ms: 65_000,
            })
            .then_expect(&[Event::SessionEnded {
                close_by: CloseBy::Timer,
            }]);
        // The user answered: the countdown is off and its timer stale.
        with_message.push(Event::SessionUserMessage { text: "yes".into() });
        given(&with_message)
            .with(c)
            .when(SessionCommand::ReplyExpired {
                deadline_ms: 65_000,
            })
            .then_expect(&[]);
    }

    #[test]
    fn transfer_to_group_requeues_now_and_releases_the_agent() {
        let past = [
            created(),
            queued(100),
            offered(A, 1, 31_000),
            Event::SessionAccepted { agent: A },
        ];
        let g2 = GroupId(11);
        given(&past)
            .with(ctx(9_000))
            .when(SessionCommand::TransferToGroup { from: A, group: g2 })
            .then_expect(&[
                Event::SessionTransferred {
                    from: A,
                    to: TransferTarget::Group(g2),
                },
                Event::SessionQueued {
                    group: g2,
                    queued_at_ms: 9_000,
                    cause: QueueCause::Transfer { from: A },
                },
            ]);
        given(&past)
            .when(SessionCommand::TransferToGroup { from: B, group: g2 })
            .then_expect_conflict();
    }

    #[test]
    fn seat_end_needs_the_serving_agent_and_ended_sessions_refuse_commands() {
        let past = [
            created(),
            queued(100),
            offered(A, 1, 31_000),
            Event::SessionAccepted { agent: A },
        ];
        given(&past)
            .when(SessionCommand::End {
                close_by: CloseBy::Seat,
                agent: Some(B),
            })
            .then_expect_conflict();
        let mut ended = past.to_vec();
        ended.push(Event::SessionEnded {
            close_by: CloseBy::Seat,
        });
        given(&ended)
            .when(SessionCommand::UserMessage("x".into()))
            .then_expect_conflict();
    }

    #[test]
    fn actions_release_what_the_session_held() {
        let mut s = SessionState::new(SessionId(7), AppId(1));
        for e in [created(), queued(100)] {
            apply(&mut s, &e);
        }
        assert_eq!(
            actions(
                &s,
                &Event::SessionEnded {
                    close_by: CloseBy::Client
                }
            ),
            [SessionAction::Dequeue { group: G }]
        );
        apply(&mut s, &offered(A, 1, 31_000));
        assert_eq!(
            actions(
                &s,
                &Event::SessionEnded {
                    close_by: CloseBy::Client
                }
            ),
            [SessionAction::Release { agent: A }]
        );
        assert_eq!(
            s.pending_timers(),
            [SessionAction::ArmOfferTimer {
                generation: 1,
                deadline_ms: 31_000
            }]
        );
    }

    #[test]
    fn a_flow_sets_the_reply_timeout_and_ends_only_an_open_session() {
        let mut c = ctx(5_000);
        std::sync::Arc::make_mut(&mut c.settings).user_reply_timeout_secs = 600;
        given(&[created()])
            .when(SessionCommand::SetReplyTimeout { secs: 30 })
            .then_expect_invalid("replyTimeoutSecs");
        given(&[created()])
            .when(SessionCommand::SetReplyTimeout { secs: 120 })
            .then_expect(&[Event::SessionReplyTimeoutSet { secs: 120 }]);
        // The flow's timeout, not the app's, counts after the agent's message.
        let served = [
            created(),
            Event::SessionReplyTimeoutSet { secs: 120 },
            queued(100),
            offered(A, 1, 31_000),
            Event::SessionAccepted { agent: A },
        ];
        given(&served)
            .with(c.clone())
            .when(SessionCommand::AgentMessage {
                agent: A,
                text: "hello".into(),
            })
            .then_expect(&[Event::SessionAgentMessage {
                agent: A,
                text: "hello".into(),
                reply_deadline_ms: Some(125_000),
            }]);
        // 0 is off, whatever the app says.
        let off = [
            created(),
            Event::SessionReplyTimeoutSet { secs: 0 },
            queued(1),
            offered(A, 1, 9),
            Event::SessionAccepted { agent: A },
        ];
        given(&off)
            .with(c)
            .when(SessionCommand::AgentMessage {
                agent: A,
                text: "hello".into(),
            })
            .then_expect(&[Event::SessionAgentMessage {
                agent: A,
                text: "hello".into(),
                reply_deadline_ms: None,
            }]);
        let end = SessionCommand::End {
            close_by: CloseBy::Flow,
            agent: None,
        };
        given(&[created()])
            .when(end.clone())
            .then_expect(&[Event::SessionEnded {
                close_by: CloseBy::Flow,
            }]);
        given(&[created(), queued(1)])
            .when(end)
            .then_expect_conflict();
    }

    #[test]
    fn user_id_is_checked() {
        assert_eq!(
            create(ChannelId(1), "", None).unwrap_err().field(),
            Some("userId")
        );
        assert_eq!(
            create(ChannelId(1), &"x".repeat(200), None)
                .unwrap_err()
                .field(),
            Some("userId")
        );
    }

    fn room(waiting: usize, max_queued: u32) -> QueueRoom {
        QueueRoom {
            waiting,
            limits: crate::domain::group::QueueLimits {
                max_queue_wait_secs: 600,
                max_queued,
                ..Default::default()
            },
        }
    }

    fn with_room(now_ms: i64, waiting: usize, max_queued: u32) -> SessionCtx {
        SessionCtx {
            room: Some(room(waiting, max_queued)),
            ..ctx(now_ms)
        }
    }

    fn deadline(deadline_ms: i64) -> Event {
        Event::SessionQueueDeadlineSet {
            deadline_ms,
            message: crate::domain::group::DEFAULT_QUEUE_WAIT_MESSAGE.into(),
        }
    }

    #[test]
    fn entering_a_queue_writes_the_deadline_of_its_wait_limit() {
        given(&[created()])
            .with(with_room(1_000, 0, 5))
            .when(SessionCommand::RequestHuman { group: G })
            .then_expect(&[
                Event::SessionQueued {
                    group: G,
                    queued_at_ms: 1_000,
                    cause: QueueCause::New,
                },
                deadline(601_000),
            ]);
        // Limit off: no deadline.
        let mut off = with_room(1_000, 0, 5);
        off.room.as_mut().unwrap().limits.max_queue_wait_secs = 0;
        given(&[created()])
            .with(off)
            .when(SessionCommand::RequestHuman { group: G })
            .then_expect(&[queued(1_000)]);
    }

    #[test]
    fn the_wait_limit_ends_a_session_still_queued_by_the_timer() {
        let past = [created(), queued(1_000), deadline(601_000)];
        given(&past)
            .with(ctx(601_000))
            .when(SessionCommand::QueueWaitExpired {
                deadline_ms: 601_000,
            })
            .then_expect(&[
                Event::SessionQueueTimedOut {
                    group: G,
                    message: crate::domain::group::DEFAULT_QUEUE_WAIT_MESSAGE.into(),
                },
                Event::SessionEnded {
                    close_by: CloseBy::Timer,
                },
            ]);
        // Early, or another deadline: nothing.
        given(&past)
            .with(ctx(600_999))
            .when(SessionCommand::QueueWaitExpired {
                deadline_ms: 601_000,
            })
            .then_expect(&[]);
        given(&past)
            .with(ctx(700_000))
            .when(SessionCommand::QueueWaitExpired { deadline_ms: 5 })
            .then_expect(&[]);
    }

    #[test]
    fn a_stale_wait_limit_does_nothing_once_placed_and_a_redirect_keeps_and_rearms_it() {
        let mut past = vec![
            created(),
            queued(1_000),
            deadline(601_000),
            offered(A, 1, 31_000),
        ];
        given(&past)
            .with(ctx(601_000))
            .when(SessionCommand::QueueWaitExpired {
                deadline_ms: 601_000,
            })
            .then_expect(&[]);
        let mut s = SessionState::new(SessionId(7), AppId(1));
        for e in &past {
            apply(&mut s, e);
        }
        let back = Event::SessionQueued {
            group: G,
            queued_at_ms: 1_000,
            cause: QueueCause::Redirect { from: A },
        };
        assert!(actions(&s, &back).contains(&SessionAction::ArmQueueTimer {
            deadline_ms: 601_000
        }));
        past.push(Event::SessionOfferMissed {
            agent: A,
            generation: 1,
            cause: MissCause::Timeout,
        });
        past.push(back);
        given(&past)
            .with(ctx(601_000))
            .when(SessionCommand::QueueWaitExpired {
                deadline_ms: 601_000,
            })
            .then_expect(&[
                Event::SessionQueueTimedOut {
                    group: G,
                    message: crate::domain::group::DEFAULT_QUEUE_WAIT_MESSAGE.into(),
                },
                Event::SessionEnded {
                    close_by: CloseBy::Timer,
                },
            ]);
        // After a restart the replayed state re-arms it.
        let mut replayed = SessionState::new(SessionId(7), AppId(1));
        for e in &past {
            apply(&mut replayed, e);
        }
        assert_eq!(
            replayed.pending_timers(),
            [SessionAction::ArmQueueTimer {
                deadline_ms: 601_000
            }]
        );
    }

    #[test]
    fn a_full_queue_refuses_a_new_session_which_ends_by_the_timer() {
        given(&[created()])
            .with(with_room(1_000, 5, 5))
            .when(SessionCommand::RequestHuman { group: G })
            .then_expect(&[
                Event::SessionQueueRefused {
                    group: G,
                    max_queued: 5,
                    message: crate::domain::group::DEFAULT_QUEUE_FULL_MESSAGE.into(),
                },
                Event::SessionEnded {
                    close_by: CloseBy::Timer,
                },
            ]);
    }

    #[test]
    fn a_transfer_into_a_full_queue_is_refused_and_the_agent_keeps_the_chat() {
        let served = [
            created(),
            queued(100),
            offered(A, 1, 31_000),
            Event::SessionAccepted { agent: A },
        ];
        let g2 = GroupId(11);
        given(&served)
            .with(with_room(9_000, 3, 3))
            .when(SessionCommand::TransferToGroup { from: A, group: g2 })
            .then_expect_conflict();
        // With room, the transfer starts a fresh wait under the new group's limit.
        given(&served)
            .with(with_room(9_000, 2, 3))
            .when(SessionCommand::TransferToGroup { from: A, group: g2 })
            .then_expect(&[
                Event::SessionTransferred {
                    from: A,
                    to: TransferTarget::Group(g2),
                },
                Event::SessionQueued {
                    group: g2,
                    queued_at_ms: 9_000,
                    cause: QueueCause::Transfer { from: A },
                },
                deadline(609_000),
            ]);
    }
}
