//! Passwords (argon2id), JWT access tokens (HS256) and opaque refresh tokens.
//!
//! Access tokens carry `iss` = "ruxue", `aud` = [`AUD_ACCESS`], `sub` (staff
//! id), `role`, `tv` (the staff row's `token_version`), `iat`, `nbf`, `exp`;
//! every one of them is required and checked. Refresh tokens are 32 random
//! bytes (base64url) stored only as their SHA-256; they rotate on every use.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const ISSUER: &str = "ruxue";
/// Audience of a staff access token.
pub const AUD_ACCESS: &str = "ruxue-staff-access";
/// Audience reserved for refresh purposes: a JWT with it is never accepted
/// as access (refresh tokens themselves are opaque).
pub const AUD_REFRESH: &str = "ruxue-staff-refresh";

pub use crate::domain::Role;

/// Minimum password length for staff accounts.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Checks a new password; the message is Chinese for the person typing it.
pub fn check_password_strength(pw: &str) -> Result<(), String> {
    let n = pw.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(format!("密码至少 {MIN_PASSWORD_CHARS} 个字符"));
    }
    if n > 200 {
        return Err("密码不能超过 200 个字符".into());
    }
    let first = pw.chars().next();
    if pw.chars().all(|c| Some(c) == first) {
        return Err("密码不能由同一个字符重复组成".into());
    }
    Ok(())
}

pub fn hash_password(pw: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default().hash_password(pw.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// True when `pw` matches the stored argon2 hash.
pub fn verify_password(pw: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(h) => Argon2::default().verify_password(pw.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the username does not exist, so that the
/// time taken does not reveal which usernames exist.
pub fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("ruxue-no-such-user-password").unwrap_or_default())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub role: Role,
    pub tv: i32,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("token invalid: {0}")]
    Invalid(String),
}

pub fn issue_access(key: &[u8], staff_id: &str, role: Role, tv: i32, now: i64, minutes: i64) -> Result<String, TokenError> {
    let claims = Claims {
        iss: ISSUER.into(),
        aud: AUD_ACCESS.into(),
        sub: staff_id.into(),
        role,
        tv,
        iat: now,
        nbf: now,
        exp: now + minutes.max(1) * 60,
    };
    encode(key, &claims)
}

pub fn encode(key: &[u8], claims: &Claims) -> Result<String, TokenError> {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(key))
        .map_err(|e| TokenError::Invalid(e.to_string()))
}

/// Validates signature (HS256 only), issuer, audience, `exp`, `nbf` and the
/// presence of every claim.
pub fn verify_access(key: &[u8], token: &str) -> Result<Claims, TokenError> {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_issuer(&[ISSUER]);
    v.set_audience(&[AUD_ACCESS]);
    v.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
    v.validate_exp = true;
    v.validate_nbf = true;
    v.leeway = 5;
    let data = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(key), &v).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::ImmatureSignature => TokenError::NotYetValid,
            other => TokenError::Invalid(format!("{other:?}")),
        }
    })?;
    Ok(data.claims)
}

/// A fresh opaque token (URL-safe base64 of 32 random bytes).
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// What is stored for a refresh token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"test-key-0123456789abcdef0123456789";

    #[test]
    fn passwords() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(check_password_strength("short").is_err());
        assert!(check_password_strength("aaaaaaaaaaaa").is_err());
        assert!(check_password_strength("ruxue-demo-admin").is_ok());
    }

    #[test]
    fn tokens() {
        let now = chrono::Utc::now().timestamp();
        let t = issue_access(KEY, "s1", Role::Reviewer, 3, now, 15).unwrap();
        let c = verify_access(KEY, &t).unwrap();
        assert_eq!((c.sub.as_str(), c.role.as_str(), c.tv), ("s1", "reviewer", 3));
        assert!(verify_access(b"another-key-0123456789abcdef0123456", &t).is_err());
        let mut c2 = c.clone();
        c2.exp = now - 3600;
        c2.iat = now - 7200;
        c2.nbf = now - 7200;
        assert_eq!(verify_access(KEY, &encode(KEY, &c2).unwrap()), Err(TokenError::Expired));
        let mut c3 = c.clone();
        c3.nbf = now + 3600;
        assert_eq!(verify_access(KEY, &encode(KEY, &c3).unwrap()), Err(TokenError::NotYetValid));
        let mut c4 = c;
        c4.aud = AUD_REFRESH.into();
        assert!(verify_access(KEY, &encode(KEY, &c4).unwrap()).is_err());
        assert_eq!(token_hash("a").len(), 64);
        assert_ne!(random_token(), random_token());
    }
}
