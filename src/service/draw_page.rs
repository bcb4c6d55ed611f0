//! What the draw day's pages show (the public draw page, the hall's screen,
//! the witness's phone): a draw's view with its pseudonymised roster and,
//! once drawn, the results school by school from the stored record. Read
//! only; names are masked here, before anything reaches a template.

use super::draw::{self as svc, DrawView, PublicEntry};
use super::Ctx;
use crate::db::draw as dbd;
use crate::db::review as dbr;
use crate::db::DbConn;
use crate::error::AppError;
use serde::Serialize;
use std::collections::BTreeMap;

/// One child in a result list: lottery number, registration number, masked name.
#[derive(Debug, Clone, Serialize)]
pub struct Placed {
    pub lottery_no: i64,
    pub registration_no: String,
    pub name: String,
    pub category_label: String,
}

/// A school's result: admitted in ranking order, then its waitlist.
#[derive(Debug, Clone, Serialize)]
pub struct SchoolResult {
    pub id: String,
    pub name: String,
    pub seats: i64,
    pub admitted: Vec<Placed>,
    pub waitlist: Vec<Placed>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub seed: String,
    pub schools: Vec<SchoolResult>,
    pub unassigned: Vec<Placed>,
    /// Everyone in lottery order.
    pub lottery: Vec<Placed>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DrawPage {
    #[serde(flatten)]
    pub view: DrawView,
    pub roster: Vec<PublicEntry>,
    pub results: Option<Results>,
    /// Unix seconds of the beacon round (for the countdown), if announced.
    pub beacon_round_unix: Option<i64>,
    pub revealed: usize,
    /// Changes whenever anything the hall's screen shows changes.
    pub state_key: String,
}

fn roster_in(conn: &mut DbConn, draw_id: &str, campaign_id: &str) -> Result<Vec<PublicEntry>, AppError> {
    let camp = dbr::campaign(conn, campaign_id)?;
    let labels: BTreeMap<String, String> = super::review::categories_of(&camp).into_iter().collect();
    Ok(dbd::public_roster(conn, draw_id)?
        .into_iter()
        .map(|(no, cat, name)| PublicEntry {
            registration_no: no,
            name: crate::identity::crypto::mask_name(&name),
            category_label: cat.as_deref().and_then(|k| labels.get(k).cloned()).unwrap_or_default(),
            category: cat,
        })
        .collect())
}

fn results_of(record: &str, view: &DrawView, roster: &[PublicEntry]) -> Option<Results> {
    let r: serde_json::Value = serde_json::from_str(record).ok()?;
    let res = &r["result"];
    let numbers = res["lottery_numbers"].as_object()?;
    let by_no: BTreeMap<&str, &PublicEntry> = roster.iter().map(|e| (e.registration_no.as_str(), e)).collect();
    let placed = |id: &serde_json::Value| -> Option<Placed> {
        let id = id.as_str()?;
        let e = by_no.get(id);
        Some(Placed {
            lottery_no: numbers.get(id).and_then(|n| n.as_i64()).unwrap_or_default(),
            registration_no: id.to_string(),
            name: e.map(|e| e.name.clone()).unwrap_or_default(),
            category_label: e.map(|e| e.category_label.clone()).unwrap_or_default(),
        })
    };
    let list = |v: &serde_json::Value| -> Vec<Placed> { v.as_array().map(|a| a.iter().filter_map(placed).collect()).unwrap_or_default() };
    Some(Results {
        seed: res["seed"].as_str().unwrap_or_default().to_string(),
        schools: view
            .schools
            .iter()
            .map(|s| SchoolResult {
                id: s.id.clone(),
                name: s.name.clone(),
                seats: s.seats,
                admitted: list(&res["assignments"][&s.id]),
                waitlist: list(&res["waitlists"][&s.id]),
            })
            .collect(),
        unassigned: list(&res["unassigned"]),
        lottery: list(&res["lottery"]),
    })
}

/// Everything the hall's screen shows, in one short string: the SSE stream
/// sends an event whenever it changes.
fn state_key_of(view: &DrawView) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(view.draw.status.as_str());
    h.update([0]);
    for w in &view.witnesses {
        h.update(w.commitment.as_deref().unwrap_or("-"));
        h.update([0]);
        h.update(w.value.as_deref().unwrap_or("-"));
        h.update([0]);
    }
    for x in [&view.draw.announcement_digest, &view.draw.beacon_value, &view.draw.record_digest] {
        h.update(x.as_deref().unwrap_or("-"));
        h.update([0]);
    }
    h.update(if view.draw.published_at.is_some() { "p" } else { "-" });
    hex::encode(&h.finalize()[..12])
}

pub fn page_in(conn: &mut DbConn, draw_id: &str) -> Result<DrawPage, AppError> {
    let view = svc::view_in(conn, draw_id)?;
    let roster = roster_in(conn, &view.draw.id, &view.draw.campaign_id)?;
    let results = match dbd::record(conn, &view.draw.id)? {
        Some(r) => results_of(&r, &view, &roster),
        None => None,
    };
    Ok(DrawPage {
        beacon_round_unix: view.beacon_round_at.map(|t| t.and_utc().timestamp()),
        revealed: view.witnesses.iter().filter(|w| w.value.is_some()).count(),
        state_key: state_key_of(&view),
        roster,
        results,
        view,
    })
}

/// The public draw page and the hall's screen.
pub async fn page(cx: &Ctx, draw_id: String) -> Result<DrawPage, AppError> {
    cx.db.run(move |c| page_in(c, &draw_id)).await
}

/// The hall's state key alone (polled every second by the event stream).
pub async fn state_key(cx: &Ctx, draw_id: String) -> Result<String, AppError> {
    cx.db.run(move |c| Ok(state_key_of(&svc::view_in(c, &draw_id)?))).await
}

/// Who a one-time witness link belongs to, and its draw (for the GET of
/// the witness's page; nothing is written).
#[derive(Debug, Clone, Serialize)]
pub struct WitnessPage {
    pub witness: svc::WitnessView,
    pub draw: DrawView,
    /// "commit" before the announcement, "wait" once committed until it,
    /// "reveal" after it, "done" once revealed.
    pub step: &'static str,
}

pub async fn witness_page(cx: &Ctx, token: String) -> Result<WitnessPage, AppError> {
    cx.db
        .run(move |c| {
            let w = svc::witness_of_token(c, &token, crate::db::now())?;
            let draw = svc::view_in(c, &w.draw_id)?;
            let step = if w.value.is_some() {
                "done"
            } else if w.commitment.is_none() {
                "commit"
            } else if draw.draw.status == crate::domain::DrawStatus::Frozen {
                "wait"
            } else {
                "reveal"
            };
            Ok(WitnessPage { witness: svc::WitnessView::from(&w), draw, step })
        })
        .await
}
