//! Deliberately broken twins of the stats' structures, each missing the one thing that
//! makes the real one correct. The models run them too and must fail: a check that
//! cannot catch these would pass vacuously.

use loom::sync::atomic::{AtomicU64, Ordering};

/// A gauge updated by load then store instead of one read-modify-write: updates are lost.
pub struct LoadStoreGauge(AtomicU64);

impl LoadStoreGauge {
    pub fn new() -> Self {
        Self(AtomicU64::new(0))
    }
    pub fn inc(&self) {
        let v = self.0.load(Ordering::Relaxed);
        self.0.store(v.wrapping_add(1), Ordering::Relaxed);
    }
    pub fn dec(&self) {
        let v = self.0.load(Ordering::Relaxed);
        self.0.store(v.wrapping_sub(1), Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A counter with relaxed increments and reads: a reader may see an effect's count
/// without its cause's.
pub struct RelaxedCounter(AtomicU64);

impl RelaxedCounter {
    pub fn new() -> Self {
        Self(AtomicU64::new(0))
    }
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The queue pair in two atomics: a reader can see the length of one publish with the
/// start of another.
pub struct TwoWordQueue {
    len: AtomicU64,
    oldest_ms: AtomicU64,
}

impl TwoWordQueue {
    pub fn new() -> Self {
        Self {
            len: AtomicU64::new(0),
            oldest_ms: AtomicU64::new(0),
        }
    }
    pub fn publish(&self, len: u64, oldest_ms: u64) {
        self.len.store(len, Ordering::SeqCst);
        self.oldest_ms
            .store(if len == 0 { 0 } else { oldest_ms }, Ordering::SeqCst);
    }
    pub fn read(&self) -> (u64, Option<u64>) {
        let len = self.len.load(Ordering::SeqCst);
        let oldest = self.oldest_ms.load(Ordering::SeqCst);
        (len, (oldest != 0).then_some(oldest))
    }
}

/// Agents by status without the reader's check: a move is seen half done.
pub struct UncheckedStatus {
    counts: [AtomicU64; 2],
}

impl UncheckedStatus {
    pub fn new(free: u64) -> Self {
        Self {
            counts: [AtomicU64::new(free), AtomicU64::new(0)],
        }
    }
    /// Moves one agent from free (0) to busy (1), as the real one does: add, then take.
    pub fn free_to_busy(&self) {
        self.counts[1].fetch_add(1, Ordering::SeqCst);
        self.counts[0].fetch_sub(1, Ordering::SeqCst);
    }
    pub fn read(&self) -> [u64; 2] {
        [
            self.counts[0].load(Ordering::SeqCst),
            self.counts[1].load(Ordering::SeqCst),
        ]
    }
}

/// A histogram bucket bumped by load then store: observations are lost.
pub struct LoadStoreBucket(AtomicU64);

impl LoadStoreBucket {
    pub fn new() -> Self {
        Self(AtomicU64::new(0))
    }
    pub fn observe(&self) {
        let v = self.0.load(Ordering::Relaxed);
        self.0.store(v + 1, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}
