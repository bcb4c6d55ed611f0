//! The draw verifier that runs in the auditor's own browser
//! (`static/verify/`), served from the binary at `/verify/`: the page, its
//! script and stylesheet. No login; nothing is sent back to the server.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

const FILES: [(&str, &str, &str); 4] = [
    ("", "text/html; charset=utf-8", include_str!("../../../static/verify/verify.html")),
    ("verify-draw.js", "text/javascript; charset=utf-8", include_str!("../../../static/verify/verify-draw.js")),
    ("verify-page.js", "text/javascript; charset=utf-8", include_str!("../../../static/verify/verify-page.js")),
    ("verify.css", "text/css; charset=utf-8", include_str!("../../../static/verify/verify.css")),
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/verify",
        web::get().to(|| async { HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/verify/")).finish() }),
    )
    .route("/verify/{file:.*}", web::get().to(file));
}

async fn file(path: web::Path<String>) -> Result<HttpResponse, crate::error::AppError> {
    let name = path.into_inner();
    let (_, mime, body) =
        FILES.iter().find(|(n, _, _)| *n == name || (n.is_empty() && name == "verify.html")).ok_or(crate::error::AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(*mime)
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        // The page runs only its own scripts; records are read locally.
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .body(*body))
}
