//! Errors as callers see them: RFC 9457 problem details.
//!
//! Every 4xx and 5xx answer of the service is one [`Problem`] with the
//! content type `application/problem+json`, so a caller needs one error
//! decoder, and a field error always carries a JSON pointer into the body
//! it sent. `cansend eval` prints the same problems. The problems of HTTP
//! itself (404, 405, 413, 415, …) and the response are the service's
//! (`crate::service::problem`).

use serde::Serialize;

use crate::request::{FieldError, RequestError};

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
    /// A problem of a kind, with no field errors.
    pub fn new(kind: &str, title: &str, status: u16, detail: impl Into<String>) -> Self {
        Self { kind: kind.to_owned(), title: title.to_owned(), status, detail: detail.into(), errors: Vec::new() }
    }

    /// 422: the body is JSON but does not match the API or names something
    /// the rules do not know.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", display_pointer(&one.pointer), one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        Self { errors, ..Self::new("urn:cansend:problem:invalid-request", "Invalid request", 422, detail) }
    }

    /// 400: the body is not JSON.
    pub fn malformed_json(detail: impl Into<String>) -> Self {
        Self::new("urn:cansend:problem:malformed-json", "Malformed JSON", 400, detail)
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

impl From<RequestError> for Problem {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::Malformed(detail) => Problem::malformed_json(detail),
            RequestError::Invalid(errors) => Problem::invalid(errors),
            RequestError::Unanswerable(detail) => Problem::new("about:blank", "Service Unavailable", 503, detail),
        }
    }
}

/// The empty pointer (the whole body) reads better as `/`.
fn display_pointer(p: &str) -> &str {
    if p.is_empty() { "/" } else { p }
}

pub use crate::text::truncate;

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
}
