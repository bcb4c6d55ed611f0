//! `ruxue serve [--demo]`: the HTTP service (and, in it, the background work).

use super::{CliError, CliResult};
use crate::config::{ConfigError, Settings};

pub fn run(settings: Settings, demo: bool) -> CliResult {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Io(format!("cannot start the runtime: {e}")))?;
    let env = settings.environment;
    let (running, state) = crate::startup::build(settings, demo)?;
    let addr = state.settings.bind_address();
    tracing::info!(port = running.port, environment = env.as_str(), database = state.db.backend.name(), "ruxue listening");
    eprintln!(
        "ruxue: serving on http://{}:{} ({} database, {} environment)",
        addr.rsplit_once(':').map(|(h, _)| h).unwrap_or("127.0.0.1"),
        running.port,
        state.db.backend.name(),
        env.as_str()
    );
    match rt.block_on(running.server) {
        Ok(()) => Ok(0),
        Err(e) => Err(ConfigError::new("server", e.to_string()).into()),
    }
}
