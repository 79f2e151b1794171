//! What an agent's workstation shows: status, offers waiting for an answer, sessions in hand.
//!
//! The agent's feed (`crate::im::feed`) folds every event it sends the agent into this view,
//! under the same lock that numbers the event, so the view a reconnecting socket gets is
//! exactly the agent's state at the sequence number it carries.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::event::AgentStatus;
use crate::domain::ids::{AgentId, ChannelId, ConversationId, SessionId};

/// Who and where a session is, as the workstation lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Seat {
    /// The session.
    pub session_id: SessionId,
    /// Its conversation (none for a session opened without one).
    pub conversation_id: Option<ConversationId>,
    /// The user's id in the app.
    pub user: String,
    /// The channel.
    pub channel_id: Option<ChannelId>,
    /// The channel's name when the session reached the agent: a reloaded workstation shows
    /// what the `offer` frame showed, not a bare id.
    pub channel_name: Option<String>,
    /// The colleague who handed it over, for a transfer.
    pub transferred_by: Option<AgentId>,
}

/// An offer waiting for the agent's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    /// The session.
    #[serde(flatten)]
    pub seat: Seat,
    /// When the offer lapses, ms since the epoch.
    pub deadline_ms: i64,
}

/// The agent's status as the workstation shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Presence {
    /// Logged in.
    pub online: bool,
    /// `offline`, `free`, `busy`, `rest`, `arrange` or `not_ready`.
    pub status: &'static str,
    /// The rest reason, for `rest`.
    pub rest_reason: Option<String>,
}

impl Presence {
    /// The presence of `status`.
    pub fn of(status: &AgentStatus) -> Self {
        let (name, reason) = match status {
            AgentStatus::Offline => ("offline", None),
            AgentStatus::Free => ("free", None),
            AgentStatus::Busy => ("busy", None),
            AgentStatus::Rest { reason } => ("rest", Some(reason.clone())),
            AgentStatus::Arrange => ("arrange", None),
            AgentStatus::NotReady => ("not_ready", None),
        };
        Presence {
            online: !matches!(status, AgentStatus::Offline),
            status: name,
            rest_reason: reason,
        }
    }
}

impl Default for Presence {
    fn default() -> Self {
        Self::of(&AgentStatus::Offline)
    }
}

/// What changes the view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A session is offered.
    Offered(Offer),
    /// The agent serves a session now (accepted, assigned, or handed over by name).
    Seated(Seat),
    /// A session left the agent: transferred, ended, or its offer lapsed or was withdrawn.
    Gone(SessionId),
    /// The status changed.
    Status(Presence),
}

/// The workstation's view of one agent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct View {
    /// Status.
    pub presence: Presence,
    /// Offers waiting, by session.
    pub offers: BTreeMap<SessionId, Offer>,
    /// Sessions in hand, by session.
    pub sessions: BTreeMap<SessionId, Seat>,
}

impl View {
    /// Folds one change in.
    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::Offered(offer) => {
                self.sessions.remove(&offer.seat.session_id);
                self.offers.insert(offer.seat.session_id, offer.clone());
            }
            Change::Seated(seat) => {
                // A seat learnt late (its offer's details) keeps what the offer knew.
                let known = self.offers.remove(&seat.session_id).map(|o| o.seat);
                let mut seat = seat.clone();
                if let Some(known) = known {
                    seat.conversation_id = seat.conversation_id.or(known.conversation_id);
                    seat.channel_id = seat.channel_id.or(known.channel_id);
                    seat.channel_name = seat.channel_name.or(known.channel_name);
                    seat.transferred_by = seat.transferred_by.or(known.transferred_by);
                    if seat.user.is_empty() {
                        seat.user = known.user;
                    }
                }
                self.sessions.insert(seat.session_id, seat);
            }
            Change::Gone(session) => {
                self.offers.remove(session);
                self.sessions.remove(session);
            }
            Change::Status(presence) => self.presence = presence.clone(),
        }
    }

    /// Whether the agent has `session` offered or in hand.
    pub fn holds(&self, session: SessionId) -> bool {
        self.offers.contains_key(&session) || self.sessions.contains_key(&session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn seat(n: u64) -> Seat {
        Seat {
            session_id: SessionId(n),
            conversation_id: Some(ConversationId(100 + n)),
            user: format!("u{n}"),
            channel_id: Some(ChannelId(7)),
            channel_name: Some("Sales".into()),
            transferred_by: Some(AgentId(2)),
        }
    }

    #[test]
    fn an_offer_becomes_a_session_and_leaves_on_end() {
        let mut v = View::default();
        v.apply(&Change::Offered(Offer {
            seat: seat(1),
            deadline_ms: 9,
        }));
        assert!(v.offers.contains_key(&SessionId(1)) && v.sessions.is_empty());
        let bare = Seat {
            conversation_id: None,
            user: String::new(),
            channel_id: None,
            channel_name: None,
            transferred_by: None,
            ..seat(1)
        };
        v.apply(&Change::Seated(bare));
        assert!(v.offers.is_empty());
        assert_eq!(
            v.sessions[&SessionId(1)],
            seat(1),
            "the offer's details are kept"
        );
        v.apply(&Change::Gone(SessionId(1)));
        assert!(!v.holds(SessionId(1)));
    }

    #[test]
    fn presence_names_every_status() {
        let rest = Presence::of(&AgentStatus::Rest {
            reason: "lunch".into(),
        });
        assert_eq!(
            (rest.status, rest.rest_reason.as_deref()),
            ("rest", Some("lunch"))
        );
        assert!(rest.online);
        assert!(!Presence::of(&AgentStatus::Offline).online);
        assert_eq!(Presence::of(&AgentStatus::NotReady).status, "not_ready");
    }

    fn change() -> impl Strategy<Value = Change> {
        prop_oneof![
            (0u64..4, 0i64..100).prop_map(|(n, d)| Change::Offered(Offer {
                seat: seat(n),
                deadline_ms: d
            })),
            (0u64..4).prop_map(|n| Change::Seated(seat(n))),
            (0u64..4).prop_map(|n| Change::Gone(SessionId(n))),
            any::<bool>().prop_map(|b| Change::Status(Presence::of(if b {
                &AgentStatus::Free
            } else {
                &AgentStatus::Busy
            }))),
        ]
    }

    proptest! {
        /// A session is never both offered and in hand, and the view holds exactly the
        /// sessions whose last change offered or seated them.
        #[test]
        fn a_session_is_in_one_place_at_most(changes in proptest::collection::vec(change(), 0..40)) {
            let mut v = View::default();
            let mut last: BTreeMap<SessionId, &Change> = BTreeMap::new();
            for c in &changes {
                v.apply(c);
                match c {
                    Change::Offered(o) => { last.insert(o.seat.session_id, c); }
                    Change::Seated(s) => { last.insert(s.session_id, c); }
                    Change::Gone(s) => { last.insert(*s, c); }
                    Change::Status(_) => {}
                }
            }
            for (session, c) in last {
                prop_assert!(!(v.offers.contains_key(&session) && v.sessions.contains_key(&session)));
                match c {
                    Change::Offered(_) => prop_assert!(v.offers.contains_key(&session)),
                    Change::Seated(_) => prop_assert!(v.sessions.contains_key(&session)),
                    _ => prop_assert!(!v.holds(session)),
                }
            }
        }
    }
}
