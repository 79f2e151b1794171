//! Live stats: lock-free counters, gauges and histograms per app and per skill group,
//! written by the engine's actors as things happen and read by the Prometheus exporter
//! (`GET /metrics`) and the monitoring API, concurrently.
//!
//! What each structure promises a reader (each is model-checked by `loom-tests`):
//!
//! | structure | writers | a reader sees |
//! |---|---|---|
//! | [`counter::Counter`] (offers, accepts...) | many | every increment, never a decrease; read effects first, never an effect without its cause |
//! | [`gauge::Gauge`] (sessions in service) | many, each taking back what it added | a value in 0..=contributions alive, no update lost |
//! | [`queue::QueueGauge`] (length, oldest wait) | the group's actor publishes snapshots | a pair that was published, never torn |
//! | [`status::StatusGauges`] (agents by status) | many, one move each | every move whole: counts add up to the agents counted |
//! | [`histogram::Histogram`] (waits, handle time) | many | every observation; `_count` equals the `+Inf` bucket |
//!
//! Those files use atomics only through `crate::sync`, and nothing of tokio or the domain,
//! so `loom-tests` compiles them as they are (by path) against loom's atomics. This file
//! and the ones that speak the domain's language ([`record`], [`export`]) are not checked
//! by loom: they hold no shared mutable state of their own besides the directory of
//! cells below, which takes a lock only to add or remove a cell and to list them at a
//! scrape, never to record.
//!
//! **Label cardinality** is bounded: a series per app and group that exist, for the first
//! [`MAX_LABELLED_APPS`] apps and [`MAX_LABELLED_GROUPS`] groups created since the start;
//! beyond them, groups are summed under `group="other"` of their app and apps under
//! `app="other"`. Every group keeps its own cell (so its queue pair stays exact); only the
//! export folds.

pub mod cell;
pub mod counter;
pub mod export;
pub mod gauge;
pub mod histogram;
pub mod names;
pub mod queue;
pub mod record;
pub mod status;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::domain::ids::{AppId, GroupId};

use self::cell::{AppStats, GroupSnapshot, GroupStats};
use self::status::{STATUS_COUNT, StatusCounts};

/// Apps with series of their own; more apps share `app="other"`.
pub const MAX_LABELLED_APPS: usize = 100;
/// Skill groups with series of their own (about 60 series each); more groups share
/// `group="other"` of their app. 500 groups are ~30,000 series, what one Prometheus
/// scrapes comfortably every 15 s.
pub const MAX_LABELLED_GROUPS: usize = 500;

/// A label value: an id, or the fold of everything beyond the cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Label {
    /// The app's or group's id.
    Id(u64),
    /// Everything beyond the label cap.
    Other,
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Label::Id(id) => write!(f, "{id}"),
            Label::Other => f.write_str("other"),
        }
    }
}

struct GroupEntry {
    stats: Arc<GroupStats>,
    labelled: bool,
}

struct AppEntry {
    stats: Arc<AppStats>,
    labelled: bool,
}

#[derive(Default)]
struct Cells {
    groups: BTreeMap<(AppId, GroupId), GroupEntry>,
    apps: BTreeMap<AppId, AppEntry>,
    labelled_groups: usize,
    labelled_apps: usize,
}

/// Every app's and group's live stats; actors keep an `Arc` of their cell.
pub struct LiveStats {
    enabled: AtomicBool,
    cells: RwLock<Cells>,
}

impl Default for LiveStats {
    fn default() -> Self {
        Self {
            enabled: AtomicBool::new(true),
            cells: RwLock::new(Cells::default()),
        }
    }
}

impl std::fmt::Debug for LiveStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveStats")
            .field("enabled", &self.enabled())
            .finish_non_exhaustive()
    }
}

/// Every cell as one scrape saw it, folded to bounded labels.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveSnapshot {
    /// Per (app, group) label pair.
    pub groups: BTreeMap<(Label, Label), GroupSnapshot>,
    /// Agents by status per app label.
    pub apps: BTreeMap<Label, StatusCounts>,
    /// Groups summed under `group="other"`.
    pub folded_groups: usize,
}

impl LiveStats {
    /// Live stats that record (the default).
    pub fn new() -> Self {
        Self::default()
    }

    /// Turns recording on or off for actors started from now on (benches compare the two);
    /// actors already running keep what they hold.
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
    }

    /// Whether new actors record.
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    fn read_cells(&self) -> RwLockReadGuard<'_, Cells> {
        // The maps are only inserted into and removed from whole: a panic elsewhere while
        // the lock was held cannot have left them half-changed.
        self.cells.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_cells(&self) -> RwLockWriteGuard<'_, Cells> {
        self.cells.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The app's cell, made at first use (none when recording is off).
    pub fn app(&self, app: AppId) -> Option<Arc<AppStats>> {
        if !self.enabled() {
            return None;
        }
        if let Some(entry) = self.read_cells().apps.get(&app) {
            return Some(entry.stats.clone());
        }
        let mut cells = self.write_cells();
        Some(app_entry(&mut cells, app).stats.clone())
    }

    /// A group's cell, made when its actor starts (none when recording is off).
    pub fn open_group(&self, app: AppId, group: GroupId) -> Option<Arc<GroupStats>> {
        if !self.enabled() {
            return None;
        }
        if let Some(entry) = self.read_cells().groups.get(&(app, group)) {
            return Some(entry.stats.clone());
        }
        let mut cells = self.write_cells();
        let app_labelled = app_entry(&mut cells, app).labelled;
        if let Some(entry) = cells.groups.get(&(app, group)) {
            return Some(entry.stats.clone());
        }
        let labelled = app_labelled && cells.labelled_groups < MAX_LABELLED_GROUPS;
        cells.labelled_groups += usize::from(labelled);
        let stats = Arc::new(GroupStats::new());
        cells.groups.insert(
            (app, group),
            GroupEntry {
                stats: stats.clone(),
                labelled,
            },
        );
        Some(stats)
    }

    /// An open group's cell (none for a group deleted or never opened, or when off).
    pub fn group(&self, app: AppId, group: GroupId) -> Option<Arc<GroupStats>> {
        self.read_cells()
            .groups
            .get(&(app, group))
            .map(|e| e.stats.clone())
    }

    /// A deleted group's series go; its label slot frees for a group created later.
    pub fn close_group(&self, app: AppId, group: GroupId) {
        let mut cells = self.write_cells();
        if let Some(entry) = cells.groups.remove(&(app, group)) {
            cells.labelled_groups -= usize::from(entry.labelled);
        }
    }

    /// Reads every cell, folding those beyond the label caps.
    pub fn read(&self) -> LiveSnapshot {
        let (groups, apps): (Vec<_>, Vec<_>) = {
            let cells = self.read_cells();
            let app_label = |app: AppId| match cells.apps.get(&app) {
                Some(e) if e.labelled => Label::Id(u64::from(app.0)),
                _ => Label::Other,
            };
            (
                cells
                    .groups
                    .iter()
                    .map(|((app, group), e)| {
                        let app = app_label(*app);
                        let group = match (app, e.labelled) {
                            (Label::Id(_), true) => Label::Id(group.0),
                            _ => Label::Other,
                        };
                        ((app, group), e.stats.clone())
                    })
                    .collect(),
                cells
                    .apps
                    .keys()
                    .map(|app| (app_label(*app), cells.apps[app].stats.clone()))
                    .collect(),
            )
        };
        let mut out = LiveSnapshot::default();
        for (labels, stats) in groups {
            out.folded_groups += usize::from(labels.1 == Label::Other);
            let snapshot = stats.snapshot();
            out.groups
                .entry(labels)
                .and_modify(|s| s.merge(&snapshot))
                .or_insert(snapshot);
        }
        for (label, stats) in apps {
            let counts = stats.agents.read();
            let sum = out.apps.entry(label).or_insert([0; STATUS_COUNT]);
            for (s, c) in sum.iter_mut().zip(counts) {
                *s += c;
            }
        }
        out
    }
}

fn app_entry(cells: &mut Cells, app: AppId) -> &AppEntry {
    if !cells.apps.contains_key(&app) {
        let labelled = cells.labelled_apps < MAX_LABELLED_APPS;
        cells.labelled_apps += usize::from(labelled);
        cells.apps.insert(
            app,
            AppEntry {
                stats: Arc::new(AppStats::default()),
                labelled,
            },
        );
    }
    &cells.apps[&app]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::status::StatusKind;

    #[test]
    fn groups_beyond_the_cap_fold_into_other_and_a_deleted_group_frees_its_slot() {
        let live = LiveStats::new();
        let app = AppId(1);
        for g in 0..MAX_LABELLED_GROUPS as u64 + 2 {
            let cell = live.open_group(app, GroupId(1_000 + g)).unwrap();
            cell.offers.inc();
            cell.queue.publish(1, 5_000 + g as i64);
        }
        let snap = live.read();
        assert_eq!(snap.groups.len(), MAX_LABELLED_GROUPS + 1);
        assert_eq!(snap.folded_groups, 2);
        let other = &snap.groups[&(Label::Id(1), Label::Other)];
        assert_eq!(other.offers, 2, "folded groups add up");
        assert_eq!(other.queue.len, 2);
        assert_eq!(
            other.queue.oldest_ms,
            Some(5_000 + MAX_LABELLED_GROUPS as u64),
            "the older of the folded queues"
        );
        live.close_group(app, GroupId(1_000));
        let late = GroupId(9_999);
        live.open_group(app, late);
        let snap = live.read();
        assert!(snap.groups.contains_key(&(Label::Id(1), Label::Id(late.0))));
        assert!(!snap.groups.contains_key(&(Label::Id(1), Label::Id(1_000))));
    }

    #[test]
    fn apps_beyond_the_cap_fold_into_other() {
        let live = LiveStats::new();
        for a in 1..=MAX_LABELLED_APPS as u32 + 1 {
            live.app(AppId(a)).unwrap().agents.add(StatusKind::Free);
            live.open_group(AppId(a), GroupId(u64::from(a) * 10));
        }
        let snap = live.read();
        assert_eq!(snap.apps.len(), MAX_LABELLED_APPS + 1);
        assert_eq!(snap.apps[&Label::Other][0], 1);
        assert!(snap.groups.contains_key(&(Label::Other, Label::Other)));
    }

    #[test]
    fn nothing_is_recorded_when_off() {
        let live = LiveStats::new();
        live.set_enabled(false);
        assert!(live.app(AppId(1)).is_none());
        assert!(live.open_group(AppId(1), GroupId(10)).is_none());
        assert_eq!(live.read(), LiveSnapshot::default());
    }
}
