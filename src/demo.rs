//! The demo county: a fictional Anxi-like county loaded into an empty
//! database by `ruxue serve --demo`, so a newcomer sees a whole admission
//! season after one command. Every name and ID number is invented; the ID
//! numbers pass the GB 11643 checksum but belong to nobody.

use crate::catchment::{Address, Target};
use crate::config::Settings;
use crate::db::models::*;
use crate::db::schema;
use crate::db::{self, Db, DbConn};
use crate::error::AppError;
use crate::policy::{ApplicantFacts, Migrant, OwnerRelation, Property};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

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

/// (code, longitude, latitude): where the demo's schools stand (WGS-84,
/// illustrative points around 安溪县城), for the placement proposals.
pub const SCHOOL_POINTS: [(&str, f64, f64); 11] = [
    ("P01", 118.1862, 25.0587),
    ("P02", 118.1905, 25.0531),
    ("P03", 118.1538, 25.0702),
    ("P04", 118.2214, 25.1012),
    ("P05", 118.1998, 25.0612),
    ("P06", 118.1420, 25.0605),
    ("J01", 118.1880, 25.0622),
    ("J02", 118.1941, 25.0498),
    ("J03", 118.1575, 25.0668),
    ("J04", 118.1493, 25.0744),
    ("J05", 118.2250, 25.0977),
];

/// (code, name, member school codes in announced order)
pub const ZONES: [(&str, &str, &[&str]); 2] = [("Z-JA", "建安片区", &["J01", "J02", "J03"]), ("Z-DY", "德苑片区", &["J04", "J05"])];

pub const G1_CAMPAIGN: &str = "2027-G1";
pub const G7_CAMPAIGN: &str = "2027-G7";

fn at(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(h, 0, 0)).unwrap_or_default()
}

/// Loads the demo when the database holds no campaign. Returns whether it loaded.
/// With `demo.draws`, the seventh-grade draw day follows ([`crate::demo_draws`]),
/// then the first grade's draw and what comes after it ([`after_draw`]).
pub fn load_if_empty(db: &Db, settings: &Settings) -> Result<bool, AppError> {
    let loaded = db.write_blocking(|conn| {
        let n: i64 = schema::campaigns::table.count().get_result(conn)?;
        if n > 0 {
            return Ok(false);
        }
        load(conn, settings)?;
        Ok(true)
    })?;
    if loaded && settings.demo.draws {
        crate::demo_draws::load(db, settings)?;
        after_draw(db, settings)?;
    }
    if loaded {
        // Chain the demo's audit entries now (on PostgreSQL they wait for the
        // sealer of `ruxue serve` otherwise).
        let mut c = db.get()?;
        db::audit::seal(&mut c, true)?;
    }
    Ok(loaded)
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
    for (code, lon, lat) in SCHOOL_POINTS {
        diesel::update(schema::schools::table.filter(schema::schools::id.eq(code)))
            .set((schema::schools::lat.eq(Some(lat)), schema::schools::lon.eq(Some(lon))))
            .execute(conn)?;
    }
    for (id, grade, name) in [(G1_CAMPAIGN, 1, "2027年秋季城区小学一年级招生"), (G7_CAMPAIGN, 7, "2027年秋季七年级片区招生")]
    {
        diesel::insert_into(schema::campaigns::table)
            .values(Campaign {
                id: id.into(),
                year: 2027,
                grade,
                name: name.into(),
                status: crate::domain::CampaignStatus::Review,
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
                supplement_expiry: crate::domain::SupplementExpiry::Reject,
                appeal_days: 5,
                offer_days: 7,
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
            .values(SchoolPlan { campaign_id: campaign.into(), school_id: code.into(), planned_classes: classes, class_size_cap: cap })
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
    let policy_toml = demo_policy_toml();
    diesel::update(schema::campaigns::table).set(schema::campaigns::policy_toml.eq(&policy_toml)).execute(conn)?;
    let policy = crate::policy::Policy::load_toml(&policy_toml).map_err(|e| AppError::internal(format!("demo policy: {e}")))?;
    let rules = crate::catchment::demo_rules();
    for (position, rule) in rules.iter().enumerate() {
        let (campaign, school, zone) = match &rule.target {
            Target::School(s) => (G1_CAMPAIGN, Some(s.clone()), None),
            Target::Zone(z) => (G7_CAMPAIGN, None, Some(format!("{G7_CAMPAIGN}-{z}"))),
        };
        db::catchment::insert_rule(conn, campaign, position, rule, school, zone)?;
    }
    let cipher = crate::identity::crypto::IdCipher::new(&settings.id_key());
    let directory = crate::catchment::demo_directory();
    let primary = crate::catchment::demo_primary_rules();
    let junior = crate::catchment::demo_junior_rules();
    let mut rng = ChaCha8Rng::seed_from_u64(2027);
    let mut counts = (0usize, 0usize);
    let mut previous = None;
    for spec in applicant_specs(&mut rng) {
        let ctx = crate::policy::CatchmentContext { rules: if spec.grade == 1 { &primary } else { &junior }, directory: &directory };
        insert_applicant(conn, &cipher, &policy, &ctx, &spec, &mut rng, &mut previous, now)?;
        if spec.grade == 1 {
            counts.0 += 1
        } else {
            counts.1 += 1
        }
    }
    if settings.environment != crate::config::Environment::Production {
        load_demo_staff(conn)?;
    }
    db::audit::append(
        conn,
        "system",
        "demo.load",
        "database",
        None,
        Some(
            &serde_json::json!({"campaigns": [G1_CAMPAIGN, G7_CAMPAIGN], "applicants_g1": counts.0, "applicants_g7": counts.1, "rules": rules.len()}),
        ),
    )?;
    Ok(())
}

/// Demo staff accounts (username, display name, role, townships, password).
/// The passwords are published in the README: never load these in production.
pub const DEMO_STAFF: [(&str, &str, &str, &[&str], &str); 6] = [
    ("admin", "陈招生（教育局）", "admin", &[], "ruxue-demo-admin"),
    ("reviewer-fc", "林审核（凤城镇）", "reviewer", &["FC"], "ruxue-demo-reviewer"),
    ("reviewer-fc2", "王复核（凤城镇）", "reviewer", &["FC"], "ruxue-demo-reviewer"),
    ("reviewer-cx", "黄审核（城厢镇、参内镇）", "reviewer", &["CX", "CN"], "ruxue-demo-reviewer"),
    ("operator", "苏派位（教育局）", "operator", &[], "ruxue-demo-operator"),
    ("auditor", "张督导（督导室）", "auditor", &[], "ruxue-demo-auditor"),
];

/// Adds the demo staff accounts.
pub fn load_demo_staff(conn: &mut DbConn) -> Result<(), AppError> {
    for (username, name, role, scope, password) in DEMO_STAFF {
        let scope: Vec<String> = scope.iter().map(|s| s.to_string()).collect();
        let n = crate::service::staff::validate_new(username, name, role, &scope, password)?;
        let hash = crate::staff::auth::hash_password(password).map_err(AppError::internal)?;
        crate::service::staff::create_in(conn, "system", &n, &hash)?;
    }
    Ok(())
}

/// The demo policy, with its cut-off dates moved to the demo campaign's year.
pub fn demo_policy_toml() -> String {
    crate::policy::DEMO_POLICY_TOML.replace("2019-08-31", "2027-08-31").replace("version = \"2019.1\"", "version = \"2027.1\"")
}

/// One invented applicant, before names and numbers are drawn.
struct Spec {
    grade: i32,
    facts: ApplicantFacts,
    /// A twin: same guardian and birth date as the previous applicant.
    twin_of_previous: bool,
    status: &'static str,
}

/// (township, community, road, highest house number) where demo families live.
const STREETS: [(&str, Option<&str>, &str, u32); 8] = [
    ("凤城镇", Some("东岳社区"), "二环路", 260),
    ("凤城镇", Some("大同社区"), "大同路", 200),
    ("凤城镇", Some("河滨社区"), "河滨路", 150),
    ("凤城镇", None, "祥云路", 120),
    ("凤城镇", None, "凤冠路", 220),
    ("凤城镇", Some("城东社区"), "城东路", 90),
    ("城厢镇", Some("城厢社区"), "城厢路", 160),
    ("参内镇", Some("参内村"), "参内路", 80),
];
const COMPOUNDS: [(&str, &str, u32); 2] = [("凤城镇", "中骏四季阳光", 18), ("城厢镇", "世茂云城", 20)];
const CARE: [&str; 3] = ["军人", "公安英模", "高层次人才"];

fn random_address(rng: &mut ChaCha8Rng) -> Address {
    if rng.gen_ratio(1, 6) {
        let (t, c, max) = COMPOUNDS[rng.gen_range(0..COMPOUNDS.len())];
        let b = rng.gen_range(1..=max);
        Address { township: Some(t.into()), compound: Some(c.into()), building: Some(format!("{b}号楼")), ..Default::default() }
    } else {
        let (t, c, r, max) = STREETS[rng.gen_range(0..STREETS.len())];
        Address {
            township: Some(t.into()),
            community: c.map(Into::into),
            road: Some(r.into()),
            number: Some(rng.gen_range(1..=max)),
            ..Default::default()
        }
    }
}

fn applicant_specs(rng: &mut ChaCha8Rng) -> Vec<Spec> {
    let mut out = Vec::new();
    let statuses = |rng: &mut ChaCha8Rng| -> &'static str {
        match rng.gen_range(0..100) {
            0..=79 => "approved",
            80..=87 => "under_review",
            88..=92 => "submitted",
            93..=96 => "supplement",
            _ => "rejected",
        }
    };
    for (grade, n) in [(1, 420usize), (7, 90usize)] {
        let prefix = if grade == 1 { G1_CAMPAIGN } else { G7_CAMPAIGN };
        let mut i = 0usize;
        while i < n {
            let no = format!("{prefix}-{:05}", i + 1);
            let mut f = ApplicantFacts::new(&no);
            let home = random_address(rng);
            // Categories: 房户一致, 户籍 only, 房产 only, 随迁子女, others.
            match rng.gen_range(0..100) {
                0..=34 => {
                    f.hukou = Some(home.clone());
                    f.property = Some(property(rng, home, i));
                }
                35..=54 => f.hukou = Some(home),
                55..=69 => f.property = Some(property(rng, home, i)),
                70..=92 => {
                    let months = rng.gen_range(3..=84);
                    let start = NaiveDate::from_ymd_opt(2027, 8, 31).unwrap_or_default() - chrono::Months::new(months);
                    f.migrant = Some(Migrant {
                        permit_no: format!("35052400{:08}", rng.gen_range(0..100_000_000u32)),
                        residence_start: start,
                        permit_issued_on: Some(start + chrono::Days::new(rng.gen_range(5..60))),
                        social_insurance_months: rng.gen_range(0..=months),
                        residence_address: Some(home),
                    });
                }
                _ => {
                    f.hukou = Some(Address {
                        township: Some("蓬莱镇".into()),
                        road: Some("蓬莱路".into()),
                        number: Some(8),
                        ..Default::default()
                    })
                }
            }
            if rng.gen_ratio(1, 60) {
                f.care_category = Some(CARE[rng.gen_range(0..CARE.len())].into());
            }
            f.disability_support = rng.gen_ratio(1, 80);
            f.left_behind = rng.gen_ratio(1, 40);
            if grade == 1 && rng.gen_ratio(1, 25) {
                f.sibling_school_id = Some(["P01", "P02", "P05"][rng.gen_range(0..3)].into());
            }
            let status = statuses(rng);
            // About one family in forty has twins (a second applicant with the same facts).
            let twins = i + 1 < n && rng.gen_ratio(1, 40);
            if twins {
                f.family_id = Some(no.clone());
            }
            out.push(Spec { grade, facts: f.clone(), twin_of_previous: false, status });
            i += 1;
            if twins {
                let mut g = f;
                g.application_no = format!("{prefix}-{:05}", i + 1);
                out.push(Spec { grade, facts: g, twin_of_previous: true, status });
                i += 1;
            }
        }
    }
    out
}

fn property(rng: &mut ChaCha8Rng, address: Address, i: usize) -> Property {
    let owner = match rng.gen_range(0..10) {
        0..=4 => OwnerRelation::Father,
        5..=7 => OwnerRelation::Mother,
        _ => OwnerRelation::Grandparent,
    };
    Property {
        address,
        certificate_no: format!("闽(2026)安溪县不动产权第{:07}号", 100 + i),
        owner_relation: owner,
        acquired_on: NaiveDate::from_ymd_opt(2015 + rng.gen_range(0..11), rng.gen_range(1..=12), 1),
    }
}

struct Previous {
    guardian_id: String,
    birth: NaiveDate,
    surname: String,
}

#[allow(clippy::too_many_arguments)]
fn insert_applicant(
    conn: &mut DbConn,
    cipher: &crate::identity::crypto::IdCipher,
    policy: &crate::policy::Policy,
    ctx: &crate::policy::CatchmentContext<'_>,
    spec: &Spec,
    rng: &mut ChaCha8Rng,
    previous: &mut Option<Previous>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    use crate::identity::{crypto, idcard, names};
    let campaign = if spec.grade == 1 { G1_CAMPAIGN } else { G7_CAMPAIGN };
    let prev = previous.take();
    let (guardian_id, birth, surname) = match prev {
        Some(p) if spec.twin_of_previous => (p.guardian_id, p.birth, p.surname),
        _ => {
            let guardian_id = db::new_id();
            let surname = names::fictional_surname(rng).to_string();
            let n = rng.gen_range(0..1000u32);
            diesel::insert_into(schema::guardians::table)
                .values(Guardian {
                    id: guardian_id.clone(),
                    openid: format!("demo-openid-{}", spec.facts.application_no),
                    unionid: None,
                    name: names::fictional_name_with_surname(rng, &surname),
                    relation: if rng.gen_bool(0.5) { "父亲".into() } else { "母亲".into() },
                    phone: format!("1380595{n:04}"),
                    created_at: now,
                    updated_at: now,
                    email: None,
                    notify_channels: "wechat".into(),
                })
                .execute(conn)?;
            // Six full years by 31 August 2027 (grade 1) or twelve (grade 7).
            let year = if spec.grade == 1 { 2020 } else { 2014 };
            let birth = NaiveDate::from_ymd_opt(year, 9, 1).unwrap_or_default() + chrono::Days::new(rng.gen_range(0..365));
            (guardian_id, birth, surname)
        }
    };
    let sex = idcard::random_sex(rng);
    let id_number = idcard::fictional_id(rng, "350524", birth, sex);
    let child_id = db::new_id();
    diesel::insert_into(schema::children::table)
        .values(Child {
            id: child_id.clone(),
            campaign_id: campaign.into(),
            guardian_id: guardian_id.clone(),
            name: names::fictional_name_with_surname(rng, &surname),
            id_number_enc: cipher.encrypt(&id_number),
            id_number_hash: cipher.lookup_hash(&id_number),
            id_number_masked: crypto::mask_id(&id_number),
            birth_date: birth,
            sex: sex.label().into(),
            created_at: now,
        })
        .execute(conn)?;
    *previous = Some(Previous { guardian_id, birth, surname });

    let mut status = spec.status;
    let (mut school, mut zone, mut category, mut key, mut explanation) = (None, None, None, None, None);
    // Same rule as a submission: the township of the deciding address.
    let towns: Vec<(String, String)> = TOWNSHIPS.iter().map(|(c, n)| (c.to_string(), n.to_string())).collect();
    let township;
    match crate::policy::compute_keys(&spec.facts, policy, ctx) {
        Ok(keys) => {
            township = crate::review::scope::review_township(&spec.facts, keys.schools.first(), &towns);
            if let Some(best) = keys.schools.first() {
                if status == "approved" {
                    category = Some(best.category_code.clone());
                    key = Some(serde_json::to_string(&best.key).map_err(AppError::internal)?);
                    explanation = Some(best.explanation.clone());
                }
                match &best.zone_id {
                    Some(z) => zone = Some(format!("{campaign}-{z}")),
                    None => school = Some(best.school_id.clone()),
                }
            } else if status == "approved" {
                // No catchment school: the bureau places the child (统筹).
                category = Some("E".into());
                explanation = Some(keys.notes.first().cloned().unwrap_or_else(|| "无对口学校，由教育局统筹安排".into()));
            }
        }
        Err(_) => {
            township = crate::review::scope::review_township(&spec.facts, None, &towns);
            if status == "approved" {
                status = "under_review";
            }
        }
    }
    let app_id = db::new_id();
    diesel::insert_into(schema::applications::table)
        .values(Application {
            id: app_id.clone(),
            campaign_id: campaign.into(),
            child_id,
            registration_no: spec.facts.application_no.clone(),
            status: demo_status(status)?,
            facts_json: serde_json::to_string(&spec.facts).map_err(AppError::internal)?,
            family_id: spec.facts.family_id.clone(),
            township_id: township,
            catchment_school_id: school,
            zone_id: zone,
            category,
            priority_json: key,
            explanation,
            idempotency_key: None,
            submitted_at: now,
            updated_at: now,
            version: 1,
            assigned_township_id: None,
        })
        .execute(conn)?;
    let mut events = vec![("submitted", "guardian")];
    if status != "submitted" {
        events.push(("under_review", "system"));
    }
    if !matches!(status, "submitted" | "under_review") {
        events.push((status, "demo-reviewer"));
    }
    for (st, actor) in events {
        diesel::insert_into(schema::application_events::table)
            .values(ApplicationEvent {
                id: db::new_id(),
                application_id: app_id.clone(),
                at: now,
                status: demo_status(st)?,
                actor: actor.into(),
                note: String::new(),
            })
            .execute(conn)?;
    }
    Ok(())
}

fn demo_status(code: &str) -> Result<crate::domain::ApplicationStatus, AppError> {
    crate::domain::ApplicationStatus::parse(code).ok_or_else(|| AppError::internal(format!("demo status {code}")))
}

/// A draw published on the demo county (issue #12): freezes `unit`,
/// announces it with one witness and drand quicknet round 657413 (whose
/// signature is known, so the record verifies offline), computes and
/// publishes it, which makes its offers and waitlists. The announcement is
/// unsigned (`jws` "demo"): a real draw names a future round and is signed.
pub fn publish_draw(
    conn: &mut DbConn,
    settings: &Settings,
    campaign: &str,
    unit: &str,
    witness_value: &str,
    now: chrono::NaiveDateTime,
) -> Result<String, AppError> {
    use crate::draw::day;
    const BEACON_657413: &str = "b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be41076862b98fad56e91a6b85b89cd97b";
    let d = crate::service::draw::freeze_in(conn, "system:demo", campaign, unit, now)?;
    let witnesses = vec![day::WitnessSource {
        name: "witness-1".into(),
        commitment: crate::draw::input::commitment_of("witness-1", witness_value),
        description: "公证员（演示）".into(),
    }];
    let ann = day::announcement(&day::Announce {
        draw_id: &d.id,
        title: &d.title,
        campaign,
        policy: "演示",
        schools_json: &d.schools_json,
        roster_root: &d.roster_root,
        roster_size: d.roster_size as usize,
        witnesses: &witnesses,
        beacon_round: 657_413,
        beacon_time: "2023-09-15 19:00:03",
        scheduled_at: "2023-09-15T19:00:00+08:00",
        fallback: "演示",
    })
    .map_err(|e| AppError::internal(e.to_string()))?;
    let ann_json = String::from_utf8(ann.to_bytes()).expect("CJSON is UTF-8");
    let digest = crate::draw::digest_hex(ann_json.as_bytes());
    let a = crate::db::draw::Announced { scheduled_at: now, beacon_round: 657_413, json: &ann_json, digest: &digest, jws: "demo", at: now };
    crate::db::draw::set_announced(conn, &d.id, &a)?;
    crate::db::draw::set_beacon(conn, &d.id, BEACON_657413)?;
    let values = [("witness-1".to_string(), witness_value.to_string()), (day::BEACON_SOURCE.to_string(), BEACON_657413.to_string())];
    let input = day::input_json(&ann_json, &d.roster_json, &values);
    let computed = crate::draw::compute(&input).map_err(|e| AppError::internal(e.to_string()))?;
    let record = String::from_utf8(computed.record).expect("CJSON is UTF-8");
    let c = crate::db::draw::Computed {
        record: &record,
        record_digest: &computed.record_digest,
        result_digest: &computed.result_digest,
        at: now,
    };
    crate::db::draw::set_record(conn, &d.id, &c)?;
    crate::service::draw::publish_in(conn, settings, "system:demo", &d.id, now)?;
    Ok(d.id)
}

fn demo_staff(conn: &mut DbConn, username: &str) -> Result<crate::staff::Identity, AppError> {
    let (id, name, role): (String, String, crate::domain::Role) = schema::staff::table
        .filter(schema::staff::username.eq(username))
        .select((schema::staff::id, schema::staff::display_name, schema::staff::role))
        .first(conn)?;
    Ok(crate::staff::Identity { id, username: username.into(), display_name: name, role, township_scope: vec![] })
}

/// The demo after the draw (issue #12, item 8; `ruxue demo --after-draw`):
/// 2027-G1 moves to its draw phase, the first over-subscribed school's draw
/// is published (offers, waitlists, explanations), schools that admit
/// everyone get their offers, one family declines (the waitlist moves), and
/// two waitlisted children are placed (统筹), one by two staff members.
/// Part of the demo under `demo.draws` (`ruxue serve --demo`); once done,
/// running it again returns the draw and changes nothing.
pub fn after_draw(db: &Db, settings: &Settings) -> Result<String, AppError> {
    db.write_blocking(|conn| {
        if let Some(done) = crate::db::draw::briefs(conn, Some(G1_CAMPAIGN))?.into_iter().next() {
            return Ok(done.id);
        }
        let now = db::now();
        let c = crate::db::review::campaign(conn, G1_CAMPAIGN)?;
        if c.status == crate::domain::CampaignStatus::Review {
            diesel::update(schema::campaigns::table.filter(schema::campaigns::id.eq(G1_CAMPAIGN)))
                .set(schema::campaigns::status.eq(crate::domain::CampaignStatus::Draw))
                .execute(conn)?;
            crate::db::audit::append(
                conn,
                "system:demo",
                "demo.after_draw",
                &format!("campaign:{G1_CAMPAIGN}"),
                None,
                Some(&serde_json::json!({"status": "draw"})),
            )?;
        }
        let plan = crate::service::draw::plan_in(conn, G1_CAMPAIGN)?;
        let unit = plan
            .proposals
            .iter()
            .find(|p| p.needs_draw() && p.kind == "school")
            .map(|p| p.id.clone())
            .ok_or_else(|| AppError::conflict("no_draw", "演示县没有需要派位的学校"))?;
        let draw_id = publish_draw(conn, settings, G1_CAMPAIGN, &unit, "20270801", now)?;
        crate::service::offers::offer_admit_all_in(conn, settings, "system:demo", G1_CAMPAIGN, now)?;
        // One family declines: the seat goes to the first child waiting.
        let rv =
            crate::admission::parse_record(&crate::db::draw::record(conn, &draw_id)?.unwrap_or_default()).map_err(AppError::internal)?;
        let entries: std::collections::HashMap<String, String> =
            crate::db::offers::entries_of(conn, &draw_id)?.into_iter().map(|(no, app, _)| (no, app)).collect();
        if let Some(first) = rv.assignments.get(&unit).and_then(|v| v.first()) {
            crate::service::offers::respond_in(conn, settings, "system:demo", &entries[first], false, now)?;
        }
        // Two placements of children still waiting, at the school with the most free seats.
        let caps = (settings.admission.class_cap_primary, settings.admission.class_cap_junior);
        let (operator, admin) = (demo_staff(conn, "operator")?, demo_staff(conn, "admin")?);
        let waiting: Vec<String> = rv.unassigned.iter().filter_map(|no| entries.get(no).cloned()).collect();
        let mut placed = 0;
        for app in waiting.iter() {
            if placed == 2 {
                break;
            }
            if crate::db::offers::live_offer(conn, app)?.is_some() {
                continue;
            }
            let view = crate::service::offers::placement_seats(conn, G1_CAMPAIGN, caps)?;
            let Some(school) =
                view.iter().filter(|s| s.free > 0 && s.school_id != unit).max_by_key(|s| (s.free, std::cmp::Reverse(s.school_id.clone())))
            else {
                break;
            };
            let school = school.school_id.clone();
            let reason = if placed == 0 {
                "对口学校学位已满，按就近原则统筹到有空余学位的学校"
            } else {
                "家长申请，经教育局研究统筹安置"
            };
            let p = crate::service::offers::propose_placement_in(conn, settings, &operator, app, &school, reason, caps, now)?;
            if p.status == "pending" {
                crate::service::offers::decide_placement_in(conn, settings, &admin, &p.placement_id, true, caps, now)?;
            }
            placed += 1;
        }
        Ok(draw_id)
    })
}
