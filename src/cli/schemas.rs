//! `cansend schemas [DIR] [--out OUT]`: JSON Schemas that know one rule
//! set's names, for editors.
//!
//! The schemas in `schemas/` are the rule *format*: the loader enforces
//! them on every rule set, so they cannot know which settings, channels,
//! codes or attributes a particular set declares — those are declared in
//! the rules themselves. An editor using them cannot flag a tenant setting
//! `conected`, a value `max_file_size: lots` or a rule test's request field
//! `blockd`; `cansend check` can. This command writes the format's schemas
//! narrowed to the names of the rule set in `DIR`, so an editor flags what
//! `check` flags: each file keeps its name (`tenant.schema.json`, …), and a
//! rule file's `$schema` comment points at the directory written.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Map, Value as Json, json};
use utoipa::{PartialSchema as _, ToSchema as _};

use crate::facade::{Catalog, Engine};
use crate::rules::source::builtin_schemas;

/// `cansend schemas`: write schemas that know this rule set's names.
#[derive(Debug, clap::Args)]
pub struct SchemasArgs {
    /// The rules directory (default: `./rules` if present, else the built-in rules).
    pub dir: Option<PathBuf>,
    /// Where to write the schemas (created if missing).
    #[arg(long, default_value = "schemas")]
    pub out: PathBuf,
}

/// Load the rules, write their schemas; exit 2 when the rules do not load
/// or a schema cannot be written.
pub fn run(args: SchemasArgs) -> ExitCode {
    let dir = super::choose(args.dir.as_deref());
    let engine = match super::load_or_report(dir.as_deref()) {
        Ok(e) => e,
        Err(code) => return code,
    };
    match write(&engine, &args.out) {
        Ok(n) => {
            eprintln!("wrote {n} schemas to {}", args.out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Write every schema of [`generate`] into `out`; how many were written.
pub fn write(engine: &Engine, out: &Path) -> Result<usize, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let schemas = generate(engine)?;
    for (name, schema) in &schemas {
        let path = out.join(name);
        let text = serde_json::to_string_pretty(schema).map_err(|e| format!("{name}: {e}"))? + "\n";
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(schemas.len())
}

/// The format's schemas (`schemas/*.schema.json`, as built in), each
/// narrowed to the names `engine`'s rule set declares.
pub fn generate(engine: &Engine) -> Result<Vec<(String, Json)>, String> {
    let cat = engine.catalog();
    let mut out = Vec::new();
    for (name, text) in builtin_schemas() {
        let mut schema: Json = serde_json::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        match *name {
            "tenant.schema.json" => tenant(cat, &mut schema),
            "tests.schema.json" => tests(cat, &mut schema)?,
            "rules.schema.json" => {
                if let Some(code) = schema.pointer_mut("/properties/rules/items/properties/code") {
                    *code = json!({ "enum": code_names(cat) });
                }
            }
            _ => {}
        }
        if let Some(title) = schema.get_mut("title") {
            *title = json!(format!("{} (names of rule set {})", title.as_str().unwrap_or_default(), engine.revision()));
        }
        out.push(((*name).to_owned(), schema));
    }
    Ok(out)
}

fn code_names(cat: Catalog<'_>) -> Vec<&str> {
    cat.codes().map(|(c, _)| c).collect()
}

/// The names of a symbol type (`channel`, `role`, …), `None` for another type.
fn domain<'e>(cat: Catalog<'e>, ty: &str) -> Option<Vec<&'e str>> {
    Some(match ty {
        "channel" => cat.channels().collect(),
        "role" => cat.roles().collect(),
        "action" => cat.actions().collect(),
        "capability" => cat.capabilities().collect(),
        "client_status" => cat.client_statuses().collect(),
        "tenant" => cat.tenants().collect(),
        _ => return None,
    })
}

/// A size as the loader reads it (docs/rules.md, Units).
pub const SIZE_PATTERN: &str = r"^\s*[0-9](_?[0-9])*(\.[0-9]+)?\s*([kKmMgGtT][iI]?[bB]|[bB])?\s*$";

/// What a value of type `ty` (as written in the settings file) may be written as.
fn value(cat: Catalog<'_>, ty: &str) -> Json {
    if let Some(item) = ty.strip_prefix("set<").and_then(|t| t.strip_suffix('>')) {
        return json!({ "type": "array", "items": value(cat, item) });
    }
    if let Some(names) = domain(cat, ty) {
        return json!({ "enum": names });
    }
    match ty {
        "bool" => json!({ "type": "boolean" }),
        "int" => json!({ "type": "integer" }),
        "size" => json!({ "anyOf": [
            { "type": "integer", "minimum": 0 },
            { "type": "string", "pattern": SIZE_PATTERN, "description": "e.g. `30 MB`, `50 MiB`, `30_000_000`" }
        ] }),
        _ => json!({ "type": "string" }),
    }
}

/// The settings of one level as an object: each known name with its value
/// (plain, or the override object of the format whose `value` is one).
fn settings(cat: Catalog<'_>, defs: &[(&str, String, Option<&str>)], format: &Json) -> Json {
    let mut props = Map::new();
    for (name, ty, description) in defs {
        let v = value(cat, ty);
        let mut s = json!({ "allOf": [format, { "if": { "type": "object" }, "then": { "properties": { "value": v } }, "else": v }] });
        if let (Some(desc), Some(m)) = (description, s.as_object_mut()) {
            m.insert("description".into(), json!(desc));
        }
        props.insert((*name).to_owned(), s);
    }
    json!({ "type": "object", "additionalProperties": false, "properties": props })
}

/// Per channel (or role): each known entity with its known settings.
fn per_entity<'e>(entities: impl Iterator<Item = &'e str>, level: Json) -> Json {
    let props: Map<String, Json> = entities.map(|n| (n.to_owned(), level.clone())).collect();
    json!({ "type": "object", "additionalProperties": false, "properties": props })
}

fn tenant(cat: Catalog<'_>, schema: &mut Json) {
    // The format's schema of one setting's value (plain or an override object).
    let format = schema.pointer("/properties/settings/additionalProperties").cloned().unwrap_or_else(|| json!({}));
    let [t, c, r] = cat.setting_types();
    let (tenant_level, channel_level, role_level) = (settings(cat, &t, &format), settings(cat, &c, &format), settings(cat, &r, &format));
    let Some(props) = schema.get_mut("properties").and_then(Json::as_object_mut) else { return };
    props.insert("settings".into(), tenant_level);
    props.insert("channels".into(), per_entity(cat.channels(), channel_level));
    props.insert("roles".into(), per_entity(cat.roles(), role_level));
    props.insert(
        "messages".into(),
        json!({ "type": "object", "propertyNames": { "enum": code_names(cat) }, "additionalProperties": { "type": "string" } }),
    );
}

/// Rule tests: the request is a `POST /v1/can-send` body (the schema the
/// OpenAPI document publishes) with nothing required, since it is merged
/// onto `base`; expected codes are the declared ones.
fn tests(cat: Catalog<'_>, schema: &mut Json) -> Result<(), String> {
    let mut parts = Vec::new();
    crate::request::CanSendRequest::schemas(&mut parts);
    let mut defs = Map::new();
    for (n, s) in parts {
        defs.insert(n, serde_json::to_value(s).map_err(|e| e.to_string())?);
    }
    let root = crate::request::CanSendRequest::name().into_owned();
    defs.insert(root.clone(), serde_json::to_value(crate::request::CanSendRequest::schema()).map_err(|e| e.to_string())?);
    let mut defs = Json::Object(defs);
    relax(&mut defs);
    let request = json!({ "$ref": format!("#/$defs/{root}") });
    if let Some(m) = schema.as_object_mut() {
        m.insert("$defs".into(), defs);
    }
    for p in ["/properties/tests/items/properties/request", "/properties/base"] {
        if let Some(r) = schema.pointer_mut(p) {
            let description = r.get("description").cloned();
            *r = request.clone();
            if let (Some(d), Some(m)) = (description, r.as_object_mut()) {
                m.insert("description".into(), d);
            }
        }
    }
    for p in ["/properties/tests/items/properties/expect/properties/codes/items"] {
        if let Some(c) = schema.pointer_mut(p) {
            *c = json!({ "enum": code_names(cat) });
        }
    }
    Ok(())
}

/// OpenAPI component references become `$defs` ones, and nothing is
/// required (a test's request is merged onto `base`).
fn relax(v: &mut Json) {
    match v {
        Json::Object(m) => {
            m.remove("required");
            if let Some(Json::String(r)) = m.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/components/schemas/")
            {
                *r = format!("#/$defs/{name}");
            }
            m.values_mut().for_each(relax);
        }
        Json::Array(a) => a.iter_mut().for_each(relax),
        _ => {}
    }
}
