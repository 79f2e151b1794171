//! What the agent workstation asks besides its socket: where a session can be handed on,
//! skill groups with how many of their agents are free now, and agents with their status.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::event::AgentStatus;
use crate::domain::ids::{AgentId, GroupId};

use super::AppState;
use super::auth::Principal;
use super::error::{ApiError, Body};

/// A skill group a session can go to.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupTarget {
    /// The group.
    pub id: GroupId,
    /// Its name.
    pub name: String,
    /// Its members.
    pub members: usize,
    /// Members who could take a session now: free, and under the group's reception limit.
    pub free_agents: usize,
}

/// An agent a session can go to.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentTarget {
    /// The agent.
    pub id: AgentId,
    /// The name users see.
    pub nickname: String,
    /// Employee number.
    pub staff_no: String,
    /// `free`, `busy`, `rest`, `arrange`, `notReady` or `offline`.
    pub status: String,
    /// The rest reason, when resting.
    pub rest_reason: Option<String>,
    /// Sessions in hand.
    pub sessions: usize,
    /// The groups it is a member of.
    pub groups: Vec<GroupId>,
}

/// Where the caller may transfer a session.
#[derive(Serialize, ToSchema)]
pub struct TransferTargets {
    /// Every skill group of the app.
    pub groups: Vec<GroupTarget>,
    /// Every other agent in a skill group of the app.
    pub agents: Vec<AgentTarget>,
}

/// Skill groups with their free agents, and agents with their status, for a transfer.
#[utoipa::path(get, path = "/workstation/transfer-targets", tag = "workstation",
    responses((status = 200, description = "groups and agents", body = TransferTargets)))]
pub async fn transfer_targets(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<TransferTargets>, ApiError> {
    let dir = state.desk.app(who.app)?;
    let members: BTreeSet<AgentId> = dir
        .groups
        .values()
        .flat_map(|g| g.members.keys().copied())
        .collect();
    let engine = &state.desk.engine;
    let asked =
        futures_util::future::join_all(members.iter().map(|a| engine.agent_state(*a))).await;
    // An agent deleted since the directory was read is left out.
    let states: BTreeMap<AgentId, _> = asked
        .into_iter()
        .filter_map(Result::ok)
        .filter(|s| !s.deleted && s.app == who.app)
        .map(|s| (s.id, s))
        .collect();
    // Free, and with room under the group's reception limit: could take a session now.
    let free = |a: &AgentId, limit: u32| {
        states
            .get(a)
            .is_some_and(|s| s.status == AgentStatus::Free && s.sessions.len() < limit as usize)
    };
    let groups = dir
        .groups
        .values()
        .map(|g| GroupTarget {
            id: g.id,
            name: g.name.clone(),
            members: g.members.keys().filter(|a| states.contains_key(a)).count(),
            free_agents: g
                .members
                .keys()
                .filter(|a| free(a, g.reception_limit))
                .count(),
        })
        .collect();
    let agents = states
        .values()
        .filter(|s| Some(s.id) != who.agent)
        .map(|s| AgentTarget {
            id: s.id,
            nickname: s.nickname.clone(),
            staff_no: s.staff_no.clone(),
            status: s.status.as_str().to_owned(),
            rest_reason: match &s.status {
                AgentStatus::Rest { reason } => Some(reason.clone()),
                _ => None,
            },
            sessions: s.sessions.len(),
            groups: dir
                .groups
                .values()
                .filter(|g| g.members.contains_key(&s.id))
                .map(|g| g.id)
                .collect(),
        })
        .collect();
    Ok(Json(TransferTargets { groups, agents }))
}

/// A workstation command, as on the agent's socket: `{"type": "<command>", ...fields}`.
#[derive(Deserialize, ToSchema)]
pub struct CommandInput {
    /// `online`, `offline`, `status`, `accept`, `end`, `send`, `quick_reply`, `typing`,
    /// `invite_rating`, `transfer_to_group`, `transfer_to_agent`, `proactive` or `ping`.
    pub r#type: String,
    /// Echoed in the reply.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
}

/// A command carried out.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommandReply {
    /// `ok` (or `pong` for `ping`).
    pub r#type: String,
    /// The command.
    pub command: Option<String>,
    /// The command's `ref`.
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Its session.
    pub session_id: Option<u64>,
    /// For `send`: the client's message id.
    pub msg_id: Option<String>,
    /// For `send` and `proactive`: the stored message's place.
    pub seq: Option<u64>,
}

/// Carries out a workstation command, as the agent's socket does; what it causes reaches
/// the agent's feed (and socket) as usual. A refusal changes nothing.
#[utoipa::path(post, path = "/workstation/commands", tag = "workstation",
    request_body = CommandInput,
    responses((status = 200, description = "carried out", body = CommandReply)))]
pub async fn command(
    State(state): State<AppState>,
    who: Principal,
    Body(input): Body<serde_json::Value>,
) -> Result<Json<CommandReply>, ApiError> {
    let agent = who.agent.ok_or_else(|| {
        ApiError::forbidden("workstation commands are an agent's, not an API key's")
    })?;
    let handled = super::ws::agent_command(&state, who.app, agent, &input.to_string()).await;
    let reply = handled.frame();
    handled.outcome?;
    serde_json::from_str(&reply)
        .map(Json)
        .map_err(|_| ApiError::Internal("reply"))
}
