//! The draw announcement signing key: `/api/v1/keys` serves its public half
//! as a JWK set, announcements signed with the configured key verify with
//! it, and `ruxue draw keygen` makes a key the service accepts.

mod common;

use common::*;
use serde_json::Value;

async fn served_keys(app: &TestApp) -> (String, Value) {
    let r = app.client.get(app.url("/api/v1/keys")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().contains("json"));
    let text = r.text().await.unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    (text, v)
}

#[tokio::test]
async fn keys_endpoint_serves_the_announcement_key() {
    let app = spawn_app(Backend::Sqlite).await;
    let (text, v) = served_keys(&app).await;
    let keys = v["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    assert_eq!(
        (k["kty"].as_str(), k["crv"].as_str(), k["alg"].as_str(), k["use"].as_str()),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"), Some("sig"))
    );
    assert!(k.get("d").is_none(), "never the private part");
    let signing = app.state.settings.draw_signing_key().unwrap();
    assert_eq!(k["kid"].as_str().unwrap(), ruxue::draw::announce::key_id(&signing.public_key()));

    // An announcement signed with the configured key verifies with the served set; a tampered one does not.
    let vector =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/01-spec-example.json")).unwrap();
    let ann = ruxue::draw::announce::announcement_of(&vector).unwrap();
    let jws = ruxue::draw::announce::sign(&ann, &signing).unwrap();
    let kid = ruxue::draw::announce::decode_unverified(&jws).unwrap().kid;
    let vk = ruxue::draw::announce::verifying_key(&text, kid.as_deref()).unwrap();
    assert!(ruxue::draw::announce::verify(&jws, &vk).is_ok());
    let mut parts: Vec<String> = jws.split('.').map(str::to_string).collect();
    let sig = parts[2].clone();
    parts[2] = format!("{}{}", if sig.starts_with('A') { "B" } else { "A" }, &sig[1..]);
    assert!(ruxue::draw::announce::verify(&parts.join("."), &vk).is_err());
}

#[tokio::test]
async fn keygen_makes_a_key_the_service_serves() {
    let out = std::process::Command::new(ruxue_bin()).args(["draw", "keygen"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seed = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(seed.len(), 64);
    assert!(seed.chars().all(|c| c.is_ascii_hexdigit()));
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let jwk_text = stderr.split_once("public key (JWK): ").expect("the public JWK on stderr").1.trim().to_string();
    let jwk: Value = serde_json::from_str(&jwk_text).unwrap();
    let again = std::process::Command::new(ruxue_bin()).args(["draw", "keygen"]).output().unwrap();
    assert_ne!(String::from_utf8(again.stdout).unwrap().trim(), seed, "a fresh key each time");

    let app = spawn_app_with(Backend::Sqlite, false, &[("RUXUE__SECURITY__DRAW_SIGNING_KEY", seed.as_str())]).await;
    let (_, v) = served_keys(&app).await;
    assert_eq!(v["keys"][0]["x"], jwk["x"]);
    assert_eq!(v["keys"][0]["kid"], jwk["kid"]);
}
