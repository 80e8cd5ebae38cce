//! `cansend status URL…` against real `cansend serve` processes: replicas
//! that agree (exit 0), one on other rules (exit 1), one degraded (exit 1),
//! one unreachable (exit 2); the JSON form; the token.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

mod fleet_common;

use std::fs;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use fleet_common::{BROKEN, Serve, VIBER_OFF, check_revision, copy_dir, rules_dir};
use serde_json::Value;

fn status(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cansend"));
    cmd.arg("status").args(args).env_remove("CANSEND_ADMIN_TOKEN").envs(env.iter().copied());
    cmd.output().expect("run cansend status")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr").to_string();
    drop(l);
    addr
}

#[test]
fn status_agrees_disagrees_degrades_and_misses() {
    let a = tempfile::tempdir().expect("temp dir");
    copy_dir(&rules_dir(), a.path());
    let shipped = check_revision(a.path());
    let r1 = Serve::start(a.path(), &[]);
    let r2 = Serve::start(a.path(), &[]);

    let o = status(&[&r1.base, &r2.addr], &[]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let lines: Vec<String> = stdout(&o).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "one line per replica: {lines:?}");
    assert!(lines[0].starts_with(&r1.base) && lines[1].starts_with(&r2.addr), "{lines:?}");
    for l in &lines {
        assert!(l.contains(&shipped) && l.contains(" ok ") && l.contains("no reload since start"), "{l}");
    }
    assert!(stderr(&o).contains(&format!("2 replica(s) on revision {shipped}")), "{}", stderr(&o));

    // A third replica on other rules: they disagree.
    let b = tempfile::tempdir().expect("temp dir");
    copy_dir(&rules_dir(), b.path());
    fs::write(b.path().join("tenants/default.yaml"), VIBER_OFF).expect("write");
    let other = check_revision(b.path());
    let r3 = Serve::start(b.path(), &[]);
    let o = status(&[&r1.base, &r2.base, &r3.base], &[]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(text.lines().nth(2).is_some_and(|l| l.contains(&other)), "{text}");
    assert!(stderr(&o).contains("replicas disagree: 2 revisions among 3"), "{}", stderr(&o));

    // The same as JSON.
    let o = status(&["--format", "json", &r1.base, &r3.base], &[]);
    assert_eq!(o.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&o.stdout).expect("a JSON report");
    assert_eq!(report["agree"], false, "{report}");
    assert_eq!(report["exit"], 1, "{report}");
    assert_eq!(report["revisions"], serde_json::json!([shipped, other]), "{report}");
    assert_eq!(report["replicas"][1]["url"], r3.base.as_str(), "{report}");

    // One replica's newest files do not load: degraded, exit 1, with why,
    // and its last reload is the rejection.
    fs::write(b.path().join("tenants/demo-tags.yaml"), BROKEN).expect("write broken");
    let start = Instant::now();
    let o = loop {
        let o = status(&[&r3.base], &[]);
        if o.status.code() != Some(0) || start.elapsed() > Duration::from_secs(10) {
            break o;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(o.status.code(), Some(1), "{}{}\n{}", stdout(&o), stderr(&o), r3.log());
    let line = stdout(&o);
    assert!(
        line.contains(&other) && line.contains("degraded (the rule files of revision sha256:") && line.contains("tenants/demo-tags.yaml"),
        "{line}"
    );
    assert!(line.contains("rejected (watch)") || line.contains("rejected (poll)"), "{line}");
    assert!(stderr(&o).contains("1 of 1 replica(s) degraded"), "{}", stderr(&o));

    // One replica does not answer: exit 2, whatever the others say.
    let gone = closed_port();
    let o = status(&["--timeout", "2s", &r1.base, &gone], &[]);
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(text.lines().nth(1).is_some_and(|l| l.starts_with(&gone) && l.contains("unreachable: GET /v1/rules")), "{text}");
    assert!(stderr(&o).contains("1 of 2 replica(s) unreachable"), "{}", stderr(&o));

    // Not cansend (an answer, but not ours) is unreachable too.
    let o = status(&[&format!("{}/v1/tenants", r1.base)], &[]);
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("status 404"), "{}", stdout(&o));
}

#[test]
fn the_token_comes_from_the_flag_or_the_environment() {
    let a = tempfile::tempdir().expect("temp dir");
    copy_dir(&rules_dir(), a.path());
    let r = Serve::start(a.path(), &["--admin-token", "s3cret"]);
    let admin = |o: &Output| -> Value {
        let report: Value = serde_json::from_slice(&o.stdout).expect("a JSON report");
        report["replicas"][0]["admin"].clone()
    };
    let o = status(&["--format", "json", &r.base], &[]);
    assert_eq!((o.status.code(), admin(&o)), (Some(0), Value::Bool(false)), "no token: not admin");
    let o = status(&["--format", "json", "--token", "wrong", &r.base], &[]);
    assert_eq!(admin(&o), Value::Bool(false));
    let o = status(&["--format", "json", "--token", "s3cret", &r.base], &[]);
    assert_eq!(admin(&o), Value::Bool(true));
    let o = status(&[&r.base], &[("CANSEND_ADMIN_TOKEN", "s3cret")]);
    assert!(stdout(&o).contains("token accepted"), "{}", stdout(&o));
    assert!(!stdout(&o).contains("s3cret") && !stderr(&o).contains("s3cret"), "the token is never printed");
}
