//! A campaign's policy document in the database: set, freeze, and the
//! applicant facts the dry run needs.

use super::schema;
use super::DbConn;
use crate::error::AppError;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Stores a new policy (already validated by the caller) unless the campaign's
/// policy is frozen. Audited as `policy.set`. Returns the previous version.
pub fn set_policy(
    db: &super::Db,
    campaign_id: &str,
    toml_text: &str,
    version: &str,
    actor: &str,
) -> Result<String, AppError> {
    db.write_blocking(|conn| {
        let c = super::catchment::load_campaign(conn, campaign_id)?;
        if let Some(at) = c.policy_frozen_at {
            return Err(AppError::conflict(
                "policy_frozen",
                format!("招生批次「{campaign_id}」的招生方案已于 {} 冻结（UTC），不能再修改", at.format("%Y-%m-%d %H:%M:%S")),
            ));
        }
        diesel::update(schema::campaigns::table.filter(schema::campaigns::id.eq(campaign_id)))
            .set((schema::campaigns::policy_toml.eq(toml_text), schema::campaigns::policy_version.eq(version)))
            .execute(conn)?;
        super::audit::append(
            conn,
            actor,
            "policy.set",
            &format!("campaign:{campaign_id}"),
            Some(&serde_json::json!({ "version": c.policy_version, "sha256": sha256_hex(&c.policy_toml) })),
            Some(&serde_json::json!({ "version": version, "sha256": sha256_hex(toml_text) })),
        )?;
        Ok(c.policy_version)
    })
}

/// Freezes the campaign's policy. Idempotent: returns `(frozen_at, newly)`;
/// only a new freeze is audited.
pub fn freeze_policy(
    db: &super::Db,
    campaign_id: &str,
    actor: &str,
) -> Result<(chrono::NaiveDateTime, bool), AppError> {
    db.write_blocking(|conn| freeze_policy_in(conn, campaign_id, actor))
}

/// Freezes the campaign's policy inside the caller's transaction (opening
/// registration does this too). Returns the freeze time and whether this
/// call froze it; a frozen policy stays as it was.
pub fn freeze_policy_in(
    conn: &mut super::DbConn,
    campaign_id: &str,
    actor: &str,
) -> Result<(chrono::NaiveDateTime, bool), AppError> {
    let c = super::catchment::load_campaign(conn, campaign_id)?;
    if let Some(at) = c.policy_frozen_at {
        return Ok((at, false));
    }
    let now = super::now();
    diesel::update(schema::campaigns::table.filter(schema::campaigns::id.eq(campaign_id)))
        .set(schema::campaigns::policy_frozen_at.eq(Some(now)))
        .execute(conn)?;
    super::audit::append(
        conn,
        actor,
        "policy.freeze",
        &format!("campaign:{campaign_id}"),
        Some(&serde_json::json!({ "frozen_at": null })),
        Some(&serde_json::json!({
            "frozen_at": now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            "version": c.policy_version,
            "sha256": sha256_hex(&c.policy_toml),
        })),
    )?;
    Ok((now, true))
}

/// Statuses whose applications take part in the dry run.
pub const DRY_RUN_STATUSES: [&str; 3] = ["approved", "under_review", "submitted"];

/// `(registration_no, facts_json)` of the campaign's applications in the
/// dry-run statuses, in registration-number order.
pub fn load_dry_run_facts(conn: &mut DbConn, campaign_id: &str) -> Result<Vec<(String, String)>, AppError> {
    Ok(schema::applications::table
        .filter(schema::applications::campaign_id.eq(campaign_id))
        .filter(schema::applications::status.eq_any(DRY_RUN_STATUSES))
        .order(schema::applications::registration_no.asc())
        .select((schema::applications::registration_no, schema::applications::facts_json))
        .load(conn)?)
}

/// A campaign's dry run over its current applications, with what it left out.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DryRun {
    pub campaign_id: String,
    pub policy_name: String,
    pub policy_version: String,
    /// Applications in the dry-run statuses.
    pub read: usize,
    /// Of those, the ones whose keys could be computed.
    pub counted: usize,
    /// Chinese lines: applications left out and why.
    pub skipped: Vec<String>,
    pub report: crate::policy::DryRunReport,
}

/// Loads the campaign's policy, rules, seats and applications and runs the
/// pure dry run (`crate::policy::dry_run`). A missing or invalid stored policy
/// is a conflict with a Chinese message.
pub fn dry_run(conn: &mut DbConn, campaign_id: &str) -> Result<DryRun, AppError> {
    use crate::policy as po;
    use super::catchment as dbc;
    let campaign = dbc::load_campaign(conn, campaign_id)?;
    if campaign.policy_toml.trim().is_empty() {
        return Err(AppError::conflict("policy_missing", format!("招生批次「{campaign_id}」尚未设置招生方案")));
    }
    let policy = po::Policy::load_toml(&campaign.policy_toml).map_err(|e| {
        AppError::conflict("policy_invalid", format!("招生批次「{campaign_id}」保存的招生方案无效：{e}"))
    })?;
    let rules = dbc::load_rules(conn, campaign_id)?;
    let dir = dbc::load_directory(conn, campaign_id)?;
    let seats = dbc::load_seats(conn, campaign_id)?;
    let facts = load_dry_run_facts(conn, campaign_id)?;
    let ctx = po::CatchmentContext { rules: &rules, directory: &dir };
    let mut keys = Vec::new();
    let mut skipped = Vec::new();
    for (no, json) in &facts {
        match serde_json::from_str::<po::ApplicantFacts>(json) {
            Err(e) => skipped.push(format!("{no}：申报信息无法读取（{e}）")),
            Ok(f) => match po::compute_keys(&f, &policy, &ctx) {
                Ok(k) => keys.push(k),
                Err(e) => skipped.push(format!("{no}：{e}")),
            },
        }
    }
    let mut ids: Vec<String> = seats.keys().cloned().collect();
    ids.extend(keys.iter().flat_map(|k| k.schools.iter().map(|s| s.school_id.clone())));
    let names = po::names_from_directory(ids, &dir);
    let report = po::dry_run(&keys, &seats, &names);
    Ok(DryRun {
        campaign_id: campaign_id.to_string(),
        policy_name: policy.name.clone(),
        policy_version: policy.version.clone(),
        read: facts.len(),
        counted: keys.len(),
        skipped,
        report,
    })
}
