//! `ruxue staff …`: bootstrap and maintain staff accounts from the command
//! line. Passwords come from `RUXUE_STAFF_PASSWORD` or the first line of
//! standard input, never from the argument list (which other users of the
//! machine can read in the process table).

use super::{CliError, CliResult};
use crate::config::Settings;
use crate::service::staff as svc;
use crate::staff::auth;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create an account (the first admin is bootstrapped this way).
    Add {
        /// admin | reviewer | operator | auditor
        #[arg(long)]
        role: String,
        #[arg(long)]
        username: String,
        /// Display name, e.g. 林审核.
        #[arg(long)]
        name: String,
        /// Township id a reviewer covers; repeat for several (e.g. --township FC --township CX).
        #[arg(long = "township")]
        townships: Vec<String>,
    },
    /// Set a new password (revokes every session of the account).
    Passwd {
        #[arg(long)]
        username: String,
    },
    /// List accounts.
    List,
}

fn read_password() -> Result<String, CliError> {
    if let Ok(p) = std::env::var("RUXUE_STAFF_PASSWORD") {
        return Ok(p);
    }
    use std::io::{BufRead, IsTerminal};
    if std::io::stdin().is_terminal() {
        eprint!("密码（输入后回车）: ");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| CliError::Io(format!("cannot read the password from stdin: {e}")))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

pub fn run(settings: Settings, cmd: StaffCommand) -> CliResult {
    let db = super::util::open(&settings)?;
    let fail = |field: &str, e: crate::error::AppError| -> CliResult {
        eprintln!("ruxue: {}: {}", e.field().unwrap_or(field), e.public_message());
        Ok(1)
    };
    match cmd {
        StaffCommand::Add { role, username, name, townships } => {
            let password = read_password()?;
            let n = match svc::validate_new(&username, &name, &role, &townships, &password) {
                Ok(n) => n,
                Err(e) => return fail("staff", e),
            };
            let hash = auth::hash_password(&password).map_err(CliError::Io)?;
            match db.write_blocking(|c| svc::create_in(c, super::CLI_ACTOR, &n, &hash)) {
                Ok(s) => {
                    outln!("created {} ({}) {}", s.username, s.role, s.id);
                    Ok(0)
                }
                Err(e) => fail("staff", e),
            }
        }
        StaffCommand::Passwd { username } => {
            let password = read_password()?;
            if let Err(m) = auth::check_password_strength(&password) {
                eprintln!("ruxue: password: {m}");
                return Ok(1);
            }
            let hash = auth::hash_password(&password).map_err(CliError::Io)?;
            let r = db.write_blocking(|c| {
                let s = crate::db::staff::by_username(c, &username)?.ok_or(crate::error::AppError::NotFound)?;
                svc::set_password_in(c, super::CLI_ACTOR, &s.id, &hash, "staff.password_reset")
            });
            match r {
                Ok(()) => {
                    outln!("password changed for {username}; every session revoked");
                    Ok(0)
                }
                Err(e) => fail("username", e),
            }
        }
        StaffCommand::List => {
            let mut conn = super::util::conn(&db)?;
            let list = crate::db::staff::list(&mut conn)?;
            for s in list.iter().map(svc::view) {
                outln!(
                    "{}\t{}\t{}\t{}\t{}",
                    s.username,
                    s.role,
                    s.township_scope.join(","),
                    if !s.active {
                        "inactive"
                    } else if s.locked {
                        "locked"
                    } else {
                        "active"
                    },
                    s.display_name
                );
            }
            Ok(0)
        }
    }
}
