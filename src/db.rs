//! The database: SQLite by default, PostgreSQL when `DATABASE_URL` says so.
//!
//! SQLite runs in WAL mode with foreign keys on and a busy timeout. Write transactions start
//! with `BEGIN IMMEDIATE` ([`Db::begin_write`]): a deferred transaction that reads and then
//! writes fails at once with SQLITE_BUSY when another writer got in first, whatever the timeout.
//! They run on a pool of one connection of their own: SQLite has one writer at a time anyway,
//! and waiting for that connection is a fair queue, where waiting for the file lock is
//! SQLite's busy handler sleeping up to 100 ms at a time (a long tail under concurrency).
//! Reads use the main pool and never wait for writers (WAL).
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
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode,
    SqlxSqliteConnector, TransactionOptions, TransactionTrait,
    sqlx::{
        ConnectOptions as _,
        sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    },
};

use crate::BoxError;

/// How long a SQLite writer waits for the write lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A handle on the database, cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
    /// SQLite: the one connection write transactions take turns on.
    writer: Option<DatabaseConnection>,
    statements: Arc<AtomicU64>,
}

impl Db {
    /// Connects to `url` (creating a SQLite file and its folder if needed).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, BoxError> {
        let mut writer = None;
        let mut conn = if url.starts_with("sqlite:") {
            let conn = connect_sqlite(url, max_connections.max(2)).await?;
            writer = Some(connect_sqlite(url, 1).await?);
            conn
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut opts = ConnectOptions::new(url.to_owned());
            opts.max_connections(max_connections)
                .min_connections(1)
                .connect_timeout(Duration::from_secs(5))
                .acquire_timeout(Duration::from_secs(10))
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
        Ok(Db {
            conn,
            writer,
            statements,
        })
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

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }
}

async fn connect_sqlite(url: &str, max_connections: u32) -> Result<DatabaseConnection, BoxError> {
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
        .acquire_timeout(Duration::from_secs(15))
        .connect_with(opts)
        .await
        .map_err(|e| format!("cannot open SQLite database: {e}"))?;
    Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

fn create_folder(folder: &Path) -> Result<(), BoxError> {
    std::fs::create_dir_all(folder).map_err(|e| format!("cannot create {}: {e}", folder.display()).into())
}
