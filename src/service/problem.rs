//! Errors as callers see them: RFC 9457 problem details.
//!
//! Every 4xx and 5xx answer of the service is one [`Problem`] with the
//! content type `application/problem+json`, so a caller needs one error
//! decoder, and a field error always carries a JSON pointer into the body
//! it sent. Handlers build problems with the constructors here; responses
//! produced by middleware (413 from the body limit, 405 from the router,
//! 408 from the timeout) are rewritten into the same shape by
//! [`super::layers`].

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::request::FieldError;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem: `{"type","title","status","detail","errors"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; `about:blank` for plain HTTP errors.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// One entry per field of the body that is wrong, with a JSON pointer.
    pub errors: Vec<FieldError>,
}

impl Problem {
    fn new(kind: &str, title: &str, status: StatusCode, detail: impl Into<String>) -> Self {
        Self { kind: kind.to_owned(), title: title.to_owned(), status: status.as_u16(), detail: detail.into(), errors: Vec::new() }
    }

    /// A plain HTTP error: `about:blank`, titled by the status' reason phrase.
    pub fn http(status: StatusCode, detail: impl Into<String>) -> Self {
        Self::new("about:blank", status.canonical_reason().unwrap_or("Error"), status, detail)
    }

    /// 422: the body is JSON but does not match the API or names something
    /// the rules do not know.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", display_pointer(&one.pointer), one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        Self { errors, ..Self::new("urn:cansend:problem:invalid-request", "Invalid request", StatusCode::UNPROCESSABLE_ENTITY, detail) }
    }

    /// 400: the body is not JSON.
    pub fn malformed_json(detail: impl Into<String>) -> Self {
        Self::new("urn:cansend:problem:malformed-json", "Malformed JSON", StatusCode::BAD_REQUEST, detail)
    }

    /// 400: the query string is not what the route takes.
    pub fn bad_query(detail: impl Into<String>) -> Self {
        Self::new("urn:cansend:problem:invalid-query", "Invalid query parameters", StatusCode::BAD_REQUEST, detail)
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

    /// Prefix every pointer, for a problem about one item of a batch.
    pub fn nested_under(mut self, prefix: &str) -> Self {
        for e in &mut self.errors {
            e.pointer = format!("{prefix}{}", e.pointer);
        }
        if let [one] = self.errors.as_slice() {
            self.detail = format!("{}: {}", display_pointer(&one.pointer), one.message);
        }
        self
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

/// The empty pointer (the whole body) reads better as `/`.
fn display_pointer(p: &str) -> &str {
    if p.is_empty() { "/" } else { p }
}

/// At most `max` characters of `s`, for echoing caller input in messages.
pub fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_names_the_one_pointer_in_the_detail() {
        let p = Problem::invalid(vec![FieldError { pointer: "/channel".into(), message: "unknown channel `x`".into() }]);
        assert_eq!(p.status, 422);
        assert_eq!(p.detail, "/channel: unknown channel `x`");
        let p = p.nested_under("/requests/3");
        assert_eq!(p.errors[0].pointer, "/requests/3/channel");
        assert_eq!(p.detail, "/requests/3/channel: unknown channel `x`");
    }

    #[test]
    fn response_is_problem_json() {
        let res = Problem::too_large(10).into_response();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some(PROBLEM_JSON));
    }
}
