//! Deciding a formula over every world, and saying why it cannot hold.
//!
//! A formula can hold when one of its cases can in one world: one channel
//! of the catalog, one role when it reads a role setting, and any tenant
//! (or each tenant in turn, for [`Tenants::Actual`]). It cannot when no
//! case can in any world; the reason given is, for each case, the leaves
//! that conflict — the fewest (found by dropping leaves one at a time
//! while the case still cannot hold), gathered over the worlds.

use std::cell::Cell;
use std::collections::BTreeSet;

use crate::engine::model::{Field, RuleSet};

use super::logic::{Case, Formula, dnf, fields};
use super::solve::{Sat, case_sat};
use super::world::{Tenancy, World, periods};

/// Most cases decided (cases × worlds) for one formula; past it, nothing
/// is claimed.
pub(super) const BUDGET: usize = 100_000;
/// Most cases decided by one prover, over all its formulas.
pub(super) const TOTAL: usize = 5_000_000;

/// Decides formulas about one rule set, within a total budget: past it,
/// every formula is [`Verdict::TooLarge`].
pub(super) struct Prover<'a> {
    pub rs: &'a RuleSet,
    left: Cell<usize>,
}

impl<'a> Prover<'a> {
    pub(super) fn new(rs: &'a RuleSet) -> Self {
        Prover { rs, left: Cell::new(TOTAL) }
    }

    /// Whether the budget ran out.
    pub(super) fn exhausted(&self) -> bool {
        self.left.get() == 0
    }

    /// Take `n` cases from the budget, if it has them.
    fn spend(&self, n: usize) -> bool {
        if n > BUDGET || n > self.left.get() {
            if n <= BUDGET {
                self.left.set(0);
            }
            return false;
        }
        self.left.set(self.left.get() - n);
        true
    }

    pub(super) fn decide(&self, f: &Formula<'_>, per_attachment: bool, tenants: Tenants) -> Verdict {
        decide(self, f, per_attachment, tenants)
    }

    pub(super) fn conflicts(&self, f: &Formula<'_>, per_attachment: bool) -> Vec<Vec<(u32, bool)>> {
        conflicts(self, f, per_attachment)
    }
}

/// Which tenants the worlds hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tenants {
    /// Any tenant the settings' declarations allow.
    Possible,
    /// The tenants the rule files define, as they define them.
    Actual,
}

/// What is known of a formula.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Some request (and tenant) satisfies it.
    Possible,
    /// None does.
    Impossible,
    /// Not decided: its normal form passed the cap.
    TooLarge,
    /// Not decided: a set constraint too large to try exhaustively.
    Unknown,
}

/// The worlds a formula is decided in.
pub(super) fn worlds<'a>(rs: &'a RuleSet, cases: &[Case<'_>], per_attachment: bool, tenants: Tenants) -> Vec<World<'a>> {
    let mut read = Vec::new();
    for c in cases {
        for l in c {
            fields(l.leaf, &mut read);
        }
    }
    let roles: Vec<Option<u32>> =
        if read.iter().any(|f| matches!(f, Field::RoleSetting(_))) { (0..rs.roles.len() as u32).map(Some).collect() } else { vec![None] };
    let tenancies: Vec<Tenancy> = match tenants {
        Tenants::Possible => vec![Tenancy::Any],
        Tenants::Actual => (0..rs.tenant_data.len() as u32)
            .flat_map(|t| periods(rs, t).into_iter().map(move |at| Tenancy::One { tenant: t, at }))
            .collect(),
    };
    let mut out = Vec::new();
    for channel in 0..rs.channels.len() as u32 {
        for role in &roles {
            for tenancy in &tenancies {
                out.push(World { rs, channel, role: *role, per_attachment, tenancy: *tenancy });
            }
        }
    }
    out
}

/// Whether `f` can hold.
fn decide(p: &Prover<'_>, f: &Formula<'_>, per_attachment: bool, tenants: Tenants) -> Verdict {
    let Some(cases) = dnf(f) else { return Verdict::TooLarge };
    let ws = worlds(p.rs, &cases, per_attachment, tenants);
    if !p.spend(cases.len().saturating_mul(ws.len())) {
        return Verdict::TooLarge;
    }
    let mut unknown = false;
    for w in ws {
        for c in &cases {
            match case_sat(&w, c) {
                Sat::Yes => return Verdict::Possible,
                Sat::Unknown => unknown = true,
                Sat::No => {}
            }
        }
    }
    if unknown { Verdict::Unknown } else { Verdict::Impossible }
}

/// For a formula that cannot hold: for each of its cases, the leaves that
/// conflict (by text index, with the result each must have), in the order
/// written, without repeats.
fn conflicts(p: &Prover<'_>, f: &Formula<'_>, per_attachment: bool) -> Vec<Vec<(u32, bool)>> {
    let Some(cases) = dnf(f) else { return Vec::new() };
    let ws = worlds(p.rs, &cases, per_attachment, Tenants::Possible);
    let leaves: usize = cases.iter().map(Vec::len).sum();
    if !p.spend(leaves.saturating_mul(ws.len())) {
        return Vec::new();
    }
    let mut out: Vec<Vec<(u32, bool)>> = Vec::new();
    for case in &cases {
        let mut core: BTreeSet<usize> = BTreeSet::new();
        for w in &ws {
            let mut keep: Vec<usize> = (0..case.len()).collect();
            let mut i = 0;
            while i < keep.len() {
                let without: Vec<_> = keep.iter().enumerate().filter(|(j, _)| *j != i).filter_map(|(_, k)| case.get(*k).copied()).collect();
                if case_sat(w, &without) == Sat::No {
                    keep.remove(i);
                } else {
                    i += 1;
                }
            }
            core.extend(keep);
        }
        let mut texts: Vec<(u32, bool)> = Vec::new();
        for i in core {
            if let Some(t) = case.get(i).map(|l| (l.text(), l.positive))
                && !texts.contains(&t)
            {
                texts.push(t);
            }
        }
        if !out.contains(&texts) {
            out.push(texts);
        }
    }
    out
}
