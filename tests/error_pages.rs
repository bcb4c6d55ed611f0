//! One error path: the same `AppError` answers JSON on the API and a Chinese
//! HTML page with a way back on pages, for every status, 500 included; 429
//! carries `Retry-After`.

mod common;

use common::*;
use diesel::connection::SimpleConnection;
use serde_json::Value;

const HTML: &str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8";

fn is_html(r: &reqwest::Response) -> bool {
    r.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("text/html"))
}

backend_test! {
    #[tokio::test]
    async fn pages_answer_html_and_the_api_answers_json(backend) {
        let app = spawn_app_with(backend, true, &[]).await;

        // An unknown page asked for by a browser: a Chinese page with a link home.
        let r = app.client.get(app.url("/no/such/page")).header("accept", HTML).send().await.unwrap();
        assert_eq!(r.status(), 404);
        assert!(is_html(&r));
        let body = r.text().await.unwrap();
        assert!(body.contains("未找到") && body.contains("href=\"/\""), "{body}");
        // The same path asked for by a program, and any path under /api/: JSON.
        let r = app.client.get(app.url("/no/such/page")).send().await.unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "not_found");
        let r = app.client.get(app.url("/api/v1/no-such-endpoint")).header("accept", HTML).send().await.unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "not_found");

        // A field-named refusal on a page keeps the page: the form with its message.
        let r = app.client.get(app.url("/lookup?grade=9&address=x")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(is_html(&r));
        assert!(r.text().await.unwrap().contains("入学年级只能是"));

        // An internal error: break the campaign's rules table, then ask a page and the API.
        let url = app.db.url.clone();
        tokio::task::spawn_blocking(move || {
            use diesel::Connection;
            let sql = "DROP TABLE catchment_rules";
            match backend {
                Backend::Sqlite => diesel::SqliteConnection::establish(url.trim_start_matches("sqlite://")).unwrap().batch_execute(sql).unwrap(),
                Backend::Postgres => diesel::PgConnection::establish(&url).unwrap().batch_execute(sql).unwrap(),
            }
        })
        .await
        .unwrap();
        let r = app.client.get(app.url("/lookup?grade=1&address=%E5%87%A4%E5%9F%8E%E9%95%87")).send().await.unwrap();
        assert_eq!(r.status(), 500);
        assert!(is_html(&r), "a page answers a page, even for 500");
        let body = r.text().await.unwrap();
        assert!(body.contains("系统内部错误") && !body.contains("catchment_rules"), "no internal detail: {body}");
        let r = app.client.get(app.url("/api/v1/catchment/lookup?grade=1&address=%E5%87%A4%E5%9F%8E%E9%95%87")).send().await.unwrap();
        assert_eq!(r.status(), 500);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "internal");
        assert!(!v.to_string().contains("catchment_rules"));
    }

    #[tokio::test]
    async fn rate_limited_answers_carry_retry_after(backend) {
        let app = spawn_app_with(backend, false, &[("RUXUE__SERVER__PUBLIC_RATE_PER_MINUTE", "2")]).await;
        let mut limited = None;
        for _ in 0..5 {
            let r = app.client.get(app.url("/lookup")).send().await.unwrap();
            if r.status() == 429 {
                limited = Some(r);
                break;
            }
        }
        let r = limited.expect("the third lookup in a minute is refused");
        assert!(r.headers().get("retry-after").is_some(), "429 says when to come back");
        assert!(is_html(&r), "the lookup page is refused with a page");
        assert!(r.text().await.unwrap().contains("请求过于频繁"));
        let r = app.client.get(app.url("/api/v1/catchment/lookup?address=x")).send().await.unwrap();
        assert_eq!(r.status(), 429);
        assert!(r.headers().get("retry-after").is_some());
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "rate_limited");
    }
}
