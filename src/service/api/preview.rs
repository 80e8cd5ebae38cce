//! `POST /v1/tenants/{tenant}/preview` (admin): what would this change of
//! a tenant's overrides give? The tenant's file with the changes edited
//! into its text (comments and order kept), and the report of `POST
//! /v1/rules/validate` on it (see [`crate::reload::preview`]). Nothing is
//! written: the answer's text is the file to commit.
//!
//! `200` whether or not the candidate loads; `404` for an unknown tenant;
//! `422` for a change that cannot be made (an unknown setting, a layout of
//! the file the editor does not change), a pointer per change.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::json;
use super::validate::ValidateBody;
use crate::reload::preview::{Change, Part, PreviewError};
use crate::request::{self, FieldError};
use crate::service::problem::{Problem, truncate};
use crate::service::state::AppState;
use crate::service::{admin, body};

/// Most changes one preview takes.
pub const MAX_CHANGES: usize = 100;

/// `POST /v1/tenants/{tenant}/preview` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// The changes, made in this order (at least one).
    pub changes: Vec<ChangeBody>,
}

/// One override to set or remove.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeBody {
    /// The setting, as `GET /v1/tenants/{tenant}` lists it:
    /// `settings.NAME`, `channels.CHANNEL.NAME` or `roles.ROLE.NAME`.
    pub setting: String,
    /// The new value as the file writes it (`"30 MB"`, `true`, `5`,
    /// `["jpeg", "png"]`), or `null` to remove the override (the default
    /// applies again).
    #[schema(value_type = Object, nullable)]
    pub value: Json,
    /// The support ticket (written as the override's `ticket`).
    #[serde(default)]
    pub ticket: Option<String>,
    /// The last day the override holds (`2027-06-30`) or an RFC 3339
    /// instant (written as its `expires`).
    #[serde(default)]
    pub expires: Option<String>,
    /// Why (written as its `note`).
    #[serde(default)]
    pub note: Option<String>,
}

/// The answer of `POST /v1/tenants/{tenant}/preview`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PreviewBody {
    /// The tenant.
    pub tenant: String,
    /// The tenant's file, inside the rules directory: the file to commit.
    pub file: String,
    /// The file's whole text with the changes.
    pub text: String,
    /// Whether the text differs from the file as it is.
    pub changed: bool,
    /// The report on the rule files with this text, as `POST /v1/rules/validate` gives it.
    pub validation: ValidateBody,
}

/// What would this change of the tenant's overrides give? Admin; reads only.
#[utoipa::path(
    post,
    path = "/v1/tenants/{tenant}/preview",
    tag = "rules",
    security(("admin_token" = [])),
    params(("tenant" = String, Path, description = "The tenant's name")),
    request_body(content = PreviewRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The candidate file's text, and the report on it: loads or not, diagnostics, rule tests, impact on the recent requests", body = PreviewBody),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A token is configured and was not presented", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No token is configured and the peer is not loopback", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The tenant's file is not in the rules directory any more (a reload is pending)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not declared as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not `{\"changes\": [...]}`, an unknown setting, a value that cannot be written, or a layout of the file that cannot be edited in place; a pointer per change (`/changes/0/setting`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Another validation is running, or the in-flight budget is full (`Retry-After: 1`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn preview(State(app): State<AppState>, tenant: Result<Path<String>, PathRejection>, req: Request) -> Response {
    if let Err(denied) = admin::check_request(app.admin(), &req) {
        return denied.into_response();
    }
    match run(app, tenant, req).await {
        Ok(r) | Err(r) => r,
    }
}

fn invalid(pointer: String, message: impl Into<String>) -> Response {
    Problem::invalid(vec![FieldError { pointer, message: message.into() }]).into_response()
}

async fn run(app: AppState, tenant: Result<Path<String>, PathRejection>, req: Request) -> Result<Response, Response> {
    let Path(tenant) = tenant.map_err(|e| Problem::http(StatusCode::BAD_REQUEST, e.body_text()).into_response())?;
    let bytes = body::bytes(req, &app.limits()).await.map_err(IntoResponse::into_response)?;
    let v = request::json::parse(&bytes).map_err(|e| Problem::from(e).into_response())?;
    request::json::expect_object(&v).map_err(|e| Problem::invalid(e).into_response())?;
    let asked: PreviewRequest = request::decode_as(&v).map_err(|e| Problem::invalid(e).into_response())?;
    if asked.changes.is_empty() {
        return Err(invalid("/changes".into(), "no change: name at least one setting to change"));
    }
    if asked.changes.len() > MAX_CHANGES {
        return Err(invalid("/changes".into(), format!("more than {MAX_CHANGES} changes")));
    }
    let mut changes = Vec::with_capacity(asked.changes.len());
    let mut bad = Vec::new();
    for (i, c) in asked.changes.into_iter().enumerate() {
        if !writable(&c.value) {
            bad.push(FieldError {
                pointer: format!("/changes/{i}/value"),
                message: "a value is a string, a number, a bool or a list of them, or null to remove the override".into(),
            });
        }
        let value = (!c.value.is_null()).then_some(c.value);
        changes.push(Change { setting: c.setting, value, ticket: c.ticket, expires: c.expires, note: c.note });
    }
    if !bad.is_empty() {
        return Err(Problem::invalid(bad).into_response());
    }
    let Some(permit) = app.try_validate() else {
        let mut busy = Problem::http(StatusCode::SERVICE_UNAVAILABLE, "another validation is running; retry in a moment").into_response();
        busy.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
        return Err(busy);
    };
    let live = app.live().clone();
    let name = tenant.clone();
    let result = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        live.preview(&name, &changes)
    })
    .await
    .map_err(|e| {
        tracing::error!("the preview task failed: {e}");
        Problem::http(StatusCode::INTERNAL_SERVER_ERROR, "the preview failed unexpectedly").into_response()
    })?;
    match result {
        Ok(p) => {
            let body = PreviewBody {
                changed: p.text != p.before,
                tenant: p.tenant,
                file: p.file,
                text: p.text,
                validation: ValidateBody::from(p.validation),
            };
            Ok(json(StatusCode::OK, &body))
        }
        Err(PreviewError::UnknownTenant { hint, .. }) => {
            let hint = hint.map(|h| format!("; {h}")).unwrap_or_default();
            Err(Problem::not_found(format!("no tenant `{}`{hint}", truncate(&tenant, 100))).into_response())
        }
        Err(e @ PreviewError::NoFile(_)) => Err(Problem::http(StatusCode::CONFLICT, e.to_string()).into_response()),
        Err(PreviewError::Changes(list)) => {
            let errors = list
                .into_iter()
                .map(|(i, part, message)| {
                    let field = match part {
                        Part::Setting => "setting",
                        Part::Value => "value",
                    };
                    FieldError { pointer: format!("/changes/{i}/{field}"), message }
                })
                .collect();
            Err(Problem::invalid(errors).into_response())
        }
    }
}

/// A value a tenant file can hold: a scalar, or a list of scalars; `null` removes.
fn writable(v: &Json) -> bool {
    match v {
        Json::Null | Json::Bool(_) | Json::Number(_) | Json::String(_) => true,
        Json::Array(a) => a.iter().all(|x| matches!(x, Json::Bool(_) | Json::Number(_) | Json::String(_))),
        Json::Object(_) => false,
    }
}
