//! Draw day at the operator's console (`/api/v1/staff/draws…`): freeze a
//! school's or zone's roster, add witnesses (their one-time links), take a
//! witness's value on the console (hidden), announce, take the beacon, run
//! and publish. Admins and operators act; auditors read.

use super::{StaffIdentity, DRY_RUN, PLACEMENT};
use crate::domain::WitnessRole;
use crate::error::{AppError, ErrorBody};
use crate::service::draw as svc;
use crate::web::AppState;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

type Api = Result<HttpResponse, AppError>;

/// `GET /api/v1/staff/draws`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DrawList {
    pub draws: Vec<svc::DrawView>,
}

/// A witness just added, with the one-time link (returned only this once).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WitnessAdded {
    pub witness: svc::WitnessView,
    /// The full one-time link to hand to the witness.
    pub link: String,
    pub token: String,
}

/// What a witness's value did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ValueStep {
    /// `committed` or `revealed`.
    pub step: String,
}

/// The beacon round as checked (BLS signature against the network's key).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BeaconOut {
    pub round: u64,
    /// `hex(SHA-256(signature))`.
    pub randomness: String,
    /// Unix time the round was published.
    pub published_at: u64,
    /// What was checked, in one line.
    pub checked: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    #[serde(default)]
    pub campaign: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/staff/draws", tag = "staff", security(("staff_bearer" = [])), params(ListQuery), responses((status = 200, description = "派位列表（管理员、派位操作员、督导）", body = DrawList)))]
pub async fn list(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<ListQuery>) -> Api {
    id.require(DRY_RUN)?;
    Ok(HttpResponse::Ok().json(DrawList { draws: svc::list(&state.ctx, q.into_inner().campaign).await? }))
}

#[utoipa::path(get, path = "/api/v1/staff/draws/{id}", tag = "staff", security(("staff_bearer" = [])), params(("id" = String, Path, description = "派位编号")), responses((status = 200, description = "一次派位的状态、见证人与信标", body = svc::DrawView)))]
pub async fn one(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>) -> Api {
    id.require(DRY_RUN)?;
    Ok(HttpResponse::Ok().json(svc::view(&state.ctx, path.into_inner()).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FreezeInput {
    #[serde(default)]
    pub campaign: String,
    /// The school or zone id.
    #[serde(default)]
    pub unit: String,
}

impl FreezeInput {
    pub fn parse(self) -> Result<(String, String), AppError> {
        let c = self.campaign.trim().to_string();
        let u = self.unit.trim().to_string();
        if c.is_empty() {
            return Err(AppError::invalid("campaign", "请指定招生计划"));
        }
        if u.is_empty() {
            return Err(AppError::invalid("unit", "请指定要锁定名单的学校或片区"));
        }
        Ok((c, u))
    }
}

#[utoipa::path(post, path = "/api/v1/staff/draws", tag = "staff", security(("staff_bearer" = [])), request_body = FreezeInput, responses((status = 201, description = "已锁定名单", body = svc::DrawView), (status = 409, description = "审核未结束、无需派位或已锁定", body = ErrorBody)))]
pub async fn freeze(state: web::Data<AppState>, id: StaffIdentity, body: web::Json<FreezeInput>) -> Api {
    id.require(PLACEMENT)?;
    let (c, u) = body.into_inner().parse()?;
    let d = svc::freeze(&state.ctx, id.who.actor(), c, u).await?;
    Ok(HttpResponse::Created().json(svc::view(&state.ctx, d.id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WitnessInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub role: String,
}

impl WitnessInput {
    pub fn parse(self) -> Result<(String, WitnessRole), AppError> {
        let role =
            WitnessRole::parse(&self.role).ok_or_else(|| AppError::invalid("role", "见证人身份只能是公证员、家长代表或其他见证人"))?;
        Ok((self.name, role))
    }
}

#[utoipa::path(post, path = "/api/v1/staff/draws/{id}/witnesses", tag = "staff", security(("staff_bearer" = [])), params(("id" = String, Path, description = "派位编号")), request_body = WitnessInput, responses((status = 201, description = "见证人与其一次性链接（只返回这一次）", body = WitnessAdded)))]
pub async fn add_witness(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, body: web::Json<WitnessInput>) -> Api {
    id.require(PLACEMENT)?;
    let (name, role) = body.into_inner().parse()?;
    let w = svc::add_witness(&state.ctx, id.who.actor(), path.into_inner(), name, role).await?;
    Ok(HttpResponse::Created().insert_header((header::CACHE_CONTROL, "no-store")).json(WitnessAdded {
        witness: svc::WitnessView::from(&w.witness),
        link: format!("{}{}", state.settings.server.base_url.trim_end_matches('/'), w.link),
        token: w.token,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValueInput {
    #[serde(default)]
    pub value: String,
}

/// The witness types the value on the console (commit, later reveal).
#[utoipa::path(post, path = "/api/v1/staff/draws/{id}/witnesses/{wid}/value", tag = "staff", security(("staff_bearer" = [])), params(("id" = String, Path, description = "派位编号"), ("wid" = String, Path, description = "见证人编号")), request_body = ValueInput, responses((status = 200, description = "已提交承诺值或已揭示", body = ValueStep), (status = 409, description = "与承诺值不符或状态不对", body = ErrorBody)))]
pub async fn witness_value(
    state: web::Data<AppState>,
    id: StaffIdentity,
    path: web::Path<(String, String)>,
    body: web::Json<ValueInput>,
) -> Api {
    id.require(PLACEMENT)?;
    let (d, w) = path.into_inner();
    let step = svc::witness_at_console(&state.ctx, id.who.actor(), d, w, body.into_inner().value).await?;
    Ok(HttpResponse::Ok().json(ValueStep { step: step.to_string() }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnounceInput {
    /// Beijing time, `YYYY-MM-DD HH:MM` (or with `T` and seconds).
    #[serde(default)]
    pub scheduled_at: String,
}

/// A Beijing time as staff type it → UTC.
pub fn parse_bjt(field: &str, s: &str) -> Result<chrono::NaiveDateTime, AppError> {
    let s = s.trim().replace('T', " ");
    let t = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(&s, f).ok())
        .ok_or_else(|| AppError::invalid(field, "时间格式应为 2027-07-20 09:00（北京时间）"))?;
    Ok(crate::db::from_beijing(t))
}

#[utoipa::path(post, path = "/api/v1/staff/draws/{id}/announce", tag = "staff", security(("staff_bearer" = [])), params(("id" = String, Path, description = "派位编号")), request_body = AnnounceInput, responses((status = 200, description = "已签名发布公告", body = svc::DrawView)))]
pub async fn announce(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, body: web::Json<AnnounceInput>) -> Api {
    id.require(PLACEMENT)?;
    let at = parse_bjt("scheduled_at", &body.scheduled_at)?;
    let d = svc::announce(&state.ctx, id.who.actor(), path.into_inner(), at).await?;
    Ok(HttpResponse::Ok().json(svc::view(&state.ctx, d.id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BeaconInput {
    /// The round's signature, typed in; absent: fetched from the relays.
    #[serde(default)]
    pub value: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/staff/draws/{id}/beacon", tag = "staff", security(("staff_bearer" = [])), params(("id" = String, Path, description = "派位编号")), request_body = BeaconInput, responses((status = 200, description = "信标已核验（BLS）", body = BeaconOut), (status = 409, description = "信标值无效或取不到", body = ErrorBody)))]
pub async fn beacon(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, body: Option<web::Json<BeaconInput>>) -> Api {
    id.require(PLACEMENT)?;
    let value = body.and_then(|b| b.into_inner().value);
    let c = svc::beacon(&state.ctx, id.who.actor(), path.into_inner(), value).await?;
    Ok(HttpResponse::Ok().json(BeaconOut { round: c.round, checked: c.describe(), randomness: c.randomness, published_at: c.published_at }))
}

#[utoipa::path(post, path = "/api/v1/staff/draws/{id}/run", tag = "staff", security(("staff_bearer" = [])), params(("id" = String, Path, description = "派位编号")), responses((status = 200, description = "派位记录（只计算并保存一次）", body = svc::RunOutcome)))]
pub async fn run(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>) -> Api {
    id.require(PLACEMENT)?;
    Ok(HttpResponse::Ok().json(svc::run(&state.ctx, id.who.actor(), path.into_inner()).await?))
}

#[utoipa::path(post, path = "/api/v1/staff/draws/{id}/publish", tag = "staff", security(("staff_bearer" = [])), params(("id" = String, Path, description = "派位编号")), responses((status = 200, description = "已公布结果", body = svc::DrawView)))]
pub async fn publish(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>) -> Api {
    id.require(PLACEMENT)?;
    let d = svc::publish(&state.ctx, id.who.actor(), path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(svc::view(&state.ctx, d.id).await?))
}
