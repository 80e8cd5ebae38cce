//! Pure evaluation: a compiled [`RuleSet`](model::RuleSet) and an
//! [`Input`](input::Input) in, a [`Decision`](decision::Decision) out.
//!
//! No I/O, no clock (the request's `at` is the instant), no locks, no
//! allocation on the allowed path. Everything the domain says — channels,
//! roles, codes, limits — is data in the rule set; this module knows only
//! the request's shape and the condition language.

pub mod decision;
pub mod eval;
pub mod input;
pub mod model;
pub mod options;
pub mod plan;
pub mod value;

pub use eval::{Scope, evaluate, evaluate_as_written};
