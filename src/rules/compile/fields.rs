//! The request fields a condition can read, by path.
//!
//! This table is the request contract (docs/api.md) seen from the rules: it
//! names fields of the request, never channels, roles or codes. Custom
//! attributes (`client.attributes.vip`) and settings (`tenant.x`,
//! `channel.x`, `role.x`) are resolved against what the rule files declare.

use crate::engine::model::Field;
use crate::engine::value::{Domain, Ty};
use crate::text::hint::did_you_mean;

use super::Builder;
use super::settings::{Level, find};

const FIXED: &[(&str, Field, Ty)] = &[
    ("tenant", Field::Tenant, Ty::Sym(Domain::Tenant)),
    ("action", Field::Action, Ty::Sym(Domain::Action)),
    ("channel", Field::Channel, Ty::Sym(Domain::Channel)),
    ("at", Field::At, Ty::Time),
    ("sender.role", Field::SenderRole, Ty::Sym(Domain::Role)),
    ("sender.id", Field::SenderId, Ty::Str),
    ("sender.status", Field::SenderStatus, Ty::Str),
    ("client.status", Field::ClientStatus, Ty::Sym(Domain::ClientStatus)),
    ("client.blocked", Field::ClientBlocked, Ty::Bool),
    ("client.active_thread", Field::ClientActiveThread, Ty::Bool),
    ("client.channels", Field::ClientChannels, Ty::SymSet(Domain::Channel)),
    ("client.email", Field::ClientEmail, Ty::Str),
    ("client.phone", Field::ClientPhone, Ty::Str),
    ("client.external_id", Field::ClientExternalId, Ty::Str),
    ("client.last_inbound_at", Field::ClientLastInboundAt, Ty::Time),
    ("thread.tags", Field::ThreadTags, Ty::StrSet),
    ("message.text", Field::MessageText, Ty::Str),
    ("message.text.length", Field::MessageTextLength, Ty::Int),
    ("message.template", Field::MessageTemplate, Ty::Str),
    ("message.template.name", Field::MessageTemplateName, Ty::Str),
    ("message.template.header", Field::MessageTemplateHeader, Ty::Str),
    ("message.template.footer", Field::MessageTemplateFooter, Ty::Str),
    ("message.attachments.count", Field::AttachmentsCount, Ty::Int),
    ("message.attachments.total_size", Field::AttachmentsTotalSize, Ty::Size),
    ("attachment.name", Field::AttachmentName, Ty::Str),
    ("attachment.extension", Field::AttachmentExtension, Ty::Ext),
    ("attachment.size", Field::AttachmentSize, Ty::Size),
];

/// Resolve a path to a field and its type; on failure, a message and hint.
pub(super) fn resolve(b: &Builder, path: &str) -> Result<(Field, Ty), (String, Option<String>)> {
    if let Some((_, f, t)) = FIXED.iter().find(|(p, ..)| *p == path) {
        return Ok((*f, *t));
    }
    for (prefix, who) in [("client.attributes.", 0), ("sender.attributes.", 1)] {
        if let Some(name) = path.strip_prefix(prefix) {
            let attrs = if who == 0 { &b.rs.client_attrs } else { &b.rs.sender_attrs };
            if let Some(i) = attrs.iter().position(|a| &*a.name == name) {
                let i = u16::try_from(i).unwrap_or(u16::MAX);
                let ty = attrs.get(i as usize).map(|a| a.ty).unwrap_or(Ty::Bool);
                return Ok((if who == 0 { Field::ClientAttr(i) } else { Field::SenderAttr(i) }, ty));
            }
            let hint = did_you_mean(name, attrs.iter().map(|a| &*a.name)).or_else(|| {
                Some(format!("declare it under `attributes: {{ {}: {{ {name}: {{ type: … }} }} }}` in the catalog", &prefix[..6]))
            });
            return Err((format!("undeclared attribute `{path}`"), hint));
        }
    }
    for level in [Level::Tenant, Level::Channel, Level::Role] {
        if let Some(name) = path.strip_prefix(level.prefix()).and_then(|r| r.strip_prefix('.')) {
            if let Some((i, def)) = find(b, level, name) {
                let f = match level {
                    Level::Tenant => Field::TenantSetting(i),
                    Level::Channel => Field::ChannelSetting(i),
                    Level::Role => Field::RoleSetting(i),
                };
                return Ok((f, def.ty));
            }
            let hint = super::settings::setting_hint(b, level, name);
            return Err((format!("unknown {} setting `{path}`", level.prefix()), hint));
        }
    }
    let mut candidates: Vec<String> = FIXED.iter().map(|(p, ..)| (*p).to_owned()).collect();
    candidates.extend(b.rs.client_attrs.iter().map(|a| format!("client.attributes.{}", a.name)));
    candidates.extend(b.rs.sender_attrs.iter().map(|a| format!("sender.attributes.{}", a.name)));
    candidates.extend(b.rs.tenant_settings.iter().map(|d| format!("tenant.{}", d.name)));
    candidates.extend(b.rs.channel_settings.iter().map(|d| format!("channel.{}", d.name)));
    candidates.extend(b.rs.role_settings.iter().map(|d| format!("role.{}", d.name)));
    let hint = did_you_mean(path, candidates.iter().map(String::as_str))
        .or_else(|| Some("see docs/rules.md for the fields a condition can read".into()));
    Err((format!("unknown field `{path}`"), hint))
}
