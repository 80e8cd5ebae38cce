//! Hot reload end to end: a real server on a real socket, its rules in a
//! temporary directory watched by the real watcher, files changed in every
//! way docs/api.md names. "Serves within 2 s" is a deadline polled over HTTP,
//! not a timing assertion: the test fails only if the change never shows.
//!
//! Also: a broken file keeps the last good revision serving and exposes the
//! error (`/v1/rules`, `/readyz`, `/metrics`, the event stream); the admin
//! reload endpoint; and the hammer — requests never fail through 200
//! reloads, valid and invalid mixed, and every answer's revision is one that
//! was valid, with the decision that revision gives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

mod http_common;

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cansend::reload::watch::{self, WatchOptions};
use cansend::reload::{Live, RuleSource};
use cansend::service::{Admin, Limits};
use http_common::{Answer, Server, assert_problem, base, codes, copy_dir, rules_dir, with};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(2);

/// A server on a copy of the shipped rules in `root`, watched.
async fn watched(root: &Path) -> (Server, watch::Watcher) {
    let live = Arc::new(Live::load(RuleSource::Dir(root.to_owned())).expect("rules load"));
    let w = watch::spawn(live.clone(), root.to_owned(), WatchOptions::default()).expect("watcher");
    // Let the watcher arm before anything changes.
    tokio::time::sleep(Duration::from_millis(100)).await;
    (Server::start_live(live, Limits::default(), Admin::LoopbackOnly).await, w)
}

/// Poll `probe` over HTTP until it holds or the deadline passes.
async fn within_deadline<F, Fut>(mut probe: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        if probe().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    probe().await
}

fn viber() -> Value {
    with(base(), &[("/channel", json!("viber")), ("/client/channels", json!(["viber"]))])
}

/// An allowed request on tenant `t` (tagged, for tenants that require it).
fn on_tenant(t: &str) -> Value {
    with(base(), &[("/tenant", json!(t)), ("/thread/tags", json!(["sales"]))])
}

fn tenant_file(name: &str) -> String {
    format!("kind: tenant\ntenant: {name}\n")
}

const VIBER_OFF: &str = "kind: tenant\ntenant: default\nchannels:\n  viber:\n    connected: false\n";

/// What a change style does to the files, and how to see it over HTTP.
struct Style {
    name: &'static str,
    /// Files to add before the server starts.
    setup: fn(&Path),
    change: fn(&Path),
    /// The request whose answer shows the change, and its status and
    /// codes before and after it.
    probe: fn() -> Value,
    before: (u16, &'static [&'static str]),
    after: (u16, &'static [&'static str]),
}

fn nothing(_: &Path) {}

fn add_acme(root: &Path) {
    fs::write(root.join("tenants/acme.yaml"), tenant_file("acme")).expect("write acme");
}

const ALLOWED: (u16, &[&str]) = (200, &[]);
const UNKNOWN_TENANT: (u16, &[&str]) = (422, &[]);

/// The status, and the codes when it is a decision.
fn shows(answer: (u16, Vec<String>), want: (u16, &[&str])) -> bool {
    answer.0 == want.0 && (want.0 != 200 || answer.1 == want.1)
}

fn styles() -> Vec<Style> {
    vec![
        Style {
            name: "in-place write",
            setup: nothing,
            change: |root| fs::write(root.join("tenants/default.yaml"), VIBER_OFF).expect("write"),
            probe: viber,
            before: ALLOWED,
            after: (200, &["channel_not_connected"]),
        },
        Style {
            name: "save by rename (write a temp file, rename it over)",
            setup: nothing,
            change: |root| {
                let tmp = root.join("tenants/.default.yaml.swp");
                fs::write(&tmp, VIBER_OFF).expect("write temp");
                fs::rename(&tmp, root.join("tenants/default.yaml")).expect("rename over");
            },
            probe: viber,
            before: ALLOWED,
            after: (200, &["channel_not_connected"]),
        },
        Style {
            name: "create a file",
            setup: nothing,
            change: |root| fs::write(root.join("tenants/acme.yaml"), tenant_file("acme")).expect("create"),
            probe: || on_tenant("acme"),
            before: UNKNOWN_TENANT,
            after: ALLOWED,
        },
        Style {
            name: "delete a file",
            setup: add_acme,
            change: |root| fs::remove_file(root.join("tenants/acme.yaml")).expect("delete"),
            probe: || on_tenant("acme"),
            before: ALLOWED,
            after: UNKNOWN_TENANT,
        },
        Style {
            name: "rename a file away (to a name the loader skips)",
            setup: add_acme,
            change: |root| fs::rename(root.join("tenants/acme.yaml"), root.join("tenants/acme.yaml.off")).expect("rename"),
            probe: || on_tenant("acme"),
            before: ALLOWED,
            after: UNKNOWN_TENANT,
        },
        Style {
            name: "git checkout: many files at once",
            setup: nothing,
            change: |root| {
                for i in 0..40 {
                    fs::write(root.join(format!("tenants/branch-{i:02}.yaml")), tenant_file(&format!("branch-{i:02}"))).expect("write");
                }
                fs::write(root.join("tenants/default.yaml"), VIBER_OFF).expect("write");
            },
            probe: viber,
            before: ALLOWED,
            after: (200, &["channel_not_connected"]),
        },
    ]
}

async fn status_and_codes(s: &Server, body: &Value) -> (u16, Vec<String>, Value) {
    let a = s.post("/v1/can-send", body).await;
    (a.status, codes(&a.json), a.json["revision"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_style_serves_the_new_revision_within_2_s() {
    for style in styles() {
        let dir = tempfile::tempdir().expect("temp dir");
        copy_dir(&rules_dir(), dir.path());
        (style.setup)(dir.path());
        let (s, _w) = watched(dir.path()).await;
        let (status, codes, _) = status_and_codes(&s, &(style.probe)()).await;
        assert!(shows((status, codes.clone()), style.before), "{}: before the change: {status} {codes:?}", style.name);
        let old = s.get("/v1/rules").await.json["revision"].clone();

        (style.change)(dir.path());
        let seen = within_deadline(|| async {
            let (status, codes, _) = status_and_codes(&s, &(style.probe)()).await;
            shows((status, codes), style.after)
        })
        .await;
        assert!(seen, "{}: the change did not serve within {DEADLINE:?}", style.name);
        let rules = s.get("/v1/rules").await.json;
        assert_ne!(rules["revision"], old, "{}", style.name);
        assert!(rules["last_error"].is_null(), "{}: {}", style.name, rules["last_error"]);
        // A decision carries the revision it was decided by: the new one.
        assert_eq!(s.decide(&base()).await["revision"], rules["revision"], "{}", style.name);
    }
}

/// A Kubernetes ConfigMap volume: the visible names are symlinks through
/// `..data`, itself a symlink to a timestamped directory; an update writes
/// a new directory and swaps `..data` by rename.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configmap_symlink_swap_serves_once_loaded_once() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    copy_dir(&rules_dir(), &root.join("..2026_11_24_10_00_00.1"));
    symlink("..2026_11_24_10_00_00.1", root.join("..data")).expect("..data");
    let mut visible = Vec::new();
    for entry in fs::read_dir(rules_dir()).expect("rules dir").flatten() {
        let name = entry.file_name();
        symlink(PathBuf::from("..data").join(&name), root.join(&name)).expect("link");
        visible.push(name.to_string_lossy().into_owned());
    }
    let (s, _w) = watched(root).await;
    let files = s.get("/v1/rules").await.json["files"].clone();
    let paths: Vec<&str> = files.as_array().into_iter().flatten().filter_map(|f| f["path"].as_str()).collect();
    assert!(paths.iter().all(|p| !p.contains("..")), "nothing loaded through the hidden directories: {paths:?}");
    let unique: BTreeSet<&&str> = paths.iter().collect();
    assert_eq!(unique.len(), paths.len(), "each file once: {paths:?}");
    assert!(paths.contains(&"tenants/default.yaml"), "{paths:?}");

    let v2 = root.join("..2026_11_24_10_05_00.2");
    copy_dir(&rules_dir(), &v2);
    fs::write(v2.join("tenants/default.yaml"), VIBER_OFF).expect("write v2");
    symlink("..2026_11_24_10_05_00.2", root.join("..data_tmp")).expect("..data_tmp");
    fs::rename(root.join("..data_tmp"), root.join("..data")).expect("swap ..data");
    fs::remove_dir_all(root.join("..2026_11_24_10_00_00.1")).expect("remove the old version");

    let seen = within_deadline(|| async { codes(&s.decide(&viber()).await) == ["channel_not_connected"] }).await;
    assert!(seen, "the ConfigMap update did not serve within {DEADLINE:?}");
    let rules = s.get("/v1/rules").await.json;
    assert!(rules["last_error"].is_null(), "{}", rules["last_error"]);
    assert_eq!(rules["files"].as_array().map(Vec::len), Some(paths.len()), "still each file once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_100_writes_ends_on_the_final_content() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&rules_dir(), dir.path());
    let (s, _w) = watched(dir.path()).await;
    let path = dir.path().join("tenants/default.yaml");
    for i in 0..100 {
        fs::write(&path, format!("kind: tenant\ntenant: default\ndescription: write {i}\n")).expect("write");
    }
    let seen = within_deadline(|| async { s.get("/v1/tenants/default").await.json["description"] == "write 99" }).await;
    assert!(seen, "the last write did not serve within {DEADLINE:?}");
    // Debounced: far fewer reloads than writes. (The history entry trails
    // the swap by the replay of recent requests: wait for it.)
    let count = || async { s.get("/v1/rules/reloads").await.json["reloads"].as_array().map(Vec::len).unwrap_or(0) };
    within_deadline(|| async { count().await > 0 }).await;
    let reloads = count().await;
    assert!((1..100).contains(&reloads), "{reloads} reloads for 100 writes");
}

/// Read server-sent events from a streaming answer until `want` events
/// arrived or the deadline passed; each as (event, data).
async fn read_events(res: &mut reqwest::Response, buf: &mut String, want: usize) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let start = Instant::now();
    while out.len() < want && start.elapsed() < DEADLINE * 2 {
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut name = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if !name.is_empty() {
                out.push((name, serde_json::from_str(&data).unwrap_or(Value::Null)));
            }
        }
        if out.len() >= want {
            break;
        }
        match tokio::time::timeout(Duration::from_millis(200), res.chunk()).await {
            Ok(Ok(Some(bytes))) => buf.push_str(&String::from_utf8_lossy(&bytes)),
            Ok(_) => break,
            Err(_) => {}
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_file_keeps_the_last_good_revision_and_shows_why_until_fixed() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&rules_dir(), dir.path());
    let (s, _w) = watched(dir.path()).await;
    let good = s.get("/v1/rules").await.json["revision"].clone();
    let mut events = s.client.get(format!("{}/v1/rules/events", s.base)).send().await.expect("event stream");
    assert_eq!(events.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("text/event-stream"));
    let mut buf = String::new();
    let hello = read_events(&mut events, &mut buf, 1).await;
    assert_eq!(hello.first().map(|(n, d)| (n.as_str(), d["revision"].clone())), Some(("revision", good.clone())));

    // A typo in a field path: the set is rejected, the old one serves.
    let eligibility = dir.path().join("eligibility.yaml");
    let text = fs::read_to_string(&eligibility).expect("read");
    assert!(text.contains("client.blocked"), "the shipped rule reads client.blocked");
    fs::write(&eligibility, text.replacen("client.blocked", "client.blokced", 1)).expect("write typo");

    assert!(within_deadline(|| async { !s.get("/v1/rules").await.json["last_error"].is_null() }).await, "the error shows");
    let rules = s.get("/v1/rules").await.json;
    assert_eq!(rules["revision"], good, "the last good revision keeps serving");
    let errors = rules["last_error"]["errors"].as_array().cloned().unwrap_or_default();
    let located = errors.iter().find(|e| e["file"] == "eligibility.yaml").expect("an error in eligibility.yaml");
    assert!(located["line"].as_u64().is_some_and(|l| l > 1) && located["column"].as_u64().is_some_and(|c| c >= 1), "{located}");
    assert!(located["text"].as_str().is_some_and(|t| t.starts_with("eligibility.yaml:") && t.contains("client.blocked")), "{located}");
    let blocked = with(base(), &[("/client/blocked", json!(true))]);
    let d = s.decide(&blocked).await;
    assert_eq!((codes(&d), d["revision"].clone()), (vec!["client_blocked".to_owned()], good.clone()));

    let ready = s.get("/readyz").await;
    assert_eq!((ready.status, ready.json["status"].clone(), ready.json["degraded"].clone()), (200, json!("ready"), json!(true)));
    assert!(ready.json["reason"].as_str().is_some_and(|r| r.contains("eligibility.yaml:")), "{}", ready.text);
    let metrics = s.get("/metrics").await.text;
    assert!(metrics.lines().any(|l| l == "cansend_rules_degraded 1"), "{metrics}");
    assert!(
        metrics.lines().any(|l| l.starts_with(r#"cansend_rule_reloads_total{outcome="rejected"} "#) && !l.ends_with(" 0")),
        "{metrics}"
    );
    let rejected = read_events(&mut events, &mut buf, 1).await;
    let (name, data) = rejected.first().cloned().expect("a rejected event");
    assert_eq!((name.as_str(), data["serving"].clone()), ("rejected", good.clone()));
    assert!(data["rejected"]["errors"].as_array().is_some_and(|e| e.iter().any(|e| e["file"] == "eligibility.yaml")), "{data}");

    // The fix: a new revision serves, and the error is gone everywhere.
    fs::write(&eligibility, &text).expect("write the fix");
    fs::write(dir.path().join("tenants/acme.yaml"), tenant_file("acme")).expect("and a new tenant");
    assert!(within_deadline(|| async { s.post("/v1/can-send", &on_tenant("acme")).await.status == 200 }).await, "the fix serves");
    let rules = s.get("/v1/rules").await.json;
    assert!(rules["last_error"].is_null(), "{}", rules["last_error"]);
    assert_ne!(rules["revision"], good);
    assert_eq!(s.get("/readyz").await.json["degraded"], json!(false));
    assert!(s.get("/metrics").await.text.lines().any(|l| l == "cansend_rules_degraded 0"));
    let applied = read_events(&mut events, &mut buf, 1).await;
    let (name, data) = applied.first().cloned().expect("an applied event");
    assert_eq!((name.as_str(), data["revision"].clone(), data["previous"].clone()), ("applied", rules["revision"].clone(), good));
}

#[tokio::test]
async fn reload_endpoint_is_admin_only_and_reports_the_outcome() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&rules_dir(), dir.path());
    let live = Arc::new(Live::load(RuleSource::Dir(dir.path().to_owned())).expect("rules load"));
    let s = Server::start_live(live, Limits::default(), Admin::Token("s3cret".into())).await;
    let url = format!("{}/v1/rules/reload", s.base);

    let none = s.send(s.client.post(&url)).await;
    assert_problem(&none, 401, None);
    assert!(none.headers.get("www-authenticate").is_some_and(|v| v.to_str().is_ok_and(|v| v.starts_with("Bearer"))));
    assert_problem(&s.send(s.client.post(&url).bearer_auth("guess")).await, 401, None);

    let same = s.send(s.client.post(&url).bearer_auth("s3cret")).await;
    assert_eq!((same.status, same.json["outcome"].clone()), (200, json!("unchanged")), "{}", same.text);
    let first = same.json["revision"].clone();

    fs::write(dir.path().join("tenants/acme.yaml"), tenant_file("acme")).expect("write");
    let applied = s.send(s.client.post(&url).bearer_auth("s3cret")).await;
    assert_eq!((applied.status, applied.json["outcome"].clone(), applied.json["previous"].clone()), (200, json!("applied"), first));
    assert_eq!(s.decide(&on_tenant("acme")).await["revision"], applied.json["revision"]);

    fs::write(dir.path().join("tenants/acme.yaml"), "kind: tenant\ntenant: acme\nchannels:\n  fax: { connected: true }\n").expect("write");
    let rejected = s.send(s.client.post(&url).bearer_auth("s3cret")).await;
    assert_problem(&rejected, 422, None);
    assert_eq!(rejected.json["type"], "urn:cansend:problem:rules-rejected");
    assert_eq!(rejected.json["serving"], applied.json["revision"]);
    let errors = rejected.json["rejected"]["errors"].as_array().cloned().unwrap_or_default();
    assert!(errors.iter().any(|e| e["file"] == "tenants/acme.yaml" && e["line"] == 4), "{}", rejected.text);

    let history = s.get("/v1/rules/reloads").await.json;
    let outcomes: Vec<&str> = history["reloads"].as_array().into_iter().flatten().filter_map(|r| r["outcome"].as_str()).collect();
    assert_eq!(outcomes, ["rejected", "applied"], "newest first; unchanged reloads are not kept: {history}");
    assert!(history["reloads"].as_array().into_iter().flatten().all(|r| r["trigger"] == "api"));
}

#[tokio::test]
async fn without_a_token_loopback_peers_may_reload() {
    let s = Server::start().await;
    let a = s.post("/v1/rules/reload", &json!({})).await;
    assert_eq!((a.status, a.json["outcome"].clone()), (200, json!("unchanged")), "{}", a.text);
}

/// The hammer: client tasks decide continuously while the files go through
/// 200 reloads, alternating valid sets (Viber on or off for `default`) and
/// broken ones. No request may fail, and every answer must carry a revision
/// that was valid, with the very decision that revision gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_fails_through_200_reloads_valid_and_invalid() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&rules_dir(), dir.path());
    let live = Arc::new(Live::load(RuleSource::Dir(dir.path().to_owned())).expect("rules load"));
    let s = Arc::new(Server::start_live(live, Limits::default(), Admin::LoopbackOnly).await);

    // revision → whether Viber is connected in it.
    let mut valid: HashMap<String, bool> = HashMap::new();
    valid.insert(s.get("/v1/rules").await.json["revision"].as_str().unwrap_or_default().to_owned(), true);

    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (s, stop) = (s.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut seen: Vec<(String, bool)> = Vec::new();
            let mut failures: Vec<Answer> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let a = s.post("/v1/can-send", &viber()).await;
                if a.status == 200 {
                    seen.push((a.json["revision"].as_str().unwrap_or_default().to_owned(), a.json["allowed"] == true));
                } else {
                    failures.push(a);
                }
            }
            (seen, failures)
        }));
    }

    let default_tenant = dir.path().join("tenants/default.yaml");
    let (mut applied, mut rejected) = (0, 0);
    for i in 0..200 {
        let text = match i % 4 {
            0 => VIBER_OFF.to_owned(),
            1 => format!("kind: tenant\ntenant: default\ndescription: valid {i}\n"),
            2 => format!("kind: tenant\ntenant: default\nchannels:\n  viber:\n    connected: nope-{i}\n"),
            _ => format!("kind: tenant\ntenant: [default {i}\n"),
        };
        // Written whole by rename, as a deploy tool would.
        let tmp = dir.path().join("tenants/.default.yaml.tmp");
        fs::write(&tmp, &text).expect("write");
        fs::rename(&tmp, &default_tenant).expect("rename");
        let a = s.post("/v1/rules/reload", &json!({})).await;
        match (a.status, a.json["outcome"].as_str()) {
            (200, Some("applied")) => {
                applied += 1;
                valid.insert(a.json["revision"].as_str().unwrap_or_default().to_owned(), i % 4 != 0);
            }
            (422, _) => rejected += 1,
            other => panic!("reload {i}: unexpected {other:?}: {}", a.text),
        }
    }
    stop.store(true, Ordering::Relaxed);

    let mut decisions = 0;
    for c in clients {
        let (seen, failures) = c.await.expect("client task");
        assert!(failures.is_empty(), "failed requests during reloads: {:?}", failures.iter().map(|f| &f.text).collect::<Vec<_>>());
        for (revision, allowed) in &seen {
            let connected = valid.get(revision);
            assert!(connected.is_some(), "answered by revision {revision}, which was never a valid one");
            assert_eq!(Some(allowed), connected, "revision {revision} answered with another revision's decision");
        }
        decisions += seen.len();
    }
    assert_eq!((applied, rejected), (100, 100));
    assert!(decisions >= 200, "the clients decided throughout ({decisions} decisions)");
}

// ---- the `cansend serve` process: watching, SIGHUP, the token from the
// environment, and SIGTERM with an event stream open ----

struct Process {
    child: std::process::Child,
    addr: String,
    log: std::thread::JoinHandle<Vec<String>>,
}

fn spawn_serve(rules: &Path, extra: &[&str], env: &[(&str, &str)]) -> Process {
    use std::io::BufRead as _;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cansend"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--rules"]).arg(rules).args(extra);
    for var in ["CANSEND_LISTEN", "CANSEND_ADMIN_TOKEN", "CANSEND_NO_WATCH", "CANSEND_RULES"] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied()).env("RUST_LOG", "info").stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn cansend serve");
    let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.split("addr=").nth(1).and_then(|r| r.split_whitespace().next()).map(str::to_owned))
        .expect("a `serving addr=…` log line");
    // Keep draining the log so the process never blocks on a full pipe.
    let log = std::thread::spawn(move || lines.map_while(Result::ok).collect());
    Process { child, addr, log }
}

impl Process {
    fn signal(&self, sig: &str) {
        let ok = std::process::Command::new("kill").args([sig, &self.child.id().to_string()]).status().expect("kill");
        assert!(ok.success(), "kill {sig}");
    }

    /// SIGTERM, a clean exit, and the log.
    fn stop(mut self) -> Vec<String> {
        self.signal("-TERM");
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "a clean exit after SIGTERM: {status:?}");
        self.log.join().expect("log thread")
    }
}

async fn decide_remote(client: &reqwest::Client, addr: &str, body: &Value) -> (Vec<String>, Value) {
    let res = client.post(format!("http://{addr}/v1/can-send")).json(body).send().await.expect("answer");
    assert_eq!(res.status().as_u16(), 200);
    let v: Value = res.json().await.expect("json");
    (codes(&v), v["revision"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_process_reloads_on_sighup_and_guards_the_reload_endpoint_with_its_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&rules_dir(), dir.path());
    // Watching off by the variable, in the words people write.
    let p = spawn_serve(dir.path(), &[], &[("CANSEND_ADMIN_TOKEN", "from-env"), ("CANSEND_NO_WATCH", "1")]);
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let (before, old) = decide_remote(&client, &p.addr, &viber()).await;
    assert!(before.is_empty());

    fs::write(dir.path().join("tenants/default.yaml"), VIBER_OFF).expect("write");
    // Well past the debounce and a poll: not watched, so nothing changes.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(decide_remote(&client, &p.addr, &viber()).await, (before, old.clone()), "CANSEND_NO_WATCH=1: no reload by itself");
    p.signal("-HUP");
    let seen = within_deadline(|| async { decide_remote(&client, &p.addr, &viber()).await.0 == ["channel_not_connected"] }).await;
    assert!(seen, "SIGHUP reloaded within {DEADLINE:?}");
    let (_, new) = decide_remote(&client, &p.addr, &viber()).await;
    assert_ne!(new, old);
    // The history entry is written after the swap and the replay of recent
    // requests (nothing waits for the replay), so it may trail the new
    // revision by that much.
    let reloads_url = format!("http://{}/v1/rules/reloads", p.addr);
    let history = || async {
        let r = client.get(&reloads_url).send().await.expect("reloads");
        r.json::<Value>().await.expect("json")
    };
    within_deadline(|| async { history().await["reloads"].as_array().is_some_and(|r| !r.is_empty()) }).await;
    let reloads = history().await;
    assert_eq!(reloads["reloads"][0]["trigger"], "signal", "{reloads}");

    let url = format!("http://{}/v1/rules/reload", p.addr);
    let refused = client.post(&url).send().await.expect("answer");
    assert_eq!(refused.status().as_u16(), 401, "CANSEND_ADMIN_TOKEN applies, loopback or not");
    let ok = client.post(&url).bearer_auth("from-env").send().await.expect("answer");
    assert_eq!(ok.status().as_u16(), 200);

    let log = p.stop();
    assert!(log.iter().any(|l| l.contains("SIGHUP")), "{log:?}");
    assert!(!log.iter().any(|l| l.contains("from-env")), "the token is never logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_process_watches_its_rules_and_stops_with_an_event_stream_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&rules_dir(), dir.path());
    let p = spawn_serve(dir.path(), &[], &[]);
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let mut events = client.get(format!("http://{}/v1/rules/events", p.addr)).send().await.expect("event stream");
    let mut buf = String::new();
    assert_eq!(read_events(&mut events, &mut buf, 1).await.first().map(|e| e.0.clone()), Some("revision".to_owned()));

    fs::write(dir.path().join("tenants/default.yaml"), VIBER_OFF).expect("write");
    let seen = within_deadline(|| async { decide_remote(&client, &p.addr, &viber()).await.0 == ["channel_not_connected"] }).await;
    assert!(seen, "the watcher applied the edit within {DEADLINE:?}");
    let applied = read_events(&mut events, &mut buf, 1).await;
    let (name, data) = applied.first().cloned().expect("an applied event");
    // File events, or the polling fallback should it tick first.
    assert!(name == "applied" && (data["trigger"] == "watch" || data["trigger"] == "poll"), "{name} {data}");

    // Graceful shutdown ends the open stream instead of waiting for it.
    let log = p.stop();
    assert!(log.iter().any(|l| l.contains("rules reloaded")), "{log:?}");
    let end = tokio::time::timeout(DEADLINE, async { while let Ok(Some(_)) = events.chunk().await {} }).await;
    assert!(end.is_ok(), "the event stream ended with the process");
}
