//! YAML front end: the one place that knows which YAML library we use.
//!
//! Values come from `serde_yaml` (deprecated upstream but stable; swapping in
//! `serde-saphyr` means changing [`parse_value`] only). Positions come from
//! `saphyr-parser`'s event stream, which never expands aliases, so the
//! locator pass is linear in the file and also enforces the nesting limit
//! and the alias limit before the value parser runs.
//!
//! Alias bombs are refused here, not left to `serde_yaml`: its own guard
//! ("repetition limit exceeded") allows 100 alias jumps per event of the
//! file, and each jump replays the whole anchored node, so a bomb of a few
//! hundred bytes took a second to refuse, and one padded to the file size
//! limit would take minutes. The locator knows the expanded size of every
//! anchor as it passes it, so it refuses a file whose aliases would add more
//! than [`MAX_ALIAS_NODES`] nodes, at the alias that crosses the limit, in
//! time linear in the file.
//!
//! A key repeated in one mapping is an error, as it is in TOML: YAML
//! libraries keep the last value, so `tags_required: true` followed further
//! down by `tags_required: false` would silently turn the first one off.
//! The locator pass finds every repeat at its key (it sees each key with
//! its position) and reports it as a [`RepeatedKey`]; the value parser
//! builds the JSON tree through [`Strict`], which keeps the first value and
//! counts the repeats it dropped. The two counts must agree, or the file is
//! refused outright: no YAML library can merge two keys unnoticed.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;

use saphyr_parser::{Event, Parser};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::diag::Pos;
use super::locate::{Locator, RepeatedKey};
use crate::text::pointer::join;

/// Deepest nesting of mappings and sequences a rule file may have.
pub const MAX_DEPTH: usize = 64;

/// Most nodes that aliases may add to a file, counted as if every alias
/// were written out (an alias of an alias of a list of ten is a hundred
/// nodes). Rule files share a few short lists this way, far below it.
pub const MAX_ALIAS_NODES: u64 = 100_000;

/// A file that does not parse: where, what, and what to do about it.
#[derive(Debug)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
    pub hint: Option<String>,
}

impl SyntaxError {
    pub fn new(pos: Pos, message: impl Into<String>) -> Self {
        Self { pos, message: message.into(), hint: None }
    }
}

/// A parsed file: the common JSON tree, where its nodes are, and the keys
/// it repeats (each an error; the tree holds the first value).
pub type Parsed = (serde_json::Value, Locator, Vec<RepeatedKey>);

/// Parse a YAML document into the common JSON tree plus its locator.
pub fn parse(text: &str) -> Result<Parsed, SyntaxError> {
    let within = |e: SyntaxError| {
        let hint = e.hint.or_else(|| yaml_hint(&e.message));
        SyntaxError { pos: clamp(text, e.pos), hint, ..e }
    };
    let (locator, repeats) = locate(text).map_err(within)?;
    let dropped = Cell::new(0);
    let value = parse_value(text, &dropped).map_err(within)?;
    if dropped.get() != repeats.len() {
        // Never expected: the locator and the value parser disagree on
        // which keys are the same. Refuse rather than guess.
        return Err(SyntaxError::new(
            Pos::new(1, 1),
            format!("YAML: {} repeated key(s) found, {} located; a key may be set once in a mapping", dropped.get(), repeats.len()),
        ));
    }
    Ok((value, locator, repeats))
}

/// What to do about a YAML syntax error, in the words of someone editing
/// the file: most are a tab or a line indented to the wrong column.
fn yaml_hint(message: &str) -> Option<String> {
    if message.contains("tab") {
        Some("indent with spaces, not tabs".into())
    } else if ["mapping values are not allowed", "did not find expected key", "block", "indentation"].iter().any(|m| message.contains(m)) {
        Some(
            "check the indentation: the keys of one mapping start in the same column (spaces, not tabs), a nested key further right".into(),
        )
    } else if message.contains("did not find expected") || message.contains("found unexpected") {
        Some("a value with `:`, `#`, `[` or `{` in it needs quotes: `key: \"a: b\"`".into())
    } else {
        None
    }
}

/// The parsers place an error at the end of input one line past the last
/// line when the file lacks a final newline; keep it on a line that exists.
fn clamp(text: &str, pos: Pos) -> Pos {
    let last = text.split('\n').count();
    if (pos.line as usize) <= last {
        return pos;
    }
    let tail = text.rsplit('\n').next().unwrap_or("");
    Pos::new(last, tail.chars().count() + 1)
}

fn parse_value(text: &str, dropped: &Cell<usize>) -> Result<serde_json::Value, SyntaxError> {
    match (Strict { dropped }).deserialize(serde_yaml::Deserializer::from_str(text)) {
        Ok(v) => Ok(v),
        Err(e) => {
            let pos = e.location().map(|l| Pos::new(l.line(), l.column())).unwrap_or(Pos::new(1, 1));
            let mut message = e.to_string();
            // serde_yaml appends " at line X column Y"; we already say where.
            if let Some(i) = message.find(" at line ") {
                message.truncate(i);
            }
            Err(SyntaxError::new(pos, format!("YAML: {message}")))
        }
    }
}

/// Builds the JSON tree like `serde_json::Value`'s own `Deserialize`, but
/// keeps the first value of a key set twice in one mapping (not the last),
/// and counts each repeat in `dropped`.
#[derive(Clone, Copy)]
struct Strict<'a> {
    dropped: &'a Cell<usize>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = serde_json::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Self::Value, E> {
        i64::try_from(v).map(Into::into).map_err(|_| E::custom(format!("the number {v} is too large")))
    }

    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Self::Value, E> {
        u64::try_from(v).map(Into::into).map_err(|_| E::custom(format!("the number {v} is too large")))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, serde_json::Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        Ok(serde_json::Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                map.next_value::<IgnoredAny>()?;
                self.dropped.set(self.dropped.get() + 1);
                continue;
            }
            let value = map.next_value_seed(self)?;
            out.insert(key, value);
        }
        Ok(serde_json::Value::Object(out))
    }
}

enum Frame {
    /// `seen`: each key of the mapping so far, where it was set.
    Map {
        pointer: String,
        key: Option<(String, Pos)>,
        seen: HashMap<String, Pos>,
    },
    Seq {
        pointer: String,
        index: usize,
    },
}

/// Walk the event stream once, recording where every node starts and
/// every key a mapping repeats.
fn locate(text: &str) -> Result<(Locator, Vec<RepeatedKey>), SyntaxError> {
    let mut loc = Locator::default();
    let mut repeats = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut parser = Parser::new_from_str(text);
    let mut documents = 0usize;
    // anchor id → text, for scalars: an alias of one can be a key.
    let mut scalar_anchors: HashMap<usize, String> = HashMap::new();
    // Expanded sizes: of every anchored node (by anchor id), of each open
    // collection (with its anchor id, 0 for none), and of what aliases add.
    let mut anchored: HashMap<usize, u64> = HashMap::new();
    let mut open: Vec<(usize, u64)> = Vec::new();
    let mut aliased = 0u64;
    let add = |open: &mut Vec<(usize, u64)>, n: u64| {
        if let Some((_, size)) = open.last_mut() {
            *size = size.saturating_add(n);
        }
    };
    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(x) => x,
            Err(e) => {
                let m = e.marker();
                let message = if e.info().contains("recursion limit") {
                    format!("nesting too deep (YAML: {})", e.info())
                } else {
                    format!("YAML: {}", e.info())
                };
                return Err(SyntaxError::new(Pos::new(m.line(), m.col() + 1), message));
            }
        };
        let pos = Pos::new(span.start.line(), span.start.col() + 1);
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(SyntaxError::new(pos, "a rule file holds one YAML document; found a second `---`"));
                }
                loc.insert("", pos, pos);
            }
            Event::Scalar(value, _, anchor, _) => {
                if anchor > 0 {
                    scalar_anchors.insert(anchor, value.to_string());
                }
                if anchor != 0 {
                    anchored.insert(anchor, 1);
                }
                add(&mut open, 1);
                // A scalar is either a mapping key or a value.
                if let Some(Frame::Map { pointer, key, seen }) = stack.last_mut()
                    && key.is_none()
                {
                    note_key(&mut repeats, pointer, seen, &value, pos);
                    *key = Some((value.into_owned(), pos));
                    continue;
                }
                if let Some((p, at)) = value_pointer(&mut stack, pos) {
                    loc.insert(&p, at, pos);
                }
            }
            Event::Alias(anchor) => {
                let size = anchored.get(&anchor).copied().unwrap_or(1);
                aliased = aliased.saturating_add(size);
                if aliased > MAX_ALIAS_NODES {
                    return Err(SyntaxError::new(
                        pos,
                        format!(
                            "aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb?); write the values out, or nest fewer aliases"
                        ),
                    ));
                }
                add(&mut open, size);
                if let Some(Frame::Map { pointer, key, seen }) = stack.last_mut()
                    && key.is_none()
                {
                    // A key may be an alias of a scalar (`*k: 1`): it is that
                    // scalar's text. (An alias of a list or mapping is not a
                    // key the value parser accepts; it reports that.)
                    let name = scalar_anchors.get(&anchor).cloned().unwrap_or_else(|| "*alias".into());
                    if scalar_anchors.contains_key(&anchor) {
                        note_key(&mut repeats, pointer, seen, &name, pos);
                    }
                    *key = Some((name, pos));
                    continue;
                }
                if let Some((p, at)) = value_pointer(&mut stack, pos) {
                    loc.insert(&p, at, pos);
                }
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                open.push((anchor, 1));
                if stack.len() >= MAX_DEPTH {
                    return Err(SyntaxError::new(pos, format!("nesting deeper than {MAX_DEPTH} levels")));
                }
                if let Some(Frame::Map { key: None, .. }) = stack.last() {
                    // `? [a, b]: 1` — the JSON tree has no such keys; say so
                    // here rather than misread the rest of the mapping.
                    return Err(SyntaxError::new(pos, "a mapping key must be a name, not a list or a mapping"));
                }
                let (pointer, at) =
                    if stack.is_empty() { (String::new(), pos) } else { value_pointer(&mut stack, pos).unwrap_or_default() };
                loc.insert(&pointer, at, pos);
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Map { pointer, key: None, seen: HashMap::new() }
                } else {
                    Frame::Seq { pointer, index: 0 }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
                if let Some((anchor, size)) = open.pop() {
                    if anchor != 0 {
                        anchored.insert(anchor, size);
                    }
                    add(&mut open, size);
                }
            }
            _ => {}
        }
    }
    Ok((loc, repeats))
}

/// Record a mapping's key; a repeat of an earlier one is a [`RepeatedKey`].
fn note_key(repeats: &mut Vec<RepeatedKey>, pointer: &str, seen: &mut HashMap<String, Pos>, key: &str, pos: Pos) {
    match seen.get(key) {
        Some(first) => repeats.push(RepeatedKey { key: key.to_owned(), pointer: join(pointer, key), pos, first: Some(*first) }),
        None => {
            seen.insert(key.to_owned(), pos);
        }
    }
}

/// The pointer of the value that starts now at `pos`, advancing the parent
/// frame, and where its entry starts: a mapping entry at its key (so
/// "unknown field" points at the name), a sequence item at itself.
fn value_pointer(stack: &mut [Frame], pos: Pos) -> Option<(String, Pos)> {
    match stack.last_mut()? {
        Frame::Map { pointer, key, .. } => {
            let (k, at) = key.take()?;
            Some((join(pointer, k), at))
        }
        Frame::Seq { pointer, index } => {
            let p = join(pointer, *index);
            *index += 1;
            Some((p, pos))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_nested_values() {
        let text = "kind: rules\nrules:\n  - id: a\n    deny:\n      client.blocked: true\n";
        let (v, loc, _) = parse(text).unwrap();
        assert_eq!(v["rules"][0]["id"], "a");
        assert_eq!(loc.locate("/kind"), Pos::new(1, 1));
        assert_eq!(loc.locate("/rules/0"), Pos::new(3, 5));
        assert_eq!(loc.locate("/rules/0/id"), Pos::new(3, 5));
        assert_eq!(loc.locate("/rules/0/deny/client.blocked"), Pos::new(5, 7));
        assert_eq!(loc.locate_value("/rules/0/deny/client.blocked"), Pos::new(5, 23));
        assert_eq!(loc.locate_value("/rules/0/id"), Pos::new(3, 9));
        assert_eq!(loc.locate_value("/rules/0/deny"), Pos::new(5, 7));
    }

    #[test]
    fn a_repeated_key_is_reported_at_the_second_and_the_first_kept() {
        let text = "kind: tenant\nsettings:\n  tags_required: true\n  available_tags: []\n  tags_required: false\n";
        let (v, _, repeats) = parse(text).unwrap();
        assert_eq!(v["settings"]["tags_required"], true);
        assert_eq!(
            repeats,
            [RepeatedKey {
                key: "tags_required".into(),
                pointer: "/settings/tags_required".into(),
                pos: Pos::new(5, 3),
                first: Some(Pos::new(3, 3))
            }]
        );
        // Quoting does not make it another key; flow mappings and alias keys count too.
        for text in ["a: 1\n'a': 2\n", "x: { a: 1, \"a\": 2 }\n", "k: &k a\nm: { a: 1, *k : 2 }\n"] {
            let (_, _, repeats) = parse(text).unwrap();
            assert_eq!(repeats.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["a"], "{text:?}");
        }
        // The same name in two mappings is fine.
        assert!(parse("a: { x: 1 }\nb: { x: 2 }\n").unwrap().2.is_empty());
    }

    #[test]
    fn the_value_parser_counts_repeats_on_its_own() {
        // The safety net behind the locator: whatever YAML library builds the tree.
        let dropped = Cell::new(0);
        let v = parse_value("a: 1\nb: { c: 2, c: 3 }\na: 4\n", &dropped).unwrap();
        assert_eq!((v, dropped.get()), (serde_json::json!({"a": 1, "b": {"c": 2}}), 2));
        let v = parse_value("a: [1, 2.5, true, null, x]\n", &dropped).unwrap();
        assert_eq!(v, serde_json::json!({"a": [1, 2.5, true, null, "x"]}));
    }

    #[test]
    fn a_list_as_a_key_is_refused() {
        let err = parse("? [a, b]\n: 1\n").unwrap_err();
        assert!(err.message.contains("mapping key must be a name"), "{err:?}");
    }

    #[test]
    fn syntax_error_is_located() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.pos.line >= 1, "{err:?}");
        assert!(err.message.starts_with("YAML"));
    }

    #[test]
    fn error_at_the_end_stays_on_the_last_line() {
        let err = parse("kind: tenant\ndescriptio").unwrap_err();
        assert_eq!(err.pos, Pos::new(2, 11), "{err:?}");
    }

    #[test]
    fn refuses_deep_nesting() {
        let text = "[".repeat(1000) + &"]".repeat(1000);
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("nesting"), "{}", err.message);
    }

    #[test]
    fn refuses_alias_bomb() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let started = std::time::Instant::now();
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{}", err.message);
        // Refused at the alias that crosses the limit: a1…a3 add 12,330
        // nodes, each alias of a3 (line 5) 11,111 more, so its 8th crosses.
        assert_eq!(err.pos, Pos::new(5, 45), "{err:?}");
        // (serde_yaml's own guard took about a second here; the bound is
        // loose for a busy machine and a debug build.)
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "refused quickly: {:?}", started.elapsed());
    }

    /// Found by the `rule_file` fuzz target (a mutated bomb took a second
    /// under serde_yaml's own limit): a bomb padded with plain nodes, which
    /// raise serde_yaml's limit (100 alias jumps per event), is refused as
    /// quickly as a bare one.
    #[test]
    fn refuses_a_padded_alias_bomb_quickly() {
        let mut text = String::from("pad: [");
        text.push_str(&"1, ".repeat(20_000));
        text.push_str("1]\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let prev = i - 1;
            text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![format!("*a{prev}"); 10].join(", ")));
        }
        let started = std::time::Instant::now();
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{}", err.message);
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "refused quickly: {:?}", started.elapsed());
    }

    #[test]
    fn a_few_aliases_are_fine() {
        let text = "base: &b [whatsapp, viber]\nmore: &m { a: *b, b: *b }\nall: [*m, *m, *b]\n";
        let (v, _, _) = parse(text).unwrap();
        assert_eq!(v["all"][0]["a"][1], "viber");
        assert_eq!(v["all"][2][0], "whatsapp");
    }
}
