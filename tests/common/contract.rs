//! Real answers checked against the OpenAPI document (issue #15 item 6):
//! collect `(method, documented path, status, body)` samples, then
//! [`check_samples`] runs tests/support/check_answers.py over them.
#![allow(dead_code)]

use serde_json::{json, Value};

/// One answer as a sample for [`check_samples`].
pub fn answer(method: &str, template: &str, status: u16, body: &Value) -> Value {
    json!({"method": method, "path": template, "status": status, "body": body})
}

/// Checks the samples against their documented schemas (JSON Schema
/// 2020-12, objects closed); the input is kept under
/// target/openapi-answers-<name>.json to read when it fails.
pub fn check_samples(name: &str, samples: Vec<Value>) {
    let file = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("target/openapi-answers-{name}.json"));
    let doc: Value = serde_json::from_str(ruxue::web::openapi::document_json()).unwrap();
    std::fs::write(&file, serde_json::to_vec(&json!({"doc": doc, "samples": samples})).unwrap()).unwrap();
    let out = std::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/check_answers.py"))
        .arg(&file)
        .output()
        .expect("python3 runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "answers that do not match their documented schema:\n{text}");
}
