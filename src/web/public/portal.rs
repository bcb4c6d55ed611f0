//! The bureau's public portal: `GET /` (no login, no JavaScript).

use crate::error::AppError;
use crate::web::AppState;
use actix_web::{web, HttpResponse};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home));
}

async fn home(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let h = crate::service::portal::home(&state.ctx).await?;
    let ctx = minijinja::context! { bureau => h.bureau.clone(), h => h };
    crate::web::templates::render(&state.templates, "portal_home.html", ctx)
}
