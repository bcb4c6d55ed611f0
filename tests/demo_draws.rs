//! Issue 11 item 8: the demo county (the README's first command) holds one
//! finished, published draw — 建安片区, beacon quicknet round 657413 — and
//! one announced and waiting for its witnesses — 德苑片区 — on both backends.
//! Issue 12 item 8: and the first grade after its draw — results with their
//! explanations, a declined offer that moved a waitlist, two administrative
//! placements, admission notices, the indicators, the families' messages.

mod common;

use common::staff::{page_login, token};
use common::*;
use diesel::prelude::*;
use serde_json::Value;

async fn get(app: &TestApp, path: &str) -> (u16, String) {
    let r = app.client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

backend_test! {
    #[tokio::test]
    async fn the_demo_has_a_published_draw_and_one_waiting_for_witnesses(backend) {
        let app = spawn_app_with(backend, true, &[("RUXUE__DEMO__DRAWS", "true")]).await;
        let (s, list) = get(&app, "/api/v1/draws").await;
        assert_eq!(s, 200);
        let list: Value = serde_json::from_str(&list).unwrap();
        let draws = list["draws"].as_array().unwrap();
        assert_eq!(draws.len(), 3, "{list}");
        let ja = draws.iter().find(|d| d["id"] == "2027-G7-Z-JA").unwrap();
        let dy = draws.iter().find(|d| d["id"] == "2027-G7-Z-DY").unwrap();
        assert_eq!((ja["status"].as_str(), ja["published"].as_bool(), ja["beacon_round"].as_i64()), (Some("drawn"), Some(true), Some(657413)), "{ja}");
        assert_eq!(ja["schools"].as_array().unwrap().len(), 3);
        assert_eq!(dy["status"], "announced", "{dy}");
        assert!(dy["beacon_round"].as_i64().unwrap() > 657413);

        // The published record verifies, and names the real round.
        let (s, record) = get(&app, "/api/v1/draws/2027-G7-Z-JA/record").await;
        assert_eq!(s, 200);
        let v = ruxue::draw::verify(&record).expect("the demo record verifies");
        assert_eq!(v.result_digest, ja["result_digest"].as_str().unwrap());
        assert_eq!(v.checks.beacons.len(), 1);
        assert_eq!(v.checks.beacons[0].round, 657413);
        assert_eq!(v.checks.commitments.len(), 3);

        // The waiting draw: two commitments, none revealed; its round is in the future.
        let (_, d) = get(&app, "/api/v1/draws/2027-G7-Z-DY").await;
        let d: Value = serde_json::from_str(&d).unwrap();
        let ws = d["witnesses"].as_array().unwrap();
        assert_eq!(ws.len(), 2);
        assert!(ws.iter().all(|w| w["commitment"].is_string() && w["value"].is_null()), "{d}");
        let (s, _) = get(&app, "/api/v1/draws/2027-G7-Z-DY/record").await;
        assert_eq!(s, 409, "no record before the draw");

        // Both campaigns are past review: the seventh grade on its draw day,
        // the first grade after its draw.
        let op = token(&app, "operator", "ruxue-demo-operator").await;
        for c in ["2027-G7", "2027-G1"] {
            let p: Value = app.client.get(app.url(&format!("/api/v1/staff/draws/plan?campaign={c}"))).bearer_auth(&op).send().await.unwrap().json().await.unwrap();
            assert_eq!(p["final"], true, "{p}");
        }
        after_the_draw(&app, draws, &op).await;

        // The whole day is in an unbroken audit chain.
        let mut c = app.state.db.pool.get().unwrap();
        let chain = ruxue::db::audit::verify(&mut c).unwrap();
        assert!(chain.broken.is_none());
    }
}

/// The first grade after its draw (`demo::after_draw`), as `serve --demo` shows it.
async fn after_the_draw(app: &TestApp, draws: &[Value], op: &str) {
    use ruxue::db::schema;
    let g1 = draws.iter().find(|d| d["id"].as_str().unwrap().starts_with("2027-G1-")).expect("the first grade's draw");
    assert_eq!(g1["published"], true, "{g1}");
    let draw_id = g1["id"].as_str().unwrap().to_string();
    let school = g1["schools"][0]["id"].as_str().unwrap().to_string();

    // Every child in the draw reads a result explained against the record.
    let id = draw_id.clone();
    let apps: Vec<String> = app
        .state
        .db
        .run(move |c| {
            Ok(schema::draw_entries::table
                .filter(schema::draw_entries::draw_id.eq(id))
                .select(schema::draw_entries::application_id)
                .load(c)?)
        })
        .await
        .unwrap();
    assert!(apps.len() > 1);
    for a in &apps {
        let a = a.clone();
        let r = app.state.db.run(move |c| ruxue::service::offers::result_in(c, &a, ruxue::db::now())).await.unwrap();
        let d = r.draw.expect("a published draw result");
        assert!(!d.schools.is_empty() && d.schools.iter().all(|l| l.sentence.starts_with("您的孩子在")), "{:?}", d.schools);
        assert!(!r.summary.is_empty());
    }

    // A declined offer moved the school's waitlist, on its public page.
    let (s, moves) = get(app, &format!("/api/v1/results/2027-G1/schools/{school}/moves")).await;
    assert_eq!(s, 200, "{moves}");
    let moves: Value = serde_json::from_str(&moves).unwrap();
    let m = &moves["moves"].as_array().unwrap()[0];
    assert_eq!((m["cause"].as_str(), m["position"].as_i64()), (Some("放弃学位"), Some(1)), "{moves}");
    assert!(m["offered"].is_string(), "{moves}");

    // Two administrative placements, done.
    let v: Value =
        app.client.get(app.url("/api/v1/staff/placements?campaign=2027-G1")).bearer_auth(op).send().await.unwrap().json().await.unwrap();
    let placed: Vec<&Value> = v["placements"].as_array().unwrap().iter().filter(|p| p["status"] == "已安置").collect();
    assert_eq!(placed.len(), 2, "{v}");

    // Admission notices print, the indicators page shows the campaign.
    let r =
        app.client.get(app.url(&format!("/api/v1/staff/notices/schools/{school}?campaign=2027-G1"))).bearer_auth(op).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF"), "a PDF");
    let (c, _) = page_login(app, ("admin", "ruxue-demo-admin")).await;
    let r = c.get(app.url("/staff/indicators?campaign=2027-G1")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("大班额") && html.contains("<svg"), "{html}");

    // The families were told: results, the waitlist offer, the placements, the draw times.
    let counts: Vec<(String, i64)> = app
        .state
        .db
        .run(|c| {
            Ok(schema::notifications::table
                .group_by(schema::notifications::event)
                .select((schema::notifications::event, diesel::dsl::count_star()))
                .load(c)?)
        })
        .await
        .unwrap();
    let count = |e: &str| counts.iter().find(|(k, _)| k == e).map(|(_, n)| *n).unwrap_or(0);
    assert!(count("draw_result") >= apps.len() as i64, "{counts:?}");
    assert_eq!(count("waitlist_offer"), 1, "{counts:?}");
    assert_eq!(count("placement"), 2, "{counts:?}");
    assert!(count("draw_scheduled") > 0 && count("admitted") > 0, "{counts:?}");
}
