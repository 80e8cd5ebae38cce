//! Low-level pieces shared by the rule compiler ([`crate::rules`]) and the
//! request decoder ([`crate::request`]), which must not depend on each
//! other: JSON pointers ([`pointer`]), "did you mean" hints ([`hint`]),
//! literals with units ([`literal`]) and JSON-Schema errors in an admin's
//! words ([`schema`]).
//!
//! Both sides speak to people the same way — a pointer to the part that is
//! wrong, a hint at the name that was meant, a size written `30 MB` — so
//! these live once, below both.

pub mod hint;
pub mod literal;
pub mod pointer;
pub mod schema;

/// At most `max` characters of `s`, for echoing caller input in messages.
pub fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}
