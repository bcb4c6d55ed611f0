//! Review queries: the queue, one application with its documents, decisions
//! (one transaction each, with events, outbox and audit), dashboard figures,
//! exports and the audit pages. Scope checks happen here so that no handler
//! can forget one: an application outside a reviewer's townships is
//! `NotFound`, never `Forbidden`, so its existence does not leak.

use super::models::{Application, ApplicationEvent, Campaign, Document, Notification};
use super::schema::{application_events as ev, applications as ap, campaigns, children as ch, documents, guardians as gu, review_decisions as rd, schools, staff, townships};
use super::{audit, new_id, now, DbConn};
use crate::error::AppError;
use crate::identity::{mask_name, IdCipher};
use crate::review::fraud::{self, Signal};
use crate::review::{self, Computed, DecisionRequest};
use crate::staff::{Identity, Role};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

// ---------------------------------------------------------------- helpers

fn load_app(conn: &mut DbConn, who: &Identity, id: &str) -> Result<Application, AppError> {
    let app: Application = ap::table.find(id).select(Application::as_select()).first(conn).optional()?.ok_or(AppError::NotFound)?;
    if !who.sees_township(app.township_id.as_deref()) {
        return Err(AppError::NotFound);
    }
    Ok(app)
}

pub fn campaign(conn: &mut DbConn, id: &str) -> Result<Campaign, AppError> {
    Ok(campaigns::table.find(id).select(Campaign::as_select()).first(conn)?)
}

pub fn campaigns_list(conn: &mut DbConn) -> Result<Vec<Campaign>, AppError> {
    Ok(campaigns::table.order((campaigns::year.desc(), campaigns::grade.asc())).select(Campaign::as_select()).load(conn)?)
}

/// Category codes a decision may name: the policy's, plus the care tier.
fn categories_of(c: &Campaign) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = match crate::policy::Policy::load_toml(&c.policy_toml) {
        Ok(p) => p.categories.iter().map(|k| (k.code.clone(), k.label.clone())).collect(),
        Err(_) => Vec::new(),
    };
    out.push(("CARE".into(), "政策性照顾".into()));
    out.push(("LOT".into(), "仅参加派位".into()));
    out
}

/// What the policy computes for an application now, from the guardian's facts.
pub fn computed(conn: &mut DbConn, c: &Campaign, app: &Application) -> Result<(Computed, Vec<String>), AppError> {
    let none = Computed { school_id: None, zone_id: None, category: None, priority_json: None, explanation: None };
    let Ok(policy) = crate::policy::Policy::load_toml(&c.policy_toml) else {
        return Ok((none, vec!["招生政策无法读取，无法计算类别".into()]));
    };
    let Ok(facts) = serde_json::from_str::<crate::policy::ApplicantFacts>(&app.facts_json) else {
        return Ok((none, vec!["申报信息无法读取".into()]));
    };
    let rules = super::catchment::load_rules(conn, &c.id)?;
    let dir = super::catchment::load_directory(conn, &c.id)?;
    let ctx = crate::policy::CatchmentContext { rules: &rules, directory: &dir };
    match crate::policy::compute_keys(&facts, &policy, &ctx) {
        Ok(keys) => match keys.schools.first() {
            Some(best) => Ok((
                Computed {
                    school_id: if best.zone_id.is_none() { Some(best.school_id.clone()) } else { None },
                    zone_id: best.zone_id.as_ref().map(|z| format!("{}-{z}", c.id)),
                    category: Some(best.category_code.clone()),
                    priority_json: serde_json::to_string(&best.key).ok(),
                    explanation: Some(best.explanation.clone()),
                },
                keys.notes,
            )),
            None => Ok((
                Computed {
                    category: Some("E".into()),
                    explanation: Some(keys.notes.first().cloned().unwrap_or_else(|| "无对口学校，由教育局统筹安排".into())),
                    ..none
                },
                keys.notes,
            )),
        },
        Err(e) => Ok((none, vec![format!("无法计算类别：{e}")])),
    }
}

pub fn fraud_config(settings: &crate::config::Settings) -> fraud::Config {
    fraud::Config { families_per_certificate: 1, non_residential_keywords: settings.admission.non_residential_keywords.clone() }
}

/// Every application as the fraud signals need it.
fn fraud_records(conn: &mut DbConn) -> Result<Vec<fraud::Record>, AppError> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(String, String, String, String, Option<String>, String, String)> = ap::table
        .inner_join(ch::table)
        .select((ap::id, ap::registration_no, ap::campaign_id, ch::guardian_id, ap::family_id, ch::id_number_hash, ap::facts_json))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, no, campaign, guardian, family, idh, facts)| {
            let facts = serde_json::from_str(&facts).ok()?;
            Some(fraud::Record {
                application_id: id,
                registration_no: no,
                campaign_id: campaign,
                guardian_id: guardian,
                family_id: family,
                id_number_hash: idh,
                facts,
            })
        })
        .collect())
}

pub fn signals_all(conn: &mut DbConn, cfg: &fraud::Config) -> Result<HashMap<String, Vec<Signal>>, AppError> {
    Ok(fraud::signals(&fraud_records(conn)?, cfg))
}

/// Display names of schools, zones and townships by id.
type Names = (HashMap<String, String>, HashMap<String, String>, HashMap<String, String>);

fn names(conn: &mut DbConn) -> Result<Names, AppError> {
    let s: Vec<(String, String)> = schools::table.select((schools::id, schools::name)).load(conn)?;
    let z: Vec<(String, String)> = super::schema::zones::table.select((super::schema::zones::id, super::schema::zones::name)).load(conn)?;
    let t: Vec<(String, String)> = townships::table.select((townships::id, townships::name)).load(conn)?;
    Ok((s.into_iter().collect(), z.into_iter().collect(), t.into_iter().collect()))
}

// ---------------------------------------------------------------- queue

#[derive(Debug, Clone, Default, serde::Deserialize, Serialize)]
pub struct QueueFilter {
    #[serde(default)]
    pub campaign: Option<String>,
    /// A school id or a zone id.
    #[serde(default)]
    pub school: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// A signal code, or `any`.
    #[serde(default)]
    pub signal: Option<String>,
    #[serde(default)]
    pub page: Option<i64>,
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

#[derive(Debug, Clone, Serialize)]
pub struct QueueRow {
    pub id: String,
    pub registration_no: String,
    pub campaign_id: String,
    pub child_name: String,
    pub id_number: String,
    pub township: String,
    pub target: String,
    pub category: Option<String>,
    pub status: String,
    pub status_label: &'static str,
    pub submitted_at: NaiveDateTime,
    pub signals: Vec<Signal>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Queue {
    pub rows: Vec<QueueRow>,
    pub total: usize,
    pub page: i64,
    pub pages: i64,
}

pub const PAGE_SIZE: usize = 30;

pub fn queue(conn: &mut DbConn, who: &Identity, f: &QueueFilter, cfg: &fraud::Config) -> Result<Queue, AppError> {
    if let Some(s) = nonempty(&f.status) {
        if !crate::db::models::APPLICATION_STATUSES.iter().any(|(c, _)| *c == s) {
            return Err(AppError::invalid("status", "没有这个状态"));
        }
    }
    if let Some(s) = nonempty(&f.signal) {
        if s != "any" && !fraud::SIGNAL_KINDS.iter().any(|(c, _)| *c == s) {
            return Err(AppError::invalid("signal", "没有这种风险提示"));
        }
    }
    let mut q = ap::table.inner_join(ch::table).into_boxed();
    if who.role != Role::Admin {
        q = q.filter(ap::township_id.eq_any(who.township_scope.clone()));
    }
    if let Some(c) = nonempty(&f.campaign) {
        q = q.filter(ap::campaign_id.eq(c.to_string()));
    }
    if let Some(s) = nonempty(&f.school) {
        q = q.filter(ap::catchment_school_id.eq(s.to_string()).or(ap::zone_id.eq(s.to_string())));
    }
    if let Some(c) = nonempty(&f.category) {
        q = q.filter(ap::category.eq(c.to_string()));
    }
    if let Some(s) = nonempty(&f.status) {
        q = q.filter(ap::status.eq(s.to_string()));
    }
    #[allow(clippy::type_complexity)]
    let rows: Vec<(String, String, String, String, String, Option<String>, Option<String>, Option<String>, Option<String>, String, NaiveDateTime)> = q
        .order((ap::submitted_at.asc(), ap::registration_no.asc()))
        .select((
            ap::id,
            ap::registration_no,
            ap::campaign_id,
            ch::name,
            ch::id_number_masked,
            ap::township_id,
            ap::catchment_school_id,
            ap::zone_id,
            ap::category,
            ap::status,
            ap::submitted_at,
        ))
        .load(conn)?;
    let mut signals = signals_all(conn, cfg)?;
    let (school_names, zone_names, township_names) = names(conn)?;
    let wanted = nonempty(&f.signal);
    let mut out: Vec<QueueRow> = rows
        .into_iter()
        .map(|(id, no, campaign, name, idm, township, school, zone, category, status, at)| {
            let sig = signals.remove(&id).unwrap_or_default();
            let target = match (&zone, &school) {
                (Some(z), _) => zone_names.get(z).cloned().unwrap_or_else(|| z.clone()),
                (None, Some(s)) => school_names.get(s).cloned().unwrap_or_else(|| s.clone()),
                _ => "（无对口学校）".into(),
            };
            QueueRow {
                id,
                registration_no: no,
                campaign_id: campaign,
                child_name: mask_name(&name),
                id_number: idm,
                township: township.as_ref().and_then(|t| township_names.get(t).cloned()).unwrap_or_else(|| "县外".into()),
                target,
                category,
                status_label: crate::db::models::status_label(&status),
                status,
                submitted_at: at,
                signals: sig,
            }
        })
        .filter(|r| match wanted {
            None => true,
            Some("any") => !r.signals.is_empty(),
            Some(code) => r.signals.iter().any(|s| s.code == code),
        })
        .collect();
    let total = out.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1) as i64;
    let page = f.page.unwrap_or(1).clamp(1, pages);
    let start = (page as usize - 1) * PAGE_SIZE;
    out = out.into_iter().skip(start).take(PAGE_SIZE).collect();
    Ok(Queue { rows: out, total, page, pages })
}

// ---------------------------------------------------------------- detail

#[derive(Debug, Clone, Serialize)]
pub struct DecisionView {
    pub id: String,
    pub decision: String,
    pub decision_label: &'static str,
    pub reason_code: Option<String>,
    pub reason_label: Option<&'static str>,
    pub note: String,
    pub override_school_id: Option<String>,
    pub override_category: Option<String>,
    pub needs_second: bool,
    pub pending_second: bool,
    pub second_reviewer: Option<String>,
    pub second_at: Option<NaiveDateTime>,
    pub second_outcome: Option<&'static str>,
    pub supplement_deadline: Option<NaiveDateTime>,
    pub reviewer_id: String,
    pub reviewer: String,
    pub created_at: NaiveDateTime,
}

pub fn decision_label(d: &str) -> &'static str {
    match d {
        "approve" => "审核通过",
        "reject" => "驳回",
        "supplement" => "要求补充材料",
        "note" => "备注",
        _ => "",
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentView {
    pub id: String,
    pub kind: String,
    pub kind_label: String,
    pub mime: String,
    pub size_bytes: i64,
    pub uploaded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct Detail {
    pub id: String,
    pub registration_no: String,
    pub campaign_id: String,
    pub campaign_name: String,
    pub four_eyes: bool,
    pub status: String,
    pub status_label: &'static str,
    pub reviewable: bool,
    pub version: i32,
    pub child_name: String,
    pub child_sex: String,
    pub child_birth_date: chrono::NaiveDate,
    pub id_number: String,
    pub guardian_name: String,
    pub guardian_relation: String,
    pub guardian_phone: String,
    pub township: String,
    pub current_school_id: Option<String>,
    pub current_zone_id: Option<String>,
    pub current_target: String,
    pub current_category: Option<String>,
    pub facts: Value,
    pub computed: Computed,
    pub computed_target: String,
    pub computed_notes: Vec<String>,
    pub signals: Vec<Signal>,
    pub documents: Vec<DocumentView>,
    pub events: Vec<ApplicationEvent>,
    pub decisions: Vec<DecisionView>,
    pub pending_second: Option<String>,
    pub schools: Vec<(String, String)>,
    pub categories: Vec<(String, String)>,
}

fn decisions_of(conn: &mut DbConn, app_id: &str) -> Result<Vec<DecisionView>, AppError> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(String, String, Option<String>, String, Option<String>, Option<String>, bool, Option<String>, Option<NaiveDateTime>, Option<NaiveDateTime>, String, NaiveDateTime)> = rd::table
        .filter(rd::application_id.eq(app_id))
        .order(rd::created_at.asc())
        .select((
            rd::id,
            rd::decision,
            rd::reason_code,
            rd::note,
            rd::override_school_id,
            rd::override_category,
            rd::needs_second,
            rd::second_reviewer_id,
            rd::second_at,
            rd::supplement_deadline,
            rd::reviewer_id,
            rd::created_at,
        ))
        .load(conn)?;
    let people: HashMap<String, String> = staff::table.select((staff::id, staff::display_name)).load::<(String, String)>(conn)?.into_iter().collect();
    Ok(rows
        .into_iter()
        .map(|(id, d, rc, note, os, oc, needs, second, second_at, deadline, reviewer, at)| DecisionView {
            decision_label: decision_label(&d),
            reason_label: rc.as_deref().and_then(review::reject_reason_label),
            reason_code: rc,
            note,
            override_school_id: os,
            override_category: oc,
            pending_second: needs && second.is_none(),
            second_outcome: match (needs, &second) {
                (true, Some(_)) => Some("同意"),
                (false, Some(_)) => Some("不同意"),
                _ => None,
            },
            needs_second: needs || second.is_some(),
            second_reviewer: second.as_ref().map(|s| people.get(s).cloned().unwrap_or_else(|| s.clone())),
            second_at,
            supplement_deadline: deadline,
            reviewer: people.get(&reviewer).cloned().unwrap_or_else(|| reviewer.clone()),
            reviewer_id: reviewer,
            created_at: at,
            decision: d,
            id,
        })
        .collect())
}

fn plan_schools(conn: &mut DbConn, campaign_id: &str) -> Result<Vec<(String, String)>, AppError> {
    Ok(super::schema::school_plans::table
        .inner_join(schools::table)
        .filter(super::schema::school_plans::campaign_id.eq(campaign_id))
        .order(schools::id.asc())
        .select((schools::id, schools::name))
        .load(conn)?)
}

/// One application for a reviewer; records the view in the audit log.
pub fn detail(conn: &mut DbConn, who: &Identity, id: &str, cipher: &IdCipher, cfg: &fraud::Config) -> Result<Detail, AppError> {
    let app = load_app(conn, who, id)?;
    let c = campaign(conn, &app.campaign_id)?;
    let (child_name, sex, birth, enc, masked, guardian_id): (String, String, chrono::NaiveDate, String, String, String) = ch::table
        .find(&app.child_id)
        .select((ch::name, ch::sex, ch::birth_date, ch::id_number_enc, ch::id_number_masked, ch::guardian_id))
        .first(conn)?;
    let (gname, grel, gphone): (String, String, String) =
        gu::table.find(&guardian_id).select((gu::name, gu::relation, gu::phone)).first(conn)?;
    let id_number = if who.sees_id_numbers() { cipher.decrypt(&enc).unwrap_or(masked) } else { masked };
    let (computed, notes) = computed(conn, &c, &app)?;
    let (school_names, zone_names, township_names) = names(conn)?;
    let target_name = |s: &Option<String>, z: &Option<String>| match (z, s) {
        (Some(z), _) => format!("{}（片区）", zone_names.get(z).cloned().unwrap_or_else(|| z.clone())),
        (None, Some(s)) => school_names.get(s).cloned().unwrap_or_else(|| s.clone()),
        _ => "（无对口学校，统筹安排）".into(),
    };
    let mut sig = signals_all(conn, cfg)?;
    let docs: Vec<Document> = documents::table
        .filter(documents::application_id.eq(&app.id))
        .order(documents::uploaded_at.asc())
        .select(Document::as_select())
        .load(conn)?;
    let events: Vec<ApplicationEvent> =
        ev::table.filter(ev::application_id.eq(&app.id)).order(ev::at.asc()).select(ApplicationEvent::as_select()).load(conn)?;
    let decisions = decisions_of(conn, &app.id)?;
    let pending_second = decisions.iter().find(|d| d.pending_second).map(|d| d.id.clone());
    audit::append(conn, &who.actor(), "application.view", &format!("application:{}", app.id), None, None)?;
    Ok(Detail {
        registration_no: app.registration_no.clone(),
        campaign_name: c.name.clone(),
        four_eyes: c.four_eyes,
        status_label: crate::db::models::status_label(&app.status),
        reviewable: review::REVIEWABLE.contains(&app.status.as_str()),
        version: app.version,
        child_name,
        child_sex: sex,
        child_birth_date: birth,
        id_number,
        guardian_name: gname,
        guardian_relation: grel,
        guardian_phone: gphone,
        township: app.township_id.as_ref().and_then(|t| township_names.get(t).cloned()).unwrap_or_else(|| "县外".into()),
        current_target: target_name(&app.catchment_school_id, &app.zone_id),
        current_school_id: app.catchment_school_id.clone(),
        current_zone_id: app.zone_id.clone(),
        current_category: app.category.clone(),
        facts: serde_json::from_str(&app.facts_json).unwrap_or(Value::Null),
        computed_target: target_name(&computed.school_id, &computed.zone_id),
        computed,
        computed_notes: notes,
        signals: sig.remove(&app.id).unwrap_or_default(),
        documents: docs
            .into_iter()
            .map(|d| DocumentView {
                kind_label: crate::registration::upload::DocumentKind::from_code(&d.kind).map(|k| k.label().to_string()).unwrap_or_else(|| d.kind.clone()),
                id: d.id,
                kind: d.kind,
                mime: d.mime,
                size_bytes: d.size_bytes,
                uploaded_at: d.uploaded_at,
            })
            .collect(),
        events,
        decisions,
        pending_second,
        schools: plan_schools(conn, &c.id)?,
        categories: categories_of(&c),
        status: app.status,
        campaign_id: app.campaign_id,
        id: app.id,
    })
}

/// A document of an application the person may see; records the view.
pub fn document(conn: &mut DbConn, who: &Identity, doc_id: &str) -> Result<Document, AppError> {
    let d: Document = documents::table.find(doc_id).select(Document::as_select()).first(conn).optional()?.ok_or(AppError::NotFound)?;
    load_app(conn, who, &d.application_id)?;
    audit::append(conn, &who.actor(), "document.view", &format!("document:{}", d.id), None, Some(&json!({"application": d.application_id})))?;
    Ok(d)
}

// ---------------------------------------------------------------- decisions

#[derive(Debug, Clone, Serialize)]
pub struct DecisionResult {
    pub decision_id: String,
    pub decision: &'static str,
    pub status: String,
    pub needs_second: bool,
}

fn snapshot(app: &Application) -> Value {
    json!({
        "status": app.status,
        "catchment_school_id": app.catchment_school_id,
        "zone_id": app.zone_id,
        "category": app.category,
        "version": app.version,
    })
}

fn add_event(conn: &mut DbConn, app_id: &str, status: &str, note: &str) -> Result<(), AppError> {
    diesel::insert_into(ev::table)
        .values(ApplicationEvent {
            id: new_id(),
            application_id: app_id.into(),
            at: now(),
            status: status.into(),
            // The guardian's timeline names the office, not the person.
            actor: "reviewer".into(),
            note: note.into(),
        })
        .execute(conn)?;
    Ok(())
}

/// Writes the application's new state with an optimistic version check.
#[allow(clippy::too_many_arguments)]
fn update_app(
    conn: &mut DbConn,
    app: &Application,
    status: &str,
    school: Option<String>,
    zone: Option<String>,
    category: Option<String>,
    priority: Option<String>,
    explanation: Option<String>,
) -> Result<(), AppError> {
    let n = diesel::update(ap::table.filter(ap::id.eq(&app.id)).filter(ap::version.eq(app.version)))
        .set((
            ap::status.eq(status),
            ap::catchment_school_id.eq(school),
            ap::zone_id.eq(zone),
            ap::category.eq(category),
            ap::priority_json.eq(priority),
            ap::explanation.eq(explanation),
            ap::updated_at.eq(now()),
            ap::version.eq(app.version + 1),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(AppError::conflict("stale", "该申请刚被他人修改，请刷新后重试"));
    }
    Ok(())
}

/// The values an approval writes: computed keys, or the override:
/// (school, zone, category, priority key, explanation).
#[allow(clippy::type_complexity)]
fn approved_values(
    computed: &Computed,
    school: Option<&String>,
    category: Option<&String>,
    reason: &str,
) -> (Option<String>, Option<String>, Option<String>, Option<String>, Option<String>) {
    let (s, z) = match school {
        Some(s) => (Some(s.clone()), None),
        None => (computed.school_id.clone(), computed.zone_id.clone()),
    };
    let overridden = school.is_some() || category.is_some();
    let cat = category.cloned().or_else(|| computed.category.clone());
    let key = if category.is_some() { None } else { computed.priority_json.clone() };
    let expl = if overridden { Some(format!("人工改判（经复核）：{reason}")) } else { computed.explanation.clone() };
    (s, z, cat, key, expl)
}

pub fn decide(conn: &mut DbConn, who: &Identity, app_id: &str, req: &DecisionRequest, expected_version: Option<i32>) -> Result<DecisionResult, AppError> {
    let app = load_app(conn, who, app_id)?;
    if let Some(v) = expected_version {
        if v != app.version {
            return Err(AppError::conflict("stale", "该申请刚被他人修改，请刷新后重试"));
        }
    }
    let c = campaign(conn, &app.campaign_id)?;
    let (computed, _) = computed(conn, &c, &app)?;
    let schools: Vec<String> = plan_schools(conn, &c.id)?.into_iter().map(|(id, _)| id).collect();
    let cats: Vec<String> = categories_of(&c).into_iter().map(|(code, _)| code).collect();
    let t = now();
    let outcome = review::check_decision(req, &app.status, &computed, &schools, &cats, c.four_eyes, t).map_err(|e| {
        if e.field == "status" {
            AppError::Conflict { code: "wrong_status", message: e.message, field: Some("status".into()) }
        } else {
            AppError::invalid(e.field, e.message)
        }
    })?;
    let pending: i64 = rd::table
        .filter(rd::application_id.eq(&app.id))
        .filter(rd::needs_second.eq(true))
        .filter(rd::second_reviewer_id.is_null())
        .count()
        .get_result(conn)?;
    if pending > 0 && outcome.decision != "note" {
        return Err(AppError::conflict("pending_second", "该申请有一项改判正在等待第二人复核，复核后才能作新的决定"));
    }
    let before = snapshot(&app);
    let decision_id = new_id();
    let mut status = app.status.clone();
    if let Some(new_status) = outcome.new_status {
        status = new_status.to_string();
        match outcome.decision {
            "approve" if !outcome.needs_second => {
                let (s, z, cat, key, expl) = approved_values(&computed, outcome.override_school_id.as_ref(), outcome.override_category.as_ref(), &outcome.note);
                update_app(conn, &app, new_status, s, z, cat, key, expl)?;
                add_event(conn, &app.id, new_status, "审核通过")?;
            }
            "approve" => {
                update_app(conn, &app, new_status, app.catchment_school_id.clone(), app.zone_id.clone(), app.category.clone(), app.priority_json.clone(), app.explanation.clone())?;
                add_event(conn, &app.id, new_status, "审核中：需另一名工作人员复核")?;
            }
            "reject" => {
                let label = outcome.reason_code.as_deref().and_then(review::reject_reason_label).unwrap_or("");
                let note = if outcome.note.is_empty() { label.to_string() } else { format!("{label}：{}", outcome.note) };
                update_app(conn, &app, new_status, app.catchment_school_id.clone(), app.zone_id.clone(), None, None, None)?;
                add_event(conn, &app.id, new_status, &note)?;
            }
            "supplement" => {
                let deadline = outcome.supplement_deadline.unwrap_or(t);
                update_app(conn, &app, new_status, app.catchment_school_id.clone(), app.zone_id.clone(), app.category.clone(), app.priority_json.clone(), app.explanation.clone())?;
                let text = format!("请于 {}（北京时间）前补充材料：{}", super::beijing(deadline).format("%Y-%m-%d %H:%M"), outcome.note);
                add_event(conn, &app.id, new_status, &text)?;
                let openid: String = ch::table
                    .inner_join(gu::table)
                    .filter(ch::id.eq(&app.child_id))
                    .select(gu::openid)
                    .first(conn)?;
                diesel::insert_into(super::schema::notifications::table)
                    .values(Notification {
                        id: new_id(),
                        channel: "wechat".into(),
                        recipient: openid,
                        subject: format!("报名号 {} 需补充材料", app.registration_no),
                        body: text,
                        status: "pending".into(),
                        attempts: 0,
                        next_attempt_at: t,
                        last_error: None,
                        created_at: t,
                        sent_at: None,
                    })
                    .execute(conn)?;
            }
            _ => {}
        }
    }
    diesel::insert_into(rd::table)
        .values((
            rd::id.eq(&decision_id),
            rd::application_id.eq(&app.id),
            rd::reviewer_id.eq(&who.id),
            rd::decision.eq(outcome.decision),
            rd::reason_code.eq(&outcome.reason_code),
            rd::note.eq(&outcome.note),
            rd::override_school_id.eq(&outcome.override_school_id),
            rd::override_category.eq(&outcome.override_category),
            rd::needs_second.eq(outcome.needs_second),
            rd::second_reviewer_id.eq(None::<String>),
            rd::second_at.eq(None::<NaiveDateTime>),
            rd::supplement_deadline.eq(outcome.supplement_deadline),
            rd::created_at.eq(t),
        ))
        .execute(conn)?;
    let after_app: Application = ap::table.find(&app.id).select(Application::as_select()).first(conn)?;
    let mut after = snapshot(&after_app);
    after["decision"] = json!({
        "id": decision_id,
        "decision": outcome.decision,
        "reason_code": outcome.reason_code,
        "note": outcome.note,
        "override_school_id": outcome.override_school_id,
        "override_category": outcome.override_category,
        "needs_second": outcome.needs_second,
        "supplement_deadline": outcome.supplement_deadline.map(|d| d.to_string()),
    });
    audit::append(conn, &who.actor(), &format!("review.{}", outcome.decision), &format!("application:{}", app.id), Some(&before), Some(&after))?;
    Ok(DecisionResult { decision_id, decision: outcome.decision, status, needs_second: outcome.needs_second })
}

/// The second staff member's word on an override: `agree` applies it.
pub fn second(conn: &mut DbConn, who: &Identity, decision_id: &str, agree: bool) -> Result<DecisionResult, AppError> {
    #[allow(clippy::type_complexity)]
    let row: Option<(String, String, String, bool, Option<String>, Option<String>, Option<String>, String)> = rd::table
        .find(decision_id)
        .select((rd::application_id, rd::reviewer_id, rd::decision, rd::needs_second, rd::second_reviewer_id, rd::override_school_id, rd::override_category, rd::note))
        .first(conn)
        .optional()?;
    let Some((app_id, first, decision, needs, second, os, oc, reason)) = row else { return Err(AppError::NotFound) };
    let app = load_app(conn, who, &app_id)?;
    if decision != "approve" || !needs || second.is_some() {
        return Err(AppError::conflict("not_pending", "这项决定不需要或已经完成复核"));
    }
    if first == who.id {
        return Err(AppError::Conflict { code: "four_eyes", message: "改判须由另一名工作人员复核，不能复核自己的决定".into(), field: None });
    }
    if !review::REVIEWABLE.contains(&app.status.as_str()) {
        return Err(AppError::conflict("wrong_status", "该申请的状态已改变，不能再复核"));
    }
    let c = campaign(conn, &app.campaign_id)?;
    let (computed, _) = computed(conn, &c, &app)?;
    let before = snapshot(&app);
    let t = now();
    // Only one second opinion: the row must still be waiting.
    let n = diesel::update(rd::table.find(decision_id).filter(rd::second_reviewer_id.is_null()))
        .set((rd::second_reviewer_id.eq(Some(&who.id)), rd::second_at.eq(Some(t)), rd::needs_second.eq(agree)))
        .execute(conn)?;
    if n != 1 {
        return Err(AppError::conflict("not_pending", "这项决定不需要或已经完成复核"));
    }
    let status = if agree {
        let (s, z, cat, key, expl) = approved_values(&computed, os.as_ref(), oc.as_ref(), &reason);
        update_app(conn, &app, "approved", s, z, cat, key, expl)?;
        add_event(conn, &app.id, "approved", "审核通过")?;
        "approved".to_string()
    } else {
        app.status.clone()
    };
    let after_app: Application = ap::table.find(&app.id).select(Application::as_select()).first(conn)?;
    let mut after = snapshot(&after_app);
    after["second"] = json!({"decision_id": decision_id, "agree": agree});
    audit::append(conn, &who.actor(), if agree { "review.second_agree" } else { "review.second_disagree" }, &format!("application:{}", app.id), Some(&before), Some(&after))?;
    Ok(DecisionResult { decision_id: decision_id.into(), decision: "approve", status, needs_second: false })
}

// ---------------------------------------------------------------- dashboard

#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub campaign_id: String,
    pub campaign_name: String,
    pub status: String,
    pub summary: crate::review::dashboard::Summary,
    pub categories: Vec<(String, String)>,
    pub chart_svg: String,
    pub timeline_svg: String,
    pub phases: Vec<(String, NaiveDateTime)>,
}

pub fn dashboard(conn: &mut DbConn, campaign_id: &str, settings: &crate::config::Settings) -> Result<Dashboard, AppError> {
    use super::schema::{offers, school_plans, zone_schools, zones};
    use crate::review::dashboard::{summarise, AppRow, PlanRow};
    let c = campaign(conn, campaign_id).map_err(|e| match e {
        AppError::NotFound => AppError::invalid("campaign", "没有这个招生计划"),
        e => e,
    })?;
    let zone_rows: Vec<(String, String)> =
        zones::table.filter(zones::campaign_id.eq(&c.id)).order(zones::code.asc()).select((zones::id, zones::name)).load(conn)?;
    let member: Vec<(String, String)> = zone_schools::table
        .inner_join(zones::table)
        .filter(zones::campaign_id.eq(&c.id))
        .select((zone_schools::school_id, zone_schools::zone_id))
        .load(conn)?;
    let member: HashMap<String, String> = member.into_iter().collect();
    let plans: Vec<(String, String, String, i32, i32)> = school_plans::table
        .inner_join(schools::table)
        .filter(school_plans::campaign_id.eq(&c.id))
        .order(schools::id.asc())
        .select((schools::id, schools::name, schools::kind, school_plans::planned_classes, school_plans::class_size_cap))
        .load(conn)?;
    let cap_limit = if c.grade >= 7 { settings.admission.class_cap_junior } else { settings.admission.class_cap_primary };
    let plans: Vec<PlanRow> = plans
        .into_iter()
        .map(|(id, name, _kind, classes, cap)| PlanRow { zone_id: member.get(&id).cloned(), school_id: id, school_name: name, planned_classes: classes, class_size_cap: cap })
        .collect();
    #[allow(clippy::type_complexity)]
    let apps: Vec<(Option<String>, Option<String>, String, Option<String>)> = ap::table
        .filter(ap::campaign_id.eq(&c.id))
        .select((ap::catchment_school_id, ap::zone_id, ap::status, ap::category))
        .load(conn)?;
    let apps: Vec<AppRow> = apps.into_iter().map(|(s, z, st, cat)| AppRow { school_id: s, zone_id: z, status: st, category: cat }).collect();
    let offer_rows: Vec<String> = offers::table
        .inner_join(ap::table)
        .filter(ap::campaign_id.eq(&c.id))
        .filter(offers::status.eq_any(["offered", "accepted"]))
        .select(offers::school_id)
        .load(conn)?;
    let mut offer_counts: BTreeMap<String, i64> = BTreeMap::new();
    for s in offer_rows {
        *offer_counts.entry(s).or_default() += 1;
    }
    let categories = categories_of(&c);
    let codes: Vec<String> = categories.iter().map(|(c, _)| c.clone()).collect();
    let summary = summarise(&plans, &zone_rows, &apps, &offer_counts, &codes, cap_limit);
    let phases = vec![
        ("报名开始".to_string(), c.registration_opens),
        ("报名截止".to_string(), c.registration_closes),
        ("审核截止".to_string(), c.review_deadline),
        ("电脑派位".to_string(), c.draw_day),
        ("确认截止".to_string(), c.offer_deadline),
    ];
    Ok(Dashboard {
        chart_svg: crate::review::charts::seats_chart(&summary.units, &codes, &categories),
        // The chart is read by people: Beijing time. The API keeps UTC.
        timeline_svg: crate::review::charts::timeline(
            &phases.iter().map(|(n, t)| (n.clone(), super::beijing(*t))).collect::<Vec<_>>(),
            super::beijing(now()),
        ),
        campaign_id: c.id,
        campaign_name: c.name,
        status: c.status,
        summary,
        categories,
        phases,
    })
}

// ---------------------------------------------------------------- exports

pub const EXPORT_KINDS: [(&str, &str); 4] = [("applications", "报名申请"), ("reviews", "审核结果"), ("draws", "派位结果"), ("offers", "录取与安置")];

/// Builds an export for `who` and records it in the audit log.
pub fn export(conn: &mut DbConn, who: &Identity, kind: &str, format: &str, cipher: &IdCipher) -> Result<crate::review::export::Table, AppError> {
    use crate::review::export::Table;
    let scoped = |q_township: &Option<String>| match who.role {
        Role::Admin => true,
        Role::Reviewer => who.sees_township(q_township.as_deref()),
        _ => true,
    };
    let full_names = matches!(who.role, Role::Admin | Role::Reviewer);
    let (school_names, zone_names, township_names) = names(conn)?;
    let target = |s: &Option<String>, z: &Option<String>| match (z, s) {
        (Some(z), _) => zone_names.get(z).cloned().unwrap_or_else(|| z.clone()),
        (None, Some(s)) => school_names.get(s).cloned().unwrap_or_else(|| s.clone()),
        _ => String::new(),
    };
    // Exports are read by people: Beijing time.
    let fmt_t = |t: &NaiveDateTime| super::beijing(*t).format("%Y-%m-%d %H:%M:%S").to_string();
    let table = match kind {
        "applications" => {
            let mut t = Table::new("报名申请", &["报名号", "招生计划", "儿童姓名", "身份证号", "性别", "出生日期", "乡镇", "对口学校或片区", "类别", "状态", "提交时间"]);
            #[allow(clippy::type_complexity)]
            let rows: Vec<(String, String, String, String, String, String, chrono::NaiveDate, Option<String>, Option<String>, Option<String>, Option<String>, String, NaiveDateTime)> = ap::table
                .inner_join(ch::table)
                .order(ap::registration_no.asc())
                .select((ap::registration_no, ap::campaign_id, ch::name, ch::id_number_enc, ch::id_number_masked, ch::sex, ch::birth_date, ap::township_id, ap::catchment_school_id, ap::zone_id, ap::category, ap::status, ap::submitted_at))
                .load(conn)?;
            for (no, camp, name, enc, masked, sex, birth, township, s, z, cat, status, at) in rows {
                if !scoped(&township) {
                    continue;
                }
                let id = if who.sees_id_numbers() { cipher.decrypt(&enc).unwrap_or(masked) } else { masked };
                t.push(vec![
                    no,
                    camp,
                    if full_names { name } else { mask_name(&name) },
                    id,
                    sex,
                    birth.to_string(),
                    township.as_ref().and_then(|x| township_names.get(x).cloned()).unwrap_or_else(|| "县外".into()),
                    target(&s, &z),
                    cat.unwrap_or_default(),
                    crate::db::models::status_label(&status).into(),
                    fmt_t(&at),
                ]);
            }
            t
        }
        "reviews" => {
            let mut t = Table::new("审核结果", &["报名号", "决定", "驳回原因", "说明", "改判学校", "改判类别", "需复核", "复核结果", "审核人", "复核人", "时间", "补充截止"]);
            let people: HashMap<String, String> = staff::table.select((staff::id, staff::display_name)).load::<(String, String)>(conn)?.into_iter().collect();
            #[allow(clippy::type_complexity)]
            let rows: Vec<(String, Option<String>, String, Option<String>, String, Option<String>, Option<String>, bool, Option<String>, String, NaiveDateTime, Option<NaiveDateTime>)> = rd::table
                .inner_join(ap::table)
                .order((ap::registration_no.asc(), rd::created_at.asc()))
                .select((ap::registration_no, ap::township_id, rd::decision, rd::reason_code, rd::note, rd::override_school_id, rd::override_category, rd::needs_second, rd::second_reviewer_id, rd::reviewer_id, rd::created_at, rd::supplement_deadline))
                .load(conn)?;
            for (no, township, d, rc, note, os, oc, needs, second, reviewer, at, deadline) in rows {
                if !scoped(&township) {
                    continue;
                }
                t.push(vec![
                    no,
                    decision_label(&d).into(),
                    rc.as_deref().and_then(review::reject_reason_label).unwrap_or("").into(),
                    note,
                    os.map(|s| school_names.get(&s).cloned().unwrap_or(s)).unwrap_or_default(),
                    oc.unwrap_or_default(),
                    if needs || second.is_some() { "是".into() } else { "否".into() },
                    match (needs, &second) {
                        (true, Some(_)) => "同意".into(),
                        (false, Some(_)) => "不同意".into(),
                        (true, None) => "待复核".into(),
                        _ => String::new(),
                    },
                    people.get(&reviewer).cloned().unwrap_or(reviewer),
                    second.map(|s| people.get(&s).cloned().unwrap_or(s)).unwrap_or_default(),
                    fmt_t(&at),
                    deadline.map(|d| fmt_t(&d)).unwrap_or_default(),
                ]);
            }
            t
        }
        "draws" => {
            use super::schema::draws;
            let mut t = Table::new(
                "派位结果",
                &["派位编号", "招生计划", "类型", "状态", "公告摘要", "结果摘要", "公告时间", "计算时间", "报名号", "派位号", "派位结果", "学校"],
            );
            #[allow(clippy::type_complexity)]
            let rows: Vec<(String, String, String, String, String, Option<String>, NaiveDateTime, Option<NaiveDateTime>, Option<String>)> = draws::table
                .order(draws::draw_id.asc())
                .select((draws::draw_id, draws::campaign_id, draws::kind, draws::status, draws::announcement_digest, draws::result_digest, draws::created_at, draws::computed_at, draws::record_json))
                .load(conn)?;
            for (id, camp, k, status, ad, rdg, created, computed, record) in rows {
                let lines = record.as_deref().map(crate::review::export::draw_lines).unwrap_or_default();
                let head = vec![
                    id,
                    camp,
                    if k == "zone" { "片区派位".into() } else { "学校派位".into() },
                    match status.as_str() {
                        "announced" => "已公告".into(),
                        "computed" => "已计算".into(),
                        "published" => "已公布".into(),
                        o => o.to_string(),
                    },
                    ad,
                    rdg.unwrap_or_default(),
                    fmt_t(&created),
                    computed.map(|c| fmt_t(&c)).unwrap_or_default(),
                ];
                if lines.is_empty() {
                    let mut row = head.clone();
                    row.extend([String::new(), String::new(), "尚未派位".to_string(), String::new()]);
                    t.push(row);
                }
                // Roster ids are registration numbers, not names: public already.
                for l in lines {
                    let mut row = head.clone();
                    row.extend([l.id, l.number, l.outcome.to_string(), school_names.get(&l.school).cloned().unwrap_or(l.school)]);
                    t.push(row);
                }
            }
            t
        }
        "offers" => {
            use super::schema::offers;
            let mut t = Table::new("录取与安置", &["报名号", "儿童姓名", "学校", "来源", "状态", "确认截止", "录取时间", "回复时间"]);
            #[allow(clippy::type_complexity)]
            let rows: Vec<(String, Option<String>, String, String, Option<String>, String, NaiveDateTime, NaiveDateTime, Option<NaiveDateTime>)> = offers::table
                .inner_join(ap::table.inner_join(ch::table))
                .order(ap::registration_no.asc())
                .select((ap::registration_no, ap::township_id, ch::name, offers::school_id, offers::draw_id, offers::status, offers::deadline, offers::offered_at, offers::responded_at))
                .load(conn)?;
            for (no, township, name, school, draw, status, deadline, offered, responded) in rows {
                if !scoped(&township) {
                    continue;
                }
                t.push(vec![
                    no,
                    if full_names { name } else { mask_name(&name) },
                    school_names.get(&school).cloned().unwrap_or(school),
                    if draw.is_some() { "电脑派位".into() } else { "统筹安置".into() },
                    status,
                    fmt_t(&deadline),
                    fmt_t(&offered),
                    responded.map(|r| fmt_t(&r)).unwrap_or_default(),
                ]);
            }
            t
        }
        _ => return Err(AppError::NotFound),
    };
    audit::append(conn, &who.actor(), "export", &format!("export:{kind}"), None, Some(&json!({"format": format, "rows": table.rows.len(), "role": who.role.as_str()})))?;
    Ok(table)
}

// ---------------------------------------------------------------- audit pages

#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    pub head_seq: i64,
    pub head_hash: String,
    pub entries: Vec<audit::AuditEntry>,
    pub page: i64,
    pub pages: i64,
    pub total: i64,
}

pub const AUDIT_PAGE: i64 = 50;

pub fn audit_page(conn: &mut DbConn, page: Option<i64>) -> Result<AuditPage, AppError> {
    use super::schema::audit_log as al;
    let (head_seq, head_hash) = audit::head(conn)?;
    let total: i64 = al::table.count().get_result(conn)?;
    let pages = ((total + AUDIT_PAGE - 1) / AUDIT_PAGE).max(1);
    let page = page.unwrap_or(1).clamp(1, pages);
    let entries = al::table
        .order(al::seq.desc())
        .offset((page - 1) * AUDIT_PAGE)
        .limit(AUDIT_PAGE)
        .select(audit::AuditEntry::as_select())
        .load(conn)?;
    Ok(AuditPage { head_seq, head_hash, entries, page, pages, total })
}

/// The whole log, oldest first; records the download itself first so the
/// file includes it.
pub fn audit_all(conn: &mut DbConn, who: &Identity, format: &str) -> Result<Vec<audit::AuditEntry>, AppError> {
    use super::schema::audit_log as al;
    audit::append(conn, &who.actor(), "audit.export", "audit_log", None, Some(&json!({"format": format})))?;
    Ok(al::table.order(al::seq.asc()).select(audit::AuditEntry::as_select()).load(conn)?)
}
