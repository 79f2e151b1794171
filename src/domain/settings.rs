//! An app's routing and reception settings (the seed's "Session Routing and Reception
//! Settings" and "Online Status and Reasons for Short Break"), with their valid ranges.

use crate::domain::Rejection;
use crate::durable;

/// Shortest accept countdown: shorter than this, no person can react to the bell.
pub const MIN_ACCEPT_TIMEOUT_SECS: u32 = 5;
/// Longest accept countdown (one hour); an offer held longer is a lost user.
pub const MAX_ACCEPT_TIMEOUT_SECS: u32 = 3_600;
/// Shortest user-reply timeout when it is on (one minute, as the seed's proactive rule).
pub const MIN_USER_REPLY_TIMEOUT_SECS: u32 = 60;
/// Longest user-reply timeout (one day, as the seed's proactive rule).
pub const MAX_USER_REPLY_TIMEOUT_SECS: u32 = 86_400;
/// Longest automatic termination message, in bytes.
pub const MAX_TERMINATION_MESSAGE_BYTES: usize = 2_048;
/// Name of the rest reason set by the auto short break after a missed offer.
pub const AUTO_SHORT_BREAK_REASON: &str = "missed offer";

durable! {
    /// How a group picks an agent for the session at the head of its queue.
    #[derive(Copy, Default, utoipa::ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum BasicRouting {
        /// First come, first served; among agents, least loaded then longest idle.
        #[default]
        Fifo,
        /// First come, first served; among agents, highest priority in the group first.
        AgentPriority,
    }

    /// The routing policy of an app.
    #[derive(Copy, Default, utoipa::ToSchema)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct RoutingPolicy {
        /// The basic allocation.
        pub basic: BasicRouting,
        /// "Priority allocation to the last receptionist": the agent who served the user
        /// last gets the session when that agent can take it now.
        pub last_receptionist_first: bool,
    }

    /// How sessions are received by agents.
    #[derive(Copy, utoipa::ToSchema)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct ReceptionSettings {
        /// Sessions are assigned at once, with no accept step.
        pub auto_reception: bool,
        /// The accept countdown of a manual offer.
        #[schema(minimum = 5, maximum = 3600)]
        pub accept_timeout_secs: u32,
        /// When the countdown ends, offer the session to another agent of the same group.
        pub redirect_on_timeout: bool,
        /// When the countdown ends, put the agent on a short break.
        pub auto_short_break: bool,
    }

    /// The status an agent has right after logging in.
    #[derive(Copy, Default, utoipa::ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum LoginStatus {
        /// Free: sessions are allocated at once.
        #[default]
        Free,
        /// Not ready: the agent sets free by hand.
        NotReady,
    }

    /// Everything an app's administrator sets about routing and reception.
    #[derive(utoipa::ToSchema)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct AppSettings {
        /// Routing policy.
        pub routing: RoutingPolicy,
        /// Reception settings.
        pub reception: ReceptionSettings,
        /// End a session when the user has not answered the agent for this long; 0 is off,
        /// otherwise 60 to 86400.
        #[schema(maximum = 86400)]
        pub user_reply_timeout_secs: u32,
        /// Sent to the user when the user-reply timeout ends a session (at most 2048 bytes).
        #[schema(max_length = 2048)]
        pub auto_termination_message: String,
        /// Status after login.
        pub login_status: LoginStatus,
    }
}

impl Default for ReceptionSettings {
    fn default() -> Self {
        Self {
            auto_reception: false,
            accept_timeout_secs: 30,
            redirect_on_timeout: true,
            auto_short_break: false,
        }
    }
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            routing: RoutingPolicy::default(),
            reception: ReceptionSettings::default(),
            user_reply_timeout_secs: 0,
            auto_termination_message: "The session has ended because we did not hear from you."
                .to_owned(),
            login_status: LoginStatus::Free,
        }
    }
}

impl AppSettings {
    /// Checks every field against its range; the error names the first bad field.
    pub fn validate(&self) -> Result<(), Rejection> {
        let accept = self.reception.accept_timeout_secs;
        if !(MIN_ACCEPT_TIMEOUT_SECS..=MAX_ACCEPT_TIMEOUT_SECS).contains(&accept) {
            return Err(Rejection::invalid(
                "reception.acceptTimeoutSecs",
                format!(
                    "{accept} is not between {MIN_ACCEPT_TIMEOUT_SECS} and {MAX_ACCEPT_TIMEOUT_SECS} seconds"
                ),
            ));
        }
        let reply = self.user_reply_timeout_secs;
        if reply != 0
            && !(MIN_USER_REPLY_TIMEOUT_SECS..=MAX_USER_REPLY_TIMEOUT_SECS).contains(&reply)
        {
            return Err(Rejection::invalid(
                "userReplyTimeoutSecs",
                format!(
                    "{reply} is neither 0 (off) nor between {MIN_USER_REPLY_TIMEOUT_SECS} and {MAX_USER_REPLY_TIMEOUT_SECS} seconds"
                ),
            ));
        }
        if self.auto_termination_message.len() > MAX_TERMINATION_MESSAGE_BYTES {
            return Err(Rejection::invalid(
                "autoTerminationMessage",
                format!(
                    "{} bytes is over the limit of {MAX_TERMINATION_MESSAGE_BYTES}",
                    self.auto_termination_message.len()
                ),
            ));
        }
        Ok(())
    }

    /// The accept countdown in milliseconds.
    pub fn accept_timeout_ms(&self) -> i64 {
        i64::from(self.reception.accept_timeout_secs) * 1_000
    }

    /// The user-reply timeout in milliseconds, when it is on.
    pub fn user_reply_timeout_ms(&self) -> Option<i64> {
        (self.user_reply_timeout_secs > 0).then(|| i64::from(self.user_reply_timeout_secs) * 1_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        AppSettings::default().validate().unwrap();
    }

    #[test]
    fn accept_timeout_out_of_range_names_the_field() {
        let mut s = AppSettings::default();
        s.reception.accept_timeout_secs = 2;
        let err = s.validate().unwrap_err();
        assert_eq!(err.field(), Some("reception.acceptTimeoutSecs"));
    }

    #[test]
    fn user_reply_timeout_is_off_or_in_range() {
        let mut s = AppSettings::default();
        for ok in [0, 60, 86_400] {
            s.user_reply_timeout_secs = ok;
            s.validate().unwrap();
        }
        for bad in [1, 59, 86_401] {
            s.user_reply_timeout_secs = bad;
            assert_eq!(
                s.validate().unwrap_err().field(),
                Some("userReplyTimeoutSecs")
            );
        }
    }
}
