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
    let check = state.db.run(crate::db::ready).await;
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
