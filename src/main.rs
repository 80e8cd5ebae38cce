//! The command line: `cansend check | diff | eval | serve | status |
//! completions`. Thin: flags are parsed here, everything else is the
//! library's (`cansend::cli`, `cansend::service`).

use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};

/// The binary's allocator (the library leaves the choice to its embedder).
/// Under `serve`, requests are decoded on one worker thread and often freed
/// on another (the ring of recent requests); glibc's malloc spent about a
/// fifth of the server's CPU on that (arena locks, consolidation), mimalloc
/// a fraction of it — see BENCHMARKS.md.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "cansend",
    version = cansend::cli::LONG_VERSION,
    about = "May this sender send this message to this client over this channel?"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a rule directory and run its rule tests (exit 0 only if all pass).
    Check(cansend::cli::check::CheckArgs),
    /// What a change of rules changes: requests generated from both sets'
    /// conditions, decided by both, grouped by tenant and channel.
    Diff(cansend::cli::diff::DiffArgs),
    /// Print one decision for a JSON request, as the HTTP API would answer.
    Eval(cansend::cli::eval::EvalArgs),
    /// Serve HTTP API v1 (can-send, batch, send-options, rules, tenants, metrics).
    Serve(cansend::service::ServeArgs),
    /// Write JSON Schemas for editors that know this rule set's settings, channels, codes and request fields.
    Schemas(cansend::cli::schemas::SchemasArgs),
    /// Ask replicas what they serve: one line each; exit 1 when they disagree or one is degraded, 2 when one is unreachable.
    Status(cansend::cli::status::StatusArgs),
    /// Print a shell completion script (`cansend completions bash > /etc/bash_completion.d/cansend`).
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Check(args) => cansend::cli::check::run(args),
        Command::Diff(args) => cansend::cli::diff::run(args),
        Command::Eval(args) => cansend::cli::eval::run(args),
        Command::Serve(args) => cansend::service::run(args),
        Command::Status(args) => cansend::cli::status::run(args),
        Command::Schemas(args) => cansend::cli::schemas::run(args),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "cansend", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
    }
}
