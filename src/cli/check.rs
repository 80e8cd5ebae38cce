//! `cansend check [DIR]`: load a rule directory, run its rule tests, report
//! coverage and what the analysis finds — for an admin at a terminal
//! (`text`), a script (`json`) or a CI log (`github`: annotation lines that
//! GitHub shows on the files and lines of a pull request).
//!
//! Exit status: `0` when the rules load and every test selected passes
//! (and, with `--strict`, nothing is found; with `--min-coverage`, the
//! coverage is reached); `1` when a test fails or one of those does not
//! hold; `2` when the rules do not load.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use super::{Output, choose, load, outln};
use crate::analysis::{Coverage, Finding};
use crate::check::{Report, TestResult};
use crate::facade::Engine;
use crate::rules::Diagnostic;
use crate::rules::diag::path_in;

/// How `check` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people: diagnostics on stderr, a summary on stdout.
    Text,
    /// One JSON document on stdout.
    Json,
    /// GitHub Actions annotations (`::error file=…,line=…::…`) and the summary.
    Github,
}

/// The flags of `cansend check`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// The rule directory; default ./rules if present, else the built-in rules.
    #[arg(conflicts_with = "rules")]
    pub dir: Option<PathBuf>,
    /// The rule directory, as `serve` and `eval` take it.
    #[arg(long, env = "CANSEND_RULES", value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Warnings fail the run too: findings of the analysis (rules that
    /// never fire, …) and load warnings (expired or expiring overrides).
    #[arg(long)]
    pub strict: bool,
    /// Fail when fewer rules, or fewer condition leaves, than this
    /// percentage are covered by the rule tests (0–100).
    #[arg(long, value_name = "PERCENT")]
    pub min_coverage: Option<f64>,
    /// Run only the tests whose name contains this text (repeatable).
    /// Coverage is not judged on a selection.
    #[arg(long = "test", value_name = "NAME")]
    pub tests: Vec<String>,
    /// `text`, `json` or `github`.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Warn about tenant overrides that expire within this many days (and
    /// those that have expired).
    #[arg(long, env = "CANSEND_WARN_EXPIRY", default_value_t = 14, value_name = "DAYS")]
    pub warn_expiry: u32,
}

/// What `check --format json` prints.
#[derive(Debug, Serialize)]
struct JsonReport<'a> {
    /// The directory as given, or `(built-in rules)`.
    rules: String,
    loaded: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    revision: Option<&'a str>,
    /// Load errors (when it does not load) or warnings, files as given.
    diagnostics: Vec<Diagnostic>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tests: Option<JsonTests<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    coverage: Option<JsonCoverage<'a>>,
    findings: Vec<Finding>,
    ok: bool,
}

#[derive(Debug, Serialize)]
struct JsonTests<'a> {
    passed: usize,
    failed: usize,
    results: Vec<JsonTest<'a>>,
}

#[derive(Debug, Serialize)]
struct JsonTest<'a> {
    name: &'a str,
    file: String,
    line: u32,
    column: u32,
    passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    trace: &'a [String],
}

#[derive(Debug, Serialize)]
struct JsonCoverage<'a> {
    rules_fired: usize,
    rules: usize,
    unfired_rules: &'a [String],
    unused_exceptions: &'a [String],
    rule_percent: f64,
    leaf_percent: f64,
    leaves: &'a Coverage,
}

/// Escape a GitHub workflow command's message (and, with `property`, a
/// property value): `%`, CR and LF (and `:` and `,`).
fn escape(s: &str, property: bool) -> String {
    let mut out = s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

fn annotation(level: &str, file: &str, line: u32, column: u32, message: &str) -> String {
    let mut props = format!("file={}", escape(file, true));
    if line > 0 {
        props.push_str(&format!(",line={line}"));
        if column > 0 {
            props.push_str(&format!(",col={column}"));
        }
    }
    format!("::{level} {props}::{}", escape(message, false))
}

fn diagnostic_message(d: &Diagnostic) -> String {
    let mut m = d.message.clone();
    if let Some(rule) = &d.rule {
        m.push_str(&format!(" [in {rule}]"));
    }
    if let Some(hint) = &d.hint {
        m.push_str(&format!(" (hint: {hint})"));
    }
    m
}

/// Run `cansend check`.
pub fn run(args: CheckArgs) -> ExitCode {
    let asked = args.rules.clone().or(args.dir.clone());
    let dir = choose(asked.as_deref());
    let out = Output::new(args.format == Format::Json);
    if dir.is_none() {
        out.note("note: no ./rules here: checking the rules built into the binary");
    }
    let dir = dir.as_deref();
    let shown = dir.map_or_else(|| "(built-in rules)".to_owned(), |d| d.display().to_string());
    let engine = match load(dir) {
        Ok(e) => e,
        Err(e) => {
            return match args.format {
                Format::Text => {
                    for d in &e.diagnostics {
                        eprintln!("{}", d.in_dir(dir));
                    }
                    eprintln!("error: the rules did not load ({} error(s))", e.diagnostics.iter().filter(|d| d.is_error()).count());
                    ExitCode::from(2)
                }
                Format::Github => {
                    for d in &e.diagnostics {
                        let level = if d.is_error() { "error" } else { "warning" };
                        outln!("{}", annotation(level, &path_in(dir, &d.file), d.line, d.column, &diagnostic_message(d)));
                    }
                    outln!("error: the rules did not load ({} error(s))", e.diagnostics.iter().filter(|d| d.is_error()).count());
                    ExitCode::from(2)
                }
                Format::Json => {
                    let diagnostics = e.diagnostics.iter().map(|d| located(d, dir)).collect();
                    let report = JsonReport {
                        rules: shown,
                        loaded: false,
                        revision: None,
                        diagnostics,
                        tests: None,
                        coverage: None,
                        findings: Vec::new(),
                        ok: false,
                    };
                    outln!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
                    ExitCode::from(2)
                }
            };
        }
    };
    let now = crate::now_ms();
    let mut warnings = engine.warnings().to_vec();
    warnings.extend(engine.expiry_warnings(now, i64::from(args.warn_expiry) * 86_400_000));
    let mut report = crate::check::run_tests(&engine, now);
    let selected = !args.tests.is_empty();
    if selected {
        report.results.retain(|r| args.tests.iter().any(|t| r.name.contains(t.as_str())));
        if report.results.is_empty() {
            out.note(&format!("error: no rule test's name contains {}", args.tests.join(" or ")));
            return ExitCode::from(1);
        }
    }
    let findings = crate::analysis::findings(&engine);
    let coverage = crate::analysis::coverage(&engine, crate::now_ms());
    let judged = Judged::new(&args, &warnings, &report, &findings, &coverage, selected);
    match args.format {
        Format::Text => text(&engine, &warnings, dir, &shown, &report, &findings, &coverage, &judged, selected),
        Format::Github => github(&engine, &warnings, dir, &shown, &report, &findings, &judged),
        Format::Json => {
            let results = report
                .results
                .iter()
                .map(|r| JsonTest {
                    name: &r.name,
                    file: path_in(dir, &r.file),
                    line: r.line,
                    column: r.column,
                    passed: r.failure.is_none(),
                    failure: r.failure.as_deref(),
                    trace: &r.trace,
                })
                .collect();
            let covered = report.rules_total - report.unfired_rules.len();
            let doc = JsonReport {
                rules: shown,
                loaded: true,
                revision: Some(engine.revision()),
                diagnostics: warnings.iter().map(|d| located(d, dir)).collect(),
                tests: Some(JsonTests { passed: report.passed(), failed: report.failed(), results }),
                coverage: (!selected).then_some(JsonCoverage {
                    rules_fired: covered,
                    rules: report.rules_total,
                    unfired_rules: &report.unfired_rules,
                    unused_exceptions: &report.unused_exceptions,
                    rule_percent: coverage.rule_percent(),
                    leaf_percent: coverage.leaf_percent(),
                    leaves: &coverage,
                }),
                findings: findings.iter().map(|f| Finding { file: path_in(dir, &f.file), ..f.clone() }).collect(),
                ok: judged.ok(),
            };
            outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
    }
    if judged.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

/// A diagnostic with its file as seen from where the user pointed.
fn located(d: &Diagnostic, dir: Option<&Path>) -> Diagnostic {
    Diagnostic { file: path_in(dir, &d.file), ..d.clone() }
}

/// What fails the run, and why.
struct Judged {
    failed_tests: usize,
    /// `--strict`: the warnings that count.
    strict_warnings: usize,
    /// `--min-coverage`: what is below it.
    below: Vec<String>,
}

impl Judged {
    fn new(args: &CheckArgs, warnings: &[Diagnostic], report: &Report, findings: &[Finding], coverage: &Coverage, selected: bool) -> Self {
        let counted = findings.iter().filter(|f| !f.allowed && f.kind.is_warning()).count();
        let strict_warnings = if args.strict { counted + warnings.len() } else { 0 };
        let mut below = Vec::new();
        if let (Some(min), false) = (args.min_coverage, selected) {
            for (what, got) in [("rule", coverage.rule_percent()), ("leaf", coverage.leaf_percent())] {
                if got < min {
                    below.push(format!("{what} coverage {got:.1} % is below --min-coverage {min}"));
                }
            }
        }
        Self { failed_tests: report.failed(), strict_warnings, below }
    }

    fn ok(&self) -> bool {
        self.failed_tests == 0 && self.strict_warnings == 0 && self.below.is_empty()
    }
}

fn failure_lines(r: &TestResult, dir: Option<&Path>) -> Option<(String, Vec<String>)> {
    let f = r.failure.as_ref()?;
    Some((format!("{}:{}:{}: error: test `{}` failed: {f}", path_in(dir, &r.file), r.line, r.column, r.name), r.trace.clone()))
}

#[allow(clippy::too_many_arguments)]
fn text(
    engine: &Engine,
    warnings: &[Diagnostic],
    dir: Option<&Path>,
    shown: &str,
    report: &Report,
    findings: &[Finding],
    coverage: &Coverage,
    judged: &Judged,
    selected: bool,
) {
    for d in warnings {
        eprintln!("{}", d.in_dir(dir));
    }
    for r in &report.results {
        if let Some((line, trace)) = failure_lines(r, dir) {
            eprintln!("{line}");
            if !trace.is_empty() {
                eprintln!("  why:");
                for t in trace {
                    eprintln!("    {t}");
                }
            }
        }
    }
    outln!(
        "{shown}: {} files, {} rules, {} tenants, revision {}",
        engine.files().count(),
        report.rules_total,
        engine.tenants().count(),
        engine.revision()
    );
    if selected {
        outln!("tests selected by name: coverage is not judged");
    } else {
        let covered = report.rules_total - report.unfired_rules.len();
        outln!("rule coverage: {covered}/{} rules fired in some test", report.rules_total);
        for id in &report.unfired_rules {
            outln!("  not exercised: rule {id}");
        }
        for id in &report.unused_exceptions {
            outln!("  not exercised: exception {id}");
        }
        for line in coverage.report() {
            outln!("{line}");
        }
    }
    let shown_findings: Vec<&Finding> = findings.iter().filter(|f| !f.allowed).collect();
    for f in &shown_findings {
        let level = if f.kind.is_warning() { "warning" } else { "note" };
        eprintln!("{}:{}:{}: {level}: {} [{}]", path_in(dir, &f.file), f.line, f.column, f.message, f.kind.name());
    }
    let counted = shown_findings.iter().filter(|f| f.kind.is_warning()).count();
    outln!("findings: {counted} ({} accepted by allow_findings)", findings.len() - shown_findings.len());
    for b in &judged.below {
        eprintln!("error: {b}");
    }
    if judged.strict_warnings > 0 {
        eprintln!("error: --strict: {} warning(s)", judged.strict_warnings);
    }
    outln!("tests: {} passed, {} failed", report.passed(), report.failed());
}

fn github(
    engine: &Engine,
    warnings: &[Diagnostic],
    dir: Option<&Path>,
    shown: &str,
    report: &Report,
    findings: &[Finding],
    judged: &Judged,
) {
    let level = |warning: bool| if warning { "warning" } else { "notice" };
    for d in warnings {
        outln!("{}", annotation("warning", &path_in(dir, &d.file), d.line, d.column, &diagnostic_message(d)));
    }
    for r in &report.results {
        if let Some(f) = &r.failure {
            let mut message = format!("test `{}` failed: {f}", r.name);
            if !r.trace.is_empty() {
                message.push_str("\nwhy:\n");
                message.push_str(&r.trace.join("\n"));
            }
            outln!("{}", annotation("error", &path_in(dir, &r.file), r.line, r.column, &message));
        }
    }
    for f in findings.iter().filter(|f| !f.allowed) {
        let lvl = if judged.strict_warnings > 0 && f.kind.is_warning() { "error" } else { level(f.kind.is_warning()) };
        outln!("{}", annotation(lvl, &path_in(dir, &f.file), f.line, f.column, &format!("{} [{}]", f.message, f.kind.name())));
    }
    for b in &judged.below {
        outln!("::error::{}", escape(b, false));
    }
    outln!("{shown}: revision {}", engine.revision());
    outln!("tests: {} passed, {} failed", report.passed(), report.failed());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_escape_what_github_reads() {
        assert_eq!(
            annotation("error", "rules/a,b.yaml", 3, 7, "100% wrong\nnext"),
            "::error file=rules/a%2Cb.yaml,line=3,col=7::100%25 wrong%0Anext"
        );
        assert_eq!(annotation("warning", "rules", 0, 0, "whole set"), "::warning file=rules::whole set");
    }
}
