//! `cansend status URL…`: ask several replicas what they serve, print one
//! line each, and exit non-zero when they do not all serve the same
//! revision cleanly — the check to run after a rule change, or in a
//! rollout script, over every pod.
//!
//! Per replica, concurrently: `GET /v1/rules` (revision, loaded at, the
//! rejected files if any), `GET /readyz` (degraded or not, why) and
//! `GET /v1/rules/reloads` (the last reload: when, what triggered it, its
//! outcome). Exit status:
//!
//! - `0`: every replica answered, all serve the same revision, none is
//!   degraded;
//! - `1`: they answered, but disagree on the revision or one is degraded
//!   (the newest files did not load there);
//! - `2`: some replica did not answer (refused, timed out, not cansend).
//!
//! The HTTP client is hyper's (plain HTTP/1; no TLS: replicas are asked on
//! their pod or service address, or through `kubectl port-forward` /
//! `kubectl proxy`, whose path prefix a URL may carry).

use std::process::ExitCode;
use std::time::Duration;

use http_body_util::{BodyExt as _, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

/// The flags of `cansend status`. (`Debug` by hand: it would print the token.)
#[derive(Clone, clap::Args)]
pub struct StatusArgs {
    /// The replicas' base URLs: `http://10.0.0.5:8080`, `127.0.0.1:8080`
    /// (http is assumed), or a proxy path
    /// (`http://127.0.0.1:8001/api/v1/namespaces/default/pods/cansend-0:8080/proxy`).
    #[arg(required = true, value_name = "URL")]
    pub urls: Vec<String>,
    /// Longest wait for one replica's answers (`5s`, `500ms`).
    #[arg(long, default_value = "5s", value_parser = crate::service::config::parse_timeout)]
    pub timeout: Duration,
    /// Sent as `Authorization: Bearer …`; the output then says whether each
    /// replica accepted it as its admin token.
    #[arg(long, env = "CANSEND_ADMIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// `text`: one line per replica; `json`: one document.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

impl std::fmt::Debug for StatusArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusArgs")
            .field("urls", &self.urls)
            .field("timeout", &self.timeout)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .field("format", &self.format)
            .finish()
    }
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Lines of text, one per replica.
    Text,
    /// One JSON document.
    Json,
}

/// Why a replica's status could not be read.
#[derive(Debug, Error)]
pub enum StatusError {
    /// Not a URL.
    #[error("`{0}` is not a URL ({1})")]
    BadUrl(String, String),
    /// Not an http:// URL.
    #[error("`{0}`: only http:// is supported (ask the pod or service address, or a port-forward)")]
    NotHttp(String),
    /// No answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The request failed.
    #[error("GET {path}: {message}")]
    Request {
        /// The path asked.
        path: &'static str,
        /// What failed.
        message: String,
    },
    /// An answer with another status than 200.
    #[error("GET {path}: status {status}")]
    Status {
        /// The path asked.
        path: &'static str,
        /// The status answered.
        status: u16,
    },
    /// An answer that is not cansend's.
    #[error("GET {path}: not a cansend answer ({message})")]
    Body {
        /// The path asked.
        path: &'static str,
        /// Why it is not cansend's.
        message: String,
    },
}

/// The last reload a replica recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastReload {
    /// When (RFC 3339).
    pub at: String,
    /// `watch`, `poll`, `signal` or `api`.
    pub trigger: String,
    /// `applied`, `rejected` or `unchanged` (a rejection cleared).
    pub outcome: String,
}

/// What one replica said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replica {
    /// The replica's base URL, as given.
    pub url: String,
    /// It answered.
    pub reachable: bool,
    /// The revision it serves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// When it loaded that revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loaded_at: Option<String>,
    /// Its newest files were rejected: an older revision serves.
    pub degraded: bool,
    /// Why it is degraded (the rejected revision and its first error), or
    /// why it could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Its last reload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_reload: Option<LastReload>,
    /// Whether this caller passed the replica's admin check (the token, or
    /// a loopback peer where none is configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<bool>,
}

/// All replicas, and the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Every replica asked, in order.
    pub replicas: Vec<Replica>,
    /// The distinct revisions served, in the order first seen.
    pub revisions: Vec<String>,
    /// Every reachable replica serves the same revision.
    pub agree: bool,
    /// How many are degraded.
    pub degraded: usize,
    /// How many did not answer.
    pub unreachable: usize,
    /// The process' exit status: 0, 1 or 2 (see the module docs).
    pub exit: u8,
}

impl Report {
    /// The report on `replicas`.
    pub fn new(replicas: Vec<Replica>) -> Self {
        let mut revisions: Vec<String> = Vec::new();
        for r in &replicas {
            if let Some(rev) = &r.revision
                && !revisions.contains(rev)
            {
                revisions.push(rev.clone());
            }
        }
        let unreachable = replicas.iter().filter(|r| !r.reachable).count();
        let degraded = replicas.iter().filter(|r| r.reachable && r.degraded).count();
        let agree = revisions.len() <= 1;
        let exit = if unreachable > 0 {
            2
        } else if !agree || degraded > 0 {
            1
        } else {
            0
        };
        Self { replicas, revisions, agree, degraded, unreachable, exit }
    }

    /// One line per replica, then nothing else: the verdict is
    /// [`Report::summary`] (printed on stderr, so stdout stays one line per replica).
    pub fn lines(&self, with_admin: bool) -> Vec<String> {
        let url_width = self.replicas.iter().map(|r| r.url.len()).max().unwrap_or(0);
        self.replicas
            .iter()
            .map(|r| {
                let url = format!("{:url_width$}", r.url);
                if !r.reachable {
                    return format!("{url}  unreachable: {}", r.reason.as_deref().unwrap_or("no answer"));
                }
                let state = if r.degraded {
                    format!("degraded ({})", r.reason.as_deref().unwrap_or("the newest rule files did not load"))
                } else {
                    "ok".to_owned()
                };
                let reload = match &r.last_reload {
                    Some(l) => format!("last reload {} {} ({})", l.at, l.outcome, l.trigger),
                    None => format!("no reload since start (loaded {})", r.loaded_at.as_deref().unwrap_or("?")),
                };
                let admin = match (with_admin, r.admin) {
                    (true, Some(true)) => "  token accepted",
                    (true, _) => "  token refused",
                    _ => "",
                };
                format!("{url}  {}  {state}  {reload}{admin}", r.revision.as_deref().unwrap_or("?"))
            })
            .collect()
    }

    /// The verdict in one line.
    pub fn summary(&self) -> String {
        let n = self.replicas.len();
        match self.exit {
            0 => format!("{n} replica(s) on revision {}", self.revisions.first().map_or("?", String::as_str)),
            2 => format!("{} of {n} replica(s) unreachable", self.unreachable),
            _ if !self.agree => format!("replicas disagree: {} revisions among {n}", self.revisions.len()),
            _ => format!("{} of {n} replica(s) degraded: the newest rule files did not load there", self.degraded),
        }
    }
}

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// Largest answer read from one endpoint (a reload history with samples).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// `host:port` → `http://host:port`, no trailing `/`; https refused.
pub fn base_url(url: &str) -> Result<String, StatusError> {
    let url = url.trim();
    let full = if url.contains("://") { url.to_owned() } else { format!("http://{url}") };
    if !full.starts_with("http://") {
        return Err(StatusError::NotHttp(url.to_owned()));
    }
    let base = full.trim_end_matches('/').to_owned();
    base.parse::<hyper::Uri>().map_err(|e| StatusError::BadUrl(url.to_owned(), e.to_string()))?;
    Ok(base)
}

async fn get_json(client: &HttpClient, base: &str, path: &'static str, token: Option<&str>) -> Result<Value, StatusError> {
    let uri: hyper::Uri =
        format!("{base}{path}").parse().map_err(|e: hyper::http::uri::InvalidUri| StatusError::BadUrl(base.to_owned(), e.to_string()))?;
    let mut req = hyper::Request::get(uri).header(hyper::header::ACCEPT, "application/json");
    if let Some(t) = token {
        req = req.header(hyper::header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = req.body(Empty::new()).map_err(|e| StatusError::Request { path, message: e.to_string() })?;
    let res = client.request(req).await.map_err(|e| StatusError::Request { path, message: error_chain(&e) })?;
    let status = res.status().as_u16();
    if status != 200 {
        return Err(StatusError::Status { path, status });
    }
    let body = Limited::new(res.into_body(), MAX_BODY).collect().await.map_err(|e| StatusError::Body { path, message: e.to_string() })?;
    serde_json::from_slice(&body.to_bytes()).map_err(|e| StatusError::Body { path, message: e.to_string() })
}

/// An error and its causes, `: `-separated (hyper's top error alone says
/// only "client error (Connect)").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The three answers of one replica, read into a [`Replica`].
async fn ask(client: &HttpClient, url: &str, token: Option<&str>) -> Result<Replica, StatusError> {
    let base = base_url(url)?;
    let rules = get_json(client, &base, "/v1/rules", token).await?;
    let ready = get_json(client, &base, "/readyz", token).await?;
    let reloads = get_json(client, &base, "/v1/rules/reloads", token).await?;
    let revision = text(&rules, "revision").ok_or(StatusError::Body { path: "/v1/rules", message: "no `revision`".into() })?;
    let last_error = rules.get("last_error").filter(|e| !e.is_null());
    let degraded = ready.get("degraded").and_then(Value::as_bool).unwrap_or(false) || last_error.is_some();
    let reason = text(&ready, "reason")
        .or_else(|| last_error.and_then(|e| text(e, "revision")).map(|r| format!("the rule files of revision {r} did not load")));
    let last_reload = reloads.get("reloads").and_then(Value::as_array).and_then(|r| r.first()).map(|r| LastReload {
        at: text(r, "at").unwrap_or_default(),
        trigger: text(r, "trigger").unwrap_or_default(),
        outcome: text(r, "outcome").unwrap_or_default(),
    });
    let admin = reloads.get("samples_withheld").and_then(Value::as_bool).map(|withheld| !withheld);
    Ok(Replica {
        url: url.to_owned(),
        reachable: true,
        revision: Some(revision),
        loaded_at: text(&rules, "loaded_at"),
        degraded,
        reason: if degraded { reason } else { None },
        last_reload,
        admin,
    })
}

fn unreachable(url: &str, e: &StatusError) -> Replica {
    Replica {
        url: url.to_owned(),
        reachable: false,
        revision: None,
        loaded_at: None,
        degraded: false,
        reason: Some(e.to_string()),
        last_reload: None,
        admin: None,
    }
}

/// Ask every replica, concurrently, each within `timeout`.
pub async fn collect(urls: &[String], timeout: Duration, token: Option<&str>) -> Report {
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(timeout));
    let client: HttpClient = Client::builder(hyper_util::rt::TokioExecutor::new()).build(http);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, url) in urls.iter().enumerate() {
        let (client, url, token) = (client.clone(), url.clone(), token.map(str::to_owned));
        tasks.spawn(async move {
            let answer = match tokio::time::timeout(timeout, ask(&client, &url, token.as_deref())).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => unreachable(&url, &e),
                Err(_) => unreachable(&url, &StatusError::Timeout(timeout)),
            };
            (i, answer)
        });
    }
    let mut replicas: Vec<Option<Replica>> = vec![None; urls.len()];
    while let Some(done) = tasks.join_next().await {
        if let Ok((i, r)) = done
            && let Some(slot) = replicas.get_mut(i)
        {
            *slot = Some(r);
        }
    }
    let replicas = replicas
        .into_iter()
        .zip(urls)
        .map(|(r, url)| {
            r.unwrap_or_else(|| unreachable(url, &StatusError::Request { path: "/v1/rules", message: "the query failed".into() }))
        })
        .collect();
    Report::new(replicas)
}

/// `cansend status`: print the report, return its exit status.
pub fn run(args: StatusArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let token = args.token.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let report = runtime.block_on(collect(&args.urls, args.timeout, token));
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Text => {
            for line in report.lines(token.is_some()) {
                let _ = writeln!(out, "{line}");
            }
            eprintln!("{}", report.summary());
        }
        Format::Json => {
            let _ = writeln!(out, "{}", serde_json::to_string_pretty(&report).unwrap_or_default());
        }
    }
    ExitCode::from(report.exit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(url: &str, revision: &str, degraded: bool) -> Replica {
        Replica {
            url: url.into(),
            reachable: true,
            revision: Some(revision.into()),
            loaded_at: Some("2026-11-24T12:00:00.000Z".into()),
            degraded,
            reason: degraded.then(|| "the rule files of revision sha256:bad did not load".into()),
            last_reload: None,
            admin: Some(false),
        }
    }

    #[test]
    fn exit_status_by_verdict() {
        let agree = Report::new(vec![up("a", "sha256:1", false), up("b", "sha256:1", false)]);
        assert_eq!((agree.exit, agree.agree, agree.revisions.len()), (0, true, 1));
        assert!(agree.summary().contains("2 replica(s) on revision sha256:1"), "{}", agree.summary());

        let split = Report::new(vec![up("a", "sha256:1", false), up("b", "sha256:2", false)]);
        assert_eq!((split.exit, split.agree), (1, false));
        assert_eq!(split.revisions, ["sha256:1", "sha256:2"]);
        assert!(split.summary().contains("disagree"), "{}", split.summary());

        let degraded = Report::new(vec![up("a", "sha256:1", true), up("b", "sha256:1", false)]);
        assert_eq!((degraded.exit, degraded.degraded), (1, 1));

        let down = unreachable("c", &StatusError::Timeout(Duration::from_secs(1)));
        let gone = Report::new(vec![up("a", "sha256:1", false), up("b", "sha256:2", true), down]);
        assert_eq!((gone.exit, gone.unreachable), (2, 1), "unreachable wins over disagreement");
        assert!(gone.summary().contains("1 of 3 replica(s) unreachable"), "{}", gone.summary());
    }

    #[test]
    fn one_line_per_replica() {
        let mut a = up("http://a:8080", "sha256:1", false);
        a.last_reload = Some(LastReload { at: "2026-11-24T12:01:00.000Z".into(), trigger: "watch".into(), outcome: "applied".into() });
        let b = up("http://bb:8080", "sha256:1", true);
        let c = unreachable("http://c:8080", &StatusError::Timeout(Duration::from_secs(1)));
        let lines = Report::new(vec![a, b, c]).lines(true);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], "http://a:8080   sha256:1  ok  last reload 2026-11-24T12:01:00.000Z applied (watch)  token refused");
        assert!(lines[1].starts_with("http://bb:8080  sha256:1  degraded (the rule files of revision sha256:bad did not load)  no reload since start (loaded 2026-11-24T12:00:00.000Z)"), "{}", lines[1]);
        assert_eq!(lines[2], "http://c:8080   unreachable: no answer within 1s");
    }

    #[test]
    fn urls() {
        assert_eq!(base_url("127.0.0.1:8080").ok().as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(base_url("http://h:1/proxy/").ok().as_deref(), Some("http://h:1/proxy"));
        assert!(matches!(base_url("https://h:1"), Err(StatusError::NotHttp(_))));
        assert!(matches!(base_url("http://bad host"), Err(StatusError::BadUrl(..))));
    }
}
