//! The user end's hub: every conversation behind a lock of its own, the sockets of users and
//! agents, and the glue between a conversation and the session serving it.
//!
//! A message is decided against its conversation (pure, `crate::domain::conversation`),
//! appended to the log, folded in once durable and only then pushed to sockets, all under
//! the conversation's lock: what a socket receives is in `seq` order and was durable first.
//! A socket registers before it reads its backlog, and drops stored messages it already
//! sent (by `seq`), so a reconnecting client resumes with no gap and no duplicate.
//!
//! The engine tells the hub of every session's durable events ([`Engine::observe_sessions`]);
//! a dispatcher routes them by conversation to a few workers, so one conversation's news are
//! handled in order and a busy conversation holds up only its own worker. What a session's
//! events mean to the user (seat status, ends, satisfaction) is decided by
//! `crate::domain::service`.
//!
//! [`Engine::observe_sessions`]: crate::engine::Engine::observe_sessions

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;
use serde::Serialize;
use tokio::sync::{Mutex, OwnedMutexGuard, mpsc};

use crate::api::ApiState;
use crate::api::error::ApiError;
use crate::domain::conversation::{Body, ConversationEntry, Conversations, Message, Sender, Sent};
use crate::domain::directory::{AppDirectory, ChannelKind, SatisfactionConfig};
use crate::domain::event::{AgentStatus, MissCause};
use crate::domain::event::{CloseBy, Event};
use crate::domain::ids::{AgentId, AppId, ChannelId, ConversationId, SessionId, StreamId};
use crate::domain::service::{self, Effect, RateError};
use crate::domain::session::SessionCommand;
use crate::domain::workstation::{Change, Offer, Presence, Seat, View};
use crate::engine::registry::{AgentNews, Observers, SessionNews};
use crate::im::feed::{FeedSubscription, Feeds, Resume};
use crate::im::protocol::DeskMessage;

/// Frames waiting for a slow socket; past this the socket is closed and its client resumes.
pub const OUTBOX: usize = 1_024;
/// Workers that handle session news, by conversation.
const NEWS_WORKERS: usize = 8;

/// A frame on its way to one socket: its JSON text, and for a stored message its place, so a
/// socket that resumed drops what it already sent.
#[derive(Clone, Debug)]
pub struct Outbound {
    /// The frame, serialized once for every socket.
    pub text: Arc<str>,
    /// `(conversation, seq)` of a stored message.
    pub place: Option<(ConversationId, u64)>,
}

struct Subscriber {
    id: u64,
    tx: mpsc::Sender<Outbound>,
}

/// A socket's subscription: frames arrive on `rx`; dropping it unsubscribes.
pub struct Subscription {
    /// The frames.
    pub rx: mpsc::Receiver<Outbound>,
    id: u64,
}

impl Subscription {
    /// Its id (for [`Hub::unsubscribe_user`] and [`Hub::unsubscribe_agent`]).
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// One conversation and whether its stream exists in the log yet.
pub struct Slot {
    /// The conversation.
    pub entry: ConversationEntry,
    persisted: bool,
}

/// A frame to a user's socket.
#[derive(Serialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum UserFrame<'a> {
    /// A message, stored (with `seq`) or a flag message (without).
    Message {
        /// The conversation.
        conversation_id: ConversationId,
        /// Sender: the user's id, or the virtual number (or `webAppId`).
        from: &'a str,
        /// Receiver.
        to: &'a str,
        /// The sender's id for it.
        msg_id: &'a str,
        /// Its place (none for a flag message).
        seq: Option<u64>,
        /// When the desk took it, ms since the epoch.
        time: i64,
        /// A flag message.
        online_user_only: bool,
        /// Text or custom.
        body: &'a Body,
    },
    /// A stored message changed (`selected` set).
    Update {
        /// The conversation.
        conversation_id: ConversationId,
        /// The message.
        seq: u64,
        /// Its body now.
        body: &'a Body,
    },
    /// The message `msgId` was taken.
    Ack {
        /// The client's id.
        msg_id: &'a str,
        /// The conversation.
        conversation_id: ConversationId,
        /// Its place (none for a flag message).
        seq: Option<u64>,
        /// It was taken before (nothing changed).
        duplicate: bool,
    },
    /// A request was refused; nothing changed.
    Error {
        /// The client's id of the message refused, if any.
        msg_id: Option<&'a str>,
        /// The error code, as in the REST API's errors.
        error: &'a str,
        /// The protocol's numeric code (10150 to 10154), for a refused rating.
        code: Option<u32>,
        /// The field at fault.
        field: Option<&'a str>,
        /// What was wrong.
        message: &'a str,
        /// For `rate_limited`: how long until the same message would be taken.
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// The socket closes now, and why: `token_expired` (the user token's `exp` passed) or
    /// `secret_rotated` (the IM secret that signed it is past its grace period).
    Closed {
        /// Why, as a code.
        reason: &'a str,
        /// Why, for people.
        message: &'a str,
    },
    /// The user's place in the queue (`${WaitNo}`: sessions ahead).
    Queue {
        /// The conversation.
        conversation_id: ConversationId,
        /// Sessions ahead of the user's.
        position: usize,
    },
}

/// A frame to an agent's socket.
#[derive(Serialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum AgentFrame<'a> {
    /// A session is offered: accept before `deadlineMs`.
    Offer {
        /// The session.
        session_id: SessionId,
        /// Its conversation.
        conversation_id: Option<ConversationId>,
        /// The user.
        user: &'a str,
        /// The channel.
        channel_id: Option<ChannelId>,
        /// The channel's name.
        channel_name: Option<&'a str>,
        /// When the offer lapses, ms since the epoch.
        deadline_ms: i64,
        /// The agent who handed it over, for a transfer.
        transferred_by: Option<AgentId>,
    },
    /// The agent serves the session now.
    Seated {
        /// The session.
        session_id: SessionId,
        /// Its conversation.
        conversation_id: Option<ConversationId>,
        /// The user.
        user: &'a str,
        /// The channel.
        channel_id: Option<ChannelId>,
        /// The channel's name.
        channel_name: Option<&'a str>,
        /// The agent who handed it over, for a transfer.
        transferred_by: Option<AgentId>,
    },
    /// The conversation so far, when the agent takes a session: its latest stored messages
    /// (older ones through the conversation's history).
    Transcript {
        /// The session.
        session_id: SessionId,
        /// The conversation.
        conversation_id: ConversationId,
        /// The user.
        user: &'a str,
        /// Oldest first.
        messages: &'a [Message],
    },
    /// A message of a session the agent serves.
    Message {
        /// The session.
        session_id: Option<SessionId>,
        /// The conversation.
        conversation_id: ConversationId,
        /// `user`, `agent` (a human of the desk) or `desk` (the desk itself).
        from: &'a str,
        /// The sender's id for it.
        msg_id: &'a str,
        /// Its place (none for a flag message).
        seq: Option<u64>,
        /// When the desk took it, ms since the epoch.
        time: i64,
        /// Text or custom.
        body: &'a Body,
    },
    /// The session left the agent.
    Released {
        /// The session.
        session_id: SessionId,
        /// `transferred` (the agent handed it on), `offer_expired` (the countdown ran out and
        /// the desk offers it elsewhere) or `unavailable` (the agent went offline).
        reason: &'static str,
    },
    /// The user is typing.
    Typing {
        /// The session.
        session_id: Option<SessionId>,
        /// The conversation.
        conversation_id: ConversationId,
    },
    /// The agent's status changed (by the agent, an administrator or the desk).
    Status {
        /// Logged in.
        online: bool,
        /// `offline`, `free`, `busy`, `rest`, `arrange` or `not_ready`.
        status: &'static str,
        /// The rest reason, for `rest`.
        rest_reason: Option<&'a str>,
    },
    /// The sign-in ended (a newer sign-in, a sign-out, a password change, an administrator):
    /// the socket closes after this frame.
    SignedOut {
        /// Why.
        cause: crate::domain::directory::SignOutCause,
    },
    /// The session ended.
    Ended {
        /// The session.
        session_id: SessionId,
        /// Who ended it: `client`, `seat`, `admin` or `timer`.
        close_by: &'static str,
    },
    /// The user rated the session.
    Rated {
        /// The session.
        session_id: SessionId,
        /// The level's value.
        value: u8,
        /// Its label.
        label: &'a str,
    },
    /// A command was carried out.
    Ok {
        /// The command.
        command: &'a str,
        /// The command's `ref`, when it had one.
        #[serde(skip_serializing_if = "Option::is_none")]
        r#ref: Option<&'a str>,
        /// Its session.
        session_id: Option<SessionId>,
        /// For `send`: the client's id and the stored message's place.
        msg_id: Option<&'a str>,
        /// For `send`: the message's place.
        seq: Option<u64>,
    },
    /// A command was refused; nothing changed.
    Error {
        /// The command.
        command: Option<&'a str>,
        /// The command's `ref`, when it had one.
        #[serde(skip_serializing_if = "Option::is_none")]
        r#ref: Option<&'a str>,
        /// The error code, as in the REST API's errors.
        error: &'a str,
        /// The field at fault.
        field: Option<&'a str>,
        /// What was wrong.
        message: &'a str,
    },
}

fn text_of<T: Serialize>(frame: &T) -> Arc<str> {
    serde_json::to_string(frame)
        .unwrap_or_else(|e| format!(r#"{{"type":"error","error":"internal","message":"{e}"}}"#))
        .into()
}

/// An error as a user frame.
pub fn user_error(msg_id: Option<&str>, error: &ApiError) -> Arc<str> {
    let body = error.body();
    text_of(&UserFrame::Error {
        msg_id,
        error: &body.error.code,
        code: error.protocol_code(),
        field: body.error.field.as_deref(),
        message: &body.error.message,
        retry_after_ms: None,
    })
}

/// A message refused by the user's rate limit, as a user frame: `rate_limited`, with when to
/// try again.
pub fn user_rate_limited(msg_id: Option<&str>, message: &str, retry_after_ms: u64) -> Arc<str> {
    text_of(&UserFrame::Error {
        msg_id,
        error: "rate_limited",
        code: None,
        field: None,
        message,
        retry_after_ms: Some(retry_after_ms),
    })
}

/// The last frame of a user socket the desk closes, saying why.
pub fn user_closed(reason: &str, message: &str) -> Arc<str> {
    text_of(&UserFrame::Closed { reason, message })
}

/// An error as an agent frame.
pub fn agent_error(command: Option<&str>, reference: Option<&str>, error: &ApiError) -> Arc<str> {
    let body = error.body();
    text_of(&AgentFrame::Error {
        command,
        r#ref: reference,
        error: &body.error.code,
        field: body.error.field.as_deref(),
        message: &body.error.message,
    })
}

/// A rating refusal as an API error carrying the protocol's code.
fn rate_error(e: RateError) -> ApiError {
    match e.code() {
        Some(code) => ApiError::Protocol {
            code,
            field: if e == RateError::BadData {
                "body.data.menuSelected"
            } else {
                "body.data.menuSelected.sessionId"
            },
            message: e.to_string(),
        },
        None => ApiError::Conflict(e.to_string()),
    }
}

/// What sending a message came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendOutcome {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The message's place (none for a flag message).
    pub seq: Option<u64>,
    /// Sent before with this id: nothing changed.
    pub duplicate: bool,
}

/// A message from a user.
#[derive(Clone, Debug)]
pub struct UserMessage {
    /// The virtual number (or `webAppId`) written to.
    pub to: String,
    /// The client's id for it.
    pub msg_id: String,
    /// A flag message.
    pub online_user_only: bool,
    /// What it says.
    pub body: Body,
}

/// An uploaded file that passed the domain's checks, to be stored and sent as one message.
#[derive(Clone)]
pub struct Upload {
    /// What the checks found (name, sniffed type, size).
    pub checked: crate::domain::attachment::Checked,
    /// The bytes.
    pub bytes: axum::body::Bytes,
    /// Their SHA-256, hex (hashed before the conversation is locked).
    pub sha256: String,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the bytes: a 10 MB upload in a log line helps nobody.
        f.debug_struct("Upload")
            .field("checked", &self.checked)
            .finish()
    }
}

/// What an agent asks of a session.
#[derive(Clone, Debug)]
pub enum AgentAction {
    /// Accept the offer.
    Accept,
    /// Send a message (text, or a custom one such as a card).
    Send {
        /// The agent's id for it.
        msg_id: String,
        /// What it says.
        body: Body,
    },
    /// The agent is typing (src 12 to the user).
    Typing,
    /// Invite the user to rate (src 9, rule bit 2).
    InviteRating,
    /// End the session.
    End,
}

impl AgentAction {
    /// Its name in frames.
    pub fn name(&self) -> &'static str {
        match self {
            AgentAction::Accept => "accept",
            AgentAction::Send { .. } => "send",
            AgentAction::Typing => "typing",
            AgentAction::InviteRating => "invite_rating",
            AgentAction::End => "end",
        }
    }
}

/// Who a live session serves.
#[derive(Clone, Debug)]
struct Served {
    app: AppId,
    conversation: ConversationId,
    channel: ChannelId,
    user: Arc<str>,
}

impl Served {
    fn of(entry: &ConversationEntry) -> Self {
        Served {
            app: entry.app,
            conversation: entry.id,
            channel: entry.channel,
            user: entry.user.as_str().into(),
        }
    }
}

/// A conversation whose session waits in a queue, and the place its user last heard.
#[derive(Clone, Debug)]
struct Waiting {
    session: SessionId,
    group: crate::domain::ids::GroupId,
    app: AppId,
    user: Arc<str>,
    told: Option<usize>,
}

/// Stored messages an agent gets when it takes a session.
pub const TRANSCRIPT_MESSAGES: usize = 50;

/// How often users waiting in a queue hear their place again (when it changed).
pub const QUEUE_REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

/// The hub.
pub struct Hub {
    conversations: DashMap<ConversationId, Arc<Mutex<Slot>>>,
    by_key: DashMap<(AppId, ChannelId, String), ConversationId>,
    by_user: DashMap<(AppId, String), Vec<ConversationId>>,
    by_session: DashMap<SessionId, Served>,
    holders: DashMap<SessionId, AgentId>,
    waiting: DashMap<ConversationId, Waiting>,
    /// Who handed a session over, until someone takes it.
    transferred_by: DashMap<SessionId, AgentId>,
    /// Where a proactive session's transcript starts: the conversation's last seq when the
    /// agent made contact. What the user said before is not the contacting agent's to read
    /// (an agent may name any user), so its seat shows only what follows.
    contact_from: DashMap<SessionId, u64>,
    /// When each agent's status last changed, as the hub heard it (monitoring's time in
    /// status; an agent unchanged since the server started has none).
    status_since: DashMap<AgentId, i64>,
    users: DashMap<(AppId, String), Vec<Subscriber>>,
    /// Every agent's numbered feed, with its workstation view.
    pub feeds: Feeds,
    next_subscriber: AtomicU64,
    observers: Observers,
    news: std::sync::Mutex<Option<NewsReceivers>>,
    /// The session service flows' runtime (outbox calls, FAQ bots).
    pub(crate) flows: crate::im::flows::FlowRuntime,
}

/// Where the engine's news reach the hub (taken by [`Hub::start`]).
struct NewsReceivers {
    sessions: mpsc::UnboundedReceiver<SessionNews>,
    agents: mpsc::UnboundedReceiver<AgentNews>,
}

impl Hub {
    /// A hub over the conversations the log folded into (their services already follow
    /// their live sessions), the live sessions' holders and the agents' workstation views.
    pub fn new(
        conversations: Conversations,
        holders: Vec<(SessionId, AgentId)>,
        views: Vec<(AgentId, View)>,
    ) -> Self {
        let (sessions_tx, sessions) = mpsc::unbounded_channel();
        let (agents_tx, agents) = mpsc::unbounded_channel();
        let hub = Hub {
            conversations: DashMap::new(),
            by_key: DashMap::new(),
            by_user: DashMap::new(),
            by_session: DashMap::new(),
            holders: holders.into_iter().collect(),
            waiting: DashMap::new(),
            contact_from: DashMap::new(),
            status_since: DashMap::new(),
            users: DashMap::new(),
            // An offer handed over before a restart still names its colleague once taken.
            transferred_by: views
                .iter()
                .flat_map(|(_, view)| view.offers.values())
                .filter_map(|o| Some((o.seat.session_id, o.seat.transferred_by?)))
                .collect(),
            feeds: Feeds::new(views),
            next_subscriber: AtomicU64::new(1),
            observers: Observers {
                sessions: vec![sessions_tx],
                agents: vec![agents_tx],
            },
            news: std::sync::Mutex::new(Some(NewsReceivers { sessions, agents })),
            flows: Default::default(),
        };
        for entry in conversations.into_entries() {
            hub.index(&entry);
            if let Some(s) = entry.service.session {
                hub.by_session.insert(s, Served::of(&entry));
            }
            if let (Some(session), Some(group)) = (entry.service.session, entry.service.queued_in) {
                let waiting = Waiting {
                    session,
                    group,
                    app: entry.app,
                    user: entry.user.as_str().into(),
                    told: None,
                };
                hub.waiting.insert(entry.id, waiting);
            }
            let slot = Slot {
                entry,
                persisted: true,
            };
            hub.conversations
                .insert(slot.entry.id, Arc::new(Mutex::new(slot)));
        }
        hub
    }

    /// The hub of a folded log: takes its conversations, and the holders of its live sessions.
    /// Call it before the directory leaves `world`: the workstation views name channels.
    pub fn from_world(world: &mut crate::domain::world::World) -> Self {
        use crate::domain::session::Phase;
        let holders = world
            .sessions
            .values()
            .filter_map(|s| Some((s.id, s.holder()?)))
            .collect();
        let mut views: std::collections::HashMap<AgentId, View> = world
            .agents
            .values()
            .map(|a| {
                let view = View {
                    presence: Presence::of(&a.status),
                    ..View::default()
                };
                (a.id, view)
            })
            .collect();
        for s in world.sessions.values() {
            let conversation = world.conversations.find(s.app, s.channel, &s.user);
            let seat = Seat {
                session_id: s.id,
                conversation_id: conversation,
                user: s.user.clone(),
                channel_id: Some(s.channel),
                // Today's name, where the live frame had the name of its day: a rename in
                // between is the one thing a restart shows differently.
                channel_name: world
                    .directory
                    .app(s.app)
                    .and_then(|d| Some(d.channels.get(&s.channel)?.name.clone())),
                transferred_by: s.handed_over_by(),
            };
            match s.phase {
                Phase::Offered {
                    agent, deadline_ms, ..
                } => {
                    let offer = Offer { seat, deadline_ms };
                    views
                        .entry(agent)
                        .or_default()
                        .apply(&Change::Offered(offer));
                }
                Phase::InService { agent, .. } => {
                    views.entry(agent).or_default().apply(&Change::Seated(seat));
                }
                _ => {}
            }
        }
        Self::new(
            std::mem::take(&mut world.conversations),
            holders,
            views.into_iter().collect(),
        )
    }

    /// The engine observers the hub listens through: give them to
    /// [`Engine::start_observed`] so the hub hears of everything from the engine's start.
    ///
    /// [`Engine::start_observed`]: crate::engine::Engine::start_observed
    pub fn observers(&self) -> Observers {
        self.observers.clone()
    }

    fn index(&self, entry: &ConversationEntry) {
        self.by_key
            .insert((entry.app, entry.channel, entry.user.clone()), entry.id);
        let mut mine = self
            .by_user
            .entry((entry.app, entry.user.clone()))
            .or_default();
        if !mine.contains(&entry.id) {
            mine.push(entry.id);
            mine.sort();
        }
    }

    /// Starts handling the engine's session news: call once, after the hub is in `state`.
    pub fn start(state: &Arc<ApiState>) {
        let receivers = state
            .hub
            .news
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let Some(NewsReceivers {
            sessions: mut rx,
            agents: mut agent_rx,
        }) = receivers
        else {
            return;
        };
        // An engine started without the hub's observers hears of them now.
        let engine = &state.desk.engine;
        let registry = &engine.shared().registry;
        let observers = &state.hub.observers;
        let known = registry
            .session_news
            .read()
            .is_ok_and(|o| o.iter().any(|t| t.same_channel(&observers.sessions[0])));
        if !known {
            engine.observe_sessions(observers.sessions[0].clone());
            engine.observe_agents(observers.agents[0].clone());
        }
        state.hub.flows.attach(state);
        let weak = Arc::downgrade(state);
        tokio::spawn(async move {
            // Flows carry out what they had not finished before a restart.
            let Some(state) = weak.upgrade() else { return };
            state.hub.flows.resume(&state).await;
        });
        let weak = Arc::downgrade(state);
        tokio::spawn(async move {
            while let Some(news) = agent_rx.recv().await {
                let Some(state) = weak.upgrade() else { break };
                state.hub.agent_news(&news, state.clock.now_ms());
            }
        });
        let mut workers = Vec::with_capacity(NEWS_WORKERS);
        for _ in 0..NEWS_WORKERS {
            let (wtx, mut wrx) = mpsc::unbounded_channel::<(ConversationId, SessionNews)>();
            let weak = Arc::downgrade(state);
            tokio::spawn(async move {
                while let Some((cid, news)) = wrx.recv().await {
                    let Some(state) = weak.upgrade() else { break };
                    state.hub.conversation_news(&state, cid, news).await;
                }
            });
            workers.push(wtx);
        }
        let weak = Arc::downgrade(state);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(QUEUE_REFRESH);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let Some(state) = weak.upgrade() else { break };
                state.hub.tell_queue_places(&state).await;
            }
        });
        let weak = Arc::downgrade(state);
        tokio::spawn(async move {
            while let Some(news) = rx.recv().await {
                let Some(state) = weak.upgrade() else { break };
                let hub = &state.hub;
                if let Some(cid) = hub.dispatch(&state, &news) {
                    let worker = &workers[(cid.0 as usize) % NEWS_WORKERS];
                    let _ = worker.send((cid, news));
                }
            }
        });
    }

    // ---- sockets ----

    fn subscriber(&self) -> (Subscriber, Subscription) {
        let (tx, rx) = mpsc::channel(OUTBOX);
        let id = self.next_subscriber.fetch_add(1, Ordering::Relaxed);
        (Subscriber { id, tx }, Subscription { rx, id })
    }

    /// Registers a user's socket: from now on it gets every frame for the user.
    pub fn subscribe_user(&self, app: AppId, user: &str) -> Subscription {
        let (sub, subscription) = self.subscriber();
        self.users
            .entry((app, user.to_owned()))
            .or_default()
            .push(sub);
        subscription
    }

    /// Registers a user's socket unless the user has `max` open already (sockets whose
    /// client is gone do not count): None then.
    pub fn try_subscribe_user(&self, app: AppId, user: &str, max: usize) -> Option<Subscription> {
        let (sub, subscription) = self.subscriber();
        // Counted and pushed under the entry's lock: two upgrades at once cannot both pass.
        let mut subs = self.users.entry((app, user.to_owned())).or_default();
        subs.retain(|s| !s.tx.is_closed());
        if subs.len() >= max {
            return None;
        }
        subs.push(sub);
        Some(subscription)
    }

    /// Unregisters a user's socket.
    pub fn unsubscribe_user(&self, app: AppId, user: &str, id: u64) {
        let key = (app, user.to_owned());
        if let Some(mut subs) = self.users.get_mut(&key) {
            subs.retain(|s| s.id != id);
        }
        self.users.remove_if(&key, |_, subs| subs.is_empty());
    }

    /// Registers an agent's socket: its first frames (the `state` frame, then what it missed
    /// when it resumes), then everything new.
    pub fn subscribe_agent(&self, agent: AgentId, resume: Option<&Resume>) -> FeedSubscription {
        self.feeds.open(agent, resume)
    }

    /// Unregisters an agent's socket; when it was the last one, answers the mark that
    /// [`Self::agent_gone_since`] takes.
    pub fn unsubscribe_agent(&self, agent: AgentId, id: u64) -> Option<u64> {
        self.feeds.unsubscribe(agent, id)
    }

    /// Whether no socket of the agent's has been open since the one that closed at `mark`.
    pub fn agent_gone_since(&self, agent: AgentId, mark: u64) -> bool {
        self.feeds.gone_since(agent, mark)
    }

    /// Tells the agent's open sockets that their sign-in ended, and closes them.
    pub fn signed_out(&self, agent: AgentId, cause: crate::domain::directory::SignOutCause) {
        self.feeds
            .close_with(agent, &AgentFrame::SignedOut { cause });
    }

    /// When `agent`'s status last changed since the server started, ms since the epoch.
    pub fn status_since_ms(&self, agent: AgentId) -> Option<i64> {
        self.status_since.get(&agent).map(|t| *t)
    }

    /// Tells the agent of its status changes (heard at `now_ms`).
    fn agent_news(&self, news: &AgentNews, now_ms: i64) {
        for event in &news.events {
            let presence = match event {
                Event::AgentLoggedIn { status } | Event::AgentStatusChanged { status, .. } => {
                    Presence::of(status)
                }
                Event::AgentLoggedOut { .. } => Presence::of(&AgentStatus::Offline),
                _ => continue,
            };
            let frame = AgentFrame::Status {
                online: presence.online,
                status: presence.status,
                rest_reason: presence.rest_reason.as_deref(),
            };
            self.status_since.insert(news.agent, now_ms);
            self.feeds
                .emit(news.agent, &frame, Some(Change::Status(presence.clone())));
        }
    }

    /// Connected user sockets (for metrics and tests).
    pub fn user_sockets(&self) -> usize {
        self.users.iter().map(|s| s.len()).sum()
    }

    /// Connected agent sockets.
    pub fn agent_sockets(&self) -> usize {
        self.feeds.sockets()
    }

    /// Sends `frame` to every subscriber under `key`. A subscriber whose outbox is full (its
    /// client stopped reading) or closed is dropped: its socket sees the channel end and
    /// closes, and the client reconnects and resumes by seq.
    fn push<K: std::hash::Hash + Eq + Clone>(
        map: &DashMap<K, Vec<Subscriber>>,
        key: &K,
        frame: &Outbound,
    ) {
        let mut stalled = Vec::new();
        if let Some(subs) = map.get(key) {
            for s in subs.iter() {
                if s.tx.try_send(frame.clone()).is_err() {
                    stalled.push(s.id);
                }
            }
        }
        if stalled.is_empty() {
            return;
        }
        tracing::debug!(?stalled, "dropping stalled sockets");
        if let Some(mut subs) = map.get_mut(key) {
            subs.retain(|s| !stalled.contains(&s.id));
        }
        map.remove_if(key, |_, subs| subs.is_empty());
    }

    fn push_user(&self, app: AppId, user: &str, frame: Outbound) {
        Self::push(&self.users, &(app, user.to_owned()), &frame);
    }

    fn push_agent<T: Serialize>(&self, agent: AgentId, frame: &T) {
        self.feeds.emit(agent, frame, None);
    }

    // ---- conversations ----

    /// The slot of `user` on `channel`, made (not yet in the log) if they never wrote.
    fn slot(
        &self,
        state: &ApiState,
        app: AppId,
        channel: ChannelId,
        user: &str,
    ) -> Arc<Mutex<Slot>> {
        let key = (app, channel, user.to_owned());
        let id = *self
            .by_key
            .entry(key)
            .or_insert_with(|| ConversationId(state.desk.next_id()));
        self.conversations
            .entry(id)
            .or_insert_with(|| {
                Arc::new(Mutex::new(Slot {
                    entry: ConversationEntry::new(id, app, channel, user),
                    persisted: false,
                }))
            })
            .clone()
    }

    /// A conversation's slot, locked.
    pub async fn lock(&self, id: ConversationId) -> Option<OwnedMutexGuard<Slot>> {
        let slot = self.conversations.get(&id)?.clone();
        Some(slot.lock_owned().await)
    }

    /// The user's conversations in an app, by id.
    pub fn of_user(&self, app: AppId, user: &str) -> Vec<ConversationId> {
        self.by_user
            .get(&(app, user.to_owned()))
            .map(|v| v.clone())
            .unwrap_or_default()
    }

    /// The conversation a session serves.
    pub fn conversation_of(&self, session: SessionId) -> Option<ConversationId> {
        self.by_session.get(&session).map(|s| s.conversation)
    }

    /// The app a session belongs to, as the desk knows it (its conversation here, or the
    /// engine's live session), found without waking anything; `None` for an unknown id.
    pub async fn session_app(
        &self,
        engine: &crate::engine::Engine,
        session: SessionId,
    ) -> Option<AppId> {
        if let Some(served) = self.by_session.get(&session) {
            return Some(served.app);
        }
        engine.session_app(session).await
    }

    /// Every conversation's id.
    pub(crate) fn conversation_ids(&self) -> Vec<ConversationId> {
        self.conversations.iter().map(|c| *c.key()).collect()
    }

    /// Appends a conversation's events (opening its stream first if new), then folds them.
    pub(crate) async fn store(
        state: &ApiState,
        slot: &mut Slot,
        events: Vec<Event>,
    ) -> Result<(), ApiError> {
        let entry = &slot.entry;
        let stream = StreamId::conversation(entry.id);
        let mut drafts = Vec::with_capacity(events.len() + 1);
        if !slot.persisted {
            drafts.push((
                stream,
                Event::ConversationOpened {
                    channel: entry.channel,
                    user: entry.user.clone(),
                },
            ));
        }
        drafts.extend(events.iter().map(|e| (stream, e.clone())));
        state.desk.write(entry.app, &drafts).await?;
        if !slot.persisted {
            slot.persisted = true;
            state.hub.index(&slot.entry);
        }
        for event in &events {
            slot.entry.apply(event);
        }
        Ok(())
    }

    /// The channel a user writes to: a virtual number of the app, or a website channel's
    /// `webAppId`.
    pub fn channel_of(state: &ApiState, app: AppId, to: &str) -> Result<ChannelId, ApiError> {
        let dir = state.desk.read();
        if let Some(c) = dir.virtual_number(app, to) {
            return Ok(c);
        }
        match dir.website(to) {
            Some((a, channel)) if a == app => Ok(channel.id),
            _ => Err(ApiError::invalid(
                "to",
                format!(
                    "{to:?} is not a virtual number or website channel of app {}",
                    app.0
                ),
            )),
        }
    }

    /// Pushes a message to the user's sockets and to the serving agent's.
    pub(crate) fn deliver(
        &self,
        dir: &AppDirectory,
        slot: &Slot,
        message: &Message,
        online_only: bool,
    ) {
        let entry = &slot.entry;
        let frame = user_message_frame(dir, entry, message, online_only);
        self.push_user(entry.app, &entry.user, frame);
        let seq = (!online_only).then_some(message.seq);
        let Some(agent) = entry.service.seat else {
            return;
        };
        // The desk's own flags (seat status, typing) are for the user alone.
        if online_only && message.sender != Sender::User {
            return;
        }
        let frame = AgentFrame::Message {
            session_id: entry.service.session,
            conversation_id: entry.id,
            from: match message.sender {
                Sender::User => "user",
                Sender::Desk { agent: Some(_) } => "agent",
                Sender::Desk { agent: None } => "desk",
            },
            msg_id: &message.msg_id,
            seq,
            time: message.at_ms,
            body: &message.body,
        };
        self.push_agent(agent, &frame);
    }

    /// Tells the user a desk message of a session's news: a flag is delivered only, any
    /// other (the ends, 19 and 20) is stored, once per session, and delivered.
    async fn announce(
        &self,
        state: &ApiState,
        slot: &mut Slot,
        dir: &AppDirectory,
        message: &DeskMessage,
        session: SessionId,
        at_ms: i64,
    ) {
        if message.is_flag() {
            self.tell(dir, slot, message, at_ms);
            return;
        }
        let msg_id = format!("desk-{}-{}", message.src(), session.0);
        let said = self
            .say(state, slot, None, msg_id, message.to_body(), |_| Vec::new())
            .await;
        if let Err(e) = said {
            tracing::warn!(%session, src = message.src(), error = %e, "a desk message was not stored");
        }
    }

    /// The record and message body an upload gets in `slot`'s conversation: the next id,
    /// nothing written yet.
    fn stage_upload(
        state: &ApiState,
        slot: &Slot,
        sender: Sender,
        upload: &Upload,
    ) -> Result<(crate::domain::attachment::AttachmentRecord, Body), ApiError> {
        let id = slot.entry.attachments.next_id()?;
        let checked = &upload.checked;
        let record = crate::domain::attachment::AttachmentRecord {
            id,
            name: checked.name.clone(),
            content_type: checked.content_type.clone(),
            size: checked.size,
            sha256: upload.sha256.clone(),
            sender,
            at_ms: state.clock.now_ms(),
        };
        let body = Body::File {
            attachment_id: id,
            name: record.name.clone(),
            content_type: record.content_type.clone(),
            size: record.size,
        };
        Ok((record, body))
    }

    /// Writes an upload's bytes under the data directory, before its events are appended:
    /// a crash between the two leaves a file no event names, which nobody can fetch and
    /// the next upload of the conversation (taking the same id) overwrites.
    async fn write_upload(
        state: &ApiState,
        conversation: ConversationId,
        id: u32,
        upload: &Upload,
    ) -> Result<(), ApiError> {
        let path = state
            .attachments
            .path(conversation, id)
            .map_err(store_error)?;
        let bytes = upload.bytes.clone();
        tokio::task::spawn_blocking(move || crate::im::attachments::write_at(&path, &bytes))
            .await
            .map_err(|_| ApiError::Internal("the attachment writer stopped"))?
            .map_err(store_error)
    }

    /// Appends `events` after writing `upload`'s bytes (when there is one): the bytes are
    /// removed again if the append fails, so a refused upload leaves nothing.
    async fn store_with_file(
        state: &ApiState,
        slot: &mut Slot,
        events: Vec<Event>,
        upload: Option<(&Upload, u32)>,
    ) -> Result<(), ApiError> {
        let conversation = slot.entry.id;
        if let Some((upload, id)) = upload {
            Self::write_upload(state, conversation, id, upload).await?;
        }
        let stored = Self::store(state, slot, events).await;
        if stored.is_err()
            && let Some((_, id)) = upload
        {
            state.attachments.remove(conversation, id);
        }
        stored
    }

    /// The attachment a message sent before with the same id carried (a repeated upload).
    fn uploaded_before(
        slot: &Slot,
        seq: u64,
    ) -> Result<crate::domain::attachment::AttachmentRecord, ApiError> {
        let before = slot.entry.messages.after(seq.saturating_sub(1)).first();
        match before.map(|m| &m.body) {
            Some(Body::File { attachment_id, .. }) => slot
                .entry
                .attachments
                .get(*attachment_id)
                .cloned()
                .ok_or(ApiError::Internal("a file message without its attachment")),
            _ => Err(ApiError::invalid(
                "msgId",
                format!(
                    "message {seq} was sent with this msgId and is not a file: use a new msgId"
                ),
            )),
        }
    }

    /// Opens the attachments' folder under `data_dir` and removes the files no event
    /// names (a crash between the bytes and their event): what is left is what the log says.
    pub async fn open_attachments(
        &self,
        state: &ApiState,
        data_dir: &std::path::Path,
    ) -> Result<usize, crate::im::attachments::StoreError> {
        state.attachments.open(data_dir)?;
        let mut recorded = std::collections::HashMap::new();
        for id in self.conversation_ids() {
            if let Some(slot) = self.lock(id).await {
                recorded.insert(id, slot.entry.attachments.len() as u32);
            }
        }
        Ok(state.attachments.sweep(|c| recorded.get(&c).copied()))
    }

    /// An attachment of a conversation, with its bytes, for whoever the caller checked may
    /// see it (`allowed` sees the conversation's app and user; `None` when it may not).
    pub async fn attachment(
        &self,
        state: &ApiState,
        conversation: ConversationId,
        attachment: u32,
        allowed: impl FnOnce(&ConversationEntry) -> bool,
    ) -> Result<(crate::domain::attachment::AttachmentRecord, Vec<u8>), ApiError> {
        let not_found = || ApiError::NotFound(format!("attachment {attachment} of {conversation}"));
        let record = {
            let slot = self.lock(conversation).await.ok_or_else(not_found)?;
            if !allowed(&slot.entry) {
                return Err(not_found());
            }
            slot.entry
                .attachments
                .get(attachment)
                .cloned()
                .ok_or_else(not_found)?
        };
        let path = state
            .attachments
            .path(conversation, attachment)
            .map_err(store_error)?;
        let bytes = tokio::task::spawn_blocking(move || std::fs::read(path))
            .await
            .map_err(|_| ApiError::Internal("the attachment reader stopped"))?
            .map_err(|e| {
                tracing::warn!(%conversation, attachment, error = %e, "an attachment's bytes are missing");
                ApiError::Unavailable(format!("attachment {attachment}'s bytes cannot be read"))
            })?;
        if bytes.len() != record.size as usize {
            tracing::warn!(%conversation, attachment, "an attachment's bytes changed on disk");
            return Err(ApiError::Unavailable(format!(
                "attachment {attachment}'s bytes on disk are not what was stored"
            )));
        }
        Ok((record, bytes))
    }

    /// Sends the user one of the desk's flag messages (never stored).
    /// The seat status (src 26) as it is now, naming the serving agent.
    fn tell_seat(&self, dir: &AppDirectory, slot: &Slot, at_ms: i64) {
        let body = match slot.entry.service.seat {
            Some(agent) => DeskMessage::in_seat_with(
                dir.agents
                    .get(&agent)
                    .map(|a| a.nickname.as_str())
                    .unwrap_or_default(),
            ),
            None => DeskMessage::SeatStatus { in_seat: false }.to_body(),
        };
        self.flag(dir, slot, format!("desk-26-{at_ms}"), body, at_ms);
    }

    pub(crate) fn tell(&self, dir: &AppDirectory, slot: &Slot, message: &DeskMessage, at_ms: i64) {
        let msg_id = format!("desk-{}-{}", message.src(), at_ms);
        self.flag(dir, slot, msg_id, message.to_body(), at_ms);
    }

    /// Delivers a message from the desk without storing it.
    fn flag(&self, dir: &AppDirectory, slot: &Slot, msg_id: String, body: Body, at_ms: i64) {
        let message = Message {
            seq: 0,
            msg_id,
            sender: Sender::Desk { agent: None },
            at_ms,
            body,
        };
        self.deliver(dir, slot, &message, true);
    }

    /// Stores a desk message in the conversation (with `extra` events in the same append)
    /// and delivers it.
    async fn say(
        &self,
        state: &ApiState,
        slot: &mut Slot,
        agent: Option<AgentId>,
        msg_id: String,
        body: Body,
        extra: impl FnOnce(u64) -> Vec<Event>,
    ) -> Result<Option<Message>, ApiError> {
        let now = state.clock.now_ms();
        let sent = slot
            .entry
            .messages
            .send(Sender::Desk { agent }, &msg_id, body, false, now)?;
        let message = match sent {
            Sent::Stored(message) => message,
            Sent::Duplicate(_) | Sent::Transient { .. } => return Ok(None),
        };
        let mut events = vec![Event::MessageStored {
            message: message.clone(),
        }];
        events.extend(extra(message.seq));
        Self::store(state, slot, events).await?;
        let dir = state.desk.app(slot.entry.app)?;
        self.deliver(&dir, slot, &message, false);
        Ok(Some(message))
    }

    /// Stores a src 9 invitation for `session` and delivers it.
    async fn invite(
        &self,
        state: &ApiState,
        slot: &mut Slot,
        config: &SatisfactionConfig,
        session: SessionId,
        agent: Option<AgentId>,
    ) -> Result<(), ApiError> {
        let now_s = state.clock.now_ms().div_euclid(1_000);
        let menu = service::menu(config, session, now_s);
        let expire_at_s = menu.expire_time;
        let msg_id = format!(
            "rating-{}-{}",
            session.0,
            slot.entry.messages.last_seq() + 1
        );
        self.say(
            state,
            slot,
            None,
            msg_id,
            DeskMessage::SatisfactionMenu(menu).to_body(),
            |menu_seq| {
                vec![Event::RatingInvited {
                    session,
                    menu_seq,
                    expire_at_s,
                    agent,
                }]
            },
        )
        .await?;
        Ok(())
    }

    /// The satisfaction configuration bound to a channel.
    fn satisfaction(dir: &AppDirectory, channel: ChannelId) -> Option<SatisfactionConfig> {
        let id = dir.channels.get(&channel)?.satisfaction?;
        dir.satisfaction.get(&id).cloned()
    }

    // ---- the user's side ----

    /// A message from a user: stored (unless a flag message) and delivered; a desk message
    /// (src 7, 10, 24, 27) does what the protocol says; the first message opens a session.
    pub async fn user_send(
        &self,
        state: &ApiState,
        app: AppId,
        user: &str,
        request: UserMessage,
    ) -> Result<SendOutcome, ApiError> {
        let (sent, _) = self.user_sends(state, app, user, request, None).await?;
        Ok(sent)
    }

    /// A file from a user, stored and sent as one message (`request.body` is replaced by
    /// the file body): its bytes first, then its record and the message in one append.
    /// Sent again with the same `msgId`, the first upload's attachment answers.
    pub async fn user_upload(
        &self,
        state: &ApiState,
        app: AppId,
        user: &str,
        request: UserMessage,
        upload: Upload,
    ) -> Result<(SendOutcome, crate::domain::attachment::AttachmentRecord), ApiError> {
        let (sent, record) = self
            .user_sends(state, app, user, request, Some(upload))
            .await?;
        let record = record.ok_or(ApiError::Internal("an upload without its attachment"))?;
        Ok((sent, record))
    }

    async fn user_sends(
        &self,
        state: &ApiState,
        app: AppId,
        user: &str,
        mut request: UserMessage,
        upload: Option<Upload>,
    ) -> Result<
        (
            SendOutcome,
            Option<crate::domain::attachment::AttachmentRecord>,
        ),
        ApiError,
    > {
        let desk = match upload {
            Some(_) => None,
            None => desk_data(&request.body)?,
        };
        let channel = Self::channel_of(state, app, &request.to)?;
        crate::api::web::check_visitor_writes(state, app, user, &request.to, channel)?;
        let slot = self.slot(state, app, channel, user);
        let mut slot = slot.lock().await;
        let id = slot.entry.id;
        let dir = state.desk.app(app)?;
        let config = Self::satisfaction(&dir, channel);
        let rules = config.as_ref().map(|c| c.send_rules);
        let now = state.clock.now_ms();
        let flag = |seq: Option<u64>| SendOutcome {
            conversation_id: id,
            seq,
            duplicate: false,
        };
        // A task shape answered (32 with `selected`, 33 with its value): the flow hears the
        // answer as the plain text it stands for.
        let task_answer = match &desk {
            Some(DeskMessage::TaskBranch(branch)) => {
                branch.selected.as_ref().map(|s| s.content.clone())
            }
            Some(DeskMessage::TaskForm(form)) => form
                .input_variables
                .first()
                .map(|v| v.variable_value.clone())
                .filter(|v| !v.trim().is_empty()),
            _ => None,
        };
        match desk {
            Some(DeskMessage::Trigger { .. }) => {
                self.open_session(state, &dir, &mut slot).await?;
                let rule = DeskMessage::RatingRules {
                    flag: service::rules_flag(rules),
                };
                self.tell(&dir, &slot, &rule, now);
                self.tell_seat(&dir, &slot, now);
                return Ok((flag(None), None));
            }
            Some(DeskMessage::SatisfactionSelected {
                id: level,
                session_id,
                ..
            }) => {
                let now_s = now.div_euclid(1_000);
                let rating = slot
                    .entry
                    .service
                    .rate(&session_id, &level, now_s, config.as_ref())
                    .map_err(rate_error)?;
                self.record_rating(state, &mut slot, &rating, config.as_ref())
                    .await?;
                return Ok((flag(None), None));
            }
            Some(DeskMessage::UserAsksToRate) => {
                let (session, agent) = slot.entry.service.user_asks(rules).map_err(rate_error)?;
                let config = config.ok_or(ApiError::Internal("satisfaction vanished"))?;
                self.invite(state, &mut slot, &config, session, Some(agent))
                    .await?;
                return Ok((flag(None), None));
            }
            Some(DeskMessage::Typing) => {
                if !request.online_user_only {
                    return Err(ApiError::invalid(
                        "onlineUserOnly",
                        "typing (src 12) is a flag: send it with onlineUserOnly",
                    ));
                }
                // For the serving agent alone: the user's other devices need not hear it.
                if let Some(agent) = slot.entry.service.seat {
                    let typing = AgentFrame::Typing {
                        session_id: slot.entry.service.session,
                        conversation_id: id,
                    };
                    self.push_agent(agent, &typing);
                }
                return Ok((flag(None), None));
            }
            Some(DeskMessage::UserEndsService) => {
                let Some(session) = slot.entry.service.session else {
                    return Err(ApiError::Conflict(
                        "there is no live session to end".to_owned(),
                    ));
                };
                state
                    .desk
                    .engine
                    .session(
                        session,
                        SessionCommand::End {
                            close_by: CloseBy::Client,
                            agent: None,
                        },
                    )
                    .await?;
                return Ok((flag(None), None));
            }
            _ => {}
        }
        // An upload takes the next attachment id; a file message sent on its own names an
        // attachment uploaded to this conversation, as stored.
        let staged = match &upload {
            Some(upload) => {
                let (record, body) = Self::stage_upload(state, &slot, Sender::User, upload)?;
                request.body = body;
                Some(record)
            }
            None => {
                slot.entry.attachments.check_body(&request.body)?;
                None
            }
        };
        let sent = slot.entry.messages.send(
            Sender::User,
            &request.msg_id,
            request.body,
            request.online_user_only,
            now,
        )?;
        let message = match sent {
            Sent::Duplicate(seq) => {
                let before = match staged {
                    Some(_) => Some(Self::uploaded_before(&slot, seq)?),
                    None => None,
                };
                let outcome = SendOutcome {
                    conversation_id: id,
                    seq: Some(seq),
                    duplicate: true,
                };
                return Ok((outcome, before));
            }
            Sent::Transient { sender, body } => {
                let m = Message {
                    seq: 0,
                    msg_id: request.msg_id,
                    sender,
                    at_ms: now,
                    body,
                };
                self.deliver(&dir, &slot, &m, true);
                return Ok((flag(None), None));
            }
            Sent::Stored(message) => message,
        };
        let live = slot.entry.service.session;
        let file = upload.as_ref().zip(staged.as_ref().map(|r| r.id));
        let mut events: Vec<Event> = staged
            .iter()
            .map(|r| Event::AttachmentStored {
                attachment: Box::new(r.clone()),
            })
            .collect();
        events.push(Event::MessageStored {
            message: message.clone(),
        });
        // A plain text may answer the desk's open prompt (src 15 menu, src 21 form).
        let answer = match &message.body {
            Body::Text { text } => Some(text.as_str()),
            Body::Custom { .. } => task_answer.as_deref(),
            Body::File { .. } => None,
        };
        let answered = answer.and_then(|text| {
            open_prompt(&slot.entry)
                .and_then(|(seq, prompt)| Some((seq, service::answer_prompt(prompt, text)?)))
        });
        if let Some((seq, body)) = &answered {
            events.push(Event::MessageUpdated {
                seq: *seq,
                body: body.clone(),
            });
        }
        match live {
            Some(session) => {
                // The session hears of it first (the user-reply countdown stops).
                let note = SessionCommand::UserMessage(summary(&message.body));
                // In the log's order before the message: durable with it.
                if let Err(e) = state.desk.engine.session_ordered(session, note).await {
                    tracing::debug!(%session, error = %e, "session did not take the user's message");
                }
                Self::store_with_file(state, &mut slot, events, file).await?;
            }
            None => Self::store_with_file(state, &mut slot, events, file).await?,
        }
        self.deliver(&dir, &slot, &message, false);
        if let Some((seq, body)) = &answered {
            self.push_update(&slot, *seq, body);
        }
        match (live, &message.body) {
            (None, _) => self.open_session(state, &dir, &mut slot).await?,
            // A text may be what the session's flow waits for.
            (Some(_), Body::Text { text }) => {
                if let Err(e) = self.flows.user_text(state, &mut slot, text).await {
                    tracing::warn!(conversation = %id, error = %e, "the flow did not take the text");
                }
            }
            (Some(_), Body::Custom { .. }) => {
                if let Some(text) = &task_answer
                    && let Err(e) = self.flows.user_text(state, &mut slot, text).await
                {
                    tracing::warn!(conversation = %id, error = %e, "the flow did not take the answer");
                }
            }
            (Some(_), Body::File { .. }) => {}
        }
        let outcome = SendOutcome {
            conversation_id: id,
            seq: Some(message.seq),
            duplicate: false,
        };
        Ok((outcome, staged))
    }

    /// Opens a session for the conversation when none is live: a channel with a bound flow
    /// runs it (`crate::im::flows`); otherwise the session queues in the channel's group.
    async fn open_session(
        &self,
        state: &ApiState,
        dir: &AppDirectory,
        slot: &mut Slot,
    ) -> Result<(), ApiError> {
        if slot.entry.service.session.is_some() {
            return Ok(());
        }
        if !slot.persisted {
            Self::store(state, slot, Vec::new()).await?;
        }
        let entry = &slot.entry;
        let Some(channel) = dir.channels.get(&entry.channel) else {
            return Err(ApiError::NotFound(entry.channel.to_string()));
        };
        let runnable = channel.flow.filter(|f| {
            dir.live_flow(*f)
                .is_some_and(|r| r.current().flow.is_some())
        });
        if let Some(flow) = runnable {
            let session = state
                .desk
                .engine
                .open_session(entry.app, entry.channel, &entry.user, None)
                .await?;
            self.by_session.insert(session, Served::of(entry));
            let created = Event::SessionCreated {
                channel: entry.channel,
                user: entry.user.clone(),
                last_agent: None,
            };
            slot.entry
                .service
                .on_session_events(session, std::slice::from_ref(&created), None);
            self.flows.begin(state, dir, slot, session, flow).await?;
            return Ok(());
        }
        let Some(group) = channel.skill_group else {
            // Nothing to route to: the message is kept for when the channel gets a group.
            tracing::warn!(channel = %entry.channel, "channel has no skill group; no session opened");
            return Ok(());
        };
        let session = state
            .desk
            .engine
            .open_session(entry.app, entry.channel, &entry.user, Some(group))
            .await?;
        self.by_session.insert(session, Served::of(entry));
        // The news worker folds the same events; this makes the session known at once.
        let created = Event::SessionCreated {
            channel: entry.channel,
            user: entry.user.clone(),
            last_agent: None,
        };
        slot.entry
            .service
            .on_session_events(session, std::slice::from_ref(&created), None);
        Ok(())
    }

    async fn record_rating(
        &self,
        state: &ApiState,
        slot: &mut Slot,
        rating: &service::Rating,
        config: Option<&SatisfactionConfig>,
    ) -> Result<(), ApiError> {
        let Some(menu_message) = slot.entry.messages.message(rating.menu_seq) else {
            return Err(rate_error(RateError::Internal));
        };
        let body = with_selected(&menu_message.body, rating)
            .ok_or_else(|| rate_error(RateError::Internal))?;
        let events = vec![
            Event::SessionRated {
                session: rating.session,
                value: rating.value,
                label: rating.label.clone(),
            },
            Event::MessageUpdated {
                seq: rating.menu_seq,
                body: body.clone(),
            },
        ];
        Self::store(state, slot, events).await?;
        let entry = &slot.entry;
        let update = UserFrame::Update {
            conversation_id: entry.id,
            seq: rating.menu_seq,
            body: &body,
        };
        let frame = Outbound {
            text: text_of(&update),
            place: None,
        };
        self.push_user(entry.app, &entry.user, frame);
        let agent = entry
            .service
            .invitations
            .get(&rating.session)
            .and_then(|i| i.agent);
        if let Some(agent) = agent {
            // The agent holds the invitation in its transcript too: it sees it answered.
            self.push_agent(agent, &update);
            let frame = AgentFrame::Rated {
                session_id: rating.session,
                value: rating.value,
                label: &rating.label,
            };
            self.push_agent(agent, &frame);
        }
        let thanks = config.map(|c| c.thank_you_text.clone()).unwrap_or_default();
        if !thanks.is_empty() {
            let msg_id = format!("rated-{}", rating.session.0);
            self.say(
                state,
                slot,
                None,
                msg_id,
                Body::Text { text: thanks },
                |_| Vec::new(),
            )
            .await?;
        }
        Ok(())
    }

    /// The frames of a user's stored messages after `seq` (at most `limit`), for a socket
    /// that resumes; None when the conversation is not theirs.
    pub async fn backlog(
        &self,
        dir: &AppDirectory,
        app: AppId,
        user: &str,
        id: ConversationId,
        after: u64,
        limit: usize,
    ) -> Option<Vec<Outbound>> {
        let slot = self.lock(id).await?;
        if slot.entry.app != app || slot.entry.user != user {
            return None;
        }
        let rest = slot.entry.messages.after(after);
        let page = &rest[..rest.len().min(limit)];
        Some(
            page.iter()
                .map(|m| user_message_frame(dir, &slot.entry, m, false))
                .collect(),
        )
    }

    /// Tells the user's sockets (and the serving agent's) that a stored message changed.
    fn push_update(&self, slot: &Slot, seq: u64, body: &Body) {
        let entry = &slot.entry;
        let update = UserFrame::Update {
            conversation_id: entry.id,
            seq,
            body,
        };
        let frame = Outbound {
            text: text_of(&update),
            place: None,
        };
        self.push_user(entry.app, &entry.user, frame);
        if let Some(agent) = entry.service.seat {
            self.push_agent(agent, &update);
        }
    }

    // ---- what the desk itself says (flows, bots) ----

    /// Stores a message from the desk itself (a flow's text, menu, form, rich or stream
    /// text) in a conversation and delivers it; an `online_only` one (a flag message, see
    /// `DeskMessage::is_flag`) is delivered only. Answers the stored message's seq.
    pub async fn desk_says(
        &self,
        state: &ApiState,
        conversation: ConversationId,
        msg_id: String,
        body: Body,
        online_only: bool,
    ) -> Result<Option<u64>, ApiError> {
        let mut slot = self
            .lock(conversation)
            .await
            .ok_or_else(|| ApiError::NotFound(conversation.to_string()))?;
        if online_only {
            body.check()?;
            let dir = state.desk.app(slot.entry.app)?;
            self.flag(&dir, &slot, msg_id, body, state.clock.now_ms());
            return Ok(None);
        }
        let said = self
            .say(state, &mut slot, None, msg_id, body, |_| Vec::new())
            .await?;
        Ok(said.map(|m| m.seq))
    }

    /// Appends a chunk to a stream text (src 31) the desk is writing, finishing it or not.
    pub async fn desk_streams(
        &self,
        state: &ApiState,
        conversation: ConversationId,
        seq: u64,
        chunk: &str,
        finished: bool,
    ) -> Result<(), ApiError> {
        let mut slot = self
            .lock(conversation)
            .await
            .ok_or_else(|| ApiError::NotFound(conversation.to_string()))?;
        let stored = slot
            .entry
            .messages
            .message(seq)
            .ok_or_else(|| ApiError::invalid("seq", format!("no message {seq}")))?;
        let body = service::extend_stream(&stored.body, chunk, finished).ok_or_else(|| {
            ApiError::Conflict(format!("message {seq} is not an open stream text"))
        })?;
        body.check()?;
        Self::store(
            state,
            &mut slot,
            vec![Event::MessageUpdated {
                seq,
                body: body.clone(),
            }],
        )
        .await?;
        self.push_update(&slot, seq, &body);
        Ok(())
    }

    // ---- the agent's side ----

    /// Carries out what an agent asks of a session it holds. Answers the stored message's
    /// seq for a send.
    pub async fn agent_act(
        &self,
        state: &ApiState,
        agent: AgentId,
        session: SessionId,
        action: AgentAction,
    ) -> Result<Option<u64>, ApiError> {
        let engine = &state.desk.engine;
        if let AgentAction::Accept = action {
            engine
                .session(session, SessionCommand::Accept { agent })
                .await?;
            return Ok(None);
        }
        if let AgentAction::End = action {
            let end = SessionCommand::End {
                close_by: CloseBy::Seat,
                agent: Some(agent),
            };
            engine.session(session, end).await?;
            return Ok(None);
        }
        let mut slot = self.serving_slot(state, agent, session).await?;
        let dir = state.desk.app(slot.entry.app)?;
        match action {
            AgentAction::Typing => {
                self.tell(&dir, &slot, &DeskMessage::Typing, state.clock.now_ms());
                Ok(None)
            }
            AgentAction::InviteRating => {
                let config = Self::satisfaction(&dir, slot.entry.channel);
                let rules = config.as_ref().map(|c| c.send_rules);
                let mut service = slot.entry.service.clone();
                service.seat = Some(agent);
                let session = service.agent_invites(agent, rules).map_err(rate_error)?;
                let config = config.ok_or(ApiError::Internal("satisfaction vanished"))?;
                self.invite(state, &mut slot, &config, session, Some(agent))
                    .await?;
                Ok(None)
            }
            AgentAction::Send { msg_id, body } => {
                if let Body::Custom { data, .. } = &body {
                    check_agent_data(data)?;
                }
                slot.entry.attachments.check_body(&body)?;
                let (seq, _) = self
                    .agent_sends(state, &mut slot, agent, session, msg_id, body, None)
                    .await?;
                Ok(seq)
            }
            AgentAction::Accept | AgentAction::End => Ok(None),
        }
    }

    /// A file from the agent serving `session`, stored and sent as one message (as
    /// [`Hub::user_upload`] does for users). Sent again with the same `msg_id`, the first
    /// upload's attachment answers.
    pub async fn agent_upload(
        &self,
        state: &ApiState,
        agent: AgentId,
        session: SessionId,
        msg_id: String,
        upload: Upload,
    ) -> Result<(SendOutcome, crate::domain::attachment::AttachmentRecord), ApiError> {
        let mut slot = self.serving_slot(state, agent, session).await?;
        let sender = Sender::Desk { agent: Some(agent) };
        let (record, body) = Self::stage_upload(state, &slot, sender, &upload)?;
        let (seq, duplicate) = self
            .agent_sends(
                state,
                &mut slot,
                agent,
                session,
                msg_id,
                body,
                Some((&upload, record.clone())),
            )
            .await?;
        let record = match (duplicate, seq) {
            (true, Some(seq)) => Self::uploaded_before(&slot, seq)?,
            _ => record,
        };
        let outcome = SendOutcome {
            conversation_id: slot.entry.id,
            seq,
            duplicate,
        };
        Ok((outcome, record))
    }

    /// The conversation of `session`, locked, when `agent` serves it (409 otherwise).
    async fn serving_slot(
        &self,
        state: &ApiState,
        agent: AgentId,
        session: SessionId,
    ) -> Result<OwnedMutexGuard<Slot>, ApiError> {
        let engine = &state.desk.engine;
        let id = self
            .conversation_of(session)
            .ok_or_else(|| ApiError::NotFound(session.to_string()))?;
        let slot = self
            .lock(id)
            .await
            .ok_or_else(|| ApiError::NotFound(session.to_string()))?;
        let current = slot.entry.service.session == Some(session);
        // The seat as the conversation last heard it, or (news on its way: a session just
        // started or taken) as the engine has it, for this conversation's user and channel.
        let serving = (current && slot.entry.service.seat == Some(agent))
            || engine.session_state(session).await.is_ok_and(|s| {
                matches!(s.phase, crate::domain::session::Phase::InService { agent: a, .. } if a == agent)
                    && s.channel == slot.entry.channel
                    && s.user == slot.entry.user
            });
        if !serving {
            return Err(ApiError::Conflict(if current {
                format!("{agent} is not serving {session}")
            } else {
                format!("{session} has ended")
            }));
        }
        Ok(slot)
    }

    /// Stores and delivers an agent's message (with an upload's bytes and record when it
    /// is a file): its seq, and whether it was sent before with this id.
    #[allow(clippy::too_many_arguments)]
    async fn agent_sends(
        &self,
        state: &ApiState,
        slot: &mut Slot,
        agent: AgentId,
        session: SessionId,
        msg_id: String,
        body: Body,
        upload: Option<(&Upload, crate::domain::attachment::AttachmentRecord)>,
    ) -> Result<(Option<u64>, bool), ApiError> {
        let engine = &state.desk.engine;
        let dir = state.desk.app(slot.entry.app)?;
        let now = state.clock.now_ms();
        let sent = slot.entry.messages.send(
            Sender::Desk { agent: Some(agent) },
            &msg_id,
            body,
            false,
            now,
        )?;
        let message = match sent {
            Sent::Stored(m) => m,
            Sent::Duplicate(seq) => return Ok((Some(seq), true)),
            Sent::Transient { .. } => return Ok((None, false)),
        };
        let note = SessionCommand::AgentMessage {
            agent,
            text: summary(&message.body),
        };
        // The engine checks the seat and arms the user-reply countdown first, so a
        // refusal stores nothing; its events are ordered before the message's, so the
        // message being durable means they are.
        engine.session_ordered(session, note).await?;
        let file = upload.as_ref().map(|(u, r)| (*u, r.id));
        let mut events: Vec<Event> = upload
            .iter()
            .map(|(_, r)| Event::AttachmentStored {
                attachment: Box::new(r.clone()),
            })
            .collect();
        events.push(Event::MessageStored {
            message: message.clone(),
        });
        Self::store_with_file(state, slot, events, file).await?;
        self.deliver(&dir, slot, &message, false);
        Ok((Some(message.seq), false))
    }

    /// An agent starts a chat with `user` through the in-app channel `channel` (proactive
    /// contact). Allowed when the app's rule is on, the channel names a proactive skill group
    /// the agent is a member of, the agent is online (any status), and the user has no live
    /// session on the channel. The session ends unless the user answers within the rule's
    /// timeout.
    pub async fn start_contact(
        &self,
        state: &ApiState,
        app: AppId,
        agent: AgentId,
        channel: ChannelId,
        user: &str,
    ) -> Result<(SessionId, ConversationId), ApiError> {
        crate::domain::session::create(channel, user, None)?;
        let dir = state.desk.app(app)?;
        if !dir.proactive.enabled {
            return Err(ApiError::Forbidden {
                code: "proactive_disabled",
                message: "the app does not allow agents to contact users proactively".to_owned(),
            });
        }
        let group = match dir.channels.get(&channel).map(|c| &c.kind) {
            Some(ChannelKind::InApp {
                proactive_group: Some(group),
                ..
            }) => *group,
            Some(ChannelKind::InApp { .. }) => {
                return Err(ApiError::invalid(
                    "virtualNumber",
                    "this virtual number has no proactive skill group",
                ));
            }
            Some(ChannelKind::Website { .. }) => {
                return Err(ApiError::invalid(
                    "virtualNumber",
                    "only in-app channels can contact users proactively",
                ));
            }
            None => return Err(ApiError::NotFound(channel.to_string())),
        };
        let member = dir
            .groups
            .get(&group)
            .is_some_and(|g| g.members.contains_key(&agent));
        if !member {
            return Err(ApiError::Forbidden {
                code: "not_in_proactive_group",
                message: format!(
                    "{agent} is not a member of {group}, the virtual number's proactive skill group"
                ),
            });
        }
        let slot = self.slot(state, app, channel, user);
        let mut slot = slot.lock().await;
        if let Some(live) = slot.entry.service.session {
            return Err(ApiError::Conflict(format!(
                "{user:?} is in session {live} on this channel already"
            )));
        }
        // The conversation is in the log before its session, so a replay folds the session
        // into it.
        if !slot.persisted {
            Self::store(state, &mut slot, Vec::new()).await?;
        }
        let answer_by_ms = state.clock.now_ms() + i64::from(dir.proactive.timeout_secs) * 1_000;
        let session = state
            .desk
            .engine
            .start_proactive(app, channel, user, agent, group, answer_by_ms)
            .await?;
        self.by_session.insert(session, Served::of(&slot.entry));
        // Set while the conversation is locked: the seat's transcript is sent under the
        // same lock, so it cannot miss this.
        self.contact_from
            .insert(session, slot.entry.messages.last_seq());
        // The news worker folds the same events; this makes the session known at once, so
        // the user's answer reaches it.
        let created = Event::SessionCreated {
            channel,
            user: user.to_owned(),
            last_agent: Some(agent),
        };
        slot.entry
            .service
            .on_session_events(session, std::slice::from_ref(&created), None);
        Ok((session, slot.entry.id))
    }

    /// The channel and user of a conversation of the app (to contact its user again).
    pub async fn conversation_party(
        &self,
        app: AppId,
        conversation: ConversationId,
    ) -> Result<(ChannelId, String), ApiError> {
        let slot = self
            .lock(conversation)
            .await
            .filter(|s| s.entry.app == app)
            .ok_or_else(|| ApiError::NotFound(conversation.to_string()))?;
        Ok((slot.entry.channel, slot.entry.user.clone()))
    }

    // ---- session news ----

    /// Tells agents what a session's news means to them, and finds the conversation that
    /// must hear of it. Runs on the dispatcher, in log order, without waiting.
    fn dispatch(&self, state: &ApiState, news: &SessionNews) -> Option<ConversationId> {
        let session = news.session;
        let mut served = self.by_session.get(&session).map(|s| s.clone());
        let seat = |served: &Option<Served>, transferred_by: Option<AgentId>| Seat {
            session_id: session,
            conversation_id: served.as_ref().map(|s| s.conversation),
            user: served
                .as_ref()
                .map_or_else(String::new, |s| s.user.to_string()),
            channel_id: served.as_ref().map(|s| s.channel),
            channel_name: served.as_ref().and_then(|s| {
                let dir = state.desk.app(news.app).ok()?;
                Some(dir.channels.get(&s.channel)?.name.clone())
            }),
            transferred_by,
        };
        for event in &news.events {
            match event {
                Event::SessionCreated { channel, user, .. } => {
                    let key = (news.app, *channel, user.clone());
                    if let Some(c) = self.by_key.get(&key).map(|c| *c) {
                        let s = Served {
                            app: news.app,
                            conversation: c,
                            channel: *channel,
                            user: user.as_str().into(),
                        };
                        self.by_session.insert(session, s.clone());
                        served = Some(s);
                    }
                }
                Event::SessionTransferred { from, .. } => {
                    self.holders.remove(&session);
                    self.transferred_by.insert(session, *from);
                    let frame = AgentFrame::Released {
                        session_id: session,
                        reason: "transferred",
                    };
                    self.feeds.emit(*from, &frame, Some(Change::Gone(session)));
                }
                Event::SessionOffered {
                    agent, deadline_ms, ..
                } => {
                    self.holders.insert(session, *agent);
                    let by = self.transferred_by.get(&session).map(|a| *a);
                    let seat = seat(&served, by);
                    let frame = AgentFrame::Offer {
                        session_id: session,
                        conversation_id: seat.conversation_id,
                        user: &seat.user,
                        channel_id: seat.channel_id,
                        channel_name: seat.channel_name.as_deref(),
                        deadline_ms: *deadline_ms,
                        transferred_by: seat.transferred_by,
                    };
                    let change = Change::Offered(Offer {
                        seat: seat.clone(),
                        deadline_ms: *deadline_ms,
                    });
                    self.feeds.emit(*agent, &frame, Some(change));
                }
                Event::SessionAssigned { agent, .. }
                | Event::SessionAccepted { agent }
                | Event::SessionStartedByAgent { agent, .. } => {
                    self.holders.insert(session, *agent);
                    let by = self.transferred_by.remove(&session).map(|(_, a)| a);
                    let seat = seat(&served, by);
                    let frame = AgentFrame::Seated {
                        session_id: session,
                        conversation_id: seat.conversation_id,
                        user: &seat.user,
                        channel_id: seat.channel_id,
                        channel_name: seat.channel_name.as_deref(),
                        transferred_by: seat.transferred_by,
                    };
                    self.feeds
                        .emit(*agent, &frame, Some(Change::Seated(seat.clone())));
                }
                Event::SessionOfferMissed { agent, cause, .. } => {
                    self.holders.remove(&session);
                    let reason = match cause {
                        MissCause::Timeout => "offer_expired",
                        MissCause::AgentUnavailable => "unavailable",
                    };
                    let frame = AgentFrame::Released {
                        session_id: session,
                        reason,
                    };
                    self.feeds.emit(*agent, &frame, Some(Change::Gone(session)));
                }
                Event::SessionEnded { close_by } => {
                    self.transferred_by.remove(&session);
                    self.contact_from.remove(&session);
                    if let Some((_, agent)) = self.holders.remove(&session) {
                        let frame = AgentFrame::Ended {
                            session_id: session,
                            close_by: close_by.as_str(),
                        };
                        self.feeds.emit(agent, &frame, Some(Change::Gone(session)));
                    }
                    self.by_session.remove(&session);
                }
                _ => {}
            }
        }
        let lifecycle = news.events.iter().any(|e| {
            !matches!(
                e,
                Event::SessionUserMessage { .. } | Event::SessionAgentMessage { .. }
            )
        });
        served.map(|s| s.conversation).filter(|_| lifecycle)
    }

    /// What a session's news means to its conversation: seat status, ends, invitations.
    async fn conversation_news(&self, state: &ApiState, id: ConversationId, news: SessionNews) {
        let Some(mut slot) = self.lock(id).await else {
            return;
        };
        let Ok(dir) = state.desk.app(slot.entry.app) else {
            return;
        };
        let config = Self::satisfaction(&dir, slot.entry.channel);
        let rules = config.as_ref().map(|c| c.send_rules);
        let effects = slot
            .entry
            .service
            .on_session_events(news.session, &news.events, rules);
        let now = state.clock.now_ms();
        for effect in effects {
            match effect {
                Effect::Tell(DeskMessage::SessionTimedOut) => {
                    // Auto-termination: the queue's message when its wait limit or cap
                    // ended it, else the flow's, else the app's (stored), then src 20.
                    let queue_text = news.events.iter().find_map(|e| match e {
                        Event::SessionQueueTimedOut { message, .. }
                        | Event::SessionQueueRefused { message, .. } => Some(message.clone()),
                        _ => None,
                    });
                    let flow_text = slot
                        .entry
                        .flow
                        .as_ref()
                        .filter(|r| r.session == news.session)
                        .and_then(|r| r.finished.as_ref())
                        .map(|f| f.auto_termination_message.clone())
                        .filter(|t| !t.trim().is_empty());
                    let text = queue_text.or(flow_text).unwrap_or_else(|| {
                        state
                            .desk
                            .engine
                            .settings(slot.entry.app)
                            .auto_termination_message
                            .clone()
                    });
                    if !text.is_empty() {
                        let msg_id = format!("timeout-{}", news.session.0);
                        let said = self
                            .say(state, &mut slot, None, msg_id, Body::Text { text }, |_| {
                                Vec::new()
                            })
                            .await;
                        if let Err(e) = said {
                            tracing::warn!(session = %news.session, error = %e, "auto-termination message not stored");
                        }
                    }
                    let ended = DeskMessage::SessionTimedOut;
                    self.announce(state, &mut slot, &dir, &ended, news.session, now)
                        .await;
                }
                Effect::Tell(message) => {
                    let run = slot
                        .entry
                        .flow
                        .clone()
                        .filter(|r| r.session == news.session);
                    // The human service ended: the flow's termination message first.
                    if let (DeskMessage::SessionEnded, Some(run)) = (&message, &run)
                        && run.human.is_some()
                        && let Some(finish) = &run.finished
                        && !finish.human_termination_message.trim().is_empty()
                    {
                        let text = finish.human_termination_message.clone();
                        self.say_flow_text(state, &mut slot, news.session, "ended", text)
                            .await;
                    }
                    if let (DeskMessage::SeatStatus { in_seat: true }, Some(agent)) =
                        (&message, slot.entry.service.seat)
                    {
                        self.send_transcript(&slot, agent, news.session);
                        self.tell_seat(&dir, &slot, now);
                        // "Transfer successful: ${StaffNickName} is here to help."
                        if let Some(text) = run
                            .as_ref()
                            .and_then(|r| crate::im::flows::success_message(&dir, r, agent))
                        {
                            let tag = format!("seated-{}", slot.entry.messages.last_seq() + 1);
                            self.say_flow_text(state, &mut slot, news.session, &tag, text)
                                .await;
                        }
                        continue;
                    }
                    self.announce(state, &mut slot, &dir, &message, news.session, now)
                        .await;
                }
                Effect::Invite { session, agent } => {
                    let Some(config) = config.as_ref() else {
                        continue;
                    };
                    if let Err(e) = self
                        .invite(state, &mut slot, config, session, Some(agent))
                        .await
                    {
                        tracing::warn!(%session, error = %e, "satisfaction invitation not sent");
                    }
                }
                Effect::Queued(group) => {
                    let position = state.desk.engine.queue_position(news.session).await;
                    let told = position.ok().flatten();
                    if let Some(position) = told {
                        self.tell_place(slot.entry.app, &slot.entry.user, id, position);
                    }
                    // The flow's queue message, once: when its request first queues.
                    let first = news.events.iter().any(|e| {
                        matches!(
                            e,
                            Event::SessionQueued {
                                cause: crate::domain::event::QueueCause::New,
                                ..
                            }
                        )
                    });
                    let queue_text = slot
                        .entry
                        .live_flow()
                        .filter(|_| first)
                        .and_then(|r| {
                            let human = r.human.as_ref()?;
                            let wait_no = told.unwrap_or(0).to_string();
                            Some(crate::im::flows::render_with(
                                r,
                                &human.queue_message,
                                &[("WaitNo", wait_no)],
                            ))
                        })
                        .filter(|t| !t.trim().is_empty());
                    if let Some(text) = queue_text {
                        self.say_flow_text(state, &mut slot, news.session, "queued", text)
                            .await;
                    }
                    let waiting = Waiting {
                        session: news.session,
                        group,
                        app: slot.entry.app,
                        user: slot.entry.user.as_str().into(),
                        told,
                    };
                    self.waiting.insert(id, waiting);
                }
            }
        }
        if slot.entry.service.queued_in.is_none() {
            self.waiting.remove(&id);
        }
    }

    /// Stores and delivers one of a flow's texts told as its session's news comes.
    async fn say_flow_text(
        &self,
        state: &ApiState,
        slot: &mut Slot,
        session: SessionId,
        tag: &str,
        text: String,
    ) {
        let msg_id = format!("flow-{tag}-{}", session.0);
        let said = self
            .say(state, slot, None, msg_id, Body::Text { text }, |_| {
                Vec::new()
            })
            .await;
        if let Err(e) = said {
            tracing::warn!(%session, error = %e, "a flow's message was not stored");
        }
    }

    /// Gives an agent who just took a session the conversation's latest messages (of a
    /// proactive session, only those since the contact).
    fn send_transcript(&self, slot: &Slot, agent: AgentId, session: SessionId) {
        let entry = &slot.entry;
        let from = self.contact_from.get(&session).map_or(0, |seq| *seq);
        let all = entry.messages.after(from);
        let latest = &all[all.len().saturating_sub(TRANSCRIPT_MESSAGES)..];
        let frame = AgentFrame::Transcript {
            session_id: session,
            conversation_id: entry.id,
            user: &entry.user,
            messages: latest,
        };
        self.push_agent(agent, &frame);
    }

    fn tell_place(&self, app: AppId, user: &str, conversation: ConversationId, position: usize) {
        let frame = text_of(&UserFrame::Queue {
            conversation_id: conversation,
            position,
        });
        self.push_user(
            app,
            user,
            Outbound {
                text: frame,
                place: None,
            },
        );
    }

    /// Tells every waiting user whose place changed where they are now: one ask per group.
    async fn tell_queue_places(&self, state: &ApiState) {
        let mut groups: Vec<_> = self.waiting.iter().map(|w| w.group).collect();
        groups.sort();
        groups.dedup();
        for group in groups {
            let Ok(order) = state.desk.engine.queue_order(group).await else {
                continue;
            };
            let places: std::collections::HashMap<SessionId, usize> =
                order.into_iter().enumerate().map(|(i, s)| (s, i)).collect();
            for mut w in self.waiting.iter_mut() {
                if w.group != group {
                    continue;
                }
                let Some(&place) = places.get(&w.session) else {
                    continue;
                };
                if w.told != Some(place) {
                    w.told = Some(place);
                    let (app, user, conversation) = (w.app, w.user.clone(), *w.key());
                    self.tell_place(app, &user, conversation, place);
                }
            }
        }
    }

    /// Users waiting in a queue now (for tests and metrics).
    pub fn waiting_users(&self) -> usize {
        self.waiting.len()
    }
}

/// A message as a user's socket gets it; a stored one carries its place for resume.
fn user_message_frame(
    dir: &AppDirectory,
    entry: &ConversationEntry,
    message: &Message,
    online_only: bool,
) -> Outbound {
    let peer = peer_of(dir, entry.channel);
    let (from, to) = match message.sender {
        Sender::User => (entry.user.as_str(), peer.as_str()),
        Sender::Desk { .. } => (peer.as_str(), entry.user.as_str()),
    };
    let seq = (!online_only).then_some(message.seq);
    Outbound {
        text: text_of(&UserFrame::Message {
            conversation_id: entry.id,
            from,
            to,
            msg_id: &message.msg_id,
            seq,
            time: message.at_ms,
            online_user_only: online_only,
            body: &message.body,
        }),
        place: seq.map(|s| (entry.id, s)),
    }
}

/// The address a conversation's desk side has: the virtual number or the `webAppId`.
fn peer_of(dir: &AppDirectory, channel: ChannelId) -> String {
    match dir.channels.get(&channel).map(|c| &c.kind) {
        Some(ChannelKind::InApp { user_id, .. }) => user_id.clone(),
        Some(ChannelKind::Website { web_app_id }) => web_app_id.clone(),
        None => String::new(),
    }
}

/// The desk's last stored message when it is a prompt a plain text can answer.
fn open_prompt(entry: &ConversationEntry) -> Option<(u64, &Body)> {
    let messages = entry.messages.after(0);
    let last_desk = messages
        .iter()
        .rev()
        .take(64)
        .find(|m| m.sender != Sender::User)?;
    Some((last_desk.seq, &last_desk.body))
}

/// The text a session keeps of a message: the text, or a custom message's description.
fn summary(body: &Body) -> String {
    match body {
        Body::Text { text } => text.clone(),
        Body::Custom { description, .. } if !description.is_empty() => description.clone(),
        Body::Custom { .. } => "[custom message]".to_owned(),
        Body::File { name, .. } => format!("[file] {name}"),
    }
}

/// Reads a custom body: its `data` must be JSON, and when it is a desk message (it has
/// `customerServicePlugin`) it must be one a user may send. A `src` without
/// `customerServicePlugin` is an ordinary custom message, stored and relayed as sent.
pub fn desk_data(body: &Body) -> Result<Option<DeskMessage>, ApiError> {
    let Body::Custom { data, .. } = body else {
        return Ok(None);
    };
    if data.len() > crate::domain::conversation::MAX_DATA_BYTES {
        // Body::check names the limit; no need to parse it first.
        return Ok(None);
    }
    DeskMessage::read_user_data(data).map_err(|e| {
        let rating = serde_json::from_str::<serde_json::Value>(data)
            .ok()
            .and_then(|v| v.get("src").and_then(|s| s.as_str()).map(|s| s == "10"))
            .unwrap_or(false);
        match e {
            crate::im::protocol::ProtocolError::NotJson(e) => {
                ApiError::invalid("body.data", format!("is not JSON: {e}"))
            }
            // A malformed rating is the protocol's "bad data".
            e if rating => ApiError::Protocol {
                code: 10151,
                field: "body.data",
                message: e.to_string(),
            },
            e => ApiError::invalid("body.data", e.to_string()),
        }
    })
}

/// An agent's custom message that claims to be a desk message must be one agents send
/// (a card, src 22); others are the desk's own to send.
fn check_agent_data(data: &str) -> Result<(), ApiError> {
    let value = serde_json::from_str::<serde_json::Value>(data)
        .map_err(|e| ApiError::invalid("body.data", format!("is not JSON: {e}")))?;
    let src = value.get("src").cloned();
    match src {
        None => Ok(()),
        Some(serde_json::Value::String(s)) if s == "22" => DeskMessage::parse_from_user(data)
            .map(|_| ())
            .map_err(|e| ApiError::invalid("body.data", e.to_string())),
        Some(_) => Err(ApiError::invalid(
            "body.data",
            "agents send text or a card (src \"22\"); other desk messages are the desk's",
        )),
    }
}

/// The src 9 body with `selected` set to the rating.
fn with_selected(body: &Body, rating: &service::Rating) -> Option<Body> {
    let Body::Custom {
        data,
        description,
        extension,
    } = body
    else {
        return None;
    };
    let mut value: serde_json::Value = serde_json::from_str(data).ok()?;
    let menu = value.get_mut("menuContent")?.as_object_mut()?;
    menu.insert(
        "selected".to_owned(),
        serde_json::json!({"id": rating.value.to_string(), "content": rating.label}),
    );
    Some(Body::Custom {
        data: value.to_string(),
        description: description.clone(),
        extension: extension.clone(),
    })
}

/// The store's refusal as the API tells it: the operator's problem, not the client's.
fn store_error(e: crate::im::attachments::StoreError) -> ApiError {
    tracing::warn!(error = %e, "attachment storage failed");
    ApiError::Unavailable(e.to_string())
}
