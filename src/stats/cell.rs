//! The live stats of one skill group and of one app: what the actors write and the
//! exporter and the monitoring API read. Actors hold an `Arc` of their cell, so recording
//! is a few atomic operations on memory they already reach: no lock, no lookup, no
//! allocation.

use super::counter::Counter;
use super::gauge::Gauge;
use super::histogram::{
    HANDLE_BOUNDS_MS, Histogram, HistogramSnapshot, OFFER_ACCEPT_BOUNDS_MS, QUEUE_WAIT_BOUNDS_MS,
};
use super::queue::{QueueGauge, QueueSnapshot};
use super::status::{STATUS_COUNT, StatusCounts, StatusGauges};

/// One skill group's live stats.
#[derive(Debug)]
pub struct GroupStats {
    /// Sessions waiting and the oldest entry time (written by the group's actor).
    pub queue: QueueGauge,
    /// Members by status (written by the members' actors).
    pub agents: StatusGauges,
    /// Sessions an agent serves now, routed by this group (written by session actors).
    pub in_service: Gauge,
    /// Sessions offered to an agent (manual reception).
    pub offers: Counter,
    /// Sessions assigned to an agent at once (auto reception).
    pub assignments: Counter,
    /// Offers accepted.
    pub accepts: Counter,
    /// Offers whose accept countdown ran out.
    pub timeouts: Counter,
    /// Sessions put back in the queue after a missed offer.
    pub redirects: Counter,
    /// Sessions an agent handed on (to a group or an agent).
    pub transfers: Counter,
    /// Sessions that ended before an agent took them: the user left, or the queue wait limit
    /// ran out.
    pub abandons: Counter,
    /// Sessions the queue wait limit ended.
    pub queue_wait_expiries: Counter,
    /// Sessions and transfers the full queue refused.
    pub queue_full_refusals: Counter,
    /// From entering the queue to being offered or assigned, ms.
    pub queue_wait: Histogram,
    /// From the offer to the accept, ms.
    pub offer_to_accept: Histogram,
    /// From an agent taking a session to the end or a transfer, ms.
    pub handle_time: Histogram,
}

impl Default for GroupStats {
    fn default() -> Self {
        Self::new()
    }
}

/// A group's stats as one reader saw them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupSnapshot {
    /// The queue pair, read whole.
    pub queue: QueueSnapshot,
    /// Members by status, read whole.
    pub agents: StatusCounts,
    /// Sessions in service.
    pub in_service: u64,
    /// Offers.
    pub offers: u64,
    /// Assignments.
    pub assignments: u64,
    /// Accepts.
    pub accepts: u64,
    /// Timeouts.
    pub timeouts: u64,
    /// Redirects.
    pub redirects: u64,
    /// Transfers.
    pub transfers: u64,
    /// Abandons.
    pub abandons: u64,
    /// Queue wait limit expiries.
    pub queue_wait_expiries: u64,
    /// Queue full refusals.
    pub queue_full_refusals: u64,
    /// Queue wait.
    pub queue_wait: HistogramSnapshot,
    /// Offer to accept.
    pub offer_to_accept: HistogramSnapshot,
    /// Handle time.
    pub handle_time: HistogramSnapshot,
}

impl GroupStats {
    /// A group with nothing recorded.
    pub fn new() -> Self {
        Self {
            queue: QueueGauge::new(),
            agents: StatusGauges::new(),
            in_service: Gauge::new(),
            offers: Counter::new(),
            assignments: Counter::new(),
            accepts: Counter::new(),
            timeouts: Counter::new(),
            redirects: Counter::new(),
            transfers: Counter::new(),
            abandons: Counter::new(),
            queue_wait_expiries: Counter::new(),
            queue_full_refusals: Counter::new(),
            queue_wait: Histogram::new(QUEUE_WAIT_BOUNDS_MS),
            offer_to_accept: Histogram::new(OFFER_ACCEPT_BOUNDS_MS),
            handle_time: Histogram::new(HANDLE_BOUNDS_MS),
        }
    }

    /// Reads everything. Counters are read effects first (accepts and timeouts before
    /// offers), so an accept or a timeout is never seen without the offer it followed when
    /// that offer was counted first (see [`Counter`]).
    pub fn snapshot(&self) -> GroupSnapshot {
        let accepts = self.accepts.get();
        let timeouts = self.timeouts.get();
        let redirects = self.redirects.get();
        let transfers = self.transfers.get();
        let abandons = self.abandons.get();
        let queue_wait_expiries = self.queue_wait_expiries.get();
        let queue_full_refusals = self.queue_full_refusals.get();
        let offers = self.offers.get();
        let assignments = self.assignments.get();
        GroupSnapshot {
            queue: self.queue.read(),
            agents: self.agents.read(),
            in_service: self.in_service.get(),
            offers,
            assignments,
            accepts,
            timeouts,
            redirects,
            transfers,
            abandons,
            queue_wait_expiries,
            queue_full_refusals,
            queue_wait: self.queue_wait.read(),
            offer_to_accept: self.offer_to_accept.read(),
            handle_time: self.handle_time.read(),
        }
    }
}

impl GroupSnapshot {
    /// Adds another group's figures (folding groups beyond the label cap into one series):
    /// counts add up, the oldest wait is the older of the two.
    pub fn merge(&mut self, other: &GroupSnapshot) {
        let oldest = match (self.queue.oldest_ms, other.queue.oldest_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.queue = QueueSnapshot {
            len: self.queue.len + other.queue.len,
            oldest_ms: oldest,
        };
        for i in 0..STATUS_COUNT {
            self.agents[i] += other.agents[i];
        }
        self.in_service += other.in_service;
        self.offers += other.offers;
        self.assignments += other.assignments;
        self.accepts += other.accepts;
        self.timeouts += other.timeouts;
        self.redirects += other.redirects;
        self.transfers += other.transfers;
        self.abandons += other.abandons;
        self.queue_wait_expiries += other.queue_wait_expiries;
        self.queue_full_refusals += other.queue_full_refusals;
        self.queue_wait.merge(&other.queue_wait);
        self.offer_to_accept.merge(&other.offer_to_accept);
        self.handle_time.merge(&other.handle_time);
    }
}

/// One app's live stats: its agents by status, each counted once however many groups it
/// belongs to (group counts add up to more when agents share groups).
#[derive(Debug, Default)]
pub struct AppStats {
    /// Agents by status.
    pub agents: StatusGauges,
}
