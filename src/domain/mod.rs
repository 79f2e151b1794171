//! The functional core: what the desk is and how it changes, with no IO, no runtime and
//! no clock. Each aggregate is a state, the commands it takes, a `decide` that turns a
//! command into events (or a [`Rejection`]) and an `apply` that folds an event into the
//! state. Actors in `crate::engine` are the shell around these functions.

pub mod address;
pub mod agent;
pub mod attachment;
pub mod conversation;
pub mod directory;
pub mod event;
pub mod flow;
pub mod group;
pub mod human;
pub mod ids;
pub mod rate;
pub mod routing;
pub mod sdk;
pub mod service;
pub mod session;
pub mod settings;
pub mod signin;
pub mod words;
pub mod workstation;
pub mod world;

#[cfg(test)]
pub(crate) mod testing;

use std::fmt;

/// Why a command was refused. It changes nothing; the message names what was wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// A field's value is out of range or malformed.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field, as the API names it.
        field: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// The command does not fit the current state (e.g. accepting an offer that has expired).
    #[error("{0}")]
    Conflict(String),
    /// The thing the command names does not exist (or no longer does).
    #[error("{0} not found")]
    NotFound(String),
}

impl Rejection {
    /// An invalid field.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
    /// A conflict with the current state.
    pub fn conflict(what: impl fmt::Display) -> Self {
        Self::Conflict(what.to_string())
    }
    /// The field named by an `Invalid` rejection.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}
