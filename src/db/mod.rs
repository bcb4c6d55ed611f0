//! Database glue: one connection type over SQLite and PostgreSQL, the pool,
//! migrations, and a helper that runs blocking diesel work off the actix
//! executor.
//!
//! The backend is chosen at run time from `database.url`: `postgres://…` or
//! `postgresql://…` is PostgreSQL; `sqlite://PATH`, `sqlite:PATH` or a plain
//! path is a SQLite file. Queries are written once against [`DbConn`]
//! (diesel's `MultiConnection`), using only SQL types both backends share.

pub mod audit;
pub mod campaign;
pub mod catchment;
pub mod draw;
pub mod models;
pub mod notify;
pub mod offers;
pub mod policy;
pub mod ratelimit;
pub mod registration;
pub mod review;
pub mod schema;
pub mod staff;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::path::PathBuf;
use std::time::Duration;

/// The migrations, one tree for both backends: every migration is written in
/// SQL both SQLite and PostgreSQL accept, with the same meaning (see
/// docs/data-model.md).
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// What each backend runs; today both are [`MIGRATIONS`]. A migration that
/// needs backend-specific SQL would split the tree again (`migrations/sqlite`
/// and `migrations/postgres`, with identical version names) and change only
/// these two lines, to one `embed_migrations!` each.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = MIGRATIONS;
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = MIGRATIONS;

/// Key of the PostgreSQL advisory lock held while migrating, so that several
/// instances starting together migrate once. ("ruxue" in ASCII.)
const MIGRATION_LOCK_KEY: i64 = 0x72_75_78_75_65;

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

impl DbConn {
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Postgres(_) => Backend::Postgres,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DbUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("must not be empty".into());
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(url.to_string()));
        }
        if let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if rest.is_empty() {
                return Err("sqlite URL has no path".into());
            }
            return Ok(DbUrl::Sqlite(PathBuf::from(rest)));
        }
        if url.contains("://") {
            return Err(format!(
                "unsupported scheme in {:?}: use sqlite://PATH, a plain path, or postgres://",
                url.split("://").next().unwrap_or("")
            ));
        }
        Ok(DbUrl::Sqlite(PathBuf::from(url)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbUrl::Sqlite(_) => Backend::Sqlite,
            DbUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// A description safe for logs: no password.
    pub fn redacted(&self) -> String {
        match self {
            DbUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DbUrl::Postgres(u) => match (u.find("://"), u.rfind('@')) {
                (Some(s), Some(at)) if at > s => format!("{}://***@{}", &u[..s], &u[at + 1..]),
                _ => u.clone(),
            },
        }
    }
}

/// r2d2 manager that opens the backend the URL names and applies the
/// connection settings each backend needs.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DbUrl,
    busy_timeout_ms: u32,
}

impl Manager {
    pub fn new(url: DbUrl, busy_timeout_ms: u32) -> Self {
        Self { url, busy_timeout_ms }
    }

    pub fn connect_now(&self) -> Result<DbConn, diesel::ConnectionError> {
        match &self.url {
            DbUrl::Postgres(u) => Ok(DbConn::Postgres(PgConnection::establish(&with_connect_timeout(u))?)),
            DbUrl::Sqlite(path) => {
                if let Some(parent) = path.parent() {
                    if !parent.as_os_str().is_empty() {
                        std::fs::create_dir_all(parent)
                            .map_err(|e| diesel::ConnectionError::BadConnection(format!("cannot create {}: {e}", parent.display())))?;
                    }
                }
                let mut c = SqliteConnection::establish(&path.to_string_lossy())?;
                // WAL for concurrent readers; FULL sync so an acknowledged write
                // survives power loss; foreign keys are off by default in SQLite.
                c.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                    self.busy_timeout_ms
                ))
                .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
                Ok(DbConn::Sqlite(c))
            }
        }
    }
}

/// A server that accepts TCP but never answers would hold libpq's connect
/// forever: unless the URL sets its own, `connect_timeout` is 2 seconds
/// (libpq's smallest).
fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}connect_timeout=2")
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        self.connect_now().map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    /// Called when a connection goes back to the pool. A connection still
    /// inside a transaction (its user forgot to end it, or unwound through it
    /// in a panic) or whose transaction manager is in its error state (a
    /// failed ROLLBACK) is dropped rather than handed to the next caller:
    /// such a connection still passes `is_valid`, but the next caller's
    /// "transaction" would be a savepoint inside the stale one, or be refused.
    /// The same rule as diesel's own `r2d2::ConnectionManager`.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// The pool plus what handlers need to know about it.
#[derive(Clone)]
pub struct Db {
    pub pool: Pool,
    pub backend: Backend,
    /// How long a request waits for a connection before it is answered 503
    /// (`database.acquire_timeout_ms`).
    acquire_timeout: Duration,
    /// SQLite allows one writer; taking this lock before a write transaction
    /// avoids the deferred-transaction upgrade deadlock (SQLITE_BUSY) between
    /// two writers of this process. PostgreSQL does not use it.
    write_lock: std::sync::Arc<std::sync::Mutex<()>>,
}

#[derive(Debug, thiserror::Error)]
pub enum DbInitError {
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    #[error("migration failed: {0}")]
    Migrate(String),
}

impl Db {
    /// Opens the pool, checking one connection at once so that an unreachable
    /// database is reported at start-up rather than at the first request.
    pub fn connect(url: &str, pool_size: u32, busy_timeout_ms: u32) -> Result<Self, DbInitError> {
        Self::connect_with(url, pool_size, busy_timeout_ms, &PoolOptions::default())
    }

    /// [`Db::connect`] with the `database.*` pool options.
    pub fn connect_with(url: &str, pool_size: u32, busy_timeout_ms: u32, opts: &PoolOptions) -> Result<Self, DbInitError> {
        let url = &with_sslmode(url, &opts.sslmode);
        let parsed = DbUrl::parse(url).map_err(|m| DbInitError::Connect { url: url.to_string(), message: m })?;
        let manager = Manager::new(parsed.clone(), busy_timeout_ms);
        // Fail fast with the real error rather than r2d2's time-out.
        manager.connect_now().map_err(|e| DbInitError::Connect { url: parsed.redacted(), message: e.to_string() })?;
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .connection_timeout(Duration::from_secs(10))
            .test_on_check_out(opts.check_on_checkout)
            .build(manager)
            .map_err(|e| DbInitError::Connect { url: parsed.redacted(), message: e.to_string() })?;
        Ok(Self { pool, backend: parsed.backend(), acquire_timeout: Duration::from_secs(10), write_lock: Default::default() })
    }

    /// The bounded wait for a connection (`database.acquire_timeout_ms`).
    pub fn with_acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// A connection within `timeout`, else `Unavailable` (a readiness probe
    /// waits less than a request).
    pub fn get_within(&self, timeout: Duration) -> Result<PooledConn, crate::error::AppError> {
        self.pool.get_timeout(timeout.max(Duration::from_millis(1))).map_err(|e| {
            tracing::warn!(error = %e, "database unreachable within the probe's time");
            crate::error::AppError::Unavailable
        })
    }

    pub fn get(&self) -> Result<PooledConn, crate::error::AppError> {
        self.pool.get_timeout(self.acquire_timeout).map_err(|e| {
            tracing::error!(error = %e, "database pool exhausted or unreachable");
            crate::error::AppError::Unavailable
        })
    }

    /// Applies pending migrations; returns how many ran.
    pub fn migrate(&self) -> Result<usize, DbInitError> {
        let mut conn = self.pool.get().map_err(|e| DbInitError::Migrate(e.to_string()))?;
        run_migrations(&mut conn)
    }

    /// Runs a write transaction on the blocking pool: all of `f` commits or
    /// none of it does.
    pub async fn write<T, F>(&self, f: F) -> Result<T, crate::error::AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, crate::error::AppError> + Send + 'static,
        T: Send + 'static,
    {
        let lock = self.write_lock.clone();
        let sqlite = self.backend == Backend::Sqlite;
        self.run(move |conn| {
            let _guard = if sqlite { Some(lock.lock().unwrap_or_else(|p| p.into_inner())) } else { None };
            conn.transaction(f)
        })
        .await
    }

    /// Synchronous form of [`Db::write`] for command-line tools.
    pub fn write_blocking<T, F>(&self, f: F) -> Result<T, crate::error::AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, crate::error::AppError>,
    {
        let _guard = if self.backend == Backend::Sqlite { Some(self.write_lock.lock().unwrap_or_else(|p| p.into_inner())) } else { None };
        let mut conn = self.get()?;
        let conn: &mut DbConn = &mut conn;
        conn.transaction(f)
    }

    /// Runs blocking diesel work on actix's blocking pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, crate::error::AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, crate::error::AppError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        actix_web::web::block(move || {
            let mut conn = db.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| crate::error::AppError::Internal(format!("blocking task failed: {e}")))?
    }
}

/// Pool options from `database.*` (see config/default.toml).
#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub check_on_checkout: bool,
    pub sslmode: String,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self { check_on_checkout: true, sslmode: String::new() }
    }
}

/// A PostgreSQL URL with `sslmode=MODE` added when it names none.
pub fn with_sslmode(url: &str, mode: &str) -> String {
    let pg = url.starts_with("postgres://") || url.starts_with("postgresql://");
    if !pg || mode.is_empty() || url.contains("sslmode=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}sslmode={mode}")
}

pub fn run_migrations(conn: &mut DbConn) -> Result<usize, DbInitError> {
    let err = |e: Box<dyn std::error::Error + Send + Sync>| DbInitError::Migrate(e.to_string());
    match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()).map_err(err),
        DbConn::Postgres(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")).map_err(|e| DbInitError::Migrate(e.to_string()))?;
            let out = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()).map_err(err).and_then(|n| {
                // Not a migration: SQLite has no sequences (see db/audit.rs).
                c.batch_execute(&format!(
                    "CREATE SEQUENCE IF NOT EXISTS {} START WITH {p} MINVALUE {p}",
                    audit::PENDING_SEQUENCE,
                    p = audit::PENDING_BASE
                ))
                .map_err(|e| DbInitError::Migrate(e.to_string()))?;
                Ok(n)
            });
            let unlock = c
                .batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .map_err(|e| DbInitError::Migrate(e.to_string()));
            let n = out?;
            unlock?;
            Ok(n)
        }
    }
}

/// Readiness: the database answers, and every migration is applied (`Ok(false)` when some are pending).
pub fn ready(conn: &mut DbConn) -> Result<bool, crate::error::AppError> {
    conn.batch_execute("SELECT 1").map_err(|_| crate::error::AppError::Unavailable)?;
    migrations_current(conn).map_err(crate::error::AppError::Internal)
}

/// True when every embedded migration has been applied.
pub fn migrations_current(conn: &mut DbConn) -> Result<bool, String> {
    let pending = match conn {
        DbConn::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        DbConn::Postgres(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
    };
    pending.map(|p| !p).map_err(|e| e.to_string())
}

/// Current time, UTC, truncated to microseconds so both backends store it exactly.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::Timelike;
    let t = chrono::Utc::now().naive_utc();
    t.with_nanosecond(t.nanosecond() / 1000 * 1000).unwrap_or(t)
}

/// Timestamps are stored in UTC; people read and type China Standard Time
/// (UTC+8, no daylight saving). These two convert at the edges.
pub const BEIJING_OFFSET_HOURS: i64 = 8;

/// UTC → Beijing time, for display.
pub fn beijing(t: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    t + chrono::Duration::hours(BEIJING_OFFSET_HOURS)
}

/// Beijing time as typed by a person → UTC, for storage.
pub fn from_beijing(t: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    t - chrono::Duration::hours(BEIJING_OFFSET_HOURS)
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Next value of a named counter, inside the caller's transaction. The
/// increment happens in the database (`value = value + 1`), which takes the
/// row lock on PostgreSQL, so concurrent callers never get the same value.
pub fn next_counter(conn: &mut DbConn, name: &str) -> Result<i64, diesel::result::Error> {
    use diesel::prelude::*;
    use schema::counters::dsl as c;
    let n = diesel::update(c::counters.filter(c::name.eq(name))).set(c::value.eq(c::value + 1i64)).execute(conn)?;
    if n == 0 {
        diesel::insert_into(c::counters).values((c::name.eq(name), c::value.eq(1i64))).execute(conn)?;
        return Ok(1);
    }
    c::counters.filter(c::name.eq(name)).select(c::value).first(conn)
}

/// Name of the counter bumped by every change to a campaign's context
/// (campaign row, policy, catchment rules, plans, zones): see
/// `service::CampaignCache`.
pub const CAMPAIGN_CTX_VERSION: &str = "campaign_ctx_version";

/// The current campaign-context version (0 before the first change).
pub fn campaign_ctx_version(conn: &mut DbConn) -> Result<i64, diesel::result::Error> {
    use diesel::prelude::*;
    use schema::counters::dsl as c;
    Ok(c::counters.filter(c::name.eq(CAMPAIGN_CTX_VERSION)).select(c::value).first(conn).optional()?.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_timeout_is_added_once() {
        assert_eq!(with_connect_timeout("postgres://h/db"), "postgres://h/db?connect_timeout=2");
        assert_eq!(with_connect_timeout("postgres://h/db?sslmode=disable"), "postgres://h/db?sslmode=disable&connect_timeout=2");
        assert_eq!(with_connect_timeout("postgres://h/db?connect_timeout=9"), "postgres://h/db?connect_timeout=9");
    }

    #[test]
    fn url_parsing() {
        assert_eq!(DbUrl::parse("sqlite://data/x.db").unwrap(), DbUrl::Sqlite("data/x.db".into()));
        assert_eq!(DbUrl::parse("data/x.db").unwrap(), DbUrl::Sqlite("data/x.db".into()));
        assert_eq!(DbUrl::parse("sqlite:///tmp/x.db").unwrap(), DbUrl::Sqlite("/tmp/x.db".into()));
        assert!(matches!(DbUrl::parse("postgres://u:p@h/db").unwrap(), DbUrl::Postgres(_)));
        assert!(DbUrl::parse("mysql://h/db").is_err());
        assert!(DbUrl::parse("").is_err());
        assert_eq!(DbUrl::parse("postgres://u:secret@h:5432/db").unwrap().redacted(), "postgres://***@h:5432/db");
        assert_eq!(with_sslmode("postgres://h/db", "disable"), "postgres://h/db?sslmode=disable");
        assert_eq!(with_sslmode("postgres://h/db?x=1", "disable"), "postgres://h/db?x=1&sslmode=disable");
        assert_eq!(with_sslmode("postgres://h/db?sslmode=require", "disable"), "postgres://h/db?sslmode=require");
        assert_eq!(with_sslmode("sqlite://x.db", "disable"), "sqlite://x.db");
        assert_eq!(with_sslmode("postgres://h/db", ""), "postgres://h/db");
    }
}
