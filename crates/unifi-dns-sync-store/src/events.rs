//! Sync events (history).

use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;

use crate::Store;
use crate::convert::{from_ms, glob_to_like, parse_enum, to_ms};
use crate::error::{Ctx as _, Result};
use crate::store::col;
use crate::types::{Event, EventQuery, NewEvent, Pruned};

/// Upper bound on [`EventQuery::limit`].
pub const MAX_EVENT_LIMIT: u32 = 10_000;

fn event_from_row(row: &SqliteRow) -> Result<Event> {
    let ctx = "reading a sync event";
    let status: String = col(row, "status")?;
    Ok(Event {
        id: col(row, "id")?,
        run_id: col(row, "run_id")?,
        at: from_ms(col(row, "at")?, ctx)?,
        status: parse_enum(&status, ctx)?,
        site_id: col(row, "site_id")?,
        site_label: col(row, "site_label")?,
        record_id: col(row, "record_id")?,
        rtype: col(row, "type")?,
        name: col(row, "name")?,
        value: col(row, "value")?,
        reason: col(row, "reason")?,
        code: col(row, "code")?,
        detail: col(row, "detail")?,
    })
}

/// A bound value of the dynamic event query.
enum Arg {
    Int(i64),
    Text(String),
}

impl Store {
    /// Records sync events in one transaction. Each event's site label
    /// (`controller/internal_reference`) is snapshotted from the sites table, so history stays
    /// readable after the site is deleted. Returns how many were written.
    pub async fn add_events(&self, events: &[NewEvent]) -> Result<u64> {
        if events.is_empty() {
            self.ensure_writable("record sync events")?;
            return Ok(0);
        }
        let mut tx = self.begin_write("record sync events").await?;
        for e in events {
            tx.exec(
                sqlx::query(
                    "INSERT INTO sync_events
                         (run_id, at, status, site_id, site_label, record_id, type, name, value,
                          reason, code, detail)
                     VALUES ($1, $2, $3, $4,
                             (SELECT controller || '/' || internal_reference FROM sites WHERE id = $4),
                             $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(e.run_id)
                .bind(to_ms(e.at))
                .bind(e.status.as_str())
                .bind(e.site_id)
                .bind(&e.record_id)
                .bind(&e.rtype)
                .bind(&e.name)
                .bind(&e.value)
                .bind(&e.reason)
                .bind(&e.code)
                .bind(&e.detail),
                "recording a sync event",
            )
            .await?;
        }
        tx.commit().await
    }

    /// Sync events matching `query`, newest first (by id).
    pub async fn events(&self, query: &EventQuery) -> Result<Vec<Event>> {
        let mut sql = String::from(
            "SELECT id, run_id, at, status, site_id, site_label, record_id, type, name, value,
                    reason, code, detail
             FROM sync_events WHERE 1 = 1",
        );
        let mut args: Vec<Arg> = Vec::new();
        let mut push = |sql: &mut String, clause: &str, arg: Arg| {
            args.push(arg);
            sql.push_str(&clause.replace('#', &format!("${}", args.len())));
        };
        if let Some(since) = query.since {
            push(&mut sql, " AND at >= #", Arg::Int(to_ms(since)));
        }
        if let Some(until) = query.until {
            push(&mut sql, " AND at < #", Arg::Int(to_ms(until)));
        }
        if let Some(site_id) = query.site_id {
            push(&mut sql, " AND site_id = #", Arg::Int(site_id));
        }
        if let Some(glob) = &query.name_glob {
            if glob.contains('*') {
                push(
                    &mut sql,
                    " AND name LIKE # ESCAPE '\\'",
                    Arg::Text(glob_to_like(glob)),
                );
            } else {
                push(&mut sql, " AND name = #", Arg::Text(glob.to_lowercase()));
            }
        }
        if let Some(status) = query.status {
            push(
                &mut sql,
                " AND status = #",
                Arg::Text(status.as_str().to_owned()),
            );
        }
        if let Some(record_id) = &query.record_id {
            push(&mut sql, " AND record_id = #", Arg::Text(record_id.clone()));
        }
        if let Some(run_id) = query.run_id {
            push(&mut sql, " AND run_id = #", Arg::Int(run_id));
        }
        if let Some(before) = query.before_id {
            push(&mut sql, " AND id < #", Arg::Int(before));
        }
        let limit = query.limit.clamp(1, MAX_EVENT_LIMIT);
        push(
            &mut sql,
            " ORDER BY id DESC LIMIT #",
            Arg::Int(i64::from(limit)),
        );
        push(&mut sql, " OFFSET #", Arg::Int(i64::from(query.offset)));

        // Only static fragments and numbered placeholders went into `sql`; every value is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for arg in args {
            q = match arg {
                Arg::Int(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
            };
        }
        q.fetch_all(self.reader())
            .await
            .ctx("reading sync events")?
            .iter()
            .map(event_from_row)
            .collect()
    }

    /// Removes sync events older than `older_than`, and finished runs started before it, in
    /// one transaction (history retention).
    pub async fn prune_events(&self, older_than: OffsetDateTime) -> Result<Pruned> {
        let mut tx = self.begin_write("prune sync events").await?;
        let cutoff = to_ms(older_than);
        let events = tx
            .exec(
                sqlx::query("DELETE FROM sync_events WHERE at < $1").bind(cutoff),
                "pruning sync events",
            )
            .await?;
        let runs = tx
            .exec(
                sqlx::query(
                    "DELETE FROM sync_runs WHERE finished_at IS NOT NULL AND started_at < $1",
                )
                .bind(cutoff),
                "pruning sync runs",
            )
            .await?;
        tx.commit().await?;
        if events > 0 || runs > 0 {
            tracing::info!(events, runs, "pruned history");
        }
        Ok(Pruned { events, runs })
    }
}
