//! Plain domain types exchanged with the store. None of them carries a database type.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// The integer id of a site (`sites.id`). Every other table refers to sites by this id, never by
/// the bare UUID (two controllers can report the same UUID).
pub type SiteId = i64;

/// The id of a sync run (`sync_runs.id`).
pub type RunId = i64;

/// The id of a sync event (`sync_events.id`); grows monotonically, so it orders events and
/// serves as a paging cursor.
pub type EventId = i64;

/// Defines a string-backed enum with `as_str`, `Display` and `FromStr`.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text stored in the database and shown to users.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;

            /// Parses the stored text; case-insensitive.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $( if s.eq_ignore_ascii_case($text) { return Ok($name::$variant); } )+
                Err(format!(
                    "unknown {} {s:?} (expected one of: {})",
                    stringify!($name),
                    [$($text),+].join(", ")
                ))
            }
        }
    };
}

string_enum! {
    /// What started a sync run.
    Trigger {
        /// The daemon's interval timer.
        Schedule = "schedule",
        /// `POST /api/v1/sync` or the dashboard.
        Manual = "manual",
        /// A CLI command (`sync`, `run --once`).
        Cli = "cli",
    }
}

string_enum! {
    /// How a sync run ended.
    RunOutcome {
        /// Every site was read and every write succeeded.
        Success = "success",
        /// The cycle ran but at least one site could not be read or written (exit code 3).
        Partial = "partial",
        /// Nothing could run.
        Failed = "failed",
        /// The process stopped before the run finished (found unfinished at the next open).
        Interrupted = "interrupted",
    }
}

string_enum! {
    /// How a record is native to a site.
    OriginKind {
        /// A DNS policy on the site; `source_id` is the policy id.
        Policy = "POLICY",
        /// A name derived from a DHCP client; `source_id` is the client MAC.
        Client = "CLIENT",
    }
}

string_enum! {
    /// State of a registry row.
    CopyState {
        /// Written before the create call; the policy id is not known yet.
        Pending = "PENDING",
        /// The controller accepted the create; the policy id is known.
        Active = "ACTIVE",
    }
}

string_enum! {
    /// Status of a sync event.
    EventStatus {
        /// A copy was created.
        Created = "CREATED",
        /// A copy was updated in place.
        Updated = "UPDATED",
        /// A copy was deleted.
        Deleted = "DELETED",
        /// A change was not made on purpose (conflict, threshold, refusal); see `reason`.
        Skipped = "SKIPPED",
        /// A change was attempted and failed.
        Failed = "FAILED",
    }
}

/// Computes a record's identity: lower-case hex of `sha256("type|name|value")` (SPEC §2).
/// The arguments must already be in canonical form.
pub fn record_id(rtype: &str, name: &str, value: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(rtype.as_bytes());
    hasher.update(b"|");
    hasher.update(name.as_bytes());
    hasher.update(b"|");
    hasher.update(value.as_bytes());
    hex::encode(hasher.finalize())
}

/// What the engine knows about a controller. Holds no secret: only a key fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControllerState {
    /// The configured name (unique).
    pub name: String,
    /// The console URL.
    pub url: String,
    /// First 12 hex digits of `sha256(api key)`.
    pub key_fingerprint: Option<String>,
    /// The Network application version the console reported.
    pub app_version: Option<String>,
    /// Last successful contact.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_contact: Option<OffsetDateTime>,
    /// Last error talking to it, cleared (None) once it works again.
    pub last_error: Option<String>,
}

/// One site as a controller lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteListing {
    /// The Integration API's site `id`.
    pub uuid: String,
    /// The short name (e.g. `default`).
    pub internal_reference: String,
    /// The display name.
    pub name: String,
}

/// A site row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// The integer id every other table uses.
    pub id: SiteId,
    /// The controller's name.
    pub controller: String,
    /// The Integration API's site id (unique only per controller).
    pub uuid: String,
    /// The short name (e.g. `default`).
    pub internal_reference: String,
    /// The display name.
    pub name: String,
    /// When the site was first listed.
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    /// Last complete read.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_synced: Option<OffsetDateTime>,
    /// Last read attempt, complete or not.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_read_at: Option<OffsetDateTime>,
    /// Whether the last read attempt was complete.
    pub last_read_complete: bool,
    /// Last read error, if the last read was incomplete.
    pub last_error: Option<String>,
    /// Set while the controller no longer lists this site.
    #[serde(with = "time::serde::rfc3339::option")]
    pub removed_at: Option<OffsetDateTime>,
    /// Deletes withheld by the deletion threshold (§5.7) in the last plan for this site.
    pub withheld_deletes: i64,
    /// Whether the site's Network application supports DNS policies; `None` = not known yet.
    pub policy_support: Option<bool>,
}

impl Site {
    /// `controller/internal_reference`, the way the UI and CLI write a site.
    pub fn label(&self) -> String {
        format!("{}/{}", self.controller, self.internal_reference)
    }

    /// Whether the controller no longer lists this site.
    pub fn is_removed(&self) -> bool {
        self.removed_at.is_some()
    }
}

/// The outcome of reading one site, for [`crate::Store::record_site_reads`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteRead {
    /// The site.
    pub site_id: SiteId,
    /// Whether every page of every list succeeded.
    pub complete: bool,
    /// The error that made the read incomplete (None when complete).
    pub error: Option<String>,
}

/// A canonical record's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordData {
    /// `record_id(rtype, name, value)`.
    pub id: String,
    /// Record type (`A`, `AAAA`, `CNAME`, `MX`, `TXT`, `SRV`, `FORWARD_DOMAIN`).
    #[serde(rename = "type")]
    pub rtype: String,
    /// Canonical name.
    pub name: String,
    /// Canonical value.
    pub value: String,
    /// TTL in seconds for types that have one (0 = Auto); None for the others.
    pub ttl: Option<i64>,
    /// Whether the record is enabled.
    pub enabled: bool,
    /// The origin policy's fields (no `id`, no `metadata`) as JSON.
    pub raw: serde_json::Value,
}

impl RecordData {
    /// Builds a record, computing its id from `rtype`, `name` and `value`.
    pub fn new(
        rtype: impl Into<String>,
        name: impl Into<String>,
        value: impl Into<String>,
        ttl: Option<i64>,
        enabled: bool,
        raw: serde_json::Value,
    ) -> Self {
        let (rtype, name, value) = (rtype.into(), name.into(), value.into());
        RecordData {
            id: record_id(&rtype, &name, &value),
            rtype,
            name,
            value,
            ttl,
            enabled,
            raw,
        }
    }

    /// Whether `id` matches `record_id(rtype, name, value)`.
    pub fn has_valid_id(&self) -> bool {
        self.id == record_id(&self.rtype, &self.name, &self.value)
    }
}

/// A record as stored, with its bookkeeping and its origins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRecord {
    /// The record.
    #[serde(flatten)]
    pub record: RecordData,
    /// When the record was first stored.
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    /// When its attributes last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Its origins (empty when it is only kept alive by copies awaiting deletion).
    pub origins: Vec<Origin>,
}

/// A `(record, site)` origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The record.
    pub record_id: String,
    /// The site it is native to.
    pub site_id: SiteId,
    /// Policy or client.
    pub kind: OriginKind,
    /// The policy id or client MAC.
    pub source_id: String,
    /// When this origin was first seen.
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    /// When it was last recorded as seen (see the crate doc on keeping this proportional).
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
}

/// An origin to add (or to refresh, if it exists) in [`OriginChanges`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrigin {
    /// The record; it must exist or be in the same batch's `upsert_records`.
    pub record_id: String,
    /// Policy or client.
    pub kind: OriginKind,
    /// The policy id or client MAC.
    pub source_id: String,
}

/// The changes to one site's origins found by one complete read, applied in one transaction by
/// [`crate::Store::apply_origin_changes`], in this order: records, adds, touches, removes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OriginChanges {
    /// Records to insert, or to update when their attributes (`ttl`, `enabled`, `raw`) differ.
    /// A record already stored identically is left untouched (no write).
    pub upsert_records: Vec<RecordData>,
    /// Origins to add. An existing `(record, site)` origin gets the new kind and source id
    /// (e.g. the policy was recreated with the same content) and `last_seen = now`.
    pub add: Vec<NewOrigin>,
    /// `(record_id, last_seen)` for origins whose last-seen time must be stored.
    pub touch: Vec<(String, OffsetDateTime)>,
    /// Record ids whose origin on this site is gone.
    pub remove: Vec<String>,
}

impl OriginChanges {
    /// Whether there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.upsert_records.is_empty()
            && self.add.is_empty()
            && self.touch.is_empty()
            && self.remove.is_empty()
    }
}

/// What [`crate::Store::apply_origin_changes`] changed, in rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedOriginChanges {
    /// Records inserted or updated.
    pub records: u64,
    /// Origins inserted or refreshed.
    pub added: u64,
    /// Origins whose last-seen time changed.
    pub touched: u64,
    /// Origins removed.
    pub removed: u64,
}

/// A row of the ownership registry: a policy this service created (or is creating) on a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncedCopy {
    /// The target site.
    pub site_id: SiteId,
    /// The record the policy holds.
    pub record_id: String,
    /// The policy id; None while pending.
    pub policy_id: Option<String>,
    /// Pending or active.
    pub state: CopyState,
    /// When the registry row was written (before the create call).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When a write or a read last confirmed the copy.
    #[serde(with = "time::serde::rfc3339::option")]
    pub verified_at: Option<OffsetDateTime>,
    /// The origin site the copy was made from (for re-pointing when the value changes there).
    pub source_site_id: Option<SiteId>,
}

/// A conflict to open with [`crate::Store::set_conflicts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConflict {
    /// The record that cannot be copied to the site.
    pub record_id: String,
    /// Why: `shadowed`, `competing-origin`, `unifi-refused`, …
    pub reason: String,
    /// The UniFi error code, when the controller refused.
    pub code: Option<String>,
    /// Free text for the UI.
    pub detail: Option<String>,
}

/// An open conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The site the record cannot be copied to.
    pub site_id: SiteId,
    /// The record.
    pub record_id: String,
    /// Why (see [`NewConflict::reason`]).
    pub reason: String,
    /// The UniFi error code, if any.
    pub code: Option<String>,
    /// Free text.
    pub detail: Option<String>,
    /// When the conflict was first recorded; kept while it stays open.
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
}

/// A sync run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Its id.
    pub id: RunId,
    /// Start time.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// End time; None while running.
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// What started it.
    pub trigger: Trigger,
    /// Whether it was a dry run.
    pub dry_run: bool,
    /// How it ended; None while running.
    pub outcome: Option<RunOutcome>,
    /// The engine's counters (free-form JSON object).
    pub counts: serde_json::Value,
    /// The error that ended it, if any.
    pub error: Option<String>,
}

/// A sync event to record. Carries a snapshot of the record so history outlives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The run it belongs to.
    pub run_id: Option<RunId>,
    /// When it happened.
    pub at: OffsetDateTime,
    /// What happened.
    pub status: EventStatus,
    /// The target site, if any. Its `controller/internal_reference` is snapshotted at insert.
    pub site_id: Option<SiteId>,
    /// The record, if any.
    pub record_id: Option<String>,
    /// Record type snapshot.
    pub rtype: Option<String>,
    /// Record name snapshot.
    pub name: Option<String>,
    /// Record value snapshot.
    pub value: Option<String>,
    /// Machine-readable reason, e.g. `threshold`, `shadowed`, `competing-origin`.
    pub reason: Option<String>,
    /// UniFi error code, e.g. `api.dns.policy.validation.record-already-exists`.
    pub code: Option<String>,
    /// Free text.
    pub detail: Option<String>,
}

impl NewEvent {
    /// An event with only a status and a time; fill in the rest with the builder methods.
    pub fn new(status: EventStatus, at: OffsetDateTime) -> Self {
        NewEvent {
            run_id: None,
            at,
            status,
            site_id: None,
            record_id: None,
            rtype: None,
            name: None,
            value: None,
            reason: None,
            code: None,
            detail: None,
        }
    }

    /// Sets the run.
    pub fn run(mut self, run_id: RunId) -> Self {
        self.run_id = Some(run_id);
        self
    }

    /// Sets the site.
    pub fn site(mut self, site_id: SiteId) -> Self {
        self.site_id = Some(site_id);
        self
    }

    /// Sets the record id and its type/name/value snapshot.
    pub fn record(mut self, record: &RecordData) -> Self {
        self.record_id = Some(record.id.clone());
        self.rtype = Some(record.rtype.clone());
        self.name = Some(record.name.clone());
        self.value = Some(record.value.clone());
        self
    }

    /// Sets the reason.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Sets the UniFi error code.
    pub fn code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Sets the detail text.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// A recorded sync event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Its id (monotonic).
    pub id: EventId,
    /// The run it belongs to (None if the run was pruned or none was given).
    pub run_id: Option<RunId>,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What happened.
    pub status: EventStatus,
    /// The site id (may no longer exist).
    pub site_id: Option<SiteId>,
    /// `controller/internal_reference` of the site when the event was written.
    pub site_label: Option<String>,
    /// The record id (may no longer exist).
    pub record_id: Option<String>,
    /// Record type snapshot.
    #[serde(rename = "type")]
    pub rtype: Option<String>,
    /// Record name snapshot.
    pub name: Option<String>,
    /// Record value snapshot.
    pub value: Option<String>,
    /// Machine-readable reason.
    pub reason: Option<String>,
    /// UniFi error code.
    pub code: Option<String>,
    /// Free text.
    pub detail: Option<String>,
}

/// Filters and paging for [`crate::Store::events`]. Results are newest first (by id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    /// Only events at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Only events before this time.
    pub until: Option<OffsetDateTime>,
    /// Only events for this site.
    pub site_id: Option<SiteId>,
    /// Only events whose name matches this domain glob (`*` matches any run of characters,
    /// dots included; case-insensitive). A glob without `*` is an exact match.
    pub name_glob: Option<String>,
    /// Only events with this status.
    pub status: Option<EventStatus>,
    /// Only events for this record.
    pub record_id: Option<String>,
    /// Only events of this run.
    pub run_id: Option<RunId>,
    /// Keyset paging: only events with an id below this one (pass the last id of the previous
    /// page).
    pub before_id: Option<EventId>,
    /// Offset paging: skip this many matching events.
    pub offset: u32,
    /// At most this many events (clamped to 1..=10000).
    pub limit: u32,
}

impl Default for EventQuery {
    fn default() -> Self {
        EventQuery {
            since: None,
            until: None,
            site_id: None,
            name_glob: None,
            status: None,
            record_id: None,
            run_id: None,
            before_id: None,
            offset: 0,
            limit: 100,
        }
    }
}

/// What [`crate::Store::prune_events`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pruned {
    /// Sync events removed.
    pub events: u64,
    /// Finished sync runs removed (those started before the cutoff).
    pub runs: u64,
}

/// Copies on one site, by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyCounts {
    /// Active copies.
    pub active: i64,
    /// Pending copies.
    pub pending: i64,
}

/// Summary counts for `status` and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Records by type.
    pub records_by_type: BTreeMap<String, i64>,
    /// Origins in total.
    pub origins: i64,
    /// Registry rows per site (sites without copies are absent).
    pub copies_by_site: BTreeMap<SiteId, CopyCounts>,
    /// Open conflicts per site (sites without conflicts are absent).
    pub conflicts_by_site: BTreeMap<SiteId, i64>,
    /// Sync events stored.
    pub events: i64,
}

impl Counts {
    /// Records in total.
    pub fn records(&self) -> i64 {
        self.records_by_type.values().sum()
    }
}

/// Database settings as SQLite reports them, for `check`, `status` and tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// `PRAGMA journal_mode` (expected `wal` for files, `memory` for in-memory databases).
    pub journal_mode: String,
    /// `PRAGMA foreign_keys`.
    pub foreign_keys: bool,
    /// `PRAGMA busy_timeout`, milliseconds.
    pub busy_timeout_ms: i64,
    /// `PRAGMA synchronous` (0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA).
    pub synchronous: i64,
    /// Highest applied migration version.
    pub schema_version: i64,
    /// SQLite library version.
    pub sqlite_version: String,
    /// `total_changes()` of the writer connection (None for a read-only store).
    pub writer_total_changes: Option<i64>,
    /// Whether the store is read-only.
    pub read_only: bool,
}

/// Write counters of a [`crate::Store`] since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteStats {
    /// Write transactions committed.
    pub transactions: u64,
    /// Rows inserted, updated or deleted by them.
    pub rows: u64,
}
