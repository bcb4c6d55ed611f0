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

backend_test! {
    /// Issue 15, item 3: 划片范围 generated from the rules, with seats and
    /// classes, and the change since last year's campaign.
    #[tokio::test]
    async fn the_catchment_page_is_the_rules_with_seats_and_changes(backend) {
        use diesel::prelude::*;
        let app = spawn_app_with(backend, true, &[]).await;
        let html = app.client.get(app.url("/campaigns/2027-G1/catchment")).send().await.unwrap().text().await.unwrap();
        let (rules, plans) = app
            .state
            .db
            .run(|c| Ok((ruxue::db::catchment::load_rules(c, "2027-G1")?, ruxue::db::review::plans_of(c, "2027-G1")?)))
            .await
            .unwrap();
        assert!(!rules.is_empty());
        for r in &rules {
            let area = r.describe_area();
            let code = match &r.target {
                ruxue::catchment::Target::School(s) | ruxue::catchment::Target::Zone(s) => s.clone(),
            };
            let unit = html.split(&format!("id=\"unit-{code}\"")).nth(1).unwrap_or_else(|| panic!("no unit for {code}"));
            let unit = unit.split("</div>").next().unwrap();
            assert!(unit.contains(&format!("<td>{area}</td>")), "{area} under {code}");
        }
        for p in plans.iter().filter(|p| html.contains(&format!("id=\"unit-{}\"", p.school_id))) {
            let seats = i64::from(p.planned_classes) * i64::from(p.class_size_cap);
            assert!(html.contains(&format!("计划招生 {} 个班，{} 个学位", p.planned_classes, seats)), "{}", p.school_id);
        }
        assert!(html.contains("没有上一年的招生批次可比较"));

        // Next year's copy, once under way, compares with this year.
        ruxue::service::campaign::copy_blocking(
            &app.state.db,
            "test",
            ruxue::service::campaign::CopyInput { from: "2027-G1".into(), year: 2028, id: None },
        )
        .unwrap();
        assert_eq!(app.client.get(app.url("/campaigns/2028-G1/catchment")).send().await.unwrap().status(), 404, "a draft is not public");
        app.state
            .db
            .write(|c| {
                diesel::update(ruxue::db::schema::campaigns::table.filter(ruxue::db::schema::campaigns::id.eq("2028-G1")))
                    .set(ruxue::db::schema::campaigns::status.eq("registration"))
                    .execute(c)?;
                Ok(())
            })
            .await
            .unwrap();
        let html = app.client.get(app.url("/campaigns/2028-G1/catchment")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("对比：2027年秋季城区小学一年级招生") && html.contains("划片范围没有变化"), "{html}");
        assert_eq!(app.client.get(app.url("/campaigns/nope/catchment")).send().await.unwrap().status(), 404);
        // The home page links to it.
        let home = app.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
        assert!(home.contains("href=\"/campaigns/2027-G1/catchment\""));
    }
}
