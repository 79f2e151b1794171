//! Who sees which records, the list's filters, and its pages (newest first, with a
//! cursor that stays right while new sessions start). Pure: the API builds a [`Viewer`]
//! and a [`Filter`] from the request, the index gives the keyword's sessions.

use std::fmt;
use std::str::FromStr;

use crate::domain::directory::Scope;
use crate::domain::ids::{AgentId, AppId, GroupId, SessionId};
use crate::records::projection::{Projection, Record};

/// Most records one page holds.
pub const MAX_PAGE: usize = 100;
/// Records a page holds when the caller does not say.
pub const DEFAULT_PAGE: usize = 20;

/// Whose eyes a list or a detail is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Viewer {
    /// An agent (the built-in agent role): the sessions they served, nothing else.
    Own(AgentId),
    /// A role with the service records module: the sessions that queued in a skill group
    /// of its scope (all of them for `Scope::All`), and those the caller served.
    Scoped {
        /// The module's scope.
        scope: Scope,
        /// The caller, when an account (not an API key).
        agent: Option<AgentId>,
    },
}

impl Viewer {
    /// Whether the viewer may see `record` (of the viewer's app).
    pub fn sees(&self, record: &Record) -> bool {
        match self {
            Viewer::Own(agent) => record.served_by(*agent),
            Viewer::Scoped { scope, agent } => {
                let in_scope = match scope {
                    Scope::All => true,
                    Scope::Only(groups) => record.groups.iter().any(|g| groups.contains(g)),
                };
                in_scope || agent.is_some_and(|a| record.served_by(a))
            }
        }
    }
}

/// The list's filters; every one given must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Sessions that started at or after this, ms since the epoch.
    pub from_ms: Option<i64>,
    /// Sessions that started before this (exclusive).
    pub to_ms: Option<i64>,
    /// Sessions that queued in this skill group (first or after a transfer).
    pub group: Option<GroupId>,
    /// Sessions this agent served.
    pub agent: Option<AgentId>,
}

impl Filter {
    /// Whether `record` passes (its start is checked by the caller's range, and here).
    pub fn matches(&self, record: &Record) -> bool {
        self.from_ms.is_none_or(|f| record.created_at_ms >= f)
            && self.to_ms.is_none_or(|t| record.created_at_ms < t)
            && self.group.is_none_or(|g| record.groups.contains(&g))
            && self.agent.is_none_or(|a| record.served_by(a))
    }
}

/// Where the next page starts: just after this record in the list's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    /// The record's start.
    pub created_at_ms: i64,
    /// The record's session.
    pub session: SessionId,
}

impl Cursor {
    fn of(record: &Record) -> Self {
        Self {
            created_at_ms: record.created_at_ms,
            session: record.session,
        }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.created_at_ms, self.session.0)
    }
}

impl FromStr for Cursor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a cursor this list gave");
        let (at, session) = s.split_once('.').ok_or_else(bad)?;
        Ok(Self {
            created_at_ms: at.parse().map_err(|_| bad())?,
            session: SessionId(session.parse().map_err(|_| bad())?),
        })
    }
}

/// One page of a list.
#[derive(Debug)]
pub struct Page<'a> {
    /// The records, newest first.
    pub records: Vec<&'a Record>,
    /// Where the next page starts, when there is one.
    pub next: Option<Cursor>,
}

/// A page of `app`'s records the viewer sees that pass `filter`, and (with a keyword) are
/// among `hits` (`(start, session)`, newest first); newest first by start, after `after`, at
/// most `limit` (clamped to 1..=[`MAX_PAGE`]).
pub fn page<'a>(
    records: &'a Projection,
    app: AppId,
    viewer: &Viewer,
    filter: &Filter,
    hits: Option<&[(i64, SessionId)]>,
    after: Option<Cursor>,
    limit: usize,
) -> Page<'a> {
    let limit = limit.clamp(1, MAX_PAGE);
    let keep = |r: &&Record| r.app == app && viewer.sees(r) && filter.matches(r);
    let mut out: Vec<&Record> = match hits {
        // A keyword's sessions are usually far fewer than the app's: walk them, not the app.
        Some(hits) => {
            debug_assert!(hits.is_sorted_by(|a, b| a >= b), "hits come newest first");
            hits.iter()
                .filter(|&&(at, session)| {
                    after.is_none_or(|c| (at, session) < (c.created_at_ms, c.session))
                })
                .filter_map(|(_, s)| records.get(*s))
                .filter(keep)
                .take(limit + 1)
                .collect()
        }
        None => records
            .newest_first(
                app,
                filter.from_ms.unwrap_or(i64::MIN),
                filter.to_ms.unwrap_or(i64::MAX),
                after.map(|c| (c.created_at_ms, c.session)),
            )
            .filter(keep)
            .take(limit + 1)
            .collect(),
    };
    let next = if out.len() > limit {
        out.truncate(limit);
        out.last().map(|r| Cursor::of(r))
    } else {
        None
    };
    Page { records: out, next }
}
