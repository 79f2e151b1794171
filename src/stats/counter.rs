//! A monotonic event counter (offers, accepts, timeouts...).
//!
//! Promise: no increment is ever lost, and the value never goes down. Increments are
//! `Release` and reads `Acquire`, so counters of related events read in the documented
//! order (effects before causes, see [`super::cell::GroupStats::snapshot`]) never show an
//! effect without its cause when the cause was counted first: a reader that sees an accept
//! also sees the offer it followed. On x86-64 a `Release` increment costs what a relaxed
//! one does (one `lock xadd`).

use crate::sync::{AtomicU64, Ordering};

/// A counter only ever incremented.
#[derive(Debug)]
pub struct Counter(AtomicU64);

impl Default for Counter {
    fn default() -> Self {
        Self::new()
    }
}

impl Counter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    /// Counts one event.
    #[inline]
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Release);
    }

    /// Events counted so far.
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}
