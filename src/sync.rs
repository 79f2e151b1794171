//! The one seam between the lock-free stats and the atomics they run on: `std`'s in the
//! program, loom's under `--cfg loom`, where `loom-tests` compiles the same source files
//! (it includes them by path) and model-checks every interleaving of their operations.
//!
//! Only the files loom checks import from here. The helpline crate itself is never built
//! with `--cfg loom` (tokio and ractor do not support it), so it needs no loom dependency.

#[cfg(loom)]
pub(crate) use loom::hint::spin_loop;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering, fence};

#[cfg(not(loom))]
pub(crate) use std::hint::spin_loop;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, Ordering, fence};
