//! `POST /v1/can-send` and `POST /v1/can-send/batch`: the decision.
//!
//! Both read the body themselves (see [`crate::service::body`]) and decode
//! it strictly in two steps — shape ([`request::decode`]), then names
//! against the rules ([`request::bind`]) — so every problem is a 422 with a
//! pointer. A batch decides every item against the one snapshot loaded
//! at its start; a bad item gets its problem in place.
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
use crate::decision::{DecisionBody, render};
use crate::engine::evaluate;
use crate::engine::model::RuleSet;
use crate::request::{self, CanSendRequest, FieldError};
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
pub enum BatchItem {
    Decision(DecisionBody),
    Problem(Problem),
}

/// The answer of `POST /v1/can-send/batch`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchBody {
    /// One per request, in order.
    pub decisions: Vec<BatchItem>,
    /// The revision every item was decided against.
    pub revision: String,
}

fn explain(query: Result<Query<DecideQuery>, QueryRejection>) -> Result<bool, Problem> {
    query.map(|Query(q)| q.explain).map_err(|e| Problem::bad_query(e.body_text()))
}

/// One `POST /v1/can-send` body decided against `rs` — the decision, or
/// the problem (400 or 422) the API answers — and the decoded request.
/// `now` (ms since the epoch) is the instant of a request without `at`.
/// `cansend eval` answers with it too, so the command line and the API
/// cannot drift apart.
pub fn answer(rs: &RuleSet, bytes: &[u8], explain: bool, now: i64) -> Result<(DecisionBody, CanSendRequest), Problem> {
    match body::decode_fast::<CanSendRequest>(bytes) {
        Some(r) => decide_decoded(rs, &r, now, explain).map(|d| (d, r)),
        None => decide(rs, &body::parse(bytes)?, now, explain),
    }
    .map_err(Problem::invalid)
}

/// Decode, bind and decide one request (a JSON value) against `rs` at
/// `now`; the decoded request comes back with the answer.
fn decide(rs: &RuleSet, v: &Json, now: i64, explain: bool) -> Result<(DecisionBody, CanSendRequest), Vec<FieldError>> {
    body::expect_object(v)?;
    let r = request::decode(v)?;
    let answer = decide_decoded(rs, &r, now, explain)?;
    Ok((answer, r))
}

/// Bind and decide one decoded request against `rs` at `now`.
fn decide_decoded(rs: &RuleSet, r: &CanSendRequest, now: i64, explain: bool) -> Result<DecisionBody, Vec<FieldError>> {
    let input = request::bind(rs, r, now)?;
    let decision = evaluate(rs, &input, explain);
    Ok(render(rs, &input, &decision))
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
        (status = 200, description = "The decision, with every violated rule", body = DecisionBody),
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
    let snap = app.snapshot();
    let now = crate::now_ms();
    let (answer, r) = answer(&snap.rules, &bytes, explain, now)?;
    app.live().recent().record(r, now, bytes.len());
    app.metrics().decision(answer.allowed);
    Ok(json(StatusCode::OK, &answer))
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
    let rs = &snap.rules;
    let (now, recent) = (crate::now_ms(), app.live().recent());
    let answer = |i: usize, result: Result<DecisionBody, Vec<FieldError>>| match result {
        Ok(d) => {
            app.metrics().decision(d.allowed);
            BatchItem::Decision(d)
        }
        Err(errors) => BatchItem::Problem(Problem::invalid(errors).nested_under(&format!("/requests/{i}"))),
    };
    // Fast path when every item has the right shape; else item by item.
    let decisions: Vec<BatchItem> = match body::decode_fast::<FastBatch>(&bytes) {
        Some(batch) if batch.requests.len() > MAX_BATCH => return Err(too_many(batch.requests.len())),
        Some(batch) => {
            // Each item's size as received, on average.
            let size = bytes.len() / batch.requests.len().max(1);
            batch
                .requests
                .into_iter()
                .enumerate()
                .map(|(i, request::strict::Obj(r))| {
                    let result = decide_decoded(rs, &r, now, explain);
                    if result.is_ok() {
                        recent.record(r, now, size);
                    }
                    answer(i, result)
                })
                .collect()
        }
        None => {
            let v = body::parse(&bytes)?;
            body::expect_object(&v).map_err(Problem::invalid)?;
            let batch: BatchRequest = request::decode_as(&v).map_err(Problem::invalid)?;
            if batch.requests.len() > MAX_BATCH {
                return Err(too_many(batch.requests.len()));
            }
            let size = bytes.len() / batch.requests.len().max(1);
            let decided = |item: &Json| {
                decide(rs, item, now, explain).map(|(d, r)| {
                    recent.record(r, now, size);
                    d
                })
            };
            batch.requests.iter().enumerate().map(|(i, item)| answer(i, decided(item))).collect()
        }
    };
    Ok(json(StatusCode::OK, &BatchBody { decisions, revision: rs.revision.to_string() }))
}
