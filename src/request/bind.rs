//! Binding: a decoded request resolved against the rule set that will
//! evaluate it — tenant, channel, role, action and attributes by name,
//! defaults filled, limits enforced, derived facts (extensions, the total
//! size) computed once — into the engine's [`Input`]. Every problem is
//! reported with its pointer, not only the first.
//!
//! Unknown names in `client.channels` are dropped, not refused: a client's
//! history outlives a retired channel.

use serde_json::Value as Json;

use super::{CanSendRequest, FieldError, MAX_ATTRIBUTES, MAX_LIST_ITEMS, MAX_STRING_BYTES, MAX_TEXT_BYTES, decode};
use crate::engine::input::{Attachment, Input, Template, extension_of};
use crate::engine::model::{AttrDef, RuleSet};
use crate::engine::value::{Domain, Ty, Value};
use crate::text::hint::{did_you_mean, one_of};
use crate::text::literal;

/// Resolve a decoded request against `rs`. `now` (ms since the epoch) is
/// the instant used when the request has no `at`.
pub fn bind(rs: &RuleSet, r: &CanSendRequest, now: i64) -> Result<Input, Vec<FieldError>> {
    let mut errs = Vec::new();
    let mut e = |p: &str, m: String| errs.push(FieldError::new(p, m));

    let tenant = match &r.tenant {
        None => rs.default_tenant,
        Some(t) => name(rs, Domain::Tenant, t, "/tenant", &mut e).unwrap_or(0),
    };
    let action = match &r.action {
        None => rs.default_action,
        Some(a) => name(rs, Domain::Action, a, "/action", &mut e).unwrap_or(0),
    };
    let channel = name(rs, Domain::Channel, &r.channel, "/channel", &mut e).unwrap_or(0);
    let at = match &r.at {
        None => now,
        Some(s) => instant(s, "/at", &mut e),
    };
    let sender_role = name(rs, Domain::Role, &r.sender.role, "/sender/role", &mut e).unwrap_or(0);
    let sender_id = string(&r.sender.id, "/sender/id", MAX_STRING_BYTES, &mut e);
    let sender_status = string(&r.sender.status, "/sender/status", MAX_STRING_BYTES, &mut e);
    let sender_attrs = attributes(&rs.sender_attrs, r.sender.attributes.as_ref(), "/sender/attributes", &mut e);

    let c = &r.client;
    let client_status = name(rs, Domain::ClientStatus, &c.status, "/client/status", &mut e).unwrap_or(0);
    let mut client_channels = 0u64;
    if let Some(list) = &c.channels {
        if list.len() > MAX_LIST_ITEMS {
            e("/client/channels", format!("more than {MAX_LIST_ITEMS} channels"));
        }
        for ch in list.iter().take(MAX_LIST_ITEMS) {
            if let Some(i) = rs.channels.get(ch).filter(|i| *i < 64) {
                client_channels |= 1 << i;
            }
        }
    }
    let client_email = string(&c.email, "/client/email", MAX_STRING_BYTES, &mut e);
    let client_phone = string(&c.phone, "/client/phone", MAX_STRING_BYTES, &mut e);
    let client_external_id = string(&c.external_id, "/client/external_id", MAX_STRING_BYTES, &mut e);
    let client_last_inbound_at = c.last_inbound_at.as_deref().map(|s| instant(s, "/client/last_inbound_at", &mut e));
    let client_attrs = attributes(&rs.client_attrs, c.attributes.as_ref(), "/client/attributes", &mut e);

    let mut thread_tags = Vec::new();
    if let Some(tags) = r.thread.as_ref().and_then(|t| t.tags.as_ref()) {
        thread_tags.reserve_exact(tags.len().min(MAX_LIST_ITEMS));
        if tags.len() > MAX_LIST_ITEMS {
            e("/thread/tags", format!("more than {MAX_LIST_ITEMS} tags"));
        }
        for (i, t) in tags.iter().enumerate().take(MAX_LIST_ITEMS) {
            if t.len() > MAX_STRING_BYTES {
                e(&format!("/thread/tags/{i}"), format!("longer than {MAX_STRING_BYTES} bytes"));
            }
            thread_tags.push(t.as_str().into());
        }
    }

    let m = &r.message;
    let text = string(&m.text, "/message/text", MAX_TEXT_BYTES, &mut e);
    let template = m.template.as_ref().map(|t| {
        // A template is a pre-approved form, known by its name: without
        // one it is no template at all, and rules could not tell it apart
        // from none (`message.template` reads the name).
        if t.name.trim().is_empty() {
            e("/message/template/name", "a template needs a name".into());
        }
        Template {
            name: string(&Some(t.name.clone()), "/message/template/name", MAX_STRING_BYTES, &mut e).unwrap_or_default(),
            header: string(&t.header, "/message/template/header", MAX_TEXT_BYTES, &mut e),
            footer: string(&t.footer, "/message/template/footer", MAX_TEXT_BYTES, &mut e),
        }
    });
    let mut attachments = Vec::new();
    let mut total_size = 0i64;
    if let Some(list) = &m.attachments {
        attachments.reserve_exact(list.len().min(MAX_LIST_ITEMS));
        if list.len() > MAX_LIST_ITEMS {
            e("/message/attachments", format!("more than {MAX_LIST_ITEMS} attachments"));
        }
        for (i, a) in list.iter().enumerate().take(MAX_LIST_ITEMS) {
            if a.name.len() > MAX_STRING_BYTES {
                e(&format!("/message/attachments/{i}/name"), format!("longer than {MAX_STRING_BYTES} bytes"));
            }
            let size = match i64::try_from(a.size) {
                Ok(s) => s,
                Err(_) => {
                    e(&format!("/message/attachments/{i}/size"), format!("{} is too large", a.size));
                    0
                }
            };
            total_size = total_size.saturating_add(size);
            attachments.push(Attachment { name: a.name.as_str().into(), extension: extension_of(&a.name), size });
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(Input {
        tenant,
        action,
        channel,
        at,
        sender_role,
        sender_id,
        sender_status,
        sender_attrs,
        client_status,
        client_blocked: c.blocked.unwrap_or(false),
        client_active_thread: c.active_thread.unwrap_or(false),
        client_channels,
        client_email,
        client_phone,
        client_external_id,
        client_last_inbound_at,
        client_attrs,
        thread_tags: thread_tags.into(),
        text,
        template,
        attachments: attachments.into(),
        total_size,
    })
}

/// Decode and bind in one go, from a JSON value.
pub fn parse(rs: &RuleSet, v: &Json, now: i64) -> Result<Input, Vec<FieldError>> {
    bind(rs, &decode(v)?, now)
}

fn name(rs: &RuleSet, d: Domain, s: &str, p: &str, e: &mut impl FnMut(&str, String)) -> Option<u32> {
    let names = rs.names(d);
    let found = names.get(s);
    if found.is_none() {
        let shown: String = s.chars().take(64).collect();
        let hint = did_you_mean(s, names.names.iter().map(|n| &**n))
            .unwrap_or_else(|| format!("expected {}", one_of(names.names.iter().map(|n| &**n))));
        e(p, format!("unknown {} `{shown}`; {hint}", d.name()));
    }
    found
}

fn instant(s: &str, p: &str, e: &mut impl FnMut(&str, String)) -> i64 {
    match chrono::DateTime::parse_from_rfc3339(s) {
        Ok(t) => t.timestamp_millis(),
        Err(_) => {
            let shown: String = s.chars().take(64).collect();
            e(p, format!("`{shown}` is not an RFC 3339 instant (e.g. 2026-11-20T09:30:00Z)"));
            0
        }
    }
}

fn string(s: &Option<String>, p: &str, max: usize, e: &mut impl FnMut(&str, String)) -> Option<Box<str>> {
    let s = s.as_ref()?;
    if s.len() > max {
        e(p, format!("longer than {max} bytes"));
    }
    Some(s.as_str().into())
}

fn attributes(
    decls: &[AttrDef],
    given: Option<&serde_json::Map<String, Json>>,
    base: &str,
    e: &mut impl FnMut(&str, String),
) -> Box<[Option<Value>]> {
    let mut out: Vec<Option<Value>> = vec![None; decls.len()];
    let Some(given) = given else { return out.into() };
    if given.len() > MAX_ATTRIBUTES {
        e(base, format!("more than {MAX_ATTRIBUTES} attributes"));
        return out.into();
    }
    let no_names = |_: Domain| -> &crate::engine::model::Names {
        static EMPTY: std::sync::OnceLock<crate::engine::model::Names> = std::sync::OnceLock::new();
        EMPTY.get_or_init(Default::default)
    };
    for (k, v) in given {
        let p = crate::text::pointer::join(base, k);
        let Some(i) = decls.iter().position(|d| &*d.name == k) else {
            let hint = did_you_mean(k, decls.iter().map(|d| &*d.name)).unwrap_or_else(|| {
                if decls.is_empty() {
                    "no attributes are declared".into()
                } else {
                    format!("declared: {}", one_of(decls.iter().map(|d| &*d.name)))
                }
            });
            e(&p, format!("undeclared attribute `{k}`; {hint}"));
            continue;
        };
        if v.is_null() {
            continue;
        }
        let Some(decl) = decls.get(i) else { continue };
        let parsed = match decl.ty {
            Ty::Time => v.as_str().map(|s| instant(s, &p, e)).map(Value::Time).ok_or_else(|| "expected an RFC 3339 instant".to_owned()),
            Ty::StrSet if v.as_array().is_some_and(|a| a.len() > MAX_LIST_ITEMS) => Err(format!("more than {MAX_LIST_ITEMS} items")),
            Ty::Str if v.as_str().is_some_and(|s| s.len() > MAX_STRING_BYTES) => Err(format!("longer than {MAX_STRING_BYTES} bytes")),
            ty => literal::parse(ty, v, &no_names).map_err(|err| format!("attribute `{k}` is a {ty}: {}", err.message)),
        };
        match parsed {
            Ok(val) => {
                if let Some(slot) = out.get_mut(i) {
                    *slot = Some(val);
                }
            }
            Err(m) => e(&p, m),
        }
    }
    out.into()
}
