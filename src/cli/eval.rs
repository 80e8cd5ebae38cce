//! `cansend eval [--rules DIR] [--explain] [FILE|-]`: one decision from a
//! JSON request, printed exactly as `POST /v1/can-send` answers it (the
//! same decoding, problems and pointers: it goes through the same
//! [`Engine`](crate::Engine)).
//!
//! Exit status:
//!
//! | status | when |
//! | --- | --- |
//! | `0` | decided (allowed, or denied without `--fail-on-deny`) |
//! | `1` | denied, with `--fail-on-deny` |
//! | `2` | not decided: the request is not valid (its problem is printed, as the API's 400/422), cannot be read, or the rules do not load |

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{choose, load_or_report, outln};
use crate::render::Problem;
use crate::request::CanSendRequest;

/// The flags of `cansend eval`.
#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// Rule directory; default ./rules if present, else the built-in rules.
    #[arg(long, env = "CANSEND_RULES")]
    pub rules: Option<PathBuf>,
    /// Add a trace of every rule evaluated.
    #[arg(long)]
    pub explain: bool,
    /// Exit 1 when the answer is "not allowed" (for scripts and CI).
    #[arg(long)]
    pub fail_on_deny: bool,
    /// The request file, or `-` for standard input (the default).
    pub file: Option<PathBuf>,
}

/// Run `cansend eval`.
pub fn run(args: EvalArgs) -> ExitCode {
    let dir = choose(args.rules.as_deref());
    let engine = match load_or_report(dir.as_deref()) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut text = String::new();
    let (read, from) = match args.file.as_deref() {
        None => (std::io::stdin().read_to_string(&mut text).map(|_| ()), "standard input".to_owned()),
        Some(p) if p == Path::new("-") => (std::io::stdin().read_to_string(&mut text).map(|_| ()), "standard input".to_owned()),
        Some(p) => (std::fs::read_to_string(p).map(|t| text = t), p.display().to_string()),
    };
    if let Err(e) = read {
        eprintln!("error: cannot read the request from {from}: {e}");
        return ExitCode::from(2);
    }
    let decided = CanSendRequest::from_slice(text.as_bytes()).and_then(|r| engine.decide_with(&r, crate::now_ms(), args.explain));
    match decided {
        Ok(answer) => {
            outln!("{}", serde_json::to_string_pretty(&answer).unwrap_or_default());
            if args.fail_on_deny && !answer.allowed { ExitCode::from(1) } else { ExitCode::SUCCESS }
        }
        Err(e) => {
            outln!("{}", serde_json::to_string_pretty(&Problem::from(e)).unwrap_or_default());
            ExitCode::from(2)
        }
    }
}
