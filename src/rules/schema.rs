//! JSON Schema enforcement of rule files: each file kind has a schema in
//! `schemas/`, built into the binary and compiled once per process. The
//! violations are reported as [`crate::text::schema`] words them.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::source::builtin_schemas;
pub use crate::text::schema::SchemaError;
use crate::text::schema::errors;

/// Most schema errors reported for one rule file.
pub const MAX_ERRORS: usize = 200;

/// The file kinds, each with its schema `schemas/<kind>.schema.json`.
pub const KINDS: &[&str] = &["catalog", "settings", "rules", "tenant", "tests"];

type Compiled = Result<(jsonschema::Validator, serde_json::Value), String>;

fn validators() -> &'static HashMap<&'static str, Compiled> {
    static V: OnceLock<HashMap<&'static str, Compiled>> = OnceLock::new();
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
                    .and_then(|schema| {
                        let v = jsonschema::validator_for(&schema).map_err(|e| format!("schema {file}: {e}"))?;
                        Ok((v, schema))
                    });
                (*kind, v)
            })
            .collect()
    })
}

/// Check `value` against the schema of `kind`; every violation is returned.
pub fn check(kind: &str, value: &serde_json::Value) -> Vec<SchemaError> {
    match validators().get(kind) {
        Some(Ok((v, schema))) => errors(v, schema, value, MAX_ERRORS),
        Some(Err(e)) => vec![SchemaError { pointer: String::new(), message: e.clone(), hint: None, at_key: false, missing: None }],
        None => vec![SchemaError {
            pointer: "/kind".into(),
            message: format!("unknown kind `{kind}`"),
            hint: None,
            at_key: false,
            missing: None,
        }],
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

    #[test]
    fn misspelt_key_points_at_it_with_a_hint() {
        let errs = check(
            "rules",
            &serde_json::json!({"kind": "rules", "rules": [{"id": "a", "code": "c", "deny": {"client.blocked": {"eqq": true}}}]}),
        );
        let e = errs.iter().find(|e| e.pointer == "/rules/0/deny/client.blocked/eqq").expect("located at the key");
        assert_eq!(e.hint.as_deref(), Some("did you mean `eq`?"), "{errs:?}");
        let errs =
            check("rules", &serde_json::json!({"kind": "rules", "rules": [{"id": "a", "code": "c", "deny": "x", "decription": "d"}]}));
        assert!(
            errs.iter().any(|e| e.pointer == "/rules/0/decription" && e.hint.as_deref() == Some("did you mean `description`?")),
            "{errs:?}"
        );
    }
}
