//! The user end over real WebSockets on loopback: every src of the protocol in both
//! directions with its exact JSON, flag messages never stored, the satisfaction rules bit by
//! bit, seat status, typing, cards, the user ending the service, tokens refused with their
//! reason, bad frames refused with nothing stored, and reconnects that resume with no gap
//! and no duplicate.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The messages stored in a conversation, as REST gives them.
async fn history(s: &Server, token: &str, conversation: u64) -> Vec<Value> {
    let v = s
        .get(
            token,
            &format!("/im/conversations/{conversation}/messages?after=0&limit=100"),
        )
        .await;
    v.as_array().unwrap().clone()
}

fn srcs(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| match desk_data(m) {
            Some(d) => format!("src {}", d["src"].as_str().unwrap_or("?")),
            None => match m["body"]["type"].as_str() {
                Some("text") => format!("text {}", m["body"]["text"].as_str().unwrap()),
                _ => "custom".to_owned(),
            },
        })
        .collect()
}

fn text(to: &str, id: &str, text: &str) -> Value {
    json!({"type": "send", "to": to, "msgId": id, "body": {"type": "text", "text": text}})
}

fn flag(id: &str, data: Value) -> Value {
    json!({"type": "send", "to": "desk", "msgId": id, "onlineUserOnly": true, "body": desk_body(data)})
}

fn plugin(src: &str) -> Value {
    json!({"customerServicePlugin": 0, "src": src})
}

/// The agent's answer (`ok` or `error`) to its command `command`.
async fn answer(agent: &mut Ws, command: &'static str) -> Value {
    agent
        .until(move |v| (v["type"] == "ok" || v["type"] == "error") && v["command"] == command)
        .await
}

/// An agent takes the offer its socket got; answers the session id.
async fn take_offer(agent: &mut Ws) -> u64 {
    let offer = agent.until(of_type("offer")).await;
    let session = offer["sessionId"].as_u64().unwrap();
    agent
        .send(json!({"type": "accept", "sessionId": session}))
        .await;
    let ok = answer(agent, "accept").await;
    assert_eq!(
        (ok["type"].as_str(), ok["sessionId"].as_u64()),
        (Some("ok"), Some(session)),
        "{ok}"
    );
    agent.until(of_type("seated")).await;
    session
}

#[tokio::test]
async fn every_src_both_ways_with_exact_json() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (true, true, true)).await;
    let (_, agent_token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
    let now = s.state.clock.now_ms() / 1_000;
    let token = user_token(&end.secret, 1, "u1", now + 3_600);
    let mut user = s.user_socket(&token, "").await;

    // src 7: the trigger opens a session; the desk answers src 23 and src 26, flags.
    user.send(flag(
        "t1",
        json!({"customerServicePlugin": 0, "src": "7", "triggeredContent": {"language": "en"}}),
    ))
    .await;
    let ack = user.until(of_type("ack")).await;
    assert_eq!(ack["msgId"], "t1");
    assert_eq!(ack["seq"], Value::Null);
    let conversation = ack["conversationId"].as_u64().unwrap();
    let rules = user.until(src("23")).await;
    assert_eq!(
        rules["body"]["data"].as_str().unwrap(),
        r#"{"customerServicePlugin":0,"src":"23","content":{"menuSendRuleFlag":7}}"#
    );
    assert_eq!(rules["onlineUserOnly"], true);
    assert_eq!(rules["seq"], Value::Null);
    assert_eq!(
        (rules["from"].as_str(), rules["to"].as_str()),
        (Some("desk"), Some("u1"))
    );
    let out_seat = user.until(src("26")).await;
    assert_eq!(
        out_seat["body"]["data"].as_str().unwrap(),
        r#"{"customerServicePlugin":0,"src":"26","content":{"command":"updateSeatStatus","content":"outSeat"}}"#
    );
    let queue = user.until(of_type("queue")).await;
    assert_eq!(
        (queue["conversationId"].as_u64(), queue["position"].as_u64()),
        (Some(conversation), Some(0))
    );

    // An agent comes online and takes it: src 26 inSeat.
    let mut agent = s.agent_socket(&agent_token).await;
    let session = take_offer(&mut agent).await;
    let in_seat = user.until(src("26")).await;
    assert_eq!(desk_data(&in_seat).unwrap()["content"]["content"], "inSeat");

    // Text both ways.
    user.send(text("desk", "m1", "hello")).await;
    let ack = user.until(of_type("ack")).await;
    assert_eq!(
        (ack["seq"].as_u64(), ack["duplicate"].as_bool()),
        (Some(1), Some(false))
    );
    let mine = user.until(of_type("message")).await;
    assert_eq!(
        mine["seq"], 1,
        "the user's other devices see it too: {mine}"
    );
    let got = agent.until(of_type("message")).await;
    assert_eq!(
        (
            got["from"].as_str(),
            got["body"]["text"].as_str(),
            got["sessionId"].as_u64()
        ),
        (Some("user"), Some("hello"), Some(session))
    );
    agent
        .send(json!({"type": "send", "sessionId": session, "msgId": "a1", "body": {"type": "text", "text": "hi, how can I help?"}}))
        .await;
    let ok = agent.until(of_type("ok")).await;
    assert_eq!(
        (ok["command"].as_str(), ok["seq"].as_u64()),
        (Some("send"), Some(2)),
        "{ok}"
    );
    let reply = user
        .until(|v| v["type"] == "message" && v["seq"] == 2)
        .await;
    assert_eq!(
        (
            reply["from"].as_str(),
            reply["to"].as_str(),
            reply["body"]["text"].as_str(),
            reply["onlineUserOnly"].as_bool()
        ),
        (
            Some("desk"),
            Some("u1"),
            Some("hi, how can I help?"),
            Some(false)
        )
    );

    // src 12: typing, a flag.
    agent
        .send(json!({"type": "typing", "sessionId": session}))
        .await;
    agent.until(of_type("ok")).await;
    let typing = user.until(src("12")).await;
    assert_eq!(
        typing["body"]["data"].as_str().unwrap(),
        r#"{"customerServicePlugin":0,"src":"12"}"#
    );
    assert_eq!(
        (typing["onlineUserOnly"].as_bool(), typing["seq"].clone()),
        (Some(true), Value::Null)
    );

    // src 22: cards both ways.
    let card = json!({"customerServicePlugin": 0, "src": "22",
        "content": {"header": "Phone X", "desc": "128 GB", "pic": "https://shop.example.com/x.png", "url": "https://shop.example.com/x"}});
    agent
        .send(json!({"type": "send", "sessionId": session, "msgId": "a2", "body": desk_body(card.clone())}))
        .await;
    agent.until(of_type("ok")).await;
    let got_card = user.until(src("22")).await;
    assert_eq!(desk_data(&got_card).unwrap(), card);
    assert_eq!(got_card["seq"], 3);
    user.send(
        json!({"type": "send", "to": "desk", "msgId": "c1", "body": desk_body(card.clone())}),
    )
    .await;
    user.until(|v| v["type"] == "ack" && v["msgId"] == "c1")
        .await;
    let at_agent = agent
        .until(|v| v["type"] == "message" && v["msgId"] == "c1")
        .await;
    assert_eq!(desk_data(&at_agent).unwrap(), card);

    // src 24: the user asks to rate in human service; src 9 comes, stored.
    user.send(flag("r1", plugin("24"))).await;
    let menu = user.until(src("9")).await;
    let menu_seq = menu["seq"].as_u64().expect("src 9 is stored");
    let data = desk_data(&menu).unwrap();
    assert_eq!(data["customerServicePlugin"], 0);
    let content = &data["menuContent"];
    assert_eq!(content["head"], "Please rate this service");
    assert_eq!(content["tail"], "Thank you for your rating");
    assert_eq!(content["type"], 1);
    assert_eq!(
        content["menu"],
        json!([{"id": "1", "content": "Very dissatisfied"}, {"id": "5", "content": "Very satisfied"}])
    );
    assert_eq!(content["sessionId"], session.to_string());
    let expire = content["expireTime"].as_i64().unwrap();
    assert!(
        (now + 600..=now + 660).contains(&expire),
        "{expire} vs {now}"
    );
    assert!(content.get("selected").is_none());

    // src 10: a bad level is 10151, a good one is recorded once, the menu updated.
    let rate = |id: &str| {
        flag(
            "rate",
            json!({"customerServicePlugin": 0, "src": "10",
                   "menuSelected": {"id": id, "content": "x", "sessionId": session.to_string()}}),
        )
    };
    user.send(rate("3")).await;
    let refused = user.until(of_type("error")).await;
    assert_eq!(
        (refused["code"].as_u64(), refused["error"].as_str()),
        (Some(10151), Some("rating_refused")),
        "{refused}"
    );
    user.send(rate("5")).await;
    user.until(|v| v["type"] == "ack" && v["msgId"] == "rate")
        .await;
    let update = user.until(of_type("update")).await;
    assert_eq!(update["seq"].as_u64(), Some(menu_seq));
    assert_eq!(
        desk_data(&update).unwrap()["menuContent"]["selected"],
        json!({"id": "5", "content": "Very satisfied"})
    );
    let thanks = user
        .until(|v| v["type"] == "message" && v["body"]["text"] == "Thank you for your rating")
        .await;
    assert!(thanks["seq"].as_u64().is_some());
    // The agent's transcript holds the menu too: it gets the same update, before `rated`.
    let at_agent = agent.until(of_type("update")).await;
    assert_eq!(
        (at_agent["conversationId"].clone(), at_agent["seq"].clone()),
        (update["conversationId"].clone(), update["seq"].clone())
    );
    assert_eq!(at_agent["body"], update["body"]);
    let rated = agent.until(of_type("rated")).await;
    assert_eq!(
        (rated["value"].as_u64(), rated["sessionId"].as_u64()),
        (Some(5), Some(session))
    );
    user.send(rate("1")).await;
    let again = user.until(of_type("error")).await;
    assert_eq!(again["code"], 10152, "{again}");

    // src 27: the user ends the human service: closeBy client, src 26 outSeat and src 19.
    user.send(flag("e1", plugin("27"))).await;
    user.until(|v| v["type"] == "ack" && v["msgId"] == "e1")
        .await;
    let ended = agent.until(of_type("ended")).await;
    assert_eq!(
        (ended["sessionId"].as_u64(), ended["closeBy"].as_str()),
        (Some(session), Some("client"))
    );
    let out = user.until(src("26")).await;
    assert_eq!(desk_data(&out).unwrap()["content"]["content"], "outSeat");
    let over = user.until(src("19")).await;
    assert_eq!(
        over["body"]["data"].as_str().unwrap(),
        r#"{"customerServicePlugin":0,"src":"19"}"#
    );
    // Rated already: the auto rule sends no second invitation. A rating after the end is
    // still the duplicate it is.
    user.send(rate("1")).await;
    assert_eq!(user.until(of_type("error")).await["code"], 10152);
    // Ending again: nothing live.
    user.send(flag("e2", plugin("27"))).await;
    let nothing = user.until(of_type("error")).await;
    assert_eq!(nothing["error"], "conflict", "{nothing}");

    // Stored: texts, cards, the menu (with its selection), the thanks and the end (19 is
    // stored, so a user offline at the end sees it); never a flag such as 26.
    let stored = history(&s, &token, conversation).await;
    assert_eq!(
        srcs(&stored),
        [
            "text hello",
            "text hi, how can I help?",
            "src 22",
            "src 22",
            "src 9",
            "text Thank you for your rating",
            "src 19"
        ]
    );
    assert_eq!(
        desk_data(&stored[4]).unwrap()["menuContent"]["selected"]["id"],
        "5",
        "the stored src 9 carries its selection"
    );
    let seqs: Vec<u64> = stored.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6, 7]);

    // A restart keeps the conversation, its selection and the rating.
    user.close().await;
    agent.close().await;
    s.stop().await;
    let s = Server::start(dir.path()).await;
    let after = history(&s, &token, conversation).await;
    assert_eq!(after, stored);
    let mut user = s.user_socket(&token, "").await;
    let rate_again = flag(
        "rate2",
        json!({"customerServicePlugin": 0, "src": "10",
               "menuSelected": {"id": "1", "content": "x", "sessionId": session.to_string()}}),
    );
    user.send(rate_again).await;
    assert_eq!(
        user.until(of_type("error")).await["code"],
        10152,
        "the rating survives a restart"
    );
    s.stop().await;
}

/// Makes a satisfaction configuration with `rules` and an in-app channel `number` bound to
/// it and to `group`.
async fn channel_with_rules(
    s: &Server,
    admin: &str,
    number: &str,
    group: u64,
    rules: (bool, bool, bool),
) {
    let config = s
        .ok(
            admin,
            Method::POST,
            "/satisfaction-configs",
            json!({"name": format!("rules {number}"), "kind": "numeric",
               "levels": [{"value": 1, "label": "Bad"}, {"value": 2, "label": "Good"}],
               "invitationText": "Rate us", "thankYouText": "Thanks",
               "validitySecs": 600,
               "sendRules": {"autoOnEnd": rules.0, "agentMayInvite": rules.1, "userMayRate": rules.2}}),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    s.ok(
        admin,
        Method::POST,
        "/channels",
        json!({"name": number, "kind": {"type": "in_app", "userId": number},
               "skillGroup": group, "satisfaction": config}),
    )
    .await;
}

/// The user triggers on `number`; the agent takes the session. Answers (conversation, session).
async fn served(user: &mut Ws, agent: &mut Ws, number: &str) -> (u64, u64) {
    user.send(json!({"type": "send", "to": number, "msgId": "hello", "body": {"type": "text", "text": "hello"}}))
        .await;
    let ack = user.until(of_type("ack")).await;
    let conversation = ack["conversationId"].as_u64().unwrap();
    let session = take_offer(agent).await;
    user.until(|v| src("26")(v) && desk_data(v).unwrap()["content"]["content"] == "inSeat")
        .await;
    (conversation, session)
}

fn to(number: &str, id: &str, data: Value) -> Value {
    json!({"type": "send", "to": number, "msgId": id, "onlineUserOnly": true, "body": desk_body(data)})
}

#[tokio::test]
async fn satisfaction_rules_bit_by_bit() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let (_, agent_token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
    let mut agent = s.agent_socket(&agent_token).await;
    let now = s.state.clock.now_ms() / 1_000;
    let cases = [
        ("none", (false, false, false)),
        ("auto", (true, false, false)),
        ("invite", (false, true, false)),
        ("ask", (false, false, true)),
    ];
    for (number, rules) in cases {
        channel_with_rules(&s, &admin, number, end.group, rules).await;
        let token = user_token(&end.secret, 1, &format!("user-{number}"), now + 3_600);
        let mut user = s.user_socket(&token, "").await;

        // src 23 says the rules.
        user.send(to(number, "t", plugin("7"))).await;
        let flag = user.until(src("23")).await;
        let expected = u8::from(rules.0) | u8::from(rules.1) << 1 | u8::from(rules.2) << 2;
        assert_eq!(
            desk_data(&flag).unwrap()["content"]["menuSendRuleFlag"],
            expected,
            "{number}"
        );

        // Before a human serves: the user may not ask, whatever the rules.
        user.send(to(number, "ask-early", plugin("24"))).await;
        let early = user.until(of_type("error")).await;
        assert_eq!(early["error"], "conflict", "{number}: {early}");

        let (conversation, session) = served(&mut user, &mut agent, number).await;

        // Bit 4: the user asks to rate.
        user.send(to(number, "ask", plugin("24"))).await;
        if rules.2 {
            let menu = user.until(src("9")).await;
            assert_eq!(
                desk_data(&menu).unwrap()["menuContent"]["sessionId"],
                session.to_string()
            );
            assert_eq!(
                desk_data(&menu).unwrap()["menuContent"]["type"],
                2,
                "numbers"
            );
        } else {
            let refused = user.until(of_type("error")).await;
            assert_eq!(refused["error"], "conflict", "{number}: {refused}");
        }

        // Bit 2: the agent invites.
        agent
            .send(json!({"type": "invite_rating", "sessionId": session}))
            .await;
        let answer = answer(&mut agent, "invite_rating").await;
        if rules.1 {
            assert_eq!(answer["type"], "ok", "{number}: {answer}");
            user.until(src("9")).await;
        } else {
            assert_eq!(answer["error"], "conflict", "{number}: {answer}");
        }

        // Bit 1: an invitation at the end (when none was sent for the session).
        agent
            .send(json!({"type": "end", "sessionId": session}))
            .await;
        agent.until(of_type("ended")).await;
        user.until(src("19")).await;
        let invited: Vec<Value> = history(&s, &token, conversation)
            .await
            .into_iter()
            .filter(|m| desk_data(m).is_some_and(|d| d["src"] == "9"))
            .collect();
        let expected = usize::from(rules.0 || rules.1 || rules.2);
        assert_eq!(invited.len(), expected, "{number}: {invited:?}");
        if expected == 1 {
            // Rated after the end, within the validity period: recorded once.
            let rate = |id: &str| {
                to(
                    number,
                    "rate",
                    json!({"customerServicePlugin": 0, "src": "10",
                           "menuSelected": {"id": id, "content": "", "sessionId": session.to_string()}}),
                )
            };
            user.send(rate("2")).await;
            user.until(of_type("update")).await;
            user.send(rate("2")).await;
            assert_eq!(user.until(of_type("error")).await["code"], 10152);
        }
        user.close().await;
    }

    // Rating a session that never was: 10150. Rating a live session no agent took: 10154.
    let token = user_token(&end.secret, 1, "lonely", now + 3_600);
    let mut user = s.user_socket(&token, "").await;
    let rate = |session: String| {
        to(
            "desk",
            "rate",
            json!({"customerServicePlugin": 0, "src": "10",
                   "menuSelected": {"id": "5", "content": "", "sessionId": session}}),
        )
    };
    user.send(rate("999999".into())).await;
    assert_eq!(user.until(of_type("error")).await["code"], 10150);
    agent
        .send(json!({"type": "status", "status": "busy"}))
        .await;
    agent.until(of_type("ok")).await;
    user.send(to("desk", "t", plugin("7"))).await;
    let ack = user.until(of_type("ack")).await;
    let conversation = ack["conversationId"].as_u64().unwrap();
    let slot = s
        .state
        .hub
        .lock(helpline::domain::ids::ConversationId(conversation))
        .await
        .unwrap();
    let live = slot.entry.service.session.unwrap();
    drop(slot);
    user.send(rate(live.0.to_string())).await;
    assert_eq!(user.until(of_type("error")).await["code"], 10154);
    user.send(rate(String::new())).await;
    assert_eq!(
        user.until(of_type("error")).await["code"],
        10150,
        "no session id"
    );
    let empty_id = to(
        "desk",
        "rate",
        json!({"customerServicePlugin": 0, "src": "10",
               "menuSelected": {"id": "", "content": "", "sessionId": live.0.to_string()}}),
    );
    user.send(empty_id).await;
    let empty = user.until(of_type("error")).await;
    assert_eq!(
        (empty["code"].as_u64(), empty["field"].as_str()),
        (Some(10151), Some("body.data")),
        "{empty}"
    );
    s.stop().await;
}

#[tokio::test]
async fn tokens_are_refused_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (true, true, true)).await;
    let now = s.state.clock.now_ms() / 1_000;
    let good = user_token(&end.secret, 1, "u1", now + 600);
    let cases = [
        (user_token(&end.secret, 1, "u1", now - 10), "", "expired"),
        (
            user_token("another secret", 1, "u1", now + 600),
            "",
            "bad signature",
        ),
        (good.clone(), "&app=2", "app"),
        (good.clone(), "&user=u2", "u2"),
        ("not.a.token".to_owned(), "", "malformed"),
        (
            user_token(&end.secret, 1, "u1", now + 400 * 86_400),
            "",
            "too far ahead",
        ),
    ];
    for (token, extra, reason) in cases {
        let url = s.ws_url("/ws/im", &format!("token={token}{extra}"));
        let (status, body) = Ws::connect(&url).await.err().expect("refused");
        assert_eq!(status, 401, "{reason}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(reason), "{reason}: {message}");
    }
    let (status, body) = Ws::connect(&s.ws_url("/ws/im", "")).await.err().unwrap();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    // The right user and app pass; so does the header.
    let url = s.ws_url("/ws/im", &format!("token={good}&app=1&user=u1"));
    Ws::connect(&url).await.unwrap().close().await;
    // An agent socket takes an agent's sign-in, not a user token or an API key.
    let (status, _) = Ws::connect(&s.ws_url("/ws/agent", &format!("token={good}")))
        .await
        .err()
        .unwrap();
    assert_eq!(status, 401);
    s.stop().await;
}

#[tokio::test]
async fn bad_frames_get_an_error_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (true, true, true)).await;
    let now = s.state.clock.now_ms() / 1_000;
    let token = user_token(&end.secret, 1, "u1", now + 600);
    let mut user = s.user_socket(&token, "").await;
    user.send(text("desk", "m1", "first")).await;
    let conversation = user.until(of_type("ack")).await["conversationId"]
        .as_u64()
        .unwrap();
    let before = history(&s, &token, conversation).await;
    let custom = |data: &str| json!({"type": "send", "to": "desk", "msgId": "bad", "body": {"type": "custom", "data": data}});
    let cases: Vec<(String, &str)> = vec![
        ("not json".into(), "body"),
        (json!({"type": "shout"}).to_string(), "type"),
        (json!({"type": "send", "to": "desk", "body": {"type": "text", "text": "x"}}).to_string(), "msgId"),
        (json!({"type": "send", "to": "desk", "msgId": "x", "body": {"type": "text", "text": "x"}, "extra": 1}).to_string(), "extra"),
        (custom("{not json").to_string(), "body.data"),
        (custom(r#"{"customerServicePlugin":0,"src":7}"#).to_string(), "body.data"),
        (custom(r#"{"customerServicePlugin":0,"src":"99"}"#).to_string(), "body.data"),
        (custom(r#"{"customerServicePlugin":0,"src":"19"}"#).to_string(), "body.data"),
        (custom(r#"{"customerServicePlugin":"0","src":"7"}"#).to_string(), "body.data"),
        (custom(&"x".repeat(17_000)).to_string(), "body.data"),
        (text("desk", "big", &"x".repeat(9_000)).to_string(), "body.text"),
        (text("nobody", "x", "hello").to_string(), "to"),
        (text("desk", "", "hello").to_string(), "msgId"),
        (format!("{{\"type\":\"ping\",\"pad\":\"{}\"}}", "x".repeat(70_000)), "body"),
    ];
    for (frame, field) in &cases {
        user.send_text(frame.clone()).await;
        let e = user.until(of_type("error")).await;
        assert_eq!(e["field"], *field, "{}: {e}", &frame[..frame.len().min(80)]);
    }
    user.send_binary(vec![1, 2, 3]).await;
    assert_eq!(user.until(of_type("error")).await["field"], "frame");
    // The socket still works, nothing was stored, no conversation was opened elsewhere.
    user.send(json!({"type": "ping"})).await;
    user.until(of_type("pong")).await;
    assert_eq!(history(&s, &token, conversation).await, before);
    let conversations = s.get(&token, "/im/conversations").await;
    assert_eq!(
        conversations.as_array().unwrap().len(),
        1,
        "{conversations}"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_reconnecting_user_resumes_with_no_gap_and_no_duplicate() {
    const MESSAGES: u64 = 300;
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let (_, agent_token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
    let mut agent = s.agent_socket(&agent_token).await;
    let now = s.state.clock.now_ms() / 1_000;
    let token = user_token(&end.secret, 1, "u1", now + 3_600);
    let mut user = s.user_socket(&token, "").await;
    let (conversation, session) = served(&mut user, &mut agent, "desk").await;
    user.close().await;

    // The agent writes without pause while the user's socket drops again and again.
    let writer = tokio::spawn(async move {
        for i in 0..MESSAGES {
            agent
                .send(
                    json!({"type": "send", "sessionId": session, "msgId": format!("a{i}"),
                             "body": {"type": "text", "text": format!("line {i}")}}),
                )
                .await;
            let ok = agent
                .until(|v| v["type"] == "ok" || v["type"] == "error")
                .await;
            assert_eq!(ok["type"], "ok", "{ok}");
        }
        agent
    });
    let last = MESSAGES + 1; // the user's "hello" is seq 1
    let mut received: Vec<u64> = vec![1];
    let mut drops = 0;
    let mut step = 0usize;
    while *received.last().unwrap() < last {
        let resume = format!("{conversation}:{}", received.last().unwrap());
        let mut socket = s.user_socket(&token, &resume).await;
        // Read a varying number of stored messages, then drop without a close frame.
        let take = [0, 1, 2, 3, 5, 8, 13, 1, 21, 34][step % 10];
        step += 1;
        for _ in 0..take {
            if *received.last().unwrap() >= last {
                break;
            }
            let frame = socket
                .until(|v| v["type"] == "message" && v["seq"].is_u64())
                .await;
            received.push(frame["seq"].as_u64().unwrap());
        }
        drop(socket);
        drops += 1;
        assert!(drops < 10_000, "no progress");
    }
    let mut agent = writer.await.unwrap();
    let expected: Vec<u64> = (1..=last).collect();
    assert_eq!(received, expected, "after {drops} drops");
    // And the stored order is the agent's order.
    let stored = history(&s, &token, conversation).await;
    assert_eq!(stored.len(), 100, "a page");
    assert_eq!(stored[1]["body"]["text"], "line 0");
    agent
        .send(json!({"type": "end", "sessionId": session}))
        .await;
    agent.until(of_type("ended")).await;
    s.stop().await;
}

#[tokio::test]
async fn website_visitors_keep_their_identity_and_chat_over_the_same_socket() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let group = s.group(&admin, "web").await;
    let created = s
        .ok(
            &admin,
            Method::POST,
            "/channels",
            json!({"name": "Website", "kind": {"type": "website"}, "skillGroup": group}),
        )
        .await;
    let site_id = created["kind"]["webAppId"].as_str().unwrap().to_owned();
    let (_, agent_token) = s.agent(&admin, "ann@example.com", 2, &[group]).await;
    let mut agent = s.agent_socket(&agent_token).await;

    let site = s.get("", &format!("/web/{site_id}")).await;
    assert_eq!(
        (site["channelName"].as_str(), site["appId"].as_u64()),
        (Some("Website"), Some(1))
    );
    let (status, missing) = s.call("", Method::GET, "/web/nowhere", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");

    // A first visit makes an identity (and the app's IM secret) and sets the cookie.
    let first = s
        .http
        .post(format!("{}/web/{site_id}/visitor", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let cookie = first.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["returning"], false);
    let user_id = first["userId"].as_str().unwrap().to_owned();
    assert!(user_id.starts_with("visitor-"));
    let pair = cookie.split(';').next().unwrap().to_owned();

    // The cookie brings the same visitor back; without it, a new one.
    let again: Value = s
        .http
        .post(format!("{}/web/{site_id}/visitor", s.base))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (again["userId"].as_str(), again["returning"].as_bool()),
        (Some(user_id.as_str()), Some(true))
    );
    let other: Value = s
        .http
        .post(format!("{}/web/{site_id}/visitor", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(other["userId"], first["userId"]);
    // A visitor of one site is not one of another app's (the cookie is checked per app).
    assert!(
        s.get(&admin, "/im/secret").await["configured"]
            .as_bool()
            .unwrap()
    );

    // The socket opens with the channel's cookie from the desk's chat page; messages go to
    // the webAppId.
    let url = s.ws_url("/ws/im", &format!("webAppId={site_id}"));
    let headers = [
        ("cookie", pair.as_str()),
        ("origin", "https://desk.example.com"),
    ];
    let mut visitor = Ws::connect_with_headers(&url, &headers).await.unwrap();
    visitor
        .send(json!({"type": "send", "to": site_id, "msgId": "v1", "body": {"type": "text", "text": "hi from the web"}}))
        .await;
    let ack = visitor.until(of_type("ack")).await;
    let conversation = ack["conversationId"].as_u64().unwrap();
    let session = take_offer(&mut agent).await;
    // Taking the session, the agent gets what the visitor wrote before.
    let transcript = agent.until(of_type("transcript")).await;
    assert_eq!(transcript["sessionId"].as_u64(), Some(session));
    assert_eq!(transcript["user"].as_str(), Some(user_id.as_str()));
    assert_eq!(transcript["messages"][0]["body"]["text"], "hi from the web");
    visitor
        .send(json!({"type": "send", "to": site_id, "msgId": "v2", "body": {"type": "text", "text": "anyone there?"}}))
        .await;
    let got = agent.until(of_type("message")).await;
    assert_eq!(got["body"]["text"], "anyone there?");
    agent
        .send(json!({"type": "send", "sessionId": session, "msgId": "a1", "body": {"type": "text", "text": "welcome"}}))
        .await;
    let reply = visitor
        .until(|v| v["type"] == "message" && v["msgId"] == "a1")
        .await;
    assert_eq!(reply["seq"], 3, "{reply}");
    assert_eq!(
        (reply["from"].as_str(), reply["to"].as_str()),
        (Some(site_id.as_str()), Some(user_id.as_str())),
        "{reply}"
    );
    visitor.close().await;

    // A returning visitor reads its history with its token.
    let token = again["token"].as_str().unwrap();
    let conversations = s.get(token, "/im/conversations").await;
    assert_eq!(conversations[0]["id"].as_u64(), Some(conversation));
    assert_eq!(conversations[0]["peer"], site_id);
    let history = history(&s, token, conversation).await;
    assert_eq!(history.len(), 3);
    s.stop().await;
}

#[tokio::test]
async fn what_flows_say_reaches_the_socket_with_exact_json() {
    use helpline::domain::conversation::Body;
    use helpline::domain::ids::ConversationId;
    use helpline::im::protocol::{DeskMessage, Item};
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (true, true, true)).await;
    let now = s.state.clock.now_ms() / 1_000;
    let token = user_token(&end.secret, 1, "u1", now + 600);
    let mut user = s.user_socket(&token, "").await;
    user.send(text("desk", "m1", "hello")).await;
    let conversation = ConversationId(
        user.until(of_type("ack")).await["conversationId"]
            .as_u64()
            .unwrap(),
    );
    let hub = &s.state.hub;
    let say =
        |id: &str, body: Body| hub.desk_says(&s.state, conversation, id.to_owned(), body, false);

    // src 15: the menu, then a plain text equal to an item's content selects it.
    let menu = DeskMessage::BranchMenu {
        header: "Please select the service you require".into(),
        items: vec![
            Item {
                content: "Pre-sales".into(),
                desc: String::new(),
            },
            Item {
                content: "After-sales".into(),
                desc: String::new(),
            },
        ],
        tail: Some(String::new()),
        selected: None,
    };
    let seq = say("menu", menu.to_body()).await.unwrap().unwrap();
    let got = user
        .until(|v| v["type"] == "message" && v["seq"] == seq)
        .await;
    assert_eq!(
        got["body"]["data"].as_str().unwrap(),
        r#"{"customerServicePlugin":0,"src":"15","content":{"header":"Please select the service you require","items":[{"content":"Pre-sales","desc":""},{"content":"After-sales","desc":""}],"tail":""}}"#
    );
    user.send(text("desk", "pick", "After-sales")).await;
    let update = user.until(of_type("update")).await;
    assert_eq!(update["seq"].as_u64(), Some(seq));
    assert_eq!(
        update["body"]["data"].as_str().unwrap(),
        r#"{"customerServicePlugin":0,"src":"15","content":{"header":"Please select the service you require","items":[{"content":"Pre-sales","desc":""},{"content":"After-sales","desc":""}],"tail":"","selected":{"content":"After-sales","desc":""}}}"#
    );

    // src 21: an options form, answered by an option.
    let form = DeskMessage::Form {
        kind: 1,
        header: "What do you like to eat?".into(),
        items: Some(vec![
            Item {
                content: "Apple".into(),
                desc: String::new(),
            },
            Item {
                content: "Peach".into(),
                desc: String::new(),
            },
        ]),
        selected: None,
    };
    let seq = say("form", form.to_body()).await.unwrap().unwrap();
    let got = user
        .until(|v| v["type"] == "message" && v["seq"] == seq)
        .await;
    assert_eq!(
        got["body"]["data"].as_str().unwrap(),
        r#"{"customerServicePlugin":0,"src":"21","content":{"type":1,"header":"What do you like to eat?","items":[{"content":"Apple","desc":""},{"content":"Peach","desc":""}]}}"#
    );
    user.send(text("desk", "eat", "Peach")).await;
    let update = user.until(of_type("update")).await;
    assert_eq!(
        desk_data(&update).unwrap()["content"]["selected"],
        json!({"content": "Peach"})
    );

    // src 30 rich text; src 31 stream text growing to its end.
    let rich = DeskMessage::RichText {
        markdown: "**Hours**: 9-5".into(),
    };
    let seq = say("rich", rich.to_body()).await.unwrap().unwrap();
    let got = user
        .until(|v| v["type"] == "message" && v["seq"] == seq)
        .await;
    assert_eq!(
        got["body"]["data"].as_str().unwrap(),
        r#"{"customerServicePlugin":0,"src":"30","content":"**Hours**: 9-5"}"#
    );
    let stream = DeskMessage::StreamText {
        chunks: vec!["Hel".into()],
        finished: false,
    };
    let seq = say("stream", stream.to_body()).await.unwrap().unwrap();
    let got = user
        .until(|v| v["type"] == "message" && v["seq"] == seq)
        .await;
    assert_eq!(
        got["body"]["data"].as_str().unwrap(),
        r#"{"customerServicePlugin":0,"src":"31","chunks":["Hel"],"isFinished":0}"#
    );
    hub.desk_streams(&s.state, conversation, seq, "lo", true)
        .await
        .unwrap();
    let update = user.until(of_type("update")).await;
    assert_eq!(
        update["body"]["data"].as_str().unwrap(),
        r#"{"customerServicePlugin":0,"src":"31","chunks":["Hel","lo"],"isFinished":1}"#
    );
    // A reconnecting client reads the stored prompts with their selections.
    user.close().await;
    let stored = history(&s, &token, conversation.0).await;
    assert!(stored.iter().any(|m| {
        desk_data(m).is_some_and(|d| {
            d["src"] == "15" && d["content"]["selected"]["content"] == "After-sales"
        })
    }));
    s.stop().await;
}

/// A configuration made without levels has the five the Android client draws: the menu's
/// ids are the numeric strings "1" to "5", ascending, exactly.
#[tokio::test]
async fn a_default_configuration_rates_on_five_levels() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let (_, agent_token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
    let mut agent = s.agent_socket(&agent_token).await;
    let made = s
        .ok(
            &admin,
            Method::POST,
            "/satisfaction-configs",
            json!({"name": "default scale", "kind": "star",
               "invitationText": "Rate us", "thankYouText": "Thanks", "validitySecs": 600,
               "sendRules": {"autoOnEnd": false, "agentMayInvite": false, "userMayRate": true}}),
        )
        .await;
    assert_eq!(made["levels"].as_array().map(Vec::len), Some(5), "{made}");
    s.ok(
        &admin,
        Method::POST,
        "/channels",
        json!({"name": "five", "kind": {"type": "in_app", "userId": "five"},
               "skillGroup": end.group, "satisfaction": made["id"]}),
    )
    .await;
    let now = s.state.clock.now_ms() / 1_000;
    let token = user_token(&end.secret, 1, "user-five", now + 3_600);
    let mut user = s.user_socket(&token, "").await;
    served(&mut user, &mut agent, "five").await;
    // A trigger while served says the seat as it is, naming the agent.
    user.send(to("five", "again", plugin("7"))).await;
    let seat = user.until(src("26")).await;
    assert_eq!(
        desk_data(&seat).unwrap(),
        json!({"customerServicePlugin": 0, "src": "26",
               "content": {"command": "updateSeatStatus", "content": "inSeat", "nickname": "ann"}})
    );
    user.send(to("five", "ask", plugin("24"))).await;
    let menu = user.until(src("9")).await;
    assert_eq!(
        desk_data(&menu).unwrap()["menuContent"]["menu"],
        json!([
            {"id": "1", "content": "Very dissatisfied"},
            {"id": "2", "content": "Dissatisfied"},
            {"id": "3", "content": "Neutral"},
            {"id": "4", "content": "Satisfied"},
            {"id": "5", "content": "Very satisfied"},
        ])
    );
    s.stop().await;
}
