//! Public catchment lookup, no login: "输入地址，查询对口学校".
//! `GET /api/v1/catchment/lookup?address=…&grade=1|7` (or `campaign=ID`) and
//! the mobile page `GET /lookup`. Rate-limited per client address.

use crate::error::AppError;
use crate::service::lookup::{self, LookupQuery};
use crate::web::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

pub fn routes(cfg: &mut web::ServiceConfig) {
    // `GET /api/v1/catchment/lookup` is registered by `super::api_table`.
    cfg.route("/lookup", web::get().to(lookup_page));
}

/// 按地址查询对口学校（无需登录，按来源地址限流）。
#[utoipa::path(get, path = "/api/v1/catchment/lookup", tag = "public", security(()), params(LookupQuery),
    responses((status = 200, description = "对口学校或片区，以及依据的划片规则", body = crate::service::lookup::LookupResult),
        (status = 422, description = "地址为空、过长或无法识别（error.field = address）", body = crate::error::ErrorBody)))]
pub async fn lookup_api(state: web::Data<AppState>, req: HttpRequest, q: web::Query<LookupQuery>) -> Result<HttpResponse, AppError> {
    state.check_public_rate(&req)?;
    Ok(HttpResponse::Ok().json(lookup::lookup(&state.ctx, q.into_inner()).await?))
}

async fn lookup_page(state: web::Data<AppState>, req: HttpRequest, q: web::Query<LookupQuery>) -> Result<HttpResponse, AppError> {
    state.check_public_rate(&req)?;
    let q = q.into_inner();
    let address = q.address.clone().unwrap_or_default();
    let page = lookup::lookup_page(&state.ctx, q).await?;
    let (result, error) = match page.result {
        Some(Ok(r)) => (Some(r), None),
        Some(Err(e @ AppError::Invalid { .. })) => (None, Some(e.public_message())),
        Some(Err(e)) => return Err(e),
        None => (None, None),
    };
    let ctx = minijinja::context! {
        bureau => state.settings.bureau.name.clone(),
        campaigns => page.campaigns,
        grade => page.grade,
        address => address,
        result => result,
        error => error,
    };
    crate::web::templates::render(&state.templates, "lookup.html", ctx)
}
