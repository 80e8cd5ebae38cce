//! Running the rule tests that sit beside the rules, and rule coverage.
//!
//! A test passes when `allowed` matches and, where given, the set of
//! violation codes (and of rule ids) matches exactly, order aside. Coverage
//! lists the rules no test made fire and the exceptions no test applied.

use std::collections::BTreeSet;

use crate::decision::Outcome;
use crate::engine::eval::evaluate;
use crate::engine::model::{RuleSet, RuleTest};
use crate::request;

/// The outcome of one rule test.
#[derive(Debug, Clone)]
pub struct TestResult {
    pub name: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
    /// `None` when it passed; otherwise what differed.
    pub failure: Option<String>,
}

/// All tests run, and what they covered.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub results: Vec<TestResult>,
    /// Rules that no test made fire.
    pub unfired_rules: Vec<String>,
    /// Exceptions that no test applied.
    pub unused_exceptions: Vec<String>,
    pub rules_total: usize,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| r.failure.is_some()).count()
    }
    pub fn passed(&self) -> usize {
        self.results.len() - self.failed()
    }
}

/// Run every rule test of `rs`; `now` is the instant for tests without `at`.
pub fn run_tests(rs: &RuleSet, now: i64) -> Report {
    let mut fired = vec![false; rs.rules.len()];
    let mut applied = vec![false; rs.exceptions.len()];
    let mut results = Vec::with_capacity(rs.tests.len());
    for t in &rs.tests {
        let failure = run_one(rs, t, now, &mut fired, &mut applied);
        results.push(TestResult {
            name: t.name.to_string(),
            file: rs.file_path(t.file).to_owned(),
            line: t.line,
            column: t.column,
            failure,
        });
    }
    Report {
        results,
        unfired_rules: rs.rules.iter().zip(&fired).filter(|(_, f)| !**f).map(|(r, _)| r.id.to_string()).collect(),
        unused_exceptions: rs.exceptions.iter().zip(&applied).filter(|(_, a)| !**a).map(|(e, _)| e.id.to_string()).collect(),
        rules_total: rs.rules.len(),
    }
}

fn run_one(rs: &RuleSet, t: &RuleTest, now: i64, fired: &mut [bool], applied: &mut [bool]) -> Option<String> {
    let input = match request::parse(rs, &t.request, now) {
        Ok(i) => i,
        Err(errs) => {
            return Some(format!(
                "request does not decode: {}",
                errs.iter().map(|e| format!("{}: {}", e.pointer, e.message)).collect::<Vec<_>>().join("; ")
            ));
        }
    };
    let d = evaluate(rs, &input, true);
    for e in d.trace.iter().flat_map(|t| &t.entries) {
        match e.outcome {
            Outcome::Fired => {
                if let Some(f) = fired.get_mut(e.rule as usize) {
                    *f = true;
                }
            }
            Outcome::Exempted(x) => {
                if let Some(a) = applied.get_mut(x as usize) {
                    *a = true;
                }
            }
            Outcome::NotFired => {}
        }
    }
    // The service decides by the compiled plans (folded for the channel;
    // as written, with a trace): a rule test holds both to the reference
    // interpreter's answer.
    let plain = evaluate(rs, &input, false);
    let reference = crate::engine::evaluate_as_written(rs, &input, crate::engine::Scope::All, false);
    if plain.violations != reference.violations || d.violations != reference.violations {
        return Some(format!(
            "engine fault: the compiled plans decided {:?} (explained: {:?}), the rules as interpreted {:?} (please report this)",
            plain.violations, d.violations, reference.violations
        ));
    }
    let body = crate::decision::render(rs, &input, &d);
    let codes: BTreeSet<&str> = body.violations.iter().map(|v| v.code.as_str()).collect();
    let rules: BTreeSet<&str> = body.violations.iter().map(|v| v.rule.as_str()).collect();
    let mut problems = Vec::new();
    if body.allowed != t.expect_allowed {
        problems.push(format!("expected allowed: {}, got allowed: {}", t.expect_allowed, body.allowed));
    }
    if let Some(want) = &t.expect_codes {
        let want: BTreeSet<&str> = want.iter().map(String::as_str).collect();
        if want != codes {
            problems.push(format!("expected codes {want:?}, got {codes:?}"));
        }
    } else if t.expect_allowed && !codes.is_empty() {
        problems.push(format!("got codes {codes:?}"));
    }
    if let Some(want) = &t.expect_rules {
        let want: BTreeSet<&str> = want.iter().map(String::as_str).collect();
        if want != rules {
            problems.push(format!("expected rules {want:?}, got {rules:?}"));
        }
    }
    if problems.is_empty() { None } else { Some(problems.join("; ")) }
}
