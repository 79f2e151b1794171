//! Role permission management: custom roles open console modules over a skill-group
//! range. The built-in administrator (1) and agent (2) roles are listed but fixed.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::directory::{
    self, ADMINISTRATOR, AGENT, AppDirectory, Module, ModuleScope, Role,
};
use crate::domain::event::Event;
use crate::domain::ids::{RoleId, StreamId};

use super::AppState;
use super::auth::Principal;
use super::error::{ApiError, Body, Id};

/// A role as written by the console.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    /// Display name, unique in the app.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// The modules it opens, each with its skill-group range (`null`: all groups).
    pub scopes: Vec<ModuleScope>,
}

/// A role.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleView {
    /// Its id.
    pub id: RoleId,
    /// Display name.
    pub name: String,
    /// Built-in roles cannot be edited or deleted.
    pub built_in: bool,
    /// The modules it opens.
    pub scopes: Vec<ModuleScope>,
    /// Accounts holding it.
    pub holders: usize,
}

fn holders(dir: &AppDirectory, role: RoleId) -> usize {
    dir.agents
        .values()
        .filter(|a| !a.deleted && a.role == role && !a.email.is_empty())
        .count()
}

fn views(dir: &AppDirectory) -> Vec<RoleView> {
    let admin = RoleView {
        id: ADMINISTRATOR,
        name: "administrator".to_owned(),
        built_in: true,
        scopes: Module::ALL
            .iter()
            .map(|m| ModuleScope {
                module: *m,
                groups: None,
            })
            .collect(),
        holders: holders(dir, ADMINISTRATOR),
    };
    let agent = RoleView {
        id: AGENT,
        name: "agent".to_owned(),
        built_in: true,
        scopes: Vec::new(),
        holders: holders(dir, AGENT),
    };
    let custom = dir.roles.values().map(|r| RoleView {
        id: r.id,
        name: r.name.clone(),
        built_in: false,
        scopes: r.scopes.clone(),
        holders: holders(dir, r.id),
    });
    [admin, agent].into_iter().chain(custom).collect()
}

/// Lists every role, built-in ones first (administrators only).
#[utoipa::path(get, path = "/roles", tag = "roles",
    responses((status = 200, description = "roles", body = Vec<RoleView>)))]
pub async fn list_roles(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<RoleView>>, ApiError> {
    who.require_admin()?;
    Ok(Json(views(&*state.desk.app(who.app)?)))
}

/// One role.
#[utoipa::path(get, path = "/roles/{id}", tag = "roles", params(("id" = u64, Path, description = "role id")),
    responses((status = 200, description = "the role", body = RoleView)))]
pub async fn get_role(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<Json<RoleView>, ApiError> {
    who.require_admin()?;
    view_of(&*state.desk.app(who.app)?, RoleId(id)).map(Json)
}

fn view_of(dir: &AppDirectory, id: RoleId) -> Result<RoleView, ApiError> {
    views(dir)
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| ApiError::NotFound(id.to_string()))
}

/// A custom role of the app, or why it cannot be changed.
fn custom(dir: &AppDirectory, id: RoleId) -> Result<(), ApiError> {
    if id == ADMINISTRATOR || id == AGENT {
        return Err(ApiError::Conflict(format!(
            "{id} is built in and cannot change"
        )));
    }
    if !dir.roles.contains_key(&id) {
        return Err(ApiError::NotFound(id.to_string()));
    }
    Ok(())
}

/// Checks `input` and saves it as role `id` (new or existing); returns its view.
async fn save(
    state: &AppState,
    who: &Principal,
    id: Option<RoleId>,
    input: RoleInput,
) -> Result<RoleView, ApiError> {
    who.require_admin()?;
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    if let Some(id) = id {
        custom(&dir, id)?;
    }
    directory::validate_role_name(&dir, &input.name, id)?;
    directory::validate_scopes(&dir, &input.scopes)?;
    let role = Role {
        id: id.unwrap_or_else(|| RoleId(state.desk.next_id())),
        name: input.name.trim().to_owned(),
        scopes: input.scopes,
    };
    let id = role.id;
    let event = Event::RoleSaved { role };
    state
        .desk
        .append(&turn, who.app, vec![(StreamId::app(who.app), event)])
        .await?;
    drop(turn);
    view_of(&*state.desk.app(who.app)?, id)
}

/// Creates a custom role.
#[utoipa::path(post, path = "/roles", tag = "roles", request_body = RoleInput,
    responses((status = 201, description = "created", body = RoleView)))]
pub async fn create_role(
    State(state): State<AppState>,
    who: Principal,
    Body(input): Body<RoleInput>,
) -> Result<(StatusCode, Json<RoleView>), ApiError> {
    let view = save(&state, &who, None, input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Replaces a custom role's name and scopes; its holders get the new rights at once.
#[utoipa::path(put, path = "/roles/{id}", tag = "roles", params(("id" = u64, Path, description = "role id")),
    request_body = RoleInput, responses((status = 200, description = "the role", body = RoleView)))]
pub async fn update_role(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
    Body(input): Body<RoleInput>,
) -> Result<Json<RoleView>, ApiError> {
    save(&state, &who, Some(RoleId(id)), input).await.map(Json)
}

/// Deletes a custom role no account holds.
#[utoipa::path(delete, path = "/roles/{id}", tag = "roles", params(("id" = u64, Path, description = "role id")),
    responses((status = 204, description = "deleted")))]
pub async fn delete_role(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<StatusCode, ApiError> {
    who.require_admin()?;
    let id = RoleId(id);
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    custom(&dir, id)?;
    let n = holders(&dir, id);
    if n > 0 {
        return Err(ApiError::Conflict(format!(
            "{n} accounts hold {id}: give them another role first"
        )));
    }
    let event = Event::RoleDeleted { role: id };
    state
        .desk
        .append(&turn, who.app, vec![(StreamId::app(who.app), event)])
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
