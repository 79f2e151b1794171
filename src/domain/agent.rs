//! An agent (seat): login, status and the sessions in hand.
//!
//! Status and login are the agent's own events. The sessions in hand are not: they are
//! the sessions whose own streams say they are offered to or served by this agent (see
//! `crate::domain::world`). At run time the agent actor keeps them as reservations, which
//! is how a group asks for capacity without owning the agent.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::domain::Rejection;
use crate::domain::event::{AgentStatus, Event, LogoutCause, StatusCause};
use crate::domain::ids::{AgentId, AppId, SessionId};
use crate::domain::routing::RefuseReason;
use crate::domain::settings::{AUTO_SHORT_BREAK_REASON, AppSettings, LoginStatus};

/// Longest rest reason name, in characters.
pub const MAX_REST_REASON_CHARS: usize = 64;

/// The state of one agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AgentState {
    /// The agent.
    pub id: AgentId,
    /// Its app.
    pub app: AppId,
    /// Full name.
    pub name: String,
    /// Name shown to users.
    pub nickname: String,
    /// Staff number.
    pub staff_no: String,
    /// Current status (`Offline` when not logged in).
    pub status: AgentStatus,
    /// Forced offline by an administrator: no login until resumed.
    pub forced_offline: bool,
    /// The account was deleted.
    pub deleted: bool,
    /// Sessions offered to or served by this agent.
    pub sessions: BTreeSet<SessionId>,
}

/// What can be asked of an agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentCommand {
    /// Go online with the app's default login status (a login elsewhere is ended).
    Login,
    /// Go offline.
    Logout,
    /// Go offline for a reason not the agent's own (the sign-in ended or expired, the
    /// workstation went away).
    LogoutBy(LogoutCause),
    /// Change status while online (`Offline` means log out).
    SetStatus(AgentStatus),
    /// The agent missed an offer: auto short break, when the app says so.
    MissedOffer,
    /// An administrator forces the agent offline.
    ForceOffline,
    /// An administrator lifts the forced offline.
    Resume,
    /// The account is deleted.
    Delete,
}

impl AgentState {
    /// The state of a freshly created agent.
    pub fn new(id: AgentId, app: AppId) -> Self {
        Self {
            id,
            app,
            name: String::new(),
            nickname: String::new(),
            staff_no: String::new(),
            status: AgentStatus::Offline,
            forced_offline: false,
            deleted: false,
            sessions: BTreeSet::new(),
        }
    }

    /// Logged in.
    pub fn online(&self) -> bool {
        self.status != AgentStatus::Offline
    }

    /// Sessions in hand.
    pub fn load(&self) -> u32 {
        self.sessions.len() as u32
    }

    /// Whether a group whose reception limit is `limit` may reserve this agent now.
    /// Whether the agent may start a session with a user itself (proactive contact): any
    /// status but offline, whatever its load (it chose to).
    pub fn can_start_contact(&self) -> Result<(), RefuseReason> {
        if self.deleted {
            return Err(RefuseReason::Gone);
        }
        if self.status == AgentStatus::Offline {
            return Err(RefuseReason::Offline);
        }
        Ok(())
    }

    /// Whether the agent can take a session offered by a group whose limit is `limit`.
    pub fn can_reserve(&self, limit: u32) -> Result<(), RefuseReason> {
        if self.deleted {
            return Err(RefuseReason::Gone);
        }
        match self.status {
            AgentStatus::Offline => return Err(RefuseReason::Offline),
            AgentStatus::Free => {}
            ref other => {
                return Err(RefuseReason::NotFree {
                    status: other.as_str().to_owned(),
                });
            }
        }
        if self.load() >= limit {
            return Err(RefuseReason::AtLimit {
                load: self.load(),
                limit,
            });
        }
        Ok(())
    }
}

/// Turns a command into events, or refuses it.
pub fn decide(
    state: &AgentState,
    command: &AgentCommand,
    settings: &AppSettings,
) -> Result<Vec<Event>, Rejection> {
    if state.deleted {
        return Err(Rejection::NotFound(state.id.to_string()));
    }
    match command {
        AgentCommand::Login => {
            if state.forced_offline {
                return Err(Rejection::conflict(format_args!(
                    "{} is forced offline until an administrator resumes it",
                    state.id
                )));
            }
            let status = match settings.login_status {
                LoginStatus::Free => AgentStatus::Free,
                LoginStatus::NotReady => AgentStatus::NotReady,
            };
            let mut events = Vec::with_capacity(2);
            if state.online() {
                events.push(Event::AgentLoggedOut {
                    cause: LogoutCause::NewLogin,
                });
            }
            events.push(Event::AgentLoggedIn { status });
            Ok(events)
        }
        AgentCommand::Logout | AgentCommand::SetStatus(AgentStatus::Offline) => {
            if !state.online() {
                return Ok(Vec::new());
            }
            Ok(vec![Event::AgentLoggedOut {
                cause: LogoutCause::Agent,
            }])
        }
        AgentCommand::LogoutBy(cause) => {
            if !state.online() {
                return Ok(Vec::new());
            }
            Ok(vec![Event::AgentLoggedOut { cause: *cause }])
        }
        AgentCommand::SetStatus(status) => {
            if !state.online() {
                return Err(Rejection::conflict(format_args!(
                    "{} is offline: log in before setting a status",
                    state.id
                )));
            }
            if let AgentStatus::Rest { reason } = status {
                let chars = reason.chars().count();
                if chars == 0 || chars > MAX_REST_REASON_CHARS {
                    return Err(Rejection::invalid(
                        "restReason",
                        format!("must be 1 to {MAX_REST_REASON_CHARS} characters, got {chars}"),
                    ));
                }
            }
            if &state.status == status {
                return Ok(Vec::new());
            }
            Ok(vec![Event::AgentStatusChanged {
                status: status.clone(),
                cause: StatusCause::Agent,
            }])
        }
        AgentCommand::MissedOffer => {
            if !settings.reception.auto_short_break || state.status != AgentStatus::Free {
                return Ok(Vec::new());
            }
            Ok(vec![Event::AgentStatusChanged {
                status: AgentStatus::Rest {
                    reason: AUTO_SHORT_BREAK_REASON.to_owned(),
                },
                cause: StatusCause::MissedOffer,
            }])
        }
        AgentCommand::ForceOffline => {
            if state.forced_offline {
                return Err(Rejection::conflict(format_args!(
                    "{} is already forced offline",
                    state.id
                )));
            }
            let mut events = Vec::with_capacity(2);
            if state.online() {
                events.push(Event::AgentLoggedOut {
                    cause: LogoutCause::ForcedOffline,
                });
            }
            events.push(Event::AgentForcedOffline);
            Ok(events)
        }
        AgentCommand::Resume => {
            if !state.forced_offline {
                return Err(Rejection::conflict(format_args!(
                    "{} is not forced offline",
                    state.id
                )));
            }
            Ok(vec![Event::AgentResumed])
        }
        AgentCommand::Delete => {
            let mut events = Vec::with_capacity(2);
            if state.online() {
                events.push(Event::AgentLoggedOut {
                    cause: LogoutCause::Deleted,
                });
            }
            events.push(Event::AgentDeleted);
            Ok(events)
        }
    }
}

/// Folds one of the agent's own events into its state.
pub fn apply(state: &mut AgentState, event: &Event) {
    match event {
        Event::AgentCreated {
            name,
            nickname,
            staff_no,
        } => {
            state.name.clone_from(name);
            state.nickname.clone_from(nickname);
            state.staff_no.clone_from(staff_no);
        }
        Event::AgentLoggedIn { status } | Event::AgentStatusChanged { status, .. } => {
            debug_assert!(
                *status != AgentStatus::Offline,
                "going offline is AgentLoggedOut"
            );
            state.status = status.clone();
        }
        Event::AgentLoggedOut { .. } => state.status = AgentStatus::Offline,
        Event::AgentForcedOffline => state.forced_offline = true,
        Event::AgentResumed => state.forced_offline = false,
        Event::AgentDeleted => state.deleted = true,
        _ => debug_assert!(false, "not an agent event: {}", event.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::Given;

    fn agent() -> AgentState {
        AgentState::new(AgentId(1), AppId(1))
    }

    fn given(events: &[Event]) -> Given<AgentState, AgentCommand, AppSettings> {
        Given::new(agent(), events, apply, |s, c, settings| {
            decide(s, c, settings)
        })
    }

    fn online() -> Event {
        Event::AgentLoggedIn {
            status: AgentStatus::Free,
        }
    }

    #[test]
    fn login_takes_the_default_status() {
        given(&[])
            .when(AgentCommand::Login)
            .then_expect(&[online()]);
        let not_ready = AppSettings {
            login_status: LoginStatus::NotReady,
            ..AppSettings::default()
        };
        given(&[])
            .with(not_ready)
            .when(AgentCommand::Login)
            .then_expect(&[Event::AgentLoggedIn {
                status: AgentStatus::NotReady,
            }]);
    }

    #[test]
    fn a_second_login_ends_the_first() {
        given(&[online()]).when(AgentCommand::Login).then_expect(&[
            Event::AgentLoggedOut {
                cause: LogoutCause::NewLogin,
            },
            online(),
        ]);
    }

    #[test]
    fn a_login_ended_for_the_agent_says_why_and_is_nothing_when_offline() {
        for cause in [
            LogoutCause::SignInEnded,
            LogoutCause::SignInExpired,
            LogoutCause::Disconnected,
        ] {
            given(&[online()])
                .when(AgentCommand::LogoutBy(cause))
                .then_expect(&[Event::AgentLoggedOut { cause }]);
            given(&[])
                .when(AgentCommand::LogoutBy(cause))
                .then_expect(&[]);
        }
    }

    #[test]
    fn status_needs_a_login() {
        given(&[])
            .when(AgentCommand::SetStatus(AgentStatus::Busy))
            .then_expect_conflict();
    }

    #[test]
    fn rest_reason_is_checked() {
        given(&[online()])
            .when(AgentCommand::SetStatus(AgentStatus::Rest {
                reason: String::new(),
            }))
            .then_expect_invalid("restReason");
    }

    #[test]
    fn forced_offline_logs_out_and_blocks_login_until_resumed() {
        given(&[online()])
            .when(AgentCommand::ForceOffline)
            .then_expect(&[
                Event::AgentLoggedOut {
                    cause: LogoutCause::ForcedOffline,
                },
                Event::AgentForcedOffline,
            ]);
        given(&[Event::AgentForcedOffline])
            .when(AgentCommand::Login)
            .then_expect_conflict();
        given(&[Event::AgentForcedOffline, Event::AgentResumed])
            .when(AgentCommand::Login)
            .then_expect(&[online()]);
    }

    #[test]
    fn missed_offer_rests_only_when_auto_short_break_is_on() {
        given(&[online()])
            .when(AgentCommand::MissedOffer)
            .then_expect(&[]);
        let mut on = AppSettings::default();
        on.reception.auto_short_break = true;
        given(&[online()])
            .with(on)
            .when(AgentCommand::MissedOffer)
            .then_expect(&[Event::AgentStatusChanged {
                status: AgentStatus::Rest {
                    reason: AUTO_SHORT_BREAK_REASON.to_owned(),
                },
                cause: StatusCause::MissedOffer,
            }]);
    }

    #[test]
    fn reservation_needs_free_status_and_room_under_the_limit() {
        let mut a = agent();
        assert_eq!(a.can_reserve(1), Err(RefuseReason::Offline));
        apply(&mut a, &online());
        assert_eq!(a.can_reserve(1), Ok(()));
        a.sessions.insert(SessionId(9));
        assert_eq!(
            a.can_reserve(1),
            Err(RefuseReason::AtLimit { load: 1, limit: 1 })
        );
        apply(
            &mut a,
            &Event::AgentStatusChanged {
                status: AgentStatus::Busy,
                cause: StatusCause::Agent,
            },
        );
        assert_eq!(
            a.can_reserve(5),
            Err(RefuseReason::NotFree {
                status: "busy".into()
            })
        );
    }
}
