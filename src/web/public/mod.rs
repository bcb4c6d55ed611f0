//! Pages and APIs for everyone, without login.

pub mod draws;
pub mod keys;
pub mod lookup;
pub mod portal;
pub mod results;
pub mod verify;

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    draws::routes(cfg);
    keys::routes(cfg);
    lookup::routes(cfg);
    portal::routes(cfg);
    results::routes(cfg);
    verify::routes(cfg);
}
