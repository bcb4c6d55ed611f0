//! The demo county: a fictional Anxi-like county loaded into an empty
//! database by `ruxue serve --demo`, so a newcomer sees a whole admission
//! season after one command. Every name and ID number is invented; the ID
//! numbers pass the GB 11643 checksum but belong to nobody.

use crate::config::Settings;
use crate::db::models::*;
use crate::db::schema;
use crate::db::{self, Db, DbConn};
use crate::error::AppError;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

pub const TOWNSHIPS: [(&str, &str); 3] = [("FC", "凤城镇"), ("CX", "城厢镇"), ("CN", "参内镇")];

/// (code, name, kind, township code, planned classes)
pub const SCHOOLS: [(&str, &str, &str, &str, i32); 11] = [
    ("P01", "安溪县实验小学", "primary", "FC", 2),
    ("P02", "凤城中心小学", "primary", "FC", 2),
    ("P03", "城厢中心小学", "primary", "CX", 2),
    ("P04", "参内中心小学", "primary", "CN", 2),
    ("P05", "东岳小学", "primary", "FC", 1),
    ("P06", "龙湖小学", "primary", "CX", 1),
    ("J01", "安溪县第八中学", "junior", "FC", 1),
    ("J02", "安溪县第十一中学", "junior", "FC", 1),
    ("J03", "安溪县恒兴中学", "junior", "CX", 1),
    ("J04", "安溪县第三中学", "junior", "CX", 1),
    ("J05", "安溪县第六中学", "junior", "CN", 1),
];

/// (code, name, member school codes in announced order)
pub const ZONES: [(&str, &str, &[&str]); 2] =
    [("Z-JA", "建安片区", &["J01", "J02", "J03"]), ("Z-DY", "德苑片区", &["J04", "J05"])];

pub const G1_CAMPAIGN: &str = "2027-G1";
pub const G7_CAMPAIGN: &str = "2027-G7";

fn at(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(h, 0, 0)).unwrap_or_default()
}

/// Loads the demo when the database holds no campaign. Returns whether it loaded.
pub fn load_if_empty(db: &Db, settings: &Settings) -> Result<bool, AppError> {
    db.write_blocking(|conn| {
        let n: i64 = schema::campaigns::table.count().get_result(conn)?;
        if n > 0 {
            return Ok(false);
        }
        load(conn, settings)?;
        Ok(true)
    })
}

fn load(conn: &mut DbConn, settings: &Settings) -> Result<(), AppError> {
    let now = db::now();
    for (code, name) in TOWNSHIPS {
        diesel::insert_into(schema::townships::table)
            .values(Township { id: code.into(), code: code.into(), name: name.into() })
            .execute(conn)?;
    }
    for (code, name, kind, township, _) in SCHOOLS {
        diesel::insert_into(schema::schools::table)
            .values(School {
                id: code.into(),
                code: code.into(),
                name: name.into(),
                kind: kind.into(),
                township_id: township.into(),
                address: String::new(),
            })
            .execute(conn)?;
    }
    for (id, grade, name) in [(G1_CAMPAIGN, 1, "2027年秋季城区小学一年级招生"), (G7_CAMPAIGN, 7, "2027年秋季七年级片区招生")] {
        diesel::insert_into(schema::campaigns::table)
            .values(Campaign {
                id: id.into(),
                year: 2027,
                grade,
                name: name.into(),
                status: "review".into(),
                registration_opens: at(2027, 7, 1, 8),
                registration_closes: at(2027, 7, 15, 18),
                review_deadline: at(2027, 7, 25, 18),
                draw_day: at(2027, 8, 1, 9),
                offer_deadline: at(2027, 8, 10, 18),
                min_age: if grade == 1 { 6 } else { 11 },
                max_age: if grade == 1 { 9 } else { 15 },
                age_cutoff: "08-31".into(),
                policy_toml: String::new(),
                policy_version: "2027.1".into(),
                policy_frozen_at: Some(at(2027, 7, 1, 8)),
                four_eyes: true,
                created_at: now,
            })
            .execute(conn)?;
    }
    for (code, _, kind, _, classes) in SCHOOLS {
        let (campaign, cap) = if kind == "primary" {
            (G1_CAMPAIGN, settings.admission.class_cap_primary)
        } else {
            (G7_CAMPAIGN, settings.admission.class_cap_junior)
        };
        diesel::insert_into(schema::school_plans::table)
            .values(SchoolPlan {
                campaign_id: campaign.into(),
                school_id: code.into(),
                planned_classes: classes,
                class_size_cap: cap,
            })
            .execute(conn)?;
    }
    for (code, name, members) in ZONES {
        let zone_id = format!("{G7_CAMPAIGN}-{code}");
        diesel::insert_into(schema::zones::table)
            .values(Zone { id: zone_id.clone(), campaign_id: G7_CAMPAIGN.into(), code: code.into(), name: name.into() })
            .execute(conn)?;
        for (i, s) in members.iter().enumerate() {
            diesel::insert_into(schema::zone_schools::table)
                .values(ZoneSchool { zone_id: zone_id.clone(), school_id: (*s).into(), position: i as i32 })
                .execute(conn)?;
        }
    }
    db::audit::append(conn, "system", "demo.load", "database", None, Some(&serde_json::json!({"campaigns": [G1_CAMPAIGN, G7_CAMPAIGN]})))?;
    Ok(())
}
