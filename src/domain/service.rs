//! The service side of a conversation: the session serving it, whether a human holds the
//! seat, and its satisfaction invitations and ratings (`shared/PROTOCOL.md`, src 9, 10, 19,
//! 20, 23, 24, 26). Pure: the user-end hub (`crate::im::hub`) feeds it the session's events
//! and the user's requests, and carries out what it decides.

use std::collections::BTreeMap;

use crate::domain::conversation::Body;
use crate::domain::directory::{RatingKind, SatisfactionConfig, SendRules};
use crate::domain::event::{CloseBy, Event};
use crate::domain::ids::{AgentId, GroupId, SessionId};
use crate::im::protocol::{DeskMessage, MenuEntry, SatisfactionMenu};

/// The reminder's tip (src 38); its `endTime` says when, so a client may word its own.
pub const REPLY_REMINDER_TEXT: &str =
    "Are you still there? This chat will end soon if we do not hear from you.";

/// Invitations kept per conversation; older ones are long expired (validity is at most days).
pub const MAX_INVITATIONS: usize = 32;

/// A satisfaction invitation sent for a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    /// The src 9 message.
    pub menu_seq: u64,
    /// Until when it can be answered, Unix seconds.
    pub expire_at_s: i64,
    /// The agent rated.
    pub agent: Option<AgentId>,
    /// Rated already.
    pub rated: bool,
}

/// What a conversation knows of its service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Service {
    /// The live session, if any.
    pub session: Option<SessionId>,
    /// The skill group it waits in, while queued.
    pub queued_in: Option<GroupId>,
    /// The agent serving it now (the user sees `inSeat`).
    pub seat: Option<AgentId>,
    /// The last agent who served the live session (rated at its end).
    pub served_by: Option<AgentId>,
    /// Invitations by session, newest kept.
    pub invitations: BTreeMap<SessionId, Invitation>,
}

/// What the hub does after a session's events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Send the user a flag message (26, 19, 20).
    Tell(DeskMessage),
    /// Invite the user to rate the session (auto rule): store a src 9.
    Invite {
        /// The session.
        session: SessionId,
        /// The agent who served it.
        agent: AgentId,
    },
    /// The session waits in a queue: tell the user its position.
    Queued(GroupId),
}

/// Why a rating (src 10) or a request to rate (src 24) was refused: the protocol's codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    /// 10150: the session's invitation expired, or the session never started.
    #[error("the session's rating has expired or never started")]
    Expired,
    /// 10151: the rating is not one of the menu's levels.
    #[error("the rating is not one of the menu's levels")]
    BadData,
    /// 10152: the session was rated already.
    #[error("the session was rated already")]
    AlreadyRated,
    /// 10153: the desk failed to record it.
    #[error("internal error")]
    Internal,
    /// 10154: no agent served the session.
    #[error("no agent served the session")]
    NoAgent,
    /// Rating is not allowed now (src 24 outside human service, or its rule bit is off).
    #[error("rating is not open: {0}")]
    NotAllowed(&'static str),
}

impl RateError {
    /// The protocol's error code (none for `NotAllowed`, which has no code in the protocol).
    pub fn code(self) -> Option<u32> {
        match self {
            RateError::Expired => Some(10150),
            RateError::BadData => Some(10151),
            RateError::AlreadyRated => Some(10152),
            RateError::Internal => Some(10153),
            RateError::NoAgent => Some(10154),
            RateError::NotAllowed(_) => None,
        }
    }
}

/// A valid rating.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rating {
    /// The session rated.
    pub session: SessionId,
    /// Its invitation's message.
    pub menu_seq: u64,
    /// The level's value.
    pub value: u8,
    /// The level's label.
    pub label: String,
}

/// src 23's `menuSendRuleFlag`: 1 auto at the end, 2 the agent may invite, 4 the user may ask.
pub fn rules_flag(rules: Option<SendRules>) -> u8 {
    let Some(r) = rules else { return 0 };
    u8::from(r.auto_on_end) | u8::from(r.agent_may_invite) << 1 | u8::from(r.user_may_rate) << 2
}

/// The id a session has in the protocol (`sessionId` of src 9 and 10).
pub fn protocol_session_id(session: SessionId) -> String {
    session.0.to_string()
}

/// Reads a protocol `sessionId` ("17", or "session-17" as ids print).
pub fn parse_session_id(text: &str) -> Option<SessionId> {
    let digits = text.strip_prefix("session-").unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(SessionId)
}

/// The src 9 invitation for `session` under `config`, sent at `now_s`.
pub fn menu(config: &SatisfactionConfig, session: SessionId, now_s: i64) -> SatisfactionMenu {
    let mut levels: Vec<_> = config.levels.iter().collect();
    levels.sort_by_key(|l| l.value);
    SatisfactionMenu {
        head: config.invitation_text.clone(),
        tail: config.thank_you_text.clone(),
        kind: match config.kind {
            RatingKind::Star => 1,
            RatingKind::Numeric => 2,
        },
        menu: levels
            .into_iter()
            .map(|l| MenuEntry {
                id: l.value.to_string(),
                content: l.label.clone(),
            })
            .collect(),
        selected: None,
        session_id: protocol_session_id(session),
        expire_time: now_s + i64::from(config.validity_secs),
    }
}

/// A custom body's desk data, parsed.
fn desk_value(body: &Body) -> Option<serde_json::Value> {
    let Body::Custom { data, .. } = body else {
        return None;
    };
    serde_json::from_str(data).ok()
}

/// `body` with its desk data replaced by `value`.
fn with_value(body: &Body, value: &serde_json::Value) -> Body {
    match body {
        Body::Custom {
            description,
            extension,
            ..
        } => Body::Custom {
            data: value.to_string(),
            description: description.clone(),
            extension: extension.clone(),
        },
        Body::Text { .. } | Body::File { .. } => body.clone(),
    }
}

/// What a plain text from the user answers in an open prompt: a branch menu (src 15) or an
/// options form (src 21 type 1) takes a text equal to an item's `content` (exact match); a
/// free-text form (src 21 type 0) takes any text. Answers the prompt's body with `selected`
/// set, or None (not a prompt, already answered, or no item matches).
pub fn answer_prompt(prompt: &Body, text: &str) -> Option<Body> {
    let mut value = desk_value(prompt)?;
    let src = value.get("src")?.as_str()?.to_owned();
    // The task shapes: a branch (32) open while `status` is 0, a form (33) while
    // `nodeStatus` is 0; answered, the branch is 1 with `selected`, the form 2 with its value.
    match src.as_str() {
        "32" => {
            if value.get("status")?.as_u64()? != 0 {
                return None;
            }
            let content = value.get_mut("content")?.as_object_mut()?;
            let picked = content
                .get("items")?
                .as_array()?
                .iter()
                .find(|i| i.get("content").and_then(|c| c.as_str()) == Some(text))?
                .clone();
            let desc = picked.get("desc").cloned().unwrap_or_else(|| "".into());
            content.insert(
                "selected".to_owned(),
                serde_json::json!({"content": text, "desc": desc}),
            );
            value["status"] = 1.into();
            return Some(with_value(prompt, &value));
        }
        "33" => {
            if value.get("nodeStatus")?.as_u64()? != 0 {
                return None;
            }
            let field = value
                .get_mut("content")?
                .get_mut("inputVariables")?
                .as_array_mut()?
                .first_mut()?;
            let choices = field.get("chooseItemList").and_then(|c| c.as_array());
            let choice = field.get("formType").and_then(|t| t.as_u64()) == Some(1);
            if choice && !choices.is_some_and(|c| c.iter().any(|c| c.as_str() == Some(text))) {
                return None;
            }
            field["variableValue"] = text.into();
            value["nodeStatus"] = 2.into();
            return Some(with_value(prompt, &value));
        }
        _ => {}
    }
    let content = value.get_mut("content")?.as_object_mut()?;
    if content.contains_key("selected") {
        return None;
    }
    let item = |content: &serde_json::Map<String, serde_json::Value>| {
        content
            .get("items")?
            .as_array()?
            .iter()
            .find(|i| i.get("content").and_then(|c| c.as_str()) == Some(text))
            .cloned()
    };
    let selected = match (src.as_str(), content.get("type").and_then(|t| t.as_u64())) {
        ("15", _) => {
            let picked = item(content)?;
            let desc = picked.get("desc").cloned().unwrap_or_else(|| "".into());
            serde_json::json!({"content": text, "desc": desc})
        }
        ("21", Some(0)) => serde_json::json!({ "content": text }),
        ("21", Some(1)) => {
            item(content)?;
            serde_json::json!({ "content": text })
        }
        _ => return None,
    };
    content.insert("selected".to_owned(), selected);
    Some(with_value(prompt, &value))
}

/// A stream text (src 31) with `chunk` appended, finished or not; None when `body` is not a
/// stream text or it is finished already.
pub fn extend_stream(body: &Body, chunk: &str, finished: bool) -> Option<Body> {
    let mut value = desk_value(body)?;
    if value.get("src")?.as_str()? != "31" || value.get("isFinished")?.as_u64()? != 0 {
        return None;
    }
    value.get_mut("chunks")?.as_array_mut()?.push(chunk.into());
    value["isFinished"] = u8::from(finished).into();
    Some(with_value(body, &value))
}

impl Service {
    /// Folds a session's durable events and says what the user must be told. Events of a
    /// session other than the live one (an older one's late news) change nothing.
    pub fn on_session_events(
        &mut self,
        session: SessionId,
        events: &[Event],
        rules: Option<SendRules>,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        for event in events {
            if let Event::SessionCreated { .. } = event {
                if self.session != Some(session) {
                    self.session = Some(session);
                    self.seat = None;
                    self.served_by = None;
                    self.queued_in = None;
                }
                continue;
            }
            if self.session != Some(session) {
                continue;
            }
            match event {
                Event::SessionQueued { group, .. } => {
                    self.leave_seat(&mut effects);
                    self.queued_in = Some(*group);
                    effects.push(Effect::Queued(*group));
                }
                Event::SessionOffered { .. } => self.queued_in = None,
                Event::SessionAssigned { agent, .. }
                | Event::SessionAccepted { agent }
                | Event::SessionStartedByAgent { agent, .. } => {
                    self.queued_in = None;
                    self.served_by = Some(*agent);
                    if self.seat != Some(*agent) {
                        self.seat = Some(*agent);
                        effects.push(Effect::Tell(DeskMessage::SeatStatus { in_seat: true }));
                    }
                }
                // Nobody serves the user until the next agent takes it.
                Event::SessionTransferred { .. } => self.leave_seat(&mut effects),
                // The user-reply timeout is near: a tip saying when the chat ends (stored,
                // so a user who comes back sees it).
                Event::SessionReplyReminded { deadline_ms } => {
                    effects.push(Effect::Tell(DeskMessage::TimeoutReminder {
                        text: REPLY_REMINDER_TEXT.to_owned(),
                        end_time: deadline_ms.div_euclid(1_000),
                    }));
                }
                Event::SessionEnded { close_by } => {
                    self.leave_seat(&mut effects);
                    effects.push(Effect::Tell(if *close_by == CloseBy::Timer {
                        DeskMessage::SessionTimedOut
                    } else {
                        DeskMessage::SessionEnded
                    }));
                    let auto = rules.is_some_and(|r| r.auto_on_end);
                    if let (true, Some(agent)) = (auto, self.served_by)
                        && !self.invitations.contains_key(&session)
                    {
                        effects.push(Effect::Invite { session, agent });
                    }
                    self.session = None;
                    self.queued_in = None;
                    self.served_by = None;
                }
                _ => {}
            }
        }
        effects
    }

    fn leave_seat(&mut self, effects: &mut Vec<Effect>) {
        if self.seat.take().is_some() {
            effects.push(Effect::Tell(DeskMessage::SeatStatus { in_seat: false }));
        }
    }

    /// Folds one of the conversation's own rating events.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::RatingInvited {
                session,
                menu_seq,
                expire_at_s,
                agent,
            } => {
                self.invitations.insert(
                    *session,
                    Invitation {
                        menu_seq: *menu_seq,
                        expire_at_s: *expire_at_s,
                        agent: *agent,
                        rated: false,
                    },
                );
                while self.invitations.len() > MAX_INVITATIONS {
                    self.invitations.pop_first();
                }
            }
            Event::SessionRated { session, .. } => {
                if let Some(i) = self.invitations.get_mut(session) {
                    i.rated = true;
                }
            }
            _ => {}
        }
    }

    /// The user asks to rate (src 24): allowed in human service when the rule's bit 4 is on
    /// and the session is not rated yet. Answers the session and its agent to invite for.
    pub fn user_asks(&self, rules: Option<SendRules>) -> Result<(SessionId, AgentId), RateError> {
        if !rules.is_some_and(|r| r.user_may_rate) {
            return Err(RateError::NotAllowed("the user rule (bit 4) is off"));
        }
        let (Some(session), Some(agent)) = (self.session, self.seat) else {
            return Err(RateError::NotAllowed("no human is serving the user"));
        };
        self.not_rated(session)?;
        Ok((session, agent))
    }

    /// The serving agent invites the user to rate (rule bit 2). Answers the session.
    pub fn agent_invites(
        &self,
        agent: AgentId,
        rules: Option<SendRules>,
    ) -> Result<SessionId, RateError> {
        if !rules.is_some_and(|r| r.agent_may_invite) {
            return Err(RateError::NotAllowed("the agent rule (bit 2) is off"));
        }
        match (self.session, self.seat) {
            (Some(session), Some(seat)) if seat == agent => {
                self.not_rated(session)?;
                Ok(session)
            }
            _ => Err(RateError::NotAllowed("the agent is not serving this user")),
        }
    }

    fn not_rated(&self, session: SessionId) -> Result<(), RateError> {
        match self.invitations.get(&session) {
            Some(i) if i.rated => Err(RateError::AlreadyRated),
            _ => Ok(()),
        }
    }

    /// Checks a rating (src 10) at `now_s` against the invitation and the configuration.
    pub fn rate(
        &self,
        session_id: &str,
        id: &str,
        now_s: i64,
        config: Option<&SatisfactionConfig>,
    ) -> Result<Rating, RateError> {
        if id.trim().is_empty() {
            return Err(RateError::BadData);
        }
        let Some(session) = parse_session_id(session_id) else {
            return Err(RateError::Expired);
        };
        let Some(invitation) = self.invitations.get(&session) else {
            // Rating the live session before any agent took it.
            let unserved = self.session == Some(session) && self.served_by.is_none();
            return Err(if unserved {
                RateError::NoAgent
            } else {
                RateError::Expired
            });
        };
        if invitation.rated {
            return Err(RateError::AlreadyRated);
        }
        if now_s > invitation.expire_at_s {
            return Err(RateError::Expired);
        }
        if invitation.agent.is_none() {
            return Err(RateError::NoAgent);
        }
        let config = config.ok_or(RateError::Expired)?;
        let level = config
            .levels
            .iter()
            .find(|l| l.value.to_string() == id)
            .ok_or(RateError::BadData)?;
        Ok(Rating {
            session,
            menu_seq: invitation.menu_seq,
            value: level.value,
            label: level.label.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::directory::RatingLevel;
    use crate::domain::event::TransferTarget;
    use crate::domain::ids::{ChannelId, SatisfactionId};
    use crate::domain::routing::RoutingDecision;
    use proptest::prelude::*;

    const S: SessionId = SessionId(40);
    const A: AgentId = AgentId(20);
    const G: GroupId = GroupId(30);

    fn rules(auto: bool, agent: bool, user: bool) -> Option<SendRules> {
        Some(SendRules {
            auto_on_end: auto,
            agent_may_invite: agent,
            user_may_rate: user,
        })
    }

    fn config() -> SatisfactionConfig {
        SatisfactionConfig {
            id: SatisfactionId(50),
            name: "default".into(),
            kind: RatingKind::Star,
            levels: vec![
                RatingLevel {
                    value: 5,
                    label: "Very satisfied".into(),
                },
                RatingLevel {
                    value: 1,
                    label: "Very dissatisfied".into(),
                },
            ],
            invitation_text: "Please rate this service".into(),
            thank_you_text: "Thank you for your rating".into(),
            validity_secs: 600,
            send_rules: SendRules::default(),
        }
    }

    fn created() -> Event {
        Event::SessionCreated {
            channel: ChannelId(60),
            user: "u".into(),
            last_agent: None,
        }
    }

    fn queued() -> Event {
        Event::SessionQueued {
            group: G,
            queued_at_ms: 0,
            cause: crate::domain::event::QueueCause::New,
        }
    }

    fn assigned() -> Event {
        Event::SessionAssigned {
            agent: A,
            group: Some(G),
            decision: RoutingDecision::direct(Default::default(), 0),
        }
    }

    fn seat(in_seat: bool) -> Effect {
        Effect::Tell(DeskMessage::SeatStatus { in_seat })
    }

    #[test]
    fn seat_status_follows_the_human_and_the_end_says_how_it_ended() {
        let mut s = Service::default();
        let all = rules(true, true, true);
        assert_eq!(
            s.on_session_events(S, &[created(), queued()], all),
            vec![Effect::Queued(G)]
        );
        assert_eq!(s.on_session_events(S, &[assigned()], all), vec![seat(true)]);
        assert_eq!(s.seat, Some(A));
        let ended = Event::SessionEnded {
            close_by: CloseBy::Seat,
        };
        assert_eq!(
            s.on_session_events(S, &[ended], all),
            vec![
                seat(false),
                Effect::Tell(DeskMessage::SessionEnded),
                Effect::Invite {
                    session: S,
                    agent: A
                }
            ]
        );
        assert_eq!(s.session, None);
    }

    #[test]
    fn a_timeout_end_is_src_20_and_no_auto_rule_no_invitation() {
        let mut s = Service::default();
        s.on_session_events(S, &[created(), queued(), assigned()], None);
        let timer = Event::SessionEnded {
            close_by: CloseBy::Timer,
        };
        assert_eq!(
            s.on_session_events(S, &[timer], rules(false, true, true)),
            vec![seat(false), Effect::Tell(DeskMessage::SessionTimedOut)]
        );
    }

    #[test]
    fn a_session_nobody_served_is_not_rated_at_its_end() {
        let mut s = Service::default();
        s.on_session_events(S, &[created(), queued()], None);
        let ended = Event::SessionEnded {
            close_by: CloseBy::Client,
        };
        assert_eq!(
            s.on_session_events(S, &[ended], rules(true, true, true)),
            vec![Effect::Tell(DeskMessage::SessionEnded)]
        );
    }

    #[test]
    fn a_transfer_to_a_group_leaves_the_seat_and_queues_again() {
        let mut s = Service::default();
        s.on_session_events(S, &[created(), queued(), assigned()], None);
        let out = s.on_session_events(
            S,
            &[
                Event::SessionTransferred {
                    from: A,
                    to: TransferTarget::Group(G),
                },
                queued(),
            ],
            None,
        );
        assert_eq!(out, vec![seat(false), Effect::Queued(G)]);
    }

    #[test]
    fn news_of_another_session_changes_nothing() {
        let mut s = Service::default();
        s.on_session_events(S, &[created(), queued(), assigned()], None);
        let before = s.clone();
        let other = SessionId(41);
        let ended = Event::SessionEnded {
            close_by: CloseBy::Seat,
        };
        assert!(s.on_session_events(other, &[ended], None).is_empty());
        assert_eq!(s, before);
    }

    #[test]
    fn the_rule_flag_has_one_bit_per_rule() {
        assert_eq!(rules_flag(None), 0);
        assert_eq!(rules_flag(rules(true, false, false)), 1);
        assert_eq!(rules_flag(rules(false, true, false)), 2);
        assert_eq!(rules_flag(rules(false, false, true)), 4);
        assert_eq!(rules_flag(rules(true, true, true)), 7);
    }

    #[test]
    fn the_menu_lists_levels_by_value_with_the_validity_period() {
        let m = menu(&config(), S, 1_000);
        let ids: Vec<_> = m.menu.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["1", "5"]);
        assert_eq!(m.expire_time, 1_600);
        assert_eq!(m.session_id, "40");
        assert_eq!(m.kind, 1);
    }

    fn invited(rated: bool, agent: Option<AgentId>) -> Service {
        let mut s = Service::default();
        s.apply(&Event::RatingInvited {
            session: S,
            menu_seq: 7,
            expire_at_s: 1_600,
            agent,
        });
        if rated {
            s.apply(&Event::SessionRated {
                session: S,
                value: 5,
                label: "Very satisfied".into(),
            });
        }
        s
    }

    #[test]
    fn a_rating_is_recorded_once_within_the_validity_period() {
        let c = config();
        let s = invited(false, Some(A));
        let ok = s.rate("40", "5", 1_600, Some(&c)).unwrap();
        assert_eq!((ok.value, ok.menu_seq), (5, 7));
        assert_eq!(s.rate("session-40", "1", 1_000, Some(&c)).unwrap().value, 1);
        assert_eq!(s.rate("40", "5", 1_601, Some(&c)), Err(RateError::Expired));
        assert_eq!(s.rate("40", "3", 1_000, Some(&c)), Err(RateError::BadData));
        assert_eq!(s.rate("40", " ", 1_000, Some(&c)), Err(RateError::BadData));
        assert_eq!(s.rate("41", "5", 1_000, Some(&c)), Err(RateError::Expired));
        assert_eq!(s.rate("x", "5", 1_000, Some(&c)), Err(RateError::Expired));
        let rated = invited(true, Some(A));
        assert_eq!(
            rated.rate("40", "5", 1_000, Some(&c)),
            Err(RateError::AlreadyRated)
        );
        let nobody = invited(false, None);
        assert_eq!(
            nobody.rate("40", "5", 1_000, Some(&c)),
            Err(RateError::NoAgent)
        );
    }

    #[test]
    fn rating_the_live_session_before_an_agent_took_it_is_no_agent() {
        let c = config();
        let mut s = Service::default();
        s.on_session_events(S, &[created(), queued()], None);
        assert_eq!(s.rate("40", "5", 0, Some(&c)), Err(RateError::NoAgent));
        let codes: Vec<_> = [
            RateError::Expired,
            RateError::BadData,
            RateError::AlreadyRated,
            RateError::Internal,
            RateError::NoAgent,
        ]
        .iter()
        .map(|e| e.code().unwrap())
        .collect();
        assert_eq!(codes, [10150, 10151, 10152, 10153, 10154]);
    }

    #[test]
    fn the_user_and_the_agent_may_ask_only_as_the_rules_say() {
        let mut s = Service::default();
        s.on_session_events(S, &[created(), queued()], None);
        assert!(matches!(
            s.user_asks(rules(false, false, true)),
            Err(RateError::NotAllowed(_))
        ));
        s.on_session_events(S, &[assigned()], None);
        assert_eq!(s.user_asks(rules(false, false, true)), Ok((S, A)));
        assert!(s.user_asks(rules(true, true, false)).is_err());
        assert_eq!(s.agent_invites(A, rules(false, true, false)), Ok(S));
        assert!(s.agent_invites(A, rules(true, false, true)).is_err());
        assert!(
            s.agent_invites(AgentId(21), rules(true, true, true))
                .is_err()
        );
        s.apply(&Event::RatingInvited {
            session: S,
            menu_seq: 3,
            expire_at_s: 10,
            agent: Some(A),
        });
        s.apply(&Event::SessionRated {
            session: S,
            value: 1,
            label: "x".into(),
        });
        assert_eq!(
            s.user_asks(rules(false, false, true)),
            Err(RateError::AlreadyRated)
        );
    }

    #[test]
    fn old_invitations_are_forgotten_past_the_cap() {
        let mut s = Service::default();
        for i in 0..(MAX_INVITATIONS as u64 + 5) {
            s.apply(&Event::RatingInvited {
                session: SessionId(100 + i),
                menu_seq: i,
                expire_at_s: 0,
                agent: None,
            });
        }
        assert_eq!(s.invitations.len(), MAX_INVITATIONS);
        assert!(!s.invitations.contains_key(&SessionId(100)));
    }

    fn desk(m: DeskMessage) -> Body {
        m.to_body()
    }

    fn items(names: &[&str]) -> Vec<crate::im::protocol::Item> {
        names
            .iter()
            .map(|n| crate::im::protocol::Item {
                content: (*n).into(),
                desc: format!("about {n}"),
            })
            .collect()
    }

    fn selected(body: &Body) -> serde_json::Value {
        desk_value(body).unwrap()["content"]["selected"].clone()
    }

    #[test]
    fn a_branch_menu_takes_an_exact_item_once() {
        let menu = desk(DeskMessage::BranchMenu {
            header: "Please select".into(),
            items: items(&["Pre-sales", "After-sales"]),
            tail: None,
            selected: None,
        });
        assert_eq!(answer_prompt(&menu, "pre-sales"), None, "exact match only");
        assert_eq!(answer_prompt(&menu, "Pre-sales "), None);
        let picked = answer_prompt(&menu, "After-sales").unwrap();
        assert_eq!(
            selected(&picked),
            serde_json::json!({"content": "After-sales", "desc": "about After-sales"})
        );
        assert_eq!(answer_prompt(&picked, "Pre-sales"), None, "answered once");
    }

    #[test]
    fn forms_take_free_text_or_an_option() {
        let free = desk(DeskMessage::Form {
            kind: 0,
            header: "Your order number?".into(),
            items: None,
            selected: None,
        });
        let answered = answer_prompt(&free, "A-1234").unwrap();
        assert_eq!(
            selected(&answered),
            serde_json::json!({"content": "A-1234"})
        );
        let options = desk(DeskMessage::Form {
            kind: 1,
            header: "What do you like to eat?".into(),
            items: Some(items(&["Apple", "Peach"])),
            selected: None,
        });
        assert_eq!(answer_prompt(&options, "Banana"), None);
        assert!(answer_prompt(&options, "Peach").is_some());
        let text = Body::Text { text: "hi".into() };
        assert_eq!(answer_prompt(&text, "hi"), None);
        assert_eq!(answer_prompt(&desk(DeskMessage::Typing), "hi"), None);
    }

    #[test]
    fn a_stream_grows_until_finished() {
        let start = desk(DeskMessage::StreamText {
            chunks: vec!["Hel".into()],
            finished: false,
        });
        let more = extend_stream(&start, "lo", false).unwrap();
        let done = extend_stream(&more, "!", true).unwrap();
        let v = desk_value(&done).unwrap();
        assert_eq!(v["chunks"], serde_json::json!(["Hel", "lo", "!"]));
        assert_eq!(v["isFinished"], 1);
        assert_eq!(
            extend_stream(&done, "x", true),
            None,
            "finished streams stay"
        );
        assert_eq!(
            extend_stream(&Body::Text { text: "x".into() }, "x", true),
            None
        );
    }

    proptest! {
        /// Any text against any menu: answered only by an item's exact content.
        #[test]
        fn only_an_item_answers_a_menu(text in ".{0,12}", names in proptest::collection::vec("[a-c]{1,2}", 0..4)) {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let menu = desk(DeskMessage::BranchMenu {
                header: "h".into(),
                items: items(&refs),
                tail: None,
                selected: None,
            });
            let answered = answer_prompt(&menu, &text);
            prop_assert_eq!(answered.is_some(), names.contains(&text));
        }


        /// Whatever the rating text, checking it never panics and accepts only a level's value.
        #[test]
        fn any_rating_text_is_checked_without_panic(session in ".{0,12}", id in ".{0,6}") {
            let c = config();
            let s = invited(false, Some(A));
            if let Ok(r) = s.rate(&session, &id, 0, Some(&c)) {
                prop_assert!(r.value == 1 || r.value == 5);
                prop_assert_eq!(r.session, S);
            }
        }

        /// The seat is held exactly between a take and the next leave, whatever the order.
        #[test]
        fn seat_effects_alternate(steps in proptest::collection::vec(0u8..4, 0..30)) {
            let mut s = Service::default();
            s.on_session_events(S, &[created()], None);
            let mut seated = false;
            for step in steps {
                let event = match step {
                    0 => assigned(),
                    1 => queued(),
                    2 => Event::SessionTransferred { from: A, to: TransferTarget::Group(G) },
                    _ => Event::SessionAccepted { agent: A },
                };
                for e in s.on_session_events(S, &[event], None) {
                    if let Effect::Tell(DeskMessage::SeatStatus { in_seat }) = e {
                        prop_assert_ne!(in_seat, seated);
                        seated = in_seat;
                    }
                }
                prop_assert_eq!(seated, s.seat.is_some());
            }
        }
    }
}
