//! Admission: how much request data the server holds at once.
//!
//! The body limit bounds one request; nothing else would bound how many
//! large bodies are held together. A burst of a thousand ~1 MB bodies
//! would be a gigabyte of buffers, and a pod with a 256 MiB limit is
//! killed — taking every sender's can-send with it. So every route that
//! reads a body passes through [`admit`] first, which takes
//!
//! - a share of the **in-flight byte budget** (`--max-inflight-bytes`):
//!   the declared `Content-Length`, or the body limit when the length is
//!   not declared (a chunked body may grow to it);
//! - one of the **in-flight request slots** (`--max-inflight-requests`).
//!
//! Both are given back when the answer is ready. Neither is waited for:
//! when one is full the request is answered at once with a `503` problem
//! (`urn:cansend:problem:overloaded`, `Retry-After: 1`, a `reason`
//! member), so a burst costs refusals, never memory. The refused body is
//! still read — and thrown away as it arrives, a frame at a time — before
//! answering: a server that answers and closes while the client is still
//! sending makes the client's kernel see a reset instead of the 503.
//!
//! Small requests take little of the byte budget, so they keep being
//! admitted while large ones are refused. `/healthz`, `/readyz`,
//! `/metrics` and the other `GET` routes read no body and are not counted.
//!
//! When the last admitted body is given back, the allocator is asked to
//! return free memory to the system ([`super::trim`]): after a burst the
//! resident set falls back instead of staying at its peak.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::problem::Problem;
use super::routes;
use super::state::AppState;

/// Default byte budget: a quarter of the shipped pod's 256 MiB limit
/// (bodies are parsed a few at a time, and the rest of the process stays
/// under ~40 MiB; see the sizing in the README).
pub const DEFAULT_MAX_INFLIGHT_BYTES: usize = 64 * 1024 * 1024;
/// Default request slots: far above what two cores decide at once, far
/// below what the byte budget would let small requests pile up to.
pub const DEFAULT_MAX_INFLIGHT_REQUESTS: usize = 512;

/// The `type` of the 503 problem.
pub const OVERLOADED: &str = "urn:cansend:problem:overloaded";

/// Why a request was refused (the `reason` label and problem member).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The byte budget could not take this body.
    InflightBytes,
    /// Every request slot was taken.
    InflightRequests,
}

impl Reason {
    /// Every reason, in label order.
    pub const ALL: [Reason; 2] = [Reason::InflightBytes, Reason::InflightRequests];

    /// The label value and problem member.
    pub fn label(self) -> &'static str {
        match self {
            Reason::InflightBytes => "inflight_bytes",
            Reason::InflightRequests => "inflight_requests",
        }
    }
}

/// The budgets, shared by every connection.
#[derive(Debug)]
pub struct Admission {
    bytes: Arc<Semaphore>,
    requests: Arc<Semaphore>,
    max_bytes: u32,
    /// Something was admitted since the last trim.
    dirty: AtomicBool,
}

/// What an admitted request holds until its answer is ready.
#[derive(Debug)]
pub struct Admitted<'a> {
    admission: &'a Admission,
    _bytes: OwnedSemaphorePermit,
    _slot: OwnedSemaphorePermit,
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        // The permits are released after this body runs; "only this one
        // left" means the budget is about to be empty.
        let a = self.admission;
        let idle = a.bytes.available_permits() + self._bytes.num_permits() >= a.max_bytes as usize;
        if idle && a.dirty.swap(false, Ordering::Relaxed) {
            super::trim::release_free_memory();
        }
    }
}

impl Admission {
    /// Budgets of `max_bytes` bytes (capped at 4 GiB) and `max_requests` requests.
    pub fn new(max_bytes: usize, max_requests: usize) -> Self {
        let max_bytes = u32::try_from(max_bytes).unwrap_or(u32::MAX).max(1);
        let max_requests = max_requests.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            bytes: Arc::new(Semaphore::new(max_bytes as usize)),
            requests: Arc::new(Semaphore::new(max_requests)),
            max_bytes,
            dirty: AtomicBool::new(false),
        }
    }

    /// Take `bytes` of the budget (at most all of it) and a slot, or say
    /// which is full.
    pub fn try_admit(&self, bytes: usize) -> Result<Admitted<'_>, Reason> {
        let slot = self.requests.clone().try_acquire_owned().map_err(|_| Reason::InflightRequests)?;
        let n = u32::try_from(bytes).unwrap_or(u32::MAX).min(self.max_bytes);
        let bytes = self.bytes.clone().try_acquire_many_owned(n).map_err(|_| Reason::InflightBytes)?;
        self.dirty.store(true, Ordering::Relaxed);
        Ok(Admitted { admission: self, _bytes: bytes, _slot: slot })
    }

    /// Bytes of the budget in use now.
    pub fn bytes_in_use(&self) -> usize {
        (self.max_bytes as usize).saturating_sub(self.bytes.available_permits())
    }
}

/// The routes that read a body, and so are admitted.
fn reads_body(route: Option<&str>) -> bool {
    matches!(route, Some(routes::CAN_SEND | routes::BATCH | routes::SEND_OPTIONS | routes::VALIDATE | routes::PREVIEW))
}

/// Admit the request within the budgets, or answer `503` (see the module).
pub async fn admit(State(app): State<AppState>, req: Request, next: Next) -> Response {
    if !reads_body(req.extensions().get::<MatchedPath>().map(MatchedPath::as_str)) {
        return next.run(req).await;
    }
    let limit = app.limits().body_bytes;
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    let charge = match declared {
        // Refused by the body limit before a byte is read: nothing to hold.
        Some(n) if n > limit as u64 => return next.run(req).await,
        Some(n) => usize::try_from(n).unwrap_or(limit),
        None => limit,
    };
    match app.admission().try_admit(charge) {
        Ok(admitted) => {
            let res = next.run(req).await;
            drop(admitted);
            res
        }
        Err(reason) => {
            app.metrics().refused(reason);
            drain(req.into_body(), limit, app.limits().timeout).await;
            overloaded(reason)
        }
    }
}

/// Read and drop `body`, frame by frame: at most `limit` bytes, within `timeout`.
async fn drain(mut body: Body, limit: usize, timeout: std::time::Duration) {
    let read = async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            seen = seen.saturating_add(frame.data_ref().map_or(0, |d| d.len()));
            if seen > limit {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(timeout, read).await;
}

/// The `503` of a full budget.
pub fn overloaded(reason: Reason) -> Response {
    let detail = match reason {
        Reason::InflightBytes => "the server holds as many request bytes as it may (--max-inflight-bytes); retry in a moment",
        Reason::InflightRequests => "the server answers as many requests as it may at once (--max-inflight-requests); retry in a moment",
    };
    let problem = Problem::new(OVERLOADED, "Overloaded", StatusCode::SERVICE_UNAVAILABLE.as_u16(), detail);
    let mut res = problem.with_members([("reason", serde_json::Value::from(reason.label()))]);
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    res.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_refuse_when_full_and_give_back() {
        let a = Admission::new(1000, 3);
        let one = a.try_admit(600);
        assert!(one.is_ok());
        assert_eq!(a.try_admit(600).err(), Some(Reason::InflightBytes));
        let small = a.try_admit(10);
        assert!(small.is_ok(), "a small body still fits");
        let third = a.try_admit(10);
        assert!(third.is_ok());
        assert_eq!(a.try_admit(1).err(), Some(Reason::InflightRequests));
        assert_eq!(a.bytes_in_use(), 620);
        drop((one, small, third));
        assert_eq!(a.bytes_in_use(), 0);
        // A body larger than the whole budget takes all of it, when free.
        let all = a.try_admit(5000);
        assert!(all.is_ok());
        assert_eq!(a.try_admit(1).err(), Some(Reason::InflightBytes));
    }

    #[test]
    fn only_body_routes_are_admitted() {
        for r in [routes::CAN_SEND, routes::BATCH, routes::SEND_OPTIONS, routes::VALIDATE, routes::PREVIEW] {
            assert!(reads_body(Some(r)), "{r}");
        }
        for r in [routes::HEALTHZ, routes::READYZ, routes::METRICS, routes::EVENTS, routes::RULES] {
            assert!(!reads_body(Some(r)), "{r}");
        }
        assert!(!reads_body(None));
    }
}
