//! The WebSockets: `/ws/im` for users and website visitors, `/ws/agent` for agents.
//!
//! Both authenticate before the upgrade (a refused credential is a 401 with its reason, as
//! on REST) and carry JSON text frames with a `type`. What a frame asks is done by the hub
//! (`crate::im::hub`); every frame the socket sends was durable first.
//!
//! A user socket may resume: `?resume=<conversationId>:<seq>,...` sends every stored message
//! after `seq` before anything live, and the socket never sends a stored message twice.
//! A socket whose client stops reading is closed once [`OUTBOX`](crate::im::hub::OUTBOX)
//! frames wait for it; its client reconnects and resumes.
//!
//! A user socket lives no longer than its token: it closes, with a last `closed` frame, at
//! the token's expiry or once the IM secret that signed it is past its grace. A user holds
//! at most `user_end.sockets_per_user` sockets, and its messages pass its rate limit
//! (`crate::api::user_limits`) or get a `rate_limited` frame. A visitor's cookie opens a
//! socket only from a page of an origin its website channel allows.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;

use crate::domain::agent::AgentCommand;
use crate::domain::conversation::Body;
use crate::domain::event::AgentStatus;
use crate::domain::ids::{AgentId, AppId, ConversationId, SessionId};
use crate::im::hub::{self, AgentAction, Outbound, UserMessage};

use super::error::{ApiError, Params, parse_frame};
use super::heartbeat::Heartbeat;
use super::im::{ImUser, user_checked};
use super::{ApiState, AppState};

/// Largest frame a socket reads; larger ones get an error frame and change nothing.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Largest frame the WebSocket layer takes at all: beyond it the socket is closed (1009).
const MAX_WIRE_BYTES: usize = 1024 * 1024;
/// Stored messages read per step of a backlog.
const BACKLOG_PAGE: usize = 256;
/// How often a user socket looks at its token again: a rotation of the IM secret shortens
/// the life of tokens signed with the old one, and the socket learns of it at most this late.
pub const TOKEN_RECHECK_MS: i64 = 60_000;

/// How a user socket is opened.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSocketQuery {
    /// The user token (browsers cannot set headers on a WebSocket).
    pub token: Option<String>,
    /// Where to resume: `<conversationId>:<seq>` pairs, comma-separated.
    pub resume: Option<String>,
    /// The app the client expects the token to be of (refused when it is not).
    pub app: Option<u32>,
    /// The user id the client says it is (refused when the token is for another).
    pub user: Option<String>,
    /// A website channel's visitor: its cookie (`hl_visitor_<webAppId>`) is the credential,
    /// taken only from a page of an origin the channel allows.
    #[serde(rename = "webAppId")]
    pub web_app_id: Option<String>,
}

/// How an agent socket is opened.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSocketQuery {
    /// A single-use ticket from `POST /api/v1/ws-tickets` (browsers cannot set headers on
    /// a WebSocket; a ticket in a URL a proxy logs is spent by then).
    pub ticket: Option<String>,
    /// A sign-in token: read only to refuse it, with the reason (URLs end up in logs).
    pub token: Option<String>,
    /// `<feed>:<feedSeq>`: the feed id and the last number the client received.
    pub resume: Option<String>,
}

/// The credential of a socket: `token` in the query, `Authorization: Bearer`, or (users
/// only) the website visitor cookie.
fn credential<'a>(
    query: Option<&'a str>,
    headers: &'a HeaderMap,
    cookie: Option<&str>,
) -> Result<&'a str, ApiError> {
    if let Some(token) = query {
        return Ok(token);
    }
    if let Some(credential) = super::auth::bearer_header(headers) {
        return credential;
    }
    if let Some(name) = cookie
        && let Some(token) = cookie_value(headers, name)
    {
        return Ok(token);
    }
    Err(ApiError::Unauthorized(
        "no credential: give ?token=, an Authorization header or ?webAppId= with the visitor cookie".into(),
    ))
}

/// A cookie's value.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Reads `resume`: `<conversationId>:<seq>` pairs.
fn parse_resume(text: &str) -> Result<Vec<(ConversationId, u64)>, ApiError> {
    let bad = || ApiError::invalid("resume", "expected <conversationId>:<seq>[,...]");
    let pairs = text
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (c, s) = pair.split_once(':').ok_or_else(bad)?;
            let c = c.parse::<u64>().map_err(|_| bad())?;
            let s = s.parse::<u64>().map_err(|_| bad())?;
            Ok((ConversationId(c), s))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    if pairs.len() > 1_000 {
        return Err(ApiError::invalid("resume", "at most 1000 conversations"));
    }
    Ok(pairs)
}

/// `GET /ws/im`: a user's socket.
pub async fn user_socket(
    State(state): State<AppState>,
    Params(query): Params<UserSocketQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let site = match &query.web_app_id {
        Some(web_app_id) => {
            let dir = state.desk.read();
            let (app, channel) = dir.website(web_app_id).ok_or_else(|| {
                ApiError::invalid(
                    "webAppId",
                    format!("{web_app_id:?} is not a website channel"),
                )
            })?;
            Some((web_app_id.clone(), app, channel.id))
        }
        None => None,
    };
    let cookie = site.as_ref().map(|(id, ..)| super::web::visitor_cookie(id));
    let token = credential(query.token.as_deref(), &headers, cookie.as_deref())?;
    let by_cookie = query.token.is_none() && super::auth::bearer_header(&headers).is_none();
    let mut expected_app = query.app.map(AppId);
    if let (true, Some((_, app, channel))) = (by_cookie, &site) {
        // A cookie rides along with any page's request: only allowed pages may use it.
        super::web::check_origin(&state, &headers, *app, *channel)?;
        expected_app = expected_app.or(Some(*app));
    }
    let user = user_checked(&state, token, expected_app, query.user.as_deref())?;
    let token = token.to_owned();
    let resume = parse_resume(query.resume.as_deref().unwrap_or(""))?;
    // Registered before the upgrade, so the cap holds however many upgrades race; a socket
    // that never opens drops its subscription, which then counts no more.
    let most = state.user_limits.limits().sockets_per_user;
    let Some(subscription) = state.hub.try_subscribe_user(user.app, &user.user, most) else {
        super::user_limits::count(super::user_limits::reason::SOCKETS);
        return Err(ApiError::Conflict(format!(
            "{} has {most} sockets open, the most one user may (user_end.sockets_per_user); close one first",
            user.user
        )));
    };
    Ok(upgrade
        .max_message_size(MAX_WIRE_BYTES)
        .on_upgrade(move |socket| serve_user(state, user, token, subscription, resume, socket)))
}

/// Sends a frame; false once the socket is gone.
async fn send(sink: &mut (impl SinkExt<WsMessage> + Unpin), text: &str) -> bool {
    sink.send(WsMessage::Text(text.into())).await.is_ok()
}

/// What a socket read.
enum Read {
    /// A text frame.
    Text(axum::extract::ws::Utf8Bytes),
    /// A binary frame (refused: frames are JSON text).
    Binary,
    /// A ping or pong (the WebSocket layer answers pings).
    Nothing,
    /// The socket closed or failed.
    Closed,
}

fn read(inbound: Option<Result<WsMessage, axum::Error>>) -> Read {
    match inbound {
        Some(Ok(WsMessage::Text(text))) => Read::Text(text),
        Some(Ok(WsMessage::Binary(_))) => Read::Binary,
        Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => Read::Nothing,
        Some(Ok(WsMessage::Close(_)) | Err(_)) | None => Read::Closed,
    }
}

fn not_text() -> ApiError {
    ApiError::invalid("frame", "frames are JSON text")
}

/// Reads a frame of at most [`MAX_FRAME_BYTES`].
fn read_frame<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(ApiError::TooLarge {
            limit: MAX_FRAME_BYTES,
        });
    }
    parse_frame(text.as_bytes())
}

/// Says goodbye (the client may be gone already).
async fn close(sink: &mut (impl SinkExt<WsMessage> + Unpin)) {
    let bye = CloseFrame {
        code: 1000,
        reason: "bye".into(),
    };
    let _ = sink.send(WsMessage::Close(Some(bye))).await;
}

/// What a user socket has sent of each conversation.
#[derive(Default)]
struct Sent(HashMap<ConversationId, u64>);

impl Sent {
    /// Whether `frame` is new to this socket (stored messages go once, in order).
    fn admit(&mut self, frame: &Outbound) -> bool {
        let Some((conversation, seq)) = frame.place else {
            return true;
        };
        let last = self.0.entry(conversation).or_insert(0);
        if seq <= *last {
            return false;
        }
        *last = seq;
        true
    }
}

/// When a user socket next looks at its token: when it stops being good, or sooner to
/// hear of a rotation of the IM secret; never now, so a token good to the ms cannot spin.
fn next_token_check(state: &ApiState, token: &str, user: &ImUser) -> tokio::time::Instant {
    let now = state.clock.now_ms();
    let until = super::im::valid_until_ms(state, token, user);
    // Spread over the last half of the period, so sockets opened together do not all
    // recheck in the same instant (the token's own end is kept exactly).
    let recheck =
        TOKEN_RECHECK_MS - (super::heartbeat::spread() * (TOKEN_RECHECK_MS / 2) as f64) as i64;
    let at = until.min(now + recheck).max(now + 1);
    state.clock.instant_at(at)
}

/// Whether the socket's token is still good; the closing frame when it is not: its `exp`
/// passed, or the IM secret that signed it is past its grace.
fn token_still_good(state: &ApiState, token: &str, user: &ImUser) -> Result<(), Arc<str>> {
    match user_checked(state, token, Some(user.app), None) {
        Ok(_) => Ok(()),
        Err(e) if state.clock.now_ms().div_euclid(1_000) >= user.expires_at => Err(
            hub::user_closed("token_expired", &format!("the user token expired ({e})")),
        ),
        Err(e) => Err(hub::user_closed(
            "secret_rotated",
            &format!(
                "the app's IM secret was rotated and its grace is over ({e}); get a new token"
            ),
        )),
    }
}

async fn serve_user(
    state: AppState,
    user: ImUser,
    token: String,
    // Registered before the backlog is read: nothing stored in between is missed.
    mut subscription: hub::Subscription,
    resume: Vec<(ConversationId, u64)>,
    socket: WebSocket,
) {
    let mut check_at = next_token_check(&state, &token, &user);
    let vouched = ImUser {
        app: user.app,
        user: user.user.clone(),
        expires_at: user.expires_at,
    };
    let ImUser { app, user, .. } = user;
    let (mut sink, mut stream) = socket.split();
    let mut sent = Sent::default();
    let mut open = true;
    for (conversation, after) in resume {
        sent.0.insert(conversation, after);
        if !send_backlog(&state, app, &user, conversation, &mut sent, &mut sink).await {
            open = false;
            break;
        }
    }
    let mut heartbeat = Heartbeat::new(Duration::from_secs(state.config.server.ws_ping_secs));
    while open {
        tokio::select! {
            inbound = stream.next() => {
                heartbeat.heard();
                let reply = match read(inbound) {
                    Read::Text(text) => user_frame(&state, app, &user, text.as_str()).await,
                    Read::Binary => Some(hub::user_error(None, &not_text())),
                    Read::Nothing => None,
                    Read::Closed => break,
                };
                if let Some(reply) = reply {
                    open = send(&mut sink, &reply).await;
                }
            }
            outbound = subscription.rx.recv() => match outbound {
                Some(frame) => {
                    if sent.admit(&frame) {
                        open = send(&mut sink, &frame.text).await;
                    }
                }
                None => break,
            },
            ping = heartbeat.due() => match ping {
                Some(ping) => open = sink.send(ping).await.is_ok(),
                None => break,
            },
            () = tokio::time::sleep_until(check_at) => {
                if let Err(last) = token_still_good(&state, &token, &vouched) {
                    let _ = send(&mut sink, &last).await;
                    break;
                }
                check_at = next_token_check(&state, &token, &vouched);
            }
        }
    }
    state.hub.unsubscribe_user(app, &user, subscription.id());
    close(&mut sink).await;
}

async fn send_backlog(
    state: &ApiState,
    app: AppId,
    user: &str,
    conversation: ConversationId,
    sent: &mut Sent,
    sink: &mut (impl SinkExt<WsMessage> + Unpin),
) -> bool {
    let Ok(dir) = state.desk.app(app) else {
        return false;
    };
    loop {
        let after = sent.0.get(&conversation).copied().unwrap_or(0);
        let backlog = state
            .hub
            .backlog(&dir, app, user, conversation, after, BACKLOG_PAGE);
        let Some(page) = backlog.await else {
            let e = ApiError::invalid("resume", format!("{conversation} is not yours"));
            return send(sink, &hub::user_error(None, &e)).await;
        };
        let done = page.len() < BACKLOG_PAGE;
        for frame in page {
            if sent.admit(&frame) && !send(sink, &frame.text).await {
                return false;
            }
        }
        if done {
            return true;
        }
    }
}

/// A frame from a user.
#[derive(Deserialize)]
#[serde(
    rename_all = "snake_case",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
enum UserInbound {
    /// Send a message.
    Send {
        to: String,
        msg_id: String,
        #[serde(default)]
        online_user_only: bool,
        body: Body,
    },
    /// Keep the socket open (answered with `pong`).
    Ping {},
}

/// Reads a user's frame as the socket does, without acting on it: the size limit, the JSON
/// shape, and for a message its body's limits and desk data. For fuzzing and tests.
pub fn check_user_frame(text: &str) -> Result<(), ApiError> {
    match read_frame::<UserInbound>(text)? {
        UserInbound::Ping {} => Ok(()),
        UserInbound::Send { body, .. } => {
            hub::desk_data(&body)?;
            body.check()?;
            Ok(())
        }
    }
}

/// Reads an agent's frame as the socket does, without acting on it. For fuzzing and tests.
pub fn check_agent_frame(text: &str) -> Result<(), ApiError> {
    let (_, text) = take_ref(text)?;
    match read_frame::<AgentInbound>(&text)? {
        AgentInbound::Send { body, .. } => {
            body.check()?;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Handles one frame from a user; answers the frame to send back.
pub async fn user_frame(
    state: &ApiState,
    app: AppId,
    user: &str,
    text: &str,
) -> Option<std::sync::Arc<str>> {
    let frame = match read_frame::<UserInbound>(text) {
        Ok(frame) => frame,
        Err(e) => return Some(hub::user_error(None, &e)),
    };
    match frame {
        UserInbound::Ping {} => Some(r#"{"type":"pong"}"#.into()),
        UserInbound::Send {
            to,
            msg_id,
            online_user_only,
            body,
        } => {
            let bytes = super::user_limits::message_bytes(&body);
            let now = state.clock.now_ms();
            if let Err(limited) = state.user_limits.message(app, user, bytes, now) {
                let frame =
                    hub::user_rate_limited(Some(&msg_id), &limited.message, limited.retry_after_ms);
                return Some(frame);
            }
            let message = UserMessage {
                to,
                msg_id: msg_id.clone(),
                online_user_only,
                body,
            };
            let reply = match state.hub.user_send(state, app, user, message).await {
                Ok(sent) => serde_json::to_string(&hub::UserFrame::Ack {
                    msg_id: &msg_id,
                    conversation_id: sent.conversation_id,
                    seq: sent.seq,
                    duplicate: sent.duplicate,
                })
                .map(Into::into)
                .unwrap_or_else(|_| hub::user_error(Some(&msg_id), &ApiError::Internal("ack"))),
                Err(e) => hub::user_error(Some(&msg_id), &e),
            };
            Some(reply)
        }
    }
}

/// `GET /ws/agent`: an agent's socket.
pub async fn agent_socket(
    State(state): State<AppState>,
    Params(query): Params<AgentSocketQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if query.token.is_some() {
        return Err(ApiError::Unauthorized(
            "a sign-in token is not taken in the URL (proxies log URLs): ask POST \
             /api/v1/ws-tickets for a ticket and open /ws/agent?ticket=<ticket>"
                .to_owned(),
        ));
    }
    let who = match (&query.ticket, super::auth::bearer_header(&headers)) {
        (Some(ticket), _) => super::auth::take_ticket(&state, ticket)?,
        (None, Some(bearer)) => super::auth::signed(&state, bearer?)?,
        (None, None) => {
            return Err(ApiError::Unauthorized(
                "no credential: give ?ticket= (POST /api/v1/ws-tickets) or an Authorization \
                 header"
                    .to_owned(),
            ));
        }
    };
    let Some((agent, token_hash)) = who.agent.zip(who.token_hash) else {
        return Err(ApiError::forbidden(
            "an agent's sign-in token opens this socket, not an API key",
        ));
    };
    if who.must_change_password {
        return Err(ApiError::Forbidden {
            code: "password_change_required",
            message: "change your password first (POST /api/v1/auth/password)".to_owned(),
        });
    }
    let resume = query
        .resume
        .as_deref()
        .map(crate::im::feed::parse_resume)
        .transpose()
        .map_err(|e| ApiError::invalid("resume", e))?;
    Ok(upgrade
        .max_message_size(MAX_WIRE_BYTES)
        .on_upgrade(move |socket| serve_agent(state, agent, token_hash, resume, socket)))
}

/// Longest `ref` a command may carry.
const MAX_REF_CHARS: usize = 128;

/// Takes a command's `ref` (echoed in its reply) out of its frame. A frame that is not a JSON
/// object is left for the frame reader to refuse.
fn take_ref(text: &str) -> Result<(Option<String>, std::borrow::Cow<'_, str>), ApiError> {
    use std::borrow::Cow;
    if text.len() > MAX_FRAME_BYTES || !text.contains("\"ref\"") {
        return Ok((None, Cow::Borrowed(text)));
    }
    let Ok(serde_json::Value::Object(mut map)) = serde_json::from_str(text) else {
        return Ok((None, Cow::Borrowed(text)));
    };
    let reference = match map.remove("ref") {
        None => return Ok((None, Cow::Borrowed(text))),
        Some(serde_json::Value::String(r)) if r.chars().count() <= MAX_REF_CHARS => r,
        Some(serde_json::Value::String(_)) => {
            return Err(ApiError::invalid(
                "ref",
                format!("longer than {MAX_REF_CHARS} characters"),
            ));
        }
        Some(_) => return Err(ApiError::invalid("ref", "not a string")),
    };
    let rest = serde_json::Value::Object(map).to_string();
    Ok((Some(reference), Cow::Owned(rest)))
}

async fn serve_agent(
    state: AppState,
    agent: AgentId,
    token_hash: String,
    resume: Option<crate::im::feed::Resume>,
    socket: WebSocket,
) {
    let mut feed = state.hub.subscribe_agent(agent, resume.as_ref());
    let (mut sink, mut stream) = socket.split();
    let mut open = true;
    for frame in std::mem::take(&mut feed.first) {
        if !send(&mut sink, &frame).await {
            open = false;
            break;
        }
    }
    let mut heartbeat = Heartbeat::new(Duration::from_secs(state.config.server.ws_ping_secs));
    while open {
        tokio::select! {
            inbound = stream.next() => {
                heartbeat.heard();
                let reply = match read(inbound) {
                    Read::Text(text) => {
                        agent_frame(&state, agent, &token_hash, text.as_str()).await
                    }
                    Read::Binary => Some(hub::agent_error(None, None, &not_text())),
                    Read::Nothing => None,
                    Read::Closed => break,
                };
                if let Some(reply) = reply {
                    open = send(&mut sink, &reply).await;
                }
            }
            // The feed closes the channel when the socket stalls or its sign-in ends (after
            // the `signed_out` frame).
            outbound = feed.rx.recv() => match outbound {
                Some(frame) => open = send(&mut sink, &frame).await,
                None => break,
            },
            ping = heartbeat.due() => match ping {
                Some(ping) => open = sink.send(ping).await.is_ok(),
                None => break,
            },
        }
    }
    let last = state.hub.unsubscribe_agent(agent, feed.id());
    close(&mut sink).await;
    if let Some(mark) = last {
        super::presence::watch_away(&state, agent, mark);
    }
}

/// A status an agent sets from the socket.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum SocketStatus {
    Free,
    Busy,
    /// A short break, with one of the app's enabled rest reasons.
    Rest,
    Arrange,
    NotReady,
}

/// The status an agent asks for, with a rest reason checked against the app's enabled ones.
fn socket_status(
    state: &ApiState,
    app: AppId,
    status: SocketStatus,
    reason: Option<String>,
) -> Result<AgentStatus, ApiError> {
    if !matches!(status, SocketStatus::Rest) && reason.is_some() {
        return Err(ApiError::invalid(
            "reason",
            "only a rest status takes a reason",
        ));
    }
    Ok(match status {
        SocketStatus::Free => AgentStatus::Free,
        SocketStatus::Busy => AgentStatus::Busy,
        SocketStatus::Arrange => AgentStatus::Arrange,
        SocketStatus::NotReady => AgentStatus::NotReady,
        SocketStatus::Rest => {
            let reason = reason
                .ok_or_else(|| ApiError::invalid("reason", "a rest status needs a reason"))?;
            let enabled = state
                .desk
                .app(app)?
                .rest_reasons
                .values()
                .any(|r| r.enabled && r.name == reason);
            if !enabled {
                return Err(ApiError::invalid(
                    "reason",
                    format!("{reason:?} is not an enabled rest reason"),
                ));
            }
            AgentStatus::Rest { reason }
        }
    })
}

/// A frame from an agent.
#[derive(Deserialize)]
#[serde(
    rename_all = "snake_case",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
enum AgentInbound {
    /// Go online (the app's default login status).
    Online {},
    /// Go offline.
    Offline {},
    /// Set a status while online (`rest` names an enabled rest reason).
    Status {
        status: SocketStatus,
        #[serde(default)]
        reason: Option<String>,
    },
    /// Hand a session to a skill group's queue.
    TransferToGroup {
        session_id: SessionId,
        group_id: crate::domain::ids::GroupId,
    },
    /// Hand a session to a named agent, who must be free and under its limit now.
    TransferToAgent {
        session_id: SessionId,
        agent_id: AgentId,
    },
    /// Send one of the app's quick replies.
    QuickReply {
        session_id: SessionId,
        msg_id: String,
        quick_reply_id: crate::domain::ids::QuickReplyId,
    },
    /// Start a chat with an in-app user through a virtual number (proactive contact), or
    /// contact the user of a finished conversation again through its virtual number.
    Proactive {
        #[serde(default)]
        user_id: Option<String>,
        #[serde(default)]
        virtual_number: Option<String>,
        #[serde(default)]
        conversation_id: Option<ConversationId>,
    },
    /// Accept an offered session.
    Accept { session_id: SessionId },
    /// Send the user a message (text, or a card: custom with src "22").
    Send {
        session_id: SessionId,
        msg_id: String,
        body: Body,
    },
    /// Typing (the user sees src 12).
    Typing { session_id: SessionId },
    /// Invite the user to rate (src 9).
    InviteRating { session_id: SessionId },
    /// End the session.
    End { session_id: SessionId },
    /// Keep the socket open.
    Ping {},
}

impl AgentInbound {
    /// The session the command names, if any.
    fn session_id(&self) -> Option<SessionId> {
        match self {
            Self::TransferToGroup { session_id, .. }
            | Self::TransferToAgent { session_id, .. }
            | Self::QuickReply { session_id, .. }
            | Self::Accept { session_id }
            | Self::Send { session_id, .. }
            | Self::Typing { session_id }
            | Self::InviteRating { session_id }
            | Self::End { session_id } => Some(*session_id),
            Self::Online {} | Self::Offline {} | Self::Status { .. } | Self::Proactive { .. } => {
                None
            }
            Self::Ping {} => None,
        }
    }
}

/// Handles one frame from an agent's socket opened by the sign-in whose token hashes to
/// `token_hash`; answers the frame to send back.
pub async fn agent_frame(
    state: &ApiState,
    agent: AgentId,
    token_hash: &str,
    text: &str,
) -> Option<std::sync::Arc<str>> {
    // The sign-in may have ended or expired since the socket opened.
    let handled = match super::auth::signed_hash(state, token_hash) {
        Ok(who) => agent_command(state, who.app, agent, text).await,
        Err(e) => Handled {
            command: None,
            reference: None,
            outcome: Err(e),
        },
    };
    Some(handled.frame())
}

/// What an agent's command came to.
pub struct Handled {
    /// The command, when the frame named one.
    pub command: Option<String>,
    /// The command's `ref`.
    pub reference: Option<String>,
    /// Done, or refused (nothing changed).
    pub outcome: Result<Done, ApiError>,
}

/// A command carried out.
pub enum Done {
    /// An answer to `ping`.
    Pong,
    /// Anything else: its session, and for `send` the message's id and place.
    Ok {
        /// The session.
        session: Option<SessionId>,
        /// For `send`: the client's message id.
        msg_id: Option<String>,
        /// For `send`: the stored message's place.
        seq: Option<u64>,
    },
}

impl Handled {
    /// The reply as a frame: `ok`, `pong` or `error`.
    pub fn frame(&self) -> std::sync::Arc<str> {
        let reference = self.reference.as_deref();
        let command = self.command.as_deref();
        match &self.outcome {
            Ok(Done::Pong) => match reference {
                Some(r) => serde_json::json!({"type": "pong", "ref": r})
                    .to_string()
                    .into(),
                None => r#"{"type":"pong"}"#.into(),
            },
            Ok(Done::Ok {
                session,
                msg_id,
                seq,
            }) => serde_json::to_string(&hub::AgentFrame::Ok {
                command: command.unwrap_or_default(),
                r#ref: reference,
                session_id: *session,
                msg_id: msg_id.as_deref(),
                seq: *seq,
            })
            .map(Into::into)
            .unwrap_or_else(|_| hub::agent_error(command, reference, &ApiError::Internal("ok"))),
            Err(e) => hub::agent_error(command, reference, e),
        }
    }
}

/// Carries out one command of an agent (a socket frame or a REST body).
pub async fn agent_command(state: &ApiState, app: AppId, agent: AgentId, text: &str) -> Handled {
    // Name the command when the frame says which, so clients can match the answer.
    let command_of = || {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.get("type")?.as_str().map(str::to_owned))
    };
    let refused = |reference: Option<String>, e: ApiError| Handled {
        command: command_of(),
        reference,
        outcome: Err(e),
    };
    let (reference, text) = match take_ref(text) {
        Ok(taken) => taken,
        Err(e) => return refused(None, e),
    };
    let frame = match read_frame::<AgentInbound>(&text) {
        Ok(frame) => frame,
        Err(e) => return refused(reference, e),
    };
    let engine = &state.desk.engine;
    // Another app's session is answered as one that does not exist, and left asleep.
    if let Some(session) = frame.session_id()
        && state
            .hub
            .session_app(engine, session)
            .await
            .is_some_and(|owner| owner != app)
    {
        return refused(reference, ApiError::NotFound(session.to_string()));
    }
    let (name, session, outcome) = match frame {
        AgentInbound::Ping {} => {
            return Handled {
                command: Some("ping".to_owned()),
                reference,
                outcome: Ok(Done::Pong),
            };
        }
        AgentInbound::Online {} => (
            "online",
            None,
            engine
                .agent(agent, AgentCommand::Login)
                .await
                .map(|_| None)
                .map_err(ApiError::from),
        ),
        AgentInbound::Offline {} => (
            "offline",
            None,
            engine
                .agent(agent, AgentCommand::Logout)
                .await
                .map(|_| None)
                .map_err(ApiError::from),
        ),
        AgentInbound::Status { status, reason } => {
            let done = match socket_status(state, app, status, reason) {
                Ok(status) => engine
                    .agent(agent, AgentCommand::SetStatus(status))
                    .await
                    .map(|_| None)
                    .map_err(ApiError::from),
                Err(e) => Err(e),
            };
            ("status", None, done)
        }
        AgentInbound::TransferToGroup {
            session_id,
            group_id,
        } => {
            let command = crate::domain::session::SessionCommand::TransferToGroup {
                from: agent,
                group: group_id,
            };
            let done = engine.session(session_id, command).await;
            (
                "transfer_to_group",
                Some(session_id),
                done.map(|_| None).map_err(ApiError::from),
            )
        }
        AgentInbound::TransferToAgent {
            session_id,
            agent_id,
        } => {
            let done = engine.transfer_to_agent(session_id, agent, agent_id).await;
            (
                "transfer_to_agent",
                Some(session_id),
                done.map(|_| None).map_err(ApiError::from),
            )
        }
        AgentInbound::QuickReply {
            session_id,
            msg_id,
            quick_reply_id,
        } => {
            let content = state.desk.app(app).ok().and_then(|d| {
                d.quick_replies
                    .get(&quick_reply_id)
                    .map(|q| q.content.clone())
            });
            let done = match content {
                Some(text) => {
                    let action = AgentAction::Send {
                        msg_id,
                        body: Body::Text { text },
                    };
                    state.hub.agent_act(state, agent, session_id, action).await
                }
                None => Err(ApiError::invalid(
                    "quickReplyId",
                    format!("{quick_reply_id} is not a quick reply of this app"),
                )),
            };
            ("quick_reply", Some(session_id), done)
        }
        AgentInbound::Proactive {
            user_id,
            virtual_number,
            conversation_id,
        } => {
            let party = match (user_id, virtual_number, conversation_id) {
                (Some(user), Some(number), None) => {
                    let channel = state.desk.read().virtual_number(app, &number);
                    channel.map(|c| (c, user)).ok_or_else(|| {
                        ApiError::invalid(
                            "virtualNumber",
                            format!("{number:?} is not a virtual number of this app"),
                        )
                    })
                }
                (None, None, Some(conversation)) => {
                    state.hub.conversation_party(app, conversation).await
                }
                (None, Some(_), None) => Err(ApiError::invalid("userId", "missing")),
                (Some(_), None, None) => Err(ApiError::invalid("virtualNumber", "missing")),
                (None, None, None) => Err(ApiError::invalid(
                    "userId",
                    "name the user and virtual number, or a conversationId",
                )),
                _ => Err(ApiError::invalid(
                    "conversationId",
                    "give either a conversationId or a userId and virtualNumber, not both",
                )),
            };
            let started = match party {
                Ok((channel, user)) => state
                    .hub
                    .start_contact(state, app, agent, channel, &user)
                    .await
                    .map(|(session, _)| session),
                Err(e) => Err(e),
            };
            let session = started.as_ref().ok().copied();
            ("proactive", session, started.map(|_| None))
        }
        AgentInbound::Accept { session_id } => (
            "accept",
            Some(session_id),
            state
                .hub
                .agent_act(state, agent, session_id, AgentAction::Accept)
                .await,
        ),
        AgentInbound::Send {
            session_id,
            msg_id,
            body,
        } => {
            let action = AgentAction::Send {
                msg_id: msg_id.clone(),
                body,
            };
            let done = state.hub.agent_act(state, agent, session_id, action).await;
            return Handled {
                command: Some("send".to_owned()),
                reference,
                outcome: done.map(|seq| Done::Ok {
                    session: Some(session_id),
                    msg_id: Some(msg_id),
                    seq,
                }),
            };
        }
        AgentInbound::Typing { session_id } => (
            "typing",
            Some(session_id),
            state
                .hub
                .agent_act(state, agent, session_id, AgentAction::Typing)
                .await,
        ),
        AgentInbound::InviteRating { session_id } => (
            "invite_rating",
            Some(session_id),
            state
                .hub
                .agent_act(state, agent, session_id, AgentAction::InviteRating)
                .await,
        ),
        AgentInbound::End { session_id } => (
            "end",
            Some(session_id),
            state
                .hub
                .agent_act(state, agent, session_id, AgentAction::End)
                .await,
        ),
    };
    Handled {
        command: Some(name.to_owned()),
        reference,
        outcome: outcome.map(|seq| Done::Ok {
            session,
            msg_id: None,
            seq,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_pairs_are_read_and_bad_ones_named() {
        assert_eq!(
            parse_resume("17:4,18:0").unwrap(),
            vec![(ConversationId(17), 4), (ConversationId(18), 0)]
        );
        assert!(parse_resume("").unwrap().is_empty());
        for bad in ["17", "17:x", "x:1", "17:-1", "1:2:3"] {
            let e = parse_resume(bad).unwrap_err();
            assert_eq!(e.body().error.field.as_deref(), Some("resume"), "{bad}");
        }
    }

    #[test]
    fn a_socket_sends_each_stored_message_once_in_order() {
        let mut sent = Sent::default();
        let c = ConversationId(20);
        let frame = |seq| Outbound {
            text: "".into(),
            place: Some((c, seq)),
        };
        sent.0.insert(c, 2);
        assert!(!sent.admit(&frame(1)));
        assert!(!sent.admit(&frame(2)));
        assert!(sent.admit(&frame(3)));
        assert!(!sent.admit(&frame(3)));
        let flag = Outbound {
            text: "".into(),
            place: None,
        };
        assert!(sent.admit(&flag) && sent.admit(&flag));
    }

    proptest::proptest! {
        /// Whatever text arrives, reading it never panics, and a refusal names a field.
        #[test]
        fn any_text_is_read_or_refused_with_a_field(text in ".{0,200}") {
            for result in [check_user_frame(&text), check_agent_frame(&text)] {
                if let Err(e) = result {
                    proptest::prop_assert!(e.body().error.field.is_some(), "{e}");
                }
            }
        }

        /// Frames shaped like messages, with any body: read or refused, never a panic.
        #[test]
        fn any_message_body_is_read_or_refused(data in ".{0,300}", text in "[a-zA-Z0-9 ]{0,49}[a-z]") {
            let custom = serde_json::json!({"type": "send", "to": "desk", "msgId": "m",
                "body": {"type": "custom", "data": data}});
            let plain = serde_json::json!({"type": "send", "to": "desk", "msgId": "m",
                "body": {"type": "text", "text": text}});
            let _ = check_user_frame(&custom.to_string());
            proptest::prop_assert!(check_user_frame(&plain.to_string()).is_ok());
        }
    }

    #[test]
    fn cookies_are_read_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            "a=1; hl_visitor_abc=tok.en; b=2".parse().unwrap(),
        );
        assert_eq!(cookie_value(&h, "hl_visitor_abc"), Some("tok.en"));
        assert_eq!(cookie_value(&h, "c"), None);
    }
}
