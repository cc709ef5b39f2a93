//! The [`Store`] handle: opening, locking, migrations, the single writer and shared helpers.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::Row as _;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use time::OffsetDateTime;

use crate::error::{Ctx as _, Result, StoreError};
use crate::types::{Diagnostics, WriteStats};

/// How long a connection waits for a lock held by another connection before failing.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Read connections of a file database.
const READ_CONNECTIONS: u32 = 4;

/// The versioned migrations, embedded at build time from `migrations/` (see `build.rs`).
fn migrator() -> Migrator {
    Migrator::with_migrations(include!(concat!(env!("OUT_DIR"), "/migrations.rs")))
}

/// The datastore of unifi-dns-sync. Cheap to clone; all clones share the same pools and lock.
///
/// Open it with [`Store::open`] (the daemon and every writing command) or
/// [`Store::open_read_only`] (listing commands while the daemon runs).
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    /// Read connections (`SQLITE_OPEN_READONLY` for file databases).
    pub(crate) reader: SqlitePool,
    /// The one write connection; None for a read-only store.
    pub(crate) writer: Option<SqlitePool>,
    /// The database file; None for an in-memory database.
    pub(crate) path: Option<PathBuf>,
    /// Committed write transactions.
    transactions: AtomicU64,
    /// Rows changed by committed write transactions.
    rows: AtomicU64,
    /// Runs found unfinished (and marked interrupted) at open.
    interrupted_at_open: u64,
    /// The advisory lock on `<db>.lock`, held while any clone lives. Declared last so that it
    /// is released after the pools are dropped.
    _lock: Option<File>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .field("read_only", &self.is_read_only())
            .finish_non_exhaustive()
    }
}

/// Where a database URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    File(PathBuf),
    Memory,
}

/// Parses a path, `sqlite://PATH`, `sqlite:PATH` or `sqlite::memory:`.
fn parse_url(url: &str) -> Result<Target> {
    let invalid = |reason: &str| StoreError::InvalidUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = url.trim();
    if trimmed.is_empty() {
        return Err(invalid("it is empty"));
    }
    let rest = if let Some(rest) = trimmed.strip_prefix("sqlite:") {
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        for param in query.split('&').filter(|p| !p.is_empty()) {
            if !matches!(param, "mode=rwc" | "mode=rw") {
                return Err(invalid(&format!(
                    "the parameter {param:?} is not supported (the store sets its own options); remove it"
                )));
            }
        }
        path
    } else if trimmed.contains("://") {
        return Err(invalid(
            "only SQLite databases are supported by this version",
        ));
    } else {
        trimmed
    };
    match rest {
        "" => Err(invalid("it names no file")),
        ":memory:" => Ok(Target::Memory),
        path => Ok(Target::File(PathBuf::from(path))),
    }
}

/// `<db>.lock`, next to the database.
pub(crate) fn lock_path(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

/// Takes the exclusive advisory lock on `<db>.lock`, or says who holds it.
fn acquire_lock(db: &Path) -> Result<File> {
    let lock_file = lock_path(db);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_file)
        .map_err(|source| StoreError::Io {
            context: "cannot open the lock file",
            path: lock_file.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => {
            // Best effort: tell a second process who holds the lock.
            let note = format!("pid {}\n", std::process::id());
            if let Err(e) = file
                .set_len(0)
                .and_then(|()| (&file).write_all(note.as_bytes()))
            {
                tracing::debug!(path = %lock_file.display(), error = %e, "could not write the lock holder's pid");
            }
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut text = String::new();
            let holder = File::open(&lock_file)
                .and_then(|mut f| f.read_to_string(&mut text))
                .ok()
                .map(|_| text.trim().to_owned())
                .filter(|t| !t.is_empty() && t.len() < 100);
            Err(StoreError::Locked {
                database: db.to_path_buf(),
                lock_file,
                holder,
            })
        }
        Err(std::fs::TryLockError::Error(source)) => Err(StoreError::Io {
            context: "cannot lock the lock file",
            path: lock_file,
            source,
        }),
    }
}

fn base_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
}

fn memory_options() -> Result<SqliteConnectOptions> {
    SqliteConnectOptions::from_str("sqlite::memory:")
        .map(|o| o.busy_timeout(BUSY_TIMEOUT).foreign_keys(true))
        .ctx("preparing an in-memory database")
}

/// A pool with exactly one connection that lives as long as the pool.
fn single_connection_pool() -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(Duration::from_secs(60))
}

fn migration_error(database: &str, err: sqlx::migrate::MigrateError) -> StoreError {
    use sqlx::migrate::MigrateError as M;
    let message = match &err {
        M::VersionMissing(v) => format!(
            "it has migration {v}, which this binary does not know: a newer unifi-dns-sync wrote it"
        ),
        M::VersionMismatch(v) => {
            format!("migration {v} differs from the one applied to this database")
        }
        M::Dirty(v) => format!("migration {v} was left half-applied by an earlier failure"),
        other => other.to_string(),
    };
    StoreError::Migration {
        database: database.to_owned(),
        message,
        source: Box::new(err),
    }
}

impl Store {
    /// Opens (creating if needed) the database for reading and writing, takes the exclusive
    /// lock on `<db>.lock`, applies pending migrations and marks runs left unfinished by a
    /// previous process as [`crate::RunOutcome::Interrupted`].
    ///
    /// `url` is a file path, `sqlite://PATH` (`sqlite:///abs/path` for an absolute path) or
    /// `sqlite::memory:` (a private in-memory database, for tests; no lock). A missing parent
    /// directory is created.
    ///
    /// Fails with [`StoreError::Locked`] when another `Store` (in this or another process)
    /// holds the database.
    pub async fn open(url: &str) -> Result<Store> {
        let target = parse_url(url)?;
        let (reader, writer, path, lock) = match target {
            Target::Memory => {
                let pool = single_connection_pool().connect_lazy_with(memory_options()?);
                (pool.clone(), pool, None, None)
            }
            Target::File(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
                    && !parent.exists()
                {
                    std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                        context: "cannot create the database directory",
                        path: parent.to_path_buf(),
                        source,
                    })?;
                }
                let lock = acquire_lock(&path)?;
                let writer = single_connection_pool()
                    .connect_with(
                        base_options(&path)
                            .create_if_missing(true)
                            .journal_mode(SqliteJournalMode::Wal)
                            .synchronous(SqliteSynchronous::Normal),
                    )
                    .await
                    .ctx(&format!("opening the database {}", path.display()))?;
                let reader = SqlitePoolOptions::new()
                    .max_connections(READ_CONNECTIONS)
                    .min_connections(0)
                    .idle_timeout(Duration::from_secs(300))
                    .connect_lazy_with(base_options(&path).read_only(true));
                (reader, writer, Some(path), Some(lock))
            }
        };
        let shown = path
            .as_deref()
            .map_or_else(|| url.to_owned(), |p| p.display().to_string());
        migrator()
            .run(&writer)
            .await
            .map_err(|e| migration_error(&shown, e))?;

        let now = crate::convert::to_ms(OffsetDateTime::now_utc());
        let interrupted = sqlx::query(
            "UPDATE sync_runs SET finished_at = $1, outcome = 'interrupted',
                 error = COALESCE(error, 'the process stopped before this run finished (crash, kill or power loss)')
             WHERE finished_at IS NULL",
        )
        .bind(now)
        .execute(&writer)
        .await
        .ctx("marking unfinished runs as interrupted")?
        .rows_affected();
        if interrupted > 0 {
            tracing::warn!(
                database = %shown,
                runs = interrupted,
                "found sync runs left unfinished by a previous process; marked them interrupted"
            );
        }
        tracing::info!(database = %shown, "database opened");

        Ok(Store {
            inner: Arc::new(Inner {
                reader,
                writer: Some(writer),
                path,
                transactions: AtomicU64::new(0),
                rows: AtomicU64::new(0),
                interrupted_at_open: interrupted,
                _lock: lock,
            }),
        })
    }

    /// Opens an existing database for reading only, without the lock, so that listing
    /// commands (`status`, `records`, `history`, `db backup`) work while the daemon runs.
    /// Every write method fails with [`StoreError::ReadOnly`]. The schema must be exactly the
    /// one this binary knows (no migration is run).
    pub async fn open_read_only(url: &str) -> Result<Store> {
        let target = parse_url(url)?;
        let Target::File(path) = target else {
            return Err(StoreError::InvalidUrl {
                url: url.to_owned(),
                reason: "a private in-memory database cannot be opened read-only".to_owned(),
            });
        };
        if !path.is_file() {
            return Err(StoreError::NotFound {
                what: "database",
                key: path.display().to_string(),
                hint: "; check --database / [database].url, or run `unifi-dns-sync sync` once to create it".to_owned(),
            });
        }
        let reader = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .min_connections(0)
            .idle_timeout(Duration::from_secs(300))
            .connect_with(base_options(&path).read_only(true))
            .await
            .ctx(&format!(
                "opening the database {} read-only",
                path.display()
            ))?;
        let store = Store {
            inner: Arc::new(Inner {
                reader,
                writer: None,
                path: Some(path),
                transactions: AtomicU64::new(0),
                rows: AtomicU64::new(0),
                interrupted_at_open: 0,
                _lock: None,
            }),
        };
        store.check_schema().await?;
        Ok(store)
    }

    /// Checks that the applied migrations are exactly the embedded ones.
    async fn check_schema(&self) -> Result<()> {
        let shown = self.display_name();
        let has_table: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(&self.inner.reader)
        .await
        .ctx("reading the schema version")?;
        let applied: Vec<i64> = if has_table == 0 {
            Vec::new()
        } else {
            sqlx::query_scalar(
                "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
            )
            .fetch_all(&self.inner.reader)
            .await
            .ctx("reading the schema version")?
        };
        let known: Vec<i64> = migrator().iter().map(|m| m.version).collect();
        if let Some(v) = applied.iter().find(|v| !known.contains(v)) {
            return Err(StoreError::Schema {
                database: shown,
                message: format!(
                    "has schema migration {v}, which this binary does not know: a newer \
                     unifi-dns-sync wrote it; use that version (or newer) to read it"
                ),
            });
        }
        if applied.len() < known.len() {
            return Err(StoreError::Schema {
                database: shown,
                message: format!(
                    "has an older schema (version {}) than this binary needs ({}); start the \
                     daemon or run `unifi-dns-sync sync` once, which upgrades it",
                    applied.last().copied().unwrap_or(0),
                    known.last().copied().unwrap_or(0)
                ),
            });
        }
        Ok(())
    }

    /// Closes every connection of this store (and of all its clones) and then releases the
    /// lock once the last clone is dropped. Writes already committed are durable.
    pub async fn close(self) {
        if let Some(writer) = &self.inner.writer {
            writer.close().await;
        }
        self.inner.reader.close().await;
    }

    /// Whether the store was opened with [`Store::open_read_only`].
    pub fn is_read_only(&self) -> bool {
        self.inner.writer.is_none()
    }

    /// The database file (None for an in-memory database).
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// Runs that were left unfinished by a previous process and marked interrupted at open.
    pub fn interrupted_at_open(&self) -> u64 {
        self.inner.interrupted_at_open
    }

    /// Committed write transactions and the rows they changed since this store was opened
    /// (shared by its clones). Cheap; tests use it to prove that a no-op cycle writes nothing.
    pub fn write_stats(&self) -> WriteStats {
        WriteStats {
            transactions: self.inner.transactions.load(Ordering::Relaxed),
            rows: self.inner.rows.load(Ordering::Relaxed),
        }
    }

    /// The database settings as SQLite reports them.
    pub async fn diagnostics(&self) -> Result<Diagnostics> {
        let ctx = "reading database settings";
        let mut conn = self.inner.reader.acquire().await.ctx(ctx)?;
        let journal_mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await
            .ctx(ctx)?;
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await
            .ctx(ctx)?;
        let busy_timeout_ms: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut *conn)
            .await
            .ctx(ctx)?;
        let sqlite_version: String = sqlx::query_scalar("SELECT sqlite_version()")
            .fetch_one(&mut *conn)
            .await
            .ctx(ctx)?;
        let schema_version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&mut *conn)
                .await
                .ctx(ctx)?;
        drop(conn);
        let (synchronous, writer_total_changes) = match &self.inner.writer {
            Some(writer) => {
                let mut w = writer.acquire().await.ctx(ctx)?;
                let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
                    .fetch_one(&mut *w)
                    .await
                    .ctx(ctx)?;
                let changes: i64 = sqlx::query_scalar("SELECT total_changes()")
                    .fetch_one(&mut *w)
                    .await
                    .ctx(ctx)?;
                (sync, Some(changes))
            }
            None => {
                let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
                    .fetch_one(&self.inner.reader)
                    .await
                    .ctx(ctx)?;
                (sync, None)
            }
        };
        Ok(Diagnostics {
            journal_mode: journal_mode.to_ascii_lowercase(),
            foreign_keys: foreign_keys != 0,
            busy_timeout_ms,
            synchronous,
            schema_version: schema_version.unwrap_or(0),
            sqlite_version,
            writer_total_changes,
            read_only: self.is_read_only(),
        })
    }

    pub(crate) fn display_name(&self) -> String {
        self.inner
            .path
            .as_deref()
            .map_or_else(|| ":memory:".to_owned(), |p| p.display().to_string())
    }

    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.inner.reader
    }

    /// Begins a write transaction on the single writer connection with `BEGIN IMMEDIATE`.
    pub(crate) async fn begin_write(&self, operation: &'static str) -> Result<WriteTx<'_>> {
        let Some(writer) = &self.inner.writer else {
            return Err(StoreError::ReadOnly { operation });
        };
        let tx = writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .ctx(&format!("starting a write transaction to {operation}"))?;
        Ok(WriteTx {
            tx,
            rows: 0,
            inner: &self.inner,
            operation,
        })
    }

    /// Fails with [`StoreError::ReadOnly`] for a read-only store.
    pub(crate) fn ensure_writable(&self, operation: &'static str) -> Result<()> {
        if self.inner.writer.is_none() {
            return Err(StoreError::ReadOnly { operation });
        }
        Ok(())
    }
}

/// A write transaction that counts the rows it changes.
pub(crate) struct WriteTx<'a> {
    pub(crate) tx: Transaction<'static, Sqlite>,
    rows: u64,
    inner: &'a Inner,
    operation: &'static str,
}

/// A query ready to execute.
pub(crate) type Q<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments>;

impl WriteTx<'_> {
    /// Executes a statement, adding its changed rows to the transaction's count.
    pub(crate) async fn exec(&mut self, query: Q<'_>, context: &str) -> Result<u64> {
        let done = query.execute(&mut *self.tx).await.ctx(context)?;
        self.rows += done.rows_affected();
        Ok(done.rows_affected())
    }

    /// Adds rows changed by a statement run through [`WriteTx::fetch_all`] (`RETURNING`).
    pub(crate) fn add_rows(&mut self, n: u64) {
        self.rows += n;
    }

    /// Fetches rows inside the transaction.
    pub(crate) async fn fetch_all(
        &mut self,
        query: Q<'_>,
        context: &str,
    ) -> Result<Vec<SqliteRow>> {
        query.fetch_all(&mut *self.tx).await.ctx(context)
    }

    /// Commits and updates the store's write counters.
    pub(crate) async fn commit(self) -> Result<u64> {
        let context = format!("committing the change to {}", self.operation);
        self.tx.commit().await.ctx(&context)?;
        self.inner.transactions.fetch_add(1, Ordering::Relaxed);
        self.inner.rows.fetch_add(self.rows, Ordering::Relaxed);
        Ok(self.rows)
    }
}

/// Reads a column, mapping a decode failure to [`StoreError::InvalidData`].
pub(crate) fn col<'r, T>(row: &'r SqliteRow, name: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    row.try_get(name)
        .map_err(|e| StoreError::invalid_data(format!("reading column {name}"), e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("sqlite://dns_sync.db").ok(),
            Some(Target::File("dns_sync.db".into()))
        );
        assert_eq!(
            parse_url("sqlite:///data/dns_sync.db?mode=rwc").ok(),
            Some(Target::File("/data/dns_sync.db".into()))
        );
        assert_eq!(
            parse_url("sqlite:x.db").ok(),
            Some(Target::File("x.db".into()))
        );
        assert_eq!(
            parse_url("/data/a?b.db").ok(),
            Some(Target::File("/data/a?b.db".into()))
        );
        assert_eq!(parse_url("sqlite::memory:").ok(), Some(Target::Memory));
        assert_eq!(parse_url(":memory:").ok(), Some(Target::Memory));
        assert!(parse_url("").is_err());
        assert!(parse_url("sqlite://").is_err());
        assert!(parse_url("postgres://localhost/db").is_err());
        assert!(parse_url("sqlite://x.db?cache=shared").is_err());
    }

    #[test]
    fn lock_path_is_a_sidecar() {
        assert_eq!(
            lock_path(Path::new("/data/dns_sync.db")),
            PathBuf::from("/data/dns_sync.db.lock")
        );
    }
}
