//! Values as people read them: in an explanation (`31000000 bytes`,
//! `[email, whatsapp]`, `absent`) and in a tenant's settings (JSON, with
//! names for catalog members and RFC 3339 for instants).

use serde_json::{Value as Json, json};

use crate::engine::model::RuleSet;
use crate::engine::value::{Domain, Ty, Val, Value};

/// A value read by a condition, as an explanation shows it.
pub fn show(rs: &RuleSet, ty: Ty, v: Val<'_>) -> String {
    let names = |d: Domain, bits: u64| -> String {
        let n: Vec<&str> = (0..64u32).filter(|i| bits & (1u64 << i) != 0).map(|i| rs.names(d).name(i)).collect();
        format!("[{}]", n.join(", "))
    };
    match (ty, v) {
        (_, Val::Absent) => "absent".into(),
        (Ty::Sym(d), Val::Sym(i)) => rs.names(d).name(i).to_owned(),
        (Ty::SymSet(d), Val::Syms(bits)) => names(d, bits),
        (Ty::SymSet(d), Val::SymList(l)) => format!("[{}]", l.iter().map(|i| rs.names(d).name(*i)).collect::<Vec<_>>().join(", ")),
        (Ty::Size, Val::Int(i)) => format!("{i} bytes"),
        (Ty::Duration, Val::Int(ms)) => humantime::format_duration(std::time::Duration::from_millis(ms.max(0) as u64)).to_string(),
        (_, Val::Time(t)) => chrono::DateTime::from_timestamp_millis(t).map(|d| d.to_rfc3339()).unwrap_or_else(|| t.to_string()),
        (_, Val::Str(s)) => format!("{s:?}"),
        (_, Val::Strs(l)) => format!("{l:?}"),
        (_, Val::Bool(b)) => b.to_string(),
        (_, Val::Int(i)) => i.to_string(),
        (_, Val::Tz(z)) => z.name().to_owned(),
        (_, Val::Sym(i)) => i.to_string(),
        (_, Val::Syms(b)) => format!("{b:#x}"),
        (_, Val::SymList(l)) => format!("{l:?}"),
    }
}

/// An instant (ms since the epoch) as RFC 3339 in UTC, `2026-11-20T09:30:00.000Z`.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).unwrap_or_default()
}

/// A setting value as JSON: names for catalog members, RFC 3339 for instants.
pub fn setting_json(rs: &RuleSet, ty: Ty, v: &Value) -> Json {
    let domain = match ty {
        Ty::Sym(d) | Ty::SymSet(d) => d,
        _ => Domain::Tenant,
    };
    match v {
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::Str(s) => json!(&**s),
        Value::Time(t) => json!(rfc3339(*t)),
        Value::Tz(z) => json!(z.name()),
        Value::Sym(i) => json!(rs.names(domain).name(*i)),
        Value::Syms(bits) => Json::Array((0..64u32).filter(|i| bits & (1u64 << i) != 0).map(|i| json!(rs.names(domain).name(i))).collect()),
        Value::Strs(s) => Json::Array(s.iter().map(|x| json!(&**x)).collect()),
        Value::SymList(l) => Json::Array(l.iter().map(|i| json!(rs.tenants.name(*i))).collect()),
    }
}

/// The names of a symbol-set value (empty for anything else).
pub fn names(rs: &RuleSet, d: Domain, v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Syms(bits)) => (0..64u32).filter(|i| bits & (1u64 << i) != 0).map(|i| rs.names(d).name(i).to_owned()).collect(),
        _ => Vec::new(),
    }
}

/// The strings of a string-set value (empty for anything else).
pub fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Strs(s)) => s.iter().map(|x| x.to_string()).collect(),
        _ => Vec::new(),
    }
}
