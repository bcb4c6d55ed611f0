//! Guardian login and sessions: WeChat web OAuth (`snsapi_base`), the
//! development login, the session cookie and its sliding renewal, the
//! [`GuardianSession`] extractor and CSRF checks.

use super::{message_page, render_page};
use crate::db::models::Guardian;
use crate::error::AppError;
use crate::registration::session::{self, GuardianClaims};
use crate::registration::wechat::{self, WechatError};
use crate::web::auth::CookieSpec;
use crate::web::AppState;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use secrecy::ExposeSecret;
use serde::Deserialize;

pub const SESSION_COOKIE: &str = "ruxue_session";
pub const STATE_COOKIE: &str = "ruxue_oauth_state";

fn jwt_key(state: &AppState) -> Vec<u8> {
    state.settings.security.jwt_key.expose_secret().as_bytes().to_vec()
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The logged-in guardian, from the session cookie or `Authorization: Bearer`.
#[derive(Debug, Clone)]
pub struct GuardianSession {
    pub guardian: Guardian,
    pub claims: GuardianClaims,
    /// True when the token came in an `Authorization` header (no CSRF needed:
    /// browsers never attach it on their own).
    pub bearer: bool,
}

impl GuardianSession {
    pub fn id(&self) -> &str {
        &self.guardian.id
    }
    /// Checks the CSRF token of a cookie-authenticated form or API call.
    pub fn check_csrf(&self, token: &str) -> Result<(), AppError> {
        if self.bearer {
            return Ok(());
        }
        crate::web::auth::check_csrf(&self.claims.csrf, token)
    }
    /// True when the guardian has filled in name, relation and mobile.
    pub fn profile_complete(&self) -> bool {
        !self.guardian.name.is_empty() && !self.guardian.phone.is_empty()
    }
}

/// A renewed session cookie the middleware puts on the response.
#[derive(Clone)]
struct RenewedSession(Cookie<'static>);

/// The guardian's session cookie: HttpOnly, SameSite=Lax (the OAuth
/// callback is a top-level navigation from WeChat), Secure when configured.
fn guardian_cookie(state: &AppState, name: &'static str, path: &'static str, value: String, max_age_secs: i64) -> Cookie<'static> {
    let spec = CookieSpec { path, http_only: true, same_site: SameSite::Lax, secure: state.settings.security.cookie_secure, max_age_secs };
    crate::web::auth::cookie(name, value, &spec)
}

pub fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    guardian_cookie(state, SESSION_COOKIE, "/", token, state.settings.security.session_minutes.max(1) * 60)
}

fn expired_cookie(state: &AppState, name: &'static str, path: &'static str) -> Cookie<'static> {
    guardian_cookie(state, name, path, String::new(), 0)
}

fn unauthenticated(req: &HttpRequest) -> actix_web::Error {
    if crate::web::auth::is_api(req) {
        AppError::Unauthorized.into()
    } else {
        let resp = HttpResponse::SeeOther().insert_header((header::LOCATION, "/parent?login=1")).finish();
        actix_web::error::InternalError::from_response("login required", resp).into()
    }
}

impl FromRequest for GuardianSession {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state =
                req.app_data::<web::Data<AppState>>().cloned().ok_or_else(|| actix_web::Error::from(AppError::internal("no state")))?;
            let bearer = crate::web::auth::bearer(&req);
            let (token, is_bearer) = match bearer {
                Some(t) => (t, true),
                None => match req.cookie(SESSION_COOKIE) {
                    Some(c) => (c.value().to_string(), false),
                    None => return Err(unauthenticated(&req)),
                },
            };
            let key = jwt_key(&state);
            let claims = session::verify(&key, &token).map_err(|_| unauthenticated(&req))?;
            let guardian = crate::service::registration::guardian(&state.ctx, &claims.sub).await?.ok_or_else(|| unauthenticated(&req))?;
            let minutes = state.settings.security.session_minutes;
            let now = unix_now();
            if !is_bearer && session::needs_renewal(&claims, now, minutes) {
                let fresh = session::issue(&key, &guardian.id, &claims.csrf, now, minutes);
                req.extensions_mut().insert(RenewedSession(session_cookie(&state, fresh)));
            }
            Ok(GuardianSession { guardian, claims, bearer: is_bearer })
        })
    }
}

/// Middleware for the guardian scopes: puts a renewed session cookie on the response.
pub async fn renew_session(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let renewed = res.request().extensions().get::<RenewedSession>().cloned();
    if let Some(RenewedSession(c)) = renewed {
        // A response that logs out (or in) sets its own cookie; keep that one.
        let sets_session = res.response().cookies().any(|k| k.name() == SESSION_COOKIE);
        if !sets_session {
            res.response_mut().add_cookie(&c)?;
        }
    }
    Ok(res)
}

/// Logs the guardian in: a fresh session (and CSRF token) cookie, then `to`.
pub fn login_response(state: &AppState, guardian_id: &str, to: &str) -> HttpResponse {
    let token = session::issue(&jwt_key(state), guardian_id, &session::random_token(), unix_now(), state.settings.security.session_minutes);
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(session_cookie(state, token))
        .cookie(expired_cookie(state, STATE_COOKIE, "/parent"))
        .finish()
}

/// `GET /parent/login`: to WeChat's authorise page, with a state bound to this browser.
pub async fn wechat_login(state: web::Data<AppState>) -> HttpResponse {
    let (cookie_value, st) = session::issue_state(&jwt_key(&state), unix_now());
    let redirect_uri = format!("{}/parent/wechat/callback", state.settings.server.base_url.trim_end_matches('/'));
    let url = wechat::authorize_url(&state.settings.wechat.authorize_base, &state.settings.wechat.app_id, &redirect_uri, &st);
    let cookie = guardian_cookie(&state, STATE_COOKIE, "/parent", cookie_value, session::STATE_SECONDS);
    HttpResponse::Found().insert_header((header::LOCATION, url)).insert_header((header::CACHE_CONTROL, "no-store")).cookie(cookie).finish()
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
}

fn login_failed(state: &AppState, err: &WechatError) -> Result<HttpResponse, AppError> {
    let status = match err {
        WechatError::BadState | WechatError::Denied => actix_web::http::StatusCode::BAD_REQUEST,
        WechatError::Timeout | WechatError::Unreachable => actix_web::http::StatusCode::GATEWAY_TIMEOUT,
        _ => actix_web::http::StatusCode::UNAUTHORIZED,
    };
    let mut resp = message_page(state, status, "未能登录", &err.to_string(), Some(("/parent/login", "重新登录")))?;
    // Whatever happened, this state is spent.
    resp.add_cookie(&expired_cookie(state, STATE_COOKIE, "/parent")).map_err(AppError::internal)?;
    Ok(resp)
}

/// `GET /parent/wechat/callback?code&state`.
pub async fn wechat_callback(state: web::Data<AppState>, req: HttpRequest, q: web::Query<CallbackQuery>) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let st = q.state.unwrap_or_default();
    let cookie = req.cookie(STATE_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    if st.is_empty() || cookie.is_empty() || !session::check_state(&jwt_key(&state), &cookie, &st) {
        return login_failed(&state, &WechatError::BadState);
    }
    let code = match q.code.map(|c| c.trim().to_string()).filter(|c| !c.is_empty() && c.len() <= 512) {
        Some(c) => c,
        None => return login_failed(&state, &WechatError::Denied),
    };
    let who = match crate::service::wechat::exchange_code(&state.ctx, &code).await {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(
                reason = e.kind(),
                errcode = match &e {
                    WechatError::Api { errcode, .. } => *errcode,
                    _ => 0,
                },
                "wechat login refused"
            );
            return login_failed(&state, &e);
        }
    };
    let guardian = crate::service::registration::guardian_for_openid(&state.ctx, who.openid, who.unionid).await?;
    Ok(login_response(&state, &guardian.id, "/parent"))
}

#[derive(Debug, Deserialize)]
pub struct DevLoginForm {
    #[serde(default)]
    openid: String,
}

fn dev_login_enabled(state: &AppState) -> Result<(), AppError> {
    if state.settings.security.dev_login {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// `GET /parent/dev-login` (development only).
pub async fn dev_login_page(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    dev_login_enabled(&state)?;
    render_page(&state, "parent/dev_login.html", minijinja::context! { openid => "", error => () })
}

/// `POST /parent/dev-login` (development only): any openid, no WeChat.
pub async fn dev_login(state: web::Data<AppState>, form: web::Form<DevLoginForm>) -> Result<HttpResponse, AppError> {
    dev_login_enabled(&state)?;
    let openid = form.into_inner().openid.trim().to_string();
    if !wechat::valid_openid(&openid) {
        let mut resp = render_page(
            &state,
            "parent/dev_login.html",
            minijinja::context! { openid => openid, error => "openid 只能由 1–64 位字母、数字、下划线或连字符组成" },
        )?;
        *resp.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(resp);
    }
    let g = crate::service::registration::guardian_for_openid(&state.ctx, format!("dev-{openid}"), None).await?;
    Ok(login_response(&state, &g.id, "/parent"))
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
}

/// `POST /parent/logout`.
pub async fn logout(state: web::Data<AppState>, s: GuardianSession, form: web::Form<CsrfForm>) -> Result<HttpResponse, AppError> {
    s.check_csrf(&form.csrf)?;
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, "/parent")).cookie(expired_cookie(&state, SESSION_COOKIE, "/")).finish())
}
