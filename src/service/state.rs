//! What every request shares: the live rule set, metrics and limits.
//!
//! The rules are a [`Live`] (see [`crate::reload`]): the snapshot being
//! served sits in an `ArcSwap`, so a request loads it once (one atomic
//! load, no lock) and decides everything — every item of a batch —
//! against that one revision, while a reload publishes a new snapshot at
//! any moment without waiting for readers. Nothing half-loaded is ever
//! served: a snapshot is only built from a rule set that compiled.

use std::sync::Arc;
use std::time::Duration;

use super::admission::Admission;
use super::decision_log::{DEFAULT_MASK, DecisionLog, Mask, parse_mask};
use super::metrics::Metrics;
use crate::reload::{Live, Snapshot};

/// Limits applied to every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body, in bytes.
    pub body_bytes: usize,
    /// Longest a request's head, and then its body, may take to arrive
    /// (see [`super::conn`] and [`super::body`]).
    pub timeout: Duration,
    /// Most request-body bytes held at once by the routes that read a
    /// body (see [`super::admission`]).
    pub inflight_bytes: usize,
    /// Most requests of those routes answered at once.
    pub inflight_requests: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 1024 * 1024,
            timeout: Duration::from_secs(10),
            inflight_bytes: super::admission::DEFAULT_MAX_INFLIGHT_BYTES,
            inflight_requests: super::admission::DEFAULT_MAX_INFLIGHT_REQUESTS,
        }
    }
}

/// What operating a fleet adds to a replica: the decision log, the
/// revision readiness waits for, and what decision lookups mask.
#[derive(Clone)]
pub struct Operations {
    /// Where decisions are logged (`--decision-log`), if anywhere.
    pub decision_log: Option<Arc<DecisionLog>>,
    /// `/readyz` fails until this revision serves (`--expect-revision`).
    pub expect_revision: Option<String>,
    /// The pointers `GET /v1/decisions/{id}` masks in the request it shows
    /// (unless the caller is an admin with a token): `--decision-log-mask`.
    pub mask: Mask,
}

impl Default for Operations {
    fn default() -> Self {
        Self { decision_log: None, expect_revision: None, mask: parse_mask(DEFAULT_MASK).unwrap_or_default() }
    }
}

/// Most requests in one `POST /v1/can-send/batch`.
pub const MAX_BATCH: usize = 1000;

/// The state handlers receive; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

struct Shared {
    live: Arc<Live>,
    limits: Limits,
    metrics: Metrics,
    admin: Admin,
    ops: Operations,
    /// Flips to `true` when the server begins to shut down, so that
    /// long-lived answers (event streams) end and shutdown can complete.
    stopping: tokio::sync::watch::Sender<bool>,
    /// One `POST /v1/rules/validate` at a time: each compiles a rule set
    /// and replays the ring, and several at once would only compete.
    validating: Arc<tokio::sync::Semaphore>,
    /// The in-flight budgets of the routes that read a body.
    admission: Admission,
    /// The `x-cansend-revision` value of the revision served last.
    revision_header: arc_swap::ArcSwapOption<(Arc<str>, axum::http::HeaderValue)>,
}

/// Who may call the admin endpoints (`POST /v1/rules/reload`,
/// `POST /v1/rules/validate`).
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Admin {
    /// No token configured: loopback peers only.
    #[default]
    LoopbackOnly,
    /// `Authorization: Bearer <token>` from any peer.
    Token(String),
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Admin::LoopbackOnly => f.write_str("LoopbackOnly"),
            Admin::Token(_) => f.write_str("Token(<redacted>)"),
        }
    }
}

impl AppState {
    /// State serving the rules of `live`.
    pub fn new(live: Arc<Live>, limits: Limits) -> Self {
        Self::with_admin(live, limits, Admin::LoopbackOnly)
    }

    /// State serving the rules of `live`, with admin access as `admin`.
    pub fn with_admin(live: Arc<Live>, limits: Limits, admin: Admin) -> Self {
        Self::with_operations(live, limits, admin, Operations::default())
    }

    /// State serving the rules of `live`, with admin access as `admin` and
    /// the fleet's operations as `ops`.
    pub fn with_operations(live: Arc<Live>, limits: Limits, admin: Admin, ops: Operations) -> Self {
        let metrics = Metrics::new(live.clone(), ops.decision_log.clone());
        let (stopping, _) = tokio::sync::watch::channel(false);
        let validating = Arc::new(tokio::sync::Semaphore::new(1));
        let admission = Admission::new(limits.inflight_bytes, limits.inflight_requests);
        let revision_header = arc_swap::ArcSwapOption::empty();
        Self { inner: Arc::new(Shared { live, limits, metrics, admin, ops, stopping, validating, admission, revision_header }) }
    }

    /// The fleet's operations: decision log, expected revision, mask.
    pub fn operations(&self) -> &Operations {
        &self.inner.ops
    }

    /// Who may call the admin endpoints.
    pub fn admin(&self) -> &Admin {
        &self.inner.admin
    }

    /// The right to run a validation now, if none is running.
    pub fn try_validate(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.inner.validating.clone().try_acquire_owned().ok()
    }

    /// Announce that the server is stopping (ends event streams).
    pub fn begin_shutdown(&self) {
        self.inner.stopping.send_replace(true);
    }

    /// Completes once [`AppState::begin_shutdown`] was called.
    pub fn stopping(&self) -> impl std::future::Future<Output = ()> + Send + use<> {
        let mut rx = self.inner.stopping.subscribe();
        async move {
            // An error means the sender is gone: the state itself is.
            let _ = rx.wait_for(|stop| *stop).await;
        }
    }

    /// The snapshot to decide against: load it once per request.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.inner.live.current()
    }

    /// The snapshot serving, borrowed for one request's synchronous work
    /// (see [`Live::current_guard`]).
    pub fn snapshot_guard(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.inner.live.current_guard()
    }

    /// The live rule set (source, last reload error, reload history).
    pub fn live(&self) -> &Arc<Live> {
        &self.inner.live
    }

    /// The request limits.
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// The in-flight budgets.
    pub fn admission(&self) -> &Admission {
        &self.inner.admission
    }

    /// The service's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// `revision` as a header value, made once per revision (a clone of
    /// it is a reference count, not a copy).
    pub fn revision_header(&self, revision: &Arc<str>) -> Option<axum::http::HeaderValue> {
        if let Some(cached) = self.inner.revision_header.load().as_ref().filter(|c| Arc::ptr_eq(&c.0, revision)) {
            return Some(cached.1.clone());
        }
        let value = axum::http::HeaderValue::from_maybe_shared(bytes::Bytes::copy_from_slice(revision.as_bytes())).ok()?;
        self.inner.revision_header.store(Some(Arc::new((revision.clone(), value.clone()))));
        Some(value)
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("source", self.inner.live.source())
            .field("revision", &self.snapshot().engine.revision())
            .field("limits", &self.inner.limits)
            .field("admin", &self.inner.admin)
            .finish()
    }
}
