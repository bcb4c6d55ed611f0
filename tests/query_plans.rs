//! Issue 14: every query on a request path uses an index.
//!
//! The test records every statement the server runs (diesel's
//! instrumentation) while a parent logs in, registers two children (the
//! second one takes the sibling check), reads the list and the status of an
//! application, and while anyone looks up a catchment; then it asks the
//! database for each statement's plan (`EXPLAIN QUERY PLAN` on SQLite;
//! `EXPLAIN` of the generic plan with sequential scans discouraged on
//! PostgreSQL, so that a small test table does not hide a missing index) and
//! fails on a full scan of a table that grows with the registrations.

mod common;

use common::load::*;
use common::*;
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::prelude::*;
use std::sync::Mutex;

/// Statements run by every connection opened while recording.
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());
static RECORDING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// The two backend tests share the log: one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Tables whose size grows with registrations, logins and staff work.
const GROWING: &[&str] = &[
    "guardians",
    "children",
    "applications",
    "application_events",
    "documents",
    "registration_drafts",
    "idempotency_keys",
    "audit_log",
    "review_decisions",
    "supplement_responses",
    "appeals",
    "offers",
    "notifications",
    "staff_refresh_tokens",
];

/// Columns that do not narrow a growing table: an index used only on these
/// (e.g. the `(campaign_id, id_number_hash)` key's prefix) reads the whole
/// campaign, which is a full scan in all but name.
const NOT_SELECTIVE: &[&str] = &["campaign_id", "status"];

/// Statements allowed to read a whole campaign, with why.
const ALLOWED: &[(&str, &str)] = &[(
    "SELECT applications.registration_no FROM applications WHERE (applications.campaign_id =",
    "once per campaign: the highest number already stored, when its registration-number sequence is created",
)];

fn not_selective(cols: &[String]) -> bool {
    !cols.is_empty() && cols.iter().all(|c| NOT_SELECTIVE.contains(&c.as_str()))
}

struct Recorder;

impl Instrumentation for Recorder {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            if RECORDING.load(std::sync::atomic::Ordering::SeqCst) {
                LOG.lock().unwrap().push(query.to_string());
            }
        }
    }
}

fn recorder() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(Recorder))
}

/// The SQL of a recorded statement, without diesel's `-- binds: […]`.
fn sql_of(logged: &str) -> String {
    logged.split(" -- binds:").next().unwrap_or(logged).trim().to_string()
}

fn worth_explaining(sql: &str) -> bool {
    let s = sql.trim_start().to_ascii_uppercase();
    (s.starts_with("SELECT") || s.starts_with("UPDATE") || s.starts_with("DELETE") || s.starts_with("INSERT") || s.starts_with("WITH"))
        && !s.starts_with("SELECT 1")
        && !s.contains("PG_ADVISORY")
        && !s.contains("NEXTVAL(")
        && !s.contains("__DIESEL_SCHEMA_MIGRATIONS")
        && !s.contains("PG_CATALOG")
        && !s.contains("SQLITE_MASTER")
}

#[derive(QueryableByName)]
struct SqlitePlanRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct PgPlanRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    #[diesel(column_name = "QUERY PLAN")]
    line: String,
}

/// The plan's lines that scan a growing table in full.
fn full_scans(backend: Backend, conn: &mut ruxue::db::DbConn, sql: &str) -> Result<(Vec<String>, String), String> {
    use diesel::connection::SimpleConnection;
    match backend {
        Backend::Sqlite => {
            let rows: Vec<SqlitePlanRow> =
                diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")).load(conn).map_err(|e| format!("{e}: {sql}"))?;
            let plan = rows.iter().map(|r| r.detail.clone()).collect::<Vec<_>>().join("\n");
            let bad = rows
                .iter()
                .filter(|r| {
                    let d = r.detail.as_str();
                    // "SCAN t" (a full table scan) and "SCAN t USING COVERING INDEX i" (a full index scan).
                    let scan = d
                        .strip_prefix("SCAN ")
                        .map(|rest| GROWING.contains(&rest.split_whitespace().next().unwrap_or("")))
                        .unwrap_or(false);
                    // "SEARCH t USING INDEX i (campaign_id=?)": the whole campaign.
                    let wide = d.strip_prefix("SEARCH ").is_some_and(|rest| {
                        let table = rest.split_whitespace().next().unwrap_or("");
                        let cols: Vec<String> = rest
                            .rsplit_once('(')
                            .map(|(_, c)| {
                                c.trim_end_matches(')')
                                    .split(" AND ")
                                    .map(|x| x.split(['=', '>', '<', ' ']).next().unwrap_or("").to_string())
                                    .collect()
                            })
                            .unwrap_or_default();
                        GROWING.contains(&table) && not_selective(&cols)
                    });
                    scan || wide
                })
                .map(|r| r.detail.clone())
                .collect();
            Ok((bad, plan))
        }
        Backend::Postgres => {
            let params = (1..=64).rev().find(|i| sql.contains(&format!("${i}"))).unwrap_or(0);
            let args = if params == 0 { String::new() } else { format!("({})", vec!["NULL"; params].join(", ")) };
            conn.batch_execute("SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off; DEALLOCATE ALL")
                .map_err(|e| e.to_string())?;
            conn.batch_execute(&format!("PREPARE plan_q AS {sql}")).map_err(|e| format!("{e}: {sql}"))?;
            let rows: Vec<PgPlanRow> =
                diesel::sql_query(format!("EXPLAIN EXECUTE plan_q{args}")).load(conn).map_err(|e| format!("{e}: {sql}"))?;
            conn.batch_execute("DEALLOCATE plan_q").map_err(|e| e.to_string())?;
            let plan = rows.iter().map(|r| r.line.clone()).collect::<Vec<_>>().join("\n");
            let mut bad: Vec<String> = rows
                .iter()
                .filter(|r| {
                    r.line
                        .split("Seq Scan on ")
                        .nth(1)
                        .map(|rest| GROWING.contains(&rest.split_whitespace().next().unwrap_or("")))
                        .unwrap_or(false)
                })
                .map(|r| r.line.trim().to_string())
                .collect();
            // "Index Scan using k on t" followed by "Index Cond: ((campaign_id)::text = $1)": the whole campaign.
            let mut table = String::new();
            for r in &rows {
                // The table of an index scan; a bitmap index scan names the
                // index, its table is on the heap scan line above it.
                if let Some(rest) = r.line.split(" on ").nth(1).filter(|_| r.line.contains("Scan") && !r.line.contains("Bitmap Index Scan"))
                {
                    table = rest.split_whitespace().next().unwrap_or("").to_string();
                }
                if let Some(cond) = r.line.trim().strip_prefix("Index Cond: ") {
                    let cols: Vec<String> = cond
                        .split(" AND ")
                        .map(|x| {
                            x.trim_matches(|c| c == '(' || c == ')')
                                .split([')', ' ', ':'])
                                .next()
                                .unwrap_or("")
                                .trim_matches('(')
                                .to_string()
                        })
                        .collect();
                    if GROWING.contains(&table.as_str()) && not_selective(&cols) {
                        bad.push(format!("{table}: {cond}"));
                    }
                }
            }
            Ok((bad, plan))
        }
    }
}

backend_test! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_query_on_a_request_path_uses_an_index(backend) {
        let _one = ONE_AT_A_TIME.lock().await;
        diesel::connection::set_default_instrumentation(recorder).unwrap();
        let app = spawn_app_with(backend, true, &[]).await;
        ruxue_ok(&app.db.url, app.db.dir(), &["campaign", "open", CAMPAIGN]);
        LOG.lock().unwrap().clear();
        RECORDING.store(true, std::sync::atomic::Ordering::SeqCst);

        let base = app.address.clone();
        let p = LoadParent::login(&base, "plans-parent").await.unwrap();
        let mut ids = Vec::new();
        for n in [1u32, 2] {
            let draft = p.prepare(&base, n).await.unwrap();
            let (id, _) = p.submit(&base, &draft).await.unwrap();
            // The retried submit: answered from the idempotency record.
            p.submit(&base, &draft).await.unwrap();
            ids.push(id);
        }
        for path in ["/api/v1/registration/applications".to_string(), format!("/api/v1/registration/applications/{}", ids[1]), "/parent".into()] {
            let r = p.c.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
        }
        let r = app.client.get(app.url("/api/v1/catchment/lookup")).query(&[("address", "凤城镇东岳社区二环路123号"), ("grade", "1")]).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let r = app.client.get(app.url("/lookup")).query(&[("address", "凤城镇东岳社区二环路123号"), ("grade", "1")]).send().await.unwrap();
        assert_eq!(r.status(), 200);

        RECORDING.store(false, std::sync::atomic::Ordering::SeqCst);
        let mut statements: Vec<String> = LOG.lock().unwrap().iter().map(|s| sql_of(s)).filter(|s| worth_explaining(s)).collect();
        statements.sort();
        statements.dedup();
        assert!(statements.len() > 15, "too few statements recorded: {statements:?}");

        let mut conn = ruxue::db::Db::connect(&app.db.url, 1, 5000).unwrap().get().unwrap();
        // The detector itself: a lookup by an unindexed column is caught, and
        // so is one narrowed by the campaign only (the sibling check before
        // the `children (guardian_id, campaign_id)` index).
        let probes = match backend {
            Backend::Sqlite => ["SELECT id FROM children WHERE name = ?", "SELECT id FROM children WHERE campaign_id = ? AND name = ?"],
            Backend::Postgres => ["SELECT id FROM children WHERE name = $1", "SELECT id FROM children WHERE campaign_id = $1 AND name = $2"],
        };
        for probe in probes {
            assert!(!full_scans(backend, &mut conn, probe).unwrap().0.is_empty(), "{backend:?}: the probe's scan went unnoticed: {probe}");
        }
        eprintln!("{backend:?}: {} distinct statements on the request paths", statements.len());
        let mut failures = Vec::new();
        for sql in &statements {
            let unquoted = sql.replace(['`', '"'], "");
            if ALLOWED.iter().any(|(s, _)| unquoted.contains(s)) {
                continue;
            }
            match full_scans(backend, &mut conn, sql) {
                Ok((bad, plan)) if !bad.is_empty() => failures.push(format!("{sql}\n  full scan: {}\n  plan:\n{plan}", bad.join("; "))),
                Ok(_) => {}
                Err(e) => failures.push(format!("cannot explain: {e}")),
            }
        }
        assert!(failures.is_empty(), "{backend:?}: {} of {} statements scan a growing table:\n\n{}", failures.len(), statements.len(), failures.join("\n\n"));
    }
}
