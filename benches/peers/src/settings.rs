//! The shipped tenants' settings for the peers, from policies/settings.json:
//! defaults, then each tenant's changes, layered once at load into the
//! effective values (as cansend does when it compiles its tenant files).

use serde_json::{Map, Value, json};

const SETTINGS: &str = include_str!("../policies/settings.json");

fn layer(base: &Value, over: Option<&Value>) -> Map<String, Value> {
    let mut out = base.as_object().cloned().unwrap_or_default();
    if let Some(Value::Object(o)) = over {
        for (k, v) in o {
            if k != "channels" {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

/// `{"tenants": {t: {tags_required, available_tags, channels: {c: {connected,
/// attachment_formats, max_file_size, max_total_size, max_attachments}}}},
/// "roles": {r: {actions}}}`
pub fn effective() -> Value {
    let s: Value = serde_json::from_str(SETTINGS).expect("policies/settings.json is JSON");
    let channels = s["channels"].as_object().expect("channels");
    let mut tenants = Map::new();
    for (name, t) in s["tenants"].as_object().expect("tenants") {
        let mut tenant = layer(&s["tenant_defaults"], Some(t));
        let mut effective = Map::new();
        for (c, over) in channels {
            let base = Value::Object(layer(&s["channel_defaults"], Some(over)));
            effective.insert(c.clone(), Value::Object(layer(&base, t.get("channels").and_then(|cs| cs.get(c)))));
        }
        tenant.insert("channels".into(), Value::Object(effective));
        tenants.insert(name.clone(), Value::Object(tenant));
    }
    json!({ "tenants": tenants, "roles": s["roles"] })
}
