//! The website channel's backend: what the hosted chat page and the embed script (the web UI
//! issue) call, without an account. A website channel is served under its public `webAppId`.
//!
//! Visitors are anonymous: `POST /web/{webAppId}/visitor` gives a visitor identity, a user
//! token signed with the app's IM secret (made at the first visitor when the app has none),
//! and keeps it in an HttpOnly cookie, so a returning visitor is the same user and keeps its
//! history. The token opens `/ws/im` (`?token=`, or the cookie on the same origin) and the
//! user-end REST routes, with the `webAppId` as the address messages go `to`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::directory::ChannelKind;
use crate::domain::ids::{AppId, ChannelId};
use crate::im::token::{self, MAX_TOKEN_LIFETIME_SECS, UserClaims};

use super::error::ApiError;
use super::im::user_checked;
use super::ws::{VISITOR_COOKIE, cookie_value};
use super::{AppState, auth};

/// Every visitor id starts so: they never meet an app's own user ids by chance.
pub const VISITOR_PREFIX: &str = "visitor-";
/// How long a visitor token lives; each visit renews it.
const VISITOR_TOKEN_SECS: i64 = MAX_TOKEN_LIFETIME_SECS - 3_600;

/// A website channel, as its page shows it.
#[derive(Serialize, ToSchema)]
pub struct WebsiteView {
    /// The public id.
    pub web_app_id: String,
    /// The app.
    pub app_id: AppId,
    /// The channel.
    pub channel_id: ChannelId,
    /// The channel's name (`${ChannelName}`).
    pub channel_name: String,
}

/// A visitor's identity.
#[derive(Serialize, ToSchema)]
pub struct Visitor {
    /// The visitor's user id.
    pub user_id: String,
    /// A user token for `/ws/im` and `/api/v1/im/...`.
    pub token: String,
    /// When the token expires, Unix seconds (a new visit renews it).
    pub expires_at: i64,
    /// The same visitor as before (from the cookie).
    pub returning: bool,
    /// The channel.
    pub website: WebsiteView,
}

fn website(state: &AppState, web_app_id: &str) -> Result<WebsiteView, ApiError> {
    let dir = state.desk.read();
    let (app, channel) = dir
        .website(web_app_id)
        .ok_or_else(|| ApiError::NotFound(format!("website channel {web_app_id:?}")))?;
    debug_assert!(matches!(channel.kind, ChannelKind::Website { .. }));
    Ok(WebsiteView {
        web_app_id: web_app_id.to_owned(),
        app_id: app,
        channel_id: channel.id,
        channel_name: channel.name.clone(),
    })
}

/// A website channel's public description.
#[utoipa::path(get, path = "/web/{web_app_id}", tag = "website",
    params(("web_app_id" = String, Path, description = "the channel's webAppId")),
    responses((status = 200, description = "the channel", body = WebsiteView)))]
pub async fn get_website(
    State(state): State<AppState>,
    Path(web_app_id): Path<String>,
) -> Result<Json<WebsiteView>, ApiError> {
    website(&state, &web_app_id).map(Json)
}

/// The app's IM secret, made now when it has none.
async fn secret_of(state: &AppState, app: AppId) -> Result<String, ApiError> {
    if let Some(secret) = state.desk.app(app)?.im_secret.clone() {
        return Ok(secret);
    }
    let turn = state.desk.turn().await;
    if let Some(secret) = state.desk.app(app)?.im_secret.clone() {
        return Ok(secret);
    }
    let secret = super::apps::new_im_secret(state, &turn, app, state.clock.now_ms()).await?;
    tracing::info!(%app, "made the app's IM secret for its first website visitor");
    Ok(secret)
}

/// Gives a visitor of a website channel its identity: the one its cookie holds when still
/// valid, a new one otherwise. Sets the cookie.
#[utoipa::path(post, path = "/web/{web_app_id}/visitor", tag = "website",
    params(("web_app_id" = String, Path, description = "the channel's webAppId")),
    responses((status = 200, description = "the visitor (cookie set)", body = Visitor)))]
pub async fn visitor(
    State(state): State<AppState>,
    Path(web_app_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let site = website(&state, &web_app_id)?;
    let app = site.app_id;
    let known = cookie_value(&headers, VISITOR_COOKIE)
        .and_then(|t| user_checked(&state, t, Some(app), None).ok())
        .map(|u| u.user)
        .filter(|u| u.starts_with(VISITOR_PREFIX));
    let returning = known.is_some();
    let user_id = known.unwrap_or_else(|| {
        format!(
            "{VISITOR_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(auth::random_bytes::<16>())
        )
    });
    let secret = secret_of(&state, app).await?;
    let expires_at = state.clock.now_ms().div_euclid(1_000) + VISITOR_TOKEN_SECS;
    let token = token::mint(
        secret.as_bytes(),
        &UserClaims {
            app,
            sub: user_id.clone(),
            exp: expires_at,
        },
    );
    let secure = if state.base_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{VISITOR_COOKIE}={token}; Path=/; Max-Age={VISITOR_TOKEN_SECS}; HttpOnly; SameSite=Lax{secure}"
    );
    let mut response = (
        StatusCode::OK,
        Json(Visitor {
            user_id,
            token,
            expires_at,
            returning,
            website: site,
        }),
    )
        .into_response();
    let value = HeaderValue::from_str(&cookie).map_err(|_| ApiError::Internal("cookie"))?;
    response.headers_mut().insert(SET_COOKIE, value);
    Ok(response)
}
