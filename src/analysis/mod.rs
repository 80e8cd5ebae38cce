//! Static analysis of a rule set: what `cansend check` proves about the
//! rules beyond their tests, and what `cansend diff` shows about a change.
//!
//! - [`findings`]: rules that can never fire, exceptions that can never
//!   apply, rules another rule with the same code always repeats, codes,
//!   settings and attributes nothing uses, tenant overrides equal to the
//!   default. Each claim is exact: the condition language is small and
//!   typed and every field has a declared domain, so "can never fire" is
//!   proved over every request and every tenant the settings' bounds
//!   allow, case by case of the condition's normal form — and where that
//!   form would be too large, nothing is claimed.
//! - [`coverage`]: which leaves of which conditions the rule tests saw
//!   true and false.
//! - [`generated_impact`]: requests generated from the conditions of two
//!   rule sets, decided by both, the changes grouped by tenant and channel.
//!
//! Pure, like the engine: rule sets in ([`Engine`]s, read through
//! [`Engine::rules`] and decided through [`Engine::evaluate`]), reports out.

mod atoms;
mod coverage;
mod declared;
mod diff;
mod facts;
mod findings;
mod generate;
mod logic;
mod prove;
mod solve;
mod strs;
#[cfg(test)]
mod tests;
mod world;

use serde::Serialize;

use crate::facade::Engine;

pub use coverage::{Coverage, LeafCoverage, coverage};
pub use diff::{GeneratedGroup, GeneratedImpact, generated_impact};

/// What a finding says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A rule no request can make fire.
    NeverFires,
    /// An exception no request meets (or none its rule fires for).
    NeverApplies,
    /// Whenever this rule fires, another with the same code does.
    Redundant,
    /// A code, setting or attribute declared and never used.
    Unused,
    /// A tenant override equal to the value it replaces.
    SameAsDefault,
    /// A rule too large to analyse: a note, not a warning.
    NotAnalysed,
}

impl FindingKind {
    /// The name `allow_findings:` lists it by.
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::NeverFires => "never_fires",
            FindingKind::NeverApplies => "never_applies",
            FindingKind::Redundant => "redundant",
            FindingKind::Unused => "unused",
            FindingKind::SameAsDefault => "same_as_default",
            FindingKind::NotAnalysed => "not_analysed",
        }
    }

    /// A warning (what `check --strict` fails on), rather than a note.
    pub fn is_warning(self) -> bool {
        self != FindingKind::NotAnalysed
    }
}

/// One finding, located at what it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What it says.
    pub kind: FindingKind,
    /// The file, relative to the rules directory.
    pub file: String,
    /// The line of what it is about.
    pub line: u32,
    /// The column of what it is about.
    pub column: u32,
    /// `rule tags-required`, `setting tenant.timezone`, …
    pub subject: String,
    /// The reason, in an admin's words.
    pub message: String,
    /// Accepted by an `allow_findings` of what it is about.
    pub allowed: bool,
}

/// Every finding about the rules of `engine`, by file and line.
pub fn findings(engine: &Engine) -> Vec<Finding> {
    let rs = engine.rules();
    let mut out = findings::rules_and_exceptions(rs);
    out.extend(declared::declarations(rs));
    out.sort_by(|a, b| (&a.file, a.line, a.column, a.kind).cmp(&(&b.file, b.line, b.column, b.kind)));
    out
}
