//! [`Desk`]: the write path of the admin directory. A change is decided against the
//! directory under one lock, appended to the log, and folded in once durable, so what the
//! API answers is always what a restart replays.

use std::sync::{Arc, RwLock, RwLockReadGuard};

use crate::domain::agent::AgentCommand;
use crate::domain::directory::{AppDirectory, Directory};
use crate::domain::event::Event;
use crate::domain::group::GroupCommand;
use crate::domain::ids::{AgentId, AppId, GroupId, StreamId};
use crate::engine::Engine;
use crate::log::{Draft, EventLogExt};

use super::error::ApiError;

/// The engine and the directory, with the lock admin changes take turns on.
pub struct Desk {
    /// The routing engine (agents and skill groups are its actors).
    pub engine: Arc<Engine>,
    directory: RwLock<Directory>,
    writes: tokio::sync::Mutex<()>,
}

/// Held while a change is decided and written: admin changes are rare and short, and one
/// at a time makes "validate then append" race-free (two creates of one email, say).
pub type WriteTurn<'a> = tokio::sync::MutexGuard<'a, ()>;

impl Desk {
    /// A desk over a started engine and the directory its log folded into.
    pub fn new(engine: Arc<Engine>, directory: Directory) -> Self {
        Self {
            engine,
            directory: RwLock::new(directory),
            writes: tokio::sync::Mutex::new(()),
        }
    }

    /// The directory, for reading (never held across an await).
    pub fn read(&self) -> RwLockReadGuard<'_, Directory> {
        self.directory.read().unwrap_or_else(|e| e.into_inner())
    }

    /// One app's directory as it is now (a shared snapshot, no lock held), or `NotFound`.
    pub fn app(&self, app: AppId) -> Result<Arc<AppDirectory>, ApiError> {
        self.read()
            .shared(app)
            .ok_or_else(|| ApiError::NotFound(app.to_string()))
    }

    /// Waits for the turn to change the directory.
    pub async fn turn(&self) -> WriteTurn<'_> {
        self.writes.lock().await
    }

    /// A fresh id from the engine's counter.
    pub fn next_id(&self) -> u64 {
        self.engine.shared().registry.next_id()
    }

    /// Appends events of `app` as one durable unit, then folds them in. Call with the turn
    /// held.
    pub async fn append(
        &self,
        _turn: &WriteTurn<'_>,
        app: AppId,
        events: Vec<(StreamId, Event)>,
    ) -> Result<(), ApiError> {
        if events.is_empty() {
            return Ok(());
        }
        self.write(app, &events).await?;
        self.fold(app, &events);
        Ok(())
    }

    /// Appends events of `app` as one durable unit, folding nothing (conversations fold
    /// their own).
    pub async fn write(&self, app: AppId, events: &[(StreamId, Event)]) -> Result<(), ApiError> {
        let shared = self.engine.shared();
        let drafts = events
            .iter()
            .map(|(stream, event)| Draft {
                app,
                stream: *stream,
                event: event.clone(),
            })
            .collect();
        shared
            .log
            .append_durable(shared.clock.now_ms(), drafts)
            .await?;
        Ok(())
    }

    /// Sends a skill group a command through the engine and folds the events it wrote.
    pub async fn group(
        &self,
        _turn: &WriteTurn<'_>,
        app: AppId,
        group: GroupId,
        command: GroupCommand,
    ) -> Result<(), ApiError> {
        let events = self.engine.group(group, command).await?;
        self.fold_stream(app, StreamId::group(group), events);
        Ok(())
    }

    /// Sends an agent a command through the engine and folds the events it wrote.
    pub async fn agent(
        &self,
        _turn: &WriteTurn<'_>,
        app: AppId,
        agent: AgentId,
        command: AgentCommand,
    ) -> Result<(), ApiError> {
        let events = self.engine.agent(agent, command).await?;
        self.fold_stream(app, StreamId::agent(agent), events);
        Ok(())
    }

    fn fold_stream(&self, app: AppId, stream: StreamId, events: Vec<Event>) {
        let events: Vec<(StreamId, Event)> = events.into_iter().map(|e| (stream, e)).collect();
        self.fold(app, &events);
    }

    /// Folds events the engine already wrote (new agents and groups, the default app).
    pub fn fold(&self, app: AppId, events: &[(StreamId, Event)]) {
        let mut dir = self.directory.write().unwrap_or_else(|e| e.into_inner());
        for (stream, event) in events {
            dir.apply(app, *stream, event);
        }
    }
}
