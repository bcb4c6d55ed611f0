//! The staff console: login, accounts, review, dashboard, exports and the
//! audit pages, as server-rendered pages (`/staff/…`, cookies) and a JSON API
//! (`/api/v1/staff/…`, `Authorization: Bearer`).
//!
//! Authentication: a short-lived HS256 access token (see
//! [`crate::staff::auth`]) and an opaque rotating refresh token. Pages carry
//! them in HttpOnly SameSite=Strict cookies (Secure when
//! `security.cookie_secure`); the API accepts only the Bearer header and
//! never reads the cookies, so a browser cannot be tricked into calling it.
//!
//! CSRF: every form post carries a double-submit token — a random value in
//! the `ruxue_csrf` cookie (SameSite=Strict) that the form must repeat in
//! its `csrf` field; a mismatch is refused with 403 before anything runs.

use super::AppState;
use crate::db::review::{self as dbr, QueueFilter};
use crate::db::staff as dbs;
use crate::error::AppError;
use crate::review::DecisionRequest;
use crate::staff::auth::{self, Role};
use crate::staff::Identity;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;

pub const ACCESS_COOKIE: &str = "ruxue_staff_at";
pub const REFRESH_COOKIE: &str = "ruxue_staff_rt";
pub const CSRF_COOKIE: &str = "ruxue_csrf";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg
        // pages
        .route("/staff", web::get().to(home))
        .route("/staff/login", web::get().to(login_page))
        .route("/staff/login", web::post().to(login_form))
        .route("/staff/refresh", web::get().to(refresh_page))
        .route("/staff/logout", web::post().to(logout_form))
        .route("/staff/password", web::get().to(password_page))
        .route("/staff/password", web::post().to(password_form))
        .route("/staff/review", web::get().to(queue_page))
        .route("/staff/review/{id}", web::get().to(detail_page))
        .route("/staff/review/{id}", web::post().to(decide_form))
        .route("/staff/decisions/{id}/second", web::post().to(second_form))
        .route("/staff/documents/{id}", web::get().to(document_page))
        .route("/staff/dashboard", web::get().to(dashboard_page))
        .route("/staff/dry-run", web::get().to(dry_run_page))
        .route("/staff/exports/{kind}", web::get().to(export_page))
        .route("/staff/audit", web::get().to(audit_page))
        .route("/staff/audit/export", web::get().to(audit_export_page))
        .route("/staff/accounts", web::get().to(accounts_page))
        .route("/staff/accounts", web::post().to(accounts_create_form))
        .route("/staff/accounts/{id}/password", web::post().to(accounts_reset_form))
        // JSON API
        .route("/api/v1/staff/login", web::post().to(login_api))
        .route("/api/v1/staff/refresh", web::post().to(refresh_api))
        .route("/api/v1/staff/logout", web::post().to(logout_api))
        .route("/api/v1/staff/me", web::get().to(me_api))
        .route("/api/v1/staff/password", web::post().to(password_api))
        .route("/api/v1/staff/review/queue", web::get().to(queue_api))
        .route("/api/v1/staff/review/applications/{id}", web::get().to(detail_api))
        .route("/api/v1/staff/review/applications/{id}/decisions", web::post().to(decide_api))
        .route("/api/v1/staff/review/decisions/{id}/second", web::post().to(second_api))
        .route("/api/v1/staff/documents/{id}", web::get().to(document_api))
        .route("/api/v1/staff/dashboard", web::get().to(dashboard_api))
        .route("/api/v1/staff/dry-run", web::get().to(dry_run_api))
        .route("/api/v1/staff/exports/{kind}", web::get().to(export_api))
        .route("/api/v1/staff/audit", web::get().to(audit_api))
        .route("/api/v1/staff/audit/export", web::get().to(audit_export_api))
        .route("/api/v1/staff/accounts", web::get().to(accounts_api))
        .route("/api/v1/staff/accounts", web::post().to(accounts_create_api))
        .route("/api/v1/staff/accounts/{id}/password", web::post().to(accounts_reset_api));
}

// ------------------------------------------------------------ roles

const REVIEWERS: &[Role] = &[Role::Admin, Role::Reviewer];
const EVERYONE: &[Role] = &[Role::Admin, Role::Reviewer, Role::Operator, Role::Auditor];
const AUDIT: &[Role] = &[Role::Admin, Role::Auditor];
const ADMIN: &[Role] = &[Role::Admin];
/// County-wide aggregates of the policy dry run.
const DRY_RUN: &[Role] = &[Role::Admin, Role::Operator, Role::Auditor];
/// The dry run's list of children needing placement (registration numbers).
const PLACEMENT: &[Role] = &[Role::Admin, Role::Operator];

/// Who may download which export.
pub fn export_roles(kind: &str) -> Option<&'static [Role]> {
    match kind {
        "applications" | "reviews" => Some(&[Role::Admin, Role::Reviewer, Role::Auditor]),
        "draws" => Some(&[Role::Admin, Role::Operator, Role::Auditor]),
        "offers" => Some(EVERYONE),
        _ => None,
    }
}

// ------------------------------------------------------------ the extractor

/// A validated staff member. Extracting it checks the token (signature,
/// issuer, audience, time claims), then that the account is still active,
/// its role unchanged and its `token_version` current.
pub struct StaffIdentity {
    pub who: Identity,
    /// The double-submit token for forms on pages (empty for the API).
    pub csrf: String,
}

impl StaffIdentity {
    /// Refuses with 403 unless the role is one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        if self.who.is(roles) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let h = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = h.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

fn is_api(req: &HttpRequest) -> bool {
    req.path().starts_with("/api/")
}

/// Only local paths under /staff may be a `next`.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/staff") && !n.contains("//") && !n.contains('\\') && !n.starts_with("/staff/login") => n.to_string(),
        _ => "/staff".to_string(),
    }
}

fn encode_component(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to.to_string())).finish()
}

fn unauthenticated(req: &HttpRequest) -> actix_web::Error {
    if is_api(req) {
        return AppError::Unauthorized.into();
    }
    let here = match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{}", req.path(), q),
    };
    let next = encode_component(&here);
    let to = if req.cookie(REFRESH_COOKIE).is_some() {
        format!("/staff/refresh?next={next}")
    } else {
        format!("/staff/login?next={next}")
    };
    actix_web::error::InternalError::from_response("login required", redirect(&to)).into()
}

impl FromRequest for StaffIdentity {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req.app_data::<web::Data<AppState>>().cloned().ok_or_else(|| AppError::internal("no state"))?;
            let token = if is_api(&req) { bearer(&req) } else { req.cookie(ACCESS_COOKIE).map(|c| c.value().to_string()) };
            let Some(token) = token else { return Err(unauthenticated(&req)) };
            let key = state.settings.security.jwt_key.expose_secret().as_bytes().to_vec();
            let Ok(claims) = auth::verify_access(&key, &token) else { return Err(unauthenticated(&req)) };
            let sub = claims.sub.clone();
            let row = state.db.run(move |c| dbs::by_id(c, &sub)).await?;
            let Some(s) = row else { return Err(unauthenticated(&req)) };
            if !s.active || s.token_version != claims.tv || s.role != claims.role {
                return Err(unauthenticated(&req));
            }
            let role = Role::parse(&s.role).ok_or_else(|| AppError::internal("bad role in database"))?;
            let csrf = if is_api(&req) { String::new() } else { req.cookie(CSRF_COOKIE).map(|c| c.value().to_string()).unwrap_or_default() };
            Ok(StaffIdentity {
                who: Identity {
                    township_scope: dbs::scope_of(&s),
                    id: s.id,
                    username: s.username,
                    display_name: s.display_name,
                    role,
                },
                csrf,
            })
        })
    }
}

fn check_csrf(req: &HttpRequest, field: &str) -> Result<(), AppError> {
    let cookie = req.cookie(CSRF_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    if cookie.is_empty() || !auth::same(&cookie, field) {
        // 403: the form did not come from one of our pages (or is stale).
        return Err(AppError::Forbidden);
    }
    Ok(())
}

// ------------------------------------------------------------ cookies

fn cookie<'a>(state: &AppState, name: &'a str, value: String, path: &'a str, http_only: bool, max_age_secs: i64) -> Cookie<'a> {
    let mut c = Cookie::new(name, value);
    c.set_path(path);
    c.set_http_only(http_only);
    c.set_same_site(SameSite::Strict);
    c.set_secure(state.settings.security.cookie_secure);
    c.set_max_age(actix_web::cookie::time::Duration::seconds(max_age_secs));
    c
}

fn session_cookies(state: &AppState, access: String, refresh: String, csrf: String) -> Vec<Cookie<'static>> {
    let s = &state.settings.security;
    vec![
        cookie(state, ACCESS_COOKIE, access, "/staff", true, s.staff_access_minutes * 60),
        cookie(state, REFRESH_COOKIE, refresh, "/staff", true, s.staff_refresh_hours * 3600),
        cookie(state, CSRF_COOKIE, csrf, "/staff", false, s.staff_refresh_hours * 3600),
    ]
}

fn cleared_cookies(state: &AppState) -> Vec<Cookie<'static>> {
    vec![
        cookie(state, ACCESS_COOKIE, String::new(), "/staff", true, 0),
        cookie(state, REFRESH_COOKIE, String::new(), "/staff", true, 0),
    ]
}

fn access_token(state: &AppState, s: &crate::db::models::Staff) -> Result<String, AppError> {
    let role = Role::parse(&s.role).ok_or_else(|| AppError::internal("bad role"))?;
    auth::issue_access(
        state.settings.security.jwt_key.expose_secret().as_bytes(),
        &s.id,
        role,
        s.token_version,
        chrono::Utc::now().timestamp(),
        state.settings.security.staff_access_minutes,
    )
    .map_err(AppError::internal)
}

// ------------------------------------------------------------ rendering

fn base_ctx(state: &AppState, id: Option<&StaffIdentity>, active: &str) -> serde_json::Value {
    json!({
        "bureau": "安溪县教育局",
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

fn merge(mut base: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    if let (Some(b), serde_json::Value::Object(e)) = (base.as_object_mut(), extra) {
        for (k, v) in e {
            b.insert(k, v);
        }
    }
    base
}

fn render(state: &AppState, name: &str, ctx: serde_json::Value) -> Result<HttpResponse, AppError> {
    let mut r = super::templates::render(&state.templates, name, minijinja::Value::from_serialize(&ctx))?;
    r.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(r)
}

fn with_status(mut r: HttpResponse, status: actix_web::http::StatusCode) -> HttpResponse {
    *r.status_mut() = status;
    r
}

// ------------------------------------------------------------ page errors

/// An error on a page: the same status and Chinese message as the API's
/// JSON error, as a short HTML page with a way back.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl actix_web::ResponseError for PageError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(detail) = &self.0 {
            tracing::error!(detail = %detail, "internal error");
        }
        let msg = self.0.public_message().replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let html = format!(
            "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{msg}</title></head>\
             <body style=\"font:15px/1.6 sans-serif;max-width:560px;margin:60px auto;color:#1f2328\">\
             <h1 style=\"font-size:18px\">{msg}</h1><p>错误代码：{}（{}）</p>\
             <p><a href=\"/staff\">返回工作平台首页</a></p></body></html>",
            self.0.status_code().as_u16(),
            self.0.code()
        );
        HttpResponse::build(self.0.status_code())
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(html)
    }
}

// ------------------------------------------------------------ login / logout

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

async fn home(id: StaffIdentity) -> Result<HttpResponse, PageError> {
    Ok(redirect(match id.who.role {
        Role::Reviewer => "/staff/review",
        Role::Auditor => "/staff/audit",
        Role::Admin | Role::Operator => "/staff/dashboard",
    }))
}

async fn login_page(state: web::Data<AppState>, req: HttpRequest, q: web::Query<NextQuery>) -> Result<HttpResponse, PageError> {
    Ok(login_render(&state, &req, q.next.as_deref(), None, "")?)
}

fn login_render(state: &AppState, req: &HttpRequest, next: Option<&str>, error: Option<&str>, username: &str) -> Result<HttpResponse, AppError> {
    // A fresh double-submit token for the login form itself (login CSRF).
    let csrf = req.cookie(CSRF_COOKIE).map(|c| c.value().to_string()).filter(|v| !v.is_empty()).unwrap_or_else(auth::random_token);
    let ctx = merge(base_ctx(state, None, "login"), json!({"csrf": csrf, "next": safe_next(next), "error": error, "username": username}));
    let mut r = render(state, "staff_login.html", ctx)?;
    let c = cookie(state, CSRF_COOKIE, csrf, "/staff", false, state.settings.security.staff_refresh_hours * 3600);
    r.add_cookie(&c).map_err(AppError::internal)?;
    if error.is_some() {
        r = with_status(r, actix_web::http::StatusCode::UNAUTHORIZED);
    }
    Ok(r)
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

async fn do_login(state: &AppState, username: String, password: String) -> Result<(crate::db::models::Staff, String), AppError> {
    if username.trim().is_empty() {
        return Err(AppError::invalid("username", "请输入用户名"));
    }
    if password.is_empty() {
        return Err(AppError::invalid("password", "请输入密码"));
    }
    if password.len() > 1024 || username.len() > 64 {
        return Err(AppError::invalid("password", "用户名或密码错误"));
    }
    let sec = state.settings.security.clone();
    let outcome = state
        .db
        .write(move |c| dbs::login(c, &username, &password, sec.max_failed_logins, sec.lockout_minutes, sec.staff_refresh_hours))
        .await?;
    match outcome {
        dbs::LoginOutcome::Success { staff, refresh } => Ok((staff, refresh)),
        dbs::LoginOutcome::BadCredentials => Err(AppError::Unauthorized),
        dbs::LoginOutcome::Locked => Err(AppError::Conflict {
            code: "locked",
            message: format!("登录失败次数过多，账号已暂时锁定，请 {} 分钟后再试", state.settings.security.lockout_minutes),
            field: Some("username".into()),
        }),
    }
}

/// Login attempts share the per-address limit of the public pages, so that
/// guessing passwords across many accounts is slow as well.
fn check_rate(state: &AppState, req: &HttpRequest) -> Result<(), AppError> {
    match req.peer_addr() {
        Some(addr) if !state.public_limiter.check(addr.ip()) => Err(AppError::TooManyRequests),
        _ => Ok(()),
    }
}

async fn login_form(state: web::Data<AppState>, req: HttpRequest, form: web::Form<LoginForm>) -> Result<HttpResponse, PageError> {
    let f = form.into_inner();
    check_csrf(&req, &f.csrf)?;
    check_rate(&state, &req)?;
    let username = f.username.clone();
    match do_login(&state, f.username, f.password).await {
        Ok((staff, refresh)) => {
            let access = access_token(&state, &staff)?;
            let mut r = redirect(&safe_next(f.next.as_deref()));
            for c in session_cookies(&state, access, refresh, auth::random_token()) {
                r.add_cookie(&c).map_err(AppError::internal)?;
            }
            Ok(r)
        }
        Err(AppError::Unauthorized) => Ok(login_render(&state, &req, f.next.as_deref(), Some("用户名或密码错误"), &username)?),
        Err(e @ (AppError::Conflict { .. } | AppError::Invalid { .. })) => {
            let msg = e.public_message();
            let r = login_render(&state, &req, f.next.as_deref(), Some(&msg), &username)?;
            Ok(with_status(r, actix_web::http::StatusCode::from_u16(if matches!(e, AppError::Conflict { .. }) { 423 } else { 422 }).unwrap_or_default()))
        }
        Err(e) => Err(e.into()),
    }
}

async fn refresh_page(state: web::Data<AppState>, req: HttpRequest, q: web::Query<NextQuery>) -> Result<HttpResponse, PageError> {
    let next = safe_next(q.next.as_deref());
    let Some(token) = req.cookie(REFRESH_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(redirect(&format!("/staff/login?next={}", encode_component(&next))));
    };
    let hours = state.settings.security.staff_refresh_hours;
    let rotated = state.db.write(move |c| dbs::rotate_refresh(c, &token, hours)).await?;
    match rotated {
        Some((staff, refresh)) => {
            let access = access_token(&state, &staff)?;
            let csrf = req.cookie(CSRF_COOKIE).map(|c| c.value().to_string()).filter(|v| !v.is_empty()).unwrap_or_else(auth::random_token);
            let mut r = redirect(&next);
            for c in session_cookies(&state, access, refresh, csrf) {
                r.add_cookie(&c).map_err(AppError::internal)?;
            }
            Ok(r)
        }
        None => {
            let mut r = redirect(&format!("/staff/login?next={}", encode_component(&next)));
            for c in cleared_cookies(&state) {
                r.add_cookie(&c).map_err(AppError::internal)?;
            }
            Ok(r)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout_form(state: web::Data<AppState>, req: HttpRequest, id: StaffIdentity, form: web::Form<CsrfForm>) -> Result<HttpResponse, PageError> {
    check_csrf(&req, &form.csrf)?;
    let sid = id.who.id.clone();
    state.db.write(move |c| dbs::logout(c, &sid)).await?;
    let mut r = redirect("/staff/login");
    for c in cleared_cookies(&state) {
        r.add_cookie(&c).map_err(AppError::internal)?;
    }
    Ok(r)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginJson {
    username: String,
    password: String,
}

async fn login_api(state: web::Data<AppState>, req: HttpRequest, body: web::Json<LoginJson>) -> Result<HttpResponse, AppError> {
    check_rate(&state, &req)?;
    let b = body.into_inner();
    let (staff, refresh) = do_login(&state, b.username, b.password).await?;
    let access = access_token(&state, &staff)?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(json!({
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": state.settings.security.staff_access_minutes * 60,
        "staff": dbs::view(&staff),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshJson {
    refresh_token: String,
}

async fn refresh_api(state: web::Data<AppState>, body: web::Json<RefreshJson>) -> Result<HttpResponse, AppError> {
    let token = body.into_inner().refresh_token;
    let hours = state.settings.security.staff_refresh_hours;
    let rotated = state.db.write(move |c| dbs::rotate_refresh(c, &token, hours)).await?;
    let Some((staff, refresh)) = rotated else { return Err(AppError::Unauthorized) };
    let access = access_token(&state, &staff)?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(json!({
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": state.settings.security.staff_access_minutes * 60,
    })))
}

async fn logout_api(state: web::Data<AppState>, id: StaffIdentity) -> Result<HttpResponse, AppError> {
    let sid = id.who.id.clone();
    state.db.write(move |c| dbs::logout(c, &sid)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn me_api(id: StaffIdentity) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(json!({
        "id": id.who.id,
        "username": id.who.username,
        "display_name": id.who.display_name,
        "role": id.who.role.as_str(),
        "township_scope": id.who.township_scope,
    })))
}

// ------------------------------------------------------------ passwords

#[derive(Debug, Deserialize)]
pub struct PasswordChange {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    csrf: String,
}

async fn change_password(state: &AppState, who: &Identity, current: String, new: String) -> Result<(), AppError> {
    auth::check_password_strength(&new).map_err(|m| AppError::invalid("new_password", m))?;
    let sid = who.id.clone();
    let actor = who.actor();
    let hash = web::block(move || auth::hash_password(&new)).await.map_err(AppError::internal)?.map_err(AppError::internal)?;
    state
        .db
        .write(move |c| {
            let s = dbs::by_id(c, &sid)?.ok_or(AppError::NotFound)?;
            if !auth::verify_password(&current, &s.password_hash) {
                return Err(AppError::invalid("current_password", "当前密码不正确"));
            }
            dbs::set_password(c, &actor, &sid, &hash, "staff.password_change")
        })
        .await
}

async fn password_page(state: web::Data<AppState>, id: StaffIdentity) -> Result<HttpResponse, PageError> {
    Ok(render(&state, "staff_password.html", merge(base_ctx(&state, Some(&id), "password"), json!({})))?)
}

async fn password_form(state: web::Data<AppState>, req: HttpRequest, id: StaffIdentity, form: web::Form<PasswordChange>) -> Result<HttpResponse, PageError> {
    let f = form.into_inner();
    check_csrf(&req, &f.csrf)?;
    match change_password(&state, &id.who, f.current_password, f.new_password).await {
        Ok(()) => {
            let mut r = redirect("/staff/login");
            for c in cleared_cookies(&state) {
                r.add_cookie(&c).map_err(AppError::internal)?;
            }
            Ok(r)
        }
        Err(e @ AppError::Invalid { .. }) => {
            let r = render(&state, "staff_password.html", merge(base_ctx(&state, Some(&id), "password"), json!({"error": e.public_message()})))?;
            Ok(with_status(r, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(e.into()),
    }
}

async fn password_api(state: web::Data<AppState>, id: StaffIdentity, body: web::Json<PasswordChange>) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    change_password(&state, &id.who, b.current_password, b.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ------------------------------------------------------------ review

fn fraud_cfg(state: &AppState) -> crate::review::fraud::Config {
    dbr::fraud_config(&state.settings)
}

/// The queue lists children's names: who looked at which page with which
/// filters is recorded in the audit log, like every other staff action.
async fn load_queue(state: &AppState, who: &Identity, f: QueueFilter) -> Result<dbr::Queue, AppError> {
    let who = who.clone();
    let cfg = fraud_cfg(state);
    state
        .db
        .write(move |c| {
            let q = dbr::queue(c, &who, &f, &cfg)?;
            crate::db::audit::append(
                c,
                &who.actor(),
                "review.queue_view",
                "review_queue",
                None,
                Some(&json!({"filter": f, "page": q.page, "rows": q.rows.len(), "total": q.total})),
            )?;
            Ok(q)
        })
        .await
}

async fn queue_api(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<QueueFilter>) -> Result<HttpResponse, AppError> {
    id.require(REVIEWERS)?;
    Ok(HttpResponse::Ok().json(load_queue(&state, &id.who, q.into_inner()).await?))
}

async fn queue_page(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<QueueFilter>) -> Result<HttpResponse, PageError> {
    id.require(REVIEWERS)?;
    let f = q.into_inner();
    let queue = load_queue(&state, &id.who, f.clone()).await;
    let (queue, error) = match queue {
        Ok(q) => (Some(q), None),
        Err(e @ AppError::Invalid { .. }) => (None, Some(e.public_message())),
        Err(e) => return Err(e.into()),
    };
    let who = id.who.clone();
    let (campaigns, schools, townships) = state
        .db
        .run(move |c| {
            use crate::db::schema::{schools, townships, zones};
            use diesel::prelude::*;
            let campaigns: Vec<(String, String)> = dbr::campaigns_list(c)?.into_iter().map(|k| (k.id, k.name)).collect();
            let mut targets: Vec<(String, String)> = schools::table.order(schools::id.asc()).select((schools::id, schools::name)).load(c)?;
            let z: Vec<(String, String)> = zones::table.order(zones::id.asc()).select((zones::id, zones::name)).load(c)?;
            targets.extend(z.into_iter().map(|(id, n)| (id, format!("{n}（片区）"))));
            let t: Vec<(String, String)> = townships::table.order(townships::id.asc()).select((townships::id, townships::name)).load(c)?;
            let t: Vec<String> = t.into_iter().filter(|(id, _)| who.role == Role::Admin || who.township_scope.contains(id)).map(|(_, n)| n).collect();
            Ok((campaigns, targets, t))
        })
        .await?;
    let qs = serde_urlencoded_filter(&f);
    let ctx = merge(
        base_ctx(&state, Some(&id), "review"),
        json!({
            "queue": queue,
            "error": error,
            "filter": f,
            "filter_qs": qs,
            "campaigns": campaigns,
            "schools": schools,
            "scope": townships,
            "statuses": crate::db::models::APPLICATION_STATUSES,
            "signal_kinds": crate::review::fraud::SIGNAL_KINDS,
            "categories": [("A","房户一致"),("B","户籍在片区"),("C","房产在片区"),("D","随迁子女"),("E","其他"),("CARE","政策性照顾")],
        }),
    );
    Ok(render(&state, "staff_queue.html", ctx)?)
}

/// The filter as a query string without the page, for pagination links.
fn serde_urlencoded_filter(f: &QueueFilter) -> String {
    let mut parts = Vec::new();
    for (k, v) in [("campaign", &f.campaign), ("school", &f.school), ("category", &f.category), ("status", &f.status), ("signal", &f.signal)] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            parts.push(format!("{k}={}", encode_component(v)));
        }
    }
    parts.join("&")
}

async fn load_detail(state: &AppState, who: &Identity, app_id: String) -> Result<dbr::Detail, AppError> {
    let who = who.clone();
    let cipher = crate::identity::IdCipher::new(&state.settings.id_key());
    let cfg = fraud_cfg(state);
    state.db.write(move |c| dbr::detail(c, &who, &app_id, &cipher, &cfg)).await
}

async fn detail_api(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    id.require(REVIEWERS)?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(load_detail(&state, &id.who, path.into_inner()).await?))
}

fn detail_ctx(state: &AppState, id: &StaffIdentity, d: &dbr::Detail, error: Option<String>, notice: Option<&str>) -> serde_json::Value {
    let today = crate::db::beijing(crate::db::now()) + chrono::Duration::days(7);
    merge(
        base_ctx(state, Some(id), "review"),
        json!({
            "app": d,
            "facts_rows": serde_json::from_value::<crate::policy::ApplicantFacts>(d.facts.clone()).map(|f| crate::review::facts_rows(&f)).unwrap_or_default(),
            "facts_pretty": serde_json::to_string_pretty(&d.facts).unwrap_or_default(),
            "reasons": crate::review::REJECT_REASONS,
            "default_deadline": today.format("%Y-%m-%dT18:00").to_string(),
            "error": error,
            "notice": notice,
            "my_id": id.who.id,
        }),
    )
}

#[derive(Debug, Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    done: Option<String>,
}

async fn detail_page(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, q: web::Query<NoticeQuery>) -> Result<HttpResponse, PageError> {
    id.require(REVIEWERS)?;
    let d = load_detail(&state, &id.who, path.into_inner()).await?;
    let notice = match q.done.as_deref() {
        Some("approve") => Some("已审核通过"),
        Some("approve_pending") => Some("已提交改判，等待另一名工作人员复核"),
        Some("reject") => Some("已驳回"),
        Some("supplement") => Some("已要求补充材料，并通知监护人"),
        Some("note") => Some("已添加备注"),
        Some("second") => Some("复核意见已记录"),
        _ => None,
    };
    Ok(render(&state, "staff_application.html", detail_ctx(&state, &id, &d, None, notice))?)
}

/// A decision as posted by the page form or the API.
#[derive(Debug, Deserialize)]
pub struct DecisionInput {
    /// `approve`, `reject`, `supplement` or `note`.
    #[serde(alias = "action")]
    decision: String,
    #[serde(default)]
    school_id: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    reason_code: Option<String>,
    #[serde(default)]
    note: Option<String>,
    /// `YYYY-MM-DDTHH:MM`, `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD` (18:00).
    #[serde(default)]
    deadline: Option<String>,
    #[serde(default)]
    version: Option<i32>,
    #[serde(default)]
    csrf: Option<String>,
}

/// A deadline as a reviewer types it, in Beijing time; returned in UTC.
fn parse_deadline(s: Option<&str>) -> Result<chrono::NaiveDateTime, AppError> {
    parse_beijing(s).map(crate::db::from_beijing)
}

fn parse_beijing(s: Option<&str>) -> Result<chrono::NaiveDateTime, AppError> {
    let s = s.map(str::trim).unwrap_or("");
    if s.is_empty() {
        return Err(AppError::invalid("deadline", "请填写补充材料截止时间"));
    }
    for f in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return Ok(t);
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if let Some(t) = d.and_hms_opt(18, 0, 0) {
            return Ok(t);
        }
    }
    Err(AppError::invalid("deadline", "截止时间格式应为 2027-07-20 18:00"))
}

fn to_request(i: &DecisionInput) -> Result<DecisionRequest, AppError> {
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    Ok(match i.decision.as_str() {
        "approve" => DecisionRequest::Approve { school_id: i.school_id.clone(), category: i.category.clone(), reason: s(&i.reason) },
        "reject" => DecisionRequest::Reject { reason_code: s(&i.reason_code), note: s(&i.note) },
        "supplement" => DecisionRequest::Supplement { deadline: parse_deadline(i.deadline.as_deref())?, note: s(&i.note) },
        "note" => DecisionRequest::Note { note: s(&i.note) },
        _ => return Err(AppError::invalid("decision", "决定只能是通过、驳回、补充材料或备注")),
    })
}

async fn run_decision(state: &AppState, who: &Identity, app_id: String, input: &DecisionInput) -> Result<dbr::DecisionResult, AppError> {
    let req = to_request(input)?;
    let who = who.clone();
    let version = input.version;
    state.db.write(move |c| dbr::decide(c, &who, &app_id, &req, version)).await
}

async fn decide_api(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, body: web::Json<DecisionInput>) -> Result<HttpResponse, AppError> {
    id.require(REVIEWERS)?;
    let r = run_decision(&state, &id.who, path.into_inner(), &body).await?;
    Ok(HttpResponse::Ok().json(r))
}

async fn decide_form(state: web::Data<AppState>, req: HttpRequest, id: StaffIdentity, path: web::Path<String>, form: web::Form<DecisionInput>) -> Result<HttpResponse, PageError> {
    check_csrf(&req, form.csrf.as_deref().unwrap_or(""))?;
    id.require(REVIEWERS)?;
    let app_id = path.into_inner();
    match run_decision(&state, &id.who, app_id.clone(), &form).await {
        Ok(r) => {
            let done = if r.needs_second { "approve_pending" } else { r.decision };
            Ok(redirect(&format!("/staff/review/{}?done={done}", encode_component(&app_id))))
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            let status = if matches!(e, AppError::Invalid { .. }) { 422 } else { 409 };
            let d = load_detail(&state, &id.who, app_id).await?;
            let r = render(&state, "staff_application.html", detail_ctx(&state, &id, &d, Some(e.public_message()), None))?;
            Ok(with_status(r, actix_web::http::StatusCode::from_u16(status).unwrap_or_default()))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct SecondInput {
    agree: Option<serde_json::Value>,
}

fn agree_of(v: &Option<serde_json::Value>) -> Result<bool, AppError> {
    match v {
        Some(serde_json::Value::Bool(b)) => Ok(*b),
        Some(serde_json::Value::String(s)) if s == "1" || s == "true" => Ok(true),
        Some(serde_json::Value::String(s)) if s == "0" || s == "false" => Ok(false),
        _ => Err(AppError::invalid("agree", "请选择同意或不同意")),
    }
}

async fn run_second(state: &AppState, who: &Identity, decision_id: String, agree: bool) -> Result<dbr::DecisionResult, AppError> {
    let who = who.clone();
    state.db.write(move |c| dbr::second(c, &who, &decision_id, agree)).await
}

async fn second_api(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, body: web::Json<SecondInput>) -> Result<HttpResponse, AppError> {
    id.require(REVIEWERS)?;
    let agree = agree_of(&body.agree)?;
    Ok(HttpResponse::Ok().json(run_second(&state, &id.who, path.into_inner(), agree).await?))
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

async fn second_form(state: web::Data<AppState>, req: HttpRequest, id: StaffIdentity, path: web::Path<String>, form: web::Form<SecondForm>) -> Result<HttpResponse, PageError> {
    check_csrf(&req, &form.csrf)?;
    id.require(REVIEWERS)?;
    let agree = agree_of(&Some(serde_json::Value::String(form.agree.clone())))?;
    run_second(&state, &id.who, path.into_inner(), agree).await?;
    Ok(redirect(&format!("/staff/review/{}?done=second", encode_component(&form.application))))
}

// ------------------------------------------------------------ documents

async fn serve_document(state: &AppState, who: &Identity, doc_id: String) -> Result<HttpResponse, AppError> {
    let who = who.clone();
    let doc = state.db.write(move |c| dbr::document(c, &who, &doc_id)).await?;
    let name = &doc.content_hash;
    let valid = name.len() >= 64
        && name[..64].chars().all(|c| c.is_ascii_hexdigit())
        && matches!(&name[64..], "" | ".jpg" | ".png" | ".pdf");
    if !valid {
        return Err(AppError::NotFound);
    }
    let (mime, ext) = match doc.mime.as_str() {
        "image/jpeg" => ("image/jpeg", ".jpg"),
        "image/png" => ("image/png", ".png"),
        "application/pdf" => ("application/pdf", ".pdf"),
        _ => ("application/octet-stream", ""),
    };
    let dir = state.settings.uploads.dir.clone();
    let mut candidates = vec![dir.join(name)];
    if name.len() == 64 {
        candidates.push(dir.join(format!("{name}{ext}")));
    }
    let bytes = web::block(move || candidates.iter().find_map(|p| std::fs::read(p).ok())).await.map_err(AppError::internal)?;
    let Some(bytes) = bytes else { return Err(AppError::NotFound) };
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header((header::CONTENT_DISPOSITION, format!("inline; filename=\"{}{ext}\"", doc.kind)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

async fn document_api(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    id.require(REVIEWERS)?;
    serve_document(&state, &id.who, path.into_inner()).await
}

async fn document_page(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>) -> Result<HttpResponse, PageError> {
    id.require(REVIEWERS)?;
    Ok(serve_document(&state, &id.who, path.into_inner()).await?)
}

// ------------------------------------------------------------ dashboard

#[derive(Debug, Deserialize)]
pub struct CampaignQuery {
    #[serde(default)]
    campaign: Option<String>,
}

async fn load_dashboard(state: &AppState, campaign: Option<String>) -> Result<(dbr::Dashboard, Vec<(String, String)>), AppError> {
    let settings = state.settings.clone();
    state
        .db
        .run(move |c| {
            let all: Vec<(String, String)> = dbr::campaigns_list(c)?.into_iter().map(|k| (k.id, k.name)).collect();
            let chosen = match campaign.filter(|s| !s.trim().is_empty()) {
                Some(id) => id,
                None => all.first().map(|(id, _)| id.clone()).ok_or_else(|| AppError::invalid("campaign", "还没有招生计划"))?,
            };
            Ok((dbr::dashboard(c, &chosen, &settings)?, all))
        })
        .await
}

async fn dashboard_api(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<CampaignQuery>) -> Result<HttpResponse, AppError> {
    id.require(EVERYONE)?;
    let (d, _) = load_dashboard(&state, q.into_inner().campaign).await?;
    Ok(HttpResponse::Ok().json(json!({
        "campaign_id": d.campaign_id,
        "campaign_name": d.campaign_name,
        "status": d.status,
        "summary": d.summary,
        "phases": d.phases,
    })))
}

async fn dashboard_page(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<CampaignQuery>) -> Result<HttpResponse, PageError> {
    id.require(EVERYONE)?;
    let (d, all) = load_dashboard(&state, q.into_inner().campaign).await?;
    let exports: Vec<(&str, &str)> = dbr::EXPORT_KINDS
        .iter()
        .filter(|(k, _)| export_roles(k).map(|r| id.who.is(r)).unwrap_or(false))
        .copied()
        .collect();
    let ctx = merge(base_ctx(&state, Some(&id), "dashboard"), json!({"d": d, "campaigns": all, "exports": exports}));
    Ok(render(&state, "staff_dashboard.html", ctx)?)
}

// ------------------------------------------------------------ policy dry run

#[derive(Debug, Deserialize)]
pub struct DryRunQuery {
    #[serde(default)]
    campaign: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

/// Runs the dry run; CSV downloads are recorded in the audit log like every export.
async fn load_dry_run(
    state: &AppState,
    id: &StaffIdentity,
    q: DryRunQuery,
) -> Result<(crate::db::policy::DryRun, Vec<(String, String)>), AppError> {
    id.require(DRY_RUN)?;
    let format = q.format.filter(|f| !f.is_empty());
    match format.as_deref() {
        None | Some("csv") => {}
        Some("placement_csv") => id.require(PLACEMENT)?,
        Some(_) => return Err(AppError::invalid("format", "格式只能是 csv 或 placement_csv")),
    }
    let actor = id.who.actor();
    state
        .db
        .write(move |c| {
            let all: Vec<(String, String)> = dbr::campaigns_list(c)?.into_iter().map(|k| (k.id, k.name)).collect();
            let chosen = match q.campaign.filter(|s| !s.trim().is_empty()) {
                Some(id) => id,
                None => all.first().map(|(id, _)| id.clone()).ok_or_else(|| AppError::invalid("campaign", "还没有招生计划"))?,
            };
            let run = crate::db::policy::dry_run(c, &chosen).map_err(|e| match e {
                AppError::NotFound => AppError::invalid("campaign", "没有这个招生计划"),
                other => other,
            })?;
            if let Some(f) = &format {
                crate::db::audit::append(
                    c,
                    &actor,
                    "export.dry_run",
                    &format!("campaign:{chosen}"),
                    None,
                    Some(&json!({"format": f, "schools": run.report.schools.len(), "counted": run.counted})),
                )?;
            }
            Ok((run, all))
        })
        .await
}

fn dry_run_csv(run: &crate::db::policy::DryRun, format: &str) -> HttpResponse {
    let (body, name) = if format == "placement_csv" {
        (crate::policy::placement_csv(&run.report), "placement")
    } else {
        (crate::policy::dry_run_csv(&run.report), "dry-run")
    };
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}-{name}.csv\"", run.campaign_id)))
        .body(body)
}

async fn dry_run_api(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<DryRunQuery>) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let format = q.format.clone().filter(|f| !f.is_empty());
    let (run, _) = load_dry_run(&state, &id, q).await?;
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

async fn dry_run_page(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<DryRunQuery>) -> Result<HttpResponse, PageError> {
    let q = q.into_inner();
    let format = q.format.clone().filter(|f| !f.is_empty());
    let (run, all) = load_dry_run(&state, &id, q).await?;
    if let Some(f) = format {
        return Ok(dry_run_csv(&run, &f));
    }
    let chart = crate::review::charts::dry_run_chart(&run.report);
    let ctx = merge(
        base_ctx(&state, Some(&id), "dry_run"),
        json!({"run": run, "campaigns": all, "chart": chart, "can_see_placement": id.who.is(PLACEMENT)}),
    );
    Ok(render(&state, "staff_dry_run.html", ctx)?)
}

// ------------------------------------------------------------ exports

#[derive(Debug, Deserialize)]
pub struct FormatQuery {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    page: Option<i64>,
}

async fn export(state: &AppState, id: &StaffIdentity, kind: String, format: Option<String>) -> Result<HttpResponse, AppError> {
    let roles = export_roles(&kind).ok_or(AppError::NotFound)?;
    id.require(roles)?;
    let format = format.unwrap_or_else(|| "csv".into());
    if format != "csv" && format != "xlsx" {
        return Err(AppError::invalid("format", "格式只能是 csv 或 xlsx"));
    }
    let who = id.who.clone();
    let cipher = crate::identity::IdCipher::new(&state.settings.id_key());
    let (k, f) = (kind.clone(), format.clone());
    let table = state.db.write(move |c| dbr::export(c, &who, &k, &f, &cipher)).await?;
    let (bytes, mime) = if format == "csv" {
        (crate::review::export::to_csv(&table).map_err(AppError::internal)?, "text/csv; charset=utf-8")
    } else {
        (
            web::block(move || crate::review::export::to_xlsx(&table)).await.map_err(AppError::internal)?.map_err(AppError::internal)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    };
    let stamp = crate::db::now().format("%Y%m%d-%H%M%S");
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"ruxue-{kind}-{stamp}.{format}\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

async fn export_api(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, q: web::Query<FormatQuery>) -> Result<HttpResponse, AppError> {
    export(&state, &id, path.into_inner(), q.into_inner().format).await
}

async fn export_page(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, q: web::Query<FormatQuery>) -> Result<HttpResponse, PageError> {
    Ok(export(&state, &id, path.into_inner(), q.into_inner().format).await?)
}

// ------------------------------------------------------------ audit

async fn audit_api(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<FormatQuery>) -> Result<HttpResponse, AppError> {
    id.require(AUDIT)?;
    let page = q.page;
    let p = state.db.run(move |c| dbr::audit_page(c, page)).await?;
    Ok(HttpResponse::Ok().json(p))
}

async fn audit_page(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<FormatQuery>) -> Result<HttpResponse, PageError> {
    id.require(AUDIT)?;
    let page = q.page;
    let p = state.db.run(move |c| dbr::audit_page(c, page)).await?;
    Ok(render(&state, "staff_audit.html", merge(base_ctx(&state, Some(&id), "audit"), json!({"a": p})))?)
}

async fn audit_export(state: &AppState, id: &StaffIdentity, format: Option<String>) -> Result<HttpResponse, AppError> {
    id.require(AUDIT)?;
    let format = format.unwrap_or_else(|| "jsonl".into());
    if format != "csv" && format != "jsonl" {
        return Err(AppError::invalid("format", "格式只能是 csv 或 jsonl"));
    }
    let who = id.who.clone();
    let f = format.clone();
    let entries = state.db.write(move |c| dbr::audit_all(c, &who, &f)).await?;
    let (body, mime) = if format == "jsonl" {
        let mut s = String::new();
        for e in &entries {
            s.push_str(&serde_json::to_string(e).map_err(AppError::internal)?);
            s.push('\n');
        }
        (s.into_bytes(), "application/x-ndjson; charset=utf-8")
    } else {
        let mut t = crate::review::export::Table::new("审计日志", &["seq", "at", "actor", "action", "target", "before", "after", "prev_hash", "hash"]);
        for e in entries {
            t.push(vec![
                e.seq.to_string(),
                e.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
                e.actor,
                e.action,
                e.target,
                e.before_json.unwrap_or_default(),
                e.after_json.unwrap_or_default(),
                e.prev_hash,
                e.hash,
            ]);
        }
        (crate::review::export::to_csv(&t).map_err(AppError::internal)?, "text/csv; charset=utf-8")
    };
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"ruxue-audit.{format}\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

async fn audit_export_api(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<FormatQuery>) -> Result<HttpResponse, AppError> {
    audit_export(&state, &id, q.into_inner().format).await
}

async fn audit_export_page(state: web::Data<AppState>, id: StaffIdentity, q: web::Query<FormatQuery>) -> Result<HttpResponse, PageError> {
    Ok(audit_export(&state, &id, q.into_inner().format).await?)
}

// ------------------------------------------------------------ accounts (admin)

#[derive(Debug, Deserialize)]
pub struct NewAccount {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    /// JSON list for the API; the form sends one comma-separated string.
    #[serde(default)]
    township_scope: Option<serde_json::Value>,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

fn scope_list(v: &Option<serde_json::Value>) -> Result<Vec<String>, AppError> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(serde_json::Value::String(s)) => Ok(s.split([',', '，', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().map(str::to_string).ok_or_else(|| AppError::invalid("township_scope", "乡镇编号须为文字")))
            .collect(),
        _ => Err(AppError::invalid("township_scope", "乡镇编号格式不正确")),
    }
}

async fn create_account(state: &AppState, who: &Identity, a: NewAccount) -> Result<dbs::StaffView, AppError> {
    let scope = scope_list(&a.township_scope)?;
    let n = dbs::validate_new(&a.username, &a.display_name, &a.role, &scope, &a.password)?;
    let pw = a.password;
    let hash = web::block(move || auth::hash_password(&pw)).await.map_err(AppError::internal)?.map_err(AppError::internal)?;
    let actor = who.actor();
    let s = state.db.write(move |c| dbs::create(c, &actor, &n, &hash)).await?;
    Ok(dbs::view(&s))
}

#[derive(Debug, Deserialize)]
pub struct ResetPassword {
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn reset_account(state: &AppState, who: &Identity, staff_id: String, pw: String) -> Result<(), AppError> {
    auth::check_password_strength(&pw).map_err(|m| AppError::invalid("password", m))?;
    let hash = web::block(move || auth::hash_password(&pw)).await.map_err(AppError::internal)?.map_err(AppError::internal)?;
    let actor = who.actor();
    state.db.write(move |c| dbs::set_password(c, &actor, &staff_id, &hash, "staff.password_reset")).await
}

async fn accounts_api(state: web::Data<AppState>, id: StaffIdentity) -> Result<HttpResponse, AppError> {
    id.require(ADMIN)?;
    let list = state.db.run(dbs::list).await?;
    Ok(HttpResponse::Ok().json(list.iter().map(dbs::view).collect::<Vec<_>>()))
}

async fn accounts_create_api(state: web::Data<AppState>, id: StaffIdentity, body: web::Json<NewAccount>) -> Result<HttpResponse, AppError> {
    id.require(ADMIN)?;
    let v = create_account(&state, &id.who, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(v))
}

async fn accounts_reset_api(state: web::Data<AppState>, id: StaffIdentity, path: web::Path<String>, body: web::Json<ResetPassword>) -> Result<HttpResponse, AppError> {
    id.require(ADMIN)?;
    reset_account(&state, &id.who, path.into_inner(), body.into_inner().password).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn accounts_render(state: &AppState, id: &StaffIdentity, error: Option<String>, notice: Option<&str>) -> Result<HttpResponse, AppError> {
    let (list, townships) = state
        .db
        .run(|c| {
            use crate::db::schema::townships;
            use diesel::prelude::*;
            let t: Vec<(String, String)> = townships::table.order(townships::id.asc()).select((townships::id, townships::name)).load(c)?;
            Ok((dbs::list(c)?, t))
        })
        .await?;
    let views: Vec<dbs::StaffView> = list.iter().map(dbs::view).collect();
    let roles: Vec<(&str, &str)> = Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect();
    render(state, "staff_accounts.html", merge(base_ctx(state, Some(id), "accounts"), json!({"staff": views, "townships": townships, "roles": roles, "error": error, "notice": notice})))
}

async fn accounts_page(state: web::Data<AppState>, id: StaffIdentity) -> Result<HttpResponse, PageError> {
    id.require(ADMIN)?;
    Ok(accounts_render(&state, &id, None, None).await?)
}

async fn accounts_create_form(state: web::Data<AppState>, req: HttpRequest, id: StaffIdentity, form: web::Form<NewAccount>) -> Result<HttpResponse, PageError> {
    check_csrf(&req, &form.csrf)?;
    id.require(ADMIN)?;
    match create_account(&state, &id.who, form.into_inner()).await {
        Ok(_) => Ok(accounts_render(&state, &id, None, Some("账号已创建")).await?),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            let r = accounts_render(&state, &id, Some(e.public_message()), None).await?;
            Ok(with_status(r, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(e.into()),
    }
}

async fn accounts_reset_form(state: web::Data<AppState>, req: HttpRequest, id: StaffIdentity, path: web::Path<String>, form: web::Form<ResetPassword>) -> Result<HttpResponse, PageError> {
    check_csrf(&req, &form.csrf)?;
    id.require(ADMIN)?;
    match reset_account(&state, &id.who, path.into_inner(), form.into_inner().password).await {
        Ok(()) => Ok(accounts_render(&state, &id, None, Some("密码已重置，该账号需重新登录")).await?),
        Err(e @ AppError::Invalid { .. }) => {
            let r = accounts_render(&state, &id, Some(e.public_message()), None).await?;
            Ok(with_status(r, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(e.into()),
    }
}
