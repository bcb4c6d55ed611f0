//! The staff console's pages (`/staff/…`, cookies, CSRF on every form):
//! parse, call one use case, render a template.

use super::api::{
    AccountState, AdvanceInput, CampaignQuery, CopyForm, DryRunQuery, FormatQuery, NewAccount, PasswordChange, ResetPassword,
};
use super::identity::{check_csrf, cleared_cookies, csrf_cookie, encode_component, redirect, safe_next, session_cookies};
use super::{
    attachment, dry_run_csv, dry_run_format, inline_document, StaffIdentity, ADMIN, AUDIT, DRY_RUN, EVERYONE, PLACEMENT, READERS,
    REFRESH_COOKIE, REVIEWERS,
};
use crate::domain::{ApplicationStatus, Role};
use crate::error::AppError;
use crate::service::review::{AssignInput, DecisionInput, QueueFilter};
use crate::service::{audit, campaign, dashboard, export, policy, review, staff};
use crate::staff::auth;
use crate::web::auth::cookie_value;
use crate::web::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

type Page = Result<HttpResponse, AppError>;

pub(super) fn base_ctx(state: &AppState, id: Option<&StaffIdentity>, active: &str) -> serde_json::Value {
    json!({
        "bureau": state.settings.bureau.name,
        "me": id.map(|i| json!({
            "name": i.who.display_name,
            "username": i.who.username,
            "role": i.who.role.as_str(),
            "role_label": i.who.role.label(),
            "can_review": i.who.is(REVIEWERS),
            "can_audit": i.who.is(AUDIT),
            "is_admin": i.who.is(ADMIN),
            "can_dry_run": i.who.is(DRY_RUN),
        })),
        "csrf": id.map(|i| i.csrf.clone()).unwrap_or_default(),
        "active": active,
        "dev_demo": state.settings.environment != crate::config::Environment::Production,
    })
}

pub(super) fn merge(mut base: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    if let (Some(b), serde_json::Value::Object(e)) = (base.as_object_mut(), extra) {
        for (k, v) in e {
            b.insert(k, v);
        }
    }
    base
}

pub(super) fn render(state: &AppState, name: &str, ctx: serde_json::Value) -> Page {
    let mut r = crate::web::templates::render(&state.templates, name, minijinja::Value::from_serialize(&ctx))?;
    r.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(r)
}

fn with_status(mut r: HttpResponse, status: StatusCode) -> HttpResponse {
    *r.status_mut() = status;
    r
}

fn with_cookies(mut r: HttpResponse, cookies: Vec<actix_web::cookie::Cookie<'static>>) -> Page {
    for c in cookies {
        r.add_cookie(&c).map_err(AppError::internal)?;
    }
    Ok(r)
}

// ------------------------------------------------------------ login / logout

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

pub async fn home(id: StaffIdentity) -> Page {
    Ok(redirect(match id.who.role {
        Role::Reviewer => "/staff/review",
        Role::Auditor => "/staff/audit",
        Role::Admin | Role::Operator => "/staff/dashboard",
    }))
}

pub async fn login_page(state: web::Data<AppState>, req: HttpRequest, q: web::Query<NextQuery>) -> Page {
    login_render(&state, &req, q.next.as_deref(), None, "")
}

fn login_render(state: &AppState, req: &HttpRequest, next: Option<&str>, error: Option<&str>, username: &str) -> Page {
    // A fresh double-submit token for the login form itself (login CSRF).
    let csrf = cookie_value(req, super::CSRF_COOKIE).filter(|v| !v.is_empty()).unwrap_or_else(auth::random_token);
    let ctx = merge(base_ctx(state, None, "login"), json!({"csrf": csrf, "next": safe_next(next), "error": error, "username": username}));
    let r = with_cookies(render(state, "staff_login.html", ctx)?, vec![csrf_cookie(state, csrf)])?;
    Ok(if error.is_some() { with_status(r, StatusCode::UNAUTHORIZED) } else { r })
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
}

pub async fn login_form(state: web::Data<AppState>, req: HttpRequest, form: web::Form<LoginForm>) -> Page {
    let f = form.into_inner();
    check_csrf(&req, &f.csrf)?;
    state.check_public_rate(&req)?;
    let username = f.username.clone();
    match staff::login(&state.ctx, f.username, f.password).await {
        Ok(s) => with_cookies(redirect(&safe_next(f.next.as_deref())), session_cookies(&state, s.access, s.refresh, auth::random_token())),
        Err(AppError::Unauthorized) => login_render(&state, &req, f.next.as_deref(), Some("用户名或密码错误"), &username),
        Err(e @ (AppError::Conflict { .. } | AppError::Invalid { .. })) => {
            let msg = e.public_message();
            let r = login_render(&state, &req, f.next.as_deref(), Some(&msg), &username)?;
            let status = if matches!(e, AppError::Conflict { .. }) { StatusCode::LOCKED } else { StatusCode::UNPROCESSABLE_ENTITY };
            Ok(with_status(r, status))
        }
        Err(e) => Err(e),
    }
}

pub async fn refresh_page(state: web::Data<AppState>, req: HttpRequest, q: web::Query<NextQuery>) -> Page {
    let next = safe_next(q.next.as_deref());
    let Some(token) = cookie_value(&req, REFRESH_COOKIE) else {
        return Ok(redirect(&format!("/staff/login?next={}", encode_component(&next))));
    };
    match staff::refresh(&state.ctx, token).await? {
        Some(s) => {
            let csrf = cookie_value(&req, super::CSRF_COOKIE).filter(|v| !v.is_empty()).unwrap_or_else(auth::random_token);
            with_cookies(redirect(&next), session_cookies(&state, s.access, s.refresh, csrf))
        }
        None => with_cookies(redirect(&format!("/staff/login?next={}", encode_component(&next))), cleared_cookies(&state)),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout_form(state: web::Data<AppState>, req: HttpRequest, id: StaffIdentity, form: web::Form<CsrfForm>) -> Page {
    check_csrf(&req, &form.csrf)?;
    staff::logout(&state.ctx, &id.who).await?;
    with_cookies(redirect("/staff/login"), cleared_cookies(&state))
}

// ------------------------------------------------------------ passwords

pub async fn password_page(state: web::Data<AppState>, id: StaffIdentity) -> Page {
    render(&state, "staff_password.html", merge(base_ctx(&state, Some(&id), "password"), json!({})))
}

pub async fn password_form(state: web::Data<AppState>, req: HttpRequest, id: StaffIdentity, form: web::Form<PasswordChange>) -> Page {
    let f = form.into_inner();
    check_csrf(&req, &f.csrf)?;
    match staff::change_password(&state.ctx, &id.who, f.current_password, f.new_password).await {
        Ok(()) => with_cookies(redirect("/staff/login"), cleared_cookies(&state)),
        Err(e @ AppError::Invalid { .. }) => {
            let r = render(
                &state,
                "staff_password.html",
                merge(base_ctx(&state, Some(&id), "password"), json!({"error": e.public_message()})),
            )?;
            Ok(with_status(r, StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(e),
    }
}

// ------------------------------------------------------------ review

pub async fn queue_page(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<QueueFilter>) -> Page {
    id.require(REVIEWERS)?;
    let f = q.into_inner();
    let (queue, error) = match review::queue(&state.ctx, &id.who, f.clone()).await {
        Ok(q) => (Some(q), None),
        Err(e @ AppError::Invalid { .. }) => (None, Some(e.public_message())),
        Err(e) => return Err(e),
    };
    let options = review::queue_options(&state.ctx, &id.who).await?;
    let ctx = merge(
        base_ctx(&state, Some(&id), "review"),
        json!({
            "queue": queue,
            "error": error,
            "filter": f,
            "filter_qs": filter_query(&f),
            "campaigns": options.campaigns,
            "schools": options.targets,
            "scope": options.scope,
            "statuses": ApplicationStatus::choices(),
            "signal_kinds": crate::review::fraud::SIGNAL_KINDS,
            "categories": options.categories,
            "townships": options.townships,
            "county_queue_label": crate::review::scope::COUNTY_QUEUE,
        }),
    );
    render(&state, "staff_queue.html", ctx)
}

/// The filter as a query string without the page, for pagination links.
fn filter_query(f: &QueueFilter) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("campaign", &f.campaign),
        ("school", &f.school),
        ("category", &f.category),
        ("status", &f.status),
        ("township", &f.township),
        ("signal", &f.signal),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            parts.push(format!("{k}={}", encode_component(v)));
        }
    }
    parts.join("&")
}

fn detail_ctx(
    state: &AppState,
    id: &StaffIdentity,
    d: &review::Detail,
    townships: &[(String, String)],
    error: Option<String>,
    notice: Option<&str>,
) -> serde_json::Value {
    let default_deadline = crate::db::beijing(crate::db::now()) + chrono::Duration::days(7);
    merge(
        base_ctx(state, Some(id), "review"),
        json!({
            "app": d,
            "facts_rows": serde_json::from_value::<crate::policy::ApplicantFacts>(d.facts.clone()).map(|f| crate::review::facts_rows(&f)).unwrap_or_default(),
            "facts_pretty": serde_json::to_string_pretty(&d.facts).unwrap_or_default(),
            "reasons": crate::review::REJECT_REASONS,
            "document_kinds": crate::registration::upload::DocumentKind::ALL.iter().map(|k| (k.code(), k.label())).collect::<Vec<_>>(),
            "sections": crate::review::supplement::SECTIONS,
            "default_deadline": default_deadline.format("%Y-%m-%dT18:00").to_string(),
            "error": error,
            "notice": notice,
            "my_id": id.who.id,
            "townships": townships,
        }),
    )
}

#[derive(Debug, Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    done: Option<String>,
}

pub async fn detail_page(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, q: web::Query<NoticeQuery>) -> Page {
    id.require(READERS)?;
    let d = review::detail(&state.ctx, &id.who, path.into_inner()).await?;
    let notice = match q.done.as_deref() {
        Some("approve") => Some("已审核通过"),
        Some("approve_pending") => Some("已提交改判，等待另一名工作人员复核"),
        Some("reject") => Some("已驳回"),
        Some("supplement") => Some("已要求补充材料，并通知监护人"),
        Some("note") => Some("已添加备注"),
        Some("second") => Some("复核意见已记录"),
        Some("assign") => Some("已分配给乡镇审核，该乡镇的审核员现在可以看到这份申请"),
        _ => None,
    };
    let townships = detail_townships(&state, &id, &d).await?;
    render(&state, "staff_application.html", detail_ctx(&state, &id, &d, &townships, None, notice))
}

pub async fn decide_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: StaffIdentity,
    path: web::Path<String>,
    body: web::Bytes,
) -> Page {
    let form = DecisionInput::from_form(&body)?;
    check_csrf(&req, form.csrf.as_deref().unwrap_or(""))?;
    id.require(REVIEWERS)?;
    let app_id = path.into_inner();
    match review::decide(&state.ctx, &id.who, app_id.clone(), &form).await {
        Ok(r) => {
            let done = if r.needs_second { "approve_pending" } else { r.decision.as_str() };
            Ok(redirect(&format!("/staff/review/{}?done={done}", encode_component(&app_id))))
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            let status = if matches!(e, AppError::Invalid { .. }) { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::CONFLICT };
            let d = review::detail(&state.ctx, &id.who, app_id).await?;
            let townships = detail_townships(&state, &id, &d).await?;
            let r = render(&state, "staff_application.html", detail_ctx(&state, &id, &d, &townships, Some(e.public_message()), None))?;
            Ok(with_status(r, status))
        }
        Err(e) => Err(e),
    }
}

/// The townships an admin may assign this application to (none otherwise).
async fn detail_townships(state: &AppState, id: &StaffIdentity, d: &review::Detail) -> Result<Vec<(String, String)>, AppError> {
    if !d.assignable {
        return Ok(Vec::new());
    }
    Ok(review::queue_options(&state.ctx, &id.who).await?.townships)
}

/// An admin assigns a county-queue application to a township.
pub async fn assign_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: StaffIdentity,
    path: web::Path<String>,
    form: web::Form<AssignInput>,
) -> Page {
    check_csrf(&req, form.csrf.as_deref().unwrap_or(""))?;
    id.require(ADMIN)?;
    let app_id = path.into_inner();
    match review::assign(&state.ctx, &id.who, app_id.clone(), form.into_inner()).await {
        Ok(_) => Ok(redirect(&format!("/staff/review/{}?done=assign", encode_component(&app_id)))),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            let status = if matches!(e, AppError::Invalid { .. }) { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::CONFLICT };
            let d = review::detail(&state.ctx, &id.who, app_id).await?;
            let townships = detail_townships(&state, &id, &d).await?;
            let r = render(&state, "staff_application.html", detail_ctx(&state, &id, &d, &townships, Some(e.public_message()), None))?;
            Ok(with_status(r, status))
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct SecondForm {
    #[serde(default)]
    agree: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    application: String,
}

pub async fn second_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: StaffIdentity,
    path: web::Path<String>,
    form: web::Form<SecondForm>,
) -> Page {
    check_csrf(&req, &form.csrf)?;
    id.require(REVIEWERS)?;
    let agree = review::parse_agree(&Some(serde_json::Value::String(form.agree.clone())))?;
    review::second(&state.ctx, &id.who, path.into_inner(), agree).await?;
    Ok(redirect(&format!("/staff/review/{}?done=second", encode_component(&form.application))))
}

pub async fn document_page(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>) -> Page {
    id.require(REVIEWERS)?;
    let (doc, bytes) = review::document(&state.ctx, &id.who, path.into_inner()).await?;
    Ok(inline_document(&doc, bytes))
}

// ------------------------------------------------------------ dashboard, dry run

pub async fn dashboard_page(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<CampaignQuery>) -> Page {
    id.require(EVERYONE)?;
    let (d, all) = dashboard::dashboard(&state.ctx, q.into_inner().campaign).await?;
    let exports: Vec<(&str, &str)> =
        export::EXPORT_KINDS.iter().filter(|(k, _)| export::roles_for(k).map(|r| id.who.is(r)).unwrap_or(false)).copied().collect();
    let ctx = merge(base_ctx(&state, Some(&id), "dashboard"), json!({"d": d, "campaigns": all, "exports": exports}));
    render(&state, "staff_dashboard.html", ctx)
}

pub async fn dry_run_page(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<DryRunQuery>) -> Page {
    let q = q.into_inner();
    let format = dry_run_format(&id, &q.format)?;
    let (run, all) = policy::staff_dry_run(&state.ctx, id.who.actor(), q.campaign, format.clone()).await?;
    if let Some(f) = format {
        return Ok(dry_run_csv(&run, &f));
    }
    let chart = crate::review::charts::dry_run_chart(&run.report);
    let ctx = merge(
        base_ctx(&state, Some(&id), "dry_run"),
        json!({"run": run, "campaigns": all, "chart": chart, "can_see_placement": id.who.is(PLACEMENT)}),
    );
    render(&state, "staff_dry_run.html", ctx)
}

// ------------------------------------------------------------ exports and audit

pub async fn export_page(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, q: web::Query<FormatQuery>) -> Page {
    Ok(attachment(export::export(&state.ctx, &id.who, path.into_inner(), q.into_inner().format).await?))
}

pub async fn audit_page(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<audit::AuditFilter>) -> Page {
    id.require(AUDIT)?;
    let f = q.into_inner();
    let qs = f.query();
    match audit::page(&state.ctx, f.clone()).await {
        Ok(p) => render(&state, "staff_audit.html", merge(base_ctx(&state, Some(&id), "audit"), json!({"a": p, "qs": qs}))),
        Err(e @ AppError::Invalid { .. }) => {
            // Show the page unfiltered by date with the reason.
            let p = audit::page(&state.ctx, audit::AuditFilter { from: None, to: None, ..f }).await?;
            let ctx = json!({"a": p, "qs": qs, "error": e.public_message()});
            Ok(with_status(
                render(&state, "staff_audit.html", merge(base_ctx(&state, Some(&id), "audit"), ctx))?,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
        Err(e) => Err(e),
    }
}

pub async fn audit_export_page(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<FormatQuery>) -> Page {
    id.require(AUDIT)?;
    Ok(attachment(audit::download(&state.ctx, &id.who, q.into_inner().format).await?))
}

// ------------------------------------------------------------ accounts (admin)

async fn accounts_render(state: &AppState, id: &StaffIdentity, error: Option<String>, notice: Option<&str>) -> Page {
    let (views, townships) = staff::accounts(&state.ctx).await?;
    let roles = Role::choices();
    let extra = json!({"staff": views, "townships": townships, "roles": roles, "error": error, "notice": notice});
    render(state, "staff_accounts.html", merge(base_ctx(state, Some(id), "accounts"), extra))
}

pub async fn accounts_page(state: web::Data<AppState>, id: StaffIdentity) -> Page {
    id.require(ADMIN)?;
    accounts_render(&state, &id, None, None).await
}

pub async fn accounts_create_form(state: web::Data<AppState>, req: HttpRequest, id: StaffIdentity, form: web::Form<NewAccount>) -> Page {
    check_csrf(&req, &form.csrf)?;
    id.require(ADMIN)?;
    let created = match form.into_inner().into_account() {
        Ok(a) => staff::create_account(&state.ctx, &id.who, a).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(_) => accounts_render(&state, &id, None, Some("账号已创建")).await,
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            let r = accounts_render(&state, &id, Some(e.public_message()), None).await?;
            Ok(with_status(r, StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(e),
    }
}

pub async fn accounts_reset_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: StaffIdentity,
    path: web::Path<String>,
    form: web::Form<ResetPassword>,
) -> Page {
    check_csrf(&req, &form.csrf)?;
    id.require(ADMIN)?;
    match staff::reset_password(&state.ctx, &id.who, path.into_inner(), form.into_inner().password).await {
        Ok(()) => accounts_render(&state, &id, None, Some("密码已重置，该账号需重新登录")).await,
        Err(e @ AppError::Invalid { .. }) => {
            let r = accounts_render(&state, &id, Some(e.public_message()), None).await?;
            Ok(with_status(r, StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(e),
    }
}

pub async fn accounts_state_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: StaffIdentity,
    path: web::Path<String>,
    form: web::Form<AccountState>,
) -> Page {
    check_csrf(&req, &form.csrf)?;
    id.require(ADMIN)?;
    match staff::set_account_state(&state.ctx, &id.who, path.into_inner(), form.into_inner().action).await {
        Ok(done) => accounts_render(&state, &id, None, Some(done)).await,
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            let status = if matches!(e, AppError::Invalid { .. }) { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::CONFLICT };
            let r = accounts_render(&state, &id, Some(e.public_message()), None).await?;
            Ok(with_status(r, status))
        }
        Err(e) => Err(e),
    }
}

// ------------------------------------------------------------ campaign lifecycle (admin; auditors read)

async fn campaigns_render(state: &AppState, id: &StaffIdentity, error: Option<String>, notice: Option<String>, status: StatusCode) -> Page {
    let list = campaign::phases(&state.ctx).await?;
    let next_year = list.iter().map(|c| c.year).max().map(|y| y + 1).unwrap_or(2028);
    let extra = json!({
        "campaigns": list,
        "next_year": next_year,
        "can_change": id.who.is(ADMIN),
        "error": error,
        "notice": notice,
    });
    Ok(with_status(render(state, "staff_campaigns.html", merge(base_ctx(state, Some(id), "campaigns"), extra))?, status))
}

#[derive(Debug, Deserialize)]
pub struct CampaignNotice {
    #[serde(default)]
    advanced: Option<String>,
    #[serde(default)]
    copied: Option<String>,
}

pub async fn campaigns_page(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<CampaignNotice>) -> Page {
    id.require(AUDIT)?;
    let notice = match (&q.advanced, &q.copied) {
        (Some(c), _) => Some(format!("招生批次「{c}」已进入下一阶段")),
        (_, Some(c)) => Some(format!("已创建招生批次「{c}」（筹备中），请核对学校计划、划片规则和招生方案后再开始报名")),
        _ => None,
    };
    campaigns_render(&state, &id, None, notice, StatusCode::OK).await
}

/// A refusal shown on the page: 409 or 422 with the Chinese reasons.
async fn campaigns_refusal(state: &AppState, id: &StaffIdentity, e: AppError) -> Page {
    match e {
        e @ (AppError::Invalid { .. } | AppError::Conflict { .. }) => {
            let status = if matches!(e, AppError::Invalid { .. }) { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::CONFLICT };
            campaigns_render(state, id, Some(e.public_message()), None, status).await
        }
        e => Err(e),
    }
}

pub async fn campaign_advance_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: StaffIdentity,
    path: web::Path<String>,
    form: web::Form<AdvanceInput>,
) -> Page {
    check_csrf(&req, &form.csrf)?;
    id.require(ADMIN)?;
    let campaign_id = path.into_inner();
    let done = match form.parse() {
        Ok((to, opts)) => campaign::advance(&state.ctx, id.who.actor(), campaign_id.clone(), to, opts).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(_) => Ok(redirect(&format!("/staff/campaigns?advanced={}", encode_component(&campaign_id)))),
        Err(e) => campaigns_refusal(&state, &id, e).await,
    }
}

pub async fn campaign_copy_form(state: web::Data<AppState>, req: HttpRequest, id: StaffIdentity, form: web::Form<CopyForm>) -> Page {
    check_csrf(&req, &form.csrf)?;
    id.require(ADMIN)?;
    let done = match form.parse() {
        Ok(input) => campaign::copy(&state.ctx, id.who.actor(), input).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(c) => Ok(redirect(&format!("/staff/campaigns?copied={}", encode_component(&c.id)))),
        Err(e) => campaigns_refusal(&state, &id, e).await,
    }
}
