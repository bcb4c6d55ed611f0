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
    // Background work, every `admission.deadline_sweep_secs`: settle
    // supplement requests whose deadline passed, and expire offers not
    // confirmed in time (each seat moves to the next child waiting). Each
    // in its own transactions; safe to run on several instances. (Offer
    // reminders are swept by the outbox worker.)
    let db = state.db.clone();
    let sweep_settings = state.settings.clone();
    rt.spawn(async move {
        let every = std::time::Duration::from_secs(sweep_settings.admission.deadline_sweep_secs);
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let (db, settings) = (db.clone(), sweep_settings.clone());
            let swept = tokio::task::spawn_blocking(move || {
                let now = crate::db::now();
                let supplements = crate::service::review::expire_supplements_notifying(&db, Some(&settings), now);
                let offers = crate::service::offers::expire_due_blocking(&db, &settings, now);
                (supplements, offers)
            })
            .await;
            let Ok((supplements, offers)) = swept else { continue };
            match supplements {
                Ok(e) if e.rejected + e.returned > 0 => {
                    tracing::info!(rejected = e.rejected, returned = e.returned, "supplement requests past their deadline settled")
                }
                Err(e) => tracing::warn!(error = %e, "supplement deadline sweep failed; retrying at the next tick"),
                _ => {}
            }
            match offers {
                Ok(n) if n > 0 => tracing::info!(expired = n, "offers past their deadline expired; seats moved along the waitlists"),
                Err(e) => tracing::warn!(error = %e, "offer deadline sweep failed; retrying at the next tick"),
                _ => {}
            }
        }
    });
    // The notification outbox, unless `ruxue worker` runs apart.
    if state.settings.notify.worker_in_serve {
        let _rt = rt.enter();
        match crate::service::notify::Worker::new(state.db.clone(), state.settings.clone()) {
            Ok(worker) => {
                rt.spawn(async move { worker.run(std::future::pending()).await });
            }
            Err(e) => return Err(ConfigError::new("mail", e).into()),
        }
    }
    // The audit sealer (PostgreSQL): chains the committed pending entries;
    // with several instances the advisory lock lets one seal at a time.
    if state.db.backend == crate::db::Backend::Postgres {
        let db = state.db.clone();
        let every = std::time::Duration::from_millis(state.settings.database.audit_seal_interval_ms);
        rt.spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let db = db.clone();
                let sealed = tokio::task::spawn_blocking(move || {
                    let mut c = db.get()?;
                    crate::db::audit::seal(&mut c, false).map_err(crate::error::AppError::from)
                })
                .await;
                if let Ok(Err(e)) = sealed {
                    tracing::warn!(error = %e, "audit sealing failed; retrying at the next tick");
                }
            }
        });
    }
    match rt.block_on(running.server) {
        Ok(()) => Ok(0),
        Err(e) => Err(ConfigError::new("server", e.to_string()).into()),
    }
}
