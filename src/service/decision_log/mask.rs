//! Which parts of a logged request body are personal data, and hiding them.
//!
//! A mask is a list of JSON pointers (RFC 6901: `/client/email`, with `~1`
//! for `/` and `~0` for `~` inside a name) in which a segment that is
//! exactly `*` matches every element of an array or every member of an
//! object: `/message/attachments/*/name` is the name of every attachment.
//! Each value found is replaced by `"***"`; a pointer that finds nothing
//! (the field is absent) does nothing, and a `null` stays `null` (there was
//! nothing to hide, and `"***"` would say there was). A key literally named
//! `*` cannot be masked alone: `*` always means "every".

use serde_json::Value;

/// What a masked value becomes.
pub const MASKED: &str = "***";

/// The default mask: the client's identifiers, every text a person wrote,
/// and attachment names (a file name often carries a person's name).
pub const DEFAULT_MASK: &str = "/client/email,/client/phone,/client/external_id,/message/text,/message/template/header,/message/template/footer,/message/attachments/*/name";

/// One segment of a masking pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// A member name or an array index.
    Key(String),
    /// Every member or element.
    Any,
}

/// A parsed masking pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointer {
    text: String,
    segments: Vec<Segment>,
}

impl Pointer {
    /// The pointer as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// A list of pointers; empty masks nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mask(Vec<Pointer>);

impl Mask {
    /// The pointers, in order.
    pub fn pointers(&self) -> &[Pointer] {
        &self.0
    }

    /// Replace every value the pointers find in `body` by [`MASKED`].
    pub fn apply(&self, body: &mut Value) {
        for p in &self.0 {
            mask_at(body, &p.segments);
        }
    }
}

fn mask_at(v: &mut Value, path: &[Segment]) {
    let Some((first, rest)) = path.split_first() else {
        if !v.is_null() {
            *v = Value::String(MASKED.to_owned());
        }
        return;
    };
    match (first, v) {
        (Segment::Any, Value::Array(items)) => items.iter_mut().for_each(|item| mask_at(item, rest)),
        (Segment::Any, Value::Object(members)) => members.values_mut().for_each(|m| mask_at(m, rest)),
        (Segment::Key(k), Value::Object(members)) => {
            if let Some(m) = members.get_mut(k) {
                mask_at(m, rest);
            }
        }
        (Segment::Key(k), Value::Array(items)) => {
            if let Some(item) = k.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                mask_at(item, rest);
            }
        }
        _ => {}
    }
}

/// Parse `--decision-log-mask`: pointers separated by commas (blanks around
/// them ignored); the empty string masks nothing.
pub fn parse_mask(s: &str) -> Result<Mask, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        out.push(parse_pointer(part)?);
    }
    Ok(Mask(out))
}

fn parse_pointer(p: &str) -> Result<Pointer, String> {
    let Some(rest) = p.strip_prefix('/') else {
        return Err(format!("`{p}` is not a JSON pointer: it must start with `/` (e.g. `/client/email`)"));
    };
    let mut segments = Vec::new();
    for raw in rest.split('/') {
        if raw == "*" {
            segments.push(Segment::Any);
            continue;
        }
        let mut key = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '~' {
                key.push(c);
                continue;
            }
            match chars.next() {
                Some('0') => key.push('~'),
                Some('1') => key.push('/'),
                _ => return Err(format!("`{p}`: `~` must be followed by 0 (for `~`) or 1 (for `/`)")),
            }
        }
        segments.push(Segment::Key(key));
    }
    Ok(Pointer { text: p.to_owned(), segments })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_default_mask_hides_identifiers_texts_and_file_names() {
        let mask = parse_mask(DEFAULT_MASK).unwrap();
        let mut body = json!({
            "tenant": "default",
            "client": { "status": "existing", "email": "anna@example.com", "phone": "+79990001122", "external_id": null, "channels": ["email"] },
            "channel": "email",
            "message": {
                "text": "Dear Anna",
                "template": { "name": "order_ready", "header": "Hi Anna" },
                "attachments": [{ "name": "anna-passport.pdf", "size": 10 }, { "name": "b.png", "size": 2 }]
            }
        });
        mask.apply(&mut body);
        assert_eq!(
            body,
            json!({
                "tenant": "default",
                "client": { "status": "existing", "email": "***", "phone": "***", "external_id": null, "channels": ["email"] },
                "channel": "email",
                "message": {
                    "text": "***",
                    "template": { "name": "order_ready", "header": "***" },
                    "attachments": [{ "name": "***", "size": 10 }, { "name": "***", "size": 2 }]
                }
            })
        );
    }

    #[test]
    fn wildcards_over_members_indices_and_escapes() {
        let mask = parse_mask(" /client/attributes/* , /a~1b/~0c, /list/1 ").unwrap();
        assert_eq!(mask.pointers().iter().map(Pointer::as_str).collect::<Vec<_>>(), ["/client/attributes/*", "/a~1b/~0c", "/list/1"]);
        let mut body = json!({
            "client": { "attributes": { "vip": true, "segment": "gold" } },
            "a/b": { "~c": 1, "c": 2 },
            "list": [1, 2, 3]
        });
        mask.apply(&mut body);
        assert_eq!(
            body,
            json!({ "client": { "attributes": { "vip": "***", "segment": "***" } }, "a/b": { "~c": "***", "c": 2 }, "list": [1, "***", 3] })
        );
    }

    #[test]
    fn absent_fields_and_wrong_shapes_are_left_alone() {
        let mask = parse_mask("/client/email,/message/attachments/*/name,/message/text/deeper").unwrap();
        let mut body = json!({ "client": "not an object", "message": { "attachments": "nope", "text": "hi" } });
        let before = body.clone();
        mask.apply(&mut body);
        assert_eq!(body, before);
    }

    #[test]
    fn bad_pointers_are_refused() {
        assert!(parse_mask("client/email").is_err_and(|e| e.contains("must start with `/`")));
        assert!(parse_mask("/a~2").is_err_and(|e| e.contains("`~` must be followed")));
        assert_eq!(parse_mask(""), Ok(Mask::default()));
        assert_eq!(parse_mask(" , "), Ok(Mask::default()));
    }
}
