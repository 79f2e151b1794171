//! The test harness the HTTP and WebSocket tests share: a helpline serving on a loopback
//! port over a sled log in a temporary directory, and calls that assert as they go.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use helpline::api::{self, ApiConfig, ApiState, AppState};
use helpline::clock::Clock;
use helpline::domain::world::World;
use helpline::engine::Engine;
use helpline::log::{Durability, EventLog, LogOptions, SledLog};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const ADMIN_EMAIL: &str = "admin@helpline.local";
pub const ADMIN_PASSWORD: &str = "first-admin-password";

/// A helpline serving the API on a loopback port, over a sled log in `dir`.
pub struct Server {
    pub base: String,
    /// Where it listens.
    pub addr: SocketAddr,
    /// `/metrics` on its own listener, when `[metrics] listen` is set.
    pub metrics_url: Option<String>,
    pub http: reqwest::Client,
    pub state: AppState,
    pub engine: Arc<Engine>,
    pub log: Arc<SledLog>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub async fn start(dir: &Path) -> Server {
        Self::start_with(
            dir,
            ApiConfig {
                token_ttl_secs: api::DEFAULT_TOKEN_TTL_SECS,
                public_url: Some("https://desk.example.com/".to_owned()),
                smtp: None,
                trust_forwarded_for: false,
                ..ApiConfig::default()
            },
        )
        .await
    }

    pub async fn start_with(dir: &Path, config: ApiConfig) -> Server {
        Self::start_opts(dir, config, Durability::None).await
    }

    /// Like [`Server::start`], but as `helpline serve` runs by default: every batch
    /// fsynced, the metrics recorder installed before the replay, and the start's time
    /// recorded as `helpline_replay_seconds` (serve records its replay there), so every
    /// engine-health metric has samples (the dashboards' test).
    pub async fn start_like_serve(dir: &Path) -> Server {
        helpline::stats::export::recorder();
        let config = ApiConfig {
            token_ttl_secs: api::DEFAULT_TOKEN_TTL_SECS,
            public_url: Some("https://desk.example.com/".to_owned()),
            smtp: None,
            trust_forwarded_for: false,
            ..ApiConfig::default()
        };
        let started = helpline::clock::stopwatch();
        let server = Self::start_opts(dir, config, Durability::Fsync).await;
        metrics::gauge!(helpline::stats::names::REPLAY.name).set(started.elapsed().as_secs_f64());
        server
    }

    async fn start_opts(dir: &Path, config: ApiConfig, durability: Durability) -> Server {
        let (log, _) = SledLog::open_with(
            dir,
            LogOptions {
                durability,
                stream_index: false,
            },
        )
        .unwrap();
        let log = Arc::new(log);
        let mut world = World::default();
        for envelope in log.read_from(1) {
            world.apply(&envelope.unwrap());
        }
        let hub = helpline::im::hub::Hub::from_world(&mut world);
        let directory = std::mem::take(&mut world.directory);
        let engine = Arc::new(
            Engine::start_observed(log.clone(), Clock::system(), world, hub.observers())
                .await
                .unwrap(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = ApiState::new(
            engine.clone(),
            directory,
            hub,
            Clock::system(),
            config,
            format!("http://{addr}"),
        )
        .unwrap();
        state.hub.open_attachments(&state, dir).await.unwrap();
        state
            .records
            .start(engine.shared().log.clone(), Some(dir))
            .unwrap();
        api::bootstrap(&state, Some(ADMIN_PASSWORD.to_owned()))
            .await
            .unwrap();
        let router =
            api::probes::router(engine.shared().clone(), 0).merge(api::router(state.clone()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let limits = state.config.server.clone();
        // `[metrics] listen` (a port of 0 in tests): /metrics on a listener of its own.
        let metrics_url = match state.config.metrics.listen {
            Some(address) => {
                let listener = tokio::net::TcpListener::bind(address).await.unwrap();
                let url = format!("http://{}/metrics", listener.local_addr().unwrap());
                let (router, limits) = (api::metrics_router(state.clone()), limits.clone());
                tokio::spawn(async move {
                    api::connections::serve(listener, router, &limits, std::future::pending())
                        .await;
                });
                Some(url)
            }
            None => None,
        };
        // Served as `helpline serve` serves: with its connection cap and timeouts.
        let task = tokio::spawn(async move {
            api::connections::serve(listener, router, &limits, async {
                let _ = stopped.await;
            })
            .await;
        });
        Server {
            base: format!("http://{addr}/api/v1"),
            addr,
            metrics_url,
            http: reqwest::Client::new(),
            state,
            engine,
            log,
            stop: Some(stop),
            task,
        }
    }

    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap();
        self.state.records.stop().await;
        self.engine.shutdown().await.unwrap();
        self.log.sync().unwrap();
        drop(self.state);
        drop(self.engine);
        drop(self.log);
    }

    /// Sends a request; returns the status and the JSON body (`Null` when empty).
    pub async fn call(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn raw(
        &self,
        token: &str,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let resp = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, token: &str, path: &str) -> Value {
        let (status, body) = self.call(token, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    pub async fn ok(&self, token: &str, method: Method, path: &str, body: Value) -> Value {
        let (status, out) = self.call(token, method.clone(), path, Some(body)).await;
        assert!(status.is_success(), "{method} {path}: {status} {out}");
        out
    }

    pub async fn login(&self, email: &str, password: &str) -> (StatusCode, Value) {
        self.call(
            "",
            Method::POST,
            "/auth/login",
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    pub async fn admin(&self) -> String {
        let (status, body) = self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// Creates an agent and signs it in with a password of its own; returns (id, token).
    pub async fn agent(
        &self,
        admin: &str,
        email: &str,
        role: u64,
        groups: &[u64],
    ) -> (u64, String) {
        let staff = email.split('@').next().unwrap();
        let created = self
            .ok(
                admin,
                Method::POST,
                "/agents",
                json!({"name": staff, "nickname": staff, "staffNo": staff, "email": email,
                       "roleId": role, "skillGroupIds": groups}),
            )
            .await;
        let id = created["agent"]["id"].as_u64().unwrap();
        let first = created["password"].as_str().unwrap().to_owned();
        let (status, body) = self.login(email, &first).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["mustChangePassword"], true);
        let token = body["token"].as_str().unwrap().to_owned();
        let own = format!("{staff}-own-password");
        let (status, body) = self
            .call(
                &token,
                Method::POST,
                "/auth/password",
                Some(json!({"currentPassword": first, "newPassword": own})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // The change ends the sign-in that made it and answers a fresh one.
        (id, body["token"].as_str().unwrap().to_owned())
    }

    pub async fn group(&self, admin: &str, name: &str) -> u64 {
        let g = self
            .ok(
                admin,
                Method::POST,
                "/skill-groups",
                json!({"name": name, "receptionLimit": 3}),
            )
            .await;
        g["id"].as_u64().unwrap()
    }

    /// Every resource the admin can list, for before/after comparisons.
    pub async fn snapshot(&self, admin: &str) -> Value {
        let mut out = serde_json::Map::new();
        for path in [
            "/agents?includeDeleted=true",
            "/skill-groups",
            "/roles",
            "/settings",
            "/settings/rest-reasons",
            "/settings/proactive",
            "/quick-replies",
            "/satisfaction-configs",
            "/channels",
            "/extensions",
            "/api-keys",
        ] {
            out.insert(path.to_owned(), self.get(admin, path).await);
        }
        Value::Object(out)
    }
}

pub fn field_of(body: &Value) -> &str {
    body["error"]["field"].as_str().unwrap_or("")
}

/// A frame read from a socket within this long, or the test fails (a bound, never a wait).
pub const FRAME_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket client that keeps every frame it read.
pub struct Ws {
    inner: Stream,
    /// Every JSON frame read so far, in order.
    pub seen: Vec<Value>,
    /// Frames read but not yet taken by `next`/`until`.
    pending: std::collections::VecDeque<Value>,
}

impl Ws {
    /// Opens `url`; a refused upgrade answers its status and JSON body.
    pub async fn connect(url: &str) -> Result<Ws, (u16, Value)> {
        Self::connect_with(url, None).await
    }

    /// Opens `url` sending `cookie`.
    pub async fn connect_with(url: &str, cookie: Option<&str>) -> Result<Ws, (u16, Value)> {
        let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
        Self::connect_with_headers(url, &headers).await
    }

    /// Opens `url` sending `headers` (a cookie, an Origin).
    pub async fn connect_with_headers(
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<Ws, (u16, Value)> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = url.into_client_request().unwrap();
        for (name, value) in headers {
            let name: tokio_tungstenite::tungstenite::http::HeaderName = name.parse().unwrap();
            request.headers_mut().insert(name, value.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((inner, _)) => Ok(Ws {
                inner,
                seen: Vec::new(),
                pending: Default::default(),
            }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let status = response.status().as_u16();
                let body = response
                    .body()
                    .as_ref()
                    .and_then(|b| serde_json::from_slice(b).ok())
                    .unwrap_or(Value::Null);
                Err((status, body))
            }
            Err(e) => panic!("cannot connect to {url}: {e}"),
        }
    }

    /// Sends a JSON frame.
    pub async fn send(&mut self, frame: Value) {
        self.send_text(frame.to_string()).await;
    }

    /// Sends a text frame as is.
    pub async fn send_text(&mut self, text: String) {
        use futures_util::SinkExt;
        self.inner
            .send(tokio_tungstenite::tungstenite::Message::text(text))
            .await
            .unwrap();
    }

    /// Sends a binary frame.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        use futures_util::SinkExt;
        self.inner
            .send(tokio_tungstenite::tungstenite::Message::binary(bytes))
            .await
            .unwrap();
    }

    /// Reads the next JSON frame from the wire; None once the socket closed.
    async fn read(&mut self) -> Option<Value> {
        use futures_util::StreamExt;
        loop {
            let frame = tokio::time::timeout(FRAME_WAIT, self.inner.next())
                .await
                .expect("no frame in time");
            match frame {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap();
                    self.seen.push(v.clone());
                    return Some(v);
                }
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) | None => {
                    return None;
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) => return None,
            }
        }
    }

    /// The next frame.
    pub async fn next(&mut self) -> Value {
        if let Some(v) = self.pending.pop_front() {
            return v;
        }
        self.read().await.expect("the socket closed")
    }

    /// The first frame (pending or new) that `matches`; the frames passed over stay pending.
    pub async fn until(&mut self, matches: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(&matches) {
            return self.pending.remove(i).unwrap();
        }
        loop {
            let v = self
                .read()
                .await
                .expect("the socket closed before the frame came");
            if matches(&v) {
                return v;
            }
            self.pending.push_back(v);
        }
    }

    /// Puts a frame back, to be taken first.
    pub fn pending_push(&mut self, frame: Value) {
        self.pending.push_front(frame);
    }

    /// Reads until the socket closes; answers the frames read.
    pub async fn closed(&mut self) -> Vec<Value> {
        let mut out: Vec<Value> = self.pending.drain(..).collect();
        while let Some(v) = self.read().await {
            out.push(v);
        }
        out
    }

    /// Closes the socket from this side.
    pub async fn close(mut self) {
        let _ = self.inner.close(None).await;
    }
}

/// A frame of `type`.
pub fn of_type(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["type"] == kind
}

/// The desk data of a message frame, parsed (custom bodies only).
pub fn desk_data(frame: &Value) -> Option<Value> {
    let data = frame["body"]["data"].as_str()?;
    serde_json::from_str(data).ok()
}

/// A message frame carrying desk data with `src`.
pub fn src(code: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["type"] == "message" && desk_data(v).is_some_and(|d| d["src"] == code)
}

/// A custom body carrying desk data.
pub fn desk_body(data: Value) -> Value {
    json!({"type": "custom", "data": data.to_string()})
}

/// A user's token signed with the app's IM secret, valid for `secs`.
pub fn user_token(secret: &str, app: u32, user: &str, exp: i64) -> String {
    helpline::im::token::mint(
        secret.as_bytes(),
        &helpline::im::token::UserClaims {
            app: helpline::domain::ids::AppId(app),
            sub: user.to_owned(),
            exp,
        },
    )
}

/// What a user-end test needs: an IM secret, a skill group, a satisfaction configuration
/// and an in-app channel ("desk") bound to both.
pub struct UserEnd {
    /// The app's IM secret.
    pub secret: String,
    /// The skill group.
    pub group: u64,
    /// The satisfaction configuration.
    pub satisfaction: u64,
    /// The channel.
    pub channel: u64,
}

impl Server {
    /// The WebSocket URL of `path` with `query`.
    pub fn ws_url(&self, path: &str, query: &str) -> String {
        let root = self
            .base
            .trim_start_matches("http://")
            .trim_end_matches("/api/v1");
        format!("ws://{root}{path}?{query}")
    }

    /// Sets up the user end with satisfaction rules `(auto, agent, user)`.
    pub async fn user_end(&self, admin: &str, rules: (bool, bool, bool)) -> UserEnd {
        let secret = self.ok(admin, Method::POST, "/im/secret", json!({})).await["secret"]
            .as_str()
            .unwrap()
            .to_owned();
        let group = self.group(admin, "support").await;
        let satisfaction = self
            .ok(
                admin,
                Method::POST,
                "/satisfaction-configs",
                json!({"name": "default", "kind": "star",
                   "levels": [{"value": 1, "label": "Very dissatisfied"}, {"value": 5, "label": "Very satisfied"}],
                   "invitationText": "Please rate this service", "thankYouText": "Thank you for your rating",
                   "validitySecs": 600,
                   "sendRules": {"autoOnEnd": rules.0, "agentMayInvite": rules.1, "userMayRate": rules.2}}),
            )
            .await["id"]
            .as_u64()
            .unwrap();
        let channel = self
            .ok(
                admin,
                Method::POST,
                "/channels",
                json!({"name": "Support", "kind": {"type": "in_app", "userId": "desk"},
                       "skillGroup": group, "satisfaction": satisfaction}),
            )
            .await["id"]
            .as_u64()
            .unwrap();
        UserEnd {
            secret,
            group,
            satisfaction,
            channel,
        }
    }

    /// A user's socket.
    pub async fn user_socket(&self, token: &str, resume: &str) -> Ws {
        let url = self.ws_url("/ws/im", &format!("token={token}&resume={resume}"));
        Ws::connect(&url).await.unwrap()
    }

    /// A single-use ticket for the sign-in `token` to open `/ws/agent` with.
    pub async fn ticket(&self, token: &str) -> String {
        let (status, body) = self.call(token, Method::POST, "/ws-tickets", None).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["ticket"].as_str().unwrap().to_owned()
    }

    /// Opens the agent's socket of the sign-in `token` (through a ticket), with `query`
    /// after it (`&resume=...`); a refused ticket or upgrade answers its status and body.
    pub async fn agent_ws(&self, token: &str, query: &str) -> Result<Ws, (u16, Value)> {
        let (status, body) = self.call(token, Method::POST, "/ws-tickets", None).await;
        if status != StatusCode::CREATED {
            return Err((status.as_u16(), body));
        }
        let ticket = body["ticket"].as_str().unwrap();
        Ws::connect(&self.ws_url("/ws/agent", &format!("ticket={ticket}{query}"))).await
    }

    /// An agent's socket, online and free.
    pub async fn agent_socket(&self, token: &str) -> Ws {
        let mut ws = self.agent_ws(token, "").await.unwrap();
        ws.send(json!({"type": "online"})).await;
        let ok = ws.until(of_type("ok")).await;
        assert_eq!(ok["command"], "online", "{ok}");
        ws
    }
}
