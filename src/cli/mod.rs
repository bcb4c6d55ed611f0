//! The `ruxue` command line: one file per command group. Each subcommand
//! returns the process exit code (0 done, 1 refused, 2 [`CliError`]); errors
//! are printed to stderr in one line.
//!
//! | command            | file          |
//! |--------------------|---------------|
//! | `serve`, `migrate`, `demo` | [`serve`], [`migrate`], [`demo`] |
//! | `campaign …`       | [`campaign`]  |
//! | `catchment …`      | [`catchment`] |
//! | `policy …`         | [`policy`]    |
//! | `staff …`          | [`staff`]     |
//! | `draw …`           | [`draw`]      |
//! | `audit …`          | [`audit`]     |
//! | `review …`         | [`review`]    |
//! | `worker`           | [`worker`]    |

#[macro_use]
mod util;
pub mod audit;
pub mod campaign;
pub mod catchment;
pub mod demo;
pub mod draw;
pub mod draw_day;
pub mod error;
pub mod migrate;
pub mod policy;
pub mod review;
pub mod serve;
pub mod staff;
pub mod worker;

pub use error::{CliError, CliResult};
pub use util::CLI_ACTOR;

use crate::config::Settings;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "ruxue",
    version,
    about = "ruxue (入学): county compulsory-education admissions with a verifiable public draw",
    long_about = "ruxue runs a county's compulsory-education admissions: parent registration, \
catchment and policy, review, the public computer lottery (电脑派位) and offers.\n\n\
Configuration: config/default.toml, then config/$RUXUE_ENV.toml (development by default), \
then environment variables RUXUE__SECTION__KEY (e.g. RUXUE__DATABASE__URL=postgres://…)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP (default 127.0.0.1:8080). Applies pending migrations first.
    Serve {
        /// Load the demo county (townships, schools, catchments, ~500 fictional
        /// applicants) when the database is empty, then serve.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Deliver the notification outbox (email, WeChat) until stopped; also runs
    /// inside `serve` unless notify.worker_in_serve = false.
    Worker {
        /// Deliver what is due now, then exit.
        #[arg(long)]
        once: bool,
    },
    /// The public draw: compute, verify, prove inclusion (spec ruxue-draw-v1).
    #[command(subcommand)]
    Draw(draw::DrawCommand),
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Load the demo county into an empty database and exit.
    Demo {
        /// On a loaded demo: publish a first-grade draw and show what follows
        /// (offers, a declined offer that moves a waitlist, two placements).
        #[arg(long)]
        after_draw: bool,
    },
    /// Catchment rules (划片) of a campaign: import, export, lint, diff, lookup.
    #[command(subcommand)]
    Catchment(catchment::CatchmentCommand),
    /// The admission policy (招生方案) of a campaign: show, set, freeze, diff, dry run.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Campaign administration.
    #[command(subcommand)]
    Campaign(campaign::CampaignCommand),
    /// Staff accounts: add (bootstraps the first admin), passwd, list.
    #[command(subcommand)]
    Staff(staff::StaffCommand),
    /// Review administration: rescope (which township reviews each application).
    #[command(subcommand)]
    Review(review::ReviewCommand),
}

pub fn main() -> i32 {
    let cli = Cli::parse();
    match cli.command {
        // The plan reads the campaign from the database; the other draw
        // commands work on files only: no configuration, no database.
        Command::Draw(draw::DrawCommand::Plan { campaign, json }) => with_settings(|s| draw::plan(s, &campaign, json)),
        Command::Draw(draw::DrawCommand::Day(cmd)) => with_settings(|s| draw_day::run(s, cmd)),
        Command::Draw(cmd) => draw::run(cmd),
        Command::Serve { demo } => with_settings(|s| serve::run(s, demo)),
        Command::Migrate => with_settings(migrate::run),
        Command::Worker { once } => with_settings(|s| worker::run(s, once)),
        Command::Demo { after_draw } => with_settings(|s| demo::run(s, after_draw)),
        Command::Audit(cmd) => with_settings(|s| audit::run(s, cmd)),
        Command::Catchment(cmd) => with_settings(|s| catchment::run(s, cmd)),
        Command::Policy(cmd) => with_settings(|s| policy::run(s, cmd)),
        Command::Campaign(cmd) => with_settings(|s| campaign::run(s, cmd)),
        Command::Staff(cmd) => with_settings(|s| staff::run(s, cmd)),
        Command::Review(cmd) => with_settings(|s| review::run(s, cmd)),
    }
}

fn with_settings(f: impl FnOnce(Settings) -> CliResult) -> i32 {
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ruxue: {e}");
            return 2;
        }
    };
    crate::web::telemetry::init(&settings);
    match f(settings) {
        Ok(code) => code,
        Err(e) => {
            // One line, whatever the underlying error printed.
            let text = e.to_string();
            eprintln!("ruxue: {}", text.split_whitespace().collect::<Vec<_>>().join(" "));
            2
        }
    }
}
