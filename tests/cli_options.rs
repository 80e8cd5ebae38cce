//! The command line's options, run as the binary: `check --format
//! json|github`, `--test`, `--rules`, `--strict` on load warnings, a failed
//! rule test's explanation, `eval --fail-on-deny` and its exit codes,
//! `--version`, shell completions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn cansend(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cansend"));
    cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for (var, _) in std::env::vars().filter(|(v, _)| v.starts_with("CANSEND_")) {
        cmd.env_remove(var);
    }
    match stdin {
        None => cmd.stdin(Stdio::null()).output().unwrap(),
        Some(text) => {
            use std::io::Write as _;
            let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
            child.wait_with_output().unwrap()
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn copy(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    fn walk(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            if e.path().is_dir() {
                walk(&e.path(), &to.join(e.file_name()));
            } else {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    }
    walk(&from, to);
}

#[test]
fn check_speaks_json_and_github() {
    let out = cansend(&["check", "--rules", "rules", "--format", "json"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((doc["loaded"].as_bool(), doc["ok"].as_bool()), (Some(true), Some(true)));
    assert!(doc["revision"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(doc["tests"]["failed"], 0);
    assert!(doc["tests"]["passed"].as_u64().unwrap() > 50);
    assert_eq!(doc["tests"]["results"][0]["file"], "rules/tests/eligibility.yaml");
    assert_eq!(doc["coverage"]["rules_fired"], doc["coverage"]["rules"]);

    let dir = tempfile::tempdir().unwrap();
    copy(dir.path());
    let tests = dir.path().join("tests/eligibility.yaml");
    let broken = std::fs::read_to_string(&tests).unwrap().replacen(
        "expect: { allowed: false, codes: [client_blocked] }",
        "expect: { allowed: true }",
        1,
    );
    std::fs::write(&tests, broken).unwrap();
    let d = dir.path().to_str().unwrap();
    let out = cansend(&["check", d, "--format", "github"], None);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let line = stdout.lines().find(|l| l.starts_with("::error file=")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("tests/eligibility.yaml,line=") && line.contains(",col=5::test `"), "{line}");
    assert!(line.contains("%0Awhy:%0A") && line.contains("rule client-not-blocked fired"), "the annotation explains: {line}");
    let out = cansend(&["check", d, "--format", "json"], None);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((doc["ok"].as_bool(), doc["tests"]["failed"].as_u64()), (Some(false), Some(1)));
    let failed = doc["tests"]["results"].as_array().unwrap().iter().find(|r| r["passed"] == false).unwrap();
    assert!(failed["trace"].as_array().unwrap().iter().any(|t| t.as_str().unwrap().contains("client.blocked eq true → true")), "{failed}");
}

#[test]
fn a_failed_rule_test_says_why_in_text() {
    let dir = tempfile::tempdir().unwrap();
    copy(dir.path());
    let tests = dir.path().join("tests/eligibility.yaml");
    let broken = std::fs::read_to_string(&tests).unwrap().replacen(
        "expect: { allowed: false, codes: [client_blocked] }",
        "expect: { allowed: true }",
        1,
    );
    std::fs::write(&tests, broken).unwrap();
    let out = cansend(&["check", dir.path().to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("failed: expected allowed: true, got allowed: false"), "{err}");
    assert!(err.contains("  why:\n    eligibility.yaml:") && err.contains("rule client-not-blocked fired"), "{err}");
    assert!(err.contains("client.blocked eq true → true (client.blocked = true)"), "the values compared: {err}");
}

#[test]
fn check_runs_the_tests_it_is_asked_for() {
    let out = cansend(&["check", "rules", "--test", "§1.2"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("tests selected by name: coverage is not judged"), "{stdout}");
    let line = stdout.lines().find(|l| l.starts_with("tests: ")).unwrap();
    let passed: usize = line.trim_start_matches("tests: ").split(' ').next().unwrap().parse().unwrap();
    assert!((1..10).contains(&passed), "{line}");
    let none = cansend(&["check", "rules", "--test", "no test is called this"], None);
    assert_eq!(none.status.code(), Some(1));
    assert!(text(&none.stderr).contains("no rule test's name contains"), "{}", text(&none.stderr));
}

#[test]
fn strict_fails_on_a_load_warning() {
    let dir = tempfile::tempdir().unwrap();
    copy(dir.path());
    std::fs::write(
        dir.path().join("tenants/acme.yaml"),
        "kind: tenant\ntenant: acme\nchannels:\n  email:\n    max_file_size: { value: 10 MB, ticket: SUP-1, expires: 2020-01-31 }\n",
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    let relaxed = cansend(&["check", d], None);
    assert_eq!(relaxed.status.code(), Some(0), "{}", text(&relaxed.stderr));
    assert!(text(&relaxed.stderr).contains("warning:"), "the expired override is a warning: {}", text(&relaxed.stderr));
    let strict = cansend(&["check", d, "--strict"], None);
    assert_eq!(strict.status.code(), Some(1));
    assert!(text(&strict.stderr).contains("--strict"), "{}", text(&strict.stderr));
}

#[test]
fn eval_exit_codes() {
    let denied = r#"{"sender": {"role": "agent"}, "client": {"status": "existing", "blocked": true, "channels": ["vk"]}, "channel": "vk", "message": {"text": "hi"}}"#;
    let allowed = r#"{"sender": {"role": "agent"}, "client": {"status": "existing", "channels": ["vk"]}, "channel": "vk", "message": {"text": "hi"}}"#;
    assert_eq!(cansend(&["eval", "-"], Some(denied)).status.code(), Some(0), "denied is a decision");
    assert_eq!(cansend(&["eval", "--fail-on-deny", "-"], Some(denied)).status.code(), Some(1));
    assert_eq!(cansend(&["eval", "--fail-on-deny", "-"], Some(allowed)).status.code(), Some(0));
    let invalid = cansend(&["eval", "-"], Some(r#"{"sender": {}}"#));
    assert_eq!(invalid.status.code(), Some(2));
    let problem: Value = serde_json::from_slice(&invalid.stdout).unwrap();
    assert_eq!(problem["status"], 422);
    let missing = cansend(&["eval", "nosuch.json"], None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("nosuch.json"), "the file is named: {}", text(&missing.stderr));
}

#[test]
fn version_and_completions() {
    let v = text(&cansend(&["--version"], None).stdout);
    assert!(v.starts_with(&format!("cansend {}", env!("CARGO_PKG_VERSION"))), "{v}");
    assert!(v.contains("commit ") && v.contains(&format!("rule format {}", cansend::RULE_FORMAT)), "{v}");
    for shell in ["bash", "zsh", "fish"] {
        let out = cansend(&["completions", shell], None);
        assert_eq!(out.status.code(), Some(0));
        let script = text(&out.stdout);
        assert!(script.contains("cansend") && script.contains("check") && script.contains("min-coverage"), "{shell}: {script}");
    }
}
