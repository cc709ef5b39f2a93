//! Controllers and sites.

use std::collections::{HashMap, HashSet};

use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;

use crate::Store;
use crate::convert::{from_ms, opt_from_ms, opt_to_ms, to_ms};
use crate::error::{Ctx as _, Result, StoreError};
use crate::store::{WriteTx, col};
use crate::types::{ControllerState, Site, SiteId, SiteListing, SiteRead};

const SITE_COLUMNS: &str = "id, controller, uuid, internal_reference, name, first_seen, \
     last_synced, last_read_at, last_read_complete, last_error, removed_at, withheld_deletes, \
     policy_support FROM sites";

fn site_from_row(row: &SqliteRow) -> Result<Site> {
    let ctx = "reading a site";
    Ok(Site {
        id: col(row, "id")?,
        controller: col(row, "controller")?,
        uuid: col(row, "uuid")?,
        internal_reference: col(row, "internal_reference")?,
        name: col(row, "name")?,
        first_seen: from_ms(col(row, "first_seen")?, ctx)?,
        last_synced: opt_from_ms(col(row, "last_synced")?, ctx)?,
        last_read_at: opt_from_ms(col(row, "last_read_at")?, ctx)?,
        last_read_complete: col(row, "last_read_complete")?,
        last_error: col(row, "last_error")?,
        removed_at: opt_from_ms(col(row, "removed_at")?, ctx)?,
        withheld_deletes: col(row, "withheld_deletes")?,
        policy_support: col(row, "policy_support")?,
    })
}

fn controller_from_row(row: &SqliteRow) -> Result<ControllerState> {
    Ok(ControllerState {
        name: col(row, "name")?,
        url: col(row, "url")?,
        key_fingerprint: col(row, "key_fingerprint")?,
        app_version: col(row, "app_version")?,
        last_contact: opt_from_ms(col(row, "last_contact")?, "reading a controller")?,
        last_error: col(row, "last_error")?,
    })
}

/// What `sync_sites` must change for one controller.
#[derive(Default)]
struct SiteDiff<'a> {
    insert: Vec<&'a SiteListing>,
    /// (id, listing) for renamed sites and sites that came back.
    update: Vec<(SiteId, &'a SiteListing)>,
    /// Sites no longer listed.
    remove: Vec<SiteId>,
}

impl SiteDiff<'_> {
    fn is_empty(&self) -> bool {
        self.insert.is_empty() && self.update.is_empty() && self.remove.is_empty()
    }
}

fn diff_sites<'a>(existing: &[Site], listed: &'a [SiteListing]) -> SiteDiff<'a> {
    let by_uuid: HashMap<&str, &Site> = existing.iter().map(|s| (s.uuid.as_str(), s)).collect();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut diff = SiteDiff::default();
    for listing in listed {
        if !seen.insert(listing.uuid.as_str()) {
            continue; // a duplicate in one listing: the first one wins
        }
        match by_uuid.get(listing.uuid.as_str()) {
            None => diff.insert.push(listing),
            Some(site) => {
                if site.name != listing.name
                    || site.internal_reference != listing.internal_reference
                    || site.removed_at.is_some()
                {
                    diff.update.push((site.id, listing));
                }
            }
        }
    }
    for site in existing {
        if site.removed_at.is_none() && !seen.contains(site.uuid.as_str()) {
            diff.remove.push(site.id);
        }
    }
    diff
}

impl Store {
    /// Inserts or updates a controller's row. Writes nothing (and returns false) when the row
    /// is already identical (timestamps compared at millisecond precision).
    pub async fn upsert_controller(&self, controller: &ControllerState) -> Result<bool> {
        self.ensure_writable("update a controller")?;
        let current = sqlx::query(
            "SELECT name, url, key_fingerprint, app_version, last_contact, last_error
             FROM controllers WHERE name = $1",
        )
        .bind(&controller.name)
        .fetch_optional(self.reader())
        .await
        .ctx("reading a controller")?
        .as_ref()
        .map(controller_from_row)
        .transpose()?;
        if let Some(current) = current {
            let same = current.url == controller.url
                && current.key_fingerprint == controller.key_fingerprint
                && current.app_version == controller.app_version
                && opt_to_ms(current.last_contact) == opt_to_ms(controller.last_contact)
                && current.last_error == controller.last_error;
            if same {
                return Ok(false);
            }
        }
        let mut tx = self.begin_write("update a controller").await?;
        let n = tx
            .exec(
                sqlx::query(
                    "INSERT INTO controllers (name, url, key_fingerprint, app_version, last_contact, last_error)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (name) DO UPDATE SET
                         url = excluded.url,
                         key_fingerprint = excluded.key_fingerprint,
                         app_version = excluded.app_version,
                         last_contact = excluded.last_contact,
                         last_error = excluded.last_error
                     WHERE controllers.url IS NOT excluded.url
                        OR controllers.key_fingerprint IS NOT excluded.key_fingerprint
                        OR controllers.app_version IS NOT excluded.app_version
                        OR controllers.last_contact IS NOT excluded.last_contact
                        OR controllers.last_error IS NOT excluded.last_error",
                )
                .bind(&controller.name)
                .bind(&controller.url)
                .bind(&controller.key_fingerprint)
                .bind(&controller.app_version)
                .bind(opt_to_ms(controller.last_contact))
                .bind(&controller.last_error),
                "writing a controller",
            )
            .await?;
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Every controller, by name.
    pub async fn controllers(&self) -> Result<Vec<ControllerState>> {
        sqlx::query(
            "SELECT name, url, key_fingerprint, app_version, last_contact, last_error
             FROM controllers ORDER BY name",
        )
        .fetch_all(self.reader())
        .await
        .ctx("reading controllers")?
        .iter()
        .map(controller_from_row)
        .collect()
    }

    /// Refreshes a controller's sites from its complete site listing: inserts new sites,
    /// updates changed names, sets `removed_at` on sites no longer listed and clears it on
    /// sites listed again. Writes nothing when nothing changed. Returns every site of the
    /// controller (removed ones included), by id.
    ///
    /// Call it only with a complete listing (every page read): sites missing from the slice
    /// are marked removed. The controller must exist ([`Store::upsert_controller`]).
    pub async fn sync_sites(
        &self,
        controller: &str,
        listed: &[SiteListing],
        now: OffsetDateTime,
    ) -> Result<Vec<Site>> {
        self.ensure_writable("refresh sites")?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM controllers WHERE name = $1")
            .bind(controller)
            .fetch_optional(self.reader())
            .await
            .ctx("reading a controller")?;
        if exists.is_none() {
            return Err(StoreError::NotFound {
                what: "controller",
                key: controller.to_owned(),
                hint: "; record it with upsert_controller before its sites".to_owned(),
            });
        }
        let existing = self.sites_of_controller(controller).await?;
        if diff_sites(&existing, listed).is_empty() {
            return Ok(existing);
        }

        let mut tx = self.begin_write("refresh sites").await?;
        // Re-read under the write lock so the diff is exact.
        let existing = sites_in_tx(&mut tx, controller).await?;
        let diff = diff_sites(&existing, listed);
        let now_ms = to_ms(now);
        for listing in &diff.insert {
            tx.exec(
                sqlx::query(
                    "INSERT INTO sites (controller, uuid, internal_reference, name, first_seen)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(controller)
                .bind(&listing.uuid)
                .bind(&listing.internal_reference)
                .bind(&listing.name)
                .bind(now_ms),
                "inserting a site",
            )
            .await?;
        }
        for (id, listing) in &diff.update {
            tx.exec(
                sqlx::query(
                    "UPDATE sites SET internal_reference = $1, name = $2, removed_at = NULL
                     WHERE id = $3",
                )
                .bind(&listing.internal_reference)
                .bind(&listing.name)
                .bind(id),
                "updating a site",
            )
            .await?;
        }
        for id in &diff.remove {
            tx.exec(
                sqlx::query(
                    "UPDATE sites SET removed_at = $1 WHERE id = $2 AND removed_at IS NULL",
                )
                .bind(now_ms)
                .bind(id),
                "marking a site removed",
            )
            .await?;
        }
        let sites = sites_in_tx(&mut tx, controller).await?;
        tx.commit().await?;
        if !diff.insert.is_empty() || !diff.remove.is_empty() {
            tracing::info!(
                controller,
                new = diff.insert.len(),
                changed = diff.update.len(),
                removed = diff.remove.len(),
                "sites changed"
            );
        }
        Ok(sites)
    }

    async fn sites_of_controller(&self, controller: &str) -> Result<Vec<Site>> {
        let sql = format!("SELECT {SITE_COLUMNS} WHERE controller = $1 ORDER BY id");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(controller)
            .fetch_all(self.reader())
            .await
            .ctx("reading sites")?
            .iter()
            .map(site_from_row)
            .collect()
    }

    /// Records the outcome of one site's read (see [`Store::record_site_reads`]).
    pub async fn record_site_read(
        &self,
        site_id: SiteId,
        complete: bool,
        error: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.record_site_reads(
            &[SiteRead {
                site_id,
                complete,
                error: error.map(str::to_owned),
            }],
            now,
        )
        .await
    }

    /// Records the outcome of site reads in one transaction: `last_read_at = now`, whether it
    /// was complete, its error; a complete read also sets `last_synced = now`. Fails with
    /// [`StoreError::NotFound`] (writing nothing) if a site does not exist.
    pub async fn record_site_reads(&self, reads: &[SiteRead], now: OffsetDateTime) -> Result<()> {
        if reads.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write("record site reads").await?;
        let now_ms = to_ms(now);
        for read in reads {
            let n = tx
                .exec(
                    sqlx::query(
                        "UPDATE sites SET last_read_at = $1, last_read_complete = $2, last_error = $3,
                             last_synced = CASE WHEN $2 THEN $1 ELSE last_synced END
                         WHERE id = $4",
                    )
                    .bind(now_ms)
                    .bind(read.complete)
                    .bind(&read.error)
                    .bind(read.site_id),
                    "recording a site read",
                )
                .await?;
            if n == 0 {
                return Err(StoreError::not_found("site", read.site_id.to_string()));
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets how many deletes the threshold withheld in the last plan for a site. Writes
    /// nothing (and returns false) when the value is unchanged.
    pub async fn set_withheld_deletes(&self, site_id: SiteId, withheld: u64) -> Result<bool> {
        let withheld = i64::try_from(withheld).unwrap_or(i64::MAX);
        let site = self.site_or_not_found(site_id).await?;
        if site.withheld_deletes == withheld {
            return Ok(false);
        }
        let mut tx = self.begin_write("record withheld deletes").await?;
        let n = tx
            .exec(
                sqlx::query(
                    "UPDATE sites SET withheld_deletes = $1 WHERE id = $2 AND withheld_deletes <> $1",
                )
                .bind(withheld)
                .bind(site_id),
                "recording withheld deletes",
            )
            .await?;
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Records whether a site supports DNS policies (`None` = unknown). Writes nothing (and
    /// returns false) when unchanged.
    pub async fn set_policy_support(&self, site_id: SiteId, support: Option<bool>) -> Result<bool> {
        let site = self.site_or_not_found(site_id).await?;
        if site.policy_support == support {
            return Ok(false);
        }
        let mut tx = self.begin_write("record DNS policy support").await?;
        let n = tx
            .exec(
                sqlx::query(
                    "UPDATE sites SET policy_support = $1 WHERE id = $2 AND policy_support IS NOT $1",
                )
                .bind(support)
                .bind(site_id),
                "recording DNS policy support",
            )
            .await?;
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Every site, by controller then id (removed ones included).
    pub async fn sites(&self) -> Result<Vec<Site>> {
        let sql = format!("SELECT {SITE_COLUMNS} ORDER BY controller, id");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.reader())
            .await
            .ctx("reading sites")?
            .iter()
            .map(site_from_row)
            .collect()
    }

    /// One site.
    pub async fn site(&self, site_id: SiteId) -> Result<Option<Site>> {
        let sql = format!("SELECT {SITE_COLUMNS} WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(site_id)
            .fetch_optional(self.reader())
            .await
            .ctx("reading a site")?
            .as_ref()
            .map(site_from_row)
            .transpose()
    }

    async fn site_or_not_found(&self, site_id: SiteId) -> Result<Site> {
        self.site(site_id)
            .await?
            .ok_or_else(|| StoreError::not_found("site", site_id.to_string()))
    }

    /// Deletes a site that its controller no longer lists (`removed_at` set), with its
    /// origins, registry rows and conflicts. Its sync events stay. Records left without
    /// origins and copies are removed by [`Store::remove_orphan_records`].
    pub async fn delete_site(&self, site_id: SiteId) -> Result<()> {
        let site = self.site_or_not_found(site_id).await?;
        if site.removed_at.is_none() {
            return Err(StoreError::invalid_argument(
                format!("deleting site {}", site.label()),
                "its controller still lists it; only sites marked removed can be deleted",
            ));
        }
        let mut tx = self.begin_write("delete a site").await?;
        tx.exec(
            sqlx::query("DELETE FROM sites WHERE id = $1 AND removed_at IS NOT NULL").bind(site_id),
            "deleting a site",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn sites_in_tx(tx: &mut WriteTx<'_>, controller: &str) -> Result<Vec<Site>> {
    let sql = format!("SELECT {SITE_COLUMNS} WHERE controller = $1 ORDER BY id");
    tx.fetch_all(
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(controller),
        "reading sites",
    )
    .await?
    .iter()
    .map(site_from_row)
    .collect()
}
