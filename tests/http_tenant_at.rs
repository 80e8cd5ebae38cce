//! `GET /v1/tenants/{tenant}?at=RFC3339`: a tenant's effective settings at
//! another instant — before and after an override's expiry — over a real
//! socket, on real files; and the 400s of a bad instant or another
//! parameter.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

mod http_common;

use cansend::reload::RuleSource;
use cansend::service::Limits;
use http_common::{Server, assert_problem, copy_dir, rules_dir};
use serde_json::json;

/// The server on the shipped rules plus `tenants/acme.yaml`, whose email
/// limit is raised until the end of 2030-06-30 (UTC).
async fn server() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&rules_dir(), dir.path());
    std::fs::write(
        dir.path().join("tenants/acme.yaml"),
        "kind: tenant\ntenant: acme\nchannels:\n  email:\n    max_file_size: { value: 50 MB, ticket: SUP-9, expires: 2030-06-30 }\n    max_total_size: 60 MB\n",
    )
    .expect("write acme");
    (Server::start_with(RuleSource::Dir(dir.path().to_owned()), Limits::default()).await, dir)
}

#[tokio::test]
async fn at_shows_the_settings_in_force_at_that_instant() {
    let (s, _dir) = server().await;

    let before = s.get("/v1/tenants/acme?at=2030-06-30T23:59:59Z").await;
    assert_eq!(before.status, 200, "{}", before.text);
    assert_eq!(before.json["at"], "2030-06-30T23:59:59.000Z", "the instant judged at is echoed");
    let max = &before.json["channels"]["email"]["max_file_size"];
    assert_eq!((max["value"].clone(), max["overridden"].clone(), max["ticket"].clone()), (json!(50_000_000), json!(true), json!("SUP-9")));
    assert_eq!(max["expires"], "2030-06-30");
    assert!(max["provenance"].as_str().is_some_and(|p| p.starts_with("tenants/acme.yaml:")), "{max}");

    // One second later the override has expired: the default is in force.
    let after = s.get("/v1/tenants/acme?at=2030-07-01T00:00:00Z").await;
    assert_eq!(after.status, 200, "{}", after.text);
    let max = &after.json["channels"]["email"]["max_file_size"];
    assert_eq!((max["value"].clone(), max["overridden"].clone()), (json!(30_000_000), json!(false)), "{max}");
    assert!(max["provenance"].as_str().is_some_and(|p| p.starts_with("settings.yaml:")), "{max}");
    assert_eq!(max["expired_override"]["value"], json!(50_000_000), "{max}");
    assert_eq!(max["expired_override"]["ticket"], "SUP-9", "{max}");
    // An override without expiry holds at any instant.
    assert_eq!(after.json["channels"]["email"]["max_total_size"]["value"], json!(60_000_000));

    // An offset is the same instant: 2030-07-01T01:30+01:30 is 00:00Z.
    let offset = s.get("/v1/tenants/acme?at=2030-07-01T01%3A30%3A00%2B01%3A30").await;
    assert_eq!(offset.status, 200, "{}", offset.text);
    assert_eq!(offset.json["at"], "2030-07-01T00:00:00.000Z");
    assert_eq!(offset.json["channels"]["email"]["max_file_size"]["overridden"], json!(false));

    // Without `at`: now (before 2030), so the override holds.
    let now = s.get("/v1/tenants/acme").await;
    assert_eq!(now.status, 200, "{}", now.text);
    assert_eq!(now.json["channels"]["email"]["max_file_size"]["value"], json!(50_000_000));
}

#[tokio::test]
async fn a_bad_at_or_another_parameter_is_a_400_that_names_it() {
    let (s, _dir) = server().await;
    for (query, needle) in [
        ("at=tomorrow", "`at`"),
        ("at=", "`at`"),
        ("at=2030-13-01T00:00:00Z", "`at`"),
        // An unescaped `+` arrives as a space; the answer says how to write it.
        ("at=2030-07-01T01:30:00+01:30", "%2B"),
        ("when=2030-07-01T00:00:00Z", "when"),
        ("at=2030-07-01T00:00:00Z&at=2030-07-02T00:00:00Z", "at"),
    ] {
        let a = s.get(&format!("/v1/tenants/acme?{query}")).await;
        assert_problem(&a, 400, None);
        assert_eq!(a.json["type"], "urn:cansend:problem:invalid-query", "{query}: {}", a.text);
        let detail = a.json["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(needle), "{query}: `{needle}` not in {detail}");
    }
    // An unknown tenant is still a 404, with or without `at`.
    assert_problem(&s.get("/v1/tenants/nobody?at=2030-07-01T00:00:00Z").await, 404, None);
}
