//! `POST /v1/rules/validate` (admin): what would these files do? The
//! candidate files are laid over the files a reload would read now,
//! loaded, their rule tests run, and the recent requests replayed against
//! the serving revision and the candidate (see
//! [`crate::reload::validate`] and [`crate::impact`]). Nothing is written
//! and nothing swapped.
//!
//! The answer is `200` whether or not the candidate loads — the question
//! was answered; `loads` and `diagnostics` say how. A `422` means the
//! request itself is wrong (a path outside the rules directory, a file
//! over the size limit), with a pointer to the entry.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::json;
use crate::analysis::GeneratedImpact;
use crate::check::Report;
use crate::impact::Impact;
use crate::reload::validate::{FileChange, Validation};
use crate::request::{self, FieldError};
use crate::rules::Diagnostic;
use crate::service::problem::Problem;
use crate::service::state::AppState;
use crate::service::{admin, body};

/// `POST /v1/rules/validate` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateRequest {
    /// Path inside the rules directory (`tenants/acme.yaml`) → the file's
    /// new text, or `null` to delete the file. Files not named keep their
    /// current text. `{}` validates the files as they are.
    #[schema(value_type = Object)]
    pub files: IndexMap<String, Option<String>>,
}

/// One file the candidate names.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CandidateFile {
    /// Path inside the rules directory.
    pub path: String,
    /// `added`, `changed`, `deleted` or `unchanged` (the text it has already).
    pub change: FileChange,
}

/// A rule test that failed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestFailure {
    /// The test's name.
    pub name: String,
    /// Its file.
    pub file: String,
    /// Its line.
    pub line: u32,
    /// Its column.
    pub column: u32,
    /// What differed.
    pub message: String,
    /// The one-line form `cansend check` prints.
    pub text: String,
}

/// The candidate's rule tests (`cansend check`), and what they covered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestsBody {
    /// Tests that passed.
    pub passed: usize,
    /// Tests that failed.
    pub failed: usize,
    /// Each failure, located.
    pub failures: Vec<TestFailure>,
    /// Rules no test made fire.
    pub unfired_rules: Vec<String>,
    /// Exceptions no test applied.
    pub unused_exceptions: Vec<String>,
}

impl From<Report> for TestsBody {
    fn from(r: Report) -> Self {
        let (passed, failed) = (r.passed(), r.failed());
        let failures = r
            .results
            .into_iter()
            .filter_map(|t| {
                let message = t.failure?;
                let text = format!("{}:{}:{}: error: test `{}` failed: {message}", t.file, t.line, t.column, t.name);
                Some(TestFailure { name: t.name, file: t.file, line: t.line, column: t.column, message, text })
            })
            .collect();
        Self { passed, failed, failures, unfired_rules: r.unfired_rules, unused_exceptions: r.unused_exceptions }
    }
}

/// The answer of `POST /v1/rules/validate`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ValidateBody {
    /// Whether a reload of these files would apply them.
    pub loads: bool,
    /// The revision serving now.
    pub serving: String,
    /// The revision of the files the candidate was laid over: the files a
    /// reload would read now (the serving revision, unless a newer edit was
    /// rejected).
    pub base: String,
    /// The revision the candidate files would have.
    pub candidate: String,
    /// Each file the candidate names.
    pub files: Vec<CandidateFile>,
    /// Errors (when it does not load) or warnings (when it does), each
    /// `file:line:col`, as `GET /v1/rules` shows them.
    pub diagnostics: Vec<Diagnostic>,
    /// The candidate's rule tests; absent when it does not load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tests: Option<TestsBody>,
    /// The recent requests decided by `serving` and by the candidate;
    /// absent when it does not load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
    /// Requests generated from both sets' conditions (every tenant and
    /// channel, each threshold at, below and above it) decided by `serving`
    /// and by the candidate, counted per tenant and channel with examples;
    /// what `cansend diff` reports. Absent when it does not load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_impact: Option<GeneratedImpact>,
}

impl From<Validation> for ValidateBody {
    fn from(v: Validation) -> Self {
        let files = v.files.into_iter().map(|(path, change)| CandidateFile { path, change }).collect();
        let (loads, diagnostics, tests, impact, generated_impact) = match v.result {
            Ok(l) => (true, l.warnings, Some(l.tests.into()), Some(l.impact), Some(l.generated_impact)),
            Err(errors) => (false, errors, None, None, None),
        };
        Self { loads, serving: v.serving, base: v.base, candidate: v.candidate, files, diagnostics, tests, impact, generated_impact }
    }
}

/// What would these rule files change? Admin; reads only.
///
/// `200` with the report whether or not the candidate loads; `422` when a
/// path leaves the rules directory or is not a rule file, or a text is over
/// the file size limit (a pointer per entry, `/files/tenants~1acme.yaml`).
#[utoipa::path(
    post,
    path = "/v1/rules/validate",
    tag = "rules",
    security(("admin_token" = [])),
    request_body(content = ValidateRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The report: loads or not, diagnostics, rule tests, impact on the recent requests", body = ValidateBody),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A token is configured and was not presented", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No token is configured and the peer is not loopback", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not declared as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not `{\"files\": {path: text|null}}`, or a path outside the rules directory; a pointer per entry", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Another validation is running, or the in-flight budget is full (`Retry-After: 1`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn validate(State(app): State<AppState>, req: Request) -> Response {
    if let Err(denied) = admin::check_request(app.admin(), &req) {
        return denied.into_response();
    }
    match run(app, req).await {
        Ok(r) | Err(r) => r,
    }
}

async fn run(app: AppState, req: Request) -> Result<Response, Response> {
    let bytes = body::bytes(req, &app.limits()).await.map_err(IntoResponse::into_response)?;
    let v = request::json::parse_with(&bytes, request::json::Caps::NONE).map_err(|e| Problem::from(e).into_response())?;
    request::json::expect_object(&v).map_err(|e| Problem::invalid(e).into_response())?;
    let candidate: ValidateRequest = request::decode_as(&v).map_err(|e| Problem::invalid(e).into_response())?;
    let overlay: Vec<(String, Option<String>)> = candidate.files.into_iter().collect();
    let Some(permit) = app.try_validate() else {
        let mut busy = Problem::http(StatusCode::SERVICE_UNAVAILABLE, "another validation is running; retry in a moment").into_response();
        busy.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
        return Err(busy);
    };
    let live = app.live().clone();
    let validation = match tokio::task::spawn_blocking(move || {
        let _permit = permit;
        live.validate(&overlay)
    })
    .await
    {
        Ok(v) => v,
        Err(e) => {
            tracing::error!("the validation task failed: {e}");
            return Err(Problem::http(StatusCode::INTERNAL_SERVER_ERROR, "the validation failed unexpectedly").into_response());
        }
    };
    let validation = validation.map_err(|bad| {
        let errors = bad
            .into_iter()
            .map(|b| {
                // An entry, or (for too many of them) the whole map.
                let pointer = if b.path.is_empty() { "/files".to_owned() } else { crate::text::pointer::join("/files", &b.path) };
                FieldError { pointer, message: b.message }
            })
            .collect();
        Problem::invalid(errors).into_response()
    })?;
    Ok(json(StatusCode::OK, &ValidateBody::from(validation)))
}
