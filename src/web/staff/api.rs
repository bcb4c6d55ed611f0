//! The staff JSON API (`/api/v1/staff/…`, `Authorization: Bearer`): parse,
//! call one use case, answer JSON.

use super::{
    attachment, dry_run_csv, dry_run_format, inline_document, StaffIdentity, ADMIN, AUDIT, EVERYONE, PLACEMENT, READERS, REVIEWERS,
};
use crate::error::AppError;
use crate::service::review::{AssignInput, DecisionInput, QueueFilter};
use crate::service::{audit, campaign, dashboard, export, policy, review, staff};
use crate::web::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

type Api = Result<HttpResponse, AppError>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginJson {
    username: String,
    password: String,
}

fn tokens(state: &AppState, s: &staff::Session) -> serde_json::Value {
    json!({
        "access_token": s.access,
        "refresh_token": s.refresh,
        "token_type": "Bearer",
        "expires_in": state.settings.security.staff_access_minutes * 60,
    })
}

pub async fn login(state: web::Data<AppState>, req: HttpRequest, body: web::Json<LoginJson>) -> Api {
    state.check_public_rate(&req)?;
    let b = body.into_inner();
    let s = staff::login(&state.ctx, b.username, b.password).await?;
    let mut v = tokens(&state, &s);
    v["staff"] = json!(staff::view(&s.staff));
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(v))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshJson {
    refresh_token: String,
}

pub async fn refresh(state: web::Data<AppState>, body: web::Json<RefreshJson>) -> Api {
    let s = staff::refresh(&state.ctx, body.into_inner().refresh_token).await?.ok_or(AppError::Unauthorized)?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(tokens(&state, &s)))
}

pub async fn logout(state: web::Data<AppState>, id: StaffIdentity) -> Api {
    staff::logout(&state.ctx, &id.who).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn me(id: StaffIdentity) -> Api {
    Ok(HttpResponse::Ok().json(json!({
        "id": id.who.id,
        "username": id.who.username,
        "display_name": id.who.display_name,
        "role": id.who.role,
        "township_scope": id.who.township_scope,
    })))
}

#[derive(Debug, Deserialize)]
pub struct PasswordChange {
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub new_password: String,
    #[serde(default)]
    pub csrf: String,
}

pub async fn password(state: web::Data<AppState>, id: StaffIdentity, body: web::Json<PasswordChange>) -> Api {
    let b = body.into_inner();
    staff::change_password(&state.ctx, &id.who, b.current_password, b.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn queue(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<QueueFilter>) -> Api {
    id.require(REVIEWERS)?;
    Ok(HttpResponse::Ok().json(review::queue(&state.ctx, &id.who, q.into_inner()).await?))
}

pub async fn detail(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>) -> Api {
    id.require(READERS)?;
    let d = review::detail(&state.ctx, &id.who, path.into_inner()).await?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(d))
}

pub async fn decide(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, body: web::Json<DecisionInput>) -> Api {
    id.require(REVIEWERS)?;
    Ok(HttpResponse::Ok().json(review::decide(&state.ctx, &id.who, path.into_inner(), &body).await?))
}

/// Assigns a county-queue application to a township (admins).
pub async fn assign(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, body: web::Json<AssignInput>) -> Api {
    id.require(ADMIN)?;
    Ok(HttpResponse::Ok().json(review::assign(&state.ctx, &id.who, path.into_inner(), body.into_inner()).await?))
}

#[derive(Debug, Deserialize)]
pub struct SecondInput {
    agree: Option<serde_json::Value>,
}

pub async fn second(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, body: web::Json<SecondInput>) -> Api {
    id.require(REVIEWERS)?;
    let agree = review::parse_agree(&body.agree)?;
    Ok(HttpResponse::Ok().json(review::second(&state.ctx, &id.who, path.into_inner(), agree).await?))
}

pub async fn document(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>) -> Api {
    id.require(REVIEWERS)?;
    let (doc, bytes) = review::document(&state.ctx, &id.who, path.into_inner()).await?;
    Ok(inline_document(&doc, bytes))
}

#[derive(Debug, Deserialize)]
pub struct CampaignQuery {
    #[serde(default)]
    pub campaign: Option<String>,
}

pub async fn dashboard(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<CampaignQuery>) -> Api {
    id.require(EVERYONE)?;
    let (d, _) = dashboard::dashboard(&state.ctx, q.into_inner().campaign).await?;
    Ok(HttpResponse::Ok().json(json!({
        "campaign_id": d.campaign_id,
        "campaign_name": d.campaign_name,
        "status": d.status,
        "summary": d.summary,
        "phases": d.phases,
    })))
}

#[derive(Debug, Deserialize)]
pub struct DryRunQuery {
    #[serde(default)]
    pub campaign: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
}

pub async fn dry_run(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<DryRunQuery>) -> Api {
    let q = q.into_inner();
    let format = dry_run_format(&id, &q.format)?;
    let (run, _) = policy::staff_dry_run(&state.ctx, id.who.actor(), q.campaign, format.clone()).await?;
    Ok(match format {
        Some(f) => dry_run_csv(&run, &f),
        None if id.who.is(PLACEMENT) => HttpResponse::Ok().json(&run),
        None => {
            // Aggregates only: the placement lists name registration numbers.
            let mut v = serde_json::to_value(&run).map_err(AppError::internal)?;
            if let Some(r) = v.get_mut("report").and_then(|r| r.as_object_mut()) {
                r.remove("needs_placement");
                r.remove("likely_unplaced");
            }
            if let Some(o) = v.as_object_mut() {
                o.remove("skipped");
            }
            HttpResponse::Ok().json(v)
        }
    })
}

#[derive(Debug, Deserialize)]
pub struct FormatQuery {
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub page: Option<i64>,
}

pub async fn export(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, q: web::Query<FormatQuery>) -> Api {
    Ok(attachment(export::export(&state.ctx, &id.who, path.into_inner(), q.into_inner().format).await?))
}

pub async fn audit(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<audit::AuditFilter>) -> Api {
    id.require(AUDIT)?;
    Ok(HttpResponse::Ok().json(audit::page(&state.ctx, q.into_inner()).await?))
}

pub async fn audit_export(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<FormatQuery>) -> Api {
    id.require(AUDIT)?;
    Ok(attachment(audit::download(&state.ctx, &id.who, q.into_inner().format).await?))
}

#[derive(Debug, Deserialize)]
pub struct NewAccount {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub role: String,
    /// JSON list for the API; the form sends one comma-separated string.
    #[serde(default)]
    pub township_scope: Option<serde_json::Value>,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub csrf: String,
}

impl NewAccount {
    pub fn into_account(self) -> Result<staff::NewAccount, AppError> {
        use serde_json::Value;
        let township_scope = match &self.township_scope {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => s.split([',', '，', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| x.as_str().map(str::to_string).ok_or_else(|| AppError::invalid("township_scope", "乡镇编号须为文字")))
                .collect::<Result<_, _>>()?,
            _ => return Err(AppError::invalid("township_scope", "乡镇编号格式不正确")),
        };
        Ok(staff::NewAccount {
            username: self.username,
            display_name: self.display_name,
            role: self.role,
            township_scope,
            password: self.password,
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct ResetPassword {
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub csrf: String,
}

pub async fn accounts(state: web::Data<AppState>, id: StaffIdentity) -> Api {
    id.require(ADMIN)?;
    let (list, _) = staff::accounts(&state.ctx).await?;
    Ok(HttpResponse::Ok().json(list))
}

pub async fn accounts_create(state: web::Data<AppState>, id: StaffIdentity, body: web::Json<NewAccount>) -> Api {
    id.require(ADMIN)?;
    let v = staff::create_account(&state.ctx, &id.who, body.into_inner().into_account()?).await?;
    Ok(HttpResponse::Created().json(v))
}

pub async fn accounts_reset(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, body: web::Json<ResetPassword>) -> Api {
    id.require(ADMIN)?;
    staff::reset_password(&state.ctx, &id.who, path.into_inner(), body.into_inner().password).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
pub struct AccountState {
    /// `disable`, `enable` or `unlock`.
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub csrf: String,
}

/// An admin disables, enables or unlocks an account.
pub async fn accounts_state(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, body: web::Json<AccountState>) -> Api {
    id.require(ADMIN)?;
    let message = staff::set_account_state(&state.ctx, &id.who, path.into_inner(), body.into_inner().action).await?;
    Ok(HttpResponse::Ok().json(json!({"message": message})))
}

#[derive(Debug, serde::Deserialize)]
pub struct PlanQuery {
    #[serde(default)]
    campaign: Option<String>,
}

/// `GET /api/v1/staff/draws/plan?campaign=ID`: which schools and zones need
/// a public draw, from the approved applications and the seats.
pub async fn draw_plan(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<PlanQuery>) -> Api {
    id.require(super::DRY_RUN)?;
    let campaign =
        q.into_inner().campaign.filter(|c| !c.trim().is_empty()).ok_or_else(|| AppError::invalid("campaign", "请指定招生计划"))?;
    Ok(HttpResponse::Ok().json(crate::service::draw::plan(&state.ctx, campaign).await?))
}

// ------------------------------------------------------------ campaign lifecycle

pub async fn campaigns(state: web::Data<AppState>, id: StaffIdentity) -> Api {
    id.require(AUDIT)?;
    Ok(HttpResponse::Ok().json(campaign::phases(&state.ctx).await?))
}

#[derive(Debug, Deserialize)]
pub struct AdvanceInput {
    #[serde(default)]
    pub to: String,
    /// End registration before its closing time (the form sends "1").
    #[serde(default)]
    pub close_registration_early: Option<serde_json::Value>,
    #[serde(default)]
    pub csrf: String,
}

impl AdvanceInput {
    pub fn parse(&self) -> Result<(crate::domain::CampaignStatus, crate::registration::lifecycle::Options), AppError> {
        use serde_json::Value;
        if self.to.trim().is_empty() {
            return Err(AppError::invalid("to", "请选择要进入的阶段"));
        }
        let to = campaign::parse_phase("to", &self.to)?;
        let early = match &self.close_registration_early {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => matches!(s.as_str(), "1" | "true" | "on" | "yes"),
            Some(_) => return Err(AppError::invalid("close_registration_early", "提前截止报名只能是 true 或 false")),
        };
        Ok((to, crate::registration::lifecycle::Options { close_registration_early: early }))
    }
}

pub async fn campaign_advance(
    state: web::Data<AppState>,
    id: StaffIdentity,
    path: web::Path<String>,
    body: web::Json<AdvanceInput>,
) -> Api {
    id.require(ADMIN)?;
    let (to, opts) = body.parse()?;
    Ok(HttpResponse::Ok().json(campaign::advance(&state.ctx, id.who.actor(), path.into_inner(), to, opts).await?))
}

#[derive(Debug, Deserialize)]
pub struct CopyForm {
    #[serde(default)]
    pub from: String,
    /// A number for the API; the form sends text.
    #[serde(default)]
    pub year: Option<serde_json::Value>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub csrf: String,
}

impl CopyForm {
    pub fn parse(&self) -> Result<campaign::CopyInput, AppError> {
        use serde_json::Value;
        if self.from.trim().is_empty() {
            return Err(AppError::invalid("from", "请选择要复制的招生批次"));
        }
        let year = match &self.year {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
            _ => None,
        }
        .and_then(|y| i32::try_from(y).ok())
        .ok_or_else(|| AppError::invalid("year", "请填写新批次的年份，例如 2028"))?;
        Ok(campaign::CopyInput { from: self.from.trim().to_string(), year, id: self.id.clone() })
    }
}

pub async fn campaign_copy(state: web::Data<AppState>, id: StaffIdentity, body: web::Json<CopyForm>) -> Api {
    id.require(ADMIN)?;
    let input = body.parse()?;
    Ok(HttpResponse::Created().json(campaign::copy(&state.ctx, id.who.actor(), input).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    pub planned_classes: Option<i64>,
    pub class_size_cap: Option<i64>,
}

/// `POST /api/v1/staff/campaigns/{id}/plans/{school}`: a school's classes and class size.
pub async fn campaign_plan(
    state: web::Data<AppState>,
    id: StaffIdentity,
    path: web::Path<(String, String)>,
    body: web::Json<PlanInput>,
) -> Api {
    id.require(ADMIN)?;
    let (c, s) = path.into_inner();
    let b = body.into_inner();
    let classes = b.planned_classes.ok_or_else(|| AppError::invalid("planned_classes", "请填写班数"))?;
    let cap = b.class_size_cap.ok_or_else(|| AppError::invalid("class_size_cap", "请填写班额"))?;
    Ok(HttpResponse::Ok().json(campaign::set_plan(&state.ctx, id.who.actor(), c, s, classes, cap).await?))
}
