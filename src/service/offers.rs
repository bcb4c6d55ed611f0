//! After the draw (issue #12): offers from a published draw or from a
//! school that admits everyone, accept and decline, deadlines, waitlist
//! movement, administrative placement (统筹), the parent's result and the
//! public lookup.
//!
//! Waitlist movement: a seat freed at a school (declined, expired, or given
//! up by a child who moved up to a school they listed before it) goes to the
//! first child still waiting on that school's published waitlist, in the
//! record's order; nothing else moves a child ahead. A child who receives a
//! seat at a school they listed before the one they hold leaves that seat
//! (which moves in turn) and every waitlist of a school they listed after.
//! Each response runs all of its moves in one transaction, audited, and each
//! move is written to `waitlist_moves` (the public page). The same sequence
//! of responses on the same record therefore always gives the same seats.
//!
//! Families are told in the same transaction (issue #13, the outbox): the
//! draw's result (`DrawResult`, which names the school offered and its
//! deadline, so a draw's offer needs no message of its own), an offer
//! where no draw was needed (`Admitted`), a seat from the waitlist
//! (`WaitlistOffer`) and an administrative placement (`Placement`).

use super::Ctx;
use crate::admission::{self, RecordView, Tier};
use crate::config::Settings;
use crate::db::models::{Campaign, Draw, Offer, Placement, WaitlistEntry, WaitlistMove};
use crate::db::offers as dbo;
use crate::db::review as dbr;
use crate::db::{self, audit, DbConn};
use crate::domain::{ApplicationStatus, DrawKind, Role};
use crate::error::AppError;
use crate::identity::crypto::mask_name;
use crate::notify::{DrawOutcome, Event};
use crate::service::notify as notify_svc;
use crate::staff::Identity;
use chrono::{Duration, NaiveDateTime};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// The deadline of an offer made now: the campaign's offer deadline for the
/// draw's own offers, and never less than `offer_days` from now.
fn deadline_for(c: &Campaign, now: NaiveDateTime, draw_offer: bool) -> NaiveDateTime {
    let fresh = now + Duration::days(i64::from(c.offer_days.max(1)));
    if draw_offer && c.offer_deadline > fresh {
        c.offer_deadline
    } else {
        fresh
    }
}

fn new_offer(
    app_id: &str,
    school: &str,
    draw: Option<&str>,
    source: &str,
    deadline: NaiveDateTime,
    now: NaiveDateTime,
    note: Option<String>,
) -> Offer {
    Offer {
        id: db::new_id(),
        application_id: app_id.to_string(),
        school_id: school.to_string(),
        draw_id: draw.map(str::to_string),
        status: "offered".into(),
        deadline,
        offered_at: now,
        responded_at: None,
        source: source.into(),
        note,
    }
}

/// Called by `service::draw::publish` inside its transaction: the draw's
/// offers (`assignments`) and its waitlists, from the stored record.
pub fn on_draw_published(conn: &mut DbConn, settings: &Settings, draw: &Draw, now: NaiveDateTime) -> Result<(), AppError> {
    let record = draw.record_json.as_deref().ok_or_else(|| AppError::conflict("not_drawn", "这场派位还没有结果"))?;
    let rv = admission::parse_record(record).map_err(AppError::internal)?;
    if dbo::offers_of_draw(conn, &draw.id)? > 0 {
        return Err(AppError::conflict("already_offered", "这场派位的录取结果已经发出"));
    }
    let c = dbr::campaign(conn, &draw.campaign_id)?;
    let apps: HashMap<String, String> = dbo::entries_of(conn, &draw.id)?.into_iter().map(|(no, app, _)| (no, app)).collect();
    let app_of = |no: &str| apps.get(no).cloned().ok_or_else(|| AppError::internal(format!("draw {} names unknown entry {no}", draw.id)));
    let deadline = deadline_for(&c, now, true);
    let mut offered = 0;
    // Every family's result: the school offered (with the deadline), else
    // the waitlist place at the school listed first, else none (统筹).
    let mut results: Vec<(String, Event)> = Vec::with_capacity(apps.len());
    let result = |app: &str, no: &str, outcome: DrawOutcome| {
        let event =
            Event::DrawResult { draw_id: draw.id.clone(), application_id: app.to_string(), registration_no: no.to_string(), outcome };
        (app.to_string(), event)
    };
    let mut names: HashMap<String, String> = HashMap::new();
    for (school, ids) in &rv.assignments {
        let name = dbo::school_name(conn, school)?;
        for no in ids {
            let app = app_of(no)?;
            dbo::insert_offer(conn, &new_offer(&app, school, Some(&draw.id), "draw", deadline, now, None))?;
            dbo::set_app_status(conn, &app, ApplicationStatus::Offered, now, "system", &format!("电脑派位录取：{name}"))?;
            results.push(result(&app, no, DrawOutcome::Placed { school: name.clone(), confirm_by: deadline }));
            offered += 1;
        }
        names.insert(school.clone(), name);
    }
    let mut rows = Vec::new();
    for (school, ids) in &rv.waitlists {
        for (i, no) in ids.iter().enumerate() {
            rows.push(WaitlistEntry {
                draw_id: draw.id.clone(),
                school_id: school.clone(),
                application_id: app_of(no)?,
                registration_no: no.clone(),
                position: i as i32 + 1,
                status: "waiting".into(),
            });
        }
    }
    dbo::insert_waitlist(conn, &rows)?;
    let mut places: HashMap<&str, Vec<(&str, i32)>> = HashMap::new();
    for r in &rows {
        places.entry(r.registration_no.as_str()).or_default().push((r.school_id.as_str(), r.position));
    }
    for no in &rv.unassigned {
        let app = app_of(no)?;
        dbo::set_app_status(conn, &app, ApplicationStatus::Waitlisted, now, "system", "电脑派位未录取，进入候补")?;
        let prefs = rv.entry(no).map(|e| e.prefs.clone()).unwrap_or_default();
        let rank = |s: &str| prefs.iter().position(|p| p == s).unwrap_or(usize::MAX);
        let first = places.get(no.as_str()).and_then(|v| v.iter().min_by_key(|(s, _)| (rank(s), s.to_string())).copied());
        let outcome = match first {
            Some((school, position)) => {
                let name = match names.get(school) {
                    Some(n) => n.clone(),
                    None => dbo::school_name(conn, school)?,
                };
                DrawOutcome::Waitlisted { school: name, position: i64::from(position) }
            }
            None => DrawOutcome::NotPlaced,
        };
        results.push(result(&app, no, outcome));
    }
    let told = notify_svc::enqueue_batch(conn, settings, &draw.campaign_id, &results, now)?;
    audit::append(
        conn,
        "system",
        "offers.from_draw",
        &format!("draw:{}", draw.id),
        None,
        Some(
            &json!({"offers": offered, "waitlisted": rows.len(), "unassigned": rv.unassigned.len(), "deadline": deadline, "notified": told}),
        ),
    )?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdmitAllOutcome {
    pub campaign_id: String,
    pub schools: Vec<String>,
    pub offers: usize,
}

/// Schools whose approved applicants fit their seats (the draw plan's
/// `admits_all`) get their offers directly once review is closed.
pub async fn offer_admit_all(cx: &Ctx, who: &Identity, campaign_id: String) -> Result<AdmitAllOutcome, AppError> {
    if !who.is(&[Role::Admin, Role::Operator]) {
        return Err(AppError::Forbidden);
    }
    let actor = who.actor();
    let settings = cx.settings.clone();
    cx.db.write(move |c| offer_admit_all_in(c, &settings, &actor, &campaign_id, db::now())).await
}

pub fn offer_admit_all_in(
    conn: &mut DbConn,
    settings: &Settings,
    actor: &str,
    campaign_id: &str,
    now: NaiveDateTime,
) -> Result<AdmitAllOutcome, AppError> {
    let plan = super::draw::plan_in(conn, campaign_id)?;
    if !plan.final_ {
        return Err(AppError::conflict("review_open", "审核尚未结束，不能发出录取"));
    }
    let c = dbr::campaign(conn, campaign_id)?;
    let deadline = deadline_for(&c, now, true);
    let mut schools = Vec::new();
    let mut n = 0;
    let mut told = Vec::new();
    for p in plan.proposals.iter().filter(|p| !p.needs_draw() && p.kind == "school") {
        let apps = dbo::applications_in(conn, campaign_id, &[ApplicationStatus::Approved])?;
        let mut any = false;
        for a in apps.iter().filter(|a| a.zone_id.is_none() && a.catchment_school_id.as_deref() == Some(p.id.as_str())) {
            if dbo::live_offer(conn, &a.id)?.is_some() {
                continue;
            }
            let offer = new_offer(&a.id, &p.id, None, "admit_all", deadline, now, None);
            dbo::insert_offer(conn, &offer)?;
            dbo::set_app_status(conn, &a.id, ApplicationStatus::Offered, now, actor, &format!("录取：{}（学位充足，无需派位）", p.name))?;
            let event =
                Event::Admitted { offer_id: offer.id, registration_no: a.registration_no.clone(), school: p.name.clone(), deadline };
            told.push((a.id.clone(), event));
            n += 1;
            any = true;
        }
        if any {
            schools.push(p.id.clone());
        }
    }
    notify_svc::enqueue_batch(conn, settings, campaign_id, &told, now)?;
    audit::append(
        conn,
        actor,
        "offers.admit_all",
        &format!("campaign:{campaign_id}"),
        None,
        Some(&json!({"schools": schools, "offers": n})),
    )?;
    Ok(AdmitAllOutcome { campaign_id: campaign_id.to_string(), schools, offers: n })
}

/// The draw that holds a school's waitlist in a campaign (at most one:
/// `draws` is unique per campaign and unit, a school sits in one unit).
fn waitlist_draw(conn: &mut DbConn, campaign_id: &str, school_id: &str) -> Result<Option<String>, AppError> {
    let rows = dbo::waitlist_of_school(conn, school_id)?;
    for r in rows {
        let camp = dbo::application(conn, &r.application_id)?.map(|a| a.campaign_id);
        if camp.as_deref() == Some(campaign_id) {
            return Ok(Some(r.draw_id));
        }
    }
    Ok(None)
}

/// A child's preference order in a draw, from its record.
fn prefs_in(conn: &mut DbConn, draw_id: &str, registration_no: &str) -> Result<Vec<String>, AppError> {
    let d = crate::db::schema::draws::table;
    use diesel::prelude::*;
    let rec: Option<String> =
        d.filter(crate::db::schema::draws::id.eq(draw_id)).select(crate::db::schema::draws::record_json).first(conn)?;
    let rv = admission::parse_record(rec.as_deref().unwrap_or("{}")).map_err(AppError::internal)?;
    Ok(rv.entry(registration_no).map(|e| e.prefs.clone()).unwrap_or_default())
}

/// Gives every freed seat to the next child waiting, cascading; one call
/// per response, inside its transaction.
fn move_seats(
    conn: &mut DbConn,
    settings: &Settings,
    campaign: &Campaign,
    first: (String, String, &'static str),
    now: NaiveDateTime,
) -> Result<Vec<WaitlistMove>, AppError> {
    let mut queue: VecDeque<(String, String, &'static str)> = VecDeque::from([first]);
    let mut moves = Vec::new();
    while let Some((school, freed_no, cause)) = queue.pop_front() {
        let seq = dbo::next_move_seq(conn, &campaign.id, &school)?;
        let mut m = WaitlistMove {
            id: db::new_id(),
            campaign_id: campaign.id.clone(),
            school_id: school.clone(),
            seq,
            at: now,
            cause: cause.into(),
            freed_registration_no: freed_no,
            offered_registration_no: None,
            waitlist_position: None,
            offer_id: None,
        };
        let next = match waitlist_draw(conn, &campaign.id, &school)? {
            Some(d) => dbo::first_waiting(conn, &d, &school)?,
            None => None,
        };
        if let Some(w) = next {
            let deadline = deadline_for(campaign, now, false);
            let offer = new_offer(&w.application_id, &school, Some(&w.draw_id), "waitlist", deadline, now, None);
            dbo::set_waitlist_status(conn, &w.draw_id, &school, &w.application_id, "offered")?;
            // The child moves up: the seat they held (a school listed after
            // this one) is freed, and they leave the waitlists after it.
            let prefs = prefs_in(conn, &w.draw_id, &w.registration_no)?;
            let here = prefs.iter().position(|s| *s == school).unwrap_or(usize::MAX);
            if let Some(old) = dbo::live_offer(conn, &w.application_id)? {
                dbo::set_offer_status(conn, &old.id, &["offered", "accepted"], "withdrawn", now, Some("已递补至更靠前的志愿学校"))?;
                queue.push_back((old.school_id.clone(), w.registration_no.clone(), "moved_up"));
            }
            for e in dbo::waitlist_of_app(conn, &w.application_id)? {
                let pos = prefs.iter().position(|s| *s == e.school_id).unwrap_or(usize::MAX);
                if e.status == "waiting" && pos > here {
                    dbo::set_waitlist_status(conn, &e.draw_id, &e.school_id, &e.application_id, "left")?;
                }
            }
            dbo::insert_offer(conn, &offer)?;
            let name = dbo::school_name(conn, &school)?;
            dbo::set_app_status(
                conn,
                &w.application_id,
                ApplicationStatus::Offered,
                now,
                "system",
                &format!("候补递补录取：{name}（候补第 {} 位）", w.position),
            )?;
            let event =
                Event::WaitlistOffer { offer_id: offer.id.clone(), registration_no: w.registration_no.clone(), school: name, deadline };
            notify_svc::enqueue_for_application(conn, settings, &w.application_id, &campaign.id, &event, now)?;
            m.offered_registration_no = Some(w.registration_no.clone());
            m.waitlist_position = Some(w.position);
            m.offer_id = Some(offer.id.clone());
        }
        dbo::insert_move(conn, &m)?;
        moves.push(m);
    }
    Ok(moves)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = OfferResponse)]
pub struct Response {
    pub offer_id: String,
    pub status: String,
    pub moves: Vec<WaitlistMove>,
}

/// A family accepts or declines the offer of one application.
pub async fn respond(cx: &Ctx, guardian_id: &str, app_id: &str, accept: bool) -> Result<Response, AppError> {
    let (gid, id, settings) = (guardian_id.to_string(), app_id.to_string(), cx.settings.clone());
    cx.db
        .write(move |c| {
            // Ownership: the guardian's own application or 404.
            let v = crate::db::registration::application_view(c, &gid, &id)?;
            respond_in(c, &settings, &format!("guardian:{gid}"), &v.application.id, accept, db::now())
        })
        .await
}

pub fn respond_in(
    conn: &mut DbConn,
    settings: &Settings,
    actor: &str,
    app_id: &str,
    accept: bool,
    now: NaiveDateTime,
) -> Result<Response, AppError> {
    let app = dbo::application(conn, app_id)?.ok_or(AppError::NotFound)?;
    let offer = dbo::live_offer(conn, app_id)?.ok_or_else(|| AppError::conflict("no_offer", "这份报名目前没有待确认的录取"))?;
    let campaign = dbr::campaign(conn, &app.campaign_id)?;
    let school = dbo::school_name(conn, &offer.school_id)?;
    if accept {
        if offer.status == "accepted" {
            return Err(AppError::conflict("already_accepted", "已经确认过入学"));
        }
        if now > offer.deadline {
            return Err(AppError::conflict("offer_expired", "已超过确认期限，录取已失效"));
        }
        if !dbo::set_offer_status(conn, &offer.id, &["offered"], "accepted", now, None)? {
            return Err(AppError::conflict("stale", "录取状态刚刚变化，请刷新页面后重试"));
        }
        dbo::set_app_status(conn, app_id, ApplicationStatus::Accepted, now, actor, &format!("确认入学：{school}"))?;
        audit::append(
            conn,
            actor,
            "offer.accept",
            &format!("offer:{}", offer.id),
            Some(&json!({"status": offer.status})),
            Some(&json!({"status": "accepted", "school": offer.school_id})),
        )?;
        return Ok(Response { offer_id: offer.id, status: "accepted".into(), moves: vec![] });
    }
    if !dbo::set_offer_status(conn, &offer.id, &["offered", "accepted"], "declined", now, None)? {
        return Err(AppError::conflict("stale", "录取状态刚刚变化，请刷新页面后重试"));
    }
    dbo::set_app_status(conn, app_id, ApplicationStatus::Declined, now, actor, &format!("放弃学位：{school}"))?;
    dbo::leave_all_waitlists(conn, app_id)?;
    let moves = move_seats(conn, settings, &campaign, (offer.school_id.clone(), app.registration_no.clone(), "declined"), now)?;
    audit::append(
        conn,
        actor,
        "offer.decline",
        &format!("offer:{}", offer.id),
        Some(&json!({"status": offer.status})),
        Some(
            &json!({"status": "declined", "school": offer.school_id, "moves": moves.iter().map(|m| json!({"school": m.school_id, "to": m.offered_registration_no, "position": m.waitlist_position})).collect::<Vec<_>>()}),
        ),
    )?;
    Ok(Response { offer_id: offer.id, status: "declined".into(), moves })
}

/// Open offers past their deadline expire; each seat moves along its
/// waitlist (one transaction per offer, oldest deadline first).
pub fn expire_due_blocking(database: &db::Db, settings: &Settings, now: NaiveDateTime) -> Result<usize, AppError> {
    let mut n = 0;
    loop {
        let done = database.write_blocking(|c| {
            let Some(o) = dbo::overdue_offers(c, now, 1)?.into_iter().next() else { return Ok(false) };
            expire_one(c, settings, &o, now)?;
            Ok(true)
        })?;
        if !done {
            return Ok(n);
        }
        n += 1;
    }
}

fn expire_one(conn: &mut DbConn, settings: &Settings, o: &Offer, now: NaiveDateTime) -> Result<(), AppError> {
    let app = dbo::application(conn, &o.application_id)?.ok_or(AppError::NotFound)?;
    let campaign = dbr::campaign(conn, &app.campaign_id)?;
    if !dbo::set_offer_status(conn, &o.id, &["offered"], "expired", now, Some("逾期未确认"))? {
        return Ok(());
    }
    let school = dbo::school_name(conn, &o.school_id)?;
    dbo::set_app_status(conn, &app.id, ApplicationStatus::Declined, now, "system", &format!("逾期未确认，视为放弃学位：{school}"))?;
    dbo::leave_all_waitlists(conn, &app.id)?;
    let moves = move_seats(conn, settings, &campaign, (o.school_id.clone(), app.registration_no.clone(), "expired"), now)?;
    audit::append(
        conn,
        "system",
        "offer.expire",
        &format!("offer:{}", o.id),
        Some(&json!({"status": "offered", "deadline": o.deadline})),
        Some(
            &json!({"status": "expired", "moves": moves.iter().map(|m| json!({"school": m.school_id, "to": m.offered_registration_no})).collect::<Vec<_>>()}),
        ),
    )?;
    Ok(())
}

// ---------------------------------------------------------------- results

/// What a family reads about the outcome.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResultView {
    pub application_id: String,
    pub registration_no: String,
    pub status: ApplicationStatus,
    pub status_label: String,
    /// The seat held now (offered or accepted), if any.
    pub offer: Option<OfferView>,
    pub offers: Vec<OfferView>,
    pub draw: Option<DrawResult>,
    /// A sentence for the top of the page.
    pub summary: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OfferView {
    pub id: String,
    pub school_id: String,
    pub school_name: String,
    pub status: String,
    pub status_label: String,
    pub source: String,
    pub deadline: String,
    pub open: bool,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DrawResult {
    pub draw_id: String,
    pub title: String,
    pub lottery_number: i64,
    pub category: Option<String>,
    pub category_label: Option<String>,
    pub explanation: Option<String>,
    pub schools: Vec<admission::SchoolLine>,
    /// The entry's inclusion proof (JSON) against the announced roster root.
    pub proof: serde_json::Value,
    /// The same proof as text, for the page.
    pub proof_text: String,
    pub roster_root: String,
    pub record_url: String,
    pub verify_url: String,
}

fn offer_status_label(s: &str) -> &'static str {
    match s {
        "offered" => "待确认",
        "accepted" => "已确认入学",
        "declined" => "已放弃",
        "expired" => "逾期未确认",
        _ => "已撤回",
    }
}

fn offer_view(conn: &mut DbConn, o: &Offer, now: NaiveDateTime) -> Result<OfferView, AppError> {
    Ok(OfferView {
        id: o.id.clone(),
        school_id: o.school_id.clone(),
        school_name: dbo::school_name(conn, &o.school_id)?,
        status: o.status.clone(),
        status_label: offer_status_label(&o.status).into(),
        source: o.source.clone(),
        deadline: crate::registration::campaign::fmt_time(o.deadline),
        open: o.status == "offered" && now <= o.deadline,
        note: o.note.clone(),
    })
}

/// How a priority key reads at a school under the campaign's policy.
pub fn tier_reader(c: &Campaign, draw: &Draw) -> impl Fn(&str, &[i64]) -> Tier {
    let policy = crate::policy::Policy::load_toml(&c.policy_toml).ok();
    let cats: Vec<String> = policy.as_ref().map(|p| p.categories.iter().map(|k| k.label.clone()).collect()).unwrap_or_default();
    let lottery: Vec<String> = policy.as_ref().map(|p| p.lottery.iter().map(|l| l.target.clone()).collect()).unwrap_or_default();
    let zone = draw.kind == DrawKind::Zone;
    move |school: &str, key: &[i64]| {
        let first = key.first().copied().unwrap_or(0);
        if first == 0 {
            Tier { text: "政策性照顾顺位".into(), label: "政策性照顾对象".into() }
        } else if zone || lottery.iter().any(|t| t == school) {
            Tier { text: "电脑派位组".into(), label: "不分顺位".into() }
        } else {
            let label = cats.get(first as usize - 1).cloned().unwrap_or_else(|| "其他".into());
            Tier { text: format!("第{}顺位", admission::cn_number(first)), label }
        }
    }
}

fn draw_result(conn: &mut DbConn, app_id: &str, no: &str, campaign: &Campaign) -> Result<Option<DrawResult>, AppError> {
    use crate::db::schema::{draw_entries as de, draws as dr};
    use diesel::prelude::*;
    let found: Option<(Draw, Option<String>)> = dr::table
        .inner_join(de::table)
        .filter(de::application_id.eq(app_id))
        .filter(dr::published_at.is_not_null())
        .select((Draw::as_select(), de::category))
        .first(conn)
        .optional()?;
    let Some((draw, category)) = found else { return Ok(None) };
    let Some(record) = draw.record_json.as_deref() else { return Ok(None) };
    let rv: RecordView = admission::parse_record(record).map_err(AppError::internal)?;
    let names = dbr::names(conn)?;
    let tier = tier_reader(campaign, &draw);
    let name_of = |s: &str| names.schools.get(s).cloned().unwrap_or_else(|| s.to_string());
    let Some(x) = rv.explain(no, &tier, &name_of) else { return Ok(None) };
    let proof = crate::draw::inclusion_proof(record, no).map_err(|e| AppError::internal(e.to_string()))?;
    let proof: serde_json::Value = serde_json::from_slice(&proof.to_json()).map_err(AppError::internal)?;
    let labels: HashMap<String, String> = super::review::categories_of(campaign).into_iter().collect();
    let app = dbo::application(conn, app_id)?;
    Ok(Some(DrawResult {
        record_url: format!("/api/v1/draws/{}/record", draw.id),
        verify_url: format!("/verify/?draw={}", draw.id),
        draw_id: draw.id.clone(),
        title: draw.title.clone(),
        lottery_number: x.lottery_number,
        category_label: category.as_ref().and_then(|k| labels.get(k).cloned()),
        category,
        explanation: app.and_then(|a| a.explanation),
        schools: x.schools,
        proof_text: proof.to_string(),
        proof,
        roster_root: draw.roster_root.clone(),
    }))
}

pub fn result_in(conn: &mut DbConn, app_id: &str, now: NaiveDateTime) -> Result<ResultView, AppError> {
    let app = dbo::application(conn, app_id)?.ok_or(AppError::NotFound)?;
    let campaign = dbr::campaign(conn, &app.campaign_id)?;
    let mut offers = Vec::new();
    for o in dbo::offers_of_app(conn, app_id)? {
        offers.push(offer_view(conn, &o, now)?);
    }
    let offer = offers.iter().rev().find(|o| o.status == "offered" || o.status == "accepted").cloned();
    let draw = draw_result(conn, app_id, &app.registration_no, &campaign)?;
    let summary = match (&offer, &draw) {
        (Some(o), _) if o.status == "accepted" => format!("已确认入学：{}", o.school_name),
        (Some(o), _) => format!("录取学校：{}，请于 {} 前确认入学或放弃", o.school_name, o.deadline),
        (None, Some(_)) if app.status == ApplicationStatus::Waitlisted => {
            "暂未录取：孩子在候补名单中，学位空出时按候补顺序依次递补；如仍未录取，教育局将统筹安排学位".into()
        }
        (None, _) if app.status == ApplicationStatus::Declined => "已放弃学位".into(),
        _ => "暂无录取结果".into(),
    };
    Ok(ResultView {
        application_id: app.id.clone(),
        registration_no: app.registration_no.clone(),
        status: app.status,
        status_label: app.status.label().into(),
        offer,
        offers,
        draw,
        summary,
    })
}

/// The result of a guardian's own application.
pub async fn result(cx: &Ctx, guardian_id: &str, app_id: &str) -> Result<ResultView, AppError> {
    let (gid, id) = (guardian_id.to_string(), app_id.to_string());
    cx.db
        .run(move |c| {
            let v = crate::db::registration::application_view(c, &gid, &id)?;
            result_in(c, &v.application.id, db::now())
        })
        .await
}

/// The public lookup's answer: the masked name and the outcome only.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LookupAnswer {
    pub registration_no: String,
    pub child_name: String,
    pub outcome: String,
    pub school_name: Option<String>,
}

/// 录取查询 without login: registration number plus the last six
/// characters of the child's ID number. A wrong pair answers like an
/// unknown number (no hint which half was wrong).
pub async fn public_lookup(cx: &Ctx, registration_no: String, id_tail: String) -> Result<LookupAnswer, AppError> {
    let no = registration_no.trim().to_uppercase();
    let tail = id_tail.trim().to_uppercase();
    if no.is_empty() || no.len() > 40 {
        return Err(AppError::invalid("registration_no", "请输入报名号"));
    }
    if tail.chars().count() != 6 || !tail.chars().all(|c| c.is_ascii_digit() || c == 'X') {
        return Err(AppError::invalid("id_tail", "请输入孩子身份证号码的后六位"));
    }
    let cipher = cx.cipher();
    cx.db
        .run(move |c| {
            let not_found = || AppError::invalid_code("no_match", "registration_no", "报名号与身份证号码后六位不匹配，请核对后再查");
            let app = dbo::application_by_no(c, &no)?.ok_or_else(not_found)?;
            let (name, enc, _) = dbo::child_name_and_id(c, &app.child_id)?;
            let id = cipher.decrypt(&enc).map_err(AppError::internal)?;
            let ok = id.len() >= 6 && subtle::ConstantTimeEq::ct_eq(id[id.len() - 6..].to_uppercase().as_bytes(), tail.as_bytes()).into();
            if !ok {
                return Err(not_found());
            }
            let offer = dbo::live_offer(c, &app.id)?;
            let school_name = match &offer {
                Some(o) => Some(dbo::school_name(c, &o.school_id)?),
                None => None,
            };
            let outcome = match (&offer, app.status) {
                (Some(o), _) if o.status == "accepted" => format!("已确认入学：{}", school_name.clone().unwrap_or_default()),
                (Some(_), _) => format!("已录取：{}（待家长确认）", school_name.clone().unwrap_or_default()),
                (None, ApplicationStatus::Waitlisted) => "候补中，暂未录取".into(),
                (None, s) => s.label().to_string(),
            };
            Ok(LookupAnswer { registration_no: app.registration_no, child_name: mask_name(&name), outcome, school_name })
        })
        .await
}

// ---------------------------------------------------------------- public waitlist page

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SchoolMoves {
    pub school_id: String,
    pub school_name: String,
    pub campaign_id: String,
    pub waiting: usize,
    pub moves: Vec<MoveLine>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MoveLine {
    pub seq: i32,
    pub at: String,
    pub cause: String,
    pub freed: String,
    pub offered: Option<String>,
    pub position: Option<i32>,
}

pub async fn school_moves(cx: &Ctx, campaign_id: String, school_id: String) -> Result<SchoolMoves, AppError> {
    cx.db
        .run(move |c| {
            dbr::campaign(c, &campaign_id)?;
            let school_name = dbo::school_name(c, &school_id)?;
            let moves = dbo::moves_of_school(c, &campaign_id, &school_id)?;
            let waiting = dbo::waitlist_of_school(c, &school_id)?.iter().filter(|w| w.status == "waiting").count();
            Ok(SchoolMoves {
                moves: moves
                    .into_iter()
                    .map(|m| MoveLine {
                        seq: m.seq,
                        at: crate::registration::campaign::fmt_time(m.at),
                        cause: match m.cause.as_str() {
                            "declined" => "放弃学位",
                            "expired" => "逾期未确认",
                            _ => "递补至更靠前志愿",
                        }
                        .into(),
                        freed: m.freed_registration_no,
                        offered: m.offered_registration_no,
                        position: m.waitlist_position,
                    })
                    .collect(),
                school_id,
                school_name,
                campaign_id,
                waiting,
            })
        })
        .await
}

// ---------------------------------------------------------------- placements (统筹)

const PLACERS: [Role; 2] = [Role::Admin, Role::Operator];
const PLACEMENT_READERS: [Role; 3] = [Role::Admin, Role::Operator, Role::Auditor];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PlacementSchoolSeats)]
pub struct SchoolSeats {
    pub school_id: String,
    pub name: String,
    pub township_id: String,
    pub classes: i32,
    pub cap: i32,
    pub seats: i64,
    pub taken: i64,
    pub free: i64,
    /// The school's location (WGS-84), where known.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// A school proposed for a child: its seats, and how near it is.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PlacementProposal)]
pub struct Proposal {
    #[serde(flatten)]
    pub school: SchoolSeats,
    /// Great-circle distance from the child's point, in metres, where both are known.
    pub distance_m: Option<i64>,
    /// Why it is proposed (`距离约 1.2 公里`, `同一乡镇`, `其他乡镇`).
    pub basis: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Unplaced {
    pub application_id: String,
    pub registration_no: String,
    pub child_name: String,
    pub status_label: String,
    pub category: Option<String>,
    pub catchment_school: Option<String>,
    /// Schools with free seats, nearest first (`admission::nearest`).
    pub proposals: Vec<Proposal>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlacementLine {
    pub id: String,
    pub registration_no: String,
    pub child_name: String,
    pub school_name: String,
    pub reason: String,
    pub status: String,
    pub proposed_by: String,
    pub decided_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlacementView {
    pub campaign_id: String,
    pub four_eyes: bool,
    pub schools: Vec<SchoolSeats>,
    pub unplaced: Vec<Unplaced>,
    pub placements: Vec<PlacementLine>,
}

fn county_cap(cx_caps: (i32, i32), kind: &str) -> i32 {
    if kind == "junior" {
        cx_caps.1
    } else {
        cx_caps.0
    }
}

/// Seats, taken and free per school of a campaign.
pub fn placement_seats(conn: &mut DbConn, campaign_id: &str, caps: (i32, i32)) -> Result<Vec<SchoolSeats>, AppError> {
    school_seats(conn, campaign_id, caps)
}

fn school_seats(conn: &mut DbConn, campaign_id: &str, caps: (i32, i32)) -> Result<Vec<SchoolSeats>, AppError> {
    use crate::db::schema::schools as sc;
    use diesel::prelude::*;
    let mut out = Vec::new();
    for p in dbr::plans_of(conn, campaign_id)? {
        let cap = p.class_size_cap.min(county_cap(caps, &p.kind));
        let seats = admission::seats(p.planned_classes, p.class_size_cap, county_cap(caps, &p.kind));
        let taken = dbo::seats_taken(conn, campaign_id, &p.school_id)?;
        let (township_id, lat, lon): (String, Option<f64>, Option<f64>) =
            sc::table.filter(sc::id.eq(&p.school_id)).select((sc::township_id, sc::lat, sc::lon)).first(conn)?;
        out.push(SchoolSeats {
            school_id: p.school_id,
            name: p.school_name,
            township_id,
            classes: p.planned_classes,
            cap,
            seats,
            taken,
            free: (seats - taken).max(0),
            lat,
            lon,
        });
    }
    Ok(out)
}

fn placement_view_in(conn: &mut DbConn, campaign_id: &str, caps: (i32, i32)) -> Result<PlacementView, AppError> {
    let c = dbr::campaign(conn, campaign_id).map_err(|e| match e {
        AppError::NotFound => AppError::invalid("campaign", "没有这个招生计划"),
        e => e,
    })?;
    let schools = school_seats(conn, campaign_id, caps)?;
    let township_of: HashMap<String, String> = schools.iter().map(|s| (s.school_id.clone(), s.township_id.clone())).collect();
    let names: HashMap<String, String> = schools.iter().map(|s| (s.school_id.clone(), s.name.clone())).collect();
    let point_of: HashMap<String, Option<crate::catchment::GeoPoint>> = schools
        .iter()
        .map(|s| (s.school_id.clone(), s.lat.zip(s.lon).map(|(lat, lon)| crate::catchment::GeoPoint::new(lon, lat))))
        .collect();
    let mut unplaced = Vec::new();
    let candidates = dbo::applications_in(conn, campaign_id, &[ApplicationStatus::Waitlisted, ApplicationStatus::Approved])?;
    for a in candidates {
        if dbo::live_offer(conn, &a.id)?.is_some() || dbo::pending_placement_of_app(conn, &a.id)?.is_some() {
            continue;
        }
        // Approved at a school that admits everyone and still waiting for
        // its offers is not unplaced; waitlisted children and approved
        // children with no school are.
        if a.status == ApplicationStatus::Approved && (a.catchment_school_id.is_some() || a.zone_id.is_some()) {
            continue;
        }
        let (name, _, _) = dbo::child_name_and_id(conn, &a.child_id)?;
        let home = a.catchment_school_id.as_ref().and_then(|s| township_of.get(s)).or(a.township_id.as_ref()).cloned();
        // The child's point: no registration records a map location of the
        // home address, so it is the child's own catchment school's, where
        // that school has coordinates.
        let point = a.catchment_school_id.as_ref().and_then(|s| point_of.get(s).copied().flatten());
        let candidates: Vec<admission::nearest::Candidate<'_>> = schools
            .iter()
            .map(|s| admission::nearest::Candidate {
                school_id: &s.school_id,
                township_id: &s.township_id,
                free: s.free,
                point: point_of.get(&s.school_id).copied().flatten(),
            })
            .collect();
        let proposals: Vec<Proposal> = admission::nearest::rank(home.as_deref(), point, &candidates)
            .into_iter()
            .take(3)
            .map(|(i, basis)| Proposal {
                school: schools[i].clone(),
                distance_m: match basis {
                    admission::nearest::Basis::Distance(m) => Some(m),
                    _ => None,
                },
                basis: basis.label(),
            })
            .collect();
        unplaced.push(Unplaced {
            application_id: a.id.clone(),
            registration_no: a.registration_no.clone(),
            child_name: mask_name(&name),
            status_label: a.status.label().into(),
            category: a.category.clone(),
            catchment_school: a.catchment_school_id.as_ref().map(|s| names.get(s).cloned().unwrap_or_else(|| s.clone())),
            proposals,
        });
    }
    let staff = dbr::staff_names(conn)?;
    let mut placements = Vec::new();
    for p in dbo::placements_of(conn, campaign_id)? {
        let a = dbo::application(conn, &p.application_id)?.ok_or(AppError::NotFound)?;
        let (name, _, _) = dbo::child_name_and_id(conn, &a.child_id)?;
        placements.push(PlacementLine {
            id: p.id.clone(),
            registration_no: a.registration_no,
            child_name: mask_name(&name),
            school_name: names.get(&p.school_id).cloned().unwrap_or(p.school_id.clone()),
            reason: p.reason.clone(),
            status: match p.status.as_str() {
                "pending" => "待第二人复核",
                "approved" => "已安置",
                _ => "未同意",
            }
            .into(),
            proposed_by: staff.get(&p.proposed_by).cloned().unwrap_or(p.proposed_by.clone()),
            decided_by: p.decided_by.as_ref().map(|d| staff.get(d).cloned().unwrap_or(d.clone())),
        });
    }
    Ok(PlacementView { campaign_id: c.id, four_eyes: c.four_eyes, schools, unplaced, placements })
}

fn caps(cx: &Ctx) -> (i32, i32) {
    (cx.settings.admission.class_cap_primary, cx.settings.admission.class_cap_junior)
}

pub async fn placement_view(cx: &Ctx, who: &Identity, campaign_id: String) -> Result<PlacementView, AppError> {
    if !who.is(&PLACEMENT_READERS) {
        return Err(AppError::Forbidden);
    }
    let caps = caps(cx);
    cx.db.run(move |c| placement_view_in(c, &campaign_id, caps)).await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlacementOutcome {
    pub placement_id: String,
    pub status: String,
    pub offer_id: Option<String>,
}

fn check_fits(conn: &mut DbConn, campaign_id: &str, school_id: &str, caps: (i32, i32), exclude_pending: i64) -> Result<(), AppError> {
    let seats = school_seats(conn, campaign_id, caps)?;
    let s =
        seats.iter().find(|s| s.school_id == school_id).ok_or_else(|| AppError::invalid("school_id", "这所学校不在本批次的招生计划中"))?;
    admission::fits(&s.name, s.seats, s.taken - exclude_pending, s.classes, s.cap).map_err(|m| AppError::conflict("no_seats", m))
}

fn make_placement_offer(
    conn: &mut DbConn,
    settings: &Settings,
    p: &Placement,
    actor: &str,
    now: NaiveDateTime,
) -> Result<String, AppError> {
    let c = dbr::campaign(conn, &p.campaign_id)?;
    let deadline = deadline_for(&c, now, false);
    let offer = new_offer(&p.application_id, &p.school_id, None, "placement", deadline, now, Some(p.reason.clone()));
    dbo::insert_offer(conn, &offer)?;
    dbo::leave_all_waitlists(conn, &p.application_id)?;
    let name = dbo::school_name(conn, &p.school_id)?;
    dbo::set_app_status(conn, &p.application_id, ApplicationStatus::Offered, now, actor, &format!("统筹安置：{name}"))?;
    // The family is told the school and the deadline; the staff's reason is
    // an internal record (it may name other families or circumstances).
    let no = dbo::application(conn, &p.application_id)?.ok_or(AppError::NotFound)?.registration_no;
    let event = Event::Placement { offer_id: offer.id.clone(), registration_no: no, school: name, deadline: Some(deadline) };
    notify_svc::enqueue_for_application(conn, settings, &p.application_id, &p.campaign_id, &event, now)?;
    Ok(offer.id)
}

/// Staff place an unplaced child at a school with free seats, with a
/// written reason. With four eyes on, a second staff member approves.
pub async fn propose_placement(
    cx: &Ctx,
    who: &Identity,
    app_id: String,
    school_id: String,
    reason: String,
) -> Result<PlacementOutcome, AppError> {
    if !who.is(&PLACERS) {
        return Err(AppError::Forbidden);
    }
    let reason = reason.trim().to_string();
    if reason.chars().count() < 4 {
        return Err(AppError::invalid("reason", "请写明统筹安置的理由（至少 4 个字）"));
    }
    if reason.chars().count() > 500 {
        return Err(AppError::invalid("reason", "理由不超过 500 字"));
    }
    let (who, caps, settings) = (who.clone(), caps(cx), cx.settings.clone());
    cx.db.write(move |c| propose_placement_in(c, &settings, &who, &app_id, &school_id, &reason, caps, db::now())).await
}

#[allow(clippy::too_many_arguments)]
pub fn propose_placement_in(
    c: &mut DbConn,
    settings: &Settings,
    who: &Identity,
    app_id: &str,
    school_id: &str,
    reason: &str,
    caps: (i32, i32),
    now: NaiveDateTime,
) -> Result<PlacementOutcome, AppError> {
    let (school_id, reason) = (school_id.to_string(), reason.to_string());
    let mut app = dbo::application(c, app_id)?.ok_or(AppError::NotFound)?;
    // An approved child in a draw not yet published waits for its result.
    crate::db::draw::show_in_draw(c, &mut app)?;
    if !matches!(app.status, ApplicationStatus::Waitlisted | ApplicationStatus::Approved) || dbo::live_offer(c, &app.id)?.is_some() {
        return Err(AppError::conflict("not_unplaced", "这名儿童已有学位或不在待安置名单中"));
    }
    if dbo::pending_placement_of_app(c, &app.id)?.is_some() {
        return Err(AppError::conflict("placement_pending", "这名儿童已有待复核的统筹安置"));
    }
    check_fits(c, &app.campaign_id, &school_id, caps, 0)?;
    let campaign = dbr::campaign(c, &app.campaign_id)?;
    let mut p = Placement {
        id: db::new_id(),
        campaign_id: app.campaign_id.clone(),
        application_id: app.id.clone(),
        school_id: school_id.clone(),
        reason: reason.clone(),
        status: "pending".into(),
        proposed_by: who.id.clone(),
        proposed_at: now,
        decided_by: None,
        decided_at: None,
        offer_id: None,
    };
    if !campaign.four_eyes {
        p.offer_id = Some(make_placement_offer(c, settings, &p, &who.actor(), now)?);
        p.status = "approved".into();
        p.decided_by = Some(who.id.clone());
        p.decided_at = Some(now);
    }
    dbo::insert_placement(c, &p)?;
    audit::append(
        c,
        &who.actor(),
        "placement.propose",
        &format!("application:{}", app.id),
        None,
        Some(&json!({"placement": p.id, "school": school_id, "reason": reason, "status": p.status})),
    )?;
    Ok(PlacementOutcome { placement_id: p.id, status: p.status, offer_id: p.offer_id })
}

/// The second staff member approves or refuses a pending placement.
pub async fn decide_placement(cx: &Ctx, who: &Identity, placement_id: String, approve: bool) -> Result<PlacementOutcome, AppError> {
    if !who.is(&PLACERS) {
        return Err(AppError::Forbidden);
    }
    let (who, caps, settings) = (who.clone(), caps(cx), cx.settings.clone());
    cx.db.write(move |c| decide_placement_in(c, &settings, &who, &placement_id, approve, caps, db::now())).await
}

pub fn decide_placement_in(
    c: &mut DbConn,
    settings: &Settings,
    who: &Identity,
    placement_id: &str,
    approve: bool,
    caps: (i32, i32),
    now: NaiveDateTime,
) -> Result<PlacementOutcome, AppError> {
    let p = dbo::placement(c, placement_id)?.ok_or(AppError::NotFound)?;
    if p.status != "pending" {
        return Err(AppError::conflict("not_pending", "这项统筹安置已经处理过"));
    }
    if p.proposed_by == who.id {
        return Err(AppError::conflict("four_eyes", "统筹安置须由另一名工作人员复核，提出人不能自己复核"));
    }
    let offer_id = if approve {
        // The pending placement already counts as taken: exclude it.
        check_fits(c, &p.campaign_id, &p.school_id, caps, 1)?;
        Some(make_placement_offer(c, settings, &p, &who.actor(), now)?)
    } else {
        None
    };
    let status = if approve { "approved" } else { "refused" };
    if !dbo::decide_placement(c, &p.id, status, &who.id, now, offer_id.as_deref())? {
        return Err(AppError::conflict("stale", "这项统筹安置刚刚被处理，请刷新页面"));
    }
    audit::append(
        c,
        &who.actor(),
        if approve { "placement.approve" } else { "placement.refuse" },
        &format!("application:{}", p.application_id),
        Some(&json!({"placement": p.id, "status": "pending"})),
        Some(&json!({"placement": p.id, "status": status, "offer": offer_id})),
    )?;
    Ok(PlacementOutcome { placement_id: p.id, status: status.into(), offer_id })
}

/// Every offer of a campaign as `registration_no → [(school, status)]`, for
/// replay comparisons and the rosters.
pub fn placements_snapshot(conn: &mut DbConn, campaign_id: &str) -> Result<BTreeMap<String, Vec<(String, String)>>, AppError> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (o, no) in dbo::campaign_offers(conn, campaign_id)? {
        out.entry(no).or_default().push((o.school_id, o.status));
    }
    Ok(out)
}
