//! The demo county's draw day (issue #11 item 8), loaded after the county
//! when `demo.draws` is on: the seventh-grade review is finished (every
//! pending application decided as a reviewer would), the campaign moves to
//! the draw phase through the lifecycle's own checks, and
//!
//! - 建安片区 is drawn and published: three witnesses (a notary and two
//!   parents' representatives) committed, the announcement signed, the
//!   values revealed, the beacon is quicknet round 657413 (a real round,
//!   beacon-drand.md), the record computed and stored;
//! - 德苑片区 is announced for the campaign's draw day and waits for its
//!   witnesses to reveal (their values are published in the README so that
//!   a newcomer can finish it at the console once the round exists).
//!
//! Every step goes through `service::draw`, audited like a real day.

use crate::config::Settings;
use crate::db::{self, Db};
use crate::demo::G7_CAMPAIGN;
use crate::domain::{ApplicationStatus, CampaignStatus, Role, WitnessRole};
use crate::error::AppError;
use crate::service::draw as svc;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The published demo draw and the announced one.
pub const DRAWN: &str = "2027-G7-Z-JA";
pub const ANNOUNCED: &str = "2027-G7-Z-DY";

/// The demo witnesses: `(draw, name, role, value)`. The values are public
/// demo data (README), never a real draw's.
pub const WITNESSES: [(&str, &str, WitnessRole, &str); 5] = [
    (DRAWN, "陈公证（安溪县公证处）", WitnessRole::Notary, "20270801-建安-公证-7315"),
    (DRAWN, "林家长代表", WitnessRole::ParentRep, "4821"),
    (DRAWN, "王家长代表", WitnessRole::ParentRep, "安溪铁观音 96"),
    (ANNOUNCED, "陈公证（安溪县公证处）", WitnessRole::Notary, "20270801-德苑-公证-2290"),
    (ANNOUNCED, "黄家长代表", WitnessRole::ParentRep, "5530"),
];

/// Quicknet round 657413's signature (beacon-drand.md).
pub const ROUND_657413: &str = "b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be41076862b98fad56e91a6b85b89cd97b";

fn t(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap_or_default()
}

fn operator(conn: &mut db::DbConn) -> Result<(crate::staff::Identity, String), AppError> {
    let s = db::staff::by_username(conn, "admin")?.ok_or_else(|| AppError::internal("demo admin missing"))?;
    let who = crate::staff::Identity {
        id: s.id.clone(),
        username: s.username,
        display_name: s.display_name,
        role: Role::Admin,
        township_scope: vec![],
    };
    let op = db::staff::by_username(conn, "operator")?.map(|o| format!("staff:{}", o.id)).unwrap_or_else(|| who.actor());
    Ok((who, op))
}

/// Load the demo's draw day (after [`crate::demo::load_if_empty`] loaded the county).
pub fn load(db: &Db, settings: &Settings) -> Result<(), AppError> {
    // 1. The seventh-grade review is finished: every pending application
    //    is approved as a reviewer would (keys from the frozen policy).
    db.write_blocking(|c| {
        let (who, _) = operator(c)?;
        let pending: Vec<String> = db::schema::applications::table
            .filter(db::schema::applications::campaign_id.eq(G7_CAMPAIGN))
            .filter(db::schema::applications::status.eq_any(ApplicationStatus::REVIEWABLE))
            .select(db::schema::applications::id)
            .load(c)?;
        for id in pending {
            let approve =
                crate::review::DecisionRequest::Approve {
                    school_id: None, category: None, reason: "演示：七年级审核完成".into()
                };
            if crate::service::review::decide_with(c, settings, &who, &id, &approve).is_err() {
                let reject = crate::review::DecisionRequest::Reject {
                    reason_code: "out_of_catchment".into(),
                    note: "演示：住址不在片区内".into(),
                };
                crate::service::review::decide_with(c, settings, &who, &id, &reject)?;
            }
        }
        // Overrides waiting for a second opinion: the demo's second reviewer agrees.
        diesel::update(db::schema::review_decisions::table.filter(db::schema::review_decisions::needs_second.eq(true)))
            .set(db::schema::review_decisions::needs_second.eq(false))
            .execute(c)?;
        Ok(())
    })?;
    let (_, op) = db.write_blocking(operator)?;
    crate::service::campaign::advance_blocking(db, &op, G7_CAMPAIGN, CampaignStatus::Draw, Default::default())?;

    // 2. Both zones frozen; witnesses commit.
    let key = settings.draw_signing_key().map_err(AppError::internal)?;
    let fallback = settings.draw.fallback.clone();
    let hours = settings.draw.witness_link_hours;
    db.write_blocking(|c| {
        for (zone, at) in [("2027-G7-Z-JA", "2023-09-15 09:00:00"), ("2027-G7-Z-DY", "2027-07-25 10:00:00")] {
            svc::freeze_in(c, &op, G7_CAMPAIGN, zone, t(at))?;
        }
        for (draw, name, role, value) in WITNESSES {
            let w = svc::add_witness_in(c, &op, draw, name, role, hours, t("2023-09-15 09:30:00"))?;
            svc::commit_in(c, &format!("witness:{draw}:{}", w.witness.source_name), &w.witness, value, t("2023-09-15 09:40:00"))?;
        }
        // 3. The announcements: 建安 for 2023-09-15 19:00:03 Beijing (round
        //    657413, long past: the demo's finished day); 德苑 for the
        //    campaign's draw day, a round that does not exist yet.
        svc::announce_in(c, settings, &op, &key, &fallback, DRAWN, t("2023-09-15 11:00:02"), t("2023-09-15 10:00:00"))?;
        let day = crate::db::campaign::find(c, G7_CAMPAIGN)?.map(|k| k.draw_day).unwrap_or_else(|| t("2027-08-01 01:00:00"));
        svc::announce_in(c, settings, &op, &key, &fallback, ANNOUNCED, day, crate::db::now())?;
        // 4. 建安: reveals and the beacon.
        for (draw, _, _, value) in WITNESSES.iter().filter(|w| w.0 == DRAWN) {
            let ws = crate::db::draw::witnesses(c, draw)?;
            let w = ws.iter().find(|w| w.commitment.as_deref() == Some(crate::draw::input::commitment_of(&w.source_name, value).as_str()));
            let w = w.ok_or_else(|| AppError::internal("demo witness"))?;
            svc::reveal_in(c, &format!("witness:{draw}:{}", w.source_name), w, value, t("2023-09-15 11:00:10"))?;
        }
        svc::beacon_in(c, &op, DRAWN, ROUND_657413, "typed")?;
        Ok(())
    })?;
    // 5. The run, stored once, and publication.
    svc::run_blocking(db, &op, DRAWN)?;
    db.write_blocking(|c| svc::publish_in(c, settings, &op, DRAWN, t("2023-09-15 11:30:00")).map(|_| ()))?;
    Ok(())
}
