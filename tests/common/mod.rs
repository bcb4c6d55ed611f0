//! Test harness: the real server on a loopback port over a real database.
//!
//! Every test that touches the database is written once with
//! [`backend_test!`] and generated as one test per backend, named
//! `<test>::sqlite` and `<test>::postgres`, so a failure names its backend.
//! `RUXUE_TEST_BACKENDS` (default `sqlite,postgres`) narrows the list for a
//! quick local run (`RUXUE_TEST_BACKENDS=sqlite`); a test of a backend left
//! out prints `SKIPPED …` and passes. An empty list or an unknown name panics.
//! CI runs both.
//!
//! Databases: SQLite in a fresh temporary file, and PostgreSQL in a fresh
//! database created for the test (and dropped afterwards) on the server named
//! by `RUXUE_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//! [`TestDb::new`] starts from a copy of a template that has every migration
//! applied (a file under `target/tmp` for SQLite, `CREATE DATABASE … TEMPLATE
//! ruxue_tmpl_<hash>` for PostgreSQL); the template's name carries a hash of
//! the migrations, so a changed migration makes a new one. [`TestDb::empty`]
//! is an empty database, for tests of migrating itself.
#![allow(dead_code)]

pub mod addresses;
pub mod browser;
pub mod contract;
pub mod draws;
pub mod load;
pub mod parent;
pub mod parents;
pub mod published;
pub mod staff;

use diesel::connection::SimpleConnection;
use diesel::Connection;
use ruxue::config::{Environment, Settings, Source};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub const ALL: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

    /// The name used in `RUXUE_TEST_BACKENDS` and in test names.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

const BACKENDS_VAR: &str = "RUXUE_TEST_BACKENDS";

/// The backends to test on, from `RUXUE_TEST_BACKENDS`; panics on an empty
/// list or an unknown name rather than running nothing.
pub fn backends() -> Vec<Backend> {
    let value = std::env::var(BACKENDS_VAR).ok();
    parse_backends(value.as_deref()).unwrap_or_else(|e| panic!("{e}"))
}

/// `None` (unset) means both. Names are comma-separated, `pg` is `postgres`.
pub fn parse_backends(value: Option<&str>) -> Result<Vec<Backend>, String> {
    let Some(value) = value else {
        return Ok(Backend::ALL.to_vec());
    };
    let expected = "expected a comma-separated list of sqlite, postgres";
    if value.trim().is_empty() {
        return Err(format!("{BACKENDS_VAR}={value:?} is empty: {expected} (unset it for both)"));
    }
    let mut list = Vec::new();
    for name in value.split(',') {
        let backend = match name.trim().to_ascii_lowercase().as_str() {
            "sqlite" => Backend::Sqlite,
            "postgres" | "pg" => Backend::Postgres,
            _ => return Err(format!("{BACKENDS_VAR}={value:?}: unknown backend {:?}: {expected}", name.trim())),
        };
        if !list.contains(&backend) {
            list.push(backend);
        }
    }
    Ok(list)
}

/// Whether the generated test `test` runs on `backend`; when it does not,
/// says so on stderr (written directly, so the test harness shows it).
pub fn should_run(backend: Backend, test: &str) -> bool {
    if backends().contains(&backend) {
        return true;
    }
    let line =
        format!("SKIPPED {test}: {} is not in {BACKENDS_VAR}={:?}\n", backend.name(), std::env::var(BACKENDS_VAR).unwrap_or_default());
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
    false
}

/// One database test, generated once per backend:
///
/// ```ignore
/// backend_test! {
///     #[tokio::test]
///     async fn health(backend) {
///         let app = spawn_app(backend).await;
///         …
///     }
/// }
/// ```
///
/// makes `async fn health(backend: Backend)` and the tests `health::sqlite`
/// and `health::postgres`, each carrying the attributes written above the
/// function (`#[tokio::test]`, `#[tokio::test(flavor = …)]`, `#[test]` for a
/// plain `fn`, doc comments, `#[ignore]`). Several functions may follow each
/// other in one invocation.
#[allow(unused_macros)] // not every test file has database tests
macro_rules! backend_test {
    () => {};
    ($(#[$attr:meta])* async fn $name:ident($backend:ident) $body:block $($rest:tt)*) => {
        async fn $name($backend: $crate::common::Backend) $body

        mod $name {
            $(#[$attr])*
            async fn sqlite() {
                if $crate::common::should_run($crate::common::Backend::Sqlite, concat!(module_path!(), "::sqlite")) {
                    super::$name($crate::common::Backend::Sqlite).await;
                }
            }

            $(#[$attr])*
            async fn postgres() {
                if $crate::common::should_run($crate::common::Backend::Postgres, concat!(module_path!(), "::postgres")) {
                    super::$name($crate::common::Backend::Postgres).await;
                }
            }
        }

        $crate::common::backend_test! { $($rest)* }
    };
    ($(#[$attr:meta])* fn $name:ident($backend:ident) $body:block $($rest:tt)*) => {
        fn $name($backend: $crate::common::Backend) $body

        mod $name {
            $(#[$attr])*
            fn sqlite() {
                if $crate::common::should_run($crate::common::Backend::Sqlite, concat!(module_path!(), "::sqlite")) {
                    super::$name($crate::common::Backend::Sqlite);
                }
            }

            $(#[$attr])*
            fn postgres() {
                if $crate::common::should_run($crate::common::Backend::Postgres, concat!(module_path!(), "::postgres")) {
                    super::$name($crate::common::Backend::Postgres);
                }
            }
        }

        $crate::common::backend_test! { $($rest)* }
    };
}
#[allow(unused_imports)]
pub(crate) use backend_test;

pub fn pg_base_url() -> String {
    std::env::var("RUXUE_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// The URL of database `name` on the server of [`pg_base_url`].
///
/// Without TLS unless the base URL says otherwise: the server is on loopback,
/// and libpq's default (`prefer`) left OpenSSL sessions open in the pools'
/// threads when a test binary exited, whose teardown then crashed now and then
/// ("double free or corruption") after every test had passed.
fn pg_url(name: &str) -> String {
    let base = with_sslmode(&pg_base_url());
    let (path, query) = base.split_once('?').unwrap_or((&base, ""));
    let (prefix, _) = path.rsplit_once('/').expect("database url has a path");
    format!("{prefix}/{name}?{query}")
}

fn with_sslmode(url: &str) -> String {
    if url.contains("sslmode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&sslmode=disable")
    } else {
        format!("{url}?sslmode=disable")
    }
}

/// A connection to the base database, for creating and dropping others.
fn pg_admin() -> diesel::PgConnection {
    let base = with_sslmode(&pg_base_url());
    diesel::PgConnection::establish(&base).unwrap_or_else(|e| panic!("PostgreSQL at {base} is required for the tests: {e}"))
}

/// The migration tree of this checkout that `ruxue::db` embeds for
/// `backend` (today one tree, `migrations/`, serves both).
pub fn migrations_dir(_backend: Backend) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations")
}

/// Bumped when the way templates are made changes, so old ones are not reused.
const TEMPLATE_FORMAT: &str = "ruxue-test-template-1";

/// SHA-256 (hex) of every file under `dir`: relative paths and contents, in
/// path order. A changed, added, removed or renamed migration changes it.
pub fn migrations_digest(dir: &Path) -> String {
    use sha2::Digest;
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under the root").to_string_lossy().replace('\\', "/");
                out.push((rel, path));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files.sort();
    let mut hash = sha2::Sha256::new();
    hash.update(TEMPLATE_FORMAT.as_bytes());
    for (rel, path) in files {
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        for part in [rel.as_bytes(), &data] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
    }
    hex::encode(hash.finalize())
}

/// Names of the migrations compiled into `ruxue` for `backend`.
pub fn embedded_migrations(backend: Backend) -> Vec<String> {
    use diesel::migration::MigrationSource;
    let names: Vec<String> = match backend {
        Backend::Sqlite => MigrationSource::<diesel::sqlite::Sqlite>::migrations(&ruxue::db::SQLITE_MIGRATIONS)
            .expect("embedded SQLite migrations")
            .iter()
            .map(|m| m.name().to_string())
            .collect(),
        Backend::Postgres => MigrationSource::<diesel::pg::Pg>::migrations(&ruxue::db::POSTGRES_MIGRATIONS)
            .expect("embedded PostgreSQL migrations")
            .iter()
            .map(|m| m.name().to_string())
            .collect(),
    };
    let mut names = names;
    names.sort();
    names
}

/// The template name for `backend`: a hash of its migrations. Checks first
/// that the tree's migrations are the ones compiled in, since the hash is
/// taken over the files (the embedded texts are not public).
fn template_digest(backend: Backend) -> String {
    let dir = migrations_dir(backend);
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().expect("a name").to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    assert_eq!(
        embedded_migrations(backend),
        on_disk,
        "the {} migrations compiled into ruxue differ from {}: rebuild",
        backend.name(),
        dir.display()
    );
    migrations_digest(&dir)[..16].to_string()
}

/// A migrated SQLite file to copy, made once per digest under `target/tmp`.
fn sqlite_template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let path = dir.join(format!("ruxue_tmpl_sqlite_{}.sqlite3", template_digest(Backend::Sqlite)));
        if path.exists() {
            return path;
        }
        std::fs::create_dir_all(dir).expect("target/tmp");
        // Built under a name of its own, then renamed: a template that exists is complete.
        let wip = dir.join(format!("{}.{}.wip", path.file_name().unwrap().to_string_lossy(), uuid::Uuid::new_v4().simple()));
        let db = ruxue::db::Db::connect(&format!("sqlite://{}", wip.display()), 1, 5000).expect("create the SQLite template");
        db.migrate().expect("migrate the SQLite template");
        drop(db);
        // One file to copy: out of WAL mode, with the log folded in.
        let mut c = diesel::SqliteConnection::establish(&wip.to_string_lossy()).expect("reopen the SQLite template");
        c.batch_execute("PRAGMA journal_mode = DELETE").expect("leave WAL mode");
        drop(c);
        let wal = PathBuf::from(format!("{}-wal", wip.display()));
        assert!(!wal.exists(), "{} is still open", wip.display());
        std::fs::rename(&wip, &path).expect("install the SQLite template");
        path
    })
}

/// Key of the advisory lock held while a PostgreSQL template is made
/// (test binaries and threads start together). "ruxuet" in ASCII; the
/// server's own migration lock is another key.
const TEMPLATE_LOCK_KEY: i64 = 0x7275_7875_6574;

#[derive(diesel::QueryableByName)]
struct DatabaseName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    datname: String,
}

fn pg_databases_starting_with(c: &mut diesel::PgConnection, prefix: &str) -> Vec<String> {
    use diesel::RunQueryDsl;
    diesel::sql_query("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
        .bind::<diesel::sql_types::Text, _>(prefix)
        .load::<DatabaseName>(c)
        .expect("list databases")
        .into_iter()
        .map(|d| d.datname)
        .collect()
}

/// A migrated PostgreSQL database to clone, `ruxue_tmpl_<digest>`, made once
/// per digest on the server and kept for later runs. It accepts no
/// connections, so nothing can stop `CREATE DATABASE … TEMPLATE` from copying it.
fn pg_template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("ruxue_tmpl_{}", template_digest(Backend::Postgres));
        let mut c = pg_admin();
        // Released when `c` closes, also if this panics.
        c.batch_execute(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK_KEY})")).expect("template lock");
        if pg_databases_starting_with(&mut c, &name).contains(&name) {
            return name;
        }
        let wip_prefix = format!("{name}_wip_");
        for stale in pg_databases_starting_with(&mut c, &wip_prefix) {
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {stale} WITH (FORCE)")).expect("drop a half-made template");
        }
        let wip = format!("{wip_prefix}{}", uuid::Uuid::new_v4().simple());
        c.batch_execute(&format!("CREATE DATABASE {wip}")).expect("create the PostgreSQL template");
        let db = ruxue::db::Db::connect(&pg_url(&wip), 1, 5000).expect("connect to the PostgreSQL template");
        db.migrate().expect("migrate the PostgreSQL template");
        drop(db);
        c.batch_execute(&format!("ALTER DATABASE {wip} WITH ALLOW_CONNECTIONS false")).expect("close the template");
        // The migrating session may take a moment to end on the server.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            match c.batch_execute(&format!("ALTER DATABASE {wip} RENAME TO {name}")) {
                Ok(()) => break,
                Err(e) if std::time::Instant::now() < deadline && e.to_string().contains("other users") => {
                    std::thread::sleep(std::time::Duration::from_millis(50))
                }
                Err(e) => panic!("install the PostgreSQL template {name}: {e}"),
            }
        }
        c.batch_execute(&format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK_KEY})")).expect("template unlock");
        name
    })
}

/// A database of its own for one test.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    /// A database with every migration applied (a copy of the template).
    pub fn new(backend: Backend) -> TestDb {
        Self::create(backend, true)
    }

    /// An empty database: nothing applied, for tests of migrating itself.
    pub fn empty(backend: Backend) -> TestDb {
        Self::create(backend, false)
    }

    fn create(backend: Backend, migrated: bool) -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        match backend {
            Backend::Sqlite => {
                let file = dir.path().join("ruxue.sqlite3");
                if migrated {
                    std::fs::copy(sqlite_template(), &file).expect("copy the SQLite template");
                }
                let url = format!("sqlite://{}", file.display());
                TestDb { url, pg_name: None, _dir: dir }
            }
            Backend::Postgres => {
                let template = if migrated { Some(pg_template()) } else { None };
                let name = format!("ruxue_t_{}", uuid::Uuid::new_v4().simple());
                let mut c = pg_admin();
                let sql = match template {
                    Some(t) => format!("CREATE DATABASE {name} TEMPLATE {t}"),
                    None => format!("CREATE DATABASE {name}"),
                };
                c.batch_execute(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                TestDb { url: pg_url(&name), pg_name: Some(name), _dir: dir }
            }
        }
    }

    pub fn dir(&self) -> &Path {
        self._dir.path()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            if let Ok(mut c) = diesel::PgConnection::establish(&pg_base_url()) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

pub fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config")
}

/// Test settings over `db`, with extra `RUXUE__…` overrides.
pub fn settings_for(db: &TestDb, extra: &[(&str, &str)]) -> Settings {
    let mut env = vec![
        ("RUXUE__DATABASE__URL".to_string(), db.url.clone()),
        ("RUXUE__SERVER__PORT".to_string(), "0".to_string()),
        ("RUXUE__SERVER__WORKERS".to_string(), "1".to_string()),
        ("RUXUE__DATABASE__POOL_SIZE".to_string(), "4".to_string()),
        ("RUXUE__UPLOADS__DIR".to_string(), db.dir().join("uploads").display().to_string()),
        ("RUXUE__MAIL__FILE_DIR".to_string(), db.dir().join("mail").display().to_string()),
    ];
    for (k, v) in extra {
        env.push((k.to_string(), v.to_string()));
    }
    Settings::load_from(&Source { dir: config_dir(), environment: Environment::Test, env }).expect("test settings")
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub state: ruxue::web::AppState,
    pub backend: Backend,
    pub db: TestDb,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Starts a second instance of the service over this app's database,
    /// with the test settings and `extra`, and returns its port.
    pub async fn another_instance(&self, extra: &[(&str, &str)]) -> u16 {
        let settings = settings_for(&self.db, extra);
        let (running, _) = tokio::task::spawn_blocking(move || ruxue::startup::build(settings, false))
            .await
            .expect("join")
            .expect("second instance builds");
        let port = running.port;
        tokio::spawn(running.server);
        port
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, false, &[]).await
}

pub async fn spawn_app_with(backend: Backend, demo: bool, extra: &[(&str, &str)]) -> TestApp {
    let db = TestDb::new(backend);
    let settings = settings_for(&db, extra);
    let (running, state) =
        tokio::task::spawn_blocking(move || ruxue::startup::build(settings, demo)).await.expect("join").expect("server builds");
    let port = running.port;
    tokio::spawn(running.server);
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().expect("client");
    TestApp { address: format!("http://127.0.0.1:{port}"), port, client, state, backend, db }
}

/// Path of the built `ruxue` binary (cargo builds it for integration tests).
pub fn ruxue_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ruxue"))
}
