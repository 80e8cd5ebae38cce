//! The written form: serde types of what admins put in rule files.
//!
//! These mirror `schemas/*.schema.json` (the schema is checked first, so a
//! value that reaches these types already has the right shape). Conditions,
//! setting values and test requests stay as JSON trees here; the compiler
//! gives them meaning, because their meaning depends on the catalog.

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value as Json;

/// A human title and description, for catalogs and docs.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    #[serde(default)]
    pub title: Option<String>,
    #[expect(dead_code, reason = "a key admins may write (the schema allows it); nothing is computed from it")]
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    #[expect(dead_code, reason = "a key admins may write (the schema allows it); nothing is computed from it")]
    pub kind: String,
    #[expect(dead_code, reason = "a key admins may write (the schema allows it); nothing is computed from it")]
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub request_defaults: Option<RequestDefaults>,
    #[serde(default)]
    pub client_statuses: IndexMap<String, Entry>,
    #[serde(default)]
    pub channels: IndexMap<String, Entry>,
    #[serde(default)]
    pub roles: IndexMap<String, Entry>,
    #[serde(default)]
    pub actions: IndexMap<String, Entry>,
    #[serde(default)]
    pub capabilities: IndexMap<String, Entry>,
    #[serde(default)]
    pub codes: IndexMap<String, CodeDecl>,
    #[serde(default)]
    pub attributes: AttributeDecls,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestDefaults {
    pub tenant: String,
    pub action: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeDecl {
    pub message: String,
    #[expect(dead_code, reason = "a key admins may write (the schema allows it); nothing is computed from it")]
    #[serde(default)]
    pub description: Option<String>,
    /// Findings of `cansend check` accepted here, each justified in a comment.
    #[serde(default)]
    pub allow_findings: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AttributeDecls {
    #[serde(default)]
    pub client: IndexMap<String, AttributeDecl>,
    #[serde(default)]
    pub sender: IndexMap<String, AttributeDecl>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeDecl {
    #[serde(rename = "type")]
    pub ty: String,
    #[expect(dead_code, reason = "a key admins may write (the schema allows it); nothing is computed from it")]
    #[serde(default)]
    pub description: Option<String>,
    /// Findings of `cansend check` accepted here, each justified in a comment.
    #[serde(default)]
    pub allow_findings: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsFile {
    #[expect(dead_code, reason = "a key admins may write (the schema allows it); nothing is computed from it")]
    pub kind: String,
    #[expect(dead_code, reason = "a key admins may write (the schema allows it); nothing is computed from it")]
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tenant: IndexMap<String, SettingDecl>,
    #[serde(default)]
    pub channel: IndexMap<String, SettingDecl>,
    #[serde(default)]
    pub role: IndexMap<String, SettingDecl>,
    /// Channel-specific defaults: channel → setting → value.
    #[serde(default)]
    pub channels: IndexMap<String, IndexMap<String, Json>>,
    /// Role-specific defaults: role → setting → value.
    #[serde(default)]
    pub roles: IndexMap<String, IndexMap<String, Json>>,
    #[serde(default)]
    pub send_options: Option<SendOptionsDecl>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingDecl {
    #[serde(rename = "type")]
    pub ty: String,
    pub default: Json,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub min: Option<Json>,
    #[serde(default)]
    pub max: Option<Json>,
    /// A tenant may only lower a number or shrink a set.
    #[serde(default)]
    pub tighten_only: bool,
    /// A tenant may not override it at all.
    #[serde(default)]
    pub locked: bool,
    /// Another setting of the same level whose effective value this one
    /// may never exceed, for any tenant, channel or role, at any instant.
    #[serde(default)]
    pub at_most: Option<String>,
    /// Findings of `cansend check` accepted here, each justified in a comment.
    #[serde(default)]
    pub allow_findings: Vec<String>,
}

/// Which settings feed the fields of `POST /v1/send-options`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendOptionsDecl {
    pub attachment_formats: String,
    pub max_file_size: String,
    pub max_total_size: String,
    pub max_count: String,
    pub actions: String,
    pub capabilities: String,
    pub tags_required: String,
    pub available_tags: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantFile {
    #[expect(dead_code, reason = "a key admins may write (the schema allows it); nothing is computed from it")]
    pub kind: String,
    pub tenant: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub settings: IndexMap<String, Json>,
    #[serde(default)]
    pub channels: IndexMap<String, IndexMap<String, Json>>,
    #[serde(default)]
    pub roles: IndexMap<String, IndexMap<String, Json>>,
    /// Per-code message text for this tenant.
    #[serde(default)]
    pub messages: IndexMap<String, String>,
}

/// An override in a tenant file, in its long form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideDecl {
    pub value: Json,
    #[serde(default)]
    pub ticket: Option<String>,
    #[serde(default)]
    pub expires: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// Findings of `cansend check` accepted here, each justified in a comment.
    #[serde(default)]
    pub allow_findings: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestsFile {
    #[expect(dead_code, reason = "a key admins may write (the schema allows it); nothing is computed from it")]
    pub kind: String,
    #[expect(dead_code, reason = "a key admins may write (the schema allows it); nothing is computed from it")]
    #[serde(default)]
    pub description: Option<String>,
    /// Merged under every test's request (maps merge, other values replace).
    #[serde(default)]
    pub base: Option<Json>,
    pub tests: Vec<TestDecl>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestDecl {
    pub name: String,
    pub request: Json,
    pub expect: Expect,
}

/// What a rule test expects.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The decision.
    pub allowed: bool,
    /// Exactly these violation codes (order aside), when given.
    #[serde(default)]
    pub codes: Option<Vec<String>>,
    /// Exactly these rules fired (order aside), when given.
    #[serde(default)]
    pub rules: Option<Vec<String>>,
}
