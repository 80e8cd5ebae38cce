//! Bad input, over a real socket: every answer is a 4xx RFC 9457 problem
//! (`application/problem+json`) with the exact status and, for field
//! errors, the JSON pointer of the field. Never a 500, never silence.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

mod http_common;

use std::time::Duration;

use http_common::{Answer, Server, assert_problem, base, with};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Each case: a can-send body and the pointer its 422 must carry.
fn unprocessable() -> Vec<(&'static str, Value, &'static str)> {
    let att = |v: Value| with(base(), &[("/message/attachments", json!([{ "name": "a.pdf", "size": v }]))]);
    vec![
        ("typo in a field name", with(base(), &[("/client/blockd", json!(true))]), "/client/blockd"),
        ("unknown top-level field", with(base(), &[("/priority", json!("high"))]), "/priority"),
        ("unknown message field", with(base(), &[("/message/html", json!("<b>"))]), "/message/html"),
        (
            "unknown attachment field",
            with(base(), &[("/message/attachments", json!([{ "name": "a.pdf", "size": 1, "mime": "x" }]))]),
            "/message/attachments/0/mime",
        ),
        ("unknown channel", with(base(), &[("/channel", json!("icq"))]), "/channel"),
        ("an array for an object (serde would read it by position)", with(base(), &[("/sender", json!(["agent"]))]), "/sender"),
        ("an array for an attachment", with(base(), &[("/message/attachments", json!([["a.pdf", 1]]))]), "/message/attachments/0"),
        ("unknown tenant", with(base(), &[("/tenant", json!("acme"))]), "/tenant"),
        ("unknown role", with(base(), &[("/sender/role", json!("admin"))]), "/sender/role"),
        ("unknown action", with(base(), &[("/action", json!("send_later"))]), "/action"),
        ("unknown client status", with(base(), &[("/client/status", json!("former"))]), "/client/status"),
        ("undeclared client attribute", with(base(), &[("/client/attributes", json!({ "x": 1 }))]), "/client/attributes/x"),
        ("undeclared sender attribute", with(base(), &[("/sender/attributes", json!({ "mood": "ok" }))]), "/sender/attributes/mood"),
        ("negative size", att(json!(-1)), "/message/attachments/0/size"),
        ("huge float size", att(json!(1e30)), "/message/attachments/0/size"),
        ("fractional size", att(json!(1.5)), "/message/attachments/0/size"),
        ("string size", att(json!("12")), "/message/attachments/0/size"),
        ("size over i64", att(json!(u64::MAX)), "/message/attachments/0/size"),
        ("missing message", with(base(), &[("/message", Value::Null)]), "/message"),
        ("missing channel", with(base(), &[("/channel", Value::Null)]), "/channel"),
        ("missing sender role", with(base(), &[("/sender/role", Value::Null)]), "/sender/role"),
        ("missing client status", with(base(), &[("/client/status", Value::Null)]), "/client/status"),
        ("blocked is a string", with(base(), &[("/client/blocked", json!("yes"))]), "/client/blocked"),
        ("active_thread is a number", with(base(), &[("/client/active_thread", json!(1))]), "/client/active_thread"),
        ("channels is a string", with(base(), &[("/client/channels", json!("whatsapp"))]), "/client/channels"),
        ("a tag is a number", with(base(), &[("/thread", json!({ "tags": ["sales", 7] }))]), "/thread/tags/1"),
        ("template without a name", with(base(), &[("/message", json!({ "template": { "header": "h" } }))]), "/message/template/name"),
        ("template with a blank name", with(base(), &[("/message", json!({ "template": { "name": " " } }))]), "/message/template/name"),
        ("text is an object", with(base(), &[("/message/text", json!({ "en": "hi" }))]), "/message/text"),
        ("bad at", with(base(), &[("/at", json!("yesterday"))]), "/at"),
        ("bad last_inbound_at", with(base(), &[("/client/last_inbound_at", json!("2026-13-45T99:00:00Z"))]), "/client/last_inbound_at"),
        ("text over 64 KiB", with(base(), &[("/message/text", json!("x".repeat(64 * 1024 + 1)))]), "/message/text"),
        (
            "101 attachments",
            with(base(), &[("/message/attachments", json!(vec![json!({ "name": "a.pdf", "size": 1 }); 101]))]),
            "/message/attachments",
        ),
        ("body is an array", json!([base()]), ""),
        ("body is a string", json!("can I send?"), ""),
    ]
}

#[tokio::test]
async fn field_errors_are_422_with_a_pointer() {
    let s = Server::start().await;
    let cases = unprocessable();
    assert!(cases.len() >= 25);
    for (what, body, pointer) in cases {
        let a = s.post("/v1/can-send", &body).await;
        assert_eq!(a.status, 422, "{what}: {}", a.text);
        assert_problem(&a, 422, Some(pointer));
        assert_eq!(a.json["type"], "urn:cansend:problem:invalid-request", "{what}");
    }
}

#[tokio::test]
async fn a_repeated_key_is_422_not_last_one_wins() {
    let s = Server::start().await;
    let body =
        br#"{"sender": {"role": "agent"}, "client": {"status": "existing", "channels": ["whatsapp"], "blocked": true, "blocked": false},
                    "channel": "whatsapp", "message": {"text": "hi"}}"#;
    let a = s.post_raw("/v1/can-send", Some("application/json"), body.to_vec()).await;
    assert_problem(&a, 422, Some("/client/blocked"));
    let batch = br#"{"requests": [{"channel": "a", "channel": "b"}]}"#;
    let a = s.post_raw("/v1/can-send/batch", Some("application/json"), batch.to_vec()).await;
    assert_problem(&a, 422, Some("/requests/0/channel"));
}

#[tokio::test]
async fn several_binding_errors_are_all_reported() {
    let s = Server::start().await;
    let body = with(base(), &[("/tenant", json!("acme")), ("/channel", json!("icq")), ("/sender/role", json!("boss"))]);
    let a = s.post("/v1/can-send", &body).await;
    assert_problem(&a, 422, Some("/tenant"));
    assert_problem(&a, 422, Some("/channel"));
    assert_problem(&a, 422, Some("/sender/role"));
    // A near miss gets a hint.
    let a = s.post("/v1/can-send", &with(base(), &[("/channel", json!("whatsap"))])).await;
    assert!(a.json["errors"][0]["message"].as_str().is_some_and(|m| m.contains("whatsapp")), "{}", a.text);
}

#[tokio::test]
async fn several_shape_errors_are_all_reported() {
    // Three typos and a negative size: one answer names them all.
    let s = Server::start().await;
    let body = with(
        base(),
        &[
            ("/client/blockd", json!(true)),
            ("/sender/x", json!(1)),
            ("/message/txt", json!("hi")),
            ("/message/attachments", json!([{ "name": "a.pdf", "size": -1 }])),
        ],
    );
    let a = s.post("/v1/can-send", &body).await;
    for p in ["/client/blockd", "/sender/x", "/message/txt", "/message/attachments/0/size"] {
        assert_problem(&a, 422, Some(p));
    }
    assert_eq!(a.json["errors"].as_array().map(Vec::len), Some(4), "one error per problem: {}", a.text);
    let typo = a.json["errors"].as_array().into_iter().flatten().find(|e| e["pointer"] == "/client/blockd").cloned().unwrap_or_default();
    assert!(typo["message"].as_str().is_some_and(|m| m.contains("blocked")), "a hint: {typo}");
    // send-options too.
    let o = json!({ "sender": { "role": "agent", "x": 1 }, "client": { "status": "existing", "blockd": true } });
    let a = s.post("/v1/send-options", &o).await;
    assert_problem(&a, 422, Some("/sender/x"));
    assert_problem(&a, 422, Some("/client/blockd"));
}

#[tokio::test]
async fn send_options_is_as_strict() {
    let s = Server::start().await;
    let ok = json!({ "sender": { "role": "agent" }, "client": { "status": "existing" } });
    let cases = [
        (with(ok.clone(), &[("/client/blockd", json!(true))]), "/client/blockd"),
        (with(ok.clone(), &[("/channel", json!("whatsapp"))]), "/channel"),
        (with(ok.clone(), &[("/message", json!({ "text": "hi" }))]), "/message"),
        (with(ok.clone(), &[("/tenant", json!("acme"))]), "/tenant"),
        (with(ok.clone(), &[("/sender/role", json!("admin"))]), "/sender/role"),
        (with(ok.clone(), &[("/client", Value::Null)]), "/client"),
        (with(ok.clone(), &[("/client/attributes", json!({ "vip": true }))]), "/client/attributes/vip"),
    ];
    for (body, pointer) in cases {
        assert_problem(&s.post("/v1/send-options", &body).await, 422, Some(pointer));
    }
}

#[tokio::test]
async fn malformed_json_is_400() {
    let s = Server::start().await;
    for bad in [&b"{\"sender\": "[..], b"{", b"", b"   ", b"nul", b"{\"a\":1,}", &[0xff, 0xfe, 0x00][..], "[".repeat(10_000).as_bytes()] {
        let a = s.post_raw("/v1/can-send", Some("application/json"), bad.to_vec()).await;
        assert_problem(&a, 400, None);
        assert_eq!(a.json["type"], "urn:cansend:problem:malformed-json");
    }
    let a = s.post_raw("/v1/can-send/batch", Some("application/json"), b"{\"requests\": [".to_vec()).await;
    assert_problem(&a, 400, None);
    let a = s.post_raw("/v1/send-options", Some("application/json"), b"{".to_vec()).await;
    assert_problem(&a, 400, None);
}

#[tokio::test]
async fn wrong_or_missing_content_type_is_415() {
    let s = Server::start().await;
    let body = serde_json::to_vec(&base()).unwrap_or_default();
    for ct in [Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("application/xml"), None] {
        let a = s.post_raw("/v1/can-send", ct, body.clone()).await;
        assert_problem(&a, 415, None);
    }
    // JSON with parameters, and `+json` types, are JSON.
    for ct in ["application/json; charset=utf-8", "APPLICATION/JSON", "application/vnd.cansend+json"] {
        let a = s.post_raw("/v1/can-send", Some(ct), body.clone()).await;
        assert_eq!(a.status, 200, "{ct}: {}", a.text);
    }
    assert_problem(&s.post_raw("/v1/send-options", Some("text/plain"), b"{}".to_vec()).await, 415, None);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let s = Server::start().await;
    // 2 MiB with a Content-Length: refused before it is read.
    let mut big = serde_json::to_vec(&with(base(), &[("/message/text", json!("x".repeat(2 * 1024 * 1024)))])).unwrap_or_default();
    let a = s.post_raw("/v1/can-send", Some("application/json"), big.clone()).await;
    assert_problem(&a, 413, None);
    assert!(a.json["detail"].as_str().is_some_and(|d| d.contains("1048576")), "{}", a.text);
    // The same, chunked (no Content-Length): cut off while it is read.
    big.truncate(1_500_000);
    let raw = chunked("/v1/can-send", &big, s.addr).await;
    assert!(raw.starts_with("HTTP/1.1 413"), "{raw}");
    assert!(raw.to_ascii_lowercase().contains("content-type: application/problem+json"), "{raw}");
}

#[tokio::test]
async fn the_body_limit_is_configurable() {
    let limits = cansend::service::Limits { body_bytes: 300, ..Default::default() };
    let s = Server::start_with(cansend::reload::RuleSource::Dir(http_common::rules_dir()), limits).await;
    assert_eq!(s.post("/v1/can-send", &base()).await.status, 200);
    let a = s.post("/v1/can-send", &with(base(), &[("/message/text", json!("x".repeat(300)))])).await;
    assert_problem(&a, 413, None);
}

/// POST `body` with chunked transfer encoding over a raw socket; the
/// whole answer as text.
async fn chunked(path: &str, body: &[u8], addr: std::net::SocketAddr) -> String {
    let mut sock = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    sock.write_all(head.as_bytes()).await.expect("write head");
    for chunk in body.chunks(64 * 1024) {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        // The server may stop reading once over the limit.
        if sock.write_all(&framed).await.is_err() {
            break;
        }
    }
    let _ = sock.write_all(b"0\r\n\r\n").await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), sock.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods() {
    let s = Server::start().await;
    for path in ["/nope", "/console", "/v1/can_send", "/v2/can-send", "/v1/tenants", "/v1/can-send/batch/1"] {
        assert_problem(&s.get(path).await, 404, None);
    }
    // `/` is the console's page (tests/http_console.rs), not a 404.
    assert_eq!(s.get("/").await.content_type, "text/html; charset=utf-8");
    assert_problem(&s.post("/v1/nope", &base()).await, 404, None);
    let a = s.get("/v1/can-send").await;
    assert_problem(&a, 405, None);
    assert_eq!(a.headers.get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
    assert_problem(&s.get("/v1/send-options").await, 405, None);
    assert_problem(&s.get("/v1/can-send/batch").await, 405, None);
    let a = s.post("/v1/rules", &json!({})).await;
    assert_problem(&a, 405, None);
    assert_problem(&s.send(s.client.delete(format!("{}/v1/tenants/default", s.base))).await, 405, None);
}

#[tokio::test]
async fn unknown_tenant_resource_is_404() {
    let s = Server::start().await;
    let a = s.get("/v1/tenants/acme").await;
    assert_problem(&a, 404, None);
    let a = s.get("/v1/tenants/demo-limit").await;
    assert!(a.json["detail"].as_str().is_some_and(|d| d.contains("demo-limits")), "a hint: {}", a.text);
}

#[tokio::test]
async fn bad_query_parameters_are_400() {
    let s = Server::start().await;
    for q in ["explain=maybe", "explian=true", "explain=yes", "explain=2"] {
        let a = s.post(&format!("/v1/can-send?{q}"), &base()).await;
        assert_problem(&a, 400, None);
    }
    // The usual spellings of a flag are flags.
    for (q, traced) in
        [("explain", true), ("explain=", true), ("explain=1", true), ("explain=true", true), ("explain=0", false), ("explain=false", false)]
    {
        let a = s.post(&format!("/v1/can-send?{q}"), &base()).await;
        assert_eq!(a.status, 200, "{q}: {}", a.text);
        assert_eq!(a.json.get("trace").is_some(), traced, "{q}");
    }
    assert_problem(&s.post("/v1/can-send/batch?verbose=true", &json!({ "requests": [] })).await, 400, None);
}

#[tokio::test]
async fn batch_shape_errors() {
    let s = Server::start().await;
    let over: Vec<Value> = vec![base(); 1001];
    let a = s.post("/v1/can-send/batch", &json!({ "requests": over })).await;
    assert_problem(&a, 422, Some("/requests"));
    let exactly: Vec<Value> = vec![base(); 1000];
    let a = s.post("/v1/can-send/batch", &json!({ "requests": exactly })).await;
    assert_eq!(a.status, 200, "1000 is within the limit");
    assert_eq!(a.json["decisions"].as_array().map(Vec::len), Some(1000));
    assert_problem(&s.post("/v1/can-send/batch", &json!({})).await, 422, Some("/requests"));
    assert_problem(&s.post("/v1/can-send/batch", &json!({ "requests": {} })).await, 422, Some("/requests"));
    assert_problem(&s.post("/v1/can-send/batch", &json!({ "requests": [], "dry_run": true })).await, 422, Some("/dry_run"));
    assert_problem(&s.post("/v1/can-send/batch", &json!([base()])).await, 422, Some(""));
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated_on_errors_too() {
    let s = Server::start().await;
    let a: Answer = s.send(s.client.get(format!("{}/nope", s.base)).header("x-request-id", "abc-123")).await;
    assert_eq!(a.request_id.as_deref(), Some("abc-123"));
    let a = s.post_raw("/v1/can-send", Some("text/plain"), b"x".to_vec()).await;
    assert!(a.request_id.as_deref().is_some_and(|id| id.len() >= 16), "{:?}", a.request_id);
    let b = s.post_raw("/v1/can-send", Some("text/plain"), b"x".to_vec()).await;
    assert_ne!(a.request_id, b.request_id);
}

#[tokio::test]
async fn nothing_bad_reaches_a_500_and_the_server_keeps_serving() {
    let s = Server::start().await;
    let weird = [
        json!(null),
        json!(0),
        json!({ "sender": null, "client": null, "channel": null, "message": null }),
        json!({ "sender": { "role": "agent" }, "client": { "status": "existing" }, "channel": "whatsapp", "message": { "attachments": [null] } }),
        with(base(), &[("/client/attributes", json!([1, 2]))]),
        with(base(), &[("/message/attachments", json!([{ "name": "\u{0}", "size": 0 }]))]),
        with(base(), &[("/tenant", json!("\u{202e}x".repeat(1000)))]),
    ];
    for body in weird {
        let a = s.post("/v1/can-send", &body).await;
        assert!((400..500).contains(&a.status) || a.status == 200, "{body} → {}", a.text);
        if a.status != 200 {
            assert_eq!(a.content_type, "application/problem+json");
        }
    }
    assert_eq!(s.get("/healthz").await.status, 200);
}

#[tokio::test]
async fn a_body_that_arrives_too_slowly_is_408() {
    let limits = cansend::service::Limits { timeout: Duration::from_millis(300), ..Default::default() };
    let s = Server::start_with(cansend::reload::RuleSource::Dir(http_common::rules_dir()), limits).await;
    let body = serde_json::to_vec(&base()).unwrap_or_default();
    let mut sock = tokio::net::TcpStream::connect(s.addr).await.expect("connect");
    let head =
        format!("POST /v1/can-send HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", body.len());
    sock.write_all(head.as_bytes()).await.expect("head");
    sock.write_all(&body[..10]).await.expect("a little of the body");
    let mut out = vec![0u8; 4096];
    let n =
        tokio::time::timeout(Duration::from_secs(5), sock.read(&mut out)).await.expect("an answer before the test gives up").expect("read");
    let answer = String::from_utf8_lossy(&out[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("content-type: application/problem+json"), "{answer}");
    // A prompt request on the same server is unaffected.
    assert_eq!(s.post("/v1/can-send", &base()).await.status, 200);
}

#[tokio::test]
async fn a_request_head_that_never_ends_is_cut_off() {
    // Slowloris: half a request head, then nothing. The connection is
    // closed once the timeout has passed, instead of being held forever.
    let limits = cansend::service::Limits { timeout: Duration::from_millis(300), ..Default::default() };
    let s = Server::start_with(cansend::reload::RuleSource::Dir(http_common::rules_dir()), limits).await;
    let mut sock = tokio::net::TcpStream::connect(s.addr).await.expect("connect");
    sock.write_all(b"POST /v1/can-send HTTP/1.1\r\nhost: test\r\n").await.expect("half a head");
    let mut out = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), sock.read_to_end(&mut out)).await;
    assert!(closed.is_ok(), "the connection is still open after 5 s");
    // Whatever hyper says on the way out (a 408, or nothing), it is not a decision.
    assert!(!String::from_utf8_lossy(&out).contains("allowed"), "{}", String::from_utf8_lossy(&out));
    assert_eq!(s.post("/v1/can-send", &base()).await.status, 200, "the server serves others");
}

#[tokio::test]
async fn a_kept_alive_connection_gets_the_timeout_for_each_next_head() {
    // One answer, then half of the next head, then nothing: closed after
    // the timeout, like a new connection. A connection that keeps sending
    // requests within the timeout stays open for as long as it does.
    let limits = cansend::service::Limits { timeout: Duration::from_millis(400), ..Default::default() };
    let s = Server::start_with(cansend::reload::RuleSource::Dir(http_common::rules_dir()), limits).await;
    let mut sock = tokio::net::TcpStream::connect(s.addr).await.expect("connect");
    let mut out = vec![0u8; 8192];
    for _ in 0..6 {
        sock.write_all(b"GET /healthz HTTP/1.1\r\nhost: test\r\n\r\n").await.expect("a request");
        let n = tokio::time::timeout(Duration::from_secs(5), sock.read(&mut out)).await.expect("an answer").expect("read");
        assert!(String::from_utf8_lossy(&out[..n]).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&out[..n]));
        // 6 × 150 ms: longer than the timeout in all, never between two heads.
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    sock.write_all(b"GET /healthz HTTP/1.1\r\nhost:").await.expect("half a head");
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), sock.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the connection is still open after 5 s");
    // The timeout counts from the previous answer, 150 ms before the half head.
    assert!(started.elapsed() >= Duration::from_millis(200), "closed after {:?}, before its timeout", started.elapsed());
    assert!(rest.is_empty() || !String::from_utf8_lossy(&rest).contains("200 OK"), "{}", String::from_utf8_lossy(&rest));
}

#[tokio::test]
async fn an_event_stream_outlives_the_head_timeout() {
    // The stream is one answer that does not end: its connection is busy,
    // not waiting for a head, however long it lasts.
    let limits = cansend::service::Limits { timeout: Duration::from_millis(300), ..Default::default() };
    let s = Server::start_with(cansend::reload::RuleSource::Dir(http_common::rules_dir()), limits).await;
    let mut sock = tokio::net::TcpStream::connect(s.addr).await.expect("connect");
    sock.write_all(b"GET /v1/rules/events HTTP/1.1\r\nhost: test\r\naccept: text/event-stream\r\n\r\n").await.expect("a request");
    let mut out = vec![0u8; 8192];
    let n = tokio::time::timeout(Duration::from_secs(5), sock.read(&mut out)).await.expect("an answer").expect("read");
    assert!(String::from_utf8_lossy(&out[..n]).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&out[..n]));
    // Three timeouts later the stream is still open: a read waits (no EOF).
    let read = tokio::time::timeout(Duration::from_millis(1000), sock.read(&mut out)).await;
    match read {
        Err(_) => {}                                          // still open, nothing sent: as expected
        Ok(Ok(n)) => assert!(n > 0, "the stream was closed"), // an event or a keep-alive comment
        Ok(Err(e)) => panic!("the stream failed: {e}"),
    }
}
