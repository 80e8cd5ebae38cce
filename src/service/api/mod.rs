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

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use serde::Serialize;

use super::problem::Problem;

/// A JSON answer. (The crate does its own JSON on the way in and out, so
/// every status and body is under its control.) The answer is written into
/// this worker thread's buffer and cut off it ([`to_bytes`]).
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match to_bytes(body) {
        Ok(bytes) => {
            let mut res = (status, bytes).into_response();
            res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            res
        }
        Err(e) => Problem::http(StatusCode::INTERNAL_SERVER_ERROR, format!("the answer could not be encoded: {e}")).into_response(),
    }
}

/// Room the answer buffer keeps ahead of the next answer.
const BUFFER_AHEAD: usize = 16 * 1024;

thread_local! {
    /// This worker thread's answer buffer: answers are cut off its front
    /// (`split`), so small answers share an allocation, and once every
    /// answer cut from it has been sent and dropped, the buffer reuses its
    /// memory instead of allocating.
    static BUFFER: std::cell::RefCell<BytesMut> = std::cell::RefCell::new(BytesMut::new());
}

/// `body` as JSON bytes, written into the thread's buffer.
pub fn to_bytes<T: Serialize>(body: &T) -> serde_json::Result<Bytes> {
    BUFFER.with_borrow_mut(|buf| {
        buf.reserve(BUFFER_AHEAD);
        match serde_json::to_writer(bytes::BufMut::writer(&mut *buf), body) {
            Ok(()) => Ok(buf.split().freeze()),
            Err(e) => {
                buf.clear();
                Err(e)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn answers_cut_from_one_buffer_stay_apart() {
        let a = super::to_bytes(&serde_json::json!({"a": 1}));
        let b = super::to_bytes(&vec!["x"; 5000]);
        let c = super::to_bytes(&"c");
        let (Ok(a), Ok(b), Ok(c)) = (a, b, c) else { panic!("encoded") };
        assert_eq!(&a[..], br#"{"a":1}"#);
        assert_eq!(b.len(), 2 + 5000 * 4 - 1);
        assert_eq!(&c[..], br#""c""#);
    }
}
