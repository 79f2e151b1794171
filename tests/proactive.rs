//! Proactive contact over real WebSockets on loopback: an agent of a virtual number's
//! proactive skill group starts a chat with an in-app user; the rule, the group, the agent's
//! presence and the user's live session are checked first; a finished conversation is
//! contacted again through its own virtual number.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn answer(agent: &mut Ws, command: &'static str) -> Value {
    agent
        .until(move |v| (v["type"] == "ok" || v["type"] == "error") && v["command"] == command)
        .await
}

fn seat(v: &Value, which: &str) -> bool {
    src("26")(v) && desk_data(v).unwrap()["content"]["content"] == which
}

#[tokio::test]
async fn an_agent_of_the_proactive_group_starts_a_chat_and_nobody_else_can() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let outbound = s.group(&admin, "outbound").await;
    // A virtual number whose proactive group is "outbound"; the user end's own has none.
    s.ok(
        &admin,
        Method::POST,
        "/channels",
        json!({"name": "Sales", "kind": {"type": "in_app", "userId": "sales", "proactiveGroup": outbound},
               "skillGroup": end.group}),
    )
    .await;
    let (ann_id, ann_token) = s.agent(&admin, "ann@example.com", 2, &[outbound]).await;
    let (_, bob_token) = s.agent(&admin, "bob@example.com", 2, &[end.group]).await;
    let mut ann = s.agent_socket(&ann_token).await;
    let mut bob = s.agent_socket(&bob_token).await;
    let start = json!({"type": "proactive", "userId": "u1", "virtualNumber": "sales"});

    // The rule: off by default; its timeout must be within 60..=86400 s.
    ann.send(start.clone()).await;
    let e = answer(&mut ann, "proactive").await;
    assert_eq!(e["error"], "proactive_disabled", "{e}");
    for bad in [59, 86_401, 0] {
        let (status, body) = s
            .call(
                &admin,
                Method::PUT,
                "/settings/proactive",
                Some(json!({"enabled": true, "timeoutSecs": bad})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(field_of(&body), "timeoutSecs");
    }
    assert_eq!(
        s.get(&admin, "/settings/proactive").await["enabled"],
        false,
        "a refusal changes nothing"
    );
    s.ok(
        &admin,
        Method::PUT,
        "/settings/proactive",
        json!({"enabled": true, "timeoutSecs": 600}),
    )
    .await;

    // Not in the proactive group; a number without one; an unknown number; half a target.
    bob.send(start.clone()).await;
    assert_eq!(
        answer(&mut bob, "proactive").await["error"],
        "not_in_proactive_group"
    );
    for (frame, field) in [
        (
            json!({"type": "proactive", "userId": "u1", "virtualNumber": "desk"}),
            "virtualNumber",
        ),
        (
            json!({"type": "proactive", "userId": "u1", "virtualNumber": "nope"}),
            "virtualNumber",
        ),
        (
            json!({"type": "proactive", "userId": "u1"}),
            "virtualNumber",
        ),
        (
            json!({"type": "proactive", "userId": "", "virtualNumber": "sales"}),
            "userId",
        ),
        (json!({"type": "proactive"}), "userId"),
    ] {
        ann.send(frame.clone()).await;
        let e = answer(&mut ann, "proactive").await;
        assert_eq!(
            (e["type"].as_str(), e["field"].as_str()),
            (Some("error"), Some(field)),
            "{frame}: {e}"
        );
    }
    // Offline agents contact nobody; busy ones may.
    ann.send(json!({"type": "offline"})).await;
    answer(&mut ann, "offline").await;
    ann.send(start.clone()).await;
    assert_eq!(answer(&mut ann, "proactive").await["error"], "conflict");
    ann.send(json!({"type": "online"})).await;
    answer(&mut ann, "online").await;
    ann.send(json!({"type": "status", "status": "busy"})).await;
    answer(&mut ann, "status").await;

    // Allowed: in service at once; the user hears the agent through the "sales" number.
    let now = s.state.clock.now_ms() / 1_000;
    let token = user_token(&end.secret, 1, "u1", now + 600);
    let mut user = s.user_socket(&token, "").await;
    ann.send(start.clone()).await;
    let ok = answer(&mut ann, "proactive").await;
    assert_eq!(ok["type"], "ok", "{ok}");
    let session = ok["sessionId"].as_u64().unwrap();
    let seated = ann.until(of_type("seated")).await;
    assert_eq!(
        (seated["sessionId"].as_u64(), seated["user"].as_str()),
        (Some(session), Some("u1"))
    );
    ann.send(json!({"type": "send", "sessionId": session, "msgId": "hi", "body": {"type": "text", "text": "Your order shipped. Questions?"}}))
        .await;
    assert_eq!(answer(&mut ann, "send").await["type"], "ok");
    let hello = user
        .until(|v| v["type"] == "message" && v["msgId"] == "hi")
        .await;
    assert_eq!(hello["from"], "sales");
    user.until(|v| seat(v, "inSeat")).await;
    // A second start while the session lives is refused.
    ann.send(start.clone()).await;
    assert_eq!(answer(&mut ann, "proactive").await["error"], "conflict");
    // The user answers through the same number and reaches the agent.
    user.send(json!({"type": "send", "to": "sales", "msgId": "u-1", "body": {"type": "text", "text": "When will it arrive?"}}))
        .await;
    let got = ann
        .until(|v| v["type"] == "message" && v["msgId"] == "u-1")
        .await;
    assert_eq!(got["sessionId"].as_u64(), Some(session));
    ann.send(json!({"type": "end", "sessionId": session})).await;
    assert_eq!(answer(&mut ann, "end").await["type"], "ok");
    ann.until(of_type("ended")).await;
    // Ann served it: her own records list it, with her, taken when she started it.
    let mine = s.get(&ann_token, "/records").await;
    let record = mine["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["sessionId"].as_u64() == Some(session))
        .unwrap_or_else(|| panic!("{session} not in her records: {mine}"));
    assert_eq!(record["agentIds"], json!([ann_id]), "{record}");
    assert!(record["acceptedAtMs"].as_i64().is_some(), "{record}");

    // Contact the user of the finished conversation again, through its number.
    let conversation = seated["conversationId"].as_u64().unwrap();
    ann.send(json!({"type": "proactive", "conversationId": conversation}))
        .await;
    let again = answer(&mut ann, "proactive").await;
    assert_eq!(again["type"], "ok", "{again}");
    assert_ne!(again["sessionId"].as_u64(), Some(session));
    let reseated = ann
        .until(|v| v["type"] == "seated" && v["sessionId"] == again["sessionId"])
        .await;
    assert_eq!(reseated["conversationId"].as_u64(), Some(conversation));
    ann.send(json!({"type": "proactive", "conversationId": 987_654}))
        .await;
    assert_eq!(answer(&mut ann, "proactive").await["error"], "not_found");
    // Bob cannot reach another app's or an unknown conversation, nor use Ann's group.
    bob.send(json!({"type": "proactive", "conversationId": conversation}))
        .await;
    assert_eq!(answer(&mut bob, "proactive").await["type"], "error");
    s.stop().await;
}
