//! Records and their origins.

use std::collections::HashMap;

use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;

use crate::Store;
use crate::convert::{from_ms, json_text, json_value, parse_enum, to_ms};
use crate::error::{Ctx as _, Result, StoreError};
use crate::store::col;
use crate::types::{AppliedOriginChanges, Origin, OriginChanges, RecordData, SiteId, StoredRecord};

const RECORD_COLUMNS: &str =
    "id, type, name, value, ttl, enabled, record_raw, first_seen, updated_at FROM dns_records";
const ORIGIN_COLUMNS: &str =
    "record_id, site_id, kind, source_id, first_seen, last_seen FROM record_origins";

fn record_from_row(row: &SqliteRow) -> Result<StoredRecord> {
    let ctx = "reading a record";
    let raw: String = col(row, "record_raw")?;
    Ok(StoredRecord {
        record: RecordData {
            id: col(row, "id")?,
            rtype: col(row, "type")?,
            name: col(row, "name")?,
            value: col(row, "value")?,
            ttl: col(row, "ttl")?,
            enabled: col(row, "enabled")?,
            raw: json_value(&raw, ctx)?,
        },
        first_seen: from_ms(col(row, "first_seen")?, ctx)?,
        updated_at: from_ms(col(row, "updated_at")?, ctx)?,
        origins: Vec::new(),
    })
}

fn origin_from_row(row: &SqliteRow) -> Result<Origin> {
    let ctx = "reading a record origin";
    let kind: String = col(row, "kind")?;
    Ok(Origin {
        record_id: col(row, "record_id")?,
        site_id: col(row, "site_id")?,
        kind: parse_enum(&kind, ctx)?,
        source_id: col(row, "source_id")?,
        first_seen: from_ms(col(row, "first_seen")?, ctx)?,
        last_seen: from_ms(col(row, "last_seen")?, ctx)?,
    })
}

impl Store {
    /// The origins of one site (what it publishes), by record id.
    pub async fn origins_of_site(&self, site_id: SiteId) -> Result<Vec<Origin>> {
        let sql = format!("SELECT {ORIGIN_COLUMNS} WHERE site_id = $1 ORDER BY record_id");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(site_id)
            .fetch_all(self.reader())
            .await
            .ctx("reading a site's origins")?
            .iter()
            .map(origin_from_row)
            .collect()
    }

    /// Applies the origin changes of one site's complete read in ONE transaction: either all
    /// of it is written or none of it (a failing statement rolls everything back). Records
    /// already stored identically and origins already identical are not rewritten; an empty
    /// change set does not touch the database at all.
    ///
    /// Every record in `upsert_records` must carry its canonical id
    /// ([`RecordData::has_valid_id`]); every origin's record must exist or be in the batch.
    /// Touching an origin that does not exist is ignored.
    pub async fn apply_origin_changes(
        &self,
        site_id: SiteId,
        changes: &OriginChanges,
        now: OffsetDateTime,
    ) -> Result<AppliedOriginChanges> {
        if changes.is_empty() {
            return Ok(AppliedOriginChanges::default());
        }
        let context = format!("applying origin changes of site {site_id}");
        let mut raws = Vec::with_capacity(changes.upsert_records.len());
        for record in &changes.upsert_records {
            if !record.has_valid_id() {
                return Err(StoreError::invalid_argument(
                    context,
                    format!(
                        "record {} {} {} carries id {}, which is not sha256(type|name|value)",
                        record.rtype, record.name, record.value, record.id
                    ),
                ));
            }
            raws.push(json_text(&record.raw, &context)?);
        }

        let mut tx = self.begin_write("apply origin changes").await?;
        let site: Vec<SqliteRow> = tx
            .fetch_all(
                sqlx::query("SELECT id FROM sites WHERE id = $1").bind(site_id),
                "reading a site",
            )
            .await?;
        if site.is_empty() {
            return Err(StoreError::not_found("site", site_id.to_string()));
        }
        let now_ms = to_ms(now);
        let mut applied = AppliedOriginChanges::default();
        for (record, raw) in changes.upsert_records.iter().zip(&raws) {
            applied.records += tx
                .exec(
                    sqlx::query(
                        "INSERT INTO dns_records
                             (id, type, name, value, ttl, enabled, record_raw, first_seen, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
                         ON CONFLICT (id) DO UPDATE SET
                             ttl = excluded.ttl,
                             enabled = excluded.enabled,
                             record_raw = excluded.record_raw,
                             updated_at = excluded.updated_at
                         WHERE dns_records.ttl IS NOT excluded.ttl
                            OR dns_records.enabled IS NOT excluded.enabled
                            OR dns_records.record_raw IS NOT excluded.record_raw",
                    )
                    .bind(&record.id)
                    .bind(&record.rtype)
                    .bind(&record.name)
                    .bind(&record.value)
                    .bind(record.ttl)
                    .bind(record.enabled)
                    .bind(raw)
                    .bind(now_ms),
                    &format!("writing record {} {} {}", record.rtype, record.name, record.value),
                )
                .await?;
        }
        for origin in &changes.add {
            applied.added += tx
                .exec(
                    sqlx::query(
                        "INSERT INTO record_origins
                             (record_id, site_id, kind, source_id, first_seen, last_seen)
                         VALUES ($1, $2, $3, $4, $5, $5)
                         ON CONFLICT (record_id, site_id) DO UPDATE SET
                             kind = excluded.kind,
                             source_id = excluded.source_id,
                             last_seen = excluded.last_seen
                         WHERE record_origins.kind IS NOT excluded.kind
                            OR record_origins.source_id IS NOT excluded.source_id
                            OR record_origins.last_seen IS NOT excluded.last_seen",
                    )
                    .bind(&origin.record_id)
                    .bind(site_id)
                    .bind(origin.kind.as_str())
                    .bind(&origin.source_id)
                    .bind(now_ms),
                    &format!("adding origin {} on site {site_id}", origin.record_id),
                )
                .await?;
        }
        for (record_id, last_seen) in &changes.touch {
            let seen = to_ms(*last_seen);
            applied.touched += tx
                .exec(
                    sqlx::query(
                        "UPDATE record_origins SET last_seen = $1
                         WHERE record_id = $2 AND site_id = $3 AND last_seen IS NOT $1",
                    )
                    .bind(seen)
                    .bind(record_id)
                    .bind(site_id),
                    "updating an origin's last-seen time",
                )
                .await?;
        }
        for record_id in &changes.remove {
            applied.removed += tx
                .exec(
                    sqlx::query("DELETE FROM record_origins WHERE record_id = $1 AND site_id = $2")
                        .bind(record_id)
                        .bind(site_id),
                    "removing an origin",
                )
                .await?;
        }
        tx.commit().await?;
        Ok(applied)
    }

    /// Every record with its origins, by id, read in one consistent snapshot. Records without
    /// origins (kept alive by copies awaiting deletion) are included with an empty list.
    pub async fn records_with_origins(&self) -> Result<Vec<StoredRecord>> {
        let ctx = "reading records";
        let mut tx = self.reader().begin().await.ctx(ctx)?;
        let sql = format!("SELECT {RECORD_COLUMNS} ORDER BY id");
        let mut records: Vec<StoredRecord> = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *tx)
            .await
            .ctx(ctx)?
            .iter()
            .map(record_from_row)
            .collect::<Result<_>>()?;
        let sql = format!("SELECT {ORIGIN_COLUMNS} ORDER BY record_id, site_id");
        let origins = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *tx)
            .await
            .ctx(ctx)?;
        tx.commit().await.ctx(ctx)?;
        let index: HashMap<String, usize> = records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.record.id.clone(), i))
            .collect();
        for row in &origins {
            let origin = origin_from_row(row)?;
            if let Some(&i) = index.get(&origin.record_id)
                && let Some(record) = records.get_mut(i)
            {
                record.origins.push(origin);
            }
        }
        Ok(records)
    }

    /// One record with its origins.
    pub async fn record(&self, record_id: &str) -> Result<Option<StoredRecord>> {
        let ctx = "reading a record";
        let mut tx = self.reader().begin().await.ctx(ctx)?;
        let sql = format!("SELECT {RECORD_COLUMNS} WHERE id = $1");
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(record_id)
            .fetch_optional(&mut *tx)
            .await
            .ctx(ctx)?
        else {
            return Ok(None);
        };
        let mut record = record_from_row(&row)?;
        let sql = format!("SELECT {ORIGIN_COLUMNS} WHERE record_id = $1 ORDER BY site_id");
        record.origins = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(record_id)
            .fetch_all(&mut *tx)
            .await
            .ctx(ctx)?
            .iter()
            .map(origin_from_row)
            .collect::<Result<_>>()?;
        tx.commit().await.ctx(ctx)?;
        Ok(Some(record))
    }

    /// Removes records that have no origin and no registry row left (their open conflicts go
    /// with them; their events stay). Returns how many were removed; writes nothing when there
    /// are none.
    pub async fn remove_orphan_records(&self) -> Result<u64> {
        self.ensure_writable("remove orphan records")?;
        const ORPHANS: &str = "FROM dns_records
             WHERE NOT EXISTS (SELECT 1 FROM record_origins o WHERE o.record_id = dns_records.id)
               AND NOT EXISTS (SELECT 1 FROM synced_copies c WHERE c.record_id = dns_records.id)";
        let sql = format!("SELECT COUNT(*) {ORPHANS}");
        let orphans: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(self.reader())
            .await
            .ctx("counting orphan records")?;
        if orphans == 0 {
            return Ok(0);
        }
        let mut tx = self.begin_write("remove orphan records").await?;
        // Conflicts of these records first, so that the count below is only records.
        let conflicts = format!("DELETE FROM conflicts WHERE record_id IN (SELECT id {ORPHANS})");
        tx.exec(
            sqlx::query(sqlx::AssertSqlSafe(conflicts)),
            "removing conflicts of orphan records",
        )
        .await?;
        let n = tx
            .exec(
                sqlx::query(sqlx::AssertSqlSafe(format!("DELETE {ORPHANS}"))),
                "removing orphan records",
            )
            .await?;
        tx.commit().await?;
        Ok(n)
    }
}
