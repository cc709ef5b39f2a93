//! Prometheus metrics (SPEC §7), rendered in the text exposition format at `/metrics`.
//!
//! A small registry of our own rather than a global recorder: each running app owns one
//! [`Metrics`], so tests that run several apps in one process see only their own numbers, and
//! the set of metrics is spelled out in one place. Counters and histograms are fed as things
//! happen (cycles, API requests); gauges are refreshed from the database after each cycle.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Label values in a fixed order (the metric's label names give the order).
type Labels = Vec<String>;

/// Histogram buckets for durations, in seconds.
const CYCLE_BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];
const REQUEST_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Clone, Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, buckets: &[f64], value: f64) {
        if self.counts.len() != buckets.len() {
            self.counts = vec![0; buckets.len()];
        }
        for (i, le) in buckets.iter().enumerate() {
            if value <= *le {
                self.counts[i] += 1;
            }
        }
        self.sum += value;
        self.count += 1;
    }
}

#[derive(Debug, Default)]
struct Inner {
    cycles: BTreeMap<Labels, u64>,
    cycle_duration: Histogram,
    last_success: Option<f64>,
    changes: BTreeMap<Labels, u64>,
    records: BTreeMap<Labels, f64>,
    copies: BTreeMap<Labels, f64>,
    conflicts: BTreeMap<Labels, f64>,
    withheld: BTreeMap<Labels, f64>,
    site_read_ok: BTreeMap<Labels, f64>,
    api_requests: BTreeMap<Labels, u64>,
    api_duration: BTreeMap<Labels, Histogram>,
}

/// The registry of one running app.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// A site's gauges after a cycle.
#[derive(Debug, Clone)]
pub struct SiteGauges {
    pub controller: String,
    pub site: String,
    pub copies: u64,
    pub conflicts: u64,
    pub withheld: u64,
    /// `None` for sites not read in the last cycle (kept as they were).
    pub read_ok: Option<bool>,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A finished cycle: its outcome, duration and, on success, the time.
    pub fn cycle_finished(&self, outcome: &str, duration: Duration, finished_unix: f64) {
        let mut m = self.lock();
        *m.cycles.entry(vec![outcome.to_owned()]).or_default() += 1;
        m.cycle_duration
            .observe(CYCLE_BUCKETS, duration.as_secs_f64());
        if outcome == "success" {
            m.last_success = Some(finished_unix);
        }
    }

    /// `n` changes of `action` (created, updated, deleted, skipped, failed) on a site.
    pub fn changes(&self, controller: &str, site: &str, action: &str, n: u64) {
        if n > 0 {
            *self
                .lock()
                .changes
                .entry(vec![controller.into(), site.into(), action.into()])
                .or_default() += n;
        }
    }

    /// Replaces the record counts by type.
    pub fn set_records(&self, by_type: &BTreeMap<String, i64>) {
        self.lock().records = by_type
            .iter()
            .map(|(t, n)| (vec![t.clone()], *n as f64))
            .collect();
    }

    /// Replaces the per-site gauges.
    pub fn set_sites(&self, sites: &[SiteGauges]) {
        let mut m = self.lock();
        for s in sites {
            let key = vec![s.controller.clone(), s.site.clone()];
            m.copies.insert(key.clone(), s.copies as f64);
            m.conflicts.insert(key.clone(), s.conflicts as f64);
            m.withheld.insert(key.clone(), s.withheld as f64);
            if let Some(ok) = s.read_ok {
                m.site_read_ok.insert(key, if ok { 1.0 } else { 0.0 });
            }
        }
    }

    /// One HTTP attempt to a console (fed by the API client's observer).
    pub fn api_request(
        &self,
        controller: &str,
        method: &str,
        status: Option<u16>,
        duration: Duration,
    ) {
        let status = status.map_or_else(|| "error".to_owned(), |s| s.to_string());
        let mut m = self.lock();
        *m.api_requests
            .entry(vec![controller.into(), method.into(), status])
            .or_default() += 1;
        m.api_duration
            .entry(vec![controller.into()])
            .or_default()
            .observe(REQUEST_BUCKETS, duration.as_secs_f64());
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let m = self.lock();
        let mut out = String::new();
        counter(
            &mut out,
            "unifi_dns_sync_cycles_total",
            "Sync cycles by outcome.",
            &["outcome"],
            &m.cycles,
        );
        histogram(
            &mut out,
            "unifi_dns_sync_cycle_duration_seconds",
            "Duration of sync cycles.",
            &[],
            CYCLE_BUCKETS,
            std::iter::once((&Vec::new(), &m.cycle_duration)),
        );
        let _ = writeln!(
            out,
            "# HELP unifi_dns_sync_last_success_timestamp_seconds Unix time of the last successful cycle."
        );
        let _ = writeln!(
            out,
            "# TYPE unifi_dns_sync_last_success_timestamp_seconds gauge"
        );
        if let Some(t) = m.last_success {
            let _ = writeln!(out, "unifi_dns_sync_last_success_timestamp_seconds {t}");
        }
        counter(
            &mut out,
            "unifi_dns_sync_changes_total",
            "Changes made to consoles (and skips, failures) by site and action.",
            &["controller", "site", "action"],
            &m.changes,
        );
        gauge(
            &mut out,
            "unifi_dns_sync_records",
            "Records known, by type.",
            &["type"],
            &m.records,
        );
        gauge(
            &mut out,
            "unifi_dns_sync_copies",
            "Copies this service owns on a site.",
            &["controller", "site"],
            &m.copies,
        );
        gauge(
            &mut out,
            "unifi_dns_sync_conflicts",
            "Open conflicts on a site.",
            &["controller", "site"],
            &m.conflicts,
        );
        gauge(
            &mut out,
            "unifi_dns_sync_withheld_deletes",
            "Deletes withheld by the deletion threshold on a site.",
            &["controller", "site"],
            &m.withheld,
        );
        gauge(
            &mut out,
            "unifi_dns_sync_site_read_ok",
            "1 if the site's last read was complete, else 0.",
            &["controller", "site"],
            &m.site_read_ok,
        );
        counter(
            &mut out,
            "unifi_dns_sync_api_requests_total",
            "HTTP requests to consoles by status (\"error\" = no response).",
            &["controller", "method", "status"],
            &m.api_requests,
        );
        histogram(
            &mut out,
            "unifi_dns_sync_api_request_duration_seconds",
            "Duration of HTTP requests to consoles.",
            &["controller"],
            REQUEST_BUCKETS,
            m.api_duration.iter(),
        );
        out
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn label_text(names: &[&str], values: &[String], extra: Option<(&str, String)>) -> String {
    let mut parts: Vec<String> = names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}=\"{}\"", escape(v)))
        .collect();
    if let Some((n, v)) = extra {
        parts.push(format!("{n}=\"{v}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

fn counter(
    out: &mut String,
    name: &str,
    help: &str,
    names: &[&str],
    values: &BTreeMap<Labels, u64>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    for (labels, v) in values {
        let _ = writeln!(out, "{name}{} {v}", label_text(names, labels, None));
    }
}

fn gauge(out: &mut String, name: &str, help: &str, names: &[&str], values: &BTreeMap<Labels, f64>) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    for (labels, v) in values {
        let _ = writeln!(out, "{name}{} {v}", label_text(names, labels, None));
    }
}

fn histogram<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    names: &[&str],
    buckets: &[f64],
    series: impl Iterator<Item = (&'a Labels, &'a Histogram)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    for (labels, h) in series {
        if h.count == 0 {
            continue;
        }
        for (i, le) in buckets.iter().enumerate() {
            let n = h.counts.get(i).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "{name}_bucket{} {n}",
                label_text(names, labels, Some(("le", le.to_string())))
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{} {}",
            label_text(names, labels, Some(("le", "+Inf".into()))),
            h.count
        );
        let _ = writeln!(
            out,
            "{name}_sum{} {}",
            label_text(names, labels, None),
            h.sum
        );
        let _ = writeln!(
            out,
            "{name}_count{} {}",
            label_text(names, labels, None),
            h.count
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_types_labels_and_histograms() {
        let m = Metrics::new();
        m.cycle_finished("success", Duration::from_millis(300), 1_700_000_000.0);
        m.cycle_finished("partial", Duration::from_secs(3), 1_700_000_100.0);
        m.changes("hq", "default", "created", 2);
        m.changes("hq", "default", "created", 1);
        m.changes("hq", "default", "deleted", 0);
        m.api_request("hq", "GET", Some(200), Duration::from_millis(20));
        m.api_request("hq", "GET", None, Duration::from_secs(1));
        m.set_sites(&[SiteGauges {
            controller: "hq".into(),
            site: "default".into(),
            copies: 4,
            conflicts: 1,
            withheld: 0,
            read_ok: Some(true),
        }]);
        let text = m.render();
        assert!(text.contains("# TYPE unifi_dns_sync_cycles_total counter"));
        assert!(text.contains("unifi_dns_sync_cycles_total{outcome=\"success\"} 1"));
        assert!(text.contains("unifi_dns_sync_last_success_timestamp_seconds 1700000000"));
        assert!(text.contains(
            "unifi_dns_sync_changes_total{controller=\"hq\",site=\"default\",action=\"created\"} 3"
        ));
        assert!(!text.contains("action=\"deleted\""));
        assert!(text.contains("unifi_dns_sync_cycle_duration_seconds_bucket{le=\"0.5\"} 1"));
        assert!(text.contains("unifi_dns_sync_cycle_duration_seconds_bucket{le=\"+Inf\"} 2"));
        assert!(text.contains("unifi_dns_sync_cycle_duration_seconds_count 2"));
        assert!(text.contains(
            "unifi_dns_sync_api_requests_total{controller=\"hq\",method=\"GET\",status=\"error\"} 1"
        ));
        assert!(text.contains(
            "unifi_dns_sync_api_request_duration_seconds_bucket{controller=\"hq\",le=\"0.025\"} 1"
        ));
        assert!(text.contains("unifi_dns_sync_copies{controller=\"hq\",site=\"default\"} 4"));
        assert!(text.contains("unifi_dns_sync_site_read_ok{controller=\"hq\",site=\"default\"} 1"));
        assert!(text.contains("# TYPE unifi_dns_sync_records gauge"));
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::new();
        m.changes("a\"b", "c\\d", "created", 1);
        assert!(m.render().contains("controller=\"a\\\"b\",site=\"c\\\\d\""));
    }
}
