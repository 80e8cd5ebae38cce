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
//! - A link to a directory that contains it (`tenants/loop -> .`) is a
//!   loop: reported once, at the link, and not followed. A link to nothing
//!   is reported as dangling, naming its target.
//! - Entries are visited in name order, so a walk is the same on every
//!   replica and file system.
//! - Sizes are bounded before anything is parsed.
//! - A read is one consistent view: files read while the directory was
//!   being swapped (a ConfigMap update, a git-sync commit) are read again
//!   (see [`read_dir`]).

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
pub const MAX_DIR_DEPTH: usize = 16;

/// One rule file's contents, with its path relative to the rules directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the rules directory, `/`-separated.
    pub path: String,
    /// The file's text.
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

/// How many times [`read_dir`] reads a directory that changes under it
/// before it gives up until the next change.
pub const READ_ATTEMPTS: usize = 8;

/// Read every rule file under `dir`, sorted by relative path: one
/// consistent view of it.
///
/// Unreadable, oversized, non-UTF-8 or escaping files come back as
/// [`ReadError`]s beside the files that were read, so one load reports them
/// all. A missing directory is a single error.
///
/// The files are read between two [`fingerprint`]s, and kept only when
/// both are the same. A directory published by swapping a symlink (a
/// ConfigMap's `..data`, git-sync's link to a worktree) is otherwise read
/// half before and half after a swap: through `..data`, each file resolves
/// to whichever version is current when it is opened, so a read can mix
/// two versions without any error; through git-sync's link, the old
/// worktree is removed right after the swap, under a read that resolved
/// the link before it. A changed fingerprint means such a swap (or any
/// write) happened during the read: read again, up to [`READ_ATTEMPTS`]
/// times; a directory that never holds still that long is one error
/// (nothing is loaded from it; the change that moved it triggers the next
/// reload).
pub fn read_dir(dir: &Path) -> (Vec<SourceFile>, Vec<ReadError>) {
    let mut before = fingerprint(dir);
    for _ in 0..READ_ATTEMPTS {
        let read = read_dir_once(dir);
        let after = fingerprint(dir);
        if after == before {
            return read;
        }
        before = after;
    }
    let message = format!("the rules directory changed during each of {READ_ATTEMPTS} reads; nothing was loaded from it");
    (Vec::new(), vec![ReadError { path: ".".into(), message }])
}

/// One read of `dir`, which may race changes: see [`read_dir`].
fn read_dir_once(dir: &Path) -> (Vec<SourceFile>, Vec<ReadError>) {
    let mut files = Vec::new();
    let mut total = 0u64;
    let mut errors = walk(dir, &mut |rel, real| {
        if files.len() >= MAX_FILES {
            return Err(format!("more than {MAX_FILES} rule files"));
        }
        let text = read_one(real)?;
        total += text.len() as u64;
        if total > MAX_TOTAL_BYTES {
            return Err(format!("rule set larger than {MAX_TOTAL_BYTES} bytes in total"));
        }
        files.push(SourceFile { path: rel.to_owned(), text });
        Ok(())
    });
    files.sort_by(|a, b| a.path.cmp(&b.path));
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    (files, errors)
}

/// A cheap fingerprint of the rule files under `dir` — paths, sizes,
/// modification times, inodes — without reading them; and of the directory
/// itself. The watcher polls it where file events are not delivered.
pub fn fingerprint(dir: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut entries: Vec<(String, u64, i128, u64)> = Vec::new();
    let errors = walk(dir, &mut |rel, real| {
        let meta = fs::metadata(real).map_err(|e| e.to_string())?;
        let mtime = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos() as i128);
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let ino = 0;
        entries.push((rel.to_owned(), meta.len(), mtime, ino));
        Ok(())
    });
    entries.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    entries.hash(&mut h);
    errors.iter().map(|e| (&e.path, &e.message)).collect::<Vec<_>>().hash(&mut h);
    #[cfg(unix)]
    if let Ok(meta) = fs::metadata(dir) {
        std::os::unix::fs::MetadataExt::ino(&meta).hash(&mut h);
    }
    h.finish()
}

/// Visit every rule file under `dir` (relative path, resolved path), with
/// the rules above: hidden entries skipped, links that escape refused.
/// Errors of the walk and of `visit` are collected per file.
fn walk(dir: &Path, visit: &mut dyn FnMut(&str, &Path) -> Result<(), String>) -> Vec<ReadError> {
    let mut errors = Vec::new();
    match dir.canonicalize() {
        Ok(root) => {
            let mut open = vec![(root.clone(), String::new())];
            let mut seen = std::collections::HashMap::from([(root.clone(), String::new())]);
            let mut walk = Walk { root: &root, open: &mut open, seen: &mut seen, visit, errors: &mut errors };
            walk.dir(&root, "");
        }
        // Relative to the rules directory, the directory itself is ".".
        Err(e) => errors.push(ReadError { path: ".".into(), message: format!("cannot open the rules directory: {e}") }),
    }
    errors
}

/// One walk of a rules directory.
struct Walk<'a> {
    root: &'a Path,
    /// The directories being walked, outermost first, each resolved and
    /// with its relative path: a link back to one of them is a loop.
    open: &'a mut Vec<(PathBuf, String)>,
    /// Every directory read so far (resolved → relative path): one reached
    /// again through another link is not read twice, so links cannot
    /// multiply the work (`a -> ../d`, `b -> ../d`, sixteen levels deep).
    seen: &'a mut std::collections::HashMap<PathBuf, String>,
    visit: &'a mut dyn FnMut(&str, &Path) -> Result<(), String>,
    errors: &'a mut Vec<ReadError>,
}

impl Walk<'_> {
    /// Walk `dir` (`rel` below the root).
    fn dir(&mut self, dir: &Path, rel: &str) {
        let root = self.root;
        let mut entries: Vec<fs::DirEntry> = match fs::read_dir(dir) {
            Ok(e) => e.flatten().collect(),
            Err(e) => {
                self.errors.push(ReadError { path: display(rel), message: format!("cannot list directory: {e}") });
                return;
            }
        };
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
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
                        let message = match fs::read_link(&path) {
                            Ok(target) if !path.exists() => {
                                format!("dangling symbolic link → {}: its target does not exist", target.display())
                            }
                            _ => format!("cannot resolve: {e}"),
                        };
                        self.errors.push(ReadError { path: rel_path, message });
                    }
                    continue;
                }
            };
            if !real.starts_with(root) {
                if is_rule_file(&name) || real.is_dir() {
                    self.errors.push(ReadError {
                        path: rel_path,
                        message: format!("points outside the rules directory (to {}); rule files must stay inside it", real.display()),
                    });
                }
                continue;
            }
            if real.is_dir() {
                if let Some((_, again)) = self.open.iter().find(|(d, _)| *d == real) {
                    self.errors.push(ReadError {
                        path: rel_path,
                        message: format!(
                            "symbolic link loop: this leads back to `{}`, which contains it; not followed (each directory is read once)",
                            display(again)
                        ),
                    });
                } else if let Some(first) = self.seen.get(&real) {
                    self.errors.push(ReadError {
                        path: rel_path,
                        message: format!(
                            "leads to `{}`, which was read already; not read twice (each directory is read once)",
                            display(first)
                        ),
                    });
                } else if self.open.len() > MAX_DIR_DEPTH {
                    self.errors.push(ReadError { path: rel_path, message: format!("directories nested deeper than {MAX_DIR_DEPTH}") });
                } else {
                    self.seen.insert(real.clone(), rel_path.clone());
                    self.open.push((real.clone(), rel_path.clone()));
                    self.dir(&real, &rel_path);
                    self.open.pop();
                }
                continue;
            }
            if !is_rule_file(&name) {
                continue;
            }
            if let Err(message) = (self.visit)(&rel_path, &real) {
                self.errors.push(ReadError { path: rel_path, message });
            }
        }
    }
}

fn read_one(path: &Path) -> Result<String, String> {
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

    #[cfg(unix)]
    #[test]
    fn a_link_loop_is_reported_once_and_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("tenants")).unwrap();
        fs::write(dir.path().join("tenants/a.yaml"), "kind: tenant").unwrap();
        std::os::unix::fs::symlink(".", dir.path().join("tenants/loop")).unwrap();
        std::os::unix::fs::symlink("..", dir.path().join("tenants/up")).unwrap();
        let (files, errors) = read_dir(dir.path());
        let names: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(names, ["tenants/a.yaml"]);
        let got: Vec<(&str, bool)> = errors.iter().map(|e| (e.path.as_str(), e.message.contains("symbolic link loop"))).collect();
        assert_eq!(got, [("tenants/loop", true), ("tenants/up", true)], "{errors:?}");
        assert!(errors[0].message.contains("back to `tenants`") && errors[1].message.contains("back to `.`"), "{errors:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_link_names_its_target() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("missing.yaml", dir.path().join("extra.yaml")).unwrap();
        let (files, errors) = read_dir(dir.path());
        assert!(files.is_empty());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].path, "extra.yaml");
        assert!(errors[0].message.starts_with("dangling symbolic link → missing.yaml"), "{errors:?}");
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

#[cfg(test)]
#[cfg(unix)]
mod swap_tests {
    //! Reads racing atomic swaps of the whole tree, in the two layouts that
    //! publish rules by a symlink swap.
    use super::*;
    use std::os::unix::fs::symlink;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Two versions of a small set: every file differs between them, so a
    /// read that mixes them is seen.
    fn version(dir: &Path, v: usize) {
        fs::create_dir_all(dir.join("tenants")).unwrap();
        for i in 0..8 {
            fs::write(dir.join(format!("f{i}.yaml")), format!("kind: tests\n# version {v}\n")).unwrap();
            fs::write(dir.join(format!("tenants/t{i}.yaml")), format!("kind: tenant\n# version {v}\n")).unwrap();
        }
    }

    /// `Some(v)` when every file of the read is of version `v` and all 16
    /// are there; `None` for anything else (a mix, a file missing, errors).
    fn whole(read: &(Vec<SourceFile>, Vec<ReadError>)) -> Option<usize> {
        let (files, errors) = read;
        if !errors.is_empty() || files.len() != 16 {
            return None;
        }
        let v = |f: &SourceFile| f.text.split("# version ").nth(1).and_then(|r| r.trim().parse::<usize>().ok());
        let first = files.first().and_then(v)?;
        files.iter().all(|f| v(f) == Some(first)).then_some(first)
    }

    /// Each file's version (`?` when unreadable), and the errors.
    fn summary((files, errors): &(Vec<SourceFile>, Vec<ReadError>)) -> String {
        let versions: Vec<&str> = files.iter().map(|f| f.text.split("# version ").nth(1).map_or("?", str::trim)).collect();
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        format!("versions {versions:?}, errors {errors:?}")
    }

    /// Swap `publish` (one atomic publication of version `v`) in a loop
    /// on another thread while reading `read_at`; every read must be one
    /// whole version, and both versions must have been read.
    fn reads_are_whole(read_at: &Path, publish: impl Fn(usize) + Send + 'static) {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let swapper = std::thread::spawn(move || {
            let mut v = 1;
            while !flag.load(Ordering::Relaxed) {
                v += 1;
                publish(v);
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        });
        let mut seen = std::collections::BTreeSet::new();
        let mut bad = Vec::new();
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(2) || seen.len() < 2 {
            let read = read_dir(read_at);
            match whole(&read) {
                Some(v) => {
                    seen.insert(v % 2);
                }
                // Nothing at all is all-or-nothing too (a directory that
                // never held still for a read; rare).
                None if read.0.is_empty() && read.1.len() == 1 && read.1.iter().all(|e| e.message.contains("changed during each")) => {}
                None => bad.push(summary(&read)),
            }
            if start.elapsed() > std::time::Duration::from_secs(30) {
                break;
            }
        }
        stop.store(true, Ordering::Relaxed);
        swapper.join().unwrap();
        assert!(bad.is_empty(), "{} reads were not one whole version; the first: {:?}", bad.len(), bad.first());
        assert_eq!(seen.len(), 2, "both versions were read");
    }

    /// git-sync: `root/.worktrees/<hash>` per commit, `root/current` a
    /// relative link to it, replaced by renaming a new link over it, and
    /// the old worktree removed at once.
    #[test]
    fn reads_through_a_git_sync_link_see_one_commit() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path().to_owned();
        let publish = move |v: usize| {
            let hash = format!("{v:040x}");
            version(&r.join(".worktrees").join(&hash).join("rules"), v);
            let old = fs::read_link(r.join("current")).ok();
            symlink(Path::new(".worktrees").join(&hash), r.join("tmp-link")).unwrap();
            fs::rename(r.join("tmp-link"), r.join("current")).unwrap();
            if let Some(old) = old {
                fs::remove_dir_all(r.join(old)).unwrap();
            }
        };
        publish(1);
        let at = root.path().join("current/rules");
        reads_are_whole(&at, publish);
    }

    /// A ConfigMap volume: visible names are links through `..data`, a link
    /// to a timestamped directory that an update replaces.
    #[test]
    fn reads_of_a_configmap_volume_see_one_update() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path().to_owned();
        let publish = move |v: usize| {
            let name = format!("..2026_11_24_10_00_00.{v}");
            version(&r.join(&name), v);
            let old = fs::read_link(r.join("..data")).ok();
            symlink(&name, r.join("..data_tmp")).unwrap();
            fs::rename(r.join("..data_tmp"), r.join("..data")).unwrap();
            if let Some(old) = old {
                fs::remove_dir_all(r.join(old)).unwrap();
            }
        };
        publish(1);
        for i in 0..8 {
            symlink(format!("..data/f{i}.yaml"), root.path().join(format!("f{i}.yaml"))).unwrap();
        }
        symlink("..data/tenants", root.path().join("tenants")).unwrap();
        reads_are_whole(root.path(), publish);
    }
}
