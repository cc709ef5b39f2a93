//! The planner (SPEC §5.2–§5.4, §5.7): a pure function from what this cycle read and what the
//! database knows to the writes each site needs.
//!
//! Inputs are plain data ([`PlanRecord`]s with their origins, [`PlanSite`]s with their live
//! natives and registry copies); the output is a [`Plan`] of [`Action`]s and [`Conflict`]s per
//! site. Nothing here performs I/O, so `plan`, `--dry-run` and a real cycle share exactly the same
//! decisions, and safety rules 1 and 4 of §5.6 can be checked on the plan itself:
//!
//! - an update or delete only ever names a policy id taken from a registry row (rule 1);
//! - a site whose read was incomplete gets no action at all (rule 2: its copies stay as they are).
//!
//! Steps: (1) every record's *eligible* origins (the origin site publishes, the type is allowed,
//! the name passes the origin's domain filters); (2) competing origins per name — the best origin
//! (lowest controller priority, then oldest `first_seen`, then smallest site id) wins, a CNAME and
//! other types never share a name; (3) per target site: desired records, shadowing by the site's
//! own natives, and the diff against its registry copies; (4) the mode and the deletion threshold.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::config::{SitePolicy, SyncMode};
use crate::record::Record;
use crate::record_type::RecordType;

/// A managed site as the planner sees it.
#[derive(Debug, Clone)]
pub struct PlanSite {
    pub id: i64,
    pub controller: String,
    /// The controller's priority (lower wins a conflict).
    pub priority: i64,
    /// Its `[[site]]` settings (publish, receive, domain filters).
    pub rules: SitePolicy,
    /// This cycle's complete read; `None` = incomplete or unsupported: no action on this site.
    pub live: Option<LiveSite>,
}

/// What a complete read showed of one site.
#[derive(Debug, Clone, Default)]
pub struct LiveSite {
    /// Live policies that are not registry copies, canonical (all types).
    pub natives: Vec<Record>,
    /// Registry rows of this site joined with the live list.
    pub copies: Vec<LiveCopy>,
    /// Records whose create was refused by the console recently: not retried yet, still reported.
    pub refused: HashMap<String, String>,
}

/// One registry row and what the console has for it.
#[derive(Debug, Clone)]
pub struct LiveCopy {
    pub record_id: String,
    /// The policy id (none while PENDING).
    pub policy_id: Option<String>,
    /// The live policy's content; `None` when the policy is missing from the live list.
    pub live: Option<Record>,
    /// The origin site the copy was made from. `None` = unknown (a copy adopted after a create
    /// whose answer was lost, or registered before sources were recorded): it may be re-pointed
    /// from any origin site.
    pub source_site: Option<i64>,
}

/// Where a record comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanOrigin {
    pub site_id: i64,
    /// Unix milliseconds.
    pub first_seen: i64,
}

#[derive(Debug, Clone)]
pub struct PlanRecord {
    pub record: Record,
    pub origins: Vec<PlanOrigin>,
}

#[derive(Debug, Clone)]
pub struct PlanSettings {
    pub record_types: Vec<RecordType>,
    pub exclude_same_controller: bool,
    pub mode: SyncMode,
    pub max_delete_fraction: f64,
    pub threshold_min_copies: u32,
    /// Apply deletes the threshold would withhold (`sync --force`).
    pub force: bool,
}

/// A write the apply step performs.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Create a copy of `record` (a registry row may already exist: a copy deleted by hand, or a
    /// PENDING row from an interrupted create).
    Create {
        record_id: String,
        record: Record,
        source_site: i64,
    },
    /// PUT `record` into our policy `policy_id`, which the registry holds for `old_record_id`
    /// (drift or a hand edit: same id; a value changed at the origin: a re-pointed row).
    Update {
        policy_id: String,
        old_record_id: String,
        record_id: String,
        record: Record,
        source_site: i64,
    },
    /// Delete our copy `policy_id` of `record_id` (`record` is what it held, for the event).
    Delete {
        policy_id: String,
        record_id: String,
        record: Record,
    },
}

impl Action {
    pub fn record(&self) -> &Record {
        match self {
            Action::Create { record, .. }
            | Action::Update { record, .. }
            | Action::Delete { record, .. } => record,
        }
    }

    pub fn verb(&self) -> &'static str {
        match self {
            Action::Create { .. } => "create",
            Action::Update { .. } => "update",
            Action::Delete { .. } => "delete",
        }
    }
}

/// Why a desired record is not (or no longer) copied to a site.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConflictReason {
    /// The site has its own record for the name (SPEC §5.3).
    ShadowedByNative,
    /// Another origin's record for the same name wins.
    CompetingOrigin,
    /// The console refused the create with this code.
    Refused(String),
}

impl ConflictReason {
    /// Stable text for the database and the UI.
    pub fn as_code(&self) -> &str {
        match self {
            ConflictReason::ShadowedByNative => "shadowed",
            ConflictReason::CompetingOrigin => "competing-origin",
            ConflictReason::Refused(code) => code,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub record_id: String,
    pub record: Record,
    pub reason: ConflictReason,
    pub detail: String,
}

/// The plan for one site.
#[derive(Debug, Clone, Default)]
pub struct SitePlan {
    pub site_id: i64,
    /// Deletes first, then updates, then creates.
    pub actions: Vec<Action>,
    pub conflicts: Vec<Conflict>,
    /// Deletes held back by the threshold (§5.7).
    pub withheld: Vec<Action>,
    /// Registry rows to drop without any API call (the policy is already gone and not wanted).
    pub forget: Vec<String>,
    /// Record ids of copies that are present and correct.
    pub verified: Vec<String>,
    /// Actions dropped by `upsert-only` / `create-only`.
    pub dropped_by_mode: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub sites: Vec<SitePlan>,
}

impl Plan {
    pub fn action_count(&self) -> usize {
        self.sites.iter().map(|s| s.actions.len()).sum()
    }

    pub fn site(&self, site_id: i64) -> Option<&SitePlan> {
        self.sites.iter().find(|s| s.site_id == site_id)
    }
}

/// Ordering key of an origin: lower wins.
type OriginRank = (i64, i64, i64);

/// A record's eligible origins, ranked best first.
type RankedOrigins<'a> = Vec<(OriginRank, &'a PlanSite)>;

/// The planner's view of the published records.
struct Published<'a> {
    /// record id → (record, eligible origins ranked best first)
    records: BTreeMap<&'a str, (&'a Record, RankedOrigins<'a>)>,
    /// Records that lost a competition: record id → detail naming the winner.
    losers: HashMap<&'a str, String>,
}

/// Computes the plan for every site.
pub fn plan(
    records: &HashMap<String, PlanRecord>,
    sites: &[PlanSite],
    settings: &PlanSettings,
) -> Plan {
    let by_id: HashMap<i64, &PlanSite> = sites.iter().map(|s| (s.id, s)).collect();
    let published = publish(records, &by_id, settings);
    let mut plan = Plan::default();
    for target in sites {
        if let Some(live) = &target.live {
            plan.sites
                .push(plan_site(target, live, records, &published, settings));
        }
    }
    plan
}

fn publish<'a>(
    records: &'a HashMap<String, PlanRecord>,
    sites: &HashMap<i64, &'a PlanSite>,
    settings: &PlanSettings,
) -> Published<'a> {
    let mut published: BTreeMap<&str, (&Record, RankedOrigins<'a>)> = BTreeMap::new();
    for (id, pr) in records {
        if !settings.record_types.contains(&pr.record.rtype) {
            continue;
        }
        let mut eligible: RankedOrigins<'a> = pr
            .origins
            .iter()
            .filter_map(|o| {
                let site = sites.get(&o.site_id)?;
                (site.rules.publish && site.rules.allows_name(&pr.record.name))
                    .then_some(((site.priority, o.first_seen, site.id), *site))
            })
            .collect();
        if eligible.is_empty() {
            continue;
        }
        eligible.sort_by_key(|(rank, _)| *rank);
        published.insert(id.as_str(), (&pr.record, eligible));
    }

    // Competing origins, per name: a CNAME never shares its name; per type, the best origin's
    // site wins, and every record that site publishes under the name is copied (round robin).
    let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, (record, _)) in &published {
        by_name.entry(record.name.as_str()).or_default().push(id);
    }
    let mut losers = HashMap::new();
    for ids in by_name.values() {
        let best = |filter: &dyn Fn(RecordType) -> bool| -> Option<(OriginRank, i64, &str)> {
            ids.iter()
                .filter(|id| filter(published[**id].0.rtype))
                .map(|id| {
                    let (rank, site) = published[*id].1[0];
                    (rank, site.id, *id)
                })
                .min()
        };
        let cname = best(&|t| t == RecordType::Cname);
        let other = best(&|t| t != RecordType::Cname);
        if let (Some(c), Some(o)) = (cname, other) {
            let (winner, lose_cname) = if c.0 < o.0 { (c, false) } else { (o, true) };
            for id in ids
                .iter()
                .filter(|id| (published[**id].0.rtype == RecordType::Cname) == lose_cname)
            {
                losers.insert(
                    *id,
                    format!(
                        "the {} record from site #{} wins this name",
                        published[winner.2].0.rtype, winner.1
                    ),
                );
            }
        }
        let types: BTreeSet<RecordType> = ids.iter().map(|id| published[*id].0.rtype).collect();
        for t in types {
            let Some((_, winner_site, winner_id)) = best(&|x| x == t) else {
                continue;
            };
            for id in ids.iter().filter(|id| published[**id].0.rtype == t) {
                let at_winner = published[*id].1.iter().any(|(_, s)| s.id == winner_site);
                if !at_winner {
                    losers.entry(*id).or_insert_with(|| {
                        format!(
                            "{} from site #{winner_site} wins this name",
                            published[winner_id].0
                        )
                    });
                }
            }
        }
    }
    Published {
        records: published,
        losers,
    }
}

fn plan_site(
    target: &PlanSite,
    live: &LiveSite,
    records: &HashMap<String, PlanRecord>,
    published: &Published<'_>,
    settings: &PlanSettings,
) -> SitePlan {
    let mut out = SitePlan {
        site_id: target.id,
        ..SitePlan::default()
    };

    // Natives by name, for shadowing.
    let mut natives: HashMap<&str, Vec<&Record>> = HashMap::new();
    for n in &live.natives {
        natives.entry(n.name.as_str()).or_default().push(n);
    }

    // Desired records on this site: record id → (record, source site).
    let mut desired: BTreeMap<&str, (&Record, i64)> = BTreeMap::new();
    for (id, (record, origins)) in &published.records {
        let own_origin = records
            .get(*id)
            .is_some_and(|r| r.origins.iter().any(|o| o.site_id == target.id));
        if own_origin || !target.rules.receive || !target.rules.allows_name(&record.name) {
            continue;
        }
        let source = origins.iter().find(|(_, s)| {
            s.id != target.id
                && !(settings.exclude_same_controller && s.controller == target.controller)
        });
        let Some((_, source)) = source else { continue };
        if let Some(detail) = published.losers.get(id) {
            out.conflicts.push(conflict(
                id,
                record,
                ConflictReason::CompetingOrigin,
                detail.clone(),
            ));
            continue;
        }
        if let Some(native) = shadowing_native(record, natives.get(record.name.as_str())) {
            out.conflicts.push(conflict(
                id,
                record,
                ConflictReason::ShadowedByNative,
                format!("the site has its own {native}"),
            ));
            continue;
        }
        desired.insert(id, (record, source.id));
    }

    let copies: HashMap<&str, &LiveCopy> = live
        .copies
        .iter()
        .map(|c| (c.record_id.as_str(), c))
        .collect();
    let mut used: BTreeSet<&str> = BTreeSet::new();
    let (mut creates, mut updates, mut deletes) = (vec![], vec![], vec![]);

    for (id, (record, source)) in &desired {
        let copy = copies.get(id);
        if let Some(c) = copy {
            used.insert(id);
            if let (Some(policy_id), Some(current)) = (&c.policy_id, &c.live) {
                if current.id() == *id && current.same_attributes(record) {
                    out.verified.push(id.to_string());
                } else {
                    updates.push(Action::Update {
                        policy_id: policy_id.clone(),
                        old_record_id: id.to_string(),
                        record_id: id.to_string(),
                        record: (*record).clone(),
                        source_site: *source,
                    });
                }
                continue;
            }
        }
        if copy.is_none() && settings.mode != SyncMode::CreateOnly {
            // A value changed at the origin: re-point the copy made from the same origin site.
            let candidate = live.copies.iter().find(|c| {
                !desired.contains_key(c.record_id.as_str())
                    && !used.contains(c.record_id.as_str())
                    && c.source_site.is_none_or(|s| s == *source)
                    && c.policy_id.is_some()
                    && c.live
                        .as_ref()
                        .is_some_and(|l| l.rtype == record.rtype && l.name == record.name)
            });
            if let Some(c) = candidate {
                used.insert(c.record_id.as_str());
                updates.push(Action::Update {
                    policy_id: c.policy_id.clone().unwrap_or_default(),
                    old_record_id: c.record_id.clone(),
                    record_id: id.to_string(),
                    record: (*record).clone(),
                    source_site: *source,
                });
                continue;
            }
        }
        if let Some(code) = live.refused.get(*id) {
            out.conflicts.push(conflict(
                id,
                record,
                ConflictReason::Refused(code.clone()),
                format!("the console refused it ({code})"),
            ));
            continue;
        }
        creates.push(Action::Create {
            record_id: id.to_string(),
            record: (*record).clone(),
            source_site: *source,
        });
    }

    for c in &live.copies {
        if used.contains(c.record_id.as_str()) || desired.contains_key(c.record_id.as_str()) {
            continue;
        }
        match (&c.policy_id, &c.live) {
            (Some(policy_id), Some(current)) => deletes.push(Action::Delete {
                policy_id: policy_id.clone(),
                record_id: c.record_id.clone(),
                record: current.clone(),
            }),
            _ => out.forget.push(c.record_id.clone()),
        }
    }

    if settings.mode != SyncMode::Sync {
        out.dropped_by_mode += deletes.len();
        deletes.clear();
    }
    if settings.mode == SyncMode::CreateOnly {
        out.dropped_by_mode += updates.len();
        updates.clear();
    }
    let live_copies = live
        .copies
        .iter()
        .filter(|c| c.live.is_some() && c.policy_id.is_some())
        .count();
    let over_threshold = live_copies >= settings.threshold_min_copies as usize
        && (deletes.len() as f64) > settings.max_delete_fraction * live_copies as f64;
    if over_threshold && !settings.force {
        out.withheld = std::mem::take(&mut deletes);
    }
    out.actions = deletes.into_iter().chain(updates).chain(creates).collect();
    out
}

/// The native that keeps a desired record off this site, if any (SPEC §5.3).
fn shadowing_native<'a>(record: &Record, natives: Option<&Vec<&'a Record>>) -> Option<&'a Record> {
    natives?.iter().copied().find(|n| {
        if record.rtype == RecordType::Cname {
            true
        } else {
            n.rtype == RecordType::Cname || (n.rtype == record.rtype && n.value != record.value)
        }
    })
}

fn conflict(id: &str, record: &Record, reason: ConflictReason, detail: String) -> Conflict {
    Conflict {
        record_id: id.to_owned(),
        record: record.clone(),
        reason,
        detail,
    }
}

#[cfg(test)]
mod tests;
