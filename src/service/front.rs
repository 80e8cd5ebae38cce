//! The front of every request: one service between hyper and the handlers.
//!
//! In order, for every request:
//!
//! 1. **request id** — `x-request-id` kept from the caller or generated
//!    ([`RequestIds`]), put in the request's headers for the handlers and
//!    echoed in the answer;
//! 2. **route** — the route template ([`routes::classify`]), the label of
//!    the metrics and the key of everything below;
//! 3. **query guard** — a query parameter the route does not take is a 400
//!    naming it, on every route (a typo must never be ignored);
//! 4. **admission** — the in-flight byte budget and request slots of the
//!    routes that read a body ([`super::admission`]; `503` when full);
//! 5. **body limit** — a declared `Content-Length` over `--body-limit` is a
//!    413 before a byte is read; a streamed body is cut off at it where it
//!    is read ([`super::body`]);
//! 6. **dispatch** — `POST /v1/can-send` and `POST /v1/can-send/batch`
//!    straight to their handlers, everything else through the axum
//!    [`Router`](axum::Router) (which also answers 404 and 405); a panic
//!    there is a 500, never a dropped connection;
//! 7. **problem+json** — an error answer with a plain body (405, 413, 408,
//!    a caught panic's 500) is rewritten as an RFC 9457 problem
//!    ([`super::layers::problem_json`]);
//! 8. **metrics** — request count and latency by route template, method
//!    and status;
//! 9. **access log** — one line ([`super::access_log`]).
//!
//! Why one service and not a stack of layers: each tower layer is a
//! future, a poll and often an allocation per request, and each of them
//! looked the route up again; the stack cost more than the decision
//! itself (BENCHMARKS.md, "The HTTP path"). Here the route is found once
//! and the hot routes skip the router; the behaviour of every step is the
//! one the tests of the API pin down.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::{Body as _, Incoming};
use tower::ServiceExt as _;

use super::api::decide;
use super::layers::{REQUEST_ID_NAME, RequestIds, method_index, problem_json, query_problem};
use super::state::AppState;
use super::{access_log, admission, routes};

/// What every connection's front shares.
struct Shared {
    app: AppState,
    router: Router,
    ids: RequestIds,
}

/// The front of one connection (see the module). A request holds its
/// connection's reference, not the server's: the count it increments is
/// touched by that connection alone.
#[derive(Clone)]
pub struct Front {
    conn: Arc<Conn>,
}

/// One connection's view of the front.
struct Conn {
    shared: Arc<Shared>,
    peer: SocketAddr,
    /// The peer as the access log writes it.
    peer_text: Box<str>,
    /// Whether the connection is waiting for a head, since when.
    clock: super::conn::HeadClock,
}

/// Builds the [`Front`] of each new connection.
#[derive(Clone)]
pub struct Fronts {
    shared: Arc<Shared>,
}

impl Fronts {
    /// The fronts of `app`, with `router` for the routes not dispatched here.
    pub fn new(app: AppState, router: Router) -> Self {
        Self { shared: Arc::new(Shared { app, router, ids: RequestIds::new() }) }
    }

    /// The front of a connection from `peer`.
    pub fn front(&self, peer: SocketAddr) -> Front {
        let clock = super::conn::HeadClock::new(Instant::now());
        Front { conn: Arc::new(Conn { shared: self.shared.clone(), peer, peer_text: peer.to_string().into(), clock }) }
    }
}

/// The answer being made, as hyper polls it.
pub type Answer = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for Front {
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        self.conn.clock.busy();
        let front = self.clone();
        Box::pin(async move { Ok(front.answer(req).await) })
    }
}

impl Front {
    /// The connection's head clock (see [`super::conn`]).
    pub fn head_clock(&self) -> &super::conn::HeadClock {
        &self.conn.clock
    }

    async fn answer(self, req: Request<Incoming>) -> Response {
        let start = Instant::now();
        let (mut parts, body) = req.into_parts();
        let shared = &*self.conn.shared;
        let app = &shared.app;
        let id = match parts.headers.get(REQUEST_ID_NAME) {
            Some(id) => id.clone(),
            None => {
                let id = shared.ids.next_header();
                parts.headers.insert(REQUEST_ID_NAME, id.clone());
                id
            }
        };
        let route = routes::classify(parts.uri.path());
        let method = method_index(&parts.method);
        let logged = access_log::enabled().then(|| (parts.method.clone(), parts.uri.clone()));
        let limits = app.limits();

        let res = match parts.uri.query().and_then(|q| query_problem(route, q)) {
            Some(problem) => problem.into_response(),
            None => {
                let declared =
                    parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
                let charge = declared.map_or(limits.body_bytes, |n| usize::try_from(n).unwrap_or(usize::MAX));
                if charge > limits.body_bytes {
                    // Refused by the body limit before a byte is read: nothing to hold.
                    StatusCode::PAYLOAD_TOO_LARGE.into_response()
                } else {
                    let admitted = if admission::reads_body(route) { app.admission().try_admit(charge).map(Some) } else { Ok(None) };
                    match admitted {
                        Err(reason) => {
                            app.metrics().refused(reason);
                            admission::drain(body, limits.body_bytes, limits.timeout).await;
                            admission::overloaded(reason)
                        }
                        // Held until the answer is made.
                        Ok(_admitted) => CatchPanic { inner: self.clone().dispatch(route, parts, body) }.await,
                    }
                }
            }
        };
        let status = res.status();
        let mut res = if status.is_client_error() || status.is_server_error() { problem_json(limits.body_bytes, res).await } else { res };
        let end = Instant::now();
        let latency = end.saturating_duration_since(start);
        app.metrics().request(route, method, status.as_u16(), latency);
        // A streamed answer (the event stream) keeps the connection busy
        // until it ends; any other is complete here.
        if res.body().size_hint().exact().is_some() {
            self.conn.clock.waiting(end);
        }
        if !res.headers().contains_key(REQUEST_ID_NAME) {
            res.headers_mut().insert(REQUEST_ID_NAME, id.clone());
        }
        if let Some((method, uri)) = logged {
            access_log::record(&access_log::Line {
                request_id: id.as_bytes(),
                method: method.as_str(),
                path: uri.path(),
                status: status.as_u16(),
                latency,
                peer: &self.conn.peer_text,
            });
        }
        res
    }

    /// The hot routes to their handlers; the rest through the router.
    fn dispatch(self, route: usize, parts: axum::http::request::Parts, body: Incoming) -> Dispatch {
        let hot = if parts.method == Method::POST { routes::ALL.get(route).copied() } else { None };
        match hot {
            Some(routes::CAN_SEND) => Box::pin(async move {
                decide::can_send_parts(&self.conn.shared.app, &parts, body).await.unwrap_or_else(IntoResponse::into_response)
            }),
            Some(routes::BATCH) => Box::pin(async move {
                decide::batch_parts(&self.conn.shared.app, &parts, body).await.unwrap_or_else(IntoResponse::into_response)
            }),
            _ => {
                let mut req = Request::from_parts(parts, Body::new(body));
                req.extensions_mut().insert(ConnectInfo(self.conn.peer));
                let router = self.conn.shared.router.clone();
                Box::pin(async move { router.oneshot(req).await.unwrap_or_else(|never| match never {}) })
            }
        }
    }
}

/// A handler's answer being made.
type Dispatch = Pin<Box<dyn Future<Output = Response> + Send>>;

/// `inner`'s answer, or a 500 if it panics (logged; the connection lives on).
struct CatchPanic {
    inner: Dispatch,
}

impl Future for CatchPanic {
    type Output = Response;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        let inner = &mut self.inner;
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(panic) => {
                let what = panic.downcast_ref::<&str>().copied().or_else(|| panic.downcast_ref::<String>().map(String::as_str));
                tracing::error!(panic = what.unwrap_or("(not text)"), "a handler panicked");
                let mut res = StatusCode::INTERNAL_SERVER_ERROR.into_response();
                res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
                Poll::Ready(res)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::routes;
    use axum::Router;
    use axum::extract::MatchedPath;
    use axum::routing::any;
    use tower::ServiceExt as _;

    /// The route found here is the one axum's router matches, for every
    /// template and for paths near them.
    #[tokio::test]
    async fn classify_agrees_with_the_router() {
        let mut router = Router::new();
        for r in routes::ALL {
            router = router.route(r, any(|m: MatchedPath| async move { m.as_str().to_owned() }));
        }
        let router = router.fallback(|| async { routes::UNMATCHED.to_owned() });
        let paths = [
            "/",
            "//",
            "/v1/can-send",
            "/v1/can-send/",
            "/v1/can-send/batch",
            "/v1/can-send/batch/x",
            "/v1/can-sendx",
            "/v1/send-options",
            "/v1/rules",
            "/v1/rules/",
            "/v1/rules/reload",
            "/v1/rules/reloads",
            "/v1/rules/validate",
            "/v1/rules/events",
            "/v1/rules/other",
            "/v1/tenants",
            "/v1/tenants/",
            "/v1/tenants/acme",
            "/v1/tenants/acme/",
            "/v1/tenants/ac%20me",
            "/v1/tenants/acme/preview",
            "/v1/tenants/acme/preview/",
            "/v1/tenants//preview",
            "/v1/tenants/acme/other",
            "/healthz",
            "/healthz/",
            "/readyz",
            "/metrics",
            "/openapi.json",
            "/v1/decisions/abc",
            "/v1/decisions/",
            "/v1/decisions/a/b",
            "/console",
            "/console/",
            "/console/app.js",
            "/console/a/b.css",
            "/x",
            "/v1",
            "/v1/",
            "/V1/can-send",
            "/v1/tenants//",
            "/v1/tenants//preview/",
            "/v1/tenants/a//preview",
            "/console//x",
            "/console//",
            "/v1/decisions//",
            "/v1/decisions//x",
            "/v1/can-send?x=1",
        ];
        let mut wrong = Vec::new();
        for path in paths {
            let req = axum::http::Request::get(path).body(axum::body::Body::empty());
            let Ok(req) = req else { panic!("{path}") };
            let res = router.clone().oneshot(req).await;
            let Ok(res) = res;
            let body = axum::body::to_bytes(res.into_body(), 1024).await.unwrap_or_default();
            let matched = String::from_utf8_lossy(&body).into_owned();
            let just_path = path.split_once('?').map_or(path, |(p, _)| p);
            let ours = routes::ALL.get(routes::classify(just_path)).copied().unwrap_or(routes::UNMATCHED);
            if ours != matched {
                wrong.push(format!("{path}: ours {ours}, the router's {matched}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
}
