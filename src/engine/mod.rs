//! The imperative shell: ractor actors that run the domain over the event log.
//!
//! One actor per agent, per skill group and per live session, one timer actor per app,
//! all under one supervisor that rebuilds a crashed actor from its events. An actor's
//! `handle` is short: decide (pure, `crate::domain`), append (with the reply attached as a
//! completion, so callers hear back only once the events are durable), apply, act.
//!
//! [`Engine`] is the handle the API, the CLI, tests and benches drive it through.

pub mod agent;
pub mod group;
mod handle;
pub mod registry;
pub mod session;
mod spawn;
pub mod supervisor;
pub mod timers;

pub use handle::{Engine, EngineDump, describe};
pub use registry::Child;
pub(crate) use spawn::{spawn_agent, spawn_group, spawn_session, spawn_timers};

use std::sync::Arc;

use ractor::{ActorRef, RpcReplyPort};

use crate::clock::Clock;
use crate::domain::Rejection;
use crate::domain::event::Event;
use crate::domain::ids::{AppId, SessionId, StreamId};
use crate::domain::routing::RoutingRequest;
use crate::domain::session::{Phase, SessionState};
use crate::log::{Completion, Draft, EventLog, LogError};

use group::GroupMsg;
use registry::{Registry, SessionSlot};
use session::{SessionActor, SessionArgs, SessionMsg};

/// Why an engine call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    /// The command was refused; nothing changed.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The log failed; the command's events may not be durable.
    #[error(transparent)]
    Log(#[from] LogError),
    /// An actor the call needed is gone (engine stopping).
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// Where an actor sends the outcome of a command.
pub type Reply<T> = RpcReplyPort<Result<T, EngineError>>;

/// Answers at once (for outcomes that wrote nothing).
pub(crate) fn reply_now<T>(reply: Option<Reply<T>>, result: Result<T, EngineError>) {
    if let Some(port) = reply {
        let _ = port.send(result);
    }
}

/// What every actor of the engine shares.
#[derive(Clone)]
pub struct Shared {
    /// The event log.
    pub log: Arc<dyn EventLog>,
    /// The clock.
    pub clock: Clock,
    /// The actor directory.
    pub registry: Arc<Registry>,
}

impl Shared {
    /// Appends one stream's events; `reply` gets `value` once they are durable.
    pub(crate) fn append<T: Send + 'static>(
        &self,
        app: AppId,
        stream: StreamId,
        events: &[Event],
        now_ms: i64,
        reply: Option<Reply<T>>,
        value: T,
    ) -> Result<(), EngineError> {
        self.append_then(
            app,
            stream,
            events,
            now_ms,
            reply.map(|port| reply_on_durable(port, value)),
        )
    }

    /// Appends one stream's events; `on_durable` runs once they are durable.
    pub(crate) fn append_then(
        &self,
        app: AppId,
        stream: StreamId,
        events: &[Event],
        now_ms: i64,
        on_durable: Option<Completion>,
    ) -> Result<(), EngineError> {
        let drafts = events
            .iter()
            .map(|e| Draft {
                app,
                stream,
                event: e.clone(),
            })
            .collect();
        self.log
            .append(now_ms, drafts, on_durable)
            .map(|_| ())
            .map_err(EngineError::from)
    }
}

impl Shared {
    /// The actor of a live session; a waiting session is woken from its state first (under
    /// its map entry's lock, so two senders never wake it twice).
    pub(crate) fn session_ref(&self, id: SessionId) -> Option<ActorRef<SessionMsg>> {
        let mut slot = self.registry.sessions.get_mut(&id)?;
        let state = match slot.value() {
            SessionSlot::Awake(actor) => return Some(actor.clone()),
            SessionSlot::Waiting(state) => (**state).clone(),
        };
        let supervisor = self.registry.supervisor.get()?.clone();
        let args = SessionArgs {
            shared: self.clone(),
            state,
        };
        match ractor::ActorRuntime::spawn_linked_instant(None, SessionActor, args, supervisor) {
            Ok((actor, _)) => {
                self.registry
                    .children
                    .insert(actor.get_id(), Child::Session(id));
                *slot = SessionSlot::Awake(actor.clone());
                Some(actor)
            }
            Err(e) => {
                tracing::error!(session = %id, error = %e, "cannot wake a waiting session");
                None
            }
        }
    }
}

/// Chains `completion` after telling the session observers of `events` once they are
/// durable, so the news reaches them before the caller hears back.
pub(crate) fn with_news(
    shared: &Shared,
    app: AppId,
    session: SessionId,
    events: &[Event],
    completion: Option<Completion>,
) -> Option<Completion> {
    notify_on_durable(&shared.registry.session_news, completion, || {
        registry::SessionNews {
            app,
            session,
            events: events.to_vec(),
        }
    })
}

/// Chains `completion` after sending `observers` the news `make` builds (only when there is
/// an observer), once the append it is attached to is durable.
pub(crate) fn notify_on_durable<N: Clone + Send + 'static>(
    observers: &std::sync::RwLock<Vec<tokio::sync::mpsc::UnboundedSender<N>>>,
    completion: Option<Completion>,
    make: impl FnOnce() -> N,
) -> Option<Completion> {
    let observers = observers.read().map(|o| o.clone()).unwrap_or_default();
    if observers.is_empty() {
        return completion;
    }
    let news = make();
    Some(Box::new(move |result| {
        if result.is_ok() {
            for observer in &observers {
                let _ = observer.send(news.clone());
            }
        }
        if let Some(completion) = completion {
            completion(result);
        }
    }))
}

/// Tells a waiting session's group where it waits (after the group was rebuilt), and the
/// timers when its wait ends.
pub(crate) fn enqueue_waiting(shared: &Shared, state: &SessionState) {
    timers::arm_waiting(shared, state);
    if let Phase::Queued {
        group,
        queued_at_ms,
        excluded,
    } = state.phase
        && let Some(g) = shared.registry.groups.get(&group)
    {
        let request = RoutingRequest {
            last_agent: state.last_agent,
            excluded,
        };
        let _ = g.cast(GroupMsg::Enqueue {
            session: state.id,
            queued_at_ms,
            request,
        });
    }
}

/// A completion that answers `port` with `value` (or the log's error).
pub(crate) fn reply_on_durable<T: Send + 'static>(port: Reply<T>, value: T) -> Completion {
    Box::new(move |r: Result<u64, LogError>| {
        let _ = port.send(r.map(|_| value).map_err(EngineError::from));
    })
}
