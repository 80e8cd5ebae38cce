//! The same rules written in YAML and in TOML decide alike.
//!
//! The shipped rules (`source::builtin()`, without the rule tests) are
//! converted mechanically: every YAML file to TOML (YAML → JSON tree with
//! `serde_yaml` → `toml::to_string`), and for a pure-YAML set the one TOML
//! tenant to YAML. All three sets load, and on a deterministic corpus of
//! 6000 generated requests give identical decisions: `allowed`, every
//! violation (code, rule, message, pointer), the explanation trace, and the
//! send options. Only the revision differs. The corpus is checked not to be
//! trivial: both answers occur, and every violation code the default rules emit (docs/api.md).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value as Json, json};

use cansend::builtin_rules as builtin;
use cansend::{Answer as Body, Engine, FieldError, Request, SendOptionsRequest, SourceFile};

const NOW: i64 = 1_764_000_000_000;

/// Codes the default rules emit (docs/api.md).
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

// ---------------------------------------------------------------- the three sets

fn kind_of(f: &SourceFile) -> String {
    let v = tree(f);
    v.get("kind").and_then(Json::as_str).unwrap_or_default().to_owned()
}

/// A shipped file as the common JSON tree.
fn tree(f: &SourceFile) -> Json {
    if f.path.ends_with(".toml") {
        toml::from_str::<Json>(&f.text).unwrap_or_else(|e| panic!("{}: {e}", f.path))
    } else {
        serde_yaml::from_str::<Json>(&f.text).unwrap_or_else(|e| panic!("{}: {e}", f.path))
    }
}

/// TOML has no null: name the first one, if any.
fn null_in(v: &Json, at: &str) -> Option<String> {
    match v {
        Json::Null => Some(if at.is_empty() { "/".into() } else { at.into() }),
        Json::Array(items) => items.iter().enumerate().find_map(|(i, x)| null_in(x, &format!("{at}/{i}"))),
        Json::Object(m) => m.iter().find_map(|(k, x)| null_in(x, &format!("{at}/{k}"))),
        _ => None,
    }
}

fn to_toml(path: &str, v: &Json) -> String {
    if let Some(at) = null_in(v, "") {
        panic!("{path}: the null at {at} cannot be expressed in TOML");
    }
    assert!(v.is_object(), "{path}: a TOML document is a table; this file is {v}");
    let text = toml::to_string(v).unwrap_or_else(|e| panic!("{path}: cannot be written as TOML: {e}"));
    // The conversion itself is lossless: reading it back gives the same tree.
    let back: Json = toml::from_str(&text).unwrap_or_else(|e| panic!("{path}: the TOML written does not parse: {e}\n{text}"));
    assert_eq!(&back, v, "{path}: TOML round trip changed the tree:\n{text}");
    text
}

fn to_yaml(path: &str, v: &Json) -> String {
    let text = serde_yaml::to_string(v).unwrap_or_else(|e| panic!("{path}: cannot be written as YAML: {e}"));
    let back: Json = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: the YAML written does not parse: {e}\n{text}"));
    assert_eq!(&back, v, "{path}: YAML round trip changed the tree:\n{text}");
    text
}

fn with_ext(path: &str, ext: &str) -> String {
    let stem = path.rsplit_once('.').map_or(path, |(s, _)| s);
    format!("{stem}.{ext}")
}

struct Sets {
    /// The shipped files without rule tests (YAML, and one tenant in TOML).
    shipped: Vec<SourceFile>,
    /// Every file in TOML.
    toml: Vec<SourceFile>,
    /// Every file in YAML.
    yaml: Vec<SourceFile>,
}

fn sets() -> Sets {
    // Rule tests are dropped: their requests hold nulls (`text: null`), which TOML cannot say.
    let shipped: Vec<SourceFile> = builtin().into_iter().filter(|f| kind_of(f) != "tests").collect();
    assert!(shipped.iter().any(|f| f.path.ends_with(".toml")) && shipped.iter().any(|f| f.path.ends_with(".yaml")));
    let convert = |ext: &str| -> Vec<SourceFile> {
        shipped
            .iter()
            .map(|f| {
                if f.path.ends_with(&format!(".{ext}")) {
                    return f.clone();
                }
                let v = tree(f);
                let text = if ext == "toml" { to_toml(&f.path, &v) } else { to_yaml(&f.path, &v) };
                SourceFile { path: with_ext(&f.path, ext), text }
            })
            .collect()
    };
    let toml = convert("toml");
    let yaml = convert("yaml");
    assert!(toml.iter().all(|f| f.path.ends_with(".toml")));
    assert!(yaml.iter().all(|f| f.path.ends_with(".yaml")));
    Sets { shipped, toml, yaml }
}

fn load(name: &str, files: &[SourceFile]) -> Engine {
    match Engine::from_sources(files) {
        Ok(e) => e,
        Err(e) => {
            let listing: Vec<String> = e.diagnostics.iter().map(ToString::to_string).collect();
            let texts: Vec<String> = files.iter().map(|f| format!("--- {}\n{}", f.path, f.text)).collect();
            panic!("the {name} set does not load:\n{}\n{}", listing.join("\n"), texts.join("\n"))
        }
    }
}

// ---------------------------------------------------------------- the corpus

/// xorshift64*: deterministic, tiny.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const TENANTS: [&str; 3] = ["default", "demo-tags", "demo-limits"];
const CHANNELS: [&str; 7] = ["whatsapp", "viber", "email", "webchat", "mobile_app", "telegram", "vk"];
const NAMES: [&str; 12] = [
    "SCAN.PDF",
    "a.pdf.exe",
    "README",
    "x.xlsx",
    "Report.XLSX",
    "photo.jpg",
    "image.PNG",
    "letter.docx",
    "old.doc",
    "notes.rtf",
    "archive.zip",
    "invoice.pdf",
];
const MB: i64 = 1_000_000;
const MIB: i64 = 1 << 20;
const SIZES: [i64; 18] = [
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
    50 * MB - 1,
    50 * MB,
    50 * MB + 1,
    50 * MIB,
    100 * MB - 1,
    100 * MB,
    100 * MB + 1,
    200 * MB,
];

fn request(rng: &mut Rng) -> Json {
    let mut r = serde_json::Map::new();
    match rng.below(4) {
        0 => {} // the default tenant, implicitly
        _ => {
            r.insert("tenant".into(), json!(rng.pick(&TENANTS)));
        }
    }
    let mut sender = json!({ "role": rng.pick(&["agent", "supervisor"]) });
    if rng.chance(30) {
        sender["id"] = json!("u-17");
    }
    if rng.chance(20) {
        sender["status"] = json!(rng.pick(&["READY", "OUTGOING", "AWAY"]));
    }
    r.insert("sender".into(), sender);
    match rng.below(5) {
        0 => {}
        1 => {
            r.insert("action".into(), json!("send_and_assign_self"));
        }
        _ => {
            r.insert("action".into(), json!("send"));
        }
    }
    r.insert("at".into(), json!("2026-11-24T12:00:00Z"));

    let channel = *rng.pick(&CHANNELS);
    let mut client = serde_json::Map::new();
    client.insert("status".into(), json!(if rng.chance(35) { "new" } else { "existing" }));
    for (field, percent) in [("blocked", 12), ("active_thread", 20)] {
        match rng.below(3) {
            0 => {}
            _ => {
                client.insert(field.into(), json!(rng.chance(percent)));
            }
        }
    }
    if !rng.chance(15) {
        let mut channels: Vec<&str> = CHANNELS.iter().copied().filter(|_| rng.chance(25)).collect();
        if rng.chance(70) {
            channels.push(channel);
        }
        if rng.chance(10) {
            channels.push("icq"); // a retired channel: ignored
        }
        client.insert("channels".into(), json!(channels));
    }
    for (field, values) in [
        ("email", &["anna@example.com", "anna@example.com", "  ", ""][..]),
        ("phone", &["+79990001122", "+79990001122", ""][..]),
        ("external_id", &["ext-1", "ext-1", " "][..]),
    ] {
        match rng.below(4) {
            0 => {}
            1 => {
                client.insert(field.into(), Json::Null);
            }
            _ => {
                client.insert(field.into(), json!(rng.pick(values)));
            }
        }
    }
    r.insert("client".into(), Json::Object(client));
    r.insert("channel".into(), json!(channel));
    if rng.chance(60) {
        let tags: Vec<&str> = ["sales", "support", "billing", "vip", "urgent"].into_iter().filter(|_| rng.chance(30)).collect();
        r.insert("thread".into(), json!({ "tags": tags }));
    }

    let mut message = serde_json::Map::new();
    match rng.below(8) {
        0 => {}
        1 => {
            message.insert("text".into(), Json::Null);
        }
        2 => {
            message.insert("text".into(), json!(rng.pick(&["", " ", " \t\n "])));
        }
        _ => {
            message.insert("text".into(), json!("Hello"));
        }
    }
    if rng.chance(20) {
        let mut t = json!({ "name": "order_ready" });
        if rng.chance(50) {
            t["header"] = json!("Hi");
        }
        if rng.chance(50) {
            t["footer"] = json!("Bye");
        }
        message.insert("template".into(), t);
    }
    let count = match rng.below(10) {
        0..=3 => 0,
        4..=6 => 1,
        7 => 2,
        8 => 3,
        _ => 4,
    };
    if count > 0 || rng.chance(20) {
        let list: Vec<Json> = (0..count).map(|_| json!({ "name": rng.pick(&NAMES), "size": rng.pick(&SIZES) })).collect();
        message.insert("attachments".into(), json!(list));
    }
    r.insert("message".into(), Json::Object(message));

    // A few requests are bad, the same way for both sets.
    match rng.below(100) {
        0 => {
            r.insert("channel".into(), json!("icq"));
        }
        1 => {
            r["client"]["blockd"] = json!(true);
        }
        2 => {
            r.insert("tenant".into(), json!("acme"));
        }
        _ => {}
    }
    Json::Object(r)
}

/// Everything a set answers for one request, revision and rule positions aside: its decision,
/// or the problems that refuse the request.
type Answer<'e> = Result<Decided<'e>, Vec<FieldError>>;

#[derive(Debug, PartialEq)]
struct Decided<'e> {
    body: Body<'e>,
    explained: Body<'e>,
    options: Option<Json>,
}

fn answer<'e>(engine: &'e Engine, req: &Json, with_options: bool) -> Answer<'e> {
    let invalid = |e: cansend::RequestError| e.errors().to_vec();
    let request = Request::from_json(req).map_err(invalid)?;
    let mut body = engine.decide(&request, NOW).map_err(invalid)?;
    let mut explained = engine.explain(&request, NOW).map_err(invalid)?;
    assert_eq!(body.revision, engine.revision());
    assert_eq!((explained.allowed, &explained.violations), (body.allowed, &body.violations), "explaining changes nothing");
    body.revision = "";
    explained.revision = "";
    // Where each rule is written differs between the forms by construction.
    for step in explained.trace.iter_mut().flatten() {
        (step.file, step.line) = ("", 0);
    }
    let options = with_options.then(|| {
        let mut asked = serde_json::Map::new();
        for key in ["tenant", "sender", "at", "client"] {
            if let Some(v) = req.get(key) {
                asked.insert(key.to_owned(), v.clone());
            }
        }
        let asked = SendOptionsRequest::from_json(&Json::Object(asked)).expect("the same sender and client");
        let mut o = serde_json::to_value(engine.send_options(&asked, NOW).expect("bound as the request was")).expect("options serialize");
        o["revision"] = Json::Null;
        o
    });
    Ok(Decided { body, explained, options })
}

/// Every name a set declares, in its order: declaration order is meaning
/// (the order of channels in send options, of rules in violations).
fn vocabulary(engine: &Engine) -> Vec<(&'static str, Vec<String>)> {
    let c = engine.catalog();
    let names = |n: Vec<&str>| n.into_iter().map(str::to_owned).collect::<Vec<_>>();
    let [tenant_settings, channel_settings, role_settings] = c.settings();
    vec![
        ("channels", names(c.channels().collect())),
        ("roles", names(c.roles().collect())),
        ("actions", names(c.actions().collect())),
        ("capabilities", names(c.capabilities().collect())),
        ("client statuses", names(c.client_statuses().collect())),
        ("tenants", names(c.tenants().collect())),
        ("codes", c.codes().map(|(name, message)| format!("{name}: {message}")).collect()),
        ("tenant settings", names(tenant_settings)),
        ("channel settings", names(channel_settings)),
        ("role settings", names(role_settings)),
        ("rules", c.rules().map(|r| r.id.to_owned()).collect()),
        ("exceptions", c.exceptions().map(|e| e.id.to_owned()).collect()),
    ]
}

#[test]
fn yaml_and_toml_rules_decide_alike_on_a_generated_corpus() {
    const REQUESTS: usize = 6000;
    let Sets { shipped, toml, yaml } = sets();
    let sets = [("shipped", load("shipped", &shipped)), ("toml", load("toml", &toml)), ("yaml", load("yaml", &yaml))];
    let revisions: BTreeSet<String> = sets.iter().map(|(_, e)| e.revision().to_owned()).collect();
    assert_eq!(revisions.len(), 3, "different files, different revisions");
    for (name, rs) in &sets[1..] {
        assert_eq!(vocabulary(rs), vocabulary(&sets[0].1), "{name}: the same names, in declaration order");
    }

    let mut rng = Rng(0x5EED_CA45_E4D0_0001);
    let (mut allowed, mut denied, mut refused) = (0usize, 0usize, 0usize);
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    let mut pointers = 0usize;
    let mut differences = Vec::new();
    for n in 0..REQUESTS {
        let req = request(&mut rng);
        let answers: Vec<Answer> = sets.iter().map(|(_, rs)| answer(rs, &req, n % 10 == 0)).collect();
        for ((name, _), a) in sets.iter().zip(&answers).skip(1) {
            if *a != answers[0] {
                differences.push(format!("request #{n} {req}\n  shipped: {:?}\n  {name}: {a:?}", answers[0]));
            }
        }
        match &answers[0] {
            Err(_) => refused += 1,
            Ok(Decided { body, .. }) => {
                if body.allowed {
                    allowed += 1;
                    assert!(body.violations.is_empty());
                } else {
                    denied += 1;
                    assert!(!body.violations.is_empty());
                }
                for v in &body.violations {
                    *codes.entry(v.code.to_owned()).or_default() += 1;
                    pointers += usize::from(v.pointer.is_some());
                }
            }
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {REQUESTS} requests decided differently; first:\n{}",
        differences.len(),
        differences[..differences.len().min(3)].join("\n")
    );

    // Not trivial.
    let decided = allowed + denied;
    assert!(decided >= 5000, "{decided} requests decided, {refused} refused");
    assert!(allowed >= decided / 20 && denied >= decided / 20, "allowed {allowed}, denied {denied}");
    assert!(refused > 0, "some requests are refused the same way by both");
    let missing: Vec<&str> = SHIPPED_CODES.iter().copied().filter(|c| !codes.contains_key(*c)).collect();
    assert!(missing.is_empty(), "codes never seen: {missing:?}; seen: {codes:?}");
    let unexpected: Vec<&String> = codes.keys().filter(|c| !SHIPPED_CODES.contains(&c.as_str())).collect();
    assert!(unexpected.is_empty(), "codes the shipped rules do not declare: {unexpected:?}");
    assert!(pointers > 0, "per-attachment violations point at their attachment");
}

#[test]
fn the_converted_files_are_really_toml_and_yaml() {
    let Sets { toml, yaml, .. } = sets();
    // Shapes TOML must carry: arrays of tables inside tables inside arrays of tables
    // (`rules[].deny.all[]`), dotted keys, `$` references, sizes with units.
    let rules = toml.iter().find(|f| f.path == "eligibility.toml").expect("eligibility.toml");
    assert!(rules.text.contains("[[rules]]"), "{}", rules.text);
    assert!(rules.text.contains("\"client.status\""), "{}", rules.text);
    assert!(rules.text.contains("$client.channels"), "{}", rules.text);
    let settings = toml.iter().find(|f| f.path == "settings.toml").expect("settings.toml");
    assert!(settings.text.contains("\"30 MB\""), "{}", settings.text);
    let limits = yaml.iter().find(|f| f.path == "tenants/demo-limits.yaml").expect("tenants/demo-limits.yaml");
    assert!(limits.text.contains("50 MB") && limits.text.contains("SUP-1042"), "{}", limits.text);
}
