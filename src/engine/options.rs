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

use super::decision::Hit;
use super::eval::{Scope, evaluate_scoped};
use super::input::{Attachment, Input, Template};
use super::model::{RuleSet, SettingRef, Slot};
use super::value::Value;

/// The formats a message can take, each probed with a minimal message.
pub const FORMATS: [Format; 3] = [Format::Text, Format::Attachments, Format::Template];

/// A shape of message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Text alone.
    Text,
    /// One attachment alone.
    Attachments,
    /// A template.
    Template,
}

impl Format {
    /// The name callers see.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Attachments => "attachments",
            Format::Template => "template",
        }
    }
}

/// The attachment limits of one channel for one tenant, at one instant.
#[derive(Debug, Clone, Copy)]
pub struct Limits<'a> {
    /// Allowed extensions (a `set<extension>` value).
    pub formats: Option<&'a Value>,
    /// Bytes per file.
    pub max_file_size: i64,
    /// Bytes for all attachments of one message.
    pub max_total_size: i64,
    /// Attachments per message.
    pub max_count: i64,
}

/// What the send dialog may offer over one channel.
#[derive(Debug, Clone)]
pub struct ChannelOptions<'a> {
    /// Index of the channel.
    pub channel: u32,
    /// The rules about who may write to whom, over what, let it through.
    pub sendable: bool,
    /// Why not, when not sendable (rendered against `input`'s tenant).
    pub violations: Vec<Hit>,
    /// The message formats the channel takes here.
    pub formats: Vec<Format>,
    /// `None` when the rules declare no `send_options` section.
    pub limits: Option<Limits<'a>>,
}

/// What the send dialog may offer, in indices and values.
#[derive(Debug, Clone)]
pub struct SendOptions<'a> {
    /// Every channel of the catalog, in order.
    pub channels: Vec<ChannelOptions<'a>>,
    /// The sender's role's actions (a `set<action>`).
    pub actions: Option<&'a Value>,
    /// The sender's role's UI capabilities (a `set<capability>`).
    pub capabilities: Option<&'a Value>,
    /// Whether the thread must carry a tag.
    pub tags_required: bool,
    /// The tenant's tags (a `set<string>`).
    pub available_tags: Option<&'a Value>,
}

/// Compute the options for `base` (its channel and message are ignored).
pub fn send_options<'a>(rs: &'a RuleSet, base: &Input) -> SendOptions<'a> {
    let tenant = rs.tenant_data.get(base.tenant as usize);
    let setting = |r: SettingRef, channel: u32| -> Option<&'a Value> {
        let t = tenant?;
        let slot: &Slot = match r {
            SettingRef::Tenant(i) => t.tenant.get(i as usize)?,
            SettingRef::Channel(i) => {
                t.channel.get((channel as usize).saturating_mul(rs.channel_settings.len()).saturating_add(i as usize))?
            }
            SettingRef::Role(i) => {
                t.role.get((base.sender_role as usize).saturating_mul(rs.role_settings.len()).saturating_add(i as usize))?
            }
        };
        Some(slot.at(base.at))
    };
    let map = rs.send_options.as_ref();
    let int = |v: Option<&Value>| -> i64 {
        match v {
            Some(Value::Int(i)) => *i,
            _ => 0,
        }
    };
    let mut channels = Vec::with_capacity(rs.channels.len());
    for c in 0..u32::try_from(rs.channels.len()).unwrap_or(u32::MAX) {
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
                Format::Text => probe.text = Some("…".into()),
                Format::Attachments => probe.attachments = Box::new([Attachment { name: "probe".into(), extension: None, size: 0 }]),
                Format::Template => probe.template = Some(Template { name: "probe".into(), header: None, footer: None }),
            }
            if evaluate_scoped(rs, &probe, Scope::MessageShape, false).allowed {
                formats.push(f);
            }
        }
        let limits = map.map(|m| Limits {
            formats: setting(m.attachment_formats, c),
            max_file_size: int(setting(m.max_file_size, c)),
            max_total_size: int(setting(m.max_total_size, c)),
            max_count: int(setting(m.max_count, c)),
        });
        channels.push(ChannelOptions { channel: c, sendable: recipient.allowed, violations: recipient.violations, formats, limits });
    }
    SendOptions {
        channels,
        actions: map.and_then(|m| setting(m.actions, 0)),
        capabilities: map.and_then(|m| setting(m.capabilities, 0)),
        tags_required: map.is_some_and(|m| matches!(setting(m.tags_required, 0), Some(Value::Bool(true)))),
        available_tags: map.and_then(|m| setting(m.available_tags, 0)),
    }
}
