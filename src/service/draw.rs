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

#[derive(Debug, Clone, Serialize)]
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
