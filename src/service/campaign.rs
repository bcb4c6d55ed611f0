//! A campaign's lifecycle: opening registration, moving through the phases
//! (checked by [`crate::registration::lifecycle`]), and a new campaign from
//! last year's.

use crate::config::Settings;
use crate::db::registration::{self as dbr, Calendar};
use crate::db::{audit, catchment as dbc, now, Db};
use crate::domain::CampaignStatus;
use crate::error::AppError;
use chrono::{Duration, NaiveDateTime};
use serde_json::json;

/// What `ruxue campaign open` did.
#[derive(Debug, Clone)]
pub struct Opened {
    pub previous_status: CampaignStatus,
    pub opens: NaiveDateTime,
    pub closes: NaiveDateTime,
}

/// Opens a campaign for registration from now for `days` days, moving the later
/// phase dates after it by the configured `calendar` offsets. A `draft`
/// campaign may always be opened; any other only when `allow_reopen` (the
/// development and demo environments, to try registration), and the audit
/// log says so.
pub fn open_registration(
    db: &Db,
    settings: &Settings,
    campaign_id: &str,
    days: i64,
    allow_reopen: bool,
    actor: &str,
) -> Result<Opened, AppError> {
    let offsets = &settings.calendar;
    if !(1..=90).contains(&days) {
        return Err(AppError::invalid("days", "报名天数应在 1 到 90 天之间"));
    }
    db.write_blocking(|conn| {
        let campaign = dbc::load_campaign(conn, campaign_id)?;
        if campaign.status != CampaignStatus::Draft && !allow_reopen {
            return Err(AppError::conflict(
                "campaign_not_draft",
                format!("招生批次「{campaign_id}」当前状态为 {}，只有草稿状态的批次可以开始报名", campaign.status),
            ));
        }
        let t = now();
        let closes = t + Duration::days(days);
        let cal = Calendar {
            registration_opens: t,
            registration_closes: closes,
            review_deadline: closes + Duration::days(offsets.review_days_after_close),
            draw_day: closes + Duration::days(offsets.draw_days_after_close),
            offer_deadline: closes + Duration::days(offsets.offer_days_after_close),
        };
        dbr::set_calendar(conn, campaign_id, CampaignStatus::Registration, &cal)?;
        audit::append(
            conn,
            actor,
            "campaign.open_registration",
            &format!("campaign:{campaign_id}"),
            Some(&json!({"status": campaign.status, "registration_opens": campaign.registration_opens.to_string(), "registration_closes": campaign.registration_closes.to_string()})),
            Some(&json!({"status": "registration", "registration_opens": t.to_string(), "registration_closes": closes.to_string(), "reopened": campaign.status != CampaignStatus::Draft})),
        )?;
        // The published policy is frozen from the moment registration opens.
        crate::service::policy::freeze_policy_in(conn, campaign_id, actor)?;
        Ok(Opened { previous_status: campaign.status, opens: t, closes })
    })
}

// ---------------------------------------------------------------- phases

use crate::db::campaign as dbk;
use crate::db::DbConn;
use crate::domain::ApplicationStatus;
use crate::registration::lifecycle::{self, Options, Snapshot};
use serde::Serialize;

/// The campaign's snapshot for the lifecycle checks, read in `conn`'s transaction.
fn snapshot_in(conn: &mut DbConn, c: &crate::db::models::Campaign) -> Result<(Snapshot, dbk::Counts), AppError> {
    let k = dbk::counts(conn, &c.id)?;
    let s = Snapshot {
        policy_frozen: c.policy_frozen_at.is_some(),
        school_plans: k.school_plans,
        catchment_rules: k.catchment_rules,
        registration_closes: c.registration_closes,
        submitted: k.status(ApplicationStatus::Submitted),
        under_review: k.status(ApplicationStatus::UnderReview),
        supplement: k.status(ApplicationStatus::Supplement),
        appealed: k.status(ApplicationStatus::Appealed),
        pending_seconds: k.pending_seconds,
    };
    Ok((s, k))
}

/// A step that was taken.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Advanced {
    pub campaign_id: String,
    pub from: CampaignStatus,
    pub to: CampaignStatus,
    pub from_label: &'static str,
    pub to_label: &'static str,
}

/// Parses a phase code (`review`) or its Chinese label (`审核中`).
pub fn parse_phase(field: &str, s: &str) -> Result<CampaignStatus, AppError> {
    let s = s.trim();
    CampaignStatus::parse(s).or_else(|| CampaignStatus::ALL.iter().copied().find(|p| p.label() == s)).ok_or_else(|| {
        let all: Vec<String> = CampaignStatus::ALL.iter().map(|p| format!("{}（{}）", p.as_str(), p.label())).collect();
        AppError::invalid(field, format!("不认识的阶段「{s}」；可选：{}", all.join("、")))
    })
}

/// The refusal of a step: 409 on `status`, every reason in the message.
fn refused(campaign_id: &str, from: CampaignStatus, to: CampaignStatus, reasons: &[String]) -> AppError {
    AppError::Conflict {
        code: "campaign_step_refused",
        message: format!("招生批次「{campaign_id}」不能从「{}」进入「{}」：{}", from.label(), to.label(), reasons.join("；")),
        field: Some("status".into()),
    }
}

enum Outcome {
    Done(Advanced),
    Refused(CampaignStatus, Vec<String>),
}

fn advance_in(conn: &mut DbConn, actor: &str, campaign_id: &str, to: CampaignStatus, opts: Options) -> Result<Outcome, AppError> {
    let c = dbk::find(conn, campaign_id)?.ok_or(AppError::NotFound)?;
    let (snap, _) = snapshot_in(conn, &c)?;
    let target = format!("campaign:{campaign_id}");
    if let Err(reasons) = lifecycle::check(c.status, to, &snap, opts, now()) {
        // Refusals of an admin action are kept too: who tried what, and why not.
        audit::append(
            conn,
            actor,
            "campaign.advance_refused",
            &target,
            Some(&json!({"status": c.status})),
            Some(&json!({"requested": to, "reasons": reasons})),
        )?;
        return Ok(Outcome::Refused(c.status, reasons));
    }
    if !dbk::set_status(conn, campaign_id, c.status, to)? {
        return Err(AppError::conflict("campaign_changed", "招生批次的阶段刚被其他人修改，请刷新后重试"));
    }
    audit::append(
        conn,
        actor,
        "campaign.advance",
        &target,
        Some(&json!({"status": c.status})),
        Some(&json!({
            "status": to,
            "close_registration_early": opts.close_registration_early && c.status == CampaignStatus::Registration,
        })),
    )?;
    Ok(Outcome::Done(Advanced { campaign_id: c.id, from: c.status, to, from_label: c.status.label(), to_label: to.label() }))
}

fn settle(campaign_id: &str, to: CampaignStatus, o: Outcome) -> Result<Advanced, AppError> {
    match o {
        Outcome::Done(a) => Ok(a),
        Outcome::Refused(from, reasons) => Err(refused(campaign_id, from, to, &reasons)),
    }
}

/// Moves a campaign one phase forward when [`lifecycle::check`] allows it,
/// in one transaction with its `campaign.advance` audit entry. A refusal is
/// a 409 (`field: "status"`) naming every reason, and is itself audited as
/// `campaign.advance_refused`. An unknown campaign is 404.
pub fn advance_blocking(db: &Db, actor: &str, campaign_id: &str, to: CampaignStatus, opts: Options) -> Result<Advanced, AppError> {
    let o = db.write_blocking(|conn| advance_in(conn, actor, campaign_id, to, opts))?;
    settle(campaign_id, to, o)
}

/// [`advance_blocking`] for the console and the API.
pub async fn advance(
    cx: &crate::service::Ctx,
    actor: String,
    campaign_id: String,
    to: CampaignStatus,
    opts: Options,
) -> Result<Advanced, AppError> {
    let id = campaign_id.clone();
    let o = cx.db.write(move |conn| advance_in(conn, &actor, &id, to, opts)).await?;
    settle(&campaign_id, to, o)
}

/// One campaign as the lifecycle page and `GET /api/v1/staff/campaigns` show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CampaignPhase {
    pub id: String,
    pub year: i32,
    pub grade: i32,
    pub name: String,
    pub status: CampaignStatus,
    pub status_label: &'static str,
    pub next: Option<CampaignStatus>,
    pub next_label: Option<&'static str>,
    /// Why the next step is refused right now (empty: it may be taken).
    pub blocked_by: Vec<String>,
    /// Registration is open and its closing time not reached: the step to
    /// review needs the explicit early close.
    pub needs_early_close: bool,
    pub policy_version: String,
    pub policy_frozen: bool,
    pub registration_closes: NaiveDateTime,
    pub school_plans: i64,
    pub zones: i64,
    pub catchment_rules: i64,
    pub applications: Vec<(ApplicationStatus, &'static str, i64)>,
    pub pending_seconds: i64,
}

/// Every campaign with its phase, the next one and what stands in its way.
pub async fn phases(cx: &crate::service::Ctx) -> Result<Vec<CampaignPhase>, AppError> {
    cx.db.run(phases_in).await
}

/// [`phases`] for the command line.
pub fn phases_blocking(db: &Db) -> Result<Vec<CampaignPhase>, AppError> {
    let mut conn = db.get()?;
    phases_in(&mut conn)
}

fn phases_in(conn: &mut DbConn) -> Result<Vec<CampaignPhase>, AppError> {
    let t = now();
    let mut out = Vec::new();
    for c in dbk::all(conn)? {
        let (snap, k) = snapshot_in(conn, &c)?;
        let next = lifecycle::next(c.status);
        let blocked_by = match next {
            Some(n) => lifecycle::check(c.status, n, &snap, Options::default(), t).err().unwrap_or_default(),
            None => Vec::new(),
        };
        let needs_early_close = c.status == CampaignStatus::Registration && t < c.registration_closes;
        out.push(CampaignPhase {
            status_label: c.status.label(),
            next_label: next.map(CampaignStatus::label),
            next,
            blocked_by,
            needs_early_close,
            policy_frozen: c.policy_frozen_at.is_some(),
            school_plans: k.school_plans,
            zones: k.zones,
            catchment_rules: k.catchment_rules,
            applications: k.by_status.iter().map(|(s, n)| (*s, s.label(), *n)).collect(),
            pending_seconds: k.pending_seconds,
            id: c.id,
            year: c.year,
            grade: c.grade,
            name: c.name,
            status: c.status,
            policy_version: c.policy_version,
            registration_closes: c.registration_closes,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------- a new campaign from last year's

/// What to copy: the campaign to start from, the new year and, optionally,
/// the new id (by default the old id with its year replaced, `2027-G1` →
/// `2028-G1`, else `{year}-G{grade}`).
#[derive(Debug, Clone)]
pub struct CopyInput {
    pub from: String,
    pub year: i32,
    pub id: Option<String>,
}

/// What a copy created.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Copied {
    pub id: String,
    pub from: String,
    pub year: i32,
    pub grade: i32,
    pub name: String,
    pub status: CampaignStatus,
    pub policy_version: String,
    pub school_plans: usize,
    pub zones: usize,
    pub zone_schools: usize,
    pub catchment_rules: usize,
}

fn shift_years(t: NaiveDateTime, years: i32) -> NaiveDateTime {
    let months = chrono::Months::new(years.unsigned_abs() * 12);
    let shifted = if years >= 0 { t.checked_add_months(months) } else { t.checked_sub_months(months) };
    shifted.unwrap_or(t)
}

fn valid_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Replaces the campaign-id prefix of a row id (`2027-G7-JA` → `2028-G7-JA`).
fn rekey(old_row_id: &str, from: &str, to: &str) -> String {
    match old_row_id.strip_prefix(from) {
        Some(rest) => format!("{to}{rest}"),
        None => format!("{to}-{old_row_id}"),
    }
}

fn copy_in(conn: &mut DbConn, actor: &str, input: &CopyInput) -> Result<Copied, AppError> {
    let src = dbk::find(conn, &input.from)?.ok_or_else(|| AppError::invalid("from", format!("招生批次「{}」不存在", input.from)))?;
    if !(2000..=2100).contains(&input.year) {
        return Err(AppError::invalid("year", "年份应在 2000 到 2100 之间"));
    }
    let id = match input.id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => id.to_string(),
        None => {
            let y = src.year.to_string();
            match src.id.strip_prefix(&y) {
                Some(rest) => format!("{}{rest}", input.year),
                None => format!("{}-G{}", input.year, src.grade),
            }
        }
    };
    if !valid_id(&id) {
        return Err(AppError::invalid("id", "批次编号只能由字母、数字、连字符组成，最长 32 个字符"));
    }
    if let Some(existing) = dbk::by_year_grade(conn, input.year, src.grade)? {
        return Err(AppError::Conflict {
            code: "campaign_exists",
            message: format!("{} 年{}年级的招生批次已存在（「{existing}」），不能重复创建", input.year, src.grade),
            field: Some("year".into()),
        });
    }
    if dbk::find(conn, &id)?.is_some() {
        return Err(AppError::Conflict {
            code: "campaign_exists",
            message: format!("批次编号「{id}」已被使用，请换一个"),
            field: Some("id".into()),
        });
    }
    let years = input.year - src.year;
    let policy_version = format!("{}.1", input.year);
    let name = if src.name.contains(&src.year.to_string()) {
        src.name.replace(&src.year.to_string(), &input.year.to_string())
    } else {
        format!("{} {}", input.year, src.name)
    };
    let t = now();
    let campaign = crate::db::models::Campaign {
        id: id.clone(),
        year: input.year,
        grade: src.grade,
        name: name.clone(),
        status: CampaignStatus::Draft,
        registration_opens: shift_years(src.registration_opens, years),
        registration_closes: shift_years(src.registration_closes, years),
        review_deadline: shift_years(src.review_deadline, years),
        draw_day: shift_years(src.draw_day, years),
        offer_deadline: shift_years(src.offer_deadline, years),
        min_age: src.min_age,
        max_age: src.max_age,
        age_cutoff: src.age_cutoff.clone(),
        policy_toml: lifecycle::with_policy_version(&src.policy_toml, &policy_version),
        policy_version: policy_version.clone(),
        policy_frozen_at: None,
        four_eyes: src.four_eyes,
        created_at: t,
        supplement_expiry: src.supplement_expiry,
        appeal_days: src.appeal_days,
        offer_days: src.offer_days,
    };
    let old = dbk::setup_of(conn, &src.id)?;
    let zone_map: std::collections::HashMap<String, String> =
        old.zones.iter().map(|z| (z.id.clone(), format!("{id}-{}", z.code))).collect();
    let setup = dbk::Setup {
        plans: old.plans.iter().map(|p| crate::db::models::SchoolPlan { campaign_id: id.clone(), ..p.clone() }).collect(),
        zones: old
            .zones
            .iter()
            .map(|z| crate::db::models::Zone { id: zone_map[&z.id].clone(), campaign_id: id.clone(), ..z.clone() })
            .collect(),
        zone_schools: old
            .zone_schools
            .iter()
            .map(|zs| crate::db::models::ZoneSchool { zone_id: zone_map[&zs.zone_id].clone(), ..zs.clone() })
            .collect(),
        rules: old
            .rules
            .iter()
            .map(|r| crate::db::models::CatchmentRuleRow {
                id: rekey(&r.id, &src.id, &id),
                campaign_id: id.clone(),
                target_zone_id: r.target_zone_id.as_ref().map(|z| zone_map.get(z).cloned().unwrap_or_else(|| rekey(z, &src.id, &id))),
                ..r.clone()
            })
            .collect(),
    };
    dbk::insert_with_setup(conn, &campaign, &setup)?;
    let copied = Copied {
        id: id.clone(),
        from: src.id.clone(),
        year: input.year,
        grade: src.grade,
        name,
        status: CampaignStatus::Draft,
        policy_version: policy_version.clone(),
        school_plans: setup.plans.len(),
        zones: setup.zones.len(),
        zone_schools: setup.zone_schools.len(),
        catchment_rules: setup.rules.len(),
    };
    audit::append(
        conn,
        actor,
        "campaign.copy",
        &format!("campaign:{id}"),
        Some(&json!({"from": src.id, "year": src.year, "policy_version": src.policy_version})),
        Some(&serde_json::to_value(&copied).map_err(AppError::internal)?),
    )?;
    Ok(copied)
}

/// Creates a new campaign in `draft` from an existing one: the same grade,
/// school plans (classes, class-size caps), zones with their schools,
/// catchment rules and policy TOML (unfrozen, version `{year}.1`), the
/// calendar moved by the difference in years; audited as `campaign.copy`.
/// A second campaign for the same year and grade, or a taken id, is a 409.
pub fn copy_blocking(db: &Db, actor: &str, input: CopyInput) -> Result<Copied, AppError> {
    db.write_blocking(|conn| copy_in(conn, actor, &input))
}

/// [`copy_blocking`] for the console and the API.
pub async fn copy(cx: &crate::service::Ctx, actor: String, input: CopyInput) -> Result<Copied, AppError> {
    cx.db.write(move |conn| copy_in(conn, &actor, &input)).await
}

/// A school's classes and class size in a campaign, as an admin sets them.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PlanChange {
    pub campaign_id: String,
    pub school_id: String,
    pub planned_classes: i32,
    pub class_size_cap: i32,
    pub seats: i64,
}

/// Change a school's plan. Refused (409, audited) once a frozen draw holds
/// the school's seats; the class size never above the configured cap
/// (消除大班额: 45 in primary, 50 in junior).
pub async fn set_plan(
    cx: &crate::service::Ctx,
    actor: String,
    campaign_id: String,
    school_id: String,
    classes: i64,
    cap: i64,
) -> Result<PlanChange, AppError> {
    let target = format!("school_plan:{campaign_id}/{school_id}");
    let adm = cx.settings.admission.clone();
    let a2 = actor.clone();
    let r = cx
        .db
        .write(move |c| {
            let camp = dbk::find(c, &campaign_id)?.ok_or(AppError::NotFound)?;
            let max = if camp.grade >= 7 { adm.class_cap_junior } else { adm.class_cap_primary } as i64;
            if !(0..=60).contains(&classes) {
                return Err(AppError::invalid("planned_classes", "班数应在 0 到 60 之间"));
            }
            if !(1..=max).contains(&cap) {
                return Err(AppError::invalid("class_size_cap", format!("班额应在 1 到 {max} 人之间（不得超过大班额标准）")));
            }
            let before = dbk::plan_of(c, &campaign_id, &school_id)?.ok_or(AppError::NotFound)?;
            crate::service::draw::guard_school(c, &campaign_id, &school_id)?;
            dbk::set_plan(c, &campaign_id, &school_id, classes as i32, cap as i32)?;
            let target = format!("school_plan:{campaign_id}/{school_id}");
            audit::append(
                c,
                &actor,
                "campaign.plan_set",
                &target,
                Some(&serde_json::json!({"planned_classes": before.0, "class_size_cap": before.1})),
                Some(&serde_json::json!({"planned_classes": classes, "class_size_cap": cap})),
            )?;
            Ok(PlanChange { campaign_id, school_id, planned_classes: classes as i32, class_size_cap: cap as i32, seats: classes * cap })
        })
        .await;
    crate::service::draw::audited(cx, &a2, &target, r).await
}
