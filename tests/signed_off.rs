//! An agent nobody is behind is offline in the engine, so routing never offers it a chat:
//! signing out, a password reset by an administrator, the sign-in's expiry, and a
//! workstation gone for `server.agent_away_secs` (no socket back within the grace) each take
//! the agent offline, and its waiting offers go back to the queue. Over real HTTP and
//! sockets where no time passes; under a paused clock through the hub where it does.

mod common;
mod hub_desk;

use std::time::Duration;

use common::*;
use helpline::api;
use helpline::domain::agent::AgentCommand;
use helpline::domain::event::{AgentStatus, Event, LogoutCause};
use helpline::domain::ids::{AgentId, StreamId};
use helpline::domain::session::Phase;
use helpline::engine::Engine;
use helpline::log::EventLog;
use hub_desk::{APP, settle};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn text(id: &str, text: &str) -> Value {
    json!({"type": "send", "to": "desk", "msgId": id, "body": {"type": "text", "text": text}})
}

/// Whether the agent's stream says it was logged out for `cause`.
fn logged_out(log: &dyn EventLog, agent: u64, cause: LogoutCause) -> bool {
    log.read_stream(StreamId::agent(AgentId(agent)), 0)
        .unwrap()
        .iter()
        .any(|e| e.event == Event::AgentLoggedOut { cause })
}

/// The agent's status as the administrator's monitoring shows it.
async fn status_of(s: &Server, admin: &str, agent: u64) -> String {
    let view = s.get(admin, "/monitoring/agents").await;
    view["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agentId"].as_u64() == Some(agent))
        .map(|a| a["status"].as_str().unwrap().to_owned())
        .expect("the agent is monitored")
}

/// Signing out ends the sign-in and the login behind it: the offer waiting for Ann goes
/// back to the queue, and she is offline, not free, for the next user.
#[tokio::test]
async fn signing_out_takes_the_agent_offline_and_its_offer_back_to_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let (ann, token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
    let mut socket = s.agent_socket(&token).await;
    assert_eq!(status_of(&s, &admin, ann).await, "free");

    let now = s.state.clock.now_ms();
    let user = user_token(&end.secret, 1, "u1", now / 1_000 + 600);
    let mut user = s.user_socket(&user, "").await;
    user.send(text("m1", "hello")).await;
    let offer = socket.until(of_type("offer")).await;
    let session = helpline::domain::ids::SessionId(offer["sessionId"].as_u64().unwrap());

    let (code, body) = s.call(&token, Method::POST, "/auth/logout", None).await;
    assert_eq!(code, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(status_of(&s, &admin, ann).await, "offline");
    let phase = s.engine.session_state(session).await.unwrap().phase;
    assert!(matches!(phase, Phase::Queued { .. }), "{phase:?}");
    assert!(logged_out(&*s.log, ann, LogoutCause::Agent));
    s.stop().await;
}

/// An administrator's password reset ends the agent's sign-in: nobody can work the
/// workstation until the new password is used, so the agent is offline too.
#[tokio::test]
async fn a_password_reset_takes_the_agent_offline() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let (ann, token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
    let _socket = s.agent_socket(&token).await;
    assert_eq!(status_of(&s, &admin, ann).await, "free");
    s.ok(
        &admin,
        Method::POST,
        &format!("/agents/{ann}/password-reset"),
        json!({}),
    )
    .await;
    assert_eq!(status_of(&s, &admin, ann).await, "offline");
    assert!(logged_out(&*s.log, ann, LogoutCause::SignInEnded));
    s.stop().await;
}

/// The administrator, signed in and online in the engine (as the workstation's `online`
/// puts it).
async fn online_admin(state: &api::AppState, engine: &Engine) -> (AgentId, i64) {
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
    drop(turn);
    engine.agent(account.id, AgentCommand::Login).await.unwrap();
    (account.id, expires_at_ms)
}

async fn online(engine: &Engine, agent: AgentId) -> bool {
    engine.agent_state(agent).await.unwrap().status != AgentStatus::Offline
}

async fn advance(secs: u64) {
    tokio::time::advance(Duration::from_secs(secs)).await;
    settle().await;
}

#[tokio::test(start_paused = true)]
async fn an_expired_sign_in_takes_the_agent_offline() {
    let (state, engine) = hub_desk::start().await;
    let (agent, expires_at_ms) = online_admin(&state, &engine).await;
    let ttl_secs = ((expires_at_ms - state.clock.now_ms()) / 1_000) as u64;
    advance(ttl_secs - 1).await;
    assert!(online(&engine, agent).await, "online until the expiry");
    advance(2).await;
    assert!(!online(&engine, agent).await, "offline at the expiry");
}

/// The workstation's last socket closed: a minute later, with none back, the agent is
/// offline; one that came back in time keeps it online, and a socket that came and went
/// meanwhile restarts the grace from its own close.
#[tokio::test(start_paused = true)]
async fn a_workstation_gone_for_the_grace_takes_the_agent_offline() {
    let (state, engine) = hub_desk::start().await;
    let (agent, _) = online_admin(&state, &engine).await;
    let grace = state.config.server.agent_away_secs;
    assert_eq!(grace, api::DEFAULT_AGENT_AWAY_SECS);
    let close = |sub: helpline::im::feed::FeedSubscription| {
        let mark = state
            .hub
            .unsubscribe_agent(agent, sub.id())
            .expect("the agent's last socket");
        api::presence::watch_away(&state, agent, mark);
    };

    // A reload: closed, and back within the grace.
    close(state.hub.subscribe_agent(agent, None));
    advance(grace / 2).await;
    let back = state.hub.subscribe_agent(agent, None);
    advance(grace).await;
    assert!(
        online(&engine, agent).await,
        "a reload keeps the agent online"
    );

    // Closed, then a socket that came and went: the first close's time passes with the
    // second close only half a grace old.
    close(back);
    advance(grace / 2).await;
    close(state.hub.subscribe_agent(agent, None));
    advance(grace / 2 + 1).await;
    assert!(
        online(&engine, agent).await,
        "the grace runs from the last close"
    );

    // No socket for the whole grace: offline, saying why.
    advance(grace / 2).await;
    assert!(!online(&engine, agent).await, "nobody is behind the status");
    assert!(logged_out(
        &*engine.shared().log,
        agent.0,
        LogoutCause::Disconnected
    ));
}

/// Two sockets: closing one leaves the other, so nothing is watched.
#[tokio::test(start_paused = true)]
async fn an_agent_with_a_socket_left_is_not_away() {
    let (state, engine) = hub_desk::start().await;
    let (agent, _) = online_admin(&state, &engine).await;
    let first = state.hub.subscribe_agent(agent, None);
    let _second = state.hub.subscribe_agent(agent, None);
    assert_eq!(state.hub.unsubscribe_agent(agent, first.id()), None);
    advance(api::DEFAULT_AGENT_AWAY_SECS * 3).await;
    assert!(online(&engine, agent).await);
}
