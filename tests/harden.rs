// Issue 14, hostile input and overload: NUL bytes, a database that goes
// away, security headers, hostile uploads, slow senders, the duplicate-ID
// oracle and the shared rate limits. Every database test runs on both
// backends; the two that need a PostgreSQL of their own say so.

mod common;

use common::parent::*;
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const G1: &str = "2027-G1";

/// The demo county with 2027-G1 open for registration.
async fn open_app(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    let app = spawn_app_with(backend, true, extra).await;
    let (db, settings) = (app.state.db.clone(), app.state.settings.clone());
    tokio::task::spawn_blocking(move || ruxue::service::campaign::open_registration(&db, &settings, G1, 14, true, "test"))
        .await
        .unwrap()
        .expect("campaign opens");
    app
}

async fn error_of(r: reqwest::Response) -> (StatusCode, Value) {
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

backend_test! {
    /// NUL in a login name, a path segment, a query value, a form field, a
    /// cookie or a multipart field: 422 naming the field, never a 500, with
    /// or without login.
    #[tokio::test]
    async fn nul_bytes_are_refused_at_the_edge_with_the_field_named(backend) {
        let app = open_app(backend, &[]).await;
        let c = common::staff::client();

        let (s, b) = error_of(c.post(app.url("/api/v1/staff/login")).json(&json!({"username": "ad\u{0}min", "password": "x"})).send().await.unwrap()).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("username")), "{b}");
        assert_eq!(b["error"]["code"], "nul_character");
        assert!(b["error"]["message"].as_str().unwrap().contains("控制字符"), "{b}");

        let (s, b) = error_of(c.get(app.url("/api/v1/catchment/lookup?campaign=2027-G1&address=%E5%87%A4%00")).send().await.unwrap()).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("address")), "{b}");

        let p = dev_parent(&app, "nul-parent").await;
        for path in ["/api/v1/registration/drafts/ab%00cd", "/api/v1/registration/applications/%00", "/parent/applications/x%00"] {
            let r = p.c.get(app.url(path)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        }
        let (s, b) = p.put(&app, "/api/v1/registration/guardian", json!({"name": "林\u{0}美玲", "relation": "母亲", "mobile": "13805951234"})).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("name")), "{b}");
        let draft = p.new_draft(&app, G1).await;
        let (s, b) = p.put(&app, &format!("/api/v1/registration/drafts/{draft}/child"), child("林\u{0}", &id_number("350524", "20210315", "123"))).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("child_name")), "{b}");

        // Forms: the staff login page and the dev login; an HTML page comes back, still 422.
        let r = c.post(app.url("/staff/login")).form(&[("username", "ad\u{0}min"), ("password", "x"), ("csrf", "t")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("控制字符"));
        let r = c.post(app.url("/parent/dev-login")).form(&[("openid", "a\u{0}b")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // A cookie with a percent-encoded NUL.
        let r = reqwest::Client::new().get(app.url("/parent")).header("Cookie", "ruxue_session=ab%00cd").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // Multipart: a NUL in a text field's value and in a field's name.
        let form = reqwest::multipart::Form::new().text("kind", "hu\u{0}kou").part("file", reqwest::multipart::Part::bytes(real_png(4, 4)).file_name("a.png"));
        let r = p.c.post(app.url(&format!("/api/v1/registration/drafts/{draft}/documents"))).header("X-CSRF-Token", &p.csrf).multipart(form).send().await.unwrap();
        let (s, b) = error_of(r).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("kind")), "{b}");
        let form = reqwest::multipart::Form::new().text("ki\u{0}nd", "hukou").part("file", reqwest::multipart::Part::bytes(real_png(4, 4)).file_name("a.png"));
        let r = p.c.post(app.url(&format!("/api/v1/registration/drafts/{draft}/documents"))).header("X-CSRF-Token", &p.csrf).multipart(form).send().await.unwrap();
        // actix-multipart refuses a NUL in a part's header itself (400, the upload's field named);
        // a name it does parse is checked by the reader (422).
        assert!(r.status() == StatusCode::UNPROCESSABLE_ENTITY || r.status() == StatusCode::BAD_REQUEST, "{}", r.status());

        // Nothing was written by any of it, and the server still answers.
        let (s, g) = p.get(&app, "/api/v1/registration/guardian").await;
        assert_eq!((s, g["name"].as_str()), (StatusCode::OK, Some("林美玲")), "{g}");
    }

    /// Every response carries the security headers; the verifier keeps its
    /// own policy; HSTS only when configured.
    #[tokio::test]
    async fn every_response_carries_the_security_headers(backend) {
        let app = open_app(backend, &[]).await;
        let c = common::staff::client();
        for path in ["/", "/parent", "/staff/login", "/lookup", "/api/v1/keys", "/healthz", "/readyz", "/no-such-page", "/api/v1/registration/session", "/campaigns/2027-G1/catchment"] {
            let r = c.get(app.url(path)).send().await.unwrap();
            let h = r.headers();
            let csp = h.get("content-security-policy").unwrap_or_else(|| panic!("{path}: no CSP")).to_str().unwrap();
            for part in ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"] {
                assert!(csp.contains(part), "{path}: {csp}");
            }
            let script = csp.split(';').find(|d| d.trim().starts_with("script-src")).unwrap();
            assert!(!script.contains("unsafe"), "{path}: {script}");
            assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff", "{path}");
            assert!(h.get("referrer-policy").is_some(), "{path}");
            assert!(h.get("permissions-policy").unwrap().to_str().unwrap().contains("camera=()"), "{path}");
            assert!(h.get("strict-transport-security").is_none(), "{path}: HSTS is for production");
        }
        let r = c.get(app.url("/verify/")).send().await.unwrap();
        let csp = r.headers().get("content-security-policy").unwrap().to_str().unwrap();
        assert!(csp.contains("style-src 'self';") && csp.contains("form-action 'none'"), "the verifier's own policy: {csp}");

        let hsts = spawn_app_with(backend, false, &[("RUXUE__SECURITY__HSTS", "true")]).await;
        let r = c.get(hsts.url("/healthz")).send().await.unwrap();
        assert_eq!(r.headers().get("strict-transport-security").unwrap(), "max-age=31536000; includeSubDomains");
    }

    /// A 30000×30000 PNG, polyglots, SVG and unknown types are refused or
    /// neutralised; what is stored is re-encoded; reviewers get documents
    /// in a sandbox.
    #[tokio::test]
    async fn hostile_uploads_are_refused_or_neutralised(backend) {
        let app = open_app(backend, &[]).await;
        let p = dev_parent(&app, "uploader").await;
        let draft = p.new_draft(&app, G1).await;
        let (s, b) = p.put(&app, &format!("/api/v1/registration/drafts/{draft}/child"), child("林小文", &id_number("350524", "20210315", "135"))).await;
        assert_eq!(s, StatusCode::OK, "{b}");

        let bomb = png_bomb(30000, 30000);
        assert!(bomb.len() < 2 * 1024 * 1024, "{}", bomb.len());
        let started = Instant::now();
        let (s, b) = p.upload(&app, &draft, "hukou", "bomb.png", "image/png", bomb).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("file")), "{b}");
        assert!(b["error"]["message"].as_str().unwrap().contains("图片尺寸过大"), "{b}");
        assert!(started.elapsed() < Duration::from_secs(5), "refused from the header, not decoded");

        let mut pdf_html = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
        pdf_html.extend_from_slice(b"<html><body><script>alert(document.cookie)</script></body></html>\n%%EOF\n");
        let mut pdf_js = b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n%%EOF\n".to_vec();
        pdf_js.extend_from_slice(b"");
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec();
        let html = b"<!doctype html><script>alert(1)</script>".to_vec();
        for (name, bytes, code) in [("a.pdf", pdf_html, "含有网页或脚本"), ("b.pdf", pdf_js, "含有网页或脚本"), ("c.svg", svg, "仅支持"), ("d.png", html, "仅支持")] {
            let (s, b) = p.upload(&app, &draft, "hukou", name, "application/octet-stream", bytes).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {b}");
            assert!(b["error"]["message"].as_str().unwrap().contains(code), "{name}: {b}");
        }

        // A JPEG/HTML polyglot: a real picture with markup in a comment and after EOI.
        let jpeg = real_jpeg(24, 16);
        let mut poly = jpeg[..2].to_vec();
        let comment = b"<html><script>alert(1)</script></html>";
        poly.extend_from_slice(&[0xFF, 0xFE]);
        poly.extend_from_slice(&((comment.len() + 2) as u16).to_be_bytes());
        poly.extend_from_slice(comment);
        poly.extend_from_slice(&jpeg[2..]);
        poly.extend_from_slice(b"<html><script>alert(2)</script></html>");
        let (s, b) = p.upload(&app, &draft, "hukou", "../../../etc/passwd.jpg", "image/jpeg", poly).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (s, b) = p.upload(&app, &draft, "property_cert", "p.pdf", "application/pdf", b"%PDF-1.4\n%clean\n%%EOF\nTRAILING-GARBAGE".to_vec()).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let dir = app.state.settings.uploads.dir.clone();
        let stored: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(stored.len(), 2, "{stored:?}; nothing written outside the upload directory");
        for f in &stored {
            let bytes = std::fs::read(f).unwrap();
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            assert!(name.len() == 68 && name[..64].bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
            assert!(!bytes.windows(7).any(|w| w.eq_ignore_ascii_case(b"<script")), "{name}: markup survived");
            assert!(!bytes.windows(16).any(|w| w == b"TRAILING-GARBAGE"), "{name}: bytes after %%EOF are cut");
            if name.ends_with(".jpg") {
                let img = image::load_from_memory(&bytes).expect("a decodable JPEG");
                assert_eq!((img.width(), img.height()), (24, 16));
            }
        }
        let (s, b) = p.post(&app, &format!("/api/v1/registration/drafts/{draft}/submit"), None).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let app_id = b["application_id"].as_str().unwrap().to_string();

        // A reviewer of 凤城镇 sees the documents: the image inline, the PDF as a download, both sandboxed.
        let rev = common::staff::token(&app, "reviewer-fc", "ruxue-demo-reviewer").await;
        let detail: Value = common::staff::client()
            .get(app.url(&format!("/api/v1/staff/review/applications/{app_id}")))
            .bearer_auth(&rev)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let docs = detail["documents"].as_array().or_else(|| detail["application"]["documents"].as_array()).unwrap_or_else(|| panic!("{detail}"));
        assert_eq!(docs.len(), 2, "{detail}");
        for d in docs {
            let id = d["id"].as_str().unwrap();
            let r = common::staff::client().get(app.url(&format!("/api/v1/staff/documents/{id}"))).bearer_auth(&rev).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            let h = r.headers();
            let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
            assert!(csp.starts_with("sandbox"), "{csp}");
            assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
            let disp = h.get("content-disposition").unwrap().to_str().unwrap();
            let mime = h.get("content-type").unwrap().to_str().unwrap();
            if mime.starts_with("image/") {
                assert!(disp.starts_with("inline;"), "{disp}");
            } else {
                assert_eq!(mime, "application/pdf");
                assert!(disp.starts_with("attachment;"), "{disp}");
            }
            assert!(!disp.contains("..") && !disp.contains('/'), "{disp}");
        }
    }

    /// A sender that dribbles its body is cut off (408) within the body
    /// deadline, on JSON and on uploads; one that never finishes its
    /// headers is dropped too.
    #[tokio::test]
    async fn slow_senders_are_cut_off(backend) {
        let app = open_app(backend, &[("RUXUE__SERVER__BODY_READ_TIMEOUT_SECS", "2"), ("RUXUE__SERVER__CLIENT_REQUEST_TIMEOUT_MS", "1000")]).await;
        let p = dev_parent(&app, "slow").await;
        let draft = p.new_draft(&app, G1).await;
        let cases = [
            ("POST /api/v1/staff/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n".to_string(), b"{\"username\":".to_vec()),
            (
                format!(
                    "POST /api/v1/registration/drafts/{draft}/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
                     Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 2000000\r\n\r\n",
                    p.token
                ),
                b"--XyZ\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nhukou\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG".to_vec(),
            ),
        ];
        for (head, start) in cases {
            let mut s = tokio::net::TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
            s.write_all(head.as_bytes()).await.unwrap();
            s.write_all(&start).await.unwrap();
            let began = Instant::now();
            // One byte every 200 ms: far too slow for the body's size.
            let mut answer = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                tokio::select! {
                    n = s.read(&mut buf) => {
                        match n { Ok(0) | Err(_) => break, Ok(n) => { answer.extend_from_slice(&buf[..n]); if answer.windows(4).any(|w| w == b"\r\n\r\n") { break; } } }
                    }
                    _ = tokio::time::sleep(Duration::from_millis(200)) => { let _ = s.write_all(b"0").await; }
                }
                assert!(began.elapsed() < Duration::from_secs(10), "still connected after 10 s: {head}");
            }
            let text = String::from_utf8_lossy(&answer);
            assert!(text.starts_with("HTTP/1.1 408"), "{head}: {text}");
            assert!(began.elapsed() < Duration::from_secs(5), "{:?}", began.elapsed());
        }
        // Headers that never end: the connection is closed (408) after client_request_timeout.
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        let began = Instant::now();
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await.expect("the server closes the connection");
        assert!(began.elapsed() < Duration::from_secs(4), "{:?}", began.elapsed());
    }

    /// Entering another family's child's ID number says only that the child
    /// is registered, and a guardian who keeps hitting registered numbers is
    /// stopped with 429 and Retry-After.
    #[tokio::test]
    async fn the_duplicate_check_is_no_oracle(backend) {
        let app = open_app(backend, &[("RUXUE__RATELIMIT__DUPLICATE_HITS_PER_HOUR", "3")]).await;
        let a = dev_parent(&app, "family-a").await;
        let ids: Vec<String> = (0..4).map(|i| id_number("350524", "20210315", &format!("1{i}3"))).collect();
        for (i, id) in ids.iter().enumerate() {
            a.register(&app, G1, &format!("陈{}宝", ["一", "二", "三", "四"][i]), id).await;
        }
        let (_, list) = a.get(&app, "/api/v1/registration/applications").await;
        let numbers: Vec<String> = list["applications"].as_array().unwrap().iter().map(|x| x["registration_no"].as_str().unwrap().to_string()).collect();
        assert_eq!(numbers.len(), 4, "{list}");
        let b = dev_parent(&app, "family-b").await;
        let draft = b.new_draft(&app, G1).await;
        for (i, id) in ids.iter().enumerate().take(3) {
            let (s, v) = b.put(&app, &format!("/api/v1/registration/drafts/{draft}/child"), child("王小明", id)).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
            let text = v.to_string();
            assert!(text.contains("已在本批次报名"), "{text}");
            for n in &numbers {
                assert!(!text.contains(n.as_str()), "a registration number leaked: {text}");
            }
            for name in ["陈", "一宝", "二宝", "三宝"] {
                assert!(!text.contains(name), "a name leaked: {text}");
            }
            let _ = i;
        }
        let r = b.c.put(app.url(&format!("/api/v1/registration/drafts/{draft}/child"))).header("X-CSRF-Token", &b.csrf).json(&child("王小明", &ids[3])).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = r.headers().get("retry-after").expect("Retry-After").to_str().unwrap().parse().unwrap();
        assert!((1..=3600).contains(&retry), "{retry}");
        // Even a number nobody registered is not checked until the hour is over.
        let (s, _) = b.put(&app, &format!("/api/v1/registration/drafts/{draft}/child"), child("王小明", &id_number("350524", "20210315", "777"))).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
        // The family that registered them is not limited by its own children.
        let d2 = a.new_draft(&app, G1).await;
        for _ in 0..4 {
            let (s, v) = a.put(&app, &format!("/api/v1/registration/drafts/{d2}/child"), child("陈一宝", &ids[0])).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        }
    }

    /// Per guardian: writes are limited apart from reads, so status pages
    /// stay available while submissions are throttled; per address: public
    /// lookups. 429 answers carry Retry-After.
    #[tokio::test]
    async fn guardians_and_addresses_are_rate_limited(backend) {
        let app = open_app(backend, &[("RUXUE__RATELIMIT__GUARDIAN_WRITES_PER_MINUTE", "6"), ("RUXUE__SERVER__PUBLIC_RATE_PER_MINUTE", "5")]).await;
        let p = dev_parent(&app, "busy").await; // one write (the profile)
        let mut statuses = Vec::new();
        for _ in 0..7 {
            statuses.push(p.post(&app, &format!("/api/v1/registration/campaigns/{G1}/drafts"), None).await.0);
        }
        assert!(!statuses[..5].contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
        assert_eq!(statuses[6], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
        let r = p.c.post(app.url(&format!("/api/v1/registration/campaigns/{G1}/drafts"))).header("X-CSRF-Token", &p.csrf).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = r.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry));
        // Reads still answer.
        for _ in 0..10 {
            assert_eq!(p.get(&app, "/api/v1/registration/applications").await.0, StatusCode::OK);
        }
        // Another guardian is not affected.
        let q = dev_parent(&app, "calm").await;
        assert_eq!(q.post(&app, &format!("/api/v1/registration/campaigns/{G1}/drafts"), None).await.0, StatusCode::CREATED);

        let c = reqwest::Client::new();
        let mut codes = Vec::new();
        for _ in 0..7 {
            codes.push(c.get(app.url("/api/v1/catchment/lookup?campaign=2027-G1&address=x")).send().await.unwrap().status());
        }
        assert!(!codes[..5].contains(&StatusCode::TOO_MANY_REQUESTS), "{codes:?}");
        assert_eq!(codes[6], StatusCode::TOO_MANY_REQUESTS, "{codes:?}");
    }

    /// Behind a trusted reverse proxy the per-address limits count the
    /// client that the proxy names in X-Forwarded-For, so two families behind
    /// one proxy do not share a limit; a client that forges the header
    /// gains nothing, and without the setting the header is ignored.
    #[tokio::test]
    async fn limits_count_the_client_a_trusted_proxy_names(backend) {
        let lookup = "/api/v1/catchment/lookup?campaign=2027-G1&address=x";
        let c = reqwest::Client::new();
        let hits = |app: &TestApp, xff: &'static str| {
            let (c, url) = (c.clone(), app.url(lookup));
            async move {
                let mut codes = Vec::new();
                for _ in 0..4 {
                    codes.push(c.get(&url).header("X-Forwarded-For", xff).send().await.unwrap().status());
                }
                codes
            }
        };
        let limited = |codes: &[StatusCode]| codes.contains(&StatusCode::TOO_MANY_REQUESTS);

        let app = open_app(backend, &[("RUXUE__SERVER__PUBLIC_RATE_PER_MINUTE", "3"), ("RUXUE__SERVER__TRUSTED_PROXIES", "127.0.0.1, ::1")]).await;
        let a = hits(&app, "198.51.100.1").await;
        assert!(limited(&a) && !limited(&a[..3]), "{a:?}");
        // Another family behind the same proxy has its own count.
        let b = hits(&app, "198.51.100.2").await;
        assert!(!limited(&b[..3]), "{b:?}");
        // Forged entries to the left of what the proxy wrote change nothing.
        let forged = hits(&app, "10.0.0.9, 198.51.100.1").await;
        assert!(forged.iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS), "{forged:?}");

        // Nobody trusted: the header is the client's own word and is ignored.
        let direct = open_app(backend, &[("RUXUE__SERVER__PUBLIC_RATE_PER_MINUTE", "3")]).await;
        let _ = hits(&direct, "198.51.100.1").await;
        let other = hits(&direct, "198.51.100.2").await;
        assert!(other.iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS), "{other:?}");
    }
}

/// Starts a second instance over `first`'s database and sends eight public
/// lookups to the two in turn, under a limit of six a minute (`extra`):
/// only the last two are refused, though each instance alone saw four.
async fn eight_lookups_share_a_limit_of_six(first: &TestApp, extra: &[(&str, &str)]) {
    let second_port = first.another_instance(extra).await;
    let c = reqwest::Client::new();
    let mut codes = Vec::new();
    for i in 0..8 {
        let port = if i % 2 == 0 { first.port } else { second_port };
        let r = c.get(format!("http://127.0.0.1:{port}/api/v1/catchment/lookup?campaign=2027-G1&address=x")).send().await.unwrap();
        codes.push(r.status());
    }
    assert!(!codes[..6].contains(&StatusCode::TOO_MANY_REQUESTS), "{codes:?}");
    assert_eq!(&codes[6..], &[StatusCode::TOO_MANY_REQUESTS; 2], "each instance alone has seen only 3 or 4: {codes:?}");
}

/// Two `ruxue serve` on one PostgreSQL share one limit: requests spread over
/// both instances are counted together.
#[tokio::test]
async fn two_instances_on_one_postgres_share_the_limit() {
    if !should_run(Backend::Postgres, "two_instances_on_one_postgres_share_the_limit") {
        return;
    }
    let extra = [("RUXUE__SERVER__PUBLIC_RATE_PER_MINUTE", "6")];
    let first = spawn_app_with(Backend::Postgres, true, &extra).await;
    assert!(first.state.rate_limiter.shared(), "PostgreSQL keeps the counters in the database");
    eight_lookups_share_a_limit_of_six(&first, &extra).await;
}

/// With `redis.url`, instances count in Redis: two on one database share a
/// limit with no database write per request, and a Redis that cannot be
/// reached lets requests through instead of failing them.
#[tokio::test]
async fn with_redis_two_instances_share_the_limit_and_an_outage_fails_open() {
    if !should_run(Backend::Sqlite, "with_redis_two_instances_share_the_limit_and_an_outage_fails_open") {
        return;
    }
    let prefix = format!("ruxue-test-{}", std::process::id());
    let extra = [
        ("RUXUE__SERVER__PUBLIC_RATE_PER_MINUTE", "6"),
        ("RUXUE__REDIS__URL", "redis://127.0.0.1:6379/0"),
        ("RUXUE__REDIS__PREFIX", prefix.as_str()),
    ];
    let first = spawn_app_with(Backend::Sqlite, true, &extra).await;
    assert_eq!(first.state.rate_limiter.store_name(), "redis");
    eight_lookups_share_a_limit_of_six(&first, &extra).await;
    // The counters are in Redis, under the prefix, expiring with their window.
    let mut r = redis::Client::open("redis://127.0.0.1:6379/0").unwrap().get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}:rl:*")).query_async(&mut r).await.unwrap();
    assert!(!keys.is_empty());
    for k in &keys {
        assert!(!k.contains("127.0.0.1"), "buckets are digests: {k}");
        let ttl: i64 = redis::cmd("TTL").arg(k).query_async(&mut r).await.unwrap();
        assert!((1..=65).contains(&ttl), "{k}: {ttl}");
    }
    let _: () = redis::cmd("DEL").arg(&keys).query_async(&mut r).await.unwrap();

    // Redis down (nothing listens there): every request is answered.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("redis://127.0.0.1:{closed}/0");
    let down =
        spawn_app_with(Backend::Sqlite, true, &[("RUXUE__SERVER__PUBLIC_RATE_PER_MINUTE", "100"), ("RUXUE__REDIS__URL", url.as_str())])
            .await;
    let c = reqwest::Client::new();
    for _ in 0..3 {
        let r = c.get(down.url("/api/v1/catchment/lookup?campaign=2027-G1&address=x")).send().await.unwrap();
        assert!(r.status().is_success() || r.status() == StatusCode::UNPROCESSABLE_ENTITY, "{}", r.status());
    }
}

/// A TCP proxy in front of the shared PostgreSQL that the test can cut:
/// closing it refuses new connections and drops every open one, as a
/// stopped server would.
struct Proxy {
    port: u16,
    tasks: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let tasks: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>> = Default::default();
        let t = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let up = upstream.clone();
                let h = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(up).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                t.lock().unwrap().push(h);
            }
        });
        Proxy { port, tasks, accept }
    }
    fn close(&self) {
        self.accept.abort();
        for h in self.tasks.lock().unwrap().drain(..) {
            h.abort();
        }
    }
}

/// PostgreSQL gone: `/readyz` answers 503 within a second, and a request
/// that needs the database 503 within `database.acquire_timeout_ms`, not
/// after r2d2's ten seconds. (SQLite is a file; it cannot go away like this.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_postgres_is_reported_at_once() {
    if !should_run(Backend::Postgres, "a_vanished_postgres_is_reported_at_once") {
        return;
    }
    let db = TestDb::new(Backend::Postgres);
    let hostport = db.url.split('@').nth(1).unwrap().split('/').next().unwrap().to_string();
    let proxy = Proxy::start(hostport.clone()).await;
    let url = db.url.replacen(&hostport, &format!("127.0.0.1:{}", proxy.port), 1);
    let settings = settings_for(&db, &[("RUXUE__DATABASE__URL", url.as_str()), ("RUXUE__DATABASE__ACQUIRE_TIMEOUT_MS", "1000")]);
    let (running, _) = tokio::task::spawn_blocking(move || ruxue::startup::build(settings, true)).await.unwrap().expect("server builds");
    let port = running.port;
    tokio::spawn(running.server);
    let c = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(c.get(format!("{base}/readyz")).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(c.get(format!("{base}/")).send().await.unwrap().status(), StatusCode::OK);

    proxy.close();
    for _ in 0..3 {
        let t = Instant::now();
        let r = c.get(format!("{base}/readyz")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(t.elapsed() < Duration::from_secs(1), "readyz took {:?}", t.elapsed());
    }
    for path in ["/", "/api/v1/catchment/lookup?campaign=2027-G1&address=x"] {
        let t = Instant::now();
        let r = c.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert!(t.elapsed() < Duration::from_secs(3), "{path} took {:?}", t.elapsed());
    }
    let t = Instant::now();
    let r = c.post(format!("{base}/api/v1/staff/login")).json(&json!({"username": "admin", "password": "x"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(t.elapsed() < Duration::from_secs(3), "login took {:?}", t.elapsed());
}
