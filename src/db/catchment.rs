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
    rows.iter()
        .map(|j| serde_json::from_str(j).map_err(|e| AppError::internal(format!("stored catchment rule: {e}"))))
        .collect()
}

/// Schools (by code) and the campaign's zones (by code, schools in announced order).
pub fn load_directory(conn: &mut DbConn, campaign_id: &str) -> Result<StaticDirectory, AppError> {
    let mut dir = StaticDirectory::default();
    let schools: Vec<(String, String)> =
        schema::schools::table.select((schema::schools::code, schema::schools::name)).load(conn)?;
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

/// What [`replace_rules`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplaceOutcome {
    pub removed: usize,
    pub inserted: usize,
    /// The campaign status at the time (anything but `draft` needed `force`).
    pub status: String,
}

/// Replaces the campaign's rules, in one transaction: checks the phase (only
/// `draft` unless `force_after_open`), that every target school exists and
/// every zone code belongs to the campaign, deletes the old rows, inserts the
/// new ones in order and appends an audit entry. Nothing is written on error;
/// every error message is Chinese and names the rule id and its position.
pub fn replace_rules(
    db: &super::Db,
    campaign_id: &str,
    rules: &[CatchmentRule],
    file_sha256: &str,
    file_name: &str,
    force_after_open: bool,
    actor: &str,
) -> Result<ReplaceOutcome, AppError> {
    use crate::catchment::Target;
    use std::collections::{HashMap, HashSet};
    db.write_blocking(|conn| {
        let campaign = load_campaign(conn, campaign_id)?;
        if campaign.status != "draft" && !force_after_open {
            return Err(AppError::conflict(
                "campaign_open",
                format!(
                    "招生批次「{campaign_id}」已开始报名（当前状态：{}），不能再修改划片规则；确需修改请加 --force-after-open（将记入审计日志）",
                    campaign.status
                ),
            ));
        }
        let schools: HashMap<String, String> = schema::schools::table
            .select((schema::schools::code, schema::schools::id))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        let zones: HashMap<String, String> = schema::zones::table
            .filter(schema::zones::campaign_id.eq(campaign_id))
            .select((schema::zones::code, schema::zones::id))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        let mut problems = Vec::new();
        let mut seen = HashSet::new();
        for (i, r) in rules.iter().enumerate() {
            let n = i + 1;
            if !seen.insert(r.id.as_str()) {
                problems.push(format!("规则「{}」（第 {n} 条）：规则编号重复", r.id));
            }
            match &r.target {
                Target::School(code) if !schools.contains_key(code) => {
                    problems.push(format!("规则「{}」（第 {n} 条）：学校代码「{code}」不存在", r.id))
                }
                Target::Zone(code) if !zones.contains_key(code) => problems.push(format!(
                    "规则「{}」（第 {n} 条）：片区代码「{code}」不属于招生批次「{campaign_id}」",
                    r.id
                )),
                _ => {}
            }
        }
        if !problems.is_empty() {
            return Err(AppError::invalid("rules", problems.join("\n")));
        }
        let removed = diesel::delete(
            schema::catchment_rules::table.filter(schema::catchment_rules::campaign_id.eq(campaign_id)),
        )
        .execute(conn)?;
        for (position, r) in rules.iter().enumerate() {
            let (school, zone) = match &r.target {
                Target::School(code) => (schools.get(code).cloned(), None),
                Target::Zone(code) => (None, zones.get(code).cloned()),
            };
            insert_rule(conn, campaign_id, position, r, school, zone)?;
        }
        super::audit::append(
            conn,
            actor,
            "catchment.import",
            &format!("campaign:{campaign_id}"),
            Some(&serde_json::json!({ "rules": removed })),
            Some(&serde_json::json!({
                "rules": rules.len(),
                "file": file_name,
                "sha256": file_sha256,
                "status": campaign.status,
                "force_after_open": force_after_open && campaign.status != "draft",
            })),
        )?;
        Ok(ReplaceOutcome { removed, inserted: rules.len(), status: campaign.status })
    })
}

/// Seats per school code (planned classes × class-size cap) for a campaign.
pub fn load_seats(
    conn: &mut DbConn,
    campaign_id: &str,
) -> Result<std::collections::BTreeMap<String, u32>, AppError> {
    let rows: Vec<(String, i32, i32)> = schema::school_plans::table
        .inner_join(schema::schools::table)
        .filter(schema::school_plans::campaign_id.eq(campaign_id))
        .select((
            schema::schools::code,
            schema::school_plans::planned_classes,
            schema::school_plans::class_size_cap,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(code, classes, cap)| {
            let seats = i64::from(classes.max(0)) * i64::from(cap.max(0));
            (code, u32::try_from(seats).unwrap_or(u32::MAX))
        })
        .collect())
}
