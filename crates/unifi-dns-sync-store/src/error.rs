//! The one error type of the store.

use std::path::PathBuf;

/// A boxed underlying error, so that no sqlx type appears in the public interface.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in the store. Every message says what failed, where, and what
/// to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another `Store` (normally another unifi-dns-sync process) holds the lock on this database.
    #[error(
        "another unifi-dns-sync{holder} is using the database {}: its lock file {} is held; \
         stop that process first (only one may write to a database), or use a read-only command \
         such as `status`, `records` or `history`",
        database.display(),
        lock_file.display(),
        holder = holder.as_deref().map(|h| format!(" ({h})")).unwrap_or_default()
    )]
    Locked {
        /// The database file.
        database: PathBuf,
        /// The sidecar lock file (`<database>.lock`).
        lock_file: PathBuf,
        /// What the lock file says about its holder (e.g. `pid 1234`), when readable.
        holder: Option<String>,
    },

    /// The schema migrations could not be applied at open.
    #[error(
        "could not migrate the database {database} to the current schema: {message}; \
         restore a backup made with `db backup` or use the unifi-dns-sync version that wrote it"
    )]
    Migration {
        /// The database URL or path.
        database: String,
        /// What went wrong, in words.
        message: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },

    /// A read-only store found a schema other than the one this binary uses.
    #[error("the database {database} {message}")]
    Schema {
        /// The database URL or path.
        database: String,
        /// What is wrong and what to do.
        message: String,
    },

    /// A row the caller named does not exist.
    #[error("{what} {key} is not in the database{hint}")]
    NotFound {
        /// What kind of thing (e.g. `site`, `controller`, `copy`).
        what: &'static str,
        /// Its key, as the caller gave it.
        key: String,
        /// What to do (starts with `; ` when present).
        hint: String,
    },

    /// The store was opened with [`crate::Store::open_read_only`] and a write was attempted.
    #[error(
        "cannot {operation}: the database was opened read-only (a listing command); \
         run a writing command with the daemon stopped, or ask the running daemon through its API"
    )]
    ReadOnly {
        /// The refused operation.
        operation: &'static str,
    },

    /// A write would break an invariant the schema enforces (unique policy id per site, a
    /// record or site that must exist, …). Nothing of the batch was applied.
    #[error(
        "{context}: refused by the database because it would break a consistency rule ({detail}); nothing of this change was written"
    )]
    Constraint {
        /// The operation that failed.
        context: String,
        /// The database's description of the violated rule.
        detail: String,
    },

    /// The caller passed something the store cannot accept. Nothing was written.
    #[error("{context}: {detail}")]
    InvalidArgument {
        /// The operation that refused the argument.
        context: String,
        /// What is wrong with it.
        detail: String,
    },

    /// The database URL could not be understood.
    #[error(
        "invalid database URL {url:?}: {reason}; use a file path, `sqlite://PATH` or `sqlite::memory:`"
    )]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it was refused.
        reason: String,
    },

    /// A backup target already exists.
    #[error("backup target {} already exists; choose a new file name (backups never overwrite)", path.display())]
    BackupExists {
        /// The refused target.
        path: PathBuf,
    },

    /// Stored data could not be decoded (a value outside what this version writes).
    #[error(
        "{context}: the database holds a value this version cannot read ({detail}); restore a backup or report a bug"
    )]
    InvalidData {
        /// What was being read.
        context: String,
        /// The offending value.
        detail: String,
    },

    /// A file-system operation failed (lock file, database directory, backup).
    #[error("{context} {}: {source}; check the path exists and is writable by this user", path.display())]
    Io {
        /// What was being done.
        context: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// Any other database failure.
    #[error(
        "database error while {context}: {source}; check that the database file and its directory \
         are readable and writable and that the disk is not full"
    )]
    Database {
        /// What the store was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
}

impl StoreError {
    /// Whether this is [`StoreError::Locked`].
    pub fn is_locked(&self) -> bool {
        matches!(self, StoreError::Locked { .. })
    }

    /// Whether this is [`StoreError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound { .. })
    }

    /// Whether this is [`StoreError::Constraint`].
    pub fn is_constraint(&self) -> bool {
        matches!(self, StoreError::Constraint { .. })
    }

    pub(crate) fn not_found(what: &'static str, key: impl Into<String>) -> Self {
        StoreError::NotFound {
            what,
            key: key.into(),
            hint: String::new(),
        }
    }

    pub(crate) fn invalid_data(context: impl Into<String>, detail: impl Into<String>) -> Self {
        StoreError::InvalidData {
            context: context.into(),
            detail: detail.into(),
        }
    }

    pub(crate) fn invalid_argument(context: impl Into<String>, detail: impl Into<String>) -> Self {
        StoreError::InvalidArgument {
            context: context.into(),
            detail: detail.into(),
        }
    }
}

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Maps a sqlx error into a [`StoreError`] with context, classifying constraint violations.
pub(crate) fn db_error(context: impl Into<String>, err: sqlx::Error) -> StoreError {
    let context = context.into();
    if let Some(db) = err.as_database_error() {
        use sqlx::error::ErrorKind;
        match db.kind() {
            ErrorKind::UniqueViolation
            | ErrorKind::ForeignKeyViolation
            | ErrorKind::NotNullViolation
            | ErrorKind::CheckViolation => {
                return StoreError::Constraint {
                    context,
                    detail: db.message().to_owned(),
                };
            }
            _ => {}
        }
        // SQLITE_READONLY (8) and its extended codes: a write on a read-only connection.
        if db
            .code()
            .and_then(|c| c.parse::<i64>().ok())
            .is_some_and(|c| c & 0xff == 8)
        {
            return StoreError::ReadOnly {
                operation: "write to the database",
            };
        }
    }
    StoreError::Database {
        context,
        source: Box::new(err),
    }
}

/// Adds context to sqlx results.
pub(crate) trait Ctx<T> {
    /// Maps the error with [`db_error`].
    fn ctx(self, context: &str) -> Result<T>;
}

impl<T> Ctx<T> for std::result::Result<T, sqlx::Error> {
    fn ctx(self, context: &str) -> Result<T> {
        self.map_err(|e| db_error(context, e))
    }
}
