//! `POST /v1/can-send` and `POST /v1/can-send/batch`: the decision.
//!
//! Both read the body themselves (see [`crate::service::body`]), decode it
//! strictly ([`CanSendRequest::from_slice`]) and decide it with the
//! snapshot's [`Engine`](crate::Engine) — names checked against the rules
//! there — so every problem is a 422 with a pointer. A batch decides every
//! item against the one snapshot loaded at its start; a bad item gets its
//! problem in place.
//!
//! Every request (and batch item) that was decided is then moved into the
//! ring of recent requests ([`crate::recent`]) — a move, not a copy, and
//! never a wait — for replay when the rules change.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::json;
use crate::facade::Engine;
use crate::render::Answer;
use crate::request::{self, CanSendRequest, FieldError, RequestError};
use crate::service::body;
use crate::service::problem::Problem;
use crate::service::state::{AppState, MAX_BATCH};

/// Query parameters of the decision routes.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DecideQuery {
    /// Add a `trace` of every rule evaluated and why it did or did not fire:
    /// `true`, `1` or no value (`?explain`); `false` or `0` for none.
    #[serde(default, deserialize_with = "flag")]
    #[param(value_type = Option<String>)]
    pub explain: bool,
}

/// A query flag: `true`/`1`/empty, or `false`/`0`; anything else is refused
/// (a 400), so a misspelt value is never read as "off".
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let s = String::deserialize(d)?;
    match s.as_str() {
        "" | "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => {
            Err(serde::de::Error::custom(format!("expected true, false, 1 or 0, not `{}`", other.chars().take(32).collect::<String>())))
        }
    }
}

/// `POST /v1/can-send/batch` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Up to 1000 can-send requests, decided in order.
    #[schema(value_type = Vec<CanSendRequest>)]
    pub requests: Vec<Json>,
}

/// One answer of a batch: a decision, or the problem of that item.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum BatchItem<'e> {
    /// The item's decision.
    Decision(Answer<'e>),
    /// Why the item was not decided.
    Problem(Problem),
}

/// The answer of `POST /v1/can-send/batch`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchBody<'e> {
    /// One per request, in order.
    pub decisions: Vec<BatchItem<'e>>,
    /// The revision every item was decided against.
    pub revision: &'e str,
}

fn explain(query: Result<Query<DecideQuery>, QueryRejection>) -> Result<bool, Problem> {
    query.map(|Query(q)| q.explain).map_err(|e| Problem::bad_query(e.body_text()))
}

/// One item of a batch: its decision (counted), or its problem, pointed
/// at under `/requests/{i}`.
fn item<'e>(app: &AppState, i: usize, result: Result<Answer<'e>, RequestError>) -> BatchItem<'e> {
    match result {
        Ok(d) => {
            app.metrics().decision(d.allowed);
            BatchItem::Decision(d)
        }
        Err(e) => BatchItem::Problem(Problem::from(e).nested_under(&format!("/requests/{i}"))),
    }
}

/// A batch body decoded in one go by the fast path.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastBatch {
    requests: Vec<request::strict::Obj<CanSendRequest>>,
}

/// May this sender send this message to this client over this channel, now?
#[utoipa::path(
    post,
    path = "/v1/can-send",
    tag = "decisions",
    params(DecideQuery),
    request_body(content = CanSendRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The decision, with every violated rule", body = Answer),
        (status = 400, description = "Malformed JSON or query", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not declared as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown field or name, wrong type; a pointer per error", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn can_send(
    State(app): State<AppState>,
    query: Result<Query<DecideQuery>, QueryRejection>,
    req: Request,
) -> Result<Response, Problem> {
    let explain = explain(query)?;
    let bytes = body::bytes(req, &app.limits()).await?;
    let r = CanSendRequest::from_slice(&bytes)?;
    let snap = app.snapshot();
    let now = crate::now_ms();
    let answer = snap.engine.decide_with(&r, now, explain)?;
    app.metrics().decision(answer.allowed);
    let res = json(StatusCode::OK, &answer);
    app.live().recent().record(r, now, bytes.len());
    Ok(res)
}

/// Up to 1000 decisions in one call, in order, all against one revision.
#[utoipa::path(
    post,
    path = "/v1/can-send/batch",
    tag = "decisions",
    params(DecideQuery),
    request_body(content = BatchRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "One decision (or the item's problem) per request, in order", body = BatchBody),
        (status = 400, description = "Malformed JSON or query", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not declared as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not `{\"requests\": [...]}`, or more than 1000 requests", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn batch(
    State(app): State<AppState>,
    query: Result<Query<DecideQuery>, QueryRejection>,
    req: Request,
) -> Result<Response, Problem> {
    let explain = explain(query)?;
    let bytes = body::bytes(req, &app.limits()).await?;
    let too_many = |n: usize| {
        Problem::invalid(vec![FieldError {
            pointer: "/requests".into(),
            message: format!("{n} requests; a batch takes at most {MAX_BATCH}"),
        }])
    };
    let snap = app.snapshot();
    let engine: &Engine = &snap.engine;
    let (now, recent) = (crate::now_ms(), app.live().recent());
    let answer = |i: usize, result| item(&app, i, result);
    // Fast path when every item has the right shape; else item by item.
    let decisions: Vec<BatchItem> = match request::json::decode_fast::<FastBatch>(&bytes) {
        Some(batch) if batch.requests.len() > MAX_BATCH => return Err(too_many(batch.requests.len())),
        Some(batch) => {
            // Each item's size as received, on average.
            let size = bytes.len() / batch.requests.len().max(1);
            batch
                .requests
                .into_iter()
                .enumerate()
                .map(|(i, request::strict::Obj(r))| {
                    let result = engine.decide_with(&r, now, explain);
                    let decided = result.is_ok();
                    let item = answer(i, result);
                    if decided {
                        recent.record(r, now, size);
                    }
                    item
                })
                .collect()
        }
        None => {
            let v = request::json::parse(&bytes)?;
            request::json::expect_object(&v).map_err(Problem::invalid)?;
            let batch: BatchRequest = request::decode_as(&v).map_err(Problem::invalid)?;
            if batch.requests.len() > MAX_BATCH {
                return Err(too_many(batch.requests.len()));
            }
            let size = bytes.len() / batch.requests.len().max(1);
            let mut decisions = Vec::with_capacity(batch.requests.len());
            for (i, item) in batch.requests.iter().enumerate() {
                match CanSendRequest::from_json(item) {
                    Ok(r) => {
                        let result = engine.decide_with(&r, now, explain);
                        let decided = result.is_ok();
                        decisions.push(answer(i, result));
                        if decided {
                            recent.record(r, now, size);
                        }
                    }
                    Err(e) => decisions.push(answer(i, Err(e))),
                }
            }
            decisions
        }
    };
    Ok(json(StatusCode::OK, &BatchBody { decisions, revision: engine.revision() }))
}
