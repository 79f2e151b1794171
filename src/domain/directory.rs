//! The admin directory: everything an administrator configures, as a fold of the log.
//!
//! Accounts (email, role, password hash, the one live login), roles, rest reasons, the
//! proactive-contact rule, quick replies, satisfaction configurations, channels, third-party
//! extensions and API keys, beside a mirror of the agents' profiles and the skill groups with
//! their members. The API reads it to authorize and to answer lists; it writes by appending
//! events, then folding them here with [`Directory::apply`]. The validation of every value an
//! administrator sends lives here too, so every refusal names its field the same way.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use utoipa::ToSchema;

use crate::domain::Rejection;
use crate::domain::event::Event;
use crate::domain::ids::{
    AgentId, ApiKeyId, AppId, ChannelId, ExtensionId, FaqId, FlowId, GroupId, QuickReplyId,
    RestReasonId, RoleId, SatisfactionId, StreamId, StreamKind,
};
use crate::durable;

/// The built-in administrator role: every module, every skill group, and the powers no
/// custom role has (roles, API keys, apps).
pub const ADMINISTRATOR: RoleId = RoleId(1);
/// The built-in agent role: the workstation only, no console module.
pub const AGENT: RoleId = RoleId(2);

/// Longest name of an agent, role, group, channel and the like, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest staff number, in characters.
pub const MAX_STAFF_NO_CHARS: usize = 32;
/// Longest email address, in bytes (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;
/// Longest quick reply title, in characters.
pub const MAX_QUICK_REPLY_TITLE_CHARS: usize = 100;
/// Longest quick reply content, in characters: what an agent sends in one message.
pub const MAX_QUICK_REPLY_CONTENT_CHARS: usize = 2_000;
/// Most quick replies one app holds: the agent's `#` picker lists them all.
pub const MAX_QUICK_REPLIES: usize = 5_000;
/// Longest invitation or thank-you text of a satisfaction configuration, in characters.
pub const MAX_SATISFACTION_TEXT_CHARS: usize = 200;
/// Most rating levels (the seed's 1 to 10).
pub const MAX_RATING_LEVELS: usize = 10;
/// Shortest validity period of a satisfaction invitation.
pub const MIN_SATISFACTION_VALIDITY_SECS: u32 = 60;
/// Longest validity period of a satisfaction invitation (30 days).
pub const MAX_SATISFACTION_VALIDITY_SECS: u32 = 30 * 86_400;
/// Shortest proactive-contact timeout (the seed's range).
pub const MIN_PROACTIVE_TIMEOUT_SECS: u32 = 60;
/// Longest proactive-contact timeout (one day, the seed's range).
pub const MAX_PROACTIVE_TIMEOUT_SECS: u32 = 86_400;
/// Longest URL (extension pages, avatars), in bytes.
pub const MAX_URL_BYTES: usize = 2_048;
/// Longest in-app user id of a virtual number, in bytes.
pub const MAX_USER_ID_BYTES: usize = 64;
/// Most allowed origins of one website channel: the sites that embed it, not a crawl list.
pub const MAX_WEBSITE_ORIGINS: usize = 20;
/// Longest allowed origin (`scheme://host[:port]`), in bytes.
pub const MAX_ORIGIN_BYTES: usize = 256;
/// A website channel's launcher colour until one is set: the desk's own blue (its icon's).
pub const DEFAULT_THEME_COLOR: &str = "#2457c5";
/// Most rest reasons per app: the workstation shows them in one menu.
pub const MAX_REST_REASONS: usize = 50;
/// Most members of one skill group a role's range may name.
pub const MAX_SCOPE_GROUPS: usize = 1_000;

durable! {
    /// A console module a role may use.
    #[derive(Copy, Hash, PartialOrd, Ord, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Module {
        /// Agent management.
        Agents,
        /// Skill group management.
        SkillGroups,
        /// Session service flows.
        Flows,
        /// Channels and their satisfaction configurations.
        Channels,
        /// Settings: routing, reception, rest reasons, proactive rule, quick replies,
        /// third-party extensions.
        Settings,
        /// Online service records.
        ServiceRecords,
        /// Real-time monitoring.
        Monitoring,
        /// Data analysis.
        DataAnalysis,
    }

    /// One module a role may use, and over which skill groups.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ModuleScope {
        /// The module.
        pub module: Module,
        /// The skill groups whose data the role sees in this module; `null` for all.
        pub groups: Option<Vec<GroupId>>,
    }

    /// A custom role.
    #[derive(ToSchema)]
    pub struct Role {
        /// Its id.
        pub id: RoleId,
        /// Display name, unique in the app.
        pub name: String,
        /// The modules it opens.
        pub scopes: Vec<ModuleScope>,
    }

    /// Why an account's login ended.
    #[derive(Copy, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum SignOutCause {
        /// The account signed out.
        SignedOut,
        /// The account signed in somewhere else: one login place per account.
        NewLogin,
        /// The password changed.
        PasswordChanged,
        /// An administrator reset the password.
        PasswordReset,
        /// An administrator forced the agent offline.
        ForcedOffline,
        /// The account was deleted.
        Deleted,
        /// The sign-in reached its expiry (told to its sockets; kept last, so the archived
        /// causes before it keep their numbers).
        Expired,
    }

    /// A reason for a short break.
    #[derive(ToSchema)]
    pub struct RestReason {
        /// Its id.
        pub id: RestReasonId,
        /// The name agents pick.
        pub name: String,
        /// Only enabled reasons are offered to agents.
        pub enabled: bool,
    }

    /// Whether agents may start chats with in-app users, and how long the user has to answer.
    #[derive(Copy, ToSchema)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct ProactiveRule {
        /// Agents may contact users proactively.
        pub enabled: bool,
        /// A proactive session the user never answers ends after this long (60-86400 s).
        #[schema(minimum = 60, maximum = 86400)]
        pub timeout_secs: u32,
    }

    /// A canned answer agents insert with `#`.
    #[derive(ToSchema)]
    pub struct QuickReply {
        /// Its id.
        pub id: QuickReplyId,
        /// The grouping it is filed under ("apologies", "prices"...).
        pub group: String,
        /// The title agents pick it by.
        pub title: String,
        /// The text sent to the user.
        pub content: String,
    }

    /// How a satisfaction rating is drawn.
    #[derive(Copy, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum RatingKind {
        /// Stars (src 9 `type` 1).
        Star,
        /// Numbers (src 9 `type` 2).
        Numeric,
    }

    /// One level of a rating scale.
    #[derive(ToSchema)]
    pub struct RatingLevel {
        /// Its value, 1 to 10 (the src 9 menu id).
        pub value: u8,
        /// Its label ("Very satisfied").
        pub label: String,
    }

    /// When a satisfaction invitation is sent (src 23 `menuSendRuleFlag`).
    #[derive(Copy, Default, ToSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct SendRules {
        /// Invite automatically when the session ends (bit 1).
        pub auto_on_end: bool,
        /// The agent may invite during the session (bit 2).
        pub agent_may_invite: bool,
        /// The user may ask to rate during human service (bit 4).
        pub user_may_rate: bool,
    }

    /// A satisfaction evaluation configuration, bound to channels.
    #[derive(ToSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct SatisfactionConfig {
        /// Its id.
        pub id: SatisfactionId,
        /// Configuration name.
        pub name: String,
        /// Stars or numbers.
        pub kind: RatingKind,
        /// The levels, 1 to 10 of them, values unique and ascending.
        pub levels: Vec<RatingLevel>,
        /// Sent with the invitation (src 9 `head`).
        pub invitation_text: String,
        /// Sent after the rating (src 9 `tail`).
        pub thank_you_text: String,
        /// How long an invitation can be answered.
        pub validity_secs: u32,
        /// When invitations are sent.
        pub send_rules: SendRules,
    }

    /// What kind of entry point a channel is.
    #[derive(ToSchema)]
    #[serde(tag = "type", rename_all = "snake_case")]
    pub enum ChannelKind {
        /// An in-app customer service virtual number: an IM account users write to.
        #[serde(rename_all = "camelCase")]
        InApp {
            /// The virtual number's user id in the app's IM.
            user_id: String,
            /// Its avatar URL (https), if any.
            avatar_url: Option<String>,
            /// The skill group whose agents may contact users through this number.
            proactive_group: Option<GroupId>,
        },
        /// A website channel: the hosted chat page and embed script.
        #[serde(rename_all = "camelCase")]
        Website {
            /// The public id the page and script are served under (`webAppId`).
            web_app_id: String,
        },
    }

    /// Which bottom corner of its host pages a website channel's launcher sits in.
    #[derive(Copy, Default, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum LauncherPosition {
        /// Bottom right (the default).
        #[default]
        BottomRight,
        /// Bottom left.
        BottomLeft,
    }

    /// How a website channel's launcher looks on its sites (set by `WebsiteAppearanceSet`).
    #[derive(ToSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct WebsiteAppearance {
        /// The corner the launcher sits in.
        pub launcher_position: LauncherPosition,
        /// The launcher's colour, `#rrggbb` (lowercase).
        pub theme_color: String,
    }

    /// A channel users write to.
    #[derive(ToSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct Channel {
        /// Its id.
        pub id: ChannelId,
        /// Display name (`${ChannelName}`).
        pub name: String,
        /// In-app number or website.
        pub kind: ChannelKind,
        /// The session service flow a new session runs.
        pub flow: Option<FlowId>,
        /// The skill group a session asks for a human in when no flow is bound.
        pub skill_group: Option<GroupId>,
        /// The satisfaction configuration used.
        pub satisfaction: Option<SatisfactionId>,
    }

    /// A question and answer of the app's FAQ bot.
    #[derive(ToSchema)]
    pub struct FaqEntry {
        /// Its id.
        pub id: FaqId,
        /// The question, as users would ask it (what the bot matches).
        pub question: String,
        /// The answer the bot sends.
        pub answer: String,
    }

    /// A page of another system embedded in the workstation.
    #[derive(ToSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct Extension {
        /// Its id.
        pub id: ExtensionId,
        /// The page name shown on its tab.
        pub name: String,
        /// The page, https only.
        pub url: String,
        /// Shown at all times; otherwise only while a session is open.
        pub always_visible: bool,
        /// Shown at all.
        pub enabled: bool,
    }
}

impl Module {
    /// Every module, in the console's order.
    pub const ALL: [Module; 8] = [
        Module::Agents,
        Module::SkillGroups,
        Module::Flows,
        Module::Channels,
        Module::Settings,
        Module::ServiceRecords,
        Module::Monitoring,
        Module::DataAnalysis,
    ];
}

impl Default for ProactiveRule {
    fn default() -> Self {
        Self {
            enabled: false,
            timeout_secs: 3_600,
        }
    }
}

impl SendRules {
    /// The protocol's bit set (src 23 `menuSendRuleFlag`).
    pub fn flag(self) -> u8 {
        u8::from(self.auto_on_end)
            | u8::from(self.agent_may_invite) << 1
            | u8::from(self.user_may_rate) << 2
    }
}

impl RatingKind {
    /// The protocol's number (src 9 `type`).
    pub fn protocol_type(self) -> u8 {
        match self {
            RatingKind::Star => 1,
            RatingKind::Numeric => 2,
        }
    }
}

/// An account's login: the hash of its bearer token and when it expires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Login {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Expiry, ms since the epoch.
    pub expires_at_ms: i64,
}

/// An agent as the console sees it: profile, account and restrictions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentRecord {
    /// The agent.
    pub id: AgentId,
    /// Full name.
    pub name: String,
    /// Name shown to users.
    pub nickname: String,
    /// Staff number.
    pub staff_no: String,
    /// Login email (lowercase); empty for agents made without an account (engine tests).
    pub email: String,
    /// Role.
    pub role: RoleId,
    /// Argon2id PHC string; empty: no password can match.
    pub password_hash: String,
    /// The next sign-in must change the password first.
    pub must_change_password: bool,
    /// The one live login.
    pub login: Option<Login>,
    /// Forced offline: no login until resumed.
    pub forced_offline: bool,
    /// Deleted: no login ever.
    pub deleted: bool,
}

/// A skill group as the console sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRecord {
    /// The group.
    pub id: GroupId,
    /// Display name.
    pub name: String,
    /// Most sessions one agent serves at once for it.
    pub reception_limit: u32,
    /// Members and their priority (1 highest to 5 lowest).
    pub members: BTreeMap<AgentId, u8>,
    /// Its queue's wait limit and cap.
    pub queue_limits: crate::domain::group::QueueLimits,
}

/// One saved version of a session service flow.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowVersion {
    /// 1, 2, 3...
    pub version: u32,
    /// The flow's name at this version.
    pub name: String,
    /// When it was saved, ms since the epoch.
    pub saved_at_ms: i64,
    /// The graph, as the JSON that was saved.
    pub graph: String,
    /// The graph validated again when folded (none if it no longer passes: sessions cannot
    /// start with it).
    pub flow: Option<Arc<crate::domain::flow::Flow>>,
}

/// A session service flow with every version saved.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowRecord {
    /// The flow.
    pub id: FlowId,
    /// Every version, oldest first (never empty).
    pub versions: Vec<FlowVersion>,
    /// Deleted: hidden from the console; sessions that began with it finish it.
    pub deleted: bool,
}

impl FlowRecord {
    /// The latest version.
    pub fn current(&self) -> &FlowVersion {
        debug_assert!(!self.versions.is_empty(), "a flow has a version");
        &self.versions[self.versions.len() - 1]
    }

    /// A version by number.
    pub fn version(&self, version: u32) -> Option<&FlowVersion> {
        self.versions.iter().find(|v| v.version == version)
    }
}

/// An API key: its name and the hash of its secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    /// Its id.
    pub id: ApiKeyId,
    /// What it is for.
    pub name: String,
    /// SHA-256 of the secret, hex.
    pub secret_hash: String,
}

/// Everything one app's administrators configured.
#[derive(Clone, Debug, Default)]
pub struct AppDirectory {
    /// The app.
    pub id: AppId,
    /// Display name.
    pub name: String,
    /// Agents, deleted ones included (records name them).
    pub agents: BTreeMap<AgentId, AgentRecord>,
    /// Live skill groups.
    pub groups: BTreeMap<GroupId, GroupRecord>,
    /// Custom roles.
    pub roles: BTreeMap<RoleId, Role>,
    /// Rest reasons.
    pub rest_reasons: BTreeMap<RestReasonId, RestReason>,
    /// The proactive-contact rule.
    pub proactive: ProactiveRule,
    /// Quick replies.
    pub quick_replies: BTreeMap<QuickReplyId, QuickReply>,
    /// Satisfaction configurations.
    pub satisfaction: BTreeMap<SatisfactionId, SatisfactionConfig>,
    /// Channels.
    pub channels: BTreeMap<ChannelId, Channel>,
    /// Third-party extensions.
    pub extensions: BTreeMap<ExtensionId, Extension>,
    /// API keys.
    pub api_keys: BTreeMap<ApiKeyId, ApiKey>,
    /// Session service flows, deleted ones included (sessions may still run them).
    pub flows: BTreeMap<FlowId, FlowRecord>,
    /// The FAQ bot's questions and answers.
    pub faq: BTreeMap<FaqId, FaqEntry>,
    /// Changes to `faq` so far: the bot's index is rebuilt when it moved.
    pub faq_version: u64,
    /// The IM secret that signs user tokens, if one was made.
    pub im_secret: Option<String>,
    /// The secret before the last rotation, and until when (ms) it is still accepted.
    pub im_previous_secret: Option<(String, i64)>,
    /// Each website channel's allowed origins (none set: only the desk's own chat page).
    pub website_origins: BTreeMap<ChannelId, Vec<String>>,
    /// Each website channel's launcher appearance (none set: [`WebsiteAppearance::default`]).
    pub website_appearance: BTreeMap<ChannelId, WebsiteAppearance>,
    /// The channels whose flows speak the task shapes (src 32, 33) in place of 15 and 21.
    pub task_messages: BTreeSet<ChannelId>,
}

/// Every app's directory, with the lookups sign-in and authentication need.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    /// Apps by id. Shared copy-on-write: a reader takes an app for the length of a request
    /// without a lock, and a change copies it only while someone still reads the old one.
    pub apps: BTreeMap<AppId, Arc<AppDirectory>>,
    by_token: HashMap<String, (AppId, AgentId)>,
    by_key: HashMap<ApiKeyId, AppId>,
    by_web_app: HashMap<String, (AppId, ChannelId)>,
    by_number: HashMap<(AppId, String), ChannelId>,
    /// The agent SDK's login URLs, of every app.
    pub sdk_tokens: crate::domain::sdk::SdkTokens,
    /// The highest id any directory event allocated.
    pub max_id: u64,
}

/// The skill groups a principal sees in a module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// All of them.
    All,
    /// These only.
    Only(BTreeSet<GroupId>),
}

impl Scope {
    /// Whether `group` is in range.
    pub fn covers(&self, group: GroupId) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(groups) => groups.contains(&group),
        }
    }
}

impl Directory {
    /// Folds one event of any stream; session events are not the directory's and pass by.
    pub fn apply(&mut self, app: AppId, stream: StreamId, event: &Event) {
        if matches!(stream.kind, StreamKind::Session | StreamKind::Conversation) {
            return;
        }
        if let Event::SdkTokenIssued { .. }
        | Event::SdkTokenIssuedBy { .. }
        | Event::SdkTokenUsed { .. } = event
        {
            // Not part of any app's shared snapshot: no copy of it for a URL.
            self.sdk_tokens.apply(app, event);
            return;
        }
        if let Some(id) = event.allocated_id() {
            self.max_id = self.max_id.max(id);
        }
        let dir = Arc::make_mut(self.apps.entry(app).or_insert_with(|| {
            Arc::new(AppDirectory {
                id: app,
                ..AppDirectory::default()
            })
        }));
        match (stream.kind, event) {
            (StreamKind::App, Event::AppCreated { name }) => dir.name.clone_from(name),
            (StreamKind::App, _) => self.apply_app(app, event),
            (StreamKind::Agent, _) => {
                dir.apply_agent(AgentId(stream.id), event, &mut self.by_token)
            }
            (StreamKind::Group, _) => dir.apply_group(GroupId(stream.id), event),
            (StreamKind::Session | StreamKind::Conversation, _) => {}
        }
    }

    fn apply_app(&mut self, app: AppId, event: &Event) {
        let Some(dir) = self.apps.get_mut(&app).map(Arc::make_mut) else {
            return;
        };
        match event {
            Event::RoleSaved { role } => {
                dir.roles.insert(role.id, role.clone());
            }
            Event::RoleDeleted { role } => {
                dir.roles.remove(role);
            }
            Event::AccountCreated {
                agent,
                email,
                role,
                password_hash,
                must_change_password,
            } => {
                if let Some(a) = dir.agents.get_mut(agent) {
                    a.email.clone_from(email);
                    a.role = *role;
                    a.password_hash.clone_from(password_hash);
                    a.must_change_password = *must_change_password;
                }
            }
            Event::AccountProfileChanged {
                agent,
                name,
                nickname,
            } => {
                if let Some(a) = dir.agents.get_mut(agent) {
                    a.name.clone_from(name);
                    a.nickname.clone_from(nickname);
                }
            }
            Event::AccountRoleChanged { agent, role } => {
                if let Some(a) = dir.agents.get_mut(agent) {
                    a.role = *role;
                }
            }
            Event::PasswordSet {
                agent,
                password_hash,
                must_change_password,
            } => {
                if let Some(a) = dir.agents.get_mut(agent) {
                    a.password_hash.clone_from(password_hash);
                    a.must_change_password = *must_change_password;
                }
            }
            Event::SignedIn {
                agent,
                token_hash,
                expires_at_ms,
            } => {
                if let Some(a) = dir.agents.get_mut(agent) {
                    if let Some(old) = a.login.take() {
                        self.by_token.remove(&old.token_hash);
                    }
                    a.login = Some(Login {
                        token_hash: token_hash.clone(),
                        expires_at_ms: *expires_at_ms,
                    });
                    self.by_token.insert(token_hash.clone(), (app, *agent));
                }
            }
            Event::SignedOut { agent, .. } => {
                if let Some(old) = dir.agents.get_mut(agent).and_then(|a| a.login.take()) {
                    self.by_token.remove(&old.token_hash);
                }
            }
            Event::RestReasonSaved { reason } => {
                dir.rest_reasons.insert(reason.id, reason.clone());
            }
            Event::ProactiveRuleChanged { rule } => dir.proactive = *rule,
            Event::QuickReplySaved { reply } => {
                dir.quick_replies.insert(reply.id, reply.clone());
            }
            Event::QuickRepliesImported { replies } => {
                for reply in replies {
                    dir.quick_replies.insert(reply.id, reply.clone());
                }
            }
            Event::QuickReplyDeleted { reply } => {
                dir.quick_replies.remove(reply);
            }
            Event::SatisfactionSaved { config } => {
                dir.satisfaction.insert(config.id, config.clone());
            }
            Event::SatisfactionDeleted { config } => {
                dir.satisfaction.remove(config);
            }
            Event::ChannelSaved { channel } => {
                if let Some(old) = dir.channels.insert(channel.id, channel.clone()) {
                    self.unindex(app, &old);
                }
                match &channel.kind {
                    ChannelKind::Website { web_app_id } => {
                        self.by_web_app
                            .insert(web_app_id.clone(), (app, channel.id));
                    }
                    ChannelKind::InApp { user_id, .. } => {
                        self.by_number.insert((app, user_id.clone()), channel.id);
                    }
                }
            }
            Event::ChannelDeleted { channel } => {
                dir.website_origins.remove(channel);
                dir.website_appearance.remove(channel);
                dir.task_messages.remove(channel);
                if let Some(old) = dir.channels.remove(channel) {
                    self.unindex(app, &old);
                }
            }
            Event::WebsiteOriginsSet { channel, origins } => {
                dir.website_origins.insert(*channel, origins.clone());
            }
            Event::ChannelTaskMessagesSet { channel, on } => {
                if *on {
                    dir.task_messages.insert(*channel);
                } else {
                    dir.task_messages.remove(channel);
                }
            }
            Event::WebsiteAppearanceSet {
                channel,
                launcher_position,
                theme_color,
            } => {
                dir.website_appearance.insert(
                    *channel,
                    WebsiteAppearance {
                        launcher_position: *launcher_position,
                        theme_color: theme_color.clone(),
                    },
                );
            }
            Event::ExtensionSaved { extension } => {
                dir.extensions.insert(extension.id, extension.clone());
            }
            Event::ExtensionDeleted { extension } => {
                dir.extensions.remove(extension);
            }
            Event::ApiKeyCreated {
                key,
                name,
                secret_hash,
            } => {
                dir.api_keys.insert(
                    *key,
                    ApiKey {
                        id: *key,
                        name: name.clone(),
                        secret_hash: secret_hash.clone(),
                    },
                );
                self.by_key.insert(*key, app);
            }
            Event::ApiKeyRevoked { key } => {
                dir.api_keys.remove(key);
                self.by_key.remove(key);
            }
            Event::FlowSaved {
                flow,
                name,
                version,
                graph,
                saved_at_ms,
            } => {
                let graph = crate::domain::flow::saved_graph(graph);
                let parsed = match crate::domain::flow::parse(&graph) {
                    Ok(f) => Some(Arc::new(f)),
                    Err(errors) => {
                        tracing::warn!(%flow, version, ?errors, "a saved flow no longer validates");
                        None
                    }
                };
                let record = dir.flows.entry(*flow).or_insert_with(|| FlowRecord {
                    id: *flow,
                    versions: Vec::new(),
                    deleted: false,
                });
                record.versions.push(FlowVersion {
                    version: *version,
                    name: name.clone(),
                    saved_at_ms: *saved_at_ms,
                    graph: graph.into_owned(),
                    flow: parsed,
                });
            }
            Event::FlowDeleted { flow } => {
                if let Some(record) = dir.flows.get_mut(flow) {
                    record.deleted = true;
                }
            }
            Event::FaqSaved { entry } => {
                dir.faq.insert(entry.id, entry.clone());
                dir.faq_version += 1;
            }
            Event::FaqDeleted { entry } => {
                dir.faq.remove(entry);
                dir.faq_version += 1;
            }
            Event::FaqImported { entries } => {
                for entry in entries {
                    dir.faq.insert(entry.id, entry.clone());
                }
                dir.faq_version += 1;
            }
            Event::ImSecretRotated {
                secret,
                previous_valid_until_ms,
            } => {
                dir.im_previous_secret = dir
                    .im_secret
                    .replace(secret.clone())
                    .map(|old| (old, *previous_valid_until_ms));
            }
            // Settings are the engine's (and `World`'s); the directory has no copy.
            _ => {}
        }
    }

    fn unindex(&mut self, app: AppId, channel: &Channel) {
        match &channel.kind {
            ChannelKind::Website { web_app_id } => {
                self.by_web_app.remove(web_app_id);
            }
            ChannelKind::InApp { user_id, .. } => {
                self.by_number.remove(&(app, user_id.clone()));
            }
        }
    }

    /// The in-app channel whose virtual number is `user_id`.
    pub fn virtual_number(&self, app: AppId, user_id: &str) -> Option<ChannelId> {
        self.by_number.get(&(app, user_id.to_owned())).copied()
    }

    /// An app's directory.
    pub fn app(&self, app: AppId) -> Option<&AppDirectory> {
        self.apps.get(&app).map(|d| &**d)
    }

    /// An app's directory, shared.
    pub fn shared(&self, app: AppId) -> Option<Arc<AppDirectory>> {
        self.apps.get(&app).cloned()
    }

    /// The account a token hash signs in, when the login is live at `now_ms`.
    pub fn by_token(&self, token_hash: &str, now_ms: i64) -> Option<(AppId, &AgentRecord)> {
        let (app, agent) = self.by_token.get(token_hash)?;
        let record = self.apps.get(app)?.agents.get(agent)?;
        let login = record.login.as_ref()?;
        (login.token_hash == token_hash && now_ms < login.expires_at_ms).then_some((*app, record))
    }

    /// The app an API key belongs to, with the key.
    pub fn api_key(&self, key: ApiKeyId) -> Option<(AppId, &ApiKey)> {
        let app = *self.by_key.get(&key)?;
        Some((app, self.apps.get(&app)?.api_keys.get(&key)?))
    }

    /// The website channel served under `web_app_id`.
    pub fn website(&self, web_app_id: &str) -> Option<(AppId, &Channel)> {
        let (app, channel) = self.by_web_app.get(web_app_id)?;
        Some((*app, self.apps.get(app)?.channels.get(channel)?))
    }

    /// The apps where `email` has a live account.
    pub fn accounts_by_email(&self, email: &str) -> Vec<(AppId, AgentId)> {
        let email = email.trim().to_lowercase();
        self.apps
            .values()
            .filter_map(|d| d.account_by_email(&email).map(|a| (d.id, a.id)))
            .collect()
    }
}

impl Default for WebsiteAppearance {
    fn default() -> Self {
        Self {
            launcher_position: LauncherPosition::default(),
            theme_color: DEFAULT_THEME_COLOR.to_owned(),
        }
    }
}

impl AppDirectory {
    /// A website channel's launcher appearance, the defaults when none was set.
    pub fn appearance(&self, channel: ChannelId) -> WebsiteAppearance {
        self.website_appearance
            .get(&channel)
            .cloned()
            .unwrap_or_default()
    }

    fn apply_agent(
        &mut self,
        agent: AgentId,
        event: &Event,
        by_token: &mut HashMap<String, (AppId, AgentId)>,
    ) {
        match event {
            Event::AgentCreated {
                name,
                nickname,
                staff_no,
            } => {
                self.agents.insert(
                    agent,
                    AgentRecord {
                        id: agent,
                        name: name.clone(),
                        nickname: nickname.clone(),
                        staff_no: staff_no.clone(),
                        email: String::new(),
                        role: AGENT,
                        password_hash: String::new(),
                        must_change_password: false,
                        login: None,
                        forced_offline: false,
                        deleted: false,
                    },
                );
            }
            Event::AgentForcedOffline | Event::AgentResumed | Event::AgentDeleted => {
                let Some(a) = self.agents.get_mut(&agent) else {
                    return;
                };
                match event {
                    Event::AgentForcedOffline => a.forced_offline = true,
                    Event::AgentResumed => a.forced_offline = false,
                    _ => {
                        a.deleted = true;
                        for g in self.groups.values_mut() {
                            g.members.remove(&agent);
                        }
                    }
                }
                if matches!(event, Event::AgentForcedOffline | Event::AgentDeleted)
                    && let Some(old) = a.login.take()
                {
                    by_token.remove(&old.token_hash);
                }
            }
            _ => {}
        }
    }

    fn apply_group(&mut self, group: GroupId, event: &Event) {
        match event {
            Event::GroupCreated {
                name,
                reception_limit,
            } => {
                self.groups.insert(
                    group,
                    GroupRecord {
                        id: group,
                        name: name.clone(),
                        reception_limit: *reception_limit,
                        members: BTreeMap::new(),
                        queue_limits: Default::default(),
                    },
                );
            }
            Event::GroupDeleted => {
                self.groups.remove(&group);
                for role in self.roles.values_mut() {
                    for scope in &mut role.scopes {
                        if let Some(groups) = &mut scope.groups {
                            groups.retain(|g| *g != group);
                        }
                    }
                }
            }
            _ => {
                let Some(g) = self.groups.get_mut(&group) else {
                    return;
                };
                match event {
                    Event::GroupRenamed { name } => g.name.clone_from(name),
                    Event::GroupReceptionLimitChanged { reception_limit } => {
                        g.reception_limit = *reception_limit
                    }
                    Event::MemberAdded { agent, priority }
                    | Event::MemberPriorityChanged { agent, priority } => {
                        g.members.insert(*agent, *priority);
                    }
                    Event::MemberRemoved { agent } => {
                        g.members.remove(agent);
                    }
                    Event::GroupQueueLimitsChanged { .. } => {
                        if let Some(limits) = crate::domain::group::QueueLimits::of(event) {
                            g.queue_limits = limits;
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// The secrets user tokens may be signed with at `now_ms`: the current one, and the
    /// previous one during its grace period.
    pub fn im_secrets(&self, now_ms: i64) -> Vec<Vec<u8>> {
        let previous = self
            .im_previous_secret
            .iter()
            .filter(|(_, until)| now_ms < *until)
            .map(|(s, _)| s);
        self.im_secret
            .iter()
            .chain(previous)
            .map(|s| s.as_bytes().to_vec())
            .collect()
    }

    /// The live account signing in with `email` (lowercase).
    pub fn account_by_email(&self, email: &str) -> Option<&AgentRecord> {
        self.agents
            .values()
            .find(|a| !a.deleted && !a.email.is_empty() && a.email == email)
    }

    /// A live (not deleted) agent.
    pub fn live_agent(&self, agent: AgentId) -> Option<&AgentRecord> {
        self.agents.get(&agent).filter(|a| !a.deleted)
    }

    /// The skill groups an agent is a member of.
    pub fn groups_of(&self, agent: AgentId) -> impl Iterator<Item = &GroupRecord> {
        self.groups
            .values()
            .filter(move |g| g.members.contains_key(&agent))
    }

    /// The name of a role, built-in or custom.
    pub fn role_name(&self, role: RoleId) -> Option<&str> {
        match role {
            ADMINISTRATOR => Some("administrator"),
            AGENT => Some("agent"),
            other => self.roles.get(&other).map(|r| r.name.as_str()),
        }
    }

    /// A role by name (built-ins included), case-insensitively.
    pub fn role_by_name(&self, name: &str) -> Option<RoleId> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("administrator") {
            return Some(ADMINISTRATOR);
        }
        if name.eq_ignore_ascii_case("agent") {
            return Some(AGENT);
        }
        self.roles
            .values()
            .find(|r| r.name.eq_ignore_ascii_case(name))
            .map(|r| r.id)
    }

    /// Which skill groups `role` sees in `module`, or `None` when the module is closed to it.
    pub fn scope(&self, role: RoleId, module: Module) -> Option<Scope> {
        match role {
            ADMINISTRATOR => Some(Scope::All),
            AGENT => None,
            other => {
                let role = self.roles.get(&other)?;
                let scope = role.scopes.iter().find(|s| s.module == module)?;
                Some(match &scope.groups {
                    None => Scope::All,
                    Some(groups) => Scope::Only(groups.iter().copied().collect()),
                })
            }
        }
    }

    /// Whether an agent is visible in `scope`: all agents for `All`, otherwise the members
    /// of a group in range.
    pub fn agent_in_scope(&self, agent: AgentId, scope: &Scope) -> bool {
        match scope {
            Scope::All => true,
            Scope::Only(_) => self.groups_of(agent).any(|g| scope.covers(g.id)),
        }
    }

    /// Whether an email is taken by a live account, except by `except`.
    pub fn email_taken(&self, email: &str, except: Option<AgentId>) -> bool {
        self.agents
            .values()
            .any(|a| !a.deleted && a.email == email && Some(a.id) != except)
    }

    /// Whether a staff number is taken by a live agent.
    pub fn staff_no_taken(&self, staff_no: &str) -> bool {
        self.agents
            .values()
            .any(|a| !a.deleted && a.staff_no == staff_no)
    }

    /// The channels bound to a satisfaction configuration.
    pub fn channels_using_satisfaction(&self, config: SatisfactionId) -> Vec<ChannelId> {
        self.channels
            .values()
            .filter(|c| c.satisfaction == Some(config))
            .map(|c| c.id)
            .collect()
    }

    /// A live (not deleted) flow.
    pub fn live_flow(&self, flow: FlowId) -> Option<&FlowRecord> {
        self.flows.get(&flow).filter(|f| !f.deleted)
    }

    /// The channels bound to a flow.
    pub fn channels_using_flow(&self, flow: FlowId) -> Vec<ChannelId> {
        self.channels
            .values()
            .filter(|c| c.flow == Some(flow))
            .map(|c| c.id)
            .collect()
    }

    /// The live flows whose latest version hands sessions to a skill group.
    pub fn flows_using_group(&self, group: GroupId) -> Vec<FlowId> {
        self.flows
            .values()
            .filter(|f| !f.deleted)
            .filter(|f| {
                f.current().flow.as_ref().is_some_and(|flow| {
                    flow.graph.nodes.iter().any(|n| {
                        matches!(n.module, crate::domain::flow::Module::TransferToAgent { group: g, .. } if g == group)
                    })
                })
            })
            .map(|f| f.id)
            .collect()
    }

    /// The channels that name a skill group.
    pub fn channels_using_group(&self, group: GroupId) -> Vec<ChannelId> {
        self.channels
            .values()
            .filter(|c| {
                c.skill_group == Some(group)
                    || matches!(c.kind, ChannelKind::InApp { proactive_group: Some(g), .. } if g == group)
            })
            .map(|c| c.id)
            .collect()
    }
}

// ---- validation: each refusal names the field as the API spells it ----

fn chars_between(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), Rejection> {
    let chars = value.chars().count();
    if chars < min || chars > max {
        return Err(Rejection::invalid(
            field,
            format!("must be {min} to {max} characters, got {chars}"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Rejection::invalid(
            field,
            "must not hold control characters",
        ));
    }
    Ok(())
}

/// A display name: 1 to [`MAX_NAME_CHARS`] characters after trimming, on one line.
pub fn validate_name(field: &'static str, name: &str) -> Result<(), Rejection> {
    chars_between(field, name.trim(), 1, MAX_NAME_CHARS)?;
    if name.contains('\n') {
        return Err(Rejection::invalid(field, "must be one line"));
    }
    Ok(())
}

/// A staff number: 1 to [`MAX_STAFF_NO_CHARS`] letters, digits, `-`, `_` or `.`.
pub fn validate_staff_no(staff_no: &str) -> Result<(), Rejection> {
    let chars = staff_no.chars().count();
    if chars == 0 || chars > MAX_STAFF_NO_CHARS {
        return Err(Rejection::invalid(
            "staffNo",
            format!("must be 1 to {MAX_STAFF_NO_CHARS} characters, got {chars}"),
        ));
    }
    if let Some(c) = staff_no
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(Rejection::invalid(
            "staffNo",
            format!("{c:?} is not a letter, digit, '-', '_' or '.'"),
        ));
    }
    Ok(())
}

/// An email address, returned in the lowercase form accounts are kept and matched in.
pub fn normalize_email(email: &str) -> Result<String, Rejection> {
    let email = email.trim().to_lowercase();
    if email.is_empty() || email.len() > MAX_EMAIL_BYTES {
        return Err(Rejection::invalid(
            "email",
            format!("must be 1 to {MAX_EMAIL_BYTES} bytes"),
        ));
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(Rejection::invalid("email", "has no '@'"));
    };
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\@".contains(c);
    if local.is_empty() || local.len() > 64 || local.chars().any(bad_char) {
        return Err(Rejection::invalid(
            "email",
            format!("{email:?} has an invalid local part"),
        ));
    }
    let labels_ok = domain.split('.').count() >= 2
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if !labels_ok {
        return Err(Rejection::invalid(
            "email",
            format!("{email:?} has an invalid domain"),
        ));
    }
    Ok(email)
}

/// A URL the console stores: https only, with a host, at most [`MAX_URL_BYTES`].
pub fn validate_https_url(field: &'static str, raw: &str) -> Result<(), Rejection> {
    if raw.len() > MAX_URL_BYTES {
        return Err(Rejection::invalid(
            field,
            format!("longer than {MAX_URL_BYTES} bytes"),
        ));
    }
    let url =
        url::Url::parse(raw).map_err(|e| Rejection::invalid(field, format!("not a URL: {e}")))?;
    if url.scheme() != "https" {
        return Err(Rejection::invalid(
            field,
            format!("must use https, not {}", url.scheme()),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Rejection::invalid(field, "has no host"));
    }
    if url.username() != "" || url.password().is_some() {
        return Err(Rejection::invalid(field, "must not carry credentials"));
    }
    Ok(())
}

/// A role's scopes: each module once, group ranges naming live groups of the app.
pub fn validate_scopes(dir: &AppDirectory, scopes: &[ModuleScope]) -> Result<(), Rejection> {
    let mut seen = BTreeSet::new();
    for scope in scopes {
        if !seen.insert(scope.module) {
            return Err(Rejection::invalid(
                "scopes",
                format!("module {:?} is listed twice", scope.module),
            ));
        }
        if let Some(groups) = &scope.groups {
            if groups.len() > MAX_SCOPE_GROUPS {
                return Err(Rejection::invalid(
                    "scopes.groups",
                    format!("more than {MAX_SCOPE_GROUPS} groups"),
                ));
            }
            if let Some(g) = groups.iter().find(|g| !dir.groups.contains_key(g)) {
                return Err(Rejection::invalid(
                    "scopes.groups",
                    format!("{g} does not exist"),
                ));
            }
        }
    }
    Ok(())
}

/// A role name: valid, not a built-in's, not another role's.
pub fn validate_role_name(
    dir: &AppDirectory,
    name: &str,
    except: Option<RoleId>,
) -> Result<(), Rejection> {
    validate_name("name", name)?;
    match dir.role_by_name(name) {
        Some(id) if Some(id) != except => Err(Rejection::invalid(
            "name",
            format!("a role named {:?} exists", name.trim()),
        )),
        _ => Ok(()),
    }
}

/// The proactive-contact rule's timeout range.
pub fn validate_proactive(rule: &ProactiveRule) -> Result<(), Rejection> {
    if !(MIN_PROACTIVE_TIMEOUT_SECS..=MAX_PROACTIVE_TIMEOUT_SECS).contains(&rule.timeout_secs) {
        return Err(Rejection::invalid(
            "timeoutSecs",
            format!(
                "{} is not between {MIN_PROACTIVE_TIMEOUT_SECS} and {MAX_PROACTIVE_TIMEOUT_SECS} seconds",
                rule.timeout_secs
            ),
        ));
    }
    Ok(())
}

/// A quick reply's fields.
pub fn validate_quick_reply(group: &str, title: &str, content: &str) -> Result<(), Rejection> {
    validate_name("group", group)?;
    chars_between("title", title.trim(), 1, MAX_QUICK_REPLY_TITLE_CHARS)?;
    chars_between("content", content.trim(), 1, MAX_QUICK_REPLY_CONTENT_CHARS)
}

/// A satisfaction configuration's fields (its id aside).
pub fn validate_satisfaction(config: &SatisfactionConfig) -> Result<(), Rejection> {
    validate_name("name", &config.name)?;
    let n = config.levels.len();
    if n == 0 || n > MAX_RATING_LEVELS {
        return Err(Rejection::invalid(
            "levels",
            format!("must hold 1 to {MAX_RATING_LEVELS} levels, got {n}"),
        ));
    }
    let mut last = 0u8;
    for level in &config.levels {
        if !(1..=MAX_RATING_LEVELS as u8).contains(&level.value) {
            return Err(Rejection::invalid(
                "levels.value",
                format!("{} is not between 1 and {MAX_RATING_LEVELS}", level.value),
            ));
        }
        if level.value <= last {
            return Err(Rejection::invalid(
                "levels.value",
                "values must be unique and ascending",
            ));
        }
        last = level.value;
        validate_name("levels.label", &level.label)?;
    }
    chars_between(
        "invitationText",
        config.invitation_text.trim(),
        1,
        MAX_SATISFACTION_TEXT_CHARS,
    )?;
    chars_between(
        "thankYouText",
        config.thank_you_text.trim(),
        1,
        MAX_SATISFACTION_TEXT_CHARS,
    )?;
    if !(MIN_SATISFACTION_VALIDITY_SECS..=MAX_SATISFACTION_VALIDITY_SECS)
        .contains(&config.validity_secs)
    {
        return Err(Rejection::invalid(
            "validitySecs",
            format!(
                "{} is not between {MIN_SATISFACTION_VALIDITY_SECS} and {MAX_SATISFACTION_VALIDITY_SECS} seconds",
                config.validity_secs
            ),
        ));
    }
    Ok(())
}

/// A website channel's allowed origins as browsers send `Origin`: each an http(s) origin
/// (`scheme://host[:port]`, no path), lowercased, without duplicates.
pub fn normalize_origins(origins: &[String]) -> Result<Vec<String>, Rejection> {
    const FIELD: &str = "allowedOrigins";
    if origins.len() > MAX_WEBSITE_ORIGINS {
        return Err(Rejection::invalid(
            FIELD,
            format!("at most {MAX_WEBSITE_ORIGINS} origins"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(origins.len());
    for raw in origins {
        let bad = |why: &str| Rejection::invalid(FIELD, format!("{raw:?} {why}"));
        if raw.len() > MAX_ORIGIN_BYTES {
            return Err(bad(&format!("is over {MAX_ORIGIN_BYTES} bytes")));
        }
        let url = url::Url::parse(raw.trim()).map_err(|e| bad(&format!("is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(bad("is not an http or https origin"));
        }
        let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
        if !bare || !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "must be scheme://host[:port] alone, as browsers send Origin",
            ));
        }
        let origin = url.origin().ascii_serialization();
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    Ok(out)
}

/// A launcher colour as the log keeps it: `#rrggbb`, lowercase (what `<input type=color>`
/// gives); anything else, named colours and `#rgb` included, is refused.
pub fn normalize_theme_color(color: &str) -> Result<String, Rejection> {
    let color = color.trim();
    let hex = color.strip_prefix('#').unwrap_or("");
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Rejection::invalid(
            "themeColor",
            format!("{color:?} is not a colour written #rrggbb"),
        ));
    }
    Ok(format!("#{}", hex.to_ascii_lowercase()))
}

/// A channel's fields against the app: names, references to live groups and
/// configurations, a unique virtual number.
pub fn validate_channel(dir: &AppDirectory, channel: &Channel) -> Result<(), Rejection> {
    validate_name("name", &channel.name)?;
    if let Some(flow) = channel.flow
        && dir.live_flow(flow).is_none()
    {
        return Err(Rejection::invalid("flow", format!("{flow} does not exist")));
    }
    if let Some(g) = channel.skill_group
        && !dir.groups.contains_key(&g)
    {
        return Err(Rejection::invalid(
            "skillGroup",
            format!("{g} does not exist"),
        ));
    }
    if let Some(s) = channel.satisfaction
        && !dir.satisfaction.contains_key(&s)
    {
        return Err(Rejection::invalid(
            "satisfaction",
            format!("{s} does not exist"),
        ));
    }
    if let ChannelKind::InApp {
        user_id,
        avatar_url,
        proactive_group,
    } = &channel.kind
    {
        if user_id.is_empty()
            || user_id.len() > MAX_USER_ID_BYTES
            || user_id.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Rejection::invalid(
                "kind.userId",
                format!("must be 1 to {MAX_USER_ID_BYTES} bytes with no spaces"),
            ));
        }
        let taken = dir.channels.values().any(|c| {
            c.id != channel.id
                && matches!(&c.kind, ChannelKind::InApp { user_id: other, .. } if other == user_id)
        });
        if taken {
            return Err(Rejection::invalid(
                "kind.userId",
                format!("{user_id:?} is another virtual number's"),
            ));
        }
        if let Some(url) = avatar_url {
            validate_https_url("kind.avatarUrl", url)?;
        }
        if let Some(g) = proactive_group
            && !dir.groups.contains_key(g)
        {
            return Err(Rejection::invalid(
                "kind.proactiveGroup",
                format!("{g} does not exist"),
            ));
        }
    }
    Ok(())
}

/// An extension's fields.
pub fn validate_extension(extension: &Extension) -> Result<(), Rejection> {
    validate_name("name", &extension.name)?;
    validate_https_url("url", &extension.url)
}

/// A rest reason's name, unique in the app.
pub fn validate_rest_reason(
    dir: &AppDirectory,
    name: &str,
    except: Option<RestReasonId>,
) -> Result<(), Rejection> {
    validate_name("name", name)?;
    let clash = dir
        .rest_reasons
        .values()
        .any(|r| Some(r.id) != except && r.name.eq_ignore_ascii_case(name.trim()));
    if clash {
        return Err(Rejection::invalid(
            "name",
            format!("a rest reason named {:?} exists", name.trim()),
        ));
    }
    if except.is_none() && dir.rest_reasons.len() >= MAX_REST_REASONS {
        return Err(Rejection::conflict(format_args!(
            "the app has {MAX_REST_REASONS} rest reasons, the most it may hold"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> AppId {
        AppId(1)
    }

    #[test]
    fn allowed_origins_are_read_as_browsers_send_origin() {
        let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            normalize_origins(&list(&[
                "https://Shop.Example.com",
                "https://shop.example.com/",
                "http://localhost:8080"
            ]))
            .unwrap(),
            list(&["https://shop.example.com", "http://localhost:8080"])
        );
        for bad in [
            "shop.example.com",
            "ftp://shop.example.com",
            "https://shop.example.com/cart",
            "https://shop.example.com?x=1",
            "https://user@shop.example.com",
        ] {
            let e = normalize_origins(&list(&[bad])).unwrap_err();
            assert_eq!(e.field(), Some("allowedOrigins"), "{bad}");
        }
        let many: Vec<String> = (0..=MAX_WEBSITE_ORIGINS)
            .map(|i| format!("https://s{i}.example.com"))
            .collect();
        assert!(normalize_origins(&many).is_err());
    }

    #[test]
    fn a_website_channels_origins_fold_in_and_go_with_the_channel() {
        let mut d = Directory::default();
        let channel = ChannelId(5);
        let origins = vec!["https://shop.example.com".to_owned()];
        d.apply(
            app(),
            StreamId::app(app()),
            &Event::WebsiteOriginsSet {
                channel,
                origins: origins.clone(),
            },
        );
        assert_eq!(
            d.app(app()).unwrap().website_origins.get(&channel),
            Some(&origins)
        );
        d.apply(
            app(),
            StreamId::app(app()),
            &Event::ChannelDeleted { channel },
        );
        assert!(d.app(app()).unwrap().website_origins.is_empty());
    }

    #[test]
    fn a_theme_color_is_kept_as_rrggbb_lowercase_and_nothing_else() {
        assert_eq!(normalize_theme_color(" #A1b2C3 ").unwrap(), "#a1b2c3");
        for bad in [
            "",
            "#fff",
            "a1b2c3",
            "#a1b2c",
            "#a1b2c3d",
            "#gggggg",
            "red",
            "#a1b2c3ff",
        ] {
            let e = normalize_theme_color(bad).unwrap_err();
            assert_eq!(e.field(), Some("themeColor"), "{bad:?}");
        }
    }

    #[test]
    fn a_website_channels_appearance_defaults_folds_in_and_goes_with_the_channel() {
        let mut d = Directory::default();
        let channel = ChannelId(5);
        d.apply(
            app(),
            StreamId::app(app()),
            &Event::AppCreated { name: "a".into() },
        );
        let fresh = d.app(app()).unwrap().appearance(channel);
        assert_eq!(
            (fresh.launcher_position, fresh.theme_color.as_str()),
            (LauncherPosition::BottomRight, DEFAULT_THEME_COLOR)
        );
        d.apply(
            app(),
            StreamId::app(app()),
            &Event::WebsiteAppearanceSet {
                channel,
                launcher_position: LauncherPosition::BottomLeft,
                theme_color: "#112233".into(),
            },
        );
        assert_eq!(
            d.app(app()).unwrap().appearance(channel),
            WebsiteAppearance {
                launcher_position: LauncherPosition::BottomLeft,
                theme_color: "#112233".into(),
            }
        );
        d.apply(
            app(),
            StreamId::app(app()),
            &Event::ChannelDeleted { channel },
        );
        assert!(d.app(app()).unwrap().website_appearance.is_empty());
    }

    fn with_agent_and_group() -> Directory {
        let mut d = Directory::default();
        d.apply(
            app(),
            StreamId::app(app()),
            &Event::AppCreated { name: "a".into() },
        );
        d.apply(
            app(),
            StreamId::agent(AgentId(20)),
            &Event::AgentCreated {
                name: "Ann".into(),
                nickname: "ann".into(),
                staff_no: "7".into(),
            },
        );
        d.apply(
            app(),
            StreamId::app(app()),
            &Event::AccountCreated {
                agent: AgentId(20),
                email: "ann@example.com".into(),
                role: AGENT,
                password_hash: "h".into(),
                must_change_password: true,
            },
        );
        d.apply(
            app(),
            StreamId::group(GroupId(30)),
            &Event::GroupCreated {
                name: "presales".into(),
                reception_limit: 3,
            },
        );
        d.apply(
            app(),
            StreamId::group(GroupId(30)),
            &Event::MemberAdded {
                agent: AgentId(20),
                priority: 3,
            },
        );
        d
    }

    #[test]
    fn a_new_login_replaces_the_old_token() {
        let mut d = with_agent_and_group();
        let sign_in = |token: &str| Event::SignedIn {
            agent: AgentId(20),
            token_hash: token.into(),
            expires_at_ms: 1_000,
        };
        d.apply(app(), StreamId::app(app()), &sign_in("t1"));
        assert!(d.by_token("t1", 0).is_some());
        d.apply(app(), StreamId::app(app()), &sign_in("t2"));
        assert!(d.by_token("t1", 0).is_none(), "the first login ended");
        assert_eq!(d.by_token("t2", 0).map(|(_, a)| a.id), Some(AgentId(20)));
        assert!(d.by_token("t2", 1_000).is_none(), "expired at its deadline");
    }

    #[test]
    fn forced_offline_and_delete_end_the_login() {
        for event in [Event::AgentForcedOffline, Event::AgentDeleted] {
            let mut d = with_agent_and_group();
            d.apply(
                app(),
                StreamId::app(app()),
                &Event::SignedIn {
                    agent: AgentId(20),
                    token_hash: "t".into(),
                    expires_at_ms: 1_000,
                },
            );
            d.apply(app(), StreamId::agent(AgentId(20)), &event);
            assert!(d.by_token("t", 0).is_none(), "{event:?}");
        }
    }

    #[test]
    fn deleting_a_group_keeps_its_members_and_narrows_role_ranges() {
        let mut d = with_agent_and_group();
        d.apply(
            app(),
            StreamId::app(app()),
            &Event::RoleSaved {
                role: Role {
                    id: RoleId(40),
                    name: "lead".into(),
                    scopes: vec![ModuleScope {
                        module: Module::Agents,
                        groups: Some(vec![GroupId(30)]),
                    }],
                },
            },
        );
        let dir = d.app(app()).unwrap();
        assert!(dir.agent_in_scope(AgentId(20), &dir.scope(RoleId(40), Module::Agents).unwrap()));
        d.apply(app(), StreamId::group(GroupId(30)), &Event::GroupDeleted);
        let dir = d.app(app()).unwrap();
        assert!(dir.live_agent(AgentId(20)).is_some());
        assert_eq!(
            dir.scope(RoleId(40), Module::Agents),
            Some(Scope::Only(BTreeSet::new()))
        );
        assert!(!dir.agent_in_scope(AgentId(20), &dir.scope(RoleId(40), Module::Agents).unwrap()));
        assert_eq!(dir.scope(RoleId(40), Module::Settings), None);
        assert_eq!(d.max_id, 40);
    }

    #[test]
    fn the_previous_im_secret_holds_for_its_grace_period() {
        let mut d = with_agent_and_group();
        let rotate = |secret: &str, until: i64| Event::ImSecretRotated {
            secret: secret.into(),
            previous_valid_until_ms: until,
        };
        assert!(d.app(app()).unwrap().im_secrets(0).is_empty());
        d.apply(app(), StreamId::app(app()), &rotate("one", 0));
        assert_eq!(d.app(app()).unwrap().im_secrets(0), vec![b"one".to_vec()]);
        d.apply(app(), StreamId::app(app()), &rotate("two", 1_000));
        let dir = d.app(app()).unwrap();
        assert_eq!(dir.im_secrets(999), vec![b"two".to_vec(), b"one".to_vec()]);
        assert_eq!(dir.im_secrets(1_000), vec![b"two".to_vec()]);
    }

    #[test]
    fn built_in_roles() {
        let d = with_agent_and_group();
        let dir = d.app(app()).unwrap();
        assert_eq!(dir.scope(ADMINISTRATOR, Module::Flows), Some(Scope::All));
        assert_eq!(dir.scope(AGENT, Module::Agents), None);
        assert_eq!(dir.role_by_name("Administrator"), Some(ADMINISTRATOR));
        assert_eq!(dir.role_name(AGENT), Some("agent"));
    }

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            normalize_email(" Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.com",
            "a b@x.com",
            "ann@x",
            "ann@-x.com",
            "a@x..com",
        ] {
            assert_eq!(
                normalize_email(bad).unwrap_err().field(),
                Some("email"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn urls_must_be_https() {
        validate_https_url("url", "https://tickets.example.com/list/").unwrap();
        for bad in [
            "http://x.com",
            "ftp://x.com",
            "x.com",
            "https://u:p@x.com",
            "javascript:alert(1)",
        ] {
            assert_eq!(
                validate_https_url("url", bad).unwrap_err().field(),
                Some("url"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn staff_numbers() {
        validate_staff_no("A-100_2.b").unwrap();
        for bad in ["", "a b", "ü", &"1".repeat(33)] {
            assert_eq!(validate_staff_no(bad).unwrap_err().field(), Some("staffNo"));
        }
    }

    #[test]
    fn satisfaction_levels_are_checked() {
        let mut c = SatisfactionConfig {
            id: SatisfactionId(50),
            name: "stars".into(),
            kind: RatingKind::Star,
            levels: (1..=5)
                .map(|v| RatingLevel {
                    value: v,
                    label: format!("{v} stars"),
                })
                .collect(),
            invitation_text: "Please rate".into(),
            thank_you_text: "Thanks".into(),
            validity_secs: 3_600,
            send_rules: SendRules::default(),
        };
        validate_satisfaction(&c).unwrap();
        c.levels[1].value = 1;
        assert_eq!(
            validate_satisfaction(&c).unwrap_err().field(),
            Some("levels.value")
        );
        c.levels.clear();
        assert_eq!(
            validate_satisfaction(&c).unwrap_err().field(),
            Some("levels")
        );
        c.levels = vec![RatingLevel {
            value: 11,
            label: "x".into(),
        }];
        assert_eq!(
            validate_satisfaction(&c).unwrap_err().field(),
            Some("levels.value")
        );
        c.levels[0].value = 10;
        c.validity_secs = 59;
        assert_eq!(
            validate_satisfaction(&c).unwrap_err().field(),
            Some("validitySecs")
        );
    }

    #[test]
    fn send_rule_bits_match_the_protocol() {
        let all = SendRules {
            auto_on_end: true,
            agent_may_invite: true,
            user_may_rate: true,
        };
        assert_eq!(all.flag(), 7);
        let user = SendRules {
            user_may_rate: true,
            ..SendRules::default()
        };
        assert_eq!(user.flag(), 4);
    }

    #[test]
    fn proactive_timeout_range() {
        for ok in [60, 86_400] {
            validate_proactive(&ProactiveRule {
                enabled: true,
                timeout_secs: ok,
            })
            .unwrap();
        }
        for bad in [0, 59, 86_401] {
            let err = validate_proactive(&ProactiveRule {
                enabled: true,
                timeout_secs: bad,
            });
            assert_eq!(err.unwrap_err().field(), Some("timeoutSecs"));
        }
    }

    #[test]
    fn channels_refer_to_live_things_and_numbers_are_unique() {
        let mut d = with_agent_and_group();
        let number = |id: u64, user: &str| Channel {
            id: ChannelId(id),
            name: "support".into(),
            kind: ChannelKind::InApp {
                user_id: user.into(),
                avatar_url: None,
                proactive_group: Some(GroupId(30)),
            },
            flow: None,
            skill_group: Some(GroupId(30)),
            satisfaction: None,
        };
        let dir = d.app(app()).unwrap();
        validate_channel(dir, &number(60, "desk")).unwrap();
        d.apply(
            app(),
            StreamId::app(app()),
            &Event::ChannelSaved {
                channel: number(60, "desk"),
            },
        );
        let dir = d.app(app()).unwrap();
        assert_eq!(
            validate_channel(dir, &number(61, "desk"))
                .unwrap_err()
                .field(),
            Some("kind.userId")
        );
        validate_channel(dir, &number(60, "desk")).unwrap();
        let mut bad = number(61, "other");
        bad.skill_group = Some(GroupId(99));
        assert_eq!(
            validate_channel(dir, &bad).unwrap_err().field(),
            Some("skillGroup")
        );
        let mut bad = number(61, "other");
        bad.satisfaction = Some(SatisfactionId(99));
        assert_eq!(
            validate_channel(dir, &bad).unwrap_err().field(),
            Some("satisfaction")
        );
        assert_eq!(dir.channels_using_group(GroupId(30)), vec![ChannelId(60)]);
        assert_eq!(d.virtual_number(app(), "desk"), Some(ChannelId(60)));
        d.apply(
            app(),
            StreamId::app(app()),
            &Event::ChannelSaved {
                channel: number(60, "renamed"),
            },
        );
        assert_eq!(
            d.virtual_number(app(), "desk"),
            None,
            "a renumbered channel leaves its old number"
        );
        assert_eq!(d.virtual_number(app(), "renamed"), Some(ChannelId(60)));
        d.apply(
            app(),
            StreamId::app(app()),
            &Event::ChannelDeleted {
                channel: ChannelId(60),
            },
        );
        assert_eq!(d.virtual_number(app(), "renamed"), None);
    }

    proptest::proptest! {
        /// Any text is an email or a refusal naming `email`; accepted ones are lowercase and
        /// stable under a second normalization.
        #[test]
        fn emails_from_anywhere(raw in "\\PC{0,40}") {
            match normalize_email(&raw) {
                Ok(email) => {
                    proptest::prop_assert_eq!(email.to_lowercase(), email.clone());
                    proptest::prop_assert_eq!(normalize_email(&email).unwrap(), email);
                }
                Err(e) => proptest::prop_assert_eq!(e.field(), Some("email")),
            }
        }

        /// Any text is an https URL or a refusal naming the field.
        #[test]
        fn urls_from_anywhere(raw in "\\PC{0,60}") {
            if let Err(e) = validate_https_url("url", &raw) {
                proptest::prop_assert_eq!(e.field(), Some("url"));
            } else {
                proptest::prop_assert!(raw.starts_with("https://") || raw.to_lowercase().starts_with("https:"));
            }
        }
    }
}
