//! Tenants: the defaults, layered with one small file per tenant.
//!
//! Each override is checked against its declaration: the setting must
//! exist and not be `locked`, the value must have the setting's type and
//! lie within `min`/`max`, and a `tighten_only` setting may only go down
//! (numbers) or shrink (sets). An override may carry a `ticket`, a `note`
//! and an `expires` date; the engine applies the default again from that
//! instant on (the request's `at` decides, so no reload is needed).
//! Tenants without overrides share their default tables.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value as Json;

use crate::engine::model::{Expiring, OverrideInfo, SettingDef, SettingKey, Slot, Tenant};
use crate::engine::value::{Domain, Value};
use crate::rules::syntax::{OverrideDecl, TenantFile};
use crate::text::hint::did_you_mean;
use crate::text::literal;
use crate::text::pointer::join;

use super::Builder;
use super::settings::{Level, find, out_of_bounds, setting_hint};
use crate::text::pointer::from_path as path_to_pointer;

pub(super) fn compile(b: &mut Builder) {
    let n_ch = b.rs.channel_settings.len();
    let n_ro = b.rs.role_settings.len();
    let base_tenant: Box<[Slot]> = b.defaults.tenant.iter().cloned().map(Slot::Value).collect();
    let base_channel: Arc<[Slot]> = b.defaults.channel.iter().flat_map(|row| row.iter().cloned().map(Slot::Value)).collect();
    let base_role: Arc<[Slot]> = b.defaults.role.iter().flat_map(|row| row.iter().cloned().map(Slot::Value)).collect();
    let blank = |name: &str| Tenant {
        name: name.into(),
        description: None,
        file: 0,
        tenant: base_tenant.clone(),
        channel: base_channel.clone(),
        role: base_role.clone(),
        messages: HashMap::new(),
        overrides: HashMap::new(),
    };
    b.rs.tenant_data = b.rs.tenants.names.iter().map(|n| blank(n)).collect();
    b.rs.declared.tenant_defaults = b.defaults.tenant.clone().into();
    b.rs.declared.channel_defaults = b.defaults.channel.iter().flatten().cloned().collect();
    b.rs.declared.role_defaults = b.defaults.role.iter().flatten().cloned().collect();
    let mut done = vec![false; b.rs.tenant_data.len()];
    for fi in b.files_of("tenant") {
        let Some(file) = b.typed::<TenantFile>(fi) else { continue };
        let Some(ti) = b.rs.tenants.get(&file.tenant) else { continue };
        if done.get(ti as usize).copied().unwrap_or(true) {
            continue;
        }
        if let Some(d) = done.get_mut(ti as usize) {
            *d = true;
        }
        let mut t = blank(&file.tenant);
        t.file = fi as u32;
        t.description = file.description.as_deref().map(Into::into);
        let mut channel: Option<Vec<Slot>> = None;
        let mut role: Option<Vec<Slot>> = None;
        for (name, v) in &file.settings {
            let ptr = join("/settings", name);
            let Some((idx, def)) = known(b, fi, &ptr, &file.tenant, Level::Tenant, name) else { continue };
            let default = default_ref(&b.defaults.tenant, idx).clone();
            let broken = b.broken_settings.contains(&(Level::Tenant, idx));
            match layer(b, fi, &ptr, &file.tenant, &def, (!broken).then_some(&default), v) {
                Some((slot, info, allow)) => {
                    allowed(b, ti, SettingKey::Tenant(idx), allow);
                    if let Some(s) = t.tenant.get_mut(idx as usize) {
                        *s = slot;
                    }
                    t.overrides.insert(SettingKey::Tenant(idx), info);
                }
                None => {
                    b.failed_overrides.insert((ti, SettingKey::Tenant(idx)));
                }
            }
        }
        for (level, map, base) in [(Level::Channel, &file.channels, "/channels"), (Level::Role, &file.roles, "/roles")] {
            let domain = if level == Level::Channel { Domain::Channel } else { Domain::Role };
            for (entity, values) in map {
                let eptr = join(base, entity);
                let Some(e) = b.names(domain).get(entity) else {
                    let hint = if super::settings::find(b, level, entity).is_some() {
                        // A setting one level too far left: the usual slip of indentation.
                        Some(format!("`{entity}` is a {} setting: indent it under the {} it is for", level.prefix(), domain.name()))
                    } else {
                        did_you_mean(entity, b.names(domain).names.iter().map(|n| &**n)).or_else(|| {
                            Some(format!(
                                "a new {} is declared under `{}:` in the catalog",
                                domain.name(),
                                crate::text::literal::section(domain)
                            ))
                        })
                    };
                    b.error(fi, &eptr, Some(&file.tenant), format!("unknown {} `{entity}`", domain.name()), hint);
                    continue;
                };
                for (name, v) in values {
                    let ptr = join(&eptr, name);
                    let Some((idx, def)) = known(b, fi, &ptr, &file.tenant, level, name) else { continue };
                    let row = if level == Level::Channel { b.defaults.channel.get(e as usize) } else { b.defaults.role.get(e as usize) };
                    let default = row.and_then(|r| r.get(idx as usize)).cloned();
                    let Some(default) = default else { continue };
                    let broken = b.broken_settings.contains(&(level, idx));
                    let key = if level == Level::Channel { SettingKey::Channel(e, idx) } else { SettingKey::Role(e, idx) };
                    let Some((slot, info, allow)) = layer(b, fi, &ptr, &file.tenant, &def, (!broken).then_some(&default), v) else {
                        b.failed_overrides.insert((ti, key));
                        continue;
                    };
                    allowed(b, ti, key, allow);
                    let (table, n) = if level == Level::Channel {
                        (channel.get_or_insert_with(|| base_channel.to_vec()), n_ch)
                    } else {
                        (role.get_or_insert_with(|| base_role.to_vec()), n_ro)
                    };
                    if let Some(s) = table.get_mut(e as usize * n + idx as usize) {
                        *s = slot;
                    }
                    t.overrides.insert(key, info);
                }
            }
        }
        for (code, text) in &file.messages {
            match b.rs.code_index.get(code.as_str()) {
                Some(c) => {
                    t.messages.insert(*c, text.as_str().into());
                }
                None => {
                    let hint = did_you_mean(code, b.rs.codes.iter().map(|c| &*c.name));
                    b.error(fi, &join("/messages", code), Some(&file.tenant), format!("unknown code `{code}`"), hint);
                }
            }
        }
        if let Some(c) = channel {
            t.channel = c.into();
        }
        if let Some(r) = role {
            t.role = r.into();
        }
        if let Some(slot) = b.rs.tenant_data.get_mut(ti as usize) {
            *slot = t;
        }
    }
}

/// Record the findings an override accepts (`allow_findings`), if any.
fn allowed(b: &mut Builder, tenant: u32, key: SettingKey, allow: Vec<String>) {
    if !allow.is_empty() {
        b.rs.declared.overrides.insert((tenant, key), allow.iter().map(|a| a.as_str().into()).collect());
    }
}

fn default_ref(list: &[Value], idx: u16) -> &Value {
    static NONE: Value = Value::Bool(false);
    list.get(idx as usize).unwrap_or(&NONE)
}

fn known(b: &mut Builder, fi: usize, ptr: &str, tenant: &str, level: Level, name: &str) -> Option<(u16, SettingDef)> {
    match find(b, level, name) {
        Some(x) => Some(x),
        None => {
            let hint = setting_hint(b, level, name);
            b.error(fi, ptr, Some(tenant), format!("unknown {} setting `{name}`", level.prefix()), hint);
            None
        }
    }
}

/// One override: checked against its declaration and layered on `default`
/// (`None` when the default did not parse: then nothing is compared with it).
fn layer(
    b: &mut Builder,
    fi: usize,
    ptr: &str,
    tenant: &str,
    def: &SettingDef,
    default: Option<&Value>,
    v: &Json,
) -> Option<(Slot, OverrideInfo, Vec<String>)> {
    let long = v.as_object().is_some_and(|o| o.contains_key("value"));
    let (value_json, value_ptr, decl) = if long {
        match serde_path_to_error::deserialize::<_, OverrideDecl>(v.clone()) {
            Ok(d) => (d.value.clone(), join(ptr, "value"), Some(d)),
            Err(e) => {
                let p = format!("{ptr}{}", path_to_pointer(e.path()));
                b.error(
                    fi,
                    &p,
                    Some(tenant),
                    e.inner().to_string(),
                    Some("an override is a value, or `{ value, ticket, expires, note, allow_findings }`".into()),
                );
                return None;
            }
        }
    } else {
        (v.clone(), ptr.to_owned(), None)
    };
    if def.locked {
        b.error(
            fi,
            ptr,
            Some(tenant),
            format!("`{}` is locked: tenants cannot override it", def.name),
            Some("change the default in the settings file instead".into()),
        );
        return None;
    }
    let value = match literal::parse(def.ty, &value_json, &|d| b.rs.names(d)) {
        Ok(v) => v,
        Err(e) => {
            b.error_value(fi, &value_ptr, Some(tenant), e.message, e.hint);
            return None;
        }
    };
    if let Some(msg) = out_of_bounds(def, &value) {
        let range = match (def.min, def.max) {
            (Some(lo), Some(hi)) => {
                Some(format!("tenants may set {} from {} to {}", def.name, super::settings::show(def, lo), super::settings::show(def, hi)))
            }
            _ => None,
        };
        b.error_value(fi, &value_ptr, Some(tenant), msg, range);
        return None;
    }
    if def.tighten_only
        && let Some(default) = default
        && !tighter(&value, default)
    {
        b.error_value(
            fi,
            &value_ptr,
            Some(tenant),
            format!("`{}` may only be tightened by a tenant (lowered, or reduced to a subset of the default)", def.name),
            None,
        );
        return None;
    }
    let origin = b.origin(fi, &value_ptr);
    let mut info = OverrideInfo { origin, ticket: None, expires: None, expires_origin: origin, note: None };
    let mut slot = Slot::Value(value.clone());
    let mut allow = Vec::new();
    if let Some(d) = decl {
        allow.clone_from(&d.allow_findings);
        info.ticket = d.ticket.as_deref().map(Into::into);
        info.note = d.note.as_deref().map(Into::into);
        if let Some(exp) = d.expires.as_deref() {
            let eptr = join(ptr, "expires");
            let until = match literal::instant(exp) {
                // A date: the override holds through that whole day (UTC).
                Ok(t) if !exp.contains('T') => t + 86_400_000,
                Ok(t) => t,
                Err(e) => {
                    b.error_value(fi, &eptr, Some(tenant), e.message, e.hint);
                    return None;
                }
            };
            // Whether it has expired, or soon will, depends on when it is
            // asked: see `Engine::expiry_warnings`.
            info.expires = Some(exp.into());
            info.expires_origin = b.origin(fi, &eptr);
            let then = default.cloned().unwrap_or_else(|| value.clone());
            slot = Slot::Expiring(Box::new(Expiring { value, until, then }));
        }
    }
    Some((slot, info, allow))
}

fn tighter(v: &Value, default: &Value) -> bool {
    match (v, default) {
        (Value::Int(a), Value::Int(b)) => a <= b,
        _ => v.as_val().subset_of(default.as_val()),
    }
}
