//! Constraints between settings, declared in the settings file:
//!
//! ```yaml
//! channel:
//!   max_file_size: { type: size, default: 30 MB, at_most: max_total_size }
//! ```
//!
//! `at_most: other` means the setting's effective value is at most the
//! effective value of `other`, a setting of the same level, for every
//! tenant and every channel (or role) and at every instant. The program
//! knows no setting by name, so a relation such as "a file no larger than
//! the whole message" can only be checked when the rules state it.
//!
//! Checked once all tenants are layered: first the defaults (per channel
//! or role, before any tenant), then each tenant that overrides either
//! setting — before and after each of its overrides expires, since the
//! engine serves every instant a request's `at` names. A breach is
//! reported once, at the value that causes it: the tenant's override in
//! effect when there is one, else the channel- or role-specific default,
//! else the default; between two of the same rank, the constrained one.
//! Settings whose default did not parse, and overrides that were refused,
//! are left out: their own errors say what is wrong.

use std::collections::{BTreeMap, HashSet};

use crate::engine::model::{Origin, SettingDef, SettingKey, Slot, Tenant};
use crate::engine::value::Value;
use crate::rules::diag::{Diagnostic, Pos};
use crate::text::hint::did_you_mean;

use super::Builder;
use super::settings::{Level, find, show};

/// `left` ≤ `right`, two settings of `level`; declared at `file`:`ptr`.
#[derive(Debug, Clone)]
pub(super) struct AtMost {
    level: Level,
    left: u16,
    right: u16,
    file: usize,
    ptr: String,
}

/// A declaration's `at_most`, before every setting is known.
pub(super) struct Declared {
    pub file: usize,
    /// Pointer of the `at_most` entry.
    pub ptr: String,
    pub level: Level,
    pub name: String,
    pub other: String,
}

/// Resolve the `at_most` of each declaration once every setting is declared.
pub(super) fn declare(b: &mut Builder, declared: Vec<Declared>) {
    for d in declared {
        let Some((left, ldef)) = find(b, d.level, &d.name) else { continue };
        let Some((right, rdef)) = find(b, d.level, &d.other) else {
            let names: Vec<String> = level_defs(b, d.level).iter().map(|s| s.name.to_string()).filter(|n| *n != d.name).collect();
            let hint = did_you_mean(&d.other, names.iter().map(String::as_str))
                .or_else(|| Some(format!("`at_most` names another {} setting", d.level.prefix())));
            b.error_value(d.file, &d.ptr, Some(&d.name), format!("unknown {} setting `{}`", d.level.prefix(), d.other), hint);
            continue;
        };
        if left == right {
            b.error_value(d.file, &d.ptr, Some(&d.name), format!("`{}` cannot be at most itself", d.name), None);
            continue;
        }
        if !(ldef.ty.is_numeric() && ldef.ty.comparable(rdef.ty)) {
            b.error_value(
                d.file,
                &d.ptr,
                Some(&d.name),
                format!("`at_most` compares numbers and sizes: `{}` is a {}, `{}` a {}", d.name, ldef.ty, d.other, rdef.ty),
                None,
            );
            continue;
        }
        b.constraints.push(AtMost { level: d.level, left, right, file: d.file, ptr: d.ptr });
    }
}

/// One side of a comparison: its value, where it came from, how specific.
struct Side {
    value: i64,
    origin: Origin,
    /// 2 a tenant's override in effect, 1 a channel- or role-specific default, 0 the default.
    rank: u8,
}

/// Check every constraint against the defaults and every tenant.
pub(super) fn check(b: &mut Builder) {
    let constraints = std::mem::take(&mut b.constraints);
    for c in &constraints {
        if b.broken_settings.contains(&(c.level, c.left)) || b.broken_settings.contains(&(c.level, c.right)) {
            continue;
        }
        check_defaults(b, c);
        check_tenants(b, c);
    }
    b.constraints = constraints;
}

/// A breach of the defaults: whether the constrained side is blamed, the
/// blamed value's origin (file, line, column), the two values. The
/// channels or roles where it holds are grouped under it.
type DefaultBreach = (bool, (u32, u32, u32), i64, i64);

/// The defaults, per channel or role: a breach common to several is one
/// diagnostic, naming them all.
fn check_defaults(b: &mut Builder, c: &AtMost) {
    let mut breaches: BTreeMap<DefaultBreach, Vec<String>> = BTreeMap::new();
    for e in 0..entities(b, c.level) {
        let (Some(l), Some(r)) = (default_side(b, c.level, e, c.left), default_side(b, c.level, e, c.right)) else { continue };
        if l.value > r.value {
            let left_is_blamed = l.rank >= r.rank;
            let o = if left_is_blamed { l.origin } else { r.origin };
            breaches.entry((left_is_blamed, (o.file, o.line, o.column), l.value, r.value)).or_default().push(entity_name(b, c.level, e));
        }
    }
    for ((left_is_blamed, (file, line, column), l, r), names) in breaches {
        let whom = match c.level {
            Level::Tenant => "for every tenant".to_owned(),
            _ if names.len() as u32 == entities(b, c.level) => format!("for every {} of every tenant", c.level.prefix()),
            _ => format!("for {} {} of every tenant", plural(c.level, names.len()), quoted(&names)),
        };
        let rule = name(b, c, if left_is_blamed { c.left } else { c.right });
        report(b, c, Origin { file, line, column }, left_is_blamed, l, r, &whom, None, Some(&rule));
    }
}

/// Each tenant that overrides either setting, before and after each of
/// those overrides expires.
fn check_tenants(b: &mut Builder, c: &AtMost) {
    let mut breaches = Vec::new();
    let n = level_defs(b, c.level).len();
    for ti in 0..b.rs.tenant_data.len() {
        let Some(t) = b.rs.tenant_data.get(ti) else { continue };
        // The entities where this tenant overrides either side.
        let mut touched: Vec<u32> = t
            .overrides
            .keys()
            .filter_map(|k| match (c.level, *k) {
                (Level::Tenant, SettingKey::Tenant(i)) if i == c.left || i == c.right => Some(0),
                (Level::Channel, SettingKey::Channel(e, i)) | (Level::Role, SettingKey::Role(e, i)) if i == c.left || i == c.right => {
                    Some(e)
                }
                _ => None,
            })
            .collect::<HashSet<u32>>()
            .into_iter()
            .collect();
        touched.sort_unstable();
        for e in touched {
            let (lk, rk) = (key(c.level, e, c.left), key(c.level, e, c.right));
            if b.failed_overrides.contains(&(ti as u32, lk)) || b.failed_overrides.contains(&(ti as u32, rk)) {
                continue;
            }
            let (Some(ls), Some(rs)) = (slot(t, c.level, n, e, c.left), slot(t, c.level, n, e, c.right)) else { continue };
            let (ls, rs) = (ls.clone(), rs.clone());
            // Every instant at which either side may change.
            let mut instants = vec![i64::MIN];
            instants.extend([&ls, &rs].into_iter().filter_map(|s| if let Slot::Expiring(x) = s { Some(x.until) } else { None }));
            instants.sort_unstable();
            instants.dedup();
            for at in instants {
                let (Some(l), Some(r)) =
                    (tenant_side(b, ti, c.level, e, c.left, &ls, at), tenant_side(b, ti, c.level, e, c.right, &rs, at))
                else {
                    break;
                };
                if l.value <= r.value {
                    continue;
                }
                // A breach of the defaults alone is reported with them.
                if l.rank < 2 && r.rank < 2 {
                    continue;
                }
                let left_is_blamed = l.rank >= r.rank;
                let blamed = if left_is_blamed { &l } else { &r };
                let tenant = b.rs.tenant_data.get(ti).map(|t| t.name.to_string()).unwrap_or_default();
                let whom = match c.level {
                    Level::Tenant => format!("for tenant `{tenant}`"),
                    _ => format!("for {} `{}` of tenant `{tenant}`", c.level.prefix(), entity_name(b, c.level, e)),
                };
                let lapsed = (at != i64::MIN).then(|| lapsed(b, ti, c, e, at, &ls, &rs));
                breaches.push((blamed.origin, left_is_blamed, l.value, r.value, whom, lapsed, tenant));
                break;
            }
        }
    }
    for (origin, left_is_blamed, l, r, whom, lapsed, tenant) in breaches {
        report(b, c, origin, left_is_blamed, l, r, &whom, lapsed.as_deref(), Some(&tenant));
    }
}

/// "from … on, once the override of `x` (expires: …) has lapsed".
fn lapsed(b: &Builder, ti: usize, c: &AtMost, e: u32, at: i64, ls: &Slot, rs: &Slot) -> String {
    let mut names = Vec::new();
    for (s, idx) in [(ls, c.left), (rs, c.right)] {
        if matches!(s, Slot::Expiring(x) if x.until == at) {
            let expires =
                b.rs.tenant_data
                    .get(ti)
                    .and_then(|t| t.overrides.get(&key(c.level, e, idx)))
                    .and_then(|o| o.expires.as_deref())
                    .map(|x| format!(" (expires: {x})"))
                    .unwrap_or_default();
            names.push(format!("the override of `{}`{expires}", name(b, c, idx)));
        }
    }
    let when = chrono::DateTime::from_timestamp_millis(at)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| at.to_string());
    format!("from {when} on, once {} has lapsed", names.join(" and "))
}

#[allow(clippy::too_many_arguments)]
fn report(
    b: &mut Builder,
    c: &AtMost,
    at: Origin,
    left_is_blamed: bool,
    l: i64,
    r: i64,
    whom: &str,
    when: Option<&str>,
    rule: Option<&str>,
) {
    // A breach in a file with other errors is most likely their knock-on
    // (a mis-indented setting that did not apply): their errors say it.
    let path = b.path(at.file as usize).to_owned();
    if b.diags.iter().any(|d| d.is_error() && d.file == path) {
        return;
    }
    let (ldef, rdef) = (def(b, c.level, c.left), def(b, c.level, c.right));
    let (Some(ldef), Some(rdef)) = (ldef, rdef) else { return };
    let (lname, rname) = (&ldef.name, &rdef.name);
    let (lv, rv) = (show(&ldef, l), show(&rdef, r));
    let mut message = if left_is_blamed {
        format!("`{lname}` {lv} is above `{rname}` {rv} {whom}")
    } else {
        format!("`{rname}` {rv} is below `{lname}` {lv} {whom}")
    };
    if let Some(when) = when {
        message.push_str(&format!(", {when}"));
    }
    let declared = format!("{}:{}", b.path(c.file), b.pos(c.file, &c.ptr).line);
    let mut hint = if left_is_blamed {
        format!("`{lname}` must be at most `{rname}` (`at_most: {rname}`, {declared}): lower `{lname}` to {rv} or less, or raise `{rname}`")
    } else {
        format!("`{lname}` must be at most `{rname}` (`at_most: {rname}`, {declared}): raise `{rname}` to {lv} or more, or lower `{lname}`")
    };
    if when.is_some() {
        let blamed = if left_is_blamed { lname } else { rname };
        hint.push_str(&format!("; or let the override of `{blamed}` expire then too"));
    }
    let pos = Pos { line: at.line, column: at.column };
    let d = Diagnostic::error(b.path(at.file as usize), pos, message).with_rule(rule).with_hint(Some(hint));
    b.diags.push(d);
}

fn default_side(b: &Builder, level: Level, e: u32, idx: u16) -> Option<Side> {
    let row = match level {
        Level::Tenant => Some(&b.defaults.tenant),
        Level::Channel => b.defaults.channel.get(e as usize),
        Level::Role => b.defaults.role.get(e as usize),
    }?;
    let Value::Int(value) = row.get(idx as usize)? else { return None };
    let specific = (level != Level::Tenant).then(|| b.rs.default_origins.get(&key(level, e, idx))).flatten();
    let (origin, rank) = match specific {
        Some(o) => (*o, 1),
        None => (*b.rs.default_origins.get(&key(level, u32::MAX, idx))?, 0),
    };
    Some(Side { value: *value, origin, rank })
}

fn tenant_side(b: &Builder, ti: usize, level: Level, e: u32, idx: u16, s: &Slot, at: i64) -> Option<Side> {
    let Value::Int(value) = s.at(at) else { return None };
    let in_effect = match s {
        Slot::Value(_) => true,
        Slot::Expiring(x) => at < x.until,
    };
    let over = b.rs.tenant_data.get(ti).and_then(|t| t.overrides.get(&key(level, e, idx)));
    match over {
        Some(o) if in_effect => Some(Side { value: *value, origin: o.origin, rank: 2 }),
        _ => default_side(b, level, e, idx).map(|d| Side { value: *value, ..d }),
    }
}

fn key(level: Level, e: u32, idx: u16) -> SettingKey {
    match level {
        Level::Tenant => SettingKey::Tenant(idx),
        Level::Channel => SettingKey::Channel(e, idx),
        Level::Role => SettingKey::Role(e, idx),
    }
}

fn slot(t: &Tenant, level: Level, n: usize, e: u32, idx: u16) -> Option<&Slot> {
    match level {
        Level::Tenant => t.tenant.get(idx as usize),
        Level::Channel => t.channel.get(e as usize * n + idx as usize),
        Level::Role => t.role.get(e as usize * n + idx as usize),
    }
}

fn level_defs(b: &Builder, level: Level) -> &[SettingDef] {
    match level {
        Level::Tenant => &b.rs.tenant_settings,
        Level::Channel => &b.rs.channel_settings,
        Level::Role => &b.rs.role_settings,
    }
}

fn def(b: &Builder, level: Level, idx: u16) -> Option<SettingDef> {
    level_defs(b, level).get(idx as usize).cloned()
}

fn name(b: &Builder, c: &AtMost, idx: u16) -> String {
    def(b, c.level, idx).map(|d| d.name.to_string()).unwrap_or_default()
}

fn entities(b: &Builder, level: Level) -> u32 {
    match level {
        Level::Tenant => 1,
        Level::Channel => b.rs.channels.len() as u32,
        Level::Role => b.rs.roles.len() as u32,
    }
}

fn entity_name(b: &Builder, level: Level, e: u32) -> String {
    let names = match level {
        Level::Tenant => return String::new(),
        Level::Channel => &b.rs.channels.names,
        Level::Role => &b.rs.roles.names,
    };
    names.get(e as usize).map(ToString::to_string).unwrap_or_default()
}

fn plural(level: Level, n: usize) -> String {
    if n == 1 { level.prefix().to_owned() } else { format!("{}s", level.prefix()) }
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}
