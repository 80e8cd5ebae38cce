//! Watching the rules directory, in every way files change.
//!
//! Two mechanisms, on one background thread:
//! - **Events** (inotify and friends, through `notify`), recursive on the
//!   rules directory, hidden `..data` directories included: in-place
//!   writes, save-by-rename, create/delete/rename, `git checkout`, and the
//!   `..data` symlink swap of a Kubernetes ConfigMap all produce events.
//!   Bursts are debounced: after the first event, the thread waits until
//!   no event came for `debounce` (at most `max_delay` in all), then
//!   reloads the whole set once.
//! - **Polling** every `poll` interval: a cheap fingerprint of the files
//!   (paths, sizes, mtimes, inodes) and of the directory; a change is
//!   reloaded once the fingerprint has held still for `debounce`. It catches what
//!   events miss — network file systems, a watched directory replaced
//!   wholesale (the watcher is then re-armed on the new directory).
//!   Every [`CONTENT_EVERY`] polls the files are also read and their
//!   content hash compared ([`Live::changed`]): an edit that keeps size
//!   and modification time (`cp -p`, `rsync -t`, coarse mtimes on some
//!   network file systems) is still seen, without reading every file every
//!   second.
//!
//! What a reload does with the files — compare the content hash, validate,
//! swap or reject — is [`Live::reload`]'s business; this module only
//! decides *when*. Access events (our own reads) are ignored, so a reload
//! does not trigger itself.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher as _};

use super::Live;
use crate::rules::source::fingerprint;

/// Every how many polls the files' contents are hashed too.
pub const CONTENT_EVERY: u32 = 10;

/// How the rules directory is watched.
#[derive(Debug, Clone, Copy)]
pub struct WatchOptions {
    /// Quiet time after the last event before reloading.
    pub debounce: Duration,
    /// Longest wait after the first event of a burst.
    pub max_delay: Duration,
    /// Polling interval of the fallback.
    pub poll: Duration,
    /// Listen to file events; `false` polls only (tests of the fallback).
    pub events: bool,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self { debounce: Duration::from_millis(150), max_delay: Duration::from_secs(1), poll: Duration::from_secs(1), events: true }
    }
}

/// The watching thread; dropping it stops the thread.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Start watching `dir` and reloading `live` when it changes.
pub fn spawn(live: Arc<Live>, dir: PathBuf, opts: WatchOptions) -> std::io::Result<Watcher> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::Builder::new().name("cansend-watch".into()).spawn(move || run(&live, &dir, opts, &flag))?;
    Ok(Watcher { stop, thread: Some(thread) })
}

fn arm(dir: &Path, tx: &mpsc::Sender<()>) -> Option<notify::RecommendedWatcher> {
    let tx = tx.clone();
    let handler = move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res
            && !matches!(ev.kind, EventKind::Access(_))
        {
            let _ = tx.send(());
        }
    };
    match notify::recommended_watcher(handler) {
        Ok(mut w) => match w.watch(dir, RecursiveMode::Recursive) {
            Ok(()) => Some(w),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), "cannot watch the rules directory ({e}); polling only");
                None
            }
        },
        Err(e) => {
            tracing::warn!("no file-event watcher ({e}); polling only");
            None
        }
    }
}

fn root_id(dir: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        std::fs::metadata(dir).ok().map(|m| std::os::unix::fs::MetadataExt::ino(&m))
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(dir).ok().map(|_| 0)
    }
}

/// Wait until the directory's fingerprint holds still for `debounce` (at
/// most `max_delay`), and return it: polling must not read a file in the
/// middle of being written — a truncated file that still parses would
/// apply rules nobody wrote. Events are debounced the same way.
fn settle(dir: &Path, mut fp: u64, opts: WatchOptions) -> u64 {
    let first = Instant::now();
    loop {
        std::thread::sleep(opts.debounce);
        let now = fingerprint(dir);
        if now == fp || first.elapsed() >= opts.max_delay {
            return now;
        }
        fp = now;
    }
}

fn run(live: &Live, dir: &Path, opts: WatchOptions, stop: &AtomicBool) {
    let (tx, rx) = mpsc::channel::<()>();
    let arm = |dir: &Path, tx: &mpsc::Sender<()>| if opts.events { arm(dir, tx) } else { None };
    let mut watcher = arm(dir, &tx);
    let mut root = root_id(dir);
    let mut last = fingerprint(dir);
    let tick = opts.poll.min(Duration::from_millis(250));
    let mut next_poll = Instant::now() + opts.poll;
    let mut polls = 0u32;
    while !stop.load(Ordering::Relaxed) {
        match rx.recv_timeout(tick) {
            Ok(()) => {
                // Debounce the burst.
                let first = Instant::now();
                while first.elapsed() < opts.max_delay {
                    match rx.recv_timeout(opts.debounce) {
                        Ok(()) => continue,
                        Err(_) => break,
                    }
                }
                // Fingerprint first, then read: a change landing between the
                // two is then newer than `last`, and the next poll reloads
                // it. (Taken after the reload, it would hide that change
                // from polling — and a change in a directory whose watch
                // is gone has nothing else to see it.)
                let fp = fingerprint(dir);
                let now_root = root_id(dir);
                if now_root != root {
                    // The events came from the directory being replaced:
                    // watch the new one now rather than at the next poll.
                    root = now_root;
                    watcher = arm(dir, &tx);
                }
                live.reload("watch");
                last = fp;
            }
            Err(RecvTimeoutError::Timeout) => {
                if Instant::now() < next_poll {
                    continue;
                }
                next_poll = Instant::now() + opts.poll;
                let now_root = root_id(dir);
                if now_root != root {
                    // The directory itself was replaced: watch the new one.
                    root = now_root;
                    watcher = arm(dir, &tx);
                }
                polls = polls.wrapping_add(1);
                let fp = fingerprint(dir);
                if fp != last || (polls % CONTENT_EVERY == 0 && live.changed()) {
                    let fp = settle(dir, fp, opts);
                    live.reload("poll");
                    last = fp;
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                watcher = None;
                std::thread::sleep(tick);
            }
        }
    }
    drop(watcher);
}
