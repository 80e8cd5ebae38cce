//! `GET /v1/tenants/{tenant}`'s answer: a tenant's effective settings,
//! each with where it came from.
//!
//! Tech support is asked "what is Acme's email attachment limit, and why?".
//! The compiled rule set already holds the flattened values and, per
//! value, the origin of the default (`settings.yaml`) or of the tenant's
//! override (with its ticket, note and expiry). This module only reads
//! them — pure, no clock: the caller passes the instant at which expiring
//! overrides are judged.

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value as Json;

use super::value::{rfc3339, setting_json as render};

use crate::engine::model::{Origin, OverrideInfo, RuleSet, SettingDef, SettingKey, Slot, Tenant};

/// One effective setting of a tenant.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SettingView {
    /// The value in force (sizes in bytes, durations in milliseconds): a
    /// bool, a number, a string or a list, by the setting's type.
    pub value: Json,
    /// The setting's declared type, e.g. `size`, `set<extension>`.
    #[serde(rename = "type")]
    pub ty: String,
    /// What the setting is, as its declaration says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `file:line` where the value in force was written.
    pub provenance: String,
    /// Whether the value comes from the tenant's own file.
    pub overridden: bool,
    /// The override's ticket (the request that asked for it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// The last day (or instant) the override holds; the default applies after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// The override's note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// An override that has expired: the default is in force again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_override: Option<ExpiredOverride>,
}

/// An override no longer in force.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ExpiredOverride {
    /// The value the override had.
    pub value: Json,
    /// `file:line` where it is written.
    pub provenance: String,
    /// Its ticket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// The last day (or instant) it held.
    pub expires: String,
}

/// The answer of `GET /v1/tenants/{tenant}`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = TenantBody)]
pub struct TenantView {
    /// The tenant's name.
    pub tenant: String,
    /// What the tenant file says it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The tenant's file.
    pub file: String,
    /// The instant at which expiring overrides were judged (RFC 3339).
    pub at: String,
    /// The revision that answered.
    pub revision: String,
    /// Tenant-wide settings, by name.
    #[schema(value_type = HashMap<String, SettingView>)]
    pub settings: IndexMap<String, SettingView>,
    /// Per channel, its settings by name.
    #[schema(value_type = HashMap<String, HashMap<String, SettingView>>)]
    pub channels: IndexMap<String, IndexMap<String, SettingView>>,
    /// Per role, its settings by name.
    #[schema(value_type = HashMap<String, HashMap<String, SettingView>>)]
    pub roles: IndexMap<String, IndexMap<String, SettingView>>,
}

/// The effective settings of `name` at instant `at` (ms since the epoch);
/// `None` for an unknown tenant.
pub fn view(rs: &RuleSet, name: &str, at: i64) -> Option<TenantView> {
    let t = rs.tenant(name)?;
    let v = Viewer { rs, t, at };
    let settings = rs
        .tenant_settings
        .iter()
        .enumerate()
        .filter_map(|(i, def)| {
            let idx = u16::try_from(i).ok()?;
            Some((def.name.to_string(), v.setting(def, t.tenant.get(i)?, SettingKey::Tenant(idx), SettingKey::Tenant(idx))))
        })
        .collect();
    let per = |names: &crate::engine::model::Names, defs: &[SettingDef], table: &[Slot], key: fn(u32, u16) -> SettingKey| {
        (0..names.len())
            .filter_map(|e| {
                let e = u32::try_from(e).ok()?;
                let row = defs
                    .iter()
                    .enumerate()
                    .filter_map(|(i, def)| {
                        let idx = u16::try_from(i).ok()?;
                        let slot = table.get(e as usize * defs.len() + i)?;
                        Some((def.name.to_string(), v.setting(def, slot, key(e, idx), key(u32::MAX, idx))))
                    })
                    .collect();
                Some((names.name(e).to_owned(), row))
            })
            .collect()
    };
    Some(TenantView {
        tenant: t.name.to_string(),
        description: t.description.as_deref().map(str::to_owned),
        file: rs.file_path(t.file).to_owned(),
        at: rfc3339(at),
        revision: rs.revision.to_string(),
        settings,
        channels: per(&rs.channels, &rs.channel_settings, &t.channel, SettingKey::Channel),
        roles: per(&rs.roles, &rs.role_settings, &t.role, SettingKey::Role),
    })
}

struct Viewer<'a> {
    rs: &'a RuleSet,
    t: &'a Tenant,
    at: i64,
}

impl Viewer<'_> {
    /// One setting: `key` is its entity-specific key, `general` the key of
    /// its declaration (where the default not specific to an entity is).
    fn setting(&self, def: &SettingDef, slot: &Slot, key: SettingKey, general: SettingKey) -> SettingView {
        let default_origin =
            self.rs.default_origins.get(&key).or_else(|| self.rs.default_origins.get(&general)).copied().unwrap_or_default();
        let ov: Option<&OverrideInfo> = self.t.overrides.get(&key);
        let value = render(self.rs, def.ty, slot.at(self.at));
        let expired = matches!(slot, Slot::Expiring(e) if self.at >= e.until);
        match (ov, slot) {
            (Some(o), Slot::Expiring(e)) if expired => SettingView {
                value,
                ty: def.ty.to_string(),
                description: def.description.as_deref().map(str::to_owned),
                provenance: self.place(default_origin),
                overridden: false,
                ticket: None,
                expires: None,
                note: None,
                expired_override: Some(ExpiredOverride {
                    value: render(self.rs, def.ty, &e.value),
                    provenance: self.place(o.origin),
                    ticket: o.ticket.as_deref().map(str::to_owned),
                    expires: o.expires.as_deref().unwrap_or_default().to_owned(),
                }),
            },
            (Some(o), _) => SettingView {
                value,
                ty: def.ty.to_string(),
                description: def.description.as_deref().map(str::to_owned),
                provenance: self.place(o.origin),
                overridden: true,
                ticket: o.ticket.as_deref().map(str::to_owned),
                expires: o.expires.as_deref().map(str::to_owned),
                note: o.note.as_deref().map(str::to_owned),
                expired_override: None,
            },
            (None, _) => SettingView {
                value,
                ty: def.ty.to_string(),
                description: def.description.as_deref().map(str::to_owned),
                provenance: self.place(default_origin),
                overridden: false,
                ticket: None,
                expires: None,
                note: None,
                expired_override: None,
            },
        }
    }

    fn place(&self, o: Origin) -> String {
        format!("{}:{}", self.rs.file_path(o.file), o.line)
    }
}

/// A tenant override that expires: which tenant, which setting
/// (`channels.email.max_file_size`), and when (ms since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiry<'e> {
    /// The tenant.
    pub tenant: &'e str,
    /// The setting, as a tenant file names it: `settings.NAME`,
    /// `channels.CHANNEL.NAME` or `roles.ROLE.NAME`.
    pub setting: String,
    /// The first instant the default applies again.
    pub until: i64,
    /// The expiry as written (`2026-12-31`).
    pub expires: &'e str,
    /// Where it is written: the file, relative to the rules directory …
    pub file: &'e str,
    /// … the line …
    pub line: u32,
    /// … and the column.
    pub column: u32,
}

/// Every override of every tenant of `rs` that has an expiry.
pub fn expiries(rs: &RuleSet) -> Vec<Expiry<'_>> {
    let mut out = Vec::new();
    for t in &rs.tenant_data {
        for (key, info) in &t.overrides {
            let (setting, slot) = match *key {
                SettingKey::Tenant(i) => {
                    (rs.tenant_settings.get(i as usize).map(|d| format!("settings.{}", d.name)), t.tenant.get(i as usize))
                }
                SettingKey::Channel(c, i) => (
                    rs.channel_settings.get(i as usize).map(|d| format!("channels.{}.{}", rs.channels.name(c), d.name)),
                    t.channel.get((c as usize).saturating_mul(rs.channel_settings.len()).saturating_add(i as usize)),
                ),
                SettingKey::Role(r, i) => (
                    rs.role_settings.get(i as usize).map(|d| format!("roles.{}.{}", rs.roles.name(r), d.name)),
                    t.role.get((r as usize).saturating_mul(rs.role_settings.len()).saturating_add(i as usize)),
                ),
            };
            if let (Some(setting), Some(Slot::Expiring(e))) = (setting, slot) {
                let o = info.expires_origin;
                out.push(Expiry {
                    tenant: &t.name,
                    setting,
                    until: e.until,
                    expires: info.expires.as_deref().unwrap_or_default(),
                    file: rs.file_path(o.file),
                    line: o.line,
                    column: o.column,
                });
            }
        }
    }
    out.sort_by(|a, b| (a.tenant, &a.setting).cmp(&(b.tenant, &b.setting)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_764_000_000_000;

    fn builtin() -> Option<RuleSet> {
        crate::Engine::builtin().ok().map(|e| e.rules().clone())
    }

    #[test]
    fn demo_limits_email_is_overridden_with_its_ticket() {
        let Some(rs) = builtin() else { panic!("built-in rules load") };
        let Some(v) = view(&rs, "demo-limits", NOW) else { panic!("demo-limits exists") };
        let email = &v.channels["email"];
        let max = &email["max_file_size"];
        assert_eq!(max.value, json!(50_000_000));
        assert!(max.overridden);
        assert_eq!(max.ticket.as_deref(), Some("SUP-1042"));
        assert!(max.provenance.starts_with("tenants/demo-limits.toml:"), "{}", max.provenance);
        assert!(email["attachment_formats"].value.as_array().is_some_and(|a| a.contains(&json!("xlsx"))));
        assert_eq!(v.channels["viber"]["connected"].value, json!(false));
        // Not overridden: the default, from settings.yaml.
        let wa = &v.channels["whatsapp"]["max_file_size"];
        assert_eq!(wa.value, json!(30_000_000));
        assert!(!wa.overridden);
        assert!(wa.provenance.starts_with("settings.yaml:"), "{}", wa.provenance);
        // A per-channel default is placed where it is written, not at the declaration.
        let email_count = &email["max_attachments"];
        assert_eq!(email_count.value, json!(100));
        assert_ne!(email_count.provenance, v.channels["whatsapp"]["max_attachments"].provenance);
        assert_eq!(v.roles["supervisor"]["actions"].value, json!(["send"]));
        assert_eq!(v.settings["timezone"].value, json!("UTC"));
    }

    #[test]
    fn unknown_tenant_is_none() {
        let Some(rs) = builtin() else { panic!("built-in rules load") };
        assert!(view(&rs, "nope", NOW).is_none());
    }

    #[test]
    fn expiring_overrides_are_listed_with_their_instant() {
        let mut files = crate::rules::source::builtin();
        let Some(f) = files.iter_mut().find(|f| f.path == "tenants/demo-tags.yaml") else { panic!("demo-tags is built in") };
        f.text.push_str("channels:\n  email:\n    max_file_size: { value: 10 MB, ticket: SUP-7, expires: 2026-01-31 }\n");
        let Ok(engine) = crate::Engine::from_sources(&files) else { panic!("loads") };
        let list = expiries(engine.rules());
        let until = chrono::DateTime::parse_from_rfc3339("2026-02-01T00:00:00Z").map(|d| d.timestamp_millis()).unwrap_or(0);
        let [e] = list.as_slice() else { panic!("{list:?}") };
        assert_eq!((e.tenant, e.setting.as_str(), e.until, e.expires), ("demo-tags", "channels.email.max_file_size", until, "2026-01-31"));
        assert_eq!((e.file, e.line), ("tenants/demo-tags.yaml", 10), "the expiry as written, on the line appended");
        assert!(expiries(&builtin().unwrap_or_else(|| panic!("loads"))).is_empty(), "the shipped overrides do not expire");
    }

    #[test]
    fn an_expired_override_shows_the_default_and_what_expired() {
        use crate::rules::SourceFile;
        let mut files = crate::rules::source::builtin();
        let Some(f) = files.iter_mut().find(|f| f.path == "tenants/demo-tags.yaml") else { panic!("demo-tags is built in") };
        f.text.push_str("channels:\n  email:\n    max_file_size: { value: 10 MB, ticket: SUP-7, expires: 2026-01-31 }\n");
        let files: Vec<SourceFile> = files;
        let rs = match crate::Engine::from_sources(&files) {
            Ok(e) => e.rules().clone(),
            Err(e) => panic!("{e}"),
        };
        let before = chrono::DateTime::parse_from_rfc3339("2026-01-31T23:00:00Z").map(|d| d.timestamp_millis()).unwrap_or(0);
        let after = chrono::DateTime::parse_from_rfc3339("2026-02-01T00:00:00Z").map(|d| d.timestamp_millis()).unwrap_or(0);
        let Some(v) = view(&rs, "demo-tags", before) else { panic!("demo-tags exists") };
        let s = &v.channels["email"]["max_file_size"];
        assert_eq!((s.value.clone(), s.overridden, s.expires.as_deref()), (json!(10_000_000), true, Some("2026-01-31")));
        let Some(v) = view(&rs, "demo-tags", after) else { panic!("demo-tags exists") };
        let s = &v.channels["email"]["max_file_size"];
        assert_eq!((s.value.clone(), s.overridden), (json!(30_000_000), false));
        assert!(s.provenance.starts_with("settings.yaml:"));
        let Some(x) = &s.expired_override else { panic!("the expired override is shown") };
        assert_eq!((x.value.clone(), x.ticket.as_deref()), (json!(10_000_000), Some("SUP-7")));
        assert!(x.provenance.starts_with("tenants/demo-tags.yaml:"));
    }
}
