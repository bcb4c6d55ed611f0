//! The bureau's public portal: `GET /` (no login, no JavaScript).

use crate::error::AppError;
use crate::web::AppState;
use actix_web::{web, HttpResponse};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/campaigns/{id}/catchment", web::get().to(catchment))
        .route("/campaigns/{id}/notice", web::get().to(notice));
}

async fn home(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let h = crate::service::portal::home(&state.ctx).await?;
    let ctx = minijinja::context! { bureau => h.bureau.clone(), h => h };
    crate::web::templates::render(&state.templates, "portal_home.html", ctx)
}

/// `GET /campaigns/{id}/catchment`: 划片范围, generated from the rules.
async fn catchment(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let page = crate::service::portal::catchment(&state.ctx, path.into_inner()).await?;
    let ctx = minijinja::context! { bureau => page.bureau.clone(), p => page };
    crate::web::templates::render(&state.templates, "portal_catchment.html", ctx)
}

/// `GET /campaigns/{id}/notice`: 招生公告, generated from the frozen policy; printable.
async fn notice(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let n = crate::service::portal::notice(&state.ctx, path.into_inner()).await?;
    let b = &state.settings.bureau;
    let ctx = minijinja::context! { bureau => b.name.clone(), phone => b.phone.clone(), n => n };
    crate::web::templates::render(&state.templates, "portal_notice.html", ctx)
}
