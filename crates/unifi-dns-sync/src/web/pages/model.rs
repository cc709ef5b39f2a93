//! What the pages know about sites and about where each record is, computed from the database
//! and the configuration (never from a console).
//!
//! [`copy_state`] answers "what is this record's state on this site, and why": origin, copied,
//! pending, conflict, skipped by the console, or not wanted (and why not). The "why not" mirrors
//! the desired-state rules of SPEC §5.2 as the planner applies them (`crate::plan`); conflicts
//! and copies come from the database the engine keeps.

use std::collections::HashMap;

use unifi_dns_sync_store::{
    Conflict, CopyState, Origin, OriginKind, Site, SiteId, StoredRecord, SyncedCopy,
};

use super::view::{name_sites, when};
use crate::config::{Config, SitePolicy};
use crate::record_type::RecordType;

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

/// Every known site, sorted by label, with lookups.
pub struct Sites {
    pub all: Vec<SiteInfo>,
    index: HashMap<SiteId, usize>,
    /// Site id → `controller/site`, for every known site.
    pub labels: HashMap<SiteId, String>,
}

impl Sites {
    pub fn new(sites: Vec<Site>, config: &Config) -> Sites {
        let mut all: Vec<SiteInfo> = sites
            .into_iter()
            .map(|s| SiteInfo::new(s, config))
            .collect();
        all.sort_by(|a, b| {
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
        let index = all
            .iter()
            .enumerate()
            .map(|(i, s)| (s.site.id, i))
            .collect();
        let labels = all.iter().map(|s| (s.site.id, s.site.label())).collect();
        Sites { all, index, labels }
    }

    pub fn get(&self, id: SiteId) -> Option<&SiteInfo> {
        self.index.get(&id).map(|i| &self.all[*i])
    }

    pub fn managed(&self) -> impl Iterator<Item = &SiteInfo> {
        self.all.iter().filter(|s| s.managed)
    }

    pub fn label(&self, id: SiteId) -> String {
        self.labels
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("site #{id}"))
    }
}

/// A record's state on one site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Origin,
    Copied,
    Pending,
    Conflict,
    Skipped,
    NotWanted,
}

impl Kind {
    /// The CSS class of its badge.
    pub fn class(self) -> &'static str {
        match self {
            Kind::Origin => "origin",
            Kind::Copied => "ok",
            Kind::Pending => "pending",
            Kind::Conflict | Kind::Skipped => "bad",
            Kind::NotWanted => "muted",
        }
    }
}

/// What a page shows for one (record, site) pair.
pub struct Cell {
    pub kind: Kind,
    /// Short text: `origin`, `copied`, `pending`, `conflict`, `skipped`, `not wanted`.
    pub label: &'static str,
    /// Why, in words.
    pub detail: String,
    pub class: &'static str,
}

impl Cell {
    fn new(kind: Kind, label: &'static str, detail: String) -> Cell {
        Cell {
            kind,
            label,
            detail,
            class: kind.class(),
        }
    }
}

/// The database's view of copies and conflicts, by (site, record).
pub struct Placement {
    copies: HashMap<(SiteId, String), SyncedCopy>,
    conflicts: HashMap<(SiteId, String), Conflict>,
}

impl Placement {
    pub fn new(copies: Vec<SyncedCopy>, conflicts: Vec<Conflict>) -> Placement {
        Placement {
            copies: copies
                .into_iter()
                .map(|c| ((c.site_id, c.record_id.clone()), c))
                .collect(),
            conflicts: conflicts
                .into_iter()
                .map(|c| ((c.site_id, c.record_id.clone()), c))
                .collect(),
        }
    }

    pub fn copy(&self, site: SiteId, record: &str) -> Option<&SyncedCopy> {
        self.copies.get(&(site, record.to_owned()))
    }

    pub fn conflict(&self, site: SiteId, record: &str) -> Option<&Conflict> {
        self.conflicts.get(&(site, record.to_owned()))
    }
}

/// Why a record without an origin on `target` is not desired there (`Ok` = it is desired),
/// following SPEC §5.2.
pub fn why_not_wanted(
    record: &StoredRecord,
    target: &SiteInfo,
    sites: &Sites,
    config: &Config,
) -> Result<(), String> {
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

/// The record's state on `target` (a managed site), with the reason.
pub fn copy_state(
    record: &StoredRecord,
    target: &SiteInfo,
    sites: &Sites,
    placement: &Placement,
    config: &Config,
) -> Cell {
    let id = record.record.id.as_str();
    let site_id = target.site.id;
    if let Some(o) = record.origins.iter().find(|o| o.site_id == site_id) {
        return Cell::new(
            Kind::Origin,
            "origin",
            format!("native here: {}", origin_source(o)),
        );
    }
    if let Some(c) = placement.conflict(site_id, id) {
        let detail = name_sites(c.detail.as_deref().unwrap_or_default(), &sites.labels);
        return match &c.code {
            Some(code) => Cell::new(
                Kind::Skipped,
                "skipped",
                format!(
                    "the console refused it with {code}{}; since {}",
                    if detail.is_empty() {
                        String::new()
                    } else {
                        format!(": {detail}")
                    },
                    when(c.since).text
                ),
            ),
            None => Cell::new(
                Kind::Conflict,
                "conflict",
                format!(
                    "{}{}; since {}",
                    conflict_reason(&c.reason),
                    if detail.is_empty() {
                        String::new()
                    } else {
                        format!(": {detail}")
                    },
                    when(c.since).text
                ),
            ),
        };
    }
    let wanted = why_not_wanted(record, target, sites, config);
    if let Some(copy) = placement.copy(site_id, id) {
        return match copy.state {
            CopyState::Active => {
                let mut detail = format!(
                    "our copy, policy {}",
                    copy.policy_id.as_deref().unwrap_or("?")
                );
                if let Some(source) = copy.source_site_id {
                    detail.push_str(&format!(", copied from {}", sites.label(source)));
                }
                if let Err(why) = wanted {
                    detail.push_str(&format!(
                        "; no longer wanted here ({why}): it is deleted at the next cycle{}",
                        if target.site.withheld_deletes > 0 {
                            " unless the deletion threshold withholds it"
                        } else {
                            ""
                        }
                    ));
                }
                Cell::new(Kind::Copied, "copied", detail)
            }
            CopyState::Pending => Cell::new(
                Kind::Pending,
                "pending",
                format!(
                    "a create was started {} and is not confirmed yet; the next read settles it",
                    when(copy.created_at).text
                ),
            ),
        };
    }
    match wanted {
        Err(why) => Cell::new(Kind::NotWanted, "not wanted", why),
        Ok(()) if target.site.policy_support == Some(false) => Cell::new(
            Kind::NotWanted,
            "not possible",
            "the console has no DNS policies (needs Network 10.1.68 or later)".into(),
        ),
        Ok(()) if !target.site.last_read_complete => Cell::new(
            Kind::Pending,
            "pending",
            format!(
                "wanted; waiting for a complete read of this site{}",
                target
                    .site
                    .last_error
                    .as_deref()
                    .map(|e| format!(" (last error: {e})"))
                    .unwrap_or_default()
            ),
        ),
        Ok(()) => Cell::new(
            Kind::Pending,
            "pending",
            "wanted; not copied yet: the next cycle creates it".into(),
        ),
    }
}

/// `DNS policy 1234…` or `client aa:bb:…`.
pub fn origin_source(o: &Origin) -> String {
    match o.kind {
        OriginKind::Policy => format!("DNS policy {}", o.source_id),
        OriginKind::Client => format!("client {}", o.source_id),
    }
}

/// A conflict reason in words.
pub fn conflict_reason(reason: &str) -> String {
    match reason {
        "shadowed" => "shadowed by this site's own record".into(),
        "competing-origin" => "competing origin: another site's record wins this name".into(),
        other => other.to_owned(),
    }
}
