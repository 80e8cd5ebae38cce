//! The `cansend serve` process: logs, loading the rules, the runtime, the
//! listener, and stopping on SIGTERM or Ctrl-C.
//!
//! Rules that fail to load at start-up stop the process with every
//! diagnostic on stderr (`file:line:col: …`) and a non-zero exit: a
//! replica never serves without a complete rule set.

use std::process::ExitCode;
use std::sync::Arc;

use tracing_subscriber::EnvFilter;

use super::config::ServeArgs;
use super::decision_log::DecisionLog;
use super::state::{AppState, Operations};
use crate::reload::watch;
use crate::reload::{Live, RuleSource};

/// Run the service until a shutdown signal; the process' exit code.
pub fn run(args: ServeArgs) -> ExitCode {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A subscriber may already be installed (embedding); then keep it.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).try_init();

    let source = args.source();
    let live = match Live::load_with(source.clone(), args.replay_capacity) {
        Ok(l) => Arc::new(l.with_warn_expiry(args.warn_expiry)),
        Err(e) => {
            // Files as seen from where the rules were pointed at (`rules/x.yaml`).
            let dir = match &source {
                RuleSource::Dir(d) => Some(d.as_path()),
                RuleSource::Builtin => None,
            };
            for d in &e.diagnostics {
                eprintln!("{}", d.in_dir(dir));
            }
            let n = e.diagnostics.iter().filter(|d| d.is_error()).count();
            eprintln!("error: the rules in {source} did not load ({n} error(s)); not serving");
            return ExitCode::from(2);
        }
    };
    let revision = {
        for w in live.warnings() {
            tracing::warn!("{w}");
        }
        live.current().engine.revision().to_owned()
    };
    let decision_log = match args.decision_log_config().map(DecisionLog::open).transpose() {
        Ok(log) => log.map(Arc::new),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let ops = Operations {
        decision_log: decision_log.clone(),
        expect_revision: args.expect_revision.clone(),
        mask: args.decision_log_mask.clone(),
    };
    let state = AppState::with_operations(live.clone(), args.limits(), args.admin(), ops);

    // The watcher runs on its own thread until the process ends.
    let _watcher = match (live.source(), args.no_watch) {
        (RuleSource::Dir(dir), false) => match watch::spawn(live.clone(), dir.clone(), args.watch_options()) {
            Ok(w) => {
                tracing::info!(dir = %dir.display(), debounce = ?args.debounce, poll = ?args.poll_interval, "watching the rules");
                Some(w)
            }
            Err(e) => {
                eprintln!("error: cannot start watching {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
        },
        _ => None,
    };

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(&args.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on {}: {e}", args.listen);
                return ExitCode::FAILURE;
            }
        };
        let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| args.listen.clone());
        tracing::info!(%addr, %revision, rules = %source, replay_capacity = args.replay_capacity, "serving");
        tokio::spawn(on_sighup(live, decision_log.clone()));
        let served = super::serve(listener, state, shutdown_signal()).await;
        // The access lines of the last requests, before "stopped".
        super::access_log::flush();
        if let Some(log) = &decision_log {
            // Whatever was decided is written before the process ends.
            let log = log.clone();
            let _ = tokio::task::spawn_blocking(move || log.shutdown()).await;
        }
        match served {
            Ok(()) => {
                tracing::info!("stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: the server failed: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Reload the rules on every SIGHUP, off the async threads.
pub async fn reload_on_sighup(live: Arc<Live>) {
    on_sighup(live, None).await;
}

/// On every SIGHUP: reopen the decision log (after logrotate moved it) and
/// reload the rules, off the async threads.
pub async fn on_sighup(live: Arc<Live>, decision_log: Option<Arc<DecisionLog>>) {
    #[cfg(unix)]
    {
        let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("SIGHUP will not reload the rules: {e}");
                return;
            }
        };
        while hup.recv().await.is_some() {
            if let Some(log) = &decision_log {
                log.reopen();
            }
            tracing::info!("SIGHUP: reloading the rules");
            let live = live.clone();
            if let Err(e) = tokio::task::spawn_blocking(move || live.reload("signal")).await {
                tracing::error!("the reload task failed: {e}");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (live, decision_log);
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C: finishing in-flight requests, then stopping"),
        () = term => tracing::info!("SIGTERM: finishing in-flight requests, then stopping"),
    }
}
