//! Third-party extensions: pages of other systems (https only) embedded in the agent
//! workstation, always visible or only while a session is open. Every account may list
//! them (the workstation draws them); the settings module edits them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::directory::{self, Extension, Module};
use crate::domain::event::Event;
use crate::domain::ids::{ExtensionId, StreamId};

use super::AppState;
use super::auth::Principal;
use super::error::{ApiError, Body, Id};

/// An extension as written by the console.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionInput {
    /// The page name shown on its tab.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// The page, https only.
    #[schema(min_length = 9, max_length = 2048, pattern = "^https://")]
    pub url: String,
    /// Shown at all times; otherwise only while a session is open.
    pub always_visible: bool,
    /// Shown at all.
    pub enabled: bool,
}

fn checked(input: ExtensionInput, id: ExtensionId) -> Result<Extension, ApiError> {
    let extension = Extension {
        id,
        name: input.name.trim().to_owned(),
        url: input.url.trim().to_owned(),
        always_visible: input.always_visible,
        enabled: input.enabled,
    };
    directory::validate_extension(&extension)?;
    Ok(extension)
}

/// Lists the extensions.
#[utoipa::path(get, path = "/extensions", tag = "extensions",
    responses((status = 200, description = "extensions, by id", body = Vec<Extension>)))]
pub async fn list_extensions(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<Extension>>, ApiError> {
    Ok(Json(
        state.desk.app(who.app)?.extensions.into_values().collect(),
    ))
}

/// Creates an extension.
#[utoipa::path(post, path = "/extensions", tag = "extensions", request_body = ExtensionInput,
    responses((status = 201, description = "created", body = Extension)))]
pub async fn create_extension(
    State(state): State<AppState>,
    who: Principal,
    Body(input): Body<ExtensionInput>,
) -> Result<(StatusCode, Json<Extension>), ApiError> {
    let turn = state.desk.turn().await;
    who.scope(&state.desk.app(who.app)?, Module::Settings)?;
    let extension = checked(input, ExtensionId(state.desk.next_id()))?;
    let event = Event::ExtensionSaved {
        extension: extension.clone(),
    };
    state
        .desk
        .append(&turn, who.app, vec![(StreamId::app(who.app), event)])
        .await?;
    Ok((StatusCode::CREATED, Json(extension)))
}

/// One extension.
#[utoipa::path(get, path = "/extensions/{id}", tag = "extensions", params(("id" = u64, Path, description = "extension id")),
    responses((status = 200, description = "the extension", body = Extension)))]
pub async fn get_extension(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<Json<Extension>, ApiError> {
    let id = ExtensionId(id);
    let dir = state.desk.app(who.app)?;
    dir.extensions
        .get(&id)
        .cloned()
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(id.to_string()))
}

/// Replaces an extension.
#[utoipa::path(put, path = "/extensions/{id}", tag = "extensions", params(("id" = u64, Path, description = "extension id")),
    request_body = ExtensionInput, responses((status = 200, description = "the extension", body = Extension)))]
pub async fn update_extension(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
    Body(input): Body<ExtensionInput>,
) -> Result<Json<Extension>, ApiError> {
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    who.scope(&dir, Module::Settings)?;
    let id = ExtensionId(id);
    if !dir.extensions.contains_key(&id) {
        return Err(ApiError::NotFound(id.to_string()));
    }
    let extension = checked(input, id)?;
    let event = Event::ExtensionSaved {
        extension: extension.clone(),
    };
    state
        .desk
        .append(&turn, who.app, vec![(StreamId::app(who.app), event)])
        .await?;
    Ok(Json(extension))
}

/// Deletes an extension.
#[utoipa::path(delete, path = "/extensions/{id}", tag = "extensions", params(("id" = u64, Path, description = "extension id")),
    responses((status = 204, description = "deleted")))]
pub async fn delete_extension(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<StatusCode, ApiError> {
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    who.scope(&dir, Module::Settings)?;
    let id = ExtensionId(id);
    if !dir.extensions.contains_key(&id) {
        return Err(ApiError::NotFound(id.to_string()));
    }
    let event = Event::ExtensionDeleted { extension: id };
    state
        .desk
        .append(&turn, who.app, vec![(StreamId::app(who.app), event)])
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
