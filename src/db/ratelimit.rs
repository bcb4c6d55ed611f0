//! Fixed-window request counters (`rate_limits`), shared by every instance
//! on the database. Queries only; what is counted and the limits are
//! `crate::web::ratelimit`'s and the services'.

use super::schema::rate_limits::dsl as r;
use super::DbConn;
use diesel::prelude::*;

/// A bucket's name as stored: a digest of what is counted (`kind`, e.g. a
/// client address or a guardian id), not the address or id itself.
pub fn bucket(kind: &str, key: &str) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(format!("ruxue-rate-v1\0{kind}\0{key}").as_bytes());
    hex::encode(&d[..16])
}

/// Counts one hit on `bucket` in the window starting at `window_start` and
/// returns the window's hits so far, this one included. Outside any
/// transaction: the UPDATE takes the row lock on PostgreSQL, so concurrent
/// callers (of any instance) each get their own count; the first hit of a
/// window INSERTs, and an INSERT that lost the race to another instance
/// counts by UPDATE again. (MultiConnection has no `ON CONFLICT`.)
pub fn hit(conn: &mut DbConn, bucket: &str, window_start: i64) -> Result<i64, diesel::result::Error> {
    for _ in 0..3 {
        let n = diesel::update(r::rate_limits.filter(r::bucket.eq(bucket)).filter(r::window_start.eq(window_start)))
            .set(r::hits.eq(r::hits + 1))
            .execute(conn)?;
        if n == 0 {
            let row = super::models::RateLimitRow { bucket: bucket.to_string(), window_start, hits: 1 };
            match diesel::insert_into(r::rate_limits).values(&row).execute(conn) {
                Ok(_) => {
                    prune(conn, window_start)?;
                    return Ok(1);
                }
                Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => continue,
                Err(e) => return Err(e),
            }
        }
        return current(conn, bucket, window_start);
    }
    current(conn, bucket, window_start)
}

/// The hits of `bucket` in the window starting at `window_start` (0: none).
pub fn current(conn: &mut DbConn, bucket: &str, window_start: i64) -> Result<i64, diesel::result::Error> {
    let hits: Option<i32> =
        r::rate_limits.filter(r::bucket.eq(bucket)).filter(r::window_start.eq(window_start)).select(r::hits).first(conn).optional()?;
    Ok(i64::from(hits.unwrap_or(0)))
}

/// Deletes windows that ended more than an hour before `window_start`
/// (the longest window counted is an hour). Run when a new window opens.
fn prune(conn: &mut DbConn, window_start: i64) -> Result<(), diesel::result::Error> {
    diesel::delete(r::rate_limits.filter(r::window_start.lt(window_start - 2 * 3600))).execute(conn)?;
    Ok(())
}
