//! `ruxue audit verify|head`: the hash-chained audit log.

use super::util::{conn, open};
use super::{CliError, CliResult};
use crate::config::Settings;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the whole chain; exit 0 and print the head when intact, else name
    /// the first broken link and exit 1.
    Verify,
    /// Print the latest head (sequence number and hash) to write down.
    Head,
}

pub fn run(settings: Settings, cmd: AuditCommand) -> CliResult {
    let db = open(&settings)?;
    let mut conn = conn(&db)?;
    match cmd {
        AuditCommand::Verify => {
            crate::db::audit::seal(&mut conn, true).map_err(CliError::database)?;
            let r = crate::db::audit::verify(&mut conn).map_err(CliError::database)?;
            match r.broken {
                None => {
                    outln!("audit log intact: {} entries, head {}", r.entries, r.head);
                    Ok(0)
                }
                Some((seq, why)) => {
                    eprintln!("audit log broken at entry {seq}: {why}");
                    Ok(1)
                }
            }
        }
        AuditCommand::Head => {
            crate::db::audit::seal(&mut conn, true).map_err(CliError::database)?;
            let (seq, hash) = crate::db::audit::head(&mut conn).map_err(CliError::database)?;
            outln!("{seq} {hash}");
            Ok(0)
        }
    }
}
