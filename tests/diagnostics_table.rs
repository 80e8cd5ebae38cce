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
        expected: &[
            "tenants/demo-tags.yaml:6:2: error: YAML: tabs disallowed within this context (block indentation) (hint: indent with spaces, not tabs)",
        ],
    },
    Case {
        name: "a YAML line indented one space too far",
        file: "tenants/demo-tags.yaml",
        old: "  available_tags:",
        new: "   available_tags:",
        expected: &[
            "tenants/demo-tags.yaml:7:18: error: YAML: mapping values are not allowed in this context (hint: check the indentation: the keys of one mapping start in the same column (spaces, not tabs), a nested key further right)",
        ],
    },
    Case {
        name: "YAML syntax in a TOML file",
        file: "tenants/demo-limits.toml",
        old: "connected = false",
        new: "connected: false",
        expected: &[
            "tenants/demo-limits.toml:9:10: error: TOML: key with no value, expected `=` (hint: this is TOML: write `key = value` (a `.yaml` file takes `key: value`))",
        ],
    },
    Case {
        name: "a TOML string without its closing quote",
        file: "tenants/demo-limits.toml",
        old: "tenant = \"demo-limits\"",
        new: "tenant = \"demo-limits",
        expected: &[
            "tenants/demo-limits.toml:5:22: error: TOML: invalid basic string, expected `\"` (hint: close the string with the quote it opened with: `key = \"value\"`)",
        ],
    },
    Case {
        name: "a TOML table header without its bracket",
        file: "tenants/demo-limits.toml",
        old: "[channels.viber]",
        new: "[channels.viber",
        expected: &[
            "tenants/demo-limits.toml:8:16: error: TOML: unclosed table, expected `]` (hint: a table header is `[name]` or `[name.sub]` on a line of its own)",
        ],
    },
    Case {
        name: "a misspelt required key of a rule",
        file: "eligibility.yaml",
        old: "    code: client_blocked",
        new: "    cdoe: client_blocked",
        expected: &["eligibility.yaml:12:5: error: unknown field `cdoe` [in client-not-blocked] (hint: did you mean `code`?)"],
    },
    Case {
        name: "a misspelt optional key of a rule",
        file: "eligibility.yaml",
        old: "    description: §1.2 The client",
        new: "    decription: §1.2 The client",
        expected: &["eligibility.yaml:10:5: error: unknown field `decription` [in client-not-blocked] (hint: did you mean `description`?)"],
    },
    Case {
        name: "a misspelt operator",
        file: "eligibility.yaml",
        old: "channel: { not_in: $client.channels }",
        new: "channel: { not_inn: $client.channels }",
        expected: &[
            "eligibility.yaml:24:22: error: unknown field `not_inn` [in existing-client-channel-used] (hint: did you mean `not_in`?)",
        ],
    },
    Case {
        name: "a misspelt attribute in a condition",
        file: "eligibility.yaml",
        old: "deny: client.blocked",
        new: "deny: client.blokced",
        expected: &[
            "eligibility.yaml:11:11: error: unknown field `client.blokced` [in client-not-blocked] (hint: did you mean `client.blocked`?)",
        ],
    },
    Case {
        name: "a misspelt code",
        file: "eligibility.yaml",
        old: "    code: client_blocked",
        new: "    code: client_blokced",
        expected: &[
            "eligibility.yaml:12:11: error: unknown code `client_blokced` [in client-not-blocked] (hint: did you mean `client_blocked`?)",
        ],
    },
    Case {
        name: "a brand-new code not declared",
        file: "eligibility.yaml",
        old: "    code: client_blocked",
        new: "    code: sanctions_hit",
        expected: &[
            "eligibility.yaml:12:11: error: unknown code `sanctions_hit` [in client-not-blocked] (hint: declare it under `codes:` in catalog.yaml)",
        ],
    },
    Case {
        name: "a brand-new channel in a rule",
        file: "eligibility.yaml",
        old: "channel: { not_in: [whatsapp, viber, email, webchat, mobile_app] }",
        new: "channel: { not_in: [whatsapp, viber, email, webchat, mobile_app, instagram] }",
        expected: &[
            "eligibility.yaml:37:30: error: unknown channel `instagram` [in new-client-channel] (hint: known: one of `whatsapp`, `viber`, `email`, `webchat`, `mobile_app`, `telegram`, `vk`; a new channel is declared under `channels:` in catalog.yaml)",
        ],
    },
    Case {
        name: "a misspelt channel in a rule",
        file: "eligibility.yaml",
        old: "channel: { not_in: [whatsapp, viber, email, webchat, mobile_app] }",
        new: "channel: { not_in: [whatsap, viber, email, webchat, mobile_app] }",
        expected: &["eligibility.yaml:37:30: error: unknown channel `whatsap` [in new-client-channel] (hint: did you mean `whatsapp`?)"],
    },
    Case {
        name: "a tenant setting misspelt",
        file: "tenants/demo-tags.yaml",
        old: "  tags_required: true",
        new: "  tags_requird: true",
        expected: &[
            "tenants/demo-tags.yaml:6:3: error: unknown tenant setting `tags_requird` [in demo-tags] (hint: did you mean `tags_required`?)",
        ],
    },
    Case {
        name: "a channel setting misspelt in TOML",
        file: "tenants/demo-limits.toml",
        old: "connected = false",
        new: "conected = false",
        expected: &[
            "tenants/demo-limits.toml:9:1: error: unknown channel setting `conected` [in demo-limits] (hint: did you mean `connected`?)",
        ],
    },
    Case {
        name: "a size without a unit's last letter",
        file: "tenants/demo-limits.toml",
        old: "value = \"50 MB\"",
        new: "value = \"50 M\"",
        expected: &[
            "tenants/demo-limits.toml:12:27: error: unknown size unit `M` in `50 M` [in demo-limits] (hint: write a whole or decimal number and a unit: B, KB, MB, GB, TB (powers of 10) or KiB, MiB, GiB, TiB (powers of 2), e.g. `30 MB`; digits may be grouped with `_` (`30_000_000`))",
        ],
    },
    Case {
        name: "a size with a bare k",
        file: "tenants/demo-limits.toml",
        old: "value = \"50 MB\"",
        new: "value = \"500 k\"",
        expected: &[
            "tenants/demo-limits.toml:12:27: error: unknown size unit `k` in `500 k` [in demo-limits] (hint: write a whole or decimal number and a unit: B, KB, MB, GB, TB (powers of 10) or KiB, MiB, GiB, TiB (powers of 2), e.g. `30 MB`; digits may be grouped with `_` (`30_000_000`))",
        ],
    },
    Case {
        name: "a size in hexadecimal",
        file: "tenants/demo-limits.toml",
        old: "value = \"50 MB\"",
        new: "value = \"0x10\"",
        expected: &[
            "tenants/demo-limits.toml:12:27: error: `0x10` is not a size [in demo-limits] (hint: write a whole or decimal number and a unit: B, KB, MB, GB, TB (powers of 10) or KiB, MiB, GiB, TiB (powers of 2), e.g. `30 MB`; digits may be grouped with `_` (`30_000_000`))",
        ],
    },
    Case {
        name: "a size in words",
        file: "tenants/demo-limits.toml",
        old: "value = \"50 MB\"",
        new: "value = \"lots\"",
        expected: &[
            "tenants/demo-limits.toml:12:27: error: `lots` is not a size [in demo-limits] (hint: write a whole or decimal number and a unit: B, KB, MB, GB, TB (powers of 10) or KiB, MiB, GiB, TiB (powers of 2), e.g. `30 MB`; digits may be grouped with `_` (`30_000_000`))",
        ],
    },
    Case {
        name: "a size above the setting's maximum",
        file: "tenants/demo-limits.toml",
        old: "value = \"50 MB\"",
        new: "value = \"500 MB\"",
        expected: &[
            "tenants/demo-limits.toml:12:27: error: 500000000 bytes (500.0 MB) is above the maximum 100000000 bytes (100.0 MB) of `max_file_size` [in demo-limits] (hint: tenants may set max_file_size from 0 bytes (0 B) to 100000000 bytes (100.0 MB))",
        ],
    },
    Case {
        name: "a per-file limit above the per-message limit",
        file: "tenants/demo-limits.toml",
        old: "value = \"100 MB\"",
        new: "value = \"40 MB\"",
        expected: &[
            "tenants/demo-limits.toml:12:27: error: `max_file_size` 50000000 bytes (50.0 MB) is above `max_total_size` 40000000 bytes (40.0 MB) for channel `email` of tenant `demo-limits` [in demo-limits] (hint: `max_file_size` must be at most `max_total_size` (`at_most: max_total_size`, settings.yaml:42): lower `max_file_size` to 40000000 bytes (40.0 MB) or less, or raise `max_total_size`)",
        ],
    },
    Case {
        name: "a mis-indented setting lands under the wrong channel",
        file: "settings.yaml",
        old: "kind: settings",
        new: "kind: settings\nchannels:\n  email:\n    max_file_size: 50 MB\n  max_total_size: 40 MB",
        expected: &[
            "settings.yaml:12:19: error: expected a mapping under `max_total_size`, found \"40 MB\" (at /channels/max_total_size)",
            "settings.yaml:12:19: warning: the other checks were skipped: every name is declared in this file; fix it first",
            "settings.yaml:74:1: error: duplicate key `channels` (hint: `channels` is first set at line 9; a key may be set once in a mapping (the first value is the one checked): remove one of the two, or merge them)",
        ],
    },
    Case {
        name: "a tenant's channel setting indented one level too little",
        file: "tenants/demo-tags.yaml",
        old: "settings:",
        new: "channels:\n  email:\n    max_file_size: 50 MB\n  max_total_size: 40 MB\nsettings:",
        expected: &[
            "tenants/demo-tags.yaml:8:19: error: expected a mapping under `max_total_size`, found \"40 MB\" (at /channels/max_total_size) [in demo-tags]",
        ],
    },
    Case {
        name: "a brand-new code sharing a prefix with a declared one",
        file: "eligibility.yaml",
        old: "    code: client_blocked",
        new: "    code: client_banned",
        expected: &[
            "eligibility.yaml:12:11: error: unknown code `client_banned` [in client-not-blocked] (hint: declare it under `codes:` in catalog.yaml)",
        ],
    },
    Case {
        name: "a second file for the same tenant",
        file: "tenants/acme.yaml",
        old: "",
        new: "kind: tenant\ntenant: demo-tags\nsettings:\n  tags_required: false\n",
        expected: &[
            "tenants/demo-tags.yaml:3:9: error: tenant `demo-tags` is defined by two files: tenants/acme.yaml and tenants/demo-tags.yaml (hint: one file per tenant: merge tenants/demo-tags.yaml into tenants/acme.yaml, or rename the tenant in one of them)",
        ],
    },
    Case {
        name: "an unknown channel in a tenant file",
        file: "tenants/demo-limits.toml",
        old: "[channels.viber]",
        new: "[channels.vibr]",
        expected: &["tenants/demo-limits.toml:8:11: error: unknown channel `vibr` [in demo-limits] (hint: did you mean `viber`?)"],
    },
    Case {
        name: "a boolean written as a word",
        file: "tenants/demo-tags.yaml",
        old: "  tags_required: true",
        new: "  tags_required: yes please",
        expected: &["tenants/demo-tags.yaml:6:18: error: expected true or false, found \"yes please\" [in demo-tags]"],
    },
    Case {
        name: "an expiry that is not a date",
        file: "tenants/demo-limits.toml",
        old: "ticket = \"SUP-1042\", note",
        new: "ticket = \"SUP-1042\", expires = \"next friday\", note",
        expected: &[
            "tenants/demo-limits.toml:12:67: error: `next friday` is not an instant [in demo-limits] (hint: write RFC 3339 (`2027-01-31T18:00:00Z`) or a date (`2027-01-31`))",
        ],
    },
    Case {
        name: "a rule id used twice",
        file: "eligibility.yaml",
        old: "  - id: no-active-thread",
        new: "  - id: client-not-blocked",
        expected: &[
            "eligibility.yaml:14:9: error: duplicate rule id `client-not-blocked` [in client-not-blocked] (hint: first declared at eligibility.yaml:9; ids must be unique across all rule files)",
            "eligibility.yaml:94:17: error: no rule `no-active-thread` to override [in email-exception]",
        ],
    },
    Case {
        name: "a key set twice in one mapping",
        file: "tenants/demo-tags.yaml",
        old: "  available_tags: [sales, support, billing]",
        new: "  available_tags: [sales, support, billing]\n  tags_required: false",
        expected: &[
            "tenants/demo-tags.yaml:8:3: error: duplicate key `tags_required` [in demo-tags] (hint: `tags_required` is first set at line 6; a key may be set once in a mapping (the first value is the one checked): remove one of the two, or merge them)",
        ],
    },
    Case {
        name: "a misspelt kind",
        file: "tenants/demo-tags.yaml",
        old: "kind: tenant",
        new: "kind: tennant",
        expected: &["tenants/demo-tags.yaml:2:7: error: unknown kind `tennant` (hint: did you mean `tenant`?)"],
    },
    Case {
        name: "a size with its digits grouped by underscores",
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
