//! Where each node of a parsed file came from.
//!
//! YAML and TOML are both read into one JSON tree ([`serde_json::Value`]) so
//! the schema check and the compiler see one shape. That tree has no
//! positions, so beside it each parser fills a [`Locator`]: JSON pointer →
//! line:column. Every later diagnostic (schema error, unknown field path,
//! duplicate id) is raised against a pointer and located through it; a
//! pointer the locator lacks falls back to its nearest located ancestor.

use std::collections::HashMap;

use super::diag::Pos;

/// A key set twice in one mapping (YAML) or table (TOML). The front ends
/// keep the first value and report every repeat, so the rest of the file
/// is still checked and the diagnostic can name the rule it is in; the
/// load fails either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatedKey {
    /// The key as written (unquoted).
    pub key: String,
    /// Pointer of the key's entry, to name the rule or tenant it is in.
    /// Exact for YAML; for TOML, the nearest entry that precedes it.
    pub pointer: String,
    /// Where the repeat is.
    pub pos: Pos,
    /// Where the key is first set, when known.
    pub first: Option<Pos>,
}

impl RepeatedKey {
    pub fn message(&self) -> String {
        format!("duplicate key `{}`", self.key)
    }

    pub fn hint(&self) -> String {
        let first = self.first.map(|p| format!("`{}` is first set at line {}; ", self.key, p.line)).unwrap_or_default();
        format!("{first}a key may be set once in a mapping (the first value is the one checked): remove one of the two, or merge them")
    }
}

#[derive(Debug, Default, Clone)]
pub struct Locator {
    /// pointer → (position of the key, position of the value)
    map: HashMap<String, Pos>,
}

impl Locator {
    pub fn insert(&mut self, pointer: &str, pos: Pos) {
        self.map.entry(pointer.to_owned()).or_insert(pos);
    }

    pub fn contains(&self, pointer: &str) -> bool {
        self.map.contains_key(pointer)
    }

    /// The located pointer that starts last before `pos`, if any.
    pub fn last_before(&self, pos: Pos) -> Option<&str> {
        self.map.iter().filter(|(_, p)| **p < pos).max_by_key(|(k, p)| (**p, k.len())).map(|(k, _)| k.as_str())
    }

    /// The position of `pointer`, or of its nearest located ancestor.
    pub fn locate(&self, pointer: &str) -> Pos {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.map.get(p) {
                return *pos;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return Pos::new(1, 1),
            }
        }
    }
}

/// Escape one JSON-pointer segment (RFC 6901).
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// `base` + `/segment`.
pub fn join(base: &str, segment: impl std::fmt::Display) -> String {
    format!("{base}/{}", escape(&segment.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn falls_back_to_ancestor() {
        let mut l = Locator::default();
        l.insert("/rules/0", Pos::new(4, 3));
        assert_eq!(l.locate("/rules/0/when/x"), Pos::new(4, 3));
        assert_eq!(l.locate("/other"), Pos::new(1, 1));
    }

    #[test]
    fn escapes_segments() {
        assert_eq!(join("/a", "b/c~d"), "/a/b~1c~0d");
    }
}
