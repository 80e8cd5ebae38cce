//! The decision log (`--decision-log PATH`): one JSON line per decision,
//! for audits and for finding the decision behind a caller's complaint by
//! the `x-request-id` of its answer.
//!
//! ```text
//! handler ─ record(entry) ─▶ bounded queue ─▶ writer thread ─▶ BufWriter ─▶ PATH | stdout
//!              │ (try_send; never waits)        (masks, serializes, rotates, reopens)
//!              └─ queue full → counted as dropped, warned at most every 10 s
//! ```
//!
//! - **Off the request path.** [`DecisionLog::record`] stamps the time and
//!   puts the entry on a bounded queue without waiting; serializing,
//!   masking and writing happen on a dedicated thread. The queue is bounded
//!   in entries and in the (estimated) bytes of the bodies it holds, so a
//!   slow disk costs at most that much memory.
//! - **Never dropped silently.** An entry that does not fit, that arrives
//!   after shutdown, or whose write fails is counted ([`DecisionLog::dropped`],
//!   for `/metrics`) and warned about (at most once per 10 s, with the count).
//! - **What is logged.** Denied decisions always; allowed ones sampled by
//!   `--decision-log-sample-allowed` (a fraction, decided by a hash of the
//!   request id: the same request id is sampled alike on every replica and
//!   every run). The request body only with `--decision-log-body`, with the
//!   pointers of `--decision-log-mask` replaced by `"***"` (see [`mask`]).
//! - **Files.** Opened for appending, created `0640`. With
//!   `--decision-log-max-size`, a line that would take the file past it
//!   first renames the file to `PATH.1` (replacing the previous one) and
//!   starts a new `PATH`. [`DecisionLog::reopen`] opens `PATH` anew — after
//!   logrotate (or anyone) moved it away — at the next line, so a plain
//!   file, size rotation and logrotate all work.
//! - [`DecisionLog::shutdown`] writes what is queued, flushes and joins.

pub mod mask;
mod writer;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use thiserror::Error;

pub use mask::{DEFAULT_MASK, MASKED, Mask, parse_mask};
pub use writer::rotated_path;

/// Entries the queue holds by default.
pub const DEFAULT_QUEUE: usize = 8192;
/// Estimated bytes of queued request bodies held at most by default.
pub const DEFAULT_QUEUE_BYTES: usize = 16 * 1024 * 1024;
/// At most one warning about drops per this interval.
pub const WARN_EVERY: Duration = Duration::from_secs(10);

/// Where the lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Standard output (the Kubernetes way).
    Stdout,
    /// A file, reopened on demand and rotated by size.
    File(PathBuf),
}

impl Target {
    /// `-` is standard output; anything else a file.
    pub fn from_path(p: PathBuf) -> Self {
        if p.as_os_str() == "-" { Target::Stdout } else { Target::File(p) }
    }
}

/// How the log is written.
#[derive(Debug, Clone)]
pub struct DecisionLogConfig {
    /// Where lines go.
    pub target: Target,
    /// Include the (masked) request body.
    pub include_body: bool,
    /// The JSON pointers masked in logged bodies.
    pub mask: Mask,
    /// Fraction of allowed decisions logged, 0.0 … 1.0.
    pub sample_allowed: f64,
    /// Rotate to `PATH.1` before the file would pass this many bytes.
    pub max_size: Option<u64>,
    /// Entries queued at most.
    pub queue: usize,
    /// Estimated bytes of queued bodies at most.
    pub queue_bytes: usize,
}

impl DecisionLogConfig {
    /// Every decision, no body, default mask and queue, no rotation.
    pub fn new(target: Target) -> Self {
        Self {
            target,
            include_body: false,
            mask: parse_mask(DEFAULT_MASK).unwrap_or_default(),
            sample_allowed: 1.0,
            max_size: None,
            queue: DEFAULT_QUEUE,
            queue_bytes: DEFAULT_QUEUE_BYTES,
        }
    }
}

/// One decision, as the handler knows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    /// The `x-request-id` of the answer.
    pub request_id: String,
    /// The tenant.
    pub tenant: String,
    /// The channel.
    pub channel: String,
    /// The sender's role.
    pub role: String,
    /// The action.
    pub action: String,
    /// The decision.
    pub allowed: bool,
    /// The violations' codes, in order.
    pub codes: Vec<String>,
    /// The violated rules' ids, in order.
    pub rules: Vec<String>,
    /// The revision that decided.
    pub revision: String,
    /// Time to decide, in microseconds.
    pub latency_us: u64,
    /// The request as sent; logged (masked) only with `include_body`.
    pub body: Option<serde_json::Value>,
}

/// Why the log could not start.
#[derive(Debug, Error)]
pub enum DecisionLogError {
    /// The file could not be opened.
    #[error("cannot open the decision log {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The writer thread could not start.
    #[error("cannot start the decision log's writer thread: {0}")]
    Thread(std::io::Error),
    /// A sampling rate outside 0…1.
    #[error("--decision-log-sample-allowed must be between 0 and 1, not {0}")]
    Sample(f64),
}

/// An entry on its way to the writer.
struct Stamped {
    time: chrono::DateTime<chrono::Utc>,
    entry: Entry,
    /// Its share of [`DecisionLogConfig::queue_bytes`].
    cost: usize,
}

enum Msg {
    Entry(Box<Stamped>),
    /// Look at the flags (reopen, closed) now.
    Wake,
}

/// Counters and flags shared by the handlers and the writer.
struct Shared {
    dropped: AtomicU64,
    written: AtomicU64,
    sampled_out: AtomicU64,
    rotations: AtomicU64,
    /// Entries handed to the queue, and taken off it by the writer.
    accepted: AtomicU64,
    processed: AtomicU64,
    pending_bytes: AtomicUsize,
    reopen: AtomicBool,
    closed: AtomicBool,
    started: Instant,
    /// Milliseconds after `started` of the last warning (`u64::MAX`: none
    /// yet), and the drop count it reported.
    last_warn_ms: AtomicU64,
    warned_count: AtomicU64,
}

impl Shared {
    /// Count one entry not written, and warn if none was issued lately.
    fn drop_one(&self, why: &str) {
        let total = self.dropped.fetch_add(1, Ordering::AcqRel) + 1;
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        if warn_due(&self.last_warn_ms, now) {
            let since = total - self.warned_count.swap(total, Ordering::AcqRel);
            tracing::warn!(dropped_total = total, dropped_since_last_warning = since, "decision log: entries dropped ({why})");
        }
    }
}

/// Whether a warning is due at `now_ms`: none yet, or the last one is at
/// least [`WARN_EVERY`] old; claims the slot when it is.
fn warn_due(last: &AtomicU64, now_ms: u64) -> bool {
    let every = u64::try_from(WARN_EVERY.as_millis()).unwrap_or(u64::MAX);
    let prev = last.load(Ordering::Acquire);
    let due = prev == u64::MAX || now_ms.saturating_sub(prev) >= every;
    due && last.compare_exchange(prev, now_ms, Ordering::AcqRel, Ordering::Acquire).is_ok()
}

/// Whether an allowed decision with this request id is logged at `rate`:
/// FNV-1a of the id against the rate, the same answer everywhere.
pub fn sampled(request_id: &str, rate: f64) -> bool {
    if rate >= 1.0 {
        return true;
    }
    if rate <= 0.0 || rate.is_nan() {
        return false;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in request_id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h as f64) < rate * (u64::MAX as f64)
}

/// A rough size of a JSON value in memory, to bound the queue in bytes.
fn approx_size(v: &serde_json::Value) -> usize {
    use serde_json::Value;
    32 + match v {
        Value::String(s) => s.len(),
        Value::Array(a) => a.iter().map(approx_size).sum(),
        Value::Object(o) => o.iter().map(|(k, v)| k.len() + approx_size(v)).sum(),
        _ => 0,
    }
}

/// The decision log of a running service.
pub struct DecisionLog {
    tx: SyncSender<Msg>,
    shared: Arc<Shared>,
    include_body: bool,
    sample_allowed: f64,
    queue_bytes: usize,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for DecisionLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecisionLog").field("written", &self.written()).field("dropped", &self.dropped()).finish()
    }
}

impl DecisionLog {
    /// Open the target (a file is created if missing) and start the writer.
    pub fn open(cfg: DecisionLogConfig) -> Result<Self, DecisionLogError> {
        if !(0.0..=1.0).contains(&cfg.sample_allowed) {
            return Err(DecisionLogError::Sample(cfg.sample_allowed));
        }
        let sink = match &cfg.target {
            Target::Stdout => writer::Sink::Stdout(std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout())),
            Target::File(path) => {
                let (file, size) = writer::open_file(path).map_err(|source| DecisionLogError::Open { path: path.clone(), source })?;
                writer::Sink::File { path: path.clone(), file, size, max_size: cfg.max_size }
            }
        };
        let shared = Arc::new(Shared {
            dropped: AtomicU64::new(0),
            written: AtomicU64::new(0),
            sampled_out: AtomicU64::new(0),
            rotations: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            processed: AtomicU64::new(0),
            pending_bytes: AtomicUsize::new(0),
            reopen: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            started: Instant::now(),
            last_warn_ms: AtomicU64::new(u64::MAX),
            warned_count: AtomicU64::new(0),
        });
        let (tx, rx) = std::sync::mpsc::sync_channel(cfg.queue.max(1));
        let w = writer::Writer { sink, mask: cfg.mask.clone(), shared: shared.clone() };
        let thread =
            std::thread::Builder::new().name("cansend-decision-log".into()).spawn(move || w.run(rx)).map_err(DecisionLogError::Thread)?;
        Ok(Self {
            tx,
            shared,
            include_body: cfg.include_body,
            sample_allowed: cfg.sample_allowed,
            queue_bytes: cfg.queue_bytes,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Log one decision, without waiting: a denied one always, an allowed
    /// one when sampled. If it cannot be queued it is counted as dropped.
    pub fn record(&self, mut entry: Entry) {
        if entry.allowed && !sampled(&entry.request_id, self.sample_allowed) {
            self.shared.sampled_out.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if self.shared.closed.load(Ordering::Acquire) {
            self.shared.drop_one("the log is shut down");
            return;
        }
        if !self.include_body {
            entry.body = None;
        }
        let cost = entry.body.as_ref().map_or(0, approx_size);
        if cost > 0 && self.shared.pending_bytes.fetch_add(cost, Ordering::AcqRel).saturating_add(cost) > self.queue_bytes {
            self.shared.pending_bytes.fetch_sub(cost, Ordering::AcqRel);
            self.shared.drop_one("the queued bodies reached their byte budget: the writer is behind");
            return;
        }
        self.shared.accepted.fetch_add(1, Ordering::AcqRel);
        let msg = Msg::Entry(Box::new(Stamped { time: chrono::Utc::now(), entry, cost }));
        if let Err(e) = self.tx.try_send(msg) {
            self.shared.accepted.fetch_sub(1, Ordering::AcqRel);
            self.shared.pending_bytes.fetch_sub(cost, Ordering::AcqRel);
            match e {
                TrySendError::Full(_) => self.shared.drop_one("the queue is full: the writer is behind"),
                TrySendError::Disconnected(_) => self.shared.drop_one("the writer has stopped"),
            }
        }
    }

    /// Whether entries carry the request body (`--decision-log-body`): a
    /// handler clones the body into [`Entry::body`] only then.
    pub fn wants_body(&self) -> bool {
        self.include_body
    }

    /// Open the file anew before the next line (SIGHUP, after logrotate
    /// moved it). Returns at once; nothing for standard output.
    pub fn reopen(&self) {
        self.shared.reopen.store(true, Ordering::Release);
        // A full queue means the writer is busy and sees the flag next.
        let _ = self.tx.try_send(Msg::Wake);
    }

    /// Entries not written: queue full, after shutdown, or a failed write.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Acquire)
    }

    /// Lines written.
    pub fn written(&self) -> u64 {
        self.shared.written.load(Ordering::Acquire)
    }

    /// Allowed decisions left out by sampling (not drops).
    pub fn sampled_out(&self) -> u64 {
        self.shared.sampled_out.load(Ordering::Acquire)
    }

    /// Size rotations done.
    pub fn rotations(&self) -> u64 {
        self.shared.rotations.load(Ordering::Acquire)
    }

    /// Write what is queued, flush, stop the writer. Later entries are
    /// counted as dropped. Idempotent.
    pub fn shutdown(&self) {
        self.shared.closed.store(true, Ordering::Release);
        let _ = self.tx.try_send(Msg::Wake);
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = thread {
            if t.join().is_err() {
                tracing::error!("decision log: the writer thread failed");
            }
            // Anything that slipped into the queue after the writer's last
            // look is not written: count it.
            let lost = self.shared.accepted.load(Ordering::Acquire).saturating_sub(self.shared.processed.load(Ordering::Acquire));
            for _ in 0..lost {
                self.shared.drop_one("queued as the log shut down");
            }
        }
    }
}

impl Drop for DecisionLog {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests;
