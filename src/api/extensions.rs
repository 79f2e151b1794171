//! Third-party extensions: pages of other systems (https only) embedded in the agent
//! workstation, always visible or only while a session is open. Every account may list
//! them (the workstation draws them); the settings module edits them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use std::collections::BTreeMap;

use crate::domain::directory::{self, AppDirectory, Extension, Module};
use crate::domain::event::Event;
use crate::domain::ids::ExtensionId;

use super::AppState;
use super::auth::Principal;
use super::catalog::{self, Catalog};
use super::error::{ApiError, Body, Id};

/// An extension as written by the console.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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

/// Extensions as a catalog: any account reads them, the settings module edits them.
pub struct Extensions;

impl Catalog for Extensions {
    type Id = ExtensionId;
    type Item = Extension;
    const MODULE: Module = Module::Settings;
    const READ_NEEDS_MODULE: bool = false;
    fn id(raw: u64) -> ExtensionId {
        ExtensionId(raw)
    }
    fn items(dir: &AppDirectory) -> &BTreeMap<ExtensionId, Extension> {
        &dir.extensions
    }
    fn saved(extension: Extension) -> Event {
        Event::ExtensionSaved { extension }
    }
    fn deleted(extension: ExtensionId) -> Event {
        Event::ExtensionDeleted { extension }
    }
}

/// Lists the extensions.
#[utoipa::path(get, path = "/extensions", tag = "extensions",
    responses((status = 200, description = "extensions, by id", body = Vec<Extension>)))]
pub async fn list_extensions(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<Extension>>, ApiError> {
    catalog::list::<Extensions>(&state, &who).map(Json)
}

/// Creates an extension.
#[utoipa::path(post, path = "/extensions", tag = "extensions", request_body = ExtensionInput,
    responses((status = 201, description = "created", body = Extension)))]
pub async fn create_extension(
    State(state): State<AppState>,
    who: Principal,
    Body(input): Body<ExtensionInput>,
) -> Result<(StatusCode, Json<Extension>), ApiError> {
    let extension = catalog::create::<Extensions>(&state, &who, |_, id| checked(input, id)).await?;
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
    catalog::get::<Extensions>(&state, &who, id).map(Json)
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
    catalog::update::<Extensions>(&state, &who, id, |_, id, _| checked(input, id))
        .await
        .map(Json)
}

/// Deletes an extension.
#[utoipa::path(delete, path = "/extensions/{id}", tag = "extensions", params(("id" = u64, Path, description = "extension id")),
    responses((status = 204, description = "deleted")))]
pub async fn delete_extension(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<StatusCode, ApiError> {
    catalog::delete::<Extensions>(&state, &who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
