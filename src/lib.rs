//! # cansend
//!
//! A rules engine for one question: *may this sender send this message to
//! this client over this channel, now?* Everything that decides the answer
//! lives in declarative rule files (YAML or TOML); this crate loads them,
//! checks them and evaluates requests against them.
//!
//! ```text
//! rules dir ─▶ rules::load_dir ─▶ RuleSet (immutable) ─┐
//! JSON body ─▶ request::parse ───▶ Input ──────────────┴▶ engine::evaluate ─▶ Decision
//! ```
//!
//! Embedding the engine without HTTP:
//!
//! ```
//! // The default rules built into the binary (or `cansend::rules::load_dir`).
//! let now = 1_764_000_000_000; // ms since the epoch: the instant of sending
//! let rules = cansend::rules::load_builtin(now).expect("built-in rules load").rules;
//! let body = serde_json::json!({
//!     "sender": { "role": "agent" },
//!     "client": { "status": "existing", "blocked": true, "channels": ["whatsapp"] },
//!     "channel": "whatsapp",
//!     "message": { "text": "Hello" }
//! });
//! let input = cansend::request::parse(&rules, &body, now).expect("a valid request");
//! let decision = cansend::engine::evaluate(&rules, &input, false);
//! let answer = cansend::decision::render(&rules, &input, &decision);
//! assert!(!answer.allowed);
//! assert_eq!(answer.violations[0].code, "client_blocked");
//! ```
//!
//! The same from a rule directory (here the repository's `rules/`), with
//! what a caller sees when the files or the request are wrong:
//!
//! ```
//! use std::path::Path;
//!
//! let now = 1_764_000_000_000;
//! let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
//! let rules = match cansend::rules::load_dir(&dir, now) {
//!     Ok(compiled) => compiled.rules,
//!     Err(e) => {
//!         // Every problem, located: `…/rules/eligibility.yaml:11:11: error: …`
//!         for d in &e.diagnostics {
//!             eprintln!("{}", d.in_dir(Some(&dir)));
//!         }
//!         panic!("the rules did not load");
//!     }
//! };
//!
//! // Decode a request (strictly: a typo is an error with a JSON pointer) …
//! let typo = serde_json::json!({
//!     "sender": { "role": "agent" },
//!     "client": { "status": "existing", "blockd": true },
//!     "channel": "whatsapp",
//!     "message": { "text": "Hello" }
//! });
//! let errors = cansend::request::parse(&rules, &typo, now).unwrap_err();
//! assert_eq!(errors[0].pointer, "/client/blockd");
//!
//! // … and evaluate it.
//! let body = serde_json::json!({
//!     "tenant": "demo-tags",
//!     "sender": { "role": "agent" },
//!     "client": { "status": "existing", "channels": ["whatsapp"] },
//!     "channel": "whatsapp",
//!     "thread": { "tags": ["sales"] },
//!     "message": { "text": "Hello" }
//! });
//! let input = cansend::request::parse(&rules, &body, now).expect("a valid request");
//! let decision = cansend::engine::evaluate(&rules, &input, false);
//! let answer = cansend::decision::render(&rules, &input, &decision);
//! assert!(answer.allowed, "{:?}", answer.violations);
//! ```

pub mod analysis;
pub mod check;
pub mod decision;
pub mod engine;
pub mod impact;
pub mod recent;
pub mod reload;
pub mod request;
pub mod rules;
pub mod service;

/// Milliseconds since the Unix epoch, now. The one clock of the library,
/// used by the shell (CLI, server) — never by the engine.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
