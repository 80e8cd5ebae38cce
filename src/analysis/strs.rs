//! Sets of string values, exactly: what a string field may hold, built
//! from the literals conditions compare it with.
//!
//! A set is `{absent?} ∪ (classes ∖ except) ∪ plus`, where the classes are
//! "blank strings" and "non-blank strings" (each infinite), `except` is a
//! finite part of the chosen classes and `plus` a finite set outside them.
//! The form is closed under complement and intersection, and a set is
//! empty exactly when it has no absent, no `plus` and no class (a class
//! minus finitely many strings is never empty).

use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Strs {
    pub absent: bool,
    pub blank: bool,
    pub nonblank: bool,
    pub except: BTreeSet<Box<str>>,
    pub plus: BTreeSet<Box<str>>,
}

pub(super) fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

impl Strs {
    /// Nothing at all.
    pub(super) fn none() -> Self {
        Strs { absent: false, blank: false, nonblank: false, except: BTreeSet::new(), plus: BTreeSet::new() }
    }

    /// Any value, or none.
    pub(super) fn all() -> Self {
        Strs { absent: true, blank: true, nonblank: true, ..Strs::none() }
    }

    /// Exactly these strings.
    pub(super) fn of<'s>(items: impl IntoIterator<Item = &'s str>) -> Self {
        Strs { plus: items.into_iter().map(Into::into).collect(), ..Strs::none() }
    }

    fn in_classes(&self, s: &str) -> bool {
        if is_blank(s) { self.blank } else { self.nonblank }
    }

    pub(super) fn contains(&self, s: &str) -> bool {
        (self.in_classes(s) && !self.except.contains(s)) || self.plus.contains(s)
    }

    pub(super) fn complement(&self) -> Self {
        Strs { absent: !self.absent, blank: !self.blank, nonblank: !self.nonblank, except: self.plus.clone(), plus: self.except.clone() }
    }

    pub(super) fn intersect(&self, other: &Strs) -> Self {
        let mut out = Strs {
            absent: self.absent && other.absent,
            blank: self.blank && other.blank,
            nonblank: self.nonblank && other.nonblank,
            except: BTreeSet::new(),
            plus: BTreeSet::new(),
        };
        for s in self.except.iter().chain(&other.except) {
            if out.in_classes(s) {
                out.except.insert(s.clone());
            }
        }
        for s in self.plus.iter().chain(&other.plus) {
            if !out.in_classes(s) && self.contains(s) && other.contains(s) {
                out.plus.insert(s.clone());
            }
        }
        out
    }

    pub(super) fn is_empty(&self) -> bool {
        !self.absent && !self.blank && !self.nonblank && self.plus.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complements_and_intersections_are_exact() {
        let ready = Strs::of(["READY", "OUTGOING"]);
        let not_ready = ready.complement();
        assert!(ready.intersect(&not_ready).is_empty());
        assert!(not_ready.absent && not_ready.contains("BREAK") && !not_ready.contains("READY"));
        // present (given, not blank) and blank contradict; blank and "" do not.
        let given = Strs { nonblank: true, ..Strs::none() };
        let blank = given.complement();
        assert!(given.intersect(&blank).is_empty());
        assert!(!blank.intersect(&Strs::of([""])).is_empty());
        assert!(given.intersect(&Strs::of([" "])).is_empty());
        // "a" and not "a": empty; not "a" and not "b": a whole class left.
        let a = Strs::of(["a"]);
        assert!(a.intersect(&a.complement()).is_empty());
        let neither = a.complement().intersect(&Strs::of(["b"]).complement());
        assert!(!neither.is_empty() && !neither.contains("a") && !neither.contains("b") && neither.contains("c"));
        assert_eq!(Strs::all().intersect(&a), a);
    }
}
