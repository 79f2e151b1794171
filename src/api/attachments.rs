//! Attachments over HTTP: a user or an agent uploads a file's raw bytes and it is stored and
//! sent as one file message (`crate::im::hub::Hub::user_upload`); the conversation's user,
//! and the agents and administrators who may see the conversation's records, download it.
//!
//! What an upload may be is the domain's call (`crate::domain::attachment`: the type sniffed
//! from the bytes against `[attachments] allowed_types`, the name's extension, a plain name,
//! the size). Downloads are never rendered by the browser as a page: `Content-Disposition`
//! is `attachment` (inline only for the image types previews show), `nosniff`, and a
//! sandboxing Content-Security-Policy, whatever the type.

use axum::Json;
use axum::body::{Body as HttpBody, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::attachment::{self, AttachmentRecord};
use crate::domain::conversation::Body;
use crate::domain::ids::{ConversationId, SessionId};
use crate::im::hub::{SendOutcome, Upload, UserMessage};

use super::AppState;
use super::auth::Principal;
use super::error::{ApiError, Id, Params};
use super::im::ImUser;

/// Where a user's file goes.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct UserUpload {
    /// The virtual number's user id, or a website channel's `webAppId`.
    #[param(min_length = 1, max_length = 64)]
    pub to: String,
    /// The client's id for the message: uploading again with it is the same message.
    #[param(min_length = 1, max_length = 64)]
    pub msg_id: String,
    /// The file name: a plain name with an extension that fits the content (`photo.png`).
    #[param(min_length = 1, max_length = 255)]
    pub name: String,
}

/// What an agent's file is called.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct AgentUpload {
    /// The file name: a plain name with an extension that fits the content (`report.pdf`).
    #[param(min_length = 1, max_length = 255)]
    pub name: String,
    /// The client's id for the message (uploading again with it is the same message); one
    /// is made when absent.
    #[param(min_length = 1, max_length = 64)]
    pub msg_id: Option<String>,
}

/// A stored attachment.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentView {
    /// Its id in the conversation.
    pub attachment_id: u32,
    /// The file name.
    pub name: String,
    /// The content type, sniffed from the bytes.
    pub content_type: String,
    /// Its size in bytes.
    pub size: u32,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
}

impl From<&AttachmentRecord> for AttachmentView {
    fn from(r: &AttachmentRecord) -> Self {
        Self {
            attachment_id: r.id,
            name: r.name.clone(),
            content_type: r.content_type.clone(),
            size: r.size,
            sha256: r.sha256.clone(),
        }
    }
}

/// An upload's answer: the file message's send ack and the attachment.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadResponse {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The file message's place in it.
    pub seq: Option<u64>,
    /// The message's id.
    pub msg_id: String,
    /// Uploaded before with this `msgId`: nothing changed, the first upload answers.
    pub duplicate: bool,
    /// What was stored.
    pub attachment: AttachmentView,
}

fn answer(
    sent: SendOutcome,
    msg_id: String,
    record: &AttachmentRecord,
) -> (StatusCode, Json<UploadResponse>) {
    let status = if sent.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    (
        status,
        Json(UploadResponse {
            conversation_id: sent.conversation_id,
            seq: sent.seq,
            msg_id,
            duplicate: sent.duplicate,
            attachment: record.into(),
        }),
    )
}

/// The largest upload, as configured.
fn max_bytes(state: &AppState) -> u64 {
    state.config.attachments.max_bytes
}

fn too_large(size: Option<u64>, limit: u64) -> ApiError {
    let message = match size {
        Some(size) => format!("{size} bytes is over the limit of {limit}"),
        None => format!("is over the limit of {limit} bytes"),
    };
    ApiError::FieldTooLarge {
        field: "file",
        message,
    }
}

/// Reads the raw body, at most `limit` bytes: refused early by its `Content-Length`, and
/// stopped as soon as a body without one goes over.
pub async fn read_limited(
    headers: &HeaderMap,
    body: HttpBody,
    limit: u64,
) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(size) = declared
        && size > limit
    {
        return Err(too_large(Some(size), limit));
    }
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0).min(limit) as usize);
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::invalid("file", format!("the upload broke off: {e}")))?;
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(too_large(None, limit));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(bytes))
}

/// Checks an upload, read by [`read_limited`] (which answered 413 for one over the size),
/// against the operator's policy (the refusal names `name` or `file`).
/// The file is hashed here, off the runtime's threads and before the conversation is
/// locked: ten megabytes take a while.
async fn check(state: &AppState, name: &str, bytes: Bytes) -> Result<Upload, ApiError> {
    let policy = state.config.attachments.policy();
    let checked = attachment::check_upload(&policy, name, &bytes)?;
    let hashed = bytes.clone();
    let sha256 = tokio::task::spawn_blocking(move || crate::im::attachments::sha256_hex(&hashed))
        .await
        .map_err(|_| ApiError::Internal("the attachment hasher stopped"))?;
    Ok(Upload {
        checked,
        bytes,
        sha256,
    })
}

/// Uploads a file as the token's user and sends it to a virtual number (or a website
/// channel's `webAppId`) as a file message, in one step: the body is the file's raw bytes
/// (any `Content-Type`; the type is sniffed from the bytes). Stored durably before the
/// answer, then delivered like any message; the first message opens a session.
#[utoipa::path(post, path = "/im/attachments", tag = "user end", params(UserUpload),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "the file's bytes, at most `[attachments] max_bytes` (10 MiB by default)"),
    responses(
        (status = 201, description = "stored and sent", body = UploadResponse),
        (status = 200, description = "uploaded before with this msgId: the first upload", body = UploadResponse),
        (status = 400, description = "`name` (a path, no extension, one that does not fit the content) or `file` (empty, of a type not allowed, an executable); nothing stored", body = super::error::ErrorBody),
        (status = 413, description = "`file` is over `[attachments] max_bytes`; nothing stored", body = super::error::ErrorBody),
        (status = 429, description = "over the user's message rate; nothing stored", body = super::error::ErrorBody)))]
pub async fn user_upload(
    State(state): State<AppState>,
    who: ImUser,
    Params(query): Params<UserUpload>,
    headers: HeaderMap,
    body: HttpBody,
) -> Result<(StatusCode, Json<UploadResponse>), ApiError> {
    attachment::check_name(&query.name)?;
    let bytes = read_limited(&headers, body, max_bytes(&state)).await?;
    let upload = check(&state, &query.name, bytes).await?;
    let message = UserMessage {
        to: query.to,
        msg_id: query.msg_id.clone(),
        online_user_only: false,
        body: Body::Text {
            text: String::new(),
        },
    };
    // Weighed as a message of its name (the file's size has its own limit).
    let weight = super::user_limits::message_bytes(&Body::File {
        attachment_id: 0,
        name: query.name.clone(),
        content_type: String::new(),
        size: 0,
    });
    state
        .user_limits
        .message(who.app, &who.user, weight, state.clock.now_ms())?;
    let (sent, record) = state
        .hub
        .user_upload(&state, who.app, &who.user, message, upload)
        .await?;
    Ok(answer(sent, query.msg_id, &record))
}

/// Uploads a file as the agent serving the session and sends it to the user as a file
/// message, in one step (the body is the file's raw bytes, as for users).
#[utoipa::path(post, path = "/sessions/{sessionId}/attachments", tag = "workstation",
    params(("sessionId" = u64, Path, description = "a session the caller serves"), AgentUpload),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "the file's bytes, at most `[attachments] max_bytes` (10 MiB by default)"),
    responses(
        (status = 201, description = "stored and sent", body = UploadResponse),
        (status = 200, description = "uploaded before with this msgId: the first upload", body = UploadResponse),
        (status = 400, description = "`name` or `file` refused; nothing stored", body = super::error::ErrorBody),
        (status = 409, description = "the caller does not serve the session (or it ended)", body = super::error::ErrorBody),
        (status = 413, description = "`file` is over `[attachments] max_bytes`; nothing stored", body = super::error::ErrorBody)))]
pub async fn agent_upload(
    State(state): State<AppState>,
    who: Principal,
    Id(session): Id<u64>,
    Params(query): Params<AgentUpload>,
    headers: HeaderMap,
    body: HttpBody,
) -> Result<(StatusCode, Json<UploadResponse>), ApiError> {
    let session = SessionId(session);
    let agent = who.agent.ok_or_else(|| {
        ApiError::forbidden("only a signed-in agent sends files in a session, not an API key")
    })?;
    if state
        .hub
        .session_app(&state.desk.engine, session)
        .await
        .is_none_or(|app| app != who.app)
    {
        return Err(ApiError::NotFound(session.to_string()));
    }
    attachment::check_name(&query.name)?;
    let bytes = read_limited(&headers, body, max_bytes(&state)).await?;
    let upload = check(&state, &query.name, bytes).await?;
    let msg_id = match query.msg_id {
        Some(m) => m,
        None => format!("file-{}", uuid_like(&upload.bytes, state.clock.now_ms())),
    };
    let (sent, record) = state
        .hub
        .agent_upload(&state, agent, session, msg_id.clone(), upload)
        .await?;
    Ok(answer(sent, msg_id, &record))
}

/// A message id for an agent's upload without one: the time and the bytes' digest, so two
/// files sent in the same millisecond differ.
fn uuid_like(bytes: &[u8], now_ms: i64) -> String {
    let digest = crate::im::attachments::sha256_hex(bytes);
    format!("{now_ms}-{}", &digest[..16])
}

/// Downloads an attachment of one of the token's user's conversations.
#[utoipa::path(get, path = "/im/conversations/{conversationId}/attachments/{attachmentId}",
    tag = "user end",
    params(("conversationId" = u64, Path, description = "a conversation of the token's user"),
        ("attachmentId" = u32, Path, description = "the attachment's id in it")),
    responses(
        (status = 200, description = "the bytes, of the stored content type; `Content-Disposition: attachment` (inline for images)", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, description = "no such attachment in a conversation of this user", body = super::error::ErrorBody)))]
pub async fn user_download(
    State(state): State<AppState>,
    who: ImUser,
    Id((conversation, id)): Id<(u64, u32)>,
) -> Result<Response, ApiError> {
    let (record, bytes) = state
        .hub
        .attachment(&state, ConversationId(conversation), id, |c| {
            c.app == who.app && c.user == who.user
        })
        .await?;
    Ok(file_response(&record, bytes))
}

/// Downloads an attachment of a conversation the caller may see: an agent, when it served
/// one of the conversation's sessions; a role with service records, when one of them queued
/// in a skill group of its scope (as the records show them).
#[utoipa::path(get, path = "/conversations/{conversationId}/attachments/{attachmentId}",
    tag = "records",
    params(("conversationId" = u64, Path, description = "a conversation of the caller's app"),
        ("attachmentId" = u32, Path, description = "the attachment's id in it")),
    responses(
        (status = 200, description = "the bytes, of the stored content type; `Content-Disposition: attachment` (inline for images)", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 403, description = "the caller may not see this conversation", body = super::error::ErrorBody),
        (status = 404, description = "no such attachment in a conversation of the caller's app", body = super::error::ErrorBody)))]
pub async fn desk_download(
    State(state): State<AppState>,
    who: Principal,
    Id((conversation, id)): Id<(u64, u32)>,
) -> Result<Response, ApiError> {
    let conversation = ConversationId(conversation);
    let app = who.app;
    // The conversation must be the caller's app's before anything is said about access;
    // its serving agent sees it at once (the records may not have the seat yet).
    let (in_app, serving) = match state.hub.lock(conversation).await {
        Some(slot) => (
            slot.entry.app == app,
            who.agent.is_some()
                && slot.entry.service.session.is_some()
                && slot.entry.service.seat == who.agent,
        ),
        None => (false, false),
    };
    if !in_app {
        return Err(ApiError::NotFound(format!(
            "attachment {id} of {conversation}"
        )));
    }
    if !serving {
        super::records::sees_conversation(&state, &who, conversation).await?;
    }
    let (record, bytes) = state
        .hub
        .attachment(&state, conversation, id, |c| c.app == app)
        .await?;
    Ok(file_response(&record, bytes))
}

/// The bytes as a download the browser never renders as a page.
fn file_response(record: &AttachmentRecord, bytes: Vec<u8>) -> Response {
    let content_type = if record.content_type == "text/plain" {
        "text/plain; charset=utf-8".to_owned()
    } else {
        record.content_type.clone()
    };
    let disposition = content_disposition(
        if attachment::inline(&record.content_type) {
            "inline"
        } else {
            "attachment"
        },
        &record.name,
    );
    let mut response = HttpBody::from(bytes).into_response();
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: header::HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set(headers, header::CONTENT_TYPE, &content_type);
    set(headers, header::CONTENT_DISPOSITION, &disposition);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // Even opened directly, nothing in it runs or loads anything.
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; img-src 'self'; sandbox",
    );
    set(
        headers,
        header::CACHE_CONTROL,
        "private, max-age=86400, immutable",
    );
    set(
        headers,
        header::HeaderName::from_static("x-attachment-sha256"),
        &record.sha256,
    );
    response
}

/// `Content-Disposition` with the name: a quoted ASCII fallback, and the exact name in
/// RFC 5987's `filename*` form.
pub fn content_disposition(kind: &str, name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' && c != '%' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_disposition_keeps_the_name_and_cannot_be_broken_out_of() {
        assert_eq!(
            content_disposition("attachment", "report 1.pdf"),
            "attachment; filename=\"report 1.pdf\"; filename*=UTF-8''report%201.pdf"
        );
        let d = content_disposition("attachment", "a\"b;c.pdf");
        assert!(d.starts_with("attachment; filename=\"a_b;c.pdf\""), "{d}");
        let d = content_disposition("inline", "图.png");
        assert!(d.ends_with("filename*=UTF-8''%E5%9B%BE.png"), "{d}");
    }
}
