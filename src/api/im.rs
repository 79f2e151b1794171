//! The user end over REST (`/api/v1/im/...`), for apps and their backends: send a message as
//! a user to a virtual number, list the user's conversations, read history and resume after
//! a sequence number. Callers present a user token (`Bearer <HS256 JWT>`, see
//! `crate::im::token`). Messages are events of their conversation's stream, stored before
//! anyone is told; flag messages (`online_only`) are never stored.
//! The same messages travel over the user WebSocket (`crate::api::ws`); both go through
//! the hub (`crate::im::hub`).

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::conversation::{Body, Message};
use crate::domain::directory::ChannelKind;
use crate::domain::ids::{AppId, ChannelId, ConversationId};
use crate::im::hub::UserMessage;
use crate::im::token;

use super::error::{ApiError, Body as JsonBody, Id, Params};
use super::{ApiState, AppState};

/// A user, vouched for by a token signed with the app's IM secret.
pub struct ImUser {
    /// The app.
    pub app: AppId,
    /// The user's id in the app.
    pub user: String,
    /// When the token expires (its `exp`), Unix seconds.
    pub expires_at: i64,
}

impl FromRequestParts<AppState> for ImUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        user_of(state, super::auth::bearer(parts)?)
    }
}

/// The user a user token vouches for, or 401 with the reason.
pub fn user_of(state: &ApiState, credential: &str) -> Result<ImUser, ApiError> {
    user_checked(state, credential, None, None)
}

/// The user a token vouches for, checked against the app (`expected_app`: a website channel's
/// app, say) and the user id (`claimed`) a client says it is, when it says so.
pub fn user_checked(
    state: &ApiState,
    credential: &str,
    expected_app: Option<AppId>,
    claimed: Option<&str>,
) -> Result<ImUser, ApiError> {
    let refuse = |e: token::TokenError| ApiError::Unauthorized(format!("user token refused: {e}"));
    let app = match expected_app {
        Some(app) => app,
        None => token::claimed_app(credential).map_err(refuse)?,
    };
    let now_ms = state.clock.now_ms();
    let secrets = state
        .desk
        .read()
        .app(app)
        .map(|d| d.im_secrets(now_ms))
        .unwrap_or_default();
    let claims =
        token::verify(credential, app, &secrets, now_ms.div_euclid(1_000)).map_err(refuse)?;
    if let Some(claimed) = claimed {
        token::same_user(&claims, claimed).map_err(refuse)?;
    }
    Ok(ImUser {
        app,
        user: claims.sub,
        expires_at: claims.exp,
    })
}

/// Until when (ms since the epoch) a user token stays good as the app's IM secrets stand
/// now: its `exp`, or sooner the end of the previous secret's grace when only that one
/// signs it. A later rotation can shorten it: sockets look again now and then.
pub fn valid_until_ms(state: &ApiState, credential: &str, user: &ImUser) -> i64 {
    let exp_ms = user.expires_at.saturating_mul(1_000);
    let now_ms = state.clock.now_ms();
    let dir = state.desk.read();
    let Some(app) = dir.app(user.app) else {
        return now_ms;
    };
    let current: Vec<Vec<u8>> = app
        .im_secret
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    if token::verify(credential, user.app, &current, now_ms.div_euclid(1_000)).is_ok() {
        return exp_ms;
    }
    match &app.im_previous_secret {
        Some((_, until)) => exp_ms.min(*until),
        None => now_ms,
    }
}

/// A message from a user to a virtual number.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    /// The virtual number's user id.
    #[schema(min_length = 1, max_length = 64)]
    pub to: String,
    /// The client's id for the message: sending it again is the same message.
    #[serde(rename = "msgId")]
    #[schema(min_length = 1, max_length = 64)]
    pub msg_id: String,
    /// A flag message: delivered only to a connected peer, never stored.
    #[serde(rename = "onlineUserOnly", default)]
    pub online_user_only: bool,
    /// Text or custom.
    pub body: Body,
}

/// Where a message went.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendResponse {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The message's place in it (none for a flag message).
    pub seq: Option<u64>,
    /// The message was sent before with this id (nothing changed).
    pub duplicate: bool,
}

/// A conversation of the user.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationView {
    /// Its id.
    pub id: ConversationId,
    /// The channel.
    pub channel_id: ChannelId,
    /// The virtual number's user id, for in-app channels.
    pub peer: Option<String>,
    /// The last sequence number stored.
    pub last_seq: u64,
}

/// Which messages to read.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    /// Resume: every message after this seq (at most `limit`).
    pub after: Option<u64>,
    /// History: the messages before this seq (the newest when absent).
    pub before: Option<u64>,
    /// At most this many (1 to 100, default 50).
    pub limit: Option<usize>,
}

/// Sends a message as the token's user to a virtual number (or a website channel's
/// `webAppId`): stored durably before the answer, then delivered; the first message opens a
/// session; a desk message (src 7, 10, 24, 27) does what the protocol says.
#[utoipa::path(post, path = "/im/messages", tag = "user end", request_body = SendRequest,
    responses(
        (status = 201, description = "stored (or a flag message passed on)", body = SendResponse),
        (status = 429, description = "over the user's message rate (`Retry-After` says when to try again); nothing stored", body = super::error::ErrorBody)))]
pub async fn send_message(
    State(state): State<AppState>,
    who: ImUser,
    JsonBody(req): JsonBody<SendRequest>,
) -> Result<(StatusCode, Json<SendResponse>), ApiError> {
    let bytes = super::user_limits::message_bytes(&req.body);
    let now = state.clock.now_ms();
    state.user_limits.message(who.app, &who.user, bytes, now)?;
    let message = UserMessage {
        to: req.to,
        msg_id: req.msg_id,
        online_user_only: req.online_user_only,
        body: req.body,
    };
    let sent = state
        .hub
        .user_send(&state, who.app, &who.user, message)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SendResponse {
            conversation_id: sent.conversation_id,
            seq: sent.seq,
            duplicate: sent.duplicate,
        }),
    ))
}

/// The token's user's conversations.
#[utoipa::path(get, path = "/im/conversations", tag = "user end",
    responses((status = 200, description = "conversations, by id", body = Vec<ConversationView>)))]
pub async fn list_conversations(
    State(state): State<AppState>,
    who: ImUser,
) -> Result<Json<Vec<ConversationView>>, ApiError> {
    let dir = state.desk.app(who.app)?;
    let mut out = Vec::new();
    for id in state.hub.of_user(who.app, &who.user) {
        let Some(slot) = state.hub.lock(id).await else {
            continue;
        };
        let c = &slot.entry;
        out.push(ConversationView {
            id: c.id,
            channel_id: c.channel,
            peer: dir.channels.get(&c.channel).map(|ch| match &ch.kind {
                ChannelKind::InApp { user_id, .. } => user_id.clone(),
                ChannelKind::Website { web_app_id } => web_app_id.clone(),
            }),
            last_seq: c.messages.last_seq(),
        });
    }
    Ok(Json(out))
}

/// Reads a conversation: after a seq (resume) or before one (history), oldest first.
#[utoipa::path(get, path = "/im/conversations/{id}/messages", tag = "user end",
    params(("id" = u64, Path, description = "conversation id"), MessageQuery),
    responses((status = 200, description = "messages, oldest first", body = Vec<Message>)))]
pub async fn read_messages(
    State(state): State<AppState>,
    who: ImUser,
    Id(id): Id<u64>,
    Params(query): Params<MessageQuery>,
) -> Result<Json<Vec<Message>>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=crate::domain::conversation::MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be 1 to 100"));
    }
    if query.after.is_some() && query.before.is_some() {
        return Err(ApiError::invalid(
            "after",
            "give after (resume) or before (history), not both",
        ));
    }
    let slot = state
        .hub
        .lock(ConversationId(id))
        .await
        .filter(|s| s.entry.app == who.app && s.entry.user == who.user)
        .ok_or_else(|| ApiError::NotFound(ConversationId(id).to_string()))?;
    let conversation = &slot.entry;
    let messages = match query.after {
        Some(after) => {
            let rest = conversation.messages.after(after);
            &rest[..rest.len().min(limit)]
        }
        None => conversation.messages.page(query.before, limit),
    };
    Ok(Json(messages.to_vec()))
}
