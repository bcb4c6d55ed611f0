//! Issue 15, item 6: the OpenAPI document is generated from the code
//! (utoipa), covers every registered `/api/` route — taken from the same
//! tables the router registers from, not a second list — with request and
//! response schemas, the error schema and the security schemes; it is valid
//! (openapi-spec-validator from PyPI) and browsable at `/api/docs` without
//! anything loaded from elsewhere.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Every `/api/` route the server registers, as (method, path).
fn registered_api_routes() -> BTreeSet<(String, String)> {
    ruxue::web::staff::ROUTES
        .iter()
        .chain(ruxue::web::parent::api_table::API_ROUTES)
        .chain(ruxue::web::public::api_table::API_ROUTES)
        .filter(|(_, p)| p.starts_with("/api/"))
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect()
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in ["get", "put", "post", "delete", "patch"] {
            if item.get(m).is_some() {
                out.insert((m.to_string(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn every_registered_api_route_is_in_the_document() {
    let doc: Value = serde_json::from_str(ruxue::web::openapi::document_json()).unwrap();
    let routes = registered_api_routes();
    assert!(routes.len() > 40, "the tables are read: {routes:?}");
    let documented = documented(&doc);
    let missing: Vec<_> = routes.difference(&documented).collect();
    assert!(missing.is_empty(), "registered /api/ routes missing from the OpenAPI document: {missing:?}");
    let extra: Vec<_> = documented.difference(&routes).collect();
    assert!(extra.is_empty(), "documented but not served: {extra:?}");
}

#[test]
fn operations_carry_schemas_errors_and_security() {
    let doc: Value = serde_json::from_str(ruxue::web::openapi::document_json()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    for s in ["guardian_bearer", "guardian_cookie", "staff_bearer"] {
        assert!(schemes.contains_key(s), "{s}");
    }
    assert_eq!(schemes["guardian_cookie"]["name"], "ruxue_session");
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    // The error schema is the one AppError serialises.
    let err = &schemas["ErrorBody"];
    assert_eq!(err["properties"]["error"]["$ref"], "#/components/schemas/ErrorDetail");
    for f in ["code", "message", "field"] {
        assert!(schemas["ErrorDetail"]["properties"].get(f).is_some(), "{f}");
    }
    let body = serde_json::to_value(ruxue::error::AppError::invalid("address", "地址不能为空").body()).unwrap();
    let keys: BTreeSet<&str> = body["error"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["code", "field", "message"]));
    for name in [
        "GuardianForm",
        "ChildForm",
        "DecisionInput",
        "LoginJson",
        "TokensOut",
        "SessionOut",
        "SubmitOut",
        "LookupResult",
        "NoticeView",
        "PolicyNotice",
    ] {
        assert!(schemas.contains_key(name), "schema {name}");
    }
    assert!(schemas["ChildForm"]["properties"].get("id_number").is_some());

    let op = |m: &str, p: &str| doc["paths"][p][m].clone();
    // Request bodies name their schemas.
    assert_eq!(
        op("put", "/api/v1/registration/drafts/{id}/child")["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ChildForm"
    );
    assert_eq!(
        op("post", "/api/v1/staff/review/applications/{id}/decisions")["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/DecisionInput"
    );
    assert!(op("post", "/api/v1/registration/drafts/{id}/documents")["requestBody"]["content"].get("multipart/form-data").is_some());
    // Query parameters come from the query types.
    let params: Vec<_> = op("get", "/api/v1/catchment/lookup")["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(params, ["address", "grade", "campaign"]);
    // Every operation: a success, the error schema on its errors, and security (or none, for public ones).
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (m, o) in item.as_object().unwrap() {
            let responses = o["responses"].as_object().unwrap();
            assert!(responses.keys().any(|c| c.starts_with('2')), "{m} {path}: no success answer");
            for (code, r) in responses.iter().filter(|(c, _)| c.starts_with('4') || c.starts_with('5')) {
                let schema = &r["content"]["application/json"]["schema"]["$ref"];
                assert!(
                    schema == "#/components/schemas/ErrorBody" || schema == "#/components/schemas/FieldErrorsBody",
                    "{m} {path} {code}: {r}"
                );
            }
            let security = o["security"].as_array().unwrap_or_else(|| panic!("{m} {path}: no security"));
            let names: BTreeSet<_> = security.iter().flat_map(|s| s.as_object().unwrap().keys().cloned()).collect();
            let expect: BTreeSet<String> = if path.starts_with("/api/v1/staff/") && !path.ends_with("/login") && !path.ends_with("/refresh")
            {
                ["staff_bearer".to_string()].into()
            } else if path.starts_with("/api/v1/registration/") {
                ["guardian_bearer".to_string(), "guardian_cookie".to_string()].into()
            } else {
                BTreeSet::new()
            };
            assert_eq!(names, expect, "{m} {path}");
            if !expect.is_empty() {
                assert!(responses.contains_key("401"), "{m} {path}: 401");
            }
        }
    }
}

/// Operations whose success answer is not described by a named schema, each
/// with its reason. Everything else answers JSON with a real schema, or a
/// file whose content types are listed with a binary string schema.
const SCHEMA_EXCEPTIONS: &[(&str, &str, &str)] = &[
    ("get", "/api/openapi.json", "the OpenAPI 3.1 document itself: its schema is the OpenAPI specification"),
    ("get", "/api/docs", "an HTML page for people, not data"),
];

/// Media types a file download may be documented with.
const FILE_TYPES: &[&str] =
    &["application/pdf", "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "image/jpeg", "image/png"];

/// `#/components/schemas/X` → the component, for reading.
fn component<'a>(doc: &'a Value, r: &str) -> &'a Value {
    let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("not a component ref: {r}"));
    let c = &doc["components"]["schemas"][name];
    assert!(!c.is_null(), "{r} is not in components");
    c
}

/// Why `schema` (a JSON answer's) says too little, or None when it
/// describes the answer: a component with properties (or all-of parts with
/// properties), or an array of such.
fn too_vague(doc: &Value, schema: &Value, depth: usize) -> Option<String> {
    if depth > 8 {
        return None;
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return too_vague(doc, component(doc, r), depth + 1).map(|why| format!("{r}: {why}"));
    }
    if let Some(items) = schema.get("items") {
        return too_vague(doc, items, depth + 1).map(|why| format!("items: {why}"));
    }
    if let Some(parts) = schema.get("allOf").or_else(|| schema.get("oneOf")).and_then(Value::as_array) {
        return parts.iter().filter(|p| p.get("type") != Some(&json!("null"))).find_map(|p| too_vague(doc, p, depth + 1));
    }
    match schema.get("properties").and_then(Value::as_object) {
        Some(p) if !p.is_empty() => None,
        _ => Some(format!("a bare schema without properties: {schema}")),
    }
}

/// Every 2xx answer of every operation documents what it returns (issue
/// #15 item 6): JSON with a schema that names its fields, or files by their
/// content types. 204 answers carry nothing.
#[test]
fn every_success_answer_has_a_real_schema() {
    let doc: Value = serde_json::from_str(ruxue::web::openapi::document_json()).unwrap();
    let mut problems = Vec::new();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (m, o) in item.as_object().unwrap() {
            if SCHEMA_EXCEPTIONS.iter().any(|(em, ep, _)| em == m && ep == path) {
                continue;
            }
            for (code, r) in o["responses"].as_object().unwrap().iter().filter(|(c, _)| c.starts_with('2')) {
                if code == "204" {
                    assert!(r.get("content").is_none(), "{m} {path} 204 has content");
                    continue;
                }
                let Some(content) = r["content"].as_object().filter(|c| !c.is_empty()) else {
                    problems.push(format!("{m} {path} {code}: no content"));
                    continue;
                };
                for (mime, media) in content {
                    checked += 1;
                    let schema = &media["schema"];
                    if schema.is_null() {
                        problems.push(format!("{m} {path} {code} {mime}: no schema"));
                    } else if mime.ends_with("json") {
                        if let Some(why) = too_vague(&doc, schema, 0) {
                            problems.push(format!("{m} {path} {code} {mime}: {why}"));
                        }
                    } else if FILE_TYPES.contains(&mime.as_str()) {
                        let s = if let Some(r) = schema["$ref"].as_str() { component(&doc, r) } else { schema };
                        if s["type"] != "string" || s["format"] != "binary" {
                            problems.push(format!("{m} {path} {code} {mime}: a file should be a binary string: {s}"));
                        }
                    } else {
                        problems.push(format!("{m} {path} {code}: unexpected content type {mime}"));
                    }
                }
            }
        }
    }
    assert!(checked > 70, "{checked} answers checked");
    assert!(problems.is_empty(), "success answers without a real schema:\n{}", problems.join("\n"));
    // The exceptions are real operations.
    for (m, p, why) in SCHEMA_EXCEPTIONS {
        assert!(doc["paths"][p].get(m).is_some(), "exception {m} {p} ({why}) is not in the document");
    }
}

/// `openapi-spec-validator` (PyPI; `.ci/run` installs it when missing).
#[test]
fn the_document_is_valid_openapi() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, ruxue::web::openapi::document_json()).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator", file.to_str().unwrap()])
        .output()
        .expect("python3 runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!text.contains("No module named"), "openapi-spec-validator is not installed (pip install openapi-spec-validator): {text}");
    assert!(out.status.success() && text.contains("OK"), "{text}");
}

backend_test! {
    /// Served at /api/openapi.json and /api/docs; every documented path is
    /// served (never 404 without a session) and the reference page lists them
    /// all, with nothing loaded from another site.
    #[tokio::test]
    async fn the_document_and_its_reference_page_are_served(backend) {
        let app = spawn_app_with(backend, true, &[]).await;
        let r = app.client.get(app.url("/api/openapi.json")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        let doc: Value = r.json().await.unwrap();
        assert_eq!(doc, serde_json::from_str::<Value>(ruxue::web::openapi::document_json()).unwrap());
        for (m, path) in documented(&doc) {
            let concrete = path.replace("{cid}", "2027-G1").replace("{id}", "x").replace("{hash}", "x").replace("{kind}", "x");
            let rb = match m.as_str() {
                "get" => app.client.get(app.url(&concrete)),
                "put" => app.client.put(app.url(&concrete)),
                "delete" => app.client.delete(app.url(&concrete)),
                _ => app.client.post(app.url(&concrete)),
            };
            let s = rb.send().await.unwrap().status();
            assert!(s != StatusCode::NOT_FOUND || concrete.contains("/x") || concrete.ends_with("/notice"), "{m} {concrete}: {s}");
            assert_ne!(s, StatusCode::METHOD_NOT_ALLOWED, "{m} {concrete}");
        }
        let r = app.client.get(app.url("/api/docs")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert!(!html.contains("<script") && !html.contains("src=\"http") && !html.contains("href=\"http"), "no outside assets");
        for (m, path) in documented(&doc) {
            assert!(html.contains(&format!("<span class=\"method m-{0}\">{0}</span> <code>{1}</code>", m.to_uppercase(), path.replace('/', "&#x2f;"))), "{m} {path} on /api/docs");
        }
        assert!(html.contains("id=\"schema-ErrorBody\""));
    }
}

/// One real answer, kept for the schema check.
async fn sample(samples: &mut Vec<Value>, method: &str, template: &str, rb: reqwest::RequestBuilder) -> Value {
    let r = rb.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status.is_success(), "{method} {template}: {status} {text}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {template}: not JSON ({e}): {text}"));
    samples.push(common::contract::answer(method, template, status.as_u16(), &body));
    body
}

backend_test! {
    /// The schemas are not fiction: real answers of a demo county with a
    /// published draw — public, parent and staff, as admin and as auditor —
    /// validate against the schemas the document gives them, and carry no
    /// member the schema leaves out (tests/support/check_answers.py).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn real_answers_match_their_documented_schemas(backend) {
        use common::published;
        const G1: &str = "2027-G1";
        let app = spawn_app_with(backend, true, &[]).await;
        published::to_draw_phase(&app, G1);
        let unit = published::unit_needing_draw(&app, G1, "school");
        let draw_id = published::publish(&app, G1, &unit, "73920145");
        let rec = published::record(&app, &draw_id);
        let entries = published::entries(&app, &draw_id);
        let (school, admitted) =
            rec["result"]["assignments"].as_object().unwrap().iter().find(|(_, v)| v.as_array().unwrap().len() >= 2).expect("a school with offers");
        let first = admitted[0].as_str().unwrap().to_string();
        let app_id = entries[&first].clone();
        let mut s = Vec::new();
        let c = reqwest::Client::new();
        let u = |p: &str| app.url(p);

        // Public.
        sample(&mut s, "get", "/api/v1/keys", c.get(u("/api/v1/keys"))).await;
        sample(&mut s, "get", "/api/v1/draws", c.get(u("/api/v1/draws"))).await;
        sample(&mut s, "get", "/api/v1/draws/{id}", c.get(u(&format!("/api/v1/draws/{draw_id}")))).await;
        sample(&mut s, "get", "/api/v1/draws/{id}/announcement", c.get(u(&format!("/api/v1/draws/{draw_id}/announcement")))).await;
        sample(&mut s, "get", "/api/v1/draws/{id}/record", c.get(u(&format!("/api/v1/draws/{draw_id}/record")))).await;
        sample(&mut s, "get", "/api/v1/draws/{id}/roster", c.get(u(&format!("/api/v1/draws/{draw_id}/roster")))).await;
        sample(&mut s, "get", "/api/v1/draws/{id}/proof/{registration_no}", c.get(u(&format!("/api/v1/draws/{draw_id}/proof/{first}")))).await;
        sample(&mut s, "get", "/api/v1/catchment/lookup", c.get(u("/api/v1/catchment/lookup")).query(&[("address", "凤城镇二环路123号"), ("grade", "1")])).await;
        let id_number = published::id_number(&app, &app_id);
        let tail = &id_number[id_number.len() - 6..];
        sample(&mut s, "post", "/api/v1/results/lookup", c.post(u("/api/v1/results/lookup")).json(&json!({"registration_no": first, "id_tail": tail}))).await;

        // The parent of an admitted child reads the result and declines: the seat moves.
        let (pc, csrf) = published::guardian_client(&app, &app_id).await;
        sample(&mut s, "get", "/api/v1/registration/session", pc.get(u("/api/v1/registration/session"))).await;
        sample(&mut s, "get", "/api/v1/registration/guardian", pc.get(u("/api/v1/registration/guardian"))).await;
        sample(&mut s, "get", "/api/v1/registration/applications", pc.get(u("/api/v1/registration/applications"))).await;
        sample(&mut s, "get", "/api/v1/registration/applications/{id}", pc.get(u(&format!("/api/v1/registration/applications/{app_id}")))).await;
        sample(&mut s, "get", "/api/v1/registration/applications/{id}/result", pc.get(u(&format!("/api/v1/registration/applications/{app_id}/result")))).await;
        let declined = sample(
            &mut s,
            "post",
            "/api/v1/registration/applications/{id}/offer",
            pc.post(u(&format!("/api/v1/registration/applications/{app_id}/offer"))).header("X-CSRF-Token", &csrf).json(&json!({"answer": "decline"})),
        )
        .await;
        assert!(!declined["moves"].as_array().unwrap().is_empty(), "a move to check: {declined}");
        let moves = sample(&mut s, "get", "/api/v1/results/{cid}/schools/{id}/moves", c.get(u(&format!("/api/v1/results/{G1}/schools/{school}/moves")))).await;
        assert!(!moves["moves"].as_array().unwrap().is_empty(), "{moves}");

        // Staff: an admin sees everything, an auditor the masked and trimmed views.
        sample(&mut s, "post", "/api/v1/staff/login", c.post(u("/api/v1/staff/login")).json(&json!({"username": "admin", "password": "ruxue-demo-admin"}))).await;
        for (user, password) in [("admin", "ruxue-demo-admin"), ("auditor", "ruxue-demo-auditor")] {
            let t = common::staff::token(&app, user, password).await;
            let get = |p: &str| c.get(u(p)).bearer_auth(&t);
            sample(&mut s, "get", "/api/v1/staff/me", get("/api/v1/staff/me")).await;
            sample(&mut s, "get", "/api/v1/staff/dashboard", get("/api/v1/staff/dashboard")).await;
            sample(&mut s, "get", "/api/v1/staff/dry-run", get("/api/v1/staff/dry-run")).await;
            sample(&mut s, "get", "/api/v1/staff/draws", get(&format!("/api/v1/staff/draws?campaign={G1}"))).await;
            sample(&mut s, "get", "/api/v1/staff/draws/{id}", get(&format!("/api/v1/staff/draws/{draw_id}"))).await;
            sample(&mut s, "get", "/api/v1/staff/draws/plan", get(&format!("/api/v1/staff/draws/plan?campaign={G1}"))).await;
            sample(&mut s, "get", "/api/v1/staff/placements", get(&format!("/api/v1/staff/placements?campaign={G1}"))).await;
            sample(&mut s, "get", "/api/v1/staff/indicators", get(&format!("/api/v1/staff/indicators?campaign={G1}"))).await;
            sample(&mut s, "get", "/api/v1/staff/audit", get("/api/v1/staff/audit")).await;
            sample(&mut s, "get", "/api/v1/staff/campaigns", get("/api/v1/staff/campaigns")).await;
            sample(&mut s, "get", "/api/v1/staff/notifications", get("/api/v1/staff/notifications")).await;
            sample(&mut s, "get", "/api/v1/staff/review/applications/{id}", get(&format!("/api/v1/staff/review/applications/{app_id}"))).await;
            if user == "admin" {
                sample(&mut s, "get", "/api/v1/staff/review/queue", get("/api/v1/staff/review/queue")).await;
                sample(&mut s, "get", "/api/v1/staff/accounts", get("/api/v1/staff/accounts")).await;
            }
        }

        // A placement proposed by the operator and approved by the admin (four eyes).
        let op = common::staff::token(&app, "operator", "ruxue-demo-operator").await;
        let admin = common::staff::token(&app, "admin", "ruxue-demo-admin").await;
        let view: Value = c.get(u(&format!("/api/v1/staff/placements?campaign={G1}"))).bearer_auth(&op).send().await.unwrap().json().await.unwrap();
        let child = &view["unplaced"][0];
        let body = json!({"application_id": child["application_id"], "school_id": child["proposals"][0]["school_id"], "reason": "对口学校学位已满，就近安置"});
        let placed = sample(&mut s, "post", "/api/v1/staff/placements", c.post(u("/api/v1/staff/placements")).bearer_auth(&op).json(&body)).await;
        let pid = placed["placement_id"].as_str().unwrap();
        sample(&mut s, "post", "/api/v1/staff/placements/{id}/decide", c.post(u(&format!("/api/v1/staff/placements/{pid}/decide"))).bearer_auth(&admin).json(&json!({"approve": true}))).await;
        common::contract::check_samples(&format!("draw-{}", backend.name()), s);
    }
}

backend_test! {
    /// The same check over a registration (every parent step, as the forms
    /// do them) and the staff's account, campaign and notification answers.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn registration_and_staff_answers_match_their_documented_schemas(backend) {
        use common::parent::{child, dev_parent, id_number, real_png};
        const G1: &str = "2027-G1";
        let app = spawn_app_with(backend, true, &[]).await;
        let (db, settings) = (app.state.db.clone(), app.state.settings.clone());
        tokio::task::spawn_blocking(move || ruxue::service::campaign::open_registration(&db, &settings, G1, 14, true, "test"))
            .await
            .unwrap()
            .expect("registration opens");
        let mut s = Vec::new();
        let u = |p: &str| app.url(p);
        let p = dev_parent(&app, "contract-parent").await;
        let (c, h) = (&p.c, ("X-CSRF-Token", p.csrf.clone()));
        sample(&mut s, "put", "/api/v1/registration/guardian", c.put(u("/api/v1/registration/guardian")).header(h.0, &h.1).json(&json!({"name": "林美玲", "relation": "母亲", "mobile": "13805951234"}))).await;
        sample(&mut s, "get", "/api/v1/registration/campaigns", c.get(u("/api/v1/registration/campaigns"))).await;
        let d = sample(&mut s, "post", "/api/v1/registration/campaigns/{cid}/drafts", c.post(u(&format!("/api/v1/registration/campaigns/{G1}/drafts"))).header(h.0, &h.1)).await;
        let draft = d["draft_id"].as_str().unwrap().to_string();
        let id = id_number("350524", "20210315", "123");
        sample(&mut s, "put", "/api/v1/registration/drafts/{id}/child", c.put(u(&format!("/api/v1/registration/drafts/{draft}/child"))).header(h.0, &h.1).json(&child("林一", &id))).await;
        let upload = || {
            let form = reqwest::multipart::Form::new()
                .text("kind", "hukou")
                .part("file", reqwest::multipart::Part::bytes(real_png(40, 30)).file_name("h.png").mime_str("image/png").unwrap());
            c.post(u(&format!("/api/v1/registration/drafts/{draft}/documents"))).header(h.0, &h.1).multipart(form)
        };
        let doc = sample(&mut s, "post", "/api/v1/registration/drafts/{id}/documents", upload()).await;
        sample(&mut s, "get", "/api/v1/registration/drafts/{id}", c.get(u(&format!("/api/v1/registration/drafts/{draft}")))).await;
        let hash = doc["content_hash"].as_str().unwrap();
        sample(&mut s, "delete", "/api/v1/registration/drafts/{id}/documents/{hash}", c.delete(u(&format!("/api/v1/registration/drafts/{draft}/documents/{hash}"))).header(h.0, &h.1)).await;
        sample(&mut s, "post", "/api/v1/registration/drafts/{id}/documents", upload()).await;
        sample(&mut s, "get", "/api/v1/registration/drafts/{id}/review", c.get(u(&format!("/api/v1/registration/drafts/{draft}/review")))).await;
        let done = sample(&mut s, "post", "/api/v1/registration/drafts/{id}/submit", c.post(u(&format!("/api/v1/registration/drafts/{draft}/submit"))).header(h.0, &h.1)).await;
        let app_id = done["application_id"].as_str().unwrap().to_string();
        sample(&mut s, "get", "/api/v1/registration/applications/{id}", c.get(u(&format!("/api/v1/registration/applications/{app_id}")))).await;
        sample(&mut s, "post", "/api/v1/registration/applications/{id}/edit", c.post(u(&format!("/api/v1/registration/applications/{app_id}/edit"))).header(h.0, &h.1)).await;
        sample(&mut s, "post", "/api/v1/registration/applications/{id}/withdraw", c.post(u(&format!("/api/v1/registration/applications/{app_id}/withdraw"))).header(h.0, &h.1)).await;

        // Staff: accounts, a campaign copied and planned, the outbox.
        let sc = reqwest::Client::new();
        let t = common::staff::token(&app, "admin", "ruxue-demo-admin").await;
        let acct = sample(&mut s, "post", "/api/v1/staff/accounts", sc.post(u("/api/v1/staff/accounts")).bearer_auth(&t).json(&json!({"username": "contract-op", "display_name": "合同测试", "role": "operator", "password": "contract-op-password-1"}))).await;
        let aid = acct["id"].as_str().unwrap();
        sample(&mut s, "post", "/api/v1/staff/accounts/{id}/state", sc.post(u(&format!("/api/v1/staff/accounts/{aid}/state"))).bearer_auth(&t).json(&json!({"action": "disable"}))).await;
        let copy = sample(&mut s, "post", "/api/v1/staff/campaigns", sc.post(u("/api/v1/staff/campaigns")).bearer_auth(&t).json(&json!({"from": G1, "year": 2028}))).await;
        let cid = copy["id"].as_str().unwrap();
        sample(&mut s, "post", "/api/v1/staff/campaigns/{id}/plans/{school}", sc.post(u(&format!("/api/v1/staff/campaigns/{cid}/plans/P01"))).bearer_auth(&t).json(&json!({"planned_classes": 3, "class_size_cap": 45}))).await;
        sample(&mut s, "get", "/api/v1/staff/notifications", sc.get(u("/api/v1/staff/notifications")).bearer_auth(&t)).await;
        sample(&mut s, "post", "/api/v1/staff/refresh", sc.post(u("/api/v1/staff/refresh")).json(&json!({"refresh_token": common::staff::api_login(&app, "auditor", "ruxue-demo-auditor").await.1}))).await;
        common::contract::check_samples(&format!("registration-{}", backend.name()), s);
    }
}
