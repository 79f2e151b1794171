//! The agent end over real WebSockets on loopback (issue 5, as far as it goes): transfers to a
//! skill group and to a named agent, with the user's seat status following; rest with an
//! enabled reason only; quick replies sent as text; refusals naming their field.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

/// The agent's answer (`ok` or `error`) to its command `command`.
async fn answer(agent: &mut Ws, command: &'static str) -> Value {
    agent
        .until(move |v| (v["type"] == "ok" || v["type"] == "error") && v["command"] == command)
        .await
}

/// Takes the next offer; answers the session id.
async fn take(agent: &mut Ws) -> u64 {
    let offer = agent.until(of_type("offer")).await;
    let session = offer["sessionId"].as_u64().unwrap();
    agent
        .send(json!({"type": "accept", "sessionId": session}))
        .await;
    assert_eq!(answer(agent, "accept").await["type"], "ok");
    session
}

fn seat(v: &Value, which: &str) -> bool {
    src("26")(v) && desk_data(v).unwrap()["content"]["content"] == which
}

#[tokio::test]
async fn transfers_move_the_session_and_the_seat_follows() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let other = s.group(&admin, "second line").await;
    let (ann_id, ann_token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
    let (_, bob_token) = s.agent(&admin, "bob@example.com", 2, &[other]).await;
    let mut ann = s.agent_socket(&ann_token).await;
    let mut bob = s.agent_socket(&bob_token).await;
    let now = s.state.clock.now_ms() / 1_000;
    let token = user_token(&end.secret, 1, "u1", now + 600);
    let mut user = s.user_socket(&token, "").await;
    user.send(json!({"type": "send", "to": "desk", "msgId": "m1", "body": {"type": "text", "text": "hello"}}))
        .await;
    let session = take(&mut ann).await;
    user.until(|v| seat(v, "inSeat")).await;

    // Ann hands it to the second line: out of seat, Bob is offered it, takes it.
    ann.send(json!({"type": "transfer_to_group", "sessionId": session, "groupId": other}))
        .await;
    assert_eq!(answer(&mut ann, "transfer_to_group").await["type"], "ok");
    let released = ann.until(of_type("released")).await;
    assert_eq!(released["sessionId"].as_u64(), Some(session));
    assert_eq!(released["reason"], "transferred");
    user.until(|v| seat(v, "outSeat")).await;
    let offer = bob.until(of_type("offer")).await;
    assert_eq!(offer["transferredBy"].as_u64(), Some(ann_id), "{offer}");
    bob.pending_push(offer);
    assert_eq!(take(&mut bob).await, session);
    user.until(|v| seat(v, "inSeat")).await;
    // Ann may no longer write into it.
    ann.send(json!({"type": "send", "sessionId": session, "msgId": "late", "body": {"type": "text", "text": "x"}}))
        .await;
    assert_eq!(answer(&mut ann, "send").await["error"], "conflict");

    // Bob sees where he can hand it: the groups with their free agents, Ann with her status.
    let targets = s.get(&bob_token, "/workstation/transfer-targets").await;
    let groups: Vec<(u64, u64)> = targets["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["id"].as_u64().unwrap(), g["freeAgents"].as_u64().unwrap()))
        .collect();
    assert!(
        groups.contains(&(end.group, 1)) && groups.contains(&(other, 1)),
        "{targets}"
    );
    let agents = targets["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 1, "everyone but Bob: {targets}");
    assert_eq!(
        (agents[0]["id"].as_u64(), agents[0]["status"].as_str()),
        (Some(ann_id), Some("free"))
    );

    // Bob hands it back to Ann by name.
    bob.send(json!({"type": "transfer_to_agent", "sessionId": session, "agentId": ann_id}))
        .await;
    assert_eq!(answer(&mut bob, "transfer_to_agent").await["type"], "ok");
    assert_eq!(take(&mut ann).await, session);
    user.until(|v| seat(v, "inSeat")).await;
    ann.send(json!({"type": "send", "sessionId": session, "msgId": "back", "body": {"type": "text", "text": "I am back"}}))
        .await;
    assert_eq!(answer(&mut ann, "send").await["type"], "ok");
    let back = user
        .until(|v| v["type"] == "message" && v["msgId"] == "back")
        .await;
    assert_eq!(back["body"]["text"], "I am back");

    // Refusals: to oneself, to an unknown group, a session of someone else.
    ann.send(json!({"type": "transfer_to_agent", "sessionId": session, "agentId": ann_id}))
        .await;
    let e = answer(&mut ann, "transfer_to_agent").await;
    assert_eq!(e["field"], "userId", "{e}");
    ann.send(json!({"type": "transfer_to_group", "sessionId": session, "groupId": 999_999}))
        .await;
    assert_eq!(
        answer(&mut ann, "transfer_to_group").await["error"],
        "not_found"
    );
    bob.send(json!({"type": "transfer_to_group", "sessionId": session, "groupId": end.group}))
        .await;
    assert_eq!(answer(&mut bob, "transfer_to_group").await["type"], "error");
    s.stop().await;
}

#[tokio::test]
async fn rest_takes_an_enabled_reason_and_quick_replies_send_their_text() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    s.ok(
        &admin,
        Method::POST,
        "/settings/rest-reasons",
        json!({"name": "lunch"}),
    )
    .await;
    s.ok(
        &admin,
        Method::POST,
        "/settings/rest-reasons",
        json!({"name": "gym", "enabled": false}),
    )
    .await;
    let reply = s
        .ok(
            &admin,
            Method::POST,
            "/quick-replies",
            json!({"group": "greetings", "title": "hi", "content": "Hello! How can I help?"}),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    let (_, token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
    let mut ann = s.agent_socket(&token).await;

    for (frame, field) in [
        (json!({"type": "status", "status": "rest"}), "reason"),
        (
            json!({"type": "status", "status": "rest", "reason": "gym"}),
            "reason",
        ),
        (
            json!({"type": "status", "status": "rest", "reason": "nap"}),
            "reason",
        ),
        (
            json!({"type": "status", "status": "free", "reason": "lunch"}),
            "reason",
        ),
        (json!({"type": "status", "status": "asleep"}), "status"),
    ] {
        ann.send(frame.clone()).await;
        let e = answer(&mut ann, "status").await;
        assert_eq!(
            (e["type"].as_str(), e["field"].as_str()),
            (Some("error"), Some(field)),
            "{frame}: {e}"
        );
    }
    ann.send(json!({"type": "status", "status": "rest", "reason": "lunch"}))
        .await;
    assert_eq!(answer(&mut ann, "status").await["type"], "ok");
    ann.send(json!({"type": "status", "status": "free"})).await;
    assert_eq!(answer(&mut ann, "status").await["type"], "ok");

    let now = s.state.clock.now_ms() / 1_000;
    let user_token = user_token(&end.secret, 1, "u1", now + 600);
    let mut user = s.user_socket(&user_token, "").await;
    user.send(json!({"type": "send", "to": "desk", "msgId": "m1", "body": {"type": "text", "text": "hello"}}))
        .await;
    let session = take(&mut ann).await;
    ann.send(
        json!({"type": "quick_reply", "sessionId": session, "msgId": "q1", "quickReplyId": reply}),
    )
    .await;
    assert_eq!(answer(&mut ann, "quick_reply").await["type"], "ok");
    let got = user
        .until(|v| v["type"] == "message" && v["msgId"] == "q1")
        .await;
    assert_eq!(got["body"]["text"], "Hello! How can I help?");
    ann.send(json!({"type": "quick_reply", "sessionId": session, "msgId": "q2", "quickReplyId": 999_999}))
        .await;
    assert_eq!(
        answer(&mut ann, "quick_reply").await["field"],
        "quickReplyId"
    );
    s.stop().await;
}
