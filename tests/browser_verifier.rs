//! The in-browser draw verifier (`static/verify/`) in headless Chromium.
//!
//! A tiny HTTP server in the test serves `static/verify/` under a nested
//! prefix with a strict Content-Security-Policy (no inline scripts or
//! styles); the page and `RuxueVerify` (verify-draw.js) run in Chromium via
//! `tests/common/browser.rs`. Checked against the Rust engine:
//!
//! * every record in `tests/vectors/*.json` verifies, in its published,
//!   canonical and reordered forms, with the result, announcement and
//!   record digests the Rust engine computes; `computeInput` on the input
//!   part gives the very bytes of `ruxue::draw::compute`;
//! * every file in `tests/vectors/invalid/` is refused (as text and as
//!   bytes), with the fault named;
//! * tampered records (a lottery number, two assignments swapped, a seat
//!   count, a source value, ...) are refused with the first difference named;
//! * the page: match, mismatch, invalid, file input; screenshots in
//!   `target/screenshots/browser_verifier/`;
//! * Ed25519 JWS announcement signatures (signed here with ring through
//!   rustls, and round-tripped inside the browser), if the browser has
//!   Ed25519 in Web Crypto.
//!
//! `bench_browser_verify` (ignored) times the browser on a large record;
//! `bench/browser_verify.sh` runs it.

mod common;

use base64::Engine as _;
use common::browser::Browser;
use fantoccini::wd::TimeoutConfiguration;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where the page is served: a nested prefix, to check that every path in
/// the page is relative.
const PREFIX: &str = "/audit/2027/verify";

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One browser at a time: the machine has two cores.
static BROWSER_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------
// A minimal static HTTP server

struct Server {
    base: String,
    /// Extra documents served at `/data/<name>`.
    data: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let data: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        let shared = data.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let data = shared.clone();
                std::thread::spawn(move || {
                    let _ = handle(stream, &data);
                });
            }
        });
        Server { base, data }
    }

    fn page(&self) -> String {
        format!("{}{PREFIX}/verify.html", self.base)
    }

    fn put(&self, name: &str, bytes: Vec<u8>) -> String {
        self.data.lock().unwrap().insert(name.to_string(), bytes);
        format!("/data/{name}")
    }
}

fn handle(stream: TcpStream, data: &Mutex<HashMap<String, Vec<u8>>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split('?').next().unwrap_or(path);
    let found = if let Some(name) = path.strip_prefix(&format!("{PREFIX}/")) {
        static_file(name)
    } else if let Some(name) = path.strip_prefix("/data/") {
        data.lock().unwrap().get(name).map(|b| (b.clone(), "application/json"))
    } else {
        None
    };
    let mut out = stream;
    match found {
        Some((body, kind)) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
                 Content-Security-Policy: {CSP}\r\nX-Content-Type-Options: nosniff\r\n\
                 Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            out.write_all(&body)?;
        }
        None => write!(out, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?,
    }
    out.flush()
}

/// A file of `static/verify/` (plain names only).
fn static_file(name: &str) -> Option<(Vec<u8>, &'static str)> {
    let plain = !name.is_empty()
        && name.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
        && !name.starts_with('.');
    if !plain {
        return None;
    }
    let kind = match name.rsplit('.').next()? {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        _ => return None,
    };
    let body = std::fs::read(root().join("static/verify").join(name)).ok()?;
    Some((body, kind))
}

// ---------------------------------------------------------------------------
// Helpers

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

fn name_of(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// CJSON of a JSON text, by the Rust engine's own canonical writer.
fn cjson_of(text: &str) -> String {
    let v = ruxue::draw::cjson::parse(text).expect("the Rust CJSON parser accepts it");
    String::from_utf8(v.to_bytes()).unwrap()
}

/// The same members in reverse order at every level, with whitespace and
/// `\u` escapes for every non-ASCII character (not CJSON, same value).
fn reordered(v: &Value) -> String {
    fn rev(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut out = serde_json::Map::new();
                for (k, x) in m.iter().rev() {
                    out.insert(k.clone(), rev(x));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(rev).collect()),
            x => x.clone(),
        }
    }
    let pretty = serde_json::to_string_pretty(&rev(v)).unwrap();
    let mut out = String::with_capacity(pretty.len());
    for c in pretty.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for u in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

async fn open_page(b: &Browser, server: &Server) {
    b.client.update_timeouts(TimeoutConfiguration::new(Some(Duration::from_secs(300)), Some(Duration::from_secs(60)), None)).await.unwrap();
    b.client.goto(&server.page()).await.unwrap();
    for _ in 0..100 {
        let ready = b
            .client
            .execute("return document.body && document.body.dataset.ready === 'true' && !!window.RuxueVerify;", vec![])
            .await
            .unwrap();
        if ready == json!(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the verify page did not become ready under its CSP; it shows: {}", b.body_text().await);
}

/// Runs `RuxueVerify.<call>` in the page; `args` are the JS arguments.
async fn js(b: &Browser, call: &str, args: Vec<Value>) -> Value {
    let script = format!(
        "const done = arguments[arguments.length - 1];\n\
         const args = Array.prototype.slice.call(arguments, 0, arguments.length - 1);\n\
         Promise.resolve().then(() => {call}).then(done, (e) => done({{thrown: String(e && e.stack || e)}}));"
    );
    let v = b.client.execute_async(&script, args).await.unwrap();
    assert!(v.get("thrown").is_none(), "{call} threw: {v}");
    v
}

async fn verify_text(b: &Browser, text: &str) -> Value {
    js(b, "RuxueVerify.verifyRecord(args[0])", vec![json!(text)]).await
}

/// verifyRecord on the UTF-8 bytes (as a file input gives them).
async fn verify_bytes(b: &Browser, bytes: &[u8]) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    js(b, "RuxueVerify.verifyRecord(Uint8Array.from(atob(args[0]), (c) => c.charCodeAt(0)))", vec![json!(b64)]).await
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("no string {k:?} in {v}"))
}

// ---------------------------------------------------------------------------
// Vectors

/// Words the refusal of each known invalid vector must contain. A vector
/// added later without an entry here must still be refused.
const INVALID_WORDS: &[(&str, &[&str])] = &[
    ("byte-order-mark.json", &["byte order mark"]),
    ("duplicate-id.json", &["duplicate id", "roster[1]"]),
    ("duplicate-source-name.json", &["duplicate source name", "witness-1"]),
    ("empty-draw-id.json", &["announcement.draw_id", "identifier"]),
    ("extra-member.json", &["unexpected member", "weight", "roster[0]"]),
    ("family-names-non-member.json", &["family", "roster[3]"]),
    ("float-seats.json", &["not a plain integer", "1.0"]),
    ("missing-source.json", &["missing source", "beacon"]),
    ("negative-seats.json", &["seats", ">= 0", "-1"]),
    ("negative-zero.json", &["-0"]),
    ("no-sources.json", &["announcement.sources", "must not be empty"]),
    ("non-ascii-key.json", &["printable ASCII"]),
    ("priority-missing.json", &["priority", "missing member", "S02"]),
    ("repeated-key.json", &["repeated member name", "seats"]),
    ("too-deep.json", &["deeper than 32"]),
    ("unknown-school.json", &["unknown school", "S99", "prefs[1]"]),
    ("unsorted-roster.json", &["not sorted"]),
    ("wrong-commitment.json", &["commitment", "sources[0]"]),
    ("wrong-root.json", &["roster_root"]),
    ("wrong-size.json", &["roster_size"]),
];

#[tokio::test]
async fn vectors_verify_in_the_browser_as_in_the_rust_engine() {
    let _one = BROWSER_LOCK.lock().await;
    let server = Server::start();
    let b = Browser::start("browser_verifier_vectors", 1280, 900).await;
    open_page(&b, &server).await;
    assert_eq!(js(&b, "RuxueVerify.selfTest()", vec![]).await, json!(true), "self-test");

    let valid = json_files(&root().join("tests/vectors"));
    assert!(valid.len() >= 6, "the spec's six vectors are present");
    for path in &valid {
        let name = name_of(path);
        let text = std::fs::read_to_string(path).unwrap();
        let rust = ruxue::draw::verify(&text).unwrap_or_else(|e| panic!("{name}: Rust: {e}"));
        let record: Value = serde_json::from_str(&text).unwrap();
        let canonical = cjson_of(&text);
        let record_digest = ruxue::draw::digest_hex(canonical.as_bytes());

        for (form, t) in [("published", text.clone()), ("canonical", canonical.clone()), ("reordered", reordered(&record))] {
            let r = verify_text(&b, &t).await;
            assert_eq!(r["ok"], json!(true), "{name} ({form}): {r}");
            assert_eq!(s(&r, "result_digest"), rust.result_digest, "{name} ({form})");
            assert_eq!(s(&r, "published_result_digest"), rust.result_digest, "{name} ({form})");
            assert_eq!(r["announcement_digest"], record["result"]["announcement_digest"], "{name} ({form})");
            assert_eq!(r["seed"], record["result"]["seed"], "{name} ({form})");
            assert_eq!(r["draw_id"], json!(rust.draw_id), "{name} ({form})");
            assert_eq!(s(&r, "record_digest"), record_digest, "{name} ({form})");
        }
        // The bytes, as the file input reads them.
        let r = verify_bytes(&b, text.as_bytes()).await;
        assert_eq!(r["ok"], json!(true), "{name} (bytes): {r}");
        assert_eq!(s(&r, "result_digest"), rust.result_digest, "{name} (bytes)");

        // The input part: computeInput gives exactly the Rust engine's result bytes.
        let mut input = record.clone();
        input.as_object_mut().unwrap().remove("result");
        let input_text = serde_json::to_string(&input).unwrap();
        let computed = ruxue::draw::compute(&input_text).unwrap();
        let r = js(&b, "RuxueVerify.computeInput(args[0])", vec![json!(input_text)]).await;
        assert_eq!(r["ok"], json!(true), "{name} (input): {r}");
        assert_eq!(s(&r, "result").as_bytes(), &computed.result[..], "{name}: result bytes");
        assert_eq!(s(&r, "result_digest"), computed.result_digest, "{name}");
        // An input is not a record.
        let r = verify_text(&b, &input_text).await;
        assert_eq!(r["ok"], json!(false), "{name}: an input without result");
        assert!(s(&r, "error").contains("missing member \"result\""), "{r}");
    }

    let invalid = json_files(&root().join("tests/vectors/invalid"));
    assert!(invalid.len() >= INVALID_WORDS.len(), "all {} invalid vectors of the spec are in tests/vectors/invalid", INVALID_WORDS.len());
    for (known, _) in INVALID_WORDS {
        assert!(invalid.iter().any(|p| name_of(p) == *known), "tests/vectors/invalid/{known} is missing");
    }
    for path in &invalid {
        let name = name_of(path);
        let bytes = std::fs::read(path).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let words = INVALID_WORDS.iter().find(|(n, _)| *n == name).map(|(_, w)| *w).unwrap_or(&[]);
        let as_input = js(&b, "RuxueVerify.computeInput(args[0])", vec![json!(text)]).await;
        let as_text = verify_text(&b, &text).await;
        let as_bytes = verify_bytes(&b, &bytes).await;
        for (how, r) in [("computeInput", &as_input), ("verifyRecord(text)", &as_text), ("verifyRecord(bytes)", &as_bytes)] {
            assert_eq!(r["ok"], json!(false), "{name} {how} must be refused: {r}");
            assert_eq!(r["invalid"], json!(true), "{name} {how}: {r}");
            assert!(r.get("result_digest").is_none(), "{name} {how}: computed nothing");
            let e = s(r, "error");
            for w in words {
                assert!(e.contains(w), "{name} {how}: {e:?} lacks {w:?}");
            }
        }
        // The fault is found before the absence of "result" is noticed.
        assert_eq!(as_text["error"], as_input["error"], "{name}");
        assert_eq!(as_bytes["error"], as_input["error"], "{name}");
    }
    b.close().await;
}

// ---------------------------------------------------------------------------
// Tampered records

fn record06() -> Value {
    let path = root().join("tests/vectors/06-random-1000-applicants-10-schools.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn tampered_records_are_refused_with_the_first_difference_named() {
    let _one = BROWSER_LOCK.lock().await;
    let server = Server::start();
    let b = Browser::start("browser_verifier_tampered", 1280, 900).await;
    open_page(&b, &server).await;
    let orig = record06();
    let res = &orig["result"];

    // A verifier that only looks at digests could be fooled by a wrong
    // record that is consistent; these are not.
    struct Case {
        what: &'static str,
        record: Value,
        path: String,
        extra: Vec<(&'static str, Value)>,
    }
    let mut cases = Vec::new();

    // One lottery number.
    {
        let mut r = orig.clone();
        let id = res["lottery"][10].as_str().unwrap().to_string();
        let n = r["result"]["lottery_numbers"][&id].as_i64().unwrap();
        r["result"]["lottery_numbers"][&id] = json!(n + 1);
        cases.push(Case {
            what: "one lottery number changed",
            record: r,
            path: format!("result.lottery_numbers.{id}"),
            extra: vec![("applicant", json!(id)), ("expected", json!(n)), ("found", json!(n + 1))],
        });
    }
    // Two assignments swapped between schools.
    {
        let mut r = orig.clone();
        let a = r["result"]["assignments"]["S00"][0].clone();
        let c = r["result"]["assignments"]["S02"][0].clone();
        r["result"]["assignments"]["S00"][0] = c.clone();
        r["result"]["assignments"]["S02"][0] = a.clone();
        cases.push(Case {
            what: "two assignments swapped",
            record: r,
            path: "result.assignments.S00[0]".into(),
            extra: vec![("school", json!("S00")), ("expected", a.clone()), ("found", c), ("applicant", a)],
        });
    }
    // Two admitted applicants of one school in the wrong order.
    {
        let mut r = orig.clone();
        let list = r["result"]["assignments"]["S03"].as_array_mut().unwrap();
        list.swap(4, 5);
        cases.push(Case {
            what: "ranking order within a school",
            record: r,
            path: "result.assignments.S03[4]".into(),
            extra: vec![("school", json!("S03")), ("index", json!(4))],
        });
    }
    // A seat count: the announcement changes, so does its digest.
    {
        let mut r = orig.clone();
        let seats = r["announcement"]["schools"][0]["seats"].as_i64().unwrap();
        r["announcement"]["schools"][0]["seats"] = json!(seats + 1);
        cases.push(Case {
            what: "a seat count changed",
            record: r,
            path: "result.announcement_digest".into(),
            extra: vec![("found", res["announcement_digest"].clone())],
        });
    }
    // The beacon's value (no commitment): the seed changes.
    {
        let mut r = orig.clone();
        r["sources"][2]["value"] = json!("38cd5a3987cfcea6cabe31234b1d7dd3fa90c1450d70cea51abfdbf841f7a69f");
        cases.push(Case {
            what: "the beacon value changed",
            record: r,
            path: "result.seed".into(),
            extra: vec![("found", res["seed"].clone())],
        });
    }
    // The lottery order.
    {
        let mut r = orig.clone();
        r["result"]["lottery"].as_array_mut().unwrap().swap(7, 8);
        cases.push(Case {
            what: "two places of the lottery order swapped",
            record: r,
            path: "result.lottery[7]".into(),
            extra: vec![("member", json!("lottery"))],
        });
    }
    // Someone dropped from a waitlist.
    {
        let mut r = orig.clone();
        let dropped = r["result"]["waitlists"]["S05"].as_array_mut().unwrap().remove(3);
        cases.push(Case {
            what: "an applicant dropped from a waitlist",
            record: r,
            path: "result.waitlists.S05[3]".into(),
            extra: vec![("school", json!("S05")), ("expected", dropped)],
        });
    }
    // An unassigned applicant moved into a school.
    {
        let mut r = orig.clone();
        let who = r["result"]["unassigned"].as_array_mut().unwrap().remove(0);
        r["result"]["assignments"]["S06"].as_array_mut().unwrap().push(who.clone());
        cases.push(Case {
            what: "an unassigned applicant admitted",
            record: r,
            path: "result.assignments.S06".into(),
            extra: vec![("school", json!("S06")), ("applicant", who)],
        });
    }
    // A lottery number of another type.
    {
        let mut r = orig.clone();
        let id = res["lottery"][0].as_str().unwrap().to_string();
        r["result"]["lottery_numbers"][&id] = json!("1");
        cases.push(Case {
            what: "a lottery number written as a string",
            record: r,
            path: format!("result.lottery_numbers.{id}"),
            extra: vec![("found", json!("1"))],
        });
    }
    // An extra member of the result.
    {
        let mut r = orig.clone();
        r["result"]["note"] = json!("edited");
        cases.push(Case {
            what: "an unexpected member in the result",
            record: r,
            path: "result".into(),
            extra: vec![("member", json!("note"))],
        });
    }

    for case in &cases {
        let published = serde_json::to_string_pretty(&case.record).unwrap();
        assert!(ruxue::draw::verify(&published).is_err(), "{}: the Rust engine refuses it too", case.what);
        for (form, text) in [("pretty", published.clone()), ("canonical", cjson_of(&published))] {
            let r = verify_text(&b, &text).await;
            assert_eq!(r["ok"], json!(false), "{} ({form}): {r}", case.what);
            let d = &r["difference"];
            assert_eq!(d["path"], json!(case.path), "{} ({form}): {r}", case.what);
            for (k, v) in &case.extra {
                assert_eq!(&d[k], v, "{} ({form}): difference.{k} in {d}", case.what);
            }
            assert!(!s(d, "message").is_empty());
            // The digests are still reported: the recomputed result's and the published one's.
            assert_ne!(r["result_digest"], r["published_result_digest"], "{r}");
        }
    }

    // Faults in the input part are refusals, not differences.
    let mut r = orig.clone();
    r["sources"][0]["value"] = json!("32152729");
    let v = verify_text(&b, &serde_json::to_string(&r).unwrap()).await;
    assert_eq!(v["invalid"], json!(true), "{v}");
    assert!(
        s(&v, "error").contains("sources[0]") && s(&v, "error").contains("commitment"),
        "a witness value that fails its commitment: {v}"
    );
    let text = serde_json::to_string(&orig).unwrap();
    let id = res["lottery"][0].as_str().unwrap();
    let needle = format!("\"{id}\":1");
    assert!(text.contains(&needle));
    let v = verify_text(&b, &text.replacen(&needle, &format!("\"{id}\":1.0"), 1)).await;
    assert_eq!(v["invalid"], json!(true), "a lottery number written 1.0: {v}");
    assert!(s(&v, "error").contains("1.0"), "{v}");
    let v = verify_text(&b, &text.replacen(&needle, &format!("\"{id}\":true"), 1)).await;
    assert_eq!(v["difference"]["path"], json!(format!("result.lottery_numbers.{id}")), "a lottery number written true: {v}");
    b.close().await;
}

// ---------------------------------------------------------------------------
// The page

async fn wait_state(b: &Browser, id: &str, states: &[&str]) -> (String, String) {
    for _ in 0..600 {
        let v = b
            .client
            .execute("const e = document.getElementById(arguments[0]); return [e.dataset.state, e.textContent];", vec![json!(id)])
            .await
            .unwrap();
        let state = v[0].as_str().unwrap_or("").to_string();
        if states.contains(&state.as_str()) {
            return (state, v[1].as_str().unwrap_or("").to_string());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("#{id} never reached {states:?}; page: {}", b.body_text().await);
}

async fn set_value(b: &Browser, id: &str, value: &str) {
    b.client.execute("document.getElementById(arguments[0]).value = arguments[1];", vec![json!(id), json!(value)]).await.unwrap();
}

#[tokio::test]
async fn verify_page_shows_match_and_mismatch() {
    let _one = BROWSER_LOCK.lock().await;
    let server = Server::start();
    let mut b = Browser::start("browser_verifier", 1280, 1000).await;
    open_page(&b, &server).await;
    let body = b.body_text().await;
    assert!(body.contains("派位记录核验"), "{body}");
    b.shot("page").await;

    let orig = record06();
    set_value(&b, "record-text", &serde_json::to_string_pretty(&orig).unwrap()).await;
    b.find_css("#verify").await.click().await.unwrap();
    let (state, text) = wait_state(&b, "verdict", &["match", "mismatch", "invalid", "error"]).await;
    assert_eq!(state, "match", "{text}");
    assert!(text.starts_with("一致"), "{text}");
    let body = b.body_text().await;
    let digest = orig["result"]["announcement_digest"].as_str().unwrap();
    assert!(body.contains(digest), "the announcement digest is shown");
    b.shot("match").await;

    // A changed lottery number.
    let mut bad = orig.clone();
    let id = orig["result"]["lottery"][10].as_str().unwrap().to_string();
    let n = bad["result"]["lottery_numbers"][&id].as_i64().unwrap();
    bad["result"]["lottery_numbers"][&id] = json!(n + 1);
    set_value(&b, "record-text", &serde_json::to_string(&bad).unwrap()).await;
    b.find_css("#verify").await.click().await.unwrap();
    let (state, text) = wait_state(&b, "verdict", &["match", "mismatch", "invalid", "error"]).await;
    assert_eq!(state, "mismatch", "{text}");
    assert!(text.starts_with("不一致"), "{text}");
    assert!(text.contains(&id) && text.contains("派位号"), "{text}");
    assert!(text.contains(&format!("应为 {n}")) && text.contains(&format!("记录中为 {}", n + 1)), "{text}");
    b.shot("mismatch").await;

    // Two assignments swapped.
    let mut bad = orig.clone();
    let a = bad["result"]["assignments"]["S00"][0].clone();
    let c = bad["result"]["assignments"]["S02"][0].clone();
    bad["result"]["assignments"]["S00"][0] = c.clone();
    bad["result"]["assignments"]["S02"][0] = a.clone();
    set_value(&b, "record-text", &serde_json::to_string(&bad).unwrap()).await;
    b.find_css("#verify").await.click().await.unwrap();
    let (state, text) = wait_state(&b, "verdict", &["match", "mismatch", "invalid", "error"]).await;
    assert_eq!(state, "mismatch", "{text}");
    assert!(text.contains("录取名单") && text.contains("学校 S00") && text.contains("第 1 位"), "{text}");
    b.shot("mismatch-assignments").await;

    // From a file: a valid record, then an invalid one.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("record.json");
    std::fs::copy(root().join("tests/vectors/04-random-40-applicants-3-schools.json"), &file).unwrap();
    b.find_css("#record-file").await.send_keys(&file.display().to_string()).await.unwrap();
    b.find_css("#verify").await.click().await.unwrap();
    let (state, text) = wait_state(&b, "verdict", &["match", "mismatch", "invalid", "error"]).await;
    assert_eq!(state, "match", "a record from a file: {text}");

    b.find_css("#clear-file").await.click().await.unwrap();
    let bom = dir.path().join("bom.json");
    std::fs::copy(root().join("tests/vectors/invalid/byte-order-mark.json"), &bom).unwrap();
    b.find_css("#record-file").await.send_keys(&bom.display().to_string()).await.unwrap();
    b.find_css("#verify").await.click().await.unwrap();
    let (state, text) = wait_state(&b, "verdict", &["match", "mismatch", "invalid", "error"]).await;
    assert_eq!(state, "invalid", "{text}");
    assert!(text.starts_with("记录无效") && text.contains("byte order mark"), "{text}");
    b.shot("invalid").await;
    b.find_css("#clear-file").await.click().await.unwrap();

    // With the announcement's signature.
    let key = TestKey::generate();
    let rec01 = std::fs::read_to_string(root().join("tests/vectors/01-spec-example.json")).unwrap();
    let jws = key.sign_announcement(&announcement_cjson(&rec01));
    set_value(&b, "record-text", &rec01).await;
    set_value(&b, "jws", &jws).await;
    set_value(&b, "jwk", &key.jwk().to_string()).await;
    b.client.execute("document.getElementById('signature').open = true;", vec![]).await.unwrap();
    b.find_css("#verify").await.click().await.unwrap();
    let (state, _) = wait_state(&b, "verdict", &["match", "mismatch", "invalid", "error"]).await;
    assert_eq!(state, "match");
    let (state, text) = wait_state(&b, "signature-verdict", &["valid", "invalid", "unsupported"]).await;
    let supported = js(&b, "RuxueVerify.ed25519Supported()", vec![]).await == json!(true);
    if supported {
        assert_eq!(state, "valid", "{text}");
        assert!(text.contains("公告签名有效"), "{text}");
    } else {
        assert_eq!(state, "unsupported", "{text}");
    }
    b.shot("signature").await;
    b.close().await;
}

// ---------------------------------------------------------------------------
// Signatures

/// An Ed25519 key made here (ring, through rustls: no extra crate).
struct TestKey {
    key: Arc<dyn rustls::sign::SigningKey>,
    public: [u8; 32],
}

impl TestKey {
    fn generate() -> TestKey {
        let seed: [u8; 32] = rand::random();
        // PKCS#8 v1 (RFC 8410) wrapping of an Ed25519 private key.
        let mut der = vec![0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
        der.extend_from_slice(&seed);
        let pkcs8 = rustls::pki_types::PrivatePkcs8KeyDer::from(der);
        let key = rustls::crypto::ring::sign::any_eddsa_type(&pkcs8).expect("an Ed25519 key");
        let spki = key.public_key().expect("its public key");
        let spki: &[u8] = spki.as_ref();
        let public: [u8; 32] = spki[spki.len() - 32..].try_into().unwrap();
        TestKey { key, public }
    }

    fn jwk(&self) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(&self.public)})
    }

    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        let signer = self.key.choose_scheme(&[rustls::SignatureScheme::ED25519]).expect("an Ed25519 signer");
        signer.sign(msg).expect("a signature")
    }

    /// JWS compact serialisation with `payload` as is.
    fn jws(&self, header: &str, payload: &[u8]) -> String {
        let input = format!("{}.{}", b64url(header.as_bytes()), b64url(payload));
        let sig = self.sign(input.as_bytes());
        format!("{input}.{}", b64url(&sig))
    }

    fn sign_announcement(&self, announcement_cjson: &str) -> String {
        self.jws(r#"{"alg":"EdDSA","kid":"test"}"#, announcement_cjson.as_bytes())
    }
}

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn announcement_cjson(record_text: &str) -> String {
    let v: Value = serde_json::from_str(record_text).unwrap();
    cjson_of(&v["announcement"].to_string())
}

#[tokio::test]
async fn announcement_signatures() {
    let _one = BROWSER_LOCK.lock().await;
    let server = Server::start();
    let b = Browser::start("browser_verifier_signatures", 1280, 900).await;
    open_page(&b, &server).await;
    let sig = |jws: String, jwk: Value, record: Option<String>| {
        let b = &b;
        async move {
            js(
                b,
                "RuxueVerify.verifyAnnouncementSignature(args[0], args[1], args[2] === null ? undefined : args[2])",
                vec![json!(jws), jwk, json!(record)],
            )
            .await
        }
    };

    let rec01 = std::fs::read_to_string(root().join("tests/vectors/01-spec-example.json")).unwrap();
    let rec04 = std::fs::read_to_string(root().join("tests/vectors/04-random-40-applicants-3-schools.json")).unwrap();
    let key = TestKey::generate();
    let ann01 = announcement_cjson(&rec01);
    let jws = key.sign_announcement(&ann01);

    let supported = js(&b, "RuxueVerify.ed25519Supported()", vec![]).await == json!(true);
    let version = b.client.execute("return navigator.userAgent;", vec![]).await.unwrap();
    if !supported {
        // Never a pass without a check.
        let r = sig(jws.clone(), key.jwk(), Some(rec01.clone())).await;
        assert_eq!(r["ok"], json!(false), "{r}");
        assert_eq!(r["supported"], json!(false), "{r}");
        assert!(s(&r, "error").contains("not supported by this browser"), "{r}");
        eprintln!("Ed25519 is not in this browser's Web Crypto ({version}); only the refusal was tested");
        b.close().await;
        return;
    }

    // Signed here, verified there; the signed announcement is the record's.
    let r = sig(jws.clone(), key.jwk(), Some(rec01.clone())).await;
    assert_eq!(r["ok"], json!(true), "{r}");
    assert_eq!(r["signature_valid"], json!(true));
    assert_eq!(r["matches_record"], json!(true));
    let rec01_v: Value = serde_json::from_str(&rec01).unwrap();
    assert_eq!(r["announcement_digest"], rec01_v["result"]["announcement_digest"]);
    assert_eq!(r["draw_id"], json!("2027-G1-FC-01"));
    // The key as JWK text works too, and no record is needed.
    let r = sig(jws.clone(), json!(key.jwk().to_string()), None).await;
    assert_eq!(r["ok"], json!(true), "{r}");

    // A valid signature over another draw's announcement.
    let r = sig(jws.clone(), key.jwk(), Some(rec04.clone())).await;
    assert_eq!(r["ok"], json!(false), "{r}");
    assert_eq!(r["signature_valid"], json!(true));
    assert_eq!(r["matches_record"], json!(false));
    assert!(s(&r, "error").contains("differs from the record"), "{r}");

    // A tampered payload under the old signature.
    let parts: Vec<&str> = jws.split('.').collect();
    let ann04 = announcement_cjson(&rec04);
    let forged = format!("{}.{}.{}", parts[0], b64url(ann04.as_bytes()), parts[2]);
    let r = sig(forged, key.jwk(), Some(rec04.clone())).await;
    assert_eq!(r["ok"], json!(false), "{r}");
    assert_eq!(r["signature_valid"], json!(false), "{r}");

    // A flipped bit of the signature; another key.
    let mut raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    raw[5] ^= 0x10;
    let flipped = format!("{}.{}.{}", parts[0], parts[1], b64url(&raw));
    let r = sig(flipped, key.jwk(), Some(rec01.clone())).await;
    assert_eq!(r["signature_valid"], json!(false), "{r}");
    let other = TestKey::generate();
    let r = sig(jws.clone(), other.jwk(), Some(rec01.clone())).await;
    assert_eq!(r["ok"], json!(false), "{r}");
    assert_eq!(r["signature_valid"], json!(false), "{r}");

    // Header and payload rules.
    let none = key.jws(r#"{"alg":"none"}"#, ann01.as_bytes());
    let r = sig(none, key.jwk(), None).await;
    assert_eq!(r["ok"], json!(false), "{r}");
    assert!(s(&r, "error").contains("EdDSA"), "{r}");
    let pretty = serde_json::to_string_pretty(&rec01_v["announcement"]).unwrap();
    let r = sig(key.jws(r#"{"alg":"EdDSA"}"#, pretty.as_bytes()), key.jwk(), None).await;
    assert_eq!(r["ok"], json!(false), "{r}");
    assert!(s(&r, "error").contains("canonical"), "{r}");
    let r = sig("a.b".into(), key.jwk(), None).await;
    assert_eq!(r["ok"], json!(false), "{r}");
    let r = sig(jws.clone(), json!({"kty": "OKP", "crv": "X25519", "x": b64url(&key.public)}), None).await;
    assert_eq!(r["ok"], json!(false), "{r}");

    // A round trip inside the browser: a key from Web Crypto generateKey.
    let r = js(
        &b,
        "(async () => {
            const enc = new TextEncoder();
            const b64 = (u) => btoa(String.fromCharCode(...u)).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
            const pair = await crypto.subtle.generateKey({name: 'Ed25519'}, true, ['sign', 'verify']);
            const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
            const input = b64(enc.encode('{\"alg\":\"EdDSA\"}')) + '.' + b64(enc.encode(args[0]));
            const sig = new Uint8Array(await crypto.subtle.sign({name: 'Ed25519'}, pair.privateKey, enc.encode(input)));
            const good = await RuxueVerify.verifyAnnouncementSignature(input + '.' + b64(sig), jwk, args[1]);
            sig[0] ^= 1;
            const bad = await RuxueVerify.verifyAnnouncementSignature(input + '.' + b64(sig), jwk, args[1]);
            return {good, bad};
        })()",
        vec![json!(ann01), json!(rec01)],
    )
    .await;
    assert_eq!(r["good"]["ok"], json!(true), "{r}");
    assert_eq!(r["bad"]["ok"], json!(false), "{r}");
    assert_eq!(r["bad"]["signature_valid"], json!(false), "{r}");
    b.close().await;
}

// ---------------------------------------------------------------------------
// Benchmark (bench/browser_verify.sh)

/// Times the browser verifier on the record at `RUXUE_BENCH_RECORD`
/// (`RUXUE_BENCH_RUNS` runs, default 3); checks its result digest against
/// `RUXUE_BENCH_DIGEST` when set. Prints one `browser_verify ...` line.
#[tokio::test]
#[ignore = "benchmark: run by bench/browser_verify.sh"]
async fn bench_browser_verify() {
    let path = std::env::var("RUXUE_BENCH_RECORD").expect("RUXUE_BENCH_RECORD names a record");
    let runs: u32 = std::env::var("RUXUE_BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let size = bytes.len();
    let server = Server::start();
    let url = server.put("record.json", bytes);
    let b = Browser::start("browser_verifier_bench", 1280, 900).await;
    open_page(&b, &server).await;
    let v = js(
        &b,
        "(async () => {
            const t0 = performance.now();
            const buf = await (await fetch(args[0])).arrayBuffer();
            const fetched = performance.now() - t0;
            const runs = [];
            let last = null;
            for (let k = 0; k < args[1]; k++) {
                const t = performance.now();
                // From the file's bytes, as the page does: decode, parse, validate, compute, compare, digests.
                last = await RuxueVerify.verifyRecord(new Uint8Array(buf));
                runs.push(Math.round(performance.now() - t));
                if (!last.ok) break;
            }
            return {fetched_ms: Math.round(fetched), runs, ok: last.ok, error: last.error || null,
                    difference: last.difference || null, result_digest: last.result_digest || null,
                    timings_ms: last.timings_ms || null, user_agent: navigator.userAgent,
                    cores: navigator.hardwareConcurrency};
        })()",
        vec![json!(url), json!(runs)],
    )
    .await;
    assert_eq!(v["ok"], json!(true), "the browser verifies the record: {v}");
    if let Ok(want) = std::env::var("RUXUE_BENCH_DIGEST") {
        assert_eq!(s(&v, "result_digest"), want.trim(), "same result digest as ruxue draw verify");
    }
    let ms: Vec<u64> = v["runs"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect();
    println!(
        "browser_verify bytes={size} first_ms={} best_ms={} runs_ms={:?} last_run_stages_ms={} result_digest={} browser={:?}",
        ms[0],
        ms.iter().min().unwrap(),
        ms,
        v["timings_ms"],
        s(&v, "result_digest"),
        s(&v, "user_agent"),
    );
    b.close().await;
}
