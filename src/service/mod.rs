//! `cansend serve`: HTTP API v1 over the library.
//!
//! ```text
//! socket ─▶ front (request id, route, query guard, admission, body limit,
//!                 panic guard, problem+json, metrics, access log)
//!        ─▶ api::* handler ─▶ AppState::snapshot() (one revision)
//!                                    ─▶ Engine::decide (bind ─▶ engine ─▶ render)
//! ```
//!
//! One concern per file: [`config`] (flags), [`conn`] (connections:
//! deadlines, graceful shutdown), [`admission`] (the in-flight budgets:
//! 503 when full), [`trim`] (free memory back after a burst), [`state`] (the live rule
//! set — see [`crate::reload`] — metrics and limits), [`body`] (JSON in, with exact statuses), [`problem`] (RFC 9457
//! errors), [`front`] (what every request goes through, in one service),
//! [`layers`] (its longer steps), [`access_log`], [`metrics`], [`decision_log`] (one JSON
//! line per decision, written off the request path), [`api`] (handlers),
//! [`openapi`] (generated document), [`console`] (the pages built into the
//! binary), [`run`] (process: logs, signals, graceful shutdown).
//!
//! Tests and embedders start the real server with [`serve`] on any
//! listener, e.g. `127.0.0.1:0`.

pub mod access_log;
pub mod admin;
pub mod admission;
pub mod api;
pub mod body;
pub mod config;
pub mod conn;
pub mod console;
pub mod decision_log;
pub mod front;
pub mod layers;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod run;
pub mod state;
pub mod trim;

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use config::ServeArgs;
pub use run::run;
pub use state::{Admin, AppState, Limits};

use api::{decide, decisions, ops, options, preview, reload, rules, validate};

/// The route templates of API v1 (also the `route` label of metrics).
pub mod routes {
    /// May this sender send this message?
    pub const CAN_SEND: &str = "/v1/can-send";
    /// Up to 1000 decisions in one call.
    pub const BATCH: &str = "/v1/can-send/batch";
    /// What the send dialog may offer.
    pub const SEND_OPTIONS: &str = "/v1/send-options";
    /// The served rule set.
    pub const RULES: &str = "/v1/rules";
    /// Reload now (admin).
    pub const RELOAD: &str = "/v1/rules/reload";
    /// The reload history.
    pub const RELOADS: &str = "/v1/rules/reloads";
    /// What would these files change? (admin)
    pub const VALIDATE: &str = "/v1/rules/validate";
    /// A stream of reloads (server-sent events).
    pub const EVENTS: &str = "/v1/rules/events";
    /// A tenant's effective settings.
    pub const TENANT: &str = "/v1/tenants/{tenant}";
    /// What would this change of a tenant's overrides give? (admin)
    pub const PREVIEW: &str = "/v1/tenants/{tenant}/preview";
    /// Alive.
    pub const HEALTHZ: &str = "/healthz";
    /// Ready to serve (with `?revision=`: serving that revision).
    pub const READYZ: &str = "/readyz";
    /// Prometheus metrics.
    pub const METRICS: &str = "/metrics";
    /// This API's OpenAPI document.
    pub const OPENAPI: &str = "/openapi.json";
    /// A recent decision by its request id, explained (admin).
    pub const DECISION: &str = "/v1/decisions/{request_id}";
    /// The console's page.
    pub const CONSOLE_INDEX: &str = "/";
    /// The console's other files.
    pub const CONSOLE_FILE: &str = "/console/{*path}";
    /// Every route above.
    pub const ALL: &[&str] = &[
        CAN_SEND,
        BATCH,
        SEND_OPTIONS,
        RULES,
        RELOAD,
        RELOADS,
        VALIDATE,
        EVENTS,
        TENANT,
        PREVIEW,
        HEALTHZ,
        READYZ,
        METRICS,
        OPENAPI,
        DECISION,
        CONSOLE_INDEX,
        CONSOLE_FILE,
    ];
    /// The routes of [`ALL`] that are pages, not the JSON API: they are not
    /// in `/openapi.json`.
    pub const NOT_API: &[&str] = &[CONSOLE_INDEX, CONSOLE_FILE];

    /// The query parameters a route takes; any other is a 400.
    pub fn params(route: &str) -> &'static [&'static str] {
        match route {
            CAN_SEND | BATCH => &["explain"],
            TENANT => &["at"],
            READYZ => &["revision"],
            _ => &[],
        }
    }

    /// The label of requests no route took.
    pub const UNMATCHED: &str = "unmatched";

    /// The index of the template in [`ALL`]; `ALL.len()` for anything else.
    pub fn index(matched: Option<&str>) -> usize {
        matched.and_then(|m| ALL.iter().position(|r| *r == m)).unwrap_or(ALL.len())
    }

    /// The index in [`ALL`] of the template that `path` matches (as the
    /// router matches it: a parameter is one segment — which may be empty
    /// only before another segment —, the console's catch-all at least
    /// one character); `ALL.len()` if none.
    pub fn classify(path: &str) -> usize {
        let template = match path {
            "/" => Some(CONSOLE_INDEX),
            "/v1/can-send" => Some(CAN_SEND),
            "/v1/can-send/batch" => Some(BATCH),
            "/v1/send-options" => Some(SEND_OPTIONS),
            "/v1/rules" => Some(RULES),
            "/v1/rules/reload" => Some(RELOAD),
            "/v1/rules/reloads" => Some(RELOADS),
            "/v1/rules/validate" => Some(VALIDATE),
            "/v1/rules/events" => Some(EVENTS),
            "/healthz" => Some(HEALTHZ),
            "/readyz" => Some(READYZ),
            "/metrics" => Some(METRICS),
            "/openapi.json" => Some(OPENAPI),
            _ => {
                let segment = |s: &str| !s.is_empty() && !s.contains('/');
                if let Some(rest) = path.strip_prefix("/v1/tenants/") {
                    match rest.split_once('/') {
                        None if segment(rest) => Some(TENANT),
                        Some((tenant, "preview")) if !tenant.contains('/') => Some(PREVIEW),
                        _ => None,
                    }
                } else if let Some(id) = path.strip_prefix("/v1/decisions/") {
                    segment(id).then_some(DECISION)
                } else if let Some(file) = path.strip_prefix("/console/") {
                    (!file.is_empty()).then_some(CONSOLE_FILE)
                } else {
                    None
                }
            }
        };
        index(template)
    }
}

/// Every route of API v1 over `app`. The front ([`front`]) puts every
/// request through its steps first, and dispatches `POST /v1/can-send`
/// and `POST /v1/can-send/batch` itself; their routes are here too, so
/// that other methods get the router's 405 with `Allow`. A new route is
/// one more `.route` line, one more template in [`routes`] (and its
/// [`routes::classify`] arm) and one more path in [`openapi::ApiDoc`].
pub fn router(app: AppState) -> Router {
    Router::new()
        .route(routes::CAN_SEND, post(decide::can_send))
        .route(routes::BATCH, post(decide::batch))
        .route(routes::SEND_OPTIONS, post(options::send_options_handler))
        .route(routes::RULES, get(rules::rules))
        .route(routes::RELOAD, post(reload::reload))
        .route(routes::RELOADS, get(reload::reloads))
        .route(routes::VALIDATE, post(validate::validate))
        .route(routes::EVENTS, get(reload::events))
        .route(routes::TENANT, get(rules::tenant))
        .route(routes::PREVIEW, post(preview::preview))
        .route(routes::DECISION, get(decisions::decision))
        .route(routes::HEALTHZ, get(ops::healthz))
        .route(routes::READYZ, get(ops::readyz))
        .route(routes::METRICS, get(ops::metrics))
        .route(routes::OPENAPI, get(ops::openapi))
        .route(routes::CONSOLE_INDEX, get(console::index))
        .route(routes::CONSOLE_FILE, get(console::file))
        .fallback(layers::not_found)
        // Bodies are read within the limit by `body`; axum adds none of its own.
        .layer(DefaultBodyLimit::disable())
        .with_state(app)
}

/// Serve `app` on `listener` until `shutdown` completes; then stop
/// accepting, let in-flight requests finish, and return.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stopping = app.clone();
    let shutdown = async move {
        shutdown.await;
        // Event streams never end by themselves: end them, or graceful
        // shutdown would wait for their clients forever.
        stopping.begin_shutdown();
    };
    let header_timeout = app.limits().timeout;
    let fronts = front::Fronts::new(app.clone(), router(app));
    conn::serve(listener, fronts, header_timeout, shutdown).await
}
