//! Issue 14: crash safety and several instances, with `ruxue serve` run as a
//! process (`ruxue_bin()`).
//!
//! - SIGKILL under load, at random moments, ten times, then a restart: every
//!   submission that got a 2xx is stored exactly once, nothing half-written,
//!   the audit chain verifies (both backends).
//! - PostgreSQL cut off while serving (a TCP proxy between ruxue and the
//!   shared server is cut, never the server itself): `/readyz` says not
//!   ready, the service recovers by itself, nothing acknowledged is lost.
//! - Two instances on one PostgreSQL, started together on an empty database:
//!   migrations run once, submissions through both, the audit chain sealed
//!   once and consistent, registration numbers unique.

mod common;

use common::load::*;
use common::*;
use diesel::prelude::*;
use rand::Rng;
use ruxue::db::schema;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An acknowledged submission: what the server answered 2xx with.
#[derive(Debug, Clone)]
struct Ack {
    n: u32,
    application_id: String,
    registration_no: String,
}

#[derive(Default)]
struct Tally {
    acks: Vec<Ack>,
    failures: u32,
}

/// `workers` parents, each submitting registrations one after another on
/// the server `base()` names, until `stop`.
fn spawn_load(
    base: Arc<Mutex<String>>,
    workers: u32,
    stop: Arc<AtomicBool>,
    next: Arc<AtomicU32>,
    tally: Arc<Mutex<Tally>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..workers)
        .map(|w| {
            let (base, stop, next, tally) = (base.clone(), stop.clone(), next.clone(), tally.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    let b = base.lock().unwrap().clone();
                    let run = async {
                        let p = LoadParent::login(&b, &format!("load-{w}-{n}")).await?;
                        let draft = p.prepare(&b, n).await?;
                        p.submit(&b, &draft).await
                    };
                    match run.await {
                        Ok((application_id, registration_no)) => {
                            tally.lock().unwrap().acks.push(Ack { n, application_id, registration_no })
                        }
                        Err(_) => {
                            tally.lock().unwrap().failures += 1;
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            })
        })
        .collect()
}

/// Every acknowledged submission stored exactly once, each application whole
/// (child, event, document, audit entry, draft marked submitted), no child
/// or application without the other, and the audit chain intact.
fn check_store(db_url: &str, dir: &std::path::Path, acks: &[Ack]) {
    let db = ruxue::db::Db::connect(db_url, 1, 5000).unwrap();
    let mut c = db.get().unwrap();
    let c: &mut ruxue::db::DbConn = &mut c;
    use schema::{application_events as ev, applications as ap, audit_log as al, children as ch, documents as doc};
    let apps: Vec<(String, String, String)> = ap::table.select((ap::id, ap::registration_no, ap::child_id)).load(c).unwrap();
    let by_id: HashMap<&str, (&str, &str)> = apps.iter().map(|(i, r, ch)| (i.as_str(), (r.as_str(), ch.as_str()))).collect();
    let nos: HashSet<&str> = apps.iter().map(|(_, r, _)| r.as_str()).collect();
    assert_eq!(nos.len(), apps.len(), "registration numbers are unique");
    let mut seen = HashSet::new();
    for a in acks {
        let (no, _) = by_id.get(a.application_id.as_str()).unwrap_or_else(|| panic!("acknowledged {a:?} is not stored"));
        assert_eq!(*no, a.registration_no, "{a:?}");
        assert!(seen.insert(a.n), "child {} acknowledged twice", a.n);
    }
    // Exactly once: one child row per ID number (the unique key), one
    // application per child.
    let hashes: Vec<String> = ch::table.select(ch::id_number_hash).load(c).unwrap();
    assert_eq!(hashes.iter().collect::<HashSet<_>>().len(), hashes.len(), "a child stored twice");
    let children: HashSet<String> = ch::table.select(ch::id).load::<String>(c).unwrap().into_iter().collect();
    let app_children: HashSet<String> = apps.iter().map(|(_, _, ch)| ch.clone()).collect();
    assert_eq!(children, app_children, "a child without its application or the other way round");
    // Whole: every application has its event, document and audit entry.
    let with_event: HashSet<String> = ev::table.select(ev::application_id).distinct().load::<String>(c).unwrap().into_iter().collect();
    let with_doc: HashSet<String> = doc::table.select(doc::application_id).distinct().load::<String>(c).unwrap().into_iter().collect();
    let audited: HashSet<String> = al::table.select(al::target).load::<String>(c).unwrap().into_iter().collect();
    // The applications the load made (the demo's have no documents), the
    // acknowledged ones and those whose answer was lost with the server.
    let ours: HashSet<String> = ap::table
        .inner_join(ch::table.on(ch::id.eq(ap::child_id)))
        .inner_join(schema::guardians::table.on(schema::guardians::id.eq(ch::guardian_id)))
        .filter(schema::guardians::openid.like("dev-%"))
        .select(ap::id)
        .load::<String>(c)
        .unwrap()
        .into_iter()
        .collect();
    assert!(ours.len() >= acks.len());
    for id in &ours {
        assert!(with_event.contains(id), "application {id} without its event");
        assert!(with_doc.contains(id), "application {id} without its documents");
        assert!(audited.iter().any(|t| t.contains(id.as_str())), "application {id} without its audit entry");
    }
    let submitted_drafts: Vec<Option<String>> = schema::registration_drafts::table
        .filter(schema::registration_drafts::status.eq("submitted"))
        .select(schema::registration_drafts::application_id)
        .load(c)
        .unwrap();
    for d in &submitted_drafts {
        let id = d.as_deref().expect("a submitted draft names its application");
        assert!(by_id.contains_key(id), "a submitted draft's application {id} is missing");
    }
    let out = ruxue_cmd(db_url, dir, &[]).args(["audit", "verify"]).output().unwrap();
    assert!(out.status.success(), "audit chain: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

backend_test! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sigkill_under_load_loses_no_acknowledged_submission(backend) {
        let db = TestDb::new(backend);
        let dir = tempfile::tempdir().unwrap();
        prepare_open_demo(&db.url, dir.path());
        let tally = Arc::new(Mutex::new(Tally::default()));
        let next = Arc::new(AtomicU32::new(1));
        let mut rng = rand::thread_rng();
        let mut server = Server::start(&db.url, dir.path(), &[]);
        let base = Arc::new(Mutex::new(server.base.clone()));
        let stop = Arc::new(AtomicBool::new(false));
        let load = spawn_load(base.clone(), 6, stop.clone(), next.clone(), tally.clone());
        let started = Instant::now();
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(rng.gen_range(300..1200))).await;
            server.kill9();
            server = Server::start(&db.url, dir.path(), &[]);
            *base.lock().unwrap() = server.base.clone();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.store(true, Ordering::SeqCst);
        for h in load {
            h.await.unwrap();
        }
        server.kill9();
        let (acks, failures) = {
            let t = tally.lock().unwrap();
            (t.acks.clone(), t.failures)
        };
        eprintln!("{backend:?}: {} acknowledged, {failures} failed attempts in {:?}", acks.len(), started.elapsed());
        assert!(acks.len() >= 10, "the load made too few submissions to mean anything: {}", acks.len());
        // A restart after the last kill serves, and the store is whole.
        let server = Server::start(&db.url, dir.path(), &[]);
        assert_eq!(reqwest::get(server.url("/readyz")).await.unwrap().status(), 200);
        drop(server);
        check_store(&db.url, dir.path(), &acks);
    }
}

/// A TCP proxy on loopback in front of PostgreSQL that the test can cut
/// (every connection dropped, new ones refused at once) and restore.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    cut: tokio::sync::watch::Sender<u64>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let (cut, watch) = tokio::sync::watch::channel(0u64);
        let up2 = up.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { continue };
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let mut watch = watch.clone();
                // Only a cut after this connection opened ends it.
                watch.borrow_and_update();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watch.changed() => {}
                    }
                });
            }
        });
        Proxy { port, up, cut }
    }
    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|v| *v += 1);
    }
    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// `postgres://user@host:port/db` → (`host:port`, the same URL through `127.0.0.1:proxy`).
fn through_proxy(url: &str, proxy_port: u16) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (auth, after_at) = match rest.rsplit_once('@') {
        Some((a, r)) => (format!("{a}@"), r),
        None => (String::new(), rest),
    };
    let (hostport, path) = after_at.split_once('/').unwrap();
    let hostport = if hostport.contains(':') { hostport.to_string() } else { format!("{hostport}:5432") };
    (hostport, format!("{scheme}://{auth}127.0.0.1:{proxy_port}/{path}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cut_off_while_serving_recovers_and_loses_nothing() {
    if !should_run(Backend::Postgres, "postgres_cut_off_while_serving_recovers_and_loses_nothing") {
        return;
    }
    let db = TestDb::new(Backend::Postgres);
    let dir = tempfile::tempdir().unwrap();
    prepare_open_demo(&db.url, dir.path());
    let (target, proxied) = through_proxy(&db.url, 0);
    let proxy = Proxy::start(target).await;
    let (_, proxied_url) = through_proxy(&proxied, proxy.port);
    let server = Server::start(&proxied_url, dir.path(), &[]);
    let base = Arc::new(Mutex::new(server.base.clone()));
    let (tally, next, stop) = (Arc::new(Mutex::new(Tally::default())), Arc::new(AtomicU32::new(1)), Arc::new(AtomicBool::new(false)));
    let load = spawn_load(base, 4, stop.clone(), next, tally.clone());
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = tally.lock().unwrap().acks.len();
    proxy.cut();
    // Not ready while the database is unreachable.
    let r = client.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503, "{}", r.text().await.unwrap());
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    assert_eq!(body["status"], "not_ready", "{body}");
    proxy.restore();
    // Recovers by itself: no restart.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(server.url("/readyz")).send().await {
            if r.status() == 200 {
                break;
            }
        }
        assert!(Instant::now() < deadline, "not ready 30 s after the database came back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let recovered = tally.lock().unwrap().acks.len();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    stop.store(true, Ordering::SeqCst);
    for h in load {
        h.await.unwrap();
    }
    let t = tally.lock().unwrap();
    eprintln!("{} acknowledged ({before} before the cut, {recovered} at recovery), {} failed attempts", t.acks.len(), t.failures);
    assert!(t.acks.len() > recovered, "submissions go through again after the database came back");
    drop(server);
    check_store(&db.url, dir.path(), &t.acks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_behave_as_one_service() {
    if !should_run(Backend::Postgres, "two_instances_on_one_postgres_behave_as_one_service") {
        return;
    }
    // Both start together on an empty database: one migrates, the other waits.
    let db = TestDb::empty(Backend::Postgres);
    let dir = tempfile::tempdir().unwrap();
    let (u1, d1, u2, d2) = (db.url.clone(), dir.path().to_path_buf(), db.url.clone(), dir.path().to_path_buf());
    let a = std::thread::spawn(move || Server::start(&u1, &d1, &[("RUXUE__DATABASE__AUDIT_SEAL_INTERVAL_MS", "20")]));
    let b = std::thread::spawn(move || Server::start(&u2, &d2, &[("RUXUE__DATABASE__AUDIT_SEAL_INTERVAL_MS", "20")]));
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    prepare_open_demo(&db.url, dir.path());
    {
        let pg = ruxue::db::Db::connect(&db.url, 1, 5000).unwrap();
        let mut c = pg.get().unwrap();
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let rows: Vec<N> = diesel::sql_query("SELECT COUNT(*) AS n FROM __diesel_schema_migrations GROUP BY version HAVING COUNT(*) > 0")
            .load(&mut *c)
            .unwrap();
        assert_eq!(rows.len(), embedded_migrations(Backend::Postgres).len(), "every migration applied");
        assert!(rows.iter().all(|r| r.n == 1), "a migration recorded twice");
    }
    // Submissions through both; each parent logs in on one instance and
    // submits on the other (sessions are signed, not stored per instance).
    let mut tasks = Vec::new();
    for w in 0..6u32 {
        let (ba, bb) = if w % 2 == 0 { (a.base.clone(), b.base.clone()) } else { (b.base.clone(), a.base.clone()) };
        tasks.push(tokio::spawn(async move {
            let mut acks = Vec::new();
            for i in 0..5u32 {
                let n = w * 100 + i + 1;
                let p = LoadParent::login(&ba, &format!("two-{n}")).await.unwrap();
                let draft = p.prepare(&ba, n).await.unwrap();
                let (application_id, registration_no) = p.submit(&bb, &draft).await.unwrap();
                // The same submit retried on the other instance answers the same.
                let again = p.submit(&ba, &draft).await.unwrap();
                assert_eq!(again.0, application_id);
                acks.push(Ack { n, application_id, registration_no });
            }
            acks
        }));
    }
    let mut acks = Vec::new();
    for t in tasks {
        acks.extend(t.await.unwrap());
    }
    assert_eq!(acks.len(), 30);
    // Both instances seal; the chain holds every entry once, in one order.
    let pg = ruxue::db::Db::connect(&db.url, 1, 5000).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let pending = pg.run(|c| Ok(ruxue::db::audit::pending(c)?)).await.unwrap();
        if pending == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{pending} audit entries still pending");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (sealed, counter, submits) = pg
        .run(|c| {
            use schema::audit_log as al;
            let sealed: i64 = al::table.count().get_result(c)?;
            let counter: i64 =
                schema::counters::table.filter(schema::counters::name.eq("audit_seq")).select(schema::counters::value).first(c)?;
            let targets: Vec<String> = al::table.filter(al::action.eq("application.submit")).select(al::target).load(c)?;
            Ok((sealed, counter, targets))
        })
        .await
        .unwrap();
    assert_eq!(sealed, counter, "every entry sealed exactly once");
    for a in &acks {
        assert_eq!(submits.iter().filter(|t| t.contains(a.application_id.as_str())).count(), 1, "one audit entry for {a:?}");
    }
    drop((a, b));
    check_store(&db.url, dir.path(), &acks);
}

backend_test! {
    #[test]
    fn the_audit_chain_takes_concurrent_writers_and_still_catches_tampering(backend) {
        use diesel::connection::SimpleConnection;
        use ruxue::db::audit;
        use ruxue::error::AppError;
        let tdb = TestDb::new(backend);
        let db = ruxue::db::Db::connect(&tdb.url, 8, 5000).unwrap();
        db.migrate().unwrap();
        let before = audit::verify(&mut db.get().unwrap()).unwrap().entries;
        // Eight writers, 30 transactions each with two entries; every fifth
        // rolls back. A sealer runs beside them (PostgreSQL).
        let done = Arc::new(AtomicBool::new(false));
        let sealer = {
            let (db, done) = (db.clone(), done.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::SeqCst) {
                    audit::seal(&mut db.get().unwrap(), false).unwrap();
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        let writers: Vec<_> = (0..8)
            .map(|t| {
                let db = db.clone();
                std::thread::spawn(move || {
                    let mut committed = 0;
                    for i in 0..30 {
                        let r = db.write_blocking(|c| {
                            audit::append(c, "test", "test.append", &format!("t{t}-{i}-a"), None, None)?;
                            audit::append(c, "test", "test.append", &format!("t{t}-{i}-b"), None, Some(&serde_json::json!({"i": i})))?;
                            if i % 5 == 0 {
                                Err(AppError::internal("rolled back on purpose"))
                            } else {
                                Ok(())
                            }
                        });
                        if r.is_ok() {
                            committed += 2;
                        }
                    }
                    committed
                })
            })
            .collect();
        let committed: i64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
        done.store(true, Ordering::SeqCst);
        sealer.join().unwrap();
        let mut c = db.get().unwrap();
        audit::seal(&mut c, true).unwrap();
        assert_eq!(audit::pending(&mut c).unwrap(), 0);
        let r = audit::verify(&mut c).unwrap();
        assert_eq!(r.broken, None, "{backend:?}");
        assert_eq!(r.entries, before + committed, "every committed entry chained once, none of the rolled-back ones");
        assert_eq!(audit::head(&mut c).unwrap(), (r.entries, r.head.clone()));
        let rolled_back: i64 = schema::audit_log::table.filter(schema::audit_log::target.like("%-0-%")).count().get_result(&mut *c).unwrap();
        assert_eq!(rolled_back, 0);

        let broken_at = |c: &mut ruxue::db::DbConn| {
            audit::seal(c, true).unwrap();
            audit::verify(c).unwrap().broken
        };
        let row = |c: &mut ruxue::db::DbConn, seq: i64| -> audit::AuditEntry {
            schema::audit_log::table.find(seq).select(audit::AuditEntry::as_select()).first(c).unwrap()
        };
        let n = before + 10;
        // Edited.
        let orig = row(&mut c, n);
        c.batch_execute(&format!("UPDATE audit_log SET target = 'forged' WHERE seq = {n}")).unwrap();
        let b = broken_at(&mut c).expect("an edit is caught");
        assert_eq!(b.0, n, "{b:?}");
        c.batch_execute(&format!("UPDATE audit_log SET target = '{}' WHERE seq = {n}", orig.target)).unwrap();
        assert_eq!(broken_at(&mut c), None);
        // Removed from the middle.
        c.batch_execute(&format!("DELETE FROM audit_log WHERE seq = {n}")).unwrap();
        let b = broken_at(&mut c).expect("a removal is caught");
        assert!(b.1.contains(&format!("entry {n} is missing")), "{b:?}");
        diesel::insert_into(schema::audit_log::table).values(&orig).execute(&mut *c).unwrap();
        assert_eq!(broken_at(&mut c), None);
        // Removed by making it look pending again (so that the sealer would
        // chain it anew at the end).
        c.batch_execute(&format!(
            "UPDATE audit_log SET seq = {}, prev_hash = '', hash = 'pending:forged' WHERE seq = {n}",
            audit::PENDING_BASE + 999_999
        ))
        .unwrap();
        let b = broken_at(&mut c).expect("an entry moved out of the chain is caught");
        assert!(b.1.contains(&format!("entry {n} is missing")), "{b:?}");
        // Reordered.
        let tdb2 = TestDb::new(backend);
        let db2 = ruxue::db::Db::connect(&tdb2.url, 2, 5000).unwrap();
        db2.migrate().unwrap();
        for i in 0..5 {
            db2.write_blocking(|c| Ok(audit::append(c, "test", "test.append", &format!("r{i}"), None, None)?)).unwrap();
        }
        let mut c2 = db2.get().unwrap();
        audit::seal(&mut c2, true).unwrap();
        let head = audit::verify(&mut c2).unwrap();
        assert_eq!(head.broken, None);
        let m = head.entries - 2;
        c2.batch_execute(&format!(
            "UPDATE audit_log SET seq = -1 WHERE seq = {m}; UPDATE audit_log SET seq = {m} WHERE seq = {}; UPDATE audit_log SET seq = {} WHERE seq = -1",
            m + 1,
            m + 1
        ))
        .unwrap();
        let b = broken_at(&mut c2).expect("a reordering is caught");
        assert_eq!(b.0, m, "{b:?}");
        // The newest entries removed: the sealed count remembers.
        c2.batch_execute(&format!("DELETE FROM audit_log WHERE seq >= {m}")).unwrap();
        let b = broken_at(&mut c2).expect("a removed tail is caught");
        assert!(b.1.contains("tail deleted"), "{b:?}");
    }
}

backend_test! {
    #[test]
    fn the_campaign_cache_sees_every_change(backend) {
        use diesel::connection::SimpleConnection;
        use ruxue::service::registration::campaign_ctx;
        let tdb = TestDb::new(backend);
        let dir = tempfile::tempdir().unwrap();
        ruxue_ok(&tdb.url, dir.path(), &["demo"]);
        let db = ruxue::db::Db::connect(&tdb.url, 2, 5000).unwrap();
        let mut c = db.get().unwrap();
        // Two instances' caches.
        let (a, b) = (ruxue::service::CampaignCache::default(), ruxue::service::CampaignCache::default());
        let first = campaign_ctx(&a, &mut c, CAMPAIGN).unwrap();
        assert_eq!(campaign_ctx(&b, &mut c, CAMPAIGN).unwrap().rules.len(), first.rules.len());
        assert!(first.rules.len() > 1);
        // A rule removed by a use case (with its audit entry, in one
        // transaction): both caches reload at their next use.
        db.write_blocking(|c| {
            c.batch_execute(&format!(
                "DELETE FROM catchment_rules WHERE campaign_id = '{CAMPAIGN}' AND position = (SELECT MAX(position) FROM catchment_rules WHERE campaign_id = '{CAMPAIGN}')"
            ))?;
            ruxue::db::audit::append(c, "cli", "catchment.import", &format!("campaign:{CAMPAIGN}"), None, None)?;
            Ok(())
        })
        .unwrap();
        assert_eq!(campaign_ctx(&a, &mut c, CAMPAIGN).unwrap().rules.len(), first.rules.len() - 1);
        assert_eq!(campaign_ctx(&b, &mut c, CAMPAIGN).unwrap().rules.len(), first.rules.len() - 1);
        // Nothing changed: the cached context (equal to a fresh load).
        let cached = campaign_ctx(&a, &mut c, CAMPAIGN).unwrap();
        let fresh = ruxue::service::registration::load_campaign_ctx(&mut c, CAMPAIGN).unwrap();
        assert_eq!(cached.campaign, fresh.campaign);
        assert_eq!(cached.rules.len(), fresh.rules.len());
        // The campaign row changed even by hand (dates, phase, policy): seen at once.
        c.batch_execute(&format!("UPDATE campaigns SET four_eyes = NOT four_eyes WHERE id = '{CAMPAIGN}'")).unwrap();
        assert_eq!(campaign_ctx(&a, &mut c, CAMPAIGN).unwrap().campaign.four_eyes, !first.campaign.four_eyes);
        // A review decision does not invalidate (the hot path keeps its cache).
        let v = ruxue::db::campaign_ctx_version(&mut c).unwrap();
        db.write_blocking(|c| Ok(ruxue::db::audit::append(c, "staff:x", "review.approve", "application:x", None, None)?)).unwrap();
        assert_eq!(ruxue::db::campaign_ctx_version(&mut c).unwrap(), v);
    }
}
