//! Pages and APIs for everyone, without login.

pub mod draw_pages;
pub mod draws;
pub mod keys;
pub mod lookup;
pub mod portal;
pub mod verify;

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    draw_pages::routes(cfg);
    draws::routes(cfg);
    keys::routes(cfg);
    lookup::routes(cfg);
    portal::routes(cfg);
    verify::routes(cfg);
}
