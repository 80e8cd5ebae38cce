//! `GET /v1/decisions/{request_id}` (admin): "why was this refused?".
//!
//! The agent's UI shows the `x-request-id` of the answer it got; tech
//! support pastes it here and reads the decision, the request as it was
//! sent and the full explanation — each rule evaluated, each condition
//! with the values it compared, each rule's file:line.
//!
//! The decision is found in the ring of recent requests (the last
//! `--replay-capacity`, in memory only) and explained again by the revision
//! that decided it: the engine is pure and the request carries the instant
//! it was decided at, so the explanation is of that very decision. That
//! revision is the one serving or one of the last few it replaced
//! ([`crate::reload::RETIRED`]); older than that, the answer says so and
//! gives the decision without its explanation.
//!
//! The request holds client data: the pointers of `--decision-log-mask`
//! (email, phone, external id, message text, attachment names by default)
//! are shown as `"***"` unless the caller presents the admin token.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value as Json;

use super::json;
use crate::service::admin;
use crate::service::problem::{Problem, truncate};
use crate::service::state::{Admin, AppState};

/// The answer of `GET /v1/decisions/{request_id}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionRecord {
    /// The `x-request-id` of the answer (`<id>:<index>` for a batch item).
    pub request_id: String,
    /// When it was decided (RFC 3339).
    pub decided_at: String,
    /// The revision that decided.
    pub revision: String,
    /// The tenant the message was for.
    pub tenant: String,
    /// The channel it was for.
    pub channel: String,
    /// Whether the request's personal data is shown as `"***"`.
    pub masked: bool,
    /// The request as it was decoded (members it left out are not shown).
    #[schema(value_type = Object)]
    pub request: Json,
    /// The decision, explained (`trace`), as the revision that decided
    /// gives it; absent when that revision is no longer loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::render::Answer>)]
    pub answer: Option<Json>,
    /// Whether it was allowed (also when `answer` is absent).
    pub allowed: bool,
    /// Why `answer` is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A recent decision by the request id of its answer, explained. Admin.
#[utoipa::path(
    get,
    path = "/v1/decisions/{request_id}",
    tag = "decisions",
    params(("request_id" = String, Path, description = "The `x-request-id` of a can-send answer (`<id>:<index>` for a batch item)")),
    security((), ("admin_token" = [])),
    responses(
        (status = 200, description = "The decision, the request (masked unless an admin token was presented) and its explanation", body = DecisionRecord),
        (status = 401, description = "A token is configured and the request does not carry it", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No token is configured and the peer is not loopback", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not among the recent decisions (never decided here, or pushed out of the ring)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn decision(State(app): State<AppState>, id: Result<Path<String>, PathRejection>, req: Request) -> Response {
    if let Err(denied) = admin::check_request(app.admin(), &req) {
        return denied.into_response();
    }
    let Path(id) = match id {
        Ok(id) => id,
        Err(e) => return Problem::http(StatusCode::BAD_REQUEST, e.body_text()).into_response(),
    };
    // Only an admin who proved it with the token sees the personal data.
    let masked = !matches!(app.admin(), Admin::Token(_));
    let live = app.live().clone();
    let mask = app.operations().mask.clone();
    let capacity = live.recent().capacity();
    let wanted = id.clone();
    // A scan of the ring and maybe an explanation: off the async threads.
    let found = tokio::task::spawn_blocking(move || {
        let rec = live.recent().find(&wanted)?;
        let answered = rec.answered.clone()?;
        let mut request = crate::impact::without_nulls(serde_json::to_value(&rec.request).unwrap_or(Json::Null));
        if masked {
            mask.apply(&mut request);
        }
        let snap = live.snapshot_of(&answered.revision);
        let answer = snap.as_ref().and_then(|s| s.engine.explain(&rec.request, rec.now).ok()).and_then(|a| serde_json::to_value(a).ok());
        let tenant = match (&answer, &rec.request.tenant) {
            (Some(a), _) => a.get("tenant").and_then(Json::as_str).map(str::to_owned).unwrap_or_default(),
            (None, Some(t)) => t.clone(),
            (None, None) => live.current().engine.default_tenant().to_owned(),
        };
        let note = answer.is_none().then(|| {
            format!(
                "revision {} is no longer loaded (it was replaced more than {} reloads ago): its explanation cannot be given",
                answered.revision,
                crate::reload::RETIRED
            )
        });
        Some(DecisionRecord {
            request_id: answered.request_id.to_string(),
            decided_at: crate::render::value::rfc3339(rec.now),
            revision: answered.revision.to_string(),
            tenant,
            channel: rec.request.channel.clone(),
            masked,
            request,
            answer,
            allowed: answered.allowed,
            note,
        })
    })
    .await
    .ok()
    .flatten();
    match found {
        Some(record) => json(StatusCode::OK, &record),
        None => Problem::not_found(format!(
            "no recent decision answered with request id `{}`: the service keeps the last {capacity} decided requests (--replay-capacity), in memory",
            truncate(&id, 100)
        ))
        .into_response(),
    }
}
