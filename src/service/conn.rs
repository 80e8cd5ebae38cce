//! Accepting connections: HTTP/1.1 over hyper, with the deadlines
//! `axum::serve` does not set, and graceful shutdown.
//!
//! `axum::serve` gives hyper no timer, so a client that opens a connection
//! and sends half a request head is waited for forever: each such client
//! holds a task and a file descriptor (slowloris). Here every connection
//! has the request timeout (`--timeout`, [`super::Limits::timeout`]) to
//! send a complete head — on a new connection, and after each answer on a
//! kept-alive one; after that it is closed. Bodies have the same deadline,
//! counted where they are read ([`super::body`]). The front
//! ([`super::front`]) gets the peer address, for the access log and for
//! axum's `ConnectInfo` extractor (the admin endpoint allows loopback
//! peers).
//!
//! The head deadline is kept by one timer per connection ([`HeadClock`]),
//! not hyper's `header_read_timeout`: that arms, polls and drops a timer
//! for every request of a kept-alive connection (an allocation and two
//! locks of the runtime's timer wheel each time), which cost more than the
//! engine's whole decision. The connection's timer fires at most once per
//! timeout and only then looks at when the connection began waiting.
//!
//! Shutdown: stop accepting, ask every connection to finish (hyper answers
//! the request in flight, then closes; idle keep-alive connections close
//! at once), and return when all have, or after [`SHUTDOWN_GRACE`].
//!
//! The service speaks HTTP/1.1 (with keep-alive), as it did through
//! `axum::serve` without axum's `http2` feature; callers behind a load
//! balancer or a service mesh reach it that way.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::front::{Front, Fronts};

/// Serve `fronts` on `listener` until `shutdown` completes, then finish
/// what is in flight and return. `header_timeout` is the longest a client
/// may take to send a request's head (line and headers), on a new
/// connection or between the requests of a kept-alive one.
pub async fn serve(
    listener: TcpListener,
    fronts: Fronts,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // A value sent on `stop_tx` tells the connections to finish; each holds
    // a clone of `done_rx` until it has, so `done_tx.closed()` waits for all.
    let (stop_tx, _) = watch::channel(());
    let (done_tx, done_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                // A connection that went away before it was accepted: next.
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = fronts.front(peer);
        let stop = stop_tx.subscribe();
        let done = done_rx.clone();
        tokio::spawn(connection(stream, peer, service, header_timeout, stop, done));
    }
    drop(listener);
    stop_tx.send_replace(());
    drop(stop_tx);
    drop(done_rx);
    // A client that stopped reading (its window full) would hold the
    // process forever: after the grace period, whatever is left is dropped.
    if tokio::time::timeout(SHUTDOWN_GRACE, done_tx.closed()).await.is_err() {
        tracing::warn!(connections = done_tx.receiver_count(), grace = ?SHUTDOWN_GRACE, "shutting down with connections still open");
    }
    Ok(())
}

/// Longest a graceful shutdown waits for open connections to finish
/// (below Kubernetes' default 30 s before it kills the pod).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Errors of one connection rather than of the listener.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset)
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    service: Front,
    header_timeout: Duration,
    mut stop: watch::Receiver<()>,
    done: watch::Receiver<()>,
) {
    let http = hyper::server::conn::http1::Builder::new();
    let clock = service.clone();
    let mut conn = pin!(http.serve_connection(TokioIo::new(stream), service));
    let mut stopping = false;
    let mut deadline = pin!(tokio::time::sleep(header_timeout));
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                break;
            }
            // The sender is gone or says "stop": finish and close, once.
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            () = deadline.as_mut() => match clock.head_clock().overdue(header_timeout, Instant::now()) {
                None => {
                    tracing::debug!(%peer, timeout = ?header_timeout, "no complete request head within the timeout; closing");
                    break;
                }
                Some(next) => deadline.as_mut().reset(next.into()),
            },
        }
    }
    drop(done);
}

/// When a connection began waiting for a request head, if it is waiting.
#[derive(Debug)]
pub struct HeadClock {
    /// Milliseconds since [`epoch`] + 1 when waiting began; [`BUSY`] while
    /// a request is answered.
    waiting_since: AtomicU64,
}

const BUSY: u64 = 0;

/// The instant the clocks count from.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

impl HeadClock {
    /// A connection accepted at `now`: waiting for its first head.
    pub fn new(now: Instant) -> Self {
        let clock = Self { waiting_since: AtomicU64::new(BUSY) };
        clock.waiting(now);
        clock
    }

    /// A request's head has arrived.
    pub fn busy(&self) {
        self.waiting_since.store(BUSY, Ordering::Relaxed);
    }

    /// The answer is out (its body complete): waiting for the next head since `now`.
    pub fn waiting(&self, now: Instant) {
        let ms = u64::try_from(now.saturating_duration_since(epoch()).as_millis()).unwrap_or(u64::MAX - 1);
        self.waiting_since.store(ms.saturating_add(1), Ordering::Relaxed);
    }

    /// `None` when the connection has waited for a head `timeout` or
    /// longer by `now`; else the instant to look again.
    pub fn overdue(&self, timeout: Duration, now: Instant) -> Option<Instant> {
        match self.waiting_since.load(Ordering::Relaxed) {
            BUSY => Some(now + timeout),
            since => {
                let began = epoch() + Duration::from_millis(since - 1);
                let due = began + timeout;
                if due <= now { None } else { Some(due) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_overdue_only_while_waiting_for_a_head() {
        let t = Duration::from_secs(10);
        let start = Instant::now();
        let clock = HeadClock::new(start);
        let due = clock.overdue(t, start);
        assert!(due.is_some_and(|d| d >= start + t - Duration::from_millis(1)), "{due:?}");
        assert_eq!(clock.overdue(t, start + t + Duration::from_millis(2)), None, "no head in time");
        clock.busy();
        assert!(clock.overdue(t, start + 3 * t).is_some(), "answering is not waiting");
        clock.waiting(start + 3 * t);
        assert!(clock.overdue(t, start + 3 * t + t / 2).is_some());
        assert_eq!(clock.overdue(t, start + 4 * t + Duration::from_millis(2)), None);
    }
}
