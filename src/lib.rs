//! helpline: a self-hosted live-chat contact centre.
//!
//! The crate is laid out as DESIGN.md describes: [`domain`] is the pure core (state,
//! commands, events, routing), [`log`] the durable event log, [`engine`] the actors that
//! run the domain over the log, and [`clock`] the one place that reads the wall clock.

pub mod api;
pub mod clock;
pub mod domain;
pub mod engine;
pub mod im;
pub mod log;
pub mod records;
