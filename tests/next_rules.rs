//! `examples/next-rules/` is the base rule set (`rules/`) plus the five
//! "next rules" of docs/domain.md §3. It holds copies of the base files, so that it is
//! a complete rule set on its own; this test keeps the copies from drifting
//! from the originals (an edit of `rules/` that is not copied fails CI):
//!
//! - every rule file of `rules/` outside `tests/` is in the example,
//!   byte for byte, but for its `$schema` comment, whose relative path has
//!   one more `../` (the example lies one directory deeper);
//! - what the next rules add lives in files of their own (`next.yaml`,
//!   `next-catalog.yaml`, `next-settings.yaml`, …), never in those copies;
//! - the base rule tests are copied test by test: same names, requests and
//!   expectations, except those listed in [`ADJUSTED`]; each copy's `base`
//!   is the original's with [`base_additions`] merged in;
//! - the example loads, all its tests pass and they exercise every rule.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};

use cansend::internals::read_dir;

const NOW: i64 = 1_764_000_000_000;

/// Base tests whose copy differs on purpose, because a next rule changes
/// their outcome: (file under tests/, test name, why).
const ADJUSTED: &[(&str, &str, &str)] = &[];

/// What every copied test file adds to the original's `base`, so that an
/// ordinary message still gets through the next rules.
fn base_additions() -> Json {
    json!({
        "sender": { "status": "READY" },                          // agent-ready
        "client": { "last_inbound_at": "2026-11-24T08:00:00Z" }   // whatsapp-24h-window
    })
}

fn dir(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn files(rel: &str) -> BTreeMap<String, String> {
    let (files, errors) = read_dir(&dir(rel));
    assert!(errors.is_empty(), "{rel}: {errors:?}");
    files.into_iter().map(|f| (f.path, f.text)).collect()
}

/// The original's text as it must read one directory deeper.
fn one_level_deeper(text: &str) -> String {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let first = if first.starts_with("# yaml-language-server: $schema=") {
        first.replacen("$schema=", "$schema=../", 1)
    } else if first.starts_with("#:schema ") {
        first.replacen("#:schema ", "#:schema ../", 1)
    } else {
        first.to_owned()
    };
    format!("{first}\n{rest}")
}

#[test]
fn the_base_rule_files_are_copied_unchanged() {
    let base = files("rules");
    let next = files("examples/next-rules");
    let mut problems = Vec::new();
    for (path, text) in base.iter().filter(|(p, _)| !p.starts_with("tests/")) {
        match next.get(path) {
            None => problems.push(format!("{path}: missing from examples/next-rules/ (copy it there)")),
            Some(copy) if *copy != one_level_deeper(text) => problems.push(format!(
                "{path}: examples/next-rules/{path} differs from rules/{path} (only the `$schema` line may, by one `../`); \
                 copy it again, and put what the next rules add in a file of their own"
            )),
            Some(_) => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A test file's tree, parsed as the loader parses it.
fn tree(path: &str, text: &str) -> Json {
    let (file, diags) = cansend::internals::parse_file(path, text);
    assert!(diags.is_empty(), "{path}: {diags:?}");
    file.unwrap_or_else(|| panic!("{path} did not parse"))
}

fn merge(base: &Json, over: &Json) -> Json {
    match (base, over) {
        (Json::Object(a), Json::Object(b)) => {
            let mut out = a.clone();
            for (k, v) in b {
                let merged = out.get(k).map_or_else(|| v.clone(), |old| merge(old, v));
                out.insert(k.clone(), merged);
            }
            Json::Object(out)
        }
        (_, o) => o.clone(),
    }
}

/// name → (request, expect)
fn tests_of(t: &Json) -> BTreeMap<String, (Json, Json)> {
    let list = t.get("tests").and_then(Json::as_array).cloned().unwrap_or_default();
    list.into_iter()
        .map(|t| {
            let name = t.get("name").and_then(Json::as_str).unwrap_or_default().to_owned();
            (name, (t.get("request").cloned().unwrap_or(Json::Null), t.get("expect").cloned().unwrap_or(Json::Null)))
        })
        .collect()
}

#[test]
fn the_base_rule_tests_are_copied_test_by_test() {
    let base = files("rules");
    let next = files("examples/next-rules");
    let mut problems = Vec::new();
    for (path, text) in base.iter().filter(|(p, _)| p.starts_with("tests/")) {
        let Some(copy) = next.get(path) else {
            problems.push(format!("{path}: missing from examples/next-rules/ (copy it there)"));
            continue;
        };
        let (original, copy) = (tree(path, text), tree(path, copy));
        let want_base = merge(original.get("base").unwrap_or(&json!({})), &base_additions());
        if copy.get("base") != Some(&want_base) {
            problems.push(format!("{path}: `base` is not the original's plus {}", base_additions()));
        }
        let (ot, ct) = (tests_of(&original), tests_of(&copy));
        for name in ot.keys().filter(|n| !ct.contains_key(*n)) {
            problems.push(format!("{path}: test `{name}` is not copied"));
        }
        for name in ct.keys().filter(|n| !ot.contains_key(*n)) {
            problems.push(format!("{path}: test `{name}` is not in rules/{path} (new tests of the next rules go in tests/next.yaml)"));
        }
        for (name, want) in &ot {
            let adjusted = ADJUSTED.iter().any(|(f, n, _)| format!("tests/{f}") == *path && n == name);
            match ct.get(name) {
                Some(got) if !adjusted && got != want => {
                    problems.push(format!("{path}: test `{name}` differs from the original (list it in ADJUSTED, saying why)"))
                }
                Some(got) if adjusted && got == want => {
                    problems.push(format!("{path}: test `{name}` is listed in ADJUSTED but is unchanged"))
                }
                _ => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_next_rules_load_and_their_tests_pass_and_exercise_every_rule() {
    let engine = cansend::Engine::from_dir(dir("examples/next-rules"))
        .unwrap_or_else(|e| panic!("{}", e.diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")));
    let report = cansend::check::run_tests(&engine, NOW);
    let failed: Vec<String> = report.results.iter().filter_map(|r| r.failure.as_ref().map(|f| format!("{}: {f}", r.name))).collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert!(report.unfired_rules.is_empty(), "rules no test made fire: {:?}", report.unfired_rules);
    assert!(report.unused_exceptions.is_empty(), "exceptions no test applied: {:?}", report.unused_exceptions);
}
