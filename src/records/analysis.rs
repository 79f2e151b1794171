//! Data analysis over the service records: per calendar day (in a time zone) and per skill
//! group, how many sessions came, were answered and abandoned, the service level, waits,
//! handle times and what the users rated. Pure: the API hands it the records of a time
//! range and the report's settings, and gets the figures.
//!
//! The definitions, as the API documents them:
//!
//! - A session counts on the day it **started** (in the report's time zone), under the skill
//!   group it **came in by** (the first it queued in; sessions that never queued, such as
//!   those a flow ended, count under no group).
//! - **answered**: an agent took it (accepted, or was assigned it). **abandoned**: it queued
//!   and ended before any agent took it, whoever ended it. **waiting**: queued, neither yet.
//! - **service level**: answered within the target wait, over answered plus abandoned; no
//!   figure when both are zero. **abandon rate**: abandoned over answered plus abandoned.
//! - **wait**: from first entering a queue to an agent first taking it, over answered
//!   sessions (average and 90th percentile, nearest rank). **abandoned wait**: the same up
//!   to the end, over abandoned ones.
//! - **handle time**: from an agent first taking it to its end, over answered sessions that
//!   ended (transfers included).
//! - **satisfaction**: how many sessions were rated with each level.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::Serialize;

use crate::domain::directory::Scope;
use crate::domain::ids::GroupId;
use crate::records::projection::Record;

/// Most days one report covers.
pub const MAX_DAYS: i32 = 366;

/// What a report covers and how it measures. Made by [`Settings::new`], which checks the
/// days and works out their range once.
#[derive(Clone, Debug)]
pub struct Settings {
    time_zone: TimeZone,
    from: Date,
    to: Date,
    /// From the start of `from` to the start of the day after `to`, ms since the epoch.
    range_ms: (i64, i64),
    /// The service level's target wait, ms.
    pub target_wait_ms: u64,
    /// Only sessions that came in by this group.
    pub group: Option<GroupId>,
    /// The groups the caller may see.
    pub scope: Scope,
}

/// Why settings cannot make a report: the field and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsError {
    /// The field at fault.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl Settings {
    /// The days `from` to `to` (inclusive, at most [`MAX_DAYS`]) of `time_zone`, with the
    /// service level's target and who sees what. Its range runs from the start of `from` to
    /// the start of the day after `to` (days of 23 or 25 hours across a DST change).
    pub fn new(
        time_zone: TimeZone,
        from: Date,
        to: Date,
        target_wait_ms: u64,
        group: Option<GroupId>,
        scope: Scope,
    ) -> Result<Self, SettingsError> {
        let wrong = |field: &'static str, message: String| SettingsError { field, message };
        if to < from {
            return Err(wrong("to", format!("{to} is before `from` ({from})")));
        }
        // Between two civil dates the span's largest unit is the day.
        let days = from.until(to).map_or(i32::MAX, |span| span.get_days());
        if days >= MAX_DAYS {
            return Err(wrong(
                "to",
                format!("a report covers at most {MAX_DAYS} days"),
            ));
        }
        let start = |field: &'static str, d: Date| {
            d.to_zoned(time_zone.clone())
                .map(|z| z.timestamp().as_millisecond())
                .map_err(|e| wrong(field, e.to_string()))
        };
        let after = to
            .checked_add(1.day())
            .map_err(|e| wrong("to", e.to_string()))?;
        let range_ms = (start("from", from)?, start("to", after)?);
        Ok(Self {
            time_zone,
            from,
            to,
            range_ms,
            target_wait_ms,
            group,
            scope,
        })
    }

    /// The report's range, ms since the epoch: `[start of from, start of the day after to)`.
    pub fn range_ms(&self) -> (i64, i64) {
        self.range_ms
    }

    /// Whether the report counts `record` (of the caller's app, started in range).
    fn counts(&self, record: &Record) -> bool {
        let group = record.group();
        if self.group.is_some() && group != self.group {
            return false;
        }
        match (&self.scope, group) {
            (Scope::All, _) => true,
            (Scope::Only(groups), Some(g)) => groups.contains(&g),
            (Scope::Only(_), None) => false,
        }
    }

    fn day_of(&self, at_ms: i64) -> Date {
        Timestamp::from_millisecond(at_ms)
            .map(|t| t.to_zoned(self.time_zone.clone()).date())
            .unwrap_or(self.from)
    }
}

/// Sessions rated with one satisfaction level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rated {
    /// The level's value.
    pub value: u8,
    /// Its label (the latest seen for the value).
    pub label: String,
    /// Sessions rated so.
    pub sessions: u64,
}

/// The figures of a set of sessions, as the data-analysis API answers them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    /// Sessions started.
    pub sessions: u64,
    /// Of them, those that entered a queue.
    pub queued: u64,
    /// Taken by an agent.
    pub answered: u64,
    /// Taken within the target wait.
    pub answered_in_target: u64,
    /// Queued and ended before an agent took them.
    pub abandoned: u64,
    /// Queued, neither taken nor ended yet.
    pub waiting: u64,
    /// Times an agent handed one on.
    pub transfers: u64,
    /// `answeredInTarget / (answered + abandoned)`; null when both are zero.
    pub service_level: Option<f64>,
    /// `abandoned / (answered + abandoned)`; null when both are zero.
    pub abandon_rate: Option<f64>,
    /// Average wait of answered sessions, ms.
    pub avg_wait_ms: Option<u64>,
    /// 90th percentile (nearest rank) of that wait, ms.
    pub p90_wait_ms: Option<u64>,
    /// Longest of that wait, ms.
    pub max_wait_ms: Option<u64>,
    /// Average wait of abandoned sessions until they ended, ms.
    pub avg_abandoned_wait_ms: Option<u64>,
    /// Average handle time of answered sessions that ended, ms.
    pub avg_handle_ms: Option<u64>,
    /// 90th percentile (nearest rank) of that handle time, ms.
    pub p90_handle_ms: Option<u64>,
    /// Sessions per satisfaction level, lowest value first (levels nobody gave are absent).
    pub satisfaction: Vec<Rated>,
    /// Sessions rated.
    pub rated: u64,
    /// The average rating value.
    pub avg_rating: Option<f64>,
}

/// One day's figures for one skill group.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The day.
    pub day: Date,
    /// The group sessions came in by (none: sessions that never queued).
    pub group: Option<GroupId>,
    /// The figures.
    pub figures: Figures,
}

/// A whole report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Per day and group, days in order, then groups (no group first); only pairs with
    /// sessions.
    pub rows: Vec<Row>,
    /// Per day, every day of the range (empty days included).
    pub days: Vec<(Date, Figures)>,
    /// Per group, over the range.
    pub groups: Vec<(Option<GroupId>, Figures)>,
    /// Over everything.
    pub total: Figures,
}

/// What a set of sessions adds up to, before the averages.
#[derive(Clone, Debug, Default)]
struct Tally {
    sessions: u64,
    queued: u64,
    answered: u64,
    answered_in_target: u64,
    abandoned: u64,
    waiting: u64,
    transfers: u64,
    waits: Vec<u64>,
    abandoned_waits: Vec<u64>,
    handles: Vec<u64>,
    ratings: BTreeMap<u8, (String, u64)>,
}

impl Tally {
    fn add(&mut self, r: &Record, target_wait_ms: u64) {
        self.sessions += 1;
        self.transfers += u64::from(r.transfers);
        if let Some(rating) = &r.satisfaction {
            self.rate(rating.value, &rating.label, 1);
        }
        if r.queued_at_ms.is_some() {
            self.queued += 1;
        }
        if r.accepted_at_ms.is_some() {
            self.answered += 1;
            // Auto reception without a queue (or an agent taking it by name) waited nothing.
            let wait = r.queue_wait_ms().unwrap_or(0);
            self.answered_in_target += u64::from(wait <= target_wait_ms);
            self.waits.push(wait);
            if let Some(handle) = r.handle_time_ms() {
                self.handles.push(handle);
            }
        } else if r.queued_at_ms.is_some() {
            match r.ended_at_ms {
                Some(_) => {
                    self.abandoned += 1;
                    self.abandoned_waits.push(r.queue_wait_ms().unwrap_or(0));
                }
                None => self.waiting += 1,
            }
        }
    }

    fn merge(&mut self, other: &Tally) {
        self.sessions += other.sessions;
        self.queued += other.queued;
        self.answered += other.answered;
        self.answered_in_target += other.answered_in_target;
        self.abandoned += other.abandoned;
        self.waiting += other.waiting;
        self.transfers += other.transfers;
        self.waits.extend_from_slice(&other.waits);
        self.abandoned_waits
            .extend_from_slice(&other.abandoned_waits);
        self.handles.extend_from_slice(&other.handles);
        for (value, (label, n)) in &other.ratings {
            self.rate(*value, label, *n);
        }
    }

    fn rate(&mut self, value: u8, label: &str, sessions: u64) {
        let entry = self
            .ratings
            .entry(value)
            .or_insert_with(|| (String::new(), 0));
        label.clone_into(&mut entry.0);
        entry.1 += sessions;
    }

    /// The figures, the tally spent (its waits are sorted in place for the percentiles).
    fn figures(mut self) -> Figures {
        let settled = self.answered + self.abandoned;
        let ratio = |n: u64| (settled > 0).then(|| n as f64 / settled as f64);
        let mut waits = std::mem::take(&mut self.waits);
        waits.sort_unstable();
        let mut handles = std::mem::take(&mut self.handles);
        handles.sort_unstable();
        let rated: u64 = self.ratings.values().map(|(_, n)| n).sum();
        let rating_sum: u64 = self
            .ratings
            .iter()
            .map(|(v, (_, n))| u64::from(*v) * n)
            .sum();
        Figures {
            sessions: self.sessions,
            queued: self.queued,
            answered: self.answered,
            answered_in_target: self.answered_in_target,
            abandoned: self.abandoned,
            waiting: self.waiting,
            transfers: self.transfers,
            service_level: ratio(self.answered_in_target),
            abandon_rate: ratio(self.abandoned),
            avg_wait_ms: average(&waits),
            p90_wait_ms: percentile(&waits, 90),
            max_wait_ms: waits.last().copied(),
            avg_abandoned_wait_ms: average(&self.abandoned_waits),
            avg_handle_ms: average(&handles),
            p90_handle_ms: percentile(&handles, 90),
            satisfaction: self
                .ratings
                .iter()
                .map(|(value, (label, n))| Rated {
                    value: *value,
                    label: label.clone(),
                    sessions: *n,
                })
                .collect(),
            rated,
            avg_rating: (rated > 0).then(|| rating_sum as f64 / rated as f64),
        }
    }
}

/// The mean, rounded down; none of nothing.
fn average(values: &[u64]) -> Option<u64> {
    let n = values.len() as u128;
    (n > 0).then(|| (values.iter().map(|&v| u128::from(v)).sum::<u128>() / n) as u64)
}

/// The `p`th percentile of sorted `values` by nearest rank: the smallest value with at least
/// p% of them at or below it.
pub fn percentile(sorted: &[u64], p: u32) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() * p as usize).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

/// The report of `records` (the caller's app's, any order; those outside the settings'
/// range, group or scope are left out).
pub fn report<'a>(settings: &Settings, records: impl IntoIterator<Item = &'a Record>) -> Report {
    let (from_ms, to_ms) = settings.range_ms;
    let mut cells: BTreeMap<(Date, Option<GroupId>), Tally> = BTreeMap::new();
    for r in records {
        if r.created_at_ms < from_ms || r.created_at_ms >= to_ms || !settings.counts(r) {
            continue;
        }
        let day = settings.day_of(r.created_at_ms);
        cells
            .entry((day, r.group()))
            .or_default()
            .add(r, settings.target_wait_ms);
    }
    let mut days: BTreeMap<Date, Tally> = BTreeMap::new();
    let mut day = settings.from;
    while day <= settings.to {
        days.insert(day, Tally::default());
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    let mut groups: BTreeMap<Option<GroupId>, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    for ((day, group), tally) in &cells {
        days.entry(*day).or_default().merge(tally);
        groups.entry(*group).or_default().merge(tally);
        total.merge(tally);
    }
    Report {
        rows: cells
            .into_iter()
            .map(|((day, group), t)| Row {
                day,
                group,
                figures: t.figures(),
            })
            .collect(),
        days: days.into_iter().map(|(d, t)| (d, t.figures())).collect(),
        groups: groups.into_iter().map(|(g, t)| (g, t.figures())).collect(),
        total: total.figures(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;
    use crate::domain::ids::{AgentId, AppId, ChannelId, SessionId};
    use crate::records::projection::Satisfaction;

    const HOUR: i64 = 3_600_000;

    fn at(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn try_settings(tz: &str, from: &str, to: &str) -> Result<Settings, SettingsError> {
        Settings::new(
            TimeZone::get(tz).unwrap(),
            date(from),
            date(to),
            20_000,
            None,
            Scope::All,
        )
    }

    fn settings(tz: &str, from: &str, to: &str) -> Settings {
        try_settings(tz, from, to).unwrap()
    }

    /// A session started at `start`, in `group`, queued at once, taken after `wait` ms (none:
    /// never), ended `handle` ms later (none: live; for an untaken one, ended after `wait`).
    fn record(
        id: u64,
        start: i64,
        group: Option<u64>,
        wait: Option<i64>,
        ended_after: Option<i64>,
    ) -> Record {
        let queued = group.map(|_| start);
        let accepted = match (queued, wait) {
            (Some(q), Some(w)) => Some(q + w),
            _ => None,
        };
        Record {
            app: AppId(1),
            session: SessionId(id),
            conversation: None,
            user: format!("u{id}"),
            channel: ChannelId(1),
            groups: group.map(GroupId).into_iter().collect(),
            agents: accepted.map(|_| AgentId(7)).into_iter().collect(),
            created_at_ms: start,
            created_seq: id,
            queued_at_ms: queued,
            accepted_at_ms: accepted,
            ended_at_ms: ended_after.map(|e| accepted.or(queued).unwrap_or(start) + e),
            close_by: None,
            satisfaction: None,
            transfers: 0,
            messages: Vec::new(),
        }
    }

    fn rated(mut r: Record, value: u8, label: &str) -> Record {
        r.satisfaction = Some(Satisfaction {
            value,
            label: label.to_owned(),
        });
        r
    }

    #[test]
    fn counts_answered_abandoned_and_waiting_with_the_service_level() {
        let base = at("2026-11-25T09:00:00Z");
        let records = [
            record(1, base, Some(3), Some(5_000), Some(60_000)),
            record(2, base + 1, Some(3), Some(20_000), Some(120_000)),
            record(3, base + 2, Some(3), Some(45_000), Some(30_000)),
            record(4, base + 3, Some(3), None, Some(90_000)),
            record(5, base + 4, Some(3), None, None),
            record(6, base + 5, None, None, Some(1_000)),
        ];
        let report = report(&settings("UTC", "2026-11-25", "2026-11-25"), &records);
        let t = &report.total;
        assert_eq!(
            (t.sessions, t.queued, t.answered, t.abandoned, t.waiting),
            (6, 5, 3, 1, 1)
        );
        // Answered within 20 s: the 5 s and the 20 s waits (the target is inclusive).
        assert_eq!(t.answered_in_target, 2);
        assert_eq!(t.service_level, Some(0.5));
        assert_eq!(t.abandon_rate, Some(0.25));
        assert_eq!(t.avg_wait_ms, Some(23_333));
        assert_eq!(t.p90_wait_ms, Some(45_000));
        assert_eq!(t.max_wait_ms, Some(45_000));
        assert_eq!(t.avg_abandoned_wait_ms, Some(90_000));
        assert_eq!(t.avg_handle_ms, Some(70_000));
        assert_eq!(t.p90_handle_ms, Some(120_000));
        // The session that never queued counts under no group, first.
        assert_eq!(
            report.groups.iter().map(|(g, _)| *g).collect::<Vec<_>>(),
            vec![None, Some(GroupId(3))]
        );
        assert_eq!(report.rows.len(), 2);
        assert_eq!(report.groups[0].1.service_level, None);
    }

    #[test]
    fn days_are_the_time_zones_calendar_days_and_every_day_is_listed() {
        // 23:30 UTC on the 24th is already the 25th in Shanghai (UTC+8) and still the 24th
        // in New York.
        let records = [
            record(1, at("2026-11-24T23:30:00Z"), Some(1), Some(1_000), None),
            record(2, at("2026-11-26T12:00:00Z"), Some(1), Some(1_000), None),
        ];
        let shanghai = report(
            &settings("Asia/Shanghai", "2026-11-24", "2026-11-26"),
            &records,
        );
        let per_day: Vec<(String, u64)> = shanghai
            .days
            .iter()
            .map(|(d, f)| (d.to_string(), f.sessions))
            .collect();
        assert_eq!(
            per_day,
            vec![
                ("2026-11-24".to_owned(), 0),
                ("2026-11-25".to_owned(), 1),
                ("2026-11-26".to_owned(), 1)
            ]
        );
        let new_york = report(
            &settings("America/New_York", "2026-11-24", "2026-11-24"),
            &records,
        );
        assert_eq!(new_york.total.sessions, 1);
        assert_eq!(new_york.rows[0].day, date("2026-11-24"));
    }

    #[test]
    fn a_day_across_a_dst_change_is_23_or_25_hours_long() {
        // Europe/Berlin leaves summer time on 2026-10-25: that day has 25 hours.
        let s = settings("Europe/Berlin", "2026-10-25", "2026-10-25");
        let (from, to) = s.range_ms();
        assert_eq!(to - from, 25 * HOUR);
        let s = settings("Europe/Berlin", "2026-03-29", "2026-03-29");
        let (from, to) = s.range_ms();
        assert_eq!(to - from, 23 * HOUR);
        // A session at 23:30 local on the long day is still that day.
        let late = at("2026-10-25T22:30:00Z");
        let r = report(
            &settings("Europe/Berlin", "2026-10-25", "2026-10-25"),
            &[record(1, late, Some(1), None, None)],
        );
        assert_eq!(r.total.sessions, 1);
    }

    #[test]
    fn scope_and_group_filter_leave_out_other_groups_and_ungrouped_sessions() {
        let base = at("2026-11-25T09:00:00Z");
        let records = [
            record(1, base, Some(1), Some(1_000), None),
            record(2, base, Some(2), Some(1_000), None),
            record(3, base, None, None, Some(10)),
        ];
        let mut s = settings("UTC", "2026-11-25", "2026-11-25");
        s.scope = Scope::Only(BTreeSet::from([GroupId(2)]));
        let r = report(&s, &records);
        assert_eq!(r.total.sessions, 1);
        assert_eq!(r.rows[0].group, Some(GroupId(2)));
        let mut s = settings("UTC", "2026-11-25", "2026-11-25");
        s.group = Some(GroupId(1));
        let r = report(&s, &records);
        assert_eq!(r.total.sessions, 1);
        assert_eq!(r.rows[0].group, Some(GroupId(1)));
    }

    #[test]
    fn satisfaction_is_a_distribution_by_level_with_its_average() {
        let base = at("2026-11-25T09:00:00Z");
        let records = [
            rated(
                record(1, base, Some(1), Some(1), Some(1)),
                5,
                "very satisfied",
            ),
            rated(
                record(2, base, Some(1), Some(1), Some(1)),
                5,
                "very satisfied",
            ),
            rated(record(3, base, Some(1), Some(1), Some(1)), 2, "unsatisfied"),
            record(4, base, Some(1), Some(1), Some(1)),
        ];
        let r = report(&settings("UTC", "2026-11-25", "2026-11-25"), &records);
        assert_eq!(r.total.rated, 3);
        assert_eq!(
            r.total.satisfaction,
            vec![
                Rated {
                    value: 2,
                    label: "unsatisfied".to_owned(),
                    sessions: 1
                },
                Rated {
                    value: 5,
                    label: "very satisfied".to_owned(),
                    sessions: 2
                }
            ]
        );
        assert_eq!(r.total.avg_rating, Some(4.0));
    }

    #[test]
    fn bad_ranges_name_the_field() {
        let e = try_settings("UTC", "2026-11-25", "2026-11-24").unwrap_err();
        assert_eq!(e.field, "to");
        let e = try_settings("UTC", "2025-01-01", "2026-11-24").unwrap_err();
        assert_eq!(e.field, "to");
        assert!(e.message.contains("366"), "{}", e.message);
        // 366 days exactly is allowed.
        assert!(try_settings("UTC", "2024-01-01", "2024-12-31").is_ok());
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 90), None);
        assert_eq!(percentile(&[7], 90), Some(7));
        let ten: Vec<u64> = (1..=10).collect();
        assert_eq!(percentile(&ten, 90), Some(9));
        assert_eq!(percentile(&ten, 100), Some(10));
        let eleven: Vec<u64> = (1..=11).collect();
        assert_eq!(percentile(&eleven, 90), Some(10));
    }

    fn any_record() -> impl Strategy<Value = Record> {
        (
            0u64..10_000,
            0i64..(3 * 24 * HOUR),
            prop::option::of(1u64..4),
            prop::option::of(0i64..120_000),
            prop::option::of(0i64..600_000),
            prop::option::of(1u8..=5),
        )
            .prop_map(|(id, offset, group, wait, end, rating)| {
                let r = record(id, at("2026-11-24T00:00:00Z") + offset, group, wait, end);
                match rating {
                    Some(v) => rated(r, v, "level"),
                    None => r,
                }
            })
    }

    proptest! {
        /// Rows, days and groups each add up to the total; no session is counted twice among
        /// answered, abandoned and waiting; ratios stay within 0..=1 and the p90 at most the
        /// maximum.
        #[test]
        fn every_cut_adds_up_to_the_total(records in prop::collection::vec(any_record(), 0..60)) {
            let s = settings("Europe/Paris", "2026-11-24", "2026-11-26");
            let r = report(&s, &records);
            let sum = |it: &mut dyn Iterator<Item = &Figures>| {
                it.fold((0, 0, 0, 0, 0), |acc, f| {
                    (acc.0 + f.sessions, acc.1 + f.answered, acc.2 + f.abandoned,
                     acc.3 + f.waiting, acc.4 + f.rated)
                })
            };
            let t = &r.total;
            let total = (t.sessions, t.answered, t.abandoned, t.waiting, t.rated);
            prop_assert_eq!(sum(&mut r.rows.iter().map(|row| &row.figures)), total);
            prop_assert_eq!(sum(&mut r.days.iter().map(|(_, f)| f)), total);
            prop_assert_eq!(sum(&mut r.groups.iter().map(|(_, f)| f)), total);
            prop_assert_eq!(r.days.len(), 3);
            for f in r.rows.iter().map(|row| &row.figures).chain([t]) {
                prop_assert!(f.answered + f.abandoned + f.waiting <= f.sessions);
                prop_assert!(f.answered_in_target <= f.answered);
                for ratio in [f.service_level, f.abandon_rate].into_iter().flatten() {
                    prop_assert!((0.0..=1.0).contains(&ratio));
                }
                if let (Some(p90), Some(max)) = (f.p90_wait_ms, f.max_wait_ms) {
                    prop_assert!(p90 <= max);
                }
                prop_assert_eq!(f.rated, f.satisfaction.iter().map(|s| s.sessions).sum::<u64>());
            }
        }
    }
}
