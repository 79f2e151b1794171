//! The service time module's schedule: weekly hours in an IANA time zone, and dated
//! exceptions (holidays, special openings) that replace a day's hours.

use serde::{Deserialize, Serialize};

/// When the human service works.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceTime {
    /// The IANA time zone the hours are in (`Europe/Paris`).
    pub time_zone: String,
    /// Hours by weekday.
    pub weekly: Vec<WeeklyHours>,
    /// Dates whose hours replace the weekly ones (no ranges: closed all day).
    #[serde(default)]
    pub exceptions: Vec<DatedHours>,
}

/// Hours on some weekdays.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    /// The weekdays: `mon` .. `sun`.
    pub days: Vec<Day>,
    /// The hours on each of them.
    pub hours: Vec<TimeRange>,
}

/// Hours on one date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DatedHours {
    /// The date, `YYYY-MM-DD`, in the schedule's time zone.
    pub date: String,
    /// Its hours; none: closed.
    #[serde(default)]
    pub hours: Vec<TimeRange>,
}

/// From a local time to a later one the same day (`"09:00"` to `"18:00"`; `"24:00"` is the
/// day's end).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    /// Opens, `HH:MM`.
    pub from: String,
    /// Closes, `HH:MM` (not included).
    pub to: String,
}

/// A weekday.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Day {
    fn of(weekday: jiff::civil::Weekday) -> Day {
        use jiff::civil::Weekday as W;
        match weekday {
            W::Monday => Day::Mon,
            W::Tuesday => Day::Tue,
            W::Wednesday => Day::Wed,
            W::Thursday => Day::Thu,
            W::Friday => Day::Fri,
            W::Saturday => Day::Sat,
            W::Sunday => Day::Sun,
        }
    }
}

/// Minutes since midnight of `HH:MM` (`24:00` is 1440).
pub fn minutes(text: &str) -> Result<u32, String> {
    let bad = || format!("{text:?} is not a time HH:MM");
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl TimeRange {
    /// `[from, to)` in minutes, checked.
    pub fn span(&self) -> Result<(u32, u32), String> {
        let (from, to) = (minutes(&self.from)?, minutes(&self.to)?);
        if from >= to {
            return Err(format!("{} is not before {}", self.from, self.to));
        }
        Ok((from, to))
    }
}

impl ServiceTime {
    /// Checks the schedule; the error names its field.
    pub fn check(&self) -> Result<(), (String, String)> {
        jiff::tz::TimeZone::get(&self.time_zone).map_err(|e| {
            (
                "timeZone".to_owned(),
                format!("{:?} is not an IANA time zone: {e}", self.time_zone),
            )
        })?;
        for (i, w) in self.weekly.iter().enumerate() {
            if w.days.is_empty() {
                return Err((format!("weekly[{i}].days"), "names no day".to_owned()));
            }
            for (j, r) in w.hours.iter().enumerate() {
                r.span()
                    .map_err(|e| (format!("weekly[{i}].hours[{j}]"), e))?;
            }
        }
        for (i, x) in self.exceptions.iter().enumerate() {
            x.date.parse::<jiff::civil::Date>().map_err(|e| {
                (
                    format!("exceptions[{i}].date"),
                    format!("{:?} is not a date YYYY-MM-DD: {e}", x.date),
                )
            })?;
            for (j, r) in x.hours.iter().enumerate() {
                r.span()
                    .map_err(|e| (format!("exceptions[{i}].hours[{j}]"), e))?;
            }
        }
        Ok(())
    }
}

/// Whether the service works at `now_ms` (ms since the epoch): the date's exception when
/// there is one, otherwise the weekday's hours, in the schedule's time zone (so across a
/// daylight-saving change "09:00" stays 09:00 on the wall clock).
pub fn in_hours(schedule: &ServiceTime, now_ms: i64) -> Result<bool, String> {
    let tz = jiff::tz::TimeZone::get(&schedule.time_zone).map_err(|e| e.to_string())?;
    let now = jiff::Timestamp::from_millisecond(now_ms).map_err(|e| e.to_string())?;
    let local = now.to_zoned(tz);
    let minute =
        u32::from(local.hour().unsigned_abs()) * 60 + u32::from(local.minute().unsigned_abs());
    let within = |hours: &[TimeRange]| {
        hours
            .iter()
            .filter_map(|r| r.span().ok())
            .any(|(from, to)| from <= minute && minute < to)
    };
    let date = local.date();
    if let Some(x) = schedule
        .exceptions
        .iter()
        .find(|x| x.date.parse::<jiff::civil::Date>().is_ok_and(|d| d == date))
    {
        return Ok(within(&x.hours));
    }
    let day = Day::of(local.weekday());
    Ok(schedule
        .weekly
        .iter()
        .filter(|w| w.days.contains(&day))
        .any(|w| within(&w.hours)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(from: &str, to: &str) -> TimeRange {
        TimeRange {
            from: from.into(),
            to: to.into(),
        }
    }

    fn paris_office() -> ServiceTime {
        ServiceTime {
            time_zone: "Europe/Paris".into(),
            weekly: vec![WeeklyHours {
                days: vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri, Day::Sun],
                hours: vec![range("09:00", "12:00"), range("14:00", "18:00")],
            }],
            exceptions: vec![
                DatedHours {
                    date: "2026-12-25".into(),
                    hours: vec![],
                },
                DatedHours {
                    date: "2026-12-26".into(),
                    hours: vec![range("10:00", "12:00")],
                },
            ],
        }
    }

    fn at(text: &str) -> i64 {
        text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn hours_and_boundaries() {
        let s = paris_office();
        // Tuesday 2026-03-03, Paris is UTC+1 in winter.
        assert!(
            !in_hours(&s, at("2026-03-03T07:59:59Z")).unwrap(),
            "08:59:59 local"
        );
        assert!(
            in_hours(&s, at("2026-03-03T08:00:00Z")).unwrap(),
            "09:00 local opens"
        );
        assert!(in_hours(&s, at("2026-03-03T10:59:59Z")).unwrap());
        assert!(
            !in_hours(&s, at("2026-03-03T11:00:00Z")).unwrap(),
            "12:00 closes"
        );
        assert!(
            in_hours(&s, at("2026-03-03T13:00:00Z")).unwrap(),
            "14:00 reopens"
        );
        assert!(
            !in_hours(&s, at("2026-03-07T10:00:00Z")).unwrap(),
            "Saturday is closed"
        );
    }

    #[test]
    fn the_wall_clock_hours_hold_across_a_daylight_saving_change() {
        let s = paris_office();
        // Sunday 2026-03-29 Paris moves to UTC+2 at 02:00: 09:00 local is 07:00Z.
        assert!(
            in_hours(&s, at("2026-03-29T07:00:00Z")).unwrap(),
            "09:00 CEST"
        );
        assert!(
            !in_hours(&s, at("2026-03-29T06:59:00Z")).unwrap(),
            "08:59 CEST"
        );
        // The week before, 09:00 local was 08:00Z.
        assert!(
            !in_hours(&s, at("2026-03-22T07:30:00Z")).unwrap(),
            "08:30 CET"
        );
        assert!(
            in_hours(&s, at("2026-03-22T08:00:00Z")).unwrap(),
            "09:00 CET"
        );
        // And back in October (UTC+1 again from Sunday 2026-10-25 03:00).
        assert!(
            in_hours(&s, at("2026-10-25T08:00:00Z")).unwrap(),
            "09:00 CET"
        );
        assert!(
            !in_hours(&s, at("2026-10-25T07:30:00Z")).unwrap(),
            "08:30 CET"
        );
    }

    #[test]
    fn a_dated_exception_replaces_the_weekday() {
        let s = paris_office();
        // 2026-12-25 is a Friday: closed all day.
        assert!(!in_hours(&s, at("2026-12-25T10:00:00Z")).unwrap());
        // 2026-12-26 is a Saturday: open 10:00-12:00 by exception.
        assert!(
            in_hours(&s, at("2026-12-26T09:30:00Z")).unwrap(),
            "10:30 local"
        );
        assert!(
            !in_hours(&s, at("2026-12-26T13:30:00Z")).unwrap(),
            "14:30 local"
        );
    }

    #[test]
    fn bad_schedules_name_their_field() {
        let mut s = paris_office();
        s.time_zone = "Mars/Olympus".into();
        assert_eq!(s.check().unwrap_err().0, "timeZone");
        let mut s = paris_office();
        s.weekly[0].hours[1] = range("18:00", "14:00");
        assert_eq!(s.check().unwrap_err().0, "weekly[0].hours[1]");
        let mut s = paris_office();
        s.exceptions[0].date = "2026-02-30".into();
        assert_eq!(s.check().unwrap_err().0, "exceptions[0].date");
        for bad in ["9:00", "24:01", "12:60", "ab:cd", "1200"] {
            assert!(minutes(bad).is_err(), "{bad}");
        }
        assert_eq!(minutes("24:00"), Ok(1440));
        assert!(paris_office().check().is_ok());
    }
}
