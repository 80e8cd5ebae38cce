//! Three `cansend serve` processes on one rules directory, as replicas of a
//! Deployment share one mounted volume: a change reaches all three, which
//! then agree on the revision and on every decision; a broken change is
//! rejected by all three, which keep serving the last good revision and
//! say they are degraded.
//!
//! "Within 2 s" is the bound for a change to serve on every replica (the
//! debounce and a reload take a fraction of it): a deadline polled over
//! HTTP, whose measured figure is in the assertion message.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

mod fleet_common;

use std::fs;
use std::time::Duration;

use fleet_common::{BROKEN, Serve, VIBER_OFF, client, codes, copy_dir, get, post, rules_dir, within};
use serde_json::{Value, json};

const CONVERGE: Duration = Duration::from_secs(2);
/// For what is not the contract (the broken edit reported), generous.
const DEADLINE: Duration = Duration::from_secs(10);

/// An agent writing "Hello" over WhatsApp to an existing client of `tenant`,
/// with `changes` (JSON-pointer paths) applied.
fn req(tenant: &str, changes: &[(&str, Value)]) -> Value {
    let mut v = json!({
        "tenant": tenant,
        "at": "2026-11-24T12:00:00Z",
        "sender": { "role": "agent", "id": "u-17" },
        "client": { "status": "existing", "channels": ["whatsapp", "viber", "email", "telegram"], "email": "anna@example.com" },
        "channel": "whatsapp",
        "message": { "text": "Hello" }
    });
    for (path, new) in changes {
        if let Some(slot) = v.pointer_mut(path) {
            *slot = new.clone();
        } else if let Some((parent, key)) = path.rsplit_once('/')
            && let Some(obj) = v.pointer_mut(parent).and_then(Value::as_object_mut)
        {
            obj.insert(key.to_owned(), new.clone());
        }
    }
    v
}

fn file(name: &str, size: u64) -> Value {
    json!({ "name": name, "size": size })
}

/// Twenty requests, allowed and refused on every tenant, with the codes
/// the changed rules (Viber off on `default`) give.
fn corpus() -> Vec<(&'static str, Value, Vec<&'static str>)> {
    let new_client = |channel: &str, client: Value| req("default", &[("/client", client), ("/channel", json!(channel))]);
    vec![
        ("default: existing client on WhatsApp", req("default", &[]), vec![]),
        ("default: blocked client", req("default", &[("/client/blocked", json!(true))]), vec!["client_blocked"]),
        ("default: Viber, now not connected", req("default", &[("/channel", json!("viber"))]), vec!["channel_not_connected"]),
        ("default: active thread", req("default", &[("/client/active_thread", json!(true))]), vec!["active_thread"]),
        (
            "default: email exception to the active thread",
            req("default", &[("/client/active_thread", json!(true)), ("/channel", json!("email"))]),
            vec![],
        ),
        (
            "default: new client on WhatsApp with a phone",
            new_client("whatsapp", json!({ "status": "new", "phone": "+79990001122" })),
            vec![],
        ),
        (
            "default: new client on Telegram",
            new_client("telegram", json!({ "status": "new", "phone": "+79990001122" })),
            vec!["channel_not_available_for_new_client"],
        ),
        (
            "default: template on Telegram",
            req("default", &[("/channel", json!("telegram")), ("/message", json!({ "template": { "name": "order_ready" } }))]),
            vec!["template_not_supported"],
        ),
        (
            "default: two attachments on WhatsApp",
            req("default", &[("/message/attachments", json!([file("a.jpg", 1), file("b.jpg", 1)]))]),
            vec!["too_many_attachments"],
        ),
        (
            "default: supervisor sends and assigns to themself",
            req("default", &[("/sender/role", json!("supervisor")), ("/action", json!("send_and_assign_self"))]),
            vec!["action_not_allowed"],
        ),
        ("demo-tags: tagged thread", req("demo-tags", &[("/thread", json!({ "tags": ["sales"] }))]), vec![]),
        ("demo-tags: untagged thread", req("demo-tags", &[]), vec!["tags_required"]),
        ("demo-tags: only foreign tags", req("demo-tags", &[("/thread", json!({ "tags": ["vip"] }))]), vec!["tags_required"]),
        (
            "demo-tags: Viber still connected",
            req("demo-tags", &[("/channel", json!("viber")), ("/thread", json!({ "tags": ["billing"] }))]),
            vec![],
        ),
        ("demo-limits: Viber not connected", req("demo-limits", &[("/channel", json!("viber"))]), vec!["channel_not_connected"]),
        (
            "demo-limits: a 50 MB file on email",
            req("demo-limits", &[("/channel", json!("email")), ("/message/attachments", json!([file("scan.pdf", 50_000_000)]))]),
            vec![],
        ),
        (
            "demo-limits: 50 MB and a byte on email",
            req("demo-limits", &[("/channel", json!("email")), ("/message/attachments", json!([file("scan.pdf", 50_000_001)]))]),
            vec!["attachment_too_large"],
        ),
        (
            "demo-limits: xlsx on email",
            req("demo-limits", &[("/channel", json!("email")), ("/message/attachments", json!([file("report.xlsx", 1000)]))]),
            vec![],
        ),
        (
            "demo-limits: xlsx on WhatsApp",
            req("demo-limits", &[("/message/attachments", json!([file("report.xlsx", 1000)]))]),
            vec!["attachment_format_not_allowed"],
        ),
        (
            "demo-limits: over 100 MB in total on email",
            req(
                "demo-limits",
                &[
                    ("/channel", json!("email")),
                    ("/message/attachments", json!([file("a.pdf", 40_000_000), file("b.pdf", 40_000_000), file("c.pdf", 40_000_000)])),
                ],
            ),
            vec!["attachments_total_too_large"],
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_converge_agree_and_reject_a_broken_edit_together() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&rules_dir(), dir.path());
    let replicas: Vec<Serve> = (0..3).map(|_| Serve::start(dir.path(), &[])).collect();
    let client = client();
    let revisions = || async {
        let mut out = Vec::new();
        for r in &replicas {
            out.push(get(&client, &format!("{}/v1/rules", r.base)).await.1);
        }
        out
    };
    let before = revisions().await;
    let old = before.first().map(|b| b["revision"].clone()).unwrap_or_default();
    assert!(old.as_str().is_some_and(|r| r.starts_with("sha256:")), "{before:?}");
    assert!(before.iter().all(|b| b["revision"] == old), "the same files, the same revision: {before:?}");

    // One edit on the shared volume.
    fs::write(dir.path().join("tenants/default.yaml"), VIBER_OFF).expect("write");
    let took = within(DEADLINE, || async {
        let now = revisions().await;
        now.iter().all(|b| b["revision"] != old && b["revision"] == now[0]["revision"] && b["last_error"].is_null())
    })
    .await;
    let now = revisions().await;
    assert!(
        took.is_some_and(|t| t <= CONVERGE),
        "all three replicas on one new revision within {CONVERGE:?}: took {took:?}; now {:?}\n{}",
        now.iter().map(|b| &b["revision"]).collect::<Vec<_>>(),
        replicas.iter().map(Serve::log).collect::<Vec<_>>().join("\n---\n")
    );
    eprintln!("three replicas converged in {took:?}");
    let new = now[0]["revision"].clone();

    // The same decision, body for body, from each replica; and the one the
    // changed rules give.
    let decide_everywhere = |expect_revision: Value| {
        let (client, replicas) = (&client, &replicas);
        async move {
            for (name, body, want) in corpus() {
                let mut answers = Vec::new();
                for r in replicas {
                    let (status, answer) = post(client, &format!("{}/v1/can-send", r.base), &body).await;
                    assert_eq!(status, 200, "{name}: {answer}");
                    answers.push(answer);
                }
                assert!(answers.iter().all(|a| *a == answers[0]), "{name}: the replicas disagree: {answers:#?}");
                let a = &answers[0];
                assert_eq!(a["revision"], expect_revision, "{name}: {a}");
                assert_eq!(codes(a), want, "{name}: {a}");
                assert_eq!(a["allowed"], json!(want.is_empty()), "{name}: {a}");
            }
        }
    };
    decide_everywhere(new.clone()).await;
    let kinds: Vec<(String, bool)> =
        corpus().iter().map(|(_, b, w)| (b["tenant"].as_str().unwrap_or("").to_owned(), w.is_empty())).collect();
    for tenant in ["default", "demo-tags", "demo-limits"] {
        for allowed in [true, false] {
            assert!(kinds.contains(&(tenant.to_owned(), allowed)), "the corpus covers {tenant} allowed={allowed}");
        }
    }

    // A broken edit: rejected by all three, which keep the new revision and
    // report it.
    fs::write(dir.path().join("tenants/demo-tags.yaml"), BROKEN).expect("write broken");
    let reported = within(DEADLINE, || async { revisions().await.iter().all(|b| !b["last_error"].is_null()) }).await;
    assert!(
        reported.is_some(),
        "every replica reports the broken edit\n{}",
        replicas.iter().map(Serve::log).collect::<Vec<_>>().join("\n---\n")
    );
    let rejected = revisions().await;
    let broken = rejected[0]["last_error"]["revision"].clone();
    for b in &rejected {
        assert_eq!(b["revision"], new, "the last good revision keeps serving: {b}");
        assert_eq!(b["last_error"]["revision"], broken, "all three rejected the same files: {b}");
        let errors = b["last_error"]["errors"].as_array().cloned().unwrap_or_default();
        assert!(errors.iter().any(|e| e["file"] == "tenants/demo-tags.yaml"), "{b}");
    }
    for r in &replicas {
        let (status, ready) = get(&client, &format!("{}/readyz", r.base)).await;
        // Still ready (a rule typo must not take every replica out of the
        // load balancer), and degraded, naming the rejected revision.
        assert_eq!(status, 200, "{ready}");
        assert_eq!((&ready["status"], &ready["degraded"], &ready["revision"]), (&json!("ready"), &json!(true), &new), "{ready}");
        let reason = ready["reason"].as_str().unwrap_or("");
        assert!(reason.contains(broken.as_str().unwrap_or("?")) && reason.contains("tenants/demo-tags.yaml"), "{ready}");
    }
    decide_everywhere(new).await;
}
