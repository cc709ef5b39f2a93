//! Sync runs.

use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;

use crate::Store;
use crate::convert::{from_ms, json_text, json_value, opt_from_ms, parse_enum, to_ms};
use crate::error::{Ctx as _, Result, StoreError};
use crate::store::col;
use crate::types::{Run, RunId, RunOutcome, Trigger};

const RUN_COLUMNS: &str =
    "id, started_at, finished_at, \"trigger\", dry_run, outcome, counts, error FROM sync_runs";

fn run_from_row(row: &SqliteRow) -> Result<Run> {
    let ctx = "reading a sync run";
    let outcome: Option<String> = col(row, "outcome")?;
    let counts: String = col(row, "counts")?;
    let trigger: String = col(row, "trigger")?;
    Ok(Run {
        id: col(row, "id")?,
        started_at: from_ms(col(row, "started_at")?, ctx)?,
        finished_at: opt_from_ms(col(row, "finished_at")?, ctx)?,
        trigger: parse_enum(&trigger, ctx)?,
        dry_run: col(row, "dry_run")?,
        outcome: outcome.map(|o| parse_enum(&o, ctx)).transpose()?,
        counts: json_value(&counts, ctx)?,
        error: col(row, "error")?,
    })
}

impl Store {
    /// Records the start of a sync run and returns its id.
    pub async fn start_run(
        &self,
        trigger: Trigger,
        dry_run: bool,
        now: OffsetDateTime,
    ) -> Result<RunId> {
        let mut tx = self.begin_write("start a sync run").await?;
        let rows = tx
            .fetch_all(
                sqlx::query(
                    "INSERT INTO sync_runs (started_at, \"trigger\", dry_run) VALUES ($1, $2, $3)
                     RETURNING id",
                )
                .bind(to_ms(now))
                .bind(trigger.as_str())
                .bind(dry_run),
                "recording the start of a sync run",
            )
            .await?;
        tx.add_rows(1);
        tx.commit().await?;
        let row = rows
            .first()
            .ok_or_else(|| StoreError::invalid_data("recording a sync run", "no id returned"))?;
        col(row, "id")
    }

    /// Records the end of a run: its outcome, the engine's counters and the error that ended
    /// it, if any. Fails with [`StoreError::NotFound`] for an unknown run.
    pub async fn finish_run(
        &self,
        run_id: RunId,
        outcome: RunOutcome,
        counts: &serde_json::Value,
        error: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        let counts = json_text(counts, "finishing a sync run")?;
        let mut tx = self.begin_write("finish a sync run").await?;
        let n = tx
            .exec(
                sqlx::query(
                    "UPDATE sync_runs SET finished_at = $1, outcome = $2, counts = $3, error = $4
                     WHERE id = $5",
                )
                .bind(to_ms(now))
                .bind(outcome.as_str())
                .bind(counts)
                .bind(error)
                .bind(run_id),
                "recording the end of a sync run",
            )
            .await?;
        if n == 0 {
            return Err(StoreError::not_found("sync run", run_id.to_string()));
        }
        tx.commit().await?;
        Ok(())
    }

    /// The most recent runs, newest first (including one still running).
    pub async fn last_runs(&self, limit: u32) -> Result<Vec<Run>> {
        let sql = format!("SELECT {RUN_COLUMNS} ORDER BY id DESC LIMIT $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64::from(limit))
            .fetch_all(self.reader())
            .await
            .ctx("reading sync runs")?
            .iter()
            .map(run_from_row)
            .collect()
    }

    /// One run.
    pub async fn run(&self, run_id: RunId) -> Result<Option<Run>> {
        let sql = format!("SELECT {RUN_COLUMNS} WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(run_id)
            .fetch_optional(self.reader())
            .await
            .ctx("reading a sync run")?
            .as_ref()
            .map(run_from_row)
            .transpose()
    }

    /// The most recent finished run (any outcome), e.g. for `/readyz`.
    pub async fn last_finished_run(&self) -> Result<Option<Run>> {
        let sql =
            format!("SELECT {RUN_COLUMNS} WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_optional(self.reader())
            .await
            .ctx("reading the last finished run")?
            .as_ref()
            .map(run_from_row)
            .transpose()
    }

    /// The most recent run with the given outcome (e.g. the last success, for metrics).
    pub async fn last_run_with_outcome(&self, outcome: RunOutcome) -> Result<Option<Run>> {
        let sql = format!("SELECT {RUN_COLUMNS} WHERE outcome = $1 ORDER BY id DESC LIMIT 1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(outcome.as_str())
            .fetch_optional(self.reader())
            .await
            .ctx("reading the last run")?
            .as_ref()
            .map(run_from_row)
            .transpose()
    }
}
