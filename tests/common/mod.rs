//! Test harness: the real server on a loopback port over a real database.
//!
//! Every test that touches the database runs once per backend in
//! `backends()`: SQLite in a fresh temporary file, and PostgreSQL in a fresh
//! database created for the test (and dropped afterwards) on the server named
//! by `RUXUE_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//! `RUXUE_TEST_BACKENDS=sqlite` narrows the list for a quick local run; CI
//! runs both.
#![allow(dead_code)]

pub mod browser;

use diesel::connection::SimpleConnection;
use diesel::Connection;
use ruxue::config::{Environment, Settings, Source};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn backends() -> Vec<Backend> {
    let list = std::env::var("RUXUE_TEST_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    list.split(',')
        .filter_map(|b| match b.trim() {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "pg" => Some(Backend::Postgres),
            _ => None,
        })
        .collect()
}

pub fn pg_base_url() -> String {
    std::env::var("RUXUE_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A database of its own for one test.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    pub fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("ruxue.sqlite3").display());
                TestDb { url, pg_name: None, _dir: dir }
            }
            Backend::Postgres => {
                let base = pg_base_url();
                let name = format!("ruxue_t_{}", uuid::Uuid::new_v4().simple());
                let mut c = diesel::PgConnection::establish(&base)
                    .unwrap_or_else(|e| panic!("PostgreSQL at {base} is required for the tests: {e}"));
                c.batch_execute(&format!("CREATE DATABASE {name}")).expect("create test database");
                let (prefix, _) = base.rsplit_once('/').expect("database url has a path");
                TestDb { url: format!("{prefix}/{name}"), pg_name: Some(name), _dir: dir }
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
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, false, &[]).await
}

pub async fn spawn_app_with(backend: Backend, demo: bool, extra: &[(&str, &str)]) -> TestApp {
    let db = TestDb::new(backend);
    let settings = settings_for(&db, extra);
    let (running, state) = tokio::task::spawn_blocking(move || ruxue::startup::build(settings, demo))
        .await
        .expect("join")
        .expect("server builds");
    let port = running.port;
    tokio::spawn(running.server);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("client");
    TestApp { address: format!("http://127.0.0.1:{port}"), port, client, state, backend, db }
}

/// Path of the built `ruxue` binary (cargo builds it for integration tests).
pub fn ruxue_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ruxue"))
}
