//! `ruxue staff …`: bootstrap and maintain staff accounts from the command
//! line. Passwords come from `RUXUE_STAFF_PASSWORD` or the first line of
//! standard input, never from the argument list (which other users of the
//! machine can read in the process table).

use crate::config::{ConfigError, Settings};
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

fn read_password() -> Result<String, ConfigError> {
    if let Ok(p) = std::env::var("RUXUE_STAFF_PASSWORD") {
        return Ok(p);
    }
    use std::io::{BufRead, IsTerminal};
    if std::io::stdin().is_terminal() {
        eprint!("密码（输入后回车）: ");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| ConfigError::new("password", format!("cannot read the password from stdin: {e}")))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

pub fn run(settings: Settings, cmd: StaffCommand) -> Result<i32, ConfigError> {
    let db = crate::startup::open_database(&settings)?;
    let fail = |field: &str, e: crate::error::AppError| -> Result<i32, ConfigError> {
        eprintln!("ruxue: {}: {}", e.field().unwrap_or(field), e.public_message());
        Ok(1)
    };
    match cmd {
        StaffCommand::Add { role, username, name, townships } => {
            let password = read_password()?;
            let n = match crate::db::staff::validate_new(&username, &name, &role, &townships, &password) {
                Ok(n) => n,
                Err(e) => return fail("staff", e),
            };
            let hash = super::auth::hash_password(&password).map_err(|e| ConfigError::new("password", e))?;
            match db.write_blocking(|c| crate::db::staff::create(c, "cli", &n, &hash)) {
                Ok(s) => {
                    println!("created {} ({}) {}", s.username, s.role, s.id);
                    Ok(0)
                }
                Err(e) => fail("staff", e),
            }
        }
        StaffCommand::Passwd { username } => {
            let password = read_password()?;
            if let Err(m) = super::auth::check_password_strength(&password) {
                eprintln!("ruxue: password: {m}");
                return Ok(1);
            }
            let hash = super::auth::hash_password(&password).map_err(|e| ConfigError::new("password", e))?;
            let r = db.write_blocking(|c| {
                let s = crate::db::staff::by_username(c, &username)?.ok_or(crate::error::AppError::NotFound)?;
                crate::db::staff::set_password(c, "cli", &s.id, &hash, "staff.password_reset")
            });
            match r {
                Ok(()) => {
                    println!("password changed for {username}; every session revoked");
                    Ok(0)
                }
                Err(e) => fail("username", e),
            }
        }
        StaffCommand::List => {
            let mut conn = db.pool.get().map_err(|e| ConfigError::new("database.url", e.to_string()))?;
            let list = crate::db::staff::list(&mut conn).map_err(|e| ConfigError::new("database.url", e.to_string()))?;
            for s in list.iter().map(crate::db::staff::view) {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    s.username,
                    s.role,
                    s.township_scope.join(","),
                    if !s.active { "inactive" } else if s.locked { "locked" } else { "active" },
                    s.display_name
                );
            }
            Ok(0)
        }
    }
}
