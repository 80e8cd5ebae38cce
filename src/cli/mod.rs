//! The subcommands of the `cansend` binary, as library code with tests, so
//! the binary stays a thin parser of flags:
//!
//! - [`check`]: `cansend check [DIR]`, the rule tests, coverage and findings;
//! - [`eval`]: `cansend eval [FILE|-]`, one decision as the API answers it;
//! - [`diff`]: `cansend diff OLD NEW`, what a change of rules changes;
//! - [`status`]: `cansend status URL…`, what replicas serve;
//! - [`schemas`]: `cansend schemas [DIR] --out OUT`, JSON Schemas that know a rule set's names.
//!
//! With no rule directory given, `./rules` is used when there is one, else
//! the rules built into the binary (and `check` says so). Diagnostics name
//! files as seen from where the user pointed (`rules/eligibility.yaml:11:29`),
//! so editors and CI annotations open the right file.

pub mod check;
pub mod diff;
pub mod eval;
pub mod schemas;
pub mod status;

use std::path::{Path, PathBuf};

use crate::facade::Engine;
use crate::rules::LoadError;

/// `println!` that does not panic when standard output is a closed pipe
/// (`cansend eval … | head -3`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}
pub(crate) use outln;

/// The version `--version` prints: the crate's, the commit it was built
/// from and the version of the rule format it reads ([`crate::RULE_FORMAT`]).
pub const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("CANSEND_COMMIT"), ", rule format 1)");

/// `DIR` if given, else `./rules` if present, else `None`: the built-in rules.
pub fn choose(dir: Option<&Path>) -> Option<PathBuf> {
    match dir {
        Some(d) => Some(d.to_owned()),
        None if Path::new("rules").is_dir() => Some(PathBuf::from("rules")),
        None => None,
    }
}

/// Load the rules of `dir`, or the built-in rules.
pub fn load(dir: Option<&Path>) -> Result<Engine, LoadError> {
    match dir {
        Some(d) => Engine::from_dir(d),
        None => Engine::builtin(),
    }
}

/// Load, or print every diagnostic and say so: `Err` is the exit code (2).
pub fn load_or_report(dir: Option<&Path>) -> Result<Engine, std::process::ExitCode> {
    load(dir).map_err(|e| {
        for d in &e.diagnostics {
            eprintln!("{}", d.in_dir(dir));
        }
        eprintln!("error: the rules did not load ({} error(s))", e.diagnostics.iter().filter(|d| d.is_error()).count());
        std::process::ExitCode::from(2)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_long_version_names_the_rule_format() {
        assert!(super::LONG_VERSION.ends_with(&format!("rule format {})", crate::RULE_FORMAT)), "{}", super::LONG_VERSION);
    }
}

/// Where notes go: stderr, so that standard output stays one document.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    quiet: bool,
}

impl Output {
    /// Notes are left out when standard output is a machine's (`json`).
    pub fn new(machine: bool) -> Self {
        Self { quiet: machine }
    }

    /// A note for people, on stderr.
    pub fn note(&self, text: &str) {
        if !self.quiet || text.starts_with("error") {
            eprintln!("{text}");
        }
    }
}
