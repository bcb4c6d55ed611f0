//! `ruxue migrate`: apply pending migrations and exit.

use super::CliResult;
use crate::config::Settings;
use crate::startup::StartupError;

pub fn run(settings: Settings) -> CliResult {
    let db = crate::db::Db::connect(&settings.database.url, 1, settings.database.busy_timeout_ms).map_err(StartupError::Database)?;
    let n = db.migrate().map_err(StartupError::Database)?;
    outln!("applied {n} migration(s) on {}", db.backend.name());
    Ok(0)
}
