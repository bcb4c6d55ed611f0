//! The draw day's shared test steps (used by `tests/draw_day.rs` and
//! `tests/draw_pages.rs`): a drand relay on loopback serving quicknet round
//! 657413, closing review, calling the API, the school to draw, and an
//! announcement that names round 657413.

use super::TestApp;
use diesel::prelude::*;
use ruxue::db::schema;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const CHAIN: &str = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971";
pub const SIG_657413: &str = "b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be41076862b98fad56e91a6b85b89cd97b";

/// A drand relay on loopback: serves quicknet round 657413 and refuses
/// every other path. Counts requests.
pub async fn relay() -> (String, Arc<AtomicUsize>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", l.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else { break };
            let h = h.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                h.fetch_add(1, Ordering::SeqCst);
                let path = req.split_whitespace().nth(1).unwrap_or("").to_string();
                let (status, body) = if path == format!("/{CHAIN}/public/657413") {
                    ("200 OK", json!({"round": 657413, "randomness": "fc1873a13f3545aeade8401532ef5519920652eee6b0d2b19ca12643b87b3587", "signature": SIG_657413}).to_string())
                } else {
                    ("404 Not Found", "{\"error\":\"unknown round\"}".to_string())
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            });
        }
    });
    (addr, hits)
}

/// Move a demo campaign to the draw phase (review closed) directly: the
/// phase steps have their own tests; here review is taken as done.
pub async fn close_review(app: &TestApp, campaign: &'static str) {
    app.state
        .db
        .write(move |c| {
            diesel::update(schema::campaigns::table.find(campaign)).set(schema::campaigns::status.eq("draw")).execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
}

pub async fn call(app: &TestApp, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = match method {
        "GET" => app.client.get(app.url(path)),
        _ => app.client.post(app.url(path)),
    }
    .bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

pub async fn anon(app: &TestApp, path: &str) -> (u16, String) {
    let r = app.client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The first over-subscribed school of the campaign's plan.
pub async fn school_to_draw(app: &TestApp, op: &str, campaign: &str) -> (String, i64) {
    let (s, p) = call(app, "GET", &format!("/api/v1/staff/draws/plan?campaign={campaign}"), op, None).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["final"], true, "{p}");
    let x = p["proposals"].as_array().unwrap().iter().find(|x| x["decision"] == "school_draw").expect("a school that draws").clone();
    (x["id"].as_str().unwrap().to_string(), x["applicants"].as_i64().unwrap())
}

/// Announce through the use case with a clock set to 2023-09-15, so that
/// the draw names quicknet round 657413 (whose real signature the relay
/// serves); over HTTP the scheduled time must lie in the future.
pub async fn announce_for_657413(app: &TestApp, draw: &str) -> Value {
    let key = app.state.settings.draw_signing_key().unwrap();
    let fallback = app.state.settings.draw.fallback.clone();
    let id = draw.to_string();
    let settings = app.state.settings.clone();
    let t = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
    let d = app
        .state
        .db
        .write(move |c| {
            ruxue::service::draw::announce_in(
                c,
                &settings,
                "staff:test-operator",
                &key,
                &fallback,
                &id,
                t("2023-09-15 11:00:02"),
                t("2023-09-15 10:00:00"),
            )
        })
        .await
        .unwrap();
    assert_eq!(d.beacon_round, Some(657413));
    json!({"digest": d.announcement_digest})
}
