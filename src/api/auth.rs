//! Sign-in and who is calling: argon2id passwords, opaque bearer tokens kept only as
//! SHA-256 hashes, one live login per account, API keys for servers, login rate limits,
//! and the [`Principal`] every handler is given with its role's scopes.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::agent::AgentCommand;
use crate::domain::directory::{ADMINISTRATOR, AppDirectory, Module, Scope, SignOutCause};
use crate::domain::event::{Event, LogoutCause};
use crate::domain::ids::{AgentId, ApiKeyId, AppId, RoleId, StreamId};
use crate::domain::signin::{Failures, MAX_OPEN_TICKETS_PER_SIGN_IN, TICKET_TTL_MS, TicketRefusal};
use crate::stats::names;

use super::error::{ApiError, Body};
use super::{ApiState, AppState, SignOutNotice};

/// Shortest password an account may choose.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password: argon2 takes any length, but the body limit and sanity do not.
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Sign-in attempts one address may make per [`ADDRESS_WINDOW_MS`].
pub const ADDRESS_ATTEMPTS: usize = 20;
/// The window of the per-address limit.
pub const ADDRESS_WINDOW_MS: i64 = 60_000;
/// Most apps one email's password is checked in at a sign-in without `appId`: each check
/// is an argon2 run, and a person has accounts in a handful.
pub const MAX_APPS_PER_EMAIL: usize = 8;
/// Argon2 runs at once at most, whatever the cores: each holds 19 MiB.
pub const MAX_HASHING_PERMITS: usize = 64;
/// Most keys the throttle remembers before it forgets the stalest.
const MAX_THROTTLE_KEYS: usize = 100_000;

/// Generated passwords avoid characters people misread (0/O, 1/l/I).
const PASSWORD_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
/// Length of generated passwords: about 93 bits.
const GENERATED_PASSWORD_CHARS: usize = 16;

/// Random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system has no random source");
    bytes
}

/// A fresh random password, for new accounts and resets.
pub fn random_password() -> String {
    let mut out = String::with_capacity(GENERATED_PASSWORD_CHARS);
    while out.len() < GENERATED_PASSWORD_CHARS {
        for b in random_bytes::<32>() {
            // Rejection sampling keeps every character equally likely.
            let limit = 256 - 256 % PASSWORD_ALPHABET.len();
            if usize::from(b) < limit && out.len() < GENERATED_PASSWORD_CHARS {
                out.push(PASSWORD_ALPHABET[usize::from(b) % PASSWORD_ALPHABET.len()] as char);
            }
        }
    }
    out
}

/// The argon2id hash (PHC string) of a password, with the crate's default cost
/// (19 MiB, 2 passes: OWASP's recommendation).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 takes any password with a valid salt")
        .to_string()
}

/// Whether `password` matches a PHC hash (an empty or malformed hash matches nothing).
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Every argon2 hash and verify of the server, bounded: each costs 19 MiB and a core for
/// a good part of a second, so at most one per core runs at once and the rest wait their
/// turn (a burst of refused resets once took the server from 134 to 1,084 MiB).
pub struct Hasher {
    permits: Arc<tokio::sync::Semaphore>,
    size: u32,
    waiting: Arc<AtomicUsize>,
    runs: AtomicU64,
}

/// Counts a hash waiting for its permit, until the wait ends or is given up.
struct Waiting(Arc<AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Hasher {
    /// A hasher running at most `permits` argon2 computations at once.
    pub fn new(permits: usize) -> Self {
        let permits = permits.clamp(1, MAX_HASHING_PERMITS);
        Self {
            permits: Arc::new(tokio::sync::Semaphore::new(permits)),
            size: permits as u32,
            waiting: Arc::default(),
            runs: AtomicU64::new(0),
        }
    }

    /// A hasher sized to the cores this process may use.
    pub fn for_this_machine() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = {
            self.waiting.fetch_add(1, Ordering::SeqCst);
            let _waiting = Waiting(self.waiting.clone());
            self.permits.clone().acquire_owned().await
        };
        let permit = permit.map_err(|_| ApiError::Unavailable("the server is stopping".into()))?;
        self.runs.fetch_add(1, Ordering::SeqCst);
        // The permit goes with the work: a caller that gives up (a client that hangs up)
        // does not free it while argon2 still runs.
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))
    }

    /// The argon2id hash of `password`, on the blocking pool, in its turn.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move || hash_password(&password)).await
    }

    /// Whether `password` matches `hash`, on the blocking pool, in its turn.
    pub async fn verify(&self, hash: String, password: String) -> bool {
        self.run(move || verify_password(&hash, &password))
            .await
            .unwrap_or(false)
    }

    /// How many hashes and verifications have started: tests see with it that a refusal
    /// came before any argon2 work.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::SeqCst)
    }

    /// How many wait for their turn now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Takes every turn until the guard drops, so hashing waits: tests use it to observe
    /// what runs meanwhile (an ordering, not a timing).
    pub async fn hold_all(&self) -> tokio::sync::SemaphorePermit<'_> {
        self.permits
            .acquire_many(self.size)
            .await
            .expect("the semaphore is never closed")
    }
}

/// A password an account may choose.
pub fn check_new_password(field: &'static str, password: &str) -> Result<(), ApiError> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(ApiError::invalid(
            field,
            format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters, got {chars}"),
        ));
    }
    Ok(())
}

/// SHA-256, hex: how tokens and API key secrets are kept (they are random, so a fast hash
/// is enough; only passwords need argon2).
pub fn sha256_hex(secret: &str) -> String {
    crate::im::attachments::sha256_hex(secret.as_bytes())
}

/// A new bearer token and its hash.
fn new_token() -> (String, String) {
    let token = format!("hl_{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()));
    let hash = sha256_hex(&token);
    (token, hash)
}

/// A new API key secret.
pub fn new_api_secret() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// Sign-in's rate limits: attempts per client address in a sliding window, and wrong
/// passwords per (email, address) with an exponential back-off ([`Failures`]). Every
/// refusal is counted in [`names::PASSWORD_CHECKS_REFUSED`].
#[derive(Default)]
pub struct Throttle {
    hits: Mutex<HashMap<String, VecDeque<i64>>>,
    failures: Mutex<Failures>,
}

impl Throttle {
    /// Counts one attempt of `address` (sign-in, password change) and refuses past
    /// [`ADDRESS_ATTEMPTS`] per [`ADDRESS_WINDOW_MS`].
    pub fn address(
        &self,
        address: std::net::IpAddr,
        now_ms: i64,
        route: &'static str,
    ) -> Result<(), ApiError> {
        let key = format!("address {address}");
        self.check(&key, now_ms, ADDRESS_ATTEMPTS, ADDRESS_WINDOW_MS)
            .inspect_err(|_| refused(route, "address"))?;
        self.hit(&key, now_ms, ADDRESS_ATTEMPTS);
        Ok(())
    }

    /// Refuses while `key` is locked by its wrong passwords.
    pub fn locked(&self, key: &str, now_ms: i64, route: &'static str) -> Result<(), ApiError> {
        let wait_ms = self
            .failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .check(key, now_ms);
        let Err(wait_ms) = wait_ms else {
            return Ok(());
        };
        refused(route, "backoff");
        let retry_after_secs = (wait_ms.max(0) as u64).div_ceil(1_000).max(1);
        Err(ApiError::TooManyRequests {
            retry_after_secs,
            message: format!(
                "too many wrong passwords from this address; try again in {retry_after_secs} s"
            ),
        })
    }

    /// Records a wrong password for `key`.
    pub fn failed(&self, key: &str, now_ms: i64) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .fail(key, now_ms);
    }

    /// The right password for `key`: its failures are forgotten.
    pub fn succeeded(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .succeed(key);
    }

    /// Refuses when `key` has `limit` hits within `window_ms` before `now_ms`.
    fn check(&self, key: &str, now_ms: i64, limit: usize, window_ms: i64) -> Result<(), ApiError> {
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        let Some(times) = hits.get_mut(key) else {
            return Ok(());
        };
        while times.front().is_some_and(|t| *t <= now_ms - window_ms) {
            times.pop_front();
        }
        if times.len() < limit {
            return Ok(());
        }
        let oldest = times.front().copied().unwrap_or(now_ms);
        let retry_after_secs = ((oldest + window_ms - now_ms).max(0) as u64)
            .div_ceil(1_000)
            .max(1);
        Err(ApiError::TooManyRequests {
            retry_after_secs,
            message: format!(
                "too many sign-in attempts for {key}; try again in {retry_after_secs} s"
            ),
        })
    }

    fn hit(&self, key: &str, now_ms: i64, limit: usize) {
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        if hits.len() >= MAX_THROTTLE_KEYS && !hits.contains_key(key) {
            // Forget the key whose last hit is oldest: a flood of addresses cannot grow
            // the map without bound.
            if let Some(stalest) = hits
                .iter()
                .min_by_key(|(_, t)| t.back().copied().unwrap_or(i64::MIN))
                .map(|(k, _)| k.clone())
            {
                hits.remove(&stalest);
            }
        }
        let times = hits.entry(key.to_owned()).or_default();
        times.push_back(now_ms);
        while times.len() > limit {
            times.pop_front();
        }
    }

    #[cfg(test)]
    fn clear(&self, key: &str) {
        self.hits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// Counts a refusal of the password checks' limits.
fn refused(route: &'static str, limit: &'static str) {
    metrics::counter!(names::PASSWORD_CHECKS_REFUSED.name, "route" => route, "limit" => limit)
        .increment(1);
}

/// Who is calling, with what role.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The caller's app: every request is confined to it.
    pub app: AppId,
    /// The signed-in agent (none for an API key).
    pub agent: Option<AgentId>,
    /// The role (API keys act as administrators).
    pub role: RoleId,
    /// The hash of the bearer token, for sign-out.
    pub token_hash: Option<String>,
    /// The API key used, if any.
    pub api_key: Option<ApiKeyId>,
    /// The password must change before anything else.
    pub must_change_password: bool,
}

impl Principal {
    /// Which skill groups the caller sees in `module`, or `Forbidden`.
    pub fn scope(&self, dir: &AppDirectory, module: Module) -> Result<Scope, ApiError> {
        dir.scope(self.role, module).ok_or_else(|| {
            ApiError::forbidden(format!(
                "your role has no access to the {} module",
                serde_json::to_value(module)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ))
        })
    }

    /// Refuses anyone but an administrator.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.role == ADMINISTRATOR {
            Ok(())
        } else {
            Err(ApiError::forbidden("only an administrator may do this"))
        }
    }

    /// The instance's owners: administrators of the first app, who may create apps.
    pub fn require_owner(&self) -> Result<(), ApiError> {
        if self.role == ADMINISTRATOR && self.app == AppId(1) && self.agent.is_some() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "only an administrator of the first app may manage apps",
            ))
        }
    }
}

/// The credential of `Authorization: Bearer <credential>`.
pub fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    bearer_header(&parts.headers)
        .ok_or_else(|| ApiError::Unauthorized("no Authorization header".to_owned()))?
}

/// The credential of an `Authorization: Bearer <credential>` header, if the header is there.
pub fn bearer_header(headers: &axum::http::HeaderMap) -> Option<Result<&str, ApiError>> {
    let header = headers.get(AUTHORIZATION)?;
    Some(bearer_value(header))
}

fn bearer_value(header: &axum::http::HeaderValue) -> Result<&str, ApiError> {
    let value = header
        .to_str()
        .map_err(|_| ApiError::Unauthorized("the Authorization header is not text".to_owned()))?;
    value.strip_prefix("Bearer ").map(str::trim).ok_or_else(|| {
        ApiError::Unauthorized("expected \"Authorization: Bearer <token>\"".to_owned())
    })
}

/// A signed-in caller who may still have to change their password (sign-out, password
/// change and `me` take it).
pub struct Signed(pub Principal);

impl FromRequestParts<AppState> for Signed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        signed(state, bearer(parts)?).map(Signed)
    }
}

/// Who a credential (an account's token or an API key) belongs to; they may still have to
/// change their password.
pub fn signed(state: &ApiState, credential: &str) -> Result<Principal, ApiError> {
    {
        let dir = state.desk.read();
        if let Some(key) = credential.strip_prefix("hk_") {
            let (id, secret) = key
                .split_once('_')
                .ok_or_else(|| ApiError::Unauthorized("malformed API key".to_owned()))?;
            let id = id
                .parse::<u64>()
                .map_err(|_| ApiError::Unauthorized("malformed API key".to_owned()))?;
            let (app, stored) = dir
                .api_key(ApiKeyId(id))
                .ok_or_else(|| ApiError::Unauthorized("unknown or revoked API key".to_owned()))?;
            if stored.secret_hash != sha256_hex(secret) {
                return Err(ApiError::Unauthorized(
                    "unknown or revoked API key".to_owned(),
                ));
            }
            return Ok(Principal {
                app,
                agent: None,
                role: ADMINISTRATOR,
                token_hash: None,
                api_key: Some(ApiKeyId(id)),
                must_change_password: false,
            });
        }
    }
    signed_hash(state, &sha256_hex(credential))
}

/// Who the sign-in whose token hashes to `token_hash` belongs to (a socket opened with a
/// ticket keeps only the hash, and checks it again on every frame).
pub fn signed_hash(state: &ApiState, token_hash: &str) -> Result<Principal, ApiError> {
    let dir = state.desk.read();
    let now = state.clock.now_ms();
    let Some((app, account)) = dir.by_token(token_hash, now) else {
        return Err(ApiError::Unauthorized(
            "the token is unknown, expired or ended by a newer sign-in".to_owned(),
        ));
    };
    Ok(Principal {
        app,
        agent: Some(account.id),
        role: account.role,
        token_hash: Some(token_hash.to_owned()),
        api_key: None,
        must_change_password: account.must_change_password,
    })
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Signed(principal) = Signed::from_request_parts(parts, state).await?;
        if principal.must_change_password {
            return Err(ApiError::Forbidden {
                code: "password_change_required",
                message: "change your password first (POST /api/v1/auth/password)".to_owned(),
            });
        }
        Ok(principal)
    }
}

/// The client's address: the peer's, or behind a trusted reverse proxy the last address
/// of `X-Forwarded-For` (the one that proxy saw; earlier ones are the client's own claims).
pub fn client_address(
    peer: std::net::IpAddr,
    headers: &axum::http::HeaderMap,
    trust_forwarded_for: bool,
) -> std::net::IpAddr {
    if !trust_forwarded_for {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .last()
        .and_then(|a| a.trim().parse().ok())
        .unwrap_or(peer)
}

/// Sign-in with email and password.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginRequest {
    /// The account's email.
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    /// Its password.
    #[schema(max_length = 128)]
    pub password: String,
    /// The app, when the email has accounts in several.
    #[serde(default)]
    pub app_id: Option<AppId>,
}

/// A live login.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    /// The bearer token: send it as `Authorization: Bearer <token>`. Shown only now.
    pub token: String,
    /// When it stops working, ms since the epoch.
    pub expires_at_ms: i64,
    /// The app signed in to.
    pub app_id: AppId,
    /// The account (an agent).
    pub agent_id: AgentId,
    /// Its role.
    pub role_id: RoleId,
    /// Every other call is refused until the password changes.
    pub must_change_password: bool,
}

/// What every failed sign-in answers, whatever failed (unknown email, wrong password, an
/// email of several apps whose password matched none): the answer tells a stranger nothing.
fn wrong_email_or_password() -> ApiError {
    ApiError::Unauthorized("wrong email or password".to_owned())
}

/// Signs in. A live login of the same account elsewhere ends (one login place).
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "signed in", body = LoginResponse,
            headers(("Cache-Control" = String, description = "`no-store`: the token is shown only now"))),
        (status = 401, description = "wrong email or password (the same answer for an unknown email)",
            body = super::error::ErrorBody),
        (status = 429, description = "too many sign-in attempts from this address, or too many \
            wrong passwords for this email from this address", body = super::error::ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: axum::http::HeaderMap,
    Body(req): Body<LoginRequest>,
) -> Result<NoStore<Json<LoginResponse>>, ApiError> {
    let email = crate::domain::directory::normalize_email(&req.email)?;
    if req.password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(ApiError::invalid(
            "password",
            format!("longer than {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    let now = state.clock.now_ms();
    let client = client_address(peer.ip(), &headers, state.config.trust_forwarded_for);
    state.throttle.address(client, now, "login")?;
    // Locked per email and address: a stranger's guesses lock only the stranger out, and an
    // unknown email is locked the same way a known one is.
    let pair = format!("{email} from {client}");
    state.throttle.locked(&pair, now, "login")?;

    let candidates: Vec<(AppId, crate::domain::directory::AgentRecord)> = {
        let dir = state.desk.read();
        let ids = match req.app_id {
            Some(app) => dir
                .app(app)
                .and_then(|d| d.account_by_email(&email).map(|a| (app, a.id)))
                .into_iter()
                .collect(),
            None => dir.accounts_by_email(&email),
        };
        ids.into_iter()
            .filter_map(|(app, agent)| Some((app, dir.app(app)?.live_agent(agent)?.clone())))
            .take(MAX_APPS_PER_EMAIL)
            .collect()
    };
    // Every candidate's password is checked before anything about the email is told; an
    // unknown email costs the same argon2 work, against a hash nothing matches.
    let mut matched = Vec::new();
    if candidates.is_empty() {
        state
            .hasher
            .verify(state.dummy_hash.clone(), req.password.clone())
            .await;
    }
    for (app, account) in candidates {
        if state
            .hasher
            .verify(account.password_hash.clone(), req.password.clone())
            .await
        {
            matched.push((app, account));
        }
    }
    if matched.is_empty() {
        state.throttle.failed(&pair, state.clock.now_ms());
        return Err(wrong_email_or_password());
    }
    if matched.len() > 1 {
        // The password is right, so naming the apps tells the owner only.
        let apps: Vec<String> = matched.iter().map(|(a, _)| a.0.to_string()).collect();
        return Err(ApiError::invalid(
            "appId",
            format!("{email} has accounts in apps {}: name one", apps.join(", ")),
        ));
    }
    state.throttle.succeeded(&pair);
    let (app, account) = matched.remove(0);
    if account.forced_offline {
        return Err(ApiError::Forbidden {
            code: "forced_offline",
            message: "an administrator forced this account offline until resumed".to_owned(),
        });
    }

    let turn = state.desk.turn().await;
    // Re-read under the turn: the account may have changed while argon2 ran.
    let current = state
        .desk
        .read()
        .app(app)
        .and_then(|d| d.live_agent(account.id).cloned())
        .ok_or_else(wrong_email_or_password)?;
    if current.forced_offline || current.password_hash != account.password_hash {
        return Err(wrong_email_or_password());
    }
    let (token, expires_at_ms) = start_login(&state, &turn, app, &current, Vec::new()).await?;
    drop(turn);
    Ok(NoStore(Json(LoginResponse {
        token,
        expires_at_ms,
        app_id: app,
        agent_id: account.id,
        role_id: current.role,
        must_change_password: current.must_change_password,
    })))
}

/// An answer that no cache may keep: it carries a password or a token shown only once.
pub struct NoStore<T>(pub T);

impl<T: IntoResponse> IntoResponse for NoStore<T> {
    fn into_response(self) -> Response {
        let mut response = self.0.into_response();
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// Signs `account` in: ends its live login (one login place; that socket is told why) and
/// records the new token's hash, durable in one unit with `with` (what made the sign-in
/// possible). Answers the token and its expiry. Call with the turn held, after checking
/// the account may sign in.
pub async fn start_login(
    state: &ApiState,
    turn: &super::desk::WriteTurn<'_>,
    app: AppId,
    account: &crate::domain::directory::AgentRecord,
    with: Vec<(StreamId, Event)>,
) -> Result<(String, i64), ApiError> {
    let (token, token_hash) = new_token();
    let watched_hash = token_hash.clone();
    let expires_at_ms = state.clock.now_ms() + state.config.token_ttl_secs as i64 * 1_000;
    let mut events = with;
    let replaced = account.login.is_some();
    if replaced {
        events.push((
            StreamId::app(app),
            Event::SignedOut {
                agent: account.id,
                cause: SignOutCause::NewLogin,
            },
        ));
    }
    events.push((
        StreamId::app(app),
        Event::SignedIn {
            agent: account.id,
            token_hash,
            expires_at_ms,
        },
    ));
    state.desk.append(turn, app, events).await?;
    if replaced {
        state.notify(app, account.id, SignOutCause::NewLogin);
    }
    state.expiries.watch(Expiry {
        at_ms: expires_at_ms,
        app,
        agent: account.id,
        token_hash: watched_hash,
    });
    tracing::info!(%app, agent = %account.id, "signed in");
    Ok((token, expires_at_ms))
}

/// Ends the caller's login.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 204, description = "signed out")))]
pub async fn logout(
    State(state): State<AppState>,
    Signed(who): Signed,
) -> Result<StatusCode, ApiError> {
    let Some(agent) = who.agent else {
        return Err(ApiError::invalid(
            "Authorization",
            "an API key has no login to end; revoke it instead",
        ));
    };
    let turn = state.desk.turn().await;
    let event = Event::SignedOut {
        agent,
        cause: SignOutCause::SignedOut,
    };
    state
        .desk
        .append(&turn, who.app, vec![(StreamId::app(who.app), event)])
        .await?;
    // The sign-in's sockets are told and closed: a signed-out workstation must not go on
    // receiving the desk's traffic until it next sends a command.
    state.notify(who.app, agent, SignOutCause::SignedOut);
    drop(turn);
    state.log_out_in_engine(agent, AgentCommand::Logout).await;
    Ok(StatusCode::NO_CONTENT)
}

/// A ticket that opens the agent's socket once: `/ws/agent?ticket=<ticket>`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SocketTicket {
    /// Put it in the socket's URL; it works once, within 30 seconds, and only for the
    /// sign-in that asked for it. Proxies may log it: by then it is spent.
    pub ticket: String,
    /// When it stops working, ms since the epoch.
    pub expires_at_ms: i64,
}

/// What a socket ticket starts with (sign-ins are `hl_`, API keys `hk_`, SDK URLs `hs_`).
pub const TICKET_PREFIX: &str = "ht_";

/// A ticket for the caller's sign-in to open `/ws/agent` with, so the sign-in token never
/// travels in a URL (browsers cannot set headers on a WebSocket, and proxies log URLs).
#[utoipa::path(post, path = "/ws-tickets", tag = "auth",
    responses(
        (status = 201, description = "a single-use ticket, valid 30 seconds", body = SocketTicket,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 429, description = "the sign-in holds too many unused tickets",
            body = super::error::ErrorBody),
    ))]
pub async fn socket_ticket(
    State(state): State<AppState>,
    who: Principal,
) -> Result<(StatusCode, NoStore<Json<SocketTicket>>), ApiError> {
    let (Some(_), Some(sign_in)) = (who.agent, who.token_hash) else {
        return Err(ApiError::invalid(
            "Authorization",
            "an agent's sign-in opens the agent socket, not an API key",
        ));
    };
    let ticket = format!(
        "{TICKET_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(random_bytes::<32>())
    );
    let now = state.clock.now_ms();
    let issued = state
        .tickets
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .issue(sha256_hex(&ticket), &sign_in, now);
    let expires_at_ms = issued.map_err(|refusal| {
        metrics::counter!(names::SOCKET_TICKETS_REFUSED.name).increment(1);
        let message = match refusal {
            TicketRefusal::TooMany => format!(
                "this sign-in holds {MAX_OPEN_TICKETS_PER_SIGN_IN} unused tickets; use one or \
                 let them expire ({} s)",
                TICKET_TTL_MS / 1_000
            ),
            TicketRefusal::Full | TicketRefusal::Unknown => {
                "the server holds too many unused tickets; try again shortly".to_owned()
            }
        };
        ApiError::TooManyRequests {
            retry_after_secs: (TICKET_TTL_MS / 1_000) as u64,
            message,
        }
    })?;
    Ok((
        StatusCode::CREATED,
        NoStore(Json(SocketTicket {
            ticket,
            expires_at_ms,
        })),
    ))
}

/// The sign-in a ticket opens a socket for, using the ticket up.
pub fn take_ticket(state: &ApiState, ticket: &str) -> Result<Principal, ApiError> {
    let spent = || {
        ApiError::Unauthorized(
            "the ticket is unknown, used or expired: ask POST /api/v1/ws-tickets for another"
                .to_owned(),
        )
    };
    if !ticket.starts_with(TICKET_PREFIX) || ticket.len() > MAX_TICKET_CHARS {
        return Err(spent());
    }
    let taken = state
        .tickets
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take(&sha256_hex(ticket), state.clock.now_ms())
        .map_err(|_| spent())?;
    signed_hash(state, &taken.sign_in_hash)
}

/// The longest ticket read (ours are 46 characters).
const MAX_TICKET_CHARS: usize = 128;

/// The signed-in account.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    /// The app.
    pub app_id: AppId,
    /// The account's agent (none for an API key).
    pub agent_id: Option<AgentId>,
    /// Full name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Role.
    pub role_id: RoleId,
    /// Role name.
    pub role_name: String,
    /// The password must change before anything else.
    pub must_change_password: bool,
    /// The console modules the role opens.
    pub modules: Vec<Module>,
}

/// Who the caller is and what the role opens.
#[utoipa::path(get, path = "/auth/me", tag = "auth",
    responses((status = 200, description = "the caller", body = Me)))]
pub async fn me(State(state): State<AppState>, Signed(who): Signed) -> Result<Json<Me>, ApiError> {
    let dir = state.desk.app(who.app)?;
    let account = who.agent.and_then(|a| dir.live_agent(a));
    Ok(Json(Me {
        app_id: who.app,
        agent_id: who.agent,
        name: account.map_or_else(|| "API key".to_owned(), |a| a.name.clone()),
        email: account.map(|a| a.email.clone()).unwrap_or_default(),
        role_id: who.role,
        role_name: dir.role_name(who.role).unwrap_or_default().to_owned(),
        must_change_password: who.must_change_password,
        modules: Module::ALL
            .into_iter()
            .filter(|m| dir.scope(who.role, *m).is_some())
            .collect(),
    }))
}

/// A password change.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordChange {
    /// The password now.
    pub current_password: String,
    /// The new one (10 to 128 characters).
    #[schema(min_length = 10, max_length = 128)]
    pub new_password: String,
}

/// Changes the caller's password (required after the first sign-in and after a reset).
/// Every sign-in of the account ends (its sockets hear `signed_out`, cause
/// `password_changed`), and the answer carries a fresh one: whoever held the old token
/// holds nothing now.
#[utoipa::path(post, path = "/auth/password", tag = "auth", request_body = PasswordChange,
    responses(
        (status = 200, description = "changed; the old sign-in ended and this is the new one",
            body = LoginResponse,
            headers(("Cache-Control" = String, description = "`no-store`: the token is shown only now"))),
        (status = 429, description = "too many wrong current passwords, or too many attempts \
            from this address", body = super::error::ErrorBody),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: axum::http::HeaderMap,
    Signed(who): Signed,
    Body(req): Body<PasswordChange>,
) -> Result<NoStore<Json<LoginResponse>>, ApiError> {
    let Some(agent) = who.agent else {
        return Err(ApiError::invalid(
            "Authorization",
            "an API key has no password",
        ));
    };
    check_new_password("newPassword", &req.new_password)?;
    if req.new_password == req.current_password {
        return Err(ApiError::invalid(
            "newPassword",
            "must differ from the current password",
        ));
    }
    if req.current_password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(ApiError::invalid("currentPassword", "is wrong"));
    }
    // A stolen token must not become a free password oracle: the current password is
    // checked under the same limits as a sign-in.
    let now = state.clock.now_ms();
    let client = client_address(peer.ip(), &headers, state.config.trust_forwarded_for);
    state.throttle.address(client, now, "password")?;
    let key = format!("password of {} in {}", agent, who.app);
    state.throttle.locked(&key, now, "password")?;
    let hash = state
        .desk
        .app(who.app)?
        .live_agent(agent)
        .map(|a| a.password_hash.clone())
        .ok_or_else(|| ApiError::NotFound(agent.to_string()))?;
    if !state
        .hasher
        .verify(hash.clone(), req.current_password)
        .await
    {
        state.throttle.failed(&key, state.clock.now_ms());
        return Err(ApiError::invalid("currentPassword", "is wrong"));
    }
    state.throttle.succeeded(&key);
    let new_hash = state.hasher.hash(req.new_password).await?;
    let turn = state.desk.turn().await;
    let Some(mut account) = state.desk.app(who.app)?.live_agent(agent).cloned() else {
        return Err(ApiError::NotFound(agent.to_string()));
    };
    if account.password_hash != hash {
        return Err(ApiError::Conflict(
            "the password changed meanwhile; sign in again".to_owned(),
        ));
    }
    let mut events = vec![(
        StreamId::app(who.app),
        Event::PasswordSet {
            agent,
            password_hash: new_hash.clone(),
            must_change_password: false,
        },
    )];
    let ended = account.login.take().is_some();
    if ended {
        events.push((
            StreamId::app(who.app),
            Event::SignedOut {
                agent,
                cause: SignOutCause::PasswordChanged,
            },
        ));
    }
    account.password_hash = new_hash;
    account.must_change_password = false;
    let (token, expires_at_ms) = start_login(&state, &turn, who.app, &account, events).await?;
    drop(turn);
    if ended {
        state.notify(who.app, agent, SignOutCause::PasswordChanged);
    }
    Ok(NoStore(Json(LoginResponse {
        token,
        expires_at_ms,
        app_id: who.app,
        agent_id: agent,
        role_id: account.role,
        must_change_password: false,
    })))
}

/// When a sign-in expires.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expiry {
    /// Its expiry, ms since the epoch (first: the heap orders by it).
    pub at_ms: i64,
    /// The app.
    pub app: AppId,
    /// The agent.
    pub agent: AgentId,
    /// The sign-in's token hash: a newer sign-in of the agent is not this one.
    pub token_hash: String,
}

/// The sign-ins whose sockets must hear when they expire. A sign-in's token stops
/// authenticating at its expiry by itself (the directory compares times); what this adds is
/// telling its open workstation sockets (`signed_out`, cause `expired`) and closing them, so
/// a workstation left open does not go on receiving the desk's traffic.
pub struct Expiries {
    tx: mpsc::UnboundedSender<Expiry>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<Expiry>>>,
}

impl Default for Expiries {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            tx,
            rx: Mutex::new(Some(rx)),
        }
    }
}

impl Expiries {
    /// Watches one more sign-in.
    pub fn watch(&self, expiry: Expiry) {
        // Closed only when the watcher stopped with the server.
        let _ = self.tx.send(expiry);
    }

    /// Starts the watcher (once): the sign-ins the directory holds now (after a restart, the
    /// ones from before it), then every new one. One task and one heap for all of them; a
    /// sign-in replaced or ended before its expiry is skipped when its time comes.
    pub fn start(state: &Arc<super::ApiState>) {
        let Some(mut rx) = state
            .expiries
            .rx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        else {
            return;
        };
        let mut heap: BinaryHeap<Reverse<Expiry>> = {
            let dir = state.desk.read();
            dir.apps
                .values()
                .flat_map(|a| {
                    a.agents.values().filter_map(move |agent| {
                        agent.login.as_ref().map(|login| {
                            Reverse(Expiry {
                                at_ms: login.expires_at_ms,
                                app: a.id,
                                agent: agent.id,
                                token_hash: login.token_hash.clone(),
                            })
                        })
                    })
                })
                .collect()
        };
        let weak = Arc::downgrade(state);
        let clock = state.clock.clone();
        tokio::spawn(async move {
            loop {
                let next = heap.peek().map(|e| clock.instant_at(e.0.at_ms));
                let due = async {
                    match next {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    got = rx.recv() => match got {
                        Some(expiry) => heap.push(Reverse(expiry)),
                        None => return,
                    },
                    () = due => {
                        let Some(state) = weak.upgrade() else { return };
                        let now = state.clock.now_ms();
                        while heap.peek().is_some_and(|e| e.0.at_ms <= now) {
                            let Some(Reverse(e)) = heap.pop() else { break };
                            let current = state
                                .desk
                                .read()
                                .app(e.app)
                                .and_then(|d| d.agents.get(&e.agent))
                                .and_then(|a| a.login.as_ref())
                                .is_some_and(|l| l.token_hash == e.token_hash);
                            if current {
                                tracing::info!(app = %e.app, agent = %e.agent, "sign-in expired");
                                state.notify(e.app, e.agent, SignOutCause::Expired);
                                state
                                    .log_out_in_engine(
                                        e.agent,
                                        AgentCommand::LogoutBy(LogoutCause::SignInExpired),
                                    )
                                    .await;
                            }
                        }
                    }
                }
            }
        });
    }
}

impl super::ApiState {
    /// Tells whoever listens (the agent's WebSocket) that a login ended, and why.
    pub fn notify(&self, app: AppId, agent: AgentId, cause: SignOutCause) {
        self.hub.signed_out(agent, cause);
        let _ = self.signouts.send(SignOutNotice { app, agent, cause });
    }

    /// Takes the agent offline in the engine because the sign-in behind it ended: routing
    /// must not go on offering chats to a workstation nobody is behind. Sessions in service
    /// stay with the agent (its next sign-in finds them); offers go back to their queues.
    pub async fn log_out_in_engine(&self, agent: AgentId, command: AgentCommand) {
        if let Err(e) = self.desk.engine.agent(agent, command).await {
            tracing::warn!(%agent, error = %e, "could not take the agent offline");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse battery "));
        assert!(!verify_password("", "anything"));
    }

    #[test]
    fn the_client_address_comes_from_the_trusted_proxy_only() {
        let peer: std::net::IpAddr = "10.0.0.1".parse().unwrap();
        let mut headers = axum::http::HeaderMap::new();
        headers.append("x-forwarded-for", "1.1.1.1, 203.0.113.7".parse().unwrap());
        assert_eq!(client_address(peer, &headers, false), peer);
        assert_eq!(
            client_address(peer, &headers, true).to_string(),
            "203.0.113.7"
        );
        headers.append("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(client_address(peer, &headers, true), peer);
        assert_eq!(
            client_address(peer, &axum::http::HeaderMap::new(), true),
            peer
        );
    }

    #[test]
    fn sha256_hex_is_the_standard_digest() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn generated_passwords_are_long_and_unambiguous() {
        let p = random_password();
        assert_eq!(p.chars().count(), GENERATED_PASSWORD_CHARS);
        assert!(p.bytes().all(|b| PASSWORD_ALPHABET.contains(&b)));
        assert_ne!(p, random_password());
        check_new_password("p", &p).unwrap();
    }

    #[tokio::test]
    async fn the_hasher_runs_no_more_than_its_permits_at_once() {
        let hasher = Hasher::new(1);
        let held = hasher.hold_all().await;
        let hashing = hasher.hash("correct horse battery".to_owned());
        tokio::pin!(hashing);
        // Polled once: it waits for a permit, no argon2 started.
        assert!(futures_util::FutureExt::now_or_never(hashing.as_mut()).is_none());
        assert_eq!((hasher.waiting(), hasher.runs()), (1, 0));
        drop(held);
        let hash = hashing.await.unwrap();
        assert_eq!((hasher.waiting(), hasher.runs()), (0, 1));
        assert!(
            hasher
                .verify(hash, "correct horse battery".to_owned())
                .await
        );
        assert_eq!(hasher.runs(), 2);
    }

    #[test]
    fn throttle_counts_within_its_window() {
        let t = Throttle::default();
        for i in 0..3 {
            t.check("k", i, 3, 100).unwrap();
            t.hit("k", i, 3);
        }
        match t.check("k", 50, 3, 100) {
            Err(ApiError::TooManyRequests {
                retry_after_secs, ..
            }) => assert_eq!(retry_after_secs, 1),
            other => panic!("{other:?}"),
        }
        t.check("k", 100, 3, 100).unwrap();
        t.clear("k");
        t.check("k", 50, 3, 100).unwrap();
    }
}
