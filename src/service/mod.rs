//! Use cases: one function per thing a person does, taking plain inputs.
//!
//! A use case checks who may do it, calls the pure modules (`policy`,
//! `catchment`, `review`, `registration`, `identity`, `draw`) for every
//! decision and `db` for storage, and writes in one transaction
//! (`Db::write`), audit entry included. Handlers in `web/` and commands in
//! `cli/` only parse, call one of these and render.
//!
//! | file | use cases |
//! |---|---|
//! | [`registration`] | a guardian's drafts, child step, uploads, review, submit, status |
//! | [`review`] | the review queue, one application, decisions, second opinions, documents |
//! | [`staff`] | staff login, refresh, logout, passwords, accounts |
//! | [`dashboard`] | the campaign dashboard |
//! | [`export`] | CSV/XLSX exports |
//! | [`audit`] | the audit pages and downloads |
//! | [`policy`] | set, freeze and dry-run a campaign's policy |
//! | [`catchment`] | import a campaign's catchment map |
//! | [`campaign`] | open registration, move a campaign through its phases, copy last year's |
//! | [`lookup`] | the public catchment lookup |
//! | [`wechat`] | WeChat's server API (the login code exchange) |
//! | [`notify`] | the outbox: enqueue (inside other use cases), the delivery worker, the staff list and resend |

pub mod after_docs;
pub mod audit;
pub mod campaign;
pub mod catchment;
pub mod dashboard;
pub mod draw;
pub mod draw_page;
pub mod export;
pub mod lookup;
pub mod notify;
pub mod offers;
pub mod policy;
pub mod portal;
pub mod registration;
pub mod review;
pub mod staff;
pub mod wechat;

use crate::config::Settings;
use crate::db::Db;
use crate::identity::IdCipher;
use std::sync::Arc;

/// What every use case can reach: the configuration and the database.
#[derive(Clone)]
pub struct Ctx {
    pub settings: Arc<Settings>,
    pub db: Db,
    /// Campaign contexts (rules, schools, zones, policy) read once, checked
    /// against the database's `campaign_ctx_version` on every use.
    pub campaigns: Arc<CampaignCache>,
    /// The public catchment lookup's campaigns and maps (`lookup::LookupCache`).
    pub lookup: Arc<lookup::LookupCache>,
}

impl Ctx {
    pub fn new(settings: Settings, db: Db) -> Self {
        Self { settings: Arc::new(settings), db, campaigns: Default::default(), lookup: Default::default() }
    }

    /// The cipher for ID numbers at rest.
    pub fn cipher(&self) -> IdCipher {
        IdCipher::new(&self.settings.id_key())
    }
}

/// Parsed campaign contexts by campaign id, each with the
/// `campaign_ctx_version` counter it was read at. A change to a campaign, its
/// policy, catchment rules, plans or zones bumps that counter in its own
/// transaction (`db::audit::append` does it for those actions, see
/// `db::audit::INVALIDATES_CAMPAIGN_CTX`), so every instance reloads at its
/// next use: the check is one primary-key read instead of eight tables, the
/// policy TOML and the rules JSON.
#[derive(Default)]
pub struct CampaignCache {
    /// Campaigns whose registration-number sequence is known to exist
    /// (`db::registration::ensure_registration_sequence`).
    pub registration_sequences: std::sync::Mutex<std::collections::HashSet<String>>,
    entries: std::sync::Mutex<std::collections::HashMap<String, (i64, crate::registration::campaign::CampaignCtx)>>,
}

impl CampaignCache {
    pub fn get(&self, campaign_id: &str, version: i64) -> Option<crate::registration::campaign::CampaignCtx> {
        let m = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        m.get(campaign_id).filter(|(v, _)| *v == version).map(|(_, c)| c.clone())
    }

    pub fn put(&self, campaign_id: &str, version: i64, ctx: crate::registration::campaign::CampaignCtx) {
        let mut m = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        m.retain(|_, (v, _)| *v == version);
        m.insert(campaign_id.to_string(), (version, ctx));
    }
}
