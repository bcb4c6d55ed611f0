//! Review queries: applications for reviewers, their documents, events and
//! decisions, the rows the dashboard and the exports read, and the audit
//! pages. Queries only; the rules are `crate::service::review`'s.

use super::models::{Application, ApplicationEvent, Campaign, Document, Notification};
use super::schema::{
    appeals, application_events as ev, applications as ap, audit_log as al, campaigns, children as ch, documents, draws, guardians as gu,
    notifications, offers, review_decisions as rd, school_plans, schools, staff, supplement_responses as sr, townships, zone_schools,
    zones,
};
use super::{audit, now, DbConn};
use crate::domain::{ApplicationStatus, DecisionKind};
use crate::error::AppError;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use std::collections::HashMap;

// ---------------------------------------------------------------- campaigns and names

pub fn campaign(conn: &mut DbConn, id: &str) -> Result<Campaign, AppError> {
    Ok(campaigns::table.find(id).select(Campaign::as_select()).first(conn)?)
}

pub fn campaigns_list(conn: &mut DbConn) -> Result<Vec<Campaign>, AppError> {
    Ok(campaigns::table.order((campaigns::year.desc(), campaigns::grade.asc())).select(Campaign::as_select()).load(conn)?)
}

/// Display names of schools, zones and townships by id.
pub struct Names {
    pub schools: HashMap<String, String>,
    pub zones: HashMap<String, String>,
    pub townships: HashMap<String, String>,
}

pub fn names(conn: &mut DbConn) -> Result<Names, AppError> {
    let s: Vec<(String, String)> = schools::table.select((schools::id, schools::name)).load(conn)?;
    let z: Vec<(String, String)> = zones::table.select((zones::id, zones::name)).load(conn)?;
    let t: Vec<(String, String)> = townships::table.select((townships::id, townships::name)).load(conn)?;
    Ok(Names { schools: s.into_iter().collect(), zones: z.into_iter().collect(), townships: t.into_iter().collect() })
}

/// `(id, name)` of schools and zones (zones marked 片区), for the queue filter.
pub fn targets(conn: &mut DbConn) -> Result<Vec<(String, String)>, AppError> {
    let mut out: Vec<(String, String)> = schools::table.order(schools::id.asc()).select((schools::id, schools::name)).load(conn)?;
    let z: Vec<(String, String)> = zones::table.order(zones::id.asc()).select((zones::id, zones::name)).load(conn)?;
    out.extend(z.into_iter().map(|(id, n)| (id, format!("{n}（片区）"))));
    Ok(out)
}

/// Staff display names by id.
pub fn staff_names(conn: &mut DbConn) -> Result<HashMap<String, String>, AppError> {
    Ok(staff::table.select((staff::id, staff::display_name)).load::<(String, String)>(conn)?.into_iter().collect())
}

/// `(id, name)` of the schools with a plan in the campaign.
pub fn plan_schools(conn: &mut DbConn, campaign_id: &str) -> Result<Vec<(String, String)>, AppError> {
    Ok(school_plans::table
        .inner_join(schools::table)
        .filter(school_plans::campaign_id.eq(campaign_id))
        .order(schools::id.asc())
        .select((schools::id, schools::name))
        .load(conn)?)
}

// ---------------------------------------------------------------- applications

pub fn application(conn: &mut DbConn, id: &str) -> Result<Option<Application>, AppError> {
    Ok(ap::table.find(id).select(Application::as_select()).first(conn).optional()?)
}

/// The child of an application, as review, the fraud signals and the
/// exports read it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ch)]
pub struct ChildBrief {
    pub name: String,
    pub sex: String,
    pub birth_date: NaiveDate,
    pub id_number_enc: String,
    pub id_number_hash: String,
    pub id_number_masked: String,
    pub guardian_id: String,
}

/// An application with its child.
pub type AppWithChild = (Application, ChildBrief);

/// The applications `ids` with their children.
pub fn apps_with_child(conn: &mut DbConn, ids: &[String]) -> Result<Vec<AppWithChild>, AppError> {
    Ok(ap::table.inner_join(ch::table).filter(ap::id.eq_any(ids)).select((Application::as_select(), ChildBrief::as_select())).load(conn)?)
}

/// Every application, for signals computed over the whole county.
pub fn fraud_rows_all(conn: &mut DbConn) -> Result<Vec<AppWithChild>, AppError> {
    Ok(ap::table.inner_join(ch::table).select((Application::as_select(), ChildBrief::as_select())).load(conn)?)
}

/// The applications `ids` and every application that shares a guardian or an
/// ID number with one of them, or whose declarations mention one of
/// `certificates`: all that the signals of `ids` depend on.
pub fn fraud_rows_related(conn: &mut DbConn, ids: &[String], certificates: &[String]) -> Result<Vec<AppWithChild>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let both = (Application::as_select(), ChildBrief::as_select());
    let page = apps_with_child(conn, ids)?;
    let guardians: Vec<String> = page.iter().map(|(_, c)| c.guardian_id.clone()).collect();
    let hashes: Vec<String> = page.iter().map(|(_, c)| c.id_number_hash.clone()).collect();
    let mut out: Vec<AppWithChild> = ap::table
        .inner_join(ch::table)
        .filter(ch::guardian_id.eq_any(&guardians).or(ch::id_number_hash.eq_any(&hashes)))
        .select(both)
        .load(conn)?;
    for cert in certificates.iter().filter(|c| !c.is_empty()) {
        let like = format!("%{}%", cert.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let more: Vec<AppWithChild> =
            ap::table.inner_join(ch::table).filter(ap::facts_json.like(like).escape('\\')).select(both).load(conn)?;
        out.extend(more);
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|(a, _)| seen.insert(a.id.clone()));
    Ok(out)
}

/// The queue's filters, as SQL sees them.
#[derive(Debug, Clone, Default)]
pub struct QueueWhere {
    /// `None`: every township (admins); otherwise these township ids.
    pub townships: Option<Vec<String>>,
    pub campaign: Option<String>,
    /// A school id or a zone id.
    pub target: Option<String>,
    pub category: Option<String>,
    pub status: Option<ApplicationStatus>,
    /// Only the county queue (no township yet).
    pub unassigned: bool,
    /// Only this township.
    pub township: Option<String>,
}

/// The queue's filters as a boxed query over applications and children.
macro_rules! queue_filtered {
    ($w:expr) => {{
        let w: &QueueWhere = $w;
        let mut q = ap::table.inner_join(ch::table).into_boxed();
        if let Some(t) = &w.townships {
            q = q.filter(ap::township_id.eq_any(t.clone()));
        }
        if let Some(c) = &w.campaign {
            q = q.filter(ap::campaign_id.eq(c.clone()));
        }
        if let Some(s) = &w.target {
            q = q.filter(ap::catchment_school_id.eq(s.clone()).or(ap::zone_id.eq(s.clone())));
        }
        if let Some(c) = &w.category {
            q = q.filter(ap::category.eq(c.clone()));
        }
        if let Some(s) = w.status {
            q = q.filter(ap::status.eq(s));
        }
        if w.unassigned {
            q = q.filter(ap::township_id.is_null());
        }
        if let Some(t) = &w.township {
            q = q.filter(ap::township_id.eq(t.clone()));
        }
        q
    }};
}

/// How many applications match `w`.
pub fn queue_count(conn: &mut DbConn, w: &QueueWhere) -> Result<i64, AppError> {
    Ok(queue_filtered!(w).count().get_result(conn)?)
}

/// The queue lines matching `w`, oldest first: `limit` of them from
/// `offset`, or all of them when `limit` is `None`.
pub fn queue_rows(conn: &mut DbConn, w: &QueueWhere, offset: i64, limit: Option<i64>) -> Result<Vec<AppWithChild>, AppError> {
    let mut q = queue_filtered!(w)
        .order((ap::submitted_at.asc(), ap::registration_no.asc()))
        .select((Application::as_select(), ChildBrief::as_select()));
    // SQLite accepts OFFSET only after a LIMIT.
    if let Some(l) = limit {
        q = q.offset(offset).limit(l);
    }
    Ok(q.load(conn)?)
}

pub fn child_of(conn: &mut DbConn, child_id: &str) -> Result<ChildBrief, AppError> {
    Ok(ch::table.find(child_id).select(ChildBrief::as_select()).first(conn)?)
}

/// `(name, relation, phone)` of a guardian.
pub fn guardian_contact(conn: &mut DbConn, guardian_id: &str) -> Result<(String, String, String), AppError> {
    Ok(gu::table.find(guardian_id).select((gu::name, gu::relation, gu::phone)).first(conn)?)
}

/// The WeChat openid of a child's guardian.
pub fn guardian_openid_of_child(conn: &mut DbConn, child_id: &str) -> Result<String, AppError> {
    Ok(ch::table.inner_join(gu::table).filter(ch::id.eq(child_id)).select(gu::openid).first(conn)?)
}

pub fn documents_of(conn: &mut DbConn, app_id: &str) -> Result<Vec<Document>, AppError> {
    Ok(documents::table
        .filter(documents::application_id.eq(app_id))
        .order(documents::uploaded_at.asc())
        .select(Document::as_select())
        .load(conn)?)
}

pub fn document(conn: &mut DbConn, doc_id: &str) -> Result<Option<Document>, AppError> {
    Ok(documents::table.find(doc_id).select(Document::as_select()).first(conn).optional()?)
}

pub fn events_of(conn: &mut DbConn, app_id: &str) -> Result<Vec<ApplicationEvent>, AppError> {
    Ok(ev::table.filter(ev::application_id.eq(app_id)).order(ev::at.asc()).select(ApplicationEvent::as_select()).load(conn)?)
}

pub fn insert_event(conn: &mut DbConn, e: &ApplicationEvent) -> Result<(), AppError> {
    diesel::insert_into(ev::table).values(e).execute(conn)?;
    Ok(())
}

/// What a decision writes onto an application.
#[derive(Debug, Clone)]
pub struct AppUpdate {
    pub status: ApplicationStatus,
    pub school_id: Option<String>,
    pub zone_id: Option<String>,
    pub category: Option<String>,
    pub priority_json: Option<String>,
    pub explanation: Option<String>,
}

/// Writes `u` if the application is still at `version` (optimistic check);
/// false when someone else changed it first.
pub fn update_application(conn: &mut DbConn, id: &str, version: i32, u: &AppUpdate) -> Result<bool, AppError> {
    let n = diesel::update(ap::table.filter(ap::id.eq(id)).filter(ap::version.eq(version)))
        .set((
            ap::status.eq(u.status),
            ap::catchment_school_id.eq(&u.school_id),
            ap::zone_id.eq(&u.zone_id),
            ap::category.eq(&u.category),
            ap::priority_json.eq(&u.priority_json),
            ap::explanation.eq(&u.explanation),
            ap::updated_at.eq(now()),
            ap::version.eq(version + 1),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Assigns an application to a township (the computed and the assigned
/// township alike), with an optimistic version check.
pub fn assign_township(conn: &mut DbConn, id: &str, version: i32, township: &str) -> Result<bool, AppError> {
    let n = diesel::update(ap::table.filter(ap::id.eq(id)).filter(ap::version.eq(version)))
        .set((ap::township_id.eq(township), ap::assigned_township_id.eq(township), ap::updated_at.eq(now()), ap::version.eq(version + 1)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Sets the township that reviews an application (a recomputation).
pub fn set_township(conn: &mut DbConn, id: &str, township: Option<&str>) -> Result<(), AppError> {
    diesel::update(ap::table.filter(ap::id.eq(id))).set(ap::township_id.eq(township)).execute(conn)?;
    Ok(())
}

/// Every application of a campaign.
pub fn applications_of(conn: &mut DbConn, campaign_id: &str) -> Result<Vec<Application>, AppError> {
    Ok(ap::table.filter(ap::campaign_id.eq(campaign_id)).order(ap::registration_no.asc()).select(Application::as_select()).load(conn)?)
}

pub fn insert_notification(conn: &mut DbConn, n: &Notification) -> Result<(), AppError> {
    diesel::insert_into(notifications::table).values(n).execute(conn)?;
    Ok(())
}

// ---------------------------------------------------------------- decisions

/// A stored review decision.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rd)]
pub struct DecisionRow {
    pub id: String,
    pub application_id: String,
    pub reviewer_id: String,
    pub decision: DecisionKind,
    pub reason_code: Option<String>,
    pub note: String,
    pub override_school_id: Option<String>,
    pub override_category: Option<String>,
    pub needs_second: bool,
    pub second_reviewer_id: Option<String>,
    pub second_at: Option<NaiveDateTime>,
    pub supplement_deadline: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// JSON of `review::supplement::Items` for a supplement request.
    pub supplement_items: Option<String>,
}

pub fn decisions_of(conn: &mut DbConn, app_id: &str) -> Result<Vec<DecisionRow>, AppError> {
    Ok(rd::table.filter(rd::application_id.eq(app_id)).order(rd::created_at.asc()).select(DecisionRow::as_select()).load(conn)?)
}

pub fn decision(conn: &mut DbConn, id: &str) -> Result<Option<DecisionRow>, AppError> {
    Ok(rd::table.find(id).select(DecisionRow::as_select()).first(conn).optional()?)
}

/// Overrides of the application still waiting for a second staff member.
pub fn pending_seconds(conn: &mut DbConn, app_id: &str) -> Result<i64, AppError> {
    Ok(rd::table
        .filter(rd::application_id.eq(app_id))
        .filter(rd::needs_second.eq(true))
        .filter(rd::second_reviewer_id.is_null())
        .count()
        .get_result(conn)?)
}

pub fn insert_decision(conn: &mut DbConn, d: &DecisionRow) -> Result<(), AppError> {
    diesel::insert_into(rd::table)
        .values((
            rd::id.eq(&d.id),
            rd::application_id.eq(&d.application_id),
            rd::reviewer_id.eq(&d.reviewer_id),
            rd::decision.eq(d.decision),
            rd::reason_code.eq(&d.reason_code),
            rd::note.eq(&d.note),
            rd::override_school_id.eq(&d.override_school_id),
            rd::override_category.eq(&d.override_category),
            rd::needs_second.eq(d.needs_second),
            rd::second_reviewer_id.eq(&d.second_reviewer_id),
            rd::second_at.eq(d.second_at),
            rd::supplement_deadline.eq(d.supplement_deadline),
            rd::created_at.eq(d.created_at),
            rd::supplement_items.eq(&d.supplement_items),
        ))
        .execute(conn)?;
    Ok(())
}

// ---------------------------------------------------------------- appeals

/// An insert guarded by a UNIQUE key: true when it wrote the row, false when
/// the key was taken. On PostgreSQL the failed statement aborts the
/// transaction, so a caller that gets false writes nothing more in it.
fn first_insert(r: QueryResult<usize>) -> Result<bool, AppError> {
    match r {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// A family's review request of a rejection (`appeals`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = appeals)]
pub struct AppealRow {
    pub id: String,
    pub application_id: String,
    pub rejected_by: Option<String>,
    pub reason: String,
    pub filed_at: NaiveDateTime,
    /// `granted` or `upheld`, once decided.
    pub outcome: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
}

pub fn appeal_of(conn: &mut DbConn, app_id: &str) -> Result<Option<AppealRow>, AppError> {
    Ok(appeals::table.filter(appeals::application_id.eq(app_id)).select(AppealRow::as_select()).first(conn).optional()?)
}

/// Files the one appeal of an application; false when one exists.
pub fn insert_appeal(conn: &mut DbConn, a: &AppealRow) -> Result<bool, AppError> {
    first_insert(diesel::insert_into(appeals::table).values(a).execute(conn))
}

/// Records an open appeal's outcome; false when it was already decided.
pub fn decide_appeal(conn: &mut DbConn, app_id: &str, outcome: &str, by: &str, at: NaiveDateTime) -> Result<bool, AppError> {
    let n = diesel::update(appeals::table.filter(appeals::application_id.eq(app_id)).filter(appeals::outcome.is_null()))
        .set((appeals::outcome.eq(outcome), appeals::decided_by.eq(by), appeals::decided_at.eq(at)))
        .execute(conn)?;
    Ok(n == 1)
}

/// The application's latest rejection decision.
pub fn latest_reject(conn: &mut DbConn, app_id: &str) -> Result<Option<DecisionRow>, AppError> {
    Ok(rd::table
        .filter(rd::application_id.eq(app_id))
        .filter(rd::decision.eq(DecisionKind::Reject))
        .order(rd::created_at.desc())
        .select(DecisionRow::as_select())
        .first(conn)
        .optional()?)
}

// ---------------------------------------------------------------- supplements

/// The answer to a supplement request (`supplement_responses`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sr)]
pub struct SupplementResponse {
    pub id: String,
    pub decision_id: String,
    pub application_id: String,
    /// `answered` or `expired`.
    pub outcome: String,
    pub reply: String,
    pub documents_json: String,
    pub changes_json: String,
    pub at: NaiveDateTime,
}

/// The application's latest supplement request and its answer, if any.
pub fn latest_supplement(conn: &mut DbConn, app_id: &str) -> Result<Option<(DecisionRow, Option<SupplementResponse>)>, AppError> {
    let d: Option<DecisionRow> = rd::table
        .filter(rd::application_id.eq(app_id))
        .filter(rd::decision.eq(DecisionKind::Supplement))
        .order(rd::created_at.desc())
        .select(DecisionRow::as_select())
        .first(conn)
        .optional()?;
    match d {
        None => Ok(None),
        Some(d) => {
            let r = sr::table.filter(sr::decision_id.eq(&d.id)).select(SupplementResponse::as_select()).first(conn).optional()?;
            Ok(Some((d, r)))
        }
    }
}

/// Every answer of an application, by request.
pub fn supplement_responses_of(conn: &mut DbConn, app_id: &str) -> Result<Vec<SupplementResponse>, AppError> {
    Ok(sr::table.filter(sr::application_id.eq(app_id)).order(sr::at.asc()).select(SupplementResponse::as_select()).load(conn)?)
}

/// Records the one answer to a request; false when it already has one.
pub fn insert_supplement_response(conn: &mut DbConn, r: &SupplementResponse) -> Result<bool, AppError> {
    first_insert(diesel::insert_into(sr::table).values(r).execute(conn))
}

/// Supplement requests past their deadline on applications still waiting
/// for the family, oldest first: `(decision, application)`.
pub fn overdue_supplements(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> Result<Vec<(DecisionRow, Application)>, AppError> {
    let rows: Vec<(DecisionRow, Application)> = rd::table
        .inner_join(ap::table.on(ap::id.eq(rd::application_id)))
        .left_join(sr::table.on(sr::decision_id.eq(rd::id)))
        .filter(rd::decision.eq(DecisionKind::Supplement))
        .filter(rd::supplement_deadline.le(now))
        .filter(ap::status.eq(ApplicationStatus::Supplement))
        .filter(sr::id.is_null())
        .order(rd::supplement_deadline.asc())
        .limit(limit)
        .select((DecisionRow::as_select(), Application::as_select()))
        .load(conn)?;
    Ok(rows)
}

/// Records the second staff member's word, only while the decision is still
/// waiting; false when another second opinion came first.
pub fn record_second(conn: &mut DbConn, decision_id: &str, who: &str, at: NaiveDateTime, agree: bool) -> Result<bool, AppError> {
    let n = diesel::update(rd::table.find(decision_id).filter(rd::second_reviewer_id.is_null()))
        .set((rd::second_reviewer_id.eq(Some(who)), rd::second_at.eq(Some(at)), rd::needs_second.eq(agree)))
        .execute(conn)?;
    Ok(n == 1)
}

// ---------------------------------------------------------------- dashboard

/// A campaign's zones: `(id, name)` of each, and `school id → zone id`.
pub struct CampaignZones {
    pub zones: Vec<(String, String)>,
    pub school_zone: HashMap<String, String>,
}

pub fn zones_of(conn: &mut DbConn, campaign_id: &str) -> Result<CampaignZones, AppError> {
    let rows: Vec<(String, String)> =
        zones::table.filter(zones::campaign_id.eq(campaign_id)).order(zones::code.asc()).select((zones::id, zones::name)).load(conn)?;
    let member: Vec<(String, String)> = zone_schools::table
        .inner_join(zones::table)
        .filter(zones::campaign_id.eq(campaign_id))
        .select((zone_schools::school_id, zone_schools::zone_id))
        .load(conn)?;
    Ok(CampaignZones { zones: rows, school_zone: member.into_iter().collect() })
}

/// A school's plan in a campaign.
#[derive(Debug, Clone, Queryable)]
pub struct PlanDbRow {
    pub school_id: String,
    pub school_name: String,
    pub kind: String,
    pub planned_classes: i32,
    pub class_size_cap: i32,
}

pub fn plans_of(conn: &mut DbConn, campaign_id: &str) -> Result<Vec<PlanDbRow>, AppError> {
    Ok(school_plans::table
        .inner_join(schools::table)
        .filter(school_plans::campaign_id.eq(campaign_id))
        .order(schools::id.asc())
        .select((schools::id, schools::name, schools::kind, school_plans::planned_classes, school_plans::class_size_cap))
        .load(conn)?)
}

/// `(school, zone, status, category)` of every application of a campaign.
#[allow(clippy::type_complexity)]
pub fn placements_of(
    conn: &mut DbConn,
    campaign_id: &str,
) -> Result<Vec<(Option<String>, Option<String>, ApplicationStatus, Option<String>)>, AppError> {
    Ok(ap::table
        .filter(ap::campaign_id.eq(campaign_id))
        .select((ap::catchment_school_id, ap::zone_id, ap::status, ap::category))
        .load(conn)?)
}

/// An approved application as the draw plan reads it.
#[derive(Debug, Clone, Queryable)]
pub struct RosterRow {
    pub registration_no: String,
    pub family_id: Option<String>,
    pub school_id: Option<String>,
    pub zone_id: Option<String>,
    pub priority_json: Option<String>,
}

/// The campaign's approved applications, by registration number.
pub fn approved_roster(conn: &mut DbConn, campaign_id: &str) -> Result<Vec<RosterRow>, AppError> {
    Ok(ap::table
        .filter(ap::campaign_id.eq(campaign_id))
        .filter(ap::status.eq_any([ApplicationStatus::Approved, ApplicationStatus::InDraw]))
        .order(ap::registration_no.asc())
        .select((ap::registration_no, ap::family_id, ap::catchment_school_id, ap::zone_id, ap::priority_json))
        .load(conn)?)
}

/// School ids of the campaign's open or accepted offers, one per offer.
pub fn offered_schools(conn: &mut DbConn, campaign_id: &str) -> Result<Vec<String>, AppError> {
    Ok(offers::table
        .inner_join(ap::table)
        .filter(ap::campaign_id.eq(campaign_id))
        .filter(offers::status.eq_any(["offered", "accepted"]))
        .select(offers::school_id)
        .load(conn)?)
}

// ---------------------------------------------------------------- exports

/// Every application with its child, by registration number.
pub fn export_applications(conn: &mut DbConn) -> Result<Vec<AppWithChild>, AppError> {
    Ok(ap::table
        .inner_join(ch::table)
        .order(ap::registration_no.asc())
        .select((Application::as_select(), ChildBrief::as_select()))
        .load(conn)?)
}

/// Every decision with its application's registration number and township,
/// by number and time.
pub fn export_reviews(conn: &mut DbConn) -> Result<Vec<(DecisionRow, String, Option<String>)>, AppError> {
    Ok(rd::table
        .inner_join(ap::table)
        .order((ap::registration_no.asc(), rd::created_at.asc()))
        .select((DecisionRow::as_select(), ap::registration_no, ap::township_id))
        .load(conn)?)
}

/// A draw as the draws export lists it.
#[derive(Debug, Clone, Queryable)]
pub struct DrawExportRow {
    pub draw_id: String,
    pub campaign_id: String,
    pub kind: crate::domain::DrawKind,
    pub status: crate::domain::DrawStatus,
    pub announcement_digest: Option<String>,
    pub result_digest: Option<String>,
    pub created_at: NaiveDateTime,
    pub computed_at: Option<NaiveDateTime>,
    pub record_json: Option<String>,
}

pub fn export_draws(conn: &mut DbConn) -> Result<Vec<DrawExportRow>, AppError> {
    Ok(draws::table
        .order(draws::draw_id.asc())
        .select((
            draws::draw_id,
            draws::campaign_id,
            draws::kind,
            draws::status,
            draws::announcement_digest,
            draws::result_digest,
            draws::created_at,
            draws::computed_at,
            draws::record_json,
        ))
        .load(conn)?)
}

/// An offer as the offers export lists it.
#[derive(Debug, Clone, Queryable)]
pub struct OfferExportRow {
    pub registration_no: String,
    pub township_id: Option<String>,
    pub child_name: String,
    pub school_id: String,
    pub draw_id: Option<String>,
    pub status: String,
    pub deadline: NaiveDateTime,
    pub offered_at: NaiveDateTime,
    pub responded_at: Option<NaiveDateTime>,
}

pub fn export_offers(conn: &mut DbConn) -> Result<Vec<OfferExportRow>, AppError> {
    Ok(offers::table
        .inner_join(ap::table.inner_join(ch::table))
        .order(ap::registration_no.asc())
        .select((
            ap::registration_no,
            ap::township_id,
            ch::name,
            offers::school_id,
            offers::draw_id,
            offers::status,
            offers::deadline,
            offers::offered_at,
            offers::responded_at,
        ))
        .load(conn)?)
}

// ---------------------------------------------------------------- audit pages

pub fn audit_count(conn: &mut DbConn) -> Result<i64, AppError> {
    Ok(al::table.count().get_result(conn)?)
}

/// The audit page's filters, as SQL sees them.
#[derive(Debug, Clone, Default)]
pub struct AuditWhere {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    /// `at >= from` and `at < until` (UTC).
    pub from: Option<chrono::NaiveDateTime>,
    pub until: Option<chrono::NaiveDateTime>,
}

macro_rules! audit_filtered {
    ($w:expr) => {{
        let w: &AuditWhere = $w;
        let mut q = al::table.into_boxed();
        if let Some(x) = &w.actor {
            q = q.filter(al::actor.eq(x.clone()));
        }
        if let Some(x) = &w.action {
            q = q.filter(al::action.eq(x.clone()));
        }
        if let Some(x) = &w.target {
            q = q.filter(al::target.eq(x.clone()));
        }
        if let Some(x) = w.from {
            q = q.filter(al::at.ge(x));
        }
        if let Some(x) = w.until {
            q = q.filter(al::at.lt(x));
        }
        q
    }};
}

/// How many entries match `w`.
pub fn audit_count_where(conn: &mut DbConn, w: &AuditWhere) -> Result<i64, AppError> {
    Ok(audit_filtered!(w).count().get_result(conn)?)
}

/// Entries matching `w`, newest first, one page.
pub fn audit_entries_where(conn: &mut DbConn, w: &AuditWhere, offset: i64, limit: i64) -> Result<Vec<audit::AuditEntry>, AppError> {
    Ok(audit_filtered!(w).order(al::seq.desc()).offset(offset).limit(limit).select(audit::AuditEntry::as_select()).load(conn)?)
}

/// `(id, display name, role)` of every staff account.
pub fn staff_people(conn: &mut DbConn) -> Result<Vec<(String, String, crate::domain::Role)>, AppError> {
    Ok(staff::table.order(staff::username.asc()).select((staff::id, staff::display_name, staff::role)).load(conn)?)
}

/// Registration numbers of these applications, by id.
pub fn registration_nos(conn: &mut DbConn, ids: &[String]) -> Result<HashMap<String, String>, AppError> {
    Ok(ap::table.filter(ap::id.eq_any(ids)).select((ap::id, ap::registration_no)).load::<(String, String)>(conn)?.into_iter().collect())
}

/// The id of the application with this registration number or id.
pub fn application_id_by_no(conn: &mut DbConn, no_or_id: &str) -> Result<Option<String>, AppError> {
    Ok(ap::table.filter(ap::registration_no.eq(no_or_id).or(ap::id.eq(no_or_id))).select(ap::id).first(conn).optional()?)
}

/// Entries newest first, one page.
pub fn audit_entries(conn: &mut DbConn, offset: i64, limit: i64) -> Result<Vec<audit::AuditEntry>, AppError> {
    Ok(al::table.order(al::seq.desc()).offset(offset).limit(limit).select(audit::AuditEntry::as_select()).load(conn)?)
}

/// The whole log, oldest first.
pub fn audit_all(conn: &mut DbConn) -> Result<Vec<audit::AuditEntry>, AppError> {
    Ok(al::table.order(al::seq.asc()).select(audit::AuditEntry::as_select()).load(conn)?)
}
