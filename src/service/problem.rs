//! Problems of HTTP itself (404, 405, 408, 413, 415, a bad query) and
//! every problem as a response: `application/problem+json`.
//!
//! The problem body is [`crate::render::Problem`]; responses produced by
//! middleware (413 from the body limit, 405 from the router, 408 from the
//! timeout) are rewritten into the same shape by [`super::layers`].

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub use crate::render::problem::{Problem, truncate};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

impl Problem {
    /// A plain HTTP error: `about:blank`, titled by the status' reason phrase.
    pub fn http(status: StatusCode, detail: impl Into<String>) -> Self {
        Self::new("about:blank", status.canonical_reason().unwrap_or("Error"), status.as_u16(), detail)
    }

    /// 400: the query string is not what the route takes.
    pub fn bad_query(detail: impl Into<String>) -> Self {
        Self::new("urn:cansend:problem:invalid-query", "Invalid query parameters", 400, detail)
    }
    /// 415: the body is not declared as JSON.
    pub fn unsupported_media_type(got: Option<&str>) -> Self {
        let detail = match got {
            Some(ct) => format!("content type `{}` is not JSON; send `application/json`", truncate(ct, 100)),
            None => "no content type; send `Content-Type: application/json`".to_owned(),
        };
        Self::http(StatusCode::UNSUPPORTED_MEDIA_TYPE, detail)
    }

    /// 413: the body is larger than the configured limit.
    pub fn too_large(limit: usize) -> Self {
        Self::http(StatusCode::PAYLOAD_TOO_LARGE, format!("the request body is larger than the limit of {limit} bytes"))
    }

    /// 404: no such route, or no such resource.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::http(StatusCode::NOT_FOUND, detail)
    }

    /// The problem as a response with extension members (RFC 9457 §3.2)
    /// beside the standard ones.
    pub fn with_members<'a>(self, members: impl IntoIterator<Item = (&'a str, serde_json::Value)>) -> Response {
        let status = self.status_code();
        let mut body = match serde_json::to_value(&self) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => return self.into_response(),
        };
        for (k, v) in members {
            body.insert(k.to_owned(), v);
        }
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut res = (status, bytes).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        res
    }

    /// The status as a [`StatusCode`] (500 if it somehow is not one).
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        // Serializing strings and numbers cannot fail; the fallback is a
        // valid problem all the same.
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| br#"{"type":"about:blank","title":"Error","status":500}"#.to_vec());
        let mut res = (status, body).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_is_problem_json() {
        let res = Problem::too_large(10).into_response();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some(PROBLEM_JSON));
    }
}
