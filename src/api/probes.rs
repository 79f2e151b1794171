//! The probes an orchestrator asks: `/healthz` (the process answers) and `/readyz` (replay
//! is done and the event log takes writes, with the live counts and the log's state).
//!
//! A stalled log (a full disk, a failed fsync) makes `/readyz` answer 503 with the error,
//! so a load balancer sends traffic elsewhere, while `/healthz` stays ok: restarting the
//! process frees no disk, and the log takes writes again by itself once the store does.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::engine::Shared;

/// What the readiness probe reports besides the live counts.
#[derive(Clone)]
struct Ready {
    shared: Shared,
    replay_ms: u64,
}

/// The probe routes, for an engine that replayed its log in `replay_ms`.
pub fn router(shared: Shared, replay_ms: u64) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(Ready { shared, replay_ms })
}

/// `GET /readyz`: ready once replay is done (the server only listens after it) and while
/// the event log takes writes; 503 with the log's error while it does not.
async fn readyz(State(ready): State<Ready>) -> (StatusCode, Json<serde_json::Value>) {
    let registry = &ready.shared.registry;
    let log = ready.shared.log.health();
    let status = if log.writable {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "ready": log.writable,
        "log": log,
        "lastSeq": ready.shared.log.last_seq(),
        "apps": registry.apps.len(),
        "agents": registry.agents.len(),
        "groups": registry.groups.len(),
        "liveSessions": registry.sessions.len(),
        "replayMs": ready.replay_ms,
    });
    (status, Json(body))
}
