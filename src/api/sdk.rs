//! The agent SDK: a JavaScript file customers load into their own systems to embed the
//! agent workstation (the seed's "Solution Two: SDK Integration").
//!
//! A customer's backend asks for an SDK URL (`POST /api/v1/sdk/login-tokens`, the seed's
//! CreateSDKLoginToken) and hands it to its page, which loads it as a `<script>`. The
//! script (`/sdk/agent.js`, bundled from `web/sdk/main.ts`, its public types in `web/sdk/agent.ts`, and embedded in the binary)
//! exchanges the URL's token for an ordinary sign-in (`POST /api/v1/sdk/sessions`) and
//! opens the agent's socket. The token works once, for 10 minutes
//! ([`crate::domain::sdk`]). The SDK runs on the customer's pages, another origin: its
//! routes answer any origin (they take no cookies, only the token or bearer given), and so
//! does `POST /api/v1/ws-tickets`, which it asks before each (re)connect for the ticket
//! that opens its socket.

use axum::Json;
use axum::extract::State;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, CACHE_CONTROL, CONTENT_TYPE, HOST, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::directory::AGENT;
use crate::domain::event::{Event, Issuer};
use crate::domain::ids::{AgentId, AppId, StreamId};
use crate::domain::sdk::{MAX_OPEN_SDK_TOKENS_PER_AGENT, SDK_TOKEN_TTL_MS};

use super::auth::{self, LoginResponse, NoStore, Principal};
use super::error::{ApiError, Body};
use super::{ApiState, AppState};

/// The SDK, bundled from `web/sdk/main.ts` by `scripts/web` (committed, so a build
/// needs no Node).
pub const AGENT_JS: &str = include_str!("../../web/dist/agent.js");
/// Its TypeScript declarations, for customers who write TypeScript.
pub const AGENT_DTS: &str = include_str!("../../web/dist/agent.d.ts");
/// The longest token `POST /sdk/sessions` reads (ours are 46 characters).
pub const MAX_SDK_TOKEN_CHARS: usize = 128;
/// What an SDK URL's token starts with (sign-ins are `hl_`, API keys `hk_`).
const SDK_TOKEN_PREFIX: &str = "hs_";

/// The SDK's routes of the API document.
pub fn routes() -> OpenApiRouter<AppState> {
    let cross_origin = OpenApiRouter::new()
        .routes(routes!(start_session))
        .routes(routes!(current_session))
        .routes(routes!(auth::socket_ticket))
        .route("/sdk/sessions", axum::routing::options(preflight))
        .route("/sdk/sessions/current", axum::routing::options(preflight))
        .route("/ws-tickets", axum::routing::options(preflight))
        .layer(axum::middleware::map_response(allow_any_origin));
    OpenApiRouter::new()
        .routes(routes!(create_login_token))
        .merge(cross_origin)
}

/// The SDK's files, outside the API (`/sdk/agent.js`, `/sdk/agent.d.ts`).
pub fn files() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/sdk/agent.js", axum::routing::get(agent_js))
        .route("/sdk/agent.d.ts", axum::routing::get(agent_dts))
}

/// A request for an SDK URL.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewSdkLoginToken {
    /// The agent the URL signs in (the seed's SeatUserId), of the caller's app.
    pub agent_id: AgentId,
}

/// An SDK URL (the seed's SdkURL).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkLoginToken {
    /// Load it as `<script src="...">`: it signs the agent in once, within 10 minutes.
    pub sdk_url: String,
    /// When it stops working, ms since the epoch.
    pub expires_at_ms: i64,
}

/// A new random SDK token and its hash.
fn new_sdk_token() -> (String, String) {
    let token = format!(
        "{SDK_TOKEN_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(auth::random_bytes::<32>())
    );
    let hash = auth::sha256_hex(&token);
    (token, hash)
}

/// Issues an SDK token for `agent` as of `issued_at_ms` (the handler passes now; a test may
/// pass the past to hold an expired one without waiting). Answers the token and when it
/// expires.
pub async fn issue_token(
    state: &ApiState,
    app: AppId,
    agent: AgentId,
    issuer: Issuer,
    issued_at_ms: i64,
) -> Result<(String, i64), ApiError> {
    let turn = state.desk.turn().await;
    let dir = state.desk.app(app)?;
    let Some(account) = dir.agents.get(&agent) else {
        return Err(ApiError::invalid(
            "agentId",
            format!("{agent} is not an agent of this app"),
        ));
    };
    if account.deleted {
        return Err(ApiError::invalid("agentId", format!("{agent} was deleted")));
    }
    // An SDK URL signs its account in without a password: for an administrator that would
    // make any API key the instance's owner.
    if account.role != AGENT {
        return Err(ApiError::invalid(
            "agentId",
            format!(
                "{agent} holds the {} role; SDK URLs sign in agent-role accounts only",
                dir.role_name(account.role).unwrap_or("custom")
            ),
        ));
    }
    if account.forced_offline {
        return Err(ApiError::Conflict(format!(
            "{agent} is forced offline until an administrator resumes it"
        )));
    }
    if account.must_change_password {
        return Err(ApiError::Conflict(format!(
            "{agent} must change its password first (its first sign-in, or after a reset)"
        )));
    }
    let open = state
        .desk
        .read()
        .sdk_tokens
        .open_for(app, agent, state.clock.now_ms());
    if open >= MAX_OPEN_SDK_TOKENS_PER_AGENT {
        return Err(ApiError::Conflict(format!(
            "{agent} has {open} unused SDK URLs; use one or let them expire (10 minutes)"
        )));
    }
    let (token, token_hash) = new_sdk_token();
    let expires_at_ms = issued_at_ms + SDK_TOKEN_TTL_MS;
    let event = Event::SdkTokenIssuedBy {
        agent,
        token_hash,
        issued_at_ms,
        expires_at_ms,
        issuer,
    };
    state
        .desk
        .append(&turn, app, vec![(StreamId::app(app), event)])
        .await?;
    tracing::info!(%app, %agent, ?issuer, "issued an SDK URL");
    Ok((token, expires_at_ms))
}

/// Where the SDK URL points: the configured `public_url`, else the origin the caller
/// reached helpline at (its `Host`), else the listening address.
fn public_base(state: &ApiState, headers: &HeaderMap, uri: &Uri) -> Result<String, ApiError> {
    if let Some(url) = &state.config.public_url {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    let host = match headers.get(HOST) {
        Some(value) => value
            .to_str()
            .map_err(|_| ApiError::invalid("Host", "is not text"))?,
        None => match uri.authority() {
            Some(authority) => authority.as_str(),
            None => return Ok(state.base_url.clone()),
        },
    };
    let bad = || ApiError::invalid("Host", format!("{host:?} is not a host[:port]"));
    let url = url::Url::parse(&format!("http://{host}")).map_err(|_| bad())?;
    if url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(bad());
    }
    Ok(url.origin().ascii_serialization())
}

/// Makes an SDK URL that signs an agent into the SDK once, within 10 minutes (the seed's
/// CreateSDKLoginToken; API keys and administrators). Only agent-role accounts get one;
/// the log records who asked. The URL is on the configured `public_url`, or else on the
/// host this request was sent to.
#[utoipa::path(post, path = "/sdk/login-tokens", tag = "sdk", request_body = NewSdkLoginToken,
    responses((status = 201, description = "the URL, shown only now", body = SdkLoginToken,
        headers(("Cache-Control" = String, description = "`no-store`: the URL works once")))))]
pub async fn create_login_token(
    State(state): State<AppState>,
    who: Principal,
    headers: HeaderMap,
    uri: Uri,
    Body(input): Body<NewSdkLoginToken>,
) -> Result<(StatusCode, NoStore<Json<SdkLoginToken>>), ApiError> {
    who.require_admin()?;
    let base = public_base(&state, &headers, &uri)?;
    let now = state.clock.now_ms();
    let issuer = match (who.api_key, who.agent) {
        (Some(key), _) => Issuer::ApiKey { key },
        (None, Some(agent)) => Issuer::Account { agent },
        (None, None) => return Err(ApiError::Internal("a principal is a key or an account")),
    };
    let (token, expires_at_ms) = issue_token(&state, who.app, input.agent_id, issuer, now).await?;
    Ok((
        StatusCode::CREATED,
        NoStore(Json(SdkLoginToken {
            sdk_url: format!("{base}/sdk/agent.js?token={token}"),
            expires_at_ms,
        })),
    ))
}

/// The token of an SDK URL, to exchange for a sign-in.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SdkSessionRequest {
    /// The `token` query parameter of the SDK URL.
    #[schema(min_length = 1, max_length = 128)]
    pub token: String,
}

/// Exchanges an SDK URL's token for a sign-in of its agent, as `/auth/login` gives one: it
/// ends the agent's other login (one login place). The token works once, within 10
/// minutes. The SDK calls this itself; it answers any origin.
#[utoipa::path(post, path = "/sdk/sessions", tag = "sdk", request_body = SdkSessionRequest,
    responses(
        (status = 200, description = "signed in", body = LoginResponse,
            headers(("Cache-Control" = String, description = "`no-store`: the token is shown only now"))),
        (status = 401, description = "the SDK URL is unknown (`sdk_token_unknown`), expired \
            (`sdk_token_expired`) or used already (`sdk_token_used`)", body = super::error::ErrorBody),
        (status = 403, description = "the agent is forced offline (`forced_offline`), must \
            change its password (`password_change_required`), or no longer holds the agent \
            role (`forbidden`)", body = super::error::ErrorBody),
    ))]
pub async fn start_session(
    State(state): State<AppState>,
    Body(input): Body<SdkSessionRequest>,
) -> Result<NoStore<Json<LoginResponse>>, ApiError> {
    let chars = input.token.chars().count();
    if chars == 0 || chars > MAX_SDK_TOKEN_CHARS {
        return Err(ApiError::invalid(
            "token",
            format!("must be 1 to {MAX_SDK_TOKEN_CHARS} characters, got {chars}"),
        ));
    }
    let token_hash = auth::sha256_hex(&input.token);
    // One use at a time: the check and the use are one step under the turn.
    let turn = state.desk.turn().await;
    let now = state.clock.now_ms();
    let (app, agent) = {
        let dir = state.desk.read();
        let token =
            dir.sdk_tokens
                .check(&token_hash, now)
                .map_err(|refusal| ApiError::Refused {
                    code: refusal.code(),
                    message: refusal.message().to_owned(),
                })?;
        (token.app, token.agent)
    };
    let Some(account) = state.desk.app(app)?.live_agent(agent).cloned() else {
        return Err(ApiError::Refused {
            code: "sdk_token_unknown",
            message: format!("{agent}, whom this SDK URL signs in, was deleted"),
        });
    };
    if account.forced_offline {
        return Err(ApiError::Forbidden {
            code: "forced_offline",
            message: "an administrator forced this account offline until resumed".to_owned(),
        });
    }
    if account.must_change_password {
        return Err(ApiError::Forbidden {
            code: "password_change_required",
            message: "the agent must change its password first (POST /api/v1/auth/password)"
                .to_owned(),
        });
    }
    // Checked again at the use: the account may have been given another role since.
    if account.role != AGENT {
        return Err(ApiError::forbidden(format!(
            "{agent} no longer holds the agent role; SDK URLs sign in agent-role accounts only"
        )));
    }
    let used = Event::SdkTokenUsed { agent, token_hash };
    let (token, expires_at_ms) = auth::start_login(
        &state,
        &turn,
        app,
        &account,
        vec![(StreamId::app(app), used)],
    )
    .await?;
    drop(turn);
    Ok(NoStore(Json(LoginResponse {
        token,
        expires_at_ms,
        app_id: app,
        agent_id: agent,
        role_id: account.role,
        must_change_password: false,
    })))
}

/// A live sign-in.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkSessionView {
    /// The app.
    pub app_id: AppId,
    /// The agent signed in.
    pub agent_id: AgentId,
    /// When the sign-in ends, ms since the epoch.
    pub expires_at_ms: i64,
}

/// Whether the caller's sign-in still works. The SDK asks after its socket failed to
/// open: a 401 means the login ended (a newer sign-in, logout, expiry), not the network.
#[utoipa::path(get, path = "/sdk/sessions/current", tag = "sdk",
    responses((status = 200, description = "the sign-in works", body = SdkSessionView)))]
pub async fn current_session(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<SdkSessionView>, ApiError> {
    let Some(agent) = who.agent else {
        return Err(ApiError::invalid(
            "Authorization",
            "an API key has no sign-in; send an agent's token",
        ));
    };
    let expires_at_ms = state
        .desk
        .app(who.app)?
        .live_agent(agent)
        .and_then(|a| a.login.as_ref())
        .map(|l| l.expires_at_ms)
        .ok_or_else(|| ApiError::Unauthorized("the sign-in ended".to_owned()))?;
    Ok(Json(SdkSessionView {
        app_id: who.app,
        agent_id: agent,
        expires_at_ms,
    }))
}

/// Lets a page of any origin read the answer: the SDK's routes take no cookies, so no
/// origin gains anything it did not bring.
async fn allow_any_origin(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// Answers a browser's preflight of a cross-origin call of the SDK.
async fn preflight() -> impl IntoResponse {
    (
        StatusCode::NO_CONTENT,
        [
            (ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"),
            (ACCESS_CONTROL_ALLOW_HEADERS, "authorization, content-type"),
            (ACCESS_CONTROL_MAX_AGE, "600"),
        ],
    )
}

/// A file of the SDK. Any origin may load it (the seed's snippet loads it with
/// `crossorigin="anonymous"`); browsers revalidate it, so an upgrade is picked up.
fn sdk_file(content_type: &'static str, text: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (CACHE_CONTROL, "no-cache"),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        text,
    )
        .into_response()
}

/// `GET /sdk/agent.js`: the SDK. Its `token` query parameter is the SDK's to read; the
/// server ignores it.
pub async fn agent_js() -> Response {
    sdk_file("application/javascript; charset=utf-8", AGENT_JS)
}

/// `GET /sdk/agent.d.ts`: the SDK's TypeScript declarations.
pub async fn agent_dts() -> Response {
    sdk_file("text/plain; charset=utf-8", AGENT_DTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_tokens_are_random_and_url_safe() {
        let (a, hash) = new_sdk_token();
        let (b, _) = new_sdk_token();
        assert_ne!(a, b);
        assert!(a.starts_with(SDK_TOKEN_PREFIX) && a.len() <= MAX_SDK_TOKEN_CHARS);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
            "{a}"
        );
        assert_eq!(hash, auth::sha256_hex(&a));
    }

    #[test]
    fn the_embedded_sdk_is_the_built_one() {
        assert!(
            AGENT_JS.contains("sdk_token_"),
            "agent.js knows the token codes"
        );
        assert!(AGENT_DTS.contains("CommonSDKResponse"));
    }
}
