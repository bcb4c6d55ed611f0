//! What every server-rendered page needs to know about the person's browser,
//! without JavaScript: the large-text mode (适老化大字版, a cookie set by a
//! plain link, `GET /settings/text-size?size=large&back=/path`), whether the
//! page is open inside WeChat's in-app browser (the WeChat login button is
//! shown only there), and the page's own address (for the "back" of the
//! text-size link and for share metadata).
//!
//! The [`scope`] middleware reads these once per request into a task-local;
//! [`crate::web::templates::render`] hands them to every template as `page`.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

/// The cookie that keeps the text size (`large` or absent).
pub const TEXT_SIZE_COOKIE: &str = "ruxue_text_size";

/// The browser facts a template may use.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PageEnv {
    pub large_text: bool,
    /// User-Agent contains `MicroMessenger` (WeChat's in-app browser).
    pub in_wechat: bool,
    /// Path and query of this page.
    pub path: String,
    /// `back=<this page, percent-encoded>` for the text-size link.
    pub back_query: String,
}

tokio::task_local! {
    static PAGE: PageEnv;
}

/// The facts of the request being answered (default outside a request).
pub fn current() -> PageEnv {
    PAGE.try_with(Clone::clone).unwrap_or_default()
}

pub fn of_request(req: &HttpRequest) -> PageEnv {
    let ua = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let path = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    PageEnv {
        back_query: serde_urlencoded::to_string([("back", path.as_str())]).unwrap_or_default(),
        large_text: req.cookie(TEXT_SIZE_COOKIE).is_some_and(|c| c.value() == "large"),
        in_wechat: ua.contains("MicroMessenger"),
        path,
    }
}

/// Middleware: runs the rest of the request with its [`PageEnv`].
pub async fn scope(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let env = of_request(req.request());
    PAGE.scope(env, next.call(req)).await
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/text-size", web::get().to(text_size));
}

#[derive(Debug, Deserialize)]
pub struct TextSizeQuery {
    #[serde(default)]
    size: Option<String>,
    #[serde(default)]
    back: Option<String>,
}

/// A same-site path to go back to: starts with one `/`, no scheme, no
/// backslash (an open redirect would send grandparents elsewhere).
pub fn safe_back(back: Option<&str>) -> String {
    match back {
        Some(b) if b.starts_with('/') && !b.starts_with("//") && !b.contains('\\') && !b.chars().any(char::is_control) => b.to_string(),
        _ => "/".to_string(),
    }
}

/// `GET /settings/text-size?size=large|normal&back=/path`: keeps the choice
/// for a year and returns to the page.
async fn text_size(q: web::Query<TextSizeQuery>) -> HttpResponse {
    let large = q.size.as_deref() == Some("large");
    let mut cookie = actix_web::cookie::Cookie::build(TEXT_SIZE_COOKIE, if large { "large" } else { "normal" })
        .path("/")
        .same_site(actix_web::cookie::SameSite::Lax)
        .http_only(true)
        .max_age(actix_web::cookie::time::Duration::days(365))
        .finish();
    if !large {
        cookie.make_removal();
    }
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, safe_back(q.back.as_deref())))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(cookie)
        .finish()
}

#[cfg(test)]
mod tests {
    #[test]
    fn back_stays_on_this_site() {
        use super::safe_back;
        assert_eq!(safe_back(Some("/lookup?grade=1")), "/lookup?grade=1");
        for bad in ["//evil.example/", "https://evil.example/", "/\\evil", "evil", ""] {
            assert_eq!(safe_back(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_back(None), "/");
    }
}
