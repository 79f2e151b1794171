//! Token buckets: how the desk lets a bounded amount of something through per unit of time
//! (new visitors per address or channel, messages and bytes per user) while allowing a burst.
//!
//! A bucket holds up to `burst` tokens and gains `per_minute` tokens a minute; taking `cost`
//! tokens succeeds only when that many are there, otherwise the caller hears how long until
//! they will be. Over any interval of `t` minutes a bucket admits at most `burst +
//! per_minute * t` tokens. Time comes in as an argument (ms since the epoch); the keyed
//! [`Buckets`] bound how many keys they remember, so a flood of new keys (addresses, users)
//! cannot grow them without bound.

use std::collections::HashMap;
use std::hash::Hash;

/// A token is this many units (ms in a minute), so a refill of `per_minute` tokens a minute
/// is exactly `per_minute` units a ms: no rounding, however slow the rate.
const UNIT: u64 = 60_000;

/// How much a bucket holds and how fast it refills.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// Most tokens at once: the burst.
    pub burst: u64,
    /// Tokens gained per minute.
    pub per_minute: u64,
}

impl Rate {
    /// A rate of `burst` at once and `per_minute` a minute.
    pub const fn new(burst: u64, per_minute: u64) -> Self {
        Self { burst, per_minute }
    }
}

/// One bucket: its level (in units of 1/[`UNIT`] token) as of `last_ms`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    rate: Rate,
    level: u64,
    last_ms: i64,
}

impl TokenBucket {
    /// A full bucket at `now_ms`.
    pub fn new(rate: Rate, now_ms: i64) -> Self {
        Self {
            rate,
            level: rate.burst.saturating_mul(UNIT),
            last_ms: now_ms,
        }
    }

    /// Adds what the time since the last look refilled (a clock that goes back adds nothing).
    fn refill(&mut self, now_ms: i64) {
        if now_ms <= self.last_ms {
            return;
        }
        let elapsed = (now_ms - self.last_ms) as u64;
        let gained = elapsed.saturating_mul(self.rate.per_minute);
        self.level = self
            .level
            .saturating_add(gained)
            .min(self.rate.burst.saturating_mul(UNIT));
        self.last_ms = now_ms;
    }

    /// How long until `cost` tokens are there (0 when they are now). A cost above the burst
    /// never fits: it answers the time to a full bucket, and taking it is always refused.
    fn wait_ms(&self, cost: u64) -> u64 {
        let need = cost.min(self.rate.burst).saturating_mul(UNIT);
        if self.level >= need && cost <= self.rate.burst {
            return 0;
        }
        if self.rate.per_minute == 0 {
            return u64::MAX;
        }
        (need.saturating_sub(self.level))
            .div_ceil(self.rate.per_minute)
            .max(1)
    }

    /// Takes `cost` tokens at `now_ms`, or answers how many ms until they are there (nothing
    /// is taken then).
    pub fn take(&mut self, now_ms: i64, cost: u64) -> Result<(), u64> {
        self.refill(now_ms);
        match self.wait_ms(cost) {
            0 => {
                self.level -= cost * UNIT;
                Ok(())
            }
            wait => Err(wait),
        }
    }

    /// Takes `cost_a` from `a` and `cost_b` from `b` at `now_ms`, both or neither: a message
    /// counts against the messages and the bytes of its sender at once. Refused, it answers
    /// the longer wait.
    pub fn take_both(
        a: &mut Self,
        cost_a: u64,
        b: &mut Self,
        cost_b: u64,
        now_ms: i64,
    ) -> Result<(), u64> {
        a.refill(now_ms);
        b.refill(now_ms);
        let wait = a.wait_ms(cost_a).max(b.wait_ms(cost_b));
        if wait > 0 {
            return Err(wait);
        }
        a.level -= cost_a * UNIT;
        b.level -= cost_b * UNIT;
        Ok(())
    }

    /// Whether the bucket is full at `now_ms` (its key may be forgotten with no loss).
    fn full_at(&self, now_ms: i64) -> bool {
        let mut probe = self.clone();
        probe.refill(now_ms);
        probe.level >= self.rate.burst.saturating_mul(UNIT)
    }
}

/// Buckets by key, at most `max_keys` of them: a new key past that forgets the keys looked
/// at least recently (a forgotten key starts again with a full bucket, so the bound trades a
/// little leniency towards a flood of keys for memory that cannot grow).
#[derive(Debug)]
pub struct Buckets<K> {
    rate: Rate,
    max_keys: usize,
    buckets: HashMap<K, TokenBucket>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    /// No bucket yet; each key's starts full.
    pub fn new(rate: Rate, max_keys: usize) -> Self {
        debug_assert!(max_keys > 0, "a keyed limit remembers at least one key");
        Self {
            rate,
            max_keys: max_keys.max(1),
            buckets: HashMap::new(),
        }
    }

    /// Takes `cost` from `key`'s bucket at `now_ms`, or answers the ms until it could.
    pub fn take(&mut self, key: &K, now_ms: i64, cost: u64) -> Result<(), u64> {
        self.bucket(key, now_ms).take(now_ms, cost)
    }

    /// Keys remembered now.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// `key`'s bucket, made full (forgetting another key when at the bound).
    pub fn bucket(&mut self, key: &K, now_ms: i64) -> &mut TokenBucket {
        // A known key (every message of a busy user) costs a lookup, not a clone.
        if !self.buckets.contains_key(key) {
            if self.buckets.len() >= self.max_keys {
                self.forget_some(now_ms);
            }
            self.buckets
                .insert(key.clone(), TokenBucket::new(self.rate, now_ms));
        }
        self.buckets
            .get_mut(key)
            .expect("present: found or inserted above")
    }

    /// Forgets full buckets (nothing is lost), or else the eighth looked at least recently:
    /// a scan of every key is paid once per that many new keys, not for each one, so a
    /// flood of new keys at the bound costs each of them little.
    fn forget_some(&mut self, now_ms: i64) {
        self.buckets.retain(|_, b| !b.full_at(now_ms));
        if self.buckets.len() < self.max_keys {
            return;
        }
        let mut ages: Vec<i64> = self.buckets.values().map(|b| b.last_ms).collect();
        let forget = (self.max_keys / 8).max(1);
        let (_, cut, _) = ages.select_nth_unstable(forget - 1);
        let cut = *cut;
        let mut left = forget;
        self.buckets.retain(|_, b| {
            if left > 0 && b.last_ms <= cut {
                left -= 1;
                return false;
            }
            true
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_burst_passes_then_the_rest_waits_for_the_refill() {
        let mut b = TokenBucket::new(Rate::new(3, 120), 0);
        assert_eq!(b.take(0, 1), Ok(()));
        assert_eq!(b.take(0, 2), Ok(()));
        // Empty: one token comes back in half a second at 2 a second.
        assert_eq!(b.take(0, 1), Err(500));
        assert_eq!(b.take(499, 1), Err(1));
        assert_eq!(b.take(500, 1), Ok(()));
        // Never above the burst, however long it rested.
        assert_eq!(b.take(1_000_000, 3), Ok(()));
        assert_eq!(b.take(1_000_000, 1), Err(500));
    }

    #[test]
    fn a_cost_above_the_burst_is_never_admitted() {
        let mut b = TokenBucket::new(Rate::new(10, 300), 0);
        assert!(b.take(0, 11).is_err());
        assert!(b.take(i64::MAX / 2, 11).is_err());
        assert_eq!(b.take(0, 10), Ok(()), "the refused cost took nothing");
    }

    #[test]
    fn a_clock_that_goes_back_refills_nothing() {
        let mut b = TokenBucket::new(Rate::new(1, 60), 10_000);
        assert_eq!(b.take(10_000, 1), Ok(()));
        assert!(b.take(5_000, 1).is_err());
        assert_eq!(b.take(11_000, 1), Ok(()));
    }

    #[test]
    fn both_or_neither() {
        let mut messages = TokenBucket::new(Rate::new(10, 60), 0);
        let mut bytes = TokenBucket::new(Rate::new(100, 600), 0);
        assert_eq!(
            TokenBucket::take_both(&mut messages, 1, &mut bytes, 60, 0),
            Ok(())
        );
        // The bytes refuse: the message is not counted either.
        assert_eq!(
            TokenBucket::take_both(&mut messages, 1, &mut bytes, 60, 0),
            Err(2_000)
        );
        assert_eq!(messages.take(0, 9), Ok(()), "nine messages left");
    }

    #[test]
    fn keyed_buckets_are_bounded_and_forget_full_ones_first() {
        let mut keyed = Buckets::new(Rate::new(2, 60), 2);
        assert_eq!(keyed.take(&"a", 0, 2), Ok(()));
        assert_eq!(keyed.take(&"b", 100, 1), Ok(()));
        // Neither is full yet: a third key forgets the one looked at least recently, "a".
        assert_eq!(keyed.take(&"c", 200, 1), Ok(()));
        assert_eq!(keyed.len(), 2);
        // Later, "b" and "c" are full again: they go first, nothing is lost.
        assert_eq!(keyed.take(&"d", 10_000, 2), Ok(()));
        assert_eq!(keyed.take(&"d", 10_000, 1), Err(1_000));
        assert!(keyed.len() <= 2);
    }

    #[test]
    fn a_flood_of_new_keys_at_the_bound_keeps_the_newest() {
        let mut keyed = Buckets::new(Rate::new(2, 60), 16);
        for i in 0..1_000i64 {
            assert_eq!(keyed.take(&i, i, 2), Ok(()), "a new key starts full");
            assert!(keyed.len() <= 16, "{} keys", keyed.len());
        }
        // Only the stalest were forgotten: the latest key still has its drained bucket.
        assert!(keyed.take(&999, 999, 1).is_err());
    }

    proptest! {
        /// Over any interval of t ms, a bucket admits at most burst + per_minute * t / 60000.
        #[test]
        fn never_more_than_the_burst_plus_the_refill(
            burst in 1u64..50,
            per_minute in 1u64..3_000,
            steps in proptest::collection::vec((0i64..400, 1u64..8), 1..80),
        ) {
            let mut b = TokenBucket::new(Rate::new(burst, per_minute), 0);
            let mut now = 0;
            let mut admitted: Vec<(i64, u64)> = Vec::new();
            for (gap, cost) in steps {
                now += gap;
                if b.take(now, cost).is_ok() {
                    admitted.push((now, cost));
                }
            }
            for (i, (start, _)) in admitted.iter().enumerate() {
                let mut total = 0u64;
                for (at, cost) in &admitted[i..] {
                    total += cost;
                    let allowed = burst * UNIT + per_minute * (*at - *start) as u64;
                    prop_assert!(total * UNIT <= allowed,
                        "{total} admitted in {} ms (burst {burst}, {per_minute}/min)", at - start);
                }
            }
        }

        /// A refusal's wait is enough: taking the same cost that much later succeeds.
        #[test]
        fn the_wait_a_refusal_names_is_enough(
            burst in 1u64..50,
            per_minute in 1u64..3_000,
            drained in 0u64..50,
            cost in 1u64..50,
        ) {
            prop_assume!(cost <= burst);
            let mut b = TokenBucket::new(Rate::new(burst, per_minute), 0);
            let _ = b.take(0, drained.min(burst));
            if let Err(wait) = b.take(0, cost) {
                prop_assert!(b.clone().take(wait as i64 - 1, cost).is_err());
                prop_assert_eq!(b.take(wait as i64, cost), Ok(()));
            }
        }
    }
}
