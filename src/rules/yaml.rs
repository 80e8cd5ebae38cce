//! YAML front end: the one place that knows which YAML library we use.
//!
//! Values come from `serde_yaml` (deprecated upstream but stable; swapping in
//! `serde-saphyr` means changing [`parse_value`] only). Positions come from
//! `saphyr-parser`'s event stream, which never expands aliases, so the
//! locator pass is linear in the file and also enforces the nesting limit
//! before the value parser runs. `serde_yaml` itself refuses alias bombs
//! ("repetition limit exceeded") and recursion deeper than 128.

use saphyr_parser::{Event, Parser};

use super::diag::Pos;
use super::locate::{Locator, join};

/// Deepest nesting of mappings and sequences a rule file may have.
pub const MAX_DEPTH: usize = 64;

#[derive(Debug)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Parse a YAML document into the common JSON tree plus its locator.
pub fn parse(text: &str) -> Result<(serde_json::Value, Locator), SyntaxError> {
    let within = |e: SyntaxError| SyntaxError { pos: clamp(text, e.pos), ..e };
    let locator = locate(text).map_err(within)?;
    let value = parse_value(text).map_err(within)?;
    Ok((value, locator))
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

fn parse_value(text: &str) -> Result<serde_json::Value, SyntaxError> {
    match serde_yaml::from_str::<serde_json::Value>(text) {
        Ok(v) => Ok(v),
        Err(e) => {
            let pos = e.location().map(|l| Pos::new(l.line(), l.column())).unwrap_or(Pos::new(1, 1));
            let mut message = e.to_string();
            // serde_yaml appends " at line X column Y"; we already say where.
            if let Some(i) = message.find(" at line ") {
                message.truncate(i);
            }
            Err(SyntaxError { pos, message: format!("YAML: {message}") })
        }
    }
}

enum Frame {
    Map { pointer: String, key: Option<(String, Pos)> },
    Seq { pointer: String, index: usize },
}

/// Walk the event stream once, recording where every node starts.
fn locate(text: &str) -> Result<Locator, SyntaxError> {
    let mut loc = Locator::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut parser = Parser::new_from_str(text);
    let mut documents = 0usize;
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
                return Err(SyntaxError { pos: Pos::new(m.line(), m.col() + 1), message });
            }
        };
        let pos = Pos::new(span.start.line(), span.start.col() + 1);
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(SyntaxError { pos, message: "a rule file holds one YAML document; found a second `---`".into() });
                }
                loc.insert("", pos);
            }
            Event::Scalar(value, ..) => {
                // A scalar is either a mapping key or a value.
                if let Some(Frame::Map { key, .. }) = stack.last_mut()
                    && key.is_none()
                {
                    *key = Some((value.into_owned(), pos));
                    continue;
                }
                if let Some((p, at)) = value_pointer(&mut stack, pos) {
                    loc.insert(&p, at);
                }
            }
            Event::Alias(_) => {
                if let Some(Frame::Map { key, .. }) = stack.last_mut()
                    && key.is_none()
                {
                    *key = Some(("*alias".into(), pos));
                    continue;
                }
                if let Some((p, at)) = value_pointer(&mut stack, pos) {
                    loc.insert(&p, at);
                }
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(SyntaxError { pos, message: format!("nesting deeper than {MAX_DEPTH} levels") });
                }
                let (pointer, at) =
                    if stack.is_empty() { (String::new(), pos) } else { value_pointer(&mut stack, pos).unwrap_or_default() };
                loc.insert(&pointer, at);
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Map { pointer, key: None }
                } else {
                    Frame::Seq { pointer, index: 0 }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
            }
            _ => {}
        }
    }
    Ok(loc)
}

/// The pointer of the value that starts now at `pos`, advancing the parent
/// frame, and where to locate it: a mapping entry at its key (so "unknown
/// field" points at the name), a sequence item at itself.
fn value_pointer(stack: &mut [Frame], pos: Pos) -> Option<(String, Pos)> {
    match stack.last_mut()? {
        Frame::Map { pointer, key } => {
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
        let (v, loc) = parse(text).unwrap();
        assert_eq!(v["rules"][0]["id"], "a");
        assert_eq!(loc.locate("/kind"), Pos::new(1, 1));
        assert_eq!(loc.locate("/rules/0"), Pos::new(3, 5));
        assert_eq!(loc.locate("/rules/0/id"), Pos::new(3, 5));
        assert_eq!(loc.locate("/rules/0/deny/client.blocked"), Pos::new(5, 7));
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
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("repetition limit"), "{}", err.message);
    }
}
