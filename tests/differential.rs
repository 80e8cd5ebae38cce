//! A second, independent reading of docs/domain.md against the shipped rules.
//!
//! [`Model`] is written from docs/domain.md §1–§2 and from reading `rules/`
//! by eye (the tenants' settings are hard-coded below); it shares no code
//! with the engine: its own request structs, its own logic. A deterministic
//! generator makes 100,000 requests over every tenant, with sizes at and
//! around every limit; each is turned into JSON, decided by
//! [`cansend::Engine`] with the built-in rules, and the two answers (the
//! violation codes, with repeats, and `allowed`) must agree. Any
//! disagreement fails with the request printed. Every code the shipped
//! rules can emit must have been seen, so the corpus is not trivial.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use cansend::{Engine, Request};

const NOW: i64 = 1_764_000_000_000;
const MB: u64 = 1_000_000;
const MIB: u64 = 1 << 20;

// ---------------------------------------------------------------- the request, as the model sees it

#[derive(Debug, Clone)]
struct Attachment {
    name: String,
    size: u64,
}

#[derive(Debug, Clone)]
struct Req {
    /// `None`: the request names no tenant (the default one decides).
    tenant: Option<&'static str>,
    role: &'static str,
    /// `None`: no action named (plain `send`).
    action: Option<&'static str>,
    new_client: bool,
    blocked: Option<bool>,
    active_thread: Option<bool>,
    client_channels: Option<Vec<&'static str>>,
    email: Option<Option<&'static str>>,
    phone: Option<Option<&'static str>>,
    external_id: Option<Option<&'static str>>,
    channel: &'static str,
    tags: Option<Vec<&'static str>>,
    text: Option<Option<&'static str>>,
    template: bool,
    attachments: Option<Vec<Attachment>>,
    /// What only the next rules (docs/domain.md §3) read.
    next: Option<Next>,
}

/// The fields of §3: instants are seconds since 2026-11-20T00:00:00Z.
#[derive(Debug, Clone)]
struct Next {
    at: i64,
    last_inbound_at: Option<Option<i64>>,
    status: Option<Option<&'static str>>,
    opted_out: Option<bool>,
    purpose: Option<&'static str>,
}

/// An instant of the days the generator uses (all in November 2026).
fn rfc3339(secs: i64) -> String {
    let (day, rest) = (20 + secs.div_euclid(86_400), secs.rem_euclid(86_400));
    format!("2026-11-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest / 60 % 60, rest % 60)
}

impl Req {
    fn to_json(&self) -> Json {
        let mut client = serde_json::Map::new();
        client.insert("status".into(), json!(if self.new_client { "new" } else { "existing" }));
        if let Some(b) = self.blocked {
            client.insert("blocked".into(), json!(b));
        }
        if let Some(b) = self.active_thread {
            client.insert("active_thread".into(), json!(b));
        }
        if let Some(c) = &self.client_channels {
            client.insert("channels".into(), json!(c));
        }
        for (k, v) in [("email", self.email), ("phone", self.phone), ("external_id", self.external_id)] {
            if let Some(v) = v {
                client.insert(k.into(), json!(v));
            }
        }
        let mut message = serde_json::Map::new();
        if let Some(t) = self.text {
            message.insert("text".into(), json!(t));
        }
        if self.template {
            message.insert("template".into(), json!({ "name": "order_ready" }));
        }
        if let Some(list) = &self.attachments {
            let list: Vec<Json> = list.iter().map(|a| json!({ "name": a.name, "size": a.size })).collect();
            message.insert("attachments".into(), json!(list));
        }
        let mut r = serde_json::Map::new();
        if let Some(t) = self.tenant {
            r.insert("tenant".into(), json!(t));
        }
        let mut sender = json!({ "role": self.role });
        if let Some(n) = &self.next {
            if let Some(s) = n.status {
                sender["status"] = json!(s);
            }
            if let Some(p) = n.purpose {
                sender["attributes"] = json!({ "purpose": p });
            }
            if let Some(l) = n.last_inbound_at {
                client.insert("last_inbound_at".into(), json!(l.map(rfc3339)));
            }
            if let Some(o) = n.opted_out {
                client.insert("attributes".into(), json!({ "opted_out": o }));
            }
        }
        r.insert("sender".into(), sender);
        if let Some(a) = self.action {
            r.insert("action".into(), json!(a));
        }
        r.insert("client".into(), Json::Object(client));
        r.insert("channel".into(), json!(self.channel));
        if let Some(tags) = &self.tags {
            r.insert("thread".into(), json!({ "tags": tags }));
        }
        r.insert("message".into(), Json::Object(message));
        let at = self.next.as_ref().map_or_else(|| "2026-11-24T12:00:00Z".to_owned(), |n| rfc3339(n.at));
        r.insert("at".into(), json!(at));
        Json::Object(r)
    }
}

// ---------------------------------------------------------------- the model (docs/domain.md)

const DEFAULT_FORMATS: [&str; 8] = ["jpeg", "jpg", "png", "pdf", "doc", "docx", "rtf", "bmp"];

/// One tenant's settings on one channel, as §2 and `rules/tenants/` say.
struct Limits {
    connected: bool,
    formats: Vec<&'static str>,
    max_file: u64,
    max_total: u64,
    max_count: usize,
    /// §3, next rules only: images (jpeg, jpg, png, bmp) per file, and text length.
    max_image: u64,
    max_text: usize,
}

struct Model;

impl Model {
    fn limits(tenant: &str, channel: &str, next: bool) -> Limits {
        let mut l = Limits {
            connected: true,
            formats: DEFAULT_FORMATS.to_vec(),
            max_file: 30 * MB,
            max_total: 30 * MB,
            // §1.9: several attachments on email only.
            max_count: if channel == "email" { 100 } else { 1 },
            max_image: 30 * MB,
            max_text: 4096,
        };
        if next {
            // §3: WhatsApp images 5 MB, Viber files 25 MB; the moscow pilot on Telegram.
            match channel {
                "whatsapp" => l.max_image = 5 * MB,
                "viber" => l.max_file = 25 * MB,
                "telegram" if tenant == "moscow" => l.max_text = 1000,
                _ => {}
            }
        }
        if tenant == "demo-limits" {
            // §2.3
            if channel == "viber" {
                l.connected = false;
            }
            if channel == "email" {
                l.max_file = 50 * MB;
                l.max_total = 100 * MB;
                l.formats.push("xlsx");
            }
        }
        l
    }

    fn blank(v: Option<Option<&str>>) -> bool {
        v.flatten().is_none_or(|s| s.trim().is_empty())
    }

    /// §1.10: the extension after the last dot, case-insensitive; none without a dot.
    fn extension(name: &str) -> Option<String> {
        name.rfind('.').map(|i| name[i + 1..].to_lowercase())
    }

    /// The violation codes, sorted, with repeats.
    fn decide(r: &Req) -> Vec<&'static str> {
        let tenant = r.tenant.unwrap_or("default");
        let lim = Self::limits(tenant, r.channel, r.next.is_some());
        let mut v = Vec::new();
        // §1.4: the email exception carves out §1.1 and §1.3.
        let exception = r.channel == "email" && !Self::blank(r.email) && lim.connected;
        // §1.2
        if r.blocked == Some(true) {
            v.push("client_blocked");
        }
        // §1.3
        if r.active_thread == Some(true) && !exception {
            v.push("active_thread");
        }
        // §1.1
        let wrote_from = r.client_channels.as_ref().is_some_and(|c| c.contains(&r.channel));
        if !r.new_client && !wrote_from && !exception {
            v.push("channel_not_used_by_client");
        }
        // §1.6
        if !lim.connected {
            v.push("channel_not_connected");
        }
        // §1.5
        if r.new_client {
            match r.channel {
                "whatsapp" | "viber" if Self::blank(r.phone) => v.push("missing_client_identifier"),
                "email" if Self::blank(r.email) => v.push("missing_client_identifier"),
                "webchat" | "mobile_app" if Self::blank(r.external_id) => v.push("missing_client_identifier"),
                "whatsapp" | "viber" | "email" | "webchat" | "mobile_app" => {}
                _ => v.push("channel_not_available_for_new_client"),
            }
        }
        // §1.7 (§2.2)
        if tenant == "demo-tags" {
            let tags = r.tags.as_deref().unwrap_or_default();
            if !tags.iter().any(|t| ["sales", "support", "billing"].contains(t)) {
                v.push("tags_required");
            }
        }
        // §1.11
        if r.role == "supervisor" && r.action == Some("send_and_assign_self") {
            v.push("action_not_allowed");
        }
        // §1.8
        let attachments = r.attachments.as_deref().unwrap_or_default();
        if Self::blank(r.text) && !r.template && attachments.is_empty() {
            v.push("empty_message");
        }
        if r.template && !matches!(r.channel, "whatsapp" | "viber") {
            v.push("template_not_supported");
        }
        // §1.9
        if attachments.len() > lim.max_count {
            v.push("too_many_attachments");
        }
        // §1.10, per file, then in total; a size equal to a limit is within it.
        for a in attachments {
            if !Self::extension(&a.name).is_some_and(|e| lim.formats.iter().any(|f| *f == e)) {
                v.push("attachment_format_not_allowed");
            }
            if a.size > lim.max_file {
                v.push("attachment_too_large");
            }
            let image = Self::extension(&a.name).is_some_and(|e| ["jpeg", "jpg", "png", "bmp"].contains(&e.as_str()));
            if r.next.is_some() && image && a.size > lim.max_image {
                v.push("attachment_too_large");
            }
        }
        if attachments.iter().map(|a| a.size).sum::<u64>() > lim.max_total {
            v.push("attachments_total_too_large");
        }
        if let Some(n) = &r.next {
            // §3: WhatsApp's 24-hour window (exactly 24 h is within; no inbound message is outside).
            // Blank text is no text (§1.8), so it does not count as free-form text here either.
            let within = n.last_inbound_at.flatten().is_some_and(|l| n.at - l <= 86_400);
            if r.channel == "whatsapp" && !within && (!Self::blank(r.text) || !attachments.is_empty()) {
                v.push("template_required_outside_window");
            }
            if r.text.flatten().is_some_and(|t| t.chars().count() > lim.max_text) {
                v.push("text_too_long");
            }
            if r.role == "agent" && !matches!(n.status.flatten(), Some("READY" | "OUTGOING")) {
                v.push("sender_not_ready");
            }
            if n.opted_out == Some(true) && n.purpose == Some("marketing") {
                v.push("client_opted_out");
            }
            // Quiet hours, 21:00 to 09:00 in the tenant's zone (moscow: UTC+3, no DST).
            let local = (n.at + if tenant == "moscow" { 3 * 3600 } else { 0 }).rem_euclid(86_400);
            if !(9 * 3600..21 * 3600).contains(&local) {
                v.push("quiet_hours");
            }
        }
        v.sort_unstable();
        v
    }
}

// ---------------------------------------------------------------- the generator

/// splitmix64: deterministic, tiny.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
    fn opt<T>(&mut self, percent_some: usize, f: impl FnOnce(&mut Self) -> T) -> Option<T> {
        if self.chance(percent_some) { Some(f(self)) } else { None }
    }
}

const TENANTS: [Option<&str>; 4] = [None, Some("default"), Some("demo-tags"), Some("demo-limits")];
const CHANNELS: [&str; 7] = ["whatsapp", "viber", "email", "webchat", "mobile_app", "telegram", "vk"];
const NAMES: [&str; 16] = [
    "SCAN.PDF",
    "a.pdf.exe",
    "README",
    "x.xlsx",
    "Report.XLSX",
    "photo.jpg",
    "image.PNG",
    "pic.JPEG",
    "letter.docx",
    "old.doc",
    "notes.rtf",
    "draw.bmp",
    "archive.zip",
    "invoice.pdf",
    "trailing.",
    "two..pdf",
];
const SIZES: [u64; 22] = [
    0,
    1,
    120_400,
    10 * MB,
    15 * MB,
    25 * MB,
    30 * MB - 1,
    30 * MB,
    30 * MB + 1,
    30 * MIB,
    33 * MB,
    50 * MB - 1,
    50 * MB,
    50 * MB + 1,
    50 * MIB,
    70 * MB,
    100 * MB - 1,
    100 * MB,
    100 * MB + 1,
    100 * MIB,
    150 * MB,
    200 * MB,
];

fn identifier(rng: &mut Rng, values: &[&'static str]) -> Option<Option<&'static str>> {
    match rng.below(4) {
        0 => None,
        1 => Some(None),
        _ => Some(Some(rng.pick(values))),
    }
}

fn generate(rng: &mut Rng, tenants: &[Option<&'static str>]) -> Req {
    let channel = rng.pick(&CHANNELS);
    let count = match rng.below(12) {
        0..=4 => 0,
        5..=7 => 1,
        8 => 2,
        9 => 3,
        10 => 4,
        _ => 1 + rng.below(8),
    };
    let attachments = if count > 0 || rng.chance(15) {
        Some((0..count).map(|_| Attachment { name: rng.pick(&NAMES).to_owned(), size: rng.pick(&SIZES) }).collect())
    } else {
        None
    };
    Req {
        tenant: rng.pick(tenants),
        role: rng.pick(&["agent", "supervisor"]),
        action: rng.pick(&[None, Some("send"), Some("send_and_assign_self")]),
        new_client: rng.chance(35),
        blocked: rng.opt(70, |r| r.chance(12)),
        active_thread: rng.opt(70, |r| r.chance(25)),
        client_channels: rng.opt(85, |r| {
            let mut c: Vec<&str> = CHANNELS.iter().copied().filter(|_| r.chance(20)).collect();
            if r.chance(65) {
                c.push(channel);
            }
            c
        }),
        email: identifier(rng, &["anna@example.com", "anna@example.com", "  ", ""]),
        phone: identifier(rng, &["+79990001122", "+79990001122", "", "\t"]),
        external_id: identifier(rng, &["ext-1", "ext-1", " "]),
        channel,
        tags: rng.opt(60, |r| ["sales", "support", "billing", "vip", "urgent"].into_iter().filter(|_| r.chance(30)).collect()),
        text: match rng.below(8) {
            0 => None,
            1 => Some(None),
            2 => Some(Some(rng.pick(&["", " ", " \t\n "]))),
            _ => Some(Some("Hello")),
        },
        template: rng.chance(20),
        attachments,
        next: None,
    }
}

/// Texts at and around the next rules' length limits (1000 and 4096 characters; `ё` is two bytes).
fn long_texts() -> &'static [String] {
    static TEXTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    TEXTS.get_or_init(|| [999, 1000, 1001, 4095, 4096, 4097].iter().flat_map(|&n| ["x".repeat(n), "ё".repeat(n)]).collect())
}

const NEXT_TENANTS: [Option<&str>; 5] = [None, Some("default"), Some("demo-tags"), Some("demo-limits"), Some("moscow")];

/// Instants of 2026-11-24 (seconds since 2026-11-20) at and around the quiet-hours bounds, UTC and Moscow.
const TIMES: [i64; 12] = [
    0,
    5 * 3600 + 3540,
    6 * 3600,
    8 * 3600 + 3599,
    9 * 3600,
    12 * 3600,
    17 * 3600 + 3540,
    18 * 3600,
    20 * 3600 + 3599,
    21 * 3600,
    22 * 3600,
    23 * 3600 + 3599,
];

fn generate_next(rng: &mut Rng) -> Req {
    let mut r = generate(rng, &NEXT_TENANTS);
    if rng.chance(15) {
        let texts = long_texts();
        r.text = Some(Some(texts[rng.below(texts.len())].as_str()));
    }
    let at = 4 * 86_400 + rng.pick(&TIMES);
    r.next = Some(Next {
        at,
        last_inbound_at: match rng.below(6) {
            0 => None,
            1 => Some(None),
            _ => Some(Some(at - rng.pick(&[0, 3600, 86_399, 86_400, 86_401, 3 * 86_400]))),
        },
        status: match rng.below(5) {
            0 => None,
            1 => Some(None),
            _ => Some(Some(rng.pick(&["READY", "READY", "OUTGOING", "BREAK"]))),
        },
        opted_out: rng.opt(50, |r| r.chance(50)),
        purpose: rng.opt(50, |r| r.pick(&["marketing", "service"])),
    });
    r
}

// ---------------------------------------------------------------- the comparison

/// The codes of the shipped rules (docs/api.md).
const SHIPPED_CODES: [&str; 14] = [
    "client_blocked",
    "active_thread",
    "channel_not_used_by_client",
    "channel_not_connected",
    "channel_not_available_for_new_client",
    "missing_client_identifier",
    "tags_required",
    "empty_message",
    "template_not_supported",
    "attachment_format_not_allowed",
    "attachment_too_large",
    "attachments_total_too_large",
    "too_many_attachments",
    "action_not_allowed",
];

fn engine_codes<'e>(engine: &'e Engine, req: &Json) -> (bool, Vec<&'e str>) {
    let request = Request::from_json(req).unwrap_or_else(|e| panic!("a well-formed request is refused: {:?}\n{req:#}", e.errors()));
    let answer = engine.decide(&request, NOW).unwrap_or_else(|e| panic!("known names are refused: {:?}\n{req:#}", e.errors()));
    let mut codes: Vec<&str> = answer.violations.iter().map(|v| v.code).collect();
    codes.sort_unstable();
    (answer.allowed, codes)
}

#[test]
fn the_shipped_rules_decide_as_the_domain_reads_on_100k_requests() {
    const REQUESTS: usize = 100_000;
    let engine = Engine::builtin().expect("the built-in rules load");
    let mut rng = Rng(0xD1FF_E4E7_11A1_0001);
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut allowed, mut tenants) = (0usize, BTreeMap::new());
    for i in 0..REQUESTS {
        let r = generate(&mut rng, &TENANTS);
        let want = Model::decide(&r);
        let json = r.to_json();
        let (got_allowed, got) = engine_codes(&engine, &json);
        assert_eq!(got, want, "request #{i}: the engine (left) and the domain reading (right) disagree on\n{json:#}");
        assert_eq!(got_allowed, want.is_empty(), "request #{i}: allowed iff no violation\n{json:#}");
        allowed += usize::from(got_allowed);
        *tenants.entry(r.tenant.unwrap_or("(none)")).or_insert(0usize) += 1;
        for c in want {
            *seen.entry(c).or_insert(0) += 1;
        }
    }
    for code in SHIPPED_CODES {
        assert!(seen.get(code).is_some_and(|n| *n > 0), "no request reached `{code}`: {seen:?}");
    }
    assert_eq!(seen.len(), SHIPPED_CODES.len(), "a code beyond the shipped ones: {seen:?}");
    assert!(allowed > REQUESTS / 100, "too few allowed requests to mean anything: {allowed}");
    assert_eq!(tenants.len(), 4, "every tenant, and the implicit one: {tenants:?}");
}

/// The codes the next rules add (docs/domain.md §3, examples/next-rules/next-catalog.yaml).
const NEXT_CODES: [&str; 5] = ["template_required_outside_window", "text_too_long", "sender_not_ready", "client_opted_out", "quiet_hours"];

#[test]
fn the_next_rules_decide_as_the_domain_reads_on_20k_requests() {
    const REQUESTS: usize = 20_000;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/next-rules");
    let (files, errors) = cansend::internals::read_dir(&dir);
    assert!(errors.is_empty(), "{errors:?}");
    // Only the rules decide; the rule tests are checked by tests/next_rules.rs.
    let files: Vec<_> = files.into_iter().filter(|f| !f.path.starts_with("tests/")).collect();
    let engine = Engine::from_sources(&files).unwrap_or_else(|e| panic!("{:?}", e.diagnostics));
    let mut rng = Rng(0xD1FF_E4E7_11A1_0002);
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut allowed = 0usize;
    for i in 0..REQUESTS {
        let r = generate_next(&mut rng);
        let want = Model::decide(&r);
        let json = r.to_json();
        let (got_allowed, got) = engine_codes(&engine, &json);
        assert_eq!(got, want, "request #{i}: the next rules (left) and the domain reading (right) disagree on\n{json:#}");
        assert_eq!(got_allowed, want.is_empty());
        allowed += usize::from(got_allowed);
        for c in want {
            *seen.entry(c).or_insert(0) += 1;
        }
    }
    for code in SHIPPED_CODES.iter().chain(&NEXT_CODES) {
        assert!(seen.get(code).is_some_and(|n| *n > 0), "no request reached `{code}`: {seen:?}");
    }
    assert!(allowed > 0, "no request was allowed: {seen:?}");
}
