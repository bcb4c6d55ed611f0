//! The outbox (`notifications`) and the shared WeChat access_token
//! (`wechat_tokens`): queries only; the worker is `src/service/notify.rs`.

use super::models::{Guardian, Notification};
use super::schema::{applications as ap, children, guardians, notifications as n, offers, schools, wechat_tokens as wt, zones};
use super::DbConn;
use crate::error::AppError;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Queues a message; false when one with the same `dedup_key` is already there.
/// Inside a savepoint, so that on PostgreSQL the unique violation does not
/// abort the caller's transaction (the state change this message announces).
pub fn insert(conn: &mut DbConn, row: &Notification) -> Result<bool, AppError> {
    super::review::first_insert(conn.transaction(|c| diesel::insert_into(n::table).values(row).execute(c)))
}

/// Queues many messages, skipping any whose `dedup_key` is already there
/// (`ON CONFLICT DO NOTHING`: no savepoint per row, so a large draw's
/// results are a few statements). Returns how many were queued.
pub fn insert_many(conn: &mut DbConn, rows: &[Notification]) -> Result<usize, AppError> {
    // 19 columns × 500 rows stays below both backends' limits on bound parameters.
    const CHUNK: usize = 500;
    let mut queued = 0;
    for chunk in rows.chunks(CHUNK) {
        queued += match conn {
            DbConn::Postgres(pg) => diesel::insert_into(n::table).values(chunk).on_conflict(n::dedup_key).do_nothing().execute(pg)?,
            DbConn::Sqlite(lite) => diesel::insert_into(n::table).values(chunk).on_conflict(n::dedup_key).do_nothing().execute(lite)?,
        };
    }
    Ok(queued)
}

/// The guardian of each application, `application_id → guardian`, a chunk
/// of applications per query.
pub fn guardians_of_applications(conn: &mut DbConn, app_ids: &[String]) -> Result<std::collections::HashMap<String, Guardian>, AppError> {
    let mut out = std::collections::HashMap::with_capacity(app_ids.len());
    for chunk in app_ids.chunks(500) {
        let rows: Vec<(String, Guardian)> = ap::table
            .inner_join(children::table.inner_join(guardians::table))
            .filter(ap::id.eq_any(chunk))
            .select((ap::id, Guardian::as_select()))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

/// Leases up to `limit` messages that are due (pending and past their
/// `next_attempt_at`, or leased by a worker whose lease expired) to `owner`
/// until `until`, counting the attempt. On PostgreSQL the rows are chosen
/// `FOR UPDATE SKIP LOCKED`, so concurrent workers take disjoint sets; the
/// update re-checks the condition, so a row is never leased twice either way.
pub fn claim(conn: &mut DbConn, owner: &str, now: NaiveDateTime, until: NaiveDateTime, limit: i64) -> Result<Vec<Notification>, AppError> {
    let due = n::status.eq("pending").and(n::next_attempt_at.le(now)).or(n::status.eq("sending").and(n::lease_expires_at.le(now)));
    let ids: Vec<String> = match conn {
        DbConn::Postgres(pg) => diesel::sql_query(
            "SELECT id FROM notifications \
             WHERE (status = 'pending' AND next_attempt_at <= $1) OR (status = 'sending' AND lease_expires_at <= $1) \
             ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
        )
        .bind::<diesel::sql_types::Timestamp, _>(now)
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .load::<IdRow>(pg)?
        .into_iter()
        .map(|r| r.id)
        .collect(),
        DbConn::Sqlite(_) => n::table.filter(due).order((n::next_attempt_at.asc(), n::id.asc())).limit(limit).select(n::id).load(conn)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(n::table.filter(n::id.eq_any(&ids)).filter(due))
        .set((n::status.eq("sending"), n::lease_owner.eq(owner), n::lease_expires_at.eq(until), n::attempts.eq(n::attempts + 1)))
        .execute(conn)?;
    Ok(n::table
        .filter(n::id.eq_any(&ids))
        .filter(n::status.eq("sending"))
        .filter(n::lease_owner.eq(owner))
        .filter(n::lease_expires_at.eq(until))
        .order((n::next_attempt_at.asc(), n::id.asc()))
        .select(Notification::as_select())
        .load(conn)?)
}

/// Delivered.
pub fn mark_sent(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> Result<(), AppError> {
    diesel::update(n::table.filter(n::id.eq(id)))
        .set((n::status.eq("sent"), n::sent_at.eq(at), n::lease_owner.eq(None::<String>), n::lease_expires_at.eq(None::<NaiveDateTime>)))
        .execute(conn)?;
    Ok(())
}

/// Not delivered: `pending` again at `next` (a retry), or `failed` / `dead`
/// (no more tries), with the error. Only while `owner` still holds the lease.
pub fn mark_unsent(conn: &mut DbConn, id: &str, owner: &str, status: &str, next: NaiveDateTime, error: &str) -> Result<(), AppError> {
    diesel::update(n::table.filter(n::id.eq(id)).filter(n::status.eq("sending")).filter(n::lease_owner.eq(owner)))
        .set((
            n::status.eq(status),
            n::next_attempt_at.eq(next),
            n::last_error.eq(error),
            n::lease_owner.eq(None::<String>),
            n::lease_expires_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<Option<Notification>, AppError> {
    Ok(n::table.filter(n::id.eq(id)).select(Notification::as_select()).first(conn).optional()?)
}

/// The newest messages, optionally of one campaign and in one status.
pub fn list(conn: &mut DbConn, campaign: Option<&str>, status: Option<&str>, limit: i64) -> Result<Vec<Notification>, AppError> {
    let mut q = n::table.into_boxed();
    if let Some(c) = campaign {
        q = q.filter(n::campaign_id.eq(c.to_string()));
    }
    if let Some(s) = status {
        q = q.filter(n::status.eq(s.to_string()));
    }
    Ok(q.order((n::created_at.desc(), n::id.asc())).limit(limit).select(Notification::as_select()).load(conn)?)
}

/// `(status, count)` for a campaign (or all).
pub fn counts(conn: &mut DbConn, campaign: Option<&str>) -> Result<Vec<(String, i64)>, AppError> {
    let q = n::table.group_by(n::status).select((n::status, diesel::dsl::count_star()));
    Ok(match campaign {
        Some(c) => q.filter(n::campaign_id.eq(c)).load(conn)?,
        None => q.load(conn)?,
    })
}

/// A failed or dead message back to `pending` now, with fresh attempts.
pub fn requeue(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Result<bool, AppError> {
    let k = diesel::update(n::table.filter(n::id.eq(id)).filter(n::status.eq_any(["failed", "dead"])))
        .set((n::status.eq("pending"), n::attempts.eq(0), n::next_attempt_at.eq(now)))
        .execute(conn)?;
    Ok(k == 1)
}

// ---------------------------------------------------------------- who and what

/// The guardian of an application.
pub fn guardian_of_application(conn: &mut DbConn, app_id: &str) -> Result<Option<Guardian>, AppError> {
    Ok(ap::table
        .inner_join(children::table.inner_join(guardians::table))
        .filter(ap::id.eq(app_id))
        .select(Guardian::as_select())
        .first(conn)
        .optional()?)
}

pub fn guardian(conn: &mut DbConn, id: &str) -> Result<Option<Guardian>, AppError> {
    Ok(guardians::table.filter(guardians::id.eq(id)).select(Guardian::as_select()).first(conn).optional()?)
}

/// A school's or a zone's name (an approval names either).
pub fn place_name(conn: &mut DbConn, id: &str) -> Result<Option<String>, AppError> {
    if let Some(s) = schools::table.filter(schools::id.eq(id)).select(schools::name).first::<String>(conn).optional()? {
        return Ok(Some(s));
    }
    Ok(zones::table.filter(zones::id.eq(id)).select(zones::name).first::<String>(conn).optional()?)
}

/// An open offer whose deadline falls in `(now, until]`, for the reminder.
#[derive(Debug, Clone, Queryable)]
pub struct OfferDue {
    pub offer_id: String,
    pub deadline: NaiveDateTime,
    pub application_id: String,
    pub campaign_id: String,
    pub registration_no: String,
    pub school: String,
}

pub fn offers_due(conn: &mut DbConn, now: NaiveDateTime, until: NaiveDateTime) -> Result<Vec<OfferDue>, AppError> {
    Ok(offers::table
        .inner_join(ap::table)
        .inner_join(schools::table)
        .filter(offers::status.eq("offered"))
        .filter(offers::deadline.gt(now))
        .filter(offers::deadline.le(until))
        .select((offers::id, offers::deadline, ap::id, ap::campaign_id, ap::registration_no, schools::name))
        .load(conn)?)
}

/// Whether a message with this key is already queued.
pub fn exists(conn: &mut DbConn, dedup_key: &str) -> Result<bool, AppError> {
    Ok(n::table.filter(n::dedup_key.eq(dedup_key)).count().get_result::<i64>(conn)? > 0)
}

// ---------------------------------------------------------------- WeChat access_token

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = wt)]
pub struct TokenRow {
    pub app_id: String,
    pub access_token: String,
    pub expires_at: NaiveDateTime,
    pub refreshing_until: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

pub fn token(conn: &mut DbConn, app_id: &str) -> Result<Option<TokenRow>, AppError> {
    Ok(wt::table.filter(wt::app_id.eq(app_id)).select(TokenRow::as_select()).first(conn).optional()?)
}

/// Takes the right to refresh the token if nobody holds it and the token is
/// still `seen` (another instance may have replaced it meanwhile); creates
/// the row the first time.
pub fn take_refresh(conn: &mut DbConn, app_id: &str, seen: &str, now: NaiveDateTime, until: NaiveDateTime) -> Result<bool, AppError> {
    let inserted = super::review::first_insert(conn.transaction(|c| {
        diesel::insert_into(wt::table)
            .values((
                wt::app_id.eq(app_id),
                wt::access_token.eq(""),
                wt::expires_at.eq(now),
                wt::refreshing_until.eq(Some(until)),
                wt::updated_at.eq(now),
            ))
            .execute(c)
    }))?;
    if inserted {
        return Ok(seen.is_empty());
    }
    let k = diesel::update(
        wt::table
            .filter(wt::app_id.eq(app_id))
            .filter(wt::access_token.eq(seen))
            .filter(wt::refreshing_until.is_null().or(wt::refreshing_until.le(now))),
    )
    .set(wt::refreshing_until.eq(Some(until)))
    .execute(conn)?;
    Ok(k == 1)
}

/// Stores a fresh token (or, with `None`, gives the refresh up).
pub fn store_token(conn: &mut DbConn, app_id: &str, fresh: Option<(&str, NaiveDateTime)>, now: NaiveDateTime) -> Result<(), AppError> {
    let q = diesel::update(wt::table.filter(wt::app_id.eq(app_id)));
    match fresh {
        Some((t, exp)) => q
            .set((wt::access_token.eq(t), wt::expires_at.eq(exp), wt::refreshing_until.eq(None::<NaiveDateTime>), wt::updated_at.eq(now)))
            .execute(conn)?,
        None => q.set(wt::refreshing_until.eq(None::<NaiveDateTime>)).execute(conn)?,
    };
    Ok(())
}
