//! A skill group: its configuration and members (durable), and its queue (rebuilt from the
//! sessions' own streams, which say which sessions wait where since when).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::domain::Rejection;
use crate::domain::event::Event;
use crate::domain::ids::{AgentId, AppId, GroupId, SessionId};
use crate::domain::routing::{Refusal, RoutingDecision, RoutingRequest};

/// Longest group name, in characters.
pub const MAX_GROUP_NAME_CHARS: usize = 64;
/// Highest reception limit: past this, "concurrent" chats are not a person's work.
pub const MAX_RECEPTION_LIMIT: u32 = 100;
/// Highest member priority number (lowest priority).
pub const LOWEST_PRIORITY: u8 = 5;
/// The priority of a member added without one.
pub const DEFAULT_PRIORITY: u8 = 3;
/// How long a session waits in a queue by default before the desk gives up on it: half an
/// hour is past what a person waits for a chat, and it clears sessions nobody will answer.
pub const DEFAULT_MAX_QUEUE_WAIT_SECS: u32 = 30 * 60;
/// Longest queue wait limit that can be set (a day): a chat is not a ticket.
pub const MAX_QUEUE_WAIT_SECS: u32 = 86_400;
/// Shortest queue wait limit other than 0 (off): under a minute nobody could be served.
pub const MIN_QUEUE_WAIT_SECS: u32 = 60;
/// Sessions one group's queue holds by default: far more than real users wait at once, few
/// enough that scripted visitors cannot grow it without bound.
pub const DEFAULT_MAX_QUEUED: u32 = 1_000;
/// Highest queue cap that can be set: a queue is held in memory and scanned on dispatch.
pub const MAX_MAX_QUEUED: u32 = 100_000;
/// Longest queue wait or queue full message, in bytes.
pub const MAX_QUEUE_MESSAGE_BYTES: usize = 1_024;
/// What a user is told when the queue wait limit ends the session, by default.
pub const DEFAULT_QUEUE_WAIT_MESSAGE: &str =
    "Sorry, no agent could take your chat in time. Please write to us again later.";
/// What a user is told when the queue is full, by default.
pub const DEFAULT_QUEUE_FULL_MESSAGE: &str =
    "Sorry, all our agents are busy and the queue is full. Please write to us again later.";

/// How long sessions may wait in a group's queue and how many may wait there at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueueLimits {
    /// Longest wait in the queue, from the entry time (kept across redirects); 0 is off.
    pub max_queue_wait_secs: u32,
    /// Told to the user when the wait limit ends the session.
    pub queue_wait_message: String,
    /// Most sessions waiting in the queue at once.
    pub max_queued: u32,
    /// Told to the user whose session the full queue refused.
    pub queue_full_message: String,
}

impl Default for QueueLimits {
    fn default() -> Self {
        Self {
            max_queue_wait_secs: DEFAULT_MAX_QUEUE_WAIT_SECS,
            queue_wait_message: DEFAULT_QUEUE_WAIT_MESSAGE.to_owned(),
            max_queued: DEFAULT_MAX_QUEUED,
            queue_full_message: DEFAULT_QUEUE_FULL_MESSAGE.to_owned(),
        }
    }
}

impl QueueLimits {
    /// Whether one more session may enter a queue where `waiting` sessions wait.
    pub fn has_room(&self, waiting: usize) -> bool {
        waiting < self.max_queued as usize
    }

    /// When a session that entered the queue at `queued_at_ms` is given up on, if ever.
    pub fn deadline_ms(&self, queued_at_ms: i64) -> Option<i64> {
        (self.max_queue_wait_secs > 0)
            .then(|| queued_at_ms + i64::from(self.max_queue_wait_secs) * 1_000)
    }

    /// Checks every field, naming the one that is wrong.
    pub fn validate(&self) -> Result<(), Rejection> {
        let wait = self.max_queue_wait_secs;
        if wait != 0 && !(MIN_QUEUE_WAIT_SECS..=MAX_QUEUE_WAIT_SECS).contains(&wait) {
            return Err(Rejection::invalid(
                "maxQueueWaitSecs",
                format!(
                    "{wait} is neither 0 (off) nor between {MIN_QUEUE_WAIT_SECS} and {MAX_QUEUE_WAIT_SECS}"
                ),
            ));
        }
        if !(1..=MAX_MAX_QUEUED).contains(&self.max_queued) {
            return Err(Rejection::invalid(
                "maxQueued",
                format!("{} is not between 1 and {MAX_MAX_QUEUED}", self.max_queued),
            ));
        }
        for (field, text) in [
            ("queueWaitMessage", &self.queue_wait_message),
            ("queueFullMessage", &self.queue_full_message),
        ] {
            if text.trim().is_empty() || text.len() > MAX_QUEUE_MESSAGE_BYTES {
                return Err(Rejection::invalid(
                    field,
                    format!(
                        "must be 1 to {MAX_QUEUE_MESSAGE_BYTES} bytes, got {}",
                        text.len()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The limits a `GroupQueueLimitsChanged` event records.
    pub fn of(event: &Event) -> Option<Self> {
        match event {
            Event::GroupQueueLimitsChanged {
                max_queue_wait_secs,
                queue_wait_message,
                max_queued,
                queue_full_message,
            } => Some(Self {
                max_queue_wait_secs: *max_queue_wait_secs,
                queue_wait_message: queue_wait_message.clone(),
                max_queued: *max_queued,
                queue_full_message: queue_full_message.clone(),
            }),
            _ => None,
        }
    }

    /// The event that records these limits.
    pub fn event(&self) -> Event {
        Event::GroupQueueLimitsChanged {
            max_queue_wait_secs: self.max_queue_wait_secs,
            queue_wait_message: self.queue_wait_message.clone(),
            max_queued: self.max_queued,
            queue_full_message: self.queue_full_message.clone(),
        }
    }
}

/// What a group says of its queue to a session asking to enter it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueRoom {
    /// Sessions waiting there now (those being let in included), not counting the asker.
    pub waiting: usize,
    /// The group's limits.
    pub limits: QueueLimits,
}

/// The durable state of a skill group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupState {
    /// The group.
    pub id: GroupId,
    /// Its app.
    pub app: AppId,
    /// Display name.
    pub name: String,
    /// Most sessions one agent serves at once for this group.
    pub reception_limit: u32,
    /// Deleted groups route nothing.
    pub deleted: bool,
    /// Members and their priority, 1 (highest) to 5 (lowest).
    pub members: BTreeMap<AgentId, u8>,
    /// The queue's wait limit and cap (the defaults until first changed).
    pub queue_limits: QueueLimits,
}

/// What can be asked of a group's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupCommand {
    /// Rename.
    Rename(String),
    /// Change the reception limit.
    SetReceptionLimit(u32),
    /// Delete (refused while sessions wait in it: `queued` is how many).
    Delete {
        /// Sessions waiting in the queue now.
        queued: usize,
    },
    /// Add a member with a priority.
    AddMember(AgentId, u8),
    /// Change a member's priority.
    SetPriority(AgentId, u8),
    /// Remove a member.
    RemoveMember(AgentId),
    /// Change the queue's wait limit, cap and messages.
    SetQueueLimits(QueueLimits),
}

impl GroupState {
    /// A group before its `GroupCreated` event.
    pub fn new(id: GroupId, app: AppId) -> Self {
        Self {
            id,
            app,
            name: String::new(),
            reception_limit: 1,
            deleted: false,
            members: BTreeMap::new(),
            queue_limits: QueueLimits::default(),
        }
    }
}

/// Checks a group name.
pub fn validate_name(name: &str) -> Result<(), Rejection> {
    let chars = name.trim().chars().count();
    if chars == 0 || chars > MAX_GROUP_NAME_CHARS {
        return Err(Rejection::invalid(
            "name",
            format!("must be 1 to {MAX_GROUP_NAME_CHARS} characters, got {chars}"),
        ));
    }
    Ok(())
}

/// Checks a reception limit.
pub fn validate_reception_limit(limit: u32) -> Result<(), Rejection> {
    if !(1..=MAX_RECEPTION_LIMIT).contains(&limit) {
        return Err(Rejection::invalid(
            "receptionLimit",
            format!("{limit} is not between 1 and {MAX_RECEPTION_LIMIT}"),
        ));
    }
    Ok(())
}

fn validate_priority(priority: u8) -> Result<(), Rejection> {
    if !(1..=LOWEST_PRIORITY).contains(&priority) {
        return Err(Rejection::invalid(
            "priority",
            format!("{priority} is not between 1 (highest) and {LOWEST_PRIORITY} (lowest)"),
        ));
    }
    Ok(())
}

/// The events that create a group.
pub fn create(name: &str, reception_limit: u32) -> Result<Vec<Event>, Rejection> {
    validate_name(name)?;
    validate_reception_limit(reception_limit)?;
    Ok(vec![Event::GroupCreated {
        name: name.trim().to_owned(),
        reception_limit,
    }])
}

/// Turns a command into events, or refuses it.
pub fn decide(state: &GroupState, command: &GroupCommand, _: &()) -> Result<Vec<Event>, Rejection> {
    if state.deleted {
        return Err(Rejection::NotFound(state.id.to_string()));
    }
    let member = |agent: &AgentId| {
        if state.members.contains_key(agent) {
            Ok(())
        } else {
            Err(Rejection::NotFound(format!("{agent} in {}", state.id)))
        }
    };
    Ok(match command {
        GroupCommand::Rename(name) => {
            validate_name(name)?;
            vec![Event::GroupRenamed {
                name: name.trim().to_owned(),
            }]
        }
        GroupCommand::SetReceptionLimit(limit) => {
            validate_reception_limit(*limit)?;
            vec![Event::GroupReceptionLimitChanged {
                reception_limit: *limit,
            }]
        }
        GroupCommand::Delete { queued } => {
            if *queued > 0 {
                return Err(Rejection::conflict(format_args!(
                    "{} has {queued} sessions waiting: transfer or end them first",
                    state.id
                )));
            }
            vec![Event::GroupDeleted]
        }
        GroupCommand::AddMember(agent, priority) => {
            validate_priority(*priority)?;
            if state.members.contains_key(agent) {
                return Err(Rejection::conflict(format_args!(
                    "{agent} is already in {}",
                    state.id
                )));
            }
            vec![Event::MemberAdded {
                agent: *agent,
                priority: *priority,
            }]
        }
        GroupCommand::SetPriority(agent, priority) => {
            validate_priority(*priority)?;
            member(agent)?;
            vec![Event::MemberPriorityChanged {
                agent: *agent,
                priority: *priority,
            }]
        }
        GroupCommand::RemoveMember(agent) => {
            member(agent)?;
            vec![Event::MemberRemoved { agent: *agent }]
        }
        GroupCommand::SetQueueLimits(limits) => {
            limits.validate()?;
            if *limits == state.queue_limits {
                return Ok(vec![]);
            }
            vec![limits.event()]
        }
    })
}

/// Folds one of the group's own events into its state.
pub fn apply(state: &mut GroupState, event: &Event) {
    match event {
        Event::GroupCreated {
            name,
            reception_limit,
        } => {
            state.name.clone_from(name);
            state.reception_limit = *reception_limit;
        }
        Event::GroupRenamed { name } => state.name.clone_from(name),
        Event::GroupReceptionLimitChanged { reception_limit } => {
            state.reception_limit = *reception_limit
        }
        Event::GroupDeleted => state.deleted = true,
        Event::MemberAdded { agent, priority }
        | Event::MemberPriorityChanged { agent, priority } => {
            debug_assert!((1..=LOWEST_PRIORITY).contains(priority));
            state.members.insert(*agent, *priority);
        }
        Event::MemberRemoved { agent } => {
            state.members.remove(agent);
        }
        Event::GroupQueueLimitsChanged { .. } => {
            if let Some(limits) = QueueLimits::of(event) {
                state.queue_limits = limits;
            }
        }
        _ => debug_assert!(false, "not a group event: {}", event.name()),
    }
}

/// One session waiting in a queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueEntry {
    /// What routing needs to know about the session.
    pub request: RoutingRequest,
    /// The agent asked for a reservation and not yet heard back from.
    pub reserving: Option<AgentId>,
    /// The decision behind the reservation in flight.
    pub decision: Option<RoutingDecision>,
    /// Agents that refused this session so far, for the decision record.
    pub refused: Vec<Refusal>,
}

/// A group's queue: sessions in order of their entry time (kept across redirects, so a
/// redirected session keeps its place), then by id.
#[derive(Clone, Debug, Default)]
pub struct Queue {
    order: BTreeMap<(i64, SessionId), QueueEntry>,
    places: HashMap<SessionId, i64>,
}

impl Queue {
    /// Sessions waiting (including those being reserved).
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Nothing waits.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Puts a session in its place; a session already queued keeps its entry. Returns
    /// whether it was new.
    pub fn enqueue(
        &mut self,
        session: SessionId,
        queued_at_ms: i64,
        request: RoutingRequest,
    ) -> bool {
        if self.places.contains_key(&session) {
            return false;
        }
        self.places.insert(session, queued_at_ms);
        self.order.insert(
            (queued_at_ms, session),
            QueueEntry {
                request,
                reserving: None,
                decision: None,
                refused: Vec::new(),
            },
        );
        true
    }

    /// Whether a session waits here.
    pub fn contains(&self, session: SessionId) -> bool {
        self.places.contains_key(&session)
    }

    /// Takes a session out of the queue.
    pub fn remove(&mut self, session: SessionId) -> Option<QueueEntry> {
        let at = self.places.remove(&session)?;
        self.order.remove(&(at, session))
    }

    /// The entry of a queued session.
    pub fn get_mut(&mut self, session: SessionId) -> Option<&mut QueueEntry> {
        let at = *self.places.get(&session)?;
        self.order.get_mut(&(at, session))
    }

    /// The first waiting session not being reserved, in queue order, after `after` if given.
    pub fn next_waiting(
        &self,
        after: Option<(i64, SessionId)>,
    ) -> Option<((i64, SessionId), &QueueEntry)> {
        use std::ops::Bound::{Excluded, Unbounded};
        let lower = after.map_or(Unbounded, Excluded);
        self.order
            .range((lower, Unbounded))
            .find(|(_, e)| e.reserving.is_none())
            .map(|(k, e)| (*k, e))
    }

    /// Drops every reservation in flight with `agent` (its actor was rebuilt and will not
    /// answer them): those sessions wait to be routed again.
    pub fn forget_reservations_of(&mut self, agent: AgentId) {
        for entry in self
            .order
            .values_mut()
            .filter(|e| e.reserving == Some(agent))
        {
            entry.reserving = None;
            entry.decision = None;
        }
    }

    /// How many sessions wait ahead of `session` (`${WaitNo}`), or None if it is not queued.
    pub fn position(&self, session: SessionId) -> Option<usize> {
        let at = *self.places.get(&session)?;
        Some(self.order.range(..(at, session)).count())
    }

    /// The entry time of the longest-waiting session.
    pub fn oldest_ms(&self) -> Option<i64> {
        self.order.keys().next().map(|(at, _)| *at)
    }

    /// Every waiting session with its entry, in queue order.
    pub fn entries(&self) -> impl Iterator<Item = (SessionId, i64, &QueueEntry)> + '_ {
        self.order.iter().map(|((at, s), e)| (*s, *at, e))
    }

    /// Sessions in queue order.
    pub fn sessions(&self) -> impl Iterator<Item = SessionId> + '_ {
        self.order.keys().map(|(_, s)| *s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::Given;

    fn given(events: &[Event]) -> Given<GroupState, GroupCommand, ()> {
        Given::new(GroupState::new(GroupId(1), AppId(1)), events, apply, decide)
    }

    #[test]
    fn creation_validates_name_and_limit() {
        assert!(create("Pre-sales", 3).is_ok());
        assert_eq!(create("  ", 3).unwrap_err().field(), Some("name"));
        assert_eq!(create("x", 0).unwrap_err().field(), Some("receptionLimit"));
        assert_eq!(
            create("x", 101).unwrap_err().field(),
            Some("receptionLimit")
        );
    }

    #[test]
    fn priority_is_one_to_five() {
        given(&[])
            .when(GroupCommand::AddMember(AgentId(2), 6))
            .then_expect_invalid("priority");
        given(&[])
            .when(GroupCommand::AddMember(AgentId(2), 1))
            .then_expect(&[Event::MemberAdded {
                agent: AgentId(2),
                priority: 1,
            }]);
    }

    #[test]
    fn a_group_with_waiting_sessions_cannot_be_deleted() {
        given(&[])
            .when(GroupCommand::Delete { queued: 2 })
            .then_expect_conflict();
        given(&[])
            .when(GroupCommand::Delete { queued: 0 })
            .then_expect(&[Event::GroupDeleted]);
    }

    #[test]
    fn removing_a_stranger_is_not_found() {
        let r = decide(
            &GroupState::new(GroupId(1), AppId(1)),
            &GroupCommand::RemoveMember(AgentId(9)),
            &(),
        );
        assert!(matches!(r, Err(Rejection::NotFound(_))));
    }

    #[test]
    fn queue_keeps_entry_time_order_and_redirected_sessions_keep_their_place() {
        let mut q = Queue::default();
        q.enqueue(SessionId(1), 100, RoutingRequest::default());
        q.enqueue(SessionId(2), 200, RoutingRequest::default());
        q.enqueue(SessionId(3), 300, RoutingRequest::default());
        let first = q.remove(SessionId(1)).unwrap();
        assert!(first.reserving.is_none());
        assert_eq!(q.position(SessionId(3)), Some(1));
        // Redirected: back with its original entry time, ahead of the others.
        q.enqueue(SessionId(1), 100, RoutingRequest::default());
        assert_eq!(
            q.sessions().collect::<Vec<_>>(),
            [SessionId(1), SessionId(2), SessionId(3)]
        );
        assert!(
            !q.enqueue(SessionId(2), 50, RoutingRequest::default()),
            "already queued"
        );
        q.get_mut(SessionId(1)).unwrap().reserving = Some(AgentId(7));
        assert_eq!(q.next_waiting(None).unwrap().0, (200, SessionId(2)));
        assert_eq!(q.oldest_ms(), Some(100));
    }

    #[test]
    fn queue_limits_are_checked_field_by_field_and_an_unchanged_set_writes_nothing() {
        let with = |f: fn(&mut QueueLimits)| {
            let mut l = QueueLimits::default();
            f(&mut l);
            GroupCommand::SetQueueLimits(l)
        };
        given(&[])
            .when(with(|l| l.max_queue_wait_secs = 59))
            .then_expect_invalid("maxQueueWaitSecs");
        given(&[])
            .when(with(|l| l.max_queue_wait_secs = MAX_QUEUE_WAIT_SECS + 1))
            .then_expect_invalid("maxQueueWaitSecs");
        given(&[])
            .when(with(|l| l.max_queued = 0))
            .then_expect_invalid("maxQueued");
        given(&[])
            .when(with(|l| l.queue_wait_message = " ".into()))
            .then_expect_invalid("queueWaitMessage");
        given(&[])
            .when(with(|l| {
                l.queue_full_message = "x".repeat(MAX_QUEUE_MESSAGE_BYTES + 1)
            }))
            .then_expect_invalid("queueFullMessage");
        given(&[])
            .when(GroupCommand::SetQueueLimits(QueueLimits::default()))
            .then_expect(&[]);
        let off = QueueLimits {
            max_queue_wait_secs: 0,
            max_queued: 2,
            ..QueueLimits::default()
        };
        given(&[])
            .when(GroupCommand::SetQueueLimits(off.clone()))
            .then_expect(&[off.event()]);
        let mut state = GroupState::new(GroupId(1), AppId(1));
        apply(&mut state, &off.event());
        assert_eq!(state.queue_limits, off);
        assert_eq!(off.deadline_ms(1_000), None, "0 is off");
        assert_eq!(QueueLimits::default().deadline_ms(1_000), Some(1_801_000));
    }

    #[test]
    fn a_queue_has_room_below_its_cap_only() {
        let l = QueueLimits {
            max_queued: 2,
            ..QueueLimits::default()
        };
        assert!(l.has_room(0) && l.has_room(1));
        assert!(!l.has_room(2) && !l.has_room(3));
    }

    proptest::proptest! {
        /// Sessions let in only when `has_room` says so never grow a queue past its cap,
        /// whatever mix of arrivals, departures and cap changes comes.
        #[test]
        fn an_admitted_queue_never_holds_more_than_max_queued(
            ops in proptest::collection::vec((0u8..3, 1u32..6), 1..200)
        ) {
            let mut q = Queue::default();
            let mut limits = QueueLimits { max_queued: 3, ..QueueLimits::default() };
            let mut next = 0u64;
            for (op, n) in ops {
                match op {
                    0 => {
                        next += 1;
                        let before = q.len();
                        if limits.has_room(before) {
                            q.enqueue(SessionId(next), next as i64, RoutingRequest::default());
                        }
                        // Never grown past the cap (a lowered cap only stops growth).
                        let cap = limits.max_queued as usize;
                        proptest::prop_assert!(q.len() <= cap.max(before));
                    }
                    1 => {
                        let first = q.sessions().next();
                        if let Some(first) = first {
                            q.remove(first);
                        }
                    }
                    _ => {
                        // Lowering the cap refuses newcomers; those waiting stay.
                        let before = q.len();
                        limits.max_queued = n;
                        proptest::prop_assert_eq!(q.len(), before);
                    }
                }
            }
        }
    }
}
