//! Quick replies: grouped canned answers agents insert with `#`. Every account may list
//! and search them; the settings module edits them, one at a time or by CSV upload.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use std::collections::BTreeMap;

use crate::domain::directory::{self, AppDirectory, MAX_QUICK_REPLIES, Module, QuickReply};
use crate::domain::event::Event;
use crate::domain::ids::{QuickReplyId, StreamId};
use crate::log::MAX_EVENT_BYTES;

use super::AppState;
use super::auth::Principal;
use super::catalog::{self, Catalog};
use super::csv_import::{self, CsvBody, RowErrors};
use super::error::{ApiError, Body, Id, Params};

/// Quick replies as a catalog: any account reads them, the settings module edits them.
pub struct QuickReplies;

impl Catalog for QuickReplies {
    type Id = QuickReplyId;
    type Item = QuickReply;
    const MODULE: Module = Module::Settings;
    const READ_NEEDS_MODULE: bool = false;
    fn id(raw: u64) -> QuickReplyId {
        QuickReplyId(raw)
    }
    fn items(dir: &AppDirectory) -> &BTreeMap<QuickReplyId, QuickReply> {
        &dir.quick_replies
    }
    fn saved(reply: QuickReply) -> Event {
        Event::QuickReplySaved { reply }
    }
    fn deleted(reply: QuickReplyId) -> Event {
        Event::QuickReplyDeleted { reply }
    }
}

/// The columns of the import template.
pub const IMPORT_COLUMNS: &[&str] = &["group", "title", "content"];

/// A quick reply as written by the console.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuickReplyInput {
    /// The grouping it is filed under.
    #[schema(min_length = 1, max_length = 64)]
    pub group: String,
    /// The title agents pick it by.
    #[schema(min_length = 1, max_length = 100)]
    pub title: String,
    /// The text sent to the user.
    #[schema(min_length = 1, max_length = 2000)]
    pub content: String,
}

/// Search of the quick replies.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QuickReplyFilter {
    /// Words that must all appear in the title or content (case-insensitive).
    pub q: Option<String>,
    /// This grouping only.
    pub group: Option<String>,
}

/// Lists or searches quick replies.
#[utoipa::path(get, path = "/quick-replies", tag = "quick replies", params(QuickReplyFilter),
    responses((status = 200, description = "matching replies, by group then title", body = Vec<QuickReply>)))]
pub async fn list_quick_replies(
    State(state): State<AppState>,
    who: Principal,
    Params(filter): Params<QuickReplyFilter>,
) -> Result<Json<Vec<QuickReply>>, ApiError> {
    let dir = catalog::readable::<QuickReplies>(&state, &who)?;
    let words: Vec<String> = filter
        .q
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let mut out: Vec<QuickReply> = dir
        .quick_replies
        .values()
        .filter(|&r| {
            filter
                .group
                .as_deref()
                .is_none_or(|g| r.group.eq_ignore_ascii_case(g.trim()))
        })
        .filter(|r| {
            let text = format!("{}\n{}", r.title, r.content).to_lowercase();
            words.iter().all(|w| text.contains(w.as_str()))
        })
        .cloned()
        .collect();
    out.sort_by(|a, b| (&a.group, &a.title, a.id).cmp(&(&b.group, &b.title, b.id)));
    Ok(Json(out))
}

fn checked(input: QuickReplyInput, id: QuickReplyId) -> Result<QuickReply, ApiError> {
    directory::validate_quick_reply(&input.group, &input.title, &input.content)?;
    Ok(QuickReply {
        id,
        group: input.group.trim().to_owned(),
        title: input.title.trim().to_owned(),
        content: input.content.trim().to_owned(),
    })
}

/// Creates a quick reply.
#[utoipa::path(post, path = "/quick-replies", tag = "quick replies", request_body = QuickReplyInput,
    responses((status = 201, description = "created", body = QuickReply)))]
pub async fn create_quick_reply(
    State(state): State<AppState>,
    who: Principal,
    Body(input): Body<QuickReplyInput>,
) -> Result<(StatusCode, Json<QuickReply>), ApiError> {
    let reply = catalog::create::<QuickReplies>(&state, &who, |dir, id| {
        if dir.quick_replies.len() >= MAX_QUICK_REPLIES {
            return Err(ApiError::Conflict(format!(
                "the app has {MAX_QUICK_REPLIES} quick replies, the most it may hold"
            )));
        }
        checked(input, id)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(reply)))
}

/// One quick reply.
#[utoipa::path(get, path = "/quick-replies/{id}", tag = "quick replies", params(("id" = u64, Path, description = "quick reply id")),
    responses((status = 200, description = "the reply", body = QuickReply)))]
pub async fn get_quick_reply(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<Json<QuickReply>, ApiError> {
    catalog::get::<QuickReplies>(&state, &who, id).map(Json)
}

/// Replaces a quick reply.
#[utoipa::path(put, path = "/quick-replies/{id}", tag = "quick replies", params(("id" = u64, Path, description = "quick reply id")),
    request_body = QuickReplyInput, responses((status = 200, description = "the reply", body = QuickReply)))]
pub async fn update_quick_reply(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
    Body(input): Body<QuickReplyInput>,
) -> Result<Json<QuickReply>, ApiError> {
    catalog::update::<QuickReplies>(&state, &who, id, |_, id, _| checked(input, id))
        .await
        .map(Json)
}

/// Deletes a quick reply.
#[utoipa::path(delete, path = "/quick-replies/{id}", tag = "quick replies", params(("id" = u64, Path, description = "quick reply id")),
    responses((status = 204, description = "deleted")))]
pub async fn delete_quick_reply(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<StatusCode, ApiError> {
    catalog::delete::<QuickReplies>(&state, &who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The CSV template of the bulk upload.
#[utoipa::path(get, path = "/quick-replies/import-template", operation_id = "quick_reply_import_template", tag = "quick replies",
    responses((status = 200, description = "the header row and one example", content_type = "text/csv", body = String)))]
pub async fn import_template(_who: Principal) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"quick-replies-template.csv\"",
            ),
        ],
        format!("{}\n", IMPORT_COLUMNS.join(",")),
    )
}

/// Uploads quick replies from one CSV file; one bad cell and nothing is imported.
#[utoipa::path(post, path = "/quick-replies/import", tag = "quick replies",
    request_body(content = String, content_type = "text/csv", description = "a file in the template's format"),
    responses((status = 201, description = "all rows imported", body = Vec<QuickReply>)))]
pub async fn import_quick_replies(
    State(state): State<AppState>,
    who: Principal,
    CsvBody(file): CsvBody,
) -> Result<(StatusCode, Json<Vec<QuickReply>>), ApiError> {
    let rows = csv_import::read(&file, IMPORT_COLUMNS)?;
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    who.scope(&dir, Module::Settings)?;
    if dir.quick_replies.len() + rows.len() > MAX_QUICK_REPLIES {
        return Err(ApiError::invalid(
            "file",
            format!("the app would hold more than {MAX_QUICK_REPLIES} quick replies"),
        ));
    }
    let mut errors = RowErrors::default();
    let mut replies = Vec::with_capacity(rows.len());
    for row in &rows {
        let input = QuickReplyInput {
            group: row.get("group").to_owned(),
            title: row.get("title").to_owned(),
            content: row.get("content").to_owned(),
        };
        match checked(input, QuickReplyId(0)) {
            Ok(r) => replies.push(r),
            Err(ApiError::Invalid { field, message }) => errors.push(row.line, &field, message),
            Err(other) => return Err(other),
        }
    }
    errors.finish(rows.len())?;
    for r in &mut replies {
        r.id = QuickReplyId(state.desk.next_id());
    }
    // One append of events under the event size limit: the upload lands whole or not at all.
    let mut events = Vec::new();
    let mut chunk: Vec<QuickReply> = Vec::new();
    let mut bytes = 0;
    let budget = MAX_EVENT_BYTES / 2;
    for r in &replies {
        let size = r.group.len() + r.title.len() + r.content.len() + 32;
        if bytes + size > budget && !chunk.is_empty() {
            events.push((
                StreamId::app(who.app),
                Event::QuickRepliesImported {
                    replies: std::mem::take(&mut chunk),
                },
            ));
            bytes = 0;
        }
        bytes += size;
        chunk.push(r.clone());
    }
    events.push((
        StreamId::app(who.app),
        Event::QuickRepliesImported { replies: chunk },
    ));
    state.desk.append(&turn, who.app, events).await?;
    tracing::info!(app = %who.app, replies = replies.len(), "imported quick replies");
    Ok((StatusCode::CREATED, Json(replies)))
}
