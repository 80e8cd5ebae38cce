//! Rules, exceptions and rule tests.
//!
//! Rules keep their file order (files sorted by path); ids are unique
//! across rules and exceptions of the whole set. An exception names the
//! rules it carves out, and may only read per-attachment fields when every
//! rule it overrides is per attachment.
//!
//! Rules files are read from the JSON tree part by part rather than
//! deserialized whole, so that everything about a rule is checked and
//! reported together — its id, `each`, `code` and condition, an
//! exception's targets and `when` — even when one of them is wrong, and
//! even in a file the schema refused (the parts it refused are skipped:
//! its errors already say what is wrong there). Nothing that is wrong is
//! reported twice: a rule that did not compile is not "unknown" to the
//! exceptions and tests that name it.

use std::collections::HashMap;

use serde_json::Value as Json;

use crate::engine::model::{Exception, Rule};
use crate::rules::syntax::TestsFile;

use super::RuleTest;
use crate::text::hint::did_you_mean;

use super::Builder;
use super::cond::{self, Scope};

pub(super) fn compile(b: &mut Builder) {
    // id → (file, pointer) of its first declaration
    let mut ids: HashMap<String, (usize, String)> = HashMap::new();
    // id → whether the rule is per attachment (`None`: its `each` is wrong)
    let mut each_of: HashMap<String, Option<bool>> = HashMap::new();
    let mut pending: Vec<Pending> = Vec::new();
    for fi in b.files_of_any("rules") {
        let Some(value) = b.files.get(fi).map(|f| f.value.clone()) else { continue };
        for (i, item) in value.get("rules").and_then(Json::as_array).into_iter().flatten().enumerate() {
            let ptr = format!("/rules/{i}");
            let id = item.get("id").and_then(Json::as_str);
            // Every part is checked, whatever is wrong with the others; the
            // rule is built only when all of them are right.
            let mut ok = id.is_some() && !b.tainted(fi, &ptr);
            if let Some(id) = id {
                b.declared.insert(id.to_owned());
                ok &= unique(b, &mut ids, fi, &ptr, id);
            }
            let each = each(b, fi, &ptr, id, item);
            if let Some(id) = id {
                each_of.entry(id.to_owned()).or_insert(each);
            }
            let code = code(b, fi, &ptr, id, item);
            // With a wrong `each`, read the condition as if per attachment:
            // `attachment.size` is not reported again.
            let per_attachment = each.unwrap_or(true);
            let mut scope = Scope { file: fi, rule: id, per_attachment, about_message: false, about_thread: false };
            let cond = item.get("deny").and_then(|d| cond::compile(b, &mut scope, &format!("{ptr}/deny"), d));
            let (Some(id), Some(code), Some(cond), Some(per_attachment), true) = (id, code, cond, each, ok) else { continue };
            let pos = b.pos(fi, &ptr);
            b.rs.declared.rules.push(allowances(item));
            b.rs.rules.push(Rule {
                id: id.into(),
                description: item.get("description").and_then(Json::as_str).map(Into::into),
                code,
                message: item.get("message").and_then(Json::as_str).map(Into::into),
                per_attachment,
                about_message: scope.about_message || per_attachment,
                about_thread: scope.about_thread,
                cond,
                exceptions: Box::new([]),
                file: fi as u32,
                line: pos.line,
                column: pos.column,
            });
        }
        for (i, item) in value.get("exceptions").and_then(Json::as_array).into_iter().flatten().enumerate() {
            let ptr = format!("/exceptions/{i}");
            let id = item.get("id").and_then(Json::as_str).map(str::to_owned);
            let mut ok = id.is_some() && !b.tainted(fi, &ptr);
            if let Some(id) = &id {
                ok &= unique(b, &mut ids, fi, &ptr, id);
            }
            let overrides = item.get("overrides").and_then(Json::as_array).map(|targets| {
                let targets = targets.iter().enumerate();
                targets
                    .map(|(j, t)| (j, t.as_str().filter(|_| !b.tainted(fi, &format!("{ptr}/overrides/{j}"))).map(str::to_owned)))
                    .collect()
            });
            ok &= overrides.is_some();
            pending.push(Pending {
                file: fi,
                ptr,
                id,
                description: item.get("description").and_then(Json::as_str).map(str::to_owned),
                allow: allowances(item),
                when: item.get("when").cloned(),
                overrides: overrides.unwrap_or_default(),
                ok,
            });
        }
    }
    let rule_index: HashMap<String, u32> = b.rs.rules.iter().enumerate().map(|(i, r)| (r.id.to_string(), i as u32)).collect();
    for e in pending {
        let (fi, ptr) = (e.file, e.ptr.as_str());
        let mut ok = e.ok;
        let mut targets = Vec::new();
        // Whether every rule overridden is per attachment, as far as known.
        let mut per_attachment = !e.overrides.is_empty();
        for (j, target) in &e.overrides {
            let Some(target) = target else {
                ok = false;
                continue;
            };
            match rule_index.get(target) {
                Some(r) => {
                    targets.push(*r);
                    per_attachment &= b.rs.rules.get(*r as usize).is_some_and(|r| r.per_attachment);
                }
                // A rule that did not compile: its own errors say why.
                None if b.declared.contains(target) => {
                    ok = false;
                    per_attachment &= each_of.get(target).copied().flatten().unwrap_or(true);
                }
                None => {
                    ok = false;
                    let hint = did_you_mean(target, rule_index.keys().map(String::as_str));
                    b.error_value(fi, &format!("{ptr}/overrides/{j}"), e.id.as_deref(), format!("no rule `{target}` to override"), hint);
                }
            }
        }
        // The condition is checked whatever is wrong with the targets.
        let mut scope = Scope { file: fi, rule: e.id.as_deref(), per_attachment, about_message: false, about_thread: false };
        let cond = e.when.as_ref().and_then(|w| cond::compile(b, &mut scope, &format!("{ptr}/when"), w));
        let (about_message, about_thread) = (scope.about_message, scope.about_thread);
        let (Some(id), Some(cond), true) = (e.id, cond, ok) else { continue };
        let ei = b.rs.exceptions.len() as u32;
        for t in &targets {
            if let Some(rule) = b.rs.rules.get_mut(*t as usize) {
                let mut ex = rule.exceptions.to_vec();
                ex.push(ei);
                rule.exceptions = ex.into();
                // A rule an exception about the message can lift depends on the message too.
                rule.about_message |= about_message;
                rule.about_thread |= about_thread;
            }
        }
        let pos = b.pos(fi, ptr);
        b.rs.declared.exceptions.push(e.allow);
        b.rs.exceptions.push(Exception {
            id: id.as_str().into(),
            description: e.description.as_deref().map(Into::into),
            cond,
            overrides: targets.into(),
            file: fi as u32,
            line: pos.line,
        });
    }
}

/// An exception as written, waiting for every rule to be known.
struct Pending {
    file: usize,
    ptr: String,
    id: Option<String>,
    description: Option<String>,
    allow: Box<[Box<str>]>,
    when: Option<Json>,
    /// Each target by index; `None` where the schema refused it.
    overrides: Vec<(usize, Option<String>)>,
    ok: bool,
}

/// The findings a rule or an exception accepts (`allow_findings: [redundant]`;
/// the schema has checked the names).
fn allowances(item: &Json) -> Box<[Box<str>]> {
    let list = item.get("allow_findings").and_then(Json::as_array).into_iter().flatten();
    list.filter_map(Json::as_str).map(Into::into).collect()
}

/// A rule's `each`: `Some(true)` per attachment, `Some(false)` once per
/// request, `None` when it is wrong (and reported, here or by the schema).
fn each(b: &mut Builder, fi: usize, ptr: &str, id: Option<&str>, item: &Json) -> Option<bool> {
    let eptr = format!("{ptr}/each");
    match item.get("each") {
        None => Some(false),
        Some(_) if b.tainted(fi, &eptr) => None,
        Some(Json::String(s)) if s == "attachment" => Some(true),
        Some(other) => {
            let what = other.as_str().map_or_else(|| other.to_string(), str::to_owned);
            b.error_value(
                fi,
                &eptr,
                id,
                format!("cannot iterate over `{what}`"),
                Some("`each: attachment` is the one collection rules iterate".into()),
            );
            None
        }
    }
}

/// A rule's `code`, resolved in the catalog; `None` when missing or wrong.
fn code(b: &mut Builder, fi: usize, ptr: &str, id: Option<&str>, item: &Json) -> Option<u32> {
    let cptr = format!("{ptr}/code");
    let name = item.get("code").and_then(Json::as_str).filter(|_| !b.tainted(fi, &cptr))?;
    match b.rs.code_index.get(name) {
        Some(c) => Some(*c),
        None => {
            let hint =
                did_you_mean(name, b.rs.codes.iter().map(|c| &*c.name)).or_else(|| Some("declare it under `codes:` in the catalog".into()));
            b.error_value(fi, &cptr, id, format!("unknown code `{name}`"), hint);
            None
        }
    }
}

fn unique(b: &mut Builder, ids: &mut HashMap<String, (usize, String)>, fi: usize, ptr: &str, id: &str) -> bool {
    if let Some((other, optr)) = ids.get(id) {
        let where_ = format!("{}:{}", b.path(*other), b.pos(*other, optr).line);
        b.error_value(
            fi,
            &format!("{ptr}/id"),
            Some(id),
            format!("duplicate rule id `{id}`"),
            Some(format!("first declared at {where_}; ids must be unique across all rule files")),
        );
        return false;
    }
    ids.insert(id.to_owned(), (fi, ptr.to_owned()));
    true
}

/// Deep-merge `over` onto `base`: maps merge key by key, anything else replaces.
pub fn merge(base: &Json, over: &Json) -> Json {
    match (base, over) {
        (Json::Object(a), Json::Object(b)) => {
            let mut out = a.clone();
            for (k, v) in b {
                let merged = match out.get(k) {
                    Some(old) => merge(old, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Json::Object(out)
        }
        (_, o) => o.clone(),
    }
}

/// Collect the rule tests as written, each with where it is. They are not
/// checked against the rules here: a test that no longer makes sense (a
/// tenant it names was deleted, a code it expects was renamed) is a failing
/// test of `cansend check`, never a reason not to serve the rules.
pub(super) fn collect_tests(b: &mut Builder) {
    for fi in b.files_of("tests") {
        let Some(file) = b.typed::<TestsFile>(fi) else { continue };
        let base = file.base.unwrap_or(Json::Object(Default::default()));
        for (i, t) in file.tests.into_iter().enumerate() {
            let pos = b.pos(fi, &format!("/tests/{i}"));
            let request = merge(&base, &t.request);
            b.tests.push(RuleTest {
                name: t.name,
                file: b.path(fi).to_owned(),
                line: pos.line,
                column: pos.column,
                request,
                expect: t.expect,
            });
        }
    }
}
