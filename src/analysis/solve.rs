//! Whether one case (leaves with required results) can hold in a world.
//!
//! Each field is decided on its own — a set of names, of booleans, of
//! strings ([`super::strs`]), of set members (tried exhaustively over the
//! members the case names, plus one "other") — except where fields are
//! tied: numbers are related by differences (`attachment.size >
//! $channel.max_file_size`, `at - last_inbound_at <= 24h`) and decided
//! together as a difference-bound system over the integers; the text and
//! its length, the template and its header and footer, and the
//! attachments' count, total and the attachment at hand are split into
//! the few cases the request allows.
//!
//! [`Sat::No`] is only answered when no request and no tenant of the
//! world can satisfy the case; where the search would be too large the
//! answer is [`Sat::Unknown`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::engine::model::Field;

use super::atoms::{ABSENT, Atom, FALSE, NumLit, SetCons, TRUE, atom};
use super::logic::Lit;
use super::strs::Strs;
use super::world::{Elem, Kind, MAX_TEXT_CHARS, Universe, World, canonical};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sat {
    Yes,
    No,
    Unknown,
}

/// Most distinct members of one set field a case may name.
const MAX_MEMBERS: usize = 12;

/// Whether the leaves of `case` can all have their results in `world`.
pub(super) fn case_sat(world: &World<'_>, case: &[Lit<'_>]) -> Sat {
    let atoms: Vec<Atom> = case.iter().map(|l| atom(world, l)).collect();
    solve(world, &atoms)
}

fn solve(world: &World<'_>, atoms: &[Atom]) -> Sat {
    let mut syms: HashMap<Field, BTreeSet<u32>> = HashMap::new();
    let mut bools: HashMap<Field, u8> = HashMap::new();
    let mut strs: HashMap<Field, Strs> = HashMap::new();
    let mut sets: HashMap<Field, Vec<(&SetCons, bool)>> = HashMap::new();
    let mut nums: Vec<&NumLit> = Vec::new();
    let mut opaque: BTreeMap<&str, bool> = BTreeMap::new();
    for a in atoms {
        match a {
            Atom::Const(false) => return Sat::No,
            Atom::Const(true) => {}
            Atom::Sym(f, allowed) => {
                let cur = syms.entry(*f).or_insert_with(|| match world.kind(*f) {
                    Kind::Sym(d) => d,
                    _ => BTreeSet::new(),
                });
                cur.retain(|s| allowed.contains(s));
            }
            Atom::Bool(f, mask) => {
                let cur = bools.entry(*f).or_insert_with(|| match world.kind(*f) {
                    Kind::Bool { optional: true } => ABSENT | FALSE | TRUE,
                    _ => FALSE | TRUE,
                });
                *cur &= mask;
            }
            Atom::Str(f, s) => {
                let cur = strs.entry(*f).or_insert_with(|| domain(world, *f));
                *cur = cur.intersect(s);
            }
            Atom::Set(f, c, yes) => sets.entry(*f).or_default().push((c, *yes)),
            Atom::Num(n) => nums.push(n),
            Atom::Opaque(k, b) => {
                if *opaque.entry(k.as_str()).or_insert(*b) != *b {
                    return Sat::No;
                }
            }
        }
    }
    if syms.values().any(BTreeSet::is_empty) || bools.values().any(|m| *m == 0) {
        return Sat::No;
    }
    if !strings_sat(world, &mut strs) {
        return Sat::No;
    }
    let mut unknown = false;
    for (f, cons) in &sets {
        match set_sat(&world.kind(*f), cons) {
            Sat::No => return Sat::No,
            Sat::Unknown => unknown = true,
            Sat::Yes => {}
        }
    }
    if !numbers_sat(world, &nums, strs.get(&Field::MessageText)) {
        return Sat::No;
    }
    if unknown { Sat::Unknown } else { Sat::Yes }
}

/// Every value a string field can have here.
fn domain(world: &World<'_>, f: Field) -> Strs {
    match world.kind(f) {
        Kind::Str { optional, blank } => Strs { absent: optional, blank, nonblank: true, ..Strs::none() },
        _ => Strs::all(),
    }
}

/// Each string field can have a value; a header or a footer needs a template.
fn strings_sat(world: &World<'_>, strs: &mut HashMap<Field, Strs>) -> bool {
    if strs.values().any(Strs::is_empty) {
        return false;
    }
    let parts = [Field::MessageTemplateHeader, Field::MessageTemplateFooter];
    if !parts.iter().any(|p| strs.contains_key(p)) {
        return true;
    }
    let get = |strs: &HashMap<Field, Strs>, f: Field| strs.get(&f).cloned().unwrap_or_else(|| domain(world, f));
    let absent = Strs { absent: true, ..Strs::none() };
    let template = get(strs, Field::MessageTemplate);
    // Without a template: no header, no footer.
    let without = !template.intersect(&absent).is_empty() && parts.iter().all(|p| !get(strs, *p).intersect(&absent).is_empty());
    // With one: its name is given.
    let with = !template.intersect(&absent.complement()).is_empty();
    without || with
}

/// A set field: some value (or its absence) meets every constraint.
fn set_sat(kind: &Kind, cons: &[(&SetCons, bool)]) -> Sat {
    let Kind::Set { optional, universe, .. } = kind else { return Sat::Unknown };
    let mut named: BTreeSet<&Elem> = BTreeSet::new();
    for (c, _) in cons {
        match c {
            SetCons::Has(x) => {
                named.insert(x);
            }
            SetCons::Any(l) | SetCons::Within(l) | SetCons::HasAll(l) | SetCons::Equals(l) => named.extend(l.iter()),
            SetCons::Empty | SetCons::Present => {}
        }
    }
    let possible = |e: &Elem| match universe {
        Universe::Finite(u) => u.contains(e),
        Universe::Strings => true,
    };
    let members: Vec<&Elem> = named.iter().copied().filter(|e| possible(e)).collect();
    if members.len() > MAX_MEMBERS {
        return Sat::Unknown;
    }
    let other = match universe {
        Universe::Finite(u) => u.len() > members.len(),
        Universe::Strings => true,
    };
    let holds = |absent: bool, mask: u32, o: bool, c: &SetCons| -> bool {
        if absent {
            return matches!(c, SetCons::Empty);
        }
        let has = |x: &Elem| members.iter().position(|m| *m == x).is_some_and(|i| mask & (1 << i) != 0);
        let chosen = || members.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, m)| *m);
        match c {
            SetCons::Has(x) => has(x),
            SetCons::Any(l) => l.iter().any(has),
            SetCons::Within(l) => !o && chosen().all(|m| l.contains(m)),
            SetCons::HasAll(l) => l.iter().all(has),
            SetCons::Equals(l) => !o && l.iter().all(has) && chosen().all(|m| l.contains(m)),
            SetCons::Empty => mask == 0 && !o,
            SetCons::Present => true,
        }
    };
    let sat = |absent: bool, mask: u32, o: bool| cons.iter().all(|(c, yes)| holds(absent, mask, o, c) == *yes);
    if *optional && sat(true, 0, false) {
        return Sat::Yes;
    }
    for mask in 0..(1u32 << members.len()) {
        if sat(false, mask, false) || (other && sat(false, mask, true)) {
            return Sat::Yes;
        }
    }
    Sat::No
}

/// The numbers: leaves, the fields' ranges and how fields are tied.
fn numbers_sat(world: &World<'_>, nums: &[&NumLit], text: Option<&Strs>) -> bool {
    if nums.is_empty() {
        return true;
    }
    let optional = |f: Field| matches!(world.kind(f), Kind::Num { optional: true, .. });
    // A leaf false when a field it reads is absent needs them all given;
    // any other optional field is best left out (its leaves then hold).
    let given: HashSet<Field> = nums.iter().filter(|n| !n.if_absent).flat_map(|n| n.reads.iter().copied()).collect();
    let present = |f: &Field| !optional(*f) || given.contains(f);
    let mut sys = Dbm::default();
    for n in nums.iter().filter(|n| n.reads.iter().all(present)) {
        match n.when_present.always {
            Some(false) => return false,
            Some(true) => {}
            None => {
                for (a, b, k) in &n.when_present.le {
                    sys.le(*a, *b, *k);
                }
                sys.ne.extend(n.when_present.ne.iter().copied());
            }
        }
    }
    let mut vars: HashSet<Field> = sys.vars().into_iter().collect();
    let attachments = [Field::AttachmentsCount, Field::AttachmentsTotalSize, Field::AttachmentSize];
    let tied = vars.iter().any(|v| attachments.contains(v));
    if tied {
        vars.extend([Field::AttachmentsCount, Field::AttachmentsTotalSize]);
        if world.per_attachment {
            vars.insert(Field::AttachmentSize);
        }
    }
    for v in &vars {
        if let Kind::Num { lo, hi, .. } = world.kind(*v) {
            sys.le(Some(*v), None, i128::from(hi));
            sys.le(None, Some(*v), -i128::from(lo));
        }
    }
    let (count, total, size) = (Some(Field::AttachmentsCount), Some(Field::AttachmentsTotalSize), Some(Field::AttachmentSize));
    // The cases of the attachments: none (a total of 0) or some; with
    // one at hand, either it is the only one (the total is its size) or
    // there are more (the total is at least its size).
    let mut splits: Vec<Vec<Difference>> = vec![Vec::new()];
    if tied {
        splits = if world.per_attachment {
            vec![vec![(count, None, 1), (total, size, 0), (size, total, 0)], vec![(None, count, -2), (size, total, 0)]]
        } else {
            vec![vec![(count, None, 0), (total, None, 0)], vec![(None, count, -1)]]
        };
    }
    // The text's length, by what the text can be.
    let mut lengths: Vec<(i128, i128)> = vec![(0, i128::from(MAX_TEXT_CHARS))];
    if let (Some(t), true) = (text, vars.contains(&Field::MessageTextLength)) {
        lengths.clear();
        let max = i128::from(MAX_TEXT_CHARS);
        if t.absent {
            lengths.push((0, 0));
        }
        lengths.extend(t.plus.iter().map(|s| (s.chars().count() as i128, s.chars().count() as i128)));
        if t.blank {
            lengths.push((if t.except.contains("") { 1 } else { 0 }, max));
        }
        if t.nonblank {
            lengths.push((1, max));
        }
    }
    let len = Some(Field::MessageTextLength);
    for split in &splits {
        for (lo, hi) in &lengths {
            let mut case = sys.clone();
            for (a, b, k) in split {
                case.le(*a, *b, *k);
            }
            if vars.contains(&Field::MessageTextLength) {
                case.le(len, None, *hi);
                case.le(None, len, -*lo);
            }
            if case.sat() {
                return true;
            }
        }
    }
    false
}

/// `a - b <= k`, where a missing field is zero.
type Difference = (Option<Field>, Option<Field>, i128);

/// A system of `a - b <= k` over integer fields (and zero), with `x != c`.
#[derive(Debug, Clone, Default)]
struct Dbm {
    le: Vec<Difference>,
    ne: Vec<(Field, i128)>,
}

const INF: i128 = i128::MAX / 4;

impl Dbm {
    fn le(&mut self, a: Option<Field>, b: Option<Field>, k: i128) {
        self.le.push((a.map(canonical), b.map(canonical), k));
    }

    fn vars(&self) -> Vec<Field> {
        let mut out: Vec<Field> = Vec::new();
        let all = self.le.iter().flat_map(|(a, b, _)| [*a, *b]).flatten().chain(self.ne.iter().map(|(f, _)| *f));
        for f in all {
            if !out.contains(&f) {
                out.push(f);
            }
        }
        out
    }

    /// Satisfiable over the integers: no negative cycle, and every
    /// disequality leaves its field a value.
    fn sat(&self) -> bool {
        let vars: Vec<Field> = self.vars();
        let n = vars.len() + 1;
        let index = |f: Option<Field>| f.and_then(|f| vars.iter().position(|v| *v == f)).map_or(0, |i| i + 1);
        let mut d = vec![INF; n * n];
        for i in 0..n {
            set(&mut d, n, i, i, 0);
        }
        // Edge b → a of weight k: a - b <= k.
        let mut edges: Vec<(usize, usize, i128)> = self.le.iter().map(|(a, b, k)| (index(*b), index(*a), *k)).collect();
        // Each disequality moves a bound it touches; a few rounds at most.
        for _ in 0..=self.ne.len() {
            for (from, to, k) in &edges {
                if get(&d, n, *from, *to) > *k {
                    set(&mut d, n, *from, *to, *k);
                }
            }
            if !close(&mut d, n) {
                return false;
            }
            let mut moved = false;
            for (f, c) in &self.ne {
                let x = index(Some(*f));
                let (upper, lower) = (get(&d, n, 0, x), -get(&d, n, x, 0));
                if upper == *c && lower == *c {
                    return false;
                }
                if lower == *c {
                    edges.push((x, 0, -(c + 1)));
                    moved = true;
                } else if upper == *c {
                    edges.push((0, x, c - 1));
                    moved = true;
                }
            }
            if !moved {
                return true;
            }
        }
        true
    }
}

fn get(d: &[i128], n: usize, i: usize, j: usize) -> i128 {
    d.get(i * n + j).copied().unwrap_or(INF)
}

fn set(d: &mut [i128], n: usize, i: usize, j: usize, v: i128) {
    if let Some(x) = d.get_mut(i * n + j) {
        *x = v;
    }
}

/// Shortest paths (Floyd–Warshall); false on a negative cycle.
fn close(d: &mut [i128], n: usize) -> bool {
    for k in 0..n {
        for i in 0..n {
            let ik = get(d, n, i, k);
            if ik >= INF {
                continue;
            }
            for j in 0..n {
                let kj = get(d, n, k, j);
                if kj < INF && ik + kj < get(d, n, i, j) {
                    set(d, n, i, j, (ik + kj).max(-INF));
                }
            }
        }
    }
    (0..n).all(|i| get(d, n, i, i) >= 0)
}
