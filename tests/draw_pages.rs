//! Issue 11 items 4–7: the draw day's pages. Over plain HTTP on both
//! backends: the public list and draw page, the portal's 派位 section, the
//! witness's phone page (double-submit CSRF, commit then reveal, refusals
//! in Chinese), the operator's console forms (freeze, witness with its
//! one-time link and QR code, console value, announce refusal, beacon,
//! run, publish), the hall's screen and its server-sent events (content
//! type, first event, an event when a value is revealed), and that no
//! child's full name appears on any public page. In headless Chromium
//! (SQLite): screenshots of every page under `target/screenshots/`, a
//! live update of the hall's screen without reload, and the verification
//! page opening the published draw (`/verify/?draw=`) and showing the match.

mod common;

use common::browser::Browser;
use common::draws::*;
use common::staff::{page_login, set_cookie_value, token};
use common::*;
use serde_json::{json, Value};
use std::time::Duration;

const OPERATOR: (&str, &str) = ("operator", "ruxue-demo-operator");

/// A frozen draw of 2027-G1's first over-subscribed school; its id.
async fn frozen_draw(app: &TestApp, op: &str) -> String {
    close_review(app, "2027-G1").await;
    let (unit, _) = school_to_draw(app, op, "2027-G1").await;
    let (s, d) = call(app, "POST", "/api/v1/staff/draws", op, Some(json!({"campaign": "2027-G1", "unit": unit}))).await;
    assert_eq!(s, 201, "{d}");
    d["id"].as_str().unwrap().to_string()
}

/// Adds a witness through the API; its one-time token.
async fn witness_token(app: &TestApp, op: &str, id: &str, name: &str) -> String {
    let (s, n) = call(app, "POST", &format!("/api/v1/staff/draws/{id}/witnesses"), op, Some(json!({"name": name, "role": "notary"}))).await;
    assert_eq!(s, 201, "{n}");
    n["token"].as_str().unwrap().to_string()
}

/// The witness's phone: GET the page (sets the CSRF cookie), POST the value.
async fn witness_post(c: &reqwest::Client, app: &TestApp, token: &str, value: &str) -> (u16, String) {
    let r = c.get(app.url(&format!("/witness/{token}"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csrf = set_cookie_value(&r, "ruxue_wcsrf").expect("the witness form's CSRF cookie");
    let r = c.post(app.url(&format!("/witness/{token}"))).form(&[("value", value), ("csrf", csrf.as_str())]).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn page(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = c.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn form(c: &reqwest::Client, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
    let r = c.post(app.url(path)).form(fields).send().await.unwrap();
    let loc = r.headers().get("location").and_then(|h| h.to_str().ok()).unwrap_or_default().to_string();
    (r.status().as_u16(), loc, r.text().await.unwrap())
}

/// The full names of the draw's children (as stored), to check they never
/// appear on a public page.
async fn full_names(app: &TestApp, id: &str) -> Vec<String> {
    let id = id.to_string();
    let rows = app.state.db.run(move |c| ruxue::db::draw::public_roster(c, &id)).await.unwrap();
    rows.into_iter().map(|(_, _, name)| name).filter(|n| n.chars().count() >= 2).collect()
}

/// Reads the event stream until an event `state` other than `last` arrives.
async fn next_state(r: &mut reqwest::Response, last: &str, within: Duration) -> Option<String> {
    let deadline = tokio::time::Instant::now() + within;
    let mut buf = String::new();
    loop {
        let chunk = tokio::time::timeout_at(deadline, r.chunk()).await.ok()?.ok()??;
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let ev: String = buf[..end].to_string();
            buf.drain(..end + 2);
            if ev.contains("event: state") {
                let data = ev.lines().find_map(|l| l.strip_prefix("data: "))?;
                let key = serde_json::from_str::<Value>(data).ok()?["key"].as_str()?.to_string();
                if key != last {
                    return Some(key);
                }
            }
        }
    }
}

backend_test! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_draw_days_pages_over_http(backend) {
        let (relay_url, _) = relay().await;
        let app = spawn_app_with(backend, true, &[("RUXUE__DRAW__RELAYS", relay_url.as_str()), ("RUXUE__DRAW__RELAY_TIMEOUT_MS", "2000")]).await;
        let op = token(&app, "operator", "ruxue-demo-operator").await;
        let (oc, csrf) = page_login(&app, OPERATOR).await;
        let (ac, _) = page_login(&app, ("auditor", "ruxue-demo-auditor")).await;
        let anon_c = common::staff::client();

        // The console's plan: a 锁定名单 button, refused while review is open.
        let (s, body) = page(&oc, &app, "/staff/draws?campaign=2027-G1").await;
        assert_eq!(s, 200, "{body}");
        assert!(body.contains("电脑派位") && body.contains("审核尚未结束"), "{body}");
        let (s, _, body) = form(&oc, &app, "/staff/draws", &[("csrf", &csrf), ("campaign", "2027-G1"), ("unit", "P01")]).await;
        assert_eq!(s, 409, "{body}");
        assert!(body.contains("class=\"err\""), "the refusal is shown on the page: {body}");
        // Without the CSRF token nothing happens.
        let (s, _, _) = form(&oc, &app, "/staff/draws", &[("campaign", "2027-G1"), ("unit", "P01")]).await;
        assert_eq!(s, 403);

        close_review(&app, "2027-G1").await;
        let (unit, _) = school_to_draw(&app, &op, "2027-G1").await;
        let (s, body) = page(&oc, &app, "/staff/draws?campaign=2027-G1").await;
        assert_eq!(s, 200);
        assert!(body.contains("锁定名单"), "{body}");
        let (s, loc, body) = form(&oc, &app, "/staff/draws", &[("csrf", &csrf), ("campaign", "2027-G1"), ("unit", &unit)]).await;
        assert_eq!(s, 303, "{body}");
        let id = loc.trim_start_matches("/staff/draws/").to_string();
        assert!(!id.is_empty() && !id.contains('?'), "{loc}");
        let console = format!("/staff/draws/{id}");

        // Public pages before the announcement.
        let (s, body) = page(&anon_c, &app, "/draws").await;
        assert_eq!(s, 200);
        assert!(body.contains(&format!("/draws/{id}")) && body.contains("名单已锁定"), "{body}");
        let (s, body) = page(&anon_c, &app, "/").await;
        assert_eq!(s, 200);
        assert!(body.contains("href=\"/draws\"") && body.contains(&format!("/draws/{id}")), "portal links the draws: {body}");
        let (s, body) = page(&anon_c, &app, &format!("/draws/{id}")).await;
        assert_eq!(s, 200);
        assert!(body.contains("参加派位名单") && body.contains("尚未公告"), "{body}");
        assert_eq!(page(&anon_c, &app, "/draws/NOPE").await.0, 404);
        assert_eq!(page(&anon_c, &app, "/draws/NOPE/live").await.0, 404);
        assert_eq!(page(&anon_c, &app, "/draws/NOPE/events").await.0, 404);
        assert_eq!(page(&anon_c, &app, "/witness/not-a-token").await.0, 404);

        // A notary on their phone: commits.
        let t1 = witness_token(&app, &op, &id, "王公证").await;
        let wc = common::staff::client();
        let (s, body) = page(&wc, &app, &format!("/witness/{t1}")).await;
        assert_eq!(s, 200);
        assert!(body.contains("王公证") && body.contains("请输入您选定的随机数（只保存其承诺值）") && body.contains("type=\"password\""), "{body}");
        // The form without its cookie's token is refused.
        let r = common::staff::client().post(app.url(&format!("/witness/{t1}"))).form(&[("value", "1"), ("csrf", "forged")]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let (s, body) = witness_post(&wc, &app, &t1, "公证员的数 731").await;
        assert_eq!(s, 200, "{body}");
        assert!(body.contains("已提交承诺值"), "{body}");
        let (_, body) = page(&wc, &app, &format!("/witness/{t1}")).await;
        assert!(body.contains("等待派位公告"), "{body}");

        // A parent at the console: added through the page, link and QR code shown once.
        let (s, _, body) = form(&oc, &app, &format!("{console}/witnesses"), &[("csrf", &csrf), ("name", "李家长"), ("role", "parent_rep")]).await;
        assert_eq!(s, 201, "{body}");
        assert!(body.contains("一次性见证链接") && body.contains("witness&#x2f;") && body.contains("<svg"), "link and QR code: {body}");
        assert!(!body.contains("<?xml"));
        let (_, again) = page(&oc, &app, &console).await;
        assert!(!again.contains("一次性见证链接"), "the link is shown only once");
        let (_, d) = call(&app, "GET", &format!("/api/v1/staff/draws/{id}"), &op, None).await;
        let w2 = d["witnesses"].as_array().unwrap().iter().find(|w| w["name"] == "李家长").unwrap()["id"].as_str().unwrap().to_string();
        let (s, loc, _) = form(&oc, &app, &format!("{console}/witnesses/{w2}/value"), &[("csrf", &csrf), ("value", "20270720")]).await;
        assert_eq!((s, loc.as_str()), (303, format!("{console}?done=committed").as_str()));
        let (s, body) = page(&oc, &app, &format!("{console}?done=committed")).await;
        assert_eq!(s, 200);
        assert!(body.contains("承诺值已保存") && !body.contains("20270720") && !body.contains("公证员的数"), "no value before the reveal: {body}");
        // An announcement in the past is refused on the page.
        let (s, _, body) = form(&oc, &app, &format!("{console}/announce"), &[("csrf", &csrf), ("scheduled_at", "2020-01-01 09:00")]).await;
        assert_eq!(s, 422, "{body}");
        assert!(body.contains("class=\"err\""), "{body}");
        // The auditor reads the console but has no forms, and cannot act.
        let (s, body) = page(&ac, &app, &console).await;
        assert_eq!(s, 200);
        assert!(!body.contains("添加见证人") && !body.contains("提交承诺"), "{body}");

        announce_for_657413(&app, &id).await;

        // The hall's event stream: the content type and the first event.
        let mut sse = anon_c.get(app.url(&format!("/draws/{id}/events"))).send().await.unwrap();
        assert_eq!(sse.status(), 200);
        assert!(sse.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        let first = next_state(&mut sse, "", Duration::from_secs(5)).await.expect("a first event");
        let (s, live) = page(&anon_c, &app, &format!("/draws/{id}/live")).await;
        assert_eq!(s, 200);
        assert!(live.contains("<noscript><meta http-equiv=\"refresh\" content=\"10\"></noscript>") && live.contains("/draw-assets/live.js"));
        assert!(live.contains(&format!("data-key=\"{first}\"")), "the page and the stream agree on the state");
        assert!(live.contains("id=\"countdown\"") && live.contains("657413"), "{live}");
        assert!(!live.contains("<script>"), "no inline script");
        let (s, js) = page(&anon_c, &app, "/draw-assets/live.js").await;
        assert_eq!(s, 200);
        assert!(js.contains("EventSource"));

        // Running before the reveals is refused on the console (422).
        let (s, _, body) = form(&oc, &app, &format!("{console}/run"), &[("csrf", &csrf)]).await;
        assert_eq!(s, 422, "{body}");
        assert!(body.contains("class=\"err\""));

        // Reveals: the phone page asks to reveal; a wrong value is refused in Chinese.
        let (_, body) = page(&wc, &app, &format!("/witness/{t1}")).await;
        assert!(body.contains("请输入您之前选定的随机数以揭示"), "{body}");
        let (s, body) = witness_post(&wc, &app, &t1, "公证员的数 732").await;
        assert_eq!(s, 409, "{body}");
        assert!(body.contains("class=\"err\""), "{body}");
        let (s, body) = witness_post(&wc, &app, &t1, "公证员的数 731").await;
        assert_eq!(s, 200, "{body}");
        assert!(body.contains("已揭示"), "{body}");
        // The stream sends an event for the reveal.
        let second = next_state(&mut sse, &first, Duration::from_secs(6)).await.expect("an event after the reveal");
        let (_, frag) = page(&anon_c, &app, &format!("/draws/{id}/live/fragment")).await;
        assert!(frag.contains("公证员的数 731"), "{frag}");
        let (s, loc, _) = form(&oc, &app, &format!("{console}/witnesses/{w2}/value"), &[("csrf", &csrf), ("value", "20270720")]).await;
        assert_eq!((s, loc.as_str()), (303, format!("{console}?done=revealed").as_str()));
        next_state(&mut sse, &second, Duration::from_secs(6)).await.expect("an event after the console reveal");

        // Beacon from the relay, run, publish: all from the console.
        let (s, loc, body) = form(&oc, &app, &format!("{console}/beacon"), &[("csrf", &csrf), ("value", "")]).await;
        assert_eq!((s, loc.as_str()), (303, format!("{console}?done=beacon").as_str()), "{body}");
        let (s, loc, body) = form(&oc, &app, &format!("{console}/run"), &[("csrf", &csrf)]).await;
        assert_eq!((s, loc.as_str()), (303, format!("{console}?done=run").as_str()), "{body}");
        let (s, loc, body) = form(&oc, &app, &format!("{console}/publish"), &[("csrf", &csrf)]).await;
        assert_eq!((s, loc.as_str()), (303, format!("{console}?done=published").as_str()), "{body}");

        // The public page: results school by school, the seed, links.
        let (_, record) = anon(&app, &format!("/api/v1/draws/{id}/record")).await;
        let record: Value = serde_json::from_str(&record).unwrap();
        let seed = record["result"]["seed"].as_str().unwrap();
        let (s, body) = page(&anon_c, &app, &format!("/draws/{id}")).await;
        assert_eq!(s, 200);
        for want in ["派位结果", seed, "下载派位记录", "下载公告", "公告签名", &format!("/verify/?draw={id}"), &format!("/api/v1/draws/{id}/proof/"), "备用方案"] {
            assert!(body.contains(want), "{want} on the public page");
        }
        let admitted = record["result"]["assignments"].as_object().unwrap().values().next().unwrap()[0].as_str().unwrap();
        assert!(body.contains(admitted));
        let (_, live) = page(&anon_c, &app, &format!("/draws/{id}/live")).await;
        assert!(live.contains(seed) && live.contains(admitted), "the hall shows the seed and the admitted");

        // No child's full name on any public page; masked names are shown.
        let names = full_names(&app, &id).await;
        assert!(!names.is_empty());
        for path in ["/".to_string(), "/draws".to_string(), format!("/draws/{id}"), format!("/draws/{id}/live"), format!("/draws/{id}/live/fragment")] {
            let (_, body) = page(&anon_c, &app, &path).await;
            for n in &names {
                assert!(!body.contains(n.as_str()), "{path} shows a full name");
            }
        }
        let (_, body) = page(&anon_c, &app, &format!("/draws/{id}")).await;
        assert!(body.contains('*'), "masked names");
    }
}

/// Screenshots of every page and a live update of the hall's screen in
/// headless Chromium (SQLite: the pages are the same on both backends,
/// which the HTTP test above covers).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_draw_days_pages_in_a_browser() {
    if !should_run(Backend::Sqlite, "the_draw_days_pages_in_a_browser") {
        return;
    }
    let (relay_url, _) = relay().await;
    let app = spawn_app_with(Backend::Sqlite, true, &[("RUXUE__DRAW__RELAYS", relay_url.as_str())]).await;
    let op = token(&app, "operator", "ruxue-demo-operator").await;
    let id = frozen_draw(&app, &op).await;
    let t1 = witness_token(&app, &op, &id, "王公证").await;
    let t2 = witness_token(&app, &op, &id, "赵见证").await;
    let wc = common::staff::client();
    assert_eq!(witness_post(&wc, &app, &t1, "见证数 731").await.0, 200);

    // The witness's phone page (375 px).
    let mut b = Browser::start("draw_pages_phone", 375, 812).await;
    b.client.goto(&app.url(&format!("/witness/{t2}"))).await.unwrap();
    assert!(b.body_text().await.contains("请输入您选定的随机数"));
    b.shot("witness-commit").await;
    let input = b.find_css("input[name=value]").await;
    input.send_keys("4455").await.unwrap();
    b.find_css("button[type=submit]").await.click().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(b.body_text().await.contains("已提交承诺值"));
    b.shot("witness-committed").await;
    announce_for_657413(&app, &id).await;
    b.client.goto(&app.url(&format!("/draws/{id}"))).await.unwrap();
    assert!(b.body_text().await.contains("参加派位名单"));
    b.shot("public-announced").await;

    // The hall's screen at 1920×1080: a reveal arrives without reload.
    let mut hall = Browser::start("draw_pages_hall", 1920, 1080).await;
    hall.client.goto(&app.url(&format!("/draws/{id}/live"))).await.unwrap();
    hall.find_css("#countdown").await;
    hall.shot("hall-announced").await;
    hall.client.execute("window.__same_page = 1;", vec![]).await.unwrap();
    assert_eq!(witness_post(&wc, &app, &t1, "见证数 731").await.0, 200);
    let mut seen = false;
    for _ in 0..50 {
        if hall.body_text().await.contains("见证数 731") {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(seen, "the revealed value appears on the hall's screen");
    let same = hall.client.execute("return window.__same_page === 1;", vec![]).await.unwrap();
    assert_eq!(same, json!(true), "updated without reload");
    hall.shot("hall-revealed").await;

    // The rest of the day over the API; the screen shows the seed.
    let c = b.client.clone();
    let pw = common::staff::client();
    let r = pw.get(app.url(&format!("/witness/{t2}"))).send().await.unwrap();
    let csrf = set_cookie_value(&r, "ruxue_wcsrf").unwrap();
    let r = pw.post(app.url(&format!("/witness/{t2}"))).form(&[("value", "4455"), ("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(call(&app, "POST", &format!("/api/v1/staff/draws/{id}/beacon"), &op, Some(json!({}))).await.0, 200);
    assert_eq!(call(&app, "POST", &format!("/api/v1/staff/draws/{id}/run"), &op, None).await.0, 200);
    assert_eq!(call(&app, "POST", &format!("/api/v1/staff/draws/{id}/publish"), &op, None).await.0, 200);
    hall.find_css("#seed").await;
    hall.find_css(".live-scroll[data-fit]").await;
    // The whole screen fits 1920×1080, however long the lists: each scrolls
    // within what is left of the screen.
    let fits = hall
        .client
        .execute(
            "var b = document.querySelector('.live-scroll'); return [document.documentElement.scrollHeight, window.innerHeight, b.getBoundingClientRect().bottom];",
            vec![],
        )
        .await
        .unwrap();
    let (page_h, screen_h, list_bottom) = (fits[0].as_f64().unwrap(), fits[1].as_f64().unwrap(), fits[2].as_f64().unwrap());
    assert!(page_h <= screen_h + 1.0 && list_bottom <= screen_h, "the hall's page overflows its screen: {fits}");
    hall.shot("hall-drawn").await;
    hall.close().await;

    c.goto(&app.url(&format!("/draws/{id}"))).await.unwrap();
    assert!(b.body_text().await.contains("派位结果"));
    b.shot("public-drawn").await;
    b.close().await;

    // The verification page opens the published draw and shows the match.
    let mut v = Browser::start("draw_pages_verify", 1280, 900).await;
    v.client.goto(&app.url(&format!("/verify/?draw={id}"))).await.unwrap();
    v.find_css("body[data-opened]").await;
    let verdict = v
        .client
        .execute(
            "return [document.getElementById('verdict').dataset.state, document.getElementById('signature-verdict').dataset.state];",
            vec![],
        )
        .await
        .unwrap();
    let text = v.body_text().await;
    v.client.execute("document.getElementById('verdict').scrollIntoView({block: 'center'});", vec![]).await.unwrap();
    v.shot("verify-published").await;
    assert_eq!(verdict, json!(["match", "valid"]), "{text}");
    v.close().await;

    // The operator's console at 1366 px.
    let mut con = Browser::start("draw_pages_console", 1366, 900).await;
    con.client.goto(&app.url("/staff/login")).await.unwrap();
    con.find_css("input[name=username]").await.send_keys("operator").await.unwrap();
    con.find_css("input[name=password]").await.send_keys("ruxue-demo-operator").await.unwrap();
    con.find_css("form button[type=submit]").await.click().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    con.client.goto(&app.url("/staff/draws?campaign=2027-G1")).await.unwrap();
    assert!(con.body_text().await.contains("派位方案"));
    con.shot("console-plan").await;
    con.client.goto(&app.url(&format!("/staff/draws/{id}"))).await.unwrap();
    assert!(con.body_text().await.contains("见证人"));
    con.shot("console-draw").await;
    con.close().await;
}
