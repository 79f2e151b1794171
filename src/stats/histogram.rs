//! A histogram of durations over fixed buckets, recorded with atomics (queue wait, offer
//! to accept, handle time).
//!
//! Promise: no observation is lost; every bucket and the sum only grow. The count is not
//! stored: it is the sum of the buckets a reader read, so the exported `_count` always
//! equals the `+Inf` bucket, as Prometheus requires. The `_sum` is read apart from the
//! buckets and may include an observation whose bucket the reader has not seen yet, or
//! the other way round (by the observations in flight); rates over a scrape interval make
//! that invisible.
//!
//! Observations are whole milliseconds; the exporter shows seconds.

use crate::sync::{AtomicU64, Ordering};

/// Most buckets a histogram has, besides `+Inf`.
pub const MAX_BOUNDS: usize = 24;

/// Upper bounds, in ms, of the queue wait buckets: the service levels desks set (answered
/// within 10, 20, 30, 60 s) fall on a bound, so `le` gives them exactly.
pub const QUEUE_WAIT_BOUNDS_MS: &[u64] = &[
    100, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 20_000, 30_000, 45_000, 60_000, 90_000, 120_000,
    180_000, 300_000, 600_000, 1_200_000, 1_800_000, 3_600_000,
];
/// Upper bounds, in ms, of the offer-to-accept buckets (the accept countdown is 5 s to 1 h).
pub const OFFER_ACCEPT_BOUNDS_MS: &[u64] = &[
    1_000, 2_000, 3_000, 5_000, 8_000, 10_000, 15_000, 20_000, 30_000, 45_000, 60_000, 120_000,
    300_000, 600_000, 3_600_000,
];
/// Upper bounds, in ms, of the handle time buckets (one agent's service of a session).
pub const HANDLE_BOUNDS_MS: &[u64] = &[
    10_000, 30_000, 60_000, 120_000, 180_000, 300_000, 600_000, 900_000, 1_200_000, 1_800_000,
    2_700_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000,
];

/// A histogram as one reader saw it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistogramSnapshot {
    /// Upper bounds, ms (the `+Inf` bucket follows them).
    pub bounds_ms: &'static [u64],
    /// Observations per bucket, not cumulative; one more than `bounds_ms` (`+Inf` last).
    pub counts: Vec<u64>,
    /// The sum of the observations, ms.
    pub sum_ms: u64,
}

impl HistogramSnapshot {
    /// Observations in all.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Adds another histogram with the same bounds (folding groups into one series).
    pub fn merge(&mut self, other: &HistogramSnapshot) {
        if self.counts.is_empty() {
            self.clone_from(other);
            return;
        }
        debug_assert_eq!(self.bounds_ms, other.bounds_ms, "merging unlike histograms");
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.sum_ms += other.sum_ms;
    }
}

/// A histogram over fixed bounds.
#[derive(Debug)]
pub struct Histogram {
    bounds_ms: &'static [u64],
    /// Observations per bucket; index `bounds_ms.len()` is `+Inf`.
    counts: [AtomicU64; MAX_BOUNDS + 1],
    sum_ms: AtomicU64,
}

impl Histogram {
    /// An empty histogram over `bounds_ms` (increasing, at most [`MAX_BOUNDS`]).
    pub fn new(bounds_ms: &'static [u64]) -> Self {
        assert!(bounds_ms.len() <= MAX_BOUNDS, "too many histogram bounds");
        debug_assert!(
            bounds_ms.windows(2).all(|w| w[0] < w[1]),
            "histogram bounds increase"
        );
        Self {
            bounds_ms,
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_ms: AtomicU64::new(0),
        }
    }

    /// Records one duration of `ms` milliseconds.
    #[inline]
    pub fn observe(&self, ms: u64) {
        let bucket = self.bounds_ms.partition_point(|&bound| bound < ms);
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// The buckets and sum as they stand.
    pub fn read(&self) -> HistogramSnapshot {
        HistogramSnapshot {
            bounds_ms: self.bounds_ms,
            counts: self.counts[..=self.bounds_ms.len()]
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
            sum_ms: self.sum_ms.load(Ordering::Relaxed),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn an_observation_on_a_bound_falls_in_that_bucket() {
        let h = Histogram::new(&[10, 100]);
        for ms in [0, 10, 11, 100, 101, 5_000] {
            h.observe(ms);
        }
        let s = h.read();
        assert_eq!(
            s.counts,
            vec![2, 2, 2],
            "le is inclusive, +Inf takes the rest"
        );
        assert_eq!((s.count(), s.sum_ms), (6, 5_222));
    }

    #[test]
    fn snapshots_merge_bucket_by_bucket() {
        let (a, b) = (Histogram::new(&[10]), Histogram::new(&[10]));
        a.observe(5);
        b.observe(50);
        let mut merged = HistogramSnapshot::default();
        merged.merge(&a.read());
        merged.merge(&b.read());
        assert_eq!((merged.counts, merged.sum_ms), (vec![1, 1], 55));
    }

    #[test]
    fn every_histogram_fits() {
        for bounds in [
            QUEUE_WAIT_BOUNDS_MS,
            OFFER_ACCEPT_BOUNDS_MS,
            HANDLE_BOUNDS_MS,
        ] {
            assert!(bounds.len() <= MAX_BOUNDS);
            assert!(bounds.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
