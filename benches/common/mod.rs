//! Shared by the benchmarks: request shapes, a generated many-tenant rule
//! set, and the hand-written floor — docs/domain.md §1 for the shipped rules as plain
//! Rust, independent of the engine, to measure the engine against.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a benchmark fails loudly")]
#![allow(dead_code)]

use cansend::SourceFile;
use cansend::request::CanSendRequest;
use serde_json::{Value, json};

/// 2026-11-24T12:00:00Z
pub const NOW: i64 = 1_795_521_600_000;

pub fn shapes() -> Vec<(&'static str, Value)> {
    vec![
        (
            "allowed_text",
            json!({"sender": {"role": "agent"}, "client": {"status": "existing", "channels": ["whatsapp", "email"]},
                   "channel": "whatsapp", "message": {"text": "Hello"}}),
        ),
        (
            "denied_several",
            json!({"tenant": "demo-tags", "sender": {"role": "supervisor"}, "action": "send_and_assign_self",
                   "client": {"status": "existing", "blocked": true, "active_thread": true, "channels": ["telegram"]},
                   "channel": "viber", "message": {"text": "  ", "attachments": [{"name": "a.exe", "size": 40_000_000}]}}),
        ),
        (
            "email_5_attachments",
            json!({"sender": {"role": "agent"}, "client": {"status": "existing", "channels": ["email"], "email": "a@b.c"},
                   "channel": "email", "message": {"text": "Invoices", "attachments": [
                       {"name": "a.pdf", "size": 1_000_000}, {"name": "b.PDF", "size": 2_000_000}, {"name": "c.docx", "size": 3_000_000},
                       {"name": "d.png", "size": 4_000_000}, {"name": "e.jpg", "size": 5_000_000}]}}),
        ),
        (
            "new_client",
            json!({"sender": {"role": "agent"}, "client": {"status": "new", "phone": "+79990001122"},
                   "channel": "viber", "message": {"text": "Hello"}}),
        ),
        (
            "template",
            json!({"sender": {"role": "agent"}, "client": {"status": "existing", "channels": ["whatsapp"]},
                   "channel": "whatsapp", "message": {"template": {"name": "order_ready", "header": "Hi"}}}),
        ),
    ]
}

/// A request on `tenant` with `n` attachments on email.
pub fn with_attachments(tenant: &str, n: usize) -> Value {
    let atts: Vec<Value> = (0..n).map(|i| json!({"name": format!("f{i}.pdf"), "size": 1000})).collect();
    json!({"tenant": tenant, "sender": {"role": "agent"}, "client": {"status": "existing", "channels": ["email"], "email": "a@b.c"},
           "channel": "email", "message": {"text": "x", "attachments": atts}})
}

/// The shipped rules plus `n` generated tenants (`t00000`…), each with a
/// small override, as tech support would write them: the email limits
/// raised, per file (31–99 MB) and per message (100–199 MB, so that the
/// file limit stays within it).
pub fn many_tenants(n: usize) -> Vec<SourceFile> {
    let mut files = cansend::builtin_rules();
    files.extend((0..n).map(generated_tenant));
    files
}

/// Generated tenant `i` (see [`many_tenants`]).
pub fn generated_tenant(i: usize) -> SourceFile {
    let text = format!(
        "kind: tenant\ntenant: t{i:05}\nchannels:\n  email:\n    max_file_size: {{ value: {} MB, ticket: SUP-{i} }}\n    max_total_size: {{ value: {} MB, ticket: SUP-{i} }}\n",
        31 + i % 69,
        100 + i % 100
    );
    SourceFile { path: format!("tenants/gen/t{i:05}.yaml"), text }
}

// ---------------------------------------------------------------------------
// The floor: the shipped default rules for the default tenant, by hand.

const DEFAULT_FORMATS: [&str; 8] = ["jpeg", "jpg", "png", "pdf", "doc", "docx", "rtf", "bmp"];

fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|s| s.trim().is_empty())
}

/// Codes docs/domain.md §1 gives for `r` on the `default` tenant.
pub fn floor(r: &CanSendRequest, out: &mut Vec<&'static str>) {
    let c = &r.client;
    let ch = r.channel.as_str();
    let channels = c.channels.as_deref().unwrap_or(&[]);
    let existing = c.status == "existing";
    let email_exception = ch == "email" && !blank(&c.email);
    if c.blocked == Some(true) {
        out.push("client_blocked");
    }
    if c.active_thread == Some(true) && !email_exception {
        out.push("active_thread");
    }
    if existing && !channels.iter().any(|x| x == ch) && !email_exception {
        out.push("channel_not_used_by_client");
    }
    if !existing && !matches!(ch, "whatsapp" | "viber" | "email" | "webchat" | "mobile_app") {
        out.push("channel_not_available_for_new_client");
    }
    if !existing {
        let missing = match ch {
            "whatsapp" | "viber" => blank(&c.phone),
            "email" => blank(&c.email),
            "webchat" | "mobile_app" => blank(&c.external_id),
            _ => false,
        };
        if missing {
            out.push("missing_client_identifier");
        }
    }
    let role = r.sender.role.as_str();
    if r.action.as_deref() == Some("send_and_assign_self") && role != "agent" {
        out.push("action_not_allowed");
    }
    let m = &r.message;
    let atts = m.attachments.as_deref().unwrap_or(&[]);
    if blank(&m.text) && m.template.is_none() && atts.is_empty() {
        out.push("empty_message");
    }
    if m.template.is_some() && !matches!(ch, "whatsapp" | "viber") {
        out.push("template_not_supported");
    }
    let max_count = if ch == "email" { 100 } else { 1 };
    if atts.len() > max_count {
        out.push("too_many_attachments");
    }
    let mut total = 0u64;
    for a in atts {
        let ext = a.name.rsplit_once('.').filter(|(s, e)| !s.is_empty() && !e.is_empty()).map(|(_, e)| e);
        if !ext.is_some_and(|e| DEFAULT_FORMATS.iter().any(|f| f.eq_ignore_ascii_case(e))) {
            out.push("attachment_format_not_allowed");
        }
        if a.size > 30_000_000 {
            out.push("attachment_too_large");
        }
        total = total.saturating_add(a.size);
    }
    if total > 30_000_000 {
        out.push("attachments_total_too_large");
    }
}

// ---------------------------------------------------------------------------
// The data-driven floor: docs/domain.md §1 by hand for every shipped tenant, with the
// per-tenant, per-channel and per-role settings looked up by name at each
// decision, as a hand-written service that tech support can configure
// would have to. `floor` above is the same rules with the default tenant's
// values as constants: the lower bound, not what a real service could do.

use std::collections::HashMap;

#[derive(Clone)]
pub struct ChannelCfg {
    connected: bool,
    for_new_clients: bool,
    identifier: Option<fn(&cansend::request::Client) -> &Option<String>>,
    templates: bool,
    max_count: usize,
    max_file: u64,
    max_total: u64,
    formats: Vec<String>,
}

pub struct TenantCfg {
    channels: HashMap<String, ChannelCfg>,
    tags_required: bool,
    available_tags: Vec<String>,
}

pub struct FloorData {
    tenants: HashMap<String, TenantCfg>,
    role_actions: HashMap<String, Vec<String>>,
}

pub fn floor_data() -> FloorData {
    let formats: Vec<String> = DEFAULT_FORMATS.iter().map(|s| s.to_string()).collect();
    let ch = |new: bool, id: Option<fn(&cansend::request::Client) -> &Option<String>>, templates: bool, max_count: usize| ChannelCfg {
        connected: true,
        for_new_clients: new,
        identifier: id,
        templates,
        max_count,
        max_file: 30_000_000,
        max_total: 30_000_000,
        formats: formats.clone(),
    };
    let phone: fn(&cansend::request::Client) -> &Option<String> = |c| &c.phone;
    let email: fn(&cansend::request::Client) -> &Option<String> = |c| &c.email;
    let external: fn(&cansend::request::Client) -> &Option<String> = |c| &c.external_id;
    let base: HashMap<String, ChannelCfg> = [
        ("whatsapp", ch(true, Some(phone), true, 1)),
        ("viber", ch(true, Some(phone), true, 1)),
        ("email", ch(true, Some(email), false, 100)),
        ("webchat", ch(true, Some(external), false, 1)),
        ("mobile_app", ch(true, Some(external), false, 1)),
        ("telegram", ch(false, None, false, 1)),
        ("vk", ch(false, None, false, 1)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let mut limits = base.clone();
    if let Some(v) = limits.get_mut("viber") {
        v.connected = false;
    }
    if let Some(e) = limits.get_mut("email") {
        e.max_file = 50_000_000;
        e.max_total = 100_000_000;
        e.formats.push("xlsx".into());
    }
    let tenants = HashMap::from([
        ("default".to_owned(), TenantCfg { channels: base.clone(), tags_required: false, available_tags: vec![] }),
        (
            "demo-tags".to_owned(),
            TenantCfg { channels: base, tags_required: true, available_tags: vec!["sales".into(), "support".into(), "billing".into()] },
        ),
        ("demo-limits".to_owned(), TenantCfg { channels: limits, tags_required: false, available_tags: vec![] }),
    ]);
    let role_actions = HashMap::from([
        ("agent".to_owned(), vec!["send".to_owned(), "send_and_assign_self".to_owned()]),
        ("supervisor".to_owned(), vec!["send".to_owned()]),
    ]);
    FloorData { tenants, role_actions }
}

/// Codes docs/domain.md §1 gives for `r` on any shipped tenant, settings looked up.
pub fn floor_any(d: &FloorData, r: &CanSendRequest, out: &mut Vec<&'static str>) {
    let Some(t) = d.tenants.get(r.tenant.as_deref().unwrap_or("default")) else { return };
    let Some(cfg) = t.channels.get(r.channel.as_str()) else { return };
    let c = &r.client;
    let ch = r.channel.as_str();
    let channels = c.channels.as_deref().unwrap_or(&[]);
    let existing = c.status == "existing";
    let email_exception = ch == "email" && !blank(&c.email) && cfg.connected;
    if c.blocked == Some(true) {
        out.push("client_blocked");
    }
    if c.active_thread == Some(true) && !email_exception {
        out.push("active_thread");
    }
    if existing && !channels.iter().any(|x| x == ch) && !email_exception {
        out.push("channel_not_used_by_client");
    }
    if !cfg.connected {
        out.push("channel_not_connected");
    }
    if !existing && !cfg.for_new_clients {
        out.push("channel_not_available_for_new_client");
    }
    if !existing && cfg.identifier.is_some_and(|id| blank(id(c))) {
        out.push("missing_client_identifier");
    }
    if t.tags_required {
        let tags = r.thread.as_ref().and_then(|t| t.tags.as_deref()).unwrap_or(&[]);
        if !tags.iter().any(|x| t.available_tags.contains(x)) {
            out.push("tags_required");
        }
    }
    let action = r.action.as_deref().unwrap_or("send");
    if !d.role_actions.get(r.sender.role.as_str()).is_some_and(|a| a.iter().any(|x| x == action)) {
        out.push("action_not_allowed");
    }
    let m = &r.message;
    let atts = m.attachments.as_deref().unwrap_or(&[]);
    if blank(&m.text) && m.template.is_none() && atts.is_empty() {
        out.push("empty_message");
    }
    if m.template.is_some() && !cfg.templates {
        out.push("template_not_supported");
    }
    if atts.len() > cfg.max_count {
        out.push("too_many_attachments");
    }
    let mut total = 0u64;
    for a in atts {
        let ext = a.name.rsplit_once('.').filter(|(s, e)| !s.is_empty() && !e.is_empty()).map(|(_, e)| e);
        if !ext.is_some_and(|e| cfg.formats.iter().any(|f| f.eq_ignore_ascii_case(e))) {
            out.push("attachment_format_not_allowed");
        }
        if a.size > cfg.max_file {
            out.push("attachment_too_large");
        }
        total = total.saturating_add(a.size);
    }
    if total > cfg.max_total {
        out.push("attachments_total_too_large");
    }
}
