//! The `ruxue` command line. Each subcommand returns the process exit code;
//! errors are printed to stderr in one line.

use crate::config::{ConfigError, Settings};
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
    /// The public draw: compute, verify, prove inclusion (spec ruxue-draw-v1).
    #[command(subcommand)]
    Draw(crate::draw::DrawCommand),
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Load the demo county into an empty database and exit.
    Demo,
    /// Catchment rules (划片) of a campaign: import, export, lint, diff, lookup.
    #[command(subcommand)]
    Catchment(crate::admin::CatchmentCommand),
    /// The admission policy (招生方案) of a campaign: show, set, freeze, diff, dry run.
    #[command(subcommand)]
    Policy(crate::admin::PolicyCommand),
    /// Campaign administration.
    #[command(subcommand)]
    Campaign(CampaignCommand),
    /// Staff accounts: add (bootstraps the first admin), passwd, list.
    #[command(subcommand)]
    Staff(crate::staff::cli::StaffCommand),
}

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
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the whole chain; exit 0 and print the head when intact, else name
    /// the first broken link and exit 1.
    Verify,
    /// Print the latest head (sequence number and hash) to write down.
    Head,
}

pub fn main() -> i32 {
    let cli = Cli::parse();
    match cli.command {
        Command::Draw(cmd) => crate::draw::run(cmd),
        Command::Serve { demo } => with_settings(|s| serve(s, demo)),
        Command::Migrate => with_settings(|s| {
            let db = crate::db::Db::connect(&s.database.url, 1, s.database.busy_timeout_ms)
                .map_err(|e| ConfigError::new("database.url", e.to_string()))?;
            let n = db.migrate().map_err(|e| ConfigError::new("database.url", e.to_string()))?;
            println!("applied {n} migration(s) on {}", db.backend.name());
            Ok(0)
        }),
        Command::Demo => with_settings(|s| {
            let db = crate::startup::open_database(&s)?;
            let loaded = crate::demo::load_if_empty(&db, &s)
                .map_err(|e| ConfigError::new("database.url", format!("demo county could not be loaded: {e}")))?;
            println!("{}", if loaded { "demo county loaded" } else { "database not empty; nothing loaded" });
            Ok(0)
        }),
        Command::Audit(cmd) => with_settings(|s| audit(s, cmd)),
        Command::Catchment(cmd) => with_settings(|s| crate::admin::run_catchment(s, cmd)),
        Command::Policy(cmd) => with_settings(|s| crate::admin::run_policy(s, cmd)),
        Command::Campaign(CampaignCommand::Open { id, days }) => with_settings(|s| {
            let db = crate::startup::open_database(&s)?;
            let reopen = s.environment != crate::config::Environment::Production;
            match crate::db::registration::open_registration(&db, &id, days, reopen, "cli") {
                Ok(o) => {
                    println!(
                        "campaign {id} open for registration until {} UTC (was {})",
                        o.closes.format("%Y-%m-%d %H:%M"),
                        o.previous_status
                    );
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("ruxue: {}", e.public_message());
                    Ok(1)
                }
            }
        }),
        Command::Staff(cmd) => with_settings(|s| crate::staff::cli::run(s, cmd)),
    }
}

fn with_settings(f: impl FnOnce(Settings) -> Result<i32, ConfigError>) -> i32 {
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
            eprintln!("ruxue: {e}");
            2
        }
    }
}

fn serve(settings: Settings, demo: bool) -> Result<i32, ConfigError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ConfigError::new("server", format!("cannot start the runtime: {e}")))?;
    let env = settings.environment;
    let (running, state) = crate::startup::build(settings, demo)?;
    let addr = state.settings.bind_address();
    tracing::info!(port = running.port, environment = env.as_str(), database = state.db.backend.name(), "ruxue listening");
    eprintln!(
        "ruxue: serving on http://{}:{} ({} database, {} environment)",
        addr.rsplit_once(':').map(|(h, _)| h).unwrap_or("127.0.0.1"),
        running.port,
        state.db.backend.name(),
        env.as_str()
    );
    match rt.block_on(running.server) {
        Ok(()) => Ok(0),
        Err(e) => Err(ConfigError::new("server", e.to_string())),
    }
}

fn audit(settings: Settings, cmd: AuditCommand) -> Result<i32, ConfigError> {
    let db = crate::startup::open_database(&settings)?;
    let mut conn = db.pool.get().map_err(|e| ConfigError::new("database.url", e.to_string()))?;
    match cmd {
        AuditCommand::Verify => {
            let r = crate::db::audit::verify(&mut conn).map_err(|e| ConfigError::new("database.url", e.to_string()))?;
            match r.broken {
                None => {
                    println!("audit log intact: {} entries, head {}", r.entries, r.head);
                    Ok(0)
                }
                Some((seq, why)) => {
                    eprintln!("audit log broken at entry {seq}: {why}");
                    Ok(1)
                }
            }
        }
        AuditCommand::Head => {
            let (seq, hash) =
                crate::db::audit::head(&mut conn).map_err(|e| ConfigError::new("database.url", e.to_string()))?;
            println!("{seq} {hash}");
            Ok(0)
        }
    }
}
