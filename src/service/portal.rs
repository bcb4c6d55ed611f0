//! The bureau's public portal (`/`): each campaign with its phase and
//! calendar, and the ways in (lookup, registration, draw verification).

use super::Ctx;
use crate::error::AppError;
use crate::registration::campaign::{calendar, CalendarStep};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct CampaignCard {
    pub id: String,
    pub name: String,
    pub grade: i32,
    pub phase: crate::domain::CampaignStatus,
    pub phase_label: &'static str,
    pub calendar: Vec<CalendarStep>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PortalHome {
    pub bureau: String,
    pub county: String,
    pub phone: String,
    pub campaigns: Vec<CampaignCard>,
    /// Every draw (派位), for the portal's draw section.
    pub draws: Vec<super::draw::DrawView>,
}

/// The portal's home page: campaigns newest first, drafts left out.
pub async fn home(cx: &Ctx) -> Result<PortalHome, AppError> {
    let list = cx.db.run(crate::db::review::campaigns_list).await?;
    let now = crate::db::now();
    let campaigns = list
        .into_iter()
        .filter(|c| c.status != crate::domain::CampaignStatus::Draft)
        .map(|c| CampaignCard {
            calendar: calendar(&c, now),
            phase_label: c.status.label(),
            phase: c.status,
            grade: c.grade,
            name: c.name,
            id: c.id,
        })
        .collect();
    let draws = super::draw::list(cx, None).await?;
    let b = &cx.settings.bureau;
    Ok(PortalHome { bureau: b.name.clone(), county: b.county.clone(), phone: b.phone.clone(), campaigns, draws })
}

/// One school or zone of the public 划片范围 table.
#[derive(Debug, Clone, Serialize)]
pub struct CatchmentUnit {
    /// `school` or `zone`.
    pub kind: &'static str,
    pub code: String,
    pub name: String,
    /// A zone's schools (seventh grade), in announced order.
    pub schools: Vec<String>,
    pub classes: i64,
    pub seats: i64,
    /// The areas the rules give it, in the map's order.
    pub areas: Vec<String>,
}

/// The public 划片范围 page of a campaign.
#[derive(Debug, Clone, Serialize)]
pub struct CatchmentPage {
    pub bureau: String,
    pub campaign_id: String,
    pub campaign_name: String,
    pub units: Vec<CatchmentUnit>,
    /// Last year's campaign of the same grade, if any, and what changed.
    pub previous: Option<String>,
    pub changes: Vec<String>,
}

/// 划片范围: every school's (or zone's) catchment generated from the rules,
/// its classes and seats, and the changes since last year's campaign.
pub async fn catchment(cx: &Ctx, campaign_id: String) -> Result<CatchmentPage, AppError> {
    use crate::catchment::{Directory, Target};
    let bureau = cx.settings.bureau.name.clone();
    cx.db
        .run(move |conn| {
            let c = crate::db::catchment::load_campaign(conn, &campaign_id).map_err(|_| AppError::NotFound)?;
            if c.status == crate::domain::CampaignStatus::Draft {
                return Err(AppError::NotFound);
            }
            let rules = crate::db::catchment::load_rules(conn, &c.id)?;
            let dir = crate::db::catchment::load_directory(conn, &c.id)?;
            let plans = crate::db::review::plans_of(conn, &c.id)?;
            let plan_of = |code: &str| {
                plans
                    .iter()
                    .find(|p| p.school_id == code)
                    .map(|p| (i64::from(p.planned_classes), i64::from(p.planned_classes) * i64::from(p.class_size_cap)))
            };
            let mut units: Vec<CatchmentUnit> = Vec::new();
            for r in &rules {
                let (kind, code) = match &r.target {
                    Target::School(s) => ("school", s.clone()),
                    Target::Zone(z) => ("zone", z.clone()),
                };
                let i = match units.iter().position(|u| u.kind == kind && u.code == code) {
                    Some(i) => i,
                    None => {
                        let members = if kind == "zone" { dir.zone_schools(&code) } else { vec![code.clone()] };
                        let (classes, seats) = members.iter().filter_map(|m| plan_of(m)).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
                        units.push(CatchmentUnit {
                            kind,
                            name: dir.target_name(&r.target),
                            schools: if kind == "zone" { members.iter().filter_map(|m| dir.school_name(m)).collect() } else { vec![] },
                            code,
                            classes,
                            seats,
                            areas: Vec::new(),
                        });
                        units.len() - 1
                    }
                };
                let area = r.describe_area();
                if !units[i].areas.contains(&area) {
                    units[i].areas.push(area);
                }
            }
            let previous = crate::db::review::campaigns_list(conn)?
                .into_iter()
                .find(|p| p.grade == c.grade && p.year == c.year - 1 && p.status != crate::domain::CampaignStatus::Draft);
            let (previous, changes) = match previous {
                Some(p) => {
                    let old = crate::db::catchment::load_rules(conn, &p.id)?;
                    (Some(p.name), crate::catchment::diff_rules(&old, &rules, &dir).messages)
                }
                None => (None, Vec::new()),
            };
            Ok(CatchmentPage { bureau, campaign_id: c.id, campaign_name: c.name, units, previous, changes })
        })
        .await
}

/// 招生公告: a published (not draft) campaign's notice, the policy rendered
/// from the same document the system computes with
/// ([`crate::policy::notice`]).
pub async fn notice(cx: &Ctx, campaign_id: String) -> Result<super::registration::NoticeView, AppError> {
    let n = super::registration::notice_of(cx, &campaign_id).await.map_err(|e| match e {
        AppError::Internal(_) | AppError::Unavailable => e,
        _ => AppError::NotFound,
    })?;
    if n.status == crate::domain::CampaignStatus::Draft.to_string() {
        return Err(AppError::NotFound);
    }
    Ok(n)
}
