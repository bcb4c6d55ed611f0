//! What both extractors (`parent::auth::GuardianSession`,
//! `staff::identity::StaffIdentity`) share: reading a bearer token, building
//! cookies, the CSRF check and a constant-time comparison.

use crate::error::AppError;
use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::header;
use actix_web::HttpRequest;
use subtle::ConstantTimeEq;

/// `Authorization: Bearer <token>` (scheme case-insensitive), trimmed.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    let h = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = h.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

/// True for the JSON API, which authenticates by header and answers JSON.
pub fn is_api(req: &HttpRequest) -> bool {
    req.path().starts_with("/api/")
}

/// Comparison whose time does not depend on where the inputs differ.
pub fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A double-submit or session CSRF check: `given` must equal the non-empty
/// `expected`; anything else is 403 before the request does anything.
pub fn check_csrf(expected: &str, given: &str) -> Result<(), AppError> {
    if expected.is_empty() || !same(expected, given.trim()) {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

/// How a cookie is set: path, script access, same-site rule, lifetime.
pub struct CookieSpec {
    pub path: &'static str,
    pub http_only: bool,
    pub same_site: SameSite,
    pub secure: bool,
    /// Seconds; 0 removes the cookie.
    pub max_age_secs: i64,
}

pub fn cookie(name: &'static str, value: String, spec: &CookieSpec) -> Cookie<'static> {
    let mut c = Cookie::new(name, value);
    c.set_path(spec.path);
    c.set_http_only(spec.http_only);
    c.set_same_site(spec.same_site);
    c.set_secure(spec.secure);
    if spec.max_age_secs == 0 {
        c.make_removal();
    } else {
        c.set_max_age(CookieDuration::seconds(spec.max_age_secs));
    }
    c
}

/// A cookie's value, if the request carries it.
pub fn cookie_value(req: &HttpRequest, name: &str) -> Option<String> {
    req.cookie(name).map(|c| c.value().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_compare_and_csrf() {
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("a", "ab"));
        assert!(check_csrf("tok", "tok").is_ok());
        assert!(check_csrf("", "").is_err());
        assert!(check_csrf("tok", "tak").is_err());
    }
}
