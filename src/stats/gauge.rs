//! An up-down gauge whose writers each add what they later take away (sessions in
//! service: a session actor adds one when service starts and takes it back when it stops).
//!
//! Promise: no update is lost; the value is never below zero and never above the number
//! of contributions alive, provided each writer takes back only what it added (the engine
//! holds its contribution in a guard that gives it back on drop). Every update is one
//! atomic read-modify-write, so the gauge always equals the sum of the contributions whose
//! update has happened: there is no moment when a take-back is seen without its add.

use crate::sync::{AtomicU64, Ordering};

/// A gauge of contributions added and taken back.
#[derive(Debug)]
pub struct Gauge(AtomicU64);

impl Default for Gauge {
    fn default() -> Self {
        Self::new()
    }
}

impl Gauge {
    /// A gauge at zero.
    pub fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    /// Adds one contribution.
    #[inline]
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes back one contribution this writer added.
    #[inline]
    pub fn dec(&self) {
        let before = self.0.fetch_sub(1, Ordering::Relaxed);
        debug_assert!(before > 0, "a gauge taken below zero");
    }

    /// The contributions alive now.
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}
