//! Session service flows end to end, through the user-end protocol over real WebSockets on
//! loopback, with interface calls to a real local HTTP server (axum on 127.0.0.1:0) whose
//! answers a test holds and releases through channels: a welcome, service time, a menu
//! answered wrongly then rightly, a form, three interface calls (one answered, one timed
//! out, one failing then succeeding: retries and defaults seen), a condition on what came
//! back, the FAQ bot, a transfer with the queue place, an agent taking it with the success
//! message, and the end. A restart in the middle of a call makes it again with the same key,
//! exactly once more, and the flow goes on at the same node with the same variables.
//! Invalid flows are refused over HTTP with every error naming its node and field.

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::IntoResponse;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

/// A request the customer's system got.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    key: String,
    body: Value,
}

#[derive(Clone)]
struct Backend {
    seen: Arc<Mutex<Vec<Seen>>>,
    arrivals: mpsc::UnboundedSender<Seen>,
    released: watch::Receiver<bool>,
}

/// The customer's system: `/score` answers at once, `/held` answers only once released,
/// `/flaky` fails its first call of a key and answers the next.
struct CustomerSystem {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    arrivals: mpsc::UnboundedReceiver<Seen>,
    release: watch::Sender<bool>,
}

async fn backend(
    State(b): State<Backend>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: String,
) -> axum::response::Response {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let seen = Seen {
        path: path.clone(),
        key: key.clone(),
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
    };
    let earlier = {
        let mut all = b.seen.lock().unwrap();
        let earlier = all.iter().filter(|s| s.key == key).count();
        all.push(seen.clone());
        earlier
    };
    let _ = b.arrivals.send(seen.clone());
    match path.as_str() {
        "score" => axum::Json(json!({"score": "95", "name": seen.body["phone"]})).into_response(),
        "held" => {
            let mut released = b.released.clone();
            let _ = released.wait_for(|r| *r).await;
            axum::Json(json!({"greeting": "hello again"})).into_response()
        }
        "flaky" if earlier == 0 => (AxumStatus::INTERNAL_SERVER_ERROR, "not yet").into_response(),
        "flaky" => axum::Json(json!({"tier": "gold"})).into_response(),
        "bot" => axum::Json(
            json!({"answer": format!("echo: {}", seen.body["text"].as_str().unwrap_or(""))}),
        )
        .into_response(),
        // Elsewhere: a call must not follow it (a POST would turn GET, or carry the
        // session's data to a host nobody configured).
        "moved" => axum::response::Redirect::temporary("/score").into_response(),
        // Over the answer cap, streamed.
        "huge" => axum::Json(json!({"score": "9".repeat(helpline::im::flows::MAX_ANSWER_BYTES)}))
            .into_response(),
        _ => (AxumStatus::NOT_FOUND, "no").into_response(),
    }
}

impl CustomerSystem {
    async fn start() -> CustomerSystem {
        let (tx, arrivals) = mpsc::unbounded_channel();
        let (release, released) = watch::channel(false);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = Backend {
            seen: seen.clone(),
            arrivals: tx,
            released,
        };
        let app = axum::Router::new()
            .route("/{path}", axum::routing::post(backend))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        CustomerSystem {
            url,
            seen,
            arrivals,
            release,
        }
    }

    /// The next request to arrive (a bound, never a wait).
    async fn arrival(&mut self) -> Seen {
        tokio::time::timeout(FRAME_WAIT, self.arrivals.recv())
            .await
            .expect("no call in time")
            .unwrap()
    }

    fn seen(&self, path: &str) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.path == path)
            .cloned()
            .collect()
    }
}

/// A desk whose flows may call the customer's system on loopback: internal addresses are
/// refused unless the operator allows them.
async fn start(dir: &std::path::Path) -> Server {
    Server::start_with(dir, allowing(&["127.0.0.1"])).await
}

fn allowing(entries: &[&str]) -> helpline::api::ApiConfig {
    helpline::api::ApiConfig {
        public_url: Some("https://desk.example.com/".to_owned()),
        outbound: helpline::api::OutboundConfig {
            allow: entries.iter().map(|e| (*e).to_owned()).collect(),
        },
        ..Default::default()
    }
}

fn node(id: &str, module: Value) -> Value {
    json!({"id": id, "module": module})
}

fn edge(from: &str, port: &str, to: &str) -> Value {
    json!({"from": from, "port": port, "to": to})
}

fn end_module() -> Value {
    json!({"type": "end", "replyTimeoutSecs": 0,
           "autoTerminationMessage": "", "humanTerminationMessage": "Thank you for chatting with us"})
}

/// welcome -> hours { in: menu { Pre-sales: phone -> score -> held -> flaky -> judge
/// { vip: vip-text -> desk, default: bot }, After-sales: bot -> desk }, out: closed -> end }
fn full_flow(base: &str, group: u64) -> Value {
    let call = |path: &str, timeout_ms: u32, attempts: u32, field: &str, default: &str| {
        json!({"type": "interface_call", "url": format!("{base}/{path}"),
               "params": [{"name": "phone", "value": "${phone}"}, {"name": "session", "value": "${SystemSessionId}"}],
               "response": [{"field": field, "variable": field, "default": default}],
               "timeoutMs": timeout_ms, "maxAttempts": attempts})
    };
    json!({
        "nodes": [
            node("start", json!({"type": "start"})),
            node("welcome", json!({"type": "send_message", "text": "Hello ${UserId}, welcome to ${ChannelName}"})),
            node("hours", json!({"type": "service_time", "timeZone": "UTC",
                "weekly": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "hours": [{"from": "00:00", "to": "24:00"}]}]})),
            node("closed", json!({"type": "send_message", "text": "We are closed"})),
            node("menu", json!({"type": "branch", "style": "menu", "text": "Please select the service you require",
                "invalidPrompt": "Your input is incorrect, please re-enter",
                "options": [{"port": "sales", "content": "Pre-sales"}, {"port": "support", "content": "After-sales"}]})),
            node("phone", json!({"type": "collect", "form": "text", "text": "Your phone number?", "variable": "phone"})),
            node("score", call("score", 5_000, 1, "score", "0")),
            node("held", call("held", 300, 1, "greeting", "late")),
            node("flaky", call("flaky", 5_000, 3, "tier", "none")),
            node("judge", json!({"type": "condition", "branches": [{"port": "vip", "combine": "all", "conditions": [
                {"variable": "score", "op": "ge", "value": "90"}, {"variable": "tier", "op": "eq", "value": "gold"}]}]})),
            node("vip", json!({"type": "send_message", "text": "Score ${score}, tier ${tier}, greeting ${greeting}"})),
            node("bot", json!({"type": "chatbot", "bot": {"kind": "faq", "threshold": 0.5, "noAnswer": "Sorry, I do not know that one"},
                "handoverKeywords": ["human"]})),
            node("desk", json!({"type": "transfer_to_agent", "group": group,
                "queueMessage": "There are ${WaitNo} people ahead of you",
                "successMessage": "${StaffNickName} (staff no ${StaffNo}) is here to help"})),
            node("end", end_module()),
        ],
        "edges": [
            edge("start", "next", "welcome"), edge("welcome", "next", "hours"),
            edge("hours", "in_hours", "menu"), edge("hours", "out_of_hours", "closed"),
            edge("closed", "next", "end"),
            edge("menu", "sales", "phone"), edge("menu", "support", "bot"),
            edge("phone", "next", "score"), edge("score", "next", "held"), edge("held", "next", "flaky"),
            edge("flaky", "next", "judge"), edge("judge", "vip", "vip"), edge("judge", "default", "bot"),
            edge("vip", "next", "desk"), edge("bot", "handover", "desk"), edge("desk", "next", "end"),
        ]
    })
}

fn say(id: &str, text: &str) -> Value {
    json!({"type": "send", "to": "desk", "msgId": id, "body": {"type": "text", "text": text}})
}

/// The next stored message from the desk (text or custom), skipping flags and echoes.
async fn desk_message(user: &mut Ws) -> Value {
    user.until(|v| v["type"] == "message" && v["from"] == "desk" && v["onlineUserOnly"] == false)
        .await
}

async fn desk_text(user: &mut Ws) -> String {
    let m = desk_message(user).await;
    m["body"]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("not a text: {m}"))
        .to_owned()
}

struct Setup {
    admin: String,
    secret: String,
    group: u64,
    agent_token: String,
}

async fn setup(s: &Server, flow: impl FnOnce(u64) -> Value) -> Setup {
    let admin = s.admin().await;
    let secret = s.ok(&admin, Method::POST, "/im/secret", json!({})).await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let group = s.group(&admin, "sales").await;
    let (_, agent_token) = s.agent(&admin, "ann@example.com", 2, &[group]).await;
    for (q, a) in [
        (
            "What are your opening hours?",
            "We are open 9 to 5, Monday to Friday.",
        ),
        ("How much does shipping cost?", "Shipping is free over 50."),
        (
            "How do I reset my password?",
            "Use the link on the sign-in page.",
        ),
        ("如何申请退款？", "在订单页面点击申请退款即可。"),
    ] {
        s.ok(
            &admin,
            Method::POST,
            "/faq",
            json!({"question": q, "answer": a}),
        )
        .await;
    }
    let created = s
        .ok(
            &admin,
            Method::POST,
            "/flows",
            json!({"name": "reception", "graph": flow(group)}),
        )
        .await;
    assert_eq!(created["version"], 1);
    let flow_id = created["id"].as_u64().unwrap();
    s.ok(
        &admin,
        Method::POST,
        "/channels",
        json!({"name": "Support", "kind": {"type": "in_app", "userId": "desk"}, "flow": flow_id}),
    )
    .await;
    Setup {
        admin,
        secret,
        group,
        agent_token,
    }
}

fn token_for(s: &Server, secret: &str, user: &str) -> String {
    let now = s.state.clock.now_ms() / 1_000;
    user_token(secret, 1, user, now + 3_600)
}

#[tokio::test]
async fn a_user_goes_through_the_whole_flow_to_an_agent_and_the_end() {
    let mut backend = CustomerSystem::start().await;
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    let base = backend.url.clone();
    let set = setup(&s, |g| full_flow(&base, g)).await;
    let mut user = s.user_socket(&token_for(&s, &set.secret, "u1"), "").await;

    // The first text opens the session: the welcome (with system parameters), then the menu.
    user.send(say("m1", "hi")).await;
    assert_eq!(desk_text(&mut user).await, "Hello u1, welcome to Support");
    let menu = desk_message(&mut user).await;
    let data = desk_data(&menu).unwrap();
    assert_eq!(data["src"], "15");
    assert_eq!(
        data["content"]["items"],
        json!([{"content": "Pre-sales", "desc": ""}, {"content": "After-sales", "desc": ""}])
    );
    // A wrong answer: the prompt, then the menu again.
    user.send(say("m2", "pre-sales")).await;
    assert_eq!(
        desk_text(&mut user).await,
        "Your input is incorrect, please re-enter"
    );
    assert_eq!(
        desk_data(&desk_message(&mut user).await).unwrap()["src"],
        "15"
    );
    // The right one: the menu gets `selected`, and the form comes.
    user.send(say("m3", "Pre-sales")).await;
    let update = user.until(of_type("update")).await;
    assert_eq!(
        desk_data(&update).unwrap()["content"]["selected"]["content"],
        "Pre-sales"
    );
    let form = desk_data(&desk_message(&mut user).await).unwrap();
    assert_eq!(
        (form["src"].as_str(), form["content"]["type"].as_u64()),
        (Some("21"), Some(0))
    );
    assert_eq!(form["content"]["header"], "Your phone number?");

    // The answer goes into `phone`; three calls follow.
    user.send(say("m4", "555-0100")).await;
    let score = backend.arrival().await;
    assert_eq!(score.path, "score");
    assert_eq!(score.body["phone"], "555-0100");
    let session = score.body["session"].as_str().unwrap().to_owned();
    assert!(
        score.key.starts_with(&format!("session-{session}/")),
        "{score:?}"
    );
    let held = backend.arrival().await;
    assert_eq!(held.path, "held", "it is never released: it times out");
    let first = backend.arrival().await;
    let second = backend.arrival().await;
    assert_eq!(
        (first.path.as_str(), second.path.as_str()),
        ("flaky", "flaky")
    );
    assert_eq!(first.key, second.key, "a retry keeps its key");
    assert_ne!(first.key, score.key);

    // The condition took the values: the score, the tier after the retry, the default of
    // the call that timed out.
    assert_eq!(
        desk_text(&mut user).await,
        "Score 95, tier gold, greeting late"
    );
    assert_eq!(
        desk_text(&mut user).await,
        "There are 0 people ahead of you"
    );
    let place = user.until(of_type("queue")).await;
    assert_eq!(place["position"], 0);

    // An agent takes it: the success message names the agent.
    let mut agent = s.agent_socket(&set.agent_token).await;
    let offer = agent.until(of_type("offer")).await;
    let session_id = offer["sessionId"].as_u64().unwrap();
    assert_eq!(session_id.to_string(), session);
    agent
        .send(json!({"type": "accept", "sessionId": session_id}))
        .await;
    agent.until(of_type("seated")).await;
    assert_eq!(
        desk_text(&mut user).await,
        "ann (staff no ann) is here to help"
    );

    // The agent ends it: the flow's end message, then src 19.
    agent
        .send(json!({"type": "end", "sessionId": session_id}))
        .await;
    assert_eq!(desk_text(&mut user).await, "Thank you for chatting with us");
    user.until(src("19")).await;

    // Every call once, but the failing one twice under one key.
    assert_eq!(backend.seen("score").len(), 1);
    assert_eq!(backend.seen("held").len(), 1);
    assert_eq!(backend.seen("flaky").len(), 2);
    let _ = set.admin;
    let _ = set.group;
    user.close().await;
    agent.close().await;
    s.stop().await;
}

#[tokio::test]
async fn the_faq_bot_answers_and_hands_over_on_request() {
    let backend = CustomerSystem::start().await;
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    let base = backend.url.clone();
    let set = setup(&s, |g| full_flow(&base, g)).await;
    let mut user = s.user_socket(&token_for(&s, &set.secret, "u2"), "").await;
    user.send(say("m1", "hello")).await;
    desk_text(&mut user).await;
    desk_message(&mut user).await;
    user.send(say("m2", "After-sales")).await;
    user.send(say("m3", "what are the opening hours?")).await;
    assert_eq!(
        desk_text(&mut user).await,
        "We are open 9 to 5, Monday to Friday."
    );
    // Chinese has no spaces: the bot cuts questions into bigrams, as it cut the entry.
    user.send(say("m3zh", "申请退款")).await;
    assert_eq!(desk_text(&mut user).await, "在订单页面点击申请退款即可。");
    user.send(say("m4", "do you sell zebras")).await;
    assert_eq!(desk_text(&mut user).await, "Sorry, I do not know that one");
    user.send(say("m5", "HUMAN")).await;
    assert_eq!(
        desk_text(&mut user).await,
        "There are 0 people ahead of you"
    );
    user.close().await;
    s.stop().await;
}

/// The desk clients' quick button sends a plain text, exactly this frame's body.
#[tokio::test]
async fn the_clients_human_service_text_hands_over_to_a_human() {
    let backend = CustomerSystem::start().await;
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    let base = backend.url.clone();
    let set = setup(&s, |g| full_flow(&base, g)).await;
    let mut user = s.user_socket(&token_for(&s, &set.secret, "u7"), "").await;
    user.send(say("m1", "hello")).await;
    desk_text(&mut user).await;
    desk_message(&mut user).await;
    user.send(say("m2", "After-sales")).await;
    user.send(
        json!({"type": "send", "to": "desk", "msgId": "m3", "onlineUserOnly": false,
        "body": {"type": "text", "text": "人工服务"}}),
    )
    .await;
    assert_eq!(
        desk_text(&mut user).await,
        "There are 0 people ahead of you"
    );
    user.close().await;
    s.stop().await;
}

#[tokio::test]
async fn a_restart_during_a_call_makes_it_again_with_the_same_key_exactly_once_more() {
    let mut backend = CustomerSystem::start().await;
    let dir = tempfile::tempdir().unwrap();
    let base = backend.url.clone();
    let flow = move |group: u64| {
        json!({
            "nodes": [
                node("start", json!({"type": "start"})),
                node("name", json!({"type": "collect", "form": "text", "text": "Your name?", "variable": "name"})),
                node("call", json!({"type": "interface_call", "url": format!("{base}/held"),
                    "params": [{"name": "name", "value": "${name}"}],
                    "response": [{"field": "greeting", "variable": "greeting", "default": "none"}],
                    "timeoutMs": 30000, "maxAttempts": 1})),
                node("hi", json!({"type": "send_message", "text": "${greeting}, ${name}"})),
                node("more", json!({"type": "collect", "form": "options", "text": "Anything else?",
                    "options": [{"content": "Yes"}, {"content": "No"}], "variable": "more",
                    "invalidPrompt": "Yes or No, please"})),
                node("desk", json!({"type": "transfer_to_agent", "group": group})),
                node("end", end_module()),
            ],
            "edges": [
                edge("start", "next", "name"), edge("name", "next", "call"), edge("call", "next", "hi"),
                edge("hi", "next", "more"), edge("more", "next", "desk"), edge("desk", "next", "end"),
            ]
        })
    };
    let s = start(dir.path()).await;
    let set = setup(&s, flow).await;
    let token = token_for(&s, &set.secret, "u3");
    let mut user = s.user_socket(&token, "").await;
    user.send(say("m1", "hi")).await;
    let form = desk_message(&mut user).await;
    let conversation = form["conversationId"].as_u64().unwrap();
    user.send(say("m2", "Ann")).await;
    let made = backend.arrival().await;
    assert_eq!(
        (made.path.as_str(), &made.body),
        ("held", &json!({"name": "Ann"}))
    );
    let last_seq = user
        .until(|v| v["type"] == "message" && v["msgId"] == "m2")
        .await["seq"]
        .as_u64()
        .unwrap();

    // Stop while the customer's system holds the answer.
    user.close().await;
    s.stop().await;
    let s = start(dir.path()).await;
    let again = backend.arrival().await;
    assert_eq!(again.key, made.key, "the same key after the restart");
    assert_eq!(again.body, made.body);
    assert_eq!(backend.seen("held").len(), 2, "exactly once more");

    // Released: the flow goes on at the same node, with the name it had collected.
    let _ = backend.release.send(true);
    let mut user = s
        .user_socket(&token, &format!("{conversation}:{last_seq}"))
        .await;
    assert_eq!(desk_text(&mut user).await, "hello again, Ann");
    let next = desk_data(&desk_message(&mut user).await).unwrap();
    assert_eq!(next["content"]["header"], "Anything else?");

    // Answered: another restart makes no call.
    user.close().await;
    s.stop().await;
    let s = start(dir.path()).await;
    let mut user = s.user_socket(&token, "").await;
    user.send(say("m3", "No")).await;
    user.until(of_type("queue")).await;
    assert_eq!(
        backend.seen("held").len(),
        2,
        "an answered call is never made again"
    );
    user.close().await;
    s.stop().await;
}

#[tokio::test]
async fn invalid_flows_are_refused_naming_node_and_field_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    let admin = s.admin().await;
    let group = s.group(&admin, "sales").await;
    let bad = json!({
        "nodes": [
            node("start", json!({"type": "start"})),
            node("ask", json!({"type": "branch", "style": "menu", "text": "", "invalidPrompt": "again",
                "options": [{"port": "a", "content": "A"}]})),
            node("call", json!({"type": "interface_call", "url": "ftp://x", "timeoutMs": 5, "maxAttempts": 1})),
            node("desk", json!({"type": "transfer_to_agent", "group": 999_999})),
            node("end", end_module()),
        ],
        "edges": [edge("start", "next", "ask"), edge("ask", "a", "call"), edge("call", "next", "desk"),
                  edge("desk", "next", "end")]
    });
    let (status, body) = s
        .call(
            &admin,
            Method::POST,
            "/flows",
            Some(json!({"name": "broken", "graph": bad})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_flow");
    let errors: Vec<(String, String)> = body["error"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"].as_str().unwrap_or("").to_owned(),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("ask", "text"),
        ("call", "url"),
        ("call", "timeoutMs"),
        ("desk", "group"),
    ] {
        assert!(
            errors.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} in {errors:?}"
        );
    }
    // A malformed module names its node too.
    let malformed = json!({"nodes": [node("start", json!({"type": "start"})),
        node("x", json!({"type": "send_message", "txt": "hi"}))], "edges": []});
    let (status, body) = s
        .call(
            &admin,
            Method::POST,
            "/flows",
            Some(json!({"name": "broken", "graph": malformed})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["errors"][0]["node"], "x", "{body}");
    assert_eq!(body["error"]["errors"][0]["field"], "module", "{body}");
    // A module's missing field is named as validation names it: `text`, not `module.text`.
    let missing = json!({"nodes": [node("start", json!({"type": "start"})),
        node("x", json!({"type": "send_message"}))], "edges": []});
    let (status, body) = s
        .call(
            &admin,
            Method::POST,
            "/flows",
            Some(json!({"name": "broken", "graph": missing})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        (
            &body["error"]["errors"][0]["node"],
            &body["error"]["errors"][0]["field"]
        ),
        (&json!("x"), &json!("text")),
        "{body}"
    );
    assert_eq!(s.get(&admin, "/flows").await, json!([]), "nothing saved");

    // The FAQ names its fields; a role without the flows module sees neither.
    let (status, body) = s
        .call(
            &admin,
            Method::POST,
            "/faq",
            Some(json!({"question": "  ", "answer": "yes"})),
        )
        .await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::BAD_REQUEST, "question")
    );
    let role = s
        .ok(
            &admin,
            Method::POST,
            "/roles",
            json!({"name": "channel keeper", "scopes": [{"module": "channels", "groups": null}]}),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    let (_, keeper) = s.agent(&admin, "keeper@example.com", role, &[]).await;
    for path in ["/flows", "/faq"] {
        let (status, _) = s.call(&keeper, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }

    // Versions, binding, deleting.
    let ok = json!({"nodes": [node("start", json!({"type": "start"})),
        node("desk", json!({"type": "transfer_to_agent", "group": group})), node("end", end_module())],
        "edges": [edge("start", "next", "desk"), edge("desk", "next", "end")]});
    let created = s
        .ok(
            &admin,
            Method::POST,
            "/flows",
            json!({"name": "simple", "graph": ok}),
        )
        .await;
    let id = created["id"].as_u64().unwrap();

    // A role scoped to other groups may not route a flow into this one's queue.
    let other = s.group(&admin, "other").await;
    let role = s
        .ok(
            &admin,
            Method::POST,
            "/roles",
            json!({"name": "other designer", "scopes": [{"module": "flows", "groups": [other]}]}),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    let (_, designer) = s.agent(&admin, "designer@example.com", role, &[]).await;
    let (status, body) = s
        .call(
            &designer,
            Method::POST,
            "/flows",
            Some(json!({"name": "sideways", "graph": ok})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["errors"][0]["node"], "desk", "{body}");
    assert_eq!(body["error"]["errors"][0]["field"], "group", "{body}");

    let updated = s
        .ok(
            &admin,
            Method::PUT,
            &format!("/flows/{id}"),
            json!({"name": "simple v2", "graph": ok}),
        )
        .await;
    assert_eq!(updated["version"], 2);
    let versions = s.get(&admin, &format!("/flows/{id}/versions")).await;
    assert_eq!(versions.as_array().unwrap().len(), 2);
    assert_eq!(versions[0]["name"], "simple");
    let (status, body) = s
        .call(
            &admin,
            Method::POST,
            "/channels",
            Some(json!({"name": "X", "kind": {"type": "in_app", "userId": "x"}, "flow": 424_242})),
        )
        .await;
    assert_eq!((status, field_of(&body)), (StatusCode::BAD_REQUEST, "flow"));
    let channel = s
        .ok(
            &admin,
            Method::POST,
            "/channels",
            json!({"name": "X", "kind": {"type": "in_app", "userId": "x"}, "flow": id}),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    let (status, _) = s
        .call(&admin, Method::DELETE, &format!("/flows/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "a bound flow stays");
    let (status, _) = s
        .call(
            &admin,
            Method::DELETE,
            &format!("/skill-groups/{group}"),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a group a flow hands to stays"
    );
    s.ok(
        &admin,
        Method::PUT,
        &format!("/channels/{channel}"),
        json!({"name": "X", "kind": {"type": "in_app", "userId": "x"}}),
    )
    .await;
    let (status, _) = s
        .call(&admin, Method::DELETE, &format!("/flows/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Every version survives a restart (the log keeps them).
    s.stop().await;
    let s = start(dir.path()).await;
    let admin = s.admin().await;
    let (status, _) = s
        .call(&admin, Method::GET, &format!("/flows/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test]
async fn a_webhook_bot_answers_what_the_user_writes() {
    let backend = CustomerSystem::start().await;
    let dir = tempfile::tempdir().unwrap();
    let base = backend.url.clone();
    let flow = move |group: u64| {
        json!({
            "nodes": [
                node("start", json!({"type": "start"})),
                node("bot", json!({"type": "chatbot", "bot": {"kind": "webhook", "url": format!("{base}/bot"), "timeoutMs": 5000},
                    "handoverKeywords": ["agent"]})),
                node("desk", json!({"type": "transfer_to_agent", "group": group, "queueMessage": "Wait please"})),
                node("end", end_module()),
            ],
            "edges": [edge("start", "next", "bot"), edge("bot", "handover", "desk"), edge("desk", "next", "end")]
        })
    };
    let s = start(dir.path()).await;
    let set = setup(&s, flow).await;
    let mut user = s.user_socket(&token_for(&s, &set.secret, "u4"), "").await;
    // The first text opens the session; the bot answers the texts after it.
    user.send(say("m1", "hi")).await;
    user.send(say("m2", "where is my parcel")).await;
    // While the bot is asked, the user sees the desk thinking (src 35, a flag), then not.
    let mut frames = Vec::new();
    loop {
        let frame = user.next().await;
        let done = frame["body"]["text"] == "echo: where is my parcel";
        frames.push(frame);
        if done {
            break;
        }
    }
    let thinking: Vec<(Value, Value)> = frames
        .iter()
        .filter_map(|f| {
            let data: Value = serde_json::from_str(f["body"]["data"].as_str()?).ok()?;
            (data["src"] == "35").then(|| (f["onlineUserOnly"].clone(), data))
        })
        .collect();
    assert_eq!(
        thinking,
        [
            (
                json!(true),
                json!({"customerServicePlugin": 0, "src": "35", "content": {"thinking": 1}})
            ),
            (
                json!(true),
                json!({"customerServicePlugin": 0, "src": "35", "content": {"thinking": 0}})
            ),
        ],
        "{frames:#?}"
    );
    user.send(say("m3", "agent")).await;
    assert_eq!(desk_text(&mut user).await, "Wait please");
    user.close().await;
    s.stop().await;
}

#[tokio::test]
async fn a_call_answered_with_a_redirect_or_too_much_falls_back_to_its_defaults() {
    let backend = CustomerSystem::start().await;
    let dir = tempfile::tempdir().unwrap();
    let base = backend.url.clone();
    let flow = move |group: u64| {
        let call = |path: &str, default: &str| {
            json!({"type": "interface_call", "url": format!("{base}/{path}"), "params": [],
                   "response": [{"field": "score", "variable": path, "default": default}],
                   "timeoutMs": 5_000, "maxAttempts": 1})
        };
        json!({
            "nodes": [
                node("start", json!({"type": "start"})),
                node("moved", call("moved", "unmoved")),
                node("huge", call("huge", "small")),
                node("say", json!({"type": "send_message", "text": "${moved} ${huge}"})),
                node("desk", json!({"type": "transfer_to_agent", "group": group})),
                node("end", end_module()),
            ],
            "edges": [edge("start", "next", "moved"), edge("moved", "next", "huge"),
                      edge("huge", "next", "say"), edge("say", "next", "desk"), edge("desk", "next", "end")]
        })
    };
    let s = start(dir.path()).await;
    let set = setup(&s, flow).await;
    let mut user = s.user_socket(&token_for(&s, &set.secret, "u5"), "").await;
    user.send(say("m1", "hi")).await;
    assert_eq!(desk_text(&mut user).await, "unmoved small");
    assert_eq!(backend.seen("moved").len(), 1);
    assert_eq!(backend.seen("huge").len(), 1);
    assert!(
        backend.seen("score").is_empty(),
        "the redirect was not followed"
    );
    user.close().await;
    s.stop().await;
}

/// A flow that calls `url` once and says what came back, or its default.
fn calling(url: String) -> impl FnOnce(u64) -> Value {
    move |group: u64| {
        json!({
            "nodes": [
                node("start", json!({"type": "start"})),
                node("call", json!({"type": "interface_call", "url": url, "params": [],
                    "response": [{"field": "score", "variable": "score", "default": "refused"}],
                    "timeoutMs": 5_000, "maxAttempts": 1})),
                node("say", json!({"type": "send_message", "text": "${score}"})),
                node("desk", json!({"type": "transfer_to_agent", "group": group})),
                node("end", end_module()),
            ],
            "edges": [edge("start", "next", "call"), edge("call", "next", "say"),
                      edge("say", "next", "desk"), edge("desk", "next", "end")]
        })
    }
}

/// What the log recorded of the flow's calls' failures.
fn call_errors(s: &Server) -> Vec<String> {
    use helpline::log::EventLog;
    s.log
        .read_from(1)
        .filter_map(|e| match e.unwrap().event {
            helpline::domain::event::Event::FlowCallAnswered { error, .. } => Some(error),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_call_to_loopback_takes_the_failure_path_unless_the_operator_allows_it() {
    let backend = CustomerSystem::start().await;
    let dir = tempfile::tempdir().unwrap();
    // By address: the client would connect without resolving anything.
    let s = Server::start_with(dir.path(), allowing(&[])).await;
    let set = setup(&s, calling(format!("{}/score", backend.url))).await;
    let mut user = s.user_socket(&token_for(&s, &set.secret, "u6"), "").await;
    user.send(say("m1", "hi")).await;
    assert_eq!(desk_text(&mut user).await, "refused");
    assert!(
        backend.seen("score").is_empty(),
        "the call reached loopback"
    );
    let errors = call_errors(&s);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("loopback") && e.contains("outbound.allow")),
        "{errors:?}"
    );
    user.close().await;
    s.stop().await;
}

#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_refused_too_and_allowed_by_name() {
    let backend = CustomerSystem::start().await;
    let port = backend.url.rsplit(':').next().unwrap().to_owned();
    let url = format!("http://localhost:{port}/score");
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(dir.path(), allowing(&[])).await;
    let set = setup(&s, calling(url.clone())).await;
    let mut user = s.user_socket(&token_for(&s, &set.secret, "u7"), "").await;
    user.send(say("m1", "hi")).await;
    assert_eq!(desk_text(&mut user).await, "refused");
    assert!(
        backend.seen("score").is_empty(),
        "the call reached loopback"
    );
    assert!(
        call_errors(&s).iter().any(|e| e.contains("loopback")),
        "{:?}",
        call_errors(&s)
    );
    user.close().await;
    s.stop().await;

    // The operator names the host: the same call goes through.
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(dir.path(), allowing(&["localhost"])).await;
    let set = setup(&s, calling(url)).await;
    let mut user = s.user_socket(&token_for(&s, &set.secret, "u8"), "").await;
    user.send(say("m1", "hi")).await;
    assert_eq!(desk_text(&mut user).await, "95");
    assert_eq!(backend.seen("score").len(), 1);
    user.close().await;
    s.stop().await;
}

#[tokio::test]
async fn an_allow_list_entry_that_is_no_address_range_or_host_is_refused_naming_it() {
    let config = allowing(&["10.0.0.0/8", "10.0.0.0/33"]);
    let e = config.validate().unwrap_err().to_string();
    assert!(
        e.contains("outbound.allow") && e.contains("10.0.0.0/33"),
        "{e}"
    );
}

/// A channel that opts into the task shapes: the flow's menu is src 32 and its form src 33,
/// with the exact JSON the clients draw; the user answers by echoing the branch with
/// `selected` and the form with `variableValue` filled, the stored prompts are updated
/// (status 1, nodeStatus 2), and the flow goes on to the desk.
#[tokio::test]
async fn a_channel_with_task_messages_speaks_src_32_and_33_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    let flow = |group: u64| {
        json!({
            "nodes": [
                node("start", json!({"type": "start"})),
                node("menu", json!({"type": "branch", "style": "menu", "text": "What do you need?",
                    "invalidPrompt": "Please pick one",
                    "options": [{"port": "a", "content": "Delivery"}, {"port": "b", "content": "Refund"}]})),
                node("size", json!({"type": "collect", "form": "options", "text": "Which size?", "variable": "size",
                    "invalidPrompt": "Please pick one", "options": [{"content": "S"}, {"content": "M"}]})),
                node("desk", json!({"type": "transfer_to_agent", "group": group, "queueMessage": "Size ${size}: ${WaitNo} ahead"})),
                node("end", end_module()),
            ],
            "edges": [edge("start", "next", "menu"), edge("menu", "a", "size"), edge("menu", "b", "size"),
                edge("size", "next", "desk"), edge("desk", "next", "end")]
        })
    };
    let set = setup(&s, flow).await;
    let channels = s
        .ok(&set.admin, Method::GET, "/channels", json!(null))
        .await;
    let channel = &channels.as_array().unwrap()[0];
    assert_eq!(channel["taskMessages"], false);
    let id = channel["id"].as_u64().unwrap();
    let put = s
        .ok(
            &set.admin,
            Method::PUT,
            &format!("/channels/{id}"),
            json!({"name": "Support", "kind": {"type": "in_app", "userId": "desk"},
                   "flow": channel["flow"], "taskMessages": true}),
        )
        .await;
    assert_eq!(put["taskMessages"], true);
    let mut user = s.user_socket(&token_for(&s, &set.secret, "u9"), "").await;
    user.send(say("m1", "hello")).await;
    let branch = desk_message(&mut user).await;
    let session = {
        let data: Value = serde_json::from_str(branch["body"]["data"].as_str().unwrap()).unwrap();
        data["taskInfo"]["sessionId"].clone()
    };
    let task_info = json!({"sessionId": session, "nodeId": "menu"});
    assert_eq!(
        serde_json::from_str::<Value>(branch["body"]["data"].as_str().unwrap()).unwrap(),
        json!({"customerServicePlugin": 0, "src": "32", "status": 0, "optionType": 1,
               "content": {"header": "What do you need?",
                           "items": [{"content": "Delivery", "desc": ""}, {"content": "Refund", "desc": ""}]},
               "taskInfo": task_info})
    );
    // The client's answer: the same branch with `selected`.
    let reply = json!({"customerServicePlugin": 0, "src": "32", "status": 0, "optionType": 1,
        "content": {"header": "What do you need?", "items": [{"content": "Delivery"}, {"content": "Refund"}],
                    "selected": {"content": "Refund"}},
        "taskInfo": task_info});
    user.send(
        json!({"type": "send", "to": "desk", "msgId": "m2", "onlineUserOnly": false,
        "body": {"type": "custom", "data": reply.to_string()}}),
    )
    .await;
    let updated = user.until(|v| v["type"] == "update").await;
    let data: Value = serde_json::from_str(updated["body"]["data"].as_str().unwrap()).unwrap();
    assert_eq!(data["status"], 1);
    assert_eq!(
        data["content"]["selected"],
        json!({"content": "Refund", "desc": ""})
    );
    let form = desk_message(&mut user).await;
    assert_eq!(
        serde_json::from_str::<Value>(form["body"]["data"].as_str().unwrap()).unwrap(),
        json!({"customerServicePlugin": 0, "src": "33", "nodeStatus": 0,
               "content": {"tip": "Which size?", "inputVariables": [{"name": "size", "placeholder": "",
                   "isRequired": true, "formType": 1, "chooseItemList": ["S", "M"], "variableValue": ""}]},
               "taskInfo": {"sessionId": session, "nodeId": "size"}})
    );
    // The short form of the answer: just the variables.
    let answer = json!({"customerServicePlugin": 0, "src": "33",
        "content": {"inputVariables": [{"name": "size", "isRequired": true, "variableValue": "M"}]}});
    user.send(
        json!({"type": "send", "to": "desk", "msgId": "m3", "onlineUserOnly": false,
        "body": {"type": "custom", "data": answer.to_string()}}),
    )
    .await;
    let updated = user.until(|v| v["type"] == "update").await;
    let data: Value = serde_json::from_str(updated["body"]["data"].as_str().unwrap()).unwrap();
    assert_eq!(data["nodeStatus"], 2);
    assert_eq!(data["content"]["inputVariables"][0]["variableValue"], "M");
    assert_eq!(desk_text(&mut user).await, "Size M: 0 ahead");
    user.close().await;
    s.stop().await;
}
