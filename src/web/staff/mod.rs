//! The staff console: login, accounts, review, dashboard, exports, the
//! campaign lifecycle and the audit pages, as server-rendered pages ([`pages`], `/staff/…`, cookies)
//! and a JSON API ([`api`], `/api/v1/staff/…`, `Authorization: Bearer`).
//!
//! Authentication ([`identity`]): a short-lived HS256 access token (see
//! [`crate::staff::auth`]) and an opaque rotating refresh token. Pages carry
//! them in HttpOnly SameSite=Strict cookies (Secure when
//! `security.cookie_secure`); the API accepts only the Bearer header and
//! never reads the cookies, so a browser cannot be tricked into calling it.
//!
//! CSRF: every form post carries a double-submit token — a random value in
//! the `ruxue_csrf` cookie (SameSite=Strict) that the form must repeat in
//! its `csrf` field; a mismatch is refused with 403 before anything runs.

pub mod after;
pub mod api;
pub mod draw_pages;
pub mod draws;
pub mod identity;
pub mod pages;

pub use identity::{StaffIdentity, ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE};

use crate::domain::Role;
use actix_web::web;

/// Registers the routes and lists them as `ROUTES` from one table, so the
/// list the role-matrix test checks is exactly what is served.
macro_rules! route_table {
    ($( $method:ident $path:literal => $handler:path ),* $(,)?) => {
        /// Every staff route as `(method, path)`, in registration order.
        pub const ROUTES: &[(&str, &str)] = &[ $( (stringify!($method), $path) ),* ];

        pub fn routes(cfg: &mut web::ServiceConfig) {
            $( cfg.route($path, web::$method().to($handler)); )*
        }
    };
}

route_table! {
    get "/staff" => pages::home,
    get "/staff/login" => pages::login_page,
    post "/staff/login" => pages::login_form,
    get "/staff/refresh" => pages::refresh_page,
    post "/staff/logout" => pages::logout_form,
    get "/staff/password" => pages::password_page,
    post "/staff/password" => pages::password_form,
    get "/staff/review" => pages::queue_page,
    get "/staff/review/{id}" => pages::detail_page,
    post "/staff/review/{id}" => pages::decide_form,
    post "/staff/review/{id}/assign" => pages::assign_form,
    post "/staff/decisions/{id}/second" => pages::second_form,
    get "/staff/documents/{id}" => pages::document_page,
    get "/staff/dashboard" => pages::dashboard_page,
    get "/staff/dry-run" => pages::dry_run_page,
    get "/staff/exports/{kind}" => pages::export_page,
    get "/staff/audit" => pages::audit_page,
    get "/staff/audit/export" => pages::audit_export_page,
    get "/staff/accounts" => pages::accounts_page,
    post "/staff/accounts" => pages::accounts_create_form,
    post "/staff/accounts/{id}/password" => pages::accounts_reset_form,
    post "/staff/accounts/{id}/state" => pages::accounts_state_form,
    get "/staff/campaigns" => pages::campaigns_page,
    post "/staff/campaigns" => pages::campaign_copy_form,
    post "/staff/campaigns/{id}/advance" => pages::campaign_advance_form,
    get "/staff/notifications" => pages::notifications_page,
    post "/staff/notifications/{id}/resend" => pages::notification_resend_form,
    get "/staff/draws" => draw_pages::list_page,
    post "/staff/draws" => draw_pages::freeze_form,
    get "/staff/draws/{id}" => draw_pages::draw_page,
    post "/staff/draws/{id}/witnesses" => draw_pages::witness_form,
    post "/staff/draws/{id}/witnesses/{wid}/value" => draw_pages::witness_value_form,
    post "/staff/draws/{id}/announce" => draw_pages::announce_form,
    post "/staff/draws/{id}/beacon" => draw_pages::beacon_form,
    post "/staff/draws/{id}/run" => draw_pages::run_form,
    post "/staff/draws/{id}/publish" => draw_pages::publish_form,
    post "/api/v1/staff/login" => api::login,
    post "/api/v1/staff/refresh" => api::refresh,
    post "/api/v1/staff/logout" => api::logout,
    get "/api/v1/staff/me" => api::me,
    post "/api/v1/staff/password" => api::password,
    get "/api/v1/staff/review/queue" => api::queue,
    get "/api/v1/staff/review/applications/{id}" => api::detail,
    post "/api/v1/staff/review/applications/{id}/decisions" => api::decide,
    post "/api/v1/staff/review/applications/{id}/assign" => api::assign,
    post "/api/v1/staff/review/decisions/{id}/second" => api::second,
    get "/api/v1/staff/documents/{id}" => api::document,
    get "/api/v1/staff/dashboard" => api::dashboard,
    get "/api/v1/staff/dry-run" => api::dry_run,
    get "/api/v1/staff/draws/plan" => api::draw_plan,
    get "/api/v1/staff/draws" => draws::list,
    post "/api/v1/staff/draws" => draws::freeze,
    get "/api/v1/staff/draws/{id}" => draws::one,
    post "/api/v1/staff/draws/{id}/witnesses" => draws::add_witness,
    post "/api/v1/staff/draws/{id}/witnesses/{wid}/value" => draws::witness_value,
    post "/api/v1/staff/draws/{id}/announce" => draws::announce,
    post "/api/v1/staff/draws/{id}/beacon" => draws::beacon,
    post "/api/v1/staff/draws/{id}/run" => draws::run,
    post "/api/v1/staff/draws/{id}/publish" => draws::publish,
    get "/api/v1/staff/exports/{kind}" => api::export,
    get "/api/v1/staff/audit" => api::audit,
    get "/api/v1/staff/audit/export" => api::audit_export,
    get "/api/v1/staff/accounts" => api::accounts,
    post "/api/v1/staff/accounts" => api::accounts_create,
    post "/api/v1/staff/accounts/{id}/password" => api::accounts_reset,
    post "/api/v1/staff/accounts/{id}/state" => api::accounts_state,
    get "/api/v1/staff/campaigns" => api::campaigns,
    post "/api/v1/staff/campaigns" => api::campaign_copy,
    post "/api/v1/staff/campaigns/{id}/advance" => api::campaign_advance,
    get "/staff/placements" => after::placements_page,
    post "/staff/placements" => after::placement_form,
    post "/staff/placements/{id}/decide" => after::placement_decide_form,
    get "/api/v1/staff/placements" => after::placements_api,
    post "/api/v1/staff/placements" => after::placement_api,
    post "/api/v1/staff/placements/{id}/decide" => after::placement_decide_api,
    post "/api/v1/staff/offers/admit-all" => after::admit_all_api,
    get "/staff/notices/schools/{school}" => after::school_notices,
    get "/staff/notices/{id}" => after::notice,
    get "/staff/rosters/{school}" => after::roster,
    get "/staff/indicators" => after::indicators_page,
    get "/api/v1/staff/notices/schools/{school}" => after::school_notices,
    get "/api/v1/staff/notices/{id}" => after::notice,
    get "/api/v1/staff/rosters/{school}" => after::roster,
    get "/api/v1/staff/indicators" => after::indicators_api,
    post "/api/v1/staff/campaigns/{id}/plans/{school}" => api::campaign_plan,
    get "/api/v1/staff/notifications" => api::notifications,
    post "/api/v1/staff/notifications/{id}/resend" => api::notification_resend,
}

// ------------------------------------------------------------ roles

pub const REVIEWERS: &[Role] = &[Role::Admin, Role::Reviewer];
/// Who may open one application: reviewers, and auditors read-only with
/// personal data masked.
pub const READERS: &[Role] = &[Role::Admin, Role::Reviewer, Role::Auditor];
pub const EVERYONE: &[Role] = &[Role::Admin, Role::Reviewer, Role::Operator, Role::Auditor];
pub const AUDIT: &[Role] = &[Role::Admin, Role::Auditor];
pub const ADMIN: &[Role] = &[Role::Admin];
/// County-wide aggregates of the policy dry run.
pub const DRY_RUN: &[Role] = &[Role::Admin, Role::Operator, Role::Auditor];
/// The dry run's list of children needing placement (registration numbers).
pub const PLACEMENT: &[Role] = &[Role::Admin, Role::Operator];
/// The notification outbox: read by the bureau's admins, operators and
/// auditors; only admins resend.
pub const NOTIFY_READ: &[Role] = crate::service::notify::READ_ROLES;

/// Checks the dry run's `format` for `id`: csv for everyone who sees the dry
/// run, the placement list only for those who place children.
fn dry_run_format(id: &StaffIdentity, format: &Option<String>) -> Result<Option<String>, crate::error::AppError> {
    id.require(DRY_RUN)?;
    let format = format.clone().filter(|f| !f.is_empty());
    match format.as_deref() {
        None | Some("csv") => {}
        Some("placement_csv") => id.require(PLACEMENT)?,
        Some(_) => return Err(crate::error::AppError::invalid("format", "格式只能是 csv 或 placement_csv")),
    }
    Ok(format)
}

/// A download as an attachment that no cache keeps.
fn attachment(d: crate::service::export::Download) -> actix_web::HttpResponse {
    use actix_web::http::header;
    actix_web::HttpResponse::Ok()
        .content_type(d.mime)
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", d.filename)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(d.bytes)
}

/// A stored document (no-store): images inline, anything else (PDF) as a
/// download, always under `Content-Security-Policy: sandbox` and `nosniff`,
/// so that even a file that slipped past the upload checks runs nothing in
/// the console's origin.
fn inline_document(doc: &crate::db::models::Document, bytes: Vec<u8>) -> actix_web::HttpResponse {
    use actix_web::http::header;
    let (mime, ext) = crate::service::review::document_type(&doc.mime);
    let disposition = if mime.starts_with("image/") { "inline" } else { "attachment" };
    let name = crate::registration::upload::safe_filename(&format!("{}{ext}", doc.kind));
    actix_web::HttpResponse::Ok()
        .content_type(mime)
        .insert_header((header::CONTENT_DISPOSITION, format!("{disposition}; filename=\"{name}\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_SECURITY_POLICY, crate::web::guard::DOCUMENT_CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(bytes)
}

/// The dry run as a CSV download.
fn dry_run_csv(run: &crate::service::policy::DryRun, format: &str) -> actix_web::HttpResponse {
    let (body, name) = if format == "placement_csv" {
        (crate::policy::placement_csv(&run.report), "placement")
    } else {
        (crate::policy::dry_run_csv(&run.report), "dry-run")
    };
    attachment(crate::service::export::Download {
        bytes: body.into_bytes(),
        mime: "text/csv; charset=utf-8",
        filename: format!("{}-{name}.csv", run.campaign_id),
    })
}
