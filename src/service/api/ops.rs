//! Operations: liveness, readiness, metrics and the API description.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi as _;

use super::json;
use crate::service::metrics::CONTENT_TYPE as METRICS_CONTENT_TYPE;
use crate::service::openapi::ApiDoc;
use crate::service::problem::Problem;
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

/// Query parameters of `/readyz`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReadyQuery {
    /// Ready only once this revision serves (`sha256:…`): a rollout step or
    /// a CI job waits on it (`503` until then).
    pub revision: Option<String>,
}

/// Readiness: a rule set is loaded and decisions are served. (The service
/// only starts listening once its rules loaded, and a failed reload keeps
/// the previous set, so a listening service is ready.) When the newest
/// files failed to load it stays ready — taking replicas out of the load
/// balancer for a typo would turn a rule mistake into an outage — and says
/// `degraded`.
///
/// Gated on a revision — `?revision=sha256:…`, or `--expect-revision` for
/// every probe — it answers `503` (a problem with `revision` serving and
/// `expected_revision`) until that revision serves: a rollout can wait for
/// every replica to take up new rules.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    params(ReadyQuery),
    responses(
        (status = 200, description = "Ready (and serving the revision asked for, if any)", body = StatusBody),
        (status = 400, description = "A query parameter other than `revision`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Not serving the revision asked for (or `--expect-revision`) yet: a problem with `revision` and `expected_revision`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn readyz(State(app): State<AppState>, query: Result<Query<ReadyQuery>, QueryRejection>) -> Response {
    let Query(q) = match query {
        Ok(q) => q,
        Err(e) => return Problem::bad_query(e.body_text()).into_response(),
    };
    let revision = app.snapshot().engine.revision().to_owned();
    let (degraded, reason) = match app.live().last_error() {
        None => (false, None),
        Some(r) => {
            let first = r.errors.iter().find(|d| d.is_error()).map(|d| format!(": {d}")).unwrap_or_default();
            (true, Some(format!("the rule files of revision {} did not load{first}", r.revision)))
        }
    };
    let wanted = q.revision.as_deref().or(app.operations().expect_revision.as_deref());
    if let Some(wanted) = wanted.filter(|w| *w != revision) {
        let why = match &reason {
            Some(r) => format!("serving {revision}, not {wanted} yet; {r}"),
            None => format!("serving {revision}, not {wanted} yet"),
        };
        // A problem like every error, with what a rollout script reads.
        let members = [
            ("revision", serde_json::json!(revision)),
            ("expected_revision", serde_json::json!(wanted)),
            ("degraded", serde_json::json!(degraded)),
        ];
        return Problem::http(StatusCode::SERVICE_UNAVAILABLE, why).with_members(members);
    }
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

/// This API's OpenAPI 3.1 description, generated from the code, with the
/// names the serving rules declare as enums — tenants, channels, roles,
/// actions, client statuses — so a generated client knows them.
/// (`info.x-cansend-revision` says which revision they are from.)
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses((status = 200, description = "OpenAPI document", body = Object))
)]
pub async fn openapi(State(app): State<AppState>) -> Response {
    // The document is fixed at build time: generate it once.
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    let mut doc = DOC.get_or_init(|| serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()).clone();
    let snap = app.snapshot();
    with_names(&mut doc, &snap.engine);
    json(StatusCode::OK, &doc)
}

/// Put the rule set's names into the request schemas as enums (`null` too,
/// where the field may be left out). `client.channels` gets none: unknown
/// names there are ignored, not refused.
fn with_names(doc: &mut serde_json::Value, engine: &crate::Engine) {
    use serde_json::{Value, json};
    let c = engine.catalog();
    let names = |it: &mut dyn Iterator<Item = &str>| it.map(|n| json!(n)).collect::<Vec<Value>>();
    let fields: [(&str, &str, Vec<Value>); 6] = [
        ("CanSendRequest", "tenant", names(&mut c.tenants())),
        ("CanSendRequest", "channel", names(&mut c.channels())),
        ("CanSendRequest", "action", names(&mut c.actions())),
        ("SendOptionsRequest", "tenant", names(&mut c.tenants())),
        ("Sender", "role", names(&mut c.roles())),
        ("Client", "status", names(&mut c.client_statuses())),
    ];
    for (schema, field, mut values) in fields {
        let Some(prop) = doc.pointer_mut(&format!("/components/schemas/{schema}/properties/{field}")) else { continue };
        let nullable = prop.get("type").and_then(Value::as_array).is_some_and(|t| t.iter().any(|t| t == "null"));
        if nullable {
            values.push(Value::Null);
        }
        if let Some(obj) = prop.as_object_mut() {
            obj.insert("enum".into(), Value::Array(values));
        }
    }
    if let Some(info) = doc.pointer_mut("/info").and_then(Value::as_object_mut) {
        info.insert("x-cansend-revision".into(), json!(engine.revision()));
    }
}
