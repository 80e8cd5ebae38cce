//! Operations: liveness, readiness, metrics and the API description.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::OpenApi as _;

use super::json;
use crate::service::metrics::CONTENT_TYPE as METRICS_CONTENT_TYPE;
use crate::service::openapi::ApiDoc;
use crate::service::state::AppState;

/// The answer of `/healthz` and `/readyz`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatusBody {
    /// `ok` (alive) or `ready` (serving decisions).
    pub status: String,
    /// The revision being served.
    pub revision: String,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = StatusBody)))]
pub async fn healthz(State(app): State<AppState>) -> Response {
    json(StatusCode::OK, &StatusBody { status: "ok".into(), revision: app.snapshot().rules.revision.to_string() })
}

/// Readiness: a rule set is loaded and decisions are served. (The service
/// only starts listening once its rules loaded, and a failed reload keeps
/// the previous set, so a listening service is ready.)
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, body = StatusBody)))]
pub async fn readyz(State(app): State<AppState>) -> Response {
    json(StatusCode::OK, &StatusBody { status: "ready".into(), revision: app.snapshot().rules.revision.to_string() })
}

/// Prometheus metrics: requests by route and status, decisions, revision.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain"))
)]
pub async fn metrics(State(app): State<AppState>) -> Response {
    let mut res = app.metrics().render().into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(METRICS_CONTENT_TYPE));
    res
}

/// This API's OpenAPI 3.1 description, generated from the code.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses((status = 200, description = "OpenAPI document", body = Object))
)]
pub async fn openapi() -> Response {
    // The document is fixed at build time: generate it once.
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    json(StatusCode::OK, DOC.get_or_init(ApiDoc::openapi))
}
