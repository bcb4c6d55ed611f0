//! Pages and APIs for everyone, without login.

pub mod lookup;

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    lookup::routes(cfg);
}
