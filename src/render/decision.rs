//! A decision as callers see it: `POST /v1/can-send`'s 200 body.
//!
//! Strings that come from the rule set (codes, rule ids, messages, the
//! tenant, the revision) are borrowed from it: an answer allocates only
//! its lists, and, for a violation about one attachment, its pointer.

use serde::Serialize;

use super::value::show;
use crate::engine::decision::{Decision, Hit, Leaf, Outcome, Trace, TraceEntry};
use crate::engine::eval::value_of;
use crate::engine::input::Input;
use crate::engine::model::RuleSet;

/// One violation: a rule that fired.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = ViolationBody)]
pub struct Violation<'e> {
    /// Stable machine-readable code, e.g. `client_blocked`.
    pub code: &'e str,
    /// Id of the rule that fired.
    pub rule: &'e str,
    /// Human-readable text (the tenant's own wording, if it has one).
    pub message: &'e str,
    /// JSON pointer to the part of the request it concerns (one attachment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
}

/// One condition leaf an explained rule evaluated, part by part.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = CheckBody)]
pub struct Check<'e> {
    /// The leaf as written: `attachment.size gt $channel.max_file_size`.
    pub text: &'e str,
    /// The field it read.
    pub field: &'e str,
    /// The operator.
    pub op: &'e str,
    /// The operand as written (a value, or a `$field`).
    pub operand: &'e str,
    /// The value the field had.
    pub value: String,
    /// The value of the `$field` operand, when the operand is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operand_value: Option<String>,
    /// The leaf's result.
    pub result: bool,
    /// The exception this leaf belongs to (its condition was tried after the rule's held).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<&'e str>,
}

/// One evaluated rule in an explanation.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = TraceBody)]
pub struct TraceStep<'e> {
    /// The rule's id.
    pub rule: &'e str,
    /// `fired`, `not_fired` or `exempted`.
    pub result: &'static str,
    /// The attachment it was evaluated for (`each: attachment`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The exception that carved the rule out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exempted_by: Option<&'e str>,
    /// Each condition evaluated, the value it read, and its result:
    /// `client.blocked eq true → true (client.blocked = true)`.
    pub conditions: Vec<String>,
    /// The same conditions, part by part.
    pub checks: Vec<Check<'e>>,
    /// The rule's file, relative to the rules directory.
    pub file: &'e str,
    /// The rule's line in it.
    pub line: u32,
}

/// The answer of `POST /v1/can-send`: allowed, and every violation.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = DecisionBody)]
pub struct Answer<'e> {
    /// No rule forbids the send.
    pub allowed: bool,
    /// Every rule that forbids it.
    pub violations: Vec<Violation<'e>>,
    /// The tenant that decided (the default one when the request named none).
    pub tenant: &'e str,
    /// The rule-set revision that decided.
    pub revision: &'e str,
    /// With `explain`: every rule evaluated, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<TraceStep<'e>>>,
}

/// The pointer of an attachment.
fn attachment_pointer(a: u32) -> String {
    format!("/message/attachments/{a}")
}

/// The violations of `hits`, in the words of `tenant` (an index of `rs`).
pub fn violations<'e>(rs: &'e RuleSet, tenant: u32, hits: &[Hit]) -> Vec<Violation<'e>> {
    let tenant = rs.tenant_data.get(tenant as usize);
    hits.iter()
        .filter_map(|h| {
            let rule = rs.rules.get(h.rule as usize)?;
            let code = rs.codes.get(rule.code as usize)?;
            let message =
                tenant.and_then(|t| t.messages.get(&rule.code)).map(|m| &**m).or(rule.message.as_deref()).unwrap_or(&code.message);
            Some(Violation { code: &code.name, rule: &rule.id, message, pointer: h.attachment.map(attachment_pointer) })
        })
        .collect()
}

/// A decision on `input` (bound against `rs`) as the body callers receive.
pub fn answer<'e>(rs: &'e RuleSet, input: &Input, d: &Decision) -> Answer<'e> {
    Answer {
        allowed: d.allowed,
        violations: violations(rs, input.tenant, &d.violations),
        tenant: rs.tenants.name(input.tenant),
        revision: &rs.revision,
        trace: d.trace.as_ref().map(|t| t.entries.iter().map(|e| step(rs, input, t, e)).collect()),
    }
}

fn step<'e>(rs: &'e RuleSet, input: &Input, trace: &Trace, e: &TraceEntry) -> TraceStep<'e> {
    let (result, exempted_by) = match e.outcome {
        Outcome::Fired => ("fired", None),
        Outcome::NotFired => ("not_fired", None),
        Outcome::Exempted(x) => ("exempted", rs.exceptions.get(x as usize).map(|x| &*x.id)),
    };
    let rule = rs.rules.get(e.rule as usize);
    let checks: Vec<Check<'e>> = trace.leaves_of(e).iter().filter_map(|l| check(rs, input, l, e.attachment)).collect();
    let mut conditions: Vec<String> = checks.iter().map(Check::sentence).collect();
    if conditions.is_empty() && rule.is_some_and(|r| r.per_attachment) && e.attachment.is_none() {
        conditions.push("each: attachment → no attachments to check".into());
    }
    TraceStep {
        rule: rule.map_or("", |r| &r.id),
        result,
        pointer: e.attachment.map(attachment_pointer),
        exempted_by,
        conditions,
        checks,
        file: rule.map_or("", |r| rs.file_path(r.file)),
        line: rule.map_or(0, |r| r.line),
    }
}

fn check<'e>(rs: &'e RuleSet, input: &Input, l: &Leaf, attachment: Option<u32>) -> Option<Check<'e>> {
    let info = rs.leaves.get(l.leaf as usize)?;
    let value = show(rs, info.ty, value_of(rs, input, info.field, attachment));
    let operand_value = info.rhs.map(|(f, ty)| show(rs, ty, value_of(rs, input, f, attachment)));
    Some(Check {
        text: &info.text,
        field: &info.path,
        op: &info.op,
        operand: &info.operand,
        value,
        operand_value,
        result: l.result,
        exception: l.exception.and_then(|x| rs.exceptions.get(x as usize)).map(|x| &*x.id),
    })
}

impl Check<'_> {
    /// `[exception x] field op operand → result (field = value, $other = value)`.
    pub fn sentence(&self) -> String {
        let mut out = String::new();
        if let Some(x) = self.exception {
            out.push_str("[exception ");
            out.push_str(x);
            out.push_str("] ");
        }
        out.push_str(&format!("{} → {} ({} = {}", self.text, self.result, self.field, self.value));
        if let Some(v) = &self.operand_value {
            out.push_str(&format!(", {} = {v}", self.operand));
        }
        out.push(')');
        out
    }
}
