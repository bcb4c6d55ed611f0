//! Issue 15, item 5: every public and parent page passes axe-core (no
//! `serious` or `critical` violation, WCAG 2.1 A/AA rules and best
//! practices) in headless Chromium at 375 px, in standard and large text,
//! with a screenshot of each page; on both backends.
//!
//! axe-core comes from npm (`.ci/run` installs it into `target/npm` when
//! missing; `AXE_CORE_JS` points elsewhere). It is injected through
//! WebDriver's execute-script, which a page's Content-Security-Policy does
//! not restrict: `/verify/` sends a strict `script-src 'self'` and is checked
//! like the others.

mod common;

use common::browser::Browser;
use common::parents::{child, id_number, png};
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const CAMPAIGN: &str = "2027-G1";

fn axe_source() -> String {
    let path = std::env::var("AXE_CORE_JS")
        .unwrap_or_else(|_| format!("{}/target/npm/node_modules/axe-core/axe.min.js", env!("CARGO_MANIFEST_DIR")));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("axe-core not found at {path} ({e}): npm install --prefix target/npm axe-core@4 (what .ci/run does)"))
}

/// Runs axe on the current page; the serious and critical violations, one line each.
async fn axe(b: &Browser, axe_js: &str) -> Vec<String> {
    let kind = b.client.execute(&format!("{axe_js}\n;return typeof window.axe;"), vec![]).await.expect("inject axe-core");
    assert_eq!(kind, "object", "axe-core did not load");
    let found = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})
               .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' — ' + v.nodes.slice(0, 5).map(n => n.target.join(' ')).join(', '))))
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .expect("run axe-core");
    serde_json::from_value(found).unwrap_or_default()
}

/// Buttons, fields and button-like links smaller than 44 × 44 px (the
/// age-friendly guidelines' target size), as `tag "text" W×H`. A checkbox or
/// radio button counts by its label (which takes the click too). Links inside
/// running text and table cells are exempt, as in WCAG 2.5.8.
async fn small_targets(b: &Browser) -> Vec<String> {
    let found = b
        .client
        .execute(
            "return [...document.querySelectorAll('button, select, input:not([type=hidden]), a.btn, a.big, header a, nav a')]
               .map(e => (e.type === 'checkbox' || e.type === 'radio') ? (e.closest('label') || (e.id && document.querySelector('label[for=\"' + e.id + '\"]')) || e) : e)
               .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && (r.height < 44 || r.width < 44); })
               .map(e => { const r = e.getBoundingClientRect(); return e.tagName.toLowerCase() + ' \"' + (e.textContent || e.name || '').trim().slice(0, 20) + '\" ' + Math.round(r.width) + '×' + Math.round(r.height); })",
            vec![],
        )
        .await
        .expect("measure targets");
    serde_json::from_value(found).unwrap_or_default()
}

/// A guardian logged in through the browser's dev login, driven over the
/// same cookie through the API.
struct Api {
    c: reqwest::Client,
    cookie: String,
    csrf: String,
}

impl Api {
    async fn send(&self, rb: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let r = rb.header("Cookie", &self.cookie).header("X-CSRF-Token", &self.csrf).send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
}

backend_test! {
    #[tokio::test]
    async fn every_public_and_parent_page_passes_axe(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let (db, settings) = (app.state.db.clone(), app.state.settings.clone());
        tokio::task::spawn_blocking(move || ruxue::service::campaign::open_registration(&db, &settings, CAMPAIGN, 14, true, "test"))
            .await
            .unwrap()
            .expect("campaign opens");
        let axe_js = axe_source();
        let mut b = Browser::start(&format!("a11y_{}", backend.name()), 375, 667).await;
        let mut problems: Vec<String> = Vec::new();

        // The harness finds what it should: a page without lang, with an image
        // without alt and pale text fails.
        b.client.goto("data:text/html;charset=utf-8,<html><body><img src='x.png'><p style='color:%23bbb'>浅色文字</p></body></html>").await.unwrap();
        let bad = axe(&b, &axe_js).await;
        for rule in ["image-alt", "html-has-lang", "color-contrast"] {
            assert!(bad.iter().any(|v| v.contains(rule)), "axe should report {rule}: {bad:?}");
        }

        let public = [
            "/",
            "/lookup",
            "/lookup?grade=1&address=%E5%87%A4%E5%9F%8E%E9%95%87%E4%BA%8C%E7%8E%AF%E8%B7%AF123%E5%8F%B7",
            "/campaigns/2027-G1/notice",
            "/campaigns/2027-G7/notice",
            "/campaigns/2027-G1/catchment",
            "/campaigns/2027-G7/catchment",
            "/verify/",
            "/api/docs",
            "/campaigns/nope/notice",
            "/parent",
            "/parent/dev-login",
        ];
        for path in public {
            b.client.goto(&app.url(path)).await.unwrap();
            b.shot(&path.replace(['/', '?', '&', '=', '%'], "_")).await;
            problems.extend(axe(&b, &axe_js).await.into_iter().map(|v| format!("{path}: {v}")));
            problems.extend(small_targets(&b).await.into_iter().map(|v| format!("{path}: target under 44 px: {v}")));
        }

        // Log in as a parent (the dev login in the browser), then prepare one
        // submitted application and one draft over the API with the same cookie.
        b.client.goto(&app.url("/parent/dev-login")).await.unwrap();
        b.find_css("#openid").await.send_keys("a11y-parent").await.unwrap();
        b.find_css("button[type=submit]").await.click().await.unwrap();
        b.find_css("a[href='/parent/profile']").await;
        let session = b.client.get_named_cookie(ruxue::web::parent::auth::SESSION_COOKIE).await.expect("session cookie");
        let cookie = format!("{}={}", session.name(), session.value());
        let c = reqwest::Client::new();
        let r = c.get(app.url("/api/v1/registration/session")).header("Cookie", &cookie).send().await.unwrap();
        let s: Value = r.json().await.unwrap();
        let api = Api { c, cookie, csrf: s["csrf_token"].as_str().unwrap().to_string() };
        let (st, body) = api
            .send(api.c.put(app.url("/api/v1/registration/guardian")).json(&json!({"name": "林美玲", "relation": "母亲", "mobile": "13805951234"})))
            .await;
        assert_eq!(st, StatusCode::OK, "{body}");
        // One registration submitted, then a second child's draft left open
        // (a guardian has one open draft per campaign at a time).
        let mut drafts = Vec::new();
        let mut application = String::new();
        for (name, birth) in [("林一", "20210315"), ("林二", "20201120")] {
            let (st, d) = api.send(api.c.post(app.url(&format!("/api/v1/registration/campaigns/{CAMPAIGN}/drafts")))).await;
            assert_eq!(st, StatusCode::CREATED, "{d}");
            let draft = d["draft_id"].as_str().unwrap().to_string();
            let (st, body) =
                api.send(api.c.put(app.url(&format!("/api/v1/registration/drafts/{draft}/child"))).json(&child(name, &id_number("110101", birth, "123")))).await;
            assert_eq!(st, StatusCode::OK, "{body}");
            let form = reqwest::multipart::Form::new()
                .text("kind", "hukou")
                .part("file", reqwest::multipart::Part::bytes(png(8)).file_name("h.png").mime_str("image/png").unwrap());
            let (st, body) = api.send(api.c.post(app.url(&format!("/api/v1/registration/drafts/{draft}/documents"))).multipart(form)).await;
            assert_eq!(st, StatusCode::CREATED, "{body}");
            if application.is_empty() {
                let (st, done) = api.send(api.c.post(app.url(&format!("/api/v1/registration/drafts/{draft}/submit")))).await;
                assert_eq!(st, StatusCode::CREATED, "{done}");
                application = done["application_id"].as_str().unwrap().to_string();
            }
            drafts.push(draft);
        }
        assert_ne!(drafts[0], drafts[1]);
        let draft = &drafts[1];

        let parent = [
            "/parent".to_string(),
            "/parent/profile".into(),
            format!("/parent/campaigns/{CAMPAIGN}"),
            format!("/parent/drafts/{draft}/child"),
            format!("/parent/drafts/{draft}/documents"),
            format!("/parent/drafts/{draft}/review"),
            format!("/parent/applications/{application}"),
            "/parent/applications/nope".into(),
        ];
        for path in &parent {
            b.client.goto(&app.url(path)).await.unwrap();
            let text = b.body_text().await;
            assert!(!text.is_empty(), "{path} renders");
            if path.contains("/drafts/") {
                assert!(!text.contains("已经提交"), "{path} is an open draft: {text}");
            }
            b.shot(&path.replace('/', "_")).await;
            problems.extend(axe(&b, &axe_js).await.into_iter().map(|v| format!("{path}: {v}")));
            problems.extend(small_targets(&b).await.into_iter().map(|v| format!("{path}: target under 44 px: {v}")));
        }

        // Large text (the cookie set by the header link) on a few pages.
        b.client.goto(&app.url("/")).await.unwrap();
        b.find_css("header a.textsize").await.click().await.unwrap();
        b.find_css("html.large").await;
        for path in ["/", "/campaigns/2027-G1/notice", &format!("/parent/drafts/{draft}/child"), &format!("/parent/applications/{application}")] {
            b.client.goto(&app.url(path)).await.unwrap();
            b.find_css("html.large").await;
            b.shot(&format!("large{}", path.replace('/', "_"))).await;
            problems.extend(axe(&b, &axe_js).await.into_iter().map(|v| format!("{path} (大字版): {v}")));
        }
        b.close().await;
        assert!(problems.is_empty(), "axe-core serious/critical violations:\n{}", problems.join("\n"));
    }
}

backend_test! {
    /// After the draw (issues #11 and #12): the draws list, a published
    /// draw's page, the hall's live screen, the verification page, 录取查询
    /// and its answer, a school's waitlist movements, and the parent's
    /// status page with the published result; no serious or critical
    /// violation, in standard and large text.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn draw_and_result_pages_pass_axe(backend) {
        use common::published;
        let app = spawn_app_with(backend, true, &[]).await;
        let (draw_id, school, no, app_id) = published::demo_draw_with_admitted(&app, CAMPAIGN);
        let id = published::id_number(&app, &app_id);
        let tail = id[id.len() - 6..].to_string();
        // One declined offer, so the waitlist page has a movement to show.
        let rec = published::record(&app, &draw_id);
        let second = rec["result"]["assignments"][&school][1].as_str().map(str::to_string);
        if let Some(second) = second {
            let other = published::entries(&app, &draw_id)[&second].clone();
            let (c, csrf) = published::guardian_client(&app, &other).await;
            let r = c
                .post(app.url(&format!("/api/v1/registration/applications/{other}/offer")))
                .header("X-CSRF-Token", csrf)
                .json(&json!({"answer": "decline"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
        }
        let axe_js = axe_source();
        let mut b = Browser::start(&format!("a11y_after_{}", backend.name()), 375, 667).await;
        let mut problems: Vec<String> = Vec::new();
        let pages = [
            "/draws".to_string(),
            format!("/draws/{draw_id}"),
            format!("/draws/{draw_id}/live"),
            format!("/verify/?draw={draw_id}"),
            "/results".into(),
            format!("/results/{CAMPAIGN}/schools/{school}"),
        ];
        for large in [false, true] {
            if large {
                b.client.goto(&app.url("/")).await.unwrap();
                b.find_css("header a.textsize").await.click().await.unwrap();
                b.find_css("html.large").await;
            }
            let mode = if large { " (大字版)" } else { "" };
            for path in &pages {
                b.client.goto(&app.url(path)).await.unwrap();
                let text = b.body_text().await;
                assert!(!text.is_empty(), "{path} renders");
                if path.ends_with("/live") {
                    // The hall's screen fills in from the record.
                    b.find_css("body").await;
                }
                b.shot(&format!("{}{}", if large { "large" } else { "" }, path.replace(['/', '?', '=', '&'], "_"))).await;
                problems.extend(axe(&b, &axe_js).await.into_iter().map(|v| format!("{path}{mode}: {v}")));
                problems.extend(small_targets(&b).await.into_iter().map(|v| format!("{path}{mode}: target under 44 px: {v}")));
            }
            // 录取查询 and its answer, typed in like a parent does.
            b.client.goto(&app.url("/results")).await.unwrap();
            b.find_css("#registration_no").await.send_keys(&no).await.unwrap();
            b.find_css("#id_tail").await.send_keys(&tail).await.unwrap();
            b.find_css("form[action='/results'] button[type=submit]").await.click().await.unwrap();
            let outcome = b.find_css("#answer #outcome").await.text().await.unwrap();
            assert!(outcome.contains("已录取"), "{outcome}");
            b.shot(&format!("{}results-answer", if large { "large-" } else { "" })).await;
            problems.extend(axe(&b, &axe_js).await.into_iter().map(|v| format!("POST /results{mode}: {v}")));
            problems.extend(small_targets(&b).await.into_iter().map(|v| format!("POST /results{mode}: target under 44 px: {v}")));
            // A wrong pair: the error message.
            b.client.goto(&app.url("/results")).await.unwrap();
            b.find_css("#registration_no").await.send_keys(&no).await.unwrap();
            b.find_css("#id_tail").await.send_keys(if tail == "000000" { "111111" } else { "000000" }).await.unwrap();
            b.find_css("form[action='/results'] button[type=submit]").await.click().await.unwrap();
            b.find_css("#error").await;
            problems.extend(axe(&b, &axe_js).await.into_iter().map(|v| format!("POST /results (no match){mode}: {v}")));
        }

        // The parent's status page with the published result (the large-text cookie is the browser's).
        published::guardian_browser(&app, &b, &app_id).await;
        let path = format!("/parent/applications/{app_id}");
        for large in [true, false] {
            if !large {
                b.client.goto(&app.url("/")).await.unwrap();
                b.find_css("header a.textsize").await.click().await.unwrap();
            }
            b.client.goto(&app.url(&path)).await.unwrap();
            let text = b.find_css("#result").await.text().await.unwrap();
            assert!(text.contains("录取结果") && text.contains("中排第"), "{text}");
            b.shot(if large { "large-parent-result" } else { "parent-result" }).await;
            problems.extend(small_targets(&b).await.into_iter().map(|v| format!("{path}: target under 44 px: {v}")));
            problems.extend(axe(&b, &axe_js).await.into_iter().map(|v| format!("{path}{}: {v}", if large { " (大字版)" } else { "" })));
        }
        b.close().await;
        assert!(problems.is_empty(), "axe-core serious/critical violations:\n{}", problems.join("\n"));
    }
}
