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
//! never a wait — for replay when the rules change and for "why was this
//! refused?" (`GET /v1/decisions/{request_id}`), and handed to the decision
//! log when there is one (a queue; never a wait either). A batch item is
//! known as `<request id>:<index>`. Every answer carries the revision that
//! decided in `x-cansend-revision`, so a caching caller needs no body.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use hyper::body::Body;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::json;
use crate::facade::Engine;
use crate::recent::Answered;
use crate::render::Answer;
use crate::request::{self, CanSendRequest, FieldError, RequestError};
use crate::service::body;
use crate::service::decision_log::Entry;
use crate::service::layers::REQUEST_ID_NAME;
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
    #[param(value_type = Option<Flag>)]
    pub explain: bool,
}

/// The values a query flag takes (`?explain` alone is `true`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "a schema of the values the query takes; decoded by `flag`")]
pub enum Flag {
    /// On.
    #[schema(rename = "true")]
    True,
    /// On.
    #[schema(rename = "1")]
    One,
    /// On (`?explain` or `?explain=`).
    #[schema(rename = "")]
    Empty,
    /// Off.
    #[schema(rename = "false")]
    False,
    /// Off.
    #[schema(rename = "0")]
    Zero,
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

/// `?explain` of the request's query (none: `false`).
fn explain(uri: &axum::http::Uri) -> Result<bool, Problem> {
    if uri.query().is_none() {
        return Ok(false);
    }
    let query: Result<Query<DecideQuery>, QueryRejection> = Query::try_from_uri(uri);
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

/// The header that carries the revision that decided.
pub const REVISION_HEADER: &str = "x-cansend-revision";

/// [`REVISION_HEADER`] as a header name (not parsed again on every answer).
const REVISION_HEADER_NAME: axum::http::HeaderName = axum::http::HeaderName::from_static(REVISION_HEADER);

/// The `x-request-id` the request got (set by the front).
fn request_id(headers: &HeaderMap) -> Box<str> {
    headers.get(REQUEST_ID_NAME).and_then(|v| v.to_str().ok()).unwrap_or_default().into()
}

/// What is kept of one decision once it is answered: the request in the
/// ring (with the id of its answer), the entry in the decision log.
struct Keep<'a> {
    app: &'a AppState,
    engine: &'a Engine,
    revision: Arc<str>,
    now: i64,
    start: Instant,
}

impl Keep<'_> {
    fn decided(&self, r: CanSendRequest, answer: &Answer<'_>, id: Box<str>, size: usize) {
        if let Some(log) = &self.app.operations().decision_log {
            let body = log.wants_body().then(|| serde_json::to_value(&r).ok().map(crate::impact::without_nulls)).flatten();
            log.record(Entry {
                request_id: id.to_string(),
                tenant: answer.tenant.to_owned(),
                channel: r.channel.clone(),
                role: r.sender.role.clone(),
                action: r.action.clone().unwrap_or_else(|| self.engine.default_action().to_owned()),
                allowed: answer.allowed,
                codes: answer.violations.iter().map(|v| v.code.to_owned()).collect(),
                rules: answer.violations.iter().map(|v| v.rule.to_owned()).collect(),
                revision: answer.revision.to_owned(),
                latency_us: u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX),
                body,
            });
        }
        let answered = Answered { request_id: id, revision: self.revision.clone(), allowed: answer.allowed };
        self.app.live().recent().record_answered(r, self.now, size, Some(answered));
    }
}

/// `res` with the revision that decided.
fn with_revision(app: &AppState, mut res: Response, engine: &Engine) -> Response {
    if let Some(v) = app.revision_header(engine.revision_arc()) {
        res.headers_mut().insert(REVISION_HEADER_NAME, v);
    }
    res
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
        (status = 503, description = "The in-flight budget is full (`Retry-After: 1`; `reason`: `inflight_bytes` or `inflight_requests`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn can_send(State(app): State<AppState>, req: Request) -> Result<Response, Problem> {
    let (parts, body) = req.into_parts();
    can_send_parts(&app, &parts, body).await
}

/// [`can_send`] of a request's head and body (the front calls it directly).
pub async fn can_send_parts<B>(app: &AppState, parts: &Parts, body: B) -> Result<Response, Problem>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let start = Instant::now();
    let explain = explain(&parts.uri)?;
    let bytes = body::read(&parts.headers, body, &app.limits()).await?;
    let r = CanSendRequest::from_slice(&bytes)?;
    let snap = app.snapshot_guard();
    let engine = &snap.engine;
    let now = crate::now_ms();
    let answer = engine.decide_with(&r, now, explain)?;
    app.metrics().decision(answer.allowed);
    let res = with_revision(app, json(StatusCode::OK, &answer), engine);
    let keep = Keep { app, engine, revision: engine.revision_shared(), now, start };
    keep.decided(r, &answer, request_id(&parts.headers), bytes.len());
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
        (status = 503, description = "The in-flight budget is full (`Retry-After: 1`; `reason`: `inflight_bytes` or `inflight_requests`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn batch(State(app): State<AppState>, req: Request) -> Result<Response, Problem> {
    let (parts, body) = req.into_parts();
    batch_parts(&app, &parts, body).await
}

/// [`batch`] of a request's head and body (the front calls it directly).
pub async fn batch_parts<B>(app: &AppState, parts: &Parts, body: B) -> Result<Response, Problem>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let start = Instant::now();
    let explain = explain(&parts.uri)?;
    let id = request_id(&parts.headers);
    let bytes = body::read(&parts.headers, body, &app.limits()).await?;
    let too_many = |n: usize| {
        Problem::invalid(vec![FieldError {
            pointer: "/requests".into(),
            message: format!("{n} requests; a batch takes at most {MAX_BATCH}"),
        }])
    };
    let snap = app.snapshot_guard();
    let engine: &Engine = &snap.engine;
    let now = crate::now_ms();
    let keep = Keep { app, engine, revision: engine.revision_shared(), now, start };
    // `<id>:<i>`, without `format!`'s machinery for each of 1000 items.
    let mut id_buf = String::with_capacity(id.len() + 5);
    let mut item_id = |i: usize| -> Box<str> {
        id_buf.clear();
        id_buf.push_str(&id);
        id_buf.push(':');
        id_buf.push_str(itoa::Buffer::new().format(i));
        id_buf.as_str().into()
    };
    let answer = |i: usize, result| item(app, i, result);
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
                    if let Ok(a) = &result {
                        keep.decided(r, a, item_id(i), size);
                    }
                    answer(i, result)
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
                        if let Ok(a) = &result {
                            keep.decided(r, a, item_id(i), size);
                        }
                        decisions.push(answer(i, result));
                    }
                    Err(e) => decisions.push(answer(i, Err(e))),
                }
            }
            decisions
        }
    };
    Ok(with_revision(app, json(StatusCode::OK, &BatchBody { decisions, revision: engine.revision() }), engine))
}
