//! The user end's abuse limits: how many new visitors an address and a website channel may
//! mint, how many messages (and bytes) a user may send, how many sockets a user may hold
//! open. The end faces the public, where one script can otherwise fill the queues with ghost
//! sessions and the memory with messages.
//!
//! The limits are the `[user_end]` table of `helpline.toml` ([`UserEndLimits`]); the state
//! they keep is [`Gate`]: token buckets (`crate::domain::rate`) by key, each map bounded.
//! Every refusal is counted in `helpline_user_refusals_total` by reason.

use std::net::IpAddr;
use std::sync::Mutex;

use serde::Deserialize;

use crate::domain::conversation::Body;
use crate::domain::ids::{AppId, ChannelId};
use crate::domain::rate::{Buckets, Rate, TokenBucket};
use crate::stats::names;

use super::error::ApiError;

/// Keys each limit remembers at most (addresses, channels, users): a flood of new keys forgets
/// the stalest instead of growing the map.
pub const MAX_LIMITED_KEYS: usize = 100_000;
/// Most sockets one user may set as a limit: a browser with a tab per page, not a script.
pub const MAX_SOCKETS_PER_USER: usize = 1_000;

/// A refusal's reason, as the metric labels it.
pub mod reason {
    /// Too many new visitors from one client address.
    pub const VISITORS_PER_ADDRESS: &str = "visitors_per_address";
    /// Too many new visitors on one website channel.
    pub const VISITORS_PER_CHANNEL: &str = "visitors_per_channel";
    /// Too many messages (or bytes) from one user.
    pub const MESSAGES: &str = "messages";
    /// Too many open sockets for one user.
    pub const SOCKETS: &str = "sockets";
    /// A visitor's socket from a page of an origin its channel does not allow.
    pub const ORIGIN: &str = "origin";
    /// A visitor writing to an address other than its website channel.
    pub const CHANNEL: &str = "channel";
}

/// The `[user_end]` table: the limits of the public end.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserEndLimits {
    /// New visitor identities one client address may get (a returning visitor is free).
    #[serde(default = "default_visitors_per_address")]
    pub visitors_per_address: Rate,
    /// New visitor identities one website channel gives out, whatever the addresses.
    #[serde(default = "default_visitors_per_channel")]
    pub visitors_per_channel: Rate,
    /// Messages one user may send (every `send`, REST or socket, flags included).
    #[serde(default = "default_messages_per_user")]
    pub messages_per_user: Rate,
    /// Bytes of message bodies one user may send.
    #[serde(default = "default_message_bytes_per_user")]
    pub message_bytes_per_user: Rate,
    /// Sockets one user may have open at once; the next is refused at the upgrade.
    #[serde(default = "default_sockets_per_user")]
    pub sockets_per_user: usize,
}

fn default_visitors_per_address() -> Rate {
    Rate::new(20, 10)
}

fn default_visitors_per_channel() -> Rate {
    Rate::new(600, 300)
}

fn default_messages_per_user() -> Rate {
    Rate::new(60, 120)
}

fn default_message_bytes_per_user() -> Rate {
    Rate::new(512 * 1024, 4 * 1024 * 1024)
}

fn default_sockets_per_user() -> usize {
    8
}

impl Default for UserEndLimits {
    fn default() -> Self {
        Self {
            visitors_per_address: default_visitors_per_address(),
            visitors_per_channel: default_visitors_per_channel(),
            messages_per_user: default_messages_per_user(),
            message_bytes_per_user: default_message_bytes_per_user(),
            sockets_per_user: default_sockets_per_user(),
        }
    }
}

impl UserEndLimits {
    /// Checks what TOML cannot: every rate lets something through, and a message of the
    /// largest size fits the bytes' burst.
    pub fn validate(&self) -> Result<(), ApiError> {
        let rates = [
            ("user_end.visitors_per_address", self.visitors_per_address),
            ("user_end.visitors_per_channel", self.visitors_per_channel),
            ("user_end.messages_per_user", self.messages_per_user),
            (
                "user_end.message_bytes_per_user",
                self.message_bytes_per_user,
            ),
        ];
        for (key, rate) in rates {
            if rate.burst == 0 || rate.per_minute == 0 {
                return Err(ApiError::invalid(
                    key,
                    "burst and per_minute must be at least 1",
                ));
            }
        }
        let largest = super::ws::MAX_FRAME_BYTES as u64;
        if self.message_bytes_per_user.burst < largest {
            return Err(ApiError::invalid(
                "user_end.message_bytes_per_user",
                format!("burst must be at least {largest} bytes (the largest frame)"),
            ));
        }
        if !(1..=MAX_SOCKETS_PER_USER).contains(&self.sockets_per_user) {
            return Err(ApiError::invalid(
                "user_end.sockets_per_user",
                format!("must be 1 to {MAX_SOCKETS_PER_USER}"),
            ));
        }
        Ok(())
    }
}

/// A limit's refusal: which, and when to try again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limited {
    /// The metric's reason label (one of [`reason`]).
    pub reason: &'static str,
    /// How long until the same request would pass.
    pub retry_after_ms: u64,
    /// What was limited, for the client.
    pub message: String,
}

impl Limited {
    fn new(reason: &'static str, retry_after_ms: u64, message: String) -> Self {
        count(reason);
        Self {
            reason,
            retry_after_ms,
            message,
        }
    }

    /// The refusal over HTTP: 429 with `Retry-After` in whole seconds.
    pub fn to_api(&self) -> ApiError {
        ApiError::TooManyRequests {
            retry_after_secs: self.retry_after_ms.div_ceil(1_000).max(1),
            message: self.message.clone(),
        }
    }
}

impl From<Limited> for ApiError {
    fn from(l: Limited) -> Self {
        l.to_api()
    }
}

/// Counts a refusal of the user end.
pub fn count(reason: &'static str) {
    metrics::counter!(names::USER_REFUSALS.name, "reason" => reason).increment(1);
}

/// What a message weighs against its sender's bytes: its body's text, or its custom parts.
pub fn message_bytes(body: &Body) -> u64 {
    let bytes = match body {
        Body::Text { text } => text.len(),
        Body::Custom {
            data,
            description,
            extension,
        } => data.len() + description.len() + extension.len(),
        // The file's bytes were weighed at upload (`crate::api::attachments`).
        Body::File { name, .. } => name.len(),
    };
    bytes as u64
}

/// Each user's messages and bytes.
#[derive(Debug)]
struct Senders {
    messages: Buckets<(AppId, String)>,
    bytes: Buckets<(AppId, String)>,
}

/// The buckets of the user end's limits.
#[derive(Debug)]
pub struct Gate {
    limits: UserEndLimits,
    visitors: Mutex<(Buckets<IpAddr>, Buckets<ChannelId>)>,
    senders: Mutex<Senders>,
}

impl Gate {
    /// Empty buckets for `limits`.
    pub fn new(limits: UserEndLimits) -> Self {
        let visitors = (
            Buckets::new(limits.visitors_per_address, MAX_LIMITED_KEYS),
            Buckets::new(limits.visitors_per_channel, MAX_LIMITED_KEYS),
        );
        let senders = Senders {
            messages: Buckets::new(limits.messages_per_user, MAX_LIMITED_KEYS),
            bytes: Buckets::new(limits.message_bytes_per_user, MAX_LIMITED_KEYS),
        };
        Self {
            limits,
            visitors: Mutex::new(visitors),
            senders: Mutex::new(senders),
        }
    }

    /// The limits.
    pub fn limits(&self) -> &UserEndLimits {
        &self.limits
    }

    /// Lets a new visitor identity through for `address` on `channel`, counting against
    /// both, or refuses (counting against neither).
    pub fn new_visitor(
        &self,
        address: IpAddr,
        channel: ChannelId,
        now_ms: i64,
    ) -> Result<(), Limited> {
        let mut guard = self.visitors.lock().unwrap_or_else(|e| e.into_inner());
        let (by_address, by_channel) = &mut *guard;
        // Taken from a copy first: a refusal by the channel costs the address nothing.
        let mut a_probe = by_address.bucket(&address, now_ms).clone();
        if let Err(wait) = a_probe.take(now_ms, 1) {
            return Err(Limited::new(
                reason::VISITORS_PER_ADDRESS,
                wait,
                format!("too many new visitors from {address}; try again later"),
            ));
        }
        let c = by_channel.bucket(&channel, now_ms);
        if let Err(wait) = c.take(now_ms, 1) {
            return Err(Limited::new(
                reason::VISITORS_PER_CHANNEL,
                wait,
                format!("too many new visitors on this channel ({channel}); try again later"),
            ));
        }
        *by_address.bucket(&address, now_ms) = a_probe;
        Ok(())
    }

    /// Lets a message of `bytes` through for the user, or refuses it (counting nothing).
    pub fn message(&self, app: AppId, user: &str, bytes: u64, now_ms: i64) -> Result<(), Limited> {
        let mut senders = self.senders.lock().unwrap_or_else(|e| e.into_inner());
        let Senders {
            messages,
            bytes: sizes,
        } = &mut *senders;
        let key = (app, user.to_owned());
        let m = messages.bucket(&key, now_ms);
        let b = sizes.bucket(&key, now_ms);
        TokenBucket::take_both(m, 1, b, bytes, now_ms).map_err(|wait| {
            Limited::new(
                reason::MESSAGES,
                wait,
                format!(
                    "too many messages from {user}: at most {} at once and {} a minute, {} bytes at once and {} a minute",
                    self.limits.messages_per_user.burst,
                    self.limits.messages_per_user.per_minute,
                    self.limits.message_bytes_per_user.burst,
                    self.limits.message_bytes_per_user.per_minute,
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_each_bad_key_is_named() {
        UserEndLimits::default().validate().unwrap();
        let bad = [
            UserEndLimits {
                visitors_per_address: Rate::new(0, 1),
                ..Default::default()
            },
            UserEndLimits {
                message_bytes_per_user: Rate::new(1_000, 1_000),
                ..Default::default()
            },
            UserEndLimits {
                sockets_per_user: 0,
                ..Default::default()
            },
        ];
        let fields = [
            "user_end.visitors_per_address",
            "user_end.message_bytes_per_user",
            "user_end.sockets_per_user",
        ];
        for (limits, field) in bad.iter().zip(fields) {
            let e = limits.validate().unwrap_err();
            assert_eq!(e.body().error.field.as_deref(), Some(field));
        }
    }

    #[test]
    fn a_visitor_refused_by_its_channel_costs_its_address_nothing() {
        let gate = Gate::new(UserEndLimits {
            visitors_per_address: Rate::new(2, 1),
            visitors_per_channel: Rate::new(1, 1),
            ..Default::default()
        });
        let here: IpAddr = "127.0.0.1".parse().unwrap();
        gate.new_visitor(here, ChannelId(1), 0).unwrap();
        let e = gate.new_visitor(here, ChannelId(1), 0).unwrap_err();
        assert_eq!(e.reason, reason::VISITORS_PER_CHANNEL);
        // The address still has one: another channel takes it.
        gate.new_visitor(here, ChannelId(2), 0).unwrap();
        let e = gate.new_visitor(here, ChannelId(3), 0).unwrap_err();
        assert_eq!(e.reason, reason::VISITORS_PER_ADDRESS);
    }

    #[test]
    fn big_messages_run_out_of_bytes_before_messages() {
        let gate = Gate::new(UserEndLimits::default());
        let mut passed = 0;
        for i in 0..60 {
            if gate.message(AppId(1), "u1", 48 * 1024, i).is_ok() {
                passed += 1;
            }
        }
        assert!(
            (10..=11).contains(&passed),
            "{passed} of 60 x 48 KiB passed"
        );
        // Another user is untouched.
        gate.message(AppId(1), "u2", 48 * 1024, 60).unwrap();
    }
}
