//! Satisfaction evaluation configurations: star or numeric scales of 1 to 10 labelled
//! levels, invitation and thank-you texts, a validity period and the three send rules.
//! Channels bind them; a bound configuration cannot be deleted.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use std::collections::BTreeMap;

use crate::domain::directory::{
    self, AppDirectory, Module, RatingKind, RatingLevel, SatisfactionConfig, SendRules,
};
use crate::domain::event::Event;
use crate::domain::ids::SatisfactionId;

use super::AppState;
use super::auth::Principal;
use super::catalog::{self, Catalog};
use super::error::{ApiError, Body, Id};

/// A configuration as written by the console.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SatisfactionInput {
    /// Configuration name.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// Stars or numbers.
    pub kind: RatingKind,
    /// 1 to 10 levels, values 1 to 10 ascending. Absent: the five levels the desk's Android
    /// client draws (1 "Very dissatisfied" to 5 "Very satisfied").
    #[serde(default = "default_levels")]
    #[schema(min_items = 1, max_items = 10)]
    pub levels: Vec<LevelInput>,
    /// Sent with the invitation.
    #[schema(min_length = 1, max_length = 200)]
    pub invitation_text: String,
    /// Sent after the rating.
    #[schema(min_length = 1, max_length = 200)]
    pub thank_you_text: String,
    /// How long an invitation can be answered, 60 s to 30 days.
    #[schema(minimum = 60, maximum = 2592000)]
    pub validity_secs: u32,
    /// When invitations are sent.
    pub send_rules: SendRulesInput,
}

/// One level.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelInput {
    /// 1 to 10.
    #[schema(minimum = 1, maximum = 10)]
    pub value: u8,
    /// Its label.
    #[schema(min_length = 1, max_length = 64)]
    pub label: String,
}

/// The default scale: five levels, since the Android client draws exactly five.
pub const DEFAULT_LEVELS: [&str; 5] = [
    "Very dissatisfied",
    "Dissatisfied",
    "Neutral",
    "Satisfied",
    "Very satisfied",
];

fn default_levels() -> Vec<LevelInput> {
    (1u8..)
        .zip(DEFAULT_LEVELS)
        .map(|(value, label)| LevelInput {
            value,
            label: label.to_owned(),
        })
        .collect()
}

/// The send rules.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendRulesInput {
    /// Invite when the session ends.
    pub auto_on_end: bool,
    /// The agent may invite.
    pub agent_may_invite: bool,
    /// The user may ask to rate during human service.
    pub user_may_rate: bool,
}

fn checked(input: SatisfactionInput, id: SatisfactionId) -> Result<SatisfactionConfig, ApiError> {
    let config = SatisfactionConfig {
        id,
        name: input.name.trim().to_owned(),
        kind: input.kind,
        levels: input
            .levels
            .into_iter()
            .map(|l| RatingLevel {
                value: l.value,
                label: l.label.trim().to_owned(),
            })
            .collect(),
        invitation_text: input.invitation_text.trim().to_owned(),
        thank_you_text: input.thank_you_text.trim().to_owned(),
        validity_secs: input.validity_secs,
        send_rules: SendRules {
            auto_on_end: input.send_rules.auto_on_end,
            agent_may_invite: input.send_rules.agent_may_invite,
            user_may_rate: input.send_rules.user_may_rate,
        },
    };
    directory::validate_satisfaction(&config)?;
    Ok(config)
}

/// Satisfaction configurations as a catalog of the channels module.
pub struct Configs;

impl Catalog for Configs {
    type Id = SatisfactionId;
    type Item = SatisfactionConfig;
    const MODULE: Module = Module::Channels;
    const READ_NEEDS_MODULE: bool = true;
    fn id(raw: u64) -> SatisfactionId {
        SatisfactionId(raw)
    }
    fn items(dir: &AppDirectory) -> &BTreeMap<SatisfactionId, SatisfactionConfig> {
        &dir.satisfaction
    }
    fn saved(config: SatisfactionConfig) -> Event {
        Event::SatisfactionSaved { config }
    }
    fn deleted(config: SatisfactionId) -> Event {
        Event::SatisfactionDeleted { config }
    }
    fn check_delete(dir: &AppDirectory, id: SatisfactionId) -> Result<(), ApiError> {
        let bound = dir.channels_using_satisfaction(id);
        if bound.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = bound.iter().map(ToString::to_string).collect();
        Err(ApiError::Conflict(format!(
            "{id} is bound to {}: unbind it first",
            names.join(", ")
        )))
    }
}

/// Lists the configurations.
#[utoipa::path(get, path = "/satisfaction-configs", tag = "satisfaction",
    responses((status = 200, description = "configurations, by id", body = Vec<SatisfactionConfig>)))]
pub async fn list_configs(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<SatisfactionConfig>>, ApiError> {
    catalog::list::<Configs>(&state, &who).map(Json)
}

/// Creates a configuration.
#[utoipa::path(post, path = "/satisfaction-configs", tag = "satisfaction", request_body = SatisfactionInput,
    responses((status = 201, description = "created", body = SatisfactionConfig)))]
pub async fn create_config(
    State(state): State<AppState>,
    who: Principal,
    Body(input): Body<SatisfactionInput>,
) -> Result<(StatusCode, Json<SatisfactionConfig>), ApiError> {
    let config = catalog::create::<Configs>(&state, &who, |_, id| checked(input, id)).await?;
    Ok((StatusCode::CREATED, Json(config)))
}

/// One configuration.
#[utoipa::path(get, path = "/satisfaction-configs/{id}", tag = "satisfaction", params(("id" = u64, Path, description = "configuration id")),
    responses((status = 200, description = "the configuration", body = SatisfactionConfig)))]
pub async fn get_config(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<Json<SatisfactionConfig>, ApiError> {
    catalog::get::<Configs>(&state, &who, id).map(Json)
}

/// Replaces a configuration; channels bound to it use the new one at once.
#[utoipa::path(put, path = "/satisfaction-configs/{id}", tag = "satisfaction", params(("id" = u64, Path, description = "configuration id")),
    request_body = SatisfactionInput, responses((status = 200, description = "the configuration", body = SatisfactionConfig)))]
pub async fn update_config(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
    Body(input): Body<SatisfactionInput>,
) -> Result<Json<SatisfactionConfig>, ApiError> {
    catalog::update::<Configs>(&state, &who, id, |_, id, _| checked(input, id))
        .await
        .map(Json)
}

/// Deletes a configuration no channel is bound to.
#[utoipa::path(delete, path = "/satisfaction-configs/{id}", tag = "satisfaction", params(("id" = u64, Path, description = "configuration id")),
    responses((status = 204, description = "deleted")))]
pub async fn delete_config(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<StatusCode, ApiError> {
    catalog::delete::<Configs>(&state, &who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
