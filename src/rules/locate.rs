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

#[derive(Debug, Default, Clone)]
pub struct Locator {
    /// pointer → (position of the key, position of the value)
    map: HashMap<String, Pos>,
}

impl Locator {
    pub fn insert(&mut self, pointer: &str, pos: Pos) {
        self.map.entry(pointer.to_owned()).or_insert(pos);
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
