//! Real-time monitoring for the console: every skill group's queue, waits, agents by status
//! and load, and every agent's status and sessions, as they are now.
//!
//! The figures come from the live stats (`crate::stats`, the cells the actors write and
//! `/metrics` exports) and the agents' workstation views (`crate::im::feed`), read without a
//! lock any actor waits on, so a console polling every second costs the desk nothing. The
//! counters (offers, accepts, abandons...) count since the server started; the history is
//! the data-analysis report's.
//!
//! Who sees what: a role with the `monitoring` module sees the skill groups of its scope
//! (all when unscoped) and the agents in them; an administrator and an API key see the
//! whole app; an agent (the built-in agent role) and a role without the module get 403.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::directory::{AppDirectory, Module, Scope};
use crate::domain::ids::{AgentId, GroupId};
use crate::domain::workstation::View;
use crate::stats::cell::GroupSnapshot;
use crate::stats::histogram::HistogramSnapshot;
use crate::stats::status::{StatusCounts, StatusKind};

use super::AppState;
use super::auth::Principal;
use super::error::{ApiError, Params};

/// Agents by status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusView {
    /// Available: sessions are allocated to them.
    pub free: u64,
    /// Busy: no new sessions.
    pub busy: u64,
    /// On a short break.
    pub rest: u64,
    /// Organizing information after a session.
    pub arrange: u64,
    /// Logged in, not ready.
    pub not_ready: u64,
    /// Not logged in.
    pub offline: u64,
}

impl StatusView {
    fn add(&mut self, status: StatusKind, agents: u64) {
        let slot = match status {
            StatusKind::Free => &mut self.free,
            StatusKind::Busy => &mut self.busy,
            StatusKind::Rest => &mut self.rest,
            StatusKind::Arrange => &mut self.arrange,
            StatusKind::NotReady => &mut self.not_ready,
            StatusKind::Offline => &mut self.offline,
        };
        *slot += agents;
    }

    /// Counts one agent whose workstation shows `status` (the names are the stats' own).
    fn count(&mut self, status: &str) {
        let kind = StatusKind::ALL
            .into_iter()
            .find(|k| k.as_str() == status)
            .unwrap_or(StatusKind::Offline);
        self.add(kind, 1);
    }
}

impl From<&StatusCounts> for StatusView {
    fn from(counts: &StatusCounts) -> Self {
        let mut view = Self::default();
        for (kind, agents) in StatusKind::ALL.into_iter().zip(counts) {
            view.add(kind, *agents);
        }
        view
    }
}

/// One skill group, now.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupMonitor {
    /// The group.
    pub skill_group_id: GroupId,
    /// Its name.
    pub name: String,
    /// Sessions each member serves at most.
    pub reception_limit: u32,
    /// Members.
    pub members: u64,
    /// Members by status.
    pub agents: StatusView,
    /// Sessions waiting in its queue.
    pub queue_length: u64,
    /// How long the session waiting longest has waited, ms (null with an empty queue).
    pub longest_wait_ms: Option<u64>,
    /// Sessions its members serve now, routed by this group.
    pub in_service: u64,
    /// Sessions more its free members could take now: for each free member, the reception
    /// limit less the sessions in their hands.
    pub free_capacity: u64,
    /// Sessions offered to an agent since the server started.
    pub offers: u64,
    /// Sessions assigned to an agent at once (auto reception) since the start.
    pub assignments: u64,
    /// Offers accepted since the start.
    pub accepts: u64,
    /// Offers whose countdown ran out since the start.
    pub timeouts: u64,
    /// Sessions put back in the queue after a missed offer since the start.
    pub redirects: u64,
    /// Sessions an agent handed on since the start.
    pub transfers: u64,
    /// Sessions the user ended before an agent took them since the start.
    pub abandons: u64,
    /// Average wait from entering the queue to an agent, ms, since the start.
    pub avg_queue_wait_ms: Option<u64>,
    /// Average time from an offer to its accept, ms, since the start.
    pub avg_offer_to_accept_ms: Option<u64>,
    /// Average time an agent served a session, ms, since the start.
    pub avg_handle_ms: Option<u64>,
}

/// Every group in the caller's scope, and their sum.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupsMonitor {
    /// When it was read, ms since the epoch.
    pub at_ms: i64,
    /// The groups, by id.
    pub groups: Vec<GroupMonitor>,
    /// Sessions waiting in all of them.
    pub queue_length: u64,
    /// The longest wait in any of them, ms.
    pub longest_wait_ms: Option<u64>,
    /// Sessions in service through all of them.
    pub in_service: u64,
    /// Agents of the groups by status, each counted once.
    pub agents: StatusView,
}

/// One agent, now.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentMonitor {
    /// The agent.
    pub agent_id: AgentId,
    /// Name.
    pub name: String,
    /// Nickname the users see.
    pub nickname: String,
    /// Staff number.
    pub staff_no: String,
    /// `offline`, `free`, `busy`, `rest`, `arrange` or `not_ready`.
    pub status: String,
    /// The rest reason, for `rest`.
    pub rest_reason: Option<String>,
    /// Sessions in hand.
    pub sessions: u64,
    /// Offers waiting for an answer.
    pub offers: u64,
    /// Sessions they serve at most: the highest reception limit of their groups.
    pub reception_limit: u32,
    /// Sessions in hand over the reception limit (0 to 1; more when handed sessions by name).
    pub load: f64,
    /// Their skill groups (those in the caller's scope).
    pub skill_group_ids: Vec<GroupId>,
}

/// Every agent in the caller's scope.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentsMonitor {
    /// When it was read, ms since the epoch.
    pub at_ms: i64,
    /// The agents, by id.
    pub agents: Vec<AgentMonitor>,
    /// The same agents by status.
    pub by_status: StatusView,
}

/// Which agents to show.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct AgentsFilter {
    /// Members of this skill group only.
    pub group_id: Option<GroupId>,
}

fn scope(
    state: &AppState,
    who: &Principal,
) -> Result<(std::sync::Arc<AppDirectory>, Scope), ApiError> {
    let dir = state.desk.app(who.app)?;
    let scope = who.scope(&dir, Module::Monitoring)?;
    Ok((dir, scope))
}

fn average(h: &HistogramSnapshot) -> Option<u64> {
    let n = h.count();
    (n > 0).then(|| h.sum_ms / n)
}

fn group_monitor(
    dir: &AppDirectory,
    id: GroupId,
    snapshot: GroupSnapshot,
    views: &BTreeMap<AgentId, View>,
    now_ms: i64,
) -> Option<GroupMonitor> {
    let group = dir.groups.get(&id)?;
    let agents = StatusView::from(&snapshot.agents);
    let limit = u64::from(group.reception_limit);
    let free_capacity = group
        .members
        .keys()
        .filter_map(|a| views.get(a))
        .filter(|v| v.presence.status == "free")
        .map(|v| limit.saturating_sub(v.sessions.len() as u64))
        .sum();
    Some(GroupMonitor {
        skill_group_id: id,
        name: group.name.clone(),
        reception_limit: group.reception_limit,
        members: group.members.len() as u64,
        agents,
        queue_length: snapshot.queue.len,
        longest_wait_ms: snapshot
            .queue
            .oldest_ms
            .map(|t| (now_ms.max(0) as u64).saturating_sub(t)),
        in_service: snapshot.in_service,
        free_capacity,
        offers: snapshot.offers,
        assignments: snapshot.assignments,
        accepts: snapshot.accepts,
        timeouts: snapshot.timeouts,
        redirects: snapshot.redirects,
        transfers: snapshot.transfers,
        abandons: snapshot.abandons,
        avg_queue_wait_ms: average(&snapshot.queue_wait),
        avg_offer_to_accept_ms: average(&snapshot.offer_to_accept),
        avg_handle_ms: average(&snapshot.handle_time),
    })
}

/// Every skill group in the caller's scope: queue, waits, agents by status and load, now.
#[utoipa::path(get, path = "/monitoring/groups", tag = "monitoring",
    responses((status = 200, description = "the groups now", body = GroupsMonitor)))]
pub async fn groups(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<GroupsMonitor>, ApiError> {
    let (dir, scope) = scope(&state, &who)?;
    let live = &state.desk.engine.shared().registry.live;
    let now_ms = state.clock.now_ms();
    let mut out = GroupsMonitor {
        at_ms: now_ms,
        groups: Vec::new(),
        queue_length: 0,
        longest_wait_ms: None,
        in_service: 0,
        agents: StatusView::default(),
    };
    let groups: Vec<GroupId> = dir
        .groups
        .keys()
        .copied()
        .filter(|g| scope.covers(*g))
        .collect();
    // Each member's workstation view, read once however many groups they are in.
    let views: BTreeMap<AgentId, View> = groups
        .iter()
        .flat_map(|g| dir.groups[g].members.keys())
        .filter(|a| dir.live_agent(**a).is_some())
        .map(|a| (*a, state.hub.feeds.view(*a)))
        .collect();
    for id in groups {
        let snapshot = live
            .group(who.app, id)
            .map(|g| g.snapshot())
            .unwrap_or_default();
        if let Some(g) = group_monitor(&dir, id, snapshot, &views, now_ms) {
            out.queue_length += g.queue_length;
            out.in_service += g.in_service;
            out.longest_wait_ms = out.longest_wait_ms.max(g.longest_wait_ms);
            out.groups.push(g);
        }
    }
    for view in views.values() {
        out.agents.count(view.presence.status);
    }
    Ok(Json(out))
}

/// Every agent in the caller's scope: status, sessions in hand, offers waiting and load, now.
#[utoipa::path(get, path = "/monitoring/agents", tag = "monitoring", params(AgentsFilter),
    responses((status = 200, description = "the agents now", body = AgentsMonitor)))]
pub async fn agents(
    State(state): State<AppState>,
    who: Principal,
    Params(filter): Params<AgentsFilter>,
) -> Result<Json<AgentsMonitor>, ApiError> {
    let (dir, scope) = scope(&state, &who)?;
    if let Some(g) = filter.group_id {
        if !dir.groups.contains_key(&g) {
            return Err(ApiError::invalid(
                "groupId",
                format!("{g} is not a skill group"),
            ));
        }
        if !scope.covers(g) {
            return Err(ApiError::forbidden(format!(
                "{g} is outside your role's skill groups"
            )));
        }
    }
    let mut out = AgentsMonitor {
        at_ms: state.clock.now_ms(),
        agents: Vec::new(),
        by_status: StatusView::default(),
    };
    for agent in dir.agents.values().filter(|a| !a.deleted) {
        let groups: Vec<_> = dir
            .groups_of(agent.id)
            .filter(|g| scope.covers(g.id))
            .collect();
        let visible = match (&scope, filter.group_id) {
            (_, Some(g)) => groups.iter().any(|x| x.id == g),
            (Scope::All, None) => true,
            (Scope::Only(_), None) => !groups.is_empty(),
        };
        if !visible {
            continue;
        }
        let view = state.hub.feeds.view(agent.id);
        let limit = groups.iter().map(|g| g.reception_limit).max().unwrap_or(0);
        let sessions = view.sessions.len() as u64;
        out.by_status.count(view.presence.status);
        out.agents.push(AgentMonitor {
            agent_id: agent.id,
            name: agent.name.clone(),
            nickname: agent.nickname.clone(),
            staff_no: agent.staff_no.clone(),
            status: view.presence.status.to_owned(),
            rest_reason: view.presence.rest_reason.clone(),
            sessions,
            offers: view.offers.len() as u64,
            reception_limit: limit,
            load: if limit == 0 {
                0.0
            } else {
                sessions as f64 / f64::from(limit)
            },
            skill_group_ids: groups.iter().map(|g| g.id).collect(),
        });
    }
    Ok(Json(out))
}
