//! One error type for the whole service, mapped to HTTP status codes and to
//! the JSON body `{"error":{"code","message","field"}}`. Messages are in
//! Simplified Chinese because people read them; `code` is stable English for
//! programs. Internal details are logged, never sent.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// 400: malformed request (bad JSON, wrong type).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String, field: Option<String> },
    /// 422: well-formed but invalid value in a named field.
    #[error("{field}: {message}")]
    Invalid { code: &'static str, field: String, message: String },
    #[error("unauthorized")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// 409: conflicts with existing state (duplicate, wrong phase).
    #[error("{message}")]
    Conflict { code: &'static str, message: String, field: Option<String> },
    #[error("payload too large")]
    PayloadTooLarge { field: Option<String>, message: String },
    #[error("too many requests")]
    TooManyRequests,
    /// 429 with how long to wait (`Retry-After`, seconds).
    #[error("too many requests, retry after {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    /// 408: the request (its body) did not arrive in time.
    #[error("request timed out")]
    Timeout,
    /// 503: the database or another dependency is unreachable.
    #[error("service unavailable")]
    Unavailable,
    /// 500: a bug or an unexpected failure; the detail is logged only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid { code: "invalid", field: field.into(), message: message.into() }
    }
    pub fn invalid_code(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid { code, field: field.into(), message: message.into() }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        AppError::BadRequest { code: "bad_request", message: message.into(), field: None }
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Conflict { code, message: message.into(), field: None }
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(e.to_string())
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. } => code,
            AppError::Invalid { code, .. } => code,
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict { code, .. } => code,
            AppError::PayloadTooLarge { .. } => "payload_too_large",
            AppError::TooManyRequests | AppError::Throttled { .. } => "rate_limited",
            AppError::Timeout => "request_timeout",
            AppError::Unavailable => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// The message a person sees (Simplified Chinese).
    pub fn public_message(&self) -> String {
        match self {
            AppError::BadRequest { message, .. } => message.clone(),
            AppError::Invalid { message, .. } => message.clone(),
            AppError::Unauthorized => "请先登录".into(),
            AppError::Forbidden => "您没有执行此操作的权限".into(),
            AppError::NotFound => "未找到该内容".into(),
            AppError::Conflict { message, .. } => message.clone(),
            AppError::PayloadTooLarge { message, .. } => message.clone(),
            AppError::TooManyRequests => "请求过于频繁，请稍后再试".into(),
            AppError::Throttled { retry_after_secs } => format!("请求过于频繁，请 {} 后再试", wait_zh(*retry_after_secs)),
            AppError::Timeout => "请求超时：内容传送过慢，请检查网络后重试".into(),
            AppError::Unavailable => "系统繁忙，请稍后再试".into(),
            AppError::Internal(_) => "系统内部错误，请稍后再试；如多次出现请联系招生办".into(),
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::BadRequest { field, .. } | AppError::Conflict { field, .. } | AppError::PayloadTooLarge { field, .. } => {
                field.as_deref()
            }
            AppError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail { code: self.code().to_string(), message: self.public_message(), field: self.field().map(str::to_string) },
        }
    }
}

#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests | AppError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Timeout => StatusCode::REQUEST_TIMEOUT,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(detail) = self {
            // The detail may name a table or a constraint; it stays in the log.
            tracing::error!(detail = %detail, "internal error");
        }
        let mut resp = HttpResponse::build(self.status_code());
        if let AppError::Throttled { retry_after_secs } = self {
            resp.insert_header((actix_web::http::header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        resp.json(self.body())
    }
}

/// "45 秒" / "3 分钟".
fn wait_zh(secs: u64) -> String {
    if secs < 120 {
        format!("{secs} 秒")
    } else {
        format!("{} 分钟", secs.div_ceil(60))
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => AppError::conflict("duplicate", "该记录已存在"),
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => AppError::Unavailable,
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => AppError::Unavailable,
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<actix_web::error::JsonPayloadError> for AppError {
    fn from(e: actix_web::error::JsonPayloadError) -> Self {
        use actix_web::error::JsonPayloadError as J;
        match e {
            J::OverflowKnownLength { .. } | J::Overflow { .. } => {
                AppError::PayloadTooLarge { field: None, message: "请求内容过大".into() }
            }
            J::ContentType => AppError::BadRequest {
                code: "content_type",
                message: "请求须为 JSON（Content-Type: application/json）".into(),
                field: None,
            },
            J::Deserialize(d) => {
                // serde_json says "missing field `x`" or "unknown field `x`"; keep
                // the field name for the caller.
                let text = d.to_string();
                let field = text.split('`').nth(1).map(str::to_string);
                AppError::BadRequest {
                    code: "invalid_json", message: format!("请求内容格式错误：{}", json_error_zh(&text)), field
                }
            }
            other => AppError::BadRequest { code: "invalid_json", message: format!("请求内容无法读取：{other}"), field: None },
        }
    }
}

fn json_error_zh(text: &str) -> String {
    if text.starts_with("missing field") {
        format!("缺少字段 {}", text.split('`').nth(1).unwrap_or(""))
    } else if text.starts_with("unknown field") {
        format!("不认识的字段 {}", text.split('`').nth(1).unwrap_or(""))
    } else if text.starts_with("invalid type") {
        "字段类型不正确".into()
    } else {
        "JSON 语法错误".into()
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let cases: Vec<(AppError, u16)> = vec![
            (AppError::bad_request("x"), 400),
            (AppError::Unauthorized, 401),
            (AppError::Forbidden, 403),
            (AppError::NotFound, 404),
            (AppError::conflict("dup", "x"), 409),
            (AppError::PayloadTooLarge { field: None, message: "x".into() }, 413),
            (AppError::invalid("f", "x"), 422),
            (AppError::TooManyRequests, 429),
            (AppError::Throttled { retry_after_secs: 30 }, 429),
            (AppError::Timeout, 408),
            (AppError::Internal("secret detail".into()), 500),
            (AppError::Unavailable, 503),
        ];
        for (e, s) in cases {
            assert_eq!(e.status_code().as_u16(), s, "{e:?}");
            let body = serde_json::to_string(&e.body()).unwrap();
            assert!(!body.contains("secret detail"));
        }
    }
}
