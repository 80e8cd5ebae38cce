//! The fuzz targets' logic over their committed seed corpus, as a plain
//! test: a cheap regression net that runs without cargo-fuzz or libFuzzer.
//!
//! `fuzz/src/lib.rs` holds the target bodies (decode, decide, load, and the
//! invariants they assert); it is included here as a module, so this test
//! and `cargo fuzz run <target>` check exactly the same things. Every file
//! under `fuzz/seeds/<target>/` is one input — including the minimized
//! inputs of bugs the fuzzers found, kept as regressions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

#[path = "../fuzz/src/lib.rs"]
mod targets;

use std::path::{Path, PathBuf};

fn seeds(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).expect("the seed directory").flatten().map(|e| e.path()).collect();
    files.sort();
    assert!(files.len() >= 10, "{}: a seed corpus, not {} files", dir.display(), files.len());
    files
}

fn run(target: &str, f: fn(&[u8])) {
    for path in seeds(target) {
        let data = std::fs::read(&path).expect("a seed");
        if let Err(panic) = std::panic::catch_unwind(|| f(&data)) {
            let why = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
            panic!("{target} fails on {}: {}", path.display(), why.unwrap_or_default());
        }
    }
}

#[test]
fn request_seeds() {
    run("request", targets::request);
}

#[test]
fn rule_file_seeds() {
    run("rule_file", targets::rule_file);
}

#[test]
fn http_seeds() {
    run("http", targets::http);
}

/// The seeds of the built-in files select the file they are a copy of
/// (`fuzz/gen_seeds.py` computes the selector byte from the sorted paths).
#[test]
fn rule_file_seeds_select_their_file() {
    for f in cansend::builtin_rules() {
        let stem = f.path.rsplit_once('.').map_or(f.path.as_str(), |(s, _)| s).replace('/', "-");
        let ext = f.path.rsplit_once('.').map_or("", |(_, e)| e);
        let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fuzz/seeds/rule_file/builtin-{stem}.{ext}"));
        let data = std::fs::read(&seed).unwrap_or_else(|e| panic!("{}: {e}", seed.display()));
        assert_eq!(data.first().copied(), targets::selector_for(&f.path), "{}", seed.display());
        let (files, path) = targets::overlay(data[0], String::from_utf8_lossy(&data[1..]).into_owned());
        assert_eq!(path, f.path);
        assert_eq!(files.iter().find(|g| g.path == f.path).map(|g| &g.text), Some(&f.text), "the seed is the file");
    }
}
