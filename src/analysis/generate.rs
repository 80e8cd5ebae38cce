//! Requests generated from two rule sets' conditions, for one tenant and
//! one channel at a time.
//!
//! A base request — an existing client who wrote from the channel, every
//! identifier given, a short text, decided at [`BASE_AT`] — is varied one
//! dimension at a time, or two where they meet in the rules: every client
//! status, role and action; each boolean both ways; each identifier left
//! out and blank; each string field at every literal the conditions
//! compare it with and at another value; each set with and without every
//! member named; each number at, just below and just above every
//! threshold — the conditions' constants and the tenant's settings on
//! this channel in both sets (file sizes crossed with the extensions the
//! conditions name); instants at every `within` bound, every `local_time`
//! boundary in the tenant's zones and every override expiry; and the
//! shapes of a message (text, blank, template with header and footer,
//! attachments alone, several). The number of requests grows with the
//! thresholds, not with their product.

use std::collections::BTreeSet;

use serde_json::{Value as Json, json};

use crate::engine::model::RuleSet;
use crate::engine::value::{Ty, Value};
use crate::request::{AttachmentIn, CanSendRequest, Client, MAX_LIST_ITEMS, MAX_TEXT_BYTES, Message, Sender, TemplateIn, Thread};

use super::facts::{Facts, Zone, expiries, values};

/// The instant every generated request is decided at unless it varies
/// it: 2026-06-15T12:00:00Z.
pub(super) const BASE_AT: i64 = 1_781_524_800_000;

const HOUR: i64 = 3_600_000;

/// Most extensions crossed with each file size.
const MAX_EXTENSIONS: usize = 8;

/// A change kept to combine with others.
type Fact<'a> = Box<dyn Fn(&mut CanSendRequest) + 'a>;

/// The requests of a group: the base, and the base with each change.
struct Out<'b> {
    base: &'b CanSendRequest,
    list: Vec<CanSendRequest>,
}

impl Out<'_> {
    fn vary(&mut self, change: impl Fn(&mut CanSendRequest)) {
        let mut r = self.base.clone();
        change(&mut r);
        self.list.push(r);
    }
}

/// What the generator knows of both sets.
pub(super) struct Generator<'a> {
    pub sets: [&'a RuleSet; 2],
    pub facts: Facts,
}

fn instant(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).unwrap_or_default()
}

fn attachment(name: &str, size: i64) -> AttachmentIn {
    AttachmentIn { name: name.to_owned(), size: size.max(0) as u64 }
}

/// `v - 1`, `v`, `v + 1`, within `[lo, hi]`.
fn around(v: i64, lo: i64, hi: i64) -> impl Iterator<Item = i64> {
    [v.saturating_sub(1), v, v.saturating_add(1)].into_iter().filter(move |x| (lo..=hi).contains(x))
}

impl Generator<'_> {
    /// Names of a domain in either set, the first set's order first.
    fn names(&self, d: crate::engine::value::Domain) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for rs in self.sets {
            for n in &rs.names(d).names {
                if !out.iter().any(|o| **o == **n) {
                    out.push(n.to_string());
                }
            }
        }
        out
    }

    pub(super) fn tenants(&self) -> Vec<String> {
        let mut t = self.names(crate::engine::value::Domain::Tenant);
        t.sort();
        t
    }

    pub(super) fn channels(&self) -> Vec<String> {
        self.names(crate::engine::value::Domain::Channel)
    }

    /// The thresholds of number field `path` for `tenant` on `channel`.
    fn thresholds(&self, path: &str, tenant: &str, channel: &str) -> BTreeSet<i64> {
        let mut out: BTreeSet<i64> = self.facts.numbers.get(path).cloned().unwrap_or_default();
        for s in self.facts.settings.get(path).into_iter().flatten() {
            for rs in self.sets {
                out.extend(
                    values(rs, s, tenant, channel)
                        .iter()
                        .filter_map(|v| if let Value::Int(i) | Value::Time(i) = v { Some(*i) } else { None }),
                );
            }
        }
        out
    }

    /// Members of set settings compared with `path` for this tenant and channel.
    fn set_members(&self, path: &str, tenant: &str, channel: &str) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = self.facts.members.get(path).cloned().unwrap_or_default();
        out.extend(self.facts.strings.get(path).into_iter().flatten().cloned());
        for s in self.facts.settings.get(path).into_iter().flatten() {
            for rs in self.sets {
                for v in values(rs, s, tenant, channel) {
                    if let Value::Strs(l) = v {
                        out.extend(l.iter().map(|x| x.to_string()));
                    }
                }
            }
        }
        out
    }

    /// An extension allowed for this tenant and channel in both sets, if any.
    fn usual_extension(&self, tenant: &str, channel: &str) -> String {
        let mut per_set: Vec<BTreeSet<String>> = Vec::new();
        for s in self.facts.settings.get("attachment.extension").into_iter().flatten() {
            for rs in self.sets {
                for v in values(rs, s, tenant, channel) {
                    if let Value::Strs(l) = v {
                        per_set.push(l.iter().map(|x| x.to_string()).collect());
                    }
                }
            }
        }
        let common = per_set.iter().flatten().find(|e| per_set.iter().all(|s| s.contains(*e)));
        common.or_else(|| per_set.iter().flatten().next()).cloned().unwrap_or_else(|| "pdf".into())
    }

    fn base(&self, tenant: &str, channel: &str) -> CanSendRequest {
        let role = self.names(crate::engine::value::Domain::Role).into_iter().next().unwrap_or_default();
        let status = self.names(crate::engine::value::Domain::ClientStatus).into_iter().next().unwrap_or_default();
        let tag = self.set_members("thread.tags", tenant, channel).into_iter().next();
        CanSendRequest {
            tenant: Some(tenant.to_owned()),
            sender: Sender {
                role,
                id: Some("u-1".into()),
                status: self.facts.strings.get("sender.status").and_then(|s| s.iter().next()).cloned(),
                attributes: None,
            },
            action: None,
            at: Some(instant(BASE_AT)),
            client: Client {
                status,
                blocked: None,
                active_thread: None,
                channels: Some(vec![channel.to_owned()]),
                email: Some("client@example.com".into()),
                phone: Some("+10000000000".into()),
                external_id: Some("ext-1".into()),
                last_inbound_at: Some(instant(BASE_AT - HOUR)),
                attributes: None,
            },
            channel: channel.to_owned(),
            thread: tag.map(|t| Thread { tags: Some(vec![t]) }),
            message: Message { text: Some("Hello".into()), template: None, attachments: None },
        }
    }

    /// Every request of one tenant and channel.
    pub(super) fn group(&self, tenant: &str, channel: &str) -> Vec<CanSendRequest> {
        let base = self.base(tenant, channel);
        let mut out = Out { base: &base, list: vec![base.clone()] };
        self.who(tenant, channel, &mut out);
        self.message(tenant, channel, &mut out);
        self.time(tenant, channel, &mut out);
        self.attributes(&mut out);
        out.list
    }

    /// Who sends to whom: statuses, roles, actions, the client's facts.
    fn who(&self, tenant: &str, channel: &str, out: &mut Out<'_>) {
        use crate::engine::value::Domain;
        for s in self.names(Domain::ClientStatus) {
            out.vary(|r| r.client.status = s.clone());
            out.vary(|r| {
                r.client.status = s.clone();
                r.client.channels = Some(Vec::new());
            });
        }
        for role in self.names(Domain::Role) {
            for action in self.names(Domain::Action) {
                out.vary(|r| {
                    r.sender.role = role.clone();
                    r.action = Some(action.clone());
                });
            }
        }
        // The client's facts, one and two at a time.
        let facts: Vec<Fact<'_>> = vec![
            Box::new(|r| r.client.blocked = Some(true)),
            Box::new(|r| r.client.active_thread = Some(true)),
            Box::new(|r| r.client.channels = Some(Vec::new())),
            Box::new(|r| r.client.email = None),
            Box::new(|r| r.client.email = Some("  ".into())),
            Box::new(|r| r.client.phone = None),
            Box::new(|r| r.client.external_id = None),
            Box::new(|r| r.client.status = self.names(Domain::ClientStatus).last().cloned().unwrap_or_default()),
        ];
        for (i, a) in facts.iter().enumerate() {
            out.vary(|r| a(r));
            for b in facts.iter().skip(i + 1) {
                out.vary(|r| {
                    a(r);
                    b(r);
                });
            }
        }
        let all: Vec<String> = self.channels();
        out.vary(|r| r.client.channels = Some(all.clone()));
        for m in self.facts.members.get("client.channels").into_iter().flatten() {
            out.vary(|r| r.client.channels = Some(vec![m.clone()]));
            out.vary(|r| r.client.channels = Some(vec![channel.to_owned(), m.clone()]));
        }
        let strings = ["sender.id", "sender.status", "client.email", "client.phone", "client.external_id"];
        for path in strings {
            let set = |r: &mut CanSendRequest, v: Option<String>| match path {
                "sender.id" => r.sender.id = v,
                "sender.status" => r.sender.status = v,
                "client.email" => r.client.email = v,
                "client.phone" => r.client.phone = v,
                _ => r.client.external_id = v,
            };
            out.vary(|r| set(r, None));
            out.vary(|r| set(r, Some("other".into())));
            for lit in self.facts.strings.get(path).into_iter().flatten() {
                out.vary(|r| set(r, Some(lit.clone())));
            }
        }
        let tags = self.set_members("thread.tags", tenant, channel);
        out.vary(|r| r.thread = None);
        out.vary(|r| r.thread = Some(Thread { tags: Some(vec!["other-tag".into()]) }));
        for t in &tags {
            out.vary(|r| r.thread = Some(Thread { tags: Some(vec![t.clone()]) }));
        }
    }

    /// Message shapes, texts, templates and attachments.
    fn message(&self, tenant: &str, channel: &str, out: &mut Out<'_>) {
        let ext = self.usual_extension(tenant, channel);
        let file = |size: i64| attachment(&format!("file.{ext}"), size);
        let template = |name: &str, parts: bool| TemplateIn {
            name: name.to_owned(),
            header: parts.then(|| "Header".to_owned()),
            footer: parts.then(|| "Footer".to_owned()),
        };
        out.vary(|r| r.message.text = None);
        out.vary(|r| r.message.text = Some(" ".into()));
        out.vary(|r| r.message.text = Some(String::new()));
        let names: BTreeSet<String> = self.facts.strings.get("message.template.name").cloned().unwrap_or_else(|| ["t".into()].into());
        for name in &names {
            for parts in [false, true] {
                out.vary(|r| {
                    r.message.text = None;
                    r.message.template = Some(template(name, parts));
                });
            }
            out.vary(|r| r.message.template = Some(template(name, false)));
        }
        for lit in self.facts.strings.get("message.text").into_iter().flatten() {
            out.vary(|r| r.message.text = Some(lit.clone()));
        }
        out.vary(|r| r.message.attachments = Some(vec![file(1)]));
        out.vary(|r| {
            r.message.text = None;
            r.message.attachments = Some(vec![file(1)]);
        });
        out.vary(|r| r.message.attachments = Some(vec![file(1), file(1)]));
        for n in self.thresholds("message.text.length", tenant, channel) {
            for len in around(n, 0, MAX_TEXT_BYTES as i64) {
                out.vary(|r| r.message.text = Some("x".repeat(len as usize)));
            }
        }
        for n in self.thresholds("message.attachments.count", tenant, channel) {
            for count in around(n, 0, MAX_LIST_ITEMS as i64) {
                out.vary(|r| r.message.attachments = Some((0..count).map(|_| file(1)).collect()));
            }
        }
        // File sizes crossed with the extensions the conditions name.
        let mut exts: Vec<String> = vec![ext.clone()];
        exts.extend(
            self.facts.strings.get("attachment.extension").into_iter().flatten().filter(|e| **e != ext).take(MAX_EXTENSIONS).cloned(),
        );
        for n in self.thresholds("attachment.size", tenant, channel) {
            for size in around(n, 0, i64::MAX) {
                for e in &exts {
                    out.vary(|r| r.message.attachments = Some(vec![attachment(&format!("file.{e}"), size)]));
                }
            }
        }
        for n in self.thresholds("message.attachments.total_size", tenant, channel) {
            for total in around(n, 0, i64::MAX) {
                out.vary(|r| r.message.attachments = Some(vec![file(total)]));
                out.vary(|r| r.message.attachments = Some(vec![file(total / 2), file(total - total / 2)]));
            }
        }
        let mut names: BTreeSet<String> =
            self.set_members("attachment.extension", tenant, channel).into_iter().map(|e| format!("file.{e}")).collect();
        names.extend(["file.zzz".to_owned(), "README".into(), format!("FILE.{}", ext.to_uppercase())]);
        names.extend(self.facts.strings.get("attachment.name").into_iter().flatten().cloned());
        for name in names {
            out.vary(|r| r.message.attachments = Some(vec![attachment(&name, 1)]));
        }
    }

    /// Instants: `at`, the last inbound message, expiries and windows.
    fn time(&self, tenant: &str, channel: &str, out: &mut Out<'_>) {
        let at = |r: &mut CanSendRequest, t: i64| {
            r.at = Some(instant(t));
            r.client.last_inbound_at = Some(instant(t - HOUR));
        };
        out.vary(|r| r.client.last_inbound_at = None);
        let mut bounds: BTreeSet<i64> = self.facts.durations.get("client.last_inbound_at").cloned().unwrap_or_default();
        for s in self.facts.duration_settings.get("client.last_inbound_at").into_iter().flatten() {
            for rs in self.sets {
                bounds.extend(values(rs, s, tenant, channel).iter().filter_map(|v| if let Value::Int(i) = v { Some(*i) } else { None }));
            }
        }
        for d in bounds {
            for back in [d - 1, d, d + 1] {
                out.vary(|r| r.client.last_inbound_at = Some(instant(BASE_AT - back)));
            }
        }
        for path in ["at", "client.last_inbound_at"] {
            for t in self.thresholds(path, tenant, channel) {
                for v in around(t, i64::MIN, i64::MAX) {
                    out.vary(|r| if path == "at" { at(r, v) } else { r.client.last_inbound_at = Some(instant(v)) });
                }
            }
        }
        for rs in self.sets {
            for until in expiries(rs, tenant) {
                for v in [until - 1, until] {
                    out.vary(|r| at(r, v));
                }
            }
        }
        for (from, to, zone) in &self.facts.windows {
            let zones: BTreeSet<String> = match zone {
                Zone::Named(z) => [z.clone()].into(),
                Zone::Setting(s) => self
                    .sets
                    .iter()
                    .flat_map(|rs| values(rs, s, tenant, channel))
                    .filter_map(|v| if let Value::Tz(z) = v { Some(z.name().to_owned()) } else { None })
                    .collect(),
            };
            for z in zones.iter().filter_map(|z| z.parse::<chrono_tz::Tz>().ok()) {
                for minute in [*from, from + 1439, *to, to + 1439] {
                    if let Some(t) = local(z, minute % 1440) {
                        out.vary(|r| at(r, t));
                    }
                }
            }
        }
    }

    /// Custom attributes: absent (the base), and each value that matters.
    fn attributes(&self, out: &mut Out<'_>) {
        for (who, attrs) in [("client", self.sets.map(|s| &s.client_attrs)), ("sender", self.sets.map(|s| &s.sender_attrs))] {
            let mut seen = BTreeSet::new();
            for a in attrs.iter().flat_map(|l| l.iter()) {
                if !seen.insert(a.name.to_string()) {
                    continue;
                }
                let path = format!("{who}.attributes.{}", a.name);
                let mut vals: Vec<Json> = Vec::new();
                match a.ty {
                    Ty::Bool => vals.extend([json!(true), json!(false)]),
                    Ty::Int | Ty::Size => {
                        vals.push(json!(0));
                        for n in self.facts.numbers.get(&path).into_iter().flatten() {
                            vals.extend(around(*n, if a.ty == Ty::Size { 0 } else { i64::MIN }, i64::MAX).map(|v| json!(v)));
                        }
                    }
                    Ty::Time => {
                        vals.push(json!(instant(BASE_AT - HOUR)));
                        for n in self.facts.numbers.get(&path).into_iter().flatten() {
                            vals.extend(around(*n, i64::MIN, i64::MAX).map(|v| json!(instant(v))));
                        }
                        for d in self.facts.durations.get(&path).into_iter().flatten() {
                            vals.extend([json!(instant(BASE_AT - d)), json!(instant(BASE_AT - d - 1))]);
                        }
                    }
                    Ty::Str => {
                        vals.push(json!("other"));
                        vals.extend(self.facts.strings.get(&path).into_iter().flatten().map(|s| json!(s)));
                    }
                    Ty::StrSet => {
                        vals.push(json!([]));
                        vals.extend(self.facts.members.get(&path).into_iter().flatten().map(|s| json!([s])));
                    }
                    _ => {}
                }
                for v in vals {
                    let name = a.name.to_string();
                    out.vary(|r| {
                        let map = if who == "client" { &mut r.client.attributes } else { &mut r.sender.attributes };
                        map.get_or_insert_with(Default::default).insert(name.clone(), v.clone());
                    });
                }
            }
        }
    }
}

/// The instant of `minute` after local midnight of the base day in `zone`.
fn local(zone: chrono_tz::Tz, minute: u32) -> Option<i64> {
    use chrono::TimeZone;
    let day = chrono::DateTime::from_timestamp_millis(BASE_AT)?.date_naive();
    let time = chrono::NaiveTime::from_hms_opt(minute / 60, minute % 60, 0)?;
    zone.from_local_datetime(&day.and_time(time)).earliest().map(|t| t.timestamp_millis())
}
