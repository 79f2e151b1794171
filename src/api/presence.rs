//! Whether anyone is behind an agent's status. An agent online in the engine is offered
//! chats; when the workstation that put it online is gone (the tab closed, the laptop shut,
//! the network lost) nobody would ever answer them. So when an agent's last workstation
//! socket closes, the desk waits `server.agent_away_secs` (60 s: a reload or a blip
//! reconnects well within it) and, if no socket opened meanwhile, takes the agent offline
//! (cause `disconnected`). Offers go back to their queues; sessions in service stay with the
//! agent, whose next sign-in finds them.
//!
//! Only agents who had a socket are watched: an integration that works the desk over REST
//! alone (`POST /api/v1/workstation/commands`) keeps its status until it changes it.

use std::sync::Arc;

use crate::domain::agent::AgentCommand;
use crate::domain::event::LogoutCause;
use crate::domain::ids::AgentId;

use super::AppState;

/// The agent's last workstation socket closed at `mark` (from
/// [`crate::im::hub::Hub::unsubscribe_agent`]): unless one opens within the grace, the agent
/// goes offline.
pub fn watch_away(state: &AppState, agent: AgentId, mark: u64) {
    let secs = state.config.server.agent_away_secs;
    if secs == 0 {
        return;
    }
    // From the close, not from whenever the task first runs.
    let at = state
        .clock
        .instant_at(state.clock.now_ms() + (secs * 1_000) as i64);
    let weak = Arc::downgrade(state);
    tokio::spawn(async move {
        tokio::time::sleep_until(at).await;
        let Some(state) = weak.upgrade() else { return };
        if state.hub.agent_gone_since(agent, mark) {
            tracing::info!(%agent, secs, "no workstation socket: taking the agent offline");
            state
                .log_out_in_engine(agent, AgentCommand::LogoutBy(LogoutCause::Disconnected))
                .await;
        }
    });
}
