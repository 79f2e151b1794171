//! Spawning the engine's actors under the supervisor, each registered where others find it.

use std::collections::BTreeMap;

use ractor::{Actor, ActorCell, ActorRef};

use crate::domain::agent::AgentState;
use crate::domain::group::Queue;
use crate::domain::ids::{AppId, GroupId};
use crate::domain::session::SessionState;
use crate::engine::agent::{AgentActor, AgentArgs, AgentMsg, AgentView};
use crate::engine::group::{GroupActor, GroupArgs, GroupMsg};
use crate::engine::registry::{Child, SessionSlot};
use crate::engine::session::{SessionActor, SessionArgs, SessionMsg};
use crate::engine::timers::{TimerActor, TimerArgs};
use crate::engine::{EngineError, Shared};

fn spawn_failed(e: impl std::fmt::Display) -> EngineError {
    EngineError::Unavailable(format!("spawn failed: {e}"))
}

/// Spawns one actor under the supervisor and records what it is, so a failure can be
/// traced back to the stream it must be rebuilt from.
async fn spawn_child<A: Actor>(
    shared: &Shared,
    sup: &ActorCell,
    actor: A,
    args: A::Arguments,
    child: Child,
) -> Result<ActorRef<A::Msg>, EngineError> {
    let (actor, _) = Actor::spawn_linked(None, actor, args, sup.clone())
        .await
        .map_err(spawn_failed)?;
    shared.registry.children.insert(actor.get_id(), child);
    Ok(actor)
}

pub(crate) async fn spawn_timers(
    shared: &Shared,
    sup: &ActorCell,
    app: AppId,
) -> Result<(), EngineError> {
    let args = TimerArgs {
        shared: shared.clone(),
        clock: shared.clock.clone(),
    };
    let actor = spawn_child(shared, sup, TimerActor, args, Child::Timers(app)).await?;
    shared.registry.timers.insert(app, actor);
    Ok(())
}

pub(crate) async fn spawn_group(
    shared: &Shared,
    sup: &ActorCell,
    state: crate::domain::group::GroupState,
    queue: Queue,
    views: Vec<AgentView>,
) -> Result<ActorRef<GroupMsg>, EngineError> {
    let (id, app, deleted) = (state.id, state.app, state.deleted);
    let args = GroupArgs {
        shared: shared.clone(),
        state,
        queue,
        views,
    };
    let actor = spawn_child(shared, sup, GroupActor, args, Child::Group(id)).await?;
    shared.registry.groups.insert(id, actor.clone());
    if !deleted {
        shared.registry.group_apps.insert(id, app);
    }
    Ok(actor)
}

pub(crate) async fn spawn_agent(
    shared: &Shared,
    sup: &ActorCell,
    state: AgentState,
    groups: BTreeMap<GroupId, (u32, ActorRef<GroupMsg>)>,
) -> Result<ActorRef<AgentMsg>, EngineError> {
    let (id, app, deleted) = (state.id, state.app, state.deleted);
    let args = AgentArgs {
        shared: shared.clone(),
        state,
        groups,
    };
    let actor = spawn_child(shared, sup, AgentActor, args, Child::Agent(id)).await?;
    shared.registry.agents.insert(id, actor.clone());
    if !deleted {
        shared.registry.agent_apps.insert(id, app);
    }
    Ok(actor)
}

pub(crate) async fn spawn_session(
    shared: &Shared,
    sup: &ActorCell,
    state: SessionState,
) -> Result<ActorRef<SessionMsg>, EngineError> {
    let id = state.id;
    let args = SessionArgs {
        shared: shared.clone(),
        state,
    };
    let actor = spawn_child(shared, sup, SessionActor, args, Child::Session(id)).await?;
    shared
        .registry
        .sessions
        .insert(id, SessionSlot::Awake(actor.clone()));
    Ok(actor)
}
