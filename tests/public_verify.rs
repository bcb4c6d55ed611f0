//! The browser verifier served by ruxue itself at `/verify/`: the page and
//! its assets come from the binary with a strict CSP, and the page, opened
//! from the real server in headless Chromium, verifies a published vector.
//! (The verifier's own exhaustive tests are in tests/browser_verifier.rs.)

mod common;

use common::browser::Browser;
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn the_service_serves_the_browser_verifier() {
    let app = spawn_app(Backend::Sqlite).await;
    let r = app.client.get(app.url("/verify")).send().await.unwrap();
    assert_eq!(r.status(), 308);
    assert_eq!(r.headers()["location"], "/verify/");
    for (path, mime, needle) in [
        ("/verify/", "text/html", "verify-draw.js"),
        ("/verify/verify-draw.js", "text/javascript", "RuxueVerify"),
        ("/verify/verify-page.js", "text/javascript", "RuxueVerify"),
        ("/verify/verify.css", "text/css", "{"),
    ] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with(mime), "{path}");
        let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(r.text().await.unwrap().contains(needle), "{path}");
    }
    let r = app.client.get(app.url("/verify/../Cargo.toml")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = app.client.get(app.url("/verify/nope.js")).send().await.unwrap();
    assert_eq!(r.status(), 404);

    // The page from the real server verifies the spec's first vector.
    let record =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/01-spec-example.json")).unwrap();
    let expected = ruxue::draw::verify(&record).expect("the vector verifies in Rust").result_digest;
    let mut b = Browser::start("public_verify", 375, 812).await;
    b.client.goto(&app.url("/verify/")).await.unwrap();
    let mut ready = false;
    for _ in 0..100 {
        if b.client.execute("return typeof window.RuxueVerify === 'object'", vec![]).await.unwrap() == json!(true) {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "the verifier script loads under the page's CSP");
    let v: Value = b
        .client
        .execute_async("const done = arguments[arguments.length - 1]; RuxueVerify.verifyRecord(arguments[0]).then(done, (e) => done({thrown: String(e)}));", vec![json!(record)])
        .await
        .unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["result_digest"], expected.as_str());
    b.shot("verify-page").await;
    b.close().await;
}
