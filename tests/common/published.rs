//! Published draws for tests (issue #12): the lead's `freeze_in` and
//! `publish_in`, with the announcement, the witness's value and the beacon
//! written directly (a real announcement must name a future beacon round;
//! these use quicknet round 657413, whose signature is known).
#![allow(dead_code)]

use super::TestApp;
use diesel::prelude::*;
use ruxue::db::schema;

/// drand quicknet round 657413 (beacon-drand.md).
pub const BEACON_657413: &str = "b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be41076862b98fad56e91a6b85b89cd97b";

/// Moves the campaign to its draw phase (review closed) without the
/// lifecycle checks, which are not under test here.
pub fn to_draw_phase(app: &TestApp, campaign: &str) {
    let c = campaign.to_string();
    app.state
        .db
        .write_blocking(move |conn| {
            diesel::update(schema::campaigns::table.filter(schema::campaigns::id.eq(&c)))
                .set(schema::campaigns::status.eq(ruxue::domain::CampaignStatus::Draw))
                .execute(conn)?;
            Ok(())
        })
        .expect("phase");
}

/// The first unit (school before zone) of a campaign that needs a draw.
pub fn unit_needing_draw(app: &TestApp, campaign: &str, kind: &str) -> String {
    let c = campaign.to_string();
    let plan = app.state.db.write_blocking(move |conn| ruxue::service::draw::plan_in(conn, &c)).expect("plan");
    plan.proposals.iter().find(|p| p.needs_draw() && p.kind == kind).map(|p| p.id.clone()).expect("a unit that needs a draw")
}

/// Freezes, "announces", computes and publishes one unit's draw (the
/// demo's own step, `ruxue::demo::publish_draw`); returns the draw id.
pub fn publish(app: &TestApp, campaign: &str, unit: &str, witness_value: &str) -> String {
    let (c, u, w, s) = (campaign.to_string(), unit.to_string(), witness_value.to_string(), app.state.settings.clone());
    app.state.db.write_blocking(move |conn| ruxue::demo::publish_draw(conn, &s, &c, &u, &w, ruxue::db::now())).expect("draw published")
}

/// The published record of a draw.
pub fn record(app: &TestApp, draw_id: &str) -> serde_json::Value {
    let id = draw_id.to_string();
    let text: Option<String> = app
        .state
        .db
        .write_blocking(move |conn| {
            Ok(schema::draws::table.filter(schema::draws::id.eq(&id)).select(schema::draws::record_json).first(conn)?)
        })
        .expect("record");
    serde_json::from_str(&text.expect("drawn")).unwrap()
}

/// `registration_no → application_id` of a draw.
pub fn entries(app: &TestApp, draw_id: &str) -> std::collections::BTreeMap<String, String> {
    let id = draw_id.to_string();
    app.state
        .db
        .write_blocking(move |conn| {
            Ok(schema::draw_entries::table
                .filter(schema::draw_entries::draw_id.eq(&id))
                .select((schema::draw_entries::registration_no, schema::draw_entries::application_id))
                .load::<(String, String)>(conn)?)
        })
        .expect("entries")
        .into_iter()
        .collect()
}

/// Logs a client in as the guardian of an application (the demo's
/// guardians get a development openid for it).
pub async fn guardian_client(app: &TestApp, app_id: &str) -> (reqwest::Client, String) {
    let (id, tag) = (app_id.to_string(), format!("after-{}", &app_id[..12.min(app_id.len())]));
    let t2 = tag.clone();
    app.state
        .db
        .write(move |conn| {
            let child: String =
                schema::applications::table.filter(schema::applications::id.eq(&id)).select(schema::applications::child_id).first(conn)?;
            let g: String =
                schema::children::table.filter(schema::children::id.eq(&child)).select(schema::children::guardian_id).first(conn)?;
            diesel::update(schema::guardians::table.filter(schema::guardians::id.eq(&g)))
                .set(schema::guardians::openid.eq(format!("dev-{t2}")))
                .execute(conn)?;
            Ok(())
        })
        .await
        .expect("guardian openid");
    let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
    let r = c.post(app.url("/parent/dev-login")).form(&[("openid", tag.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "dev login");
    let s: serde_json::Value = c.get(app.url("/api/v1/registration/session")).send().await.unwrap().json().await.unwrap();
    (c, s["csrf_token"].as_str().unwrap_or_default().to_string())
}

/// Logs a headless browser in as the guardian of an application, through
/// the dev login form (as [`guardian_client`] does for a plain client).
pub async fn guardian_browser(app: &TestApp, b: &super::browser::Browser, app_id: &str) {
    // The same openid as guardian_client, which also sets it on the guardian.
    let _ = guardian_client(app, app_id).await;
    let tag = format!("after-{}", &app_id[..12.min(app_id.len())]);
    b.client.goto(&app.url("/parent/dev-login")).await.unwrap();
    b.find_css("#openid").await.send_keys(&tag).await.unwrap();
    b.find_css("button[type=submit]").await.click().await.unwrap();
    b.find_css("a[href='/parent/profile']").await;
}

/// A published draw on the demo county, and one child it admitted at a
/// school with a waitlist: `(draw id, school id, registration number, application id)`.
pub fn demo_draw_with_admitted(app: &TestApp, campaign: &str) -> (String, String, String, String) {
    to_draw_phase(app, campaign);
    let unit = unit_needing_draw(app, campaign, "school");
    let draw_id = publish(app, campaign, &unit, "73920145");
    let rec = record(app, &draw_id);
    let (school, admitted) = rec["result"]["assignments"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(s, v)| !v.as_array().unwrap().is_empty() && !rec["result"]["waitlists"][s.as_str()].as_array().unwrap().is_empty())
        .map(|(s, v)| (s.clone(), v.clone()))
        .expect("a school with offers and a waitlist");
    let no = admitted[0].as_str().unwrap().to_string();
    let app_id = entries(app, &draw_id)[&no].clone();
    (draw_id, school, no, app_id)
}

/// The first school of a record with an admitted child, and its admitted
/// registration numbers (a JSON array).
pub fn first_admitted(rec: &serde_json::Value) -> (&String, &serde_json::Value) {
    rec["result"]["assignments"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, v)| !v.as_array().unwrap().is_empty())
        .expect("a school with an admitted child")
}

/// The child's ID number of an application (decrypted), for the public lookup.
pub fn id_number(app: &TestApp, app_id: &str) -> String {
    let id = app_id.to_string();
    let enc: String = app
        .state
        .db
        .write_blocking(move |c| {
            let child: String =
                schema::applications::table.filter(schema::applications::id.eq(&id)).select(schema::applications::child_id).first(c)?;
            Ok(schema::children::table.filter(schema::children::id.eq(&child)).select(schema::children::id_number_enc).first(c)?)
        })
        .expect("id number");
    app.state.ctx.cipher().decrypt(&enc).expect("decrypts")
}
