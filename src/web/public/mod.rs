//! Pages and APIs for everyone, without login.

pub mod lookup;
pub mod verify;

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    lookup::routes(cfg);
    verify::routes(cfg);
}
