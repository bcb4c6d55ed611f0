//! Issue #13: notifications to parents through the outbox, on both backends,
//! against a real SMTP server on loopback (aiosmtpd, `tests/support/smtp_sink.py`;
//! plain, STARTTLS and implicit TLS with a certificate made here by openssl)
//! and a loopback WeChat speaking the documented JSON (`/cgi-bin/token`,
//! `/cgi-bin/message/template/send`). Faults: SMTP down then up, the worker
//! killed between sending and recording, two workers on one PostgreSQL over
//! 1,000 messages, dead-lettering after N attempts.

mod common;

use common::staff::{client, page_login, token};
use common::*;
use diesel::prelude::*;
use ruxue::db::schema::{self, notifications as n};
use ruxue::notify::Event;
use ruxue::service::notify::{Target, Worker};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const APP_ID: &str = "wxnotify00000001";
const SECRET: &str = "test-notify-secret";
const CAMPAIGN: &str = "2027-G1";
const ADMIN: (&str, &str) = ("admin", "ruxue-demo-admin");
const AUDITOR: (&str, &str) = ("auditor", "ruxue-demo-auditor");
const OPERATOR: (&str, &str) = ("operator", "ruxue-demo-operator");
const REVIEWER: (&str, &str) = ("reviewer-fc", "ruxue-demo-reviewer");

// --- a loopback WeChat ---------------------------------------------------------------

/// What the loopback WeChat saw and how it answers.
#[derive(Default)]
struct WxState {
    /// Tokens issued, in order.
    issued: Vec<String>,
    /// The one valid now (empty after a scripted 40001/42001 revoked it).
    valid: String,
    /// `expires_in` of the next token.
    expires_in: i64,
    /// Every template send: `(touser, body)`.
    posts: Vec<(String, Value)>,
    /// `client_msg_id`s shown to the user (WeChat's deduplication: once each).
    shown: Vec<String>,
    /// openid → errcode answered (the first `n` times, `n < 0` for always).
    scripted: HashMap<String, (i64, i32)>,
    /// openid → seconds to wait before answering.
    slow: HashMap<String, u64>,
}

#[derive(Clone)]
struct FakeWechat {
    base: String,
    st: Arc<Mutex<WxState>>,
}

impl FakeWechat {
    fn tokens(&self) -> usize {
        self.st.lock().unwrap().issued.len()
    }
    fn posts_to(&self, openid: &str) -> Vec<Value> {
        self.st.lock().unwrap().posts.iter().filter(|(t, _)| t == openid).map(|(_, b)| b.clone()).collect()
    }
    fn shown(&self) -> Vec<String> {
        self.st.lock().unwrap().shown.clone()
    }
    fn script(&self, openid: &str, errcode: i64, times: i32) {
        self.st.lock().unwrap().scripted.insert(openid.into(), (errcode, times));
    }
}

async fn spawn_wechat() -> FakeWechat {
    use actix_web::{web, App, HttpResponse, HttpServer};
    type S = web::Data<Arc<Mutex<WxState>>>;
    async fn token(st: S, q: web::Query<HashMap<String, String>>) -> HttpResponse {
        let get = |k: &str| q.get(k).cloned().unwrap_or_default();
        if get("grant_type") != "client_credential" || get("appid") != APP_ID || get("secret") != SECRET {
            return HttpResponse::Ok().json(json!({"errcode": 40125, "errmsg": "invalid appsecret"}));
        }
        let mut s = st.lock().unwrap();
        let t = format!("TOKEN-{}", s.issued.len() + 1);
        s.issued.push(t.clone());
        s.valid = t.clone();
        let exp = if s.expires_in == 0 { 7200 } else { s.expires_in };
        HttpResponse::Ok().json(json!({"access_token": t, "expires_in": exp}))
    }
    async fn send(st: S, q: web::Query<HashMap<String, String>>, body: web::Json<Value>) -> HttpResponse {
        let to = body["touser"].as_str().unwrap_or_default().to_string();
        let delay = st.lock().unwrap().slow.get(&to).copied();
        if let Some(d) = delay {
            tokio::time::sleep(Duration::from_secs(d)).await;
        }
        let mut s = st.lock().unwrap();
        s.posts.push((to.clone(), body.0.clone()));
        let valid = s.valid.clone();
        if valid.is_empty() || q.get("access_token").map(String::as_str) != Some(valid.as_str()) {
            return HttpResponse::Ok().json(json!({"errcode": 40001, "errmsg": "invalid credential"}));
        }
        if let Some((code, left)) = s.scripted.get(&to).copied() {
            if left != 0 {
                s.scripted.insert(to.clone(), (code, left - 1));
                if code == 42001 || code == 40001 {
                    // The token is dead from now on: the caller must fetch another.
                    s.valid.clear();
                }
                return HttpResponse::Ok().json(json!({"errcode": code, "errmsg": "scripted"}));
            }
        }
        let id = body["client_msg_id"].as_str().unwrap_or_default().to_string();
        if !s.shown.contains(&id) {
            s.shown.push(id);
        }
        HttpResponse::Ok().json(json!({"errcode": 0, "errmsg": "ok", "msgid": s.posts.len()}))
    }
    let st = Arc::new(Mutex::new(WxState::default()));
    let data = web::Data::new(st.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/cgi-bin/token", web::get().to(token))
            .route("/cgi-bin/message/template/send", web::post().to(send))
    })
    .workers(2)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    FakeWechat { base: format!("http://127.0.0.1:{port}"), st }
}

// --- a real SMTP server ------------------------------------------------------------

struct Smtp {
    port: u16,
    dir: PathBuf,
    child: Option<std::process::Child>,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Smtp {
    /// Not started yet: connections to `port` are refused.
    fn down(dir: &Path) -> Smtp {
        Smtp { port: free_port(), dir: dir.join("smtp-in"), child: None }
    }

    /// aiosmtpd on `port`: `plain`, `starttls` or `tls` (with `cert`/`key`).
    fn start(&mut self, mode: &str, cert: Option<&(PathBuf, PathBuf)>) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut cmd = std::process::Command::new("python3");
        cmd.arg(script).arg(mode).arg(self.port.to_string()).arg(&self.dir);
        if let Some((c, k)) = cert {
            cmd.arg(c).arg(k);
        }
        // The expected handshake failures of the untrusting clients would clutter stderr.
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 with aiosmtpd is required (.ci/run installs it: pip install aiosmtpd)");
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        std::io::BufRead::read_line(&mut out, &mut line).unwrap();
        assert_eq!(line.trim(), "READY", "aiosmtpd did not start (pip install aiosmtpd)");
        self.child = Some(child);
    }

    fn up(dir: &Path, mode: &str, cert: Option<&(PathBuf, PathBuf)>) -> Smtp {
        let mut s = Smtp::down(dir);
        s.start(mode, cert);
        s
    }

    /// Every message received so far, as text (headers decoded where they are encoded-words).
    fn received(&self) -> Vec<String> {
        let Ok(rd) = std::fs::read_dir(&self.dir) else { return Vec::new() };
        let mut files: Vec<PathBuf> = rd.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect();
        files.sort();
        files.iter().map(|p| String::from_utf8(std::fs::read(p).unwrap()).unwrap()).collect()
    }
}

/// A self-signed certificate for 127.0.0.1 (openssl), as the client's only trusted root.
fn test_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("smtp-cert.pem"), dir.join("smtp-key.pem"));
    let ok = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:FALSE"])
        .args(["-addext", "extendedKeyUsage=serverAuth", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl");
    assert!(ok.success());
    (cert, key)
}

/// A lettre message made readable: headers unfolded with their RFC 2047
/// `=?utf-8?b?…?=` words decoded, base64 and quoted-printable parts decoded.
fn readable(raw: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let raw = raw.replace("\r\n", "\n");
    let mut out = String::new();
    let mut mode = "";
    let mut in_body = false;
    let mut block = String::new();
    let mut lines = raw.lines().peekable();
    while let Some(line) = lines.next() {
        if line.starts_with("--") {
            if !block.is_empty() {
                out.push_str(&decode_part(mode, &block, &b64));
                block.clear();
            }
            out.push_str(line);
            out.push('\n');
            mode = "";
            in_body = false;
            continue;
        }
        if in_body && !mode.is_empty() {
            block.push_str(line);
            block.push('\n');
            continue;
        }
        if line.is_empty() {
            in_body = true;
            out.push('\n');
            continue;
        }
        // A header, unfolded.
        let mut h = line.to_string();
        while lines.peek().is_some_and(|l| l.starts_with(' ') || l.starts_with('\t')) {
            h.push_str(lines.next().unwrap());
        }
        let lower = h.to_ascii_lowercase();
        if lower.starts_with("content-transfer-encoding:") {
            mode = if lower.contains("base64") {
                "b64"
            } else if lower.contains("quoted-printable") {
                "qp"
            } else {
                ""
            };
        }
        out.push_str(&decode_words(&h, &b64));
        out.push('\n');
    }
    if !block.is_empty() {
        out.push_str(&decode_part(mode, &block, &b64));
    }
    out
}

fn decode_words(h: &str, b64: &base64::engine::GeneralPurpose) -> String {
    use base64::Engine;
    let mut out = String::new();
    let mut rest = h;
    let mut last_was_word = false;
    loop {
        let lower = rest.to_ascii_lowercase();
        let Some(i) = lower.find("=?utf-8?b?") else { break };
        let between = &rest[..i];
        if !(last_was_word && between.trim().is_empty()) {
            out.push_str(between);
        }
        let after = &rest[i + 10..];
        let j = after.find("?=").unwrap_or(after.len());
        out.push_str(&String::from_utf8_lossy(&b64.decode(&after[..j]).unwrap_or_default()));
        rest = &after[(j + 2).min(after.len())..];
        last_was_word = true;
    }
    out.push_str(rest);
    out
}

fn decode_part(mode: &str, block: &str, b64: &base64::engine::GeneralPurpose) -> String {
    use base64::Engine;
    match mode {
        "b64" => {
            let joined: String = block.split_whitespace().collect();
            String::from_utf8_lossy(&b64.decode(joined).unwrap_or_default()).to_string() + "\n"
        }
        "qp" => {
            let qp = block.replace("=\n", "");
            let bytes = qp.as_bytes();
            let mut v = Vec::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'=' && i + 2 < bytes.len() {
                    if let Ok(x) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                        v.push(x);
                        i += 3;
                        continue;
                    }
                }
                v.push(bytes[i]);
                i += 1;
            }
            String::from_utf8_lossy(&v).to_string()
        }
        _ => block.to_string(),
    }
}

// --- setup -------------------------------------------------------------------------

fn env(wx: &FakeWechat, smtp_port: u16, extra: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut v: Vec<(&'static str, String)> = vec![
        ("RUXUE__WECHAT__API_BASE", wx.base.clone()),
        ("RUXUE__WECHAT__AUTHORIZE_BASE", wx.base.clone()),
        ("RUXUE__WECHAT__APP_ID", APP_ID.into()),
        ("RUXUE__WECHAT__APP_SECRET", SECRET.into()),
        ("RUXUE__WECHAT__TIMEOUT_SECS", "2".into()),
        ("RUXUE__MAIL__BACKEND", "smtp".into()),
        ("RUXUE__MAIL__SMTP_HOST", "127.0.0.1".into()),
        ("RUXUE__MAIL__SMTP_PORT", smtp_port.to_string()),
        ("RUXUE__MAIL__SMTP_TIMEOUT_SECS", "3".into()),
        ("RUXUE__NOTIFY__WORKER_IN_SERVE", "false".into()),
        ("RUXUE__NOTIFY__BATCH_SIZE", "50".into()),
    ];
    for key in
        ["RECEIVED", "SUPPLEMENT", "APPROVED", "REJECTED", "DRAW_SCHEDULED", "RESULT", "OFFER_REMINDER", "WAITLIST_OFFER", "PLACEMENT"]
    {
        let name: &'static str = Box::leak(format!("RUXUE__WECHAT__TEMPLATE_{key}").into_boxed_str());
        v.push((name, format!("tpl-{}", key.to_ascii_lowercase())));
    }
    for (k, val) in extra {
        v.retain(|(x, _)| x != k);
        v.push((k, val.clone()));
    }
    v
}

async fn spawn_with(backend: Backend, env: &[(&'static str, String)]) -> TestApp {
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    spawn_app_with(backend, true, &pairs).await
}

fn worker(app: &TestApp) -> Worker {
    Worker::new(app.state.db.clone(), app.state.settings.clone()).expect("worker")
}

/// `count` distinct demo guardians (twins share one) with an application in 2027-G1: `(guardian, application)`.
async fn demo_families(app: &TestApp, count: usize) -> Vec<(String, String)> {
    let all: Vec<(String, String)> = app
        .state
        .db
        .run(move |c| {
            Ok(schema::applications::table
                .inner_join(schema::children::table)
                .filter(schema::applications::campaign_id.eq(CAMPAIGN))
                .order(schema::applications::registration_no.asc())
                .select((schema::children::guardian_id, schema::applications::id))
                .limit(count as i64 * 3)
                .load(c)?)
        })
        .await
        .unwrap();
    let mut out: Vec<(String, String)> = Vec::new();
    for (g, a) in all {
        if !out.iter().any(|(x, _)| *x == g) {
            out.push((g, a));
        }
    }
    out.truncate(count);
    assert_eq!(out.len(), count);
    out
}

/// Sets a guardian's openid, email and channel choice directly.
async fn set_guardian(app: &TestApp, gid: &str, openid: &str, email: Option<&str>, channels: &str) {
    let (g, o, e, ch) = (gid.to_string(), openid.to_string(), email.map(str::to_string), channels.to_string());
    app.state
        .db
        .write(move |c| {
            diesel::update(schema::guardians::table.filter(schema::guardians::id.eq(g)))
                .set((schema::guardians::openid.eq(o), schema::guardians::email.eq(e), schema::guardians::notify_channels.eq(ch)))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
}

/// Queues a supplement-request message for a family (a stand-in event).
async fn queue(app: &TestApp, gid: &str, app_id: &str, occurrence: &str) -> usize {
    let (g, a, o, s) = (gid.to_string(), app_id.to_string(), occurrence.to_string(), app.state.settings.clone());
    app.state
        .db
        .write(move |c| {
            let e = Event::Supplement {
                decision_id: format!("{o}-{}", &a[..8]),
                registration_no: "2027-G1-09999".into(),
                asked: "户口簿首页".into(),
                deadline: ruxue::db::now() + chrono::Duration::days(3),
            };
            ruxue::service::notify::enqueue(
                c,
                &s,
                Target { guardian_id: &g, application_id: Some(&a), campaign_id: Some(CAMPAIGN) },
                &e,
                ruxue::db::now(),
            )
        })
        .await
        .unwrap()
}

#[derive(Debug, Clone, Queryable)]
struct Row {
    id: String,
    dedup_key: String,
    event: String,
    channel: String,
    recipient: String,
    subject: String,
    body: String,
    status: String,
    attempts: i32,
    next_attempt_at: chrono::NaiveDateTime,
    last_error: Option<String>,
}

async fn rows(app: &TestApp) -> Vec<Row> {
    app.state
        .db
        .run(|c| {
            Ok(n::table
                .order((n::created_at.asc(), n::channel.desc()))
                .select((
                    n::id,
                    n::dedup_key,
                    n::event,
                    n::channel,
                    n::recipient,
                    n::subject,
                    n::body,
                    n::status,
                    n::attempts,
                    n::next_attempt_at,
                    n::last_error,
                ))
                .load(c)?)
        })
        .await
        .unwrap()
}

/// Makes every pending message due now (skips the backoff wait).
async fn make_due(app: &TestApp) {
    app.state
        .db
        .write(|c| {
            diesel::update(n::table.filter(n::status.eq("pending")))
                .set(n::next_attempt_at.eq(ruxue::db::now() - chrono::Duration::seconds(1)))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
}

fn id_number(region: &str, birth: &str, seq: &str) -> String {
    let first = format!("{region}{birth}{seq}");
    format!("{first}{}", ruxue::identity::idcard::check_digit(&first).unwrap())
}

/// A 1×1 PNG, `pad` bytes of filler making each upload distinct.
fn png(pad: usize) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        !c
    }
    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut v = (data.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(data);
        let mut crc_in = kind.to_vec();
        crc_in.extend_from_slice(data);
        v.extend_from_slice(&crc32(&crc_in).to_be_bytes());
        v
    }
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
    let mut idat = vec![0x78, 0x01, 0x01, 0x04, 0x00, 0xFB, 0xFF, 0x00, 0xFF, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00];
    idat.extend(std::iter::repeat(0u8).take(pad));
    v.extend(chunk(b"IDAT", &idat));
    v.extend(chunk(b"IEND", b""));
    v
}

// --- tests -------------------------------------------------------------------------

backend_test! {
    /// A parent chooses email and WeChat on the guardian page, registers: the
    /// 报名已受理 message is queued with the application and arrives at a
    /// real SMTP server and at WeChat, in Chinese, without the ID number.
    #[tokio::test]
    async fn a_registration_is_announced_by_email_and_wechat(backend) {
        let wx = spawn_wechat().await;
        let tmp = tempfile::tempdir().unwrap();
        let smtp = Smtp::up(tmp.path(), "plain", None);
        let app = spawn_with(backend, &env(&wx, smtp.port, &[])).await;
        let (db, settings) = (app.state.db.clone(), app.state.settings.clone());
        tokio::task::spawn_blocking(move || ruxue::service::campaign::open_registration(&db, &settings, CAMPAIGN, 14, true, "test"))
            .await
            .unwrap()
            .expect("campaign opens");

        // Dev login (the test environment), then the guardian page's JSON twin.
        let c = client();
        let r = c.post(app.url("/parent/dev-login")).form(&[("openid", "notify-lin")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let s: Value = c.get(app.url("/api/v1/registration/session")).send().await.unwrap().json().await.unwrap();
        let csrf = s["csrf_token"].as_str().unwrap().to_string();
        let put = |body: Value| c.put(app.url("/api/v1/registration/guardian")).header("X-CSRF-Token", &csrf).json(&body).send();
        let r = put(json!({"name": "林美玲", "relation": "母亲", "mobile": "13805951234", "notify": "both"})).await.unwrap();
        assert_eq!(r.status(), 422, "email is required for email notifications");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["field"], "email");
        let r = put(json!({"name": "林美玲", "relation": "母亲", "mobile": "13805951234", "notify": "both", "email": "Lin.Meiling@Example.com"}))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!((v["notify"].as_str(), v["email"].as_str()), (Some("both"), Some("lin.meiling@example.com")));
        // The page shows the choice.
        let page = c.get(app.url("/parent/profile")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("接收通知的方式") && page.contains("value=\"both\" selected") && page.contains("lin.meiling@example.com"), "{page}");

        let id = id_number("350524", "20210315", "123");
        let r = c.post(app.url(&format!("/api/v1/registration/campaigns/{CAMPAIGN}/drafts"))).header("X-CSRF-Token", &csrf).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let draft = r.json::<Value>().await.unwrap()["draft_id"].as_str().unwrap().to_string();
        let child = json!({
            "child_name": "林小雨", "id_number": id, "hukou_type": "local", "hukou_township": "凤城镇",
            "hukou_community": "东岳社区", "hukou_road": "二环路", "hukou_number": "123",
        });
        let r = c.put(app.url(&format!("/api/v1/registration/drafts/{draft}/child"))).header("X-CSRF-Token", &csrf).json(&child).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let form = reqwest::multipart::Form::new()
            .text("kind", "hukou")
            .part("file", reqwest::multipart::Part::bytes(png(7)).file_name("h.png").mime_str("image/png").unwrap());
        let r = c.post(app.url(&format!("/api/v1/registration/drafts/{draft}/documents"))).header("X-CSRF-Token", &csrf).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let r = c.post(app.url(&format!("/api/v1/registration/drafts/{draft}/submit"))).header("X-CSRF-Token", &csrf).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let sub: Value = r.json().await.unwrap();
        let (app_id, reg_no) = (sub["application_id"].as_str().unwrap().to_string(), sub["registration_no"].as_str().unwrap().to_string());

        // Queued with the application: one per channel, deterministic keys.
        let queued = rows(&app).await;
        assert_eq!(queued.len(), 2, "{queued:?}");
        assert!(queued.iter().all(|r| r.event == "received" && r.status == "pending"));
        let email_row = queued.iter().find(|r| r.channel == "email").unwrap().clone();
        let wx_row = queued.iter().find(|r| r.channel == "wechat").unwrap().clone();
        assert_eq!(email_row.recipient, "lin.meiling@example.com");
        assert_eq!(wx_row.recipient, "dev-notify-lin");
        assert_eq!(wx_row.dedup_key, format!("received.{app_id}.wechat"));

        let pass = worker(&app).run_once().await.unwrap();
        assert_eq!(pass.sent, 2, "{pass:?}");
        assert!(rows(&app).await.iter().all(|r| r.status == "sent"));

        // The email: recipient, subject, Chinese text and HTML, Message-ID from the key.
        let mails = smtp.received();
        assert_eq!(mails.len(), 1);
        let mail = readable(&mails[0]);
        assert!(mail.contains("X-Sink-Rcpt: lin.meiling@example.com"), "{mail}");
        assert!(mail.contains(&format!("【安溪县教育局】报名已受理（报名号 {reg_no}）")), "{mail}");
        assert!(mail.contains(&format!("报名号：{reg_no}")) && mail.contains("审核结果将另行通知"), "{mail}");
        assert!(mail.contains("text/html") && mail.contains("<table"), "{mail}");
        assert!(mail.contains(&format!("Message-ID: <received.{app_id}.email@")), "{mail}");
        assert!(!mail.contains(&id) && !mail.contains(&id[..17]), "no ID number in the email");

        // WeChat: the template message as documented.
        let posts = wx.posts_to("dev-notify-lin");
        assert_eq!(posts.len(), 1);
        let p = &posts[0];
        assert_eq!(p["template_id"], "tpl-received");
        assert_eq!(p["client_msg_id"], wx_row.dedup_key.as_str());
        assert_eq!(p["url"], format!("{}/parent/applications/{app_id}", app.state.settings.server.base_url));
        assert_eq!(p["data"]["first"]["value"], "报名已受理");
        assert_eq!(p["data"]["keyword1"]["value"], reg_no.as_str());
        assert!(!p.to_string().contains(&id[..17]), "no ID number to WeChat");
        assert_eq!(wx.tokens(), 1);

        // Nothing is due any more; the staff list shows both as sent, recipients masked.
        assert_eq!(worker(&app).run_once().await.unwrap().total(), 0);
        let t = token(&app, OPERATOR.0, OPERATOR.1).await;
        let v: Value = client().get(app.url(&format!("/api/v1/staff/notifications?campaign={CAMPAIGN}&status=sent"))).bearer_auth(&t).send().await.unwrap().json().await.unwrap();
        let listed: Vec<&str> = v["rows"].as_array().unwrap().iter().map(|r| r["recipient"].as_str().unwrap()).collect();
        assert!(listed.contains(&"l***@example.com") && listed.contains(&"dev-…-lin"), "{listed:?}");
        assert!(!v.to_string().contains("lin.meiling@"), "recipients are masked");
    }

    /// STARTTLS with a test certificate trusted through `mail.smtp_ca_file`,
    /// and implicit TLS; a client without the certificate, or one that does not
    /// start TLS where the server demands it, delivers nothing (and retries).
    #[tokio::test]
    async fn email_over_starttls_and_implicit_tls_with_a_test_certificate(backend) {
        let wx = spawn_wechat().await;
        let tmp = tempfile::tempdir().unwrap();
        let cert = test_certificate(tmp.path());
        for mode in ["starttls", "tls"] {
            let sub = tmp.path().join(mode);
            let smtp = Smtp::up(&sub, mode, Some(&cert));
            let ca = cert.0.display().to_string();
            let good = env(&wx, smtp.port, &[("RUXUE__MAIL__SMTP_TLS", mode.into()), ("RUXUE__MAIL__SMTP_CA_FILE", ca)]);
            let app = spawn_with(backend, &good).await;
            let fam = demo_families(&app, 1).await;
            set_guardian(&app, &fam[0].0, "o-tls", Some("chen@example.org"), "email").await;

            // Without the certificate trusted the handshake fails: retried later, nothing received.
            let untrusting = {
                let mut s = (*app.state.settings).clone();
                s.mail.smtp_ca_file = None;
                Worker::new(app.state.db.clone(), Arc::new(s)).unwrap()
            };
            assert_eq!(queue(&app, &fam[0].0, &fam[0].1, &format!("tls-{mode}")).await, 1);
            let pass = untrusting.run_once().await.unwrap();
            assert_eq!(pass.retried, 1, "{mode}: {pass:?}");
            assert!(smtp.received().is_empty());
            if mode == "starttls" {
                // A client that never starts TLS is refused by the server (require_starttls).
                let mut s = (*app.state.settings).clone();
                s.mail.smtp_tls = ruxue::config::SmtpTls::None;
                make_due(&app).await;
                let plain = Worker::new(app.state.db.clone(), Arc::new(s)).unwrap();
                assert_eq!(plain.run_once().await.unwrap().retried, 1);
                assert!(smtp.received().is_empty());
            }

            make_due(&app).await;
            let pass = worker(&app).run_once().await.unwrap();
            assert_eq!(pass.sent, 1, "{mode}: {pass:?} {:?}", rows(&app).await);
            let mails = smtp.received();
            assert_eq!(mails.len(), 1);
            let mail = readable(&mails[0]);
            assert!(mail.contains("X-Sink-Rcpt: chen@example.org") && mail.contains("X-Sink-Tls: yes"), "{mode}: {mail}");
            assert!(mail.contains("请补充报名材料") && mail.contains("户口簿首页"), "{mail}");
        }
    }

    /// The review decisions queue their messages in the same transaction:
    /// approved (school and category), rejected (the reason in words),
    /// supplement (what and until when). The same event is never queued twice.
    #[tokio::test]
    async fn review_decisions_queue_the_guardians_messages(backend) {
        let wx = spawn_wechat().await;
        let app = spawn_with(backend, &env(&wx, free_port(), &[])).await;
        let rev = token(&app, REVIEWER.0, REVIEWER.1).await;
        // FC applications the policy can place.
        let fc: Vec<String> = app
            .state
            .db
            .run(|c| {
                Ok(schema::applications::table
                    .filter(schema::applications::township_id.eq("FC"))
                    .filter(schema::applications::status.eq_any(["under_review", "submitted"]))
                    .filter(schema::applications::campaign_id.eq(CAMPAIGN))
                    .order(schema::applications::registration_no.asc())
                    .select(schema::applications::id)
                    .load(c)?)
            })
            .await
            .unwrap();
        let mut ready = Vec::new();
        for id in fc {
            let d: Value = client().get(app.url(&format!("/api/v1/staff/review/applications/{id}"))).bearer_auth(&rev).send().await.unwrap().json().await.unwrap();
            if d["computed"]["category"].is_string() && d["computed"]["school_id"].is_string() {
                ready.push((id, d));
            }
            if ready.len() == 3 {
                break;
            }
        }
        assert_eq!(ready.len(), 3);
        let decide = |id: &str, body: Value| {
            client().post(app.url(&format!("/api/v1/staff/review/applications/{id}/decisions"))).bearer_auth(&rev).json(&body).send()
        };
        assert_eq!(decide(&ready[0].0, json!({"decision": "approve"})).await.unwrap().status(), 200);
        assert_eq!(decide(&ready[1].0, json!({"decision": "reject", "reason_code": "property_invalid", "note": "复印件"})).await.unwrap().status(), 200);
        let soon = (chrono::Utc::now() + chrono::Duration::days(5)).format("%Y-%m-%dT%H:%M").to_string();
        // A note that quotes the child's ID number: the message must not carry it.
        let id3 = ready[2].1["id_number"].as_str().unwrap().to_string();
        assert_eq!(id3.len(), 18);
        assert_eq!(decide(&ready[2].0, json!({"decision": "supplement", "deadline": soon, "note": format!("请补交居住证，并核对身份证号 {id3}")})).await.unwrap().status(), 200);

        let q = rows(&app).await;
        assert_eq!(q.iter().map(|r| r.event.as_str()).collect::<Vec<_>>(), vec!["approved", "rejected", "supplement"], "{q:?}");
        let school_id = ready[0].1["computed"]["school_id"].as_str().unwrap().to_string();
        let school: String = app
            .state
            .db
            .run(move |c| Ok(schema::schools::table.filter(schema::schools::id.eq(school_id)).select(schema::schools::name).first(c)?))
            .await
            .unwrap();
        assert!(q[0].body.contains("报名审核通过") && q[0].body.contains("入学类别"), "{}", q[0].body);
        assert!(q[0].body.contains(&format!("对口学校或片区：{school}")), "{} lacks {school}", q[0].body);
        assert!(q[1].body.contains("房产证明不符合要求") && q[1].body.contains("申请复核"), "{}", q[1].body);
        assert!(q[2].body.contains("请补交居住证") && q[2].body.contains("北京时间"), "{}", q[2].body);
        assert!(!q[2].body.contains(&id3) && q[2].body.contains("证件号码已隐去"), "{}", q[2].body);
        for r in &q {
            assert!(!ruxue::notify::contains_id_number(&r.body) && !ruxue::notify::contains_id_number(&r.subject), "{r:?}");
        }
        // A supplement nobody answered, rejected by the sweep: the family is told why.
        let a3 = ready[2].0.clone();
        app.state
            .db
            .write(move |c| {
                diesel::update(schema::campaigns::table.filter(schema::campaigns::id.eq(CAMPAIGN)))
                    .set(schema::campaigns::supplement_expiry.eq("reject"))
                    .execute(c)?;
                diesel::update(schema::review_decisions::table.filter(schema::review_decisions::application_id.eq(a3)))
                    .set(schema::review_decisions::supplement_deadline.eq(Some(ruxue::db::now() - chrono::Duration::minutes(1))))
                    .execute(c)?;
                Ok(())
            })
            .await
            .unwrap();
        let (db, st) = (app.state.db.clone(), app.state.settings.clone());
        let swept = tokio::task::spawn_blocking(move || ruxue::service::review::expire_supplements_notifying(&db, Some(&st), ruxue::db::now()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(swept.rejected, 1);
        let q = rows(&app).await;
        assert_eq!(q.len(), 4);
        assert!(q[3].event == "rejected" && q[3].body.contains("逾期未补充材料"), "{:?}", q[3]);

        // The same event again is a no-op (deduplication key).
        let (gid, aid) = demo_families(&app, 1).await.remove(0);
        assert_eq!(queue(&app, &gid, &aid, "once").await, 1);
        assert_eq!(queue(&app, &gid, &aid, "once").await, 0);
    }

    /// The access_token is fetched once and shared through the database, again
    /// when it nears expiry; 40001/42001 refresh it and retry once; 43101 and
    /// 40003 are recorded and never retried; -1 and timeouts retry with backoff.
    #[tokio::test]
    async fn wechat_token_caching_and_every_errcode(backend) {
        let wx = spawn_wechat().await;
        let app = spawn_with(backend, &env(&wx, free_port(), &[])).await;
        let fam = demo_families(&app, 8).await;
        let names = ["o-ok1", "o-ok2", "o-expired", "o-refused", "o-bad", "o-busy", "o-slow", "o-ok3"];
        for ((g, _), name) in fam.iter().zip(names) {
            set_guardian(&app, g, name, None, "wechat").await;
        }
        let w = worker(&app);
        // Two messages: one token for both.
        assert_eq!(queue(&app, &fam[0].0, &fam[0].1, "a").await, 1);
        assert_eq!(queue(&app, &fam[1].0, &fam[1].1, "a").await, 1);
        assert_eq!(w.run_once().await.unwrap().sent, 2);
        assert_eq!(wx.tokens(), 1, "the token is cached");
        // Another worker (another instance) uses the same token from the database.
        assert_eq!(queue(&app, &fam[7].0, &fam[7].1, "a").await, 1);
        assert_eq!(worker(&app).run_once().await.unwrap().sent, 1);
        assert_eq!(wx.tokens(), 1, "shared by instances");
        // Near expiry (inside token_margin_secs): fetched again.
        app.state
            .db
            .write(|c| {
                diesel::update(schema::wechat_tokens::table)
                    .set(schema::wechat_tokens::expires_at.eq(ruxue::db::now() + chrono::Duration::seconds(60)))
                    .execute(c)?;
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(queue(&app, &fam[0].0, &fam[0].1, "b").await, 1);
        assert_eq!(w.run_once().await.unwrap().sent, 1);
        assert_eq!(wx.tokens(), 2, "refreshed before expiry");

        // 42001 (expired) then 40001: refresh and retry once, delivered.
        wx.script("o-expired", 42001, 1);
        assert_eq!(queue(&app, &fam[2].0, &fam[2].1, "a").await, 1);
        assert_eq!(w.run_once().await.unwrap().sent, 1);
        assert_eq!(wx.posts_to("o-expired").len(), 2);
        assert_eq!(wx.tokens(), 3);
        wx.script("o-expired", 40001, 1);
        assert_eq!(queue(&app, &fam[2].0, &fam[2].1, "b").await, 1);
        assert_eq!(w.run_once().await.unwrap().sent, 1);
        assert_eq!(wx.tokens(), 4);
        // Invalid even after the refresh: retried later (not a loop).
        wx.script("o-expired", 40001, 2);
        assert_eq!(queue(&app, &fam[2].0, &fam[2].1, "c").await, 1);
        assert_eq!(w.run_once().await.unwrap().retried, 1);
        assert_eq!(wx.posts_to("o-expired").len(), 6, "one retry after the refresh, no more");

        // 43101, 40003: failed, not retried.
        wx.script("o-refused", 43101, -1);
        wx.script("o-bad", 40003, -1);
        assert_eq!(queue(&app, &fam[3].0, &fam[3].1, "a").await, 1);
        assert_eq!(queue(&app, &fam[4].0, &fam[4].1, "a").await, 1);
        // -1 (busy) and a timeout: retried with backoff.
        wx.script("o-busy", -1, -1);
        wx.st.lock().unwrap().slow.insert("o-slow".into(), 4);
        assert_eq!(queue(&app, &fam[5].0, &fam[5].1, "a").await, 1);
        assert_eq!(queue(&app, &fam[6].0, &fam[6].1, "a").await, 1);
        make_due(&app).await;
        let before = ruxue::db::now();
        let pass = w.run_once().await.unwrap();
        // The earlier message to o-expired is due too, and now goes through.
        assert_eq!((pass.failed, pass.retried, pass.sent), (2, 2, 1), "{pass:?}");
        let q = rows(&app).await;
        let by = |o: &str, k: &str| q.iter().find(|r| r.recipient == o && r.dedup_key.contains(&format!(".{k}-"))).unwrap().clone();
        let refused = by("o-refused", "a");
        assert_eq!(refused.status, "failed");
        assert!(refused.last_error.as_deref().unwrap().contains("43101"));
        let bad = by("o-bad", "a");
        assert_eq!(bad.status, "failed");
        assert!(bad.last_error.as_deref().unwrap().contains("40003"));
        for o in ["o-busy", "o-slow"] {
            let r = by(o, "a");
            assert_eq!((r.status.as_str(), r.attempts), ("pending", 1), "{r:?}");
            // Base 30 s jittered to 15–30 s.
            let wait = (r.next_attempt_at - before).num_seconds();
            assert!((14..=40).contains(&wait), "{o}: next attempt in {wait}s");
        }
        assert!(by("o-busy", "a").last_error.unwrap().contains("-1"));
        assert!(by("o-slow", "a").last_error.unwrap().contains("超时"));
        // Refused messages are never tried again.
        make_due(&app).await;
        let posts_before = wx.posts_to("o-refused").len();
        w.run_once().await.unwrap();
        assert_eq!(wx.posts_to("o-refused").len(), posts_before);
        let second = rows(&app).await;
        assert_eq!(second.iter().find(|r| r.recipient == "o-busy").unwrap().attempts, 2);
    }

    /// SMTP down: the message waits and is retried; SMTP up: delivered once, nothing lost.
    #[tokio::test]
    async fn smtp_down_then_up_delivers_later_and_loses_nothing(backend) {
        let wx = spawn_wechat().await;
        let tmp = tempfile::tempdir().unwrap();
        let mut smtp = Smtp::down(tmp.path());
        let app = spawn_with(backend, &env(&wx, smtp.port, &[])).await;
        let fam = demo_families(&app, 5).await;
        for (i, (g, a)) in fam.iter().enumerate() {
            set_guardian(&app, g, &format!("o-mail{i}"), Some(&format!("parent{i}@example.net")), "email").await;
            assert_eq!(queue(&app, g, a, "down").await, 1);
        }
        let w = worker(&app);
        for round in 1..=2 {
            make_due(&app).await;
            let pass = w.run_once().await.unwrap();
            assert_eq!(pass.retried, 5, "round {round}: {pass:?}");
        }
        let q = rows(&app).await;
        assert!(q.iter().all(|r| r.status == "pending" && r.attempts == 2 && r.last_error.as_deref().unwrap_or("").contains("SMTP")), "{q:?}");
        smtp.start("plain", None);
        make_due(&app).await;
        assert_eq!(w.run_once().await.unwrap().sent, 5);
        let got = smtp.received();
        assert_eq!(got.len(), 5);
        for i in 0..5 {
            assert_eq!(got.iter().filter(|m| m.contains(&format!("X-Sink-Rcpt: parent{i}@example.net"))).count(), 1);
        }
        assert!(rows(&app).await.iter().all(|r| r.status == "sent"));
        make_due(&app).await;
        assert_eq!(w.run_once().await.unwrap().total(), 0);
        assert_eq!(smtp.received().len(), 5, "nothing sent twice");
    }

    /// After `notify.max_attempts` failures a message is dead-lettered; the
    /// staff page shows it with the error; only an admin resends it (audited).
    #[tokio::test]
    async fn dead_letter_after_n_attempts_shown_to_staff_and_resent_by_an_admin(backend) {
        let wx = spawn_wechat().await;
        let app = spawn_with(backend, &env(&wx, free_port(), &[("RUXUE__NOTIFY__MAX_ATTEMPTS", "3".into())])).await;
        let fam = demo_families(&app, 1).await;
        set_guardian(&app, &fam[0].0, "o-always-busy", None, "wechat").await;
        wx.script("o-always-busy", -1, -1);
        assert_eq!(queue(&app, &fam[0].0, &fam[0].1, "dead").await, 1);
        let w = worker(&app);
        for attempt in 1..=3 {
            make_due(&app).await;
            let p = w.run_once().await.unwrap();
            if attempt < 3 {
                assert_eq!(p.retried, 1, "{attempt}");
            } else {
                assert_eq!(p.dead, 1, "{attempt}");
            }
        }
        let r = rows(&app).await.remove(0);
        assert_eq!((r.status.as_str(), r.attempts), ("dead", 3));
        assert!(r.last_error.as_deref().unwrap().contains("已尝试 3 次"));
        make_due(&app).await;
        assert_eq!(w.run_once().await.unwrap().total(), 0, "a dead message is not retried");
        assert_eq!(wx.posts_to("o-always-busy").len(), 3);

        // The staff page (auditor reads), filtered to dead letters.
        let (auditor, _) = page_login(&app, AUDITOR).await;
        let html = auditor.get(app.url(&format!("/staff/notifications?campaign={CAMPAIGN}&status=dead"))).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(&format!("notification-{}", r.id)) && html.contains("多次失败已停止") && html.contains("已尝试 3 次"), "{html}");
        assert!(html.contains("o-al…busy") && !html.contains("o-always-busy"), "openid shortened");
        assert!(!html.contains("重新发送</button>"), "auditors do not resend");
        let at = token(&app, AUDITOR.0, AUDITOR.1).await;
        let r2 = client().post(app.url(&format!("/api/v1/staff/notifications/{}/resend", r.id))).bearer_auth(&at).send().await.unwrap();
        assert_eq!(r2.status(), 403);
        // The admin resends: pending again, attempts reset, audited; it is delivered once WeChat recovers.
        let (admin, csrf) = page_login(&app, ADMIN).await;
        let html = admin.get(app.url("/staff/notifications?status=dead")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("重新发送</button>"));
        let r3 = admin.post(app.url(&format!("/staff/notifications/{}/resend", r.id))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r3.status(), 303);
        let again = rows(&app).await.remove(0);
        assert_eq!((again.status.as_str(), again.attempts), ("pending", 0));
        let adm = token(&app, ADMIN.0, ADMIN.1).await;
        let r4 = client().post(app.url(&format!("/api/v1/staff/notifications/{}/resend", r.id))).bearer_auth(&adm).send().await.unwrap();
        assert_eq!(r4.status(), 409, "only failed or dead messages are resent");
        let audit: Value = client().get(app.url("/api/v1/staff/audit?action=notify.resend")).bearer_auth(&adm).send().await.unwrap().json().await.unwrap();
        assert!(audit.to_string().contains(&format!("notification:{}", r.id)), "{audit}");
        wx.script("o-always-busy", -1, 0);
        assert_eq!(w.run_once().await.unwrap().sent, 1);
        assert_eq!(wx.shown().len(), 1);
    }

    /// The worker's sweep queues a reminder 24 hours before an open offer's
    /// deadline, once; offers further away, answered or past are left alone.
    #[tokio::test]
    async fn offer_deadline_reminders_are_queued_once(backend) {
        let wx = spawn_wechat().await;
        let app = spawn_with(backend, &env(&wx, free_port(), &[])).await;
        let fam = demo_families(&app, 4).await;
        let school: String = app.state.db.run(|c| Ok(schema::schools::table.select(schema::schools::id).order(schema::schools::id.asc()).first(c)?)).await.unwrap();
        let now = ruxue::db::now();
        let offers = [("o-soon", 20, "offered"), ("o-later", 30, "offered"), ("o-answered", 10, "accepted"), ("o-past", -1, "offered")];
        for ((_, a), (id, hours, status)) in fam.iter().zip(offers) {
            let (a, school, id, status) = (a.clone(), school.clone(), id.to_string(), status.to_string());
            app.state
                .db
                .write(move |c| {
                    diesel::insert_into(schema::offers::table)
                        .values(ruxue::db::models::Offer {
                            id,
                            application_id: a,
                            school_id: school,
                            draw_id: None,
                            status,
                            deadline: now + chrono::Duration::hours(hours),
                            offered_at: now,
                            responded_at: None,
                            source: "admit_all".into(),
                            note: None,
                        })
                        .execute(c)?;
                    Ok(())
                })
                .await
                .unwrap();
        }
        let (db, st) = (app.state.db.clone(), app.state.settings.clone());
        let sweep = move || {
            let (db, st) = (db.clone(), st.clone());
            tokio::task::spawn_blocking(move || ruxue::service::notify::sweep_offer_reminders(&db, &st, ruxue::db::now()))
        };
        assert_eq!(sweep().await.unwrap().unwrap(), 1);
        assert_eq!(sweep().await.unwrap().unwrap(), 0, "once");
        let q = rows(&app).await;
        assert_eq!(q.len(), 1);
        assert_eq!((q[0].event.as_str(), q[0].dedup_key.as_str()), ("offer_reminder", "offer-reminder.o-soon.wechat"));
        assert!(q[0].body.contains("确认入学即将截止") && q[0].body.contains("确认截止时间"), "{}", q[0].body);
        assert_eq!(worker(&app).run_once().await.unwrap().sent, 1);
        assert_eq!(wx.posts_to(&q[0].recipient)[0]["template_id"], "tpl-offer_reminder");
    }

    /// `ruxue worker` is killed (SIGKILL) after WeChat accepted a message and
    /// before it recorded it: the lease expires, another worker sends it again
    /// with the same `client_msg_id`, and the parent's WeChat shows it once.
    #[tokio::test]
    async fn a_worker_killed_between_send_and_mark_sent_is_seen_once(backend) {
        let wx = spawn_wechat().await;
        let app = spawn_with(backend, &env(&wx, free_port(), &[("RUXUE__NOTIFY__LEASE_SECS", "2".into())])).await;
        let fam = demo_families(&app, 1).await;
        set_guardian(&app, &fam[0].0, "o-killed", None, "wechat").await;
        assert_eq!(queue(&app, &fam[0].0, &fam[0].1, "kill").await, 1);
        let mut cmd = worker_cmd(&app, &wx, &[("RUXUE__NOTIFY__LEASE_SECS", "2")]);
        let mut child = cmd.env("RUXUE_TEST_PAUSE_AFTER_SEND_MS", "60000").spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while wx.posts_to("o-killed").is_empty() {
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
                panic!("the worker exited ({status}): {err}");
            }
            assert!(Instant::now() < deadline, "the worker never sent");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let r = rows(&app).await.remove(0);
        assert_eq!(r.status, "sending", "sent but not recorded");
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let out = worker_cmd(&app, &wx, &[]).arg("--once").output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let r = rows(&app).await.remove(0);
        assert_eq!((r.status.as_str(), r.attempts), ("sent", 2));
        let posts = wx.posts_to("o-killed");
        assert_eq!(posts.len(), 2);
        assert_eq!(posts[0]["client_msg_id"], posts[1]["client_msg_id"]);
        assert_eq!(wx.shown(), vec![r.dedup_key.clone()], "seen once");
    }
}

/// `ruxue worker` over the test app's database and the loopback WeChat.
fn worker_cmd(app: &TestApp, wx: &FakeWechat, extra: &[(&str, &str)]) -> std::process::Command {
    let mut cmd = std::process::Command::new(ruxue_bin());
    cmd.arg("worker").env("RUXUE_ENV", "test").env("RUXUE_CONFIG_DIR", config_dir());
    for (k, v) in env(wx, free_port(), &[]) {
        cmd.env(k, v);
    }
    cmd.env("RUXUE__DATABASE__URL", &app.db.url)
        .env("RUXUE__DATABASE__POOL_SIZE", "3")
        .env("RUXUE__MAIL__FILE_DIR", app.db.dir().join("mail"))
        .env("RUXUE__NOTIFY__POLL_INTERVAL_MS", "100")
        .env("RUXUE__LOG__LEVEL", "warn");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
    cmd
}

/// Two `ruxue worker` processes on one PostgreSQL over 1,000 messages: every
/// message delivered exactly once (`FOR UPDATE SKIP LOCKED` leases). On
/// SQLite one worker is the supported setup, so this runs on PostgreSQL only.
#[tokio::test]
async fn two_workers_on_one_postgres_deliver_1000_messages_exactly_once() {
    if !should_run(Backend::Postgres, "two_workers_on_one_postgres_deliver_1000_messages_exactly_once") {
        return;
    }
    let wx = spawn_wechat().await;
    let app = spawn_with(Backend::Postgres, &env(&wx, free_port(), &[])).await;
    let fam = demo_families(&app, 1).await;
    set_guardian(&app, &fam[0].0, "o-bulk", None, "wechat").await;
    let (g, a, s) = (fam[0].0.clone(), fam[0].1.clone(), app.state.settings.clone());
    let queued = app
        .state
        .db
        .write(move |c| {
            let mut k = 0;
            for i in 0..1000 {
                let e = Event::Supplement {
                    decision_id: format!("bulk{i:04}"),
                    registration_no: format!("2027-G1-{i:05}"),
                    asked: "户口簿".into(),
                    deadline: ruxue::db::now(),
                };
                k += ruxue::service::notify::enqueue(
                    c,
                    &s,
                    Target { guardian_id: &g, application_id: Some(&a), campaign_id: Some(CAMPAIGN) },
                    &e,
                    ruxue::db::now(),
                )?;
            }
            Ok(k)
        })
        .await
        .unwrap();
    assert_eq!(queued, 1000);
    let mut workers: Vec<_> =
        (0..2).map(|_| worker_cmd(&app, &wx, &[("RUXUE__NOTIFY__BATCH_SIZE", "10")]).arg("--once").spawn().unwrap()).collect();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(240);
    let mut sent_by = Vec::new();
    for w in &mut workers {
        loop {
            if let Some(status) = w.try_wait().unwrap() {
                let mut err = String::new();
                std::io::Read::read_to_string(w.stderr.as_mut().unwrap(), &mut err).unwrap();
                assert!(status.success(), "{err}");
                let line = err.lines().find(|l| l.contains("outbox worker done: sent ")).unwrap_or_else(|| panic!("{err}"));
                let n: usize = line.split("sent ").nth(1).unwrap().split(',').next().unwrap().parse().unwrap();
                sent_by.push(n);
                break;
            }
            assert!(Instant::now() < deadline, "workers did not finish");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    eprintln!("two workers delivered 1,000 messages in {:?} ({sent_by:?})", started.elapsed());
    assert_eq!(sent_by.iter().sum::<usize>(), 1000, "{sent_by:?}");
    assert!(sent_by.iter().all(|&k| k > 0), "both workers took part: {sent_by:?}");
    let posts = wx.posts_to("o-bulk");
    let mut per_key: HashMap<String, usize> = HashMap::new();
    for p in &posts {
        *per_key.entry(p["client_msg_id"].as_str().unwrap().to_string()).or_default() += 1;
    }
    assert_eq!(per_key.len(), 1000);
    assert!(per_key.values().all(|&k| k == 1), "a message was sent twice");
    assert_eq!(posts.len(), 1000);
    let q = rows(&app).await;
    assert!(q.iter().all(|r| r.status == "sent" && r.attempts == 1));
    assert_eq!(wx.tokens(), 1, "one token shared by both workers");
}

// --- the draw and after it (issue #13 item 4) ------------------------------------------

/// Every outbox row of one event, `application_id → (subject, body, dedup_key, channel)`.
async fn rows_of_event(app: &TestApp, event: &str) -> Vec<(String, String, String, String, String)> {
    let e = event.to_string();
    app.state
        .db
        .run(move |c| {
            Ok(n::table
                .filter(n::event.eq(e))
                .order((n::application_id.asc(), n::channel.asc()))
                .select((n::application_id.assume_not_null(), n::subject, n::body, n::dedup_key, n::channel))
                .load(c)?)
        })
        .await
        .unwrap()
}

/// Delivers everything due, in passes.
async fn deliver_all(app: &TestApp) -> usize {
    let w = worker(app);
    let mut sent = 0;
    loop {
        let p = w.run_once().await.unwrap();
        if p.total() == 0 {
            return sent;
        }
        assert_eq!(p.sent, p.total(), "{p:?}");
        sent += p.sent;
    }
}

backend_test! {
    /// A school's draw day through the use cases: the announcement tells every
    /// family in the draw its time and the live page (once, however often it
    /// is queued), publication tells each its result — the school offered with
    /// the deadline, the waitlist place, or none — in Chinese, without ID
    /// numbers, by WeChat and, where chosen, by email to a real SMTP server.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_draw_day_tells_every_family_its_time_and_result(backend) {
        use ruxue::service::draw as svc;
        let wx = spawn_wechat().await;
        let tmp = tempfile::tempdir().unwrap();
        let smtp = Smtp::up(tmp.path(), "plain", None);
        let app = spawn_with(backend, &env(&wx, smtp.port, &[])).await;
        common::published::to_draw_phase(&app, CAMPAIGN);
        let unit = common::published::unit_needing_draw(&app, CAMPAIGN, "school");
        let t = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        let (settings, u) = (app.state.settings.clone(), unit.clone());
        let key = settings.draw_signing_key().unwrap();
        let (draw_id, witness) = app
            .state
            .db
            .write_blocking(move |c| {
                let d = svc::freeze_in(c, "staff:t", CAMPAIGN, &u, t("2023-09-15 09:00:00"))?;
                let w = svc::add_witness_in(c, "staff:t", &d.id, "陈公证", ruxue::domain::WitnessRole::Notary, 24, t("2023-09-15 09:30:00"))?;
                svc::commit_in(c, "witness:t", &w.witness, "4821", t("2023-09-15 09:40:00"))?;
                Ok((d.id, w.witness.id))
            })
            .unwrap();
        let entries = common::published::entries(&app, &draw_id);
        assert!(entries.len() > 10, "a real draw: {}", entries.len());
        // One family hears by email too.
        let (email_no, email_app) = entries.iter().next().map(|(a, b)| (a.clone(), b.clone())).unwrap();
        let gid: String = {
            let a = email_app.clone();
            app.state.db.run(move |c| Ok(ruxue::db::notify::guardian_of_application(c, &a)?.unwrap().id)).await.unwrap()
        };
        set_guardian(&app, &gid, "dev-draw-family", Some("chen.family@example.com"), "both").await;

        // Announced for 2023-09-15 11:00:02 UTC, 19:00 in Beijing.
        let (s2, id2) = (settings.clone(), draw_id.clone());
        app.state
            .db
            .write_blocking(move |c| svc::announce_in(c, &s2, "staff:t", &key, "x", &id2, t("2023-09-15 11:00:02"), t("2023-09-15 10:00:00")))
            .unwrap();
        let scheduled = rows_of_event(&app, "draw_scheduled").await;
        let live = format!("{}/draws/{draw_id}/live", settings.server.base_url);
        let wechat: Vec<_> = scheduled.iter().filter(|r| r.4 == "wechat").collect();
        assert_eq!(wechat.len(), entries.len(), "one per application in the draw");
        assert_eq!(scheduled.len(), entries.len() + 1, "and the email the one family chose");
        let by_app: std::collections::BTreeMap<&str, _> = wechat.iter().map(|r| (r.0.as_str(), *r)).collect();
        assert_eq!(by_app.len(), entries.len());
        for (no, a) in &entries {
            let (_, subject, body, key, _) = by_app[a.as_str()];
            assert_eq!(subject, &format!("【安溪县教育局】电脑派位时间通知（报名号 {no}）"));
            assert!(body.contains("派位时间：2023-09-15 19:00（北京时间）") && body.contains(&format!("直播页面：{live}")), "{body}");
            assert!(key.starts_with("draw-scheduled.") && key.ends_with(".wechat"), "{key}");
            assert!(!ruxue::notify::contains_id_number(body) && !ruxue::notify::contains_id_number(subject), "{body}");
        }
        // Queued again (a retried request, a second instance): nothing new.
        let events: Vec<(String, Event)> = entries
            .iter()
            .map(|(no, a)| {
                let e = Event::DrawScheduled { draw_id: draw_id.clone(), application_id: a.clone(), registration_no: no.clone(), draw_at: t("2023-09-15 11:00:02"), live_url: live.clone() };
                (a.clone(), e)
            })
            .collect();
        let s3 = settings.clone();
        let again = app.state.db.write_blocking(move |c| ruxue::service::notify::enqueue_batch(c, &s3, CAMPAIGN, &events, ruxue::db::now())).unwrap();
        assert_eq!(again, 0, "the deduplication key makes it idempotent");

        // The witness reveals, the beacon, the run, publication.
        let (db, id3, s4) = (app.state.db.clone(), draw_id.clone(), settings.clone());
        tokio::task::spawn_blocking(move || {
            db.write_blocking(|c| {
                let w = ruxue::db::draw::witness(c, &witness)?.unwrap();
                svc::reveal_in(c, "witness:t", &w, "4821", t("2023-09-15 11:00:10"))?;
                svc::beacon_in(c, "staff:t", &id3, common::draws::SIG_657413, "typed")?;
                Ok(())
            })?;
            svc::run_blocking(&db, "staff:t", &id3)?;
            db.write_blocking(|c| svc::publish_in(c, &s4, "staff:t", &id3, t("2023-09-15 11:30:00")))?;
            // Published twice (a double click): nothing more is queued.
            db.write_blocking(|c| svc::publish_in(c, &s4, "staff:t", &id3, t("2023-09-15 11:31:00")))
        })
        .await
        .unwrap()
        .expect("published");
        let rec = common::published::record(&app, &draw_id);
        let result = &rec["result"];
        let school_name: String = {
            let u = unit.clone();
            app.state.db.run(move |c| Ok(schema::schools::table.find(u).select(schema::schools::name).first(c)?)).await.unwrap()
        };
        let results = rows_of_event(&app, "draw_result").await;
        assert_eq!(results.iter().filter(|r| r.4 == "wechat").count(), entries.len(), "one result per application");
        let (mut placed, mut waiting) = (0, 0);
        for (app_id, subject, body, _, channel) in results.iter().filter(|r| r.4 == "wechat") {
            let _ = channel;
            let no = entries.iter().find(|(_, a)| *a == app_id).unwrap().0.clone();
            assert_eq!(subject, &format!("【安溪县教育局】电脑派位结果（报名号 {no}）"));
            let admitted = result["assignments"][&unit].as_array().unwrap().iter().any(|x| x == &json!(no));
            if admitted {
                placed += 1;
                assert!(body.contains(&format!("派位结果：已派位至{school_name}")) && body.contains("前在“我的报名”中确认入学"), "{body}");
            } else {
                let pos = result["waitlists"][&unit].as_array().unwrap().iter().position(|x| x == &json!(no));
                match pos {
                    Some(p) => {
                        waiting += 1;
                        assert!(body.contains(&format!("派位结果：{school_name}候补第{}位", p + 1)), "{body}");
                    }
                    None => assert!(body.contains("本次派位未派中") && body.contains("统筹"), "{body}"),
                }
            }
            assert!(!ruxue::notify::contains_id_number(body), "{body}");
        }
        assert!(placed > 0 && waiting > 0, "{placed} placed, {waiting} waiting");
        let real_id = published::id_number(&app, &email_app);
        assert!(results.iter().chain(scheduled.iter()).all(|r| !r.2.contains(&real_id) && !r.2.contains(&real_id[..17])), "no ID numbers");

        // Delivered: WeChat with the right templates, the one email to the real SMTP server.
        let sent = deliver_all(&app).await;
        assert_eq!(sent, 2 * entries.len() + 2);
        let posts = wx.posts_to("dev-draw-family");
        let templates: Vec<&str> = posts.iter().map(|p| p["template_id"].as_str().unwrap()).collect();
        assert_eq!(templates, ["tpl-draw_scheduled", "tpl-result"]);
        assert_eq!(posts[1]["data"]["first"]["value"], "电脑派位结果");
        assert_eq!(posts[1]["url"], format!("{}/parent/applications/{email_app}", settings.server.base_url));
        let mails: Vec<String> = smtp.received().iter().map(|m| readable(m)).collect();
        assert_eq!(mails.len(), 2);
        assert!(mails.iter().all(|m| m.contains("X-Sink-Rcpt: chen.family@example.com")));
        assert!(mails.iter().any(|m| m.contains(&format!("【安溪县教育局】电脑派位时间通知（报名号 {email_no}）")) && m.contains("19:00（北京时间）")), "{mails:?}");
        assert!(mails.iter().any(|m| m.contains(&format!("【安溪县教育局】电脑派位结果（报名号 {email_no}）")) && m.contains("派位结果：")), "{mails:?}");
        assert!(mails.iter().all(|m| !m.contains(&real_id)));
    }
}

backend_test! {
    /// After the draw: a family declines, the seat moves to the first child
    /// waiting, who is told (候补录取); a child placed by staff is told (统筹安排);
    /// a school that admits everyone tells its families (录取结果). Nobody else
    /// hears twice about one event.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_moved_waitlist_and_a_placement_tell_the_families(backend) {
        let wx = spawn_wechat().await;
        let app = spawn_with(backend, &env(&wx, free_port(), &[])).await;
        common::published::to_draw_phase(&app, CAMPAIGN);
        let unit = common::published::unit_needing_draw(&app, CAMPAIGN, "school");
        let draw_id = common::published::publish(&app, CAMPAIGN, &unit, "73920145");
        let entries = common::published::entries(&app, &draw_id);
        let rec = common::published::record(&app, &draw_id);
        let admitted = rec["result"]["assignments"][&unit].as_array().unwrap()[0].as_str().unwrap().to_string();
        let next = rec["result"]["waitlists"][&unit].as_array().unwrap()[0].as_str().unwrap().to_string();
        let before = rows(&app).await.len();
        assert_eq!(before, rows_of_event(&app, "draw_result").await.len(), "publication queued the results only");

        // The first admitted family declines.
        let (decliner, s) = (entries[&admitted].clone(), app.state.settings.clone());
        let moved = app
            .state
            .db
            .write_blocking(move |c| ruxue::service::offers::respond_in(c, &s, "guardian:t", &decliner, false, ruxue::db::now()))
            .unwrap();
        assert_eq!(moved.moves[0].offered_registration_no.as_deref(), Some(next.as_str()));
        let wl = rows_of_event(&app, "waitlist_offer").await;
        assert_eq!(wl.len(), 1, "{wl:?}");
        let (to, subject, body, key, _) = &wl[0];
        assert_eq!(to, &entries[&next]);
        assert_eq!(subject, &format!("【安溪县教育局】候补录取通知（报名号 {next}）"));
        let school_name: String = {
            let u = unit.clone();
            app.state.db.run(move |c| Ok(schema::schools::table.find(u).select(schema::schools::name).first(c)?)).await.unwrap()
        };
        assert!(body.contains(&format!("录取学校：{school_name}")) && body.contains("确认截止时间：") && body.contains("候补名单"), "{body}");
        assert_eq!(key, &format!("waitlist-offer.{}.wechat", moved.moves[0].offer_id.as_deref().unwrap()));
        assert!(!ruxue::notify::contains_id_number(body));
        assert_eq!(rows(&app).await.len(), before + 1, "the decliner is not told again; one message for the move");

        // An administrative placement (four eyes off) tells the family at once.
        diesel_set_four_eyes(&app, false);
        let t = token(&app, OPERATOR.0, OPERATOR.1).await;
        let v: Value = client().get(app.url(&format!("/api/v1/staff/placements?campaign={CAMPAIGN}"))).bearer_auth(&t).send().await.unwrap().json().await.unwrap();
        let u = &v["unplaced"][0];
        let (child, school) = (u["application_id"].as_str().unwrap().to_string(), u["proposals"][0]["school_id"].as_str().unwrap().to_string());
        let r = client()
            .post(app.url("/api/v1/staff/placements"))
            .bearer_auth(&t)
            .json(&json!({"application_id": child, "school_id": school, "reason": "对口学校学位已满，就近统筹安置"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let p: Value = r.json().await.unwrap();
        let pl = rows_of_event(&app, "placement").await;
        assert_eq!(pl.len(), 1, "{pl:?}");
        let no = u["registration_no"].as_str().unwrap();
        assert_eq!(pl[0].0, child);
        assert_eq!(pl[0].1, format!("【安溪县教育局】统筹安排入学通知（报名号 {no}）"));
        let placed_name = u["proposals"][0]["name"].as_str().unwrap();
        assert!(pl[0].2.contains(&format!("安排学校：{placed_name}")) && pl[0].2.contains("确认截止时间："), "{}", pl[0].2);
        assert!(!pl[0].2.contains("就近统筹安置"), "the staff's reason stays internal");
        assert_eq!(pl[0].3, format!("placement.{}.wechat", p["offer_id"].as_str().unwrap()));

        // Schools that admit everyone: their families' result, once.
        let s = app.state.settings.clone();
        let out = app.state.db.write_blocking(move |c| ruxue::service::offers::offer_admit_all_in(c, &s, "staff:t", CAMPAIGN, ruxue::db::now())).unwrap();
        assert!(out.offers > 0);
        let adm = rows_of_event(&app, "admitted").await;
        assert_eq!(adm.len(), out.offers);
        assert!(adm.iter().all(|r| r.1.contains("录取结果通知") && r.2.contains("无需电脑派位") && r.2.contains("录取学校：")), "{adm:?}");

        // Delivered with the configured templates.
        let sent = deliver_all(&app).await;
        assert_eq!(sent, rows(&app).await.len());
        let next_openid: String = {
            let a = entries[&next].clone();
            app.state.db.run(move |c| Ok(ruxue::db::notify::guardian_of_application(c, &a)?.unwrap().openid)).await.unwrap()
        };
        let posts = wx.posts_to(&next_openid);
        assert!(posts.iter().any(|p| p["template_id"] == "tpl-waitlist_offer" && p["data"]["first"]["value"] == "候补录取通知"), "{posts:?}");
    }
}

fn diesel_set_four_eyes(app: &TestApp, on: bool) {
    app.state
        .db
        .write_blocking(move |c| {
            diesel::update(schema::campaigns::table.filter(schema::campaigns::id.eq(CAMPAIGN)))
                .set(schema::campaigns::four_eyes.eq(on))
                .execute(c)?;
            Ok(())
        })
        .unwrap();
}
