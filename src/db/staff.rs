//! Staff accounts in the database: creation, passwords, login with
//! lock-out, refresh-token rotation and revocation. Every change appends to
//! the audit log inside its own transaction.

use super::models::Staff;
use super::schema::{staff, staff_refresh_tokens as rt};
use super::{audit, new_id, now, DbConn};
use crate::error::AppError;
use crate::staff::auth::{self, Role};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Serialize)]
pub struct StaffView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub role_label: &'static str,
    pub township_scope: Vec<String>,
    pub active: bool,
    pub locked: bool,
    pub created_at: NaiveDateTime,
}

pub fn scope_of(s: &Staff) -> Vec<String> {
    serde_json::from_str(&s.township_scope).unwrap_or_default()
}

pub fn view(s: &Staff) -> StaffView {
    StaffView {
        id: s.id.clone(),
        username: s.username.clone(),
        display_name: s.display_name.clone(),
        role: s.role.clone(),
        role_label: Role::parse(&s.role).map(Role::label).unwrap_or(""),
        township_scope: scope_of(s),
        active: s.active,
        locked: s.locked_until.map(|t| t > now()).unwrap_or(false),
        created_at: s.created_at,
    }
}

/// A validated new account.
#[derive(Debug, Clone)]
pub struct NewStaff {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub township_scope: Vec<String>,
}

pub fn validate_new(
    username: &str,
    display_name: &str,
    role: &str,
    scope: &[String],
    password: &str,
) -> Result<NewStaff, AppError> {
    let username = username.trim().to_ascii_lowercase();
    if !(3..=32).contains(&username.len())
        || !username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(AppError::invalid("username", "用户名须为 3–32 位字母、数字、点、下划线或连字符"));
    }
    let display_name = display_name.trim().to_string();
    if display_name.is_empty() || display_name.chars().count() > 40 || display_name.chars().any(char::is_control) {
        return Err(AppError::invalid("display_name", "请填写姓名（不超过 40 个字）"));
    }
    let role = Role::parse(role).ok_or_else(|| AppError::invalid("role", "角色只能是管理员、审核员、派位操作员或督导审计"))?;
    let mut scope: Vec<String> = scope.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    scope.sort();
    scope.dedup();
    if role == Role::Reviewer && scope.is_empty() {
        return Err(AppError::invalid("township_scope", "审核员须指定负责的乡镇"));
    }
    if role != Role::Reviewer && !scope.is_empty() {
        return Err(AppError::invalid("township_scope", "只有审核员按乡镇划分范围"));
    }
    auth::check_password_strength(password).map_err(|m| AppError::invalid("password", m))?;
    Ok(NewStaff { username, display_name, role, township_scope: scope })
}

/// Inserts an account (inside the caller's transaction).
pub fn create(conn: &mut DbConn, actor: &str, n: &NewStaff, password_hash: &str) -> Result<Staff, AppError> {
    for t in &n.township_scope {
        let exists: i64 = super::schema::townships::table
            .filter(super::schema::townships::id.eq(t))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            return Err(AppError::invalid("township_scope", format!("没有编号为 {t} 的乡镇")));
        }
    }
    let taken: i64 = staff::table.filter(staff::username.eq(&n.username)).count().get_result(conn)?;
    if taken > 0 {
        return Err(AppError::Conflict { code: "duplicate", message: "该用户名已被使用".into(), field: Some("username".into()) });
    }
    let t = now();
    let row = Staff {
        id: new_id(),
        username: n.username.clone(),
        display_name: n.display_name.clone(),
        password_hash: password_hash.to_string(),
        role: n.role.as_str().to_string(),
        township_scope: serde_json::to_string(&n.township_scope).map_err(AppError::internal)?,
        failed_logins: 0,
        locked_until: None,
        token_version: 0,
        active: true,
        created_at: t,
        password_changed_at: t,
    };
    diesel::insert_into(staff::table).values(&row).execute(conn)?;
    audit::append(
        conn,
        actor,
        "staff.create",
        &format!("staff:{}", row.id),
        None,
        Some(&json!({"username": row.username, "role": row.role, "township_scope": n.township_scope})),
    )?;
    Ok(row)
}

pub fn by_id(conn: &mut DbConn, id: &str) -> Result<Option<Staff>, AppError> {
    Ok(staff::table.find(id).select(Staff::as_select()).first(conn).optional()?)
}

pub fn by_username(conn: &mut DbConn, username: &str) -> Result<Option<Staff>, AppError> {
    Ok(staff::table
        .filter(staff::username.eq(username.trim().to_ascii_lowercase()))
        .select(Staff::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConn) -> Result<Vec<Staff>, AppError> {
    Ok(staff::table.order(staff::username.asc()).select(Staff::as_select()).load(conn)?)
}

/// Revokes every token of an account: bumps `token_version` (access tokens)
/// and deletes its refresh tokens. (Rows marked revoked are kept only for
/// tokens replaced by rotation, so that presenting one again is recognised
/// as a replay; a token that ended with a logout is simply unknown.)
fn revoke_all(conn: &mut DbConn, staff_id: &str) -> Result<(), AppError> {
    diesel::update(staff::table.find(staff_id)).set(staff::token_version.eq(staff::token_version + 1)).execute(conn)?;
    diesel::delete(rt::table.filter(rt::staff_id.eq(staff_id))).execute(conn)?;
    Ok(())
}

/// Sets a new password hash and revokes every token of the account.
pub fn set_password(conn: &mut DbConn, actor: &str, staff_id: &str, password_hash: &str, action: &str) -> Result<(), AppError> {
    let n = diesel::update(staff::table.find(staff_id))
        .set((
            staff::password_hash.eq(password_hash),
            staff::password_changed_at.eq(now()),
            staff::failed_logins.eq(0),
            staff::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    revoke_all(conn, staff_id)?;
    audit::append(conn, actor, action, &format!("staff:{staff_id}"), None, Some(&json!({"tokens_revoked": true})))?;
    Ok(())
}

/// Stores a new refresh token for the account; returns the opaque token.
pub fn issue_refresh(conn: &mut DbConn, staff_id: &str, hours: i64) -> Result<String, AppError> {
    let token = auth::random_token();
    let t = now();
    // Expired tokens of the account are of no further use.
    diesel::delete(rt::table.filter(rt::staff_id.eq(staff_id)).filter(rt::expires_at.lt(t))).execute(conn)?;
    diesel::insert_into(rt::table)
        .values((
            rt::id.eq(new_id()),
            rt::staff_id.eq(staff_id),
            rt::token_hash.eq(auth::token_hash(&token)),
            rt::expires_at.eq(t + chrono::Duration::hours(hours.max(1))),
            rt::revoked_at.eq(None::<NaiveDateTime>),
            rt::created_at.eq(t),
        ))
        .execute(conn)?;
    Ok(token)
}

#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum LoginOutcome {
    Success { staff: Staff, refresh: String },
    BadCredentials,
    Locked,
}

/// Checks a password with lock-out; commits the failure count either way.
pub fn login(
    conn: &mut DbConn,
    username: &str,
    password: &str,
    max_failed: i32,
    lockout_minutes: i64,
    refresh_hours: i64,
) -> Result<LoginOutcome, AppError> {
    let t = now();
    let Some(s) = by_username(conn, username)? else {
        // Spend the same time as a real check so usernames cannot be probed.
        let _ = auth::verify_password(password, auth::dummy_hash());
        audit::append(conn, "anonymous", "staff.login_failed", "staff:unknown", None, Some(&json!({"reason": "unknown_user"})))?;
        return Ok(LoginOutcome::BadCredentials);
    };
    let target = format!("staff:{}", s.id);
    if s.locked_until.map(|u| u > t).unwrap_or(false) {
        audit::append(conn, "anonymous", "staff.login_refused", &target, None, Some(&json!({"reason": "locked"})))?;
        return Ok(LoginOutcome::Locked);
    }
    if !s.active || !auth::verify_password(password, &s.password_hash) {
        let failures = s.failed_logins + 1;
        let lock = failures >= max_failed.max(1);
        let until = if lock { Some(t + chrono::Duration::minutes(lockout_minutes.max(0))) } else { s.locked_until };
        diesel::update(staff::table.find(&s.id))
            .set((staff::failed_logins.eq(if lock { 0 } else { failures }), staff::locked_until.eq(until)))
            .execute(conn)?;
        audit::append(
            conn,
            "anonymous",
            "staff.login_failed",
            &target,
            None,
            Some(&json!({"reason": if s.active { "bad_password" } else { "inactive" }, "failures": failures, "locked": lock})),
        )?;
        return Ok(if lock && lockout_minutes > 0 { LoginOutcome::Locked } else { LoginOutcome::BadCredentials });
    }
    diesel::update(staff::table.find(&s.id))
        .set((staff::failed_logins.eq(0), staff::locked_until.eq(None::<NaiveDateTime>)))
        .execute(conn)?;
    let refresh = issue_refresh(conn, &s.id, refresh_hours)?;
    audit::append(conn, &format!("staff:{}", s.id), "staff.login", &target, None, None)?;
    Ok(LoginOutcome::Success { staff: s, refresh })
}

/// Rotates a refresh token. A revoked token presented again means it was
/// stolen or replayed: every token of the account is revoked.
pub fn rotate_refresh(conn: &mut DbConn, token: &str, refresh_hours: i64) -> Result<Option<(Staff, String)>, AppError> {
    let t = now();
    let row: Option<(String, String, NaiveDateTime, Option<NaiveDateTime>)> = rt::table
        .filter(rt::token_hash.eq(auth::token_hash(token)))
        .select((rt::id, rt::staff_id, rt::expires_at, rt::revoked_at))
        .first(conn)
        .optional()?;
    let Some((id, staff_id, expires, revoked)) = row else { return Ok(None) };
    if revoked.is_some() {
        revoke_all(conn, &staff_id)?;
        audit::append(conn, "anonymous", "staff.refresh_reuse", &format!("staff:{staff_id}"), None, Some(&json!({"all_tokens_revoked": true})))?;
        return Ok(None);
    }
    if expires <= t {
        return Ok(None);
    }
    let Some(s) = by_id(conn, &staff_id)? else { return Ok(None) };
    if !s.active {
        return Ok(None);
    }
    diesel::update(rt::table.find(&id)).set(rt::revoked_at.eq(Some(t))).execute(conn)?;
    let new = issue_refresh(conn, &s.id, refresh_hours)?;
    Ok(Some((s, new)))
}

/// Logs an account out everywhere: the access tokens already issued stop
/// working (token_version) and every refresh token is revoked.
pub fn logout(conn: &mut DbConn, staff_id: &str) -> Result<(), AppError> {
    revoke_all(conn, staff_id)?;
    audit::append(conn, &format!("staff:{staff_id}"), "staff.logout", &format!("staff:{staff_id}"), None, None)?;
    Ok(())
}
