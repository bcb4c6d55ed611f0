//! `ruxue demo`: load the demo county into an empty database.

use super::CliResult;
use crate::config::Settings;
use crate::startup::StartupError;

pub fn run(settings: Settings) -> CliResult {
    let db = super::util::open(&settings)?;
    let loaded = crate::demo::load_if_empty(&db, &settings).map_err(StartupError::Demo)?;
    outln!("{}", if loaded { "demo county loaded" } else { "database not empty; nothing loaded" });
    Ok(0)
}
