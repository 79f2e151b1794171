//! A desk without sockets, for tests on a paused clock that drive the hub itself: the
//! engine on the in-memory log, the API state with its hub, and the first administrator.
//! Each test adds its groups, channels and flows.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use helpline::api::{self, ApiConfig, ApiState, AppState};
use helpline::clock::Clock;
use helpline::domain::conversation::Body;
use helpline::domain::event::Event;
use helpline::domain::ids::{AppId, ConversationId, StreamId};
use helpline::engine::Engine;
use helpline::im::hub::UserMessage;
use helpline::log::MemLog;

/// The app the first administrator is made in.
pub const APP: AppId = AppId(1);

/// Lets every task run that can (the news workers, the group's routing).
pub async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The engine and the API state over one in-memory log, the administrator made.
pub async fn start() -> (AppState, Arc<Engine>) {
    let log = Arc::new(MemLog::new());
    let engine = Arc::new(Engine::start(log, Clock::system()).await.unwrap());
    let state = ApiState::new(
        engine.clone(),
        Default::default(),
        helpline::im::hub::Hub::new(Default::default(), Vec::new(), Vec::new()),
        Clock::system(),
        ApiConfig::default(),
        "http://127.0.0.1".to_owned(),
    )
    .unwrap();
    api::bootstrap(&state, Some("a-long-admin-password".to_owned()))
        .await
        .unwrap();
    (state, engine)
}

/// Appends `events` to the app's stream, as the console's changes are.
pub async fn append(state: &AppState, events: Vec<Event>) {
    let events = events
        .into_iter()
        .map(|e| (StreamId::app(APP), e))
        .collect();
    let turn = state.desk.turn().await;
    state.desk.append(&turn, APP, events).await.unwrap();
}

/// `user` writes `text` to the channel "desk"; answers the conversation.
pub async fn say(state: &AppState, user: &str, text: &str) -> ConversationId {
    let message = UserMessage {
        to: "desk".into(),
        msg_id: format!("{user}-{text}"),
        online_user_only: false,
        body: Body::Text { text: text.into() },
    };
    state
        .hub
        .user_send(state, APP, user, message)
        .await
        .unwrap()
        .conversation_id
}
