//! The operator's console for the draw day (`/staff/draws…`, cookies, CSRF
//! on every form): the campaign's draw plan with a "锁定名单" button per
//! unit that needs a draw, and per draw the witnesses (a one-time link and
//! its QR code shown once; a console form where the witness types the value
//! hidden), the announcement, the beacon, the run and publication. Every
//! refusal (409/422) is shown on the page in Chinese. The operator never
//! sees a witness's value before the reveal: the page shows what the public
//! page shows.

use super::draws::{parse_bjt, FreezeInput, WitnessInput};
use super::identity::{check_csrf, encode_component, redirect};
use super::pages::{base_ctx, merge, render, with_status};
use super::{StaffIdentity, DRY_RUN, PLACEMENT};
use crate::error::AppError;
use crate::service::{campaign, draw as svc};
use crate::web::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

type Page = Result<HttpResponse, AppError>;

#[derive(Debug, Deserialize)]
pub struct PlanQuery {
    #[serde(default)]
    pub campaign: Option<String>,
}

/// `GET /staff/draws?campaign=`: the draw plan and the campaign's draws.
pub async fn list_page(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<PlanQuery>) -> Page {
    id.require(DRY_RUN)?;
    list_render(&state, &id, q.into_inner().campaign, None, StatusCode::OK).await
}

async fn list_render(state: &AppState, id: &StaffIdentity, campaign: Option<String>, error: Option<String>, status: StatusCode) -> Page {
    let campaigns = campaign::phases(&state.ctx).await?;
    let chosen = campaign.filter(|c| !c.is_empty()).or_else(|| {
        campaigns.iter().find(|c| matches!(c.status, crate::domain::CampaignStatus::Draw)).or(campaigns.first()).map(|c| c.id.clone())
    });
    let (plan, draws) = match &chosen {
        Some(c) => {
            let plan = match svc::plan(&state.ctx, c.clone()).await {
                Ok(p) => Some(p),
                Err(AppError::Invalid { .. }) => None,
                Err(e) => return Err(e),
            };
            (plan, svc::list(&state.ctx, Some(c.clone())).await?)
        }
        None => (None, Vec::new()),
    };
    let frozen: std::collections::BTreeMap<String, String> = draws.iter().map(|d| (d.draw.unit_id.clone(), d.draw.id.clone())).collect();
    let extra = json!({
        "campaigns": campaigns.iter().map(|c| json!({"id": c.id, "name": c.name})).collect::<Vec<_>>(),
        "campaign": chosen,
        "plan": plan,
        "draws": draws,
        "frozen": frozen,
        "can_act": id.who.is(PLACEMENT),
        "error": error,
    });
    Ok(with_status(render(state, "staff_draws.html", merge(base_ctx(state, Some(id), "draws"), extra))?, status))
}

#[derive(Debug, Deserialize)]
pub struct FreezeForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub campaign: String,
    #[serde(default)]
    pub unit: String,
}

/// `POST /staff/draws`: 锁定名单 of one unit.
pub async fn freeze_form(state: web::Data<AppState>, req: HttpRequest, id: StaffIdentity, form: web::Form<FreezeForm>) -> Page {
    check_csrf(&req, &form.csrf)?;
    id.require(PLACEMENT)?;
    let f = form.into_inner();
    let campaign = f.campaign.clone();
    let done = match (FreezeInput { campaign: f.campaign, unit: f.unit }).parse() {
        Ok((c, u)) => svc::freeze(&state.ctx, id.who.actor(), c, u).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(d) => Ok(redirect(&format!("/staff/draws/{}", encode_component(&d.id)))),
        Err(e) => match refusal(&e) {
            Some((msg, status)) => list_render(&state, &id, Some(campaign), Some(msg), status).await,
            None => Err(e),
        },
    }
}

/// A refusal the page shows: its Chinese message and status (409 or 422).
fn refusal(e: &AppError) -> Option<(String, StatusCode)> {
    match e {
        AppError::Invalid { .. } => Some((e.public_message(), StatusCode::UNPROCESSABLE_ENTITY)),
        AppError::Conflict { .. } => Some((e.public_message(), StatusCode::CONFLICT)),
        AppError::BadRequest { .. } => Some((e.public_message(), StatusCode::BAD_REQUEST)),
        AppError::Unavailable => Some((e.public_message(), StatusCode::SERVICE_UNAVAILABLE)),
        _ => None,
    }
}

/// What a console page shows after an action, besides the draw.
#[derive(Default)]
struct Shown {
    error: Option<String>,
    notice: Option<String>,
    /// A new witness's one-time link (shown once) and its QR code (SVG).
    link: Option<(String, String, String)>,
}

async fn draw_render(state: &AppState, id: &StaffIdentity, draw_id: String, shown: Shown, status: StatusCode) -> Page {
    let d = svc::view(&state.ctx, draw_id).await?;
    let link = shown.link.map(|(name, url, svg)| json!({"name": name, "url": url, "svg": svg}));
    let extra = json!({
        "d": d,
        "can_act": id.who.is(PLACEMENT),
        "roles": crate::domain::WitnessRole::choices(),
        "error": shown.error,
        "notice": shown.notice,
        "link": link,
    });
    Ok(with_status(render(state, "staff_draw.html", merge(base_ctx(state, Some(id), "draws"), extra))?, status))
}

#[derive(Debug, Deserialize)]
pub struct Notice {
    #[serde(default)]
    pub done: Option<String>,
}

fn notice_text(done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "committed" => "见证人的承诺值已保存（随机数本身不保存）",
            "revealed" => "见证人的随机数已揭示，与承诺值相符",
            "announced" => "公告已签名发布",
            "beacon" => "信标值已取得并通过验证",
            "run" => "派位已完成，记录已保存",
            "published" => "派位结果已公布",
            _ => return None,
        }
        .to_string(),
    )
}

/// `GET /staff/draws/{id}`: one draw's console.
pub async fn draw_page(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, q: web::Query<Notice>) -> Page {
    id.require(DRY_RUN)?;
    let shown = Shown { notice: notice_text(q.done.as_deref()), ..Shown::default() };
    draw_render(&state, &id, path.into_inner(), shown, StatusCode::OK).await
}

/// After an action: back to the console with a notice, or the refusal on the page.
async fn after<T>(state: &AppState, id: &StaffIdentity, draw_id: String, done: &str, r: Result<T, AppError>) -> Page {
    match r {
        Ok(_) => Ok(redirect(&format!("/staff/draws/{}?done={done}", encode_component(&draw_id)))),
        Err(e) => match refusal(&e) {
            Some((msg, status)) => draw_render(state, id, draw_id, Shown { error: Some(msg), ..Shown::default() }, status).await,
            None => Err(e),
        },
    }
}

#[derive(Debug, Deserialize)]
pub struct WitnessForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub role: String,
}

/// An SVG QR code of `text` (no script, no external reference).
fn qr_svg(text: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(AppError::internal)?;
    let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(220, 220).quiet_zone(true).build();
    // Inline in HTML: without the XML prolog.
    Ok(match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    })
}

/// `POST /staff/draws/{id}/witnesses`: add a witness; the page shows its
/// one-time link and QR code this once (only its hash is stored).
pub async fn witness_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: StaffIdentity,
    path: web::Path<String>,
    form: web::Form<WitnessForm>,
) -> Page {
    check_csrf(&req, &form.csrf)?;
    id.require(PLACEMENT)?;
    let draw_id = path.into_inner();
    let f = form.into_inner();
    let r = match (WitnessInput { name: f.name, role: f.role }).parse() {
        Ok((name, role)) => svc::add_witness(&state.ctx, id.who.actor(), draw_id.clone(), name, role).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(w) => {
            let url = format!("{}{}", state.settings.server.base_url.trim_end_matches('/'), w.link);
            let svg = qr_svg(&url)?;
            let shown = Shown { link: Some((w.witness.name.clone(), url, svg)), ..Shown::default() };
            draw_render(&state, &id, draw_id, shown, StatusCode::CREATED).await
        }
        Err(e) => after::<()>(&state, &id, draw_id, "", Err(e)).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct ValueForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub value: String,
}

/// `POST /staff/draws/{id}/witnesses/{wid}/value`: the witness types the
/// value on the console (hidden): commit before the announcement, reveal after.
pub async fn witness_value_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: StaffIdentity,
    path: web::Path<(String, String)>,
    form: web::Form<ValueForm>,
) -> Page {
    check_csrf(&req, &form.csrf)?;
    id.require(PLACEMENT)?;
    let (draw_id, wid) = path.into_inner();
    let value = form.into_inner().value;
    let r = if value.trim().is_empty() {
        Err(AppError::invalid("value", "请见证人输入随机数"))
    } else {
        svc::witness_at_console(&state.ctx, id.who.actor(), draw_id.clone(), wid, value).await
    };
    let done = match &r {
        Ok(step) => *step,
        Err(_) => "",
    };
    after(&state, &id, draw_id, done, r).await
}

#[derive(Debug, Deserialize)]
pub struct AnnounceForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub scheduled_at: String,
}

/// `POST /staff/draws/{id}/announce`: the scheduled time in Beijing time.
pub async fn announce_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: StaffIdentity,
    path: web::Path<String>,
    form: web::Form<AnnounceForm>,
) -> Page {
    check_csrf(&req, &form.csrf)?;
    id.require(PLACEMENT)?;
    let draw_id = path.into_inner();
    let r = match parse_bjt("scheduled_at", &form.scheduled_at) {
        Ok(at) => svc::announce(&state.ctx, id.who.actor(), draw_id.clone(), at).await.map(|_| ()),
        Err(e) => Err(e),
    };
    after(&state, &id, draw_id, "announced", r).await
}

/// `POST /staff/draws/{id}/beacon`: fetch from the relays (no value) or the typed-in value.
pub async fn beacon_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: StaffIdentity,
    path: web::Path<String>,
    form: web::Form<ValueForm>,
) -> Page {
    check_csrf(&req, &form.csrf)?;
    id.require(PLACEMENT)?;
    let draw_id = path.into_inner();
    let value = Some(form.into_inner().value).filter(|v| !v.trim().is_empty());
    let r = svc::beacon(&state.ctx, id.who.actor(), draw_id.clone(), value).await.map(|_| ());
    after(&state, &id, draw_id, "beacon", r).await
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// `POST /staff/draws/{id}/run`.
pub async fn run_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: StaffIdentity,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Page {
    check_csrf(&req, &form.csrf)?;
    id.require(PLACEMENT)?;
    let draw_id = path.into_inner();
    let r = svc::run(&state.ctx, id.who.actor(), draw_id.clone()).await.map(|_| ());
    after(&state, &id, draw_id, "run", r).await
}

/// `POST /staff/draws/{id}/publish`.
pub async fn publish_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: StaffIdentity,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Page {
    check_csrf(&req, &form.csrf)?;
    id.require(PLACEMENT)?;
    let draw_id = path.into_inner();
    let r = svc::publish(&state.ctx, id.who.actor(), draw_id.clone()).await.map(|_| ());
    after(&state, &id, draw_id, "published", r).await
}
