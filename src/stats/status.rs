//! Agents by status (free, busy, rest, arrange, not ready, offline), counted by many
//! writers at once: every agent actor moves its own agent between statuses, in its app's
//! counts and in those of each group it belongs to.
//!
//! Promise: a reader sees every move whole or not at all. A move takes one from a status
//! and gives it to another; a reader never sees the agent in both or in neither, so the
//! counts always add up to the agents counted, and none is below zero or above that sum.
//!
//! How, without a lock: writers never wait. Each move is bracketed by `active` (writers in
//! the middle of a move) and bumps `epoch` (moves finished). A reader reads the epoch,
//! the counts, then `active` and the epoch again; it keeps the counts only if no move was
//! in the middle and none finished meanwhile, and otherwise reads again. The release
//! fence after a writer's `active` increment pairs with the reader's acquire fence after
//! its counts: a reader that saw any count of a move also sees that move's `active`
//! increment (or its decrement, and then its epoch bump), so a half-seen move is always
//! caught. Status moves happen at human speed, so a reader almost never retries; one
//! that still finds no quiet moment in [`MAX_READ_TRIES`] tries keeps its last read.

use crate::sync::{AtomicU64, Ordering, fence, spin_loop};

/// The statuses an agent is counted under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StatusKind {
    /// Available: sessions are allocated.
    Free,
    /// Busy: no new sessions.
    Busy,
    /// On a short break.
    Rest,
    /// Organizing information after a session.
    Arrange,
    /// Logged in, not ready.
    NotReady,
    /// Not logged in.
    Offline,
}

/// How many statuses there are.
pub const STATUS_COUNT: usize = 6;

impl StatusKind {
    /// Every status, in the order of [`StatusCounts`].
    pub const ALL: [StatusKind; STATUS_COUNT] = [
        StatusKind::Free,
        StatusKind::Busy,
        StatusKind::Rest,
        StatusKind::Arrange,
        StatusKind::NotReady,
        StatusKind::Offline,
    ];

    /// The label value (`free`, `busy`, `rest`, `arrange`, `not_ready`, `offline`).
    pub fn as_str(self) -> &'static str {
        match self {
            StatusKind::Free => "free",
            StatusKind::Busy => "busy",
            StatusKind::Rest => "rest",
            StatusKind::Arrange => "arrange",
            StatusKind::NotReady => "not_ready",
            StatusKind::Offline => "offline",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Tries a reader makes to find no move in the middle before it keeps what it read.
pub const MAX_READ_TRIES: u32 = 10_000;

/// Agents by status, as one reader sees them: `counts[s.index()]` for each status `s`.
pub type StatusCounts = [u64; STATUS_COUNT];

/// Agents by status, moved by many writers, read whole.
#[derive(Debug)]
pub struct StatusGauges {
    counts: [AtomicU64; STATUS_COUNT],
    /// Moves begun and not yet finished.
    active: AtomicU64,
    /// Moves finished.
    epoch: AtomicU64,
}

impl Default for StatusGauges {
    fn default() -> Self {
        Self::new()
    }
}

impl StatusGauges {
    /// No agent counted.
    pub fn new() -> Self {
        Self {
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            active: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
        }
    }

    /// Counts an agent under `status`.
    pub fn add(&self, status: StatusKind) {
        self.change(None, Some(status));
    }

    /// Stops counting an agent counted under `status`.
    pub fn remove(&self, status: StatusKind) {
        self.change(Some(status), None);
    }

    /// Moves an agent counted under `from` to `to`, as one step for readers.
    pub fn move_to(&self, from: StatusKind, to: StatusKind) {
        if from != to {
            self.change(Some(from), Some(to));
        }
    }

    fn change(&self, from: Option<StatusKind>, to: Option<StatusKind>) {
        self.active.fetch_add(1, Ordering::Relaxed);
        // Orders the increment above before the counts below for any reader that sees
        // one of those counts and then fences (see the module doc).
        fence(Ordering::Release);
        if let Some(to) = to {
            self.counts[to.index()].fetch_add(1, Ordering::Relaxed);
        }
        if let Some(from) = from {
            let before = self.counts[from.index()].fetch_sub(1, Ordering::Relaxed);
            debug_assert!(before > 0, "an agent moved out of an empty status");
        }
        self.epoch.fetch_add(1, Ordering::Release);
        self.active.fetch_sub(1, Ordering::Release);
    }

    /// Agents by status, every move whole.
    pub fn read(&self) -> StatusCounts {
        let mut counts = [0; STATUS_COUNT];
        for attempt in 1..=MAX_READ_TRIES {
            let last = attempt == MAX_READ_TRIES;
            let epoch = self.epoch.load(Ordering::Acquire);
            if self.active.load(Ordering::Acquire) != 0 && !last {
                spin_loop();
                continue;
            }
            for (c, a) in counts.iter_mut().zip(&self.counts) {
                *c = a.load(Ordering::Relaxed);
            }
            fence(Ordering::Acquire);
            let quiet = self.active.load(Ordering::Acquire) == 0
                && self.epoch.load(Ordering::Relaxed) == epoch;
            if quiet || last {
                break;
            }
            spin_loop();
        }
        counts
    }

    /// Agents counted under `status` alone (no promise across statuses).
    pub fn get(&self, status: StatusKind) -> u64 {
        self.counts[status.index()].load(Ordering::Relaxed)
    }
}
