//! What an admin may do to a staff account (pure): disable, enable, unlock.

use crate::domain::Role;

/// An admin's action on an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountAction {
    /// Stops the account: no login, every session ended.
    Disable,
    Enable,
    /// Ends a lock-out after too many failed logins.
    Unlock,
}

impl AccountAction {
    pub fn parse(s: &str) -> Option<AccountAction> {
        match s.trim() {
            "disable" => Some(AccountAction::Disable),
            "enable" => Some(AccountAction::Enable),
            "unlock" => Some(AccountAction::Unlock),
            _ => None,
        }
    }

    /// The audit log's action code.
    pub fn audit_action(self) -> &'static str {
        match self {
            AccountAction::Disable => "staff.disable",
            AccountAction::Enable => "staff.enable",
            AccountAction::Unlock => "staff.unlock",
        }
    }

    /// What the admin reads afterwards.
    pub fn done(self) -> &'static str {
        match self {
            AccountAction::Disable => "账号已停用，其所有会话已结束",
            AccountAction::Enable => "账号已启用",
            AccountAction::Unlock => "账号已解除锁定",
        }
    }
}

/// The account as the check needs it.
#[derive(Debug, Clone)]
pub struct AccountState {
    pub id: String,
    pub role: Role,
    pub active: bool,
    pub locked: bool,
}

/// Why an action is refused: `(conflict?, Chinese reason)`; a conflict is
/// the account's state (409), otherwise the request (422, field `action`).
pub fn check_account_action(
    actor_id: &str,
    target: &AccountState,
    action: AccountAction,
    active_admins: usize,
) -> Result<(), (bool, &'static str)> {
    match action {
        AccountAction::Disable if target.id == actor_id => Err((false, "不能停用自己的账号")),
        AccountAction::Disable if !target.active => Err((true, "该账号已停用")),
        AccountAction::Disable if target.role == Role::Admin && active_admins <= 1 => {
            Err((true, "这是唯一在用的管理员账号，停用后将无人能管理系统"))
        }
        AccountAction::Enable if target.active => Err((true, "该账号已在使用中")),
        AccountAction::Unlock if !target.locked => Err((true, "该账号未被锁定")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(id: &str, role: Role, active: bool, locked: bool) -> AccountState {
        AccountState { id: id.into(), role, active, locked }
    }

    #[test]
    fn what_an_admin_may_do_to_an_account() {
        use AccountAction::*;
        let cases = [
            ("disable a reviewer", acct("r", Role::Reviewer, true, false), Disable, 1, Ok(())),
            ("disable oneself", acct("me", Role::Admin, true, false), Disable, 2, Err(false)),
            ("disable twice", acct("r", Role::Reviewer, false, false), Disable, 1, Err(true)),
            ("the last admin", acct("a2", Role::Admin, true, false), Disable, 1, Err(true)),
            ("one of two admins", acct("a2", Role::Admin, true, false), Disable, 2, Ok(())),
            ("enable a disabled one", acct("r", Role::Reviewer, false, false), Enable, 1, Ok(())),
            ("enable an active one", acct("r", Role::Reviewer, true, false), Enable, 1, Err(true)),
            ("unlock a locked one", acct("r", Role::Auditor, true, true), Unlock, 1, Ok(())),
            ("unlock oneself is fine", acct("me", Role::Admin, true, true), Unlock, 1, Ok(())),
            ("unlock an unlocked one", acct("r", Role::Auditor, true, false), Unlock, 1, Err(true)),
        ];
        for (what, target, action, admins, want) in cases {
            let got = check_account_action("me", &target, action, admins).map_err(|(c, m)| {
                assert!(!m.is_empty());
                c
            });
            assert_eq!(got, want, "{what}");
        }
        assert_eq!(AccountAction::parse(" unlock "), Some(Unlock));
        assert_eq!(AccountAction::parse("delete"), None);
    }
}
