//! What callers get: a decision, its violations, and on request a trace.
//!
//! The engine produces a compact [`Decision`] (indices only, nothing to
//! allocate when the answer is yes); [`render`] turns it into the JSON body
//! of SPEC §4.1, with codes, rule ids and messages looked up in the rule set.

use serde::Serialize;

use crate::engine::input::Input;
use crate::engine::model::RuleSet;

/// The engine's answer, in indices.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    pub violations: Vec<Hit>,
    pub trace: Option<Trace>,
}

/// Every rule evaluated, in order, and the condition leaves each ran: one
/// list of entries and one of leaves (two allocations, however many rules).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    pub entries: Vec<TraceEntry>,
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
    pub rule: u32,
    pub attachment: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Fired,
    NotFired,
    /// The condition held, but this exception carved the rule out.
    Exempted(u32),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TraceEntry {
    pub rule: u32,
    pub attachment: Option<u32>,
    pub outcome: Outcome,
    /// Condition leaves evaluated, as `start..end` of [`Trace::leaves`].
    pub leaves: (u32, u32),
}

/// One condition leaf evaluated in explain mode.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    /// Index into the rule set's leaf texts.
    pub text: u32,
    pub result: bool,
    /// The field the leaf read (its value is shown when rendering).
    pub field: crate::engine::model::Field,
    /// The field it compared with (`$channel.max_file_size`), if any.
    pub rhs: Option<crate::engine::model::Field>,
    /// The exception whose condition this leaf belongs to, if any.
    pub exception: Option<u32>,
}

/// One violation as callers see it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ViolationBody {
    /// Stable machine-readable code, e.g. `client_blocked`.
    pub code: String,
    /// Id of the rule that fired.
    pub rule: String,
    /// Human-readable text.
    pub message: String,
    /// JSON pointer to the part of the request it concerns (one attachment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
}

/// One evaluated rule in an explanation.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct TraceBody {
    pub rule: String,
    /// `fired`, `not_fired` or `exempted`.
    pub result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The exception that carved the rule out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exempted_by: Option<String>,
    /// Each condition evaluated, the value it read, and its result:
    /// `client.blocked eq true → true (client.blocked = true)`.
    pub conditions: Vec<String>,
}

/// The answer of `POST /v1/can-send`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct DecisionBody {
    pub allowed: bool,
    pub violations: Vec<ViolationBody>,
    pub tenant: String,
    /// The rule-set revision that decided.
    pub revision: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<TraceBody>>,
}

/// Render the violations of a decision.
pub fn violations(rs: &RuleSet, input: &Input, hits: &[Hit]) -> Vec<ViolationBody> {
    let tenant = rs.tenant_data.get(input.tenant as usize);
    hits.iter()
        .filter_map(|h| {
            let rule = rs.rules.get(h.rule as usize)?;
            let code = rs.codes.get(rule.code as usize)?;
            let message =
                tenant.and_then(|t| t.messages.get(&rule.code)).map(|m| &**m).or(rule.message.as_deref()).unwrap_or(&code.message);
            Some(ViolationBody {
                code: code.name.to_string(),
                rule: rule.id.to_string(),
                message: message.to_string(),
                pointer: h.attachment.map(|a| format!("/message/attachments/{a}")),
            })
        })
        .collect()
}

/// Render a decision as the JSON body callers receive.
pub fn render(rs: &RuleSet, input: &Input, d: &Decision) -> DecisionBody {
    DecisionBody {
        allowed: d.allowed,
        violations: violations(rs, input, &d.violations),
        tenant: rs.tenants.name(input.tenant).to_string(),
        revision: rs.revision.to_string(),
        trace: d.trace.as_ref().map(|t| t.entries.iter().map(|e| trace_entry(rs, input, t, e)).collect()),
    }
}

fn trace_entry(rs: &RuleSet, input: &Input, trace: &Trace, e: &TraceEntry) -> TraceBody {
    let (result, exempted_by) = match e.outcome {
        Outcome::Fired => ("fired", None),
        Outcome::NotFired => ("not_fired", None),
        Outcome::Exempted(x) => ("exempted", rs.exceptions.get(x as usize).map(|x| x.id.to_string())),
    };
    let rule = rs.rules.get(e.rule as usize);
    let mut conditions: Vec<String> = trace.leaves_of(e).iter().map(|l| leaf_text(rs, input, l, e.attachment)).collect();
    if conditions.is_empty() && rule.is_some_and(|r| r.per_attachment) && e.attachment.is_none() {
        conditions.push("each: attachment → no attachments to check".into());
    }
    TraceBody {
        rule: rule.map(|r| r.id.to_string()).unwrap_or_default(),
        result: result.into(),
        pointer: e.attachment.map(|a| format!("/message/attachments/{a}")),
        exempted_by,
        conditions,
    }
}

/// `[exception] field op operand → result (field = value, $other = value)`.
fn leaf_text(rs: &RuleSet, input: &Input, l: &Leaf, attachment: Option<u32>) -> String {
    use crate::engine::eval::{shown, shown_field};
    let text = rs.texts.get(l.text as usize).map(|t| &*t.text).unwrap_or("?");
    let field = text.split(' ').next().unwrap_or("");
    let mut out = String::new();
    if let Some(x) = l.exception.and_then(|x| rs.exceptions.get(x as usize)) {
        out.push_str(&format!("[exception {}] ", x.id));
    }
    out.push_str(&format!("{text} → {} ({field} = {}", l.result, shown(rs, input, l, attachment)));
    if let (Some(rhs), Some(ty)) = (l.rhs, l.rhs.and_then(|f| crate::rules::compile::field_type(rs, f))) {
        // The operand as written: the word after the operator, `$…`.
        let name = text.split(' ').find(|w| w.starts_with('$')).unwrap_or("operand");
        out.push_str(&format!(", {name} = {}", shown_field(rs, input, rhs, ty, attachment)));
    }
    out.push(')');
    out
}
