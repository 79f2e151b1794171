//! What the engine's actors record, in the domain's words: each actor keeps one of these
//! beside its state and hands it every event it applies. The group's actor publishes its
//! queue, an agent's actor moves its agent between statuses, a session's actor counts
//! offers, accepts, timeouts, redirects, transfers and abandons and times waits and
//! service.
//!
//! Contributions to gauges (an agent's status, a session in service) live in these
//! values: when an actor stops or fails, dropping its state takes them back, and the
//! actor rebuilt from the log adds them again from the state it replays. (ractor drops a
//! failed actor's state just after telling the supervisor, so for a moment during a
//! rebuild the old and the new contribution may both be counted.)
//!
//! Recording is a few atomic operations on a cell the actor already holds: no lock, no
//! allocation, no map lookup, except when a session first counts in a group (one read
//! lock, once per session and group) and when an agent joins a group.

use std::sync::Arc;

use crate::domain::agent::AgentState;
use crate::domain::event::{AgentStatus, CloseBy, Event, MissCause, QueueCause};
use crate::domain::group::Queue;
use crate::domain::ids::{AppId, GroupId};
use crate::domain::session::{Phase, SessionState};

use super::LiveStats;
use super::cell::{AppStats, GroupStats};
use super::queue::QueueSnapshot;
use super::status::StatusKind;

/// Milliseconds from `from_ms` to `to_ms`, none before (a clock set back).
fn elapsed_ms(from_ms: i64, to_ms: i64) -> u64 {
    u64::try_from(to_ms.saturating_sub(from_ms)).unwrap_or(0)
}

// ---- the group's queue ----

/// A group actor's handle on its cell: publishes the queue pair when it changes.
#[derive(Debug, Default)]
pub struct QueueStats {
    cell: Option<Arc<GroupStats>>,
    /// The word last published by this actor; none yet, so a rebuilt actor's first
    /// publish replaces what its failed predecessor left.
    published: Option<u64>,
}

impl QueueStats {
    /// Opens the group's cell (none for a deleted group or when recording is off).
    pub fn open(live: &LiveStats, app: AppId, group: GroupId, deleted: bool) -> Self {
        Self {
            cell: if deleted {
                None
            } else {
                live.open_group(app, group)
            },
            published: None,
        }
    }

    /// Publishes the queue's length and oldest entry time, if they changed.
    #[inline]
    pub fn publish(&mut self, queue: &Queue) {
        let Some(cell) = &self.cell else {
            return;
        };
        let (len, oldest) = (queue.len() as u64, queue.oldest_ms().unwrap_or(0));
        if self.published != Some(QueueSnapshot::pack(len, oldest)) {
            self.published = Some(cell.queue.publish(len, oldest));
        }
    }

    /// The full queue refused a session or a transfer.
    pub fn refused_full(&self) {
        if let Some(cell) = &self.cell {
            cell.queue_full_refusals.inc();
        }
    }

    /// The group was deleted: its series go.
    pub fn close(&mut self, live: &LiveStats, app: AppId, group: GroupId) {
        self.cell = None;
        live.close_group(app, group);
    }
}

// ---- an agent's status ----

/// The status an agent is counted under; none once deleted.
pub fn status_of(agent: &AgentState) -> Option<StatusKind> {
    if agent.deleted {
        return None;
    }
    Some(match agent.status {
        AgentStatus::Free => StatusKind::Free,
        AgentStatus::Busy => StatusKind::Busy,
        AgentStatus::Rest { .. } => StatusKind::Rest,
        AgentStatus::Arrange => StatusKind::Arrange,
        AgentStatus::NotReady => StatusKind::NotReady,
        AgentStatus::Offline => StatusKind::Offline,
    })
}

/// An agent actor's contribution to its app's and its groups' status counts.
#[derive(Debug, Default)]
pub struct AgentStats {
    counted: Option<StatusKind>,
    app: Option<Arc<AppStats>>,
    groups: Vec<(GroupId, Arc<GroupStats>)>,
}

impl AgentStats {
    /// Counts `agent` in its app and in `groups` (those it belongs to).
    pub fn new(
        live: &LiveStats,
        agent: &AgentState,
        groups: impl Iterator<Item = GroupId>,
    ) -> Self {
        let mut stats = Self {
            counted: status_of(agent),
            app: live.app(agent.app),
            groups: Vec::new(),
        };
        if let (Some(status), Some(app)) = (stats.counted, &stats.app) {
            app.agents.add(status);
        }
        for group in groups {
            stats.join(live, agent.app, group);
        }
        stats
    }

    /// Moves the agent to the status `agent` now has.
    pub fn update(&mut self, agent: &AgentState) {
        let now = status_of(agent);
        if now == self.counted {
            return;
        }
        let cells = self
            .app
            .iter()
            .map(|a| &a.agents)
            .chain(self.groups.iter().map(|(_, g)| &g.agents));
        for gauges in cells {
            match (self.counted, now) {
                (Some(from), Some(to)) => gauges.move_to(from, to),
                (Some(from), None) => gauges.remove(from),
                (None, Some(to)) => gauges.add(to),
                (None, None) => {}
            }
        }
        self.counted = now;
    }

    /// The agent joined `group` (or the group's actor re-linked it).
    pub fn join(&mut self, live: &LiveStats, app: AppId, group: GroupId) {
        if self.groups.iter().any(|(g, _)| *g == group) {
            return;
        }
        let Some(cell) = live.group(app, group) else {
            return;
        };
        if let Some(status) = self.counted {
            cell.agents.add(status);
        }
        self.groups.push((group, cell));
    }

    /// The agent left `group`.
    pub fn leave(&mut self, group: GroupId) {
        let Some(i) = self.groups.iter().position(|(g, _)| *g == group) else {
            return;
        };
        let (_, cell) = self.groups.swap_remove(i);
        if let Some(status) = self.counted {
            cell.agents.remove(status);
        }
    }
}

impl Drop for AgentStats {
    fn drop(&mut self) {
        let Some(status) = self.counted else {
            return;
        };
        if let Some(app) = &self.app {
            app.agents.remove(status);
        }
        for (_, cell) in &self.groups {
            cell.agents.remove(status);
        }
    }
}

// ---- a session ----

/// A session counted in service in a group: taken back when dropped.
#[derive(Debug)]
struct Serving {
    cell: Arc<GroupStats>,
    /// Since when, ms; none when the service began before this actor (a rebuild).
    since_ms: Option<i64>,
}

impl Serving {
    fn start(cell: Arc<GroupStats>, since_ms: Option<i64>) -> Self {
        cell.in_service.inc();
        Self { cell, since_ms }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.cell.in_service.dec();
    }
}

/// A session actor's stats: the cell of the group it counts in, and its timings.
#[derive(Debug, Default)]
pub struct SessionStats {
    cell: Option<(GroupId, Arc<GroupStats>)>,
    offered_at_ms: Option<i64>,
    serving: Option<Serving>,
}

/// The group a session event counts in (the group that routes or routed the session),
/// or none for an event the stats do not count (messages, a new queue entry).
fn group_of(before: &SessionState, event: &Event) -> Option<GroupId> {
    let routed = before.route.map(|(g, _)| g);
    match event {
        Event::SessionOffered { group, .. } | Event::SessionAssigned { group, .. } => {
            group.or(routed)
        }
        Event::SessionStartedByAgent { group, .. } => Some(*group),
        Event::SessionQueued {
            group,
            cause: QueueCause::Redirect { .. },
            ..
        } => Some(*group),
        Event::SessionQueueTimedOut { group, .. } => Some(*group),
        Event::SessionAccepted { .. }
        | Event::SessionOfferMissed { .. }
        | Event::SessionOfferOverdue { .. }
        | Event::SessionTransferred { .. }
        | Event::SessionEnded { .. } => match before.phase {
            Phase::Queued { group, .. } => Some(group),
            Phase::Offered { group, .. } | Phase::InService { group, .. } => group.or(routed),
            Phase::Open | Phase::Ended { .. } => routed,
        },
        _ => None,
    }
}

/// The cached cell of `group`, looked up when the session first counts there.
fn cell_of<'a>(
    cache: &'a mut Option<(GroupId, Arc<GroupStats>)>,
    live: &LiveStats,
    app: AppId,
    group: GroupId,
) -> Option<&'a Arc<GroupStats>> {
    if cache.as_ref().is_none_or(|(g, _)| *g != group) {
        *cache = live.group(app, group).map(|cell| (group, cell));
    }
    cache.as_ref().map(|(_, cell)| cell)
}

impl SessionStats {
    /// The stats of a session actor starting on `state` (a session in service counts in
    /// its group again; its service time is unknown).
    pub fn new(live: &LiveStats, state: &SessionState) -> Self {
        let mut stats = Self::default();
        if let Phase::InService { group, .. } = state.phase
            && let Some(group) = group.or(state.route.map(|(g, _)| g))
            && let Some(cell) = cell_of(&mut stats.cell, live, state.app, group)
        {
            stats.serving = Some(Serving::start(cell.clone(), None));
        }
        stats
    }

    /// Whether the session counts in service now.
    pub fn in_service(&self) -> bool {
        self.serving.is_some()
    }

    /// Records `event`, about to be applied to `before`, at `now_ms`.
    pub fn record(&mut self, live: &LiveStats, before: &SessionState, event: &Event, now_ms: i64) {
        if matches!(
            event,
            Event::SessionTransferred { .. } | Event::SessionEnded { .. }
        ) && let Some(serving) = self.serving.take()
            && let Some(since) = serving.since_ms
        {
            serving.cell.handle_time.observe(elapsed_ms(since, now_ms));
        }
        let Some(group) = group_of(before, event) else {
            return;
        };
        let Some(cell) = cell_of(&mut self.cell, live, before.app, group) else {
            return;
        };
        let waited = match before.phase {
            Phase::Queued { queued_at_ms, .. } => Some(elapsed_ms(queued_at_ms, now_ms)),
            _ => None,
        };
        match event {
            Event::SessionOffered { .. } => {
                cell.offers.inc();
                if let Some(ms) = waited {
                    cell.queue_wait.observe(ms);
                }
                self.offered_at_ms = Some(now_ms);
            }
            Event::SessionAssigned { .. } => {
                cell.assignments.inc();
                if let Some(ms) = waited {
                    cell.queue_wait.observe(ms);
                }
                self.serving = Some(Serving::start(cell.clone(), Some(now_ms)));
            }
            Event::SessionAccepted { .. } => {
                cell.accepts.inc();
                if let Some(at) = self.offered_at_ms.take() {
                    cell.offer_to_accept.observe(elapsed_ms(at, now_ms));
                }
                self.serving = Some(Serving::start(cell.clone(), Some(now_ms)));
            }
            Event::SessionStartedByAgent { .. } => {
                self.serving = Some(Serving::start(cell.clone(), Some(now_ms)));
            }
            Event::SessionOfferMissed { cause, .. } => {
                if *cause == MissCause::Timeout {
                    cell.timeouts.inc();
                }
                self.offered_at_ms = None;
            }
            Event::SessionOfferOverdue { .. } => cell.timeouts.inc(),
            Event::SessionQueued {
                cause: QueueCause::Redirect { .. },
                ..
            } => cell.redirects.inc(),
            Event::SessionTransferred { .. } => cell.transfers.inc(),
            Event::SessionQueueTimedOut { .. } => cell.queue_wait_expiries.inc(),
            Event::SessionEnded { close_by } => {
                // The user left, or the queue wait limit gave up on the session (the only
                // timer that ends a waiting one): both are abandons.
                let waiting = matches!(before.phase, Phase::Queued { .. } | Phase::Offered { .. });
                if waiting && matches!(close_by, CloseBy::Client | CloseBy::Timer) {
                    cell.abandons.inc();
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::event::TransferTarget;
    use crate::domain::ids::{AgentId, ChannelId, SessionId};
    use crate::domain::routing::RoutingDecision;
    use crate::domain::session::{self, SessionCommand, SessionCtx};
    use crate::domain::settings::{AppSettings, RoutingPolicy};
    use crate::stats::status::STATUS_COUNT;

    const APP: AppId = AppId(1);
    const GROUPS: [GroupId; 2] = [GroupId(10), GroupId(11)];

    fn live_with_groups() -> LiveStats {
        let live = LiveStats::new();
        for g in GROUPS {
            live.open_group(APP, g);
        }
        live
    }

    /// What one step asks of a session (turned into a command the state allows when it
    /// can, so most steps do something).
    #[derive(Clone, Debug)]
    enum Step {
        AskHuman(usize),
        Place(u64),
        Accept,
        Expire,
        AgentGone,
        ToGroup(usize),
        ToAgent(u64),
        End(CloseBy),
        Wait(i64),
        Rebuild,
        QueueExpire,
    }

    fn step() -> impl Strategy<Value = (usize, Step)> {
        let close_by = prop_oneof![
            Just(CloseBy::Client),
            Just(CloseBy::Admin),
            Just(CloseBy::Seat)
        ];
        let step = prop_oneof![
            2 => (0..2usize).prop_map(Step::AskHuman),
            3 => (1..4u64).prop_map(Step::Place),
            3 => Just(Step::Accept),
            1 => Just(Step::Expire),
            1 => Just(Step::AgentGone),
            1 => (0..2usize).prop_map(Step::ToGroup),
            1 => (1..4u64).prop_map(Step::ToAgent),
            1 => close_by.prop_map(Step::End),
            2 => (0..90_000i64).prop_map(Step::Wait),
            1 => Just(Step::Rebuild),
            1 => Just(Step::QueueExpire),
        ];
        (0..3usize, step)
    }

    fn command(state: &SessionState, step: &Step) -> Option<SessionCommand> {
        let holder = state.holder();
        let decision = RoutingDecision::direct(RoutingPolicy::default(), 0);
        Some(match step {
            Step::AskHuman(g) => SessionCommand::RequestHuman { group: GROUPS[*g] },
            Step::Place(a) => match state.phase {
                Phase::Queued { group, .. } => SessionCommand::Place {
                    agent: AgentId(*a),
                    group,
                    decision,
                },
                _ => return None,
            },
            Step::Accept => SessionCommand::Accept { agent: holder? },
            Step::Expire => match state.phase {
                Phase::Offered { generation, .. } => SessionCommand::OfferExpired { generation },
                _ => return None,
            },
            Step::AgentGone => SessionCommand::AgentUnavailable { agent: holder? },
            Step::ToGroup(g) => SessionCommand::TransferToGroup {
                from: holder?,
                group: GROUPS[*g],
            },
            Step::ToAgent(a) => SessionCommand::TransferToAgent {
                from: holder?,
                to: AgentId(*a),
                decision,
            },
            Step::End(close_by) => SessionCommand::End {
                close_by: *close_by,
                agent: holder.filter(|_| *close_by == CloseBy::Seat),
            },
            Step::QueueExpire => SessionCommand::QueueWaitExpired {
                deadline_ms: state.queue_deadline.as_ref()?.0,
            },
            Step::Wait(_) | Step::Rebuild => return None,
        })
    }

    /// What the events say the stats must show, counted independently of the recorder.
    #[derive(Debug, Default, PartialEq, Eq)]
    struct Expected {
        offers: u64,
        assignments: u64,
        accepts: u64,
        timeouts: u64,
        redirects: u64,
        transfers: u64,
        abandons: u64,
        queue_wait_expiries: u64,
        placed_from_queue: u64,
    }

    impl Expected {
        fn count(&mut self, before: &SessionState, event: &Event) {
            let from_queue = matches!(before.phase, Phase::Queued { .. });
            match event {
                Event::SessionOffered { .. } => {
                    self.offers += 1;
                    self.placed_from_queue += u64::from(from_queue);
                }
                Event::SessionAssigned { .. } => {
                    self.assignments += 1;
                    self.placed_from_queue += u64::from(from_queue);
                }
                Event::SessionAccepted { .. } => self.accepts += 1,
                Event::SessionOfferMissed {
                    cause: MissCause::Timeout,
                    ..
                }
                | Event::SessionOfferOverdue { .. } => self.timeouts += 1,
                Event::SessionQueued {
                    cause: QueueCause::Redirect { .. },
                    ..
                } => self.redirects += 1,
                Event::SessionTransferred { .. } => self.transfers += 1,
                Event::SessionEnded {
                    close_by: CloseBy::Client | CloseBy::Timer,
                } if from_queue || matches!(before.phase, Phase::Offered { .. }) => {
                    self.abandons += 1
                }
                Event::SessionQueueTimedOut { .. } => self.queue_wait_expiries += 1,
                _ => {}
            }
        }
    }

    fn totals(live: &LiveStats) -> (Expected, u64, [u64; 2]) {
        let mut t = Expected::default();
        let mut waits = 0;
        let mut in_service = [0; 2];
        for (i, g) in GROUPS.iter().enumerate() {
            let s = live.group(APP, *g).unwrap().snapshot();
            t.offers += s.offers;
            t.assignments += s.assignments;
            t.accepts += s.accepts;
            t.timeouts += s.timeouts;
            t.redirects += s.redirects;
            t.transfers += s.transfers;
            t.abandons += s.abandons;
            t.queue_wait_expiries += s.queue_wait_expiries;
            t.placed_from_queue += s.queue_wait.count();
            waits += s.offer_to_accept.count();
            in_service[i] = s.in_service;
        }
        (t, waits, in_service)
    }

    proptest! {
        /// Any sequence of session events, with actors rebuilt at random, leaves every
        /// counter equal to the events counted and `in_service` equal to the sessions an
        /// agent serves, by the group that routed them; nothing is left when they stop.
        #[test]
        fn session_counters_equal_the_events(
            auto in any::<bool>(),
            redirect in any::<bool>(),
            steps in proptest::collection::vec(step(), 1..80),
        ) {
            let live = live_with_groups();
            let mut settings = AppSettings::default();
            settings.reception.auto_reception = auto;
            settings.reception.redirect_on_timeout = redirect;
            let settings = std::sync::Arc::new(settings);
            let mut now_ms = 1_000_000i64;
            let mut sessions: Vec<(SessionState, SessionStats)> = (0..3u64)
                .map(|i| {
                    let mut state = SessionState::new(SessionId(100 + i), APP);
                    let created = session::create(ChannelId(1), "u", None).unwrap();
                    session::apply(&mut state, &created);
                    let stats = SessionStats::new(&live, &state);
                    (state, stats)
                })
                .collect();
            let mut expected = Expected::default();
            for (i, step) in &steps {
                let (state, stats) = &mut sessions[*i];
                match step {
                    Step::Wait(ms) => now_ms += ms,
                    Step::Rebuild => *stats = SessionStats::new(&live, state),
                    _ => {}
                }
                let Some(command) = command(state, step) else {
                    continue;
                };
                // Queues with a one-minute wait limit and room, so waits run out.
                let room = crate::domain::group::QueueRoom {
                    waiting: 0,
                    limits: crate::domain::group::QueueLimits {
                        max_queue_wait_secs: 60,
                        ..Default::default()
                    },
                };
                let ctx = SessionCtx { settings: settings.clone(), now_ms, room: Some(room) };
                let Ok(events) = session::decide(state, &command, &ctx) else {
                    continue;
                };
                for event in &events {
                    expected.count(state, event);
                    stats.record(&live, state, event, now_ms);
                    session::apply(state, event);
                }
                let (counted, accepted_timed, in_service) = totals(&live);
                prop_assert_eq!(&counted, &expected);
                prop_assert!(accepted_timed <= counted.accepts);
                for (g, n) in GROUPS.iter().zip(in_service) {
                    let serving = sessions
                        .iter()
                        .filter(|(s, _)| match s.phase {
                            Phase::InService { group, .. } => {
                                group.or(s.route.map(|r| r.0)) == Some(*g)
                            }
                            _ => false,
                        })
                        .count() as u64;
                    prop_assert_eq!(n, serving, "in service in {}", g);
                }
            }
            drop(sessions);
            prop_assert_eq!(totals(&live).2, [0, 0]);
        }
    }

    /// What a step does to an agent.
    #[derive(Clone, Debug)]
    enum AgentStep {
        Status(AgentStatus),
        Join(usize),
        Leave(usize),
        Delete,
        Rebuild,
    }

    fn agent_step() -> impl Strategy<Value = (usize, AgentStep)> {
        let status = prop_oneof![
            Just(AgentStatus::Free),
            Just(AgentStatus::Busy),
            Just(AgentStatus::Rest {
                reason: "lunch".into()
            }),
            Just(AgentStatus::Arrange),
            Just(AgentStatus::NotReady),
            Just(AgentStatus::Offline),
        ];
        let step = prop_oneof![
            5 => status.prop_map(AgentStep::Status),
            2 => (0..2usize).prop_map(AgentStep::Join),
            1 => (0..2usize).prop_map(AgentStep::Leave),
            1 => Just(AgentStep::Delete),
            1 => Just(AgentStep::Rebuild),
        ];
        (0..4usize, step)
    }

    proptest! {
        /// Any sequence of status changes, joins, leaves, deletions and rebuilds keeps each
        /// count equal to the agents (members, for a group) in that status, within bounds.
        #[test]
        fn status_counts_equal_the_agents(
            steps in proptest::collection::vec(agent_step(), 1..80),
        ) {
            let live = live_with_groups();
            let mut agents: Vec<(AgentState, Vec<GroupId>, AgentStats)> = (0..4u64)
                .map(|i| {
                    let state = AgentState::new(AgentId(i + 1), APP);
                    let stats = AgentStats::new(&live, &state, std::iter::empty());
                    (state, Vec::new(), stats)
                })
                .collect();
            for (i, step) in steps {
                let (state, groups, stats) = &mut agents[i];
                match step {
                    AgentStep::Status(status) => {
                        if !state.deleted {
                            state.status = status;
                        }
                        stats.update(state);
                    }
                    AgentStep::Join(g) => {
                        if !groups.contains(&GROUPS[g]) {
                            groups.push(GROUPS[g]);
                        }
                        stats.join(&live, APP, GROUPS[g]);
                    }
                    AgentStep::Leave(g) => {
                        groups.retain(|x| *x != GROUPS[g]);
                        stats.leave(GROUPS[g]);
                    }
                    AgentStep::Delete => {
                        state.deleted = true;
                        stats.update(state);
                    }
                    AgentStep::Rebuild => {
                        *stats = AgentStats::new(&live, state, groups.iter().copied());
                    }
                }
                let expect = |members: &mut dyn Iterator<Item = &AgentState>| {
                    let mut counts = [0u64; STATUS_COUNT];
                    for a in members {
                        if let Some(s) = status_of(a) {
                            counts[StatusKind::ALL.iter().position(|k| *k == s).unwrap()] += 1;
                        }
                    }
                    counts
                };
                let app = live.app(APP).unwrap().agents.read();
                prop_assert_eq!(app, expect(&mut agents.iter().map(|a| &a.0)));
                for g in GROUPS {
                    let counted = live.group(APP, g).unwrap().agents.read();
                    let mut members = agents.iter().filter(|a| a.1.contains(&g)).map(|a| &a.0);
                    prop_assert_eq!(counted, expect(&mut members));
                    prop_assert!(counted.iter().sum::<u64>() <= 4);
                }
            }
            drop(agents);
            prop_assert_eq!(live.app(APP).unwrap().agents.read(), [0; STATUS_COUNT]);
        }
    }

    #[test]
    fn the_queue_is_published_when_it_changes() {
        let live = LiveStats::new();
        let mut stats = QueueStats::open(&live, APP, GROUPS[0], false);
        let mut queue = Queue::default();
        let request = crate::domain::routing::RoutingRequest {
            last_agent: None,
            excluded: None,
        };
        queue.enqueue(SessionId(2), 5_000, request);
        queue.enqueue(SessionId(1), 3_000, request);
        stats.publish(&queue);
        let cell = live.group(APP, GROUPS[0]).unwrap();
        assert_eq!(
            cell.queue.read(),
            QueueSnapshot {
                len: 2,
                oldest_ms: Some(3_000)
            }
        );
        // A rebuilt actor starts with an empty queue: its first publish replaces what the
        // failed one left, though the word it publishes is the initial one.
        let mut rebuilt = QueueStats::open(&live, APP, GROUPS[0], false);
        rebuilt.publish(&Queue::default());
        assert_eq!(cell.queue.read(), QueueSnapshot::default());
        queue.remove(SessionId(1));
        queue.remove(SessionId(2));
        stats.publish(&queue);
        assert_eq!(cell.queue.read(), QueueSnapshot::default());
        stats.close(&live, APP, GROUPS[0]);
        assert!(live.group(APP, GROUPS[0]).is_none());
        assert!(QueueStats::open(&live, APP, GROUPS[1], true).cell.is_none());
    }

    #[test]
    fn a_transfer_counts_in_the_group_that_routed_the_session() {
        let live = live_with_groups();
        let mut state = SessionState::new(SessionId(1), APP);
        let mut stats = SessionStats::default();
        let events = [
            session::create(ChannelId(1), "u", None).unwrap(),
            Event::SessionQueued {
                group: GROUPS[0],
                queued_at_ms: 1_000,
                cause: QueueCause::New,
            },
            Event::SessionAssigned {
                agent: AgentId(1),
                group: Some(GROUPS[0]),
                decision: RoutingDecision::direct(RoutingPolicy::default(), 0),
            },
            Event::SessionTransferred {
                from: AgentId(1),
                to: TransferTarget::Group(GROUPS[1]),
            },
        ];
        for (at, e) in [0, 1_000, 21_000, 81_000].into_iter().zip(&events) {
            stats.record(&live, &state, e, at);
            session::apply(&mut state, e);
        }
        let g0 = live.group(APP, GROUPS[0]).unwrap().snapshot();
        assert_eq!((g0.assignments, g0.transfers, g0.in_service), (1, 1, 0));
        assert_eq!((g0.queue_wait.count(), g0.queue_wait.sum_ms), (1, 20_000));
        assert_eq!((g0.handle_time.count(), g0.handle_time.sum_ms), (1, 60_000));
        let g1 = live.group(APP, GROUPS[1]).unwrap().snapshot();
        assert_eq!(g1.transfers, 0);
    }
}
