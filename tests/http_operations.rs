//! Operating a fleet, over a real socket: "why was this refused?" by the
//! request id of an answer (`GET /v1/decisions/{id}`, masked unless the
//! admin token is presented, explained by the revision that decided),
//! revision-gated readiness (`/readyz?revision=`, `--expect-revision`),
//! `ETag`/`If-None-Match` on the rule set and a tenant's settings, the
//! revision header of every decision, unknown query parameters refused on
//! every route, and the decision log written from a real decision.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

mod http_common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cansend::reload::{Live, RuleSource};
use cansend::service::decision_log::{DecisionLog, DecisionLogConfig, Target, parse_mask};
use cansend::service::state::Operations;
use cansend::service::{Admin, Limits};
use http_common::{Server, copy_dir, rules_dir};
use serde_json::{Value, json};

fn refused() -> Value {
    json!({
        "tenant": "demo-limits",
        "sender": {"role": "agent", "id": "u-17"},
        "client": {"status": "existing", "blocked": true, "channels": ["email"], "email": "anna@example.com", "phone": "+79990001122"},
        "channel": "email",
        "message": {"text": "The contract", "attachments": [{"name": "contract.exe", "size": 120}]}
    })
}

fn allowed() -> Value {
    json!({"sender": {"role": "agent"}, "client": {"status": "existing", "channels": ["whatsapp"]}, "channel": "whatsapp", "message": {"text": "Hi"}})
}

async fn on_copy(dir: &std::path::Path, admin: Admin, ops: Operations) -> Server {
    copy_dir(&rules_dir(), dir);
    let live = Arc::new(Live::load(RuleSource::Dir(dir.to_owned())).expect("rules load"));
    Server::start_operated("127.0.0.1:0", live, Limits::default(), admin, ops).await
}

async fn with_token(s: &Server, path: &str, token: &str) -> http_common::Answer {
    s.send(s.client.get(format!("{}{path}", s.base)).bearer_auth(token)).await
}

#[tokio::test]
async fn a_refused_request_is_looked_up_by_its_id_masked_and_explained() {
    let dir = tempfile::tempdir().unwrap();
    let s = on_copy(dir.path(), Admin::LoopbackOnly, Operations::default()).await;
    let a = s.post("/v1/can-send", &refused()).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json["allowed"], false);
    let revision = a.json["revision"].as_str().unwrap().to_owned();
    assert_eq!(a.headers.get("x-cansend-revision").and_then(|v| v.to_str().ok()), Some(revision.as_str()), "the revision header");
    let id = a.request_id.clone().expect("an x-request-id");

    let r = s.get(&format!("/v1/decisions/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let d = &r.json;
    assert_eq!((d["request_id"].as_str(), d["revision"].as_str()), (Some(id.as_str()), Some(revision.as_str())));
    assert_eq!((d["tenant"].as_str(), d["channel"].as_str(), d["allowed"].as_bool()), (Some("demo-limits"), Some("email"), Some(false)));
    // No token configured: the loopback admin sees the personal data masked.
    assert_eq!(d["masked"], true);
    assert_eq!(d["request"]["client"]["email"], "***");
    assert_eq!(d["request"]["client"]["phone"], "***");
    assert_eq!(d["request"]["message"]["text"], "***");
    assert_eq!(d["request"]["message"]["attachments"][0]["name"], "***");
    assert_eq!(d["request"]["message"]["attachments"][0]["size"], 120, "sizes are not personal");
    assert_eq!(d["request"]["sender"]["id"], "u-17");
    // The decision as it was answered, explained: every rule, each with its file:line.
    let answer = &d["answer"];
    assert_eq!(answer["violations"], a.json["violations"], "the same violations as the answer had");
    let trace = answer["trace"].as_array().expect("explained");
    let blocked = trace.iter().find(|t| t["rule"] == "client-not-blocked").expect("traced");
    assert_eq!((blocked["result"].as_str(), blocked["file"].as_str()), (Some("fired"), Some("eligibility.yaml")));
    assert!(blocked["line"].as_u64().is_some_and(|l| l > 0));
    assert_eq!(blocked["checks"][0]["field"], "client.blocked");
    assert_eq!(blocked["checks"][0]["value"], "true");

    // Unknown and malformed ids are 404 problems.
    let missing = s.get("/v1/decisions/no-such-id").await;
    assert_eq!((missing.status, missing.content_type.as_str()), (404, "application/problem+json"));
    assert!(missing.json["detail"].as_str().unwrap().contains("no-such-id"), "{}", missing.text);
}

#[tokio::test]
async fn with_a_token_the_admin_sees_the_request_unmasked_and_batch_items_have_ids() {
    let dir = tempfile::tempdir().unwrap();
    let s = on_copy(dir.path(), Admin::Token("s3cret".into()), Operations::default()).await;
    let a = s.post("/v1/can-send/batch", &json!({"requests": [allowed(), {"nope": 1}, refused()]})).await;
    assert_eq!(a.status, 200);
    assert!(a.headers.get("x-cansend-revision").is_some());
    let id = a.request_id.clone().unwrap();
    assert_eq!(s.get(&format!("/v1/decisions/{id}:2")).await.status, 401, "a token is configured: it is needed");
    let d = with_token(&s, &format!("/v1/decisions/{id}:2"), "s3cret").await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.json["masked"], false);
    assert_eq!(d.json["request"]["client"]["email"], "anna@example.com");
    assert_eq!(d.json["answer"]["allowed"], false);
    let first = with_token(&s, &format!("/v1/decisions/{id}:0"), "s3cret").await;
    assert_eq!((first.status, first.json["allowed"].as_bool()), (200, Some(true)));
    assert_eq!(first.json["tenant"], "default", "a request without a tenant was decided for the default one");
    assert_eq!(with_token(&s, &format!("/v1/decisions/{id}:1"), "s3cret").await.status, 404, "a refused item was not decided");
}

#[tokio::test]
async fn a_decision_is_explained_by_the_revision_that_decided_even_after_a_reload() {
    let dir = tempfile::tempdir().unwrap();
    let s = on_copy(dir.path(), Admin::LoopbackOnly, Operations::default()).await;
    // 40 MB to demo-limits by email: within its 50 MB limit.
    let mut big = refused();
    big["client"]["blocked"] = json!(false);
    big["message"]["attachments"] = json!([{"name": "contract.pdf", "size": 40_000_000}]);
    let a = s.post("/v1/can-send", &big).await;
    assert_eq!(a.json["allowed"], true, "{}", a.text);
    let id = a.request_id.clone().unwrap();
    let first = a.json["revision"].as_str().unwrap().to_owned();
    // Tech support lowers the limit; the same request is refused now …
    let tenant = dir.path().join("tenants/demo-limits.toml");
    let text = std::fs::read_to_string(&tenant).unwrap().replace(r#"value = "50 MB""#, r#"value = "30 MB""#);
    std::fs::write(&tenant, text).unwrap();
    assert_eq!(s.post("/v1/rules/reload", &json!({})).await.status, 200);
    assert_eq!(s.post("/v1/can-send", &big).await.json["allowed"], false);
    // … but the decision looked up is the one that was answered.
    let d = s.get(&format!("/v1/decisions/{id}")).await;
    assert_eq!((d.json["revision"].as_str(), d.json["answer"]["allowed"].as_bool()), (Some(first.as_str()), Some(true)), "{}", d.text);
    // Once that revision has been replaced more than RETIRED times, the
    // decision is still found, said to be allowed, without its explanation.
    for i in 0..=cansend::reload::RETIRED {
        std::fs::write(dir.path().join("tenants/extra.yaml"), format!("kind: tenant\ntenant: extra{i}\n")).unwrap();
        assert_eq!(s.post("/v1/rules/reload", &json!({})).await.json["outcome"], "applied");
    }
    let d = s.get(&format!("/v1/decisions/{id}")).await;
    assert_eq!(d.status, 200);
    assert_eq!(d.json["allowed"], true);
    assert!(d.json.get("answer").is_none(), "{}", d.text);
    assert!(d.json["note"].as_str().unwrap().contains("no longer loaded"), "{}", d.text);
}

#[tokio::test]
async fn readiness_waits_for_a_revision() {
    let dir = tempfile::tempdir().unwrap();
    let s = on_copy(dir.path(), Admin::LoopbackOnly, Operations::default()).await;
    let serving = s.get("/v1/rules").await.json["revision"].as_str().unwrap().to_owned();
    assert_eq!(s.get(&format!("/readyz?revision={serving}")).await.status, 200);
    let w = s.get("/readyz?revision=sha256:0000").await;
    assert_eq!((w.status, w.content_type.as_str()), (503, "application/problem+json"), "{}", w.text);
    assert_eq!((w.json["revision"].as_str(), w.json["expected_revision"].as_str()), (Some(serving.as_str()), Some("sha256:0000")));
    assert!(w.json["detail"].as_str().unwrap().contains("sha256:0000"));
    assert_eq!(s.get("/readyz?revsion=x").await.status, 400, "a misspelt parameter is not ignored");

    // --expect-revision: not ready until that revision serves.
    std::fs::write(dir.path().join("tenants/acme.yaml"), "kind: tenant\ntenant: acme\n").unwrap();
    let next = cansend::Engine::from_dir(dir.path()).unwrap().revision().to_owned();
    let dir2 = tempfile::tempdir().unwrap();
    copy_dir(&rules_dir(), dir2.path());
    let live = Arc::new(Live::load(RuleSource::Dir(dir2.path().to_owned())).unwrap());
    let ops = Operations { expect_revision: Some(next.clone()), ..Operations::default() };
    let gated = Server::start_operated("127.0.0.1:0", live, Limits::default(), Admin::LoopbackOnly, ops).await;
    assert_eq!(gated.get("/readyz").await.status, 503);
    std::fs::write(dir2.path().join("tenants/acme.yaml"), "kind: tenant\ntenant: acme\n").unwrap();
    assert_eq!(gated.post("/v1/rules/reload", &json!({})).await.json["revision"], json!(next));
    let r = gated.get("/readyz").await;
    assert_eq!((r.status, r.json["revision"].as_str()), (200, Some(next.as_str())), "{}", r.text);
}

#[tokio::test]
async fn the_rules_and_a_tenant_are_tagged_with_the_revision() {
    let dir = tempfile::tempdir().unwrap();
    let s = on_copy(dir.path(), Admin::LoopbackOnly, Operations::default()).await;
    let a = s.get("/v1/rules").await;
    let revision = a.json["revision"].as_str().unwrap().to_owned();
    let tag = a.headers.get("etag").and_then(|v| v.to_str().ok()).unwrap().to_owned();
    assert_eq!(tag, format!("\"{revision}\""));
    let cond = |path: &str, tag: &str| s.client.get(format!("{}{path}", s.base)).header("if-none-match", tag);
    assert_eq!(s.send(cond("/v1/rules", &tag)).await.status, 304);
    assert_eq!(s.send(cond("/v1/rules", "\"sha256:old\"")).await.status, 200);
    assert_eq!(s.send(cond("/v1/tenants/demo-limits", &tag)).await.status, 304);
    assert_eq!(s.send(cond("/v1/tenants/demo-limits?at=2030-01-01T00:00:00Z", &tag)).await.status, 304);
    let t = s.get("/v1/tenants/demo-limits").await;
    assert_eq!(t.headers.get("etag").and_then(|v| v.to_str().ok()), Some(tag.as_str()));

    // A tenant with an override that expires: its settings "now" change at
    // the expiry, with the same revision — no 304 without `at`.
    std::fs::write(
        dir.path().join("tenants/acme.yaml"),
        "kind: tenant\ntenant: acme\nchannels:\n  email:\n    max_file_size: { value: 10 MB, ticket: SUP-9, expires: 2099-01-31 }\n",
    )
    .unwrap();
    let reloaded = s.post("/v1/rules/reload", &json!({})).await;
    let tag = format!("\"{}\"", reloaded.json["revision"].as_str().unwrap());
    assert_eq!(s.send(cond("/v1/tenants/acme", &tag)).await.status, 200);
    assert_eq!(s.send(cond("/v1/tenants/acme?at=2030-01-01T00:00:00Z", &tag)).await.status, 304);
    // …and /metrics says how long until it expires.
    let m = s.get("/metrics").await.text;
    let line =
        m.lines().find(|l| l.starts_with(r#"cansend_override_expiry_seconds{tenant="acme",setting="channels.email.max_file_size"}"#));
    let secs: i64 = line.and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{m}"));
    assert!(secs > 365 * 24 * 3600, "2099 is years away: {secs}");
    assert!(m.contains("cansend_rules_warnings 0"), "{m}");
    // A rejected edit is news: no 304 for the rule set while it stands.
    std::fs::write(dir.path().join("tenants/broken.yaml"), "kind: tenant\ntenant: [\n").unwrap();
    assert_eq!(s.post("/v1/rules/reload", &json!({})).await.status, 422);
    let a = s.send(cond("/v1/rules", &tag)).await;
    assert_eq!(a.status, 200);
    assert!(a.json["last_error"].is_object());
}

#[tokio::test]
async fn overrides_that_expired_or_expire_soon_are_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let s = on_copy(dir.path(), Admin::LoopbackOnly, Operations::default()).await;
    let soon = chrono::Utc::now().date_naive() + chrono::Days::new(5);
    std::fs::write(
        dir.path().join("tenants/acme.yaml"),
        format!(
            "kind: tenant\ntenant: acme\nchannels:\n  email:\n    max_file_size: {{ value: 10 MB, ticket: SUP-1, expires: 2020-01-31 }}\n    max_total_size: {{ value: 40 MB, ticket: SUP-2, expires: {soon} }}\n"
        ),
    )
    .unwrap();
    assert_eq!(s.post("/v1/rules/reload", &json!({})).await.json["outcome"], "applied");
    let w = s.get("/v1/rules").await.json["warnings"].clone();
    let texts: Vec<&str> = w.as_array().unwrap().iter().map(|d| d["text"].as_str().unwrap()).collect();
    assert_eq!(texts.len(), 2, "{texts:#?}");
    assert!(
        texts.iter().any(|t| t.starts_with("tenants/acme.yaml:5:") && t.contains("`channels.email.max_file_size` expired on 2020-01-31")),
        "{texts:#?}"
    );
    assert!(
        texts.iter().any(|t| t.starts_with("tenants/acme.yaml:6:")
            && t.contains(&format!("expires on {soon} (in "))
            && t.contains("day(s)): the default applies from then")),
        "{texts:#?}"
    );
    assert!(s.get("/metrics").await.text.contains("cansend_rules_warnings 2"));
}

#[tokio::test]
async fn every_route_refuses_a_query_parameter_it_does_not_take() {
    let s = Server::start().await;
    for path in [
        "/v1/rules?x=1",
        "/v1/rules/reloads?x=1",
        "/v1/tenants/default?x=1",
        "/healthz?verbose",
        "/readyz?x=1",
        "/metrics?x=1",
        "/openapi.json?x=1",
        "/v1/decisions/abc?x=1",
        "/v1/rules/events?x=1",
    ] {
        let a = s.get(path).await;
        assert_eq!((a.status, a.content_type.as_str()), (400, "application/problem+json"), "{path}: {}", a.text);
        assert_eq!(a.json["type"], "urn:cansend:problem:invalid-query", "{path}");
        let name = path.split(['?', '=']).nth(1).unwrap();
        assert_eq!(a.json["errors"][0]["pointer"], format!("/query/{name}"), "{path}: {}", a.text);
    }
    for path in ["/v1/send-options?explain=true", "/v1/rules/validate?dry=1", "/v1/rules/reload?x=1"] {
        let a = s.post(path, &json!({})).await;
        assert_eq!(a.status, 400, "{path}: {}", a.text);
        assert!(a.json["detail"].as_str().unwrap().contains("takes no query parameter"), "{path}: {}", a.text);
    }
    // What a route takes still works.
    assert_eq!(s.post("/v1/can-send?explain=true", &allowed()).await.status, 200);
    assert_eq!(s.get("/v1/tenants/default?at=2030-01-01T00:00:00Z").await.status, 200);
}

#[tokio::test]
async fn decisions_are_written_to_the_decision_log_with_personal_data_masked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("decisions.log");
    let cfg = DecisionLogConfig { include_body: true, ..DecisionLogConfig::new(Target::File(path.clone())) };
    let log = Arc::new(DecisionLog::open(cfg).unwrap());
    let ops = Operations {
        decision_log: Some(log.clone()),
        mask: parse_mask(cansend::service::decision_log::DEFAULT_MASK).unwrap(),
        ..Operations::default()
    };
    let rules = dir.path().join("rules");
    let s = on_copy(&rules, Admin::LoopbackOnly, ops).await;
    let denied = s.post("/v1/can-send", &refused()).await;
    let ok = s.post("/v1/can-send", &allowed()).await;
    let batch = s.post("/v1/can-send/batch", &json!({"requests": [allowed(), refused()]})).await;
    // The writer is off the request path: wait for the four lines.
    let deadline = Instant::now() + Duration::from_secs(20);
    let lines = loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        if lines.len() >= 4 || Instant::now() > deadline {
            break lines;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(lines.len(), 4, "{lines:#?}");
    let by_id = |id: String| lines.iter().find(|l| l["request_id"] == id.as_str()).unwrap_or_else(|| panic!("{id} in {lines:#?}"));
    let d = by_id(denied.request_id.clone().unwrap());
    assert_eq!(
        (d["tenant"].as_str(), d["channel"].as_str(), d["role"].as_str(), d["action"].as_str()),
        (Some("demo-limits"), Some("email"), Some("agent"), Some("send"))
    );
    assert_eq!(d["allowed"], false);
    assert!(d["codes"].as_array().unwrap().contains(&json!("client_blocked")));
    assert!(d["rules"].as_array().unwrap().contains(&json!("client-not-blocked")));
    assert_eq!(d["revision"], denied.json["revision"]);
    assert!(d["latency_us"].is_u64());
    assert_eq!(d["body"]["client"]["email"], "***", "{d}");
    assert_eq!(d["body"]["client"]["blocked"], true);
    assert!(d["body"]["client"].get("external_id").is_none(), "members the request left out are not shown: {d}");
    let o = by_id(ok.request_id.clone().unwrap());
    assert_eq!((o["allowed"].as_bool(), o["tenant"].as_str()), (Some(true), Some("default")));
    let b = by_id(format!("{}:1", batch.request_id.clone().unwrap()));
    assert_eq!(b["allowed"], false);
    assert_eq!(log.dropped(), 0);
    // The counters are in /metrics.
    let m = s.get("/metrics").await.text;
    assert!(m.contains("cansend_decision_log_written_total 4"), "{m}");
    assert!(m.contains("cansend_decision_log_dropped_total 0"), "{m}");
    assert!(m.contains("cansend_build_info{"), "{m}");
}

#[tokio::test]
async fn the_openapi_document_says_what_the_server_enforces() {
    let s = Server::start().await;
    let doc = s.get("/openapi.json").await.json;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["TemplateIn"]["properties"]["name"]["minLength"], 1);
    assert_eq!(schemas["CanSendRequest"]["properties"]["at"]["format"], "date-time");
    assert_eq!(schemas["Client"]["properties"]["last_inbound_at"]["format"], "date-time");
    let explain = doc["paths"]["/v1/can-send"]["post"]["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "explain").unwrap();
    let flag = explain["schema"].to_string();
    let flag = if flag.contains("$ref") { schemas["Flag"].to_string() } else { flag };
    for v in ["\"true\"", "\"false\"", "\"1\"", "\"0\""] {
        assert!(flag.contains(v), "{v} in {flag}");
    }
    // The serving revision's names, as enums.
    let channels = schemas["CanSendRequest"]["properties"]["channel"]["enum"].as_array().unwrap();
    assert!(channels.contains(&json!("whatsapp")) && channels.contains(&json!("vk")), "{channels:?}");
    let tenants = schemas["CanSendRequest"]["properties"]["tenant"]["enum"].as_array().unwrap();
    assert!(tenants.contains(&json!("demo-limits")) && tenants.contains(&Value::Null), "{tenants:?}");
    assert!(schemas["Sender"]["properties"]["role"]["enum"].as_array().unwrap().contains(&json!("supervisor")));
    assert!(schemas["Client"]["properties"]["channels"].get("enum").is_none(), "unknown channels of a client are ignored");
    assert_eq!(doc["info"]["x-cansend-revision"], s.get("/v1/rules").await.json["revision"]);
}
