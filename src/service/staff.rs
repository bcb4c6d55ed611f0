//! Staff accounts and sessions: login with lock-out, refresh-token rotation,
//! logout, password changes, and the admin's account management. Every
//! change appends to the audit log in the same transaction.
//!
//! Password hashing (argon2id) is deliberately slow, so it never runs inside
//! a write transaction (nor under SQLite's write lock): the account is read,
//! the password checked on the blocking pool, and only then a short
//! transaction records the outcome.

use super::Ctx;
use crate::db::models::Staff;
use crate::db::{audit, now, staff as dbs, DbConn};
use crate::domain::Role;
use crate::error::AppError;
use crate::staff::auth;
use crate::staff::Identity;
use chrono::NaiveDateTime;
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::json;

/// An account as lists and the API show it (no hash, no counters).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StaffView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
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
        role: s.role,
        role_label: s.role.label(),
        township_scope: scope_of(s),
        active: s.active,
        locked: s.locked_until.map(|t| t > now()).unwrap_or(false),
        created_at: s.created_at,
    }
}

/// The acting identity of a stored account.
pub fn identity_of(s: Staff) -> Identity {
    Identity { township_scope: scope_of(&s), id: s.id, username: s.username, display_name: s.display_name, role: s.role }
}

/// A validated new account.
#[derive(Debug, Clone)]
pub struct NewStaff {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub township_scope: Vec<String>,
}

pub fn validate_new(username: &str, display_name: &str, role: &str, scope: &[String], password: &str) -> Result<NewStaff, AppError> {
    let username = username.trim().to_ascii_lowercase();
    if !(3..=32).contains(&username.len()) || !username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
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

/// Inserts an account (inside the caller's transaction), audited.
pub fn create_in(conn: &mut DbConn, actor: &str, n: &NewStaff, password_hash: &str) -> Result<Staff, AppError> {
    for t in &n.township_scope {
        if !dbs::township_exists(conn, t)? {
            return Err(AppError::invalid("township_scope", format!("没有编号为 {t} 的乡镇")));
        }
    }
    if dbs::username_taken(conn, &n.username)? {
        return Err(AppError::Conflict { code: "duplicate", message: "该用户名已被使用".into(), field: Some("username".into()) });
    }
    let t = now();
    let row = Staff {
        id: crate::db::new_id(),
        username: n.username.clone(),
        display_name: n.display_name.clone(),
        password_hash: password_hash.to_string(),
        role: n.role,
        township_scope: serde_json::to_string(&n.township_scope).map_err(AppError::internal)?,
        failed_logins: 0,
        locked_until: None,
        token_version: 0,
        active: true,
        created_at: t,
        password_changed_at: t,
    };
    dbs::insert(conn, &row)?;
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

/// Sets a new password hash and revokes every token of the account (inside
/// the caller's transaction), audited as `action`.
pub fn set_password_in(conn: &mut DbConn, actor: &str, staff_id: &str, password_hash: &str, action: &str) -> Result<(), AppError> {
    if !dbs::set_password_hash(conn, staff_id, password_hash)? {
        return Err(AppError::NotFound);
    }
    dbs::revoke_all(conn, staff_id)?;
    audit::append(conn, actor, action, &format!("staff:{staff_id}"), None, Some(&json!({"tokens_revoked": true})))?;
    Ok(())
}

/// Stores a new refresh token for the account; returns the opaque token.
fn issue_refresh(conn: &mut DbConn, staff_id: &str, hours: i64) -> Result<String, AppError> {
    let token = auth::random_token();
    dbs::insert_refresh(conn, staff_id, &auth::token_hash(&token), now() + chrono::Duration::hours(hours.max(1)))?;
    Ok(token)
}

async fn hash(password: String) -> Result<String, AppError> {
    actix_web::web::block(move || auth::hash_password(&password)).await.map_err(AppError::internal)?.map_err(AppError::internal)
}

async fn verify(password: String, stored: String) -> Result<bool, AppError> {
    actix_web::web::block(move || auth::verify_password(&password, &stored)).await.map_err(AppError::internal)
}

// ---------------------------------------------------------------- sessions

/// A signed-in session: the account, a fresh access token and a refresh token.
pub struct Session {
    pub staff: Staff,
    pub access: String,
    pub refresh: String,
}

fn access_token(cx: &Ctx, s: &Staff) -> Result<String, AppError> {
    auth::issue_access(
        cx.settings.security.jwt_key.expose_secret().as_bytes(),
        &s.id,
        s.role,
        s.token_version,
        chrono::Utc::now().timestamp(),
        cx.settings.security.staff_access_minutes,
    )
    .map_err(AppError::internal)
}

/// Checks a password with lock-out. Bad credentials are `Unauthorized`; a
/// locked account is a 409 `locked` naming the username.
pub async fn login(cx: &Ctx, username: String, password: String) -> Result<Session, AppError> {
    if username.trim().is_empty() {
        return Err(AppError::invalid("username", "请输入用户名"));
    }
    if password.is_empty() {
        return Err(AppError::invalid("password", "请输入密码"));
    }
    if password.len() > 1024 || username.len() > 64 {
        return Err(AppError::invalid("password", "用户名或密码错误"));
    }
    let sec = cx.settings.security.clone();
    let locked = || AppError::Conflict {
        code: "locked",
        message: format!("登录失败次数过多，账号已暂时锁定，请 {} 分钟后再试", sec.lockout_minutes),
        field: Some("username".into()),
    };
    let u = username.clone();
    let found = cx.db.run(move |c| dbs::by_username(c, &u)).await?;
    let Some(s) = found else {
        // Spend the same time as a real check so usernames cannot be probed.
        verify(password, auth::dummy_hash().to_string()).await?;
        cx.db
            .write(|c| {
                Ok(audit::append(c, "anonymous", "staff.login_failed", "staff:unknown", None, Some(&json!({"reason": "unknown_user"})))?)
            })
            .await?;
        return Err(AppError::Unauthorized);
    };
    let target = format!("staff:{}", s.id);
    let t = now();
    if s.locked_until.map(|u| u > t).unwrap_or(false) {
        let tg = target.clone();
        cx.db
            .write(move |c| Ok(audit::append(c, "anonymous", "staff.login_refused", &tg, None, Some(&json!({"reason": "locked"})))?))
            .await?;
        return Err(locked());
    }
    // Always spend the hash's time, so that a disabled account does not answer faster.
    let ok = verify(password, s.password_hash.clone()).await? && s.active;
    if !ok {
        let (id, active) = (s.id.clone(), s.active);
        let (max_failed, minutes) = (sec.max_failed_logins.max(1), sec.lockout_minutes.max(0));
        let lock = cx
            .db
            .write(move |c| {
                let failures = dbs::count_failed_login(c, &id)?;
                let lock = failures >= max_failed;
                if lock {
                    dbs::lock(c, &id, now() + chrono::Duration::minutes(minutes))?;
                }
                audit::append(
                    c,
                    "anonymous",
                    "staff.login_failed",
                    &target,
                    None,
                    Some(&json!({"reason": if active { "bad_password" } else { "inactive" }, "failures": failures, "locked": lock})),
                )?;
                Ok(lock)
            })
            .await?;
        return Err(if lock && sec.lockout_minutes > 0 { locked() } else { AppError::Unauthorized });
    }
    let (id, hours) = (s.id.clone(), sec.staff_refresh_hours);
    let refresh = cx
        .db
        .write(move |c| {
            dbs::clear_failures(c, &id)?;
            let refresh = issue_refresh(c, &id, hours)?;
            audit::append(c, &format!("staff:{id}"), "staff.login", &target, None, None)?;
            Ok(refresh)
        })
        .await?;
    let access = access_token(cx, &s)?;
    Ok(Session { staff: s, access, refresh })
}

/// Rotates a refresh token. A token already used, presented again, means it
/// was stolen or replayed: every token of the account is revoked. `None`:
/// not (or no longer) valid.
pub async fn refresh(cx: &Ctx, token: String) -> Result<Option<Session>, AppError> {
    let hours = cx.settings.security.staff_refresh_hours;
    let rotated = cx
        .db
        .write(move |c| {
            let t = now();
            let Some(row) = dbs::refresh_by_hash(c, &auth::token_hash(&token))? else { return Ok(None) };
            if row.revoked_at.is_some() {
                dbs::revoke_all(c, &row.staff_id)?;
                audit::append(
                    c,
                    "anonymous",
                    "staff.refresh_reuse",
                    &format!("staff:{}", row.staff_id),
                    None,
                    Some(&json!({"all_tokens_revoked": true})),
                )?;
                return Ok(None);
            }
            if row.expires_at <= t {
                return Ok(None);
            }
            let Some(s) = dbs::by_id(c, &row.staff_id)? else { return Ok(None) };
            if !s.active || !dbs::mark_refresh_used(c, &row.id, t)? {
                return Ok(None);
            }
            let new = issue_refresh(c, &s.id, hours)?;
            Ok(Some((s, new)))
        })
        .await?;
    match rotated {
        Some((staff, refresh)) => Ok(Some(Session { access: access_token(cx, &staff)?, staff, refresh })),
        None => Ok(None),
    }
}

/// Logs an account out everywhere: the access tokens already issued stop
/// working (token_version) and every refresh token is revoked.
pub async fn logout(cx: &Ctx, who: &Identity) -> Result<(), AppError> {
    let id = who.id.clone();
    cx.db
        .write(move |c| {
            dbs::revoke_all(c, &id)?;
            audit::append(c, &format!("staff:{id}"), "staff.logout", &format!("staff:{id}"), None, None)?;
            Ok(())
        })
        .await
}

/// The validated identity behind an access token's claims: the account must
/// still be active with the same role and token version.
pub async fn identity(cx: &Ctx, claims: &auth::Claims) -> Result<Option<Identity>, AppError> {
    let sub = claims.sub.clone();
    let row = cx.db.run(move |c| dbs::by_id(c, &sub)).await?;
    Ok(row.filter(|s| s.active && s.token_version == claims.tv && s.role == claims.role).map(identity_of))
}

/// A staff member changes their own password (ends every session).
pub async fn change_password(cx: &Ctx, who: &Identity, current: String, new: String) -> Result<(), AppError> {
    auth::check_password_strength(&new).map_err(|m| AppError::invalid("new_password", m))?;
    let sid = who.id.clone();
    let s = cx.db.run(move |c| dbs::by_id(c, &sid)).await?.ok_or(AppError::NotFound)?;
    if !verify(current, s.password_hash.clone()).await? {
        return Err(AppError::invalid("current_password", "当前密码不正确"));
    }
    let hash = hash(new).await?;
    let (sid, actor) = (who.id.clone(), who.actor());
    cx.db.write(move |c| set_password_in(c, &actor, &sid, &hash, "staff.password_change")).await
}

// ---------------------------------------------------------------- accounts (admin)

/// Every account, with the townships a reviewer may be given.
pub async fn accounts(cx: &Ctx) -> Result<(Vec<StaffView>, Vec<(String, String)>), AppError> {
    cx.db.run(|c| Ok((dbs::list(c)?.iter().map(view).collect(), dbs::townships(c)?))).await
}

pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub township_scope: Vec<String>,
    pub password: String,
}

pub async fn create_account(cx: &Ctx, who: &Identity, a: NewAccount) -> Result<StaffView, AppError> {
    let n = validate_new(&a.username, &a.display_name, &a.role, &a.township_scope, &a.password)?;
    let hash = hash(a.password).await?;
    let actor = who.actor();
    let s = cx.db.write(move |c| create_in(c, &actor, &n, &hash)).await?;
    Ok(view(&s))
}

pub async fn reset_password(cx: &Ctx, who: &Identity, staff_id: String, password: String) -> Result<(), AppError> {
    auth::check_password_strength(&password).map_err(|m| AppError::invalid("password", m))?;
    let hash = hash(password).await?;
    let actor = who.actor();
    cx.db.write(move |c| set_password_in(c, &actor, &staff_id, &hash, "staff.password_reset")).await
}

/// An admin disables, enables or unlocks an account (`action`: `disable`,
/// `enable`, `unlock`), audited as `staff.disable` / `staff.enable` /
/// `staff.unlock`. Disabling ends every session of the account.
pub async fn set_account_state(cx: &Ctx, who: &Identity, staff_id: String, action: String) -> Result<&'static str, AppError> {
    use crate::staff::account::{check_account_action, AccountAction, AccountState};
    if who.role != Role::Admin {
        return Err(AppError::Forbidden);
    }
    let action = AccountAction::parse(&action).ok_or_else(|| AppError::invalid("action", "操作只能是停用、启用或解除锁定"))?;
    let actor = who.clone();
    cx.db
        .write(move |c| {
            let s = dbs::by_id(c, &staff_id)?.ok_or(AppError::NotFound)?;
            let before = view(&s);
            let state = AccountState { id: s.id.clone(), role: s.role, active: before.active, locked: before.locked };
            let admins = dbs::active_admins(c)? as usize;
            check_account_action(&actor.id, &state, action, admins).map_err(|(conflict, m)| {
                if conflict {
                    AppError::Conflict { code: "account_state", message: m.into(), field: Some("action".into()) }
                } else {
                    AppError::invalid("action", m)
                }
            })?;
            match action {
                AccountAction::Disable => {
                    dbs::set_active(c, &s.id, false)?;
                    dbs::revoke_all(c, &s.id)?;
                }
                AccountAction::Enable => dbs::set_active(c, &s.id, true)?,
                AccountAction::Unlock => dbs::clear_failures(c, &s.id)?,
            }
            let after = view(&dbs::by_id(c, &s.id)?.ok_or(AppError::NotFound)?);
            audit::append(
                c,
                &actor.actor(),
                action.audit_action(),
                &format!("staff:{}", s.id),
                Some(&json!({"active": before.active, "locked": before.locked})),
                Some(&json!({"active": after.active, "locked": after.locked, "tokens_revoked": action == AccountAction::Disable})),
            )?;
            Ok(action.done())
        })
        .await
}
