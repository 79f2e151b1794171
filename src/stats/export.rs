//! The Prometheus exposition of everything helpline measures, for `GET /metrics`.
//!
//! Two sources make one page:
//! - **engine health** (log append and fsync latency, batch size, events, replay, actor
//!   restarts, timers, sockets, HTTP requests) is recorded through the `metrics` facade
//!   where it happens and rendered by `metrics-exporter-prometheus` ([`recorder`]);
//! - **live stats** ([`super::LiveStats`]) are rendered here from their atomics at each
//!   scrape ([`render_live`]). They are pre-aggregated (their histograms are buckets, not
//!   samples), which the facade cannot take: feeding it every sample again would double
//!   the hot path's cost and keep a second copy, and reading the cells at the scrape also
//!   drops a deleted group's series at once.

use std::fmt::Write as _;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::cell::GroupSnapshot;
use super::histogram::HistogramSnapshot;
use super::names::{self, Kind, Metric};
use super::status::StatusKind;
use super::{Label, LiveSnapshot};

/// Bucket bounds, in seconds, of the log's latency histograms (append, fsync).
pub const LOG_SECONDS_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5,
];
/// Bucket bounds of the events-per-batch histogram (batches hold at most 4,096 events).
pub const BATCH_EVENTS_BUCKETS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1_024.0, 2_048.0, 4_096.0,
];
/// How often the recorder folds histogram samples, so memory stays bounded between
/// scrapes (a scrape folds too).
pub const UPKEEP_SECS: u64 = 5;

/// The process's recorder: installed as the `metrics` facade's global recorder on first
/// use (later calls return the same handle). When another recorder was installed first
/// (a test harness), the handle still renders, empty of engine health.
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = builder().build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was installed first; engine health is not exported");
        }
        describe();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let upkeep = handle.clone();
            runtime.spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(UPKEEP_SECS));
                loop {
                    tick.tick().await;
                    upkeep.run_upkeep();
                }
            });
        }
        handle
    })
}

fn builder() -> PrometheusBuilder {
    let seconds = [names::LOG_APPEND.name, names::LOG_FSYNC.name];
    let mut builder = PrometheusBuilder::new();
    for name in seconds {
        builder = builder
            .set_buckets_for_metric(Matcher::Full(name.to_owned()), LOG_SECONDS_BUCKETS)
            .expect("bucket bounds are not empty");
    }
    builder
        .set_buckets_for_metric(
            Matcher::Full(names::LOG_BATCH_EVENTS.name.to_owned()),
            BATCH_EVENTS_BUCKETS,
        )
        .expect("bucket bounds are not empty")
}

/// Gives every engine-health metric its help text, and starts the counters that appear
/// only on rare events at zero, so dashboards and alerts find them before the first one.
fn describe() {
    for m in names::ENGINE {
        let help = m.help;
        match m.kind {
            Kind::Counter => metrics::describe_counter!(m.name, help),
            Kind::Gauge => metrics::describe_gauge!(m.name, help),
            Kind::Histogram => metrics::describe_histogram!(m.name, help),
        }
    }
    for kind in ["agent", "group", "session", "timers"] {
        metrics::counter!(names::ACTOR_RESTARTS.name, "kind" => kind).absolute(0);
    }
    metrics::counter!(names::LOG_EVENTS.name).absolute(0);
}

fn header(out: &mut String, m: &Metric) {
    let _ = writeln!(out, "# HELP {} {}", m.name, m.help);
    let _ = writeln!(out, "# TYPE {} {}", m.name, m.kind.as_str());
}

fn seconds(ms: u64) -> f64 {
    ms as f64 / 1_000.0
}

fn histogram(out: &mut String, m: &Metric, app: Label, group: Label, h: &HistogramSnapshot) {
    let mut cumulative = 0;
    for (i, count) in h.counts.iter().enumerate() {
        cumulative += count;
        let le = match h.bounds_ms.get(i) {
            Some(bound) => format!("{}", seconds(*bound)),
            None => "+Inf".to_owned(),
        };
        let _ = writeln!(
            out,
            "{}_bucket{{app=\"{app}\",group=\"{group}\",le=\"{le}\"}} {cumulative}",
            m.name
        );
    }
    let _ = writeln!(
        out,
        "{}_sum{{app=\"{app}\",group=\"{group}\"}} {}",
        m.name,
        seconds(h.sum_ms)
    );
    let _ = writeln!(
        out,
        "{}_count{{app=\"{app}\",group=\"{group}\"}} {cumulative}",
        m.name
    );
}

/// Writes the live stats in the exposition format, ages taken at `now_ms`.
pub fn render_live(live: &LiveSnapshot, now_ms: i64, out: &mut String) {
    type Field = fn(&GroupSnapshot, i64) -> f64;
    let per_group: [(&Metric, Field); 12] = [
        (&names::QUEUE_LENGTH, |g, _| g.queue.len as f64),
        (&names::QUEUE_OLDEST_WAIT, |g, now_ms| {
            let start = g.queue.oldest_ms.map_or(now_ms, |s| s as i64);
            seconds(u64::try_from(now_ms.saturating_sub(start)).unwrap_or(0))
        }),
        (&names::SESSIONS_IN_SERVICE, |g, _| g.in_service as f64),
        (&names::OFFERS, |g, _| g.offers as f64),
        (&names::ASSIGNMENTS, |g, _| g.assignments as f64),
        (&names::ACCEPTS, |g, _| g.accepts as f64),
        (&names::OFFER_TIMEOUTS, |g, _| g.timeouts as f64),
        (&names::REDIRECTS, |g, _| g.redirects as f64),
        (&names::TRANSFERS, |g, _| g.transfers as f64),
        (&names::ABANDONS, |g, _| g.abandons as f64),
        (&names::QUEUE_WAIT_EXPIRIES, |g, _| {
            g.queue_wait_expiries as f64
        }),
        (&names::QUEUE_FULL_REFUSALS, |g, _| {
            g.queue_full_refusals as f64
        }),
    ];
    for (m, field) in per_group {
        header(out, m);
        for ((app, group), g) in &live.groups {
            let _ = writeln!(
                out,
                "{}{{app=\"{app}\",group=\"{group}\"}} {}",
                m.name,
                field(g, now_ms)
            );
        }
    }
    header(out, &names::GROUP_AGENTS);
    for ((app, group), g) in &live.groups {
        for (status, count) in StatusKind::ALL.iter().zip(g.agents) {
            let _ = writeln!(
                out,
                "{}{{app=\"{app}\",group=\"{group}\",status=\"{}\"}} {count}",
                names::GROUP_AGENTS.name,
                status.as_str()
            );
        }
    }
    header(out, &names::AGENTS);
    for (app, counts) in &live.apps {
        for (status, count) in StatusKind::ALL.iter().zip(counts) {
            let _ = writeln!(
                out,
                "{}{{app=\"{app}\",status=\"{}\"}} {count}",
                names::AGENTS.name,
                status.as_str()
            );
        }
    }
    type Hist = fn(&GroupSnapshot) -> &HistogramSnapshot;
    let histograms: [(&Metric, Hist); 3] = [
        (&names::QUEUE_WAIT, |g| &g.queue_wait),
        (&names::OFFER_ACCEPT, |g| &g.offer_to_accept),
        (&names::HANDLE, |g| &g.handle_time),
    ];
    for (m, field) in histograms {
        header(out, m);
        for ((app, group), g) in &live.groups {
            histogram(out, m, *app, *group, field(g));
        }
    }
    header(out, &names::FOLDED_GROUPS);
    let _ = writeln!(out, "{} {}", names::FOLDED_GROUPS.name, live.folded_groups);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{AppId, GroupId};
    use crate::stats::LiveStats;

    #[test]
    fn the_live_stats_render_as_the_exposition_format() {
        let live = LiveStats::new();
        let cell = live.open_group(AppId(1), GroupId(10)).unwrap();
        cell.queue.publish(2, 10_000);
        cell.offers.inc();
        cell.queue_wait.observe(700);
        cell.queue_wait.observe(90_000_000);
        live.app(AppId(1)).unwrap().agents.add(StatusKind::Busy);
        let mut out = String::new();
        render_live(&live.read(), 25_500, &mut out);
        for line in [
            "# HELP helpline_queue_length Sessions waiting",
            "# TYPE helpline_queue_length gauge",
            "helpline_queue_length{app=\"1\",group=\"10\"} 2",
            "helpline_queue_oldest_wait_seconds{app=\"1\",group=\"10\"} 15.5",
            "# TYPE helpline_offers_total counter",
            "helpline_offers_total{app=\"1\",group=\"10\"} 1",
            "helpline_agents{app=\"1\",status=\"busy\"} 1",
            "helpline_group_agents{app=\"1\",group=\"10\",status=\"free\"} 0",
            "# TYPE helpline_queue_wait_seconds histogram",
            "helpline_queue_wait_seconds_bucket{app=\"1\",group=\"10\",le=\"0.5\"} 0",
            "helpline_queue_wait_seconds_bucket{app=\"1\",group=\"10\",le=\"1\"} 1",
            "helpline_queue_wait_seconds_bucket{app=\"1\",group=\"10\",le=\"3600\"} 1",
            "helpline_queue_wait_seconds_bucket{app=\"1\",group=\"10\",le=\"+Inf\"} 2",
            "helpline_queue_wait_seconds_sum{app=\"1\",group=\"10\"} 90000.7",
            "helpline_queue_wait_seconds_count{app=\"1\",group=\"10\"} 2",
            "helpline_stats_folded_groups 0",
        ] {
            assert!(out.contains(line), "missing {line:?} in\n{out}");
        }
        for m in names::LIVE {
            assert!(out.contains(&format!("# HELP {} ", m.name)), "{}", m.name);
        }
    }
}
