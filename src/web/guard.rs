//! The edge every request passes before a handler sees it (issue 14):
//!
//! * [`edge`]: refuses a NUL character anywhere a value can come from (the
//!   path, the query string, the `Cookie` and `Authorization` headers, JSON
//!   and form bodies; multipart field names and values are checked by
//!   `parent::upload`) with a 422 naming the field — PostgreSQL cannot store
//!   NUL in text, and a 500 for hostile input is a bug; reads JSON and form
//!   bodies within `server.body_read_timeout_secs` (408 after) and gives any
//!   other body (uploads) the same deadline; then applies the rate limits
//!   (`web::ratelimit`).
//! * [`security_headers`]: a strict Content-Security-Policy (no script but
//!   the service's own files, no framing), `nosniff`, `Referrer-Policy`,
//!   `Permissions-Policy`, and `Strict-Transport-Security` when
//!   `security.hsts` is on. A response that set its own (the browser
//!   verifier's CSP, a document's `sandbox`) keeps it.

use crate::error::AppError;
use crate::web::ratelimit::bucket;
use crate::web::AppState;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use futures_util::StreamExt;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

/// The policy of every page: scripts and styles from the service itself
/// (templates carry `<style>` blocks and `style=` attributes, hence
/// `'unsafe-inline'` for styles only), no plugins, no framing, forms only to
/// the service.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                       font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
                       object-src 'none'";

/// Powerful browser features the service never uses.
pub const PERMISSIONS_POLICY: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), interest-cohort=()";

/// A stored document: shown in a sandbox (no script, no plugin, its own
/// origin), never framed, never sniffed into another type.
pub const DOCUMENT_CSP: &str = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'";

fn set_default(h: &mut HeaderMap, name: HeaderName, value: &str) {
    if !h.contains_key(&name) {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    }
}

/// Adds the security headers to every response that has not set its own.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let hsts = req
        .app_data::<web::Data<AppState>>()
        .filter(|s| s.settings.security.hsts)
        .map(|s| format!("max-age={}; includeSubDomains", s.settings.security.hsts_max_age_secs));
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    set_default(h, header::CONTENT_SECURITY_POLICY, CSP);
    set_default(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set_default(h, header::REFERRER_POLICY, "same-origin");
    set_default(h, HeaderName::from_static("permissions-policy"), PERMISSIONS_POLICY);
    set_default(h, header::X_FRAME_OPTIONS, "DENY");
    set_default(h, HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    if let Some(v) = hsts {
        set_default(h, header::STRICT_TRANSPORT_SECURITY, &v);
    }
    Ok(res)
}

fn nul(field: &str) -> AppError {
    AppError::invalid_code("nul_character", field, "内容中含有不允许的控制字符（NUL），请删除后重新填写")
}

/// The first query or form pair whose name or value holds NUL.
fn nul_in_pairs(text: &str) -> Option<String> {
    match serde_urlencoded::from_str::<Vec<(String, String)>>(text) {
        Ok(pairs) => pairs.into_iter().find(|(k, v)| k.contains('\0') || v.contains('\0')).map(|(k, _)| field_name(&k)),
        Err(_) => None,
    }
}

/// A field name fit to be echoed back: NUL and other controls removed, short.
fn field_name(k: &str) -> String {
    let k: String = k.chars().filter(|c| !c.is_control()).take(64).collect();
    if k.is_empty() {
        "body".into()
    } else {
        k
    }
}

/// The key (dotted path) of the first JSON string or key holding NUL.
pub fn nul_in_json(v: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::String(s) if s.contains('\0') => Some(if path.is_empty() { "body".into() } else { path.to_string() }),
        Value::Array(items) => items.iter().find_map(|x| nul_in_json(x, path)),
        Value::Object(map) => map.iter().find_map(|(k, x)| {
            let here = if path.is_empty() { field_name(k) } else { format!("{path}.{}", field_name(k)) };
            if k.contains('\0') {
                Some(here)
            } else {
                nul_in_json(x, &here)
            }
        }),
        _ => None,
    }
}

/// NUL in the path, the query string, or the headers whose values are read.
pub fn check_head(req: &ServiceRequest) -> Result<(), AppError> {
    if req.path().contains("%00") {
        return Err(nul("path"));
    }
    let q = req.query_string();
    if q.contains("%00") {
        return Err(nul(&nul_in_pairs(q).unwrap_or_else(|| "query".into())));
    }
    for name in [header::COOKIE, header::AUTHORIZATION] {
        for v in req.headers().get_all(&name) {
            let b = v.as_bytes();
            if b.contains(&0) || b.windows(3).any(|w| w == b"%00") {
                return Err(nul(name.as_str()));
            }
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Json,
    Form,
    Other,
}

fn body_kind(req: &ServiceRequest) -> Option<BodyKind> {
    let has_body = req.headers().contains_key(header::CONTENT_LENGTH) || req.headers().contains_key(header::TRANSFER_ENCODING);
    if !has_body {
        return None;
    }
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    Some(if ct.starts_with("application/json") || ct.contains("+json") {
        BodyKind::Json
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        BodyKind::Form
    } else {
        BodyKind::Other
    })
}

/// Set on the request when its body's deadline passed, so the reader of a
/// streamed body (an upload) answers 408 rather than "upload interrupted".
#[derive(Clone, Default)]
pub struct BodyDeadline(pub Rc<Cell<bool>>);

impl BodyDeadline {
    pub fn passed(req: &actix_web::HttpRequest) -> bool {
        req.extensions().get::<BodyDeadline>().is_some_and(|d| d.0.get())
    }
}

/// A body stream that ends in an error once its deadline passes.
struct DeadlineStream {
    inner: Payload,
    sleep: Pin<Box<tokio::time::Sleep>>,
    flag: Rc<Cell<bool>>,
}

impl futures_util::Stream for DeadlineStream {
    type Item = Result<web::Bytes, actix_web::error::PayloadError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.flag.get() {
            return Poll::Ready(None);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.flag.set(true);
            let e = std::io::Error::new(std::io::ErrorKind::TimedOut, "request body deadline passed");
            return Poll::Ready(Some(Err(actix_web::error::PayloadError::Io(e))));
        }
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

/// Reads a whole JSON or form body, at most `limit` bytes, by `deadline`.
async fn read_body(mut payload: Payload, limit: usize, deadline: Duration) -> Result<web::Bytes, AppError> {
    let read = async {
        let mut buf = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| AppError::bad_request("请求内容无法读取"))?;
            if buf.len() + chunk.len() > limit {
                return Err(AppError::PayloadTooLarge { field: None, message: "请求内容过大".into() });
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    };
    tokio::time::timeout(deadline, read).await.map_err(|_| AppError::Timeout)?
}

fn check_body(kind: BodyKind, bytes: &[u8]) -> Result<(), AppError> {
    match kind {
        BodyKind::Json => {
            let maybe = bytes.contains(&0) || bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"));
            if !maybe {
                return Ok(());
            }
            if bytes.contains(&0) {
                return Err(nul("body"));
            }
            match serde_json::from_slice::<serde_json::Value>(bytes) {
                Ok(v) => nul_in_json(&v, "").map_or(Ok(()), |f| Err(nul(&f))),
                // Not JSON: the handler's reader says so (400).
                Err(_) => Ok(()),
            }
        }
        BodyKind::Form => {
            if bytes.contains(&0) {
                return Err(nul("body"));
            }
            if !bytes.windows(3).any(|w| w == b"%00") {
                return Ok(());
            }
            let text = String::from_utf8_lossy(bytes);
            Err(nul(&nul_in_pairs(&text).unwrap_or_else(|| "body".into())))
        }
        BodyKind::Other => Ok(()),
    }
}

/// NUL refusal, body deadlines, then the rate limits; see the module docs.
pub async fn edge(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    };
    if let Err(e) = check_head(&req) {
        return Ok(req.error_response(e).map_into_right_body());
    }
    let deadline = Duration::from_secs(state.settings.server.body_read_timeout_secs.max(1));
    match body_kind(&req) {
        Some(kind @ (BodyKind::Json | BodyKind::Form)) => {
            let payload = req.take_payload();
            let checked = match read_body(payload, state.settings.server.body_limit_bytes, deadline).await {
                Ok(bytes) => check_body(kind, &bytes).map(|()| bytes),
                Err(e) => Err(e),
            };
            match checked {
                Ok(bytes) => req.set_payload(Payload::from(bytes)),
                Err(e) => return Ok(req.error_response(e).map_into_right_body()),
            }
        }
        Some(BodyKind::Other) => {
            let flag = BodyDeadline::default();
            let stream = DeadlineStream { inner: req.take_payload(), sleep: Box::pin(tokio::time::sleep(deadline)), flag: flag.0.clone() };
            req.extensions_mut().insert(flag);
            let boxed: Pin<Box<dyn futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>>>> = Box::pin(stream);
            req.set_payload(Payload::from(boxed));
        }
        None => {}
    }
    if let Err(e) = rate_limits(&req, &state).await {
        return Ok(req.error_response(e).map_into_right_body());
    }
    next.call(req).await.map(ServiceResponse::map_into_left_body)
}

/// Which limits a request counts against, by path.
async fn rate_limits(req: &ServiceRequest, state: &AppState) -> Result<(), AppError> {
    let path = req.path();
    let rl = &state.settings.ratelimit;
    let parent = path == "/parent" || path.starts_with("/parent/") || path.starts_with("/api/v1/registration");
    let strict = path == "/lookup"
        || path == "/api/v1/catchment/lookup"
        || ((path == "/staff/login" || path == "/api/v1/staff/login") && req.method() == actix_web::http::Method::POST);
    let public = strict
        || path == "/"
        || path.starts_with("/campaigns/")
        || path.starts_with("/verify")
        || path == "/api/v1/keys"
        || path == "/api/openapi.json";
    if !parent && !public {
        return Ok(());
    }
    let now = chrono::Utc::now().timestamp();
    let ip = state.client_ip(req.request()).map(|a| a.to_string()).unwrap_or_default();
    let mut checks = vec![(bucket("addr", &ip), rl.address_per_minute)];
    if strict {
        checks.push((bucket("public", &ip), state.settings.server.public_rate_per_minute));
    }
    if parent {
        if let Some(guardian) = guardian_of(req, state) {
            let write = !matches!(*req.method(), actix_web::http::Method::GET | actix_web::http::Method::HEAD);
            let (kind, limit) = if write { ("gw", rl.guardian_writes_per_minute) } else { ("gr", rl.guardian_reads_per_minute) };
            checks.push((bucket(kind, &guardian), limit));
        }
    }
    for (b, limit) in checks {
        if let Some(retry_after_secs) = state.rate_limiter.hit(b, limit, 60, now).await? {
            return Err(AppError::Throttled { retry_after_secs });
        }
    }
    Ok(())
}

/// The guardian a valid session token (bearer or cookie) names; no database.
fn guardian_of(req: &ServiceRequest, state: &AppState) -> Option<String> {
    use secrecy::ExposeSecret;
    let token = match req.headers().get(header::AUTHORIZATION).and_then(|h| h.to_str().ok()).and_then(|h| h.split_once(' ')) {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim().to_string(),
        _ => req.cookie(crate::web::parent::auth::SESSION_COOKIE)?.value().to_string(),
    };
    let key = state.settings.security.jwt_key.expose_secret().as_bytes().to_vec();
    crate::registration::session::verify(&key, &token).ok().map(|c| c.sub)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_found_with_its_field() {
        let v: serde_json::Value = serde_json::from_str(r#"{"a":"x","child":{"name":"林\u0000"}}"#).unwrap();
        assert_eq!(nul_in_json(&v, "").as_deref(), Some("child.name"));
        let v: serde_json::Value = serde_json::from_str(r#"{"ok":["a","b"],"k\u0000":1}"#).unwrap();
        assert_eq!(nul_in_json(&v, "").as_deref(), Some("k"));
        let v: serde_json::Value = serde_json::from_str(r#"{"ok":"\\u0000"}"#).unwrap();
        assert_eq!(nul_in_json(&v, ""), None, "an escaped backslash is not NUL");
        assert_eq!(nul_in_pairs("a=1&openid=ad%00min").as_deref(), Some("openid"));
        assert_eq!(nul_in_pairs("a=1"), None);
        assert!(check_body(BodyKind::Json, br#"{"username":"ad\u0000min"}"#).is_err());
        assert!(check_body(BodyKind::Json, br#"{"username":"admin"}"#).is_ok());
        assert!(check_body(BodyKind::Form, b"username=ad%00min").is_err());
        assert!(check_body(BodyKind::Form, b"username=ad%2500min").is_ok());
    }
}
