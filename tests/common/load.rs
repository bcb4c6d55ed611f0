//! Helpers for tests that run `ruxue serve` as a process and submit
//! registrations through it (tests/perf.rs): start/kill a server, a parent
//! logged in through the development login, distinct valid children.
#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const CAMPAIGN: &str = "2027-G1";

/// A `ruxue` command with the test environment: `RUXUE_ENV=test`, the
/// database, uploads and mail under `dir`, nothing else from the caller's
/// `RUXUE*` variables.
pub fn ruxue_cmd(db_url: &str, dir: &Path, extra: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(super::ruxue_bin());
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    for (k, _) in std::env::vars() {
        if k.starts_with("RUXUE") {
            cmd.env_remove(k);
        }
    }
    cmd.env("RUXUE_ENV", "test")
        .env("RUXUE__DATABASE__URL", db_url)
        .env("RUXUE__SERVER__PORT", "0")
        .env("RUXUE__UPLOADS__DIR", dir.join("uploads"))
        .env("RUXUE__MAIL__FILE_DIR", dir.join("mail"));
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd
}

/// Runs a `ruxue` command and panics with its output when it fails.
pub fn ruxue_ok(db_url: &str, dir: &Path, args: &[&str]) {
    let out = ruxue_cmd(db_url, dir, &[]).args(args).output().expect("run ruxue");
    assert!(out.status.success(), "ruxue {args:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

/// The demo county with `2027-G1` open for registration.
pub fn prepare_open_demo(db_url: &str, dir: &Path) {
    ruxue_ok(db_url, dir, &["demo"]);
    ruxue_ok(db_url, dir, &["campaign", "open", CAMPAIGN]);
}

/// A `ruxue serve` process.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    /// Starts `ruxue serve` and waits until it announces its address.
    pub fn start(db_url: &str, dir: &Path, extra: &[(&str, &str)]) -> Server {
        let mut cmd = ruxue_cmd(db_url, dir, extra);
        cmd.arg("serve").stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn ruxue serve");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tail = Vec::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("serving on http://").nth(1) {
                    let _ = tx.send(Ok(rest.split_whitespace().next().unwrap_or("").to_string()));
                } else {
                    tail.push(line);
                    if tail.len() > 50 {
                        tail.remove(0);
                    }
                }
            }
            let _ = tx.send(Err(tail.join("\n")));
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(addr)) => Server { child, base: format!("http://{addr}") },
            Ok(Err(log)) => panic!("ruxue serve exited before serving: {log}"),
            Err(_) => panic!("ruxue serve did not announce its address within 60 s"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// SIGKILL: no shutdown, no flush, nothing.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A checksum-valid, fictional ID number of a child of the 2027 first grade,
/// distinct for each `n` below 365 000.
pub fn child_id_number(n: u32) -> String {
    let day = chrono::NaiveDate::from_ymd_opt(2020, 9, 1).unwrap() + chrono::Duration::days(i64::from(n / 1000 % 365));
    let first = format!("350524{}{:03}", day.format("%Y%m%d"), n % 1000);
    format!("{first}{}", ruxue::identity::idcard::check_digit(&first).unwrap())
}

/// A small valid PNG (1×1), distinct for each `n`.
pub fn png(n: u32) -> Vec<u8> {
    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut v = (data.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(data);
        let mut c = 0xFFFF_FFFFu32;
        for &b in kind.iter().chain(data) {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        v.extend_from_slice(&(!c).to_be_bytes());
        v
    }
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
    let mut idat = vec![0x78, 0x01, 0x01, 0x04, 0x00, 0xFB, 0xFF, 0x00, 0xFF, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00];
    idat.extend_from_slice(&n.to_be_bytes());
    v.extend(chunk(b"IDAT", &idat));
    v.extend(chunk(b"IEND", b""));
    v
}

/// The child form of a registration.
pub fn child_form(n: u32) -> Value {
    json!({
        "child_name": "林小明",
        "id_number": child_id_number(n),
        "hukou_type": "local",
        "hukou_township": "凤城镇",
        "hukou_community": "东岳社区",
        "hukou_road": "二环路",
        "hukou_number": format!("{}", n % 500 + 1),
    })
}

/// What a request ended with: a status, or a transport error (refused,
/// reset: the server died).
pub type Outcome<T> = Result<T, String>;

/// A parent logged in through the development login, with the CSRF token.
pub struct LoadParent {
    pub c: reqwest::Client,
    pub csrf: String,
}

fn transport(e: reqwest::Error) -> String {
    e.to_string()
}

async fn expect(r: reqwest::Response, want: StatusCode, what: &str) -> Outcome<Value> {
    let s = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    if s == want {
        Ok(body)
    } else {
        Err(format!("{what}: {s} {body}"))
    }
}

impl LoadParent {
    /// Logs in as `openid` on `base` and fills in the guardian's profile.
    pub async fn login(base: &str, openid: &str) -> Outcome<LoadParent> {
        let c = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let r = c.post(format!("{base}/parent/dev-login")).form(&[("openid", openid)]).send().await.map_err(transport)?;
        if r.status() != StatusCode::SEE_OTHER {
            return Err(format!("dev login: {}", r.status()));
        }
        let s = expect(c.get(format!("{base}/api/v1/registration/session")).send().await.map_err(transport)?, StatusCode::OK, "session")
            .await?;
        let p = LoadParent { c, csrf: s["csrf_token"].as_str().unwrap_or_default().to_string() };
        let r =
            p.c.put(format!("{base}/api/v1/registration/guardian"))
                .header("X-CSRF-Token", &p.csrf)
                .json(&json!({"name": "林美玲", "relation": "母亲", "mobile": "13805951234"}))
                .send()
                .await
                .map_err(transport)?;
        expect(r, StatusCode::OK, "guardian").await?;
        Ok(p)
    }

    /// A draft with the child and the 户口簿 uploaded, ready to submit.
    pub async fn prepare(&self, base: &str, n: u32) -> Outcome<String> {
        let r = self
            .c
            .post(format!("{base}/api/v1/registration/campaigns/{CAMPAIGN}/drafts"))
            .header("X-CSRF-Token", &self.csrf)
            .send()
            .await
            .map_err(transport)?;
        let d = expect(r, StatusCode::CREATED, "draft").await?;
        let draft = d["draft_id"].as_str().unwrap_or_default().to_string();
        let r = self
            .c
            .put(format!("{base}/api/v1/registration/drafts/{draft}/child"))
            .header("X-CSRF-Token", &self.csrf)
            .json(&child_form(n))
            .send()
            .await
            .map_err(transport)?;
        expect(r, StatusCode::OK, "child").await?;
        let form = reqwest::multipart::Form::new()
            .text("kind", "hukou")
            .part("file", reqwest::multipart::Part::bytes(png(n)).file_name("h.png").mime_str("image/png").unwrap());
        let r = self
            .c
            .post(format!("{base}/api/v1/registration/drafts/{draft}/documents"))
            .header("X-CSRF-Token", &self.csrf)
            .multipart(form)
            .send()
            .await
            .map_err(transport)?;
        expect(r, StatusCode::CREATED, "upload").await?;
        Ok(draft)
    }

    /// Submits the draft: `Ok((application id, registration number))` only on a 2xx.
    pub async fn submit(&self, base: &str, draft: &str) -> Outcome<(String, String)> {
        let r = self
            .c
            .post(format!("{base}/api/v1/registration/drafts/{draft}/submit"))
            .header("X-CSRF-Token", &self.csrf)
            .header("Idempotency-Key", format!("submit-{draft}"))
            .send()
            .await
            .map_err(transport)?;
        if !r.status().is_success() {
            return Err(format!("submit: {}", r.status()));
        }
        let b: Value = r.json().await.map_err(transport)?;
        Ok((b["application_id"].as_str().unwrap_or_default().to_string(), b["registration_no"].as_str().unwrap_or_default().to_string()))
    }
}
