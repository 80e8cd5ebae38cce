//! Findings on crafted rule sets: a table of rules → the findings they
//! must give, and nothing else; and none on the shipped rules.
//! Test code only (`mod tests` is compiled under `cfg(test)`), marked as
//! such for the scans of `tests/generic_engine.rs` and `scripts/arrows.py`:
#[cfg(test)]
use crate::facade::Engine;
use crate::rules::SourceFile;

use super::{Finding, FindingKind, findings};

const CATALOG: &str = "kind: catalog
request_defaults: { tenant: t1, action: send }
client_statuses: { existing: {}, new: {} }
channels: { whatsapp: {}, email: {}, telegram: {} }
roles: { agent: {}, supervisor: {} }
actions: { send: {}, assign: {} }
codes:
  a: { message: A }
  b: { message: B }
  spare: { message: kept for later, allow_findings: [unused] }
attributes:
  client:
    vip: { type: bool, allow_findings: [unused] }
    score: { type: int, allow_findings: [unused] }
";

const SETTINGS: &str = "kind: settings
tenant:
  flag: { type: bool, default: false, allow_findings: [unused] }
  tags: { type: set<string>, default: [], allow_findings: [unused] }
channel:
  connected: { type: bool, default: true, allow_findings: [unused] }
  max_file_size: { type: size, default: 30 MB, min: 0 B, max: 100 MB, allow_findings: [unused] }
  max_count: { type: int, default: 1, min: 0, max: 100, locked: true, allow_findings: [unused] }
  window: { type: duration, default: 24h, allow_findings: [unused] }
role:
  actions: { type: set<action>, default: [send], locked: true, allow_findings: [unused] }
channels:
  email: { max_count: 10 }
roles:
  agent: { actions: [send, assign] }
";

/// The base files with `rules` (a rules file's `rules:` and `exceptions:`)
/// and extra files.
fn set(rules: &str, extra: &[(&str, &str)]) -> Engine {
    let mut files = vec![
        SourceFile { path: "catalog.yaml".into(), text: CATALOG.into() },
        SourceFile { path: "settings.yaml".into(), text: SETTINGS.into() },
        SourceFile { path: "rules.yaml".into(), text: format!("kind: rules\n{rules}") },
        SourceFile { path: "tenants/t1.yaml".into(), text: "kind: tenant\ntenant: t1\n".into() },
    ];
    files.extend(extra.iter().map(|(p, t)| SourceFile { path: (*p).into(), text: (*t).into() }));
    match Engine::from_sources(&files) {
        Ok(e) => e,
        Err(e) => panic!("{}", e.diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")),
    }
}

fn shown(fs: &[Finding]) -> Vec<(String, String)> {
    fs.iter().filter(|f| !f.allowed).map(|f| (f.kind.name().to_owned(), f.subject.clone())).collect()
}

/// A crafted case: its name, its rules, the findings it must give.
type Case = (&'static str, String, Vec<(String, String)>);

/// A rule `r` denying with code `a` when `deny` holds.
fn rule(deny: &str) -> String {
    format!("rules:\n  - {{ id: r, code: a, deny: {deny} }}\n")
}

#[test]
fn findings_on_crafted_rule_sets() {
    let never = |subject: &str| vec![("never_fires".to_owned(), format!("rule {subject}"))];
    let none: Vec<(String, String)> = Vec::new();
    let table: Vec<Case> = vec![
        ("two channels at once", rule("{ all: [ { channel: { in: [whatsapp] } }, { channel: email } ] }"), never("r")),
        ("new and existing at once", rule("{ all: [ { client.status: new }, { client.status: existing } ] }"), never("r")),
        ("one channel", rule("{ channel: { in: [whatsapp] } }"), none.clone()),
        (
            "a size above every tenant's bound",
            "rules:\n  - { id: r, code: a, each: attachment, deny: { all: [ { attachment.size: { gt: 150 MB } }, { attachment.size: { le: $channel.max_file_size } } ] } }\n".into(),
            never("r"),
        ),
        (
            "a size within the bounds",
            "rules:\n  - { id: r, code: a, each: attachment, deny: { all: [ { attachment.size: { gt: 50 MB } }, { attachment.size: { le: $channel.max_file_size } } ] } }\n".into(),
            none.clone(),
        ),
        ("per attachment, without attachments", "rules:\n  - { id: r, code: a, each: attachment, deny: { message.attachments.count: 0 } }\n".into(), never("r")),
        ("per attachment, one of them larger than all", "rules:\n  - { id: r, code: a, each: attachment, deny: { all: [ { message.attachments.count: 1 }, { attachment.size: { gt: 10 } }, { message.attachments.total_size: { le: 10 } } ] } }\n".into(), never("r")),
        ("no attachments but a total", rule("{ all: [ { message.attachments.count: 0 }, { message.attachments.total_size: { gt: 0 } } ] }"), never("r")),
        ("text present and empty", rule("{ all: [ { message.text: { present: true } }, { message.text.length: 0 } ] }"), never("r")),
        ("blank text can be long", rule("{ all: [ { message.text: { blank: true } }, { message.text.length: { gt: 3 } } ] }"), none.clone()),
        ("a header without a template", rule("{ all: [ { message.template.header: { present: true } }, { message.template: { present: false } } ] }"), never("r")),
        ("more attachments than requests carry", rule("{ message.attachments.count: { gt: 100 } }"), never("r")),
        ("a locked limit per channel", rule("{ all: [ { channel: whatsapp }, { message.attachments.count: { gt: $channel.max_count } }, { message.attachments.count: { le: 1 } } ] }"), never("r")),
        ("the same limit on email", rule("{ all: [ { channel: email }, { message.attachments.count: { gt: $channel.max_count } }, { message.attachments.count: { le: 20 } } ] }"), none.clone()),
        ("a tenant could disconnect a channel", rule("{ channel.connected: false }"), none.clone()),
        ("an agent may send", rule("{ all: [ { sender.role: agent }, { action: send }, { action: { not_in: $role.actions } } ] }"), never("r")),
        ("a supervisor may not assign", rule("{ all: [ { sender.role: supervisor }, { action: { not_in: $role.actions } } ] }"), none.clone()),
        ("a status in and out", rule("{ all: [ { sender.status: { not_in: [READY] } }, { sender.status: READY } ] }"), never("r")),
        ("statuses that leave one", rule("{ all: [ { sender.status: { in: [A, B] } }, { sender.status: { ne: A } } ] }"), none.clone()),
        ("a tag in an empty set", rule("{ all: [ { thread.tags: { contains: x } }, { thread.tags: { empty: true } } ] }"), never("r")),
        ("tags only x, yet y", rule("{ all: [ { thread.tags: { all_in: [x] } }, { thread.tags: { contains: y } } ] }"), never("r")),
        ("within an hour and not two", rule("{ all: [ { client.last_inbound_at: { within: 1h } }, { client.last_inbound_at: { not_within: 2h } } ] }"), never("r")),
        ("within two hours and not one", rule("{ all: [ { client.last_inbound_at: { within: 2h } }, { client.last_inbound_at: { not_within: 1h } } ] }"), none.clone()),
        ("within a tenant's window", rule("{ all: [ { client.last_inbound_at: { within: $channel.window } }, { client.last_inbound_at: { present: false } } ] }"), never("r")),
        ("an attribute true and absent", rule("{ all: [ { client.attributes.vip: true }, { client.attributes.vip: { present: false } } ] }"), never("r")),
        ("an attribute neither true nor false: absent", rule("{ all: [ { client.attributes.vip: { ne: true } }, { client.attributes.vip: { ne: false } } ] }"), none.clone()),
        ("numbers that cannot be equal", rule("{ all: [ { client.attributes.score: { ge: 3 } }, { client.attributes.score: { le: 4 } }, { client.attributes.score: { ne: 3 } }, { client.attributes.score: { ne: 4 } } ] }"), never("r")),
        ("a channel used and not", rule("{ all: [ { channel: { not_in: $client.channels } }, { client.channels: { contains: $channel } } ] }"), never("r")),
        ("not (a or not a)", rule("{ not: { any: [ client.blocked, { client.blocked: false } ] } }"), never("r")),
        (
            "an exception that can never apply",
            format!("{}exceptions:\n  - {{ id: e, overrides: [r], when: {{ all: [ {{ channel: email }}, {{ channel: telegram }} ] }} }}\n", rule("client.blocked")),
            vec![("never_applies".into(), "exception e".into())],
        ),
        (
            "an exception for another channel than its rule's",
            format!("{}exceptions:\n  - {{ id: e, overrides: [r], when: {{ channel: email }} }}\n", rule("{ all: [ client.blocked, { channel: whatsapp } ] }")),
            vec![("never_applies".into(), "exception e".into())],
        ),
        (
            "a rule its exception always lifts",
            format!("{}exceptions:\n  - {{ id: e, overrides: [r], when: {{ any: [ client.blocked, client.active_thread ] }} }}\n", rule("client.blocked")),
            never("r"),
        ),
        (
            "a narrower rule with the same code",
            "rules:\n  - { id: wide, code: a, deny: client.blocked }\n  - { id: narrow, code: a, deny: { all: [ client.blocked, { channel: email } ] } }\n".into(),
            vec![("redundant".into(), "rule narrow".into())],
        ),
        (
            "the same rule twice: the second is reported",
            "rules:\n  - { id: one, code: a, deny: client.blocked }\n  - { id: two, code: a, deny: { client.blocked: true } }\n".into(),
            vec![("redundant".into(), "rule two".into())],
        ),
        (
            "a narrower rule with another code",
            "rules:\n  - { id: wide, code: a, deny: client.blocked }\n  - { id: narrow, code: b, deny: { all: [ client.blocked, { channel: email } ] } }\n".into(),
            none.clone(),
        ),
        (
            "the wider rule's exception keeps the narrower one useful",
            "rules:\n  - { id: wide, code: a, deny: client.blocked }\n  - { id: narrow, code: a, deny: { all: [ client.blocked, { channel: email } ] } }\nexceptions:\n  - { id: e, overrides: [wide], when: { channel: email } }\n".into(),
            none.clone(),
        ),
        (
            "each attachment repeats a rule run once",
            "rules:\n  - { id: once, code: a, deny: client.blocked }\n  - { id: each, code: a, each: attachment, deny: { all: [ client.blocked, { attachment.size: { gt: 1 } } ] } }\n".into(),
            vec![("redundant".into(), "rule each".into())],
        ),
        ("an accepted redundancy", "rules:\n  - { id: one, code: a, deny: client.blocked }\n  - { id: two, code: a, deny: client.blocked, allow_findings: [redundant] }\n".into(), none.clone()),
        ("a code no rule emits", "rules:\n  - { id: r, code: a, deny: client.blocked }\n".into(), vec![("unused".into(), "code b".into())]),
    ];
    let mut failures = Vec::new();
    for (name, rules, want) in table {
        // Both codes are emitted unless the case is about codes.
        let rules = if rules.contains("code: b") || name == "a code no rule emits" {
            rules
        } else {
            let (head, tail) = rules.split_once("rules:\n").unwrap_or(("", &rules));
            format!("{head}rules:\n  - {{ id: uses-b, code: b, deny: client.active_thread }}\n{tail}")
        };
        let rs = set(&rules, &[]);
        let got = shown(&findings(&rs));
        if got != want {
            failures.push(format!("{name}: expected {want:?}, got {got:?}\n  {:#?}", findings(&rs)));
        }
        failures.extend(contradicted(&rs, &findings(&rs)).into_iter().map(|f| format!("{name}: {f}")));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The cross-check would see a wrong claim.
    let rs = set(
        &format!("{}  - {{ id: s, code: b, deny: {{ all: [ client.blocked, {{ channel: email }} ] }} }}\n", rule("client.blocked")),
        &[],
    );
    let wrong = |kind, subject: &str, message: &str| Finding {
        kind,
        file: String::new(),
        line: 0,
        column: 0,
        subject: subject.into(),
        message: message.into(),
        allowed: false,
    };
    assert!(!contradicted(&rs, &[wrong(FindingKind::NeverFires, "rule s", "")]).is_empty());
    assert!(
        !contradicted(&rs, &[wrong(FindingKind::Redundant, "rule r", "rule `r` is redundant: whenever it fires, rule `s` fires too")])
            .is_empty()
    );
}

/// What the generated requests of `rs` contradict among `fs`: a rule said
/// never to fire that fires, an exception said never to apply that does, a
/// rule said redundant that fires alone.
fn contradicted(engine: &Engine, fs: &[Finding]) -> Vec<String> {
    let rs = engine.rules();
    let g = super::generate::Generator { sets: [rs, rs], facts: super::facts::Facts::of(&[rs, rs]) };
    let id = |subject: &str, prefix: &str| subject.strip_prefix(prefix).map(str::to_owned);
    let dead: Vec<String> = fs.iter().filter(|f| f.kind == FindingKind::NeverFires).filter_map(|f| id(&f.subject, "rule ")).collect();
    let useless: Vec<String> = fs
        .iter()
        .filter(|f| f.kind == FindingKind::NeverApplies && !f.message.contains("never applies to rule"))
        .filter_map(|f| id(&f.subject, "exception "))
        .collect();
    let redundant: Vec<(String, String)> = fs
        .iter()
        .filter(|f| f.kind == FindingKind::Redundant)
        .filter_map(|f| Some((id(&f.subject, "rule ")?, f.message.split('`').nth(3)?.to_owned())))
        .collect();
    let mut out = Vec::new();
    for t in g.tenants() {
        for c in g.channels() {
            for r in g.group(&t, &c) {
                let Ok(ev) = engine.evaluate(&r, super::generate::BASE_AT, false) else { continue };
                let d = &ev.decision;
                let fired: Vec<&str> = d.violations.iter().filter_map(|h| rs.rules.get(h.rule as usize)).map(|r| &*r.id).collect();
                for x in super::coverage::exempting(engine, &r).iter().filter_map(|x| rs.exceptions.get(*x as usize)) {
                    if useless.iter().any(|u| **u == *x.id) {
                        out.push(format!("exception {} applies to {r:?}", x.id));
                    }
                }
                out.extend(dead.iter().filter(|id| fired.contains(&id.as_str())).map(|id| format!("rule {id} fires for {r:?}")));
                for (a, b) in &redundant {
                    if fired.contains(&a.as_str()) && !fired.contains(&b.as_str()) {
                        out.push(format!("rule {a} fires without {b} for {r:?}"));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn reasons_name_the_leaves_in_conflict() {
    let rs = set(&rule("{ all: [ client.blocked, { channel: { in: [whatsapp] } }, { channel: email } ] }"), &[]);
    let f = findings(&rs).into_iter().find(|f| f.kind == FindingKind::NeverFires).unwrap_or_else(|| panic!("no finding"));
    assert_eq!(f.message, "rule `r` can never fire: `channel in [\"whatsapp\"]` and `channel eq email` contradict each other", "{f:?}");
    assert_eq!((f.file.as_str(), f.line, f.subject.as_str()), ("rules.yaml", 3, "rule r"));
    let rs = set(&format!("{}exceptions:\n  - {{ id: e, overrides: [r], when: client.blocked }}\n", rule("client.blocked")), &[]);
    let f = findings(&rs).into_iter().find(|f| f.kind == FindingKind::NeverFires).unwrap_or_else(|| panic!("no finding"));
    assert_eq!(f.message, "rule `r` can never fire: whenever its condition holds, exception `e` applies");
}

#[test]
fn overrides_equal_to_the_default() {
    let tenant = "kind: tenant\ntenant: t2\nsettings:\n  flag: false\nchannels:\n  email:\n    max_file_size: 30 MB\n    connected: { value: true, allow_findings: [same_as_default] }\n  whatsapp:\n    max_file_size: 20 MB\n";
    let rs = set(&rule("client.blocked"), &[("tenants/t2.yaml", tenant)]);
    let fs: Vec<Finding> = findings(&rs).into_iter().filter(|f| f.kind == FindingKind::SameAsDefault).collect();
    let got: Vec<(&str, u32, bool)> = fs.iter().map(|f| (f.message.as_str(), f.line, f.allowed)).collect();
    assert_eq!(
        got,
        [
            ("tenant `t2` overrides `flag` with its default value", 4, false),
            ("tenant `t2` overrides `max_file_size` of channel `email` with its default value", 7, false),
            ("tenant `t2` overrides `connected` of channel `email` with its default value", 8, true),
        ],
        "{fs:#?}"
    );
}

#[test]
fn unused_declarations_and_what_counts_as_use() {
    let catalog = "kind: catalog\nattributes:\n  sender:\n    purpose: { type: string }\n    team: { type: string }\n";
    let settings = "kind: settings\nchannel:\n  quota: { type: int, default: 3 }\n  spare: { type: int, default: 3 }\n";
    let rules = "rules:\n  - { id: r, code: a, deny: { all: [ { sender.attributes.purpose: x }, { message.attachments.count: { gt: $channel.quota } } ] } }\n  - { id: s, code: b, deny: client.blocked }\n";
    let rs = set(rules, &[("more-catalog.yaml", catalog), ("more-settings.yaml", settings)]);
    let got = shown(&findings(&rs));
    assert_eq!(
        got,
        [("unused".to_owned(), "attribute sender.attributes.team".to_owned()), ("unused".into(), "setting channel.spare".into())]
    );
}

#[test]
fn a_condition_too_large_is_a_note() {
    let any = |i: usize| format!("{{ any: [ {{ sender.status: s{i} }}, {{ sender.id: i{i} }} ] }}");
    let all: Vec<String> = (0..10).map(any).collect();
    let rs = set(
        &format!(
            "rules:\n  - {{ id: r, code: a, deny: {{ all: [ {} ] }} }}\n  - {{ id: s, code: b, deny: client.blocked }}\n",
            all.join(", ")
        ),
        &[],
    );
    let fs: Vec<Finding> = findings(&rs).into_iter().filter(|f| !f.allowed).collect();
    assert_eq!(fs.iter().map(|f| (f.kind, f.kind.is_warning())).collect::<Vec<_>>(), [(FindingKind::NotAnalysed, false)], "{fs:#?}");
}

#[test]
fn the_shipped_rules_and_the_next_rules_have_no_finding() {
    for dir in ["rules", "examples/next-rules"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let engine = Engine::from_dir(&path).unwrap_or_else(|e| panic!("{dir}: {e}"));
        let fs = findings(&engine);
        assert!(fs.iter().all(|f| f.allowed), "{dir}: {:#?}", fs.iter().filter(|f| !f.allowed).collect::<Vec<_>>());
    }
}

#[test]
fn coverage_of_leaves_by_the_rule_tests() {
    let rules = "rules:\n  - { id: r, code: a, deny: { all: [ client.blocked, { channel: email } ] } }\n  - { id: s, code: b, deny: { all: [ { channel.connected: true }, { client.active_thread: true } ] } }\n";
    let tests = "kind: tests\nbase: { sender: { role: agent }, client: { status: existing }, channel: email, message: { text: hi } }\ntests:\n  - { name: blocked, request: { client: { blocked: true } }, expect: { allowed: false, codes: [a] } }\n  - { name: blocked elsewhere, request: { channel: whatsapp, client: { blocked: true } }, expect: { allowed: true } }\n";
    let rs = set(rules, &[("tests/t.yaml", tests)]);
    let c = super::coverage(&rs, 0);
    let got: Vec<(&str, &str, bool, bool, bool, bool)> =
        c.leaves.iter().map(|l| (l.owner.as_str(), l.text.as_str(), l.seen_true, l.seen_false, l.never_true, l.never_false)).collect();
    assert_eq!(
        got,
        [
            ("rule r", "client.blocked eq true", true, false, false, false),
            ("rule r", "channel eq email", true, true, false, false),
            // No tenant disconnects a channel: `connected` is never false, and no test can show it.
            ("rule s", "channel.connected eq true", true, false, false, true),
            ("rule s", "client.active_thread eq true", false, true, false, false),
        ]
    );
    assert_eq!((c.rules, c.rules_fired, c.exceptions, c.exceptions_applied), (2, 1, 0, 0));
    assert!(!c.leaves.iter().any(|l| l.owner == "rule s" && l.owner_exercised));
    assert_eq!(c.leaf_percent(), 50.0, "{c:#?}");
    assert_eq!(c.rule_percent(), 50.0);
}

#[test]
fn allow_findings_names_are_checked_where_they_are_written() {
    let files = |rules: &str| {
        vec![
            SourceFile { path: "catalog.yaml".into(), text: CATALOG.into() },
            SourceFile { path: "settings.yaml".into(), text: SETTINGS.into() },
            SourceFile { path: "rules.yaml".into(), text: format!("kind: rules\n{rules}") },
            SourceFile { path: "tenants/t1.yaml".into(), text: "kind: tenant\ntenant: t1\n".into() },
        ]
    };
    // A misspelt name, and a name that does not apply to exceptions.
    for (rules, line) in [
        ("rules:\n  - { id: r, code: a, deny: client.blocked, allow_findings: [redundnt] }\n", 3),
        (
            "rules:\n  - { id: r, code: a, deny: client.blocked }\nexceptions:\n  - { id: e, overrides: [r], when: client.blocked, allow_findings: [redundant] }\n",
            5,
        ),
    ] {
        let err = Engine::from_sources(&files(rules)).err().unwrap_or_else(|| panic!("{rules} loaded"));
        let d = err.diagnostics.iter().find(|d| d.is_error()).unwrap_or_else(|| panic!("{err}"));
        assert_eq!((d.file.as_str(), d.line), ("rules.yaml", line), "{d}");
        assert!(d.to_string().contains("allow_findings"), "{d}");
    }
}
