//! Admission: how much request data the server holds at once.
//!
//! The body limit bounds one request; nothing else would bound how many
//! large bodies are held together. A burst of a thousand ~1 MB bodies
//! would be a gigabyte of buffers, and a pod with a 256 MiB limit is
//! killed — taking every sender's can-send with it. So every route that
//! reads a body is admitted first, by the front ([`super::front`]), which takes
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
//! When the last admitted body is given back after the budget held at
//! least [`TRIM_AFTER_BYTES`] at once, the allocator is asked to return
//! free memory to the system ([`super::trim`]): after a burst the resident
//! set falls back instead of staying at its peak. Steady load of small
//! bodies never holds that much, so it never pays for a trim (the budget
//! drains to empty thousands of times a second on two cores).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::problem::Problem;
use super::routes;

/// Default byte budget: a quarter of the shipped pod's 256 MiB limit
/// (bodies are parsed a few at a time, and the rest of the process stays
/// under ~40 MiB; see the sizing in the README).
pub const DEFAULT_MAX_INFLIGHT_BYTES: usize = 64 * 1024 * 1024;
/// Default request slots: far above what two cores decide at once, far
/// below what the byte budget would let small requests pile up to.
pub const DEFAULT_MAX_INFLIGHT_REQUESTS: usize = 512;

/// The bytes held at once above which the drained budget trims memory:
/// far above what small requests hold together (512 slots × ~1 KiB), far
/// below a burst of large bodies worth giving back.
pub const TRIM_AFTER_BYTES: usize = 8 * 1024 * 1024;

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
    /// The most bytes held at once since the last trim.
    peak: AtomicUsize,
    /// Trims so far.
    trims: AtomicUsize,
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
        if self.admission.drains_after_burst(self._bytes.num_permits()) {
            self.admission.trims.fetch_add(1, Ordering::Relaxed);
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
            peak: AtomicUsize::new(0),
            trims: AtomicUsize::new(0),
        }
    }

    /// Take `bytes` of the budget (at most all of it) and a slot, or say
    /// which is full.
    pub fn try_admit(&self, bytes: usize) -> Result<Admitted<'_>, Reason> {
        let slot = self.requests.clone().try_acquire_owned().map_err(|_| Reason::InflightRequests)?;
        let n = u32::try_from(bytes).unwrap_or(u32::MAX).min(self.max_bytes);
        let bytes = self.bytes.clone().try_acquire_many_owned(n).map_err(|_| Reason::InflightBytes)?;
        self.peak.fetch_max(self.bytes_in_use(), Ordering::Relaxed);
        Ok(Admitted { admission: self, _bytes: bytes, _slot: slot })
    }

    /// Whether giving back `releasing` bytes empties a budget that held at
    /// least [`TRIM_AFTER_BYTES`] at once since the last time this said yes.
    fn drains_after_burst(&self, releasing: usize) -> bool {
        let idle = self.bytes.available_permits() + releasing >= self.max_bytes as usize;
        idle && self.peak.load(Ordering::Relaxed) >= TRIM_AFTER_BYTES && self.peak.swap(0, Ordering::Relaxed) >= TRIM_AFTER_BYTES
    }

    /// Bytes of the budget in use now.
    pub fn bytes_in_use(&self) -> usize {
        (self.max_bytes as usize).saturating_sub(self.bytes.available_permits())
    }
}

/// The routes (indexes of [`routes::ALL`]) that read a body, and so are admitted.
pub fn reads_body(route: usize) -> bool {
    matches!(
        routes::ALL.get(route).copied(),
        Some(routes::CAN_SEND | routes::BATCH | routes::SEND_OPTIONS | routes::VALIDATE | routes::PREVIEW)
    )
}

/// Read and drop `body`, frame by frame: at most `limit` bytes, within `timeout`.
pub async fn drain<B: hyper::body::Body + Unpin>(mut body: B, limit: usize, timeout: std::time::Duration) {
    let read = async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            seen = seen.saturating_add(frame.data_ref().map_or(0, bytes::Buf::remaining));
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
    fn only_a_drained_burst_trims() {
        let a = Admission::new(64 << 20, 512);
        // Steady small load: the budget drains to empty after every request.
        for _ in 0..1000 {
            let held: Vec<_> = (0..32).filter_map(|_| a.try_admit(700).ok()).collect();
            assert_eq!(held.len(), 32);
            drop(held);
        }
        assert_eq!(a.trims.load(Ordering::Relaxed), 0, "small bodies never trim");
        // A burst of large bodies: no trim while some are still held, one when the last goes.
        let mut burst: Vec<_> = (0..10).filter_map(|_| a.try_admit(1 << 20).ok()).collect();
        assert_eq!(burst.len(), 10);
        burst.truncate(1);
        assert_eq!(a.trims.load(Ordering::Relaxed), 0, "one still held");
        drop(burst);
        assert_eq!(a.trims.load(Ordering::Relaxed), 1, "the drained burst trims");
        drop(a.try_admit(700));
        assert_eq!(a.trims.load(Ordering::Relaxed), 1, "once per burst");
    }

    #[test]
    fn only_body_routes_are_admitted() {
        for r in [routes::CAN_SEND, routes::BATCH, routes::SEND_OPTIONS, routes::VALIDATE, routes::PREVIEW] {
            assert!(reads_body(routes::index(Some(r))), "{r}");
        }
        for r in [routes::HEALTHZ, routes::READYZ, routes::METRICS, routes::EVENTS, routes::RULES] {
            assert!(!reads_body(routes::index(Some(r))), "{r}");
        }
        assert!(!reads_body(routes::index(None)));
    }
}
