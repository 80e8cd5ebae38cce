//! Findings about rules and exceptions: a rule that can never fire, an
//! exception that can never apply (at all, or to a rule it overrides), a
//! rule whose every firing another rule with the same code repeats.
//!
//! Each is a formula shown impossible over every world
//! ([`super::prove`]) — for any tenant the settings' bounds allow, not
//! only the tenants defined now: a rule that only a tenant could make fire
//! (`channel.connected: false` with every channel connected today) is not
//! dead. A formula too large to decide gives a note, never a finding.

use crate::engine::model::RuleSet;

use super::logic::{Formula, does_not_fire, fires, nnf};
use super::prove::{Prover, Tenants, Verdict};
use super::{Finding, FindingKind};

/// What the analysis of one rule found: can it fire at all?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fires {
    Yes,
    Never,
    Unknown,
}

pub(super) fn rules_and_exceptions(rs: &RuleSet) -> Vec<Finding> {
    let p = &Prover::new(rs);
    let mut out = Vec::new();
    let mut can_fire = Vec::with_capacity(rs.rules.len());
    for (i, r) in rs.rules.iter().enumerate() {
        let i = i as u32;
        let state = match p.decide(&fires(rs, i), r.per_attachment, Tenants::Possible) {
            Verdict::Possible => Fires::Yes,
            Verdict::Impossible => {
                out.push(rule_finding(rs, i, FindingKind::NeverFires, never_fires(p, i)));
                Fires::Never
            }
            Verdict::TooLarge => {
                let msg = format!("rule `{}` was not analysed: its condition has too many cases", r.id);
                out.push(rule_finding(rs, i, FindingKind::NotAnalysed, msg));
                Fires::Unknown
            }
            Verdict::Unknown => Fires::Unknown,
        };
        can_fire.push(state);
    }
    exceptions(p, &can_fire, &mut out);
    redundant(p, &can_fire, &mut out);
    if p.exhausted() {
        // Said once, at the first rule.
        let mut note = rule_finding(rs, 0, FindingKind::NotAnalysed, String::new());
        note.subject = "analysis".into();
        note.message = "the analysis stopped at its budget: some rules and exceptions were not analysed, or not compared".into();
        note.allowed = false;
        out.push(note);
    }
    out
}

fn rule_finding(rs: &RuleSet, rule: u32, kind: FindingKind, message: String) -> Finding {
    let r = rs.rules.get(rule as usize);
    let allowed = rs.declared.rules.get(rule as usize).is_some_and(|a| a.iter().any(|k| **k == *kind.name()));
    Finding {
        kind,
        file: r.map(|r| rs.file_path(r.file).to_owned()).unwrap_or_default(),
        line: r.map_or(0, |r| r.line),
        column: r.map_or(0, |r| r.column),
        subject: format!("rule {}", r.map(|r| &*r.id).unwrap_or("?")),
        message,
        allowed,
    }
}

fn exception_finding(rs: &RuleSet, exception: u32, kind: FindingKind, message: String) -> Finding {
    let x = rs.exceptions.get(exception as usize);
    let allowed = rs.declared.exceptions.get(exception as usize).is_some_and(|a| a.iter().any(|k| **k == *kind.name()));
    Finding {
        kind,
        file: x.map(|x| rs.file_path(x.file).to_owned()).unwrap_or_default(),
        line: x.map_or(0, |x| x.line),
        column: 1,
        subject: format!("exception {}", x.map(|x| &*x.id).unwrap_or("?")),
        message,
        allowed,
    }
}

/// Why rule `i` never fires: its condition, or its exceptions.
fn never_fires(p: &Prover<'_>, i: u32) -> String {
    let rs = p.rs;
    let Some(r) = rs.rules.get(i as usize) else { return String::new() };
    let cond = nnf(&r.cond, true);
    if p.decide(&cond, r.per_attachment, Tenants::Possible) == Verdict::Impossible {
        let why = reason(rs, &p.conflicts(&cond, r.per_attachment), r.per_attachment);
        return format!("rule `{}` can never fire: {why}", r.id);
    }
    // The condition can hold: some exception always does then.
    let alone: Vec<&str> = r
        .exceptions
        .iter()
        .filter_map(|e| rs.exceptions.get(*e as usize))
        .filter(|x| {
            p.decide(&Formula::And(vec![nnf(&r.cond, true), nnf(&x.cond, false)]), r.per_attachment, Tenants::Possible)
                == Verdict::Impossible
        })
        .map(|x| &*x.id)
        .collect();
    let names = |ids: Vec<&str>| ids.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>().join(", ");
    match alone.first() {
        Some(x) => format!("rule `{}` can never fire: whenever its condition holds, exception `{x}` applies", r.id),
        None => {
            let all: Vec<&str> = r.exceptions.iter().filter_map(|e| rs.exceptions.get(*e as usize)).map(|x| &*x.id).collect();
            format!("rule `{}` can never fire: whenever its condition holds, one of the exceptions {} applies", r.id, names(all))
        }
    }
}

/// The conflicts of each case, in an admin's words.
fn reason(rs: &RuleSet, cases: &[Vec<(u32, bool)>], per_attachment: bool) -> String {
    let shown = |(t, positive): &(u32, bool)| {
        let text = rs.leaves.get(*t as usize).map(|t| &*t.text).unwrap_or("?");
        if *positive { format!("`{text}`") } else { format!("not `{text}`") }
    };
    let one = |leaves: &Vec<(u32, bool)>| -> String {
        let mut s = match leaves.as_slice() {
            [] => "it holds for no request".to_owned(),
            [only] => format!("{} never holds", shown(only)),
            [a, b] => format!("{} and {} contradict each other", shown(a), shown(b)),
            many => {
                let parts: Vec<String> = many.iter().map(shown).collect();
                format!("{} cannot all hold", parts.join(", "))
            }
        };
        let counts = leaves.iter().any(|(t, _)| rs.leaves.get(*t as usize).is_some_and(|x| x.text.starts_with("message.attachments.")));
        if per_attachment && counts {
            s.push_str(" (`each: attachment` runs for an attachment, so there is at least one)");
        }
        s
    };
    match cases {
        [] => "no case of its condition can hold".to_owned(),
        [only] => one(only),
        many => {
            let parts: Vec<String> = many.iter().take(3).map(one).collect();
            let more = if many.len() > 3 { format!("; and {} more", many.len() - 3) } else { String::new() };
            format!("none of its {} alternatives can hold: {}{more}", many.len(), parts.join("; "))
        }
    }
}

/// Exceptions that can never apply, at all or to one of their rules.
fn exceptions(p: &Prover<'_>, can_fire: &[Fires], out: &mut Vec<Finding>) {
    let rs = p.rs;
    for (ei, x) in rs.exceptions.iter().enumerate() {
        let ei = ei as u32;
        let when = nnf(&x.cond, true);
        // Evaluated in the context of each rule it overrides.
        let contexts: Vec<bool> = x.overrides.iter().filter_map(|r| rs.rules.get(*r as usize)).map(|r| r.per_attachment).collect();
        let never = !contexts.is_empty() && contexts.iter().all(|pa| p.decide(&when, *pa, Tenants::Possible) == Verdict::Impossible);
        if never {
            let pa = contexts.first().copied().unwrap_or(false);
            let why = reason(rs, &p.conflicts(&when, pa), pa);
            out.push(exception_finding(rs, ei, FindingKind::NeverApplies, format!("exception `{}` can never apply: {why}", x.id)));
            continue;
        }
        for r in x.overrides.iter() {
            let Some(rule) = rs.rules.get(*r as usize) else { continue };
            if can_fire.get(*r as usize) == Some(&Fires::Never)
                && p.decide(&nnf(&rule.cond, true), rule.per_attachment, Tenants::Possible) == Verdict::Impossible
            {
                continue; // the rule is reported itself
            }
            let both = Formula::And(vec![nnf(&rule.cond, true), nnf(&x.cond, true)]);
            if p.decide(&both, rule.per_attachment, Tenants::Possible) == Verdict::Impossible {
                let why = reason(rs, &p.conflicts(&both, rule.per_attachment), rule.per_attachment);
                let msg = format!(
                    "exception `{}` never applies to rule `{}`: it cannot hold when the rule's condition does: {why}",
                    x.id, rule.id
                );
                out.push(exception_finding(rs, ei, FindingKind::NeverApplies, msg));
            }
        }
    }
}

/// Rules whose firings another rule with the same code always repeats.
fn redundant(p: &Prover<'_>, can_fire: &[Fires], out: &mut Vec<Finding>) {
    let rs = p.rs;
    let n = rs.rules.len();
    // implies[a][b]: whenever a fires, b fires (None: not decided).
    let mut implies: Vec<Vec<Option<bool>>> = vec![vec![None; n]; n];
    let mut check = |a: usize, b: usize| -> bool {
        if let Some(v) = implies.get(a).and_then(|row| row.get(b)).copied().flatten() {
            return v;
        }
        let (Some(ra), Some(rb)) = (rs.rules.get(a), rs.rules.get(b)) else { return false };
        // A rule run per attachment fires for one; a rule run once cannot
        // be said to repeat that for the same attachment.
        let comparable = ra.code == rb.code
            && a != b
            && can_fire.get(a) == Some(&Fires::Yes)
            && can_fire.get(b) == Some(&Fires::Yes)
            && (ra.per_attachment || !rb.per_attachment);
        let v = comparable && {
            let f = Formula::And(vec![fires(rs, a as u32), does_not_fire(rs, b as u32)]);
            p.decide(&f, ra.per_attachment, Tenants::Possible) == Verdict::Impossible
        };
        if let Some(slot) = implies.get_mut(a).and_then(|row| row.get_mut(b)) {
            *slot = Some(v);
        }
        v
    };
    for a in 0..n {
        // Of two rules that fire together, the later one is reported.
        let by = (0..n).find(|b| check(a, *b) && (*b < a || !check(*b, a)));
        let (Some(b), Some(ra)) = (by.and_then(|b| rs.rules.get(b)), rs.rules.get(a)) else { continue };
        let code = rs.codes.get(ra.code as usize).map(|c| &*c.name).unwrap_or("?");
        let msg = format!("rule `{}` is redundant: whenever it fires, rule `{}` fires too, with the same code `{code}`", ra.id, b.id);
        out.push(rule_finding(rs, a as u32, FindingKind::Redundant, msg));
    }
}
