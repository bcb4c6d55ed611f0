//! Issue 15, item 1: the bureau's public portal at `/`, on both backends:
//! a Chinese HTML page (not a JSON 404) naming the bureau, each campaign with
//! its phase and calendar, and the ways in; screenshots at 375 and 1366 px.

mod common;

use common::browser::Browser;
use common::*;
use reqwest::header::CONTENT_TYPE;

backend_test! {
    #[tokio::test]
    async fn the_home_page_lists_campaigns_with_their_phase_and_calendar(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let r = app.client.get(app.url("/")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
        let html = r.text().await.unwrap();
        for needle in [
            "安溪县教育局",
            "2027年秋季城区小学一年级招生",
            "2027年秋季七年级片区招生",
            "当前阶段：<b class=\"phase\">审核中</b>",
            "网上报名",
            "电脑派位",
            "href=\"/lookup\"",
            "href=\"/parent\"",
            "href=\"/verify/\"",
            "href=\"/parent/campaigns/2027-G1\"",
            "0595-23222222",
        ] {
            assert!(html.contains(needle), "{needle} missing from the home page");
        }
        assert!(!html.contains("<script"), "the portal needs no JavaScript");

        // A county with no campaign yet still has a home page.
        let empty = spawn_app_with(backend, false, &[]).await;
        let html = empty.client.get(empty.url("/")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("暂无招生批次"), "{html}");

        if backend == backends()[0] {
            for (w, h) in [(375, 667), (1366, 768)] {
                let mut b = Browser::start(&format!("portal_home_{w}"), w, h).await;
                b.client.goto(&app.url("/")).await.unwrap();
                let text = b.body_text().await;
                assert!(text.contains("查询对口学校"), "{text}");
                let width: i64 = b.client.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap().as_i64().unwrap();
                assert!(width <= i64::from(w), "page is {width}px wide at {w}");
                b.shot(&format!("home-{w}")).await;
                b.close().await;
            }
        }
    }
}
