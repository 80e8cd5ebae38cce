//! A flood of large bodies over real sockets: every refusal is a `503`,
//! `413` or `422` problem — never a reset, never another 5xx — and small
//! can-sends and `/healthz` keep being answered while it lasts. (How much
//! memory a burst takes is measured by `scripts/burst.sh`, not here.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

mod http_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Bytes;
use http_common::{Server, base};
use serde_json::{Value, json};

/// A can-send whose `client.channels` has `n` items (~0.9 MB for 100,000).
/// Shared, so every request of the flood sends the same buffer.
fn big(n: usize) -> Bytes {
    let mut v = base();
    v["client"]["channels"] = Value::Array((0..n).map(|i| json!(format!("c{i}"))).collect());
    Bytes::from(serde_json::to_vec(&v).unwrap())
}

/// What one large request got: its status, and whether it was a problem
/// as the API writes them (with `Retry-After` and `reason` on a 503).
async fn send_big(client: &reqwest::Client, url: &str, body: &Bytes) -> Result<(u16, bool), String> {
    let res = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .map_err(|e| format!("no answer: {e:?}"))?;
    let status = res.status().as_u16();
    let is_problem = res.headers().get("content-type").is_some_and(|v| v == "application/problem+json");
    let retry_after = res.headers().get("retry-after").is_some();
    let text = res.text().await.map_err(|e| format!("answer cut off: {e:?}"))?;
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let well_formed = is_problem
        && v["status"] == json!(status)
        && v["type"].is_string()
        && v["detail"].is_string()
        && (status != 503 || (retry_after && v["type"] == "urn:cansend:problem:overloaded" && v["reason"].is_string()));
    Ok((status, well_formed))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_large_bodies_is_refused_cleanly_and_small_requests_go_on() {
    // A budget of four large bodies, so the flood overflows it for certain.
    let limits = cansend::service::Limits { inflight_bytes: 4 << 20, inflight_requests: 64, ..Default::default() };
    let s = Arc::new(Server::start_with(cansend::reload::RuleSource::Dir(http_common::rules_dir()), limits).await);
    let fits = big(100_000);
    assert!(fits.len() < 1 << 20, "under the body limit: {}", fits.len());
    let over = big(120_000);
    assert!(over.len() > 1 << 20, "over the body limit: {}", over.len());

    let flooding = Arc::new(AtomicBool::new(true));
    let small = {
        let (s, flooding) = (s.clone(), flooding.clone());
        tokio::spawn(async move {
            let (mut ok, mut refused, mut healthz) = (0, 0, 0);
            while flooding.load(Ordering::Relaxed) || ok == 0 {
                let a = s.post("/v1/can-send", &base()).await;
                match a.status {
                    200 => ok += 1,
                    503 => {
                        http_common::assert_problem(&a, 503, None);
                        refused += 1;
                    }
                    other => panic!("a small can-send got {other}: {}", a.text),
                }
                assert_eq!(s.get("/healthz").await.status, 200, "/healthz during the flood");
                healthz += 1;
            }
            (ok, refused, healthz)
        })
    };

    let url = format!("{}/v1/can-send", s.base);
    let mut tasks = Vec::new();
    for i in 0..300 {
        // Each on its own connection pool: 300 connections at once.
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let (url, body) = (url.clone(), if i % 10 == 9 { over.clone() } else { fits.clone() });
        tasks.push(tokio::spawn(async move { send_big(&client, &url, &body).await }));
    }
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok((status, well_formed)) => {
                assert!(matches!(status, 503 | 413 | 422), "a large body got {status}");
                assert!(well_formed, "a {status} that is not a complete problem");
                *by_status.entry(status).or_default() += 1;
            }
            Err(e) => panic!("a large body got no clean answer: {e}"),
        }
    }
    flooding.store(false, Ordering::Relaxed);
    let (ok, refused, healthz) = small.await.unwrap();
    assert!(ok >= 1, "no small can-send succeeded during the flood ({refused} refused)");
    assert!(healthz >= 1);
    assert!(by_status.get(&503).is_some_and(|n| *n > 0), "the budget was never full: {by_status:?}");
    assert_eq!(by_status.get(&413), Some(&30), "{by_status:?}");

    // Refusals are counted by reason; the budget is free again.
    let metrics = s.get("/metrics").await.text;
    let refused_bytes = metrics
        .lines()
        .find(|l| l.starts_with("cansend_admission_refused_total{reason=\"inflight_bytes\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse::<u64>().ok());
    assert!(refused_bytes.is_some_and(|n| n >= by_status[&503] as u64 - refused as u64), "{metrics}");
    assert!(metrics.contains("cansend_admission_refused_total{reason=\"inflight_requests\"}"));
    assert_eq!(s.post("/v1/can-send", &base()).await.status, 200);
    let a = s.post_raw("/v1/can-send", Some("application/json"), fits.to_vec()).await;
    http_common::assert_problem(&a, 422, Some("/client/channels"));
}

#[tokio::test]
async fn every_request_slot_taken_is_a_503_with_retry_after() {
    let limits = cansend::service::Limits { inflight_requests: 1, ..Default::default() };
    let s = Server::start_with(cansend::reload::RuleSource::Dir(http_common::rules_dir()), limits).await;
    // Hold the one slot: a request whose body never finishes arriving.
    use tokio::io::AsyncWriteExt;
    let mut held = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    held.write_all(b"POST /v1/can-send HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{")
        .await
        .unwrap();
    let mut refused = None;
    // The held request is admitted once the server has read its head.
    for _ in 0..200 {
        let a = s.post("/v1/can-send", &base()).await;
        if a.status == 503 {
            refused = Some(a);
            break;
        }
        assert_eq!(a.status, 200, "{}", a.text);
        tokio::task::yield_now().await;
    }
    let a = refused.expect("the only slot was taken");
    http_common::assert_problem(&a, 503, None);
    assert_eq!(a.json["type"], "urn:cansend:problem:overloaded");
    assert_eq!(a.json["reason"], "inflight_requests");
    assert_eq!(a.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    assert_eq!(s.get("/healthz").await.status, 200, "/healthz takes no slot");
    assert_eq!(s.get("/metrics").await.status, 200, "/metrics takes no slot");
    drop(held);
}
