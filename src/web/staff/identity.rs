//! The [`StaffIdentity`] extractor and the staff session cookies.

use crate::domain::Role;
use crate::error::AppError;
use crate::staff::{auth, Identity};
use crate::web::auth::{bearer, cookie, cookie_value, is_api, CookieSpec};
use crate::web::AppState;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use secrecy::ExposeSecret;

pub const ACCESS_COOKIE: &str = "ruxue_staff_at";
pub const REFRESH_COOKIE: &str = "ruxue_staff_rt";
pub const CSRF_COOKIE: &str = "ruxue_csrf";

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

/// Only local paths under /staff may be a `next`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/staff") && !n.contains("//") && !n.contains('\\') && !n.starts_with("/staff/login") => n.to_string(),
        _ => "/staff".to_string(),
    }
}

pub fn encode_component(s: &str) -> String {
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

pub fn redirect(to: &str) -> HttpResponse {
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
    let to = if req.cookie(REFRESH_COOKIE).is_some() { format!("/staff/refresh?next={next}") } else { format!("/staff/login?next={next}") };
    actix_web::error::InternalError::from_response("login required", redirect(&to)).into()
}

impl FromRequest for StaffIdentity {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req.app_data::<web::Data<AppState>>().cloned().ok_or_else(|| AppError::internal("no state"))?;
            let token = if is_api(&req) { bearer(&req) } else { cookie_value(&req, ACCESS_COOKIE) };
            let Some(token) = token else { return Err(unauthenticated(&req)) };
            let key = state.settings.security.jwt_key.expose_secret().as_bytes().to_vec();
            let Ok(claims) = auth::verify_access(&key, &token) else { return Err(unauthenticated(&req)) };
            let Some(who) = crate::service::staff::identity(&state.ctx, &claims).await? else { return Err(unauthenticated(&req)) };
            let csrf = if is_api(&req) { String::new() } else { cookie_value(&req, CSRF_COOKIE).unwrap_or_default() };
            Ok(StaffIdentity { who, csrf })
        })
    }
}

/// The double-submit check of a staff form.
pub fn check_csrf(req: &HttpRequest, field: &str) -> Result<(), AppError> {
    crate::web::auth::check_csrf(&cookie_value(req, CSRF_COOKIE).unwrap_or_default(), field)
}

fn staff_cookie(state: &AppState, name: &'static str, value: String, http_only: bool, max_age_secs: i64) -> Cookie<'static> {
    let spec =
        CookieSpec { path: "/staff", http_only, same_site: SameSite::Strict, secure: state.settings.security.cookie_secure, max_age_secs };
    cookie(name, value, &spec)
}

/// The login form's own CSRF cookie (login CSRF).
pub fn csrf_cookie(state: &AppState, csrf: String) -> Cookie<'static> {
    staff_cookie(state, CSRF_COOKIE, csrf, false, state.settings.security.staff_refresh_hours * 3600)
}

pub fn session_cookies(state: &AppState, access: String, refresh: String, csrf: String) -> Vec<Cookie<'static>> {
    let s = &state.settings.security;
    vec![
        staff_cookie(state, ACCESS_COOKIE, access, true, s.staff_access_minutes * 60),
        staff_cookie(state, REFRESH_COOKIE, refresh, true, s.staff_refresh_hours * 3600),
        csrf_cookie(state, csrf),
    ]
}

pub fn cleared_cookies(state: &AppState) -> Vec<Cookie<'static>> {
    vec![staff_cookie(state, ACCESS_COOKIE, String::new(), true, 0), staff_cookie(state, REFRESH_COOKIE, String::new(), true, 0)]
}
