//! Every metric helpline exports: its name, kind and help text, in one place, so the
//! exporter, the `describe_*` calls, the README and the dashboards' tests agree.
//!
//! Names follow Prometheus conventions: the `helpline_` prefix, base units in the name
//! (`_seconds`), `_total` on counters. Live stats are labelled `app` and `group` (ids; see
//! [`super::MAX_LABELLED_GROUPS`] for the cap), agents also by `status`.

/// What kind of series a metric is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (resets when the process restarts).
    Counter,
    /// Goes up and down.
    Gauge,
    /// Buckets, `_sum` and `_count`.
    Histogram,
}

impl Kind {
    /// The exposition format's `# TYPE` word.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// One exported metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metric {
    /// The series name.
    pub name: &'static str,
    /// Counter, gauge or histogram.
    pub kind: Kind,
    /// Its labels, in the order the exporter writes them.
    pub labels: &'static [&'static str],
    /// The `# HELP` text.
    pub help: &'static str,
}

const fn metric(
    name: &'static str,
    kind: Kind,
    labels: &'static [&'static str],
    help: &'static str,
) -> Metric {
    Metric {
        name,
        kind,
        labels,
        help,
    }
}

const GROUP: &[&str] = &["app", "group"];

// ---- live stats (src/stats, read at every scrape) ----

/// Sessions waiting in a group's queue.
pub const QUEUE_LENGTH: Metric = metric(
    "helpline_queue_length",
    Kind::Gauge,
    GROUP,
    "Sessions waiting in the skill group's queue (including those whose reservation is being asked).",
);
/// How long the longest-waiting session of a queue has waited.
pub const QUEUE_OLDEST_WAIT: Metric = metric(
    "helpline_queue_oldest_wait_seconds",
    Kind::Gauge,
    GROUP,
    "How long the longest-waiting session of the queue has waited, at the scrape (0 when the queue is empty).",
);
/// A group's members by status.
pub const GROUP_AGENTS: Metric = metric(
    "helpline_group_agents",
    Kind::Gauge,
    &["app", "group", "status"],
    "Members of the skill group by status (an agent in several groups counts in each).",
);
/// An app's agents by status.
pub const AGENTS: Metric = metric(
    "helpline_agents",
    Kind::Gauge,
    &["app", "status"],
    "Agents of the app by status, each counted once.",
);
/// Sessions in service.
pub const SESSIONS_IN_SERVICE: Metric = metric(
    "helpline_sessions_in_service",
    Kind::Gauge,
    GROUP,
    "Sessions an agent serves now, by the skill group that routed them.",
);
/// Offers.
pub const OFFERS: Metric = metric(
    "helpline_offers_total",
    Kind::Counter,
    GROUP,
    "Sessions offered to an agent, who must accept before the countdown ends (manual reception).",
);
/// Assignments.
pub const ASSIGNMENTS: Metric = metric(
    "helpline_assignments_total",
    Kind::Counter,
    GROUP,
    "Sessions assigned to an agent at once (auto reception).",
);
/// Accepts.
pub const ACCEPTS: Metric = metric(
    "helpline_accepts_total",
    Kind::Counter,
    GROUP,
    "Offers the agent accepted.",
);
/// Timeouts.
pub const OFFER_TIMEOUTS: Metric = metric(
    "helpline_offer_timeouts_total",
    Kind::Counter,
    GROUP,
    "Offers whose accept countdown ran out.",
);
/// Redirects.
pub const REDIRECTS: Metric = metric(
    "helpline_redirects_total",
    Kind::Counter,
    GROUP,
    "Sessions put back in the queue after a missed offer (timeout or agent gone), keeping their place.",
);
/// Transfers.
pub const TRANSFERS: Metric = metric(
    "helpline_transfers_total",
    Kind::Counter,
    GROUP,
    "Sessions an agent handed on to a skill group or another agent, by the group that routed them.",
);
/// Abandons.
pub const ABANDONS: Metric = metric(
    "helpline_abandons_total",
    Kind::Counter,
    GROUP,
    "Sessions that ended while waiting (queued or offered), before an agent took them: the user left, or the queue wait limit ran out.",
);
/// Queue wait limit expiries.
pub const QUEUE_WAIT_EXPIRIES: Metric = metric(
    "helpline_queue_wait_expiries_total",
    Kind::Counter,
    GROUP,
    "Sessions the skill group's queue wait limit (maxQueueWaitSecs) ended, closeBy timer; each also counts as an abandon.",
);
/// Queue full refusals.
pub const QUEUE_FULL_REFUSALS: Metric = metric(
    "helpline_queue_full_refusals_total",
    Kind::Counter,
    GROUP,
    "Sessions (ended, closeBy timer) and agents' transfers (refused) the skill group's full queue (maxQueued) did not let in.",
);
/// Queue wait.
pub const QUEUE_WAIT: Metric = metric(
    "helpline_queue_wait_seconds",
    Kind::Histogram,
    GROUP,
    "Time from entering the queue to being offered or assigned to an agent (a redirected session keeps its entry time).",
);
/// Offer to accept.
pub const OFFER_ACCEPT: Metric = metric(
    "helpline_offer_accept_seconds",
    Kind::Histogram,
    GROUP,
    "Time from an offer to the agent's accept.",
);
/// Handle time.
pub const HANDLE: Metric = metric(
    "helpline_handle_seconds",
    Kind::Histogram,
    GROUP,
    "Time an agent served a session: from taking it to its end or a transfer.",
);
/// Groups whose series are folded into `group="other"`.
pub const FOLDED_GROUPS: Metric = metric(
    "helpline_stats_folded_groups",
    Kind::Gauge,
    &[],
    "Skill groups beyond the label cap, whose live stats are summed under group=\"other\".",
);

// ---- engine health (through the `metrics` facade) ----

/// Log frame write time.
pub const LOG_APPEND: Metric = metric(
    "helpline_log_append_seconds",
    Kind::Histogram,
    &[],
    "Time to write one batch's frame into the event log, before fsync.",
);
/// Log fsync time.
pub const LOG_FSYNC: Metric = metric(
    "helpline_log_fsync_seconds",
    Kind::Histogram,
    &[],
    "Time one fsync of a batch of the event log takes.",
);
/// Events per batch.
pub const LOG_BATCH_EVENTS: Metric = metric(
    "helpline_log_batch_events",
    Kind::Histogram,
    &[],
    "Events per committed batch (one frame, one fsync) of the event log.",
);
/// Events made durable.
pub const LOG_EVENTS: Metric = metric(
    "helpline_log_events_appended_total",
    Kind::Counter,
    &[],
    "Events made durable in the event log (its rate is events per second).",
);
/// The highest durable seq.
pub const LOG_DURABLE_SEQ: Metric = metric(
    "helpline_log_durable_seq",
    Kind::Gauge,
    &[],
    "The highest durable sequence number of the event log.",
);
/// Whether the event log takes writes.
pub const LOG_WRITABLE: Metric = metric(
    "helpline_log_writable",
    Kind::Gauge,
    &[],
    "1 while the event log takes writes, 0 while a storage error (a full disk, a failed fsync) stalls it.",
);
/// Failed batch writes.
pub const LOG_WRITE_FAILURES: Metric = metric(
    "helpline_log_write_failures_total",
    Kind::Counter,
    &[],
    "Attempts to write or fsync a batch of the event log that failed; the batch is retried.",
);
/// Replay time at start.
pub const REPLAY: Metric = metric(
    "helpline_replay_seconds",
    Kind::Gauge,
    &[],
    "How long the last start took to replay the event log and start the engine.",
);
/// Actor restarts.
pub const ACTOR_RESTARTS: Metric = metric(
    "helpline_actor_restarts_total",
    Kind::Counter,
    &["kind"],
    "Actors the supervisor rebuilt from the log after a failure, by kind (agent, group, session, timers).",
);
/// Timers armed.
pub const TIMERS_PENDING: Metric = metric(
    "helpline_timers_pending",
    Kind::Gauge,
    &[],
    "Deadlines armed in the timer actors (accept countdowns, reply timeouts, queue wait limits), at the scrape.",
);
/// WebSocket connections.
pub const WEBSOCKETS: Metric = metric(
    "helpline_websocket_connections",
    Kind::Gauge,
    &["side"],
    "Open WebSocket connections by side (user, agent), at the scrape.",
);
/// HTTP requests.
pub const HTTP_REQUESTS: Metric = metric(
    "helpline_http_requests_total",
    Kind::Counter,
    &["method", "route", "status"],
    "HTTP requests answered, by method, matched route (the pattern, not the URL) and status.",
);
/// Password checks refused by a limit.
pub const PASSWORD_CHECKS_REFUSED: Metric = metric(
    "helpline_password_checks_refused_total",
    Kind::Counter,
    &["route", "limit"],
    "Sign-ins and password changes refused before any password check, by route (login, password) and limit (address: attempts per address, backoff: wrong passwords per email and address).",
);
/// Agent socket tickets refused.
pub const SOCKET_TICKETS_REFUSED: Metric = metric(
    "helpline_socket_tickets_refused_total",
    Kind::Counter,
    &[],
    "Agent socket tickets refused because the sign-in (or the server) holds too many unused ones.",
);
/// Agents refused by the per-app cap.
pub const AGENTS_REFUSED: Metric = metric(
    "helpline_agents_refused_total",
    Kind::Counter,
    &[],
    "Agent creations and imports refused because the app would exceed max_agents_per_app.",
);
/// Outbound calls refused for their address.
pub const OUTBOUND_REFUSED: Metric = metric(
    "helpline_outbound_refused_total",
    Kind::Counter,
    &[],
    "Flow interface calls and webhook bot questions refused because their address is internal (loopback, private, link-local...) and not in outbound.allow.",
);
/// Connections refused over the cap.
pub const CONNECTIONS_REFUSED: Metric = metric(
    "helpline_connections_refused_total",
    Kind::Counter,
    &[],
    "TCP connections accepted and closed at once because server.max_connections were open.",
);
/// Connections closed by a timeout.
pub const CONNECTIONS_TIMED_OUT: Metric = metric(
    "helpline_connections_timed_out_total",
    Kind::Counter,
    &["timeout"],
    "Connections closed by a timeout: header (request headers too slow), idle (nothing either way), ws_ping (a WebSocket pong missing).",
);
/// Scrapes refused for their token.
pub const METRICS_UNAUTHORIZED: Metric = metric(
    "helpline_metrics_unauthorized_total",
    Kind::Counter,
    &[],
    "Requests to /metrics refused because they lacked the bearer token of metrics.token.",
);
/// Refusals of the user end's abuse limits.
pub const USER_REFUSALS: Metric = metric(
    "helpline_user_refusals_total",
    Kind::Counter,
    &["reason"],
    "Requests of the user end refused by a limit, by reason (visitors_per_address, visitors_per_channel, messages, sockets, origin, channel).",
);

/// The live stats, in the order the exporter writes them.
pub const LIVE: &[Metric] = &[
    QUEUE_LENGTH,
    QUEUE_OLDEST_WAIT,
    GROUP_AGENTS,
    AGENTS,
    SESSIONS_IN_SERVICE,
    OFFERS,
    ASSIGNMENTS,
    ACCEPTS,
    OFFER_TIMEOUTS,
    REDIRECTS,
    TRANSFERS,
    ABANDONS,
    QUEUE_WAIT_EXPIRIES,
    QUEUE_FULL_REFUSALS,
    QUEUE_WAIT,
    OFFER_ACCEPT,
    HANDLE,
    FOLDED_GROUPS,
];

/// The engine's health metrics, recorded through the `metrics` facade.
pub const ENGINE: &[Metric] = &[
    LOG_APPEND,
    LOG_FSYNC,
    LOG_BATCH_EVENTS,
    LOG_EVENTS,
    LOG_DURABLE_SEQ,
    LOG_WRITABLE,
    LOG_WRITE_FAILURES,
    REPLAY,
    ACTOR_RESTARTS,
    TIMERS_PENDING,
    WEBSOCKETS,
    HTTP_REQUESTS,
    PASSWORD_CHECKS_REFUSED,
    SOCKET_TICKETS_REFUSED,
    AGENTS_REFUSED,
    OUTBOUND_REFUSED,
    CONNECTIONS_REFUSED,
    CONNECTIONS_TIMED_OUT,
    METRICS_UNAUTHORIZED,
    USER_REFUSALS,
];

/// Every metric helpline exports.
pub fn all() -> impl Iterator<Item = &'static Metric> {
    LIVE.iter().chain(ENGINE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_prometheus_conventions() {
        let mut seen = std::collections::BTreeSet::new();
        for m in all() {
            assert!(m.name.starts_with("helpline_"), "{}", m.name);
            assert!(seen.insert(m.name), "{} twice", m.name);
            assert!(
                m.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{}",
                m.name
            );
            assert_eq!(
                m.kind == Kind::Counter,
                m.name.ends_with("_total"),
                "{}: counters and only counters end in _total",
                m.name
            );
            assert!(!m.help.is_empty() && !m.help.contains('\n'), "{}", m.name);
            for unit in ["_ms", "_millis", "_minutes", "_kib"] {
                assert!(!m.name.contains(unit), "{}: base units only", m.name);
            }
        }
    }

    /// The README's Metrics section lists every metric exported, so it cannot fall behind.
    #[test]
    fn the_readme_lists_every_metric() {
        let readme = include_str!("../../README.md");
        for m in all() {
            assert!(
                readme.contains(&format!("| `{}` |", m.name)),
                "README.md does not list {}",
                m.name
            );
        }
    }
}
