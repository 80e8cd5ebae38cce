//! Rules, exceptions and rule tests.
//!
//! Rules keep their file order (files sorted by path); ids are unique
//! across rules and exceptions of the whole set. An exception names the
//! rules it carves out, and may only read per-attachment fields when every
//! rule it overrides is per attachment.

use std::collections::HashMap;

use serde_json::Value as Json;

use crate::engine::model::{Exception, Rule, RuleTest};
use crate::rules::diag::{did_you_mean, one_of};
use crate::rules::locate::join;
use crate::rules::syntax::{RulesFile, TestsFile};

use super::Builder;
use super::cond::{self, Scope};

pub(super) fn compile(b: &mut Builder) {
    // id → (file, pointer) of its first declaration
    let mut ids: HashMap<String, (usize, String)> = HashMap::new();
    let mut pending: Vec<(usize, String, String, Json, Vec<String>)> = Vec::new();
    for fi in b.files_of("rules") {
        let Some(file) = b.typed::<RulesFile>(fi) else { continue };
        for (i, r) in file.rules.iter().enumerate() {
            let ptr = format!("/rules/{i}");
            b.declared.insert(r.id.clone());
            if !unique(b, &mut ids, fi, &ptr, &r.id) {
                continue;
            }
            let per_attachment = match r.each.as_deref() {
                None => false,
                Some("attachment") => true,
                Some(other) => {
                    b.error_value(
                        fi,
                        &format!("{ptr}/each"),
                        Some(&r.id),
                        format!("cannot iterate over `{other}`"),
                        Some("`each: attachment` is the one collection rules iterate".into()),
                    );
                    continue;
                }
            };
            let code = match b.rs.code_index.get(r.code.as_str()) {
                Some(c) => *c,
                None => {
                    let hint = did_you_mean(&r.code, b.rs.codes.iter().map(|c| &*c.name))
                        .or_else(|| Some("declare it under `codes:` in the catalog".into()));
                    b.error_value(fi, &format!("{ptr}/code"), Some(&r.id), format!("unknown code `{}`", r.code), hint);
                    continue;
                }
            };
            let mut scope = Scope { file: fi, rule: &r.id, per_attachment, about_message: false, about_thread: false };
            let Some(c) = cond::compile(b, &mut scope, &format!("{ptr}/deny"), &r.deny) else { continue };
            let about_message = scope.about_message || per_attachment;
            let about_thread = scope.about_thread;
            let pos = b.pos(fi, &ptr);
            b.rs.rules.push(Rule {
                id: r.id.as_str().into(),
                description: r.description.as_deref().map(Into::into),
                code,
                message: r.message.as_deref().map(Into::into),
                per_attachment,
                about_message,
                about_thread,
                cond: c,
                exceptions: Box::new([]),
                file: fi as u32,
                line: pos.line,
                column: pos.column,
            });
        }
        for (i, e) in file.exceptions.into_iter().enumerate() {
            let ptr = format!("/exceptions/{i}");
            if unique(b, &mut ids, fi, &ptr, &e.id) {
                pending.push((fi, ptr, e.id, e.when, e.overrides));
            }
        }
    }
    let rule_index: HashMap<String, u32> = b.rs.rules.iter().enumerate().map(|(i, r)| (r.id.to_string(), i as u32)).collect();
    for (fi, ptr, id, when, overrides) in pending {
        let mut targets = Vec::new();
        for (j, target) in overrides.iter().enumerate() {
            match rule_index.get(target) {
                Some(r) => targets.push(*r),
                None if b.declared.contains(target) => {}
                None => {
                    let hint = did_you_mean(target, rule_index.keys().map(String::as_str));
                    b.error(fi, &format!("{ptr}/overrides/{j}"), Some(&id), format!("no rule `{target}` to override"), hint);
                }
            }
        }
        if targets.len() != overrides.len() {
            continue;
        }
        let per_attachment = !targets.is_empty() && targets.iter().all(|t| b.rs.rules.get(*t as usize).is_some_and(|r| r.per_attachment));
        let mut scope = Scope { file: fi, rule: &id, per_attachment, about_message: false, about_thread: false };
        let Some(c) = cond::compile(b, &mut scope, &format!("{ptr}/when"), &when) else { continue };
        let (about_message, about_thread) = (scope.about_message, scope.about_thread);
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
        let pos = b.pos(fi, &ptr);
        b.rs.exceptions.push(Exception {
            id: id.as_str().into(),
            description: None,
            cond: c,
            overrides: targets.into(),
            file: fi as u32,
            line: pos.line,
        });
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

pub(super) fn compile_tests(b: &mut Builder) {
    for fi in b.files_of("tests") {
        let Some(file) = b.typed::<TestsFile>(fi) else { continue };
        let base = file.base.unwrap_or(Json::Object(Default::default()));
        let mut names: HashMap<String, usize> = HashMap::new();
        for (i, t) in file.tests.into_iter().enumerate() {
            let ptr = format!("/tests/{i}");
            if names.insert(t.name.clone(), i).is_some() {
                b.error_value(fi, &join(&ptr, "name"), Some(&t.name), format!("two tests named `{}` in this file", t.name), None);
                continue;
            }
            let mut ok = true;
            for (j, code) in t.expect.codes.iter().flatten().enumerate() {
                if !b.rs.code_index.contains_key(code.as_str()) {
                    let hint = did_you_mean(code, b.rs.codes.iter().map(|c| &*c.name))
                        .or_else(|| Some(one_of(b.rs.codes.iter().map(|c| &*c.name))));
                    b.error(fi, &format!("{ptr}/expect/codes/{j}"), Some(&t.name), format!("unknown code `{code}`"), hint);
                    ok = false;
                }
            }
            for (j, rule) in t.expect.rules.iter().flatten().enumerate() {
                if !b.declared.contains(rule) {
                    let hint = did_you_mean(rule, b.rs.rules.iter().map(|r| &*r.id));
                    b.error(fi, &format!("{ptr}/expect/rules/{j}"), Some(&t.name), format!("unknown rule `{rule}`"), hint);
                    ok = false;
                }
            }
            if t.expect.allowed && t.expect.codes.as_ref().is_some_and(|c| !c.is_empty()) {
                b.error(fi, &format!("{ptr}/expect"), Some(&t.name), "a test cannot expect `allowed: true` and violation codes", None);
                ok = false;
            }
            let request = merge(&base, &t.request);
            // Decode now, so a typo in a test is a load error that points at it.
            if let Err(problems) = crate::request::decode(&request).and_then(|r| crate::request::bind(&b.rs, &r, 0).map(|_| ())) {
                for p in problems {
                    let at = format!("{ptr}/request{}", p.pointer);
                    b.error(fi, &at, Some(&t.name), format!("test request: {} (at {})", p.message, p.pointer), None);
                }
                ok = false;
            }
            if !ok {
                continue;
            }
            let pos = b.pos(fi, &ptr);
            b.rs.tests.push(RuleTest {
                name: t.name.as_str().into(),
                file: fi as u32,
                line: pos.line,
                column: pos.column,
                request,
                expect_allowed: t.expect.allowed,
                expect_codes: t.expect.codes,
                expect_rules: t.expect.rules,
            });
        }
    }
}
