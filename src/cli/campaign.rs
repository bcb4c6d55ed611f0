//! `ruxue campaign …`: campaign administration.

use super::util::{open, refuse, CLI_ACTOR};
use super::CliResult;
use crate::config::{Environment, Settings};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Open a campaign for parent registration from now for DAYS days (later
    /// phase dates move after it). Only a draft campaign, except in the
    /// development and test environments, where any campaign may be reopened
    /// to try the parent forms (e.g. `ruxue campaign open 2027-G1` after `ruxue demo`).
    Open {
        /// Campaign id, e.g. 2027-G1.
        id: String,
        /// How many days registration stays open.
        #[arg(long, default_value_t = 14)]
        days: i64,
    },
    /// Settle supplement requests whose deadline has passed unanswered, as
    /// each campaign's `supplement_expiry` says (rejected, or back to review).
    /// `ruxue serve` does this every minute; this runs it once.
    ExpireSupplements,
}

pub fn run(settings: Settings, cmd: CampaignCommand) -> CliResult {
    match cmd {
        CampaignCommand::Open { id, days } => {
            let db = open(&settings)?;
            let reopen = settings.environment != Environment::Production;
            match crate::service::campaign::open_registration(&db, &settings, &id, days, reopen, CLI_ACTOR) {
                Ok(o) => {
                    outln!(
                        "campaign {id} open for registration until {} UTC (was {})",
                        o.closes.format("%Y-%m-%d %H:%M"),
                        o.previous_status
                    );
                    Ok(0)
                }
                Err(e) => refuse(e.public_message()),
            }
        }
        CampaignCommand::ExpireSupplements => {
            let db = open(&settings)?;
            match crate::service::review::expire_supplements_blocking(&db, crate::db::now()) {
                Ok(e) => {
                    outln!("supplement requests past their deadline: {} rejected, {} returned to review", e.rejected, e.returned);
                    Ok(0)
                }
                Err(e) => refuse(e.public_message()),
            }
        }
    }
}
