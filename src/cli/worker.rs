//! `ruxue worker [--once]`: the notification outbox worker on its own, for a
//! deployment that runs it apart from `ruxue serve` (set
//! `notify.worker_in_serve = false` there). Several may run on one
//! PostgreSQL; on SQLite run one.

use super::{CliError, CliResult};
use crate::config::Settings;
use crate::service::notify::Worker;
use crate::startup::StartupError;
use std::sync::Arc;

pub fn run(settings: Settings, once: bool) -> CliResult {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Io(format!("cannot start the runtime: {e}")))?;
    let db = crate::startup::open_database(&settings)?;
    let settings = Arc::new(settings);
    // The SMTP pool starts a task: inside the runtime.
    let _rt = rt.enter();
    let worker = Worker::new(db.clone(), settings.clone()).map_err(|m| StartupError::Demo(crate::error::AppError::Internal(m)))?;
    eprintln!("ruxue: outbox worker {} on the {} database", worker.owner, db.backend.name());
    rt.block_on(async move {
        if once {
            // Until nothing is due: what a cron job or a test wants.
            let mut all = crate::service::notify::Pass::default();
            loop {
                let pass = worker.run_once().await.map_err(|e| CliError::Io(e.to_string()))?;
                if pass.total() == 0 {
                    eprintln!(
                        "ruxue: outbox worker done: sent {}, to retry {}, failed {}, dead {}",
                        all.sent, all.retried, all.failed, all.dead
                    );
                    return Ok(0);
                }
                all.sent += pass.sent;
                all.retried += pass.retried;
                all.failed += pass.failed;
                all.dead += pass.dead;
            }
        }
        worker.run(shutdown_signal()).await;
        eprintln!("ruxue: outbox worker stopped");
        Ok(0)
    })
}

/// SIGTERM or Ctrl-C: finish the message in hand, then stop (the lease
/// covers the rest).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
