//! One leaf with its required result, in one world, as a constraint on
//! one field ([`Atom`]) — or two numbers, related by a difference.
//!
//! The semantics are the engine's (`engine::eval`): an absent value
//! equals nothing and is in no set, so `eq`, `in`, `lt`… are false on it
//! and `ne`, `not_in` true; blank text is not present; `within` is false
//! on an absent instant. Where a leaf compares two things neither of
//! which this module models (two strings, a name and a set a tenant may
//! change), it becomes an opaque proposition of its own, the same
//! wherever the same leaf is written.

use std::collections::BTreeSet;

use crate::engine::model::{Cond, Field, Op, Operand};
use crate::engine::value::{Val, Value};

use super::logic::Lit;
use super::strs::Strs;
use super::world::{Elem, Kind, World, canonical, elems};

/// A constraint on one field, or a relation between numbers.
#[derive(Debug, Clone)]
pub(super) enum Atom {
    Const(bool),
    /// The symbol is one of these.
    Sym(Field, BTreeSet<u32>),
    /// Allowed among absent (1), false (2), true (4).
    Bool(Field, u8),
    Str(Field, Strs),
    /// A set constraint, required to hold (`true`) or not.
    Set(Field, SetCons, bool),
    Num(NumLit),
    /// A leaf not modelled, by its written form, and its required result.
    Opaque(String, bool),
}

pub(super) const ABSENT: u8 = 1;
pub(super) const FALSE: u8 = 2;
pub(super) const TRUE: u8 = 4;

/// What a set field must satisfy.
#[derive(Debug, Clone)]
pub(super) enum SetCons {
    Has(Elem),
    /// Shares a member with these.
    Any(Vec<Elem>),
    /// Every member is one of these.
    Within(Vec<Elem>),
    /// Holds all of these.
    HasAll(Vec<Elem>),
    /// Holds exactly these.
    Equals(Vec<Elem>),
    Empty,
    Present,
}

/// One side of a difference: a numeric field, or zero.
pub(super) type Node = Option<Field>;

/// A leaf about numbers: its result when a field it reads is absent, and
/// otherwise the constraints it puts on them.
#[derive(Debug, Clone)]
pub(super) struct NumLit {
    pub reads: Vec<Field>,
    pub if_absent: bool,
    pub when_present: NumRel,
}

/// Constraints between numbers: `a - b <= k` for each `(a, b, k)`, and
/// `x != c`. `always` short-circuits both.
#[derive(Debug, Clone, Default)]
pub(super) struct NumRel {
    pub always: Option<bool>,
    pub le: Vec<(Node, Node, i128)>,
    pub ne: Vec<(Field, i128)>,
}

impl NumRel {
    fn always(b: bool) -> Self {
        NumRel { always: Some(b), ..Default::default() }
    }
}

/// What `lit` requires in `world`.
pub(super) fn atom(world: &World<'_>, lit: &Lit<'_>) -> Atom {
    let p = lit.positive;
    match lit.leaf {
        Cond::Cmp { field, op, rhs, .. } => cmp(world, *field, *op, rhs, p),
        Cond::Present { field, expect, .. } => presence(world, *field, *expect == p),
        Cond::Blank { field, expect, .. } => presence(world, *field, *expect != p),
        Cond::Empty { field, expect, .. } => match world.kind(*field) {
            Kind::Known(v) => Atom::Const(v.as_val().is_empty_set() == (*expect == p)),
            Kind::Set { .. } => Atom::Set(canonical(*field), SetCons::Empty, *expect == p),
            _ => opaque(lit),
        },
        Cond::LocalTime { .. } | Cond::All(_) | Cond::Any(_) | Cond::Not(_) => opaque(lit),
    }
}

fn opaque(lit: &Lit<'_>) -> Atom {
    let key = match lit.leaf {
        Cond::LocalTime { field, from, to, tz, expect, .. } => format!("{field:?} local_time {from} {to} {tz:?} {expect}"),
        Cond::Cmp { field, op, rhs, .. } => format!("{field:?} {op:?} {rhs:?}"),
        other => format!("{other:?}"),
    };
    Atom::Opaque(key, lit.positive)
}

/// "The field is present" is `want`.
fn presence(world: &World<'_>, field: Field, want: bool) -> Atom {
    let f = canonical(field);
    match world.kind(field) {
        Kind::Known(v) => Atom::Const(present(&v) == want),
        Kind::Sym(_) => Atom::Const(want),
        Kind::Bool { .. } => Atom::Bool(f, if want { FALSE | TRUE } else { ABSENT }),
        Kind::Str { .. } => {
            let given = Strs { nonblank: true, ..Strs::none() };
            Atom::Str(f, if want { given } else { given.complement() })
        }
        Kind::Set { .. } => Atom::Set(f, SetCons::Present, want),
        Kind::Num { .. } => Atom::Num(NumLit { reads: vec![f], if_absent: !want, when_present: NumRel::always(want) }),
        Kind::Opaque => Atom::Opaque(format!("{f:?} present"), want),
    }
}

fn present(v: &Value) -> bool {
    match v {
        Value::Str(s) => !s.trim().is_empty(),
        _ => true,
    }
}

/// The other side of a comparison: a known value, or a field to model.
enum Side {
    Known(Value),
    Var(Field, Kind),
}

fn side(world: &World<'_>, f: Field) -> Side {
    match world.kind(f) {
        Kind::Known(v) => Side::Known(v),
        k => Side::Var(canonical(f), k),
    }
}

fn cmp(world: &World<'_>, field: Field, op: Op, rhs: &Operand, p: bool) -> Atom {
    let lit_key = || Atom::Opaque(format!("{field:?} {op:?} {rhs:?}"), p);
    let left = side(world, field);
    let right = match rhs {
        Operand::Const(v) => Side::Known(v.clone()),
        Operand::Field(f) => side(world, *f),
    };
    match (left, right) {
        (Side::Known(l), Side::Known(r)) => match constant(l.as_val(), op, r.as_val()) {
            Some(b) => Atom::Const(b == p),
            None => lit_key(),
        },
        (Side::Var(f, kind), Side::Known(r)) => against(f, &kind, op, &r, p).unwrap_or_else(lit_key),
        (Side::Known(l), Side::Var(f, kind)) => flipped(&l, op, f, &kind, p).unwrap_or_else(lit_key),
        (Side::Var(t, Kind::Num { .. }), Side::Var(_, Kind::Num { .. })) if matches!(op, Op::Within | Op::NotWithin) => {
            // Against a duration a tenant sets: only what absence decides.
            Atom::Num(NumLit { reads: vec![t], if_absent: (op == Op::NotWithin) == p, when_present: NumRel::default() })
        }
        (Side::Var(a, Kind::Num { .. }), Side::Var(b, Kind::Num { .. })) => numbers(Some(a), op, Some(b), 0, p).unwrap_or_else(lit_key),
        (Side::Var(..), Side::Var(..)) => lit_key(),
    }
}

/// The engine's comparison of two values that do not depend on `at`.
pub(super) fn constant(l: Val<'_>, op: Op, r: Val<'_>) -> Option<bool> {
    let num = |f: fn(i64, i64) -> bool| matches!((l.number(), r.number()), (Some(a), Some(b)) if f(a, b));
    Some(match op {
        Op::Eq => l.equals(r),
        Op::Ne => !l.equals(r),
        Op::Lt => num(|a, b| a < b),
        Op::Le => num(|a, b| a <= b),
        Op::Gt => num(|a, b| a > b),
        Op::Ge => num(|a, b| a >= b),
        Op::In => l.is_in(r),
        Op::NotIn => !l.is_in(r),
        Op::Contains => r.is_in(l),
        Op::NotContains => !r.is_in(l),
        Op::AnyIn => l.intersects(r),
        Op::NoneIn => !l.intersects(r),
        Op::AllIn => l.subset_of(r),
        Op::Within | Op::NotWithin => return None,
    })
}

/// A modelled field `f` against a known value `r`; `None`: not modelled.
fn against(f: Field, kind: &Kind, op: Op, r: &Value, p: bool) -> Option<Atom> {
    match kind {
        Kind::Sym(domain) => {
            let members: BTreeSet<u32> = match (op, r) {
                (Op::Eq | Op::Ne, Value::Sym(s)) => [*s].into(),
                (Op::In | Op::NotIn, v @ (Value::Syms(_) | Value::SymList(_))) => {
                    elems(v).into_iter().filter_map(|e| if let Elem::Sym(s) = e { Some(s) } else { None }).collect()
                }
                _ => return None,
            };
            let yes = matches!(op, Op::Eq | Op::In) == p;
            Some(Atom::Sym(f, domain.iter().copied().filter(|s| members.contains(s) == yes).collect()))
        }
        Kind::Bool { .. } => {
            let (Op::Eq | Op::Ne, Value::Bool(b)) = (op, r) else { return None };
            let mask = if *b { TRUE } else { FALSE };
            Some(Atom::Bool(f, if (op == Op::Eq) == p { mask } else { 7 & !mask }))
        }
        Kind::Str { .. } => {
            let set = match (op, r) {
                (Op::Eq | Op::Ne, Value::Str(s)) => Strs::of([s.as_ref()]),
                (Op::In | Op::NotIn, Value::Strs(l)) => Strs::of(l.iter().map(|s| &**s)),
                _ => return None,
            };
            Some(Atom::Str(f, if matches!(op, Op::Eq | Op::In) == p { set } else { set.complement() }))
        }
        Kind::Set { listed, .. } => {
            let members = elems(r);
            let (cons, yes) = match op {
                Op::Contains | Op::NotContains => (SetCons::Has(elem(r)?), op == Op::Contains),
                Op::AnyIn | Op::NoneIn => (SetCons::Any(members), op == Op::AnyIn),
                Op::AllIn => (SetCons::Within(members), true),
                Op::Eq | Op::Ne => {
                    // A list as given is `eq` only in order and without
                    // repeats: unequal whatever its members.
                    if *listed && (op == Op::Eq) != p {
                        return Some(Atom::Const(true));
                    }
                    (SetCons::Equals(members), op == Op::Eq)
                }
                _ => return None,
            };
            Some(Atom::Set(f, cons, yes == p))
        }
        Kind::Num { .. } => match (op, r) {
            (Op::Within | Op::NotWithin, Value::Int(d)) => within(f, op, *d, p),
            (_, Value::Int(c) | Value::Time(c)) => numbers(Some(f), op, None, *c, p),
            _ => None,
        },
        Kind::Known(_) | Kind::Opaque => None,
    }
}

/// A known value `l` against a modelled field `f`: the same constraint
/// seen from `f`.
fn flipped(l: &Value, op: Op, f: Field, kind: &Kind, p: bool) -> Option<Atom> {
    match (op, kind) {
        (Op::In | Op::NotIn, Kind::Set { .. }) => {
            let cons = SetCons::Has(elem(l)?);
            Some(Atom::Set(f, cons, (op == Op::In) == p))
        }
        (Op::AnyIn | Op::NoneIn, Kind::Set { .. }) => Some(Atom::Set(f, SetCons::Any(elems(l)), (op == Op::AnyIn) == p)),
        (Op::AllIn, Kind::Set { .. }) => Some(Atom::Set(f, SetCons::HasAll(elems(l)), p)),
        (Op::Contains | Op::NotContains, _) => {
            let turned = if op == Op::Contains { Op::In } else { Op::NotIn };
            against(f, kind, turned, l, p)
        }
        (Op::Eq | Op::Ne, _) => against(f, kind, op, l, p),
        (Op::Lt | Op::Le | Op::Gt | Op::Ge, Kind::Num { .. }) => {
            let (Value::Int(c) | Value::Time(c)) = l else { return None };
            let turned = match op {
                Op::Lt => Op::Gt,
                Op::Le => Op::Ge,
                Op::Gt => Op::Lt,
                _ => Op::Le,
            };
            numbers(Some(f), turned, None, *c, p)
        }
        _ => None,
    }
}

/// A scalar value as a set member.
fn elem(v: &Value) -> Option<Elem> {
    match v {
        Value::Sym(s) => Some(Elem::Sym(*s)),
        Value::Str(s) => Some(Elem::Str(s.as_ref().into())),
        _ => None,
    }
}

/// `a op b` (with `b` a field, or the constant `c` when `None`).
fn numbers(a: Node, op: Op, b: Node, c: i64, p: bool) -> Option<Atom> {
    let c = i128::from(if b.is_some() { 0 } else { c });
    // a - b ≤ k, with b the constant folded into k.
    let le = |x: Node, y: Node, k: i128| (x, y, k);
    let (holds, fails): (Vec<_>, Vec<_>) = match op {
        Op::Lt => (vec![le(a, b, c - 1)], vec![le(b, a, -c)]),
        Op::Le => (vec![le(a, b, c)], vec![le(b, a, -c - 1)]),
        Op::Gt => (vec![le(b, a, -c - 1)], vec![le(a, b, c)]),
        Op::Ge => (vec![le(b, a, -c)], vec![le(a, b, c - 1)]),
        Op::Eq | Op::Ne => (vec![le(a, b, c), le(b, a, -c)], Vec::new()),
        _ => return None,
    };
    let eq_like = matches!(op, Op::Eq | Op::Ne);
    // Equality holds when `(op == Eq) == p`; otherwise a disequality.
    let (rel, base_absent) = if eq_like {
        let equal = (op == Op::Eq) == p;
        let rel = if equal {
            NumRel { le: holds, ..Default::default() }
        } else {
            match (a, b) {
                // Two fields unequal: not modelled (a weaker constraint).
                (Some(x), None) => NumRel { ne: vec![(x, c)], ..Default::default() },
                _ => NumRel::default(),
            }
        };
        (rel, op == Op::Ne)
    } else {
        (NumRel { le: if p { holds } else { fails }, ..Default::default() }, false)
    };
    let reads = [a, b].into_iter().flatten().collect();
    Some(Atom::Num(NumLit { reads, if_absent: base_absent == p, when_present: rel }))
}

/// `t within d` (`at - t <= d`), or `not_within`.
fn within(t: Field, op: Op, d: i64, p: bool) -> Option<Atom> {
    let inside = (op == Op::Within) == p;
    let d = i128::from(d);
    let at = Some(Field::At);
    let rel = if inside { (at, Some(t), d) } else { (Some(t), at, -d - 1) };
    let reads = if t == Field::At { vec![t] } else { vec![t, Field::At] };
    Some(Atom::Num(NumLit { reads, if_absent: (op == Op::NotWithin) == p, when_present: NumRel { le: vec![rel], ..Default::default() } }))
}
