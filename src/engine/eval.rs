//! Evaluation: conditions and rules over one [`Input`].
//!
//! Pure and allocation-free on the plain path: the only allocation is the
//! violations vector when something is violated, and the trace when asked
//! for. The recorder is a type parameter, so the plain path compiles to code
//! that records nothing.

use super::decision::{Decision, Hit, Leaf, Outcome, Trace, TraceEntry};
use super::input::{Attachment, Input};
use super::model::{Cond, Field, Op, Operand, Rule, RuleSet, Slot, Tenant};
use super::value::Val;

/// Which rules an evaluation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every rule: the answer to can-send.
    All,
    /// Only rules that read neither the message nor the thread: can this
    /// sender reach this client on this channel at all?
    Recipient,
    /// Only message rules that are not per attachment and do not read the
    /// thread: does this channel take a message of this shape?
    MessageShape,
}

impl Scope {
    fn includes(self, rule: &Rule) -> bool {
        self.includes_step(rule.per_attachment, rule.about_message, rule.about_thread)
    }

    #[inline]
    fn includes_step(self, per_attachment: bool, about_message: bool, about_thread: bool) -> bool {
        match self {
            Scope::All => true,
            Scope::Recipient => !about_message && !about_thread,
            Scope::MessageShape => about_message && !per_attachment && !about_thread,
        }
    }
}

/// Evaluate every rule of `rs` against `input`.
///
/// `input` must have been bound against this same `rs` (see
/// [`crate::request::bind`]); indices from another rule set would read the
/// wrong names, though never out of bounds — and a tenant index the rule
/// set does not have is answered "not allowed", with no violation to show
/// (a caller's mistake, refused rather than allowed).
pub fn evaluate(rs: &RuleSet, input: &Input, explain: bool) -> Decision {
    evaluate_scoped(rs, input, Scope::All, explain)
}

/// Evaluate the rules of `scope` by the rule set's [plans](super::plan):
/// without `explain`, the channel's plan (the rules folded for it at
/// load); with it, the written plan (every rule, so that the trace shows
/// each). A rule set without plans is interpreted.
pub fn evaluate_scoped(rs: &RuleSet, input: &Input, scope: Scope, explain: bool) -> Decision {
    let Some(tenant) = rs.tenant_data.get(input.tenant as usize) else {
        return Decision::default();
    };
    let mut ctx = Ctx::new(rs, input, tenant, None);
    let include = |s: &super::plan::Step| scope.includes_step(s.per_attachment, s.about_message, s.about_thread);
    match (explain, rs.plans.get(input.channel), rs.plans.written()) {
        (false, Some(plan), _) => {
            let mut violations = Vec::new();
            super::plan::run(&mut ctx, plan, include, &mut violations);
            Decision { allowed: violations.is_empty(), violations, trace: None }
        }
        (true, _, Some(written)) => super::plan::explain(&mut ctx, written, include),
        _ => interpret(&mut ctx, scope, explain),
    }
}

/// The reference: every rule of `scope` as written, by the interpreter
/// (no plans). The service decides by the plans; `cansend check` and the
/// tests hold the two to the same answers.
pub fn evaluate_as_written(rs: &RuleSet, input: &Input, scope: Scope, explain: bool) -> Decision {
    let Some(tenant) = rs.tenant_data.get(input.tenant as usize) else {
        return Decision::default();
    };
    interpret(&mut Ctx::new(rs, input, tenant, None), scope, explain)
}

/// Every rule of `scope`, as written.
fn interpret(ctx: &mut Ctx<'_>, scope: Scope, explain: bool) -> Decision {
    let (rs, input) = (ctx.rs, ctx.input);
    let trace = explain.then(|| Trace { entries: Vec::with_capacity(rs.rules.len()), leaves: Vec::with_capacity(rs.leaves.len()) });
    let mut decision = Decision { allowed: true, violations: Vec::new(), trace };
    for (ri, rule) in rs.rules.iter().enumerate() {
        if !scope.includes(rule) {
            continue;
        }
        let ri = ri as u32;
        if rule.per_attachment {
            if let (Some(trace), true) = (&mut decision.trace, input.attachments.is_empty()) {
                // Evaluated, for no attachment at all.
                let at = trace.leaves.len() as u32;
                trace.entries.push(TraceEntry { rule: ri, attachment: None, outcome: Outcome::NotFired, leaves: (at, at) });
            }
            for (ai, att) in input.attachments.iter().enumerate() {
                ctx.attachment = Some(att);
                run_rule(ctx, ri, rule, Some(ai as u32), &mut decision);
            }
            ctx.attachment = None;
        } else {
            run_rule(ctx, ri, rule, None, &mut decision);
        }
    }
    decision.allowed = decision.violations.is_empty();
    decision
}

fn run_rule(ctx: &Ctx<'_>, ri: u32, rule: &Rule, attachment: Option<u32>, d: &mut Decision) {
    match &mut d.trace {
        None => {
            if ctx.cond(&rule.cond, &mut ()) && ctx.exempting(rule, &mut ()).is_none() {
                d.violations.push(Hit { rule: ri, attachment });
            }
        }
        Some(trace) => {
            let start = trace.leaves.len() as u32;
            let mut rec = Explainer::new(&mut trace.leaves);
            let fired = ctx.cond(&rule.cond, &mut rec);
            let outcome = if !fired {
                Outcome::NotFired
            } else {
                match ctx.exempting(rule, &mut rec) {
                    Some(e) => Outcome::Exempted(e),
                    None => {
                        d.violations.push(Hit { rule: ri, attachment });
                        Outcome::Fired
                    }
                }
            };
            let end = trace.leaves.len() as u32;
            trace.entries.push(TraceEntry { rule: ri, attachment, outcome, leaves: (start, end) });
        }
    }
}

/// What the explain mode records: which condition leaves ran, their
/// results, and the exception each belongs to. (What a leaf reads is in
/// the rule set's leaf table; values are read again when the trace is
/// rendered — see [`value_of`] — not formatted here, on the decision path.)
pub trait Recorder {
    /// Leaf `leaf` (an index into the rule set's leaves) came out `result`.
    fn leaf(&mut self, leaf: u32, result: bool);
    /// The leaves that follow belong to this exception's condition.
    fn exception(&mut self, exception: Option<u32>);
}

impl Recorder for () {
    #[inline(always)]
    fn leaf(&mut self, _: u32, _: bool) {}
    #[inline(always)]
    fn exception(&mut self, _: Option<u32>) {}
}

/// The recorder of explanations: leaves pushed to the trace's list.
pub(super) struct Explainer<'t> {
    leaves: &'t mut Vec<Leaf>,
    exception: Option<u32>,
}

impl<'t> Explainer<'t> {
    pub(super) fn new(leaves: &'t mut Vec<Leaf>) -> Self {
        Self { leaves, exception: None }
    }
}

impl Recorder for Explainer<'_> {
    fn leaf(&mut self, leaf: u32, result: bool) {
        self.leaves.push(Leaf { leaf, result, exception: self.exception });
    }
    fn exception(&mut self, exception: Option<u32>) {
        self.exception = exception;
    }
}

/// The value of `field` for `input` (inside `each: attachment`, for the
/// attachment at index `attachment`), as a condition reads it: what an
/// explanation shows beside a leaf. The input is immutable, so it is the
/// value the leaf saw. `Absent` for a tenant the rule set does not have.
pub fn value_of<'a>(rs: &'a RuleSet, input: &'a Input, field: Field, attachment: Option<u32>) -> Val<'a> {
    let Some(tenant) = rs.tenant_data.get(input.tenant as usize) else { return Val::Absent };
    let attachment = attachment.and_then(|a| input.attachments.get(a as usize));
    Ctx::new(rs, input, tenant, attachment).read(field)
}

/// What a condition reads from: the rule set, the request, its tenant and,
/// inside `each: attachment`, the attachment at hand.
pub(super) struct Ctx<'a> {
    pub rs: &'a RuleSet,
    pub input: &'a Input,
    pub tenant: &'a Tenant,
    pub attachment: Option<&'a Attachment>,
    /// The tenant's settings of the request's channel and of its sender's
    /// role, found once per decision rather than at every read.
    channel: &'a [Slot],
    role: &'a [Slot],
}

impl<'a> Ctx<'a> {
    pub(super) fn new(rs: &'a RuleSet, input: &'a Input, tenant: &'a Tenant, attachment: Option<&'a Attachment>) -> Self {
        let row = |slots: &'a [Slot], index: u32, width: usize| -> &'a [Slot] {
            let start = (index as usize).saturating_mul(width);
            slots.get(start..start.saturating_add(width)).unwrap_or(&[])
        };
        let channel = row(&tenant.channel, input.channel, rs.channel_settings.len());
        let role = row(&tenant.role, input.sender_role, rs.role_settings.len());
        Self { rs, input, tenant, attachment, channel, role }
    }

    /// The first exception that carves `rule` out, if any.
    fn exempting(&self, rule: &Rule, rec: &mut impl Recorder) -> Option<u32> {
        let found = rule.exceptions.iter().copied().find(|e| {
            rec.exception(Some(*e));
            self.rs.exceptions.get(*e as usize).is_some_and(|ex| self.cond(&ex.cond, rec))
        });
        rec.exception(None);
        found
    }

    pub(super) fn cond(&self, c: &Cond, rec: &mut impl Recorder) -> bool {
        match c {
            Cond::All(cs) => cs.iter().all(|c| self.cond(c, rec)),
            Cond::Any(cs) => cs.iter().any(|c| self.cond(c, rec)),
            Cond::Not(c) => !self.cond(c, rec),
            Cond::Cmp { field, op, rhs, text } => {
                let v = self.read(*field);
                let r = self.cmp(v, *op, self.operand(rhs));
                rec.leaf(*text, r);
                r
            }
            Cond::Present { field, expect, text } => {
                let r = self.present(*field) == *expect;
                rec.leaf(*text, r);
                r
            }
            Cond::Blank { field, expect, text } => {
                let r = self.present(*field) != *expect;
                rec.leaf(*text, r);
                r
            }
            Cond::Empty { field, expect, text } => {
                let v = self.read(*field);
                let r = v.is_empty_set() == *expect;
                rec.leaf(*text, r);
                r
            }
            Cond::LocalTime { field, from, to, tz, expect, text } => {
                let v = self.read(*field);
                let r = self.local_time_in(v, *from, *to, self.operand(tz)) == *expect;
                rec.leaf(*text, r);
                r
            }
        }
    }

    fn operand(&self, o: &'a Operand) -> Val<'a> {
        match o {
            Operand::Field(f) => self.read(*f),
            Operand::Const(v) => v.as_val(),
        }
    }

    pub(super) fn present(&self, f: Field) -> bool {
        match self.read(f) {
            Val::Absent => false,
            Val::Str(s) => !s.trim().is_empty(),
            _ => true,
        }
    }

    fn cmp(&self, l: Val<'_>, op: Op, r: Val<'_>) -> bool {
        match op {
            Op::Within => self.within(l, r),
            Op::NotWithin => !self.within(l, r),
            _ => Self::compare(l, op, r).unwrap_or(false),
        }
    }

    /// A comparison that does not depend on the instant of sending
    /// (`None` for `within`, which does).
    pub(super) fn compare(l: Val<'_>, op: Op, r: Val<'_>) -> Option<bool> {
        Some(match op {
            Op::Eq => l.equals(r),
            Op::Ne => !l.equals(r),
            Op::Lt => matches!((l.number(), r.number()), (Some(a), Some(b)) if a < b),
            Op::Le => matches!((l.number(), r.number()), (Some(a), Some(b)) if a <= b),
            Op::Gt => matches!((l.number(), r.number()), (Some(a), Some(b)) if a > b),
            Op::Ge => matches!((l.number(), r.number()), (Some(a), Some(b)) if a >= b),
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

    fn within(&self, l: Val<'_>, r: Val<'_>) -> bool {
        match (l, r) {
            (Val::Time(t), Val::Int(d)) => self.input.at.saturating_sub(t) <= d,
            _ => false,
        }
    }

    fn local_time_in(&self, l: Val<'_>, from: u32, to: u32, tz: Val<'_>) -> bool {
        let (Val::Time(t), Val::Tz(tz)) = (l, tz) else { return false };
        let Some(utc) = chrono::DateTime::from_timestamp_millis(t) else { return false };
        use chrono::Timelike;
        let local = utc.with_timezone(&tz);
        let m = local.hour() * 60 + local.minute();
        if from <= to { from <= m && m < to } else { m >= from || m < to }
    }

    #[inline]
    pub(super) fn read(&self, f: Field) -> Val<'a> {
        let i = self.input;
        let opt = |s: &'a Option<Box<str>>| s.as_deref().map_or(Val::Absent, Val::Str);
        match f {
            Field::Tenant => Val::Sym(i.tenant),
            Field::Action => Val::Sym(i.action),
            Field::Channel => Val::Sym(i.channel),
            Field::At => Val::Time(i.at),
            Field::SenderRole => Val::Sym(i.sender_role),
            Field::SenderId => opt(&i.sender_id),
            Field::SenderStatus => opt(&i.sender_status),
            Field::SenderAttr(a) => i.sender_attrs.get(a as usize).and_then(Option::as_ref).map_or(Val::Absent, |v| v.as_val()),
            Field::ClientStatus => Val::Sym(i.client_status),
            Field::ClientBlocked => Val::Bool(i.client_blocked),
            Field::ClientActiveThread => Val::Bool(i.client_active_thread),
            Field::ClientChannels => Val::Syms(i.client_channels),
            Field::ClientEmail => opt(&i.client_email),
            Field::ClientPhone => opt(&i.client_phone),
            Field::ClientExternalId => opt(&i.client_external_id),
            Field::ClientLastInboundAt => i.client_last_inbound_at.map_or(Val::Absent, Val::Time),
            Field::ClientAttr(a) => i.client_attrs.get(a as usize).and_then(Option::as_ref).map_or(Val::Absent, |v| v.as_val()),
            Field::ThreadTags => Val::Strs(&i.thread_tags),
            Field::MessageText => opt(&i.text),
            Field::MessageTextLength => Val::Int(i.text.as_deref().map_or(0, |t| t.chars().count() as i64)),
            Field::MessageTemplate => i.template.as_ref().map_or(Val::Absent, |t| Val::Str(&t.name)),
            Field::MessageTemplateName => i.template.as_ref().map_or(Val::Absent, |t| Val::Str(&t.name)),
            Field::MessageTemplateHeader => i.template.as_ref().map_or(Val::Absent, |t| opt(&t.header)),
            Field::MessageTemplateFooter => i.template.as_ref().map_or(Val::Absent, |t| opt(&t.footer)),
            Field::AttachmentsCount => Val::Int(i.attachments.len() as i64),
            Field::AttachmentsTotalSize => Val::Int(i.total_size),
            Field::AttachmentName => self.attachment.map_or(Val::Absent, |a| Val::Str(&a.name)),
            Field::AttachmentExtension => self.attachment.map_or(Val::Absent, |a| opt(&a.extension)),
            Field::AttachmentSize => self.attachment.map_or(Val::Absent, |a| Val::Int(a.size)),
            Field::TenantSetting(s) => self.tenant.tenant.get(s as usize).map_or(Val::Absent, |slot| slot.at(i.at).as_val()),
            Field::ChannelSetting(s) => self.channel.get(s as usize).map_or(Val::Absent, |slot| slot.at(i.at).as_val()),
            Field::RoleSetting(s) => self.role.get(s as usize).map_or(Val::Absent, |slot| slot.at(i.at).as_val()),
        }
    }
}
