//! TOML front end: one pass over `toml`'s spanned parse tree builds both the
//! common JSON tree and the locator. TOML datetimes become strings (the
//! schema and compiler read dates and instants from strings either way).
//!
//! A key set twice is reported as YAML reports it ([`RepeatedKey`]): the
//! parser recovers from it keeping the first value, so the rest of the file
//! is still checked. Any other syntax error stops the file.

use toml::de::{DeTable, DeValue};

use super::diag::Pos;
use super::locate::{Locator, RepeatedKey};
use super::yaml::{MAX_DEPTH, Parsed, SyntaxError};
use crate::text::pointer::join;

pub fn parse(text: &str) -> Result<Parsed, SyntaxError> {
    let lines = LineIndex::new(text);
    let (table, errors) = DeTable::parse_recoverable(text);
    let mut repeated = Vec::new();
    for e in &errors {
        let pos = e.span().map(|s| lines.pos(s.start)).unwrap_or(Pos::new(1, 1));
        match e.span().and_then(|s| text.get(s)).filter(|_| e.message() == "duplicate key") {
            Some(key) => repeated.push((key.trim_matches(['"', '\'']).to_owned(), pos)),
            // The parser's own depth limit (below ours) says "recursion"; call it what the admin wrote.
            None if e.message().contains("recurs") => {
                return Err(SyntaxError::new(pos, format!("nesting too deep (TOML: {})", e.message())));
            }
            None => {
                let line = text.lines().nth((pos.line as usize).saturating_sub(1)).unwrap_or("");
                let hint = toml_hint(e.message(), line);
                // `key: value`: the mistake is the colon (the parser stops at the value).
                let pos = match line.find(':').filter(|_| yaml_like(line)) {
                    Some(i) => Pos::new(pos.line as usize, line.get(..i).map_or(0, |h| h.chars().count()) + 1),
                    None => pos,
                };
                return Err(SyntaxError { hint, ..SyntaxError::new(pos, format!("TOML: {}", e.message())) });
            }
        }
    }
    let mut loc = Locator::default();
    loc.insert("", Pos::new(1, 1), Pos::new(1, 1));
    let value = table_to_json(table.get_ref(), "", &lines, &mut loc, 0)?;
    let repeats = repeated.into_iter().map(|(key, pos)| repeat(&loc, key, pos)).collect();
    Ok((value, loc, repeats))
}

/// A line written as YAML would have it: `key: value`.
fn yaml_like(line: &str) -> bool {
    let t = line.trim_start();
    !t.starts_with('[')
        && !t.starts_with('#')
        && t.split_once(':').is_some_and(|(k, _)| !k.contains('=') && !k.contains('"') && !k.trim().is_empty())
}

/// What to do about a TOML syntax error: YAML habits (`key: value`) first.
fn toml_hint(message: &str, line: &str) -> Option<String> {
    if yaml_like(line) || message.contains("expected `=`") {
        Some("this is TOML: write `key = value` (a `.yaml` file takes `key: value`)".into())
    } else if message.contains("string") {
        Some("close the string with the quote it opened with: `key = \"value\"`".into())
    } else if message.contains("table") {
        Some("a table header is `[name]` or `[name.sub]` on a line of its own".into())
    } else {
        None
    }
}

/// A repeated key, placed in the tree: the parser gives only its position,
/// so its entry is taken to be a sibling of the entry located just before
/// it, or of an ancestor of that entry (a reopened `[table]`).
fn repeat(loc: &Locator, key: String, pos: Pos) -> RepeatedKey {
    let mut base = loc.last_before(pos).unwrap_or("").to_owned();
    loop {
        let parent = base.rfind('/').and_then(|i| base.get(..i)).unwrap_or("").to_owned();
        let pointer = join(&parent, &key);
        if loc.contains(&pointer) || parent.is_empty() {
            let first = loc.contains(&pointer).then(|| loc.locate(&pointer)).filter(|f| *f < pos);
            return RepeatedKey { key, pointer, pos, first };
        }
        base = parent;
    }
}

fn table_to_json(t: &DeTable<'_>, ptr: &str, lines: &LineIndex, loc: &mut Locator, depth: usize) -> Result<serde_json::Value, SyntaxError> {
    let mut map = serde_json::Map::new();
    // `toml`'s map is sorted by key (its `preserve_order` feature is off);
    // declaration order matters (channels, settings, codes), so restore
    // source order from the spans.
    let mut entries: Vec<_> = t.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    for (k, v) in entries {
        let p = join(ptr, k.get_ref());
        loc.insert(&p, lines.pos(k.span().start), lines.pos(v.span().start));
        map.insert(k.get_ref().to_string(), value_to_json(v.get_ref(), &p, lines, loc, depth + 1, v.span().start)?);
    }
    Ok(serde_json::Value::Object(map))
}

fn value_to_json(
    v: &DeValue<'_>,
    ptr: &str,
    lines: &LineIndex,
    loc: &mut Locator,
    depth: usize,
    at: usize,
) -> Result<serde_json::Value, SyntaxError> {
    use serde_json::Value as J;
    if depth > MAX_DEPTH {
        return Err(SyntaxError::new(lines.pos(at), format!("nesting deeper than {MAX_DEPTH} levels")));
    }
    Ok(match v {
        DeValue::String(s) => J::String(s.to_string()),
        DeValue::Integer(i) => {
            let digits: String = i.as_str().chars().filter(|c| *c != '_').collect();
            let (neg, digits) = match digits.strip_prefix('-') {
                Some(d) => (true, d.to_owned()),
                None => (false, digits.trim_start_matches('+').to_owned()),
            };
            let n = i64::from_str_radix(&digits, i.radix())
                .map_err(|e| SyntaxError::new(lines.pos(at), format!("TOML: integer {}: {e}", i.as_str())))?;
            J::from(if neg { -n } else { n })
        }
        DeValue::Float(f) => {
            let x: f64 = f.as_str().replace('_', "").parse().unwrap_or(f64::NAN);
            serde_json::Number::from_f64(x).map(J::Number).unwrap_or(J::Null)
        }
        DeValue::Boolean(b) => J::Bool(*b),
        DeValue::Datetime(d) => J::String(d.to_string()),
        DeValue::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let p = join(ptr, i);
                let at = lines.pos(item.span().start);
                loc.insert(&p, at, at);
                out.push(value_to_json(item.get_ref(), &p, lines, loc, depth + 1, item.span().start)?);
            }
            J::Array(out)
        }
        DeValue::Table(t) => table_to_json(t, ptr, lines, loc, depth)?,
    })
}

/// Byte offset → 1-based line and column (in characters).
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { text, starts }
    }

    fn pos(&self, offset: usize) -> Pos {
        let line = self.starts.partition_point(|s| *s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let col = self.text.get(start..offset.min(self.text.len())).map(|s| s.chars().count()).unwrap_or(0);
        Pos::new(line, col + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_and_locates() {
        let text = "kind = \"rules\"\n\n[[rules]]\nid = \"a\"\ndeny = { \"client.blocked\" = true }\nn = 0x10\nd = 2027-01-31\n";
        let (v, loc, _) = parse(text).unwrap();
        assert_eq!(v["rules"][0]["id"], "a");
        assert_eq!(v["rules"][0]["n"], 16);
        assert_eq!(v["rules"][0]["d"], "2027-01-31");
        assert_eq!(v["rules"][0]["deny"]["client.blocked"], true);
        assert_eq!(loc.locate("/rules/0/id"), Pos::new(4, 1));
        assert_eq!(loc.locate_value("/rules/0/id"), Pos::new(4, 6));
        assert_eq!(loc.locate_value("/rules/0/deny/client.blocked"), Pos::new(5, 29));
        assert_eq!(loc.locate("/kind"), Pos::new(1, 1));
    }

    #[test]
    fn keeps_declaration_order() {
        let text = "kind = \"catalog\"\n[channels.whatsapp]\n[channels.viber]\n[channels.email]\n[codes]\nz = 1\na = { y = 1, b = 2 }\n";
        let (v, _, _) = parse(text).unwrap();
        let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&v), ["kind", "channels", "codes"]);
        assert_eq!(keys(&v["channels"]), ["whatsapp", "viber", "email"]);
        assert_eq!(keys(&v["codes"]), ["z", "a"]);
        assert_eq!(keys(&v["codes"]["a"]), ["y", "b"]);
    }

    #[test]
    fn syntax_error_is_located() {
        let err = parse("a = 1\nb = = 2\n").unwrap_err();
        assert_eq!(err.pos.line, 2);
    }

    #[test]
    fn syntax_errors_are_located_exactly() {
        let cases = [
            // `key: value` in TOML: at the colon, where the mistake is, not at the value.
            ("kind = \"tenant\"\nconnected: false\n", Pos::new(2, 10), true),
            ("kind = \"tenant\"\n  connected :false\n", Pos::new(2, 13), true),
            ("a = 1\nb = = 2\n", Pos::new(2, 5), false),
            ("t = \"open\n", Pos::new(1, 10), false),
            ("[channels.viber\nx = 1\n", Pos::new(1, 16), false),
            ("x = { a = 1,, }\n", Pos::new(1, 13), false),
            ("# é comment\nkey = nope\n", Pos::new(2, 7), false),
        ];
        for (text, pos, toml_hint) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!(err.pos, pos, "{text:?}");
            assert_eq!(err.hint.as_deref().is_some_and(|h| h.starts_with("this is TOML")), toml_hint, "{text:?}: {:?}", err.hint);
            if !toml_hint {
                // Where the parser itself says.
                let theirs = ::toml::from_str::<::toml::Table>(text).unwrap_err().to_string();
                assert!(theirs.contains(&format!("line {}, column {}", pos.line, pos.column)), "{text:?}: {theirs}");
            }
        }
    }

    #[test]
    fn a_repeated_key_is_reported_like_in_yaml() {
        let cases = [
            ("a = 1\nb = 2\na = 3\n", "a", "/a", Pos::new(3, 1), Some(Pos::new(1, 1))),
            ("x = { a = 1, 'a' = 2 }\n", "a", "/x/a", Pos::new(1, 14), Some(Pos::new(1, 7))),
            // A reopened table: the parser keeps the key of the second header.
            ("[t]\nx = 1\n[t]\n", "t", "/t", Pos::new(3, 2), None),
            ("[[rules]]\nid = 'r'\ndeny = 'a'\ndeny = 'b'\n", "deny", "/rules/0/deny", Pos::new(4, 1), Some(Pos::new(3, 1))),
        ];
        for (text, key, pointer, pos, first) in cases {
            let (v, _, repeats) = parse(text).unwrap();
            assert_eq!(repeats, [RepeatedKey { key: key.into(), pointer: pointer.into(), pos, first }], "{text:?}");
            assert!(v.pointer(pointer).is_some(), "{text:?}: {v}");
        }
        // Another error in the file still stops it.
        assert!(parse("a = 1\na = 2\nb = = 3\n").is_err());
    }

    #[test]
    fn refuses_deep_nesting() {
        for text in [format!("x = {}{}", "[".repeat(1000), "]".repeat(1000)), format!("x = {}1{}", "{a = ".repeat(1000), "}".repeat(1000))]
        {
            let err = parse(&text).unwrap_err();
            assert!(err.message.contains("nesting"), "{}", err.message);
        }
    }
}
