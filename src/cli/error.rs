//! The command line's one error type. Each kind maps to exit code 2 and to
//! one line on stderr that names what failed, so that a database that goes
//! away in the middle of a command is reported as a database failure, not as
//! a mistake in the configuration.

use crate::config::ConfigError;
use crate::error::AppError;
use crate::startup::StartupError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The configuration is wrong (names the key).
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The database could not be reached or migrated at start (names `database.url`).
    #[error("{0}")]
    Startup(#[from] StartupError),
    /// The database failed while the command ran.
    #[error("database error: {0}")]
    Database(String),
    /// A local file or stream could not be read or written.
    #[error("{0}")]
    Io(String),
}

impl CliError {
    pub fn database(e: impl std::fmt::Display) -> Self {
        CliError::Database(e.to_string())
    }
}

impl From<AppError> for CliError {
    fn from(e: AppError) -> Self {
        CliError::Database(match e {
            AppError::Internal(detail) => detail,
            other => other.public_message(),
        })
    }
}

impl From<diesel::result::Error> for CliError {
    fn from(e: diesel::result::Error) -> Self {
        CliError::Database(e.to_string())
    }
}

/// What a subcommand returns: the exit code (0 done, 1 refused), or an error (exit 2).
pub type CliResult = Result<i32, CliError>;
