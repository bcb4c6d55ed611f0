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

/// The page's text as a reader sees it: minijinja escapes `/`, `&`, quotes.
fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn date_cn(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

backend_test! {
    /// Issue 15, item 2: 招生公告 generated from the policy document. A policy
    /// with every category condition and every residence rule is stored on a
    /// campaign; the public notice states each category in order with its
    /// condition, every cut-off date, the residence rules, policy care,
    /// siblings and twins, and the lottery; it is printable and linked from
    /// the portal and the parent notice.
    #[tokio::test]
    async fn the_notice_is_the_policy_document_in_words(backend) {
        use ruxue::policy::{CarePlacement, Condition, Granularity, Policy, SiblingMode};
        let app = spawn_app_with(backend, true, &[]).await;
        let toml = include_str!("policies/every_category.toml");
        let policy = Policy::load_toml(toml).expect("the test policy is valid");
        // Every condition kind is in it.
        let kinds: std::collections::HashSet<_> = policy.categories.iter().map(|c| std::mem::discriminant(&c.condition)).collect();
        assert_eq!(kinds.len(), 6, "hukou_and_property, hukou, property, migrant, sibling, others");
        let text = toml.to_string();
        app.state.db.write(move |c| ruxue::db::policy::store_policy(c, "2027-G1", &text, "2027.9")).await.unwrap();

        let r = app.client.get(app.url("/campaigns/2027-G1/notice")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let page = unescape(&r.text().await.unwrap());
        assert!(page.contains("全顺位测试方案（版本 2027.9）") && page.contains("覆盖每一种顺位条件和居住时间规则的测试方案。"));

        // The categories, in the policy's order, each with its condition in words.
        let mut at = 0;
        for (i, cat) in policy.categories.iter().enumerate() {
            let head = format!("{}：{}", ruxue::policy::tier_name(i + 1), cat.label);
            let pos = page[at..].find(&head).unwrap_or_else(|| panic!("{head} missing or out of order")) + at;
            let rest = &page[pos..];
            let end = [rest.find("<li id=\"category-"), rest.find("</ol>")].into_iter().flatten().min().unwrap();
            let block = &rest[..end];
            assert!(block.contains(&cat.condition.describe()), "{head}: {block}");
            match &cat.condition {
                Condition::HukouAndProperty { same_address, .. } => {
                    assert!(block.contains("产权人为父亲、母亲、（外）祖父母") && block.contains("2027年6月30日"), "{block}");
                    assert_eq!(block.contains("户籍须登记在该住房地址"), *same_address);
                    assert!(block.contains("需提供：户口簿、房产证/不动产权证"), "{block}");
                }
                Condition::Property { .. } => assert!(block.contains("产权人为父亲、母亲、儿童本人") && block.contains("购房合同"), "{block}"),
                Condition::Migrant { min_residence_months, min_social_insurance_months, order_by_residence } => {
                    assert!(block.contains(&format!("截至2027年8月31日在本县居住满 {min_residence_months} 个月")), "{block}");
                    assert_eq!(block.contains(&format!("社会保险满 {min_social_insurance_months} 个月")), *min_social_insurance_months > 0, "{block}");
                    assert_eq!(block.contains("居住时间长者优先"), *order_by_residence, "{block}");
                    assert!(block.contains("需提供：居住证、社保证明"), "{block}");
                }
                Condition::Sibling => assert!(block.contains("哥哥或姐姐目前在本校就读"), "{block}"),
                Condition::Hukou | Condition::Others => {}
            }
            at = pos + head.len();
        }

        // Every cut-off date, and the residence rules.
        let c = &policy.cutoffs;
        for (what, d) in [
            ("居住时间计算截止日期", Some(c.residence)),
            ("房产取得截止日期", c.property_acquired_by),
            ("居住证签发截止日期", c.permit_issued_by),
            ("社会保险缴费月数计算截止日期", c.social_insurance),
        ] {
            let d = date_cn(d.expect("every cut-off is set in the test policy"));
            let row = page.split(what).nth(1).unwrap_or_else(|| panic!("{what} missing"));
            assert!(row[..row.find("</tr>").unwrap()].contains(&d), "{what} {d}");
        }
        assert_eq!(policy.residence_granularity, Granularity::Year);
        assert!(page.contains("排序时按整年数比较"));
        assert!(page.contains("随迁子女按第五顺位（随迁子女（长期居住））报名") && page.contains("随迁子女按第六顺位（随迁子女（其他））报名"));
        assert!(page.contains("居住证须在2027年5月31日（含当日）前签发"));

        // Care, siblings, twins, lottery.
        assert!(matches!(policy.care.placement, CarePlacement::MergeWith { .. }));
        assert!(page.contains(&format!("政策性照顾对象：{}", policy.care.kinds.join("、"))));
        assert!(page.contains("政策性照顾对象与第二顺位（户籍在片区）同等对待"));
        assert!(page.contains("残疾儿童随班就读的，按政策性照顾对象安排") && page.contains("农村留守儿童按政策性照顾对象安排"));
        assert_eq!(policy.sibling, SiblingMode::Category);
        assert!(page.contains("按「长幼随学」顺位录取"));
        assert!(!policy.twins_as_family && page.contains("双胞胎（多胞胎）各自参加电脑派位"));
        assert!(page.contains("龙湖小学：不分顺位，全部由电脑派位确定") && !page.contains("政策性照顾对象仍优先录取"));
        assert!(page.contains("龙湖小学全部电脑派位（测试）"));
        // The timeline, and how the draw is checked.
        for s in ["网上报名", "资格审核", "电脑派位", "确认入学", "年满 6 周岁", "/verify/", "/api/v1/keys"] {
            assert!(page.contains(s), "{s}");
        }
        // Printable, no script, share metadata.
        assert!(page.contains("@media print") && !page.contains("<script"));
        assert!(page.contains("<meta property=\"og:title\" content=\"2027年秋季城区小学一年级招生招生公告"), "og:title");
        assert!(page.contains("<meta itemprop=\"description\""));

        // The parent notice renders the same notice.
        let parent = unescape(&app.client.get(app.url("/parent/campaigns/2027-G1")).send().await.unwrap().text().await.unwrap());
        for cat in &policy.categories {
            assert!(parent.contains(&cat.condition.describe()), "{} on the parent notice", cat.code);
        }
        assert!(parent.contains("href=\"/campaigns/2027-G1/notice\""));
        // Linked from the portal; unknown and draft campaigns are 404.
        let home = app.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
        assert!(home.contains("href=\"/campaigns/2027-G1/notice\"") && home.contains("href=\"/campaigns/2027-G7/notice\""));
        assert_eq!(app.client.get(app.url("/campaigns/nope/notice")).send().await.unwrap().status(), 404);
        ruxue::service::campaign::copy_blocking(
            &app.state.db,
            "test",
            ruxue::service::campaign::CopyInput { from: "2027-G1".into(), year: 2028, id: None },
        )
        .unwrap();
        assert_eq!(app.client.get(app.url("/campaigns/2028-G1/notice")).send().await.unwrap().status(), 404, "a draft is not public");

        // In the browser at 375 px, and as printed.
        let mut b = Browser::start(&format!("portal_notice_{}", backend.name()), 375, 667).await;
        b.client.goto(&app.url("/campaigns/2027-G1/notice")).await.unwrap();
        let text = b.body_text().await;
        assert!(text.contains("第一顺位：房户一致") && text.contains("八、电脑派位"), "{text}");
        let width: i64 = b.client.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap().as_i64().unwrap();
        assert!(width <= 375, "page is {width}px wide");
        b.shot("notice-375").await;
        let hidden: bool = b
            .client
            .execute(
                "for (const s of document.styleSheets) for (const r of s.cssRules) if (r.media && r.media.mediaText === 'print') \
                 for (const x of r.cssRules) if (x.selectorText && x.selectorText.includes('.noprint') && x.style.display === 'none') return true; return false;",
                vec![],
            )
            .await
            .unwrap()
            .as_bool()
            .unwrap();
        assert!(hidden, "the print stylesheet hides the buttons");
        b.close().await;
    }
}

backend_test! {
    /// Issue 15, item 5: the large-text mode is a cookie set by a plain link
    /// and honoured by every public and parent page; the WeChat login button
    /// only inside WeChat's browser, a plain explanation elsewhere.
    #[tokio::test]
    async fn large_text_persists_and_wechat_login_shows_only_in_wechat(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let home = app.client.get(app.url("/lookup")).send().await.unwrap().text().await.unwrap();
        assert!(home.contains("<html lang=\"zh-CN\">") && home.contains("/settings/text-size?size=large&amp;back=%2Flookup"), "{home}");

        let c = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let r = c.get(app.url("/settings/text-size?size=large&back=%2Fcampaigns%2F2027-G1%2Fnotice")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/campaigns/2027-G1/notice");
        let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(set.starts_with("ruxue_text_size=large") && set.contains("Max-Age=31536000") && set.contains("Path=/"), "{set}");
        for path in ["/", "/lookup", "/campaigns/2027-G1/notice", "/campaigns/2027-G1/catchment", "/parent", "/parent/campaigns/2027-G1"] {
            let html = c.get(app.url(path)).send().await.unwrap().text().await.unwrap();
            assert!(html.contains("<html lang=\"zh-CN\" class=\"large\">") && html.contains("标准字号"), "{path}");
        }
        // Back to normal; an outside `back` stays on this site.
        let r = c.get(app.url("/settings/text-size?size=normal&back=https://evil.example/")).send().await.unwrap();
        assert_eq!(r.headers()["location"], "/");
        let html = c.get(app.url("/")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("<html lang=\"zh-CN\">") && html.contains("大字版"));

        // WeChat's in-app browser gets the login button; others the explanation.
        let wechat = "Mozilla/5.0 (Linux; Android 10) AppleWebKit/537.36 Chrome/78.0 Mobile Safari/537.36 MicroMessenger/8.0.47.2560";
        let html = app.client.get(app.url("/parent")).header("User-Agent", wechat).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("id=\"wechat-login\"") && !html.contains("id=\"not-wechat\""));
        let html = app.client.get(app.url("/parent")).header("User-Agent", "Mozilla/5.0 Chrome/120").send().await.unwrap().text().await.unwrap();
        assert!(!html.contains("href=\"/parent/login\"") && html.contains("id=\"not-wechat\"") && html.contains("微信公众号"), "{html}");

        // In the browser: the link keeps large text across pages; targets are at least 44 px.
        let mut b = Browser::start(&format!("portal_large_text_{}", backend.name()), 375, 667).await;
        b.client.goto(&app.url("/")).await.unwrap();
        b.find_css("header a.textsize").await.click().await.unwrap();
        b.find_css("html.large").await;
        b.client.goto(&app.url("/campaigns/2027-G1/notice")).await.unwrap();
        let size: String = b.client.execute("return getComputedStyle(document.body).fontSize", vec![]).await.unwrap().as_str().unwrap().into();
        assert_eq!(size, "20px");
        b.shot("notice-large-375").await;
        b.client.goto(&app.url("/")).await.unwrap();
        b.shot("home-large-375").await;
        let small: Vec<String> = serde_json::from_value(
            b.client
                .execute(
                    "return [...document.querySelectorAll('a.big, nav.links a, header a, button')].filter(e => { const r = e.getBoundingClientRect(); return r.height < 44 || r.width < 44; }).map(e => e.textContent)",
                    vec![],
                )
                .await
                .unwrap(),
        )
        .unwrap();
        assert!(small.is_empty(), "targets under 44 px: {small:?}");
        b.close().await;
    }
}

/// The `href`s of a page, unescaped, in order.
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|h| h.replace("&#x2f;", "/").replace("&amp;", "&").replace("&#x3d;", "="))
        .collect()
}

backend_test! {
    /// Issue 15, item 4: the home page and the draws list link to every
    /// draw's public page, its live page and (once drawn) its verification
    /// page, and to 录取查询; following every link found there (same site)
    /// never gives a 404.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_portal_links_every_draw_and_the_result_lookup(backend) {
        use common::published;
        let app = spawn_app_with(backend, true, &[]).await;
        // One draw published (its verification page applies); the demo's others are listed too.
        let (drawn, ..) = published::demo_draw_with_admitted(&app, "2027-G1");
        let draws: serde_json::Value = reqwest::get(app.url("/api/v1/draws")).await.unwrap().json().await.unwrap();
        let draws = draws["draws"].as_array().unwrap().clone();
        assert!(draws.iter().any(|d| d["id"] == drawn.as_str()), "{draws:?}");
        let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        for page in ["/", "/draws"] {
            let html = c.get(app.url(page)).send().await.unwrap().text().await.unwrap();
            let links = hrefs(&html);
            assert!(links.iter().any(|h| h == "/results"), "{page} links 录取查询: {links:?}");
            for d in &draws {
                let id = d["id"].as_str().unwrap();
                let mut want = vec![format!("/draws/{id}"), format!("/draws/{id}/live")];
                if d["record_digest"].is_string() {
                    want.push(format!("/verify/?draw={id}"));
                }
                for w in want {
                    assert!(links.contains(&w), "{page} links {w}: {links:?}");
                }
            }
            for link in links.iter().filter(|h| h.starts_with('/') && !h.starts_with("//")) {
                let r = c.get(app.url(link)).send().await.unwrap();
                let s = r.status();
                assert_ne!(s, reqwest::StatusCode::NOT_FOUND, "{page} → {link}");
                assert!(s.is_success() || s.is_redirection(), "{page} → {link}: {s}");
            }
        }
        // The draw's page leads on to 录取查询 and to each school's waitlist movements.
        let html = c.get(app.url(&format!("/draws/{drawn}"))).send().await.unwrap().text().await.unwrap();
        let links = hrefs(&html);
        assert!(links.iter().any(|h| h == "/results"), "{links:?}");
        let moves: Vec<&String> = links.iter().filter(|h| h.starts_with("/results/2027-G1/schools/")).collect();
        assert!(!moves.is_empty(), "{links:?}");
        for link in moves {
            assert_eq!(c.get(app.url(link)).send().await.unwrap().status(), reqwest::StatusCode::OK, "{link}");
        }
    }
}
