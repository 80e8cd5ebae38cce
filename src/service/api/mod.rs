//! The handlers of HTTP API v1, one file per concern. Each handler loads
//! the rule-set snapshot once and answers from it alone; each is
//! documented with `#[utoipa::path]` so `/openapi.json` is generated from
//! the code that serves.

pub mod decide;
pub mod decisions;
pub mod ops;
pub mod options;
pub mod preview;
pub mod reload;
pub mod rules;
pub mod validate;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::problem::Problem;

/// A JSON answer. (The crate does its own JSON on the way in and out, so
/// every status and body is under its control.)
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut res = (status, bytes).into_response();
            res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            res
        }
        Err(e) => Problem::http(StatusCode::INTERNAL_SERVER_ERROR, format!("the answer could not be encoded: {e}")).into_response(),
    }
}
