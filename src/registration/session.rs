//! Guardian sessions and the OAuth `state`, as signed JWTs (HS256 with
//! `security.jwt_key`). Pure: the caller passes the clock.
//!
//! - Session: `iss` = "ruxue", `aud` = "ruxue-guardian", `sub` = guardian id,
//!   `exp`, and a per-session CSRF token `csrf` that every form post repeats.
//!   Renewed (sliding) once less than half of its lifetime remains.
//! - OAuth state: `aud` = "ruxue-oauth-state", a random `state` and a short
//!   `exp`; kept in an HttpOnly cookie so the callback can check that the
//!   `state` WeChat hands back was issued to this browser.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "ruxue";
pub const AUDIENCE: &str = "ruxue-guardian";
pub const STATE_AUDIENCE: &str = "ruxue-oauth-state";
/// How long a login attempt (WeChat round trip) may take.
pub const STATE_SECONDS: i64 = 600;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct GuardianClaims {
    pub iss: String,
    pub aud: String,
    /// Guardian id.
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// Per-session CSRF token.
    pub csrf: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StateClaims {
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("登录已过期，请重新登录")]
    Expired,
    #[error("登录信息无效，请重新登录")]
    Invalid,
}

/// 32 random bytes, URL-safe hex.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

fn validation(aud: &str) -> Validation {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_issuer(&[ISSUER]);
    v.set_audience(&[aud]);
    v.set_required_spec_claims(&["exp", "iss", "aud"]);
    v.leeway = 0;
    v
}

fn map_err(e: jsonwebtoken::errors::Error) -> SessionError {
    match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => SessionError::Expired,
        _ => SessionError::Invalid,
    }
}

/// A new session token for `guardian_id`, valid `minutes` from `now` (Unix seconds).
pub fn issue(key: &[u8], guardian_id: &str, csrf: &str, now: i64, minutes: i64) -> String {
    let claims = GuardianClaims {
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        sub: guardian_id.into(),
        iat: now,
        exp: now + minutes.max(1) * 60,
        csrf: csrf.into(),
    };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(key))
        .expect("HS256 encoding of plain claims cannot fail")
}

/// Checks signature, issuer, audience and expiry.
pub fn verify(key: &[u8], token: &str) -> Result<GuardianClaims, SessionError> {
    let data = jsonwebtoken::decode::<GuardianClaims>(token, &DecodingKey::from_secret(key), &validation(AUDIENCE)).map_err(map_err)?;
    if data.claims.sub.is_empty() || data.claims.csrf.len() < 16 {
        return Err(SessionError::Invalid);
    }
    Ok(data.claims)
}

/// Sliding expiry: renew once less than half the lifetime remains.
pub fn needs_renewal(claims: &GuardianClaims, now: i64, minutes: i64) -> bool {
    claims.exp - now < minutes.max(1) * 60 / 2
}

/// A signed OAuth state for the login cookie, and the `state` value itself.
pub fn issue_state(key: &[u8], now: i64) -> (String, String) {
    let state = random_token();
    let claims = StateClaims { iss: ISSUER.into(), aud: STATE_AUDIENCE.into(), exp: now + STATE_SECONDS, state: state.clone() };
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(key))
        .expect("HS256 encoding of plain claims cannot fail");
    (token, state)
}

/// True when `cookie` is a valid, unexpired state token for exactly `state`.
pub fn check_state(key: &[u8], cookie: &str, state: &str) -> bool {
    match jsonwebtoken::decode::<StateClaims>(cookie, &DecodingKey::from_secret(key), &validation(STATE_AUDIENCE)) {
        Ok(d) => bool::from(subtle::ConstantTimeEq::ct_eq(d.claims.state.as_bytes(), state.as_bytes())),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_round_trip_and_rejections() {
        let now = chrono::Utc::now().timestamp();
        let t = issue(b"k1", "g1", &random_token(), now, 30);
        let c = verify(b"k1", &t).unwrap();
        assert_eq!(c.sub, "g1");
        assert_eq!(c.aud, AUDIENCE);
        assert_eq!(verify(b"k2", &t), Err(SessionError::Invalid));
        let old = issue(b"k1", "g1", &random_token(), now - 3600, 30);
        assert_eq!(verify(b"k1", &old), Err(SessionError::Expired));
        assert!(!needs_renewal(&c, now, 30));
        assert!(needs_renewal(&c, now + 16 * 60, 30));
        // A state token is not a session token and vice versa.
        let (st, state) = issue_state(b"k1", now);
        assert!(verify(b"k1", &st).is_err());
        assert!(check_state(b"k1", &st, &state));
        assert!(!check_state(b"k1", &st, "other"));
        assert!(!check_state(b"k1", &t, &state));
    }
}
