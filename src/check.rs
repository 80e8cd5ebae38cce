//! Running the rule tests that sit beside the rules, and rule coverage.
//!
//! A test passes when `allowed` matches and, where given, the set of
//! violation codes (and of rule ids) matches exactly, order aside. A test
//! that no longer makes sense for the rules — its request names a tenant
//! that was deleted, it expects a code no rule set declares, two tests of a
//! file share a name — fails here, with why; it never stops the rules from
//! loading or serving. Coverage lists the rules no test made fire and the
//! exceptions no test applied.

use std::collections::{BTreeSet, HashMap};

use crate::engine::decision::Outcome;
use crate::facade::Engine;
use crate::request::CanSendRequest;
use crate::rules::RuleTest;
use crate::text::hint::{did_you_mean, one_of};

/// The outcome of one rule test.
#[derive(Debug, Clone)]
pub struct TestResult {
    /// The test's name.
    pub name: String,
    /// Its file, relative to the rules directory, and where in it.
    pub file: String,
    /// Line of the test in its file.
    pub line: u32,
    /// Column of the test in its file.
    pub column: u32,
    /// `None` when it passed; otherwise what differed.
    pub failure: Option<String>,
    /// When it failed after deciding: why the decision was what it was —
    /// each rule that fired or was exempted, and each rule whose code the
    /// test expected, with the conditions it evaluated and the values they
    /// compared (`file:line rule result: condition → result (values)`).
    pub trace: Vec<String>,
}

/// All tests run, and what they covered.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// One per test, in file order.
    pub results: Vec<TestResult>,
    /// Rules that no test made fire.
    pub unfired_rules: Vec<String>,
    /// Exceptions that no test applied.
    pub unused_exceptions: Vec<String>,
    /// Rules in the set.
    pub rules_total: usize,
}

impl Report {
    /// Tests that failed.
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| r.failure.is_some()).count()
    }
    /// Tests that passed.
    pub fn passed(&self) -> usize {
        self.results.len() - self.failed()
    }
}

/// Run every rule test of `engine`; `now` is the instant for tests without `at`.
pub fn run_tests(engine: &Engine, now: i64) -> Report {
    let rs = engine.rules();
    let mut fired = vec![false; rs.rules.len()];
    let mut applied = vec![false; rs.exceptions.len()];
    let mut results = Vec::with_capacity(engine.tests().len());
    let mut names: HashMap<(&str, &str), u32> = HashMap::new();
    for t in engine.tests() {
        let (failure, trace) = match names.insert((&t.file, &t.name), t.line) {
            Some(line) => (Some(format!("two tests named `{}` in this file (the other at line {line})", t.name)), Vec::new()),
            None => run_one(engine, t, now, &mut fired, &mut applied),
        };
        results.push(TestResult { name: t.name.clone(), file: t.file.clone(), line: t.line, column: t.column, failure, trace });
    }
    Report {
        results,
        unfired_rules: rs.rules.iter().zip(&fired).filter(|(_, f)| !**f).map(|(r, _)| r.id.to_string()).collect(),
        unused_exceptions: rs.exceptions.iter().zip(&applied).filter(|(_, a)| !**a).map(|(e, _)| e.id.to_string()).collect(),
        rules_total: rs.rules.len(),
    }
}

/// What a test expects that these rules cannot produce: a code or a rule
/// they do not declare, `allowed` with violations.
fn expectations(engine: &Engine, t: &RuleTest) -> Vec<String> {
    let rs = engine.rules();
    let mut problems = Vec::new();
    if t.expect.allowed && t.expect.codes.as_ref().is_some_and(|c| !c.is_empty()) {
        problems.push("a test cannot expect `allowed: true` and violation codes".to_owned());
    }
    for code in t.expect.codes.iter().flatten() {
        if !rs.code_index.contains_key(code.as_str()) {
            let hint = did_you_mean(code, rs.codes.iter().map(|c| &*c.name)).unwrap_or_else(|| one_of(rs.codes.iter().map(|c| &*c.name)));
            problems.push(format!("it expects the unknown code `{code}` ({hint})"));
        }
    }
    let ids = || rs.rules.iter().map(|r| &*r.id).chain(rs.exceptions.iter().map(|x| &*x.id));
    for rule in t.expect.rules.iter().flatten() {
        if !ids().any(|id| id == rule) {
            let hint = did_you_mean(rule, ids()).map(|h| format!(" ({h})")).unwrap_or_default();
            problems.push(format!("it expects the unknown rule `{rule}`{hint}"));
        }
    }
    problems
}

/// The explanation of a failed test's decision (see [`TestResult::trace`]).
fn why(body: &crate::render::Answer<'_>, expected: &BTreeSet<&str>, engine: &Engine) -> Vec<String> {
    let code_of: HashMap<&str, &str> = engine.catalog().rules().filter_map(|r| Some((r.id, r.code?))).collect();
    let mut out = Vec::new();
    for step in body.trace.iter().flatten() {
        let relevant = step.result != "not_fired" || code_of.get(step.rule).is_some_and(|c| expected.contains(c));
        if !relevant {
            continue;
        }
        let on = step.pointer.as_deref().map(|p| format!(" for {p}")).unwrap_or_default();
        let by = step.exempted_by.map(|x| format!(" by exception {x}")).unwrap_or_default();
        out.push(format!("{}:{} rule {}{on} {}{by}", step.file, step.line, step.rule, step.result.replace('_', " ")));
        out.extend(step.conditions.iter().map(|c| format!("    {c}")));
    }
    out
}

fn run_one(engine: &Engine, t: &RuleTest, now: i64, fired: &mut [bool], applied: &mut [bool]) -> (Option<String>, Vec<String>) {
    let (failure, trace) = decide_one(engine, t, now, fired, applied);
    (failure, trace.unwrap_or_default())
}

fn decide_one(engine: &Engine, t: &RuleTest, now: i64, fired: &mut [bool], applied: &mut [bool]) -> (Option<String>, Option<Vec<String>>) {
    let expected = expectations(engine, t);
    if !expected.is_empty() {
        return (Some(expected.join("; ")), None);
    }
    let decided = CanSendRequest::from_json(&t.request).map_err(|e| e.errors().to_vec()).and_then(|r| engine.evaluate(&r, now, true));
    let ev = match decided {
        Ok(ev) => ev,
        Err(errs) => {
            let errs = errs.iter().map(|e| format!("{}: {}", e.pointer, e.message)).collect::<Vec<_>>().join("; ");
            return (Some(format!("request does not decode: {errs}")), None);
        }
    };
    for e in ev.decision.trace.iter().flat_map(|t| &t.entries) {
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
    if let Some(fault) = engine.cross_check(&ev) {
        return (Some(fault), None);
    }
    let body = ev.answer();
    let codes: BTreeSet<&str> = body.violations.iter().map(|v| v.code).collect();
    let rules: BTreeSet<&str> = body.violations.iter().map(|v| v.rule).collect();
    let mut problems = Vec::new();
    if body.allowed != t.expect.allowed {
        problems.push(format!("expected allowed: {}, got allowed: {}", t.expect.allowed, body.allowed));
    }
    if let Some(want) = &t.expect.codes {
        let want: BTreeSet<&str> = want.iter().map(String::as_str).collect();
        if want != codes {
            problems.push(format!("expected codes {want:?}, got {codes:?}"));
        }
    } else if t.expect.allowed && !codes.is_empty() {
        problems.push(format!("got codes {codes:?}"));
    }
    if let Some(want) = &t.expect.rules {
        let want: BTreeSet<&str> = want.iter().map(String::as_str).collect();
        if want != rules {
            problems.push(format!("expected rules {want:?}, got {rules:?}"));
        }
    }
    if problems.is_empty() {
        return (None, None);
    }
    let expected: BTreeSet<&str> = t.expect.codes.iter().flatten().map(String::as_str).collect();
    (Some(problems.join("; ")), Some(why(&body, &expected, engine)))
}
