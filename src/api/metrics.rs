//! `GET /metrics`: the Prometheus exposition of the live stats and the engine's health,
//! and the middleware that counts HTTP requests by matched route and status.
//!
//! By default it is served on the main listener without authentication, like most
//! exporters: it holds counts and ids, no names or messages, but every app's. The operator
//! restricts it in `[metrics]`: a `token` the scraper sends as a bearer, and/or a `listen`
//! address of its own (e.g. loopback or the monitoring network), in which case the main
//! listener does not serve it at all. It is not part of the OpenAPI document: it is not a
//! JSON API.

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderMap;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::AppState;
use crate::api::error::ApiError;
use crate::stats::{export, names};

/// The exposition format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Renders every metric: engine health first, then the live stats.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.config.metrics.token
        && !bearer_is(&headers, token)
    {
        metrics::counter!(names::METRICS_UNAUTHORIZED.name).increment(1);
        return ApiError::Unauthorized("/metrics wants the bearer token of [metrics] token".into())
            .into_response();
    }
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

/// Whether the request's bearer is `token`, compared in constant time (a scraper's token
/// must not leak a byte per guess through the answer's timing).
fn bearer_is(headers: &HeaderMap, token: &str) -> bool {
    let Some(Ok(given)) = crate::api::auth::bearer_header(headers) else {
        return false;
    };
    let (given, token) = (given.as_bytes(), token.as_bytes());
    given.len() == token.len()
        && given
            .iter()
            .zip(token)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}
