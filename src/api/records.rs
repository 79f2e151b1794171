//! Online service records: the list of sessions with its filters (start, skill group,
//! agent, keyword over transcripts), and one session's detail with its whole transcript
//! and a search inside it.
//!
//! Who sees what: an agent (the built-in agent role) sees the sessions they served and no
//! other, in lists and in details (403); a role with the `service_records` module sees the
//! sessions that queued in a skill group of its scope (all of them when unscoped), and the
//! ones its holder served; a role without the module gets 403; an API key acts as an
//! administrator of its app. What a caller was told is durable, the records show: a request
//! waits until they cover the log's durable seq (503 if that takes over 10 s).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::conversation::{Body, Sender};
use crate::domain::directory::{AGENT, Module};
use crate::domain::ids::{AgentId, AppId, ChannelId, ConversationId, GroupId, SessionId, StreamId};
use crate::records::query::{DEFAULT_PAGE, MAX_PAGE};
use crate::records::timeline::{self, CloseByName, MAX_TIMELINE_ENTRIES, TimelineEntry};
use crate::records::{Cursor, Filter, Record, RecordsError, Service, View, Viewer, text};

use super::AppState;
use super::auth::Principal;
use super::error::{ApiError, Id, Params};

/// Filters of the record list.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct RecordFilter {
    /// Sessions that started at or after this: ms since the Unix epoch (`1795637161315`)
    /// or an RFC 3339 time in UTC (`2026-11-25T15:00:00Z`).
    pub from: Option<String>,
    /// Sessions that started before this (exclusive), in the same forms as `from`.
    pub to: Option<String>,
    /// Sessions that queued in this skill group (the first, or one transferred to).
    pub group_id: Option<GroupId>,
    /// Sessions this agent served.
    pub agent_id: Option<AgentId>,
    /// Words that must all be in the transcript (whole words, case-insensitive; at most 16).
    #[param(min_length = 1, max_length = 200)]
    pub keyword: Option<String>,
    /// Where to go on: `nextCursor` of the previous page.
    #[param(min_length = 1, max_length = 64)]
    pub cursor: Option<String>,
    /// Records per page, 1 to 100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A search inside one transcript.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TranscriptSearch {
    /// Words that must all be in a message (whole words, case-insensitive; at most 16).
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
}

/// A user's rating of a session.
#[derive(Serialize, ToSchema)]
pub struct SatisfactionView {
    /// The level's value.
    pub value: u8,
    /// The level's label.
    pub label: String,
}

/// One session's service record.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordView {
    /// The session.
    pub session_id: SessionId,
    /// The app.
    pub app_id: AppId,
    /// The conversation its messages are in.
    pub conversation_id: Option<ConversationId>,
    /// The user.
    pub user_id: String,
    /// The channel the user wrote to.
    pub channel_id: ChannelId,
    /// The skill group it came in by.
    pub skill_group_id: Option<GroupId>,
    /// Every skill group it queued in, in order (transfers included).
    pub skill_group_ids: Vec<GroupId>,
    /// The agents who served it, in order.
    pub agent_ids: Vec<AgentId>,
    /// When it started, ms since the epoch.
    pub created_at_ms: i64,
    /// When it first entered a queue.
    pub queued_at_ms: Option<i64>,
    /// When an agent first took it.
    pub accepted_at_ms: Option<i64>,
    /// When it ended (null while live).
    pub ended_at_ms: Option<i64>,
    /// From first entering a queue to an agent first taking it (to the end, when none did).
    pub queue_wait_ms: Option<u64>,
    /// From an agent first taking it to its end.
    pub handle_time_ms: Option<u64>,
    /// Who ended it.
    pub close_by: Option<CloseByName>,
    /// The user's rating.
    pub satisfaction: Option<SatisfactionView>,
    /// How many times an agent handed it on.
    pub transfers: u32,
    /// Messages stored in it.
    pub message_count: u64,
}

impl From<&Record> for RecordView {
    fn from(r: &Record) -> Self {
        Self {
            session_id: r.session,
            app_id: r.app,
            conversation_id: r.conversation,
            user_id: r.user.clone(),
            channel_id: r.channel,
            skill_group_id: r.group(),
            skill_group_ids: r.groups.clone(),
            agent_ids: r.agents.clone(),
            created_at_ms: r.created_at_ms,
            queued_at_ms: r.queued_at_ms,
            accepted_at_ms: r.accepted_at_ms,
            ended_at_ms: r.ended_at_ms,
            queue_wait_ms: r.queue_wait_ms(),
            handle_time_ms: r.handle_time_ms(),
            close_by: r.close_by.map(Into::into),
            satisfaction: r.satisfaction.as_ref().map(|s| SatisfactionView {
                value: s.value,
                label: s.label.clone(),
            }),
            transfers: r.transfers,
            message_count: r.message_count(),
        }
    }
}

/// A page of records.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordPage {
    /// The records, newest first by start.
    pub records: Vec<RecordView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// Who wrote a message of a transcript.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Author {
    /// The user.
    User,
    /// The desk: an agent (named in `agentId`), a flow or the system.
    Desk,
}

/// One message of a transcript.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptMessage {
    /// Its seq in the conversation.
    pub seq: u64,
    /// Who wrote it.
    pub from: Author,
    /// The agent, when one wrote it.
    pub agent_id: Option<AgentId>,
    /// When the desk took it, ms since the epoch.
    pub at_ms: i64,
    /// What it says.
    pub body: Body,
}

/// A session's record with its whole transcript.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordDetail {
    /// The record.
    pub record: RecordView,
    /// Every message of the session, in order.
    pub messages: Vec<TranscriptMessage>,
    /// With `q`: the seqs of the messages holding every word of it, in order.
    pub matches: Option<Vec<u64>>,
}

/// What the caller may see.
fn viewer(state: &AppState, who: &Principal) -> Result<Viewer, ApiError> {
    if who.role == AGENT {
        let agent = who
            .agent
            .ok_or(ApiError::Internal("an agent role without an agent"))?;
        return Ok(Viewer::Own(agent));
    }
    let dir = state.desk.app(who.app)?;
    let scope = who.scope(&dir, Module::ServiceRecords)?;
    Ok(Viewer::Scoped {
        scope,
        agent: who.agent,
    })
}

/// A start bound: ms since the epoch, or RFC 3339 in UTC.
fn instant(field: &'static str, raw: &str) -> Result<i64, ApiError> {
    let raw = raw.trim();
    if !raw.is_empty()
        && raw
            .trim_start_matches('-')
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        return raw
            .parse::<i64>()
            .map_err(|_| ApiError::invalid(field, format!("{raw:?} is out of range")));
    }
    let at = humantime::parse_rfc3339(raw).map_err(|e| {
        ApiError::invalid(
            field,
            format!("{raw:?} is neither ms since the epoch nor an RFC 3339 time in UTC: {e}"),
        )
    })?;
    at.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_millis()).ok())
        .ok_or_else(|| ApiError::invalid(field, format!("{raw:?} is before 1970")))
}

pub(super) fn running(state: &AppState) -> Result<&Service, ApiError> {
    state
        .records
        .service()
        .map(|s| s.as_ref())
        .ok_or_else(|| ApiError::Unavailable("the service records are not running".to_owned()))
}

fn unavailable(e: RecordsError) -> ApiError {
    tracing::warn!(error = %e, "service records unavailable");
    ApiError::Unavailable(e.to_string())
}

pub(super) async fn caught_up(service: &Service, keyword: bool) -> Result<&View, ApiError> {
    service.caught_up(keyword).await.map_err(unavailable)
}

/// The record of `session`, when the caller may see it (404 when it is not the caller's
/// app's, 403 when outside what the caller sees).
async fn visible_record(
    state: &AppState,
    who: &Principal,
    viewer: &Viewer,
    session: SessionId,
) -> Result<Record, ApiError> {
    let view = caught_up(running(state)?, false).await?;
    let Some(record) = view.get(session).filter(|r| r.app == who.app) else {
        return Err(ApiError::NotFound(session.to_string()));
    };
    if !viewer.sees(&record) {
        return Err(ApiError::forbidden(match viewer {
            Viewer::Own(_) => format!("you did not serve {session}"),
            Viewer::Scoped { .. } => format!("{session} is outside your role's skill groups"),
        }));
    }
    Ok(record)
}

/// Whether the caller may see `conversation` (of the caller's app): it sees the record of
/// one of its sessions, as the records' rule has it (403 otherwise).
pub(super) async fn sees_conversation(
    state: &AppState,
    who: &Principal,
    conversation: ConversationId,
) -> Result<(), ApiError> {
    let viewer = viewer(state, who)?;
    let view = caught_up(running(state)?, false).await?;
    if view.conversation_seen(who.app, conversation, |r| viewer.sees(r)) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "{conversation} has no session you may see"
        )))
    }
}

/// Lists service records, newest first by start.
#[utoipa::path(get, path = "/records", tag = "records", params(RecordFilter),
    responses((status = 200, description = "a page of records the caller may see", body = RecordPage)))]
pub async fn list_records(
    State(state): State<AppState>,
    who: Principal,
    Params(p): Params<RecordFilter>,
) -> Result<Json<RecordPage>, ApiError> {
    let viewer = viewer(&state, &who)?;
    let filter = Filter {
        from_ms: p.from.as_deref().map(|f| instant("from", f)).transpose()?,
        to_ms: p.to.as_deref().map(|t| instant("to", t)).transpose()?,
        group: p.group_id,
        agent: p.agent_id,
    };
    if let (Some(from), Some(to)) = (filter.from_ms, filter.to_ms)
        && to <= from
    {
        return Err(ApiError::invalid("to", "must be after `from`"));
    }
    let words = p
        .keyword
        .as_deref()
        .map(|k| text::keyword_terms("keyword", k))
        .transpose()?;
    let after = p
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<Cursor>()
                .map_err(|e| ApiError::invalid("cursor", e))
        })
        .transpose()?;
    let limit = match p.limit {
        None => DEFAULT_PAGE,
        Some(l) if (1..=MAX_PAGE as u32).contains(&l) => l as usize,
        Some(l) => {
            return Err(ApiError::invalid(
                "limit",
                format!("{l} is not between 1 and {MAX_PAGE}"),
            ));
        }
    };
    let view = caught_up(running(&state)?, words.is_some()).await?;
    let page = view
        .list(who.app, &viewer, &filter, words.as_deref(), after, limit)
        .map_err(unavailable)?;
    Ok(Json(RecordPage {
        records: page.records.iter().map(RecordView::from).collect(),
        next_cursor: page.next.map(|c| c.to_string()),
    }))
}

/// One session's record with its whole transcript; `q` finds the messages holding words.
#[utoipa::path(get, path = "/records/{sessionId}", tag = "records",
    params(("sessionId" = u64, Path, description = "session id"), TranscriptSearch),
    responses((status = 200, description = "the record and its transcript", body = RecordDetail)))]
pub async fn get_record(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
    Params(search): Params<TranscriptSearch>,
) -> Result<Json<RecordDetail>, ApiError> {
    let viewer = viewer(&state, &who)?;
    let words = search
        .q
        .as_deref()
        .map(|q| text::keyword_terms("q", q))
        .transpose()?;
    let record = visible_record(&state, &who, &viewer, SessionId(id)).await?;
    let mut messages = Vec::with_capacity(record.message_count() as usize);
    if let Some(slot) = match record.conversation {
        Some(c) => state.hub.lock(c).await,
        None => None,
    } {
        for seq in record.seqs() {
            if let Some(m) = slot.entry.messages.message(seq) {
                let (from, agent_id) = match m.sender {
                    Sender::User => (Author::User, None),
                    Sender::Desk { agent } => (Author::Desk, agent),
                };
                messages.push(TranscriptMessage {
                    seq: m.seq,
                    from,
                    agent_id,
                    at_ms: m.at_ms,
                    body: m.body.clone(),
                });
            }
        }
    }
    let matches = words.map(|words| {
        messages
            .iter()
            .filter(|m| text::contains_all(&text::searchable(&m.body), &words))
            .map(|m| m.seq)
            .collect()
    });
    Ok(Json(RecordDetail {
        record: RecordView::from(&record),
        messages,
        matches,
    }))
}

/// A session's life, event by event.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    /// The session.
    pub session_id: SessionId,
    /// Its events in log order (messages as `user_message` / `agent_message`, their text
    /// is the transcript's).
    pub entries: Vec<TimelineEntry>,
    /// Whether entries past the limit were left out.
    pub truncated: bool,
}

/// One session's timeline from the log for auditors: created, flow steps, queued, offered
/// to whom and why (the routing decision), missed, accepted, transferred, rated, ended by
/// whom. Seen by whoever sees the record.
#[utoipa::path(get, path = "/records/{sessionId}/timeline", tag = "records",
    params(("sessionId" = u64, Path, description = "session id")),
    responses((status = 200, description = "the session's events in order", body = Timeline)))]
pub async fn get_timeline(
    State(state): State<AppState>,
    who: Principal,
    Id(id): Id<u64>,
) -> Result<Json<Timeline>, ApiError> {
    let viewer = viewer(&state, &who)?;
    let session = SessionId(id);
    let record = visible_record(&state, &who, &viewer, session).await?;
    let log = state.desk.engine.shared().log.clone();
    let conversation = record.conversation;
    let from = record.created_seq;
    // Log reads touch the disk: off the request threads.
    let envelopes = tokio::task::spawn_blocking(move || {
        let mut all = log.read_stream(StreamId::session(session), 1)?;
        if let Some(c) = conversation {
            all.extend(log.read_stream(StreamId::conversation(c), from)?);
        }
        Ok::<_, crate::log::LogError>(all)
    })
    .await
    .map_err(|_| ApiError::Internal("the log read stopped"))?
    .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let mut entries = timeline::entries(session, &envelopes);
    let truncated = entries.len() > MAX_TIMELINE_ENTRIES;
    entries.truncate(MAX_TIMELINE_ENTRIES);
    Ok(Json(Timeline {
        session_id: session,
        entries,
        truncated,
    }))
}
