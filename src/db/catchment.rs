//! Loading a campaign's catchment rules and its directory of schools and
//! zones from the database, for the pure resolver in `crate::catchment`.

use super::schema;
use super::DbConn;
use crate::catchment::{CatchmentRule, StaticDirectory};
use crate::error::AppError;
use diesel::prelude::*;

/// Rules of one campaign in their stored order. Zone targets are stored by
/// database id (`{campaign}-{code}`) but rules speak of zone codes.
pub fn load_rules(conn: &mut DbConn, campaign_id: &str) -> Result<Vec<CatchmentRule>, AppError> {
    let rows: Vec<String> = schema::catchment_rules::table
        .filter(schema::catchment_rules::campaign_id.eq(campaign_id))
        .order(schema::catchment_rules::position.asc())
        .select(schema::catchment_rules::rule_json)
        .load(conn)?;
    rows.iter().map(|j| serde_json::from_str(j).map_err(|e| AppError::internal(format!("stored catchment rule: {e}")))).collect()
}

/// Schools (by code) and the campaign's zones (by code, schools in announced order).
pub fn load_directory(conn: &mut DbConn, campaign_id: &str) -> Result<StaticDirectory, AppError> {
    let mut dir = StaticDirectory::default();
    let schools: Vec<(String, String)> = schema::schools::table.select((schema::schools::code, schema::schools::name)).load(conn)?;
    for (code, name) in &schools {
        dir = dir.school(code, name);
    }
    let zones: Vec<(String, String, String)> = schema::zones::table
        .filter(schema::zones::campaign_id.eq(campaign_id))
        .select((schema::zones::id, schema::zones::code, schema::zones::name))
        .load(conn)?;
    for (id, code, name) in zones {
        let members: Vec<String> = schema::zone_schools::table
            .inner_join(schema::schools::table)
            .filter(schema::zone_schools::zone_id.eq(&id))
            .order(schema::zone_schools::position.asc())
            .select(schema::schools::code)
            .load(conn)?;
        let refs: Vec<&str> = members.iter().map(String::as_str).collect();
        dir = dir.zone(&code, &name, &refs);
    }
    Ok(dir)
}

/// The campaign row, or a Chinese "not found" error naming it.
pub fn load_campaign(conn: &mut DbConn, campaign_id: &str) -> Result<super::models::Campaign, AppError> {
    schema::campaigns::table
        .filter(schema::campaigns::id.eq(campaign_id))
        .select(super::models::Campaign::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::invalid("campaign", format!("招生批次「{campaign_id}」不存在")))
}

fn rule_kind_code(k: &crate::catchment::RuleKind) -> &'static str {
    use crate::catchment::RuleKind;
    match k {
        RuleKind::Street { .. } => "street",
        RuleKind::Compound { .. } => "compound",
        RuleKind::Community { .. } => "community",
        RuleKind::Township { .. } => "township",
        RuleKind::Polygon { .. } => "polygon",
    }
}

/// Stores one rule at `position` of the campaign's list, with its target
/// already resolved to database ids.
pub fn insert_rule(
    conn: &mut DbConn,
    campaign_id: &str,
    position: usize,
    rule: &CatchmentRule,
    target_school_id: Option<String>,
    target_zone_id: Option<String>,
) -> Result<(), AppError> {
    diesel::insert_into(schema::catchment_rules::table)
        .values(super::models::CatchmentRuleRow {
            id: format!("{campaign_id}-{}", rule.id),
            campaign_id: campaign_id.to_string(),
            position: position as i32,
            precedence: rule.precedence,
            kind: rule_kind_code(&rule.kind).into(),
            township: rule.township().unwrap_or("").to_string(),
            target_school_id,
            target_zone_id,
            rule_json: serde_json::to_string(rule).map_err(AppError::internal)?,
        })
        .execute(conn)?;
    Ok(())
}

/// Seats per school code (planned classes × class-size cap) for a campaign.
pub fn load_seats(conn: &mut DbConn, campaign_id: &str) -> Result<std::collections::BTreeMap<String, u32>, AppError> {
    let rows: Vec<(String, i32, i32)> = schema::school_plans::table
        .inner_join(schema::schools::table)
        .filter(schema::school_plans::campaign_id.eq(campaign_id))
        .select((schema::schools::code, schema::school_plans::planned_classes, schema::school_plans::class_size_cap))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(code, classes, cap)| {
            let seats = i64::from(classes.max(0)) * i64::from(cap.max(0));
            (code, u32::try_from(seats).unwrap_or(u32::MAX))
        })
        .collect())
}

/// `(id, name, grade, status)` of every campaign, newest year first.
pub fn campaign_grades(conn: &mut DbConn) -> Result<Vec<(String, String, i32, crate::domain::CampaignStatus)>, AppError> {
    Ok(schema::campaigns::table
        .order((schema::campaigns::year.desc(), schema::campaigns::grade.asc()))
        .select((schema::campaigns::id, schema::campaigns::name, schema::campaigns::grade, schema::campaigns::status))
        .load(conn)?)
}

/// `(id, name, grade)` of one campaign.
pub fn campaign_grade(conn: &mut DbConn, id: &str) -> Result<Option<(String, String, i32)>, AppError> {
    Ok(schema::campaigns::table
        .filter(schema::campaigns::id.eq(id))
        .select((schema::campaigns::id, schema::campaigns::name, schema::campaigns::grade))
        .first(conn)
        .optional()?)
}

/// School code → id, over all schools.
pub fn school_ids_by_code(conn: &mut DbConn) -> Result<Vec<(String, String)>, AppError> {
    Ok(schema::schools::table.select((schema::schools::code, schema::schools::id)).load(conn)?)
}

/// Zone code → id, for one campaign.
pub fn zone_ids_by_code(conn: &mut DbConn, campaign_id: &str) -> Result<Vec<(String, String)>, AppError> {
    Ok(schema::zones::table
        .filter(schema::zones::campaign_id.eq(campaign_id))
        .select((schema::zones::code, schema::zones::id))
        .load(conn)?)
}

/// Names of zones that belong to other campaigns and not to this one (the
/// 七年级 片区 seen from a 一年级 campaign), so its notice can leave them out.
pub fn zone_names_elsewhere(conn: &mut DbConn, campaign_id: &str) -> Result<Vec<String>, AppError> {
    let own: Vec<String> =
        schema::zones::table.filter(schema::zones::campaign_id.eq(campaign_id)).select(schema::zones::name).load(conn)?;
    let mut other: Vec<String> =
        schema::zones::table.filter(schema::zones::campaign_id.ne(campaign_id)).select(schema::zones::name).load(conn)?;
    other.retain(|n| !own.contains(n));
    other.sort();
    other.dedup();
    Ok(other)
}

/// Deletes a campaign's rules; returns how many there were.
pub fn delete_rules(conn: &mut DbConn, campaign_id: &str) -> Result<usize, AppError> {
    Ok(diesel::delete(schema::catchment_rules::table.filter(schema::catchment_rules::campaign_id.eq(campaign_id))).execute(conn)?)
}
