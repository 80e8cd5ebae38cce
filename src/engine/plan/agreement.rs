//! Plans (the rules compiled at load, see the parent module) decide exactly what
//! the reference interpreter decides: on generated requests over the
//! shipped rules, the next-rules example and a rule set with every
//! operator, the channel's plan gives the interpreter's violations, and
//! the written plan (explanations) its violations and its very trace, for
//! every scope the engine has.

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::engine::eval::evaluate_scoped;
    use crate::engine::model::RuleSet;
    use crate::engine::{Scope, evaluate_as_written};
    use serde_json::{Value, json};

    /// 2026-11-24T12:00:00Z
    const NOW: i64 = 1_795_521_600_000;

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read rules dir").flatten() {
            let target = to.join(entry.file_name());
            if entry.path().is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).expect("copy");
            }
        }
    }

    /// A small deterministic generator (xorshift64*).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
        fn chance(&mut self, percent: u64) -> bool {
            self.next() % 100 < percent
        }
        fn pick<'a>(&mut self, items: &'a [Box<str>]) -> &'a str {
            items.get(self.below(items.len())).map(|s| &**s).unwrap_or("")
        }
    }

    /// An optional string: absent, null, blank or a value.
    fn maybe(r: &mut Rng, value: &str) -> Option<Value> {
        match r.below(5) {
            0 => None,
            1 => Some(Value::Null),
            2 => Some(json!("  ")),
            _ => Some(json!(value)),
        }
    }

    fn instant(ms: i64) -> String {
        chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339()).unwrap_or_default()
    }

    /// A request using the names `rs` declares, in every combination the
    /// rules look at (blank and absent values, sizes around the limits, times
    /// around the day and the 24-hour window).
    fn request(rs: &RuleSet, r: &mut Rng) -> Value {
        const NAMES: [&str; 9] = ["a.pdf", "SCAN.PDF", "a.pdf.exe", "README", "photo.JPG", "x.png", "t.xlsx", "v.mp4", ".bashrc"];
        const SIZES: [u64; 8] = [0, 1_000, 5_000_000, 5_000_001, 25_000_000, 30_000_000, 30_000_001, 60_000_000];
        let at = NOW + r.below(48) as i64 * 1_800_000;
        let mut client = serde_json::Map::new();
        client.insert("status".into(), json!(r.pick(&rs.client_statuses.names)));
        for (key, p) in [("blocked", 20), ("active_thread", 30)] {
            if r.chance(p) {
                client.insert(key.into(), json!(r.chance(70)));
            }
        }
        let channels: Vec<&str> = rs.channels.names.iter().filter(|_| r.chance(35)).map(|s| &**s).chain(["retired"]).collect();
        client.insert("channels".into(), json!(channels));
        for (key, value) in [("email", "anna@example.com"), ("phone", "+79990001122"), ("external_id", "ext-1")] {
            if let Some(v) = maybe(r, value) {
                client.insert(key.into(), v);
            }
        }
        if r.chance(70) {
            client.insert("last_inbound_at".into(), json!(instant(at - r.below(60) as i64 * 3_600_000)));
        }
        let mut attrs = serde_json::Map::new();
        for a in &rs.client_attrs {
            if r.chance(60) {
                attrs.insert(a.name.to_string(), if a.ty.to_string() == "bool" { json!(r.chance(50)) } else { json!("marketing") });
            }
        }
        client.insert("attributes".into(), Value::Object(attrs));
        let mut sender_attrs = serde_json::Map::new();
        for a in &rs.sender_attrs {
            if r.chance(60) {
                let v = if a.ty.to_string() == "bool" { json!(r.chance(50)) } else { json!(["marketing", "service"][r.below(2)]) };
                sender_attrs.insert(a.name.to_string(), v);
            }
        }
        let mut message = serde_json::Map::new();
        match r.below(6) {
            0 => {}
            1 => {
                message.insert("text".into(), json!(" \t"));
            }
            2 => {
                message.insert("text".into(), json!("x".repeat(4096 + r.below(2))));
            }
            _ => {
                message.insert("text".into(), json!("Hello"));
            }
        }
        if r.chance(25) {
            message.insert("template".into(), json!({"name": "order_ready", "header": "Hi"}));
        }
        let n = [0, 0, 1, 1, 2, 5][r.below(6)];
        let atts: Vec<Value> = (0..n).map(|_| json!({"name": NAMES[r.below(NAMES.len())], "size": SIZES[r.below(SIZES.len())]})).collect();
        message.insert("attachments".into(), json!(atts));
        let tags: Vec<&str> = ["sales", "support", "billing", "vip"].into_iter().filter(|_| r.chance(30)).collect();
        let status = ["READY", "OUTGOING", "BREAK"][r.below(3)];
        json!({
            "tenant": r.pick(&rs.tenants.names),
            "sender": {"role": r.pick(&rs.roles.names), "status": status, "attributes": sender_attrs},
            "action": r.pick(&rs.actions.names),
            "at": instant(at),
            "client": client,
            "channel": r.pick(&rs.channels.names),
            "thread": {"tags": tags},
            "message": message,
        })
    }

    /// Agreement on `n` generated requests; how many were allowed, denied,
    /// and how often each rule fired.
    fn plans_agree(rs: &RuleSet, n: usize) -> (usize, usize, Vec<usize>) {
        assert!(rs.plans.steps() > 0, "the rule set has plans");
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut allowed, mut denied) = (0, 0);
        let mut fired = vec![0usize; rs.rules.len()];
        for i in 0..n {
            let body = request(rs, &mut r);
            let input = match crate::request::parse(rs, &body, NOW) {
                Ok(input) => input,
                Err(e) => panic!("request {i} does not bind: {e:?}\n{body}"),
            };
            for scope in [Scope::All, Scope::Recipient, Scope::MessageShape] {
                let plan = evaluate_scoped(rs, &input, scope, false);
                let reference = evaluate_as_written(rs, &input, scope, false);
                assert_eq!(plan.violations, reference.violations, "request {i}, {scope:?}: the plan and the rules disagree\n{body}");
                assert_eq!(plan.allowed, reference.allowed);
                // Explanations run the written plan: the same violations, and the
                // same trace as the interpreter records.
                let explained = evaluate_scoped(rs, &input, scope, true);
                let interpreted = evaluate_as_written(rs, &input, scope, true);
                assert_eq!(explained.violations, reference.violations, "request {i}, {scope:?}: explained\n{body}");
                assert_eq!(explained.trace, interpreted.trace, "request {i}, {scope:?}: the traces differ\n{body}");
                if scope == Scope::All {
                    let mut rules: Vec<u32> = plan.violations.iter().map(|h| h.rule).collect();
                    rules.dedup();
                    for r in rules {
                        if let Some(f) = fired.get_mut(r as usize) {
                            *f += 1;
                        }
                    }
                    if plan.allowed {
                        allowed += 1;
                    } else {
                        denied += 1;
                    }
                }
            }
        }
        (allowed, denied, fired)
    }

    /// The corpus exercises both sides, or agreement would mean little.
    fn both_sides(n: usize, (allowed, denied, _): (usize, usize, Vec<usize>)) {
        assert!(allowed > n / 100 && denied > n / 2, "{allowed} allowed, {denied} denied");
    }

    #[test]
    fn plans_decide_as_the_shipped_rules() {
        let rs = crate::Engine::from_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules").as_path()).expect("rules").rule_set().clone();
        both_sides(20_000, plans_agree(&rs, 20_000));
    }

    #[test]
    fn plans_decide_as_the_next_rules() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/next-rules");
        let rs = crate::Engine::from_dir(&dir).expect("next rules").rule_set().clone();
        both_sides(20_000, plans_agree(&rs, 20_000));
    }

    #[test]
    fn plans_decide_as_rules_with_every_operator() {
        // The next rules, plus tests/data/plan-coverage: every operator on
        // every kind of field (absent attributes, times on both sides, tenant
        // names, sets of settings), and exceptions that fold on some channels.
        let dir = tempfile::tempdir().expect("temp dir");
        let next = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/next-rules");
        copy_dir(&next, dir.path());
        // Their tests expect the next rules alone.
        std::fs::remove_dir_all(dir.path().join("tests")).expect("remove tests");
        let coverage = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/plan-coverage/coverage.yaml");
        std::fs::copy(coverage, dir.path().join("coverage.yaml")).expect("copy coverage.yaml");
        let rs = match crate::Engine::from_dir(dir.path()).map(|e| e.rule_set().clone()) {
            Ok(rs) => rs,
            Err(e) => panic!("{}", e.diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")),
        };
        assert!(rs.rules.iter().filter(|r| r.id.starts_with("cov-")).count() >= 15);
        let (_, _, fired) = plans_agree(&rs, 20_000);
        // Each rule both fires and does not, on some requests: its every node
        // was decided both ways somewhere.
        for (rule, n) in rs.rules.iter().zip(&fired) {
            if rule.id.starts_with("cov-") {
                assert!(*n > 0 && *n < 20_000, "{} fired on {n} of 20000 requests", rule.id);
            }
        }
    }

    #[test]
    fn plans_drop_what_cannot_fire() {
        let rs = crate::Engine::builtin().expect("builtin").rule_set().clone();
        let on = |channel: &str| -> Vec<(String, usize)> {
            let c = rs.channels.get(channel).expect("a shipped channel");
            rs.plans.rules_on(c).into_iter().map(|(r, x)| (rs.rules[r as usize].id.to_string(), x)).collect()
        };
        let ids = |channel: &str| -> Vec<String> { on(channel).into_iter().map(|(id, _)| id).collect() };
        // WhatsApp takes templates and new clients with a phone: the rules
        // about templates elsewhere, about new clients on other channels and
        // about emails and external ids cannot fire there.
        let whatsapp = ids("whatsapp");
        for gone in ["template-channel", "new-client-channel", "new-client-email", "new-client-external-id"] {
            assert!(!whatsapp.contains(&gone.to_owned()), "{gone} on whatsapp: {whatsapp:?}");
        }
        for kept in ["client-not-blocked", "new-client-phone", "attachment-size", "action-allowed-for-role"] {
            assert!(whatsapp.contains(&kept.to_owned()), "{kept} missing on whatsapp: {whatsapp:?}");
        }
        // Telegram takes neither templates nor new clients.
        let telegram = ids("telegram");
        assert!(telegram.contains(&"template-channel".to_owned()) && telegram.contains(&"new-client-channel".to_owned()), "{telegram:?}");
        // The email exception can only apply on email: elsewhere the rules it
        // overrides carry no exception at all.
        let exceptions = |channel: &str, rule: &str| on(channel).into_iter().find(|(id, _)| id == rule).map(|(_, x)| x);
        assert_eq!(exceptions("email", "no-active-thread"), Some(1));
        assert_eq!(exceptions("whatsapp", "no-active-thread"), Some(0));
        assert_eq!(exceptions("vk", "existing-client-channel-used"), Some(0));
    }
}
