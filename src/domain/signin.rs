//! The pure decisions of signing in: how long a wrong password locks one email from one
//! address ([`Failures`], exponential back-off), and the single-use tickets that open an
//! agent's socket ([`SocketTickets`]) so no sign-in token travels in a URL. Time comes in as
//! an argument; the API holds these behind a lock.

use std::collections::HashMap;

/// Wrong passwords one (email, address) pair may make before each further one locks it.
pub const FREE_FAILURES: u32 = 5;
/// The first lock after [`FREE_FAILURES`]; each further failure doubles it.
pub const FIRST_LOCK_MS: i64 = 60_000;
/// The longest lock (15 minutes): long enough to make guessing hopeless, short enough that
/// a person who mistyped is not shut out for the day.
pub const MAX_LOCK_MS: i64 = 15 * 60_000;
/// How long a pair's failures are remembered after its last one (and after its lock).
pub const FAILURE_MEMORY_MS: i64 = 15 * 60_000;
/// Most pairs remembered: past it the stalest is forgotten, so a flood of addresses or
/// emails cannot grow the map without bound.
pub const MAX_FAILURE_KEYS: usize = 100_000;

/// How long a socket ticket works: the client asks for one just before it connects.
pub const TICKET_TTL_MS: i64 = 30_000;
/// Tickets one sign-in may hold unused: a client asks for one per (re)connect and uses it
/// at once, so more means a loop.
pub const MAX_OPEN_TICKETS_PER_SIGN_IN: usize = 8;
/// Most unused tickets held for all sign-ins together (each a few dozen bytes).
pub const MAX_OPEN_TICKETS: usize = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    failures: u32,
    last_ms: i64,
    locked_until_ms: i64,
}

/// Wrong passwords by key (an email and the address it was tried from), each with the lock
/// it earned: a stranger's guesses lock only the stranger's own address out.
#[derive(Clone, Debug, Default)]
pub struct Failures {
    entries: HashMap<String, Entry>,
}

impl Failures {
    /// `Err(ms to wait)` while `key` is locked at `now_ms`.
    pub fn check(&self, key: &str, now_ms: i64) -> Result<(), i64> {
        match self.entries.get(key) {
            Some(e) if now_ms < e.locked_until_ms => Err(e.locked_until_ms - now_ms),
            _ => Ok(()),
        }
    }

    /// Records a wrong password; answers the lock it earned, in ms (0: none yet).
    pub fn fail(&mut self, key: &str, now_ms: i64) -> i64 {
        if self.entries.len() >= MAX_FAILURE_KEYS && !self.entries.contains_key(key) {
            self.forget_stale(now_ms);
            if self.entries.len() >= MAX_FAILURE_KEYS
                && let Some(stalest) = self
                    .entries
                    .iter()
                    .min_by_key(|(_, e)| e.last_ms.max(e.locked_until_ms))
                    .map(|(k, _)| k.clone())
            {
                self.entries.remove(&stalest);
            }
        }
        let entry = self.entries.entry(key.to_owned()).or_insert(Entry {
            failures: 0,
            last_ms: now_ms,
            locked_until_ms: i64::MIN,
        });
        if now_ms - entry.last_ms.max(entry.locked_until_ms) >= FAILURE_MEMORY_MS {
            entry.failures = 0;
        }
        entry.failures = entry.failures.saturating_add(1);
        entry.last_ms = now_ms;
        let lock = lock_ms(entry.failures);
        if lock > 0 {
            entry.locked_until_ms = now_ms + lock;
        }
        debug_assert!(lock <= MAX_LOCK_MS);
        lock
    }

    /// The right password: the key's failures are forgotten.
    pub fn succeed(&mut self, key: &str) {
        self.entries.remove(key);
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn forget_stale(&mut self, now_ms: i64) {
        self.entries
            .retain(|_, e| now_ms - e.last_ms.max(e.locked_until_ms) < FAILURE_MEMORY_MS);
    }
}

/// The lock after `failures` wrong passwords in a row: none for the first
/// [`FREE_FAILURES`] - 1, then [`FIRST_LOCK_MS`] doubling up to [`MAX_LOCK_MS`].
pub fn lock_ms(failures: u32) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let doublings = (failures - FREE_FAILURES).min(20);
    FIRST_LOCK_MS
        .saturating_mul(1 << doublings)
        .min(MAX_LOCK_MS)
}

/// What a socket ticket opens: the sign-in it was asked with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ticket {
    /// The SHA-256 of the sign-in's bearer token (the socket checks it on every frame).
    pub sign_in_hash: String,
    /// When it stops working, ms since the epoch.
    pub expires_at_ms: i64,
}

/// Why a ticket does not open a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketRefusal {
    /// Never issued, used already, or expired (the three look alike on purpose: a used
    /// ticket is forgotten at once).
    Unknown,
    /// The sign-in holds [`MAX_OPEN_TICKETS_PER_SIGN_IN`] unused tickets already.
    TooMany,
    /// The server holds [`MAX_OPEN_TICKETS`] unused tickets already.
    Full,
}

/// Unused socket tickets by the hash of their secret. They live in memory only: a ticket
/// lasts seconds, and after a restart the client simply asks for another.
#[derive(Clone, Debug, Default)]
pub struct SocketTickets {
    by_hash: HashMap<String, Ticket>,
}

impl SocketTickets {
    /// Keeps a new ticket (`ticket_hash`) for the sign-in `sign_in_hash` at `now_ms`.
    pub fn issue(
        &mut self,
        ticket_hash: String,
        sign_in_hash: &str,
        now_ms: i64,
    ) -> Result<i64, TicketRefusal> {
        self.by_hash.retain(|_, t| now_ms < t.expires_at_ms);
        let open = self
            .by_hash
            .values()
            .filter(|t| t.sign_in_hash == sign_in_hash)
            .count();
        if open >= MAX_OPEN_TICKETS_PER_SIGN_IN {
            return Err(TicketRefusal::TooMany);
        }
        if self.by_hash.len() >= MAX_OPEN_TICKETS {
            return Err(TicketRefusal::Full);
        }
        let expires_at_ms = now_ms + TICKET_TTL_MS;
        self.by_hash.insert(
            ticket_hash,
            Ticket {
                sign_in_hash: sign_in_hash.to_owned(),
                expires_at_ms,
            },
        );
        Ok(expires_at_ms)
    }

    /// Uses the ticket `ticket_hash` at `now_ms`: it works once.
    pub fn take(&mut self, ticket_hash: &str, now_ms: i64) -> Result<Ticket, TicketRefusal> {
        let ticket = self
            .by_hash
            .remove(ticket_hash)
            .ok_or(TicketRefusal::Unknown)?;
        if now_ms >= ticket.expires_at_ms {
            return Err(TicketRefusal::Unknown);
        }
        Ok(ticket)
    }

    /// How many unused tickets are held.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_is_locked_only_after_its_free_failures_and_backs_off() {
        let mut f = Failures::default();
        for i in 1..FREE_FAILURES {
            assert_eq!(f.fail("ann from a", i64::from(i)), 0);
            f.check("ann from a", i64::from(i)).unwrap();
        }
        assert_eq!(f.fail("ann from a", 10), FIRST_LOCK_MS);
        assert_eq!(f.check("ann from a", 10), Err(FIRST_LOCK_MS));
        // Another address is not locked by this one's guesses.
        f.check("ann from b", 10).unwrap();
        // Each further failure doubles the lock.
        let after = 10 + FIRST_LOCK_MS;
        f.check("ann from a", after).unwrap();
        assert_eq!(f.fail("ann from a", after), 2 * FIRST_LOCK_MS);
        assert_eq!(f.fail("ann from a", after), 4 * FIRST_LOCK_MS);
        // The right password forgets it all.
        f.succeed("ann from a");
        f.check("ann from a", after).unwrap();
        assert_eq!(f.fail("ann from a", after), 0);
    }

    #[test]
    fn failures_are_forgotten_after_a_quiet_spell() {
        let mut f = Failures::default();
        for _ in 0..FREE_FAILURES {
            f.fail("k", 0);
        }
        let later = FIRST_LOCK_MS + FAILURE_MEMORY_MS;
        assert_eq!(f.fail("k", later), 0, "counted from one again");
    }

    #[test]
    fn tickets_work_once_and_briefly() {
        let mut t = SocketTickets::default();
        let expires = t.issue("t1".into(), "s", 1_000).unwrap();
        assert_eq!(expires, 1_000 + TICKET_TTL_MS);
        assert_eq!(t.take("t1", 1_001).unwrap().sign_in_hash, "s");
        assert_eq!(t.take("t1", 1_002), Err(TicketRefusal::Unknown));
        t.issue("t2".into(), "s", 1_000).unwrap();
        assert_eq!(
            t.take("t2", 1_000 + TICKET_TTL_MS),
            Err(TicketRefusal::Unknown)
        );
        assert_eq!(t.take("never", 0), Err(TicketRefusal::Unknown));
    }

    #[test]
    fn a_sign_in_holds_few_unused_tickets() {
        let mut t = SocketTickets::default();
        for i in 0..MAX_OPEN_TICKETS_PER_SIGN_IN {
            t.issue(format!("t{i}"), "s", 0).unwrap();
        }
        assert_eq!(t.issue("x".into(), "s", 0), Err(TicketRefusal::TooMany));
        t.issue("y".into(), "other", 0).unwrap();
        // Expired ones make room.
        t.issue("z".into(), "s", TICKET_TTL_MS).unwrap();
        assert_eq!(t.len(), 1);
    }

    proptest::proptest! {
        /// Whatever the failures, a lock never exceeds its cap and grows with failures.
        #[test]
        fn locks_are_bounded_and_monotonic(n in 0u32..10_000) {
            proptest::prop_assert!(lock_ms(n) <= MAX_LOCK_MS);
            proptest::prop_assert!(lock_ms(n) <= lock_ms(n.saturating_add(1)));
        }

        /// A key is never locked before its free failures are spent.
        #[test]
        fn no_lock_before_the_free_failures(times in proptest::collection::vec(0i64..10_000_000, 1..40)) {
            let mut f = Failures::default();
            let mut sorted = times.clone();
            sorted.sort_unstable();
            for (i, now) in sorted.iter().enumerate() {
                let lock = f.fail("k", *now);
                if (i as u32) + 1 < FREE_FAILURES {
                    proptest::prop_assert_eq!(lock, 0);
                }
            }
        }
    }
}
