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
//!
//! Counting costs every request a few atomic additions and no lock: the
//! series of the common statuses are looked up once and kept (a
//! `prometheus-client` family takes a read lock and hashes the labels on
//! every lookup), and request latency goes into [`LatencyHistogram`],
//! whose buckets are atomics (the crate's `Histogram` takes a mutex per
//! observation, which every worker thread contends for).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::reload::Live;
use crate::service::admission::Reason;
use crate::service::decision_log::DecisionLog;

mod fleet;

pub use fleet::{COMMIT, VERSION};
pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Upper bounds of the latency buckets, in seconds: 100 µs × 4ⁿ, up to
/// about 1.6 s (then `+Inf`).
const LATENCY_BOUNDS: [f64; 8] = [0.0001, 0.0004, 0.0016, 0.0064, 0.0256, 0.1024, 0.4096, 1.6384];

/// A histogram of durations whose observation is two relaxed atomic
/// additions: the bucket's count and the sum (kept in nanoseconds: integer,
/// exact, 584 years before it wraps). The total count is the buckets' sum,
/// so `_count` always equals the `+Inf` bucket, even in a scrape that races
/// an observation.
#[derive(Debug, Clone, Default)]
pub struct LatencyHistogram(Arc<LatencyInner>);

#[derive(Debug, Default)]
struct LatencyInner {
    /// Per bucket (not cumulative), the last one `+Inf`.
    buckets: [AtomicU64; LATENCY_BOUNDS.len() + 1],
    sum_nanos: AtomicU64,
}

impl LatencyHistogram {
    /// Count one duration.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = LATENCY_BOUNDS.iter().position(|b| secs <= *b).unwrap_or(LATENCY_BOUNDS.len());
        if let Some(b) = self.0.buckets.get(i) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        self.0.sum_nanos.fetch_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

impl prometheus_client::metrics::TypedMetric for LatencyHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for LatencyHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let bounds = LATENCY_BOUNDS.iter().copied().chain([f64::INFINITY]);
        let buckets: Vec<(f64, u64)> = bounds.zip(self.0.buckets.iter().map(|b| b.load(Ordering::Relaxed))).collect();
        let count = buckets.iter().map(|(_, n)| n).sum();
        let sum = self.0.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

/// The statuses whose request counters are kept at hand (others are looked
/// up in the family each time).
const COMMON_STATUSES: [u16; 16] = [200, 202, 204, 400, 401, 403, 404, 405, 408, 409, 413, 415, 422, 429, 500, 503];

/// The methods of [`super::layers`]' method label, in order.
pub const METHODS: [&str; 8] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "other"];

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
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
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
        let labels = RevisionLabels { revision: self.0.current().engine.revision().to_owned() };
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

/// The service's metric families, registered once.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    /// Request counters by (route, method, common status), filled on first use.
    request_counters: Box<[OnceLock<Counter>]>,
    /// One per route of [`super::routes::ALL`], then `unmatched`.
    latency: Box<[LatencyHistogram]>,
    allowed: Counter,
    denied: Counter,
    /// Requests refused by admission, one per [`Reason::ALL`].
    refused: Box<[Counter]>,
}

impl Metrics {
    /// The service's metrics; the rule-set families are read from `live`,
    /// the decision log's from `decision_log`.
    pub fn new(live: Arc<Live>, decision_log: Option<Arc<DecisionLog>>) -> Self {
        let mut root = Registry::default();
        root.register_collector(Box::new(fleet::ProcessCollector));
        let registry = root.sub_registry_with_prefix("cansend");
        registry.register_collector(Box::new(fleet::FleetCollector { live: live.clone(), decision_log }));
        let requests = Family::<RequestLabels, Counter>::default();
        let latency_family = Family::<RouteLabels, LatencyHistogram>::default();
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by route template, method and status", requests.clone());
        registry.register("http_request_duration_seconds", "Time to answer an HTTP request, by route template", latency_family.clone());
        registry.register("decisions", "can-send decisions (single and batch items), by result", decisions.clone());
        let refused_family = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "admission_refused",
            "Requests answered 503 because an in-flight budget was full, by reason (inflight_bytes, inflight_requests)",
            refused_family.clone(),
        );
        let refused = Reason::ALL.iter().map(|r| refused_family.get_or_create_owned(&ReasonLabels { reason: r.label() })).collect();
        registry.register_collector(Box::new(RulesCollector(live)));
        // Every route's latency series exists from the start (at zero), as
        // Prometheus advises: a rate over a missing series is no rate at all.
        let latency = super::routes::ALL
            .iter()
            .chain([&super::routes::UNMATCHED])
            .map(|route| latency_family.get_or_create_owned(&RouteLabels { route }))
            .collect();
        let n = (super::routes::ALL.len() + 1) * METHODS.len() * COMMON_STATUSES.len();
        let request_counters = (0..n).map(|_| OnceLock::new()).collect();
        let allowed = decisions.get_or_create_owned(&DecisionLabels { result: "allowed" });
        let denied = decisions.get_or_create_owned(&DecisionLabels { result: "denied" });
        Self { registry: root, requests, request_counters, latency, allowed, denied, refused }
    }

    /// Count one answered request: `route` indexes [`super::routes::ALL`]
    /// (past its end: `unmatched`), `method` indexes [`METHODS`] — so label
    /// values stay bounded.
    pub fn request(&self, route: usize, method: usize, status: u16, elapsed: Duration) {
        let route = route.min(super::routes::ALL.len());
        if let Some(h) = self.latency.get(route) {
            h.observe(elapsed);
        }
        let labels = || RequestLabels {
            route: super::routes::ALL.get(route).copied().unwrap_or(super::routes::UNMATCHED),
            method: METHODS.get(method).copied().unwrap_or("other"),
            status,
        };
        let slot = COMMON_STATUSES
            .iter()
            .position(|s| *s == status)
            .filter(|_| method < METHODS.len())
            .and_then(|s| self.request_counters.get((route * METHODS.len() + method) * COMMON_STATUSES.len() + s));
        match slot {
            Some(cell) => cell.get_or_init(|| self.requests.get_or_create_owned(&labels())).inc(),
            None => self.requests.get_or_create(&labels()).inc(),
        };
    }

    /// Count one request refused by admission.
    pub fn refused(&self, reason: Reason) {
        if let Some(c) = Reason::ALL.iter().position(|r| *r == reason).and_then(|i| self.refused.get(i)) {
            c.inc();
        }
    }

    /// Count one decision.
    pub fn decision(&self, allowed: bool) {
        if allowed { &self.allowed } else { &self.denied }.inc();
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
        let m = Metrics::new(live.clone(), None);
        m.request(0, 1, 200, Duration::from_millis(2));
        m.request(0, 1, 599, Duration::from_millis(3));
        m.request(usize::MAX, usize::MAX, 200, Duration::from_secs(9));
        m.decision(true);
        m.decision(false);
        m.decision(false);
        let text = m.render();
        assert!(text.contains(r#"cansend_http_requests_total{route="/v1/can-send",method="POST",status="200"} 1"#), "{text}");
        assert!(text.contains(r#"cansend_decisions_total{result="denied"} 2"#), "{text}");
        let revision = live.current().engine.revision().to_owned();
        assert!(text.contains(&format!(r#"cansend_rules_info{{revision="{revision}"}} 1"#)), "{text}");
        assert!(text.contains("cansend_rule_load_errors_total 0"), "{text}");
        assert!(text.contains(r#"cansend_http_requests_total{route="/v1/can-send",method="POST",status="599"} 1"#), "{text}");
        assert!(text.contains(r#"cansend_http_requests_total{route="unmatched",method="other",status="200"} 1"#), "{text}");
        assert!(text.contains(r#"cansend_decisions_total{result="allowed"} 1"#), "{text}");
        // 2 ms and 3 ms: both in the 6.4 ms bucket, cumulatively.
        assert!(text.contains(r#"cansend_http_request_duration_seconds_bucket{route="/v1/can-send",le="0.0016"} 0"#), "{text}");
        assert!(text.contains(r#"cansend_http_request_duration_seconds_bucket{route="/v1/can-send",le="0.0064"} 2"#), "{text}");
        assert!(text.contains(r#"cansend_http_request_duration_seconds_count{route="/v1/can-send"} 2"#), "{text}");
        assert!(text.contains(r#"cansend_http_request_duration_seconds_sum{route="/v1/can-send"} 0.005"#), "{text}");
        assert!(text.contains(r#"cansend_http_request_duration_seconds_bucket{route="unmatched",le="+Inf"} 1"#), "{text}");
        assert!(text.contains(r#"cansend_http_request_duration_seconds_count{route="/healthz"} 0"#), "every route from the start: {text}");
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
        assert!(text.contains(&format!(r#"cansend_build_info{{version="{VERSION}",commit="{COMMIT}"}} 1"#)), "{text}");
        #[cfg(target_os = "linux")]
        for family in ["process_resident_memory_bytes ", "process_cpu_seconds_total ", "process_open_fds ", "process_start_time_seconds "] {
            assert!(text.contains(family), "{family}: {text}");
        }
    }
}
