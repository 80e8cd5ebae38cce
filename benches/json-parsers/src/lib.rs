//! The three decoders measured by `benches/parsers.rs`, each into the
//! service's own strict request types, and the bodies they read.
//!
//! - `serde_json`: exactly what the service runs — `CanSendRequest::from_slice`
//!   for `POST /v1/can-send`, `decode_fast::<FastBatch>` for the batch.
//! - `sonic_rs::from_slice` into the same `strict::Obj<…>` types.
//! - `simd_json::serde::from_slice` into the same types, from a mutable
//!   copy of the body (the service holds the body as immutable `Bytes`, so
//!   it would have to copy it too; the copy is part of each call).

use cansend::request::CanSendRequest;
use cansend::request::strict::Obj;
use serde::Deserialize;

/// `scripts/load/single.json`: one can-send body as the load tests send it.
pub const SINGLE: &[u8] = include_bytes!("../../../scripts/load/single.json");
/// `scripts/load/batch100.json`: a batch body of 100 such requests.
pub const BATCH100: &[u8] = include_bytes!("../../../scripts/load/batch100.json");

/// The batch body, declared as `src/service/api/decide.rs` declares its
/// (private) `FastBatch`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FastBatch {
    /// The batch items, each required to be a JSON object.
    pub requests: Vec<Obj<CanSendRequest>>,
}

impl FastBatch {
    /// The requests, unwrapped.
    pub fn into_requests(self) -> Vec<CanSendRequest> {
        self.requests.into_iter().map(|Obj(r)| r).collect()
    }
}

/// serde_json, the service's path for one request (fast path, and on
/// failure the general path that says what is wrong).
pub fn serde_single(bytes: &[u8]) -> Result<CanSendRequest, String> {
    CanSendRequest::from_slice(bytes).map_err(|e| e.to_string())
}

/// serde_json, the service's fast path for a batch.
pub fn serde_batch(bytes: &[u8]) -> Option<Vec<CanSendRequest>> {
    cansend::request::json::decode_fast::<FastBatch>(bytes).map(FastBatch::into_requests)
}

/// sonic-rs into the strict request type.
pub fn sonic_single(bytes: &[u8]) -> Result<CanSendRequest, String> {
    sonic_rs::from_slice::<Obj<CanSendRequest>>(bytes).map(|Obj(r)| r).map_err(|e| e.to_string())
}

/// sonic-rs into the strict batch type.
pub fn sonic_batch(bytes: &[u8]) -> Result<Vec<CanSendRequest>, String> {
    sonic_rs::from_slice::<Obj<FastBatch>>(bytes).map(|Obj(b)| b.into_requests()).map_err(|e| e.to_string())
}

/// simd-json into the strict request type, from a copy of the body.
pub fn simd_single(bytes: &[u8]) -> Result<CanSendRequest, String> {
    let mut copy = bytes.to_vec();
    simd_json::serde::from_slice::<Obj<CanSendRequest>>(&mut copy).map(|Obj(r)| r).map_err(|e| e.to_string())
}

/// simd-json into the strict batch type, from a copy of the body.
pub fn simd_batch(bytes: &[u8]) -> Result<Vec<CanSendRequest>, String> {
    let mut copy = bytes.to_vec();
    simd_json::serde::from_slice::<Obj<FastBatch>>(&mut copy).map(|Obj(b)| b.into_requests()).map_err(|e| e.to_string())
}

/// A body each decoder is asked to refuse or accept, and what the service
/// (serde_json) does with it.
pub struct Case {
    /// What is special about it.
    pub what: &'static str,
    /// The body.
    pub body: Vec<u8>,
}

fn req(sender: &str, client: &str, message: &str, extra: &str) -> Vec<u8> {
    format!(r#"{{"sender": {sender}, "client": {client}, "channel": "email", "message": {message}{extra}}}"#).into_bytes()
}

/// Bodies on the edge of strictness: each is refused by the service's
/// decoding, except the last few, which show what the service accepts.
pub fn cases() -> Vec<Case> {
    let sender = r#"{"role": "agent"}"#;
    let client = r#"{"status": "new"}"#;
    let message = r#"{"text": "Hello"}"#;
    let c = |what, body| Case { what, body };
    let nested = |depth: usize| {
        let inner = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        req(sender, &format!(r#"{{"status": "new", "attributes": {{"deep": {inner}}}}}"#), message, "")
    };
    vec![
        c("duplicate key in a struct (`role` twice)", req(r#"{"role": "agent", "role": "supervisor"}"#, client, message, "")),
        c("duplicate top-level field (`channel` twice)", req(sender, client, message, r#", "channel": "sms""#)),
        c("duplicate key in free-form `attributes`", req(sender, r#"{"status": "new", "attributes": {"vip": true, "vip": false}}"#, message, "")),
        c("unknown field at top level (`extra`)", req(sender, client, message, r#", "extra": 1"#)),
        c("unknown field in a struct (`client.blockd`)", req(sender, r#"{"status": "new", "blockd": true}"#, message, "")),
        c("array where a struct is expected (`sender: [\"agent\"]`)", req(r#"["agent"]"#, client, message, "")),
        c("the whole body an array", br#"[{"role": "agent"}, {"status": "new"}, "email", {}]"#.to_vec()),
        c("trailing characters after the object", [req(sender, client, message, ""), b" x".to_vec()].concat()),
        c("negative attachment size", req(sender, client, r#"{"attachments": [{"name": "a.pdf", "size": -1}]}"#, "")),
        c("float attachment size (`1.0`)", req(sender, client, r#"{"attachments": [{"name": "a.pdf", "size": 1.0}]}"#, "")),
        c("size over u64 (`18446744073709551616`)", req(sender, client, r#"{"attachments": [{"name": "a.pdf", "size": 18446744073709551616}]}"#, "")),
        c("invalid UTF-8 in a string (bytes FF FE)", bad_utf8(req(sender, client, r#"{"text": "@@"}"#, ""))),
        c("lone surrogate escape (`\\ud800`)", req(sender, client, r#"{"text": "\ud800"}"#, "")),
        c("raw control character (U+0001) in a string", req(sender, client, "{\"text\": \"a\u{1}b\"}", "")),
        c("`NaN` as a value", req(sender, r#"{"status": "new", "attributes": {"x": NaN}}"#, message, "")),
        c("trailing comma in an object", req(sender, r#"{"status": "new",}"#, message, "")),
        c("attributes nested 200 deep", nested(200)),
        c("attributes nested 300 deep", nested(300)),
        c("attributes nested 2000 deep", nested(2000)),
        c("(accepted) attributes nested 100 deep", nested(100)),
        c("(accepted) minimal valid body", req(sender, client, message, "")),
    ]
}

/// The body with its `@@` replaced by the bytes FF FE (not UTF-8).
fn bad_utf8(mut body: Vec<u8>) -> Vec<u8> {
    if let Some(at) = body.windows(2).position(|w| w == b"@@") {
        body[at] = 0xff;
        body[at + 1] = 0xfe;
    }
    body
}

/// What a decoder does with a body: `Ok` with the request's Debug text, or
/// the error message.
pub type Outcome = Result<String, String>;

/// Each typed decoder on one body.
pub fn outcomes(body: &[u8]) -> [(&'static str, Outcome); 3] {
    DECODERS.map(|name| (name, outcome(name, body)))
}

/// The typed decoders, by name.
pub const DECODERS: [&str; 3] = ["serde_json", "sonic-rs", "simd-json"];

/// One typed decoder (by its name in [`DECODERS`]) on one body.
pub fn outcome(name: &str, body: &[u8]) -> Outcome {
    let r = match name {
        "serde_json" => serde_single(body),
        "sonic-rs" => sonic_single(body),
        "simd-json" => simd_single(body),
        other => Err(format!("no decoder {other}")),
    };
    r.map(|r| format!("{r:?}"))
}
