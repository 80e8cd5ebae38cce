//! What admins write, and turning it into a [`RuleSet`](crate::engine::model::RuleSet).
//!
//! ```text
//! rules dir ─read─▶ files ─yaml/toml─▶ JSON tree + locator ─schema─▶ checked
//!           ─compile─▶ RuleSet (names resolved, types checked, tenants layered)
//! ```
//!
//! [`read`] is the one way files come in (a directory, the built-in
//! rules, or files in memory) and [`revision`] the one content hash;
//! [`compile::compile`] the one way they become a rule set. Nothing here
//! evaluates a request, and nothing in `engine` reads a file.

pub mod compile;
pub mod diag;
pub mod edit;
pub mod load;
pub mod locate;
pub mod schema;
pub mod source;
pub mod syntax;
mod toml;
mod yaml;

use std::path::PathBuf;

pub use compile::{Compiled, LoadError, RuleTest};
pub use diag::Diagnostic;
pub use source::SourceFile;

/// Where a rule set comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A directory, read (and, when served, watched) from disk.
    Dir(PathBuf),
    /// The rules built into the binary (never change).
    Builtin,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Dir(d) => write!(f, "{}", d.display()),
            Source::Builtin => f.write_str("(built-in rules)"),
        }
    }
}

/// What one read of a source found: the files, what could not be read,
/// and the [`revision`] of both.
#[derive(Debug, Clone)]
pub struct Read {
    /// Every rule file read, sorted by path.
    pub files: Vec<SourceFile>,
    /// Entries that could not be read (a dangling link, a file too large).
    pub errors: Vec<Diagnostic>,
    /// The content hash of `files` (and of `errors`, when there are any).
    pub revision: String,
}

impl Read {
    /// Files held in memory, as a read would have found them.
    pub fn files(mut files: Vec<SourceFile>) -> Self {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Self::with_errors(files, Vec::new())
    }

    /// Files and the errors of reading them.
    pub fn with_errors(files: Vec<SourceFile>, errors: Vec<Diagnostic>) -> Self {
        let revision = revision(&files, &errors);
        Self { files, errors, revision }
    }
}

/// Read every rule file of `source`.
pub fn read(source: &Source) -> Read {
    match source {
        Source::Builtin => Read::files(source::builtin()),
        Source::Dir(d) => {
            let (files, errors) = source::read_dir(d);
            let errors = errors.into_iter().map(|e| Diagnostic::error(&e.path, diag::Pos::UNKNOWN, e.message)).collect();
            Read::with_errors(files, errors)
        }
    }
}

/// Compile what a read found. Compiling reads no clock: the same files give
/// the same rule set at any time (an override's expiry is data, judged at
/// the instant of each request).
pub fn compile(read: &Read) -> Result<Compiled, LoadError> {
    compile::compile(&read.files, read.errors.clone())
}

/// The revision of a set of files: SHA-256 over every path and content, in
/// path order, so the same files give the same revision on every replica.
/// When some entries could not be read, their errors are hashed in too, so
/// a set rejected for an unreadable file never carries the revision of the
/// set still serving.
pub fn revision(files: &[SourceFile], errors: &[Diagnostic]) -> String {
    use sha2::Digest;
    let mut sorted: Vec<&SourceFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut h = sha2::Sha256::new();
    for f in sorted {
        h.update((f.path.len() as u64).to_le_bytes());
        h.update(f.path.as_bytes());
        h.update((f.text.len() as u64).to_le_bytes());
        h.update(f.text.as_bytes());
    }
    if !errors.is_empty() {
        let files = h.finalize();
        h = sha2::Sha256::new();
        h.update(format!("sha256:{files:x}").as_bytes());
        for e in errors {
            h.update((e.file.len() as u64).to_le_bytes());
            h.update(e.file.as_bytes());
            h.update((e.message.len() as u64).to_le_bytes());
            h.update(e.message.as_bytes());
        }
    }
    format!("sha256:{:x}", h.finalize())
}
