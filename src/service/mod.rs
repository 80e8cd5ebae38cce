//! `cansend serve`: HTTP API v1 over the library.
//!
//! ```text
//! socket ─▶ layers (request id, log, problem+json, metrics, admission, panic guard, body limit)
//!        ─▶ route ─▶ api::* handler ─▶ AppState::snapshot() (one revision)
//!                                    ─▶ Engine::decide (bind ─▶ engine ─▶ render)
//! ```
//!
//! One concern per file: [`config`] (flags), [`conn`] (connections:
//! deadlines, graceful shutdown), [`admission`] (the in-flight budgets:
//! 503 when full), [`trim`] (free memory back after a burst), [`state`] (the live rule
//! set — see [`crate::reload`] — metrics and limits), [`body`] (JSON in, with exact statuses), [`problem`] (RFC 9457
//! errors), [`layers`] (middleware), [`metrics`], [`decision_log`] (one JSON
//! line per decision, written off the request path), [`api`] (handlers),
//! [`openapi`] (generated document), [`console`] (the pages built into the
//! binary), [`run`] (process: logs, signals, graceful shutdown).
//!
//! Tests and embedders start the real server with [`serve`] on any
//! listener, e.g. `127.0.0.1:0`.

pub mod admin;
pub mod admission;
pub mod api;
pub mod body;
pub mod config;
pub mod conn;
pub mod console;
pub mod decision_log;
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
use axum::middleware::{from_fn_with_state, map_response_with_state};
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

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
}

/// Every route of API v1, with its middleware, over `app`.
///
/// Each `.layer` wraps everything above it, so the last is outermost: the
/// order is the one described in [`layers`]. A new route is one more
/// `.route` line (and one more path in [`openapi::ApiDoc`]); it gets every
/// layer.
pub fn router(app: AppState) -> Router {
    let limits = app.limits();
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
        .layer(RequestBodyLimitLayer::new(limits.body_bytes))
        .layer(DefaultBodyLimit::disable())
        .layer(CatchPanicLayer::new())
        .layer(from_fn_with_state(app.clone(), admission::admit))
        .layer(axum::middleware::from_fn(layers::query_guard))
        .layer(from_fn_with_state(app.clone(), layers::track))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(layers::RequestIds::new()))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(layers::span)
                        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(map_response_with_state(limits.body_bytes, layers::problem_json)),
        )
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
    conn::serve(listener, router(app), header_timeout, shutdown).await
}
