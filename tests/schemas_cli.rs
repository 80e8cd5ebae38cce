//! `cansend schemas`: the schemas written for the shipped rules accept
//! every shipped rule file and refuse what `cansend check` refuses that the
//! format's schemas cannot know (a misspelt setting, a bad setting value,
//! a misspelt field of a rule test's request).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

use std::path::Path;
use std::process::Command;

use serde_json::Value as Json;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The schemas `cansend schemas rules --out OUT` writes, by kind.
fn generated(out: &Path) -> std::collections::HashMap<String, jsonschema::Validator> {
    let status = Command::new(env!("CARGO_BIN_EXE_cansend"))
        .current_dir(root())
        .args(["schemas", "rules", "--out"])
        .arg(out)
        .status()
        .expect("cansend runs");
    assert!(status.success());
    ["catalog", "settings", "rules", "tenant", "tests"]
        .into_iter()
        .map(|kind| {
            let text = std::fs::read_to_string(out.join(format!("{kind}.schema.json"))).unwrap();
            let schema: Json = serde_json::from_str(&text).unwrap();
            (kind.to_owned(), jsonschema::validator_for(&schema).unwrap())
        })
        .collect()
}

fn parse(path: &str, text: &str) -> Json {
    if path.ends_with(".toml") {
        serde_json::to_value(toml::from_str::<toml::Table>(text).unwrap()).unwrap()
    } else {
        serde_yaml::from_str(text).unwrap()
    }
}

fn shipped() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for sub in ["", "tenants", "tests"] {
        for entry in std::fs::read_dir(root().join("rules").join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml" || e == "toml") {
                let rel = path.strip_prefix(root().join("rules")).unwrap().display().to_string();
                out.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn errors(validators: &std::collections::HashMap<String, jsonschema::Validator>, path: &str, text: &str) -> Vec<String> {
    let value = parse(path, text);
    let kind = value["kind"].as_str().unwrap().to_owned();
    validators[&kind].iter_errors(&value).map(|e| format!("{} at {}", e, e.instance_path().as_str())).collect()
}

#[test]
fn the_schemas_of_the_shipped_rules_know_their_names() {
    let out = tempfile::tempdir().unwrap();
    let v = generated(out.path());
    let files = shipped();
    assert!(files.len() >= 9, "{files:?}");
    for (path, text) in &files {
        assert_eq!(errors(&v, path, text), Vec::<String>::new(), "{path}");
    }
    let file = |path: &str| files.iter().find(|(p, _)| p == path).map(|(_, t)| t.clone()).unwrap();
    let mistakes = [
        ("tenants/demo-limits.toml", file("tenants/demo-limits.toml").replace("connected = false", "conected = false"), "/channels/viber"),
        (
            "tenants/demo-tags.yaml",
            file("tenants/demo-tags.yaml").replace("settings:", "channels:\n  email:\n    max_file_size: lots\nsettings:"),
            "/channels/email/max_file_size",
        ),
        ("tenants/demo-tags.yaml", file("tenants/demo-tags.yaml").replace("tags_required: true", "tags_requird: true"), "/settings"),
        (
            "tests/eligibility.yaml",
            file("tests/eligibility.yaml").replacen("request: {}", "request: { client: { blockd: true } }", 1),
            "/tests/0/request/client",
        ),
        (
            "tests/eligibility.yaml",
            file("tests/eligibility.yaml").replacen("codes: [channel_not_used_by_client]", "codes: [channel_not_used]", 1),
            "/tests/1/expect/codes/0",
        ),
        ("eligibility.yaml", file("eligibility.yaml").replacen("code: client_blocked", "code: client_blokced", 1), "/rules/0/code"),
    ];
    for (path, text, at) in mistakes {
        let errs = errors(&v, path, &text);
        assert!(errs.iter().any(|e| e.ends_with(&format!(" at {at}"))), "{path}: {at} not in {errs:?}");
    }
}
