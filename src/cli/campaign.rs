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
    /// List campaigns with their phase, the next one and what blocks it.
    List,
    /// Move a campaign one phase forward (draft → registration → review →
    /// draw → offers → closed), after the checks of that step; audited.
    /// Refused (exit 1, the reasons in Chinese) when a check fails, a phase
    /// would be skipped or the campaign would go back.
    Advance {
        /// Campaign id, e.g. 2027-G1.
        id: String,
        /// The next phase: registration, review, draw, offers or closed.
        phase: String,
        /// Leaving registration before its closing time: say so explicitly.
        #[arg(long)]
        close_registration_early: bool,
    },
    /// Create next year's campaign from an existing one, in draft: the same
    /// grade, school plans, zones, catchment rules and policy (unfrozen,
    /// version YEAR.1), dates moved by the difference in years; audited.
    Copy {
        /// The campaign to copy, e.g. 2027-G1.
        from: String,
        /// The new campaign's year.
        #[arg(long)]
        year: i32,
        /// The new campaign's id (default: the old id with its year replaced).
        #[arg(long)]
        id: Option<String>,
    },
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
        CampaignCommand::List => {
            let db = open(&settings)?;
            match crate::service::campaign::phases_blocking(&db) {
                Ok(list) => {
                    for c in list {
                        let next = match (c.next, c.blocked_by.is_empty()) {
                            (None, _) => "-".to_string(),
                            (Some(n), true) => format!("{n} ready"),
                            (Some(n), false) => format!("{n} blocked: {}", c.blocked_by.join("；")),
                        };
                        outln!("{}\t{}\t{}\t{}", c.id, c.status, c.name, next);
                    }
                    Ok(0)
                }
                Err(e) => refuse(e.public_message()),
            }
        }
        CampaignCommand::Advance { id, phase, close_registration_early } => {
            let to = match crate::service::campaign::parse_phase("phase", &phase) {
                Ok(p) => p,
                Err(e) => return refuse(e.public_message()),
            };
            let db = open(&settings)?;
            let opts = crate::registration::lifecycle::Options { close_registration_early };
            match crate::service::campaign::advance_blocking(&db, CLI_ACTOR, &id, to, opts) {
                Ok(a) => {
                    outln!("campaign {id}: {} → {}", a.from, a.to);
                    Ok(0)
                }
                Err(crate::error::AppError::NotFound) => refuse(format!("招生批次「{id}」不存在")),
                Err(e) => refuse(e.public_message()),
            }
        }
        CampaignCommand::Copy { from, year, id } => {
            let db = open(&settings)?;
            let input = crate::service::campaign::CopyInput { from, year, id };
            match crate::service::campaign::copy_blocking(&db, CLI_ACTOR, input) {
                Ok(c) => {
                    outln!(
                        "campaign {} created from {} (draft, policy {} unfrozen): {} school plans, {} zones, {} catchment rules",
                        c.id,
                        c.from,
                        c.policy_version,
                        c.school_plans,
                        c.zones,
                        c.catchment_rules
                    );
                    Ok(0)
                }
                Err(e) => refuse(e.public_message()),
            }
        }
        CampaignCommand::ExpireSupplements => {
            let db = open(&settings)?;
            match crate::service::review::expire_supplements_notifying(&db, Some(&settings), crate::db::now()) {
                Ok(e) => {
                    outln!("supplement requests past their deadline: {} rejected, {} returned to review", e.rejected, e.returned);
                    Ok(0)
                }
                Err(e) => refuse(e.public_message()),
            }
        }
    }
}
