//! `ruxue review …`: review administration.

use super::util::{open, CLI_ACTOR};
use super::CliResult;
use crate::config::Settings;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Recompute which township reviews every application (the township of
    /// the address that decides its catchment; none: the county queue
    /// 县级待分配), keeping admins' assignments. For applications stored
    /// before that rule; each change is audited as `review.rescope`.
    Rescope,
}

pub fn run(settings: Settings, cmd: ReviewCommand) -> CliResult {
    match cmd {
        ReviewCommand::Rescope => {
            let db = open(&settings)?;
            let r = crate::service::review::rescope(&db, CLI_ACTOR)?;
            outln!("{} applications, {} moved to another township, {} in the county queue", r.applications, r.changed, r.county_queue);
            Ok(0)
        }
    }
}
