//! After the draw (issue #12), staff side: administrative placement (统筹)
//! with its proposals and second approval, offers for schools that admit
//! everyone, and the inspectors' indicators (督导).

use super::identity::{check_csrf, encode_component, redirect};
use super::pages::{base_ctx, merge, render};
use super::{StaffIdentity, DRY_RUN};
use crate::error::{AppError, ErrorBody};
use crate::service::offers;
use crate::web::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

type Page = Result<HttpResponse, AppError>;

#[derive(Debug, Deserialize)]
pub struct CampaignQ {
    #[serde(default)]
    pub campaign: Option<String>,
    #[serde(default)]
    pub done: Option<String>,
}

fn campaign_of(q: &CampaignQ) -> String {
    q.campaign.clone().filter(|c| !c.trim().is_empty()).unwrap_or_else(|| "2027-G1".into())
}

/// `GET /staff/placements?campaign=ID`: children without a seat, schools
/// with free seats, proposals, and placements waiting for a second person.
pub async fn placements_page(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<CampaignQ>) -> Page {
    id.require(DRY_RUN)?;
    let campaign = campaign_of(&q);
    let v = offers::placement_view(&state.ctx, &id.who, campaign).await?;
    let can_place = id.who.is(super::PLACEMENT);
    let ctx = merge(base_ctx(&state, Some(&id), "placements"), json!({"v": v, "can_place": can_place, "me_id": id.who.id, "done": q.done}));
    render(&state, "staff_placements.html", ctx)
}

#[derive(Debug, Deserialize)]
pub struct PlaceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    campaign: String,
    #[serde(default)]
    application_id: String,
    #[serde(default)]
    school_id: String,
    #[serde(default)]
    reason: String,
}

pub async fn placement_form(state: web::Data<AppState>, req: HttpRequest, id: StaffIdentity, form: web::Form<PlaceForm>) -> Page {
    check_csrf(&req, &form.csrf)?;
    let f = form.into_inner();
    let r = offers::propose_placement(&state.ctx, &id.who, f.application_id, f.school_id, f.reason).await?;
    Ok(redirect(&format!("/staff/placements?campaign={}&done={}", encode_component(&f.campaign), encode_component(&r.status))))
}

#[derive(Debug, Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    campaign: String,
    #[serde(default)]
    approve: String,
}

pub async fn placement_decide_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: StaffIdentity,
    path: web::Path<String>,
    form: web::Form<DecideForm>,
) -> Page {
    check_csrf(&req, &form.csrf)?;
    let r = offers::decide_placement(&state.ctx, &id.who, path.into_inner(), form.approve == "yes").await?;
    Ok(redirect(&format!("/staff/placements?campaign={}&done={}", encode_component(&form.campaign), encode_component(&r.status))))
}

// ------------------------------------------------------------ API

#[utoipa::path(get, path = "/api/v1/staff/placements", tag = "staff", security(("staff_bearer" = [])), params(("campaign" = Option<String>, Query, description = "招生批次")), responses((status = 200, description = "待统筹安置的学生与建议学校", body = offers::PlacementView)))]
pub async fn placements_api(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<CampaignQ>) -> Page {
    id.require(DRY_RUN)?;
    Ok(HttpResponse::Ok().json(offers::placement_view(&state.ctx, &id.who, campaign_of(&q)).await?))
}

/// An administrative placement: the child, the school with free seats, and why.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PlaceBody {
    application_id: String,
    school_id: String,
    #[serde(default)]
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/staff/placements", tag = "staff", security(("staff_bearer" = [])), request_body = PlaceBody, responses((status = 201, description = "已提出统筹安置（四眼原则时待复核）", body = offers::PlacementOutcome), (status = 409, description = "超出学位或班额", body = ErrorBody)))]
pub async fn placement_api(state: web::Data<AppState>, id: StaffIdentity, body: web::Json<PlaceBody>) -> Page {
    let b = body.into_inner();
    let r = offers::propose_placement(&state.ctx, &id.who, b.application_id, b.school_id, b.reason).await?;
    Ok(HttpResponse::Created().json(r))
}

/// The second person's answer to a proposed placement.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DecideBody {
    approve: bool,
}

#[utoipa::path(post, path = "/api/v1/staff/placements/{id}/decide", tag = "staff", security(("staff_bearer" = [])), params(("id" = String, Path, description = "安置编号")), request_body = DecideBody, responses((status = 200, description = "复核结果", body = offers::PlacementOutcome), (status = 409, description = "已处理过，或提出人不能自己复核", body = ErrorBody)))]
pub async fn placement_decide_api(
    state: web::Data<AppState>,
    id: StaffIdentity,
    path: web::Path<String>,
    body: web::Json<DecideBody>,
) -> Page {
    Ok(HttpResponse::Ok().json(offers::decide_placement(&state.ctx, &id.who, path.into_inner(), body.approve).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AdmitAllBody {
    campaign: String,
}

/// `POST /api/v1/staff/offers/admit-all` `{"campaign"}`: offers for every
/// school whose approved applicants fit its seats.
#[utoipa::path(post, path = "/api/v1/staff/offers/admit-all", tag = "staff", security(("staff_bearer" = [])), request_body = AdmitAllBody, responses((status = 200, description = "无需派位学校的录取名额已发出", body = offers::AdmitAllOutcome), (status = 409, description = "审核尚未结束", body = ErrorBody)))]
pub async fn admit_all_api(state: web::Data<AppState>, id: StaffIdentity, body: web::Json<AdmitAllBody>) -> Page {
    Ok(HttpResponse::Ok().json(offers::offer_admit_all(&state.ctx, &id.who, body.into_inner().campaign).await?))
}

// ------------------------------------------------------------ notices, rosters, indicators

#[derive(Debug, Deserialize)]
pub struct DocQ {
    #[serde(default)]
    pub campaign: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
}

fn campaign_in(q: &DocQ) -> String {
    q.campaign.clone().filter(|c| !c.trim().is_empty()).unwrap_or_else(|| "2027-G1".into())
}

/// `GET /staff/notices/{application}` (and the API): one 录取通知书 (PDF).
#[utoipa::path(get, path = "/api/v1/staff/notices/{id}", tag = "staff", security(("staff_bearer" = [])), params(("id" = String, Path, description = "报名编号")), responses((status = 200, description = "录取通知书（PDF）", content_type = "application/pdf", body = crate::web::shapes::Binary)))]
pub async fn notice(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>) -> Page {
    Ok(super::attachment(crate::service::after_docs::notice_for(&state.ctx, &id.who, path.into_inner()).await?))
}

/// `GET /staff/notices/schools/{school}?campaign=ID`: a school's notices (PDF).
#[utoipa::path(get, path = "/api/v1/staff/notices/schools/{school}", tag = "staff", security(("staff_bearer" = [])), params(("school" = String, Path, description = "学校代码"), ("campaign" = Option<String>, Query, description = "招生批次")), responses((status = 200, description = "全校录取通知书（PDF）", content_type = "application/pdf", body = crate::web::shapes::Binary)))]
pub async fn school_notices(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, q: web::Query<DocQ>) -> Page {
    let d = crate::service::after_docs::notices_for_school(&state.ctx, &id.who, campaign_in(&q), path.into_inner()).await?;
    Ok(super::attachment(d))
}

/// `GET /staff/rosters/{school}?campaign=ID&format=csv|xlsx`: 新生名册.
#[utoipa::path(get, path = "/api/v1/staff/rosters/{school}", tag = "staff", security(("staff_bearer" = [])), params(("school" = String, Path, description = "学校代码"), ("campaign" = Option<String>, Query, description = "招生批次"), ("format" = Option<String>, Query, description = "csv 或 xlsx")), responses((status = 200, description = "新生名册（附件；format=csv 时为 CSV，默认 XLSX）", content((crate::web::shapes::Binary = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (crate::web::shapes::Binary = "text/csv")))))]
pub async fn roster(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, q: web::Query<DocQ>) -> Page {
    let format = q.format.clone().unwrap_or_else(|| "xlsx".into());
    let d = crate::service::after_docs::roster(&state.ctx, &id.who, campaign_in(&q), path.into_inner(), format).await?;
    Ok(super::attachment(d))
}

/// `GET /staff/indicators?campaign=ID` (`&format=xlsx` downloads): 督导指标.
pub async fn indicators_page(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<DocQ>) -> Page {
    let campaign = campaign_in(&q);
    let i = crate::service::after_docs::indicators(&state.ctx, &id.who, campaign.clone()).await?;
    if q.format.as_deref() == Some("xlsx") {
        return Ok(super::attachment(crate::service::after_docs::indicators_xlsx(&i, &campaign)?));
    }
    use crate::admission::indicators as ind;
    let ctx = merge(
        base_ctx(&state, Some(&id), "indicators"),
        json!({
            "i": i,
            "campaign": campaign,
            "class_chart": ind::class_chart(&i),
            "disability_chart": ind::share_chart("随班就读比例", i.disability_rate_permille, Some(ind::DISABILITY_TARGET_PERMILLE)),
            "migrant_chart": ind::share_chart("随迁子女公办学校就读比例", i.migrant_rate_permille, None),
            "disability_rate": ind::percent_text(i.disability_rate_permille),
            "migrant_rate": ind::percent_text(i.migrant_rate_permille),
            "can_print": id.who.is(super::PLACEMENT),
        }),
    );
    render(&state, "staff_indicators.html", ctx)
}

#[utoipa::path(get, path = "/api/v1/staff/indicators", tag = "staff", security(("staff_bearer" = [])), params(("campaign" = Option<String>, Query, description = "招生批次")), responses((status = 200, description = "督导指标：班额、随班就读、随迁子女、留守儿童（format=xlsx 时为 XLSX 下载）", content((crate::admission::indicators::Indicators = "application/json"), (crate::web::shapes::Binary = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
pub async fn indicators_api(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<DocQ>) -> Page {
    let campaign = campaign_in(&q);
    let i = crate::service::after_docs::indicators(&state.ctx, &id.who, campaign.clone()).await?;
    if q.format.as_deref() == Some("xlsx") {
        return Ok(super::attachment(crate::service::after_docs::indicators_xlsx(&i, &campaign)?));
    }
    Ok(HttpResponse::Ok().json(i))
}
