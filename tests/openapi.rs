//! Issue 15, item 6: the OpenAPI document is generated from the code
//! (utoipa), covers every registered `/api/` route — taken from the same
//! tables the router registers from, not a second list — with request and
//! response schemas, the error schema and the security schemes; it is valid
//! (openapi-spec-validator from PyPI) and browsable at `/api/docs` without
//! anything loaded from elsewhere.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;
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
