//! Issue 11 item 8: the demo county (the README's first command) holds one
//! finished, published draw — 建安片区, beacon quicknet round 657413 — and
//! one announced and waiting for its witnesses — 德苑片区 — on both backends.

mod common;

use common::staff::token;
use common::*;
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
        assert_eq!(draws.len(), 2, "{list}");
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

        // The seventh-grade campaign is in the draw phase, the first grade still in review.
        let op = token(&app, "operator", "ruxue-demo-operator").await;
        let p: Value = app.client.get(app.url("/api/v1/staff/draws/plan?campaign=2027-G7")).bearer_auth(&op).send().await.unwrap().json().await.unwrap();
        assert_eq!(p["final"], true, "{p}");
        let p: Value = app.client.get(app.url("/api/v1/staff/draws/plan?campaign=2027-G1")).bearer_auth(&op).send().await.unwrap().json().await.unwrap();
        assert_eq!(p["final"], false, "{p}");

        // The whole day is in an unbroken audit chain.
        let mut c = app.state.db.pool.get().unwrap();
        let chain = ruxue::db::audit::verify(&mut c).unwrap();
        assert!(chain.broken.is_none());
    }
}
