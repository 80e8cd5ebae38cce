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
    pub trace: Option<Vec<TraceEntry>>,
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
    /// Condition leaves evaluated, in order.
    pub leaves: Vec<Leaf>,
}

/// One condition leaf evaluated in explain mode.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    /// Index into the rule set's leaf texts.
    pub text: u32,
    pub result: bool,
    /// The field the leaf read (its value is shown when rendering).
    pub field: crate::engine::model::Field,
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
        trace: d.trace.as_ref().map(|t| t.iter().map(|e| trace_entry(rs, input, e)).collect()),
    }
}

fn trace_entry(rs: &RuleSet, input: &Input, e: &TraceEntry) -> TraceBody {
    let (result, exempted_by) = match e.outcome {
        Outcome::Fired => ("fired", None),
        Outcome::NotFired => ("not_fired", None),
        Outcome::Exempted(x) => ("exempted", rs.exceptions.get(x as usize).map(|x| x.id.to_string())),
    };
    TraceBody {
        rule: rs.rules.get(e.rule as usize).map(|r| r.id.to_string()).unwrap_or_default(),
        result: result.into(),
        pointer: e.attachment.map(|a| format!("/message/attachments/{a}")),
        exempted_by,
        conditions: e
            .leaves
            .iter()
            .map(|l| {
                let text = rs.texts.get(l.text as usize).map(|t| &*t.text).unwrap_or("?");
                let field = text.split(' ').next().unwrap_or("");
                format!("{text} → {} ({field} = {})", l.result, crate::engine::eval::shown(rs, input, l, e.attachment))
            })
            .collect(),
    }
}
