//! The public draw (电脑派位), without login: every draw's status, its
//! signed announcement, its record byte for byte and each entry's
//! inclusion proof (`/api/v1/draws…`), and the witness's one-time link
//! (`/witness/{token}`).

use crate::error::AppError;
use crate::service::draw as svc;
use crate::web::AppState;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

type Api = Result<HttpResponse, AppError>;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    #[serde(default)]
    pub campaign: Option<String>,
}

/// A draw in the public list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = PublicDraw)]
pub struct Listed {
    pub id: String,
    pub campaign_id: String,
    pub title: String,
    pub kind: crate::domain::DrawKind,
    pub status: crate::domain::DrawStatus,
    pub schools: Vec<svc::SchoolSeats>,
    pub roster_root: String,
    pub roster_size: i32,
    pub scheduled_at: Option<chrono::NaiveDateTime>,
    pub beacon_round: Option<i64>,
    pub announcement_digest: Option<String>,
    pub record_digest: Option<String>,
    pub result_digest: Option<String>,
    pub published: bool,
    pub links: Links,
}

/// Where a draw's pages and documents are.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = DrawLinks)]
pub struct Links {
    pub page: String,
    pub live: String,
    pub verify: String,
    pub announcement: String,
    pub record: String,
}

/// `GET /api/v1/draws`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicDrawList {
    pub draws: Vec<Listed>,
}

/// `GET /api/v1/draws/{id}/roster`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicRoster {
    pub roster: Vec<svc::PublicEntry>,
}

/// `POST /api/v1/witness/{token}`: what the value did, and the witness now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WitnessStep {
    /// `committed` or `revealed`.
    pub step: String,
    pub witness: svc::WitnessView,
}

fn listed(v: svc::DrawView) -> Listed {
    let id = v.draw.id.clone();
    Listed {
        links: Links {
            page: format!("/draws/{id}"),
            live: format!("/draws/{id}/live"),
            verify: format!("/verify/?draw={id}"),
            announcement: format!("/api/v1/draws/{id}/announcement"),
            record: format!("/api/v1/draws/{id}/record"),
        },
        id,
        campaign_id: v.draw.campaign_id,
        title: v.draw.title,
        kind: v.draw.kind,
        status: v.draw.status,
        schools: v.schools,
        roster_root: v.draw.roster_root,
        roster_size: v.draw.roster_size,
        scheduled_at: v.draw.scheduled_at,
        beacon_round: v.draw.beacon_round,
        announcement_digest: v.draw.announcement_digest,
        record_digest: v.draw.record_digest,
        result_digest: v.draw.result_digest,
        published: v.draw.published_at.is_some(),
    }
}

/// `GET /api/v1/draws`: every draw of every campaign (or of `?campaign=`).
#[utoipa::path(get, path = "/api/v1/draws", tag = "draws", security(()), params(ListQuery), responses((status = 200, description = "每一次派位：编号、学校、状态（frozen/announced/drawn）、公告摘要、结果摘要与链接", body = PublicDrawList)))]
pub async fn list(state: web::Data<AppState>, q: web::Query<ListQuery>) -> Api {
    let all = svc::list(&state.ctx, q.into_inner().campaign.filter(|c| !c.is_empty())).await?;
    Ok(HttpResponse::Ok().json(PublicDrawList { draws: all.into_iter().map(listed).collect() }))
}

/// `GET /api/v1/draws/{id}`: one draw with its witnesses' commitments (and
/// values once revealed) and the beacon.
#[utoipa::path(get, path = "/api/v1/draws/{id}", tag = "draws", security(()), params(("id" = String, Path, description = "派位编号")), responses((status = 200, description = "一次派位：学校与学位、见证人的承诺值（揭示后含随机数）、信标轮次", body = svc::DrawView)))]
pub async fn one(state: web::Data<AppState>, path: web::Path<String>) -> Api {
    Ok(HttpResponse::Ok().json(svc::view(&state.ctx, path.into_inner()).await?))
}

/// `GET /api/v1/draws/{id}/announcement`: `{"announcement": …, "jws": …}`;
/// the announcement is the signed CJSON, byte for byte.
#[utoipa::path(get, path = "/api/v1/draws/{id}/announcement", tag = "draws", security(()), params(("id" = String, Path, description = "派位编号")), responses((status = 200, description = "签名公告：announcement（CJSON 原文）与 jws（EdDSA）", body = crate::web::shapes::SignedAnnouncement)))]
pub async fn announcement(state: web::Data<AppState>, path: web::Path<String>) -> Api {
    let (jws, ann) = svc::announcement(&state.ctx, path.into_inner()).await?;
    let mut body = String::with_capacity(ann.len() + jws.len() + 40);
    body.push_str("{\"announcement\":");
    body.push_str(&ann);
    body.push_str(",\"jws\":");
    body.push_str(&serde_json::to_string(&jws).map_err(AppError::internal)?);
    body.push('}');
    Ok(HttpResponse::Ok().content_type("application/json").insert_header((header::CACHE_CONTROL, "public, max-age=60")).body(body))
}

/// `GET /api/v1/draws/{id}/record`: the record (draw-v1 §8) exactly as stored.
#[utoipa::path(get, path = "/api/v1/draws/{id}/record", tag = "draws", security(()), params(("id" = String, Path, description = "派位编号")), responses((status = 200, description = "派位记录（draw-v1 §8），与保存的字节完全相同", body = crate::web::shapes::DrawRecord)))]
pub async fn record(state: web::Data<AppState>, path: web::Path<String>) -> Api {
    let id = path.into_inner();
    let r = svc::record(&state.ctx, id.clone()).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600, immutable"))
        .insert_header((header::CONTENT_DISPOSITION, format!("inline; filename=\"{id}.record.json\"")))
        .body(r))
}

/// `GET /api/v1/draws/{id}/roster`: the pseudonymised roster
/// (registration number, masked name, category).
#[utoipa::path(get, path = "/api/v1/draws/{id}/roster", tag = "draws", security(()), params(("id" = String, Path, description = "派位编号")), responses((status = 200, description = "化名名单：报名号、打码姓名、顺位", body = PublicRoster)))]
pub async fn roster(state: web::Data<AppState>, path: web::Path<String>) -> Api {
    Ok(HttpResponse::Ok().json(PublicRoster { roster: svc::public_roster(&state.ctx, path.into_inner()).await? }))
}

/// `GET /api/v1/draws/{id}/proof/{registration_no}`: the entry's RFC 6962
/// inclusion proof; check it against the announced root and size.
#[utoipa::path(get, path = "/api/v1/draws/{id}/proof/{registration_no}", tag = "draws", security(()), params(("id" = String, Path, description = "派位编号"), ("registration_no" = String, Path, description = "报名号")), responses((status = 200, description = "RFC 6962 包含证明：请对照公告中的名单根与人数核验", body = crate::web::shapes::InclusionProof)))]
pub async fn proof(state: web::Data<AppState>, path: web::Path<(String, String)>) -> Api {
    let (id, no) = path.into_inner();
    let p = svc::proof(&state.ctx, id, no).await?;
    Ok(HttpResponse::Ok().content_type("application/json").body(p))
}

/// A witness's value through the one-time link.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = WitnessValueInput)]
#[serde(deny_unknown_fields)]
pub struct WitnessInput {
    pub value: String,
}

/// `POST /api/v1/witness/{token}` `{"value"}`: a witness's one-time link,
/// for a program (the page is `/witness/{token}`). Commits before the
/// announcement, reveals after it.
#[utoipa::path(post, path = "/api/v1/witness/{token}", tag = "draws", security(()), params(("token" = String, Path, description = "见证人的一次性链接")), request_body = WitnessInput, responses((status = 200, description = "已提交承诺值（公告前）或已揭示随机数（公告后）", body = WitnessStep)))]
pub async fn witness_api(state: web::Data<AppState>, path: web::Path<String>, body: web::Json<WitnessInput>) -> Api {
    let (w, step) = svc::witness_link(&state.ctx, path.into_inner(), body.into_inner().value).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(WitnessStep { step: step.to_string(), witness: svc::WitnessView::from(&w) }))
}
