//! The decision log of a real `cansend serve`: one JSON line per decision in
//! the file given, reopened on SIGHUP after logrotate moved the file away,
//! and what it wrote is flushed when SIGTERM stops the process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

mod fleet_common;

use std::path::Path;
use std::time::{Duration, Instant};

use fleet_common::{Serve, client, copy_dir, rules_dir};
use serde_json::{Value, json};

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap_or_default().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// Wait until `path` holds `n` lines (the writer is off the request path).
async fn wait_lines(path: &Path, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let l = lines(path);
        if l.len() >= n || Instant::now() > deadline {
            return l;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn decide(base: &str, body: &Value) -> (String, Value) {
    let res = client().post(format!("{base}/v1/can-send")).json(body).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let id = res.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap().to_owned();
    (id, res.json().await.unwrap())
}

#[cfg(unix)]
fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill").args([&format!("-{sig}"), &pid.to_string()]).status().unwrap().success();
    assert!(ok, "kill -{sig} {pid}");
}

#[cfg(unix)]
#[tokio::test]
async fn a_real_run_logs_every_decision_and_reopens_the_file_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    copy_dir(&rules_dir(), &rules);
    let log = dir.path().join("decisions.log");
    let s = Serve::start(&rules, &["--decision-log", log.to_str().unwrap(), "--decision-log-body", "--no-watch"]);
    let blocked = json!({"sender": {"role": "agent"}, "client": {"status": "existing", "blocked": true, "channels": ["vk"], "phone": "+7999"},
                         "channel": "vk", "message": {"text": "hello"}});
    let (id, answer) = decide(&s.base, &blocked).await;
    let first = wait_lines(&log, 1).await;
    assert_eq!(first.len(), 1, "{first:?}\n{}", s.log());
    assert_eq!(first[0]["request_id"], id.as_str());
    assert_eq!(first[0]["allowed"], false);
    assert_eq!(first[0]["codes"], json!(["client_blocked"]));
    assert_eq!(first[0]["revision"], answer["revision"]);
    assert_eq!(first[0]["body"]["client"]["phone"], "***");
    assert_eq!(first[0]["body"]["message"]["text"], "***");

    // logrotate: move the file away, SIGHUP; the next line goes to a new file.
    let rotated = dir.path().join("decisions.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    signal(s.pid(), "HUP");
    // The reload that SIGHUP also triggers is announced in the log.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !s.log().contains("SIGHUP") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let allowed = json!({"sender": {"role": "agent"}, "client": {"status": "existing", "channels": ["vk"]}, "channel": "vk", "message": {"text": "hi"}});
    let (id2, _) = decide(&s.base, &allowed).await;
    let second = wait_lines(&log, 1).await;
    assert_eq!(second.len(), 1, "a new file after SIGHUP: {second:?}\n{}", s.log());
    assert_eq!((second[0]["request_id"].as_str(), second[0]["allowed"].as_bool()), (Some(id2.as_str()), Some(true)));
    assert_eq!(lines(&rotated).len(), 1, "the rotated file keeps its line");

    // SIGTERM: what was decided is written before the process ends.
    let (id3, _) = decide(&s.base, &blocked).await;
    signal(s.pid(), "TERM");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !s.log().contains("stopped") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let last = lines(&log);
    assert!(last.iter().any(|l| l["request_id"] == id3.as_str()), "{last:?}\n{}", s.log());
}
