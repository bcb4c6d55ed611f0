//! A campaign's policy document in the database: store, mark frozen, and
//! the applicant facts the dry run needs.

use super::schema;
use super::DbConn;
use crate::domain::ApplicationStatus;
use crate::error::AppError;
use diesel::prelude::*;

/// Writes a campaign's policy document and version.
pub fn store_policy(conn: &mut DbConn, campaign_id: &str, toml_text: &str, version: &str) -> Result<(), AppError> {
    diesel::update(schema::campaigns::table.filter(schema::campaigns::id.eq(campaign_id)))
        .set((schema::campaigns::policy_toml.eq(toml_text), schema::campaigns::policy_version.eq(version)))
        .execute(conn)?;
    Ok(())
}

/// Marks a campaign's policy frozen at `at`.
pub fn mark_frozen(conn: &mut DbConn, campaign_id: &str, at: chrono::NaiveDateTime) -> Result<(), AppError> {
    diesel::update(schema::campaigns::table.filter(schema::campaigns::id.eq(campaign_id)))
        .set(schema::campaigns::policy_frozen_at.eq(Some(at)))
        .execute(conn)?;
    Ok(())
}

/// `(registration_no, facts_json)` of the campaign's applications in the
/// dry-run statuses, in registration-number order.
pub fn load_dry_run_facts(conn: &mut DbConn, campaign_id: &str) -> Result<Vec<(String, String)>, AppError> {
    Ok(schema::applications::table
        .filter(schema::applications::campaign_id.eq(campaign_id))
        .filter(schema::applications::status.eq_any(ApplicationStatus::IN_DRY_RUN))
        .order(schema::applications::registration_no.asc())
        .select((schema::applications::registration_no, schema::applications::facts_json))
        .load(conn)?)
}
