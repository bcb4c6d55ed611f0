//! Building the service from configuration: the same path for `ruxue serve`
//! and for the tests, which bind port 0 and talk to the real server.

use crate::config::{ConfigError, Settings};
use crate::db::Db;
use crate::web::{self, AppState, Running};

/// Opens the database named in the settings and applies pending migrations.
pub fn open_database(settings: &Settings) -> Result<Db, ConfigError> {
    let db = Db::connect(&settings.database.url, settings.database.pool_size, settings.database.busy_timeout_ms)
        .map_err(|e| ConfigError::new("database.url", e.to_string()))?;
    db.migrate().map_err(|e| ConfigError::new("database.url", e.to_string()))?;
    Ok(db)
}

/// Database ready, demo loaded if asked for, server bound (not yet awaited).
pub fn build(settings: Settings, demo: bool) -> Result<(Running, AppState), ConfigError> {
    let db = open_database(&settings)?;
    if demo {
        let loaded = crate::demo::load_if_empty(&db, &settings)
            .map_err(|e| ConfigError::new("database.url", format!("demo county could not be loaded: {e}")))?;
        if loaded {
            tracing::info!("demo county loaded");
        }
    }
    let state = AppState::new(settings, db);
    let running = web::build(state.clone())
        .map_err(|e| ConfigError::new("server.port", format!("cannot bind {}: {e}", state.settings.bind_address())))?;
    Ok((running, state))
}
