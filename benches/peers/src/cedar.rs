//! Cedar: policies/cansend.cedar against entities made once from the tenant
//! settings (tenants, their channels, roles) and a context made per request.
//!
//! Cedar has no per-element quantifier over a set of records, no sum and no
//! string trimming, so what cansend's rules read per attachment or per
//! string is computed here, outside the engine, into context values that
//! the policies compare against the tenant's settings: the set of
//! lower-cased extensions, the count of files without one, the largest and
//! the total size, and whether each identifier and the text are blank.
//! Which settings apply (formats, limits) stays in the policies.

use std::collections::HashMap;

use cansend::request::CanSendRequest;
use cedar_policy::{Authorizer, Context, Decision, Entities, EntityUid, PolicyId, PolicySet, Request, Response, RestrictedExpression};
use serde_json::{Value, json};

pub const POLICIES: &str = include_str!("../policies/cansend.cedar");

pub struct Cedar {
    pub policies: PolicySet,
    pub entities: Entities,
    authorizer: Authorizer,
    roles: HashMap<String, EntityUid>,
    actions: HashMap<String, EntityUid>,
    /// tenant → channel → `Channel::"<tenant>/<channel>"`.
    channels: HashMap<String, HashMap<String, EntityUid>>,
    /// Policy id → the `@id` annotation (a cansend rule id, or `permit-all`).
    rule_of: HashMap<PolicyId, String>,
}

fn uid(ty: &str, id: &str) -> EntityUid {
    EntityUid::from_json(json!({ "type": ty, "id": id })).expect("entity uid")
}

fn entity_ref(ty: &str, id: &str) -> Value {
    json!({ "__entity": { "type": ty, "id": id } })
}

/// The extension of a file name as cansend defines it (docs/domain.md §1.10): after
/// the last dot of the last path segment, neither side empty, lower-cased.
pub fn extension(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let (stem, ext) = base.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_lowercase())
}

fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|s| s.trim().is_empty())
}

impl Cedar {
    /// `settings`: the effective settings (see settings.rs).
    pub fn new(settings: &Value) -> Result<Self, String> {
        let policies: PolicySet = POLICIES.parse().map_err(|e| format!("policies/cansend.cedar: {e:?}"))?;
        let mut rule_of = HashMap::new();
        for p in policies.policies() {
            let id = p.annotation("id").ok_or_else(|| format!("policy {} has no @id", p.id()))?;
            rule_of.insert(p.id().clone(), id.to_owned());
        }

        let mut entities = Vec::new();
        let mut channels = HashMap::new();
        for (t, ts) in settings["tenants"].as_object().expect("tenants") {
            entities.push(json!({
                "uid": { "type": "Tenant", "id": t },
                "attrs": { "tags_required": ts["tags_required"], "available_tags": ts["available_tags"] },
                "parents": [],
            }));
            let mut by_name = HashMap::new();
            for (c, cs) in ts["channels"].as_object().expect("channels") {
                let id = format!("{t}/{c}");
                let mut attrs = cs.clone();
                attrs["name"] = c.as_str().into();
                attrs["tenant"] = entity_ref("Tenant", t);
                entities
                    .push(json!({ "uid": { "type": "Channel", "id": id }, "attrs": attrs, "parents": [{ "type": "Tenant", "id": t }] }));
                by_name.insert(c.clone(), uid("Channel", &id));
            }
            channels.insert(t.clone(), by_name);
        }
        let mut roles = HashMap::new();
        let mut actions = HashMap::new();
        for (r, rs) in settings["roles"].as_object().expect("roles") {
            let acts: Vec<Value> =
                rs["actions"].as_array().expect("actions").iter().map(|a| entity_ref("Action", a.as_str().unwrap())).collect();
            for a in rs["actions"].as_array().expect("actions") {
                let a = a.as_str().expect("action name");
                actions.insert(a.to_owned(), uid("Action", a));
            }
            entities.push(json!({ "uid": { "type": "Role", "id": r }, "attrs": { "actions": acts }, "parents": [] }));
            roles.insert(r.clone(), uid("Role", r));
        }
        let entities = Entities::from_json_value(Value::Array(entities), None).map_err(|e| format!("entities: {e:?}"))?;
        Ok(Cedar { policies, entities, authorizer: Authorizer::new(), roles, actions, channels, rule_of })
    }

    /// The Cedar request for a can-send request: principal, action and
    /// resource looked up by name; the context computed from the request.
    pub fn request(&self, r: &CanSendRequest) -> Request {
        let c = &r.client;
        let m = &r.message;
        let atts = m.attachments.as_deref().unwrap_or(&[]);
        let mut extensions = Vec::with_capacity(atts.len());
        let mut without_extension = 0i64;
        let mut max_size = 0i64;
        let mut total_size = 0i64;
        for a in atts {
            match extension(&a.name) {
                Some(e) => extensions.push(RestrictedExpression::new_string(e)),
                None => without_extension += 1,
            }
            let size = i64::try_from(a.size).unwrap_or(i64::MAX);
            max_size = max_size.max(size);
            total_size = total_size.saturating_add(size);
        }
        let strings = |list: Option<&Vec<String>>| {
            RestrictedExpression::new_set(list.into_iter().flatten().map(|s| RestrictedExpression::new_string(s.clone())))
        };
        let context = Context::from_pairs([
            ("client_status".to_owned(), RestrictedExpression::new_string(c.status.clone())),
            ("blocked".to_owned(), RestrictedExpression::new_bool(c.blocked == Some(true))),
            ("active_thread".to_owned(), RestrictedExpression::new_bool(c.active_thread == Some(true))),
            ("client_channels".to_owned(), strings(c.channels.as_ref())),
            ("has_email".to_owned(), RestrictedExpression::new_bool(!blank(&c.email))),
            ("has_phone".to_owned(), RestrictedExpression::new_bool(!blank(&c.phone))),
            ("has_external_id".to_owned(), RestrictedExpression::new_bool(!blank(&c.external_id))),
            ("tags".to_owned(), strings(r.thread.as_ref().and_then(|t| t.tags.as_ref()))),
            ("text_blank".to_owned(), RestrictedExpression::new_bool(blank(&m.text))),
            ("has_template".to_owned(), RestrictedExpression::new_bool(m.template.is_some())),
            ("attachment_count".to_owned(), RestrictedExpression::new_long(atts.len() as i64)),
            ("extensions".to_owned(), RestrictedExpression::new_set(extensions)),
            ("without_extension".to_owned(), RestrictedExpression::new_long(without_extension)),
            ("max_size".to_owned(), RestrictedExpression::new_long(max_size)),
            ("total_size".to_owned(), RestrictedExpression::new_long(total_size)),
        ])
        .expect("context keys are distinct");
        let tenant = r.tenant.as_deref().unwrap_or("default");
        let action = r.action.as_deref().unwrap_or("send");
        let principal = self.roles[r.sender.role.as_str()].clone();
        let action = self.actions[action].clone();
        let resource = self.channels[tenant][r.channel.as_str()].clone();
        Request::new(principal, action, resource, context, None).expect("no schema, nothing to validate")
    }

    pub fn decide(&self, q: &Request) -> Response {
        self.authorizer.is_authorized(q, &self.policies, &self.entities)
    }

    /// The violated cansend rule ids of a response, or what is wrong with it:
    /// an evaluation error (Cedar skips an erroring policy, which for a
    /// forbid would silently allow), or a decision that does not match the
    /// determining policies.
    pub fn violated(&self, resp: &Response) -> Result<Vec<String>, String> {
        let errors: Vec<String> = resp.diagnostics().errors().map(|e| e.to_string()).collect();
        if !errors.is_empty() {
            return Err(format!("evaluation errors: {errors:?}"));
        }
        let rules: Vec<String> = resp.diagnostics().reason().map(|p| self.rule_of[p].clone()).collect();
        let forbids: Vec<String> = rules.iter().filter(|r| *r != "permit-all").cloned().collect();
        match resp.decision() {
            Decision::Deny if !forbids.is_empty() && forbids.len() == rules.len() => Ok(forbids),
            Decision::Allow if forbids.is_empty() && rules.len() == 1 => Ok(forbids),
            d => Err(format!("decision {d:?} with determining policies {rules:?}")),
        }
    }

    /// Every cansend rule id that has a policy.
    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.rule_of.values().map(String::as_str).filter(|r| *r != "permit-all")
    }
}
