//! Reloading and following the rule set: `POST /v1/rules/reload` (admin),
//! `GET /v1/rules/reloads` (the history) and `GET /v1/rules/events`
//! (server-sent events).
//!
//! A reload re-reads and compiles the whole directory off the async
//! threads ([`tokio::task::spawn_blocking`]); what it does — no-op on the
//! same content hash, swap when all is good, keep serving and report when
//! not — is [`crate::reload::Live::reload`]'s business, shared with the
//! watcher and SIGHUP.
//!
//! An applied reload carries its [`Impact`] on the recent requests. Its
//! samples are requests as clients sent them — client data — so they are
//! shown to admins only: in the answer of `POST /v1/rules/reload`, and in
//! `GET /v1/rules/reloads` when the caller passes the admin check. Other
//! callers of the history, and every event stream, get the counts alone.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;

use super::json;
use crate::impact::Impact;
use crate::reload::{Outcome, ReloadRecord};
use crate::service::admin;
use crate::service::problem::Problem;
use crate::service::state::AppState;

/// A reload that applied a new revision or found nothing new.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReloadBody {
    /// `applied` or `unchanged` (a rejected reload is a 422 problem).
    pub outcome: String,
    /// The revision serving now.
    pub revision: String,
    /// The revision that served before, when a new one was applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// With `unchanged`: the rejected revision that was pending and is no
    /// longer (the files went back to the serving revision).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cleared: Option<String>,
    /// With `applied`: the recent requests decided by `previous` and by
    /// `revision`, samples included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
}

/// Reload the rules now. Admin.
///
/// `200` when the files were applied or unchanged; `422` (problem, type
/// `urn:cansend:problem:rules-rejected`) when they do not load — the
/// previous revision keeps serving, and the problem carries `serving` and
/// `rejected` (`revision`, `at`, `errors` with `file`, `line`, `column`).
#[utoipa::path(
    post,
    path = "/v1/rules/reload",
    tag = "rules",
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Applied or unchanged", body = ReloadBody),
        (status = 401, description = "A token is configured and was not presented", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No token is configured and the peer is not loopback", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The files did not load; the previous revision keeps serving", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reload(State(app): State<AppState>, req: Request) -> Response {
    if let Err(denied) = admin::check_request(app.admin(), &req) {
        return denied.into_response();
    }
    let live = app.live().clone();
    let outcome = match tokio::task::spawn_blocking(move || live.reload("api")).await {
        Ok(o) => o,
        Err(e) => {
            tracing::error!("the reload task failed: {e}");
            return Problem::http(StatusCode::INTERNAL_SERVER_ERROR, "the reload failed unexpectedly; the previous revision keeps serving")
                .into_response();
        }
    };
    match outcome {
        Outcome::Unchanged { revision, cleared } => {
            json(StatusCode::OK, &ReloadBody { outcome: "unchanged".into(), revision, previous: None, cleared, impact: None })
        }
        Outcome::Applied { previous, revision, impact } => json(
            StatusCode::OK,
            &ReloadBody { outcome: "applied".into(), revision, previous: Some(previous), cleared: None, impact: Some(impact) },
        ),
        Outcome::Rejected { serving, rejected } => {
            let n = rejected.errors.iter().filter(|d| d.is_error()).count();
            let detail = format!("the rule files did not load ({n} error(s)); revision {serving} keeps serving");
            let problem = Problem {
                kind: "urn:cansend:problem:rules-rejected".into(),
                title: "Rules rejected".into(),
                ..Problem::http(StatusCode::UNPROCESSABLE_ENTITY, detail)
            };
            problem.with_members([("serving", serde_json::json!(serving)), ("rejected", serde_json::json!(rejected))])
        }
    }
}

/// The reload history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReloadsBody {
    /// The revision serving now.
    pub revision: String,
    /// The last reloads that applied or rejected a revision, newest first
    /// (at most 100; reloads that found nothing new are not kept, unless
    /// they cleared a rejection). An `applied` one carries its `impact`.
    pub reloads: Vec<ReloadRecord>,
    /// `true` when the impacts' samples (requests as clients sent them)
    /// were left out: the caller did not pass the admin check.
    pub samples_withheld: bool,
}

/// The last reloads: which revision replaced which with what impact on the
/// recent requests, and the rejected ones with their errors. Open to all;
/// the impacts' samples only to admins.
#[utoipa::path(get, path = "/v1/rules/reloads", tag = "rules", responses((status = 200, body = ReloadsBody)))]
pub async fn reloads(State(app): State<AppState>, req: Request) -> Response {
    let admin = admin::check_request(app.admin(), &req).is_ok();
    let revision = app.snapshot().engine.revision().to_owned();
    let mut reloads = app.live().history();
    if !admin {
        reloads = reloads.iter().map(ReloadRecord::without_samples).collect();
    }
    json(StatusCode::OK, &ReloadsBody { revision, reloads, samples_withheld: !admin })
}

/// Server-sent events: one `revision` event on connecting (the revision
/// serving), then one `applied` or `rejected` event per reload, its data
/// the reload record as JSON and its `id` the revision serving after it.
/// A client that fell behind gets a fresh `revision` event. Callers drop
/// cached decisions on `applied`.
#[utoipa::path(
    get,
    path = "/v1/rules/events",
    tag = "rules",
    responses((status = 200, description = "An event stream (`revision`, `applied`, `rejected`)", body = String, content_type = "text/event-stream"))
)]
pub async fn events(State(app): State<AppState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribe before reading the revision: no reload falls between.
    let rx = app.live().subscribe();
    let first = revision_event(&app);
    let stopping = Box::pin(app.stopping());
    let stream = stream::unfold((Some(first), rx, stopping, app), |(first, mut rx, mut stopping, app)| async move {
        if let Some(ev) = first {
            return Some((Ok(ev), (None, rx, stopping, app)));
        }
        let ev = tokio::select! {
            () = &mut stopping => return None,
            r = rx.recv() => match r {
                Ok(record) => record_event(&record),
                Err(RecvError::Lagged(_)) => revision_event(&app),
                Err(RecvError::Closed) => return None,
            },
        };
        Some((Ok(ev), (None, rx, stopping, app)))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

fn revision_event(app: &AppState) -> Event {
    let snap = app.snapshot();
    let revision = snap.engine.revision().to_owned();
    let data = serde_json::json!({ "revision": revision, "loaded_at": snap.loaded_at_rfc3339() });
    Event::default().event("revision").id(revision).data(data.to_string())
}

fn record_event(record: &ReloadRecord) -> Event {
    let (name, id) = match &record.outcome {
        Outcome::Applied { revision, .. } => ("applied", revision),
        Outcome::Rejected { serving, .. } => ("rejected", serving),
        // Sent only when it ends a rejection (a broken edit reverted).
        Outcome::Unchanged { revision, .. } => ("recovered", revision),
    };
    // Counts only: event streams are open to all (see the module docs).
    let data = serde_json::to_string(&record.without_samples()).unwrap_or_else(|_| "{}".to_owned());
    Event::default().event(name).id(id.clone()).data(data)
}
