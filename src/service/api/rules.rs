//! `GET /v1/rules` and `GET /v1/tenants/{tenant}`: what is being served.
//!
//! Replicas behind a load balancer each report their revision here, and
//! tech support reads a tenant's effective limits with their provenance.
//!
//! Both answers carry `ETag: "<revision>"`; a request with a matching
//! `If-None-Match` is answered `304 Not Modified` — unless the answer can
//! have changed with the revision the same: `GET /v1/rules` while the
//! newest files are rejected (the rejection is news), and a tenant's
//! settings "now" while one of its overrides expires (they change at its
//! expiry). With `?at=` the settings are the same for the same revision.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::json;
use crate::render::TenantView;
use crate::rules::Diagnostic;
use crate::service::problem::{Problem, truncate};
use crate::service::state::AppState;
use crate::text::hint::did_you_mean;

/// A rule file of the served set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FileBody {
    /// Path relative to the rules directory.
    pub path: String,
    /// `catalog`, `settings`, `rules`, `tenant` or `tests`.
    pub kind: String,
    /// SHA-256 of the file's content, hex.
    pub sha256: String,
}

/// Why the newest rule files were not applied.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoadErrorBody {
    /// The revision (content hash) of the files that failed to load.
    pub revision: String,
    /// When the failed load happened (RFC 3339).
    pub at: String,
    /// Every diagnostic of that load, `file:line:col`.
    pub errors: Vec<Diagnostic>,
}

/// The answer of `GET /v1/rules`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RulesBody {
    /// Content hash of all rule files.
    pub revision: String,
    /// When this revision was loaded (RFC 3339).
    pub loaded_at: String,
    /// The rule directory, or `(built-in rules)`.
    pub source: String,
    /// The rule files and their hashes.
    pub files: Vec<FileBody>,
    /// The tenants.
    pub tenants: Vec<String>,
    /// Warnings: of the load, and about tenant overrides that have expired
    /// or expire within `--warn-expiry` days, judged now.
    pub warnings: Vec<Diagnostic>,
    /// The last reload that failed, if the newest files did not load.
    pub last_error: Option<LoadErrorBody>,
}

/// The entity tag of an answer about `revision`: the revision, quoted.
fn etag(revision: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("\"{revision}\"")).ok()
}

/// Whether `If-None-Match` names `revision` (or is `*`), weakly compared.
fn matches(headers: &HeaderMap, revision: &str) -> bool {
    headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|tag| {
        let tag = tag.trim();
        tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"') == revision
    })
}

/// `304` with the tag, or the answer with it.
fn tagged(revision: &str, unchanged: bool, answer: impl FnOnce() -> Response) -> Response {
    let mut res = if unchanged { StatusCode::NOT_MODIFIED.into_response() } else { answer() };
    if let Some(tag) = etag(revision) {
        res.headers_mut().insert(header::ETAG, tag);
    }
    res
}

/// The rule set being served: revision, files and hashes, tenants.
#[utoipa::path(
    get,
    path = "/v1/rules",
    tag = "rules",
    params(("If-None-Match" = Option<String>, Header, description = "The `ETag` of an earlier answer: `304` when the revision is the same and nothing is rejected")),
    responses(
        (status = 200, description = "The served rule set; `ETag` is the revision", body = RulesBody),
        (status = 304, description = "Not modified: the same revision serves, and no newer files were rejected"),
    )
)]
pub async fn rules(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let snap = app.snapshot();
    let engine = &snap.engine;
    let last_error = app.live().last_error();
    let unchanged = last_error.is_none() && matches(&headers, engine.revision());
    tagged(engine.revision(), unchanged, || rules_body(&app, &snap, last_error))
}

fn rules_body(app: &AppState, snap: &crate::reload::Snapshot, last_error: Option<crate::reload::Rejected>) -> Response {
    let engine = &snap.engine;
    let body = RulesBody {
        revision: engine.revision().to_owned(),
        // RFC 3339, as the snapshot's serde form writes it.
        loaded_at: snap.loaded_at_rfc3339(),
        source: app.live().source().to_string(),
        files: engine.files().map(|f| FileBody { path: f.path.to_owned(), kind: f.kind.to_owned(), sha256: f.sha256.to_owned() }).collect(),
        tenants: engine.tenants().map(str::to_owned).collect(),
        warnings: app.live().warnings(),
        last_error: last_error.map(|r| LoadErrorBody { revision: r.revision, at: r.at, errors: r.errors }),
    };
    json(StatusCode::OK, &body)
}

/// Query parameters of `GET /v1/tenants/{tenant}`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TenantQuery {
    /// The instant (RFC 3339) at which to judge expiring overrides, e.g.
    /// `2026-12-31T12:00:00Z`; default now. A `+` of an offset is `%2B` in a URL.
    pub at: Option<String>,
}

/// The instant of `?at=`, in ms since the epoch, and whether it was given;
/// `now` without one. A value that is not RFC 3339 is a 400 naming the
/// parameter.
fn at_instant(query: Result<Query<TenantQuery>, QueryRejection>, now: i64) -> Result<(i64, bool), Problem> {
    let Query(q) = query.map_err(|e| Problem::bad_query(e.body_text()))?;
    let Some(at) = q.at else { return Ok((now, false)) };
    match chrono::DateTime::parse_from_rfc3339(&at) {
        Ok(t) => Ok((t.timestamp_millis(), true)),
        Err(_) => {
            // A `+` that was not escaped arrives as a space.
            let plus = if at.contains(' ') { " (a `+` in a URL must be written `%2B`)" } else { "" };
            Err(Problem::bad_query(format!(
                "query parameter `at`: `{}` is not an RFC 3339 instant (e.g. 2026-11-20T09:30:00Z){plus}",
                truncate(&at, 64)
            )))
        }
    }
}

/// A tenant's effective settings after layering, each with its provenance,
/// now or at the instant `?at=`.
#[utoipa::path(
    get,
    path = "/v1/tenants/{tenant}",
    tag = "rules",
    params(
        ("tenant" = String, Path, description = "The tenant's name"),
        TenantQuery,
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of an earlier answer: `304` when nothing can have changed"),
    ),
    responses(
        (status = 200, description = "Effective settings: tenant-wide, per channel, per role; `ETag` is the revision", body = TenantView),
        (status = 304, description = "Not modified: the same revision serves (and, without `at`, no override of the tenant expires)"),
        (status = 400, description = "A query parameter that is not `at`, or an `at` that is not RFC 3339", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn tenant(
    State(app): State<AppState>,
    name: Result<Path<String>, PathRejection>,
    query: Result<Query<TenantQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let Path(name) = name.map_err(|e| Problem::http(StatusCode::BAD_REQUEST, e.body_text()))?;
    let (at, explicit) = at_instant(query, crate::now_ms())?;
    let snap = app.snapshot();
    let engine = &snap.engine;
    match engine.tenant_view(&name, at) {
        Some(body) => {
            let timeless = explicit || engine.expiring_overrides().iter().all(|e| e.tenant != name);
            let unchanged = timeless && matches(&headers, engine.revision());
            Ok(tagged(engine.revision(), unchanged, || json(StatusCode::OK, &body)))
        }
        None => {
            let hint = did_you_mean(&name, engine.tenants()).map(|h| format!("; {h}")).unwrap_or_default();
            Err(Problem::not_found(format!("no tenant `{}`{hint}", truncate(&name, 100))))
        }
    }
}
