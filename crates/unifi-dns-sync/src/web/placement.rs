//! Where each record stands on each site, and why: the one model the JSON API ([`super::api`])
//! and the dashboard pages ([`super::pages`]) both render, so the two never disagree.
//!
//! Everything here is computed from the database and the configuration (never from a console):
//! - [`Sites`]: every known site ([`SiteInfo`]) with its effective [`SitePolicy`], whether it is
//!   managed (and why not), its label, and lookups by id; [`matching_sites`] resolves a
//!   `controller/site` selector as the CLI's `--site` does, and [`site_label`] names a site id
//!   (`site #N` when it is unknown).
//! - [`Placement`]: the copies and conflicts the engine keeps, by (site, record); [`held_on`]
//!   counts what one site holds.
//! - [`why_not_wanted`]: the desired-state rules of SPEC §5.2 as the planner applies them
//!   (`crate::plan`), with the reason in words when a copy is not wanted.
//! - [`state_on`]: a record's [`State`] on one site (SPEC §5.2–§5.3: origin, conflict, skipped,
//!   present, pending, missing, unsupported or not wanted) with the facts behind it.
//! - [`record_matches`] and [`listing_order`]: which records a `domain`/`type` filter keeps and
//!   the order every listing shows them in.
//!
//! The renderers only translate: `api.rs` into its `state` strings and fields, `pages/model.rs`
//! into a cell with a label and the reason in words.

use std::cmp::Ordering;
use std::collections::HashMap;

use unifi_dns_sync_store::{
    Conflict, CopyState, Counts, Origin, Site, SiteId, Store, StoreError, StoredRecord, SyncedCopy,
};

use crate::config::{Config, SitePolicy};
use crate::glob::glob_match;
use crate::record_type::RecordType;

// ---------------------------------------------------------------------------------------------
// Sites

/// A site row with its effective settings.
pub struct SiteInfo {
    pub site: Site,
    pub rules: SitePolicy,
    /// Not removed, its controller is configured and selects it.
    pub managed: bool,
    /// Why it is not managed (None when it is).
    pub unmanaged_why: Option<String>,
}

impl SiteInfo {
    pub fn new(site: Site, config: &Config) -> SiteInfo {
        let keys = [
            site.internal_reference.as_str(),
            site.name.as_str(),
            site.uuid.as_str(),
        ];
        let rules = config.site_policy(&site.controller, &keys);
        let unmanaged_why = match config.controller(&site.controller) {
            None => Some(format!(
                "controller {} is no longer configured",
                site.controller
            )),
            Some(_) if site.is_removed() => {
                Some("the controller no longer lists this site".to_string())
            }
            Some(c) if !c.manages_site(&keys) => Some(format!(
                "not selected by [[controller]] {}: sites = {:?}, exclude_sites = {:?}",
                c.name, c.sites, c.exclude_sites
            )),
            Some(_) => None,
        };
        SiteInfo {
            managed: unmanaged_why.is_none(),
            unmanaged_why,
            rules,
            site,
        }
    }
}

/// Every known site (managed or not, removed included), with lookups.
pub struct Sites {
    /// Sorted by label: controller, internalReference, then id.
    all: Vec<SiteInfo>,
    /// Indices into `all` in the order the store listed the sites (controller, then id).
    stored: Vec<usize>,
    index: HashMap<SiteId, usize>,
    /// Site id → `controller/site`, for every known site.
    pub labels: HashMap<SiteId, String>,
}

impl Sites {
    /// From the store's site rows (in the store's order) and the configuration.
    pub fn new(sites: Vec<Site>, config: &Config) -> Sites {
        let mut all: Vec<(usize, SiteInfo)> = sites
            .into_iter()
            .map(|s| SiteInfo::new(s, config))
            .enumerate()
            .collect();
        all.sort_by(|(_, a), (_, b)| {
            (
                a.site.controller.as_str(),
                a.site.internal_reference.as_str(),
                a.site.id,
            )
                .cmp(&(
                    b.site.controller.as_str(),
                    b.site.internal_reference.as_str(),
                    b.site.id,
                ))
        });
        let mut stored = vec![0; all.len()];
        for (i, (position, _)) in all.iter().enumerate() {
            stored[*position] = i;
        }
        let all: Vec<SiteInfo> = all.into_iter().map(|(_, s)| s).collect();
        let index = all
            .iter()
            .enumerate()
            .map(|(i, s)| (s.site.id, i))
            .collect();
        let labels = all.iter().map(|s| (s.site.id, s.site.label())).collect();
        Sites {
            all,
            stored,
            index,
            labels,
        }
    }

    /// Every site, by label.
    pub fn iter(&self) -> impl Iterator<Item = &SiteInfo> {
        self.all.iter()
    }

    /// Every site, in the order the store listed them (controller, then id).
    pub fn in_store_order(&self) -> impl Iterator<Item = &SiteInfo> {
        self.stored.iter().map(|i| &self.all[*i])
    }

    pub fn get(&self, id: SiteId) -> Option<&SiteInfo> {
        self.index.get(&id).map(|i| &self.all[*i])
    }

    /// The managed sites, by label.
    pub fn managed(&self) -> impl Iterator<Item = &SiteInfo> {
        self.all.iter().filter(|s| s.managed)
    }

    /// The sites that are not managed but still hold a copy or a conflict of `record`, by label:
    /// a record's state is shown there too.
    pub fn leftovers<'s>(
        &'s self,
        record: &'s str,
        placement: &'s Placement,
    ) -> impl Iterator<Item = &'s SiteInfo> {
        self.all.iter().filter(move |s| {
            !s.managed
                && (placement.copy(s.site.id, record).is_some()
                    || placement.conflict(s.site.id, record).is_some())
        })
    }

    /// `controller/site`, or `site #N` for an unknown id.
    pub fn label(&self, id: SiteId) -> String {
        site_label(&self.labels, id)
    }
}

/// A site id's label from `labels`, or `site #N` when it is not there (the engine's wording).
pub fn site_label(labels: &HashMap<SiteId, String>, id: SiteId) -> String {
    crate::engine::site_label(labels, id)
}

/// The sites a `controller/site` selector names (site = internalReference, name or UUID; the
/// controller part may be left out), as the CLI's `--site`, in the order given.
pub fn matching_sites<'a>(
    sites: impl IntoIterator<Item = &'a Site>,
    selector: &str,
) -> Vec<&'a Site> {
    let (controller, key) = match selector.split_once('/') {
        Some((c, s)) => (Some(c), s),
        None => (None, selector),
    };
    sites
        .into_iter()
        .filter(|s| {
            controller.is_none_or(|c| c == s.controller)
                && (s.internal_reference == key || s.name == key || s.uuid == key)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Copies and conflicts

/// The database's view of copies and conflicts, by (site, record).
pub struct Placement {
    /// Record id → site id → our copy there.
    copies: HashMap<String, HashMap<SiteId, SyncedCopy>>,
    /// Record id → site id → the open conflict there.
    conflicts: HashMap<String, HashMap<SiteId, Conflict>>,
}

impl Placement {
    pub fn new(copies: Vec<SyncedCopy>, conflicts: Vec<Conflict>) -> Placement {
        let mut placement = Placement {
            copies: HashMap::new(),
            conflicts: HashMap::new(),
        };
        for c in copies {
            let by_site = placement.copies.entry(c.record_id.clone()).or_default();
            by_site.insert(c.site_id, c);
        }
        for c in conflicts {
            let by_site = placement.conflicts.entry(c.record_id.clone()).or_default();
            by_site.insert(c.site_id, c);
        }
        placement
    }

    /// Every copy and conflict, or only those of one record.
    pub async fn load(store: &Store, record: Option<&str>) -> Result<Placement, StoreError> {
        let copies = match record {
            Some(id) => store.copies_of_record(id).await?,
            None => store.all_copies().await?,
        };
        let mut conflicts = store.all_conflicts().await?;
        conflicts.retain(|c| record.is_none_or(|id| id == c.record_id));
        Ok(Placement::new(copies, conflicts))
    }

    pub fn copy(&self, site: SiteId, record: &str) -> Option<&SyncedCopy> {
        self.copies.get(record)?.get(&site)
    }

    pub fn conflict(&self, site: SiteId, record: &str) -> Option<&Conflict> {
        self.conflicts.get(record)?.get(&site)
    }
}

/// What one site holds, from the store's summary counts.
pub struct Held {
    /// Active copies.
    pub copies: i64,
    /// Copies being created.
    pub pending: i64,
    /// Open conflicts (refusals by the console included).
    pub conflicts: i64,
}

/// What `site` holds according to `counts`.
pub fn held_on(counts: &Counts, site: SiteId) -> Held {
    let copies = counts
        .copies_by_site
        .get(&site)
        .copied()
        .unwrap_or_default();
    Held {
        copies: copies.active,
        pending: copies.pending,
        conflicts: counts.conflicts_by_site.get(&site).copied().unwrap_or(0),
    }
}

// ---------------------------------------------------------------------------------------------
// Desired state and the state on a site

/// Why `record` is not desired as a copy on `target` (`Ok` = it is desired), following
/// SPEC §5.2 before conflicts (competing origins and shadowing show as conflicts).
pub fn why_not_wanted(
    record: &StoredRecord,
    target: &SiteInfo,
    sites: &Sites,
    config: &Config,
) -> Result<(), String> {
    if let Some(why) = &target.unmanaged_why {
        return Err(format!("this site is not managed: {why}"));
    }
    if record.origins.iter().any(|o| o.site_id == target.site.id) {
        return Err("it is native here".into());
    }
    let rtype = record.record.rtype.parse::<RecordType>().ok();
    if !rtype.is_some_and(|t| config.sync.record_types.contains(&t)) {
        return Err(format!(
            "type {} is not in [sync] record_types",
            record.record.rtype
        ));
    }
    if record.origins.is_empty() {
        return Err("no origin is left: the record is being withdrawn".into());
    }
    if !target.rules.receive {
        return Err("this site does not receive copies (receive = false)".into());
    }
    if !target.rules.allows_name(&record.record.name) {
        return Err(format!(
            "filtered out by this site's domain filters (domains = {:?}, exclude_domains = {:?})",
            target.rules.domains, target.rules.exclude_domains
        ));
    }
    let origin_sites: Vec<&SiteInfo> = record
        .origins
        .iter()
        .filter_map(|o| sites.get(o.site_id))
        .filter(|s| s.managed)
        .collect();
    if origin_sites.is_empty() {
        return Err("none of its origin sites is managed".into());
    }
    let publishing: Vec<&&SiteInfo> = origin_sites.iter().filter(|s| s.rules.publish).collect();
    if publishing.is_empty() {
        return Err("its origin site does not publish (publish = false)".into());
    }
    let eligible: Vec<&&SiteInfo> = publishing
        .into_iter()
        .filter(|s| s.rules.allows_name(&record.record.name))
        .collect();
    if eligible.is_empty() {
        return Err("filtered out by its origin site's domain filters".into());
    }
    if config.sync.exclude_same_controller
        && eligible
            .iter()
            .all(|s| s.site.controller == target.site.controller)
    {
        return Err(format!(
            "its origin is on the same controller ({}) and exclude_same_controller = true",
            target.site.controller
        ));
    }
    Ok(())
}

/// A record's state on one site. The first that applies wins, in this order.
#[derive(Debug, Clone, Copy)]
pub enum State<'a> {
    /// Native there (SPEC §5.2: never a copy there).
    Origin(&'a Origin),
    /// A conflict without a console code: shadowed by a native record or a competing origin
    /// (SPEC §5.3); `reason` says which.
    Conflict(&'a Conflict),
    /// The console refused the copy: a conflict with the console's code.
    Skipped(&'a Conflict, &'a str),
    /// Our copy is there (wanted or not: one not wanted is deleted by the next cycle).
    Present(&'a SyncedCopy),
    /// Our copy is being created (a registry row without a policy id yet).
    Pending(&'a SyncedCopy),
    /// Wanted and not copied yet: the next cycle creates it.
    Missing,
    /// Wanted, but the site's console has no DNS policies.
    Unsupported,
    /// Not wanted there; [`SiteState::wanted`] says why.
    NotWanted,
}

/// A record's [`State`] on one site with the facts that explain it.
pub struct SiteState<'a> {
    pub state: State<'a>,
    /// Whether the configuration wants a copy there ([`why_not_wanted`]; never on an origin
    /// site nor on a site that is not managed), with the reason in words when it does not.
    pub wanted: Result<(), String>,
    /// Our copy on the site, if any, whatever decided the state.
    pub copy: Option<&'a SyncedCopy>,
    /// The open conflict on the site, if any, whatever decided the state.
    pub conflict: Option<&'a Conflict>,
}

/// The state of `record` on `target` (any known site, managed or not), with the reason.
pub fn state_on<'a>(
    record: &'a StoredRecord,
    target: &SiteInfo,
    sites: &Sites,
    placement: &'a Placement,
    config: &Config,
) -> SiteState<'a> {
    let site_id = target.site.id;
    let copy = placement.copy(site_id, &record.record.id);
    let conflict = placement.conflict(site_id, &record.record.id);
    let wanted = why_not_wanted(record, target, sites, config);
    let state = if let Some(o) = record.origins.iter().find(|o| o.site_id == site_id) {
        State::Origin(o)
    } else if let Some(c) = conflict {
        match c.code.as_deref() {
            Some(code) => State::Skipped(c, code),
            None => State::Conflict(c),
        }
    } else if let Some(c) = copy {
        match c.state {
            CopyState::Active => State::Present(c),
            CopyState::Pending => State::Pending(c),
        }
    } else if wanted.is_err() {
        State::NotWanted
    } else if target.site.policy_support == Some(false) {
        State::Unsupported
    } else {
        State::Missing
    };
    SiteState {
        state,
        wanted,
        copy,
        conflict,
    }
}

// ---------------------------------------------------------------------------------------------
// Listing records

/// Whether a record passes a listing's filters: a domain glob and a record type.
pub fn record_matches(
    record: &StoredRecord,
    domain: Option<&str>,
    rtype: Option<RecordType>,
) -> bool {
    domain.is_none_or(|g| glob_match(g, &record.record.name))
        && rtype.is_none_or(|t| t.as_str() == record.record.rtype)
}

/// The order records are listed in: by name, type, then value.
pub fn listing_order(a: &StoredRecord, b: &StoredRecord) -> Ordering {
    (&a.record.name, &a.record.rtype, &a.record.value).cmp(&(
        &b.record.name,
        &b.record.rtype,
        &b.record.value,
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use time::OffsetDateTime;
    use unifi_dns_sync_store::{OriginKind, RecordData};

    use super::*;

    const CONFIG: &str = r#"
[sync]
record_types = ["A", "CNAME"]

[[controller]]
name = "hq"
url = "https://192.0.2.1"
api_key_env = "KEY_HQ"

[[controller]]
name = "branch"
url = "https://192.0.2.2"
api_key_env = "KEY_BRANCH"
sites = ["default"]

[[site]]
match = "branch/default"
domains = ["*.branch.example"]
"#;

    fn config() -> Config {
        let env = BTreeMap::from([
            ("KEY_HQ".to_owned(), "hq-key".to_owned()),
            ("KEY_BRANCH".to_owned(), "branch-key".to_owned()),
        ]);
        crate::config::load_str(CONFIG, None, &env).expect("the test configuration loads")
    }

    fn site(id: SiteId, controller: &str, reference: &str, policies: Option<bool>) -> Site {
        Site {
            id,
            controller: controller.to_owned(),
            uuid: format!("uuid-{id}"),
            internal_reference: reference.to_owned(),
            name: reference.to_uppercase(),
            first_seen: OffsetDateTime::UNIX_EPOCH,
            last_synced: None,
            last_read_at: None,
            last_read_complete: true,
            last_error: None,
            removed_at: None,
            withheld_deletes: 0,
            policy_support: policies,
        }
    }

    /// As the store lists them (controller, then id): hq/zeta (1) comes before hq/default (4)
    /// here, after it by label.
    fn sites(config: &Config) -> Sites {
        Sites::new(
            vec![
                site(2, "branch", "default", Some(true)),
                site(3, "branch", "lab", Some(true)),
                site(1, "hq", "zeta", Some(false)),
                site(4, "hq", "default", Some(true)),
            ],
            config,
        )
    }

    fn record(name: &str, origin_sites: &[SiteId]) -> StoredRecord {
        let record = RecordData::new(
            "A",
            name,
            "10.0.0.5",
            Some(300),
            true,
            serde_json::json!({}),
        );
        StoredRecord {
            origins: origin_sites
                .iter()
                .map(|site_id| Origin {
                    record_id: record.id.clone(),
                    site_id: *site_id,
                    kind: OriginKind::Policy,
                    source_id: format!("policy-{site_id}"),
                    first_seen: OffsetDateTime::UNIX_EPOCH,
                    last_seen: OffsetDateTime::UNIX_EPOCH,
                })
                .collect(),
            record,
            first_seen: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn copy(site_id: SiteId, record: &StoredRecord) -> SyncedCopy {
        SyncedCopy {
            site_id,
            record_id: record.record.id.clone(),
            policy_id: Some(format!("copy-{site_id}")),
            state: CopyState::Active,
            created_at: OffsetDateTime::UNIX_EPOCH,
            verified_at: None,
            source_site_id: Some(4),
        }
    }

    fn conflict(site_id: SiteId, record: &StoredRecord, code: Option<&str>) -> Conflict {
        Conflict {
            site_id,
            record_id: record.record.id.clone(),
            reason: "shadowed".to_owned(),
            code: code.map(str::to_owned),
            detail: None,
            since: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn name(state: &State) -> &'static str {
        match state {
            State::Origin(_) => "origin",
            State::Conflict(_) => "conflict",
            State::Skipped(..) => "skipped",
            State::Present(_) => "present",
            State::Pending(_) => "pending",
            State::Missing => "missing",
            State::Unsupported => "unsupported",
            State::NotWanted => "not_wanted",
        }
    }

    #[test]
    fn sites_know_both_orders_what_is_managed_and_selectors() {
        let config = config();
        let sites = sites(&config);
        let labels = |it: &mut dyn Iterator<Item = &SiteInfo>| {
            it.map(|s| s.site.label()).collect::<Vec<_>>()
        };
        assert_eq!(
            labels(&mut sites.iter()),
            ["branch/default", "branch/lab", "hq/default", "hq/zeta"]
        );
        assert_eq!(
            labels(&mut sites.in_store_order()),
            ["branch/default", "branch/lab", "hq/zeta", "hq/default"]
        );
        assert_eq!(
            labels(&mut sites.managed()),
            ["branch/default", "hq/default", "hq/zeta"]
        );
        let lab = sites.get(3).unwrap();
        assert!(
            lab.unmanaged_why
                .as_deref()
                .unwrap()
                .contains("not selected")
        );
        assert_eq!(sites.label(4), "hq/default");
        assert_eq!(sites.label(99), "site #99");

        let rows: Vec<Site> = sites.iter().map(|s| s.site.clone()).collect();
        let ids = |selector: &str| {
            matching_sites(&rows, selector)
                .iter()
                .map(|s| s.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids("default"), [2, 4]);
        assert_eq!(ids("hq/default"), [4]);
        assert_eq!(ids("branch/LAB"), [3]);
        assert_eq!(ids("hq/uuid-1"), [1]);
        assert!(ids("nowhere/default").is_empty());
    }

    #[test]
    fn the_state_on_each_site_follows_spec_5_2_and_5_3() {
        let config = config();
        let sites = sites(&config);
        let printer = record("printer.hq.example", &[4]);
        let cam = record("cam.branch.example", &[2]);
        let placement = Placement::new(
            vec![copy(3, &printer), copy(2, &cam), copy(4, &cam)],
            vec![conflict(4, &cam, Some("api.dns.policy.validation.overlap"))],
        );
        let on = |r: &StoredRecord, site: SiteId| {
            let st = state_on(r, sites.get(site).unwrap(), &sites, &placement, &config);
            (name(&st.state), st.wanted)
        };
        let not_wanted = |r: &StoredRecord, site: SiteId, why: &str| {
            let (state, wanted) = on(r, site);
            let reason = wanted.expect_err("not wanted");
            assert!(reason.contains(why), "{reason}");
            state
        };

        // Native on hq/default; branch/default's domain filter keeps it out; hq/zeta wants it
        // but has no DNS policies; branch/lab is not managed and keeps our old copy.
        assert_eq!(not_wanted(&printer, 4, "native here"), "origin");
        assert_eq!(not_wanted(&printer, 2, "domain filters"), "not_wanted");
        assert_eq!(on(&printer, 1), ("unsupported", Ok(())));
        assert_eq!(not_wanted(&printer, 3, "not managed"), "present");
        assert_eq!(
            sites
                .leftovers(&printer.record.id, &placement)
                .map(|s| s.site.id)
                .collect::<Vec<_>>(),
            [3]
        );

        // An origin beats our copy; a refusal beats our copy; a wanted one not there is missing.
        assert_eq!(not_wanted(&cam, 2, "native here"), "origin");
        assert_eq!(on(&cam, 4), ("skipped", Ok(())));
        let quiet = Placement::new(vec![], vec![conflict(4, &cam, None)]);
        let st = state_on(&cam, sites.get(4).unwrap(), &sites, &quiet, &config);
        assert_eq!(name(&st.state), "conflict");
        let empty = Placement::new(vec![], vec![]);
        let st = state_on(&cam, sites.get(4).unwrap(), &sites, &empty, &config);
        assert_eq!((name(&st.state), st.wanted), ("missing", Ok(())));

        // Not an allowed type, and no origin left.
        let mut txt = record("note.hq.example", &[4]);
        txt.record.rtype = "TXT".into();
        assert_eq!(not_wanted(&txt, 1, "record_types"), "not_wanted");
        let orphan = record("gone.hq.example", &[]);
        assert_eq!(not_wanted(&orphan, 1, "no origin"), "not_wanted");
    }
}
