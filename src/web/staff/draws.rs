//! Draw day at the operator's console (`/api/v1/staff/draws…`): freeze a
//! school's or zone's roster, add witnesses (their one-time links), take a
//! witness's value on the console (hidden), announce, take the beacon, run
//! and publish. Admins and operators act; auditors read.

use super::{StaffIdentity, DRY_RUN, PLACEMENT};
use crate::domain::WitnessRole;
use crate::error::AppError;
use crate::service::draw as svc;
use crate::web::AppState;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

type Api = Result<HttpResponse, AppError>;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub campaign: Option<String>,
}

pub async fn list(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<ListQuery>) -> Api {
    id.require(DRY_RUN)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"draws": svc::list(&state.ctx, q.into_inner().campaign).await?})))
}

pub async fn one(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>) -> Api {
    id.require(DRY_RUN)?;
    Ok(HttpResponse::Ok().json(svc::view(&state.ctx, path.into_inner()).await?))
}

#[derive(Debug, Deserialize)]
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

pub async fn freeze(state: web::Data<AppState>, id: StaffIdentity, body: web::Json<FreezeInput>) -> Api {
    id.require(PLACEMENT)?;
    let (c, u) = body.into_inner().parse()?;
    let d = svc::freeze(&state.ctx, id.who.actor(), c, u).await?;
    Ok(HttpResponse::Created().json(svc::view(&state.ctx, d.id).await?))
}

#[derive(Debug, Deserialize)]
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

pub async fn add_witness(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, body: web::Json<WitnessInput>) -> Api {
    id.require(PLACEMENT)?;
    let (name, role) = body.into_inner().parse()?;
    let w = svc::add_witness(&state.ctx, id.who.actor(), path.into_inner(), name, role).await?;
    Ok(HttpResponse::Created().insert_header((header::CACHE_CONTROL, "no-store")).json(serde_json::json!({
        "witness": svc::WitnessView::from(&w.witness),
        "link": format!("{}{}", state.settings.server.base_url.trim_end_matches('/'), w.link),
        "token": w.token,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueInput {
    #[serde(default)]
    pub value: String,
}

/// The witness types the value on the console (commit, later reveal).
pub async fn witness_value(
    state: web::Data<AppState>,
    id: StaffIdentity,
    path: web::Path<(String, String)>,
    body: web::Json<ValueInput>,
) -> Api {
    id.require(PLACEMENT)?;
    let (d, w) = path.into_inner();
    let step = svc::witness_at_console(&state.ctx, id.who.actor(), d, w, body.into_inner().value).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"step": step})))
}

#[derive(Debug, Deserialize)]
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

pub async fn announce(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, body: web::Json<AnnounceInput>) -> Api {
    id.require(PLACEMENT)?;
    let at = parse_bjt("scheduled_at", &body.scheduled_at)?;
    let d = svc::announce(&state.ctx, id.who.actor(), path.into_inner(), at).await?;
    Ok(HttpResponse::Ok().json(svc::view(&state.ctx, d.id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeaconInput {
    /// The round's signature, typed in; absent: fetched from the relays.
    #[serde(default)]
    pub value: Option<String>,
}

pub async fn beacon(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, body: Option<web::Json<BeaconInput>>) -> Api {
    id.require(PLACEMENT)?;
    let value = body.and_then(|b| b.into_inner().value);
    let c = svc::beacon(&state.ctx, id.who.actor(), path.into_inner(), value).await?;
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({"round": c.round, "randomness": c.randomness, "published_at": c.published_at, "checked": c.describe()})))
}

pub async fn run(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>) -> Api {
    id.require(PLACEMENT)?;
    Ok(HttpResponse::Ok().json(svc::run(&state.ctx, id.who.actor(), path.into_inner()).await?))
}

pub async fn publish(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>) -> Api {
    id.require(PLACEMENT)?;
    let d = svc::publish(&state.ctx, id.who.actor(), path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(svc::view(&state.ctx, d.id).await?))
}
