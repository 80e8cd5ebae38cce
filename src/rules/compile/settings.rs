//! Settings: typed, bounded values every tenant has — tenant-wide, per
//! channel and per role — with defaults, channel- and role-specific
//! defaults, and the bounds tenant overrides must respect.
//!
//! A setting whose default does not parse (`default: 30 MX`) is still
//! declared, with a stand-in default, and marked broken: the rules, tenant
//! files and `send_options` that name it are checked as usual instead of
//! each reporting it unknown, and checks that compare with its default
//! (`tighten_only`) skip it. The load fails on the default's own error.

use serde_json::Value as Json;

use crate::engine::model::{SendOptionsMap, SettingDef, SettingKey, SettingRef};
use crate::engine::value::{Domain, Ty, Value};
use crate::rules::syntax::{SettingDecl, SettingsFile};
use crate::text::hint::{did_you_mean, one_of};
use crate::text::literal;
use crate::text::pointer::join;

use super::{Builder, constraints};

/// The three kinds of settings, and how a rule names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Level {
    Tenant,
    Channel,
    Role,
}

impl Level {
    pub(super) fn prefix(self) -> &'static str {
        match self {
            Level::Tenant => "tenant",
            Level::Channel => "channel",
            Level::Role => "role",
        }
    }
}

/// Defaults as declared, before tenants: per level, `[entity][setting]`.
#[derive(Debug, Default)]
pub(super) struct Defaults {
    pub tenant: Vec<Value>,
    pub channel: Vec<Vec<Value>>,
    pub role: Vec<Vec<Value>>,
}

pub(super) fn compile(b: &mut Builder) {
    let mut tenant_defaults = Vec::new();
    let mut channel_defaults = Vec::new();
    let mut role_defaults = Vec::new();
    let mut entity_defaults: Vec<(usize, Level, String, String, String, Json)> = Vec::new();
    let mut send_options = None;
    let mut at_most = Vec::new();
    for fi in b.files_of("settings") {
        let Some(file) = b.typed::<SettingsFile>(fi) else { continue };
        for (level, decls, out) in [
            (Level::Tenant, &file.tenant, &mut tenant_defaults),
            (Level::Channel, &file.channel, &mut channel_defaults),
            (Level::Role, &file.role, &mut role_defaults),
        ] {
            for (name, decl) in decls {
                let ptr = join(&format!("/{}", level.prefix()), name);
                if let Some(other) = &decl.at_most {
                    let ptr = join(&ptr, "at_most");
                    at_most.push(constraints::Declared { file: fi, ptr, level, name: name.clone(), other: other.clone() });
                }
                if let Some((def, default, parsed)) = declare(b, fi, &ptr, name, decl, level) {
                    let idx = push_def(b, level, def);
                    if let Some(idx) = idx {
                        let declared = b.declaration(fi, &ptr, &decl.allow_findings);
                        let list = match level {
                            Level::Tenant => &mut b.rs.declared.tenant_settings,
                            Level::Channel => &mut b.rs.declared.channel_settings,
                            Level::Role => &mut b.rs.declared.role_settings,
                        };
                        list.push(declared);
                        if !parsed {
                            b.broken_settings.insert((level, idx));
                        }
                        let key = match level {
                            Level::Tenant => SettingKey::Tenant(idx),
                            Level::Channel => SettingKey::Channel(u32::MAX, idx),
                            Level::Role => SettingKey::Role(u32::MAX, idx),
                        };
                        let origin = b.origin(fi, &format!("{ptr}/default"));
                        b.rs.default_origins.insert(key, origin);
                        out.push(default);
                    }
                }
            }
        }
        for (level, map, base) in [(Level::Channel, &file.channels, "/channels"), (Level::Role, &file.roles, "/roles")] {
            for (entity, values) in map {
                for (setting, v) in values {
                    entity_defaults.push((fi, level, base.to_owned(), entity.clone(), setting.clone(), v.clone()));
                }
            }
        }
        if let Some(so) = file.send_options {
            if send_options.is_some() {
                b.error(fi, "/send_options", None, "`send_options` is declared twice", None);
            } else {
                send_options = Some((fi, so));
            }
        }
    }
    // Expand to every channel and role, then apply their specific defaults.
    let n_ch = b.rs.channels.len();
    let n_ro = b.rs.roles.len();
    let mut defaults = Defaults { tenant: tenant_defaults, channel: vec![channel_defaults; n_ch], role: vec![role_defaults; n_ro] };
    for (fi, level, base, entity, setting, v) in entity_defaults {
        let domain = if level == Level::Channel { Domain::Channel } else { Domain::Role };
        let entity_ptr = join(&base, &entity);
        let Some(e) = b.names(domain).get(&entity) else {
            let hint = did_you_mean(&entity, b.names(domain).names.iter().map(|n| &**n));
            b.error(fi, &entity_ptr, None, format!("unknown {} `{entity}`", domain.name()), hint);
            continue;
        };
        let ptr = join(&entity_ptr, &setting);
        let Some((idx, def)) = find(b, level, &setting) else {
            let hint = setting_hint(b, level, &setting);
            b.error(fi, &ptr, None, format!("unknown {} setting `{setting}`", level.prefix()), hint);
            continue;
        };
        match literal::parse(def.ty, &v, &|d| b.rs.names(d)) {
            Err(e) => {
                b.error_value(fi, &ptr, Some(&setting), e.message, e.hint);
                b.broken_settings.insert((level, idx));
            }
            Ok(value) => {
                if let Some(msg) = out_of_bounds(&def, &value) {
                    b.error_value(fi, &ptr, Some(&setting), msg, None);
                }
                let origin = b.origin(fi, &ptr);
                let key = if level == Level::Channel { SettingKey::Channel(e, idx) } else { SettingKey::Role(e, idx) };
                b.rs.default_origins.insert(key, origin);
                let table = if level == Level::Channel { &mut defaults.channel } else { &mut defaults.role };
                if let Some(slot) = table.get_mut(e as usize).and_then(|row| row.get_mut(idx as usize)) {
                    *slot = value;
                }
            }
        }
    }
    if let Some((fi, so)) = send_options {
        let resolve = |b: &mut Builder, field: &str, path: &str, want: &[Ty]| -> Option<SettingRef> {
            let ptr = join("/send_options", field);
            let (level, name) = match path.split_once('.') {
                Some(("tenant", n)) => (Level::Tenant, n),
                Some(("channel", n)) => (Level::Channel, n),
                Some(("role", n)) => (Level::Role, n),
                _ => {
                    b.error_value(
                        fi,
                        &ptr,
                        None,
                        format!("`{path}` is not a setting"),
                        Some("write `tenant.<name>`, `channel.<name>` or `role.<name>`".into()),
                    );
                    return None;
                }
            };
            let Some((idx, def)) = find(b, level, name) else {
                let hint = setting_hint(b, level, name);
                b.error_value(fi, &ptr, None, format!("unknown {} setting `{name}`", level.prefix()), hint);
                return None;
            };
            if !want.contains(&def.ty) {
                let wanted: Vec<String> = want.iter().map(ToString::to_string).collect();
                b.error_value(fi, &ptr, None, format!("`{path}` is a {}, `{field}` needs {}", def.ty, wanted.join(" or ")), None);
                return None;
            }
            Some(match level {
                Level::Tenant => SettingRef::Tenant(idx),
                Level::Channel => SettingRef::Channel(idx),
                Level::Role => SettingRef::Role(idx),
            })
        };
        let map = (|| {
            Some(SendOptionsMap {
                attachment_formats: resolve(b, "attachment_formats", &so.attachment_formats, &[Ty::ExtSet, Ty::StrSet])?,
                max_file_size: resolve(b, "max_file_size", &so.max_file_size, &[Ty::Size, Ty::Int])?,
                max_total_size: resolve(b, "max_total_size", &so.max_total_size, &[Ty::Size, Ty::Int])?,
                max_count: resolve(b, "max_count", &so.max_count, &[Ty::Int])?,
                actions: resolve(b, "actions", &so.actions, &[Ty::SymSet(Domain::Action)])?,
                capabilities: resolve(b, "capabilities", &so.capabilities, &[Ty::SymSet(Domain::Capability)])?,
                tags_required: resolve(b, "tags_required", &so.tags_required, &[Ty::Bool])?,
                available_tags: resolve(b, "available_tags", &so.available_tags, &[Ty::StrSet])?,
            })
        })();
        b.rs.send_options = map;
    }
    b.defaults = defaults;
    constraints::declare(b, at_most);
}

fn push_def(b: &mut Builder, level: Level, def: SettingDef) -> Option<u16> {
    let list = match level {
        Level::Tenant => &mut b.rs.tenant_settings,
        Level::Channel => &mut b.rs.channel_settings,
        Level::Role => &mut b.rs.role_settings,
    };
    if list.iter().any(|d| d.name == def.name) {
        return None;
    }
    let idx = u16::try_from(list.len()).ok()?;
    list.push(def);
    Some(idx)
}

/// Check one declaration; its definition, its default value, and whether
/// that default parsed (if not, the value is a stand-in).
fn declare(b: &mut Builder, fi: usize, ptr: &str, name: &str, decl: &SettingDecl, level: Level) -> Option<(SettingDef, Value, bool)> {
    if find(b, level, name).is_some() {
        b.error(fi, ptr, Some(name), format!("{} setting `{name}` is declared twice", level.prefix()), None);
        return None;
    }
    let Some(ty) = Ty::parse(&decl.ty) else {
        let hint = did_you_mean(&decl.ty, Ty::NAMES.iter().copied()).or_else(|| Some(one_of(Ty::NAMES.iter().copied())));
        b.error_value(fi, &format!("{ptr}/type"), Some(name), format!("unknown type `{}`", decl.ty), hint);
        return None;
    };
    let bound = |b: &mut Builder, key: &str, v: &Option<Json>| -> Option<Option<i64>> {
        let v = v.as_ref()?;
        let bptr = format!("{ptr}/{key}");
        if !ty.is_numeric() {
            b.error(fi, &bptr, Some(name), format!("`{key}` applies to numbers and sizes, not to a {ty}"), None);
            return Some(None);
        }
        match literal::parse(ty, v, &|d| b.rs.names(d)) {
            Ok(Value::Int(i)) => Some(Some(i)),
            Ok(_) => Some(None),
            Err(e) => {
                b.error_value(fi, &bptr, Some(name), e.message, e.hint);
                Some(None)
            }
        }
    };
    let min = bound(b, "min", &decl.min).flatten();
    let max = bound(b, "max", &decl.max).flatten();
    if let (Some(lo), Some(hi)) = (min, max)
        && lo > hi
    {
        b.error_value(fi, &format!("{ptr}/min"), Some(name), format!("`min` ({lo}) is above `max` ({hi})"), None);
    }
    if decl.tighten_only && !(ty.is_numeric() || ty.elem().is_some()) {
        b.error(
            fi,
            &format!("{ptr}/tighten_only"),
            Some(name),
            format!("`tighten_only` applies to numbers, sizes and sets, not to a {ty}"),
            Some("use `locked: true` to forbid overrides".into()),
        );
    }
    let def = SettingDef {
        name: name.into(),
        ty,
        description: decl.description.as_deref().map(Into::into),
        min,
        max,
        tighten_only: decl.tighten_only,
        locked: decl.locked,
    };
    let default = match literal::parse(ty, &decl.default, &|d| b.rs.names(d)) {
        Ok(v) => v,
        Err(e) => {
            b.error_value(fi, &format!("{ptr}/default"), Some(name), e.message, e.hint);
            return Some((def, stand_in(ty), false));
        }
    };
    if let Some(msg) = out_of_bounds(&def, &default) {
        b.error_value(fi, &format!("{ptr}/default"), Some(name), msg, None);
    }
    Some((def, default, true))
}

/// A value of type `ty`, for a default that did not parse (never served:
/// the load has failed).
fn stand_in(ty: Ty) -> Value {
    match ty {
        Ty::Bool => Value::Bool(false),
        Ty::Int | Ty::Size | Ty::Duration => Value::Int(0),
        Ty::Str | Ty::Ext => Value::Str("".into()),
        Ty::Time => Value::Time(0),
        Ty::Timezone => Value::Tz(chrono_tz::UTC),
        Ty::Sym(_) => Value::Sym(0),
        Ty::SymSet(d) if !d.is_small() => Value::SymList(Vec::new().into()),
        Ty::SymSet(_) => Value::Syms(0),
        Ty::StrSet | Ty::ExtSet => Value::Strs(Vec::new().into()),
    }
}

/// Whether a value breaks a setting's `min`/`max`.
pub(super) fn out_of_bounds(def: &SettingDef, v: &Value) -> Option<String> {
    let Value::Int(i) = v else { return None };
    let show = |x: i64| show(def, x);
    if let Some(lo) = def.min
        && *i < lo
    {
        return Some(format!("{} is below the minimum {} of `{}`", show(*i), show(lo), def.name));
    }
    if let Some(hi) = def.max
        && *i > hi
    {
        return Some(format!("{} is above the maximum {} of `{}`", show(*i), show(hi), def.name));
    }
    None
}

pub(super) fn find(b: &Builder, level: Level, name: &str) -> Option<(u16, SettingDef)> {
    let list = match level {
        Level::Tenant => &b.rs.tenant_settings,
        Level::Channel => &b.rs.channel_settings,
        Level::Role => &b.rs.role_settings,
    };
    list.iter().position(|d| &*d.name == name).and_then(|i| Some((u16::try_from(i).ok()?, list.get(i)?.clone())))
}

pub(super) fn setting_hint(b: &Builder, level: Level, name: &str) -> Option<String> {
    let list = match level {
        Level::Tenant => &b.rs.tenant_settings,
        Level::Channel => &b.rs.channel_settings,
        Level::Role => &b.rs.role_settings,
    };
    did_you_mean(name, list.iter().map(|d| &*d.name))
        .or_else(|| Some(format!("declared {} settings: {}", level.prefix(), one_of(list.iter().map(|d| &*d.name)))))
}

/// A setting's number as an admin reads it: sizes in bytes and in MB.
pub(super) fn show(def: &SettingDef, x: i64) -> String {
    if def.ty == Ty::Size { format!("{x} bytes ({})", bytesize::ByteSize::b(x.max(0) as u64).display().si()) } else { x.to_string() }
}
