//! The service records as a fold of the log: one [`Record`] per session, and which of its
//! conversation's messages belong to it. Pure: [`Projection::apply`] takes one envelope and
//! says what changed ([`Change`]), so the search index (the shell in `tail.rs`) can follow
//! without reading the log a second time.
//!
//! A session and its messages live on two streams: the session's own (queueing, agents,
//! end) and its conversation's (the messages between the user and the channel). They meet
//! on the user: a conversation is one user on one channel, and at most one session of that
//! user on that channel is live at a time. A stored message belongs to
//!
//! - the live session of its conversation, if there is one;
//! - otherwise, when the desk wrote it, the session that ended last (the satisfaction
//!   invitation and the thanks after a rating come after the end);
//! - otherwise (a user writing while no session is live, which is how a session starts) the
//!   next session of the conversation, once it opens.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rustc_hash::FxHashMap;

use crate::domain::conversation::{Message, Sender};
use crate::domain::event::{CloseBy, Envelope, Event};
use crate::domain::ids::{
    AgentId, AppId, ChannelId, ConversationId, GroupId, SessionId, StreamKind, UserKey,
};
use crate::records::text;

/// Most messages a conversation keeps waiting for its next session. A user who writes
/// while no session can open (the channel has no skill group) should not grow the
/// projection without bound; the session that finally opens gets the latest ones.
pub const MAX_PENDING_MESSAGES: usize = 256;

/// What a user gave a session, from the satisfaction menu (src 10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Satisfaction {
    /// The level's value.
    pub value: u8,
    /// The level's label.
    pub label: String,
}

/// One session as the service records show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The app.
    pub app: AppId,
    /// The session.
    pub session: SessionId,
    /// The conversation its messages are in (none for a session opened without one).
    pub conversation: Option<ConversationId>,
    /// The user.
    pub user: String,
    /// The channel the user wrote to.
    pub channel: ChannelId,
    /// The skill groups it queued in, in order, each once: the first is the one it came in by,
    /// the others it was transferred to.
    pub groups: Vec<GroupId>,
    /// The agents who served it, in order (an agent serving it twice in a row counts once).
    pub agents: Vec<AgentId>,
    /// When it opened, ms since the epoch.
    pub created_at_ms: i64,
    /// The log seq of its opening (a search index that covers the log to an earlier seq
    /// cannot hold it yet).
    pub created_seq: u64,
    /// When it first entered a queue.
    pub queued_at_ms: Option<i64>,
    /// When an agent first took it (accepted, assigned under auto reception, or the start
    /// of a session the agent began itself: the `SessionStartedByAgent` event's time).
    pub accepted_at_ms: Option<i64>,
    /// When it ended.
    pub ended_at_ms: Option<i64>,
    /// Who ended it.
    pub close_by: Option<CloseBy>,
    /// The user's rating.
    pub satisfaction: Option<Satisfaction>,
    /// How many times an agent handed it on.
    pub transfers: u32,
    /// The conversation's message seqs that belong to it, as sorted, disjoint, inclusive
    /// ranges (almost always one).
    pub messages: Vec<(u64, u64)>,
}

impl Record {
    fn new(env: &Envelope, session: SessionId, channel: ChannelId, user: &str) -> Self {
        Self {
            app: env.app,
            session,
            conversation: None,
            user: user.to_owned(),
            channel,
            groups: Vec::new(),
            agents: Vec::new(),
            created_at_ms: env.at_ms,
            created_seq: env.seq,
            queued_at_ms: None,
            accepted_at_ms: None,
            ended_at_ms: None,
            close_by: None,
            satisfaction: None,
            transfers: 0,
            messages: Vec::new(),
        }
    }

    /// The skill group it came in by.
    pub fn group(&self) -> Option<GroupId> {
        self.groups.first().copied()
    }

    /// Time from first entering a queue until an agent first took it; for a session that
    /// ended before any agent took it, until its end (how long the user waited in vain).
    /// None while it still waits, or when it never queued.
    pub fn queue_wait_ms(&self) -> Option<u64> {
        let queued = self.queued_at_ms?;
        let until = self.accepted_at_ms.or(self.ended_at_ms)?;
        Some(until.saturating_sub(queued).max(0) as u64)
    }

    /// Time from an agent first taking it until its end (transfers included). None while
    /// it is served, or when no agent ever took it.
    pub fn handle_time_ms(&self) -> Option<u64> {
        let accepted = self.accepted_at_ms?;
        let ended = self.ended_at_ms?;
        Some(ended.saturating_sub(accepted).max(0) as u64)
    }

    /// How many stored messages belong to it.
    pub fn message_count(&self) -> u64 {
        self.messages.iter().map(|(a, b)| b - a + 1).sum()
    }

    /// Its messages' seqs, in order.
    pub fn seqs(&self) -> impl Iterator<Item = u64> + '_ {
        self.messages.iter().flat_map(|&(a, b)| a..=b)
    }

    /// Whether `agent` served it.
    pub fn served_by(&self, agent: AgentId) -> bool {
        self.agents.contains(&agent)
    }

    /// Adds a message seq, keeping the ranges sorted and disjoint.
    fn add_seq(&mut self, seq: u64) {
        match self.messages.last_mut() {
            Some((_, last)) if *last + 1 == seq => *last = seq,
            Some((_, last)) if *last >= seq => {
                // Out of order (a pending message attached late): rare, so rebuild.
                let mut all: BTreeSet<u64> = self.seqs().collect();
                all.insert(seq);
                self.messages = ranges(all);
            }
            _ => self.messages.push((seq, seq)),
        }
    }
}

/// Sorted seqs as inclusive ranges.
fn ranges(seqs: BTreeSet<u64>) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for seq in seqs {
        match out.last_mut() {
            Some((_, last)) if *last + 1 == seq => *last = seq,
            _ => out.push((seq, seq)),
        }
    }
    out
}

/// An offer waiting for its agent's answer, and why that agent: monitoring's "why this
/// agent". Kept here because the decision is only in the log's `SessionOffered`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveOffer {
    /// The app.
    pub app: AppId,
    /// The session.
    pub session: SessionId,
    /// The agent offered.
    pub agent: AgentId,
    /// The group that routed it (none for a transfer to a named agent).
    pub group: Option<GroupId>,
    /// When it was offered, ms since the epoch.
    pub offered_at_ms: i64,
    /// When the countdown ends.
    pub deadline_ms: i64,
    /// Why this agent.
    pub decision: crate::domain::routing::RoutingDecision,
}

/// What an envelope changed, for the search index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A record's indexed fields (groups, agents) may have changed.
    Record(SessionId),
    /// A message with searchable text now belongs to a session.
    Text {
        /// The session.
        session: SessionId,
        /// The message's seq in its conversation.
        seq: u64,
        /// Its searchable text.
        text: String,
    },
}

/// A user on a channel: their conversation, their live session and what waits for the next.
#[derive(Clone, Debug, Default)]
struct Link {
    conversation: Option<ConversationId>,
    live: Option<SessionId>,
    last_ended: Option<SessionId>,
    /// Messages stored while no session was live: (seq, searchable text).
    pending: VecDeque<(u64, String)>,
}

/// Every session's record, folded from the log.
#[derive(Clone, Debug, Default)]
pub struct Projection {
    records: FxHashMap<SessionId, Record>,
    /// Records by app and start, for listing newest first.
    by_start: BTreeSet<(AppId, i64, SessionId)>,
    links: FxHashMap<(AppId, UserKey), Link>,
    conversations: FxHashMap<ConversationId, (AppId, UserKey)>,
    /// Sessions by conversation: who may fetch a conversation's attachments is decided by
    /// its sessions' records, without walking the app's.
    by_conversation: BTreeSet<(ConversationId, SessionId)>,
    /// Offers not answered yet, by session (a handful at any time).
    offers: BTreeMap<SessionId, LiveOffer>,
    last_seq: u64,
}

impl Projection {
    /// The last seq folded in (0 before any).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// How many records there are.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// One session's record.
    pub fn get(&self, session: SessionId) -> Option<&Record> {
        self.records.get(&session)
    }

    /// An app's offers waiting for their agents' answers, by session.
    pub fn live_offers(&self, app: AppId) -> impl Iterator<Item = &LiveOffer> + '_ {
        self.offers.values().filter(move |o| o.app == app)
    }

    /// The records of `conversation`'s sessions, oldest session first.
    pub fn of_conversation(
        &self,
        conversation: ConversationId,
    ) -> impl Iterator<Item = &Record> + '_ {
        self.by_conversation
            .range((conversation, SessionId(0))..=(conversation, SessionId(u64::MAX)))
            .filter_map(|(_, s)| self.records.get(s))
    }

    /// An app's records, newest first by start (ties by session id, highest first), from
    /// those that started before `before` (exclusive: `(created_at_ms, session)`), within
    /// `[from_ms, to_ms)`.
    pub fn newest_first(
        &self,
        app: AppId,
        from_ms: i64,
        to_ms: i64,
        before: Option<(i64, SessionId)>,
    ) -> impl Iterator<Item = &Record> + '_ {
        let low = (app, from_ms, SessionId(0));
        let high = match before {
            Some((at, s)) if (at, s) < (to_ms, SessionId(0)) => (app, at, s),
            _ => (app, to_ms, SessionId(0)),
        };
        let range = if low < high {
            Some(self.by_start.range(low..high))
        } else {
            None
        };
        range
            .into_iter()
            .flatten()
            .rev()
            .filter_map(|(_, _, s)| self.records.get(s))
    }

    /// Folds one envelope in, pushing what changed onto `changes`.
    pub fn apply(&mut self, env: &Envelope, changes: &mut Vec<Change>) {
        debug_assert!(env.seq > self.last_seq, "envelopes fold in sequence order");
        self.last_seq = env.seq;
        match env.stream.kind {
            StreamKind::Session => self.apply_session(env, SessionId(env.stream.id), changes),
            StreamKind::Conversation => {
                self.apply_conversation(env, ConversationId(env.stream.id), changes)
            }
            StreamKind::App | StreamKind::Agent | StreamKind::Group => {}
        }
    }

    fn apply_session(&mut self, env: &Envelope, session: SessionId, changes: &mut Vec<Change>) {
        match &env.event {
            Event::SessionOffered {
                agent,
                group,
                deadline_ms,
                decision,
                ..
            } => {
                let offer = LiveOffer {
                    app: env.app,
                    session,
                    agent: *agent,
                    group: *group,
                    offered_at_ms: env.at_ms,
                    deadline_ms: *deadline_ms,
                    decision: decision.clone(),
                };
                self.offers.insert(session, offer);
            }
            // Overdue offers stay with their agent; anything else that moves the session
            // ends the offer.
            Event::SessionAccepted { .. }
            | Event::SessionAssigned { .. }
            | Event::SessionOfferMissed { .. }
            | Event::SessionTransferred { .. }
            | Event::SessionQueued { .. }
            | Event::SessionEnded { .. } => {
                self.offers.remove(&session);
            }
            _ => {}
        }
        if let Event::SessionCreated { channel, user, .. } = &env.event {
            self.open(env, session, *channel, user, changes);
            return;
        }
        let Some(record) = self.records.get_mut(&session) else {
            // A session whose start this log does not hold: nothing to record it in.
            return;
        };
        match &env.event {
            Event::SessionQueued {
                group,
                queued_at_ms,
                ..
            } => {
                if !record.groups.contains(group) {
                    record.groups.push(*group);
                    changes.push(Change::Record(session));
                }
                record.queued_at_ms.get_or_insert(*queued_at_ms);
            }
            // A proactive start is the agent taking it: accepted when it started.
            Event::SessionAssigned { agent, .. }
            | Event::SessionAccepted { agent }
            | Event::SessionStartedByAgent { agent, .. } => {
                if record.agents.last() != Some(agent) {
                    record.agents.push(*agent);
                    changes.push(Change::Record(session));
                }
                record.accepted_at_ms.get_or_insert(env.at_ms);
            }
            Event::SessionTransferred { .. } => record.transfers += 1,
            Event::SessionEnded { close_by } => {
                record.ended_at_ms = Some(env.at_ms);
                record.close_by = Some(*close_by);
                let key = (record.app, UserKey::of(record.channel, &record.user));
                let link = self.links.entry(key).or_default();
                if link.live == Some(session) {
                    link.live = None;
                }
                link.last_ended = Some(session);
            }
            _ => {}
        }
    }

    fn open(
        &mut self,
        env: &Envelope,
        session: SessionId,
        channel: ChannelId,
        user: &str,
        changes: &mut Vec<Change>,
    ) {
        let mut record = Record::new(env, session, channel, user);
        let link = self
            .links
            .entry((env.app, UserKey::of(channel, user)))
            .or_default();
        // The user end keeps one live session per user and channel; should another open
        // (the engine driven directly), the newest takes the user's messages.
        link.live = Some(session);
        record.conversation = link.conversation;
        if let Some(conversation) = record.conversation {
            self.by_conversation.insert((conversation, session));
        }
        for (seq, text) in link.pending.drain(..) {
            record.add_seq(seq);
            if !text.is_empty() {
                changes.push(Change::Text { session, seq, text });
            }
        }
        changes.push(Change::Record(session));
        if let Some(old) = self.records.insert(session, record) {
            // The same session created twice: keep the first start in the ordering.
            self.by_start.remove(&(old.app, old.created_at_ms, session));
        }
        self.by_start.insert((env.app, env.at_ms, session));
    }

    fn apply_conversation(
        &mut self,
        env: &Envelope,
        conversation: ConversationId,
        changes: &mut Vec<Change>,
    ) {
        match &env.event {
            Event::ConversationOpened { channel, user } => {
                let key = (env.app, UserKey::of(*channel, user));
                self.conversations.insert(conversation, key);
                let link = self.links.entry(key).or_default();
                link.conversation = Some(conversation);
                if let Some((s, r)) = link.live.and_then(|s| Some((s, self.records.get_mut(&s)?))) {
                    let owned = *r.conversation.get_or_insert(conversation);
                    self.by_conversation.insert((owned, s));
                }
            }
            Event::MessageStored { message } => self.store(conversation, message, changes),
            Event::SessionRated {
                session,
                value,
                label,
            } => {
                if let Some(r) = self.records.get_mut(session) {
                    r.satisfaction = Some(Satisfaction {
                        value: *value,
                        label: label.clone(),
                    });
                }
            }
            _ => {}
        }
    }

    fn store(
        &mut self,
        conversation: ConversationId,
        message: &Message,
        changes: &mut Vec<Change>,
    ) {
        let Some(key) = self.conversations.get(&conversation) else {
            return;
        };
        let Some(link) = self.links.get_mut(key) else {
            return;
        };
        let owner = match (link.live, message.sender) {
            (Some(live), _) => Some(live),
            (None, Sender::Desk { .. }) => link.last_ended,
            (None, Sender::User) => None,
        };
        let text = text::searchable(&message.body);
        let Some(record) = owner.and_then(|s| self.records.get_mut(&s)) else {
            if link.pending.len() == MAX_PENDING_MESSAGES {
                link.pending.pop_front();
            }
            link.pending.push_back((message.seq, text));
            return;
        };
        record.add_seq(message.seq);
        if !text.is_empty() {
            changes.push(Change::Text {
                session: record.session,
                seq: message.seq,
                text,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::conversation::Body;
    use crate::domain::event::{QueueCause, TransferTarget};
    use crate::domain::ids::StreamId;
    use crate::domain::routing::RoutingDecision;
    use crate::records::corpus::{self, Spec};

    const APP: AppId = AppId(1);
    const CHANNEL: ChannelId = ChannelId(5);
    const CONV: ConversationId = ConversationId(50);
    const G1: GroupId = GroupId(10);
    const G2: GroupId = GroupId(11);
    const A: AgentId = AgentId(20);
    const B: AgentId = AgentId(21);

    /// A log written step by step: each step is (at_ms, stream, event).
    #[derive(Default)]
    struct History {
        envelopes: Vec<Envelope>,
        seq: u64,
        conversation_seq: u64,
    }

    impl History {
        fn at(&mut self, at_ms: i64, stream: StreamId, event: Event) -> &mut Self {
            self.seq += 1;
            self.envelopes.push(Envelope {
                seq: self.seq,
                at_ms,
                app: APP,
                stream,
                event,
            });
            self
        }

        fn session(&mut self, at_ms: i64, s: u64, event: Event) -> &mut Self {
            self.at(at_ms, StreamId::session(SessionId(s)), event)
        }

        fn says(&mut self, at_ms: i64, sender: Sender, text: &str) -> &mut Self {
            self.conversation_seq += 1;
            let message = Message {
                seq: self.conversation_seq,
                msg_id: format!("m{}", self.conversation_seq),
                sender,
                at_ms,
                body: Body::Text {
                    text: text.to_owned(),
                },
            };
            self.at(
                at_ms,
                StreamId::conversation(CONV),
                Event::MessageStored { message },
            )
        }

        fn opened(&mut self) -> &mut Self {
            self.at(
                0,
                StreamId::conversation(CONV),
                Event::ConversationOpened {
                    channel: CHANNEL,
                    user: "u1".into(),
                },
            )
        }

        fn created(&mut self, at_ms: i64, s: u64) -> &mut Self {
            self.session(
                at_ms,
                s,
                Event::SessionCreated {
                    channel: CHANNEL,
                    user: "u1".into(),
                    last_agent: None,
                },
            )
        }

        fn queued(&mut self, at_ms: i64, s: u64, group: GroupId) -> &mut Self {
            self.session(
                at_ms,
                s,
                Event::SessionQueued {
                    group,
                    queued_at_ms: at_ms,
                    cause: QueueCause::New,
                },
            )
        }

        fn assigned(&mut self, at_ms: i64, s: u64, agent: AgentId, group: GroupId) -> &mut Self {
            self.session(
                at_ms,
                s,
                Event::SessionAssigned {
                    agent,
                    group: Some(group),
                    decision: RoutingDecision::direct(Default::default(), 0),
                },
            )
        }

        fn ended(&mut self, at_ms: i64, s: u64, close_by: CloseBy) -> &mut Self {
            self.session(at_ms, s, Event::SessionEnded { close_by })
        }

        fn fold(&self) -> (Projection, Vec<Change>) {
            let mut p = Projection::default();
            let mut changes = Vec::new();
            for env in &self.envelopes {
                p.apply(env, &mut changes);
            }
            (p, changes)
        }
    }

    const AGENT_A: Sender = Sender::Desk { agent: Some(A) };
    const SYSTEM: Sender = Sender::Desk { agent: None };

    #[test]
    fn an_offer_is_live_from_its_event_until_the_session_moves_on() {
        let offered = |agent| Event::SessionOffered {
            agent,
            group: Some(G1),
            generation: 1,
            deadline_ms: 30_000,
            decision: RoutingDecision::direct(Default::default(), 0),
        };
        let mut h = History::default();
        h.created(1_000, 1)
            .queued(1_000, 1, G1)
            .session(2_000, 1, offered(A));
        let (p, _) = h.fold();
        let live: Vec<_> = p
            .live_offers(APP)
            .map(|o| (o.session, o.agent, o.offered_at_ms))
            .collect();
        assert_eq!(live, [(SessionId(1), A, 2_000)]);
        assert_eq!(p.live_offers(AppId(2)).count(), 0, "another app's");
        h.session(
            3_000,
            1,
            Event::SessionOfferOverdue {
                agent: A,
                generation: 1,
            },
        );
        assert_eq!(
            h.fold().0.live_offers(APP).count(),
            1,
            "overdue offers stay"
        );
        h.session(4_000, 1, Event::SessionAccepted { agent: A });
        assert_eq!(h.fold().0.live_offers(APP).count(), 0);
        h.created(5_000, 2)
            .session(6_000, 2, offered(B))
            .ended(7_000, 2, CloseBy::Client);
        assert_eq!(
            h.fold().0.live_offers(APP).count(),
            0,
            "ended while offered"
        );
    }

    #[test]
    fn a_session_owns_the_message_that_opened_it_and_the_rating_after_its_end() {
        let mut h = History::default();
        h.opened()
            .says(1_000, Sender::User, "hello")
            .created(1_001, 1)
            .queued(1_001, 1, G1)
            .assigned(4_000, 1, A, G1)
            .says(5_000, AGENT_A, "how can I help")
            .ended(9_000, 1, CloseBy::Seat)
            .says(9_000, SYSTEM, "please rate")
            .at(
                9_500,
                StreamId::conversation(CONV),
                Event::SessionRated {
                    session: SessionId(1),
                    value: 5,
                    label: "Great".into(),
                },
            )
            .says(9_500, SYSTEM, "thanks")
            .says(20_000, Sender::User, "me again")
            .created(20_001, 2);
        let (p, _) = h.fold();
        let first = p.get(SessionId(1)).unwrap();
        assert_eq!(first.messages, [(1, 4)]);
        assert_eq!(first.conversation, Some(CONV));
        assert_eq!(first.close_by, Some(CloseBy::Seat));
        assert_eq!(
            first.satisfaction,
            Some(Satisfaction {
                value: 5,
                label: "Great".into()
            })
        );
        assert_eq!(
            (first.queue_wait_ms(), first.handle_time_ms()),
            (Some(2_999), Some(5_000))
        );
        assert_eq!(first.agents, [A]);
        assert_eq!(first.groups, [G1]);
        let second = p.get(SessionId(2)).unwrap();
        assert_eq!(
            second.messages,
            [(5, 5)],
            "the user's new words open the next session"
        );
        assert_eq!(second.ended_at_ms, None);
    }

    #[test]
    fn transfers_keep_every_group_and_agent_in_order() {
        let mut h = History::default();
        h.opened()
            .created(0, 1)
            .queued(0, 1, G1)
            .assigned(10, 1, A, G1)
            .session(
                20,
                1,
                Event::SessionTransferred {
                    from: A,
                    to: TransferTarget::Group(G2),
                },
            )
            .session(
                20,
                1,
                Event::SessionQueued {
                    group: G2,
                    queued_at_ms: 20,
                    cause: QueueCause::Transfer { from: A },
                },
            )
            .assigned(30, 1, B, G2)
            .session(
                40,
                1,
                Event::SessionTransferred {
                    from: B,
                    to: TransferTarget::Agent(A),
                },
            )
            .session(50, 1, Event::SessionAccepted { agent: A })
            .ended(60, 1, CloseBy::Client);
        let (p, changes) = h.fold();
        let r = p.get(SessionId(1)).unwrap();
        assert_eq!(r.groups, [G1, G2]);
        assert_eq!(r.agents, [A, B, A]);
        assert_eq!(r.transfers, 2);
        assert_eq!(
            (r.queue_wait_ms(), r.handle_time_ms()),
            (Some(10), Some(50))
        );
        assert!(r.served_by(B) && !r.served_by(AgentId(99)));
        let touched = changes
            .iter()
            .filter(|c| **c == Change::Record(SessionId(1)))
            .count();
        assert_eq!(touched, 1 + 2 + 3, "opened, two groups, three agents");
    }

    #[test]
    fn a_session_nobody_took_waited_until_its_end() {
        let mut h = History::default();
        h.opened()
            .created(0, 1)
            .queued(100, 1, G1)
            .ended(700, 1, CloseBy::Client);
        let (p, _) = h.fold();
        let r = p.get(SessionId(1)).unwrap();
        assert_eq!((r.queue_wait_ms(), r.handle_time_ms()), (Some(600), None));
        assert_eq!(r.message_count(), 0);
    }

    #[test]
    fn a_session_the_queue_wait_limit_ended_is_timer_closed_and_abandoned() {
        let mut h = History::default();
        h.opened().created(0, 1).queued(100, 1, G1);
        h.session(
            1_800_100,
            1,
            Event::SessionQueueTimedOut {
                group: G1,
                message: "sorry".into(),
            },
        )
        .ended(1_800_100, 1, CloseBy::Timer);
        let (p, _) = h.fold();
        let r = p.get(SessionId(1)).unwrap();
        assert_eq!(r.close_by, Some(CloseBy::Timer));
        assert_eq!(r.queue_wait_ms(), Some(1_800_000));
        let settings = crate::records::analysis::Settings::new(
            jiff::tz::TimeZone::UTC,
            jiff::civil::date(1970, 1, 1),
            jiff::civil::date(1970, 1, 1),
            20_000,
            None,
            crate::domain::directory::Scope::All,
        )
        .unwrap();
        let t = crate::records::analysis::report(&settings, [r]).total;
        assert_eq!((t.queued, t.answered, t.abandoned, t.waiting), (1, 0, 1, 0));
        assert_eq!(t.avg_abandoned_wait_ms, Some(1_800_000));
    }

    #[test]
    fn messages_waiting_for_a_session_are_capped() {
        let mut h = History::default();
        h.opened();
        for i in 0..(MAX_PENDING_MESSAGES as i64 + 10) {
            h.says(i, Sender::User, "anyone?");
        }
        h.created(10_000, 1);
        let (p, changes) = h.fold();
        let r = p.get(SessionId(1)).unwrap();
        assert_eq!(r.message_count(), MAX_PENDING_MESSAGES as u64);
        assert_eq!(
            r.messages,
            [(11, MAX_PENDING_MESSAGES as u64 + 10)],
            "the latest kept"
        );
        let texts = changes
            .iter()
            .filter(|c| matches!(c, Change::Text { .. }))
            .count();
        assert_eq!(texts, MAX_PENDING_MESSAGES);
    }

    #[test]
    fn events_of_a_session_the_log_never_opened_are_ignored() {
        let mut h = History::default();
        h.queued(0, 9, G1).ended(1, 9, CloseBy::Admin);
        let (p, changes) = h.fold();
        assert!(p.is_empty() && changes.is_empty());
    }

    #[test]
    fn late_and_out_of_order_seqs_stay_sorted_ranges() {
        let mut r = Record::new(
            &Envelope {
                seq: 1,
                at_ms: 0,
                app: APP,
                stream: StreamId::session(SessionId(1)),
                event: Event::SessionEnded {
                    close_by: CloseBy::Admin,
                },
            },
            SessionId(1),
            CHANNEL,
            "u",
        );
        for seq in [3, 4, 5, 9, 1, 2, 7] {
            r.add_seq(seq);
        }
        assert_eq!(r.messages, [(1, 5), (7, 7), (9, 9)]);
        assert_eq!(r.seqs().collect::<Vec<_>>(), [1, 2, 3, 4, 5, 7, 9]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Whatever the history, every session's record says what the generator did: its
        /// groups and agents in order, its messages, its end and its rating; and the text the
        /// index hears for it holds exactly its transcript's words.
        #[test]
        fn records_match_what_happened(seed in proptest::prelude::any::<u64>(), sessions in 1usize..120) {
            let corpus = corpus::generate(&Spec::of(seed, sessions));
            let mut p = Projection::default();
            let mut changes = Vec::new();
            for env in &corpus.envelopes {
                p.apply(env, &mut changes);
            }
            proptest::prop_assert_eq!(p.len(), corpus.truth.len());
            let mut words: FxHashMap<SessionId, BTreeSet<String>> = FxHashMap::default();
            for change in &changes {
                if let Change::Text { session, text, .. } = change {
                    words.entry(*session).or_default().extend(text::terms(text));
                }
            }
            for t in &corpus.truth {
                let r = p.get(t.session).unwrap();
                proptest::prop_assert_eq!(r.app, t.app);
                proptest::prop_assert_eq!(r.conversation, Some(t.conversation));
                proptest::prop_assert_eq!(r.created_at_ms, t.created_at_ms);
                proptest::prop_assert_eq!(&r.groups, &t.groups);
                proptest::prop_assert_eq!(&r.agents, &t.agents);
                proptest::prop_assert_eq!(r.seqs().collect::<Vec<_>>(), t.seqs.clone());
                proptest::prop_assert_eq!(r.close_by, Some(t.close_by));
                proptest::prop_assert_eq!(
                    r.satisfaction.as_ref().map(|s| (s.value, s.label.clone())),
                    t.rating.clone()
                );
                proptest::prop_assert!(r.queue_wait_ms().is_some());
                proptest::prop_assert_eq!(r.handle_time_ms().is_some(), !t.agents.is_empty());
                proptest::prop_assert_eq!(words.remove(&t.session).unwrap_or_default(), t.words.clone());
            }
            // The conversation index names exactly each conversation's sessions.
            let mut of: FxHashMap<ConversationId, BTreeSet<SessionId>> = FxHashMap::default();
            for t in &corpus.truth {
                of.entry(t.conversation).or_default().insert(t.session);
            }
            for (conversation, sessions) in &of {
                let indexed: BTreeSet<SessionId> = p.of_conversation(*conversation).map(|r| r.session).collect();
                proptest::prop_assert_eq!(&indexed, sessions);
            }
        }
    }
}
