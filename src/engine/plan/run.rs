//! Evaluating plans: the decision ([`run`]) and the decision with its
//! trace ([`explain`]). One evaluator serves both: the recorder is a type
//! parameter, so the plain path compiles to code that records nothing.

use super::{Node, Plan, Step};
use crate::engine::decision::{Decision, Hit, Outcome, Trace, TraceEntry};
use crate::engine::eval::{Ctx, Explainer, Recorder};
use crate::engine::model::Op;
use crate::engine::value::Val;

/// Evaluate `plan` (the plan of `ctx`'s channel) over the steps `include`
/// keeps, pushing what fires.
#[inline]
pub(in crate::engine) fn run(ctx: &mut Ctx<'_>, plan: &Plan, include: impl Fn(&Step) -> bool, out: &mut Vec<Hit>) {
    for s in plan.steps.iter() {
        if !include(s) {
            continue;
        }
        if s.per_attachment {
            let input = ctx.input;
            for (ai, att) in input.attachments.iter().enumerate() {
                ctx.attachment = Some(att);
                if node(ctx, &s.cond, &mut ()) && exempting(ctx, s, &mut ()).is_none() {
                    hit(out, Hit { rule: s.rule, attachment: Some(ai as u32) });
                }
            }
            ctx.attachment = None;
        } else if node(ctx, &s.cond, &mut ()) && exempting(ctx, s, &mut ()).is_none() {
            hit(out, Hit { rule: s.rule, attachment: None });
        }
    }
}

/// Evaluate the written plan (every rule, as written) over the steps
/// `include` keeps, with a trace of every rule and the leaves it ran.
pub(in crate::engine) fn explain(ctx: &mut Ctx<'_>, written: &Plan, include: impl Fn(&Step) -> bool) -> Decision {
    let mut trace = Trace { entries: Vec::with_capacity(written.steps.len()), leaves: Vec::with_capacity(ctx.rs.leaves.len()) };
    let mut violations = Vec::new();
    for s in written.steps.iter() {
        if !include(s) {
            continue;
        }
        if s.per_attachment {
            let input = ctx.input;
            if input.attachments.is_empty() {
                // Evaluated, for no attachment at all.
                let at = trace.leaves.len() as u32;
                trace.entries.push(TraceEntry { rule: s.rule, attachment: None, outcome: Outcome::NotFired, leaves: (at, at) });
            }
            for (ai, att) in input.attachments.iter().enumerate() {
                ctx.attachment = Some(att);
                traced(ctx, s, Some(ai as u32), &mut trace, &mut violations);
            }
            ctx.attachment = None;
        } else {
            traced(ctx, s, None, &mut trace, &mut violations);
        }
    }
    Decision { allowed: violations.is_empty(), violations, trace: Some(trace) }
}

fn traced(ctx: &Ctx<'_>, s: &Step, attachment: Option<u32>, trace: &mut Trace, violations: &mut Vec<Hit>) {
    let start = trace.leaves.len() as u32;
    let mut rec = Explainer::new(&mut trace.leaves);
    let outcome = if !node(ctx, &s.cond, &mut rec) {
        Outcome::NotFired
    } else {
        match exempting(ctx, s, &mut rec) {
            Some(e) => Outcome::Exempted(e),
            None => {
                hit(violations, Hit { rule: s.rule, attachment });
                Outcome::Fired
            }
        }
    };
    let end = trace.leaves.len() as u32;
    trace.entries.push(TraceEntry { rule: s.rule, attachment, outcome, leaves: (start, end) });
}

/// The first exception of `s` that carves it out, if any.
#[inline]
fn exempting(ctx: &Ctx<'_>, s: &Step, rec: &mut impl Recorder) -> Option<u32> {
    if s.exceptions.is_empty() {
        return None;
    }
    let found = s.exceptions.iter().find(|(id, n)| {
        rec.exception(Some(*id));
        node(ctx, n, rec)
    });
    rec.exception(None);
    found.map(|(id, _)| *id)
}

/// Record a violation. The first allocates room for a denial's usual
/// handful at once, rather than growing the vector as they come.
#[inline]
fn hit(out: &mut Vec<Hit>, h: Hit) {
    if out.capacity() == 0 {
        out.reserve(16);
    }
    out.push(h);
}

/// A combinator, its members evaluated in line: most conditions are an
/// `all` of leaves, and a call per leaf cost more than the leaf.
fn node<R: Recorder>(ctx: &Ctx<'_>, n: &Node, rec: &mut R) -> bool {
    match n {
        Node::All(ns) => ns.iter().all(|n| in_line(ctx, n, rec)),
        Node::Any(ns) => ns.iter().any(|n| in_line(ctx, n, rec)),
        Node::Not(n) => !in_line(ctx, n, rec),
        _ => in_line(ctx, n, rec),
    }
}

#[inline(always)]
fn in_line<R: Recorder>(ctx: &Ctx<'_>, n: &Node, rec: &mut R) -> bool {
    // A leaf: its result (negated as written), recorded with what it read.
    macro_rules! leaf {
        ($text:expr, $result:expr) => {{
            let r = $result;
            rec.leaf(*$text, r);
            r
        }};
    }
    match n {
        Node::True => true,
        Node::All(_) | Node::Any(_) | Node::Not(_) => node(ctx, n, rec),
        Node::Bool { field, expect, negate, text } => {
            leaf!(text, matches!(ctx.read(*field), Val::Bool(b) if b == *expect) != *negate)
        }
        Node::SymIn { field, bits, negate, text } => {
            leaf!(text, matches!(ctx.read(*field), Val::Sym(s) if s < 64 && bits & (1u64 << s) != 0) != *negate)
        }
        Node::HasSym { field, sym, negate, text } => leaf!(text, Val::Sym(*sym).is_in(ctx.read(*field)) != *negate),
        Node::InField { field, set, negate, text } => leaf!(text, ctx.read(*field).is_in(ctx.read(*set)) != *negate),
        Node::Present { field, expect, text } => leaf!(text, ctx.present(*field) == *expect),
        Node::IntConst { field, op, rhs, text } => leaf!(
            text,
            match ctx.read(*field) {
                // As the interpreter: equality of ints only, order of any number.
                Val::Int(l) => order(l, *op, *rhs),
                Val::Time(l) if !matches!(op, Op::Eq | Op::Ne) => order(l, *op, *rhs),
                _ => *op == Op::Ne,
            }
        ),
        Node::IntField { field, op, rhs, text } => leaf!(
            text,
            match (ctx.read(*field).number(), ctx.read(*rhs).number()) {
                (Some(l), Some(r)) => order(l, *op, r),
                _ => false,
            }
        ),
        Node::Written(c) => ctx.cond(c, rec),
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
