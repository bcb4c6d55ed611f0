//! Issue 11: a whole draw day over HTTP on both backends — plan, freeze,
//! witnesses (one-time link and console), a signed announcement, reveals,
//! the beacon through a drand relay on loopback, the run (twice at once, on
//! two instances over one database:
//! one record), publication — and the published record checked by
//! `ruxue draw verify`, by `verifier/verify_draw.py` and an inclusion proof
//! for every applicant. Then every refusal: changes to a frozen draw, a
//! reveal that does not match, a beacon of the wrong round.

mod common;

use common::contract::answer;
use common::draws::*;
use common::staff::token;
use common::*;
use diesel::prelude::*;
use ruxue::db::schema;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

async fn listed_digest(app: &TestApp, id: &str) -> Option<String> {
    let (_, list) = anon(app, "/api/v1/draws").await;
    let list: Value = serde_json::from_str(&list).unwrap();
    list["draws"].as_array().unwrap().iter().find(|x| x["id"] == id)?["announcement_digest"].as_str().map(String::from)
}

fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(ruxue_bin());
    cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for (k, _) in std::env::vars() {
        if k.starts_with("RUXUE") {
            cmd.env_remove(k);
        }
    }
    cmd.env("RUXUE__DATABASE__URL", &app.db.url).output().expect("run ruxue")
}

async fn audit_actions(app: &TestApp, target: &'static str) -> Vec<String> {
    app.state
        .db
        .run(move |c| {
            Ok(schema::audit_log::table
                .filter(schema::audit_log::target.eq(target))
                .order(schema::audit_log::seq.asc())
                .select(schema::audit_log::action)
                .load::<String>(c)?)
        })
        .await
        .unwrap()
}

backend_test! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_whole_draw_day_over_http(backend) {
        let (relay_url, hits) = relay().await;
        // The first relay is dead: the second one answers.
        let relays = format!("http://127.0.0.1:9,{relay_url}");
        let app = spawn_app_with(backend, true, &[("RUXUE__DRAW__RELAYS", relays.as_str()), ("RUXUE__DRAW__RELAY_TIMEOUT_MS", "2000")]).await;
        let op = token(&app, "operator", "ruxue-demo-operator").await;
        let aud = token(&app, "auditor", "ruxue-demo-auditor").await;

        // Freezing is refused while review is open.
        let (s, b) = call(&app, "POST", "/api/v1/staff/draws", &op, Some(json!({"campaign": "2027-G1", "unit": "P01"}))).await;
        assert_eq!((s, b["error"]["code"].as_str()), (409, Some("review_open")), "{b}");
        close_review(&app, "2027-G1").await;
        let (unit, applicants) = school_to_draw(&app, &op, "2027-G1").await;

        // Every answer of the day is also checked against the API contract.
        let mut contract = Vec::new();
        // 1. Freeze: the roster of the school's approved applications.
        let (s, d) = call(&app, "POST", "/api/v1/staff/draws", &op, Some(json!({"campaign": "2027-G1", "unit": unit}))).await;
        assert_eq!(s, 201, "{d}");
        contract.push(answer("post", "/api/v1/staff/draws", 201, &d));
        let id = d["id"].as_str().unwrap().to_string();
        assert_eq!(d["status"], "frozen");
        assert_eq!(d["roster_size"].as_i64().unwrap(), applicants);
        let (s, b) = call(&app, "POST", "/api/v1/staff/draws", &op, Some(json!({"campaign": "2027-G1", "unit": unit}))).await;
        assert_eq!((s, b["error"]["code"].as_str(), b["error"]["field"].as_str()), (409, Some("draw_frozen"), Some("unit")), "{b}");
        // An auditor reads but does not act.
        assert_eq!(call(&app, "GET", &format!("/api/v1/staff/draws/{id}"), &aud, None).await.0, 200);
        assert_eq!(call(&app, "POST", &format!("/api/v1/staff/draws/{id}/run"), &aud, None).await.0, 403);

        // 2. Witnesses: the notary on their phone, a parent at the console.
        let (s, n) = call(&app, "POST", &format!("/api/v1/staff/draws/{id}/witnesses"), &op, Some(json!({"name": "王公证", "role": "notary"}))).await;
        assert_eq!(s, 201, "{n}");
        contract.push(answer("post", "/api/v1/staff/draws/{id}/witnesses", 201, &n));
        let token1 = n["token"].as_str().unwrap().to_string();
        assert!(n["link"].as_str().unwrap().ends_with(&format!("/witness/{token1}")));
        let (s, p) = call(&app, "POST", &format!("/api/v1/staff/draws/{id}/witnesses"), &op, Some(json!({"name": "李家长", "role": "parent_rep"}))).await;
        assert_eq!(s, 201, "{p}");
        let w2 = p["witness"]["id"].as_str().unwrap().to_string();
        let (s, b) = call(&app, "POST", &format!("/api/v1/staff/draws/{id}/witnesses"), &op, Some(json!({"name": "x", "role": "boss"}))).await;
        assert_eq!((s, b["error"]["field"].as_str()), (422, Some("role")), "{b}");

        let r = app.client.post(app.url(&format!("/api/v1/witness/{token1}"))).json(&json!({"value": "公证员的数 731"})).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["step"], "committed");
        contract.push(answer("post", "/api/v1/witness/{token}", 200, &v));
        let c1 = v["witness"]["commitment"].as_str().unwrap().to_string();
        assert!(v["witness"]["value"].is_null(), "only the commitment is kept: {v}");
        let (s, v) = call(&app, "POST", &format!("/api/v1/staff/draws/{id}/witnesses/{w2}/value"), &op, Some(json!({"value": "20270720"}))).await;
        assert_eq!((s, v["step"].as_str()), (200, Some("committed")), "{v}");
        contract.push(answer("post", "/api/v1/staff/draws/{id}/witnesses/{wid}/value", 200, &v));
        // Nothing stored anywhere holds the values.
        let (_, page) = call(&app, "GET", &format!("/api/v1/staff/draws/{id}"), &op, None).await;
        // (Whole values: a random id may hold any three digits.)
        assert!(!page.to_string().contains("20270720") && !page.to_string().contains("公证员的数"), "{page}");
        assert_eq!(page["witnesses"][0]["commitment"].as_str(), Some(c1.as_str()));

        // 3. The announcement names a round that does not exist yet.
        let (s, b) = call(&app, "POST", &format!("/api/v1/staff/draws/{id}/announce"), &op, Some(json!({"scheduled_at": "2020-01-01 09:00"}))).await;
        assert_eq!((s, b["error"]["field"].as_str()), (422, Some("scheduled_at")), "{b}");
        let (s, b) = call(&app, "POST", &format!("/api/v1/staff/draws/{id}/announce"), &op, Some(json!({"scheduled_at": "next week"}))).await;
        assert_eq!((s, b["error"]["field"].as_str()), (422, Some("scheduled_at")), "{b}");
        announce_for_657413(&app, &id).await;
        // After the announcement no source may be added.
        let (s, b) = call(&app, "POST", &format!("/api/v1/staff/draws/{id}/witnesses"), &op, Some(json!({"name": "晚到者", "role": "other"}))).await;
        assert_eq!((s, b["error"]["code"].as_str()), (409, Some("draw_frozen")), "{b}");

        // The announcement is public and signed with the served key.
        let (s, body) = anon(&app, &format!("/api/v1/draws/{id}/announcement")).await;
        assert_eq!(s, 200, "{body}");
        let ann: Value = serde_json::from_str(&body).unwrap();
        let jws = ann["jws"].as_str().unwrap();
        let (_, keys) = anon(&app, "/api/v1/keys").await;
        let keys: Value = serde_json::from_str(&keys).unwrap();
        let key = ruxue::draw::announce::verifying_key(&keys["keys"][0].to_string(), None).unwrap();
        let signed = ruxue::draw::announce::verify(jws, &key).unwrap();
        let ann_text = {
            let start = body.find("{\"announcement\":").unwrap() + "{\"announcement\":".len();
            let end = body.rfind(",\"jws\":").unwrap();
            body[start..end].to_string()
        };
        assert_eq!(signed.digest, ruxue::draw::digest_hex(ann_text.as_bytes()), "the JWS signs the published CJSON");
        assert_eq!(Some(signed.digest.as_str()), listed_digest(&app, &id).await.as_deref());
        assert_eq!(ann["announcement"]["sources"][2]["drand"]["round"], 657413);
        assert_eq!(ann["announcement"]["sources"][0]["commitment"].as_str(), Some(c1.as_str()));

        // A run before the reveals is refused.
        let (s, _) = call(&app, "POST", &format!("/api/v1/staff/draws/{id}/run"), &op, None).await;
        assert_eq!(s, 422);

        // 5. Reveals: a wrong value is refused, the right ones accepted.
        let r = app.client.post(app.url(&format!("/api/v1/witness/{token1}"))).json(&json!({"value": "公证员的数 732"})).send().await.unwrap();
        assert_eq!(r.status(), 409);
        let v: Value = r.json().await.unwrap();
        assert_eq!((v["error"]["code"].as_str(), v["error"]["field"].as_str()), (Some("commitment_mismatch"), Some("value")), "{v}");
        let r = app.client.post(app.url(&format!("/api/v1/witness/{token1}"))).json(&json!({"value": "公证员的数 731"})).send().await.unwrap();
        assert_eq!(r.status(), 200);
        // The one-time link is spent.
        let r = app.client.post(app.url(&format!("/api/v1/witness/{token1}"))).json(&json!({"value": "公证员的数 731"})).send().await.unwrap();
        assert_eq!(r.status(), 404);
        let (s, v) = call(&app, "POST", &format!("/api/v1/staff/draws/{id}/witnesses/{w2}/value"), &op, Some(json!({"value": "20270720"}))).await;
        assert_eq!((s, v["step"].as_str()), (200, Some("revealed")), "{v}");

        // The beacon: a forged value typed in is refused; the relay's is checked.
        let mut forged = SIG_657413.to_string();
        forged.replace_range(0..2, "a7");
        let (s, b) = call(&app, "POST", &format!("/api/v1/staff/draws/{id}/beacon"), &op, Some(json!({"value": forged}))).await;
        assert_eq!((s, b["error"]["code"].as_str()), (409, Some("beacon_invalid")), "{b}");
        let (s, b) = call(&app, "POST", &format!("/api/v1/staff/draws/{id}/beacon"), &op, Some(json!({}))).await;
        assert_eq!(s, 200, "{b}");
        contract.push(answer("post", "/api/v1/staff/draws/{id}/beacon", 200, &b));
        assert_eq!(b["round"], 657413);
        assert!(hits.load(Ordering::SeqCst) >= 1);

        // The run, twice at once, on two instances of the service over the
        // same database (a double click on one, a second operator on the
        // other): one record.
        let other = format!("http://127.0.0.1:{}/api/v1/staff/draws/{id}/run", app.another_instance(&[]).await);
        let url = app.url(&format!("/api/v1/staff/draws/{id}/run"));
        let (a, b) = tokio::join!(
            app.client.post(&url).bearer_auth(&op).send(),
            app.client.post(&other).bearer_auth(&op).send()
        );
        let a: Value = a.unwrap().json().await.unwrap();
        let b: Value = b.unwrap().json().await.unwrap();
        assert_eq!(a["record_digest"], b["record_digest"], "{a} {b}");
        assert_eq!([a["fresh"].as_bool(), b["fresh"].as_bool()].iter().filter(|f| **f == Some(true)).count(), 1, "one run stored: {a} {b}");
        let (s, again) = call(&app, "POST", &format!("/api/v1/staff/draws/{id}/run"), &op, None).await;
        assert_eq!((s, again["fresh"].as_bool()), (200, Some(false)));
        contract.push(answer("post", "/api/v1/staff/draws/{id}/run", 200, &a));

        // Publication.
        let (s, p) = call(&app, "POST", &format!("/api/v1/staff/draws/{id}/publish"), &op, None).await;
        assert_eq!((s, p["status"].as_str()), (200, Some("drawn")), "{p}");
        contract.push(answer("post", "/api/v1/staff/draws/{id}/publish", 200, &p));
        common::contract::check_samples(&format!("draw-day-{}", backend.name()), contract);

        // The public list and the record, byte for byte.
        let (s, list) = anon(&app, "/api/v1/draws").await;
        assert_eq!(s, 200);
        let list: Value = serde_json::from_str(&list).unwrap();
        let listed = list["draws"].as_array().unwrap().iter().find(|x| x["id"] == id.as_str()).unwrap().clone();
        assert_eq!(listed["status"], "drawn");
        assert_eq!(listed["result_digest"], a["result_digest"]);
        assert_eq!(listed["announcement_digest"], a["announcement_digest"]);
        let (s, record) = anon(&app, &format!("/api/v1/draws/{id}/record")).await;
        assert_eq!(s, 200);
        let idc = id.clone();
        let stored: String = app
            .state
            .db
            .run(move |c| Ok(schema::draws::table.find(idc).select(schema::draws::record_json).first::<Option<String>>(c)?.unwrap()))
            .await
            .unwrap();
        assert_eq!(record, stored);
        assert_eq!(ruxue::draw::digest_hex(record.as_bytes()), a["record_digest"].as_str().unwrap());

        // Three checks of the record: ruxue draw verify (with the signed
        // announcement and key), the Python verifier, and every proof.
        let dir = tempfile::tempdir().unwrap();
        let rec_path = dir.path().join("record.json");
        std::fs::write(&rec_path, &record).unwrap();
        let jws_path = dir.path().join("announcement.jws");
        std::fs::write(&jws_path, jws).unwrap();
        let key_path = dir.path().join("key.jwk");
        std::fs::write(&key_path, keys["keys"][0].to_string()).unwrap();
        let out = cli(&app, &["draw", "verify", rec_path.to_str().unwrap(), "--announcement", jws_path.to_str().unwrap(), "--key", key_path.to_str().unwrap()]);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(out.status.code(), Some(0), "{text} {}", String::from_utf8_lossy(&out.stderr));
        assert!(text.contains(a["result_digest"].as_str().unwrap()), "{text}");
        let py = std::process::Command::new("python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/verifier/verify_draw.py"))
            .arg(&rec_path)
            .output()
            .unwrap();
        let pytext = String::from_utf8_lossy(&py.stdout).to_string();
        assert_eq!(py.status.code(), Some(0), "{pytext} {}", String::from_utf8_lossy(&py.stderr));
        assert!(pytext.contains(a["result_digest"].as_str().unwrap()), "{pytext}");
        let mut root = [0u8; 32];
        hex::decode_to_slice(listed["roster_root"].as_str().unwrap(), &mut root).unwrap();
        let size = listed["roster_size"].as_u64().unwrap();
        let roster: Value = serde_json::from_str(&anon(&app, &format!("/api/v1/draws/{id}/roster")).await.1).unwrap();
        let roster = roster["roster"].as_array().unwrap().clone();
        assert_eq!(roster.len() as u64, size);
        for e in &roster {
            let no = e["registration_no"].as_str().unwrap();
            assert!(e["name"].as_str().unwrap().contains('*'), "masked: {e}");
            let (s, p) = anon(&app, &format!("/api/v1/draws/{id}/proof/{no}")).await;
            assert_eq!(s, 200, "{p}");
            let proof = ruxue::draw::Proof::from_json(&p).unwrap();
            proof.check_against(&root, size).unwrap();
        }
        assert_eq!(anon(&app, &format!("/api/v1/draws/{id}/proof/NOPE")).await.0, 404);
        assert_eq!(anon(&app, "/api/v1/draws/NOPE/record").await.0, 404);

        // Every step is in the audit log.
        let target: &'static str = Box::leak(id.clone().into_boxed_str());
        let actions = audit_actions(&app, target).await;
        for step in ["draw.freeze", "draw.witness_add", "draw.witness_commit", "draw.announce", "draw.witness_reveal", "draw.beacon", "draw.run", "draw.publish"] {
            assert!(actions.iter().any(|a| a == step), "{step} in {actions:?}");
        }
        assert_eq!(actions.iter().filter(|a| *a == "draw.run").count(), 1, "{actions:?}");
        let out = cli(&app, &["audit", "verify"]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    }

    #[tokio::test]
    async fn a_frozen_draw_refuses_every_change_and_the_refusals_are_audited(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let op = token(&app, "operator", "ruxue-demo-operator").await;
        let admin = token(&app, "admin", "ruxue-demo-admin").await;
        close_review(&app, "2027-G1").await;
        let (unit, _) = school_to_draw(&app, &op, "2027-G1").await;
        let (s, d) = call(&app, "POST", "/api/v1/staff/draws", &op, Some(json!({"campaign": "2027-G1", "unit": unit}))).await;
        assert_eq!(s, 201, "{d}");
        let id = d["id"].as_str().unwrap().to_string();

        // An application in the draw: a decision on it is refused, by name.
        let u2 = unit.clone();
        let app_id: String = app
            .state
            .db
            .run(move |c| {
                Ok(schema::applications::table
                    .inner_join(schema::draw_entries::table.on(schema::draw_entries::application_id.eq(schema::applications::id)))
                    .filter(schema::applications::catchment_school_id.eq(u2))
                    .select(schema::applications::id)
                    .first(c)?)
            })
            .await
            .unwrap();
        // Its row keeps `approved` (the freeze writes only the draw's
        // entries); the family and the staff see it as in the draw.
        let a2 = app_id.clone();
        let stored: String = app
            .state
            .db
            .run(move |c| Ok(schema::applications::table.find(a2).select(schema::applications::status).first(c)?))
            .await
            .unwrap();
        assert_eq!(stored, "approved");
        let (s, d) = call(&app, "GET", &format!("/api/v1/staff/review/applications/{app_id}"), &admin, None).await;
        assert_eq!((s, d["status"].as_str(), d["status_label"].as_str(), d["reviewable"].as_bool()), (200, Some("in_draw"), Some("参加电脑派位"), Some(false)), "{d}");
        let (parent, _) = common::published::guardian_client(&app, &app_id).await;
        let v: Value = parent.get(app.url(&format!("/api/v1/registration/applications/{app_id}"))).send().await.unwrap().json().await.unwrap();
        assert_eq!((v["status"].as_str(), v["status_label"].as_str()), (Some("in_draw"), Some("参加电脑派位")), "{v}");
        let list: Value = parent.get(app.url("/api/v1/registration/applications")).send().await.unwrap().json().await.unwrap();
        let listed = list["applications"].as_array().unwrap().iter().find(|x| x["id"] == app_id.as_str()).unwrap_or_else(|| panic!("{list}"));
        assert_eq!(listed["status"], "in_draw", "{listed}");

        let (s, b) = call(
            &app,
            "POST",
            &format!("/api/v1/staff/review/applications/{app_id}/decisions"),
            &admin,
            Some(json!({"decision": "reject", "reason_code": "R01", "note": "x", "version": 1})),
        )
        .await;
        assert_eq!((s, b["error"]["code"].as_str(), b["error"]["field"].as_str()), (409, Some("draw_frozen"), Some("application")), "{b}");
        assert!(b["error"]["message"].as_str().unwrap().contains(&id), "{b}");
        let target: &'static str = Box::leak(format!("application:{app_id}").into_boxed_str());
        assert!(audit_actions(&app, target).await.iter().any(|a| a == "draw.change_refused"));

        // The seats of the school.
        let (s, b) = call(
            &app,
            "POST",
            &format!("/api/v1/staff/campaigns/2027-G1/plans/{unit}"),
            &admin,
            Some(json!({"planned_classes": 9, "class_size_cap": 45})),
        )
        .await;
        assert_eq!((s, b["error"]["code"].as_str(), b["error"]["field"].as_str()), (409, Some("draw_frozen"), Some("school")), "{b}");
        let target: &'static str = Box::leak(format!("school_plan:2027-G1/{unit}").into_boxed_str());
        assert!(audit_actions(&app, target).await.iter().any(|a| a == "draw.change_refused"));
        // A school outside any draw can still change its plan.
        let (s, b) = call(&app, "GET", "/api/v1/staff/draws/plan?campaign=2027-G1", &op, None).await;
        assert_eq!(s, 200);
        let free = b["proposals"].as_array().unwrap().iter().find(|x| x["decision"] == "admits_all" && x["kind"] == "school").unwrap()["id"].as_str().unwrap().to_string();
        let (s, b) = call(
            &app,
            "POST",
            &format!("/api/v1/staff/campaigns/2027-G1/plans/{free}"),
            &admin,
            Some(json!({"planned_classes": 4, "class_size_cap": 45})),
        )
        .await;
        assert_eq!(s, 200, "{b}");

        // The sources: a second witness after the announcement (covered in
        // the day test); a beacon of the wrong round.
        let (s, n) = call(&app, "POST", &format!("/api/v1/staff/draws/{id}/witnesses"), &op, Some(json!({"name": "王公证", "role": "notary"}))).await;
        assert_eq!(s, 201);
        let wid = n["witness"]["id"].as_str().unwrap().to_string();
        assert_eq!(call(&app, "POST", &format!("/api/v1/staff/draws/{id}/witnesses/{wid}/value"), &op, Some(json!({"value": "1"}))).await.0, 200);
        let key = app.state.settings.draw_signing_key().unwrap();
        let (idc, settings) = (id.clone(), app.state.settings.clone());
        let t = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        // Scheduled one round later: 657414.
        let d = app
            .state
            .db
            .write(move |c| ruxue::service::draw::announce_in(c, &settings, "staff:t", &key, "x", &idc, t("2023-09-15 11:00:05"), t("2023-09-15 10:00:00")))
            .await
            .unwrap();
        assert_eq!(d.beacon_round, Some(657414));
        let (s, b) = call(&app, "POST", &format!("/api/v1/staff/draws/{id}/beacon"), &op, Some(json!({"value": SIG_657413}))).await;
        assert_eq!((s, b["error"]["code"].as_str(), b["error"]["field"].as_str()), (409, Some("beacon_invalid"), Some("value")), "{b}");
        // No relay is configured in tests: fetching says so.
        let (s, b) = call(&app, "POST", &format!("/api/v1/staff/draws/{id}/beacon"), &op, Some(json!({}))).await;
        assert_eq!((s, b["error"]["code"].as_str()), (409, Some("no_relay")), "{b}");
        // A second announcement is refused.
        let (s, _) = call(&app, "POST", &format!("/api/v1/staff/draws/{id}/announce"), &op, Some(json!({"scheduled_at": "2099-07-20 09:00"}))).await;
        assert_eq!(s, 409);
        // A school that admits everyone needs no draw.
        let (s, b) = call(&app, "POST", "/api/v1/staff/draws", &op, Some(json!({"campaign": "2027-G1", "unit": free}))).await;
        assert_eq!((s, b["error"]["code"].as_str()), (409, Some("no_draw_needed")), "{b}");
    }
}
