//! The hash-chained audit log.
//!
//! Every staff action and state change appends one row. Row `n` stores
//! `prev_hash` = the `hash` of row `n-1` (64 zeros for the first) and
//! `hash = SHA-256(CJSON({seq, at, actor, action, target, before, after, prev_hash}))`,
//! so editing, deleting or reordering any row breaks the chain at that row.
//!
//! Writers are not serialised by the chain. On PostgreSQL an appender only
//! takes a number from the `ruxue_audit_pending` sequence (no row lock) and
//! inserts the entry *pending*: its `seq` is at or above [`PENDING_BASE`],
//! `prev_hash` is empty and `hash` is `pending:{seq}`. The sealer ([`seal`],
//! run by `ruxue serve` every `audit.seal_interval_ms`, and by `ruxue audit
//! verify|head` and the auditor's pages before they read) takes the committed
//! pending entries in the order of their numbers, renumbers them to the next
//! chain positions `n+1, n+2, …` and writes their `prev_hash` and `hash`, in
//! one transaction under an advisory lock (one sealer at a time across
//! instances); the `audit_seq` counter holds the number of sealed entries, so
//! a deleted tail is caught. Sealed entries are numbered 1..n without gaps,
//! exactly as before, and [`verify`] checks them as before. An entry whose
//! transaction commits late is simply sealed in a later round.
//!
//! On SQLite the database has one writer at a time anyway, so [`append`]
//! chains the entry at once (the sealer has nothing to do).

use super::schema::audit_log::dsl as a;
use super::DbConn;
use diesel::prelude::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Pending (not yet sealed) entries have `seq >= PENDING_BASE` (2^50); sealed
/// entries are `1..=n`.
pub const PENDING_BASE: i64 = 1 << 50;

/// The PostgreSQL sequence pending entries take their numbers from (created
/// by `db::run_migrations`, not by a migration: SQLite has no sequences).
pub const PENDING_SEQUENCE: &str = "ruxue_audit_pending";

/// Advisory lock held by the one sealer at work ("ruxueS").
const SEAL_LOCK_KEY: i64 = 0x72_75_78_75_65_53;

/// How many pending entries one sealing transaction takes at most.
const SEAL_BATCH: i64 = 2000;

#[derive(QueryableByName)]
struct BigIntRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    v: i64,
}

#[derive(QueryableByName)]
struct BoolRow {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    v: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::audit_log)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: chrono::NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

fn canonical(v: &Value) -> String {
    // serde_json with preserve_order keeps insertion order; sort explicitly.
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for k in keys {
                    out.insert(k.clone(), sort(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_string(&sort(v)).unwrap_or_default()
}

pub fn entry_hash(e: &AuditEntry) -> String {
    let v = json!({
        "seq": e.seq,
        "at": e.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        "actor": e.actor,
        "action": e.action,
        "target": e.target,
        "before": e.before_json,
        "after": e.after_json,
        "prev_hash": e.prev_hash,
    });
    hex::encode(Sha256::digest(canonical(&v).as_bytes()))
}

/// Actions (by prefix) that change what a campaign context holds: the
/// campaign row, its policy, catchment rules, school plans, zones, schools
/// or townships. [`append`] bumps `campaign_ctx_version` for them, in the
/// same transaction, so every instance's campaign cache reloads. A new
/// action that changes any of those must start with one of these.
pub const INVALIDATES_CAMPAIGN_CTX: &[&str] = &["campaign.", "policy.", "catchment.", "demo.", "plan.", "zone.", "school.", "township."];

/// Appends one entry inside the caller's transaction.
pub fn append(
    conn: &mut DbConn,
    actor: &str,
    action: &str,
    target: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<AuditEntry, diesel::result::Error> {
    if INVALIDATES_CAMPAIGN_CTX.iter().any(|p| action.starts_with(p)) {
        super::next_counter(conn, super::CAMPAIGN_CTX_VERSION)?;
    }
    if conn.backend() == super::Backend::Postgres {
        let seq = diesel::sql_query(format!("SELECT nextval('{PENDING_SEQUENCE}') AS v")).get_result::<BigIntRow>(conn)?.v;
        let e = AuditEntry {
            seq,
            at: super::now(),
            actor: actor.to_string(),
            action: action.to_string(),
            target: target.to_string(),
            before_json: before.map(canonical),
            after_json: after.map(canonical),
            prev_hash: String::new(),
            hash: format!("pending:{seq}"),
        };
        diesel::insert_into(a::audit_log).values(&e).execute(conn)?;
        return Ok(e);
    }
    let seq = super::next_counter(conn, "audit_seq")?;
    let prev_hash: String =
        if seq == 1 { GENESIS.to_string() } else { a::audit_log.filter(a::seq.eq(seq - 1)).select(a::hash).first(conn)? };
    let mut e = AuditEntry {
        seq,
        at: super::now(),
        actor: actor.to_string(),
        action: action.to_string(),
        target: target.to_string(),
        before_json: before.map(canonical),
        after_json: after.map(canonical),
        prev_hash,
        hash: String::new(),
    };
    e.hash = entry_hash(&e);
    diesel::insert_into(a::audit_log).values(&e).execute(conn)?;
    Ok(e)
}

/// Seals the committed pending entries (PostgreSQL; nothing to do on
/// SQLite) and returns how many were sealed. With `wait` it waits for another
/// sealer to finish and seals until nothing committed is pending (for
/// `ruxue audit verify|head` and the auditor's pages); without, it gives way
/// when another instance is sealing (the background sealer).
pub fn seal(conn: &mut DbConn, wait: bool) -> Result<i64, diesel::result::Error> {
    if conn.backend() != super::Backend::Postgres {
        return Ok(0);
    }
    let mut total = 0;
    loop {
        let n = conn.transaction(|c| seal_batch(c, wait))?;
        total += n;
        if n < SEAL_BATCH {
            return Ok(total);
        }
    }
}

/// One sealing round inside the caller's transaction.
fn seal_batch(c: &mut DbConn, wait: bool) -> Result<i64, diesel::result::Error> {
    use super::schema::counters::dsl as k;
    if wait {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({SEAL_LOCK_KEY})")).execute(c)?;
    } else if !diesel::sql_query(format!("SELECT pg_try_advisory_xact_lock({SEAL_LOCK_KEY}) AS v")).get_result::<BoolRow>(c)?.v {
        return Ok(0);
    }
    let pending: Vec<AuditEntry> = a::audit_log
        .filter(a::seq.ge(PENDING_BASE))
        .filter(a::hash.like("pending:%"))
        .order(a::seq.asc())
        .limit(SEAL_BATCH)
        .select(AuditEntry::as_select())
        .load(c)?;
    if pending.is_empty() {
        return Ok(0);
    }
    let sealed: Option<i64> = k::counters.filter(k::name.eq("audit_seq")).select(k::value).first(c).optional()?;
    let mut n = sealed.unwrap_or(0);
    let mut prev: String = if n == 0 { GENESIS.to_string() } else { a::audit_log.filter(a::seq.eq(n)).select(a::hash).first(c)? };
    // One UPDATE for the batch: (pending seq, chain seq, prev_hash, hash).
    // Every value is a number or a hex digest, so they are written inline.
    let mut values = String::with_capacity(pending.len() * 160);
    for mut e in pending.iter().cloned() {
        let old = e.seq;
        n += 1;
        e.seq = n;
        e.prev_hash = prev;
        e.hash = entry_hash(&e);
        if !values.is_empty() {
            values.push(',');
        }
        values.push_str(&format!("({old}::BIGINT,{n}::BIGINT,'{}','{}')", e.prev_hash, e.hash));
        prev = e.hash;
    }
    diesel::sql_query(format!(
        "UPDATE audit_log SET seq = v.new_seq, prev_hash = v.prev, hash = v.h \
         FROM (VALUES {values}) AS v(old_seq, new_seq, prev, h) WHERE audit_log.seq = v.old_seq"
    ))
    .execute(c)?;
    if sealed.is_some() {
        diesel::update(k::counters.filter(k::name.eq("audit_seq"))).set(k::value.eq(n)).execute(c)?;
    } else {
        diesel::insert_into(k::counters).values((k::name.eq("audit_seq"), k::value.eq(n))).execute(c)?;
    }
    Ok(pending.len() as i64)
}

/// How many entries wait for the sealer.
pub fn pending(conn: &mut DbConn) -> Result<i64, diesel::result::Error> {
    a::audit_log.filter(a::seq.ge(PENDING_BASE)).count().get_result(conn)
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainReport {
    pub entries: i64,
    pub head: String,
    /// The first broken link, if any: (sequence number, what is wrong).
    pub broken: Option<(i64, String)>,
}

/// Walks the whole chain in order.
pub fn verify(conn: &mut DbConn) -> Result<ChainReport, diesel::result::Error> {
    let counter: Option<i64> = super::schema::counters::table
        .filter(super::schema::counters::name.eq("audit_seq"))
        .select(super::schema::counters::value)
        .first(conn)
        .optional()?;
    let mut expected_seq = 1i64;
    let mut prev = GENESIS.to_string();
    let mut last_seq = 0i64;
    const PAGE: i64 = 5000;
    loop {
        let rows: Vec<AuditEntry> = a::audit_log
            .filter(a::seq.gt(last_seq))
            .filter(a::seq.lt(PENDING_BASE))
            .order(a::seq.asc())
            .limit(PAGE)
            .select(AuditEntry::as_select())
            .load(conn)?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let broken = |why: String| Ok(ChainReport { entries: expected_seq - 1, head: prev.clone(), broken: Some((r.seq, why)) });
            if r.seq != expected_seq {
                return broken(format!("entry {} is missing (found {} next)", expected_seq, r.seq));
            }
            if r.prev_hash != prev {
                return broken("prev_hash does not match the previous entry's hash".into());
            }
            if entry_hash(r) != r.hash {
                return broken("content does not match its hash (edited)".into());
            }
            prev = r.hash.clone();
            expected_seq += 1;
        }
        last_seq = rows.last().map(|r| r.seq).unwrap_or(last_seq);
    }
    let entries = expected_seq - 1;
    if let Some(c) = counter {
        if c != entries {
            return Ok(ChainReport {
                entries,
                head: prev,
                broken: Some((entries + 1, format!("the log ends at {entries} but {c} entries were written (tail deleted)"))),
            });
        }
    }
    Ok(ChainReport { entries, head: prev, broken: None })
}

/// The latest head (sequence number and hash) for auditors to write down.
pub fn head(conn: &mut DbConn) -> Result<(i64, String), diesel::result::Error> {
    let row: Option<(i64, String)> =
        a::audit_log.filter(a::seq.lt(PENDING_BASE)).order(a::seq.desc()).select((a::seq, a::hash)).first(conn).optional()?;
    Ok(row.unwrap_or((0, GENESIS.to_string())))
}
