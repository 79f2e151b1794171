//! The user end over real WebSockets on loopback: every src of the protocol in both
//! directions with its exact JSON, flag messages never stored, the satisfaction rules bit by
//! bit, seat status, typing, cards, the user ending the service, tokens refused with their
//! reason, bad frames refused with nothing stored, and reconnects that resume with no gap
//! and no duplicate.

mod common;

use common::*;
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

/// An agent takes the offer its socket got; answers the session id.
async fn take_offer(agent: &mut Ws) -> u64 {
    let offer = agent.until(of_type("offer")).await;
    let session = offer["sessionId"].as_u64().unwrap();
    agent
        .send(json!({"type": "accept", "sessionId": session}))
        .await;
    let ok = agent.until(of_type("ok")).await;
    assert_eq!(
        (ok["command"].as_str(), ok["sessionId"].as_u64()),
        (Some("accept"), Some(session)),
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

    // Stored: texts, cards, the menu (with its selection) and the thanks; never a flag.
    let stored = history(&s, &token, conversation).await;
    assert_eq!(
        srcs(&stored),
        [
            "text hello",
            "text hi, how can I help?",
            "src 22",
            "src 22",
            "src 9",
            "text Thank you for your rating"
        ]
    );
    assert_eq!(
        desk_data(&stored[4]).unwrap()["menuContent"]["selected"]["id"],
        "5",
        "the stored src 9 carries its selection"
    );
    let seqs: Vec<u64> = stored.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);

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
