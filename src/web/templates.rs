//! Server-rendered pages (minijinja). Templates are compiled into the binary
//! so the one executable is the whole service; HTML is escaped by default.

use crate::error::AppError;
use actix_web::HttpResponse;
use minijinja::Environment;

pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.add_filter("bjt", beijing_time);
    for (name, source) in [
        ("base.html", include_str!("../../templates/base.html")),
        ("lookup.html", include_str!("../../templates/lookup.html")),
        ("portal_home.html", include_str!("../../templates/portal_home.html")),
        ("portal_catchment.html", include_str!("../../templates/portal_catchment.html")),
        ("portal_notice.html", include_str!("../../templates/portal_notice.html")),
        ("_policy_notice.html", include_str!("../../templates/_policy_notice.html")),
        ("api_docs.html", include_str!("../../templates/api_docs.html")),
        ("parent/_style.html", include_str!("../../templates/parent/_style.html")),
        ("parent/_macros.html", include_str!("../../templates/parent/_macros.html")),
        ("parent/message.html", include_str!("../../templates/parent/message.html")),
        ("parent/dev_login.html", include_str!("../../templates/parent/dev_login.html")),
        ("parent/home.html", include_str!("../../templates/parent/home.html")),
        ("parent/profile.html", include_str!("../../templates/parent/profile.html")),
        ("parent/notice.html", include_str!("../../templates/parent/notice.html")),
        ("parent/child.html", include_str!("../../templates/parent/child.html")),
        ("parent/documents.html", include_str!("../../templates/parent/documents.html")),
        ("parent/review.html", include_str!("../../templates/parent/review.html")),
        ("parent/status.html", include_str!("../../templates/parent/status.html")),
        ("staff_base.html", include_str!("../../templates/staff_base.html")),
        ("staff_login.html", include_str!("../../templates/staff_login.html")),
        ("staff_password.html", include_str!("../../templates/staff_password.html")),
        ("staff_queue.html", include_str!("../../templates/staff_queue.html")),
        ("staff_application.html", include_str!("../../templates/staff_application.html")),
        ("staff_dashboard.html", include_str!("../../templates/staff_dashboard.html")),
        ("staff_dry_run.html", include_str!("../../templates/staff_dry_run.html")),
        ("staff_audit.html", include_str!("../../templates/staff_audit.html")),
        ("staff_accounts.html", include_str!("../../templates/staff_accounts.html")),
        ("staff_campaigns.html", include_str!("../../templates/staff_campaigns.html")),
        ("staff_notifications.html", include_str!("../../templates/staff_notifications.html")),
        // Rendered by `crate::notify` (its own environment: the text body is not HTML-escaped).
        ("notify/email.html", include_str!("../../templates/notify/email.html")),
        ("notify/email.txt", include_str!("../../templates/notify/email.txt")),
        ("draws.html", include_str!("../../templates/draws.html")),
        ("draw.html", include_str!("../../templates/draw.html")),
        ("draw_live.html", include_str!("../../templates/draw_live.html")),
        ("draw_live_body.html", include_str!("../../templates/draw_live_body.html")),
        ("witness.html", include_str!("../../templates/witness.html")),
        ("staff_draws.html", include_str!("../../templates/staff_draws.html")),
        ("staff_draw.html", include_str!("../../templates/staff_draw.html")),
        ("staff_placements.html", include_str!("../../templates/staff_placements.html")),
        ("staff_indicators.html", include_str!("../../templates/staff_indicators.html")),
        ("results.html", include_str!("../../templates/results.html")),
        ("results_school.html", include_str!("../../templates/results_school.html")),
    ] {
        // The templates ship with the binary; a syntax error is caught by the tests.
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "template does not compile");
        }
    }
    env
}

pub fn render(env: &Environment<'static>, name: &str, ctx: minijinja::Value) -> Result<HttpResponse, AppError> {
    let tpl = env.get_template(name).map_err(AppError::internal)?;
    let ctx = minijinja::context! { page => crate::web::page::current(), ..ctx };
    let html = tpl.render(ctx).map_err(AppError::internal)?;
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(html))
}

#[cfg(test)]
mod tests {
    /// Every template compiles (a syntax error would otherwise only show at run time).
    #[test]
    fn templates_compile() {
        let env = super::environment();
        for name in [
            "staff_base.html",
            "staff_login.html",
            "staff_password.html",
            "staff_queue.html",
            "staff_application.html",
            "staff_dashboard.html",
            "staff_audit.html",
            "staff_accounts.html",
            "portal_home.html",
            "portal_catchment.html",
            "portal_notice.html",
            "_policy_notice.html",
            "api_docs.html",
            "base.html",
            "parent/notice.html",
            "parent/home.html",
            "staff_campaigns.html",
            "staff_notifications.html",
            "notify/email.html",
            "notify/email.txt",
            "draws.html",
            "draw.html",
            "draw_live.html",
            "draw_live_body.html",
            "witness.html",
            "staff_draws.html",
            "staff_draw.html",
            "staff_placements.html",
            "staff_indicators.html",
            "results.html",
            "results_school.html",
            "parent/status.html",
        ] {
            env.get_template(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

/// Template filter `bjt`: a stored UTC timestamp (as serialised,
/// `2027-07-01T08:00:00[.ffffff]`) shown in Beijing time, `2027-07-01 16:00`;
/// `bjt(true)` keeps the seconds. Anything unparsable is shown as it is.
fn beijing_time(value: String, seconds: Option<bool>) -> String {
    let parsed = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(&value, f).ok());
    match parsed {
        Some(t) => {
            let fmt = if seconds.unwrap_or(false) { "%Y-%m-%d %H:%M:%S" } else { "%Y-%m-%d %H:%M" };
            crate::db::beijing(t).format(fmt).to_string()
        }
        None => value,
    }
}

#[cfg(test)]
mod bjt_tests {
    #[test]
    fn utc_to_beijing() {
        assert_eq!(super::beijing_time("2027-07-01T20:30:00".into(), None), "2027-07-02 04:30");
        assert_eq!(super::beijing_time("2027-07-01T20:30:05.123456".into(), Some(true)), "2027-07-02 04:30:05");
        assert_eq!(super::beijing_time("not a time".into(), None), "not a time");
    }
}
