//! What a rule change changes, on requests generated from both sets'
//! conditions rather than on traffic already seen: every tenant and
//! channel of either set, each decided by both ([`crate::impact`]'s
//! comparison), the changes counted per tenant and channel with a few
//! example requests each.

use serde::Serialize;

use crate::facade::Engine;
use crate::impact::{Change, Changes, Sample, SideAnswer, judge, without_nulls};

use super::facts::Facts;
use super::generate::{BASE_AT, Generator};

/// Examples kept per tenant and channel.
pub const SAMPLES_PER_GROUP: usize = 3;
/// Most requests generated; past it, the last groups are left out.
pub const MAX_GENERATED: usize = 200_000;

/// The changes among the generated requests of one tenant and channel.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct GeneratedGroup {
    /// The tenant of the requests.
    pub tenant: String,
    /// The channel of the requests.
    pub channel: String,
    /// Requests generated for this tenant and channel.
    pub generated: usize,
    /// Of those, decisions that changed in any way.
    pub changed: usize,
    /// The changes, by kind.
    #[serde(flatten)]
    pub changes: Changes,
    /// A few requests whose decision changed (one of each kind first),
    /// in the order generated: thresholds from below.
    pub samples: Vec<Sample>,
    /// The request the others vary (the text report shows samples by
    /// what they change in it).
    #[serde(skip)]
    pub base: serde_json::Value,
}

/// Which decisions change from `before` to `after` over generated requests.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct GeneratedImpact {
    /// The revision of the rules before the change.
    pub before: String,
    /// The revision of the rules after it.
    pub after: String,
    /// Requests generated (and decided by both sets).
    pub generated: usize,
    /// Tenants (of either set) they were generated for.
    pub tenants: usize,
    /// Channels (of either set) they were generated for.
    pub channels: usize,
    /// The generation stopped at [`MAX_GENERATED`] requests.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Decisions that changed in any way (the sum of the five counts).
    pub changed: usize,
    /// The changes, by kind.
    #[serde(flatten)]
    pub changes: Changes,
    /// Tenants and channels with a change, by name.
    pub by_tenant_channel: Vec<GeneratedGroup>,
}

/// Generate requests from the conditions of both sets, decide each by
/// both, and report what changed.
pub fn generated_impact(before: &Engine, after: &Engine) -> GeneratedImpact {
    let sets = [before.rules(), after.rules()];
    let g = Generator { sets, facts: Facts::of(&sets) };
    let (tenants, channels) = (g.tenants(), g.channels());
    let mut report = GeneratedImpact {
        before: before.revision().to_owned(),
        after: after.revision().to_owned(),
        generated: 0,
        tenants: tenants.len(),
        channels: channels.len(),
        truncated: false,
        changed: 0,
        changes: Changes::default(),
        by_tenant_channel: Vec::new(),
    };
    'all: for tenant in &tenants {
        for channel in &channels {
            let requests = g.group(tenant, channel);
            if report.generated + requests.len() > MAX_GENERATED {
                report.truncated = true;
                break 'all;
            }
            let base = requests.first().and_then(|r| serde_json::to_value(r).ok()).map(without_nulls).unwrap_or_default();
            let mut group = GeneratedGroup {
                tenant: tenant.clone(),
                channel: channel.clone(),
                generated: requests.len(),
                changed: 0,
                changes: Changes::default(),
                samples: Vec::new(),
                base,
            };
            let mut later: Vec<Sample> = Vec::new();
            for r in &requests {
                let Some((change, b, a)) = judge(before, after, r, BASE_AT) else { continue };
                group.changes.count(change);
                report.changes.count(change);
                group.changed += 1;
                // The first of each kind, then others, in the order generated.
                let first = !group.samples.iter().any(|s| s.change == change) && group.samples.len() < SAMPLES_PER_GROUP;
                if !first && later.len() >= SAMPLES_PER_GROUP {
                    continue;
                }
                let sample = Sample {
                    change,
                    tenant: tenant.clone(),
                    channel: channel.clone(),
                    decided_at: r.at.clone().unwrap_or_default(),
                    request: serde_json::to_value(r).map(without_nulls).unwrap_or_default(),
                    before: b,
                    after: a,
                };
                if first { group.samples.push(sample) } else { later.push(sample) }
            }
            let room = SAMPLES_PER_GROUP.saturating_sub(group.samples.len());
            group.samples.extend(later.into_iter().take(room));
            report.generated += requests.len();
            if group.changed > 0 {
                report.changed += group.changed;
                report.by_tenant_channel.push(group);
            }
        }
    }
    report
}

fn arrow(c: Change) -> &'static str {
    match c {
        Change::AllowToDeny => "allow→deny",
        Change::DenyToAllow => "deny→allow",
        Change::CodesChanged => "codes changed",
        Change::NowInvalid => "now invalid",
        Change::NowValid => "now valid",
    }
}

fn counts(c: &Changes) -> String {
    let all = [
        (c.allow_to_deny, Change::AllowToDeny),
        (c.deny_to_allow, Change::DenyToAllow),
        (c.codes_changed, Change::CodesChanged),
        (c.now_invalid, Change::NowInvalid),
        (c.now_valid, Change::NowValid),
    ];
    all.iter().filter(|(n, _)| *n > 0).map(|(n, c)| format!("{n} {}", arrow(*c))).collect::<Vec<_>>().join(", ")
}

/// What `v` changes in `base`: the members that differ (`null` for one
/// left out), lists whole.
fn delta(base: &serde_json::Value, v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match (base, v) {
        (J::Object(b), J::Object(m)) => {
            let mut out = serde_json::Map::new();
            for (k, x) in m {
                match b.get(k) {
                    Some(y) if y == x => {}
                    Some(y) => {
                        out.insert(k.clone(), delta(y, x));
                    }
                    None => {
                        out.insert(k.clone(), x.clone());
                    }
                }
            }
            for k in b.keys().filter(|k| !m.contains_key(*k)) {
                out.insert(k.clone(), J::Null);
            }
            J::Object(out)
        }
        _ => v.clone(),
    }
}

/// A JSON value with long strings shortened, for reading.
fn short(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        J::String(s) if s.chars().count() > 40 => {
            J::String(format!("{}… ({} characters)", s.chars().take(12).collect::<String>(), s.chars().count()))
        }
        J::Array(a) => J::Array(a.iter().map(short).collect()),
        J::Object(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), short(v))).collect()),
        other => other.clone(),
    }
}

/// One side's answer in a few words: `allowed`, `denied: code (rule), …`
/// or why the request is invalid.
fn answer(a: &SideAnswer) -> String {
    match a {
        SideAnswer::Decision(d) if d.get("allowed") == Some(&serde_json::Value::Bool(true)) => "allowed".into(),
        SideAnswer::Decision(d) => {
            let word = |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_str).unwrap_or("?").to_owned();
            let list = d.get("violations").and_then(serde_json::Value::as_array).into_iter().flatten();
            let v: Vec<String> = list.map(|v| format!("{} ({})", word(v, "code"), word(v, "rule"))).collect();
            format!("denied: {}", v.join(", "))
        }
        SideAnswer::Invalid { errors } => {
            format!("invalid: {}", errors.iter().map(|e| format!("{} {}", e.pointer, e.message)).collect::<Vec<_>>().join("; "))
        }
    }
}

impl GeneratedImpact {
    /// The report as `cansend diff` prints it.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "generated {} requests for {} tenants × {} channels from both rule sets' conditions{}\n",
            self.generated,
            self.tenants,
            self.channels,
            if self.truncated { " (stopped at the limit: later tenants left out)" } else { "" }
        );
        if self.changed == 0 {
            out.push_str("no decision changed\n");
            return out;
        }
        out.push_str(&format!("{} decisions changed: {}\n", self.changed, counts(&self.changes)));
        for g in &self.by_tenant_channel {
            out.push_str(&format!("\n{} / {}: {} of {} changed: {}\n", g.tenant, g.channel, g.changed, g.generated, counts(&g.changes)));
            out.push_str(&format!("  base request: {}\n", short(&g.base)));
            for s in &g.samples {
                out.push_str(&format!("  {}: base with {}\n", arrow(s.change), short(&delta(&g.base, &s.request))));
                out.push_str(&format!("    before: {}\n    after:  {}\n", answer(&s.before), answer(&s.after)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::SourceFile;
    use crate::rules::source::builtin;

    /// The shipped rules with `edit` applied to `file` (text replaced, or
    /// a new file when `from` is empty).
    fn shipped(edits: &[Edit]) -> Engine {
        let mut files = builtin();
        for (file, from, to) in edits {
            match files.iter_mut().find(|f| f.path == *file) {
                Some(f) if !from.is_empty() => {
                    assert!(f.text.contains(from), "{file} lacks {from:?}");
                    f.text = f.text.replacen(from, to, 1);
                }
                _ => files.push(SourceFile { path: (*file).into(), text: (*to).into() }),
            }
        }
        Engine::from_sources(&files).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A file, a text in it and what replaces it.
    type Edit = (&'static str, &'static str, &'static str);
    /// A group with a change: tenant, channel, allow→deny, deny→allow, other changes.
    type Touched = (String, String, bool, bool, bool);

    fn groups(i: &GeneratedImpact) -> Vec<Touched> {
        let c = |g: &GeneratedGroup| g.changes.codes_changed + g.changes.now_invalid + g.changes.now_valid > 0;
        i.by_tenant_channel
            .iter()
            .map(|g| (g.tenant.clone(), g.channel.clone(), g.changes.allow_to_deny > 0, g.changes.deny_to_allow > 0, c(g)))
            .collect()
    }

    fn each_tenant(channel: &str, a2d: bool, d2a: bool, other: bool) -> Vec<Touched> {
        ["default", "demo-limits", "demo-tags"].iter().map(|t| ((*t).to_owned(), channel.to_owned(), a2d, d2a, other)).collect()
    }

    #[test]
    fn changes_and_the_groups_they_touch() {
        let limits = "tenants/demo-limits.toml";
        let g = |t: &str, c: &str, a2d: bool, d2a: bool, other: bool| vec![(t.to_owned(), c.to_owned(), a2d, d2a, other)];
        let table: Vec<(&str, Vec<Edit>, Vec<Touched>)> = vec![
            ("nothing changed", vec![], vec![]),
            ("a limit raised", vec![(limits, "value = \"50 MB\"", "value = \"60 MB\"")], g("demo-limits", "email", false, true, true)),
            ("a limit lowered", vec![(limits, "value = \"50 MB\"", "value = \"30 MB\"")], g("demo-limits", "email", true, false, true)),
            (
                "a channel disconnected",
                vec![("tenants/demo-tags.yaml", "settings:\n", "channels:\n  telegram: { connected: false }\nsettings:\n")],
                g("demo-tags", "telegram", true, false, true),
            ),
            (
                "a rule added",
                vec![(
                    "vk.yaml",
                    "",
                    "kind: rules\nrules:\n  - { id: vk-no-attachments, code: too_many_attachments, deny: { all: [ { channel: vk }, { message.attachments.count: { gt: 0 } } ] } }\n",
                )],
                each_tenant("vk", true, false, true),
            ),
            (
                "an exception widened",
                vec![(
                    "eligibility.yaml",
                    "        - channel: email\n        - client.email: { present: true }",
                    "        - channel: { in: [email, webchat] }\n        - client.email: { present: true }",
                )],
                each_tenant("webchat", false, true, true),
            ),
        ];
        let before = shipped(&[]);
        let mut failures = Vec::new();
        for (name, edits, want) in table {
            let after = shipped(&edits);
            let i = generated_impact(&before, &after);
            if groups(&i) != want {
                failures.push(format!("{name}: expected {want:?}\n got {:?}\n{}", groups(&i), i.to_text()));
            }
            assert!(i.generated > 1000 && i.generated < MAX_GENERATED && !i.truncated, "{name}: {}", i.generated);
        }
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }

    #[test]
    fn a_lower_limit_shows_the_first_size_past_it() {
        let after = shipped(&[("tenants/demo-limits.toml", "value = \"50 MB\"", "value = \"30 MB\"")]);
        let i = generated_impact(&shipped(&[]), &after);
        let g = i.by_tenant_channel.first().unwrap_or_else(|| panic!("{}", i.to_text()));
        let s = g.samples.iter().find(|s| s.change == Change::AllowToDeny).unwrap_or_else(|| panic!("{}", i.to_text()));
        assert_eq!(s.request["message"]["attachments"][0]["size"], 30_000_001, "{}", i.to_text());
        assert_eq!(s.request["tenant"], "demo-limits");
        let text = i.to_text();
        assert!(text.contains("demo-limits / email: ") && text.contains("\"size\":30000001"), "{text}");
        let json = serde_json::to_value(&i).unwrap_or_default();
        assert_eq!(json["by_tenant_channel"][0]["channel"], "email", "{json}");
        assert_eq!(json["generated"], i.generated);
    }

    #[test]
    fn a_tenant_added_is_new_to_the_old_rules() {
        let after = shipped(&[("tenants/acme.yaml", "", "kind: tenant\ntenant: acme\n")]);
        let i = generated_impact(&shipped(&[]), &after);
        assert!(!i.by_tenant_channel.is_empty());
        assert!(i.by_tenant_channel.iter().all(|g| g.tenant == "acme" && g.changes.now_valid == g.changed), "{}", i.to_text());
        assert_eq!(i.by_tenant_channel.len(), 7, "every channel of acme");
    }
}
