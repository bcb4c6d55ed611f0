//! The campaign dashboard: seats against applications by category, the
//! class-size check (大班额) and the campaign's timeline.

use super::Ctx;
use crate::db::review as dbr;
use crate::db::DbConn;
use crate::error::AppError;
use chrono::NaiveDateTime;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub campaign_id: String,
    pub campaign_name: String,
    pub status: crate::domain::CampaignStatus,
    pub summary: crate::review::dashboard::Summary,
    pub categories: Vec<(String, String)>,
    pub chart_svg: String,
    pub timeline_svg: String,
    pub phases: Vec<(String, NaiveDateTime)>,
}

fn dashboard_in(conn: &mut DbConn, campaign_id: &str, settings: &crate::config::Settings) -> Result<Dashboard, AppError> {
    use crate::review::dashboard::{summarise, AppRow, PlanRow};
    let c = dbr::campaign(conn, campaign_id).map_err(|e| match e {
        AppError::NotFound => AppError::invalid("campaign", "没有这个招生计划"),
        e => e,
    })?;
    let dbr::CampaignZones { zones: zone_rows, school_zone: member } = dbr::zones_of(conn, &c.id)?;
    let cap_limit = if c.grade >= 7 { settings.admission.class_cap_junior } else { settings.admission.class_cap_primary };
    let plans: Vec<PlanRow> = dbr::plans_of(conn, &c.id)?
        .into_iter()
        .map(|p| PlanRow {
            zone_id: member.get(&p.school_id).cloned(),
            school_id: p.school_id,
            school_name: p.school_name,
            planned_classes: p.planned_classes,
            class_size_cap: p.class_size_cap,
        })
        .collect();
    let apps: Vec<AppRow> = dbr::placements_of(conn, &c.id)?
        .into_iter()
        .map(|(s, z, st, cat)| AppRow { school_id: s, zone_id: z, status: st, category: cat })
        .collect();
    let mut offer_counts: BTreeMap<String, i64> = BTreeMap::new();
    for s in dbr::offered_schools(conn, &c.id)? {
        *offer_counts.entry(s).or_default() += 1;
    }
    let categories = super::review::categories_of(&c);
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
            &phases.iter().map(|(n, t)| (n.clone(), crate::db::beijing(*t))).collect::<Vec<_>>(),
            crate::db::beijing(crate::db::now()),
        ),
        campaign_id: c.id,
        campaign_name: c.name,
        status: c.status,
        summary,
        categories,
        phases,
    })
}

/// `(id, name)` of every campaign, and the one chosen (the newest when none is named).
pub fn choose_campaign(conn: &mut DbConn, campaign: Option<String>) -> Result<(String, Vec<(String, String)>), AppError> {
    let list = dbr::campaigns_list(conn)?;
    // The newest campaign under way; a draft (e.g. next year's copy) only
    // when there is nothing else.
    let default = list.iter().find(|k| k.status != crate::domain::CampaignStatus::Draft).or(list.first()).map(|k| k.id.clone());
    let all: Vec<(String, String)> = list.into_iter().map(|k| (k.id, k.name)).collect();
    let chosen = match campaign.filter(|s| !s.trim().is_empty()) {
        Some(id) => id,
        None => default.ok_or_else(|| AppError::invalid("campaign", "还没有招生计划"))?,
    };
    Ok((chosen, all))
}

/// The dashboard of `campaign` (the newest when `None`), with every campaign to choose from.
pub async fn dashboard(cx: &Ctx, campaign: Option<String>) -> Result<(Dashboard, Vec<(String, String)>), AppError> {
    let settings = cx.settings.clone();
    cx.db
        .run(move |c| {
            let (chosen, all) = choose_campaign(c, campaign)?;
            Ok((dashboard_in(c, &chosen, &settings)?, all))
        })
        .await
}
