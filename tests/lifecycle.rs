//! Issue 10, item 8: a campaign's lifecycle over the real server and the
//! command line, on both backends — steps checked (no skipping, no going
//! back, review cannot end while applications or second opinions are
//! pending), permitted steps audited, refusals audited too, only admins
//! change anything; and a new campaign copied from last year's.

mod common;

use common::*;
use diesel::prelude::*;
use ruxue::db::schema;
use serde_json::{json, Value};

const ADMIN: (&str, &str) = ("admin", "ruxue-demo-admin");
const REVIEWER: (&str, &str) = ("reviewer-fc", "ruxue-demo-reviewer");
const OPERATOR: (&str, &str) = ("operator", "ruxue-demo-operator");
const AUDITOR: (&str, &str) = ("auditor", "ruxue-demo-auditor");

use common::staff::{client, page_login};

async fn token(app: &TestApp, who: (&str, &str)) -> String {
    common::staff::token(app, who.0, who.1).await
}

async fn advance(app: &TestApp, token: &str, campaign: &str, body: Value) -> (u16, Value) {
    let r =
        client().post(app.url(&format!("/api/v1/staff/campaigns/{campaign}/advance"))).bearer_auth(token).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn sql(app: &TestApp, statement: &str) {
    use diesel::connection::SimpleConnection;
    let s = statement.to_string();
    app.state.db.run(move |c| c.batch_execute(&s).map_err(ruxue::error::AppError::from)).await.unwrap();
}

async fn status_of(app: &TestApp, campaign: &str) -> String {
    let id = campaign.to_string();
    app.state.db.run(move |c| Ok(schema::campaigns::table.find(id).select(schema::campaigns::status).first::<String>(c)?)).await.unwrap()
}

async fn count_apps(app: &TestApp, campaign: &str, status: &str) -> i64 {
    let (id, st) = (campaign.to_string(), status.to_string());
    app.state
        .db
        .run(move |c| {
            Ok(schema::applications::table
                .filter(schema::applications::campaign_id.eq(id))
                .filter(schema::applications::status.eq(st))
                .count()
                .get_result(c)?)
        })
        .await
        .unwrap()
}

/// (actor, action, target, before, after) of every audit entry, in order.
type Entry = (String, String, String, Option<String>, Option<String>);

async fn audit(app: &TestApp) -> Vec<Entry> {
    app.state
        .db
        .run(|c| {
            use schema::audit_log as a;
            Ok(a::table.order(a::seq.asc()).select((a::actor, a::action, a::target, a::before_json, a::after_json)).load(c)?)
        })
        .await
        .unwrap()
}

fn run_ruxue(args: &[&str], db_url: &str) -> std::process::Output {
    let mut cmd = std::process::Command::new(ruxue_bin());
    cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for (k, _) in std::env::vars() {
        if k.starts_with("RUXUE") {
            cmd.env_remove(k);
        }
    }
    cmd.env("RUXUE__DATABASE__URL", db_url);
    cmd.output().expect("run ruxue")
}

backend_test! {
    #[tokio::test]
    async fn steps_are_checked_audited_and_for_admins_only(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let admin = token(&app, ADMIN).await;
        let submitted = count_apps(&app, "2027-G1", "submitted").await;
        let under_review = count_apps(&app, "2027-G1", "under_review").await;
        assert!(submitted + under_review > 0, "the demo leaves applications to review");

        // The list: every campaign with its phase and what blocks the next one.
        let r = client().get(app.url("/api/v1/staff/campaigns")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let list: Value = r.json().await.unwrap();
        let g1 = list.as_array().unwrap().iter().find(|c| c["id"] == "2027-G1").expect("2027-G1 listed").clone();
        assert_eq!(g1["status"], "review");
        assert_eq!(g1["next"], "draw");
        let blocked: Vec<String> = g1["blocked_by"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        assert!(!blocked.is_empty());

        // Leaving review with applications still to review: refused, naming the counts.
        let (s, body) = advance(&app, &admin, "2027-G1", json!({"to": "draw"})).await;
        assert_eq!(s, 409, "{body}");
        assert_eq!(body["error"]["field"], "status");
        assert_eq!(body["error"]["code"], "campaign_step_refused");
        let msg = body["error"]["message"].as_str().unwrap().to_string();
        if under_review > 0 {
            assert!(msg.contains(&format!("仍有 {under_review} 份申请正在审核中")), "{msg}");
        }
        if submitted > 0 {
            assert!(msg.contains(&format!("仍有 {submitted} 份申请已提交")), "{msg}");
        }
        assert_eq!(status_of(&app, "2027-G1").await, "review");
        // A supplement still open is named too.
        sql(&app, "UPDATE applications SET status = 'supplement' WHERE id IN (SELECT id FROM applications WHERE campaign_id = '2027-G1' AND status = 'under_review' ORDER BY id LIMIT 2)").await;
        let (s, body) = advance(&app, &admin, "2027-G1", json!({"to": "draw"})).await;
        assert_eq!(s, 409);
        let supplement = count_apps(&app, "2027-G1", "supplement").await;
        assert!(body["error"]["message"].as_str().unwrap().contains(&format!("仍有 {supplement} 份申请等待家长补充材料")), "{body}");

        // Skipping a phase, going back, nonsense: refused, nothing changes.
        let (s, body) = advance(&app, &admin, "2027-G1", json!({"to": "offers"})).await;
        assert_eq!(s, 409);
        assert!(body["error"]["message"].as_str().unwrap().contains("不能跳过「派位」"), "{body}");
        let (s, body) = advance(&app, &admin, "2027-G1", json!({"to": "closed"})).await;
        assert_eq!(s, 409, "{body}");
        let (s, body) = advance(&app, &admin, "2027-G1", json!({"to": "registration"})).await;
        assert_eq!(s, 409);
        assert!(body["error"]["message"].as_str().unwrap().contains("退回"), "{body}");
        let (s, body) = advance(&app, &admin, "2027-G1", json!({"to": "review"})).await;
        assert_eq!(s, 409);
        assert!(body["error"]["message"].as_str().unwrap().contains("已处于「审核中」"), "{body}");
        let (s, body) = advance(&app, &admin, "2027-G1", json!({"to": "finished"})).await;
        assert_eq!(s, 422);
        assert_eq!(body["error"]["field"], "to");
        let (s, _) = advance(&app, &admin, "2027-G1", json!({})).await;
        assert_eq!(s, 422);
        let (s, _) = advance(&app, &admin, "no-such-campaign", json!({"to": "draw"})).await;
        assert_eq!(s, 404);
        assert_eq!(status_of(&app, "2027-G1").await, "review");

        // Only admins move campaigns; auditors may look.
        for who in [REVIEWER, OPERATOR, AUDITOR] {
            let t = token(&app, who).await;
            let (s, body) = advance(&app, &t, "2027-G7", json!({"to": "draw"})).await;
            assert_eq!(s, 403, "{}", who.0);
            assert!(body["error"]["message"].as_str().unwrap().contains("权限"));
        }
        for (who, expected) in [(REVIEWER, 403), (OPERATOR, 403), (AUDITOR, 200)] {
            let t = token(&app, who).await;
            let r = client().get(app.url("/api/v1/staff/campaigns")).bearer_auth(&t).send().await.unwrap();
            assert_eq!(r.status(), expected, "{}", who.0);
        }
        let r = client().post(app.url("/api/v1/staff/campaigns/2027-G7/advance")).json(&json!({"to": "draw"})).send().await.unwrap();
        assert_eq!(r.status(), 401);

        // A pending second opinion alone also keeps review open.
        sql(&app, "UPDATE applications SET status = 'approved' WHERE campaign_id = '2027-G7' AND status IN ('submitted', 'under_review', 'supplement')").await;
        let g7_app: String = {
            app.state
                .db
                .run(|c| Ok(schema::applications::table.filter(schema::applications::campaign_id.eq("2027-G7")).select(schema::applications::id).first(c)?))
                .await
                .unwrap()
        };
        sql(&app, "UPDATE review_decisions SET needs_second = FALSE WHERE needs_second = TRUE").await;
        sql(&app, &format!(
            "INSERT INTO review_decisions (id, application_id, reviewer_id, decision, note, needs_second, created_at) \
             SELECT 'lifecycle-second', '{g7_app}', id, 'approve', '改判', TRUE, '2027-07-01 00:00:00' FROM staff WHERE username = 'admin'"
        )).await;
        let (s, body) = advance(&app, &admin, "2027-G7", json!({"to": "draw"})).await;
        assert_eq!(s, 409, "{body}");
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(msg.contains("1 项改判等待另一名工作人员复核") && !msg.contains("份申请"), "{msg}");
        sql(&app, "UPDATE review_decisions SET needs_second = FALSE WHERE id = 'lifecycle-second'").await;

        // Now every step forward is permitted, one at a time, each audited.
        let (s, body) = advance(&app, &admin, "2027-G7", json!({"to": "draw"})).await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(body["from"], "review");
        assert_eq!(body["to"], "draw");
        assert_eq!(status_of(&app, "2027-G7").await, "draw");
        let (s, body) = advance(&app, &admin, "2027-G7", json!({"to": "closed"})).await;
        assert_eq!(s, 409, "closing needs the offers phase first: {body}");
        let (s, _) = advance(&app, &admin, "2027-G7", json!({"to": "offers"})).await;
        assert_eq!(s, 200);
        let (s, _) = advance(&app, &admin, "2027-G7", json!({"to": "closed"})).await;
        assert_eq!(s, 200);
        assert_eq!(status_of(&app, "2027-G7").await, "closed");
        let (s, body) = advance(&app, &admin, "2027-G7", json!({"to": "draft"})).await;
        assert_eq!(s, 409);
        assert!(body["error"]["message"].as_str().unwrap().contains("已结束"), "{body}");

        let entries = audit(&app).await;
        let steps: Vec<&Entry> = entries.iter().filter(|e| e.1 == "campaign.advance").collect();
        assert_eq!(steps.len(), 3, "three steps taken");
        for (e, (from, to)) in steps.iter().zip([("review", "draw"), ("draw", "offers"), ("offers", "closed")]) {
            assert_eq!(e.2, "campaign:2027-G7");
            assert!(e.0.starts_with("staff:"), "{}", e.0);
            let before: Value = serde_json::from_str(e.3.as_deref().unwrap()).unwrap();
            let after: Value = serde_json::from_str(e.4.as_deref().unwrap()).unwrap();
            assert_eq!(before["status"], from);
            assert_eq!(after["status"], to);
        }
        let refused: Vec<&Entry> = entries.iter().filter(|e| e.1 == "campaign.advance_refused").collect();
        assert!(refused.iter().any(|e| e.2 == "campaign:2027-G1" && e.4.as_deref().unwrap().contains("份申请")), "refusals audited");
        let admin_actor = &steps[0].0;
        assert!(refused.iter().all(|e| &e.0 == admin_actor), "only the admin's refusals; a 403 is not a refused step");
        let mut c = app.state.db.pool.get().unwrap();
        let chain = ruxue::db::audit::verify(&mut c).unwrap();
        assert!(chain.broken.is_none());
    }
}

backend_test! {
    #[tokio::test]
    async fn the_console_page_shows_phases_and_moves_them(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let (c, csrf) = page_login(&app, ADMIN).await;
        let html = c.get(app.url("/staff/campaigns")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("2027-G1") && html.contains("审核中") && html.contains("暂不能进入「派位」"), "{html}");
        assert!(html.contains("份申请正在审核中") || html.contains("份申请已提交"));
        assert!(html.contains("新建批次"));
        // A refused step comes back as the page with the reasons, 409.
        let r = c.post(app.url("/staff/campaigns/2027-G1/advance")).form(&[("csrf", csrf.as_str()), ("to", "draw")]).send().await.unwrap();
        assert_eq!(r.status(), 409);
        let html = r.text().await.unwrap();
        assert!(html.contains("不能从「审核中」进入「派位」"), "{html}");
        // Without the CSRF token nothing runs.
        let r = c.post(app.url("/staff/campaigns/2027-G1/advance")).form(&[("to", "draw")]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        // A permitted step redirects back with a notice.
        sql(&app, "UPDATE applications SET status = 'approved' WHERE campaign_id = '2027-G7' AND status IN ('submitted', 'under_review', 'supplement')").await;
        sql(&app, "UPDATE review_decisions SET needs_second = FALSE").await;
        let r = c.post(app.url("/staff/campaigns/2027-G7/advance")).form(&[("csrf", csrf.as_str()), ("to", "draw")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/staff/campaigns?advanced=2027-G7");
        let html = c.get(app.url("/staff/campaigns?advanced=2027-G7")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("已进入下一阶段") && html.contains("进入「录取确认」"), "{html}");
        assert_eq!(status_of(&app, "2027-G7").await, "draw");

        // The auditor reads the same page but gets no buttons or forms.
        let (a, acsrf) = page_login(&app, AUDITOR).await;
        let r = a.get(app.url("/staff/campaigns")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("2027-G7") && !html.contains("<form method=\"post\" action=\"/staff/campaigns"), "read-only for auditors");
        let r = a.post(app.url("/staff/campaigns/2027-G7/advance")).form(&[("csrf", acsrf.as_str()), ("to", "offers")]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(status_of(&app, "2027-G7").await, "draw");
        let (rv, _) = page_login(&app, REVIEWER).await;
        assert_eq!(rv.get(app.url("/staff/campaigns")).send().await.unwrap().status(), 403);

        // Registration that has not reached its closing time needs the explicit early close.
        sql(&app, "UPDATE campaigns SET status = 'registration', registration_closes = '2099-01-01 00:00:00' WHERE id = '2027-G1'").await;
        let html = c.get(app.url("/staff/campaigns")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("提前截止报名") && html.contains("尚未到达"), "{html}");
        let r = c.post(app.url("/staff/campaigns/2027-G1/advance")).form(&[("csrf", csrf.as_str()), ("to", "review")]).send().await.unwrap();
        assert_eq!(r.status(), 409);
        assert!(r.text().await.unwrap().contains("报名截止时间（2099-01-01 08:00）尚未到达"));
        let r = c
            .post(app.url("/staff/campaigns/2027-G1/advance"))
            .form(&[("csrf", csrf.as_str()), ("to", "review"), ("close_registration_early", "1")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(status_of(&app, "2027-G1").await, "review");
        let early = audit(&app).await.into_iter().rfind(|e| e.1 == "campaign.advance" && e.2 == "campaign:2027-G1").unwrap();
        assert!(early.4.unwrap().contains("\"close_registration_early\":true"));
    }
}

/// (position, precedence, kind, township, target school, target zone, rule JSON)
type RuleRow = (i32, i32, String, String, Option<String>, Option<String>, String);

#[derive(Debug, PartialEq)]
struct Setup {
    plans: Vec<(String, i32, i32)>,
    zones: Vec<(String, String)>,
    zone_schools: Vec<(String, String, i32)>,
    rules: Vec<RuleRow>,
}

/// A campaign's setup with its own ids stripped, so two campaigns compare.
async fn setup_of(app: &TestApp, campaign: &str) -> Setup {
    let id = campaign.to_string();
    app.state
        .db
        .run(move |c| {
            use schema::{catchment_rules as r, school_plans as p, zone_schools as zs, zones as z};
            let plans: Vec<(String, i32, i32)> = p::table
                .filter(p::campaign_id.eq(&id))
                .order(p::school_id.asc())
                .select((p::school_id, p::planned_classes, p::class_size_cap))
                .load(c)?;
            let zones: Vec<(String, String, String)> =
                z::table.filter(z::campaign_id.eq(&id)).order(z::code.asc()).select((z::id, z::code, z::name)).load(c)?;
            let mut zone_schools = Vec::new();
            for (zid, code, _) in &zones {
                let rows: Vec<(String, i32)> =
                    zs::table.filter(zs::zone_id.eq(zid)).order(zs::position.asc()).select((zs::school_id, zs::position)).load(c)?;
                zone_schools.extend(rows.into_iter().map(|(s, p)| (code.clone(), s, p)));
            }
            let code_of = |zid: &str| {
                zones.iter().find(|(i, _, _)| i == zid).map(|(_, code, _)| code.clone()).unwrap_or_else(|| format!("FOREIGN {zid}"))
            };
            let rules: Vec<RuleRow> = r::table
                .filter(r::campaign_id.eq(&id))
                .order(r::position.asc())
                .select((r::position, r::precedence, r::kind, r::township, r::target_school_id, r::target_zone_id, r::rule_json))
                .load(c)?;
            let rules = rules.into_iter().map(|(a, b, k, t, s, z, j)| (a, b, k, t, s, z.map(|z| code_of(&z)), j)).collect();
            Ok(Setup { plans, zones: zones.iter().map(|(_, c, n)| (c.clone(), n.clone())).collect(), zone_schools, rules })
        })
        .await
        .unwrap()
}

backend_test! {
    #[tokio::test]
    async fn a_new_campaign_copies_last_years(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let admin = token(&app, ADMIN).await;
        let r = client().post(app.url("/api/v1/staff/campaigns")).bearer_auth(&admin).json(&json!({"from": "2027-G7", "year": 2028})).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["id"], "2028-G7");
        assert_eq!(v["status"], "draft");
        assert_eq!(v["policy_version"], "2028.1");

        let (old, new) = (setup_of(&app, "2027-G7").await, setup_of(&app, "2028-G7").await);
        assert!(!old.plans.is_empty() && !old.zones.is_empty() && !old.zone_schools.is_empty() && !old.rules.is_empty());
        assert!(old.rules.iter().any(|r| r.5.is_some()), "the demo's grade 7 rules point at zones");
        assert_eq!(old, new, "plans, zones, zone schools and rules copied (zone targets now the new campaign's own)");
        assert_eq!(v["school_plans"].as_u64().unwrap() as usize, old.plans.len());
        assert_eq!(v["catchment_rules"].as_u64().unwrap() as usize, old.rules.len());

        let (src, dst) = app
            .state
            .db
            .run(|c| {
                let load = |c: &mut ruxue::db::DbConn, id: &str| {
                    schema::campaigns::table.find(id.to_string()).select(ruxue::db::models::Campaign::as_select()).first(c)
                };
                Ok((load(c, "2027-G7")?, load(c, "2028-G7")?))
            })
            .await
            .unwrap();
        assert_eq!((dst.year, dst.grade), (2028, src.grade));
        assert_eq!(dst.status, ruxue::domain::CampaignStatus::Draft);
        assert!(dst.policy_frozen_at.is_none(), "the copy's policy is open for editing");
        assert!(src.policy_frozen_at.is_some() || src.policy_frozen_at.is_none());
        assert_eq!(dst.policy_version, "2028.1");
        let doc: toml::Value = toml::from_str(&dst.policy_toml).unwrap();
        assert_eq!(doc["version"].as_str(), Some("2028.1"));
        let mut old_doc: toml::Value = toml::from_str(&src.policy_toml).unwrap();
        old_doc["version"] = toml::Value::String("2028.1".into());
        assert_eq!(doc, old_doc, "the policy is otherwise the same");
        use chrono::Datelike;
        for (a, b) in [
            (src.registration_opens, dst.registration_opens),
            (src.registration_closes, dst.registration_closes),
            (src.review_deadline, dst.review_deadline),
            (src.draw_day, dst.draw_day),
            (src.offer_deadline, dst.offer_deadline),
        ] {
            assert_eq!(b.year(), a.year() + 1);
            assert_eq!((b.month(), b.day(), b.time()), (a.month(), a.day(), a.time()));
        }
        assert_eq!((dst.min_age, dst.max_age, &dst.age_cutoff, dst.four_eyes), (src.min_age, src.max_age, &src.age_cutoff, src.four_eyes));
        assert_eq!(setup_of(&app, "2027-G7").await, old, "the source is untouched");
        let copy = audit(&app).await.into_iter().find(|e| e.1 == "campaign.copy").expect("copy audited");
        assert_eq!(copy.2, "campaign:2028-G7");
        assert!(copy.3.unwrap().contains("2027-G7"));

        // The public lookup keeps answering from the published campaign, not the draft being edited…
        let lookup = |q: Vec<(&'static str, &'static str)>| {
            let url = app.url("/api/v1/catchment/lookup");
            async move { client().get(url).query(&q).send().await.unwrap().json::<Value>().await.unwrap() }
        };
        let b = lookup(vec![("address", "凤城镇大同路5号"), ("grade", "7")]).await;
        assert_eq!(b["campaign"], "2027-G7", "{b}");
        // …while the draft, asked for by name, resolves the same address the same way.
        let d = lookup(vec![("address", "凤城镇大同路5号"), ("campaign", "2028-G7")]).await;
        assert_eq!(d["campaign"], "2028-G7", "{d}");
        assert_eq!((&d["target_type"], &d["target_name"], &d["schools"]), (&b["target_type"], &b["target_name"], &b["schools"]));

        // The staff dashboard still opens on the campaign under way, not on the draft.
        let dash: Value =
            client().get(app.url("/api/v1/staff/dashboard")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        assert_eq!(dash["campaign_id"], "2027-G1", "{}", dash["campaign_id"]);

        // The copy is a draft: it cannot open registration before its policy is frozen.
        let (s, body) = advance(&app, &admin, "2028-G7", json!({"to": "registration"})).await;
        assert_eq!(s, 409);
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(msg.contains("招生方案尚未冻结") && !msg.contains("划片规则"), "{msg}");

        // A second campaign for the same year and grade, or a taken id: 409.
        let r = client().post(app.url("/api/v1/staff/campaigns")).bearer_auth(&admin).json(&json!({"from": "2027-G7", "year": 2028, "id": "2028-JUNIOR"})).send().await.unwrap();
        assert_eq!(r.status(), 409);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["field"], "year");
        assert!(e["error"]["message"].as_str().unwrap().contains("2028 年7年级的招生批次已存在（「2028-G7」）"), "{e}");
        let r = client().post(app.url("/api/v1/staff/campaigns")).bearer_auth(&admin).json(&json!({"from": "2027-G1", "year": 2028, "id": "2028-G7"})).send().await.unwrap();
        assert_eq!(r.status(), 409);
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "id");
        for (body, field) in [
            (json!({"from": "2027-G1", "year": "二〇二八"}), "year"),
            (json!({"from": "2027-G1"}), "year"),
            (json!({"from": "no-such", "year": 2029}), "from"),
            (json!({"from": "2027-G1", "year": 2029, "id": "有空格 的编号"}), "id"),
            (json!({"from": "2027-G1", "year": 1900}), "year"),
        ] {
            let r = client().post(app.url("/api/v1/staff/campaigns")).bearer_auth(&admin).json(&body).send().await.unwrap();
            assert_eq!(r.status(), 422, "{body}");
            assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], field, "{body}");
        }
        for who in [REVIEWER, OPERATOR, AUDITOR] {
            let t = token(&app, who).await;
            let r = client().post(app.url("/api/v1/staff/campaigns")).bearer_auth(&t).json(&json!({"from": "2027-G1", "year": 2030})).send().await.unwrap();
            assert_eq!(r.status(), 403, "{}", who.0);
        }

        // The console form does the same.
        let (c, csrf) = page_login(&app, ADMIN).await;
        let r = c.post(app.url("/staff/campaigns")).form(&[("csrf", csrf.as_str()), ("from", "2027-G1"), ("year", "2028"), ("id", "")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/staff/campaigns?copied=2028-G1");
        let html = c.get(app.url("/staff/campaigns?copied=2028-G1")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("已创建招生批次「2028-G1」") && html.contains("招生方案尚未冻结"), "{html}");
        let r = c.post(app.url("/staff/campaigns")).form(&[("csrf", csrf.as_str()), ("from", "2027-G1"), ("year", "2028")]).send().await.unwrap();
        assert_eq!(r.status(), 409);
        assert!(r.text().await.unwrap().contains("已存在"));
        assert_eq!(setup_of(&app, "2027-G1").await.plans, setup_of(&app, "2028-G1").await.plans);
    }
}

backend_test! {
    #[tokio::test]
    async fn the_command_line_advances_and_copies(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let url = app.db.url.clone();
        let out = run_ruxue(&["campaign", "advance", "2027-G1", "draw"], &url);
        assert_eq!(out.status.code(), Some(1), "refused: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(err.contains("不能从「审核中」进入「派位」") && err.contains("份申请"), "{err}");
        for args in [
            &["campaign", "advance", "2027-G1", "offers"][..],
            &["campaign", "advance", "2027-G1", "registration"],
            &["campaign", "advance", "2027-G1", "finished"],
            &["campaign", "advance", "no-such", "draw"],
        ] {
            let out = run_ruxue(args, &url);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
            assert!(String::from_utf8_lossy(&out.stderr).chars().any(|ch| ch > '\u{2e80}'), "{args:?}: Chinese reason");
        }
        assert_eq!(status_of(&app, "2027-G1").await, "review");

        let out = run_ruxue(&["campaign", "copy", "2027-G1", "--year", "2029", "--id", "2029-G1"], &url);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("campaign 2029-G1 created from 2027-G1"));
        let out = run_ruxue(&["campaign", "copy", "2027-G1", "--year", "2029"], &url);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("已存在"));
        let out = run_ruxue(&["campaign", "list"], &url);
        let list = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(list.lines().any(|l| l.starts_with("2029-G1\tdraft\t") && l.contains("registration blocked")), "{list}");

        // Freeze the copy's policy and it may open registration.
        let out = run_ruxue(&["campaign", "advance", "2029-G1", "registration"], &url);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("招生方案尚未冻结"));
        assert!(run_ruxue(&["policy", "freeze", "--campaign", "2029-G1"], &url).status.success());
        let out = run_ruxue(&["campaign", "advance", "2029-G1", "registration"], &url);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert_eq!(status_of(&app, "2029-G1").await, "registration");
        let actions: Vec<(String, String)> = audit(&app).await.into_iter().filter(|e| e.2 == "campaign:2029-G1").map(|e| (e.0, e.1)).collect();
        assert!(actions.contains(&("cli".into(), "campaign.copy".into())));
        assert!(actions.contains(&("cli".into(), "campaign.advance".into())));
        assert!(actions.contains(&("cli".into(), "campaign.advance_refused".into())));
        assert!(run_ruxue(&["audit", "verify"], &url).status.success());
    }
}
