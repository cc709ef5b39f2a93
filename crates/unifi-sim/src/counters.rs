//! Request counters: what a sync tool actually asked of a console.
//!
//! Tests prove "a second cycle makes zero writes" and "every page was read once" from these, and
//! the benchmark counts requests per page. Concurrency of writes (POST/PUT/DELETE on DNS
//! policies) is tracked per console and per site, because each write reloads dnsmasq on a real
//! console and a sync tool must respect `max_parallel_writes`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

#[derive(Debug, Default, Clone)]
pub struct Counters {
    /// (method, path template, status) → count. Status 0 = no response (connection dropped).
    requests: BTreeMap<(String, String, u16), u64>,
    in_flight_writes: u64,
    max_concurrent_writes: u64,
    in_flight_by_site: BTreeMap<String, u64>,
    max_concurrent_writes_by_site: BTreeMap<String, u64>,
}

/// One row of the request counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestCount {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub count: u64,
}

impl Counters {
    pub fn record(&mut self, method: &str, template: &str, status: u16) {
        *self
            .requests
            .entry((method.to_owned(), template.to_owned(), status))
            .or_default() += 1;
    }

    pub fn write_started(&mut self, site: &str) {
        self.in_flight_writes += 1;
        self.max_concurrent_writes = self.max_concurrent_writes.max(self.in_flight_writes);
        let n = self.in_flight_by_site.entry(site.to_owned()).or_default();
        *n += 1;
        let n = *n;
        let max = self
            .max_concurrent_writes_by_site
            .entry(site.to_owned())
            .or_default();
        *max = (*max).max(n);
    }

    pub fn write_finished(&mut self, site: &str) {
        self.in_flight_writes = self.in_flight_writes.saturating_sub(1);
        if let Some(n) = self.in_flight_by_site.get_mut(site) {
            *n = n.saturating_sub(1);
        }
    }

    pub fn rows(&self) -> Vec<RequestCount> {
        self.requests
            .iter()
            .map(|((method, path, status), count)| RequestCount {
                method: method.clone(),
                path: path.clone(),
                status: *status,
                count: *count,
            })
            .collect()
    }

    /// Requests with this method and path template, any status.
    pub fn count(&self, method: &str, template: &str) -> u64 {
        self.requests
            .iter()
            .filter(|((m, p, _), _)| m == method && p == template)
            .map(|(_, c)| c)
            .sum()
    }

    pub fn total(&self) -> u64 {
        self.requests.values().sum()
    }

    /// POST, PUT and DELETE requests on DNS policies, any status.
    pub fn writes(&self) -> u64 {
        self.requests
            .iter()
            .filter(|((m, p, _), _)| {
                matches!(m.as_str(), "POST" | "PUT" | "DELETE") && p.contains("/dns/policies")
            })
            .map(|(_, c)| c)
            .sum()
    }

    pub fn max_concurrent_writes(&self) -> u64 {
        self.max_concurrent_writes
    }

    pub fn max_concurrent_writes_by_site(&self) -> &BTreeMap<String, u64> {
        &self.max_concurrent_writes_by_site
    }

    pub fn to_json(&self) -> Value {
        json!({
            "requests": self.rows(),
            "total": self.total(),
            "writes": self.writes(),
            "maxConcurrentWrites": self.max_concurrent_writes,
            "maxConcurrentWritesBySite": self.max_concurrent_writes_by_site,
        })
    }

    /// Clears the counts; writes still in flight stay counted as in flight.
    pub fn reset(&mut self) {
        self.requests.clear();
        self.max_concurrent_writes = self.in_flight_writes;
        self.max_concurrent_writes_by_site = self
            .in_flight_by_site
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(site, n)| (site.clone(), *n))
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_writes_and_concurrency() {
        let mut c = Counters::default();
        c.record("GET", "/v1/sites", 200);
        c.record("POST", "/v1/sites/{siteId}/dns/policies", 201);
        c.record("POST", "/v1/sites/{siteId}/dns/policies", 400);
        c.write_started("a");
        c.write_started("b");
        c.write_started("a");
        c.write_finished("a");
        c.write_finished("a");
        c.write_finished("b");
        assert_eq!(c.writes(), 2);
        assert_eq!(c.count("POST", "/v1/sites/{siteId}/dns/policies"), 2);
        assert_eq!(c.max_concurrent_writes(), 3);
        assert_eq!(c.max_concurrent_writes_by_site()["a"], 2);
        assert_eq!(c.max_concurrent_writes_by_site()["b"], 1);
        c.reset();
        assert_eq!(c.total(), 0);
        assert_eq!(c.max_concurrent_writes(), 0);
    }
}
