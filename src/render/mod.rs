//! What callers read: the engine's answers (indices) turned into the JSON
//! bodies of the API and the text of explanations.
//!
//! The engine decides in indices and records no text; this is the one
//! place that looks names, messages, files and lines up in the rule set
//! and formats values (`31000000 bytes`, `[email, whatsapp]`) for people.
//! Every body here serializes exactly as the HTTP API answers it, and the
//! command line (`cansend eval`) prints the same.

pub mod decision;
pub mod options;
pub mod problem;
pub mod tenant;
pub mod value;

pub use decision::{Answer, Check, TraceStep, Violation};
pub use options::SendOptionsBody;
pub use problem::Problem;
pub use tenant::TenantView;
