//! Scopes that a caller must not reach past, over real HTTP and WebSockets on loopback: a
//! team lead cannot pull an agent of another group into its own, another app's session is
//! answered as unknown and left asleep, and a proactive contact does not hand the agent what
//! the user said before it.

mod common;

use common::*;
use helpline::domain::ids::SessionId;
use helpline::engine::registry::SessionSlot;
use helpline::log::EventLog;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn answer(agent: &mut Ws, command: &'static str) -> Value {
    agent
        .until(move |v| (v["type"] == "ok" || v["type"] == "error") && v["command"] == command)
        .await
}

/// A lead scoped to "presales" may set members of its group only among agents it sees: Bob
/// of "aftersales" stays out of reach (and so out of its password resets).
#[tokio::test]
async fn a_scoped_lead_cannot_add_an_agent_outside_its_groups() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let presales = s.group(&admin, "presales").await;
    let aftersales = s.group(&admin, "aftersales").await;
    let (ann, _) = s.agent(&admin, "ann@example.com", 2, &[presales]).await;
    let (bob, _) = s.agent(&admin, "bob@example.com", 2, &[aftersales]).await;
    let role = s
        .ok(
            &admin,
            Method::POST,
            "/roles",
            json!({"name": "presales lead", "scopes": [
                {"module": "agents", "groups": [presales]},
                {"module": "skill_groups", "groups": [presales]}]}),
        )
        .await;
    let (_, lead) = s
        .agent(
            &admin,
            "lead@example.com",
            role["id"].as_u64().unwrap(),
            &[presales],
        )
        .await;

    let (status, body) = s
        .call(
            &lead,
            Method::PUT,
            &format!("/skill-groups/{presales}/members/{bob}"),
            Some(json!({"priority": 2})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let group = s.get(&admin, &format!("/skill-groups/{presales}")).await;
    let members: Vec<u64> = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["agentId"].as_u64().unwrap())
        .collect();
    assert!(!members.contains(&bob), "refused, yet added: {group}");
    let (status, body) = s
        .call(
            &lead,
            Method::POST,
            &format!("/agents/{bob}/password-reset"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "still out of reach: {body}");

    // Within its range it still sets priorities; the administrator adds anyone.
    s.ok(
        &lead,
        Method::PUT,
        &format!("/skill-groups/{presales}/members/{ann}"),
        json!({"priority": 1}),
    )
    .await;
    s.ok(
        &admin,
        Method::PUT,
        &format!("/skill-groups/{presales}/members/{bob}"),
        json!({}),
    )
    .await;
    s.stop().await;
}

/// An agent of app 2 naming a session of app 1 hears what it would hear of a session that
/// does not exist, and the session waiting in app 1's queue is not woken.
#[tokio::test]
async fn another_apps_session_is_unknown_and_stays_asleep() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let now = s.state.clock.now_ms() / 1_000;
    let token = user_token(&end.secret, 1, "u1", now + 600);
    let mut user = s.user_socket(&token, "").await;
    user.send(json!({"type": "send", "to": "desk", "msgId": "m1", "body": {"type": "text", "text": "hello"}}))
        .await;
    user.until(of_type("queue")).await;
    let waiting: Vec<SessionId> = s
        .engine
        .shared()
        .registry
        .sessions
        .iter()
        .map(|e| *e.key())
        .collect();
    assert_eq!(waiting.len(), 1);
    let session = waiting[0];
    let asleep = || {
        matches!(
            s.engine.shared().registry.sessions.get(&session).as_deref(),
            Some(SessionSlot::Waiting(_))
        )
    };
    assert!(asleep(), "a queued session waits without an actor");

    let created = s
        .ok(
            &admin,
            Method::POST,
            "/apps",
            json!({"name": "second desk", "adminEmail": "boss@second.example"}),
        )
        .await;
    let password = created["adminPassword"].as_str().unwrap();
    let (_, body) = s.login("boss@second.example", password).await;
    let changed = s
        .ok(
            body["token"].as_str().unwrap(),
            Method::POST,
            "/auth/password",
            json!({"currentPassword": password, "newPassword": "second-admin-password"}),
        )
        .await;
    // A password change ends that sign-in and answers a fresh one.
    let other = changed["token"].as_str().unwrap().to_owned();
    let theirs = s.group(&other, "theirs").await;
    let (_, eve_token) = s.agent(&other, "eve@second.example", 2, &[theirs]).await;
    let mut eve = s.agent_socket(&eve_token).await;

    let unknown = json!(session.0 + 1_000);
    for (command, extra) in [
        ("accept", json!({})),
        ("end", json!({})),
        ("typing", json!({})),
        ("invite_rating", json!({})),
        ("transfer_to_group", json!({"groupId": theirs})),
        (
            "send",
            json!({"msgId": "x", "body": {"type": "text", "text": "hi"}}),
        ),
    ] {
        let mut seen = Vec::new();
        for id in [json!(session.0), unknown.clone()] {
            let mut frame = json!({"type": command, "sessionId": id});
            frame
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            eve.send(frame).await;
            let e = answer(&mut eve, command).await;
            assert_eq!(e["type"], "error", "{command}: {e}");
            seen.push(e["error"].clone());
        }
        assert_eq!(
            seen,
            [json!("not_found"), json!("not_found")],
            "{command}: another app's session answered as an unknown one"
        );
        assert!(asleep(), "{command} woke another app's session");
    }
    s.stop().await;
}

/// An agent contacting a user proactively sees the conversation from its contact on: what
/// the user told another agent before is not handed over with the seat.
#[tokio::test]
async fn a_proactive_contact_sees_only_what_follows_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let outbound = s.group(&admin, "outbound").await;
    s.ok(
        &admin,
        Method::POST,
        "/channels",
        json!({"name": "Sales", "kind": {"type": "in_app", "userId": "sales", "proactiveGroup": outbound},
               "skillGroup": outbound}),
    )
    .await;
    s.ok(
        &admin,
        Method::PUT,
        "/settings/proactive",
        json!({"enabled": true, "timeoutSecs": 600}),
    )
    .await;
    let (_, ann_token) = s.agent(&admin, "ann@example.com", 2, &[outbound]).await;
    let (_, bob_token) = s.agent(&admin, "bob@example.com", 2, &[outbound]).await;
    let mut ann = s.agent_socket(&ann_token).await;

    // The user tells Ann something through "sales"; she ends the chat.
    let now = s.state.clock.now_ms() / 1_000;
    let token = user_token(&end.secret, 1, "u1", now + 600);
    let mut user = s.user_socket(&token, "").await;
    user.send(json!({"type": "send", "to": "sales", "msgId": "m1",
                     "body": {"type": "text", "text": "my account number is 4242"}}))
        .await;
    let offer = ann.until(of_type("offer")).await;
    let session = offer["sessionId"].as_u64().unwrap();
    ann.send(json!({"type": "accept", "sessionId": session}))
        .await;
    assert_eq!(answer(&mut ann, "accept").await["type"], "ok");
    let transcript = ann.until(of_type("transcript")).await;
    assert!(
        transcript.to_string().contains("4242"),
        "the agent serving the user sees it: {transcript}"
    );
    ann.send(json!({"type": "end", "sessionId": session})).await;
    assert_eq!(answer(&mut ann, "end").await["type"], "ok");

    // Bob names the same user: his seat comes without the earlier conversation.
    let mut bob = s.agent_socket(&bob_token).await;
    bob.send(json!({"type": "proactive", "userId": "u1", "virtualNumber": "sales"}))
        .await;
    let started = answer(&mut bob, "proactive").await;
    assert_eq!(started["type"], "ok", "{started}");
    let transcript = bob.until(of_type("transcript")).await;
    assert!(
        !transcript.to_string().contains("4242"),
        "a proactive contact read the user's earlier conversation: {transcript}"
    );
    // What follows the contact is his to see.
    bob.send(
        json!({"type": "send", "sessionId": started["sessionId"], "msgId": "b1",
                    "body": {"type": "text", "text": "hello again"}}),
    )
    .await;
    assert_eq!(answer(&mut bob, "send").await["type"], "ok");
    let heard = user.until(|v| v.to_string().contains("hello again")).await;
    assert!(heard.to_string().contains("hello again"));
    s.stop().await;
}

/// A full disk stalls the log: `/readyz` answers 503 with the error and the gauge says 0,
/// the write waiting on it is not acknowledged; once the disk takes writes again the write
/// completes without a restart, the desk is ready again, and a restart finds the write.
#[tokio::test]
async fn a_full_disk_makes_the_desk_unready_until_writes_succeed_again() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_like_serve(dir.path()).await;
    let admin = s.admin().await;
    let root = s.base.trim_end_matches("/api/v1").to_owned();
    let probe = |path: &'static str| {
        let (http, url) = (s.http.clone(), format!("{root}{path}"));
        async move {
            let response = http.get(url).send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    let (status, body) = probe("/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ready: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (ready["ready"].clone(), ready["log"]["writable"].clone()),
        (json!(true), json!(true))
    );

    s.log.inject_write_failures(true);
    let held = {
        let request = s
            .http
            .post(format!("{}/skill-groups", s.base))
            .bearer_auth(&admin)
            .json(&json!({"name": "held", "receptionLimit": 2}));
        tokio::spawn(async move { request.send().await.unwrap().status() })
    };
    let mut spins = 0;
    while s.log.health().writable {
        spins += 1;
        assert!(spins < 1_000_000, "the write never reached the log");
        tokio::task::yield_now().await;
    }
    let (status, body) = probe("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let ready: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["ready"], false, "{ready}");
    assert_eq!(ready["log"]["writable"], false, "{ready}");
    assert!(
        ready["log"]["error"]
            .as_str()
            .unwrap()
            .contains("No space left"),
        "{ready}"
    );
    let (_, metrics) = probe("/metrics").await;
    assert!(metrics.contains("helpline_log_writable 0"), "{metrics}");
    let (status, _) = probe("/healthz").await;
    assert_eq!(status, StatusCode::OK, "the process itself is alive");
    assert!(
        !held.is_finished(),
        "a write answered before it was durable"
    );

    s.log.inject_write_failures(false);
    assert!(held.await.unwrap().is_success());
    let (status, body) = probe("/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, metrics) = probe("/metrics").await;
    assert!(metrics.contains("helpline_log_writable 1"), "{metrics}");
    s.stop().await;

    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let groups = s.get(&admin, "/skill-groups").await;
    assert!(
        groups
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "held"),
        "the write made durable after the stall is kept: {groups}"
    );
    s.stop().await;
}
