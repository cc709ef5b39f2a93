//! The ownership registry (`synced_copies`) and open conflicts.

use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;

use crate::Store;
use crate::convert::{from_ms, opt_from_ms, parse_enum, to_ms};
use crate::error::{Ctx as _, Result, StoreError};
use crate::store::col;
use crate::types::{Conflict, CopyState, NewConflict, SiteId, SyncedCopy};

const COPY_COLUMNS: &str = "site_id, record_id, policy_id, state, created_at, verified_at, source_site_id FROM synced_copies";
const CONFLICT_COLUMNS: &str = "site_id, record_id, reason, code, detail, since FROM conflicts";

fn copy_from_row(row: &SqliteRow) -> Result<SyncedCopy> {
    let ctx = "reading a registry row";
    let state: String = col(row, "state")?;
    Ok(SyncedCopy {
        site_id: col(row, "site_id")?,
        record_id: col(row, "record_id")?,
        policy_id: col(row, "policy_id")?,
        state: parse_enum(&state, ctx)?,
        created_at: from_ms(col(row, "created_at")?, ctx)?,
        verified_at: opt_from_ms(col(row, "verified_at")?, ctx)?,
        source_site_id: col(row, "source_site_id")?,
    })
}

fn conflict_from_row(row: &SqliteRow) -> Result<Conflict> {
    Ok(Conflict {
        site_id: col(row, "site_id")?,
        record_id: col(row, "record_id")?,
        reason: col(row, "reason")?,
        code: col(row, "code")?,
        detail: col(row, "detail")?,
        since: from_ms(col(row, "since")?, "reading a conflict")?,
    })
}

impl Store {
    /// The registry rows of one site, by record id.
    pub async fn copies_of_site(&self, site_id: SiteId) -> Result<Vec<SyncedCopy>> {
        let sql = format!("SELECT {COPY_COLUMNS} WHERE site_id = $1 ORDER BY record_id");
        self.fetch_copies(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(site_id))
            .await
    }

    /// Every registry row, by site then record.
    pub async fn all_copies(&self) -> Result<Vec<SyncedCopy>> {
        let sql = format!("SELECT {COPY_COLUMNS} ORDER BY site_id, record_id");
        self.fetch_copies(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .await
    }

    /// The registry rows of one record (its copies on every site), by site.
    pub async fn copies_of_record(&self, record_id: &str) -> Result<Vec<SyncedCopy>> {
        let sql = format!("SELECT {COPY_COLUMNS} WHERE record_id = $1 ORDER BY site_id");
        self.fetch_copies(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(record_id))
            .await
    }

    async fn fetch_copies(&self, query: crate::store::Q<'_>) -> Result<Vec<SyncedCopy>> {
        query
            .fetch_all(self.reader())
            .await
            .ctx("reading the ownership registry")?
            .iter()
            .map(copy_from_row)
            .collect()
    }

    /// Writes PENDING registry rows for copies about to be created on a site, in one
    /// transaction, and returns how many were new. Call it before the create request (§5.5): a
    /// crash after the request leaves a PENDING row that the next discovery adopts.
    ///
    /// A PENDING row that already exists is left as it is (a retried create). An ACTIVE row
    /// for the same `(site, record)` is never overwritten: the whole batch fails with
    /// [`StoreError::Constraint`]. If that copy's policy was deleted by hand, call
    /// [`Store::remove_copy`] first, then create it again.
    pub async fn insert_pending<S: AsRef<str>>(
        &self,
        site_id: SiteId,
        record_ids: &[S],
        now: OffsetDateTime,
    ) -> Result<u64> {
        if record_ids.is_empty() {
            self.ensure_writable("register pending copies")?;
            return Ok(0);
        }
        let mut tx = self.begin_write("register pending copies").await?;
        let now_ms = to_ms(now);
        for record_id in record_ids {
            let record_id = record_id.as_ref();
            let context =
                format!("registering a pending copy of record {record_id} on site {site_id}");
            let existing = tx
                .fetch_all(
                    sqlx::query(
                        "SELECT state, policy_id FROM synced_copies
                         WHERE site_id = $1 AND record_id = $2",
                    )
                    .bind(site_id)
                    .bind(record_id),
                    &context,
                )
                .await?;
            if let Some(row) = existing.first() {
                let state: String = col(row, "state")?;
                if parse_enum::<CopyState>(&state, &context)? == CopyState::Pending {
                    continue;
                }
                let policy: Option<String> = col(row, "policy_id")?;
                return Err(StoreError::Constraint {
                    context,
                    detail: format!(
                        "the copy is already registered as policy {}; if that policy is gone, \
                         remove the registry row (remove_copy) before creating it again",
                        policy.unwrap_or_default()
                    ),
                });
            }
            tx.exec(
                sqlx::query(
                    "INSERT INTO synced_copies (site_id, record_id, policy_id, state, created_at, verified_at)
                     VALUES ($1, $2, NULL, 'PENDING', $3, NULL)",
                )
                .bind(site_id)
                .bind(record_id)
                .bind(now_ms),
                &context,
            )
            .await?;
        }
        tx.commit().await
    }

    /// Marks a copy ACTIVE with the policy id the controller returned (after the 201, or when
    /// discovery adopts a live policy for a PENDING row), and `verified_at = now`. Inserts the
    /// row if it is missing, so that ownership is never lost. Fails with
    /// [`StoreError::Constraint`] if the site already has another row with this policy id.
    pub async fn activate_copy(
        &self,
        site_id: SiteId,
        record_id: &str,
        policy_id: &str,
        source_site_id: Option<SiteId>,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.begin_write("activate a copy").await?;
        tx.exec(
            sqlx::query(
                "INSERT INTO synced_copies (site_id, record_id, policy_id, state, created_at, verified_at, source_site_id)
                 VALUES ($1, $2, $3, 'ACTIVE', $4, $4, $5)
                 ON CONFLICT (site_id, record_id) DO UPDATE SET
                     policy_id = excluded.policy_id, state = 'ACTIVE', verified_at = excluded.verified_at,
                     source_site_id = coalesce(excluded.source_site_id, synced_copies.source_site_id)",
            )
            .bind(site_id)
            .bind(record_id)
            .bind(policy_id)
            .bind(to_ms(now))
            .bind(source_site_id),
            &format!("activating the copy of record {record_id} on site {site_id} as policy {policy_id}"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Re-points a copy after its policy was updated in place to hold a new record (the value
    /// changed at the origin): the registry row of `old_record_id` becomes the row of
    /// `new_record_id`, same policy id, `verified_at = now`. Fails with
    /// [`StoreError::NotFound`] if there is no row for the old record, or
    /// [`StoreError::Constraint`] if the site already has a row for the new record.
    pub async fn repoint_copy(
        &self,
        site_id: SiteId,
        old_record_id: &str,
        new_record_id: &str,
        source_site_id: Option<SiteId>,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.begin_write("re-point a copy").await?;
        let n = tx
            .exec(
                sqlx::query(
                    "UPDATE synced_copies SET record_id = $1, verified_at = $2,
                         source_site_id = coalesce($5, source_site_id)
                     WHERE site_id = $3 AND record_id = $4",
                )
                .bind(new_record_id)
                .bind(to_ms(now))
                .bind(site_id)
                .bind(old_record_id)
                .bind(source_site_id),
                &format!(
                    "re-pointing the copy of record {old_record_id} on site {site_id} to record {new_record_id}"
                ),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::not_found(
                "copy",
                format!("of record {old_record_id} on site {site_id}"),
            ));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes a registry row (after the delete succeeded, 200 or 404). Returns whether a row
    /// existed.
    pub async fn remove_copy(&self, site_id: SiteId, record_id: &str) -> Result<bool> {
        let mut tx = self.begin_write("remove a copy").await?;
        let n = tx
            .exec(
                sqlx::query("DELETE FROM synced_copies WHERE site_id = $1 AND record_id = $2")
                    .bind(site_id)
                    .bind(record_id),
                "removing a registry row",
            )
            .await?;
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Sets `verified_at = now` on copies of a site, in one transaction; returns how many rows
    /// changed. To keep writes proportional to change, call it for copies whose confirmation
    /// matters (first seen live after a create or adoption, a repaired drift), not for every
    /// copy on every cycle: a copy present in a complete read is implicitly verified as of
    /// its site's `last_synced`.
    pub async fn mark_verified<S: AsRef<str>>(
        &self,
        site_id: SiteId,
        record_ids: &[S],
        now: OffsetDateTime,
    ) -> Result<u64> {
        if record_ids.is_empty() {
            self.ensure_writable("mark copies verified")?;
            return Ok(0);
        }
        let mut tx = self.begin_write("mark copies verified").await?;
        let now_ms = to_ms(now);
        for record_id in record_ids {
            tx.exec(
                sqlx::query(
                    "UPDATE synced_copies SET verified_at = $1
                     WHERE site_id = $2 AND record_id = $3 AND verified_at IS NOT $1",
                )
                .bind(now_ms)
                .bind(site_id)
                .bind(record_id.as_ref()),
                "marking a copy verified",
            )
            .await?;
        }
        tx.commit().await
    }

    /// The open conflicts of one site, by record id.
    pub async fn open_conflicts(&self, site_id: SiteId) -> Result<Vec<Conflict>> {
        let sql = format!("SELECT {CONFLICT_COLUMNS} WHERE site_id = $1 ORDER BY record_id");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(site_id)
            .fetch_all(self.reader())
            .await
            .ctx("reading conflicts")?
            .iter()
            .map(conflict_from_row)
            .collect()
    }

    /// Every open conflict, by site then record.
    pub async fn all_conflicts(&self) -> Result<Vec<Conflict>> {
        let sql = format!("SELECT {CONFLICT_COLUMNS} ORDER BY site_id, record_id");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.reader())
            .await
            .ctx("reading conflicts")?
            .iter()
            .map(conflict_from_row)
            .collect()
    }

    /// Opens and closes conflicts of one site in one transaction. An opened conflict that is
    /// already open keeps its `since` and gets the new reason, code and detail (written only if
    /// they differ); `since = now` for new ones. Returns the number of rows changed.
    pub async fn set_conflicts<S: AsRef<str>>(
        &self,
        site_id: SiteId,
        opened: &[NewConflict],
        closed: &[S],
        now: OffsetDateTime,
    ) -> Result<u64> {
        if opened.is_empty() && closed.is_empty() {
            self.ensure_writable("record conflicts")?;
            return Ok(0);
        }
        let mut tx = self.begin_write("record conflicts").await?;
        let now_ms = to_ms(now);
        for c in opened {
            tx.exec(
                sqlx::query(
                    "INSERT INTO conflicts (site_id, record_id, reason, code, detail, since)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (site_id, record_id) DO UPDATE SET
                         reason = excluded.reason, code = excluded.code, detail = excluded.detail
                     WHERE conflicts.reason IS NOT excluded.reason
                        OR conflicts.code IS NOT excluded.code
                        OR conflicts.detail IS NOT excluded.detail",
                )
                .bind(site_id)
                .bind(&c.record_id)
                .bind(&c.reason)
                .bind(&c.code)
                .bind(&c.detail)
                .bind(now_ms),
                &format!(
                    "opening a conflict for record {} on site {site_id}",
                    c.record_id
                ),
            )
            .await?;
        }
        for record_id in closed {
            tx.exec(
                sqlx::query("DELETE FROM conflicts WHERE site_id = $1 AND record_id = $2")
                    .bind(site_id)
                    .bind(record_id.as_ref()),
                "closing a conflict",
            )
            .await?;
        }
        tx.commit().await
    }
}
