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
    published: u64,
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
            published: 0,
        }
    }

    /// Publishes the queue's length and oldest entry time, if they changed.
    #[inline]
    pub fn publish(&mut self, queue: &Queue) {
        let Some(cell) = &self.cell else {
            return;
        };
        let (len, oldest) = (queue.len() as u64, queue.oldest_ms().unwrap_or(0));
        if QueueSnapshot::pack(len, oldest) != self.published {
            self.published = cell.queue.publish(len, oldest);
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

/// The group a session event counts in: the group that routes or routed the session.
fn group_of(before: &SessionState, event: &Event) -> Option<GroupId> {
    let routed = before.route.map(|(g, _)| g);
    match event {
        Event::SessionOffered { group, .. } | Event::SessionAssigned { group, .. } => {
            group.or(routed)
        }
        Event::SessionStartedByAgent { group, .. } => Some(*group),
        Event::SessionQueued { group, .. } => Some(*group),
        _ => match before.phase {
            Phase::Queued { group, .. } => Some(group),
            Phase::Offered { group, .. } | Phase::InService { group, .. } => group.or(routed),
            Phase::Open | Phase::Ended { .. } => routed,
        },
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
            Event::SessionEnded { close_by } => {
                let waiting = matches!(before.phase, Phase::Queued { .. } | Phase::Offered { .. });
                if waiting && *close_by == CloseBy::Client {
                    cell.abandons.inc();
                }
            }
            _ => {}
        }
    }
}
