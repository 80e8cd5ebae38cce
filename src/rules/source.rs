//! Reading a rules directory: which files count, and what may not escape it.
//!
//! - `.yaml`, `.yml` and `.toml` files count, in every subdirectory; other
//!   files (a README, editor backups) are ignored.
//! - Names starting with `.` are skipped. That is what makes Kubernetes
//!   ConfigMap mounts load once: the visible `rules/x.yaml` is a symlink into
//!   `..data/`, and `..data` / `..2026_…` are hidden, so each file is read
//!   through its visible link only.
//! - Symlinks are followed only when their target stays inside the rules
//!   directory (after resolving every link), so a rule file cannot reach
//!   `/etc/passwd`.
//! - Sizes are bounded before anything is parsed.

use std::fs;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Largest rule file accepted.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Most rule files in one set (a tenant per file, so this is generous).
pub const MAX_FILES: usize = 100_000;
/// Largest rule set in total.
pub const MAX_TOTAL_BYTES: u64 = 256 * 1024 * 1024;
/// Deepest directory nesting followed.
const MAX_DIR_DEPTH: usize = 16;

/// One rule file's contents, with its path relative to the rules directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

/// A file that could not be read, with why; reported as a diagnostic.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{path}: {message}")]
pub struct ReadError {
    pub path: String,
    pub message: String,
}

/// Whether a path names a rule file by its extension.
pub fn is_rule_file(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".toml")
}

/// Read every rule file under `dir`, sorted by relative path.
///
/// Unreadable, oversized, non-UTF-8 or escaping files come back as
/// [`ReadError`]s beside the files that were read, so one load reports them
/// all. A missing directory is a single error.
pub fn read_dir(dir: &Path) -> (Vec<SourceFile>, Vec<ReadError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let root = match dir.canonicalize() {
        Ok(r) => r,
        Err(e) => {
            errors.push(ReadError { path: dir.display().to_string(), message: format!("cannot open the rules directory: {e}") });
            return (files, errors);
        }
    };
    let mut total = 0u64;
    walk(&root, &root, "", 0, &mut files, &mut errors, &mut total);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    (files, errors)
}

fn walk(root: &Path, dir: &Path, rel: &str, depth: usize, files: &mut Vec<SourceFile>, errors: &mut Vec<ReadError>, total: &mut u64) {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(ReadError { path: display(rel), message: format!("cannot list directory: {e}") });
            return;
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let rel_path = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
        let path = entry.path();
        // Resolve links, and refuse anything that lands outside the root.
        let real = match path.canonicalize() {
            Ok(r) => r,
            Err(e) => {
                if is_rule_file(&name) {
                    errors.push(ReadError { path: rel_path, message: format!("cannot resolve: {e}") });
                }
                continue;
            }
        };
        if !real.starts_with(root) {
            if is_rule_file(&name) || real.is_dir() {
                errors.push(ReadError {
                    path: rel_path,
                    message: format!("points outside the rules directory (to {}); rule files must stay inside it", real.display()),
                });
            }
            continue;
        }
        if real.is_dir() {
            if depth >= MAX_DIR_DEPTH {
                errors.push(ReadError { path: rel_path, message: format!("directories nested deeper than {MAX_DIR_DEPTH}") });
            } else {
                walk(root, &real, &rel_path, depth + 1, files, errors, total);
            }
            continue;
        }
        if !is_rule_file(&name) {
            continue;
        }
        if files.len() >= MAX_FILES {
            errors.push(ReadError { path: rel_path, message: format!("more than {MAX_FILES} rule files") });
            return;
        }
        match read_one(&real) {
            Ok(text) => {
                *total += text.len() as u64;
                if *total > MAX_TOTAL_BYTES {
                    errors.push(ReadError { path: rel_path, message: format!("rule set larger than {MAX_TOTAL_BYTES} bytes in total") });
                    return;
                }
                files.push(SourceFile { path: rel_path, text });
            }
            Err(message) => errors.push(ReadError { path: rel_path, message }),
        }
    }
}

fn read_one(path: &PathBuf) -> Result<String, String> {
    let meta = fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!("file is {} bytes; rule files are limited to {MAX_FILE_BYTES} bytes", meta.len()));
    }
    let bytes = fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("file is {} bytes; rule files are limited to {MAX_FILE_BYTES} bytes", bytes.len()));
    }
    String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))
}

fn display(rel: &str) -> String {
    if rel.is_empty() { ".".into() } else { rel.into() }
}

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// The default rules built into the binary (the repository's `rules/`).
pub fn builtin() -> Vec<SourceFile> {
    embedded::RULES.iter().filter(|(p, _)| is_rule_file(p)).map(|(p, t)| SourceFile { path: (*p).into(), text: (*t).into() }).collect()
}

/// The JSON Schemas built into the binary (the repository's `schemas/`).
pub fn builtin_schemas() -> &'static [(&'static str, &'static str)] {
    embedded::SCHEMAS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sorted_and_skips_hidden_and_foreign() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("b.yaml"), "kind: tests").unwrap();
        fs::write(dir.path().join("a.toml"), "kind = 'x'").unwrap();
        fs::write(dir.path().join("README.md"), "hi").unwrap();
        fs::create_dir(dir.path().join("..data")).unwrap();
        fs::write(dir.path().join("..data/c.yaml"), "x").unwrap();
        let (files, errors) = read_dir(dir.path());
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(names, ["a.toml", "b.yaml"]);
    }

    #[cfg(unix)]
    #[test]
    fn refuses_links_that_escape() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret.yaml"), "x: 1").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.yaml"), dir.path().join("evil.yaml")).unwrap();
        let (files, errors) = read_dir(dir.path());
        assert!(files.is_empty());
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("outside the rules directory"), "{errors:?}");
    }

    #[test]
    fn refuses_oversized_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("big.yaml"), "#".repeat(MAX_FILE_BYTES as usize + 1)).unwrap();
        let (files, errors) = read_dir(dir.path());
        assert!(files.is_empty());
        assert!(errors[0].message.contains("limited to"), "{errors:?}");
    }

    #[test]
    fn builtin_rules_are_embedded() {
        assert!(!builtin().is_empty());
        assert!(builtin_schemas().iter().any(|(p, _)| p.ends_with(".schema.json")));
    }
}
