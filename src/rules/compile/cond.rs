//! Conditions: the structured `all` / `any` / `not` / `field: {op: operand}`
//! form, type-checked and compiled to [`Cond`].
//!
//! ```yaml
//! deny:
//!   all:
//!     - client.status: existing                      # shorthand for eq
//!     - channel: { not_in: $client.channels }        # `$` reads another field
//!     - attachment.size: { gt: $channel.max_file_size }
//! ```
//!
//! A bare string is a bool field that must be true (`deny: client.blocked`).
//!
//! In a file that failed its schema, the parts the schema refused are
//! skipped (the schema error already says what is wrong there) and every
//! other part is checked, so one load reports all of a rule's problems.

use serde_json::Value as Json;

use crate::engine::model::{Cond, Field, LeafInfo, Op, Operand};
use crate::engine::value::{Ty, Value};
use crate::text::hint::{did_you_mean, one_of};
use crate::text::literal::{self, short};
use crate::text::pointer::join;

use super::Builder;
use super::fields::resolve;

const OPS: &[&str] = &[
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "any_in",
    "none_in",
    "all_in",
    "within",
    "not_within",
    "present",
    "blank",
    "empty",
    "local_time",
];

/// Where a condition is compiled, and what it turned out to read.
pub(super) struct Scope<'a> {
    pub file: usize,
    pub rule: Option<&'a str>,
    /// Inside `each: attachment`, so `attachment.*` is readable.
    pub per_attachment: bool,
    /// Set when the condition reads a message field.
    pub about_message: bool,
    /// Whether a condition read a thread field.
    pub about_thread: bool,
}

pub(super) fn compile(b: &mut Builder, s: &mut Scope<'_>, ptr: &str, c: &Json) -> Option<Cond> {
    if b.schema_error_at(s.file, ptr) {
        return None;
    }
    match c {
        Json::String(path) => {
            // `deny: client.blokced`: the field is the value of `deny`.
            let (field, ty) = field(b, s, ptr, true, path)?;
            if ty != Ty::Bool {
                b.error_value(
                    s.file,
                    ptr,
                    s.rule,
                    format!("`{path}` is a {ty}; a bare field as a condition must be a bool"),
                    Some(format!("compare it: `{path}: {{ eq: … }}`")),
                );
                return None;
            }
            let text = leaf_info(b, path, field, ty, "eq", "true", None);
            Some(Cond::Cmp { field, op: Op::Eq, rhs: Operand::Const(Value::Bool(true)), text })
        }
        Json::Object(map) => {
            let combinator = ["all", "any", "not"].into_iter().find(|k| map.contains_key(*k));
            if let Some(k) = combinator {
                if map.len() != 1 {
                    b.error(
                        s.file,
                        ptr,
                        s.rule,
                        format!("`{k}` must be alone in its condition"),
                        Some(format!("put the other comparisons inside `{k}`, or wrap both in `all:`")),
                    );
                    return None;
                }
                let inner = map.get(k)?;
                let p = join(ptr, k);
                if b.schema_error_at(s.file, &p) {
                    return None;
                }
                return match k {
                    "not" => Some(Cond::Not(Box::new(compile(b, s, &p, inner)?))),
                    _ => {
                        let Some(items) = inner.as_array().filter(|a| !a.is_empty()) else {
                            b.error_value(s.file, &p, s.rule, format!("`{k}` takes a non-empty list of conditions"), None);
                            return None;
                        };
                        let mut out = Vec::with_capacity(items.len());
                        let mut ok = true;
                        for (i, item) in items.iter().enumerate() {
                            match compile(b, s, &join(&p, i), item) {
                                Some(c) => out.push(c),
                                None => ok = false,
                            }
                        }
                        ok.then(|| if k == "all" { Cond::All(out.into()) } else { Cond::Any(out.into()) })
                    }
                };
            }
            if map.is_empty() {
                b.error(s.file, ptr, s.rule, "empty condition", Some("write `field: value`, or `all:` / `any:` / `not:`".into()));
                return None;
            }
            let mut out = Vec::new();
            let mut ok = true;
            for (path, spec) in map {
                let cptr = join(ptr, path);
                if b.tainted(s.file, &cptr) {
                    ok = false;
                    continue;
                }
                match comparison(b, s, &cptr, path, spec) {
                    Some(mut cs) => out.append(&mut cs),
                    None => ok = false,
                }
            }
            if !ok {
                return None;
            }
            Some(if out.len() == 1 { out.pop()? } else { Cond::All(out.into()) })
        }
        other => {
            b.error_value(s.file, ptr, s.rule, format!("a condition is a mapping or a bool field name, not {}", short(other)), None);
            None
        }
    }
}

/// Resolve a field path written at `ptr`: as a key (`client.blocked: true`)
/// or, with `at_value`, as the value there (`deny: client.blocked`,
/// `gt: $channel.max_file_size`), which is where errors point.
fn field(b: &mut Builder, s: &mut Scope<'_>, ptr: &str, at_value: bool, path: &str) -> Option<(Field, Ty)> {
    let report = |b: &mut Builder, s: &Scope<'_>, msg: String, hint: Option<String>| {
        if at_value { b.error_value(s.file, ptr, s.rule, msg, hint) } else { b.error(s.file, ptr, s.rule, msg, hint) }
    };
    match resolve(b, path) {
        Ok((f, t)) => {
            if f.per_attachment() && !s.per_attachment {
                report(
                    b,
                    s,
                    format!("`{path}` is only known inside a rule with `each: attachment`"),
                    Some("add `each: attachment` to the rule, or use `message.attachments.count` / `.total_size`".into()),
                );
                return None;
            }
            s.about_message |= f.about_message();
            s.about_thread |= f.about_thread();
            Some((f, t))
        }
        Err((msg, hint)) => {
            report(b, s, msg, hint);
            None
        }
    }
}

/// Record a leaf as written, for explanations; its index.
fn leaf_info(b: &mut Builder, path: &str, field: Field, ty: Ty, op: &str, operand: &str, rhs: Option<(Field, Ty)>) -> u32 {
    b.rs.leaves.push(LeafInfo {
        text: format!("{path} {op} {operand}").into(),
        path: path.into(),
        field,
        ty,
        op: op.into(),
        operand: operand.into(),
        rhs,
    });
    u32::try_from(b.rs.leaves.len().saturating_sub(1)).unwrap_or(u32::MAX)
}

/// `path: spec` — one or more leaves.
fn comparison(b: &mut Builder, s: &mut Scope<'_>, ptr: &str, path: &str, spec: &Json) -> Option<Vec<Cond>> {
    let (f, ty) = field(b, s, ptr, false, path)?;
    match spec {
        Json::Object(ops) => {
            if ops.is_empty() {
                b.error(s.file, ptr, s.rule, format!("no operator for `{path}`"), Some(one_of(OPS.iter().copied())));
                return None;
            }
            let mut out = Vec::new();
            let mut ok = true;
            for (op, arg) in ops {
                match leaf(b, s, &join(ptr, op), path, f, ty, op, arg) {
                    Some(c) => out.push(c),
                    None => ok = false,
                }
            }
            ok.then_some(out)
        }
        Json::Array(_) if ty.elem().is_none() => {
            b.error_value(
                s.file,
                ptr,
                s.rule,
                format!("`{path}` is a {ty}, not a set; a list cannot equal it"),
                Some(format!("to test membership write `{path}: {{ in: [...] }}`")),
            );
            None
        }
        _ => Some(vec![leaf(b, s, ptr, path, f, ty, "eq", spec)?]),
    }
}

#[allow(clippy::too_many_arguments)]
fn leaf(b: &mut Builder, s: &mut Scope<'_>, ptr: &str, path: &str, f: Field, ty: Ty, op: &str, arg: &Json) -> Option<Cond> {
    let fi = s.file;
    let rule = s.rule;
    let operand_text = arg.as_str().map(str::to_owned).unwrap_or_else(|| short(arg));
    let type_err = |b: &mut Builder, what: &str| {
        b.error(fi, ptr, rule, format!("operator `{op}` {what}; `{path}` is a {ty}"), None);
        None
    };
    let flag = |b: &mut Builder| -> Option<bool> {
        let v = arg.as_bool();
        if v.is_none() {
            b.error_value(fi, ptr, rule, format!("`{op}` takes true or false, found {}", short(arg)), None);
        }
        v
    };
    let op_name = op;
    let cmp = |b: &mut Builder, s: &mut Scope<'_>, op: Op, want: Ty| -> Option<Cond> {
        let (rhs, rhs_ty) = operand(b, s, ptr, arg, want)?;
        let reads = match (&rhs, rhs_ty) {
            (Operand::Field(g), Some(t)) => Some((*g, t)),
            _ => None,
        };
        let t = leaf_info(b, path, f, ty, op_name, &operand_text, reads);
        Some(Cond::Cmp { field: f, op, rhs, text: t })
    };
    match op {
        "eq" | "ne" => cmp(b, s, if op == "eq" { Op::Eq } else { Op::Ne }, ty),
        "lt" | "le" | "gt" | "ge" => {
            if !(ty.is_numeric() || ty == Ty::Time) {
                return type_err(b, "compares numbers, sizes, durations or instants");
            }
            let o = match op {
                "lt" => Op::Lt,
                "le" => Op::Le,
                "gt" => Op::Gt,
                _ => Op::Ge,
            };
            cmp(b, s, o, ty)
        }
        "in" | "not_in" => {
            let Some(set) = ty.set_of() else { return type_err(b, "tests membership of a string or a name") };
            cmp(b, s, if op == "in" { Op::In } else { Op::NotIn }, set)
        }
        "contains" | "not_contains" => {
            let Some(elem) = ty.elem() else { return type_err(b, "needs a set") };
            cmp(b, s, if op == "contains" { Op::Contains } else { Op::NotContains }, elem)
        }
        "any_in" | "none_in" | "all_in" => {
            if ty.elem().is_none() {
                return type_err(b, "needs a set");
            }
            let o = match op {
                "any_in" => Op::AnyIn,
                "none_in" => Op::NoneIn,
                _ => Op::AllIn,
            };
            cmp(b, s, o, ty)
        }
        "within" | "not_within" => {
            if ty != Ty::Time {
                return type_err(b, "needs an instant");
            }
            cmp(b, s, if op == "within" { Op::Within } else { Op::NotWithin }, Ty::Duration)
        }
        "present" | "blank" => {
            let expect = flag(b)?;
            let t = leaf_info(b, path, f, ty, op, &operand_text, None);
            Some(if op == "present" { Cond::Present { field: f, expect, text: t } } else { Cond::Blank { field: f, expect, text: t } })
        }
        "empty" => {
            if ty.elem().is_none() {
                return type_err(b, "needs a set");
            }
            let expect = flag(b)?;
            let t = leaf_info(b, path, f, ty, op, &operand_text, None);
            Some(Cond::Empty { field: f, expect, text: t })
        }
        "local_time" => {
            if ty != Ty::Time {
                return type_err(b, "needs an instant");
            }
            let Some(obj) = arg.as_object() else {
                b.error_value(fi, ptr, rule, "`local_time` takes `{ from: \"HH:MM\", to: \"HH:MM\", timezone: … }`", None);
                return None;
            };
            for k in obj.keys() {
                if !["from", "to", "timezone"].contains(&k.as_str()) {
                    b.error(fi, &join(ptr, k), rule, format!("unknown key `{k}` in `local_time`"), Some("`from`, `to`, `timezone`".into()));
                    return None;
                }
            }
            let mut minute = |key: &str| -> Option<u32> {
                let Some(v) = obj.get(key) else {
                    b.error(fi, ptr, rule, format!("`local_time` needs `{key}`"), None);
                    return None;
                };
                literal::time_of_day(v).map_err(|e| b.error_value(fi, &join(ptr, key), rule, e.message, e.hint)).ok()
            };
            let from = minute("from");
            let to = minute("to");
            let tz = match obj.get("timezone") {
                Some(z) => operand(b, s, &join(ptr, "timezone"), z, Ty::Timezone).map(|(o, _)| o),
                None => Some(Operand::Const(Value::Tz(chrono_tz::UTC))),
            };
            let (from, to, tz) = (from?, to?, tz?);
            let t = leaf_info(b, path, f, ty, op, &operand_text, None);
            Some(Cond::LocalTime { field: f, from, to, tz, expect: true, text: t })
        }
        _ => {
            let hint = did_you_mean(op, OPS.iter().copied()).or_else(|| Some(one_of(OPS.iter().copied())));
            b.error(fi, ptr, rule, format!("unknown operator `{op}`"), hint);
            None
        }
    }
}

/// A literal of type `want`, or `$path` naming a field of a compatible
/// type (with that field's type).
fn operand(b: &mut Builder, s: &mut Scope<'_>, ptr: &str, arg: &Json, want: Ty) -> Option<(Operand, Option<Ty>)> {
    if let Some(path) = arg.as_str().and_then(|a| a.strip_prefix('$')) {
        let (f, ty) = field(b, s, ptr, true, path)?;
        let ok = ty.comparable(want) || matches!((ty, want), (Ty::ExtSet, Ty::StrSet) | (Ty::StrSet, Ty::ExtSet));
        if !ok {
            b.error_value(s.file, ptr, s.rule, format!("`${path}` is a {ty}, but a {want} is needed here"), None);
            return None;
        }
        return Some((Operand::Field(f), Some(ty)));
    }
    match literal::parse(want, arg, &|d| b.rs.names(d)) {
        Ok(v) => Some((Operand::Const(v), None)),
        Err(e) => {
            b.error_value(s.file, ptr, s.rule, e.message, e.hint);
            None
        }
    }
}
