//! Data analysis over the service records: per calendar day and per skill group, sessions,
//! answered and abandoned, the service level, average and 90th-percentile waits, handle
//! times, the satisfaction distribution and the abandon rate. The figures and their
//! definitions are `crate::records::analysis`'s; this is the request and the response.
//!
//! Who sees what: a role with the `data_analysis` module sees the sessions that came in by a
//! skill group of its scope (all, and those that never queued, when unscoped); an
//! administrator and an API key the whole app; an agent (the built-in agent role) and a role
//! without the module get 403. Like the records, a report covers everything durable when
//! the request came (503 if the records take over 10 s to catch up).

use axum::Json;
use axum::extract::State;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::directory::Module;
use crate::domain::ids::GroupId;
use crate::records::analysis::{Figures, MAX_DAYS, Settings};

use super::auth::Principal;
use super::error::{ApiError, Params};
use super::{AppState, records};

/// The service level's target wait when the request names none, seconds.
pub const DEFAULT_TARGET_WAIT_S: u32 = 20;
/// The longest target wait, seconds (a day).
pub const MAX_TARGET_WAIT_S: u32 = 86_400;

/// What a report covers.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct ReportQuery {
    /// The first day, `YYYY-MM-DD`.
    #[param(min_length = 10, max_length = 10, example = "2026-11-01")]
    pub from: String,
    /// The last day (inclusive), `YYYY-MM-DD`; at most 366 days after `from`.
    #[param(min_length = 10, max_length = 10, example = "2026-11-30")]
    pub to: String,
    /// The IANA time zone whose days the report is cut into (`UTC` when absent).
    #[param(min_length = 1, max_length = 64, example = "Asia/Shanghai")]
    pub time_zone: Option<String>,
    /// Only sessions that came in by this skill group.
    pub group_id: Option<GroupId>,
    /// The service level's target: answered within this many seconds (20 when absent).
    #[param(minimum = 0, maximum = 86400)]
    pub target_wait_s: Option<u32>,
}

/// One day's figures for one skill group.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DayGroupRow {
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// The group sessions came in by (null: sessions that never queued).
    pub skill_group_id: Option<GroupId>,
    /// The figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// One day's figures.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DayRow {
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// The figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// One skill group's figures over the range.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupRow {
    /// The group (null: sessions that never queued).
    pub skill_group_id: Option<GroupId>,
    /// Its name (null for none, or a group since deleted).
    pub name: Option<String>,
    /// The figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// A report.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportView {
    /// The first day.
    pub from: String,
    /// The last day.
    pub to: String,
    /// The time zone of the days.
    pub time_zone: String,
    /// The service level's target, seconds.
    pub target_wait_s: u32,
    /// Per day and skill group, days in order; only pairs with sessions.
    pub rows: Vec<DayGroupRow>,
    /// Per day, every day of the range.
    pub days: Vec<DayRow>,
    /// Per skill group over the range.
    pub skill_groups: Vec<GroupRow>,
    /// Over everything.
    pub total: Figures,
}

fn day(field: &'static str, raw: &str) -> Result<Date, ApiError> {
    raw.trim()
        .parse::<Date>()
        .map_err(|e| ApiError::invalid(field, format!("{raw:?} is not a YYYY-MM-DD day: {e}")))
}

/// The report of the caller's app's service records over a range of days.
#[utoipa::path(get, path = "/analysis/report", tag = "analysis", params(ReportQuery),
    responses((status = 200, description = "the figures per day and skill group", body = ReportView)))]
pub async fn report(
    State(state): State<AppState>,
    who: Principal,
    Params(q): Params<ReportQuery>,
) -> Result<Json<ReportView>, ApiError> {
    let dir = state.desk.app(who.app)?;
    let scope = who.scope(&dir, Module::DataAnalysis)?;
    let from = day("from", &q.from)?;
    let to = day("to", &q.to)?;
    let zone_name = q.time_zone.as_deref().unwrap_or("UTC").trim();
    let time_zone = TimeZone::get(zone_name).map_err(|e| {
        ApiError::invalid(
            "timeZone",
            format!("{zone_name:?} is not an IANA time zone: {e}"),
        )
    })?;
    let target_wait_s = q.target_wait_s.unwrap_or(DEFAULT_TARGET_WAIT_S);
    if target_wait_s > MAX_TARGET_WAIT_S {
        return Err(ApiError::invalid(
            "targetWaitS",
            format!("{target_wait_s} is over {MAX_TARGET_WAIT_S} (a day)"),
        ));
    }
    if let Some(g) = q.group_id {
        if !dir.groups.contains_key(&g) {
            // A deleted group's history stays in the unfiltered report (its name null).
            return Err(ApiError::invalid(
                "groupId",
                format!("{g} is not a skill group"),
            ));
        } else if !scope.covers(g) {
            return Err(ApiError::forbidden(format!(
                "{g} is outside your role's skill groups"
            )));
        }
    }
    // Checked before waiting on the records: a bad range is the caller's, not a 503.
    let settings = Settings::new(
        time_zone,
        from,
        to,
        u64::from(target_wait_s) * 1_000,
        q.group_id,
        scope,
    )
    .map_err(|e| ApiError::invalid(e.field, e.message))?;
    let view = records::caught_up(records::running(&state)?, false).await?;
    let report = view.analyse(who.app, &settings);
    debug_assert!(report.days.len() <= MAX_DAYS as usize);
    Ok(Json(ReportView {
        from: from.to_string(),
        to: to.to_string(),
        time_zone: zone_name.to_owned(),
        target_wait_s,
        rows: report
            .rows
            .into_iter()
            .map(|r| DayGroupRow {
                day: r.day.to_string(),
                skill_group_id: r.group,
                figures: r.figures,
            })
            .collect(),
        days: report
            .days
            .into_iter()
            .map(|(d, figures)| DayRow {
                day: d.to_string(),
                figures,
            })
            .collect(),
        skill_groups: report
            .groups
            .into_iter()
            .map(|(g, figures)| GroupRow {
                skill_group_id: g,
                name: g.and_then(|g| dir.groups.get(&g)).map(|g| g.name.clone()),
                figures,
            })
            .collect(),
        total: report.total,
    }))
}
