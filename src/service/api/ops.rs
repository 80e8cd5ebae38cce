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
    /// `/readyz` only: `true` when the newest rule files failed to load and
    /// an older revision serves (still ready; `GET /v1/rules` has the errors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub degraded: Option<bool>,
    /// Why it is degraded: the rejected revision and its first error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = StatusBody)))]
pub async fn healthz(State(app): State<AppState>) -> Response {
    json(
        StatusCode::OK,
        &StatusBody { status: "ok".into(), revision: app.snapshot().engine.revision().to_owned(), degraded: None, reason: None },
    )
}

/// Readiness: a rule set is loaded and decisions are served. (The service
/// only starts listening once its rules loaded, and a failed reload keeps
/// the previous set, so a listening service is ready.) When the newest
/// files failed to load it stays ready — taking replicas out of the load
/// balancer for a typo would turn a rule mistake into an outage — and says
/// `degraded`.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, body = StatusBody)))]
pub async fn readyz(State(app): State<AppState>) -> Response {
    let revision = app.snapshot().engine.revision().to_owned();
    let (degraded, reason) = match app.live().last_error() {
        None => (false, None),
        Some(r) => {
            let first = r.errors.iter().find(|d| d.is_error()).map(|d| format!(": {d}")).unwrap_or_default();
            (true, Some(format!("the rule files of revision {} did not load{first}", r.revision)))
        }
    };
    json(StatusCode::OK, &StatusBody { status: "ready".into(), revision, degraded: Some(degraded), reason })
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
