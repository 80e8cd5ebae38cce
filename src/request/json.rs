//! JSON in, strictly: a body is parsed refusing what `serde_json` lets
//! through silently, so a decision is never made on a body that says
//! something else than it seems to.
//!
//! | failure | error |
//! | --- | --- |
//! | not JSON (syntax, truncation, bad UTF-8, nesting too deep) | [`RequestError::Malformed`] (a 400 in the API) |
//! | an object with the same key twice (`"blocked": true, "blocked": false`) | [`RequestError::Invalid`] at the key (422) |
//! | a body that is not an object | [`RequestError::Invalid`] at `/` (422) |
//!
//! A repeated key is refused rather than letting the last one win: like a
//! misspelt field, it would otherwise change the answer silently.

use serde_json::Value as Json;

use super::{FieldError, RequestError};
use crate::text::truncate;

/// The fast path: bytes straight into `T` (strict: see
/// [`super::strict`]), `None` on any problem at all. Callers then
/// take the general path — [`parse`], then decode the value — which finds
/// the same problem and says exactly what and where (400 or 422, pointer).
/// Both paths accept the same bodies and decode them alike; the fast one
/// skips building a JSON tree for the common, valid body.
pub fn decode_fast<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let super::strict::Obj(t) = serde::Deserialize::deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(t)
}

/// Parse bytes as JSON; a syntax error is a 400 naming line and column, a
/// repeated key a 422 pointing at it.
pub fn parse(bytes: &[u8]) -> Result<Json, RequestError> {
    let malformed = |e: &serde_json::Error| {
        let detail = if bytes.iter().all(u8::is_ascii_whitespace) {
            "the request body is empty; send a JSON object".to_owned()
        } else {
            format!("the request body is not valid JSON: {}", truncate(&e.to_string(), 300))
        };
        RequestError::Malformed(detail)
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, Strict>(&mut de) {
        // Only white space may follow the value.
        Ok(Strict(v)) => de.end().map(|()| v).map_err(|e| malformed(&e)),
        Err(e) if e.inner().classify() == serde_json::error::Category::Data => {
            let mut pointer = crate::text::pointer::from_path(e.path());
            let message = e.inner().to_string();
            if let Some(key) = message.strip_prefix(DUPLICATE).and_then(|rest| rest.split('`').next()) {
                pointer = crate::text::pointer::join(&pointer, key);
            }
            let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
            Err(RequestError::Invalid(vec![FieldError { pointer, message }]))
        }
        Err(e) => Err(malformed(e.inner())),
    }
}

const DUPLICATE: &str = "duplicate key `";

/// Any JSON value, refusing objects with a repeated key.
struct Strict(Json);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        // JSON has no NaN or infinity, so `from_f64` always succeeds here.
        Ok(serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Json::Array(out))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("{DUPLICATE}{}`; each key may appear once", truncate(&key, 100))));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Json::Object(out))
    }
}

/// A body (or batch item) must be a JSON object: serde would otherwise
/// read a struct from an array, field by position.
pub fn expect_object(v: &Json) -> Result<(), Vec<FieldError>> {
    if v.is_object() {
        Ok(())
    } else {
        let kind = match v {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        };
        Err(vec![FieldError { pointer: String::new(), message: format!("expected a JSON object, found {kind}") }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_is_400_and_says_where() {
        let p = parse(br#"{"a": }"#).err().map(|p| (p.status(), p.to_string()));
        assert!(matches!(&p, Some((400, d)) if d.contains("line 1 column")), "{p:?}");
        assert_eq!(parse(b"  ").err().map(|p| p.status()), Some(400));
        assert_eq!(parse(&[0xff, 0xfe]).err().map(|p| p.status()), Some(400));
        let deep = "[".repeat(1000);
        assert_eq!(parse(deep.as_bytes()).err().map(|p| p.status()), Some(400));
        let closed = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
        assert_eq!(parse(closed.as_bytes()).err().map(|p| p.status()), Some(400));
        assert!(parse(br#"{"a": 1e30}"#).is_ok());
        assert_eq!(parse(br#"{"a": 1} x"#).err().map(|p| p.status()), Some(400));
    }

    #[test]
    fn parses_like_serde_json() {
        let text = r#"{"a": [1, -2, 3.5, 1e30, 18446744073709551615, "x", null, true, {"b": {}}], "c": "\u00e9"}"#;
        let expected: Json = serde_json::from_str(text).unwrap_or_default();
        assert_eq!(parse(text.as_bytes()).ok(), Some(expected));
    }

    #[test]
    fn the_fast_path_takes_valid_requests_only() {
        use super::super::CanSendRequest;
        let ok = br#"{"sender": {"role": "agent"}, "client": {"status": "new", "attributes": {"a": 1}}, "channel": "x", "message": {}}"#;
        let fast = decode_fast::<CanSendRequest>(ok).map(|r| serde_json::to_value(r).ok());
        let general = parse(ok).ok().and_then(|v| super::super::decode(&v).ok()).map(|r| serde_json::to_value(r).ok());
        assert!(fast.is_some());
        assert_eq!(fast, general, "both paths decode alike");
        for bad in [
            &br#"{"sender": {"role": "agent"}, "client": {"status": "new"}, "channel": "x", "message": {}} x"#[..],
            br#"{"sender": ["agent"], "client": {"status": "new"}, "channel": "x", "message": {}}"#,
            br#"{"sender": {"role": "agent", "role": "agent"}, "client": {"status": "new"}, "channel": "x", "message": {}}"#,
            br#"{"sender": {"role": "agent"}, "client": {"status": "new", "attributes": {"a": 1, "a": 2}}, "channel": "x", "message": {}}"#,
            br#"{"sender": {"role": "agent"}, "client": {"status": "new"}, "channel": "x", "message": {}, "extra": 1}"#,
            br#"[{"role": "agent"}, {"status": "new"}, "x", {}]"#,
            br#"{"sender": {"role": "agent"}, "client": {"status": "new"}, "channel": "x", "message": {"attachments": [{"name": "a", "size": -1}]}}"#,
        ] {
            assert!(decode_fast::<CanSendRequest>(bad).is_none(), "{}", String::from_utf8_lossy(bad));
            let general = parse(bad).map_err(|_| ()).and_then(|v| super::super::decode(&v).map_err(|_| ()));
            assert!(general.is_err(), "the general path refuses it too: {}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_repeated_key_is_422_at_its_pointer() {
        let p = parse(br#"{"client": {"status": "new", "blocked": true, "blocked": false}}"#).err();
        assert_eq!(p.as_ref().map(|p| p.status()), Some(422));
        assert_eq!(p.as_ref().map(|p| p.errors()[0].pointer.as_str()), Some("/client/blocked"));
        let p = parse(br#"{"requests": [{}, {"a": 1, "a": 1}]}"#).err();
        assert_eq!(p.map(|p| p.errors()[0].pointer.clone()), Some("/requests/1/a".to_owned()));
        let p = parse(br#"{"a/b": 1, "a/b": 2}"#).err();
        assert_eq!(p.map(|p| p.errors()[0].pointer.clone()), Some("/a~1b".to_owned()));
    }
}
