//! The supervisor: parent of every actor of the engine. When one fails (a panic in its
//! handler), it is rebuilt from its own stream in the log, the failure is counted, and the
//! live sessions re-announce themselves so the rebuilt actor's views (queue, held
//! sessions, armed timers) are whole again.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};

use crate::domain::agent::{self, AgentState};
use crate::domain::group::{self, GroupState, Queue};
use crate::domain::ids::StreamId;
use crate::domain::session::{self, SessionState};
use crate::engine::registry::{Child, SessionSlot};
use crate::engine::session::SessionMsg;
use crate::engine::{
    EngineError, Shared, enqueue_waiting, spawn_agent, spawn_group, spawn_session, spawn_timers,
};

/// The supervisor takes no messages of its own; it only handles supervision events.
#[derive(Debug)]
pub enum SupervisorMsg {}

/// The supervisor actor.
pub struct Supervisor;

impl Actor for Supervisor {
    type Msg = SupervisorMsg;
    type State = Shared;
    type Arguments = Shared;

    async fn pre_start(
        &self,
        _myself: ActorRef<SupervisorMsg>,
        shared: Shared,
    ) -> Result<Shared, ActorProcessingErr> {
        Ok(shared)
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<SupervisorMsg>,
        event: SupervisionEvent,
        shared: &mut Shared,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorFailed(cell, error) => {
                let Some((_, child)) = shared.registry.children.remove(&cell.get_id()) else {
                    return Ok(());
                };
                shared
                    .registry
                    .stats
                    .restarts
                    .fetch_add(1, Ordering::Relaxed);
                metrics::counter!(crate::stats::names::ACTOR_RESTARTS.name, "kind" => kind(child))
                    .increment(1);
                tracing::warn!(?child, %error, "actor failed; rebuilding it from the log");
                if let Err(e) = restart(shared, &myself, child).await {
                    tracing::error!(?child, error = %e, "could not rebuild actor");
                }
            }
            SupervisionEvent::ActorTerminated(cell, _, _) => {
                shared.registry.children.remove(&cell.get_id());
            }
            _ => {}
        }
        Ok(())
    }
}

fn kind(child: Child) -> &'static str {
    match child {
        Child::Agent(_) => "agent",
        Child::Group(_) => "group",
        Child::Session(_) => "session",
        Child::Timers(_) => "timers",
    }
}

async fn restart(
    shared: &Shared,
    myself: &ActorRef<SupervisorMsg>,
    child: Child,
) -> Result<(), EngineError> {
    let cell = myself.get_cell();
    let log = shared.log.as_ref();
    match child {
        Child::Session(id) => {
            shared.registry.sessions.remove(&id);
            let Some(state) = rebuild(
                log,
                StreamId::session(id),
                |app| SessionState::new(id, app),
                session::apply,
            )?
            else {
                return Ok(());
            };
            if !state.ended() {
                let actor = spawn_session(shared, &cell, state).await?;
                let _ = actor.cast(SessionMsg::Reannounce);
            }
        }
        Child::Agent(id) => {
            shared.registry.agents.remove(&id);
            let Some(state) = rebuild(
                log,
                StreamId::agent(id),
                |app| AgentState::new(id, app),
                agent::apply,
            )?
            else {
                return Ok(());
            };
            // Its groups re-link it; its sessions re-announce themselves to it.
            spawn_agent(shared, &cell, state, BTreeMap::new()).await?;
            for g in shared.registry.groups.iter() {
                let _ = g.cast(crate::engine::group::GroupMsg::Relink(id));
            }
            reannounce_all(shared);
        }
        Child::Group(id) => {
            shared.registry.groups.remove(&id);
            let Some(state) = rebuild(
                log,
                StreamId::group(id),
                |app| GroupState::new(id, app),
                group::apply,
            )?
            else {
                return Ok(());
            };
            let actor = spawn_group(shared, &cell, state, Queue::default(), Vec::new()).await?;
            let _ = actor.cast(crate::engine::group::GroupMsg::Relink(
                crate::domain::ids::AgentId(0),
            ));
            reannounce_all(shared);
        }
        Child::Timers(app) => {
            shared.registry.timers.remove(&app);
            spawn_timers(shared, &cell, app).await?;
            reannounce_all(shared);
        }
    }
    Ok(())
}

/// Folds one stream from the log into a fresh state (`None` for a stream with no events).
fn rebuild<S>(
    log: &dyn crate::log::EventLog,
    stream: StreamId,
    new: impl FnOnce(crate::domain::ids::AppId) -> S,
    apply: fn(&mut S, &crate::domain::event::Event),
) -> Result<Option<S>, EngineError> {
    let history = log.read_stream(stream, 1)?;
    let Some(first) = history.first() else {
        return Ok(None);
    };
    let mut state = new(first.app);
    for e in &history {
        apply(&mut state, &e.event);
    }
    Ok(Some(state))
}

fn reannounce_all(shared: &Shared) {
    for slot in shared.registry.sessions.iter() {
        match slot.value() {
            SessionSlot::Awake(actor) => {
                let _ = actor.cast(SessionMsg::Reannounce);
            }
            SessionSlot::Waiting(state) => enqueue_waiting(shared, state),
        }
    }
}
