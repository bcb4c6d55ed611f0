// Security properties (issue 14): one family cannot reach another's data
// by changing ids; every POST form checks its CSRF token; and a busy day's
// logs (the real binary's output) carry none of the personal data typed in.

mod common;

use common::parent::*;
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const G1: &str = "2027-G1";

async fn open_app(backend: Backend) -> TestApp {
    let app = spawn_app_with(backend, true, &[]).await;
    let (db, settings) = (app.state.db.clone(), app.state.settings.clone());
    tokio::task::spawn_blocking(move || ruxue::service::campaign::open_registration(&db, &settings, G1, 14, true, "test"))
        .await
        .unwrap()
        .expect("campaign opens");
    app
}

fn file_form(csrf: Option<&str>) -> reqwest::multipart::Form {
    let mut f = reqwest::multipart::Form::new()
        .text("kind", "hukou")
        .part("file", reqwest::multipart::Part::bytes(real_png(5, 5)).file_name("x.png").mime_str("image/png").unwrap());
    if let Some(c) = csrf {
        f = f.text("_csrf", c.to_string());
    }
    f
}

backend_test! {
    /// Parent B, logged in, tries every parent route that takes an id with
    /// parent A's draft and application: nothing is shown, nothing changes.
    #[tokio::test]
    async fn a_family_cannot_reach_another_familys_data_by_id(backend) {
        let app = open_app(backend).await;
        let a = dev_parent(&app, "idor-a").await;
        let app_a = a.register(&app, G1, "郑秘密", &id_number("350524", "20210315", "411")).await;
        let draft_a = a.new_draft(&app, G1).await;
        let (s, _) = a.put(&app, &format!("/api/v1/registration/drafts/{draft_a}/child"), child("郑草稿", &id_number("350524", "20210315", "422"))).await;
        assert_eq!(s, StatusCode::OK);
        let (s, up) = a.upload(&app, &draft_a, "hukou", "h.png", "image/png", real_png(6, 6)).await;
        assert_eq!(s, StatusCode::CREATED, "{up}");
        let hash = up["content_hash"].as_str().unwrap().to_string();
        let before_app = a.get(&app, &format!("/api/v1/registration/applications/{app_a}")).await.1;
        let before_draft = a.get(&app, &format!("/api/v1/registration/drafts/{draft_a}")).await.1;

        let b = dev_parent(&app, "idor-b").await;
        let c = &b.c;
        let api = |p: String| app.url(&format!("/api/v1/registration{p}"));
        let page = |p: String| app.url(&format!("/parent{p}"));
        let reason = "审核意见与实际情况不符，申请复核";
        let form = [("_csrf", b.csrf.as_str()), ("reason", reason), ("reply", "已补交"), ("child_name", "乙")];
        let mut tried: Vec<(String, reqwest::Response)> = Vec::new();
        let h = ("X-CSRF-Token", b.csrf.as_str());
        tried.push(("GET draft".into(), c.get(api(format!("/drafts/{draft_a}"))).send().await.unwrap()));
        tried.push(("PUT child".into(), c.put(api(format!("/drafts/{draft_a}/child"))).header(h.0, h.1).json(&child("乙", &id_number("350524", "20210315", "433"))).send().await.unwrap()));
        tried.push(("POST documents".into(), c.post(api(format!("/drafts/{draft_a}/documents"))).header(h.0, h.1).multipart(file_form(None)).send().await.unwrap()));
        tried.push(("DELETE document".into(), c.delete(api(format!("/drafts/{draft_a}/documents/{hash}"))).header(h.0, h.1).send().await.unwrap()));
        tried.push(("GET review".into(), c.get(api(format!("/drafts/{draft_a}/review"))).send().await.unwrap()));
        tried.push(("POST submit".into(), c.post(api(format!("/drafts/{draft_a}/submit"))).header(h.0, h.1).send().await.unwrap()));
        tried.push(("GET application".into(), c.get(api(format!("/applications/{app_a}"))).send().await.unwrap()));
        for action in ["edit", "supplement", "withdraw", "appeal"] {
            tried.push((format!("POST api {action}"), c.post(api(format!("/applications/{app_a}/{action}"))).header(h.0, h.1).json(&json!({"reason": reason, "reply": "已补交"})).send().await.unwrap()));
        }
        for step in ["child", "documents", "review"] {
            tried.push((format!("GET page {step}"), c.get(page(format!("/drafts/{draft_a}/{step}"))).send().await.unwrap()));
        }
        tried.push(("POST page child".into(), c.post(page(format!("/drafts/{draft_a}/child"))).form(&form).send().await.unwrap()));
        tried.push(("POST page documents".into(), c.post(page(format!("/drafts/{draft_a}/documents"))).multipart(file_form(Some(&b.csrf))).send().await.unwrap()));
        tried.push(("POST page remove".into(), c.post(page(format!("/drafts/{draft_a}/documents/remove"))).form(&[("_csrf", b.csrf.as_str()), ("content_hash", hash.as_str())]).send().await.unwrap()));
        tried.push(("POST page submit".into(), c.post(page(format!("/drafts/{draft_a}/submit"))).form(&form).send().await.unwrap()));
        tried.push(("GET page application".into(), c.get(page(format!("/applications/{app_a}"))).send().await.unwrap()));
        for action in ["edit", "supplement", "withdraw", "appeal"] {
            tried.push((format!("POST page {action}"), c.post(page(format!("/applications/{app_a}/{action}"))).form(&form).send().await.unwrap()));
        }
        assert_eq!(tried.len(), 23);
        for (what, r) in tried {
            let s = r.status();
            let body = r.text().await.unwrap();
            assert!(s == StatusCode::NOT_FOUND, "{what}: {s} {body}");
            assert!(!body.contains("郑秘密") && !body.contains("郑草稿"), "{what}: {body}");
        }
        // A's registration and draft are exactly as they were.
        assert_eq!(a.get(&app, &format!("/api/v1/registration/applications/{app_a}")).await.1, before_app);
        assert_eq!(a.get(&app, &format!("/api/v1/registration/drafts/{draft_a}")).await.1, before_draft);
        // And B's own list holds nothing of A's.
        let (_, mine) = b.get(&app, "/api/v1/registration/applications").await;
        assert_eq!(mine["applications"].as_array().unwrap().len(), 0, "{mine}");
    }

    /// Every parent and staff POST form refuses a request without (or with a
    /// wrong) CSRF token: 403 before anything happens. Cookie-authenticated
    /// API calls need the X-CSRF-Token header as well.
    #[tokio::test]
    async fn every_post_form_checks_its_csrf_token(backend) {
        let app = open_app(backend).await;
        let p = dev_parent(&app, "csrf-parent").await;
        let app_id = p.register(&app, G1, "钱小多", &id_number("350524", "20210315", "512")).await;
        let draft = p.new_draft(&app, G1).await;
        let (s, _) = p.put(&app, &format!("/api/v1/registration/drafts/{draft}/child"), child("钱小少", &id_number("350524", "20210315", "523"))).await;
        assert_eq!(s, StatusCode::OK);
        let parent_forms = [
            "/parent/logout".to_string(),
            "/parent/profile".to_string(),
            format!("/parent/campaigns/{G1}/start"),
            format!("/parent/drafts/{draft}/child"),
            format!("/parent/drafts/{draft}/documents/remove"),
            format!("/parent/drafts/{draft}/submit"),
            format!("/parent/applications/{app_id}/edit"),
            format!("/parent/applications/{app_id}/supplement"),
            format!("/parent/applications/{app_id}/withdraw"),
            format!("/parent/applications/{app_id}/appeal"),
        ];
        for path in &parent_forms {
            for token in [None, Some("wrong-token")] {
                let mut fields = vec![("name", "林美玲"), ("relation", "母亲"), ("mobile", "13805951234"), ("reason", "x"), ("child_name", "钱")];
                if let Some(t) = token {
                    fields.push(("_csrf", t));
                }
                let r = p.c.post(app.url(path)).form(&fields).send().await.unwrap();
                assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path} {token:?}");
            }
        }
        let r = p.c.post(app.url(&format!("/parent/drafts/{draft}/documents"))).multipart(file_form(None)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "the upload form");
        // The API by cookie: the header is required.
        let r = p.c.post(app.url(&format!("/api/v1/registration/applications/{app_id}/withdraw"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let (_, v) = p.get(&app, &format!("/api/v1/registration/applications/{app_id}")).await;
        assert_eq!(v["status"], "submitted", "nothing happened: {v}");
        let (_, me) = p.get(&app, "/api/v1/registration/session").await;
        assert!(me["guardian"].is_object() || me["csrf_token"].is_string(), "still logged in: {me}");

        // Staff: every POST page route, signed in as admin, with a wrong token.
        let (c, _csrf) = common::staff::page_login(&app, ("admin", "ruxue-demo-admin")).await;
        let posts: Vec<&str> = ruxue::web::staff::ROUTES.iter().filter(|(m, p)| *m == "post" && p.starts_with("/staff/")).map(|(_, p)| *p).collect();
        assert!(posts.len() >= 10, "{posts:?}");
        for path in posts {
            let path = path.replace("{id}", &app_id);
            let fields = [
                ("csrf", "wrong-token"), ("username", "admin"), ("password", "ruxue-demo-admin"), ("decision", "note"), ("note", "x"),
                ("reason", "x"), ("township_id", "FC"), ("name", "x"), ("role", "reviewer"), ("current_password", "x"),
                ("new_password", "x"), ("action", "disable"), ("from", G1), ("year", "2028"), ("to", "draw"), ("agree", "yes"),
            ];
            // The decision form is read strictly (unknown fields are refused); give it its own.
            let decision = [("csrf", "wrong-token"), ("decision", "note"), ("note", "看过了")];
            let fields: &[(&str, &str)] = if path == format!("/staff/review/{app_id}") { &decision } else { &fields };
            let r = c.post(app.url(&path)).form(fields).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        }
        // Still signed in: none of those logged out or changed anything.
        let r = c.get(app.url("/staff/accounts")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
}

/// A free port on the loopback, for a child process (checked free just now).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The real binary, a busy morning (registrations, refusals, review,
/// exports, errors) with known ID numbers, names, phone numbers and an
/// address typed in, every log line captured at debug level: none of them
/// appears.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_personal_data_reaches_the_logs() {
    for backend in backends() {
        run_log_scenario(backend).await;
    }
}

async fn run_log_scenario(backend: Backend) {
    let db = TestDb::new(backend);
    let port = free_port();
    let env: Vec<(String, String)> = vec![
        ("RUXUE_ENV".into(), "test".into()),
        ("RUXUE_CONFIG_DIR".into(), config_dir().display().to_string()),
        ("RUXUE_LOG".into(), "debug".into()),
        ("RUXUE__LOG__FORMAT".into(), "json".into()),
        ("RUXUE__DATABASE__URL".into(), db.url.clone()),
        ("RUXUE__SERVER__PORT".into(), port.to_string()),
        ("RUXUE__SERVER__WORKERS".into(), "1".into()),
        ("RUXUE__UPLOADS__DIR".into(), db.dir().join("uploads").display().to_string()),
        ("RUXUE__MAIL__FILE_DIR".into(), db.dir().join("mail").display().to_string()),
    ];
    let run = |args: &[&str]| {
        let out = std::process::Command::new(ruxue_bin()).args(args).envs(env.clone()).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["demo"]);
    run(&["campaign", "open", G1]);
    let log_path = db.dir().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut server = std::process::Command::new(ruxue_bin())
        .arg("serve")
        .envs(env.clone())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let plain = reqwest::Client::new();
    let mut up = false;
    for _ in 0..200 {
        if plain.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "the server did not come up: {}", std::fs::read_to_string(&log_path).unwrap_or_default());
    let app = TestAppLike { base: base.clone() };

    let id = id_number("350524", "20210315", "987");
    let wrong_id = format!("{}{}", &id[..17], if id.ends_with('0') { '1' } else { '0' });
    let (guardian, kid, phone, address) = ("欧阳明珠", "欧阳小宝", "13912345678", "凤城镇二环路8888号");
    let secrets = [id.as_str(), &id[..14], wrong_id.as_str(), guardian, kid, phone, address, "8888号"];
    let mut statuses = Vec::new();

    let p = app.dev_parent("pii-parent", guardian, phone).await;
    let draft = p.post(&app, &format!("/api/v1/registration/campaigns/{G1}/drafts"), json!(null)).await;
    let draft = draft.1["draft_id"].as_str().unwrap().to_string();
    let mut form = child(kid, &wrong_id);
    form["hukou_number"] = json!("8888");
    statuses.push(p.put(&app, &format!("/api/v1/registration/drafts/{draft}/child"), form.clone()).await.0);
    form["id_number"] = json!(id);
    statuses.push(p.put(&app, &format!("/api/v1/registration/drafts/{draft}/child"), form.clone()).await.0);
    let f = reqwest::multipart::Form::new()
        .text("kind", "hukou")
        .part("file", reqwest::multipart::Part::bytes(real_png(7, 7)).file_name(format!("{kid}{id}.png")));
    statuses.push(
        p.c.post(format!("{base}/api/v1/registration/drafts/{draft}/documents"))
            .header("X-CSRF-Token", &p.csrf)
            .multipart(f)
            .send()
            .await
            .unwrap()
            .status(),
    );
    let (s, sub) = p.post(&app, &format!("/api/v1/registration/drafts/{draft}/submit"), json!(null)).await;
    statuses.push(s);
    let app_id = sub["application_id"].as_str().unwrap_or_default().to_string();
    // Another family types the same child's number; someone types a NUL; the lookup with the address.
    let q = app.dev_parent("pii-other", "赵其他", "13700000000").await;
    let d2 =
        q.post(&app, &format!("/api/v1/registration/campaigns/{G1}/drafts"), json!(null)).await.1["draft_id"].as_str().unwrap().to_string();
    statuses.push(q.put(&app, &format!("/api/v1/registration/drafts/{d2}/child"), form.clone()).await.0);
    statuses.push(
        q.put(&app, "/api/v1/registration/guardian", json!({"name": format!("{guardian}\u{0}"), "relation": "母亲", "mobile": phone}))
            .await
            .0,
    );
    statuses.push(
        plain
            .get(format!("{base}/api/v1/catchment/lookup"))
            .query(&[("campaign", G1), ("address", address)])
            .send()
            .await
            .unwrap()
            .status(),
    );
    statuses.push(plain.get(format!("{base}/lookup")).query(&[("campaign", G1), ("address", address)]).send().await.unwrap().status());
    // Staff: a login typed with the ID number as user name, then review and exports.
    statuses.push(
        plain.post(format!("{base}/api/v1/staff/login")).json(&json!({"username": id, "password": phone})).send().await.unwrap().status(),
    );
    let login = |u: &'static str, pw: &'static str| {
        let plain = plain.clone();
        let base = base.clone();
        async move {
            let v: Value = plain
                .post(format!("{base}/api/v1/staff/login"))
                .json(&json!({"username": u, "password": pw}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["access_token"].as_str().unwrap().to_string()
        }
    };
    let rev = login("reviewer-fc", "ruxue-demo-reviewer").await;
    let admin = login("admin", "ruxue-demo-admin").await;
    let auditor = login("auditor", "ruxue-demo-auditor").await;
    for (tok, path) in [
        (&rev, "/api/v1/staff/review/queue".to_string()),
        (&rev, format!("/api/v1/staff/review/applications/{app_id}")),
        (&auditor, format!("/api/v1/staff/review/applications/{app_id}")),
        (&admin, "/api/v1/staff/exports/applications".to_string()),
        (&admin, "/api/v1/staff/exports/applications?format=xlsx".to_string()),
        (&admin, "/api/v1/staff/audit/export".to_string()),
        (&admin, "/api/v1/staff/review/applications/no-such-id".to_string()),
    ] {
        statuses.push(plain.get(format!("{base}{path}")).bearer_auth(tok).send().await.unwrap().status());
    }
    let r = plain
        .post(format!("{base}/api/v1/staff/review/applications/{app_id}/decisions"))
        .bearer_auth(&rev)
        .json(&json!({"decision": "reject", "reason_code": "other", "reason": format!("{kid} {phone} 材料不符")}))
        .send()
        .await
        .unwrap();
    statuses.push(r.status());
    statuses.push(plain.get(format!("{base}/api/v1/registration/applications/{app_id}")).send().await.unwrap().status());

    let _ = std::process::Command::new("kill").arg("-TERM").arg(server.id().to_string()).status();
    let _ = tokio::task::spawn_blocking(move || server.wait()).await;
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(statuses.iter().all(|s| s.as_u16() < 500), "{statuses:?}");
    assert!(statuses.contains(&StatusCode::UNPROCESSABLE_ENTITY) && statuses.contains(&StatusCode::CREATED), "{statuses:?}");
    let lines: Vec<&str> = logs.lines().collect();
    assert!(lines.len() > 30, "{} log lines: {logs}", lines.len());
    assert!(lines.iter().any(|l| l.contains("/api/v1/registration/drafts")), "the requests were logged");
    for line in &lines {
        for s in secrets {
            assert!(!line.contains(s), "{} log line carries {s:?}: {line}", backend.name());
        }
        assert!(!line.contains("%E6%AC%A7"), "a percent-encoded name: {line}");
    }
}

struct TestAppLike {
    base: String,
}

/// A parent of the spawned binary (not a [`TestApp`]).
struct LogParent {
    c: reqwest::Client,
    csrf: String,
}

impl TestAppLike {
    async fn dev_parent(&self, openid: &str, name: &str, phone: &str) -> LogParent {
        let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
        let r = c.post(format!("{}/parent/dev-login", self.base)).form(&[("openid", openid)]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let s: Value = c.get(format!("{}/api/v1/registration/session", self.base)).send().await.unwrap().json().await.unwrap();
        let p = LogParent { c, csrf: s["csrf_token"].as_str().unwrap().into() };
        let (st, b) = p.put(self, "/api/v1/registration/guardian", json!({"name": name, "relation": "母亲", "mobile": phone})).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        p
    }
}

impl LogParent {
    async fn put(&self, app: &TestAppLike, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self.c.put(format!("{}{path}", app.base)).header("X-CSRF-Token", &self.csrf).json(&body).send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    async fn post(&self, app: &TestAppLike, path: &str, body: Value) -> (StatusCode, Value) {
        let mut rb = self.c.post(format!("{}{path}", app.base)).header("X-CSRF-Token", &self.csrf);
        if !body.is_null() {
            rb = rb.json(&body);
        }
        let r = rb.send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
}
