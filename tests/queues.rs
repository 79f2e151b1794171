//! A skill group's queue limits over real HTTP and WebSockets on loopback: the settings are
//! set, shown and checked naming the field; a full queue refuses the next user over
//! `/ws/im` with its message and src 20, the record says closeBy timer, and the refusal is
//! counted; an agent's transfer into a full group is refused and the agent keeps the chat.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn text(id: &str, text: &str) -> Value {
    json!({"type": "send", "to": "desk", "msgId": id, "body": {"type": "text", "text": text}})
}

async fn scrape(s: &Server) -> String {
    let root = s.base.trim_end_matches("/api/v1");
    let resp = s.http.get(format!("{root}/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}

/// A user's socket on the app's channel, signed for an hour.
async fn user(s: &Server, end: &UserEnd, id: &str) -> Ws {
    let now = s.state.clock.now_ms() / 1_000;
    let token = user_token(&end.secret, 1, id, now + 3_600);
    s.user_socket(&token, "").await
}

#[tokio::test]
async fn queue_limits_are_set_shown_and_checked_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let g = s.group(&admin, "support").await;
    let path = format!("/skill-groups/{g}");
    let shown = s.get(&admin, &path).await;
    assert_eq!(
        (
            shown["maxQueueWaitSecs"].as_u64(),
            shown["maxQueued"].as_u64()
        ),
        (Some(1_800), Some(1_000)),
        "{shown}"
    );
    assert!(shown["queueWaitMessage"].as_str().unwrap().len() > 10);
    assert!(shown["queueFullMessage"].as_str().unwrap().len() > 10);
    for (body, field) in [
        (json!({"maxQueueWaitSecs": 30}), "maxQueueWaitSecs"),
        (json!({"maxQueueWaitSecs": 86_401}), "maxQueueWaitSecs"),
        (json!({"maxQueued": 0}), "maxQueued"),
        (json!({"maxQueued": 100_001}), "maxQueued"),
        (json!({"queueWaitMessage": " "}), "queueWaitMessage"),
        (
            json!({"queueFullMessage": "x".repeat(1_025)}),
            "queueFullMessage",
        ),
    ] {
        // A bad field next to a good one changes nothing.
        let mut body = body;
        body["name"] = json!("renamed");
        let (status, out) = s.call(&admin, Method::PATCH, &path, Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
        assert_eq!(field_of(&out), field, "{out}");
        assert_eq!(s.get(&admin, &path).await, shown);
    }
    let edited = s
        .ok(
            &admin,
            Method::PATCH,
            &path,
            json!({"maxQueueWaitSecs": 0, "maxQueued": 5, "queueFullMessage": "Full, sorry."}),
        )
        .await;
    assert_eq!(
        (
            edited["maxQueueWaitSecs"].as_u64(),
            edited["maxQueued"].as_u64(),
            edited["queueFullMessage"].as_str(),
            edited["queueWaitMessage"].as_str(),
        ),
        (
            Some(0),
            Some(5),
            Some("Full, sorry."),
            shown["queueWaitMessage"].as_str()
        ),
        "{edited}"
    );
    // On creation too.
    let (status, out) = s
        .call(
            &admin,
            Method::POST,
            "/skill-groups",
            Some(json!({"name": "sales", "receptionLimit": 1, "maxQueued": 0})),
        )
        .await;
    assert_eq!(
        (status, field_of(&out)),
        (StatusCode::BAD_REQUEST, "maxQueued")
    );
    let created = s
        .ok(
            &admin,
            Method::POST,
            "/skill-groups",
            json!({"name": "sales", "receptionLimit": 1, "maxQueueWaitSecs": 600, "maxQueued": 7}),
        )
        .await;
    assert_eq!(
        (
            created["maxQueueWaitSecs"].as_u64(),
            created["maxQueued"].as_u64()
        ),
        (Some(600), Some(7))
    );
}

#[tokio::test]
async fn a_full_queue_refuses_the_next_user_and_tells_them() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, true, true)).await;
    let g = end.group;
    s.ok(
        &admin,
        Method::PATCH,
        &format!("/skill-groups/{g}"),
        json!({"maxQueued": 1, "queueFullMessage": "The queue is full, sorry."}),
    )
    .await;
    let mut first = user(&s, &end, "u1").await;
    first.send(text("m1", "hello")).await;
    first.until(of_type("queue")).await;

    let mut second = user(&s, &end, "u2").await;
    second.send(text("m1", "hello")).await;
    let told = second
        .until(|f| f["body"]["text"] == "The queue is full, sorry.")
        .await;
    assert_eq!(told["from"], "desk", "{told}");
    second.until(src("20")).await;

    let records = s.get(&admin, "/records?limit=10").await;
    let records = records["records"].as_array().unwrap();
    let refused: Vec<&Value> = records.iter().filter(|r| r["userId"] == "u2").collect();
    assert_eq!(refused.len(), 1, "{records:?}");
    assert_eq!(refused[0]["closeBy"], "timer", "{:?}", refused[0]);
    let metrics = scrape(&s).await;
    let line = format!("helpline_queue_full_refusals_total{{app=\"1\",group=\"{g}\"}} 1");
    assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
}

#[tokio::test]
async fn a_transfer_into_a_full_group_is_refused_and_the_agent_keeps_the_chat() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, true, true)).await;
    let full = s.group(&admin, "full").await;
    s.ok(
        &admin,
        Method::PATCH,
        &format!("/skill-groups/{full}"),
        json!({"maxQueued": 1}),
    )
    .await;
    // A second number whose users wait in the full group (nobody serves it).
    s.ok(
        &admin,
        Method::POST,
        "/channels",
        json!({"name": "Full", "kind": {"type": "in_app", "userId": "full-desk"}, "skillGroup": full}),
    )
    .await;
    let now = s.state.clock.now_ms() / 1_000;
    let token = user_token(&end.secret, 1, "waiting", now + 3_600);
    let mut waiting = s.user_socket(&token, "").await;
    waiting
        .send(json!({"type": "send", "to": "full-desk", "msgId": "w1",
                     "body": {"type": "text", "text": "hello"}}))
        .await;
    waiting.until(of_type("queue")).await;

    let (_, agent_token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
    let mut agent = s.agent_socket(&agent_token).await;
    let mut served = user(&s, &end, "u1").await;
    served.send(text("m1", "hello")).await;
    let offer = agent.until(of_type("offer")).await;
    let session = offer["sessionId"].as_u64().unwrap();
    agent
        .send(json!({"type": "accept", "sessionId": session}))
        .await;
    agent.until(of_type("seated")).await;

    agent
        .send(json!({"type": "transfer_to_group", "sessionId": session, "groupId": full}))
        .await;
    let answer = agent
        .until(|v| {
            (v["type"] == "ok" || v["type"] == "error") && v["command"] == "transfer_to_group"
        })
        .await;
    assert_eq!(answer["type"], "error", "{answer}");
    assert!(
        answer.to_string().contains("full"),
        "the error says why: {answer}"
    );
    // The agent keeps the chat: it can still write to the user.
    agent
        .send(json!({"type": "send", "sessionId": session, "msgId": "a1",
                     "body": {"type": "text", "text": "still here"}}))
        .await;
    served.until(|f| f["body"]["text"] == "still here").await;
    let metrics = scrape(&s).await;
    let line = format!("helpline_queue_full_refusals_total{{app=\"1\",group=\"{full}\"}} 1");
    assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
}
