//! `GET /api/v1/keys`: the public key that signs draw announcements, as a
//! JWK set (RFC 7517), so that anyone can check a published announcement
//! (`ruxue draw verify --announcement JWS --key JWK`, or the browser
//! verifier at `/verify/`).

use crate::error::AppError;
use crate::web::AppState;
use actix_web::http::header;
use actix_web::{web, HttpResponse};

#[utoipa::path(get, path = "/api/v1/keys", tag = "public", security(()),
    responses((status = 200, description = "签署派位公告的公钥（JWK Set，RFC 7517）", content_type = "application/jwk-set+json", body = crate::web::shapes::JwkSet)))]
pub async fn keys(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    // The configuration was validated at start, so the key parses.
    let key = state.settings.draw_signing_key().map_err(AppError::internal)?;
    let jwk: serde_json::Value = serde_json::from_str(&key.public_jwk()).map_err(AppError::internal)?;
    let mut jwk = jwk;
    jwk["use"] = "sig".into();
    jwk["alg"] = "EdDSA".into();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .content_type("application/jwk-set+json")
        .json(serde_json::json!({ "keys": [jwk] })))
}
