//! Issue #12, after the draw: results explained against the published
//! record, the public lookup, offers and waitlist movement (replayed),
//! administrative placement (caps, four eyes), notices and indicators.

mod common;

use common::published as draws;
use common::staff::token;
use common::{backend_test, spawn_app_with, Backend, TestApp};
use diesel::prelude::*;
use reqwest::StatusCode;
use ruxue::db::schema;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const G1: &str = "2027-G1";

async fn demo_with_draw(backend: Backend, extra: &[(&str, &str)]) -> (TestApp, String) {
    let app = spawn_app_with(backend, true, extra).await;
    draws::to_draw_phase(&app, G1);
    let unit = draws::unit_needing_draw(&app, G1, "school");
    let id = draws::publish(&app, G1, &unit, "73920145");
    (app, id)
}

fn result_of(app: &TestApp, app_id: &str) -> ruxue::service::offers::ResultView {
    let id = app_id.to_string();
    app.state.db.write_blocking(move |c| ruxue::service::offers::result_in(c, &id, ruxue::db::now())).expect("result")
}

backend_test! {
    /// Every applicant's result reads exactly what the published record says:
    /// lottery number, the school offered, each school's cut-off and the
    /// waitlist place; the parent's page and API say it in words.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn results_match_the_record(backend) {
        let (app, draw_id) = demo_with_draw(backend, &[]).await;
        let rec = draws::record(&app, &draw_id);
        let result = &rec["result"];
        let entries = draws::entries(&app, &draw_id);
        assert!(entries.len() > 1);
        let mut offered = 0;
        for (no, app_id) in &entries {
            let r = result_of(&app, app_id);
            let d = r.draw.as_ref().expect("a published draw result");
            assert_eq!(d.lottery_number, result["lottery_numbers"][no].as_i64().unwrap(), "{no}");
            let assigned = result["assignments"].as_object().unwrap().iter().find(|(_, v)| v.as_array().unwrap().iter().any(|x| x == no)).map(|(k, _)| k.clone());
            match &assigned {
                Some(s) => {
                    offered += 1;
                    let o = r.offer.as_ref().expect("an offer");
                    assert_eq!(&o.school_id, s);
                    assert_eq!(o.status, "offered");
                }
                None => {
                    assert!(r.offer.is_none());
                    assert_eq!(r.status, ruxue::domain::ApplicationStatus::Waitlisted);
                }
            }
            for line in &d.schools {
                let admitted = result["assignments"][&line.school_id].as_array().unwrap();
                let last = admitted.last().and_then(Value::as_str);
                match (&line.cutoff, last) {
                    (Some(c), Some(l)) => assert_eq!(c.lottery_number, result["lottery_numbers"][l].as_i64().unwrap()),
                    (None, None) => {}
                    other => panic!("cut-off {other:?}"),
                }
                let wl = result["waitlists"][&line.school_id].as_array().unwrap();
                let pos = wl.iter().position(|x| x == no).map(|p| p + 1);
                assert_eq!(line.waitlist_position, pos, "{no} at {}", line.school_id);
                assert_eq!(line.admitted, assigned.as_deref() == Some(line.school_id.as_str()));
                assert!(line.sentence.starts_with(&format!("您的孩子在{}的", line.school_name)), "{}", line.sentence);
                assert!(line.sentence.contains("中排第 "), "{}", line.sentence);
                assert!(line.sentence.contains("该校录取至") || line.sentence.contains("没有录取名额"), "{}", line.sentence);
            }
            // The inclusion proof is the record's, against the announced root.
            let proof = ruxue::draw::Proof::from_json(&d.proof.to_string()).unwrap();
            assert!(proof.check(), "{no}");
        }
        assert_eq!(offered, result["assignments"].as_object().unwrap().values().map(|v| v.as_array().unwrap().len()).sum::<usize>());

        // One waitlisted parent reads it on the page and through the API.
        let (no, app_id) = entries.iter().find(|(n, _)| result["unassigned"].as_array().unwrap().iter().any(|x| x == *n)).expect("someone unassigned");
        let (c, _) = draws::guardian_client(&app, app_id).await;
        let html = c.get(app.url(&format!("/parent/applications/{app_id}"))).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("录取结果"), "{html}");
        assert!(html.contains("候补第 1 位") || html.contains("候补第"), "{html}");
        assert!(html.contains(&format!("/api/v1/draws/{draw_id}/record").replace('/', "&#x2f;")) || html.contains(&format!("/api/v1/draws/{draw_id}/record")));
        let api: Value = c.get(app.url(&format!("/api/v1/registration/applications/{app_id}/result"))).send().await.unwrap().json().await.unwrap();
        assert_eq!(api["registration_no"], json!(no));
        assert_eq!(api["draw"]["lottery_number"], result["lottery_numbers"][no]);
        assert_eq!(api["offer"], Value::Null);
    }
}

backend_test! {
    /// 录取查询: the right six ID characters give the masked name and the
    /// outcome only; wrong ones say nothing more than "no match"; the
    /// address is limited.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn public_lookup(backend) {
        let (app, draw_id) = demo_with_draw(backend, &[("RUXUE__SERVER__RESULTS_RATE_PER_MINUTE", "4")]).await;
        let rec = draws::record(&app, &draw_id);
        let entries = draws::entries(&app, &draw_id);
        let (school, admitted) = draws::first_admitted(&rec);
        let no = admitted[0].as_str().unwrap();
        let id = draws::id_number(&app, &entries[no]);
        let tail = &id[id.len() - 6..];
        let c = reqwest::Client::new();
        let r = c.post(app.url("/api/v1/results/lookup")).json(&json!({"registration_no": no, "id_tail": tail})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let b: Value = r.json().await.unwrap();
        assert!(b["child_name"].as_str().unwrap().contains('*'), "{b}");
        let school_name = app.state.db.write_blocking({ let s = school.clone(); move |c| ruxue::db::offers::school_name(c, &s) }).unwrap();
        assert_eq!(b["outcome"], json!(format!("已录取：{school_name}（待家长确认）")));
        assert_eq!(b.as_object().unwrap().len(), 4, "masked name and outcome only: {b}");
        assert!(!b.to_string().contains(&id), "no ID number");
        // Wrong digits: the same answer as an unknown number.
        let wrong = if tail == "000000" { "111111" } else { "000000" };
        let r = c.post(app.url("/api/v1/results/lookup")).json(&json!({"registration_no": no, "id_tail": wrong})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["error"]["code"], json!("no_match"));
        let r = c.post(app.url("/api/v1/results/lookup")).json(&json!({"registration_no": "NO-SUCH", "id_tail": wrong})).send().await.unwrap();
        let b2: Value = r.json().await.unwrap();
        assert_eq!(b2["error"]["message"], b["error"]["message"]);
        // The page, in Chinese; then the limit (4 a minute) answers 429.
        let html = c.post(app.url("/results")).form(&[("registration_no", no), ("id_tail", tail)]).send().await.unwrap();
        assert_eq!(html.status(), StatusCode::OK);
        let html = html.text().await.unwrap();
        assert!(html.contains(&school_name), "{html}");
        let r = c.post(app.url("/api/v1/results/lookup")).json(&json!({"registration_no": no, "id_tail": tail})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(r.headers().get("retry-after").is_some());
    }
}

/// What a replay compares: every offer by registration number, and every
/// move of every school.
type Outcome = (BTreeMap<String, Vec<(String, String, String)>>, Vec<(String, i32, String, String, Option<String>, Option<i32>)>);

fn outcome(app: &TestApp) -> Outcome {
    app.state
        .db
        .write_blocking(|c| {
            let mut offers: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
            for (o, no) in ruxue::db::offers::campaign_offers(c, G1)? {
                offers.entry(no).or_default().push((o.school_id, o.status, o.source));
            }
            let moves = schema::waitlist_moves::table
                .order((schema::waitlist_moves::school_id.asc(), schema::waitlist_moves::seq.asc()))
                .select(ruxue::db::models::WaitlistMove::as_select())
                .load(c)?
                .into_iter()
                .map(|m| (m.school_id, m.seq, m.cause, m.freed_registration_no, m.offered_registration_no, m.waitlist_position))
                .collect();
            Ok((offers, moves))
        })
        .unwrap()
}

async fn answer(app: &TestApp, app_id: &str, a: &str) -> (StatusCode, Value) {
    let (c, csrf) = draws::guardian_client(app, app_id).await;
    let r = c
        .post(app.url(&format!("/api/v1/registration/applications/{app_id}/offer")))
        .header("X-CSRF-Token", csrf)
        .json(&json!({"answer": a}))
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn live_offer_school(app: &TestApp, app_id: &str) -> Option<(String, String)> {
    let id = app_id.to_string();
    app.state.db.write_blocking(move |c| ruxue::db::offers::live_offer(c, &id)).unwrap().map(|o| (o.school_id, o.source))
}

/// One script of answers on a fresh demo with the same draw.
async fn script(backend: Backend) -> (Outcome, Value) {
    let (app, draw_id) = demo_with_draw(backend, &[]).await;
    let rec = draws::record(&app, &draw_id);
    let e = draws::entries(&app, &draw_id);
    let res = &rec["result"];
    let (school, admitted) = res["assignments"].as_object().unwrap().iter().find(|(_, v)| v.as_array().unwrap().len() >= 3).unwrap();
    let admitted: Vec<String> = admitted.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let waitlist: Vec<String> = res["waitlists"][school].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    assert!(waitlist.len() >= 3, "a waitlist to move along");

    // 1. The first admitted child declines: the seat goes to waitlist #1.
    let (s, b) = answer(&app, &e[&admitted[0]], "decline").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["moves"][0]["offered_registration_no"], json!(waitlist[0]));
    assert_eq!(b["moves"][0]["waitlist_position"], json!(1));
    assert_eq!(live_offer_school(&app, &e[&waitlist[0]]), Some((school.clone(), "waitlist".into())));
    // A declined offer cannot be taken back.
    let (s, _) = answer(&app, &e[&admitted[0]], "accept").await;
    assert_eq!(s, StatusCode::CONFLICT);
    // 2. The second accepts; accepting twice is refused.
    let (s, b) = answer(&app, &e[&admitted[1]], "accept").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(answer(&app, &e[&admitted[1]], "accept").await.0, StatusCode::CONFLICT);
    // 3. The third lets the deadline pass: it expires and moves to #2.
    let third = e[&admitted[2]].clone();
    app.state
        .db
        .write_blocking(move |c| {
            diesel::update(schema::offers::table.filter(schema::offers::application_id.eq(&third)))
                .set(schema::offers::deadline.eq(ruxue::db::now() - chrono::Duration::minutes(1)))
                .execute(c)?;
            Ok(())
        })
        .unwrap();
    let (s, _) = answer(&app, &e[&admitted[2]], "accept").await;
    assert_eq!(s, StatusCode::CONFLICT, "an expired offer cannot be accepted");
    let n = ruxue::service::offers::expire_due_blocking(&app.state.db, &app.state.settings, ruxue::db::now()).unwrap();
    assert_eq!(n, 1);
    assert_eq!(live_offer_school(&app, &e[&waitlist[1]]), Some((school.clone(), "waitlist".into())));
    assert_eq!(live_offer_school(&app, &e[&admitted[2]]), None);
    // 4. Waitlist #1, now offered, declines too: #3 is next.
    let (s, b) = answer(&app, &e[&waitlist[0]], "decline").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["moves"][0]["offered_registration_no"], json!(waitlist[2]));

    // The public page lists the moves in order.
    let html = reqwest::get(app.url(&format!("/results/{G1}/schools/{school}"))).await.unwrap().text().await.unwrap();
    for no in [&admitted[0], &waitlist[0], &waitlist[1], &waitlist[2]] {
        assert!(html.contains(no.as_str()), "{no} on the public page");
    }
    // Every move audited.
    let actions: Vec<String> =
        app.state.db.write_blocking(|c| Ok(schema::audit_log::table.select(schema::audit_log::action).load::<String>(c)?)).unwrap();
    for a in ["offers.from_draw", "offer.decline", "offer.accept", "offer.expire"] {
        assert!(actions.iter().any(|x| x == a), "{a} audited");
    }
    let out = outcome(&app);
    (out, rec["result"].clone())
}

backend_test! {
    /// Accept, decline and expiry move the waitlist in its published order;
    /// replaying the same answers on the same record gives the same seats.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waitlist_moves_replay_identically(backend) {
        let (first, r1) = script(backend).await;
        let (second, r2) = script(backend).await;
        assert_eq!(r1, r2, "the same record");
        assert!(!first.1.is_empty());
        assert_eq!(first, second);
    }
}

async fn staff_json(app: &TestApp, who: (&str, &str), method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let t = token(app, who.0, who.1).await;
    let c = reqwest::Client::new();
    let rb = if method == "GET" { c.get(app.url(path)) } else { c.post(app.url(path)) };
    let rb = rb.bearer_auth(t);
    let rb = if let Some(b) = body { rb.json(&b) } else { rb };
    let r = rb.send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

const ADMIN: (&str, &str) = ("admin", "ruxue-demo-admin");
const OPERATOR: (&str, &str) = ("operator", "ruxue-demo-operator");
const AUDITOR: (&str, &str) = ("auditor", "ruxue-demo-auditor");
const REVIEWER: (&str, &str) = ("reviewer-fc", "ruxue-demo-reviewer");

fn set_four_eyes(app: &TestApp, on: bool) {
    app.state
        .db
        .write_blocking(move |c| {
            diesel::update(schema::campaigns::table.filter(schema::campaigns::id.eq(G1)))
                .set(schema::campaigns::four_eyes.eq(on))
                .execute(c)?;
            Ok(())
        })
        .unwrap();
}

backend_test! {
    /// 统筹: a placement needs a reason, never exceeds a school's seats, and
    /// with four eyes on needs a second staff member.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn placement_caps_and_four_eyes(backend) {
        let (app, draw_id) = demo_with_draw(backend, &[]).await;
        let rec = draws::record(&app, &draw_id);
        let drawn_school = rec["result"]["assignments"].as_object().unwrap().keys().next().unwrap().clone();
        let (s, v) = staff_json(&app, OPERATOR, "GET", &format!("/api/v1/staff/placements?campaign={G1}"), None).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let unplaced = v["unplaced"].as_array().unwrap();
        assert!(unplaced.len() >= 2, "waitlisted children are unplaced: {v}");
        let a1 = unplaced[0]["application_id"].as_str().unwrap().to_string();
        let a2 = unplaced[1]["application_id"].as_str().unwrap().to_string();
        assert!(unplaced[0]["child_name"].as_str().unwrap().contains('*'), "names masked");
        let proposal = unplaced[0]["proposals"][0].clone();
        assert!(proposal["free"].as_i64().unwrap() > 0, "{proposal}");
        let free_school = proposal["school_id"].as_str().unwrap().to_string();

        // The drawn school is full: refused, with the seats in words.
        let (s, b) = staff_json(&app, OPERATOR, "POST", "/api/v1/staff/placements", Some(json!({"application_id": a1, "school_id": drawn_school, "reason": "离家最近，家长申请"}))).await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}");
        assert_eq!(b["error"]["code"], json!("no_seats"));
        // One seat left at the free school (one class, cap = taken + 1).
        let fs = free_school.clone();
        app.state.db.write_blocking(move |c| {
            let taken = ruxue::db::offers::seats_taken(c, G1, &fs)?;
            assert!(taken < 45);
            diesel::update(schema::school_plans::table.filter(schema::school_plans::campaign_id.eq(G1)).filter(schema::school_plans::school_id.eq(&fs)))
                .set((schema::school_plans::planned_classes.eq(1), schema::school_plans::class_size_cap.eq(taken as i32 + 1)))
                .execute(c)?;
            Ok(())
        }).unwrap();

        // No reason: refused. A reviewer may not place; an auditor reads only.
        let (s, _) = staff_json(&app, OPERATOR, "POST", "/api/v1/staff/placements", Some(json!({"application_id": a1, "school_id": free_school, "reason": " "}))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _) = staff_json(&app, REVIEWER, "POST", "/api/v1/staff/placements", Some(json!({"application_id": a1, "school_id": free_school, "reason": "离家最近"}))).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = staff_json(&app, AUDITOR, "POST", "/api/v1/staff/placements", Some(json!({"application_id": a1, "school_id": free_school, "reason": "离家最近"}))).await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // Four eyes on: pending until someone else approves; a pending
        // placement holds the last seat, so a second one is refused.
        set_four_eyes(&app, true);
        let (s, p) = staff_json(&app, OPERATOR, "POST", "/api/v1/staff/placements", Some(json!({"application_id": a1, "school_id": free_school, "reason": "对口学校学位已满，就近安置"}))).await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        assert_eq!(p["status"], json!("pending"));
        assert_eq!(live_offer_school(&app, &a1), None, "no seat before the second person");
        let (s, b) = staff_json(&app, OPERATOR, "POST", "/api/v1/staff/placements", Some(json!({"application_id": a2, "school_id": free_school, "reason": "离家最近，家长申请"}))).await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}");
        assert_eq!(b["error"]["code"], json!("no_seats"));
        let pid = p["placement_id"].as_str().unwrap().to_string();
        let (s, b) = staff_json(&app, OPERATOR, "POST", &format!("/api/v1/staff/placements/{pid}/decide"), Some(json!({"approve": true}))).await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}");
        assert_eq!(b["error"]["code"], json!("four_eyes"));
        let (s, b) = staff_json(&app, ADMIN, "POST", &format!("/api/v1/staff/placements/{pid}/decide"), Some(json!({"approve": true}))).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["status"], json!("approved"));
        assert_eq!(live_offer_school(&app, &a1), Some((free_school.clone(), "placement".into())));
        let r = result_of(&app, &a1);
        assert_eq!(r.offer.as_ref().unwrap().note.as_deref(), Some("对口学校学位已满，就近安置"));
        // Full now.
        let (s, _) = staff_json(&app, ADMIN, "POST", "/api/v1/staff/placements", Some(json!({"application_id": a2, "school_id": free_school, "reason": "离家最近，家长申请"}))).await;
        assert_eq!(s, StatusCode::CONFLICT);

        // A plan above the county cap counts the cap: 4 classes of 60 are 180 seats.
        let fs = free_school.clone();
        app.state.db.write_blocking(move |c| {
            diesel::update(schema::school_plans::table.filter(schema::school_plans::campaign_id.eq(G1)).filter(schema::school_plans::school_id.eq(&fs)))
                .set((schema::school_plans::planned_classes.eq(4), schema::school_plans::class_size_cap.eq(60)))
                .execute(c)?;
            Ok(())
        }).unwrap();
        let (_, v) = staff_json(&app, ADMIN, "GET", &format!("/api/v1/staff/placements?campaign={G1}"), None).await;
        let row = v["schools"].as_array().unwrap().iter().find(|s| s["school_id"] == json!(free_school)).unwrap().clone();
        assert_eq!(row["seats"], json!(180), "{row}");
        assert_eq!(row["cap"], json!(45));

        // Four eyes off: the placement takes effect at once.
        set_four_eyes(&app, false);
        let (s, p) = staff_json(&app, ADMIN, "POST", "/api/v1/staff/placements", Some(json!({"application_id": a2, "school_id": free_school, "reason": "特殊情况，教育局研究决定"}))).await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        assert_eq!(p["status"], json!("approved"));
        assert_eq!(live_offer_school(&app, &a2), Some((free_school.clone(), "placement".into())));
        // Placed twice: refused.
        let (s, _) = staff_json(&app, ADMIN, "POST", "/api/v1/staff/placements", Some(json!({"application_id": a2, "school_id": free_school, "reason": "再次安置"}))).await;
        assert_eq!(s, StatusCode::CONFLICT);
        // The staff page lists both, in Chinese.
        let (c, _) = common::staff::page_login(&app, ADMIN).await;
        let html = c.get(app.url(&format!("/staff/placements?campaign={G1}"))).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("已安置") && html.contains("就近安置"), "{html}");
    }
}

backend_test! {
    /// 录取通知书: a child's A4 page and a school's batch parse as PDF, their
    /// text layer holds the child's name and school, and the pages render to
    /// non-blank PNGs. Rosters follow the role's masking.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn notices_and_rosters(backend) {
        let (app, draw_id) = demo_with_draw(backend, &[]).await;
        let rec = draws::record(&app, &draw_id);
        let entries = draws::entries(&app, &draw_id);
        let (school, admitted) = draws::first_admitted(&rec);
        let no = admitted[0].as_str().unwrap();
        let app_id = &entries[no];
        let child: String = {
            let id = app_id.clone();
            app.state.db.write_blocking(move |c| {
                let child: String = schema::applications::table.filter(schema::applications::id.eq(&id)).select(schema::applications::child_id).first(c)?;
                Ok(schema::children::table.filter(schema::children::id.eq(&child)).select(schema::children::name).first(c)?)
            }).unwrap()
        };
        let school_name = app.state.db.write_blocking({ let s = school.clone(); move |c| ruxue::db::offers::school_name(c, &s) }).unwrap();
        let t = token(&app, OPERATOR.0, OPERATOR.1).await;
        let c = reqwest::Client::new();
        let r = c.get(app.url(&format!("/api/v1/staff/notices/{app_id}"))).bearer_auth(&t).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/pdf");
        let pdf = r.bytes().await.unwrap().to_vec();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.len() < 400_000, "the font is a subset: {} bytes", pdf.len());
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("notice.pdf");
        std::fs::write(&f, &pdf).unwrap();
        let text = std::process::Command::new("pdftotext").arg("-layout").arg(&f).arg("-").output().expect("pdftotext (poppler-utils)");
        assert!(text.status.success());
        let text = String::from_utf8(text.stdout).unwrap();
        assert!(text.contains("录取通知书"), "{text}");
        assert!(text.contains(&child), "the child's name in the text layer: {text}");
        assert!(text.contains(&school_name) && text.contains(no), "{text}");
        let info = String::from_utf8(std::process::Command::new("pdfinfo").arg(&f).output().unwrap().stdout).unwrap();
        assert!(info.contains("595 x 842"), "A4: {info}");
        let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        let png_base = shots.join(format!("after-notice-{}", backend.name()));
        let st = std::process::Command::new("pdftoppm").args(["-png", "-r", "60", "-singlefile"]).arg(&f).arg(&png_base).status().unwrap();
        assert!(st.success());
        let png = std::fs::read(png_base.with_extension("png")).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 5_000, "a rendered, non-blank page ({} bytes)", png.len());

        // The school's batch: one page per admitted child.
        let r = c.get(app.url(&format!("/api/v1/staff/notices/schools/{school}?campaign={G1}"))).bearer_auth(&t).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let f2 = dir.path().join("school.pdf");
        std::fs::write(&f2, r.bytes().await.unwrap()).unwrap();
        let info = String::from_utf8(std::process::Command::new("pdfinfo").arg(&f2).output().unwrap().stdout).unwrap();
        let pages: usize = info.lines().find_map(|l| l.strip_prefix("Pages:")).map(|v| v.trim().parse().unwrap()).expect("page count");
        assert_eq!(pages, admitted.as_array().unwrap().len(), "{info}");
        // A child without a seat has no notice; auditors and reviewers print none.
        let unassigned = rec["result"]["unassigned"][0].as_str().unwrap();
        let r = c.get(app.url(&format!("/api/v1/staff/notices/{}", entries[unassigned]))).bearer_auth(&t).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let ta = token(&app, AUDITOR.0, AUDITOR.1).await;
        let r = c.get(app.url(&format!("/api/v1/staff/notices/{app_id}"))).bearer_auth(&ta).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        // Rosters: the admin sees the full ID number, the auditor a masked one and name.
        let id = draws::id_number(&app, app_id);
        let tad = token(&app, ADMIN.0, ADMIN.1).await;
        let csv = c.get(app.url(&format!("/api/v1/staff/rosters/{school}?campaign={G1}&format=csv"))).bearer_auth(&tad).send().await.unwrap().text().await.unwrap();
        assert!(csv.contains(&id) && csv.contains(&child), "{csv}");
        let csv = c.get(app.url(&format!("/api/v1/staff/rosters/{school}?campaign={G1}&format=csv"))).bearer_auth(&ta).send().await.unwrap().text().await.unwrap();
        assert!(!csv.contains(&id) && !csv.contains(&child) && csv.contains(no), "{csv}");
        let r = c.get(app.url(&format!("/api/v1/staff/rosters/{school}?campaign={G1}&format=xlsx"))).bearer_auth(&t).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    }
}

/// A hand-made county: campaign `2099-G1` with two schools, 140 children.
fn hand_made_county(app: &TestApp) {
    use ruxue::db::models::{Application, Campaign, Child, Offer};
    app.state
        .db
        .write_blocking(|c| {
            let mut camp: Campaign =
                schema::campaigns::table.filter(schema::campaigns::id.eq(G1)).select(Campaign::as_select()).first(c)?;
            camp.id = "2099-G1".into();
            camp.year = 2099;
            diesel::insert_into(schema::campaigns::table).values(&camp).execute(c)?;
            let schools: Vec<(String, String)> = schema::schools::table
                .filter(schema::schools::kind.eq("primary"))
                .select((schema::schools::id, schema::schools::kind))
                .order(schema::schools::id.asc())
                .limit(2)
                .load(c)?;
            let (sa, sb) = (schools[0].0.clone(), schools[1].0.clone());
            for (s, classes) in [(&sa, 2), (&sb, 1)] {
                diesel::insert_into(schema::school_plans::table)
                    .values((
                        schema::school_plans::campaign_id.eq("2099-G1"),
                        schema::school_plans::school_id.eq(s),
                        schema::school_plans::planned_classes.eq(classes),
                        schema::school_plans::class_size_cap.eq(45),
                    ))
                    .execute(c)?;
            }
            let guardian: String = schema::guardians::table.select(schema::guardians::id).first(c)?;
            let now = ruxue::db::now();
            for i in 0..140 {
                let child = Child {
                    id: format!("hm-child-{i}"),
                    campaign_id: "2099-G1".into(),
                    guardian_id: guardian.clone(),
                    name: format!("测试{i}"),
                    id_number_enc: "x".into(),
                    id_number_hash: format!("hm-hash-{i}"),
                    id_number_masked: "3505**********0000".into(),
                    birth_date: chrono::NaiveDate::from_ymd_opt(2093, 1, 1).unwrap(),
                    sex: "男".into(),
                    created_at: now,
                };
                diesel::insert_into(schema::children::table).values(&child).execute(c)?;
                // 0..25 disability (24 placed: all but #24), 25..35 migrant
                // (9 placed: all but #34), 35..38 left behind; 131 placed:
                // 0..91 at A (91 in 2 classes: one class of 46), 91..131 at B.
                let mut facts = json!({"application_no": format!("HM{i:04}")});
                if i < 25 {
                    facts["disability_support"] = json!(true);
                }
                if (25..35).contains(&i) {
                    facts["migrant"] = json!({"permit_no": "P1", "residence_start": "2095-01-01", "social_insurance_months": 24});
                }
                if (35..38).contains(&i) {
                    facts["left_behind"] = json!(true);
                }
                let placed = i != 24 && i != 34 && i < 133;
                let a = Application {
                    id: format!("hm-app-{i}"),
                    campaign_id: "2099-G1".into(),
                    child_id: child.id.clone(),
                    registration_no: format!("HM{i:04}"),
                    status: if placed { ruxue::domain::ApplicationStatus::Offered } else { ruxue::domain::ApplicationStatus::Waitlisted },
                    facts_json: facts.to_string(),
                    family_id: None,
                    township_id: None,
                    catchment_school_id: None,
                    zone_id: None,
                    category: None,
                    priority_json: None,
                    explanation: None,
                    idempotency_key: None,
                    submitted_at: now,
                    updated_at: now,
                    version: 1,
                    assigned_township_id: None,
                };
                diesel::insert_into(schema::applications::table).values(&a).execute(c)?;
                if placed {
                    // Placed order skips #24 and #34: count the placed so far.
                    let k = (0..i).filter(|j| *j != 24 && *j != 34).count();
                    let school = if k < 91 { &sa } else { &sb };
                    let o = Offer {
                        id: format!("hm-offer-{i}"),
                        application_id: a.id.clone(),
                        school_id: school.clone(),
                        draw_id: None,
                        status: if i % 2 == 0 { "accepted".into() } else { "offered".into() },
                        deadline: now,
                        offered_at: now,
                        responded_at: None,
                        source: "admit_all".into(),
                        note: None,
                    };
                    diesel::insert_into(schema::offers::table).values(&o).execute(c)?;
                }
            }
            Ok(())
        })
        .unwrap();
}

backend_test! {
    /// 督导指标 on a county where every figure is known.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn indicators_on_a_hand_made_county(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        hand_made_county(&app);
        let (s, i) = staff_json(&app, AUDITOR, "GET", "/api/v1/staff/indicators?campaign=2099-G1", None).await;
        assert_eq!(s, StatusCode::OK, "{i}");
        assert_eq!(i["classes"], json!(3));
        assert_eq!(i["pupils"], json!(131));
        let a = &i["schools"][0];
        assert_eq!((a["pupils"].clone(), a["largest_class"].clone(), a["oversize_classes"].clone(), a["ok"].clone()), (json!(91), json!(46), json!(1), json!(false)));
        let b = &i["schools"][1];
        assert_eq!((b["pupils"].clone(), b["largest_class"].clone(), b["ok"].clone()), (json!(40), json!(40), json!(true)));
        assert_eq!(i["oversize_classes"], json!(1));
        assert_eq!(i["schools_failing"], json!(1));
        assert_eq!((i["disability_registered"].clone(), i["disability_enrolled"].clone(), i["disability_rate_permille"].clone()), (json!(25), json!(24), json!(960)));
        assert_eq!(i["disability_target_met"], json!(true));
        assert_eq!((i["migrant_registered"].clone(), i["migrant_placed_public"].clone(), i["migrant_rate_permille"].clone()), (json!(10), json!(9), json!(900)));
        assert_eq!(i["left_behind"], json!(3));
        // The page, with its charts, and the workbook.
        let (c, _) = common::staff::page_login(&app, OPERATOR).await;
        let html = c.get(app.url("/staff/indicators?campaign=2099-G1")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("<svg") && html.contains("96.0%") && html.contains("90.0%") && html.contains("大班额"), "{html}");
        let r = c.get(app.url("/staff/indicators?campaign=2099-G1&format=xlsx")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.bytes().await.unwrap().starts_with(b"PK"));
        // Reviewers do not see it.
        let (s, _) = staff_json(&app, REVIEWER, "GET", "/api/v1/staff/indicators?campaign=2099-G1", None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
}

backend_test! {
    /// The demo after the draw (item 8): results with explanations, a declined
    /// offer that moved a waitlist, two placements, notices and indicators.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn demo_after_the_draw(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let settings = app.state.settings.clone();
        let db = app.state.db.clone();
        let draw_id = tokio::task::spawn_blocking(move || ruxue::demo::after_draw(&db, &settings)).await.unwrap().expect("after draw");
        let (o, moves) = outcome(&app);
        assert!(moves.iter().any(|m| m.2 == "declined" && m.4.is_some()), "a declined offer moved the waitlist: {moves:?}");
        assert_eq!(o.values().flatten().filter(|x| x.2 == "placement").count(), 2, "two placements");
        assert!(o.values().flatten().any(|x| x.2 == "admit_all"), "schools that admit everyone have offers");
        let (s, v) = staff_json(&app, ADMIN, "GET", &format!("/api/v1/staff/placements?campaign={G1}"), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["placements"].as_array().unwrap().iter().filter(|p| p["status"] == json!("已安置")).count(), 2, "{v}");
        let (s, i) = staff_json(&app, AUDITOR, "GET", &format!("/api/v1/staff/indicators?campaign={G1}"), None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(i["pupils"].as_i64().unwrap() > 0);
        let entries = draws::entries(&app, &draw_id);
        let r = result_of(&app, entries.values().next().unwrap());
        assert!(!r.draw.unwrap().schools[0].sentence.is_empty());
    }
}

fn set_school_point(app: &TestApp, school: &str, point: Option<(f64, f64)>) {
    let s = school.to_string();
    app.state
        .db
        .write_blocking(move |c| {
            diesel::update(schema::schools::table.filter(schema::schools::id.eq(&s)))
                .set((schema::schools::lat.eq(point.map(|p| p.1)), schema::schools::lon.eq(point.map(|p| p.0))))
                .execute(c)?;
            Ok(())
        })
        .unwrap();
}

backend_test! {
    /// 统筹 proposals: the nearest schools with free seats by great-circle
    /// distance from the child's own catchment school where both have
    /// coordinates (the demo county's schools have them); a school without
    /// coordinates falls behind, ranked by catchment neighbours; a child whose
    /// own school has none is ranked by neighbours only.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn placement_proposals_nearest_first(backend) {
        let (app, _) = demo_with_draw(backend, &[]).await;
        let points: BTreeMap<&str, (f64, f64)> = ruxue::demo::SCHOOL_POINTS.iter().map(|(s, lon, lat)| (*s, (*lon, *lat))).collect();
        let view = || async { staff_json(&app, OPERATOR, "GET", &format!("/api/v1/staff/placements?campaign={G1}"), None).await.1 };
        let v = view().await;
        let u = v["unplaced"][0].clone();
        let home: String = {
            let a = u["application_id"].as_str().unwrap().to_string();
            app.state.db.write_blocking(move |c| Ok(schema::applications::table.find(a).select(schema::applications::catchment_school_id.assume_not_null()).first(c)?)).unwrap()
        };
        let h = points[home.as_str()];
        let dist = |s: &str| ruxue::catchment::distance_m(ruxue::catchment::GeoPoint::new(h.0, h.1), ruxue::catchment::GeoPoint::new(points[s].0, points[s].1)).round() as i64;
        // Expected: every school with free seats, nearest first.
        let mut want: Vec<(i64, String)> = v["schools"].as_array().unwrap().iter().filter(|s| s["free"].as_i64().unwrap() > 0).map(|s| {
            let id = s["school_id"].as_str().unwrap();
            (dist(id), id.to_string())
        }).collect();
        want.sort();
        let got: Vec<(i64, String)> = u["proposals"].as_array().unwrap().iter().map(|p| (p["distance_m"].as_i64().expect("a distance"), p["school_id"].as_str().unwrap().to_string())).collect();
        assert_eq!(got, want.iter().take(3).cloned().collect::<Vec<_>>(), "{u}");
        assert!(u["proposals"][0]["basis"].as_str().unwrap().starts_with("距离约"), "{u}");
        // The staff page says why each is proposed.
        let (c, _) = common::staff::page_login(&app, ADMIN).await;
        let page = || async { c.get(app.url(&format!("/staff/placements?campaign={G1}"))).send().await.unwrap().text().await.unwrap() };
        let html = page().await;
        assert!(html.contains("距离约"), "{html}");

        // The nearest loses its coordinates: it falls behind the others.
        let nearest = got[0].1.clone();
        set_school_point(&app, &nearest, None);
        let u = view().await["unplaced"][0].clone();
        let ids: Vec<&str> = u["proposals"].as_array().unwrap().iter().map(|p| p["school_id"].as_str().unwrap()).collect();
        assert_eq!(ids[0], got[1].1, "{u}");
        if let Some(p) = u["proposals"].as_array().unwrap().iter().find(|p| p["school_id"] == json!(nearest)) {
            assert!(p["distance_m"].is_null() && ["同一乡镇", "其他乡镇"].contains(&p["basis"].as_str().unwrap()), "{p}");
        }

        // The child's own school has none: neighbours only (own township first).
        set_school_point(&app, &nearest, Some(points[nearest.as_str()]));
        set_school_point(&app, &home, None);
        let u = view().await["unplaced"][0].clone();
        let props = u["proposals"].as_array().unwrap();
        assert!(props.iter().all(|p| p["distance_m"].is_null()), "{u}");
        assert_eq!(props[0]["basis"], json!("同一乡镇"), "{u}");
        assert!(page().await.contains("同一乡镇"));
    }
}

backend_test! {
    /// `ruxue serve` expires an offer past its deadline by itself (every
    /// `admission.deadline_sweep_secs`): the seat goes to the first child
    /// waiting, who is told.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_served_instance_expires_overdue_offers_by_itself(backend) {
        let (app, draw_id) = demo_with_draw(backend, &[]).await;
        let rec = draws::record(&app, &draw_id);
        let entries = draws::entries(&app, &draw_id);
        let (school, admitted) = draws::first_admitted(&rec);
        let late = entries[admitted[0].as_str().unwrap()].clone();
        let next = entries[rec["result"]["waitlists"][school][0].as_str().unwrap()].clone();
        let l2 = late.clone();
        app.state
            .db
            .write_blocking(move |c| {
                diesel::update(schema::offers::table.filter(schema::offers::application_id.eq(&l2)))
                    .set(schema::offers::deadline.eq(ruxue::db::now() - chrono::Duration::hours(1)))
                    .execute(c)?;
                Ok(())
            })
            .unwrap();
        assert_eq!(live_offer_school(&app, &next), None);

        let dir = tempfile::tempdir().unwrap();
        let server = common::load::Server::start(
            &app.db.url,
            dir.path(),
            &[("RUXUE__ADMISSION__DEADLINE_SWEEP_SECS", "1"), ("RUXUE__NOTIFY__WORKER_IN_SERVE", "false")],
        );
        let started = std::time::Instant::now();
        while live_offer_school(&app, &next).is_none() {
            assert!(started.elapsed() < std::time::Duration::from_secs(30), "the served instance did not expire the offer");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        server.kill9();
        assert_eq!(live_offer_school(&app, &next), Some((school.clone(), "waitlist".into())));
        assert_eq!(live_offer_school(&app, &late), None);
        let r = result_of(&app, &late);
        assert_eq!(r.offers[0].status, "expired");
        let n = next.clone();
        let told: i64 = app
            .state
            .db
            .write_blocking(move |c| {
                Ok(schema::notifications::table
                    .filter(schema::notifications::application_id.eq(&n))
                    .filter(schema::notifications::event.eq("waitlist_offer"))
                    .count()
                    .get_result(c)?)
            })
            .unwrap();
        assert_eq!(told, 1, "the next child is told");
    }
}
