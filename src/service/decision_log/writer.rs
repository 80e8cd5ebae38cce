//! The decision log's writing thread: takes entries off the queue,
//! serializes them (masking the body), and writes them to standard output
//! or a file — rotating it by size and reopening it on request.
//!
//! The queue is flushed to the file whenever it runs empty, so a reader
//! (`tail -f`, a log shipper) sees each line within moments of its
//! decision, and many lines go out in one write under load.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::Duration;

use serde::Serialize;

use super::mask::Mask;
use super::{Msg, Shared, Stamped};

/// How long the idle writer sleeps before looking at its flags again.
const IDLE: Duration = Duration::from_millis(100);

/// Where lines go.
pub(super) enum Sink {
    Stdout(BufWriter<std::io::Stdout>),
    File {
        path: PathBuf,
        file: BufWriter<File>,
        /// Bytes in the file now (as found when opened, plus what we wrote).
        size: u64,
        /// Rotate before a line would take the file past this many bytes.
        max_size: Option<u64>,
    },
}

/// Open `path` for appending (created `0640` where that means something:
/// the lines hold client data).
pub(super) fn open_file(path: &Path) -> std::io::Result<(BufWriter<File>, u64)> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o640);
    let file = options.open(path)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok((BufWriter::with_capacity(64 * 1024, file), size))
}

/// `PATH.1`, where a rotated file goes.
pub fn rotated_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".1");
    PathBuf::from(name)
}

impl Sink {
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Stdout(w) => w.flush(),
            Sink::File { file, .. } => file.flush(),
        }
    }

    /// Write one line (with its `\n`), rotating first when it would not fit.
    fn write_line(&mut self, line: &[u8], shared: &Shared) -> std::io::Result<()> {
        match self {
            Sink::Stdout(w) => w.write_all(line),
            Sink::File { path, file, size, max_size } => {
                let len = line.len() as u64;
                if let Some(max) = *max_size
                    && *size > 0
                    && size.saturating_add(len) > max
                {
                    file.flush()?;
                    let to = rotated_path(path);
                    match std::fs::rename(&*path, &to).and_then(|()| open_file(path)) {
                        Ok((new, 0)) => {
                            *file = new;
                            *size = 0;
                            shared.rotations.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok((new, found)) => {
                            // Someone else's file already sits at PATH again.
                            *file = new;
                            *size = found;
                        }
                        Err(e) => {
                            // Keep writing where we are; try again after
                            // another `max` bytes, not on every line.
                            tracing::warn!(path = %path.display(), "decision log: cannot rotate to {}: {e}", to.display());
                            *size = 0;
                        }
                    }
                }
                file.write_all(line)?;
                *size = size.saturating_add(len);
                Ok(())
            }
        }
    }

    /// Open the path anew (after logrotate moved the file away); on failure,
    /// keep the file we have.
    fn reopen(&mut self) {
        if let Sink::File { path, file, size, .. } = self {
            if let Err(e) = file.flush() {
                tracing::warn!(path = %path.display(), "decision log: flushing before reopening: {e}");
            }
            match open_file(path) {
                Ok((new, found)) => {
                    *file = new;
                    *size = found;
                    tracing::info!(path = %path.display(), "decision log reopened");
                }
                Err(e) => tracing::warn!(path = %path.display(), "decision log: cannot reopen, writing on to the old file: {e}"),
            }
        }
    }
}

/// One line of the log.
#[derive(Serialize)]
struct Line<'a> {
    time: String,
    request_id: &'a str,
    tenant: &'a str,
    channel: &'a str,
    role: &'a str,
    action: &'a str,
    allowed: bool,
    codes: &'a [String],
    rules: &'a [String],
    revision: &'a str,
    latency_us: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a serde_json::Value>,
}

/// What the thread needs besides the queue.
pub(super) struct Writer {
    pub sink: Sink,
    pub mask: Mask,
    pub shared: Arc<Shared>,
}

impl Writer {
    /// Run until shut down (and the queue is drained) or the log is gone.
    pub fn run(mut self, rx: Receiver<Msg>) {
        let mut buf = Vec::with_capacity(1024);
        loop {
            let msg = match rx.try_recv() {
                Ok(m) => m,
                Err(TryRecvError::Disconnected) => break,
                Err(TryRecvError::Empty) => {
                    if self.shared.closed.load(Ordering::Acquire) {
                        // Entries queued before the log was closed may have
                        // arrived since the queue looked empty: write them.
                        while let Ok(m) = rx.try_recv() {
                            self.handle(m, &mut buf);
                        }
                        break;
                    }
                    self.flush();
                    match rx.recv_timeout(IDLE) {
                        Ok(m) => m,
                        Err(RecvTimeoutError::Timeout) => continue,
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
            };
            self.handle(msg, &mut buf);
        }
        self.flush();
    }

    fn handle(&mut self, msg: Msg, buf: &mut Vec<u8>) {
        if self.shared.reopen.swap(false, Ordering::AcqRel) {
            self.sink.reopen();
        }
        if let Msg::Entry(e) = msg {
            self.write(*e, buf);
        }
    }

    fn flush(&mut self) {
        if let Err(e) = self.sink.flush() {
            tracing::warn!("decision log: flush failed: {e}");
        }
    }

    fn write(&mut self, stamped: Stamped, buf: &mut Vec<u8>) {
        let Stamped { time, entry, cost } = stamped;
        let mut body = entry.body;
        if let Some(b) = body.as_mut() {
            self.mask.apply(b);
        }
        buf.clear();
        let line = Line {
            time: time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            request_id: &entry.request_id,
            tenant: &entry.tenant,
            channel: &entry.channel,
            role: &entry.role,
            action: &entry.action,
            allowed: entry.allowed,
            codes: &entry.codes,
            rules: &entry.rules,
            revision: &entry.revision,
            latency_us: entry.latency_us,
            body: body.as_ref(),
        };
        let written = serde_json::to_writer(&mut *buf, &line).map_err(std::io::Error::other).and_then(|()| {
            buf.push(b'\n');
            self.sink.write_line(buf, &self.shared)
        });
        self.shared.pending_bytes.fetch_sub(cost, Ordering::AcqRel);
        self.shared.processed.fetch_add(1, Ordering::AcqRel);
        match written {
            Ok(()) => {
                self.shared.written.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => self.shared.drop_one(&format!("write failed: {e}")),
        }
    }
}
