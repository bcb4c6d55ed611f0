//! Draw day, first step: the campaign's draw plan — which schools admit
//! everyone and which schools and zones need a public lottery — from the
//! approved applications and the seats (`crate::draw::plan`).

use super::Ctx;
use crate::db::review as dbr;
use crate::db::DbConn;
use crate::draw::plan::{self, Applicant, Proposal, Unit};
use crate::error::AppError;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DrawPlan {
    pub campaign_id: String,
    pub campaign_name: String,
    pub phase: crate::domain::CampaignStatus,
    /// False while review is still open: the plan can still change.
    #[serde(rename = "final")]
    pub final_: bool,
    pub proposals: Vec<Proposal>,
    pub draws_needed: usize,
    /// Approved applications with no school or zone (to 统筹).
    pub without_school: usize,
}

pub fn plan_in(conn: &mut DbConn, campaign_id: &str) -> Result<DrawPlan, AppError> {
    let c = dbr::campaign(conn, campaign_id).map_err(|e| match e {
        AppError::NotFound => AppError::invalid("campaign", "没有这个招生计划"),
        e => e,
    })?;
    let zones = dbr::zones_of(conn, &c.id)?;
    let plans = dbr::plans_of(conn, &c.id)?;
    let roster = dbr::approved_roster(conn, &c.id)?;
    let mut by_school: BTreeMap<String, Vec<Applicant>> = BTreeMap::new();
    let mut by_zone: BTreeMap<String, Vec<Applicant>> = BTreeMap::new();
    let mut without_school = 0;
    for r in roster {
        let key: Vec<i64> = r.priority_json.as_deref().and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default();
        let a = Applicant { id: r.registration_no, family: r.family_id, key };
        match (r.zone_id, r.school_id) {
            (Some(z), _) => by_zone.entry(z).or_default().push(a),
            (None, Some(s)) => by_school.entry(s).or_default().push(a),
            (None, None) => without_school += 1,
        }
    }
    let seats = |p: &dbr::PlanDbRow| (i64::from(p.planned_classes.max(0)) * i64::from(p.class_size_cap.max(0))) as u32;
    let mut units = Vec::new();
    for p in plans.iter().filter(|p| !zones.school_zone.contains_key(&p.school_id)) {
        units.push(Unit {
            zone: false,
            id: p.school_id.clone(),
            name: p.school_name.clone(),
            schools: vec![(p.school_id.clone(), p.school_name.clone(), seats(p))],
            applicants: by_school.remove(&p.school_id).unwrap_or_default(),
        });
    }
    for (zid, zname) in &zones.zones {
        units.push(Unit {
            zone: true,
            id: zid.clone(),
            name: zname.clone(),
            schools: plans
                .iter()
                .filter(|p| zones.school_zone.get(&p.school_id) == Some(zid))
                .map(|p| (p.school_id.clone(), p.school_name.clone(), seats(p)))
                .collect(),
            applicants: by_zone.remove(zid).unwrap_or_default(),
        });
    }
    // Approved at a school with no plan this year: no seats, so 统筹.
    without_school += by_school.values().map(Vec::len).sum::<usize>() + by_zone.values().map(Vec::len).sum::<usize>();
    let proposals = plan::propose(&units);
    use crate::domain::CampaignStatus as S;
    Ok(DrawPlan {
        campaign_id: c.id,
        campaign_name: c.name,
        final_: matches!(c.status, S::Draw | S::Offers | S::Closed),
        phase: c.status,
        draws_needed: proposals.iter().filter(|p| p.needs_draw()).count(),
        proposals,
        without_school,
    })
}

/// The campaign's draw plan (read-only).
pub async fn plan(cx: &Ctx, campaign_id: String) -> Result<DrawPlan, AppError> {
    cx.db.run(move |c| plan_in(c, &campaign_id)).await
}

// ==================================================================== draw day
//
// The steps of draw-v1 §10 as use cases: freeze → witnesses commit →
// announce (signed) → witnesses reveal → beacon → run (once) → publish.
// Each step is one transaction and audited; every refusal of a change to a
// frozen draw is audited too (`draw.change_refused`).

use crate::db::draw as dbd;
use crate::db::models::{Draw, DrawWitness};
use crate::db::{audit, Db};
use crate::domain::{DrawKind, DrawStatus, WitnessRole};
use crate::draw::day;
use chrono::NaiveDateTime;
use serde_json::json;
use sha2::{Digest, Sha256};

/// The error of a change to a frozen draw: 409, the field named.
pub fn frozen_error(draw_id: &str, field: &str, what: &str) -> AppError {
    AppError::Conflict {
        code: "draw_frozen",
        message: format!("派位 {draw_id} 的名单已锁定，{what}不能再修改"),
        field: Some(field.to_string()),
    }
}

/// Refuse a change to an application held by a frozen draw.
pub fn guard_application(conn: &mut DbConn, application_id: &str) -> Result<(), AppError> {
    match dbd::draw_of_application(conn, application_id)? {
        Some(d) => Err(frozen_error(&d, "application", "该报名")),
        None => Ok(()),
    }
}

/// Refuse a change to the seats of a school held by a frozen draw.
pub fn guard_school(conn: &mut DbConn, campaign_id: &str, school_id: &str) -> Result<(), AppError> {
    let zones = dbr::zones_of(conn, campaign_id)?;
    let unit = zones.school_zone.get(school_id).cloned().unwrap_or_else(|| school_id.to_string());
    match dbd::by_unit(conn, campaign_id, &unit)? {
        Some(d) => Err(frozen_error(&d, "school", "该校学位")),
        None => Ok(()),
    }
}

/// After a failed write: a refusal because a draw is frozen is recorded in
/// the audit log (in its own transaction, since the refused one rolled back).
pub fn audit_refusal(db: &Db, actor: &str, target: &str, e: &AppError) {
    if let AppError::Conflict { code: "draw_frozen", message, field } = e {
        let after = json!({"refused": message, "field": field});
        let actor = actor.to_string();
        let target = target.to_string();
        let _ = db.write_blocking(move |c| Ok(audit::append(c, &actor, "draw.change_refused", &target, None, Some(&after))?));
    }
}

/// [`audit_refusal`] for async use cases: passes the result through.
pub async fn audited<T>(cx: &Ctx, actor: &str, target: &str, r: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(e) = &r {
        if matches!(e, AppError::Conflict { code: "draw_frozen", .. }) {
            let (db, actor, target, e2) = (cx.db.clone(), actor.to_string(), target.to_string(), e.clone());
            let _ = actix_web::rt::task::spawn_blocking(move || audit_refusal(&db, &actor, &target, &e2)).await;
        }
    }
    r
}

fn not_found() -> AppError {
    AppError::NotFound
}

fn draw_or_404(conn: &mut DbConn, id: &str) -> Result<Draw, AppError> {
    dbd::get(conn, id)?.ok_or_else(not_found)
}

fn wrong_status(d: &Draw, want: &str) -> AppError {
    AppError::conflict("draw_status", format!("派位 {} 当前状态为「{}」，{want}", d.id, d.status.label()))
}

/// The spec's identifier of a unit's draw: `{campaign}-{unit}`.
/// (A zone's id already starts with its campaign's: it is used as is.)
pub fn draw_id_of(campaign_id: &str, unit_id: &str) -> String {
    if unit_id.starts_with(&format!("{campaign_id}-")) {
        unit_id.to_string()
    } else {
        format!("{campaign_id}-{unit_id}")
    }
}

/// Step 1: freeze the roster of one school or zone from its approved
/// applications. Refused while review is open, for a unit that admits
/// everyone, and for a unit frozen already.
pub fn freeze_in(conn: &mut DbConn, actor: &str, campaign_id: &str, unit_id: &str, now: NaiveDateTime) -> Result<Draw, AppError> {
    let p = plan_in(conn, campaign_id)?;
    if let Some(d) = dbd::by_unit(conn, campaign_id, unit_id)? {
        return Err(frozen_error(&d, "unit", "名单"));
    }
    if !p.final_ {
        return Err(AppError::conflict(
            "review_open",
            format!("招生计划 {} 仍在「{}」阶段：审核结束、进入派位阶段后才能锁定名单", p.campaign_id, p.phase.label()),
        ));
    }
    let prop = p
        .proposals
        .iter()
        .find(|x| x.id == unit_id)
        .ok_or_else(|| AppError::invalid("unit", format!("招生计划 {campaign_id} 中没有学校或片区 {unit_id}")))?;
    if !prop.needs_draw() {
        return Err(AppError::Conflict { code: "no_draw_needed", message: prop.summary.clone(), field: Some("unit".into()) });
    }
    let zone = prop.kind == "zone";
    // Seats (classes × cap) in announced order, from the plan's own figures.
    let plans = dbr::plans_of(conn, campaign_id)?;
    let zones = dbr::zones_of(conn, campaign_id)?;
    let schools: Vec<(String, u32)> = plans
        .iter()
        .filter(|pl| if zone { zones.school_zone.get(&pl.school_id).map(String::as_str) == Some(unit_id) } else { pl.school_id == unit_id })
        .map(|pl| (pl.school_id.clone(), (i64::from(pl.planned_classes.max(0)) * i64::from(pl.class_size_cap.max(0))) as u32))
        .collect();
    let rows = dbd::approved_at(conn, campaign_id, unit_id, zone)?;
    let mut entries = Vec::with_capacity(rows.len());
    let id = draw_id_of(campaign_id, unit_id);
    for r in rows {
        let key: Vec<i64> = match r.priority_json.as_deref().map(serde_json::from_str::<Vec<i64>>) {
            Some(Ok(k)) => k,
            _ => {
                return Err(AppError::conflict(
                    "no_priority",
                    format!("报名 {} 没有按冻结政策计算的优先级，不能锁定名单", r.registration_no),
                ))
            }
        };
        entries.push(day::Entry {
            id: r.registration_no.clone(),
            family: r.family_id.clone(),
            prefs: schools.iter().map(|(s, _)| (s.clone(), key.clone())).collect(),
        });
    }
    let frozen = day::freeze(entries).map_err(|e| AppError::conflict("roster_invalid", e.to_string()))?;
    let title = format!("{} {}电脑派位", p.campaign_name, prop.name);
    let d = Draw {
        id: id.clone(),
        campaign_id: campaign_id.to_string(),
        draw_id: id.clone(),
        kind: if zone { DrawKind::Zone } else { DrawKind::School },
        unit_id: unit_id.to_string(),
        title,
        status: DrawStatus::Frozen,
        schools_json: String::from_utf8(day::schools_json(&schools)).expect("CJSON is UTF-8"),
        roster_json: String::from_utf8(frozen.roster_json).expect("CJSON is UTF-8"),
        roster_root: frozen.root,
        roster_size: frozen.size as i32,
        scheduled_at: None,
        beacon_round: None,
        announcement_json: None,
        announcement_digest: None,
        signature: None,
        beacon_value: None,
        record_json: None,
        record_digest: None,
        result_digest: None,
        frozen_by: actor.to_string(),
        created_at: now,
        announced_at: None,
        computed_at: None,
        published_at: None,
    };
    dbd::insert(conn, &d)?;
    if dbd::insert_entries(conn, &id, campaign_id, unit_id, zone)? != d.roster_size as usize {
        return Err(AppError::conflict("roster_changed", "锁定名单期间报名有变动，请重试"));
    }
    audit::append(
        conn,
        actor,
        "draw.freeze",
        &id,
        None,
        Some(
            &json!({"campaign": campaign_id, "unit": unit_id, "roster_root": d.roster_root, "roster_size": d.roster_size, "schools": d.schools_json}),
        ),
    )?;
    Ok(d)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new one-time link's secret (128 bits, hex).
fn new_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// A witness just added, with the one-time link's token (shown once).
#[derive(Debug, Clone, Serialize)]
pub struct NewWitness {
    pub witness: DrawWitness,
    pub token: String,
    /// The path of the one-time link (`/witness/{token}`).
    pub link: String,
}

/// Step 2: add a witness (while frozen) and hand out its one-time link.
pub fn add_witness_in(
    conn: &mut DbConn,
    actor: &str,
    draw_id: &str,
    name: &str,
    role: WitnessRole,
    link_hours: i64,
    now: NaiveDateTime,
) -> Result<NewWitness, AppError> {
    let d = draw_or_404(conn, draw_id)?;
    if d.status != DrawStatus::Frozen {
        return Err(frozen_error(&d.id, "witness", "公告后的随机数来源"));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(AppError::invalid("name", "请填写见证人的称呼（不超过 40 字）"));
    }
    let seq = dbd::witnesses(conn, draw_id)?.iter().map(|w| w.seq).max().unwrap_or(0) + 1;
    let token = new_token();
    let w = DrawWitness {
        id: crate::db::new_id(),
        draw_id: d.id.clone(),
        seq,
        source_name: format!("witness-{seq}"),
        name: name.to_string(),
        role,
        token_hash: Some(token_hash(&token)),
        token_expires_at: Some(now + chrono::Duration::hours(link_hours)),
        commitment: None,
        committed_at: None,
        value: None,
        revealed_at: None,
    };
    dbd::insert_witness(conn, &w)?;
    audit::append(conn, actor, "draw.witness_add", &d.id, None, Some(&json!({"source": w.source_name, "name": w.name, "role": role})))?;
    Ok(NewWitness { link: format!("/witness/{token}"), token, witness: w })
}

/// What a witness's value may be: 1 to 64 printable characters.
fn check_value(v: &str) -> Result<&str, AppError> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > 64 || v.chars().any(char::is_control) {
        return Err(AppError::invalid("value", "请输入 1 到 64 个字符的随机数（数字或文字均可）"));
    }
    Ok(v)
}

/// Step 2: a witness commits to a value. Only the commitment
/// `SHA-256(CJSON({"name", "value"}))` is stored; the value is forgotten.
pub fn commit_in(conn: &mut DbConn, actor: &str, w: &DrawWitness, value: &str, now: NaiveDateTime) -> Result<String, AppError> {
    let d = draw_or_404(conn, &w.draw_id)?;
    if d.status != DrawStatus::Frozen {
        return Err(frozen_error(&d.id, "commitment", "公告后的承诺值"));
    }
    let value = check_value(value)?;
    let c = crate::draw::input::commitment_of(&w.source_name, value);
    if !dbd::set_commitment(conn, &w.id, &c, now)? {
        return Err(AppError::conflict("already_committed", "该见证人已提交过承诺值，不能更改"));
    }
    audit::append(conn, actor, "draw.witness_commit", &d.id, None, Some(&json!({"source": w.source_name, "commitment": c})))?;
    Ok(c)
}

/// Step 5: a witness reveals the value; it must match the commitment.
pub fn reveal_in(conn: &mut DbConn, actor: &str, w: &DrawWitness, value: &str, now: NaiveDateTime) -> Result<(), AppError> {
    let d = draw_or_404(conn, &w.draw_id)?;
    if d.status != DrawStatus::Announced {
        return Err(wrong_status(&d, "公告后、派位前才能揭示随机数"));
    }
    let value = check_value(value)?;
    let want = w.commitment.as_deref().ok_or_else(|| AppError::conflict("not_committed", "该见证人没有承诺值"))?;
    if crate::draw::input::commitment_of(&w.source_name, value) != want {
        return Err(AppError::Conflict {
            code: "commitment_mismatch",
            message: format!("{} 揭示的随机数与公告中的承诺值不符，不予接受", w.name),
            field: Some("value".into()),
        });
    }
    if !dbd::set_value(conn, &w.id, value, now)? {
        return Err(AppError::conflict("already_revealed", "该见证人已揭示过随机数"));
    }
    audit::append(conn, actor, "draw.witness_reveal", &d.id, None, Some(&json!({"source": w.source_name, "value": value})))?;
    Ok(())
}

/// The witness behind a one-time link, if the link is still good.
pub fn witness_of_token(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> Result<DrawWitness, AppError> {
    let w = dbd::witness_by_token(conn, &token_hash(token))?.ok_or_else(not_found)?;
    if w.token_expires_at.is_some_and(|t| t < now) {
        return Err(AppError::conflict("link_expired", "该见证链接已过期，请联系派位操作员"));
    }
    Ok(w)
}

/// Steps 3–4: name the beacon round at or after the stated time, sign the
/// announcement and publish it. Every witness must have committed, and the
/// round must not exist yet. Every family in the draw is told its time and
/// the live page (the outbox, same transaction).
#[allow(clippy::too_many_arguments)]
pub fn announce_in(
    conn: &mut DbConn,
    settings: &crate::config::Settings,
    actor: &str,
    key: &crate::draw::announce::SigningKey,
    fallback: &str,
    draw_id: &str,
    scheduled_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<Draw, AppError> {
    let d = draw_or_404(conn, draw_id)?;
    if d.status != DrawStatus::Frozen {
        return Err(wrong_status(&d, "只有锁定名单后尚未公告的派位才能公告"));
    }
    let ws = dbd::witnesses(conn, draw_id)?;
    if ws.is_empty() {
        return Err(AppError::invalid("witnesses", "至少需要一位见证人（公证员或家长代表）提交承诺值"));
    }
    if let Some(w) = ws.iter().find(|w| w.commitment.is_none()) {
        return Err(AppError::invalid("witnesses", format!("见证人 {} 尚未提交承诺值", w.name)));
    }
    if scheduled_at <= now {
        return Err(AppError::invalid("scheduled_at", "派位时间必须晚于现在：公告所用的信标轮次必须尚未产生"));
    }
    let round = day::round_at_or_after(scheduled_at.and_utc().timestamp());
    let round_time = chrono::DateTime::from_timestamp(crate::draw::beacon::quicknet_round_time(round) as i64, 0)
        .map(|t| crate::db::beijing(t.naive_utc()).format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default();
    let c = dbr::campaign(conn, &d.campaign_id)?;
    let policy = format!("{} 招生政策 {}", c.name, c.policy_version);
    let sources: Vec<day::WitnessSource> = ws
        .iter()
        .map(|w| day::WitnessSource {
            name: w.source_name.clone(),
            commitment: w.commitment.clone().unwrap_or_default(),
            description: format!("{} {}", w.role.label(), w.name),
        })
        .collect();
    let scheduled = format!("{}+08:00", crate::db::beijing(scheduled_at).format("%Y-%m-%dT%H:%M:%S"));
    let ann = day::announcement(&day::Announce {
        draw_id: &d.id,
        title: &d.title,
        campaign: &d.campaign_id,
        policy: &policy,
        schools_json: &d.schools_json,
        roster_root: &d.roster_root,
        roster_size: d.roster_size as usize,
        witnesses: &sources,
        beacon_round: round,
        beacon_time: &round_time,
        scheduled_at: &scheduled,
        fallback,
    })
    .map_err(AppError::internal)?;
    let json = String::from_utf8(ann.to_bytes()).expect("CJSON is UTF-8");
    let digest = crate::draw::digest_hex(json.as_bytes());
    let jws = crate::draw::announce::sign(&ann, key).map_err(AppError::internal)?;
    let a = dbd::Announced { scheduled_at, beacon_round: round as i64, json: &json, digest: &digest, jws: &jws, at: now };
    if !dbd::set_announced(conn, draw_id, &a)? {
        return Err(wrong_status(&d, "不能重复公告"));
    }
    let live_url = format!("{}/draws/{}/live", settings.server.base_url.trim_end_matches('/'), d.id);
    let events: Vec<(String, crate::notify::Event)> = crate::db::offers::entries_of(conn, draw_id)?
        .into_iter()
        .map(|(no, app, _)| {
            let event = crate::notify::Event::DrawScheduled {
                draw_id: d.id.clone(),
                application_id: app.clone(),
                registration_no: no,
                draw_at: scheduled_at,
                live_url: live_url.clone(),
            };
            (app, event)
        })
        .collect();
    let told = crate::service::notify::enqueue_batch(conn, settings, &d.campaign_id, &events, now)?;
    audit::append(
        conn,
        actor,
        "draw.announce",
        draw_id,
        None,
        Some(&json!({"announcement_digest": digest, "beacon_round": round, "notified": told})),
    )?;
    draw_or_404(conn, draw_id)
}

/// Check a beacon value for the announced round and store it.
pub fn beacon_in(
    conn: &mut DbConn,
    actor: &str,
    draw_id: &str,
    value: &str,
    via: &str,
) -> Result<crate::draw::beacon::BeaconCheck, AppError> {
    let d = draw_or_404(conn, draw_id)?;
    if d.status != DrawStatus::Announced {
        return Err(wrong_status(&d, "公告后、派位前才能录入信标值"));
    }
    let round = d.beacon_round.unwrap_or_default() as u64;
    let value = value.trim().to_ascii_lowercase();
    let check =
        crate::draw::beacon::verify_drand(crate::draw::beacon::QUICKNET_CHAIN_HASH, round, &value).map_err(|e| AppError::Conflict {
            code: "beacon_invalid",
            message: format!("信标值不是 drand quicknet 第 {round} 轮的有效签名，不予接受（{e}）"),
            field: Some("value".into()),
        })?;
    if !dbd::set_beacon(conn, draw_id, &value)? {
        return Err(AppError::conflict("beacon_set", "信标值已录入"));
    }
    audit::append(
        conn,
        actor,
        "draw.beacon",
        draw_id,
        None,
        Some(&json!({"round": round, "value": value, "via": via, "randomness": check.randomness})),
    )?;
    Ok(check)
}

/// Fetch the announced round from the relays, in order; the first answer
/// whose signature verifies wins. A relay that serves anything else is
/// skipped (and named in the error when none verifies).
pub async fn fetch_beacon(relays: &[String], timeout_ms: u64, round: u64) -> Result<String, AppError> {
    if relays.is_empty() {
        return Err(AppError::conflict("no_relay", "没有配置信标中继（draw.relays），请手工录入信标值"));
    }
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_millis(timeout_ms)).build().map_err(AppError::internal)?;
    let chain = crate::draw::beacon::QUICKNET_CHAIN_HASH;
    let mut faults = Vec::new();
    for r in relays {
        let url = format!("{}/{chain}/public/{round}", r.trim_end_matches('/'));
        #[derive(serde::Deserialize)]
        struct Answer {
            round: u64,
            signature: String,
        }
        let got = async {
            let resp = client.get(&url).send().await.map_err(|e| format!("{e}"))?;
            if !resp.status().is_success() {
                return Err(format!("HTTP {}", resp.status().as_u16()));
            }
            let a: Answer = resp.json().await.map_err(|e| format!("{e}"))?;
            if a.round != round {
                return Err(format!("answered round {} instead of {round}", a.round));
            }
            crate::draw::beacon::verify_drand(chain, round, &a.signature)?;
            Ok(a.signature.to_ascii_lowercase())
        }
        .await;
        match got {
            Ok(v) => return Ok(v),
            Err(e) => faults.push(format!("{r}: {e}")),
        }
    }
    Err(AppError::Conflict {
        code: "beacon_unavailable",
        message: format!("未能从中继取得第 {round} 轮的有效信标值：{}", faults.join("；")),
        field: Some("beacon".into()),
    })
}

/// The outcome of a run: the stored record's digests; `fresh` is false
/// when the record had been stored by an earlier run.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunOutcome {
    pub draw_id: String,
    pub fresh: bool,
    pub announcement_digest: String,
    pub record_digest: String,
    pub result_digest: String,
}

fn stored_outcome(d: &Draw, fresh: bool) -> RunOutcome {
    RunOutcome {
        draw_id: d.id.clone(),
        fresh,
        announcement_digest: d.announcement_digest.clone().unwrap_or_default(),
        record_digest: d.record_digest.clone().unwrap_or_default(),
        result_digest: d.result_digest.clone().unwrap_or_default(),
    }
}

/// Step 5: compute the record from the announcement, the roster and the
/// revealed values, and store it once. A second run (a double click, a
/// second instance) gets the stored record: the update only applies to a
/// draw that has none, and the database serialises the two.
pub fn run_blocking(db: &Db, actor: &str, draw_id: &str) -> Result<RunOutcome, AppError> {
    let (d, ws) = {
        let mut c = db.get()?;
        (draw_or_404(&mut c, draw_id)?, dbd::witnesses(&mut c, draw_id)?)
    };
    if d.status == DrawStatus::Drawn {
        return Ok(stored_outcome(&d, false));
    }
    if d.status != DrawStatus::Announced {
        return Err(wrong_status(&d, "只有已公告的派位才能开始派位"));
    }
    if let Some(w) = ws.iter().find(|w| w.value.is_none()) {
        return Err(AppError::invalid("witnesses", format!("见证人 {} 尚未揭示随机数", w.name)));
    }
    let beacon = d.beacon_value.clone().ok_or_else(|| AppError::invalid("beacon", "尚未取得信标值"))?;
    let mut values: Vec<(String, String)> = ws.iter().map(|w| (w.source_name.clone(), w.value.clone().unwrap_or_default())).collect();
    values.push((day::BEACON_SOURCE.to_string(), beacon));
    let input = day::input_json(d.announcement_json.as_deref().unwrap_or_default(), &d.roster_json, &values);
    let computed = crate::draw::compute(&input).map_err(|e| AppError::conflict("draw_invalid", format!("派位输入无效：{e}")))?;
    let record = String::from_utf8(computed.record).expect("CJSON is UTF-8");
    let now = crate::db::now();
    let (actor, id) = (actor.to_string(), draw_id.to_string());
    db.write_blocking(move |c| {
        let fresh = dbd::set_record(
            c,
            &id,
            &dbd::Computed { record: &record, record_digest: &computed.record_digest, result_digest: &computed.result_digest, at: now },
        )?;
        if fresh {
            audit::append(
                c,
                &actor,
                "draw.run",
                &id,
                None,
                Some(&json!({"record_digest": computed.record_digest, "result_digest": computed.result_digest})),
            )?;
        }
        Ok(stored_outcome(&draw_or_404(c, &id)?, fresh))
    })
}

/// Publish a drawn draw's results (the hall's confirmation): the offers,
/// the waitlists and every family's result message, in one transaction.
pub fn publish_in(
    conn: &mut DbConn,
    settings: &crate::config::Settings,
    actor: &str,
    draw_id: &str,
    now: NaiveDateTime,
) -> Result<Draw, AppError> {
    let d = draw_or_404(conn, draw_id)?;
    if d.status != DrawStatus::Drawn {
        return Err(wrong_status(&d, "派位完成后才能公布结果"));
    }
    if d.published_at.is_some() {
        return Ok(d);
    }
    dbd::set_published(conn, draw_id, now)?;
    audit::append(conn, actor, "draw.publish", draw_id, None, Some(&json!({"result_digest": d.result_digest})))?;
    let d = draw_or_404(conn, draw_id)?;
    // Issue #12: the draw's offers and waitlists, in the same transaction.
    crate::service::offers::on_draw_published(conn, settings, &d, now)?;
    Ok(d)
}

// ------------------------------------------------------------ async wrappers

pub async fn freeze(cx: &Ctx, actor: String, campaign_id: String, unit_id: String) -> Result<Draw, AppError> {
    let target = draw_id_of(&campaign_id, &unit_id);
    let r = cx.db.write(move |c| freeze_in(c, &actor, &campaign_id, &unit_id, crate::db::now())).await;
    audited(cx, "system", &target, r).await
}

pub async fn add_witness(cx: &Ctx, actor: String, draw_id: String, name: String, role: WitnessRole) -> Result<NewWitness, AppError> {
    let hours = cx.settings.draw.witness_link_hours;
    let (a2, t2) = (actor.clone(), draw_id.clone());
    let r = cx.db.write(move |c| add_witness_in(c, &actor, &draw_id, &name, role, hours, crate::db::now())).await;
    audited(cx, &a2, &t2, r).await
}

/// A witness's own phone: commit before the announcement, reveal after it.
pub async fn witness_link(cx: &Ctx, token: String, value: String) -> Result<(DrawWitness, &'static str), AppError> {
    cx.db
        .write(move |c| {
            let now = crate::db::now();
            let w = witness_of_token(c, &token, now)?;
            let actor = format!("witness:{}:{}", w.draw_id, w.source_name);
            let step = if w.commitment.is_none() {
                commit_in(c, &actor, &w, &value, now)?;
                "committed"
            } else {
                reveal_in(c, &actor, &w, &value, now)?;
                "revealed"
            };
            Ok((dbd::witness(c, &w.id)?.ok_or_else(not_found)?, step))
        })
        .await
}

/// The operator's screen, the witness typing (the value hidden).
pub async fn witness_at_console(
    cx: &Ctx,
    actor: String,
    draw_id: String,
    witness_id: String,
    value: String,
) -> Result<&'static str, AppError> {
    let (a2, t2) = (actor.clone(), draw_id.clone());
    let r = cx
        .db
        .write(move |c| {
            let w = dbd::witness(c, &witness_id)?.filter(|w| w.draw_id == draw_id).ok_or_else(not_found)?;
            let now = crate::db::now();
            let actor = format!("{actor} witness:{}", w.source_name);
            if w.commitment.is_none() {
                commit_in(c, &actor, &w, &value, now)?;
                Ok("committed")
            } else {
                reveal_in(c, &actor, &w, &value, now)?;
                Ok("revealed")
            }
        })
        .await;
    audited(cx, &a2, &t2, r).await
}

pub async fn announce(cx: &Ctx, actor: String, draw_id: String, scheduled_at: NaiveDateTime) -> Result<Draw, AppError> {
    let key = cx.settings.draw_signing_key().map_err(AppError::internal)?;
    let (fallback, settings) = (cx.settings.draw.fallback.clone(), cx.settings.clone());
    cx.db.write(move |c| announce_in(c, &settings, &actor, &key, &fallback, &draw_id, scheduled_at, crate::db::now())).await
}

/// Take the beacon: typed in (`value`), or fetched from the relays.
pub async fn beacon(cx: &Ctx, actor: String, draw_id: String, value: Option<String>) -> Result<crate::draw::beacon::BeaconCheck, AppError> {
    let id = draw_id.clone();
    let d = cx.db.run(move |c| draw_or_404(c, &id)).await?;
    if d.status != DrawStatus::Announced {
        return Err(wrong_status(&d, "公告后、派位前才能录入信标值"));
    }
    let round = d.beacon_round.unwrap_or_default() as u64;
    let (value, via) = match value.filter(|v| !v.trim().is_empty()) {
        Some(v) => (v, "typed"),
        None => {
            let at = crate::draw::beacon::quicknet_round_time(round) as i64;
            if crate::db::now().and_utc().timestamp() < at {
                return Err(AppError::conflict("beacon_not_yet", format!("第 {round} 轮信标尚未产生，请在预定时间之后再取")));
            }
            (fetch_beacon(&cx.settings.draw.relays, cx.settings.draw.relay_timeout_ms, round).await?, "relay")
        }
    };
    cx.db.write(move |c| beacon_in(c, &actor, &draw_id, &value, via)).await
}

pub async fn run(cx: &Ctx, actor: String, draw_id: String) -> Result<RunOutcome, AppError> {
    let db = cx.db.clone();
    actix_web::rt::task::spawn_blocking(move || run_blocking(&db, &actor, &draw_id)).await.map_err(AppError::internal)?
}

pub async fn publish(cx: &Ctx, actor: String, draw_id: String) -> Result<Draw, AppError> {
    let settings = cx.settings.clone();
    cx.db.write(move |c| publish_in(c, &settings, &actor, &draw_id, crate::db::now())).await
}

// ------------------------------------------------------------ views

/// A witness as anyone may see it: the commitment, and the value only
/// once it is revealed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WitnessView {
    pub id: String,
    pub source: String,
    pub name: String,
    pub role: WitnessRole,
    pub role_label: &'static str,
    pub commitment: Option<String>,
    pub committed_at: Option<NaiveDateTime>,
    pub value: Option<String>,
    pub revealed_at: Option<NaiveDateTime>,
}

impl From<&DrawWitness> for WitnessView {
    fn from(w: &DrawWitness) -> Self {
        WitnessView {
            id: w.id.clone(),
            source: w.source_name.clone(),
            name: w.name.clone(),
            role: w.role,
            role_label: w.role.label(),
            commitment: w.commitment.clone(),
            committed_at: w.committed_at,
            value: w.value.clone(),
            revealed_at: w.revealed_at,
        }
    }
}

/// A school of a draw with its seats and name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = DrawSchoolSeats)]
pub struct SchoolSeats {
    pub id: String,
    pub name: String,
    pub seats: i64,
}

/// A draw as its public page and the operator's console show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DrawView {
    #[serde(flatten)]
    pub draw: dbd::DrawBrief,
    pub status_label: &'static str,
    pub kind_label: &'static str,
    pub schools: Vec<SchoolSeats>,
    pub witnesses: Vec<WitnessView>,
    pub beacon_round_at: Option<NaiveDateTime>,
    pub chain_hash: &'static str,
}

fn schools_of(conn: &mut DbConn, schools_json: &str) -> Result<Vec<SchoolSeats>, AppError> {
    let names = dbr::names(conn)?;
    let v: Vec<serde_json::Value> = serde_json::from_str(schools_json).map_err(AppError::internal)?;
    Ok(v.iter()
        .map(|s| {
            let id = s["id"].as_str().unwrap_or_default().to_string();
            SchoolSeats {
                name: names.schools.get(&id).cloned().unwrap_or_else(|| id.clone()),
                seats: s["seats"].as_i64().unwrap_or_default(),
                id,
            }
        })
        .collect())
}

pub fn view_in(conn: &mut DbConn, draw_id: &str) -> Result<DrawView, AppError> {
    // The brief leaves out the roster and the record: a list of draws
    // must not read every record (a 100,000-applicant one is ~19 MB).
    let b = dbd::brief(conn, draw_id)?.ok_or_else(not_found)?;
    let ws = dbd::witnesses(conn, draw_id)?;
    Ok(DrawView {
        status_label: b.status.label(),
        kind_label: b.kind.label(),
        schools: schools_of(conn, &b.schools_json)?,
        witnesses: ws.iter().map(WitnessView::from).collect(),
        beacon_round_at: b.beacon_round.and_then(|r| {
            chrono::DateTime::from_timestamp(crate::draw::beacon::quicknet_round_time(r as u64) as i64, 0).map(|t| t.naive_utc())
        }),
        chain_hash: crate::draw::beacon::QUICKNET_CHAIN_HASH,
        draw: b,
    })
}

pub async fn view(cx: &Ctx, draw_id: String) -> Result<DrawView, AppError> {
    cx.db.run(move |c| view_in(c, &draw_id)).await
}

/// Every draw, for the public list and the console.
pub async fn list(cx: &Ctx, campaign: Option<String>) -> Result<Vec<DrawView>, AppError> {
    cx.db
        .run(move |c| {
            let ids: Vec<String> = dbd::briefs(c, campaign.as_deref())?.into_iter().map(|b| b.id).collect();
            ids.iter().map(|id| view_in(c, id)).collect()
        })
        .await
}

/// The stored record, byte for byte.
pub async fn record(cx: &Ctx, draw_id: String) -> Result<String, AppError> {
    cx.db
        .run(move |c| {
            let b = dbd::brief(c, &draw_id)?.ok_or_else(not_found)?;
            dbd::record(c, &b.id)?.ok_or_else(|| AppError::conflict("not_drawn", "尚未派位，还没有派位记录"))
        })
        .await
}

/// The signed announcement: the JWS and the announcement it signs.
pub async fn announcement(cx: &Ctx, draw_id: String) -> Result<(String, String), AppError> {
    cx.db
        .run(move |c| {
            let d = draw_or_404(c, &draw_id)?;
            match (d.signature, d.announcement_json) {
                (Some(j), Some(a)) => Ok((j, a)),
                _ => Err(AppError::conflict("not_announced", "尚未公告")),
            }
        })
        .await
}

/// An entry's inclusion proof in the announced roster root (before the
/// draw from the frozen roster, after it from the record).
pub async fn proof(cx: &Ctx, draw_id: String, registration_no: String) -> Result<Vec<u8>, AppError> {
    cx.db
        .run(move |c| {
            let d = draw_or_404(c, &draw_id)?;
            let p = match &d.record_json {
                Some(r) => crate::draw::inclusion_proof(r, &registration_no),
                None => day::roster_proof(&d.roster_json, &registration_no),
            };
            p.map(|p| p.to_json()).map_err(|_| AppError::NotFound)
        })
        .await
}

/// The public roster of a draw: registration number, masked name, category.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicEntry {
    pub registration_no: String,
    pub name: String,
    pub category: Option<String>,
    pub category_label: String,
}

pub async fn public_roster(cx: &Ctx, draw_id: String) -> Result<Vec<PublicEntry>, AppError> {
    cx.db
        .run(move |c| {
            let d = dbd::brief(c, &draw_id)?.ok_or_else(not_found)?;
            let camp = dbr::campaign(c, &d.campaign_id)?;
            let labels: BTreeMap<String, String> = super::review::categories_of(&camp).into_iter().collect();
            Ok(dbd::public_roster(c, &draw_id)?
                .into_iter()
                .map(|(no, cat, name)| PublicEntry {
                    registration_no: no,
                    name: crate::identity::crypto::mask_name(&name),
                    category_label: cat.as_deref().and_then(|k| labels.get(k).cloned()).unwrap_or_default(),
                    category: cat,
                })
                .collect())
        })
        .await
}
