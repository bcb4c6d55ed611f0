//! Structured logs with a request id on every line. The root span records the
//! method and the path only: query strings can carry addresses, and nothing
//! personal goes to the logs.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder, TracingLogger};

pub struct PrivacyRootSpan;

impl RootSpanBuilder for PrivacyRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request.extensions().get::<RequestId>().map(|r| r.to_string()).unwrap_or_default();
        tracing::info_span!(
            "http",
            method = %request.method(),
            path = %request.path(),
            request_id = %request_id,
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(resp) => resp.response().status().as_u16(),
            Err(e) => e.as_response_error().status_code().as_u16(),
        };
        span.record("status", status);
        let _enter = span.enter();
        if status >= 500 {
            tracing::error!(status, "request failed");
        } else {
            tracing::info!(status, "request finished");
        }
    }
}

/// Returns the request id to the caller (`X-Request-Id`), so a parent or a
/// staff member can quote it and support can find the log lines.
pub fn echo_request_id<S, B>(req: ServiceRequest, srv: &S) -> impl std::future::Future<Output = Result<ServiceResponse<B>, Error>>
where
    S: actix_web::dev::Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    let id = req.extensions().get::<RequestId>().map(|r| r.to_string());
    let fut = srv.call(req);
    async move {
        let mut res = fut.await?;
        if let Some(id) = id.and_then(|i| actix_web::http::header::HeaderValue::from_str(&i).ok()) {
            res.headers_mut().insert(actix_web::http::header::HeaderName::from_static("x-request-id"), id);
        }
        Ok(res)
    }
}

pub fn logger() -> TracingLogger<PrivacyRootSpan> {
    TracingLogger::<PrivacyRootSpan>::new()
}

/// Installs the global subscriber: text in development, JSON in production.
/// Safe to call more than once (later calls are ignored).
pub fn init(settings: &crate::config::Settings) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("RUXUE_LOG").unwrap_or_else(|_| EnvFilter::new(format!("{},actix_server=warn", settings.log.level)));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match settings.log.format {
        crate::config::LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        crate::config::LogFormat::Text => builder.try_init(),
    };
}
