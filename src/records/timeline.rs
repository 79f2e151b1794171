//! A session's timeline for auditors: every event of its life from the log, in order, as
//! structured entries the console words in the reader's language (no sentence is made
//! here: a kind, ids, numbers, and the routing decision whole).
//!
//! **Where the events come from.** The log already keeps every stream's events findable
//! by stream (`EventLog::read_stream`), so the timeline re-reads the session's own stream
//! (created, queued, offered with its decision, accepted, transferred, ended...) and its
//! conversation's stream, keeping the events that name this session (flow steps, rating).
//! Keeping per-session references in the records projection would duplicate that index
//! in memory for every session ever, to serve a page an auditor opens now and then.
//! [`entries`] is pure: envelopes in, entries out.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::event::{CloseBy, Envelope, Event, MissCause, QueueCause, TransferTarget};
use crate::domain::ids::{AgentId, ChannelId, FlowId, GroupId, SessionId};
use crate::domain::routing::{ChoiceRule, RefuseReason, RoutingDecision, Skipped};
use crate::domain::settings::RoutingPolicy;

/// Most entries one timeline holds: far more than a session's life has events, few enough
/// that a runaway conversation cannot make one page unbounded.
pub const MAX_TIMELINE_ENTRIES: usize = 5_000;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    /// The user's first message opened it (`channelId`, `userId`, `lastAgentId`).
    Created,
    /// An agent started it with the user (`agentId`, `groupId`, `deadlineMs`: answer by).
    StartedByAgent,
    /// The service flow took a step (`flowId`, `version`, `node`).
    FlowStep,
    /// The flow called an interface (`attempt`).
    FlowCall,
    /// The interface answered or failed (`attempt`, `error` when it failed).
    FlowCallAnswered,
    /// The flow asked for a human in a group (`groupId`).
    FlowHumanRequested,
    /// The flow reached its end module (`secs`: the user-reply timeout).
    FlowFinished,
    /// The flow set the user-reply timeout (`secs`).
    ReplyTimeoutSet,
    /// It entered a group's queue (`groupId`, `queueCause`, `fromAgentId` for a transfer or
    /// redirect, `placeMs`: its place, kept across redirects).
    Queued,
    /// The queue will give up on it at `deadlineMs`.
    QueueDeadlineSet,
    /// Offered to an agent (`agentId`, `groupId`, `generation`, `deadlineMs`, `decision`).
    Offered,
    /// Given to an agent at once (`agentId`, `groupId`, `decision`).
    Assigned,
    /// The offered agent accepted (`agentId`).
    Accepted,
    /// An offer ended unaccepted (`agentId`, `generation`, `missCause`).
    OfferMissed,
    /// The countdown ran out and the offer stayed (`agentId`, `generation`).
    OfferOverdue,
    /// An agent handed it on (`byAgentId`; `groupId` or `agentId`, the target).
    Transferred,
    /// The user wrote.
    UserMessage,
    /// An agent wrote (`agentId`).
    AgentMessage,
    /// The queue's wait limit ended it (`groupId`).
    QueueTimedOut,
    /// The queue was full (`groupId`, `limit`: its cap).
    QueueRefused,
    /// The user was invited to rate it (`agentId`: the one rated).
    RatingInvited,
    /// The user rated it (`value`, `label`).
    Rated,
    /// It ended (`closeBy`).
    Ended,
}

/// Why a session entered a queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueCauseName {
    /// A new session.
    New,
    /// An agent transferred it to the group.
    Transfer,
    /// Its offer was missed; it kept its place.
    Redirect,
}

/// Why an offer ended unaccepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MissCauseName {
    /// The countdown ran out.
    Timeout,
    /// The agent went away.
    AgentUnavailable,
}

/// Who ended a session (`closeBy`), in records and timelines alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CloseByName {
    /// The user (or the client application).
    Client,
    /// The agent.
    Seat,
    /// An administrator.
    Admin,
    /// The user-reply timeout.
    Timer,
    /// The session service flow ended without a human.
    Flow,
}

impl From<CloseBy> for CloseByName {
    fn from(c: CloseBy) -> Self {
        match c {
            CloseBy::Client => Self::Client,
            CloseBy::Seat => Self::Seat,
            CloseBy::Admin => Self::Admin,
            CloseBy::Timer => Self::Timer,
            CloseBy::Flow => Self::Flow,
        }
    }
}

/// The rule that settled a routing choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleName {
    /// Only one agent could take it.
    OnlyCandidate,
    /// The user's last receptionist.
    LastReceptionist,
    /// Higher priority in the group.
    Priority,
    /// Fewer sessions in hand.
    LeastLoaded,
    /// Free for longer.
    LongestIdle,
    /// Lowest agent id, all else equal.
    LowestId,
    /// Named by a transfer.
    Direct,
    /// Missed it before; nobody else could take it.
    ExcludedFallback,
}

impl From<ChoiceRule> for RuleName {
    fn from(r: ChoiceRule) -> Self {
        match r {
            ChoiceRule::OnlyCandidate => Self::OnlyCandidate,
            ChoiceRule::LastReceptionist => Self::LastReceptionist,
            ChoiceRule::Priority => Self::Priority,
            ChoiceRule::LeastLoaded => Self::LeastLoaded,
            ChoiceRule::LongestIdle => Self::LongestIdle,
            ChoiceRule::LowestId => Self::LowestId,
            ChoiceRule::Direct => Self::Direct,
            ChoiceRule::ExcludedFallback => Self::ExcludedFallback,
        }
    }
}

/// Members passed over, by reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkippedView {
    /// Not logged in.
    pub offline: u32,
    /// Status not free.
    pub not_free: u32,
    /// At the reception limit (reservations pending included).
    pub at_limit: u32,
    /// Missed this session's previous offer.
    pub excluded: u32,
}

impl From<Skipped> for SkippedView {
    fn from(s: Skipped) -> Self {
        Self {
            offline: s.offline,
            not_free: s.not_free,
            at_limit: s.at_limit,
            excluded: s.excluded,
        }
    }
}

/// Why an agent refused a reservation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    /// Its status was not free (`status`).
    NotFree,
    /// At the limit (`load`, `limit`).
    AtLimit,
    /// Not logged in.
    Offline,
    /// No longer an agent of the group.
    Gone,
    /// Already held the session.
    AlreadyHolds,
}

/// An agent that refused a reservation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefusalView {
    /// The agent.
    pub agent_id: AgentId,
    /// Why.
    pub reason: RefusalKind,
    /// Its status, for `not_free`.
    pub status: Option<String>,
    /// Sessions in hand, for `at_limit`.
    pub load: Option<u32>,
    /// The limit, for `at_limit`.
    pub limit: Option<u32>,
}

impl RefusalView {
    /// The view of `reason` given by `agent`.
    pub fn new(agent: AgentId, reason: &RefuseReason) -> Self {
        let mut view = Self {
            agent_id: agent,
            reason: RefusalKind::Gone,
            status: None,
            load: None,
            limit: None,
        };
        view.reason = match reason {
            RefuseReason::NotFree { status } => {
                view.status = Some(status.clone());
                RefusalKind::NotFree
            }
            RefuseReason::AtLimit { load, limit } => {
                view.load = Some(*load);
                view.limit = Some(*limit);
                RefusalKind::AtLimit
            }
            RefuseReason::Offline => RefusalKind::Offline,
            RefuseReason::Gone => RefusalKind::Gone,
            RefuseReason::AlreadyHolds => RefusalKind::AlreadyHolds,
        };
        view
    }
}

/// Why a session went to an agent, as the engine recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionView {
    /// The policy in force.
    pub policy: RoutingPolicy,
    /// The rule that separated the chosen agent from the runner-up.
    pub rule: RuleName,
    /// The next best agent.
    pub runner_up_id: Option<AgentId>,
    /// Members looked at.
    pub considered: u32,
    /// Members passed over, by reason.
    pub skipped: SkippedView,
    /// Agents who refused a reservation first, in order.
    pub refused: Vec<RefusalView>,
    /// Sessions the chosen agent held when it accepted the reservation.
    pub held: u32,
}

impl From<&RoutingDecision> for DecisionView {
    fn from(d: &RoutingDecision) -> Self {
        Self {
            policy: d.policy,
            rule: d.rule.into(),
            runner_up_id: d.runner_up,
            considered: d.considered,
            skipped: d.skipped.into(),
            refused: d
                .refused
                .iter()
                .map(|r| RefusalView::new(r.agent, &r.reason))
                .collect(),
            held: d.held,
        }
    }
}

/// One event of a session's life; which fields are set depends on `kind`.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    /// The event's log seq.
    pub seq: u64,
    /// When, ms since the epoch.
    pub at_ms: i64,
    /// What happened.
    pub kind: TimelineKind,
    /// The agent offered, assigned, accepting, writing, rated, or transferred to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// The group queued in, routing, transferred to, or asked for by the flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<GroupId>,
    /// The agent who transferred it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_agent_id: Option<AgentId>,
    /// The agent a transfer or redirect came from (for `queued`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_agent_id: Option<AgentId>,
    /// Who served the user last (for `created`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_agent_id: Option<AgentId>,
    /// The channel (for `created`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<ChannelId>,
    /// The user (for `created`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Why it queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_cause: Option<QueueCauseName>,
    /// Its place in the queue, ms since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_ms: Option<i64>,
    /// An offer's countdown end, the queue's deadline, or the proactive answer-by time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<i64>,
    /// The offer's number in the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation: Option<u32>,
    /// Why this agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionView>,
    /// Why an offer was missed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub miss_cause: Option<MissCauseName>,
    /// Who ended it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_by: Option<CloseByName>,
    /// The rating's value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<u8>,
    /// The rating's label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_id: Option<FlowId>,
    /// The flow's version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// The flow node it stands at after the step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// An interface call's attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// Why a call failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A timeout, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secs: Option<u32>,
    /// A queue's cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl TimelineEntry {
    fn new(env: &Envelope, kind: TimelineKind) -> Self {
        Self {
            seq: env.seq,
            at_ms: env.at_ms,
            kind,
            agent_id: None,
            group_id: None,
            by_agent_id: None,
            from_agent_id: None,
            last_agent_id: None,
            channel_id: None,
            user_id: None,
            queue_cause: None,
            place_ms: None,
            deadline_ms: None,
            generation: None,
            decision: None,
            miss_cause: None,
            close_by: None,
            value: None,
            label: None,
            flow_id: None,
            version: None,
            node: None,
            attempt: None,
            error: None,
            secs: None,
            limit: None,
        }
    }
}

/// The entry of one envelope of `session`'s life, if it is one (events of its conversation
/// that name another session, and messages, which the transcript holds, are not).
pub fn entry(session: SessionId, env: &Envelope) -> Option<TimelineEntry> {
    use TimelineKind as K;
    let at = |kind| TimelineEntry::new(env, kind);
    let mine = |s: &SessionId| *s == session;
    let e = match &env.event {
        Event::SessionCreated {
            channel,
            user,
            last_agent,
        } => TimelineEntry {
            channel_id: Some(*channel),
            user_id: Some(user.clone()),
            last_agent_id: *last_agent,
            ..at(K::Created)
        },
        Event::SessionStartedByAgent {
            agent,
            group,
            answer_by_ms,
        } => TimelineEntry {
            agent_id: Some(*agent),
            group_id: Some(*group),
            deadline_ms: Some(*answer_by_ms),
            ..at(K::StartedByAgent)
        },
        Event::SessionQueued {
            group,
            queued_at_ms,
            cause,
        } => {
            let (cause, from) = match cause {
                QueueCause::New => (QueueCauseName::New, None),
                QueueCause::Transfer { from } => (QueueCauseName::Transfer, Some(*from)),
                QueueCause::Redirect { from } => (QueueCauseName::Redirect, Some(*from)),
            };
            TimelineEntry {
                group_id: Some(*group),
                queue_cause: Some(cause),
                from_agent_id: from,
                place_ms: Some(*queued_at_ms),
                ..at(K::Queued)
            }
        }
        Event::SessionQueueDeadlineSet { deadline_ms, .. } => TimelineEntry {
            deadline_ms: Some(*deadline_ms),
            ..at(K::QueueDeadlineSet)
        },
        Event::SessionOffered {
            agent,
            group,
            generation,
            deadline_ms,
            decision,
        } => TimelineEntry {
            agent_id: Some(*agent),
            group_id: *group,
            generation: Some(*generation),
            deadline_ms: Some(*deadline_ms),
            decision: Some(decision.into()),
            ..at(K::Offered)
        },
        Event::SessionAssigned {
            agent,
            group,
            decision,
        } => TimelineEntry {
            agent_id: Some(*agent),
            group_id: *group,
            decision: Some(decision.into()),
            ..at(K::Assigned)
        },
        Event::SessionAccepted { agent } => TimelineEntry {
            agent_id: Some(*agent),
            ..at(K::Accepted)
        },
        Event::SessionOfferMissed {
            agent,
            generation,
            cause,
        } => TimelineEntry {
            agent_id: Some(*agent),
            generation: Some(*generation),
            miss_cause: Some(match cause {
                MissCause::Timeout => MissCauseName::Timeout,
                MissCause::AgentUnavailable => MissCauseName::AgentUnavailable,
            }),
            ..at(K::OfferMissed)
        },
        Event::SessionOfferOverdue { agent, generation } => TimelineEntry {
            agent_id: Some(*agent),
            generation: Some(*generation),
            ..at(K::OfferOverdue)
        },
        Event::SessionTransferred { from, to } => {
            let (group, agent) = match to {
                TransferTarget::Group(g) => (Some(*g), None),
                TransferTarget::Agent(a) => (None, Some(*a)),
            };
            TimelineEntry {
                by_agent_id: Some(*from),
                group_id: group,
                agent_id: agent,
                ..at(K::Transferred)
            }
        }
        Event::SessionUserMessage { .. } => at(K::UserMessage),
        Event::SessionAgentMessage { agent, .. } => TimelineEntry {
            agent_id: Some(*agent),
            ..at(K::AgentMessage)
        },
        Event::SessionReplyTimeoutSet { secs } => TimelineEntry {
            secs: Some(*secs),
            ..at(K::ReplyTimeoutSet)
        },
        Event::SessionQueueTimedOut { group, .. } => TimelineEntry {
            group_id: Some(*group),
            ..at(K::QueueTimedOut)
        },
        Event::SessionQueueRefused {
            group, max_queued, ..
        } => TimelineEntry {
            group_id: Some(*group),
            limit: Some(*max_queued),
            ..at(K::QueueRefused)
        },
        Event::SessionEnded { close_by } => TimelineEntry {
            close_by: Some((*close_by).into()),
            ..at(K::Ended)
        },
        Event::FlowStepped {
            session: s,
            flow,
            version,
            state,
        } if mine(s) => TimelineEntry {
            flow_id: Some(*flow),
            version: Some(*version),
            node: Some(state.node.clone()),
            ..at(K::FlowStep)
        },
        Event::FlowCallRequested {
            session: s,
            attempt,
            ..
        } if mine(s) => TimelineEntry {
            attempt: Some(*attempt),
            ..at(K::FlowCall)
        },
        Event::FlowCallAnswered {
            session: s,
            attempt,
            answer,
            error,
            ..
        } if mine(s) => TimelineEntry {
            attempt: Some(*attempt),
            error: answer.is_none().then(|| error.clone()),
            ..at(K::FlowCallAnswered)
        },
        Event::FlowHumanRequested {
            session: s, group, ..
        } if mine(s) => TimelineEntry {
            group_id: Some(*group),
            ..at(K::FlowHumanRequested)
        },
        Event::FlowFinished {
            session: s,
            reply_timeout_secs,
            ..
        } if mine(s) => TimelineEntry {
            secs: Some(*reply_timeout_secs),
            ..at(K::FlowFinished)
        },
        Event::RatingInvited {
            session: s, agent, ..
        } if mine(s) => TimelineEntry {
            agent_id: *agent,
            ..at(K::RatingInvited)
        },
        Event::SessionRated {
            session: s,
            value,
            label,
        } if mine(s) => TimelineEntry {
            value: Some(*value),
            label: Some(label.clone()),
            ..at(K::Rated)
        },
        _ => return None,
    };
    Some(e)
}

/// The timeline of `session` from its envelopes (its own stream's and its conversation's,
/// in any order): the entries in log order (the caller keeps at most [`MAX_TIMELINE_ENTRIES`]).
pub fn entries<'a>(
    session: SessionId,
    envelopes: impl IntoIterator<Item = &'a Envelope>,
) -> Vec<TimelineEntry> {
    let mut out: Vec<TimelineEntry> = envelopes
        .into_iter()
        .filter_map(|env| entry(session, env))
        .collect();
    out.sort_by_key(|e| e.seq);
    out.dedup_by_key(|e| e.seq);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{AppId, ConversationId, StreamId};

    fn env(seq: u64, stream: StreamId, event: Event) -> Envelope {
        Envelope {
            seq,
            at_ms: 1_000 * seq as i64,
            app: AppId(1),
            stream,
            event,
        }
    }

    #[test]
    fn a_session_life_reads_in_log_order_with_its_decision_and_rating() {
        let s = SessionId(7);
        let other = SessionId(8);
        let me = StreamId::session(s);
        let conv = StreamId::conversation(ConversationId(3));
        let decision = RoutingDecision {
            skipped: Skipped {
                offline: 1,
                not_free: 2,
                at_limit: 0,
                excluded: 0,
            },
            refused: vec![crate::domain::routing::Refusal {
                agent: AgentId(4),
                reason: RefuseReason::AtLimit { load: 2, limit: 2 },
            }],
            ..RoutingDecision::direct(RoutingPolicy::default(), 1)
        };
        let log = [
            env(
                6,
                conv,
                Event::SessionRated {
                    session: s,
                    value: 5,
                    label: "good".into(),
                },
            ),
            env(
                1,
                me,
                Event::SessionCreated {
                    channel: ChannelId(2),
                    user: "u1".into(),
                    last_agent: None,
                },
            ),
            env(
                2,
                me,
                Event::SessionQueued {
                    group: GroupId(5),
                    queued_at_ms: 2_000,
                    cause: QueueCause::New,
                },
            ),
            env(
                3,
                me,
                Event::SessionOffered {
                    agent: AgentId(9),
                    group: Some(GroupId(5)),
                    generation: 1,
                    deadline_ms: 30_000,
                    decision,
                },
            ),
            env(4, me, Event::SessionAccepted { agent: AgentId(9) }),
            env(
                5,
                me,
                Event::SessionEnded {
                    close_by: CloseBy::Seat,
                },
            ),
            env(
                7,
                conv,
                Event::SessionRated {
                    session: other,
                    value: 1,
                    label: "bad".into(),
                },
            ),
        ];
        let t = entries(s, &log);
        let kinds: Vec<_> = t.iter().map(|e| e.kind).collect();
        use TimelineKind as K;
        assert_eq!(
            kinds,
            [
                K::Created,
                K::Queued,
                K::Offered,
                K::Accepted,
                K::Ended,
                K::Rated
            ]
        );
        let offered = &t[2];
        assert_eq!(offered.agent_id, Some(AgentId(9)));
        let d = offered.decision.as_ref().unwrap();
        assert_eq!(d.skipped.not_free, 2);
        assert_eq!(d.refused[0].reason, RefusalKind::AtLimit);
        assert_eq!(d.refused[0].limit, Some(2));
        assert_eq!(t[4].close_by, Some(CloseByName::Seat));
        assert_eq!(
            t[5].value,
            Some(5),
            "the other session's rating is not in it"
        );
        let json = serde_json::to_value(offered).unwrap();
        assert_eq!(json["decision"]["skipped"]["notFree"], 2);
        assert_eq!(json["decision"]["rule"], "direct");
        assert_eq!(json["kind"], "offered");
        assert!(json.get("closeBy").is_none(), "unset fields are left out");
    }

    #[test]
    fn flow_steps_of_this_session_are_in_it_and_others_are_not() {
        let s = SessionId(7);
        let conv = StreamId::conversation(ConversationId(3));
        let step = |session, node: &str| Event::FlowStepped {
            session,
            flow: FlowId(2),
            version: 4,
            state: crate::domain::flow::FlowState {
                node: node.into(),
                ..Default::default()
            },
        };
        let log = [
            env(1, conv, step(s, "menu")),
            env(2, conv, step(SessionId(8), "other")),
            env(
                3,
                conv,
                Event::FlowHumanRequested {
                    session: s,
                    group: GroupId(5),
                    queue_message: String::new(),
                    success_message: String::new(),
                },
            ),
        ];
        let t = entries(s, &log);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].kind, TimelineKind::FlowStep);
        assert_eq!(
            (t[0].flow_id, t[0].version, t[0].node.as_deref()),
            (Some(FlowId(2)), Some(4), Some("menu"))
        );
        assert_eq!(t[1].kind, TimelineKind::FlowHumanRequested);
        assert_eq!(t[1].group_id, Some(GroupId(5)));
    }
}
