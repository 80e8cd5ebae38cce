//! Worlds: what each field of a request, and each setting, can be.
//!
//! The analysis decides a condition once per *world*: one channel of the
//! catalog (as the engine's plans fold them), one sender role when the
//! condition reads a role setting, and either any tenant the settings'
//! declarations allow ([`Tenancy::Any`]: bounds, `tighten_only`, `locked`)
//! or one tenant as its file sets it, in one period between the expiries
//! of its overrides ([`Tenancy::One`]). In a world every field has a
//! [`Kind`]: the values a request can give it (and whether it may be left
//! out), or one known value — the channel, a locked setting, a tenant's.
//!
//! Every kind is a superset of what requests and tenant files can really
//! hold: the analysis only ever claims "impossible" of what no value of
//! these kinds can satisfy, so a wider kind can cost a finding, never make
//! a wrong one.

use std::collections::BTreeSet;

use crate::engine::model::{Field, RuleSet, SettingDef, Slot};
use crate::engine::value::{Domain, Ty, Value};
use crate::request::{MAX_LIST_ITEMS, MAX_TEXT_BYTES};

/// Whose settings a world holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tenancy {
    /// Any tenant a tenant file could describe, within the declared bounds.
    Any,
    /// This tenant, with its overrides as they are at instant `at`.
    One { tenant: u32, at: i64 },
}

/// One world: see the module docs.
#[derive(Clone, Copy)]
pub(super) struct World<'a> {
    pub rs: &'a RuleSet,
    pub channel: u32,
    pub role: Option<u32>,
    /// Inside `each: attachment`: there is an attachment at hand.
    pub per_attachment: bool,
    pub tenancy: Tenancy,
}

/// A member of a set: a catalog name or a string (tags, extensions).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Elem {
    Sym(u32),
    Str(Box<str>),
}

/// The members a set field may hold.
#[derive(Debug, Clone)]
pub(super) enum Universe {
    /// Only these (a catalog domain, or the subsets of a `tighten_only` default).
    Finite(BTreeSet<Elem>),
    /// Any string.
    Strings,
}

/// What a field can be in a world.
#[derive(Debug, Clone)]
pub(super) enum Kind {
    /// One of these catalog names.
    Sym(BTreeSet<u32>),
    Bool {
        optional: bool,
    },
    /// A string; `blank`: a blank one may be given.
    Str {
        optional: bool,
        blank: bool,
    },
    /// A set. `listed`: it is the request's list as given (`thread.tags`:
    /// order and repeats kept), so `eq` compares more than membership.
    Set {
        optional: bool,
        universe: Universe,
        listed: bool,
    },
    Num {
        optional: bool,
        lo: i64,
        hi: i64,
    },
    /// Fixed in this world.
    Known(Value),
    /// Not modelled: any value, independently of everything else.
    Opaque,
}

/// Message text is at most this many characters.
pub(super) const MAX_TEXT_CHARS: i64 = MAX_TEXT_BYTES as i64;

/// The field that holds the same value as `f` (the template is read by its name).
pub(super) fn canonical(f: Field) -> Field {
    if f == Field::MessageTemplateName { Field::MessageTemplate } else { f }
}

impl World<'_> {
    /// What `f` can be here.
    pub(super) fn kind(&self, f: Field) -> Kind {
        let rs = self.rs;
        let all = |d: Domain| Kind::Sym((0..rs.names(d).len() as u32).collect());
        let num = |optional: bool, lo: i64, hi: i64| Kind::Num { optional, lo, hi };
        match canonical(f) {
            Field::Tenant => match self.tenancy {
                Tenancy::Any => all(Domain::Tenant),
                Tenancy::One { tenant, .. } => Kind::Known(Value::Sym(tenant)),
            },
            Field::Action => all(Domain::Action),
            Field::ClientStatus => all(Domain::ClientStatus),
            Field::Channel => Kind::Known(Value::Sym(self.channel)),
            Field::SenderRole => match self.role {
                Some(r) => Kind::Known(Value::Sym(r)),
                None => all(Domain::Role),
            },
            Field::At => num(false, i64::MIN, i64::MAX),
            Field::ClientLastInboundAt => num(true, i64::MIN, i64::MAX),
            Field::SenderId
            | Field::SenderStatus
            | Field::ClientEmail
            | Field::ClientPhone
            | Field::ClientExternalId
            | Field::MessageText
            | Field::MessageTemplateHeader
            | Field::MessageTemplateFooter => Kind::Str { optional: true, blank: true },
            // A template without a name is refused as a request.
            Field::MessageTemplate | Field::MessageTemplateName => Kind::Str { optional: true, blank: false },
            Field::AttachmentName => Kind::Str { optional: !self.per_attachment, blank: true },
            Field::AttachmentExtension => Kind::Str { optional: true, blank: true },
            Field::AttachmentSize if self.per_attachment => num(false, 0, i64::MAX),
            Field::AttachmentSize => num(true, 0, i64::MAX),
            Field::AttachmentsCount => num(false, i64::from(self.per_attachment), MAX_LIST_ITEMS as i64),
            Field::AttachmentsTotalSize => num(false, 0, i64::MAX),
            Field::MessageTextLength => num(false, 0, MAX_TEXT_CHARS),
            Field::ClientBlocked | Field::ClientActiveThread => Kind::Bool { optional: false },
            Field::ClientChannels => Kind::Set {
                optional: false,
                universe: Universe::Finite((0..rs.channels.len() as u32).map(Elem::Sym).collect()),
                listed: false,
            },
            Field::ThreadTags => Kind::Set { optional: false, universe: Universe::Strings, listed: true },
            Field::ClientAttr(i) => attr(rs.client_attrs.get(i as usize).map(|a| a.ty)),
            Field::SenderAttr(i) => attr(rs.sender_attrs.get(i as usize).map(|a| a.ty)),
            Field::TenantSetting(_) | Field::ChannelSetting(_) | Field::RoleSetting(_) => self.setting(f),
        }
    }

    /// A setting: its value in this tenant, or what any tenant may set.
    fn setting(&self, f: Field) -> Kind {
        let rs = self.rs;
        let d = &rs.declared;
        let (def, row, idx, defaults): (Option<&SettingDef>, Option<&[Slot]>, usize, &[Value]) = match f {
            Field::TenantSetting(i) => {
                let row = self.tenant().map(|t| &*t.tenant);
                (rs.tenant_settings.get(i as usize), row, i as usize, &d.tenant_defaults)
            }
            Field::ChannelSetting(i) => {
                let n = rs.channel_settings.len();
                let start = self.channel as usize * n;
                let row = self.tenant().and_then(|t| t.channel.get(start..start + n));
                (rs.channel_settings.get(i as usize), row, i as usize, d.channel_defaults.get(start..start + n).unwrap_or(&[]))
            }
            Field::RoleSetting(i) => {
                let Some(role) = self.role else { return Kind::Opaque };
                let n = rs.role_settings.len();
                let start = role as usize * n;
                let row = self.tenant().and_then(|t| t.role.get(start..start + n));
                (rs.role_settings.get(i as usize), row, i as usize, d.role_defaults.get(start..start + n).unwrap_or(&[]))
            }
            _ => return Kind::Opaque,
        };
        let Some(def) = def else { return Kind::Opaque };
        if let Tenancy::One { at, .. } = self.tenancy {
            return row.and_then(|r| r.get(idx)).map_or(Kind::Opaque, |s| Kind::Known(s.at(at).clone()));
        }
        let Some(default) = defaults.get(idx) else { return Kind::Opaque };
        if def.locked {
            return Kind::Known(default.clone());
        }
        // Tenants' values lie within these bounds: the load refused any
        // override outside them (or above the default, for `tighten_only`).
        match def.ty {
            Ty::Bool => Kind::Bool { optional: false },
            Ty::Int | Ty::Size | Ty::Duration => {
                let floor = if def.ty == Ty::Int { i64::MIN } else { 0 };
                let (mut lo, mut hi) = (def.min.unwrap_or(floor), def.max.unwrap_or(i64::MAX));
                if let Value::Int(v) = default {
                    // The default is within the bounds too (the load checks it).
                    lo = lo.min(*v);
                    hi = if def.tighten_only { *v } else { hi.max(*v) };
                }
                if lo == hi { Kind::Known(Value::Int(lo)) } else { Kind::Num { optional: false, lo, hi } }
            }
            Ty::Time => Kind::Num { optional: false, lo: i64::MIN, hi: i64::MAX },
            Ty::Str | Ty::Ext => Kind::Str { optional: false, blank: true },
            Ty::Sym(dom) => Kind::Sym((0..rs.names(dom).len() as u32).collect()),
            Ty::StrSet | Ty::ExtSet | Ty::SymSet(_) => {
                let universe = if def.tighten_only {
                    // Subsets of the default.
                    Universe::Finite(elems(default).into_iter().collect())
                } else {
                    match def.ty {
                        Ty::SymSet(dom) => Universe::Finite((0..rs.names(dom).len() as u32).map(Elem::Sym).collect()),
                        _ => Universe::Strings,
                    }
                };
                Kind::Set { optional: false, universe, listed: false }
            }
            Ty::Timezone => Kind::Opaque,
        }
    }

    fn tenant(&self) -> Option<&crate::engine::model::Tenant> {
        match self.tenancy {
            Tenancy::One { tenant, .. } => self.rs.tenant_data.get(tenant as usize),
            Tenancy::Any => None,
        }
    }
}

fn attr(ty: Option<Ty>) -> Kind {
    match ty {
        Some(Ty::Bool) => Kind::Bool { optional: true },
        Some(Ty::Int) => Kind::Num { optional: true, lo: i64::MIN, hi: i64::MAX },
        Some(Ty::Size | Ty::Duration) => Kind::Num { optional: true, lo: 0, hi: i64::MAX },
        Some(Ty::Time) => Kind::Num { optional: true, lo: i64::MIN, hi: i64::MAX },
        Some(Ty::Str) => Kind::Str { optional: true, blank: true },
        Some(Ty::StrSet) => Kind::Set { optional: true, universe: Universe::Strings, listed: false },
        _ => Kind::Opaque,
    }
}

/// The members of a set value.
pub(super) fn elems(v: &Value) -> Vec<Elem> {
    match v {
        Value::Syms(bits) => (0..64u32).filter(|i| bits & (1u64 << i) != 0).map(Elem::Sym).collect(),
        Value::SymList(l) => l.iter().map(|s| Elem::Sym(*s)).collect(),
        Value::Strs(l) => l.iter().map(|s| Elem::Str(s.clone())).collect(),
        _ => Vec::new(),
    }
}

/// The periods of a tenant between the expiries of its overrides, each by
/// an instant inside it: its settings hold still within each.
pub(super) fn periods(rs: &RuleSet, tenant: u32) -> Vec<i64> {
    let Some(t) = rs.tenant_data.get(tenant as usize) else { return Vec::new() };
    let mut out = vec![i64::MIN];
    for slot in t.tenant.iter().chain(t.channel.iter()).chain(t.role.iter()) {
        if let Slot::Expiring(e) = slot {
            out.push(e.until);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}
