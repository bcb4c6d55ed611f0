//! Issue 5 (items 2, 4, 6): the staff command line for catchment rules and the
//! admission policy, running the real binary against both backends.

mod common;

use common::*;
use diesel::prelude::*;
use ruxue::db::schema;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const G1: &str = "2027-G1";
const G7: &str = "2027-G7";

fn run(db: &TestDb, args: &[&str]) -> Output {
    let mut cmd = Command::new(ruxue_bin());
    cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for (k, _) in std::env::vars() {
        if k.starts_with("RUXUE") {
            cmd.env_remove(k);
        }
    }
    cmd.env("RUXUE__DATABASE__URL", &db.url);
    cmd.output().expect("run ruxue")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// A fresh database with the demo county loaded by `ruxue demo`.
fn demo_db(backend: Backend) -> TestDb {
    let db = TestDb::new(backend);
    let o = run(&db, &["demo"]);
    assert_eq!(code(&o), 0, "{backend:?} demo: {}", stderr(&o));
    db
}

fn connect(db: &TestDb) -> ruxue::db::Db {
    ruxue::db::Db::connect(&db.url, 1, 5000).expect("connect")
}

fn rule_count(db: &TestDb, campaign: &str) -> i64 {
    let pool = connect(db);
    let mut c = pool.pool.get().unwrap();
    schema::catchment_rules::table.filter(schema::catchment_rules::campaign_id.eq(campaign)).count().get_result(&mut *c).unwrap()
}

fn rule_ids_in_order(db: &TestDb, campaign: &str) -> Vec<(i32, String)> {
    let pool = connect(db);
    let mut c = pool.pool.get().unwrap();
    schema::catchment_rules::table
        .filter(schema::catchment_rules::campaign_id.eq(campaign))
        .order(schema::catchment_rules::position.asc())
        .select((schema::catchment_rules::position, schema::catchment_rules::id))
        .load(&mut *c)
        .unwrap()
}

fn audit_actions(db: &TestDb) -> Vec<(String, String, Option<String>)> {
    let pool = connect(db);
    let mut c = pool.pool.get().unwrap();
    schema::audit_log::table
        .order(schema::audit_log::seq.asc())
        .select((schema::audit_log::actor, schema::audit_log::action, schema::audit_log::after_json))
        .load(&mut *c)
        .unwrap()
}

fn assert_audit_intact(db: &TestDb) {
    let o = run(db, &["audit", "verify"]);
    assert_eq!(code(&o), 0, "audit verify: {} {}", stdout(&o), stderr(&o));
}

fn export_csv(db: &TestDb, campaign: &str) -> Vec<u8> {
    let o = run(db, &["catchment", "export", "--campaign", campaign]);
    assert_eq!(code(&o), 0, "export: {}", stderr(&o));
    o.stdout
}

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

/// The first `n` data rows of an exported CSV (with its header).
fn first_rows(csv: &[u8], n: usize) -> Vec<u8> {
    let text = String::from_utf8(csv.to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().take(n + 1).collect();
    format!("{}\n", lines.join("\n")).into_bytes()
}

backend_test! {
    #[test]
    fn import_replaces_rules_in_order_and_is_audited(backend) {
        let db = demo_db(backend);
        assert_eq!(rule_count(&db, G1), 25, "{backend:?}");
        let full = export_csv(&db, G1);
        let file = write(db.dir(), "ten.csv", &first_rows(&full, 10));

        // Registration has opened in the demo: refused without the flag.
        let o = run(&db, &["catchment", "import", "--campaign", G1, file.to_str().unwrap()]);
        assert_eq!(code(&o), 1, "{backend:?}");
        assert!(stderr(&o).contains("--force-after-open"), "{}", stderr(&o));
        assert_eq!(rule_count(&db, G1), 25);

        let o = run(&db, &["catchment", "import", "--campaign", G1, "--force-after-open", file.to_str().unwrap()]);
        assert_eq!(code(&o), 0, "{backend:?}: {}", stderr(&o));
        assert!(stdout(&o).contains("导入 10 条"), "{}", stdout(&o));
        assert_eq!(rule_count(&db, G1), 10, "{backend:?}");
        let ids = rule_ids_in_order(&db, G1);
        assert_eq!(ids.iter().map(|(p, _)| *p).collect::<Vec<_>>(), (0..10).collect::<Vec<_>>());
        assert_eq!(ids[0].1, "2027-G1-P-FC-001");
        // The other campaign is untouched.
        assert_eq!(rule_count(&db, G7), 4);

        let entries = audit_actions(&db);
        let imports: Vec<_> = entries.iter().filter(|(_, a, _)| a == "catchment.import").collect();
        assert_eq!(imports.len(), 1, "{backend:?}: {entries:?}");
        assert_eq!(imports[0].0, "cli");
        let after: serde_json::Value = serde_json::from_str(imports[0].2.as_deref().unwrap()).unwrap();
        assert_eq!(after["rules"], 10);
        assert_eq!(after["force_after_open"], true);
        assert_eq!(after["sha256"].as_str().unwrap().len(), 64);
        assert_audit_intact(&db);
    }
}

backend_test! {
    #[test]
    fn import_with_one_bad_row_changes_nothing_and_names_the_row(backend) {
        let db = demo_db(backend);
        let full = String::from_utf8(export_csv(&db, G1)).unwrap();
        // Data row 2 (spreadsheet row 3): a house number that is not a number.
        let bad = full.replacen("P-FC-002,道路,凤城镇,,二环路,1,", "P-FC-002,道路,凤城镇,,二环路,abc,", 1);
        assert_ne!(bad, full);
        let file = write(db.dir(), "bad.csv", bad.as_bytes());
        let before = audit_actions(&db).len();
        let o = run(&db, &["catchment", "import", "--campaign", G1, "--force-after-open", file.to_str().unwrap()]);
        assert_eq!(code(&o), 1, "{backend:?}");
        let err = stderr(&o);
        assert!(err.contains("第 3 行"), "{err}");
        assert!(err.contains("起始门牌"), "{err}");
        assert_eq!(rule_count(&db, G1), 25, "{backend:?}");
        // A header without rules is refused too.
        let header_only = first_rows(full.as_bytes(), 0);
        let file = write(db.dir(), "empty.csv", &header_only);
        let o = run(&db, &["catchment", "import", "--campaign", G1, "--force-after-open", file.to_str().unwrap()]);
        assert_eq!(code(&o), 1, "{backend:?}");
        assert_eq!(rule_count(&db, G1), 25, "{backend:?}");
        assert_eq!(audit_actions(&db).len(), before);
        assert_audit_intact(&db);
    }
}

backend_test! {
    #[test]
    fn unknown_school_or_zone_changes_nothing(backend) {
        let db = demo_db(backend);
        let full = String::from_utf8(export_csv(&db, G1)).unwrap();
        let bad = full.replacen("二环路,101,199,单号,,P01,", "二环路,101,199,单号,,P99,", 1);
        assert_ne!(bad, full);
        let file = write(db.dir(), "unknown.csv", bad.as_bytes());
        let before = audit_actions(&db).len();
        let o = run(&db, &["catchment", "import", "--campaign", G1, "--force-after-open", file.to_str().unwrap()]);
        assert_eq!(code(&o), 1, "{backend:?}");
        let err = stderr(&o);
        assert!(err.contains("P99") && err.contains("P-FC-001"), "{err}");
        assert_eq!(rule_count(&db, G1), 25);

        // A zone code of another campaign (none exist in 2027-G1).
        let g7 = String::from_utf8(export_csv(&db, G7)).unwrap();
        let file = write(db.dir(), "zone.csv", g7.as_bytes());
        let o = run(&db, &["catchment", "import", "--campaign", G1, "--force-after-open", file.to_str().unwrap()]);
        assert_eq!(code(&o), 1, "{backend:?}");
        assert!(stderr(&o).contains("Z-JA"), "{}", stderr(&o));
        assert_eq!(rule_count(&db, G1), 25);
        assert_eq!(audit_actions(&db).len(), before);
    }
}

backend_test! {
    #[test]
    fn export_then_import_round_trips_byte_identically(backend) {
        let db = demo_db(backend);
        for campaign in [G1, G7] {
            let first = export_csv(&db, campaign);
            assert!(first.starts_with("\u{feff}规则编号".as_bytes()));
            let file = write(db.dir(), "export.csv", &first);
            let o = run(&db, &["catchment", "import", "--campaign", campaign, "--force-after-open", file.to_str().unwrap()]);
            assert_eq!(code(&o), 0, "{backend:?}: {}", stderr(&o));
            let second = export_csv(&db, campaign);
            assert_eq!(first, second, "{backend:?} {campaign}");

            // XLSX too: export, import, and the CSV is still the same.
            let xlsx = db.dir().join("export.xlsx");
            let o = run(&db, &["catchment", "export", "--campaign", campaign, "--format", "xlsx", "-o", xlsx.to_str().unwrap()]);
            assert_eq!(code(&o), 0, "{}", stderr(&o));
            let o = run(&db, &["catchment", "import", "--campaign", campaign, "--force-after-open", xlsx.to_str().unwrap()]);
            assert_eq!(code(&o), 0, "{backend:?}: {}", stderr(&o));
            assert_eq!(export_csv(&db, campaign), first, "{backend:?} {campaign} via xlsx");
        }
        assert_audit_intact(&db);
    }
}

backend_test! {
    #[test]
    fn lint_exit_codes_and_lookup(backend) {
        let db = demo_db(backend);
        let o = run(&db, &["catchment", "lint", "--campaign", G1]);
        assert_eq!(code(&o), 0, "{backend:?}: {}", stdout(&o));
        assert!(stdout(&o).contains("未发现问题"));

        // A second rule sending the same stretch to another school: a conflict.
        let mut csv = String::from_utf8(export_csv(&db, G1)).unwrap();
        csv.push_str("P-FC-999,道路,凤城镇,东岳社区,二环路,101,199,单号,,P02,,0,,,\n");
        let file = write(db.dir(), "conflict.csv", csv.as_bytes());
        let o = run(&db, &["catchment", "import", "--campaign", G1, "--force-after-open", file.to_str().unwrap()]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let o = run(&db, &["catchment", "lint", "--campaign", G1]);
        assert_eq!(code(&o), 1, "{backend:?}: {}", stdout(&o));
        assert!(stdout(&o).contains("[错误]") && stdout(&o).contains("P-FC-999"), "{}", stdout(&o));

        let o = run(&db, &["catchment", "lookup", "--campaign", G7, "凤城镇河滨社区河滨路8号"]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(stdout(&o).contains("片区"), "{}", stdout(&o));
        let o = run(&db, &["catchment", "lookup", "--campaign", G1, "火星路1号"]);
        assert_eq!(code(&o), 1);
        assert!(stdout(&o).contains("未匹配"), "{}", stdout(&o));

        let o = run(&db, &["catchment", "diff", "--from", G1, "--to", G1]);
        assert_eq!(code(&o), 0);
        assert!(stdout(&o).contains("没有差异"), "{}", stdout(&o));

        let o = run(&db, &["catchment", "lint", "--campaign", "1999-G1"]);
        assert_eq!(code(&o), 1);
        assert!(stderr(&o).contains("不存在"));
    }
}

fn unfreeze(db: &TestDb, campaign: &str) {
    let pool = connect(db);
    let mut c = pool.pool.get().unwrap();
    diesel::update(schema::campaigns::table.filter(schema::campaigns::id.eq(campaign)))
        .set((schema::campaigns::policy_frozen_at.eq(None::<chrono::NaiveDateTime>), schema::campaigns::status.eq("draft")))
        .execute(&mut *c)
        .unwrap();
}

backend_test! {
    #[test]
    fn policy_set_freeze_and_diff(backend) {
        let db = demo_db(backend);
        let o = run(&db, &["policy", "show", "--campaign", G1]);
        assert_eq!(code(&o), 0);
        let shown = stdout(&o);
        assert!(shown.contains("residence = \"2027-08-31\""), "{shown}");
        let later = shown.replacen("residence = \"2027-08-31\"", "residence = \"2027-09-30\"", 1)
            .replacen("version = \"2027.1\"", "version = \"2027.2\"", 1);
        let file = write(db.dir(), "later.toml", later.as_bytes());

        // The demo's policy is frozen: refused, nothing audited.
        let before = audit_actions(&db).len();
        let o = run(&db, &["policy", "set", "--campaign", G1, file.to_str().unwrap()]);
        assert_eq!(code(&o), 1, "{backend:?}");
        assert!(stderr(&o).contains("冻结"), "{}", stderr(&o));
        assert_eq!(audit_actions(&db).len(), before);

        // Diff against a file lists the changed cut-off.
        let o = run(&db, &["policy", "diff", "--from", G1, "--file", file.to_str().unwrap()]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(stdout(&o).contains("2027-08-31 → 2027-09-30"), "{}", stdout(&o));
        let o = run(&db, &["policy", "diff", "--from", G1, "--to", G7]);
        assert_eq!(code(&o), 0);
        assert!(stdout(&o).contains("没有差异"), "{}", stdout(&o));

        // An invalid document names the field.
        let broken = shown.replacen("code = \"A\"", "code = \"\"", 1);
        let bad = write(db.dir(), "bad.toml", broken.as_bytes());
        unfreeze(&db, G1);
        let o = run(&db, &["policy", "set", "--campaign", G1, bad.to_str().unwrap()]);
        assert_eq!(code(&o), 1, "{backend:?}");
        assert!(stderr(&o).contains("categories"), "{}", stderr(&o));

        // Before the freeze the policy can be set; then frozen once, idempotently.
        let o = run(&db, &["policy", "set", "--campaign", G1, file.to_str().unwrap()]);
        assert_eq!(code(&o), 0, "{backend:?}: {}", stderr(&o));
        let o = run(&db, &["policy", "show", "--campaign", G1]);
        assert!(stdout(&o).contains("2027-09-30"));
        let o = run(&db, &["policy", "diff", "--from", G7, "--to", G1]);
        assert!(stdout(&o).contains("居住时长截止日期：2027-08-31 → 2027-09-30"), "{}", stdout(&o));
        {
            let pool = connect(&db);
            let mut c = pool.pool.get().unwrap();
            let v: String = schema::campaigns::table
                .filter(schema::campaigns::id.eq(G1))
                .select(schema::campaigns::policy_version)
                .first(&mut *c)
                .unwrap();
            assert_eq!(v, "2027.2");
        }
        for _ in 0..2 {
            let o = run(&db, &["policy", "freeze", "--campaign", G1]);
            assert_eq!(code(&o), 0, "{}", stderr(&o));
        }
        let o = run(&db, &["policy", "set", "--campaign", G1, file.to_str().unwrap()]);
        assert_eq!(code(&o), 1);
        assert!(stderr(&o).contains("冻结"));

        let entries = audit_actions(&db);
        let count = |a: &str| entries.iter().filter(|(actor, x, _)| x == a && actor == "cli").count();
        assert_eq!(count("policy.set"), 1, "{backend:?}");
        assert_eq!(count("policy.freeze"), 1, "{backend:?}");
        assert_audit_intact(&db);
    }
}

backend_test! {
    #[test]
    fn dry_run_table_and_csvs(backend) {
        let db = demo_db(backend);
        let o = run(&db, &["policy", "dry-run", "--campaign", G1, "--csv"]);
        assert_eq!(code(&o), 0, "{backend:?}: {}", stderr(&o));
        let csv = stdout(&o);
        let mut lines = csv.lines();
        let header = lines.next().unwrap();
        assert!(header.contains("学校代码") && header.contains("学位数") && header.contains("顺位代码"), "{header}");
        let rows: Vec<&str> = lines.collect();
        for (code_, _, kind, _, classes) in ruxue::demo::SCHOOLS {
            if kind != "primary" {
                continue;
            }
            let seats = format!(",{},", classes * 45);
            assert!(
                rows.iter().any(|r| r.starts_with(&format!("{code_},")) && r.contains(&seats)),
                "{backend:?}: no row for {code_} with {seats} seats:\n{csv}"
            );
        }
        assert!(!rows.iter().any(|r| r.starts_with("J0")), "junior schools belong to 2027-G7");

        let o = run(&db, &["policy", "dry-run", "--campaign", G1]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let table = stdout(&o);
        assert!(table.contains("【P01 安溪县实验小学】学位 90 个"), "{table}");
        assert!(table.contains("需教育局统筹安排"), "{table}");

        let o = run(&db, &["policy", "dry-run", "--campaign", G7, "--placement-csv"]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(stdout(&o).starts_with("\u{feff}报名号"), "{}", stdout(&o));
    }
}

backend_test! {
    /// Opening registration freezes the published policy in the same transaction.
    #[test]
    fn opening_registration_freezes_the_policy(backend) {
        let db = demo_db(backend);
        unfreeze(&db, G1);
        let frozen = |db: &TestDb| -> Option<chrono::NaiveDateTime> {
            let pool = connect(db);
            let mut c = pool.pool.get().unwrap();
            schema::campaigns::table
                .filter(schema::campaigns::id.eq(G1))
                .select(schema::campaigns::policy_frozen_at)
                .first(&mut *c)
                .unwrap()
        };
        assert!(frozen(&db).is_none());
        let o = run(&db, &["campaign", "open", G1, "--days", "7"]);
        assert_eq!(code(&o), 0, "{backend:?} {}", stderr(&o));
        assert!(frozen(&db).is_some(), "{backend:?}: policy not frozen when registration opened");
        let actions: Vec<String> = audit_actions(&db).into_iter().map(|(_, action, _)| action).collect();
        let open = actions.iter().position(|a| a == "campaign.open_registration").expect("open audited");
        assert_eq!(actions.get(open + 1).map(String::as_str), Some("policy.freeze"));
        let shown = stdout(&run(&db, &["policy", "show", "--campaign", G1]));
        let file = write(db.dir(), "again.toml", shown.as_bytes());
        let o = run(&db, &["policy", "set", "--campaign", G1, file.to_str().unwrap()]);
        assert_eq!(code(&o), 1);
        assert!(stderr(&o).contains("冻结"));
        assert_eq!(code(&run(&db, &["audit", "verify"])), 0);
    }
}
