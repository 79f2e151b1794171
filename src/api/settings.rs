//! Settings: routing policy and reception settings, the status after login, rest reasons
//! and the proactive-contact rule. Every signed-in account may read rest reasons and the
//! proactive rule (the workstation needs them); changes need the settings module.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::directory::{self, Module, ProactiveRule, RestReason};
use crate::domain::event::Event;
use crate::domain::ids::{RestReasonId, StreamId};
use crate::domain::settings::AppSettings;

use super::AppState;
use super::auth::Principal;
use super::error::{ApiError, Body, Id};

/// The routing and reception settings.
#[utoipa::path(get, path = "/settings", tag = "settings",
    responses((status = 200, description = "the settings", body = AppSettings)))]
pub async fn get_settings(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<AppSettings>, ApiError> {
    who.scope(&*state.desk.app(who.app)?, Module::Settings)?;
    Ok(Json(state.desk.engine.settings(who.app).as_ref().clone()))
}

/// Replaces the routing and reception settings (every field, validated with its range).
#[utoipa::path(put, path = "/settings", tag = "settings", request_body = AppSettings,
    responses((status = 200, description = "the settings in force", body = AppSettings)))]
pub async fn put_settings(
    State(state): State<AppState>,
    who: Principal,
    Body(settings): Body<AppSettings>,
) -> Result<Json<AppSettings>, ApiError> {
    who.scope(&*state.desk.app(who.app)?, Module::Settings)?;
    let _turn = state.desk.turn().await;
    state.desk.engine.update_settings(who.app, settings).await?;
    Ok(Json(state.desk.engine.settings(who.app).as_ref().clone()))
}

/// A new rest reason.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRestReason {
    /// The name agents pick.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// Offered to agents (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// An edit of a rest reason.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestReasonEdit {
    /// New name.
    #[schema(min_length = 1, max_length = 64)]
    pub name: Option<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// The rest reasons, enabled or not.
#[utoipa::path(get, path = "/settings/rest-reasons", tag = "settings",
    responses((status = 200, description = "rest reasons, by id", body = Vec<RestReason>)))]
pub async fn list_rest_reasons(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<RestReason>>, ApiError> {
    Ok(Json(
        state
            .desk
            .app(who.app)?
            .rest_reasons
            .values()
            .cloned()
            .collect(),
    ))
}

/// Creates a rest reason.
#[utoipa::path(post, path = "/settings/rest-reasons", tag = "settings", request_body = NewRestReason,
    responses((status = 201, description = "created", body = RestReason)))]
pub async fn create_rest_reason(
    State(state): State<AppState>,
    who: Principal,
    Body(input): Body<NewRestReason>,
) -> Result<(StatusCode, Json<RestReason>), ApiError> {
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    who.scope(&dir, Module::Settings)?;
    directory::validate_rest_reason(&dir, &input.name, None)?;
    let reason = RestReason {
        id: RestReasonId(state.desk.next_id()),
        name: input.name.trim().to_owned(),
        enabled: input.enabled,
    };
    let event = Event::RestReasonSaved {
        reason: reason.clone(),
    };
    state
        .desk
        .append(&turn, who.app, vec![(StreamId::app(who.app), event)])
        .await?;
    Ok((StatusCode::CREATED, Json(reason)))
}

/// Renames, enables or disables a rest reason.
#[utoipa::path(patch, path = "/settings/rest-reasons/{id}", tag = "settings",
    params(("id" = u64, Path, description = "rest reason id")), request_body = RestReasonEdit,
    responses((status = 200, description = "the reason after the edit", body = RestReason)))]
pub async fn update_rest_reason(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
    Body(edit): Body<RestReasonEdit>,
) -> Result<Json<RestReason>, ApiError> {
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    who.scope(&dir, Module::Settings)?;
    let id = RestReasonId(id);
    let mut reason = dir
        .rest_reasons
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(id.to_string()))?;
    if let Some(name) = &edit.name {
        directory::validate_rest_reason(&dir, name, Some(id))?;
        reason.name = name.trim().to_owned();
    }
    if let Some(enabled) = edit.enabled {
        reason.enabled = enabled;
    }
    let event = Event::RestReasonSaved {
        reason: reason.clone(),
    };
    state
        .desk
        .append(&turn, who.app, vec![(StreamId::app(who.app), event)])
        .await?;
    Ok(Json(reason))
}

/// The proactive-contact rule.
#[utoipa::path(get, path = "/settings/proactive", tag = "settings",
    responses((status = 200, description = "the rule", body = ProactiveRule)))]
pub async fn get_proactive(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<ProactiveRule>, ApiError> {
    Ok(Json(state.desk.app(who.app)?.proactive))
}

/// Replaces the proactive-contact rule (timeout 60 to 86400 s).
#[utoipa::path(put, path = "/settings/proactive", tag = "settings", request_body = ProactiveRule,
    responses((status = 200, description = "the rule in force", body = ProactiveRule)))]
pub async fn put_proactive(
    State(state): State<AppState>,
    who: Principal,
    Body(rule): Body<ProactiveRule>,
) -> Result<Json<ProactiveRule>, ApiError> {
    let turn = state.desk.turn().await;
    who.scope(&*state.desk.app(who.app)?, Module::Settings)?;
    directory::validate_proactive(&rule)?;
    let event = Event::ProactiveRuleChanged { rule };
    state
        .desk
        .append(&turn, who.app, vec![(StreamId::app(who.app), event)])
        .await?;
    Ok(Json(rule))
}
