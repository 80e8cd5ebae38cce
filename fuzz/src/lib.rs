//! The bodies of the fuzz targets: each takes arbitrary bytes, drives one
//! input surface of cansend through the public API the server itself uses,
//! and asserts invariants — a panic is a finding.
//!
//! Shared by `fuzz_targets/*` (libFuzzer, via `cargo fuzz`) and by the root
//! crate's `tests/fuzz_seeds.rs`, which includes this file as a module and
//! runs the committed seed corpus (`fuzz/seeds/<target>/`) through the same
//! functions under plain `cargo test`. So this file uses only what the root
//! crate depends on — never libfuzzer.
//!
//! | target | input | path |
//! | --- | --- | --- |
//! | [`request`] | a `POST /v1/can-send` body | fast decode, parse, strict decode, then `Engine::decide` and `Engine::explain` |
//! | [`rule_file`] | one rule file, YAML or TOML | overlaid on the built-in rules, `Engine::from_sources`, then used |
//! | [`http`] | a body for can-send, batch or send-options | the real router, in process (`tower::ServiceExt::oneshot`) |

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

use std::sync::OnceLock;

use cansend::render::Problem;
use cansend::request::json;
use cansend::{Answer, Diagnostic, Engine, FieldError, Request, RequestError, SendOptionsRequest, SourceFile};
use serde_json::Value as Json;

/// The one instant every target decides at (ms since the epoch), so a run
/// is reproducible. (The built-in rules read no clock-relative field.)
pub const NOW: i64 = 1_764_000_000_000;

fn builtin() -> &'static Engine {
    static RULES: OnceLock<Engine> = OnceLock::new();
    RULES.get_or_init(|| Engine::builtin().expect("the built-in rules load"))
}

fn to_json<T: serde::Serialize>(t: &T) -> Json {
    serde_json::to_value(t).expect("an answer serializes to JSON")
}

// ---------------------------------------------------------------- request

/// Arbitrary bytes as a `POST /v1/can-send` body, against the built-in rules.
///
/// - The fast path (bytes straight into the request) and the general path
///   (parse to a tree, then decode with pointers) accept the same bodies
///   and decode them alike; binding either gives the same input.
/// - A refused body is a 400 or a 422; every 422 pointer names the field
///   (a missing or unknown field: its parent object exists in the body;
///   a name or limit refused when binding: the field itself exists).
/// - A decided body: see [`decide`].
pub fn request(data: &[u8]) {
    let engine = builtin();
    let fast = json::decode_fast::<Request>(data);
    let value = match json::parse(data) {
        Ok(v) => v,
        Err(e) => {
            assert!(fast.is_none(), "the fast path accepted a body the general path cannot parse: {e:?}");
            assert!(matches!(e.status(), 400 | 422), "parse answered {}", e.status());
            to_json(&Problem::from(e));
            return;
        }
    };
    let general = Request::from_json(&value);
    let r = match (fast, general) {
        (Some(f), Ok(g)) => {
            assert_eq!(to_json(&f), to_json(&g), "the fast and the general path decode alike");
            let (df, dg) = (engine.decide(&f, NOW), engine.decide(&g, NOW));
            assert_eq!(df, dg, "both decodings decide alike");
            g
        }
        (Some(_), Err(e)) => panic!("the fast path accepted a body the general path refuses: {e:?}"),
        (None, Ok(_)) => panic!("the general path decoded a body the fast path declined"),
        (None, Err(e)) => {
            check_pointers(&value, e.errors(), Resolves::Parent);
            to_json(&Problem::from(e));
            return;
        }
    };
    match decide(engine, &r) {
        Ok(_) => {}
        Err(e) => {
            assert!(!e.errors().is_empty(), "a refusal says why");
            check_pointers(&value, e.errors(), Resolves::Field);
            to_json(&Problem::from(e));
        }
    }
}

#[derive(Clone, Copy)]
enum Resolves {
    /// The pointer, or (a missing or unknown field) its parent.
    Parent,
    /// The pointer itself.
    Field,
}

fn check_pointers(body: &Json, errs: &[FieldError], how: Resolves) {
    assert!(!errs.is_empty(), "a refusal says why");
    for e in errs {
        assert!(e.pointer.is_empty() || e.pointer.starts_with('/'), "not a JSON pointer: {e:?}");
        let found = body.pointer(&e.pointer).is_some();
        let parent = || e.pointer.rfind('/').is_some_and(|i| body.pointer(e.pointer.get(..i).unwrap_or_default()).is_some());
        let ok = match how {
            Resolves::Field => found,
            Resolves::Parent => found || parent(),
        };
        assert!(ok, "the pointer {:?} names nothing in the body ({})", e.pointer, e.message);
    }
}

/// Decide a request with and without explain, and check what must hold of
/// any decision:
///
/// - `allowed` iff no violations;
/// - explain changes nothing but adding the trace, and the trace's fired
///   entries are exactly the violations; every rule is traced once (per
///   attachment for per-attachment rules, once when there are none);
/// - every violation's pointer names an attachment of the request.
pub fn decide<'e>(engine: &'e Engine, r: &Request) -> Result<Answer<'e>, RequestError> {
    let body = engine.decide(r, NOW)?;
    let explained = engine.explain(r, NOW)?;
    assert_eq!(body.allowed, body.violations.is_empty(), "allowed iff no violations");
    assert!(body.trace.is_none(), "no trace unless asked");
    assert_eq!(body.allowed, explained.allowed, "explain does not change the decision");
    assert_eq!(body.violations, explained.violations, "explain does not change the violations");
    let trace = explained.trace.as_deref().expect("a trace when asked");
    let fired: Vec<_> = trace.iter().filter(|t| t.result == "fired").map(|t| (t.rule, t.pointer.clone())).collect();
    let hits: Vec<_> = explained.violations.iter().map(|v| (v.rule, v.pointer.clone())).collect();
    assert_eq!(fired, hits, "the trace's fired rules are the violations");
    // A rule about each attachment is traced once per attachment, or once
    // (not fired) when there are none.
    let attachments = r.message.attachments.as_ref().map_or(0, Vec::len);
    let expected: usize = engine.catalog().rules().map(|rule| if rule.per_attachment { attachments.max(1) } else { 1 }).sum();
    assert_eq!(trace.len(), expected, "every rule is traced once (per attachment)");
    for step in trace {
        assert_eq!(
            step.conditions.len(),
            step.checks.len().max(usize::from(step.checks.is_empty() && !step.conditions.is_empty())),
            "each condition has its parts"
        );
        assert!(!step.file.is_empty() && step.line > 0, "each rule says where it is written: {step:?}");
    }
    for v in &body.violations {
        if let Some(p) = &v.pointer {
            let i: Option<usize> = p.strip_prefix("/message/attachments/").and_then(|i| i.parse().ok());
            assert!(i.is_some_and(|i| i < attachments), "violation pointer {p} names no attachment");
        }
    }
    to_json(&explained);
    to_json(&body);
    Ok(body)
}

// ---------------------------------------------------------------- rule_file

/// Arbitrary bytes as one rule file overlaid on the built-in rules.
///
/// The first byte chooses: bit 0 the format (YAML, TOML), the rest which
/// built-in file the remaining bytes replace (or, one past the last, a new
/// `tenants/fuzz.*` file; see [`overlay`]). The load must return the compiled set or
/// errors, never panic; every diagnostic lies within its file. A set that
/// loads is then used: its rule tests run, each test's request and a few
/// fixed requests (for every tenant) are decided ([`decide`]), send-options
/// and every tenant's effective settings are computed.
pub fn rule_file(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else { return };
    let (files, replaced) = overlay(selector, String::from_utf8_lossy(rest).into_owned());
    match Engine::from_sources(&files) {
        Ok(engine) => {
            check_diagnostics(&files, engine.warnings());
            assert!(engine.warnings().iter().all(|d| !d.is_error()), "a loaded set carries warnings only");
            exercise(&engine);
        }
        Err(e) => {
            assert!(e.diagnostics.iter().any(Diagnostic::is_error), "a failed load names an error (replaced {replaced})");
            check_diagnostics(&files, &e.diagnostics);
        }
    }
}

/// The built-in rule files with one replaced (or added) as `selector` says;
/// and the path of that file. The built-in rule tests (`tests/*`, half the
/// text of the set, and parsing it dominated each run) come along only
/// when one of them is the file replaced.
pub fn overlay(selector: u8, text: String) -> (Vec<SourceFile>, String) {
    let mut files = cansend::builtin_rules();
    let ext = if selector & 1 == 1 { "toml" } else { "yaml" };
    let slot = usize::from(selector >> 1) % (files.len() + 1);
    let path = match files.get(slot) {
        Some(f) => {
            let stem = f.path.rsplit_once('.').map_or(f.path.as_str(), |(stem, _)| stem);
            format!("{stem}.{ext}")
        }
        None => format!("tenants/fuzz.{ext}"),
    };
    if slot < files.len() {
        files.remove(slot);
    }
    if !path.starts_with("tests/") {
        files.retain(|f| !f.path.starts_with("tests/"));
    }
    files.push(SourceFile { path: path.clone(), text });
    (files, path)
}

/// The selector byte that makes [`overlay`] replace the file at `path`
/// (in its own format), if it is one of the built-in files.
pub fn selector_for(path: &str) -> Option<u8> {
    let slot = cansend::builtin_rules().iter().position(|f| f.path == path)?;
    let toml = u8::from(path.ends_with(".toml"));
    u8::try_from(slot).ok().map(|s| (s << 1) | toml)
}

fn check_diagnostics(files: &[SourceFile], diags: &[Diagnostic]) {
    for d in diags {
        let Some(file) = files.iter().find(|f| f.path == d.file) else {
            assert!(d.line == 0, "a diagnostic located in a file that is not in the set: {d}");
            continue;
        };
        assert!(within(&file.text, d.line, d.column), "diagnostic outside its file: {d}\n--- {}:\n{}", file.path, file.text);
        assert!(!d.message.is_empty(), "a diagnostic says what: {d}");
    }
}

/// Whether `line:column` (1-based; 0 = the whole file or line) lies in
/// `text`: on one of its lines, at most one past that line's last
/// character. Lines are split at `\n` or, as YAML also does, at `\r\n` and
/// a lone `\r`; either reading will do.
fn within(text: &str, line: u32, column: u32) -> bool {
    let fits = |lines: Vec<&str>| {
        if line == 0 {
            return column == 0;
        }
        let Some(l) = lines.get(line as usize - 1) else { return false };
        column as usize <= l.chars().count() + 1
    };
    let yaml_lines: Vec<&str> = text.split("\r\n").flat_map(|l| l.split(['\r', '\n'])).collect();
    fits(text.split('\n').collect()) || fits(yaml_lines)
}

/// Requests decided against every set that loads, for every tenant.
const PROBES: &[&str] = &[
    r#"{"sender": {"role": "agent"}, "client": {"status": "existing", "channels": ["whatsapp", "email"], "email": "a@b.c"},
        "channel": "email", "message": {"text": "Hi", "attachments": [{"name": "a.PDF", "size": 1000}, {"name": "b", "size": 99999999}]}}"#,
    r#"{"sender": {"role": "supervisor"}, "action": "send_and_assign_self", "client": {"status": "new", "phone": "+1"},
        "channel": "whatsapp", "thread": {"tags": ["sales"]}, "message": {"template": {"name": "t", "header": " "}}}"#,
    r#"{"sender": {"role": "agent"}, "client": {"status": "existing", "blocked": true, "active_thread": true}, "channel": "vk",
        "message": {}}"#,
];

fn exercise(engine: &Engine) {
    let report = cansend::check::run_tests(engine, NOW);
    assert_eq!(report.results.len(), engine.tests().len(), "every rule test reports");
    for t in engine.tests() {
        if let Ok(r) = Request::from_json(&t.request) {
            let _ = decide(engine, &r);
        }
    }
    let tenants: Vec<String> = engine.tenants().map(str::to_owned).collect();
    for probe in PROBES {
        let Ok(mut v) = serde_json::from_str::<Json>(probe) else { continue };
        for tenant in &tenants {
            if let Some(o) = v.as_object_mut() {
                o.insert("tenant".into(), Json::from(tenant.as_str()));
            }
            let Ok(r) = Request::from_json(&v) else { continue };
            if decide(engine, &r).is_ok() {
                let asked = serde_json::json!({"tenant": tenant, "sender": v["sender"], "client": v["client"]});
                let asked = SendOptionsRequest::from_json(&asked).expect("the probe's sender and client decode");
                let options = engine.send_options(&asked, NOW).expect("bound as the request was");
                for c in &options.channels {
                    assert_eq!(c.sendable, c.violations.is_empty(), "a channel is sendable iff nothing forbids it: {c:?}");
                }
                to_json(&options);
            }
        }
    }
    for tenant in &tenants {
        let view = engine.tenant_view(tenant, NOW);
        assert!(view.is_some(), "every tenant of the set has a view: {tenant}");
        to_json(&view);
    }
}

// ---------------------------------------------------------------- http

/// The routes the `http` target reaches; the first byte of an input
/// chooses (modulo their number).
pub const ROUTES: &[&str] =
    &["/v1/can-send", "/v1/can-send?explain=true", "/v1/can-send/batch", "/v1/can-send/batch?explain=true", "/v1/send-options"];

/// Arbitrary bytes as the body of a decision route, through the real
/// router (every layer and handler) on the built-in rules, in process.
///
/// - The answer is a 200 or a 400/422 problem (`application/problem+json`,
///   its `status` the response's); never a 500 (a caught panic).
/// - A can-send answer is the library's ([`request`]'s path) for the body.
/// - A batch answers every item in order, each as the library answers it
///   alone, or its problem with pointers under `/requests/i`.
/// - Send-options: a channel is sendable iff nothing forbids it.
pub fn http(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else { return };
    let route = ROUTES.get(usize::from(selector) % ROUTES.len()).copied().unwrap_or_default();
    let (status, content_type, answer) = call(route, body);
    assert!(matches!(status, 200 | 400 | 422), "{route} answered {status}: {answer}");
    if status != 200 {
        assert_eq!(content_type, "application/problem+json", "an error is a problem");
        assert_eq!(answer.get("status").and_then(Json::as_u64), Some(u64::from(status)), "a problem carries its status");
        return;
    }
    let engine = builtin();
    let explain = route.ends_with("explain=true");
    let sent: Json = serde_json::from_slice(body).expect("a body answered 200 is JSON");
    if route.starts_with("/v1/can-send/batch") {
        let items = sent.get("requests").and_then(Json::as_array).expect("a batch answered 200 has requests");
        let decisions = answer.get("decisions").and_then(Json::as_array).expect("a batch answer has decisions");
        assert_eq!(items.len(), decisions.len(), "one answer per request");
        for (i, (item, got)) in items.iter().zip(decisions).enumerate() {
            match library(engine, item, explain) {
                Ok(want) => assert_eq!(got, &want, "batch item {i} is answered as alone"),
                Err(e) => {
                    let errs = e.errors();
                    assert_eq!(got.get("status").and_then(Json::as_u64), Some(422), "a bad item is a 422 in place: {got}");
                    let pointers: Vec<&str> =
                        got["errors"].as_array().into_iter().flatten().filter_map(|e| e["pointer"].as_str()).collect();
                    let prefix = format!("/requests/{i}");
                    let want: Vec<String> = errs.iter().map(|e| format!("{prefix}{}", e.pointer)).collect();
                    assert_eq!(pointers, want, "a bad item's pointers are under {prefix}");
                }
            }
        }
    } else if route.starts_with("/v1/can-send") {
        let want = library(engine, &sent, explain);
        assert_eq!(Ok(&answer), want.as_ref().map_err(|_| ()), "the server answers as the library");
    } else {
        let channels = answer.get("channels").and_then(Json::as_array).expect("send-options lists channels");
        for c in channels {
            let violations = c.get("violations").and_then(Json::as_array).map_or(0, Vec::len);
            assert_eq!(c.get("sendable").and_then(Json::as_bool), Some(violations == 0), "sendable iff nothing forbids it: {c}");
        }
    }
}

/// The library's answer to one can-send request, as JSON.
fn library(engine: &Engine, v: &Json, explain: bool) -> Result<Json, RequestError> {
    let r = Request::from_json(v)?;
    let body = decide(engine, &r)?;
    Ok(if explain { to_json(&engine.explain(&r, NOW)?) } else { to_json(&body) })
}

/// POST `body` to `route` of the real router; status, content type and the
/// answer as JSON.
fn call(route: &str, body: &[u8]) -> (u16, String, Json) {
    use tower::ServiceExt as _;
    static SERVER: OnceLock<(tokio::runtime::Runtime, axum::Router)> = OnceLock::new();
    let (rt, router) = SERVER.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let live = cansend::reload::Live::load(cansend::reload::RuleSource::Builtin).expect("the built-in rules load");
        let app = cansend::service::AppState::new(std::sync::Arc::new(live), cansend::service::Limits::default());
        (rt, cansend::service::router(app))
    });
    let req = axum::http::Request::post(route)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_vec()))
        .expect("a request");
    rt.block_on(async {
        let resp = router.clone().oneshot(req).await.expect("the router answers");
        let status = resp.status().as_u16();
        let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("the answer is read");
        let answer = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("the answer is not JSON ({e}): {bytes:?}"));
        (status, content_type, answer)
    })
}
