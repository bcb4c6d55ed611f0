//! Staff accounts and refresh tokens: queries only. The rules (validation,
//! lock-out, rotation, revocation) are `crate::service::staff`'s.

use super::models::Staff;
use super::schema::{staff, staff_refresh_tokens as rt, townships};
use super::{new_id, now, DbConn};
use crate::error::AppError;
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub fn by_id(conn: &mut DbConn, id: &str) -> Result<Option<Staff>, AppError> {
    Ok(staff::table.find(id).select(Staff::as_select()).first(conn).optional()?)
}

pub fn by_username(conn: &mut DbConn, username: &str) -> Result<Option<Staff>, AppError> {
    Ok(staff::table.filter(staff::username.eq(username.trim().to_ascii_lowercase())).select(Staff::as_select()).first(conn).optional()?)
}

pub fn list(conn: &mut DbConn) -> Result<Vec<Staff>, AppError> {
    Ok(staff::table.order(staff::username.asc()).select(Staff::as_select()).load(conn)?)
}

pub fn township_exists(conn: &mut DbConn, id: &str) -> Result<bool, AppError> {
    let n: i64 = townships::table.filter(townships::id.eq(id)).count().get_result(conn)?;
    Ok(n > 0)
}

/// `(id, name)` of every township, by id.
pub fn townships(conn: &mut DbConn) -> Result<Vec<(String, String)>, AppError> {
    Ok(townships::table.order(townships::id.asc()).select((townships::id, townships::name)).load(conn)?)
}

pub fn username_taken(conn: &mut DbConn, username: &str) -> Result<bool, AppError> {
    let n: i64 = staff::table.filter(staff::username.eq(username)).count().get_result(conn)?;
    Ok(n > 0)
}

pub fn insert(conn: &mut DbConn, row: &Staff) -> Result<(), AppError> {
    diesel::insert_into(staff::table).values(row).execute(conn)?;
    Ok(())
}

/// Counts one failed login in a single statement (no read-modify-write, so
/// concurrent failures all count) and returns the new count.
pub fn count_failed_login(conn: &mut DbConn, staff_id: &str) -> Result<i32, AppError> {
    diesel::update(staff::table.find(staff_id)).set(staff::failed_logins.eq(staff::failed_logins + 1)).execute(conn)?;
    Ok(staff::table.find(staff_id).select(staff::failed_logins).first(conn)?)
}

/// Locks an account until `until` and restarts its failure count.
pub fn lock(conn: &mut DbConn, staff_id: &str, until: NaiveDateTime) -> Result<(), AppError> {
    diesel::update(staff::table.find(staff_id)).set((staff::failed_logins.eq(0), staff::locked_until.eq(Some(until)))).execute(conn)?;
    Ok(())
}

/// A successful login: no failures, no lock.
pub fn clear_failures(conn: &mut DbConn, staff_id: &str) -> Result<(), AppError> {
    diesel::update(staff::table.find(staff_id))
        .set((staff::failed_logins.eq(0), staff::locked_until.eq(None::<NaiveDateTime>)))
        .execute(conn)?;
    Ok(())
}

/// Bumps `token_version` (every access token stops working) and deletes the
/// account's refresh tokens. (Rows marked revoked are kept only for tokens
/// replaced by rotation, so that presenting one again is recognised as a
/// replay; a token that ended with a logout is simply unknown.)
pub fn revoke_all(conn: &mut DbConn, staff_id: &str) -> Result<(), AppError> {
    diesel::update(staff::table.find(staff_id)).set(staff::token_version.eq(staff::token_version + 1)).execute(conn)?;
    diesel::delete(rt::table.filter(rt::staff_id.eq(staff_id))).execute(conn)?;
    Ok(())
}

/// Turns an account on or off.
pub fn set_active(conn: &mut DbConn, staff_id: &str, active: bool) -> Result<(), AppError> {
    diesel::update(staff::table.find(staff_id)).set(staff::active.eq(active)).execute(conn)?;
    Ok(())
}

/// How many admin accounts are active.
pub fn active_admins(conn: &mut DbConn) -> Result<i64, AppError> {
    Ok(staff::table.filter(staff::role.eq(crate::domain::Role::Admin)).filter(staff::active.eq(true)).count().get_result(conn)?)
}

/// Sets a new password hash and clears any lock; false when there is no such account.
pub fn set_password_hash(conn: &mut DbConn, staff_id: &str, password_hash: &str) -> Result<bool, AppError> {
    let n = diesel::update(staff::table.find(staff_id))
        .set((
            staff::password_hash.eq(password_hash),
            staff::password_changed_at.eq(now()),
            staff::failed_logins.eq(0),
            staff::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(n > 0)
}

/// Stores a refresh token's hash, dropping the account's expired ones.
pub fn insert_refresh(conn: &mut DbConn, staff_id: &str, token_hash: &str, expires_at: NaiveDateTime) -> Result<(), AppError> {
    let t = now();
    diesel::delete(rt::table.filter(rt::staff_id.eq(staff_id)).filter(rt::expires_at.lt(t))).execute(conn)?;
    diesel::insert_into(rt::table)
        .values((
            rt::id.eq(new_id()),
            rt::staff_id.eq(staff_id),
            rt::token_hash.eq(token_hash),
            rt::expires_at.eq(expires_at),
            rt::revoked_at.eq(None::<NaiveDateTime>),
            rt::created_at.eq(t),
        ))
        .execute(conn)?;
    Ok(())
}

/// A stored refresh token.
#[derive(Debug, Clone, Queryable)]
pub struct RefreshRow {
    pub id: String,
    pub staff_id: String,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn refresh_by_hash(conn: &mut DbConn, token_hash: &str) -> Result<Option<RefreshRow>, AppError> {
    Ok(rt::table
        .filter(rt::token_hash.eq(token_hash))
        .select((rt::id, rt::staff_id, rt::expires_at, rt::revoked_at))
        .first(conn)
        .optional()?)
}

/// Marks a refresh token used; false when another request used it first.
pub fn mark_refresh_used(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> Result<bool, AppError> {
    let n = diesel::update(rt::table.find(id).filter(rt::revoked_at.is_null())).set(rt::revoked_at.eq(Some(at))).execute(conn)?;
    Ok(n == 1)
}
