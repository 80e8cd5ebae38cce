//! `cansend check` with the static analysis (findings, `--strict`, leaf
//! coverage, `--min-coverage`) and `cansend diff`, as a user runs them:
//! the real binary on rule directories on disk.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cansend(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cansend")).args(args).env_remove("CANSEND_RULES").output().expect("run cansend")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

/// A copy of the shipped rules in a temporary directory, as `<tmp>/rules`.
fn shipped_copy(tmp: &Path) -> PathBuf {
    let dir = tmp.join("rules");
    copy_dir(&repo("rules"), &dir);
    dir
}

fn edit(file: &Path, from: &str, to: &str) {
    let t = std::fs::read_to_string(file).expect("read");
    assert!(t.contains(from), "{} lacks {from:?}", file.display());
    std::fs::write(file, t.replacen(from, to, 1)).expect("write");
}

#[test]
fn the_shipped_rules_pass_strict_and_full_coverage() {
    for dir in ["rules", "examples/next-rules"] {
        let d = repo(dir);
        let out = cansend(&["check", "--strict", "--min-coverage", "100", d.to_str().expect("utf-8")]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{dir}:\n{stdout}\n{stderr}");
        assert!(stdout.contains("findings: 0 (1 accepted by allow_findings)"), "{dir}: {stdout}");
        assert!(stdout.contains("condition leaves seen true and false in some test (100.0 %)"), "{dir}: {stdout}");
        assert!(!stderr.contains("warning:"), "{dir}: {stderr}");
    }
}

#[test]
fn a_rule_that_never_fires_is_a_warning_and_fails_strict() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = shipped_copy(tmp.path());
    let file = dir.join("message.yaml");
    edit(
        &file,
        "  - id: attachment-count\n",
        "  - id: email-template\n    deny:\n      all:\n        - channel: { in: [whatsapp, viber] }\n        - channel: email\n    code: template_not_supported\n\n  - id: attachment-count\n",
    );
    let d = dir.to_str().expect("utf-8");
    let out = cansend(&["check", d]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "without --strict a finding does not fail:\n{stdout}\n{stderr}");
    let want = format!(
        "{d}/message.yaml:25:5: warning: rule `email-template` can never fire: `channel in [\"whatsapp\",\"viber\"]` and `channel eq email` contradict each other [never_fires]"
    );
    assert!(stderr.lines().any(|l| l == want), "wanted {want}\n{stderr}");
    assert!(stdout.contains("findings: 1 (1 accepted by allow_findings)"), "{stdout}");
    let strict = cansend(&["check", "--strict", d]);
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict.stderr));
}

#[test]
fn accepted_findings_do_not_fail_strict() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = shipped_copy(tmp.path());
    edit(
        &dir.join("eligibility.yaml"),
        "  - id: no-active-thread\n",
        "  - id: blocked-again\n    deny: { all: [ client.blocked, { channel: email } ] }\n    code: client_blocked\n    allow_findings: [redundant]   # kept while the old id is still reported\n\n  - id: no-active-thread\n",
    );
    let out = cansend(&["check", "--strict", dir.to_str().expect("utf-8")]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("findings: 0 (2 accepted by allow_findings)"), "{stdout}");
    // Without the acceptance, it is reported.
    edit(&dir.join("eligibility.yaml"), "    allow_findings: [redundant]   # kept while the old id is still reported\n", "");
    let out = cansend(&["check", "--strict", dir.to_str().expect("utf-8")]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("warning: rule `blocked-again` is redundant: whenever it fires, rule `client-not-blocked` fires too, with the same code `client_blocked` [redundant]"), "{stderr}");
}

#[test]
fn min_coverage_fails_below_it_and_names_the_leaves_missed() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = shipped_copy(tmp.path());
    // The tests that make the tags rule's leaves true go away.
    let tests = dir.join("tests/eligibility.yaml");
    let t = std::fs::read_to_string(&tests).expect("read");
    let kept: Vec<&str> = t.split("\n  - name: ").filter(|chunk| !chunk.contains("tenant: demo-tags")).collect();
    std::fs::write(&tests, kept.join("\n  - name: ")).expect("write");
    let d = dir.to_str().expect("utf-8");
    let out = cansend(&["check", "--min-coverage", "100", d]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("rule tags-required never fired in tests, but `tenant.tags_required eq true` was never true"), "{stdout}");
    assert!(stdout.contains("  not exercised: rule tags-required"), "{stdout}");
    assert!(stderr.contains("error: rule coverage 94.1 % is below --min-coverage 100"), "{stderr}");
    assert!(stderr.contains("error: leaf coverage "), "{stderr}");
    let out = cansend(&["check", "--min-coverage", "90", d]);
    assert!(out.status.success(), "{}\n{}", text(&out.stdout), text(&out.stderr));
}

#[test]
fn diff_reports_the_tenant_and_channel_a_change_touches() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let old = repo("rules");
    let new = shipped_copy(tmp.path());
    edit(&new.join("tenants/demo-limits.toml"), "max_file_size = { value = \"50 MB\"", "max_file_size = { value = \"30 MB\"");
    let (o, n) = (old.to_str().expect("utf-8"), new.to_str().expect("utf-8"));
    let out = cansend(&["diff", o, n]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.starts_with("generated ") && stdout.contains(" requests for 3 tenants × 7 channels"), "{stdout}");
    let groups: Vec<&str> = stdout.lines().filter(|l| !l.starts_with(' ') && l.contains(" / ")).collect();
    assert_eq!(groups.len(), 1, "{stdout}");
    assert!(groups.iter().all(|g| g.starts_with("demo-limits / email: ") && g.contains("allow→deny")), "{stdout}");
    assert!(
        stdout.contains("allow→deny: base with {\"message\":{\"attachments\":[{\"name\":\"file.bmp\",\"size\":30000001}]}}"),
        "{stdout}"
    );

    let out = cansend(&["diff", "--format", "json", o, n]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v["generated"].as_u64().unwrap_or(0) > 1000, "{v}");
    let groups = v["by_tenant_channel"].as_array().cloned().unwrap_or_default();
    assert_eq!(groups.len(), 1, "{v}");
    assert_eq!((groups[0]["tenant"].as_str(), groups[0]["channel"].as_str()), (Some("demo-limits"), Some("email")));
    assert!(groups[0]["allow_to_deny"].as_u64().unwrap_or(0) > 0, "{v}");
    assert_eq!(groups[0]["deny_to_allow"], 0);
    assert_eq!(groups[0]["samples"][0]["request"]["message"]["attachments"][0]["size"], 30_000_001, "{v}");

    let same = cansend(&["diff", o, o]);
    assert!(text(&same.stdout).contains("no decision changed"), "{}", text(&same.stdout));
}

#[test]
fn diff_of_a_directory_that_does_not_load_is_an_error() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let new = shipped_copy(tmp.path());
    edit(&new.join("eligibility.yaml"), "deny: client.blocked", "deny: client.blokced");
    let out = cansend(&["diff", repo("rules").to_str().expect("utf-8"), new.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown field `client.blokced`"), "{}", text(&out.stderr));
}
