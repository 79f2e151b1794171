//! Channels: in-app customer service virtual numbers (an IM user id users write to, with
//! name, avatar, bound flow, satisfaction configuration and the skill group allowed to
//! contact users proactively) and website channels (the hosted chat page and its embed
//! script, served under a random `webAppId`). A website channel's `allowedOrigins` name the
//! sites whose pages may open its visitors' sockets (besides the desk's own chat page); they
//! are their own event, written with the channel's, so logs from before them replay as is.
//! So is its launcher's appearance (`launcherPosition`, `themeColor`), which the embed
//! script reads from the channel's public description to draw the launcher on those sites.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use std::collections::BTreeMap;

use crate::domain::directory::{
    self, AppDirectory, Channel, ChannelKind, LauncherPosition, Module,
};
use crate::domain::event::Event;
use crate::domain::ids::{AppId, ChannelId, FlowId, GroupId, SatisfactionId};

use super::auth::{Principal, random_bytes};
use super::catalog::{self, Catalog};
use super::desk::WriteTurn;
use super::error::{ApiError, Body, Id};
use super::{ApiState, AppState};

/// Channels as a catalog of the channels module.
pub struct Channels;

impl Catalog for Channels {
    type Id = ChannelId;
    type Item = Channel;
    const MODULE: Module = Module::Channels;
    const READ_NEEDS_MODULE: bool = true;
    fn id(raw: u64) -> ChannelId {
        ChannelId(raw)
    }
    fn items(dir: &AppDirectory) -> &BTreeMap<ChannelId, Channel> {
        &dir.channels
    }
    fn saved(channel: Channel) -> Event {
        Event::ChannelSaved { channel }
    }
    fn deleted(channel: ChannelId) -> Event {
        Event::ChannelDeleted { channel }
    }
}

/// What kind of channel to make.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChannelKindInput {
    /// An in-app virtual number.
    #[serde(rename_all = "camelCase")]
    InApp {
        /// The virtual number's user id in the app's IM.
        #[schema(min_length = 1, max_length = 64)]
        user_id: String,
        /// Its avatar URL (https).
        #[serde(default)]
        avatar_url: Option<String>,
        /// The skill group whose agents may contact users through it.
        #[serde(default)]
        proactive_group: Option<GroupId>,
    },
    /// A website channel.
    Website,
}

/// A channel as written by the console.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChannelInput {
    /// Display name.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// In-app number or website (fixed once created).
    pub kind: ChannelKindInput,
    /// The session service flow a new session runs.
    #[serde(default)]
    pub flow: Option<FlowId>,
    /// The skill group sessions ask for a human in when no flow is bound.
    #[serde(default)]
    pub skill_group: Option<GroupId>,
    /// The satisfaction configuration used.
    #[serde(default)]
    pub satisfaction: Option<SatisfactionId>,
    /// Website channels: the origins (`https://shop.example.com`) whose pages may open its
    /// visitors' sockets, besides the desk's own chat page; absent on an update keeps them.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub allowed_origins: Option<Vec<String>>,
    /// Website channels: the bottom corner its launcher sits in on host pages; absent on an
    /// update keeps it (`bottom_right` until set).
    #[serde(default)]
    pub launcher_position: Option<LauncherPosition>,
    /// Website channels: the launcher's colour, `#rrggbb`; absent on an update keeps it
    /// (`#2457c5` until set).
    #[serde(default)]
    #[schema(pattern = "^#[0-9a-fA-F]{6}$", example = "#2457c5")]
    pub theme_color: Option<String>,
    /// Whether its flow speaks the task shapes the desk's newer clients draw: src 32 for a
    /// branch's menu and src 33 for a collect module's form, in place of 15 and 21. Absent
    /// on an update keeps it (off until set).
    #[serde(default)]
    pub task_messages: Option<bool>,
}

/// How a website channel is reached.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebsiteAccess {
    /// Method 1: the script tag to put in a page.
    pub embed_script: String,
    /// Method 2: the link to the hosted chat page.
    pub link: String,
}

/// A channel, with how to reach it when it is a website.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChannelView {
    /// The channel.
    #[serde(flatten)]
    pub channel: Channel,
    /// For website channels: the embed script and link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<WebsiteAccess>,
    /// For website channels: the origins whose pages may open its visitors' sockets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    /// For website channels: the corner its launcher sits in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launcher_position: Option<LauncherPosition>,
    /// For website channels: the launcher's colour, `#rrggbb`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme_color: Option<String>,
    /// Its flow speaks src 32 and 33 in place of 15 and 21.
    pub task_messages: bool,
}

fn view(state: &ApiState, app: AppId, channel: Channel) -> ChannelView {
    let website = matches!(channel.kind, ChannelKind::Website { .. });
    let dir = state.desk.app(app).ok();
    let allowed_origins = website.then(|| {
        dir.as_ref()
            .and_then(|d| d.website_origins.get(&channel.id).cloned())
            .unwrap_or_default()
    });
    let appearance = website.then(|| {
        dir.as_ref()
            .map(|d| d.appearance(channel.id))
            .unwrap_or_default()
    });
    let access = match &channel.kind {
        ChannelKind::Website { web_app_id } => Some(WebsiteAccess {
            embed_script: format!(
                "<script src=\"{}/web/im/imPublish.js?webAppId={web_app_id}\"></script>",
                state.base_url
            ),
            link: format!("{}/web/im/chat/?webAppId={web_app_id}", state.base_url),
        }),
        ChannelKind::InApp { .. } => None,
    };
    let (launcher_position, theme_color) = match appearance {
        Some(a) => (Some(a.launcher_position), Some(a.theme_color)),
        None => (None, None),
    };
    let task_messages = dir
        .as_ref()
        .is_some_and(|d| d.task_messages.contains(&channel.id));
    ChannelView {
        channel,
        access,
        allowed_origins,
        launcher_position,
        theme_color,
        task_messages,
    }
}

fn build(input: ChannelInput, id: ChannelId, kept: Option<&Channel>) -> Result<Channel, ApiError> {
    let kind = match (input.kind, kept.map(|c| &c.kind)) {
        (
            ChannelKindInput::InApp {
                user_id,
                avatar_url,
                proactive_group,
            },
            None | Some(ChannelKind::InApp { .. }),
        ) => ChannelKind::InApp {
            user_id: user_id.trim().to_owned(),
            avatar_url,
            proactive_group,
        },
        (ChannelKindInput::Website, None) => ChannelKind::Website {
            web_app_id: random_bytes::<12>()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        },
        (ChannelKindInput::Website, Some(ChannelKind::Website { web_app_id })) => {
            ChannelKind::Website {
                web_app_id: web_app_id.clone(),
            }
        }
        _ => {
            return Err(ApiError::invalid(
                "kind.type",
                "a channel's type cannot change: make a new channel",
            ));
        }
    };
    Ok(Channel {
        id,
        name: input.name.trim().to_owned(),
        kind,
        flow: input.flow,
        skill_group: input.skill_group,
        satisfaction: input.satisfaction,
    })
}

/// Builds and checks a channel against the app, with the events that save it.
fn checked(
    dir: &AppDirectory,
    input: ChannelInput,
    id: ChannelId,
    kept: Option<&Channel>,
) -> Result<(Channel, Vec<Event>), ApiError> {
    let origins = input.allowed_origins.clone();
    let (position, color) = (input.launcher_position, input.theme_color.clone());
    let task_messages = input.task_messages;
    let channel = build(input, id, kept)?;
    directory::validate_channel(dir, &channel)?;
    let mut events = vec![Event::ChannelSaved {
        channel: channel.clone(),
    }];
    let website = matches!(channel.kind, ChannelKind::Website { .. });
    if let Some(origins) = origins {
        if !website {
            return Err(ApiError::invalid(
                "allowedOrigins",
                "only website channels have allowed origins",
            ));
        }
        events.push(Event::WebsiteOriginsSet {
            channel: id,
            origins: directory::normalize_origins(&origins)?,
        });
    }
    if position.is_some() || color.is_some() {
        let field = if color.is_some() {
            "themeColor"
        } else {
            "launcherPosition"
        };
        if !website {
            return Err(ApiError::invalid(
                field,
                "only website channels have a launcher",
            ));
        }
        // What is not sent stays as it was.
        let was = dir.appearance(id);
        let theme_color = match color {
            Some(c) => directory::normalize_theme_color(&c)?,
            None => was.theme_color,
        };
        events.push(Event::WebsiteAppearanceSet {
            channel: id,
            launcher_position: position.unwrap_or(was.launcher_position),
            theme_color,
        });
    }
    if let Some(on) = task_messages
        && on != dir.task_messages.contains(&id)
    {
        events.push(Event::ChannelTaskMessagesSet { channel: id, on });
    }
    Ok((channel, events))
}

/// Writes a channel's events in one append, under the turn.
async fn save(
    state: &ApiState,
    who: &Principal,
    turn: &WriteTurn<'_>,
    events: Vec<Event>,
) -> Result<(), ApiError> {
    let stream = crate::domain::ids::StreamId::app(who.app);
    let drafts = events.into_iter().map(|e| (stream, e)).collect();
    state.desk.append(turn, who.app, drafts).await?;
    Ok(())
}

/// Lists the channels.
#[utoipa::path(get, path = "/channels", tag = "channels",
    responses((status = 200, description = "channels, by id", body = Vec<ChannelView>)))]
pub async fn list_channels(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<ChannelView>>, ApiError> {
    let channels = catalog::list::<Channels>(&state, &who)?;
    Ok(Json(
        channels
            .into_iter()
            .map(|c| view(&state, who.app, c))
            .collect(),
    ))
}

/// Creates a channel.
#[utoipa::path(post, path = "/channels", tag = "channels", request_body = ChannelInput,
    responses((status = 201, description = "created", body = ChannelView)))]
pub async fn create_channel(
    State(state): State<AppState>,
    who: Principal,
    Body(input): Body<ChannelInput>,
) -> Result<(StatusCode, Json<ChannelView>), ApiError> {
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    who.scope(&dir, Channels::MODULE)?;
    let id = ChannelId(state.desk.next_id());
    let (channel, events) = checked(&dir, input, id, None)?;
    save(&state, &who, &turn, events).await?;
    drop(turn);
    Ok((StatusCode::CREATED, Json(view(&state, who.app, channel))))
}

/// One channel.
#[utoipa::path(get, path = "/channels/{id}", tag = "channels", params(("id" = u64, Path, description = "channel id")),
    responses((status = 200, description = "the channel", body = ChannelView)))]
pub async fn get_channel(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<Json<ChannelView>, ApiError> {
    Ok(Json(view(
        &state,
        who.app,
        catalog::get::<Channels>(&state, &who, id)?,
    )))
}

/// Replaces a channel's settings (its type and `webAppId` stay).
#[utoipa::path(put, path = "/channels/{id}", tag = "channels", params(("id" = u64, Path, description = "channel id")),
    request_body = ChannelInput, responses((status = 200, description = "the channel", body = ChannelView)))]
pub async fn update_channel(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
    Body(input): Body<ChannelInput>,
) -> Result<Json<ChannelView>, ApiError> {
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    who.scope(&dir, Channels::MODULE)?;
    let id = ChannelId(id);
    let old = dir
        .channels
        .get(&id)
        .ok_or_else(|| ApiError::NotFound(id.to_string()))?;
    let (channel, events) = checked(&dir, input, id, Some(old))?;
    save(&state, &who, &turn, events).await?;
    drop(turn);
    Ok(Json(view(&state, who.app, channel)))
}

/// Deletes a channel: users can no longer start sessions through it.
#[utoipa::path(delete, path = "/channels/{id}", tag = "channels", params(("id" = u64, Path, description = "channel id")),
    responses((status = 204, description = "deleted")))]
pub async fn delete_channel(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<StatusCode, ApiError> {
    catalog::delete::<Channels>(&state, &who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
