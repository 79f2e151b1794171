//! Agent management: create (one or a CSV batch), list with filters, edit, delete, force
//! offline, resume, password reset. New accounts get a random password, mailed when SMTP
//! is configured and otherwise shown once in the response.

use std::collections::{BTreeSet, HashSet};

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::agent::AgentCommand;
use crate::domain::directory::{
    self, ADMINISTRATOR, AGENT, AgentRecord, AppDirectory, Module, Scope, SignOutCause,
};
use crate::domain::event::{Event, LogoutCause};
use crate::domain::group::GroupCommand;
use crate::domain::ids::{AgentId, AppId, GroupId, RoleId, StreamId};

use super::auth::{self, NoStore, Principal};
use super::csv_import::{self, CsvBody, RowErrors};
use super::desk::WriteTurn;
use super::error::{ApiError, Body, Id, Params};
use super::{ApiState, AppState};

/// Priority a member gets when added without one (the seed's default).
pub const DEFAULT_PRIORITY: u8 = 3;
/// Agents created per log append: two events each, under the append limit.
const AGENTS_PER_APPEND: usize = 100;
/// The columns of the agent import template.
pub const IMPORT_COLUMNS: &[&str] = &[
    "name",
    "nickname",
    "staff_no",
    "email",
    "role",
    "skill_groups",
];

/// A new agent.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewAgent {
    /// Full name.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// Name shown to users.
    #[schema(min_length = 1, max_length = 64)]
    pub nickname: String,
    /// Staff number, unique in the app: letters, digits, `-`, `_`, `.`.
    #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9._-]+$")]
    pub staff_no: String,
    /// Login email, unique in the app.
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    /// Role (1 administrator, 2 agent, or a custom role).
    pub role_id: RoleId,
    /// Skill groups to join (priority 3).
    #[serde(default)]
    pub skill_group_ids: Vec<GroupId>,
}

impl NewAgent {
    /// The first administrator of an app (its email already normalized).
    pub fn first_administrator(email: String) -> Self {
        Self {
            name: "Administrator".to_owned(),
            nickname: "Administrator".to_owned(),
            staff_no: "admin".to_owned(),
            email,
            role_id: ADMINISTRATOR,
            skill_group_ids: Vec::new(),
        }
    }
}

/// A membership as an agent's view shows it.
#[derive(Serialize, ToSchema)]
pub struct Membership {
    /// The group.
    pub id: GroupId,
    /// Its name.
    pub name: String,
    /// The agent's priority in it (1 highest, 5 lowest).
    pub priority: u8,
}

/// An agent.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentView {
    /// Its id.
    pub id: AgentId,
    /// Full name.
    pub name: String,
    /// Name shown to users.
    pub nickname: String,
    /// Staff number.
    pub staff_no: String,
    /// Login email.
    pub email: String,
    /// Role.
    pub role_id: RoleId,
    /// Role name.
    pub role_name: String,
    /// Skill groups.
    pub skill_groups: Vec<Membership>,
    /// Forced offline until resumed.
    pub forced_offline: bool,
    /// Deleted (can no longer sign in).
    pub deleted: bool,
    /// Must change the password at next sign-in.
    pub must_change_password: bool,
}

/// A created account, with its first password when no mail server took it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedAgent {
    /// The agent.
    pub agent: AgentView,
    /// The random first password, shown only now (absent when it was mailed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Where the password was mailed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emailed_to: Option<String>,
}

/// The outcome of a CSV import.
#[derive(Serialize, ToSchema)]
pub struct ImportedAgents {
    /// Every agent created, in file order.
    pub created: Vec<CreatedAgent>,
}

/// Filters of the agent list.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct AgentFilter {
    /// Part of the name, nickname, staff number or email (case-insensitive).
    pub q: Option<String>,
    /// Members of this skill group only.
    pub skill_group_id: Option<GroupId>,
    /// Holders of this role only.
    pub role_id: Option<RoleId>,
    /// Include deleted agents.
    pub include_deleted: Option<bool>,
}

/// An edit of an agent: name, nickname, skill groups, role.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentEdit {
    /// Full name.
    #[schema(min_length = 1, max_length = 64)]
    pub name: Option<String>,
    /// Name shown to users.
    #[schema(min_length = 1, max_length = 64)]
    pub nickname: Option<String>,
    /// The skill groups (within the caller's range) the agent is in after the edit.
    pub skill_group_ids: Option<Vec<GroupId>>,
    /// Role.
    pub role_id: Option<RoleId>,
}

/// A new password after a reset.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordReset {
    /// The new random password, shown only now (absent when it was mailed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Where it was mailed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emailed_to: Option<String>,
}

/// The view of one agent.
pub fn view(dir: &AppDirectory, a: &AgentRecord) -> AgentView {
    AgentView {
        id: a.id,
        name: a.name.clone(),
        nickname: a.nickname.clone(),
        staff_no: a.staff_no.clone(),
        email: a.email.clone(),
        role_id: a.role,
        role_name: dir.role_name(a.role).unwrap_or_default().to_owned(),
        skill_groups: dir
            .groups_of(a.id)
            .map(|g| Membership {
                id: g.id,
                name: g.name.clone(),
                priority: g.members[&a.id],
            })
            .collect(),
        forced_offline: a.forced_offline,
        deleted: a.deleted,
        must_change_password: a.must_change_password,
    }
}

/// A role the caller may hand out: administrators any, others only the agent role.
fn check_role(dir: &AppDirectory, who: &Principal, role: RoleId) -> Result<(), ApiError> {
    if dir.role_name(role).is_none() {
        return Err(ApiError::invalid(
            "roleId",
            format!("{role} does not exist"),
        ));
    }
    if role != AGENT && who.role != ADMINISTRATOR {
        return Err(ApiError::forbidden(
            "only an administrator may give a role other than agent",
        ));
    }
    Ok(())
}

/// Skill groups the caller may put an agent in.
fn check_groups(dir: &AppDirectory, scope: &Scope, groups: &[GroupId]) -> Result<(), ApiError> {
    let mut seen = HashSet::new();
    for g in groups {
        if !dir.groups.contains_key(g) || !scope.covers(*g) {
            return Err(ApiError::invalid(
                "skillGroupIds",
                format!("{g} does not exist"),
            ));
        }
        if !seen.insert(g) {
            return Err(ApiError::invalid(
                "skillGroupIds",
                format!("{g} is listed twice"),
            ));
        }
    }
    if matches!(scope, Scope::Only(_)) && groups.is_empty() {
        return Err(ApiError::invalid(
            "skillGroupIds",
            "your role sees agents of its skill groups only: name at least one",
        ));
    }
    Ok(())
}

/// Checks a new agent against the app; returns it with the email normalized.
pub fn check_new(
    dir: &AppDirectory,
    who: &Principal,
    scope: &Scope,
    mut a: NewAgent,
) -> Result<NewAgent, ApiError> {
    directory::validate_name("name", &a.name)?;
    directory::validate_name("nickname", &a.nickname)?;
    directory::validate_staff_no(a.staff_no.trim())?;
    a.email = directory::normalize_email(&a.email)?;
    a.name = a.name.trim().to_owned();
    a.nickname = a.nickname.trim().to_owned();
    a.staff_no = a.staff_no.trim().to_owned();
    if dir.email_taken(&a.email, None) {
        return Err(ApiError::invalid(
            "email",
            format!("{} has an account already", a.email),
        ));
    }
    if dir.staff_no_taken(&a.staff_no) {
        return Err(ApiError::invalid(
            "staffNo",
            format!("{} is taken", a.staff_no),
        ));
    }
    check_role(dir, who, a.role_id)?;
    check_groups(dir, scope, &a.skill_group_ids)?;
    Ok(a)
}

/// Creates checked agents with their password hashes, all accounts in one append per
/// hundred, then their memberships. Call with the turn held.
pub async fn create_accounts(
    state: &ApiState,
    turn: &WriteTurn<'_>,
    app: AppId,
    agents: Vec<(NewAgent, String, bool)>,
) -> Result<Vec<AgentId>, ApiError> {
    let mut ids = Vec::with_capacity(agents.len());
    for chunk in agents.chunks(AGENTS_PER_APPEND) {
        let profiles = chunk
            .iter()
            .map(|(a, _, _)| (a.name.clone(), a.nickname.clone(), a.staff_no.clone()))
            .collect();
        let (created, written) = state
            .desk
            .engine
            .create_agents_with(app, profiles, |new_ids| {
                new_ids
                    .iter()
                    .zip(chunk)
                    .map(|(id, (a, hash, must_change))| {
                        let account = Event::AccountCreated {
                            agent: *id,
                            email: a.email.clone(),
                            role: a.role_id,
                            password_hash: hash.clone(),
                            must_change_password: *must_change,
                        };
                        (StreamId::app(app), account)
                    })
                    .collect()
            })
            .await?;
        state.desk.fold(app, &written);
        for (id, (a, _, _)) in created.iter().zip(chunk) {
            for g in &a.skill_group_ids {
                add_member(state, turn, app, *g, *id, DEFAULT_PRIORITY).await?;
            }
            ids.push(*id);
        }
    }
    Ok(ids)
}

/// Adds an agent to a group through the engine and mirrors it.
pub async fn add_member(
    state: &ApiState,
    turn: &WriteTurn<'_>,
    app: AppId,
    group: GroupId,
    agent: AgentId,
    priority: u8,
) -> Result<(), ApiError> {
    state
        .desk
        .group(turn, app, group, GroupCommand::AddMember(agent, priority))
        .await
}

/// Removes an agent from a group through the engine and mirrors it.
pub async fn remove_member(
    state: &ApiState,
    turn: &WriteTurn<'_>,
    app: AppId,
    group: GroupId,
    agent: AgentId,
) -> Result<(), ApiError> {
    state
        .desk
        .group(turn, app, group, GroupCommand::RemoveMember(agent))
        .await
}

/// Mails a password, or hands it back to be shown once.
async fn deliver_password(
    state: &ApiState,
    email: &str,
    name: &str,
    password: String,
) -> Result<(Option<String>, Option<String>), ApiError> {
    match &state.mailer {
        Some(mailer) => {
            let login = format!("{}/api/v1/auth/login", state.base_url);
            mailer.send_password(email, name, &password, &login).await?;
            Ok((None, Some(email.to_owned())))
        }
        None => Ok((Some(password), None)),
    }
}

/// The agent `id` if the caller may see it in the agents module.
fn visible(dir: &AppDirectory, scope: &Scope, id: AgentId) -> Result<AgentRecord, ApiError> {
    dir.agents
        .get(&id)
        .filter(|a| dir.agent_in_scope(a.id, scope))
        .cloned()
        .ok_or_else(|| ApiError::NotFound(id.to_string()))
}

/// The live agent `id` if the caller may change it: in range, and holding the agent role
/// unless the caller is an administrator (a team lead must not reset an administrator's
/// password and read the new one).
fn manageable(
    dir: &AppDirectory,
    who: &Principal,
    scope: &Scope,
    id: AgentId,
) -> Result<AgentRecord, ApiError> {
    let agent = visible(dir, scope, id)?;
    if agent.deleted {
        return Err(ApiError::NotFound(agent.id.to_string()));
    }
    if who.role != ADMINISTRATOR && agent.role != AGENT {
        return Err(ApiError::forbidden(format!(
            "only an administrator may change {}, who holds the {} role",
            agent.id,
            dir.role_name(agent.role).unwrap_or_default()
        )));
    }
    Ok(agent)
}

/// Lists agents the caller's range covers.
#[utoipa::path(get, path = "/agents", tag = "agents", params(AgentFilter),
    responses((status = 200, description = "agents, by id", body = Vec<AgentView>)))]
pub async fn list_agents(
    State(state): State<AppState>,
    who: Principal,
    Params(filter): Params<AgentFilter>,
) -> Result<Json<Vec<AgentView>>, ApiError> {
    let dir = state.desk.app(who.app)?;
    let scope = who.scope(&dir, Module::Agents)?;
    let q = filter.q.as_deref().map(str::to_lowercase);
    let out = dir
        .agents
        .values()
        .filter(|a| filter.include_deleted == Some(true) || !a.deleted)
        .filter(|a| dir.agent_in_scope(a.id, &scope))
        .filter(|a| filter.role_id.is_none_or(|r| a.role == r))
        .filter(|a| {
            filter.skill_group_id.is_none_or(|g| {
                dir.groups
                    .get(&g)
                    .is_some_and(|g| g.members.contains_key(&a.id))
            })
        })
        .filter(|a| {
            q.as_deref().is_none_or(|q| {
                [&a.name, &a.nickname, &a.staff_no, &a.email]
                    .iter()
                    .any(|f| f.to_lowercase().contains(q))
            })
        })
        .map(|a| view(&dir, a))
        .collect();
    Ok(Json(out))
}

/// Creates an agent with a random first password.
#[utoipa::path(post, path = "/agents", tag = "agents", request_body = NewAgent,
    responses((status = 201, description = "created", body = CreatedAgent,
        headers(("Cache-Control" = String, description = "`no-store`: the password is shown only now")))))]
pub async fn create_agent(
    State(state): State<AppState>,
    who: Principal,
    Body(input): Body<NewAgent>,
) -> Result<(StatusCode, NoStore<Json<CreatedAgent>>), ApiError> {
    // Authorized and checked before argon2 runs, and hashed before the turn: the turn is
    // every tenant's, and a hash takes a good part of a second.
    {
        let dir = state.desk.app(who.app)?;
        let scope = who.scope(&dir, Module::Agents)?;
        check_room(&state, &dir, "max_agents_per_app", 1)?;
        check_new(&dir, &who, &scope, input.clone())?;
    }
    let password = auth::random_password();
    let hash = state.hasher.hash(password.clone()).await?;
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    let scope = who.scope(&dir, Module::Agents)?;
    check_room(&state, &dir, "max_agents_per_app", 1)?;
    // Checked again under the turn: the app may have changed while argon2 ran.
    let input = check_new(&dir, &who, &scope, input)?;
    let (email, name) = (input.email.clone(), input.name.clone());
    let ids = create_accounts(&state, &turn, who.app, vec![(input, hash, true)]).await?;
    drop(turn);
    let (password, emailed_to) = deliver_password(&state, &email, &name, password).await?;
    let dir = state.desk.app(who.app)?;
    let agent = view(&dir, &dir.agents[&ids[0]]);
    Ok((
        StatusCode::CREATED,
        NoStore(Json(CreatedAgent {
            agent,
            password,
            emailed_to,
        })),
    ))
}

/// Refuses when `adding` more live agents would put the app over `max_agents_per_app`.
fn check_room(
    state: &ApiState,
    dir: &AppDirectory,
    field: &'static str,
    adding: usize,
) -> Result<(), ApiError> {
    let cap = state.config.max_agents_per_app;
    let live = dir.agents.values().filter(|a| !a.deleted).count();
    if live + adding <= cap {
        return Ok(());
    }
    metrics::counter!(crate::stats::names::AGENTS_REFUSED.name).increment(1);
    Err(ApiError::invalid(
        field,
        format!(
            "the app has {live} agents and may hold {cap} (max_agents_per_app); {adding} more \
             would pass it: delete some, or raise the limit"
        ),
    ))
}

/// One agent.
#[utoipa::path(get, path = "/agents/{id}", tag = "agents", params(("id" = u64, Path, description = "agent id")),
    responses((status = 200, description = "the agent", body = AgentView)))]
pub async fn get_agent(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<Json<AgentView>, ApiError> {
    let dir = state.desk.app(who.app)?;
    let scope = who.scope(&dir, Module::Agents)?;
    let agent = visible(&dir, &scope, AgentId(id))?;
    Ok(Json(view(&dir, &agent)))
}

/// Edits name, nickname, skill groups and role.
#[utoipa::path(patch, path = "/agents/{id}", tag = "agents", params(("id" = u64, Path, description = "agent id")),
    request_body = AgentEdit, responses((status = 200, description = "the agent after the edit", body = AgentView)))]
pub async fn update_agent(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
    Body(edit): Body<AgentEdit>,
) -> Result<Json<AgentView>, ApiError> {
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    let scope = who.scope(&dir, Module::Agents)?;
    let agent = manageable(&dir, &who, &scope, AgentId(id))?;
    let name = edit
        .name
        .as_deref()
        .map(str::trim)
        .unwrap_or(&agent.name)
        .to_owned();
    let nickname = edit
        .nickname
        .as_deref()
        .map(str::trim)
        .unwrap_or(&agent.nickname)
        .to_owned();
    directory::validate_name("name", &name)?;
    directory::validate_name("nickname", &nickname)?;
    if let Some(role) = edit.role_id {
        check_role(&dir, &who, role)?;
        if who.agent == Some(agent.id) && role != agent.role {
            return Err(ApiError::Conflict(
                "you cannot change your own role".to_owned(),
            ));
        }
    }
    let (add, remove) = match &edit.skill_group_ids {
        Some(groups) => {
            let mut seen = HashSet::new();
            for g in groups {
                if !dir.groups.contains_key(g) || !scope.covers(*g) {
                    return Err(ApiError::invalid(
                        "skillGroupIds",
                        format!("{g} does not exist"),
                    ));
                }
                if !seen.insert(*g) {
                    return Err(ApiError::invalid(
                        "skillGroupIds",
                        format!("{g} is listed twice"),
                    ));
                }
            }
            let now: BTreeSet<GroupId> = dir
                .groups_of(agent.id)
                .map(|g| g.id)
                .filter(|g| scope.covers(*g))
                .collect();
            let want: BTreeSet<GroupId> = groups.iter().copied().collect();
            (
                want.difference(&now).copied().collect::<Vec<_>>(),
                now.difference(&want).copied().collect::<Vec<_>>(),
            )
        }
        None => (Vec::new(), Vec::new()),
    };
    let mut events = Vec::new();
    if name != agent.name || nickname != agent.nickname {
        events.push((
            StreamId::app(who.app),
            Event::AccountProfileChanged {
                agent: agent.id,
                name,
                nickname,
            },
        ));
    }
    if let Some(role) = edit.role_id.filter(|r| *r != agent.role) {
        events.push((
            StreamId::app(who.app),
            Event::AccountRoleChanged {
                agent: agent.id,
                role,
            },
        ));
    }
    state.desk.append(&turn, who.app, events).await?;
    for g in add {
        add_member(&state, &turn, who.app, g, agent.id, DEFAULT_PRIORITY).await?;
    }
    for g in remove {
        remove_member(&state, &turn, who.app, g, agent.id).await?;
    }
    let dir = state.desk.app(who.app)?;
    Ok(Json(view(&dir, &dir.agents[&agent.id])))
}

/// An administrative action on an agent through the engine;
/// returns the agent after it.
async fn act(
    state: &ApiState,
    who: &Principal,
    id: u64,
    command: AgentCommand,
    cause: Option<SignOutCause>,
) -> Result<AgentView, ApiError> {
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    let scope = who.scope(&dir, Module::Agents)?;
    let agent = manageable(&dir, who, &scope, AgentId(id))?;
    if who.agent == Some(agent.id) && cause.is_some() {
        return Err(ApiError::Conflict(
            "you cannot do this to your own account".to_owned(),
        ));
    }
    state.desk.agent(&turn, who.app, agent.id, command).await?;
    drop(turn);
    if let (Some(cause), Some(_)) = (cause, &agent.login) {
        state.notify(who.app, agent.id, cause);
    }
    let dir = state.desk.app(who.app)?;
    Ok(view(&dir, &dir.agents[&agent.id]))
}

/// Deletes an agent: it can no longer sign in; its records keep its name.
#[utoipa::path(delete, path = "/agents/{id}", tag = "agents", params(("id" = u64, Path, description = "agent id")),
    responses((status = 204, description = "deleted")))]
pub async fn delete_agent(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<StatusCode, ApiError> {
    act(
        &state,
        &who,
        id,
        AgentCommand::Delete,
        Some(SignOutCause::Deleted),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Forces an agent offline: its login ends and it cannot sign in until resumed.
#[utoipa::path(post, path = "/agents/{id}/force-offline", tag = "agents", params(("id" = u64, Path, description = "agent id")),
    responses((status = 200, description = "the agent", body = AgentView)))]
pub async fn force_offline(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<Json<AgentView>, ApiError> {
    act(
        &state,
        &who,
        id,
        AgentCommand::ForceOffline,
        Some(SignOutCause::ForcedOffline),
    )
    .await
    .map(Json)
}

/// Lifts a forced offline.
#[utoipa::path(post, path = "/agents/{id}/resume", tag = "agents", params(("id" = u64, Path, description = "agent id")),
    responses((status = 200, description = "the agent", body = AgentView)))]
pub async fn resume(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<Json<AgentView>, ApiError> {
    act(&state, &who, id, AgentCommand::Resume, None)
        .await
        .map(Json)
}

/// The agent `id` whose password the caller may reset now.
fn resettable(state: &ApiState, who: &Principal, id: AgentId) -> Result<AgentRecord, ApiError> {
    let dir = state.desk.app(who.app)?;
    let scope = who.scope(&dir, Module::Agents)?;
    let agent = manageable(&dir, who, &scope, id)?;
    if agent.email.is_empty() {
        return Err(ApiError::NotFound(agent.id.to_string()));
    }
    if who.agent == Some(agent.id) {
        return Err(ApiError::Conflict(
            "you cannot reset your own password: change it with POST /api/v1/auth/password"
                .to_owned(),
        ));
    }
    Ok(agent)
}

/// Gives an agent a new random password; the old one and any login end.
#[utoipa::path(post, path = "/agents/{id}/password-reset", tag = "agents", params(("id" = u64, Path, description = "agent id")),
    responses((status = 200, description = "reset", body = PasswordReset,
        headers(("Cache-Control" = String, description = "`no-store`: the password is shown only now")))))]
pub async fn reset_password(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<NoStore<Json<PasswordReset>>, ApiError> {
    // Authorized before argon2 runs: a refused caller costs no hash.
    resettable(&state, &who, AgentId(id))?;
    let password = auth::random_password();
    let hash = state.hasher.hash(password.clone()).await?;
    let turn = state.desk.turn().await;
    let agent = resettable(&state, &who, AgentId(id))?;
    let mut events = vec![(
        StreamId::app(who.app),
        Event::PasswordSet {
            agent: agent.id,
            password_hash: hash,
            must_change_password: true,
        },
    )];
    if agent.login.is_some() {
        events.push((
            StreamId::app(who.app),
            Event::SignedOut {
                agent: agent.id,
                cause: SignOutCause::PasswordReset,
            },
        ));
    }
    state.desk.append(&turn, who.app, events).await?;
    drop(turn);
    if agent.login.is_some() {
        state.notify(who.app, agent.id, SignOutCause::PasswordReset);
        state
            .log_out_in_engine(agent.id, AgentCommand::LogoutBy(LogoutCause::SignInEnded))
            .await;
    }
    let (password, emailed_to) =
        deliver_password(&state, &agent.email, &agent.name, password).await?;
    Ok(NoStore(Json(PasswordReset {
        password,
        emailed_to,
    })))
}

/// The CSV template of the agent import.
#[utoipa::path(get, path = "/agents/import-template", operation_id = "agent_import_template", tag = "agents",
    responses((status = 200, description = "the header row; `role` is a role name, `skill_groups` group names separated by `|`", content_type = "text/csv", body = String)))]
pub async fn import_template(_who: Principal) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"agents-template.csv\"",
            ),
        ],
        format!("{}\n", IMPORT_COLUMNS.join(",")),
    )
}

/// Checks every row of an agent import against the app as it is; answers the agents to
/// create, or every bad cell.
fn check_rows(
    state: &ApiState,
    who: &Principal,
    rows: &[csv_import::Row],
) -> Result<Vec<NewAgent>, ApiError> {
    let dir = state.desk.app(who.app)?;
    let scope = who.scope(&dir, Module::Agents)?;
    check_room(state, &dir, "file", rows.len())?;
    let mut errors = RowErrors::default();
    let mut emails = HashSet::new();
    let mut staff = HashSet::new();
    let mut agents = Vec::with_capacity(rows.len());
    for row in rows {
        let role = match dir.role_by_name(row.get("role")) {
            Some(r) => r,
            None => {
                errors.push(
                    row.line,
                    "role",
                    format!("no role named {:?}", row.get("role")),
                );
                AGENT
            }
        };
        let mut groups = Vec::new();
        for name in row
            .get("skill_groups")
            .split('|')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            match dir
                .groups
                .values()
                .find(|g| g.name.eq_ignore_ascii_case(name))
            {
                Some(g) if scope.covers(g.id) => groups.push(g.id),
                _ => errors.push(
                    row.line,
                    "skill_groups",
                    format!("no skill group named {name:?}"),
                ),
            }
        }
        let input = NewAgent {
            name: row.get("name").to_owned(),
            nickname: row.get("nickname").to_owned(),
            staff_no: row.get("staff_no").to_owned(),
            email: row.get("email").to_owned(),
            role_id: role,
            skill_group_ids: groups,
        };
        match check_new(&dir, who, &scope, input) {
            Ok(a) => {
                if !emails.insert(a.email.clone()) {
                    errors.push(
                        row.line,
                        "email",
                        format!("{} appears on an earlier row", a.email),
                    );
                }
                if !staff.insert(a.staff_no.clone()) {
                    errors.push(
                        row.line,
                        "staff_no",
                        format!("{} appears on an earlier row", a.staff_no),
                    );
                }
                agents.push(a);
            }
            Err(ApiError::Invalid { field, message }) => {
                let column = match field.as_str() {
                    "roleId" => "role",
                    "skillGroupIds" => "skill_groups",
                    "staffNo" => "staff_no",
                    other => other,
                };
                errors.push(row.line, column, message);
            }
            Err(ApiError::Forbidden { message, .. }) => errors.push(row.line, "role", message),
            Err(other) => return Err(other),
        }
    }
    errors.finish(rows.len())?;
    Ok(agents)
}

/// Imports agents from a CSV file: every row is checked first; one bad cell and nothing
/// is imported. The passwords are hashed before the directory's turn is taken (the turn is
/// every tenant's); the rows are checked again under it.
#[utoipa::path(post, path = "/agents/import", tag = "agents",
    request_body(content = String, content_type = "text/csv", description = "a file in the template's format"),
    responses((status = 201, description = "all rows imported", body = ImportedAgents,
        headers(("Cache-Control" = String, description = "`no-store`: the passwords are shown only now")))))]
pub async fn import_agents(
    State(state): State<AppState>,
    who: Principal,
    CsvBody(file): CsvBody,
) -> Result<(StatusCode, NoStore<Json<ImportedAgents>>), ApiError> {
    let rows = csv_import::read(&file, IMPORT_COLUMNS)?;
    check_rows(&state, &who, &rows)?;
    let passwords: Vec<String> = rows.iter().map(|_| auth::random_password()).collect();
    let hashes =
        futures_util::future::try_join_all(passwords.iter().map(|p| state.hasher.hash(p.clone())))
            .await?;
    let turn = state.desk.turn().await;
    // The app may have changed while argon2 ran (an email taken, a group deleted).
    let agents = check_rows(&state, &who, &rows)?;
    let mut with_passwords = Vec::with_capacity(agents.len());
    let mut delivered = Vec::with_capacity(agents.len());
    for ((a, hash), password) in agents.into_iter().zip(hashes).zip(passwords) {
        delivered.push((a.email.clone(), a.name.clone(), password));
        with_passwords.push((a, hash, true));
    }
    let ids = create_accounts(&state, &turn, who.app, with_passwords).await?;
    drop(turn);
    let dir = state.desk.app(who.app)?;
    let mut created = Vec::with_capacity(ids.len());
    for (id, (email, name, password)) in ids.into_iter().zip(delivered) {
        let (password, emailed_to) = deliver_password(&state, &email, &name, password).await?;
        created.push(CreatedAgent {
            agent: view(&dir, &dir.agents[&id]),
            password,
            emailed_to,
        });
    }
    tracing::info!(app = %who.app, agents = created.len(), "imported agents");
    Ok((
        StatusCode::CREATED,
        NoStore(Json(ImportedAgents { created })),
    ))
}
