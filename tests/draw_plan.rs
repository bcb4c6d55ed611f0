//! Issue 11, item 1 (planning): which schools and zones need a public draw,
//! from the approved applications and the seats, over the real server on
//! both backends.

mod common;

use common::*;
use diesel::prelude::*;
use ruxue::db::schema;
use serde_json::Value;

use common::staff::token;

async fn plan(app: &TestApp, token: &str, campaign: &str) -> (u16, Value) {
    let r = app.client.get(app.url(&format!("/api/v1/staff/draws/plan?campaign={campaign}"))).bearer_auth(token).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn approved(app: &TestApp, campaign: &'static str) -> i64 {
    app.state
        .db
        .run(move |c| {
            Ok(schema::applications::table
                .filter(schema::applications::campaign_id.eq(campaign))
                .filter(schema::applications::status.eq("approved"))
                .count()
                .get_result(c)?)
        })
        .await
        .unwrap()
}

backend_test! {
    #[tokio::test]
    async fn the_plan_names_every_draw_and_accounts_for_every_approved_child(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let op = token(&app, "operator", "ruxue-demo-operator").await;
        for campaign in ["2027-G1", "2027-G7"] {
            let (s, p) = plan(&app, &op, campaign).await;
            assert_eq!(s, 200, "{p}");
            assert_eq!(p["final"], false, "review is still open in the demo: {p}");
            let list = p["proposals"].as_array().unwrap();
            let counted: i64 = list.iter().map(|x| x["applicants"].as_i64().unwrap()).sum::<i64>() + p["without_school"].as_i64().unwrap();
            assert_eq!(counted, approved(&app, campaign).await, "{campaign}: every approved child is in one unit");
            for x in list {
                let (seats, n) = (x["seats"].as_i64().unwrap(), x["applicants"].as_i64().unwrap());
                match x["decision"].as_str().unwrap() {
                    "admits_all" => assert!(n <= seats && x["kind"] == "school", "{x}"),
                    "school_draw" => {
                        assert!(n > seats && x["kind"] == "school", "{x}");
                        let certain = x["certain"].as_i64().unwrap();
                        assert!(certain + x["tier_seats"].as_i64().unwrap() == seats || x["tier_seats"] == 0, "{x}");
                        assert_eq!(certain + x["tied"].as_i64().unwrap() + x["below"].as_i64().unwrap(), n, "{x}");
                    }
                    "zone_draw" => assert!(x["kind"] == "zone" && n > 0, "{x}"),
                    other => panic!("unknown decision {other}"),
                }
                assert!(!x["summary"].as_str().unwrap().is_empty());
            }
            if campaign == "2027-G7" {
                assert!(list.iter().any(|x| x["decision"] == "zone_draw"), "the seventh-grade zones draw: {p}");
            }
        }

        // Cut 安溪县实验小学 (P01) to one class of two: it must draw.
        app.state
            .db
            .write(|c| {
                diesel::update(
                    schema::school_plans::table
                        .filter(schema::school_plans::campaign_id.eq("2027-G1"))
                        .filter(schema::school_plans::school_id.eq("P01")),
                )
                .set((schema::school_plans::planned_classes.eq(1), schema::school_plans::class_size_cap.eq(2)))
                .execute(c)?;
                Ok(())
            })
            .await
            .unwrap();
        let (_, p) = plan(&app, &op, "2027-G1").await;
        let p01 = p["proposals"].as_array().unwrap().iter().find(|x| x["id"] == "P01").unwrap().clone();
        assert_eq!(p01["seats"], 2);
        assert_eq!(p01["decision"], "school_draw", "{p01}");
        assert!(p01["summary"].as_str().unwrap().contains("电脑派位争取"), "{p01}");

        // The command line prints the same plan.
        let cli = |args: &[&str]| {
            let mut cmd = std::process::Command::new(ruxue_bin());
            cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
            for (k, _) in std::env::vars() {
                if k.starts_with("RUXUE") {
                    cmd.env_remove(k);
                }
            }
            cmd.env("RUXUE__DATABASE__URL", &app.db.url).output().expect("run ruxue")
        };
        let out = cli(&["draw", "plan", "2027-G1"]);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(out.status.code(), Some(0), "{text} {}", String::from_utf8_lossy(&out.stderr));
        assert!(text.contains("派位 安溪县实验小学") && text.contains("审核尚未结束"), "{text}");
        let out = cli(&["draw", "plan", "2027-G1", "--json"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["draws_needed"], p["draws_needed"]);
        let out = cli(&["draw", "plan", "1999-G1"]);
        assert_eq!(out.status.code(), Some(1), "an unknown campaign is refused");

        // Who may read it, and bad input.
        let rev = token(&app, "reviewer-fc", "ruxue-demo-reviewer").await;
        assert_eq!(plan(&app, &rev, "2027-G1").await.0, 403);
        let (s, b) = plan(&app, &op, "1999-G1").await;
        assert_eq!((s, b["error"]["field"].as_str()), (422, Some("campaign")), "{b}");
    }
}
