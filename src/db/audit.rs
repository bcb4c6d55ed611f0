//! The hash-chained audit log.
//!
//! Every staff action and state change appends one row. Row `n` stores
//! `prev_hash` = the `hash` of row `n-1` (64 zeros for the first) and
//! `hash = SHA-256(CJSON({seq, at, actor, action, target, before, after, prev_hash}))`,
//! so editing, deleting or reordering any row breaks the chain at that row.
//! Sequence numbers come from the `audit_seq` counter, whose row lock
//! serialises concurrent appenders on PostgreSQL.

use super::schema::audit_log::dsl as a;
use super::DbConn;
use diesel::prelude::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
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

/// Appends one entry inside the caller's transaction.
pub fn append(
    conn: &mut DbConn,
    actor: &str,
    action: &str,
    target: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<AuditEntry, diesel::result::Error> {
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
        let rows: Vec<AuditEntry> =
            a::audit_log.filter(a::seq.gt(last_seq)).order(a::seq.asc()).limit(PAGE).select(AuditEntry::as_select()).load(conn)?;
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
    let row: Option<(i64, String)> = a::audit_log.order(a::seq.desc()).select((a::seq, a::hash)).first(conn).optional()?;
    Ok(row.unwrap_or((0, GENESIS.to_string())))
}
