//! `cansend serve` flags, each also read from a `CANSEND_*` variable (a
//! container is configured by its environment), and where the rules come
//! from.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::decision_log::{DEFAULT_MASK, DecisionLogConfig, Mask, Target, parse_mask};
use super::state::{Admin, Limits};
use crate::reload::RuleSource;
use crate::reload::watch::WatchOptions;

/// The flags of `cansend serve`. (`Debug` would print the admin token:
/// it is implemented by hand below.)
#[derive(Clone, clap::Args)]
pub struct ServeArgs {
    /// Rule directory; default ./rules if present, else the built-in rules.
    #[arg(long, env = "CANSEND_RULES")]
    pub rules: Option<PathBuf>,
    /// Address to listen on (host:port).
    #[arg(long, env = "CANSEND_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Largest request body: bytes, or with a unit (`1MiB`, `512 KB`).
    #[arg(long, env = "CANSEND_BODY_LIMIT", default_value = "1MiB", value_parser = parse_body_limit)]
    pub body_limit: usize,
    /// Most request-body bytes held at once (`64MiB`); a body that does
    /// not fit is answered `503` with `Retry-After`. At least the body limit.
    #[arg(long, env = "CANSEND_MAX_INFLIGHT_BYTES", default_value = "64MiB", value_parser = parse_body_limit, value_name = "SIZE")]
    pub max_inflight_bytes: usize,
    /// Most requests with a body (can-send, batch, send-options, validate)
    /// answered at once; one more is answered `503` with `Retry-After`.
    #[arg(long, env = "CANSEND_MAX_INFLIGHT_REQUESTS", default_value_t = super::admission::DEFAULT_MAX_INFLIGHT_REQUESTS, value_parser = parse_inflight_requests, value_name = "N")]
    pub max_inflight_requests: usize,
    /// Longest a request's head, and then its body, may take to arrive
    /// (`10s`, `500ms`): a slow head closes the connection, a slow body is a 408.
    #[arg(long, env = "CANSEND_TIMEOUT", default_value = "10s", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// Token for the admin endpoints (`Authorization: Bearer …`); without
    /// one, they answer loopback peers only. Prefer the variable to the flag
    /// (flags show in `ps`).
    #[arg(long, env = "CANSEND_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Do not watch the rules directory (reload on SIGHUP or
    /// `POST /v1/rules/reload` only).
    /// The variable takes `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`.
    #[arg(long, env = "CANSEND_NO_WATCH", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_watch: bool,
    /// Quiet time after the last file event before reloading.
    #[arg(long, env = "CANSEND_DEBOUNCE", default_value = "150ms", value_parser = parse_timeout)]
    pub debounce: Duration,
    /// How often to poll the rules directory's fingerprint, for changes the
    /// file events miss (network file systems, a replaced directory).
    #[arg(long, env = "CANSEND_POLL_INTERVAL", default_value = "1s", value_parser = parse_timeout)]
    pub poll_interval: Duration,
    /// How many recent decided requests to keep in memory, to replay when
    /// the rules change (`POST /v1/rules/validate`, reloads); 0 keeps none.
    /// They are client data: held in memory only, shown to admins only.
    #[arg(long, env = "CANSEND_REPLAY_CAPACITY", default_value_t = crate::recent::DEFAULT_CAPACITY, value_parser = parse_replay_capacity)]
    pub replay_capacity: usize,
    /// Warn (in the log, `GET /v1/rules` and `/metrics`) about tenant
    /// overrides that expire within this many days, and those expired.
    #[arg(long, env = "CANSEND_WARN_EXPIRY", default_value_t = 14, value_name = "DAYS")]
    pub warn_expiry: u32,
    /// `/readyz` answers 503 until this revision (`sha256:…`) serves: a
    /// rollout holds a replica out of the load balancer until it has taken
    /// up the rules it was started for.
    #[arg(long, env = "CANSEND_EXPECT_REVISION", value_name = "REVISION")]
    pub expect_revision: Option<String>,
    /// Write one JSON line per decision to this file (`-`: standard
    /// output): denied decisions always, allowed ones sampled. The file is
    /// appended to, rotated by `--decision-log-max-size`, reopened on SIGHUP.
    #[arg(long, env = "CANSEND_DECISION_LOG", value_name = "PATH")]
    pub decision_log: Option<PathBuf>,
    /// Include the request body in each line, masked by `--decision-log-mask`.
    /// The variable takes `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`.
    #[arg(long, env = "CANSEND_DECISION_LOG_BODY", value_parser = clap::builder::BoolishValueParser::new())]
    pub decision_log_body: bool,
    /// JSON pointers of the body replaced by "***", comma-separated; a `*`
    /// segment matches every element or member (`/message/attachments/*/name`).
    /// An empty value masks nothing.
    #[arg(long, env = "CANSEND_DECISION_LOG_MASK", default_value = DEFAULT_MASK, value_parser = parse_mask, value_name = "POINTERS")]
    pub decision_log_mask: Mask,
    /// Fraction of allowed decisions logged, 0 … 1, by a hash of the request
    /// id (the same ids on every replica); denied ones are always logged.
    #[arg(long, env = "CANSEND_DECISION_LOG_SAMPLE_ALLOWED", default_value_t = 1.0, value_parser = parse_fraction, value_name = "FRACTION")]
    pub decision_log_sample_allowed: f64,
    /// Rotate the decision log to `PATH.1` before it passes this size
    /// (`100MB`, `1GiB`); without it the file grows (use logrotate).
    #[arg(long, env = "CANSEND_DECISION_LOG_MAX_SIZE", value_parser = parse_log_size, value_name = "SIZE")]
    pub decision_log_max_size: Option<u64>,
}

impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeArgs")
            .field("rules", &self.rules)
            .field("listen", &self.listen)
            .field("body_limit", &self.body_limit)
            .field("timeout", &self.timeout)
            .field("max_inflight_bytes", &self.max_inflight_bytes)
            .field("max_inflight_requests", &self.max_inflight_requests)
            .field("admin", &self.admin())
            .field("no_watch", &self.no_watch)
            .field("debounce", &self.debounce)
            .field("poll_interval", &self.poll_interval)
            .field("replay_capacity", &self.replay_capacity)
            .field("expect_revision", &self.expect_revision)
            .field("warn_expiry", &self.warn_expiry)
            .field("decision_log", &self.decision_log)
            .field("decision_log_body", &self.decision_log_body)
            .field("decision_log_mask", &self.decision_log_mask)
            .field("decision_log_sample_allowed", &self.decision_log_sample_allowed)
            .field("decision_log_max_size", &self.decision_log_max_size)
            .finish()
    }
}

impl ServeArgs {
    /// `--rules DIR`, else `./rules` if it is a directory, else the built-in rules.
    pub fn source(&self) -> RuleSource {
        match &self.rules {
            Some(d) => RuleSource::Dir(d.clone()),
            None if Path::new("rules").is_dir() => RuleSource::Dir(PathBuf::from("rules")),
            None => RuleSource::Builtin,
        }
    }

    /// The request limits these flags set.
    pub fn limits(&self) -> Limits {
        Limits {
            body_bytes: self.body_limit,
            timeout: self.timeout,
            // A budget below one body would refuse a full-size body forever.
            inflight_bytes: self.max_inflight_bytes.max(self.body_limit),
            inflight_requests: self.max_inflight_requests,
        }
    }

    /// Who may call the admin endpoints. An empty token counts as none.
    pub fn admin(&self) -> Admin {
        match self.admin_token.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => Admin::Token(t.to_owned()),
            _ => Admin::LoopbackOnly,
        }
    }

    /// The decision log, when `--decision-log` is given. Not opened here:
    /// [`DecisionLog::open`](super::decision_log::DecisionLog::open) does.
    pub fn decision_log_config(&self) -> Option<DecisionLogConfig> {
        let path = self.decision_log.clone()?;
        Some(DecisionLogConfig {
            include_body: self.decision_log_body,
            mask: self.decision_log_mask.clone(),
            sample_allowed: self.decision_log_sample_allowed,
            max_size: self.decision_log_max_size,
            ..DecisionLogConfig::new(Target::from_path(path))
        })
    }

    /// How the rules directory is watched.
    pub fn watch_options(&self) -> WatchOptions {
        let defaults = WatchOptions::default();
        // A burst is reloaded at the latest 1 s after it began, or after one
        // debounce when that is longer.
        WatchOptions { debounce: self.debounce, poll: self.poll_interval, max_delay: defaults.max_delay.max(self.debounce), ..defaults }
    }
}

/// A fraction: `0`, `0.25`, `1`.
pub fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("`{s}` is not a fraction between 0 and 1 (e.g. `0.1` logs one allowed decision in ten)")),
    }
}

/// A file size: `100MB`, `1GiB` (at least 1 KiB, so a line fits).
pub fn parse_log_size(s: &str) -> Result<u64, String> {
    let bytes = crate::text::literal::parse_size(s).map_err(|e| match e.hint {
        Some(h) => format!("{}; {h}", e.message),
        None => e.message,
    })?;
    match u64::try_from(bytes) {
        Ok(n) if n >= 1024 => Ok(n),
        _ => Err(format!("`{s}`: the decision log's size limit must be at least 1 KiB")),
    }
}

/// A body limit: `1048576`, `1MiB`, `2 MB` (MB = 10^6 bytes, MiB = 2^20).
pub fn parse_body_limit(s: &str) -> Result<usize, String> {
    let bytes = crate::text::literal::parse_size(s).map_err(|e| match e.hint {
        Some(h) => format!("{}; {h}", e.message),
        None => e.message,
    })?;
    match usize::try_from(bytes) {
        Ok(0) => Err("the body limit must be at least 1 byte".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is too large")),
    }
}

/// A number of requests in flight: at least 1.
pub fn parse_inflight_requests(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{s}` is not a number of requests (at least 1)")),
    }
}

/// A number of recent requests to keep: 0 … [`crate::recent::MAX_CAPACITY`].
pub fn parse_replay_capacity(s: &str) -> Result<usize, String> {
    let max = crate::recent::MAX_CAPACITY;
    match s.trim().parse::<usize>() {
        Ok(n) if n <= max => Ok(n),
        Ok(_) => Err(format!("at most {max} requests (replaying them is bounded by it)")),
        Err(_) => Err(format!("`{s}` is not a number of requests (0 … {max}; 0 keeps none)")),
    }
}

/// A timeout: `10s`, `500ms`, `1m`.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    match humantime::parse_duration(s.trim()) {
        Ok(d) if d.is_zero() => Err("the duration must be more than zero".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(format!("`{s}` is not a duration ({e}); e.g. `10s`, `500ms`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_limits_with_units() {
        assert_eq!(parse_body_limit("1MiB"), Ok(1_048_576));
        assert_eq!(parse_body_limit("2 MB"), Ok(2_000_000));
        assert_eq!(parse_body_limit("2mib"), Ok(2_097_152));
        assert_eq!(parse_body_limit("4096"), Ok(4096));
        assert!(parse_body_limit("0").is_err());
        assert!(parse_body_limit("-1").is_err());
        assert!(parse_body_limit("1 parsec").is_err());
    }

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("soon").is_err());
    }

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn parse(args: &[&str]) -> Result<ServeArgs, clap::Error> {
        use clap::Parser;
        Cli::try_parse_from(std::iter::once("cansend").chain(args.iter().copied())).map(|c| c.serve)
    }

    #[test]
    fn no_watch_is_a_flag() {
        // The variable's words (`CANSEND_NO_WATCH=1`) are tested on the
        // process in tests/http_reload.rs: the environment is per process.
        assert!(parse(&["--no-watch"]).is_ok_and(|a| a.no_watch));
    }

    #[test]
    fn inflight_budgets() {
        let a = parse(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((a.limits().inflight_bytes, a.limits().inflight_requests), (64 << 20, 512));
        let a = parse(&["--max-inflight-bytes", "16MiB", "--max-inflight-requests", "8"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((a.limits().inflight_bytes, a.limits().inflight_requests), (16 << 20, 8));
        let a = parse(&["--max-inflight-bytes", "1KiB", "--body-limit", "2MiB"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.limits().inflight_bytes, 2 << 20, "never below one body");
        assert!(parse(&["--max-inflight-requests", "0"]).is_err());
        assert!(parse(&["--max-inflight-bytes", "lots"]).is_err());
    }

    #[test]
    fn replay_capacity() {
        assert_eq!(parse(&[]).map(|a| a.replay_capacity).ok(), Some(crate::recent::DEFAULT_CAPACITY));
        assert_eq!(parse(&["--replay-capacity", "0"]).map(|a| a.replay_capacity).ok(), Some(0));
        assert!(parse(&["--replay-capacity", "-1"]).is_err());
        assert!(parse(&["--replay-capacity", "100001"]).is_err());
    }

    #[test]
    fn decision_log_flags() {
        let a = parse(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert!(a.decision_log_config().is_none(), "off unless asked for");
        let a = parse(&["--decision-log", "-"]).unwrap_or_else(|e| panic!("{e}"));
        let c = a.decision_log_config().unwrap_or_else(|| panic!("configured"));
        assert_eq!(c.target, Target::Stdout);
        assert!(!c.include_body && c.sample_allowed == 1.0 && c.max_size.is_none());
        assert_eq!(c.mask, parse_mask(DEFAULT_MASK).unwrap_or_default());
        let a = parse(&[
            "--decision-log",
            "/var/log/cansend/decisions.log",
            "--decision-log-body",
            "--decision-log-mask",
            "/client/email, /message/attachments/*/name",
            "--decision-log-sample-allowed",
            "0.1",
            "--decision-log-max-size",
            "100MB",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let c = a.decision_log_config().unwrap_or_else(|| panic!("configured"));
        assert_eq!(c.target, Target::File("/var/log/cansend/decisions.log".into()));
        assert!(c.include_body);
        assert_eq!(c.mask.pointers().len(), 2);
        assert_eq!((c.sample_allowed, c.max_size), (0.1, Some(100_000_000)));
        assert!(parse(&["--decision-log-sample-allowed", "1.5"]).is_err());
        assert!(parse(&["--decision-log-max-size", "10"]).is_err());
        assert!(parse(&["--decision-log-mask", "client/email"]).is_err());
        assert_eq!(parse(&["--decision-log-mask", ""]).map(|a| a.decision_log_mask.pointers().len()).ok(), Some(0));
    }

    #[test]
    fn a_long_debounce_is_not_cut_by_the_burst_cap() {
        let a = parse(&["--debounce", "3s"]).unwrap_or_else(|e| panic!("{e}"));
        let w = a.watch_options();
        assert_eq!(w.debounce, Duration::from_secs(3));
        assert!(w.max_delay >= w.debounce);
        let a = parse(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.watch_options().max_delay, Duration::from_secs(1));
    }
}
