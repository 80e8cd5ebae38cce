//! Compiling checked files into a [`RuleSet`].
//!
//! Phases, in dependency order: the catalog (names), settings (typed
//! declarations and their defaults), rules and exceptions (conditions
//! type-checked against the request fields, attributes and settings),
//! tenants (overrides layered on the defaults, bounds enforced), constraints
//! between settings (`at_most`, for every tenant at every instant), rule
//! tests.
//! Each phase records every problem it finds and goes on where it can, so
//! one load reports all errors; any error means no rule set.

mod catalog;
mod cond;
mod constraints;
mod fields;
mod rules;
mod settings;
mod tenants;

use serde::de::DeserializeOwned;

use crate::engine::model::{Declaration, FileInfo, Origin, RuleSet};
use crate::engine::value::Domain;

use super::diag::{self, Diagnostic, Pos};
use super::load::{self, ParsedFile};
use super::source::SourceFile;

/// Everything a failed load has to say, sorted by file and position.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} error(s) in the rule files; first: {}", count_errors(.diagnostics), first(.diagnostics))]
pub struct LoadError {
    /// Every problem of the load, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

fn count_errors(d: &[Diagnostic]) -> usize {
    d.iter().filter(|d| d.is_error()).count()
}

fn first(d: &[Diagnostic]) -> String {
    d.iter().find(|d| d.is_error()).map(ToString::to_string).unwrap_or_default()
}

/// A compiled rule set, the warnings its load produced, and the rule tests
/// written beside it (run by `cansend check`, not by the service).
#[derive(Debug, Clone)]
pub struct Compiled {
    /// What the engine runs.
    pub rules: RuleSet,
    /// Problems that do not stop the set from serving (an expired override).
    pub warnings: Vec<Diagnostic>,
    /// The rule tests, as written.
    pub tests: Vec<RuleTest>,
}

/// A rule test as written: a request and the decision it expects.
#[derive(Debug, Clone)]
pub struct RuleTest {
    /// Unique within its file (`cansend check` says when it is not).
    pub name: String,
    /// Its file, relative to the rules directory, and where in it.
    pub file: String,
    /// Line of the test in its file.
    pub line: u32,
    /// Column of the test in its file.
    pub column: u32,
    /// The request, with the file's `base` merged under it.
    pub request: serde_json::Value,
    /// The decision it expects.
    pub expect: crate::rules::syntax::Expect,
}

/// Parse, check and compile a set of files.
pub(crate) fn compile(sources: &[SourceFile], extra_errors: Vec<Diagnostic>) -> Result<Compiled, LoadError> {
    let mut b = Builder {
        files: Vec::new(),
        diags: extra_errors,
        rs: RuleSet::empty(super::revision(sources, &[])),
        tests: Vec::new(),
        defaults: settings::Defaults::default(),
        declared: Default::default(),
        partial: false,
        broken_settings: Default::default(),
        constraints: Vec::new(),
        failed_overrides: Default::default(),
    };
    // Files that did not parse or match their schema. What they declare
    // is missing from what follows, so some later errors would only echo
    // them: those checks are skipped (see below) rather than reported.
    let mut broken: Vec<&SourceFile> = Vec::new();
    for src in sources {
        let (file, diags) = load::parse(src);
        b.diags.extend(diags);
        match file {
            Some(f) => {
                if !f.schema_errors.is_empty() {
                    broken.push(src);
                }
                b.files.push(f);
            }
            None => broken.push(src),
        }
    }
    b.partial = !b.diags.is_empty();
    // Indexed like `b.files` (rules, origins and tests refer to files by index).
    b.rs.files = b
        .files
        .iter()
        .map(|f| FileInfo { path: f.path.as_str().into(), kind: f.kind.as_str().into(), sha256: f.sha256.as_str().into() })
        .collect();
    // Without the catalog or the settings every name is unknown: report
    // the files' own errors and stop there, saying so beside the first.
    if let Some(src) = broken.iter().find(|s| declares_kind(&s.text, &["catalog", "settings"])) {
        let first = b.diags.iter().filter(|d| d.file == src.path && d.is_error()).map(|d| Pos { line: d.line, column: d.column }).min();
        b.diags.push(Diagnostic::warning(
            &src.path,
            first.unwrap_or(Pos::new(1, 1)),
            "the other checks were skipped: every name is declared in this file; fix it first",
        ));
    } else {
        catalog::compile(&mut b);
        settings::compile(&mut b);
        rules::compile(&mut b);
        tenants::compile(&mut b);
        constraints::check(&mut b);
        rules::collect_tests(&mut b);
    }
    let Builder { mut diags, mut rs, tests, .. } = b;
    diag::sort(&mut diags);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(LoadError { diagnostics: diags });
    }
    rs.plans = crate::engine::plan::build(&rs);
    Ok(Compiled { rules: rs, warnings: diags, tests })
}

/// Whether a file's text declares one of `kinds` at its top level
/// (`kind: catalog`, `kind = "catalog"`), judged from the text alone: it
/// is only used for files that did not parse.
fn declares_kind(text: &str, kinds: &[&str]) -> bool {
    text.lines().any(|line| {
        let Some(rest) = line.strip_prefix("kind") else { return false };
        let value = rest.trim_start().trim_start_matches([':', '=']).trim().trim_matches(['"', '\'']);
        kinds.contains(&value)
    })
}

/// State shared by the phases.
pub(crate) struct Builder {
    files: Vec<ParsedFile>,
    diags: Vec<Diagnostic>,
    rs: RuleSet,
    tests: Vec<RuleTest>,
    defaults: settings::Defaults,
    /// Every rule id written, compiled or not: a reference to a rule that
    /// failed to compile is not reported again.
    declared: std::collections::HashSet<String>,
    /// Some file could not be read or parsed: checks of what may be
    /// missing because of it (a tenant's file, say) are not reported.
    partial: bool,
    /// Settings with a default that did not parse: declared, but checks
    /// against their default are skipped (they would only echo its error).
    broken_settings: std::collections::HashSet<(settings::Level, u16)>,
    /// `at_most` relations between settings, checked once tenants are layered.
    constraints: Vec<constraints::AtMost>,
    /// Tenant overrides that were refused (tenant index, setting): the
    /// default stands in for them, so constraints skip them.
    failed_overrides: std::collections::HashSet<(u32, crate::engine::model::SettingKey)>,
}

impl Builder {
    /// Files of one kind that match their schema, with their index.
    fn files_of(&self, kind: &str) -> Vec<usize> {
        self.files.iter().enumerate().filter(|(_, f)| f.kind == kind && f.schema_errors.is_empty()).map(|(i, _)| i).collect()
    }

    /// Files of one kind, also those that failed their schema (whose
    /// other parts are still checked).
    fn files_of_any(&self, kind: &str) -> Vec<usize> {
        self.files.iter().enumerate().filter(|(_, f)| f.kind == kind).map(|(i, _)| i).collect()
    }

    fn pos(&self, file: usize, pointer: &str) -> Pos {
        self.files.get(file).map(|f| f.locator.locate(pointer)).unwrap_or_default()
    }

    fn value_pos(&self, file: usize, pointer: &str) -> Pos {
        self.files.get(file).map(|f| f.locator.locate_value(pointer)).unwrap_or_default()
    }

    /// Where the entry at `pointer` is declared, and the findings
    /// `allow_findings` accepts about it (the schema has checked the names).
    fn declaration(&self, file: usize, pointer: &str, allow: &[String]) -> Declaration {
        let p = self.pos(file, pointer);
        Declaration {
            origin: Origin { file: file as u32, line: p.line, column: p.column },
            allow_findings: allow.iter().map(|a| a.as_str().into()).collect(),
        }
    }

    /// Where the value at `pointer` came from (provenance of a setting).
    fn origin(&self, file: usize, pointer: &str) -> Origin {
        let p = self.value_pos(file, pointer);
        Origin { file: file as u32, line: p.line, column: p.column }
    }

    fn path(&self, file: usize) -> &str {
        self.files.get(file).map(|f| f.path.as_str()).unwrap_or("?")
    }

    /// A hint ending "… in the catalog" (where a new name is declared)
    /// names the catalog file: "… in catalog.yaml".
    fn name_the_catalog(&self, hint: Option<String>) -> Option<String> {
        let catalog = self.files.iter().find(|f| f.kind == "catalog").map(|f| f.path.clone())?;
        hint.map(|h| match h.strip_suffix(" in the catalog") {
            Some(head) => format!("{head} in {catalog}"),
            None => h,
        })
    }

    /// Record an error about the entry at `pointer` of `file` — its name:
    /// located at the key.
    fn error(&mut self, file: usize, pointer: &str, rule: Option<&str>, message: impl Into<String>, hint: Option<String>) {
        let hint = self.name_the_catalog(hint);
        let d = Diagnostic::error(self.path(file), self.pos(file, pointer), message).with_rule(rule).with_hint(hint);
        self.diags.push(d);
    }

    /// Record an error about the value at `pointer` of `file` (a bad
    /// unit, a number out of bounds, an unknown name written as a value):
    /// located at the value.
    fn error_value(&mut self, file: usize, pointer: &str, rule: Option<&str>, message: impl Into<String>, hint: Option<String>) {
        let hint = self.name_the_catalog(hint);
        let d = Diagnostic::error(self.path(file), self.value_pos(file, pointer), message).with_rule(rule).with_hint(hint);
        self.diags.push(d);
    }

    /// Deserialize a checked file into its written form.
    fn typed<T: DeserializeOwned>(&mut self, file: usize) -> Option<T> {
        let value = self.files.get(file)?.value.clone();
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(t) => Some(t),
            Err(e) => {
                let pointer = crate::text::pointer::from_path(e.path());
                let msg = e.inner().to_string();
                self.error(file, &pointer, None, msg, None);
                None
            }
        }
    }

    /// Whether the schema check reported an error at `pointer` itself.
    fn schema_error_at(&self, file: usize, pointer: &str) -> bool {
        self.files.get(file).is_some_and(|f| f.schema_errors.iter().any(|p| p == pointer))
    }

    /// Whether the schema check reported an error at `pointer` or inside
    /// it: the compiler skips that part rather than report it again.
    fn tainted(&self, file: usize, pointer: &str) -> bool {
        self.files.get(file).is_some_and(|f| {
            f.schema_errors.iter().any(|p| p.strip_prefix(pointer).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
        })
    }

    fn names(&self, d: Domain) -> &crate::engine::model::Names {
        self.rs.names(d)
    }
}
