//! Session service flows: the graphs an administrator draws (see `crate::domain::flow`),
//! saved whole as versions. Every save is validated (every error names its node and field,
//! and nothing is saved while one remains) and appended as a new version; sessions keep the
//! version they began with. Channels bind a flow by id; a bound flow cannot be deleted.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::directory::{AppDirectory, FlowRecord, FlowVersion, Module, Scope};
use crate::domain::event::Event;
use crate::domain::flow::{self, FlowError, Graph};
use crate::domain::ids::{ChannelId, FlowId, StreamId};

use super::AppState;
use super::auth::Principal;
use super::error::{ApiError, Body, Id};

/// A flow as the console writes it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowInput {
    /// The flow's name.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// The graph: nodes (each a module with its configuration) and edges.
    #[schema(value_type = Graph)]
    pub graph: serde_json::Value,
}

/// A flow at its latest version.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlowView {
    /// Its id.
    pub id: FlowId,
    /// Its name.
    pub name: String,
    /// The latest version's number.
    pub version: u32,
    /// When the latest version was saved, ms since the epoch.
    pub saved_at_ms: i64,
    /// The graph, as saved.
    #[schema(value_type = Graph)]
    pub graph: serde_json::Value,
    /// The channels bound to it.
    pub channels: Vec<ChannelId>,
}

/// One saved version of a flow.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlowVersionView {
    /// 1, 2, 3...
    pub version: u32,
    /// The name at this version.
    pub name: String,
    /// When it was saved, ms since the epoch.
    pub saved_at_ms: i64,
    /// The graph, as saved.
    #[schema(value_type = Graph)]
    pub graph: serde_json::Value,
}

fn graph_value(v: &FlowVersion) -> serde_json::Value {
    serde_json::from_str(&v.graph).unwrap_or(serde_json::Value::Null)
}

fn view(dir: &AppDirectory, record: &FlowRecord) -> FlowView {
    let v = record.current();
    FlowView {
        id: record.id,
        name: v.name.clone(),
        version: v.version,
        saved_at_ms: v.saved_at_ms,
        graph: graph_value(v),
        channels: dir.channels_using_flow(record.id),
    }
}

/// Reads the graph, naming the node and field of a malformed one.
fn read_graph(value: &serde_json::Value) -> Result<Graph, Vec<FlowError>> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        let path = match (missing, path.as_str()) {
            (Some(name), "." | "?") => name.to_owned(),
            (Some(name), parent) => format!("{parent}.{name}"),
            (None, "." | "?") => "graph".to_owned(),
            (None, p) => p.to_owned(),
        };
        // `nodes[3].module.text` is the field `text` of the node nodes[3] names: the same
        // path validation gives (a module's fields are the node's), so a console marks one
        // field whichever check refused it.
        let in_node = path.strip_prefix("nodes[").and_then(|rest| {
            let (index, field) = rest.split_once(']')?;
            let index: usize = index.parse().ok()?;
            let id = value["nodes"][index]["id"].as_str()?.to_owned();
            let field = field.trim_start_matches('.');
            Some((
                id,
                field.strip_prefix("module.").unwrap_or(field).to_owned(),
            ))
        });
        let (node, field) = match in_node {
            Some((id, field)) if !field.is_empty() => (Some(id), field),
            Some((id, _)) => (Some(id), "node".to_owned()),
            None => (None, path),
        };
        vec![FlowError {
            node,
            field,
            message,
        }]
    })
}

/// Validates a flow against the app: the graph, its name, and the skill groups it hands
/// sessions to.
fn checked(dir: &AppDirectory, scope: &Scope, input: &FlowInput) -> Result<String, ApiError> {
    crate::domain::directory::validate_name("name", &input.name)?;
    let refused = |errors: Vec<FlowError>| ApiError::InvalidFlow {
        message: format!(
            "the flow has {} error{}; nothing was saved",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        ),
        errors,
    };
    let graph = read_graph(&input.graph).map_err(refused)?;
    let mut errors = Vec::new();
    for node in &graph.nodes {
        let flow::Module::TransferToAgent { group, .. } = &node.module else {
            continue;
        };
        let message = if !dir.groups.contains_key(group) {
            format!("{group} does not exist")
        } else if !scope.covers(*group) {
            // A role scoped to some groups cannot route sessions into the others' queues.
            format!("{group} is outside your role's skill groups")
        } else {
            continue;
        };
        errors.push(FlowError {
            node: Some(node.id.clone()),
            field: "group".to_owned(),
            message,
        });
    }
    if let Err(mut found) = flow::validate(graph) {
        found.append(&mut errors);
        return Err(refused(found));
    }
    if !errors.is_empty() {
        return Err(refused(errors));
    }
    Ok(input.graph.to_string())
}

fn live(dir: &AppDirectory, raw: u64) -> Result<&FlowRecord, ApiError> {
    let id = FlowId(raw);
    dir.live_flow(id)
        .ok_or_else(|| ApiError::NotFound(id.to_string()))
}

/// Lists the flows (latest versions).
#[utoipa::path(get, path = "/flows", tag = "flows",
    responses((status = 200, description = "flows, by id", body = Vec<FlowView>)))]
pub async fn list_flows(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<FlowView>>, ApiError> {
    let dir = state.desk.app(who.app)?;
    who.scope(&dir, Module::Flows)?;
    Ok(Json(
        dir.flows
            .values()
            .filter(|f| !f.deleted)
            .map(|f| view(&dir, f))
            .collect(),
    ))
}

async fn save(
    state: &AppState,
    who: &Principal,
    existing: Option<u64>,
    input: FlowInput,
) -> Result<FlowView, ApiError> {
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    let scope = who.scope(&dir, Module::Flows)?;
    let (id, version) = match existing {
        Some(raw) => {
            let record = live(&dir, raw)?;
            (record.id, record.current().version + 1)
        }
        None => (FlowId(state.desk.next_id()), 1),
    };
    let graph = checked(&dir, &scope, &input)?;
    let event = Event::FlowSaved {
        flow: id,
        name: input.name.trim().to_owned(),
        version,
        graph,
        saved_at_ms: state.clock.now_ms(),
    };
    state
        .desk
        .append(&turn, who.app, vec![(StreamId::app(who.app), event)])
        .await?;
    let dir = state.desk.app(who.app)?;
    let record = live(&dir, id.0)?;
    Ok(view(&dir, record))
}

/// Creates a flow (version 1). An invalid graph is refused with every error, each naming
/// its node and field.
#[utoipa::path(post, path = "/flows", tag = "flows", request_body = FlowInput,
    responses((status = 201, description = "created", body = FlowView)))]
pub async fn create_flow(
    State(state): State<AppState>,
    who: Principal,
    Body(input): Body<FlowInput>,
) -> Result<(StatusCode, Json<FlowView>), ApiError> {
    let view = save(&state, &who, None, input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One flow at its latest version.
#[utoipa::path(get, path = "/flows/{id}", tag = "flows", params(("id" = u64, Path, description = "flow id")),
    responses((status = 200, description = "the flow", body = FlowView)))]
pub async fn get_flow(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<Json<FlowView>, ApiError> {
    let dir = state.desk.app(who.app)?;
    who.scope(&dir, Module::Flows)?;
    Ok(Json(view(&dir, live(&dir, id)?)))
}

/// Saves a new version of a flow. Sessions running an older version finish it; new
/// sessions run this one.
#[utoipa::path(put, path = "/flows/{id}", tag = "flows", params(("id" = u64, Path, description = "flow id")),
    request_body = FlowInput, responses((status = 200, description = "the flow at its new version", body = FlowView)))]
pub async fn update_flow(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
    Body(input): Body<FlowInput>,
) -> Result<Json<FlowView>, ApiError> {
    Ok(Json(save(&state, &who, Some(id), input).await?))
}

/// Deletes a flow no channel binds (unbind it first: 409 otherwise). Sessions running it
/// finish it.
#[utoipa::path(delete, path = "/flows/{id}", tag = "flows", params(("id" = u64, Path, description = "flow id")),
    responses((status = 204, description = "deleted")))]
pub async fn delete_flow(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<StatusCode, ApiError> {
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    who.scope(&dir, Module::Flows)?;
    let record = live(&dir, id)?;
    let bound = dir.channels_using_flow(record.id);
    if !bound.is_empty() {
        let names: Vec<String> = bound.iter().map(ToString::to_string).collect();
        return Err(ApiError::Conflict(format!(
            "{} is bound to {}: unbind it first",
            record.id,
            names.join(", ")
        )));
    }
    let event = Event::FlowDeleted { flow: record.id };
    state
        .desk
        .append(&turn, who.app, vec![(StreamId::app(who.app), event)])
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every saved version of a flow, oldest first.
#[utoipa::path(get, path = "/flows/{id}/versions", tag = "flows", params(("id" = u64, Path, description = "flow id")),
    responses((status = 200, description = "the versions, oldest first", body = Vec<FlowVersionView>)))]
pub async fn list_versions(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<Json<Vec<FlowVersionView>>, ApiError> {
    let dir = state.desk.app(who.app)?;
    who.scope(&dir, Module::Flows)?;
    let record = live(&dir, id)?;
    Ok(Json(
        record
            .versions
            .iter()
            .map(|v| FlowVersionView {
                version: v.version,
                name: v.name.clone(),
                saved_at_ms: v.saved_at_ms,
                graph: graph_value(v),
            })
            .collect(),
    ))
}
