//! Staff sign-in for the tests: a bearer token through the API, or a
//! browser-like client signed in through the login form.

use super::TestApp;
use serde_json::{json, Value};

/// A client that keeps cookies and does not follow redirects, like the checks need.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap()
}

/// `(access, refresh)` tokens of a staff member, signed in through the API.
pub async fn api_login(app: &TestApp, user: &str, password: &str) -> (String, String) {
    let r = client().post(app.url("/api/v1/staff/login")).json(&json!({"username": user, "password": password})).send().await.unwrap();
    assert_eq!(r.status(), 200, "login {user}");
    let v: Value = r.json().await.unwrap();
    (v["access_token"].as_str().unwrap().into(), v["refresh_token"].as_str().unwrap().into())
}

/// A staff member's bearer (access) token.
pub async fn token(app: &TestApp, user: &str, password: &str) -> String {
    api_login(app, user, password).await.0
}

pub fn set_cookie_value(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers().get_all("set-cookie").iter().filter_map(|h| h.to_str().ok()).find_map(|c| {
        let (kv, _) = c.split_once(';').unwrap_or((c, ""));
        let (k, v) = kv.split_once('=')?;
        (k.trim() == name).then(|| v.trim().to_string())
    })
}

/// A browser-like client logged in through the form; returns it and its CSRF token.
pub async fn page_login(app: &TestApp, who: (&str, &str)) -> (reqwest::Client, String) {
    let c = client();
    let r = c.get(app.url("/staff/login")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csrf = set_cookie_value(&r, "ruxue_csrf").expect("csrf cookie");
    let r = c
        .post(app.url("/staff/login"))
        .form(&[("username", who.0), ("password", who.1), ("csrf", &csrf), ("next", "/staff")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "page login {}", who.0);
    let set = r.headers().get_all("set-cookie").iter().map(|h| h.to_str().unwrap().to_string()).collect::<Vec<_>>();
    assert!(set.iter().any(|c| c.starts_with("ruxue_staff_at=") && c.contains("HttpOnly") && c.contains("SameSite=Strict")), "{set:?}");
    let csrf = set_cookie_value(&r, "ruxue_csrf").unwrap_or(csrf);
    (c, csrf)
}
