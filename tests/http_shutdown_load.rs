//! SIGTERM while the server is under load, on the real `cansend serve`
//! process: requests already accepted — here, requests whose body is still
//! arriving — are answered in full, the listener closes, event streams end,
//! and the process exits 0.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

mod fleet_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use fleet_common::{Serve, rules_dir};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BODY: &str = r#"{"sender": {"role": "agent"}, "client": {"status": "existing", "channels": ["email"]}, "channel": "email", "message": {"text": "hello"}}"#;

/// A request on its own connection whose head and first half of the body
/// are sent: accepted and in flight until the rest arrives.
async fn half_sent(addr: &str) -> tokio::net::TcpStream {
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!("POST /v1/can-send HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", BODY.len());
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(&BODY.as_bytes()[..BODY.len() / 2]).await.unwrap();
    sock
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_answers_what_was_accepted_ends_streams_and_exits_0() {
    let mut serve = Serve::start(&rules_dir(), &["--no-watch"]);
    let addr = serve.addr.clone();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();

    // An event stream, open until shutdown ends it.
    let mut events = client.get(format!("{}/v1/rules/events", serve.base)).send().await.unwrap();
    assert_eq!(events.status().as_u16(), 200);
    assert!(events.chunk().await.unwrap().is_some(), "the first event");

    // Load: keep-alive clients deciding in a loop.
    let terminated = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut load = Vec::new();
    for _ in 0..8 {
        let (client, url, terminated, answered) =
            (client.clone(), format!("{}/v1/can-send", serve.base), terminated.clone(), answered.clone());
        load.push(tokio::spawn(async move {
            loop {
                let sent = client.post(&url).header("content-type", "application/json").body(BODY).send().await;
                match sent {
                    Ok(res) => {
                        // Whatever is answered, before or during shutdown, is a decision.
                        assert_eq!(res.status().as_u16(), 200);
                        assert!(res.text().await.unwrap().contains("\"allowed\""));
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                    // Once stopping, a new request finds the listener or
                    // its idle connection closed: the client is told, and
                    // nothing was accepted. Before that, any error fails.
                    Err(e) => {
                        assert!(terminated.load(Ordering::Relaxed), "an error before SIGTERM: {e:?}");
                        return;
                    }
                }
            }
        }));
    }
    // Requests in flight at the signal: accepted, bodies half there.
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(half_sent(&addr).await);
    }
    while answered.load(Ordering::Relaxed) < 200 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    terminated.store(true, Ordering::Relaxed);
    let exit = tokio::task::spawn_blocking(move || {
        let status = serve.terminate();
        (status, serve)
    });
    // Give the process time to take the signal, then finish the held bodies.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for sock in &mut held {
        sock.write_all(&BODY.as_bytes()[BODY.len() / 2..]).await.unwrap();
    }
    for mut sock in held {
        let mut answer = String::new();
        tokio::time::timeout(Duration::from_secs(10), sock.read_to_string(&mut answer)).await.expect("answered in time").unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "an accepted request is answered: {answer}");
        assert!(answer.contains("\"allowed\""), "{answer}");
    }
    // The event stream ends (no error: a clean end of the body).
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(_chunk) = events.chunk().await.expect("the stream ends cleanly") {}
    })
    .await;
    assert!(ended.is_ok(), "the event stream ended");
    for t in load {
        t.await.unwrap();
    }
    let (status, serve) = exit.await.unwrap();
    assert!(status.success(), "exit status 0 after SIGTERM: {status:?}\n{}", serve.log());
    assert!(tokio::net::TcpStream::connect(&addr).await.is_err(), "the listener is closed");
    assert!(serve.log().contains("SIGTERM"), "{}", serve.log());
    assert!(answered.load(Ordering::Relaxed) >= 200);
}
