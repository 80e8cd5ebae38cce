//! What admins write, and turning it into a [`RuleSet`](crate::engine::model::RuleSet).
//!
//! ```text
//! rules dir ─source─▶ files ─yaml/toml─▶ JSON tree + locator ─schema─▶ checked
//!           ─compile─▶ RuleSet (names resolved, types checked, tenants layered)
//! ```
//!
//! Nothing here evaluates a request, and nothing in `engine` reads a file.

pub mod compile;
pub mod diag;
pub mod load;
pub mod locate;
pub mod schema;
pub mod source;
pub mod syntax;
mod toml;
mod yaml;

use std::path::Path;

pub use compile::{Compiled, LoadError};
pub use diag::Diagnostic;
pub use source::SourceFile;

/// Read and compile the rule directory `dir`.
pub fn load_dir(dir: &Path, now: i64) -> Result<Compiled, LoadError> {
    let (files, errors) = source::read_dir(dir);
    let errors = errors.into_iter().map(|e| Diagnostic::error(&e.path, diag::Pos::UNKNOWN, e.message)).collect();
    compile::compile(&files, errors, now)
}

/// Compile the default rules built into the binary.
pub fn load_builtin(now: i64) -> Result<Compiled, LoadError> {
    compile::compile(&source::builtin(), Vec::new(), now)
}

/// Compile rule files held in memory (tests, validation of candidates).
pub fn load_sources(files: &[SourceFile], now: i64) -> Result<Compiled, LoadError> {
    compile::compile(files, Vec::new(), now)
}
