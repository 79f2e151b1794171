//! The website channel's backend: what the hosted chat page and the embed script (the web UI
//! issue) call, without an account. A website channel is served under its public `webAppId`.
//!
//! Visitors are anonymous: `POST /web/{webAppId}/visitor` gives a visitor identity, a user
//! token signed with the app's IM secret (made at the first visitor when the app has none),
//! and keeps it in an HttpOnly cookie of the channel's own (`hl_visitor_<webAppId>`), so a
//! returning visitor is the same user and keeps its history, and two channels on one host
//! keep separate visitors. The token opens `/ws/im` (`?token=`, or `?webAppId=` with the
//! cookie from a page of an allowed origin) and the user-end REST routes, with the
//! `webAppId` as the address messages go `to`, and no other: a visitor's id names its
//! channel (`visitor-<channelId>.<random>`).
//!
//! New identities are rate-limited per client address and per channel
//! (`crate::api::user_limits`): a script cannot mint visitors to fill the queues.

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::directory::{ChannelKind, LauncherPosition};
use crate::domain::ids::{AppId, ChannelId};
use crate::im::token::{self, MAX_TOKEN_LIFETIME_SECS, UserClaims};

use super::error::ApiError;
use super::im::user_checked;
use super::user_limits::{self, reason};
use super::ws::cookie_value;
use super::{AppState, auth};

/// Every visitor id starts so: they never meet an app's own user ids by chance.
pub const VISITOR_PREFIX: &str = "visitor-";
/// How long a visitor token lives; each visit renews it.
const VISITOR_TOKEN_SECS: i64 = MAX_TOKEN_LIFETIME_SECS - 3_600;
/// The cookie every channel shared before cookies were per channel: still read by the
/// visitor route, so a visitor from then keeps its identity on its next visit.
pub const SHARED_VISITOR_COOKIE: &str = "hl_visitor";

/// The cookie that keeps a website channel's visitor.
pub fn visitor_cookie(web_app_id: &str) -> String {
    format!("{SHARED_VISITOR_COOKIE}_{web_app_id}")
}

/// Whose visitor a user id is: None for an app's own user; `Some(None)` for a visitor made
/// before ids named their channel (any website channel of the app is its own).
pub fn visitor_channel(user: &str) -> Option<Option<ChannelId>> {
    let rest = user.strip_prefix(VISITOR_PREFIX)?;
    Some(
        rest.split_once('.')
            .and_then(|(channel, _)| channel.parse().ok())
            .map(ChannelId),
    )
}

/// Refuses a visitor's message to anything but its own website channel (an in-app virtual
/// number, another site): a visitor token is for its page's chat alone.
pub fn check_visitor_writes(
    state: &super::ApiState,
    app: AppId,
    user: &str,
    to: &str,
    channel: ChannelId,
) -> Result<(), ApiError> {
    let Some(own) = visitor_channel(user) else {
        return Ok(());
    };
    let website = state
        .desk
        .app(app)?
        .channels
        .get(&channel)
        .is_some_and(|c| matches!(c.kind, ChannelKind::Website { .. }));
    if website && own.is_none_or(|own| own == channel) {
        return Ok(());
    }
    user_limits::count(reason::CHANNEL);
    Err(ApiError::invalid(
        "to",
        format!(
            "{to:?} is not this visitor's website channel: a visitor writes only to its webAppId"
        ),
    ))
}

/// The origin (`scheme://host[:port]`) of a URL, as a browser sends it in `Origin`.
fn origin_of(url: &str) -> Option<String> {
    Some(url::Url::parse(url).ok()?.origin().ascii_serialization())
}

/// Refuses a visitor's socket opened with its cookie from a page whose `Origin` is neither
/// the desk's own (the hosted chat page) nor one the channel allows: another site's page
/// cannot ride on the visitor's cookie.
pub fn check_origin(
    state: &super::ApiState,
    headers: &HeaderMap,
    app: AppId,
    channel: ChannelId,
) -> Result<(), ApiError> {
    let refuse = |message: String| {
        user_limits::count(reason::ORIGIN);
        Err(ApiError::Forbidden {
            code: "origin_not_allowed",
            message,
        })
    };
    let Some(origin) = headers
        .get(axum::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return refuse(
            "origin: a visitor's cookie opens the socket only from a page that sends Origin"
                .to_owned(),
        );
    };
    let origin = origin.trim().to_ascii_lowercase();
    let own = origin_of(&state.base_url);
    let allowed = own.as_deref() == Some(origin.as_str())
        || state
            .desk
            .app(app)?
            .website_origins
            .get(&channel)
            .is_some_and(|list| list.contains(&origin));
    if allowed {
        return Ok(());
    }
    refuse(format!(
        "origin {origin:?} is not an allowed origin of this website channel (allowedOrigins)"
    ))
}

/// A website channel, as its page shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebsiteView {
    /// The public id.
    pub web_app_id: String,
    /// The app.
    pub app_id: AppId,
    /// The channel.
    pub channel_id: ChannelId,
    /// The channel's name (`${ChannelName}`).
    pub channel_name: String,
    /// The bottom corner the embed script puts the launcher in.
    pub launcher_position: LauncherPosition,
    /// The launcher's colour, `#rrggbb`.
    pub theme_color: String,
}

/// A visitor's identity.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
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
    let appearance = dir
        .app(app)
        .map(|d| d.appearance(channel.id))
        .unwrap_or_default();
    Ok(WebsiteView {
        web_app_id: web_app_id.to_owned(),
        app_id: app,
        channel_id: channel.id,
        channel_name: channel.name.clone(),
        launcher_position: appearance.launcher_position,
        theme_color: appearance.theme_color,
    })
}

/// A website channel's public description. Readable from any origin: the embed script runs
/// on the channel's sites and reads the launcher's appearance here.
#[utoipa::path(get, path = "/web/{webAppId}", tag = "website",
    params(("webAppId" = String, Path, description = "the channel's webAppId")),
    responses((status = 200, description = "the channel", body = WebsiteView)))]
pub async fn get_website(
    State(state): State<AppState>,
    Path(web_app_id): Path<String>,
) -> Result<Response, ApiError> {
    let mut response = Json(website(&state, &web_app_id)?).into_response();
    response.headers_mut().insert(
        axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    Ok(response)
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
/// valid, a new one otherwise (within the limits of new visitors per address and per
/// channel). Sets the channel's cookie.
#[utoipa::path(post, path = "/web/{webAppId}/visitor", tag = "website",
    params(("webAppId" = String, Path, description = "the channel's webAppId")),
    responses(
        (status = 200, description = "the visitor (cookie set)", body = Visitor),
        (status = 429, description = "too many new visitors from this address or on this channel (`Retry-After` says when)", body = super::error::ErrorBody)))]
pub async fn visitor(
    State(state): State<AppState>,
    Path(web_app_id): Path<String>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let site = website(&state, &web_app_id)?;
    let app = site.app_id;
    let cookie_name = visitor_cookie(&web_app_id);
    // The cookie, or the token itself as Bearer: a chat page framed by another site gets no
    // cookie (third-party cookies are blocked, and SameSite=Lax is not sent into a frame of
    // another site), so it keeps the token in its own storage and presents it here.
    let known = cookie_value(&headers, &cookie_name)
        .or_else(|| cookie_value(&headers, SHARED_VISITOR_COOKIE))
        .or_else(|| auth::bearer_header(&headers).and_then(Result::ok))
        .and_then(|t| user_checked(&state, t, Some(app), None).ok())
        .map(|u| u.user)
        .filter(|u| visitor_channel(u).is_some_and(|own| own.is_none_or(|c| c == site.channel_id)));
    let returning = known.is_some();
    let user_id = match known {
        Some(user) => user,
        None => {
            let address =
                auth::client_address(peer.ip(), &headers, state.config.trust_forwarded_for);
            let now = state.clock.now_ms();
            state
                .user_limits
                .new_visitor(address, site.channel_id, now)?;
            format!(
                "{VISITOR_PREFIX}{}.{}",
                site.channel_id.0,
                URL_SAFE_NO_PAD.encode(auth::random_bytes::<16>())
            )
        }
    };
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
        "{cookie_name}={token}; Path=/; Max-Age={VISITOR_TOKEN_SECS}; HttpOnly; SameSite=Lax{secure}"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visitor_id_names_its_channel_and_older_ids_none() {
        assert_eq!(
            visitor_channel("visitor-17.q83Yb-xk2"),
            Some(Some(ChannelId(17)))
        );
        assert_eq!(visitor_channel("visitor-q83Yb-xk2_0"), Some(None));
        assert_eq!(visitor_channel("u1"), None);
        assert_eq!(visitor_cookie("ab12"), "hl_visitor_ab12");
    }
}
