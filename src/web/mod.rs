//! HTTP: application state, the server, routes and middleware.
//! Handlers stay thin: they parse, call a domain function, render.

pub mod health;
pub mod lookup;
pub mod parent;
pub mod ratelimit;
pub mod staff;
pub mod telemetry;
pub mod templates;

use crate::config::Settings;
use crate::db::Db;
use crate::error::AppError;
use actix_web::dev::Server;
use actix_web::{web, App, HttpResponse, HttpServer};
use std::net::TcpListener;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub templates: Arc<minijinja::Environment<'static>>,
    pub public_limiter: Arc<ratelimit::RateLimiter>,
}

impl AppState {
    pub fn new(settings: Settings, db: Db) -> Self {
        let limiter = ratelimit::RateLimiter::per_minute(settings.server.public_rate_per_minute);
        Self {
            settings: Arc::new(settings),
            db,
            templates: Arc::new(templates::environment()),
            public_limiter: Arc::new(limiter),
        }
    }
}

/// A bound, not yet running server. Binding port 0 picks a free port,
/// which is how the tests run many servers side by side.
pub struct Running {
    pub port: u16,
    pub server: Server,
}

pub fn build(state: AppState) -> std::io::Result<Running> {
    let listener = TcpListener::bind(state.settings.bind_address())?;
    let port = listener.local_addr()?.port();
    let settings = state.settings.clone();
    let data = web::Data::new(state);
    let body_limit = settings.server.body_limit_bytes;
    let server = HttpServer::new(move || {
        App::new()
            .wrap_fn(telemetry::echo_request_id)
            .wrap(telemetry::logger())
            .wrap(actix_web::middleware::DefaultHeaders::new()
                .add(("X-Content-Type-Options", "nosniff"))
                .add(("Referrer-Policy", "same-origin"))
                .add(("X-Frame-Options", "DENY")))
            .app_data(data.clone())
            .app_data(web::JsonConfig::default().limit(body_limit).error_handler(|e, _| AppError::from(e).into()))
            .app_data(web::FormConfig::default().limit(body_limit).error_handler(|e, _| {
                AppError::BadRequest { code: "invalid_form", message: format!("表单内容无法读取：{e}"), field: None }.into()
            }))
            .app_data(web::PayloadConfig::default().limit(body_limit))
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                AppError::BadRequest { code: "invalid_query", message: format!("查询参数格式错误：{e}"), field: None }.into()
            }))
            .configure(health::routes)
            .configure(lookup::routes)
            .configure(parent::routes)
            .configure(staff::routes)
            .default_service(web::to(not_found))
    })
    .workers(settings.server.workers.max(1))
    .shutdown_timeout(settings.server.shutdown_timeout_secs)
    .listen(listener)?
    .run();
    Ok(Running { port, server })
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
