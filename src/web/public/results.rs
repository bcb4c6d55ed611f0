//! Public results, no login (issue #12): 录取查询 by registration number and
//! the last six characters of the child's ID number (rate-limited per
//! address, masked name and outcome only), each school's page of waitlist
//! movements. The record itself is at `/api/v1/draws/{id}/record`.

use crate::error::AppError;
use crate::service::offers;
use crate::web::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/results", web::get().to(page))
        .route("/results", web::post().to(page_post))
        .route("/results/{campaign}/schools/{school}", web::get().to(school_page));
}

/// 录取查询: the registration number and the last six characters of the child's ID number.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = ResultLookupInput)]
pub struct LookupInput {
    #[serde(default)]
    registration_no: String,
    #[serde(default)]
    id_tail: String,
}

async fn page(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let ctx = minijinja::context! { bureau => state.settings.bureau.name.clone(), registration_no => "" };
    crate::web::templates::render(&state.templates, "results.html", ctx)
}

async fn page_post(state: web::Data<AppState>, req: HttpRequest, form: web::Form<LookupInput>) -> Result<HttpResponse, AppError> {
    state.check_results_rate(&req)?;
    let f = form.into_inner();
    let no = f.registration_no.clone();
    let (answer, error) = match offers::public_lookup(&state.ctx, f.registration_no, f.id_tail).await {
        Ok(a) => (Some(a), None),
        Err(e @ AppError::Invalid { .. }) => (None, Some(e.public_message())),
        Err(e) => return Err(e),
    };
    let ctx = minijinja::context! { bureau => state.settings.bureau.name.clone(), registration_no => no, answer => answer, error => error };
    let mut r = crate::web::templates::render(&state.templates, "results.html", ctx)?;
    r.headers_mut().insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-store"));
    Ok(r)
}

#[utoipa::path(post, path = "/api/v1/results/lookup", operation_id = "results_lookup", tag = "public", security(()), request_body = LookupInput, responses((status = 200, description = "录取查询：打码姓名与结果", body = offers::LookupAnswer), (status = 422, description = "报名号或身份证号码后六位有误，或两者不匹配（code = no_match）", body = crate::error::ErrorBody)))]
pub async fn lookup_api(state: web::Data<AppState>, req: HttpRequest, body: web::Json<LookupInput>) -> Result<HttpResponse, AppError> {
    state.check_results_rate(&req)?;
    let b = body.into_inner();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(offers::public_lookup(&state.ctx, b.registration_no, b.id_tail).await?))
}

async fn school_page(state: web::Data<AppState>, req: HttpRequest, path: web::Path<(String, String)>) -> Result<HttpResponse, AppError> {
    state.check_public_rate(&req)?;
    let (c, s) = path.into_inner();
    let m = offers::school_moves(&state.ctx, c, s).await?;
    crate::web::templates::render(
        &state.templates,
        "results_school.html",
        minijinja::context! { bureau => state.settings.bureau.name.clone(), m => m },
    )
}

#[utoipa::path(get, path = "/api/v1/results/{cid}/schools/{id}/moves", operation_id = "results_school_moves", tag = "public", security(()), params(("cid" = String, Path, description = "招生批次"), ("id" = String, Path, description = "学校代码")), responses((status = 200, description = "该校候补递补记录", body = offers::SchoolMoves)))]
pub async fn school_api(state: web::Data<AppState>, req: HttpRequest, path: web::Path<(String, String)>) -> Result<HttpResponse, AppError> {
    state.check_public_rate(&req)?;
    let (c, s) = path.into_inner();
    Ok(HttpResponse::Ok().json(offers::school_moves(&state.ctx, c, s).await?))
}
