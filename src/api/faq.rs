//! The FAQ bot's knowledge base: questions and answers per app, edited under the flows
//! module. A chatbot module with the `faq` bot matches what users write against the
//! questions (BM25, see `crate::im::faq`) and answers with the best entry's answer.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use std::collections::BTreeMap;

use crate::domain::directory::{AppDirectory, FaqEntry, Module};
use crate::domain::event::Event;
use crate::domain::ids::FaqId;

use super::AppState;
use super::auth::Principal;
use super::catalog::{self, Catalog};
use super::error::{ApiError, Body, Id};

/// Longest question, in characters.
pub const MAX_QUESTION_CHARS: usize = 500;
/// Longest answer, in characters: what the bot sends in one message.
pub const MAX_ANSWER_CHARS: usize = 2_000;
/// Most entries of one app: the bot's index is rebuilt whole on a change.
pub const MAX_FAQ_ENTRIES: usize = 5_000;

/// The FAQ as a catalog of the flows module.
pub struct Faq;

impl Catalog for Faq {
    type Id = FaqId;
    type Item = FaqEntry;
    const MODULE: Module = Module::Flows;
    const READ_NEEDS_MODULE: bool = true;
    fn id(raw: u64) -> FaqId {
        FaqId(raw)
    }
    fn items(dir: &AppDirectory) -> &BTreeMap<FaqId, FaqEntry> {
        &dir.faq
    }
    fn saved(entry: FaqEntry) -> Event {
        Event::FaqSaved { entry }
    }
    fn deleted(entry: FaqId) -> Event {
        Event::FaqDeleted { entry }
    }
}

/// A question and answer as the console writes it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaqInput {
    /// The question, as users would ask it.
    #[schema(min_length = 1, max_length = 500)]
    pub question: String,
    /// The answer the bot sends.
    #[schema(min_length = 1, max_length = 2000)]
    pub answer: String,
}

fn text(field: &'static str, value: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    let n = value.chars().count();
    if n == 0 || n > max {
        return Err(ApiError::invalid(
            field,
            format!("must be 1 to {max} characters, got {n}"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(ApiError::invalid(field, "must not hold control characters"));
    }
    Ok(value.to_owned())
}

fn checked(input: FaqInput, id: FaqId) -> Result<FaqEntry, ApiError> {
    Ok(FaqEntry {
        id,
        question: text("question", &input.question, MAX_QUESTION_CHARS)?,
        answer: text("answer", &input.answer, MAX_ANSWER_CHARS)?,
    })
}

/// Lists the questions and answers.
#[utoipa::path(get, path = "/faq", tag = "flows",
    responses((status = 200, description = "entries, by id", body = Vec<FaqEntry>)))]
pub async fn list_faq(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<FaqEntry>>, ApiError> {
    Ok(Json(catalog::list::<Faq>(&state, &who)?))
}

/// Adds a question and answer.
#[utoipa::path(post, path = "/faq", tag = "flows", request_body = FaqInput,
    responses((status = 201, description = "created", body = FaqEntry)))]
pub async fn create_faq(
    State(state): State<AppState>,
    who: Principal,
    Body(input): Body<FaqInput>,
) -> Result<(StatusCode, Json<FaqEntry>), ApiError> {
    let entry = catalog::create::<Faq>(&state, &who, |dir, id| {
        if dir.faq.len() >= MAX_FAQ_ENTRIES {
            return Err(ApiError::Conflict(format!(
                "the FAQ holds {MAX_FAQ_ENTRIES} entries already"
            )));
        }
        checked(input, id)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// One question and answer.
#[utoipa::path(get, path = "/faq/{id}", tag = "flows", params(("id" = u64, Path, description = "entry id")),
    responses((status = 200, description = "the entry", body = FaqEntry)))]
pub async fn get_faq(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<Json<FaqEntry>, ApiError> {
    Ok(Json(catalog::get::<Faq>(&state, &who, id)?))
}

/// Replaces a question and answer.
#[utoipa::path(put, path = "/faq/{id}", tag = "flows", params(("id" = u64, Path, description = "entry id")),
    request_body = FaqInput, responses((status = 200, description = "the entry", body = FaqEntry)))]
pub async fn update_faq(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
    Body(input): Body<FaqInput>,
) -> Result<Json<FaqEntry>, ApiError> {
    let entry = catalog::update::<Faq>(&state, &who, id, |_, id, _| checked(input, id)).await?;
    Ok(Json(entry))
}

/// Deletes a question and answer.
#[utoipa::path(delete, path = "/faq/{id}", tag = "flows", params(("id" = u64, Path, description = "entry id")),
    responses((status = 204, description = "deleted")))]
pub async fn delete_faq(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<StatusCode, ApiError> {
    catalog::delete::<Faq>(&state, &who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
