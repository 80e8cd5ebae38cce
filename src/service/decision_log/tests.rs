//! The decision log with real files (and, for back-pressure, a real pipe).
//! Test code only (`mod tests` is compiled under `cfg(test)`), marked as
//! such for the scan of `tests/generic_engine.rs`, which names no domain
//! value outside tests.

#[cfg(test)]
use super::*;
use serde_json::{Value, json};
use std::path::Path;

fn entry(id: &str, allowed: bool) -> Entry {
    Entry {
        request_id: id.to_owned(),
        tenant: "default".into(),
        channel: "email".into(),
        role: "agent".into(),
        action: "send".into(),
        allowed,
        codes: if allowed { vec![] } else { vec!["client_blocked".into()] },
        rules: if allowed { vec![] } else { vec!["client-not-blocked".into()] },
        revision: "sha256:abc".into(),
        latency_us: 42,
        body: Some(json!({
            "tenant": "default",
            "client": { "status": "existing", "email": "anna@example.com", "phone": "+79990001122" },
            "channel": "email",
            "message": { "text": "Dear Anna", "attachments": [{ "name": "anna.pdf", "size": 1 }] }
        })),
    }
}

fn file_config(path: &Path) -> DecisionLogConfig {
    DecisionLogConfig::new(Target::File(path.to_owned()))
}

fn lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))).collect()
}

fn ids(lines: &[Value]) -> Vec<String> {
    lines.iter().map(|l| l["request_id"].as_str().unwrap_or("").to_owned()).collect()
}

/// Wait (up to 10 s) until `f` holds.
fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    f()
}

#[test]
fn one_well_formed_line_per_decision_flushed_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("decisions.log");
    let log = DecisionLog::open(file_config(&path)).unwrap();
    assert!(!log.wants_body());
    log.record(entry("r-1", false));
    log.record(entry("r-2", true));
    log.shutdown();
    assert_eq!((log.written(), log.dropped()), (2, 0));
    let got = lines(&path);
    assert_eq!(ids(&got), ["r-1", "r-2"]);
    let first = &got[0];
    let keys: Vec<&str> = first.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["time", "request_id", "tenant", "channel", "role", "action", "allowed", "codes", "rules", "revision", "latency_us"],
        "no body without --decision-log-body: {first}"
    );
    assert!(chrono::DateTime::parse_from_rfc3339(first["time"].as_str().unwrap()).is_ok(), "{first}");
    assert_eq!(
        (&first["allowed"], &first["codes"], &first["rules"], &first["latency_us"]),
        (&json!(false), &json!(["client_blocked"]), &json!(["client-not-blocked"]), &json!(42))
    );
    assert_eq!(got[1]["allowed"], json!(true));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o007, 0, "not readable by others: {mode:o}");
    }
    // After shutdown nothing is lost silently.
    log.record(entry("r-3", false));
    assert_eq!(log.dropped(), 1);
}

#[test]
fn bodies_are_masked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("decisions.log");
    let log = DecisionLog::open(DecisionLogConfig { include_body: true, ..file_config(&path) }).unwrap();
    assert!(log.wants_body());
    log.record(entry("r-1", false));
    log.shutdown();
    let body = &lines(&path)[0]["body"];
    assert_eq!(
        body,
        &json!({
            "tenant": "default",
            "client": { "status": "existing", "email": "***", "phone": "***" },
            "channel": "email",
            "message": { "text": "***", "attachments": [{ "name": "***", "size": 1 }] }
        })
    );

    let custom = dir.path().join("custom.log");
    let mask = parse_mask("/client/email").unwrap();
    let log = DecisionLog::open(DecisionLogConfig { include_body: true, mask, ..file_config(&custom) }).unwrap();
    log.record(entry("r-1", false));
    log.shutdown();
    let body = &lines(&custom)[0]["body"];
    assert_eq!((&body["client"]["email"], &body["client"]["phone"]), (&json!("***"), &json!("+79990001122")));
}

#[test]
fn denied_always_allowed_sampled_by_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let none = dir.path().join("none.log");
    let log = DecisionLog::open(DecisionLogConfig { sample_allowed: 0.0, ..file_config(&none) }).unwrap();
    for i in 0..10 {
        log.record(entry(&format!("a-{i}"), true));
    }
    for i in 0..3 {
        log.record(entry(&format!("d-{i}"), false));
    }
    log.shutdown();
    assert_eq!(ids(&lines(&none)), ["d-0", "d-1", "d-2"]);
    assert_eq!((log.sampled_out(), log.dropped()), (10, 0), "sampled out is not dropped");

    let half = dir.path().join("half.log");
    let log = DecisionLog::open(DecisionLogConfig { sample_allowed: 0.5, ..file_config(&half) }).unwrap();
    let all: Vec<String> = (0..1000).map(|i| format!("01J9Z{i:05}")).collect();
    for id in &all {
        log.record(entry(id, true));
    }
    log.shutdown();
    let kept = ids(&lines(&half));
    assert!((400..=600).contains(&kept.len()), "about half: {}", kept.len());
    let expected: Vec<&String> = all.iter().filter(|id| sampled(id, 0.5)).collect();
    assert_eq!(kept.iter().collect::<Vec<_>>(), expected, "the same ids on every run and replica");
    assert!(sampled("x", 1.0) && !sampled("x", 0.0) && !sampled("x", f64::NAN));
    assert!(DecisionLog::open(DecisionLogConfig { sample_allowed: 1.5, ..file_config(&half) }).is_err());
}

#[test]
fn rotates_by_size_into_path_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("decisions.log");
    let max = 2000;
    let log = DecisionLog::open(DecisionLogConfig { max_size: Some(max), ..file_config(&path) }).unwrap();
    for i in 0..100 {
        log.record(entry(&format!("r-{i:03}"), false));
    }
    log.shutdown();
    assert!(log.rotations() >= 2, "{} rotations", log.rotations());
    let rotated = rotated_path(&path);
    assert_eq!(rotated.file_name().and_then(|n| n.to_str()), Some("decisions.log.1"));
    for p in [&path, &rotated] {
        let size = std::fs::metadata(p).unwrap().len();
        assert!(size > 0 && size <= max, "{}: {size} bytes", p.display());
    }
    // The newest lines, in order, across the two files.
    let (old, new) = (ids(&lines(&rotated)), ids(&lines(&path)));
    let joined: Vec<String> = old.iter().chain(&new).cloned().collect();
    let first: usize = joined[0][2..].parse().unwrap();
    let want: Vec<String> = (first..100).map(|i| format!("r-{i:03}")).collect();
    assert_eq!(joined, want);
    assert_eq!(log.written(), 100);
}

#[test]
fn reopen_follows_a_file_moved_away() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("decisions.log");
    let moved = dir.path().join("decisions.log-20261124");
    let log = DecisionLog::open(file_config(&path)).unwrap();
    log.record(entry("before", false));
    assert!(eventually(|| lines(&path).len() == 1), "flushed when the queue ran empty");
    // logrotate: rename, then tell the service (SIGHUP) to reopen.
    std::fs::rename(&path, &moved).unwrap();
    log.record(entry("still-old", false));
    assert!(eventually(|| log.written() == 2));
    log.reopen();
    log.record(entry("after", false));
    log.shutdown();
    assert_eq!(ids(&lines(&moved)), ["before", "still-old"]);
    assert_eq!(ids(&lines(&path)), ["after"]);
}

#[cfg(unix)]
#[test]
fn a_full_queue_drops_and_counts_and_never_waits() {
    // The writer is stuck on a pipe nobody reads: 2000 records with a queue
    // of 4 still return (the test would hang otherwise), and every entry
    // is either read from the pipe afterwards or counted as dropped.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let (go, wait) = std::sync::mpsc::channel::<()>();
    let reader_path = fifo.clone();
    let reader = std::thread::spawn(move || {
        // Opening blocks until the log opens the other end.
        let mut f = std::fs::File::open(&reader_path).unwrap();
        wait.recv().unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut f, &mut text).unwrap();
        text
    });
    let log = DecisionLog::open(DecisionLogConfig { include_body: true, queue: 4, ..file_config(&fifo) }).unwrap();
    let big = json!({ "message": { "attachments": [{ "name": "x".repeat(4000), "size": 1 }] }, "note": "y".repeat(4000) });
    for i in 0..2000 {
        log.record(Entry { body: Some(big.clone()), ..entry(&format!("r-{i}"), false) });
    }
    let dropped = log.dropped();
    assert!(dropped > 1000, "a pipe holds far fewer than 2000 lines of 4 KB: {dropped} dropped");
    go.send(()).unwrap();
    log.shutdown();
    let text = reader.join().unwrap();
    let read = text.lines().count() as u64;
    assert_eq!(read, log.written());
    assert_eq!(read + log.dropped(), 2000, "every entry written or counted");
    assert_eq!(log.dropped(), dropped, "nothing more dropped once the reader came back");
}

#[test]
fn the_body_byte_budget_bounds_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("decisions.log");
    // A budget smaller than one body: every body-carrying entry is dropped
    // (and counted), entries without a body are not affected.
    let log = DecisionLog::open(DecisionLogConfig { include_body: true, queue_bytes: 10, ..file_config(&path) }).unwrap();
    log.record(entry("with-body", false));
    log.record(Entry { body: None, ..entry("without", false) });
    log.shutdown();
    assert_eq!((log.dropped(), ids(&lines(&path))), (1, vec!["without".to_owned()]));
}

#[test]
fn warnings_at_most_every_ten_seconds() {
    let last = AtomicU64::new(u64::MAX);
    assert!(warn_due(&last, 5), "the first drop warns");
    assert!(!warn_due(&last, 5 + 9_999));
    assert!(warn_due(&last, 5 + 10_000));
    assert!(!warn_due(&last, 5 + 10_001));
}
