//! The steps of the front ([`super::front`]) that are more than a line:
//! request ids, the query guard, and the problem+json rewriting of plain
//! error answers.

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;

use super::problem::{PROBLEM_JSON, Problem, truncate};

/// The header that carries the request id.
pub const REQUEST_ID: &str = "x-request-id";

/// [`REQUEST_ID`] as a header name (not parsed again on every use).
pub const REQUEST_ID_NAME: axum::http::HeaderName = axum::http::HeaderName::from_static(REQUEST_ID);

/// The `400` of a query parameter the route (an index of
/// [`super::routes::ALL`]) does not take (see [`super::routes::params`]),
/// naming it, pointed at as `/query/NAME`; `None` when every parameter is
/// one the route takes, or no route matched (that is a 404). The values of
/// those the route takes are the handler's to check.
pub fn query_problem(route: usize, query: &str) -> Option<Problem> {
    let takes = super::routes::params(super::routes::ALL.get(route)?);
    let keys: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let unknown: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).filter(|k| !takes.contains(k)).collect();
    if unknown.is_empty() {
        return None;
    }
    let takes_text = match takes {
        [] => "this route takes no query parameter".to_owned(),
        some => format!("this route takes {}", some.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")),
    };
    let errors = unknown
        .iter()
        .map(|k| crate::request::FieldError {
            pointer: crate::text::pointer::join("/query", truncate(k, 64)),
            message: format!("unknown query parameter `{}`; {takes_text}", truncate(k, 64)),
        })
        .collect::<Vec<_>>();
    let detail = errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; ");
    Some(Problem { errors, ..Problem::bad_query(detail) })
}

/// Request ids for requests that come without one: UUID-shaped (version 4
/// layout), unique within the process (a counter through a bijective
/// mixer) and across processes (a random per-process key). Not secret —
/// a request id never is — and without a system call per request, which a
/// random UUID per request costs.
#[derive(Clone)]
pub struct RequestIds {
    key: u64,
    next: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl RequestIds {
    /// A generator of fresh request ids.
    pub fn new() -> Self {
        // std's hasher keys are random per process: no extra dependency.
        let key = std::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), std::process::id());
        Self { key, next: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0)) }
    }

    /// A fresh id as a header value. The ids are cut from a block of
    /// [`IDS_PER_BLOCK`] written one after the other (one allocation per
    /// block, shared by the ids cut from it, not one per request).
    pub fn next_header(&self) -> axum::http::HeaderValue {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = self.id(n);
        let bytes = BLOCK.with_borrow_mut(|block| {
            if block.capacity() - block.len() < id.len() {
                *block = BytesMut::with_capacity(id.len() * IDS_PER_BLOCK);
            }
            block.extend_from_slice(&id);
            block.split().freeze()
        });
        // Always valid (hex digits and dashes); the fallback never runs.
        axum::http::HeaderValue::from_maybe_shared(bytes).unwrap_or_else(|_| axum::http::HeaderValue::from_static("-"))
    }

    /// The id of the `n`-th request, as the 36 ASCII bytes of a UUID
    /// (written by hand: `format!` cost more than the rest of the layer).
    fn id(&self, n: u64) -> [u8; 36] {
        let hi = mix(n ^ self.key);
        let lo = mix(n.wrapping_add(self.key.rotate_left(32)));
        // Version 4 and RFC 4122 variant bits, as a random UUID has.
        let hi = (hi & !0xf000) | 0x4000;
        let lo = (lo & !(0b11 << 62)) | (0b10 << 62);
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [b'-'; 36];
        let nibbles = (0..16).rev().map(|i| (hi >> (4 * i)) & 0xf).chain((0..16).rev().map(|i| (lo >> (4 * i)) & 0xf));
        // Positions 8, 13, 18 and 23 keep their dash.
        let positions = (0..36).filter(|p| !matches!(p, 8 | 13 | 18 | 23));
        for (p, nib) in positions.zip(nibbles) {
            if let (Some(slot), Some(digit)) = (out.get_mut(p), HEX.get(nib as usize)) {
                *slot = *digit;
            }
        }
        out
    }
}

/// Ids cut from one allocation.
pub const IDS_PER_BLOCK: usize = 256;

thread_local! {
    /// This worker thread's block of ids.
    static BLOCK: std::cell::RefCell<BytesMut> = std::cell::RefCell::new(BytesMut::new());
}

impl Default for RequestIds {
    fn default() -> Self {
        Self::new()
    }
}

/// SplitMix64's finalizer: a bijection on u64, so distinct inputs give
/// distinct outputs.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The index of the method's label in [`super::metrics::METHODS`].
pub fn method_index(m: &Method) -> usize {
    match *m {
        Method::GET => 0,
        Method::POST => 1,
        Method::PUT => 2,
        Method::DELETE => 3,
        Method::PATCH => 4,
        Method::HEAD => 5,
        Method::OPTIONS => 6,
        _ => 7,
    }
}

/// Rewrite an error answer without a problem body into a problem.
pub async fn problem_json(body_limit: usize, res: Response) -> Response {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) || is_problem(&res) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let detail = match status {
        StatusCode::PAYLOAD_TOO_LARGE => format!("the request body is larger than the limit of {body_limit} bytes"),
        // The router adds the `Allow` header after this layer has run.
        StatusCode::METHOD_NOT_ALLOWED => "this route does not take this method; the `Allow` header lists those it takes".to_owned(),
        StatusCode::REQUEST_TIMEOUT => "the request took too long (the body arrived too slowly, or the answer took too long)".to_owned(),
        StatusCode::INTERNAL_SERVER_ERROR => "an unexpected error; the request has been logged".to_owned(),
        _ => {
            let text = axum::body::to_bytes(body, 4096).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
            if text.trim().is_empty() { status.canonical_reason().unwrap_or("Error").to_owned() } else { truncate(text.trim(), 500) }
        }
    };
    if status.is_server_error() {
        tracing::error!(status = status.as_u16(), "answering with a server error");
    }
    let problem = Problem::http(status, detail).into_response();
    let (pparts, pbody) = problem.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    if let Some(ct) = pparts.headers.get(header::CONTENT_TYPE) {
        parts.headers.insert(header::CONTENT_TYPE, ct.clone());
    }
    Response::from_parts(parts, Body::new(pbody))
}

fn is_problem(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.split(';').next().is_some_and(|e| e.trim().eq_ignore_ascii_case(PROBLEM_JSON)))
}

/// The 404 of every path no route takes.
pub async fn not_found(method: Method, uri: axum::http::Uri) -> Problem {
    Problem::not_found(format!("no route {method} {}; see /openapi.json", truncate(uri.path(), 200)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuid_shaped_and_distinct() {
        let ids = RequestIds::new();
        let text = |id: [u8; 36]| String::from_utf8_lossy(&id).into_owned();
        let all: std::collections::HashSet<String> = (0..10_000).map(|n| text(ids.id(n))).collect();
        assert_eq!(all.len(), 10_000);
        for id in all.iter().take(100) {
            let parts: Vec<&str> = id.split('-').collect();
            assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12], "{id}");
            assert!(parts[2].starts_with('4'), "version 4: {id}");
            assert!(matches!(parts[3].chars().next(), Some('8' | '9' | 'a' | 'b')), "variant: {id}");
        }
        let other = RequestIds::new();
        assert_ne!(ids.id(0), other.id(0), "another process (key) gives other ids");
        // The layout of the former `format!` (hi: 8-4-4, lo: 4-12).
        let (hi, lo) = (mix(7 ^ ids.key), mix(7u64.wrapping_add(ids.key.rotate_left(32))));
        let (hi, lo) = ((hi & !0xf000) | 0x4000, (lo & !(0b11 << 62)) | (0b10 << 62));
        let expected =
            format!("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48, lo & 0xffff_ffff_ffff);
        assert_eq!(text(ids.id(7)), expected);
    }
}
