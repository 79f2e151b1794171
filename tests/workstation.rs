//! The agent's workstation stream over real WebSockets on loopback: every event numbered
//! (`feedSeq`) with no gap, a `state` frame first, the whole chat (offer, accept, messages
//! and typing both ways, a card, ends by the agent and by the user), a forced sign-out by a
//! second sign-in, a socket dropped at many points that resumes with exactly the stream a
//! socket that never dropped saw, bad frames that change nothing, and the REST commands.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The agent's answer (`ok` or `error`) to its command `command`.
async fn answer(agent: &mut Ws, command: &'static str) -> Value {
    agent
        .until(move |v| (v["type"] == "ok" || v["type"] == "error") && v["command"] == command)
        .await
}

fn flag(id: &str, data: Value) -> Value {
    json!({"type": "send", "to": "desk", "msgId": id, "onlineUserOnly": true, "body": desk_body(data)})
}

fn text(id: &str, text: &str) -> Value {
    json!({"type": "send", "to": "desk", "msgId": id, "body": {"type": "text", "text": text}})
}

fn plugin(src: &str) -> Value {
    json!({"customerServicePlugin": 0, "src": src})
}

/// A socket of the agent, with no command sent: its first frame is the `state` frame.
async fn raw_socket(s: &Server, token: &str, resume: Option<(&str, u64)>) -> Ws {
    let query = match resume {
        Some((feed, seq)) => format!("&resume={feed}:{seq}"),
        None => String::new(),
    };
    s.agent_ws(token, &query).await.unwrap()
}

/// The numbered frames a socket saw, checked to follow `after` one by one.
fn numbered(seen: &[Value], after: u64) -> Vec<Value> {
    let frames: Vec<Value> = seen
        .iter()
        .filter(|v| v["type"] != "state" && v.get("feedSeq").is_some())
        .cloned()
        .collect();
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f["feedSeq"].as_u64(), Some(after + 1 + i as u64), "{f}");
    }
    frames
}

#[tokio::test]
async fn a_shift_over_the_socket_numbers_every_event() {
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
    let (_, token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;

    let mut ann = raw_socket(&s, &token, None).await;
    let state = ann.next().await;
    assert_eq!(state["type"], "state", "{state}");
    assert_eq!(
        (state["online"].as_bool(), state["status"].as_str()),
        (Some(false), Some("offline"))
    );
    assert_eq!(state["resumed"], false);
    assert!(state["feed"].as_str().is_some_and(|f| !f.is_empty()));
    let start = state["feedSeq"].as_u64().unwrap();

    ann.send(json!({"type": "online", "ref": "r-1"})).await;
    let ok = answer(&mut ann, "online").await;
    assert_eq!(
        (ok["type"].as_str(), ok["ref"].as_str()),
        (Some("ok"), Some("r-1"))
    );
    assert!(
        ok.get("feedSeq").is_none(),
        "replies are not numbered: {ok}"
    );
    let status = ann.until(of_type("status")).await;
    assert_eq!(
        (status["online"].as_bool(), status["status"].as_str()),
        (Some(true), Some("free"))
    );

    // A user writes: the offer names the channel and its countdown.
    let now = s.state.clock.now_ms();
    let user_token = user_token(&end.secret, 1, "u1", now / 1_000 + 600);
    let mut user = s.user_socket(&user_token, "").await;
    user.send(text("m1", "hello")).await;
    let offer = ann.until(of_type("offer")).await;
    let session = offer["sessionId"].as_u64().unwrap();
    assert_eq!(offer["user"], "u1");
    assert_eq!(offer["channelName"], "Support");
    assert_eq!(offer["transferredBy"], Value::Null);
    let deadline = offer["deadlineMs"].as_i64().unwrap();
    assert!(
        deadline >= now + 29_000 && deadline <= now + 31_000 + 5_000,
        "{offer}"
    );

    ann.send(json!({"type": "accept", "sessionId": session}))
        .await;
    assert_eq!(answer(&mut ann, "accept").await["type"], "ok");
    let seated = ann.until(of_type("seated")).await;
    assert_eq!(
        (seated["sessionId"].as_u64(), seated["user"].as_str()),
        (Some(session), Some("u1"))
    );
    let transcript = ann.until(of_type("transcript")).await;
    assert_eq!(transcript["messages"][0]["body"]["text"], "hello");

    // A second socket of the same agent starts from the view: the session in hand.
    let mut second = raw_socket(&s, &token, None).await;
    let view = second.next().await;
    assert_eq!(
        view["sessions"][0]["sessionId"].as_u64(),
        Some(session),
        "{view}"
    );
    assert_eq!(view["sessions"][0]["user"], "u1");
    assert_eq!(view["offers"], json!([]));
    assert_eq!(view["status"], "free");
    second.close().await;

    // Both ways: the user types and writes; the agent types, writes and sends a card.
    user.send(flag("t1", plugin("12"))).await;
    let typing = ann.until(of_type("typing")).await;
    assert_eq!(typing["sessionId"].as_u64(), Some(session));
    user.send(text("m2", "my order is late")).await;
    let got = ann
        .until(|v| v["type"] == "message" && v["msgId"] == "m2")
        .await;
    assert_eq!(
        (got["from"].as_str(), got["body"]["text"].as_str()),
        (Some("user"), Some("my order is late"))
    );
    ann.send(json!({"type": "typing", "sessionId": session}))
        .await;
    assert_eq!(answer(&mut ann, "typing").await["type"], "ok");
    user.until(src("12")).await;
    ann.send(json!({"type": "send", "sessionId": session, "msgId": "a1", "body": {"type": "text", "text": "Let me check"}}))
        .await;
    assert_eq!(answer(&mut ann, "send").await["seq"], 3);
    assert_eq!(
        user.until(|v| v["type"] == "message" && v["msgId"] == "a1")
            .await["body"]["text"],
        "Let me check"
    );
    let card = json!({"customerServicePlugin": 0, "src": "22",
        "content": {"header": "Order 42", "desc": "shipped today", "pic": "https://shop.example.com/42.png", "url": "https://shop.example.com/orders/42"}});
    ann.send(json!({"type": "send", "sessionId": session, "msgId": "a2", "body": desk_body(card.clone())}))
        .await;
    assert_eq!(answer(&mut ann, "send").await["type"], "ok");
    assert_eq!(desk_data(&user.until(src("22")).await).unwrap(), card);

    // The agent ends it.
    ann.send(json!({"type": "end", "sessionId": session})).await;
    assert_eq!(answer(&mut ann, "end").await["type"], "ok");
    let ended = ann.until(of_type("ended")).await;
    assert_eq!(
        (ended["sessionId"].as_u64(), ended["closeBy"].as_str()),
        (Some(session), Some("seat"))
    );

    // The user writes again and then ends it (src 27).
    user.send(text("m3", "one more thing")).await;
    let offer = ann.until(of_type("offer")).await;
    let second_session = offer["sessionId"].as_u64().unwrap();
    assert_ne!(second_session, session);
    ann.send(json!({"type": "accept", "sessionId": second_session}))
        .await;
    assert_eq!(answer(&mut ann, "accept").await["type"], "ok");
    ann.until(of_type("seated")).await;
    user.send(flag("e1", plugin("27"))).await;
    let ended = ann.until(of_type("ended")).await;
    assert_eq!(
        (ended["sessionId"].as_u64(), ended["closeBy"].as_str()),
        (Some(second_session), Some("client"))
    );

    // Status changes are events too.
    ann.send(json!({"type": "status", "status": "rest", "reason": "lunch"}))
        .await;
    assert_eq!(answer(&mut ann, "status").await["type"], "ok");
    let rest = ann
        .until(|v| v["type"] == "status" && v["status"] == "rest")
        .await;
    assert_eq!(rest["restReason"], "lunch");
    ann.send(json!({"type": "offline"})).await;
    assert_eq!(answer(&mut ann, "offline").await["type"], "ok");
    ann.until(|v| v["type"] == "status" && v["status"] == "offline")
        .await;

    // Every numbered frame followed the one before; the kinds came in the order they happened.
    let frames = numbered(&ann.seen, start);
    let kinds: Vec<&str> = frames.iter().map(|f| f["type"].as_str().unwrap()).collect();
    let expected = [
        "status",
        "offer",
        "seated",
        "transcript",
        "typing",
        "message",
        "message",
        "message",
        "ended",
        "offer",
        "seated",
        "transcript",
        "ended",
        "status",
        "status",
    ];
    // The agent's own messages come back to its feed too (the workstation shows them), and
    // the user's first message arrives before the seat is taken; filter to the pinned kinds.
    let pinned: Vec<&str> = kinds
        .iter()
        .copied()
        .filter(|k| expected.contains(k))
        .collect();
    assert_eq!(pinned.first(), Some(&"status"), "{kinds:?}");
    assert_eq!(pinned.last(), Some(&"status"), "{kinds:?}");
    for kind in ["offer", "seated", "ended"] {
        assert_eq!(
            kinds.iter().filter(|k| **k == kind).count(),
            2,
            "{kind}: {kinds:?}"
        );
    }

    // A fresh socket now: nothing in hand, offline.
    let mut fresh = raw_socket(&s, &token, None).await;
    let view = fresh.next().await;
    assert_eq!(
        view["feedSeq"].as_u64(),
        frames.last().unwrap()["feedSeq"].as_u64()
    );
    assert_eq!(
        (view["sessions"].clone(), view["offers"].clone()),
        (json!([]), json!([]))
    );
    assert_eq!(view["status"], "offline");
    s.stop().await;
}

#[tokio::test]
async fn a_second_sign_in_signs_the_first_socket_out() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let (_, token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
    let mut first = s.agent_socket(&token).await;
    let (status, body) = s.login("ann@example.com", "ann-own-password").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rest = first.closed().await;
    let out = rest
        .iter()
        .find(|v| v["type"] == "signed_out")
        .expect("told why");
    assert_eq!(out["cause"], "new_login", "{out}");
    assert!(out["feedSeq"].as_u64().is_some(), "{out}");
    // The old sign-in opens nothing any more; the new one does, and it is not signed out.
    let refused = s.agent_ws(&token, "").await.err().expect("refused");
    assert_eq!(refused.0, 401);
    let fresh = body["token"].as_str().unwrap();
    let mut second = s.agent_socket(fresh).await;
    second.send(json!({"type": "ping", "ref": "p"})).await;
    let pong = second.until(of_type("pong")).await;
    assert_eq!(pong["ref"], "p");
    assert!(second.seen.iter().all(|v| v["type"] != "signed_out"));
    s.stop().await;
}

#[tokio::test]
async fn signing_out_closes_the_sign_ins_sockets_with_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let (_, token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
    let mut socket = s.agent_socket(&token).await;
    socket.until(of_type("state")).await;
    let (status, body) = s.call(&token, Method::POST, "/auth/logout", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    // A signed-out workstation must not go on receiving the desk's traffic.
    let rest = socket.closed().await;
    let out = rest
        .iter()
        .find(|v| v["type"] == "signed_out")
        .expect("told why");
    assert_eq!(out["cause"], "signed_out", "{out}");
    let refused = s.agent_ws(&token, "").await.err().expect("refused");
    assert_eq!(refused.0, 401);
    s.stop().await;
}

#[tokio::test]
async fn a_dropped_socket_resumes_with_the_stream_a_steady_socket_saw() {
    const MESSAGES: usize = 240;
    let dir = tempfile::tempdir().unwrap();
    // The user writes without pause: its message rate is raised out of the way.
    let config = helpline::api::ApiConfig {
        public_url: Some("https://desk.example.com/".to_owned()),
        user_end: helpline::api::user_limits::UserEndLimits {
            messages_per_user: helpline::domain::rate::Rate::new(1_000, 1_000),
            ..Default::default()
        },
        ..Default::default()
    };
    let s = Server::start_with(dir.path(), config).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let (_, token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
    // The steady socket: online, takes the session, then is only read at the end.
    let mut steady = s.agent_socket(&token).await;
    let now = s.state.clock.now_ms() / 1_000;
    let user_token = user_token(&end.secret, 1, "u1", now + 600);
    let mut user = s.user_socket(&user_token, "").await;
    user.send(text("m0", "hello")).await;
    let offer = steady.until(of_type("offer")).await;
    let session = offer["sessionId"].as_u64().unwrap();
    steady
        .send(json!({"type": "accept", "sessionId": session}))
        .await;
    assert_eq!(answer(&mut steady, "accept").await["type"], "ok");
    steady.until(of_type("transcript")).await;

    // The dropping socket's starting point.
    let mut first = raw_socket(&s, &token, None).await;
    let state = first.next().await;
    let feed = state["feed"].as_str().unwrap().to_owned();
    let start = state["feedSeq"].as_u64().unwrap();
    drop(first);

    // The user writes and types without pause.
    let writer = tokio::spawn(async move {
        for i in 1..=MESSAGES {
            if i % 7 == 0 {
                user.send(flag(&format!("t{i}"), plugin("12"))).await;
            }
            user.send(text(&format!("m{i}"), &format!("line {i}")))
                .await;
            user.until(|v| v["type"] == "ack").await;
        }
        user
    });

    let last_id = format!("m{MESSAGES}");
    let mut received: Vec<Value> = Vec::new();
    let mut drops = 0;
    let mut step = 0usize;
    let mut done = false;
    while !done {
        let after = received
            .last()
            .map_or(start, |v| v["feedSeq"].as_u64().unwrap());
        let mut socket = raw_socket(&s, &token, Some((&feed, after))).await;
        let state = socket.next().await;
        assert_eq!(
            (state["type"].as_str(), state["resumed"].as_bool()),
            (Some("state"), Some(true)),
            "{state}"
        );
        // Read a varying number of frames, then drop the socket without a close frame.
        let take = [0, 1, 2, 3, 5, 8, 13, 1, 21, 34][step % 10];
        step += 1;
        for _ in 0..take {
            let v = socket.next().await;
            let expected = received
                .last()
                .map_or(start, |v| v["feedSeq"].as_u64().unwrap())
                + 1;
            assert_eq!(
                v["feedSeq"].as_u64(),
                Some(expected),
                "a gap or a duplicate: {v}"
            );
            done = v["msgId"] == last_id.as_str();
            received.push(v);
            if done {
                break;
            }
        }
        drop(socket);
        drops += 1;
        assert!(drops < 10_000, "no progress");
    }
    writer.await.unwrap();

    // The steady socket saw the same frames, in the same order.
    steady.until(|v| v["msgId"] == last_id.as_str()).await;
    // Counted from the steady socket's state frame: the feed numbers what came before it
    // (the first sign-in's end at the password change).
    let steady_start = steady.seen[0]["feedSeq"].as_u64().unwrap();
    assert_eq!(steady.seen[0]["type"], "state");
    let steady_frames: Vec<Value> = numbered(&steady.seen, steady_start)
        .into_iter()
        .filter(|v| v["feedSeq"].as_u64().unwrap() > start)
        .collect();
    assert_eq!(steady_frames.len(), received.len(), "after {drops} drops");
    assert_eq!(steady_frames, received, "after {drops} drops");
    let lines = received.iter().filter(|v| v["type"] == "message").count();
    let typing = received.iter().filter(|v| v["type"] == "typing").count();
    assert_eq!(
        (lines, typing),
        (MESSAGES, MESSAGES / 7),
        "after {drops} drops"
    );
    s.stop().await;
}

#[tokio::test]
async fn bad_frames_get_an_error_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let (_, ann_token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
    let (_, bob_token) = s.agent(&admin, "bob@example.com", 2, &[]).await;
    let mut ann = s.agent_socket(&ann_token).await;
    let mut bob = s.agent_socket(&bob_token).await;
    let now = s.state.clock.now_ms() / 1_000;
    let user_token = user_token(&end.secret, 1, "u1", now + 600);
    let mut user = s.user_socket(&user_token, "").await;
    user.send(text("m1", "hello")).await;
    let session = ann.until(of_type("offer")).await["sessionId"]
        .as_u64()
        .unwrap();
    ann.send(json!({"type": "accept", "sessionId": session}))
        .await;
    assert_eq!(answer(&mut ann, "accept").await["type"], "ok");
    ann.until(of_type("transcript")).await;
    let conversation = s
        .state
        .hub
        .conversation_of(helpline::domain::ids::SessionId(session))
        .unwrap();
    let stored = || async {
        let slot = s.state.hub.lock(conversation).await.unwrap();
        slot.entry.messages.after(0).len()
    };
    let before = stored().await;
    let ann_id = s.get(&ann_token, "/auth/me").await["agentId"]
        .as_u64()
        .unwrap();
    let view_before = s
        .state
        .hub
        .feeds
        .view(helpline::domain::ids::AgentId(ann_id));

    let oversize = format!(
        r#"{{"type":"send","sessionId":{session},"msgId":"big","body":{{"type":"text","text":"{}"}}}}"#,
        "x".repeat(70_000)
    );
    let cases: Vec<(String, Option<&str>, &str)> = vec![
        ("not json".into(), None, "body"),
        (r#"{"type":"dance"}"#.into(), Some("dance"), "type"),
        (r#"{"type":"accept"}"#.into(), Some("accept"), "sessionId"),
        (
            r#"{"type":"accept","sessionId":"x"}"#.into(),
            Some("accept"),
            "sessionId",
        ),
        (
            r#"{"type":"end","sessionId":1,"extra":true}"#.into(),
            Some("end"),
            "extra",
        ),
        (r#"{"type":"ping","ref":7}"#.into(), Some("ping"), "ref"),
        (oversize, Some("send"), "body"),
    ];
    for (frame, command, field) in &cases {
        ann.send_text(frame.clone()).await;
        let e = ann.until(|v| v["type"] == "error").await;
        assert_eq!(e["command"].as_str(), *command, "{frame:.80}: {e}");
        if *field != "body" || command.is_none() {
            assert_eq!(e["field"].as_str(), Some(*field), "{frame:.80}: {e}");
        }
    }
    ann.send_binary(vec![1, 2, 3]).await;
    assert_eq!(ann.until(of_type("error")).await["type"], "error");
    // A session that does not exist, and a session of another agent.
    ann.send(json!({"type": "end", "sessionId": 999_999})).await;
    assert_eq!(answer(&mut ann, "end").await["type"], "error");
    ann.send(json!({"type": "send", "sessionId": 999_999, "msgId": "x", "body": {"type": "text", "text": "x"}}))
        .await;
    assert_eq!(answer(&mut ann, "send").await["error"], "not_found");
    for frame in [
        json!({"type": "send", "sessionId": session, "msgId": "b1", "body": {"type": "text", "text": "mine now"}}),
        json!({"type": "end", "sessionId": session}),
        json!({"type": "transfer_to_group", "sessionId": session, "groupId": end.group}),
        json!({"type": "typing", "sessionId": session}),
        json!({"type": "invite_rating", "sessionId": session}),
    ] {
        bob.send(frame.clone()).await;
        let command = frame["type"].as_str().unwrap().to_owned();
        let e = bob
            .until(|v| {
                (v["type"] == "ok" || v["type"] == "error") && v["command"] == command.as_str()
            })
            .await;
        assert_eq!(e["type"], "error", "{frame}: {e}");
    }
    // Nothing changed: the stored messages, Ann's view, and the session is still hers.
    assert_eq!(stored().await, before);
    assert_eq!(
        s.state
            .hub
            .feeds
            .view(helpline::domain::ids::AgentId(ann_id)),
        view_before
    );
    ann.send(json!({"type": "send", "sessionId": session, "msgId": "a1", "body": {"type": "text", "text": "still here"}}))
        .await;
    assert_eq!(answer(&mut ann, "send").await["type"], "ok");
    s.stop().await;
}

#[tokio::test]
async fn commands_work_over_rest_too() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let (_, token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
    let mut ann = raw_socket(&s, &token, None).await;
    ann.next().await;
    let (status, body) = s
        .call(
            &token,
            Method::POST,
            "/workstation/commands",
            Some(json!({"type": "online", "ref": "r1"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (
            body["type"].as_str(),
            body["command"].as_str(),
            body["ref"].as_str()
        ),
        (Some("ok"), Some("online"), Some("r1"))
    );
    // What a REST command causes reaches the socket.
    ann.until(|v| v["type"] == "status" && v["status"] == "free")
        .await;
    let (status, body) = s
        .call(
            &token,
            Method::POST,
            "/workstation/commands",
            Some(json!({"type": "status", "status": "asleep"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(field_of(&body), "status");
    let (status, body) = s
        .call(
            &token,
            Method::POST,
            "/workstation/commands",
            Some(json!({"type": "end", "sessionId": 424_242})),
        )
        .await;
    assert!(status.is_client_error(), "{status} {body}");
    // An API key is not an agent.
    let key = s
        .ok(&admin, Method::POST, "/api-keys", json!({"name": "server"}))
        .await;
    let key = key["key"].as_str().unwrap().to_owned();
    let (status, _) = s
        .call(
            &key,
            Method::POST,
            "/workstation/commands",
            Some(json!({"type": "online"})),
        )
        .await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED,
        "{status}"
    );
    s.stop().await;
}

#[tokio::test]
async fn after_a_restart_the_state_frame_is_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let (token, session, feed, seq) = {
        let s = Server::start(dir.path()).await;
        let admin = s.admin().await;
        let end = s.user_end(&admin, (false, false, false)).await;
        let (_, token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
        let mut ann = s.agent_socket(&token).await;
        let now = s.state.clock.now_ms() / 1_000;
        let mut user = s
            .user_socket(&user_token(&end.secret, 1, "u1", now + 600), "")
            .await;
        user.send(text("m1", "hello")).await;
        let session = ann.until(of_type("offer")).await["sessionId"]
            .as_u64()
            .unwrap();
        ann.send(json!({"type": "accept", "sessionId": session}))
            .await;
        assert_eq!(answer(&mut ann, "accept").await["type"], "ok");
        // A second user waits on an offer when the server stops.
        let mut other = s
            .user_socket(&user_token(&end.secret, 1, "u2", now + 600), "")
            .await;
        other.send(text("m1", "hi there")).await;
        let offer = ann.until(of_type("offer")).await;
        let seq = offer["feedSeq"].as_u64().unwrap();
        let feed = ann.seen[0]["feed"].as_str().unwrap().to_owned();
        for socket in [ann, user, other] {
            socket.close().await;
        }
        s.stop().await;
        (token, session, feed, seq)
    };
    let s = Server::start(dir.path()).await;
    let mut ann = raw_socket(&s, &token, Some((&feed, seq))).await;
    let state = ann.next().await;
    assert_eq!(state["type"], "state");
    assert_eq!(state["resumed"], false, "a new server, a new feed: {state}");
    assert_ne!(state["feed"].as_str(), Some(feed.as_str()));
    assert_eq!(
        (state["online"].as_bool(), state["status"].as_str()),
        (Some(true), Some("free"))
    );
    let sessions: Vec<u64> = state["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sessionId"].as_u64().unwrap())
        .collect();
    assert_eq!(sessions, vec![session], "{state}");
    assert_eq!(state["sessions"][0]["user"], "u1");
    let offers = state["offers"].as_array().unwrap();
    assert_eq!(offers.len(), 1, "{state}");
    assert_eq!(offers[0]["user"], "u2");
    assert!(offers[0]["deadlineMs"].as_i64().is_some());
    // And the session still works from the new socket.
    ann.send(json!({"type": "send", "sessionId": session, "msgId": "back", "body": {"type": "text", "text": "still here"}}))
        .await;
    assert_eq!(answer(&mut ann, "send").await["type"], "ok");
    s.stop().await;
}

/// The state frame's session and offer with the fields their `offer` and `seated` frames had.
fn listed<'a>(state: &'a Value, list: &str, session: u64) -> &'a Value {
    state[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["sessionId"] == session)
        .unwrap_or_else(|| panic!("{session} not in {list}: {state}"))
}

#[tokio::test]
async fn the_state_frame_names_the_channel_and_the_colleague_before_and_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (bob_token, ann_id, seated, offered) = {
        let s = Server::start(dir.path()).await;
        let admin = s.admin().await;
        let end = s.user_end(&admin, (false, false, false)).await;
        let (ann_id, ann_token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
        let (bob_id, bob_token) = s.agent(&admin, "bob@example.com", 2, &[end.group]).await;
        let mut ann = s.agent_socket(&ann_token).await;
        let now = s.state.clock.now_ms() / 1_000;
        let mut users = Vec::new();
        let mut sessions = Vec::new();
        for user in ["u1", "u2"] {
            let mut ws = s
                .user_socket(&user_token(&end.secret, 1, user, now + 600), "")
                .await;
            ws.send(text("m1", "hello")).await;
            let session = ann.until(of_type("offer")).await["sessionId"]
                .as_u64()
                .unwrap();
            ann.send(json!({"type": "accept", "sessionId": session}))
                .await;
            assert_eq!(answer(&mut ann, "accept").await["type"], "ok");
            users.push(ws);
            sessions.push(session);
        }
        // Ann hands both to Bob: he takes the first, the second waits on his answer.
        let mut bob = s.agent_socket(&bob_token).await;
        for session in &sessions {
            ann.send(json!({"type": "transfer_to_agent", "sessionId": session, "agentId": bob_id}))
                .await;
            assert_eq!(answer(&mut ann, "transfer_to_agent").await["type"], "ok");
        }
        let offer = bob
            .until(|v| v["type"] == "offer" && v["sessionId"] == sessions[0])
            .await;
        assert_eq!(
            (
                offer["channelName"].as_str(),
                offer["transferredBy"].as_u64()
            ),
            (Some("Support"), Some(ann_id))
        );
        bob.until(|v| v["type"] == "offer" && v["sessionId"] == sessions[1])
            .await;
        bob.send(json!({"type": "accept", "sessionId": sessions[0]}))
            .await;
        assert_eq!(answer(&mut bob, "accept").await["type"], "ok");
        let taken = bob.until(of_type("seated")).await;
        assert_eq!(
            (
                taken["channelName"].as_str(),
                taken["transferredBy"].as_u64()
            ),
            (Some("Support"), Some(ann_id))
        );
        // A reload sees what the frames said.
        let mut reload = raw_socket(&s, &bob_token, None).await;
        let state = reload.next().await;
        for (list, session) in [("sessions", sessions[0]), ("offers", sessions[1])] {
            let item = listed(&state, list, session);
            assert_eq!(item["channelName"], "Support", "{list}: {state}");
            assert_eq!(
                item["transferredBy"].as_u64(),
                Some(ann_id),
                "{list}: {state}"
            );
        }
        for socket in [ann, bob, reload].into_iter().chain(users) {
            socket.close().await;
        }
        s.stop().await;
        (bob_token, ann_id, sessions[0], sessions[1])
    };
    // The new server rebuilds the view from the log: the same names.
    let s = Server::start(dir.path()).await;
    let mut bob = raw_socket(&s, &bob_token, None).await;
    let state = bob.next().await;
    for (list, session) in [("sessions", seated), ("offers", offered)] {
        let item = listed(&state, list, session);
        assert_eq!(item["channelName"], "Support", "{list}: {state}");
        assert_eq!(
            item["transferredBy"].as_u64(),
            Some(ann_id),
            "{list}: {state}"
        );
    }
    // Taking the offer handed over before the restart still names who handed it.
    bob.send(json!({"type": "accept", "sessionId": offered}))
        .await;
    assert_eq!(answer(&mut bob, "accept").await["type"], "ok");
    let taken = bob
        .until(|v| v["type"] == "seated" && v["sessionId"] == offered)
        .await;
    assert_eq!(taken["transferredBy"].as_u64(), Some(ann_id), "{taken}");
    s.stop().await;
}
