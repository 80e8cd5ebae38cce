//! docs/domain.md §1, line by line, through the real HTTP API (`POST /v1/can-send`,
//! line 12 through `POST /v1/send-options`), allow and deny sides, exact
//! codes, against the repository's `rules/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

mod http_common;

use http_common::{Server, base, codes, with};
use serde_json::{Value, json};

/// Decide `req` and compare its violation codes (sorted) with `expected`.
async fn expect(s: &Server, req: Value, expected: &[&str]) -> Value {
    let d = s.decide(&req).await;
    let mut got = codes(&d);
    got.sort();
    let mut want: Vec<String> = expected.iter().map(|c| c.to_string()).collect();
    want.sort();
    assert_eq!(got, want, "request {req}\n→ {d}");
    assert_eq!(d["allowed"], json!(expected.is_empty()), "{d}");
    assert!(d["revision"].as_str().is_some_and(|r| r.starts_with("sha256:")), "{d}");
    assert_eq!(d["tenant"], req.get("tenant").cloned().unwrap_or(json!("default")));
    d
}

fn pdf(name: &str, size: u64) -> Value {
    json!({ "name": name, "size": size })
}

#[tokio::test]
async fn line_1_existing_client_only_on_a_channel_they_wrote_from() {
    let s = Server::start().await;
    expect(&s, base(), &[]).await;
    expect(&s, with(base(), &[("/channel", json!("viber"))]), &["channel_not_used_by_client"]).await;
    expect(&s, with(base(), &[("/channel", json!("telegram")), ("/client/channels", json!([]))]), &["channel_not_used_by_client"]).await;
    expect(&s, with(base(), &[("/channel", json!("telegram")), ("/client/channels", json!(["telegram"]))]), &[]).await;
    // No `channels` at all is the empty list.
    expect(&s, with(base(), &[("/client/channels", Value::Null)]), &["channel_not_used_by_client"]).await;
}

#[tokio::test]
async fn line_1_unknown_retired_channels_in_the_client_history_are_ignored() {
    let s = Server::start().await;
    expect(&s, with(base(), &[("/client/channels", json!(["icq", "whatsapp", "myspace"]))]), &[]).await;
    expect(&s, with(base(), &[("/client/channels", json!(["icq"]))]), &["channel_not_used_by_client"]).await;
}

#[tokio::test]
async fn line_2_blocked_client() {
    let s = Server::start().await;
    let d = expect(&s, with(base(), &[("/client/blocked", json!(true))]), &["client_blocked"]).await;
    assert_eq!(d["violations"][0]["rule"], "client-not-blocked");
    assert_eq!(d["violations"][0]["message"], "The client is blocked.");
    expect(&s, with(base(), &[("/client/blocked", json!(false))]), &[]).await;
}

#[tokio::test]
async fn line_3_active_thread() {
    let s = Server::start().await;
    expect(&s, with(base(), &[("/client/active_thread", json!(true))]), &["active_thread"]).await;
    expect(&s, with(base(), &[("/client/active_thread", json!(false))]), &[]).await;
}

#[tokio::test]
async fn line_4_email_exception_but_blocking_still_applies() {
    let s = Server::start().await;
    let email = |extra: &[(&str, Value)]| {
        let mut changes = vec![
            ("/channel", json!("email")),
            ("/client/active_thread", json!(true)),
            ("/client/channels", json!(["whatsapp"])),
            ("/client/email", json!("anna@example.com")),
        ];
        changes.extend(extra.iter().cloned());
        with(base(), &changes)
    };
    // Active thread, never wrote from email: the profile email is enough.
    expect(&s, email(&[]), &[]).await;
    expect(&s, email(&[("/client/blocked", json!(true))]), &["client_blocked"]).await;
    // No profile email: no exception.
    expect(&s, email(&[("/client/email", Value::Null)]), &["active_thread", "channel_not_used_by_client"]).await;
    // A blank email is no email.
    expect(&s, email(&[("/client/email", json!("  "))]), &["active_thread", "channel_not_used_by_client"]).await;
    // The exception is for email only.
    expect(&s, email(&[("/channel", json!("whatsapp"))]), &["active_thread"]).await;
}

#[tokio::test]
async fn line_5_new_clients_and_their_identifiers() {
    let s = Server::start().await;
    let new = |channel: &str, ids: &[(&str, Value)]| {
        let mut changes = vec![("/client", json!({ "status": "new" })), ("/channel", json!(channel))];
        changes.extend(ids.iter().cloned());
        with(base(), &changes)
    };
    expect(&s, new("whatsapp", &[("/client/phone", json!("+79990001122"))]), &[]).await;
    expect(&s, new("whatsapp", &[]), &["missing_client_identifier"]).await;
    expect(&s, new("whatsapp", &[("/client/email", json!("a@b.c"))]), &["missing_client_identifier"]).await;
    expect(&s, new("viber", &[("/client/phone", json!("+79990001122"))]), &[]).await;
    expect(&s, new("viber", &[]), &["missing_client_identifier"]).await;
    expect(&s, new("email", &[("/client/email", json!("a@b.c"))]), &[]).await;
    expect(&s, new("email", &[("/client/phone", json!("+7999"))]), &["missing_client_identifier"]).await;
    expect(&s, new("webchat", &[("/client/external_id", json!("ext-1"))]), &[]).await;
    expect(&s, new("webchat", &[]), &["missing_client_identifier"]).await;
    expect(&s, new("mobile_app", &[("/client/external_id", json!("ext-1"))]), &[]).await;
    expect(&s, new("mobile_app", &[("/client/phone", json!("+7999"))]), &["missing_client_identifier"]).await;
    expect(&s, new("telegram", &[("/client/phone", json!("+7999"))]), &["channel_not_available_for_new_client"]).await;
    expect(&s, new("vk", &[("/client/phone", json!("+7999"))]), &["channel_not_available_for_new_client"]).await;
    // A new client's reply history does not matter.
    expect(&s, new("whatsapp", &[("/client/phone", json!("+7999")), ("/client/channels", json!([]))]), &[]).await;
    // Only if the channel is connected to the tenant.
    let off = with(new("viber", &[("/client/phone", json!("+7999"))]), &[("/tenant", json!("demo-limits"))]);
    expect(&s, off, &["channel_not_connected"]).await;
}

#[tokio::test]
async fn line_6_channel_connected() {
    let s = Server::start().await;
    let viber = with(base(), &[("/tenant", json!("demo-limits")), ("/channel", json!("viber")), ("/client/channels", json!(["viber"]))]);
    expect(&s, viber.clone(), &["channel_not_connected"]).await;
    expect(&s, with(viber, &[("/tenant", json!("default"))]), &[]).await;
    expect(&s, with(base(), &[("/tenant", json!("demo-limits"))]), &[]).await;
}

#[tokio::test]
async fn line_7_required_tags() {
    let s = Server::start().await;
    let tagged = |tags: Value| with(base(), &[("/tenant", json!("demo-tags")), ("/thread", json!({ "tags": tags }))]);
    expect(&s, with(base(), &[("/tenant", json!("demo-tags"))]), &["tags_required"]).await;
    expect(&s, tagged(json!([])), &["tags_required"]).await;
    expect(&s, tagged(json!(["sales"])), &[]).await;
    expect(&s, tagged(json!(["vip", "billing"])), &[]).await;
    // Free-form tags are accepted, but only the tenant's count.
    expect(&s, tagged(json!(["vip"])), &["tags_required"]).await;
    // The default tenant does not require tags.
    expect(&s, base(), &[]).await;
}

#[tokio::test]
async fn line_8_formats() {
    let s = Server::start().await;
    let telegram = with(base(), &[("/channel", json!("telegram")), ("/client/channels", json!(["telegram"]))]);
    let template = json!({ "template": { "name": "welcome" } });
    expect(&s, with(telegram.clone(), &[("/message", template.clone())]), &["template_not_supported"]).await;
    expect(&s, with(base(), &[("/message", template.clone())]), &[]).await;
    let full = json!({ "template": { "name": "welcome", "header": "Hi", "footer": "Bye" } });
    let viber = with(base(), &[("/channel", json!("viber")), ("/client/channels", json!(["viber"])), ("/message", full)]);
    expect(&s, viber, &[]).await;
    // Empty: no text (or blank text), no template, no attachment.
    expect(&s, with(base(), &[("/message", json!({}))]), &["empty_message"]).await;
    expect(&s, with(base(), &[("/message/text", json!(""))]), &["empty_message"]).await;
    expect(&s, with(base(), &[("/message/text", json!("  \n\t "))]), &["empty_message"]).await;
    expect(&s, with(base(), &[("/message", json!({ "text": " ", "attachments": [] }))]), &["empty_message"]).await;
    // Attachments alone, or text with an attachment.
    expect(&s, with(base(), &[("/message", json!({ "attachments": [pdf("a.pdf", 10)] }))]), &[]).await;
    expect(&s, with(base(), &[("/message/attachments", json!([pdf("a.pdf", 10)]))]), &[]).await;
    expect(&s, with(telegram, &[("/message/text", json!("hi"))]), &[]).await;
}

#[tokio::test]
async fn line_9_several_attachments_only_on_email() {
    let s = Server::start().await;
    let two = json!([pdf("a.pdf", 10), pdf("b.pdf", 10)]);
    expect(&s, with(base(), &[("/message/attachments", two.clone())]), &["too_many_attachments"]).await;
    let email = with(base(), &[("/channel", json!("email")), ("/client/channels", json!(["email"]))]);
    let three = json!([pdf("a.pdf", 10), pdf("b.docx", 10), pdf("c.png", 10)]);
    expect(&s, with(email.clone(), &[("/message/attachments", three.clone())]), &[]).await;
    expect(&s, with(email, &[("/message", json!({ "attachments": three }))]), &[]).await;
}

#[tokio::test]
async fn line_10_attachment_formats_by_extension() {
    let s = Server::start().await;
    let one = |name: &str| with(base(), &[("/message/attachments", json!([pdf(name, 100)]))]);
    expect(&s, one("SCAN.PDF"), &[]).await;
    expect(&s, one("photo.JpEg"), &[]).await;
    let d = expect(&s, one("a.pdf.exe"), &["attachment_format_not_allowed"]).await;
    assert_eq!(d["violations"][0]["pointer"], "/message/attachments/0");
    expect(&s, one("README"), &["attachment_format_not_allowed"]).await;
    expect(&s, one(".pdf"), &["attachment_format_not_allowed"]).await;
    expect(&s, one("name."), &["attachment_format_not_allowed"]).await;
    expect(&s, one("sheet.xlsx"), &["attachment_format_not_allowed"]).await;
}

#[tokio::test]
async fn line_10_attachment_sizes_mb_is_ten_to_the_sixth() {
    let s = Server::start().await;
    let sized = |size: u64| with(base(), &[("/message/attachments", json!([pdf("a.pdf", size)]))]);
    expect(&s, sized(0), &[]).await;
    expect(&s, sized(30_000_000), &[]).await;
    let d = expect(&s, sized(30_000_001), &["attachment_too_large", "attachments_total_too_large"]).await;
    let too_large = d["violations"].as_array().into_iter().flatten().find(|v| v["code"] == "attachment_too_large").cloned();
    assert_eq!(too_large.map(|v| v["pointer"].clone()), Some(json!("/message/attachments/0")));
    // 30 MiB is more than 30 MB.
    expect(&s, sized(31_457_280), &["attachment_too_large", "attachments_total_too_large"]).await;

    let email = |sizes: &[u64]| {
        let files: Vec<Value> = sizes.iter().enumerate().map(|(i, n)| pdf(&format!("f{i}.pdf"), *n)).collect();
        with(base(), &[("/channel", json!("email")), ("/client/channels", json!(["email"])), ("/message/attachments", json!(files))])
    };
    expect(&s, email(&[15_000_000, 15_000_000]), &[]).await;
    expect(&s, email(&[15_000_000, 15_000_001]), &["attachments_total_too_large"]).await;
    expect(&s, email(&[20_000_000, 20_000_000, 20_000_000]), &["attachments_total_too_large"]).await;
}

#[tokio::test]
async fn line_10_limits_are_per_tenant_configuration() {
    let s = Server::start().await;
    let email = |tenant: &str, files: Value| {
        with(
            base(),
            &[
                ("/tenant", json!(tenant)),
                ("/channel", json!("email")),
                ("/client/channels", json!(["email"])),
                ("/message/attachments", files),
            ],
        )
    };
    expect(&s, email("demo-limits", json!([pdf("big.pdf", 50_000_000)])), &[]).await;
    expect(&s, email("demo-limits", json!([pdf("big.pdf", 50_000_001)])), &["attachment_too_large"]).await;
    expect(&s, email("default", json!([pdf("big.pdf", 50_000_000)])), &["attachment_too_large", "attachments_total_too_large"]).await;
    expect(&s, email("demo-limits", json!([pdf("report.xlsx", 1000)])), &[]).await;
    expect(&s, email("default", json!([pdf("report.xlsx", 1000)])), &["attachment_format_not_allowed"]).await;
    let three = |n: u64| json!([pdf("a.pdf", n), pdf("b.pdf", n), pdf("c.pdf", n)]);
    expect(&s, email("demo-limits", three(33_000_000)), &[]).await;
    expect(&s, email("demo-limits", three(34_000_000)), &["attachments_total_too_large"]).await;
    // The raised limits are for email only.
    let wa = with(base(), &[("/tenant", json!("demo-limits")), ("/message/attachments", json!([pdf("report.xlsx", 1000)]))]);
    expect(&s, wa, &["attachment_format_not_allowed"]).await;
}

#[tokio::test]
async fn line_11_supervisors_do_not_send_and_assign_themselves() {
    let s = Server::start().await;
    let act = |role: &str, action: &str| with(base(), &[("/sender/role", json!(role)), ("/action", json!(action))]);
    let d = expect(&s, act("supervisor", "send_and_assign_self"), &["action_not_allowed"]).await;
    assert_eq!(d["violations"][0]["rule"], "action-allowed-for-role");
    expect(&s, act("agent", "send_and_assign_self"), &[]).await;
    expect(&s, act("supervisor", "send"), &[]).await;
    expect(&s, act("agent", "send"), &[]).await;
    // No action is `send`.
    expect(&s, with(base(), &[("/sender/role", json!("supervisor"))]), &[]).await;
}

#[tokio::test]
async fn every_violated_rule_is_listed() {
    let s = Server::start().await;
    let req =
        with(base(), &[("/client/blocked", json!(true)), ("/client/active_thread", json!(true)), ("/client/channels", json!(["viber"]))]);
    let d = expect(&s, req, &["client_blocked", "active_thread", "channel_not_used_by_client"]).await;
    assert_eq!(d["violations"].as_array().map(Vec::len), Some(3));

    // Eligibility and message rules together, and one violation per bad attachment.
    let req = with(
        base(),
        &[
            ("/tenant", json!("demo-tags")),
            ("/sender/role", json!("supervisor")),
            ("/action", json!("send_and_assign_self")),
            ("/client/blocked", json!(true)),
            ("/message", json!({ "template": { "name": "t" }, "attachments": [pdf("a.exe", 1), pdf("b.exe", 1)] })),
            ("/channel", json!("telegram")),
        ],
    );
    let d = expect(
        &s,
        req,
        &[
            "client_blocked",
            "channel_not_used_by_client",
            "tags_required",
            "action_not_allowed",
            "template_not_supported",
            "too_many_attachments",
            "attachment_format_not_allowed",
            "attachment_format_not_allowed",
        ],
    )
    .await;
    let pointers: Vec<&str> = d["violations"].as_array().into_iter().flatten().filter_map(|v| v["pointer"].as_str()).collect();
    assert_eq!(pointers, ["/message/attachments/0", "/message/attachments/1"]);
}

#[tokio::test]
async fn an_attachment_violation_points_at_its_attachment() {
    let s = Server::start().await;
    let req = with(
        base(),
        &[
            ("/channel", json!("email")),
            ("/client/channels", json!(["email"])),
            ("/message/attachments", json!([pdf("ok.pdf", 10), pdf("bad.exe", 10), pdf("fine.png", 10)])),
        ],
    );
    let d = expect(&s, req, &["attachment_format_not_allowed"]).await;
    assert_eq!(d["violations"][0]["pointer"], "/message/attachments/1");
    assert_eq!(d["violations"][0]["rule"], "attachment-format");
    // Request-level violations carry no pointer.
    let d = expect(&s, with(base(), &[("/client/blocked", json!(true))]), &["client_blocked"]).await;
    assert!(d["violations"][0].get("pointer").is_none(), "{d}");
}

#[tokio::test]
async fn explain_adds_a_trace_of_every_rule() {
    let s = Server::start().await;
    let plain = s.decide(&base()).await;
    assert!(plain.get("trace").is_none(), "{plain}");
    let a = s.post("/v1/can-send?explain=true", &with(base(), &[("/client/blocked", json!(true))])).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let trace = a.json["trace"].as_array().cloned().unwrap_or_default();
    assert!(trace.len() >= 10, "{}", a.text);
    let blocked = trace.iter().find(|e| e["rule"] == "client-not-blocked").cloned().unwrap_or_default();
    assert_eq!(blocked["result"], "fired", "{blocked}");
    assert!(trace.iter().any(|e| e["result"] == "not_fired"), "{}", a.text);
    let off = s.post("/v1/can-send?explain=false", &base()).await;
    assert!(off.json.get("trace").is_none());
    // Every rule appears, those about each attachment too when there are none.
    assert!(trace.iter().any(|e| e["rule"] == "attachment-size"), "{}", a.text);
}

#[tokio::test]
async fn explain_shows_both_sides_and_marks_exceptions() {
    let s = Server::start().await;
    // An email to a client with an active thread: the email exception carves
    // no-active-thread out; the trace says so, and shows the limit compared.
    let body = with(
        base(),
        &[
            ("/channel", json!("email")),
            ("/client/email", json!("anna@example.com")),
            ("/client/active_thread", json!(true)),
            ("/message/attachments", json!([{"name": "a.pdf", "size": 5}])),
        ],
    );
    let a = s.post("/v1/can-send?explain", &body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["allowed"], true, "{}", a.text);
    let trace = a.json["trace"].as_array().cloned().unwrap_or_default();
    let rule = |id: &str| trace.iter().find(|e| e["rule"] == id).cloned().unwrap_or_default();
    let thread = rule("no-active-thread");
    assert_eq!((thread["result"].as_str(), thread["exempted_by"].as_str()), (Some("exempted"), Some("email-exception")), "{thread}");
    let conditions = strings(&thread["conditions"]);
    assert!(conditions.iter().any(|c| c.starts_with("[exception email-exception] channel")), "{conditions:?}");
    let size = rule("attachment-size");
    let conditions = strings(&size["conditions"]);
    assert!(
        conditions.iter().any(|c| c.contains("attachment.size = 5 bytes") && c.contains("$channel.max_file_size = 30000000 bytes")),
        "{conditions:?}"
    );
    assert_eq!(size["pointer"], "/message/attachments/0");
}

// ---- line 12 and the rest of the send dialog: POST /v1/send-options ----

fn channel<'a>(options: &'a Value, name: &str) -> &'a Value {
    options["channels"].as_array().into_iter().flatten().find(|c| c["channel"] == name).unwrap_or(&Value::Null)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_owned)).collect()
}

#[tokio::test]
async fn line_12_send_options_of_an_agent() {
    let s = Server::start().await;
    let o = s.options(&json!({ "sender": { "role": "agent" }, "client": { "status": "existing", "channels": ["whatsapp"] } })).await;
    assert_eq!(o["tenant"], "default");
    assert_eq!(o["role"], "agent");
    assert!(o["revision"].as_str().is_some_and(|r| r.starts_with("sha256:")));
    assert_eq!(strings(&o["actions"]), ["send", "send_and_assign_self"]);
    assert_eq!(strings(&o["capabilities"]), ["go_to_thread", "view_conversation"]);
    assert_eq!(o["tags"], json!({ "required": false, "available": [] }));
    let names: Vec<String> =
        o["channels"].as_array().into_iter().flatten().filter_map(|c| c["channel"].as_str().map(str::to_owned)).collect();
    assert_eq!(names, ["whatsapp", "viber", "email", "webchat", "mobile_app", "telegram", "vk"]);
    let wa = channel(&o, "whatsapp");
    assert_eq!(wa["sendable"], true);
    assert_eq!(wa["violations"], json!([]));
    assert_eq!(strings(&wa["formats"]), ["text", "attachments", "template"]);
    assert_eq!(wa["attachment_limits"]["max_count"], 1);
    assert_eq!(wa["attachment_limits"]["max_file_size"], 30_000_000);
    let tg = channel(&o, "telegram");
    assert_eq!(tg["sendable"], false);
    assert_eq!(tg["violations"][0]["code"], "channel_not_used_by_client");
    assert_eq!(strings(&tg["formats"]), ["text", "attachments"]);
    let email = channel(&o, "email");
    assert_eq!(email["attachment_limits"]["max_count"], 100);
    assert_eq!(email["attachment_limits"]["max_total_size"], 30_000_000);
}

#[tokio::test]
async fn line_12_send_options_of_a_supervisor() {
    let s = Server::start().await;
    let o = s.options(&json!({ "sender": { "role": "supervisor" }, "client": { "status": "existing", "channels": ["whatsapp"] } })).await;
    assert_eq!(o["role"], "supervisor");
    let actions = strings(&o["actions"]);
    assert!(actions.contains(&"send".to_owned()) && !actions.contains(&"send_and_assign_self".to_owned()), "{actions:?}");
    let caps = strings(&o["capabilities"]);
    assert!(!caps.contains(&"go_to_thread".to_owned()), "{caps:?}");
    assert!(caps.contains(&"view_conversation".to_owned()), "both roles view the conversation: {caps:?}");
    assert_eq!(channel(&o, "whatsapp")["sendable"], true);
}

#[tokio::test]
async fn send_options_per_tenant() {
    let s = Server::start().await;
    let o = s
        .options(&json!({
            "tenant": "demo-limits",
            "sender": { "role": "agent" },
            "client": { "status": "existing", "channels": ["viber", "email"], "email": "a@b.c" }
        }))
        .await;
    assert_eq!(o["tenant"], "demo-limits");
    let viber = channel(&o, "viber");
    assert_eq!(viber["sendable"], false);
    assert_eq!(viber["violations"].as_array().map(Vec::len), Some(1), "{viber}");
    assert_eq!(viber["violations"][0]["code"], "channel_not_connected");
    assert_eq!(strings(&viber["formats"]), ["text", "attachments", "template"]);
    let email = channel(&o, "email");
    assert_eq!(email["sendable"], true);
    assert_eq!(email["attachment_limits"]["max_file_size"], 50_000_000);
    assert_eq!(email["attachment_limits"]["max_total_size"], 100_000_000);
    assert!(strings(&email["attachment_limits"]["formats"]).contains(&"xlsx".to_owned()));
    assert!(!strings(&channel(&o, "whatsapp")["attachment_limits"]["formats"]).contains(&"xlsx".to_owned()));

    let tags =
        s.options(&json!({ "tenant": "demo-tags", "sender": { "role": "agent" }, "client": { "status": "new", "phone": "+7" } })).await;
    assert_eq!(tags["tags"]["required"], true);
    let mut available = strings(&tags["tags"]["available"]);
    available.sort();
    assert_eq!(available, ["billing", "sales", "support"]);
    // Tags are chosen in the dialog like the message: they show in `tags`,
    // not as a reason a channel cannot be offered. A new client: WhatsApp
    // (phone given) is sendable; email (no address) and Telegram are not.
    let whatsapp = channel(&tags, "whatsapp");
    assert_eq!((whatsapp["sendable"].clone(), codes(whatsapp)), (json!(true), Vec::<String>::new()), "{whatsapp}");
    assert_eq!(strings(&whatsapp["formats"]), ["text", "attachments", "template"], "formats are not hidden by the tag rule");
    assert_eq!(channel(&tags, "email")["violations"][0]["code"], "missing_client_identifier");
    assert_eq!(channel(&tags, "telegram")["violations"][0]["code"], "channel_not_available_for_new_client");
}

#[tokio::test]
async fn send_options_judge_time_at_the_given_instant() {
    // The next-rules example has quiet hours (21:00–09:00, tenant time):
    // the dialog offers channels by day, none by night, at the `at` given.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/next-rules");
    let s = Server::start_with(cansend::reload::RuleSource::Dir(dir), cansend::service::Limits::default()).await;
    let at = |t: &str| {
        json!({ "tenant": "moscow", "sender": { "role": "agent", "status": "READY" }, "at": t,
                "client": { "status": "existing", "channels": ["telegram"] } })
    };
    let day = s.options(&at("2026-11-24T09:00:00Z")).await; // 12:00 in Moscow
    assert_eq!(channel(&day, "telegram")["sendable"], true, "{day}");
    let night = s.options(&at("2026-11-24T19:00:00Z")).await; // 22:00 in Moscow
    assert_eq!(channel(&night, "telegram")["sendable"], false, "{night}");
    assert_eq!(codes(channel(&night, "telegram")), ["quiet_hours"], "{night}");
    let bad = s.post("/v1/send-options", &at("tonight")).await;
    assert_eq!((bad.status, bad.json["errors"][0]["pointer"].clone()), (422, json!("/at")), "{}", bad.text);
}
