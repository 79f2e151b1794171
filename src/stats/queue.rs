//! A skill group's queue as one gauge pair: how many sessions wait, and since when the
//! longest-waiting one waits. The two are packed into one `AtomicU64`, so a reader sees
//! a pair the writer published, never the length of one moment with the start of another
//! (no "3 waiting, none since" and no "0 waiting since 10:02").
//!
//! Layout: the top [`LEN_BITS`] bits hold the length, the low [`START_BITS`] bits the
//! oldest entry time in ms since the Unix epoch (2^44 ms is 557 years). A length above
//! [`MAX_LEN`] is published as `MAX_LEN` (the gauge's bound), an entry time before the epoch
//! as 0; an empty queue is published as 0.
//!
//! Writers publish whole snapshots (the group's actor owns the queue and knows both
//! values); with several writers the last publish wins, and every read is one of them.

use crate::sync::{AtomicU64, Ordering};

/// Bits of the packed word that hold the oldest entry time.
pub const START_BITS: u32 = 44;
/// Bits of the packed word that hold the length.
pub const LEN_BITS: u32 = 64 - START_BITS;
/// The longest queue the gauge shows: one million sessions waiting in one group is
/// beyond any desk helpline serves, and longer queues are shown at this bound.
pub const MAX_LEN: u64 = (1 << LEN_BITS) - 1;
/// The latest entry time the gauge holds, ms since the Unix epoch.
pub const MAX_START_MS: u64 = (1 << START_BITS) - 1;

/// A queue's length and its oldest entry time, as one reader sees them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueSnapshot {
    /// Sessions waiting (at most [`MAX_LEN`]).
    pub len: u64,
    /// When the longest-waiting session entered, ms since the epoch; none when empty.
    pub oldest_ms: Option<u64>,
}

impl QueueSnapshot {
    /// The snapshot the packed word `word` holds.
    pub fn unpack(word: u64) -> Self {
        let len = word >> START_BITS;
        Self {
            len,
            oldest_ms: (len > 0).then_some(word & MAX_START_MS),
        }
    }

    /// The packed word of `len` sessions waiting since `oldest_ms` (clamped to the bounds).
    pub fn pack(len: u64, oldest_ms: i64) -> u64 {
        if len == 0 {
            return 0;
        }
        let len = len.min(MAX_LEN);
        let start = oldest_ms.clamp(0, MAX_START_MS as i64) as u64;
        (len << START_BITS) | start
    }
}

/// The queue gauge pair, packed.
#[derive(Debug)]
pub struct QueueGauge(AtomicU64);

impl Default for QueueGauge {
    fn default() -> Self {
        Self::new()
    }
}

impl QueueGauge {
    /// An empty queue.
    pub fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    /// Publishes the queue as it stands: `len` sessions, the oldest entered at `oldest_ms`.
    /// Returns the packed word, for a writer that skips publishing what did not change.
    #[inline]
    pub fn publish(&self, len: u64, oldest_ms: i64) -> u64 {
        let word = QueueSnapshot::pack(len, oldest_ms);
        self.0.store(word, Ordering::Release);
        word
    }

    /// The last published pair.
    #[inline]
    pub fn read(&self) -> QueueSnapshot {
        QueueSnapshot::unpack(self.0.load(Ordering::Acquire))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_pair_packs_and_unpacks_within_its_bounds() {
        let t = 1_795_637_161_315;
        let word = QueueSnapshot::pack(3, t);
        assert_eq!(
            QueueSnapshot::unpack(word),
            QueueSnapshot {
                len: 3,
                oldest_ms: Some(t as u64)
            }
        );
        assert_eq!(QueueSnapshot::pack(0, t), 0, "empty is one word");
        assert_eq!(QueueSnapshot::unpack(0), QueueSnapshot::default());
        let huge = QueueSnapshot::unpack(QueueSnapshot::pack(u64::MAX, i64::MAX));
        assert_eq!((huge.len, huge.oldest_ms), (MAX_LEN, Some(MAX_START_MS)));
        assert_eq!(
            QueueSnapshot::unpack(QueueSnapshot::pack(1, -5)).oldest_ms,
            Some(0)
        );
    }
}
