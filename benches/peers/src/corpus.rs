//! A deterministic corpus of valid can-send requests (the bodies of docs/api.md) on
//! the shipped tenants: every channel, role and action, existing and new
//! clients, identifiers present, absent, `null` or blank, tags, templates,
//! blank and absent text, 0–6 attachments with mixed extensions and sizes
//! on and around the limits. The weights make a good fraction allowed.

use serde_json::{Map, Value, json};

/// xorshift64*: tiny, seeded, the same corpus on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// 0 ≤ n < bound.
    pub fn below(&mut self, bound: usize) -> usize {
        ((self.next() >> 32) as usize * bound) >> 32
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An item drawn by weight: `(weight, item)`.
    pub fn weighted<'a, T>(&mut self, items: &'a [(usize, T)]) -> &'a T {
        let total: usize = items.iter().map(|(w, _)| w).sum();
        let mut n = self.below(total);
        for (w, item) in items {
            if n < *w {
                return item;
            }
            n -= w;
        }
        &items[items.len() - 1].1
    }
}

pub const CHANNELS: [&str; 7] = ["whatsapp", "viber", "email", "webchat", "mobile_app", "telegram", "vk"];

/// Attachment names: allowed formats in any case, double extensions,
/// no extension, a leading dot, a trailing dot, `.xlsx` (allowed on
/// demo-limits email only), formats never allowed.
const NAMES: [(usize, &str); 20] = [
    (12, "invoice.pdf"),
    (6, "SCAN.PDF"),
    (6, "photo.JPG"),
    (5, "photo.jpeg"),
    (5, "image.png"),
    (4, "report.docx"),
    (3, "letter.doc"),
    (2, "terms.rtf"),
    (2, "logo.Bmp"),
    (3, "table.xlsx"),
    (2, "a.pdf.exe"),
    (1, "README"),
    (1, ".pdf"),
    (1, "name."),
    (1, "notes.txt"),
    (1, "archive.tar.gz"),
    (1, "my.files.v2.PnG"),
    (1, "contract final.Docx"),
    (1, "scan..pdf"),
    (1, "movie.mp4"),
];

/// Sizes in bytes: mostly small, some on and around 30 MB, 50 MB and 100 MB
/// (a size equal to a limit is within it), and parts of those totals.
const SIZES: [(usize, u64); 18] = [
    (40, 1_000),
    (40, 120_400),
    (25, 2_500_000),
    (8, 9_999_999),
    (6, 10_000_000),
    (6, 15_000_000),
    (4, 25_000_000),
    (5, 29_999_999),
    (6, 30_000_000),
    (5, 30_000_001),
    (3, 49_999_999),
    (4, 50_000_000),
    (3, 50_000_001),
    (2, 99_999_999),
    (2, 100_000_000),
    (2, 100_000_001),
    (1, 0),
    (1, 33_333_334),
];

fn identifier(r: &mut Rng, value: &str, present_percent: usize) -> Option<Value> {
    if r.chance(present_percent) {
        return Some(Value::from(value));
    }
    match r.below(6) {
        0 => Some(Value::Null),
        1 => Some(Value::from("")),
        2 => Some(Value::from("   ")),
        3 => Some(Value::from("\t\u{a0}")),
        _ => None,
    }
}

fn request(r: &mut Rng, i: usize) -> Value {
    let mut body = Map::new();
    let tenant = *r.weighted(&[(25, None), (15, Some("default")), (30, Some("demo-tags")), (30, Some("demo-limits"))]);
    if let Some(t) = tenant {
        body.insert("tenant".into(), t.into());
    }

    let role = if r.chance(65) { "agent" } else { "supervisor" };
    let mut sender = Map::new();
    sender.insert("role".into(), role.into());
    if r.chance(50) {
        sender.insert("id".into(), format!("u-{}", i % 97).into());
    }
    if r.chance(30) {
        sender.insert("status".into(), "READY".into());
    }
    body.insert("sender".into(), sender.into());

    match r.below(10) {
        0..=4 => {}
        5..=7 => {
            body.insert("action".into(), "send".into());
        }
        _ => {
            body.insert("action".into(), "send_and_assign_self".into());
        }
    }

    let channel =
        *r.weighted(&[(22, "whatsapp"), (12, "viber"), (24, "email"), (12, "webchat"), (10, "mobile_app"), (12, "telegram"), (8, "vk")]);
    body.insert("channel".into(), channel.into());

    // The client.
    let existing = r.chance(75);
    let mut client = Map::new();
    client.insert("status".into(), if existing { "existing" } else { "new" }.into());
    match r.below(20) {
        0 => {
            client.insert("blocked".into(), true.into());
        }
        1..=7 => {
            client.insert("blocked".into(), false.into());
        }
        8 => {
            client.insert("blocked".into(), Value::Null);
        }
        _ => {}
    }
    match r.below(10) {
        0 => {
            client.insert("active_thread".into(), true.into());
        }
        1..=4 => {
            client.insert("active_thread".into(), false.into());
        }
        _ => {}
    }
    if existing || r.chance(20) {
        // The channels a client wrote from: usually the target, sometimes
        // others only, sometimes a retired channel the rules no longer know.
        let mut list: Vec<Value> = Vec::new();
        if r.chance(80) {
            list.push(channel.into());
        }
        for _ in 0..r.below(3) {
            let other = *r.pick(&CHANNELS);
            if !list.iter().any(|v| v == other) {
                list.push(other.into());
            }
        }
        if r.chance(5) {
            list.push("icq".into());
        }
        if !list.is_empty() || r.chance(50) {
            client.insert("channels".into(), list.into());
        }
    }
    for (field, value, present) in [("email", "anna@example.com", 65), ("phone", "+79990001122", 70), ("external_id", "ext-42", 65)] {
        if let Some(v) = identifier(r, value, present) {
            client.insert(field.into(), v);
        }
    }
    if r.chance(30) {
        client.insert("last_inbound_at".into(), "2026-11-20T09:30:00Z".into());
    }
    if r.chance(20) {
        client.insert("attributes".into(), json!({}));
    }
    body.insert("client".into(), client.into());

    // The thread's tags: the tenant's (demo-tags: sales, support, billing),
    // free-form ones, a wrong case.
    match r.below(10) {
        0 | 1 => {}
        2 => {
            body.insert("thread".into(), json!({}));
        }
        3 => {
            body.insert("thread".into(), json!({"tags": []}));
        }
        _ => {
            let pool = ["sales", "support", "billing", "sales", "support", "vip", "Sales", "followup"];
            let tags: Vec<Value> = (0..1 + r.below(3)).map(|_| Value::from(*r.pick(&pool))).collect();
            body.insert("thread".into(), json!({ "tags": tags }));
        }
    }

    // The message.
    let mut message = Map::new();
    match r.below(40) {
        0..=2 => {}
        3 => {
            message.insert("text".into(), "".into());
        }
        4 => {
            message.insert("text".into(), " \n\t ".into());
        }
        5 => {
            message.insert("text".into(), Value::Null);
        }
        _ => {
            message.insert("text".into(), "Hello".into());
        }
    }
    let templated = if matches!(channel, "whatsapp" | "viber") { 30 } else { 6 };
    if r.chance(templated) {
        let mut t = Map::new();
        t.insert("name".into(), "order_ready".into());
        if r.chance(50) {
            t.insert("header".into(), "Hi".into());
        }
        if r.chance(30) {
            t.insert("footer".into(), "Thanks".into());
        }
        message.insert("template".into(), t.into());
    } else if r.chance(5) {
        message.insert("template".into(), Value::Null);
    }
    let count = if channel == "email" {
        *r.weighted(&[(35, 0), (30, 1), (12, 2), (8, 3), (6, 4), (5, 5), (4, 6)])
    } else {
        *r.weighted(&[(55, 0), (38, 1), (4, 2), (3, 3)])
    };
    if count > 0 || r.chance(10) {
        let atts: Vec<Value> = (0..count).map(|_| json!({"name": *r.weighted(&NAMES), "size": *r.weighted(&SIZES)})).collect();
        message.insert("attachments".into(), atts.into());
    }
    body.insert("message".into(), message.into());
    Value::Object(body)
}

/// `n` requests from `seed`.
pub fn generate(n: usize, seed: u64) -> Vec<Value> {
    let mut r = Rng::new(seed);
    (0..n).map(|i| request(&mut r, i)).collect()
}
