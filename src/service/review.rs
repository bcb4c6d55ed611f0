//! Review: the queue, one application, decisions and second opinions, and
//! the documents. Scope checks happen here so that no handler can forget
//! one: an application outside a reviewer's townships is `NotFound`, never
//! `Forbidden`, so its existence does not leak. Every view and decision is
//! audited in the same transaction.

use super::notify as notify_svc;
use super::Ctx;
use crate::db::models::{Application, ApplicationEvent, Campaign, Document};
use crate::db::review::{self as dbr, AppUpdate, DecisionRow, QueueWhere};
use crate::db::{audit, new_id, now, DbConn};
use crate::domain::{ApplicationStatus, DecisionKind, Role, SupplementExpiry};
use crate::error::AppError;
use crate::identity::mask_name;
use crate::notify;
use crate::review::fraud::{self, Signal};
use crate::review::scope;
use crate::review::{self, supplement, Computed, DecisionRequest};
use crate::staff::Identity;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;

// ---------------------------------------------------------------- helpers

fn load_app(conn: &mut DbConn, who: &Identity, id: &str) -> Result<Application, AppError> {
    let app = dbr::application(conn, id)?.ok_or(AppError::NotFound)?;
    if !who.sees_township(app.township_id.as_deref()) {
        return Err(AppError::NotFound);
    }
    Ok(app)
}

/// An application a decision changes: refused (409, audited by the caller)
/// once a frozen draw holds it.
fn load_app_to_change(conn: &mut DbConn, who: &Identity, id: &str) -> Result<Application, AppError> {
    let app = load_app(conn, who, id)?;
    super::draw::guard_application(conn, &app.id)?;
    Ok(app)
}

/// An application to read: also auditors', read-only and masked.
fn load_app_to_read(conn: &mut DbConn, who: &Identity, id: &str) -> Result<Application, AppError> {
    let app = dbr::application(conn, id)?.ok_or(AppError::NotFound)?;
    if !who.opens_application(app.township_id.as_deref()) {
        return Err(AppError::NotFound);
    }
    Ok(app)
}

/// Category codes a decision may name: the policy's, plus the care tier.
pub fn categories_of(c: &Campaign) -> Vec<(String, String)> {
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
    let rules = crate::db::catchment::load_rules(conn, &c.id)?;
    let dir = crate::db::catchment::load_directory(conn, &c.id)?;
    Ok(computed_from(&facts, &policy, &rules, &dir, c))
}

/// The pure half of [`computed`].
fn computed_from(
    facts: &crate::policy::ApplicantFacts,
    policy: &crate::policy::Policy,
    rules: &[crate::catchment::CatchmentRule],
    dir: &crate::catchment::StaticDirectory,
    c: &Campaign,
) -> (Computed, Vec<String>) {
    let none = Computed { school_id: None, zone_id: None, category: None, priority_json: None, explanation: None };
    let ctx = crate::policy::CatchmentContext { rules, directory: dir };
    match crate::policy::compute_keys(facts, policy, &ctx) {
        Ok(keys) => match keys.schools.first() {
            Some(best) => (
                Computed {
                    school_id: if best.zone_id.is_none() { Some(best.school_id.clone()) } else { None },
                    zone_id: best.zone_id.as_ref().map(|z| format!("{}-{z}", c.id)),
                    category: Some(best.category_code.clone()),
                    priority_json: serde_json::to_string(&best.key).ok(),
                    explanation: Some(best.explanation.clone()),
                },
                keys.notes,
            ),
            None => (
                Computed {
                    category: Some("E".into()),
                    explanation: Some(keys.notes.first().cloned().unwrap_or_else(|| "无对口学校，由教育局统筹安排".into())),
                    ..none
                },
                keys.notes,
            ),
        },
        Err(e) => (none, vec![format!("无法计算类别：{e}")]),
    }
}

pub fn fraud_config(settings: &crate::config::Settings) -> fraud::Config {
    fraud::Config { families_per_certificate: 1, non_residential_keywords: settings.admission.non_residential_keywords.clone() }
}

fn fraud_record((a, c): dbr::AppWithChild) -> Option<fraud::Record> {
    let facts = serde_json::from_str(&a.facts_json).ok()?;
    Some(fraud::Record {
        application_id: a.id,
        registration_no: a.registration_no,
        campaign_id: a.campaign_id,
        guardian_id: c.guardian_id,
        family_id: a.family_id,
        id_number_hash: c.id_number_hash,
        facts,
    })
}

/// The signals of the applications `ids` only, from them and the
/// applications they could be related to.
fn signals_of(conn: &mut DbConn, ids: &[String], cfg: &fraud::Config) -> Result<HashMap<String, Vec<Signal>>, AppError> {
    let own: Vec<fraud::Record> = dbr::apps_with_child(conn, ids)?.into_iter().filter_map(fraud_record).collect();
    let certificates: Vec<String> =
        own.iter().filter_map(|r| r.facts.property.as_ref().map(|p| p.certificate_no.trim().to_string())).collect();
    let records: Vec<fraud::Record> = dbr::fraud_rows_related(conn, ids, &certificates)?.into_iter().filter_map(fraud_record).collect();
    let mut all = fraud::signals(&records, cfg);
    all.retain(|id, _| ids.contains(id));
    Ok(all)
}

/// The signals of every application (needed to filter the queue by signal).
fn signals_all(conn: &mut DbConn, cfg: &fraud::Config) -> Result<HashMap<String, Vec<Signal>>, AppError> {
    let records: Vec<fraud::Record> = dbr::fraud_rows_all(conn)?.into_iter().filter_map(fraud_record).collect();
    Ok(fraud::signals(&records, cfg))
}

fn township_name(names: &dbr::Names, t: &Option<String>) -> String {
    t.as_ref().and_then(|t| names.townships.get(t).cloned()).unwrap_or_else(|| scope::COUNTY_QUEUE.into())
}

// ---------------------------------------------------------------- queue

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
    /// A township id, or `county` for the county queue (县级待分配).
    #[serde(default)]
    pub township: Option<String>,
    /// A signal code, or `any`.
    #[serde(default)]
    pub signal: Option<String>,
    #[serde(default)]
    pub page: Option<i64>,
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueRow {
    pub id: String,
    pub registration_no: String,
    pub campaign_id: String,
    pub child_name: String,
    pub id_number: String,
    pub township: String,
    pub target: String,
    pub category: Option<String>,
    /// The category with its label, e.g. `B 户籍在片区`.
    pub category_label: Option<String>,
    pub status: ApplicationStatus,
    pub status_label: &'static str,
    pub submitted_at: NaiveDateTime,
    pub signals: Vec<Signal>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Queue {
    pub rows: Vec<QueueRow>,
    pub total: usize,
    pub page: i64,
    pub pages: i64,
    /// Applications waiting in the county queue (admins only).
    pub county_queue: Option<i64>,
}

pub const PAGE_SIZE: usize = 30;

/// One page of the queue. Pagination is done by the database; signals are
/// computed for the page shown only, except when filtering by signal (which
/// needs every application's).
fn queue_in(conn: &mut DbConn, who: &Identity, f: &QueueFilter, cfg: &fraud::Config) -> Result<Queue, AppError> {
    let status = match nonempty(&f.status) {
        Some(s) => Some(ApplicationStatus::parse(s).ok_or_else(|| AppError::invalid("status", "没有这个状态"))?),
        None => None,
    };
    let wanted = nonempty(&f.signal);
    if let Some(s) = wanted {
        if s != "any" && !fraud::SIGNAL_KINDS.iter().any(|(c, _)| *c == s) {
            return Err(AppError::invalid("signal", "没有这种风险提示"));
        }
    }
    let township = nonempty(&f.township);
    if let Some(t) = township {
        if t != scope::COUNTY_QUEUE_FILTER && !crate::db::staff::township_exists(conn, t)? {
            return Err(AppError::invalid("township", "没有这个乡镇"));
        }
    }
    let w = QueueWhere {
        townships: if who.role == Role::Admin { None } else { Some(who.township_scope.clone()) },
        campaign: nonempty(&f.campaign).map(str::to_string),
        target: nonempty(&f.school).map(str::to_string),
        category: nonempty(&f.category).map(str::to_string),
        status,
        unassigned: township == Some(scope::COUNTY_QUEUE_FILTER),
        township: township.filter(|t| *t != scope::COUNTY_QUEUE_FILTER).map(str::to_string),
    };
    let county_queue = if who.role == Role::Admin {
        let c = QueueWhere { campaign: w.campaign.clone(), unassigned: true, ..Default::default() };
        Some(dbr::queue_count(conn, &c)?)
    } else {
        None
    };
    let page_size = PAGE_SIZE as i64;
    let (rows, total, page, pages, mut signals) = match wanted {
        None => {
            let total = dbr::queue_count(conn, &w)?;
            let pages = ((total + page_size - 1) / page_size).max(1);
            let page = f.page.unwrap_or(1).clamp(1, pages);
            let rows = dbr::queue_rows(conn, &w, (page - 1) * page_size, Some(page_size))?;
            let ids: Vec<String> = rows.iter().map(|(a, _)| a.id.clone()).collect();
            let signals = signals_of(conn, &ids, cfg)?;
            (rows, total, page, pages, signals)
        }
        Some(code) => {
            let signals = signals_all(conn, cfg)?;
            let all = dbr::queue_rows(conn, &w, 0, None)?;
            let matching: Vec<dbr::AppWithChild> = all
                .into_iter()
                .filter(|(a, _)| {
                    let s = signals.get(&a.id).map(Vec::as_slice).unwrap_or(&[]);
                    if code == "any" {
                        !s.is_empty()
                    } else {
                        s.iter().any(|x| x.code == code)
                    }
                })
                .collect();
            let total = matching.len() as i64;
            let pages = ((total + page_size - 1) / page_size).max(1);
            let page = f.page.unwrap_or(1).clamp(1, pages);
            let rows = matching.into_iter().skip(((page - 1) * page_size) as usize).take(PAGE_SIZE).collect();
            (rows, total, page, pages, signals)
        }
    };
    let names = dbr::names(conn)?;
    let mut labels: HashMap<(String, String), String> = HashMap::new();
    for c in dbr::campaigns_list(conn)? {
        for (code, label) in categories_of(&c) {
            labels.insert((c.id.clone(), code), label);
        }
    }
    let rows = rows
        .into_iter()
        .map(|(a, c)| {
            let target = match (&a.zone_id, &a.catchment_school_id) {
                (Some(z), _) => names.zones.get(z).cloned().unwrap_or_else(|| z.clone()),
                (None, Some(s)) => names.schools.get(s).cloned().unwrap_or_else(|| s.clone()),
                _ => "（无对口学校）".into(),
            };
            let category_label = a.category.as_ref().map(|k| match labels.get(&(a.campaign_id.clone(), k.clone())) {
                Some(l) => format!("{k} {l}"),
                None => k.clone(),
            });
            QueueRow {
                category_label,
                signals: signals.remove(&a.id).unwrap_or_default(),
                registration_no: a.registration_no,
                campaign_id: a.campaign_id,
                child_name: mask_name(&c.name),
                id_number: c.id_number_masked,
                township: township_name(&names, &a.township_id),
                target,
                category: a.category,
                status_label: a.status.label(),
                status: a.status,
                submitted_at: a.submitted_at,
                id: a.id,
            }
        })
        .collect();
    Ok(Queue { rows, total: total as usize, page, pages, county_queue })
}

/// The queue lists children's names: who looked at which page with which
/// filters is recorded in the audit log, like every other staff action.
pub async fn queue(cx: &Ctx, who: &Identity, f: QueueFilter) -> Result<Queue, AppError> {
    let who = who.clone();
    let cfg = fraud_config(&cx.settings);
    cx.db
        .write(move |c| {
            let q = queue_in(c, &who, &f, &cfg)?;
            audit::append(
                c,
                &who.actor(),
                "review.queue_view",
                "review_queue",
                None,
                Some(&json!({"filter": f, "page": q.page, "rows": q.rows.len(), "total": q.total})),
            )?;
            Ok(q)
        })
        .await
}

/// The choices of the queue's filters for `who`: campaigns, schools and
/// zones, and the townships in scope.
pub struct QueueOptions {
    pub campaigns: Vec<(String, String)>,
    pub targets: Vec<(String, String)>,
    pub scope: Vec<String>,
    /// `(code, label)` of the categories the campaigns' policies define.
    pub categories: Vec<(String, String)>,
    /// `(id, name)` of every township (admins only: the township filter and
    /// the assignment of the county queue).
    pub townships: Vec<(String, String)>,
}

pub async fn queue_options(cx: &Ctx, who: &Identity) -> Result<QueueOptions, AppError> {
    let who = who.clone();
    cx.db
        .run(move |c| {
            let all = dbr::campaigns_list(c)?;
            let mut categories: Vec<(String, String)> = Vec::new();
            for (code, label) in all.iter().flat_map(categories_of) {
                if !categories.iter().any(|(c, _)| *c == code) {
                    categories.push((code, label));
                }
            }
            let campaigns = all.into_iter().map(|k| (k.id, k.name)).collect();
            let targets = dbr::targets(c)?;
            let all_townships = crate::db::staff::townships(c)?;
            let scope = all_townships
                .iter()
                .filter(|(id, _)| who.role == Role::Admin || who.township_scope.contains(id))
                .map(|(_, n)| n.clone())
                .collect();
            let townships = if who.role == Role::Admin { all_townships } else { Vec::new() };
            Ok(QueueOptions { campaigns, targets, scope, categories, townships })
        })
        .await
}

// ---------------------------------------------------------------- detail

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DecisionView {
    pub id: String,
    pub decision: DecisionKind,
    pub decision_label: &'static str,
    pub reason_code: Option<String>,
    pub reason_label: Option<&'static str>,
    pub note: String,
    pub override_school_id: Option<String>,
    /// The override's school by name, its category with its label.
    pub override_school_name: Option<String>,
    pub override_category_label: Option<String>,
    pub override_category: Option<String>,
    pub needs_second: bool,
    pub pending_second: bool,
    pub second_reviewer: Option<String>,
    pub second_at: Option<NaiveDateTime>,
    pub second_outcome: Option<&'static str>,
    pub supplement_deadline: Option<NaiveDateTime>,
    pub supplement_items: Option<String>,
    pub reviewer_id: String,
    pub reviewer: String,
    pub created_at: NaiveDateTime,
}

/// How a stored decision reads: `needs_second` with a second reviewer means
/// agreed, without one waiting; a second reviewer without it, disagreed.
pub fn second_outcome(needs: bool, second: bool) -> Option<&'static str> {
    match (needs, second) {
        (true, true) => Some("同意"),
        (false, true) => Some("不同意"),
        _ => None,
    }
}

/// One event of the guardian's timeline, in words.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub at: NaiveDateTime,
    pub status: ApplicationStatus,
    pub status_label: &'static str,
    /// 家长, 审核员, 系统, …
    pub actor_label: String,
    pub note: String,
}

fn event_view(e: ApplicationEvent) -> EventView {
    let actor_label = match e.actor.as_str() {
        "guardian" => "家长".to_string(),
        "reviewer" | "demo-reviewer" => "审核员".to_string(),
        "system" => "系统".to_string(),
        other => other.to_string(),
    };
    EventView { at: e.at, status_label: e.status.label(), status: e.status, actor_label, note: e.note }
}

fn decision_view(d: DecisionRow, people: &HashMap<String, String>, names: &dbr::Names, categories: &[(String, String)]) -> DecisionView {
    DecisionView {
        override_school_name: d.override_school_id.as_ref().map(|s| names.schools.get(s).cloned().unwrap_or_else(|| s.clone())),
        override_category_label: d
            .override_category
            .as_ref()
            .map(|k| categories.iter().find(|(c, _)| c == k).map(|(c, l)| format!("{c} {l}")).unwrap_or_else(|| k.clone())),
        decision_label: d.decision.label(),
        reason_label: d.reason_code.as_deref().and_then(review::reject_reason_label),
        pending_second: d.needs_second && d.second_reviewer_id.is_none(),
        second_outcome: second_outcome(d.needs_second, d.second_reviewer_id.is_some()),
        needs_second: d.needs_second || d.second_reviewer_id.is_some(),
        second_reviewer: d.second_reviewer_id.as_ref().map(|s| people.get(s).cloned().unwrap_or_else(|| s.clone())),
        reviewer: people.get(&d.reviewer_id).cloned().unwrap_or_else(|| d.reviewer_id.clone()),
        reason_code: d.reason_code,
        note: d.note,
        override_school_id: d.override_school_id,
        override_category: d.override_category,
        second_at: d.second_at,
        supplement_deadline: d.supplement_deadline,
        supplement_items: d.supplement_items,
        reviewer_id: d.reviewer_id,
        created_at: d.created_at,
        decision: d.decision,
        id: d.id,
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ReviewDocument)]
pub struct DocumentView {
    pub id: String,
    pub kind: String,
    pub kind_label: String,
    pub mime: String,
    pub size_bytes: i64,
    pub uploaded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Detail {
    pub id: String,
    pub registration_no: String,
    pub campaign_id: String,
    pub campaign_name: String,
    pub four_eyes: bool,
    pub status: ApplicationStatus,
    pub status_label: &'static str,
    pub reviewable: bool,
    pub version: i32,
    pub child_name: String,
    pub child_sex: String,
    /// `YYYY-MM-DD`; the year only for readers of masked data (auditors).
    pub child_birth_date: String,
    pub id_number: String,
    pub guardian_name: String,
    pub guardian_relation: String,
    pub guardian_phone: String,
    pub township: String,
    /// No address places it: waiting in the county queue (县级待分配).
    pub in_county_queue: bool,
    /// Placed by an admin's assignment rather than by an address.
    pub assigned: bool,
    /// May `who` assign it to a township (admins, county queue or assigned).
    pub assignable: bool,
    /// Read-only with personal data masked (auditors): no decisions, no documents.
    pub read_only: bool,
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
    pub events: Vec<EventView>,
    pub decisions: Vec<DecisionView>,
    /// Every supplement request with the family's answer beside it.
    pub supplements: Vec<SupplementView>,
    pub pending_second: Option<String>,
    pub schools: Vec<(String, String)>,
    pub categories: Vec<(String, String)>,
}

/// A supplement request and its answer, side by side for the reviewer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SupplementView {
    pub decision_id: String,
    pub requested_at: NaiveDateTime,
    pub reviewer: String,
    pub deadline: Option<NaiveDateTime>,
    pub note: String,
    pub documents: Vec<String>,
    pub sections: Vec<String>,
    /// `waiting`, `answered` or `expired`.
    pub outcome: &'static str,
    pub outcome_label: &'static str,
    pub answered_at: Option<NaiveDateTime>,
    pub reply: String,
    /// Labels of the documents uploaded with the answer.
    pub documents_added: Vec<String>,
    pub changes: Vec<supplement::Change>,
}

fn supplement_view(d: &DecisionView, r: Option<&dbr::SupplementResponse>) -> SupplementView {
    let items: supplement::Items = d.supplement_items.as_deref().and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default();
    let (outcome, outcome_label) = match r.map(|r| r.outcome.as_str()) {
        None => ("waiting", "等待家长补充"),
        Some("answered") => ("answered", "家长已补充"),
        Some(_) => ("expired", "逾期未补充"),
    };
    let added: Vec<String> = r.and_then(|r| serde_json::from_str(&r.documents_json).ok()).unwrap_or_default();
    SupplementView {
        decision_id: d.id.clone(),
        requested_at: d.created_at,
        reviewer: d.reviewer.clone(),
        deadline: d.supplement_deadline,
        note: d.note.clone(),
        documents: items.document_labels(),
        sections: items.section_labels(),
        outcome,
        outcome_label,
        answered_at: r.map(|r| r.at),
        reply: r.map(|r| r.reply.clone()).unwrap_or_default(),
        documents_added: supplement::Items { documents: added, sections: vec![] }.document_labels(),
        changes: r.and_then(|r| serde_json::from_str(&r.changes_json).ok()).unwrap_or_default(),
    }
}

fn detail_in(
    conn: &mut DbConn,
    who: &Identity,
    id: &str,
    cipher: &crate::identity::IdCipher,
    cfg: &fraud::Config,
) -> Result<Detail, AppError> {
    let mut app = load_app_to_read(conn, who, id)?;
    crate::db::draw::show_in_draw(conn, &mut app)?;
    let masked = who.reads_masked();
    let c = dbr::campaign(conn, &app.campaign_id)?;
    let mut child = dbr::child_of(conn, &app.child_id)?;
    let (mut gname, grel, mut gphone) = dbr::guardian_contact(conn, &child.guardian_id)?;
    if masked {
        child.name = mask_name(&child.name);
        gname = mask_name(&gname);
        gphone = crate::identity::mask_phone(&gphone);
    }
    let id_number =
        if who.sees_id_numbers() { cipher.decrypt(&child.id_number_enc).unwrap_or(child.id_number_masked) } else { child.id_number_masked };
    let (computed, mut notes) = computed(conn, &c, &app)?;
    if masked {
        notes = notes.iter().map(|n| review::masked_note(n)).collect();
    }
    let names = dbr::names(conn)?;
    let target_name = |s: &Option<String>, z: &Option<String>| match (z, s) {
        (Some(z), _) => format!("{}（片区）", names.zones.get(z).cloned().unwrap_or_else(|| z.clone())),
        (None, Some(s)) => names.schools.get(s).cloned().unwrap_or_else(|| s.clone()),
        _ => "（无对口学校，统筹安排）".into(),
    };
    let mut sig = signals_of(conn, std::slice::from_ref(&app.id), cfg)?;
    let docs: Vec<Document> = dbr::documents_of(conn, &app.id)?;
    let events = dbr::events_of(conn, &app.id)?;
    let people = dbr::staff_names(conn)?;
    let cats = categories_of(&c);
    let decisions: Vec<DecisionView> =
        dbr::decisions_of(conn, &app.id)?.into_iter().map(|d| decision_view(d, &people, &names, &cats)).collect();
    let pending_second = decisions.iter().find(|d| d.pending_second).map(|d| d.id.clone());
    let responses = dbr::supplement_responses_of(conn, &app.id)?;
    let mut supplements: Vec<SupplementView> = decisions
        .iter()
        .filter(|d| d.decision == DecisionKind::Supplement)
        .map(|d| supplement_view(d, responses.iter().find(|r| r.decision_id == d.id)))
        .collect();
    if masked {
        // The corrected fields are the family's declarations: an auditor
        // reads that they changed, not what they say.
        for x in &mut supplements {
            if !x.reply.is_empty() {
                x.reply = "（家长说明已隐去）".into();
            }
            x.note = review::masked_note(&x.note);
            for c in &mut x.changes {
                c.before = "（已隐去）".into();
                c.after = "（已隐去）".into();
            }
        }
    }
    audit::append(conn, &who.actor(), "application.view", &format!("application:{}", app.id), None, None)?;
    Ok(Detail {
        registration_no: app.registration_no.clone(),
        campaign_name: c.name.clone(),
        four_eyes: c.four_eyes,
        status_label: app.status.label(),
        reviewable: app.status.is_reviewable(),
        version: app.version,
        child_name: child.name,
        child_sex: child.sex,
        child_birth_date: if masked { child.birth_date.format("%Y 年").to_string() } else { child.birth_date.to_string() },
        id_number,
        guardian_name: gname,
        guardian_relation: grel,
        guardian_phone: gphone,
        township: township_name(&names, &app.township_id),
        in_county_queue: app.township_id.is_none(),
        assigned: app.township_id.is_some() && app.township_id == app.assigned_township_id,
        assignable: who.role == Role::Admin && (app.township_id.is_none() || app.township_id == app.assigned_township_id),
        current_target: target_name(&app.catchment_school_id, &app.zone_id),
        current_school_id: app.catchment_school_id.clone(),
        current_zone_id: app.zone_id.clone(),
        current_category: app.category.clone(),
        facts: match serde_json::from_str::<crate::policy::ApplicantFacts>(&app.facts_json) {
            Ok(f) if masked => serde_json::to_value(review::masked_facts(&f)).unwrap_or(Value::Null),
            _ if masked => Value::Null,
            _ => serde_json::from_str(&app.facts_json).unwrap_or(Value::Null),
        },
        read_only: masked,
        computed_target: target_name(&computed.school_id, &computed.zone_id),
        computed,
        computed_notes: notes,
        signals: sig.remove(&app.id).unwrap_or_default(),
        documents: docs
            .into_iter()
            .map(|d| DocumentView {
                kind_label: crate::registration::upload::DocumentKind::from_code(&d.kind)
                    .map(|k| k.label().to_string())
                    .unwrap_or_else(|| d.kind.clone()),
                id: d.id,
                kind: d.kind,
                mime: d.mime,
                size_bytes: d.size_bytes,
                uploaded_at: d.uploaded_at,
            })
            .collect(),
        events: events.into_iter().map(event_view).collect(),
        decisions,
        supplements,
        pending_second,
        schools: dbr::plan_schools(conn, &c.id)?,
        categories: categories_of(&c),
        status: app.status,
        campaign_id: app.campaign_id,
        id: app.id,
    })
}

/// One application for a reviewer; records the view in the audit log.
pub async fn detail(cx: &Ctx, who: &Identity, app_id: String) -> Result<Detail, AppError> {
    let who = who.clone();
    let cipher = cx.cipher();
    let cfg = fraud_config(&cx.settings);
    cx.db.write(move |c| detail_in(c, &who, &app_id, &cipher, &cfg)).await
}

// ---------------------------------------------------------------- documents

/// A document's bytes, for someone who may see its application; the view is
/// audited. Returns `(document, bytes)`.
pub async fn document(cx: &Ctx, who: &Identity, doc_id: String) -> Result<(Document, Vec<u8>), AppError> {
    let who = who.clone();
    let doc = cx
        .db
        .write(move |c| {
            let d = dbr::document(c, &doc_id)?.ok_or(AppError::NotFound)?;
            load_app(c, &who, &d.application_id)?;
            audit::append(
                c,
                &who.actor(),
                "document.view",
                &format!("document:{}", d.id),
                None,
                Some(&json!({"application": d.application_id})),
            )?;
            Ok(d)
        })
        .await?;
    let name = doc.content_hash.clone();
    let valid =
        name.len() >= 64 && name[..64].chars().all(|c| c.is_ascii_hexdigit()) && matches!(&name[64..], "" | ".jpg" | ".png" | ".pdf");
    if !valid {
        return Err(AppError::NotFound);
    }
    let dir = cx.settings.uploads.dir.clone();
    let mut candidates = vec![dir.join(&name)];
    if name.len() == 64 {
        candidates.push(dir.join(format!("{name}{}", document_type(&doc.mime).1)));
    }
    let bytes = actix_web::web::block(move || candidates.iter().find_map(|p| std::fs::read(p).ok())).await.map_err(AppError::internal)?;
    let bytes = bytes.ok_or(AppError::NotFound)?;
    Ok((doc, bytes))
}

/// The content type and file extension a stored document is served with.
pub fn document_type(mime: &str) -> (&'static str, &'static str) {
    match mime {
        "image/jpeg" => ("image/jpeg", ".jpg"),
        "image/png" => ("image/png", ".png"),
        "application/pdf" => ("application/pdf", ".pdf"),
        _ => ("application/octet-stream", ""),
    }
}

// ---------------------------------------------------------------- decisions

/// A decision as posted by the page form or the API.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DecisionInput {
    /// `approve`, `reject`, `supplement` or `note`.
    #[serde(alias = "action")]
    pub decision: String,
    #[serde(default)]
    pub school_id: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub reason_code: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// `YYYY-MM-DDTHH:MM`, `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD` (18:00).
    #[serde(default)]
    pub deadline: Option<String>,
    /// A supplement request's document kinds (`property_cert`, …).
    #[serde(default, deserialize_with = "one_or_many")]
    pub documents: Vec<String>,
    /// A supplement request's form sections to correct (`hukou`, …).
    #[serde(default, deserialize_with = "one_or_many")]
    pub sections: Vec<String>,
    #[serde(default)]
    pub version: Option<i32>,
    #[serde(default)]
    pub csrf: Option<String>,
}

/// A list as JSON sends it, or one value as a form field does.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(v)) => v,
    })
}

impl DecisionInput {
    /// A decision from an HTML form body, where a repeated field (one
    /// checkbox per requested document) is a list.
    pub fn from_form(body: &[u8]) -> Result<DecisionInput, AppError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(body).map_err(|_| AppError::invalid("decision", "表单内容无法识别，请刷新页面后重试"))?;
        let mut map = serde_json::Map::new();
        for (k, v) in pairs {
            match (k.as_str(), map.get_mut(&k)) {
                ("documents" | "sections", Some(Value::Array(list))) => list.push(Value::String(v)),
                ("documents" | "sections", None) => {
                    map.insert(k, Value::Array(vec![Value::String(v)]));
                }
                ("version", _) => {
                    map.insert(k, v.trim().parse::<i64>().map(Value::from).unwrap_or(Value::Null));
                }
                _ => {
                    map.insert(k, Value::String(v));
                }
            }
        }
        serde_json::from_value(Value::Object(map)).map_err(|_| AppError::invalid("decision", "表单内容无法识别，请刷新页面后重试"))
    }
}

/// A deadline as a reviewer types it, in Beijing time; returned in UTC.
fn parse_deadline(s: Option<&str>) -> Result<NaiveDateTime, AppError> {
    let s = s.map(str::trim).unwrap_or("");
    if s.is_empty() {
        return Err(AppError::invalid("deadline", "请填写补充材料截止时间"));
    }
    for f in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(crate::db::from_beijing(t));
        }
    }
    if let Some(t) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(18, 0, 0)) {
        return Ok(crate::db::from_beijing(t));
    }
    Err(AppError::invalid("deadline", "截止时间格式应为 2027-07-20 18:00"))
}

impl DecisionInput {
    fn to_request(&self) -> Result<DecisionRequest, AppError> {
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        Ok(match DecisionKind::parse(&self.decision) {
            Some(DecisionKind::Approve) => {
                DecisionRequest::Approve { school_id: self.school_id.clone(), category: self.category.clone(), reason: s(&self.reason) }
            }
            Some(DecisionKind::Reject) => DecisionRequest::Reject { reason_code: s(&self.reason_code), note: s(&self.note) },
            Some(DecisionKind::Supplement) => DecisionRequest::Supplement {
                deadline: parse_deadline(self.deadline.as_deref())?,
                note: s(&self.note),
                items: supplement::Items::check(&self.documents, &self.sections).map_err(|(f, m)| AppError::invalid(f, m))?,
            },
            Some(DecisionKind::Note) => DecisionRequest::Note { note: s(&self.note) },
            None => return Err(AppError::invalid("decision", "决定只能是通过、驳回、补充材料或备注")),
        })
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DecisionResult {
    pub decision_id: String,
    pub decision: DecisionKind,
    pub status: ApplicationStatus,
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

fn add_event(conn: &mut DbConn, app_id: &str, status: ApplicationStatus, note: &str) -> Result<(), AppError> {
    // The guardian's timeline names the office, not the person.
    dbr::insert_event(
        conn,
        &ApplicationEvent { id: new_id(), application_id: app_id.into(), at: now(), status, actor: "reviewer".into(), note: note.into() },
    )
}

/// Writes the application's new state with an optimistic version check.
fn update_app(conn: &mut DbConn, app: &Application, u: AppUpdate) -> Result<(), AppError> {
    if !dbr::update_application(conn, &app.id, app.version, &u)? {
        return Err(AppError::conflict("stale", "该申请刚被他人修改，请刷新后重试"));
    }
    Ok(())
}

/// The application's current placement under a new status.
pub(crate) fn keep(app: &Application, status: ApplicationStatus) -> AppUpdate {
    AppUpdate {
        status,
        school_id: app.catchment_school_id.clone(),
        zone_id: app.zone_id.clone(),
        category: app.category.clone(),
        priority_json: app.priority_json.clone(),
        explanation: app.explanation.clone(),
    }
}

/// What an approval writes: the computed keys, or the override.
fn approved_update(computed: &Computed, school: Option<&String>, category: Option<&String>, reason: &str) -> AppUpdate {
    let (s, z) = match school {
        Some(s) => (Some(s.clone()), None),
        None => (computed.school_id.clone(), computed.zone_id.clone()),
    };
    let overridden = school.is_some() || category.is_some();
    AppUpdate {
        status: ApplicationStatus::Approved,
        school_id: s,
        zone_id: z,
        category: category.cloned().or_else(|| computed.category.clone()),
        priority_json: if category.is_some() { None } else { computed.priority_json.clone() },
        explanation: if overridden { Some(format!("人工改判（经复核）：{reason}")) } else { computed.explanation.clone() },
    }
}

/// One decision inside the caller's transaction (the demo's finished
/// seventh-grade review uses it as a reviewer would).
pub fn decide_with(
    conn: &mut DbConn,
    settings: &crate::config::Settings,
    who: &Identity,
    app_id: &str,
    req: &DecisionRequest,
) -> Result<DecisionResult, AppError> {
    decide_in(conn, settings, who, app_id, req, None)
}

fn decide_in(
    conn: &mut DbConn,
    settings: &crate::config::Settings,
    who: &Identity,
    app_id: &str,
    req: &DecisionRequest,
    expected_version: Option<i32>,
) -> Result<DecisionResult, AppError> {
    let app = load_app_to_change(conn, who, app_id)?;
    if let Some(v) = expected_version {
        if v != app.version {
            return Err(AppError::conflict("stale", "该申请刚被他人修改，请刷新后重试"));
        }
    }
    let c = dbr::campaign(conn, &app.campaign_id)?;
    let (computed, _) = computed(conn, &c, &app)?;
    let schools: Vec<String> = dbr::plan_schools(conn, &c.id)?.into_iter().map(|(id, _)| id).collect();
    let cats: Vec<String> = categories_of(&c).into_iter().map(|(code, _)| code).collect();
    let t = now();
    let outcome = review::check_decision(req, app.status, &computed, &schools, &cats, c.four_eyes, t).map_err(|e| {
        if e.field == "status" {
            AppError::Conflict { code: "wrong_status", message: e.message, field: Some("status".into()) }
        } else {
            AppError::invalid(e.field, e.message)
        }
    })?;
    // An open appeal is decided by someone other than the reviewer who rejected.
    let open_appeal = dbr::appeal_of(conn, &app.id)?.filter(|a| a.outcome.is_none());
    if let (Some(a), true) = (&open_appeal, outcome.decision != DecisionKind::Note) {
        review::appeal::may_decide(a.rejected_by.as_deref(), &who.id).map_err(|m| AppError::Conflict {
            code: "four_eyes",
            message: m,
            field: None,
        })?;
    }
    if dbr::pending_seconds(conn, &app.id)? > 0 && outcome.decision != DecisionKind::Note {
        return Err(AppError::conflict("pending_second", "该申请有一项改判正在等待第二人复核，复核后才能作新的决定"));
    }
    let before = snapshot(&app);
    let decision_id = new_id();
    let mut status = app.status;
    if let Some(new_status) = outcome.new_status {
        status = new_status;
        match outcome.decision {
            DecisionKind::Approve if !outcome.needs_second => {
                let u = approved_update(&computed, outcome.override_school_id.as_ref(), outcome.override_category.as_ref(), &outcome.note);
                update_app(conn, &app, AppUpdate { status: new_status, ..u })?;
                add_event(conn, &app.id, new_status, "审核通过")?;
                notify_approved(conn, settings, &c, &app.id, &decision_id, t)?;
            }
            DecisionKind::Approve => {
                update_app(conn, &app, keep(&app, new_status))?;
                add_event(conn, &app.id, new_status, "审核中：需另一名工作人员复核")?;
            }
            DecisionKind::Reject => {
                let label = outcome.reason_code.as_deref().and_then(review::reject_reason_label).unwrap_or("");
                let note = if outcome.note.is_empty() { label.to_string() } else { format!("{label}：{}", outcome.note) };
                update_app(conn, &app, AppUpdate { category: None, priority_json: None, explanation: None, ..keep(&app, new_status) })?;
                add_event(conn, &app.id, new_status, &note)?;
                let reason = if label.is_empty() { note.clone() } else { label.to_string() };
                let event =
                    notify::Event::Rejected { decision_id: decision_id.clone(), registration_no: app.registration_no.clone(), reason };
                notify_svc::enqueue_for_application(conn, settings, &app.id, &app.campaign_id, &event, t)?;
            }
            DecisionKind::Supplement => {
                let deadline = outcome.supplement_deadline.unwrap_or(t);
                update_app(conn, &app, keep(&app, new_status))?;
                let asked = outcome.supplement_items.clone().unwrap_or_default().describe(&outcome.note);
                let text = format!("请于 {}（北京时间）前补充材料。{asked}", crate::db::beijing(deadline).format("%Y-%m-%d %H:%M"));
                add_event(conn, &app.id, new_status, &text)?;
                let event = notify::Event::Supplement {
                    decision_id: decision_id.clone(),
                    registration_no: app.registration_no.clone(),
                    asked,
                    deadline,
                };
                notify_svc::enqueue_for_application(conn, settings, &app.id, &app.campaign_id, &event, t)?;
            }
            DecisionKind::Note => {}
        }
    }
    dbr::insert_decision(
        conn,
        &DecisionRow {
            id: decision_id.clone(),
            application_id: app.id.clone(),
            reviewer_id: who.id.clone(),
            decision: outcome.decision,
            reason_code: outcome.reason_code.clone(),
            note: outcome.note.clone(),
            override_school_id: outcome.override_school_id.clone(),
            override_category: outcome.override_category.clone(),
            needs_second: outcome.needs_second,
            second_reviewer_id: None,
            second_at: None,
            supplement_deadline: outcome.supplement_deadline,
            created_at: t,
            supplement_items: match &outcome.supplement_items {
                Some(i) => Some(serde_json::to_string(i).map_err(AppError::internal)?),
                None => None,
            },
        },
    )?;
    let after_app = dbr::application(conn, &app.id)?.ok_or(AppError::NotFound)?;
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
        "supplement_items": outcome.supplement_items,
    });
    audit::append(
        conn,
        &who.actor(),
        &format!("review.{}", outcome.decision),
        &format!("application:{}", app.id),
        Some(&before),
        Some(&after),
    )?;
    if open_appeal.is_some() {
        match status {
            ApplicationStatus::Approved => settle_appeal(conn, who, &app.id, "granted", t)?,
            ApplicationStatus::Rejected => settle_appeal(conn, who, &app.id, "upheld", t)?,
            _ => {}
        }
    }
    Ok(DecisionResult { decision_id, decision: outcome.decision, status, needs_second: outcome.needs_second })
}

/// Queues the guardian's "approved" message: the school (or zone) and category as stored.
fn notify_approved(
    conn: &mut DbConn,
    settings: &crate::config::Settings,
    c: &Campaign,
    app_id: &str,
    decision_id: &str,
    t: NaiveDateTime,
) -> Result<(), AppError> {
    let a = dbr::application(conn, app_id)?.ok_or(AppError::NotFound)?;
    let school = notify_svc::place_name(conn, a.catchment_school_id.as_deref().or(a.zone_id.as_deref()))?;
    let category = match &a.category {
        Some(code) => categories_of(c).into_iter().find(|(k, _)| k == code).map(|(_, l)| l).unwrap_or_else(|| code.clone()),
        None => "待定".into(),
    };
    let event = notify::Event::Approved { decision_id: decision_id.into(), registration_no: a.registration_no.clone(), school, category };
    notify_svc::enqueue_for_application(conn, settings, app_id, &a.campaign_id, &event, t)?;
    Ok(())
}

/// Records an appeal's outcome with its own audit entry.
fn settle_appeal(conn: &mut DbConn, who: &Identity, app_id: &str, outcome: &str, at: NaiveDateTime) -> Result<(), AppError> {
    if dbr::decide_appeal(conn, app_id, outcome, &who.id, at)? {
        audit::append(
            conn,
            &who.actor(),
            &format!("review.appeal_{outcome}"),
            &format!("application:{app_id}"),
            None,
            Some(&json!({"outcome": outcome, "decided_by": who.id})),
        )?;
    }
    Ok(())
}

/// A reviewer's decision on an application, in one transaction with the
/// status change, the guardian's timeline event, the decision row, a
/// notification for supplements and the audit entry.
pub async fn decide(cx: &Ctx, who: &Identity, app_id: String, input: &DecisionInput) -> Result<DecisionResult, AppError> {
    let req = input.to_request()?;
    let who = who.clone();
    let version = input.version;
    let (actor, target) = (who.actor(), format!("application:{app_id}"));
    let settings = cx.settings.clone();
    let r = cx.db.write(move |c| decide_in(c, &settings, &who, &app_id, &req, version)).await;
    super::draw::audited(cx, &actor, &target, r).await
}

fn second_in(
    conn: &mut DbConn,
    settings: &crate::config::Settings,
    who: &Identity,
    decision_id: &str,
    agree: bool,
) -> Result<DecisionResult, AppError> {
    let d = dbr::decision(conn, decision_id)?.ok_or(AppError::NotFound)?;
    let app = load_app_to_change(conn, who, &d.application_id)?;
    if d.decision != DecisionKind::Approve || !d.needs_second || d.second_reviewer_id.is_some() {
        return Err(AppError::conflict("not_pending", "这项决定不需要或已经完成复核"));
    }
    if d.reviewer_id == who.id {
        return Err(AppError::Conflict {
            code: "four_eyes",
            message: "改判须由另一名工作人员复核，不能复核自己的决定".into(),
            field: None,
        });
    }
    if !app.status.is_reviewable() {
        return Err(AppError::conflict("wrong_status", "该申请的状态已改变，不能再复核"));
    }
    let c = dbr::campaign(conn, &app.campaign_id)?;
    let (computed, _) = computed(conn, &c, &app)?;
    let before = snapshot(&app);
    // Only one second opinion: the row must still be waiting.
    if !dbr::record_second(conn, decision_id, &who.id, now(), agree)? {
        return Err(AppError::conflict("not_pending", "这项决定不需要或已经完成复核"));
    }
    let status = if agree {
        update_app(conn, &app, approved_update(&computed, d.override_school_id.as_ref(), d.override_category.as_ref(), &d.note))?;
        add_event(conn, &app.id, ApplicationStatus::Approved, "审核通过")?;
        notify_approved(conn, settings, &c, &app.id, decision_id, now())?;
        if dbr::appeal_of(conn, &app.id)?.is_some_and(|a| a.outcome.is_none()) {
            settle_appeal(conn, who, &app.id, "granted", now())?;
        }
        ApplicationStatus::Approved
    } else {
        app.status
    };
    let after_app = dbr::application(conn, &app.id)?.ok_or(AppError::NotFound)?;
    let mut after = snapshot(&after_app);
    after["second"] = json!({"decision_id": decision_id, "agree": agree});
    let action = if agree { "review.second_agree" } else { "review.second_disagree" };
    audit::append(conn, &who.actor(), action, &format!("application:{}", app.id), Some(&before), Some(&after))?;
    Ok(DecisionResult { decision_id: decision_id.into(), decision: DecisionKind::Approve, status, needs_second: false })
}

/// The second staff member's word on an override: `agree` applies it.
pub async fn second(cx: &Ctx, who: &Identity, decision_id: String, agree: bool) -> Result<DecisionResult, AppError> {
    let who = who.clone();
    let (actor, target) = (who.actor(), format!("decision:{decision_id}"));
    let settings = cx.settings.clone();
    let r = cx.db.write(move |c| second_in(c, &settings, &who, &decision_id, agree)).await;
    super::draw::audited(cx, &actor, &target, r).await
}

/// `agree` as a form or JSON sends it.
pub fn parse_agree(v: &Option<Value>) -> Result<bool, AppError> {
    match v {
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "1" || s == "true" => Ok(true),
        Some(Value::String(s)) if s == "0" || s == "false" => Ok(false),
        _ => Err(AppError::invalid("agree", "请选择同意或不同意")),
    }
}

// ---------------------------------------------------------------- supplement deadlines

/// What the deadline sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Expired {
    /// Applications rejected because the campaign says so.
    pub rejected: usize,
    /// Applications returned to review as they stand.
    pub returned: usize,
}

/// One overdue request, in the caller's transaction: the answer row
/// (`expired`) first, so a request is settled once however many sweeps run;
/// then the application as the campaign says, its timeline and the audit.
fn expire_one(
    conn: &mut DbConn,
    settings: Option<&crate::config::Settings>,
    d: &DecisionRow,
    app: &Application,
    at: NaiveDateTime,
) -> Result<Option<SupplementExpiry>, AppError> {
    let c = dbr::campaign(conn, &app.campaign_id)?;
    let response = dbr::SupplementResponse {
        id: new_id(),
        decision_id: d.id.clone(),
        application_id: app.id.clone(),
        outcome: "expired".into(),
        reply: String::new(),
        documents_json: "[]".into(),
        changes_json: "[]".into(),
        at,
    };
    if !dbr::insert_supplement_response(conn, &response)? {
        return Ok(None);
    }
    let deadline = d.supplement_deadline.map(|t| crate::db::beijing(t).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
    let (status, note, update) = match c.supplement_expiry {
        SupplementExpiry::Reject => (
            ApplicationStatus::Rejected,
            format!("逾期未补充材料：补充材料已于 {deadline}（北京时间）截止"),
            AppUpdate { category: None, priority_json: None, explanation: None, ..keep(app, ApplicationStatus::Rejected) },
        ),
        SupplementExpiry::Review => (
            ApplicationStatus::UnderReview,
            format!("补充材料已于 {deadline}（北京时间）截止，将按已提交的材料审核"),
            keep(app, ApplicationStatus::UnderReview),
        ),
    };
    update_app(conn, app, update)?;
    dbr::insert_event(
        conn,
        &ApplicationEvent { id: new_id(), application_id: app.id.clone(), at, status, actor: "system".into(), note: note.clone() },
    )?;
    audit::append(
        conn,
        "system",
        "review.supplement_expired",
        &format!("application:{}", app.id),
        Some(&json!({"status": app.status, "version": app.version, "request": d.id})),
        Some(&json!({
            "status": status,
            "version": app.version + 1,
            "rule": c.supplement_expiry,
            "reason_code": (c.supplement_expiry == SupplementExpiry::Reject).then_some("supplement_expired"),
        })),
    )?;
    if let (Some(settings), SupplementExpiry::Reject) = (settings, c.supplement_expiry) {
        let reason = review::reject_reason_label("supplement_expired").unwrap_or("逾期未补充材料").to_string();
        let event =
            notify::Event::Rejected { decision_id: format!("{}-expired", d.id), registration_no: app.registration_no.clone(), reason };
        notify_svc::enqueue_for_application(conn, settings, &app.id, &app.campaign_id, &event, at)?;
    }
    Ok(Some(c.supplement_expiry))
}

/// Settles every supplement request whose deadline passed unanswered, each
/// in its own transaction (one failure does not hold back the others), as
/// the request's campaign says: rejected, or back to review as it stands.
pub fn expire_supplements_blocking(db: &crate::db::Db, at: NaiveDateTime) -> Result<Expired, AppError> {
    expire_supplements_notifying(db, None, at)
}

/// [`expire_supplements_blocking`], queueing the guardian's "rejected"
/// message (in the same transaction) when the rule rejects.
pub fn expire_supplements_notifying(
    db: &crate::db::Db,
    settings: Option<&crate::config::Settings>,
    at: NaiveDateTime,
) -> Result<Expired, AppError> {
    let mut done = Expired::default();
    loop {
        let batch = db.write_blocking(|c| dbr::overdue_supplements(c, at, 200))?;
        if batch.is_empty() {
            return Ok(done);
        }
        let mut progressed = false;
        for (d, app) in batch {
            match db.write_blocking(|c| expire_one(c, settings, &d, &app, at)) {
                Ok(Some(rule)) => {
                    progressed = true;
                    match rule {
                        SupplementExpiry::Reject => done.rejected += 1,
                        SupplementExpiry::Review => done.returned += 1,
                    }
                }
                // Settled meanwhile (an answer or another sweep came first).
                Ok(None) | Err(AppError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        if !progressed {
            return Ok(done);
        }
    }
}

/// [`expire_supplements_blocking`] on the blocking pool.
pub async fn expire_supplements(cx: &Ctx, at: NaiveDateTime) -> Result<Expired, AppError> {
    let db = cx.db.clone();
    let settings = cx.settings.clone();
    actix_web::web::block(move || expire_supplements_notifying(&db, Some(&settings), at)).await.map_err(AppError::internal)?
}

// ---------------------------------------------------------------- county queue

/// An admin's assignment of a county-queue application to a township.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AssignInput {
    #[serde(default)]
    pub township_id: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub version: Option<i32>,
    #[serde(default)]
    pub csrf: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssignResult {
    pub application_id: String,
    pub township_id: String,
    pub township_name: String,
}

fn assign_in(conn: &mut DbConn, who: &Identity, app_id: &str, input: &AssignInput) -> Result<AssignResult, AppError> {
    if who.role != Role::Admin {
        return Err(AppError::Forbidden);
    }
    let app = load_app_to_change(conn, who, app_id)?;
    if let Some(v) = input.version {
        if v != app.version {
            return Err(AppError::conflict("stale", "该申请刚被他人修改，请刷新后重试"));
        }
    }
    let townships = crate::db::staff::townships(conn)?;
    let (township, reason) = scope::check_assignment(
        app.township_id.as_deref(),
        app.assigned_township_id.as_deref(),
        input.township_id.as_deref().unwrap_or(""),
        input.reason.as_deref().unwrap_or(""),
        &townships,
    )
    .map_err(|e| {
        if e.conflict {
            AppError::Conflict { code: "not_in_county_queue", message: e.message, field: Some(e.field.into()) }
        } else {
            AppError::invalid(e.field, e.message)
        }
    })?;
    if !dbr::assign_township(conn, &app.id, app.version, &township)? {
        return Err(AppError::conflict("stale", "该申请刚被他人修改，请刷新后重试"));
    }
    let name = townships.iter().find(|(id, _)| *id == township).map(|(_, n)| n.clone()).unwrap_or_default();
    let names = dbr::names(conn)?;
    audit::append(
        conn,
        &who.actor(),
        "review.assign",
        &format!("application:{}", app.id),
        Some(&json!({
            "township_id": app.township_id,
            "township": township_name(&names, &app.township_id),
            "version": app.version,
        })),
        Some(&json!({"township_id": township, "township": name, "reason": reason, "version": app.version + 1})),
    )?;
    Ok(AssignResult { application_id: app.id, township_id: township, township_name: name })
}

/// Assigns an application of the county queue (no address in a county
/// township) to a township, whose reviewers then see it; admins only,
/// with a reason, audited as `review.assign`.
pub async fn assign(cx: &Ctx, who: &Identity, app_id: String, input: AssignInput) -> Result<AssignResult, AppError> {
    let who = who.clone();
    let (actor, target) = (who.actor(), format!("application:{app_id}"));
    let r = cx.db.write(move |c| assign_in(c, &who, &app_id, &input)).await;
    super::draw::audited(cx, &actor, &target, r).await
}

/// What [`rescope`] changed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Rescoped {
    pub applications: usize,
    pub changed: usize,
    pub county_queue: usize,
}

/// Recomputes the reviewing township of every application from its stored
/// facts with the same rule as a submission ([`scope::review_township`]),
/// keeping admins' assignments where no address places an application.
/// For rows stored before that rule (`ruxue review rescope`); each change
/// is audited as `review.rescope`, in one transaction.
pub fn rescope(db: &crate::db::Db, actor: &str) -> Result<Rescoped, AppError> {
    let actor = actor.to_string();
    db.write_blocking(move |conn| {
        let mut out = Rescoped::default();
        let townships = crate::db::staff::townships(conn)?;
        for c in dbr::campaigns_list(conn)? {
            let policy = crate::policy::Policy::load_toml(&c.policy_toml).ok();
            let rules = crate::db::catchment::load_rules(conn, &c.id)?;
            let dir = crate::db::catchment::load_directory(conn, &c.id)?;
            let ctx = crate::policy::CatchmentContext { rules: &rules, directory: &dir };
            for app in dbr::applications_of(conn, &c.id)? {
                out.applications += 1;
                let Ok(facts) = serde_json::from_str::<crate::policy::ApplicantFacts>(&app.facts_json) else {
                    continue;
                };
                let keys = policy.as_ref().and_then(|p| crate::policy::compute_keys(&facts, p, &ctx).ok());
                let computed = scope::review_township(&facts, keys.as_ref().and_then(|k| k.schools.first()), &townships);
                let township = scope::effective_township(computed, app.assigned_township_id.clone());
                if township.is_none() {
                    out.county_queue += 1;
                }
                if township != app.township_id {
                    dbr::set_township(conn, &app.id, township.as_deref())?;
                    audit::append(
                        conn,
                        &actor,
                        "review.rescope",
                        &format!("application:{}", app.id),
                        Some(&json!({"township_id": app.township_id})),
                        Some(&json!({"township_id": township})),
                    )?;
                    out.changed += 1;
                }
            }
        }
        Ok(out)
    })
}
