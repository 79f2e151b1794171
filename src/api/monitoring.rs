//! Real-time monitoring for the console: every skill group's queue, waits, agents by status
//! and load, and every agent's status and sessions, as they are now.
//!
//! The figures come from the live stats (`crate::stats`, the cells the actors write and
//! `/metrics` exports) and the agents' workstation views (`crate::im::feed`), read without a
//! lock any actor waits on, so a console polling every second costs the desk nothing. The
//! counters (offers, accepts, abandons...) count since the server started; the history is
//! the data-analysis report's.
//!
//! `/monitoring/queue` goes beyond the figures: every waiting session with each member's
//! reason for not having it (`crate::domain::routing::explain`, over the group actor's own
//! view of its members) and every live offer with the routing decision the log recorded.
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
use crate::domain::ids::{AgentId, GroupId, SessionId};
use crate::domain::routing::{WaitReason, explain};
use crate::domain::settings::RoutingPolicy;
use crate::domain::workstation::View;
use crate::records::timeline::{DecisionView, RefusalView, RuleName};
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
    /// Since when it has had this status, ms since the epoch (null when unchanged since
    /// the server started).
    pub status_since_ms: Option<i64>,
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
            status_since_ms: state.hub.status_since_ms(agent.id),
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

/// Most waiting sessions explained per group: a monitor shows the head of a queue, and
/// each explanation costs one pass over the group's members.
pub const MAX_EXPLAINED_PER_GROUP: usize = 200;

/// Why a member of the group does not have a waiting session (or is about to).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaitReasonKind {
    /// Not logged in.
    Offline,
    /// Status not free (`status` says which).
    NotFree,
    /// Sessions in hand at the reception limit (`load`, `limit`).
    AtLimit,
    /// Room held by reservations for other sessions (`load`, `pending`, `limit`).
    Reserved,
    /// Missed this session's offer: asked again only when nobody else can take it.
    Excluded,
    /// Being asked for a reservation for it now.
    Asked,
    /// Could take it; the session waits for the member being asked.
    Capable,
    /// Routing picks it now (`rule`).
    Next,
}

/// One member and why it does not have the session.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberReason {
    /// The agent.
    pub agent_id: AgentId,
    /// Why.
    pub reason: WaitReasonKind,
    /// Its status as its workstation shows it.
    pub status: String,
    /// Sessions in hand, as the group counts them.
    pub load: u32,
    /// Reservations the group asked it for and has not heard back on.
    pub pending: u32,
    /// The group's reception limit.
    pub limit: u32,
    /// For `next`: the rule that makes it the choice.
    pub rule: Option<RuleName>,
    /// Its priority in the group (1 highest).
    pub priority: u8,
}

/// A session waiting in a queue, and why no agent has it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaitingSessionView {
    /// The session.
    pub session_id: SessionId,
    /// Sessions ahead of it.
    pub position: u32,
    /// Its place: entry time, kept across redirects, ms since the epoch.
    pub queued_at_ms: i64,
    /// How long it has waited, ms.
    pub wait_ms: u64,
    /// The user's last receptionist ("last receptionist first").
    pub last_agent_id: Option<AgentId>,
    /// The agent that missed its offer.
    pub excluded_agent_id: Option<AgentId>,
    /// The member being asked for it now.
    pub asked_agent_id: Option<AgentId>,
    /// Members that refused it so far.
    pub refused: Vec<RefusalView>,
    /// Every member of the group and why it does not have it.
    pub members: Vec<MemberReason>,
}

/// One skill group's queue.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupQueueView {
    /// The group.
    pub skill_group_id: GroupId,
    /// Its name.
    pub name: String,
    /// Its reception limit.
    pub reception_limit: u32,
    /// Sessions waiting.
    pub queue_length: u64,
    /// The waiting sessions, first to be served first (at most 200).
    pub sessions: Vec<WaitingSessionView>,
}

/// An offer waiting for its agent, and why that agent.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LiveOfferView {
    /// The session.
    pub session_id: SessionId,
    /// The agent offered.
    pub agent_id: AgentId,
    /// The group that routed it (null for a transfer to a named agent).
    pub skill_group_id: Option<GroupId>,
    /// When it was offered, ms since the epoch.
    pub offered_at_ms: i64,
    /// When the countdown ends.
    pub deadline_ms: i64,
    /// The routing decision the engine recorded.
    pub decision: DecisionView,
}

/// Every queue and live offer in the caller's scope, with why.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueMonitor {
    /// When it was read, ms since the epoch.
    pub at_ms: i64,
    /// The app's routing policy.
    pub policy: RoutingPolicy,
    /// The groups, by id.
    pub groups: Vec<GroupQueueView>,
    /// Offers waiting for an answer, by session.
    pub offers: Vec<LiveOfferView>,
}

fn reason_kind(reason: WaitReason) -> (WaitReasonKind, Option<RuleName>) {
    match reason {
        WaitReason::Offline => (WaitReasonKind::Offline, None),
        WaitReason::NotFree => (WaitReasonKind::NotFree, None),
        WaitReason::AtLimit { .. } => (WaitReasonKind::AtLimit, None),
        WaitReason::Reserved { .. } => (WaitReasonKind::Reserved, None),
        WaitReason::Excluded => (WaitReasonKind::Excluded, None),
        WaitReason::Asked => (WaitReasonKind::Asked, None),
        WaitReason::Capable => (WaitReasonKind::Capable, None),
        WaitReason::Next { rule } => (WaitReasonKind::Next, Some(rule.into())),
    }
}

/// Every queued session per skill group with its wait, its place and why no agent has it
/// (each member's reason, from the same view routing ranks), and every live offer with the
/// routing decision behind it: "why is it still waiting" and "why this agent".
#[utoipa::path(get, path = "/monitoring/queue", tag = "monitoring",
    responses((status = 200, description = "the queues and offers now, with why", body = QueueMonitor)))]
pub async fn queue(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<QueueMonitor>, ApiError> {
    let (dir, scope) = scope(&state, &who)?;
    let engine = &state.desk.engine;
    let policy = engine.shared().registry.settings(who.app).routing;
    let now_ms = state.clock.now_ms();
    let mut out = QueueMonitor {
        at_ms: now_ms,
        policy,
        groups: Vec::new(),
        offers: Vec::new(),
    };
    let groups: Vec<GroupId> = dir
        .groups
        .keys()
        .copied()
        .filter(|g| scope.covers(*g))
        .collect();
    let mut statuses: BTreeMap<AgentId, String> = BTreeMap::new();
    for id in &groups {
        let group = &dir.groups[id];
        // A group whose actor is gone (deleted a moment ago) has no queue to show.
        let Ok(waiting) = engine.queue_waiting(*id).await else {
            continue;
        };
        for m in &waiting.members {
            statuses
                .entry(m.agent)
                .or_insert_with(|| state.hub.feeds.view(m.agent).presence.status.to_owned());
        }
        let sessions = waiting
            .sessions
            .iter()
            .take(MAX_EXPLAINED_PER_GROUP)
            .enumerate()
            .map(|(position, s)| {
                let reasons = explain(policy, waiting.limit, s.request, &waiting.members, s.asked);
                let members = reasons
                    .into_iter()
                    .zip(&waiting.members)
                    .map(|((agent, reason), c)| {
                        let (kind, rule) = reason_kind(reason);
                        MemberReason {
                            agent_id: agent,
                            reason: kind,
                            status: statuses.get(&agent).cloned().unwrap_or_default(),
                            load: c.load,
                            pending: c.pending,
                            limit: waiting.limit,
                            rule,
                            priority: c.priority,
                        }
                    })
                    .collect();
                WaitingSessionView {
                    session_id: s.session,
                    position: position as u32,
                    queued_at_ms: s.queued_at_ms,
                    wait_ms: now_ms.saturating_sub(s.queued_at_ms).max(0) as u64,
                    last_agent_id: s.request.last_agent,
                    excluded_agent_id: s.request.excluded,
                    asked_agent_id: s.asked,
                    refused: s
                        .refused
                        .iter()
                        .map(|r| RefusalView::new(r.agent, &r.reason))
                        .collect(),
                    members,
                }
            })
            .collect();
        out.groups.push(GroupQueueView {
            skill_group_id: *id,
            name: group.name.clone(),
            reception_limit: waiting.limit,
            queue_length: waiting.sessions.len() as u64,
            sessions,
        });
    }
    if let Some(records) = state.records.service() {
        // The offers are the records' (the decision is only in the log): as of what the
        // caller could have been told, like every record.
        let view = super::records::caught_up(records, false).await?;
        for offer in view.live_offers(who.app) {
            let visible = match (&scope, offer.group) {
                (Scope::All, _) => true,
                (Scope::Only(_), Some(g)) => scope.covers(g),
                // A transfer to a named agent: seen by who sees that agent.
                (Scope::Only(_), None) => dir.groups_of(offer.agent).any(|g| scope.covers(g.id)),
            };
            if visible {
                out.offers.push(LiveOfferView {
                    session_id: offer.session,
                    agent_id: offer.agent,
                    skill_group_id: offer.group,
                    offered_at_ms: offer.offered_at_ms,
                    deadline_ms: offer.deadline_ms,
                    decision: DecisionView::from(&offer.decision),
                });
            }
        }
    }
    Ok(Json(out))
}
