//! `ruxue demo`: load the demo county into an empty database.

use super::CliResult;
use crate::config::Settings;
use crate::startup::StartupError;

pub fn run(settings: Settings, after_draw: bool) -> CliResult {
    let db = super::util::open(&settings)?;
    let loaded = crate::demo::load_if_empty(&db, &settings).map_err(StartupError::Demo)?;
    outln!("{}", if loaded { "demo county loaded" } else { "database not empty; nothing loaded" });
    if after_draw {
        let id = crate::demo::after_draw(&db, &settings).map_err(StartupError::Demo)?;
        outln!("draw {id} published: offers, waitlists, a declined offer and two placements (统筹)");
    }
    Ok(0)
}
