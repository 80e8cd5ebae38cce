//! Reading a JSON request body, with every failure mapped to its own status.
//!
//! axum's `Json` extractor folds several failures into statuses and plain
//! text bodies we do not control. Here each step has its answer:
//!
//! | step | failure | status |
//! | --- | --- | --- |
//! | content type | missing, or not `application/json` / `application/*+json` | 415 |
//! | read bytes | longer than the body limit | 413 |
//! | parse | not JSON (syntax, truncation, bad UTF-8, nesting too deep) | 400 |
//! | decode | JSON of the wrong shape (done by the handler) | 422 |
//!
//! The limit itself is enforced by `RequestBodyLimitLayer` (see
//! [`super::layers`]): a declared `Content-Length` over it is refused before
//! the handler runs; a streamed body is cut off while it is read here.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use serde_json::Value as Json;

use super::problem::{Problem, truncate};
use crate::request::FieldError;

/// Check the content type, read the body (at most `limit` bytes) and parse
/// it as JSON.
pub async fn json(req: Request, limit: usize) -> Result<Json, Problem> {
    check_content_type(req.headers())?;
    let bytes = Bytes::from_request(req, &()).await.map_err(|rejection| match rejection {
        BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => Problem::too_large(limit),
        other => Problem::http(axum::http::StatusCode::BAD_REQUEST, format!("the request body could not be read: {}", other.body_text())),
    })?;
    parse(&bytes)
}

/// Parse bytes as JSON; a syntax error is a 400 naming line and column.
pub fn parse(bytes: &[u8]) -> Result<Json, Problem> {
    serde_json::from_slice(bytes).map_err(|e| {
        let detail = if bytes.iter().all(u8::is_ascii_whitespace) {
            "the request body is empty; send a JSON object".to_owned()
        } else {
            format!("the request body is not valid JSON: {}", truncate(&e.to_string(), 300))
        };
        Problem::malformed_json(detail)
    })
}

/// A body (or batch item) must be a JSON object: serde would otherwise
/// read a struct from an array, field by position.
pub fn expect_object(v: &Json) -> Result<(), Vec<FieldError>> {
    if v.is_object() {
        Ok(())
    } else {
        let kind = match v {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        };
        Err(vec![FieldError { pointer: String::new(), message: format!("expected a JSON object, found {kind}") }])
    }
}

/// `application/json`, or any `application/…+json`, with any parameters.
pub fn check_content_type(headers: &HeaderMap) -> Result<(), Problem> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(Problem::unsupported_media_type(None));
    };
    let Ok(text) = value.to_str() else {
        return Err(Problem::unsupported_media_type(Some("(not ASCII)")));
    };
    let essence = text.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let is_json = essence == "application/json" || essence.strip_prefix("application/").is_some_and(|sub| sub.ends_with("+json"));
    if is_json { Ok(()) } else { Err(Problem::unsupported_media_type(Some(text))) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(ct) {
            h.insert(header::CONTENT_TYPE, v);
        }
        h
    }

    #[test]
    fn content_types() {
        assert!(check_content_type(&with("application/json")).is_ok());
        assert!(check_content_type(&with("Application/JSON; charset=utf-8")).is_ok());
        assert!(check_content_type(&with("application/merge-patch+json")).is_ok());
        for bad in ["text/plain", "application/jsonx", "application/x-www-form-urlencoded", "json", "text/json+x"] {
            assert_eq!(check_content_type(&with(bad)).map_err(|p| p.status), Err(415), "{bad}");
        }
        assert_eq!(check_content_type(&HeaderMap::new()).map_err(|p| p.status), Err(415));
    }

    #[test]
    fn malformed_is_400_and_says_where() {
        let p = parse(br#"{"a": }"#).err().map(|p| (p.status, p.detail));
        assert!(matches!(&p, Some((400, d)) if d.contains("line 1 column")), "{p:?}");
        assert_eq!(parse(b"  ").err().map(|p| p.status), Some(400));
        assert_eq!(parse(&[0xff, 0xfe]).err().map(|p| p.status), Some(400));
        let deep = "[".repeat(1000);
        assert_eq!(parse(deep.as_bytes()).err().map(|p| p.status), Some(400));
        assert!(parse(br#"{"a": 1e30}"#).is_ok());
    }
}
