//! Diagnostics: what went wrong in a rule file, where, in which rule, and a hint.
//!
//! Every problem the loader finds becomes a [`Diagnostic`]; a load collects
//! all of them before it gives up, so an admin fixes a file in one pass.
//! The rendering `file:line:col: error: message` is what editors and CI
//! annotators understand.
//!
//! A diagnostic names its file relative to the rules directory, which is
//! what the API shows (the same on every replica, whatever the mount). On
//! the command line the user pointed at a directory (`cansend check
//! rules/`), and an editor or CI annotation opens `rules/eligibility.yaml`,
//! not `eligibility.yaml`: [`Diagnostic::in_dir`] renders it that way.

use std::fmt;
use std::path::Path;

/// How bad a diagnostic is. Errors stop a rule set from loading; warnings
/// (an expired override, a rule no test exercises) do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The rule set does not load.
    Error,
    /// Worth knowing; the rule set loads.
    Warning,
}

/// One located problem in the rule files.
///
/// Serialized with its fields and `text`, the one-line form
/// `file:line:col: severity: message` — the same shape wherever the API
/// shows one (`GET /v1/rules`, reload answers, history and events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Path of the file relative to the rules directory, `/`-separated.
    pub file: String,
    /// 1-based line; 0 when the problem concerns the file as a whole.
    pub line: u32,
    /// 1-based column; 0 when unknown.
    pub column: u32,
    /// The rule (or test, or setting) the problem is in, when there is one.
    pub rule: Option<String>,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is something to say.
    pub hint: Option<String>,
}

/// The serialized form of a [`Diagnostic`] (one form, wherever the API
/// shows one), and its OpenAPI schema.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = Diagnostic)]
struct Shown<'a> {
    /// `error` or `warning`.
    severity: Severity,
    /// Path of the file relative to the rules directory.
    file: &'a str,
    /// 1-based line; 0 when the problem concerns the file as a whole.
    line: u32,
    /// 1-based column; 0 when unknown.
    column: u32,
    /// The rule (or test, or tenant) the problem is in.
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<&'a str>,
    /// What is wrong.
    message: &'a str,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
    /// The one-line form: `file:line:col: severity: message`.
    text: String,
}

impl serde::Serialize for Diagnostic {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Shown {
            severity: self.severity,
            file: &self.file,
            line: self.line,
            column: self.column,
            rule: self.rule.as_deref(),
            message: &self.message,
            hint: self.hint.as_deref(),
            text: self.to_string(),
        }
        .serialize(s)
    }
}

impl utoipa::PartialSchema for Diagnostic {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <Shown<'_> as utoipa::PartialSchema>::schema()
    }
}

impl utoipa::ToSchema for Diagnostic {
    fn name() -> std::borrow::Cow<'static, str> {
        "Diagnostic".into()
    }

    fn schemas(out: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        <Shown<'_> as utoipa::ToSchema>::schemas(out);
    }
}

impl Diagnostic {
    /// An error in `file` at `pos`.
    pub fn error(file: &str, pos: Pos, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            file: file.to_owned(),
            line: pos.line,
            column: pos.column,
            rule: None,
            message: message.into(),
            hint: None,
        }
    }

    /// A warning in `file` at `pos`.
    pub fn warning(file: &str, pos: Pos, message: impl Into<String>) -> Self {
        Self { severity: Severity::Warning, ..Self::error(file, pos, message) }
    }

    /// The rule (test, tenant) the problem is in.
    pub fn with_rule(mut self, rule: Option<&str>) -> Self {
        self.rule = rule.map(str::to_owned);
        self
    }

    /// A hint at the fix.
    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    /// Whether it stops the set from loading.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl Diagnostic {
    /// Rendered like [`Display`](fmt::Display), with the file as seen from
    /// where the user pointed: joined to `dir`, the rules directory as
    /// given (`None` for the built-in rules, which have no directory).
    pub fn in_dir<'a>(&'a self, dir: Option<&'a Path>) -> InDir<'a> {
        InDir { diag: self, dir }
    }

    fn render(&self, f: &mut fmt::Formatter<'_>, file: &str) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{file}:{}:{}: {sev}: {}", self.line, self.column, self.message)?;
        if let Some(rule) = &self.rule {
            write!(f, " [in {rule}]")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(f, &self.file)
    }
}

/// A [`Diagnostic`] rendered with its file under a directory; see
/// [`Diagnostic::in_dir`].
pub struct InDir<'a> {
    diag: &'a Diagnostic,
    dir: Option<&'a Path>,
}

impl fmt::Display for InDir<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.diag.render(f, &path_in(self.dir, &self.diag.file))
    }
}

/// `file`, relative to the rules directory, as seen from where the user
/// pointed: joined to `dir` as given (`rules/` + `eligibility.yaml` →
/// `rules/eligibility.yaml`); `.` (the set as a whole) is `dir` itself.
pub fn path_in(dir: Option<&Path>, file: &str) -> String {
    match dir {
        None => file.to_owned(),
        Some(d) if file == "." => d.display().to_string(),
        Some(d) => d.join(file).display().to_string(),
    }
}

/// A position in a source file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    pub const UNKNOWN: Pos = Pos { line: 0, column: 0 };
    pub fn new(line: usize, column: usize) -> Self {
        Self { line: u32::try_from(line).unwrap_or(u32::MAX), column: u32::try_from(column).unwrap_or(u32::MAX) }
    }
}

/// Sorted for stable output: by file, then position.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_file_line_col() {
        let d = Diagnostic::error("rules.yaml", Pos::new(3, 7), "bad").with_rule(Some("r1"));
        assert_eq!(d.to_string(), "rules.yaml:3:7: error: bad [in r1]");
    }

    #[test]
    fn renders_under_the_directory_as_given() {
        let d = Diagnostic::error("tenants/a.yaml", Pos::new(3, 7), "bad").with_hint(Some("fix".into()));
        assert_eq!(d.in_dir(Some(Path::new("rules/"))).to_string(), "rules/tenants/a.yaml:3:7: error: bad (hint: fix)");
        assert_eq!(d.in_dir(Some(Path::new("../x/rules"))).to_string(), "../x/rules/tenants/a.yaml:3:7: error: bad (hint: fix)");
        assert_eq!(d.in_dir(None).to_string(), d.to_string());
        let whole = Diagnostic::error(".", Pos::UNKNOWN, "no catalog");
        assert_eq!(whole.in_dir(Some(Path::new("/etc/cansend/rules"))).to_string(), "/etc/cansend/rules:0:0: error: no catalog");
        // The API's form is unchanged: relative to the rules directory.
        assert_eq!(serde_json::to_value(&d).unwrap()["file"], "tenants/a.yaml");
    }
}
