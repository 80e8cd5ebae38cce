//! What callers send: the request of SPEC §4.1, decoded strictly.
//!
//! Two steps, both collecting JSON pointers for every problem:
//! 1. [`decode`]: JSON → [`CanSendRequest`]. Shape only: unknown fields,
//!    wrong types, negative sizes, missing required fields.
//! 2. [`bind`]: names resolved against the rule set that will evaluate the
//!    request (tenant, channel, role, action, attributes), defaults filled,
//!    limits enforced, derived facts computed → [`Input`].
//!
//! Unknown names in `client.channels` are dropped, not refused: a client's
//! history outlives a retired channel (SPEC §4.1).

pub mod shape;
pub mod strict;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::engine::input::{Attachment, Input, Template, extension_of};
use crate::engine::model::{AttrDef, RuleSet};
use crate::engine::value::{Domain, Ty, Value};
use crate::text::hint::{did_you_mean, one_of};
use crate::text::literal;

/// Longest free text (`message.text`, template header/footer), in bytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Longest other string (names, ids, tags, identifiers), in bytes.
pub const MAX_STRING_BYTES: usize = 1024;
/// Most items in a list (`client.channels`, `thread.tags`, `message.attachments`).
pub const MAX_LIST_ITEMS: usize = 100;
/// Most custom attributes in one object.
pub const MAX_ATTRIBUTES: usize = 64;

/// One problem in a request: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON pointer (RFC 6901) into the request body.
    pub pointer: String,
    pub message: String,
}

impl FieldError {
    fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self { pointer: pointer.into(), message: message.into() }
    }
}

/// `POST /v1/can-send` body.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CanSendRequest {
    /// Tenant (installation); default from the rules (`default`).
    #[serde(default)]
    pub tenant: Option<String>,
    #[serde(deserialize_with = "strict::obj")]
    pub sender: Sender,
    /// What the sender does; default from the rules (`send`).
    #[serde(default)]
    pub action: Option<String>,
    /// The instant of sending (RFC 3339); default: the server's now.
    #[serde(default)]
    pub at: Option<String>,
    #[serde(deserialize_with = "strict::obj")]
    pub client: Client,
    /// The channel to send over; must be known to the rules.
    pub channel: String,
    #[serde(default, deserialize_with = "strict::opt_obj")]
    pub thread: Option<Thread>,
    #[serde(deserialize_with = "strict::obj")]
    pub message: Message,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Sender {
    pub role: String,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// Custom attributes declared in the rules' catalog.
    #[serde(default, deserialize_with = "strict::opt_unique_map")]
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Map<String, Json>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// A client status declared in the rules (`existing` or `new`).
    pub status: String,
    #[serde(default)]
    pub blocked: Option<bool>,
    #[serde(default)]
    pub active_thread: Option<bool>,
    /// Channels the client has written from; unknown names are ignored.
    #[serde(default)]
    pub channels: Option<Vec<String>>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    /// The client's last inbound message (RFC 3339).
    #[serde(default)]
    pub last_inbound_at: Option<String>,
    #[serde(default, deserialize_with = "strict::opt_unique_map")]
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Map<String, Json>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Thread {
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Message {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default, deserialize_with = "strict::opt_obj")]
    pub template: Option<TemplateIn>,
    #[serde(default, deserialize_with = "strict::opt_vec_obj")]
    pub attachments: Option<Vec<AttachmentIn>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateIn {
    pub name: String,
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub footer: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentIn {
    pub name: String,
    /// Bytes, an integer ≥ 0.
    pub size: u64,
}

/// Decode a JSON value into a request, or say where its shape is wrong —
/// every place (see [`shape`]).
pub fn decode(v: &Json) -> Result<CanSendRequest, Vec<FieldError>> {
    decode_all(v)
}

/// Decode a strict body type; on failure, serde's error first, then every
/// other problem the type's JSON Schema finds, one per pointer.
pub fn decode_all<T: serde::de::DeserializeOwned + utoipa::ToSchema>(v: &Json) -> Result<T, Vec<FieldError>> {
    decode_as(v).map_err(|mut errs| {
        let mut seen: std::collections::HashSet<String> = errs.iter().map(|e| e.pointer.clone()).collect();
        for e in shape::errors::<T>(v) {
            if errs.len() >= shape::MAX_ERRORS {
                break;
            }
            if seen.insert(e.pointer.clone()) {
                errs.push(e);
            }
        }
        errs
    })
}

/// Decode any strict body type, with a pointer on failure.
pub fn decode_as<T: serde::de::DeserializeOwned>(v: &Json) -> Result<T, Vec<FieldError>> {
    serde_path_to_error::deserialize::<_, strict::Obj<T>>(v).map(|strict::Obj(t)| t).map_err(|e| {
        let mut pointer = crate::text::pointer::from_path(e.path());
        let message = e.inner().to_string();
        // serde names the missing or unknown field in the message and points
        // at its parent; point at the field itself.
        for prefix in ["missing field `", "unknown field `"] {
            if let Some(rest) = message.strip_prefix(prefix)
                && let Some(end) = rest.find('`')
            {
                let field = crate::text::pointer::join("", &rest[..end]);
                if !pointer.ends_with(&field) {
                    pointer.push_str(&field);
                }
            }
        }
        vec![FieldError::new(pointer, message)]
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_field_points_at_it() {
        let errs =
            decode(&json!({"sender": {"role": "agent"}, "client": {"status": "new", "blockd": true}, "channel": "x", "message": {}}))
                .unwrap_err();
        assert_eq!(errs[0].pointer, "/client/blockd");
    }

    #[test]
    fn missing_field_points_at_it() {
        let errs = decode(&json!({"sender": {}, "client": {"status": "new"}, "channel": "x", "message": {}})).unwrap_err();
        assert_eq!(errs[0].pointer, "/sender/role");
    }

    #[test]
    fn a_template_without_a_name_is_refused() {
        let rs = crate::rules::load_builtin(0).expect("builtin").rules;
        for name in ["", "  "] {
            let body = json!({"sender": {"role": "agent"}, "client": {"status": "existing", "channels": ["email"]}, "channel": "email",
                              "message": {"text": "hi", "template": {"name": name}}});
            let errs = parse(&rs, &body, 0).unwrap_err();
            assert_eq!(errs[0].pointer, "/message/template/name", "{name:?}");
        }
    }

    #[test]
    fn negative_size_points_at_it() {
        let errs = decode(&json!({"sender": {"role": "a"}, "client": {"status": "new"}, "channel": "x", "message": {"attachments": [{"name": "a", "size": -1}]}}))
            .unwrap_err();
        assert_eq!(errs[0].pointer, "/message/attachments/0/size");
    }
}
