//! A campaign's admission policy (招生方案): set, freeze, dry run.

use crate::db::{audit, catchment as dbc, policy as dbp, Db, DbConn};
use crate::draw::digest_hex;
use crate::error::AppError;

/// Stores a new policy (already validated by the caller) unless the campaign's
/// policy is frozen. Audited as `policy.set`. Returns the previous version.
pub fn set_policy(db: &Db, campaign_id: &str, toml_text: &str, version: &str, actor: &str) -> Result<String, AppError> {
    db.write_blocking(|conn| {
        let c = dbc::load_campaign(conn, campaign_id)?;
        if let Some(at) = c.policy_frozen_at {
            return Err(AppError::conflict(
                "policy_frozen",
                format!("招生批次「{campaign_id}」的招生方案已于 {} 冻结（UTC），不能再修改", at.format("%Y-%m-%d %H:%M:%S")),
            ));
        }
        dbp::store_policy(conn, campaign_id, toml_text, version)?;
        audit::append(
            conn,
            actor,
            "policy.set",
            &format!("campaign:{campaign_id}"),
            Some(&serde_json::json!({ "version": c.policy_version, "sha256": digest_hex(c.policy_toml.as_bytes()) })),
            Some(&serde_json::json!({ "version": version, "sha256": digest_hex(toml_text.as_bytes()) })),
        )?;
        Ok(c.policy_version)
    })
}

/// Freezes the campaign's policy. Idempotent: returns `(frozen_at, newly)`;
/// only a new freeze is audited.
pub fn freeze_policy(db: &Db, campaign_id: &str, actor: &str) -> Result<(chrono::NaiveDateTime, bool), AppError> {
    db.write_blocking(|conn| freeze_policy_in(conn, campaign_id, actor))
}

/// Freezes the campaign's policy inside the caller's transaction (opening
/// registration does this too). Returns the freeze time and whether this
/// call froze it; a frozen policy stays as it was.
pub fn freeze_policy_in(conn: &mut DbConn, campaign_id: &str, actor: &str) -> Result<(chrono::NaiveDateTime, bool), AppError> {
    let c = dbc::load_campaign(conn, campaign_id)?;
    if let Some(at) = c.policy_frozen_at {
        return Ok((at, false));
    }
    let now = crate::db::now();
    dbp::mark_frozen(conn, campaign_id, now)?;
    audit::append(
        conn,
        actor,
        "policy.freeze",
        &format!("campaign:{campaign_id}"),
        Some(&serde_json::json!({ "frozen_at": null })),
        Some(&serde_json::json!({
            "frozen_at": now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            "version": c.policy_version,
            "sha256": digest_hex(c.policy_toml.as_bytes()),
        })),
    )?;
    Ok((now, true))
}

/// A campaign's dry run over its current applications, with what it left out.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DryRun {
    pub campaign_id: String,
    pub policy_name: String,
    pub policy_version: String,
    /// Applications in the dry-run statuses.
    pub read: usize,
    /// Of those, the ones whose keys could be computed.
    pub counted: usize,
    /// Chinese lines: applications left out and why (for admins and
    /// operators only: they name registration numbers).
    #[schema(required = false)]
    pub skipped: Vec<String>,
    pub report: crate::policy::DryRunReport,
}

/// Loads the campaign's policy, rules, seats and applications and runs the
/// pure dry run (`crate::policy::dry_run`). A missing or invalid stored policy
/// is a conflict with a Chinese message.
pub fn dry_run(conn: &mut DbConn, campaign_id: &str) -> Result<DryRun, AppError> {
    use crate::policy as po;
    let campaign = dbc::load_campaign(conn, campaign_id)?;
    if campaign.policy_toml.trim().is_empty() {
        return Err(AppError::conflict("policy_missing", format!("招生批次「{campaign_id}」尚未设置招生方案")));
    }
    let policy = po::Policy::load_toml(&campaign.policy_toml)
        .map_err(|e| AppError::conflict("policy_invalid", format!("招生批次「{campaign_id}」保存的招生方案无效：{e}")))?;
    let rules = dbc::load_rules(conn, campaign_id)?;
    let dir = dbc::load_directory(conn, campaign_id)?;
    let seats = dbc::load_seats(conn, campaign_id)?;
    let facts = dbp::load_dry_run_facts(conn, campaign_id)?;
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

/// The dry run for the staff console: `format` `csv` or `placement_csv`
/// downloads are recorded in the audit log like every export. Returns the
/// run and every campaign to choose from.
pub async fn staff_dry_run(
    cx: &super::Ctx,
    actor: String,
    campaign: Option<String>,
    format: Option<String>,
) -> Result<(DryRun, Vec<(String, String)>), AppError> {
    cx.db
        .write(move |c| {
            let (chosen, all) = super::dashboard::choose_campaign(c, campaign)?;
            let run = dry_run(c, &chosen).map_err(|e| match e {
                AppError::NotFound => AppError::invalid("campaign", "没有这个招生计划"),
                other => other,
            })?;
            if let Some(f) = &format {
                audit::append(
                    c,
                    &actor,
                    "export.dry_run",
                    &format!("campaign:{chosen}"),
                    None,
                    Some(&serde_json::json!({"format": f, "schools": run.report.schools.len(), "counted": run.counted})),
                )?;
            }
            Ok((run, all))
        })
        .await
}
