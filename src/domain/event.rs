//! The vocabulary of the log: every change of state in helpline is one of these events.
//!
//! Variants are append-only: once a variant has been written to a log, its fields never
//! change. A new need gets a new variant. The log format version (in `crate::log`) guards
//! the encoding as a whole.

use crate::domain::conversation::{Body, Message};
use crate::domain::directory::{
    Channel, Extension, FaqEntry, LauncherPosition, ProactiveRule, QuickReply, RestReason, Role,
    SatisfactionConfig, SignOutCause,
};
use crate::domain::flow::FlowState;
use crate::domain::ids::{
    AgentId, ApiKeyId, AppId, ChannelId, ExtensionId, FaqId, FlowId, GroupId, QuickReplyId, RoleId,
    SatisfactionId, SessionId, StreamId,
};
use crate::domain::routing::RoutingDecision;
use crate::domain::settings::AppSettings;
use crate::durable;

durable! {
    /// One event as stored: its place in the global order, when, for which app, on which stream.
    pub struct Envelope {
        /// Global, dense sequence number (the first event of a log is 1).
        pub seq: u64,
        /// Wall-clock time of the decision, in milliseconds since the Unix epoch.
        pub at_ms: i64,
        /// The tenant.
        pub app: AppId,
        /// The stream (and so the actor) the event belongs to.
        pub stream: StreamId,
        /// What happened.
        pub event: Event,
    }

    /// An agent's status, as the seed's workstation and SDK name them.
    pub enum AgentStatus {
        /// Available: sessions are allocated.
        Free,
        /// Busy: no new sessions; may still contact users proactively.
        Busy,
        /// Short break, with the reason chosen (or the automatic one after a missed offer).
        Rest {
            /// The rest reason's name.
            reason: String,
        },
        /// Organizing information after a session; no new sessions.
        Arrange,
        /// Logged in but not ready; no new sessions.
        NotReady,
        /// Not logged in, or gone offline: no sessions, no proactive contact.
        Offline,
    }

    /// Who changed an agent's status.
    #[derive(Copy)]
    pub enum StatusCause {
        /// The agent, from the workstation or SDK.
        Agent,
        /// The system, after the agent missed an offer (auto short break).
        MissedOffer,
        /// An administrator.
        Admin,
    }

    /// Why an agent's login ended.
    #[derive(Copy)]
    pub enum LogoutCause {
        /// The agent logged out.
        Agent,
        /// An administrator forced the agent offline.
        ForcedOffline,
        /// The agent logged in somewhere else (one login place per agent).
        NewLogin,
        /// The account was deleted.
        Deleted,
        /// The sign-in behind the login ended without the agent choosing it (an
        /// administrator reset the password). Appended: the archived causes keep their tags.
        SignInEnded,
        /// The sign-in behind the login reached its expiry.
        SignInExpired,
        /// No workstation socket of the agent's was open for the away grace
        /// (`[server] agent_away_secs`): nobody is behind the status.
        Disconnected,
    }

    /// Who ended a session (`closeBy` in the protocol).
    #[derive(Copy)]
    pub enum CloseBy {
        /// The user (src 27) or the client application.
        Client,
        /// The agent (seat).
        Seat,
        /// An administrator.
        Admin,
        /// The user-reply timeout (auto-termination).
        Timer,
        /// The session service flow reached its end without asking for a human.
        Flow,
    }

    /// Why a session (re-)entered a queue.
    pub enum QueueCause {
        /// A new session asking for a human.
        New,
        /// An agent transferred it to this group.
        Transfer {
            /// The agent who transferred it.
            from: AgentId,
        },
        /// Its offer was missed or withdrawn; it keeps its original place.
        Redirect {
            /// The agent who did not take it.
            from: AgentId,
        },
    }

    /// Why an offer ended without being accepted.
    #[derive(Copy)]
    pub enum MissCause {
        /// The accept countdown ran out.
        Timeout,
        /// The agent went offline, logged out or was forced offline while it was offered.
        AgentUnavailable,
    }

    /// Where a session was transferred to.
    #[derive(Copy)]
    pub enum TransferTarget {
        /// Into a skill group's queue.
        Group(GroupId),
        /// Straight to a named agent.
        Agent(AgentId),
    }

    /// Every change of state helpline knows.
    #[serde(tag = "type")]
    pub enum Event {
        // ---- app stream ----
        /// An app (tenant) came into being.
        AppCreated {
            /// Display name.
            name: String,
        },
        /// The app's routing and reception settings were replaced (validated beforehand).
        SettingsChanged {
            /// The new settings, whole.
            settings: AppSettings,
        },

        // ---- agent stream ----
        /// An agent account was created.
        AgentCreated {
            /// Full name.
            name: String,
            /// Name shown to users (`${StaffNickName}`).
            nickname: String,
            /// Staff number (`${StaffNo}`).
            staff_no: String,
        },
        /// The agent logged in (went online) with this status.
        AgentLoggedIn {
            /// The status after login (the app's default: free or not ready).
            status: AgentStatus,
        },
        /// The agent's status changed while logged in.
        AgentStatusChanged {
            /// The new status (never `Offline`: going offline is `AgentLoggedOut`).
            status: AgentStatus,
            /// Who changed it.
            cause: StatusCause,
        },
        /// The agent went offline.
        AgentLoggedOut {
            /// Why.
            cause: LogoutCause,
        },
        /// An administrator forced the agent offline: no login until resumed.
        AgentForcedOffline,
        /// An administrator lifted a forced offline.
        AgentResumed,
        /// The account was deleted: it can no longer log in.
        AgentDeleted,

        // ---- group stream ----
        /// A skill group was created.
        GroupCreated {
            /// Display name.
            name: String,
            /// Maximum sessions one agent serves at once for this group.
            reception_limit: u32,
        },
        /// The group was renamed.
        GroupRenamed {
            /// The new name.
            name: String,
        },
        /// The reception limit changed.
        GroupReceptionLimitChanged {
            /// The new limit.
            reception_limit: u32,
        },
        /// The group was deleted; its members keep their accounts.
        GroupDeleted,
        /// An agent joined the group.
        MemberAdded {
            /// The agent.
            agent: AgentId,
            /// 1 (highest) to 5 (lowest).
            priority: u8,
        },
        /// A member's priority changed.
        MemberPriorityChanged {
            /// The agent.
            agent: AgentId,
            /// 1 (highest) to 5 (lowest).
            priority: u8,
        },
        /// An agent left the group.
        MemberRemoved {
            /// The agent.
            agent: AgentId,
        },

        // ---- session stream ----
        /// A user's first message to a channel opened a session.
        SessionCreated {
            /// The channel written to.
            channel: ChannelId,
            /// The user's id in the app.
            user: String,
            /// The agent who served this user last on this channel, for "last receptionist first".
            last_agent: Option<AgentId>,
        },
        /// The session waits in a skill group's queue.
        SessionQueued {
            /// The group.
            group: GroupId,
            /// Its place in the queue: entry time, kept across redirects.
            queued_at_ms: i64,
            /// Why it entered.
            cause: QueueCause,
        },
        /// The session was offered to an agent, who must accept before the deadline.
        SessionOffered {
            /// The agent.
            agent: AgentId,
            /// The group that routed it (none for a transfer to a named agent).
            group: Option<GroupId>,
            /// The offer's number within the session: timers carry it.
            generation: u32,
            /// When the countdown ends, in ms since the epoch.
            deadline_ms: i64,
            /// Why this agent.
            decision: RoutingDecision,
        },
        /// The session was given to an agent who serves it at once (auto reception).
        SessionAssigned {
            /// The agent.
            agent: AgentId,
            /// The group that routed it (none for a transfer to a named agent).
            group: Option<GroupId>,
            /// Why this agent.
            decision: RoutingDecision,
        },
        /// The offered agent accepted.
        SessionAccepted {
            /// The agent.
            agent: AgentId,
        },
        /// The offer ended unaccepted.
        SessionOfferMissed {
            /// The agent offered.
            agent: AgentId,
            /// The offer's generation.
            generation: u32,
            /// Why.
            cause: MissCause,
        },
        /// The accept countdown ran out while redirect on timeout is off: the offer stays
        /// with the agent (who may be put on a short break).
        SessionOfferOverdue {
            /// The agent offered.
            agent: AgentId,
            /// The offer's generation.
            generation: u32,
        },
        /// An agent handed the session on.
        SessionTransferred {
            /// The agent who had it.
            from: AgentId,
            /// Where it goes.
            to: TransferTarget,
        },
        /// The user wrote.
        SessionUserMessage {
            /// The text.
            text: String,
        },
        /// The serving agent wrote; the user-reply countdown starts.
        SessionAgentMessage {
            /// The agent.
            agent: AgentId,
            /// The text.
            text: String,
            /// When the session ends if the user does not answer (none when the timeout is off).
            reply_deadline_ms: Option<i64>,
        },
        /// The session ended.
        SessionEnded {
            /// Who ended it.
            close_by: CloseBy,
        },

        // ---- app stream: the admin directory (`crate::domain::directory`) ----
        /// A custom role was created or replaced.
        RoleSaved {
            /// The role, whole.
            role: Role,
        },
        /// A custom role was deleted (no account held it).
        RoleDeleted {
            /// The role.
            role: RoleId,
        },
        /// An agent got a console account (written with its `AgentCreated`).
        AccountCreated {
            /// The agent.
            agent: AgentId,
            /// Login email, lowercase.
            email: String,
            /// Its role.
            role: RoleId,
            /// Argon2id PHC string of the first password.
            password_hash: String,
            /// The first sign-in must change the password.
            must_change_password: bool,
        },
        /// An administrator edited an agent's name and nickname.
        AccountProfileChanged {
            /// The agent.
            agent: AgentId,
            /// Full name.
            name: String,
            /// Name shown to users.
            nickname: String,
        },
        /// An administrator gave an account another role.
        AccountRoleChanged {
            /// The agent.
            agent: AgentId,
            /// The new role.
            role: RoleId,
        },
        /// An account's password was changed by its owner or reset by an administrator.
        PasswordSet {
            /// The agent.
            agent: AgentId,
            /// Argon2id PHC string.
            password_hash: String,
            /// The next sign-in must change it (after a reset).
            must_change_password: bool,
        },
        /// An account signed in; any earlier login of it ended.
        SignedIn {
            /// The agent.
            agent: AgentId,
            /// SHA-256 of the bearer token, hex (the token itself is never stored).
            token_hash: String,
            /// When the token stops working, ms since the epoch.
            expires_at_ms: i64,
        },
        /// An account's login ended.
        SignedOut {
            /// The agent.
            agent: AgentId,
            /// Why.
            cause: SignOutCause,
        },
        /// A rest reason was created or changed (renamed, enabled, disabled).
        RestReasonSaved {
            /// The reason, whole.
            reason: RestReason,
        },
        /// The proactive-contact rule changed.
        ProactiveRuleChanged {
            /// The rule, whole.
            rule: ProactiveRule,
        },
        /// A quick reply was created or edited.
        QuickReplySaved {
            /// The reply, whole.
            reply: QuickReply,
        },
        /// Quick replies came in from a CSV upload (one upload is one append).
        QuickRepliesImported {
            /// The new replies.
            replies: Vec<QuickReply>,
        },
        /// A quick reply was deleted.
        QuickReplyDeleted {
            /// The reply.
            reply: QuickReplyId,
        },
        /// A satisfaction configuration was created or edited.
        SatisfactionSaved {
            /// The configuration, whole.
            config: SatisfactionConfig,
        },
        /// A satisfaction configuration was deleted (no channel was bound to it).
        SatisfactionDeleted {
            /// The configuration.
            config: SatisfactionId,
        },
        /// A channel was created or edited.
        ChannelSaved {
            /// The channel, whole.
            channel: Channel,
        },
        /// A channel was deleted.
        ChannelDeleted {
            /// The channel.
            channel: ChannelId,
        },
        /// A third-party extension was created or edited.
        ExtensionSaved {
            /// The extension, whole.
            extension: Extension,
        },
        /// A third-party extension was deleted.
        ExtensionDeleted {
            /// The extension.
            extension: ExtensionId,
        },
        /// An API key was created.
        ApiKeyCreated {
            /// Its id.
            key: ApiKeyId,
            /// What it is for.
            name: String,
            /// SHA-256 of the secret, hex (the secret itself is never stored).
            secret_hash: String,
        },
        /// An API key was revoked.
        ApiKeyRevoked {
            /// The key.
            key: ApiKeyId,
        },
        /// The app's IM secret (which signs user tokens) was rotated. It is kept as is, not
        /// hashed: HMAC needs it; exports redact it.
        ImSecretRotated {
            /// The new secret.
            secret: String,
            /// Until when (ms since the epoch) tokens signed with the previous secret are
            /// still accepted, so apps can roll their backends over.
            previous_valid_until_ms: i64,
        },

        // ---- conversation stream ----
        /// A user wrote to a channel for the first time.
        ConversationOpened {
            /// The channel (virtual number or website).
            channel: ChannelId,
            /// The user's id in the app.
            user: String,
        },
        /// A message was stored in the conversation.
        MessageStored {
            /// The message, with its sequence number.
            message: Message,
        },
        /// A stored message's body changed: a satisfaction menu, branch menu or form got its
        /// `selected`, or a streamed answer got more chunks.
        MessageUpdated {
            /// The message's sequence number.
            seq: u64,
            /// Its body now.
            body: Body,
        },
        /// A satisfaction invitation (src 9) was sent for a session; written with its message.
        RatingInvited {
            /// The session to rate.
            session: SessionId,
            /// The invitation's message.
            menu_seq: u64,
            /// Until when it can be answered, Unix seconds.
            expire_at_s: i64,
            /// The agent who served the session (rated), if any.
            agent: Option<AgentId>,
        },
        /// The user rated a session (src 10): recorded once.
        SessionRated {
            /// The session.
            session: SessionId,
            /// The level's value.
            value: u8,
            /// The level's label.
            label: String,
        },
        /// An agent started the session with a user (proactive contact): it is in service at
        /// once, and ends unless the user answers by `answer_by_ms`.
        SessionStartedByAgent {
            /// The agent.
            agent: AgentId,
            /// The channel's proactive skill group, which the agent is a member of.
            group: GroupId,
            /// When the session ends if the user has not written, ms since the epoch.
            answer_by_ms: i64,
        },

        // ---- app stream: the agent SDK (`crate::domain::sdk`) ----
        /// An SDK login URL was issued for an agent (the seed's CreateSDKLoginToken).
        SdkTokenIssued {
            /// The agent it signs in.
            agent: AgentId,
            /// SHA-256 of the URL's token, hex (the token itself is never stored).
            token_hash: String,
            /// When it was issued, ms since the epoch.
            issued_at_ms: i64,
            /// When it stops working, ms since the epoch.
            expires_at_ms: i64,
        },
        /// An SDK login URL signed its agent in (written with the `SignedIn`); it never
        /// works again.
        SdkTokenUsed {
            /// The agent it signed in.
            agent: AgentId,
            /// SHA-256 of the URL's token, hex.
            token_hash: String,
        },

        // ---- app stream: session service flows and the FAQ bot ----
        /// A version of a session service flow was saved (validated before, and again when
        /// folded). Every version stays in the log; sessions keep the version they began with.
        FlowSaved {
            /// The flow.
            flow: FlowId,
            /// Its name.
            name: String,
            /// 1 for the first save, then one more on every save.
            version: u32,
            /// The graph, as the JSON that was saved.
            graph: String,
            /// When, ms since the epoch.
            saved_at_ms: i64,
        },
        /// A flow was deleted (no channel bound it); sessions running it finish it.
        FlowDeleted {
            /// The flow.
            flow: FlowId,
        },
        /// A question and answer of the app's FAQ bot was created or edited.
        FaqSaved {
            /// The entry, whole.
            entry: FaqEntry,
        },
        /// A question and answer was deleted.
        FaqDeleted {
            /// The entry.
            entry: FaqId,
        },
        /// Questions and answers came in from a CSV upload (one upload is one append).
        FaqImported {
            /// The new entries.
            entries: Vec<FaqEntry>,
        },

        // ---- conversation stream: the flow a session runs ----
        /// The flow of a session took a step: where it stands now, whole.
        FlowStepped {
            /// The session running it.
            session: SessionId,
            /// The flow.
            flow: FlowId,
            /// The version it runs.
            version: u32,
            /// Its state after the step.
            state: FlowState,
        },
        /// An HTTP call of the flow is due (the outbox): made once this is durable, made
        /// again with the same key after a restart until its answer is in the log.
        FlowCallRequested {
            /// The session.
            session: SessionId,
            /// The call's key, the same on every attempt (the `Idempotency-Key`).
            key: String,
            /// Where it is POSTed.
            url: String,
            /// The JSON body.
            body: String,
            /// The attempt's timeout.
            timeout_ms: u32,
            /// Which attempt (from 1).
            attempt: u32,
        },
        /// An HTTP call of the flow answered, failed or timed out (written with the step it
        /// caused).
        FlowCallAnswered {
            /// The session.
            session: SessionId,
            /// The call's key.
            key: String,
            /// Which attempt.
            attempt: u32,
            /// The answer's JSON, when it succeeded.
            answer: Option<String>,
            /// Why it failed, when it did.
            error: String,
        },
        /// The flow handed the session to a skill group (the session is asked to queue next).
        FlowHumanRequested {
            /// The session.
            session: SessionId,
            /// The group.
            group: GroupId,
            /// Told when it queues, with `${WaitNo}`.
            queue_message: String,
            /// Told when an agent takes it, with `${StaffNickName}` and `${StaffNo}`.
            success_message: String,
        },
        /// The flow reached its end module: how the session ends from now on.
        FlowFinished {
            /// The session.
            session: SessionId,
            /// The user-reply timeout (0 is off).
            reply_timeout_secs: u32,
            /// Sent when the reply timeout ends the session.
            auto_termination_message: String,
            /// Sent when the human service ends.
            human_termination_message: String,
        },

        // ---- session stream ----
        /// The session's flow set its user-reply timeout (0: off), in place of the app's.
        SessionReplyTimeoutSet {
            /// Seconds.
            secs: u32,
        },

        // ---- app stream: the agent SDK, continued ----
        /// An SDK login URL was issued for an agent, and by whom (written in place of
        /// `SdkTokenIssued` since issuers are recorded; older logs keep that one).
        SdkTokenIssuedBy {
            /// The agent it signs in.
            agent: AgentId,
            /// SHA-256 of the URL's token, hex (the token itself is never stored).
            token_hash: String,
            /// When it was issued, ms since the epoch.
            issued_at_ms: i64,
            /// When it stops working, ms since the epoch.
            expires_at_ms: i64,
            /// Who asked for it.
            issuer: Issuer,
        },

        // ---- group stream ----
        /// The queue's wait limit, cap and messages changed (validated beforehand).
        GroupQueueLimitsChanged {
            /// Longest wait in the queue, seconds (0: off).
            max_queue_wait_secs: u32,
            /// Told to the user when the wait limit ends the session.
            queue_wait_message: String,
            /// Most sessions waiting at once.
            max_queued: u32,
            /// Told to the user whose session the full queue refused.
            queue_full_message: String,
        },

        // ---- session stream ----
        /// The session entered a queue that gives up on it at `deadline_ms` (written with the
        /// `SessionQueued` of a new entry; a redirect keeps the deadline, as it keeps the place).
        SessionQueueDeadlineSet {
            /// When the wait limit ends the session, ms since the epoch.
            deadline_ms: i64,
            /// What the user is told then.
            message: String,
        },
        /// The queue wait limit ran out while the session still waited (written with its
        /// `SessionEnded`, closeBy timer).
        SessionQueueTimedOut {
            /// The group it waited in.
            group: GroupId,
            /// What the user was told.
            message: String,
        },
        /// The group's queue was full: the session was not let in (written with its
        /// `SessionEnded`, closeBy timer).
        SessionQueueRefused {
            /// The group.
            group: GroupId,
            /// The cap it was at.
            max_queued: u32,
            /// What the user was told.
            message: String,
        },

        // ---- app stream ----
        /// A website channel's allowed origins were set (written with its `ChannelSaved`):
        /// the pages whose visitors' sockets it takes, besides the desk's own chat page.
        WebsiteOriginsSet {
            /// The website channel.
            channel: ChannelId,
            /// `scheme://host[:port]` each, as a browser sends `Origin`.
            origins: Vec<String>,
        },
        /// A file or image was uploaded to a conversation (its stream) and its bytes written
        /// to the data directory. Boxed: the archived event keeps the size it always had.
        AttachmentStored {
            /// What was stored.
            attachment: Box<crate::domain::attachment::AttachmentRecord>,
        },
        /// A website channel's launcher appearance was set (written with its `ChannelSaved`):
        /// the corner and colour its embed script draws the launcher in on host pages.
        WebsiteAppearanceSet {
            /// The website channel.
            channel: ChannelId,
            /// The bottom corner.
            launcher_position: LauncherPosition,
            /// `#rrggbb`, lowercase.
            theme_color: String,
        },

        // ---- session stream, continued ----
        /// The user was reminded that the user-reply timeout ends the session at
        /// `deadline_ms` unless it answers (src 38, `REPLY_REMINDER_LEAD_MS` before).
        SessionReplyReminded {
            /// The deadline reminded of.
            deadline_ms: i64,
        },

        // ---- app stream, continued ----
        /// Whether a channel's flow speaks the task shapes (src 32 branches, src 33 forms)
        /// in place of src 15 menus and src 21 forms (written with its `ChannelSaved`).
        ChannelTaskMessagesSet {
            /// The channel.
            channel: ChannelId,
            /// On or off.
            on: bool,
        },
    }

    /// Who made a change on an app's behalf: a server with an API key, or a signed-in account.
    #[derive(Copy)]
    pub enum Issuer {
        /// A server, with this API key.
        ApiKey {
            /// The key.
            key: ApiKeyId,
        },
        /// A signed-in account.
        Account {
            /// Its agent.
            agent: AgentId,
        },
    }
}

impl Event {
    /// A short, stable name of the variant, for logs, metrics labels and the replay printout.
    pub fn name(&self) -> &'static str {
        match self {
            Event::AppCreated { .. } => "AppCreated",
            Event::SettingsChanged { .. } => "SettingsChanged",
            Event::AgentCreated { .. } => "AgentCreated",
            Event::AgentLoggedIn { .. } => "AgentLoggedIn",
            Event::AgentStatusChanged { .. } => "AgentStatusChanged",
            Event::AgentLoggedOut { .. } => "AgentLoggedOut",
            Event::AgentForcedOffline => "AgentForcedOffline",
            Event::AgentResumed => "AgentResumed",
            Event::AgentDeleted => "AgentDeleted",
            Event::GroupCreated { .. } => "GroupCreated",
            Event::GroupRenamed { .. } => "GroupRenamed",
            Event::GroupReceptionLimitChanged { .. } => "GroupReceptionLimitChanged",
            Event::GroupDeleted => "GroupDeleted",
            Event::MemberAdded { .. } => "MemberAdded",
            Event::MemberPriorityChanged { .. } => "MemberPriorityChanged",
            Event::MemberRemoved { .. } => "MemberRemoved",
            Event::SessionCreated { .. } => "SessionCreated",
            Event::SessionQueued { .. } => "SessionQueued",
            Event::SessionOffered { .. } => "SessionOffered",
            Event::SessionAssigned { .. } => "SessionAssigned",
            Event::SessionAccepted { .. } => "SessionAccepted",
            Event::SessionOfferMissed { .. } => "SessionOfferMissed",
            Event::SessionOfferOverdue { .. } => "SessionOfferOverdue",
            Event::SessionTransferred { .. } => "SessionTransferred",
            Event::SessionUserMessage { .. } => "SessionUserMessage",
            Event::SessionAgentMessage { .. } => "SessionAgentMessage",
            Event::SessionEnded { .. } => "SessionEnded",
            Event::RoleSaved { .. } => "RoleSaved",
            Event::RoleDeleted { .. } => "RoleDeleted",
            Event::AccountCreated { .. } => "AccountCreated",
            Event::AccountProfileChanged { .. } => "AccountProfileChanged",
            Event::AccountRoleChanged { .. } => "AccountRoleChanged",
            Event::PasswordSet { .. } => "PasswordSet",
            Event::SignedIn { .. } => "SignedIn",
            Event::SignedOut { .. } => "SignedOut",
            Event::RestReasonSaved { .. } => "RestReasonSaved",
            Event::ProactiveRuleChanged { .. } => "ProactiveRuleChanged",
            Event::QuickReplySaved { .. } => "QuickReplySaved",
            Event::QuickRepliesImported { .. } => "QuickRepliesImported",
            Event::QuickReplyDeleted { .. } => "QuickReplyDeleted",
            Event::SatisfactionSaved { .. } => "SatisfactionSaved",
            Event::SatisfactionDeleted { .. } => "SatisfactionDeleted",
            Event::ChannelSaved { .. } => "ChannelSaved",
            Event::ChannelDeleted { .. } => "ChannelDeleted",
            Event::ExtensionSaved { .. } => "ExtensionSaved",
            Event::ExtensionDeleted { .. } => "ExtensionDeleted",
            Event::ApiKeyCreated { .. } => "ApiKeyCreated",
            Event::ApiKeyRevoked { .. } => "ApiKeyRevoked",
            Event::ImSecretRotated { .. } => "ImSecretRotated",
            Event::ConversationOpened { .. } => "ConversationOpened",
            Event::MessageStored { .. } => "MessageStored",
            Event::MessageUpdated { .. } => "MessageUpdated",
            Event::AttachmentStored { .. } => "AttachmentStored",
            Event::RatingInvited { .. } => "RatingInvited",
            Event::SessionRated { .. } => "SessionRated",
            Event::SessionStartedByAgent { .. } => "SessionStartedByAgent",
            Event::SdkTokenIssued { .. } => "SdkTokenIssued",
            Event::SdkTokenUsed { .. } => "SdkTokenUsed",
            Event::FlowSaved { .. } => "FlowSaved",
            Event::FlowDeleted { .. } => "FlowDeleted",
            Event::FaqSaved { .. } => "FaqSaved",
            Event::FaqDeleted { .. } => "FaqDeleted",
            Event::FaqImported { .. } => "FaqImported",
            Event::FlowStepped { .. } => "FlowStepped",
            Event::FlowCallRequested { .. } => "FlowCallRequested",
            Event::FlowCallAnswered { .. } => "FlowCallAnswered",
            Event::FlowHumanRequested { .. } => "FlowHumanRequested",
            Event::FlowFinished { .. } => "FlowFinished",
            Event::SessionReplyTimeoutSet { .. } => "SessionReplyTimeoutSet",
            Event::SdkTokenIssuedBy { .. } => "SdkTokenIssuedBy",
            Event::GroupQueueLimitsChanged { .. } => "GroupQueueLimitsChanged",
            Event::SessionQueueDeadlineSet { .. } => "SessionQueueDeadlineSet",
            Event::SessionQueueTimedOut { .. } => "SessionQueueTimedOut",
            Event::SessionQueueRefused { .. } => "SessionQueueRefused",
            Event::WebsiteOriginsSet { .. } => "WebsiteOriginsSet",
            Event::WebsiteAppearanceSet { .. } => "WebsiteAppearanceSet",
            Event::SessionReplyReminded { .. } => "SessionReplyReminded",
            Event::ChannelTaskMessagesSet { .. } => "ChannelTaskMessagesSet",
        }
    }

    /// The event with its password, token and key hashes replaced by `"redacted"`, for
    /// exports people read (the log keeps them: sign-in needs them after a restart).
    pub fn redacted(&self) -> Option<Event> {
        const REDACTED: &str = "redacted";
        let mut event = self.clone();
        match &mut event {
            Event::AccountCreated { password_hash, .. }
            | Event::PasswordSet { password_hash, .. } => *password_hash = REDACTED.to_owned(),
            Event::SignedIn { token_hash, .. }
            | Event::SdkTokenIssued { token_hash, .. }
            | Event::SdkTokenIssuedBy { token_hash, .. }
            | Event::SdkTokenUsed { token_hash, .. } => *token_hash = REDACTED.to_owned(),
            Event::ApiKeyCreated { secret_hash, .. } => *secret_hash = REDACTED.to_owned(),
            Event::ImSecretRotated { secret, .. } => *secret = REDACTED.to_owned(),
            _ => return None,
        }
        Some(event)
    }

    /// The highest id this event brings into being, for the id allocator after a replay
    /// (directory resources take their ids from the same counter as agents and groups).
    pub fn allocated_id(&self) -> Option<u64> {
        match self {
            Event::RoleSaved { role } => Some(role.id.0),
            Event::RestReasonSaved { reason } => Some(reason.id.0),
            Event::QuickReplySaved { reply } => Some(reply.id.0),
            Event::QuickRepliesImported { replies } => replies.iter().map(|r| r.id.0).max(),
            Event::SatisfactionSaved { config } => Some(config.id.0),
            Event::ChannelSaved { channel } => Some(channel.id.0),
            Event::ExtensionSaved { extension } => Some(extension.id.0),
            Event::ApiKeyCreated { key, .. } => Some(key.0),
            Event::FlowSaved { flow, .. } => Some(flow.0),
            Event::FaqSaved { entry } => Some(entry.id.0),
            Event::FaqImported { entries } => entries.iter().map(|e| e.id.0).max(),
            _ => None,
        }
    }
}

impl AgentStatus {
    /// The status's name as the seed's SDK spells it (`free`, `busy`, `rest`, `arrange`,
    /// `notReady`, `offline`).
    pub fn as_str(&self) -> &'static str {
        match self {
            AgentStatus::Free => "free",
            AgentStatus::Busy => "busy",
            AgentStatus::Rest { .. } => "rest",
            AgentStatus::Arrange => "arrange",
            AgentStatus::NotReady => "notReady",
            AgentStatus::Offline => "offline",
        }
    }
}

impl CloseBy {
    /// The protocol's spelling (`client`, `seat`, `admin`, `timer`; `flow` for a flow that
    /// ended without a human).
    pub fn as_str(self) -> &'static str {
        match self {
            CloseBy::Client => "client",
            CloseBy::Seat => "seat",
            CloseBy::Admin => "admin",
            CloseBy::Timer => "timer",
            CloseBy::Flow => "flow",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_redact_every_secret_and_nothing_else() {
        let agent = AgentId(20);
        let secrets = [
            Event::AccountCreated {
                agent,
                email: "a@example.com".into(),
                role: RoleId(2),
                password_hash: "$argon2id$x".into(),
                must_change_password: true,
            },
            Event::PasswordSet {
                agent,
                password_hash: "$argon2id$y".into(),
                must_change_password: false,
            },
            Event::SignedIn {
                agent,
                token_hash: "abc".into(),
                expires_at_ms: 1,
            },
            Event::ApiKeyCreated {
                key: ApiKeyId(30),
                name: "crm".into(),
                secret_hash: "def".into(),
            },
            Event::ImSecretRotated {
                secret: "abc".into(),
                previous_valid_until_ms: 0,
            },
            Event::SdkTokenIssued {
                agent,
                token_hash: "abc".into(),
                issued_at_ms: 0,
                expires_at_ms: 1,
            },
            Event::SdkTokenUsed {
                agent,
                token_hash: "abc".into(),
            },
            Event::SdkTokenIssuedBy {
                agent,
                token_hash: "abc".into(),
                issued_at_ms: 0,
                expires_at_ms: 1,
                issuer: Issuer::ApiKey { key: ApiKeyId(30) },
            },
        ];
        for event in secrets {
            let text = serde_json::to_string(&event.redacted().unwrap()).unwrap();
            assert!(text.contains("redacted"), "{text}");
            for secret in ["$argon2id$", "\"abc\"", "\"def\""] {
                assert!(!text.contains(secret), "{text}");
            }
        }
        assert_eq!(Event::AgentDeleted.redacted(), None);
    }
}
