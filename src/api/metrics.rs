//! `GET /metrics`: the Prometheus exposition of the live stats and the engine's health,
//! and the middleware that counts HTTP requests by matched route and status.
//!
//! Like most exporters it is served on the main listener without authentication: it holds
//! counts and ids, no names or messages. To restrict it, keep `--listen` on a private
//! address, or put a reverse proxy in front that forwards `/metrics` only from the
//! Prometheus servers (e.g. nginx `location = /metrics { allow 10.0.0.0/8; deny all; }`).
//! It is not part of the OpenAPI document: it is not a JSON API.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::AppState;
use crate::stats::{export, names};

/// The exposition format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Renders every metric: engine health first, then the live stats.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let recorder = export::recorder();
    let engine = &state.desk.engine;
    if let Ok(pending) = engine.pending_timers().await {
        metrics::gauge!(names::TIMERS_PENDING.name).set(pending as f64);
    }
    let sockets = [
        ("user", state.hub.user_sockets()),
        ("agent", state.hub.agent_sockets()),
    ];
    for (side, count) in sockets {
        metrics::gauge!(names::WEBSOCKETS.name, "side" => side).set(count as f64);
    }
    let mut body = recorder.render();
    let live = engine.shared().registry.live.read();
    export::render_live(&live, state.clock.now_ms(), &mut body);
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        body,
    )
        .into_response()
}

/// Counts each request by method, matched route and status. A request no route matched
/// counts under `route="unmatched"`, so a scan of random URLs adds no series.
pub async fn count_request(request: Request, next: Next) -> Response {
    let method = match *request.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    metrics::counter!(
        names::HTTP_REQUESTS.name,
        "method" => method,
        "route" => route,
        "status" => response.status().as_str().to_owned()
    )
    .increment(1);
    response
}
