//! Discovery (SPEC §5.1): read every managed site, tell copies from natives, derive client
//! names, and turn a complete read into origin changes.
//!
//! The network part runs controllers in parallel (each client bounds its own reads). The
//! bookkeeping part is sequential and, outside a dry run, persists per site in one transaction:
//! origin changes, the read's completeness, and adoptions of PENDING registry rows. Everything the
//! planner needs is also built in memory, so a dry run plans exactly what a real run would
//! without writing anything.
//!
//! A site's read is complete only if every page of every list succeeded. After an incomplete
//! read the site's origins are left exactly as they were and the site gets no plan (safety
//! rule 2). When a whole controller is unreachable, the sites the database knows for it stay in
//! the planner's view with their origins, so their records are not withdrawn elsewhere, and the
//! controller is reported as failed (the cycle is partial even if none of its sites is known).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use futures::StreamExt;
use futures::future::join_all;
use serde::Serialize;
use time::OffsetDateTime;
use unifi_client::{ConnectedClient, DnsPolicy};
use unifi_dns_sync_store::{
    ControllerState, CopyState, NewOrigin, Origin, OriginChanges, OriginKind, RecordData, RunId,
    Site, SiteListing, SiteRead, StoredRecord, SyncedCopy,
};

use super::{Controller, CycleOptions, Engine, EngineError, PlanRecords, SiteBook};
use crate::config::ClientType;
use crate::plan::{LiveCopy, LiveSite, PlanOrigin, PlanRecord, PlanSite};
use crate::policy_map::record_of;
use crate::record::{Record, canonical_domain, client_label};
use crate::record_type::RecordType;

/// A refused create is tried again after this long (the console's reasons can go away: a client
/// leaves, a native is deleted).
pub(crate) const REFUSAL_RETRY: Duration = Duration::from_secs(6 * 3600);

/// The refusal codes of SPEC §5.3.
pub(crate) const REFUSAL_CODES: [&str; 3] = [
    "api.dns.policy.validation.overlap-with-local-dns",
    "api.dns.policy.validation.cname-alias-overlap",
    "api.dns.policy.validation.record-already-exists",
];

/// One managed site after discovery, for status output and the run report.
#[derive(Debug, Clone, Serialize)]
pub struct SiteSummary {
    pub site_id: i64,
    /// `controller/internalReference`
    pub label: String,
    pub controller: String,
    pub name: String,
    pub uuid: String,
    pub complete: bool,
    /// Whether the console serves DNS policies (`None` when it could not be asked).
    pub dns_policies: Option<bool>,
    pub error: Option<String>,
    pub warnings: Vec<String>,
    pub natives: usize,
    pub copies: usize,
}

impl SiteSummary {
    /// Whether `controller/site` (site = internalReference, name or UUID) or a bare site key names
    /// this site.
    pub fn matches(&self, selector: &str) -> bool {
        let (controller, site) = match selector.split_once('/') {
            Some((c, s)) => (Some(c), s),
            None => (None, selector),
        };
        controller.is_none_or(|c| c == self.controller)
            && (self.label.rsplit('/').next() == Some(site)
                || self.name == site
                || self.uuid == site)
    }
}

/// What discovery hands to planning and applying.
pub(crate) struct Discovered {
    pub records: PlanRecords,
    pub plan_sites: Vec<PlanSite>,
    pub summaries: Vec<SiteSummary>,
    pub books: HashMap<i64, SiteBook>,
    /// Record data by id (stored or discovered this cycle), for event snapshots.
    pub record_data: HashMap<String, RecordData>,
    /// Controllers whose info or site list could not be read this cycle.
    pub controllers_failed: Vec<ControllerFailure>,
}

/// A controller that could not be read at all this cycle (its info or its site list failed).
/// The sites the database knows for it are in the report as incomplete reads; the cycle is
/// partial even when none is known yet.
#[derive(Debug, Clone, Serialize)]
pub struct ControllerFailure {
    pub controller: String,
    pub error: String,
}

/// The network result for one site.
struct SiteRead_ {
    site: Site,
    policies: Result<Vec<DnsPolicy>, String>,
    clients: Option<Result<Vec<ConnectedClient>, String>>,
    supported: bool,
}

/// The network result for one controller.
struct ControllerRead {
    index: usize,
    supported: Option<bool>,
    error: Option<String>,
    sites: Vec<SiteRead_>,
    /// Sites known from the database that could not be read because the controller failed.
    unread: Vec<Site>,
}

pub(crate) async fn discover(
    engine: &Engine,
    options: &CycleOptions,
    _run_id: Option<RunId>,
) -> Result<Discovered, EngineError> {
    let now = engine.now();
    let dry = options.dry_run || engine.store.is_read_only();
    let store = &engine.store;
    let stored: HashMap<String, StoredRecord> = store
        .records_with_origins()
        .await?
        .into_iter()
        .map(|r| (r.record.id.clone(), r))
        .collect();
    let known_sites = store.sites().await?;
    let copies = store.all_copies().await?;
    let conflicts = store.all_conflicts().await?;
    let previous = store.controllers().await?;

    let reads = join_all(engine.controllers.iter().enumerate().map(|(i, c)| {
        let before = previous.iter().find(|p| p.name == c.config.name);
        read_controller(engine, i, c, &known_sites, before, dry, now)
    }))
    .await;
    let mut reads: Vec<ControllerRead> = reads.into_iter().collect::<Result<_, _>>()?;
    reads.sort_by_key(|r| r.index);

    let mut copies_by_site: HashMap<i64, Vec<SyncedCopy>> = HashMap::new();
    for c in copies {
        copies_by_site.entry(c.site_id).or_default().push(c);
    }
    let mut origins_by_site: HashMap<i64, Vec<Origin>> = HashMap::new();
    for r in stored.values() {
        for o in &r.origins {
            origins_by_site
                .entry(o.site_id)
                .or_default()
                .push(o.clone());
        }
    }
    let mut conflicts_by_site: HashMap<i64, BTreeMap<String, unifi_dns_sync_store::Conflict>> =
        HashMap::new();
    for c in conflicts {
        conflicts_by_site
            .entry(c.site_id)
            .or_default()
            .insert(c.record_id.clone(), c);
    }

    let mut out = Discovered {
        records: HashMap::new(),
        plan_sites: vec![],
        summaries: vec![],
        books: HashMap::new(),
        record_data: stored
            .iter()
            .map(|(id, r)| (id.clone(), r.record.clone()))
            .collect(),
        controllers_failed: reads
            .iter()
            .filter_map(|r| {
                r.error.as_ref().map(|error| ControllerFailure {
                    controller: engine.controllers[r.index].config.name.clone(),
                    error: error.clone(),
                })
            })
            .collect(),
    };
    // Origins after this cycle, per site (sites read completely are replaced below).
    let mut origins_after: HashMap<i64, Vec<Origin>> = origins_by_site.clone();
    // Versions of a record (its attributes) as each origin site showed them this cycle.
    let mut seen_versions: HashMap<String, Vec<(i64, Record, serde_json::Value)>> = HashMap::new();
    let mut site_changes: Vec<(i64, OriginChanges)> = vec![];
    let mut adoptions: Vec<(i64, String, String)> = vec![];
    let mut reads_to_record: Vec<SiteRead> = vec![];

    for read in &reads {
        let controller = &engine.controllers[read.index];
        for site in &read.unread {
            let summary = SiteSummary {
                site_id: site.id,
                label: site.label(),
                controller: site.controller.clone(),
                name: site.name.clone(),
                uuid: site.uuid.clone(),
                complete: false,
                dns_policies: read.supported,
                error: read.error.clone(),
                warnings: vec![],
                natives: 0,
                copies: copies_by_site.get(&site.id).map_or(0, Vec::len),
            };
            reads_to_record.push(SiteRead {
                site_id: site.id,
                complete: false,
                error: read.error.clone(),
            });
            out.plan_sites
                .push(plan_site(engine, controller, site, None));
            let registry = copies_by_site.remove(&site.id).unwrap_or_default();
            out.books
                .insert(site.id, book(site, &conflicts_by_site, registry));
            out.summaries.push(summary);
        }
        for sr in &read.sites {
            let site = &sr.site;
            // Moved, not copied: the registry is the largest thing discovery holds.
            let registry = copies_by_site.remove(&site.id).unwrap_or_default();
            let stored_origins = origins_by_site.get(&site.id).cloned().unwrap_or_default();
            let processed = process_site(
                engine,
                controller,
                sr,
                &registry,
                &stored_origins,
                &stored,
                now,
            );
            out.books
                .insert(site.id, book(site, &conflicts_by_site, registry));
            reads_to_record.push(SiteRead {
                site_id: site.id,
                complete: processed.complete,
                error: processed.error.clone(),
            });
            let live = if processed.complete && sr.supported {
                let refused = conflicts_by_site
                    .get(&site.id)
                    .map(|m| {
                        m.values()
                            .filter(|c| {
                                c.code
                                    .as_deref()
                                    .is_some_and(|code| REFUSAL_CODES.contains(&code))
                            })
                            .filter(|c| now - c.since < REFUSAL_RETRY)
                            .map(|c| (c.record_id.clone(), c.code.clone().unwrap_or_default()))
                            .collect()
                    })
                    .unwrap_or_default();
                Some(LiveSite {
                    natives: processed
                        .natives
                        .iter()
                        .map(|(r, _, _)| r.clone())
                        .collect(),
                    copies: processed.live_copies.clone(),
                    refused,
                })
            } else {
                None
            };
            if processed.complete {
                for (record, _source, raw) in &processed.origins_seen {
                    seen_versions.entry(record.id()).or_default().push((
                        site.id,
                        record.clone(),
                        raw.clone(),
                    ));
                }
                origins_after.insert(site.id, processed.origins_kept.clone());
                site_changes.push((site.id, processed.changes.clone()));
                for (record_id, policy_id) in &processed.adoptions {
                    adoptions.push((site.id, record_id.clone(), policy_id.clone()));
                }
            }
            out.summaries.push(SiteSummary {
                site_id: site.id,
                label: site.label(),
                controller: site.controller.clone(),
                name: site.name.clone(),
                uuid: site.uuid.clone(),
                complete: processed.complete,
                dns_policies: Some(sr.supported),
                error: processed.error.clone(),
                warnings: processed.warnings.clone(),
                natives: processed.natives.len(),
                copies: processed
                    .live_copies
                    .iter()
                    .filter(|c| c.live.is_some())
                    .count(),
            });
            out.plan_sites
                .push(plan_site(engine, controller, site, live));
        }
    }

    // Records and their attributes: the best origin's version wins (lowest controller priority,
    // then oldest first_seen, then smallest site id), so two origins with different TTLs never
    // make the record flip between cycles.
    let rank_of_site: HashMap<i64, i64> =
        out.plan_sites.iter().map(|s| (s.id, s.priority)).collect();
    let mut records: HashMap<String, (Record, serde_json::Value)> = HashMap::new();
    for (id, r) in &stored {
        if let Some(record) = record_from_data(&r.record) {
            records.insert(id.clone(), (record, r.record.raw.clone()));
        }
    }
    let first_seen_of = |record_id: &str, site: i64| -> i64 {
        stored
            .get(record_id)
            .and_then(|r| r.origins.iter().find(|o| o.site_id == site))
            .map_or(ms(now), |o| ms(o.first_seen))
    };
    let mut attribute_source: HashMap<String, i64> = HashMap::new();
    for (id, versions) in &seen_versions {
        let best = versions.iter().min_by_key(|(site, _, _)| {
            (
                rank_of_site.get(site).copied().unwrap_or(i64::MAX),
                first_seen_of(id, *site),
                *site,
            )
        });
        if let Some((site, record, raw)) = best {
            let entry = records
                .entry(id.clone())
                .or_insert_with(|| (record.clone(), raw.clone()));
            if !entry.0.same_attributes(record) || entry.1 != *raw {
                attribute_source.insert(id.clone(), *site);
            }
            entry.0 = record.clone();
            entry.1 = raw.clone();
        }
    }
    for (site_id, changes) in &mut site_changes {
        // A new record is upserted by every site adding an origin for it; changed attributes by
        // the site they came from.
        let adds: HashSet<&str> = changes.add.iter().map(|o| o.record_id.as_str()).collect();
        let mut upserts = vec![];
        for (id, (record, raw)) in &records {
            let new = adds.contains(id.as_str()) && !stored.contains_key(id);
            if new || attribute_source.get(id) == Some(site_id) {
                upserts.push(record_data(record, raw));
            }
        }
        upserts.sort_by(|a, b| a.id.cmp(&b.id));
        changes.upsert_records = upserts;
    }
    for (id, (record, raw)) in &records {
        out.record_data.insert(id.clone(), record_data(record, raw));
    }

    // The planner's records: every record with its origins after this cycle.
    for (site_id, origins) in &origins_after {
        for o in origins {
            let Some((record, _)) = records.get(&o.record_id) else {
                continue;
            };
            out.records
                .entry(o.record_id.clone())
                .or_insert_with(|| PlanRecord {
                    record: record.clone(),
                    origins: vec![],
                })
                .origins
                .push(PlanOrigin {
                    site_id: *site_id,
                    first_seen: ms(o.first_seen),
                });
        }
    }
    // Copies whose record has no origin left still need the record for their delete event.
    for (id, (record, _)) in &records {
        out.records.entry(id.clone()).or_insert_with(|| PlanRecord {
            record: record.clone(),
            origins: vec![],
        });
    }

    if !dry {
        for (site_id, changes) in &site_changes {
            if !changes.is_empty() {
                store.apply_origin_changes(*site_id, changes, now).await?;
            }
        }
        store.record_site_reads(&reads_to_record, now).await?;
        for (site_id, record_id, policy_id) in &adoptions {
            store
                .activate_copy(*site_id, record_id, policy_id, None, now)
                .await?;
        }
        for read in &reads {
            for sr in &read.sites {
                store
                    .set_policy_support(sr.site.id, Some(sr.supported))
                    .await?;
            }
        }
    }
    Ok(out)
}

fn book(
    site: &Site,
    conflicts: &HashMap<i64, BTreeMap<String, unifi_dns_sync_store::Conflict>>,
    registry: Vec<SyncedCopy>,
) -> SiteBook {
    SiteBook {
        open_conflicts: conflicts.get(&site.id).cloned().unwrap_or_default(),
        uuid: site.uuid.clone(),
        controller: site.controller.clone(),
        withheld: site.withheld_deletes,
        registry: registry
            .into_iter()
            .map(|c| (c.record_id.clone(), c))
            .collect(),
    }
}

fn plan_site(
    engine: &Engine,
    controller: &Controller,
    site: &Site,
    live: Option<LiveSite>,
) -> PlanSite {
    PlanSite {
        id: site.id,
        controller: controller.config.name.clone(),
        priority: controller.config.priority,
        rules: engine.config.site_policy(
            &controller.config.name,
            &[&site.internal_reference, &site.name, &site.uuid],
        ),
        live,
    }
}

async fn read_controller(
    engine: &Engine,
    index: usize,
    controller: &Controller,
    known: &[Site],
    previous: Option<&ControllerState>,
    dry: bool,
    now: OffsetDateTime,
) -> Result<ControllerRead, EngineError> {
    let cfg = &controller.config;
    let client = &controller.client;
    let manages =
        |s: &Site| !s.is_removed() && cfg.manages_site(&[&s.internal_reference, &s.name, &s.uuid]);
    let known_here: Vec<Site> = known
        .iter()
        .filter(|s| s.controller == cfg.name && manages(s))
        .cloned()
        .collect();
    let mut state = ControllerState {
        name: cfg.name.clone(),
        url: cfg.url.clone(),
        key_fingerprint: Some(cfg.api_key.fingerprint()),
        app_version: None,
        last_contact: None,
        last_error: None,
    };
    let failed = |error: String, mut state: ControllerState, supported: Option<bool>| async move {
        tracing::warn!(controller = %cfg.name, "{error}");
        state.last_error = Some(error.clone());
        // Keep what the last good contact learnt: `status` shows when that was.
        if let Some(before) = previous {
            state.app_version = state.app_version.or_else(|| before.app_version.clone());
            state.last_contact = state.last_contact.or(before.last_contact);
        }
        if !dry {
            engine.store.upsert_controller(&state).await?;
        }
        Ok::<_, EngineError>(ControllerRead {
            index,
            supported,
            error: Some(error),
            sites: vec![],
            unread: known_here.clone(),
        })
    };
    let info = match client.info().await {
        Ok(info) => info,
        Err(e) => return failed(e.to_string(), state, None).await,
    };
    let supported = info.supports_dns_policies();
    state.app_version = Some(info.application_version.clone());
    state.last_contact = Some(now);
    let listing = match client.sites().await {
        Ok(sites) => sites,
        Err(e) => return failed(e.to_string(), state, Some(supported)).await,
    };
    if !dry {
        engine.store.upsert_controller(&state).await?;
    }
    let listing: Vec<SiteListing> = listing
        .into_iter()
        .map(|s| SiteListing {
            uuid: s.id,
            internal_reference: s.internal_reference,
            name: s.name,
        })
        .collect();
    let sites = if dry {
        emulate_sync_sites(&cfg.name, &listing, known)
    } else {
        engine.store.sync_sites(&cfg.name, &listing, now).await?
    };
    let managed: Vec<Site> = sites.into_iter().filter(manages).collect();
    let clients_enabled = engine.config.sync.clients.enabled;
    // At most `max_parallel_reads` sites are read at a time (the client also bounds requests):
    // a site's raw pages live only while it is read, so memory follows the limit, not the
    // number of sites.
    let site_reads = (cfg.max_parallel_reads as usize).max(1);
    let reads: Vec<SiteRead_> = futures::stream::iter(managed.into_iter().map(|site| async move {
        let policies = if supported {
            client
                .dns_policies(&site.uuid)
                .await
                .map_err(|e| e.to_string())
        } else {
            Ok(vec![])
        };
        let clients = if clients_enabled {
            Some(client.clients(&site.uuid).await.map_err(|e| e.to_string()))
        } else {
            None
        };
        SiteRead_ {
            site,
            policies,
            clients,
            supported,
        }
    }))
    .buffered(site_reads)
    .collect()
    .await;
    Ok(ControllerRead {
        index,
        supported: Some(supported),
        error: None,
        sites: reads,
        unread: vec![],
    })
}

/// `sync_sites` without writing (dry runs): known sites keep their ids; a new site gets a
/// negative id derived from its controller and UUID, so ids never collide across controllers.
fn emulate_sync_sites(controller: &str, listing: &[SiteListing], known: &[Site]) -> Vec<Site> {
    listing
        .iter()
        .map(|l| {
            match known
                .iter()
                .find(|s| s.controller == controller && s.uuid == l.uuid)
            {
                Some(s) => Site {
                    internal_reference: l.internal_reference.clone(),
                    name: l.name.clone(),
                    removed_at: None,
                    ..s.clone()
                },
                None => Site {
                    id: provisional_site_id(controller, &l.uuid),
                    controller: controller.to_owned(),
                    uuid: l.uuid.clone(),
                    internal_reference: l.internal_reference.clone(),
                    name: l.name.clone(),
                    first_seen: OffsetDateTime::UNIX_EPOCH,
                    last_synced: None,
                    last_read_at: None,
                    last_read_complete: false,
                    last_error: None,
                    removed_at: None,
                    withheld_deletes: 0,
                    policy_support: None,
                },
            }
        })
        .collect()
}

/// A stable negative id for a site the database does not know yet (dry runs only).
fn provisional_site_id(controller: &str, uuid: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{controller}/{uuid}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    -((u64::from_be_bytes(bytes) >> 2) as i64) - 1
}

/// One site's read turned into the planner's view and origin changes.
struct Processed {
    complete: bool,
    error: Option<String>,
    warnings: Vec<String>,
    /// Native records with their source id (policy id or MAC) and raw fields.
    natives: Vec<(Record, String, serde_json::Value)>,
    live_copies: Vec<LiveCopy>,
    adoptions: Vec<(String, String)>,
    /// Origins seen this cycle (record, source id, raw).
    origins_seen: Vec<(Record, String, serde_json::Value)>,
    /// The site's origins after this cycle (stored ones kept plus new ones).
    origins_kept: Vec<Origin>,
    changes: OriginChanges,
}

fn process_site(
    engine: &Engine,
    controller: &Controller,
    read: &SiteRead_,
    registry: &[SyncedCopy],
    stored_origins: &[Origin],
    stored_records: &HashMap<String, StoredRecord>,
    now: OffsetDateTime,
) -> Processed {
    let site = &read.site;
    let mut p = Processed {
        complete: false,
        error: None,
        warnings: vec![],
        natives: vec![],
        live_copies: vec![],
        adoptions: vec![],
        origins_seen: vec![],
        origins_kept: stored_origins.to_vec(),
        changes: OriginChanges::default(),
    };
    let policies = match &read.policies {
        Ok(p) => p,
        Err(e) => {
            p.error = Some(format!("reading DNS policies of {}: {e}", site.label()));
            return p;
        }
    };
    let clients = match &read.clients {
        Some(Err(e)) => {
            p.error = Some(format!("reading clients of {}: {e}", site.label()));
            return p;
        }
        Some(Ok(c)) => Some(c),
        None => None,
    };
    p.complete = true;
    if !read.supported {
        p.warnings.push(format!(
            "{} runs a Network application without DNS policies (needs 10.1.68 or later): it can publish client names but receives no copies",
            controller.config.name
        ));
    }
    let cfg = &engine.config;
    let rules = cfg.site_policy(
        &controller.config.name,
        &[&site.internal_reference, &site.name, &site.uuid],
    );

    // Copies are the live policies whose id the registry holds; a PENDING row is adopted by a
    // live policy with its record that no row owns (a create whose answer was lost).
    let owned: HashMap<&str, &SyncedCopy> = registry
        .iter()
        .filter_map(|c| c.policy_id.as_deref().map(|id| (id, c)))
        .collect();
    let mut pending: HashSet<&str> = registry
        .iter()
        .filter(|c| c.state == CopyState::Pending)
        .map(|c| c.record_id.as_str())
        .collect();
    let mut live_by_row: HashMap<String, (String, Record)> = HashMap::new();
    let mut native_names: HashSet<String> = HashSet::new();
    for policy in policies {
        let record = match record_of(policy) {
            Ok(r) => r,
            Err(e) => {
                p.warnings.push(format!(
                    "policy {} ({}) on {} is ignored: {e}",
                    policy.id,
                    policy.domain,
                    site.label()
                ));
                native_names.insert(canonical_domain(&policy.domain));
                continue;
            }
        };
        if let Some(copy) = owned.get(policy.id.as_str()) {
            live_by_row.insert(copy.record_id.clone(), (policy.id.clone(), record));
            continue;
        }
        let id = record.id();
        if pending.remove(id.as_str()) {
            p.adoptions.push((id.clone(), policy.id.clone()));
            live_by_row.insert(id, (policy.id.clone(), record));
            continue;
        }
        native_names.insert(record.name.clone());
        let raw = serde_json::to_value(policy.body().to_json()).unwrap_or_default();
        p.natives.push((record, policy.id.clone(), raw));
    }
    for row in registry {
        let live = live_by_row.get(&row.record_id);
        let adopted = p.adoptions.iter().any(|(r, _)| r == &row.record_id);
        p.live_copies.push(LiveCopy {
            record_id: row.record_id.clone(),
            policy_id: live
                .map(|(id, _)| id.clone())
                .or_else(|| if adopted { None } else { row.policy_id.clone() }),
            live: live.map(|(_, r)| r.clone()),
            source_site: row.source_site_id,
        });
    }

    // Origins: natives of allowed types that pass the site's filters, and client names.
    let allowed =
        |r: &Record| cfg.sync.record_types.contains(&r.rtype) && rules.allows_name(&r.name);
    let mut seen: Vec<(Record, OriginKind, String, serde_json::Value)> = p
        .natives
        .iter()
        .filter(|(r, _, _)| allowed(r))
        .map(|(r, source, raw)| (r.clone(), OriginKind::Policy, source.clone(), raw.clone()))
        .collect();
    if let Some(clients) = clients {
        let suffix = canonical_domain(
            &rules
                .clients_domain
                .render(&site.internal_reference, &controller.config.name),
        );
        for (record, mac) in client_records(
            clients,
            &cfg.sync.clients.types,
            &suffix,
            cfg.sync.clients.ttl,
            &native_names,
            &mut p.warnings,
            &site.label(),
        ) {
            if allowed(&record) {
                seen.push((
                    record,
                    OriginKind::Client,
                    mac,
                    serde_json::json!({"source": "client"}),
                ));
            }
        }
    }
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    seen.retain(|(r, _, _, _)| seen_ids.insert(r.id(), 0).is_none());

    let stored: HashMap<&str, &Origin> = stored_origins
        .iter()
        .map(|o| (o.record_id.as_str(), o))
        .collect();
    let retention =
        time::Duration::try_from(cfg.sync.clients.retention).unwrap_or(time::Duration::DAY);
    let touch_after = touch_interval(cfg.sync.clients.retention);
    let seen_macs: HashMap<&str, String> = seen
        .iter()
        .filter(|(_, k, _, _)| *k == OriginKind::Client)
        .map(|(r, _, mac, _)| (mac.as_str(), r.id()))
        .collect();
    let mut kept = vec![];
    for (record, kind, source, raw) in &seen {
        let id = record.id();
        match stored.get(id.as_str()) {
            Some(o) => {
                if now - o.last_seen >= touch_after {
                    p.changes.touch.push((id.clone(), now));
                }
                kept.push(Origin {
                    last_seen: now,
                    ..(*o).clone()
                });
            }
            None => {
                p.changes.add.push(NewOrigin {
                    record_id: id.clone(),
                    kind: *kind,
                    source_id: source.clone(),
                });
                kept.push(Origin {
                    record_id: id.clone(),
                    site_id: site.id,
                    kind: *kind,
                    source_id: source.clone(),
                    first_seen: now,
                    last_seen: now,
                });
            }
        }
        p.origins_seen
            .push((record.clone(), source.clone(), raw.clone()));
    }
    let seen_set: HashSet<String> = seen.iter().map(|(r, _, _, _)| r.id()).collect();
    // Names held this cycle by a connected client or by one of the site's own policies.
    let taken: HashSet<&str> = seen
        .iter()
        .filter(|(_, k, _, _)| *k == OriginKind::Client)
        .map(|(r, _, _, _)| r.name.as_str())
        .chain(native_names.iter().map(String::as_str))
        .collect();
    for o in stored_origins {
        if seen_set.contains(&o.record_id) {
            continue;
        }
        let keep = match o.kind {
            OriginKind::Policy => false,
            // A client keeps its name for `retention` after it was last seen, unless it is
            // connected now under another name or address, or its name is now held by another
            // connected client or by a policy of the site (its old origin goes at once).
            OriginKind::Client => {
                let name_taken = stored_records
                    .get(&o.record_id)
                    .is_some_and(|r| taken.contains(r.record.name.as_str()));
                !seen_macs.contains_key(o.source_id.as_str())
                    && !name_taken
                    && now - o.last_seen < retention
                    && clients.is_some()
            }
        };
        if keep {
            kept.push(o.clone());
        } else {
            p.changes.remove.push(o.record_id.clone());
        }
    }
    p.origins_kept = kept;
    p
}

/// How stale an origin's `last_seen` may get before it is written again: writes stay
/// proportional to change, while client retention keeps a resolution of a tenth of its window.
fn touch_interval(retention: Duration) -> time::Duration {
    let tenth = retention / 10;
    let clamped = tenth.clamp(Duration::from_secs(1), Duration::from_secs(3600));
    time::Duration::try_from(clamped).unwrap_or(time::Duration::HOUR)
}

/// A records for connected clients: `label.suffix` → IPv4, keyed by MAC (SPEC §5.1).
fn client_records(
    clients: &[ConnectedClient],
    types: &[ClientType],
    suffix: &str,
    ttl: u32,
    native_names: &HashSet<String>,
    warnings: &mut Vec<String>,
    site_label: &str,
) -> Vec<(Record, String)> {
    let mut by_name: BTreeMap<String, (&ConnectedClient, Record, String)> = BTreeMap::new();
    for c in clients {
        if !types.iter().any(|t| t.api_name() == c.kind.api_name()) {
            continue;
        }
        let (Some(name), Some(ip), Some(mac)) = (&c.name, &c.ip_address, &c.mac_address) else {
            continue;
        };
        let Ok(ip) = ip.trim().parse::<std::net::Ipv4Addr>() else {
            continue;
        };
        let Some(label) = client_label(name) else {
            continue;
        };
        let fqdn = if suffix.is_empty() {
            label
        } else {
            format!("{label}.{suffix}")
        };
        if native_names.contains(&fqdn) {
            continue;
        }
        let record = Record {
            rtype: RecordType::A,
            name: fqdn.clone(),
            value: ip.to_string(),
            ttl: Some(ttl),
            enabled: true,
        };
        match by_name.get(&fqdn) {
            Some((other, _, _)) if other.connected_at >= c.connected_at => {
                warnings.push(format!("{site_label}: clients {} and {} both want the name {fqdn}; the most recently connected ({}) keeps it", mac, other.mac_address.as_deref().unwrap_or("?"), other.mac_address.as_deref().unwrap_or("?")));
            }
            Some((other, _, _)) => {
                warnings.push(format!("{site_label}: clients {} and {} both want the name {fqdn}; the most recently connected ({mac}) keeps it", other.mac_address.as_deref().unwrap_or("?"), mac));
                by_name.insert(fqdn, (c, record, mac.to_ascii_lowercase()));
            }
            None => {
                by_name.insert(fqdn, (c, record, mac.to_ascii_lowercase()));
            }
        }
    }
    by_name.into_values().map(|(_, r, mac)| (r, mac)).collect()
}

pub(crate) fn record_data(record: &Record, raw: &serde_json::Value) -> RecordData {
    RecordData::new(
        record.rtype.as_str(),
        record.name.clone(),
        record.value.clone(),
        record.ttl.map(i64::from),
        record.enabled,
        raw.clone(),
    )
}

pub(crate) fn record_from_data(data: &RecordData) -> Option<Record> {
    Some(Record {
        rtype: data.rtype.parse().ok()?,
        name: data.name.clone(),
        value: data.value.clone(),
        ttl: data.ttl.and_then(|t| u32::try_from(t).ok()),
        enabled: data.enabled,
    })
}

fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}
