//! Literals in rule files: JSON values read as typed [`Value`]s.
//!
//! Sizes: a whole number of bytes, or a number with a unit. Decimal units
//! are powers of ten (`1 MB` = 1,000,000 bytes, `KB`, `GB`), binary units
//! powers of two (`1 MiB` = 1,048,576 bytes, `KiB`, `GiB`); units are
//! case-insensitive and the space is optional. Durations: `24h`, `30m`,
//! `7days`, `1h 30m`. Instants: RFC 3339, or a date meaning its midnight UTC.

use std::sync::Arc;

use serde_json::Value as Json;

use crate::engine::model::Names;
use crate::engine::value::{Domain, Ty, Value};

use crate::text::hint::{did_you_mean, one_of};

/// A literal that does not fit its type: the message, and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiteralError {
    pub message: String,
    pub hint: Option<String>,
}

fn err(message: impl Into<String>, hint: Option<String>) -> LiteralError {
    LiteralError { message: message.into(), hint }
}

/// Parse `v` as a value of type `ty`; catalog names resolve through `names`.
pub fn parse<'n>(ty: Ty, v: &Json, names: &dyn Fn(Domain) -> &'n Names) -> Result<Value, LiteralError> {
    match ty {
        Ty::Bool => v.as_bool().map(Value::Bool).ok_or_else(|| expected("true or false", v)),
        Ty::Int => match v.as_i64() {
            Some(i) => Ok(Value::Int(i)),
            None => Err(expected("a whole number", v)),
        },
        Ty::Size => size(v).map(Value::Int),
        Ty::Duration => duration(v).map(Value::Int),
        Ty::Str => v.as_str().map(|s| Value::Str(s.into())).ok_or_else(|| expected("a string", v)),
        Ty::Ext => ext(v).map(|s| Value::Str(s.into())),
        Ty::Time => v.as_str().ok_or_else(|| expected("an RFC 3339 instant or a date", v)).and_then(instant).map(Value::Time),
        Ty::Timezone => v.as_str().ok_or_else(|| expected("a time zone name", v)).and_then(timezone).map(Value::Tz),
        Ty::Sym(d) => sym(d, v, names).map(Value::Sym),
        Ty::StrSet | Ty::ExtSet => {
            let items = v.as_array().ok_or_else(|| expected("a list", v))?;
            let mut out: Vec<Box<str>> = Vec::with_capacity(items.len());
            for item in items {
                let s: Box<str> =
                    if ty == Ty::ExtSet { ext(item)?.into() } else { item.as_str().ok_or_else(|| expected("a string", item))?.into() };
                out.push(s);
            }
            out.sort();
            out.dedup();
            Ok(Value::Strs(Arc::from(out)))
        }
        Ty::SymSet(d) => {
            let items = v.as_array().ok_or_else(|| expected("a list", v))?;
            let mut syms = Vec::with_capacity(items.len());
            for item in items {
                syms.push(sym(d, item, names)?);
            }
            Ok(sym_set(d, syms))
        }
    }
}

/// A set of members of `d`: a bit set for small domains, a sorted list for tenants.
pub fn sym_set(d: Domain, mut syms: Vec<u32>) -> Value {
    if d.is_small() {
        Value::Syms(syms.iter().filter(|s| **s < 64).fold(0u64, |acc, s| acc | (1u64 << s)))
    } else {
        syms.sort_unstable();
        syms.dedup();
        Value::SymList(Arc::from(syms))
    }
}

fn expected(what: &str, v: &Json) -> LiteralError {
    err(format!("expected {what}, found {}", short(v)), None)
}

/// A short rendering of a JSON value for messages.
pub fn short(v: &Json) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 { format!("{}…", s.chars().take(60).collect::<String>()) } else { s }
}

fn sym<'n>(d: Domain, v: &Json, names: &dyn Fn(Domain) -> &'n Names) -> Result<u32, LiteralError> {
    let s = v.as_str().ok_or_else(|| expected(&format!("a {} name", d.name()), v))?;
    let table = names(d);
    table.get(s).ok_or_else(|| {
        let hint = did_you_mean(s, table.names.iter().map(|n| &**n)).or_else(|| {
            let known = one_of(table.names.iter().map(|n| &**n));
            Some(match d {
                Domain::Tenant => format!("a tenant is defined by its file under `tenants/`; known: {known}"),
                _ => format!("known: {known}; a new {} is declared under `{}:` in the catalog", d.name(), section(d)),
            })
        });
        err(format!("unknown {} `{s}`", d.name()), hint)
    })
}

/// The catalog's key that declares the names of `d`.
pub fn section(d: Domain) -> &'static str {
    match d {
        Domain::Channel => "channels",
        Domain::Role => "roles",
        Domain::Action => "actions",
        Domain::Capability => "capabilities",
        Domain::ClientStatus => "client_statuses",
        Domain::Tenant => "tenants",
    }
}

/// A size in bytes: an integer, or a string with a unit.
pub fn size(v: &Json) -> Result<i64, LiteralError> {
    if let Some(i) = v.as_i64() {
        return if i < 0 { Err(err(format!("a size cannot be negative ({i})"), None)) } else { Ok(i) };
    }
    let s = v.as_str().ok_or_else(|| expected("a size such as `30 MB` or a number of bytes", v))?;
    parse_size(s)
}

/// What a size may be, for every message that refuses one.
pub const SIZE_UNITS: &str = "write a whole or decimal number and a unit: B, KB, MB, GB, TB (powers of 10) or KiB, MiB, GiB, TiB \
(powers of 2), e.g. `30 MB`; digits may be grouped with `_` (`30_000_000`)";

/// Parse `30 MB`, `50MiB`, `512 kb`, `1000`, `30_000_000`: one grammar —
/// digits (grouped by `_` between digits), an optional fraction, an
/// optional space, a unit from [`SIZE_UNITS`] (case-insensitive; a bare
/// `M` or `k` is refused: it could mean either power).
pub fn parse_size(s: &str) -> Result<i64, LiteralError> {
    let t = s.trim();
    let hint = || Some(SIZE_UNITS.to_owned());
    if t.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x")) {
        return Err(err(format!("`{s}` is not a size"), hint()));
    }
    let digits_end = t.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_')).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits_end);
    let grouped_well = !num.starts_with('_') && !num.ends_with('_') && !num.contains("__") && !num.contains("_.") && !num.contains("._");
    let num = num.replace('_', "");
    if num.is_empty() || num.parse::<f64>().is_err() || !grouped_well || num.starts_with('.') {
        return Err(err(format!("`{s}` is not a size"), hint()));
    }
    let unit = unit.trim();
    let canonical = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => "B",
        "kb" => "KB",
        "mb" => "MB",
        "gb" => "GB",
        "tb" => "TB",
        "kib" => "KiB",
        "mib" => "MiB",
        "gib" => "GiB",
        "tib" => "TiB",
        _ if unit.starts_with(|c: char| c.is_ascii_alphabetic()) => {
            return Err(err(format!("unknown size unit `{unit}` in `{s}`"), hint()));
        }
        _ => return Err(err(format!("`{s}` is not a size"), hint())),
    };
    let parsed: bytesize::ByteSize =
        format!("{num} {canonical}").parse().map_err(|e: String| err(format!("`{s}` is not a size: {e}"), hint()))?;
    let bytes = parsed.as_u64();
    if bytes >= i64::MAX as u64 {
        return Err(err(format!("`{s}` is too large"), None));
    }
    Ok(bytes as i64)
}

/// A duration in milliseconds from `24h`, `30m`, `7days`.
pub fn duration(v: &Json) -> Result<i64, LiteralError> {
    let s = v.as_str().ok_or_else(|| expected("a duration such as `24h`", v))?;
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| err(format!("`{s}` is not a duration: {e}"), Some("e.g. `24h`, `30m`, `7days`, `1h 30m`".into())))?;
    i64::try_from(d.as_millis()).map_err(|_| err(format!("`{s}` is too long"), None))
}

/// An instant in ms since the epoch: RFC 3339, or `YYYY-MM-DD` (midnight UTC).
pub fn instant(s: &str) -> Result<i64, LiteralError> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc().timestamp_millis());
    }
    Err(err(format!("`{s}` is not an instant"), Some("write RFC 3339 (`2027-01-31T18:00:00Z`) or a date (`2027-01-31`)".into())))
}

pub fn timezone(s: &str) -> Result<chrono_tz::Tz, LiteralError> {
    s.parse::<chrono_tz::Tz>().map_err(|_| {
        let hint = did_you_mean(s, chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()))
            .or_else(|| Some("an IANA name such as `Europe/Moscow` or `UTC`".into()));
        err(format!("unknown time zone `{s}`"), hint)
    })
}

/// `HH:MM` → minutes after midnight.
pub fn time_of_day(v: &Json) -> Result<u32, LiteralError> {
    let s = v.as_str().ok_or_else(|| expected("a time of day `HH:MM`", v))?;
    let t = chrono::NaiveTime::parse_from_str(s, "%H:%M")
        .map_err(|_| err(format!("`{s}` is not a time of day"), Some("write `HH:MM`, e.g. `21:00`".into())))?;
    use chrono::Timelike;
    Ok(t.hour() * 60 + t.minute())
}

/// A file extension: `pdf`, `.PDF` → `pdf`.
fn ext(v: &Json) -> Result<String, LiteralError> {
    let s = v.as_str().ok_or_else(|| expected("a file extension", v))?;
    let e = s.trim().trim_start_matches('.').to_lowercase();
    if e.is_empty() || e.contains(['.', '/', '\\', ' ']) {
        return Err(err(
            format!("`{s}` is not a file extension"),
            Some("one extension without dots, e.g. `pdf`; the extension is the text after a name's last dot".into()),
        ));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_with_units() {
        assert_eq!(parse_size("30 MB").unwrap(), 30_000_000);
        assert_eq!(parse_size("30mb").unwrap(), 30_000_000);
        assert_eq!(parse_size("50MiB").unwrap(), 50 * 1024 * 1024);
        assert_eq!(parse_size("512 KB").unwrap(), 512_000);
        assert_eq!(parse_size("512 kib").unwrap(), 512 * 1024);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert_eq!(parse_size("1.5 MB").unwrap(), 1_500_000);
        assert!(parse_size("30 MX").is_err());
        assert_eq!(parse_size("30_000_000").unwrap(), 30_000_000);
        assert_eq!(parse_size("1_000 KB").unwrap(), 1_000_000);
        for bad in ["30 M", "30 k", "30 g", "0x10", "lots", "30 Mi", "_30", "30_", "3__0", ".5 MB", "30 MB extra"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_size("0x10").unwrap_err().message, "`0x10` is not a size");
        assert_eq!(parse_size("30 M").unwrap_err().message, "unknown size unit `M` in `30 M`");
        assert!(parse_size("-1 MB").is_err());
        assert!(parse_size("MB").is_err());
        assert!(parse_size("99999999999 TB").is_err());
        assert!(size(&json!(-5)).is_err());
        assert_eq!(size(&json!(42)).unwrap(), 42);
    }

    #[test]
    fn durations_instants_zones() {
        assert_eq!(duration(&json!("24h")).unwrap(), 86_400_000);
        assert_eq!(duration(&json!("1h 30m")).unwrap(), 5_400_000);
        assert!(duration(&json!("soon")).is_err());
        assert_eq!(instant("1970-01-02").unwrap(), 86_400_000);
        assert_eq!(instant("1970-01-01T00:00:01Z").unwrap(), 1000);
        assert!(instant("tomorrow").is_err());
        assert!(timezone("Europe/Moscow").is_ok());
        assert!(timezone("Europe/Moskow").unwrap_err().hint.unwrap().contains("Europe/Moscow"));
        assert_eq!(time_of_day(&json!("21:30")).unwrap(), 21 * 60 + 30);
    }

    #[test]
    fn extensions_are_normalised() {
        let names = |_d: Domain| -> &Names { unreachable!() };
        let v = parse(Ty::ExtSet, &json!([".PDF", "jpg", "pdf"]), &names).unwrap();
        assert_eq!(v, Value::Strs(Arc::from(vec!["jpg".into(), "pdf".into()])));
        assert!(parse(Ty::ExtSet, &json!(["tar.gz"]), &names).is_err());
    }
}
