//! # cansend
//!
//! A rules engine for one question: *may this sender send this message to
//! this client over this channel, now?* Everything that decides the answer
//! lives in declarative rule files (YAML or TOML); this crate loads them,
//! checks them and evaluates requests against them — as a library, or as
//! the `cansend` service and command line built on it.
//!
//! An [`Engine`] holds one compiled revision of a rule set. Load it, decode
//! a [`Request`], decide:
//!
//! ```
//! use cansend::{Engine, Request};
//!
//! // The default rules built into the binary; `Engine::from_dir("rules")`
//! // reads a directory.
//! let engine = Engine::builtin()?;
//! let request = Request::from_slice(br#"{
//!     "sender": { "role": "agent" },
//!     "client": { "status": "existing", "blocked": true, "channels": ["whatsapp"] },
//!     "channel": "whatsapp",
//!     "message": { "text": "Hello" }
//! }"#)?;
//! let answer = engine.decide(&request, cansend::now_ms())?;
//! assert!(!answer.allowed);
//! assert_eq!(answer.violations[0].code, "client_blocked");
//! // The answer serializes exactly as `POST /v1/can-send` answers.
//! assert_eq!(serde_json::to_value(&answer)?["violations"][0]["rule"], "client-not-blocked");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What a caller sees when the files or the request are wrong, and an
//! explanation:
//!
//! ```
//! use cansend::{Engine, Request, RequestError};
//!
//! let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
//! let engine = match Engine::from_dir(&dir) {
//!     Ok(engine) => engine,
//!     Err(e) => {
//!         // Every problem, located: `eligibility.yaml:11:11: error: …`
//!         for d in &e.diagnostics {
//!             eprintln!("{}", d.in_dir(Some(&dir)));
//!         }
//!         return Err(e.into());
//!     }
//! };
//!
//! // Decoding is strict: a typo is an error with a JSON pointer …
//! let typo = serde_json::json!({
//!     "sender": { "role": "agent" },
//!     "client": { "status": "existing", "blockd": true },
//!     "channel": "whatsapp",
//!     "message": { "text": "Hello" }
//! });
//! let Err(RequestError::Invalid(errors)) = Request::from_json(&typo) else { panic!("a typo is refused") };
//! assert_eq!(errors[0].pointer, "/client/blockd");
//!
//! // … and so is a name the rules do not know.
//! let unknown = Request::from_json(&serde_json::json!({
//!     "tenant": "nosuch",
//!     "sender": { "role": "agent" },
//!     "client": { "status": "existing" },
//!     "channel": "whatsapp",
//!     "message": { "text": "Hello" }
//! }))?;
//! assert_eq!(engine.decide(&unknown, 0).unwrap_err().errors()[0].pointer, "/tenant");
//!
//! // An explanation: every rule evaluated, each condition with its values.
//! let request = Request::from_json(&serde_json::json!({
//!     "tenant": "demo-tags",
//!     "sender": { "role": "agent" },
//!     "client": { "status": "existing", "channels": ["whatsapp"] },
//!     "channel": "whatsapp",
//!     "message": { "text": "Hello" }
//! }))?;
//! let answer = engine.explain(&request, cansend::now_ms())?;
//! assert!(!answer.allowed);
//! let tags = answer.trace.iter().flatten().find(|step| step.rule == "tags-required").expect("traced");
//! assert_eq!((tags.result, tags.file), ("fired", "eligibility.yaml"));
//! assert!(tags.checks.iter().any(|c| c.field == "tenant.tags_required" && c.value == "true"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! To take up changed rule files, build a new [`Engine`] and swap it in;
//! [`reload::Live`] does that for a watched directory (all or nothing),
//! and [`service`] serves it over HTTP. `examples/embed.rs` shows a service
//! embedding the engine. The map of the crate is `docs/architecture.md`.

pub mod analysis;
pub mod check;
pub mod cli;
mod engine;
mod facade;
pub mod impact;
pub mod recent;
pub mod reload;
pub mod render;
pub mod request;
mod rules;
pub mod service;
mod text;

pub use facade::{Catalog, Engine, FileInfo, RuleInfo};
pub use render::{Answer, SendOptionsBody, TenantView};
pub use request::options::SendOptionsRequest;
pub use request::{CanSendRequest as Request, FieldError, RequestError};
pub use rules::diag::{Severity, path_in};
pub use rules::{Diagnostic, LoadError, RuleTest, Source, SourceFile};

/// The expectation of a [`RuleTest`], as written.
pub use rules::syntax::Expect;

/// The version of the rule format this build reads (`kind:` files as
/// `docs/rules.md` describes them); `cansend --version` prints it.
pub const RULE_FORMAT: &str = "1";

/// Milliseconds since the Unix epoch, now. The one clock of the library,
/// used by the shell (CLI, server) — never by the engine.
pub fn now_ms() -> i64 {
    // Not chrono's `Utc::now()`: it works out the calendar date, on every request.
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}

/// The default rule files built into the binary (the repository's
/// `rules/` as of the build), paths relative to a rules directory.
pub fn builtin_rules() -> Vec<SourceFile> {
    rules::source::builtin()
}

#[doc(hidden)]
pub use facade::internals;
