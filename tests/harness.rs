//! The test harness itself (tests/common): the backend list refuses what it
//! cannot run, databases from the template are migrated and independent, an
//! empty database is empty, and the template's name follows the migrations.

mod common;

use common::*;
use diesel::connection::SimpleConnection;

#[test]
fn backend_list_defaults_to_both() {
    assert_eq!(parse_backends(None).unwrap(), [Backend::Sqlite, Backend::Postgres]);
    assert_eq!(parse_backends(Some("sqlite")).unwrap(), [Backend::Sqlite]);
    assert_eq!(parse_backends(Some("pg")).unwrap(), [Backend::Postgres]);
    assert_eq!(parse_backends(Some(" postgres , SQLite ")).unwrap(), [Backend::Postgres, Backend::Sqlite]);
    assert_eq!(parse_backends(Some("sqlite,sqlite")).unwrap(), [Backend::Sqlite]);
}

#[test]
fn backend_list_refuses_empty_and_unknown_names() {
    for (value, named) in [
        ("", "is empty"),
        ("  ", "is empty"),
        ("mysql", "\"mysql\""),
        ("sqlite,mysql", "\"mysql\""),
        ("sqlite,", "\"\""),
        ("sqlite;postgres", "\"sqlite;postgres\""),
    ] {
        let err = parse_backends(Some(value)).expect_err(value);
        assert!(err.contains("RUXUE_TEST_BACKENDS") && err.contains(named), "{value:?}: {err}");
    }
}

#[test]
fn template_digest_follows_the_migrations() {
    for backend in Backend::ALL {
        let dir = migrations_dir(backend);
        let digest = migrations_digest(&dir);
        assert_eq!(digest, migrations_digest(&dir));
        let copy = tempfile::tempdir().unwrap();
        let mut first = None;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let from = entry.unwrap().path();
            let to = copy.path().join(from.file_name().unwrap());
            std::fs::create_dir(&to).unwrap();
            for file in std::fs::read_dir(&from).unwrap() {
                let file = file.unwrap().path();
                std::fs::copy(&file, to.join(file.file_name().unwrap())).unwrap();
            }
            first.get_or_insert(to);
        }
        assert_eq!(migrations_digest(copy.path()), digest, "{backend:?}: same files, same digest");
        let up = first.unwrap().join("up.sql");
        let mut sql = std::fs::read_to_string(&up).unwrap();
        sql.push_str("\n-- changed\n");
        std::fs::write(&up, sql).unwrap();
        assert_ne!(migrations_digest(copy.path()), digest, "{backend:?}: a changed migration");
    }
}

#[test]
fn embedded_migrations_are_the_tree_s() {
    for backend in Backend::ALL {
        let names = embedded_migrations(backend);
        let dirs = std::fs::read_dir(migrations_dir(backend)).unwrap().filter(|e| e.as_ref().unwrap().path().is_dir()).count();
        assert_eq!(names.len(), dirs, "{backend:?}: {names:?}");
    }
}

fn pending(url: &str) -> usize {
    ruxue::db::Db::connect(url, 1, 5000).expect("connect").migrate().expect("migrate")
}

backend_test! {
    /// A test database starts with every migration applied, so the server
    /// finds none pending.
    #[test]
    fn a_new_database_is_migrated(backend) {
        let db = TestDb::new(backend);
        assert_eq!(pending(&db.url), 0, "{backend:?}");
        let pool = ruxue::db::Db::connect(&db.url, 1, 5000).unwrap();
        let mut c = pool.get().unwrap();
        assert!(ruxue::db::migrations_current(&mut c).unwrap());
        c.batch_execute("SELECT count(*) FROM applications").unwrap();
    }

    /// `TestDb::empty` has nothing applied.
    #[test]
    fn an_empty_database_is_empty(backend) {
        let db = TestDb::empty(backend);
        assert_eq!(pending(&db.url), embedded_migrations(backend).len(), "{backend:?}");
    }

    /// Copies of the template do not share their contents.
    #[test]
    fn databases_are_independent(backend) {
        let a = TestDb::new(backend);
        let b = TestDb::new(backend);
        assert_ne!(a.url, b.url);
        let pa = ruxue::db::Db::connect(&a.url, 1, 5000).unwrap();
        pa.get().unwrap().batch_execute("CREATE TABLE harness_probe (id INTEGER)").unwrap();
        let pb = ruxue::db::Db::connect(&b.url, 1, 5000).unwrap();
        assert!(pb.get().unwrap().batch_execute("SELECT id FROM harness_probe").is_err(), "{backend:?}");
    }
}

backend_test! {
    /// The attributes written above the function are kept on both tests.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_test_attribute_is_kept(backend) {
        assert_eq!(
            tokio::runtime::Handle::current().runtime_flavor(),
            tokio::runtime::RuntimeFlavor::MultiThread,
            "{backend:?}"
        );
    }
}
