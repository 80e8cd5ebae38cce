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
//! | parse | an object with the same key twice (`"blocked": true, "blocked": false`) | 422 |
//! | decode | JSON of the wrong shape (done by the handler) | 422 |
//!
//! Parsing and decoding are the request decoder's ([`crate::request::json`]),
//! so `cansend eval` and embedders refuse exactly what the API refuses.
//!
//! A declared `Content-Length` over the limit is refused by the front
//! before the handler runs ([`super::front`]); a streamed body is cut off
//! here, while it is read.
//!
//! A body that arrives too slowly is a 408 after `Limits::timeout`. The
//! timer is started only when the body is not already in: hyper usually
//! reads a small body with the head, and a timer per request (a lock on
//! the runtime's timer wheel, twice) cost 7 % of `POST /v1/can-send`'s
//! throughput when it wrapped every request. The handlers themselves take
//! microseconds and never wait, so the body is the only thing to time.

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use hyper::body::Body;
use serde_json::Value as Json;
use std::future::Future as _;
use std::task::Poll;

use super::problem::Problem;
use super::state::Limits;

/// Check the content type, read the body (within `limits`) and parse it as
/// JSON (strictly: see [`crate::request::json`]).
pub async fn json(req: Request, limits: &Limits) -> Result<Json, Problem> {
    Ok(crate::request::json::parse(&bytes(req, limits).await?)?)
}

/// Check the content type and read the body: at most `limits.body_bytes`
/// bytes, within `limits.timeout`.
pub async fn bytes(req: Request, limits: &Limits) -> Result<Bytes, Problem> {
    let (parts, body) = req.into_parts();
    read(&parts.headers, body, limits).await
}

/// [`bytes`] of a request's `headers` and `body`.
pub async fn read<B>(headers: &HeaderMap, body: B, limits: &Limits) -> Result<Bytes, Problem>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    check_content_type(headers)?;
    // One data frame is handed on as it is (no copy); several are joined.
    let mut read = std::pin::pin!(async { Limited::new(body, limits.body_bytes).collect().await.map(http_body_util::Collected::to_bytes) });
    // Already in (the common case): no timer.
    let first = std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await;
    let result = match first {
        Poll::Ready(r) => r,
        Poll::Pending => match tokio::time::timeout(limits.timeout, read).await {
            Ok(r) => r,
            Err(_) => return Err(Problem::http(StatusCode::REQUEST_TIMEOUT, SLOW_BODY)),
        },
    };
    result.map_err(|e| {
        if e.is::<LengthLimitError>() {
            Problem::too_large(limits.body_bytes)
        } else {
            Problem::http(StatusCode::BAD_REQUEST, format!("the request body could not be read: {e}"))
        }
    })
}

/// The detail of a 408.
pub const SLOW_BODY: &str = "the request body arrived too slowly";

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
}
