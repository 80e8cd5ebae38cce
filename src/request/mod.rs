//! What callers send: a can-send request, decoded strictly.
//!
//! Two steps, both collecting JSON pointers for every problem:
//! 1. decoding ([`CanSendRequest::from_slice`], [`CanSendRequest::from_json`]):
//!    JSON → [`CanSendRequest`]. Shape only: unknown fields, wrong types,
//!    negative sizes, missing required fields, repeated keys.
//! 2. binding (`bind`, called by [`crate::Engine`]): names resolved against
//!    the rule set that will evaluate the request, defaults filled, limits
//!    enforced, derived facts computed.

mod bind;
pub mod json;
pub mod options;
pub mod shape;
pub mod strict;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

pub(crate) use bind::{bind, parse};

/// Longest free text (`message.text`, template header/footer), in bytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Longest other string (names, ids, tags, identifiers), in bytes.
pub const MAX_STRING_BYTES: usize = 1024;
/// Most items in a list (`client.channels`, `thread.tags`, `message.attachments`).
pub const MAX_LIST_ITEMS: usize = 100;
/// Most custom attributes in one object.
pub const MAX_ATTRIBUTES: usize = 64;

/// One problem in a request: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON pointer (RFC 6901) into the request body.
    pub pointer: String,
    /// What is wrong there.
    pub message: String,
}

/// Why a request was not decided.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The body is not JSON (the API's 400).
    #[error("{0}")]
    Malformed(String),
    /// The body is JSON but not a valid request for these rules: every
    /// problem, each with its pointer (the API's 422).
    #[error("{}", describe(.0))]
    Invalid(Vec<FieldError>),
    /// The rules cannot answer this kind of request at all (the API's 503).
    #[error("{0}")]
    Unanswerable(String),
}

fn describe(errors: &[FieldError]) -> String {
    errors.iter().map(|e| format!("{}: {}", if e.pointer.is_empty() { "/" } else { &e.pointer }, e.message)).collect::<Vec<_>>().join("; ")
}

impl RequestError {
    /// The HTTP status the API answers this error with.
    pub fn status(&self) -> u16 {
        match self {
            RequestError::Malformed(_) => 400,
            RequestError::Invalid(_) => 422,
            RequestError::Unanswerable(_) => 503,
        }
    }

    /// The field errors (empty unless [`RequestError::Invalid`]).
    pub fn errors(&self) -> &[FieldError] {
        match self {
            RequestError::Invalid(e) => e,
            _ => &[],
        }
    }
}

impl From<Vec<FieldError>> for RequestError {
    fn from(errors: Vec<FieldError>) -> Self {
        RequestError::Invalid(errors)
    }
}

impl CanSendRequest {
    /// Decode a request from a JSON value: strictly (an unknown field, a
    /// wrong type, a negative size is an error, each with its pointer).
    pub fn from_json(v: &Json) -> Result<Self, RequestError> {
        json::expect_object(v)?;
        Ok(decode(v)?)
    }

    /// Decode a request from JSON bytes: as [`CanSendRequest::from_json`],
    /// and malformed JSON or a repeated key is an error too. A valid body
    /// is decoded straight into the request, without a JSON tree.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, RequestError> {
        let fast = if bytes.len() <= json::FAST_PATH_BYTES { json::decode_fast::<CanSendRequest>(bytes) } else { None };
        match fast {
            Some(r) => Ok(r),
            None => Self::from_json(&json::parse(bytes)?),
        }
    }
}

impl FieldError {
    fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self { pointer: pointer.into(), message: message.into() }
    }
}

/// `POST /v1/can-send` body.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CanSendRequest {
    /// Tenant (installation); default from the rules (`default`).
    #[serde(default)]
    pub tenant: Option<String>,
    /// Who sends.
    #[serde(deserialize_with = "strict::obj")]
    pub sender: Sender,
    /// What the sender does; default from the rules (`send`).
    #[serde(default)]
    pub action: Option<String>,
    /// The instant of sending (RFC 3339); default: the server's now.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<String>,
    /// To whom.
    #[serde(deserialize_with = "strict::obj")]
    pub client: Client,
    /// The channel to send over; must be known to the rules.
    pub channel: String,
    /// The thread the message goes to.
    #[serde(default, deserialize_with = "strict::opt_obj")]
    pub thread: Option<Thread>,
    /// What is sent.
    #[serde(deserialize_with = "strict::obj")]
    pub message: Message,
}

/// Who sends: an agent or a supervisor (a role declared in the rules).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Sender {
    /// A role declared in the rules' catalog (`agent`, `supervisor`).
    pub role: String,
    /// The sender's id.
    #[serde(default)]
    pub id: Option<String>,
    /// The sender's status (`READY`, `OUTGOING`, …).
    #[serde(default)]
    pub status: Option<String>,
    /// Custom attributes declared in the rules' catalog.
    #[serde(default, deserialize_with = "strict::opt_unique_map")]
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Map<String, Json>>,
}

/// The client the message goes to.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// A client status declared in the rules (`existing` or `new`).
    pub status: String,
    /// Blocked at the moment of sending (default false).
    #[serde(default)]
    pub blocked: Option<bool>,
    /// Has an active thread (default false).
    #[serde(default)]
    pub active_thread: Option<bool>,
    /// Channels the client has written from; unknown names are ignored.
    #[serde(default)]
    pub channels: Option<Vec<String>>,
    /// The email of the client's profile.
    #[serde(default)]
    pub email: Option<String>,
    /// The client's phone (WhatsApp, Viber).
    #[serde(default)]
    pub phone: Option<String>,
    /// The client's id in web chat or the mobile app.
    #[serde(default)]
    pub external_id: Option<String>,
    /// The client's last inbound message (RFC 3339).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_inbound_at: Option<String>,
    /// Custom attributes declared in the rules' catalog.
    #[serde(default, deserialize_with = "strict::opt_unique_map")]
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Map<String, Json>>,
}

/// The thread the message goes to.
#[derive(Debug, Clone, Deserialize, Serialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Thread {
    /// The thread's tags (free-form; only the tenant's available tags count).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

/// What is sent: text, a template, attachments.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// The text (empty or only white space counts as none).
    #[serde(default)]
    pub text: Option<String>,
    /// A pre-approved template (WhatsApp, Viber).
    #[serde(default, deserialize_with = "strict::opt_obj")]
    pub template: Option<TemplateIn>,
    /// The attachments, by name and size.
    #[serde(default, deserialize_with = "strict::opt_vec_obj")]
    pub attachments: Option<Vec<AttachmentIn>>,
}

/// A template: its name, an optional header and footer.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateIn {
    /// The template's name (non-empty).
    #[schema(min_length = 1)]
    pub name: String,
    /// An optional text header.
    #[serde(default)]
    pub header: Option<String>,
    /// An optional text footer (caption).
    #[serde(default)]
    pub footer: Option<String>,
}

/// An attachment: its file name and size.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentIn {
    /// The file name (its extension is its format).
    pub name: String,
    /// Bytes, an integer ≥ 0.
    pub size: u64,
}

/// Decode a JSON value into a request, or say where its shape is wrong —
/// every place (see [`shape`]).
pub(crate) fn decode(v: &Json) -> Result<CanSendRequest, Vec<FieldError>> {
    decode_all(v)
}

/// Decode a strict body type; on failure, serde's error first, then every
/// other problem the type's JSON Schema finds, one per pointer.
pub(crate) fn decode_all<T: serde::de::DeserializeOwned + utoipa::ToSchema>(v: &Json) -> Result<T, Vec<FieldError>> {
    decode_as(v).map_err(|mut errs| {
        let mut seen: std::collections::HashSet<String> = errs.iter().map(|e| e.pointer.clone()).collect();
        for e in shape::errors::<T>(v) {
            if errs.len() >= shape::MAX_ERRORS {
                break;
            }
            if seen.insert(e.pointer.clone()) {
                errs.push(e);
            }
        }
        errs
    })
}

/// Decode any strict body type, with a pointer on failure.
pub(crate) fn decode_as<T: serde::de::DeserializeOwned>(v: &Json) -> Result<T, Vec<FieldError>> {
    serde_path_to_error::deserialize::<_, strict::Obj<T>>(v).map(|strict::Obj(t)| t).map_err(|e| {
        let mut pointer = crate::text::pointer::from_path(e.path());
        let message = e.inner().to_string();
        // serde names the missing or unknown field in the message and points
        // at its parent; point at the field itself.
        for prefix in ["missing field `", "unknown field `"] {
            if let Some(rest) = message.strip_prefix(prefix)
                && let Some(end) = rest.find('`')
            {
                let field = crate::text::pointer::join("", &rest[..end]);
                if !pointer.ends_with(&field) {
                    pointer.push_str(&field);
                }
            }
        }
        vec![FieldError::new(pointer, worded(&message))]
    })
}

/// serde's "unknown field `blockd`, expected one of `status`, `blocked`, …"
/// in an admin's words: the closest known field when there is one
/// ("did you mean `blocked`?"), else the list.
fn worded(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else { return message.to_owned() };
    let Some((field, known)) = rest.split_once("`, expected ") else { return message.to_owned() };
    let known = known.strip_prefix("one of ").unwrap_or(known);
    let candidates: Vec<&str> = known.split(", ").map(|c| c.trim_matches('`')).filter(|c| !c.is_empty()).collect();
    match crate::text::hint::did_you_mean(field, candidates.iter().copied()) {
        Some(hint) => format!("unknown field `{field}`; {hint}"),
        None => format!("unknown field `{field}`; expected {}", crate::text::hint::one_of(candidates.iter().copied())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_field_points_at_it() {
        let errs =
            decode(&json!({"sender": {"role": "agent"}, "client": {"status": "new", "blockd": true}, "channel": "x", "message": {}}))
                .unwrap_err();
        assert_eq!(errs[0].pointer, "/client/blockd");
    }

    #[test]
    fn an_unknown_field_says_which_was_meant() {
        let errs =
            decode(&json!({"sender": {"role": "agent"}, "client": {"status": "new", "blockd": true}, "channel": "x", "message": {}}))
                .unwrap_err();
        assert_eq!(errs[0].message, "unknown field `blockd`; did you mean `blocked`?");
        let errs = decode(&json!({"sender": {"role": "agent"}, "client": {"status": "new"}, "channel": "x", "message": {}, "zzz": 1}))
            .unwrap_err();
        assert!(errs[0].message.starts_with("unknown field `zzz`; expected one of `tenant`, `sender`"), "{}", errs[0].message);
    }

    #[test]
    fn missing_field_points_at_it() {
        let errs = decode(&json!({"sender": {}, "client": {"status": "new"}, "channel": "x", "message": {}})).unwrap_err();
        assert_eq!(errs[0].pointer, "/sender/role");
    }

    #[test]
    fn a_template_without_a_name_is_refused() {
        let engine = crate::Engine::builtin().expect("builtin");
        let rs = engine.rules();
        for name in ["", "  "] {
            let body = json!({"sender": {"role": "agent"}, "client": {"status": "existing", "channels": ["email"]}, "channel": "email",
                              "message": {"text": "hi", "template": {"name": name}}});
            let errs = parse(rs, &body, 0).unwrap_err();
            assert_eq!(errs[0].pointer, "/message/template/name", "{name:?}");
        }
    }

    #[test]
    fn negative_size_points_at_it() {
        let errs = decode(&json!({"sender": {"role": "a"}, "client": {"status": "new"}, "channel": "x", "message": {"attachments": [{"name": "a", "size": -1}]}}))
            .unwrap_err();
        assert_eq!(errs[0].pointer, "/message/attachments/0/size");
    }
}
