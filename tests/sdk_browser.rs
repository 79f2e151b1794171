//! The agent SDK in real headless Chromium (Debian's `/usr/bin/chromium`, driven by
//! playwright-core through `web/test/sdk.mjs`): a page of another origin loads an SDK URL as
//! the seed's snippet does, gets `ready`, goes free, is offered a session a user opened
//! through the user end, accepts it, writes, loses its socket and resumes without losing or
//! repeating an event, ends the session; a used, an expired and an unknown URL each give
//! `tokenExpired`, and so does a newer sign-in of the agent elsewhere.
//!
//! Needs `web/node_modules` (`scripts/web`) and Chromium (`apt-get install -y chromium`);
//! `scripts/test` installs both. Without them this test fails: it never skips.

mod common;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::*;
use helpline::api::ApiConfig;
use helpline::api::sdk::issue_token;
use helpline::domain::ids::{AgentId, AppId};
use helpline::domain::sdk::SDK_TOKEN_TTL_MS;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// Who a test's own SDK URLs are recorded as issued by.
const TEST_ISSUER: helpline::domain::event::Issuer = helpline::domain::event::Issuer::ApiKey {
    key: helpline::domain::ids::ApiKeyId(1),
};

/// The browser the test drives: Debian's, never a downloaded one.
const CHROMIUM: &str = "/usr/bin/chromium";
/// Each step of the browser answers within this long, or the test fails (a bound, not a
/// wait: steps answer as soon as they are done).
const STEP_WAIT: Duration = Duration::from_secs(60);

/// `web/test/sdk.mjs` running Chromium, spoken to one JSON line at a time.
struct Browser {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    next_id: u64,
    /// Events read but not yet taken.
    pending: VecDeque<Value>,
    /// Every event read, in order.
    seen: Vec<Value>,
}

impl Browser {
    async fn start() -> Browser {
        let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
        assert!(
            Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: apt-get install -y chromium (./scripts/test does)"
        );
        assert!(
            web.join("node_modules/playwright-core").exists(),
            "web/node_modules is missing: run ./scripts/web (npm ci)"
        );
        let mut child = Command::new("node")
            .arg(PathBuf::from("test").join("sdk.mjs"))
            .current_dir(&web)
            .env("HELPLINE_CHROMIUM", CHROMIUM)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("cannot run node (Node.js 20 is needed)");
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut browser = Browser {
            child,
            stdin,
            lines,
            next_id: 0,
            pending: VecDeque::new(),
            seen: Vec::new(),
        };
        let hello = browser.line().await;
        assert_eq!(hello["started"], true, "the browser did not start: {hello}");
        browser
    }

    /// The next line the driver printed.
    async fn line(&mut self) -> Value {
        let line = tokio::time::timeout(STEP_WAIT, self.lines.next_line())
            .await
            .expect("the browser did not answer in time")
            .expect("cannot read the browser's output")
            .expect("the browser driver ended");
        eprintln!("browser: {line}");
        let value: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("{line}"));
        assert!(value.get("fatal").is_none(), "{value}");
        if value["event"] == "pageerror" {
            panic!("the page threw: {value}");
        }
        value
    }

    /// Runs a command; answers its value. Events read meanwhile are kept.
    async fn run(&mut self, mut command: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        command["id"] = json!(id);
        let text = format!("{command}\n");
        self.stdin.write_all(text.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
        loop {
            let v = self.line().await;
            if v.get("event").is_some() {
                self.seen.push(v.clone());
                self.pending.push_back(v);
                continue;
            }
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{command}: {v}");
                return v["ok"].clone();
            }
        }
    }

    /// Opens page `page` (another origin than helpline's) loading the SDK from `sdk_url`.
    async fn open(&mut self, page: &str, sdk_url: &str) {
        self.run(json!({"open": {"page": page, "url": sdk_url}}))
            .await;
    }

    /// Evaluates a JavaScript expression in `page` (a promise is awaited).
    async fn eval(&mut self, page: &str, js: &str) -> Value {
        self.run(json!({"eval": {"page": page, "js": js}})).await
    }

    /// The first SDK event `name` of `page` that `matches` (pending or new); the events
    /// passed over stay pending.
    async fn event_where(
        &mut self,
        page: &str,
        name: &str,
        matches: impl Fn(&Value) -> bool,
    ) -> Value {
        let hit = |v: &Value| v["page"] == page && v["event"] == name && matches(&v["payload"]);
        if let Some(i) = self.pending.iter().position(hit) {
            return self.pending.remove(i).unwrap()["payload"].clone();
        }
        loop {
            let v = self.line().await;
            if v.get("event").is_none() {
                continue;
            }
            self.seen.push(v.clone());
            if hit(&v) {
                return v["payload"].clone();
            }
            self.pending.push_back(v);
        }
    }

    /// The first SDK event `name` of `page`.
    async fn event(&mut self, page: &str, name: &str) -> Value {
        self.event_where(page, name, |_| true).await
    }

    /// How many events `name` of `page` that `matches` were read so far.
    fn count(&self, page: &str, name: &str, matches: impl Fn(&Value) -> bool) -> usize {
        self.seen
            .iter()
            .filter(|v| v["page"] == page && v["event"] == name && matches(&v["payload"]))
            .count()
    }

    async fn quit(mut self) {
        self.run(json!({"quit": true})).await;
        let status = tokio::time::timeout(STEP_WAIT, self.child.wait())
            .await
            .expect("the browser did not stop in time")
            .unwrap();
        assert!(status.success(), "{status}");
    }
}

/// An SDK URL of `agent`, asked with an API key.
async fn sdk_url(s: &Server, key: &str, agent: u64) -> String {
    let (status, body) = s
        .call(
            key,
            Method::POST,
            "/sdk/login-tokens",
            Some(json!({ "agentId": agent })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["sdkUrl"].as_str().unwrap().to_owned()
}

fn success() -> Value {
    json!({"status": "success"})
}

#[tokio::test]
async fn the_sdk_serves_a_session_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    // No public URL: SDK URLs point where the backend reached helpline.
    let s = Server::start_with(
        dir.path(),
        ApiConfig {
            public_url: None,
            ..ApiConfig::default()
        },
    )
    .await;
    let root = s.base.trim_end_matches("/api/v1").to_owned();
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let key = s
        .ok(&admin, Method::POST, "/api-keys", json!({"name": "crm"}))
        .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (ann, ann_token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
    let url = sdk_url(&s, &key, ann).await;
    assert!(
        url.starts_with(&format!("{root}/sdk/agent.js?token=")),
        "{url}"
    );

    let mut b = Browser::start().await;
    b.open("a", &url).await;
    let ready = b.event("a", "ready").await;
    assert_eq!(ready, json!({"agentId": ann, "status": "offline"}));
    // The SDK's sign-in ended the agent's other one (one login place).
    let (status, _) = s.call(&ann_token, Method::GET, "/auth/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // `ready` is remembered: a handler added now still gets it.
    let late = b
        .eval(
            "a",
            "new Promise((resolve) => helpline.on(helpline.events.ready, resolve))",
        )
        .await;
    assert_eq!(late, ready);

    // Online, then free.
    assert_eq!(b.eval("a", "helpline.Agent.online()").await, success());
    let refused = b
        .eval("a", "helpline.Agent.setStatus({status: 'asleep'})")
        .await;
    assert_eq!(refused["status"], "error", "{refused}");
    assert!(refused["errorMsg"].as_str().unwrap().contains("status"));
    assert_eq!(
        b.eval("a", "helpline.Agent.setStatus({status: 'free'})")
            .await,
        success()
    );
    // Free already, or once the status arrives (the app's status after login may differ).
    b.event_where("a", "statusChanged", |p| p["status"] == "free")
        .await;
    assert_eq!(b.eval("a", "helpline.Agent.getStatus()").await, "free");

    // A user writes: the session is offered to the SDK.
    let now_s = s.state.clock.now_ms() / 1_000;
    let user_token = user_token(&end.secret, 1, "u1", now_s + 600);
    let mut user = s.user_socket(&user_token, "").await;
    user.send(json!({"type": "send", "to": "desk", "msgId": "m1", "body": {"type": "text", "text": "hello"}}))
        .await;
    let call = b.event("a", "callIn").await;
    let session = call["sessionId"].as_str().unwrap().to_owned();
    assert_eq!(call["type"], "im");
    assert_eq!(call["nickname"], "u1");
    assert_eq!(call["userId"], "u1");
    assert_eq!(call["peerSource"], end.channel.to_string());
    assert_eq!(call["channelName"], "Support");
    for absent in ["avatar", "remark", "clientData", "transferredBy"] {
        assert!(call[absent].is_null(), "{absent}: {call}");
    }
    assert!(call["timeout"].as_u64().is_some(), "{call}");

    let missing = b
        .eval("a", "helpline.Chat.accept({sessionId: '999999'})")
        .await;
    assert_eq!(missing["status"], "error", "{missing}");
    let accept = format!("helpline.Chat.accept({{sessionId: '{session}'}})");
    assert_eq!(b.eval("a", &accept).await, success());
    let accessed = b.event("a", "userAccessed").await;
    assert_eq!(accessed["sessionId"], session.as_str());
    let send = format!(
        "helpline.Chat.send({{sessionId: '{session}', text: 'Hello from the SDK', msgId: 'sdk-1'}})"
    );
    let sent = b.eval("a", &send).await;
    assert_eq!(sent["status"], "success", "{sent}");
    assert_eq!(sent["msgId"], "sdk-1");
    let got = user
        .until(|v| v["type"] == "message" && v["msgId"] == "sdk-1")
        .await;
    assert_eq!(got["body"]["text"], "Hello from the SDK");

    // The socket drops and its reconnects are held while the user writes: once let through,
    // the SDK resumes and fires that message once.
    assert_eq!(b.run(json!({"cut": "a"})).await, 1);
    user.send(json!({"type": "send", "to": "desk", "msgId": "m2", "body": {"type": "text", "text": "are you there?"}}))
        .await;
    user.until(|v| v["type"] == "ack" && v["msgId"] == "m2")
        .await;
    assert_eq!(b.run(json!({"held": "a"})).await, 1);
    assert_eq!(b.run(json!({"release": "a"})).await, 1);
    let away = b.event_where("a", "message", |p| p["msgId"] == "m2").await;
    assert_eq!(away["from"], "user");
    assert_eq!(away["sessionId"], session.as_str());
    user.send(json!({"type": "send", "to": "desk", "msgId": "m3", "body": {"type": "text", "text": "still here"}}))
        .await;
    b.event_where("a", "message", |p| p["msgId"] == "m3").await;
    assert_eq!(b.count("a", "message", |p| p["msgId"] == "m2"), 1);
    assert_eq!(b.count("a", "callIn", |_| true), 1);
    assert_eq!(b.count("a", "userAccessed", |_| true), 1);
    assert_eq!(b.count("a", "ready", |_| true), 1);

    // The agent ends it.
    let end_call = format!("helpline.Chat.end({{sessionId: '{session}'}})");
    assert_eq!(b.eval("a", &end_call).await, success());
    let ended = b.event("a", "sessionEnded").await;
    assert_eq!(ended, json!({"sessionId": session, "closeBy": "seat"}));

    // The user comes back; the agent hands the new session to the second line.
    let second_line = s.group(&admin, "second line").await;
    user.send(json!({"type": "send", "to": "desk", "msgId": "m4", "body": {"type": "text", "text": "one more thing"}}))
        .await;
    let call = b
        .event_where("a", "callIn", |p| p["sessionId"] != session.as_str())
        .await;
    let next = call["sessionId"].as_str().unwrap().to_owned();
    let accept = format!("helpline.Chat.accept({{sessionId: '{next}'}})");
    assert_eq!(b.eval("a", &accept).await, success());
    let neither = format!("helpline.Chat.transfer({{sessionId: '{next}'}})");
    assert_eq!(b.eval("a", &neither).await["status"], "error");
    let transfer =
        format!("helpline.Chat.transfer({{sessionId: '{next}', skillGroupId: {second_line}}})");
    assert_eq!(b.eval("a", &transfer).await, success());
    let moved = b.event("a", "transfer").await;
    assert_eq!(moved, json!({"sessionId": next}));
    assert_eq!(b.eval("a", "helpline.Chat.sessions()").await, json!([]));

    // A used, an expired and an unknown URL: tokenExpired, with the reason.
    b.open("used", &url).await;
    let e = b.event("used", "tokenExpired").await;
    assert_eq!(e["code"], "sdk_token_used", "{e}");
    assert!(e["message"].as_str().unwrap().contains("used"), "{e}");
    let issued_at = s.state.clock.now_ms() - SDK_TOKEN_TTL_MS - 1;
    let (old, _) = issue_token(&s.state, AppId(1), AgentId(ann), TEST_ISSUER, issued_at)
        .await
        .unwrap();
    b.open("expired", &format!("{root}/sdk/agent.js?token={old}"))
        .await;
    let e = b.event("expired", "tokenExpired").await;
    assert_eq!(e["code"], "sdk_token_expired", "{e}");
    b.open("unknown", &format!("{root}/sdk/agent.js?token=hs_unknown"))
        .await;
    let e = b.event("unknown", "tokenExpired").await;
    assert_eq!(e["code"], "sdk_token_unknown", "{e}");
    assert_eq!(b.count("used", "ready", |_| true), 0);
    // The first page kept its sign-in through all that.
    assert_eq!(b.count("a", "tokenExpired", |_| true), 0);

    // The agent signs in elsewhere: the SDK's sign-in ends.
    let (status, body) = s.login("ann@example.com", "ann-own-password").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let e = b.event("a", "tokenExpired").await;
    assert_eq!(e["code"], "signed_out", "{e}");
    assert!(e["message"].as_str().unwrap().contains("new_login"), "{e}");
    let after = b.eval("a", "helpline.Agent.online()").await;
    assert_eq!(after["status"], "error", "{after}");

    // A sign-in that ends while the socket is away: the reconnect is refused, the SDK asks
    // why, and fires tokenExpired rather than retrying for ever.
    let (bob, _) = s.agent(&admin, "bob@example.com", 2, &[end.group]).await;
    let url = sdk_url(&s, &key, bob).await;
    b.open("b", &url).await;
    b.event("b", "ready").await;
    b.run(json!({"cut": "b"})).await;
    let (status, body) = s.login("bob@example.com", "bob-own-password").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The reconnect's ticket is refused, or (asked before the sign-in ended) its socket
    // is: either way the SDK learns the sign-in ended.
    b.run(json!({"release": "b"})).await;
    let e = b.event("b", "tokenExpired").await;
    assert_eq!(e["code"], "signed_out", "{e}");
    assert_eq!(b.count("b", "ready", |_| true), 1);

    // Every socket the SDK opened carried a single-use ticket, never the sign-in token.
    for page in ["a", "b"] {
        let urls = b.run(json!({"urls": page})).await;
        let urls = urls.as_array().unwrap();
        assert!(!urls.is_empty(), "{page}");
        for url in urls {
            let url = url.as_str().unwrap();
            assert!(url.contains("ticket=ht_"), "{url}");
            assert!(!url.contains("token="), "{url}");
        }
    }

    b.quit().await;
    s.stop().await;
}
