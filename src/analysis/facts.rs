//! What two rule sets' conditions compare requests with: the literals,
//! the numbers, the settings and the time windows each field meets, by
//! field path (the two sets may number fields differently). The
//! generator varies each field around exactly these.

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::model::{Cond, Field, Op, Operand, RuleSet, Slot};
use crate::engine::value::{Ty, Value};

use super::logic::leaves;
use super::world::elems;

/// A setting named by a condition: its level (`tenant`, `channel`,
/// `role`) and name.
pub(super) type SettingName = (&'static str, String);

/// The time zone of a `local_time` leaf.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Zone {
    Named(String),
    Setting(SettingName),
}

#[derive(Debug, Default)]
pub(super) struct Facts {
    /// Strings compared with each string field.
    pub strings: BTreeMap<String, BTreeSet<String>>,
    /// Numbers (and instants) compared with each number field.
    pub numbers: BTreeMap<String, BTreeSet<i64>>,
    /// Settings compared with each field.
    pub settings: BTreeMap<String, BTreeSet<SettingName>>,
    /// Durations of `within` for each instant field, and settings giving them.
    pub durations: BTreeMap<String, BTreeSet<i64>>,
    pub duration_settings: BTreeMap<String, BTreeSet<SettingName>>,
    /// Members named for each set field (tags, channel names).
    pub members: BTreeMap<String, BTreeSet<String>>,
    /// `local_time` windows: from and to (minutes after midnight) and zone.
    pub windows: BTreeSet<(u32, u32, Zone)>,
}

impl Facts {
    pub(super) fn of(sets: &[&RuleSet]) -> Facts {
        let mut f = Facts::default();
        for rs in sets {
            let conds = rs.rules.iter().map(|r| &r.cond).chain(rs.exceptions.iter().map(|x| &x.cond));
            for c in conds {
                let mut ls = Vec::new();
                leaves(c, &mut ls);
                for l in ls {
                    f.leaf(rs, l);
                }
            }
        }
        f
    }

    fn leaf(&mut self, rs: &RuleSet, c: &Cond) {
        match c {
            Cond::Cmp { field, op, rhs, text } => {
                let path = path(rs, *field);
                let within = matches!(op, Op::Within | Op::NotWithin);
                // The type of the field, as the compiler recorded it with the leaf.
                let ty = rs.leaves.get(*text as usize).map(|l| l.ty);
                match rhs {
                    Operand::Const(v) => self.constant(rs, &path, (*field, ty), within, v),
                    Operand::Field(g) => {
                        if let Some(s) = setting(rs, *g) {
                            let to = if within { &mut self.duration_settings } else { &mut self.settings };
                            to.entry(path.clone()).or_default().insert(s);
                        }
                        if let Some(s) = setting(rs, *field) {
                            self.settings.entry(self::path(rs, *g)).or_default().insert(s);
                        }
                    }
                }
            }
            Cond::LocalTime { field: _, from, to, tz, .. } => {
                let zone = match tz {
                    Operand::Const(Value::Tz(z)) => Some(Zone::Named(z.name().to_owned())),
                    Operand::Field(g) => setting(rs, *g).map(Zone::Setting),
                    Operand::Const(_) => None,
                };
                if let Some(z) = zone {
                    self.windows.insert((*from, *to, z));
                }
            }
            _ => {}
        }
    }

    fn constant(&mut self, rs: &RuleSet, path: &str, (field, ty): (Field, Option<Ty>), within: bool, v: &Value) {
        let is_set = ty.is_some_and(|t| t.elem().is_some());
        match v {
            Value::Int(i) if within => {
                self.durations.entry(path.to_owned()).or_default().insert(*i);
            }
            Value::Int(i) | Value::Time(i) => {
                self.numbers.entry(path.to_owned()).or_default().insert(*i);
            }
            Value::Str(s) if is_set => {
                self.members.entry(path.to_owned()).or_default().insert(s.to_string());
            }
            Value::Str(s) => {
                self.strings.entry(path.to_owned()).or_default().insert(s.to_string());
            }
            Value::Strs(_) | Value::Syms(_) | Value::SymList(_) | Value::Sym(_) => {
                let names: Vec<String> = match v {
                    Value::Sym(s) => vec![member_name(rs, ty, *s)],
                    _ => elems(v)
                        .into_iter()
                        .map(|e| match e {
                            super::world::Elem::Sym(s) => member_name(rs, ty, s),
                            super::world::Elem::Str(s) => s.to_string(),
                        })
                        .collect(),
                };
                let to = if is_set || field == Field::Channel { &mut self.members } else { &mut self.strings };
                to.entry(path.to_owned()).or_default().extend(names);
            }
            _ => {}
        }
    }
}

/// The name of member `s` of the domain of a field of type `ty` (or of its elements).
fn member_name(rs: &RuleSet, ty: Option<Ty>, s: u32) -> String {
    match ty.map(|t| t.elem().unwrap_or(t)) {
        Some(Ty::Sym(d)) => rs.names(d).name(s).to_owned(),
        _ => s.to_string(),
    }
}

/// A setting field by level and name.
fn setting(rs: &RuleSet, f: Field) -> Option<SettingName> {
    let name = |defs: &[crate::engine::model::SettingDef], i: u16| defs.get(i as usize).map(|d| d.name.to_string());
    match f {
        Field::TenantSetting(i) => Some(("tenant", name(&rs.tenant_settings, i)?)),
        Field::ChannelSetting(i) => Some(("channel", name(&rs.channel_settings, i)?)),
        Field::RoleSetting(i) => Some(("role", name(&rs.role_settings, i)?)),
        _ => None,
    }
}

/// The values setting `s` takes in rule set `rs` for tenant `tenant` on
/// channel `channel` (for every role, for a role setting): before and
/// after each expiry.
pub(super) fn values(rs: &RuleSet, s: &SettingName, tenant: &str, channel: &str) -> Vec<Value> {
    let Some(t) = rs.tenant(tenant) else { return Vec::new() };
    let find = |defs: &[crate::engine::model::SettingDef]| defs.iter().position(|d| *d.name == *s.1);
    let slots: Vec<&Slot> = match s.0 {
        "tenant" => find(&rs.tenant_settings).and_then(|i| t.tenant.get(i)).into_iter().collect(),
        "channel" => {
            let c = rs.channels.get(channel);
            match (find(&rs.channel_settings), c) {
                (Some(i), Some(c)) => t.channel.get(c as usize * rs.channel_settings.len() + i).into_iter().collect(),
                _ => Vec::new(),
            }
        }
        _ => match find(&rs.role_settings) {
            Some(i) => (0..rs.roles.len()).filter_map(|r| t.role.get(r * rs.role_settings.len() + i)).collect(),
            None => Vec::new(),
        },
    };
    let mut out = Vec::new();
    for slot in slots {
        match slot {
            Slot::Value(v) => out.push(v.clone()),
            Slot::Expiring(e) => out.extend([e.value.clone(), e.then.clone()]),
        }
    }
    out
}

/// The instants at which a tenant's overrides expire.
pub(super) fn expiries(rs: &RuleSet, tenant: &str) -> Vec<i64> {
    let Some(t) = rs.tenant(tenant) else { return Vec::new() };
    let slots = t.tenant.iter().chain(t.channel.iter()).chain(t.role.iter());
    slots.filter_map(|s| if let Slot::Expiring(e) = s { Some(e.until) } else { None }).collect()
}

/// The path a condition names field `f` by.
pub(super) fn path(rs: &RuleSet, f: Field) -> String {
    let named = |defs: &[crate::engine::model::SettingDef], i: u16| defs.get(i as usize).map_or("?", |d| &d.name).to_owned();
    let fixed = match f {
        Field::Tenant => "tenant",
        Field::Action => "action",
        Field::Channel => "channel",
        Field::At => "at",
        Field::SenderRole => "sender.role",
        Field::SenderId => "sender.id",
        Field::SenderStatus => "sender.status",
        Field::ClientStatus => "client.status",
        Field::ClientBlocked => "client.blocked",
        Field::ClientActiveThread => "client.active_thread",
        Field::ClientChannels => "client.channels",
        Field::ClientEmail => "client.email",
        Field::ClientPhone => "client.phone",
        Field::ClientExternalId => "client.external_id",
        Field::ClientLastInboundAt => "client.last_inbound_at",
        Field::ThreadTags => "thread.tags",
        Field::MessageText => "message.text",
        Field::MessageTextLength => "message.text.length",
        Field::MessageTemplate | Field::MessageTemplateName => "message.template.name",
        Field::MessageTemplateHeader => "message.template.header",
        Field::MessageTemplateFooter => "message.template.footer",
        Field::AttachmentsCount => "message.attachments.count",
        Field::AttachmentsTotalSize => "message.attachments.total_size",
        Field::AttachmentName => "attachment.name",
        Field::AttachmentExtension => "attachment.extension",
        Field::AttachmentSize => "attachment.size",
        Field::ClientAttr(i) => return format!("client.attributes.{}", rs.client_attrs.get(i as usize).map_or("?", |a| &a.name)),
        Field::SenderAttr(i) => return format!("sender.attributes.{}", rs.sender_attrs.get(i as usize).map_or("?", |a| &a.name)),
        Field::TenantSetting(i) => return format!("tenant.{}", named(&rs.tenant_settings, i)),
        Field::ChannelSetting(i) => return format!("channel.{}", named(&rs.channel_settings, i)),
        Field::RoleSetting(i) => return format!("role.{}", named(&rs.role_settings, i)),
    };
    fixed.to_owned()
}
