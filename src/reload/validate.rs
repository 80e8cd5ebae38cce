//! Trying candidate rule files without applying them (`POST
//! /v1/rules/validate`): the files a reload would read now, with some
//! replaced, added or deleted in memory, loaded as a reload would load
//! them, their rule tests run, and their [`Impact`] on the recent requests
//! measured against the revision serving — and on requests generated from
//! both sets' conditions ([`analysis::generated_impact`]), which shows what
//! no recent request exercised.
//!
//! Nothing here writes a file or touches what serves: the candidate is
//! compiled into a rule set of its own and dropped after the report.
//!
//! Candidate paths are names inside the rules directory, as the loader
//! would list them: relative, `/`-separated, no `.` or `..` segment, no
//! hidden segment (the loader skips those), a rule file's extension.
//! Nothing is ever opened by such a path — the overlay is in memory — but
//! a path the loader could never produce would make a report about files
//! that cannot exist (rule files cannot reach outside the rules directory).

use std::collections::BTreeMap;

use crate::analysis::{self, GeneratedImpact};
use crate::check::{self, Report};
use crate::facade::Engine;
use crate::impact::{self, Impact};
use crate::rules::diag::Pos;
use crate::rules::source::{self, MAX_DIR_DEPTH, MAX_FILE_BYTES, MAX_FILES, MAX_TOTAL_BYTES};
use crate::rules::{self, Diagnostic, SourceFile};
use crate::text::hint::did_you_mean;

use super::Live;

/// Longest candidate path, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;

/// A candidate path that is not acceptable, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct BadPath {
    /// The path as given.
    pub path: String,
    /// Why it is refused.
    pub message: String,
}

/// What the candidate does to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileChange {
    /// A new file.
    Added,
    /// A file with new text.
    Changed,
    /// A file removed.
    Deleted,
    /// The candidate's text is the file's text already.
    Unchanged,
}

/// A candidate that loaded.
#[derive(Debug)]
pub struct Loaded {
    /// Its warnings.
    pub warnings: Vec<Diagnostic>,
    /// Its rule tests, run.
    pub tests: Report,
    /// The recent requests decided by the serving revision and by it.
    pub impact: Impact,
    /// Requests generated from both sets' conditions, decided by both.
    pub generated_impact: GeneratedImpact,
}

/// The report on a candidate.
#[derive(Debug)]
pub struct Validation {
    /// The revision serving now.
    pub serving: String,
    /// The revision of the files the candidate was laid over (the files a
    /// reload would read now; the serving revision unless a newer edit was
    /// rejected).
    pub base: String,
    /// The revision the candidate would have.
    pub candidate: String,
    /// Each file the candidate names, in the order given.
    pub files: Vec<(String, FileChange)>,
    /// The loaded candidate, or every error of its load.
    pub result: Result<Loaded, Vec<Diagnostic>>,
}

/// Whether `path` may name a candidate rule file.
pub fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("an empty path".into());
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(format!("longer than {MAX_PATH_BYTES} bytes"));
    }
    if path.starts_with('/') {
        return Err("an absolute path; name the file relative to the rules directory (`tenants/acme.yaml`)".into());
    }
    if path.contains('\\') {
        return Err("a `\\` in the path; separate directories with `/`".into());
    }
    if path.chars().any(char::is_control) {
        return Err("a control character in the path".into());
    }
    let segments: Vec<&str> = path.split('/').collect();
    for seg in &segments {
        match *seg {
            "" => return Err("an empty segment (`//`, or a trailing `/`)".into()),
            "." | ".." => return Err(format!("a `{seg}` segment; rule files cannot reach outside the rules directory")),
            s if s.starts_with('.') => {
                return Err(format!("`{s}` starts with `.`: the loader skips hidden names, so the file would never be read"));
            }
            _ => {}
        }
    }
    if segments.len() > MAX_DIR_DEPTH + 1 {
        return Err(format!("directories nested deeper than {MAX_DIR_DEPTH}"));
    }
    if !source::is_rule_file(path) {
        return Err("not a rule file: only `.yaml`, `.yml` and `.toml` files are read".into());
    }
    Ok(())
}

/// Files with a candidate laid over them.
#[derive(Debug)]
pub struct Overlaid {
    /// The whole candidate set, sorted by path.
    pub files: Vec<SourceFile>,
    /// What the candidate did to each file it names, in its order.
    pub changes: Vec<(String, FileChange)>,
}

/// Lay `overlay` (path → new text, or `None` to delete) over `base`. Every
/// unacceptable path or text is reported, not only the first.
pub fn apply(base: Vec<SourceFile>, overlay: &[(String, Option<String>)]) -> Result<Overlaid, Vec<BadPath>> {
    let mut bad = Vec::new();
    let mut err = |path: &str, message: String| bad.push(BadPath { path: path.to_owned(), message });
    if overlay.len() > MAX_FILES {
        err("", format!("more than {MAX_FILES} files"));
    }
    let mut files: BTreeMap<String, String> = base.into_iter().map(|f| (f.path, f.text)).collect();
    let mut changes = Vec::with_capacity(overlay.len());
    for (path, text) in overlay {
        if let Err(m) = check_path(path) {
            err(path, m);
            continue;
        }
        let change = match (text, files.get(path)) {
            (Some(t), _) if t.len() as u64 > MAX_FILE_BYTES => {
                err(path, format!("{} bytes; rule files are limited to {MAX_FILE_BYTES} bytes", t.len()));
                continue;
            }
            (Some(t), Some(old)) if t == old => FileChange::Unchanged,
            (Some(_), Some(_)) => FileChange::Changed,
            (Some(_), None) => FileChange::Added,
            (None, Some(_)) => FileChange::Deleted,
            (None, None) => {
                let hint = did_you_mean(path, files.keys().map(String::as_str)).map(|h| format!("; {h}")).unwrap_or_default();
                err(path, format!("no such rule file to delete{hint}"));
                continue;
            }
        };
        match text {
            Some(t) => files.insert(path.clone(), t.clone()),
            None => files.remove(path),
        };
        changes.push((path.clone(), change));
    }
    if !bad.is_empty() {
        return Err(bad);
    }
    Ok(Overlaid { files: files.into_iter().map(|(path, text)| SourceFile { path, text }).collect(), changes })
}

impl Live {
    /// Load the files a reload would read now with `overlay` laid over
    /// them, and report (see the module docs). Reads only; `Err` when a
    /// candidate path or text is not acceptable.
    pub fn validate(&self, overlay: &[(String, Option<String>)]) -> Result<Validation, Vec<BadPath>> {
        let rules::Read { files: base, mut errors, revision: base_revision } = rules::read(&self.source);
        let Overlaid { files, changes } = apply(base, overlay)?;
        // A file the candidate replaces or deletes has no read error any more.
        errors.retain(|d| !overlay.iter().any(|(p, _)| *p == d.file));
        let total: u64 = files.iter().map(|f| f.text.len() as u64).sum();
        if total > MAX_TOTAL_BYTES {
            errors.push(Diagnostic::error(".", Pos::UNKNOWN, format!("rule set larger than {MAX_TOTAL_BYTES} bytes in total")));
        }
        let read = rules::Read::with_errors(files, errors);
        let candidate = read.revision.clone();
        let serving = self.current();
        let now = crate::now_ms();
        let result = match Engine::load(&read) {
            Err(e) => Err(e.diagnostics),
            Ok(engine) => {
                let tests = check::run_tests(&engine, now);
                let impact = impact::compare(&serving.engine, &engine, &self.recent.snapshot());
                let generated_impact = analysis::generated_impact(&serving.engine, &engine);
                Ok(Loaded { warnings: engine.warnings().to_vec(), tests, impact, generated_impact })
            }
        };
        Ok(Validation { serving: serving.engine.revision().to_owned(), base: base_revision, candidate, files: changes, result })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_and_are_rule_files() {
        for ok in ["a.yaml", "tenants/acme.yaml", "x/y/z.toml", "b.yml", "with space.yaml", "ünï.yaml"] {
            assert_eq!(check_path(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd.yaml",
            "../x.yaml",
            "tenants/../../x.yaml",
            "./a.yaml",
            "a//b.yaml",
            "a/",
            ".hidden.yaml",
            "..data/a.yaml",
            "a\\b.yaml",
            "a\u{0}.yaml",
            "README.md",
            "a.yaml.bak",
        ] {
            assert!(check_path(bad).is_err(), "{bad:?}");
        }
        let deep = format!("{}x.yaml", "d/".repeat(MAX_DIR_DEPTH + 1));
        assert!(check_path(&deep).is_err());
        assert!(check_path(&format!("{}.yaml", "a".repeat(MAX_PATH_BYTES))).is_err());
    }

    fn file(path: &str, text: &str) -> SourceFile {
        SourceFile { path: path.into(), text: text.into() }
    }

    #[test]
    fn overlay_adds_changes_and_deletes() {
        let base = vec![file("a.yaml", "1"), file("b.yaml", "2"), file("c.yaml", "3")];
        let overlay = [
            ("b.yaml".to_owned(), Some("two".to_owned())),
            ("c.yaml".to_owned(), None),
            ("d/e.yaml".to_owned(), Some("4".to_owned())),
            ("a.yaml".to_owned(), Some("1".to_owned())),
        ];
        let Overlaid { files, changes } = apply(base, &overlay).unwrap_or_else(|e| panic!("{e:?}"));
        let shown: Vec<(&str, &str)> = files.iter().map(|f| (&*f.path, &*f.text)).collect();
        assert_eq!(shown, [("a.yaml", "1"), ("b.yaml", "two"), ("d/e.yaml", "4")]);
        let kinds: Vec<FileChange> = changes.iter().map(|c| c.1).collect();
        assert_eq!(kinds, [FileChange::Changed, FileChange::Deleted, FileChange::Added, FileChange::Unchanged]);
    }

    #[test]
    fn every_bad_entry_is_reported() {
        let base = vec![file("tenants/acme.yaml", "1")];
        let overlay = [
            ("../x.yaml".to_owned(), Some(String::new())),
            ("tenants/acme.yml".to_owned(), None),
            ("big.yaml".to_owned(), Some("#".repeat(MAX_FILE_BYTES as usize + 1))),
        ];
        let bad = apply(base, &overlay).err().unwrap_or_default();
        assert_eq!(bad.iter().map(|b| &*b.path).collect::<Vec<_>>(), ["../x.yaml", "tenants/acme.yml", "big.yaml"]);
        assert!(bad.get(1).is_some_and(|b| b.message.contains("tenants/acme.yaml")), "a hint at the file meant: {bad:?}");
    }
}
