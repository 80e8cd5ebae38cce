//! Findings about declarations: a code no rule emits, a setting no rule
//! (nor `send_options`) reads, an attribute no rule reads, a tenant
//! override that sets the value the tenant would have anyway.

use std::collections::HashSet;

use crate::engine::model::{Declaration, Field, RuleSet, SettingKey, SettingRef, Slot};

use super::logic::fields;
use super::{Finding, FindingKind};

pub(super) fn declarations(rs: &RuleSet) -> Vec<Finding> {
    let mut read = Vec::new();
    for r in &rs.rules {
        fields(&r.cond, &mut read);
    }
    for x in &rs.exceptions {
        fields(&x.cond, &mut read);
    }
    if let Some(so) = &rs.send_options {
        for s in [
            so.attachment_formats,
            so.max_file_size,
            so.max_total_size,
            so.max_count,
            so.actions,
            so.capabilities,
            so.tags_required,
            so.available_tags,
        ] {
            read.push(match s {
                SettingRef::Tenant(i) => Field::TenantSetting(i),
                SettingRef::Channel(i) => Field::ChannelSetting(i),
                SettingRef::Role(i) => Field::RoleSetting(i),
            });
        }
    }
    let read: HashSet<Field> = read.into_iter().collect();
    let d = &rs.declared;
    let mut out = Vec::new();
    let emitted: HashSet<u32> = rs.rules.iter().map(|r| r.code).collect();
    for (i, (code, decl)) in rs.codes.iter().zip(&d.codes).enumerate() {
        if !emitted.contains(&(i as u32)) {
            out.push(unused(rs, decl, format!("code {}", code.name), format!("code `{}` is declared but no rule emits it", code.name)));
        }
    }
    let attrs = [
        ("client", &rs.client_attrs, &d.client_attrs, Field::ClientAttr as fn(u16) -> Field),
        ("sender", &rs.sender_attrs, &d.sender_attrs, Field::SenderAttr),
    ];
    for (who, defs, decls, field) in attrs {
        for (i, (a, decl)) in defs.iter().zip(decls).enumerate() {
            if !read.contains(&field(i as u16)) {
                let path = format!("{who}.attributes.{}", a.name);
                out.push(unused(rs, decl, format!("attribute {path}"), format!("attribute `{path}` is declared but no rule reads it")));
            }
        }
    }
    let settings = [
        ("tenant", &rs.tenant_settings, &d.tenant_settings, Field::TenantSetting as fn(u16) -> Field),
        ("channel", &rs.channel_settings, &d.channel_settings, Field::ChannelSetting),
        ("role", &rs.role_settings, &d.role_settings, Field::RoleSetting),
    ];
    for (level, defs, decls, field) in settings {
        for (i, (s, decl)) in defs.iter().zip(decls).enumerate() {
            if !read.contains(&field(i as u16)) {
                let path = format!("{level}.{}", s.name);
                let msg = format!("setting `{path}` is declared but no rule reads it, nor `send_options`");
                out.push(unused(rs, decl, format!("setting {path}"), msg));
            }
        }
    }
    overrides(rs, &mut out);
    out
}

fn unused(rs: &RuleSet, decl: &Declaration, subject: String, message: String) -> Finding {
    let kind = FindingKind::Unused;
    Finding {
        kind,
        file: rs.file_path(decl.origin.file).to_owned(),
        line: decl.origin.line,
        column: decl.origin.column,
        subject,
        message,
        allowed: decl.allow_findings.iter().any(|k| **k == *kind.name()),
    }
}

/// Overrides equal to the default they replace.
fn overrides(rs: &RuleSet, out: &mut Vec<Finding>) {
    let d = &rs.declared;
    let (nc, nr) = (rs.channel_settings.len(), rs.role_settings.len());
    for (ti, t) in rs.tenant_data.iter().enumerate() {
        let mut keys: Vec<(&SettingKey, &crate::engine::model::OverrideInfo)> = t.overrides.iter().collect();
        keys.sort_by_key(|(_, info)| (info.origin.file, info.origin.line, info.origin.column));
        for (key, info) in keys {
            let (slot, default, path) = match *key {
                SettingKey::Tenant(i) => {
                    let name = rs.tenant_settings.get(i as usize).map(|s| &*s.name).unwrap_or("?");
                    (t.tenant.get(i as usize), d.tenant_defaults.get(i as usize), format!("`{name}`"))
                }
                SettingKey::Channel(c, i) => {
                    let at = c as usize * nc + i as usize;
                    let name = rs.channel_settings.get(i as usize).map(|s| &*s.name).unwrap_or("?");
                    (t.channel.get(at), d.channel_defaults.get(at), format!("`{name}` of channel `{}`", rs.channels.name(c)))
                }
                SettingKey::Role(r, i) => {
                    let at = r as usize * nr + i as usize;
                    let name = rs.role_settings.get(i as usize).map(|s| &*s.name).unwrap_or("?");
                    (t.role.get(at), d.role_defaults.get(at), format!("`{name}` of role `{}`", rs.roles.name(r)))
                }
            };
            let value = match slot {
                Some(Slot::Value(v)) => v,
                Some(Slot::Expiring(e)) => &e.value,
                None => continue,
            };
            if Some(value) != default {
                continue;
            }
            let kind = FindingKind::SameAsDefault;
            let allowed = d.overrides.get(&(ti as u32, *key)).is_some_and(|a| a.iter().any(|k| **k == *kind.name()));
            out.push(Finding {
                kind,
                file: rs.file_path(info.origin.file).to_owned(),
                line: info.origin.line,
                column: info.origin.column,
                subject: format!("override in tenant {}", t.name),
                message: format!("tenant `{}` overrides {path} with its default value", t.name),
                allowed,
            });
        }
    }
}
