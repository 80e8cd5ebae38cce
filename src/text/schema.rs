//! JSON-Schema violations in a person's words: each at its JSON pointer,
//! a key that is not allowed at the key itself with the closest allowed
//! one, a failed `oneOf` (how an optional object is written) as the errors
//! of the branch the value was meant for. Rule files (checked against
//! `schemas/`) and request bodies (checked against the schema the OpenAPI
//! document publishes) are both reported this way.

use super::hint::{did_you_mean, one_of};
use super::pointer::join;

/// One schema violation: JSON pointer into the instance, the message, and
/// for a misspelt key the closest allowed one.
#[derive(Debug, Clone)]
pub struct SchemaError {
    /// Where, in the checked value.
    pub pointer: String,
    /// What is wrong, as the validator says it.
    pub message: String,
    /// The closest allowed key, or the allowed keys.
    pub hint: Option<String>,
    /// The error is about the key at `pointer` (one that is not allowed),
    /// not about its value.
    pub at_key: bool,
    /// For a missing required key: its name (the pointer is the object).
    pub missing: Option<String>,
}

/// At most `limit` violations of `value` against `schema` (compiled as
/// `validator`), each pointed where it is: a key that is not allowed at
/// the key itself, with the closest allowed key; a failed `oneOf`/`anyOf`
/// (how a nullable object is written) as the errors of the one branch of
/// the value's type, so a typo inside an optional object is still named.
pub fn errors(validator: &jsonschema::Validator, schema: &serde_json::Value, value: &serde_json::Value, limit: usize) -> Vec<SchemaError> {
    let mut out = Vec::new();
    for e in validator.iter_errors(value) {
        if out.len() >= limit {
            break;
        }
        convert(&e, schema, 0, &mut out);
    }
    out.truncate(limit);
    merge_misspelt_required(&mut out);
    out
}

/// One typo, one error: a required key missing from an object that holds a
/// key not allowed there whose closest allowed key is the missing one
/// (`cdoe` for `code`) is the same mistake, said once, at the typo.
fn merge_misspelt_required(out: &mut Vec<SchemaError>) {
    let typo_of = |missing: &str, object: &str, all: &[SchemaError]| {
        all.iter().any(|e| {
            e.at_key
                && e.pointer.rsplit_once('/').is_some_and(|(parent, key)| {
                    parent == object && did_you_mean(&super::pointer::last_segment(&format!("/{key}")), [missing]).is_some()
                })
        })
    };
    let keep: Vec<bool> = out.iter().map(|e| !e.missing.as_deref().is_some_and(|m| typo_of(m, &e.pointer, out))).collect();
    let mut keep = keep.into_iter();
    out.retain(|_| keep.next().unwrap_or(true));
}

fn convert(e: &jsonschema::ValidationError<'_>, schema: &serde_json::Value, depth: usize, out: &mut Vec<SchemaError>) {
    use jsonschema::error::ValidationErrorKind;
    let pointer = e.instance_path().as_str().to_owned();
    let plain =
        |missing: Option<String>| SchemaError { pointer: pointer.clone(), message: e.to_string(), hint: None, at_key: false, missing };
    match e.kind() {
        // Keys that are not allowed (a typo such as `gte` or `decription`):
        // one error per key, at the key, with the closest allowed one.
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed = allowed_keys(schema, e.schema_path().as_str());
            for key in unexpected {
                let hint = (!allowed.is_empty())
                    .then(|| did_you_mean(key, allowed.iter().copied()).unwrap_or_else(|| one_of(allowed.iter().copied())));
                let message = format!("unknown field `{key}`");
                out.push(SchemaError { pointer: join(&pointer, key), message, hint, at_key: true, missing: None });
            }
        }
        ValidationErrorKind::Required { property } => {
            let missing = property.as_str().map(str::to_owned);
            let message = missing.as_ref().map_or_else(|| e.to_string(), |m| format!("missing field `{m}`"));
            out.push(SchemaError { message, ..plain(missing) });
        }
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } if depth < 16 => {
            // The branches whose type the value has (the others fail at the
            // value itself with a type error); with exactly one, its errors
            // say what is wrong.
            let typed: Vec<&Vec<jsonschema::ValidationError<'static>>> = context
                .iter()
                .filter(|branch| {
                    !branch.iter().any(|b| matches!(b.kind(), ValidationErrorKind::Type { .. }) && b.instance_path().as_str() == pointer)
                })
                .collect();
            match typed.as_slice() {
                [one] if !one.is_empty() => one.iter().for_each(|b| convert(b, schema, depth + 1, out)),
                _ => out.push(plain(None)),
            }
        }
        _ => out.push(plain(None)),
    }
}

/// The keys `properties` allows at the schema node whose `additionalProperties`
/// failed (`schema_path` ends in `/additionalProperties`).
fn allowed_keys<'s>(schema: &'s serde_json::Value, schema_path: &str) -> Vec<&'s str> {
    let Some(parent) = schema_path.strip_suffix("/additionalProperties") else { return Vec::new() };
    let mut node = schema;
    for seg in parent.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        let next = if seg == "$ref" {
            node.get("$ref").and_then(|r| r.as_str()).and_then(|r| r.strip_prefix('#')).and_then(|r| schema.pointer(r))
        } else {
            match node {
                serde_json::Value::Object(m) => m.get(&seg),
                serde_json::Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            }
        };
        match next {
            Some(n) => node = n,
            None => return Vec::new(),
        }
    }
    node.get("properties").and_then(|p| p.as_object()).map(|p| p.keys().map(String::as_str).collect()).unwrap_or_default()
}
