//! Apps (tenants) and API keys. Administrators of the first app own the instance and may
//! create apps, each with its own administrator; every app's administrators manage its
//! API keys (`Bearer hk_<id>_<secret>`, the secret shown once and kept only as a hash).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::directory;
use crate::domain::event::Event;
use crate::domain::ids::{AgentId, ApiKeyId, AppId, StreamId};

use super::AppState;
use super::agents::{NewAgent, create_accounts};
use super::auth::{self, Principal};
use super::error::{ApiError, Body, Id};

/// An app.
#[derive(Serialize, ToSchema)]
pub struct AppView {
    /// Its id (the seed's SdkAppId).
    pub id: AppId,
    /// Display name.
    pub name: String,
}

/// A new app and its first administrator.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewApp {
    /// Display name.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// The email of its first administrator.
    #[schema(min_length = 3, max_length = 254)]
    pub admin_email: String,
}

/// A created app, with its administrator's first password when no mail server took it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApp {
    /// The app.
    pub app: AppView,
    /// Its administrator.
    pub admin_agent_id: AgentId,
    /// The administrator's first password, shown only now.
    pub admin_password: String,
}

/// Lists every app (instance owners only).
#[utoipa::path(get, path = "/apps", tag = "apps",
    responses((status = 200, description = "apps, by id", body = Vec<AppView>)))]
pub async fn list_apps(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<AppView>>, ApiError> {
    who.require_owner()?;
    let dir = state.desk.read();
    Ok(Json(
        dir.apps
            .values()
            .map(|a| AppView {
                id: a.id,
                name: a.name.clone(),
            })
            .collect(),
    ))
}

/// Creates an app with its first administrator (instance owners only).
#[utoipa::path(post, path = "/apps", tag = "apps", request_body = NewApp,
    responses((status = 201, description = "created", body = CreatedApp,
        headers(("Cache-Control" = String, description = "`no-store`: the password is shown only now")))))]
pub async fn create_app(
    State(state): State<AppState>,
    who: Principal,
    Body(input): Body<NewApp>,
) -> Result<(StatusCode, auth::NoStore<Json<CreatedApp>>), ApiError> {
    who.require_owner()?;
    directory::validate_name("name", &input.name)?;
    let email = directory::normalize_email(&input.admin_email).map_err(|e| match e {
        crate::domain::Rejection::Invalid { reason, .. } => ApiError::invalid("adminEmail", reason),
        other => other.into(),
    })?;
    let password = auth::random_password();
    let hash = state.hasher.hash(password.clone()).await?;
    let turn = state.desk.turn().await;
    let name = input.name.trim().to_owned();
    let app = state.desk.engine.create_app(&name).await?;
    state.desk.fold(
        app,
        &[(StreamId::app(app), Event::AppCreated { name: name.clone() })],
    );
    let admin = NewAgent::first_administrator(email);
    let ids = create_accounts(&state, &turn, app, vec![(admin, hash, true)]).await?;
    tracing::info!(%app, "created an app");
    Ok((
        StatusCode::CREATED,
        auth::NoStore(Json(CreatedApp {
            app: AppView { id: app, name },
            admin_agent_id: ids[0],
            admin_password: password,
        })),
    ))
}

/// An API key, without its secret.
#[derive(Serialize, ToSchema)]
pub struct ApiKeyView {
    /// Its id.
    pub id: ApiKeyId,
    /// What it is for.
    pub name: String,
}

/// A new API key.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// What it is for.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
}

/// A created API key with its credential, shown only now.
#[derive(Serialize, ToSchema)]
pub struct CreatedApiKey {
    /// Its id.
    pub id: ApiKeyId,
    /// What it is for.
    pub name: String,
    /// Send as `Authorization: Bearer <key>`.
    pub key: String,
}

/// Lists the app's API keys (administrators only).
#[utoipa::path(get, path = "/api-keys", tag = "apps",
    responses((status = 200, description = "keys, by id", body = Vec<ApiKeyView>)))]
pub async fn list_api_keys(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<ApiKeyView>>, ApiError> {
    who.require_admin()?;
    let dir = state.desk.app(who.app)?;
    Ok(Json(
        dir.api_keys
            .values()
            .map(|k| ApiKeyView {
                id: k.id,
                name: k.name.clone(),
            })
            .collect(),
    ))
}

/// Creates an API key; it acts as an administrator of the app.
#[utoipa::path(post, path = "/api-keys", tag = "apps", request_body = NewApiKey,
    responses((status = 201, description = "created", body = CreatedApiKey,
        headers(("Cache-Control" = String, description = "`no-store`: the key is shown only now")))))]
pub async fn create_api_key(
    State(state): State<AppState>,
    who: Principal,
    Body(input): Body<NewApiKey>,
) -> Result<(StatusCode, auth::NoStore<Json<CreatedApiKey>>), ApiError> {
    who.require_admin()?;
    directory::validate_name("name", &input.name)?;
    let turn = state.desk.turn().await;
    let id = ApiKeyId(state.desk.next_id());
    let secret = auth::new_api_secret();
    let name = input.name.trim().to_owned();
    let event = Event::ApiKeyCreated {
        key: id,
        name: name.clone(),
        secret_hash: auth::sha256_hex(&secret),
    };
    state
        .desk
        .append(&turn, who.app, vec![(StreamId::app(who.app), event)])
        .await?;
    Ok((
        StatusCode::CREATED,
        auth::NoStore(Json(CreatedApiKey {
            id,
            name,
            key: format!("hk_{}_{secret}", id.0),
        })),
    ))
}

/// Revokes an API key at once.
#[utoipa::path(delete, path = "/api-keys/{id}", tag = "apps", params(("id" = u64, Path, description = "key id")),
    responses((status = 204, description = "revoked")))]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<StatusCode, ApiError> {
    who.require_admin()?;
    let turn = state.desk.turn().await;
    let id = ApiKeyId(id);
    if !state.desk.app(who.app)?.api_keys.contains_key(&id) {
        return Err(ApiError::NotFound(id.to_string()));
    }
    state
        .desk
        .append(
            &turn,
            who.app,
            vec![(StreamId::app(who.app), Event::ApiKeyRevoked { key: id })],
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How long tokens signed with the previous IM secret still work after a rotation.
pub const IM_SECRET_GRACE_MS: i64 = 24 * 3_600 * 1_000;

/// The app's IM secret, shown once.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImSecret {
    /// Signs user tokens (HS256); keep it on the app's backend only.
    pub secret: String,
    /// Until when tokens signed with the previous secret still work, ms since the epoch
    /// (none on the first rotation).
    pub previous_valid_until_ms: Option<i64>,
}

/// Whether the app has an IM secret.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImSecretStatus {
    /// A secret exists: user tokens can be verified.
    pub configured: bool,
    /// The previous secret works until then, ms since the epoch, if it still does.
    pub previous_valid_until_ms: Option<i64>,
}

/// Whether the app has an IM secret (administrators only; the secret is never shown again).
#[utoipa::path(get, path = "/im/secret", tag = "apps",
    responses((status = 200, description = "the secret's state", body = ImSecretStatus)))]
pub async fn im_secret_status(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<ImSecretStatus>, ApiError> {
    who.require_admin()?;
    let dir = state.desk.app(who.app)?;
    let now = state.clock.now_ms();
    Ok(Json(ImSecretStatus {
        configured: dir.im_secret.is_some(),
        previous_valid_until_ms: dir
            .im_previous_secret
            .as_ref()
            .map(|(_, until)| *until)
            .filter(|until| now < *until),
    }))
}

/// Makes and records a new IM secret for `app`; the previous one (if any) keeps working
/// until `previous_valid_until_ms`. Call with the turn held.
pub async fn new_im_secret(
    state: &AppState,
    turn: &super::desk::WriteTurn<'_>,
    app: AppId,
    previous_valid_until_ms: i64,
) -> Result<String, ApiError> {
    let secret = auth::new_api_secret();
    let event = Event::ImSecretRotated {
        secret: secret.clone(),
        previous_valid_until_ms,
    };
    state
        .desk
        .append(turn, app, vec![(StreamId::app(app), event)])
        .await?;
    Ok(secret)
}

/// Makes a new IM secret (the app's backend signs user tokens with it); the previous one
/// keeps working for 24 hours.
#[utoipa::path(post, path = "/im/secret", tag = "apps",
    responses((status = 201, description = "the new secret, shown only now", body = ImSecret,
        headers(("Cache-Control" = String, description = "`no-store`: the secret is shown only now")))))]
pub async fn rotate_im_secret(
    State(state): State<AppState>,
    who: Principal,
) -> Result<(StatusCode, auth::NoStore<Json<ImSecret>>), ApiError> {
    who.require_admin()?;
    let turn = state.desk.turn().await;
    let had = state.desk.app(who.app)?.im_secret.is_some();
    let until = state.clock.now_ms() + IM_SECRET_GRACE_MS;
    let secret = new_im_secret(&state, &turn, who.app, until).await?;
    Ok((
        StatusCode::CREATED,
        auth::NoStore(Json(ImSecret {
            secret,
            previous_valid_until_ms: had.then_some(until),
        })),
    ))
}
