//! `POST /v1/send-options`: what the send dialog may offer this sender for
//! this client.
//!
//! The body is the `tenant`, `sender` and `client` of a can-send request,
//! decoded just as strictly. It is bound through the same binder as a
//! decision — with the first channel of the catalog and an empty message
//! as placeholders, which [`send_options`] ignores — so names, attributes
//! and limits are checked, and pointers mean the same, in both routes.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::json;
use crate::engine::model::RuleSet;
use crate::engine::options::{SendOptionsBody, send_options};
use crate::request::{self, CanSendRequest, Client, FieldError, Message, Sender};
use crate::service::body;
use crate::service::problem::Problem;
use crate::service::state::AppState;

/// `POST /v1/send-options` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendOptionsRequest {
    /// Tenant (installation); default from the rules (`default`).
    #[serde(default)]
    pub tenant: Option<String>,
    #[serde(deserialize_with = "crate::request::strict::obj")]
    pub sender: Sender,
    /// The instant the dialog is for (RFC 3339); default: the server's now.
    /// Rules about time (hours, the 24-hour window) and override expiry
    /// are judged at it, as in can-send.
    #[serde(default)]
    pub at: Option<String>,
    #[serde(deserialize_with = "crate::request::strict::obj")]
    pub client: Client,
}

/// Bind a send-options request against `rs` as a can-send request would be.
fn bind(rs: &RuleSet, r: SendOptionsRequest, now: i64) -> Result<crate::engine::input::Input, Problem> {
    let Some(channel) = rs.channels.names.first() else {
        return Err(Problem::http(StatusCode::SERVICE_UNAVAILABLE, "the loaded rules declare no channel"));
    };
    let placeholder = CanSendRequest {
        tenant: r.tenant,
        sender: r.sender,
        action: None,
        at: r.at,
        client: r.client,
        channel: channel.to_string(),
        thread: None,
        message: Message { text: None, template: None, attachments: None },
    };
    request::bind(rs, &placeholder, now).map_err(|errors: Vec<FieldError>| Problem::invalid(errors))
}

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
    )
)]
pub async fn send_options_handler(State(app): State<AppState>, req: Request) -> Result<Response, Problem> {
    let v = body::json(req, &app.limits()).await?;
    body::expect_object(&v).map_err(Problem::invalid)?;
    let r: SendOptionsRequest = request::decode_all(&v).map_err(Problem::invalid)?;
    let snap = app.snapshot();
    let input = bind(&snap.rules, r, crate::now_ms())?;
    Ok(json(StatusCode::OK, &send_options(&snap.rules, &input)))
}
