//! Issue 6: the staff console over the real server, on both backends:
//! the role × endpoint matrix, token attacks, lock-out, the audit chain
//! against tampering, and the review flow end to end.

mod common;

use common::*;
use diesel::prelude::*;
use reqwest::StatusCode;
use ruxue::db::schema;
use serde_json::{json, Value};

const ADMIN: (&str, &str) = ("admin", "ruxue-demo-admin");
const REVIEWER: (&str, &str) = ("reviewer-fc", "ruxue-demo-reviewer");
const REVIEWER2: (&str, &str) = ("reviewer-fc2", "ruxue-demo-reviewer");
const REVIEWER_CX: (&str, &str) = ("reviewer-cx", "ruxue-demo-reviewer");
const OPERATOR: (&str, &str) = ("operator", "ruxue-demo-operator");
const AUDITOR: (&str, &str) = ("auditor", "ruxue-demo-auditor");

use common::staff::client;

struct Tokens {
    access: String,
    refresh: String,
}

async fn api_login(app: &TestApp, who: (&str, &str)) -> Tokens {
    let (access, refresh) = common::staff::api_login(app, who.0, who.1).await;
    Tokens { access, refresh }
}

use common::staff::{page_login, set_cookie_value};

/// (application id, registration number) of applications in a township with a status.
async fn apps_in(app: &TestApp, township: &str, statuses: &[&str], campaign: &str) -> Vec<(String, String)> {
    let t = township.to_string();
    let s: Vec<String> = statuses.iter().map(|s| s.to_string()).collect();
    let c = campaign.to_string();
    app.state
        .db
        .run(move |conn| {
            Ok(schema::applications::table
                .filter(schema::applications::township_id.eq(t))
                .filter(schema::applications::status.eq_any(s))
                .filter(schema::applications::campaign_id.eq(c))
                .order(schema::applications::registration_no.asc())
                .select((schema::applications::id, schema::applications::registration_no))
                .load(conn)?)
        })
        .await
        .unwrap()
}

async fn sql(app: &TestApp, statement: &str) {
    use diesel::connection::SimpleConnection;
    let s = statement.to_string();
    app.state.db.run(move |c| c.batch_execute(&s).map_err(ruxue::error::AppError::from)).await.unwrap();
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String, String)> {
    app.state
        .db
        .run(|c| {
            Ok(schema::audit_log::table
                .order(schema::audit_log::seq.asc())
                .select((schema::audit_log::actor, schema::audit_log::action, schema::audit_log::target))
                .load(c)?)
        })
        .await
        .unwrap()
}

/// A stored PNG document for an application; returns the document id.
async fn add_document(app: &TestApp, application_id: &str) -> String {
    use sha2::Digest;
    let png: Vec<u8> = [&[0x89u8, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a][..], b"not really an image but stored as one"].concat();
    let hash = hex::encode(sha2::Sha256::digest(&png));
    let dir = app.state.settings.uploads.dir.clone();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{hash}.png")), &png).unwrap();
    let id = ruxue::db::new_id();
    let row = ruxue::db::models::Document {
        id: id.clone(),
        application_id: application_id.into(),
        kind: "property_cert".into(),
        content_hash: format!("{hash}.png"),
        mime: "image/png".into(),
        size_bytes: png.len() as i64,
        uploaded_at: ruxue::db::now(),
    };
    app.state.db.write(move |c| Ok(diesel::insert_into(schema::documents::table).values(&row).execute(c)?)).await.unwrap();
    id
}

// ---------------------------------------------------------------- the matrix

#[derive(Clone, Copy, Debug, PartialEq)]
enum R {
    Anon,
    Admin,
    Reviewer,
    Operator,
    Auditor,
}

const ROLES: [R; 5] = [R::Anon, R::Admin, R::Reviewer, R::Operator, R::Auditor];

struct Case {
    method: &'static str,
    path: String,
    body: Option<Value>,
    allowed: &'static [R],
    /// The status an allowed caller gets (None: any 2xx/3xx).
    ok: Option<u16>,
}

fn case(method: &'static str, path: impl Into<String>, body: Option<Value>, allowed: &'static [R], ok: Option<u16>) -> Case {
    Case { method, path: path.into(), body, allowed, ok }
}

const ALL: &[R] = &[R::Admin, R::Reviewer, R::Operator, R::Auditor];
const REV: &[R] = &[R::Admin, R::Reviewer];
/// One application: reviewers, and auditors read-only with personal data masked.
const READ: &[R] = &[R::Admin, R::Reviewer, R::Auditor];
const AUD: &[R] = &[R::Admin, R::Auditor];
const ADM: &[R] = &[R::Admin];
const EXP_APPS: &[R] = &[R::Admin, R::Reviewer, R::Auditor];
const EXP_DRAWS: &[R] = &[R::Admin, R::Operator, R::Auditor];
const DRY: &[R] = &[R::Admin, R::Operator, R::Auditor];
const PLACE: &[R] = &[R::Admin, R::Operator];

fn api_cases(fc_app: &str, doc: &str, throwaway: &str, n: usize) -> Vec<Case> {
    vec![
        case("GET", "/api/v1/staff/me", None, ALL, Some(200)),
        case(
            "POST",
            "/api/v1/staff/password",
            Some(json!({"current_password": "wrong-password", "new_password": "another-long-password"})),
            ALL,
            Some(422),
        ),
        case("GET", "/api/v1/staff/review/queue?status=under_review", None, REV, Some(200)),
        case("GET", format!("/api/v1/staff/review/applications/{fc_app}"), None, READ, Some(200)),
        case(
            "POST",
            format!("/api/v1/staff/review/applications/{fc_app}/decisions"),
            Some(json!({"decision": "note", "note": "电话核实"})),
            REV,
            Some(200),
        ),
        // An application its address places: the admin may not move it (409); others are refused.
        case(
            "POST",
            format!("/api/v1/staff/review/applications/{fc_app}/assign"),
            Some(json!({"township_id": "CX", "reason": "测试"})),
            ADM,
            Some(409),
        ),
        case("POST", "/api/v1/staff/review/decisions/no-such-decision/second", Some(json!({"agree": true})), REV, Some(404)),
        case("GET", format!("/api/v1/staff/documents/{doc}"), None, REV, Some(200)),
        case("GET", "/api/v1/staff/dashboard", None, ALL, Some(200)),
        case("GET", "/api/v1/staff/dashboard?campaign=2027-G7", None, ALL, Some(200)),
        case("GET", "/api/v1/staff/dry-run?campaign=2027-G1", None, DRY, Some(200)),
        case("GET", "/api/v1/staff/draws/plan?campaign=2027-G1", None, DRY, Some(200)),
        // After the draw (#12): refusals only, nothing is placed or offered.
        case("GET", "/api/v1/staff/placements?campaign=2027-G1", None, DRY, Some(200)),
        case(
            "POST",
            "/api/v1/staff/placements",
            Some(json!({"application_id": "no-such-app", "school_id": "P01", "reason": "统筹安置测试"})),
            PLACE,
            Some(404),
        ),
        case("POST", "/api/v1/staff/placements/no-such-placement/decide", Some(json!({"approve": true})), PLACE, Some(404)),
        case("POST", "/api/v1/staff/offers/admit-all", Some(json!({"campaign": "2027-G1"})), PLACE, Some(409)),
        case("GET", "/api/v1/staff/notices/no-such-app", None, PLACE, Some(404)),
        case("GET", "/api/v1/staff/notices/schools/P01?campaign=2027-G1", None, PLACE, Some(409)),
        case("GET", "/api/v1/staff/rosters/P01?campaign=2027-G1&format=csv", None, DRY, Some(200)),
        case("GET", "/api/v1/staff/indicators?campaign=2027-G1", None, DRY, Some(200)),
        // Draw day: refusals only (review is open in the demo), and unknown draws.
        case("GET", "/api/v1/staff/draws", None, DRY, Some(200)),
        case("POST", "/api/v1/staff/draws", Some(json!({"campaign": "2027-G1", "unit": "P01"})), PLACE, Some(409)),
        case("GET", "/api/v1/staff/draws/no-such-draw", None, DRY, Some(404)),
        case("POST", "/api/v1/staff/draws/no-such-draw/witnesses", Some(json!({"name": "王", "role": "notary"})), PLACE, Some(404)),
        case("POST", "/api/v1/staff/draws/no-such-draw/witnesses/w/value", Some(json!({"value": "1"})), PLACE, Some(404)),
        case("POST", "/api/v1/staff/draws/no-such-draw/announce", Some(json!({"scheduled_at": "2099-07-20 09:00"})), PLACE, Some(404)),
        case("POST", "/api/v1/staff/draws/no-such-draw/beacon", Some(json!({})), PLACE, Some(404)),
        case("POST", "/api/v1/staff/draws/no-such-draw/run", None, PLACE, Some(404)),
        case("POST", "/api/v1/staff/draws/no-such-draw/publish", None, PLACE, Some(404)),
        case("GET", "/api/v1/staff/dry-run?campaign=2027-G1&format=placement_csv", None, PLACE, Some(200)),
        case("GET", "/api/v1/staff/exports/applications?format=csv", None, EXP_APPS, Some(200)),
        case("GET", "/api/v1/staff/exports/reviews?format=xlsx", None, EXP_APPS, Some(200)),
        case("GET", "/api/v1/staff/exports/draws?format=csv", None, EXP_DRAWS, Some(200)),
        case("GET", "/api/v1/staff/exports/offers?format=xlsx", None, ALL, Some(200)),
        case("GET", "/api/v1/staff/audit?page=1", None, AUD, Some(200)),
        case("GET", "/api/v1/staff/audit/export?format=jsonl", None, AUD, Some(200)),
        case("GET", "/api/v1/staff/audit/export?format=csv", None, AUD, Some(200)),
        case("GET", "/api/v1/staff/accounts", None, ADM, Some(200)),
        case(
            "POST",
            "/api/v1/staff/accounts",
            Some(
                json!({"username": format!("new-{n}"), "display_name": "新同事", "role": "auditor", "password": "a-long-enough-password"}),
            ),
            ADM,
            Some(201),
        ),
        case(
            "POST",
            format!("/api/v1/staff/accounts/{throwaway}/password"),
            Some(json!({"password": "reset-to-this-password"})),
            ADM,
            Some(204),
        ),
        // The throwaway account is not locked: the admin gets 409, the others 403.
        case("POST", format!("/api/v1/staff/accounts/{throwaway}/state"), Some(json!({"action": "unlock"})), ADM, Some(409)),
        case("GET", "/api/v1/staff/campaigns", None, AUD, Some(200)),
        case("GET", "/api/v1/staff/notifications?campaign=2027-G1", None, DRY, Some(200)),
        case("POST", "/api/v1/staff/notifications/no-such-message/resend", None, ADM, Some(404)),
        // Refusals only, so the matrix leaves the campaigns as they were:
        // 2027-G1 still has applications under review, and 2027 grade 1 exists.
        case("POST", "/api/v1/staff/campaigns/2027-G1/advance", Some(json!({"to": "draw"})), ADM, Some(409)),
        case("POST", "/api/v1/staff/campaigns", Some(json!({"from": "2027-G1", "year": 2027})), ADM, Some(409)),
        case(
            "POST",
            "/api/v1/staff/campaigns/2027-G1/plans/no-such-school",
            Some(json!({"planned_classes": 1, "class_size_cap": 45})),
            ADM,
            Some(404),
        ),
        // Last: it revokes the caller's tokens.
        case("POST", "/api/v1/staff/logout", None, ALL, Some(204)),
    ]
}

fn page_cases(fc_app: &str, doc: &str, throwaway: &str, n: usize) -> Vec<Case> {
    vec![
        case("GET", "/staff", None, ALL, Some(303)),
        case("GET", "/staff/password", None, ALL, Some(200)),
        case(
            "POST",
            "/staff/password",
            Some(json!({"current_password": "wrong-password", "new_password": "another-long-password"})),
            ALL,
            Some(422),
        ),
        case("GET", "/staff/review?status=under_review", None, REV, Some(200)),
        case("GET", format!("/staff/review/{fc_app}"), None, READ, Some(200)),
        case("POST", format!("/staff/review/{fc_app}"), Some(json!({"decision": "note", "note": "已电话核实"})), REV, Some(303)),
        case("POST", format!("/staff/review/{fc_app}/assign"), Some(json!({"township_id": "CX", "reason": "测试"})), ADM, Some(409)),
        case("POST", "/staff/decisions/no-such-decision/second", Some(json!({"agree": "1", "application": fc_app})), REV, Some(404)),
        case("GET", format!("/staff/documents/{doc}"), None, REV, Some(200)),
        case("GET", "/staff/dashboard", None, ALL, Some(200)),
        case("GET", "/staff/dry-run", None, DRY, Some(200)),
        case("GET", "/staff/placements?campaign=2027-G1", None, DRY, Some(200)),
        case("GET", "/staff/notices/no-such-app", None, PLACE, Some(404)),
        case("GET", "/staff/notices/schools/P01?campaign=2027-G1", None, PLACE, Some(409)),
        case("GET", "/staff/rosters/P01?campaign=2027-G1&format=xlsx", None, DRY, Some(200)),
        case("GET", "/staff/indicators?campaign=2027-G1", None, DRY, Some(200)),
        case(
            "POST",
            "/staff/placements",
            Some(json!({"campaign": "2027-G1", "application_id": "no-such-app", "school_id": "P01", "reason": "统筹安置测试"})),
            PLACE,
            Some(404),
        ),
        case(
            "POST",
            "/staff/placements/no-such-placement/decide",
            Some(json!({"campaign": "2027-G1", "approve": "yes"})),
            PLACE,
            Some(404),
        ),
        case("GET", "/staff/dry-run?campaign=2027-G7&format=csv", None, DRY, Some(200)),
        case("GET", "/staff/exports/applications?format=xlsx", None, EXP_APPS, Some(200)),
        case("GET", "/staff/exports/reviews?format=csv", None, EXP_APPS, Some(200)),
        case("GET", "/staff/exports/draws?format=xlsx", None, EXP_DRAWS, Some(200)),
        case("GET", "/staff/exports/offers?format=csv", None, ALL, Some(200)),
        case("GET", "/staff/audit", None, AUD, Some(200)),
        case("GET", "/staff/audit/export?format=csv", None, AUD, Some(200)),
        case("GET", "/staff/accounts", None, ADM, Some(200)),
        case(
            "POST",
            "/staff/accounts",
            Some(
                json!({"username": format!("page-new-{n}"), "display_name": "新同事", "role": "reviewer", "township_scope": "FC,CX", "password": "a-long-enough-password"}),
            ),
            ADM,
            Some(200),
        ),
        case("POST", format!("/staff/accounts/{throwaway}/password"), Some(json!({"password": "reset-to-this-password"})), ADM, Some(200)),
        case("POST", format!("/staff/accounts/{throwaway}/state"), Some(json!({"action": "unlock"})), ADM, Some(409)),
        case("GET", "/staff/campaigns", None, AUD, Some(200)),
        case("GET", "/staff/notifications?status=dead", None, DRY, Some(200)),
        case("POST", "/staff/notifications/no-such-message/resend", Some(json!({})), ADM, Some(404)),
        case("POST", "/staff/campaigns/2027-G1/advance", Some(json!({"to": "draw"})), ADM, Some(409)),
        case("POST", "/staff/campaigns", Some(json!({"from": "2027-G1", "year": "2027"})), ADM, Some(409)),
        case("GET", "/staff/draws", None, DRY, Some(200)),
        case("GET", "/staff/draws?campaign=2027-G7", None, DRY, Some(200)),
        case("POST", "/staff/draws", Some(json!({"campaign": "2027-G1", "unit": "P01"})), PLACE, Some(409)),
        case("GET", "/staff/draws/NOPE", None, DRY, Some(404)),
        case("POST", "/staff/draws/NOPE/witnesses", Some(json!({"name": "王公证", "role": "notary"})), PLACE, Some(404)),
        case("POST", "/staff/draws/NOPE/witnesses/NOPE/value", Some(json!({"value": "1"})), PLACE, Some(404)),
        case("POST", "/staff/draws/NOPE/announce", Some(json!({"scheduled_at": "2099-07-20 09:00"})), PLACE, Some(404)),
        case("POST", "/staff/draws/NOPE/beacon", Some(json!({"value": ""})), PLACE, Some(404)),
        case("POST", "/staff/draws/NOPE/run", None, PLACE, Some(404)),
        case("POST", "/staff/draws/NOPE/publish", None, PLACE, Some(404)),
        case("POST", "/staff/logout", None, ALL, Some(303)),
    ]
}

async fn create_throwaway(app: &TestApp, admin: &Tokens, name: &str) -> String {
    let r = client()
        .post(app.url("/api/v1/staff/accounts"))
        .bearer_auth(&admin.access)
        .json(&json!({"username": name, "display_name": "临时", "role": "operator", "password": "throwaway-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

backend_test! {
    #[tokio::test]
    async fn every_endpoint_for_every_role(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let fc = apps_in(&app, "FC", &["under_review", "submitted"], "2027-G1").await;
        let cx = apps_in(&app, "CX", &["under_review", "submitted"], "2027-G1").await;
        let (fc_app, cx_app) = (fc[0].0.clone(), cx[0].0.clone());
        let doc = add_document(&app, &fc_app).await;
        let cx_doc = add_document(&app, &cx_app).await;
        let admin = api_login(&app, ADMIN).await;
        let throwaway = create_throwaway(&app, &admin, "throwaway").await;

        // The JSON API.
        for (n, role) in ROLES.iter().enumerate() {
            let token = match role {
                R::Anon => None,
                R::Admin => Some(api_login(&app, ADMIN).await.access),
                R::Reviewer => Some(api_login(&app, REVIEWER).await.access),
                R::Operator => Some(api_login(&app, OPERATOR).await.access),
                R::Auditor => Some(api_login(&app, AUDITOR).await.access),
            };
            for c in api_cases(&fc_app, &doc, &throwaway, n) {
                let mut rb = match c.method {
                    "GET" => client().get(app.url(&c.path)),
                    _ => client().post(app.url(&c.path)),
                };
                if let Some(t) = &token {
                    rb = rb.bearer_auth(t);
                }
                if let Some(b) = &c.body {
                    rb = rb.json(b);
                }
                let r = rb.send().await.unwrap();
                let status = r.status().as_u16();
                let expected = if *role == R::Anon { 401 } else if c.allowed.contains(role) { c.ok.unwrap() } else { 403 };
                assert_eq!(status, expected, "{backend:?} {role:?} {} {}: {}", c.method, c.path, r.text().await.unwrap_or_default());
                if status == 401 || status == 403 {
                    let body: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
                    assert!(body["error"]["message"].as_str().unwrap().chars().any(|ch| ch > '\u{2e80}'), "Chinese message");
                }
            }
        }

        // The pages (cookies + CSRF).
        for (n, role) in ROLES.iter().enumerate() {
            let (c, csrf) = match role {
                R::Anon => (client(), String::new()),
                R::Admin => page_login(&app, ADMIN).await,
                R::Reviewer => page_login(&app, REVIEWER).await,
                R::Operator => page_login(&app, OPERATOR).await,
                R::Auditor => page_login(&app, AUDITOR).await,
            };
            for k in page_cases(&fc_app, &doc, &throwaway, n) {
                let rb = match k.method {
                    "GET" => c.get(app.url(&k.path)),
                    _ => {
                        let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf.clone())];
                        if let Some(Value::Object(m)) = &k.body {
                            for (key, v) in m {
                                form.push((key.clone(), v.as_str().unwrap_or_default().to_string()));
                            }
                        }
                        c.post(app.url(&k.path)).form(&form)
                    }
                };
                let r = rb.send().await.unwrap();
                let status = r.status().as_u16();
                if *role == R::Anon {
                    assert_eq!(status, 303, "{backend:?} anonymous {}", k.path);
                    let loc = r.headers()["location"].to_str().unwrap();
                    assert!(loc.starts_with("/staff/login?next="), "{loc}");
                    continue;
                }
                let expected = if k.allowed.contains(role) { k.ok.unwrap() } else { 403 };
                assert_eq!(status, expected, "{backend:?} {role:?} page {} {}", k.method, k.path);
                if status == 403 {
                    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
                    let html = r.text().await.unwrap();
                    assert!(html.contains("您没有执行此操作的权限"), "a Chinese page, not JSON");
                    continue;
                }
                if k.path.starts_with("/staff/documents/") && status == 200 {
                    assert_eq!(r.headers()["cache-control"], "no-store");
                    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("inline"));
                    assert_eq!(r.headers()["content-type"], "image/png");
                }
            }
        }

        // Another township's application, its documents and decisions: 404, not 403.
        let cx_rev = api_login(&app, REVIEWER).await;
        for (method, path) in [
            ("GET", format!("/api/v1/staff/review/applications/{cx_app}")),
            ("POST", format!("/api/v1/staff/review/applications/{cx_app}/decisions")),
            ("GET", format!("/api/v1/staff/documents/{cx_doc}")),
        ] {
            let rb = if method == "GET" { client().get(app.url(&path)) } else { client().post(app.url(&path)).json(&json!({"decision": "note", "note": "x"})) };
            let r = rb.bearer_auth(&cx_rev.access).send().await.unwrap();
            assert_eq!(r.status(), 404, "{backend:?} {path}");
        }
        // …and the queue never lists it, whatever the filter.
        let q: Value = client().get(app.url("/api/v1/staff/review/queue?campaign=2027-G1")).bearer_auth(&cx_rev.access).send().await.unwrap().json().await.unwrap();
        assert!(q["total"].as_u64().unwrap() > 0);
        let mut page = 1;
        loop {
            let q: Value = client()
                .get(app.url(&format!("/api/v1/staff/review/queue?page={page}")))
                .bearer_auth(&cx_rev.access)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            for r in q["rows"].as_array().unwrap() {
                assert_eq!(r["township"], "凤城镇");
                assert!(r["child_name"].as_str().unwrap().contains('*'), "names masked in lists");
            }
            if page >= q["pages"].as_i64().unwrap() {
                break;
            }
            page += 1;
        }
        // The CX reviewer sees the CX document; the FC one is hidden.
        let cxr = api_login(&app, REVIEWER_CX).await;
        let r = client().get(app.url(&format!("/api/v1/staff/documents/{cx_doc}"))).bearer_auth(&cxr.access).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let r = client().get(app.url(&format!("/api/v1/staff/documents/{doc}"))).bearer_auth(&cxr.access).send().await.unwrap();
        assert_eq!(r.status(), 404);

        // A form post without the double-submit token is refused.
        let (c, _) = page_login(&app, REVIEWER).await;
        let r = c.post(app.url(&format!("/staff/review/{fc_app}"))).form(&[("decision", "note"), ("note", "x")]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let r = c.post(app.url(&format!("/staff/review/{fc_app}"))).form(&[("decision", "note"), ("note", "x"), ("csrf", "forged")]).send().await.unwrap();
        assert_eq!(r.status(), 403);

        // Every staff action left an audit entry.
        let actions: Vec<String> = audit_actions(&app).await.into_iter().map(|(_, a, _)| a).collect();
        for a in ["staff.login", "staff.create", "staff.password_reset", "staff.logout", "review.note", "export", "audit.export", "document.view", "application.view"] {
            assert!(actions.iter().any(|x| x == a), "{backend:?}: no audit entry {a}");
        }
    }
}

// ---------------------------------------------------------------- tokens

fn b64(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

fn forge(claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), claims, &jsonwebtoken::EncodingKey::from_secret(key))
        .unwrap()
}

async fn me(app: &TestApp, token: &str) -> StatusCode {
    client().get(app.url("/api/v1/staff/me")).bearer_auth(token).send().await.unwrap().status()
}

backend_test! {
    #[tokio::test]
    async fn token_attacks_are_refused(backend) {
        use secrecy::ExposeSecret;
        let app = spawn_app_with(backend, true, &[]).await;
        let key = app.state.settings.security.jwt_key.expose_secret().as_bytes().to_vec();
        let t = api_login(&app, REVIEWER).await;
        assert_eq!(me(&app, &t.access).await, 200);
        let parts: Vec<&str> = t.access.split('.').collect();
        use base64::Engine;
        let claims: Value = serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "ruxue");
        assert_eq!(claims["aud"], "ruxue-staff-access");
        for k in ["exp", "nbf", "iat", "sub", "role", "tv"] {
            assert!(claims.get(k).is_some(), "claim {k}");
        }
        let now = chrono::Utc::now().timestamp();

        // alg: none
        let none = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), parts[1]);
        assert_eq!(me(&app, &none).await, 401, "alg none");
        // HS256 header but no signature
        assert_eq!(me(&app, &format!("{}.{}.", parts[0], parts[1])).await, 401);
        // a wrong key
        assert_eq!(me(&app, &forge(&claims, b"some-other-key-0123456789abcdef0123")).await, 401, "wrong key");
        // expired
        let mut c = claims.clone();
        c["iat"] = json!(now - 7200);
        c["nbf"] = json!(now - 7200);
        c["exp"] = json!(now - 3600);
        assert_eq!(me(&app, &forge(&c, &key)).await, 401, "expired");
        // not yet valid
        let mut c = claims.clone();
        c["nbf"] = json!(now + 3600);
        c["exp"] = json!(now + 7200);
        assert_eq!(me(&app, &forge(&c, &key)).await, 401, "nbf");
        // tampered payload: the reviewer makes themself admin
        let mut c = claims.clone();
        c["role"] = json!("admin");
        let tampered = format!("{}.{}.{}", parts[0], b64(&c), parts[2]);
        assert_eq!(me(&app, &tampered).await, 401, "tampered");
        // …and even correctly signed, the role must match the account
        assert_eq!(me(&app, &forge(&c, &key)).await, 401, "role not the account's");
        // another purpose
        for aud in ["ruxue-staff-refresh", "ruxue-parent-session"] {
            let mut c = claims.clone();
            c["aud"] = json!(aud);
            assert_eq!(me(&app, &forge(&c, &key)).await, 401, "aud {aud}");
        }
        let mut c = claims.clone();
        c["iss"] = json!("someone-else");
        assert_eq!(me(&app, &forge(&c, &key)).await, 401, "iss");
        let mut c = claims.clone();
        c.as_object_mut().unwrap().remove("exp");
        assert_eq!(me(&app, &forge(&c, &key)).await, 401, "missing exp");
        // the refresh token is not an access token
        assert_eq!(me(&app, &t.refresh).await, 401, "refresh as access");
        // a Bearer token is not read from a cookie on the API
        let r = client().get(app.url("/api/v1/staff/me")).header("cookie", format!("ruxue_staff_at={}", t.access)).send().await.unwrap();
        assert_eq!(r.status(), 401);

        // Refresh rotates; a reused refresh token revokes the family.
        let r = client().post(app.url("/api/v1/staff/refresh")).json(&json!({"refresh_token": t.refresh})).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        let (a2, r2) = (v["access_token"].as_str().unwrap().to_string(), v["refresh_token"].as_str().unwrap().to_string());
        assert_eq!(me(&app, &a2).await, 200);
        let r = client().post(app.url("/api/v1/staff/refresh")).json(&json!({"refresh_token": t.refresh})).send().await.unwrap();
        assert_eq!(r.status(), 401, "reused refresh token");
        assert_eq!(me(&app, &a2).await, 401, "reuse revokes the access token");
        let r = client().post(app.url("/api/v1/staff/refresh")).json(&json!({"refresh_token": r2})).send().await.unwrap();
        assert_eq!(r.status(), 401, "reuse revokes the newer refresh token");

        // After logout.
        let other_device = api_login(&app, REVIEWER).await;
        let t = api_login(&app, REVIEWER).await;
        let r = client().post(app.url("/api/v1/staff/logout")).bearer_auth(&t.access).send().await.unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(me(&app, &t.access).await, 401, "access after logout");
        let r = client().post(app.url("/api/v1/staff/refresh")).json(&json!({"refresh_token": t.refresh})).send().await.unwrap();
        assert_eq!(r.status(), 401, "refresh after logout");
        // Logging out ends every session of the account, and a stale refresh token
        // presented later does not end the next session.
        assert_eq!(me(&app, &other_device.access).await, 401);
        let fresh = api_login(&app, REVIEWER).await;
        let r = client().post(app.url("/api/v1/staff/refresh")).json(&json!({"refresh_token": other_device.refresh})).send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(me(&app, &fresh.access).await, 200, "the new session survives a stale token");

        // After a password change.
        let t = api_login(&app, REVIEWER).await;
        let r = client()
            .post(app.url("/api/v1/staff/password"))
            .bearer_auth(&t.access)
            .json(&json!({"current_password": REVIEWER.1, "new_password": "a-brand-new-password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(me(&app, &t.access).await, 401, "access after password change");
        let r = client().post(app.url("/api/v1/staff/refresh")).json(&json!({"refresh_token": t.refresh})).send().await.unwrap();
        assert_eq!(r.status(), 401);
        let r = client().post(app.url("/api/v1/staff/login")).json(&json!({"username": REVIEWER.0, "password": REVIEWER.1})).send().await.unwrap();
        assert_eq!(r.status(), 401, "old password");
        let t = api_login(&app, (REVIEWER.0, "a-brand-new-password")).await;
        assert_eq!(me(&app, &t.access).await, 200);

        // An admin's reset also ends the account's sessions.
        let admin = api_login(&app, ADMIN).await;
        let rid: String = {
            let v: Value = client().get(app.url("/api/v1/staff/me")).bearer_auth(&t.access).send().await.unwrap().json().await.unwrap();
            v["id"].as_str().unwrap().into()
        };
        let r = client()
            .post(app.url(&format!("/api/v1/staff/accounts/{rid}/password")))
            .bearer_auth(&admin.access)
            .json(&json!({"password": "reset-by-the-admin"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(me(&app, &t.access).await, 401, "access after admin reset");

        // Pages: a tampered cookie sends the browser to the login page.
        let c = client();
        let r = c.get(app.url("/staff/dashboard")).header("cookie", format!("ruxue_staff_at={tampered}")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert!(r.headers()["location"].to_str().unwrap().starts_with("/staff/login"));
        // Without an access cookie (expired) but with the refresh cookie, a page
        // goes through /staff/refresh, which rotates the refresh token and comes back.
        let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let r = c.get(app.url("/staff/login")).send().await.unwrap();
        let csrf = set_cookie_value(&r, "ruxue_csrf").unwrap();
        let r = c
            .post(app.url("/staff/login"))
            .header("cookie", format!("ruxue_csrf={csrf}"))
            .form(&[("username", AUDITOR.0), ("password", AUDITOR.1), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let rt = set_cookie_value(&r, "ruxue_staff_rt").unwrap();
        let r = c.get(app.url("/staff/audit?page=1")).header("cookie", format!("ruxue_staff_rt={rt}")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        assert_eq!(loc, "/staff/refresh?next=/staff/audit%3Fpage%3D1");
        let r = c.get(app.url(&loc)).header("cookie", format!("ruxue_staff_rt={rt}")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/staff/audit?page=1");
        let at = set_cookie_value(&r, "ruxue_staff_at").unwrap();
        let rt2 = set_cookie_value(&r, "ruxue_staff_rt").unwrap();
        assert_ne!(rt, rt2, "rotated");
        let r = c.get(app.url("/staff/audit?page=1")).header("cookie", format!("ruxue_staff_at={at}")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("最新链头"));
        // The old refresh cookie is spent: back to the login page.
        let r = c.get(app.url(&loc)).header("cookie", format!("ruxue_staff_rt={rt}")).send().await.unwrap();
        assert!(r.headers()["location"].to_str().unwrap().starts_with("/staff/login"));
        // An open redirect through `next` is not possible.
        let r = c.get(app.url("/staff/refresh?next=//evil.example/")).header("cookie", format!("ruxue_staff_rt={rt2}")).send().await.unwrap();
        let loc = r.headers()["location"].to_str().unwrap();
        assert!(loc.starts_with('/') && !loc.starts_with("//"), "{loc}");
    }
}

backend_test! {
    #[tokio::test]
    async fn cookies_are_secure_when_configured(backend) {
        let app = spawn_app_with(backend, true, &[("RUXUE__SECURITY__COOKIE_SECURE", "true")]).await;
        let c = client();
        let r = c.get(app.url("/staff/login")).send().await.unwrap();
        let csrf = set_cookie_value(&r, "ruxue_csrf").unwrap();
        let r = c.post(app.url("/staff/login")).form(&[("username", ADMIN.0), ("password", ADMIN.1), ("csrf", &csrf)]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let set: Vec<String> = r.headers().get_all("set-cookie").iter().map(|h| h.to_str().unwrap().to_string()).collect();
        assert_eq!(set.len(), 3, "{set:?}");
        for cookie in &set {
            assert!(cookie.contains("Secure") && cookie.contains("SameSite=Strict"), "{cookie}");
            if !cookie.starts_with("ruxue_csrf=") {
                assert!(cookie.contains("HttpOnly"), "{cookie}");
            }
        }
    }
}

// ---------------------------------------------------------------- lock-out

backend_test! {
    #[tokio::test]
    async fn lock_out_after_failures_and_after_the_window(backend) {
        let app = spawn_app_with(backend, true, &[("RUXUE__SECURITY__MAX_FAILED_LOGINS", "3")]).await;
        let login = |pw: &'static str| {
            let url = app.url("/api/v1/staff/login");
            async move { client().post(url).json(&json!({"username": "reviewer-fc", "password": pw})).send().await.unwrap() }
        };
        assert_eq!(login("wrong-1").await.status(), 401);
        assert_eq!(login("wrong-2").await.status(), 401);
        let r = login("wrong-3").await;
        assert_eq!(r.status(), 409);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "locked");
        assert!(body["error"]["message"].as_str().unwrap().contains("锁定"));
        // Locked: even the right password is refused.
        assert_eq!(login("ruxue-demo-reviewer").await.status(), 409);
        // Other accounts are not affected.
        api_login(&app, REVIEWER2).await;
        // The window passes (moved into the past rather than waited for).
        sql(&app, "UPDATE staff SET locked_until = '2000-01-01 00:00:00' WHERE username = 'reviewer-fc'").await;
        assert_eq!(login("ruxue-demo-reviewer").await.status(), 200);
        // A success resets the count.
        assert_eq!(login("wrong-1").await.status(), 401);
        assert_eq!(login("ruxue-demo-reviewer").await.status(), 200);
        let actions: Vec<String> = audit_actions(&app).await.into_iter().map(|(_, a, _)| a).collect();
        assert!(actions.iter().filter(|a| *a == "staff.login_failed").count() >= 4);
        assert!(actions.iter().any(|a| a == "staff.login_refused"));
        // Unknown users look exactly like wrong passwords.
        let r = client().post(app.url("/api/v1/staff/login")).json(&json!({"username": "nobody", "password": "whatever-pass"})).send().await.unwrap();
        assert_eq!(r.status(), 401);
        // The login page shows the lock in Chinese.
        for _ in 0..3 {
            let c = client();
            let r = c.get(app.url("/staff/login")).send().await.unwrap();
            let csrf = set_cookie_value(&r, "ruxue_csrf").unwrap();
            let _ = c.post(app.url("/staff/login")).form(&[("username", "operator"), ("password", "nope-nope-nope"), ("csrf", &csrf)]).send().await.unwrap();
        }
        let c = client();
        let r = c.get(app.url("/staff/login")).send().await.unwrap();
        let csrf = set_cookie_value(&r, "ruxue_csrf").unwrap();
        let r = c.post(app.url("/staff/login")).form(&[("username", "operator"), ("password", OPERATOR.1), ("csrf", &csrf)]).send().await.unwrap();
        assert_eq!(r.status(), 423);
        assert!(r.text().await.unwrap().contains("锁定"));

        // With a zero-length window the lock expires at once.
        let app = spawn_app_with(backend, true, &[("RUXUE__SECURITY__MAX_FAILED_LOGINS", "2"), ("RUXUE__SECURITY__LOCKOUT_MINUTES", "0")]).await;
        for _ in 0..2 {
            let r = client().post(app.url("/api/v1/staff/login")).json(&json!({"username": "auditor", "password": "wrong-password"})).send().await.unwrap();
            assert_eq!(r.status(), 401);
        }
        api_login(&app, AUDITOR).await;
    }
}

// ---------------------------------------------------------------- audit chain

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

fn verify(db_url: &str) -> (bool, String) {
    let out = run_ruxue(&["audit", "verify"], db_url);
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

backend_test! {
    #[tokio::test]
    async fn audit_tampering_is_caught_and_the_head_is_shown(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        // Staff actions to tamper with.
        let rev = api_login(&app, REVIEWER).await;
        let fc = apps_in(&app, "FC", &["under_review"], "2027-G1").await;
        for (id, _) in fc.iter().take(3) {
            let r = client()
                .post(app.url(&format!("/api/v1/staff/review/applications/{id}/decisions")))
                .bearer_auth(&rev.access)
                .json(&json!({"decision": "reject", "reason_code": "documents_false", "note": "材料涂改"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
        let url = app.db.url.clone();
        let (ok, out) = verify(&url);
        assert!(ok, "{backend:?}: {out}");
        // The auditor's page shows the same head `ruxue audit head` prints.
        let (pc, _) = page_login(&app, AUDITOR).await;
        let head = run_ruxue(&["audit", "head"], &url);
        let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
        let (seq, hash) = head.split_once(' ').unwrap();
        let html = pc.get(app.url("/staff/audit")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(&format!("<b id=\"head-seq\">{seq}</b>")), "head seq {seq}");
        assert!(html.contains(hash));
        // The JSON lines download verifies on its own: each line chains to the last.
        let aud = api_login(&app, AUDITOR).await;
        let lines = client().get(app.url("/api/v1/staff/audit/export?format=jsonl")).bearer_auth(&aud.access).send().await.unwrap().text().await.unwrap();
        let mut prev = ruxue::db::audit::GENESIS.to_string();
        let mut n = 0;
        for line in lines.lines() {
            let e: ruxue::db::audit::AuditEntry = {
                let v: Value = serde_json::from_str(line).unwrap();
                ruxue::db::audit::AuditEntry {
                    seq: v["seq"].as_i64().unwrap(),
                    at: serde_json::from_value(v["at"].clone()).unwrap(),
                    actor: v["actor"].as_str().unwrap().into(),
                    action: v["action"].as_str().unwrap().into(),
                    target: v["target"].as_str().unwrap().into(),
                    before_json: v["before_json"].as_str().map(Into::into),
                    after_json: v["after_json"].as_str().map(Into::into),
                    prev_hash: v["prev_hash"].as_str().unwrap().into(),
                    hash: v["hash"].as_str().unwrap().into(),
                }
            };
            assert_eq!(e.prev_hash, prev);
            assert_eq!(ruxue::db::audit::entry_hash(&e), e.hash);
            prev = e.hash.clone();
            n += 1;
        }
        assert!(n > 10);
        // Find a review entry to tamper with.
        let entries = audit_actions(&app).await;
        let seq = entries.iter().position(|(_, a, _)| a == "review.reject").unwrap() as i64 + 1;

        // 1. Editing a row.
        let original: (Option<String>, String) = app
            .state
            .db
            .run(move |c| Ok(schema::audit_log::table.find(seq).select((schema::audit_log::after_json, schema::audit_log::actor)).first(c)?))
            .await
            .unwrap();
        sql(&app, &format!("UPDATE audit_log SET after_json = REPLACE(after_json, 'rejected', 'approved') WHERE seq = {seq}")).await;
        let (ok, out) = verify(&url);
        assert!(!ok && out.contains(&format!("entry {seq}")), "{backend:?} edit: {out}");
        let orig = original.clone();
        app.state
            .db
            .write(move |c| Ok(diesel::update(schema::audit_log::table.find(seq)).set(schema::audit_log::after_json.eq(orig.0)).execute(c)?))
            .await
            .unwrap();
        assert!(verify(&url).0, "restored");
        sql(&app, &format!("UPDATE audit_log SET actor = 'staff:someone-else' WHERE seq = {seq}")).await;
        assert!(!verify(&url).0, "actor edit");
        sql(&app, &format!("UPDATE audit_log SET actor = '{}' WHERE seq = {seq}", original.1)).await;
        assert!(verify(&url).0);

        // 2. Deleting a row in the middle.
        let row: ruxue::db::audit::AuditEntry = app
            .state
            .db
            .run(move |c| Ok(schema::audit_log::table.find(seq).select(ruxue::db::audit::AuditEntry::as_select()).first(c)?))
            .await
            .unwrap();
        sql(&app, &format!("DELETE FROM audit_log WHERE seq = {seq}")).await;
        let (ok, out) = verify(&url);
        assert!(!ok && out.contains(&format!("entry {seq}")), "{backend:?} delete: {out}");
        let r2 = row.clone();
        app.state.db.write(move |c| Ok(diesel::insert_into(schema::audit_log::table).values(&r2).execute(c)?)).await.unwrap();
        assert!(verify(&url).0);

        // 3. Reordering two rows.
        sql(&app, &format!("UPDATE audit_log SET seq = -1 WHERE seq = {seq}; UPDATE audit_log SET seq = {seq} WHERE seq = {}; UPDATE audit_log SET seq = {} WHERE seq = -1", seq + 1, seq + 1)).await;
        let (ok, out) = verify(&url);
        assert!(!ok && out.contains(&format!("entry {seq}")), "{backend:?} reorder: {out}");
        sql(&app, &format!("UPDATE audit_log SET seq = -1 WHERE seq = {seq}; UPDATE audit_log SET seq = {seq} WHERE seq = {}; UPDATE audit_log SET seq = {} WHERE seq = -1", seq + 1, seq + 1)).await;
        assert!(verify(&url).0);

        // 4. Deleting the newest row (the counter remembers).
        sql(&app, "DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)").await;
        let (ok, out) = verify(&url);
        assert!(!ok && out.contains("tail deleted"), "{backend:?} tail: {out}");
    }
}

// ---------------------------------------------------------------- review flow

async fn decide(app: &TestApp, token: &str, id: &str, body: Value) -> (u16, Value) {
    let r = client()
        .post(app.url(&format!("/api/v1/staff/review/applications/{id}/decisions")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn detail(app: &TestApp, token: &str, id: &str) -> Value {
    let r = client().get(app.url(&format!("/api/v1/staff/review/applications/{id}"))).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

backend_test! {
    #[tokio::test]
    async fn review_flow_end_to_end(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let rev = api_login(&app, REVIEWER).await;
        let rev2 = api_login(&app, REVIEWER2).await;
        // Applications whose keys the policy can compute, with a catchment school.
        let mut ready = Vec::new();
        for (id, _) in apps_in(&app, "FC", &["under_review", "submitted"], "2027-G1").await {
            let d = detail(&app, &rev.access, &id).await;
            if d["computed"]["category"].is_string() && d["computed"]["school_id"].is_string() {
                ready.push((id, d));
            }
            if ready.len() == 5 {
                break;
            }
        }
        assert_eq!(ready.len(), 5, "{backend:?}: five reviewable applications");
        let detail0 = &ready[0].1;
        assert!(detail0["id_number"].as_str().unwrap().chars().all(|c| c.is_ascii_alphanumeric()), "the reviewer sees the full ID number");

        // Approve as computed.
        let (a1, d1) = (&ready[0].0, &ready[0].1);
        let (s, v) = decide(&app, &rev.access, a1, json!({"decision": "approve"})).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["status"], "approved");
        let after = detail(&app, &rev.access, a1).await;
        assert_eq!(after["status"], "approved");
        assert_eq!(after["current_category"], d1["computed"]["category"]);
        assert_eq!(after["current_school_id"], d1["computed"]["school_id"]);
        assert_eq!(after["events"].as_array().unwrap().last().unwrap()["status"], "approved");
        assert_eq!(after["decisions"].as_array().unwrap().last().unwrap()["decision"], "approve");
        // A decided application takes no second decision.
        let (s, v) = decide(&app, &rev.access, a1, json!({"decision": "reject", "reason_code": "duplicate"})).await;
        assert_eq!((s, v["error"]["code"].as_str()), (409, Some("wrong_status")));
        // A stale version is refused.
        let (s, _) = decide(&app, &rev.access, &ready[1].0, json!({"decision": "approve", "version": 999})).await;
        assert_eq!(s, 409);

        // Reject with a coded reason.
        let a2 = &ready[1].0;
        let (s, v) = decide(&app, &rev.access, a2, json!({"decision": "reject", "reason_code": "not-a-code"})).await;
        assert_eq!((s, v["error"]["field"].as_str()), (422, Some("reason_code")));
        let (s, v) = decide(&app, &rev.access, a2, json!({"decision": "reject", "reason_code": "other"})).await;
        assert_eq!((s, v["error"]["field"].as_str()), (422, Some("note")));
        let (s, v) = decide(&app, &rev.access, a2, json!({"decision": "reject", "reason_code": "property_invalid", "note": "房产证为复印件"})).await;
        assert_eq!((s, v["status"].as_str()), (200, Some("rejected")));
        let after = detail(&app, &rev.access, a2).await;
        assert!(after["events"].as_array().unwrap().last().unwrap()["note"].as_str().unwrap().contains("房产证明不符合要求"));

        // Supplement with a deadline: status, event, and the guardian's notification.
        let a3 = &ready[2].0;
        let past = (chrono::Utc::now() - chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M").to_string();
        let (s, v) = decide(&app, &rev.access, a3, json!({"decision": "supplement", "deadline": past, "note": "补交居住证"})).await;
        assert_eq!((s, v["error"]["field"].as_str()), (422, Some("deadline")));
        let (s, v) = decide(&app, &rev.access, a3, json!({"decision": "supplement", "deadline": "2099-01-01", "note": "补交居住证"})).await;
        assert_eq!((s, v["error"]["field"].as_str()), (422, Some("deadline")), "more than 60 days");
        let soon = (chrono::Utc::now() + chrono::Duration::days(5)).format("%Y-%m-%dT%H:%M").to_string();
        let (s, v) = decide(&app, &rev.access, a3, json!({"decision": "supplement", "deadline": soon, "note": "请补交居住证原件照片"})).await;
        assert_eq!((s, v["status"].as_str()), (200, Some("supplement")));
        let a3c = a3.clone();
        let (openid, notes): (String, Vec<(String, String, String)>) = app
            .state
            .db
            .run(move |c| {
                let openid: String = schema::applications::table
                    .inner_join(schema::children::table.inner_join(schema::guardians::table))
                    .filter(schema::applications::id.eq(&a3c))
                    .select(schema::guardians::openid)
                    .first(c)?;
                // The approval and rejection above queued theirs too (#13).
                let notes = schema::notifications::table
                    .filter(schema::notifications::event.eq("supplement"))
                    .select((schema::notifications::recipient, schema::notifications::body, schema::notifications::status))
                    .load(c)?;
                Ok((openid, notes))
            })
            .await
            .unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].0, openid);
        assert!(notes[0].1.contains("请补交居住证原件照片") && notes[0].2 == "pending");
        // The reviewer typed Beijing time: the message repeats it as typed, and
        // the stored deadline is the same instant in UTC.
        let typed = chrono::NaiveDateTime::parse_from_str(&soon, "%Y-%m-%dT%H:%M").unwrap();
        assert!(notes[0].1.contains(&typed.format("%Y-%m-%d %H:%M").to_string()), "{}", notes[0].1);
        assert!(notes[0].1.contains("北京时间"));
        let a3d = a3.clone();
        let stored: Option<chrono::NaiveDateTime> = app
            .state
            .db
            .run(move |c| {
                Ok(schema::review_decisions::table
                    .filter(schema::review_decisions::application_id.eq(&a3d))
                    .filter(schema::review_decisions::decision.eq("supplement"))
                    .select(schema::review_decisions::supplement_deadline)
                    .first(c)?)
            })
            .await
            .unwrap();
        assert_eq!(stored, Some(typed - chrono::Duration::hours(8)));
        // While awaiting the supplement the reviewer can still decide.
        let (s, _) = decide(&app, &rev.access, a3, json!({"decision": "note", "note": "已电话提醒监护人"})).await;
        assert_eq!(s, 200);

        // Override with four eyes.
        let (a4, d4) = (&ready[3].0, &ready[3].1);
        let computed_school = d4["computed"]["school_id"].as_str().unwrap().to_string();
        let other = if computed_school == "P02" { "P01" } else { "P02" };
        let (s, v) = decide(&app, &rev.access, a4, json!({"decision": "approve", "school_id": other})).await;
        assert_eq!((s, v["error"]["field"].as_str()), (422, Some("reason")), "an override needs a written reason");
        let (s, v) = decide(&app, &rev.access, a4, json!({"decision": "approve", "school_id": other, "reason": "实际居住地经入户核实在该校学区"})).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["needs_second"], true);
        assert_eq!(v["status"], "under_review");
        let decision_id = v["decision_id"].as_str().unwrap().to_string();
        let (s, v) = decide(&app, &rev2.access, a4, json!({"decision": "approve"})).await;
        assert_eq!((s, v["error"]["code"].as_str()), (409, Some("pending_second")));
        let second = |token: String, agree: bool| {
            let url = app.url(&format!("/api/v1/staff/review/decisions/{decision_id}/second"));
            async move { client().post(url).bearer_auth(token).json(&json!({"agree": agree})).send().await.unwrap() }
        };
        let r = second(rev.access.clone(), true).await;
        assert_eq!(r.status(), 409, "the same reviewer cannot approve their own override");
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "four_eyes");
        let cx = api_login(&app, REVIEWER_CX).await;
        assert_eq!(second(cx.access.clone(), true).await.status(), 404, "out of scope");
        let r = second(rev2.access.clone(), true).await;
        assert_eq!(r.status(), 200);
        let after = detail(&app, &rev.access, a4).await;
        assert_eq!(after["status"], "approved");
        assert_eq!(after["current_school_id"], other);
        let dec = after["decisions"].as_array().unwrap().iter().find(|d| d["id"] == decision_id.as_str()).unwrap().clone();
        assert_eq!(dec["second_outcome"], "同意");
        assert_eq!(second(rev2.access.clone(), true).await.status(), 409, "only once");

        // Without four eyes an override applies at once.
        sql(&app, "UPDATE campaigns SET four_eyes = false").await;
        let a5 = &ready[4].0;
        let (s, v) = decide(&app, &rev.access, a5, json!({"decision": "approve", "category": "E", "reason": "政策性统筹"})).await;
        assert_eq!((s, v["status"].as_str(), v["needs_second"].as_bool()), (200, Some("approved"), Some(false)));
        assert_eq!(detail(&app, &rev.access, a5).await["current_category"], "E");

        // Every decision: one review_decisions row, an event and an audit entry with before/after.
        let entries: Vec<(String, Option<String>, Option<String>)> = app
            .state
            .db
            .run(|c| {
                Ok(schema::audit_log::table
                    .filter(schema::audit_log::action.like("review.%"))
                    .select((schema::audit_log::action, schema::audit_log::before_json, schema::audit_log::after_json))
                    .load(c)?)
            })
            .await
            .unwrap();
        for action in ["review.approve", "review.reject", "review.supplement", "review.note", "review.second_agree"] {
            let e = entries.iter().find(|(a, _, _)| a == action).unwrap_or_else(|| panic!("{action}"));
            assert!(e.1.is_some() && e.2.is_some(), "{action} has before and after");
        }
        let approve = entries.iter().find(|(a, _, _)| a == "review.reject").unwrap();
        assert!(approve.1.as_ref().unwrap().contains("under_review") || approve.1.as_ref().unwrap().contains("submitted"));
        assert!(approve.2.as_ref().unwrap().contains("rejected"));

        // The guardian's data was never edited.
        let before: Value = serde_json::to_value(&d1["facts"]).unwrap();
        assert_eq!(detail(&app, &rev.access, a1).await["facts"], before);

        // Exports: the reviewer sees full ID numbers of their townships only; the auditor masked ones.
        let csv = client().get(app.url("/api/v1/staff/exports/applications?format=csv")).bearer_auth(&rev.access).send().await.unwrap().text().await.unwrap();
        assert!(csv.starts_with('\u{feff}') && csv.contains("报名号") && csv.contains("身份证号"));
        let lines: Vec<&str> = csv.lines().skip(1).collect();
        assert!(!lines.is_empty());
        for l in &lines {
            assert!(l.contains("凤城镇"), "{l}");
            let id = l.split(',').nth(3).unwrap();
            assert!(!id.contains('*') && id.len() == 18, "full ID for the reviewer: {id}");
        }
        let aud = api_login(&app, AUDITOR).await;
        let csv = client().get(app.url("/api/v1/staff/exports/applications?format=csv")).bearer_auth(&aud.access).send().await.unwrap().text().await.unwrap();
        let lines: Vec<&str> = csv.lines().skip(1).collect();
        assert!(lines.len() > 400, "the auditor exports the whole county");
        for l in &lines {
            let cells: Vec<&str> = l.split(',').collect();
            assert!(cells[3].contains('*'), "masked ID for the auditor: {l}");
            assert!(cells[2].contains('*'), "masked name for the auditor: {l}");
        }
        let x = client().get(app.url("/api/v1/staff/exports/reviews?format=xlsx")).bearer_auth(&aud.access).send().await.unwrap();
        assert_eq!(x.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        let bytes = x.bytes().await.unwrap();
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let range = wb.worksheet_range("审核结果").unwrap();
        assert_eq!(range.get((0, 0)).unwrap().to_string(), "报名号");
        assert!(range.height() >= 7, "header + decisions");
        let exports = audit_actions(&app).await.into_iter().filter(|(_, a, _)| a == "export").count();
        assert_eq!(exports, 3, "every export is in the audit log");

        // Fraud signals: a shop as "home", filtered in the queue, explained in Chinese.
        let target = apps_in(&app, "FC", &["under_review", "submitted"], "2027-G1").await[0].0.clone();
        let t2 = target.clone();
        app.state
            .db
            .write(move |c| {
                let facts: String = schema::applications::table.find(&t2).select(schema::applications::facts_json).first(c)?;
                let mut f: ruxue::policy::ApplicantFacts = serde_json::from_str(&facts).unwrap();
                f.property = Some(ruxue::policy::Property {
                    address: ruxue::catchment::Address { township: Some("凤城镇".into()), road: Some("二环路".into()), number: Some(8), detail: Some("一层商铺".into()), ..Default::default() },
                    certificate_no: "闽(2026)安溪县不动产权第9999999号".into(),
                    owner_relation: ruxue::policy::OwnerRelation::Father,
                    acquired_on: None,
                });
                Ok(diesel::update(schema::applications::table.find(&t2)).set(schema::applications::facts_json.eq(serde_json::to_string(&f).unwrap())).execute(c)?)
            })
            .await
            .unwrap();
        let q: Value = client().get(app.url("/api/v1/staff/review/queue?signal=non_residential")).bearer_auth(&rev.access).send().await.unwrap().json().await.unwrap();
        let rows = q["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["id"], target.as_str());
        assert!(rows[0]["signals"][0]["explanation"].as_str().unwrap().contains("商铺"));
        let r = client().get(app.url("/api/v1/staff/review/queue?signal=bogus")).bearer_auth(&rev.access).send().await.unwrap();
        assert_eq!(r.status(), 422);
        // Other filters.
        let q: Value = client().get(app.url("/api/v1/staff/review/queue?status=approved&school=P01&category=A")).bearer_auth(&rev.access).send().await.unwrap().json().await.unwrap();
        for r in q["rows"].as_array().unwrap() {
            assert_eq!((r["status"].as_str(), r["category"].as_str()), (Some("approved"), Some("A")));
        }

        // Draw results come from the draws table, one line per applicant.
        let reg = apps_in(&app, "FC", &["approved"], "2027-G1").await;
        let record = json!({"announcement": {"draw_id": "2027-G1-P01"}, "result": {
            "lottery_numbers": {reg[0].1.clone(): 2, reg[1].1.clone(): 1},
            "assignments": {"P01": [reg[1].1.clone()]},
            "waitlists": {"P01": [reg[0].1.clone()]},
            "unassigned": []
        }});
        let draw = ruxue::db::models::Draw {
            id: "2027-G1-P01".into(),
            campaign_id: "2027-G1".into(),
            draw_id: "2027-G1-P01".into(),
            kind: ruxue::domain::DrawKind::School,
            unit_id: "P01".into(),
            title: "测试".into(),
            status: ruxue::domain::DrawStatus::Drawn,
            schools_json: "[]".into(),
            roster_json: "[]".into(),
            roster_root: "ef".repeat(32),
            roster_size: 2,
            scheduled_at: None,
            beacon_round: None,
            announcement_json: Some("{}".into()),
            announcement_digest: Some("ab".repeat(32)),
            signature: Some("sig".into()),
            beacon_value: None,
            record_json: Some(record.to_string()),
            record_digest: None,
            result_digest: Some("cd".repeat(32)),
            frozen_by: "staff:t".into(),
            created_at: ruxue::db::now(),
            announced_at: None,
            computed_at: Some(ruxue::db::now()),
            published_at: None,
        };
        app.state.db.write(move |c| Ok(diesel::insert_into(schema::draws::table).values(&draw).execute(c)?)).await.unwrap();
        let op = api_login(&app, OPERATOR).await;
        let csv = client().get(app.url("/api/v1/staff/exports/draws?format=csv")).bearer_auth(&op.access).send().await.unwrap().text().await.unwrap();
        assert!(csv.contains("派位号") && csv.contains(&format!("{},1,录取,安溪县实验小学", reg[1].1)), "{csv}");
        assert!(csv.contains(&format!("{},2,候补,安溪县实验小学", reg[0].1)), "{csv}");

        // The dashboard counts what review decided.
        let d: Value = client().get(app.url("/api/v1/staff/dashboard?campaign=2027-G1")).bearer_auth(&aud.access).send().await.unwrap().json().await.unwrap();
        let units = d["summary"]["units"].as_array().unwrap();
        assert_eq!(units.len(), 6, "six primary schools");
        let approved_g1: i64 = units.iter().map(|u| u["approved"].as_i64().unwrap()).sum();
        let counted: i64 = app
            .state
            .db
            .run(|c| {
                Ok(schema::applications::table
                    .filter(schema::applications::campaign_id.eq("2027-G1"))
                    .filter(schema::applications::status.eq("approved"))
                    .filter(schema::applications::catchment_school_id.is_not_null())
                    .count()
                    .get_result(c)?)
            })
            .await
            .unwrap();
        assert_eq!(approved_g1, counted);
        let d: Value = client().get(app.url("/api/v1/staff/dashboard?campaign=2027-G7")).bearer_auth(&aud.access).send().await.unwrap().json().await.unwrap();
        assert!(d["summary"]["units"].as_array().unwrap().iter().any(|u| u["kind"] == "zone"));
        let r = client().get(app.url("/api/v1/staff/dashboard?campaign=nope")).bearer_auth(&aud.access).send().await.unwrap();
        assert_eq!(r.status(), 422);
    }
}

backend_test! {
    #[tokio::test]
    async fn concurrent_decisions_on_one_application_apply_once(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let rev = api_login(&app, REVIEWER).await;
        let rev2 = api_login(&app, REVIEWER2).await;
        let id = apps_in(&app, "FC", &["under_review"], "2027-G1").await[0].0.clone();
        let mut tasks = Vec::new();
        for i in 0..6 {
            let token = if i % 2 == 0 { rev.access.clone() } else { rev2.access.clone() };
            let url = app.url(&format!("/api/v1/staff/review/applications/{id}/decisions"));
            tasks.push(tokio::spawn(async move {
                client().post(url).bearer_auth(token).json(&json!({"decision": "reject", "reason_code": "duplicate"})).send().await.unwrap().status().as_u16()
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        statuses.sort();
        assert_eq!(statuses, vec![200, 409, 409, 409, 409, 409], "{backend:?}");
        let idc = id.clone();
        let (decisions, events): (i64, i64) = app
            .state
            .db
            .run(move |c| {
                Ok((
                    schema::review_decisions::table.filter(schema::review_decisions::application_id.eq(&idc)).count().get_result(c)?,
                    schema::application_events::table
                        .filter(schema::application_events::application_id.eq(&idc))
                        .filter(schema::application_events::status.eq("rejected"))
                        .count()
                        .get_result(c)?,
                ))
            })
            .await
            .unwrap();
        assert_eq!((decisions, events), (1, 1), "{backend:?}: nothing half-written");
        let (ok, out) = verify(&app.db.url);
        assert!(ok, "{backend:?}: the audit chain stays intact under concurrency: {out}");
    }
}

// ---------------------------------------------------------------- command line

backend_test! {
    #[test]
    fn staff_command_line_bootstraps_the_first_admin(backend) {
        let db = TestDb::new(backend);
        let run = |args: &[&str], pw: Option<&str>, stdin: Option<&str>| {
            use std::io::Write;
            let mut cmd = std::process::Command::new(ruxue_bin());
            cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
            for (k, _) in std::env::vars() {
                if k.starts_with("RUXUE") {
                    cmd.env_remove(k);
                }
            }
            cmd.env("RUXUE__DATABASE__URL", &db.url);
            if let Some(p) = pw {
                cmd.env("RUXUE_STAFF_PASSWORD", p);
            }
            cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
            let mut child = cmd.spawn().unwrap();
            if let Some(s) = stdin {
                child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
            } else {
                drop(child.stdin.take());
            }
            child.wait_with_output().unwrap()
        };
        let out = run(&["staff", "add", "--role", "admin", "--username", "chief", "--name", "局长"], Some("first-admin-password"), None);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let out = run(&["staff", "add", "--role", "reviewer", "--username", "lin", "--name", "林", "--township", "FC"], None, Some("from-stdin-password\n"));
        // No townships exist in an empty database: the scope is checked.
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("township_scope"));
        let out = run(&["staff", "add", "--role", "auditor", "--username", "zhang", "--name", "张"], None, Some("from-stdin-password\n"));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let out = run(&["staff", "add", "--role", "auditor", "--username", "weak", "--name", "弱"], Some("short"), None);
        assert!(!out.status.success());
        let out = run(&["staff", "add", "--role", "auditor", "--username", "zhang", "--name", "张"], Some("another-password"), None);
        assert!(!out.status.success(), "duplicate username");
        let out = run(&["staff", "passwd", "--username", "zhang"], Some("changed-password-1"), None);
        assert!(out.status.success());
        let out = run(&["staff", "list"], None, None);
        let list = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(list.contains("chief\tadmin") && list.contains("zhang\tauditor"), "{list}");
        assert!(!list.contains("first-admin-password"));
        // The stored hash is argon2id and the chain records the actions.
        let pool = ruxue::db::Db::connect(&db.url, 1, 5000).unwrap();
        let mut c = pool.get().unwrap();
        let hash: String = schema::staff::table.filter(schema::staff::username.eq("chief")).select(schema::staff::password_hash).first(&mut *c).unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(ruxue::staff::auth::verify_password("first-admin-password", &hash));
        let z: String = schema::staff::table.filter(schema::staff::username.eq("zhang")).select(schema::staff::password_hash).first(&mut *c).unwrap();
        assert!(ruxue::staff::auth::verify_password("changed-password-1", &z));
        // On PostgreSQL the commands' entries wait for the sealer (`ruxue serve`).
        ruxue::db::audit::seal(&mut c, true).unwrap();
        let r = ruxue::db::audit::verify(&mut c).unwrap();
        assert!(r.broken.is_none() && r.entries >= 3);
    }
}

backend_test! {
    /// Issue 5, item 6: the policy dry run as a staff page with a chart and as
    /// CSV; aggregates for auditors, the placement list only for admin/operator.
    #[tokio::test]
    async fn policy_dry_run_page_chart_and_csv(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let admin = api_login(&app, ADMIN).await;
        let r = client().get(app.url("/api/v1/staff/dry-run?campaign=2027-G1")).bearer_auth(&admin.access).send().await.unwrap();
        assert_eq!(r.status(), 200, "{backend:?}");
        let v: Value = r.json().await.unwrap();
        let schools = v["report"]["schools"].as_array().unwrap();
        assert_eq!(schools.len(), 6, "one row per primary school: {v}");
        assert!(v["counted"].as_u64().unwrap() > 300);
        let p01 = schools.iter().find(|s| s["school_id"] == "P01").unwrap();
        assert_eq!(p01["seats"], 90);
        // P06 is decided by lottery alone in the demo policy.
        let p06 = schools.iter().find(|s| s["school_id"] == "P06").unwrap();
        assert!(p06["applicants"].as_u64().unwrap() > 0);
        assert!(v["report"].get("needs_placement").is_some());

        // The auditor sees the aggregates, never the placement list.
        let auditor = api_login(&app, AUDITOR).await;
        let v: Value = client().get(app.url("/api/v1/staff/dry-run?campaign=2027-G1")).bearer_auth(&auditor.access).send().await.unwrap().json().await.unwrap();
        assert_eq!(v["report"]["schools"].as_array().unwrap().len(), 6);
        assert!(v["report"].get("needs_placement").is_none() && v.get("skipped").is_none(), "{v}");
        let r = client().get(app.url("/api/v1/staff/dry-run?format=placement_csv")).bearer_auth(&auditor.access).send().await.unwrap();
        assert_eq!(r.status(), 403);

        // Bad input names the field.
        let r = client().get(app.url("/api/v1/staff/dry-run?format=pdf")).bearer_auth(&admin.access).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "format");
        let r = client().get(app.url("/api/v1/staff/dry-run?campaign=1999-G1")).bearer_auth(&admin.access).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "campaign");

        // The page: a server-rendered SVG chart and the table, no scripts.
        let (c, _) = page_login(&app, ADMIN).await;
        let r = c.get(app.url("/staff/dry-run?campaign=2027-G1")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("<svg") && html.contains("招生方案预演：各校录取分界") && html.contains("安溪县实验小学"), "{html}");
        assert!(!html.contains("<script"));
        assert!(html.contains("format=placement_csv"));

        // CSV with Chinese headers, one row per school; recorded in the audit log.
        let before = audit_actions(&app).await.iter().filter(|(_, a, _)| a == "export.dry_run").count();
        let r = c.get(app.url("/staff/dry-run?campaign=2027-G1&format=csv")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let csv = r.text().await.unwrap();
        let header = csv.trim_start_matches('\u{feff}').lines().next().unwrap().to_string();
        assert!(header.contains("学校"), "{header}");
        assert!(csv.contains("P01") && csv.contains("P06"));
        let after = audit_actions(&app).await.iter().filter(|(_, a, _)| a == "export.dry_run").count();
        assert_eq!(after, before + 1);
        let report = app.state.db.run(|c| Ok(ruxue::db::audit::verify(c)?)).await.unwrap();
        assert!(report.broken.is_none());

        // A reviewer (township scope) does not get the county-wide dry run.
        let (rc, _) = page_login(&app, REVIEWER).await;
        let r = rc.get(app.url("/staff/dry-run")).send().await.unwrap();
        assert_eq!(r.status(), 403);
    }
}

backend_test! {
    /// Looking at the review queue (which lists children's names) is a staff
    /// action like any other: it is appended to the audit chain with the filter.
    #[tokio::test]
    async fn queue_views_are_audited(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let rev = api_login(&app, REVIEWER).await;
        let before = audit_actions(&app).await.len();
        let r = client().get(app.url("/api/v1/staff/review/queue?status=under_review")).bearer_auth(&rev.access).send().await.unwrap();
        assert_eq!(r.status(), 200, "{backend:?}");
        let after = audit_actions(&app).await;
        assert_eq!(after.len(), before + 1);
        let (actor, action, target) = after.last().unwrap();
        let me: Value = client().get(app.url("/api/v1/staff/me")).bearer_auth(&rev.access).send().await.unwrap().json().await.unwrap();
        let expected_actor = format!("staff:{}", me["id"].as_str().expect("me.id"));
        assert_eq!((actor.as_str(), action.as_str(), target.as_str()), (expected_actor.as_str(), "review.queue_view", "review_queue"));
        // A refused request leaves no entry.
        let op = api_login(&app, OPERATOR).await;
        let n = audit_actions(&app).await.len();
        let r = client().get(app.url("/api/v1/staff/review/queue")).bearer_auth(&op.access).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(audit_actions(&app).await.len(), n);
    }
}

/// Every registered staff route has a row in the role matrix above (or is
/// one of the login/refresh routes that work without a session, tested on
/// their own), so a new route cannot ship without its access rules tested.
#[test]
fn role_matrix_covers_every_registered_staff_route() {
    fn matches(pattern: &str, path: &str) -> bool {
        let path = path.split('?').next().unwrap_or(path);
        let (a, b): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
        a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.starts_with('{') || x == y)
    }
    let rows: Vec<Case> = api_cases("APP", "DOC", "STAFF", 0).into_iter().chain(page_cases("APP", "DOC", "STAFF", 0)).collect();
    let without_session = [
        ("GET", "/staff/login"),
        ("POST", "/staff/login"),
        ("GET", "/staff/refresh"),
        ("POST", "/api/v1/staff/login"),
        ("POST", "/api/v1/staff/refresh"),
    ];
    assert!(ruxue::web::staff::ROUTES.len() >= 30, "the route table lists the staff routes");
    let mut missing = Vec::new();
    for (method, pattern) in ruxue::web::staff::ROUTES {
        let method = method.to_ascii_uppercase();
        if without_session.iter().any(|(m, p)| *m == method && p == pattern) {
            continue;
        }
        if !rows.iter().any(|c| c.method == method && matches(pattern, &c.path)) {
            missing.push(format!("{method} {pattern}"));
        }
    }
    assert!(missing.is_empty(), "routes without a row in the role matrix: {missing:?}");
}

backend_test! {
    /// The queue computes fraud signals for the page shown only; each row
    /// must carry exactly the signals a county-wide computation gives it,
    /// including one that links two applications on different pages and in
    /// different townships (a shared property certificate).
    #[tokio::test]
    async fn queue_page_signals_equal_the_county_wide_ones(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let fc = apps_in(&app, "FC", &["under_review", "submitted"], "2027-G1").await;
        let cx = apps_in(&app, "CX", &["under_review", "submitted"], "2027-G1").await;
        let (a, b) = (fc[0].0.clone(), cx[cx.len() - 1].0.clone());
        app.state
            .db
            .write(move |c| {
                for id in [&a, &b] {
                    let facts: String = schema::applications::table.find(id).select(schema::applications::facts_json).first(c)?;
                    let mut f: ruxue::policy::ApplicantFacts = serde_json::from_str(&facts).unwrap();
                    f.property = Some(ruxue::policy::Property {
                        address: ruxue::catchment::Address { township: Some("凤城镇".into()), road: Some("大同路".into()), number: Some(130), ..Default::default() },
                        certificate_no: "闽(2026)安溪县不动产权第7777777号".into(),
                        owner_relation: ruxue::policy::OwnerRelation::Father,
                        acquired_on: None,
                    });
                    diesel::update(schema::applications::table.find(id)).set(schema::applications::facts_json.eq(serde_json::to_string(&f).unwrap())).execute(c)?;
                }
                Ok(())
            })
            .await
            .unwrap();
        let admin = api_login(&app, ADMIN).await;
        let get = |q: String| {
            let (url, token) = (app.url(&format!("/api/v1/staff/review/queue?{q}")), admin.access.clone());
            async move { client().get(url).bearer_auth(token).send().await.unwrap().json::<Value>().await.unwrap() }
        };
        // County-wide: the signal filter computes every application's signals.
        let mut county: std::collections::HashMap<String, Value> = std::collections::HashMap::new();
        let first = get("signal=any&page=1".into()).await;
        for p in 1..=first["pages"].as_i64().unwrap() {
            for r in get(format!("signal=any&page={p}")).await["rows"].as_array().unwrap() {
                county.insert(r["id"].as_str().unwrap().to_string(), r["signals"].clone());
            }
        }
        assert!(county.values().flat_map(|s| s.as_array().unwrap()).any(|s| s["code"] == "shared_certificate"), "the shared certificate is flagged");
        // Page by page, without a filter: the same signals, row by row.
        let first = get("page=1".into()).await;
        let pages = first["pages"].as_i64().unwrap();
        assert!(pages > 1, "the demo queue spans several pages");
        let mut seen = 0;
        for p in 1..=pages {
            for r in get(format!("page={p}")).await["rows"].as_array().unwrap() {
                let id = r["id"].as_str().unwrap();
                let expected = county.get(id).cloned().unwrap_or_else(|| serde_json::json!([]));
                assert_eq!(r["signals"], expected, "{backend:?} application {id} on page {p}");
                seen += 1;
            }
        }
        assert_eq!(seen as i64, first["total"].as_i64().unwrap());
    }
}

backend_test! {
    /// Issue 10, item 4: in the demo county every application is visible to
    /// at least one township reviewer or waits in the county queue; the
    /// admin sees the queue's count on the page and assigns from it.
    #[tokio::test]
    async fn every_demo_application_has_a_reviewer_or_is_in_the_county_queue(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let total = |token: String, q: &'static str| {
            let url = app.url(&format!("/api/v1/staff/review/queue?{q}"));
            async move {
                let r = client().get(url).bearer_auth(token).send().await.unwrap();
                assert_eq!(r.status(), 200);
                r.json::<Value>().await.unwrap()
            }
        };
        let admin = api_login(&app, ADMIN).await.access;
        let fc = api_login(&app, REVIEWER).await.access;
        let cx = api_login(&app, REVIEWER_CX).await.access;
        let all = total(admin.clone(), "").await;
        let county = total(admin.clone(), "township=county").await;
        let (n_all, n_county) = (all["total"].as_i64().unwrap(), county["total"].as_i64().unwrap());
        assert_eq!(all["county_queue"].as_i64(), Some(n_county), "the admin's count is the county queue's");
        let seen_fc = total(fc.clone(), "").await["total"].as_i64().unwrap();
        let seen_cx = total(cx.clone(), "").await["total"].as_i64().unwrap();
        // The two reviewers cover FC and CX+CN, disjoint: together with the county queue, everything once.
        assert_eq!(seen_fc + seen_cx + n_county, n_all, "{backend:?}: invisible = {}", n_all - seen_fc - seen_cx - n_county);
        assert!(n_county > 0 && n_county < n_all / 10, "{backend:?}: {n_county} of {n_all} in the county queue");
        assert!(total(fc.clone(), "").await["county_queue"].is_null(), "reviewers get no county count");

        // In the database too: no application without a township has an address in a county township.
        let rows: Vec<(Option<String>, String)> = app
            .state
            .db
            .run(|c| Ok(schema::applications::table.select((schema::applications::township_id, schema::applications::facts_json)).load(c)?))
            .await
            .unwrap();
        let towns = ["凤城镇", "城厢镇", "参内镇"];
        let mut invisible = 0;
        for (t, facts) in &rows {
            let f: ruxue::policy::ApplicantFacts = serde_json::from_str(facts).unwrap();
            let addrs = [f.hukou.as_ref(), f.property.as_ref().map(|p| &p.address), f.migrant.as_ref().and_then(|m| m.residence_address.as_ref())];
            let in_county = addrs.iter().flatten().any(|a| a.township.as_deref().is_some_and(|n| towns.contains(&n)));
            if t.is_none() && in_county {
                invisible += 1;
            }
        }
        assert_eq!(invisible, 0, "{backend:?}: applications with a county address but no township");
        let migrants_seen = rows.iter().filter(|(t, f)| t.is_some() && f.contains("\"residence_address\":{")).count();
        assert!(migrants_seen > 100, "{backend:?}: {migrants_seen} migrant children reviewed in a township");
        eprintln!("{backend:?}: {n_all} applications, FC {seen_fc}, CX+CN {seen_cx}, county queue {n_county}, migrants in a township {migrants_seen}");

        // The admin's queue page shows the county queue's count and filters by it.
        let (c, csrf) = page_login(&app, ADMIN).await;
        let html = c.get(app.url("/staff/review")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(&format!("<strong id=\"county-queue-count\">{n_county}</strong>")), "{html}");
        assert!(html.contains("县级待分配"));
        let html = c.get(app.url("/staff/review?township=county")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(&format!("共 {n_county} 份申请")), "{html}");
        let id = county["rows"][0]["id"].as_str().unwrap().to_string();
        let html = c.get(app.url(&format!("/staff/review/{id}"))).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("id=\"assign-form\"") && html.contains("分配给乡镇审核"), "{html}");
        // Reviewers do not get the filter or the count.
        let (rc, _) = page_login(&app, REVIEWER).await;
        let html = rc.get(app.url("/staff/review")).send().await.unwrap().text().await.unwrap();
        assert!(!html.contains("county-queue-count") && !html.contains("f-township"));
        assert_eq!(rc.get(app.url(&format!("/staff/review/{id}"))).send().await.unwrap().status(), 404);

        // The page form: a bad township answers on the page, a good one assigns.
        let r = c.post(app.url(&format!("/staff/review/{id}/assign"))).form(&[("csrf", csrf.as_str()), ("township_id", "XX"), ("reason", "核实")]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("没有编号为 XX 的乡镇"));
        let r = c.post(app.url(&format!("/staff/review/{id}/assign"))).form(&[("csrf", csrf.as_str()), ("township_id", "FC"), ("reason", "家长来电：居住在凤城镇")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(rc.get(app.url(&format!("/staff/review/{id}"))).send().await.unwrap().status(), 200, "凤城镇's reviewer sees it now");
        assert_eq!(total(admin.clone(), "township=county").await["total"].as_i64().unwrap(), n_county - 1);
        let entries = audit_actions(&app).await;
        assert!(entries.iter().any(|(actor, action, target)| actor.starts_with("staff:") && action == "review.assign" && *target == format!("application:{id}")), "{entries:?}");
    }
}

backend_test! {
    /// Rows stored under the old rule (township from the hukou address only)
    /// are recomputed by `ruxue review rescope`, audited, keeping an admin's
    /// assignment; a second run changes nothing and the chain stays intact.
    #[tokio::test]
    async fn review_rescope_recomputes_old_rows(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let before = |app: &TestApp| {
            let db = app.state.db.clone();
            async move {
                db.run(|c| {
                    Ok(schema::applications::table
                        .order(schema::applications::id.asc())
                        .select((schema::applications::id, schema::applications::township_id))
                        .load::<(String, Option<String>)>(c)?)
                })
                .await
                .unwrap()
            }
        };
        let want = before(&app).await;
        // The old rule: migrant children without a hukou had no township; one county-queue child was assigned.
        sql(&app, "UPDATE applications SET township_id = NULL WHERE facts_json LIKE '%\"residence_address\":{%' AND facts_json LIKE '%\"hukou\":null%'").await;
        let county = want.iter().find(|(_, t)| t.is_none()).unwrap().0.clone();
        sql(&app, &format!("UPDATE applications SET township_id = 'CN', assigned_township_id = 'CN' WHERE id = '{county}'")).await;
        let damaged = before(&app).await.iter().filter(|(_, t)| t.is_none()).count();
        assert!(damaged > 100, "{damaged}");

        let out = run_ruxue(&["review", "rescope"], &app.db.url);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
        let n_county = want.iter().filter(|(_, t)| t.is_none()).count() - 1;
        assert!(text.contains(&format!("{} in the county queue", n_county)), "{text}");
        let after = before(&app).await;
        for ((id, w), (_, a)) in want.iter().zip(&after) {
            let expected = if *id == county { Some("CN".to_string()) } else { w.clone() };
            assert_eq!(a, &expected, "{backend:?} {id}");
        }
        let n = audit_actions(&app).await.iter().filter(|(actor, action, _)| action == "review.rescope" && actor == ruxue::cli::CLI_ACTOR).count();
        assert_eq!(n, damaged - n_county, "one audit entry per moved application");
        let again = run_ruxue(&["review", "rescope"], &app.db.url);
        assert!(String::from_utf8_lossy(&again.stdout).contains(" 0 moved"), "{}", String::from_utf8_lossy(&again.stdout));
        assert!(verify(&app.db.url).0, "the audit chain is intact");
    }
}

backend_test! {
    /// Issue 10, item 7: the audit page names people and actions in words,
    /// shows what changed, filters by actor, action, date and application,
    /// and the CSV download has Chinese headers over the stored fields.
    #[tokio::test]
    async fn the_audit_log_reads_in_words_and_filters(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let rev = api_login(&app, REVIEWER).await.access;
        let aud = api_login(&app, AUDITOR).await.access;
        let (id, no) = apps_in(&app, "FC", &["under_review"], "2027-G1").await[0].clone();
        let (s, b) = decide(&app, &rev, &id, json!({"decision": "approve"})).await;
        assert_eq!(s, 200, "{b}");
        let get = |q: String| {
            let (url, token) = (app.url(&format!("/api/v1/staff/audit?{q}")), aud.clone());
            async move {
                let r = client().get(url).bearer_auth(token).send().await.unwrap();
                let s = r.status().as_u16();
                (s, r.json::<Value>().await.unwrap())
            }
        };
        let me: Value = client().get(app.url("/api/v1/staff/me")).bearer_auth(&rev).send().await.unwrap().json().await.unwrap();
        let rev_id = me["id"].as_str().unwrap().to_string();

        // By application (registration number): the approval, in words.
        let (s, p) = get(format!("application={no}")).await;
        assert_eq!(s, 200, "{p}");
        let entries = p["entries"].as_array().unwrap();
        assert!(entries.iter().all(|e| e["target"] == format!("application:{id}")), "{p}");
        let approve = entries.iter().find(|e| e["action"] == "review.approve").expect("the approval");
        assert_eq!(approve["actor_label"], "林审核（凤城镇）（乡镇审核员）");
        assert_eq!(approve["action_label"], "审核通过");
        assert_eq!(approve["target_label"], format!("申请 {no}"));
        let changes = approve["changes"].as_array().unwrap();
        assert!(changes.iter().any(|c| c["field"] == "状态" && c["before"] == "审核中" && c["after"] == "审核通过"), "{changes:?}");
        assert!(!changes.iter().any(|c| c["field"] == "对口学校" && c["before"] == c["after"]), "only what changed");
        assert!(approve["hash"].as_str().unwrap().len() == 64, "the stored fields are still there");

        // By actor and by action.
        let (_, p) = get(format!("actor={rev_id}")).await;
        assert!(p["total"].as_i64().unwrap() >= 2, "{p}");
        assert!(p["entries"].as_array().unwrap().iter().all(|e| e["actor"] == format!("staff:{rev_id}")));
        let (_, p) = get("action=staff.login".into()).await;
        assert_eq!(p["total"], 2, "two logins: {p}");
        assert!(p["entries"].as_array().unwrap().iter().all(|e| e["action_label"] == "工作人员登录"));
        // By date (Beijing): today has everything, a day long ago nothing; a bad date names the field.
        let today = ruxue::db::beijing(ruxue::db::now()).date().to_string();
        let (_, all) = get(String::new()).await;
        let (_, p) = get(format!("from={today}&to={today}")).await;
        assert_eq!(p["total"], all["total"]);
        let (_, p) = get("from=2000-01-01&to=2000-01-02".into()).await;
        assert_eq!(p["total"], 0);
        let (s, b) = get("from=20270720".into()).await;
        assert_eq!((s, &b["error"]["field"]), (422, &json!("from")), "{b}");
        let (_, p) = get("application=2099-G1-99999".into()).await;
        assert_eq!(p["total"], 0, "an unknown application matches nothing");

        // The page: words, filters kept in the pagination links.
        let (c, _) = page_login(&app, AUDITOR).await;
        let html = c.get(app.url(&format!("/staff/audit?application={no}"))).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("林审核（凤城镇）（乡镇审核员）") && html.contains(&format!("申请 {no}")), "{html}");
        assert!(html.contains("<del>审核中</del> → 审核通过"), "{html}");
        assert!(html.contains(&format!("value=\"{no}\"")), "the filter is shown");
        let r = c.get(app.url("/staff/audit?to=bad")).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("日期格式应为"));

        // The CSV: Chinese headers, stored fields first, then the same in words.
        let csv = client().get(app.url("/api/v1/staff/audit/export?format=csv")).bearer_auth(&aud).send().await.unwrap().text().await.unwrap();
        let header = csv.lines().next().unwrap().trim_start_matches('\u{feff}');
        assert!(header.starts_with("序号(seq),时间UTC(at),操作人(actor),操作(action)"), "{header}");
        assert!(header.ends_with("操作人姓名与角色,操作说明,变更内容"), "{header}");
        assert!(csv.contains("林审核（凤城镇）（乡镇审核员）") && csv.contains("状态：审核中 → 审核通过"), "readable columns");
        assert!(verify(&app.db.url).0);
    }
}

backend_test! {
    /// Issue 10, item 7: the dashboard's totals add up: every application
    /// once by status, those without a school or zone as 待统筹.
    #[tokio::test]
    async fn dashboard_totals_add_up(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let aud = api_login(&app, AUDITOR).await.access;
        for campaign in ["2027-G1", "2027-G7"] {
            let d: Value = client().get(app.url(&format!("/api/v1/staff/dashboard?campaign={campaign}"))).bearer_auth(&aud).send().await.unwrap().json().await.unwrap();
            let s = &d["summary"];
            let c = campaign.to_string();
            let (all, unplaced): (i64, i64) = app
                .state
                .db
                .run(move |conn| {
                    let q = || schema::applications::table.filter(schema::applications::campaign_id.eq(c.clone()));
                    Ok((
                        q().count().get_result(conn)?,
                        q().filter(schema::applications::catchment_school_id.is_null()).filter(schema::applications::zone_id.is_null()).count().get_result(conn)?,
                    ))
                })
                .await
                .unwrap();
            let n = |v: &Value| v.as_i64().unwrap();
            assert_eq!(n(&s["total_applications"]), all, "{backend:?} {campaign}");
            assert_eq!(n(&s["total_approved"]) + n(&s["total_pending"]) + n(&s["total_rejected"]), all);
            assert_eq!(s["by_status"].as_array().unwrap().iter().map(|c| n(&c["count"])).sum::<i64>(), all);
            let units = s["units"].as_array().unwrap().iter().chain(s["unplaced"].as_object().map(|_| &s["unplaced"]));
            assert_eq!(units.map(|u| n(&u["approved"]) + n(&u["pending"]) + n(&u["rejected"])).sum::<i64>(), all);
            if unplaced > 0 {
                let u = &s["unplaced"];
                assert_eq!(u["name"], "待统筹");
                assert!(n(&u["approved"]) + n(&u["pending"]) + n(&u["rejected"]) >= unplaced, "{u}");
            }
            eprintln!("{backend:?} {campaign}: {all} applications, {unplaced} without a school or zone");
            let (c, _) = page_login(&app, AUDITOR).await;
            let html = c.get(app.url(&format!("/staff/dashboard?campaign={campaign}"))).send().await.unwrap().text().await.unwrap();
            assert!(html.contains(&format!("<b id=\"t-apps\">{all}</b>")), "{html}");
            for c in s["by_status"].as_array().unwrap() {
                assert!(html.contains(&format!("data-status=\"{}\">{} {}</span>", c["status"].as_str().unwrap(), c["label"].as_str().unwrap(), c["count"])), "{c} {html}");
            }
            assert_eq!(html.contains("id=\"unplaced\""), unplaced > 0);
        }
    }
}

backend_test! {
    /// Issue 10, item 7: an admin disables, enables and unlocks staff
    /// accounts; disabling ends the account's sessions at once; every
    /// change is audited; nobody else may, and bad input names the field.
    #[tokio::test]
    async fn admins_disable_enable_and_unlock_accounts(backend) {
        let app = spawn_app_with(backend, true, &[("RUXUE__SECURITY__MAX_FAILED_LOGINS", "2"), ("RUXUE__SECURITY__LOCKOUT_MINUTES", "30")]).await;
        let admin = api_login(&app, ADMIN).await.access;
        let rev2 = api_login(&app, REVIEWER2).await.access;
        let accounts: Value = client().get(app.url("/api/v1/staff/accounts")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        let id_of = |u: &str| accounts["staff"].as_array().or(accounts.as_array()).unwrap().iter().find(|s| s["username"] == u).unwrap()["id"].as_str().unwrap().to_string();
        let (rev2_id, admin_id, aud_id) = (id_of("reviewer-fc2"), id_of("admin"), id_of("auditor"));
        let act = |token: &str, id: &str, action: &str| {
            let (url, token, body) = (app.url(&format!("/api/v1/staff/accounts/{id}/state")), token.to_string(), json!({"action": action}));
            async move {
                let r = client().post(url).bearer_auth(token).json(&body).send().await.unwrap();
                let s = r.status().as_u16();
                (s, r.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        let login = |who: (&'static str, &'static str)| {
            let url = app.url("/api/v1/staff/login");
            async move { client().post(url).json(&json!({"username": who.0, "password": who.1})).send().await.unwrap().status().as_u16() }
        };

        // Refused: not an admin, bad action, unknown account, oneself.
        assert_eq!(act(&rev2, &aud_id, "disable").await.0, 403);
        let (s, b) = act(&admin, &rev2_id, "delete").await;
        assert_eq!((s, &b["error"]["field"]), (422, &json!("action")), "{b}");
        assert_eq!(act(&admin, "no-such-account", "disable").await.0, 404);
        let (s, b) = act(&admin, &admin_id, "disable").await;
        assert_eq!(s, 422, "{b}");
        assert!(b["error"]["message"].as_str().unwrap().contains("不能停用自己"), "{b}");

        // Disable: the open session ends at once, login is refused; enable: back.
        assert_eq!(me(&app, &rev2).await, 200);
        let (s, b) = act(&admin, &rev2_id, "disable").await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(me(&app, &rev2).await, 401, "the disabled account's token stops working");
        assert_eq!(login(REVIEWER2).await, 401);
        assert_eq!(act(&admin, &rev2_id, "disable").await.0, 409, "already disabled");
        assert_eq!(act(&admin, &rev2_id, "enable").await.0, 200);
        assert_eq!(login(REVIEWER2).await, 200);

        // Unlock after a lock-out.
        assert_eq!(login(("auditor", "wrong-password")).await, 401);
        assert!([401, 409].contains(&login(("auditor", "wrong-password")).await));
        assert_eq!(login(AUDITOR).await, 409, "locked");
        let (s, b) = act(&admin, &aud_id, "unlock").await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(login(AUDITOR).await, 200);
        assert_eq!(act(&admin, &aud_id, "unlock").await.0, 409, "not locked any more");

        // The page: buttons, and the action on the page.
        let (c, csrf) = page_login(&app, ADMIN).await;
        let html = c.get(app.url("/staff/accounts")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(&format!("action=\"/staff/accounts/{rev2_id}/state\"")) && html.contains("停用"), "{html}");
        let r = c.post(app.url(&format!("/staff/accounts/{rev2_id}/state"))).form(&[("csrf", csrf.as_str()), ("action", "disable")]).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("账号已停用"));
        assert_eq!(login(REVIEWER2).await, 401);

        // Audited, and readable on the audit page.
        let entries = audit_actions(&app).await;
        let count = |a: &str| entries.iter().filter(|(actor, action, _)| action == a && *actor == format!("staff:{admin_id}")).count();
        assert_eq!((count("staff.disable"), count("staff.enable"), count("staff.unlock")), (2, 1, 1), "{entries:?}");
        let (ac, _) = page_login(&app, AUDITOR).await;
        let html = ac.get(app.url("/staff/audit?action=staff.disable")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("停用工作人员账号") && html.contains("账号 王复核（凤城镇）") && html.contains("<del>是</del> → 否"), "{html}");
    }
}

backend_test! {
    /// Issue 10, item 7: an auditor opens any application read-only, with
    /// personal data masked, from the audit page; staff read the timeline
    /// and overrides in words, not codes.
    #[tokio::test]
    async fn auditors_read_any_application_masked_and_staff_read_words(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let rev = api_login(&app, REVIEWER).await.access;
        let aud = api_login(&app, AUDITOR).await.access;
        let fc = apps_in(&app, "FC", &["under_review"], "2027-G1").await;
        let cx = apps_in(&app, "CX", &["under_review", "submitted"], "2027-G1").await;
        // An override waiting for its second opinion: words on the page.
        let mut target = None;
        for (id, _) in &fc {
            let d = detail(&app, &rev, id).await;
            if d["computed"]["school_id"].is_string() {
                target = Some((id.clone(), d));
                break;
            }
        }
        let (id, d) = target.expect("a computable application");
        let other = if d["computed"]["school_id"] == "P02" { ("P01", "安溪县实验小学") } else { ("P02", "凤城中心小学") };
        let (s, v) = decide(&app, &rev, &id, json!({"decision": "approve", "school_id": other.0, "reason": "入户核实"})).await;
        assert_eq!(s, 200, "{v}");
        let (rc, _) = page_login(&app, REVIEWER).await;
        let html = rc.get(app.url(&format!("/staff/review/{id}"))).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(&format!("学校改为 {}", other.1)) && !html.contains(&format!("学校改为 {}", other.0)), "{html}");
        let queue = rc.get(app.url("/staff/review?status=approved")).send().await.unwrap().text().await.unwrap();
        assert!(queue.contains("<td>A 房户一致</td>") || queue.contains("<td>B 户籍在片区</td>"), "categories with their labels: {queue}");
        let timeline = &html[html.find("id=\"timeline\"").expect("the timeline")..];
        assert!(timeline.contains("<td>已提交</td><td>家长</td>") && !timeline.contains("<td>submitted</td>"), "{timeline}");

        // The auditor: any township, masked, read-only.
        for (app_id, _) in [&fc[0], &cx[0]] {
            let r = client().get(app.url(&format!("/api/v1/staff/review/applications/{app_id}"))).bearer_auth(&aud).send().await.unwrap();
            assert_eq!(r.status(), 200);
            let a: Value = r.json().await.unwrap();
            let full = detail(&app, &api_login(&app, ADMIN).await.access, app_id).await;
            assert_eq!(a["read_only"], true);
            assert_ne!(a["child_name"], full["child_name"], "the name is masked");
            assert!(a["child_name"].as_str().unwrap().contains('*'));
            assert!(a["id_number"].as_str().unwrap().contains('*') && !full["id_number"].as_str().unwrap().contains('*'));
            assert!(a["guardian_phone"].as_str().unwrap().contains('*'));
            assert_ne!(a["guardian_name"], full["guardian_name"]);
            // The birth date is as personal as the ID number it hides: the year only.
            let born = full["child_birth_date"].as_str().unwrap();
            assert_eq!(a["child_birth_date"].as_str().unwrap(), format!("{} 年", &born[..4]), "{born}");
            for addr in [&a["facts"]["hukou"], &a["facts"]["property"]["address"], &a["facts"]["migrant"]["residence_address"]] {
                if let Some(h) = addr.as_object() {
                    assert!(h.get("number").map_or(true, Value::is_null) && h.get("building").map_or(true, Value::is_null), "{h:?}");
                    assert!(h.get("compound").map_or(true, Value::is_null), "{h:?}");
                }
            }
            assert!(a["facts"].to_string().contains("township"), "addresses keep the township");
            if let Some(p) = a["facts"]["property"].as_object() {
                assert!(p["certificate_no"].as_str().unwrap().contains('*'));
            }
            // Read-only: decisions and documents are refused.
            let (s, _) = decide(&app, &aud, app_id, json!({"decision": "note", "note": "看看"})).await;
            assert_eq!(s, 403);
        }
        let doc = add_document(&app, &fc[0].0).await;
        let r = client().get(app.url(&format!("/api/v1/staff/documents/{doc}"))).bearer_auth(&aud).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let (ac, _) = page_login(&app, AUDITOR).await;
        let html = ac.get(app.url(&format!("/staff/review/{}", fc[0].0))).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("id=\"read-only\"") && !html.contains("id=\"approve-form\"") && !html.contains("/staff/documents/"), "{html}");
        // Every view is audited, and the audit page links to the application.
        let entries = audit_actions(&app).await;
        let me: Value = client().get(app.url("/api/v1/staff/me")).bearer_auth(&aud).send().await.unwrap().json().await.unwrap();
        let aud_actor = format!("staff:{}", me["id"].as_str().unwrap());
        assert!(entries.iter().filter(|(a, act, _)| *a == aud_actor && act == "application.view").count() >= 3, "{entries:?}");
        let html = ac.get(app.url(&format!("/staff/audit?actor={}&action=application.view", me["id"].as_str().unwrap()))).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(&format!("<a href=\"/staff/review/{}\">申请 ", fc[0].0)), "{html}");
    }
}
