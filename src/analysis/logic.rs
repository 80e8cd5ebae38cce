//! Conditions as formulas: negations pushed to the leaves, then a bounded
//! disjunctive normal form — a list of cases, each a list of leaves with
//! the result each must have.
//!
//! Every formula the analysis asks about is built from the compiled
//! conditions: "this rule fires" is its `deny` and none of its exceptions'
//! `when`; "A fires but B does not" is the first and the negation of the
//! second. A formula whose normal form would pass [`CAP`] cases is not
//! analysed (its `any`s multiply): the analysis says so and claims nothing.

use crate::engine::model::{Cond, Field, Operand, RuleSet};

/// Most cases of a normal form.
pub(super) const CAP: usize = 512;
/// Most leaves in one case.
pub(super) const MAX_LEAVES: usize = 96;

/// A leaf of a condition and the result it must have.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lit<'a> {
    pub leaf: &'a Cond,
    pub positive: bool,
}

impl Lit<'_> {
    /// The leaf's text index (what explanations and coverage name it by).
    pub(super) fn text(&self) -> u32 {
        text_of(self.leaf).unwrap_or(u32::MAX)
    }
}

/// A condition with negations at its leaves.
#[derive(Debug, Clone)]
pub(super) enum Formula<'a> {
    Const(bool),
    Lit(Lit<'a>),
    And(Vec<Formula<'a>>),
    Or(Vec<Formula<'a>>),
}

/// `c`, or its negation, with negations pushed to the leaves.
pub(super) fn nnf(c: &Cond, positive: bool) -> Formula<'_> {
    match c {
        Cond::All(cs) if positive => Formula::And(cs.iter().map(|c| nnf(c, true)).collect()),
        Cond::All(cs) => Formula::Or(cs.iter().map(|c| nnf(c, false)).collect()),
        Cond::Any(cs) if positive => Formula::Or(cs.iter().map(|c| nnf(c, true)).collect()),
        Cond::Any(cs) => Formula::And(cs.iter().map(|c| nnf(c, false)).collect()),
        Cond::Not(c) => nnf(c, !positive),
        leaf => Formula::Lit(Lit { leaf, positive }),
    }
}

/// A case of a normal form: every leaf must have its result.
pub(super) type Case<'a> = Vec<Lit<'a>>;

/// The cases of `f` (its disjunctive normal form), or `None` past [`CAP`].
pub(super) fn dnf<'a>(f: &Formula<'a>) -> Option<Vec<Case<'a>>> {
    match f {
        Formula::Const(true) => Some(vec![Vec::new()]),
        Formula::Const(false) => Some(Vec::new()),
        Formula::Lit(l) => Some(vec![vec![*l]]),
        Formula::Or(fs) => {
            let mut out = Vec::new();
            for f in fs {
                out.extend(dnf(f)?);
                if out.len() > CAP {
                    return None;
                }
            }
            Some(out)
        }
        Formula::And(fs) => {
            let mut out: Vec<Case<'a>> = vec![Vec::new()];
            for f in fs {
                let cases = dnf(f)?;
                if out.len().saturating_mul(cases.len()) > CAP {
                    return None;
                }
                let mut next = Vec::with_capacity(out.len() * cases.len());
                for a in &out {
                    for b in &cases {
                        if a.len() + b.len() > MAX_LEAVES {
                            return None;
                        }
                        let mut c = a.clone();
                        c.extend_from_slice(b);
                        next.push(c);
                    }
                }
                out = next;
            }
            Some(out)
        }
    }
}

/// "Rule `rule` fires": its condition holds and none of its exceptions does.
pub(super) fn fires(rs: &RuleSet, rule: u32) -> Formula<'_> {
    let Some(r) = rs.rules.get(rule as usize) else { return Formula::Const(false) };
    let mut all = vec![nnf(&r.cond, true)];
    for e in r.exceptions.iter() {
        if let Some(x) = rs.exceptions.get(*e as usize) {
            all.push(nnf(&x.cond, false));
        }
    }
    Formula::And(all)
}

/// "Rule `rule` does not fire".
pub(super) fn does_not_fire(rs: &RuleSet, rule: u32) -> Formula<'_> {
    let Some(r) = rs.rules.get(rule as usize) else { return Formula::Const(true) };
    let mut any = vec![nnf(&r.cond, false)];
    for e in r.exceptions.iter() {
        if let Some(x) = rs.exceptions.get(*e as usize) {
            any.push(nnf(&x.cond, true));
        }
    }
    Formula::Or(any)
}

/// The text index of a leaf.
pub(super) fn text_of(c: &Cond) -> Option<u32> {
    match c {
        Cond::Cmp { text, .. }
        | Cond::Present { text, .. }
        | Cond::Blank { text, .. }
        | Cond::Empty { text, .. }
        | Cond::LocalTime { text, .. } => Some(*text),
        Cond::All(_) | Cond::Any(_) | Cond::Not(_) => None,
    }
}

/// Every field `c` reads, as the field of a leaf or as its operand.
pub(super) fn fields(c: &Cond, out: &mut Vec<Field>) {
    match c {
        Cond::All(cs) | Cond::Any(cs) => cs.iter().for_each(|c| fields(c, out)),
        Cond::Not(c) => fields(c, out),
        Cond::Cmp { field, rhs, .. } => {
            out.push(*field);
            if let Operand::Field(f) = rhs {
                out.push(*f);
            }
        }
        Cond::LocalTime { field, tz, .. } => {
            out.push(*field);
            if let Operand::Field(f) = tz {
                out.push(*f);
            }
        }
        Cond::Present { field, .. } | Cond::Blank { field, .. } | Cond::Empty { field, .. } => out.push(*field),
    }
}

/// Every leaf of `c`, in order.
pub(super) fn leaves<'a>(c: &'a Cond, out: &mut Vec<&'a Cond>) {
    match c {
        Cond::All(cs) | Cond::Any(cs) => cs.iter().for_each(|c| leaves(c, out)),
        Cond::Not(c) => leaves(c, out),
        leaf => out.push(leaf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::model::Op;
    use crate::engine::value::Value;

    fn leaf(text: u32) -> Cond {
        Cond::Cmp { field: Field::ClientBlocked, op: Op::Eq, rhs: Operand::Const(Value::Bool(true)), text }
    }

    #[test]
    fn negation_reaches_the_leaves_and_cases_multiply() {
        // not (a and (b or c)) = not a or (not b and not c)
        let c = Cond::Not(Box::new(Cond::All(vec![leaf(0), Cond::Any(vec![leaf(1), leaf(2)].into())].into())));
        let cases = dnf(&nnf(&c, true)).unwrap_or_default();
        let shown: Vec<Vec<(u32, bool)>> = cases.iter().map(|c| c.iter().map(|l| (l.text(), l.positive)).collect()).collect();
        assert_eq!(shown, [vec![(0, false)], vec![(1, false), (2, false)]]);
        // (a or b) and (c or d): four cases
        let c = Cond::All(vec![Cond::Any(vec![leaf(0), leaf(1)].into()), Cond::Any(vec![leaf(2), leaf(3)].into())].into());
        assert_eq!(dnf(&nnf(&c, true)).map(|c| c.len()), Some(4));
    }

    #[test]
    fn the_normal_form_is_bounded() {
        // Ten `any`s of two: 1024 cases, past the cap.
        let c = Cond::All((0..10).map(|i| Cond::Any(vec![leaf(2 * i), leaf(2 * i + 1)].into())).collect());
        assert!(dnf(&nnf(&c, true)).is_none());
        assert_eq!(dnf(&Formula::Const(false)).map(|c| c.len()), Some(0));
    }
}
