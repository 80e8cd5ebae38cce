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
//! 5. panic guard (a 500, never a dropped connection), request timeout,
//!    body limit.

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
    let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.to_string()).unwrap_or_default();
    tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path(), peer = %peer)
}

/// Count the request by route template, method and status, and time it.
pub async fn track(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".to_owned());
    let method = method_label(req.method());
    let start = Instant::now();
    let res = next.run(req).await;
    app.metrics().request(&route, method, res.status().as_u16(), start.elapsed());
    res
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
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
