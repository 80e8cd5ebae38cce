//! Batches, the rules and tenant views, operations endpoints, the OpenAPI
//! document, swaps of the served revision, graceful shutdown and the
//! `cansend serve` process itself — over real sockets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

mod http_common;

use std::io::BufRead as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use cansend::reload::RuleSource;
use cansend::service::Limits;
use http_common::{Server, assert_problem, base, codes, copy_dir, rules_dir, with};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn batch_answers_in_order_with_bad_items_in_place() {
    let s = Server::start().await;
    let blocked = with(base(), &[("/client/blocked", json!(true))]);
    let typo = with(base(), &[("/client/blockd", json!(true))]);
    let unknown = with(base(), &[("/channel", json!("icq"))]);
    let supervisor = with(base(), &[("/sender/role", json!("supervisor")), ("/action", json!("send_and_assign_self"))]);
    let body = json!({ "requests": [base(), blocked, typo, supervisor, unknown, [1, 2], base()] });
    let a = s.post("/v1/can-send/batch", &body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let d = a.json["decisions"].as_array().cloned().unwrap_or_default();
    assert_eq!(d.len(), 7);
    assert_eq!(d[0]["allowed"], true);
    assert_eq!(codes(&d[1]), ["client_blocked"]);
    assert_eq!(d[2]["status"], 422);
    assert_eq!(d[2]["errors"][0]["pointer"], "/requests/2/client/blockd");
    assert_eq!(codes(&d[3]), ["action_not_allowed"]);
    assert_eq!(d[4]["status"], 422);
    assert_eq!(d[4]["errors"][0]["pointer"], "/requests/4/channel");
    assert_eq!(d[5]["status"], 422);
    assert_eq!(d[5]["errors"][0]["pointer"], "/requests/5");
    assert_eq!(d[6]["allowed"], true);
    // One revision for all, and the same as the service reports.
    let revision = a.json["revision"].clone();
    for item in d.iter().filter(|i| i.get("allowed").is_some()) {
        assert_eq!(item["revision"], revision);
    }
    assert_eq!(s.get("/v1/rules").await.json["revision"], revision);
    // An empty batch is fine.
    let a = s.post("/v1/can-send/batch", &json!({ "requests": [] })).await;
    assert_eq!((a.status, a.json["decisions"].clone()), (200, json!([])));
}

#[tokio::test]
async fn batch_explains_on_request() {
    let s = Server::start().await;
    let a = s.post("/v1/can-send/batch?explain=true", &json!({ "requests": [base()] })).await;
    assert!(a.json["decisions"][0]["trace"].as_array().is_some_and(|t| !t.is_empty()), "{}", a.text);
    let a = s.post("/v1/can-send/batch", &json!({ "requests": [base()] })).await;
    assert!(a.json["decisions"][0].get("trace").is_none());
}

#[tokio::test]
async fn rules_show_revision_files_tenants() {
    let s = Server::start().await;
    let a = s.get("/v1/rules").await;
    assert_eq!((a.status, a.content_type.as_str()), (200, "application/json"));
    let r = &a.json;
    assert!(r["revision"].as_str().is_some_and(|x| x.starts_with("sha256:") && x.len() == 71), "{r}");
    assert!(r["loaded_at"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).is_some(), "{r}");
    assert_eq!(r["last_error"], Value::Null);
    assert!(r["warnings"].is_array());
    let files = r["files"].as_array().cloned().unwrap_or_default();
    let demo = files.iter().find(|f| f["path"] == "tenants/demo-limits.toml").cloned().unwrap_or_default();
    assert_eq!(demo["kind"], "tenant");
    assert!(demo["sha256"].as_str().is_some_and(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit())), "{demo}");
    assert!(files.iter().any(|f| f["path"] == "catalog.yaml"));
    let mut tenants: Vec<String> = r["tenants"].as_array().into_iter().flatten().filter_map(|t| t.as_str().map(str::to_owned)).collect();
    tenants.sort();
    assert!(["default", "demo-limits", "demo-tags"].iter().all(|t| tenants.contains(&t.to_string())), "{tenants:?}");
    let decision = s.decide(&base()).await;
    assert_eq!(decision["revision"], r["revision"]);
}

#[tokio::test]
async fn tenant_settings_with_provenance_and_tickets() {
    let s = Server::start().await;
    let a = s.get("/v1/tenants/demo-limits").await;
    assert_eq!(a.status, 200, "{}", a.text);
    let t = &a.json;
    assert_eq!(t["tenant"], "demo-limits");
    assert_eq!(t["file"], "tenants/demo-limits.toml");
    let max = &t["channels"]["email"]["max_file_size"];
    assert_eq!(max["value"], 50_000_000);
    assert_eq!(max["overridden"], true);
    assert_eq!(max["ticket"], "SUP-1042");
    let place = max["provenance"].as_str().unwrap_or_default();
    let line: u32 = place.strip_prefix("tenants/demo-limits.toml:").and_then(|l| l.parse().ok()).unwrap_or(0);
    assert!(line > 1, "{place}");
    assert_eq!(t["channels"]["email"]["max_total_size"]["value"], 100_000_000);
    assert_eq!(t["channels"]["email"]["max_total_size"]["ticket"], "SUP-1042");
    assert_eq!(t["channels"]["viber"]["connected"]["value"], false);
    assert!(t["channels"]["viber"]["connected"]["provenance"].as_str().is_some_and(|p| p.starts_with("tenants/demo-limits.toml:")));
    // Not overridden: the default, and where it is written.
    let wa = &t["channels"]["whatsapp"]["max_file_size"];
    assert_eq!((wa["value"].clone(), wa["overridden"].clone()), (json!(30_000_000), json!(false)));
    assert!(wa["provenance"].as_str().is_some_and(|p| p.starts_with("settings.yaml:")), "{wa}");
    assert!(wa.get("ticket").is_none());
    assert_eq!(t["roles"]["supervisor"]["capabilities"]["value"], json!(["view_conversation"]));
    assert_eq!(t["settings"]["tags_required"]["value"], false);

    let tags = s.get("/v1/tenants/demo-tags").await.json;
    assert_eq!(tags["settings"]["tags_required"]["value"], true);
    assert!(tags["settings"]["tags_required"]["provenance"].as_str().is_some_and(|p| p.starts_with("tenants/demo-tags.yaml:")));
    assert_problem(&s.get("/v1/tenants/nobody").await, 404, None);
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let s = Server::start().await;
    let h = s.get("/healthz").await;
    assert_eq!((h.status, h.json["status"].clone()), (200, json!("ok")));
    let r = s.get("/readyz").await;
    assert_eq!((r.status, r.json["status"].clone()), (200, json!("ready")));
    let revision = r.json["revision"].as_str().unwrap_or_default().to_owned();

    s.decide(&base()).await;
    s.decide(&with(base(), &[("/client/blocked", json!(true))])).await;
    s.post("/v1/can-send/batch", &json!({ "requests": [base(), with(base(), &[("/channel", json!("vk"))]), {"x": 1}] })).await;
    s.post_raw("/v1/can-send", Some("text/plain"), b"{}".to_vec()).await;
    s.get("/v1/tenants/x").await;
    s.get("/nowhere").await;

    let m = s.get("/metrics").await;
    assert_eq!(m.status, 200);
    assert!(m.content_type.starts_with("text/plain"), "{}", m.content_type);
    let text = &m.text;
    for line in [
        r#"cansend_http_requests_total{route="/v1/can-send",method="POST",status="200"} 2"#.to_owned(),
        r#"cansend_http_requests_total{route="/v1/can-send",method="POST",status="415"} 1"#.to_owned(),
        r#"cansend_http_requests_total{route="/v1/can-send/batch",method="POST",status="200"} 1"#.to_owned(),
        r#"cansend_http_requests_total{route="/v1/tenants/{tenant}",method="GET",status="404"} 1"#.to_owned(),
        r#"cansend_http_requests_total{route="unmatched",method="GET",status="404"} 1"#.to_owned(),
        r#"cansend_decisions_total{result="allowed"} 2"#.to_owned(),
        r#"cansend_decisions_total{result="denied"} 2"#.to_owned(),
        format!(r#"cansend_rules_info{{revision="{revision}"}} 1"#),
        "cansend_rule_load_errors_total 0".to_owned(),
        r#"cansend_rule_reloads_total{outcome="applied"} 0"#.to_owned(),
        "cansend_rules_degraded 0".to_owned(),
    ] {
        assert!(text.lines().any(|l| l == line), "missing `{line}` in\n{text}");
    }
    assert!(text.contains("cansend_http_request_duration_seconds_bucket"), "{text}");
}

#[tokio::test]
async fn openapi_lists_every_route() {
    let s = Server::start().await;
    let a = s.get("/openapi.json").await;
    assert_eq!(a.status, 200);
    let doc = &a.json;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", a.text);
    let routes = [
        ("/v1/can-send", "post"),
        ("/v1/can-send/batch", "post"),
        ("/v1/send-options", "post"),
        ("/v1/rules", "get"),
        ("/v1/tenants/{tenant}", "get"),
        ("/v1/tenants/{tenant}/preview", "post"),
        ("/v1/rules/reload", "post"),
        ("/v1/rules/reloads", "get"),
        ("/v1/rules/validate", "post"),
        ("/v1/rules/events", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
        ("/v1/decisions/{request_id}", "get"),
    ];
    for (path, method) in routes {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} missing from the document");
    }
    // A decision to look up by its request id.
    let decided = s.post("/v1/can-send", &json!({"sender": {"role": "agent"}, "client": {"status": "new", "phone": "+1"}, "channel": "whatsapp", "message": {"text": "hi"}})).await;
    let request_id = decided.request_id.clone().expect("a request id");
    assert_eq!(doc["paths"].as_object().map(|p| p.len()), Some(routes.len()), "a route in the document that is not served");
    // Every documented route is served (not a 404).
    for (path, method) in routes {
        let url = format!("{}{}", s.base, path.replace("{tenant}", "default").replace("{request_id}", &request_id));
        if path == "/v1/rules/events" {
            // An endless stream: look at its head only.
            let res = s.client.get(url).send().await.expect("the server answers");
            assert_eq!(res.status(), 200);
            assert_eq!(res.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("text/event-stream"));
            continue;
        }
        let a = if method == "get" { s.send(s.client.get(url)).await } else { s.send(s.client.post(url).json(&json!({}))).await };
        assert_ne!(a.status, 404, "{method} {path}");
    }
    for schema in ["CanSendRequest", "DecisionBody", "Problem", "SendOptionsBody", "BatchRequest", "TenantBody", "RulesBody"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "schema {schema}");
    }
    let problem = &doc["paths"]["/v1/can-send"]["post"]["responses"]["422"]["content"]["application/problem+json"];
    assert!(problem.is_object(), "422 is documented as a problem");
    assert_eq!(doc["components"]["securitySchemes"]["admin_token"]["scheme"], json!("bearer"));
    assert!(doc["paths"]["/v1/rules/reload"]["post"]["security"].is_array(), "reload is marked admin");
}

#[tokio::test]
async fn every_request_sees_the_revision_being_served_after_a_reload() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&rules_dir(), dir.path());
    let s = Server::start_with(RuleSource::Dir(dir.path().to_owned()), Limits::default()).await;
    let before = s.get("/v1/rules").await.json["revision"].clone();
    let viber = with(base(), &[("/channel", json!("viber")), ("/client/channels", json!(["viber"]))]);
    assert_eq!(s.decide(&viber).await["allowed"], true);

    let default_tenant = dir.path().join("tenants/default.yaml");
    let text = std::fs::read_to_string(&default_tenant).expect("read default.yaml");
    std::fs::write(&default_tenant, format!("{text}channels:\n  viber:\n    connected: false\n")).expect("write default.yaml");
    let outcome = s.live.reload("test");
    assert!(matches!(outcome, cansend::reload::Outcome::Applied { .. }), "{outcome:?}");

    let after = s.get("/v1/rules").await.json["revision"].clone();
    assert_ne!(before, after);
    let d = s.decide(&viber).await;
    assert_eq!((codes(&d), d["revision"].clone()), (vec!["channel_not_connected".to_owned()], after.clone()));
    let t = s.get("/v1/tenants/default").await.json;
    assert_eq!(t["channels"]["viber"]["connected"]["value"], false);
    assert_eq!(t["revision"], after);
    let m = s.get("/metrics").await.text;
    assert!(m.contains(&format!("cansend_rules_info{{revision=\"{}\"}} 1", after.as_str().unwrap_or_default())), "{m}");

    // A broken set is not applied; the error shows in /v1/rules and the metric.
    std::fs::write(dir.path().join("tenants/broken.yaml"), "kind: tenant\ntenant: [\n").expect("write broken.yaml");
    s.live.reload("test");
    let r = s.get("/v1/rules").await.json;
    assert_eq!(r["revision"], after);
    let errors = r["last_error"]["errors"].as_array().cloned().unwrap_or_default();
    assert!(errors.iter().any(|e| e["file"] == "tenants/broken.yaml" && e["line"].as_u64().is_some_and(|l| l >= 1)), "{r}");
    assert!(s.get("/metrics").await.text.contains("cansend_rule_load_errors_total 1"));
    assert_eq!(s.decide(&viber).await["revision"], after);
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish() {
    let mut s = Server::start().await;
    let body = serde_json::to_vec(&with(base(), &[("/client/blocked", json!(true))])).unwrap_or_default();
    let (first, rest) = body.split_at(body.len() / 2);

    // A request whose body is half sent when the shutdown begins.
    let mut sock = tokio::net::TcpStream::connect(s.addr).await.expect("connect");
    let head =
        format!("POST /v1/can-send HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", body.len());
    sock.write_all(head.as_bytes()).await.expect("head");
    sock.write_all(first).await.expect("first half");
    tokio::time::sleep(Duration::from_millis(100)).await;

    let server = s.begin_shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!server.is_finished(), "the server waits for the request in flight");
    // New connections are no longer accepted.
    let refused = tokio::net::TcpStream::connect(s.addr).await;
    assert!(refused.is_err(), "the listener is closed");

    sock.write_all(rest).await.expect("second half");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), sock.read_to_end(&mut answer)).await.expect("an answer in time").expect("read");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"client_blocked\""), "{answer}");
    let stopped = tokio::time::timeout(Duration::from_secs(5), server).await;
    assert!(matches!(stopped, Ok(Ok(Ok(())))), "the server stops cleanly once idle: {stopped:?}");
}

// ---- the `cansend serve` process ----

#[test]
fn serve_refuses_to_start_on_rules_that_do_not_load() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&rules_dir(), dir.path());
    std::fs::write(dir.path().join("tenants/broken.yaml"), "kind: tenant\ntenant: x\nsettings:\n  tags_requird: true\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_cansend"))
        .args(["serve", "--listen", "127.0.0.1:0", "--rules"])
        .arg(dir.path())
        .env_remove("CANSEND_LISTEN")
        .output()
        .expect("run cansend serve");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The file as seen from where --rules pointed.
    let at = format!("{}:4:3: error:", dir.path().join("tenants/broken.yaml").display());
    assert!(stderr.lines().any(|l| l.starts_with(&at)), "{stderr}");
}

#[test]
fn serve_flags_come_from_the_environment_and_sigterm_stops_it() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cansend"))
        .arg("serve")
        .env("CANSEND_LISTEN", "127.0.0.1:0")
        .env("CANSEND_RULES", rules_dir())
        .env("CANSEND_BODY_LIMIT", "2KiB")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn cansend serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = std::io::BufReader::new(stderr).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.contains("serving").then(|| l.split("addr=").nth(1).and_then(|r| r.split_whitespace().next()).map(str::to_owned)).flatten()
        })
        .expect("a `serving addr=…` log line");

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let client = reqwest::Client::builder().no_proxy().build().expect("client");
        let ok = client.post(format!("http://{addr}/v1/can-send")).json(&base()).send().await.expect("answer");
        assert_eq!(ok.status().as_u16(), 200);
        let big = with(base(), &[("/message/text", json!("x".repeat(3000)))]);
        let too_big = client.post(format!("http://{addr}/v1/can-send")).json(&big).send().await.expect("answer");
        assert_eq!(too_big.status().as_u16(), 413, "CANSEND_BODY_LIMIT=2KiB applies");
    });

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill -TERM");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "a clean exit after SIGTERM: {status:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("SIGTERM")), "{rest:?}");
}
