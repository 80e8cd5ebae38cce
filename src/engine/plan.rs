//! Plans: the rules partially evaluated for each channel, at compile time.
//!
//! A request names its channel, and much of a rule set is about channels:
//! "new clients only on these channels", "templates only on WhatsApp and
//! Viber", "the email exception". For each channel of the catalog the
//! compiler folds every condition that reads only `channel` and constants
//! into true or false, drops the rules that cannot fire there (and the
//! exceptions that cannot apply), and turns the common leaves into
//! specialised nodes — a bool field against a constant, a symbol against a
//! constant set, "the client has written from this channel" as one bit
//! test. What remains is evaluated by [`run`]; any leaf without a
//! specialised form is kept as it was and read by the interpreter in
//! [`super::eval`], so a plan decides exactly what the rules decide, only
//! with less to do (the tests in `tests/engine_plan.rs` hold the two paths
//! to the same answers on generated requests).
//!
//! Explanations do not use plans: a trace lists every rule evaluated, as
//! written, so `?explain=true` runs the interpreter.
//!
//! Plans depend on the catalog and the rules, never on tenants, so their
//! size is channels × rules whatever the number of tenants; tenant
//! settings (and their expiry at the request's `at`) are still read at
//! evaluation.

use super::eval::Ctx;
use super::model::{Cond, Field, Op, Operand, Rule, RuleSet};
use super::value::Val;
#[cfg(test)]
use super::value::Value;
use crate::decision::Hit;

/// One plan per channel of the catalog, by channel index.
#[derive(Debug, Clone, Default)]
pub struct Plans {
    by_channel: Box<[Plan]>,
}

impl Plans {
    /// The plan of a channel; `None` for a rule set built without plans.
    pub fn get(&self, channel: u32) -> Option<&Plan> {
        self.by_channel.get(channel as usize)
    }

    /// Rules that survive folding, summed over channels (for tests and docs).
    pub fn steps(&self) -> usize {
        self.by_channel.iter().map(|p| p.steps.len()).sum()
    }

    /// The rules (by index) that can fire on `channel`, in order, and for
    /// each how many exceptions can still carve it out there.
    pub fn rules_on(&self, channel: u32) -> Vec<(u32, usize)> {
        self.get(channel).map(|p| p.steps.iter().map(|s| (s.rule, s.exceptions.len())).collect()).unwrap_or_default()
    }
}

/// The rules that can fire on one channel, in rule order.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub(super) steps: Box<[Step]>,
}

/// One rule on one channel.
#[derive(Debug, Clone)]
pub(super) struct Step {
    pub rule: u32,
    pub per_attachment: bool,
    pub about_message: bool,
    pub about_thread: bool,
    pub cond: Node,
    /// The exceptions that can still carve the rule out on this channel.
    pub exceptions: Box<[Node]>,
}

/// A condition after folding.
#[derive(Debug, Clone)]
pub(super) enum Node {
    True,
    All(Box<[Node]>),
    Any(Box<[Node]>),
    Not(Box<Node>),
    /// A bool field equals `expect` (absent equals nothing).
    Bool {
        field: Field,
        expect: bool,
    },
    /// A symbol field is one of a small domain's members (a bit set).
    SymIn {
        field: Field,
        bits: u64,
    },
    /// A symbol set field holds this member.
    HasSym {
        field: Field,
        sym: u32,
    },
    /// A field is a member of the set another field holds
    /// (`action: { in: $role.actions }`).
    InField {
        field: Field,
        set: Field,
    },
    /// `present: true` (given, and not blank text); `expect: false` for
    /// `present: false` and `blank: true`.
    Present {
        field: Field,
        expect: bool,
    },
    /// A number against a constant.
    IntConst {
        field: Field,
        op: Op,
        rhs: i64,
    },
    /// A number against another field's number (`$channel.max_file_size`).
    IntField {
        field: Field,
        op: Op,
        rhs: Field,
    },
    /// Anything else, as written, for the interpreter.
    Leaf(Cond),
}

/// Fold the rules of `rs` for every channel of its catalog.
pub fn build(rs: &RuleSet) -> Plans {
    let n = rs.channels.len() as u32;
    Plans { by_channel: (0..n).map(|c| plan_for(rs, c)).collect() }
}

fn plan_for(rs: &RuleSet, channel: u32) -> Plan {
    let steps = rs.rules.iter().enumerate().filter_map(|(i, rule)| step(rs, channel, i as u32, rule)).collect();
    Plan { steps }
}

fn step(rs: &RuleSet, channel: u32, index: u32, rule: &Rule) -> Option<Step> {
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
            Folded::Node(n) => exceptions.push(n),
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

enum Folded {
    Const(bool),
    Node(Node),
}

fn fold(c: &Cond, channel: u32) -> Folded {
    match c {
        Cond::All(cs) => {
            let mut out = Vec::with_capacity(cs.len());
            for c in cs.iter() {
                match fold(c, channel) {
                    Folded::Const(false) => return Folded::Const(false),
                    Folded::Const(true) => {}
                    Folded::Node(n) => out.push(n),
                }
            }
            combine(out, true)
        }
        Cond::Any(cs) => {
            let mut out = Vec::with_capacity(cs.len());
            for c in cs.iter() {
                match fold(c, channel) {
                    Folded::Const(true) => return Folded::Const(true),
                    Folded::Const(false) => {}
                    Folded::Node(n) => out.push(n),
                }
            }
            combine(out, false)
        }
        Cond::Not(c) => match fold(c, channel) {
            Folded::Const(b) => Folded::Const(!b),
            Folded::Node(Node::Not(n)) => Folded::Node(*n),
            Folded::Node(n) => Folded::Node(Node::Not(Box::new(n))),
        },
        Cond::Cmp { field, op, rhs, .. } => cmp(c, *field, *op, rhs, channel),
        // `present`/`blank`/`empty` of the channel: a channel is always given.
        Cond::Present { field: Field::Channel, expect, .. } => Folded::Const(*expect),
        Cond::Blank { field: Field::Channel, expect, .. } => Folded::Const(!*expect),
        Cond::Present { field, expect, .. } => Folded::Node(Node::Present { field: *field, expect: *expect }),
        Cond::Blank { field, expect, .. } => Folded::Node(Node::Present { field: *field, expect: !*expect }),
        _ => Folded::Node(Node::Leaf(c.clone())),
    }
}

/// `all` (`and == true`) or `any` of what did not fold away.
fn combine(mut nodes: Vec<Node>, and: bool) -> Folded {
    match nodes.len() {
        0 => Folded::Const(and),
        1 => nodes.pop().map_or(Folded::Const(and), Folded::Node),
        _ if and => Folded::Node(Node::All(nodes.into())),
        _ => Folded::Node(Node::Any(nodes.into())),
    }
}

/// A comparison with the channel's value put in where it is read.
fn cmp(c: &Cond, field: Field, op: Op, rhs: &Operand, channel: u32) -> Folded {
    let here = Val::Sym(channel);
    let left = (field == Field::Channel).then_some(here);
    let right = match rhs {
        Operand::Field(Field::Channel) => Some(here),
        Operand::Field(_) => None,
        Operand::Const(v) => Some(v.as_val()),
    };
    match (left, right) {
        // Both known: decide it now, as the interpreter would.
        (Some(l), Some(r)) => Ctx::compare(l, op, r).map_or_else(|| leaf(c), Folded::Const),
        // `channel: { in/not_in: $client.channels }`.
        (Some(Val::Sym(sym)), None) if matches!(op, Op::In | Op::NotIn) => {
            let Operand::Field(f) = rhs else { return leaf(c) };
            let has = Node::HasSym { field: *f, sym };
            Folded::Node(if op == Op::In { has } else { Node::Not(Box::new(has)) })
        }
        (None, Some(r)) => specialise(c, field, op, r),
        (None, None) => match (op, rhs) {
            (Op::In, Operand::Field(set)) => Folded::Node(Node::InField { field, set: *set }),
            (Op::NotIn, Operand::Field(set)) => not(Node::InField { field, set: *set }),
            // Ordering is numeric by the type check; equality is not.
            (Op::Lt | Op::Le | Op::Gt | Op::Ge, Operand::Field(rhs)) => Folded::Node(Node::IntField { field, op, rhs: *rhs }),
            _ => leaf(c),
        },
        _ => leaf(c),
    }
}

/// A field against a constant, in its cheapest form.
fn specialise(c: &Cond, field: Field, op: Op, r: Val<'_>) -> Folded {
    let node = match (op, r) {
        (Op::Eq, Val::Bool(b)) => Node::Bool { field, expect: b },
        (Op::Ne, Val::Bool(b)) => return not(Node::Bool { field, expect: b }),
        (Op::Eq, Val::Sym(s)) if s < 64 => Node::SymIn { field, bits: 1u64 << s },
        (Op::Ne, Val::Sym(s)) if s < 64 => return not(Node::SymIn { field, bits: 1u64 << s }),
        (Op::In, Val::Syms(bits)) => Node::SymIn { field, bits },
        (Op::NotIn, Val::Syms(bits)) => return not(Node::SymIn { field, bits }),
        (Op::Contains, Val::Sym(sym)) => Node::HasSym { field, sym },
        (Op::NotContains, Val::Sym(sym)) => return not(Node::HasSym { field, sym }),
        (Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge, Val::Int(rhs)) => Node::IntConst { field, op, rhs },
        _ => return leaf(c),
    };
    Folded::Node(node)
}

fn not(n: Node) -> Folded {
    Folded::Node(Node::Not(Box::new(n)))
}

fn leaf(c: &Cond) -> Folded {
    Folded::Node(Node::Leaf(c.clone()))
}

/// Evaluate `plan` (the plan of `ctx`'s channel), pushing what fires.
#[inline]
pub(super) fn run(ctx: &mut Ctx<'_>, plan: &Plan, include: impl Fn(&Step) -> bool, out: &mut Vec<Hit>) {
    for s in plan.steps.iter() {
        if !include(s) {
            continue;
        }
        if s.per_attachment {
            let input = ctx.input;
            for (ai, att) in input.attachments.iter().enumerate() {
                ctx.attachment = Some(att);
                if fires(ctx, s) {
                    out.push(Hit { rule: s.rule, attachment: Some(ai as u32) });
                }
            }
            ctx.attachment = None;
        } else if fires(ctx, s) {
            out.push(Hit { rule: s.rule, attachment: None });
        }
    }
}

#[inline]
fn fires(ctx: &Ctx<'_>, s: &Step) -> bool {
    node(ctx, &s.cond) && !s.exceptions.iter().any(|e| node(ctx, e))
}

fn node(ctx: &Ctx<'_>, n: &Node) -> bool {
    match n {
        Node::True => true,
        Node::All(ns) => ns.iter().all(|n| node(ctx, n)),
        Node::Any(ns) => ns.iter().any(|n| node(ctx, n)),
        Node::Not(n) => !node(ctx, n),
        Node::Bool { field, expect } => matches!(ctx.read(*field), Val::Bool(b) if b == *expect),
        Node::SymIn { field, bits } => matches!(ctx.read(*field), Val::Sym(s) if s < 64 && bits & (1u64 << s) != 0),
        Node::HasSym { field, sym } => Val::Sym(*sym).is_in(ctx.read(*field)),
        Node::InField { field, set } => ctx.read(*field).is_in(ctx.read(*set)),
        Node::Present { field, expect } => ctx.present(*field) == *expect,
        Node::IntConst { field, op, rhs } => match ctx.read(*field) {
            // As the interpreter: equality of ints only, order of any number.
            Val::Int(l) => order(l, *op, *rhs),
            Val::Time(l) if !matches!(op, Op::Eq | Op::Ne) => order(l, *op, *rhs),
            _ => *op == Op::Ne,
        },
        Node::IntField { field, op, rhs } => match (ctx.read(*field).number(), ctx.read(*rhs).number()) {
            (Some(l), Some(r)) => order(l, *op, r),
            _ => false,
        },
        Node::Leaf(c) => ctx.cond(c, &mut ()),
    }
}

#[inline]
fn order(l: i64, op: Op, r: i64) -> bool {
    match op {
        Op::Eq => l == r,
        Op::Ne => l != r,
        Op::Lt => l < r,
        Op::Le => l <= r,
        Op::Gt => l > r,
        Op::Ge => l >= r,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::model::Operand;

    fn channel_is(set: u64) -> Cond {
        Cond::Cmp { field: Field::Channel, op: Op::In, rhs: Operand::Const(Value::Syms(set)), text: 0 }
    }

    #[test]
    fn channel_comparisons_fold_to_constants() {
        assert!(matches!(fold(&channel_is(0b101), 0), Folded::Const(true)));
        assert!(matches!(fold(&channel_is(0b101), 1), Folded::Const(false)));
        let not = Cond::Not(Box::new(channel_is(0b1)));
        assert!(matches!(fold(&not, 0), Folded::Const(false)));
    }

    #[test]
    fn all_and_any_drop_what_folded() {
        let blocked = Cond::Cmp { field: Field::ClientBlocked, op: Op::Eq, rhs: Operand::Const(Value::Bool(true)), text: 0 };
        let all = Cond::All(vec![channel_is(0b1), blocked.clone()].into());
        assert!(matches!(fold(&all, 0), Folded::Node(Node::Bool { field: Field::ClientBlocked, expect: true })));
        assert!(matches!(fold(&all, 1), Folded::Const(false)));
        let any = Cond::Any(vec![channel_is(0b1), blocked].into());
        assert!(matches!(fold(&any, 0), Folded::Const(true)));
        assert!(matches!(fold(&any, 1), Folded::Node(Node::Bool { .. })));
    }

    #[test]
    fn the_channel_against_a_set_field_is_a_bit_test() {
        let c = Cond::Cmp { field: Field::Channel, op: Op::NotIn, rhs: Operand::Field(Field::ClientChannels), text: 0 };
        match fold(&c, 3) {
            Folded::Node(Node::Not(n)) => assert!(matches!(*n, Node::HasSym { field: Field::ClientChannels, sym: 3 })),
            _ => panic!("expected not(has)"),
        }
    }

    #[test]
    fn large_symbols_stay_leaves() {
        let c = Cond::Cmp { field: Field::Tenant, op: Op::Eq, rhs: Operand::Const(Value::Sym(70)), text: 0 };
        assert!(matches!(fold(&c, 0), Folded::Node(Node::Leaf(_))));
    }
}
