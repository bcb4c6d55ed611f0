//! A campaign's catchment map (划片): importing it, all or nothing.

use crate::catchment::CatchmentRule;
use crate::db::{audit, catchment as dbc, Db};
use crate::domain::CampaignStatus;
use crate::error::AppError;

/// What [`replace_rules`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplaceOutcome {
    pub removed: usize,
    pub inserted: usize,
    /// The campaign status at the time (anything but `draft` needed `force`).
    pub status: CampaignStatus,
}

/// Replaces the campaign's rules, in one transaction: checks the phase (only
/// `draft` unless `force_after_open`), that every target school exists and
/// every zone code belongs to the campaign, deletes the old rows, inserts the
/// new ones in order and appends an audit entry. Nothing is written on error;
/// every error message is Chinese and names the rule id and its position.
pub fn replace_rules(
    db: &Db,
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
        let campaign = dbc::load_campaign(conn, campaign_id)?;
        if campaign.status != CampaignStatus::Draft && !force_after_open {
            return Err(AppError::conflict(
                "campaign_open",
                format!(
                    "招生批次「{campaign_id}」已开始报名（当前状态：{}），不能再修改划片规则；确需修改请加 --force-after-open（将记入审计日志）",
                    campaign.status
                ),
            ));
        }
        let schools: HashMap<String, String> = dbc::school_ids_by_code(conn)?.into_iter().collect();
        let zones: HashMap<String, String> = dbc::zone_ids_by_code(conn, campaign_id)?.into_iter().collect();
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
        let removed = dbc::delete_rules(conn, campaign_id)?;
        for (position, r) in rules.iter().enumerate() {
            let (school, zone) = match &r.target {
                Target::School(code) => (schools.get(code).cloned(), None),
                Target::Zone(code) => (None, zones.get(code).cloned()),
            };
            dbc::insert_rule(conn, campaign_id, position, r, school, zone)?;
        }
        audit::append(
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
                "force_after_open": force_after_open && campaign.status != CampaignStatus::Draft,
            })),
        )?;
        Ok(ReplaceOutcome { removed, inserted: rules.len(), status: campaign.status })
    })
}

/// A campaign's rules and school directory (the campaign must exist).
pub fn campaign_map(
    conn: &mut crate::db::DbConn,
    campaign_id: &str,
) -> Result<(Vec<CatchmentRule>, crate::catchment::StaticDirectory), AppError> {
    dbc::load_campaign(conn, campaign_id)?;
    Ok((dbc::load_rules(conn, campaign_id)?, dbc::load_directory(conn, campaign_id)?))
}
