//! Staff accounts (pure parts): who is acting, password hashing, access
//! tokens and refresh tokens. Roles are `crate::domain::Role`; the use cases
//! live in `crate::service::staff`, storage in `crate::db::staff`, HTTP in
//! `crate::web::staff`.

pub mod account;
pub mod auth;

pub use auth::{Claims, Role, TokenError, AUD_ACCESS, AUD_REFRESH, ISSUER};

use serde::Serialize;

/// Who is acting: a validated staff member.
#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Township ids a reviewer covers (empty for other roles).
    pub township_scope: Vec<String>,
}

impl Identity {
    /// The audit log's actor string.
    pub fn actor(&self) -> String {
        format!("staff:{}", self.id)
    }

    pub fn is(&self, roles: &[Role]) -> bool {
        roles.contains(&self.role)
    }

    /// May this person see personal data of an application in `township`?
    /// Admins see all; reviewers their townships; nobody else.
    pub fn sees_township(&self, township: Option<&str>) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Reviewer => township.map(|t| self.township_scope.iter().any(|s| s == t)).unwrap_or(false),
            Role::Operator | Role::Auditor => false,
        }
    }

    /// May this person open an application of `township`? Those who see it,
    /// and auditors (read-only, personal data masked: see
    /// `crate::service::review::detail`).
    pub fn opens_application(&self, township: Option<&str>) -> bool {
        self.role == Role::Auditor || self.sees_township(township)
    }

    /// Does this person read applications read-only with personal data masked?
    pub fn reads_masked(&self) -> bool {
        self.role == Role::Auditor
    }

    /// May this person see full ID numbers (within what they may see at all)?
    pub fn sees_id_numbers(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Reviewer)
    }
}
