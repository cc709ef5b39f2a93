//! Backup and summary counts.

use std::path::Path;

use crate::Store;
use crate::error::{Ctx as _, Result, StoreError};
use crate::store::col;
use crate::types::{CopyCounts, CopyState, Counts};

impl Store {
    /// Writes a consistent copy of the database to `target` while it is in use
    /// (`VACUUM INTO`), from a read connection, so it also works on a read-only store. Refuses
    /// to overwrite an existing file. The copy is a self-contained database that
    /// [`Store::open`] accepts.
    pub async fn backup_to(&self, target: &Path) -> Result<()> {
        if target.exists() {
            return Err(StoreError::BackupExists {
                path: target.to_path_buf(),
            });
        }
        let Some(text) = target.to_str() else {
            return Err(StoreError::invalid_argument(
                "backing up the database",
                format!("the target path {} is not valid UTF-8", target.display()),
            ));
        };
        sqlx::query("VACUUM INTO $1")
            .bind(text)
            .execute(self.reader())
            .await
            .ctx(&format!("backing up the database to {}", target.display()))?;
        tracing::info!(target = %target.display(), "database backed up");
        Ok(())
    }

    /// Summary counts for `status` and metrics, read in one snapshot.
    pub async fn counts(&self) -> Result<Counts> {
        let ctx = "counting";
        let mut tx = self.reader().begin().await.ctx(ctx)?;
        let mut counts = Counts::default();
        for row in sqlx::query("SELECT type, COUNT(*) AS n FROM dns_records GROUP BY type")
            .fetch_all(&mut *tx)
            .await
            .ctx(ctx)?
        {
            counts
                .records_by_type
                .insert(col(&row, "type")?, col(&row, "n")?);
        }
        counts.origins = sqlx::query_scalar("SELECT COUNT(*) FROM record_origins")
            .fetch_one(&mut *tx)
            .await
            .ctx(ctx)?;
        for row in sqlx::query(
            "SELECT site_id, state, COUNT(*) AS n FROM synced_copies GROUP BY site_id, state",
        )
        .fetch_all(&mut *tx)
        .await
        .ctx(ctx)?
        {
            let state: String = col(&row, "state")?;
            let n: i64 = col(&row, "n")?;
            let entry: &mut CopyCounts = counts
                .copies_by_site
                .entry(col(&row, "site_id")?)
                .or_default();
            match crate::convert::parse_enum::<CopyState>(&state, ctx)? {
                CopyState::Active => entry.active += n,
                CopyState::Pending => entry.pending += n,
            }
        }
        for row in sqlx::query("SELECT site_id, COUNT(*) AS n FROM conflicts GROUP BY site_id")
            .fetch_all(&mut *tx)
            .await
            .ctx(ctx)?
        {
            counts
                .conflicts_by_site
                .insert(col(&row, "site_id")?, col(&row, "n")?);
        }
        counts.events = sqlx::query_scalar("SELECT COUNT(*) FROM sync_events")
            .fetch_one(&mut *tx)
            .await
            .ctx(ctx)?;
        tx.commit().await.ctx(ctx)?;
        Ok(counts)
    }
}
