//! What the send dialog may offer, computed from the same rules.
//!
//! For every channel of the catalog, with the caller's tenant, sender and
//! client:
//! - **sendable**: the rules that read no message field (who may write to
//!   whom, over what) are evaluated; their violations say why not.
//! - **formats**: each format is probed with a minimal message of that
//!   shape (a text; one attachment; a template) through the message rules
//!   that are not per attachment. A format is offered when no such rule
//!   fires — so an admin's new rule ("templates only outside 24 h") shows up
//!   here without code.
//! - **limits, actions, capabilities, tags**: read from the settings the
//!   rules' `send_options` section names.

use serde::Serialize;

use super::eval::{Scope, evaluate_scoped};
use super::input::{Attachment, Input, Template};
use super::model::{RuleSet, SettingRef, Slot};
use super::value::{Domain, Value};
use crate::decision::{ViolationBody, violations};

/// The formats a message can take, and the probe message for each.
pub const FORMATS: [&str; 3] = ["text", "attachments", "template"];

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct AttachmentLimits {
    /// Allowed extensions, lower case, without dots.
    pub formats: Vec<String>,
    /// Bytes per file.
    pub max_file_size: i64,
    /// Bytes for all attachments of one message.
    pub max_total_size: i64,
    /// Attachments per message.
    pub max_count: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ChannelOptions {
    pub channel: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Whether this sender may write to this client over this channel.
    pub sendable: bool,
    /// Why not, when not sendable.
    pub violations: Vec<ViolationBody>,
    /// Message formats the channel takes here: `text`, `attachments`, `template`.
    pub formats: Vec<String>,
    pub attachment_limits: Option<AttachmentLimits>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct TagOptions {
    pub required: bool,
    pub available: Vec<String>,
}

/// The answer of `POST /v1/send-options`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct SendOptionsBody {
    pub tenant: String,
    pub role: String,
    /// Actions the sender's role may take on the last step of the dialog.
    pub actions: Vec<String>,
    /// UI capabilities of the sender's role (e.g. `go_to_thread`).
    pub capabilities: Vec<String>,
    pub tags: TagOptions,
    pub channels: Vec<ChannelOptions>,
    pub revision: String,
}

/// Compute the options for `base` (its channel and message are ignored).
pub fn send_options(rs: &RuleSet, base: &Input) -> SendOptionsBody {
    let tenant = rs.tenant_data.get(base.tenant as usize);
    let setting = |r: SettingRef, channel: u32| -> Option<&Value> {
        let t = tenant?;
        let slot: &Slot = match r {
            SettingRef::Tenant(i) => t.tenant.get(i as usize)?,
            SettingRef::Channel(i) => t.channel.get(channel as usize * rs.channel_settings.len() + i as usize)?,
            SettingRef::Role(i) => t.role.get(base.sender_role as usize * rs.role_settings.len() + i as usize)?,
        };
        Some(slot.at(base.at))
    };
    let map = rs.send_options.as_ref();
    let syms = |v: Option<&Value>, d: Domain| -> Vec<String> {
        match v {
            Some(Value::Syms(bits)) => (0..64u32).filter(|i| bits & (1u64 << i) != 0).map(|i| rs.names(d).name(i).to_owned()).collect(),
            _ => Vec::new(),
        }
    };
    let strs = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::Strs(s)) => s.iter().map(|x| x.to_string()).collect(),
            _ => Vec::new(),
        }
    };
    let int = |v: Option<&Value>| -> i64 {
        match v {
            Some(Value::Int(i)) => *i,
            _ => 0,
        }
    };
    let mut channels = Vec::with_capacity(rs.channels.len());
    for c in 0..rs.channels.len() as u32 {
        let mut input = base.clone();
        input.channel = c;
        input.action = rs.default_action;
        input.text = None;
        input.template = None;
        input.attachments = Box::new([]);
        input.total_size = 0;
        let recipient = evaluate_scoped(rs, &input, Scope::Recipient, false);
        let mut formats = Vec::new();
        for f in FORMATS {
            let mut probe = input.clone();
            match f {
                "text" => probe.text = Some("…".into()),
                "attachments" => probe.attachments = Box::new([Attachment { name: "probe".into(), extension: None, size: 0 }]),
                _ => probe.template = Some(Template { name: "probe".into(), header: None, footer: None }),
            }
            if evaluate_scoped(rs, &probe, Scope::MessageShape, false).allowed {
                formats.push(f.to_owned());
            }
        }
        let attachment_limits = map.map(|m| AttachmentLimits {
            formats: strs(setting(m.attachment_formats, c)),
            max_file_size: int(setting(m.max_file_size, c)),
            max_total_size: int(setting(m.max_total_size, c)),
            max_count: int(setting(m.max_count, c)),
        });
        channels.push(ChannelOptions {
            channel: rs.channels.name(c).to_owned(),
            title: rs.channels.titles.get(c as usize).cloned().flatten().map(|t| t.to_string()),
            sendable: recipient.allowed,
            violations: violations(rs, &input, &recipient.violations),
            formats,
            attachment_limits,
        });
    }
    SendOptionsBody {
        tenant: rs.tenants.name(base.tenant).to_owned(),
        role: rs.roles.name(base.sender_role).to_owned(),
        actions: map.map(|m| syms(setting(m.actions, 0), Domain::Action)).unwrap_or_default(),
        capabilities: map.map(|m| syms(setting(m.capabilities, 0), Domain::Capability)).unwrap_or_default(),
        tags: TagOptions {
            required: map.is_some_and(|m| matches!(setting(m.tags_required, 0), Some(Value::Bool(true)))),
            available: map.map(|m| strs(setting(m.available_tags, 0))).unwrap_or_default(),
        },
        channels,
        revision: rs.revision.to_string(),
    }
}
