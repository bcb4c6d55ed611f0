//! `GET /healthz`: the process is up. `GET /readyz`: the database answers and
//! every migration is applied (a load balancer should route here).

use super::AppState;
use actix_web::{web, HttpResponse};
use serde_json::json;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz)).route("/readyz", web::get().to(readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let backend = state.db.backend.name();
    // A probe of its own, bounded by `database.ready_timeout_ms` (a request
    // waits `acquire_timeout_ms`): a load balancer asks often and must hear
    // "not ready" at once when the database is gone.
    let db = state.db.clone();
    let wait = std::time::Duration::from_millis(state.settings.database.ready_timeout_ms);
    let check = actix_web::web::block(move || {
        let mut conn = db.get_within(wait)?;
        crate::db::ready(&mut conn)
    })
    .await
    .unwrap_or(Err(crate::error::AppError::Unavailable));
    match check {
        Ok(true) => HttpResponse::Ok().json(json!({"status": "ready", "database": backend})),
        Ok(false) => HttpResponse::ServiceUnavailable().json(json!({
            "status": "not_ready", "database": backend,
            "error": {"code": "migrations_pending", "message": "数据库尚未完成迁移", "field": null}
        })),
        Err(_) => HttpResponse::ServiceUnavailable().json(json!({
            "status": "not_ready", "database": backend,
            "error": {"code": "unavailable", "message": "数据库无法连接", "field": null}
        })),
    }
}
