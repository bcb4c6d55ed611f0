//! One error path: every handler returns `AppError`, which renders as the
//! JSON body `{"error":{"code","message","field"}}` (see `crate::error`).
//! This middleware turns that into a Chinese HTML page with a way back when
//! the request is for a page: anything under `/parent` or `/staff`, or any
//! other non-API path asked for by a browser (`Accept: text/html`). The API
//! and health checks keep JSON. Every status is covered, 500 included; 429
//! answers carry `Retry-After` either way.

use crate::error::AppError;
use crate::web::AppState;
use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

/// Seconds a rate-limited client is told to wait.
pub const RETRY_AFTER_SECS: u64 = 60;

pub fn handlers<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(render)
}

/// Is this a request for a page rather than for the API?
fn wants_page(req: &HttpRequest) -> bool {
    let path = req.path();
    if path.starts_with("/api/") || path == "/healthz" || path == "/readyz" {
        return false;
    }
    if path == "/parent" || path.starts_with("/parent/") || path == "/staff" || path.starts_with("/staff/") || path == "/lookup" {
        return true;
    }
    req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"))
}

fn render<B: 'static>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let rate_limited = res.status() == actix_web::http::StatusCode::TOO_MANY_REQUESTS;
    // A limit that knows its window says how long; keep that on the page too.
    let retry_after = res.headers().get(header::RETRY_AFTER).cloned();
    let app_error = res.response().error().and_then(|e| e.as_error::<AppError>()).cloned();
    let page = wants_page(res.request());
    // Only errors raised as errors are re-rendered; a handler that built its
    // own error page (a form shown again with 422) is left as it is.
    let replacement = match (&app_error, page) {
        (Some(e), true) => Some(page_for(res.request(), e)),
        (None, true) if res.response().error().is_some() => {
            let e = AppError::BadRequest { code: "bad_request", message: "请求无法处理，请返回后重试".into(), field: None };
            let mut r = page_for(res.request(), &e);
            *r.status_mut() = res.status();
            Some(r)
        }
        _ => None,
    };
    let mut res = match replacement {
        Some(r) => res.into_response(r).map_into_right_body(),
        None => res.map_into_left_body(),
    };
    if rate_limited {
        let value = retry_after.unwrap_or_else(|| header::HeaderValue::from(RETRY_AFTER_SECS));
        res.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Ok(ErrorHandlerResponse::Response(res))
}

/// The page for `e`, in the look of the audience the path belongs to.
fn page_for(req: &HttpRequest, e: &AppError) -> HttpResponse {
    let path = req.path();
    if path == "/parent" || path.starts_with("/parent/") {
        if let Some(state) = req.app_data::<web::Data<AppState>>() {
            return crate::web::parent::error_page(state, e.clone());
        }
    }
    if path == "/staff" || path.starts_with("/staff/") {
        return plain_page(e, "/staff", "返回工作平台首页");
    }
    plain_page(e, "/", "返回首页")
}

/// A short HTML page with the error's Chinese message and one link back.
pub fn plain_page(e: &AppError, back: &str, back_text: &str) -> HttpResponse {
    let msg = e.public_message().replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let html = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{msg}</title></head>\
         <body style=\"font:16px/1.6 sans-serif;max-width:560px;margin:60px auto;padding:0 16px;color:#1f2328\">\
         <h1 style=\"font-size:20px\">{msg}</h1><p>错误代码：{}（{}）</p>\
         <p><a href=\"{back}\">{back_text}</a></p></body></html>",
        e.status_code().as_u16(),
        e.code()
    );
    HttpResponse::build(e.status_code())
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html)
}
