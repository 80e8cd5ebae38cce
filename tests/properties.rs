//! Properties of the engine, over generated requests and generated rule
//! edits (proptest shrinks any counterexample to a small one):
//!
//! - no well-typed request makes the engine panic, whatever its names,
//!   strings and sizes; explaining never changes the decision;
//! - the YAML and the TOML forms of the shipped rule set decide alike;
//! - the order in which rule files are read changes nothing but, at most,
//!   the revision;
//! - adding a deny rule never turns a deny into an allow (every violation
//!   stays);
//! - adding an exception never adds a violation.
//!
//! Case counts are kept small enough that the file runs in well under a
//! minute in a debug build on one core.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{Value as Json, json};

use cansend::builtin_rules as builtin;
use cansend::{Engine, Request, SourceFile};

const NOW: i64 = 1_764_000_000_000;
const MB: u64 = 1_000_000;

const CHANNELS: [&str; 7] = ["whatsapp", "viber", "email", "webchat", "mobile_app", "telegram", "vk"];
const TENANTS: [&str; 3] = ["default", "demo-tags", "demo-limits"];
const NAMES: [&str; 8] = ["SCAN.PDF", "a.pdf.exe", "README", "x.xlsx", "photo.jpg", "letter.docx", "archive.zip", "trailing."];
const SIZES: [u64; 9] = [0, 1, 30 * MB - 1, 30 * MB, 30 * MB + 1, 50 * MB, 50 * MB + 1, 100 * MB + 1, u64::MAX / 4];

/// The shipped rule files, rule tests aside (their requests do not matter here).
fn shipped() -> &'static [SourceFile] {
    static FILES: OnceLock<Vec<SourceFile>> = OnceLock::new();
    FILES.get_or_init(|| builtin().into_iter().filter(|f| !f.path.starts_with("tests/")).collect())
}

fn base() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| load(shipped()))
}

fn load(files: &[SourceFile]) -> Engine {
    Engine::from_sources(files).unwrap_or_else(|e| {
        let listing: Vec<String> = e.diagnostics.iter().map(ToString::to_string).collect();
        let texts: Vec<String> = files.iter().map(|f| format!("--- {}\n{}", f.path, f.text)).collect();
        panic!("the set does not load:\n{}\n{}", listing.join("\n"), texts.join("\n"))
    })
}

/// A string of the vocabulary, or (sometimes) of anything.
fn name_or_any(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![8 => proptest::sample::select(names).prop_map(str::to_owned), 1 => any::<String>()]
}

fn maybe<T: std::fmt::Debug + Clone + 'static>(s: impl Strategy<Value = T> + 'static) -> impl Strategy<Value = Option<T>> {
    proptest::option::weighted(0.7, s)
}

/// A request of the right shape. With `wild`, names, strings and sizes are
/// anything; otherwise they come from the shipped vocabulary.
fn request(wild: bool) -> impl Strategy<Value = Json> {
    let any_if = move |names: &'static [&'static str]| -> BoxedStrategy<String> {
        if wild { name_or_any(names).boxed() } else { proptest::sample::select(names).prop_map(str::to_owned).boxed() }
    };
    let size = if wild {
        prop_oneof![proptest::sample::select(&SIZES[..]), any::<u64>()].boxed()
    } else {
        proptest::sample::select(&SIZES[..]).boxed()
    };
    let attachment = (any_if(&NAMES), size).prop_map(|(name, size)| json!({ "name": name, "size": size }));
    let client = (
        proptest::sample::select(&["existing", "new"][..]),
        maybe(any::<bool>()),
        maybe(any::<bool>()),
        maybe(proptest::collection::vec(any_if(&CHANNELS), 0..4)),
        maybe(prop_oneof![Just("anna@example.com".to_owned()), Just(" ".to_owned()), any::<String>()]),
        maybe(prop_oneof![Just("+79990001122".to_owned()), Just(String::new())]),
        maybe(prop_oneof![Just("ext-1".to_owned()), Just("\t".to_owned())]),
    )
        .prop_map(|(status, blocked, active, channels, email, phone, external_id)| {
            let mut c = serde_json::Map::new();
            c.insert("status".into(), json!(status));
            for (k, v) in [("blocked", blocked.map(Json::from)), ("active_thread", active.map(Json::from))] {
                if let Some(v) = v {
                    c.insert(k.into(), v);
                }
            }
            for (k, v) in [
                ("channels", channels.map(Json::from)),
                ("email", email.map(Json::from)),
                ("phone", phone.map(Json::from)),
                ("external_id", external_id.map(Json::from)),
            ] {
                if let Some(v) = v {
                    c.insert(k.into(), v);
                }
            }
            Json::Object(c)
        });
    let message = (
        maybe(prop_oneof![Just("Hello".to_owned()), Just(" \t".to_owned()), any::<String>()]),
        any::<bool>(),
        maybe(proptest::collection::vec(attachment, 0..5)),
    )
        .prop_map(|(text, template, attachments)| {
            let mut m = serde_json::Map::new();
            if let Some(t) = text {
                m.insert("text".into(), json!(t));
            }
            if template {
                m.insert("template".into(), json!({ "name": "order_ready" }));
            }
            if let Some(a) = attachments {
                m.insert("attachments".into(), Json::Array(a));
            }
            Json::Object(m)
        });
    (
        maybe(any_if(&TENANTS)),
        any_if(&["agent", "supervisor"]),
        maybe(any_if(&["send", "send_and_assign_self"])),
        client,
        any_if(&CHANNELS),
        maybe(proptest::collection::vec(any_if(&["sales", "support", "billing", "vip"]), 0..3)),
        message,
    )
        .prop_map(|(tenant, role, action, client, channel, tags, message)| {
            let mut r = serde_json::Map::new();
            if let Some(t) = tenant {
                r.insert("tenant".into(), json!(t));
            }
            r.insert("sender".into(), json!({ "role": role }));
            if let Some(a) = action {
                r.insert("action".into(), json!(a));
            }
            r.insert("client".into(), client);
            r.insert("channel".into(), json!(channel));
            if let Some(t) = tags {
                r.insert("thread".into(), json!({ "tags": t }));
            }
            r.insert("message".into(), message);
            Json::Object(r)
        })
}

/// What a set decides for a request: allowed, and each violation (code,
/// rule, pointer); `None` when the request is refused (unknown names).
type Decided = Option<(bool, Vec<(String, String, Option<String>)>)>;

fn decided(engine: &Engine, req: &Json) -> Decided {
    let request = Request::from_json(req).ok()?;
    let a = engine.decide(&request, NOW).ok()?;
    Some((a.allowed, a.violations.iter().map(|v| (v.code.to_owned(), v.rule.to_owned(), v.pointer.clone())).collect()))
}

// ---------------------------------------------------------------- generated rule edits

/// Conditions over what every request has, in the rule format (docs/rules.md).
const ATOMS: [&str; 9] = [
    "client.blocked",
    "client.active_thread",
    "{ channel: email }",
    "{ channel: { in: [whatsapp, viber] } }",
    "{ client.status: new }",
    "{ message.attachments.count: { gt: 1 } }",
    "{ message.template: { present: true } }",
    "{ client.email: { blank: true } }",
    "{ tenant.tags_required: true }",
];

fn condition() -> impl Strategy<Value = String> {
    let atom = proptest::sample::select(&ATOMS[..]);
    prop_oneof![
        atom.clone().prop_map(str::to_owned),
        (proptest::sample::select(&["all", "any"][..]), proptest::collection::vec(atom.clone(), 2..4))
            .prop_map(|(op, atoms)| format!("{{ {op}: [{}] }}", atoms.join(", "))),
        atom.prop_map(|a| format!("{{ not: {a} }}")),
    ]
}

const RULE_IDS: [&str; 15] = [
    "client-not-blocked",
    "no-active-thread",
    "existing-client-channel-used",
    "channel-connected",
    "new-client-channel",
    "new-client-phone",
    "new-client-email",
    "new-client-external-id",
    "tags-required",
    "action-allowed-for-role",
    "message-not-empty",
    "template-channel",
    "attachment-count",
    "attachment-format",
    "attachment-size",
];

fn with_file(path: &str, text: String) -> Vec<SourceFile> {
    let mut files = shipped().to_vec();
    files.push(SourceFile { path: path.into(), text });
    files
}

/// The rule tests load with the rules; keep them out of the edited sets' way.
fn requests(n: usize) -> impl Strategy<Value = Vec<Json>> {
    proptest::collection::vec(request(false), n)
}

// ---------------------------------------------------------------- the properties

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_well_typed_request_panics_and_explaining_changes_nothing(req in request(true)) {
        let engine = base();
        if let Ok(request) = Request::from_json(&req) {
            let plain = engine.decide(&request, NOW);
            let explained = engine.explain(&request, NOW);
            match (plain, explained) {
                (Ok(p), Ok(e)) => {
                    prop_assert_eq!(p.allowed, p.violations.is_empty());
                    prop_assert_eq!((p.allowed, &p.violations), (e.allowed, &e.violations), "explain changed the decision of {:#}", req);
                    prop_assert!(e.trace.is_some());
                }
                (Err(p), Err(e)) => prop_assert_eq!(p.errors(), e.errors()),
                (p, e) => prop_assert!(false, "decide and explain disagree on refusing {:#}: {:?} / {:?}", req, p.is_ok(), e.is_ok()),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn yaml_and_toml_forms_decide_alike(reqs in requests(16)) {
        static TOML: OnceLock<Engine> = OnceLock::new();
        let toml = TOML.get_or_init(|| {
            let files: Vec<SourceFile> = shipped()
                .iter()
                .map(|f| {
                    if f.path.ends_with(".toml") {
                        return f.clone();
                    }
                    let tree: Json = serde_yaml::from_str(&f.text).expect("shipped YAML parses");
                    let stem = f.path.rsplit_once('.').map_or(&*f.path, |(s, _)| s);
                    SourceFile { path: format!("{stem}.toml"), text: toml::to_string(&tree).expect("expressible in TOML") }
                })
                .collect();
            assert!(files.iter().all(|f| f.path.ends_with(".toml")));
            load(&files)
        });
        for req in &reqs {
            prop_assert_eq!(decided(base(), req), decided(toml, req), "YAML (left) and TOML (right) disagree on {:#}", req);
        }
    }

    #[test]
    fn the_order_files_are_read_in_changes_nothing(order in Just(shipped().to_vec()).prop_shuffle(), reqs in requests(16)) {
        let shuffled = load(&order);
        let (a, b) = (base().catalog(), shuffled.catalog());
        prop_assert_eq!(a.rules().map(|r| r.id).collect::<Vec<_>>(), b.rules().map(|r| r.id).collect::<Vec<_>>());
        prop_assert_eq!(a.channels().collect::<Vec<_>>(), b.channels().collect::<Vec<_>>());
        prop_assert_eq!(a.tenants().collect::<Vec<_>>(), b.tenants().collect::<Vec<_>>());
        for req in &reqs {
            prop_assert_eq!(decided(base(), req), decided(&shuffled, req), "read in order (left) and shuffled (right) disagree on {:#}", req);
        }
    }

    #[test]
    fn adding_a_deny_rule_never_turns_a_deny_into_an_allow(when in condition(), reqs in requests(16)) {
        let text = format!("kind: rules\ndescription: A generated rule.\nrules:\n  - id: generated-deny\n    description: generated\n    deny: {when}\n    code: client_blocked\n");
        let extended = load(&with_file("zz-generated.yaml", text));
        for req in &reqs {
            let (Some((allowed, before)), Some((allowed_after, after))) = (decided(base(), req), decided(&extended, req)) else {
                return Err(TestCaseError::fail(format!("the request is refused: {req:#}")));
            };
            prop_assert!(allowed || !allowed_after, "`{}` turned a deny into an allow: {:#}", when, req);
            for v in &before {
                prop_assert!(after.contains(v), "`{}` removed the violation {:?} of {:#}", when, v, req);
            }
        }
    }

    #[test]
    fn an_exception_never_adds_a_violation(
        when in condition(),
        overrides in proptest::sample::subsequence(&RULE_IDS[..], 1..4),
        reqs in requests(16),
    ) {
        let text = format!(
            "kind: rules\ndescription: A generated exception.\nexceptions:\n  - id: generated-exception\n    description: generated\n    when: {when}\n    overrides: [{}]\n",
            overrides.join(", ")
        );
        let extended = load(&with_file("zz-generated.yaml", text));
        for req in &reqs {
            let (Some((_, before)), Some((allowed_after, after))) = (decided(base(), req), decided(&extended, req)) else {
                return Err(TestCaseError::fail(format!("the request is refused: {req:#}")));
            };
            prop_assert_eq!(allowed_after, after.is_empty());
            for v in &after {
                prop_assert!(before.contains(v), "the exception `{}` over {:?} added {:?} to {:#}", when, overrides, v, req);
            }
        }
    }
}
