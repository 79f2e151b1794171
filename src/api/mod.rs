//! The management API under `/api/v1`: accounts and sign-in, roles, agents, skill groups,
//! settings, quick replies, satisfaction configurations, channels, third-party extensions,
//! API keys and apps. Every change is an event in the log (see [`desk`]); every refusal is a
//! JSON [`error::ApiError`] naming the field; the OpenAPI document is generated from the
//! handlers themselves and served at `/api/v1/openapi.json`.

pub mod agents;
pub mod analysis;
pub mod apps;
pub mod assets;
pub mod attachments;
pub mod auth;
pub mod catalog;
pub mod channels;
pub mod connections;
pub mod csv_import;
pub mod desk;
pub mod error;
pub mod extensions;
pub mod faq;
pub mod flows;
pub mod groups;
pub mod heartbeat;
pub mod im;
pub mod mail;
pub mod metrics;
pub mod monitoring;
pub mod presence;
pub mod probes;
pub mod quick_replies;
pub mod records;
pub mod roles;
pub mod satisfaction;
pub mod sdk;
pub mod settings;
pub mod user_limits;
pub mod web;
pub mod workstation;
pub mod ws;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use serde::Deserialize;
use tokio::sync::broadcast;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr, Response, ResponseBuilder, SecurityRequirement};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::Clock;
use crate::domain::directory::{ADMINISTRATOR, Directory, SignOutCause};
use crate::domain::event::Event;
use crate::domain::ids::{AgentId, AppId, StreamId};
use crate::engine::Engine;
use crate::im::hub::Hub;

use self::desk::Desk;
use self::error::{ApiError, ErrorBody};
use self::mail::{Mailer, SmtpConfig};

/// The default lifetime of a sign-in: one working day and a half.
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 12 * 3_600;
/// The email of the first administrator of a fresh instance.
pub const FIRST_ADMIN_EMAIL: &str = "admin@helpline.local";

/// What the operator configures about the API (the `[smtp]` table and the top-level keys of
/// `helpline.toml`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// How long a sign-in lasts, in seconds (default 12 h).
    #[serde(default = "default_token_ttl")]
    pub token_ttl_secs: u64,
    /// The address users and agents reach helpline at, for links (website channels).
    #[serde(default)]
    pub public_url: Option<String>,
    /// Where passwords are mailed; without it they are shown once to the administrator.
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    /// helpline sits behind a reverse proxy that appends the client's address to
    /// `X-Forwarded-For`: rate limits then count per client, not per proxy.
    #[serde(default)]
    pub trust_forwarded_for: bool,
    /// The most live agents one app may hold (default 10,000): each costs memory in the
    /// directory and the engine, and one import must not grow an app without bound.
    #[serde(default = "default_max_agents_per_app")]
    pub max_agents_per_app: usize,
    /// What flows' outbound calls may reach besides public addresses (`[outbound]`).
    #[serde(default)]
    pub outbound: OutboundConfig,
    /// Connection timeouts and caps of the HTTP server (`[server]`).
    #[serde(default)]
    pub server: ServerConfig,
    /// Who may read `/metrics` (`[metrics]`).
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// The public end's abuse limits (the `[user_end]` table).
    #[serde(default)]
    pub user_end: user_limits::UserEndLimits,
    /// What users and agents may send as files (`[attachments]`).
    #[serde(default)]
    pub attachments: AttachmentsConfig,
}

/// The `[attachments]` table: the largest upload and the content types allowed.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentsConfig {
    /// The largest upload, in bytes (default 10 MiB, at most 100 MiB).
    #[serde(default = "default_attachment_bytes")]
    pub max_bytes: u64,
    /// The content types allowed, as sniffed from the bytes (default: images, PDF, plain
    /// text, office documents).
    #[serde(default = "default_attachment_types")]
    pub allowed_types: Vec<String>,
}

fn default_attachment_bytes() -> u64 {
    crate::domain::attachment::DEFAULT_MAX_ATTACHMENT_BYTES
}

fn default_attachment_types() -> Vec<String> {
    crate::domain::attachment::Policy::default().allowed
}

impl Default for AttachmentsConfig {
    fn default() -> Self {
        Self {
            max_bytes: default_attachment_bytes(),
            allowed_types: default_attachment_types(),
        }
    }
}

impl AttachmentsConfig {
    /// The domain's policy.
    pub fn policy(&self) -> crate::domain::attachment::Policy {
        crate::domain::attachment::Policy {
            max_bytes: self.max_bytes,
            allowed: self.allowed_types.clone(),
        }
    }
}

/// The default of `max_agents_per_app`: a large contact centre's agents, with room.
pub const DEFAULT_MAX_AGENTS_PER_APP: usize = 10_000;
/// The highest `max_agents_per_app` accepted: beyond it one app outgrows one server.
pub const MAX_AGENTS_PER_APP_LIMIT: usize = 1_000_000;

fn default_max_agents_per_app() -> usize {
    DEFAULT_MAX_AGENTS_PER_APP
}

/// The `[outbound]` table: internal systems flows call on purpose.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundConfig {
    /// Addresses, CIDR ranges and host names interface calls and webhook bots may reach
    /// although they are loopback, private, link-local... (refused by default).
    #[serde(default)]
    pub allow: Vec<String>,
}

/// How long a client may take to send a request's headers: a slow or half-open client
/// holds a connection and its task for no longer than this.
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
/// How long a connection may carry nothing either way before it is closed: a keep-alive
/// connection a client forgot, or a peer that vanished without closing.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 120;
/// Open connections at most: each costs a task and buffers; past this, new ones are
/// accepted and closed at once, so a flood cannot exhaust file descriptors.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// How often the server pings a WebSocket: a socket whose pong has not come back by the
/// next ping is closed (its peer is gone, or cannot read).
pub const DEFAULT_WS_PING_SECS: u64 = 30;
/// How long an agent who was online may have no workstation socket open before the desk
/// takes it offline: long enough for a reload or a network blip (the client reconnects in
/// seconds), short enough that chats stop being offered to a tab that was closed.
pub const DEFAULT_AGENT_AWAY_SECS: u64 = 60;
/// The longest any of the server's timeouts may be set to (one hour): longer is no timeout.
pub const MAX_SERVER_TIMEOUT_SECS: u64 = 3_600;
/// The most connections `server.max_connections` may allow.
pub const MAX_MAX_CONNECTIONS: usize = 1_000_000;

/// The `[server]` table: connection timeouts and caps.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Seconds a client has to send a request's headers (default 10).
    #[serde(default = "default_header_read_timeout")]
    pub header_read_timeout_secs: u64,
    /// Seconds a connection may carry nothing either way before it is closed (default 120).
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_secs: u64,
    /// Open connections at most (default 10 000).
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Seconds between the server's WebSocket pings (default 30).
    #[serde(default = "default_ws_ping")]
    pub ws_ping_secs: u64,
    /// Seconds an agent may have no workstation socket open (after having had one) before
    /// it is taken offline, cause `disconnected` (default 60; 0: never).
    #[serde(default = "default_agent_away")]
    pub agent_away_secs: u64,
}

fn default_agent_away() -> u64 {
    DEFAULT_AGENT_AWAY_SECS
}

fn default_header_read_timeout() -> u64 {
    DEFAULT_HEADER_READ_TIMEOUT_SECS
}

fn default_idle_timeout() -> u64 {
    DEFAULT_IDLE_TIMEOUT_SECS
}

fn default_max_connections() -> usize {
    DEFAULT_MAX_CONNECTIONS
}

fn default_ws_ping() -> u64 {
    DEFAULT_WS_PING_SECS
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            header_read_timeout_secs: DEFAULT_HEADER_READ_TIMEOUT_SECS,
            idle_timeout_secs: DEFAULT_IDLE_TIMEOUT_SECS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            ws_ping_secs: DEFAULT_WS_PING_SECS,
            agent_away_secs: DEFAULT_AGENT_AWAY_SECS,
        }
    }
}

impl ServerConfig {
    fn validate(&self) -> Result<(), ApiError> {
        let timeouts = [
            (
                "server.header_read_timeout_secs",
                self.header_read_timeout_secs,
            ),
            ("server.idle_timeout_secs", self.idle_timeout_secs),
            ("server.ws_ping_secs", self.ws_ping_secs),
        ];
        for (key, secs) in timeouts {
            if !(1..=MAX_SERVER_TIMEOUT_SECS).contains(&secs) {
                return Err(ApiError::invalid(key, "must be 1 s to 1 hour"));
            }
        }
        if self.agent_away_secs > MAX_SERVER_TIMEOUT_SECS {
            return Err(ApiError::invalid(
                "server.agent_away_secs",
                "must be 0 (never) to 1 hour",
            ));
        }
        if self.idle_timeout_secs <= self.ws_ping_secs {
            // A WebSocket is quiet between pings: it would be closed as idle.
            return Err(ApiError::invalid(
                "server.idle_timeout_secs",
                "must be longer than server.ws_ping_secs",
            ));
        }
        if !(1..=MAX_MAX_CONNECTIONS).contains(&self.max_connections) {
            return Err(ApiError::invalid(
                "server.max_connections",
                "must be 1 to 1000000",
            ));
        }
        Ok(())
    }
}

/// The shortest `metrics.token`: a bearer anyone can guess protects nothing.
pub const MIN_METRICS_TOKEN_CHARS: usize = 16;

/// The `[metrics]` table: who may read `/metrics`, which lists every app's figures.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// When set, `/metrics` wants `Authorization: Bearer <token>`.
    #[serde(default)]
    pub token: Option<String>,
    /// When set, `/metrics` is served only on this address (e.g. `127.0.0.1:9100`), not on
    /// the main listener.
    #[serde(default)]
    pub listen: Option<std::net::SocketAddr>,
}

impl MetricsConfig {
    fn validate(&self) -> Result<(), ApiError> {
        if let Some(token) = &self.token
            && (token.chars().count() < MIN_METRICS_TOKEN_CHARS
                || token.chars().any(|c| !c.is_ascii_graphic()))
        {
            return Err(ApiError::invalid(
                "metrics.token",
                format!(
                    "must be at least {MIN_METRICS_TOKEN_CHARS} printable characters without spaces"
                ),
            ));
        }
        Ok(())
    }
}

fn default_token_ttl() -> u64 {
    DEFAULT_TOKEN_TTL_SECS
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            token_ttl_secs: DEFAULT_TOKEN_TTL_SECS,
            public_url: None,
            smtp: None,
            trust_forwarded_for: false,
            max_agents_per_app: DEFAULT_MAX_AGENTS_PER_APP,
            outbound: OutboundConfig::default(),
            server: ServerConfig::default(),
            metrics: MetricsConfig::default(),
            user_end: Default::default(),
            attachments: Default::default(),
        }
    }
}

impl ApiConfig {
    /// Checks the values a TOML file cannot type-check.
    pub fn validate(&self) -> Result<(), ApiError> {
        if !(60..=30 * 86_400).contains(&self.token_ttl_secs) {
            return Err(ApiError::invalid(
                "token_ttl_secs",
                "must be 60 s to 30 days",
            ));
        }
        if let Some(url) = &self.public_url {
            let parsed =
                url::Url::parse(url).map_err(|e| ApiError::invalid("public_url", e.to_string()))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(ApiError::invalid(
                    "public_url",
                    "must be an http or https URL",
                ));
            }
        }
        if !(1..=MAX_AGENTS_PER_APP_LIMIT).contains(&self.max_agents_per_app) {
            return Err(ApiError::invalid(
                "max_agents_per_app",
                format!(
                    "must be 1 to {MAX_AGENTS_PER_APP_LIMIT}, got {}",
                    self.max_agents_per_app
                ),
            ));
        }
        if let Some(smtp) = &self.smtp {
            smtp.validate()?;
        }
        crate::domain::address::AllowList::parse(&self.outbound.allow)
            .map_err(|e| ApiError::invalid("outbound.allow", e))?;
        let limit = crate::domain::attachment::MAX_ATTACHMENT_BYTES_LIMIT;
        if !(1..=limit).contains(&self.attachments.max_bytes) {
            return Err(ApiError::invalid(
                "attachments.max_bytes",
                format!("must be 1 to {limit}, got {}", self.attachments.max_bytes),
            ));
        }
        if let Some(t) = self.attachments.allowed_types.iter().find(|t| {
            !t.contains('/') || t.contains(char::is_whitespace) || t.starts_with("text/html")
        }) {
            return Err(ApiError::invalid(
                "attachments.allowed_types",
                format!(
                    "{t:?} is not a content type helpline may serve (type/subtype, never HTML)"
                ),
            ));
        }
        self.server.validate()?;
        self.metrics.validate()?;
        self.user_end.validate()?;
        Ok(())
    }
}

/// A login that ended, for the agent's WebSocket to be told why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignOutNotice {
    /// The app.
    pub app: AppId,
    /// The agent.
    pub agent: AgentId,
    /// Why.
    pub cause: SignOutCause,
}

/// Everything a handler reaches.
pub struct ApiState {
    /// The engine and the directory.
    pub desk: Desk,
    /// The clock (paused in tests).
    pub clock: Clock,
    /// Operator settings.
    pub config: ApiConfig,
    /// Where links point: `public_url`, or the listening address.
    pub base_url: String,
    /// Sign-in rate limits.
    pub throttle: auth::Throttle,
    /// Ended logins.
    pub signouts: broadcast::Sender<SignOutNotice>,
    /// Outgoing mail, when `[smtp]` is configured.
    pub mailer: Option<Mailer>,
    /// A hash no password matches quickly: unknown emails are verified against it, so they
    /// take as long as wrong passwords.
    pub dummy_hash: String,
    /// The user end: conversations, sockets, and their sessions.
    pub hub: Hub,
    /// The service records (a projection of the log), once started.
    pub records: crate::records::Records,
    /// The sign-ins whose sockets hear of their expiry.
    pub expiries: auth::Expiries,
    /// Every argon2 hash and verify, one per core at a time.
    pub hasher: auth::Hasher,
    /// Unused single-use tickets that open agent sockets.
    pub tickets: std::sync::Mutex<crate::domain::signin::SocketTickets>,
    /// The user end's abuse limits and their buckets.
    pub user_limits: user_limits::Gate,
    /// The attachments' bytes, under the data directory once the server opens it.
    pub attachments: crate::im::attachments::Store,
}

/// The state handlers share.
pub type AppState = Arc<ApiState>;

impl ApiState {
    /// The state over a started engine and the directory its log folded into.
    pub fn new(
        engine: Arc<Engine>,
        directory: Directory,
        hub: Hub,
        clock: Clock,
        config: ApiConfig,
        base_url: String,
    ) -> Result<AppState, ApiError> {
        config.validate()?;
        let mailer = config.smtp.as_ref().map(Mailer::new).transpose()?;
        let user_limits = user_limits::Gate::new(config.user_end.clone());
        let base_url = config
            .public_url
            .clone()
            .unwrap_or(base_url)
            .trim_end_matches('/')
            .to_owned();
        let state = Arc::new(ApiState {
            desk: Desk::new(engine, directory),
            clock,
            config,
            base_url,
            throttle: auth::Throttle::default(),
            signouts: broadcast::channel(1_024).0,
            mailer,
            dummy_hash: auth::hash_password(&auth::random_password()),
            hub,
            records: Default::default(),
            expiries: Default::default(),
            hasher: auth::Hasher::for_this_machine(),
            tickets: Default::default(),
            user_limits,
            attachments: Default::default(),
        });
        Hub::start(&state);
        auth::Expiries::start(&state);
        Ok(state)
    }
}

/// The first administrator, printed once on the console.
pub struct FirstAdmin {
    /// The app.
    pub app: AppId,
    /// The login email.
    pub email: String,
    /// The password, when it was generated (none when taken from the environment).
    pub password: Option<String>,
}

/// On a fresh instance: creates the default app and its administrator. The password is
/// `admin_password` when given (from `HELPLINE_ADMIN_PASSWORD`), otherwise a random one
/// that must be changed at first sign-in.
pub async fn bootstrap(
    state: &ApiState,
    admin_password: Option<String>,
) -> Result<Option<FirstAdmin>, ApiError> {
    let engine = &state.desk.engine;
    let app = match engine.shared().registry.apps.iter().map(|a| *a.key()).min() {
        Some(app) => app,
        None => {
            let app = engine.create_app("default").await?;
            state.desk.fold(
                app,
                &[(
                    StreamId::app(app),
                    Event::AppCreated {
                        name: "default".to_owned(),
                    },
                )],
            );
            app
        }
    };
    let has_admin = state.desk.read().app(app).is_some_and(|d| {
        d.agents
            .values()
            .any(|a| !a.deleted && a.role == ADMINISTRATOR && !a.email.is_empty())
    });
    if has_admin {
        return Ok(None);
    }
    if let Some(p) = &admin_password {
        auth::check_new_password("HELPLINE_ADMIN_PASSWORD", p)?;
    }
    let generated = admin_password.is_none();
    let password = admin_password.unwrap_or_else(auth::random_password);
    let input = agents::NewAgent::first_administrator(FIRST_ADMIN_EMAIL.to_owned());
    let turn = state.desk.turn().await;
    let hash = state.hasher.hash(password.clone()).await?;
    agents::create_accounts(state, &turn, app, vec![(input, hash, generated)]).await?;
    Ok(Some(FirstAdmin {
        app,
        email: FIRST_ADMIN_EMAIL.to_owned(),
        password: generated.then_some(password),
    }))
}

/// The `/api/v1` routes and their OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(auth::change_password))
        .routes(routes!(apps::list_apps, apps::create_app))
        .routes(routes!(apps::list_api_keys, apps::create_api_key))
        .routes(routes!(apps::revoke_api_key))
        .routes(routes!(apps::im_secret_status, apps::rotate_im_secret))
        .routes(routes!(im::send_message))
        .routes(routes!(im::list_conversations))
        .routes(routes!(im::read_messages))
        .routes(routes!(attachments::user_upload))
        .routes(routes!(attachments::user_download))
        .routes(routes!(attachments::desk_download))
        .routes(routes!(attachments::agent_upload))
        .routes(routes!(web::get_website))
        .routes(routes!(web::visitor))
        .routes(routes!(workstation::transfer_targets))
        .routes(routes!(records::list_records))
        .routes(routes!(records::get_record))
        .routes(routes!(records::get_timeline))
        .routes(routes!(monitoring::groups))
        .routes(routes!(monitoring::agents))
        .routes(routes!(monitoring::queue))
        .routes(routes!(analysis::report))
        .routes(routes!(workstation::command))
        .routes(routes!(roles::list_roles, roles::create_role))
        .routes(routes!(
            roles::get_role,
            roles::update_role,
            roles::delete_role
        ))
        .routes(routes!(agents::list_agents, agents::create_agent))
        .routes(routes!(
            agents::get_agent,
            agents::update_agent,
            agents::delete_agent
        ))
        .routes(routes!(agents::force_offline))
        .routes(routes!(agents::resume))
        .routes(routes!(agents::reset_password))
        .routes(routes!(agents::import_template))
        .routes(routes!(agents::import_agents))
        .routes(routes!(groups::list_groups, groups::create_group))
        .routes(routes!(
            groups::get_group,
            groups::update_group,
            groups::delete_group
        ))
        .routes(routes!(groups::put_member, groups::remove_member))
        .routes(routes!(settings::get_settings, settings::put_settings))
        .routes(routes!(
            settings::list_rest_reasons,
            settings::create_rest_reason
        ))
        .routes(routes!(settings::update_rest_reason))
        .routes(routes!(settings::get_proactive, settings::put_proactive))
        .routes(routes!(
            quick_replies::list_quick_replies,
            quick_replies::create_quick_reply
        ))
        .routes(routes!(
            quick_replies::get_quick_reply,
            quick_replies::update_quick_reply,
            quick_replies::delete_quick_reply
        ))
        .routes(routes!(quick_replies::import_template))
        .routes(routes!(quick_replies::import_quick_replies))
        .routes(routes!(
            satisfaction::list_configs,
            satisfaction::create_config
        ))
        .routes(routes!(
            satisfaction::get_config,
            satisfaction::update_config,
            satisfaction::delete_config
        ))
        .routes(routes!(flows::list_flows, flows::create_flow))
        .routes(routes!(
            flows::get_flow,
            flows::update_flow,
            flows::delete_flow
        ))
        .routes(routes!(flows::list_versions))
        .routes(routes!(faq::list_faq, faq::create_faq))
        .routes(routes!(faq::get_faq, faq::update_faq, faq::delete_faq))
        .routes(routes!(channels::list_channels, channels::create_channel))
        .routes(routes!(
            channels::get_channel,
            channels::update_channel,
            channels::delete_channel
        ))
        .routes(routes!(
            extensions::list_extensions,
            extensions::create_extension
        ))
        .routes(routes!(
            extensions::get_extension,
            extensions::update_extension,
            extensions::delete_extension
        ))
        .merge(sdk::routes())
}

/// The whole HTTP surface of the API, with the document at `/api/v1/openapi.json`.
pub fn router(state: AppState) -> Router {
    let (api, mut doc) = OpenApiRouter::new()
        .nest("/api/v1", routes())
        .split_for_parts();
    finish_document(&mut doc);
    let doc = Arc::new(doc);
    let api = api
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .route("/ws/im", axum::routing::get(ws::user_socket))
        .route("/ws/agent", axum::routing::get(ws::agent_socket))
        .merge(sdk::files())
        .merge(assets::files());
    // With a listener of its own, `/metrics` is not on the public one at all.
    let api = if state.config.metrics.listen.is_none() {
        api.route("/metrics", axum::routing::get(metrics::metrics))
    } else {
        api
    };
    api.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(metrics::count_request))
        // Every answer is what its Content-Type says: no browser guesses a script out of a
        // JSON error or an uploaded file.
        .layer(SetResponseHeaderLayer::overriding(
            axum::http::header::X_CONTENT_TYPE_OPTIONS,
            axum::http::HeaderValue::from_static("nosniff"),
        ))
        .with_state(state)
}

/// `/metrics` alone, for the listener of `[metrics] listen`.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", axum::routing::get(metrics::metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// The OpenAPI document alone (for tests and `helpline openapi`).
pub fn openapi() -> OpenApi {
    let (_, mut doc) = OpenApiRouter::<AppState>::new()
        .nest("/api/v1", routes())
        .split_for_parts();
    finish_document(&mut doc);
    doc
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".to_owned())
}

async fn method_not_allowed() -> (axum::http::StatusCode, Json<ErrorBody>) {
    let e = ApiError::invalid("method", "this route does not take that method");
    (axum::http::StatusCode::METHOD_NOT_ALLOWED, Json(e.body()))
}

/// The responses every operation may give besides its own, with the shared error body.
const COMMON_ERRORS: [(&str, &str); 8] = [
    ("400", "invalid input; `error.field` names it"),
    ("401", "no valid token or API key"),
    (
        "403",
        "the role lacks the module, or the password must change first",
    ),
    ("404", "unknown id in the caller's app"),
    ("409", "conflicts with the current state"),
    ("413", "body over its limit"),
    ("415", "wrong Content-Type"),
    ("503", "the event log cannot take changes now"),
];

/// Adds what the handlers' annotations leave out: the title, the bearer scheme on every
/// operation but sign-in, and the shared error responses.
fn finish_document(doc: &mut OpenApi) {
    doc.info = utoipa::openapi::InfoBuilder::new()
        .title("helpline management API")
        .version(env!("CARGO_PKG_VERSION"))
        .license(Some(
            utoipa::openapi::LicenseBuilder::new()
                .name("Apache-2.0")
                .build(),
        ))
        .build();
    doc.info.description = Some(
        "Sign in with POST /api/v1/auth/login, then send `Authorization: Bearer <token>`. \
         API keys are sent the same way (`Bearer hk_<id>_<secret>`)."
            .to_owned(),
    );
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    components.schemas.insert(
        "ErrorBody".to_owned(),
        <ErrorBody as utoipa::PartialSchema>::schema(),
    );
    for (name, schema) in error_schemas() {
        components.schemas.insert(name, schema);
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for op in ops.into_iter().flatten() {
            let public = path == "/api/v1/auth/login"
                || path == "/api/v1/sdk/sessions"
                || path.starts_with("/api/v1/web/");
            if !public {
                op.security = Some(vec![SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]);
            }
            for (status, description) in COMMON_ERRORS {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| error_response(description));
            }
            if path == "/api/v1/auth/login" {
                op.responses.responses.insert(
                    "429".to_owned(),
                    error_response("too many sign-in attempts"),
                );
            }
        }
    }
}

fn error_schemas() -> Vec<(String, RefOr<utoipa::openapi::schema::Schema>)> {
    let mut out = Vec::new();
    <ErrorBody as utoipa::ToSchema>::schemas(&mut out);
    out
}

fn error_response(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::domain::directory::{
        MAX_NAME_CHARS, MAX_PROACTIVE_TIMEOUT_SECS, MAX_QUICK_REPLY_CONTENT_CHARS,
        MAX_SATISFACTION_VALIDITY_SECS, MIN_PROACTIVE_TIMEOUT_SECS,
    };
    use crate::domain::group::{LOWEST_PRIORITY, MAX_RECEPTION_LIMIT};
    use crate::domain::settings::{MAX_ACCEPT_TIMEOUT_SECS, MIN_ACCEPT_TIMEOUT_SECS};

    fn property(doc: &Value, schema: &str, field: &str, bound: &str) -> u64 {
        doc["components"]["schemas"][schema]["properties"][field][bound]
            .as_u64()
            .unwrap_or_else(|| panic!("{schema}.{field} has no {bound}"))
    }

    /// The bounds the document states are literals (the derive takes no constants): this
    /// keeps them equal to the limits the code enforces.
    #[test]
    fn documented_bounds_are_the_enforced_limits() {
        let doc = serde_json::to_value(super::openapi()).unwrap();
        let checks = [
            (
                "NewGroup",
                "receptionLimit",
                "maximum",
                u64::from(MAX_RECEPTION_LIMIT),
            ),
            (
                "MemberPriority",
                "priority",
                "maximum",
                u64::from(LOWEST_PRIORITY),
            ),
            ("NewAgent", "name", "maxLength", MAX_NAME_CHARS as u64),
            (
                "ProactiveRule",
                "timeoutSecs",
                "minimum",
                u64::from(MIN_PROACTIVE_TIMEOUT_SECS),
            ),
            (
                "ProactiveRule",
                "timeoutSecs",
                "maximum",
                u64::from(MAX_PROACTIVE_TIMEOUT_SECS),
            ),
            (
                "ReceptionSettings",
                "acceptTimeoutSecs",
                "minimum",
                u64::from(MIN_ACCEPT_TIMEOUT_SECS),
            ),
            (
                "ReceptionSettings",
                "acceptTimeoutSecs",
                "maximum",
                u64::from(MAX_ACCEPT_TIMEOUT_SECS),
            ),
            (
                "QuickReplyInput",
                "content",
                "maxLength",
                MAX_QUICK_REPLY_CONTENT_CHARS as u64,
            ),
            (
                "SatisfactionInput",
                "validitySecs",
                "maximum",
                u64::from(MAX_SATISFACTION_VALIDITY_SECS),
            ),
            (
                "PasswordChange",
                "newPassword",
                "minLength",
                super::auth::MIN_PASSWORD_CHARS as u64,
            ),
        ];
        for (schema, field, bound, want) in checks {
            assert_eq!(
                property(&doc, schema, field, bound),
                want,
                "{schema}.{field}.{bound}"
            );
        }
    }

    #[test]
    fn the_document_names_no_person() {
        let doc = serde_json::to_value(super::openapi()).unwrap();
        assert!(doc["info"].get("contact").is_none());
        assert_eq!(doc["info"]["title"], "helpline management API");
    }

    /// Two types with one schema name would share one component, and the document would
    /// describe one of them wrongly (the role modules were once the flow modules). Every
    /// `ToSchema` type of the source must have a name of its own (`#[schema(as = ...)]`).
    #[test]
    fn every_schema_name_is_one_type() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut seen: std::collections::BTreeMap<String, String> = Default::default();
        let mut clashes = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                if !(line.contains("derive") && line.contains("ToSchema")) {
                    continue;
                }
                let mut renamed = None;
                for next in lines.iter().skip(i + 1).take(8) {
                    if let Some(rest) = next.trim().strip_prefix("#[schema(as = ") {
                        renamed = rest.split(')').next().map(str::to_owned);
                    }
                    let item = next
                        .trim()
                        .strip_prefix("pub struct ")
                        .or_else(|| next.trim().strip_prefix("pub enum "));
                    if let Some(item) = item {
                        let name: String = item
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        let name = renamed.take().unwrap_or(name);
                        let at = format!("{}:{}", file.display(), i + 1);
                        if let Some(first) = seen.insert(name.clone(), at.clone()) {
                            clashes.push(format!("{name}: {first} and {at}"));
                        }
                        break;
                    }
                }
            }
        }
        assert!(clashes.is_empty(), "schema names used twice: {clashes:?}");
        assert!(
            seen.len() > 50,
            "the scan found the schemas ({})",
            seen.len()
        );
        let doc = serde_json::to_value(super::openapi()).unwrap();
        let modules = &doc["components"]["schemas"]["Module"]["enum"];
        assert!(
            modules
                .as_array()
                .is_some_and(|m| m.contains(&"monitoring".into())),
            "{modules}"
        );
        assert!(doc["components"]["schemas"]["FlowModule"]["oneOf"].is_array());
    }
}
