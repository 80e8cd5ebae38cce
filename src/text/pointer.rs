//! JSON pointers (RFC 6901): every problem in a request body or a rule
//! file is reported against one, and located (file:line:col) or shown
//! (`/message/attachments/0/size`) from it.

/// Escape one JSON-pointer segment (RFC 6901).
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// `base` + `/segment`.
pub fn join(base: &str, segment: impl std::fmt::Display) -> String {
    format!("{base}/{}", escape(&segment.to_string()))
}

/// The last segment of a pointer, unescaped.
pub fn last_segment(pointer: &str) -> String {
    pointer.rsplit('/').next().unwrap_or_default().replace("~1", "/").replace("~0", "~")
}

/// `serde_path_to_error` path → JSON pointer.
pub fn from_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut p = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => p.push_str(&join("", index)),
            Segment::Map { key } => p.push_str(&join("", key)),
            Segment::Enum { variant } => p.push_str(&join("", variant)),
            Segment::Unknown => {}
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_segments() {
        assert_eq!(join("/a", "b/c~d"), "/a/b~1c~0d");
        assert_eq!(last_segment("/a/b~1c~0d"), "b/c~d");
    }
}
