//! The families an on-call engineer reads across a fleet, beside the
//! request and rule-set ones:
//!
//! - `cansend_build_info{version,commit}` (value 1): which build a replica runs;
//! - `process_*` (Linux): resident memory, CPU seconds, open and maximum
//!   file descriptors, start time — the names every Prometheus client uses,
//!   so the usual dashboards work;
//! - `cansend_decision_log_{written,dropped,sampled_out}_total`: the
//!   decision log's lines written, and those not written (never silently);
//! - `cansend_access_log_dropped_total`: access-log lines dropped because
//!   stderr did not keep up (see [`crate::service::access_log`]);
//! - `cansend_rules_warnings`: warnings about the serving rules (the load's,
//!   and overrides expired or expiring within `--warn-expiry` days);
//! - `cansend_override_expiry_seconds{tenant,setting}`: seconds until each
//!   declared override with an expiry expires (negative once it has). The
//!   labels come from the tenant files' declared overrides only, so their
//!   number is bounded by what admins wrote.
//!
//! Each is read at scrape time; nothing is counted on the request path.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::reload::Live;
use crate::service::decision_log::DecisionLog;

/// The crate's version and the commit it was built from (`unknown` when
/// the build had no git checkout and no `CANSEND_COMMIT`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// See [`VERSION`].
pub const COMMIT: &str = env!("CANSEND_COMMIT");

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    commit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OverrideLabels {
    tenant: String,
    setting: String,
}

/// Build, decision-log and override families (prefixed `cansend_`).
pub struct FleetCollector {
    pub(super) live: Arc<Live>,
    pub(super) decision_log: Option<Arc<DecisionLog>>,
}

impl std::fmt::Debug for FleetCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FleetCollector")
    }
}

impl Collector for FleetCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let info = ConstGauge::new(1i64);
        let mut m = encoder.encode_descriptor("build_info", "The build a replica runs (value 1)", None, info.metric_type())?;
        info.encode(m.encode_family(&BuildLabels { version: VERSION, commit: COMMIT })?)?;

        if let Some(log) = &self.decision_log {
            for (name, help, n) in [
                ("decision_log_written", "Decision-log lines written", log.written()),
                ("decision_log_dropped", "Decisions not written to the decision log (queue full, write failed)", log.dropped()),
                ("decision_log_sampled_out", "Allowed decisions left out of the decision log by sampling", log.sampled_out()),
            ] {
                let c = ConstCounter::new(n);
                let m = encoder.encode_descriptor(name, help, None, c.metric_type())?;
                c.encode(m)?;
            }
        }

        let dropped = ConstCounter::new(crate::service::access_log::dropped());
        let m = encoder.encode_descriptor(
            "access_log_dropped",
            "Access-log lines dropped because stderr did not keep up",
            None,
            dropped.metric_type(),
        )?;
        dropped.encode(m)?;

        let warnings = ConstGauge::new(i64::try_from(self.live.warnings().len()).unwrap_or(i64::MAX));
        let m = encoder.encode_descriptor(
            "rules_warnings",
            "Warnings about the serving rules: the load's, and overrides expired or expiring within --warn-expiry days",
            None,
            warnings.metric_type(),
        )?;
        warnings.encode(m)?;

        let snap = self.live.current();
        let expiries = snap.engine.expiring_overrides();
        if !expiries.is_empty() {
            let now = crate::now_ms();
            let mut m = encoder.encode_descriptor(
                "override_expiry_seconds",
                "Seconds until a tenant override expires and the default applies again (negative: expired)",
                None,
                prometheus_client::metrics::MetricType::Gauge,
            )?;
            for e in expiries {
                let secs = e.until.saturating_sub(now) / 1000;
                let labels = OverrideLabels { tenant: e.tenant.to_owned(), setting: e.setting };
                ConstGauge::new(secs).encode(m.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

/// The standard `process_*` families, from `/proc/self` (Linux only; elsewhere none).
#[derive(Debug)]
pub struct ProcessCollector;

impl Collector for ProcessCollector {
    #[cfg(target_os = "linux")]
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Ok(me) = procfs::process::Process::myself() else { return Ok(()) };
        if let Ok(stat) = me.stat() {
            let ticks = procfs::ticks_per_second() as f64;
            let cpu = ConstCounter::new((stat.utime + stat.stime) as f64 / ticks.max(1.0));
            let m = encoder.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds",
                None,
                cpu.metric_type(),
            )?;
            cpu.encode(m)?;
            let rss = ConstGauge::new(i64::try_from(stat.rss.saturating_mul(procfs::page_size())).unwrap_or(i64::MAX));
            let m = encoder.encode_descriptor("process_resident_memory_bytes", "Resident memory size in bytes", None, rss.metric_type())?;
            rss.encode(m)?;
            let vsize = ConstGauge::new(i64::try_from(stat.vsize).unwrap_or(i64::MAX));
            let m = encoder.encode_descriptor("process_virtual_memory_bytes", "Virtual memory size in bytes", None, vsize.metric_type())?;
            vsize.encode(m)?;
            if let Ok(boot) = procfs::boot_time_secs() {
                let start = ConstGauge::new(boot as f64 + stat.starttime as f64 / ticks.max(1.0));
                let m = encoder.encode_descriptor(
                    "process_start_time_seconds",
                    "Start time of the process since unix epoch in seconds",
                    None,
                    start.metric_type(),
                )?;
                start.encode(m)?;
            }
        }
        if let Ok(n) = me.fd_count() {
            let fds = ConstGauge::new(i64::try_from(n).unwrap_or(i64::MAX));
            let m = encoder.encode_descriptor("process_open_fds", "Number of open file descriptors", None, fds.metric_type())?;
            fds.encode(m)?;
        }
        if let Ok(limits) = me.limits()
            && let procfs::process::LimitValue::Value(max) = limits.max_open_files.soft_limit
        {
            let max = ConstGauge::new(i64::try_from(max).unwrap_or(i64::MAX));
            let m = encoder.encode_descriptor("process_max_fds", "Maximum number of open file descriptors", None, max.metric_type())?;
            max.encode(m)?;
        }
        Ok(())
    }

    #[cfg(not(target_os = "linux"))]
    fn encode(&self, _: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        Ok(())
    }
}
