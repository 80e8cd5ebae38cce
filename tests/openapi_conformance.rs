//! The OpenAPI document describes the answers the server really gives:
//! real answers over a real socket, validated against the schema the
//! document declares for their route and status (JSON Schema 2020-12, as
//! OpenAPI 3.1 uses). A generated document that drifted from the code, or a
//! field typed `object` that is really a number, fails here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

mod http_common;

use std::fs;

use cansend::reload::RuleSource;
use cansend::service::{Limits, routes};
use http_common::{Answer, Server, base, copy_dir, rules_dir, with};
use serde_json::{Value, json};

/// Validate `answer` against the document's schema for `path`/`method` at
/// its status and content type.
fn conforms(doc: &Value, path: &str, method: &str, answer: &Answer) {
    let status = answer.status.to_string();
    let content_type = answer.content_type.split(';').next().unwrap_or("").trim().to_owned();
    let response = &doc["paths"][path][method]["responses"][&status];
    assert!(response.is_object(), "{method} {path}: status {status} is not documented");
    let schema = &response["content"][&content_type]["schema"];
    assert!(schema.is_object(), "{method} {path} {status}: no schema for {content_type}");
    // Local references (`#/components/schemas/…`) resolve against this root.
    let root = json!({ "components": doc["components"], "allOf": [schema] });
    let validator = match jsonschema::validator_for(&root) {
        Ok(v) => v,
        Err(e) => panic!("{method} {path}: the document's schema does not compile: {e}"),
    };
    let errors: Vec<String> = validator.iter_errors(&answer.json).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{method} {path} {status} does not match its documented schema:\n{}\n{}", errors.join("\n"), answer.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_matches_the_document() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&rules_dir(), dir.path());
    // An override with a ticket, a note and an expiry in the past, so the
    // tenant view shows every kind of value and an expired override.
    fs::write(
        dir.path().join("tenants/acme.yaml"),
        "kind: tenant\ntenant: acme\nchannels:\n  email:\n    max_file_size: { value: 50 MB, ticket: SUP-1, expires: 2020-01-01, note: old }\n    max_total_size: { value: 60 MB, ticket: SUP-1 }\n",
    )
    .expect("write acme");
    let s = Server::start_with(RuleSource::Dir(dir.path().to_owned()), Limits::default()).await;
    let doc = s.get("/openapi.json").await.json;

    // A reload that is rejected, so `/v1/rules` carries `last_error`.
    fs::write(dir.path().join("tenants/broken.yaml"), "kind: tenant\ntenant: broken\nsettings: { tags_required: maybe }\n").expect("write");
    let reload = s.post("/v1/rules/reload", &json!({})).await;
    conforms(&doc, "/v1/rules/reload", "post", &reload);
    assert_eq!(reload.status, 422, "{}", reload.text);

    // Decisions for the ring, then a candidate validated and an applied
    // reload: both carry an impact report.
    for _ in 0..3 {
        s.post("/v1/can-send", &base()).await;
    }
    let candidate = json!({ "files": { "tenants/broken.yaml": null, "tenants/default.yaml": "kind: tenant\ntenant: default\nchannels:\n  whatsapp: { connected: false }\n" } });
    let validated = s.post("/v1/rules/validate", &candidate).await;
    assert_eq!(validated.status, 200, "{}", validated.text);
    assert!(validated.json["impact"].is_object(), "{}", validated.text);
    conforms(&doc, "/v1/rules/validate", "post", &validated);
    let broken = s.post("/v1/rules/validate", &json!({ "files": { "tenants/x.yaml": "kind: tenant\ntenant: [\n" } })).await;
    assert_eq!(broken.json["loads"], false, "{}", broken.text);
    conforms(&doc, "/v1/rules/validate", "post", &broken);
    let change =
        json!({ "changes": [{ "setting": "channels.email.max_file_size", "value": "30 MB", "ticket": "SUP-7", "expires": "2027-06-30" }] });
    let previewed = s.post("/v1/tenants/demo-limits/preview", &change).await;
    assert_eq!(previewed.status, 200, "{}", previewed.text);
    conforms(&doc, "/v1/tenants/{tenant}/preview", "post", &previewed);
    let unknown = s.post("/v1/tenants/demo-limits/preview", &json!({ "changes": [{ "setting": "settings.nope", "value": true }] })).await;
    assert_eq!(unknown.status, 422, "{}", unknown.text);
    conforms(&doc, "/v1/tenants/{tenant}/preview", "post", &unknown);
    fs::remove_file(dir.path().join("tenants/broken.yaml")).expect("remove");
    fs::write(dir.path().join("tenants/default.yaml"), "kind: tenant\ntenant: default\ndescription: edited\n").expect("write");
    let applied = s.post("/v1/rules/reload", &json!({})).await;
    assert_eq!((applied.status, applied.json["outcome"].as_str()), (200, Some("applied")), "{}", applied.text);
    conforms(&doc, "/v1/rules/reload", "post", &applied);
    // And rejected again, for /v1/rules below.
    fs::write(dir.path().join("tenants/broken.yaml"), "kind: tenant\ntenant: broken\nsettings: { tags_required: maybe }\n").expect("write");
    assert_eq!(s.post("/v1/rules/reload", &json!({})).await.status, 422);

    let explained = s.post("/v1/can-send?explain=true", &with(base(), &[("/client/blocked", json!(true))])).await;
    let attachment = with(base(), &[("/message/attachments", json!([{ "name": "a.exe", "size": 1 }]))]);
    let cases: Vec<(&str, &str, Answer)> = vec![
        ("/v1/can-send", "post", s.post("/v1/can-send", &base()).await),
        ("/v1/can-send", "post", s.post("/v1/can-send", &attachment).await),
        ("/v1/can-send", "post", explained),
        ("/v1/can-send", "post", s.post("/v1/can-send", &with(base(), &[("/client/blockd", json!(true))])).await),
        ("/v1/can-send/batch", "post", s.post("/v1/can-send/batch", &json!({ "requests": [base(), { "x": 1 }] })).await),
        (
            "/v1/send-options",
            "post",
            s.post("/v1/send-options", &json!({ "sender": { "role": "agent" }, "client": { "status": "existing" } })).await,
        ),
        (
            "/v1/send-options",
            "post",
            s.post(
                "/v1/send-options",
                &json!({ "sender": { "role": "agent" }, "at": "2026-11-24T19:00:00Z", "client": { "status": "new" } }),
            )
            .await,
        ),
        ("/v1/rules", "get", s.get("/v1/rules").await),
        ("/v1/rules/reloads", "get", s.get("/v1/rules/reloads").await),
        ("/v1/tenants/{tenant}", "get", s.get("/v1/tenants/acme").await),
        ("/v1/tenants/{tenant}", "get", s.get("/v1/tenants/demo-limits").await),
        ("/v1/tenants/{tenant}", "get", s.get("/v1/tenants/nobody").await),
        ("/healthz", "get", s.get("/healthz").await),
        ("/readyz", "get", s.get("/readyz").await),
    ];
    for (path, method, answer) in &cases {
        conforms(&doc, path, method, answer);
    }
    // The cases cover what they claim: a rejected reload, an expired override.
    let rules = &cases.iter().find(|(p, ..)| *p == "/v1/rules").map(|(.., a)| a.json.clone()).unwrap_or_default();
    assert!(rules["last_error"]["errors"].as_array().is_some_and(|e| !e.is_empty()), "{rules}");
    let acme = &cases.iter().find(|(p, _, a)| *p == "/v1/tenants/{tenant}" && a.json["tenant"] == "acme").map(|(.., a)| a.json.clone());
    let acme = acme.clone().unwrap_or_default();
    assert!(acme["channels"]["email"]["max_file_size"]["expired_override"].is_object(), "{acme}");
}

/// The document covers the JSON API, and only it: every route the server
/// takes is in it, except the console's pages and files
/// (`routes::NOT_API`), which answer HTML, CSS and JavaScript and have
/// no schema to conform to.
#[tokio::test]
async fn every_api_route_is_documented_and_no_console_route_is() {
    let s = Server::start().await;
    let doc = s.get("/openapi.json").await.json;
    let Some(paths) = doc["paths"].as_object() else { panic!("no paths in {doc}") };
    for route in routes::ALL {
        let api = !routes::NOT_API.contains(route);
        assert_eq!(paths.contains_key(*route), api, "{route}: documented iff part of the JSON API");
    }
    assert_eq!(paths.len(), routes::ALL.len() - routes::NOT_API.len(), "a documented path the router does not name");
    for page in routes::NOT_API {
        assert!(routes::ALL.contains(page), "{page} is a route");
    }
}
