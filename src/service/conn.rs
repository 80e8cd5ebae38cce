//! Accepting connections: HTTP/1.1 over hyper, with the deadlines
//! `axum::serve` does not set, and graceful shutdown.
//!
//! `axum::serve` gives hyper no timer, so a client that opens a connection
//! and sends half a request head is waited for forever: each such client
//! holds a task and a file descriptor (slowloris). Here every connection
//! has the request timeout (`--timeout`, [`super::Limits::timeout`]) to
//! send a complete head — after that hyper closes it; bodies have the same
//! deadline, counted where they are read ([`super::body`]) — and the
//! peer address is put where axum's `ConnectInfo` extractor finds it (the
//! admin endpoint allows loopback peers).
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

use hyper_util::rt::{TokioIo, TokioTimer};
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
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(header_timeout);
    let mut conn = pin!(http.serve_connection(TokioIo::new(stream), service));
    let mut stopping = false;
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
        }
    }
    drop(done);
}
