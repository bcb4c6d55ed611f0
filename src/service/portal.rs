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
    let b = &cx.settings.bureau;
    Ok(PortalHome { bureau: b.name.clone(), county: b.county.clone(), phone: b.phone.clone(), campaigns })
}
