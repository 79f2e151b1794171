//! The user end where time matters, under a paused clock, through the hub itself (no
//! sockets, the in-memory log): a rating past its validity period is refused (10150), the
//! user-reply timeout ends a session with the app's message and src 20, waiting users hear
//! their place in the queue as it changes, and what the desk says in a flow's stead (menus,
//! forms, rich and stream text) is stored, answered by plain text and updated.

use std::sync::Arc;
use std::time::Duration;

use helpline::api::{self, ApiConfig, ApiState, AppState};
use helpline::clock::Clock;
use helpline::domain::agent::AgentCommand;
use helpline::domain::conversation::Body;
use helpline::domain::directory::{
    Channel, ChannelKind, RatingKind, RatingLevel, SatisfactionConfig, SendRules,
};
use helpline::domain::event::Event;
use helpline::domain::group::GroupCommand;
use helpline::domain::ids::{
    AgentId, ChannelId, ConversationId, GroupId, SatisfactionId, SessionId, StreamId,
};
use helpline::engine::Engine;
use helpline::im::hub::{AgentAction, Subscription, UserMessage};
use helpline::im::protocol::{DeskMessage, Item};
use serde_json::{Value, json};

mod hub_desk;

use hub_desk::{APP, settle};

struct Desk {
    state: AppState,
    engine: Arc<Engine>,
    group: GroupId,
}

async fn desk(reception_limit: u32) -> Desk {
    let (state, engine) = hub_desk::start().await;
    let group = engine
        .create_group(APP, "support", reception_limit)
        .await
        .unwrap();
    let satisfaction = SatisfactionId(state.desk.next_id());
    let channel = ChannelId(state.desk.next_id());
    let events = vec![
        Event::SatisfactionSaved {
            config: SatisfactionConfig {
                id: satisfaction,
                name: "default".into(),
                kind: RatingKind::Star,
                levels: vec![RatingLevel {
                    value: 5,
                    label: "Great".into(),
                }],
                invitation_text: "Rate us".into(),
                thank_you_text: "Thanks".into(),
                validity_secs: 600,
                send_rules: SendRules {
                    auto_on_end: false,
                    agent_may_invite: true,
                    user_may_rate: true,
                },
            },
        },
        Event::ChannelSaved {
            channel: Channel {
                id: channel,
                name: "Support".into(),
                kind: ChannelKind::InApp {
                    user_id: "desk".into(),
                    avatar_url: None,
                    proactive_group: None,
                },
                flow: None,
                skill_group: Some(group),
                satisfaction: Some(satisfaction),
            },
        },
    ];
    hub_desk::append(&state, events).await;
    Desk {
        state,
        engine,
        group,
    }
}

impl Desk {
    async fn agent(&self, name: &str) -> AgentId {
        let agent = self
            .engine
            .create_agent(APP, name, name, name)
            .await
            .unwrap();
        self.engine
            .group(self.group, GroupCommand::AddMember(agent, 1))
            .await
            .unwrap();
        self.engine.agent(agent, AgentCommand::Login).await.unwrap();
        agent
    }

    async fn say(&self, user: &str, text: &str) -> ConversationId {
        hub_desk::say(&self.state, user, text).await
    }

    async fn flag(&self, user: &str, data: Value) -> Result<(), api::error::ApiError> {
        let message = UserMessage {
            to: "desk".into(),
            msg_id: "flag".into(),
            online_user_only: true,
            body: Body::Custom {
                data: data.to_string(),
                description: String::new(),
                extension: String::new(),
            },
        };
        self.state
            .hub
            .user_send(&self.state, APP, user, message)
            .await
            .map(|_| ())
    }

    async fn session_of(&self, conversation: ConversationId) -> Option<SessionId> {
        let slot = self.state.hub.lock(conversation).await.unwrap();
        slot.entry.service.session
    }

    async fn stored(&self, conversation: ConversationId) -> Vec<Body> {
        let slot = self.state.hub.lock(conversation).await.unwrap();
        slot.entry
            .messages
            .after(0)
            .iter()
            .map(|m| m.body.clone())
            .collect()
    }

    async fn serve(&self, agent: AgentId, conversation: ConversationId) -> SessionId {
        settle().await;
        let session = self.session_of(conversation).await.unwrap();
        self.state
            .hub
            .agent_act(&self.state, agent, session, AgentAction::Accept)
            .await
            .unwrap();
        settle().await;
        session
    }
}

/// Every frame waiting on a subscription, parsed.
fn drain_feed(sub: &mut helpline::im::feed::FeedSubscription) -> Vec<Value> {
    let mut out = Vec::new();
    while let Ok(frame) = sub.rx.try_recv() {
        out.push(serde_json::from_str(&frame).unwrap());
    }
    out
}

fn drain(sub: &mut Subscription) -> Vec<Value> {
    let mut out = Vec::new();
    while let Ok(frame) = sub.rx.try_recv() {
        out.push(serde_json::from_str(&frame.text).unwrap());
    }
    out
}

fn data(frame: &Value) -> Value {
    serde_json::from_str(frame["body"]["data"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

#[tokio::test(start_paused = true)]
async fn a_rating_past_its_validity_period_is_refused() {
    let d = desk(3).await;
    let agent = d.agent("ann").await;
    let conversation = d.say("u1", "hello").await;
    let session = d.serve(agent, conversation).await;
    d.flag("u1", json!({"customerServicePlugin": 0, "src": "24"}))
        .await
        .unwrap();
    let rate = json!({"customerServicePlugin": 0, "src": "10",
                      "menuSelected": {"id": "5", "content": "Great", "sessionId": session.0.to_string()}});
    tokio::time::advance(Duration::from_secs(601)).await;
    let refused = d.flag("u1", rate.clone()).await.unwrap_err();
    assert_eq!(refused.protocol_code(), Some(10150), "{refused}");
    // A new invitation opens a new validity period.
    d.state
        .hub
        .agent_act(&d.state, agent, session, AgentAction::InviteRating)
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(599)).await;
    d.flag("u1", rate).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_user_reply_timeout_ends_with_the_apps_message_and_src_20() {
    let d = desk(3).await;
    let mut settings = (*d.engine.settings(APP)).clone();
    settings.user_reply_timeout_secs = 60;
    d.engine.update_settings(APP, settings).await.unwrap();
    let agent = d.agent("ann").await;
    let mut user = d.state.hub.subscribe_user(APP, "u1");
    let mut seat = d.state.hub.subscribe_agent(agent, None);
    let conversation = d.say("u1", "hello").await;
    let session = d.serve(agent, conversation).await;
    let reply = AgentAction::Send {
        msg_id: "a1".into(),
        body: Body::Text {
            text: "Anything else?".into(),
        },
    };
    d.state
        .hub
        .agent_act(&d.state, agent, session, reply)
        .await
        .unwrap();
    drain(&mut user);
    drain_feed(&mut seat);
    tokio::time::advance(Duration::from_secs(61)).await;
    settle().await;
    let frames = drain(&mut user);
    let texts: Vec<&str> = frames
        .iter()
        .filter_map(|f| f["body"]["text"].as_str())
        .collect();
    assert_eq!(
        texts,
        ["The session has ended because we did not hear from you."]
    );
    let at = |pred: &dyn Fn(&Value) -> bool| frames.iter().position(pred);
    let text_at = at(&|f| f["body"]["type"] == "text");
    let timeout_at = at(&|f| data(f)["src"] == "20");
    assert!(
        text_at < timeout_at && text_at.is_some(),
        "the message, then src 20: {frames:?}"
    );
    let timeout = &frames[timeout_at.unwrap()];
    assert_eq!(
        timeout["body"]["data"].as_str().unwrap(),
        r#"{"customerServicePlugin":0,"src":"20"}"#
    );
    // Stored (not a flag): a user offline at the end sees why the chat ended.
    assert_eq!(timeout["onlineUserOnly"].as_bool(), Some(false), "stored");
    assert!(
        timeout["seq"].as_u64().is_some(),
        "stored with a seq: {timeout}"
    );
    assert!(
        frames.iter().any(|f| data(f)["src"] == "20"),
        "src 20: {frames:?}"
    );
    assert!(
        !frames.iter().any(|f| data(f)["src"] == "19"),
        "a timeout is not a normal end"
    );
    let ended = drain_feed(&mut seat);
    assert!(
        ended
            .iter()
            .any(|f| f["type"] == "ended" && f["closeBy"] == "timer"),
        "{ended:?}"
    );
    let stored = d.stored(conversation).await;
    assert_eq!(
        stored.len(),
        4,
        "hello, the reply, the auto-termination message, src 20"
    );
    assert_eq!(d.session_of(conversation).await, None);
}

#[tokio::test(start_paused = true)]
async fn waiting_users_hear_their_place_as_it_changes() {
    let d = desk(1).await;
    let mut subs: Vec<Subscription> = ["u1", "u2", "u3"]
        .iter()
        .map(|u| d.state.hub.subscribe_user(APP, u))
        .collect();
    let mut conversations = Vec::new();
    for user in ["u1", "u2", "u3"] {
        conversations.push(d.say(user, "hello").await);
        tokio::time::advance(Duration::from_millis(10)).await;
        settle().await;
    }
    let place = |frames: &[Value]| {
        frames
            .iter()
            .filter(|f| f["type"] == "queue")
            .map(|f| f["position"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    let first: Vec<Vec<u64>> = subs.iter_mut().map(|s| place(&drain(s))).collect();
    assert_eq!(first, [vec![0], vec![1], vec![2]]);
    assert_eq!(d.state.hub.waiting_users(), 3);

    // An agent with room for one takes u1; at the next refresh u2 and u3 move up.
    let agent = d.agent("ann").await;
    d.serve(agent, conversations[0]).await;
    tokio::time::advance(helpline::im::hub::QUEUE_REFRESH).await;
    settle().await;
    let moved: Vec<Vec<u64>> = subs.iter_mut().map(|s| place(&drain(s))).collect();
    assert_eq!(moved, [Vec::<u64>::new(), vec![0], vec![1]]);
    assert_eq!(d.state.hub.waiting_users(), 2);
    // Nothing changed: nobody hears it again.
    tokio::time::advance(helpline::im::hub::QUEUE_REFRESH).await;
    settle().await;
    let quiet: Vec<Vec<u64>> = subs.iter_mut().map(|s| place(&drain(s))).collect();
    assert!(quiet.iter().all(Vec::is_empty), "{quiet:?}");
}

#[tokio::test(start_paused = true)]
async fn prompts_are_answered_by_plain_text_and_streams_grow() {
    let d = desk(3).await;
    let mut user = d.state.hub.subscribe_user(APP, "u1");
    let conversation = d.say("u1", "hello").await;
    let hub = &d.state.hub;
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
    let seq = hub
        .desk_says(&d.state, conversation, "menu".into(), menu.to_body(), false)
        .await
        .unwrap()
        .unwrap();
    drain(&mut user);
    // Not an item: no selection. An item: the stored menu gets it, and the user hears.
    d.say("u1", "after-sales").await;
    assert!(drain(&mut user).iter().all(|f| f["type"] != "update"));
    d.say("u1", "After-sales").await;
    let update = drain(&mut user)
        .into_iter()
        .find(|f| f["type"] == "update")
        .expect("an update frame");
    assert_eq!(update["seq"].as_u64(), Some(seq));
    assert_eq!(
        data(&update)["content"]["selected"],
        json!({"content": "After-sales", "desc": ""})
    );
    let stored = d.stored(conversation).await;
    let Body::Custom { data: menu_now, .. } = &stored[seq as usize - 1] else {
        panic!("the menu is custom");
    };
    assert!(menu_now.contains(r#""selected":{"content":"After-sales""#));

    // A free-text form takes the next text.
    let form = DeskMessage::Form {
        kind: 0,
        header: "Your order number?".into(),
        items: None,
        selected: None,
    };
    hub.desk_says(&d.state, conversation, "form".into(), form.to_body(), false)
        .await
        .unwrap();
    d.say("u1", "A-1234").await;
    let update = drain(&mut user)
        .into_iter()
        .find(|f| f["type"] == "update")
        .unwrap();
    assert_eq!(
        data(&update)["content"]["selected"],
        json!({"content": "A-1234"})
    );

    // Rich text is stored as is; a stream grows until finished.
    let rich = DeskMessage::RichText {
        markdown: "**Opening hours**: 9 to 5".into(),
    };
    hub.desk_says(&d.state, conversation, "rich".into(), rich.to_body(), false)
        .await
        .unwrap();
    let stream = DeskMessage::StreamText {
        chunks: vec!["Hel".into()],
        finished: false,
    };
    let seq = hub
        .desk_says(
            &d.state,
            conversation,
            "stream".into(),
            stream.to_body(),
            false,
        )
        .await
        .unwrap()
        .unwrap();
    hub.desk_streams(&d.state, conversation, seq, "lo", true)
        .await
        .unwrap();
    let late = hub
        .desk_streams(&d.state, conversation, seq, "!", true)
        .await;
    assert!(late.is_err(), "a finished stream takes no more");
    let Body::Custom { data: streamed, .. } = &d.stored(conversation).await[seq as usize - 1]
    else {
        panic!("custom");
    };
    assert_eq!(
        streamed,
        r#"{"customerServicePlugin":0,"src":"31","chunks":["Hel","lo"],"isFinished":1}"#
    );
    // A flag from the desk is delivered, never stored.
    let before = d.stored(conversation).await.len();
    hub.desk_says(
        &d.state,
        conversation,
        "typing".into(),
        DeskMessage::Typing.to_body(),
        true,
    )
    .await
    .unwrap();
    assert_eq!(d.stored(conversation).await.len(), before);
    assert!(drain(&mut user).iter().any(|f| data(f)["src"] == "12"));
}

#[tokio::test(start_paused = true)]
async fn the_seat_follows_transfers_and_the_end() {
    let d = desk(3).await;
    let ann = d.agent("ann").await;
    let mut user = d.state.hub.subscribe_user(APP, "u1");
    let conversation = d.say("u1", "hello").await;
    let session = d.serve(ann, conversation).await;
    let seats = |frames: &[Value]| -> Vec<String> {
        frames
            .iter()
            .filter(|f| data(f)["src"] == "26")
            .map(|f| data(f)["content"]["content"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(seats(&drain(&mut user)), ["inSeat"]);
    // Ann hands the user to the group: nobody serves it until Bob takes it.
    d.engine
        .agent(
            ann,
            AgentCommand::SetStatus(helpline::domain::event::AgentStatus::Busy),
        )
        .await
        .unwrap();
    d.engine
        .session(
            session,
            helpline::domain::session::SessionCommand::TransferToGroup {
                from: ann,
                group: d.group,
            },
        )
        .await
        .unwrap();
    settle().await;
    let frames = drain(&mut user);
    assert_eq!(seats(&frames), ["outSeat"]);
    assert!(frames.iter().any(|f| f["type"] == "queue"), "{frames:?}");
    let bob = d.agent("bob").await;
    d.serve(bob, conversation).await;
    assert_eq!(seats(&drain(&mut user)), ["inSeat"]);
    d.state
        .hub
        .agent_act(&d.state, bob, session, AgentAction::End)
        .await
        .unwrap();
    settle().await;
    let frames = drain(&mut user);
    assert_eq!(seats(&frames), ["outSeat"]);
    assert!(frames.iter().any(|f| data(f)["src"] == "19"));
    // Ann no longer holds it: she may not write into it.
    let late = d
        .state
        .hub
        .agent_act(
            &d.state,
            ann,
            session,
            AgentAction::Send {
                msg_id: "late".into(),
                body: Body::Text { text: "hi".into() },
            },
        )
        .await;
    assert!(late.is_err());
}

#[tokio::test(start_paused = true)]
async fn a_socket_that_stops_reading_is_dropped_and_resumes() {
    let d = desk(3).await;
    let conversation = d.say("u1", "hello").await;
    let mut stalled = d.state.hub.subscribe_user(APP, "u1");
    let mut reading = d.state.hub.subscribe_user(APP, "u1");
    let total = helpline::im::hub::OUTBOX + 10;
    for i in 0..total {
        let body = Body::Text {
            text: format!("line {i}"),
        };
        d.state
            .hub
            .desk_says(&d.state, conversation, format!("d{i}"), body, false)
            .await
            .unwrap();
        drain(&mut reading);
    }
    // The stalled socket got what fit, then its channel ended: its client resumes by seq.
    let mut got = 0;
    while stalled.rx.recv().await.is_some() {
        got += 1;
    }
    assert_eq!(got, helpline::im::hub::OUTBOX);
    assert_eq!(d.state.hub.user_sockets(), 1, "the reading socket stays");
    let rest = d
        .state
        .hub
        .backlog(
            &d.state.desk.app(APP).unwrap(),
            APP,
            "u1",
            conversation,
            1 + got as u64,
            1_000,
        )
        .await
        .unwrap();
    assert_eq!(
        rest.len(),
        total - got,
        "everything after is there to resume from"
    );
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_offer_lapses_and_goes_to_the_next_agent() {
    let d = desk(3).await;
    let mut settings = (*d.engine.settings(APP)).clone();
    settings.reception.accept_timeout_secs = 30;
    settings.reception.redirect_on_timeout = true;
    settings.reception.auto_short_break = true;
    d.engine.update_settings(APP, settings).await.unwrap();
    let ann = d.agent("ann").await;
    let bob = d.agent("bob").await;
    settle().await;
    let mut feeds = [
        d.state.hub.subscribe_agent(ann, None),
        d.state.hub.subscribe_agent(bob, None),
    ];
    let starts: Vec<u64> = feeds
        .iter()
        .map(|f| {
            serde_json::from_str::<Value>(&f.first[0]).unwrap()["feedSeq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    d.say("u1", "hello").await;
    settle().await;
    let first: Vec<Vec<Value>> = feeds.iter_mut().map(drain_feed).collect();
    let offered = first
        .iter()
        .position(|frames| frames.iter().any(|f| f["type"] == "offer"))
        .expect("one of them is offered the session");
    let other = 1 - offered;
    assert!(first[other].iter().all(|f| f["type"] != "offer"));
    let offer = first[offered]
        .iter()
        .find(|f| f["type"] == "offer")
        .unwrap();
    let deadline = offer["deadlineMs"].as_i64().unwrap();
    // Offered while the tasks settled (the paused clock moves 1 ms per round there).
    let now = d.state.clock.now_ms();
    assert!(
        (now + 30_000 - 40..=now + 30_000).contains(&deadline),
        "{deadline} vs {now}"
    );

    // A second before the countdown ends nothing moves; past it, the desk redirects.
    tokio::time::advance(Duration::from_secs(29)).await;
    settle().await;
    assert!(drain_feed(&mut feeds[offered]).is_empty());
    tokio::time::advance(Duration::from_secs(2)).await;
    settle().await;
    let lapsed = drain_feed(&mut feeds[offered]);
    let released = lapsed
        .iter()
        .find(|f| f["type"] == "released")
        .expect("released");
    assert_eq!(released["reason"], "offer_expired");
    assert_eq!(released["sessionId"], offer["sessionId"]);
    let rest = lapsed
        .iter()
        .find(|f| f["type"] == "status")
        .expect("the auto short break");
    assert_eq!(
        (rest["status"].as_str(), rest["restReason"].as_str()),
        (Some("rest"), Some("missed offer"))
    );
    let next = drain_feed(&mut feeds[other]);
    let redirected = next
        .iter()
        .find(|f| f["type"] == "offer")
        .expect("offered to the other agent");
    assert_eq!(redirected["sessionId"], offer["sessionId"]);
    assert!(redirected["deadlineMs"].as_i64().unwrap() > deadline);

    // Each feed is numbered one by one from where the subscription started.
    for (i, frames) in [
        [
            first[0].clone(),
            if offered == 0 {
                lapsed.clone()
            } else {
                next.clone()
            },
        ]
        .concat(),
        [
            first[1].clone(),
            if offered == 1 {
                lapsed.clone()
            } else {
                next.clone()
            },
        ]
        .concat(),
    ]
    .iter()
    .enumerate()
    {
        let seqs: Vec<u64> = frames
            .iter()
            .map(|f| f["feedSeq"].as_u64().unwrap())
            .collect();
        let expected: Vec<u64> = (starts[i] + 1..=starts[i] + seqs.len() as u64).collect();
        assert_eq!(seqs, expected, "agent {i}");
    }
    // The view follows: the lapsed agent holds nothing, the other holds the offer.
    let views = [d.state.hub.feeds.view(ann), d.state.hub.feeds.view(bob)];
    assert!(views[offered].offers.is_empty() && views[offered].sessions.is_empty());
    assert_eq!(views[other].offers.len(), 1);
    assert_eq!(views[offered].presence.status, "rest");
}

/// A virtual number "sales" whose proactive group is the desk's group, and the rule on.
async fn proactive_desk(timeout_secs: u32) -> (Desk, ChannelId) {
    let d = desk(3).await;
    let sales = ChannelId(d.state.desk.next_id());
    let events = vec![
        Event::ChannelSaved {
            channel: Channel {
                id: sales,
                name: "Sales".into(),
                kind: ChannelKind::InApp {
                    user_id: "sales".into(),
                    avatar_url: None,
                    proactive_group: Some(d.group),
                },
                flow: None,
                skill_group: Some(d.group),
                satisfaction: None,
            },
        },
        Event::ProactiveRuleChanged {
            rule: helpline::domain::directory::ProactiveRule {
                enabled: true,
                timeout_secs,
            },
        },
    ];
    let events = events
        .into_iter()
        .map(|e| (StreamId::app(APP), e))
        .collect();
    let turn = d.state.desk.turn().await;
    d.state.desk.append(&turn, APP, events).await.unwrap();
    drop(turn);
    (d, sales)
}

/// Makes the directory (the API's read model) know what the engine wrote for `agent` and the
/// desk's group: the harness creates them through the engine directly.
fn fold_into_directory(d: &Desk, agent: AgentId) {
    for stream in [StreamId::agent(agent), StreamId::group(d.group)] {
        let events: Vec<(StreamId, Event)> = d
            .engine
            .shared()
            .log
            .read_stream(stream, 0)
            .unwrap()
            .into_iter()
            .map(|e| (stream, e.event))
            .collect();
        d.state.desk.fold(APP, &events);
    }
}

#[tokio::test(start_paused = true)]
async fn a_proactive_chat_the_user_never_answers_ends_after_the_rules_timeout() {
    let (d, sales) = proactive_desk(60).await;
    let ann = d.agent("ann").await;
    fold_into_directory(&d, ann);
    let mut feed = d.state.hub.subscribe_agent(ann, None);
    let mut user = d.state.hub.subscribe_user(APP, "u1");
    let (session, _) = d
        .state
        .hub
        .start_contact(&d.state, APP, ann, sales, "u1")
        .await
        .unwrap();
    settle().await;
    // The agent writes twice; that does not push the deadline back.
    for (i, at) in [10, 40].iter().enumerate() {
        tokio::time::advance(Duration::from_secs(if i == 0 { *at } else { 30 })).await;
        let say = AgentAction::Send {
            msg_id: format!("a{i}"),
            body: Body::Text {
                text: "Are you there?".into(),
            },
        };
        d.state
            .hub
            .agent_act(&d.state, ann, session, say)
            .await
            .unwrap();
    }
    drain_feed(&mut feed);
    drain(&mut user);
    tokio::time::advance(Duration::from_secs(19)).await;
    settle().await;
    assert!(
        drain_feed(&mut feed).iter().all(|f| f["type"] != "ended"),
        "59 s in, still live"
    );
    tokio::time::advance(Duration::from_secs(2)).await;
    settle().await;
    let ended: Vec<Value> = drain_feed(&mut feed)
        .into_iter()
        .filter(|f| f["type"] == "ended")
        .collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(
        (ended[0]["sessionId"].as_u64(), ended[0]["closeBy"].as_str()),
        (Some(session.0), Some("timer"))
    );
    let told = drain(&mut user);
    assert!(
        told.iter().any(|f| data(f)["src"] == "20"),
        "the user hears it timed out: {told:?}"
    );
    assert!(d.state.hub.feeds.view(ann).sessions.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_proactive_chat_the_user_answers_lives_past_the_timeout() {
    let (d, sales) = proactive_desk(60).await;
    let ann = d.agent("ann").await;
    fold_into_directory(&d, ann);
    let mut feed = d.state.hub.subscribe_agent(ann, None);
    let (session, conversation) = d
        .state
        .hub
        .start_contact(&d.state, APP, ann, sales, "u1")
        .await
        .unwrap();
    settle().await;
    tokio::time::advance(Duration::from_secs(30)).await;
    let message = UserMessage {
        to: "sales".into(),
        msg_id: "u-1".into(),
        online_user_only: false,
        body: Body::Text {
            text: "yes?".into(),
        },
    };
    let sent = d
        .state
        .hub
        .user_send(&d.state, APP, "u1", message)
        .await
        .unwrap();
    assert_eq!(sent.conversation_id, conversation);
    assert_eq!(
        d.session_of(conversation).await,
        Some(session),
        "the answer joins the session"
    );
    tokio::time::advance(Duration::from_secs(3_600)).await;
    settle().await;
    let frames = drain_feed(&mut feed);
    assert!(frames.iter().all(|f| f["type"] != "ended"), "{frames:?}");
    assert_eq!(d.state.hub.feeds.view(ann).sessions.len(), 1);
}

/// Signs the administrator in; answers the account and the sign-in's expiry.
async fn sign_in(state: &AppState) -> (AgentId, i64) {
    let account = state
        .desk
        .app(APP)
        .unwrap()
        .agents
        .values()
        .find(|a| !a.deleted && a.role == helpline::domain::directory::ADMINISTRATOR)
        .cloned()
        .unwrap();
    let turn = state.desk.turn().await;
    let (_, expires_at_ms) = api::auth::start_login(state, &turn, APP, &account, Vec::new())
        .await
        .unwrap();
    (account.id, expires_at_ms)
}

/// The frames a feed subscription got so far, and whether it is closed.
fn received(sub: &mut helpline::im::feed::FeedSubscription) -> (Vec<Value>, bool) {
    let mut frames = Vec::new();
    loop {
        match sub.rx.try_recv() {
            Ok(text) => frames.push(serde_json::from_str(&text).unwrap()),
            Err(tokio::sync::mpsc::error::TryRecvError::Empty) => return (frames, false),
            Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => return (frames, true),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn an_expired_sign_in_tells_its_sockets_and_closes_them() {
    let d = desk(1).await;
    let state = &d.state;
    let (agent, expires_at_ms) = sign_in(state).await;
    let mut socket = state.hub.subscribe_agent(agent, None);
    let ttl_ms = (expires_at_ms - state.clock.now_ms()) as u64;

    // A second before: nothing.
    tokio::time::advance(Duration::from_millis(ttl_ms - 1_000)).await;
    settle().await;
    assert_eq!(received(&mut socket), (Vec::new(), false));

    // At the expiry: told why, then closed.
    tokio::time::advance(Duration::from_millis(2_000)).await;
    settle().await;
    let (frames, closed) = received(&mut socket);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0]["type"], "signed_out");
    assert_eq!(frames[0]["cause"], "expired");
    assert!(closed, "the socket closes after it");
}

#[tokio::test(start_paused = true)]
async fn a_sign_in_replaced_before_its_expiry_does_not_expire_the_new_one() {
    let d = desk(1).await;
    let state = &d.state;
    let (agent, first_expiry) = sign_in(state).await;
    let ttl_ms = (first_expiry - state.clock.now_ms()) as u64;
    tokio::time::advance(Duration::from_millis(ttl_ms / 2)).await;
    let (_, second_expiry) = sign_in(state).await;
    assert!(second_expiry > first_expiry);
    let mut socket = state.hub.subscribe_agent(agent, None);

    // The first sign-in's time comes: it is not the agent's sign-in any more.
    tokio::time::advance(Duration::from_millis(ttl_ms / 2 + 1_000)).await;
    settle().await;
    assert_eq!(received(&mut socket), (Vec::new(), false));

    // The second's does.
    tokio::time::advance(Duration::from_millis(ttl_ms / 2)).await;
    settle().await;
    let (frames, closed) = received(&mut socket);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0]["cause"], "expired");
    assert!(closed);
}

#[tokio::test(start_paused = true)]
async fn sign_ins_from_before_a_restart_expire_too() {
    let d = desk(1).await;
    let (agent, expires_at_ms) = sign_in(&d.state).await;
    // A server started over the same directory, as a restart folds it from the log.
    let directory = d.state.desk.read().clone();
    let restarted = ApiState::new(
        d.engine.clone(),
        directory,
        helpline::im::hub::Hub::new(Default::default(), Vec::new(), Vec::new()),
        Clock::system(),
        ApiConfig::default(),
        "http://127.0.0.1".to_owned(),
    )
    .unwrap();
    let mut socket = restarted.hub.subscribe_agent(agent, None);
    let ttl_ms = (expires_at_ms - restarted.clock.now_ms()) as u64;
    tokio::time::advance(Duration::from_millis(ttl_ms + 1_000)).await;
    settle().await;
    let (frames, closed) = received(&mut socket);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0]["cause"], "expired");
    assert!(closed);
}

#[tokio::test(start_paused = true)]
async fn the_queue_wait_limit_ends_a_waiting_session_with_the_groups_message_and_src_20() {
    let d = desk(3).await;
    let limits = helpline::domain::group::QueueLimits {
        max_queue_wait_secs: 60,
        queue_wait_message: "Nobody is free now, sorry.".into(),
        ..Default::default()
    };
    d.engine
        .group(d.group, GroupCommand::SetQueueLimits(limits))
        .await
        .unwrap();
    let mut user = d.state.hub.subscribe_user(APP, "u1");
    let conversation = d.say("u1", "hello").await;
    settle().await;
    drain(&mut user);
    tokio::time::advance(Duration::from_secs(58)).await;
    settle().await;
    assert!(d.session_of(conversation).await.is_some(), "still waiting");
    tokio::time::advance(Duration::from_secs(3)).await;
    settle().await;
    let frames = drain(&mut user);
    let texts: Vec<&str> = frames
        .iter()
        .filter_map(|f| f["body"]["text"].as_str())
        .collect();
    assert_eq!(texts, ["Nobody is free now, sorry."], "{frames:?}");
    let text_at = frames.iter().position(|f| f["body"]["type"] == "text");
    let timeout_at = frames.iter().position(|f| data(f)["src"] == "20");
    assert!(
        text_at.is_some() && text_at < timeout_at,
        "the message, then src 20: {frames:?}"
    );
    assert_eq!(d.session_of(conversation).await, None);
    assert_eq!(
        d.stored(conversation).await.len(),
        3,
        "hello, the message, src 20"
    );
    // Counted as an expiry and as an abandon.
    use helpline::stats::Label;
    let live = d.engine.shared().registry.live.read();
    let g = &live.groups[&(Label::Id(u64::from(APP.0)), Label::Id(d.group.0))];
    assert_eq!((g.queue_wait_expiries, g.abandons), (1, 1));
}
