//! Plans: the rules compiled for evaluation, at load.
//!
//! A request names its channel, and much of a rule set is about channels:
//! "new clients only on these channels", "templates only on WhatsApp and
//! Viber", "the email exception". For each channel of the catalog
//! [`fold`] decides every condition that reads only `channel` and
//! constants, drops the rules that cannot fire there (and the exceptions
//! that cannot apply), and turns the common leaves into specialised
//! [`Test`]s — a bool field against a constant, a symbol against a
//! constant set, "the client has written from this channel" as one bit
//! test, a number against a setting. What remains is evaluated by
//! [`run`]. A leaf without a specialised form is kept as written and read
//! by the interpreter of [`super::eval`].
//!
//! Explanations need every rule as written, so each rule set also has a
//! *written* plan: all rules, nothing folded away, the same specialised
//! leaves, each still knowing its text, so the trace records what the
//! interpreter would, at the plan's speed.
//!
//! The interpreter remains the reference: `cansend check` holds every rule
//! test's decision by the plans to the interpreter's, and [`agreement`]
//! does so on generated requests over rule sets with every operator.
//!
//! Plans depend on the catalog and the rules, never on tenants: their size
//! is channels × rules whatever the number of tenants; tenant settings
//! (and their expiry at the request's `at`) are read at evaluation.

mod agreement;
mod fold;
mod run;

use super::model::{Cond, Field, Op, RuleSet};

pub(super) use run::{explain, run};

/// The plans of a rule set.
#[derive(Debug, Clone, Default)]
pub struct Plans {
    /// Folded for each channel of the catalog, by channel index.
    by_channel: Box<[Plan]>,
    /// Every rule as written (for explanations).
    written: Plan,
}

impl Plans {
    /// The plan of a channel; `None` for a rule set built without plans.
    pub fn get(&self, channel: u32) -> Option<&Plan> {
        self.by_channel.get(channel as usize)
    }

    /// Every rule as written; `None` for a rule set built without plans.
    pub fn written(&self) -> Option<&Plan> {
        (!self.by_channel.is_empty()).then_some(&self.written)
    }

    /// Rules that survive folding, summed over channels (for tests and docs).
    #[cfg(test)]
    pub fn steps(&self) -> usize {
        self.by_channel.iter().map(|p| p.steps.len()).sum()
    }

    /// The rules (by index) that can fire on `channel`, in order, and for
    /// each how many exceptions can still carve it out there.
    #[cfg(test)]
    pub fn rules_on(&self, channel: u32) -> Vec<(u32, usize)> {
        self.get(channel).map(|p| p.steps.iter().map(|s| (s.rule, s.exceptions.len())).collect()).unwrap_or_default()
    }
}

/// Compile the rules of `rs`: a plan per channel, and the written plan.
pub fn build(rs: &RuleSet) -> Plans {
    let n = rs.channels.len() as u32;
    Plans { by_channel: (0..n).map(|c| fold::plan(rs, Some(c))).collect(), written: fold::plan(rs, None) }
}

/// Rules in order, each with the exceptions that can still carve it out.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub(super) steps: Box<[Step]>,
}

/// One rule, compiled.
#[derive(Debug, Clone)]
pub(super) struct Step {
    pub rule: u32,
    pub per_attachment: bool,
    pub about_message: bool,
    pub about_thread: bool,
    pub cond: Node,
    /// The exceptions that can still carve the rule out, by index.
    pub exceptions: Box<[(u32, Node)]>,
}

/// A compiled condition. The leaves are specialised tests, each still
/// knowing its text (for explanations) and, for `ne`, `not_in` and
/// `not_contains`, negated.
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
        negate: bool,
        text: u32,
    },
    /// A symbol field is one of a small domain's members (a bit set).
    SymIn {
        field: Field,
        bits: u64,
        negate: bool,
        text: u32,
    },
    /// A symbol set field holds this member.
    HasSym {
        field: Field,
        sym: u32,
        negate: bool,
        text: u32,
    },
    /// A field is a member of the set another field holds
    /// (`action: { in: $role.actions }`).
    InField {
        field: Field,
        set: Field,
        negate: bool,
        text: u32,
    },
    /// Given, and not blank text (`present: true`, `blank: false`).
    Present {
        field: Field,
        expect: bool,
        text: u32,
    },
    /// A number against a constant.
    IntConst {
        field: Field,
        op: Op,
        rhs: i64,
        text: u32,
    },
    /// A number against another field's number (`$channel.max_file_size`).
    IntField {
        field: Field,
        op: Op,
        rhs: Field,
        text: u32,
    },
    /// A leaf with no specialised form, for the interpreter.
    Written(Cond),
}
