//! JSON Schema enforcement: each file kind has a schema in `schemas/`,
//! built into the binary and compiled once per process.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::source::builtin_schemas;

/// The file kinds, each with its schema `schemas/<kind>.schema.json`.
pub const KINDS: &[&str] = &["catalog", "settings", "rules", "tenant", "tests"];

/// One schema violation: JSON pointer into the instance, and the message.
#[derive(Debug, Clone)]
pub struct SchemaError {
    pub pointer: String,
    pub message: String,
}

fn validators() -> &'static HashMap<&'static str, Result<jsonschema::Validator, String>> {
    static V: OnceLock<HashMap<&'static str, Result<jsonschema::Validator, String>>> = OnceLock::new();
    V.get_or_init(|| {
        KINDS
            .iter()
            .map(|kind| {
                let file = format!("{kind}.schema.json");
                let v = builtin_schemas()
                    .iter()
                    .find(|(p, _)| *p == file)
                    .ok_or_else(|| format!("schema {file} is not built in"))
                    .and_then(|(_, text)| serde_json::from_str::<serde_json::Value>(text).map_err(|e| format!("schema {file}: {e}")))
                    .and_then(|schema| jsonschema::validator_for(&schema).map_err(|e| format!("schema {file}: {e}")));
                (*kind, v)
            })
            .collect()
    })
}

/// Check `value` against the schema of `kind`; every violation is returned.
pub fn check(kind: &str, value: &serde_json::Value) -> Vec<SchemaError> {
    match validators().get(kind) {
        Some(Ok(v)) => {
            v.iter_errors(value).map(|e| SchemaError { pointer: e.instance_path().as_str().to_owned(), message: e.to_string() }).collect()
        }
        Some(Err(e)) => vec![SchemaError { pointer: String::new(), message: e.clone() }],
        None => vec![SchemaError { pointer: "/kind".into(), message: format!("unknown kind `{kind}`") }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_compiles() {
        for kind in KINDS {
            assert!(matches!(validators().get(kind), Some(Ok(_))), "{kind}: {:?}", validators().get(kind).map(|r| r.as_ref().err()));
        }
    }

    #[test]
    fn reports_pointer() {
        let errs = check("rules", &serde_json::json!({"kind": "rules", "rules": [{"id": 3}]}));
        assert!(errs.iter().any(|e| e.pointer.starts_with("/rules/0")), "{errs:?}");
    }
}
