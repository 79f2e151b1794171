//! The only place helpline reads the time. Everything else is handed `now`.
//!
//! [`Clock`] counts from a fixed wall-clock origin along tokio's monotonic clock, so under
//! `tokio::time::pause()` the engine's notion of now advances exactly with
//! `tokio::time::advance`, and timers (tokio's) and timestamps (ours) never disagree.

#![allow(clippy::disallowed_methods)]

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// The engine's clock.
#[derive(Clone, Debug)]
pub struct Clock {
    origin_ms: Millis,
    origin: tokio::time::Instant,
}

impl Clock {
    /// A clock on the real wall time.
    pub fn system() -> Self {
        let origin_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as Millis)
            .unwrap_or_default();
        Self::starting_at(origin_ms)
    }

    /// A clock that reads `origin_ms` now and moves with tokio's clock (for tests with paused time).
    pub fn starting_at(origin_ms: Millis) -> Self {
        Self {
            origin_ms,
            origin: tokio::time::Instant::now(),
        }
    }

    /// Now, in ms since the epoch.
    pub fn now_ms(&self) -> Millis {
        self.origin_ms + self.origin.elapsed().as_millis() as Millis
    }

    /// The tokio instant of a wall time in ms (past times map to now).
    pub fn instant_at(&self, at_ms: Millis) -> tokio::time::Instant {
        let offset = (at_ms - self.origin_ms).max(0) as u64;
        self.origin + std::time::Duration::from_millis(offset)
    }
}

/// Wall-clock now in ms since the epoch, for code outside the engine (CLI output, benches).
pub fn wall_now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or_default()
}

/// A monotonic stopwatch start, for measuring durations outside the engine.
pub fn stopwatch() -> std::time::Instant {
    std::time::Instant::now()
}
