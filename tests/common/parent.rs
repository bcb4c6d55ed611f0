//! A parent signed in through the development login (`security.dev_login`,
//! on in the test configuration), with the API's CSRF token, and the files
//! parents upload: real, decodable images (the server re-encodes them) and
//! hostile ones.
#![allow(dead_code)]

use super::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};

pub struct DevParent {
    pub c: reqwest::Client,
    pub csrf: String,
    pub token: String,
}

/// Logs `openid` in through `/parent/dev-login` and fills in the guardian's profile.
pub async fn dev_parent(app: &TestApp, openid: &str) -> DevParent {
    let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
    let r = c.post(app.url("/parent/dev-login")).form(&[("openid", openid)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "dev login");
    let s: Value = c.get(app.url("/api/v1/registration/session")).send().await.unwrap().json().await.unwrap();
    let p = DevParent { c, csrf: s["csrf_token"].as_str().unwrap().into(), token: s["token"].as_str().unwrap().into() };
    let (st, b) = p.put(app, "/api/v1/registration/guardian", json!({"name": "林美玲", "relation": "母亲", "mobile": "13805951234"})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    p
}

impl DevParent {
    pub async fn post(&self, app: &TestApp, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut rb = self.c.post(app.url(path)).header("X-CSRF-Token", &self.csrf);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    pub async fn put(&self, app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self.c.put(app.url(path)).header("X-CSRF-Token", &self.csrf).json(&body).send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    pub async fn get(&self, app: &TestApp, path: &str) -> (StatusCode, Value) {
        let r = self.c.get(app.url(path)).send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    pub async fn new_draft(&self, app: &TestApp, campaign: &str) -> String {
        let (s, b) = self.post(app, &format!("/api/v1/registration/campaigns/{campaign}/drafts"), None).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["draft_id"].as_str().unwrap().to_string()
    }
    pub async fn upload(&self, app: &TestApp, draft: &str, kind: &str, name: &str, mime: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let form = reqwest::multipart::Form::new()
            .text("kind", kind.to_string())
            .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()).mime_str(mime).unwrap());
        let r = self
            .c
            .post(app.url(&format!("/api/v1/registration/drafts/{draft}/documents")))
            .header("X-CSRF-Token", &self.csrf)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    /// A complete registration of one child (one document); the application id.
    pub async fn register(&self, app: &TestApp, campaign: &str, name: &str, id: &str) -> String {
        let draft = self.new_draft(app, campaign).await;
        let (s, b) = self.put(app, &format!("/api/v1/registration/drafts/{draft}/child"), child(name, id)).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, b) = self.upload(app, &draft, "hukou", "h.png", "image/png", real_png(8, 8)).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (s, b) = self.post(app, &format!("/api/v1/registration/drafts/{draft}/submit"), None).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["application_id"].as_str().unwrap().to_string()
    }
}

/// A first-grade child with a local hukou in 凤城镇.
pub fn child(name: &str, id: &str) -> Value {
    json!({
        "child_name": name,
        "id_number": id,
        "hukou_type": "local",
        "hukou_township": "凤城镇",
        "hukou_community": "东岳社区",
        "hukou_road": "二环路",
        "hukou_number": "123",
    })
}

/// A valid ID number: region, birth date, sequence, computed check digit.
pub fn id_number(region: &str, birth: &str, seq: &str) -> String {
    let first = format!("{region}{birth}{seq}");
    format!("{first}{}", ruxue::identity::idcard::check_digit(&first).unwrap())
}

fn gradient(w: u32, h: u32) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7 % 256) as u8, (y * 5 % 256) as u8, 90]))
}

/// A decodable PNG of `w`×`h` pixels.
pub fn real_png(w: u32, h: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    gradient(w, h).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A decodable JPEG of `w`×`h` pixels.
pub fn real_jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    gradient(w, h).write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// A real JPEG with an EXIF segment (GPS position) right after SOI.
pub fn real_jpeg_with_gps() -> Vec<u8> {
    let jpeg = real_jpeg(16, 16);
    let mut exif = b"Exif\0\0MM\0*\0\0\0\x08".to_vec();
    exif.extend_from_slice(b"GPSLatitude N 25 03 41.2");
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

pub fn png_chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
    let mut v = (data.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(data);
    let mut crc_in = kind.to_vec();
    crc_in.extend_from_slice(data);
    v.extend_from_slice(&crc32(&crc_in).to_be_bytes());
    v
}

/// A PNG that says it is `w`×`h` (RGB, 8 bits) over a few hundred KB of
/// compressed zeros: a decompression bomb when `w`, `h` are large.
pub fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    use std::io::Write;
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut z = flate2_like_zeros(4 * 1024 * 1024);
    z.flush().unwrap();
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend(png_chunk(b"IHDR", &ihdr));
    v.extend(png_chunk(b"IDAT", z.get_ref()));
    v.extend(png_chunk(b"IEND", b""));
    v
}

/// Zeros, deflated by the `image` crate's own PNG encoder (no extra crate):
/// the IDAT of a blank image, `n` bytes of rows.
fn flate2_like_zeros(n: usize) -> std::io::Cursor<Vec<u8>> {
    let side = ((n / 3) as f64).sqrt() as u32;
    let blank = image::RgbImage::new(side, side);
    let mut out = std::io::Cursor::new(Vec::new());
    blank.write_to(&mut out, image::ImageFormat::Png).unwrap();
    let png = out.into_inner();
    // Take the IDAT data of the encoded blank image.
    let mut i = 8;
    let mut idat = Vec::new();
    while i + 8 <= png.len() {
        let len = u32::from_be_bytes([png[i], png[i + 1], png[i + 2], png[i + 3]]) as usize;
        if &png[i + 4..i + 8] == b"IDAT" {
            idat.extend_from_slice(&png[i + 8..i + 8 + len]);
        }
        i += 12 + len;
    }
    std::io::Cursor::new(idat)
}
