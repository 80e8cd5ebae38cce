//! `/metrics`: what an operator graphs and alerts on, in the Prometheus
//! text format.
//!
//! The rule-set families (`cansend_rules_info{revision}`,
//! `cansend_rule_load_errors_total`) are read from the [`Live`] rule set at
//! each scrape, so they follow reloads without anyone updating them.
//!
//! Label values are bounded: the route is the matched route template
//! (`/v1/tenants/{tenant}`, never the raw path) or `unmatched`, the method
//! one of the standard ones or `other`, so no caller can blow up the
//! number of series.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::reload::Live;

pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    method: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RevisionLabels {
    revision: String,
}

/// Reads the rule-set families from the live rules at each scrape.
struct RulesCollector(Arc<Live>);

impl std::fmt::Debug for RulesCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RulesCollector")
    }
}

impl Collector for RulesCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let info = ConstGauge::new(1i64);
        let labels = RevisionLabels { revision: self.0.current().rules.revision.to_string() };
        let mut family =
            encoder.encode_descriptor("rules_info", "The rule-set revision being served (value 1)", None, info.metric_type())?;
        info.encode(family.encode_family(&labels)?)?;
        let errors = ConstCounter::new(self.0.counters.rejected.load(Ordering::Relaxed));
        let m = encoder.encode_descriptor(
            "rule_load_errors",
            "Rule-set loads that failed (the previous revision kept serving)",
            None,
            errors.metric_type(),
        )?;
        errors.encode(m)?;

        let mut m = encoder.encode_descriptor(
            "rule_reloads",
            "Rule-set reloads (watcher, poll, SIGHUP, API), by outcome",
            None,
            prometheus_client::metrics::MetricType::Counter,
        )?;
        let c = &self.0.counters;
        for (outcome, n) in [("applied", &c.applied), ("rejected", &c.rejected), ("unchanged", &c.unchanged)] {
            ConstCounter::new(n.load(Ordering::Relaxed)).encode(m.encode_family(&OutcomeLabels { outcome })?)?;
        }

        let degraded = ConstGauge::new(i64::from(self.0.last_error().is_some()));
        let m = encoder.encode_descriptor(
            "rules_degraded",
            "1 when the newest rule files failed to load and an older revision serves",
            None,
            degraded.metric_type(),
        )?;
        degraded.encode(m)?;

        let loaded = ConstGauge::new(self.0.current().loaded_at.timestamp());
        let m = encoder.encode_descriptor(
            "rules_loaded_timestamp_seconds",
            "When the revision being served was loaded (Unix time)",
            None,
            loaded.metric_type(),
        )?;
        loaded.encode(m)?;

        let recent = self.0.recent();
        let capacity = ConstGauge::new(i64::try_from(recent.capacity()).unwrap_or(i64::MAX));
        let m = encoder.encode_descriptor(
            "replay_capacity",
            "Decided requests kept for replay when the rules change (0: none)",
            None,
            capacity.metric_type(),
        )?;
        capacity.encode(m)?;
        let offered = ConstCounter::new(recent.offered());
        let m = encoder.encode_descriptor("replay_recorded", "Decided requests offered to the replay ring", None, offered.metric_type())?;
        offered.encode(m)?;
        let skipped = ConstCounter::new(recent.skipped());
        let m = encoder.encode_descriptor(
            "replay_skipped",
            "Decided requests not kept for replay because their slot was busy",
            None,
            skipped.metric_type(),
        )?;
        skipped.encode(m)
    }
}

fn latency_histogram() -> Histogram {
    // 100 µs … ~1.6 s
    Histogram::new(exponential_buckets(0.0001, 4.0, 8))
}

/// The service's metric families, registered once.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    decisions: Family<DecisionLabels, Counter>,
}

impl Metrics {
    /// The service's metrics; the rule-set families are read from `live`.
    pub fn new(live: Arc<Live>) -> Self {
        let mut registry = Registry::with_prefix("cansend");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by route template, method and status", requests.clone());
        registry.register("http_request_duration_seconds", "Time to answer an HTTP request, by route template", latency.clone());
        registry.register("decisions", "can-send decisions (single and batch items), by result", decisions.clone());
        registry.register_collector(Box::new(RulesCollector(live)));
        Self { registry, requests, latency, decisions }
    }

    /// Count one answered request.
    /// (`route` is a template from [`super::routes`]: label values stay bounded.)
    pub fn request(&self, route: &'static str, method: &'static str, status: u16, elapsed: Duration) {
        let labels = RequestLabels { route, method, status };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&RouteLabels { route }).observe(elapsed.as_secs_f64());
    }

    /// Count one decision.
    pub fn decision(&self, allowed: bool) {
        let result = if allowed { "allowed" } else { "denied" };
        self.decisions.get_or_create(&DecisionLabels { result }).inc();
    }

    /// The exposition, in the Prometheus text format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reload::RuleSource;

    #[test]
    fn renders_every_family() {
        let live = match Live::load(RuleSource::Builtin) {
            Ok(l) => Arc::new(l),
            Err(e) => panic!("{e}"),
        };
        let m = Metrics::new(live.clone());
        m.request("/v1/can-send", "POST", 200, Duration::from_millis(2));
        m.decision(true);
        m.decision(false);
        m.decision(false);
        let text = m.render();
        assert!(text.contains(r#"cansend_http_requests_total{route="/v1/can-send",method="POST",status="200"} 1"#), "{text}");
        assert!(text.contains(r#"cansend_decisions_total{result="denied"} 2"#), "{text}");
        let revision = live.current().rules.revision.to_string();
        assert!(text.contains(&format!(r#"cansend_rules_info{{revision="{revision}"}} 1"#)), "{text}");
        assert!(text.contains("cansend_rule_load_errors_total 0"), "{text}");
        assert!(text.contains("cansend_http_request_duration_seconds_bucket"), "{text}");
        live.counters.rejected.fetch_add(1, Ordering::Relaxed);
        let text = m.render();
        assert!(text.contains("cansend_rule_load_errors_total 1"), "{text}");
        assert!(text.contains(r#"cansend_rule_reloads_total{outcome="rejected"} 1"#), "{text}");
        assert!(text.contains(r#"cansend_rule_reloads_total{outcome="applied"} 0"#), "{text}");
        assert!(text.contains("cansend_rules_degraded 0"), "{text}");
        assert!(text.contains("cansend_rules_loaded_timestamp_seconds "), "{text}");
        assert!(text.contains("cansend_replay_capacity 1000"), "{text}");
        assert!(text.contains("cansend_replay_recorded_total 0"), "{text}");
        assert!(text.contains("cansend_replay_skipped_total 0"), "{text}");
    }
}
