//! [`Engine`]: the handle the API, the CLI, tests and benches drive the desk through. It
//! replays the log into actors at start, turns calls into actor messages, and answers once
//! the events they caused are durable.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use ractor::{Actor, ActorRef, RpcReplyPort};
use serde::Serialize;

use crate::clock::Clock;
use crate::domain::Rejection;
use crate::domain::agent::{AgentCommand, AgentState};
use crate::domain::event::Event;
use crate::domain::group::{GroupCommand, Queue, QueueRoom};
use crate::domain::ids::{AgentId, AppId, ChannelId, GroupId, SessionId, StreamId, UserKey};
use crate::domain::routing::{RefuseReason, RoutingDecision, RoutingRequest};
use crate::domain::session::{Phase, SessionCommand, SessionState};
use crate::domain::settings::AppSettings;
use crate::domain::world::World;
use crate::engine::agent::{AgentMsg, AgentView, ReserveReply};
use crate::engine::group::{GroupDump, GroupMsg};
use crate::engine::registry::{Child, Observers, Registry, SessionSlot};
use crate::engine::session::SessionMsg;
use crate::engine::spawn::{spawn_agent, spawn_group, spawn_session, spawn_timers};
use crate::engine::supervisor::{Supervisor, SupervisorMsg};
use crate::engine::timers::TimerMsg;
use crate::engine::{EngineError, Reply, Shared, enqueue_waiting};
use crate::log::{Draft, EventLog, EventLogExt};

/// Everything the engine holds, for dumps and comparisons across restarts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EngineDump {
    /// Agents (sorted by id).
    pub agents: Vec<AgentState>,
    /// Groups with their queues (sorted by id).
    pub groups: Vec<GroupDump>,
    /// Live sessions (sorted by id).
    pub sessions: Vec<SessionState>,
}

/// A running engine.
pub struct Engine {
    shared: Shared,
    supervisor: ActorRef<SupervisorMsg>,
    app_writes: tokio::sync::Mutex<()>,
}

async fn ask<M: ractor::Message, T: Send + 'static>(
    actor: &ActorRef<M>,
    build: impl FnOnce(RpcReplyPort<T>) -> M,
) -> Result<T, EngineError> {
    let (tx, rx) = ractor::concurrency::oneshot();
    actor
        .cast(build(tx.into()))
        .map_err(|e| EngineError::Unavailable(e.to_string()))?;
    rx.await
        .map_err(|_| EngineError::Unavailable("actor stopped before answering".into()))
}

fn not_found(what: impl std::fmt::Display) -> EngineError {
    EngineError::Rejected(Rejection::NotFound(what.to_string()))
}

impl Engine {
    /// Replays `log` and starts every actor it describes.
    pub async fn start(log: Arc<dyn EventLog>, clock: Clock) -> Result<Engine, EngineError> {
        let mut world = World::default();
        for envelope in log.read_from(1) {
            world.apply(&envelope?);
        }
        Self::start_from(log, clock, world).await
    }

    /// Starts the actors of an already folded `world` over `log`.
    pub async fn start_from(
        log: Arc<dyn EventLog>,
        clock: Clock,
        world: World,
    ) -> Result<Engine, EngineError> {
        Self::start_observed(log, clock, world, Observers::default()).await
    }

    /// Starts the actors of `world` with `observers` told of every durable session and agent
    /// event from the first one on.
    pub async fn start_observed(
        log: Arc<dyn EventLog>,
        clock: Clock,
        world: World,
        observers: Observers,
    ) -> Result<Engine, EngineError> {
        let registry = Arc::new(Registry::new(world.max_id));
        if let Ok(mut o) = registry.session_news.write() {
            o.extend(observers.sessions);
        }
        if let Ok(mut o) = registry.agent_news.write() {
            o.extend(observers.agents);
        }
        for app in world.apps.values() {
            registry.apps.insert(app.id, app.name.clone());
            registry
                .settings
                .insert(app.id, Arc::new(app.settings.clone()));
        }
        for (key, agent) in &world.last_receptionist {
            registry.last_receptionist.insert(*key, *agent);
        }
        let shared = Shared {
            log,
            clock,
            registry,
        };
        let (supervisor, _) = Actor::spawn(None, Supervisor, shared.clone())
            .await
            .map_err(|e| EngineError::Unavailable(e.to_string()))?;
        let engine = Engine {
            shared,
            supervisor,
            app_writes: tokio::sync::Mutex::new(()),
        };
        let cell = engine.supervisor.get_cell();
        let _ = engine.shared.registry.supervisor.set(cell.clone());
        for app in world.apps.keys() {
            spawn_timers(&engine.shared, &cell, *app).await?;
        }
        // Every queue in one pass over the live sessions.
        let mut queues: BTreeMap<GroupId, Queue> = BTreeMap::new();
        for s in world.sessions.values() {
            if let Phase::Queued {
                group,
                queued_at_ms,
                excluded,
            } = s.phase
            {
                let request = RoutingRequest {
                    last_agent: s.last_agent,
                    excluded,
                };
                queues
                    .entry(group)
                    .or_default()
                    .enqueue(s.id, queued_at_ms, request);
            }
        }
        for g in world.groups.values() {
            let queue = queues.remove(&g.id).unwrap_or_default();
            let views = g
                .members
                .keys()
                .filter_map(|a| world.agents.get(a))
                .map(view_of)
                .collect();
            spawn_group(&engine.shared, &cell, g.clone(), queue, views).await?;
        }
        for a in world.agents.values() {
            let groups = engine.links_of(&world, a.id);
            spawn_agent(&engine.shared, &cell, a.clone(), groups).await?;
        }
        for s in world.sessions.values() {
            if matches!(s.phase, Phase::Queued { .. }) {
                // Its group already has it queued; it wakes when placed or spoken to.
                let slot = SessionSlot::Waiting(Box::new(s.clone()));
                engine.shared.registry.sessions.insert(s.id, slot);
                crate::engine::timers::arm_waiting(&engine.shared, s);
                continue;
            }
            let actor = spawn_session(&engine.shared, &cell, s.clone()).await?;
            // Re-arms the deadlines written in its events; groups and agents already know it.
            let _ = actor.cast(SessionMsg::Reannounce);
        }
        for g in engine.shared.registry.groups.iter() {
            let _ = g.cast(GroupMsg::Dispatch);
        }
        Ok(engine)
    }

    fn links_of(
        &self,
        world: &World,
        agent: AgentId,
    ) -> BTreeMap<GroupId, (u32, ActorRef<GroupMsg>)> {
        world
            .groups_of(agent)
            .filter_map(|g| {
                let actor = self.shared.registry.groups.get(&g.id)?.clone();
                Some((g.id, (g.reception_limit, actor)))
            })
            .collect()
    }

    /// Engine services (log, clock, registry).
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Tells `observer` (as well as any observer before it) of every session's events once
    /// they are durable; `SessionNews::placement` picks out offers and assignments.
    pub fn observe_sessions(
        &self,
        observer: tokio::sync::mpsc::UnboundedSender<crate::engine::registry::SessionNews>,
    ) {
        if let Ok(mut observers) = self.shared.registry.session_news.write() {
            observers.push(observer);
        }
    }

    /// Tells `observer` of every agent's events (login, status, logout) once durable.
    pub fn observe_agents(
        &self,
        observer: tokio::sync::mpsc::UnboundedSender<crate::engine::registry::AgentNews>,
    ) {
        if let Ok(mut observers) = self.shared.registry.agent_news.write() {
            observers.push(observer);
        }
    }

    /// Makes one actor fail as if its handler had panicked (fault injection): the supervisor
    /// rebuilds it from the log. Returns once the failure is sent, not once it is rebuilt.
    pub fn inject_failure(&self, child: Child) -> Result<(), EngineError> {
        let r = &self.shared.registry;
        let sent = match child {
            Child::Agent(id) => r.agents.get(&id).map(|a| a.cast(AgentMsg::Fail).is_ok()),
            Child::Group(id) => r.groups.get(&id).map(|g| g.cast(GroupMsg::Fail).is_ok()),
            Child::Session(id) => self
                .shared
                .session_ref(id)
                .map(|s| s.cast(SessionMsg::Fail).is_ok()),
            Child::Timers(app) => r.timers.get(&app).map(|t| t.cast(TimerMsg::Fail).is_ok()),
        };
        match sent {
            Some(true) => Ok(()),
            _ => Err(not_found(format_args!("{child:?}"))),
        }
    }

    /// Actors restarted after a failure so far.
    pub fn restarts(&self) -> u64 {
        self.shared.registry.stats.restarts.load(Ordering::Relaxed)
    }

    /// Creates an app with default settings.
    pub async fn create_app(&self, name: &str) -> Result<AppId, EngineError> {
        let _guard = self.app_writes.lock().await;
        let id = AppId(self.shared.registry.apps.len() as u32 + 1);
        let events = vec![
            Event::AppCreated {
                name: name.to_owned(),
            },
            Event::SettingsChanged {
                settings: AppSettings::default(),
            },
        ];
        self.append_durable(id, StreamId::app(id), events).await?;
        self.shared.registry.apps.insert(id, name.to_owned());
        self.shared
            .registry
            .settings
            .insert(id, Arc::new(AppSettings::default()));
        spawn_timers(&self.shared, &self.supervisor.get_cell(), id).await?;
        Ok(id)
    }

    /// Replaces an app's settings, after validating them.
    pub async fn update_settings(
        &self,
        app: AppId,
        settings: AppSettings,
    ) -> Result<(), EngineError> {
        settings.validate()?;
        self.app(app)?;
        let _guard = self.app_writes.lock().await;
        self.append_durable(
            app,
            StreamId::app(app),
            vec![Event::SettingsChanged {
                settings: settings.clone(),
            }],
        )
        .await?;
        self.shared
            .registry
            .settings
            .insert(app, Arc::new(settings));
        for g in self.shared.registry.groups.iter() {
            let _ = g.cast(GroupMsg::Dispatch);
        }
        Ok(())
    }

    /// An app's settings.
    pub fn settings(&self, app: AppId) -> Arc<AppSettings> {
        self.shared.registry.settings(app)
    }

    fn app(&self, app: AppId) -> Result<(), EngineError> {
        if self.shared.registry.apps.contains_key(&app) {
            Ok(())
        } else {
            Err(not_found(app))
        }
    }

    async fn append_durable(
        &self,
        app: AppId,
        stream: StreamId,
        events: Vec<Event>,
    ) -> Result<(), EngineError> {
        let drafts = events
            .into_iter()
            .map(|event| Draft { app, stream, event })
            .collect();
        self.shared
            .log
            .append_durable(self.shared.clock.now_ms(), drafts)
            .await?;
        Ok(())
    }

    /// Creates an agent account (offline, in no group).
    pub async fn create_agent(
        &self,
        app: AppId,
        name: &str,
        nickname: &str,
        staff_no: &str,
    ) -> Result<AgentId, EngineError> {
        let profile = (name.to_owned(), nickname.to_owned(), staff_no.to_owned());
        let (ids, _) = self
            .create_agents_with(app, vec![profile], |_| Vec::new())
            .await?;
        Ok(ids[0])
    }

    /// Creates agents in one durable append with `extra` events (their console accounts),
    /// so a crash leaves all of them or none. `extra` is given the new ids. Returns the ids
    /// and every event appended, for read models to fold exactly what was written.
    pub async fn create_agents_with(
        &self,
        app: AppId,
        profiles: Vec<(String, String, String)>,
        extra: impl FnOnce(&[AgentId]) -> Vec<(StreamId, Event)>,
    ) -> Result<(Vec<AgentId>, Vec<(StreamId, Event)>), EngineError> {
        self.app(app)?;
        let ids: Vec<AgentId> = profiles
            .iter()
            .map(|_| AgentId(self.shared.registry.next_id()))
            .collect();
        let mut events: Vec<(StreamId, Event)> = ids
            .iter()
            .zip(profiles)
            .map(|(id, (name, nickname, staff_no))| {
                let created = Event::AgentCreated {
                    name,
                    nickname,
                    staff_no,
                };
                (StreamId::agent(*id), created)
            })
            .collect();
        events.extend(extra(&ids));
        let drafts = events
            .iter()
            .map(|(stream, event)| Draft {
                app,
                stream: *stream,
                event: event.clone(),
            })
            .collect();
        self.shared
            .log
            .append_durable(self.shared.clock.now_ms(), drafts)
            .await?;
        for (id, (_, event)) in ids.iter().zip(&events) {
            let mut state = AgentState::new(*id, app);
            crate::domain::agent::apply(&mut state, event);
            spawn_agent(
                &self.shared,
                &self.supervisor.get_cell(),
                state,
                BTreeMap::new(),
            )
            .await?;
        }
        Ok((ids, events))
    }

    /// Sends an agent a command (login, status, logout, force offline, resume, delete);
    /// answers with the events it wrote, once durable.
    pub async fn agent(
        &self,
        agent: AgentId,
        command: AgentCommand,
    ) -> Result<Vec<Event>, EngineError> {
        let actor = self.agent_actor(agent)?;
        ask(&actor, |port| AgentMsg::Command(command, Some(port))).await?
    }

    /// Creates a skill group.
    pub async fn create_group(
        &self,
        app: AppId,
        name: &str,
        reception_limit: u32,
    ) -> Result<GroupId, EngineError> {
        self.app(app)?;
        let events = crate::domain::group::create(name, reception_limit)?;
        let id = GroupId(self.shared.registry.next_id());
        self.append_durable(app, StreamId::group(id), events.clone())
            .await?;
        let mut state = crate::domain::group::GroupState::new(id, app);
        for e in &events {
            crate::domain::group::apply(&mut state, e);
        }
        spawn_group(
            &self.shared,
            &self.supervisor.get_cell(),
            state,
            Queue::default(),
            Vec::new(),
        )
        .await?;
        Ok(id)
    }

    /// Sends a group an administrative command (members must be agents of the same app);
    /// answers with the events it wrote, once durable.
    pub async fn group(
        &self,
        group: GroupId,
        command: GroupCommand,
    ) -> Result<Vec<Event>, EngineError> {
        let actor = self.group_actor(group)?;
        if let GroupCommand::AddMember(agent, _) = &command {
            let registry = &self.shared.registry;
            let agent_app = registry.agent_apps.get(agent).map(|a| *a);
            if agent_app.is_none() || agent_app != registry.group_apps.get(&group).map(|g| *g) {
                return Err(not_found(agent));
            }
        }
        ask(&actor, |port| GroupMsg::Command(command, Some(port))).await?
    }

    /// A user's first message opened a session that asks for a human in `group` (none:
    /// the flow runs first and asks later with [`SessionCommand::RequestHuman`]).
    pub async fn open_session(
        &self,
        app: AppId,
        channel: ChannelId,
        user: &str,
        group: Option<GroupId>,
    ) -> Result<SessionId, EngineError> {
        self.app(app)?;
        if let Some(g) = group {
            self.check_group(app, g)?;
        }
        let last = self
            .shared
            .registry
            .last_receptionist
            .get(&UserKey::of(channel, user))
            .map(|a| *a);
        let created = crate::domain::session::create(channel, user, last)?;
        let id = SessionId(self.shared.registry.next_id());
        let Some(group) = group else {
            // The flow runs first: the session needs its actor at once.
            let sup = self.supervisor.get_cell();
            let actor = spawn_session(&self.shared, &sup, SessionState::new(id, app)).await?;
            ask(&actor, |port| SessionMsg::Open {
                created,
                group: None,
                reply: Some(port),
            })
            .await??;
            return Ok(id);
        };
        // Straight into a queue: the session waits as its state alone, and its stream's first
        // events are written here (no actor exists yet to write them). The group hears of it
        // once the events are appended, so anything it appends in response is ordered after.
        // It is let in as a flow's ask would be: the group's cap and wait limit hold.
        let mut state = SessionState::new(id, app);
        crate::domain::session::apply(&mut state, &created);
        let room = self.admit(group, id).await;
        let ctx = crate::domain::session::SessionCtx {
            settings: self.shared.registry.settings(app),
            now_ms: self.shared.clock.now_ms(),
            room,
        };
        let ask = SessionCommand::RequestHuman { group };
        let decided = crate::domain::session::decide(&state, &ask, &ctx);
        let queued = match decided {
            Ok(queued) => queued,
            Err(e) => {
                self.give_up_place(group, id);
                return Err(e.into());
            }
        };
        let mut state = SessionState::new(id, app);
        let events: Vec<Event> = std::iter::once(created).chain(queued).collect();
        let now = ctx.now_ms;
        let (tx, rx) = ractor::concurrency::oneshot();
        let durable: Reply<()> = tx.into();
        let on_durable = crate::engine::with_news(
            &self.shared,
            app,
            id,
            &events,
            Some(crate::engine::reply_on_durable(durable, ())),
        );
        self.shared
            .append_then(app, StreamId::session(id), &events, now, on_durable)?;
        for event in &events {
            crate::domain::session::apply(&mut state, event);
        }
        if matches!(state.phase, Phase::Queued { .. }) {
            self.shared
                .registry
                .sessions
                .insert(id, SessionSlot::Waiting(Box::new(state.clone())));
            enqueue_waiting(&self.shared, &state);
        } else {
            // Refused by the full queue: it ended as it began, and holds no place.
            debug_assert!(state.ended());
            self.give_up_place(group, id);
        }
        rx.await
            .map_err(|_| EngineError::Unavailable("log stopped before answering".into()))??;
        Ok(id)
    }

    /// Asks `group` to let `session` in: how full its queue is, the place held if there is
    /// room (none when the group cannot say: then no limit holds).
    async fn admit(&self, group: GroupId, session: SessionId) -> Option<QueueRoom> {
        let actor = self.group_actor(group).ok()?;
        ask(&actor, |reply| GroupMsg::Admit { session, reply })
            .await
            .ok()
            .flatten()
    }

    /// Gives back the place `group` held for a session that did not enter.
    fn give_up_place(&self, group: GroupId, session: SessionId) {
        if let Ok(actor) = self.group_actor(group) {
            let _ = actor.cast(GroupMsg::Dequeue { session });
        }
    }

    /// An agent starts a session with `user` on `channel` (proactive contact), in service
    /// with the agent at once; it ends unless the user answers by `answer_by_ms`. The agent
    /// must be online (any status); the caller checks the app's rule and the channel's
    /// proactive group.
    pub async fn start_proactive(
        &self,
        app: AppId,
        channel: ChannelId,
        user: &str,
        agent: AgentId,
        group: GroupId,
        answer_by_ms: i64,
    ) -> Result<SessionId, EngineError> {
        self.app(app)?;
        self.check_group(app, group)?;
        if self.shared.registry.agent_apps.get(&agent).map(|a| *a) != Some(app) {
            return Err(not_found(agent));
        }
        let events =
            crate::domain::session::start_by_agent(channel, user, agent, group, answer_by_ms)?;
        let id = SessionId(self.shared.registry.next_id());
        let target = self.agent_actor(agent)?;
        let taken = ask(&target, |port| AgentMsg::StartContact {
            session: id,
            reply: port,
        })
        .await?;
        if let Err(reason) = taken {
            return Err(Rejection::conflict(format_args!(
                "{agent} cannot start a session: {}",
                describe(&reason)
            ))
            .into());
        }
        let sup = self.supervisor.get_cell();
        let opened = async {
            let actor = spawn_session(&self.shared, &sup, SessionState::new(id, app)).await?;
            ask(&actor, |port| SessionMsg::OpenWith {
                events,
                reply: Some(port),
            })
            .await?
        }
        .await;
        if let Err(e) = opened {
            let _ = target.cast(AgentMsg::Release { session: id });
            return Err(e);
        }
        Ok(id)
    }

    fn check_group(&self, app: AppId, group: GroupId) -> Result<(), EngineError> {
        match self.shared.registry.group_apps.get(&group) {
            Some(g) if *g == app => Ok(()),
            _ => Err(not_found(group)),
        }
    }

    /// Sends a session a command.
    pub async fn session(
        &self,
        session: SessionId,
        command: SessionCommand,
    ) -> Result<(), EngineError> {
        let actor = self.session_actor(session)?;
        if let SessionCommand::RequestHuman { group }
        | SessionCommand::TransferToGroup { group, .. } = &command
        {
            let s = ask(&actor, SessionMsg::Dump).await?;
            self.check_group(s.app, *group)?;
        }
        ask(&actor, |port| SessionMsg::Command(command, Some(port))).await?
    }

    /// Sends a session a message-like command (`UserMessage`, `AgentMessage`) and answers
    /// once it is decided and its events are in the log's order, before they are durable.
    /// For a caller that appends events of its own next and tells anyone only once those are
    /// durable: the log keeps a prefix, so theirs being durable means these are too, and the
    /// caller waits for one fsync instead of two.
    pub async fn session_ordered(
        &self,
        session: SessionId,
        command: SessionCommand,
    ) -> Result<(), EngineError> {
        if !matches!(
            command,
            SessionCommand::UserMessage(_) | SessionCommand::AgentMessage { .. }
        ) {
            return Err(
                Rejection::invalid("command", "only messages may skip the durable wait").into(),
            );
        }
        let actor = self.session_actor(session)?;
        ask(&actor, |port| SessionMsg::Ordered(command, port)).await?
    }

    fn agent_actor(&self, agent: AgentId) -> Result<ActorRef<AgentMsg>, EngineError> {
        self.shared
            .registry
            .agents
            .get(&agent)
            .map(|a| a.clone())
            .ok_or_else(|| not_found(agent))
    }

    fn group_actor(&self, group: GroupId) -> Result<ActorRef<GroupMsg>, EngineError> {
        self.shared
            .registry
            .groups
            .get(&group)
            .map(|g| g.clone())
            .ok_or_else(|| not_found(group))
    }

    /// The actor of a live session, woken if it was waiting.
    fn session_actor(&self, session: SessionId) -> Result<ActorRef<SessionMsg>, EngineError> {
        self.shared
            .session_ref(session)
            .ok_or_else(|| not_found(session))
    }

    /// Transfers a session its agent `from` serves to the agent `to`, who must be free
    /// and under its reception limit now.
    pub async fn transfer_to_agent(
        &self,
        session: SessionId,
        from: AgentId,
        to: AgentId,
    ) -> Result<(), EngineError> {
        if from == to {
            return Err(Rejection::invalid(
                "userId",
                "cannot transfer a session to the agent serving it",
            )
            .into());
        }
        let actor = self.session_actor(session)?;
        let target = self.agent_actor(to)?;
        let s = ask(&actor, SessionMsg::Dump).await?;
        if self.shared.registry.agent_apps.get(&to).map(|a| *a) != Some(s.app) {
            return Err(not_found(to));
        }
        if s.holder() != Some(from) || !matches!(s.phase, Phase::InService { .. }) {
            return Err(
                Rejection::conflict(format_args!("{from} is not serving {session}")).into(),
            );
        }
        let reserved = ask(&target, |port| AgentMsg::Reserve {
            session,
            limit: None,
            reply: ReserveReply::Direct(port),
        })
        .await?;
        let held = match reserved {
            Ok(held) => held,
            Err(reason) => {
                return Err(Rejection::conflict(format_args!(
                    "{to} cannot take {session}: {}",
                    describe(&reason)
                ))
                .into());
            }
        };
        let policy = self.shared.registry.settings(s.app).routing;
        let command = SessionCommand::TransferToAgent {
            from,
            to,
            decision: RoutingDecision::direct(policy, held),
        };
        let answer = ask(&actor, |port| SessionMsg::Command(command, Some(port))).await;
        if let Err(EngineError::Unavailable(_)) = &answer {
            // The session ended before it read the transfer: nobody else gives `to` back.
            let _ = target.cast(AgentMsg::Release { session });
        }
        answer?
    }

    /// How many sessions wait ahead of a queued session (`${WaitNo}`).
    pub async fn queue_position(&self, session: SessionId) -> Result<Option<usize>, EngineError> {
        let s = self.session_state(session).await?;
        let Phase::Queued { group, .. } = s.phase else {
            return Ok(None);
        };
        let actor = self.group_actor(group)?;
        let position = ask(&actor, |port| GroupMsg::Position(session, port)).await?;
        // The queue may hold sessions whose events are not durable yet: shown to a user, the
        // position waits for them like every other effect.
        self.shared.log.durable_barrier().await?;
        Ok(position)
    }

    /// A group's queue, first to be served first: every waiting session's `${WaitNo}` in one
    /// ask (its index). Waits for the queue's sessions to be durable, as `queue_position`.
    pub async fn queue_order(&self, group: GroupId) -> Result<Vec<SessionId>, EngineError> {
        let actor = self.group_actor(group)?;
        let order = ask(&actor, GroupMsg::Order).await?;
        self.shared.log.durable_barrier().await?;
        Ok(order)
    }

    /// A group's queue with what routing knows of each session and the members' view, for
    /// monitoring's "why is it still waiting". Read as the actor holds it, not waiting on
    /// the log: a monitor shows the desk as it is this instant.
    pub async fn queue_waiting(
        &self,
        group: GroupId,
    ) -> Result<crate::engine::group::Waiting, EngineError> {
        let actor = self.group_actor(group)?;
        ask(&actor, GroupMsg::Waiting).await
    }

    /// One session's state as its actor holds it: applied, possibly not yet durable (for
    /// tests and diagnostics; wait on the log before showing it to anyone).
    pub async fn session_state(&self, session: SessionId) -> Result<SessionState, EngineError> {
        let actor = {
            let slot = self
                .shared
                .registry
                .sessions
                .get(&session)
                .ok_or_else(|| not_found(session))?;
            match slot.value() {
                SessionSlot::Awake(actor) => actor.clone(),
                SessionSlot::Waiting(state) => return Ok((**state).clone()),
            }
        };
        ask(&actor, SessionMsg::Dump).await
    }

    /// The app a live session belongs to, read without waking it: a waiting session's
    /// state says, an awake one is asked. `None` when no live session has that id. Commands
    /// that name a session from outside (an agent's, with its own app) check this first, so
    /// another tenant's session is neither woken nor told apart from one that does not exist.
    pub async fn session_app(&self, session: SessionId) -> Option<AppId> {
        self.session_state(session).await.ok().map(|s| s.app)
    }

    /// One agent's state as its actor holds it (see [`Engine::session_state`]).
    pub async fn agent_state(&self, agent: AgentId) -> Result<AgentState, EngineError> {
        let actor = self.agent_actor(agent)?;
        ask(&actor, AgentMsg::Dump).await
    }

    /// The state of every actor.
    pub async fn dump(&self) -> Result<EngineDump, EngineError> {
        let agents: Vec<_> = self
            .shared
            .registry
            .agents
            .iter()
            .map(|a| a.clone())
            .collect();
        let groups: Vec<_> = self
            .shared
            .registry
            .groups
            .iter()
            .map(|g| g.clone())
            .collect();
        let sessions: Vec<SessionId> = self
            .shared
            .registry
            .sessions
            .iter()
            .map(|s| *s.key())
            .collect();
        let mut dump = EngineDump {
            agents: Vec::new(),
            groups: Vec::new(),
            sessions: Vec::new(),
        };
        for a in agents {
            dump.agents.push(ask(&a, AgentMsg::Dump).await?);
        }
        for g in groups {
            dump.groups.push(ask(&g, GroupMsg::Dump).await?);
        }
        for s in sessions {
            if let Ok(state) = self.session_state(s).await {
                dump.sessions.push(state);
            }
        }
        dump.agents.sort_by_key(|a| a.id);
        dump.groups.sort_by_key(|g| g.state.id);
        dump.sessions.sort_by_key(|s| s.id);
        Ok(dump)
    }

    /// Timers armed across all apps.
    pub async fn pending_timers(&self) -> Result<usize, EngineError> {
        let timers: Vec<_> = self
            .shared
            .registry
            .timers
            .iter()
            .map(|t| t.clone())
            .collect();
        let mut n = 0;
        for t in timers {
            n += ask(&t, TimerMsg::Pending).await?;
        }
        Ok(n)
    }

    /// Stops every actor and waits until everything appended is durable.
    pub async fn shutdown(&self) -> Result<(), EngineError> {
        // Children finish what is in their mailboxes, then stop; timers die with theirs.
        self.supervisor
            .get_cell()
            .drain_children_and_wait(None)
            .await;
        let _ = self.supervisor.stop_and_wait(None, None).await;
        let log = Arc::clone(&self.shared.log);
        log.durable_barrier().await?;
        Ok(())
    }
}

/// A refusal in words, for error messages.
pub fn describe(reason: &RefuseReason) -> String {
    match reason {
        RefuseReason::NotFree { status } => format!("status is {status}"),
        RefuseReason::AtLimit { load, limit } => format!("holds {load} sessions, limit {limit}"),
        RefuseReason::Offline => "offline".into(),
        RefuseReason::Gone => "no longer available".into(),
        RefuseReason::AlreadyHolds => "already holds it".into(),
    }
}

fn view_of(a: &AgentState) -> AgentView {
    AgentView {
        agent: a.id,
        online: a.online() && !a.deleted,
        free: a.status == crate::domain::event::AgentStatus::Free,
        load: a.load(),
        idle_since_ms: 0,
    }
}
