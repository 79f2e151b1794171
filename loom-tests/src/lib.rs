//! Loom model checks of the lock-free structures in `helpline::stats` live here (see issue 7).
