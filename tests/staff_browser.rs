//! Issue 6 in a real browser (headless Chromium, SQLite): one reviewer's
//! day — log in, filter the queue, open an application, approve it, request
//! a supplement on another — and the county overview at 1366×768.
//! Screenshots: target/screenshots/staff_reviewer_day/NN-step.png.

mod common;

use common::browser::Browser;
use common::*;
use diesel::prelude::*;
use fantoccini::Locator;
use ruxue::db::schema;

async fn login(b: &Browser, app: &TestApp, user: &str, pw: &str) {
    b.client.goto(&app.url("/staff/login")).await.unwrap();
    b.find_css("#username").await.send_keys(user).await.unwrap();
    b.find_css("#password").await.send_keys(pw).await.unwrap();
}

#[tokio::test]
async fn staff_reviewer_day() {
    let app = spawn_app_with(Backend::Sqlite, true, &[]).await;
    // Two applications of the reviewer's township at 安溪县实验小学 awaiting review.
    let ids: Vec<(String, String)> = app
        .state
        .db
        .run(|c| {
            Ok(schema::applications::table
                .filter(schema::applications::township_id.eq("FC"))
                .filter(schema::applications::catchment_school_id.eq("P01"))
                .filter(schema::applications::status.eq("under_review"))
                .order(schema::applications::registration_no.asc())
                .select((schema::applications::id, schema::applications::registration_no))
                .load(c)?)
        })
        .await
        .unwrap();
    assert!(ids.len() >= 2, "demo has applications under review at P01");

    let mut b = Browser::start("staff_reviewer_day", 1366, 768).await;
    login(&b, &app, "reviewer-fc", "ruxue-demo-reviewer").await;
    b.shot("login").await;
    b.find_css("#login").await.click().await.unwrap();
    b.wait_text("审核队列").await;
    b.shot("queue").await;

    // Filter: 安溪县实验小学, under review.
    b.find_css("#f-school").await.select_by_value("P01").await.unwrap();
    b.find_css("#f-status").await.select_by_value("under_review").await.unwrap();
    b.find_css("#apply-filters").await.click().await.unwrap();
    let text = b.wait_text(&ids[0].1).await;
    assert!(text.contains(&ids[1].1));
    let url = b.client.current_url().await.unwrap();
    assert!(url.as_str().contains("school=P01") && url.as_str().contains("status=under_review"), "{url}");
    let rows = b.client.find_all(Locator::Css("#queue tbody tr")).await.unwrap();
    for r in &rows {
        let t = r.text().await.unwrap();
        assert!(t.contains("审核中") && t.contains("安溪县实验小学"), "{t}");
    }
    b.shot("queue-filtered").await;

    // Open the first and approve it as computed.
    b.client.find(Locator::LinkText(&ids[0].1)).await.unwrap().click().await.unwrap();
    let text = b.wait_text("审核决定").await;
    assert!(text.contains("监护人申报信息"));
    b.shot("application").await;
    b.find_css("#approve").await.click().await.unwrap();
    let text = b.wait_text("已审核通过").await;
    assert!(text.contains("审核通过"));
    b.shot("approved").await;

    // Back to the queue; the approved one has left the filtered list.
    b.client.find(Locator::LinkText("← 返回审核队列")).await.unwrap().click().await.unwrap();
    b.find_css("#f-school").await.select_by_value("P01").await.unwrap();
    b.find_css("#f-status").await.select_by_value("under_review").await.unwrap();
    b.find_css("#apply-filters").await.click().await.unwrap();
    let text = b.wait_text(&ids[1].1).await;
    assert!(!text.contains(&ids[0].1), "approved application no longer under review");

    // The second: ask for a supplement.
    b.client.find(Locator::LinkText(&ids[1].1)).await.unwrap().click().await.unwrap();
    b.wait_text("审核决定").await;
    b.find_css("#supplement-note").await.send_keys("请上传房产证内页（含用途栏）的清晰照片").await.unwrap();
    b.shot("supplement-form").await;
    b.find_css("#supplement").await.click().await.unwrap();
    let text = b.wait_text("已要求补充材料").await;
    assert!(text.contains("需补充材料"));
    b.shot("supplement-requested").await;

    let (s0, s1): (String, String) = {
        let (a, c) = (ids[0].0.clone(), ids[1].0.clone());
        app.state
            .db
            .run(move |conn| {
                let s0 = schema::applications::table.find(&a).select(schema::applications::status).first(conn)?;
                let s1 = schema::applications::table.find(&c).select(schema::applications::status).first(conn)?;
                Ok((s0, s1))
            })
            .await
            .unwrap()
    };
    assert_eq!((s0.as_str(), s1.as_str()), ("approved", "supplement"));

    // Log out; the console is closed again.
    b.client.find(Locator::Css("header button")).await.unwrap().click().await.unwrap();
    b.wait_text("工作人员登录").await;
    b.client.goto(&app.url("/staff/review")).await.unwrap();
    b.wait_text("工作人员登录").await;

    // The county overview fits one 1366×768 screen.
    login(&b, &app, "admin", "ruxue-demo-admin").await;
    b.find_css("#login").await.click().await.unwrap();
    b.wait_text("各校（片区）申请与学位").await;
    let fits = b
        .client
        .execute(
            "return [document.documentElement.scrollHeight, window.innerHeight, document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    let v: Vec<i64> = serde_json::from_value(fits).unwrap();
    b.shot("dashboard").await;
    assert!(v[0] <= v[1] && v[2] <= v[3], "overview fits the screen: scroll {}×{} in {}×{}", v[2], v[0], v[3], v[1]);

    // The audit page reads in words: who by name and role, what in Chinese.
    b.client.goto(&app.url("/staff/audit")).await.unwrap();
    let text = b.wait_text("审计日志").await;
    assert!(text.contains("要求补充材料") || text.contains("补充材料"), "{text}");
    b.shot("audit").await;
    b.close().await;
}
