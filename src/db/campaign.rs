//! Campaign lifecycle queries: the counts the phase checks read, the status
//! update, and the rows a new campaign copies from last year's.

use super::models::{Campaign, CatchmentRuleRow, SchoolPlan, Zone, ZoneSchool};
use super::schema::{applications, campaigns, catchment_rules, review_decisions, school_plans, zone_schools, zones};
use super::DbConn;
use crate::domain::{ApplicationStatus, CampaignStatus};
use crate::error::AppError;
use diesel::prelude::*;

/// What a campaign has, for the lifecycle checks and the campaign list.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub school_plans: i64,
    pub zones: i64,
    pub catchment_rules: i64,
    /// Applications by status code.
    pub by_status: Vec<(ApplicationStatus, i64)>,
    /// Overrides of this campaign's applications waiting for a second staff member.
    pub pending_seconds: i64,
}

impl Counts {
    pub fn status(&self, s: ApplicationStatus) -> i64 {
        self.by_status.iter().filter(|(k, _)| *k == s).map(|(_, n)| *n).sum()
    }
}

pub fn counts(conn: &mut DbConn, campaign_id: &str) -> Result<Counts, AppError> {
    let school_plans = school_plans::table.filter(school_plans::campaign_id.eq(campaign_id)).count().get_result(conn)?;
    let zones = zones::table.filter(zones::campaign_id.eq(campaign_id)).count().get_result(conn)?;
    let catchment_rules = catchment_rules::table.filter(catchment_rules::campaign_id.eq(campaign_id)).count().get_result(conn)?;
    let mut by_status = Vec::new();
    for s in ApplicationStatus::ALL {
        let n: i64 = applications::table
            .filter(applications::campaign_id.eq(campaign_id))
            .filter(applications::status.eq(*s))
            .count()
            .get_result(conn)?;
        if n > 0 {
            by_status.push((*s, n));
        }
    }
    let pending_seconds = review_decisions::table
        .inner_join(applications::table)
        .filter(applications::campaign_id.eq(campaign_id))
        .filter(review_decisions::needs_second.eq(true))
        .filter(review_decisions::second_reviewer_id.is_null())
        .count()
        .get_result(conn)?;
    Ok(Counts { school_plans, zones, catchment_rules, by_status, pending_seconds })
}

/// Moves the campaign from `from` to `to`; false when its status was no
/// longer `from` (someone else moved it first).
pub fn set_status(conn: &mut DbConn, campaign_id: &str, from: CampaignStatus, to: CampaignStatus) -> Result<bool, AppError> {
    let n = diesel::update(campaigns::table.filter(campaigns::id.eq(campaign_id)).filter(campaigns::status.eq(from)))
        .set(campaigns::status.eq(to))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn all(conn: &mut DbConn) -> Result<Vec<Campaign>, AppError> {
    Ok(campaigns::table
        .order((campaigns::year.desc(), campaigns::grade.asc(), campaigns::id.asc()))
        .select(Campaign::as_select())
        .load(conn)?)
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<Campaign>, AppError> {
    Ok(campaigns::table.find(id).select(Campaign::as_select()).first(conn).optional()?)
}

/// The campaign of `year` and `grade`, if one exists (they are unique together).
pub fn by_year_grade(conn: &mut DbConn, year: i32, grade: i32) -> Result<Option<String>, AppError> {
    Ok(campaigns::table.filter(campaigns::year.eq(year)).filter(campaigns::grade.eq(grade)).select(campaigns::id).first(conn).optional()?)
}

/// Everything a campaign copies from another: plans, zones with their
/// schools, catchment rules.
pub struct Setup {
    pub plans: Vec<SchoolPlan>,
    pub zones: Vec<Zone>,
    pub zone_schools: Vec<ZoneSchool>,
    pub rules: Vec<CatchmentRuleRow>,
}

pub fn setup_of(conn: &mut DbConn, campaign_id: &str) -> Result<Setup, AppError> {
    let plans = school_plans::table
        .filter(school_plans::campaign_id.eq(campaign_id))
        .order(school_plans::school_id.asc())
        .select(SchoolPlan::as_select())
        .load(conn)?;
    let zones: Vec<Zone> =
        zones::table.filter(zones::campaign_id.eq(campaign_id)).order(zones::code.asc()).select(Zone::as_select()).load(conn)?;
    let zone_ids: Vec<String> = zones.iter().map(|z| z.id.clone()).collect();
    let zone_schools = zone_schools::table
        .filter(zone_schools::zone_id.eq_any(zone_ids))
        .order((zone_schools::zone_id.asc(), zone_schools::position.asc()))
        .select(ZoneSchool::as_select())
        .load(conn)?;
    let rules = catchment_rules::table
        .filter(catchment_rules::campaign_id.eq(campaign_id))
        .order(catchment_rules::position.asc())
        .select(CatchmentRuleRow::as_select())
        .load(conn)?;
    Ok(Setup { plans, zones, zone_schools, rules })
}

/// Inserts a new campaign and its setup (rows already carrying the new ids).
pub fn insert_with_setup(conn: &mut DbConn, c: &Campaign, s: &Setup) -> Result<(), AppError> {
    diesel::insert_into(campaigns::table).values(c).execute(conn)?;
    for p in &s.plans {
        diesel::insert_into(school_plans::table).values(p).execute(conn)?;
    }
    for z in &s.zones {
        diesel::insert_into(zones::table).values(z).execute(conn)?;
    }
    for zs in &s.zone_schools {
        diesel::insert_into(zone_schools::table).values(zs).execute(conn)?;
    }
    for r in &s.rules {
        diesel::insert_into(catchment_rules::table).values(r).execute(conn)?;
    }
    Ok(())
}

/// A school's plan in a campaign: `(planned_classes, class_size_cap)`.
pub fn plan_of(conn: &mut DbConn, campaign_id: &str, school_id: &str) -> Result<Option<(i32, i32)>, AppError> {
    Ok(school_plans::table
        .filter(school_plans::campaign_id.eq(campaign_id))
        .filter(school_plans::school_id.eq(school_id))
        .select((school_plans::planned_classes, school_plans::class_size_cap))
        .first(conn)
        .optional()?)
}

pub fn set_plan(conn: &mut DbConn, campaign_id: &str, school_id: &str, classes: i32, cap: i32) -> Result<(), AppError> {
    diesel::update(school_plans::table.filter(school_plans::campaign_id.eq(campaign_id)).filter(school_plans::school_id.eq(school_id)))
        .set((school_plans::planned_classes.eq(classes), school_plans::class_size_cap.eq(cap)))
        .execute(conn)?;
    Ok(())
}
