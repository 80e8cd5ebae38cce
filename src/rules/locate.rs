//! Where each node of a parsed file came from.
//!
//! YAML and TOML are both read into one JSON tree ([`serde_json::Value`]) so
//! the schema check and the compiler see one shape. That tree has no
//! positions, so beside it each parser fills a [`Locator`]: JSON pointer →
//! line:column. Every later diagnostic (schema error, unknown field path,
//! duplicate id) is raised against a pointer and located through it; a
//! pointer the locator lacks falls back to its nearest located ancestor.
//!
//! Each entry has two positions: where it starts (a mapping entry at its
//! key) and where its value starts. An error about a name — an unknown
//! field, setting or channel — points at the key; an error about a value —
//! a bad unit, a number out of range, an unknown code — points at the value:
//! `max_file_size = { value = "500 MB" }` is wrong at `"500 MB"`.

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
    /// pointer → position of the entry (a mapping entry: its key)
    map: HashMap<String, Pos>,
    /// pointer → position of its value, where that differs
    values: HashMap<String, Pos>,
}

impl Locator {
    /// Record where `pointer`'s entry and its value start. The first
    /// record of a pointer stands (a repeated key's is the first value's).
    pub fn insert(&mut self, pointer: &str, at: Pos, value: Pos) {
        if self.map.contains_key(pointer) {
            return;
        }
        self.map.insert(pointer.to_owned(), at);
        if value != at {
            self.values.insert(pointer.to_owned(), value);
        }
    }

    pub fn contains(&self, pointer: &str) -> bool {
        self.map.contains_key(pointer)
    }

    /// The located pointer that starts last before `pos`, if any.
    pub fn last_before(&self, pos: Pos) -> Option<&str> {
        self.map.iter().filter(|(_, p)| **p < pos).max_by_key(|(k, p)| (**p, k.len())).map(|(k, _)| k.as_str())
    }

    /// Where the value of `pointer` starts; for a pointer the locator
    /// lacks, its nearest located ancestor's entry.
    pub fn locate_value(&self, pointer: &str) -> Pos {
        match self.values.get(pointer) {
            Some(pos) => *pos,
            None => self.locate(pointer),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn falls_back_to_ancestor() {
        let mut l = Locator::default();
        l.insert("/rules/0", Pos::new(4, 3), Pos::new(4, 3));
        assert_eq!(l.locate("/rules/0/when/x"), Pos::new(4, 3));
        assert_eq!(l.locate_value("/rules/0/when/x"), Pos::new(4, 3));
        assert_eq!(l.locate("/other"), Pos::new(1, 1));
    }

    #[test]
    fn keys_and_values_apart() {
        let mut l = Locator::default();
        l.insert("/deny", Pos::new(2, 5), Pos::new(2, 11));
        l.insert("/deny", Pos::new(9, 5), Pos::new(9, 11));
        assert_eq!((l.locate("/deny"), l.locate_value("/deny")), (Pos::new(2, 5), Pos::new(2, 11)));
    }
}
