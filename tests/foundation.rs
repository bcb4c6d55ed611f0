//! Issue 2: the service foundation, over the real server, on both backends.

mod common;

use common::*;
use serde_json::Value;
use std::process::Command;

backend_test! {
    #[tokio::test]
    async fn health_and_readiness_on_every_backend(backend) {
        let app = spawn_app(backend).await;
        let r = app.client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{backend:?}");
        let r = app.client.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{backend:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["status"], "ready");
        let expected = if backend == Backend::Sqlite { "sqlite" } else { "postgres" };
        assert_eq!(body["database"], expected);
        // Request ids travel back to the caller for support calls.
        let r = app.client.get(app.url("/healthz")).send().await.unwrap();
        assert!(r.headers().get("x-request-id").is_some());
    }
}

backend_test! {
    #[tokio::test]
    async fn unknown_route_is_json_404(backend) {
        let app = spawn_app(backend).await;
        let r = app.client.get(app.url("/no/such/page")).send().await.unwrap();
        assert_eq!(r.status(), 404);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
        assert!(body["error"]["message"].as_str().unwrap().contains("未找到"));
    }
}

backend_test! {
    #[tokio::test]
    async fn demo_county_loads_once_on_every_backend(backend) {
        use diesel::prelude::*;
        use ruxue::db::schema;
        let app = spawn_app_with(backend, true, &[]).await;
        let (townships, schools, campaigns, applications, zones): (i64, i64, i64, i64, i64) = app
            .state
            .db
            .run(|c| {
                Ok((
                    schema::townships::table.count().get_result(c)?,
                    schema::schools::table.count().get_result(c)?,
                    schema::campaigns::table.count().get_result(c)?,
                    schema::applications::table.count().get_result(c)?,
                    schema::zones::table.count().get_result(c)?,
                ))
            })
            .await
            .unwrap();
        assert!(townships >= 3, "{backend:?}");
        assert!(schools >= 8);
        assert_eq!(campaigns, 2);
        assert_eq!(zones, 2);
        assert!(applications >= 450, "demo applicants: {applications}");
        // Loading again over a non-empty database changes nothing.
        let settings = app.state.settings.clone();
        let db = app.state.db.clone();
        let loaded = tokio::task::spawn_blocking(move || ruxue::demo::load_if_empty(&db, &settings)).await.unwrap().unwrap();
        assert!(!loaded);
        // The demo's own audit entries form an intact chain.
        let report = app.state.db.run(|c| Ok(ruxue::db::audit::verify(c)?)).await.unwrap();
        assert!(report.broken.is_none(), "{report:?}");
        assert!(report.entries >= 1);
    }
}

fn run_ruxue(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(ruxue_bin());
    cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for (k, _) in std::env::vars() {
        if k.starts_with("RUXUE") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run ruxue")
}

fn one_line_stderr(out: &std::process::Output) -> String {
    let s = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(s.trim_end().lines().count(), 1, "expected one line, got: {s}");
    s
}

#[test]
fn bad_configuration_exits_non_zero_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("x.sqlite3").display());
    // Unknown key.
    let out = run_ruxue(&["migrate"], &[("RUXUE__DATABASE__URL", &db), ("RUXUE__SERVER__PROT", "1")]);
    assert!(!out.status.success());
    assert!(one_line_stderr(&out).contains("server.prot"));
    // Unreachable database.
    let out = run_ruxue(&["migrate"], &[("RUXUE__DATABASE__URL", "postgres://nobody@127.0.0.1:1/none")]);
    assert!(!out.status.success());
    assert!(one_line_stderr(&out).contains("database.url"));
    // Unsupported scheme.
    let out = run_ruxue(&["migrate"], &[("RUXUE__DATABASE__URL", "mysql://x/y")]);
    assert!(!out.status.success());
    assert!(one_line_stderr(&out).contains("database.url"));
    // A trusted proxy that is no address, a Redis URL of another scheme,
    // and the Redis store without a URL.
    let out = run_ruxue(&["migrate"], &[("RUXUE__DATABASE__URL", &db), ("RUXUE__SERVER__TRUSTED_PROXIES", "127.0.0.1, nginx")]);
    assert!(!out.status.success());
    assert!(
        one_line_stderr(&out).contains("server.trusted_proxies") && one_line_stderr(&out).contains("nginx"),
        "{}",
        one_line_stderr(&out)
    );
    let out = run_ruxue(&["migrate"], &[("RUXUE__DATABASE__URL", &db), ("RUXUE__REDIS__URL", "http://127.0.0.1:6379")]);
    assert!(!out.status.success());
    assert!(one_line_stderr(&out).contains("redis.url"), "{}", one_line_stderr(&out));
    let out = run_ruxue(&["migrate"], &[("RUXUE__DATABASE__URL", &db), ("RUXUE__RATELIMIT__STORE", "redis")]);
    assert!(!out.status.success());
    assert!(one_line_stderr(&out).contains("redis.url"), "{}", one_line_stderr(&out));
    // Development secret in production.
    let out = run_ruxue(&["migrate"], &[("RUXUE_ENV", "production"), ("RUXUE__DATABASE__URL", &db)]);
    assert!(!out.status.success());
    assert!(one_line_stderr(&out).contains("security.jwt_key"));
    // Dev login in production, with every secret set properly.
    let key = "a".repeat(64);
    // The draw signing key is an Ed25519 seed: 64 hex digits.
    let draw_key = "b".repeat(64);
    let prod = [
        ("RUXUE_ENV", "production"),
        ("RUXUE__DATABASE__URL", db.as_str()),
        ("RUXUE__SECURITY__JWT_KEY", "prod-jwt-key-0123456789abcdef0123456789"),
        ("RUXUE__SECURITY__DRAW_SIGNING_KEY", draw_key.as_str()),
        ("RUXUE__SECURITY__ID_KEY", key.as_str()),
        ("RUXUE__WECHAT__APP_SECRET", "prod-secret"),
        ("RUXUE__MAIL__SMTP_PASSWORD", "prod-pass"),
    ];
    // A draw signing key that is not a key is refused by name.
    let mut env = prod.to_vec();
    env.retain(|(k, _)| *k != "RUXUE__SECURITY__DRAW_SIGNING_KEY");
    env.push(("RUXUE__SECURITY__DRAW_SIGNING_KEY", "prod-draw-key"));
    let out = run_ruxue(&["migrate"], &env);
    assert!(!out.status.success());
    assert!(one_line_stderr(&out).contains("security.draw_signing_key"));
    let mut env = prod.to_vec();
    env.push(("RUXUE__SECURITY__DEV_LOGIN", "true"));
    let out = run_ruxue(&["migrate"], &env);
    assert!(!out.status.success());
    assert!(one_line_stderr(&out).contains("security.dev_login"));
    let mut env = prod.to_vec();
    env.push(("RUXUE__MAIL__BACKEND", "file"));
    let out = run_ruxue(&["migrate"], &env);
    assert!(!out.status.success());
    assert!(one_line_stderr(&out).contains("mail.backend"));
    // A secret read from a *_FILE path is accepted, and production then migrates.
    let secret_file = dir.path().join("jwt");
    std::fs::write(&secret_file, "file-jwt-key-0123456789abcdef0123456789\n").unwrap();
    let mut env = prod.to_vec();
    env.retain(|(k, _)| *k != "RUXUE__SECURITY__JWT_KEY");
    let path = secret_file.display().to_string();
    env.push(("RUXUE__SECURITY__JWT_KEY_FILE", path.as_str()));
    let out = run_ruxue(&["migrate"], &env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

backend_test! {
    #[test]
    fn migrate_command_on_both_backends(backend) {
        let db = TestDb::empty(backend);
        let out = run_ruxue(&["migrate"], &[("RUXUE__DATABASE__URL", &db.url)]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let first = String::from_utf8_lossy(&out.stdout).to_string();
        // A fresh database gets every migration (one tree serves both backends).
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let all = std::fs::read_dir(dir).unwrap().filter(|e| e.as_ref().unwrap().path().is_dir()).count();
        assert!(first.contains(&format!("applied {all} migration")), "{first}");
        // Idempotent.
        let out = run_ruxue(&["migrate"], &[("RUXUE__DATABASE__URL", &db.url)]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("applied 0 migration"));
    }
}

backend_test! {
    #[test]
    fn audit_verify_catches_tampering_on_both_backends(backend) {
        use diesel::connection::SimpleConnection;
        let db = TestDb::new(backend);
        let env = [("RUXUE__DATABASE__URL", db.url.as_str())];
        assert!(run_ruxue(&["demo"], &env).status.success());
        let out = run_ruxue(&["audit", "verify"], &env);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let pool = ruxue::db::Db::connect(&db.url, 1, 5000).unwrap();
        let mut c = pool.get().unwrap();
        c.batch_execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1").unwrap();
        let out = run_ruxue(&["audit", "verify"], &env);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("entry 1"));
    }
}

/// The README's first command, as a process: `ruxue serve --demo` on a fresh
/// SQLite file answers /healthz and /readyz, then stops cleanly on SIGTERM.
#[tokio::test]
async fn serve_demo_process_and_graceful_sigterm() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("demo.sqlite3").display());
    let mut cmd = Command::new(ruxue_bin());
    cmd.args(["serve", "--demo"]).current_dir(env!("CARGO_MANIFEST_DIR"));
    for (k, _) in std::env::vars() {
        if k.starts_with("RUXUE") {
            cmd.env_remove(k);
        }
    }
    cmd.env("RUXUE__DATABASE__URL", &db)
        .env("RUXUE__SERVER__PORT", "0")
        .env("RUXUE__UPLOADS__DIR", dir.path().join("up"))
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("serving on http://").nth(1) {
                let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
            }
        }
    });
    let addr = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("server announces its address");
    let client = reqwest::Client::new();
    for path in ["/healthz", "/readyz"] {
        let r = client.get(format!("http://{addr}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let mut waited = 0;
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        waited += 1;
        assert!(waited < 300, "server did not stop within 30 s of SIGTERM");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(code.success(), "exit status after SIGTERM: {code:?}");
}

backend_test! {
    /// Bodies over `server.body_limit_bytes` are refused with 413 and the JSON
    /// error shape, before any handler runs; malformed JSON is a 400 naming it.
    #[tokio::test]
    async fn body_limit_and_malformed_json(backend) {
        let app = spawn_app_with(backend, false, &[("RUXUE__SERVER__BODY_LIMIT_BYTES", "4096")]).await;
        let big = serde_json::json!({"username": "a".repeat(10_000), "password": "x"});
        let r = app.client.post(app.url("/api/v1/staff/login")).json(&big).send().await.unwrap();
        assert_eq!(r.status(), 413, "{backend:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "payload_too_large");
        assert!(!body["error"]["message"].as_str().unwrap().is_ascii());
        let r = app
            .client
            .post(app.url("/api/v1/staff/login"))
            .header("content-type", "application/json")
            .body("{\"username\": ")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_json");
        // The service is still healthy afterwards.
        assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), 200);
    }
}
