//! `POST /v1/send-options`: what the send dialog may offer this sender for
//! this client.
//!
//! The body is the `tenant`, `sender` and `client` of a can-send request,
//! decoded just as strictly ([`SendOptionsRequest`]) and answered by the
//! snapshot's [`Engine::send_options`](crate::Engine::send_options).

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::json;
use crate::render::SendOptionsBody;
use crate::request::options::SendOptionsRequest;
use crate::service::body;
use crate::service::problem::Problem;
use crate::service::state::AppState;

/// For every channel of the tenant: sendable or why not, formats, limits;
/// the role's actions and UI capabilities; the tag policy.
#[utoipa::path(
    post,
    path = "/v1/send-options",
    tag = "decisions",
    request_body(content = SendOptionsRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "What the send dialog may offer", body = SendOptionsBody),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not declared as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown field or name, wrong type; a pointer per error", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The in-flight budget is full (`Retry-After: 1`; `reason`: `inflight_bytes` or `inflight_requests`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn send_options_handler(State(app): State<AppState>, req: Request) -> Result<Response, Problem> {
    let v = body::json(req, &app.limits()).await?;
    let r = SendOptionsRequest::from_json(&v)?;
    let snap = app.snapshot();
    let options = snap.engine.send_options(&r, crate::now_ms())?;
    Ok(json(StatusCode::OK, &options))
}
