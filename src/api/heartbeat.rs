//! The server's WebSocket pings: a socket whose peer has gone without closing (a laptop
//! shut, a network that dropped it) would otherwise stay open, subscribed and counted, for
//! as long as the TCP stack keeps it. Every `server.ws_ping_secs` the server pings; a
//! socket that sent nothing (no pong, no frame) since the previous ping is closed.

use std::time::Duration;

use axum::extract::ws::Message;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::stats::names;

/// One socket's pings.
pub struct Heartbeat {
    interval: Interval,
    unanswered: bool,
}

impl Heartbeat {
    /// Pings every `every`, the first one between half of `every` and `every` from now: the
    /// sockets a restart or a reconnect storm opened together must not all be pinged in the
    /// same instant, every interval, in a burst the messages of that moment queue behind.
    pub fn new(every: Duration) -> Heartbeat {
        let first = every.mul_f64(1.0 - spread() / 2.0);
        let mut interval = tokio::time::interval_at(Instant::now() + first, every);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Heartbeat {
            interval,
            unanswered: false,
        }
    }

    /// The peer sent something (a pong, or any frame): it is there.
    pub fn heard(&mut self) {
        self.unanswered = false;
    }

    /// Waits for the next ping (cancel-safe, for `select!`): the frame to send, or `None`
    /// when the previous ping went unanswered and the socket is to be closed.
    pub async fn due(&mut self) -> Option<Message> {
        self.interval.tick().await;
        if self.unanswered {
            metrics::counter!(names::CONNECTIONS_TIMED_OUT.name, "timeout" => "ws_ping")
                .increment(1);
            return None;
        }
        self.unanswered = true;
        Some(Message::Ping(Default::default()))
    }
}

/// A random fraction in `[0, 1)`, to spread timers that would otherwise line up.
pub fn spread() -> f64 {
    let bits = u64::from_le_bytes(crate::api::auth::random_bytes::<8>());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}
