//! The live rule set: load, reload, swap — all or nothing.
//!
//! A [`Live`] holds the current [`Snapshot`] in an `ArcSwap`: readers take
//! one `Arc` per request and keep it for the whole request, so a decision
//! (or a batch) sees exactly one revision, and a reload never blocks them.
//! A reload re-reads the **whole** directory, and:
//! - the same content hash as the current revision → nothing happens;
//! - any error → nothing is swapped; the rejected revision and its
//!   diagnostics are kept for `/v1/rules`, logged at error level, counted,
//!   and announced; the next good load clears them;
//! - otherwise the new snapshot is swapped in atomically and announced.
//!
//! Reloads are serialized by a mutex so two triggers (watcher, SIGHUP,
//! `POST /v1/rules/reload`) cannot interleave; readers never take it.
//!
//! A [`Live`] also keeps the recent requests ([`Recent`]): an applied
//! reload replays them against the revision it replaced and the new one,
//! after the swap (requests are served by the new revision meanwhile), and
//! its record carries that [`Impact`]. [`validate`] does the same for
//! candidate files without applying them.

pub mod preview;
pub mod validate;
pub mod watch;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use serde::Serialize;

use crate::facade::Engine;
use crate::impact::{self, Impact};
use crate::recent::Recent;
use crate::rules::{self, Diagnostic, LoadError};

/// Where the rules come from: a directory (watched and re-read on change)
/// or the rules built into the binary (never change).
pub use crate::rules::Source as RuleSource;

/// One loaded, immutable rule set and when it was loaded.
#[derive(Debug)]
pub struct Snapshot {
    /// The compiled revision.
    pub engine: Engine,
    /// When it was loaded; shown in milliseconds, like every instant of
    /// the API: see [`Snapshot::loaded_at_rfc3339`].
    pub loaded_at: chrono::DateTime<chrono::Utc>,
}

impl Snapshot {
    fn new(engine: Engine) -> Self {
        Self { engine, loaded_at: chrono::Utc::now() }
    }

    /// `loaded_at` as RFC 3339 in UTC with milliseconds.
    pub fn loaded_at_rfc3339(&self) -> String {
        self.loaded_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

/// A revision that failed to load.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Rejected {
    /// The revision (content hash) of the files that failed to load.
    pub revision: String,
    /// When the failed load happened (RFC 3339).
    pub at: String,
    /// Every diagnostic of that load, `file:line:col`.
    pub errors: Vec<Diagnostic>,
}

/// What a reload did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The files hash to the revision already serving. `cleared` names the
    /// rejected revision that was pending when the files went back to the
    /// serving one (a broken edit reverted): such a reload is recorded and
    /// announced, so whoever saw the rejection learns it is over.
    Unchanged {
        /// The revision serving (and read again).
        revision: String,
        /// The rejected revision that the files went back from, if one was pending.
        #[serde(skip_serializing_if = "Option::is_none")]
        cleared: Option<String>,
    },
    /// A new revision is serving. `impact`: the recent requests decided
    /// by `previous` and by `revision`.
    Applied {
        /// The revision replaced.
        previous: String,
        /// The revision serving now.
        revision: String,
        /// The recent requests decided by both.
        impact: Impact,
    },
    /// The files did not load; `serving` still serves.
    Rejected {
        /// The revision still serving.
        serving: String,
        /// The revision refused, and why.
        rejected: Rejected,
    },
}

/// A reload, as kept in the history and sent to event subscribers.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ReloadRecord {
    /// When (RFC 3339).
    pub at: String,
    /// What triggered it: `watch`, `poll`, `signal`, `api`.
    pub trigger: String,
    /// What it did.
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl ReloadRecord {
    /// The record without the samples of its impact (they hold client
    /// data): for callers who are not admins, and for event streams.
    pub fn without_samples(&self) -> Self {
        let mut r = self.clone();
        if let Outcome::Applied { impact, .. } = &mut r.outcome {
            impact.samples.clear();
        }
        r
    }
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    /// Reloads that swapped a new revision in.
    pub applied: AtomicU64,
    /// Reloads whose files did not load.
    pub rejected: AtomicU64,
    /// Reloads that found the files unchanged.
    pub unchanged: AtomicU64,
}

/// How many reloads `/v1/rules/reloads` remembers.
pub const HISTORY: usize = 100;

/// How many replaced revisions are kept loaded, so that a recent decision
/// of theirs can still be explained (`GET /v1/decisions/{id}`). Each is a
/// whole compiled rule set: few, so that reload churn cannot grow memory.
pub const RETIRED: usize = 2;

/// The live rule set of a running service.
pub struct Live {
    source: RuleSource,
    current: ArcSwap<Snapshot>,
    last_error: Mutex<Option<Rejected>>,
    history: Mutex<VecDeque<ReloadRecord>>,
    /// The last [`RETIRED`] revisions replaced, newest last.
    retired: Mutex<VecDeque<Arc<Snapshot>>>,
    reloading: Mutex<()>,
    events: tokio::sync::broadcast::Sender<ReloadRecord>,
    recent: Recent,
    /// How far ahead overrides' expiries are warned about, in ms.
    warn_expiry: i64,
    /// How many reloads did what, for metrics.
    pub counters: Counters,
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Live {
    /// Load the rules for the first time, keeping the last
    /// [`DEFAULT_CAPACITY`](crate::recent::DEFAULT_CAPACITY) requests. An
    /// invalid set is an error: the service must not start on it.
    pub fn load(source: RuleSource) -> Result<Self, LoadError> {
        Self::load_with(source, crate::recent::DEFAULT_CAPACITY)
    }

    /// [`Live::load`], keeping the last `replay_capacity` requests (0: none).
    pub fn load_with(source: RuleSource, replay_capacity: usize) -> Result<Self, LoadError> {
        let snapshot = Snapshot::new(Engine::load(&rules::read(&source))?);
        let (events, _) = tokio::sync::broadcast::channel(64);
        Ok(Self {
            source,
            current: ArcSwap::from_pointee(snapshot),
            last_error: Mutex::new(None),
            history: Mutex::new(VecDeque::new()),
            retired: Mutex::new(VecDeque::new()),
            reloading: Mutex::new(()),
            events,
            recent: Recent::new(replay_capacity),
            warn_expiry: Engine::WARN_EXPIRY_MS,
            counters: Counters::default(),
        })
    }

    /// Where the rules come from.
    pub fn source(&self) -> &RuleSource {
        &self.source
    }

    /// Warn about overrides expiring within `days` (default 14), rather
    /// than the default.
    pub fn with_warn_expiry(mut self, days: u32) -> Self {
        self.warn_expiry = i64::from(days) * 86_400_000;
        self
    }

    /// The warnings about the serving rules now: the load's, and those
    /// about tenant overrides that have expired or expire soon.
    pub fn warnings(&self) -> Vec<Diagnostic> {
        let snap = self.current();
        let mut w = snap.engine.warnings().to_vec();
        w.extend(snap.engine.expiry_warnings(crate::now_ms(), self.warn_expiry));
        w
    }

    /// The recent requests, which the decision handlers record into.
    pub fn recent(&self) -> &Recent {
        &self.recent
    }

    /// The snapshot serving now. Keep the `Arc` for the whole request.
    pub fn current(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// The snapshot serving, borrowed for a moment: no reference count is
    /// taken (none of the cache-line traffic two cores cause on a shared
    /// count), so hold it for one request's synchronous work, not across
    /// an await.
    pub fn current_guard(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.current.load()
    }

    /// The snapshot of `revision`: the one serving, or one of the last
    /// [`RETIRED`] it replaced.
    pub fn snapshot_of(&self, revision: &str) -> Option<Arc<Snapshot>> {
        let current = self.current();
        if current.engine.revision() == revision {
            return Some(current);
        }
        let retired = self.retired.lock().ok()?;
        retired.iter().rev().find(|s| s.engine.revision() == revision).cloned()
    }

    /// The newest files' errors, when they failed to load.
    pub fn last_error(&self) -> Option<Rejected> {
        self.last_error.lock().map(|e| e.clone()).unwrap_or(None)
    }

    /// Reloads, newest first.
    pub fn history(&self) -> Vec<ReloadRecord> {
        self.history.lock().map(|h| h.iter().rev().cloned().collect()).unwrap_or_default()
    }

    /// Subscribe to reload records (for server-sent events).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<ReloadRecord> {
        self.events.subscribe()
    }

    /// Whether the files' content hash differs from both the serving
    /// revision and the last rejected one — that is, whether a reload
    /// would find anything new. Reads the files, compiles nothing.
    pub fn changed(&self) -> bool {
        let read = rules::read(&self.source);
        if self.last_error().is_some_and(|r| r.revision == read.revision) {
            return false; // these very files were rejected already
        }
        read.revision != self.current().engine.revision()
    }

    /// Re-read the whole source, and swap if it is new and good.
    pub fn reload(&self, trigger: &str) -> Outcome {
        let _serial = self.reloading.lock();
        let read = rules::read(&self.source);
        let revision = read.revision.clone();
        let current = self.current();
        let serving = current.engine.revision().to_owned();
        let outcome = if revision == serving {
            self.counters.unchanged.fetch_add(1, Ordering::Relaxed);
            // The files are back to the serving revision: a pending error is moot.
            let cleared = self.last_error.lock().ok().and_then(|mut e| e.take()).map(|r| r.revision);
            if let Some(rejected) = &cleared {
                tracing::info!(%revision, %rejected, trigger, "rules back to the serving revision; the rejected files are gone");
            }
            Outcome::Unchanged { revision, cleared }
        } else {
            match Engine::load(&read) {
                Ok(engine) => {
                    let next = Snapshot::new(engine);
                    let revision = next.engine.revision().to_owned();
                    let next = Arc::new(next);
                    self.current.store(next.clone());
                    if let Ok(mut retired) = self.retired.lock() {
                        if retired.len() >= RETIRED {
                            retired.pop_front();
                        }
                        retired.push_back(current.clone());
                    }
                    if let Ok(mut e) = self.last_error.lock() {
                        *e = None;
                    }
                    self.counters.applied.fetch_add(1, Ordering::Relaxed);
                    // After the swap: nothing waits for the replay.
                    let impact = impact::compare(&current.engine, &next.engine, &self.recent.snapshot());
                    tracing::info!(
                        %revision,
                        previous = %serving,
                        trigger,
                        replayed = impact.replayed,
                        changed = impact.changed,
                        allow_to_deny = impact.changes.allow_to_deny,
                        deny_to_allow = impact.changes.deny_to_allow,
                        "rules reloaded"
                    );
                    for w in next.engine.expiry_warnings(crate::now_ms(), self.warn_expiry) {
                        tracing::warn!(%revision, "{w}");
                    }
                    Outcome::Applied { previous: serving, revision, impact }
                }
                Err(e) => {
                    let rejected = Rejected { revision, at: now_rfc3339(), errors: e.diagnostics };
                    for d in rejected.errors.iter().filter(|d| d.is_error()) {
                        tracing::error!(revision = %rejected.revision, trigger, "rules rejected: {d}");
                    }
                    if let Ok(mut slot) = self.last_error.lock() {
                        *slot = Some(rejected.clone());
                    }
                    self.counters.rejected.fetch_add(1, Ordering::Relaxed);
                    Outcome::Rejected { serving, rejected }
                }
            }
        };
        if !matches!(outcome, Outcome::Unchanged { cleared: None, .. }) {
            let record = ReloadRecord { at: now_rfc3339(), trigger: trigger.to_owned(), outcome: outcome.clone() };
            if let Ok(mut h) = self.history.lock() {
                if h.len() >= HISTORY {
                    h.pop_front();
                }
                h.push_back(record.clone());
            }
            // No subscriber is fine.
            let _ = self.events.send(record);
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn copy_rules(to: &std::path::Path) {
        for f in rules::source::builtin() {
            let p = to.join(&f.path);
            if let Some(parent) = p.parent() {
                fs::create_dir_all(parent).unwrap();
            }
            fs::write(p, f.text).unwrap();
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_set_rejected_for_an_unreadable_file_has_a_revision_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        copy_rules(dir.path());
        let live = Live::load(RuleSource::Dir(dir.path().to_owned())).unwrap();
        let serving = live.current().engine.revision().to_owned();
        // The readable files are unchanged; only a dangling link was added.
        std::os::unix::fs::symlink("missing.yaml", dir.path().join("extra.yaml")).unwrap();
        let Outcome::Rejected { rejected, .. } = live.reload("test") else { panic!("expected rejected") };
        assert_ne!(rejected.revision, serving, "the rejected set is not the serving one");
        assert!(!live.changed(), "the same rejected set is not new");
    }

    #[test]
    fn reload_applies_rejects_and_recovers() {
        let dir = tempfile::tempdir().unwrap();
        copy_rules(dir.path());
        let live = Live::load(RuleSource::Dir(dir.path().to_owned())).unwrap();
        let first = live.current().engine.revision().to_owned();
        assert_eq!(live.reload("test"), Outcome::Unchanged { revision: first.clone(), cleared: None });
        assert!(live.history().is_empty(), "a reload that finds nothing new is not kept");

        fs::write(dir.path().join("tenants/extra.yaml"), "kind: tenant\ntenant: extra\n").unwrap();
        let Outcome::Applied { previous, revision, impact } = live.reload("test") else { panic!("expected applied") };
        assert_eq!((impact.before.as_str(), impact.after.as_str()), (first.as_str(), revision.as_str()));
        assert_eq!(impact.replayed, 0, "nothing was decided yet");
        assert_eq!(previous, first);
        assert_eq!(live.current().engine.revision(), revision);

        fs::write(dir.path().join("tenants/broken.yaml"), "kind: tenant\ntenant: [\n").unwrap();
        let Outcome::Rejected { rejected: bad, .. } = live.reload("test") else { panic!("expected rejected") };
        assert_eq!(live.current().engine.revision(), revision, "the good revision keeps serving");
        let err = live.last_error().expect("error kept");
        assert!(err.errors.iter().any(|d| d.file == "tenants/broken.yaml" && d.line >= 1), "{err:?}");

        let mut events = live.subscribe();
        fs::remove_file(dir.path().join("tenants/broken.yaml")).unwrap();
        let back = Outcome::Unchanged { revision: revision.clone(), cleared: Some(bad.revision.clone()) };
        assert_eq!(live.reload("test"), back, "reverting a broken edit names the rejection it ends");
        assert!(live.last_error().is_none(), "recovery clears the error");
        assert_eq!(live.history().len(), 3, "applied, rejected, and the recovery");
        assert_eq!(events.try_recv().map(|r| r.outcome).ok(), Some(back), "subscribers hear of the recovery");
        let shown = serde_json::to_value(&bad).unwrap();
        assert!(shown["errors"][0]["text"].as_str().is_some_and(|t| t.starts_with("tenants/broken.yaml:")), "{shown}");
    }
}
