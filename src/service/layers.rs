//! Middleware around every route.
//!
//! Outermost first:
//! 1. request id — `x-request-id` kept from the caller or generated (a
//!    UUID), put in the log span and echoed in the answer;
//! 2. access log (`tracing`), one span per request;
//! 3. [`problem_json`] — any error answer that middleware or the router
//!    produced with a plain body (405, 413, 408, a caught panic's 500) is
//!    rewritten as an RFC 9457 problem, its headers kept;
//! 4. [`track`] — request count and latency by route template and status;
//! 5. [`query_guard`] — a query parameter the route does not take is a 400
//!    naming it, on every route (a typo must never be ignored);
//! 6. [`super::admission::admit`] — the in-flight byte budget and request
//!    slots of the routes that read a body (`503` when full);
//! 7. panic guard (a 500, never a dropped connection), body limit.
//!
//! The timeout of slow bodies is where the body is read
//! ([`super::body::bytes`]), not a layer: a layer would start a timer for
//! every request, and few requests need one.

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::problem::{PROBLEM_JSON, Problem, truncate};
use super::state::AppState;

/// The header that carries the request id.
pub const REQUEST_ID: &str = "x-request-id";

/// The log span of one request: id, method, path and peer.
pub fn span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    // With the access log off (RUST_LOG=warn), do not even format the peer.
    if !tracing::level_enabled!(tracing::Level::INFO) {
        return tracing::Span::none();
    }
    let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.to_string()).unwrap_or_default();
    tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path(), peer = %peer)
}

/// Count the request by route template, method and status, and time it.
pub async fn track(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let route = super::routes::index(req.extensions().get::<MatchedPath>().map(MatchedPath::as_str));
    let method = method_index(req.method());
    let start = Instant::now();
    let res = next.run(req).await;
    app.metrics().request(route, method, res.status().as_u16(), start.elapsed());
    res
}

/// Refuse a query parameter the matched route does not take (see
/// [`super::routes::params`]): `400`, naming it, pointed at as
/// `/query/NAME`. The values of the parameters a route takes are the
/// handler's to check.
pub async fn query_guard(req: Request, next: Next) -> Response {
    if let (Some(q), Some(route)) = (req.uri().query(), req.extensions().get::<MatchedPath>()) {
        let takes = super::routes::params(route.as_str());
        let keys: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap_or_default();
        let unknown: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).filter(|k| !takes.contains(k)).collect();
        if !unknown.is_empty() {
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
            return Problem { errors, ..Problem::bad_query(detail) }.into_response();
        }
    }
    next.run(req).await
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

impl tower_http::request_id::MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<tower_http::request_id::RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        axum::http::HeaderValue::from_bytes(&self.id(n)).ok().map(tower_http::request_id::RequestId::new)
    }
}

/// The index of the method's label in [`super::metrics::METHODS`].
fn method_index(m: &Method) -> usize {
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
pub async fn problem_json(State(body_limit): State<usize>, res: Response) -> Response {
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
