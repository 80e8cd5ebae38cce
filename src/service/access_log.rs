//! The access log: one line per request on stderr, off the request path.
//!
//! ```text
//! 2026-12-02T16:33:15.068943Z  INFO cansend::access: request_id=e16f… method=POST path=/v1/can-send status=200 latency_us=57 peer=127.0.0.1:58530
//! ```
//!
//! It is on when the log filter enables target `cansend::access` at
//! `info` — so by default (`RUST_LOG` unset means `info`), and off with
//! `RUST_LOG=warn` or `RUST_LOG=info,cansend::access=off`. The line has
//! the layout of the other log lines (`tracing`'s), but it is not written
//! through `tracing`: a span and an event per request, formatted by the
//! subscriber and written with one `write(2)` each, cost more than the
//! whole decision (BENCHMARKS.md, "The HTTP path"). Here the request
//! formats its line into a shared buffer (no allocation once the buffer
//! has grown) and a writer thread writes whatever has gathered in one
//! call, at most [`GATHER`] later. The buffer is bounded
//! ([`MAX_PENDING_BYTES`]): when stderr cannot keep up, lines are dropped
//! and counted (`cansend_access_log_dropped_total`), never waited for.
//! What is pending is written before the process exits ([`flush`]).

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

/// How long the writer lets lines gather before it writes them.
pub const GATHER: Duration = Duration::from_millis(10);

/// Most bytes of lines waiting to be written; past it lines are dropped.
pub const MAX_PENDING_BYTES: usize = 4 * 1024 * 1024;

/// The target that switches the access log on and off.
pub const TARGET: &str = "cansend::access";

/// Longest request id or path written (a path of the API is a few dozen bytes).
const MAX_FIELD: usize = 200;

/// One request's line.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// `x-request-id` of the answer.
    pub request_id: &'a [u8],
    /// The method.
    pub method: &'a str,
    /// The path, without the query.
    pub path: &'a str,
    /// The status answered.
    pub status: u16,
    /// From the request's head to the answer's.
    pub latency: Duration,
    /// The peer's address.
    pub peer: &'a str,
}

/// Whether the filter wants access lines now.
pub fn enabled() -> bool {
    tracing::enabled!(target: "cansend::access", tracing::Level::INFO)
}

struct Writer {
    pending: Mutex<Vec<u8>>,
    thread: std::thread::Thread,
}

static WRITER: OnceLock<Option<Writer>> = OnceLock::new();
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Lines dropped because the buffer was full.
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

fn writer() -> Option<&'static Writer> {
    WRITER
        .get_or_init(|| {
            let spawned = std::thread::Builder::new().name("cansend-access-log".into()).spawn(|| {
                loop {
                    std::thread::park();
                    std::thread::sleep(GATHER);
                    flush();
                }
            });
            match spawned {
                Ok(handle) => Some(Writer { pending: Mutex::new(Vec::with_capacity(64 * 1024)), thread: handle.thread().clone() }),
                Err(e) => {
                    tracing::warn!("no access log: its writer thread did not start: {e}");
                    None
                }
            }
        })
        .as_ref()
}

/// Write the line (see the module).
pub fn record(line: &Line<'_>) {
    let Some(w) = writer() else { return };
    let now = std::time::SystemTime::now();
    let mut pending = w.pending.lock().unwrap_or_else(PoisonError::into_inner);
    if pending.len() >= MAX_PENDING_BYTES {
        DROPPED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let was_empty = pending.is_empty();
    format(&mut pending, now, line);
    drop(pending);
    if was_empty {
        w.thread.unpark();
    }
}

/// Write what is pending now (the writer thread, and the process before it exits).
pub fn flush() {
    let Some(Some(w)) = WRITER.get() else { return };
    let lines = {
        let mut pending = w.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.is_empty() {
            return;
        }
        // Keep the grown buffer's twin for the next lines: swap, not take.
        let mut out = Vec::with_capacity(pending.capacity());
        std::mem::swap(&mut out, &mut pending);
        out
    };
    // A failed write (stderr closed) loses these lines; nothing to tell.
    let _ = std::io::stderr().lock().write_all(&lines);
}

/// Append `line` as of `now` to `out`.
fn format(out: &mut Vec<u8>, now: std::time::SystemTime, line: &Line<'_>) {
    let since = now.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    timestamp(out, since);
    out.extend_from_slice(b"  INFO cansend::access: request_id=");
    let id = line.request_id.get(..line.request_id.len().min(MAX_FIELD)).unwrap_or_default();
    // Header values may hold bytes that are not text: written as `?`.
    out.extend(id.iter().map(|b| if b.is_ascii_graphic() { *b } else { b'?' }));
    out.extend_from_slice(b" method=");
    out.extend_from_slice(line.method.as_bytes());
    out.extend_from_slice(b" path=");
    let path = line.path.as_bytes();
    out.extend(path.iter().take(MAX_FIELD).map(|b| if b.is_ascii_graphic() { *b } else { b'?' }));
    out.extend_from_slice(b" status=");
    out.extend_from_slice(itoa::Buffer::new().format(line.status).as_bytes());
    out.extend_from_slice(b" latency_us=");
    out.extend_from_slice(itoa::Buffer::new().format(line.latency.as_micros()).as_bytes());
    out.extend_from_slice(b" peer=");
    out.extend_from_slice(line.peer.as_bytes());
    out.push(b'\n');
}

/// `2026-12-02T16:33:15.068943Z`, as `tracing`'s lines start.
fn timestamp(out: &mut Vec<u8>, since_epoch: Duration) {
    let secs = since_epoch.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let two = |out: &mut Vec<u8>, n: u64| {
        out.push(b'0' + u8::try_from(n / 10 % 10).unwrap_or(0));
        out.push(b'0' + u8::try_from(n % 10).unwrap_or(0));
    };
    out.extend_from_slice(itoa::Buffer::new().format(y).as_bytes());
    out.push(b'-');
    two(out, m);
    out.push(b'-');
    two(out, d);
    out.push(b'T');
    two(out, rem / 3600);
    out.push(b':');
    two(out, rem / 60 % 60);
    out.push(b':');
    two(out, rem % 60);
    out.push(b'.');
    let mut micros = itoa::Buffer::new();
    let micros = micros.format(since_epoch.subsec_micros());
    out.extend(std::iter::repeat_n(b'0', 6usize.saturating_sub(micros.len())));
    out.extend_from_slice(micros.as_bytes());
    out.push(b'Z');
}

/// The proleptic Gregorian date of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u64, u64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, u64::try_from(m).unwrap_or(1), u64::try_from(d).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_the_layout_of_the_other_log_lines() {
        let mut out = Vec::new();
        let at = std::time::UNIX_EPOCH + Duration::from_micros(1_796_229_195_068_943);
        let line = Line {
            request_id: b"e16f15ae-1a44-4cc5-8cfb-7301fdba9474",
            method: "POST",
            path: "/v1/can-send",
            status: 200,
            latency: Duration::from_micros(57),
            peer: "127.0.0.1:58530",
        };
        format(&mut out, at, &line);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "2026-12-02T16:33:15.068943Z  INFO cansend::access: request_id=e16f15ae-1a44-4cc5-8cfb-7301fdba9474 \
             method=POST path=/v1/can-send status=200 latency_us=57 peer=127.0.0.1:58530\n"
        );
        // Control bytes and spaces never split a line or a field.
        out.clear();
        format(&mut out, at, &Line { request_id: b"a b\nc", path: "/x\ny", ..line });
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("request_id=a?b?c method"), "{text}");
        assert!(text.contains("path=/x?y status"), "{text}");
        assert_eq!(text.matches('\n').count(), 1);
    }

    #[test]
    fn dates_across_eras_and_leap_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_789), (2026, 12, 2));
        let mut out = Vec::new();
        timestamp(&mut out, Duration::from_micros(951_782_400_000_007));
        assert_eq!(String::from_utf8_lossy(&out), "2000-02-29T00:00:00.000007Z");
    }
}
