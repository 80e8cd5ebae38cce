//! The rules built into the binary are a checked snapshot of `rules/`
//! (`src/builtin/rules/`, taken by `scripts/builtin-rules.sh`): the same
//! files, a set that loads and whose rule tests pass, and the revision the
//! build checks against.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

use std::collections::BTreeMap;
use std::path::Path;

fn files(dir: &Path) -> BTreeMap<String, String> {
    let (files, errors) = cansend::internals::read_dir(dir);
    assert!(errors.is_empty(), "{}: {errors:?}", dir.display());
    files.into_iter().map(|f| (f.path, f.text)).collect()
}

#[test]
fn the_builtin_rules_are_rules_as_committed_and_checked() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shipped = files(&root.join("rules"));
    let builtin: BTreeMap<String, String> = cansend::builtin_rules().into_iter().map(|f| (f.path, f.text)).collect();
    let differ: Vec<&String> = shipped.keys().chain(builtin.keys()).filter(|p| shipped.get(*p) != builtin.get(*p)).collect();
    assert!(
        differ.is_empty(),
        "the built-in rules differ from rules/ in {differ:?}: run scripts/builtin-rules.sh (it checks rules/ first) and commit src/builtin/"
    );
    let engine = cansend::Engine::builtin().expect("the built-in rules load");
    let stamp = std::fs::read_to_string(root.join("src/builtin/REVISION")).unwrap();
    assert_eq!(engine.revision(), stamp.trim(), "the revision the build checked is the one that loads");
    let report = cansend::check::run_tests(&engine, cansend::now_ms());
    assert_eq!(report.failed(), 0, "{:#?}", report.results.iter().filter(|r| r.failure.is_some()).collect::<Vec<_>>());
    assert!(report.passed() > 50);
}
