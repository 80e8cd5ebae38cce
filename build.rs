//! Embeds the built-in default rules (`src/builtin/rules/`) and `schemas/`
//! (the schemas the loader enforces) into the binary, so `cansend` runs
//! with no files at hand and always checks rules against the schemas it was
//! built with; and the commit being built.
//!
//! The built-in rules are a snapshot of `rules/`, not `rules/` itself: the
//! rules an admin edits (and breaks, and adds scratch tenants to) in a
//! checkout are never what a binary ships, and editing them rebuilds
//! nothing. `scripts/builtin-rules.sh` takes the snapshot — only of rules
//! that `cansend check --strict` passes — and writes their revision to
//! `src/builtin/REVISION`. This build refuses a snapshot whose content is
//! not that revision (edited by hand, or half copied): a binary's built-in
//! rules are always a set that was checked.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn collect(dir: &Path, base: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(&path, base, out);
        } else if [".yaml", ".yml", ".toml", ".json"].iter().any(|x| name.ends_with(x)) {
            let rel = path.strip_prefix(base).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            out.push((rel, path));
        }
    }
}

fn table(name: &str, dir: &Path) -> String {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files = Vec::new();
    collect(dir, dir, &mut files);
    let mut s = format!("pub static {name}: &[(&str, &str)] = &[\n");
    for (rel, path) in files {
        println!("cargo:rerun-if-changed={}", path.display());
        let _ = writeln!(s, "    ({rel:?}, include_str!({:?})),", path.display().to_string());
    }
    s.push_str("];\n");
    s
}

/// The commit being built, for `cansend --version` and `cansend_build_info`:
/// `CANSEND_COMMIT` when set (a build without a git checkout, such as a
/// container build, passes it), else `git rev-parse`, else `unknown`.
fn commit(root: &Path) {
    println!("cargo:rerun-if-env-changed=CANSEND_COMMIT");
    let from_env = env::var("CANSEND_COMMIT").ok().filter(|c| !c.trim().is_empty());
    let git = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("git").args(args).current_dir(root).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let commit = from_env.or_else(|| git(&["rev-parse", "--short=12", "HEAD"])).unwrap_or_else(|| "unknown".into());
    // Rebuild when HEAD moves: the files git changes when it does.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        let dir = root.join(dir);
        println!("cargo:rerun-if-changed={}", dir.join("HEAD").display());
        if let Some(head) = fs::read_to_string(dir.join("HEAD")).ok().and_then(|h| h.strip_prefix("ref: ").map(|r| r.trim().to_owned())) {
            let common = git(&["rev-parse", "--git-common-dir"]).map_or_else(|| dir.clone(), |c| root.join(c));
            // Only paths that exist: cargo reruns a build script whose
            // watched path is missing on every build (a branch whose ref is
            // packed, a clone with no packed-refs).
            for path in [common.join(&head), common.join("packed-refs")] {
                if path.exists() {
                    println!("cargo:rerun-if-changed={}", path.display());
                }
            }
        }
    }
    println!("cargo:rustc-env=CANSEND_COMMIT={commit}");
}

/// The revision of rule files as `cansend` computes it (`rules::revision`):
/// SHA-256 over each path and text, in path order, lengths first.
fn revision(files: &[(String, PathBuf)]) -> Result<String, String> {
    use sha2::Digest;
    let mut rule_files: Vec<(&String, String)> = Vec::new();
    for (rel, path) in files.iter().filter(|(rel, _)| [".yaml", ".yml", ".toml"].iter().any(|x| rel.ends_with(x))) {
        rule_files.push((rel, fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?));
    }
    rule_files.sort_by(|a, b| a.0.cmp(b.0));
    let mut h = sha2::Sha256::new();
    for (rel, text) in rule_files {
        h.update((rel.len() as u64).to_le_bytes());
        h.update(rel.as_bytes());
        h.update((text.len() as u64).to_le_bytes());
        h.update(text.as_bytes());
    }
    Ok(format!("sha256:{:x}", h.finalize()))
}

/// The built-in rules' content must be the revision that was checked.
fn check_builtin(root: &Path) -> Result<(), String> {
    let dir = root.join("src/builtin/rules");
    let mut files = Vec::new();
    collect(&dir, &dir, &mut files);
    let stamp = root.join("src/builtin/REVISION");
    println!("cargo:rerun-if-changed={}", stamp.display());
    let checked = fs::read_to_string(&stamp).map_err(|e| format!("{}: {e}", stamp.display()))?;
    let actual = revision(&files)?;
    if checked.trim() == actual {
        Ok(())
    } else {
        Err(format!(
            "the built-in rules in src/builtin/rules/ are revision {actual}, but src/builtin/REVISION says {} was checked: \
             they were changed by hand. Take them from rules/ with `scripts/builtin-rules.sh`, which checks them first \
             (`cansend check --strict rules/`) and prints their diagnostics if they do not pass.",
            checked.trim()
        ))
    }
}

#[expect(clippy::panic, reason = "a build script reports failure by panicking: the build stops with the message")]
fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let out = PathBuf::from(env::var("OUT_DIR").unwrap_or_else(|_| ".".into()));
    commit(&root);
    if let Err(e) = check_builtin(&root) {
        panic!("{e}");
    }
    let code = table("RULES", &root.join("src/builtin/rules")) + &table("SCHEMAS", &root.join("schemas"));
    if let Err(e) = fs::write(out.join("embedded.rs"), code) {
        panic!("writing embedded.rs: {e}");
    }
}
