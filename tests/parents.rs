//! Issue 4: parent registration through WeChat-linked mobile forms, over the
//! real server on both backends: WeChat OAuth against a loopback server that
//! speaks WeChat's documented JSON, the forms, uploads, submit, status, the
//! JSON API, and a headless-Chromium walk through at 375×667.

mod common;

use common::parents::{child, id_number, png};
use common::*;
use diesel::prelude::*;
use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use ruxue::db::schema;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const CAMPAIGN: &str = "2027-G1";
const APP_ID: &str = "wxtest0000000001";
const SECRET: &str = "test-wechat-secret";

// --- a loopback WeChat ---------------------------------------------------------

/// A small server answering `GET /sns/oauth2/access_token` the way WeChat
/// documents it. The code decides the answer: `ok-NAME` → openid `o-NAME`
/// (with a unionid), `used` → 40163, `invalid` → 40029, `busy` → -1,
/// `snapshot` → `is_snapshotuser: 1`, `slow` → answers after 8 s; a wrong
/// secret or app id → 40125 / 40013.
async fn spawn_wechat() -> String {
    use actix_web::{web, App, HttpResponse, HttpServer};
    async fn token(q: web::Query<std::collections::HashMap<String, String>>) -> HttpResponse {
        let get = |k: &str| q.get(k).cloned().unwrap_or_default();
        let err = |code: i64, msg: &str| HttpResponse::Ok().json(json!({"errcode": code, "errmsg": msg}));
        if get("appid") != APP_ID {
            return err(40013, "invalid appid");
        }
        if get("secret") != SECRET {
            return err(40125, "invalid appsecret");
        }
        if get("grant_type") != "authorization_code" {
            return err(40002, "invalid grant_type");
        }
        let code = get("code");
        match code.as_str() {
            "used" => err(40163, "code been used"),
            "invalid" => err(40029, "invalid code"),
            "busy" => err(-1, "system error"),
            "snapshot" => HttpResponse::Ok().json(json!({
                "access_token": "AT", "expires_in": 7200, "refresh_token": "RT",
                "openid": "o-virtual", "scope": "snsapi_base", "is_snapshotuser": 1
            })),
            "slow" => {
                tokio::time::sleep(Duration::from_secs(8)).await;
                HttpResponse::Ok().json(json!({"openid": "o-slow", "scope": "snsapi_base"}))
            }
            c if c.starts_with("ok-") => HttpResponse::Ok().json(json!({
                "access_token": "AT", "expires_in": 7200, "refresh_token": "RT",
                "openid": format!("o-{}", &c[3..]), "scope": "snsapi_base",
                "is_snapshotuser": 0, "unionid": format!("u-{}", &c[3..])
            })),
            _ => err(40029, "invalid code"),
        }
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server =
        HttpServer::new(|| App::new().route("/sns/oauth2/access_token", web::get().to(token))).workers(2).listen(listener).unwrap().run();
    tokio::spawn(server);
    format!("http://127.0.0.1:{port}")
}

/// The real server with the demo county, WeChat pointed at the loopback
/// server, and 2027-G1 open for registration from now.
async fn spawn(backend: Backend, extra: &[(&str, &str)]) -> (TestApp, String) {
    let wechat = spawn_wechat().await;
    let mut env: Vec<(&str, &str)> = vec![
        ("RUXUE__WECHAT__API_BASE", wechat.as_str()),
        ("RUXUE__WECHAT__AUTHORIZE_BASE", wechat.as_str()),
        ("RUXUE__WECHAT__APP_ID", APP_ID),
        ("RUXUE__WECHAT__APP_SECRET", SECRET),
    ];
    env.extend_from_slice(extra);
    let app = spawn_app_with(backend, true, &env).await;
    let (db, settings) = (app.state.db.clone(), app.state.settings.clone());
    tokio::task::spawn_blocking(move || ruxue::service::campaign::open_registration(&db, &settings, CAMPAIGN, 14, true, "test"))
        .await
        .unwrap()
        .expect("campaign opens");
    (app, wechat)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1.split('#').next()?;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The browser's side of the OAuth dance: start, "WeChat" redirects back with `code`.
async fn wechat_login(app: &TestApp, c: &reqwest::Client, code: &str) -> reqwest::Response {
    let r = c.get(app.url("/parent/login")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let state = query_param(&location(&r), "state").expect("state in the authorise URL");
    c.get(app.url("/parent/wechat/callback")).query(&[("code", code), ("state", state.as_str())]).send().await.unwrap()
}

async fn logged_in(app: &TestApp, c: &reqwest::Client) -> Option<Value> {
    let r = c.get(app.url("/api/v1/registration/session")).send().await.unwrap();
    if r.status() == StatusCode::OK {
        Some(r.json().await.unwrap())
    } else {
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        None
    }
}

/// minijinja escapes `/` as `&#x2f;`; browsers read both the same.
fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
}

fn csrf_of(html: &str) -> String {
    let i = html.find("name=\"_csrf\" value=\"").expect("csrf field");
    let rest = &html[i + 20..];
    rest[..rest.find('"').unwrap()].to_string()
}

fn hidden(html: &str, name: &str) -> String {
    let pat = format!("name=\"{name}\" value=\"");
    let i = html.find(&pat).expect(name);
    let rest = &html[i + pat.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

// --- files and numbers -----------------------------------------------------------

fn jpeg_with_gps() -> Vec<u8> {
    common::parent::real_jpeg_with_gps()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

// --- API helpers -------------------------------------------------------------------

/// A guardian logged in through the (loopback) WeChat, profile filled in, with the API token.
struct Parent {
    c: reqwest::Client,
    csrf: String,
    token: String,
}

async fn parent(app: &TestApp, name: &str) -> Parent {
    let c = client();
    let r = wechat_login(app, &c, &format!("ok-{name}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let s = logged_in(app, &c).await.expect("logged in");
    let p = Parent { c, csrf: s["csrf_token"].as_str().unwrap().into(), token: s["token"].as_str().unwrap().into() };
    let r =
        p.c.put(app.url("/api/v1/registration/guardian"))
            .header("X-CSRF-Token", &p.csrf)
            .json(&json!({"name": "林美玲", "relation": "母亲", "mobile": "13805951234"}))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    p
}

impl Parent {
    async fn post(&self, app: &TestApp, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut rb = self.c.post(app.url(path)).header("X-CSRF-Token", &self.csrf);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    async fn put(&self, app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self.c.put(app.url(path)).header("X-CSRF-Token", &self.csrf).json(&body).send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    async fn get(&self, app: &TestApp, path: &str) -> (StatusCode, Value) {
        let r = self.c.get(app.url(path)).send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    async fn new_draft(&self, app: &TestApp) -> String {
        let (s, b) = self.post(app, &format!("/api/v1/registration/campaigns/{CAMPAIGN}/drafts"), None).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["draft_id"].as_str().unwrap().to_string()
    }
    async fn upload(&self, app: &TestApp, draft: &str, kind: &str, name: &str, mime: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let form = reqwest::multipart::Form::new()
            .text("kind", kind.to_string())
            .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()).mime_str(mime).unwrap());
        let r = self
            .c
            .post(app.url(&format!("/api/v1/registration/drafts/{draft}/documents")))
            .header("X-CSRF-Token", &self.csrf)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
}

/// A duplicate-ID refusal to another family: the number is registered, call
/// the bureau (`[bureau] phone` of config/default.toml); nothing of the
/// other registration.
fn assert_private_refusal(m: &str, other_no: &str, other_names: &[&str]) {
    assert!(m.contains("已在本批次报名") && m.contains("0595-23222222") && m.contains("教育局"), "{m}");
    assert!(!m.contains(other_no) && !m.contains("报名号"), "{m}");
    for n in other_names {
        assert!(!m.contains(n), "{m}");
    }
}

async fn count(app: &TestApp, what: &'static str) -> i64 {
    let db = app.state.db.clone();
    db.run(move |c| {
        Ok(match what {
            "children" => schema::children::table.count().get_result(c)?,
            "applications" => schema::applications::table.count().get_result(c)?,
            "documents" => schema::documents::table.count().get_result(c)?,
            _ => unreachable!(),
        })
    })
    .await
    .unwrap()
}

// --- tests -------------------------------------------------------------------------

backend_test! {
    #[tokio::test]
    async fn wechat_oauth_redirect_state_exchange_and_refusals(backend) {
        let (app, wechat) = spawn(backend, &[]).await;
        let c = client();

        // The redirect: WeChat's authorise URL with snsapi_base and a state bound to a cookie.
        let r = c.get(app.url("/parent/login")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FOUND);
        let cookies: Vec<String> = r.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect();
        assert!(cookies.iter().any(|c| c.starts_with("ruxue_oauth_state=") && c.contains("HttpOnly")), "{cookies:?}");
        let loc = location(&r);
        assert!(loc.starts_with(&format!("{wechat}/connect/oauth2/authorize?appid={APP_ID}&redirect_uri=")), "{loc}");
        assert!(loc.ends_with("#wechat_redirect") && loc.contains("&response_type=code&scope=snsapi_base&state="), "{loc}");
        let redirect = pct_decode(&query_param(&loc, "redirect_uri").unwrap());
        assert_eq!(redirect, format!("{}/parent/wechat/callback", app.state.settings.server.base_url));
        let state = query_param(&loc, "state").unwrap();
        assert!(state.len() >= 32);

        // A state that is not this browser's: refused, nothing logged in.
        let r = c.get(app.url("/parent/wechat/callback")).query(&[("code", "ok-x"), ("state", "forged")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let html = unescape(&r.text().await.unwrap());
        assert!(html.contains("重新登录") && html.contains("href=\"/parent/login\""), "{html}");
        assert!(logged_in(&app, &c).await.is_none());
        // The right state from another browser (no state cookie): refused too.
        let other = client();
        let r = other.get(app.url("/parent/wechat/callback")).query(&[("code", "ok-x"), ("state", state.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);

        // Every errcode and the snapshot user: a clear Chinese page with a retry link.
        for (code, expect) in [
            ("invalid", "凭证无效"),
            ("used", "已被使用"),
            ("busy", "繁忙"),
            ("snapshot", "快照"),
        ] {
            let c = client();
            let r = wechat_login(&app, &c, code).await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{code}");
            let html = unescape(&r.text().await.unwrap());
            assert!(html.contains(expect) && html.contains("未能登录") && html.contains("/parent/login"), "{code}: {html}");
            assert!(logged_in(&app, &c).await.is_none(), "{code}");
        }

        // A wrong secret (bureau misconfiguration) is also "not logged in".
        {
            let (bad, _) = spawn(backend, &[("RUXUE__WECHAT__APP_SECRET", "wrong")]).await;
            let c = client();
            let r = wechat_login(&bad, &c, "ok-a").await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
            assert!(r.text().await.unwrap().contains("配置有误"));
            assert!(logged_in(&bad, &c).await.is_none());
        }

        // WeChat too slow: given up after 5 s, same clear page.
        let c2 = client();
        let t = Instant::now();
        let r = wechat_login(&app, &c2, "slow").await;
        assert_eq!(r.status(), StatusCode::GATEWAY_TIMEOUT);
        assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
        assert!(r.text().await.unwrap().contains("超时"));
        assert!(logged_in(&app, &c2).await.is_none());

        // Success: a session cookie (HttpOnly, SameSite=Lax), the guardians row upserted by openid.
        let r = wechat_login(&app, &c, "ok-alice").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/parent");
        let cookies: Vec<String> = r.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect();
        let session = cookies.iter().find(|c| c.starts_with("ruxue_session=")).expect("session cookie");
        assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax") && !session.contains("Secure"), "{session}");
        let me = logged_in(&app, &c).await.expect("logged in");
        let gid = me["guardian"]["id"].as_str().unwrap().to_string();
        let g = gid.clone();
        let (openid, unionid): (String, Option<String>) = app
            .state
            .db
            .run(move |c| Ok(schema::guardians::table.filter(schema::guardians::id.eq(&g)).select((schema::guardians::openid, schema::guardians::unionid)).first(c)?))
            .await
            .unwrap();
        assert_eq!((openid.as_str(), unionid.as_deref()), ("o-alice", Some("u-alice")));
        // Logging in again is the same guardian (upsert, not a second row).
        let c3 = client();
        assert_eq!(wechat_login(&app, &c3, "ok-alice").await.status(), StatusCode::SEE_OTHER);
        assert_eq!(logged_in(&app, &c3).await.unwrap()["guardian"]["id"], gid.as_str());

        // The spent state cannot be replayed (its cookie was cleared).
        let r = c.get(app.url("/parent/wechat/callback")).query(&[("code", "ok-mallory"), ("state", state.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);

        // Tampered, expired or foreign tokens are not sessions.
        let key = b"dev-jwt-key-change-me-0123456789abcdef";
        let now = chrono::Utc::now().timestamp();
        let expired = ruxue::registration::session::issue(key, &gid, &"c".repeat(32), now - 7200, 30);
        let foreign = ruxue::registration::session::issue(b"another-key", &gid, &"c".repeat(32), now, 30);
        let valid = ruxue::registration::session::issue(key, &gid, &"c".repeat(32), now, 30);
        for (t, ok) in [(expired, false), (foreign, false), (valid, true)] {
            let r = client().get(app.url("/api/v1/registration/guardian")).bearer_auth(t).send().await.unwrap();
            assert_eq!(r.status() == StatusCode::OK, ok);
        }
        // A page without a session sends the parent to log in.
        let r = client().get(app.url("/parent/profile")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/parent?login=1");
    }
}

backend_test! {
    #[tokio::test]
    async fn whole_parent_flow_over_http_forms(backend) {
        let (app, _) = spawn(backend, &[]).await;
        let c = client();
        assert_eq!(wechat_login(&app, &c, "ok-lin").await.status(), StatusCode::SEE_OTHER);
        let apps0 = count(&app, "applications").await;

        // Home lists the open campaign; the notice has dates, the policy, and the fairness note.
        let home = c.get(app.url("/parent")).send().await.unwrap().text().await.unwrap();
        assert!(home.contains(&format!("/parent/campaigns/{CAMPAIGN}")));
        let notice = c.get(app.url(&format!("/parent/campaigns/{CAMPAIGN}"))).send().await.unwrap().text().await.unwrap();
        for s in ["报名时间", "电脑派位", "第一顺位：房户一致", "报名先后不影响录取结果", "年满 6 周岁"] {
            assert!(notice.contains(s), "{s}");
        }
        let csrf = csrf_of(&notice);

        // Start without a profile → the guardian form first.
        let r = c.post(app.url(&format!("/parent/campaigns/{CAMPAIGN}/start"))).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), format!("/parent/profile?next=/parent/campaigns/{CAMPAIGN}"));
        // A post without the CSRF token is refused and changes nothing.
        let r = c.post(app.url("/parent/profile")).form(&[("name", "林美玲"), ("relation", "母亲"), ("mobile", "13805951234")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // Field-level messages.
        let r = c
            .post(app.url("/parent/profile"))
            .form(&[("_csrf", csrf.as_str()), ("name", "<b>林</b>"), ("relation", ""), ("mobile", "12345")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        for f in ["name-err", "relation-err", "mobile-err"] {
            assert!(html.contains(f), "{f}");
        }
        assert!(unescape(&html).contains("value=\"&lt;b&gt;林&lt;/b&gt;\""), "escaped echo");
        let r = c
            .post(app.url(&format!("/parent/profile?next=/parent/campaigns/{CAMPAIGN}")))
            .form(&[("_csrf", csrf.as_str()), ("name", "林美玲"), ("relation", "母亲"), ("mobile", "138 0595 1234")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = c.post(app.url(&format!("/parent/campaigns/{CAMPAIGN}/start"))).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
        let child_url = location(&r);
        assert!(child_url.starts_with("/parent/drafts/") && child_url.ends_with("/child"), "{child_url}");
        let draft = child_url.trim_start_matches("/parent/drafts/").trim_end_matches("/child").to_string();

        // The child form: structured addresses, property, special situations.
        let form_html = c.get(app.url(&child_url)).send().await.unwrap().text().await.unwrap();
        assert!(form_html.contains("name=\"hukou_township\"") && form_html.contains("<option value=\"凤城镇\""));
        let id = id_number("110101", "20210315", "123");
        let fields: Vec<(&str, &str)> = vec![
            ("_csrf", &csrf),
            ("child_name", "林𠈌"),
            ("id_number", &id),
            ("hukou_type", "local"),
            ("hukou_township", "凤城镇"),
            ("hukou_community", "东岳社区"),
            ("hukou_road", "二环路"),
            ("hukou_number", "１２３号"),
            ("has_property", "1"),
            ("prop_cert_no", "闽(2026)安溪县不动产权第0000123号"),
            ("prop_owner_name", "林大山"),
            ("prop_owner_relation", "father"),
            ("prop_acquired_on", "2020-06-18"),
            ("prop_township", "凤城镇"),
            ("prop_community", "东岳社区"),
            ("prop_road", "二环路"),
            ("prop_number", "123"),
            ("left_behind", "1"),
            ("sibling_school", "P01"),
        ];
        let r = c.post(app.url(&child_url)).form(&fields).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let docs_url = location(&r);
        assert_eq!(docs_url, format!("/parent/drafts/{draft}/documents"));

        // Uploads: multipart from the page; EXIF and PNG text are stripped; stored by content hash.
        let docs_html = c.get(app.url(&docs_url)).send().await.unwrap().text().await.unwrap();
        assert!(docs_html.contains("enctype=\"multipart/form-data\"") && docs_html.contains("未上传"));
        for (kind, name, mime, bytes) in [
            ("hukou", "户口簿.jpg", "image/jpeg", jpeg_with_gps()),
            ("property_cert", "房产证.png", "image/png", png(100)),
        ] {
            let form = reqwest::multipart::Form::new()
                .text("_csrf", csrf.clone())
                .text("kind", kind)
                .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name).mime_str(mime).unwrap());
            let r = c.post(app.url(&docs_url)).multipart(form).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{kind}");
            assert_eq!(location(&r), format!("{docs_url}?ok=1"));
        }
        let dir = app.state.settings.uploads.dir.clone();
        let stored: Vec<std::path::PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(stored.len(), 2, "{stored:?}");
        for p in &stored {
            let bytes = std::fs::read(p).unwrap();
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
            assert!(name.starts_with(&hash), "{name} is named by its content hash");
            assert!(!contains(&bytes, b"GPS"), "{name}: metadata stripped");
        }

        // Review: birth date and sex derived from the ID number, the provisional school.
        let review = c.get(app.url(&format!("/parent/drafts/{draft}/review"))).send().await.unwrap().text().await.unwrap();
        for s in ["2021年03月15日", "男", "林𠈌", "安溪县实验小学", "以审核结果为准", "房户一致", "报名先后不影响录取结果", "留守儿童"] {
            assert!(review.contains(s), "review shows {s}");
        }
        let key = hidden(&review, "idempotency_key");

        // Submit twice with the same form token (a double tap): one application.
        let mut ids = Vec::new();
        for _ in 0..2 {
            let r = c
                .post(app.url(&format!("/parent/drafts/{draft}/submit")))
                .form(&[("_csrf", csrf.as_str()), ("idempotency_key", key.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER);
            ids.push(location(&r));
        }
        assert_eq!(ids[0], ids[1]);
        assert_eq!(count(&app, "applications").await, apps0 + 1, "one application");
        let status_url = ids[0].clone();
        let app_id = status_url.trim_start_matches("/parent/applications/").split('?').next().unwrap().to_string();

        // The status page: number, timeline, provisional placement.
        let status = c.get(app.url(&status_url)).send().await.unwrap().text().await.unwrap();
        for s in ["提交成功", "2027-G1-00421", "已提交", "资格审核", "电脑派位日", "录取结果与确认", "安溪县实验小学", "第一顺位（房户一致）", "以审核结果为准", "修改报名信息", "110101**********"] {
            assert!(status.contains(s), "status shows {s}");
        }
        assert!(!status.contains(&id), "the full ID number is not shown after submit");

        // Stored: ID encrypted with a keyed hash; facts as ApplicantFacts; documents; events; audit.
        let a = app_id.clone();
        let (enc, hash, masked, facts, school, docs, events): (String, String, String, String, Option<String>, Vec<String>, Vec<String>) = app
            .state
            .db
            .run(move |c| {
                let (child_id, facts, school): (String, String, Option<String>) = schema::applications::table
                    .filter(schema::applications::id.eq(&a))
                    .select((schema::applications::child_id, schema::applications::facts_json, schema::applications::catchment_school_id))
                    .first(c)?;
                let (enc, hash, masked): (String, String, String) = schema::children::table
                    .filter(schema::children::id.eq(&child_id))
                    .select((schema::children::id_number_enc, schema::children::id_number_hash, schema::children::id_number_masked))
                    .first(c)?;
                let docs = schema::documents::table.filter(schema::documents::application_id.eq(&a)).select(schema::documents::kind).order(schema::documents::kind.asc()).load(c)?;
                let events = schema::application_events::table.filter(schema::application_events::application_id.eq(&a)).select(schema::application_events::status).load(c)?;
                Ok((enc, hash, masked, facts, school, docs, events))
            })
            .await
            .unwrap();
        let cipher = ruxue::identity::crypto::IdCipher::new(&app.state.settings.id_key());
        assert!(!enc.contains(&id));
        assert_eq!(cipher.decrypt(&enc).unwrap(), id);
        assert_eq!(hash, cipher.lookup_hash(&id));
        assert_eq!(masked, ruxue::identity::crypto::mask_id(&id));
        let f: ruxue::policy::ApplicantFacts = serde_json::from_str(&facts).unwrap();
        assert_eq!(f.application_no, "2027-G1-00421");
        assert_eq!(f.hukou.as_ref().unwrap().number, Some(123));
        assert_eq!(f.property.as_ref().unwrap().owner_relation, ruxue::policy::OwnerRelation::Father);
        assert!(f.left_behind && f.sibling_school_id.as_deref() == Some("P01"));
        assert_eq!(school.as_deref(), Some("P01"));
        assert_eq!(docs, ["hukou", "property_cert"]);
        assert_eq!(events, ["submitted"]);
        let db = app.state.db.clone();
        let chain = tokio::task::spawn_blocking(move || {
            let mut conn = db.pool.get().unwrap();
            ruxue::db::audit::verify(&mut conn).unwrap()
        })
        .await
        .unwrap();
        assert!(chain.broken.is_none());

        // Edit while registration is open and review has not begun: same number, new version.
        let r = c.post(app.url(&format!("/parent/applications/{app_id}/edit"))).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let edit_url = location(&r);
        let edit_html = c.get(app.url(&edit_url)).send().await.unwrap().text().await.unwrap();
        assert!(edit_html.contains(&format!("value=\"{id}\"")), "the guardian's own form shows the full number");
        let mut fields2 = fields.clone();
        fields2.retain(|(k, _)| *k != "left_behind");
        let r = c.post(app.url(&edit_url)).form(&fields2).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let edraft = edit_url.trim_start_matches("/parent/drafts/").trim_end_matches("/child").to_string();
        let review = c.get(app.url(&format!("/parent/drafts/{edraft}/review"))).send().await.unwrap().text().await.unwrap();
        assert!(review.contains("修改报名 2027-G1-00421"));
        let r = c
            .post(app.url(&format!("/parent/drafts/{edraft}/submit")))
            .form(&[("_csrf", csrf.as_str()), ("idempotency_key", hidden(&review, "idempotency_key").as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&r), format!("/parent/applications/{app_id}?submitted=1"));
        assert_eq!(count(&app, "applications").await, apps0 + 1);
        let a = app_id.clone();
        let (version, facts): (i32, String) = app
            .state
            .db
            .run(move |c| Ok(schema::applications::table.filter(schema::applications::id.eq(&a)).select((schema::applications::version, schema::applications::facts_json)).first(c)?))
            .await
            .unwrap();
        assert_eq!(version, 2);
        assert!(!serde_json::from_str::<ruxue::policy::ApplicantFacts>(&facts).unwrap().left_behind);

        // Once review begins, no more edits.
        let a = app_id.clone();
        app.state
            .db
            .write(move |c| {
                diesel::update(schema::applications::table.filter(schema::applications::id.eq(&a)))
                    .set(schema::applications::status.eq("under_review"))
                    .execute(c)?;
                Ok(())
            })
            .await
            .unwrap();
        let status = c.get(app.url(&format!("/parent/applications/{app_id}"))).send().await.unwrap().text().await.unwrap();
        assert!(status.contains("审核中") && !status.contains("修改报名信息"));
        let r = c.post(app.url(&format!("/parent/applications/{app_id}/edit"))).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(r.text().await.unwrap().contains("已进入审核"));

        // Review, supplement, approval, the draw's offer and the answer, as staff and
        // the draw would record them: the timeline shows each with its details.
        let a = app_id.clone();
        app.state
            .db
            .write(move |c| {
                use ruxue::db::models::{ApplicationEvent, Offer};
                let t = ruxue::db::now();
                for (i, (st, note)) in [("under_review", ""), ("supplement", "请补充户口簿儿童页"), ("approved", "")].iter().enumerate() {
                    diesel::insert_into(schema::application_events::table)
                        .values(ApplicationEvent {
                            id: ruxue::db::new_id(),
                            application_id: a.clone(),
                            at: t + chrono::Duration::seconds(i as i64 + 1),
                            status: ruxue::domain::ApplicationStatus::parse(st).unwrap(),
                            actor: "reviewer".into(),
                            note: note.to_string(),
                        })
                        .execute(c)?;
                }
                diesel::update(schema::applications::table.filter(schema::applications::id.eq(&a)))
                    .set((schema::applications::status.eq("accepted"), schema::applications::category.eq(Some("A"))))
                    .execute(c)?;
                diesel::insert_into(schema::offers::table)
                    .values(Offer {
                        id: ruxue::db::new_id(),
                        application_id: a.clone(),
                        school_id: "P01".into(),
                        draw_id: None,
                        status: "accepted".into(),
                        deadline: t + chrono::Duration::days(30),
                        offered_at: t + chrono::Duration::days(20),
                        responded_at: Some(t + chrono::Duration::days(21)),
                        source: "admit_all".into(),
                        note: None,
                    })
                    .execute(c)?;
                Ok(())
            })
            .await
            .unwrap();
        let status = c.get(app.url(&format!("/parent/applications/{app_id}"))).send().await.unwrap().text().await.unwrap();
        let order = ["已提交", "审核中", "需补充材料", "请补充户口簿儿童页", "审核通过", "对口学校（片区）：安溪县实验小学；类别：第一顺位（房户一致）", "电脑派位日", "已确认入学"];
        let mut at = 0;
        for s in order {
            let i = status[at..].find(s).unwrap_or_else(|| panic!("timeline shows {s} in order"));
            at += i + s.len();
        }
        assert!(!status.contains("暂定对口学校"), "approved: no longer provisional");

        // Another guardian sees none of it.
        let other = client();
        assert_eq!(wechat_login(&app, &other, "ok-eve").await.status(), StatusCode::SEE_OTHER);
        assert_eq!(other.get(app.url(&status_url)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        assert_eq!(other.get(app.url(&format!("/parent/drafts/{draft}/review"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    }
}

backend_test! {
    #[tokio::test]
    async fn bad_input_is_refused_field_by_field_and_stores_nothing(backend) {
        let (app, _) = spawn(backend, &[("RUXUE__UPLOADS__MAX_BYTES", "65536")]).await;
        let p = parent(&app, "bad").await;
        let draft = p.new_draft(&app).await;
        let path = format!("/api/v1/registration/drafts/{draft}/child");
        let (children0, apps0) = (count(&app, "children").await, count(&app, "applications").await);
        let good = id_number("110101", "20210315", "123");
        let mut bad_checksum = good.clone();
        let last = bad_checksum.pop().unwrap();
        bad_checksum.push(if last == '0' { '1' } else { '0' });
        let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y%m%d").to_string();
        let cases: Vec<(&str, Value, &str, &str)> = vec![
            ("bad checksum", child("林小明", &bad_checksum), "id_number", "校验位"),
            ("no such date", child("林小明", &id_number("110101", "20210230", "123")), "id_number", "出生日期无效"),
            ("born in the future", child("林小明", &id_number("110101", &tomorrow, "123")), "id_number", "晚于今天"),
            ("too young", child("林小明", &id_number("110101", "20211101", "123")), "id_number", "未达到入学年龄"),
            ("too old", child("林小明", &id_number("110101", "20160101", "123")), "id_number", "超过入学年龄"),
            ("15 digits: converted, then too old", child("林小明", "110101900315123"), "id_number", "1990年03月15日"),
            ("15 digits: impossible date", child("林小明", "110101901315123"), "id_number", "无法转换"),
            ("missing name", child("", &good), "child_name", "请填写儿童姓名"),
            ("emoji in the name", child("林小明😀", &good), "child_name", "表情符号"),
            ("markup in the name", child("<script>alert(1)</script>", &good), "child_name", "只能包含"),
            ("SQL in the name", child("林'); DROP TABLE children;--", &good), "child_name", "只能包含"),
            ("missing township", { let mut c = child("林小明", &good); c["hukou_township"] = json!(""); c }, "hukou_township", "请选择"),
            ("unknown township", { let mut c = child("林小明", &good); c["hukou_township"] = json!("火星镇"); c }, "hukou_township", "不在可选范围"),
            ("house number", { let mut c = child("林小明", &good); c["hukou_number"] = json!("abc"); c }, "hukou_number", "门牌号"),
            ("property half filled", { let mut c = child("林小明", &good); c["has_property"] = json!(true); c }, "prop_cert_no", "不动产权证号"),
            ("residence start in the future", {
                let mut c = child("林小明", &good);
                c["hukou_type"] = json!("migrant");
                c["permit_no"] = json!("350524000123");
                c["residence_start"] = json!("2099-01-01");
                c["social_insurance_months"] = json!("12");
                c["res_township"] = json!("城厢镇");
                c["res_road"] = json!("城厢路");
                c["res_number"] = json!("5");
                c
            }, "residence_start", "不能晚于今天"),
            ("residence start malformed", {
                let mut c = child("林小明", &good);
                c["hukou_type"] = json!("migrant");
                c["permit_no"] = json!("350524000123");
                c["residence_start"] = json!("去年");
                c["social_insurance_months"] = json!("12");
                c
            }, "residence_start", "格式"),
            ("care category not in the policy", { let mut c = child("林小明", &good); c["care_category"] = json!("<b>VIP</b>"); c }, "care_category", "不在本批次方案"),
            ("hukou type", { let mut c = child("林小明", &good); c["hukou_type"] = json!("'; DROP TABLE x;--"); c }, "hukou_type", "不在可选范围"),
        ];
        for (what, body, field, msg) in &cases {
            let (s, b) = p.put(&app, &path, body.clone()).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {b}");
            let fields = b["fields"].as_array().unwrap();
            let hit = fields.iter().find(|f| f["field"] == *field).unwrap_or_else(|| panic!("{what}: {b}"));
            assert!(hit["message"].as_str().unwrap().contains(msg), "{what}: {b}");
        }
        // Nothing partial: the draft still has no child, no child or application rows appeared.
        let (_, d) = p.get(&app, &format!("/api/v1/registration/drafts/{draft}")).await;
        assert!(d["child"].is_null(), "{d}");
        assert_eq!(count(&app, "children").await, children0);
        assert_eq!(count(&app, "applications").await, apps0);
        // The HTML form says the same beside the field.
        let r = p
            .c
            .post(app.url(&format!("/parent/drafts/{draft}/child")))
            .form(&[("_csrf", p.csrf.as_str()), ("child_name", "林小明😀"), ("id_number", bad_checksum.as_str()), ("hukou_type", "local")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"child_name-err\"") && html.contains("表情符号") && html.contains("id=\"id_number-err\"") && html.contains("校验位"));

        // Rare characters are accepted and round-trip; HTML and SQL in free-text
        // fields are stored verbatim and rendered escaped.
        let script = "<script>alert('x')</script>";
        let sql = "1'; DROP TABLE applications; --";
        let img = "<img src=x onerror=alert(1)>";
        let mut body = child("龚䶮𠈌", &good);
        body["hukou_community"] = json!(script);
        body["hukou_compound"] = json!(sql);
        body["hukou_building"] = json!("3号楼\"><u>x");
        body["has_property"] = json!("1");
        body["prop_cert_no"] = json!(img);
        body["prop_owner_name"] = json!("龚䶮");
        body["prop_owner_relation"] = json!("mother");
        body["prop_acquired_on"] = json!("2019-05-20");
        body["prop_township"] = json!("凤城镇");
        body["prop_road"] = json!(sql);
        body["prop_number"] = json!("7");
        let (s, b) = p.put(&app, &path, body).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["birth_date"], "2021-03-15");
        assert_eq!(b["sex"], "男");
        let (_, d) = p.get(&app, &format!("/api/v1/registration/drafts/{draft}")).await;
        assert_eq!(d["child"]["child_name"], "龚䶮𠈌");
        assert_eq!(d["child"]["hukou_community"], script);
        assert_eq!(d["child"]["prop_cert_no"], img);
        let review = p.c.get(app.url(&format!("/parent/drafts/{draft}/review"))).send().await.unwrap().text().await.unwrap();
        assert!(review.contains("龚䶮𠈌"));
        assert!(!review.contains("<script>alert") && !review.contains("<img src=x") && !review.contains("\"><u>"), "escaped");
        assert!(review.contains("&lt;script&gt;") && review.contains("&lt;img src=x"));

        // Uploads: oversized (413 naming the field) and disguised (422): nothing stored.
        let (s, b) = p.upload(&app, &draft, "hukou", "big.png", "image/png", png(100 * 1024)).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{b}");
        assert_eq!(b["error"]["field"], "file");
        assert!(b["error"]["message"].as_str().unwrap().contains("64 KB"), "{b}");
        let (s, b) = p.upload(&app, &draft, "hukou", "photo.jpg", "image/jpeg", b"MZ\x90\0 this is an executable, not a photo".to_vec()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["error"]["field"], "file");
        assert!(b["error"]["message"].as_str().unwrap().contains("JPG、PNG 或 PDF"));
        let (s, b) = p.upload(&app, &draft, "passport", "a.png", "image/png", png(10)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(b["error"]["field"], "kind");
        let (_, d) = p.get(&app, &format!("/api/v1/registration/drafts/{draft}")).await;
        assert_eq!(d["documents"].as_array().unwrap().len(), 0);
        let dir = app.state.settings.uploads.dir.clone();
        assert_eq!(std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0), 0, "no file kept");
        // The page form answers an oversized file with the message on the page.
        let form = reqwest::multipart::Form::new()
            .text("_csrf", p.csrf.clone())
            .text("kind", "hukou")
            .part("file", reqwest::multipart::Part::bytes(png(100 * 1024)).file_name("big.png").mime_str("image/png").unwrap());
        let r = p.c.post(app.url(&format!("/parent/drafts/{draft}/documents"))).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(r.text().await.unwrap().contains("超过 64 KB"));

        // Submitting without the required documents is refused, naming the kind.
        let (s, b) = p.post(&app, &format!("/api/v1/registration/drafts/{draft}/submit"), None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["error"]["field"], "hukou");
        assert_eq!(count(&app, "applications").await, apps0);

        // Submit for real; the stored facts keep the text verbatim; the status page escapes it.
        assert_eq!(p.upload(&app, &draft, "hukou", "h.png", "image/png", png(1)).await.0, StatusCode::CREATED);
        assert_eq!(p.upload(&app, &draft, "property_cert", "p.png", "image/png", png(2)).await.0, StatusCode::CREATED);
        let (s, b) = p.post(&app, &format!("/api/v1/registration/drafts/{draft}/submit"), None).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let app_id = b["application_id"].as_str().unwrap().to_string();
        let no = b["registration_no"].as_str().unwrap().to_string();
        let a = app_id.clone();
        let (facts, name): (String, String) = app
            .state
            .db
            .run(move |c| {
                Ok(schema::applications::table
                    .inner_join(schema::children::table.on(schema::children::id.eq(schema::applications::child_id)))
                    .filter(schema::applications::id.eq(&a))
                    .select((schema::applications::facts_json, schema::children::name))
                    .first(c)?)
            })
            .await
            .unwrap();
        assert_eq!(name, "龚䶮𠈌");
        let f: ruxue::registration::forms::StoredFacts = serde_json::from_str(&facts).unwrap();
        assert_eq!(f.facts.hukou.as_ref().unwrap().community.as_deref(), Some(script));
        assert_eq!(f.facts.hukou.as_ref().unwrap().compound.as_deref(), Some(sql));
        assert_eq!(f.facts.property.as_ref().unwrap().certificate_no, img);
        assert_eq!(f.declared.property_owner_name.as_deref(), Some("龚䶮"));
        let status = p.c.get(app.url(&format!("/parent/applications/{app_id}"))).send().await.unwrap().text().await.unwrap();
        assert!(status.contains("龚䶮𠈌"));
        assert_eq!(count(&app, "applications").await, apps0 + 1, "the SQL text did nothing");

        // The same child again (another draft of another guardian): refused,
        // saying only that the number is registered and whom to call — not the
        // other family's registration number or the child's name (issue 10,
        // item 9); nothing stored.
        let q = parent(&app, "second").await;
        let d2 = q.new_draft(&app).await;
        let (s, b) = q.put(&app, &format!("/api/v1/registration/drafts/{d2}/child"), child("龚䶮𠈌", &good)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["error"]["field"], "id_number");
        let m = b["error"]["message"].as_str().unwrap();
        assert_private_refusal(m, &no, &["龚䶮𠈌", "龚*𠈌"]);
        // The page says the same at the field.
        let form = [("_csrf", q.csrf.as_str()), ("child_name", "龚䶮𠈌"), ("id_number", good.as_str()), ("hukou_type", "local"),
            ("hukou_township", "凤城镇"), ("hukou_road", "二环路"), ("hukou_number", "123")];
        let r = q.c.post(app.url(&format!("/parent/drafts/{d2}/child"))).form(&form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(html.contains("0595-23222222") && !html.contains(&no) && !html.contains("龚*𠈌"), "{html}");
        assert_eq!(count(&app, "children").await, children0 + 1);
        // The guardian who registered the child is told their own number.
        let d3 = p.new_draft(&app).await;
        let (s, b) = p.put(&app, &format!("/api/v1/registration/drafts/{d3}/child"), child("龚䶮𠈌", &good)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(b["error"]["message"].as_str().unwrap().contains(&no), "{b}");

        // Two guardians each declare the same new child in a draft: the first submit
        // wins, the second is answered with the first's number; nothing partial.
        let (a, b2) = (parent(&app, "a-twin-claim").await, parent(&app, "b-twin-claim").await);
        let other_child = id_number("110101", "20210420", "246");
        let mut drafts = Vec::new();
        for p in [&a, &b2] {
            let d = p.new_draft(&app).await;
            assert_eq!(p.put(&app, &format!("/api/v1/registration/drafts/{d}/child"), child("周小雨", &other_child)).await.0, StatusCode::OK);
            assert_eq!(p.upload(&app, &d, "hukou", "h.png", "image/png", png(3)).await.0, StatusCode::CREATED);
            drafts.push(d);
        }
        let (s, first) = a.post(&app, &format!("/api/v1/registration/drafts/{}/submit", drafts[0]), None).await;
        assert_eq!(s, StatusCode::CREATED);
        let (children1, apps1) = (count(&app, "children").await, count(&app, "applications").await);
        let (s, b) = b2.post(&app, &format!("/api/v1/registration/drafts/{}/submit", drafts[1]), None).await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}");
        assert_eq!(b["error"]["code"], "duplicate_child");
        assert_eq!(b["error"]["field"], "id_number");
        let m = b["error"]["message"].as_str().unwrap();
        assert_private_refusal(m, first["registration_no"].as_str().unwrap(), &["周小雨", "周*雨"]);
        assert_eq!((count(&app, "children").await, count(&app, "applications").await), (children1, apps1));
        let (_, d) = b2.get(&app, &format!("/api/v1/registration/drafts/{}", drafts[1])).await;
        assert_eq!(d["status"], "open", "the refused draft stays open to correct");

        // The guardian form refuses markup and emoji too.
        let (s, b) = q.put(&app, "/api/v1/registration/guardian", json!({"name": "<i>x</i>", "relation": "父亲", "mobile": "13805951234"})).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("name")));
        let (s, b) = q.put(&app, "/api/v1/registration/guardian", json!({"name": "王五", "relation": "舅舅", "mobile": "1380595"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(b["fields"].as_array().unwrap().len(), 2);
    }
}

backend_test! {
    /// Issue 10, item 2: a 随迁子女 registered online gets the migrant
    /// category, which needs the permit's issue date the form now asks for.
    #[tokio::test]
    async fn a_migrant_child_registered_online_gets_the_migrant_category(backend) {
        let (app, _) = spawn(backend, &[]).await;
        let p = parent(&app, "migrant").await;
        let draft = p.new_draft(&app).await;
        let path = format!("/api/v1/registration/drafts/{draft}/child");
        let mut body = json!({
            "child_name": "陈小雨",
            "id_number": id_number("110101", "20210315", "123"),
            "hukou_type": "migrant",
            "permit_no": "350524000000123",
            "residence_start": "2024-03-01",
            "social_insurance_months": "24",
            "res_township": "凤城镇",
            "res_community": "东岳社区",
            "res_road": "二环路",
            "res_number": "123",
        });
        // Without the issue date the form says which field is missing.
        let (s, b) = p.put(&app, &path, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["error"]["field"], "permit_issued_on", "{b}");
        assert!(b["error"]["message"].as_str().unwrap().contains("居住证签发日期"), "{b}");
        body["permit_issued_on"] = json!("2024-02-01");
        let (s, b) = p.put(&app, &path, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(b["error"]["message"].as_str().unwrap().contains("不能早于居住起始日期"), "{b}");

        body["permit_issued_on"] = json!("2024-09-10");
        let (s, b) = p.put(&app, &path, body).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, review) = p.get(&app, &format!("/api/v1/registration/drafts/{draft}/review")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(review["provisional"]["school_code"], "P01", "{review}");
        assert_eq!(review["provisional"]["category_code"], "D", "{review}");
        assert!(review["provisional"]["explanation"].as_str().unwrap().contains("随迁子女"), "{review}");
        assert!(review["migrant"].as_str().unwrap().contains("签发日期 2024年09月10日"), "{review}");
        // The stored draft gives the dates back for editing.
        let (_, d) = p.get(&app, &format!("/api/v1/registration/drafts/{draft}")).await;
        assert_eq!(d["child"]["permit_issued_on"], "2024-09-10", "{d}");

        // One migrant child per tier a migrant can reach under the demo policy
        // (hukou elsewhere rules out A and B), submitted, with the key the
        // reviewer's view computes: C 房产在片区, D 随迁子女 (longer residence
        // first: -months to the 2027-08-31 cut-off), E 其他 (too short a residence).
        let base = |name: &str, birth: &str, seq: &str, start: &str, issued: &str| {
            json!({
                "child_name": name, "id_number": id_number("110101", birth, seq), "hukou_type": "migrant",
                "permit_no": "350524000000123", "residence_start": start, "permit_issued_on": issued,
                "social_insurance_months": "24",
                "res_township": "凤城镇", "res_community": "东岳社区", "res_road": "二环路", "res_number": "123",
            })
        };
        let mut with_property = base("陈三", "20201120", "246", "2024-03-01", "2024-09-10");
        for (k, v) in [
            ("has_property", "1"), ("prop_cert_no", "闽(2023)安溪县不动产权第0000888号"), ("prop_owner_name", "陈大海"),
            ("prop_owner_relation", "father"), ("prop_acquired_on", "2023-04-01"), ("prop_township", "凤城镇"),
            ("prop_community", "东岳社区"), ("prop_road", "二环路"), ("prop_number", "123"),
        ] {
            with_property[k] = json!(v);
        }
        let tiers = [
            ("C", with_property, "[3,"),
            ("D", base("陈四", "20200905", "369", "2024-03-01", "2024-09-10"), "[4,"),
            ("E", base("陈五", "20210601", "482", "2026-10-01", "2026-11-01"), "[5,"),
        ];
        let rev = staff_token(&app, "reviewer-fc", "ruxue-demo-reviewer").await;
        for (i, (tier, body, key_head)) in tiers.into_iter().enumerate() {
            let migrant = body["has_property"].is_null();
            let draft = p.new_draft(&app).await;
            let (s, b) = p.put(&app, &format!("/api/v1/registration/drafts/{draft}/child"), body).await;
            assert_eq!(s, StatusCode::OK, "{tier}: {b}");
            let mut kinds = vec!["hukou", "residence_permit"];
            if !migrant {
                kinds.push("property_cert");
            }
            for (j, kind) in kinds.iter().enumerate() {
                let (s, b) = p.upload(&app, &draft, kind, "x.png", "image/png", png(100 + i * 10 + j)).await;
                assert_eq!(s, StatusCode::CREATED, "{tier}: {b}");
            }
            let (_, review) = p.get(&app, &format!("/api/v1/registration/drafts/{draft}/review")).await;
            assert_eq!(review["provisional"]["category_code"], tier, "{review}");
            let (s, b) = p.post(&app, &format!("/api/v1/registration/drafts/{draft}/submit"), None).await;
            assert_eq!(s, StatusCode::CREATED, "{tier}: {b}");
            let id = b["application_id"].as_str().unwrap().to_string();
            let (s, d) = staff_call(&app, &rev, reqwest::Method::GET, &format!("/api/v1/staff/review/applications/{id}"), None).await;
            assert_eq!(s, StatusCode::OK, "{tier}: the 凤城镇 reviewer sees a migrant child living in 凤城镇: {d}");
            assert_eq!(d["computed"]["category"], tier, "{d}");
            let key = d["computed"]["priority_json"].as_str().unwrap();
            assert!(key.starts_with(key_head), "{tier}: {key}");
            if tier == "D" {
                // 2024-03-01 to 2027-08-31: 41 full months, sorted first when longer.
                assert!(key.ends_with(",-41]"), "{key}");
                assert!(d["computed"]["explanation"].as_str().unwrap().contains("居住满 41 个月"), "{d}");
            }
        }
    }
}

backend_test! {
    /// Issue 10, item 3: the same address gives the same school through the
    /// public lookup, the parent form (the draft review's provisional
    /// school) and the staff view of the submitted application (computed
    /// and placed school). The table is `tests/common/addresses.rs`; a
    /// disagreement names the row and the path.
    #[tokio::test]
    async fn lookup_form_and_staff_view_agree_on_every_address(backend) {
        let (app, _) = spawn(backend, &[]).await;
        let p = parent(&app, "addresses").await;
        let admin = staff_token(&app, "admin", "ruxue-demo-admin").await;
        let mut wrong = Vec::new();
        for (i, row) in common::addresses::ADDRESS_TABLE.iter().enumerate() {
            let text = row.text;
            // 1. The public lookup.
            let r = app.client.get(app.url("/api/v1/catchment/lookup")).query(&[("address", text), ("grade", "1")]).send().await.unwrap();
            let b: Value = r.json().await.unwrap();
            if b["target_code"] != row.school || b["rule_id"] != row.rule {
                wrong.push(format!("{text} [lookup]: expected {}/{}, got {}/{}", row.school, row.rule, b["target_code"], b["rule_id"]));
            }
            // 2. The parent form: the structured parts as the hukou address.
            let draft = p.new_draft(&app).await;
            let mut body = json!({
                "child_name": "林小雨",
                "id_number": id_number("110101", "20210315", &format!("{:03}", 300 + i)),
                "hukou_type": "local",
            });
            for (k, v) in row.form_fields("hukou") {
                body[k] = json!(v);
            }
            let (s, b) = p.put(&app, &format!("/api/v1/registration/drafts/{draft}/child"), body).await;
            assert_eq!(s, StatusCode::OK, "{text}: {b}");
            let (s, review) = p.get(&app, &format!("/api/v1/registration/drafts/{draft}/review")).await;
            assert_eq!(s, StatusCode::OK, "{text}: {review}");
            if review["provisional"]["school_code"] != row.school {
                wrong.push(format!("{text} [form]: expected {}, got {} ({})", row.school, review["provisional"]["school_code"], review["provisional"]));
            }
            // 3. The staff view of the submitted application.
            let (s, b) = p.upload(&app, &draft, "hukou", "h.png", "image/png", png(i + 1)).await;
            assert_eq!(s, StatusCode::CREATED, "{text}: {b}");
            let (s, b) = p.post(&app, &format!("/api/v1/registration/drafts/{draft}/submit"), None).await;
            assert!(s.is_success(), "{text}: {s} {b}");
            let id = b["application_id"].as_str().unwrap().to_string();
            let r = client().get(app.url(&format!("/api/v1/staff/review/applications/{id}"))).bearer_auth(&admin).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{text}");
            let d: Value = r.json().await.unwrap();
            if d["computed"]["school_id"] != row.school || d["current_school_id"] != row.school {
                wrong.push(format!(
                    "{text} [staff]: expected {}, computed {}, placed {}",
                    row.school, d["computed"]["school_id"], d["current_school_id"]
                ));
            }
            // … and the staff page a reviewer reads names that school in both rows.
            let page = client()
                .get(app.url(&format!("/staff/review/{id}")))
                .header("Cookie", format!("ruxue_staff_at={admin}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let name = d["current_target"].as_str().unwrap_or_default();
            let placed = format!("<tr><th>当前对口</th><td>{name}");
            let computed = format!("<tr><th>系统计算</th><td>{}", d["computed_target"].as_str().unwrap_or_default());
            if name.is_empty() || !page.contains(&placed) || !page.contains(&computed) {
                wrong.push(format!("{text} [staff page]: expected {name} in both rows"));
            }
        }
        assert!(wrong.is_empty(), "{backend:?}:\n{}", wrong.join("\n"));
    }
}

backend_test! {
    /// Issue 10, item 9: a first-grade notice speaks of first grade only —
    /// no 七年级 片区 (建安片区/德苑片区) in its policy summary or draws, on
    /// the page or in the API; the seventh-grade notice keeps them.
    #[tokio::test]
    async fn first_grade_notice_has_no_seventh_grade_zones(backend) {
        let (app, _) = spawn(backend, &[]).await;
        let zone_text = ["建安片区", "德苑片区", "七年级"];
        let g1 = client().get(app.url(&format!("/parent/campaigns/{CAMPAIGN}"))).send().await.unwrap().text().await.unwrap();
        assert!(g1.contains("录取顺位") && g1.contains("一年级"), "{g1}");
        assert!(g1.contains("龙湖小学生源超额"), "a first-grade draw stays: {g1}");
        for z in zone_text {
            assert!(!g1.contains(z), "{z} on the first-grade notice: {g1}");
        }
        let p = parent(&app, "notice").await;
        let (_, list) = p.get(&app, "/api/v1/registration/campaigns").await;
        let g1_json = list["campaigns"].as_array().unwrap().iter().find(|c| c["id"] == CAMPAIGN).unwrap().to_string();
        for z in zone_text {
            assert!(!g1_json.contains(z), "{z} in the API notice: {g1_json}");
        }
        let g7 = client().get(app.url("/parent/campaigns/2027-G7")).send().await.unwrap().text().await.unwrap();
        assert!(g7.contains("建安片区") && g7.contains("德苑片区"), "{g7}");
        assert!(!g7.contains("龙湖小学生源超额"), "{g7}");
    }
}

/// An upload refusal in Chinese only: no English beyond the names of file
/// formats and size units.
fn assert_chinese_only(m: &str) {
    assert!(!m.is_empty() && !m.is_ascii(), "{m:?}");
    let words: Vec<&str> = m.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| !w.is_empty()).collect();
    for w in &words {
        assert!(["KB", "MB", "JPG", "PNG", "PDF"].contains(w), "English {w:?} in {m:?}");
    }
}

/// Where `needle` is in `html` (panics naming it when absent).
fn at(html: &str, needle: &str) -> usize {
    html.find(needle).unwrap_or_else(|| panic!("{needle:?} not in {html}"))
}

backend_test! {
    /// Issue 10, item 9: upload refusals are in Chinese only; the API names
    /// the field, the page shows the message at that field (after the file
    /// input, or the kind select), marked invalid.
    #[tokio::test]
    async fn upload_errors_are_chinese_and_at_their_field(backend) {
        let (app, _) = spawn(backend, &[("RUXUE__UPLOADS__MAX_BYTES", "65536")]).await;
        let p = parent(&app, "uploads").await;
        let draft = p.new_draft(&app).await;
        let (s, b) = p.put(&app, &format!("/api/v1/registration/drafts/{draft}/child"), child("林小雨", &id_number("110101", "20210315", "123"))).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        for (kind, bytes, status, field) in [
            ("hukou", png(100 * 1024), StatusCode::PAYLOAD_TOO_LARGE, "file"),
            ("hukou", b"MZ\x90\0 an executable".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "file"),
            ("hukou", b"\x89PNG\r\n\x1a\n broken".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "file"),
            ("hukou", Vec::new(), StatusCode::UNPROCESSABLE_ENTITY, "file"),
            ("passport", png(1), StatusCode::UNPROCESSABLE_ENTITY, "kind"),
        ] {
            let (s, b) = p.upload(&app, &draft, kind, "x.png", "image/png", bytes.clone()).await;
            assert_eq!(s, status, "{b}");
            assert_eq!(b["error"]["field"], field, "{b}");
            assert_chinese_only(b["error"]["message"].as_str().unwrap());
            // The page: the same message, at the field.
            let form = reqwest::multipart::Form::new()
                .text("_csrf", p.csrf.clone())
                .text("kind", kind)
                .part("file", reqwest::multipart::Part::bytes(bytes).file_name("x.png").mime_str("image/png").unwrap());
            let r = p.c.post(app.url(&format!("/parent/drafts/{draft}/documents"))).multipart(form).send().await.unwrap();
            assert_eq!(r.status(), status);
            let html = r.text().await.unwrap();
            let msg = at(&html, "id=\"upload-err\"");
            assert!(html[msg..].contains(b["error"]["message"].as_str().unwrap()), "{html}");
            assert_eq!(html.matches("id=\"upload-err\"").count(), 1);
            let (field_at, next) = if field == "kind" { (at(&html, "id=\"kind\""), at(&html, "for=\"file\"")) } else { (at(&html, "id=\"file\""), at(&html, ">上传</button>")) };
            assert!(field_at < msg && msg < next, "the message is not at the {field} field: {html}");
            assert!(html[field_at..msg].contains("aria-invalid=\"true\""), "{html}");
        }
        // A body without a file: named, in Chinese.
        let r = p
            .c
            .post(app.url(&format!("/api/v1/registration/drafts/{draft}/documents")))
            .header("X-CSRF-Token", &p.csrf)
            .multipart(reqwest::multipart::Form::new().text("kind", "hukou"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["error"]["field"], "file");
        assert_chinese_only(b["error"]["message"].as_str().unwrap());
        let (_, d) = p.get(&app, &format!("/api/v1/registration/drafts/{draft}")).await;
        assert_eq!(d["documents"].as_array().unwrap().len(), 0);
    }
}

impl Parent {
    async fn delete(&self, app: &TestApp, path: &str) -> (StatusCode, Value) {
        let r = self.c.delete(app.url(path)).header("X-CSRF-Token", &self.csrf).send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    async fn upload_replacing(&self, app: &TestApp, draft: &str, kind: &str, replace: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let form = reqwest::multipart::Form::new()
            .text("kind", kind.to_string())
            .text("replace", replace.to_string())
            .part("file", reqwest::multipart::Part::bytes(bytes).file_name("r.png").mime_str("image/png").unwrap());
        let r = self
            .c
            .post(app.url(&format!("/api/v1/registration/drafts/{draft}/documents")))
            .header("X-CSRF-Token", &self.csrf)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    /// (kind, content_hash) of the draft's uploads.
    async fn uploads(&self, app: &TestApp, draft: &str) -> Vec<(String, String)> {
        let (_, d) = self.get(app, &format!("/api/v1/registration/drafts/{draft}")).await;
        d["documents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| (x["kind"].as_str().unwrap().into(), x["content_hash"].as_str().unwrap().into()))
            .collect()
    }
}

/// (kind, content_hash) of an application's stored documents.
async fn stored_documents(app: &TestApp, application_id: &str) -> Vec<(String, String)> {
    let id = application_id.to_string();
    app.state
        .db
        .run(move |c| {
            Ok(schema::documents::table
                .filter(schema::documents::application_id.eq(id))
                .order(schema::documents::kind.asc())
                .select((schema::documents::kind, schema::documents::content_hash))
                .load(c)?)
        })
        .await
        .unwrap()
}

backend_test! {
    /// Issue 10, item 9: a wrong upload is removed or replaced before
    /// submit, through the API and the page; the application then holds only
    /// what the draft kept, and so does a later edit.
    #[tokio::test]
    async fn a_wrong_upload_can_be_removed_or_replaced_before_submit(backend) {
        let (app, _) = spawn(backend, &[]).await;
        let p = parent(&app, "wrong-upload").await;
        let draft = p.new_draft(&app).await;
        let (s, b) = p.put(&app, &format!("/api/v1/registration/drafts/{draft}/child"), child("林小雨", &id_number("110101", "20210315", "123"))).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let docs = format!("/api/v1/registration/drafts/{draft}/documents");
        let (_, h1) = p.upload(&app, &draft, "hukou", "h.png", "image/png", png(1)).await;
        let (_, wrong) = p.upload(&app, &draft, "property_cert", "p.png", "image/png", png(2)).await;
        let (h1, wrong) = (h1["content_hash"].as_str().unwrap().to_string(), wrong["content_hash"].as_str().unwrap().to_string());
        assert_eq!(p.uploads(&app, &draft).await.len(), 2);

        // API: remove the wrong one; it is gone from the draft.
        let r = p.c.delete(app.url(&format!("{docs}/{wrong}"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "a cookie without the CSRF header");
        let (s, b) = p.delete(&app, &format!("{docs}/{wrong}")).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["documents"].as_array().unwrap().len(), 1);
        assert_eq!(p.uploads(&app, &draft).await, [("hukou".to_string(), h1.clone())]);
        let (s, b) = p.delete(&app, &format!("{docs}/{wrong}")).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
        assert!(!b["error"]["message"].as_str().unwrap().is_ascii());
        // API: replace the hukou photo in one step.
        let (s, b) = p.upload_replacing(&app, &draft, "hukou", &h1, png(3)).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let h3 = b["content_hash"].as_str().unwrap().to_string();
        assert_eq!(p.uploads(&app, &draft).await, [("hukou".to_string(), h3.clone())]);
        let (s, b) = p.upload_replacing(&app, &draft, "hukou", &h1, png(4)).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("replace")), "{b}");
        assert_eq!(p.uploads(&app, &draft).await.len(), 1, "a refused replace keeps the draft as it was");

        // The page: every upload has a 删除 button; removing answers on the page.
        let form = reqwest::multipart::Form::new()
            .text("_csrf", p.csrf.clone())
            .text("kind", "residence_permit")
            .part("file", reqwest::multipart::Part::bytes(png(5)).file_name("w.png").mime_str("image/png").unwrap());
        let r = p.c.post(app.url(&format!("/parent/drafts/{draft}/documents"))).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let page = p.c.get(app.url(&format!("/parent/drafts/{draft}/documents"))).send().await.unwrap().text().await.unwrap();
        assert_eq!(page.matches(">删除</button>").count(), 2, "{page}");
        assert!(page.contains("替换已上传的"), "{page}");
        // The page's 替换: the chosen upload gives way to the new file.
        let (_, w5) = p.uploads(&app, &draft).await.into_iter().find(|(k, _)| k == "residence_permit").unwrap();
        let form = reqwest::multipart::Form::new()
            .text("_csrf", p.csrf.clone())
            .text("kind", "residence_permit")
            .text("replace", w5.clone())
            .part("file", reqwest::multipart::Part::bytes(png(7)).file_name("w2.png").mime_str("image/png").unwrap());
        let r = p.c.post(app.url(&format!("/parent/drafts/{draft}/documents"))).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let now = p.uploads(&app, &draft).await;
        assert_eq!(now.len(), 2, "{now:?}");
        assert!(!now.iter().any(|(_, h)| h == &w5), "{now:?}");
        let (_, w) = now.into_iter().find(|(k, _)| k == "residence_permit").unwrap();
        let r = p
            .c
            .post(app.url(&format!("/parent/drafts/{draft}/documents/remove")))
            .form(&[("_csrf", p.csrf.as_str()), ("content_hash", w.as_str()), ("kind", "residence_permit")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), format!("/parent/drafts/{draft}/documents?ok=removed"));
        let page = p.c.get(app.url(&location(&r))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("已删除该文件") && page.matches(">删除</button>").count() == 1, "{page}");
        // Without the CSRF token nothing is removed.
        let r = p.c.post(app.url(&format!("/parent/drafts/{draft}/documents/remove"))).form(&[("content_hash", h3.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(p.uploads(&app, &draft).await.len(), 1);

        // Submit: the application holds the kept file only.
        let (s, b) = p.post(&app, &format!("/api/v1/registration/drafts/{draft}/submit"), None).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let app_id = b["application_id"].as_str().unwrap().to_string();
        assert_eq!(stored_documents(&app, &app_id).await, [("hukou".to_string(), h3.clone())]);
        // After submit the draft is closed to removals.
        let (s, _) = p.delete(&app, &format!("{docs}/{h3}")).await;
        assert_eq!(s, StatusCode::CONFLICT);

        // An edit replaces the photo: the application follows.
        let (s, b) = p.post(&app, &format!("/api/v1/registration/applications/{app_id}/edit"), None).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let edit = b["draft_id"].as_str().unwrap().to_string();
        let (s, b) = p.upload_replacing(&app, &edit, "hukou", &h3, png(6)).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let h6 = b["content_hash"].as_str().unwrap().to_string();
        let (s, b) = p.post(&app, &format!("/api/v1/registration/drafts/{edit}/submit"), None).await;
        assert!(s.is_success(), "{b}");
        assert_eq!(stored_documents(&app, &app_id).await, [("hukou".to_string(), h6)]);
    }
}

backend_test! {
    #[tokio::test]
    async fn api_submission_is_idempotent_and_twins_link(backend) {
        let (app, _) = spawn(backend, &[]).await;
        let p = parent(&app, "twins").await;
        // The bearer token works without a CSRF header; the cookie without one does not.
        let r = p.c.put(app.url("/api/v1/registration/guardian")).json(&json!({"name": "林美玲", "relation": "母亲", "mobile": "13805951234"})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let bearer = client();
        let r = bearer
            .get(app.url("/api/v1/registration/campaigns"))
            .bearer_auth(&p.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["campaigns"][0]["id"], CAMPAIGN);

        let apps0 = count(&app, "applications").await;
        let mut registered = Vec::new();
        for (name, seq) in [("林一", "123"), ("林二", "246")] {
            let draft = p.new_draft(&app).await;
            let (s, b) = p.put(&app, &format!("/api/v1/registration/drafts/{draft}/child"), child(name, &id_number("110101", "20210315", seq))).await;
            assert_eq!(s, StatusCode::OK, "{b}");
            let (s, b) = p.upload(&app, &draft, "hukou", "h.png", "image/png", png(seq.len() + name.len())).await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
            let (s, review) = p.get(&app, &format!("/api/v1/registration/drafts/{draft}/review")).await;
            assert_eq!(s, StatusCode::OK);
            assert_eq!(review["provisional"]["school_code"], "P01");
            assert_eq!(review["provisional"]["category_code"], "B");
            let key = format!("key-{name}");
            // Same key three times, two of them at once: one application.
            let submit = |k: String| {
                let c = bearer.clone();
                let url = app.url(&format!("/api/v1/registration/drafts/{draft}/submit"));
                let token = p.token.clone();
                async move {
                    let r = c.post(url).bearer_auth(token).header("Idempotency-Key", k).send().await.unwrap();
                    let s = r.status();
                    (s, r.json::<Value>().await.unwrap())
                }
            };
            let ((s1, b1), (s2, b2)) = tokio::join!(submit(key.clone()), submit(key.clone()));
            let (s3, b3) = submit(key.clone()).await;
            assert!(s1.is_success() && s2.is_success() && s3 == StatusCode::OK, "{s1} {b1} {s2} {b2} {s3} {b3}");
            assert!(s1 == StatusCode::CREATED || s2 == StatusCode::CREATED);
            assert_eq!(b1["application_id"], b2["application_id"]);
            assert_eq!(b1["application_id"], b3["application_id"]);
            // Another key for an already submitted draft: still the same application.
            let (s4, b4) = submit("another-key".into()).await;
            assert_eq!((s4, &b4["application_id"]), (StatusCode::OK, &b1["application_id"]));
            registered.push(b1["application_id"].as_str().unwrap().to_string());
        }
        assert_eq!(count(&app, "applications").await, apps0 + 2);

        // Twins: same guardian, same birth date → one family.
        let (_, list) = p.get(&app, "/api/v1/registration/applications").await;
        let list = list["applications"].as_array().unwrap();
        assert_eq!(list.len(), 2);
        let first_no = list.iter().find(|a| a["id"] == registered[0].as_str()).unwrap()["registration_no"].clone();
        for a in list {
            assert_eq!(a["family_id"], first_no, "{a}");
        }
        let (s, v) = p.get(&app, &format!("/api/v1/registration/applications/{}", registered[1])).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["status"], "submitted");
        assert_eq!(v["family_id"], first_no);
        assert_eq!(v["timeline"][0]["label"], "已提交");
        assert!(v["id_number_masked"].as_str().unwrap().contains('*'));

        // Registration closed: edits and new drafts refused with a reason.
        app.state
            .db
            .write(|c| {
                diesel::update(schema::campaigns::table.filter(schema::campaigns::id.eq(CAMPAIGN)))
                    .set(schema::campaigns::registration_closes.eq(ruxue::db::now() - chrono::Duration::minutes(1)))
                    .execute(c)?;
                Ok(())
            })
            .await
            .unwrap();
        let (s, b) = p.post(&app, &format!("/api/v1/registration/applications/{}/edit", registered[0]), None).await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}");
        assert!(b["error"]["message"].as_str().unwrap().contains("已截止"));
        let (s, _) = p.post(&app, &format!("/api/v1/registration/campaigns/{CAMPAIGN}/drafts"), None).await;
        assert_eq!(s, StatusCode::CONFLICT);
    }
}

backend_test! {
    #[tokio::test]
    async fn sliding_session_secure_cookie_and_dev_login_switch(backend) {
        let (app, _) = spawn(backend, &[("RUXUE__SECURITY__COOKIE_SECURE", "true"), ("RUXUE__SECURITY__DEV_LOGIN", "false")]).await;
        // Dev login is off: no page, no post.
        assert_eq!(app.client.get(app.url("/parent/dev-login")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        let r = app.client.post(app.url("/parent/dev-login")).form(&[("openid", "x")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let home = app.client.get(app.url("/parent")).send().await.unwrap().text().await.unwrap();
        assert!(!home.contains("dev-login"));
        // cookie_secure: the session cookie is Secure, HttpOnly, SameSite=Lax.
        let c = client();
        let r = wechat_login(&app, &c, "ok-secure").await;
        let cookie = r.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).find(|c| c.starts_with("ruxue_session=")).unwrap();
        assert!(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        let gid = logged_in(&app, &c).await.unwrap()["guardian"]["id"].as_str().unwrap().to_string();

        // Sliding expiry (30 minutes): a token with less than half its life left is renewed...
        let key = b"dev-jwt-key-change-me-0123456789abcdef";
        let now = chrono::Utc::now().timestamp();
        let csrf = "c".repeat(64);
        let old = ruxue::registration::session::issue(key, &gid, &csrf, now - 20 * 60, 30);
        let r = client().get(app.url("/parent")).header("Cookie", format!("ruxue_session={old}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let renewed = r.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).find(|c| c.starts_with("ruxue_session="));
        let renewed = renewed.expect("renewed cookie");
        let token = renewed.trim_start_matches("ruxue_session=").split(';').next().unwrap();
        let claims = ruxue::registration::session::verify(key, token).unwrap();
        assert!(claims.exp > now + 29 * 60 && claims.csrf == csrf && claims.sub == gid);
        assert_eq!((claims.iss.as_str(), claims.aud.as_str()), ("ruxue", "ruxue-guardian"));
        // ...a fresh one is not; an expired one is refused.
        let fresh = ruxue::registration::session::issue(key, &gid, &csrf, now, 30);
        let r = client().get(app.url("/parent")).header("Cookie", format!("ruxue_session={fresh}")).send().await.unwrap();
        assert!(r.headers().get_all(SET_COOKIE).iter().all(|v| !v.to_str().unwrap().starts_with("ruxue_session=")));
        let gone = ruxue::registration::session::issue(key, &gid, &csrf, now - 31 * 60, 30);
        let r = client().get(app.url("/parent/profile")).header("Cookie", format!("ruxue_session={gone}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        // Logging out clears the cookie.
        let r = c.post(app.url("/parent/logout")).form(&[("_csrf", logged_in(&app, &c).await.unwrap()["csrf_token"].as_str().unwrap())]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(logged_in(&app, &c).await.is_none());
    }
}

// The API document (`/api/openapi.json`) is checked against the router in tests/openapi.rs.

// --- headless Chromium at 375×667 -------------------------------------------------

/// A chromedriver of our own on a free port, and a fantoccini client over it.
struct Browser {
    screenshots: bool,
    client: fantoccini::Client,
    driver: std::process::Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start(screenshots: bool) -> Browser {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = std::process::Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let caps: serde_json::Map<String, Value> = serde_json::from_value(json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", profile.path().display()),
                    "--window-size=375,667", "--lang=zh-CN"
                ],
                "mobileEmulation": {"deviceMetrics": {"width": 375, "height": 667, "pixelRatio": 2.0}}
            }
        }))
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            match fantoccini::ClientBuilder::rustls()
                .expect("rustls")
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() > deadline => panic!("chromedriver did not start: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        Browser { screenshots, client, driver, _profile: profile }
    }

    async fn shot(&self, n: u32, step: &str) {
        if !self.screenshots {
            return;
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots/parent_registration");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{n:02}-{step}.png")), png).unwrap();
    }

    async fn fill(&self, name: &str, value: &str) {
        self.wait_for(&format!("[name=\"{name}\"]")).await;
        let e = self.client.find(fantoccini::Locator::Css(&format!("[name=\"{name}\"]"))).await.unwrap();
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    async fn select(&self, name: &str, value: &str) {
        self.wait_for(&format!("select[name=\"{name}\"]")).await;
        let e = self.client.find(fantoccini::Locator::Css(&format!("select[name=\"{name}\"]"))).await.unwrap();
        e.select_by_value(value).await.unwrap();
    }

    /// Waits (up to 10 s) for the element, e.g. while the next page loads, then clicks it.
    async fn click(&self, css: &str) {
        let e = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        e.click().await.unwrap();
    }

    async fn wait_for(&self, css: &str) {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
    }

    /// The page text once it contains `needle` (pages load after a click; poll up to 10 s).
    async fn text_with(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = match self.client.find(fantoccini::Locator::Css("body")).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text.contains(needle) {
                return text;
            }
            if Instant::now() > deadline {
                panic!("page never showed {needle:?}: {text}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn scroll_to(&self, css: &str) {
        let e = self.client.find(fantoccini::Locator::Css(css)).await.unwrap();
        self.client.execute("arguments[0].scrollIntoView({block: 'start'});", vec![serde_json::to_value(&e).unwrap()]).await.unwrap();
    }

    async fn stop(mut self) {
        let _ = self.client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

backend_test! {
    /// Screenshots from the first backend tested only (the two run at once).
    #[tokio::test]
    async fn browser_completes_a_registration_at_375x667(backend) {
        browser_registration(backend, backend == backends()[0]).await;
    }
}

async fn browser_registration(backend: Backend, screenshots: bool) {
    let (app, _) = spawn(backend, &[]).await;
    let apps0 = count(&app, "applications").await;
    let b = Browser::start(screenshots).await;
    let c = &b.client;
    c.goto(&app.url("/parent")).await.unwrap();
    let width: i64 = c.execute("return window.innerWidth", vec![]).await.unwrap().as_i64().unwrap();
    assert_eq!(width, 375);
    b.shot(1, "home").await;
    b.click("a[href=\"/parent/dev-login\"]").await;
    b.fill("openid", "browser-parent").await;
    b.shot(2, "dev-login").await;
    b.click("button[type=submit]").await;
    b.click("a[href=\"/parent/profile\"]").await;
    b.fill("name", "林美玲").await;
    b.select("relation", "母亲").await;
    b.fill("mobile", "13805951234").await;
    b.shot(3, "guardian").await;
    b.click("button[type=submit]").await;
    b.click(&format!("a[href=\"/parent/campaigns/{CAMPAIGN}\"]")).await;
    b.text_with("报名先后不影响录取结果").await;
    b.shot(4, "notice").await;
    b.click("form[action$=\"/start\"] button").await;

    // The child form, deliberately wrong first: a field-level message.
    let id = id_number("110101", "20210315", "123");
    b.fill("child_name", "林𠈌").await;
    b.fill("id_number", &format!("{}0", &id[..17])).await;
    b.click("form button[type=submit]").await;
    b.text_with("校验位").await;
    b.scroll_to("#id_number").await;
    b.shot(5, "child-error").await;
    b.fill("id_number", &id).await;
    b.select("hukou_township", "凤城镇").await;
    b.fill("hukou_community", "东岳社区").await;
    b.fill("hukou_road", "二环路").await;
    b.fill("hukou_number", "123").await;
    b.scroll_to("#hukou_township").await;
    b.shot(6, "child-address").await;
    b.click("form button[type=submit]").await;

    // Issue 10, item 9: before the documents, the review page's submit button
    // is disabled, looks it (not the blue of a live button), and says why
    // right next to it.
    b.wait_for("input[type=file]").await;
    let documents_url = c.current_url().await.unwrap().to_string();
    c.goto(&documents_url.replace("/documents", "/review")).await.unwrap();
    b.text_with("以审核结果为准").await;
    let look = c
        .execute(
            "const b = document.querySelector('form[action$=\"/submit\"] button');\
             const why = document.getElementById(b.getAttribute('aria-describedby'));\
             const s = getComputedStyle(b);\
             return {disabled: b.disabled, bg: s.backgroundColor, cursor: s.cursor,\
                     why: why ? why.innerText : null, next: b.nextElementSibling === why,\
                     shown: why ? why.getBoundingClientRect().height > 0 : false};",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(look["disabled"], true, "{look}");
    assert_ne!(look["bg"], "rgb(11, 92, 173)", "a disabled button in the live colour: {look}");
    assert_eq!(look["cursor"], "not-allowed", "{look}");
    let why = look["why"].as_str().unwrap_or_default();
    assert!(why.contains("暂时不能提交") && why.contains("户口簿") && look["next"] == true && look["shown"] == true, "{look}");
    b.scroll_to("form[action$=\"/submit\"]").await;
    b.shot(13, "review-blocked").await;
    c.goto(&documents_url).await.unwrap();

    // A wrong file first: the Chinese message sits right under the file input.
    let tmp = tempfile::tempdir().unwrap();
    let not_photo = tmp.path().join("notes.jpg");
    std::fs::write(&not_photo, b"MZ\x90\0 not a photo").unwrap();
    b.select("kind", "hukou").await;
    c.find(fantoccini::Locator::Css("input[type=file]")).await.unwrap().send_keys(not_photo.to_str().unwrap()).await.unwrap();
    b.click("form[enctype] button[type=submit]").await;
    b.text_with("仅支持").await;
    let at_field = c
        .execute(
            "const f = document.getElementById('file'); const e = document.getElementById('upload-err');\
             return {next: f.nextElementSibling === e, invalid: f.getAttribute('aria-invalid'), text: e.innerText,\
                     gap: e.getBoundingClientRect().top - f.getBoundingClientRect().bottom};",
            vec![],
        )
        .await
        .unwrap();
    assert!(at_field["next"] == true && at_field["invalid"] == "true", "{at_field}");
    assert!(at_field["gap"].as_f64().unwrap() < 24.0, "the message is not at the file field: {at_field}");
    assert!(!at_field["text"].as_str().unwrap().contains("file"), "{at_field}");
    b.scroll_to("#file").await;
    b.shot(14, "upload-error").await;

    // Upload the hukou photo from a file.
    let photo = tmp.path().join("hukou.jpg");
    std::fs::write(&photo, jpeg_with_gps()).unwrap();
    b.select("kind", "hukou").await;
    c.find(fantoccini::Locator::Css("input[type=file]")).await.unwrap().send_keys(photo.to_str().unwrap()).await.unwrap();
    b.shot(7, "documents").await;
    b.click("form[enctype] button[type=submit]").await;
    b.text_with("上传成功").await;
    b.shot(8, "uploaded").await;
    b.scroll_to("form.doc").await;
    b.shot(15, "uploaded-with-remove").await;
    b.click("a[href$=\"/review\"]").await;
    let review = b.text_with("以审核结果为准").await;
    assert!(review.contains("2021年03月15日") && review.contains("安溪县实验小学"), "{review}");
    b.shot(9, "review").await;
    b.scroll_to(".prov").await;
    b.shot(10, "review-provisional").await;
    b.click("form[action$=\"/submit\"] button").await;
    let status = b.text_with("提交成功").await;
    assert!(status.contains("2027-G1-00421") && status.contains("已提交"), "{status}");
    b.shot(11, "status").await;
    b.scroll_to(".tl").await;
    b.shot(12, "timeline").await;
    // Nothing is wider than the phone.
    let scroll_width: i64 = c.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap().as_i64().unwrap();
    assert!(scroll_width <= 375, "page is {scroll_width}px wide");
    b.stop().await;
    assert_eq!(count(&app, "applications").await, apps0 + 1);
}

// --- supplements (issue 10, item 1) ------------------------------------------------

/// A staff member's bearer token.
use common::staff::token as staff_token;

async fn staff_call(app: &TestApp, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut rb = client().request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// Registers one child through the API; returns the application id.
async fn register(app: &TestApp, p: &Parent, name: &str, id: &str, pad: usize) -> String {
    let draft = p.new_draft(app).await;
    let (s, b) = p.put(app, &format!("/api/v1/registration/drafts/{draft}/child"), child(name, id)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = p.upload(app, &draft, "hukou", "h.png", "image/png", png(pad)).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = p.post(app, &format!("/api/v1/registration/drafts/{draft}/submit"), None).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["application_id"].as_str().unwrap().to_string()
}

/// A deadline a reviewer types, `hours` from now (Beijing time).
fn deadline_in(hours: i64) -> String {
    (chrono::Utc::now().naive_utc() + chrono::Duration::hours(8 + hours)).format("%Y-%m-%dT%H:%M").to_string()
}

async fn set_deadline_passed(app: &TestApp, app_id: &str) {
    let id = app_id.to_string();
    app.state
        .db
        .write(move |c| {
            diesel::update(schema::review_decisions::table.filter(schema::review_decisions::application_id.eq(id)))
                .set(schema::review_decisions::supplement_deadline.eq(Some(ruxue::db::now() - chrono::Duration::minutes(1))))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
}

backend_test! {
    #[tokio::test]
    async fn a_supplement_request_is_answered_and_others_expire_as_the_campaign_says(backend) {
        let (app, _) = spawn(backend, &[]).await;
        let p = parent(&app, "supplement").await;
        let a1 = register(&app, &p, "林一", &id_number("110101", "20210315", "123"), 11).await;
        let a2 = register(&app, &p, "林二", &id_number("110101", "20201120", "246"), 12).await;
        let a3 = register(&app, &p, "林三", &id_number("110101", "20200905", "369"), 13).await;
        let rev = staff_token(&app, "reviewer-fc", "ruxue-demo-reviewer").await;
        let decisions = |a: &str| format!("/api/v1/staff/review/applications/{a}/decisions");

        // The reviewer names what is missing; an unknown kind is refused by field.
        let (s, b) = staff_call(&app, &rev, reqwest::Method::POST, &decisions(&a1), Some(json!({
            "decision": "supplement", "deadline": deadline_in(48), "documents": ["passport"], "note": "x"
        }))).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("documents")), "{b}");
        let (s, b) = staff_call(&app, &rev, reqwest::Method::POST, &decisions(&a1), Some(json!({
            "decision": "supplement", "deadline": deadline_in(48),
            "documents": ["property_cert"], "sections": ["property"], "note": "请补充房产信息"
        }))).await;
        assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("supplement")), "{b}");

        // Registration closes; the request can still be answered until its own deadline.
        app.state
            .db
            .write(|c| {
                diesel::update(schema::campaigns::table.filter(schema::campaigns::id.eq(CAMPAIGN)))
                    .set(schema::campaigns::registration_closes.eq(ruxue::db::now() - chrono::Duration::minutes(1)))
                    .execute(c)?;
                Ok(())
            })
            .await
            .unwrap();

        // The parent sees what was asked, by when, and can answer.
        let (s, v) = p.get(&app, &format!("/api/v1/registration/applications/{a1}")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["supplement"]["open"], true, "{v}");
        assert_eq!(v["supplement"]["documents"], json!(["房产证/不动产权证"]), "{v}");
        assert_eq!(v["supplement"]["sections"], json!(["房产信息"]), "{v}");
        let page = p.c.get(app.url(&format!("/parent/applications/{a1}"))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("需要补充材料") && page.contains("开始补充材料") && page.contains("请补充房产信息"), "{page}");
        let (s, b) = p.post(&app, &format!("/api/v1/registration/applications/{a1}/supplement"), None).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let draft = b["draft_id"].as_str().unwrap().to_string();
        // Sending back without the requested document is refused, naming it.
        let submit = format!("/api/v1/registration/drafts/{draft}/submit");
        let (s, b) = p.post(&app, &submit, Some(json!({"reply": "已补充"}))).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("property_cert")), "{b}");
        // Correct the property fields and upload the certificate.
        let mut c = child("林一", &id_number("110101", "20210315", "123"));
        for (k, v) in [
            ("has_property", "1"),
            ("prop_cert_no", "闽(2024)安溪县不动产权第0000777号"),
            ("prop_owner_name", "林大山"),
            ("prop_owner_relation", "father"),
            ("prop_acquired_on", "2024-05-20"),
            ("prop_township", "凤城镇"),
            ("prop_community", "东岳社区"),
            ("prop_road", "二环路"),
            ("prop_number", "123"),
        ] {
            c[k] = json!(v);
        }
        let (s, b) = p.put(&app, &format!("/api/v1/registration/drafts/{draft}/child"), c).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, b) = p.upload(&app, &draft, "property_cert", "p.png", "image/png", png(77)).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (s, review) = p.get(&app, &format!("/api/v1/registration/drafts/{draft}/review")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(review["problems"].as_array().unwrap().is_empty(), "{review}");
        assert_eq!(review["answering"]["documents"], json!(["房产证/不动产权证"]), "{review}");
        let (s, b) = p.post(&app, &submit, Some(json!({"reply": "已补传房产证，并填写了房产信息"}))).await;
        assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("under_review")), "{b}");
        // Answered once: no second answer.
        let (s, b) = p.post(&app, &format!("/api/v1/registration/applications/{a1}/supplement"), None).await;
        assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("no_supplement")), "{b}");

        // The reviewer reads the request and the answer side by side.
        let (s, d) = staff_call(&app, &rev, reqwest::Method::GET, &format!("/api/v1/staff/review/applications/{a1}"), None).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(d["status"], "under_review");
        let x = &d["supplements"][0];
        assert_eq!(x["outcome"], "answered", "{d}");
        assert_eq!(x["documents"], json!(["房产证/不动产权证"]));
        assert_eq!(x["documents_added"], json!(["房产证/不动产权证"]));
        assert_eq!(x["reply"], "已补传房产证，并填写了房产信息");
        let changed: Vec<&str> = x["changes"].as_array().unwrap().iter().map(|c| c["label"].as_str().unwrap()).collect();
        assert!(changed.contains(&"房产地址") && changed.contains(&"不动产权证号"), "{changed:?}");
        assert_eq!(d["computed"]["category"], "A", "the corrected facts are what review computes from: {d}");
        let (s, page) = {
            let r = client()
                .get(app.url(&format!("/staff/review/{a1}")))
                .header("Cookie", format!("ruxue_staff_at={rev}"))
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        };
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("补充材料：要求与答复") && page.contains("已补传房产证"), "{page}");
        // The auditor reads that fields changed, not what the family declared.
        let aud = staff_token(&app, "auditor", "ruxue-demo-auditor").await;
        let (s, d) = staff_call(&app, &aud, reqwest::Method::GET, &format!("/api/v1/staff/review/applications/{a1}"), None).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        let x = &d["supplements"][0];
        assert_eq!(x["outcome"], "answered");
        assert!(x["changes"].as_array().unwrap().iter().all(|c| c["after"] == "（已隐去）" && c["before"] == "（已隐去）"), "{x}");
        assert_eq!(x["reply"], "（家长说明已隐去）");
        assert!(!d.to_string().contains("0000777"), "no certificate number for the auditor: {d}");

        // Two requests expire: this campaign rejects, then (changed) returns to review.
        for a in [&a2, &a3] {
            let (s, b) = staff_call(&app, &rev, reqwest::Method::POST, &decisions(a), Some(json!({
                "decision": "supplement", "deadline": deadline_in(24), "documents": ["residence_permit"]
            }))).await;
            assert_eq!(s, StatusCode::OK, "{b}");
        }
        set_deadline_passed(&app, &a2).await;
        let (s, b) = p.post(&app, &format!("/api/v1/registration/applications/{a2}/supplement"), None).await;
        assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("supplement_expired")), "{b}");
        let (_, v) = p.get(&app, &format!("/api/v1/registration/applications/{a2}")).await;
        assert_eq!(v["supplement"]["open"], false, "past the deadline, before the sweep: {v}");
        let swept = ruxue::service::review::expire_supplements_blocking(&app.state.db, ruxue::db::now()).unwrap();
        assert_eq!((swept.rejected, swept.returned), (1, 0));
        let (_, v) = p.get(&app, &format!("/api/v1/registration/applications/{a2}")).await;
        assert_eq!(v["status"], "rejected", "{v}");
        assert!(v["timeline"].as_array().unwrap().iter().any(|t| t["note"].as_str().unwrap().contains("逾期未补充材料")), "{v}");
        assert!(v["supplement"].is_null());

        app.state
            .db
            .write(|c| {
                diesel::update(schema::campaigns::table.filter(schema::campaigns::id.eq(CAMPAIGN)))
                    .set(schema::campaigns::supplement_expiry.eq("review"))
                    .execute(c)?;
                Ok(())
            })
            .await
            .unwrap();
        set_deadline_passed(&app, &a3).await;
        let swept = ruxue::service::review::expire_supplements_blocking(&app.state.db, ruxue::db::now()).unwrap();
        assert_eq!((swept.rejected, swept.returned), (0, 1));
        let (_, d) = staff_call(&app, &rev, reqwest::Method::GET, &format!("/api/v1/staff/review/applications/{a3}"), None).await;
        assert_eq!((d["status"].as_str(), d["supplements"][0]["outcome"].as_str()), (Some("under_review"), Some("expired")), "{d}");
        // A second sweep finds nothing left.
        let swept = ruxue::service::review::expire_supplements_blocking(&app.state.db, ruxue::db::now()).unwrap();
        assert_eq!((swept.rejected, swept.returned), (0, 0));

        // Audited: the answer and both expiries.
        let actions: Vec<String> = app
            .state
            .db
            .run(|c| Ok(schema::audit_log::table.select(schema::audit_log::action).load::<String>(c)?))
            .await
            .unwrap();
        assert_eq!(actions.iter().filter(|a| *a == "application.supplement_answer").count(), 1);
        assert_eq!(actions.iter().filter(|a| *a == "review.supplement_expired").count(), 2);
    }
}

// --- a rejected family's next step; withdrawal (issue 10, item 5) -----------------

backend_test! {
    #[tokio::test]
    async fn a_rejected_family_appeals_to_another_reviewer_and_a_registration_is_withdrawn_and_made_again(backend) {
        let (app, _) = spawn(backend, &[]).await;
        let p = parent(&app, "appeal").await;
        let a1 = register(&app, &p, "林一", &id_number("110101", "20210315", "123"), 21).await;
        let a2 = register(&app, &p, "林二", &id_number("110101", "20201120", "246"), 22).await;
        let rev = staff_token(&app, "reviewer-fc", "ruxue-demo-reviewer").await;
        let rev2 = staff_token(&app, "reviewer-fc2", "ruxue-demo-reviewer").await;
        let decisions = |a: &str| format!("/api/v1/staff/review/applications/{a}/decisions");

        // Rejected: the page says why, what can be done by when, and whom to call.
        let (s, b) = staff_call(&app, &rev, reqwest::Method::POST, &decisions(&a1), Some(json!({
            "decision": "reject", "reason_code": "property_invalid", "note": "房产证照片无法辨认"
        }))).await;
        assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("rejected")), "{b}");
        let (_, v) = p.get(&app, &format!("/api/v1/registration/applications/{a1}")).await;
        assert!(v["rejected"]["reason"].as_str().unwrap().contains("房产证明不符合要求：房产证照片无法辨认"), "{v}");
        assert_eq!(v["rejected"]["can_appeal"], true, "{v}");
        assert_eq!(v["contact"]["phone"], "0595-23222222");
        let page = p.c.get(app.url(&format!("/parent/applications/{a1}"))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("申请复核") && page.contains("0595-23222222") && page.contains("房产证照片无法辨认"), "{page}");

        // The appeal needs a reason; then it goes to someone else.
        let appeal = format!("/api/v1/registration/applications/{a1}/appeal");
        let (s, b) = p.post(&app, &appeal, Some(json!({"reason": "不服"}))).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")), "{b}");
        let (s, v) = p.post(&app, &appeal, Some(json!({"reason": "已重新上传清晰的房产证照片，请复核"}))).await;
        assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("appealed")), "{v}");
        assert_eq!(v["appeal"]["outcome"], "pending");
        let (s, b) = p.post(&app, &appeal, Some(json!({"reason": "再次申请复核一下"}))).await;
        assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("appeal_closed")), "{b}");
        // The reviewer who rejected may not decide it.
        let (s, b) = staff_call(&app, &rev, reqwest::Method::POST, &decisions(&a1), Some(json!({"decision": "approve"}))).await;
        assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("four_eyes")), "{b}");
        let (s, b) = staff_call(&app, &rev2, reqwest::Method::POST, &decisions(&a1), Some(json!({"decision": "approve"}))).await;
        assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("approved")), "{b}");
        let (_, v) = p.get(&app, &format!("/api/v1/registration/applications/{a1}")).await;
        assert_eq!((v["status"].as_str(), v["appeal"]["outcome"].as_str()), (Some("approved"), Some("granted")), "{v}");

        // Past the window no appeal is taken.
        let (s, _) = staff_call(&app, &rev, reqwest::Method::POST, &decisions(&a2), Some(json!({
            "decision": "reject", "reason_code": "age_ineligible"
        }))).await;
        assert_eq!(s, StatusCode::OK);
        let id = a2.clone();
        app.state
            .db
            .write(move |c| {
                diesel::update(schema::application_events::table.filter(schema::application_events::application_id.eq(id)))
                    .set(schema::application_events::at.eq(ruxue::db::now() - chrono::Duration::days(6)))
                    .execute(c)?;
                Ok(())
            })
            .await
            .unwrap();
        let (_, v) = p.get(&app, &format!("/api/v1/registration/applications/{a2}")).await;
        assert_eq!(v["rejected"]["can_appeal"], false, "{v}");
        let (s, b) = p.post(&app, &format!("/api/v1/registration/applications/{a2}/appeal"), Some(json!({"reason": "已重新上传清晰的材料"}))).await;
        assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("appeal_closed")), "{b}");
        assert!(b["error"]["message"].as_str().unwrap().contains("5 天内"), "{b}");

        // Withdraw before review, then register the same child again.
        let id3 = id_number("110101", "20200905", "369");
        let a3 = register(&app, &p, "林三", &id3, 23).await;
        let (_, v) = p.get(&app, &format!("/api/v1/registration/applications/{a3}")).await;
        assert_eq!(v["can_withdraw"], true);
        let (s, v) = p.post(&app, &format!("/api/v1/registration/applications/{a3}/withdraw"), None).await;
        assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("withdrawn")), "{v}");
        assert!(v["timeline"].as_array().unwrap().iter().all(|t| t["label"] != "电脑派位日"), "nothing more to come: {v}");
        let page = p.c.get(app.url(&format!("/parent/applications/{a3}"))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("已撤回") && !page.contains("对口学校与类别") && !page.contains("撤回报名</button>"), "{page}");
        let again = register(&app, &p, "林三", &id3, 24).await;
        assert_ne!(again, a3);
        let (_, v) = p.get(&app, &format!("/api/v1/registration/applications/{again}")).await;
        assert_eq!(v["status"], "submitted");
        assert!(v["family_id"].is_null(), "a withdrawn registration is no twin of its successor: {v}");
        // After review began, withdrawal is refused with the bureau's phone.
        let (s, _) = staff_call(&app, &rev, reqwest::Method::POST, &decisions(&again), Some(json!({"decision": "note", "note": "已查看"}))).await;
        assert_eq!(s, StatusCode::OK);
        let (s, b) = p.post(&app, &format!("/api/v1/registration/applications/{a1}/withdraw"), None).await;
        assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("review_started")), "{b}");
        assert!(b["error"]["message"].as_str().unwrap().contains("0595-23222222"), "{b}");

        let actions: Vec<String> = app
            .state
            .db
            .run(|c| Ok(schema::audit_log::table.select(schema::audit_log::action).load::<String>(c)?))
            .await
            .unwrap();
        for a in ["application.appeal", "review.appeal_granted", "application.withdraw"] {
            assert_eq!(actions.iter().filter(|x| *x == a).count(), 1, "{a}");
        }
    }
}

backend_test! {
    /// Issue 10, item 4: review follows the address that decides the
    /// catchment. A 随迁子女 whose hukou is outside the county and whose
    /// residence permit is in 凤城镇 is reviewed in 凤城镇; a child with no
    /// address in the county waits in the county queue (县级待分配) until an
    /// admin assigns it, and then that township's reviewers see it.
    #[tokio::test]
    async fn review_follows_the_deciding_address_and_the_county_queue_is_assigned(backend) {
        let (app, _) = spawn(backend, &[]).await;
        let p = parent(&app, "scope").await;
        let migrant = |birth: &str, seq: &str, res_township: &str| {
            json!({
                "child_name": "陈小雨",
                "id_number": id_number("110101", birth, seq),
                "hukou_type": "migrant",
                "hukou_township": "其他",
                "hukou_road": "解放路",
                "hukou_number": "8",
                "permit_no": "350524000000123",
                "residence_start": "2024-03-01",
                "permit_issued_on": "2024-09-10",
                "social_insurance_months": "24",
                "res_township": res_township,
                "res_community": "东岳社区",
                "res_road": "二环路",
                "res_number": "123",
            })
        };
        let mut ids = Vec::new();
        for (birth, seq, res) in [("20210315", "123", "凤城镇"), ("20210420", "246", "其他")] {
            let draft = p.new_draft(&app).await;
            let (s, b) = p.put(&app, &format!("/api/v1/registration/drafts/{draft}/child"), migrant(birth, seq, res)).await;
            assert_eq!(s, StatusCode::OK, "{b}");
            assert_eq!(p.upload(&app, &draft, "hukou", "h.png", "image/png", png(seq.len())).await.0, StatusCode::CREATED);
            assert_eq!(p.upload(&app, &draft, "residence_permit", "r.png", "image/png", png(seq.len() + 7)).await.0, StatusCode::CREATED);
            let (s, b) = p.post(&app, &format!("/api/v1/registration/drafts/{draft}/submit"), None).await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
            ids.push(b["application_id"].as_str().unwrap().to_string());
        }
        let (in_fc, outside) = (ids[0].clone(), ids[1].clone());
        let server = &app;
        let login = |who: (&'static str, &'static str)| staff_token(server, who.0, who.1);
        let fc = login(("reviewer-fc", "ruxue-demo-reviewer")).await;
        let cx = login(("reviewer-cx", "ruxue-demo-reviewer")).await;
        let admin = login(("admin", "ruxue-demo-admin")).await;
        let get = |token: &str, path: String| {
            let token = token.to_string();
            async move { staff_call(server, &token, reqwest::Method::GET, &path, None).await }
        };
        let assign = |token: &str, id: &str, body: Value| {
            let (token, path) = (token.to_string(), format!("/api/v1/staff/review/applications/{id}/assign"));
            async move { staff_call(server, &token, reqwest::Method::POST, &path, Some(body)).await }
        };
        let detail = |id: &str| format!("/api/v1/staff/review/applications/{id}");

        // The migrant child: hukou elsewhere, residence in 凤城镇 → 凤城镇's reviewer.
        let (s, d) = get(&fc, detail(&in_fc)).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(d["township"], "凤城镇");
        assert_eq!(d["in_county_queue"], false);
        assert_eq!(get(&cx, detail(&in_fc)).await.0, StatusCode::NOT_FOUND, "another township's reviewer does not see it");

        // No address in the county: the county queue, for the admin only.
        for t in [&fc, &cx] {
            assert_eq!(get(t, detail(&outside)).await.0, StatusCode::NOT_FOUND);
            let (s, q) = get(t, "/api/v1/staff/review/queue?township=county".into()).await;
            assert_eq!(s, StatusCode::OK, "{q}");
            assert_eq!(q["total"], 0, "reviewers never see the county queue: {q}");
        }
        let (s, q) = get(&admin, "/api/v1/staff/review/queue?township=county&campaign=2027-G1".into()).await;
        assert_eq!(s, StatusCode::OK, "{q}");
        let rows = q["rows"].as_array().unwrap();
        assert!(rows.iter().any(|r| r["id"] == outside.as_str() && r["township"] == "县级待分配"), "{q}");
        assert!(!rows.iter().any(|r| r["id"] == in_fc.as_str()));
        assert_eq!(q["county_queue"], q["total"], "{q}");
        let before = q["county_queue"].as_i64().unwrap();

        // A reviewer cannot assign; bad input names the field.
        let (s, _) = assign(&fc, &outside, json!({"township_id": "CX", "reason": "居住在城厢镇"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, b) = assign(&admin, &outside, json!({"township_id": "XX", "reason": "居住在城厢镇"})).await;
        assert_eq!((s, &b["error"]["field"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("township_id")), "{b}");
        assert!(b["error"]["message"].as_str().unwrap().contains("没有编号为 XX 的乡镇"), "{b}");
        let (s, b) = assign(&admin, &outside, json!({"township_id": "CX", "reason": " "})).await;
        assert_eq!((s, &b["error"]["field"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("reason")), "{b}");
        // An application an address places is not the admin's to move.
        let (s, b) = assign(&admin, &in_fc, json!({"township_id": "CX", "reason": "试试"})).await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}");

        // The admin assigns it to 城厢镇: its reviewer sees it, 凤城镇's does not.
        let (s, b) = assign(&admin, &outside, json!({"township_id": "CX", "reason": "电话核实：实际居住在城厢镇"})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["township_name"], "城厢镇");
        let (s, d) = get(&cx, detail(&outside)).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!((&d["township"], &d["assigned"]), (&json!("城厢镇"), &json!(true)));
        assert_eq!(get(&fc, detail(&outside)).await.0, StatusCode::NOT_FOUND);
        let (_, q) = get(&admin, "/api/v1/staff/review/queue?township=county&campaign=2027-G1".into()).await;
        assert_eq!(q["county_queue"].as_i64().unwrap(), before - 1, "{q}");

        // The assignment is in the audit log, by the admin, with the reason.
        let target = format!("application:{outside}");
        let entries: Vec<(String, Option<String>)> = app
            .state
            .db
            .run(move |c| {
                Ok(schema::audit_log::table
                    .filter(schema::audit_log::action.eq("review.assign"))
                    .filter(schema::audit_log::target.eq(target))
                    .select((schema::audit_log::actor, schema::audit_log::after_json))
                    .load(c)?)
            })
            .await
            .unwrap();
        assert_eq!(entries.len(), 1, "{entries:?}");
        let (_, me) = get(&admin, "/api/v1/staff/me".into()).await;
        assert_eq!(entries[0].0, format!("staff:{}", me["id"].as_str().unwrap()));
        assert!(entries[0].1.as_deref().unwrap_or("").contains("电话核实：实际居住在城厢镇"), "{entries:?}");

        // The guardian edits it: still no county address, the assignment stays;
        // then a residence in 凤城镇: the address decides again.
        for (res, reviewer, other) in [("其他", &cx, &fc), ("凤城镇", &fc, &cx)] {
            let (s, b) = p.post(&app, &format!("/api/v1/registration/applications/{outside}/edit"), None).await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
            let draft = b["draft_id"].as_str().unwrap().to_string();
            let (s, b) = p.put(&app, &format!("/api/v1/registration/drafts/{draft}/child"), migrant("20210420", "246", res)).await;
            assert_eq!(s, StatusCode::OK, "{b}");
            let (s, b) = p.post(&app, &format!("/api/v1/registration/drafts/{draft}/submit"), None).await;
            assert!(s.is_success(), "{s} {b}");
            assert_eq!(get(reviewer, detail(&outside)).await.0, StatusCode::OK, "after an edit with residence {res}");
            assert_eq!(get(other, detail(&outside)).await.0, StatusCode::NOT_FOUND, "after an edit with residence {res}");
        }
        let (_, d) = get(&admin, detail(&outside)).await;
        assert_eq!((&d["township"], &d["assigned"], &d["assignable"]), (&json!("凤城镇"), &json!(false), &json!(false)), "{d}");
    }
}

backend_test! {
    /// Screenshots of the supplement and appeal pages (first backend only).
    #[tokio::test]
    async fn browser_answers_a_supplement_and_files_an_appeal_at_375x667(backend) {
        let (app, _) = spawn(backend, &[]).await;
        // The same guardian in the API client (WeChat openid o-shots) and the browser.
        let p = parent(&app, "shots").await;
        let a1 = register(&app, &p, "林一", &id_number("110101", "20210315", "123"), 31).await;
        let a2 = register(&app, &p, "林二", &id_number("110101", "20201120", "246"), 32).await;
        let rev = staff_token(&app, "reviewer-fc", "ruxue-demo-reviewer").await;
        let decisions = |a: &str| format!("/api/v1/staff/review/applications/{a}/decisions");
        let (s, b) = staff_call(&app, &rev, reqwest::Method::POST, &decisions(&a1), Some(json!({
            "decision": "supplement", "deadline": deadline_in(72), "documents": ["birth_cert"], "note": "请上传出生医学证明"
        }))).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, b) = staff_call(&app, &rev, reqwest::Method::POST, &decisions(&a2), Some(json!({
            "decision": "reject", "reason_code": "hukou_invalid", "note": "户口簿儿童页与身份证号码不一致"
        }))).await;
        assert_eq!(s, StatusCode::OK, "{b}");

        let b = Browser::start(backend == backends()[0]).await;
        let c = &b.client;
        // The browser's own WeChat login as the same family: /parent/login
        // sends it to the (loopback) authorise page, whose URL carries the state.
        c.goto(&app.url("/parent/login")).await.unwrap();
        let at = c.current_url().await.unwrap().to_string();
        let state = query_param(&at, "state").unwrap_or_else(|| panic!("no state in {at}"));
        c.goto(&app.url(&format!("/parent/wechat/callback?code=ok-shots&state={state}"))).await.unwrap();
        c.goto(&app.url(&format!("/parent/applications/{a1}"))).await.unwrap();
        let text = b.text_with("需要补充材料").await;
        assert!(text.contains("出生医学证明") && text.contains("开始补充材料"), "{text}");
        b.scroll_to("#supplement").await;
        b.shot(20, "supplement-request").await;
        b.click("#supplement button").await;
        // The documents step of the answer: upload what was asked for.
        let tmp = tempfile::tempdir().unwrap();
        let photo = tmp.path().join("birth.jpg");
        std::fs::write(&photo, jpeg_with_gps()).unwrap();
        b.select("kind", "birth_cert").await;
        c.find(fantoccini::Locator::Css("input[type=file]")).await.unwrap().send_keys(photo.to_str().unwrap()).await.unwrap();
        b.click("form[enctype] button[type=submit]").await;
        b.text_with("上传成功").await;
        b.shot(21, "supplement-upload").await;
        b.click("a[href$=\"/review\"]").await;
        b.text_with("审核员要求补充的内容").await;
        b.fill("reply", "已上传出生医学证明").await;
        b.scroll_to("#reply").await;
        b.shot(22, "supplement-review").await;
        b.click("form[action$=\"/submit\"] button").await;
        let text = b.text_with("审核中").await;
        assert!(!text.contains("开始补充材料"), "{text}");
        b.shot(23, "supplement-sent").await;

        // The rejected one: why, the appeal form and whom to call.
        c.goto(&app.url(&format!("/parent/applications/{a2}"))).await.unwrap();
        let text = b.text_with("审核未通过").await;
        assert!(text.contains("户口簿儿童页与身份证号码不一致") && text.contains("0595-23222222"), "{text}");
        b.scroll_to("#rejected").await;
        b.shot(24, "rejected").await;
        b.fill("reason", "户口簿已更正，附上新的儿童页照片").await;
        b.click("#rejected button[type=submit]").await;
        let text = b.text_with("复核申请").await;
        assert!(text.contains("复核中"), "{text}");
        b.scroll_to("#appeal").await;
        b.shot(25, "appeal-filed").await;
        let scroll_width: i64 = c.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap().as_i64().unwrap();
        assert!(scroll_width <= 375, "page is {scroll_width}px wide");
        b.stop().await;
        let (_, v) = p.get(&app, &format!("/api/v1/registration/applications/{a1}")).await;
        assert_eq!(v["status"], "under_review", "{v}");
        let (_, v) = p.get(&app, &format!("/api/v1/registration/applications/{a2}")).await;
        assert_eq!(v["status"], "appealed", "{v}");
    }
}
