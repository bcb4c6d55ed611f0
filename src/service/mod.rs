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

pub mod after_docs;
pub mod audit;
pub mod campaign;
pub mod catchment;
pub mod dashboard;
pub mod draw;
pub mod export;
pub mod lookup;
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
}

impl Ctx {
    pub fn new(settings: Settings, db: Db) -> Self {
        Self { settings: Arc::new(settings), db }
    }

    /// The cipher for ID numbers at rest.
    pub fn cipher(&self) -> IdCipher {
        IdCipher::new(&self.settings.id_key())
    }
}
