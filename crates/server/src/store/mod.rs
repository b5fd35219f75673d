//! Persistent state on SQLite (embedded, the default) or PostgreSQL (shared by replicas).
//! Every query lives here so that the schema has one owner; callers get domain rows,
//! never SQL types.
//!
//! Both backends go through sqlx's `Any` driver, so each query is one text: placeholders
//! are `$1`, `$2`, ... (sqlx binds those on SQLite too), integers are read and written as
//! `i64`, and each backend has its own migration directory with the same tables.

mod broker;
mod events;
mod flavors;
mod hosts;
mod nodes;
mod reports;
#[cfg(test)]
mod tests;
mod trust;

pub use broker::{KeyRow, ReleaseRow, TagRow};
pub use events::StoredEvent;
pub use flavors::FlavorRow;
pub(crate) use flavors::GroupPut;
pub use hosts::{ActivationRefused, EnrollmentRow, HostRow};
pub use nodes::{BindOutcome, BoundHost, UnbindOutcome};
pub use reports::ReportRow;
use std::sync::Arc;
pub use trust::{ClockCheck, Verdict};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, ConnectOptions, Executor};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// How long a request waits for a connection before the database counts as unavailable.
/// Short, so a dead database fails requests promptly instead of piling them up.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_CONNECTIONS: u32 = 8;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("stored record is corrupt: {0}")]
    Corrupt(String),
    #[error("bad database location: {0}")]
    Location(String),
}

impl From<sqlx::Error> for StoreError {
    /// Every database failure (refused or dropped connection, pool timeout, constraint
    /// violation) fails closed as "unavailable": no verdict is made from it.
    fn from(e: sqlx::Error) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

/// Where the database lives, as parsed from `--database`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    /// `postgres://` and `postgresql://` URLs are PostgreSQL; `sqlite://`, `sqlite:` or a
    /// plain path is SQLite. Any other `scheme://` is refused rather than taken for a path.
    fn parse(s: &str) -> Result<Location, StoreError> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(Location::Postgres(s.to_string()));
        }
        if let Some(rest) = s.strip_prefix("sqlite://").or(s.strip_prefix("sqlite:")) {
            if rest.is_empty() || rest.contains('?') {
                return Err(StoreError::Location(
                    "a sqlite location is a file path, without query parameters".into(),
                ));
            }
            return Ok(Location::Sqlite(PathBuf::from(rest)));
        }
        if let Some((scheme, _)) = s.split_once("://") {
            return Err(StoreError::Location(format!(
                "unsupported scheme {scheme:?}: use postgres://, sqlite:// or a file path"
            )));
        }
        if s.is_empty() {
            return Err(StoreError::Location("empty database location".into()));
        }
        Ok(Location::Sqlite(PathBuf::from(s)))
    }
}

/// The service's database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// SQLite only: the background WAL checkpointer, stopped with the last clone.
    _checkpointer: Option<Arc<Checkpointer>>,
    /// SQLite only (one process writes the log): the audit log's right edge as this
    /// process last appended it (`audit::EdgeCache`; checked before each use).
    audit_edge: Option<Arc<crate::audit::EdgeCache>>,
}

/// SQLite's automatic WAL checkpoint runs inside the commit that crosses its threshold,
/// which put a multi-millisecond checkpoint into about one request in fifty (the p99 of
/// key release went from 2.6 ms to 7.5 ms). Connections are opened with automatic
/// checkpoints off, and this task checkpoints (PASSIVE: it never blocks a writer) once a
/// second instead, off every request's path.
#[derive(Debug)]
struct Checkpointer(tokio::task::AbortHandle);

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

fn spawn_checkpointer(pool: AnyPool) -> Arc<Checkpointer> {
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                return;
            }
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                tracing::warn!(error = %e, "SQLite WAL checkpoint failed; will retry");
            }
        }
    });
    Arc::new(Checkpointer(task.abort_handle()))
}

impl Store {
    /// Opens the database at `location` and runs migrations: a `postgres://` or
    /// `postgresql://` URL opens PostgreSQL, a `sqlite://` URL or a path opens SQLite.
    pub async fn open(location: &str) -> Result<Store, StoreError> {
        match Location::parse(location)? {
            Location::Sqlite(path) => Store::open_sqlite(&path).await,
            Location::Postgres(url) => Store::open_postgres(&url).await,
        }
    }

    /// Opens (creating if needed) the SQLite database at `path` and runs migrations.
    pub async fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        // An absolute path keeps the first segment of a relative one from being read as
        // a URL host; sqlx percent-encodes the rest.
        let path = std::path::absolute(path)
            .map_err(|e| StoreError::Location(format!("{}: {e}", path.display())))?;
        let url = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .to_url_lossy();
        let opts = AnyConnectOptions::from_str(url.as_str())?;
        // The Any driver builds SQLite options from the URL alone, which cannot ask for
        // WAL or synchronous=NORMAL; foreign keys and a 5 s busy timeout are defaults.
        // Automatic checkpoints are off: see `Checkpointer`.
        // An embedded database has no connection to lose, so the per-use check (a
        // round trip to sqlx's worker thread on every query) is skipped.
        let pool = pool_options()
            .test_before_acquire(false)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;")
                        .await?;
                    Ok(())
                })
            })
            .connect_with(opts)
            .await?;
        SQLITE_MIGRATIONS.run(&pool).await?;
        let checkpointer = spawn_checkpointer(pool.clone());
        Ok(Store {
            pool,
            _checkpointer: Some(checkpointer),
            audit_edge: Some(Arc::default()),
        })
    }

    /// Connects to PostgreSQL at `url` and runs migrations. Replicas may do this at the
    /// same time: sqlx's migrator holds a PostgreSQL advisory lock while it migrates.
    pub async fn open_postgres(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let opts =
            AnyConnectOptions::from_str(url).map_err(|e| StoreError::Location(e.to_string()))?;
        let pool = pool_options().connect_with(opts).await?;
        POSTGRES_MIGRATIONS.run(&pool).await?;
        Ok(Store {
            pool,
            _checkpointer: None,
            audit_edge: None,
        })
    }

    /// The audit log's cached right edge, where this store keeps one.
    pub(crate) fn audit_edge(&self) -> Option<&crate::audit::EdgeCache> {
        self.audit_edge.as_deref()
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A transaction that will write. On SQLite it takes the write lock at `BEGIN`
    /// (`BEGIN IMMEDIATE`), waiting for it under the busy timeout: a deferred transaction
    /// that reads first and writes later fails at once with SQLITE_BUSY when another
    /// writer committed in between (its snapshot is stale), which the busy timeout cannot
    /// wait out. PostgreSQL's row locks need nothing of the kind.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        if self._checkpointer.is_some() {
            self.pool.begin_with("BEGIN IMMEDIATE").await
        } else {
            self.pool.begin().await
        }
    }
}

/// A connection is checked before each use, so one broken while the database was away
/// is replaced rather than handed to a request: the pool recovers by itself.
fn pool_options() -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(true)
}

pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}
