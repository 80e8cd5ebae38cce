//! Previewing a change of a tenant's overrides end to end (docs/api.md,
//! `POST /v1/tenants/{tenant}/preview`), over a real socket with real
//! files: the candidate file's text with the override edited in place, the
//! validation report on it, the impact on the recent requests, and nothing
//! written.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

mod http_common;

use cansend::service::Admin;
use http_common::{Answer, Server, assert_problem, demo_limits_email};
use serde_json::{Value, json};
use std::fs;

async fn preview(s: &Server, tenant: &str, body: &Value) -> Answer {
    s.post(&format!("/v1/tenants/{tenant}/preview"), body).await
}

#[tokio::test]
async fn lowering_a_limit_gives_the_edited_file_and_its_impact_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = Server::on_copy(dir.path(), 1000, Admin::LoopbackOnly).await;
    for size in [40_000_000, 40_000_000, 20_000_000] {
        assert_eq!(s.decide(&demo_limits_email(size)).await["allowed"], true);
    }
    let serving = s.get("/v1/rules").await.json["revision"].clone();
    let file = dir.path().join("tenants/demo-limits.toml");
    let on_disk = fs::read_to_string(&file).expect("read");

    let change =
        json!({ "changes": [{ "setting": "channels.email.max_file_size", "value": "30 MB", "ticket": "SUP-7", "expires": "2027-06-30" }] });
    let a = preview(&s, "demo-limits", &change).await;
    assert_eq!((a.status, a.content_type.as_str()), (200, "application/json"), "{}", a.text);
    let p = &a.json;
    assert_eq!((&p["tenant"], &p["file"], &p["changed"]), (&json!("demo-limits"), &json!("tenants/demo-limits.toml"), &json!(true)));
    // The file as it is, one line changed: comments, order, the other overrides kept.
    let old_line = on_disk.lines().find(|l| l.starts_with("max_file_size")).expect("the shipped override");
    let expected = on_disk.replace(old_line, "max_file_size = { value = \"30 MB\", ticket = \"SUP-7\", expires = \"2027-06-30\" }");
    assert_eq!(p["text"], expected);
    // The report is validate's on that text.
    let v = &p["validation"];
    assert_eq!(v["loads"], true, "{v}");
    assert_eq!(v["serving"], serving);
    assert_eq!(v["files"], json!([{ "path": "tenants/demo-limits.toml", "change": "changed" }]));
    let direct = s.post("/v1/rules/validate", &json!({ "files": { "tenants/demo-limits.toml": expected } })).await.json;
    assert_eq!(v["candidate"], direct["candidate"]);
    let i = &v["impact"];
    assert_eq!((i["replayed"].clone(), i["changed"].clone(), i["allow_to_deny"].clone()), (json!(3), json!(2), json!(2)), "{i}");
    assert!(v["tests"]["failed"].as_u64().is_some_and(|n| n >= 1), "the shipped tests pin 50 MB: {v}");

    // Nothing written, nothing applied.
    assert_eq!(fs::read_to_string(&file).expect("read"), on_disk);
    assert_eq!(s.get("/v1/rules").await.json["revision"], serving);
    assert_eq!(s.decide(&demo_limits_email(40_000_000)).await["allowed"], true);
}

#[tokio::test]
async fn yaml_files_new_overrides_removals_and_several_changes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = Server::on_copy(dir.path(), 1000, Admin::LoopbackOnly).await;
    let on_disk = fs::read_to_string(dir.path().join("tenants/demo-tags.yaml")).expect("read");
    let a = preview(
        &s,
        "demo-tags",
        &json!({ "changes": [
            { "setting": "settings.tags_required", "value": null },
            { "setting": "channels.email.max_file_size", "value": "20 MB", "ticket": "SUP-8", "note": "Smaller, please." },
        ] }),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let text = a.json["text"].as_str().expect("text");
    assert!(text.starts_with("# yaml-language-server:"), "the comment kept: {text}");
    assert!(!text.contains("tags_required"), "{text}");
    assert!(text.contains("  available_tags: [sales, support, billing]\n"), "{text}");
    assert!(
        text.ends_with("channels:\n  email:\n    max_file_size: { value: 20 MB, ticket: SUP-8, note: \"Smaller, please.\" }\n"),
        "{text}"
    );
    assert_eq!(a.json["validation"]["loads"], true, "{}", a.json);
    assert_eq!(fs::read_to_string(dir.path().join("tenants/demo-tags.yaml")).expect("read"), on_disk);

    // A value the declaration refuses still previews: the diagnostics say where.
    let a = preview(&s, "demo-tags", &json!({ "changes": [{ "setting": "channels.email.max_file_size", "value": "lots" }] })).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let v = &a.json["validation"];
    assert_eq!(v["loads"], false, "{v}");
    assert!(v["diagnostics"].as_array().is_some_and(|d| d.iter().any(|d| d["file"] == "tenants/demo-tags.yaml")), "{v}");
}

#[tokio::test]
async fn bad_changes_are_422_at_the_change_and_unknown_tenants_404() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = Server::on_copy(dir.path(), 1000, Admin::LoopbackOnly).await;
    let a = preview(&s, "demo-limits", &json!({ "changes": [{ "setting": "channels.email.max_fil_size", "value": "1 MB" }] })).await;
    assert_problem(&a, 422, Some("/changes/0/setting"));
    assert!(a.text.contains("channels.email.max_file_size"), "a did-you-mean: {}", a.text);
    let a = preview(&s, "demo-limits", &json!({ "changes": [{ "setting": "settings.tags_required", "value": { "x": 1 } }] })).await;
    assert_problem(&a, 422, Some("/changes/0/value"));
    let a = preview(&s, "demo-limits", &json!({ "changes": [] })).await;
    assert_problem(&a, 422, Some("/changes"));
    let a =
        preview(&s, "demo-limits", &json!({ "changes": [{ "setting": "settings.tags_required", "value": true, "expiry": "2027-01-01" }] }))
            .await;
    assert_problem(&a, 422, None);
    let a = preview(&s, "demo-limit", &json!({ "changes": [{ "setting": "settings.tags_required", "value": true }] })).await;
    assert_problem(&a, 404, None);
    assert!(a.text.contains("demo-limits"), "{}", a.text);
}

#[tokio::test]
async fn it_is_an_admin_endpoint() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = Server::on_copy(dir.path(), 1000, Admin::Token("secret".into())).await;
    let a = preview(&s, "demo-limits", &json!({ "changes": [{ "setting": "settings.tags_required", "value": true }] })).await;
    assert_problem(&a, 401, None);
}
