//! Format-preserving edits of tenant files: YAML and TOML, an override
//! replaced, one added, one removed, comments and order kept.
//! Test code only (`mod tests` is compiled under `cfg(test)`), marked as
//! such for the scans of `tests/generic_engine.rs` and `scripts/arrows.py`:
#[cfg(test)]
use serde_json::json;

use super::{EditError, Format, Override, set};

fn ov(value: serde_json::Value, ticket: Option<&str>, expires: Option<&str>) -> Override {
    Override { value, ticket: ticket.map(str::to_owned), expires: expires.map(str::to_owned), note: None }
}

const YAML: &str = "# A tenant.
kind: tenant
tenant: acme
channels:
  # mail
  email:
    max_file_size: { value: 40 MB, ticket: SUP-5 }  # raised
    max_total_size:
      value: 80 MB   # the total
      ticket: SUP-6
      note: Old note.
  viber:
    connected: false
roles:
  agent: {}   # nothing yet
";

#[test]
fn yaml_existing_override_replaced_comments_kept() {
    let out =
        set(YAML, Format::Yaml, &["channels", "email", "max_file_size"], Some(&ov(json!("30 MB"), Some("SUP-7"), Some("2027-06-30"))))
            .unwrap_or_else(|e| panic!("{e}"));
    let expected = YAML.replace(
        "    max_file_size: { value: 40 MB, ticket: SUP-5 }  # raised",
        "    max_file_size: { value: 30 MB, ticket: SUP-7, expires: 2027-06-30 }  # raised",
    );
    assert_eq!(out, expected);
}

#[test]
fn yaml_long_form_block_edited_key_by_key() {
    let out = set(YAML, Format::Yaml, &["channels", "email", "max_total_size"], Some(&ov(json!("60 MB"), Some("SUP-8"), None)))
        .unwrap_or_else(|e| panic!("{e}"));
    let expected = YAML.replace(
        "      value: 80 MB   # the total\n      ticket: SUP-6\n      note: Old note.\n",
        "      value: 60 MB  # the total\n      ticket: SUP-8\n",
    );
    assert_eq!(out, expected);
}

#[test]
fn yaml_new_override_added_where_it_belongs() {
    let out = set(YAML, Format::Yaml, &["channels", "viber", "max_file_size"], Some(&ov(json!("10 MB"), None, None)))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out, YAML.replace("    connected: false\n", "    connected: false\n    max_file_size: 10 MB\n"));
    // A missing section is added at the end, a `{}` opened, lists in flow form.
    let out = set(YAML, Format::Yaml, &["settings", "tags_required"], Some(&ov(json!(true), Some("SUP-9"), None)))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out, format!("{YAML}settings:\n  tags_required: {{ value: true, ticket: SUP-9 }}\n"));
    let out = set(YAML, Format::Yaml, &["roles", "agent", "formats"], Some(&ov(json!(["jpeg", "png"]), None, None)))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.ends_with("  agent: # nothing yet\n    formats: [jpeg, png]\n"), "{out}");
}

#[test]
fn yaml_override_removed_and_odd_strings_quoted() {
    let out = set(YAML, Format::Yaml, &["channels", "email", "max_total_size"], None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out,
        YAML.replace("    max_total_size:\n      value: 80 MB   # the total\n      ticket: SUP-6\n      note: Old note.\n", "")
    );
    let mut change = ov(json!("30 MB"), Some("SUP-7"), None);
    change.note = Some("yes: really # not a comment".into());
    let out = set(YAML, Format::Yaml, &["channels", "viber", "max_file_size"], Some(&change)).unwrap_or_else(|e| panic!("{e}"));
    assert!(out.contains("max_file_size: { value: 30 MB, ticket: SUP-7, note: \"yes: really # not a comment\" }"), "{out}");
}

#[test]
fn yaml_layout_it_cannot_edit_is_refused() {
    let text = "kind: tenant\ntenant: t\nchannels:\n  email: { connected: true }\n";
    let err = set(text, Format::Yaml, &["channels", "email", "max_file_size"], Some(&ov(json!("1 MB"), None, None)));
    assert!(matches!(err, Err(EditError::Layout(_))), "{err:?}");
}

const TOML: &str = "#:schema x
# A tenant.
kind = \"tenant\"
tenant = \"acme\"

[channels.viber]
connected = false   # off

[channels.email]
max_file_size = { value = \"50 MB\", ticket = \"SUP-1042\", note = \"Raised.\" }  # why
formats = [
  \"jpeg\",   # images
  \"pdf\",
]
";

#[test]
fn toml_existing_override_replaced_comments_kept() {
    let out =
        set(TOML, Format::Toml, &["channels", "email", "max_file_size"], Some(&ov(json!("30 MB"), Some("SUP-7"), Some("2027-06-30"))))
            .unwrap_or_else(|e| panic!("{e}"));
    let expected = TOML.replace(
        "max_file_size = { value = \"50 MB\", ticket = \"SUP-1042\", note = \"Raised.\" }  # why",
        "max_file_size = { value = \"30 MB\", ticket = \"SUP-7\", expires = \"2027-06-30\" }  # why",
    );
    assert_eq!(out, expected);
    // A value over several lines is replaced whole.
    let out =
        set(TOML, Format::Toml, &["channels", "email", "formats"], Some(&ov(json!(["png"]), None, None))).unwrap_or_else(|e| panic!("{e}"));
    assert!(out.ends_with("  # why\nformats = [\"png\"]\n"), "{out}");
}

#[test]
fn toml_new_override_added_to_its_table_or_a_new_one() {
    let out = set(TOML, Format::Toml, &["channels", "viber", "max_file_size"], Some(&ov(json!("10 MB"), None, None)))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out, TOML.replace("connected = false   # off\n", "connected = false   # off\nmax_file_size = \"10 MB\"\n"));
    let out = set(TOML, Format::Toml, &["settings", "tags_required"], Some(&ov(json!(true), Some("SUP-9"), None)))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out, format!("{TOML}\n[settings]\ntags_required = {{ value = true, ticket = \"SUP-9\" }}\n"));
}

#[test]
fn toml_long_form_table_dotted_keys_and_removal() {
    let text = "kind = \"tenant\"\ntenant = \"t\"\nchannels.email.max_total_size = \"90 MB\" # dotted\n\n[channels.email.max_file_size]\n# long form\nvalue = \"50 MB\"\nticket = \"SUP-1\"\n";
    let out = set(text, Format::Toml, &["channels", "email", "max_file_size"], Some(&ov(json!("20 MB"), Some("SUP-2"), None)))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out, text.replace("value = \"50 MB\"\nticket = \"SUP-1\"", "value = \"20 MB\"\nticket = \"SUP-2\""));
    let out = set(text, Format::Toml, &["channels", "email", "max_total_size"], Some(&ov(json!("70 MB"), None, None)))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out, text.replace("\"90 MB\" # dotted", "\"70 MB\"  # dotted"));
    let out = set(TOML, Format::Toml, &["channels", "email", "max_file_size"], None).unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.contains("max_file_size") && out.contains("# images"), "{out}");
}

#[test]
fn toml_layout_it_cannot_edit_is_refused() {
    let text = "kind = \"tenant\"\ntenant = \"t\"\n[channels]\nemail = { connected = true }\n";
    let err = set(text, Format::Toml, &["channels", "email", "max_file_size"], Some(&ov(json!("1 MB"), None, None)));
    assert!(matches!(err, Err(EditError::Layout(_))), "{err:?}");
}
