//! The database: SQLite by default, PostgreSQL when `DATABASE_URL` says so.
//!
//! SQLite runs in WAL mode with foreign keys on and a busy timeout. Write transactions start
//! with `BEGIN IMMEDIATE` ([`Db::begin_write`]): a deferred transaction that reads and then
//! writes fails at once with SQLITE_BUSY when another writer got in first, whatever the timeout.
//! They run on a pool of one connection of their own: SQLite has one writer at a time anyway,
//! and waiting for that connection is a fair queue, where waiting for the file lock is
//! SQLite's busy handler sleeping up to 100 ms at a time (a long tail under concurrency).
//! Reads use the main pool and never wait for writers (WAL).
//!
//! An unreachable database costs one short wait, not one per request: a connection is waited
//! for at most the configured acquire timeout, and after a few requests in a row fail to reach
//! it, [`Db::breaker`] counts it down: requests are refused at once with SERVICE_UNAVAILABLE
//! while a probe pings it, and served again from the first answer.
use std::{
    path::Path,
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    AccessMode, ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, IsolationLevel,
    SqliteTransactionMode, SqlxSqliteConnector, TransactionOptions, TransactionTrait,
    sqlx::{
        ConnectOptions as _,
        sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    },
};

use crate::{
    BoxError,
    breaker::{Breaker, Probe},
};

/// How long a SQLite writer waits for the write lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests in a row that fail to reach the database before it counts as down.
const DOWN_AFTER_FAILURES: u32 = 3;
/// How often a database counted down is pinged.
const PROBE_INTERVAL: Duration = Duration::from_millis(500);

/// How the pool connects.
#[derive(Clone, Copy, Debug)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// Longest wait for a pooled connection (and for a new one to open).
    pub acquire_timeout: Duration,
}

/// A handle on the database, cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
    /// SQLite: the one connection write transactions take turns on.
    writer: Option<DatabaseConnection>,
    statements: Arc<AtomicU64>,
    breaker: Breaker,
}

impl Db {
    /// Connects to `url` (creating a SQLite file and its folder if needed).
    pub async fn connect(url: &str, pool: PoolSettings) -> Result<Self, BoxError> {
        let mut writer = None;
        let acquire_timeout = pool.acquire_timeout.max(Duration::from_millis(50));
        let mut conn = if url.starts_with("sqlite:") {
            let conn = connect_sqlite(url, pool.max_connections.max(2), acquire_timeout).await?;
            // Writers queue for their connection: they wait as long as SQLite would for its lock.
            writer = Some(connect_sqlite(url, 1, acquire_timeout.max(SQLITE_BUSY_TIMEOUT)).await?);
            conn
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut opts = ConnectOptions::new(url.to_owned());
            opts.max_connections(pool.max_connections)
                .min_connections(1)
                .connect_timeout(acquire_timeout)
                .acquire_timeout(acquire_timeout)
                .sqlx_logging(false);
            Database::connect(opts)
                .await
                .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?
        } else {
            return Err("DATABASE_URL must start with postgres:// or sqlite://".into());
        };
        let statements = Arc::new(AtomicU64::new(0));
        for pool in std::iter::once(&mut conn).chain(writer.as_mut()) {
            let counter = statements.clone();
            pool.set_metric_callback(move |_| {
                counter.fetch_add(1, Ordering::Relaxed);
            });
        }
        let pinged = conn.clone();
        let probe: Probe = Arc::new(move || {
            let conn = pinged.clone();
            Box::pin(async move { conn.ping().await.is_ok() })
        });
        Ok(Db {
            conn,
            writer,
            statements,
            breaker: Breaker::new("database", DOWN_AFTER_FAILURES, PROBE_INTERVAL, probe),
        })
    }

    /// Whether the database is known to be unreachable, and where requests report reaching it
    /// or not.
    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    /// How many SQL statements this handle (and its clones) has run: the figure that query-count
    /// tests and benchmarks read before and after an operation.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), DbErr> {
        Migrator::up(&self.conn, None).await
    }

    /// The pooled connection, for reads and single-statement writes.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// Starts a read-only transaction over one snapshot of the database: every statement in it
    /// sees the same committed state, so a computation that reads in several statements (counts
    /// folded so far, then the responses not folded yet) never sees a change between them
    /// twice or not at all. `REPEATABLE READ READ ONLY` on PostgreSQL; on SQLite a deferred
    /// transaction on a reading connection, whose first read fixes its snapshot (WAL).
    pub async fn begin_read(&self) -> Result<DatabaseTransaction, DbErr> {
        let options = match self.backend() {
            DbBackend::Postgres => TransactionOptions {
                isolation_level: Some(IsolationLevel::RepeatableRead),
                access_mode: Some(AccessMode::ReadOnly),
                ..Default::default()
            },
            _ => TransactionOptions::default(),
        };
        self.conn.begin_with_options(options).await
    }

    /// Starts a transaction that will write: `BEGIN IMMEDIATE` on SQLite's writer connection.
    pub async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        let sqlite_transaction_mode = (self.backend() == DbBackend::Sqlite).then_some(SqliteTransactionMode::Immediate);
        self.writer
            .as_ref()
            .unwrap_or(&self.conn)
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode,
                ..Default::default()
            })
            .await
    }

    /// Whether the database answers within `within`.
    pub async fn ping(&self, within: Duration) -> Result<(), String> {
        match tokio::time::timeout(within, self.conn.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err(format!("no answer within {} ms", within.as_millis())),
        }
    }
}

/// Whether `err` says the database could not be reached (a lost connection, no connection
/// within the acquire timeout, a server shutting down or refusing connections, SQLite's lock
/// held past its busy timeout): the request may succeed later unchanged.
/// The placeholders and values of a claim by lease (a job, a webhook delivery): the lease's
/// end, the time of the claim, and the time rows must be due by, which the statement reads
/// twice. SQLite numbers `?` in order of appearance, so the due time is bound twice there.
pub fn lease_binds(
    backend: sea_orm::DbBackend,
    until: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> ([&'static str; 3], Vec<sea_orm::Value>) {
    match backend {
        sea_orm::DbBackend::Postgres => (["$1", "$2", "$3"], vec![until.into(), now.into(), now.into()]),
        _ => (["?", "?", "?"], vec![until.into(), now.into(), now.into(), now.into()]),
    }
}

pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error};
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => match e.as_ref() {
            Error::Io(_) | Error::Tls(_) | Error::PoolTimedOut | Error::PoolClosed | Error::WorkerCrashed => true,
            Error::Database(db) => db.code().is_some_and(|code| {
                // PostgreSQL: connection exceptions (08…), shutting down or starting up (57P0…),
                // too many connections (53300); SQLite: busy or locked (primary codes 5, 6).
                code.starts_with("08")
                    || code.starts_with("57P0")
                    || code == "53300"
                    || (code.len() < 5 && code.parse::<u32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6)))
            }),
            _ => false,
        },
        _ => false,
    }
}

async fn connect_sqlite(
    url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
) -> Result<DatabaseConnection, BoxError> {
    let opts = SqliteConnectOptions::from_str(url).map_err(|e| format!("invalid SQLite URL: {e}"))?;
    if let Some(folder) = opts.get_filename().parent().filter(|p| !p.as_os_str().is_empty()) {
        create_folder(folder)?;
    }
    let opts = opts
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .disable_statement_logging();
    let pool = SqlitePoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(acquire_timeout)
        .connect_with(opts)
        .await
        .map_err(|e| format!("cannot open SQLite database: {e}"))?;
    Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

fn create_folder(folder: &Path) -> Result<(), BoxError> {
    std::fs::create_dir_all(folder).map_err(|e| format!("cannot create {}: {e}", folder.display()).into())
}
