//! Loom model checks of the lock-free structures of helpline's live stats (`src/stats`).
//!
//! This crate does not depend on helpline: tokio, ractor and the rest do not build under
//! `--cfg loom`. It compiles helpline's own source files instead, by path: the stats'
//! structures and the `sync` seam they take their atomics from, which under `--cfg loom`
//! are loom's. What is checked is therefore the very code the engine runs.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p loom-tests --release
//! --target-dir target/loom` (what `scripts/test` does). Without `--cfg loom` the models
//! are not compiled.

#[path = "../../src/sync.rs"]
mod sync;

// The structures of `src/stats`, compiled from helpline's source. They sit at the crate
// root here (under `stats` in helpline): they name one another as `super::...`, which is
// the same in both places.
#[path = "../../src/stats/cell.rs"]
pub mod cell;
#[path = "../../src/stats/counter.rs"]
pub mod counter;
#[path = "../../src/stats/gauge.rs"]
pub mod gauge;
#[path = "../../src/stats/histogram.rs"]
pub mod histogram;
#[path = "../../src/stats/queue.rs"]
pub mod queue;
#[path = "../../src/stats/status.rs"]
pub mod status;

#[cfg(all(test, loom))]
mod broken;
#[cfg(all(test, loom))]
mod models;
