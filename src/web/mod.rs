//! HTTP: application state, the server, routes and middleware, by
//! audience: [`parent`] (WeChat-linked mobile forms and their API),
//! [`staff`] (the console's pages and API), [`public`] (no login).
//! Handlers stay thin: they parse, call one `crate::service` use case, render.

/// Registers API routes from one table and lists them as `(method, full
/// path)`, so that the list the OpenAPI test compares with the document is
/// exactly what the router serves. Adding an endpoint is one line here plus
/// its `#[utoipa::path]` and one line in [`openapi::ApiDoc`]'s `paths(…)`.
///
/// `scope "/prefix"`: a `fn scoped(Scope) -> Scope` (paths relative to the
/// prefix, so the scope keeps its middleware); `config`: a
/// `fn register(&mut ServiceConfig)` with full paths.
macro_rules! api_table {
    (scope $prefix:literal; $( $method:ident $path:literal => $handler:path ),* $(,)?) => {
        /// Every API route of this table as `(method, full path)`.
        pub const API_ROUTES: &[(&str, &str)] = &[ $( (stringify!($method), concat!($prefix, $path)) ),* ];
        /// The table's routes, added to the scope at `$prefix`.
        pub fn scoped<T>(scope: actix_web::Scope<T>) -> actix_web::Scope<T>
        where
            T: actix_web::dev::ServiceFactory<
                actix_web::dev::ServiceRequest,
                Config = (),
                Error = actix_web::Error,
                InitError = (),
            >,
        {
            scope $( .route($path, actix_web::web::$method().to($handler)) )*
        }
    };
    (config; $( $method:ident $path:literal => $handler:path ),* $(,)?) => {
        /// Every API route of this table as `(method, path)`.
        pub const API_ROUTES: &[(&str, &str)] = &[ $( (stringify!($method), $path) ),* ];
        pub fn register(cfg: &mut actix_web::web::ServiceConfig) {
            $( cfg.route($path, actix_web::web::$method().to($handler)); )*
        }
    };
}

pub mod auth;
pub mod client_addr;
pub mod errors;
pub mod guard;
pub mod health;
pub mod openapi;
pub mod page;
pub mod parent;
pub mod public;
pub mod ratelimit;
pub mod shapes;
pub mod staff;
pub mod telemetry;
pub mod templates;

use crate::config::Settings;
use crate::db::Db;
use crate::error::AppError;
use crate::service::Ctx;
use actix_web::dev::Server;
use actix_web::{web, App, HttpResponse, HttpServer};
use std::net::TcpListener;
use std::sync::Arc;

/// What every handler can reach: the use cases' context (settings and
/// database, reachable as `state.settings` and `state.db` too), the
/// templates and the per-address limiter.
#[derive(Clone)]
pub struct AppState {
    pub ctx: Ctx,
    pub templates: Arc<minijinja::Environment<'static>>,
    pub public_limiter: Arc<ratelimit::RateLimiter>,
    /// The limits every instance on the database shares (`web::guard`).
    pub rate_limiter: Arc<ratelimit::SharedLimiter>,
    /// The result lookup's own, stricter limit.
    pub results_limiter: Arc<ratelimit::RateLimiter>,
    /// `server.trusted_proxies`, parsed (checked when the settings load).
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
}

impl std::ops::Deref for AppState {
    type Target = Ctx;
    fn deref(&self) -> &Ctx {
        &self.ctx
    }
}

impl AppState {
    pub fn new(settings: Settings, db: Db) -> Self {
        let limiter = ratelimit::RateLimiter::per_minute(settings.server.public_rate_per_minute);
        let shared = Arc::new(ratelimit::SharedLimiter::new(&settings, &db));
        let results = ratelimit::RateLimiter::per_minute(settings.server.results_rate_per_minute);
        let trusted = client_addr::parse_trusted(&settings.server.trusted_proxies).unwrap_or_default();
        Self {
            ctx: Ctx::new(settings, db),
            templates: Arc::new(templates::environment()),
            public_limiter: Arc::new(limiter),
            rate_limiter: shared,
            results_limiter: Arc::new(results),
            trusted_proxies: Arc::new(trusted),
        }
    }

    /// The client's address, through the trusted proxies (`web::client_addr`).
    pub fn client_ip(&self, req: &actix_web::HttpRequest) -> Option<std::net::IpAddr> {
        let xff = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
        client_addr::client_addr(req.peer_addr().map(|a| a.ip()), xff, &self.trusted_proxies)
    }

    /// The per-address limit of the public result lookup (录取查询).
    pub fn check_results_rate(&self, req: &actix_web::HttpRequest) -> Result<(), AppError> {
        match self.client_ip(req) {
            Some(ip) if !self.results_limiter.check(ip) => Err(AppError::TooManyRequests),
            _ => Ok(()),
        }
    }

    /// The per-address limit of public, no-login requests (and staff logins).
    pub fn check_public_rate(&self, req: &actix_web::HttpRequest) -> Result<(), AppError> {
        match self.client_ip(req) {
            Some(ip) if !self.public_limiter.check(ip) => Err(AppError::TooManyRequests),
            _ => Ok(()),
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
            .wrap(actix_web::middleware::from_fn(guard::edge))
            .wrap(errors::handlers())
            // Outermost, so error pages rendered on the way out see it too.
            .wrap(actix_web::middleware::from_fn(page::scope))
            .wrap_fn(telemetry::echo_request_id)
            .wrap(telemetry::logger())
            .wrap(actix_web::middleware::from_fn(guard::security_headers))
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
            .configure(page::routes)
            .configure(public::routes)
            .configure(parent::routes)
            .configure(staff::routes)
            .default_service(web::to(not_found))
    })
    .workers(settings.server.workers.max(1))
    // A client that sends its headers or closes too slowly holds no connection for long.
    .client_request_timeout(std::time::Duration::from_millis(settings.server.client_request_timeout_ms))
    .client_disconnect_timeout(std::time::Duration::from_millis(settings.server.client_disconnect_timeout_ms))
    .shutdown_timeout(settings.server.shutdown_timeout_secs)
    .listen(listener)?
    .run();
    Ok(Running { port, server })
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
