//! Pages and APIs for everyone, without login.

pub mod draw_pages;
pub mod draws;
pub mod keys;
pub mod lookup;
pub mod portal;
pub mod results;
pub mod verify;

pub mod api_table {
    //! The public JSON APIs (no login), and the API's own description.
    use super::{draws, keys, lookup, results};
    use crate::web::openapi;
    api_table! { config;
        get "/api/v1/keys" => keys::keys,
        get "/api/v1/draws" => draws::list,
        get "/api/v1/draws/{id}" => draws::one,
        get "/api/v1/draws/{id}/announcement" => draws::announcement,
        get "/api/v1/draws/{id}/record" => draws::record,
        get "/api/v1/draws/{id}/roster" => draws::roster,
        get "/api/v1/draws/{id}/proof/{registration_no}" => draws::proof,
        post "/api/v1/witness/{token}" => draws::witness_api,
        post "/api/v1/results/lookup" => results::lookup_api,
        get "/api/v1/results/{cid}/schools/{id}/moves" => results::school_api,
        get "/api/v1/catchment/lookup" => lookup::lookup_api,
        get "/api/openapi.json" => openapi::document,
        get "/api/docs" => openapi::reference,
    }
}

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    draw_pages::routes(cfg);
    api_table::register(cfg);
    lookup::routes(cfg);
    portal::routes(cfg);
    results::routes(cfg);
    verify::routes(cfg);
}
