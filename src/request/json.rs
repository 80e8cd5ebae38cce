//! JSON in, strictly: a body is parsed refusing what `serde_json` lets
//! through silently, so a decision is never made on a body that says
//! something else than it seems to.
//!
//! | failure | error |
//! | --- | --- |
//! | not JSON (syntax, truncation, bad UTF-8, nesting too deep) | [`RequestError::Malformed`] (a 400 in the API) |
//! | an object with the same key twice (`"blocked": true, "blocked": false`) | [`RequestError::Invalid`] at the key (422) |
//! | a body that is not an object | [`RequestError::Invalid`] at `/` (422) |
//! | a list or object over [`MAX_ITEMS`], a string over [`super::MAX_TEXT_BYTES`] | [`RequestError::Invalid`] at it (422) |
//!
//! The caps are enforced while reading, as soon as one is crossed: a body
//! of a 100,000-item list is refused at its 1,001st item, without a tree
//! of 100,000 values ever being built. The exact limits of each field
//! (100 channels, 1 KiB names) are checked once the request is decoded
//! ([`super::bind`]); the caps here only keep the tree small on the way
//! there. The fast path ([`decode_fast`]) builds no tree, and takes bodies
//! of at most [`FAST_PATH_BYTES`]: larger ones go the capped way.
//!
//! A repeated key is refused rather than letting the last one win: like a
//! misspelt field, it would otherwise change the answer silently.

use serde_json::Value as Json;

use super::{FieldError, MAX_TEXT_BYTES, RequestError};

/// Most items of a list, or members of an object, in a request body (a
/// batch's 1000 requests being the longest list the API takes).
pub const MAX_ITEMS: usize = 1000;

/// Largest body the fast path decodes; a larger one is read with the caps.
pub const FAST_PATH_BYTES: usize = 64 * 1024;

/// What the reader refuses while it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Most items of a list or members of an object.
    pub items: usize,
    /// Longest string (keys too), in bytes.
    pub string_bytes: usize,
}

impl Caps {
    /// The caps of can-send, batch and send-options bodies.
    pub const REQUEST: Caps = Caps { items: MAX_ITEMS, string_bytes: MAX_TEXT_BYTES };
    /// No caps beyond the body limit (rule files sent for validation are
    /// long strings, checked by their own limits).
    pub const NONE: Caps = Caps { items: usize::MAX, string_bytes: usize::MAX };
}
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
/// repeated key or a list, object or string over [`Caps::REQUEST`] a 422
/// pointing at it.
pub fn parse(bytes: &[u8]) -> Result<Json, RequestError> {
    parse_with(bytes, Caps::REQUEST)
}

/// [`parse`], with other caps.
pub fn parse_with(bytes: &[u8], caps: Caps) -> Result<Json, RequestError> {
    let malformed = |e: &serde_json::Error| {
        let detail = if bytes.iter().all(u8::is_ascii_whitespace) {
            "the request body is empty; send a JSON object".to_owned()
        } else {
            format!("the request body is not valid JSON: {}", truncate(&e.to_string(), 300))
        };
        RequestError::Malformed(detail)
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut track = serde_path_to_error::Track::new();
    let read = serde::de::DeserializeSeed::deserialize(StrictSeed(caps), serde_path_to_error::Deserializer::new(&mut de, &mut track));
    let read = read.map_err(|e| serde_path_to_error::Error::new(track.path(), e));
    match read {
        // Only white space may follow the value.
        Ok(v) => de.end().map(|()| v).map_err(|e| malformed(&e)),
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

/// Any JSON value within the caps, refusing objects with a repeated key.
#[derive(Clone, Copy)]
struct StrictSeed(Caps);

impl<'de> serde::de::DeserializeSeed<'de> for StrictSeed {
    type Value = Json;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        d.deserialize_any(StrictVisitor(self.0))
    }
}

struct StrictVisitor(Caps);

impl StrictVisitor {
    fn string<E: serde::de::Error>(&self, len: usize) -> Result<(), E> {
        if len > self.0.string_bytes {
            return Err(E::custom(format!("a string longer than {} bytes", self.0.string_bytes)));
        }
        Ok(())
    }

    fn too_many<E: serde::de::Error>(&self, what: &str) -> E {
        E::custom(format!("more than {} {what}", self.0.items))
    }
}

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

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Json, E> {
        self.string(v.len())?;
        Ok(Json::String(v.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Json, E> {
        self.string(v.len())?;
        Ok(Json::String(v))
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(v) = seq.next_element_seed(StrictSeed(self.0))? {
            if out.len() >= self.0.items {
                return Err(self.too_many("items"));
            }
            out.push(v);
        }
        Ok(Json::Array(out))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.len() >= self.0.items {
                return Err(self.too_many("members"));
            }
            self.string(key.len())?;
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("{DUPLICATE}{}`; each key may appear once", truncate(&key, 100))));
            }
            let v = map.next_value_seed(StrictSeed(self.0))?;
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
    fn caps_are_422_at_the_list_or_string_while_reading() {
        let long =
            format!(r#"{{"client": {{"channels": [{}]}}}}"#, (0..100_000).map(|i| format!("\"c{i}\"")).collect::<Vec<_>>().join(","));
        let p = parse(long.as_bytes()).err();
        assert_eq!(p.as_ref().map(|p| p.status()), Some(422));
        assert_eq!(p.as_ref().map(|p| p.errors()[0].pointer.as_str()), Some("/client/channels"));
        assert!(p.as_ref().is_some_and(|p| p.errors()[0].message.contains("more than 1000 items")), "{p:?}");
        let at_cap = format!("[{}]", vec!["1"; MAX_ITEMS].join(","));
        assert!(parse(at_cap.as_bytes()).is_ok());
        let text = format!(r#"{{"message": {{"text": "{}"}}}}"#, "x".repeat(MAX_TEXT_BYTES + 1));
        let p = parse(text.as_bytes()).err();
        assert_eq!(p.as_ref().map(|p| p.errors()[0].pointer.as_str()), Some("/message/text"), "{p:?}");
        let members = format!("{{{}}}", (0..=MAX_ITEMS).map(|i| format!(r#""k{i}": 1"#)).collect::<Vec<_>>().join(","));
        let p = parse(members.as_bytes()).err();
        assert!(p.as_ref().is_some_and(|p| p.status() == 422 && p.errors()[0].message.contains("members")), "{p:?}");
        assert!(parse_with(text.as_bytes(), Caps::NONE).is_ok(), "validation bodies carry whole files");
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
