//! Identifiers of the things the desk talks about, and of the log's streams.
//!
//! Ids are plain integers allocated by the engine, unique across all apps, so a
//! stream is named by `(kind, id)` alone and the app travels beside it in the envelope.

use std::fmt;

/// Derives shared by every value written to the log: rkyv for the log format, serde for
/// `helpline log export --json`, and the usual value traits.
#[macro_export]
macro_rules! durable {
    ($($item:item)*) => {$(
        #[derive(
            Clone, Debug, PartialEq, Eq,
            ::rkyv::Archive, ::rkyv::Serialize, ::rkyv::Deserialize,
            ::serde::Serialize, ::serde::Deserialize,
        )]
        $item
    )*};
}

macro_rules! id_type {
    ($(#[$doc:meta] $name:ident($inner:ty), $prefix:literal;)*) => {$(
        #[$doc]
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default,
            ::rkyv::Archive, ::rkyv::Serialize, ::rkyv::Deserialize,
            ::serde::Serialize, ::serde::Deserialize, ::utoipa::ToSchema,
        )]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    )*};
}

id_type! {
    /// A tenant: one customer's desk (the seed's SdkAppId).
    AppId(u32), "app-";
    /// An agent (seat) account.
    AgentId(u64), "agent-";
    /// A skill group: a queue plus its members.
    GroupId(u64), "group-";
    /// One conversation of a user with the desk, from first message to end.
    SessionId(u64), "session-";
    /// An entry point users write to: an in-app virtual number or a website channel.
    ChannelId(u64), "channel-";
    /// A role: which console modules an account may use, over which skill groups.
    RoleId(u64), "role-";
    /// A reason an agent may give for a short break.
    RestReasonId(u64), "rest-reason-";
    /// A quick reply agents insert with `#`.
    QuickReplyId(u64), "quick-reply-";
    /// A satisfaction evaluation configuration.
    SatisfactionId(u64), "satisfaction-";
    /// A third-party extension page shown in the workstation.
    ExtensionId(u64), "extension-";
    /// A key for server-to-server calls.
    ApiKeyId(u64), "api-key-";
    /// A session service flow (its versions live in the log).
    FlowId(u64), "flow-";
    /// The messages between one user and one virtual number of an app.
    ConversationId(u64), "conversation-";
    /// A question and answer of an app's FAQ bot.
    FaqId(u64), "faq-";
}

/// Ids below this are reserved for built-in things (the administrator and agent roles);
/// the engine allocates from here up.
pub const FIRST_ALLOCATED_ID: u64 = 16;

/// A user of a channel, as "last receptionist first" remembers them: a 64-bit hash of the
/// channel and the user id, so the map that remembers millions of users holds no strings.
/// A collision (odds about 2^-64 per pair) would only prefer another user's last agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserKey(pub u64);

impl UserKey {
    /// The key of `user` on `channel`.
    pub fn of(channel: ChannelId, user: &str) -> Self {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        channel.0.hash(&mut h);
        user.hash(&mut h);
        Self(h.finish())
    }
}

durable! {
    /// What kind of actor owns a stream of events.
    #[derive(Copy, Hash, PartialOrd, Ord)]
    pub enum StreamKind {
        /// App-wide configuration: settings, rest reasons.
        App,
        /// One agent: login, status.
        Agent,
        /// One skill group: name, limit, members.
        Group,
        /// One session: queueing, offers, service, end.
        Session,
        /// One conversation: the messages between a user and a virtual number.
        Conversation,
    }

    /// The stream an event belongs to: one writer (actor) per stream.
    #[derive(Copy, Hash, PartialOrd, Ord)]
    pub struct StreamId {
        /// The kind of owner.
        pub kind: StreamKind,
        /// The owner's id (an `AppId`, `AgentId`, `GroupId` or `SessionId` value).
        pub id: u64,
    }
}

impl StreamId {
    /// The stream of an app's configuration.
    pub fn app(app: AppId) -> Self {
        Self {
            kind: StreamKind::App,
            id: u64::from(app.0),
        }
    }
    /// The stream of one agent.
    pub fn agent(agent: AgentId) -> Self {
        Self {
            kind: StreamKind::Agent,
            id: agent.0,
        }
    }
    /// The stream of one skill group.
    pub fn group(group: GroupId) -> Self {
        Self {
            kind: StreamKind::Group,
            id: group.0,
        }
    }
    /// The stream of one session.
    pub fn session(session: SessionId) -> Self {
        Self {
            kind: StreamKind::Session,
            id: session.0,
        }
    }
    /// The stream of one conversation.
    pub fn conversation(conversation: ConversationId) -> Self {
        Self {
            kind: StreamKind::Conversation,
            id: conversation.0,
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            StreamKind::App => "app",
            StreamKind::Agent => "agent",
            StreamKind::Group => "group",
            StreamKind::Session => "session",
            StreamKind::Conversation => "conversation",
        };
        write!(f, "{kind}-{}", self.id)
    }
}
