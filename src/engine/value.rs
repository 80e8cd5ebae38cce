//! Types and values the engine computes with.
//!
//! A rule set is type-checked against [`Ty`] at load; at evaluation a field
//! reads as a borrowed [`Val`] (no allocation), settings are stored as owned
//! [`Value`]s. Names from the catalog (channels, roles, …) are interned as
//! small integers ([`Domain`] + index) so comparing them is comparing words,
//! and sets of them are bit sets.

use std::fmt;
use std::sync::Arc;

/// A vocabulary declared in the catalog. Its members are interned as `u32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Domain {
    Channel,
    Role,
    Action,
    Capability,
    ClientStatus,
    Tenant,
}

impl Domain {
    pub const ALL: [Domain; 6] = [Domain::Channel, Domain::Role, Domain::Action, Domain::Capability, Domain::ClientStatus, Domain::Tenant];

    pub fn name(self) -> &'static str {
        match self {
            Domain::Channel => "channel",
            Domain::Role => "role",
            Domain::Action => "action",
            Domain::Capability => "capability",
            Domain::ClientStatus => "client_status",
            Domain::Tenant => "tenant",
        }
    }

    /// Domains whose sets are bit sets of one word.
    pub fn is_small(self) -> bool {
        self != Domain::Tenant
    }
}

/// Static types of fields, settings and literals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ty {
    Bool,
    Int,
    /// Bytes; literals may carry units (`30 MB`, `50MiB`).
    Size,
    /// Milliseconds; literals like `24h`, `30m`.
    Duration,
    Str,
    /// A file extension: lower case, no dot.
    Ext,
    /// An instant (RFC 3339), milliseconds since the epoch.
    Time,
    /// An IANA time zone name.
    Timezone,
    Sym(Domain),
    StrSet,
    ExtSet,
    SymSet(Domain),
}

impl Ty {
    /// The element type of a set type.
    pub fn elem(self) -> Option<Ty> {
        match self {
            Ty::StrSet => Some(Ty::Str),
            Ty::ExtSet => Some(Ty::Ext),
            Ty::SymSet(d) => Some(Ty::Sym(d)),
            _ => None,
        }
    }

    /// The set type whose elements are of this type.
    pub fn set_of(self) -> Option<Ty> {
        match self {
            Ty::Str => Some(Ty::StrSet),
            Ty::Ext => Some(Ty::ExtSet),
            Ty::Sym(d) => Some(Ty::SymSet(d)),
            _ => None,
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Ty::Int | Ty::Size | Ty::Duration)
    }

    /// Whether values of the two types may be compared with each other.
    pub fn comparable(self, other: Ty) -> bool {
        self == other
            || (self.is_numeric() && other.is_numeric() && self != Ty::Duration && other != Ty::Duration)
            || matches!((self, other), (Ty::Str, Ty::Ext) | (Ty::Ext, Ty::Str))
    }

    /// Parse a type name as written in rule files.
    pub fn parse(s: &str) -> Option<Ty> {
        let s = s.trim();
        if let Some(inner) = s.strip_prefix("set<").and_then(|r| r.strip_suffix('>')) {
            return Ty::parse(inner)?.set_of().filter(|t| *t != Ty::SymSet(Domain::Tenant));
        }
        Some(match s {
            "bool" => Ty::Bool,
            "int" => Ty::Int,
            "size" => Ty::Size,
            "duration" => Ty::Duration,
            "string" => Ty::Str,
            "extension" => Ty::Ext,
            "timestamp" => Ty::Time,
            "timezone" => Ty::Timezone,
            "channel" => Ty::Sym(Domain::Channel),
            "role" => Ty::Sym(Domain::Role),
            "action" => Ty::Sym(Domain::Action),
            "capability" => Ty::Sym(Domain::Capability),
            "client_status" => Ty::Sym(Domain::ClientStatus),
            "tenant" => Ty::Sym(Domain::Tenant),
            _ => return None,
        })
    }

    pub const NAMES: &'static [&'static str] = &[
        "bool",
        "int",
        "size",
        "duration",
        "string",
        "extension",
        "timestamp",
        "timezone",
        "channel",
        "role",
        "action",
        "capability",
        "client_status",
        "tenant",
        "set<string>",
        "set<extension>",
        "set<channel>",
        "set<role>",
        "set<action>",
        "set<capability>",
        "set<client_status>",
    ];
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Bool => f.write_str("bool"),
            Ty::Int => f.write_str("int"),
            Ty::Size => f.write_str("size"),
            Ty::Duration => f.write_str("duration"),
            Ty::Str => f.write_str("string"),
            Ty::Ext => f.write_str("extension"),
            Ty::Time => f.write_str("timestamp"),
            Ty::Timezone => f.write_str("timezone"),
            Ty::Sym(d) => f.write_str(d.name()),
            Ty::StrSet => f.write_str("set<string>"),
            Ty::ExtSet => f.write_str("set<extension>"),
            Ty::SymSet(d) => write!(f, "set<{}>", d.name()),
        }
    }
}

/// An owned value: a setting, a literal, a custom attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    /// Int, Size (bytes) and Duration (milliseconds).
    Int(i64),
    Str(Arc<str>),
    Time(i64),
    Tz(chrono_tz::Tz),
    Sym(u32),
    /// A set of members of a small domain, as a bit set.
    Syms(u64),
    /// A set of strings (or extensions), sorted and deduplicated.
    Strs(Arc<[Box<str>]>),
    /// A set of tenants (the one large domain), sorted.
    SymList(Arc<[u32]>),
}

impl Value {
    pub fn as_val(&self) -> Val<'_> {
        match self {
            Value::Bool(b) => Val::Bool(*b),
            Value::Int(i) => Val::Int(*i),
            Value::Str(s) => Val::Str(s),
            Value::Time(t) => Val::Time(*t),
            Value::Tz(z) => Val::Tz(*z),
            Value::Sym(s) => Val::Sym(*s),
            Value::Syms(b) => Val::Syms(*b),
            Value::Strs(s) => Val::Strs(s),
            Value::SymList(l) => Val::SymList(l),
        }
    }
}

/// String equality for the short strings sets hold (extensions, tags):
/// lengths first, then bytes in line — `==` calls `memcmp`, which costs
/// more than comparing three bytes.
#[inline]
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && if a.len() <= 16 { a.iter().zip(b).all(|(x, y)| x == y) } else { a == b }
}

/// A borrowed value read from a request or a setting during evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val<'a> {
    /// An optional field the request left out (or a blank string).
    Absent,
    Bool(bool),
    Int(i64),
    Str(&'a str),
    Time(i64),
    Tz(chrono_tz::Tz),
    Sym(u32),
    Syms(u64),
    Strs(&'a [Box<str>]),
    SymList(&'a [u32]),
}

impl Val<'_> {
    /// Membership of `self` (a scalar) in `set`. Absent is in no set.
    pub fn is_in(self, set: Val<'_>) -> bool {
        match (self, set) {
            (Val::Sym(s), Val::Syms(bits)) => s < 64 && bits & (1u64 << s) != 0,
            (Val::Sym(s), Val::SymList(l)) => l.binary_search(&s).is_ok(),
            (Val::Str(s), Val::Strs(l)) => l.iter().any(|x| same(x, s)),
            _ => false,
        }
    }

    /// Whether two sets share a member.
    pub fn intersects(self, other: Val<'_>) -> bool {
        match (self, other) {
            (Val::Syms(a), Val::Syms(b)) => a & b != 0,
            (Val::Strs(a), Val::Strs(b)) => a.iter().any(|x| b.iter().any(|y| same(x, y))),
            (Val::SymList(a), Val::SymList(b)) => a.iter().any(|x| b.binary_search(x).is_ok()),
            _ => false,
        }
    }

    /// Whether every member of `self` is in `other`.
    pub fn subset_of(self, other: Val<'_>) -> bool {
        match (self, other) {
            (Val::Syms(a), Val::Syms(b)) => a & !b == 0,
            (Val::Strs(a), Val::Strs(b)) => a.iter().all(|x| b.iter().any(|y| same(x, y))),
            (Val::SymList(a), Val::SymList(b)) => a.iter().all(|x| b.binary_search(x).is_ok()),
            _ => false,
        }
    }

    pub fn is_empty_set(self) -> bool {
        match self {
            Val::Syms(b) => b == 0,
            Val::Strs(s) => s.is_empty(),
            Val::SymList(l) => l.is_empty(),
            Val::Absent => true,
            _ => false,
        }
    }

    /// Equality; absent equals nothing, not even absent.
    pub fn equals(self, other: Val<'_>) -> bool {
        match (self, other) {
            (Val::Absent, _) | (_, Val::Absent) => false,
            (Val::Str(a), Val::Str(b)) => a == b,
            (Val::Strs(a), Val::Strs(b)) => a == b,
            (Val::SymList(a), Val::SymList(b)) => a == b,
            (a, b) => a == b,
        }
    }

    pub fn number(self) -> Option<i64> {
        match self {
            Val::Int(i) | Val::Time(i) => Some(i),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_type_names() {
        for name in Ty::NAMES {
            let ty = Ty::parse(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(ty.to_string(), *name);
        }
        assert_eq!(Ty::parse("set<tenant>"), None);
        assert_eq!(Ty::parse("float"), None);
    }

    #[test]
    fn set_operations() {
        let a: Arc<[Box<str>]> = vec!["a".into(), "b".into()].into();
        assert!(Val::Str("a").is_in(Val::Strs(&a)));
        assert!(!Val::Absent.is_in(Val::Strs(&a)));
        assert!(Val::Sym(3).is_in(Val::Syms(0b1000)));
        assert!(!Val::Sym(70).is_in(Val::Syms(u64::MAX)));
        assert!(Val::Syms(0b10).subset_of(Val::Syms(0b11)));
        assert!(!Val::Absent.equals(Val::Absent));
    }
}
