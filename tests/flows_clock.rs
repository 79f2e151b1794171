//! Session service flows where time matters, on a paused clock through the hub itself (the
//! in-memory log, no sockets): the end module's user-reply timeout ends a served session
//! with the flow's own auto-termination message and src 20, in place of the app's; and a
//! flow that reaches its end without asking for a human ends the session (src 19, closeBy
//! `flow`).

use std::sync::Arc;
use std::time::Duration;

use helpline::api::AppState;
use helpline::domain::agent::AgentCommand;
use helpline::domain::conversation::Body;
use helpline::domain::directory::{Channel, ChannelKind};
use helpline::domain::event::Event;
use helpline::domain::group::GroupCommand;
use helpline::domain::ids::{ChannelId, ConversationId, FlowId, GroupId};
use helpline::engine::Engine;
use helpline::im::hub::{AgentAction, Subscription};
use serde_json::{Value, json};

mod hub_desk;

use hub_desk::{APP, settle};

struct Desk {
    state: AppState,
    engine: Arc<Engine>,
    group: GroupId,
}

/// A desk whose channel "desk" runs `graph` (given the group's id).
async fn desk(graph: impl FnOnce(GroupId) -> Value) -> Desk {
    let (state, engine) = hub_desk::start().await;
    let group = engine.create_group(APP, "support", 3).await.unwrap();
    let flow = FlowId(state.desk.next_id());
    let channel = ChannelId(state.desk.next_id());
    let events = vec![
        Event::FlowSaved {
            flow,
            name: "reception".into(),
            version: 1,
            graph: graph(group).to_string(),
            saved_at_ms: 0,
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
                flow: Some(flow),
                skill_group: None,
                satisfaction: None,
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
    async fn say(&self, user: &str, text: &str) -> ConversationId {
        hub_desk::say(&self.state, user, text).await
    }

    async fn texts(&self, conversation: ConversationId) -> Vec<String> {
        let slot = self.state.hub.lock(conversation).await.unwrap();
        slot.entry
            .messages
            .after(0)
            .iter()
            .filter_map(|m| match &m.body {
                Body::Text { text } => Some(text.clone()),
                Body::Custom { .. } | Body::File { .. } => None,
            })
            .collect()
    }
}

fn drain(sub: &mut Subscription) -> Vec<Value> {
    let mut out = Vec::new();
    while let Ok(frame) = sub.rx.try_recv() {
        out.push(serde_json::from_str(&frame.text).unwrap());
    }
    out
}

fn srcs(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .filter_map(|f| {
            let data: Value = serde_json::from_str(f["body"]["data"].as_str()?).ok()?;
            Some(data["src"].as_str()?.to_owned())
        })
        .collect()
}

fn end(reply_timeout_secs: u32, auto: &str) -> Value {
    json!({"id": "end", "module": {"type": "end", "replyTimeoutSecs": reply_timeout_secs,
        "autoTerminationMessage": auto, "humanTerminationMessage": "Thanks"}})
}

#[tokio::test(start_paused = true)]
async fn the_end_modules_reply_timeout_ends_with_its_own_message_and_src_20() {
    let d = desk(|group| {
        json!({"nodes": [{"id": "start", "module": {"type": "start"}},
            {"id": "desk", "module": {"type": "transfer_to_agent", "group": group.0}},
            end(60, "We closed this chat as we did not hear from you, ${UserId}")],
          "edges": [{"from": "start", "port": "next", "to": "desk"}, {"from": "desk", "port": "next", "to": "end"}]})
    })
    .await;
    // The app's own timeout is long and its message another: the flow's win.
    let mut settings = (*d.engine.settings(APP)).clone();
    settings.user_reply_timeout_secs = 3_600;
    d.engine.update_settings(APP, settings).await.unwrap();
    let agent = d
        .engine
        .create_agent(APP, "ann", "ann", "a1")
        .await
        .unwrap();
    d.engine
        .group(d.group, GroupCommand::AddMember(agent, 1))
        .await
        .unwrap();
    d.engine.agent(agent, AgentCommand::Login).await.unwrap();
    let mut user = d.state.hub.subscribe_user(APP, "u1");
    let conversation = d.say("u1", "hello").await;
    settle().await;
    let session = d
        .state
        .hub
        .lock(conversation)
        .await
        .unwrap()
        .entry
        .service
        .session
        .unwrap();
    d.state
        .hub
        .agent_act(&d.state, agent, session, AgentAction::Accept)
        .await
        .unwrap();
    settle().await;
    let reply = AgentAction::Send {
        msg_id: "a1".into(),
        body: Body::Text {
            text: "How can I help?".into(),
        },
    };
    let replied_at = d.state.clock.now_ms();
    d.state
        .hub
        .agent_act(&d.state, agent, session, reply)
        .await
        .unwrap();
    drain(&mut user);
    tokio::time::advance(Duration::from_secs(29)).await;
    settle().await;
    assert!(srcs(&drain(&mut user)).is_empty(), "not yet");
    // 30 s before the end, the user is reminded (src 38, stored), with when it ends.
    tokio::time::advance(Duration::from_secs(2)).await;
    settle().await;
    let frames = drain(&mut user);
    assert_eq!(srcs(&frames), ["38"], "{frames:?}");
    let reminder: Value =
        serde_json::from_str(frames[0]["body"]["data"].as_str().unwrap()).unwrap();
    assert_eq!(
        reminder,
        json!({"customerServicePlugin": 0, "src": "38", "content": {
            "tip": helpline::domain::service::REPLY_REMINDER_TEXT,
            "endTime": (replied_at + 60_000).div_euclid(1_000)}})
    );
    assert_eq!(frames[0]["onlineUserOnly"], false, "stored: {frames:?}");
    assert!(frames[0]["seq"].is_u64());
    tokio::time::advance(Duration::from_secs(28)).await;
    settle().await;
    assert!(srcs(&drain(&mut user)).is_empty(), "reminded once");
    tokio::time::advance(Duration::from_secs(2)).await;
    settle().await;
    let frames = drain(&mut user);
    assert_eq!(srcs(&frames), ["26", "20"], "{frames:?}");
    let texts = d.texts(conversation).await;
    assert_eq!(
        texts.last().map(String::as_str),
        Some("We closed this chat as we did not hear from you, u1")
    );
    assert!(
        !texts.iter().any(|t| t == "Thanks"),
        "a timeout is no normal end"
    );
}

#[tokio::test(start_paused = true)]
async fn a_flow_that_ends_without_a_human_ends_the_session() {
    let d = desk(|_| {
        json!({"nodes": [{"id": "start", "module": {"type": "start"}},
            {"id": "closed", "module": {"type": "send_message", "text": "We are closed, ${UserId}"}},
            end(0, "")],
          "edges": [{"from": "start", "port": "next", "to": "closed"}, {"from": "closed", "port": "next", "to": "end"}]})
    })
    .await;
    let mut user = d.state.hub.subscribe_user(APP, "u1");
    let conversation = d.say("u1", "hello").await;
    settle().await;
    let frames = drain(&mut user);
    assert!(srcs(&frames).contains(&"19".to_owned()), "{frames:?}");
    assert_eq!(d.texts(conversation).await, ["hello", "We are closed, u1"]);
    let slot = d.state.hub.lock(conversation).await.unwrap();
    assert_eq!(slot.entry.service.session, None, "ended");
    drop(slot);
    // Writing again starts the flow again, in a new session.
    d.say("u1", "anyone?").await;
    settle().await;
    assert_eq!(
        d.texts(conversation).await,
        ["hello", "We are closed, u1", "anyone?", "We are closed, u1"]
    );
}
