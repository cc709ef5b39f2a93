//! The datastore of `unifi-dns-sync` (SPEC §6): controllers, sites, canonical DNS records and
//! their origins, the ownership registry of the copies this service created, open conflicts,
//! sync runs and the sync-event history.
//!
//! # How it fits
//!
//! The sync engine (crate `unifi-dns-sync`) is the only writer. Each cycle it reads what it
//! needs to plan ([`Store::records_with_origins`], [`Store::copies_of_site`],
//! [`Store::open_conflicts`], …), computes the differences with what the consoles returned,
//! and hands the store only those differences ([`Store::apply_origin_changes`],
//! [`Store::insert_pending`], [`Store::activate_copy`], [`Store::add_events`], …). The web
//! server, metrics and CLI listing commands only read. The interface is in domain terms:
//! every public type is plain Rust (`String`, `i64`, `bool`, [`time::OffsetDateTime`],
//! [`serde_json::Value`], enums) and every error is a [`StoreError`]; no SQL or sqlx type is
//! exposed, so a PostgreSQL backend can be added later behind the same interface without
//! touching the sync logic: `Store` would hold either backend's pool (chosen from the URL
//! scheme), with a second migration directory. The SQL is written in the portable subset
//! (`$N` parameters, `ON CONFLICT … DO UPDATE`, `RETURNING`, INTEGER timestamps); the few
//! SQLite-only spellings are `IS NOT` for a null-safe comparison (PostgreSQL: `IS DISTINCT
//! FROM`), `VACUUM INTO` for backups and `AUTOINCREMENT` in the schema.
//!
//! # SQLite
//!
//! [`Store::open`] accepts a path or a `sqlite://` URL, creates the file, and sets WAL
//! journaling, `foreign_keys = ON`, `busy_timeout` = 5 s and `synchronous = NORMAL`. It runs
//! the versioned migrations in `migrations/` (embedded at build time; never edit an applied
//! one, add a new file) and marks runs left unfinished by a crashed process as interrupted.
//!
//! One process owns a database: `open` takes an exclusive advisory lock on the sidecar file
//! `<database>.lock` (held while any clone of the [`Store`] lives), so a second daemon, or a
//! second `Store` in the same process, fails with [`StoreError::Locked`].
//! [`Store::open_read_only`] takes no lock, opens read-only connections and refuses every
//! write; the CLI's `status`, `records`, `history` and `db backup` use it while the daemon
//! runs.
//!
//! All writes go through one writer connection, each in a `BEGIN IMMEDIATE` transaction;
//! batch methods take slices and write them in one transaction, so a failure leaves nothing
//! half-applied. Reads use a separate pool of read-only connections and, in WAL mode, never
//! wait for the writer.
//!
//! # Representation
//!
//! * Timestamps are stored as INTEGER unix milliseconds (UTC); values read back are UTC
//!   `OffsetDateTime`s truncated to the millisecond.
//! * Booleans are INTEGER 0/1; JSON (`record_raw`, run counts) is TEXT.
//! * A record's id is `sha256("type|name|value")` in lower-case hex ([`record_id`]).
//! * Sites are referred to by their integer id ([`SiteId`]), never by the bare UUID.
//! * Sync events carry a snapshot of the record (type, name, value) and of the site label;
//!   their `record_id` and `site_id` are not foreign keys, so history outlives both.
//!
//! # Invariants the schema enforces
//!
//! * A record cannot be deleted while an origin or a registry row refers to it, so a copy
//!   never loses its record; [`Store::remove_orphan_records`] removes only records with
//!   neither.
//! * One registry row per `(site, record)` and one per `(site, policy id)`; a PENDING row has
//!   no policy id, an ACTIVE row has one; [`Store::insert_pending`] never overwrites an ACTIVE
//!   row.
//! * Deleting a site ([`Store::delete_site`], only for sites marked removed) takes its
//!   origins, registry rows and conflicts along; sync events are never deleted except by
//!   [`Store::prune_events`].
//!
//! # Proportional writes
//!
//! The store writes only what it is given, and every update is guarded so that re-writing an
//! identical row changes nothing (`upsert_controller`, `sync_sites`, `set_withheld_deletes`
//! and `set_policy_support` do not even open a transaction then; an empty batch never does).
//! The engine diffs against the reads above and passes only changes. Two fields are written
//! only when the engine asks: an origin's `last_seen` ([`OriginChanges::touch`]) and a copy's
//! `verified_at` ([`Store::mark_verified`]); an origin or copy present in a site's last
//! complete read is implicitly seen/verified as of the site's `last_synced`, so neither needs
//! touching every cycle. [`Store::write_stats`] counts committed write transactions and
//! changed rows, so tests can prove that a no-op cycle writes nothing.

#![warn(missing_docs)]

mod convert;
mod error;
mod events;
mod maintenance;
mod records;
mod registry;
mod runs;
mod sites;
mod store;
mod types;

pub use error::{BoxError, Result, StoreError};
pub use events::MAX_EVENT_LIMIT;
pub use store::Store;
pub use types::{
    AppliedOriginChanges, Conflict, ControllerState, CopyCounts, CopyState, Counts, Diagnostics,
    Event, EventId, EventQuery, EventStatus, NewConflict, NewEvent, NewOrigin, Origin,
    OriginChanges, OriginKind, Pruned, RecordData, Run, RunId, RunOutcome, Site, SiteId,
    SiteListing, SiteRead, StoredRecord, SyncedCopy, Trigger, WriteStats, record_id,
};
