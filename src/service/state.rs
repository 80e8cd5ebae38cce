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

use super::metrics::Metrics;
use crate::reload::{Live, Snapshot};

/// Limits applied to every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body, in bytes.
    pub body_bytes: usize,
    /// Longest a request may take, from its head arriving to its answer.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self { body_bytes: 1024 * 1024, timeout: Duration::from_secs(10) }
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
}

impl AppState {
    /// State serving the rules of `live`.
    pub fn new(live: Arc<Live>, limits: Limits) -> Self {
        let metrics = Metrics::new(live.clone());
        Self { inner: Arc::new(Shared { live, limits, metrics }) }
    }

    /// The snapshot to decide against: load it once per request.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.inner.live.current()
    }

    /// The live rule set (source, last reload error, reload history).
    pub fn live(&self) -> &Arc<Live> {
        &self.inner.live
    }

    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("source", self.inner.live.source())
            .field("revision", &self.snapshot().rules.revision)
            .field("limits", &self.inner.limits)
            .finish()
    }
}
