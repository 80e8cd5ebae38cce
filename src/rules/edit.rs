//! Editing one override in a tenant file's text, keeping everything else
//! as written: comments, blank lines, key order, quoting, the other
//! overrides. A preview of a change shows the file an admin would commit,
//! so it must read like the file they know with one entry changed, not a
//! re-serialised tree.
//!
//! The edit is textual (block YAML by indentation, TOML by table and key)
//! and then checked: both texts are parsed again, and the new tree must be
//! the old tree with exactly that entry changed. A layout the editor does
//! not understand (a flow mapping holding the setting, a key split over
//! inline tables) is refused with [`EditError::Layout`] rather than
//! guessed at; nothing here ever writes a file.

use serde_json::{Map, Value as Json};

use super::{toml, yaml};

/// The syntax of a tenant file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.yaml` / `.yml`.
    Yaml,
    /// `.toml`.
    Toml,
}

impl Format {
    /// The format of a rule file, by its extension.
    pub fn of(path: &str) -> Self {
        if path.ends_with(".toml") { Format::Toml } else { Format::Yaml }
    }
}

/// An override as it is to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The value as the file writes it (`"30 MB"`, `true`, `["jpeg", "png"]`).
    pub value: Json,
    /// The support ticket.
    pub ticket: Option<String>,
    /// The last day (or instant) it holds.
    pub expires: Option<String>,
    /// Why.
    pub note: Option<String>,
}

impl Override {
    /// The keys of its long form, in the order they are written, each with
    /// its value or `None` when the change leaves it out (and it is removed).
    fn fields(&self) -> [(&'static str, Option<Json>); 4] {
        [
            ("value", Some(self.value.clone())),
            ("ticket", self.ticket.clone().map(Json::String)),
            ("expires", self.expires.clone().map(Json::String)),
            ("note", self.note.clone().map(Json::String)),
        ]
    }
}

impl Override {
    /// The entry's JSON as the loader would read it: the bare value, or the
    /// long form when there is a ticket, expiry or note.
    fn json(&self) -> Json {
        let extras = [("ticket", &self.ticket), ("expires", &self.expires), ("note", &self.note)];
        if extras.iter().all(|(_, v)| v.is_none()) {
            return self.value.clone();
        }
        let mut m = Map::new();
        m.insert("value".into(), self.value.clone());
        for (k, v) in extras {
            if let Some(v) = v {
                m.insert(k.into(), Json::String(v.clone()));
            }
        }
        Json::Object(m)
    }
}

/// Why an edit was not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The file does not parse as it is.
    #[error("the file does not parse as it is (line {line}): {message}")]
    Parse {
        /// Where.
        line: u32,
        /// What the parser said.
        message: String,
    },
    /// The file writes the setting in a way this editor does not change.
    #[error("{0}; edit the file by hand")]
    Layout(String),
    /// A value that cannot be written in this format.
    #[error("{0}")]
    Value(String),
}

/// `text` with the entry at `path` (`["channels", "email", "max_file_size"]`)
/// set to `change`, or removed when `change` is `None`. Checked by parsing
/// both texts again (see the module docs).
pub fn set(text: &str, format: Format, path: &[&str], change: Option<&Override>) -> Result<String, EditError> {
    let (key, parents) = path.split_last().ok_or_else(|| EditError::Layout("an empty setting path".into()))?;
    let (old, old_repeats) = parse(text, format)?;
    let edited = match format {
        Format::Yaml => yaml_set(text, parents, key, change)?,
        Format::Toml => toml_set(text, parents, key, change)?,
    };
    let (new, new_repeats) = parse(&edited, format).map_err(|e| EditError::Layout(format!("the edited file would not parse ({e})")))?;
    let mut expected = old;
    put(&mut expected, path, change.map(Override::json));
    // A table opened again or a key set twice parses (the first value kept), but is an error.
    if new != expected || new_repeats > old_repeats {
        return Err(EditError::Layout("the file's layout around this setting could not be edited in place".into()));
    }
    Ok(edited)
}

/// The tree of a text, and how many keys it repeats.
fn parse(text: &str, format: Format) -> Result<(Json, usize), EditError> {
    let parsed = match format {
        Format::Yaml => yaml::parse(text),
        Format::Toml => toml::parse(text),
    };
    parsed.map(|(v, _, r)| (v, r.len())).map_err(|e| EditError::Parse { line: e.pos.line, message: e.message })
}

/// Set (or remove) the entry at `path` in a JSON tree, creating mappings on the way.
fn put(tree: &mut Json, path: &[&str], value: Option<Json>) {
    let Some((first, rest)) = path.split_first() else { return };
    if !tree.is_object() {
        *tree = Json::Object(Map::new());
    }
    let Json::Object(m) = tree else { return };
    if rest.is_empty() {
        match value {
            Some(v) => {
                m.insert((*first).to_owned(), v);
            }
            None => {
                m.shift_remove(*first);
            }
        }
        return;
    }
    if value.is_none() && !m.contains_key(*first) {
        return;
    }
    put(m.entry((*first).to_owned()).or_insert_with(|| Json::Object(Map::new())), rest, value);
}

// ---------------------------------------------------------------- YAML

/// A line's indentation, or `None` for a blank or comment-only line.
fn indent(line: &str) -> Option<usize> {
    let t = line.trim_start_matches(' ');
    if t.is_empty() || t.starts_with('#') { None } else { Some(line.len() - t.len()) }
}

/// `key: rest` on a line at exactly `ind` spaces: the rest after the colon.
fn yaml_key<'a>(line: &'a str, ind: usize, key: &str) -> Option<&'a str> {
    if indent(line) != Some(ind) {
        return None;
    }
    let t = line.get(ind..)?;
    for form in [key.to_owned(), format!("\"{key}\""), format!("'{key}'")] {
        if let Some(rest) = t.strip_prefix(&form).and_then(|r| r.strip_prefix(':'))
            && (rest.is_empty() || rest.starts_with([' ', '\t']))
        {
            return Some(rest);
        }
    }
    None
}

/// The end (exclusive) of the block owned by the key line `at` with
/// indentation `ind`: the following lines indented deeper (comments and
/// blank lines in between belong to it only when deeper lines follow).
fn block_end(lines: &[&str], at: usize, ind: usize) -> usize {
    let mut end = at + 1;
    for (i, l) in lines.iter().enumerate().skip(at + 1) {
        match indent(l) {
            Some(n) if n > ind => end = i + 1,
            Some(_) => break,
            None => {}
        }
    }
    end
}

/// The comment at the end of a value (` # …`), when the value is plain or flow text.
fn trailing_comment(rest: &str) -> &str {
    let mut quote = None;
    let bytes = rest.as_bytes();
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if i == 0 || bytes.get(i - 1).is_some_and(|b| *b == b' ' || *b == b'\t') => {
                return rest.get(i..).unwrap_or("");
            }
            _ => {}
        }
    }
    ""
}

/// The file's indentation step (the first indented line's), default 2.
fn yaml_step(lines: &[&str]) -> usize {
    lines.iter().filter_map(|l| indent(l)).find(|n| *n > 0).unwrap_or(2)
}

fn yaml_set(text: &str, parents: &[&str], key: &str, change: Option<&Override>) -> Result<String, EditError> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let step = yaml_step(&text.lines().collect::<Vec<_>>());
    // The block being searched: [start, end) at indentation `ind`.
    let (mut start, mut end, mut ind) = (0, lines.len(), 0);
    let mut insert_at_parent = None;
    for (depth, seg) in parents.iter().enumerate() {
        let view: Vec<&str> = lines.iter().map(String::as_str).collect();
        let found = (start..end).find(|i| view.get(*i).is_some_and(|l| yaml_key(l, ind, seg).is_some()));
        let Some(at) = found else {
            insert_at_parent = Some(depth);
            break;
        };
        let rest = view.get(at).and_then(|l| yaml_key(l, ind, seg)).unwrap_or("");
        let value = rest.trim();
        let comment = trailing_comment(rest);
        let value_part = value.strip_suffix(comment.trim()).unwrap_or(value).trim();
        if value_part == "{}" {
            // `agent: {}` becomes a block mapping, its comment kept.
            let line = format!("{}{seg}:{}", " ".repeat(ind), if comment.is_empty() { String::new() } else { format!(" {comment}") });
            if let Some(l) = lines.get_mut(at) {
                *l = line;
            }
        } else if !value_part.is_empty() {
            return Err(EditError::Layout(format!("`{seg}` is written on one line (`{value_part}`)")));
        }
        let view: Vec<&str> = lines.iter().map(String::as_str).collect();
        let child_end = block_end(&view, at, ind);
        let child_ind = view.iter().take(child_end).skip(at + 1).find_map(|l| indent(l)).unwrap_or(ind + step);
        (start, end, ind) = (at + 1, child_end, child_ind);
    }
    let pad = |n: usize| " ".repeat(n);
    let entry = |ind: usize, ov: &Override| -> Result<String, EditError> { Ok(format!("{}{key}: {}", pad(ind), yaml_flow(&ov.json())?)) };
    match insert_at_parent {
        Some(depth) => {
            let Some(ov) = change else { return Ok(text.to_owned()) };
            // Insert the missing mappings and the entry at the end of the block.
            let view: Vec<&str> = lines.iter().map(String::as_str).collect();
            let at = (start..end).rev().find(|i| view.get(*i).is_some_and(|l| indent(l).is_some())).map_or(start, |i| i + 1);
            let mut new = Vec::new();
            let mut n = ind;
            for seg in parents.iter().skip(depth) {
                new.push(format!("{}{seg}:", pad(n)));
                n += step;
            }
            new.push(entry(n, ov)?);
            splice(&mut lines, at, at, new);
        }
        None => {
            let view: Vec<&str> = lines.iter().map(String::as_str).collect();
            let found = (start..end).find(|i| view.get(*i).is_some_and(|l| yaml_key(l, ind, key).is_some()));
            match (found, change) {
                (None, None) => {}
                (None, Some(ov)) => {
                    let at = (start..end).rev().find(|i| view.get(*i).is_some_and(|l| indent(l).is_some())).map_or(start, |i| i + 1);
                    splice(&mut lines, at, at, vec![entry(ind, ov)?]);
                }
                (Some(at), None) => {
                    let e = block_end(&view, at, ind);
                    splice(&mut lines, at, e, Vec::new());
                }
                (Some(at), Some(ov)) => {
                    let rest = view.get(at).and_then(|l| yaml_key(l, ind, key)).unwrap_or("");
                    let e = block_end(&view, at, ind);
                    if rest.trim().is_empty() || rest.trim().starts_with('#') {
                        // A block: the long form, edited key by key; or a block list, replaced.
                        let child_ind = view.iter().take(e).skip(at + 1).find_map(|l| indent(l)).unwrap_or(ind + step);
                        let is_map =
                            view.iter().take(e).skip(at + 1).any(|l| indent(l) == Some(child_ind) && !l.trim_start().starts_with('-'));
                        if is_map {
                            let block: Vec<&str> = view.iter().take(e).skip(at + 1).copied().collect();
                            let edited = yaml_long_form(&block, child_ind, ov)?;
                            splice(&mut lines, at + 1, e, edited);
                        } else {
                            let comment = rest.trim();
                            let line = format!(
                                "{}{key}: {}{}",
                                pad(ind),
                                yaml_flow(&ov.json())?,
                                if comment.is_empty() { String::new() } else { format!("  {comment}") }
                            );
                            splice(&mut lines, at, e, vec![line]);
                        }
                    } else {
                        let comment = trailing_comment(rest);
                        let mut line = entry(ind, ov)?;
                        if !comment.is_empty() {
                            line = format!("{line}  {comment}");
                        }
                        splice(&mut lines, at, e, vec![line]);
                    }
                }
            }
        }
    }
    Ok(joined(&lines, text))
}

/// A long-form override written as a block mapping, its keys set one by one
/// (`value`, `ticket`, `expires`, `note`; a key the change lacks is removed,
/// any other key is kept).
fn yaml_long_form(block: &[&str], ind: usize, ov: &Override) -> Result<Vec<String>, EditError> {
    let mut lines: Vec<String> = block.iter().map(|l| (*l).to_owned()).collect();
    for (k, v) in ov.fields() {
        let view: Vec<&str> = lines.iter().map(String::as_str).collect();
        let found = (0..view.len()).find(|i| view.get(*i).is_some_and(|l| yaml_key(l, ind, k).is_some()));
        match (found, v) {
            (None, None) => {}
            (None, Some(v)) => {
                let at = (0..view.len()).rev().find(|i| view.get(*i).is_some_and(|l| indent(l).is_some())).map_or(0, |i| i + 1);
                splice(&mut lines, at, at, vec![format!("{}{k}: {}", " ".repeat(ind), yaml_flow(&v)?)]);
            }
            (Some(at), v) => {
                let e = block_end(&view, at, ind);
                let new = match v {
                    None => Vec::new(),
                    Some(v) => {
                        let comment = trailing_comment(view.get(at).and_then(|l| yaml_key(l, ind, k)).unwrap_or(""));
                        let line = format!("{}{k}: {}", " ".repeat(ind), yaml_flow(&v)?);
                        vec![if comment.is_empty() { line } else { format!("{line}  {comment}") }]
                    }
                };
                splice(&mut lines, at, e, new);
            }
        }
    }
    Ok(lines)
}

/// A JSON value as YAML flow text (`30 MB`, `[jpeg, png]`, `{ value: 30 MB, ticket: SUP-7 }`).
fn yaml_flow(v: &Json) -> Result<String, EditError> {
    Ok(match v {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => yaml_string(s),
        Json::Array(a) => format!("[{}]", a.iter().map(yaml_flow).collect::<Result<Vec<_>, _>>()?.join(", ")),
        Json::Object(m) => {
            let parts =
                m.iter().map(|(k, v)| Ok(format!("{}: {}", yaml_string(k), yaml_flow(v)?))).collect::<Result<Vec<_>, EditError>>()?;
            format!("{{ {} }}", parts.join(", "))
        }
    })
}

/// A string plain when YAML reads it back as the same string inside a flow
/// collection, else double-quoted (a JSON string is a YAML one).
fn yaml_string(s: &str) -> String {
    let plain_ok = !s.is_empty()
        && s.chars().all(|c| c.is_alphanumeric() || " ._/+-:@".contains(c))
        && !s.starts_with([' ', '-', ':'])
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && matches!(yaml::parse(&format!("k: [{s}]\n")), Ok((v, _, _)) if v.pointer("/k/0").and_then(Json::as_str) == Some(s));
    if plain_ok { s.to_owned() } else { Json::String(s.to_owned()).to_string() }
}

// ---------------------------------------------------------------- TOML

/// A TOML table header line (`[channels.email]`): its dotted path.
fn toml_header(line: &str) -> Option<Vec<String>> {
    let t = line.trim();
    if t.starts_with("[[") {
        return Some(vec!["[[".into()]);
    }
    let inner = t.strip_prefix('[')?;
    let end = inner.find(']')?;
    Some(toml_key_path(inner.get(..end)?))
}

/// `a."b c".d` → `["a", "b c", "d"]` (bare and simply quoted keys).
fn toml_key_path(key: &str) -> Vec<String> {
    key.split('.').map(|k| k.trim().trim_matches(['"', '\'']).to_owned()).collect()
}

/// A `key = value` line: its dotted key path and the text after `=`.
fn toml_kv(line: &str) -> Option<(Vec<String>, &str)> {
    let t = line.trim_start();
    if t.starts_with(['#', '[']) || t.is_empty() {
        return None;
    }
    let eq = t.find('=')?;
    Some((toml_key_path(t.get(..eq)?), t.get(eq + 1..)?))
}

/// How many lines (from `at`) the value of a key line spans: until its
/// brackets and braces close outside strings.
fn toml_value_lines(lines: &[&str], at: usize) -> usize {
    let mut depth: i64 = 0;
    let mut n = 0;
    for (i, l) in lines.iter().enumerate().skip(at) {
        n += 1;
        let text = if i == at { l.split_once('=').map_or("", |(_, r)| r) } else { l };
        let mut quote = None;
        for c in text.chars() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '#') => break,
                (None, '[' | '{') => depth += 1,
                (None, ']' | '}') => depth -= 1,
                _ => {}
            }
        }
        if depth <= 0 {
            break;
        }
    }
    n
}

fn toml_set(text: &str, parents: &[&str], key: &str, change: Option<&Override>) -> Result<String, EditError> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let view: Vec<&str> = text.lines().collect();
    let full: Vec<String> = parents.iter().map(|s| (*s).to_owned()).chain([key.to_owned()]).collect();
    // Tables: (header path, first body line, end).
    let mut tables: Vec<(Vec<String>, usize, usize)> = vec![(Vec::new(), 0, view.len())];
    for (i, l) in view.iter().enumerate() {
        if let Some(h) = toml_header(l) {
            if let Some(last) = tables.last_mut() {
                last.2 = i;
            }
            tables.push((h, i + 1, view.len()));
        }
    }
    // The long form as a table of its own: `[channels.email.max_file_size]`.
    if let Some((_, s, e)) = tables.iter().find(|(h, _, _)| *h == full) {
        let (s, e) = (*s, *e);
        let new = match change {
            None => {
                let header = s - 1;
                splice(&mut lines, header, e, Vec::new());
                return Ok(joined(&lines, text));
            }
            Some(ov) => toml_long_form(view.get(s..e).unwrap_or(&[]), ov)?,
        };
        splice(&mut lines, s, e, new);
        return Ok(joined(&lines, text));
    }
    // A key line in a table whose header is a prefix of the path.
    for (h, s, e) in &tables {
        if !full.starts_with(h) || h.len() == full.len() {
            continue;
        }
        let rest = full.get(h.len()..).unwrap_or(&[]);
        for i in *s..*e {
            let Some((k, after)) = view.get(i).and_then(|l| toml_kv(l)) else { continue };
            if k.as_slice() == rest {
                let n = toml_value_lines(&view, i);
                let new = match change {
                    None => Vec::new(),
                    Some(ov) => {
                        let head = view.get(i).and_then(|l| l.split_once('=')).map_or("", |(k, _)| k).trim_end();
                        let comment = if n == 1 { trailing_comment(after) } else { "" };
                        let line = format!("{head} = {}", toml_value(&ov.json())?);
                        vec![if comment.is_empty() { line } else { format!("{line}  {comment}") }]
                    }
                };
                splice(&mut lines, i, i + n, new);
                return Ok(joined(&lines, text));
            }
        }
    }
    let Some(ov) = change else { return Ok(text.to_owned()) };
    let line = format!("{} = {}", toml_key(key), toml_value(&ov.json())?);
    let parent: Vec<String> = parents.iter().map(|s| (*s).to_owned()).collect();
    if let Some((_, s, e)) = tables.iter().find(|(h, _, _)| *h == parent) {
        // After the table's last key line.
        let at = (*s..*e)
            .rev()
            .find(|i| view.get(*i).is_some_and(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')))
            .map_or(*s, |i| i + 1);
        splice(&mut lines, at, at, vec![line]);
    } else {
        // A new table at the end of the file.
        let mut new = Vec::new();
        if lines.last().is_some_and(|l| !l.trim().is_empty()) {
            new.push(String::new());
        }
        new.push(format!("[{}]", parents.iter().map(|p| toml_key(p)).collect::<Vec<_>>().join(".")));
        new.push(line);
        let at = lines.len();
        splice(&mut lines, at, at, new);
    }
    Ok(joined(&lines, text))
}

/// A long-form override written as a table, its keys set one by one.
fn toml_long_form(body: &[&str], ov: &Override) -> Result<Vec<String>, EditError> {
    let mut lines: Vec<String> = body.iter().map(|l| (*l).to_owned()).collect();
    for (k, v) in ov.fields() {
        let view: Vec<&str> = lines.iter().map(String::as_str).collect();
        let found = (0..view.len()).find(|i| view.get(*i).and_then(|l| toml_kv(l)).is_some_and(|(key, _)| key == [k]));
        match (found, v) {
            (None, None) => {}
            (None, Some(v)) => {
                let at = (0..view.len()).rev().find(|i| view.get(*i).is_some_and(|l| !l.trim().is_empty())).map_or(0, |i| i + 1);
                splice(&mut lines, at, at, vec![format!("{k} = {}", toml_value(&v)?)]);
            }
            (Some(at), v) => {
                let n = toml_value_lines(&view, at);
                let new = match v {
                    None => Vec::new(),
                    Some(v) => vec![format!("{k} = {}", toml_value(&v)?)],
                };
                splice(&mut lines, at, at + n, new);
            }
        }
    }
    Ok(lines)
}

fn toml_key(k: &str) -> String {
    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        k.to_owned()
    } else {
        Json::String(k.to_owned()).to_string()
    }
}

/// A JSON value as TOML inline text. A date (`2027-06-30`) under `expires`
/// is written as a string; the loader reads dates from strings either way.
fn toml_value(v: &Json) -> Result<String, EditError> {
    Ok(match v {
        Json::Null => return Err(EditError::Value("TOML has no null".into())),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        // A JSON string's escapes (`\"`, `\\`, `\n`, `\uXXXX`) are TOML's too.
        Json::String(s) => Json::String(s.clone()).to_string(),
        Json::Array(a) => format!("[{}]", a.iter().map(toml_value).collect::<Result<Vec<_>, _>>()?.join(", ")),
        Json::Object(m) => {
            let parts =
                m.iter().map(|(k, v)| Ok(format!("{} = {}", toml_key(k), toml_value(v)?))).collect::<Result<Vec<_>, EditError>>()?;
            format!("{{ {} }}", parts.join(", "))
        }
    })
}

// ---------------------------------------------------------------- lines

fn splice(lines: &mut Vec<String>, from: usize, to: usize, with: Vec<String>) {
    let to = to.min(lines.len());
    let from = from.min(to);
    lines.splice(from..to, with);
}

/// The lines joined, with the original's final newline (or lack of one).
fn joined(lines: &[String], original: &str) -> String {
    let mut s = lines.join("\n");
    if original.ends_with('\n') || original.is_empty() {
        s.push('\n');
    }
    s
}

#[cfg(test)]
#[path = "edit_tests.rs"]
mod tests;
