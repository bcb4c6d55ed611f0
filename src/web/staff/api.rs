//! The staff JSON API (`/api/v1/staff/…`, `Authorization: Bearer`): parse,
//! call one use case, answer JSON.

use super::{
    attachment, dry_run_csv, dry_run_format, inline_document, StaffIdentity, ADMIN, AUDIT, EVERYONE, PLACEMENT, READERS, REVIEWERS,
};
use crate::error::AppError;
use crate::error::ErrorBody;
use crate::service::review::{AssignInput, DecisionInput, QueueFilter};
use crate::service::{audit, campaign, dashboard, export, policy, review, staff};
use crate::web::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

/// Staff tokens: a short-lived access token and a rotating refresh token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokensOut {
    pub access_token: String,
    pub refresh_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds the access token is valid.
    pub expires_in: i64,
    /// The account (login only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staff: Option<staff::StaffView>,
}

/// The signed-in account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeOut {
    pub id: String,
    pub username: String,
    pub display_name: String,
    /// `admin`, `reviewer`, `operator` or `auditor`.
    pub role: String,
    /// Township ids a reviewer works in (empty: county-wide).
    pub township_scope: Vec<String>,
}

type Api = Result<HttpResponse, AppError>;

/// `GET /api/v1/staff/dashboard`: seats and applications of one campaign.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DashboardOut {
    pub campaign_id: String,
    pub campaign_name: String,
    pub status: crate::domain::CampaignStatus,
    pub summary: crate::review::dashboard::Summary,
    /// `(phase name, when it begins)`, in order.
    pub phases: Vec<(String, chrono::NaiveDateTime)>,
}

/// A one-line answer in Chinese.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageOut {
    pub message: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginJson {
    username: String,
    password: String,
}

fn tokens(state: &AppState, s: &staff::Session) -> TokensOut {
    TokensOut {
        access_token: s.access.clone(),
        refresh_token: s.refresh.clone(),
        token_type: "Bearer".into(),
        expires_in: state.settings.security.staff_access_minutes * 60,
        staff: None,
    }
}

#[utoipa::path(post, path = "/api/v1/staff/login", tag = "staff", security(()), request_body = LoginJson, responses((status = 200, description = "登录成功：access_token、refresh_token 与账号信息", body = TokensOut), (status = 401, description = "用户名或密码错误（多次失败后锁定）", body = ErrorBody)))]
pub async fn login(state: web::Data<AppState>, req: HttpRequest, body: web::Json<LoginJson>) -> Api {
    state.check_public_rate(&req)?;
    let b = body.into_inner();
    let s = staff::login(&state.ctx, b.username, b.password).await?;
    let mut v = tokens(&state, &s);
    v.staff = Some(staff::view(&s.staff));
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(v))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshJson {
    refresh_token: String,
}

#[utoipa::path(post, path = "/api/v1/staff/refresh", tag = "staff", security(()), request_body = RefreshJson, responses((status = 200, description = "新的令牌（refresh_token 轮换，旧的作废）", body = TokensOut), (status = 401, description = "refresh_token 无效或已过期", body = ErrorBody)))]
pub async fn refresh(state: web::Data<AppState>, body: web::Json<RefreshJson>) -> Api {
    let s = staff::refresh(&state.ctx, body.into_inner().refresh_token).await?.ok_or(AppError::Unauthorized)?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(tokens(&state, &s)))
}

#[utoipa::path(post, path = "/api/v1/staff/logout", tag = "staff", security(("staff_bearer" = [])), responses((status = 204, description = "已退出，本账号的刷新令牌作废")))]
pub async fn logout(state: web::Data<AppState>, id: StaffIdentity) -> Api {
    staff::logout(&state.ctx, &id.who).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/v1/staff/me", tag = "staff", security(("staff_bearer" = [])), responses((status = 200, description = "当前账号", body = MeOut)))]
pub async fn me(id: StaffIdentity) -> Api {
    Ok(HttpResponse::Ok().json(MeOut {
        id: id.who.id.clone(),
        username: id.who.username.clone(),
        display_name: id.who.display_name.clone(),
        role: id.who.role.to_string(),
        township_scope: id.who.township_scope.clone(),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub new_password: String,
    #[serde(default)]
    pub csrf: String,
}

#[utoipa::path(post, path = "/api/v1/staff/password", tag = "staff", security(("staff_bearer" = [])), request_body = PasswordChange, responses((status = 204, description = "已修改，其他会话全部结束"), (status = 422, description = "当前密码错误或新密码不符合要求", body = ErrorBody)))]
pub async fn password(state: web::Data<AppState>, id: StaffIdentity, body: web::Json<PasswordChange>) -> Api {
    let b = body.into_inner();
    staff::change_password(&state.ctx, &id.who, b.current_password, b.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/v1/staff/review/queue", tag = "staff", security(("staff_bearer" = [])), params(QueueFilter), responses((status = 200, description = "审核队列（本乡镇范围内；身份证号打码）", body = review::Queue)))]
pub async fn queue(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<QueueFilter>) -> Api {
    id.require(REVIEWERS)?;
    Ok(HttpResponse::Ok().json(review::queue(&state.ctx, &id.who, q.into_inner()).await?))
}

#[utoipa::path(get, path = "/api/v1/staff/review/applications/{id}", tag = "staff", security(("staff_bearer" = [])), params(("id" = String, Path, description = "报名编号")), responses((status = 200, description = "报名详情、材料、系统计算的对口学校与顺位、风险提示、审核记录（审计员只读、个人信息打码）", body = review::Detail)))]
pub async fn detail(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>) -> Api {
    id.require(READERS)?;
    let d = review::detail(&state.ctx, &id.who, path.into_inner()).await?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(d))
}

#[utoipa::path(post, path = "/api/v1/staff/review/applications/{id}/decisions", tag = "staff", security(("staff_bearer" = [])), params(("id" = String, Path, description = "报名编号")), request_body = DecisionInput, responses((status = 200, description = "已记录审核决定", body = review::DecisionResult), (status = 409, description = "版本冲突（他人已修改）或状态不允许", body = ErrorBody), (status = 422, description = "决定或理由不完整", body = ErrorBody)))]
pub async fn decide(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, body: web::Json<DecisionInput>) -> Api {
    id.require(REVIEWERS)?;
    Ok(HttpResponse::Ok().json(review::decide(&state.ctx, &id.who, path.into_inner(), &body).await?))
}

/// Assigns a county-queue application to a township (admins).
#[utoipa::path(post, path = "/api/v1/staff/review/applications/{id}/assign", tag = "staff", security(("staff_bearer" = [])), params(("id" = String, Path, description = "报名编号")), request_body = AssignInput, responses((status = 200, description = "已分配到乡镇（县级待分配）", body = review::AssignResult), (status = 409, description = "版本冲突", body = ErrorBody)))]
pub async fn assign(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, body: web::Json<AssignInput>) -> Api {
    id.require(ADMIN)?;
    Ok(HttpResponse::Ok().json(review::assign(&state.ctx, &id.who, path.into_inner(), body.into_inner()).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SecondInput {
    agree: Option<serde_json::Value>,
}

#[utoipa::path(post, path = "/api/v1/staff/review/decisions/{id}/second", tag = "staff", security(("staff_bearer" = [])), params(("id" = String, Path, description = "审核决定编号")), request_body = SecondInput, responses((status = 200, description = "第二审核人的意见", body = review::DecisionResult), (status = 409, description = "不能复核自己的决定，或已有结论", body = ErrorBody)))]
pub async fn second(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, body: web::Json<SecondInput>) -> Api {
    id.require(REVIEWERS)?;
    let agree = review::parse_agree(&body.agree)?;
    Ok(HttpResponse::Ok().json(review::second(&state.ctx, &id.who, path.into_inner(), agree).await?))
}

#[utoipa::path(get, path = "/api/v1/staff/documents/{id}", tag = "staff", security(("staff_bearer" = [])), params(("id" = String, Path, description = "材料编号")), responses((status = 200, description = "材料原件（图片或 PDF，不缓存）", content((crate::web::shapes::Binary = "image/jpeg"), (crate::web::shapes::Binary = "image/png"), (crate::web::shapes::Binary = "application/pdf")))))]
pub async fn document(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>) -> Api {
    id.require(REVIEWERS)?;
    let (doc, bytes) = review::document(&state.ctx, &id.who, path.into_inner()).await?;
    Ok(inline_document(&doc, bytes))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignQuery {
    #[serde(default)]
    pub campaign: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/staff/dashboard", tag = "staff", security(("staff_bearer" = [])), params(CampaignQuery), responses((status = 200, description = "学位与报名统计：campaign_id、campaign_name、status、summary、phases", body = DashboardOut)))]
pub async fn dashboard(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<CampaignQuery>) -> Api {
    id.require(EVERYONE)?;
    let (d, _) = dashboard::dashboard(&state.ctx, q.into_inner().campaign).await?;
    Ok(HttpResponse::Ok().json(DashboardOut {
        campaign_id: d.campaign_id,
        campaign_name: d.campaign_name,
        status: d.status,
        summary: d.summary,
        phases: d.phases,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DryRunQuery {
    #[serde(default)]
    pub campaign: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/staff/dry-run", tag = "staff", security(("staff_bearer" = [])), params(DryRunQuery), responses((status = 200, description = "招生方案试运行（JSON；format=csv 或 placement_csv 时为 CSV 下载）", content((policy::DryRun = "application/json"), (crate::web::shapes::Binary = "text/csv")))))]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/staff/exports/{kind}", tag = "staff", security(("staff_bearer" = [])), params(("kind" = String, Path, description = "导出内容"), FormatQuery), responses((status = 200, description = "导出文件（CSV 或 XLSX 附件）", content((crate::web::shapes::Binary = "text/csv"), (crate::web::shapes::Binary = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
pub async fn export(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, q: web::Query<FormatQuery>) -> Api {
    Ok(attachment(export::export(&state.ctx, &id.who, path.into_inner(), q.into_inner().format).await?))
}

#[utoipa::path(get, path = "/api/v1/staff/audit", tag = "staff", security(("staff_bearer" = [])), params(audit::AuditFilter), responses((status = 200, description = "审计日志（分页）与哈希链状态", body = audit::AuditPage)))]
pub async fn audit(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<audit::AuditFilter>) -> Api {
    id.require(AUDIT)?;
    Ok(HttpResponse::Ok().json(audit::page(&state.ctx, q.into_inner()).await?))
}

#[utoipa::path(get, path = "/api/v1/staff/audit/export", tag = "staff", security(("staff_bearer" = [])), params(FormatQuery), responses((status = 200, description = "审计日志导出（附件）", content((crate::web::shapes::Binary = "text/csv"), (crate::web::shapes::Binary = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
pub async fn audit_export(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<FormatQuery>) -> Api {
    id.require(AUDIT)?;
    Ok(attachment(audit::download(&state.ctx, &id.who, q.into_inner().format).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResetPassword {
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub csrf: String,
}

#[utoipa::path(get, path = "/api/v1/staff/accounts", tag = "staff", security(("staff_bearer" = [])), responses((status = 200, description = "工作人员账号列表", body = Vec<staff::StaffView>)))]
pub async fn accounts(state: web::Data<AppState>, id: StaffIdentity) -> Api {
    id.require(ADMIN)?;
    let (list, _) = staff::accounts(&state.ctx).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(post, path = "/api/v1/staff/accounts", tag = "staff", security(("staff_bearer" = [])), request_body = NewAccount, responses((status = 201, description = "已创建账号", body = staff::StaffView), (status = 409, description = "用户名已存在", body = ErrorBody), (status = 422, description = "字段有误", body = ErrorBody)))]
pub async fn accounts_create(state: web::Data<AppState>, id: StaffIdentity, body: web::Json<NewAccount>) -> Api {
    id.require(ADMIN)?;
    let v = staff::create_account(&state.ctx, &id.who, body.into_inner().into_account()?).await?;
    Ok(HttpResponse::Created().json(v))
}

#[utoipa::path(post, path = "/api/v1/staff/accounts/{id}/password", tag = "staff", security(("staff_bearer" = [])), params(("id" = String, Path, description = "账号编号")), request_body = ResetPassword, responses((status = 204, description = "已重置密码，该账号的会话全部结束")))]
pub async fn accounts_reset(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, body: web::Json<ResetPassword>) -> Api {
    id.require(ADMIN)?;
    staff::reset_password(&state.ctx, &id.who, path.into_inner(), body.into_inner().password).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AccountState {
    /// `disable`, `enable` or `unlock`.
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub csrf: String,
}

/// An admin disables, enables or unlocks an account.
#[utoipa::path(post, path = "/api/v1/staff/accounts/{id}/state", tag = "staff", security(("staff_bearer" = [])), params(("id" = String, Path, description = "账号编号")), request_body = AccountState, responses((status = 200, description = "已停用、启用或解锁：message", body = MessageOut)))]
pub async fn accounts_state(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, body: web::Json<AccountState>) -> Api {
    id.require(ADMIN)?;
    let message = staff::set_account_state(&state.ctx, &id.who, path.into_inner(), body.into_inner().action).await?;
    Ok(HttpResponse::Ok().json(MessageOut { message: message.to_string() }))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    #[serde(default)]
    campaign: Option<String>,
}

/// `GET /api/v1/staff/draws/plan?campaign=ID`: which schools and zones need
/// a public draw, from the approved applications and the seats.
#[utoipa::path(get, path = "/api/v1/staff/draws/plan", tag = "staff", security(("staff_bearer" = [])), params(PlanQuery), responses((status = 200, description = "需要电脑派位的学校和片区（由已审核通过的报名和学位算出）", body = crate::service::draw::DrawPlan)))]
pub async fn draw_plan(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<PlanQuery>) -> Api {
    id.require(super::DRY_RUN)?;
    let campaign =
        q.into_inner().campaign.filter(|c| !c.trim().is_empty()).ok_or_else(|| AppError::invalid("campaign", "请指定招生计划"))?;
    Ok(HttpResponse::Ok().json(crate::service::draw::plan(&state.ctx, campaign).await?))
}

// ------------------------------------------------------------ campaign lifecycle

#[utoipa::path(get, path = "/api/v1/staff/campaigns", tag = "staff", security(("staff_bearer" = [])), responses((status = 200, description = "每个招生批次的阶段、下一阶段和尚未满足的条件", body = Vec<campaign::CampaignPhase>)))]
pub async fn campaigns(state: web::Data<AppState>, id: StaffIdentity) -> Api {
    id.require(AUDIT)?;
    Ok(HttpResponse::Ok().json(campaign::phases(&state.ctx).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
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

#[utoipa::path(post, path = "/api/v1/staff/campaigns/{id}/advance", tag = "staff", security(("staff_bearer" = [])), params(("id" = String, Path, description = "招生批次编号")), request_body = AdvanceInput, responses((status = 200, description = "已进入下一阶段", body = campaign::Advanced), (status = 409, description = "条件未满足（中文原因）", body = ErrorBody)))]
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
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

#[utoipa::path(post, path = "/api/v1/staff/campaigns", tag = "staff", security(("staff_bearer" = [])), request_body = CopyForm, responses((status = 201, description = "由已有批次复制出的新草稿批次", body = campaign::Copied), (status = 409, description = "同一年级同一年份已有批次", body = ErrorBody)))]
pub async fn campaign_copy(state: web::Data<AppState>, id: StaffIdentity, body: web::Json<CopyForm>) -> Api {
    id.require(ADMIN)?;
    let input = body.parse()?;
    Ok(HttpResponse::Created().json(campaign::copy(&state.ctx, id.who.actor(), input).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    pub planned_classes: Option<i64>,
    pub class_size_cap: Option<i64>,
}

/// `POST /api/v1/staff/campaigns/{id}/plans/{school}`: a school's classes and class size.
#[utoipa::path(post, path = "/api/v1/staff/campaigns/{id}/plans/{school}", tag = "staff", security(("staff_bearer" = [])), params(("id" = String, Path, description = "招生批次"), ("school" = String, Path, description = "学校代码")), request_body = PlanInput, responses((status = 200, description = "已修改班数与班额", body = campaign::PlanChange), (status = 409, description = "该校学位已被锁定的派位使用", body = ErrorBody)))]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct NotificationQuery {
    #[serde(default)]
    pub campaign: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

/// `GET /api/v1/staff/notifications?campaign=&status=`: the outbox, recipients masked.
#[utoipa::path(get, path = "/api/v1/staff/notifications", tag = "staff", security(("staff_bearer" = [])), params(NotificationQuery), responses((status = 200, description = "通知发件箱：待发、已发、失败（收件人已打码）", body = crate::service::notify::Listing)))]
pub async fn notifications(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<NotificationQuery>) -> Api {
    id.require(super::NOTIFY_READ)?;
    let q = q.into_inner();
    Ok(HttpResponse::Ok().json(crate::service::notify::list(&state.ctx, &id.who, q.campaign, q.status).await?))
}

/// `POST /api/v1/staff/notifications/{id}/resend`: a failed or dead message queued again (admins; audited).
#[utoipa::path(post, path = "/api/v1/staff/notifications/{id}/resend", tag = "staff", security(("staff_bearer" = [])), params(("id" = String, Path, description = "通知编号")), responses((status = 200, description = "已重新排队发送", body = crate::service::notify::Row), (status = 409, description = "只有失败的通知才能重发", body = ErrorBody)))]
pub async fn notification_resend(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>) -> Api {
    id.require(ADMIN)?;
    Ok(HttpResponse::Ok().json(crate::service::notify::resend(&state.ctx, &id.who, path.into_inner()).await?))
}
