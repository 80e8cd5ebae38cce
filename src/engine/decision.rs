//! The engine's answer, in indices: which rules fired (for which
//! attachment), and on request a trace of every rule evaluated.
//!
//! Compact on purpose — nothing to allocate when the answer is yes, no
//! text at all: names, messages and values are looked up when the answer
//! is rendered for a caller (see `crate::render`), which this module knows
//! nothing of.

/// The engine's answer, in indices.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    /// No rule fired.
    pub allowed: bool,
    /// Every rule that fired, in rule order (per attachment, in attachment order).
    pub violations: Vec<Hit>,
    /// With explain: every rule evaluated.
    pub trace: Option<Trace>,
}

/// Every rule evaluated, in order, and the condition leaves each ran: one
/// list of entries and one of leaves (two allocations, however many rules).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    /// One per rule evaluated (per attachment, for rules with `each: attachment`).
    pub entries: Vec<TraceEntry>,
    /// The leaves of every entry, in order; see [`Trace::leaves_of`].
    pub leaves: Vec<Leaf>,
}

impl Trace {
    /// The leaves `e` ran, in order.
    pub fn leaves_of(&self, e: &TraceEntry) -> &[Leaf] {
        self.leaves.get(e.leaves.0 as usize..e.leaves.1 as usize).unwrap_or(&[])
    }
}

/// A fired rule, and the attachment it fired for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Index of the rule in the rule set.
    pub rule: u32,
    /// Index of the attachment, for a rule with `each: attachment`.
    pub attachment: Option<u32>,
}

/// What a rule did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The condition held and no exception applied: a violation.
    Fired,
    /// The condition did not hold.
    NotFired,
    /// The condition held, but this exception (by index) carved the rule out.
    Exempted(u32),
}

/// One rule evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceEntry {
    /// Index of the rule.
    pub rule: u32,
    /// The attachment it was evaluated for, if per attachment.
    pub attachment: Option<u32>,
    /// What it did.
    pub outcome: Outcome,
    /// Condition leaves evaluated, as `start..end` of [`Trace::leaves`].
    pub leaves: (u32, u32),
}

/// One condition leaf evaluated in explain mode. What the leaf reads and
/// compares with is in the rule set's leaf table (`RuleSet::leaf`), so a
/// trace records only which leaf ran and how it came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leaf {
    /// Index into the rule set's leaves.
    pub leaf: u32,
    /// The leaf's result.
    pub result: bool,
    /// The exception whose condition this leaf belongs to, if any.
    pub exception: Option<u32>,
}
