//! Skill group management: create (name, reception limit, queue limits), rename, change the
//! limits, delete (members keep their accounts), add and remove members, set member priority.
//! Lists and lookups are limited to the caller's skill-group range.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::directory::{AppDirectory, GroupRecord, Module, Scope};
use crate::domain::event::Event;
use crate::domain::group::{GroupCommand, QueueLimits};
use crate::domain::ids::{AgentId, GroupId, StreamId};

use super::AppState;
use super::agents::{DEFAULT_PRIORITY, add_member};
use super::auth::Principal;
use super::error::{ApiError, Body, Id};

/// A new skill group.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewGroup {
    /// Display name.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// Most sessions one agent serves at once for this group.
    #[schema(minimum = 1, maximum = 100)]
    pub reception_limit: u32,
    /// Longest wait in the queue before the session ends (closeBy timer), seconds from its
    /// entry (a redirect keeps it); 0 turns the limit off, else 60 to 86400. Default 1800.
    #[schema(maximum = 86400)]
    pub max_queue_wait_secs: Option<u32>,
    /// Told to the user when the wait limit ends the session (1 to 1024 bytes).
    #[schema(min_length = 1, max_length = 1024)]
    pub queue_wait_message: Option<String>,
    /// Most sessions waiting at once: a new session past it ends (closeBy timer) and an
    /// agent's transfer into it is refused. Default 1000.
    #[schema(minimum = 1, maximum = 100000)]
    pub max_queued: Option<u32>,
    /// Told to the user whose session the full queue refused (1 to 1024 bytes).
    #[schema(min_length = 1, max_length = 1024)]
    pub queue_full_message: Option<String>,
}

/// An edit of a skill group.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupEdit {
    /// New name.
    #[schema(min_length = 1, max_length = 64)]
    pub name: Option<String>,
    /// New reception limit.
    #[schema(minimum = 1, maximum = 100)]
    pub reception_limit: Option<u32>,
    /// Longest wait in the queue before the session ends (closeBy timer), seconds from its
    /// entry (a redirect keeps it); 0 turns the limit off, else 60 to 86400. Default 1800.
    #[schema(maximum = 86400)]
    pub max_queue_wait_secs: Option<u32>,
    /// Told to the user when the wait limit ends the session (1 to 1024 bytes).
    #[schema(min_length = 1, max_length = 1024)]
    pub queue_wait_message: Option<String>,
    /// Most sessions waiting at once: a new session past it ends (closeBy timer) and an
    /// agent's transfer into it is refused. Default 1000.
    #[schema(minimum = 1, maximum = 100000)]
    pub max_queued: Option<u32>,
    /// Told to the user whose session the full queue refused (1 to 1024 bytes).
    #[schema(min_length = 1, max_length = 1024)]
    pub queue_full_message: Option<String>,
}

/// `current` with the queue fields a request sets in place, checked (naming the field).
fn queue_limits(
    current: &QueueLimits,
    max_queue_wait_secs: Option<u32>,
    queue_wait_message: Option<String>,
    max_queued: Option<u32>,
    queue_full_message: Option<String>,
) -> Result<QueueLimits, ApiError> {
    let limits = QueueLimits {
        max_queue_wait_secs: max_queue_wait_secs.unwrap_or(current.max_queue_wait_secs),
        queue_wait_message: queue_wait_message
            .unwrap_or_else(|| current.queue_wait_message.clone()),
        max_queued: max_queued.unwrap_or(current.max_queued),
        queue_full_message: queue_full_message
            .unwrap_or_else(|| current.queue_full_message.clone()),
    };
    limits.validate()?;
    Ok(limits)
}

/// A member's priority.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberPriority {
    /// 1 (highest) to 5 (lowest); 3 when absent.
    #[schema(minimum = 1, maximum = 5)]
    pub priority: Option<u8>,
}

/// A member of a group.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// The agent.
    pub agent_id: AgentId,
    /// Its name.
    pub name: String,
    /// Its priority (1 highest, 5 lowest).
    pub priority: u8,
}

/// A skill group.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    /// Its id.
    pub id: GroupId,
    /// Display name.
    pub name: String,
    /// Most sessions one agent serves at once for it.
    pub reception_limit: u32,
    /// Longest wait in the queue before the session ends, seconds (0: off).
    pub max_queue_wait_secs: u32,
    /// Told to the user when the wait limit ends the session.
    pub queue_wait_message: String,
    /// Most sessions waiting at once.
    pub max_queued: u32,
    /// Told to the user whose session the full queue refused.
    pub queue_full_message: String,
    /// Members, by agent id.
    pub members: Vec<Member>,
}

fn view(dir: &AppDirectory, g: &GroupRecord) -> GroupView {
    GroupView {
        id: g.id,
        name: g.name.clone(),
        reception_limit: g.reception_limit,
        max_queue_wait_secs: g.queue_limits.max_queue_wait_secs,
        queue_wait_message: g.queue_limits.queue_wait_message.clone(),
        max_queued: g.queue_limits.max_queued,
        queue_full_message: g.queue_limits.queue_full_message.clone(),
        members: g
            .members
            .iter()
            .map(|(a, p)| Member {
                agent_id: *a,
                name: dir
                    .agents
                    .get(a)
                    .map(|r| r.name.clone())
                    .unwrap_or_default(),
                priority: *p,
            })
            .collect(),
    }
}

fn visible(dir: &AppDirectory, scope: &Scope, id: GroupId) -> Result<GroupRecord, ApiError> {
    dir.groups
        .get(&id)
        .filter(|g| scope.covers(g.id))
        .cloned()
        .ok_or_else(|| ApiError::NotFound(id.to_string()))
}

/// Lists the skill groups in the caller's range.
#[utoipa::path(get, path = "/skill-groups", tag = "skill groups",
    responses((status = 200, description = "groups, by id", body = Vec<GroupView>)))]
pub async fn list_groups(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<GroupView>>, ApiError> {
    let dir = state.desk.app(who.app)?;
    let scope = who.scope(&dir, Module::SkillGroups)?;
    Ok(Json(
        dir.groups
            .values()
            .filter(|g| scope.covers(g.id))
            .map(|g| view(&dir, g))
            .collect(),
    ))
}

/// Creates a skill group (administrators and roles with the whole range).
#[utoipa::path(post, path = "/skill-groups", tag = "skill groups", request_body = NewGroup,
    responses((status = 201, description = "created", body = GroupView)))]
pub async fn create_group(
    State(state): State<AppState>,
    who: Principal,
    Body(input): Body<NewGroup>,
) -> Result<(StatusCode, Json<GroupView>), ApiError> {
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    if who.scope(&dir, Module::SkillGroups)? != Scope::All {
        return Err(ApiError::forbidden(
            "your role covers some skill groups only: it cannot create one",
        ));
    }
    let name = input.name.trim().to_owned();
    crate::domain::group::create(&name, input.reception_limit)?;
    let limits = queue_limits(
        &QueueLimits::default(),
        input.max_queue_wait_secs,
        input.queue_wait_message,
        input.max_queued,
        input.queue_full_message,
    )?;
    if dir
        .groups
        .values()
        .any(|g| g.name.eq_ignore_ascii_case(&name))
    {
        return Err(ApiError::invalid(
            "name",
            format!("a skill group named {name:?} exists"),
        ));
    }
    let id = state
        .desk
        .engine
        .create_group(who.app, &name, input.reception_limit)
        .await?;
    state.desk.fold(
        who.app,
        &[(
            StreamId::group(id),
            Event::GroupCreated {
                name,
                reception_limit: input.reception_limit,
            },
        )],
    );
    if limits != QueueLimits::default() {
        state
            .desk
            .group(&turn, who.app, id, GroupCommand::SetQueueLimits(limits))
            .await?;
    }
    drop(turn);
    let dir = state.desk.app(who.app)?;
    Ok((StatusCode::CREATED, Json(view(&dir, &dir.groups[&id]))))
}

/// One skill group with its members.
#[utoipa::path(get, path = "/skill-groups/{id}", tag = "skill groups", params(("id" = u64, Path, description = "group id")),
    responses((status = 200, description = "the group", body = GroupView)))]
pub async fn get_group(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<Json<GroupView>, ApiError> {
    let dir = state.desk.app(who.app)?;
    let scope = who.scope(&dir, Module::SkillGroups)?;
    Ok(Json(view(&dir, &visible(&dir, &scope, GroupId(id))?)))
}

/// Renames a group or changes its reception limit or queue limits.
#[utoipa::path(patch, path = "/skill-groups/{id}", tag = "skill groups", params(("id" = u64, Path, description = "group id")),
    request_body = GroupEdit, responses((status = 200, description = "the group after the edit", body = GroupView)))]
pub async fn update_group(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
    Body(edit): Body<GroupEdit>,
) -> Result<Json<GroupView>, ApiError> {
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    let scope = who.scope(&dir, Module::SkillGroups)?;
    let group = visible(&dir, &scope, GroupId(id))?;
    if let Some(name) = &edit.name {
        crate::domain::group::validate_name(name)?;
        let name = name.trim();
        if dir
            .groups
            .values()
            .any(|g| g.id != group.id && g.name.eq_ignore_ascii_case(name))
        {
            return Err(ApiError::invalid(
                "name",
                format!("a skill group named {name:?} exists"),
            ));
        }
    }
    if let Some(limit) = edit.reception_limit {
        crate::domain::group::validate_reception_limit(limit)?;
    }
    // Checked before anything is written, so a bad field changes nothing.
    let limits = queue_limits(
        &group.queue_limits,
        edit.max_queue_wait_secs,
        edit.queue_wait_message.clone(),
        edit.max_queued,
        edit.queue_full_message.clone(),
    )?;
    if let Some(name) = edit
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| *n != group.name)
    {
        state
            .desk
            .group(&turn, who.app, group.id, GroupCommand::Rename(name))
            .await?;
    }
    if let Some(limit) = edit.reception_limit.filter(|l| *l != group.reception_limit) {
        state
            .desk
            .group(
                &turn,
                who.app,
                group.id,
                GroupCommand::SetReceptionLimit(limit),
            )
            .await?;
    }
    if limits != group.queue_limits {
        state
            .desk
            .group(
                &turn,
                who.app,
                group.id,
                GroupCommand::SetQueueLimits(limits),
            )
            .await?;
    }
    drop(turn);
    let dir = state.desk.app(who.app)?;
    Ok(Json(view(&dir, &dir.groups[&group.id])))
}

/// Deletes a group; its members keep their accounts. Refused while sessions wait in it
/// or a channel routes to it.
#[utoipa::path(delete, path = "/skill-groups/{id}", tag = "skill groups", params(("id" = u64, Path, description = "group id")),
    responses((status = 204, description = "deleted")))]
pub async fn delete_group(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<StatusCode, ApiError> {
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    let scope = who.scope(&dir, Module::SkillGroups)?;
    let group = visible(&dir, &scope, GroupId(id))?;
    let channels = dir.channels_using_group(group.id);
    let flows = dir.flows_using_group(group.id);
    if !channels.is_empty() || !flows.is_empty() {
        let names: Vec<String> = channels
            .iter()
            .map(ToString::to_string)
            .chain(flows.iter().map(ToString::to_string))
            .collect();
        return Err(ApiError::Conflict(format!(
            "{} is used by {}: change them first",
            group.id,
            names.join(", ")
        )));
    }
    state
        .desk
        .group(&turn, who.app, group.id, GroupCommand::Delete { queued: 0 })
        .await?;
    drop(turn);
    Ok(StatusCode::NO_CONTENT)
}

/// Adds an agent to a group, or sets its priority when it is a member already.
#[utoipa::path(put, path = "/skill-groups/{id}/members/{agentId}", tag = "skill groups",
    params(("id" = u64, Path, description = "group id"), ("agentId" = u64, Path, description = "agent id")),
    request_body = MemberPriority, responses((status = 200, description = "the group", body = GroupView)))]
pub async fn put_member(
    State(state): State<AppState>,
    who: Principal,
    Id((id, agent_id)): Id<(u64, u64)>,
    Body(input): Body<MemberPriority>,
) -> Result<Json<GroupView>, ApiError> {
    let priority = input.priority.unwrap_or(DEFAULT_PRIORITY);
    if !(1..=5).contains(&priority) {
        return Err(ApiError::invalid(
            "priority",
            format!("{priority} is not between 1 (highest) and 5 (lowest)"),
        ));
    }
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    let scope = who.scope(&dir, Module::SkillGroups)?;
    let group = visible(&dir, &scope, GroupId(id))?;
    let agent = AgentId(agent_id);
    // A role scoped to some groups adds only agents it already sees: joining them to its
    // group would otherwise bring any agent of the app into its reach (password resets).
    let joining = !group.members.contains_key(&agent);
    if dir.live_agent(agent).is_none() || (joining && !dir.agent_in_scope(agent, &scope)) {
        return Err(ApiError::NotFound(agent.to_string()));
    }
    match group.members.get(&agent) {
        Some(p) if *p == priority => {}
        Some(_) => {
            state
                .desk
                .group(
                    &turn,
                    who.app,
                    group.id,
                    GroupCommand::SetPriority(agent, priority),
                )
                .await?;
        }
        None => add_member(&state, &turn, who.app, group.id, agent, priority).await?,
    }
    drop(turn);
    let dir = state.desk.app(who.app)?;
    Ok(Json(view(&dir, &dir.groups[&group.id])))
}

/// Removes an agent from a group.
#[utoipa::path(delete, path = "/skill-groups/{id}/members/{agentId}", tag = "skill groups",
    params(("id" = u64, Path, description = "group id"), ("agentId" = u64, Path, description = "agent id")),
    responses((status = 200, description = "the group", body = GroupView)))]
pub async fn remove_member(
    State(state): State<AppState>,
    who: Principal,
    Id((id, agent_id)): Id<(u64, u64)>,
) -> Result<Json<GroupView>, ApiError> {
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    let scope = who.scope(&dir, Module::SkillGroups)?;
    let group = visible(&dir, &scope, GroupId(id))?;
    let agent = AgentId(agent_id);
    if !group.members.contains_key(&agent) {
        return Err(ApiError::NotFound(format!("{agent} in {}", group.id)));
    }
    super::agents::remove_member(&state, &turn, who.app, group.id, agent).await?;
    drop(turn);
    let dir = state.desk.app(who.app)?;
    Ok(Json(view(&dir, &dir.groups[&group.id])))
}
