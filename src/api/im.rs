//! The user end over REST (`/api/v1/im/...`), for apps and their backends: send a message as
//! a user to a virtual number, list the user's conversations, read history and resume after
//! a sequence number. Callers present a user token (`Bearer <HS256 JWT>`, see
//! `crate::im::token`). Messages are events of their conversation's stream, stored before
//! anyone is told; flag messages (`online_only`) are never stored.
//!
//! What is not here yet (issue 4): the user WebSocket, starting sessions from messages and
//! relaying them to agents, and the website channel's visitors.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::conversation::{Body, Conversations, Message, Sender, Sent};
use crate::domain::directory::ChannelKind;
use crate::domain::event::Event;
use crate::domain::ids::{AppId, ChannelId, ConversationId, StreamId};
use crate::im::protocol::DeskMessage;
use crate::im::token;

use super::AppState;
use super::error::{ApiError, Body as JsonBody, Id, Params};

/// A user, vouched for by a token signed with the app's IM secret.
pub struct ImUser {
    /// The app.
    pub app: AppId,
    /// The user's id in the app.
    pub user: String,
}

impl FromRequestParts<AppState> for ImUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let credential = super::auth::bearer(parts)?;
        let refuse =
            |e: token::TokenError| ApiError::Unauthorized(format!("user token refused: {e}"));
        let app = token::claimed_app(credential).map_err(refuse)?;
        let now_ms = state.clock.now_ms();
        let secrets = state
            .desk
            .read()
            .app(app)
            .map(|d| d.im_secrets(now_ms))
            .unwrap_or_default();
        let claims =
            token::verify(credential, app, &secrets, now_ms.div_euclid(1_000)).map_err(refuse)?;
        Ok(ImUser {
            app,
            user: claims.sub,
        })
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

/// Checks a custom body that claims to be a desk message: it must be one a user may send.
fn check_desk_data(body: &Body) -> Result<(), ApiError> {
    let Body::Custom { data, .. } = body else {
        return Ok(());
    };
    let desk = serde_json::from_str::<serde_json::Value>(data)
        .is_ok_and(|v| v.get("customerServicePlugin").is_some() || v.get("src").is_some());
    if desk {
        DeskMessage::parse_from_user(data)
            .map_err(|e| ApiError::invalid("body.data", e.to_string()))?;
    }
    Ok(())
}

fn channel_of(state: &AppState, app: AppId, to: &str) -> Result<ChannelId, ApiError> {
    state.desk.read().virtual_number(app, to).ok_or_else(|| {
        ApiError::invalid(
            "to",
            format!("{to:?} is not a virtual number of app {}", app.0),
        )
    })
}

/// Sends a message as the token's user to a virtual number.
#[utoipa::path(post, path = "/im/messages", tag = "user end", request_body = SendRequest,
    responses((status = 201, description = "stored (or a flag message passed on)", body = SendResponse)))]
pub async fn send_message(
    State(state): State<AppState>,
    who: ImUser,
    JsonBody(req): JsonBody<SendRequest>,
) -> Result<(StatusCode, Json<SendResponse>), ApiError> {
    check_desk_data(&req.body)?;
    let channel = channel_of(&state, who.app, &req.to)?;
    let mut conversations = state.conversations.lock().await;
    let existing = conversations.find(who.app, channel, &who.user);
    let empty = crate::domain::conversation::Conversation::default();
    let current = existing
        .and_then(|id| conversations.get(id))
        .map_or(&empty, |c| &c.messages);
    let now_ms = state.clock.now_ms();
    let sent = current.send(
        Sender::User,
        &req.msg_id,
        req.body,
        req.online_user_only,
        now_ms,
    )?;
    let id = existing.unwrap_or_else(|| ConversationId(state.desk.next_id()));
    let (seq, duplicate, message) = match sent {
        Sent::Stored(message) => (Some(message.seq), false, Some(message)),
        Sent::Duplicate(seq) => (Some(seq), true, None),
        Sent::Transient { .. } => (None, false, None),
    };
    if let Some(message) = message {
        let mut events = Vec::with_capacity(2);
        if existing.is_none() {
            events.push(Event::ConversationOpened {
                channel,
                user: who.user.clone(),
            });
        }
        events.push(Event::MessageStored { message });
        store(&state, &mut conversations, who.app, id, events).await?;
    }
    // Delivery to connected peers (agents, the user's other devices) comes with the sockets.
    Ok((
        StatusCode::CREATED,
        Json(SendResponse {
            conversation_id: id,
            seq,
            duplicate,
        }),
    ))
}

/// Appends a conversation's events durably, then folds them in.
async fn store(
    state: &AppState,
    conversations: &mut Conversations,
    app: AppId,
    id: ConversationId,
    events: Vec<Event>,
) -> Result<(), ApiError> {
    let stream = StreamId::conversation(id);
    let drafts: Vec<(StreamId, Event)> = events.iter().map(|e| (stream, e.clone())).collect();
    state.desk.write(app, &drafts).await?;
    for event in &events {
        conversations.apply(app, id, event);
    }
    Ok(())
}

/// The token's user's conversations.
#[utoipa::path(get, path = "/im/conversations", tag = "user end",
    responses((status = 200, description = "conversations, by id", body = Vec<ConversationView>)))]
pub async fn list_conversations(
    State(state): State<AppState>,
    who: ImUser,
) -> Result<Json<Vec<ConversationView>>, ApiError> {
    let dir = state.desk.app(who.app)?;
    let conversations = state.conversations.lock().await;
    let out = conversations
        .of_user(who.app, &who.user)
        .into_iter()
        .map(|c| ConversationView {
            id: c.id,
            channel_id: c.channel,
            peer: dir.channels.get(&c.channel).and_then(|ch| match &ch.kind {
                ChannelKind::InApp { user_id, .. } => Some(user_id.clone()),
                ChannelKind::Website { .. } => None,
            }),
            last_seq: c.messages.last_seq(),
        })
        .collect();
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
    let conversations = state.conversations.lock().await;
    let conversation = conversations
        .get(ConversationId(id))
        .filter(|c| c.app == who.app && c.user == who.user)
        .ok_or_else(|| ApiError::NotFound(ConversationId(id).to_string()))?;
    let messages = match query.after {
        Some(after) => {
            let rest = conversation.messages.after(after);
            &rest[..rest.len().min(limit)]
        }
        None => conversation.messages.page(query.before, limit),
    };
    Ok(Json(messages.to_vec()))
}
