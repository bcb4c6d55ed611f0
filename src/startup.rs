//! Building the service from configuration: the same path for `ruxue serve`
//! and for the tests, which bind port 0 and talk to the real server.

use crate::config::Settings;
use crate::db::{Db, DbInitError};
use crate::error::AppError;
use crate::web::{self, AppState, Running};

/// Why the service could not start. Each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the database named by `database.url`: {0}")]
    Database(#[from] DbInitError),
    #[error("the demo county could not be loaded into the database named by `database.url`: {0}")]
    Demo(AppError),
    #[error("cannot bind `server.host`/`server.port` {addr}: {message}")]
    Bind { addr: String, message: String },
}

/// Opens the database named in the settings and applies pending migrations.
pub fn open_database(settings: &Settings) -> Result<Db, StartupError> {
    let opts =
        crate::db::PoolOptions { check_on_checkout: settings.database.check_on_checkout, sslmode: settings.database.sslmode.clone() };
    let db = Db::connect_with(&settings.database.url, settings.database.pool_size, settings.database.busy_timeout_ms, &opts)?
        .with_acquire_timeout(std::time::Duration::from_millis(settings.database.acquire_timeout_ms));
    db.migrate()?;
    Ok(db)
}

/// Database ready, demo loaded if asked for, server bound (not yet awaited).
pub fn build(settings: Settings, demo: bool) -> Result<(Running, AppState), StartupError> {
    let db = open_database(&settings)?;
    if demo {
        let loaded = crate::demo::load_if_empty(&db, &settings).map_err(StartupError::Demo)?;
        if loaded {
            tracing::info!("demo county loaded");
        }
    }
    let state = AppState::new(settings, db);
    let running =
        web::build(state.clone()).map_err(|e| StartupError::Bind { addr: state.settings.bind_address(), message: e.to_string() })?;
    Ok((running, state))
}
