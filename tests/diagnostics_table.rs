//! Realistic mistakes an admin makes editing the shipped rules, each one a
//! small edit of a copy of `rules/` on disk, with the exact diagnostics the
//! load answers (file:line:col, message, hint), causes first, one per
//! mistake.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

use std::path::Path;

use cansend::Engine;

/// One mistake: in `file`, `old` (occurring exactly once) becomes `new`;
/// the load answers exactly `expected`, in this order.
struct Case {
    name: &'static str,
    file: &'static str,
    old: &'static str,
    new: &'static str,
    expected: &'static [&'static str],
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// What loading the shipped rules with `case`'s edit says, one line each.
fn diagnose(case: &Case) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"), dir.path());
    let path = dir.path().join(case.file);
    if case.old.is_empty() {
        std::fs::write(&path, case.new).unwrap();
    } else {
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches(case.old).count(), 1, "{}: `{}` must occur once in {}", case.name, case.old, case.file);
        std::fs::write(&path, text.replacen(case.old, case.new, 1)).unwrap();
    }
    match Engine::from_dir(dir.path()) {
        Ok(_) => vec!["(loads)".to_owned()],
        Err(e) => e.diagnostics.iter().map(ToString::to_string).collect(),
    }
}

const CASES: &[Case] = &[
    Case {
        name: "a tab indents a YAML line",
        file: "tenants/demo-tags.yaml",
        old: "  tags_required: true",
        new: "\ttags_required: true",
        expected: &[],
    },
    Case {
        name: "a YAML line indented one space too far",
        file: "tenants/demo-tags.yaml",
        old: "  available_tags:",
        new: "   available_tags:",
        expected: &[],
    },
    Case {
        name: "YAML syntax in a TOML file",
        file: "tenants/demo-limits.toml",
        old: "connected = false",
        new: "connected: false",
        expected: &[],
    },
    Case {
        name: "a TOML string without its closing quote",
        file: "tenants/demo-limits.toml",
        old: "tenant = \"demo-limits\"",
        new: "tenant = \"demo-limits",
        expected: &[],
    },
    Case {
        name: "a TOML table header without its bracket",
        file: "tenants/demo-limits.toml",
        old: "[channels.viber]",
        new: "[channels.viber",
        expected: &[],
    },
    Case {
        name: "a misspelt required key of a rule",
        file: "eligibility.yaml",
        old: "    code: client_blocked",
        new: "    cdoe: client_blocked",
        expected: &[],
    },
    Case {
        name: "a misspelt optional key of a rule",
        file: "eligibility.yaml",
        old: "    description: §1.2 The client",
        new: "    decription: §1.2 The client",
        expected: &[],
    },
    Case {
        name: "a misspelt operator",
        file: "eligibility.yaml",
        old: "channel: { not_in: $client.channels }",
        new: "channel: { not_inn: $client.channels }",
        expected: &[],
    },
    Case {
        name: "a misspelt attribute in a condition",
        file: "eligibility.yaml",
        old: "deny: client.blocked",
        new: "deny: client.blokced",
        expected: &[],
    },
    Case {
        name: "a misspelt code",
        file: "eligibility.yaml",
        old: "    code: client_blocked",
        new: "    code: client_blokced",
        expected: &[],
    },
    Case {
        name: "a brand-new code not declared",
        file: "eligibility.yaml",
        old: "    code: client_blocked",
        new: "    code: sanctions_hit",
        expected: &[],
    },
    Case {
        name: "a brand-new channel in a rule",
        file: "eligibility.yaml",
        old: "channel: { not_in: [whatsapp, viber, email, webchat, mobile_app] }",
        new: "channel: { not_in: [whatsapp, viber, email, webchat, mobile_app, instagram] }",
        expected: &[],
    },
    Case {
        name: "a misspelt channel in a rule",
        file: "eligibility.yaml",
        old: "channel: { not_in: [whatsapp, viber, email, webchat, mobile_app] }",
        new: "channel: { not_in: [whatsap, viber, email, webchat, mobile_app] }",
        expected: &[],
    },
    Case {
        name: "a tenant setting misspelt",
        file: "tenants/demo-tags.yaml",
        old: "  tags_required: true",
        new: "  tags_requird: true",
        expected: &[],
    },
    Case {
        name: "a channel setting misspelt in TOML",
        file: "tenants/demo-limits.toml",
        old: "connected = false",
        new: "conected = false",
        expected: &[],
    },
    Case {
        name: "a size without a unit's last letter",
        file: "tenants/demo-limits.toml",
        old: "value = \"50 MB\"",
        new: "value = \"50 M\"",
        expected: &[],
    },
    Case {
        name: "a size with a bare k",
        file: "tenants/demo-limits.toml",
        old: "value = \"50 MB\"",
        new: "value = \"500 k\"",
        expected: &[],
    },
    Case {
        name: "a size in hexadecimal",
        file: "tenants/demo-limits.toml",
        old: "value = \"50 MB\"",
        new: "value = \"0x10\"",
        expected: &[],
    },
    Case { name: "a size in words", file: "tenants/demo-limits.toml", old: "value = \"50 MB\"", new: "value = \"lots\"", expected: &[] },
    Case {
        name: "a size above the setting's maximum",
        file: "tenants/demo-limits.toml",
        old: "value = \"50 MB\"",
        new: "value = \"500 MB\"",
        expected: &[],
    },
    Case {
        name: "a per-file limit above the per-message limit",
        file: "tenants/demo-limits.toml",
        old: "value = \"100 MB\"",
        new: "value = \"40 MB\"",
        expected: &[],
    },
    Case {
        name: "a mis-indented setting lands under the wrong channel",
        file: "settings.yaml",
        old: "kind: settings",
        new: "kind: settings\nchannels:\n  email:\n    max_file_size: 50 MB\n  max_total_size: 40 MB",
        expected: &[],
    },
    Case {
        name: "a tenant's channel setting indented one level too little",
        file: "tenants/demo-tags.yaml",
        old: "settings:",
        new: "channels:\n  email:\n    max_file_size: 50 MB\n  max_total_size: 40 MB\nsettings:",
        expected: &[],
    },
    Case {
        name: "a brand-new code sharing a prefix with a declared one",
        file: "eligibility.yaml",
        old: "    code: client_blocked",
        new: "    code: client_banned",
        expected: &[],
    },
    Case {
        name: "a second file for the same tenant",
        file: "tenants/acme.yaml",
        old: "",
        new: "kind: tenant\ntenant: demo-tags\nsettings:\n  tags_required: false\n",
        expected: &[],
    },
    Case {
        name: "an unknown channel in a tenant file",
        file: "tenants/demo-limits.toml",
        old: "[channels.viber]",
        new: "[channels.vibr]",
        expected: &[],
    },
    Case {
        name: "a boolean written as a word",
        file: "tenants/demo-tags.yaml",
        old: "  tags_required: true",
        new: "  tags_required: yes please",
        expected: &[],
    },
    Case {
        name: "an expiry that is not a date",
        file: "tenants/demo-limits.toml",
        old: "ticket = \"SUP-1042\", note",
        new: "ticket = \"SUP-1042\", expires = \"next friday\", note",
        expected: &[],
    },
    Case {
        name: "a misspelt field in a rule test's request",
        file: "tests/eligibility.yaml",
        old: "    request: { channel: viber }",
        new: "    request: { chanel: viber }",
        expected: &[],
    },
    Case {
        name: "a misspelt expected code in a rule test",
        file: "tests/eligibility.yaml",
        old: "expect: { allowed: false, codes: [channel_not_used_by_client] }",
        new: "expect: { allowed: false, codes: [channel_not_used_by_clent] }",
        expected: &[],
    },
    Case { name: "a misspelt kind", file: "tenants/demo-tags.yaml", old: "kind: tenant", new: "kind: tennant", expected: &[] },
    Case {
        name: "a sizes with underscores",
        file: "tenants/demo-limits.toml",
        old: "value = \"50 MB\"",
        new: "value = \"30_000_000\"",
        expected: &["(loads)"],
    },
];

#[test]
fn every_mistake_gets_its_diagnostic() {
    let mut wrong = String::new();
    for case in CASES {
        let got = diagnose(case);
        if got != case.expected {
            wrong.push_str(&format!("--- {}\n{}\n", case.name, got.iter().map(|l| format!("    {l:?},")).collect::<Vec<_>>().join("\n")));
        }
    }
    assert!(CASES.len() >= 25);
    assert!(wrong.is_empty(), "{wrong}");
}
