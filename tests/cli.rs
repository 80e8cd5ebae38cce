//! The command line as a user runs it: `cansend check` and `cansend eval`
//! from some directory, pointing at a rules directory (or not).
//!
//! Diagnostics name files under the directory as the user gave it, so an
//! editor or a CI annotation opens them; with no directory and no
//! `./rules`, `check` checks the built-in rules and says so.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

use std::path::Path;
use std::process::{Command, Output};

use cansend::builtin_rules as builtin;

fn cansend(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cansend")).current_dir(cwd).args(args).env_remove("CANSEND_RULES").output().expect("run cansend")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The shipped rules under `root/rel`, with `eligibility.yaml` broken at line 11.
fn broken_rules_at(root: &Path, rel: &str) {
    for f in builtin() {
        let path = root.join(rel).join(&f.path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        let text = if f.path == "eligibility.yaml" {
            assert!(f.text.contains("    deny: client.blocked\n"));
            f.text.replacen("    deny: client.blocked\n", "    deny: client.blokced\n", 1)
        } else {
            f.text
        };
        std::fs::write(path, text).expect("write");
    }
}

#[test]
fn check_without_a_directory_outside_the_repository_checks_the_builtin_rules() {
    let cwd = tempfile::tempdir().expect("temp dir");
    let out = cansend(cwd.path(), &["check"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("checking the rules built into the binary"), "{stderr}");
    assert!(stdout.starts_with("(built-in rules): "), "{stdout}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    assert!(!stderr.contains(":0:0:"), "{stderr}");
}

#[test]
fn check_prints_files_under_the_directory_as_given() {
    let cwd = tempfile::tempdir().expect("temp dir");
    broken_rules_at(cwd.path(), "sets/rules");
    for (arg, shown) in [("sets/rules/", "sets/rules/eligibility.yaml"), ("./sets/rules", "./sets/rules/eligibility.yaml")] {
        let out = cansend(cwd.path(), &["check", arg]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        let want = format!("{shown}:11:11: error: unknown field `client.blokced` [in client-not-blocked]");
        assert!(stderr.lines().any(|l| l.starts_with(&want)), "wanted {want}\n{stderr}");
    }
}

#[test]
fn check_with_no_directory_uses_rules_here() {
    let cwd = tempfile::tempdir().expect("temp dir");
    broken_rules_at(cwd.path(), "rules");
    let out = cansend(cwd.path(), &["check"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.lines().any(|l| l.starts_with("rules/eligibility.yaml:11:11: error:")), "{stderr}");
}

#[test]
fn eval_prints_files_under_the_directory_as_given() {
    let cwd = tempfile::tempdir().expect("temp dir");
    broken_rules_at(cwd.path(), "r");
    std::fs::write(
        cwd.path().join("req.json"),
        r#"{"sender":{"role":"agent"},"client":{"status":"new"},"channel":"vk","message":{"text":"hi"}}"#,
    )
    .expect("write");
    let out = cansend(cwd.path(), &["eval", "--rules", "r", "req.json"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.lines().any(|l| l.starts_with("r/eligibility.yaml:11:11: error:")), "{stderr}");
}

#[test]
fn a_missing_directory_is_named_as_given() {
    let cwd = tempfile::tempdir().expect("temp dir");
    let out = cansend(cwd.path(), &["check", "no/such/rules"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.lines().any(|l| l.starts_with("no/such/rules:0:0: error: cannot open the rules directory")), "{stderr}");
    // One mistake, one error: no second "no catalog file" for a directory that is not there.
    assert_eq!(stderr.lines().filter(|l| l.contains(": error: ")).count(), 1, "{stderr}");
    assert!(!stderr.contains("no catalog"), "{stderr}");
}

#[test]
fn eval_names_a_request_file_it_cannot_read() {
    let cwd = tempfile::tempdir().expect("temp dir");
    let out = cansend(cwd.path(), &["eval", "nosuch.json"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nosuch.json"), "{stderr}");
}
