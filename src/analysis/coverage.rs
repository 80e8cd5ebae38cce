//! Condition coverage: for each leaf of each rule and exception, whether
//! the rule tests saw it true and saw it false.
//!
//! The tests run with explanations; a trace records every leaf evaluated
//! and its result. A leaf that no request can make true (or false) with
//! the tenants the rule files define — `channel.connected: true` in an
//! exception, when no tenant disconnects that channel — cannot be shown by
//! a test: the analysis proves so (the leaf's result is impossible where
//! it is evaluated, for every tenant as defined) and such a result is left
//! out of what coverage requires, and said.
//!
//! This is the one module that reads the engine's explanations.

use std::collections::HashMap;

use serde::Serialize;

use crate::engine::decision::Outcome;
use crate::engine::model::Cond;
use crate::facade::Engine;
use crate::request::CanSendRequest;

use super::logic::{Formula, Lit, leaves, nnf, text_of};
use super::prove::{Prover, Tenants, Verdict};

/// One leaf of a condition and what the tests saw of it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LeafCoverage {
    /// The leaf as written: `tenant.tags_required eq true`.
    pub text: String,
    /// `rule tags-required` or `exception email-exception`.
    pub owner: String,
    /// The rule fired (the exception applied) in some test.
    pub owner_exercised: bool,
    /// The file of the rule or exception, relative to the rules directory.
    pub file: String,
    /// The line of the rule or exception.
    pub line: u32,
    /// Some test evaluated the leaf and found it true.
    pub seen_true: bool,
    /// Some test evaluated the leaf and found it false.
    pub seen_false: bool,
    /// No request can give the leaf this result where it is evaluated,
    /// with the tenants as defined: no test can show it.
    pub never_true: bool,
    /// No request can make the leaf false where it is evaluated.
    pub never_false: bool,
}

impl LeafCoverage {
    /// Every result a request can give was seen.
    pub fn covered(&self) -> bool {
        (self.seen_true || self.never_true) && (self.seen_false || self.never_false)
    }

    /// Whether some request can evaluate the leaf at all.
    pub fn reachable(&self) -> bool {
        !(self.never_true && self.never_false)
    }
}

/// What the rule tests exercised.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Coverage {
    /// Rules in the set.
    pub rules: usize,
    /// Of those, rules some test made fire.
    pub rules_fired: usize,
    /// Exceptions in the set.
    pub exceptions: usize,
    /// Of those, exceptions some test saw carve a rule out.
    pub exceptions_applied: usize,
    /// Every leaf of every rule, then of every exception, in order.
    pub leaves: Vec<LeafCoverage>,
}

impl Coverage {
    /// Rules fired and exceptions applied, in percent of all.
    pub fn rule_percent(&self) -> f64 {
        percent(self.rules_fired + self.exceptions_applied, self.rules + self.exceptions)
    }

    /// Leaves covered, in percent of the leaves some request can reach.
    pub fn leaf_percent(&self) -> f64 {
        let reachable = self.leaves.iter().filter(|l| l.reachable()).count();
        percent(self.leaves.iter().filter(|l| l.reachable() && l.covered()).count(), reachable)
    }
}

impl Coverage {
    /// The leaf coverage as `cansend check` prints it: a summary, each
    /// leaf result the tests missed, and a note for each no test can show.
    pub fn report(&self) -> Vec<String> {
        let covered = self.leaves.iter().filter(|l| l.reachable() && l.covered()).count();
        let reachable = self.leaves.iter().filter(|l| l.reachable()).count();
        let mut out = vec![format!(
            "leaf coverage: {covered}/{reachable} condition leaves seen true and false in some test ({:.1} %)",
            self.leaf_percent()
        )];
        for l in self.leaves.iter().filter(|l| !l.covered()) {
            let missed = |seen: bool, never: bool| !seen && !never;
            let what = match (missed(l.seen_true, l.never_true), missed(l.seen_false, l.never_false)) {
                (true, true) => "was never evaluated",
                (true, false) => "was never true",
                _ => "was never false",
            };
            let did = match (l.owner.starts_with("exception"), l.owner_exercised) {
                (true, true) => "applied in tests",
                (true, false) => "never applied in tests",
                (false, true) => "fired in tests",
                (false, false) => "never fired in tests",
            };
            out.push(format!("  {} {did}, but `{}` {what}", l.owner, l.text));
        }
        for l in &self.leaves {
            let (t, f) = (l.never_true && !l.seen_true, l.never_false && !l.seen_false);
            let v = match (t, f) {
                (true, true) => "evaluated",
                (false, true) => "false",
                (true, false) => "true",
                (false, false) => continue,
            };
            out.push(format!("  note: {}: `{}` cannot be {v} with the tenants defined, so no test can show it", l.owner, l.text));
        }
        out
    }
}

fn percent(n: usize, of: usize) -> f64 {
    if of == 0 { 100.0 } else { n as f64 * 100.0 / of as f64 }
}

/// Run the rule tests of `engine` (at `now` when a test gives no `at`) and
/// gather what they exercised.
pub fn coverage(engine: &Engine, now: i64) -> Coverage {
    let rs = engine.rules();
    let mut index: HashMap<u32, usize> = HashMap::new();
    let mut out = Coverage { rules: rs.rules.len(), exceptions: rs.exceptions.len(), ..Coverage::default() };
    // For each leaf, in order: its text index and its owner (a rule, or not).
    let mut owners: Vec<(u32, bool, u32)> = Vec::new();
    let mut add = |out: &mut Coverage, c: &Cond, owner: String, file: u32, line: u32, (is_rule, i): (bool, u32)| {
        let mut ls = Vec::new();
        leaves(c, &mut ls);
        for l in ls {
            let Some(t) = text_of(l) else { continue };
            index.insert(t, out.leaves.len());
            owners.push((t, is_rule, i));
            out.leaves.push(LeafCoverage {
                text: rs.leaves.get(t as usize).map(|x| x.text.to_string()).unwrap_or_default(),
                owner: owner.clone(),
                owner_exercised: false,
                file: rs.file_path(file).to_owned(),
                line,
                seen_true: false,
                seen_false: false,
                never_true: false,
                never_false: false,
            });
        }
    };
    for (i, r) in rs.rules.iter().enumerate() {
        add(&mut out, &r.cond, format!("rule {}", r.id), r.file, r.line, (true, i as u32));
    }
    for (i, x) in rs.exceptions.iter().enumerate() {
        add(&mut out, &x.cond, format!("exception {}", x.id), x.file, x.line, (false, i as u32));
    }
    let mut fired = vec![false; rs.rules.len()];
    let mut applied = vec![false; rs.exceptions.len()];
    for t in engine.tests() {
        // A test whose request does not decode or bind fails in `check`; it sees nothing.
        let Ok(request) = CanSendRequest::from_json(&t.request) else { continue };
        let Ok(ev) = engine.evaluate(&request, now, true) else { continue };
        let Some(trace) = ev.decision.trace else { continue };
        for l in &trace.leaves {
            if let Some(c) = index.get(&l.leaf).and_then(|i| out.leaves.get_mut(*i)) {
                if l.result { c.seen_true = true } else { c.seen_false = true }
            }
        }
        for e in &trace.entries {
            match e.outcome {
                Outcome::Fired => fired.get_mut(e.rule as usize).into_iter().for_each(|f| *f = true),
                Outcome::Exempted(x) => applied.get_mut(x as usize).into_iter().for_each(|a| *a = true),
                Outcome::NotFired => {}
            }
        }
    }
    out.rules_fired = fired.iter().filter(|f| **f).count();
    out.exceptions_applied = applied.iter().filter(|a| **a).count();
    let p = Prover::new(rs);
    for (leaf, (t, is_rule, i)) in out.leaves.iter_mut().zip(owners) {
        leaf.owner_exercised = if is_rule { fired.get(i as usize) } else { applied.get(i as usize) }.copied().unwrap_or(false);
        // Only what the tests missed is worth proving impossible.
        if !leaf.seen_true {
            leaf.never_true = unreachable(&p, t, true);
        }
        if !leaf.seen_false {
            leaf.never_false = unreachable(&p, t, false);
        }
    }
    out
}

/// The exceptions that carved a rule out in the decision of `request` (for
/// the analysis' own tests: this module is the one that reads traces).
#[cfg(test)]
pub(super) fn exempting(engine: &Engine, request: &CanSendRequest) -> Vec<u32> {
    let decided = engine.evaluate(request, super::generate::BASE_AT, true);
    let trace = decided.ok().and_then(|ev| ev.decision.trace).unwrap_or_default();
    trace.entries.iter().filter_map(|e| if let Outcome::Exempted(x) = e.outcome { Some(x) } else { None }).collect()
}

/// Whether no request, with the tenants as defined, evaluates leaf `text`
/// with result `result`.
fn unreachable(p: &Prover<'_>, text: u32, result: bool) -> bool {
    let rs = p.rs;
    for r in &rs.rules {
        if let Some(f) = path(&r.cond, text, result, Vec::new()) {
            if p.decide(&f, r.per_attachment, Tenants::Actual) != Verdict::Impossible {
                return false;
            }
            return true;
        }
    }
    for (xi, x) in rs.exceptions.iter().enumerate() {
        let Some(inner) = path(&x.cond, text, result, Vec::new()) else { continue };
        // Evaluated for a rule it overrides whose condition holds, once
        // the rule's earlier exceptions have not applied.
        for r in x.overrides.iter().filter_map(|r| rs.rules.get(*r as usize)) {
            let mut all = vec![nnf(&r.cond, true)];
            for e in r.exceptions.iter().take_while(|e| **e as usize != xi) {
                if let Some(earlier) = rs.exceptions.get(*e as usize) {
                    all.push(nnf(&earlier.cond, false));
                }
            }
            all.push(inner.clone());
            if p.decide(&Formula::And(all), r.per_attachment, Tenants::Actual) != Verdict::Impossible {
                return false;
            }
        }
        return true;
    }
    false
}

/// "Leaf `text` of `c` is evaluated, with result `result`": the members
/// before it in each `all` held, in each `any` did not.
fn path<'a>(c: &'a Cond, text: u32, result: bool, mut before: Vec<Formula<'a>>) -> Option<Formula<'a>> {
    match c {
        Cond::All(cs) | Cond::Any(cs) => {
            let all = matches!(c, Cond::All(_));
            for (i, inner) in cs.iter().enumerate() {
                let mut prefix = before.clone();
                prefix.extend(cs.iter().take(i).map(|p| nnf(p, all)));
                if let Some(f) = path(inner, text, result, prefix) {
                    return Some(f);
                }
            }
            None
        }
        Cond::Not(inner) => path(inner, text, result, before),
        leaf if text_of(leaf) == Some(text) => {
            before.push(Formula::Lit(Lit { leaf, positive: result }));
            Some(Formula::And(before))
        }
        _ => None,
    }
}
