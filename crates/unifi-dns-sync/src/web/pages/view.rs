//! Small view helpers shared by the pages: times, links, query strings, event rows.
//!
//! Everything here produces plain text; the templates escape it. Nothing produces markup.

use std::collections::HashMap;

use time::OffsetDateTime;
use time::macros::format_description;
use unifi_dns_sync_store::{Event, EventStatus, Run, RunOutcome, SiteId};

/// A point in time as a page shows it: absolute UTC text, a machine-readable form for
/// `<time datetime>`, and how long ago it was.
pub struct When {
    pub iso: String,
    pub text: String,
    pub ago: String,
}

pub fn when(t: OffsetDateTime) -> When {
    let t = t.to_offset(time::UtcOffset::UTC);
    let iso = t
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let text = t
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
        ))
        .unwrap_or_default();
    When {
        iso,
        text,
        ago: ago(OffsetDateTime::now_utc(), t),
    }
}

pub fn when_opt(t: Option<OffsetDateTime>) -> Option<When> {
    t.map(when)
}

/// `just now`, `42s ago`, `5m ago`, `3h 10m ago`, `12d ago`, or `in 5m` for the future.
pub fn ago(now: OffsetDateTime, t: OffsetDateTime) -> String {
    let secs = (now - t).whole_seconds();
    if secs.abs() < 2 {
        return "just now".into();
    }
    let text = span(secs.unsigned_abs());
    if secs < 0 {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

/// A whole number of seconds as `42s`, `5m`, `3h 10m`, `12d 4h`.
pub fn span(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86_400 => {
            let m = (secs % 3600) / 60;
            if m == 0 {
                format!("{}h", secs / 3600)
            } else {
                format!("{}h {m}m", secs / 3600)
            }
        }
        _ => {
            let h = (secs % 86_400) / 3600;
            if h == 0 {
                format!("{}d", secs / 86_400)
            } else {
                format!("{}d {h}h", secs / 86_400)
            }
        }
    }
}

/// A run's duration: `0.42s`, `12.3s`, `2m 5s`.
pub fn duration_text(d: time::Duration) -> String {
    let ms = d.whole_milliseconds().max(0);
    if ms < 10_000 {
        format!("{:.2}s", ms as f64 / 1000.0)
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        let s = (ms / 1000) as u64;
        format!("{}m {}s", s / 60, s % 60)
    }
}

/// Percent-encodes a query-string component (everything but the unreserved characters).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `path?k=v&…` from the non-empty pairs (just `path` when there is none).
pub fn link(path: &str, pairs: &[(&str, &str)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

pub fn site_href(id: SiteId) -> String {
    format!("/sites/{id}")
}

pub fn record_href(id: &str) -> String {
    format!("/records/{id}")
}

/// CSS class of an event status badge.
pub fn status_class(status: EventStatus) -> &'static str {
    match status {
        EventStatus::Created => "ok",
        EventStatus::Updated => "info",
        EventStatus::Deleted => "warn",
        EventStatus::Skipped => "muted",
        EventStatus::Failed => "bad",
    }
}

/// CSS class and text of a run outcome (`None` = still running).
pub fn outcome(outcome: Option<RunOutcome>) -> (&'static str, String) {
    match outcome {
        Some(RunOutcome::Success) => ("ok", "success".into()),
        Some(RunOutcome::Partial) => ("warn", "partial".into()),
        Some(RunOutcome::Failed) => ("bad", "failed".into()),
        Some(RunOutcome::Interrupted) => ("bad", "interrupted".into()),
        None => ("info", "running".into()),
    }
}

/// Replaces the engine's `site #12` mentions in free text by the site's label.
pub fn name_sites(text: &str, labels: &HashMap<SiteId, String>) -> String {
    const MARK: &str = "site #";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at]);
        let after = &rest[at + MARK.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        match after[..digits]
            .parse::<SiteId>()
            .ok()
            .and_then(|id| labels.get(&id))
        {
            Some(label) => {
                out.push_str("site ");
                out.push_str(label);
            }
            None => out.push_str(&rest[at..at + MARK.len() + digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// One row of an event table.
pub struct EventRow {
    pub id: i64,
    pub at: When,
    pub status: String,
    pub status_class: &'static str,
    pub site: String,
    pub site_href: Option<String>,
    pub rtype: String,
    pub name: String,
    pub value: String,
    pub record_href: Option<String>,
    /// The reason or UniFi code, if any.
    pub why: String,
    pub detail: String,
    pub run: Option<i64>,
    pub run_href: String,
}

/// Event rows; `known` = site ids that still exist, `records` = record ids that still exist
/// (links only to what can be opened), `labels` to name sites in details.
pub fn event_rows(
    events: &[Event],
    labels: &HashMap<SiteId, String>,
    record_exists: &dyn Fn(&str) -> bool,
) -> Vec<EventRow> {
    events
        .iter()
        .map(|e| {
            let why = match (&e.code, &e.reason) {
                (Some(code), _) => code.clone(),
                (None, Some(reason)) => reason.clone(),
                (None, None) => String::new(),
            };
            EventRow {
                id: e.id,
                at: when(e.at),
                status: e.status.to_string(),
                status_class: status_class(e.status),
                site: e
                    .site_label
                    .clone()
                    .or_else(|| e.site_id.and_then(|id| labels.get(&id).cloned()))
                    .unwrap_or_else(|| "-".into()),
                site_href: e
                    .site_id
                    .filter(|id| labels.contains_key(id))
                    .map(site_href),
                rtype: e.rtype.clone().unwrap_or_default(),
                name: e.name.clone().unwrap_or_default(),
                value: e.value.clone().unwrap_or_default(),
                record_href: e
                    .record_id
                    .as_deref()
                    .filter(|id| record_exists(id))
                    .map(record_href),
                why,
                detail: name_sites(e.detail.as_deref().unwrap_or_default(), labels),
                run: e.run_id,
                run_href: e
                    .run_id
                    .map(|r| link("/history", &[("run", &r.to_string())]))
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// One row of the runs table.
pub struct RunRow {
    pub id: i64,
    pub href: String,
    pub trigger: String,
    pub dry_run: bool,
    pub started: When,
    pub duration: String,
    pub outcome: String,
    pub outcome_class: &'static str,
    pub created: u64,
    pub updated: u64,
    pub deleted: u64,
    pub skipped: u64,
    pub failed: u64,
    pub withheld: u64,
    pub error: Option<String>,
}

pub fn run_row(r: &Run) -> RunRow {
    let count = |k: &str| {
        r.counts
            .get(k)
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    };
    let (outcome_class, outcome) = outcome(r.outcome);
    RunRow {
        id: r.id,
        href: link("/history", &[("run", &r.id.to_string())]),
        trigger: r.trigger.to_string(),
        dry_run: r.dry_run,
        started: when(r.started_at),
        duration: r
            .finished_at
            .map(|f| duration_text(f - r.started_at))
            .unwrap_or_else(|| "…".into()),
        outcome,
        outcome_class,
        created: count("created"),
        updated: count("updated"),
        deleted: count("deleted"),
        skipped: count("skipped"),
        failed: count("failed"),
        withheld: count("withheld"),
        error: r.error.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_links() {
        assert_eq!(span(5), "5s");
        assert_eq!(span(300), "5m");
        assert_eq!(span(3600 + 600), "1h 10m");
        assert_eq!(span(86_400 * 2), "2d");
        assert_eq!(
            link("/history", &[("site", "hq/default"), ("status", "")]),
            "/history?site=hq%2Fdefault"
        );
        assert_eq!(encode("*.lan &x"), "%2A.lan%20%26x");
    }

    #[test]
    fn site_numbers_become_labels() {
        let labels = HashMap::from([(3, "hq/default".to_string())]);
        assert_eq!(
            name_sites("A x 1 from site #3 wins; site #9 too; site #", &labels),
            "A x 1 from site hq/default wins; site #9 too; site #"
        );
    }
}
