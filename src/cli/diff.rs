//! `cansend diff OLD_DIR NEW_DIR`: requests generated from both rule sets'
//! conditions, decided by both, and what changed — grouped by tenant and
//! channel, with examples (see [`crate::analysis::generated_impact`]).
//!
//! Exit status: `0` when both sets load (whatever changed), `2` when one
//! does not.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{load_or_report, outln};

/// The flags of `cansend diff`.
#[derive(Debug, Clone, clap::Args)]
pub struct DiffArgs {
    /// The rules before the change.
    pub old: PathBuf,
    /// The rules after it.
    pub new: PathBuf,
    /// `text` (for reading) or `json`.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
}

/// Run `cansend diff`.
pub fn run(args: DiffArgs) -> ExitCode {
    let (before, after) = match (load_or_report(Some(&args.old)), load_or_report(Some(&args.new))) {
        (Ok(b), Ok(a)) => (b, a),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let report = crate::analysis::generated_impact(&before, &after);
    if args.format == "json" {
        outln!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), "{}", report.to_text());
    }
    ExitCode::SUCCESS
}
