//! Operations endpoints (no authentication): `/healthz` and `/metrics`, plus the request
//! metrics middleware and the JSON 404 for unknown `/api` paths.
//!
//! Metrics: `kefu_http_requests_total{method,route,status}` and
//! `kefu_http_request_duration_seconds{method,route}`. `route` is the matched route
//! template (`/api/v1/tickets/{id}`), never the raw path, so label cardinality is bounded.

use crate::AppState;
use crate::api::dto::HealthDto;
use crate::error::{ApiError, ApiResult, ErrorCode};
use axum::{
    Json,
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::time::Instant;

#[utoipa::path(get, path = "/healthz", tag = "operations", summary = "Liveness and database check",
    security(()),
    responses((status = 200, body = HealthDto), (status = 503, body = HealthDto)))]
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<HealthDto>) {
    let database = state.store.engine().to_string();
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(HealthDto {
                status: "ok".into(),
                database,
            }),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check: store ping failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(HealthDto {
                    status: "unavailable".into(),
                    database,
                }),
            )
        }
    }
}

#[utoipa::path(get, path = "/metrics", tag = "operations", summary = "Prometheus metrics",
    security(()),
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let body = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    let ct = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
    ([(header::CONTENT_TYPE, ct)], body).into_response()
}

/// Counts requests and records their latency by method, route template and status.
pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let method = req.method().as_str().to_string();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let elapsed = start.elapsed().as_secs_f64();
    metrics::counter!("kefu_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("kefu_http_request_duration_seconds", "method" => method, "route" => route)
        .record(elapsed);
    response
}

/// Unknown paths under `/api` answer with the JSON error shape rather than an empty 404.
pub async fn unknown_api_path() -> ApiResult<()> {
    Err(ApiError::not_found("API endpoint"))
}

/// A known path with an unsupported method.
pub async fn method_not_allowed() -> ApiResult<()> {
    Err(ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this method is not supported on this path",
    ))
}
