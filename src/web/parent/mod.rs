//! The parent flow over HTTP: WeChat login, mobile pages (`/parent/…`,
//! server-rendered, no JavaScript needed) and the JSON API that mirrors them
//! (`/api/v1/registration/…`, described at `/api/openapi.json`).

pub mod api;
pub mod auth;
pub mod pages;
pub mod upload;

use crate::error::AppError;
use crate::web::AppState;
use actix_web::http::StatusCode;
use actix_web::{middleware::from_fn, web, HttpResponse};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/parent")
            .wrap(from_fn(auth::renew_session))
            .route("", web::get().to(pages::home))
            .route("/login", web::get().to(auth::wechat_login))
            .route("/wechat/callback", web::get().to(auth::wechat_callback))
            .route("/dev-login", web::get().to(auth::dev_login_page))
            .route("/dev-login", web::post().to(auth::dev_login))
            .route("/logout", web::post().to(auth::logout))
            .route("/profile", web::get().to(pages::profile_page))
            .route("/profile", web::post().to(pages::profile_save))
            .route("/campaigns/{cid}", web::get().to(pages::notice))
            .route("/campaigns/{cid}/start", web::post().to(pages::start))
            .route("/drafts/{id}/child", web::get().to(pages::child_page))
            .route("/drafts/{id}/child", web::post().to(pages::child_save))
            .route("/drafts/{id}/documents", web::get().to(pages::documents_page))
            .route("/drafts/{id}/documents", web::post().to(pages::documents_upload))
            .route("/drafts/{id}/documents/remove", web::post().to(pages::documents_remove))
            .route("/drafts/{id}/review", web::get().to(pages::review_page))
            .route("/drafts/{id}/submit", web::post().to(pages::submit))
            .route("/applications/{id}", web::get().to(pages::status_page))
            .route("/applications/{id}/edit", web::post().to(pages::edit))
            .route("/applications/{id}/supplement", web::post().to(pages::supplement))
            .route("/applications/{id}/withdraw", web::post().to(pages::withdraw))
            .route("/applications/{id}/appeal", web::post().to(pages::appeal))
            .route("/applications/{id}/offer", web::post().to(pages::offer)),
    )
    .service(api_table::scoped(web::scope("/api/v1/registration")).wrap(from_fn(auth::renew_session)));
}

pub mod api_table {
    //! The parent JSON API, relative to `/api/v1/registration`.
    use super::api;
    api_table! { scope "/api/v1/registration";
        get "/session" => api::session,
        get "/guardian" => api::guardian_get,
        put "/guardian" => api::guardian_put,
        get "/campaigns" => api::campaigns,
        post "/campaigns/{cid}/drafts" => api::start,
        get "/drafts/{id}" => api::draft_get,
        put "/drafts/{id}/child" => api::child_put,
        post "/drafts/{id}/documents" => api::documents_post,
        delete "/drafts/{id}/documents/{hash}" => api::document_delete,
        get "/drafts/{id}/review" => api::review,
        post "/drafts/{id}/submit" => api::submit,
        get "/applications" => api::applications,
        get "/applications/{id}" => api::application,
        post "/applications/{id}/edit" => api::edit,
        post "/applications/{id}/supplement" => api::supplement,
        post "/applications/{id}/withdraw" => api::withdraw,
        post "/applications/{id}/appeal" => api::appeal,
        get "/applications/{id}/result" => api::result,
        post "/applications/{id}/offer" => api::offer,
    }
}

/// Renders a parent page with the common context.
pub fn render_page(state: &AppState, name: &str, ctx: minijinja::Value) -> Result<HttpResponse, AppError> {
    let common = minijinja::context! { bureau => state.settings.bureau.name.clone(), phone => state.settings.bureau.phone.clone(), dev_login => state.settings.security.dev_login };
    let merged = minijinja::context! { ..ctx, ..common };
    let mut resp = crate::web::templates::render(&state.templates, name, merged)?;
    resp.headers_mut().insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-store"));
    Ok(resp)
}

pub fn with_status(mut resp: HttpResponse, status: StatusCode) -> HttpResponse {
    *resp.status_mut() = status;
    resp
}

/// A page with one message and a link onwards.
pub fn message_page(
    state: &AppState,
    status: StatusCode,
    title: &str,
    message: &str,
    link: Option<(&str, &str)>,
) -> Result<HttpResponse, AppError> {
    let (href, text) = link.unwrap_or(("/parent", "返回首页"));
    let resp = render_page(
        state,
        "parent/message.html",
        minijinja::context! { title => title, message => message, href => href, link_text => text },
    )?;
    Ok(with_status(resp, status))
}

/// An error as a page (the JSON body is for the API).
pub fn error_page(state: &AppState, e: AppError) -> HttpResponse {
    use actix_web::ResponseError;
    let status = e.status_code();
    if let AppError::Internal(detail) = &e {
        // The detail may name a table or a constraint; it stays in the log.
        tracing::error!(detail = %detail, "internal error");
    }
    let title = match &e {
        AppError::NotFound => "未找到",
        AppError::Internal(_) | AppError::Unavailable => "系统繁忙",
        AppError::TooManyRequests | AppError::Throttled { .. } => "请稍后再试",
        AppError::Timeout => "请求超时",
        AppError::Forbidden => "页面已过期",
        AppError::Conflict { .. } => "无法办理",
        _ => "无法办理",
    };
    let message = match &e {
        AppError::Forbidden => "页面已过期或来源不明，请返回后重新操作".to_string(),
        other => other.public_message(),
    };
    message_page(state, status, title, &message, None).unwrap_or_else(|_| crate::web::errors::plain_page(&e, "/parent", "返回首页"))
}
