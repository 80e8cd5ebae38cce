//! From source text to checked JSON trees: parse (YAML or TOML by the file's
//! extension), locate, read `kind`, enforce that kind's schema. A file that
//! does not parse is reported and left out of compilation; the load as a
//! whole still fails, but the compiler can report problems in the other
//! files.
//!
//! A repeated key is reported but does not stop the file: the tree keeps
//! the first value, so the file is checked and compiled like any other.
//! A file that fails its schema comes back with the pointers of its schema
//! errors: the compiler still checks the parts of a rules file the schema
//! did not refuse (one typo must not hide the others), and leaves files
//! of the other kinds out.

use super::diag::{Diagnostic, Pos};
use super::locate::Locator;
use super::schema::{self, KINDS};
use super::source::SourceFile;
use super::{toml, yaml};
use crate::text::hint::{did_you_mean, one_of};

/// A file that parsed, with a known kind.
#[derive(Debug)]
pub struct ParsedFile {
    pub path: String,
    pub kind: String,
    pub value: serde_json::Value,
    pub locator: Locator,
    pub sha256: String,
    /// Where the schema check failed (JSON pointers); empty when the file
    /// matches its schema.
    pub schema_errors: Vec<String>,
}

/// Parse and schema-check one file: the file when it can be compiled, and
/// its diagnostics (a file can have both: a repeated key).
pub fn parse(file: &SourceFile) -> (Option<ParsedFile>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let parsed = parse_checked(file, &mut diags);
    match parsed {
        Ok(f) => (Some(f), diags),
        Err(mut e) => {
            diags.append(&mut e);
            (None, diags)
        }
    }
}

fn parse_checked(file: &SourceFile, diags: &mut Vec<Diagnostic>) -> Result<ParsedFile, Vec<Diagnostic>> {
    let path = file.path.as_str();
    let parsed = if path.ends_with(".toml") { toml::parse(&file.text) } else { yaml::parse(&file.text) };
    let (value, locator, repeats) = parsed.map_err(|e| vec![Diagnostic::error(path, e.pos, e.message).with_hint(e.hint)])?;
    let kind = value.get("kind").and_then(|k| k.as_str()).unwrap_or("");
    for r in &repeats {
        diags.push(
            Diagnostic::error(path, r.pos, r.message()).with_rule(owner(kind, &value, &r.pointer).as_deref()).with_hint(Some(r.hint())),
        );
    }
    let kind = match value.get("kind") {
        Some(serde_json::Value::String(k)) => k.clone(),
        Some(_) => return Err(vec![Diagnostic::error(path, locator.locate_value("/kind"), "`kind` must be a string")]),
        None if value.is_null() => {
            return Err(vec![
                Diagnostic::error(path, Pos::new(1, 1), "empty rule file")
                    .with_hint(Some(format!("start it with `kind:` {}", one_of(KINDS.iter().copied())))),
            ]);
        }
        None => {
            return Err(vec![
                Diagnostic::error(path, Pos::new(1, 1), "missing `kind`")
                    .with_hint(Some(format!("add `kind:` with {}", one_of(KINDS.iter().copied())))),
            ]);
        }
    };
    if !KINDS.contains(&kind.as_str()) {
        let hint = did_you_mean(&kind, KINDS.iter().copied()).or_else(|| Some(one_of(KINDS.iter().copied())));
        return Err(vec![Diagnostic::error(path, locator.locate_value("/kind"), format!("unknown kind `{kind}`")).with_hint(hint)]);
    }
    let errors = schema::check(&kind, &value);
    let mut schema_errors = Vec::with_capacity(errors.len());
    for e in errors {
        let at = if e.pointer.is_empty() { "/" } else { &e.pointer };
        let pos = if e.at_key { locator.locate(&e.pointer) } else { locator.locate_value(&e.pointer) };
        // A key that is not allowed is located at itself: its name says where.
        let message = match e.message.strip_suffix(" is not of type \"object\"") {
            Some(found) => format!("expected a mapping under `{}`, found {found} (at {at})", crate::text::pointer::last_segment(at)),
            None if e.at_key => e.message.clone(),
            None => format!("{} (at {at})", e.message),
        };
        diags.push(Diagnostic::error(path, pos, message).with_rule(owner(&kind, &value, &e.pointer).as_deref()).with_hint(e.hint));
        schema_errors.push(e.pointer);
    }
    use sha2::Digest;
    let sha256 = format!("{:x}", sha2::Sha256::digest(file.text.as_bytes()));
    Ok(ParsedFile { path: path.to_owned(), kind, value, locator, sha256, schema_errors })
}

/// The rule or exception (by id), test (by name) or tenant a pointer lies
/// in, so a schema error names it as the compiler's errors do.
fn owner(kind: &str, value: &serde_json::Value, pointer: &str) -> Option<String> {
    let mut segs = pointer.split('/').skip(1);
    let first = segs.next()?;
    let item = |key: &str, field: &str| -> Option<String> {
        let i: usize = segs.clone().next()?.parse().ok()?;
        value.get(key)?.get(i)?.get(field)?.as_str().map(str::to_owned)
    };
    match (kind, first) {
        ("rules", "rules" | "exceptions") => item(first, "id"),
        ("tests", "tests") => item(first, "name"),
        ("tenant", _) => value.get("tenant")?.as_str().map(str::to_owned),
        _ => None,
    }
}
