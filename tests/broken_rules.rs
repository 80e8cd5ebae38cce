//! Broken rule sets: every one is refused as a whole, with a diagnostic that
//! names the file, line and column, the rule (or tenant, or test) and a hint.
//!
//! Each case is the shipped rule set (`source::builtin()`) with one file
//! replaced or added, loaded through `Engine::from_sources`. Expected
//! positions are computed from the broken text itself (the line and column
//! of a unique needle), so the table says *where* an error must point
//! without hard-coding line numbers of the shipped files.
//!
//! Then: limits (alias bombs, deep nesting, oversized files, links out of
//! the directory), all errors of a load reported together, and 2000 random
//! mutations of the shipped YAML that must never panic the loader.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

use cansend::Diagnostic;
use cansend::builtin_rules as builtin;
use cansend::{Engine, LoadError, SourceFile};

/// Compile files held in memory, as the service compiles a directory.
fn load_sources(files: &[SourceFile], _now: i64) -> Result<Engine, LoadError> {
    Engine::from_sources(files)
}

/// Read and compile a directory.
fn load_dir(dir: &std::path::Path, _now: i64) -> Result<Engine, LoadError> {
    Engine::from_dir(dir)
}

/// The instant of loading (only decides which overrides count as expired).
const NOW: i64 = 1_764_000_000_000;

// ---------------------------------------------------------------- helpers

fn shipped(path: &str) -> String {
    builtin().into_iter().find(|f| f.path == path).unwrap_or_else(|| panic!("{path} is not a shipped rule file")).text
}

/// The shipped file `path` with `old` (which must occur exactly once) replaced by `new`.
fn edit(path: &'static str, old: &str, new: &str) -> (&'static str, String) {
    let text = shipped(path);
    assert_eq!(text.matches(old).count(), 1, "`{old}` must occur once in the shipped {path}");
    (path, text.replacen(old, new, 1))
}

/// The shipped file `path` with `extra` appended.
fn append(path: &'static str, extra: &str) -> (&'static str, String) {
    (path, shipped(path) + extra)
}

/// The shipped set with each of `changes` replacing its file, or added; in path order, as `load_dir` gives.
fn with(changes: &[(&str, String)]) -> Vec<SourceFile> {
    let mut files = builtin();
    for (path, text) in changes {
        match files.iter_mut().find(|f| f.path == *path) {
            Some(f) => f.text.clone_from(text),
            None => files.push(SourceFile { path: (*path).into(), text: text.clone() }),
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// 1-based line and column (in characters) of the one occurrence of `needle` in `text`.
fn pos(text: &str, needle: &str) -> (u32, u32) {
    assert_eq!(text.matches(needle).count(), 1, "needle `{needle}` must occur once");
    let at = text.find(needle).unwrap_or_default();
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line as u32, col as u32)
}

fn load_err(files: &[SourceFile]) -> Vec<Diagnostic> {
    match load_sources(files, NOW) {
        Ok(_) => panic!("the broken set loaded"),
        Err(LoadError { diagnostics }) => diagnostics,
    }
}

fn listing(diags: &[Diagnostic]) -> String {
    let mut s = String::new();
    for d in diags {
        let _ = writeln!(s, "    {d}");
    }
    s
}

/// A diagnostic a broken set must produce.
#[derive(Debug, Clone)]
struct Want {
    file: String,
    line: u32,
    /// `None` where the column is the parser's business, not ours.
    column: Option<u32>,
    message: String,
    rule: Option<String>,
    hint: Option<String>,
}

impl Want {
    /// An error at the needle's position in `text` (line and column).
    fn at(file: &str, text: &str, needle: &str, message: &str) -> Self {
        let (line, column) = pos(text, needle);
        Want { file: file.into(), line, column: Some(column), message: message.into(), rule: None, hint: None }
    }

    /// An error at line:column.
    fn line_col(file: &str, line: u32, column: u32, message: &str) -> Self {
        Want { file: file.into(), line, column: Some(column), message: message.into(), rule: None, hint: None }
    }

    fn rule(mut self, rule: &str) -> Self {
        self.rule = Some(rule.into());
        self
    }

    fn hint(mut self, hint: &str) -> Self {
        self.hint = Some(hint.into());
        self
    }

    fn any_column(mut self) -> Self {
        self.column = None;
        self
    }

    fn matches(&self, d: &Diagnostic) -> bool {
        d.is_error()
            && d.file == self.file
            && d.line == self.line
            && self.column.is_none_or(|c| d.column == c)
            && d.message.contains(&self.message)
            && self.rule.as_ref().is_none_or(|r| d.rule.as_ref() == Some(r))
            && self.hint.as_ref().is_none_or(|h| d.hint.as_ref().is_some_and(|dh| dh.contains(h.as_str())))
    }

    /// `None` when some diagnostic matches; otherwise what went wrong.
    fn check(&self, diags: &[Diagnostic]) -> Option<String> {
        if diags.iter().any(|d| self.matches(d)) {
            return None;
        }
        Some(format!("  wanted {self:?}\n  got:\n{}", listing(diags)))
    }
}

fn assert_wants(diags: &[Diagnostic], wants: &[Want]) {
    let failures: Vec<String> = wants.iter().filter_map(|w| w.check(diags)).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

struct Case {
    name: &'static str,
    files: Vec<(&'static str, String)>,
    wants: Vec<Want>,
}

fn case(name: &'static str, file: (&'static str, String), want: impl FnOnce(&str, &str) -> Want) -> Case {
    let w = want(file.0, &file.1);
    Case { name, files: vec![file], wants: vec![w] }
}

// ---------------------------------------------------------------- the table

fn table() -> Vec<Case> {
    vec![
        // Syntax.
        case("YAML syntax error", edit("eligibility.yaml", "deny: client.blocked\n", "deny: client.blocked: true\n"), |f, t| {
            Want::at(f, t, ": true\n    code: client_blocked", "YAML: mapping values are not allowed")
        }),
        case("TOML syntax error", edit("tenants/demo-limits.toml", "connected = false", "connected = = false"), |f, t| {
            Want::at(f, t, "= false", "TOML:")
        }),
        case("YAML with a second document", ("zz-two-docs.yaml", "kind: rules\nrules: []\n---\nkind: rules\n".into()), |f, _| {
            Want::line_col(f, 3, 1, "found a second `---`")
        }),
        // Repeated keys: refused in YAML as in TOML, at the second key, naming the rule.
        case(
            "a setting repeated in a YAML tenant file",
            edit("tenants/demo-tags.yaml", "  tags_required: true\n", "  tags_required: true\n  tags_required: false\n"),
            |f, t| {
                Want::at(f, t, "tags_required: false", "duplicate key `tags_required`")
                    .rule("demo-tags")
                    .hint(&format!("`tags_required` is first set at line {}", pos(t, "tags_required: true").0))
            },
        ),
        case(
            "two `deny:` keys in one rule",
            edit("eligibility.yaml", "    deny: client.blocked\n", "    deny: client.blocked\n    deny: client.active_thread\n"),
            |f, t| {
                Want::at(f, t, "deny: client.active_thread\n    code: client_blocked", "duplicate key `deny`")
                    .rule("client-not-blocked")
                    .hint("a key may be set once in a mapping")
            },
        ),
        case(
            "a channel declared twice in the catalog (YAML)",
            edit("catalog.yaml", "  viber: { title: Viber }\n", "  viber: { title: Viber }\n  viber: { title: Viber again }\n"),
            |f, t| Want::at(f, t, "viber: { title: Viber again }", "duplicate key `viber`").hint("first set at line"),
        ),
        case(
            "a setting repeated in a TOML tenant file",
            edit("tenants/demo-limits.toml", "connected = false\n", "connected = false\nconnected = true\n"),
            |f, t| {
                Want::at(f, t, "connected = true", "duplicate key `connected`")
                    .rule("demo-limits")
                    .hint(&format!("`connected` is first set at line {}", pos(t, "connected = false").0))
            },
        ),
        // Kinds.
        case("unknown kind", ("zz-kind.yaml", "kind: rule\nrules: []\n".into()), |f, t| {
            Want::at(f, t, "rule\n", "unknown kind `rule`").hint("did you mean `rules`?")
        }),
        case("file with no kind", ("zz-nokind.yaml", "rules: []\n".into()), |f, _| {
            Want::line_col(f, 1, 1, "missing `kind`").hint("add `kind:` with one of `catalog`")
        }),
        case("empty file", ("zz-empty.yaml", "# nothing yet\n".into()), |f, _| {
            Want::line_col(f, 1, 1, "empty rule file").hint("start it with `kind:`")
        }),
        case("misspelt key in a rule", edit("message.yaml", "    code: empty_message", "    cod: empty_message"), |f, t| {
            Want::at(f, t, "cod:", "unknown field `cod`").rule("message-not-empty").hint("did you mean `code`?")
        }),
        // Conditions.
        case(
            "unknown field path in a condition",
            edit("eligibility.yaml", "deny: client.blocked\n", "deny: { client.blokced: true }\n"),
            |f, t| {
                Want::at(f, t, "client.blokced", "unknown field `client.blokced`")
                    .rule("client-not-blocked")
                    .hint("did you mean `client.blocked`")
            },
        ),
        case("unknown field as a bare condition", edit("eligibility.yaml", "deny: client.blocked\n", "deny: client.blokced\n"), |f, t| {
            // At the value (the field written), not at `deny`.
            Want::at(f, t, "client.blokced", "unknown field `client.blokced`")
                .rule("client-not-blocked")
                .hint("did you mean `client.blocked`")
        }),
        case(
            "operator applied to the wrong type",
            edit("eligibility.yaml", "deny: client.blocked\n", "deny: { client.blocked: { gt: 3 } }\n"),
            |f, t| {
                Want::at(f, t, "gt: 3", "operator `gt` compares numbers, sizes, durations or instants; `client.blocked` is a bool")
                    .rule("client-not-blocked")
            },
        ),
        case("unknown operator", edit("eligibility.yaml", "{ not_in: $client.channels }", "{ not_inn: $client.channels }"), |f, t| {
            Want::at(f, t, "not_inn", "not_inn").rule("existing-client-channel-used").hint("did you mean `not_in`?")
        }),
        case(
            "operand of the wrong type",
            edit("message.yaml", "message.attachments.count: 0", "message.attachments.count: { ge: many }"),
            |f, t| Want::at(f, t, "many }", "expected a whole number").rule("message-not-empty"),
        ),
        case(
            "unknown channel in a condition",
            edit(
                "eligibility.yaml",
                "not_in: [whatsapp, viber, email, webchat, mobile_app]",
                "not_in: [whatsapp, vibr, email, webchat, mobile_app]",
            ),
            |f, t| Want::at(f, t, "[whatsapp, vibr", "unknown channel `vibr`").rule("new-client-channel").hint("did you mean `viber`?"),
        ),
        case(
            "undeclared attribute used in a rule",
            edit("eligibility.yaml", "deny: client.blocked\n", "deny: { client.attributes.vip: true }\n"),
            |f, t| {
                Want::at(f, t, "client.attributes.vip", "undeclared attribute `client.attributes.vip`")
                    .rule("client-not-blocked")
                    .hint("declare it under `attributes: { client: { vip: { type: … } } }` in catalog.yaml")
            },
        ),
        case(
            "per-attachment field outside `each: attachment`",
            edit("message.yaml", "deny: { message.attachments.total_size:", "deny: { attachment.size:"),
            |f, t| {
                Want::at(f, t, "attachment.size: { gt: $channel.max_total_size", "only known inside a rule with `each: attachment`")
                    .rule("attachments-total-size")
                    .hint("add `each: attachment`")
            },
        ),
        // Rules, codes, ids, exceptions.
        case("unknown code in a rule", edit("eligibility.yaml", "code: client_blocked", "code: client_blokced"), |f, t| {
            Want::at(f, t, "client_blokced", "unknown code `client_blokced`")
                .rule("client-not-blocked")
                .hint("did you mean `client_blocked`?")
        }),
        {
            let first = pos(&shipped("eligibility.yaml"), "- id: client-not-blocked");
            case(
                "duplicate rule id across two files",
                (
                    "zz-more.yaml",
                    "kind: rules\nrules:\n  - id: client-not-blocked\n    deny: client.blocked\n    code: client_blocked\n".into(),
                ),
                move |f, t| {
                    Want::at(f, t, "client-not-blocked", "duplicate rule id `client-not-blocked`")
                        .rule("client-not-blocked")
                        .hint(&format!("first declared at eligibility.yaml:{}", first.0))
                },
            )
        },
        case(
            "exception overriding an unknown rule",
            edit("eligibility.yaml", "overrides: [no-active-thread,", "overrides: [no-active-thred,"),
            |f, t| {
                Want::at(f, t, "no-active-thred", "no rule `no-active-thred` to override")
                    .rule("email-exception")
                    .hint("did you mean `no-active-thread`?")
            },
        ),
        // Every part of a rule is checked, whatever is wrong with another.
        {
            let (f, t) = edit(
                "eligibility.yaml",
                "    deny: client.blocked\n    code: client_blocked\n",
                "    deny: { client.blokced: true }\n    code: client_blockd\n",
            );
            Case {
                name: "a rule with an unknown code and an unknown field",
                wants: vec![
                    Want::at(f, &t, "client_blockd", "unknown code `client_blockd`")
                        .rule("client-not-blocked")
                        .hint("did you mean `client_blocked`?"),
                    Want::at(f, &t, "client.blokced", "unknown field `client.blokced`")
                        .rule("client-not-blocked")
                        .hint("did you mean `client.blocked`?"),
                ],
                files: vec![(f, t)],
            }
        },
        {
            let (f, t) = edit(
                "eligibility.yaml",
                "    deny: client.active_thread\n",
                "    each: attachments\n    deny: { attachment.size: { gt: 1 }, client.active_thred: true }\n",
            );
            Case {
                name: "a rule with a wrong `each` and an unknown field",
                wants: vec![
                    Want::at(f, &t, "attachments\n", "\"attachments\" is not one of \"attachment\"").rule("no-active-thread"),
                    Want::at(f, &t, "client.active_thred", "unknown field `client.active_thred`")
                        .rule("no-active-thread")
                        .hint("did you mean `client.active_thread`?"),
                ],
                files: vec![(f, t)],
            }
        },
        {
            let (f, t) = edit("eligibility.yaml", "overrides: [no-active-thread,", "overrides: [no-active-thred,");
            let t = t.replacen("        - client.email: { present: true }", "        - client.emial: { present: true }", 1);
            Case {
                name: "an exception with an unknown target and an unknown field",
                wants: vec![
                    Want::at(f, &t, "no-active-thred", "no rule `no-active-thred` to override").rule("email-exception"),
                    Want::at(f, &t, "client.emial", "unknown field `client.emial`")
                        .rule("email-exception")
                        .hint("did you mean `client.email`?"),
                ],
                files: vec![(f, t)],
            }
        },
        // Settings and tenant overrides.
        case(
            "bad size unit in a tenant override",
            edit("tenants/demo-limits.toml", "max_file_size = { value = \"50 MB\"", "max_file_size = { value = \"30 MX\""),
            |f, t| Want::at(f, t, "\"30 MX\"", "unknown size unit `MX` in `30 MX`").rule("demo-limits").hint("e.g. `30 MB`"),
        ),
        case(
            "bad size unit in a setting's default",
            edit(
                "settings.yaml",
                "    default: 30 MB\n    min: 0 B\n    max: 100 MB\n",
                "    default: 30 MX\n    min: 0 B\n    max: 100 MB\n",
            ),
            |f, t| Want::at(f, t, "30 MX", "unknown size unit `MX` in `30 MX`").rule("max_file_size").hint("e.g. `30 MB`"),
        ),
        case(
            "override above the setting's max",
            edit("tenants/demo-limits.toml", "max_file_size = { value = \"50 MB\"", "max_file_size = { value = \"150 MB\""),
            |f, t| {
                Want::at(f, t, "\"150 MB\"", "is above the maximum 100000000 bytes (100.0 MB) of `max_file_size`")
                    .rule("demo-limits")
                    .hint("tenants may set max_file_size from 0 bytes (0 B) to 100000000 bytes (100.0 MB)")
            },
        ),
        case(
            "a negative size in a tenant override",
            append("tenants/demo-tags.yaml", "channels:\n  email:\n    max_total_size: -1\n"),
            |f, t| Want::at(f, t, "-1", "a size cannot be negative").rule("demo-tags"),
        ),
        Case {
            name: "a tighten_only setting raised by a tenant",
            // The shipped demo-limits raises email's max_total_size to 100 MB;
            // once the setting is tighten_only, that override is an error.
            files: vec![edit("settings.yaml", "    max: 200 MB\n", "    max: 200 MB\n    tighten_only: true\n")],
            wants: vec![
                Want::at(
                    "tenants/demo-limits.toml",
                    &shipped("tenants/demo-limits.toml"),
                    "\"100 MB\"",
                    "`max_total_size` may only be tightened by a tenant",
                )
                .rule("demo-limits"),
            ],
        },
        // A per-file limit above the per-message one (`at_most` in settings.yaml).
        case(
            "a tenant's file limit above its total limit",
            append("tenants/demo-tags.yaml", "channels:\n  email:\n    max_file_size: 100 MB\n    max_total_size: 50 MB\n"),
            |f, t| {
                Want::at(
                    f,
                    t,
                    "100 MB",
                    "`max_file_size` 100000000 bytes (100.0 MB) is above `max_total_size` 50000000 bytes (50.0 MB) for channel `email` of tenant `demo-tags`",
                )
                .rule("demo-tags")
                .hint("`max_file_size` must be at most `max_total_size` (`at_most: max_total_size`, settings.yaml:")
            },
        ),
        Case {
            name: "a default total limit below the default file limit",
            files: vec![edit(
                "settings.yaml",
                "    default: 30 MB\n    min: 0 B\n    max: 200 MB\n",
                "    default: 20 MB\n    min: 0 B\n    max: 200 MB\n",
            )],
            wants: vec![{
                let (f, t) = edit(
                    "settings.yaml",
                    "    default: 30 MB\n    min: 0 B\n    max: 200 MB\n",
                    "    default: 20 MB\n    min: 0 B\n    max: 200 MB\n",
                );
                Want::at(
                    f,
                    &t,
                    "30 MB\n    min: 0 B\n    max: 100 MB",
                    "`max_file_size` 30000000 bytes (30.0 MB) is above `max_total_size` 20000000 bytes (20.0 MB) for every channel of every tenant",
                )
                .rule("max_file_size")
                .hint("lower `max_file_size` to 20000000 bytes (20.0 MB) or less, or raise `max_total_size`")
            }],
        },
        case(
            "a file limit above the total once the total's override expires",
            append(
                "tenants/demo-tags.yaml",
                "channels:\n  email:\n    max_file_size: 50 MB\n    max_total_size: { value: 100 MB, expires: 2027-06-30 }\n",
            ),
            |f, t| {
                Want::at(
                    f,
                    t,
                    "50 MB",
                    "`max_file_size` 50000000 bytes (50.0 MB) is above `max_total_size` 30000000 bytes (30.0 MB) for channel `email` of tenant `demo-tags`, from 2027-07-01T00:00:00Z on, once the override of `max_total_size` (expires: 2027-06-30) has lapsed",
                )
                .rule("demo-tags")
                .hint("or let the override of `max_file_size` expire then too")
            },
        ),
        case(
            "a total limit below the file limit once the file's override expires",
            append(
                "tenants/demo-tags.yaml",
                "channels:\n  viber:\n    max_file_size: { value: 10 MB, expires: 2027-06-30 }\n    max_total_size: 20 MB\n",
            ),
            |f, t| {
                Want::at(
                    f,
                    t,
                    "20 MB",
                    "`max_total_size` 20000000 bytes (20.0 MB) is below `max_file_size` 30000000 bytes (30.0 MB) for channel `viber` of tenant `demo-tags`, from 2027-07-01T00:00:00Z on, once the override of `max_file_size` (expires: 2027-06-30) has lapsed",
                )
                .rule("demo-tags")
                .hint("raise `max_total_size` to 30000000 bytes (30.0 MB) or more")
            },
        ),
        case("`at_most` naming an unknown setting", edit("settings.yaml", "at_most: max_total_size", "at_most: max_totl_size"), |f, t| {
            Want::at(f, t, "max_totl_size", "unknown channel setting `max_totl_size`")
                .rule("max_file_size")
                .hint("did you mean `max_total_size`?")
        }),
        case("overriding a locked setting", append("tenants/demo-tags.yaml", "channels:\n  email:\n    max_attachments: 5\n"), |f, t| {
            Want::at(f, t, "max_attachments", "`max_attachments` is locked: tenants cannot override it")
                .rule("demo-tags")
                .hint("change the default in the settings file instead")
        }),
        case(
            "wrong-typed setting value (YAML)",
            edit("tenants/demo-tags.yaml", "tags_required: true", "tags_required: \"yes\""),
            |f, t| Want::at(f, t, "\"yes\"", "expected true or false, found \"yes\"").rule("demo-tags"),
        ),
        case("wrong-typed setting value (TOML)", edit("tenants/demo-limits.toml", "connected = false", "connected = \"no\""), |f, t| {
            Want::at(f, t, "\"no\"", "expected true or false, found \"no\"").rule("demo-limits")
        }),
        case(
            "unknown channel in a tenant file",
            append("tenants/demo-tags.yaml", "channels:\n  telegramm: { connected: false }\n"),
            |f, t| Want::at(f, t, "telegramm", "unknown channel `telegramm`").rule("demo-tags").hint("did you mean `telegram`?"),
        ),
        case("unknown role in a tenant file", append("tenants/demo-tags.yaml", "roles:\n  superviser: { actions: [send] }\n"), |f, t| {
            Want::at(f, t, "superviser", "unknown role `superviser`").rule("demo-tags").hint("did you mean `supervisor`?")
        }),
        case("unknown setting in a tenant file", edit("tenants/demo-tags.yaml", "tags_required: true", "tags_requird: true"), |f, t| {
            Want::at(f, t, "tags_requird", "unknown tenant setting `tags_requird`").rule("demo-tags").hint("did you mean `tags_required`?")
        }),
        case(
            "unknown code in a tenant's messages",
            append("tenants/demo-tags.yaml", "messages:\n  tags_requred: Pick a tag.\n"),
            |f, t| Want::at(f, t, "tags_requred", "unknown code `tags_requred`").rule("demo-tags").hint("did you mean `tags_required`?"),
        ),
        case("a tenant defined by two files", ("tenants/zz-again.yaml", "kind: tenant\ntenant: demo-tags\n".into()), |f, t| {
            Want::at(f, t, "demo-tags", "tenant `demo-tags` is defined by two files")
        }),
        // Rule tests.
    ]
}

#[test]
fn the_shipped_set_loads() {
    let compiled = load_sources(&builtin(), NOW).unwrap_or_else(|e| panic!("{}", listing(&e.diagnostics)));
    assert!(compiled.warnings().iter().all(|w| !w.is_error()));
}

#[test]
fn every_broken_set_is_refused_with_a_located_diagnostic() {
    let cases = table();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    let names: BTreeSet<&str> = cases.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    let mut failures = Vec::new();
    for c in &cases {
        let files = with(&c.files);
        match load_sources(&files, NOW) {
            Ok(_) => failures.push(format!("{}: the broken set loaded", c.name)),
            Err(LoadError { diagnostics }) => {
                assert!(!diagnostics.is_empty());
                for w in &c.wants {
                    if let Some(f) = w.check(&diagnostics) {
                        failures.push(format!("{}:\n{f}", c.name));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

// ---------------------------------------------------------------- rule tests that no longer make sense

/// A rule test that no longer makes sense for the rules beside it — it
/// expects a code or rule they do not have, its request has a typo or
/// names a tenant that was deleted — is a failing test of `cansend check`,
/// located at the test; the rules themselves load (and would serve).
#[test]
fn a_senseless_rule_test_fails_in_check_and_the_rules_still_load() {
    // (case, the files changed, the tests that fail, what they say)
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, &'a [&'a str], &'a str);
    let cases: Vec<Case> = vec![
        (
            "a test expecting an unknown code",
            vec![edit(
                "tests/message.yaml",
                "request: { message: { text: null } }\n    expect: { allowed: false, codes: [empty_message] }",
                "request: { message: { text: null } }\n    expect: { allowed: false, codes: [empty_mesage] }",
            )],
            &["§1.8 no text, no template, no attachment is empty"],
            "unknown code `empty_mesage` (did you mean `empty_message`?)",
        ),
        (
            "a test expecting an unknown rule",
            vec![edit("tests/eligibility.yaml", "rules: [client-not-blocked]", "rules: [client-not-blockd]")],
            &["§1.2 blocked client is refused"],
            "unknown rule `client-not-blockd` (did you mean `client-not-blocked`?)",
        ),
        (
            "a test request with a typo field",
            vec![edit("tests/eligibility.yaml", "request: { client: { blocked: false } }", "request: { client: { blockd: false } }")],
            &["§1.2 unblocked client passes"],
            "request does not decode: /client/blockd: unknown field `blockd`",
        ),
    ];
    for (name, changes, failing, message) in cases {
        let files = with(&changes);
        let engine = load_sources(&files, NOW).unwrap_or_else(|e| panic!("{name}: the set must load:\n{}", listing(&e.diagnostics)));
        let report = cansend::check::run_tests(&engine, NOW);
        let failed: Vec<(&str, &str)> = report.results.iter().filter_map(|r| r.failure.as_deref().map(|f| (r.name.as_str(), f))).collect();
        let names: Vec<&str> = failed.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, failing, "{name}: the tests that fail");
        for (test, failure) in &failed {
            assert!(failure.contains(message), "{name}: test `{test}` fails with {failure:?}, expected it to say {message:?}");
        }
        let edited = changes.first().map(|c| c.0).unwrap_or_default();
        assert!(
            report.results.iter().filter(|r| r.failure.is_some()).all(|r| r.file == edited && r.line > 0),
            "{name}: located in {edited}"
        );
    }
}

/// Deleting a tenant whose name the rule tests use: the rules load; the
/// tests about that tenant fail, saying so.
#[test]
fn deleting_a_tenant_fails_its_tests_not_the_load() {
    let files: Vec<SourceFile> = builtin().into_iter().filter(|f| f.path != "tenants/demo-tags.yaml").collect();
    let engine = load_sources(&files, NOW).unwrap_or_else(|e| panic!("the set must load:\n{}", listing(&e.diagnostics)));
    assert!(engine.tenants().all(|t| t != "demo-tags"));
    let report = cansend::check::run_tests(&engine, NOW);
    let failed: Vec<&str> = report.results.iter().filter_map(|r| r.failure.as_deref()).collect();
    assert!(!failed.is_empty(), "the tests of demo-tags fail");
    assert!(failed.iter().all(|f| f.contains("/tenant: unknown tenant `demo-tags`")), "{failed:#?}");
    assert!(report.passed() > 0, "the other tests still pass");
}

// ---------------------------------------------------------------- limits

#[test]
fn yaml_alias_bomb_is_refused() {
    // "Billion laughs": ten levels of ten aliases each would expand to 10^10 scalars.
    let mut text = String::from("kind: rules\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        let refs = vec![format!("*a{p}"); 10].join(", ");
        let _ = writeln!(text, "a{i}: &a{i} [{refs}]");
    }
    let diags = load_err(&with(&[("bomb.yaml", text)]));
    assert!(
        diags.iter().any(|d| d.is_error() && d.file == "bomb.yaml" && d.line >= 1 && d.message.contains("alias bomb")),
        "{}",
        listing(&diags)
    );
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let deep = 1000;
    let cases = [
        ("deep.yaml", format!("kind: rules\nx: {}{}\n", "[".repeat(deep), "]".repeat(deep))),
        ("deep-map.yaml", format!("kind: rules\nx: {}1{}\n", "{a: ".repeat(deep), "}".repeat(deep))),
        ("deep.toml", format!("kind = \"rules\"\nx = {}{}\n", "[".repeat(deep), "]".repeat(deep))),
        ("deep-table.toml", format!("kind = \"rules\"\nx = {}1{}\n", "{a = ".repeat(deep), "}".repeat(deep))),
    ];
    for (path, text) in cases {
        let diags = load_err(&with(&[(path, text)]));
        assert!(
            diags.iter().any(|d| d.is_error() && d.file == path && d.line == 2 && d.message.contains("nesting")),
            "{path}:\n{}",
            listing(&diags)
        );
    }
}

/// The shipped rules written to a fresh directory.
fn rules_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for f in builtin() {
        let path = dir.path().join(&f.path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, f.text).expect("write");
    }
    dir
}

#[test]
fn the_shipped_rules_load_from_a_directory() {
    let dir = rules_dir();
    load_dir(dir.path(), NOW).unwrap_or_else(|e| panic!("{}", listing(&e.diagnostics)));
}

#[test]
fn a_10_mb_file_is_refused_by_name() {
    let dir = rules_dir();
    let mut big = String::from("kind: rules\nrules: []\n");
    while big.len() < 10 * 1024 * 1024 {
        big.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    std::fs::write(dir.path().join("tenants/huge.yaml"), &big).expect("write");
    let diags = match load_dir(dir.path(), NOW) {
        Ok(_) => panic!("a 10 MB rule file loaded"),
        Err(e) => e.diagnostics,
    };
    let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "{}", listing(&diags));
    let d = errors[0];
    assert_eq!(d.file, "tenants/huge.yaml");
    assert_eq!((d.line, d.column), (0, 0), "a whole-file error");
    assert!(d.message.contains(&format!("{} bytes", big.len())) && d.message.contains("limited to 1048576 bytes"), "{d}");
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_rules_directory_is_refused() {
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(outside.path().join("secret.yaml"), "kind: tenant\ntenant: intruder\n").expect("write");
    std::fs::create_dir(outside.path().join("more")).expect("mkdir");
    std::fs::write(outside.path().join("more/other.yaml"), "kind: tenant\ntenant: intruder2\n").expect("write");
    let dir = rules_dir();
    std::os::unix::fs::symlink(outside.path().join("secret.yaml"), dir.path().join("tenants/evil.yaml")).expect("symlink");
    std::os::unix::fs::symlink(outside.path().join("more"), dir.path().join("elsewhere")).expect("symlink");
    let diags = match load_dir(dir.path(), NOW) {
        Ok(_) => panic!("a rule file outside the rules directory loaded"),
        Err(e) => e.diagnostics,
    };
    let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 2, "{}", listing(&diags));
    for (d, file) in errors.iter().zip(["elsewhere", "tenants/evil.yaml"]) {
        assert_eq!(d.file, file, "{}", listing(&diags));
        assert!(d.message.contains("outside the rules directory"), "{d}");
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_is_reported_once() {
    let dir = rules_dir();
    std::os::unix::fs::symlink(".", dir.path().join("tenants/loop")).expect("symlink");
    let diags = match load_dir(dir.path(), NOW) {
        Ok(_) => panic!("a rule set with a link loop loaded"),
        Err(e) => e.diagnostics,
    };
    // Once, not once per level followed, and no file read twice.
    assert_eq!(diags.len(), 1, "{}", listing(&diags));
    let d = &diags[0];
    assert!(d.is_error() && d.file == "tenants/loop", "{d}");
    assert!(d.message.contains("symbolic link loop") && d.message.contains("back to `tenants`"), "{d}");
}

#[cfg(unix)]
#[test]
fn a_directory_reached_by_two_links_is_read_once() {
    // `a -> d` and `b -> d`, nested, would read d's files 2^n times.
    let dir = rules_dir();
    let root = dir.path();
    std::fs::create_dir_all(root.join("shared")).expect("mkdir");
    std::fs::write(root.join("shared/acme.yaml"), "kind: tenant\ntenant: acme\n").expect("write");
    std::os::unix::fs::symlink("../shared", root.join("tenants/a")).expect("symlink");
    std::os::unix::fs::symlink("../shared", root.join("tenants/b")).expect("symlink");
    let diags = match load_dir(root, NOW) {
        Ok(_) => panic!("a rule set reading one directory three times loaded"),
        Err(e) => e.diagnostics,
    };
    // `shared` is read first (name order); both links lead back to it.
    assert_eq!(diags.len(), 2, "{}", listing(&diags));
    for (d, link) in diags.iter().zip(["tenants/a", "tenants/b"]) {
        assert_eq!(d.file, link, "{d}");
        assert!(d.message.contains("read already") && d.message.contains("`shared`"), "{d}");
    }
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_says_so() {
    let dir = rules_dir();
    std::os::unix::fs::symlink("missing.yaml", dir.path().join("extra.yaml")).expect("symlink");
    let diags = match load_dir(dir.path(), NOW) {
        Ok(_) => panic!("a rule set with a dangling link loaded"),
        Err(e) => e.diagnostics,
    };
    assert_eq!(diags.len(), 1, "{}", listing(&diags));
    let d = &diags[0];
    assert_eq!((d.file.as_str(), d.line, d.column), ("extra.yaml", 0, 0), "a whole-file error: {d}");
    assert!(d.message.starts_with("dangling symbolic link → missing.yaml"), "{d}");
}

// ---------------------------------------------------------------- all at once

#[test]
fn all_errors_of_a_load_are_reported_together() {
    let files = with(&[
        edit("eligibility.yaml", "deny: client.blocked\n", "deny: { client.blokced: true }\n"),
        edit("tenants/demo-tags.yaml", "tags_required: true", "tags_requird: true"),
        edit("tenants/demo-limits.toml", "max_file_size = { value = \"50 MB\"", "max_file_size = { value = \"150 MB\""),
    ]);
    let diags = load_err(&files);
    let text = |p: &str| files.iter().find(|f| f.path == p).map(|f| f.text.clone()).unwrap_or_default();
    assert_wants(
        &diags,
        &[
            Want::at("eligibility.yaml", &text("eligibility.yaml"), "client.blokced", "unknown field `client.blokced`")
                .rule("client-not-blocked"),
            Want::at("tenants/demo-tags.yaml", &text("tenants/demo-tags.yaml"), "tags_requird", "unknown tenant setting").rule("demo-tags"),
            Want::at("tenants/demo-limits.toml", &text("tenants/demo-limits.toml"), "\"150 MB\"", "above the maximum").rule("demo-limits"),
        ],
    );
    assert_eq!(diags.iter().filter(|d| d.is_error()).count(), 3, "three independent errors, three diagnostics:\n{}", listing(&diags));
    // Sorted by file, then position.
    let order: Vec<&str> = diags.iter().map(|d| d.file.as_str()).collect();
    assert_eq!(order, ["eligibility.yaml", "tenants/demo-limits.toml", "tenants/demo-tags.yaml"]);
}

#[test]
fn errors_in_a_syntax_broken_file_and_in_other_files_are_reported_together() {
    let files = with(&[
        ("zz-broken.yaml", "kind: rules\nrules:\n  - id: x\n    deny: [\n".into()),
        edit("eligibility.yaml", "code: client_blocked", "code: client_blokced"),
        append("tenants/demo-tags.yaml", "channels:\n  telegramm: { connected: false }\n"),
    ]);
    let diags = load_err(&files);
    let text = |p: &str| files.iter().find(|f| f.path == p).map(|f| f.text.clone()).unwrap_or_default();
    assert_wants(
        &diags,
        &[
            Want { file: "zz-broken.yaml".into(), line: 5, column: None, message: "YAML".into(), rule: None, hint: None }.any_column(),
            Want::at("eligibility.yaml", &text("eligibility.yaml"), "client_blokced", "unknown code").rule("client-not-blocked"),
            Want::at("tenants/demo-tags.yaml", &text("tenants/demo-tags.yaml"), "telegramm", "unknown channel").rule("demo-tags"),
        ],
    );
    assert_eq!(diags.iter().filter(|d| d.is_error()).count(), 3, "{}", listing(&diags));
}

/// A repeated key does not stop its file: the first value is kept and the
/// rest is checked, so a typo further down is reported in the same load.
#[test]
fn a_repeated_key_does_not_hide_the_other_errors_of_its_file() {
    let (path, text) = edit("eligibility.yaml", "    deny: client.blocked\n", "    deny: client.blocked\n    deny: client.active_thread\n");
    let text = text.replacen("deny: { channel.connected: false }", "deny: { channel.conected: false }", 1);
    let files = with(&[(path, text.clone())]);
    let diags = load_err(&files);
    assert_wants(
        &diags,
        &[
            Want::at(path, &text, "deny: client.active_thread\n    code: client_blocked", "duplicate key `deny`")
                .rule("client-not-blocked"),
            Want::at(path, &text, "channel.conected", "unknown channel setting `channel.conected`").rule("channel-connected"),
        ],
    );
    assert_eq!(diags.iter().filter(|d| d.is_error()).count(), 2, "{}", listing(&diags));
}

// ---------------------------------------------------------------- mutations

/// xorshift64*: tiny, deterministic, good enough to pick positions.
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
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

/// One random edit of `text`; returns the new text and what was done.
fn mutate(rng: &mut Rng, text: &str) -> (String, String) {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let chars: Vec<char> = text.chars().collect();
    match rng.below(5) {
        0 => {
            let i = rng.below(lines.len());
            let out: String = lines.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, l)| *l).collect();
            (out, format!("delete line {}", i + 1))
        }
        1 => {
            let i = rng.below(lines.len());
            let mut out = String::new();
            for (j, l) in lines.iter().enumerate() {
                out.push_str(l);
                if j == i {
                    out.push_str(l);
                    if !l.ends_with('\n') {
                        out.push('\n');
                    }
                }
            }
            (out, format!("duplicate line {}", i + 1))
        }
        2 => {
            let (a, b) = (rng.below(chars.len()), rng.below(chars.len()));
            let mut c = chars.clone();
            c.swap(a, b);
            (c.into_iter().collect(), format!("swap chars {a} and {b}"))
        }
        3 => {
            let at = rng.below(chars.len() + 1);
            let mut c = chars.clone();
            c.splice(at..at, ": [{".chars());
            (c.into_iter().collect(), format!("insert `: [{{` at char {at}"))
        }
        _ => {
            let at = rng.below(chars.len() + 1);
            (chars[..at].iter().collect(), format!("truncate at char {at}"))
        }
    }
}

#[test]
fn random_mutations_of_the_shipped_yaml_never_panic_and_are_located() {
    const MUTATIONS: usize = 2000;
    let base = builtin();
    let yaml: Vec<usize> = (0..base.len()).filter(|i| base[*i].path.ends_with(".yaml")).collect();
    assert!(yaml.len() >= 6, "{yaml:?}");
    // Mutations are drawn up front from one seed, so a failure names the exact edit.
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let jobs: Vec<(usize, usize, String, String)> = (0..MUTATIONS)
        .map(|n| {
            let fi = yaml[rng.below(yaml.len())];
            let (text, what) = mutate(&mut rng, &base[fi].text);
            (n, fi, text, what)
        })
        .collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
    let chunk = MUTATIONS.div_ceil(threads);
    let results: Vec<(Vec<String>, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|jobs| {
                let base = &base;
                s.spawn(move || {
                    let mut problems = Vec::new();
                    let mut refused = 0;
                    for (n, fi, text, what) in jobs {
                        let mut files = base.clone();
                        files[*fi].text.clone_from(text);
                        let path = &files[*fi].path;
                        let label = format!("mutation #{n} of {path}: {what}");
                        match catch_unwind(AssertUnwindSafe(|| load_sources(&files, NOW))) {
                            Err(_) => problems.push(format!("{label}: load_sources panicked")),
                            Ok(Ok(_)) => {}
                            Ok(Err(LoadError { diagnostics })) => {
                                refused += 1;
                                if let Some(p) = located(&files, &diagnostics) {
                                    problems.push(format!("{label}: {p}\n{}", listing(&diagnostics)));
                                }
                            }
                        }
                    }
                    (problems, refused)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("worker thread")).collect()
    });
    let refused: usize = results.iter().map(|(_, r)| r).sum();
    let problems: Vec<&String> = results.iter().flat_map(|(p, _)| p).collect();
    assert!(
        problems.is_empty(),
        "{} of {MUTATIONS} mutations went wrong; first ones:\n{}",
        problems.len(),
        problems.iter().take(5).map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    );
    // Most edits break something; the test is not vacuous.
    assert!(refused > MUTATIONS / 2, "only {refused} of {MUTATIONS} mutations were refused");
}

/// `None` when a failed load's diagnostics are well located: at least one
/// error, every error in a file of the set at a line within it (line 0 only
/// for whole-file and whole-set errors), and at least one error at a real line.
fn located(files: &[SourceFile], diags: &[Diagnostic]) -> Option<String> {
    let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
    if errors.is_empty() {
        return Some("refused without an error diagnostic".into());
    }
    for d in &errors {
        if d.file == "." && d.line == 0 {
            continue; // about the set as a whole
        }
        let Some(f) = files.iter().find(|f| f.path == d.file) else {
            return Some(format!("diagnostic names a file not in the set: {d}"));
        };
        let lines = f.text.split('\n').count() as u32;
        if d.line == 0 || d.line > lines {
            return Some(format!("line {} outside 1..={lines}: {d}", d.line));
        }
        if d.message.is_empty() {
            return Some(format!("empty message: {d}"));
        }
    }
    if !errors.iter().any(|d| d.line >= 1 && files.iter().any(|f| f.path == d.file)) {
        return Some("no error points into a file".into());
    }
    None
}

// ------------------------------------------------- no cascades from a broken file

/// One typo, one error: a tenant file that does not parse is not also
/// reported as "no tenant file", nor once per rule test using the tenant.
#[test]
fn a_broken_tenant_file_gives_its_own_error_only() {
    let files = with(&[("tenants/default.yaml", "kind: tenant\ntenant: [default\n".into())]);
    let diags = load_err(&files);
    let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "{}", listing(&diags));
    assert_eq!(errors[0].file, "tenants/default.yaml");
    // Nor with a note at 0:0 that the rule tests did not run: a set that
    // does not load runs none (and the service never runs them).
    assert_eq!(diags.len(), 1, "{}", listing(&diags));
}

/// A setting whose default does not parse is still declared: the rules,
/// tenant files and `send_options` that name it do not each report it as
/// an unknown setting.
#[test]
fn a_setting_with_a_bad_default_gives_its_own_error_only() {
    let (path, text) =
        edit("settings.yaml", "    default: 30 MB\n    min: 0 B\n    max: 100 MB\n", "    default: 30 MX\n    min: 0 B\n    max: 100 MB\n");
    let diags = load_err(&with(&[(path, text.clone())]));
    assert_wants(&diags, &[Want::at(path, &text, "30 MX", "unknown size unit `MX` in `30 MX`").rule("max_file_size")]);
    assert_eq!(diags.iter().filter(|d| d.is_error()).count(), 1, "{}", listing(&diags));
}

/// An override that is refused is not also compared with the other side
/// of an `at_most` (the default would stand in for it), and a breach is
/// reported once, not once per instant or per side.
#[test]
fn a_refused_override_is_not_also_a_breach() {
    let (path, text) = append("tenants/demo-tags.yaml", "channels:\n  email:\n    max_file_size: 40 MB\n    max_total_size: 50 MX\n");
    let diags = load_err(&with(&[(path, text.clone())]));
    assert_wants(&diags, &[Want::at(path, &text, "50 MX", "unknown size unit `MX`").rule("demo-tags")]);
    assert_eq!(diags.iter().filter(|d| d.is_error()).count(), 1, "{}", listing(&diags));

    let (path, text) = append(
        "tenants/demo-tags.yaml",
        "channels:\n  email:\n    max_file_size: { value: 90 MB, expires: 2027-01-01 }\n    max_total_size: { value: 80 MB, expires: 2027-06-30 }\n",
    );
    let diags = load_err(&with(&[(path, text.clone())]));
    assert_wants(&diags, &[Want::at(path, &text, "90 MB", "is above `max_total_size` 80000000 bytes (80.0 MB)").rule("demo-tags")]);
    assert_eq!(diags.iter().filter(|d| d.is_error()).count(), 1, "{}", listing(&diags));
}

/// Without the catalog every name is unknown: only the catalog's own
/// errors are reported, with a note that the rest was not checked.
#[test]
fn a_broken_catalog_stops_before_name_checks() {
    let files = with(&[edit("catalog.yaml", "channels:", "channels: [")]);
    let diags = load_err(&files);
    assert!(diags.iter().filter(|d| d.is_error()).all(|d| d.file == "catalog.yaml"), "{}", listing(&diags));
    let note = diags.iter().find(|d| d.message.contains("other checks were skipped")).unwrap_or_else(|| panic!("{}", listing(&diags)));
    // Beside the catalog's first error, not at 0:0.
    let first = diags.iter().find(|d| d.is_error()).expect("an error");
    assert_eq!((note.file.as_str(), note.line, note.column), (first.file.as_str(), first.line, first.column), "{}", listing(&diags));
}
