//! Building plans: partial evaluation for one channel (or none, for the
//! written plan), and specialised leaves.

use super::{Node, Plan, Step};
use crate::engine::eval::Ctx;
use crate::engine::model::{Cond, Field, Op, Operand, Rule, RuleSet};
use crate::engine::value::Val;

/// The plan of `channel`, or with `None` every rule as written.
pub(super) fn plan(rs: &RuleSet, channel: Option<u32>) -> Plan {
    let steps = rs.rules.iter().enumerate().filter_map(|(i, rule)| step(rs, channel, i as u32, rule)).collect();
    Plan { steps }
}

fn step(rs: &RuleSet, channel: Option<u32>, index: u32, rule: &Rule) -> Option<Step> {
    let cond = match fold(&rule.cond, channel) {
        Folded::Const(false) => return None,
        Folded::Const(true) => Node::True,
        Folded::Node(n) => n,
    };
    let mut exceptions = Vec::new();
    for e in rule.exceptions.iter() {
        let Some(ex) = rs.exceptions.get(*e as usize) else { continue };
        match fold(&ex.cond, channel) {
            // Always carved out on this channel: the rule never fires here.
            Folded::Const(true) => return None,
            Folded::Const(false) => {}
            Folded::Node(n) => exceptions.push((*e, n)),
        }
    }
    Some(Step {
        rule: index,
        per_attachment: rule.per_attachment,
        about_message: rule.about_message,
        about_thread: rule.about_thread,
        cond,
        exceptions: exceptions.into(),
    })
}

pub(super) enum Folded {
    Const(bool),
    Node(Node),
}

/// `c` with `channel` known (or not: then nothing folds, leaves are only
/// specialised).
pub(super) fn fold(c: &Cond, channel: Option<u32>) -> Folded {
    match c {
        Cond::All(cs) => fold_list(cs, channel, true),
        Cond::Any(cs) => fold_list(cs, channel, false),
        Cond::Not(c) => match fold(c, channel) {
            Folded::Const(b) => Folded::Const(!b),
            Folded::Node(n) => Folded::Node(Node::Not(Box::new(n))),
        },
        Cond::Cmp { field, op, rhs, text } => cmp(c, *field, *op, rhs, *text, channel),
        // A channel is always given.
        Cond::Present { field: Field::Channel, expect, .. } if channel.is_some() => Folded::Const(*expect),
        Cond::Blank { field: Field::Channel, expect, .. } if channel.is_some() => Folded::Const(!*expect),
        Cond::Present { field, expect, text } => leaf(Node::Present { field: *field, expect: *expect, text: *text }),
        Cond::Blank { field, expect, text } => leaf(Node::Present { field: *field, expect: !*expect, text: *text }),
        _ => Folded::Node(Node::Written(c.clone())),
    }
}

/// `all` (`and == true`) or `any` of what did not fold away.
/// `all` (`and`) or `any` of `cs`: a member that folds to the list's
/// absorbing constant (false for `all`, true for `any`) decides it; one
/// that folds to the other constant drops out.
fn fold_list(cs: &[Cond], channel: Option<u32>, and: bool) -> Folded {
    let mut out = Vec::with_capacity(cs.len());
    for c in cs {
        match fold(c, channel) {
            Folded::Const(b) if b != and => return Folded::Const(b),
            Folded::Const(_) => {}
            Folded::Node(n) => out.push(n),
        }
    }
    combine(out, and)
}

fn combine(mut nodes: Vec<Node>, and: bool) -> Folded {
    match nodes.len() {
        0 => Folded::Const(and),
        1 => nodes.pop().map_or(Folded::Const(and), Folded::Node),
        _ if and => Folded::Node(Node::All(nodes.into())),
        _ => Folded::Node(Node::Any(nodes.into())),
    }
}

fn leaf(n: Node) -> Folded {
    Folded::Node(n)
}

fn written(c: &Cond) -> Folded {
    Folded::Node(Node::Written(c.clone()))
}

/// A comparison, with the channel's value put in where it is read.
fn cmp(c: &Cond, field: Field, op: Op, rhs: &Operand, text: u32, channel: Option<u32>) -> Folded {
    let here = channel.map(Val::Sym);
    let left = if field == Field::Channel { here } else { None };
    let right = match rhs {
        Operand::Field(Field::Channel) => here,
        Operand::Field(_) => None,
        Operand::Const(v) => Some(v.as_val()),
    };
    match (left, right) {
        // Both known: decide it now, as the interpreter would.
        (Some(l), Some(r)) => Ctx::compare(l, op, r).map_or_else(|| written(c), Folded::Const),
        // `channel: { in/not_in: $client.channels }` on a known channel.
        (Some(Val::Sym(sym)), None) if matches!(op, Op::In | Op::NotIn) => match rhs {
            Operand::Field(f) => leaf(Node::HasSym { field: *f, sym, negate: op == Op::NotIn, text }),
            Operand::Const(_) => written(c),
        },
        (None, Some(r)) => specialise(c, field, op, r, text),
        (None, None) => match (op, rhs) {
            (Op::In | Op::NotIn, Operand::Field(set)) => leaf(Node::InField { field, set: *set, negate: op == Op::NotIn, text }),
            // Ordering is numeric by the type check; equality is not.
            (Op::Lt | Op::Le | Op::Gt | Op::Ge, Operand::Field(rhs)) => leaf(Node::IntField { field, op, rhs: *rhs, text }),
            _ => written(c),
        },
        _ => written(c),
    }
}

/// A field against a constant, in its cheapest form.
fn specialise(c: &Cond, field: Field, op: Op, r: Val<'_>, text: u32) -> Folded {
    let node = match (op, r) {
        (Op::Eq | Op::Ne, Val::Bool(expect)) => Node::Bool { field, expect, negate: op == Op::Ne, text },
        (Op::Eq | Op::Ne, Val::Sym(s)) if s < 64 => Node::SymIn { field, bits: 1u64 << s, negate: op == Op::Ne, text },
        (Op::In | Op::NotIn, Val::Syms(bits)) => Node::SymIn { field, bits, negate: op == Op::NotIn, text },
        (Op::Contains | Op::NotContains, Val::Sym(sym)) => Node::HasSym { field, sym, negate: op == Op::NotContains, text },
        (Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge, Val::Int(rhs)) => Node::IntConst { field, op, rhs, text },
        _ => return written(c),
    };
    leaf(node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::value::Value;

    fn channel_is(set: u64) -> Cond {
        Cond::Cmp { field: Field::Channel, op: Op::In, rhs: Operand::Const(Value::Syms(set)), text: 0 }
    }

    #[test]
    fn channel_comparisons_fold_to_constants() {
        assert!(matches!(fold(&channel_is(0b101), Some(0)), Folded::Const(true)));
        assert!(matches!(fold(&channel_is(0b101), Some(1)), Folded::Const(false)));
        let not = Cond::Not(Box::new(channel_is(0b1)));
        assert!(matches!(fold(&not, Some(0)), Folded::Const(false)));
        // As written, nothing folds.
        assert!(matches!(fold(&channel_is(0b101), None), Folded::Node(Node::SymIn { field: Field::Channel, .. })));
    }

    #[test]
    fn all_and_any_drop_what_folded() {
        let blocked = Cond::Cmp { field: Field::ClientBlocked, op: Op::Eq, rhs: Operand::Const(Value::Bool(true)), text: 0 };
        let all = Cond::All(vec![channel_is(0b1), blocked.clone()].into());
        assert!(matches!(fold(&all, Some(0)), Folded::Node(Node::Bool { field: Field::ClientBlocked, expect: true, negate: false, .. })));
        assert!(matches!(fold(&all, Some(1)), Folded::Const(false)));
        assert!(matches!(fold(&all, None), Folded::Node(Node::All(_))));
        let any = Cond::Any(vec![channel_is(0b1), blocked].into());
        assert!(matches!(fold(&any, Some(0)), Folded::Const(true)));
        assert!(matches!(fold(&any, Some(1)), Folded::Node(Node::Bool { .. })));
    }

    #[test]
    fn the_channel_against_a_set_field_is_a_bit_test() {
        let c = Cond::Cmp { field: Field::Channel, op: Op::NotIn, rhs: Operand::Field(Field::ClientChannels), text: 7 };
        assert!(matches!(fold(&c, Some(3)), Folded::Node(Node::HasSym { field: Field::ClientChannels, sym: 3, negate: true, text: 7 })));
        // As written: the channel read, against the set field.
        assert!(matches!(
            fold(&c, None),
            Folded::Node(Node::InField { field: Field::Channel, set: Field::ClientChannels, negate: true, .. })
        ));
    }

    #[test]
    fn large_symbols_stay_written() {
        let c = Cond::Cmp { field: Field::Tenant, op: Op::Eq, rhs: Operand::Const(Value::Sym(70)), text: 0 };
        assert!(matches!(fold(&c, Some(0)), Folded::Node(Node::Written(_))));
    }
}
