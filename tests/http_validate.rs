//! Change impact end to end (docs/api.md, `POST /v1/rules/validate`), over a real socket with real
//! files: `POST /v1/rules/validate` replays the recent requests against a
//! candidate without applying it, and every applied reload publishes the
//! same report in `GET /v1/rules/reloads`. No timing is asserted: a reload
//! by the watcher is awaited with a deadline, polled over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

mod http_common;

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cansend::reload::watch::{self, WatchOptions};
use cansend::reload::{Live, RuleSource};
use cansend::service::{Admin, Limits};
use http_common::{Answer, Server, assert_problem, base, codes, copy_dir, demo_limits_email, rules_dir, with};
use serde_json::{Value, json};

/// `tenants/demo-limits.toml` with the email per-file limit at `limit`.
fn demo_limits(dir: &Path, limit: &str) -> String {
    let text = fs::read_to_string(dir.join("tenants/demo-limits.toml")).expect("read demo-limits.toml");
    let changed = text.replace("value = \"50 MB\"", &format!("value = \"{limit}\""));
    assert_ne!(changed, text, "the shipped file sets the 50 MB limit");
    changed
}

async fn validate(s: &Server, body: &Value) -> Answer {
    s.post("/v1/rules/validate", body).await
}

/// The recent requests this server decides before each test's candidate:
/// two 40 MB emails (allowed at 50 MB), a 20 MB one, and two WhatsApp
/// messages on the default tenant (one allowed, one denied).
async fn decide_some(s: &Server) {
    for size in [40_000_000, 20_000_000, 40_000_000] {
        assert_eq!(s.decide(&demo_limits_email(size)).await["allowed"], true);
    }
    assert_eq!(s.decide(&base()).await["allowed"], true);
    let blocked = with(base(), &[("/client/blocked", json!(true))]);
    assert_eq!(codes(&s.decide(&blocked).await), ["client_blocked"]);
}

#[tokio::test]
async fn a_tighter_limit_shows_allow_to_deny_for_its_tenant_and_channel() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = Server::on_copy(dir.path(), 1000, Admin::LoopbackOnly).await;
    decide_some(&s).await;
    let serving = s.get("/v1/rules").await.json["revision"].clone();
    let on_disk = fs::read_to_string(dir.path().join("tenants/demo-limits.toml")).expect("read");

    let a = validate(&s, &json!({ "files": { "tenants/demo-limits.toml": demo_limits(dir.path(), "30 MB") } })).await;
    assert_eq!((a.status, a.content_type.as_str()), (200, "application/json"), "{}", a.text);
    let r = &a.json;
    assert_eq!(r["loads"], true, "{r}");
    assert_eq!((&r["serving"], &r["base"]), (&serving, &serving));
    assert_ne!(r["candidate"], serving);
    assert_eq!(r["files"], json!([{ "path": "tenants/demo-limits.toml", "change": "changed" }]));

    let i = &r["impact"];
    assert_eq!((&i["before"], &i["after"]), (&serving, &r["candidate"]), "{i}");
    assert_eq!(i["replayed"], 5, "{i}");
    assert_eq!((i["changed"].clone(), i["allow_to_deny"].clone(), i["deny_to_allow"].clone()), (json!(2), json!(2), json!(0)), "{i}");
    assert_eq!(
        i["by_tenant_channel"],
        json!([{ "tenant": "demo-limits", "channel": "email", "replayed": 3, "changed": 2,
                 "allow_to_deny": 2, "deny_to_allow": 0, "codes_changed": 0, "now_invalid": 0, "now_valid": 0 }]),
        "only the changed group, with its counts"
    );
    let samples = i["samples"].as_array().cloned().unwrap_or_default();
    assert_eq!(samples.len(), 2, "{i}");
    for sample in &samples {
        assert_eq!(sample["change"], "allow_to_deny");
        assert_eq!(sample["request"]["message"]["attachments"][0]["size"], 40_000_000);
        assert_eq!((sample["before"]["allowed"].clone(), sample["before"]["revision"].clone()), (json!(true), serving.clone()));
        assert_eq!(sample["after"]["allowed"], false);
        assert_eq!(codes(&sample["after"]), ["attachment_too_large"]);
        assert_eq!(sample["after"]["violations"][0]["pointer"], "/message/attachments/0");
        assert_eq!(sample["after"]["revision"], r["candidate"]);
        assert!(sample["decided_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{sample}");
    }

    // Requests nobody sent yet, generated from both sets' conditions: only
    // demo-limits' email changes, first just above the new limit.
    let g = &r["generated_impact"];
    assert_eq!((&g["before"], &g["after"]), (&serving, &r["candidate"]), "{g}");
    assert!(g["generated"].as_u64().is_some_and(|n| n > 1000), "{g}");
    let groups = g["by_tenant_channel"].as_array().cloned().unwrap_or_default();
    assert_eq!(groups.len(), 1, "{g}");
    assert_eq!((groups[0]["tenant"].as_str(), groups[0]["channel"].as_str()), (Some("demo-limits"), Some("email")));
    assert!(groups[0]["allow_to_deny"].as_u64().is_some_and(|n| n > 0), "{g}");
    assert_eq!(groups[0]["deny_to_allow"], 0, "{g}");
    assert_eq!(groups[0]["samples"][0]["request"]["message"]["attachments"][0]["size"], 30_000_001, "{g}");

    // The shipped rule tests pin the 50 MB limit: the candidate breaks one.
    let tests = &r["tests"];
    assert!(tests["passed"].as_u64().is_some_and(|n| n > 10), "{tests}");
    let failures = tests["failures"].as_array().cloned().unwrap_or_default();
    assert_eq!(tests["failed"], json!(failures.len()));
    assert!(failures.iter().any(|f| f["name"] == "§1.10 demo-limits takes a 50 MB file on email"), "{tests}");
    assert!(failures.iter().all(|f| f["text"].as_str().is_some_and(|t| t.starts_with("tests/message.yaml:"))), "{tests}");

    // Nothing was written or applied.
    assert_eq!(fs::read_to_string(dir.path().join("tenants/demo-limits.toml")).expect("read"), on_disk);
    assert_eq!(s.get("/v1/rules").await.json["revision"], serving);
    assert_eq!(s.decide(&demo_limits_email(40_000_000)).await["allowed"], true);
    assert!(s.get("/v1/rules/reloads").await.json["reloads"].as_array().is_some_and(Vec::is_empty));
}

#[tokio::test]
async fn a_broken_candidate_gives_located_errors_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = Server::on_copy(dir.path(), 1000, Admin::LoopbackOnly).await;
    decide_some(&s).await;
    let before = s.get("/v1/rules").await.json;
    let broken = demo_limits(dir.path(), "500 MB");
    let a =
        validate(&s, &json!({ "files": { "tenants/demo-limits.toml": broken, "tenants/acme.yaml": "kind: tenant\ntenant: [\n" } })).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let r = &a.json;
    assert_eq!(r["loads"], false, "{r}");
    assert!(r.get("impact").is_none() && r.get("tests").is_none(), "{r}");
    let diags = r["diagnostics"].as_array().cloned().unwrap_or_default();
    let located = |file: &str| diags.iter().find(|d| d["file"] == file && d["severity"] == "error").cloned().unwrap_or_default();
    let limit = located("tenants/demo-limits.toml");
    assert_eq!((limit["line"].clone(), limit["rule"].clone()), (json!(12), json!("demo-limits")), "{r}");
    assert!(limit["column"].as_u64().is_some_and(|c| c > 1), "{limit}");
    assert!(limit["text"].as_str().is_some_and(|t| t.starts_with("tenants/demo-limits.toml:12:")), "{limit}");
    assert!(located("tenants/acme.yaml")["line"].as_u64().is_some_and(|l| l >= 1), "{r}");
    assert_eq!(r["files"][1], json!({ "path": "tenants/acme.yaml", "change": "added" }));

    // Served as before: same revision, no error pending, no reload, no file.
    let after = s.get("/v1/rules").await.json;
    assert_eq!((&after["revision"], &after["last_error"]), (&before["revision"], &Value::Null));
    assert!(!dir.path().join("tenants/acme.yaml").exists());
    assert_eq!(s.get("/readyz").await.json["degraded"], false);
    assert!(s.get("/metrics").await.text.lines().any(|l| l == "cansend_rules_degraded 0"));
    assert_eq!(s.decide(&demo_limits_email(40_000_000)).await["allowed"], true);
}

#[tokio::test]
async fn deleting_a_tenant_makes_its_requests_invalid() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = Server::on_copy(dir.path(), 1000, Admin::LoopbackOnly).await;
    decide_some(&s).await;
    // The rule tests name the tenant too: the set still loads (and would
    // serve); those tests fail, and say why.
    let r = validate(&s, &json!({ "files": { "tenants/demo-limits.toml": null } })).await.json;
    assert_eq!(r["loads"], true, "{r}");
    let failures = r["tests"]["failures"].as_array().cloned().unwrap_or_default();
    assert!(!failures.is_empty(), "{r}");
    assert!(failures.iter().all(|f| f["message"].as_str().is_some_and(|m| m.contains("unknown tenant `demo-limits`"))), "{r}");
    assert!(failures.iter().any(|f| f["file"] == "tests/message.yaml"), "{r}");
    let gone = json!({ "files": { "tenants/demo-limits.toml": null, "tests/message.yaml": null, "tests/eligibility.yaml": null } });
    let r = validate(&s, &gone).await.json;
    assert_eq!((r["loads"].clone(), r["files"][0]["change"].clone()), (json!(true), json!("deleted")), "{r}");
    let i = &r["impact"];
    assert_eq!((i["now_invalid"].clone(), i["changed"].clone()), (json!(3), json!(3)), "{i}");
    let sample = &i["samples"][0];
    assert_eq!(sample["change"], "now_invalid");
    assert_eq!(sample["before"]["allowed"], true);
    assert_eq!(sample["after"]["errors"][0]["pointer"], "/tenant", "{sample}");
}

#[tokio::test]
async fn batch_items_are_replayed_and_an_empty_candidate_is_the_files_as_they_are() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = Server::on_copy(dir.path(), 1000, Admin::LoopbackOnly).await;
    let batch = json!({ "requests": [demo_limits_email(40_000_000), { "not": "a request" }, demo_limits_email(1)] });
    assert_eq!(s.post("/v1/can-send/batch", &batch).await.status, 200);
    let r = validate(&s, &json!({ "files": {} })).await.json;
    assert_eq!((r["loads"].clone(), r["candidate"].clone()), (json!(true), r["serving"].clone()), "{r}");
    assert_eq!((r["impact"]["replayed"].clone(), r["impact"]["changed"].clone()), (json!(2), json!(0)), "the two valid items: {r}");
}

#[tokio::test]
async fn requests_over_64_kib_are_decided_but_not_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = Server::on_copy(dir.path(), 1000, Admin::LoopbackOnly).await;
    let long = with(base(), &[("/message/text", json!("x".repeat(65_500)))]);
    assert_eq!(s.decide(&long).await["allowed"], true);
    assert_eq!(s.decide(&base()).await["allowed"], true);
    let r = validate(&s, &json!({ "files": {} })).await.json;
    assert_eq!(r["impact"]["replayed"], 1, "{r}");
}

#[tokio::test]
async fn with_the_ring_off_nothing_is_kept_or_replayed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = Server::on_copy(dir.path(), 0, Admin::LoopbackOnly).await;
    decide_some(&s).await;
    let r = validate(&s, &json!({ "files": { "tenants/demo-limits.toml": demo_limits(dir.path(), "30 MB") } })).await.json;
    assert_eq!((r["loads"].clone(), r["impact"]["replayed"].clone()), (json!(true), json!(0)), "{r}");
}

#[tokio::test]
async fn the_built_in_rules_can_be_validated_too() {
    let s = Server::start_with(RuleSource::Builtin, Limits::default()).await;
    decide_some(&s).await;
    let text = fs::read_to_string(rules_dir().join("tenants/demo-limits.toml")).expect("read");
    let r = validate(&s, &json!({ "files": { "tenants/demo-limits.toml": text.replace("\"50 MB\"", "\"30 MB\"") } })).await.json;
    assert_eq!((r["loads"].clone(), r["base"].clone()), (json!(true), r["serving"].clone()), "{r}");
    assert_eq!(r["impact"]["allow_to_deny"], 2, "{r}");
}

#[tokio::test]
async fn paths_outside_the_rules_directory_are_422_with_a_pointer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = Server::on_copy(dir.path(), 1000, Admin::LoopbackOnly).await;
    let serving = s.get("/v1/rules").await.json["revision"].clone();
    for (path, pointer) in [
        ("../evil.yaml", "/files/..~1evil.yaml"),
        ("tenants/../../evil.yaml", "/files/tenants~1..~1..~1evil.yaml"),
        ("/etc/cansend.yaml", "/files/~1etc~1cansend.yaml"),
        ("..data/x.yaml", "/files/..data~1x.yaml"),
        ("notes.txt", "/files/notes.txt"),
        ("tenants\\acme.yaml", "/files/tenants\\acme.yaml"),
    ] {
        let a = validate(&s, &json!({ "files": { path: "kind: tenant\ntenant: evil\n" } })).await;
        assert_problem(&a, 422, Some(pointer));
    }
    // Every bad entry at once; a delete of a file that is not there, with a hint.
    let a = validate(&s, &json!({ "files": { "../a.yaml": "", "tenants/demo-limit.toml": null } })).await;
    assert_problem(&a, 422, Some("/files/..~1a.yaml"));
    assert_problem(&a, 422, Some("/files/tenants~1demo-limit.toml"));
    assert!(a.text.contains("did you mean `tenants/demo-limits.toml`?"), "{}", a.text);
    // The shape is strict too.
    assert_problem(&validate(&s, &json!({ "file": {} })).await, 422, Some("/file"));
    assert_problem(&validate(&s, &json!({ "files": { "a.yaml": 1 } })).await, 422, Some("/files/a.yaml"));
    assert_problem(&s.post_raw("/v1/rules/validate", Some("application/json"), b"{\"files\":".to_vec()).await, 400, None);
    assert_eq!(s.get("/v1/rules").await.json["revision"], serving);
    assert!(!dir.path().parent().is_some_and(|p| p.join("evil.yaml").exists()));
}

#[tokio::test]
async fn validate_needs_the_admin_token_when_one_is_configured() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = Server::on_copy(dir.path(), 1000, Admin::Token("s3cret".into())).await;
    let url = format!("{}/v1/rules/validate", s.base);
    let body = json!({ "files": {} });
    let none = s.send(s.client.post(&url).json(&body)).await;
    assert_problem(&none, 401, None);
    assert!(none.headers.get("www-authenticate").is_some_and(|v| v.to_str().is_ok_and(|v| v.starts_with("Bearer"))));
    assert_problem(&s.send(s.client.post(&url).json(&body).bearer_auth("guess")).await, 401, None);
    let ok = s.send(s.client.post(&url).json(&body).bearer_auth("s3cret")).await;
    assert_eq!((ok.status, ok.json["loads"].clone()), (200, json!(true)), "{}", ok.text);
}

/// This host's address on a non-loopback interface, if it has one (the
/// route to a documentation address picks it; nothing is sent).
fn non_loopback_ip() -> Option<std::net::IpAddr> {
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    probe.connect("192.0.2.1:9").ok()?;
    let ip = probe.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[tokio::test]
async fn without_a_token_validate_answers_loopback_peers_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&rules_dir(), dir.path());
    let live = Arc::new(Live::load(RuleSource::Dir(dir.path().to_owned())).expect("rules load"));
    let s = Server::start_live_on("0.0.0.0:0", live, Limits::default(), Admin::LoopbackOnly).await;
    let body = json!({ "files": {} });
    let local = s.send(s.client.post(format!("http://127.0.0.1:{}/v1/rules/validate", s.addr.port())).json(&body)).await;
    assert_eq!(local.status, 200, "{}", local.text);
    let Some(ip) = non_loopback_ip() else {
        eprintln!("no non-loopback address on this host: the 403 is covered by the unit tests of service::admin");
        return;
    };
    let remote = s.send(s.client.post(format!("http://{ip}:{}/v1/rules/validate", s.addr.port())).json(&body)).await;
    assert_problem(&remote, 403, None);
}

/// Poll `probe` over HTTP until it holds or 5 s pass.
async fn eventually<F, Fut>(mut probe: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if probe().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    probe().await
}

#[tokio::test]
async fn a_file_edit_that_reloads_shows_its_impact_in_the_history() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&rules_dir(), dir.path());
    let live = Arc::new(Live::load(RuleSource::Dir(dir.path().to_owned())).expect("rules load"));
    let _watcher = watch::spawn(live.clone(), dir.path().to_owned(), WatchOptions::default()).expect("watcher");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let s = Server::start_live(live, Limits::default(), Admin::LoopbackOnly).await;
    decide_some(&s).await;
    let first = s.get("/v1/rules").await.json["revision"].clone();

    // What validate predicts…
    let edit = demo_limits(dir.path(), "30 MB");
    let predicted = validate(&s, &json!({ "files": { "tenants/demo-limits.toml": &edit } })).await.json;
    // …is what the reload reports once the file is saved.
    fs::write(dir.path().join("tenants/demo-limits.toml"), &edit).expect("write");
    let applied = eventually(|| async { s.get("/v1/rules/reloads").await.json["reloads"][0]["outcome"] == "applied" }).await;
    assert!(applied, "the edit was applied");
    let history = s.get("/v1/rules/reloads").await.json;
    let record = &history["reloads"][0];
    assert_eq!((&record["previous"], &record["revision"]), (&first, &predicted["candidate"]), "{record}");
    let impact = &record["impact"];
    assert_eq!((&impact["before"], &impact["after"]), (&first, &predicted["candidate"]));
    for key in ["replayed", "changed", "allow_to_deny", "by_tenant_channel", "samples"] {
        let (got, want) = (&impact[key], &predicted["impact"][key]);
        let (mut got, mut want) = (got.clone(), want.clone());
        // The samples' answers name the revision; both name the same ones.
        if key == "samples" {
            for s in [&mut got, &mut want] {
                for x in s.as_array_mut().into_iter().flatten() {
                    x.as_object_mut().map(|o| o.remove("decided_at"));
                }
            }
        }
        assert_eq!(got, want, "{key}: the reload's impact is the one validate predicted");
    }
    assert_eq!(impact["allow_to_deny"], 2);
    assert_eq!(impact["by_tenant_channel"][0]["tenant"], "demo-limits");

    // A broken edit is recorded as rejected, with its errors and no impact.
    fs::write(dir.path().join("tenants/demo-limits.toml"), edit.replace("\"30 MB\"", "\"500 MB\"")).expect("write");
    let rejected = eventually(|| async { s.get("/v1/rules/reloads").await.json["reloads"][0]["outcome"] == "rejected" }).await;
    assert!(rejected, "the broken edit was rejected");
    let record = &s.get("/v1/rules/reloads").await.json["reloads"][0];
    assert!(record.get("impact").is_none(), "{record}");
    assert!(record["rejected"]["errors"][0]["text"].as_str().is_some_and(|t| t.starts_with("tenants/demo-limits.toml:")), "{record}");
}

#[tokio::test]
async fn the_history_and_events_show_samples_to_admins_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = Server::on_copy(dir.path(), 1000, Admin::Token("s3cret".into())).await;
    decide_some(&s).await;
    let mut events = s.client.get(format!("{}/v1/rules/events", s.base)).send().await.expect("events");
    fs::write(dir.path().join("tenants/demo-limits.toml"), demo_limits(dir.path(), "30 MB")).expect("write");
    let reload = s.send(s.client.post(format!("{}/v1/rules/reload", s.base)).bearer_auth("s3cret")).await;
    assert_eq!((reload.status, reload.json["impact"]["allow_to_deny"].clone()), (200, json!(2)), "{}", reload.text);
    assert_eq!(reload.json["impact"]["samples"].as_array().map(Vec::len), Some(2), "the admin who reloaded sees the samples");

    let public = s.get("/v1/rules/reloads").await.json;
    assert_eq!(public["samples_withheld"], true, "{public}");
    assert_eq!(public["reloads"][0]["impact"]["allow_to_deny"], 2);
    assert_eq!(public["reloads"][0]["impact"]["samples"], json!([]), "no client data without the token");
    let admin = s.send(s.client.get(format!("{}/v1/rules/reloads", s.base)).bearer_auth("s3cret")).await.json;
    assert_eq!(admin["samples_withheld"], false);
    assert_eq!(admin["reloads"][0]["impact"]["samples"].as_array().map(Vec::len), Some(2), "{admin}");

    // The event carries the counts, never the samples.
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !text.contains("event: applied") && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(1), events.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(_) => break,
            Err(_) => {}
        }
    }
    let data = text.split("event: applied").nth(1).and_then(|rest| rest.lines().find_map(|l| l.strip_prefix("data: ")));
    let data: Value = data.and_then(|d| serde_json::from_str(d).ok()).unwrap_or_default();
    assert_eq!(data["impact"]["allow_to_deny"], 2, "{text}");
    assert_eq!(data["impact"]["samples"], json!([]), "{text}");
}
