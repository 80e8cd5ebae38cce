//! The impact of a rule change: which decisions change when the recent
//! requests ([`crate::recent`]) are decided by one rule set and then by
//! another: before a change (`POST /v1/rules/validate`) and after one
//! (every applied reload).
//!
//! Pure: two [`Engine`]s and the requests in, an [`Impact`] out. Each
//! request is bound against each rule set by name (the two may not know the
//! same tenants or channels) and decided at the instant it was first
//! decided at, so only the rules differ between the two sides. A request
//! ends in one of five changes, or none:
//!
//! | change | before | after |
//! | --- | --- | --- |
//! | `allow_to_deny` | allowed | denied |
//! | `deny_to_allow` | denied | allowed |
//! | `codes_changed` | denied | denied, another multiset of violation codes |
//! | `now_invalid` | decided | refused as a request (a tenant or channel gone: a 422) |
//! | `now_valid` | refused as a request | decided |
//!
//! counted in total and per tenant and channel, with a few samples of each
//! change (the request and both answers, newest first). The work is two
//! bindings and two evaluations per request, so bounded by the ring's
//! capacity: a few milliseconds per thousand requests, copying them out of
//! the ring included.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value as Json;

use std::sync::Arc;

use crate::facade::{Engine, Evaluated};
use crate::recent::Recorded;
use crate::render::Answer;
use crate::request::{CanSendRequest, FieldError};

/// Samples kept per kind of change.
pub const SAMPLES_PER_CHANGE: usize = 3;
/// Most tenant × channel groups listed (those with the most changes).
pub const MAX_GROUPS: usize = 100;

/// How many decisions changed, by kind.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Changes {
    /// Allowed before, denied after.
    pub allow_to_deny: usize,
    /// Denied before, allowed after.
    pub deny_to_allow: usize,
    /// Still denied (or still allowed), but with other violation codes.
    pub codes_changed: usize,
    /// Decided before, refused as a request after (unknown tenant, channel…).
    pub now_invalid: usize,
    /// Refused as a request before, decided after.
    pub now_valid: usize,
}

impl Changes {
    /// Decisions that changed in any way.
    pub fn total(&self) -> usize {
        self.allow_to_deny + self.deny_to_allow + self.codes_changed + self.now_invalid + self.now_valid
    }

    pub(crate) fn count(&mut self, c: Change) {
        match c {
            Change::AllowToDeny => self.allow_to_deny += 1,
            Change::DenyToAllow => self.deny_to_allow += 1,
            Change::CodesChanged => self.codes_changed += 1,
            Change::NowInvalid => self.now_invalid += 1,
            Change::NowValid => self.now_valid += 1,
        }
    }
}

/// One kind of change of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Allowed before, denied after.
    AllowToDeny,
    /// Denied before, allowed after.
    DenyToAllow,
    /// Denied both times, for other codes.
    CodesChanged,
    /// Decided before, refused as a request after.
    NowInvalid,
    /// Refused as a request before, decided after.
    NowValid,
}

/// The changes among the requests of one tenant over one channel.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Group {
    /// The tenant of the requests.
    pub tenant: String,
    /// The channel of the requests.
    pub channel: String,
    /// Requests of this tenant and channel replayed.
    pub replayed: usize,
    /// Of those, decisions that changed in any way.
    pub changed: usize,
    /// The changes, by kind.
    #[serde(flatten)]
    pub changes: Changes,
}

/// One side of a sample: the decision, or why the request was refused.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(untagged)]
pub enum SideAnswer {
    /// The decision, as `POST /v1/can-send` answers it.
    #[schema(value_type = Answer)]
    Decision(Json),
    /// The request is not valid for this rule set (a 422 of can-send).
    Invalid {
        /// Why, each with its pointer.
        errors: Vec<FieldError>,
    },
}

/// A request whose decision changed, with both answers.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Sample {
    /// What changed.
    pub change: Change,
    /// The request's tenant.
    pub tenant: String,
    /// The request's channel.
    pub channel: String,
    /// When it was decided (RFC 3339): both sides are decided at that
    /// instant, unless the request carries its own `at`.
    pub decided_at: String,
    /// The request as it was decoded (a can-send body; members left out or
    /// `null` are not shown).
    #[schema(value_type = Object)]
    pub request: Json,
    /// Its answer by the revision before.
    pub before: SideAnswer,
    /// Its answer by the revision after.
    pub after: SideAnswer,
}

/// Which decisions change from `before` to `after` over the recent requests.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Impact {
    /// The revision the requests were first decided by.
    pub before: String,
    /// The revision they were decided by again.
    pub after: String,
    /// Requests replayed (what the ring held).
    pub replayed: usize,
    /// Decisions that changed in any way (the sum of the five counts).
    pub changed: usize,
    /// The changes, by kind.
    #[serde(flatten)]
    pub changes: Changes,
    /// Per tenant and channel, only those with a change, most changes
    /// first (at most 100).
    pub by_tenant_channel: Vec<Group>,
    /// Groups with a change left out of `by_tenant_channel`.
    #[serde(skip_serializing_if = "is_zero")]
    pub groups_omitted: usize,
    /// Up to three requests per kind of change, newest first.
    pub samples: Vec<Sample>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Impact {
    /// The report without its samples (which hold client data): what is
    /// shown to callers who are not admins, and sent to event streams.
    pub fn without_samples(&self) -> Self {
        Self { samples: Vec::new(), ..self.clone() }
    }
}

/// A request decided by one rule set: the decision, or why the request
/// was refused.
type Side<'e> = Result<Evaluated<'e>, Vec<FieldError>>;

fn decide<'e>(engine: &'e Engine, r: &CanSendRequest, now: i64) -> Side<'e> {
    engine.evaluate(r, now, false)
}

fn change(before: &Side<'_>, after: &Side<'_>) -> Option<Change> {
    match (before, after) {
        (Err(_), Err(_)) => None,
        (Err(_), Ok(_)) => Some(Change::NowValid),
        (Ok(_), Err(_)) => Some(Change::NowInvalid),
        (Ok(b), Ok(a)) => match (b.decision.allowed, a.decision.allowed) {
            (true, false) => Some(Change::AllowToDeny),
            (false, true) => Some(Change::DenyToAllow),
            // Compared by name: the two sets may number codes differently.
            _ => (b.codes() != a.codes()).then_some(Change::CodesChanged),
        },
    }
}

fn answer(side: &Side<'_>) -> SideAnswer {
    match side {
        Ok(ev) => SideAnswer::Decision(serde_json::to_value(ev.answer()).unwrap_or(Json::Null)),
        Err(errors) => SideAnswer::Invalid { errors: errors.clone() },
    }
}

/// One request decided by both rule sets at `now` (when it has no `at`):
/// how its decision changed, if it did, with both answers.
pub(crate) fn judge(before: &Engine, after: &Engine, r: &CanSendRequest, now: i64) -> Option<(Change, SideAnswer, SideAnswer)> {
    let (b, a) = (decide(before, r, now), decide(after, r, now));
    let c = change(&b, &a)?;
    Some((c, answer(&b), answer(&a)))
}

/// A request as JSON without the members it left out (`null`s).
pub(crate) fn without_nulls(v: Json) -> Json {
    match v {
        Json::Object(m) => Json::Object(m.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect()),
        Json::Array(a) => Json::Array(a.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

fn instant(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).unwrap_or_default()
}

/// Decide every request of `recent` (oldest first) by `before` and by
/// `after`, and report what changed.
pub fn compare(before: &Engine, after: &Engine, recent: &[Arc<Recorded>]) -> Impact {
    compare_listing(before, after, recent, MAX_GROUPS)
}

/// [`compare`], listing at most `max_groups` groups.
fn compare_listing(before: &Engine, after: &Engine, recent: &[Arc<Recorded>], max_groups: usize) -> Impact {
    let mut changes = Changes::default();
    let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
    let mut samples: Vec<Sample> = Vec::new();
    let mut sampled: BTreeMap<Change, usize> = BTreeMap::new();
    // Newest first, so the samples are the freshest.
    for rec in recent.iter().rev() {
        let r = &rec.request;
        let tenant = match &r.tenant {
            Some(t) => t.clone(),
            None => before.rules().tenants.name(before.rules().default_tenant).to_owned(),
        };
        let key = (tenant, r.channel.clone());
        let group = groups.entry(key).or_insert_with_key(|(tenant, channel)| Group {
            tenant: tenant.clone(),
            channel: channel.clone(),
            replayed: 0,
            changed: 0,
            changes: Changes::default(),
        });
        group.replayed += 1;
        let b = decide(before, r, rec.now);
        let a = decide(after, r, rec.now);
        let Some(c) = change(&b, &a) else { continue };
        changes.count(c);
        group.changes.count(c);
        group.changed += 1;
        let taken = sampled.entry(c).or_default();
        if *taken < SAMPLES_PER_CHANGE {
            *taken += 1;
            samples.push(Sample {
                change: c,
                tenant: group.tenant.clone(),
                channel: group.channel.clone(),
                decided_at: instant(rec.now),
                request: serde_json::to_value(r).map(without_nulls).unwrap_or(Json::Null),
                before: answer(&b),
                after: answer(&a),
            });
        }
    }
    samples.sort_by_key(|s| s.change);
    let mut listed: Vec<Group> = groups.into_values().filter(|g| g.changed > 0).collect();
    listed.sort_by(|x, y| y.changed.cmp(&x.changed).then_with(|| (&x.tenant, &x.channel).cmp(&(&y.tenant, &y.channel))));
    let groups_omitted = listed.len().saturating_sub(max_groups);
    listed.truncate(max_groups);
    Impact {
        before: before.revision().to_owned(),
        after: after.revision().to_owned(),
        replayed: recent.len(),
        changed: changes.total(),
        changes,
        by_tenant_channel: listed,
        groups_omitted,
        samples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::SourceFile;

    /// A small rule set of its own (the shipped domain stays in rules/):
    /// one channel `c1` with a size limit, `c2` without, two tenants.
    fn rules(limit: &str, extra_tenant: bool, c2: bool) -> Engine {
        let catalog = format!(
            "kind: catalog\nchannels:\n  c1: {{}}\n{}roles:\n  r: {{}}\nactions:\n  a: {{}}\nclient_statuses:\n  s: {{}}\ncodes:\n  big: {{ message: too big }}\n  hush: {{ message: hushed }}\nrequest_defaults: {{ tenant: t1, action: a }}\n",
            if c2 { "  c2: {}\n" } else { "" }
        );
        let settings = format!("kind: settings\nchannel:\n  max: {{ type: size, default: {limit}, min: 0 B, max: 1 GB }}\n");
        let rules = "kind: rules\nrules:\n  - id: too-big\n    deny: { all: [ message.attachments.total_size: { gt: $channel.max } ] }\n    code: big\n  - id: hush\n    deny: { all: [ message.text: quiet ] }\n    code: hush\n";
        let mut files = vec![
            SourceFile { path: "catalog.yaml".into(), text: catalog },
            SourceFile { path: "settings.yaml".into(), text: settings },
            SourceFile { path: "rules.yaml".into(), text: rules.into() },
            SourceFile { path: "tenants/t1.yaml".into(), text: "kind: tenant\ntenant: t1\n".into() },
        ];
        if extra_tenant {
            files.push(SourceFile { path: "tenants/t2.yaml".into(), text: "kind: tenant\ntenant: t2\n".into() });
        }
        match Engine::from_sources(&files) {
            Ok(e) => e,
            Err(e) => panic!("{e}: {:#?}", e.diagnostics),
        }
    }

    fn rec(tenant: Option<&str>, channel: &str, size: u64, text: &str) -> Arc<Recorded> {
        let mut v = serde_json::json!({
            "sender": {"role": "r"}, "client": {"status": "s"}, "channel": channel,
            "message": {"text": text, "attachments": [{"name": "x.pdf", "size": size}]}
        });
        if let Some(t) = tenant {
            v["tenant"] = serde_json::json!(t);
        }
        Arc::new(Recorded {
            request: crate::request::decode(&v).unwrap_or_else(|e| panic!("{e:?}")),
            now: 1_700_000_000_000,
            answered: None,
        })
    }

    #[test]
    fn the_same_rules_change_nothing() {
        let rs = rules("10 MB", true, true);
        let recent = [rec(None, "c1", 5, "hi"), rec(Some("t2"), "c2", 50_000_000, "quiet")];
        let i = compare(&rs, &rs, &recent);
        assert_eq!((i.replayed, i.changed), (2, 0));
        assert!(i.by_tenant_channel.is_empty() && i.samples.is_empty());
    }

    #[test]
    fn a_tighter_limit_denies_by_tenant_and_channel() {
        let before = rules("10 MB", true, true);
        let after = rules("1 MB", true, true);
        let recent = [
            rec(None, "c1", 5_000_000, "hi"),          // t1/c1: allow → deny
            rec(Some("t1"), "c1", 6_000_000, "hi"),    // t1/c1: allow → deny
            rec(Some("t2"), "c1", 500, "hi"),          // t2/c1: under both
            rec(Some("t2"), "c2", 5_000_000, "hi"),    // t2/c2: allow → deny
            rec(Some("t2"), "c2", 5_000_000, "quiet"), // denied (hush), then hush + big
            rec(Some("t2"), "c2", 50_000_000, "hi"),   // denied by both, same codes
        ];
        let i = compare(&before, &after, &recent);
        assert_eq!(i.replayed, 6);
        assert_eq!(i.changes, Changes { allow_to_deny: 3, codes_changed: 1, ..Changes::default() });
        assert_eq!(i.changed, 4);
        let groups: Vec<_> = i.by_tenant_channel.iter().map(|g| (&*g.tenant, &*g.channel, g.replayed, g.changes.allow_to_deny)).collect();
        assert_eq!(groups, [("t1", "c1", 2, 2), ("t2", "c2", 3, 1)], "two changes each, so by name; t2/c1 did not change");
        assert_eq!(i.by_tenant_channel.get(1).map(|g| (g.changed, g.changes.codes_changed)), Some((2, 1)));
        let first = i.samples.first().unwrap_or_else(|| panic!("samples: {i:?}"));
        assert_eq!(first.change, Change::AllowToDeny);
        let (SideAnswer::Decision(b), SideAnswer::Decision(a)) = (&first.before, &first.after) else { panic!("{first:?}") };
        assert!(b["allowed"] == true && a["allowed"] == false);
        assert_eq!(a["violations"].as_array().into_iter().flatten().map(|v| v["code"].as_str().unwrap_or("")).collect::<Vec<_>>(), ["big"]);
        assert_eq!((b["revision"].as_str(), a["revision"].as_str()), (Some(before.revision()), Some(after.revision())));
        assert_eq!(first.request["channel"], "c2", "newest first");
        assert_eq!(i.samples.iter().filter(|s| s.change == Change::AllowToDeny).count(), SAMPLES_PER_CHANGE);
        assert!(i.samples.iter().any(|s| s.change == Change::CodesChanged));
        assert!(i.without_samples().samples.is_empty());
        let shown = serde_json::to_value(&i).unwrap_or_default();
        assert_eq!(shown["allow_to_deny"], 3, "{shown}");
        assert_eq!(shown["by_tenant_channel"][1]["codes_changed"], 1, "{shown}");
        assert_eq!(shown["samples"][0]["request"]["client"], serde_json::json!({"status": "s"}), "no nulls: {shown}");
        assert!(shown.get("groups_omitted").is_none());
    }

    #[test]
    fn a_looser_limit_allows() {
        let i = compare(&rules("1 MB", false, true), &rules("10 MB", false, true), &[rec(None, "c1", 5_000_000, "hi")]);
        assert_eq!(i.changes, Changes { deny_to_allow: 1, ..Changes::default() });
    }

    #[test]
    fn a_tenant_or_channel_gone_makes_requests_invalid() {
        let before = rules("10 MB", true, true);
        let after = rules("10 MB", false, false);
        let recent = [rec(Some("t2"), "c1", 1, "hi"), rec(None, "c2", 1, "hi"), rec(None, "c1", 1, "hi")];
        let i = compare(&before, &after, &recent);
        assert_eq!(i.changes, Changes { now_invalid: 2, ..Changes::default() });
        let s = i.samples.iter().find(|s| s.tenant == "t2").unwrap_or_else(|| panic!("{i:?}"));
        let SideAnswer::Invalid { errors } = &s.after else { panic!("{s:?}") };
        assert_eq!(errors.first().map(|e| &*e.pointer), Some("/tenant"));
        let back = compare(&after, &before, &recent);
        assert_eq!(back.changes, Changes { now_valid: 2, ..Changes::default() });
    }

    #[test]
    fn groups_are_bounded_most_changes_first() {
        let before = rules("10 MB", false, true);
        let after = rules("1 MB", false, true);
        let recent = [rec(None, "c1", 5_000_000, "hi"), rec(None, "c2", 5_000_000, "hi"), rec(None, "c2", 5_000_000, "hi")];
        let i = compare_listing(&before, &after, &recent, 1);
        assert_eq!(i.by_tenant_channel.iter().map(|g| &*g.channel).collect::<Vec<_>>(), ["c2"]);
        assert_eq!(i.groups_omitted, 1);
        assert_eq!(i.changes.allow_to_deny, 3, "the totals count every group");
        assert_eq!(serde_json::to_value(&i).unwrap_or_default()["groups_omitted"], 1);
    }
}
