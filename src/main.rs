//! The command line: `cansend check | diff | eval | serve | status`. Thin: parsing flags,
//! calling the library, printing.
//!
//! Diagnostics are printed with their files under the directory as the
//! user gave it (`rules/eligibility.yaml:11:29`), so editors and CI
//! annotations open the right file; with no directory, `./rules` when
//! there is one, else the rules built into the binary (and it says so).

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cansend::{Diagnostic, Engine, Request};

/// The binary's allocator (the library leaves the choice to its embedder).
/// Under `serve`, requests are decoded on one worker thread and often freed
/// on another (the ring of recent requests); glibc's malloc spent about a
/// fifth of the server's CPU on that (arena locks, consolidation), mimalloc
/// a fraction of it — see BENCHMARKS.md.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `println!` that does not panic when standard output is a closed pipe
/// (`cansend eval … | head -3`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

#[derive(Parser)]
#[command(name = "cansend", version, about = "May this sender send this message to this client over this channel?")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a rule directory and run its rule tests (exit 0 only if all pass).
    Check {
        /// The rule directory; default ./rules if present, else the built-in rules.
        dir: Option<PathBuf>,
        /// Fail on findings of the analysis too (rules that never fire, …).
        #[arg(long)]
        strict: bool,
        /// Fail when fewer rules, or fewer condition leaves, than this
        /// percentage are covered by the rule tests.
        #[arg(long, value_name = "PERCENT")]
        min_coverage: Option<f64>,
    },
    /// What a change of rules changes: requests generated from both sets'
    /// conditions, decided by both, grouped by tenant and channel.
    Diff {
        /// The rules before the change.
        old: PathBuf,
        /// The rules after it.
        new: PathBuf,
        /// `text` (for reading) or `json`.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// Print one decision for a JSON request, as the HTTP API would answer.
    Eval {
        /// Rule directory; default ./rules if present, else the built-in rules.
        #[arg(long, env = "CANSEND_RULES")]
        rules: Option<PathBuf>,
        /// Add a trace of every rule evaluated.
        #[arg(long)]
        explain: bool,
        /// The request file, or `-` for standard input (the default).
        file: Option<PathBuf>,
    },
    /// Serve HTTP API v1 (can-send, batch, send-options, rules, tenants, metrics).
    Serve(cansend::service::ServeArgs),
    /// Ask replicas what they serve: one line each; exit 1 when they disagree or one is degraded, 2 when one is unreachable.
    Status(cansend::cli::status::StatusArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { dir, strict, min_coverage } => check(dir.as_deref(), strict, min_coverage),
        Command::Diff { old, new, format } => diff(&old, &new, &format),
        Command::Eval { rules, explain, file } => eval(rules.as_deref(), explain, file.as_deref()),
        Command::Serve(args) => cansend::service::run(args),
        Command::Status(args) => cansend::cli::status::run(args),
    }
}

fn print_diags(diags: &[Diagnostic], dir: Option<&Path>) {
    for d in diags {
        eprintln!("{}", d.in_dir(dir));
    }
}

/// `--rules DIR` / `check DIR`, else ./rules if present, else `None`: the built-in rules.
fn choose(dir: Option<&Path>) -> Option<PathBuf> {
    match dir {
        Some(d) => Some(d.to_owned()),
        None if Path::new("rules").is_dir() => Some(PathBuf::from("rules")),
        None => None,
    }
}

/// Load the rules of `dir`, or the built-in rules.
fn load(dir: Option<&Path>) -> Result<Engine, ExitCode> {
    let result = match dir {
        Some(d) => Engine::from_dir(d),
        None => Engine::builtin(),
    };
    result.map_err(|e| {
        print_diags(&e.diagnostics, dir);
        eprintln!("error: the rules did not load ({} error(s))", e.diagnostics.iter().filter(|d| d.is_error()).count());
        ExitCode::from(2)
    })
}

fn check(dir: Option<&Path>, strict: bool, min_coverage: Option<f64>) -> ExitCode {
    let dir = choose(dir);
    if dir.is_none() {
        eprintln!("note: no ./rules here: checking the rules built into the binary");
    }
    let dir = dir.as_deref();
    let engine = match load(dir) {
        Ok(c) => c,
        Err(code) => return code,
    };
    print_diags(engine.warnings(), dir);
    let report = cansend::check::run_tests(&engine, cansend::now_ms());
    for r in &report.results {
        if let Some(f) = &r.failure {
            eprintln!("{}:{}:{}: error: test `{}` failed: {f}", cansend::path_in(dir, &r.file), r.line, r.column, r.name);
        }
    }
    let covered = report.rules_total - report.unfired_rules.len();
    outln!(
        "{}: {} files, {} rules, {} tenants, revision {}",
        dir.map_or_else(|| "(built-in rules)".to_owned(), |d| d.display().to_string()),
        engine.files().count(),
        report.rules_total,
        engine.tenants().count(),
        engine.revision()
    );
    outln!("rule coverage: {covered}/{} rules fired in some test", report.rules_total);
    for id in &report.unfired_rules {
        outln!("  not exercised: rule {id}");
    }
    for id in &report.unused_exceptions {
        outln!("  not exercised: exception {id}");
    }
    let analysis_failed = analyse(&engine, dir, strict, min_coverage);
    outln!("tests: {} passed, {} failed", report.passed(), report.failed());
    if report.failed() > 0 || analysis_failed { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

/// The static analysis and condition coverage of `check`: findings as
/// warnings, leaves the tests missed; whether `--strict` or
/// `--min-coverage` fails the run.
fn analyse(engine: &Engine, dir: Option<&Path>, strict: bool, min: Option<f64>) -> bool {
    let findings = cansend::analysis::findings(engine);
    let coverage = cansend::analysis::coverage(engine, cansend::now_ms());
    for line in coverage.report() {
        outln!("{line}");
    }
    let warnings: Vec<&cansend::analysis::Finding> = findings.iter().filter(|f| !f.allowed).collect();
    for f in &warnings {
        let level = if f.kind.is_warning() { "warning" } else { "note" };
        eprintln!("{}:{}:{}: {level}: {} [{}]", cansend::path_in(dir, &f.file), f.line, f.column, f.message, f.kind.name());
    }
    let counted = warnings.iter().filter(|f| f.kind.is_warning()).count();
    let accepted = findings.len() - warnings.len();
    outln!("findings: {counted} ({accepted} accepted by allow_findings)");
    let mut failed = strict && counted > 0;
    if let Some(min) = min {
        for (what, got) in [("rule", coverage.rule_percent()), ("leaf", coverage.leaf_percent())] {
            if got < min {
                eprintln!("error: {what} coverage {got:.1} % is below --min-coverage {min}");
                failed = true;
            }
        }
    }
    failed
}

fn diff(old: &Path, new: &Path, format: &str) -> ExitCode {
    let (before, after) = match (load(Some(old)), load(Some(new))) {
        (Ok(b), Ok(a)) => (b, a),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let report = cansend::analysis::generated_impact(&before, &after);
    if format == "json" {
        outln!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), "{}", report.to_text());
    }
    ExitCode::SUCCESS
}

fn eval(dir: Option<&Path>, explain: bool, file: Option<&Path>) -> ExitCode {
    let engine = match load(choose(dir).as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut text = String::new();
    let read = match file {
        None => std::io::stdin().read_to_string(&mut text).map(|_| ()),
        Some(p) if p == Path::new("-") => std::io::stdin().read_to_string(&mut text).map(|_| ()),
        Some(p) => std::fs::read_to_string(p).map(|t| text = t),
    };
    if let Err(e) = read {
        eprintln!("error: cannot read the request: {e}");
        return ExitCode::from(2);
    }
    // The API's own decoding and answer: the same statuses, problems and
    // pointers as `POST /v1/can-send` (a repeated key, a typo, …).
    match Request::from_slice(text.as_bytes()).and_then(|r| engine.decide_with(&r, cansend::now_ms(), explain).map(|a| to_json(&a))) {
        Ok(body) => {
            outln!("{body}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            outln!("{}", to_json(&cansend::render::Problem::from(e)));
            ExitCode::from(2)
        }
    }
}

fn to_json(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}
