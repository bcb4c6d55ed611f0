//! Issue #12 (Tests), in headless Chromium on both backends: a parent's
//! result page at 375 px says which school the child got and explains the
//! rank at every school; the staff placement page shows the placement form
//! to an operator, who proposes a seat for the first child without one, and
//! an admin (the second person, four eyes) approves it.
//! Screenshots: target/screenshots/after_result_<backend>/ and
//! target/screenshots/after_placement_<backend>/.

mod common;

use common::browser::Browser;
use common::published;
use common::{backend_test, spawn_app_with, TestApp};
use serde_json::Value;

const G1: &str = "2027-G1";

async fn staff_login(b: &Browser, app: &TestApp, user: &str, pw: &str) {
    b.client.goto(&app.url("/staff/login")).await.unwrap();
    b.find_css("#username").await.send_keys(user).await.unwrap();
    b.find_css("#password").await.send_keys(pw).await.unwrap();
    b.find_css("#login").await.click().await.unwrap();
    b.wait_text("退出").await;
}

backend_test! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn result_page_at_375_and_the_placement_page(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let (draw_id, school, no, app_id) = published::demo_draw_with_admitted(&app, G1);
        let rec = published::record(&app, &draw_id);
        let lottery = rec["result"]["lottery_numbers"][&no].as_i64().unwrap();
        let school_name = {
            let s = school.clone();
            app.state.db.write_blocking(move |c| ruxue::db::offers::school_name(c, &s)).unwrap()
        };

        // The parent, on a small phone.
        let mut b = Browser::start(&format!("after_result_{}", backend.name()), 375, 667).await;
        published::guardian_browser(&app, &b, &app_id).await;
        b.client.goto(&app.url(&format!("/parent/applications/{app_id}"))).await.unwrap();
        let offer = b.find_css("#result #offer-school").await.text().await.unwrap();
        assert!(offer.contains(&school_name), "the school offered: {offer}");
        let result = b.find_css("#result").await.text().await.unwrap();
        assert_eq!(b.find_css("#lottery-number").await.text().await.unwrap(), lottery.to_string());
        // The rank explained in words at the school that admitted the child.
        let line = result.lines().find(|l| l.starts_with(&format!("您的孩子在{school_name}的"))).unwrap_or_else(|| panic!("no explanation for {school_name}: {result}"));
        assert!(line.contains("中排第 ") && line.contains("该校录取至"), "{line}");
        assert!(result.contains("确认入学") && result.contains("放弃学位"), "the offer can be answered: {result}");
        // Nothing wider than the phone.
        let w: Value = b.client.execute("return document.documentElement.scrollWidth;", vec![]).await.unwrap();
        assert!(w.as_u64().unwrap() <= 375, "scrolls sideways at 375 px: {w}");
        b.shot("result-375").await;
        b.client.execute("document.getElementById('result').scrollIntoView();", vec![]).await.unwrap();
        b.shot("result-375-explanation").await;
        b.close().await;

        // An operator proposes a seat for the first child without one; an admin approves it.
        let mut b = Browser::start(&format!("after_placement_{}", backend.name()), 1366, 768).await;
        staff_login(&b, &app, "operator", "ruxue-demo-operator").await;
        b.client.goto(&app.url(&format!("/staff/placements?campaign={G1}"))).await.unwrap();
        let text = b.wait_text("待统筹安置的儿童").await;
        assert!(text.contains("各校学位"), "{text}");
        let form = b.find_css("#unplaced form[action='/staff/placements']").await;
        let row = b.find_css("#unplaced tbody tr").await.text().await.unwrap();
        let child_no = row.split_whitespace().next().unwrap().to_string();
        b.shot("placements-operator").await;
        form.find(fantoccini::Locator::Css("input[name=reason]")).await.unwrap().send_keys("对口学校学位已满，按就近原则安置").await.unwrap();
        b.shot("placement-form-filled").await;
        form.find(fantoccini::Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
        let done = b.find_css("#done").await.text().await.unwrap();
        assert!(done.starts_with('已'), "{done}");
        let placed = b.find_css("#placements").await.text().await.unwrap();
        assert!(placed.contains(&child_no), "{child_no} in the placements: {placed}");
        b.shot("placement-proposed").await;
        b.close().await;

        let mut b = Browser::start(&format!("after_placement_admin_{}", backend.name()), 1366, 768).await;
        staff_login(&b, &app, "admin", "ruxue-demo-admin").await;
        b.client.goto(&app.url(&format!("/staff/placements?campaign={G1}"))).await.unwrap();
        let placed = b.find_css("#placements").await.text().await.unwrap();
        assert!(placed.contains(&child_no) && placed.contains("待第二人复核"), "{placed}");
        b.shot("placements-admin").await;
        b.find_css("#placements form:has(input[name=approve][value=yes]) button[type=submit]").await.click().await.unwrap();
        assert_eq!(b.find_css("#done").await.text().await.unwrap(), "已安置");
        let placed = b.find_css("#placements").await.text().await.unwrap();
        assert!(placed.contains(&child_no) && !placed.contains("待第二人复核"), "{placed}");
        b.shot("placement-approved").await;
        b.close().await;
    }
}
