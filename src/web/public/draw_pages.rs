//! The draw day's public pages (no login): every draw (`/draws`), one draw
//! (`/draws/{id}`), the hall's screen (`/draws/{id}/live`, updated through
//! server-sent events at `/draws/{id}/events`), and the witness's phone page
//! (`/witness/{token}`). Scripts and styles are files served from the
//! binary (`static/draw/`), never inline.

use crate::error::AppError;
use crate::service::{draw as svc, draw_page};
use crate::web::auth::{check_csrf, cookie, cookie_value, CookieSpec};
use crate::web::templates::render;
use crate::web::AppState;
use actix_web::cookie::SameSite;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use minijinja::context;
use serde::Deserialize;
use std::time::Duration;

const ASSETS: [(&str, &str, &str); 2] = [
    ("live.js", "text/javascript; charset=utf-8", include_str!("../../../static/draw/live.js")),
    ("draw.css", "text/css; charset=utf-8", include_str!("../../../static/draw/draw.css")),
];

/// The double-submit cookie of the witness's form.
const WITNESS_CSRF: &str = "ruxue_wcsrf";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/draws", web::get().to(list))
        .route("/draws/{id}", web::get().to(one))
        .route("/draws/{id}/live", web::get().to(live))
        .route("/draws/{id}/live/fragment", web::get().to(live_fragment))
        .route("/draws/{id}/events", web::get().to(events))
        .route("/draw-assets/{file}", web::get().to(asset))
        .route("/witness/{token}", web::get().to(witness_form))
        .route("/witness/{token}", web::post().to(witness_submit));
}

type Page = Result<HttpResponse, AppError>;

fn no_store(mut r: HttpResponse) -> HttpResponse {
    r.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    r
}

async fn asset(path: web::Path<String>) -> Page {
    let name = path.into_inner();
    let (_, mime, body) = ASSETS.iter().find(|(n, _, _)| *n == name).ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok().content_type(*mime).insert_header((header::CACHE_CONTROL, "public, max-age=300")).body(*body))
}

/// `GET /draws`: every draw with its campaign, schools, status and links.
async fn list(state: web::Data<AppState>) -> Page {
    let draws = svc::list(&state.ctx, None).await?;
    let ctx = context! { bureau => state.settings.bureau.name.clone(), draws => draws };
    render(&state.templates, "draws.html", ctx)
}

/// `GET /draws/{id}`: the announcement, roster, witnesses, beacon and results.
async fn one(state: web::Data<AppState>, path: web::Path<String>) -> Page {
    let id = path.into_inner();
    let p = draw_page::page(&state.ctx, id.clone()).await?;
    let jws = match svc::announcement(&state.ctx, id).await {
        Ok((jws, _)) => Some(jws),
        Err(AppError::Conflict { .. }) => None,
        Err(e) => return Err(e),
    };
    let ctx = context! {
        bureau => state.settings.bureau.name.clone(),
        p => p,
        jws => jws,
        fallback => state.settings.draw.fallback.clone(),
    };
    Ok(no_store(render(&state.templates, "draw.html", ctx)?))
}

/// `GET /draws/{id}/live`: the hall's projector screen (1920×1080).
async fn live(state: web::Data<AppState>, path: web::Path<String>) -> Page {
    let p = draw_page::page(&state.ctx, path.into_inner()).await?;
    let ctx = context! { bureau => state.settings.bureau.name.clone(), p => p };
    Ok(no_store(render(&state.templates, "draw_live.html", ctx)?))
}

/// `GET /draws/{id}/live/fragment`: the screen's changing part, re-fetched
/// by `live.js` on each event.
async fn live_fragment(state: web::Data<AppState>, path: web::Path<String>) -> Page {
    let p = draw_page::page(&state.ctx, path.into_inner()).await?;
    Ok(no_store(render(&state.templates, "draw_live_body.html", context! { p => p })?))
}

fn sse_event(key: &str) -> web::Bytes {
    web::Bytes::from(format!("event: state\ndata: {{\"key\":\"{key}\"}}\n\n"))
}

/// `GET /draws/{id}/events`: `text/event-stream`. The draw's state is read
/// from the database every second (so any instance behind a balancer
/// serves it); an event `state` is sent first and whenever it changes, a
/// comment keeps the connection open otherwise.
async fn events(state: web::Data<AppState>, path: web::Path<String>) -> Page {
    let id = path.into_inner();
    let first = draw_page::state_key(&state.ctx, id.clone()).await?;
    let head = web::Bytes::from(format!("retry: 3000\n\n{}", String::from_utf8_lossy(&sse_event(&first))));
    let tail = futures_util::stream::unfold((state, id, first), |(state, id, last)| async move {
        actix_web::rt::time::sleep(Duration::from_secs(1)).await;
        match draw_page::state_key(&state.ctx, id.clone()).await {
            Ok(key) if key != last => Some((Ok::<_, actix_web::Error>(sse_event(&key)), (state, id, key))),
            Ok(_) => Some((Ok(web::Bytes::from_static(b": -\n\n")), (state, id, last))),
            // The draw is gone or the database is down: end the stream; the
            // browser reconnects after `retry`.
            Err(_) => None,
        }
    });
    let stream = futures_util::stream::StreamExt::chain(futures_util::stream::once(async move { Ok(head) }), tail);
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .streaming(stream))
}

fn witness_cookie_spec(state: &AppState, max_age_secs: i64) -> CookieSpec {
    CookieSpec {
        path: "/witness",
        http_only: true,
        same_site: SameSite::Strict,
        secure: state.settings.security.cookie_secure,
        max_age_secs,
    }
}

fn witness_html(
    state: &AppState,
    token: &str,
    w: &draw_page::WitnessPage,
    csrf: &str,
    error: Option<String>,
    done: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let ctx = context! {
        bureau => state.settings.bureau.name.clone(),
        w => w,
        token => token,
        csrf => csrf,
        error => error,
        done => done,
    };
    Ok(no_store(render(&state.templates, "witness.html", ctx)?))
}

/// `GET /witness/{token}`: who the witness is, which draw, and the form.
async fn witness_form(state: web::Data<AppState>, req: HttpRequest, path: web::Path<String>) -> Page {
    let token = path.into_inner();
    let w = draw_page::witness_page(&state.ctx, token.clone()).await?;
    let csrf = cookie_value(&req, WITNESS_CSRF).filter(|c| c.len() >= 32).unwrap_or_else(crate::staff::auth::random_token);
    let mut r = witness_html(&state, &token, &w, &csrf, None, None)?;
    r.add_cookie(&cookie(WITNESS_CSRF, csrf, &witness_cookie_spec(&state, 3600))).map_err(AppError::internal)?;
    Ok(r)
}

#[derive(Debug, Deserialize)]
pub struct WitnessForm {
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub csrf: String,
}

/// `POST /witness/{token}`: commit (before the announcement) or reveal
/// (after it). A refusal is shown on the form, in Chinese, with its status.
async fn witness_submit(state: web::Data<AppState>, req: HttpRequest, path: web::Path<String>, form: web::Form<WitnessForm>) -> Page {
    let token = path.into_inner();
    let form = form.into_inner();
    check_csrf(&cookie_value(&req, WITNESS_CSRF).unwrap_or_default(), &form.csrf)?;
    let before = draw_page::witness_page(&state.ctx, token.clone()).await?;
    if form.value.trim().is_empty() {
        let e = AppError::invalid("value", "请输入随机数");
        let mut r = witness_html(&state, &token, &before, &form.csrf, Some(e.public_message()), None)?;
        *r.status_mut() = e.status_code();
        return Ok(r);
    }
    match svc::witness_link(&state.ctx, token.clone(), form.value).await {
        Ok((w, step)) => {
            let page = draw_page::WitnessPage { witness: svc::WitnessView::from(&w), draw: before.draw, step: "done" };
            witness_html(&state, &token, &page, &form.csrf, None, Some(step))
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. } | AppError::BadRequest { .. })) => {
            let mut r = witness_html(&state, &token, &before, &form.csrf, Some(e.public_message()), None)?;
            *r.status_mut() = e.status_code();
            Ok(r)
        }
        Err(e) => Err(e),
    }
}
