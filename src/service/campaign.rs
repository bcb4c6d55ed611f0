//! A campaign's lifecycle: opening registration.

use crate::config::Settings;
use crate::db::registration::{self as dbr, Calendar};
use crate::db::{audit, catchment as dbc, now, Db};
use crate::domain::CampaignStatus;
use crate::error::AppError;
use chrono::{Duration, NaiveDateTime};
use serde_json::json;

/// What `ruxue campaign open` did.
#[derive(Debug, Clone)]
pub struct Opened {
    pub previous_status: CampaignStatus,
    pub opens: NaiveDateTime,
    pub closes: NaiveDateTime,
}

/// Opens a campaign for registration from now for `days` days, moving the later
/// phase dates after it by the configured `calendar` offsets. A `draft`
/// campaign may always be opened; any other only when `allow_reopen` (the
/// development and demo environments, to try registration), and the audit
/// log says so.
pub fn open_registration(
    db: &Db,
    settings: &Settings,
    campaign_id: &str,
    days: i64,
    allow_reopen: bool,
    actor: &str,
) -> Result<Opened, AppError> {
    let offsets = &settings.calendar;
    if !(1..=90).contains(&days) {
        return Err(AppError::invalid("days", "报名天数应在 1 到 90 天之间"));
    }
    db.write_blocking(|conn| {
        let campaign = dbc::load_campaign(conn, campaign_id)?;
        if campaign.status != CampaignStatus::Draft && !allow_reopen {
            return Err(AppError::conflict(
                "campaign_not_draft",
                format!("招生批次「{campaign_id}」当前状态为 {}，只有草稿状态的批次可以开始报名", campaign.status),
            ));
        }
        let t = now();
        let closes = t + Duration::days(days);
        let cal = Calendar {
            registration_opens: t,
            registration_closes: closes,
            review_deadline: closes + Duration::days(offsets.review_days_after_close),
            draw_day: closes + Duration::days(offsets.draw_days_after_close),
            offer_deadline: closes + Duration::days(offsets.offer_days_after_close),
        };
        dbr::set_calendar(conn, campaign_id, CampaignStatus::Registration, &cal)?;
        audit::append(
            conn,
            actor,
            "campaign.open_registration",
            &format!("campaign:{campaign_id}"),
            Some(&json!({"status": campaign.status, "registration_opens": campaign.registration_opens.to_string(), "registration_closes": campaign.registration_closes.to_string()})),
            Some(&json!({"status": "registration", "registration_opens": t.to_string(), "registration_closes": closes.to_string(), "reopened": campaign.status != CampaignStatus::Draft})),
        )?;
        // The published policy is frozen from the moment registration opens.
        crate::service::policy::freeze_policy_in(conn, campaign_id, actor)?;
        Ok(Opened { previous_status: campaign.status, opens: t, closes })
    })
}
