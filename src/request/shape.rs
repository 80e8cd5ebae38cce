//! Every shape problem of a request at once.
//!
//! Strict decoding (serde, `deny_unknown_fields`) stops at the first
//! problem. A caller with three typos should not need three round trips, so
//! when decoding fails the body is also checked against the JSON Schema of
//! the request type — the very schema the OpenAPI document publishes,
//! generated from the same types (`utoipa`), so the two cannot disagree
//! about what a field is — and every violation is reported with its
//! pointer. Only on the error path: a valid request is decoded by serde
//! alone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value as Json, json};
use utoipa::ToSchema;

use super::FieldError;
use crate::text::pointer::last_segment;
use crate::text::schema;

type Compiled = Option<Arc<(jsonschema::Validator, Json)>>;

/// The schema of `T` with every schema it refers to, compiled once.
fn compiled<T: ToSchema>() -> Compiled {
    static CACHE: OnceLock<Mutex<HashMap<String, Compiled>>> = OnceLock::new();
    let name = T::name().into_owned();
    // A poisoned cache is still a cache (entries are whole or absent).
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    cache
        .entry(name.clone())
        .or_insert_with(|| {
            let mut parts = Vec::new();
            T::schemas(&mut parts);
            let mut schemas = serde_json::Map::new();
            for (n, s) in parts {
                schemas.insert(n, serde_json::to_value(s).ok()?);
            }
            schemas.insert(name.clone(), serde_json::to_value(T::schema()).ok()?);
            let root = json!({ "$ref": format!("#/components/schemas/{name}"), "components": { "schemas": schemas } });
            let validator = jsonschema::validator_for(&root).ok()?;
            Some(Arc::new((validator, root)))
        })
        .clone()
}

/// Most problems one answer lists: a body of a million wrong items gets a
/// bounded answer, found in bounded time.
pub const MAX_ERRORS: usize = 50;

/// The schema's view of what is wrong with `v` as a `T`, at most
/// [`MAX_ERRORS`] (empty when the schema cannot be built, or finds nothing).
pub fn errors<T: ToSchema>(v: &Json) -> Vec<FieldError> {
    let Some(c) = compiled::<T>() else { return Vec::new() };
    let (validator, root) = &*c;
    schema::errors(validator, root, v, MAX_ERRORS)
        .into_iter()
        .map(|e| {
            // Say it as serde does: "unknown field `blockd`".
            let message = match e.message.strip_prefix("Additional properties are not allowed (") {
                Some(_) => format!("unknown field `{}`", last_segment(&e.pointer)),
                None => e.message,
            };
            let message = match e.hint {
                Some(h) => format!("{message}; {h}"),
                None => message,
            };
            // A missing key is pointed at, as serde does, not its object.
            let pointer = match &e.missing {
                Some(key) => crate::text::pointer::join(&e.pointer, key),
                None => e.pointer,
            };
            // The messages quote the value: keep them short.
            FieldError { pointer, message: message.chars().take(300).collect() }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::CanSendRequest;

    #[test]
    fn every_problem_has_its_pointer() {
        let v = json!({"sender": {"role": "agent", "x": 1}, "client": {"status": "existing", "blockd": 1, "blocked": "yes"},
                       "channel": "vk", "message": {"txt": "", "attachments": [{"name": "a", "size": -1}]}});
        let errs = errors::<CanSendRequest>(&v);
        let pointers: Vec<&str> = errs.iter().map(|e| e.pointer.as_str()).collect();
        for p in ["/sender/x", "/client/blockd", "/client/blocked", "/message/txt", "/message/attachments/0/size"] {
            assert!(pointers.contains(&p), "{p} in {errs:?}");
        }
        let typo = errs.iter().find(|e| e.pointer == "/client/blockd").map(|e| e.message.as_str());
        assert_eq!(typo, Some("unknown field `blockd`; did you mean `blocked`?"));
        let missing = errors::<CanSendRequest>(&json!({"sender": {}, "client": {"status": "new"}, "message": {}}));
        let pointers: Vec<&str> = missing.iter().map(|e| e.pointer.as_str()).collect();
        assert!(pointers.contains(&"/sender/role") && pointers.contains(&"/channel"), "{missing:?}");
    }

    #[test]
    fn two_typos_in_one_object_are_two_errors_at_their_keys() {
        let v = json!({"sender": {"role": "a"}, "client": {"status": "new", "blockd": true, "activ": 1}, "channel": "x", "message": {}});
        let errs = errors::<CanSendRequest>(&v);
        let pointers: Vec<&str> = errs.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/client/blockd", "/client/activ"], "{errs:?}");
        assert!(errs.iter().all(|e| e.message.starts_with("unknown field `")), "{errs:?}");
    }

    #[test]
    fn typos_inside_an_optional_object_are_named() {
        // `template` and `thread` are nullable: their schema is a oneOf.
        let v = json!({"sender": {"role": "a"}, "client": {"status": "new"}, "channel": "x",
                       "thread": {"tagz": []}, "message": {"template": {"nam": "x", "headr": "h"}}});
        let errs = errors::<CanSendRequest>(&v);
        let pointers: Vec<&str> = errs.iter().map(|e| e.pointer.as_str()).collect();
        for p in ["/thread/tagz", "/message/template/nam", "/message/template/headr"] {
            assert!(pointers.contains(&p), "{p} in {errs:?}");
        }
        // `nam` for the required `name` is one mistake, said once: at the typo, naming the key meant.
        assert!(!pointers.contains(&"/message/template/name"), "{errs:?}");
        let nam = errs.iter().find(|e| e.pointer == "/message/template/nam").expect("the typo");
        assert_eq!(nam.message, "unknown field `nam`; did you mean `name`?");
        // A null there is fine, as serde reads it.
        let ok =
            json!({"sender": {"role": "a"}, "client": {"status": "new"}, "channel": "x", "thread": null, "message": {"template": null}});
        assert!(errors::<CanSendRequest>(&ok).is_empty(), "{:?}", errors::<CanSendRequest>(&ok));
    }

    #[test]
    fn a_huge_wrong_body_gets_a_bounded_answer() {
        let channels: Vec<u32> = vec![0; 100_000];
        let v = json!({"sender": {"role": "a"}, "client": {"status": "new", "channels": channels}, "channel": "x", "message": {}});
        let errs = crate::request::decode(&v).map(|_| ()).unwrap_err();
        assert!(errs.len() <= MAX_ERRORS, "{}", errs.len());
        assert!(errs.iter().all(|e| e.message.chars().count() <= 300));
    }

    #[test]
    fn a_valid_request_has_no_schema_errors() {
        let v = json!({"tenant": "t", "sender": {"role": "agent", "id": null, "attributes": {"vip": true}}, "action": "send",
                       "at": "2026-11-20T09:30:00Z", "client": {"status": "existing", "channels": ["x"], "email": null},
                       "channel": "vk", "thread": {"tags": []},
                       "message": {"text": "hi", "template": {"name": "t", "header": null}, "attachments": [{"name": "a", "size": 0}]}});
        assert!(errors::<CanSendRequest>(&v).is_empty(), "{:?}", errors::<CanSendRequest>(&v));
        assert!(crate::request::decode(&v).is_ok());
    }
}
