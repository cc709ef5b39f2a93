//! The read-only commands (`status`, `records`, `history`) and `db backup` / `db prune`.
//!
//! Listing commands open the database read-only, so they work while the daemon runs.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};
use unifi_dns_sync_store::{CopyState, EventQuery, EventStatus, Site, Store, StoreError};

use super::table::{Table, opt, time};
use super::{Failure, HistoryArgs, Output, print_json};
use crate::config::Config;
use crate::duration::parse_duration;

async fn open_read_only(config: &Config) -> Result<Store, Failure> {
    Store::open_read_only(&config.database.url)
        .await
        .map_err(|e| match e {
            StoreError::NotFound { .. } => Failure::error(format!(
                "database {} does not exist: check --database / [database].url, or run `unifi-dns-sync sync` once to create it",
                config.database.url
            )),
            e => Failure::error(format!("database {}: {e}", config.database.url)),
        })
}

/// The sites a `--site controller/site` selector names.
fn select_sites<'a>(sites: &'a [Site], selector: &str) -> Result<Vec<&'a Site>, Failure> {
    let (controller, key) = match selector.split_once('/') {
        Some((c, s)) => (Some(c), s),
        None => (None, selector),
    };
    let found: Vec<&Site> = sites
        .iter()
        .filter(|s| {
            controller.is_none_or(|c| c == s.controller)
                && (s.internal_reference == key || s.name == key || s.uuid == key)
        })
        .collect();
    if found.is_empty() {
        return Err(Failure::error(format!(
            "no site matches --site {selector}: use controller/site with the site's internalReference, name or UUID (see `status`)"
        )));
    }
    Ok(found)
}

pub(super) async fn status(config: &Config, output: Output) -> Result<u8, Failure> {
    let store = open_read_only(config).await?;
    let controllers = store.controllers().await?;
    let sites = store.sites().await?;
    let counts = store.counts().await?;
    let runs = store.last_runs(1).await?;
    let insecure: Vec<&str> = config
        .controllers
        .iter()
        .filter(|c| c.tls == crate::config::TlsMode::Insecure)
        .map(|c| c.name.as_str())
        .collect();
    if output == Output::Json {
        let sites_json: Vec<Value> = sites
            .iter()
            .map(|s| {
                let copies = counts.copies_by_site.get(&s.id).copied().unwrap_or_default();
                json!({
                    "id": s.id, "site": s.label(), "name": s.name, "uuid": s.uuid,
                    "last_synced": s.last_synced.map(|t| time(Some(t))), "last_read_complete": s.last_read_complete,
                    "last_error": s.last_error, "removed": s.is_removed(), "dns_policies": s.policy_support,
                    "copies": copies.active, "pending": copies.pending,
                    "conflicts": counts.conflicts_by_site.get(&s.id).copied().unwrap_or(0),
                    "withheld_deletes": s.withheld_deletes,
                })
            })
            .collect();
        print_json(&json!({
            "controllers": controllers, "sites": sites_json, "last_run": runs.first(),
            "records": counts.records(), "insecure_tls": insecure,
        }))?;
        return Ok(0);
    }
    let mut t = Table::new(&[
        "controller",
        "url",
        "version",
        "key",
        "last contact",
        "state",
    ]);
    for c in &controllers {
        let state = match &c.last_error {
            Some(e) => format!("error: {e}"),
            None => "ok".into(),
        };
        t.row(vec![
            c.name.clone(),
            c.url.clone(),
            opt(c.app_version.clone()),
            opt(c.key_fingerprint.clone()),
            time(c.last_contact),
            state,
        ]);
    }
    out!(
        "{}\n",
        if t.is_empty() {
            "No controller has been contacted yet: run `sync` or `run`.".to_owned()
        } else {
            t.render()
        }
    );
    for name in &insecure {
        out!("warning: controller {name} does not verify TLS certificates (tls = \"insecure\")");
    }
    if !insecure.is_empty() {
        out!("");
    }
    let mut t = Table::new(&[
        "site",
        "name",
        "last complete read",
        "copies",
        "conflicts",
        "withheld",
        "dns policies",
        "error",
    ]);
    for s in sites.iter().filter(|s| !s.is_removed()) {
        let copies = counts
            .copies_by_site
            .get(&s.id)
            .copied()
            .unwrap_or_default();
        let pending = if copies.pending > 0 {
            format!(" (+{} pending)", copies.pending)
        } else {
            String::new()
        };
        let support = match s.policy_support {
            Some(true) => "yes",
            Some(false) => "NO (needs Network 10.1.68+)",
            None => "-",
        };
        t.row(vec![
            s.label(),
            s.name.clone(),
            time(s.last_synced),
            format!("{}{pending}", copies.active),
            counts
                .conflicts_by_site
                .get(&s.id)
                .copied()
                .unwrap_or(0)
                .to_string(),
            s.withheld_deletes.to_string(),
            support.into(),
            opt(s.last_error.clone()),
        ]);
    }
    if !t.is_empty() {
        out!("{}\n", t.render());
    }
    match runs.first() {
        Some(r) => out!(
            "Last run: #{} ({}{}) started {}, {}: {}",
            r.id,
            r.trigger,
            if r.dry_run { ", dry run" } else { "" },
            time(Some(r.started_at)),
            r.outcome
                .map(|o| o.to_string())
                .unwrap_or_else(|| "running".into()),
            compact_counts(&r.counts),
        ),
        None => out!("No run yet."),
    }
    out!("Records: {}", counts.records());
    Ok(0)
}

fn compact_counts(counts: &Value) -> String {
    [
        "created", "updated", "deleted", "skipped", "failed", "withheld",
    ]
    .iter()
    .map(|k| {
        format!(
            "{} {k}",
            counts.get(*k).and_then(Value::as_u64).unwrap_or(0)
        )
    })
    .collect::<Vec<_>>()
    .join(", ")
}

pub(super) async fn records(
    config: &Config,
    site: Option<&str>,
    domain: Option<&str>,
    output: Output,
) -> Result<u8, Failure> {
    let store = open_read_only(config).await?;
    let sites = store.sites().await?;
    let by_id: BTreeMap<i64, &Site> = sites.iter().map(|s| (s.id, s)).collect();
    let selected: Option<Vec<i64>> = match site {
        Some(sel) => Some(select_sites(&sites, sel)?.iter().map(|s| s.id).collect()),
        None => None,
    };
    let records = store.records_with_origins().await?;
    let copies = store.all_copies().await?;
    let conflicts = store.all_conflicts().await?;
    let label = |id: i64| {
        by_id
            .get(&id)
            .map(|s| s.label())
            .unwrap_or_else(|| format!("site #{id}"))
    };
    let mut rows = vec![];
    for r in &records {
        if let Some(glob) = domain
            && !crate::glob::glob_match(glob, &r.record.name)
        {
            continue;
        }
        let mut states: BTreeMap<i64, String> = BTreeMap::new();
        for c in copies.iter().filter(|c| c.record_id == r.record.id) {
            states.insert(
                c.site_id,
                match c.state {
                    CopyState::Active => "present".into(),
                    CopyState::Pending => "pending".into(),
                },
            );
        }
        for c in conflicts.iter().filter(|c| c.record_id == r.record.id) {
            let state = if c.code.is_some() {
                format!("skipped ({})", c.code.clone().unwrap_or_default())
            } else {
                format!("conflict ({})", c.reason)
            };
            states.insert(c.site_id, state);
        }
        let involved =
            |id: &i64| r.origins.iter().any(|o| o.site_id == *id) || states.contains_key(id);
        if let Some(sel) = &selected
            && !sel.iter().any(involved)
        {
            continue;
        }
        rows.push(json!({
            "id": r.record.id,
            "type": r.record.rtype, "name": r.record.name, "value": r.record.value,
            "ttl": r.record.ttl, "enabled": r.record.enabled,
            "origins": r.origins.iter().map(|o| json!({"site": label(o.site_id), "kind": o.kind, "source_id": o.source_id, "first_seen": time(Some(o.first_seen)), "last_seen": time(Some(o.last_seen))})).collect::<Vec<_>>(),
            "copies": states.iter().map(|(id, state)| json!({"site": label(*id), "state": state})).collect::<Vec<_>>(),
        }));
    }
    if output == Output::Json {
        print_json(&rows)?;
        return Ok(0);
    }
    if rows.is_empty() {
        out!("No records.");
    }
    for r in &rows {
        let ttl = r["ttl"]
            .as_i64()
            .map(|t| format!("  ttl {t}"))
            .unwrap_or_default();
        let disabled = if r["enabled"] == json!(false) {
            "  (disabled)"
        } else {
            ""
        };
        out!(
            "{} {} {}{ttl}{disabled}",
            r["type"].as_str().unwrap_or_default(),
            r["name"].as_str().unwrap_or_default(),
            r["value"].as_str().unwrap_or_default()
        );
        let origins: Vec<String> = r["origins"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|o| o["site"].as_str().unwrap_or_default().to_owned())
            .collect();
        out!(
            "  origins: {}",
            if origins.is_empty() {
                "none (being withdrawn)".to_owned()
            } else {
                origins.join(", ")
            }
        );
        let copies: Vec<String> = r["copies"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                format!(
                    "{} {}",
                    c["site"].as_str().unwrap_or_default(),
                    c["state"].as_str().unwrap_or_default()
                )
            })
            .collect();
        if !copies.is_empty() {
            out!("  copies:  {}", copies.join(", "));
        }
    }
    Ok(0)
}

pub(super) async fn history(config: &Config, args: &HistoryArgs) -> Result<u8, Failure> {
    let store = open_read_only(config).await?;
    let sites = store.sites().await?;
    let mut query = EventQuery {
        limit: args.limit.max(1),
        ..EventQuery::default()
    };
    if let Some(since) = &args.since {
        let at = crate::duration::parse_since(since, time::OffsetDateTime::now_utc())
            .map_err(|e| Failure::error(format!("--since {since}: {e}")))?;
        query.since = Some(at);
    }
    if let Some(status) = &args.status {
        query.status = Some(
            status
                .parse::<EventStatus>()
                .map_err(|e| Failure::error(format!("--status: {e}")))?,
        );
    }
    query.name_glob = args.domain.clone();
    let site_ids: Option<Vec<i64>> = match &args.site {
        Some(sel) => Some(select_sites(&sites, sel)?.iter().map(|s| s.id).collect()),
        None => None,
    };
    let mut events = vec![];
    match &site_ids {
        None => events = store.events(&query).await?,
        Some(ids) => {
            for id in ids {
                events.extend(
                    store
                        .events(&EventQuery {
                            site_id: Some(*id),
                            ..query.clone()
                        })
                        .await?,
                );
            }
            events.sort_by_key(|e| std::cmp::Reverse(e.id));
            events.truncate(query.limit as usize);
        }
    }
    if args.output.output == Output::Json {
        print_json(&events)?;
        return Ok(0);
    }
    let mut t = Table::new(&["at", "status", "site", "record", "detail"]);
    for e in &events {
        let record = match (&e.rtype, &e.name, &e.value) {
            (Some(t), Some(n), Some(v)) if !t.is_empty() => format!("{t} {n} {v}"),
            _ => "-".into(),
        };
        let mut detail = e.detail.clone().unwrap_or_default();
        if let Some(code) = &e.code {
            detail = format!("[{code}] {detail}");
        } else if let Some(reason) = &e.reason {
            detail = format!("[{reason}] {detail}");
        }
        t.row(vec![
            time(Some(e.at)),
            e.status.to_string(),
            opt(e.site_label.clone()),
            record,
            detail,
        ]);
    }
    out!(
        "{}",
        if t.is_empty() {
            "No events.".to_owned()
        } else {
            t.render()
        }
    );
    Ok(0)
}

pub(super) async fn backup(config: &Config, file: &Path) -> Result<u8, Failure> {
    let store = open_read_only(config).await?;
    store
        .backup_to(file)
        .await
        .map_err(|e| Failure::error(format!("backup to {}: {e}", file.display())))?;
    out!("Backed up {} to {}", config.database.url, file.display());
    Ok(0)
}

pub(super) async fn prune(config: &Config, older_than: Option<&str>) -> Result<u8, Failure> {
    let retention = match older_than {
        Some(text) => {
            parse_duration(text).map_err(|e| Failure::error(format!("--older-than {text}: {e}")))?
        }
        None => config.sync.history_retention,
    };
    let retention = time::Duration::try_from(retention)
        .map_err(|_| Failure::error("--older-than: too long"))?;
    let store = super::sync::open_writable(config).await?;
    let pruned = store
        .prune_events(time::OffsetDateTime::now_utc() - retention)
        .await?;
    out!("Pruned {} events and {} runs.", pruned.events, pruned.runs);
    Ok(0)
}
