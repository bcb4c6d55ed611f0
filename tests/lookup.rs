//! Issue 5, item 3: the public catchment lookup, over the real server with
//! the demo county, on both backends.

mod common;

use common::*;
use serde_json::Value;

async fn api(app: &TestApp, query: &[(&str, &str)]) -> (u16, Value) {
    let r = app.client.get(app.url("/api/v1/catchment/lookup")).query(query).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

backend_test! {
    #[tokio::test]
    async fn lookup_api_and_page_on_every_backend(backend) {
        let app = spawn_app_with(backend, true, &[]).await;

        // A street range on the odd side, inside a community.
        let (s, b) = api(&app, &[("address", "凤城镇东岳社区二环路123号"), ("grade", "1")]).await;
        assert_eq!(s, 200, "{backend:?} {b}");
        assert_eq!(b["found"], true);
        assert_eq!(b["target_code"], "P01");
        assert_eq!(b["target_name"], "安溪县实验小学");
        let chain = b["explanation"].as_str().unwrap();
        assert!(chain.contains("二环路") && chain.contains("单号") && chain.contains("安溪县实验小学"), "{chain}");

        // Full-width digits and spaces resolve like their plain forms.
        let (_, plain) = api(&app, &[("address", "凤城镇东岳社区二环路123号")]).await;
        let (_, wide) = api(&app, &[("address", "凤城镇 东岳社区 二环路 １２３ 号")]).await;
        assert_eq!(plain["target_code"], wide["target_code"]);
        assert_eq!(plain["rule_id"], wide["rule_id"]);

        // The precedence-10 override beats the general range.
        let (_, b) = api(&app, &[("address", "凤城镇东岳社区二环路105号")]).await;
        assert_eq!(b["target_code"], "P02", "{b}");
        assert!(!b["alternatives"].as_array().unwrap().is_empty());

        // Seventh grade: a zone with its schools, in announced order.
        let (s, b) = api(&app, &[("address", "凤城镇大同路5号"), ("grade", "7")]).await;
        assert_eq!(s, 200);
        assert_eq!(b["target_type"], "zone");
        assert_eq!(b["target_name"], "建安片区");
        let schools: Vec<&str> = b["schools"].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap()).collect();
        assert_eq!(schools, ["J01", "J02", "J03"]);

        // An address outside every rule: found = false, with a Chinese sentence.
        let (s, b) = api(&app, &[("address", "龙门镇某某路1号")]).await;
        assert_eq!(s, 200);
        assert_eq!(b["found"], false);
        assert!(!b["explanation"].as_str().unwrap().is_empty());

        // Bad input names the field.
        for (q, field) in [
            (vec![("address", "  ")], "address"),
            (vec![], "address"),
            (vec![("address", "凤城镇"), ("grade", "9")], "grade"),
            (vec![("address", "凤城镇"), ("campaign", "1999-G1")], "campaign"),
        ] {
            let (s, b) = api(&app, &q).await;
            assert_eq!(s, 422, "{q:?} {b}");
            assert_eq!(b["error"]["field"], field);
            assert!(!b["error"]["message"].as_str().unwrap().is_ascii());
        }
        let long = "路".repeat(201);
        let (s, b) = api(&app, &[("address", long.as_str())]).await;
        assert_eq!(s, 422);
        assert_eq!(b["error"]["field"], "address");

        // The mobile page: no login, Chinese, HTML escaped.
        let r = app.client.get(app.url("/lookup")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("输入地址，查询对口学校") && html.contains("viewport"));
        let r = app.client.get(app.url("/lookup")).query(&[("address", "凤城镇东岳社区二环路123号"), ("grade", "1")]).send().await.unwrap();
        let html = r.text().await.unwrap();
        assert!(html.contains("安溪县实验小学"), "{html}");
        let r = app.client.get(app.url("/lookup")).query(&[("address", "<script>alert(1)</script>")]).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(!html.contains("<script>alert(1)</script>") && html.contains("&lt;script&gt;"));
        let r = app.client.get(app.url("/lookup")).query(&[("address", "")]).send().await.unwrap();
        assert!(r.text().await.unwrap().contains("请输入地址"));
    }
}

#[tokio::test]
async fn lookup_is_rate_limited() {
    let backend = backends()[0];
    let app = spawn_app_with(backend, true, &[("RUXUE__SERVER__PUBLIC_RATE_PER_MINUTE", "3")]).await;
    for _ in 0..3 {
        let (s, _) = api(&app, &[("address", "凤城镇大同路5号")]).await;
        assert_eq!(s, 200);
    }
    let (s, b) = api(&app, &[("address", "凤城镇大同路5号")]).await;
    assert_eq!(s, 429);
    assert_eq!(b["error"]["code"], "rate_limited");
    // Health checks are not limited.
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

backend_test! {
    /// Issue 10, item 3 (the free-text part): the shared address table
    /// (`tests/common/addresses.rs`, one address per first-grade rule of the
    /// demo map) through the lookup: the rule, the school, and the parts the
    /// form would have asked for. A road named after a community (`大同路`,
    /// `河滨路`) or ending a village-like name (`新村路`) is a road, never that
    /// community plus a road `路`. `tests/parents.rs` runs the same table
    /// through the parent form and the staff view.
    #[tokio::test]
    async fn every_demo_rule_answers_its_own_address(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let mut wrong = Vec::new();
        for row in common::addresses::ADDRESS_TABLE {
            let (s, b) = api(&app, &[("address", row.text), ("grade", "1")]).await;
            assert_eq!(s, 200, "{}: {b}", row.text);
            if b["rule_id"] != row.rule || b["target_code"] != row.school {
                wrong.push(format!("{}: expected {}/{}, got {}/{}", row.text, row.rule, row.school, b["rule_id"], b["target_code"]));
            }
            let parsed = common::addresses::parsed_parts(&b["parsed"]);
            if parsed != row.parts() {
                wrong.push(format!("{}: parsed as {parsed:?}, the form's parts are {:?}", row.text, row.parts()));
            }
        }
        assert!(wrong.is_empty(), "{backend:?}:\n{}", wrong.join("\n"));
    }
}

backend_test! {
    /// The lookup answers from memory: the campaign list and a campaign's
    /// map are read once; every change to a campaign or its map (which bumps
    /// `campaign_ctx_version`) makes the next check reload them; within
    /// `server.lookup_cache_ms` the database is not asked at all.
    #[tokio::test]
    async fn lookups_are_served_from_memory_until_the_map_changes(backend) {
        use std::sync::atomic::Ordering;
        let q = [("address", "凤城镇东岳社区二环路123号"), ("grade", "1")];

        // Checked on every request (the test setting): one version read each,
        // no reload while nothing changes.
        let app = spawn_app_with(backend, true, &[]).await;
        let loads = |app: &TestApp| app.state.ctx.lookup.loads.load(Ordering::Relaxed);
        let (_, first) = api(&app, &q).await;
        assert_eq!(first["target_code"], "P01", "{first}");
        let after_first = loads(&app);
        assert_eq!(after_first, 2, "the campaign list and one map");
        for _ in 0..20 {
            let (s, b) = api(&app, &q).await;
            assert_eq!((s, &b), (200, &first));
        }
        assert_eq!(loads(&app), after_first);
        // The page shares the cache.
        let r = app.client.get(app.url("/lookup")).query(&q).send().await.unwrap();
        assert!(r.text().await.unwrap().contains("安溪县实验小学"));
        assert_eq!(loads(&app), after_first);

        // A change to the county's maps: the next request reloads.
        app.state.db.run(|c| Ok(ruxue::db::next_counter(c, ruxue::db::CAMPAIGN_CTX_VERSION)?)).await.unwrap();
        let (_, again) = api(&app, &q).await;
        assert_eq!(again, first);
        assert_eq!(loads(&app), after_first + 2);

        // With an interval, even the version read is skipped: a change is
        // seen only once the interval is over.
        let slow = spawn_app_with(backend, true, &[("RUXUE__SERVER__LOOKUP_CACHE_MS", "600000")]).await;
        let _ = api(&slow, &q).await;
        slow.state.db.run(|c| Ok(ruxue::db::next_counter(c, ruxue::db::CAMPAIGN_CTX_VERSION)?)).await.unwrap();
        for _ in 0..5 {
            let (s, b) = api(&slow, &q).await;
            assert_eq!((s, &b["target_code"]), (200, &first["target_code"]));
        }
        assert_eq!(loads(&slow), 2, "within the interval nothing is read again");
        // A refusal is still a refusal.
        let (s, b) = api(&slow, &[("address", ""), ("grade", "1")]).await;
        assert_eq!((s, b["error"]["field"].as_str()), (422, Some("address")), "{b}");
        let (s, b) = api(&slow, &[("address", "凤城镇"), ("grade", "5")]).await;
        assert_eq!((s, b["error"]["field"].as_str()), (422, Some("grade")), "{b}");
    }
}
