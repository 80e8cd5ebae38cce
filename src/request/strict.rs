//! serde helpers that make request decoding strict where serde is lenient.
//!
//! - **Objects only.** serde's derived `Deserialize` for a struct also
//!   accepts a JSON array, field by position: `"sender": ["agent"]` would
//!   read as `{"role": "agent"}`. Every struct-typed field of a request is
//!   decoded through [`Obj`], which asks the format for a map, so an array
//!   there is a type error ("invalid type: sequence, expected struct
//!   Sender").
//! - **No repeated keys** in free-form maps (`attributes`): last-one-wins
//!   would let `{"vip": true, "vip": false}` change an answer silently.
//!   (Derived structs already refuse a repeated field.)
//!
//! Both apply whatever the input is — a [`serde_json::Value`] or bytes —
//! so the fast path (bytes straight into the request types) accepts
//! exactly what the general path (bytes → value → request) accepts.

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value as Json;

/// A `T` that must come from a JSON object.
pub struct Obj<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(MapOnly(d)).map(Obj)
    }
}

/// `deserialize_with` for a required struct field.
pub fn obj<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Obj::<T>::deserialize(d).map(|Obj(t)| t)
}

/// `deserialize_with` for an optional struct field.
pub fn opt_obj<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<Obj<T>>::deserialize(d).map(|o| o.map(|Obj(t)| t))
}

/// `deserialize_with` for an optional list of structs.
pub fn opt_vec_obj<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Vec<T>>, D::Error> {
    Option::<Vec<Obj<T>>>::deserialize(d).map(|o| o.map(|v| v.into_iter().map(|Obj(t)| t).collect()))
}

/// `deserialize_with` for an optional map of any JSON values, refusing a
/// repeated key.
pub fn opt_unique_map<'de, D: Deserializer<'de>>(d: D) -> Result<Option<serde_json::Map<String, Json>>, D::Error> {
    Option::<UniqueMap>::deserialize(d).map(|o| o.map(|UniqueMap(m)| m))
}

struct UniqueMap(serde_json::Map<String, Json>);

impl<'de> Deserialize<'de> for UniqueMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UniqueMap;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueMap, A::Error> {
                let mut out = serde_json::Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    if out.contains_key(&key) {
                        let shown: String = key.chars().take(100).collect();
                        return Err(de::Error::custom(format_args!("duplicate key `{shown}`; each key may appear once")));
                    }
                    let value = map.next_value()?;
                    out.insert(key, value);
                }
                Ok(UniqueMap(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// A deserializer that reads structs as maps only. Used for one value
/// (its fields have their own `deserialize_with`), so it only forwards.
struct MapOnly<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for MapOnly<D> {
    type Error = D::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        a: u32,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        #[serde(deserialize_with = "obj")]
        one: Inner,
        #[serde(default, deserialize_with = "opt_obj")]
        maybe: Option<Inner>,
        #[serde(default, deserialize_with = "opt_vec_obj")]
        many: Option<Vec<Inner>>,
        #[serde(default, deserialize_with = "opt_unique_map")]
        map: Option<serde_json::Map<String, Json>>,
    }

    fn both(text: &str) -> (Result<Outer, String>, Result<Outer, String>) {
        let from_bytes = serde_json::from_str::<Obj<Outer>>(text).map(|Obj(o)| o).map_err(|e| e.to_string());
        let from_value = serde_json::from_str::<Json>(text)
            .map_err(|e| e.to_string())
            .and_then(|v| Obj::<Outer>::deserialize(&v).map(|Obj(o)| o).map_err(|e| e.to_string()));
        (from_bytes, from_value)
    }

    #[test]
    fn objects_are_read() {
        for text in [r#"{"one": {"a": 1}}"#, r#"{"one": {"a": 1}, "maybe": null, "many": [{"a": 2}], "map": {"x": [1]}}"#] {
            let (b, v) = both(text);
            assert!(b.is_ok(), "{text}: {b:?}");
            assert_eq!(b, v, "{text}");
        }
    }

    #[test]
    fn arrays_are_not_structs_anywhere() {
        for text in [r#"[{"a": 1}]"#, r#"{"one": [1]}"#, r#"{"one": {"a": 1}, "maybe": [1]}"#, r#"{"one": {"a": 1}, "many": [[1]]}"#] {
            let (b, v) = both(text);
            assert!(b.as_ref().is_err_and(|e| e.contains("invalid type: sequence")), "{text}: {b:?}");
            assert!(v.as_ref().is_err_and(|e| e.contains("invalid type: sequence")), "{text}: {v:?}");
        }
    }

    #[test]
    fn repeated_keys_are_refused() {
        for text in [r#"{"one": {"a": 1, "a": 2}}"#, r#"{"one": {"a": 1}, "map": {"k": 1, "k": 2}}"#] {
            let (b, _) = both(text);
            assert!(b.as_ref().is_err_and(|e| e.contains("duplicate")), "{text}: {b:?}");
        }
    }
}
