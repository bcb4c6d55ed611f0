//! Helpers every command group shares: opening the database, printing that
//! survives a closed stdout, reading files, and refusing in Chinese.
//!
//! Exit codes: 0 success; 1 the request was refused or found problems (the
//! reason is printed to stderr in Chinese); 2 configuration, database or IO
//! failure ([`super::CliError`]).

/// `println!` that ignores a closed stdout (e.g. `| head`) instead of panicking.
macro_rules! outln {
    () => {{ use std::io::Write as _; let _ = writeln!(std::io::stdout()); }};
    ($($t:tt)*) => {{ use std::io::Write as _; let _ = writeln!(std::io::stdout(), $($t)*); }};
}

/// `print!` that ignores a closed stdout.
macro_rules! out {
    ($($t:tt)*) => {{ use std::io::Write as _; let _ = write!(std::io::stdout(), $($t)*); }};
}

use super::error::{CliError, CliResult};
use crate::config::Settings;
use crate::db::{Db, PooledConn};
use crate::error::AppError;
use std::path::Path;

/// The actor recorded in audit entries written from the command line.
pub const CLI_ACTOR: &str = "cli";

/// Opens the configured database and applies pending migrations.
pub fn open(settings: &Settings) -> Result<Db, CliError> {
    Ok(crate::startup::open_database(settings)?)
}

pub fn conn(db: &Db) -> Result<PooledConn, CliError> {
    db.pool.get().map_err(CliError::database)
}

/// A database-layer error as a Chinese line for a person.
pub fn say(e: &AppError) -> String {
    match e {
        AppError::Invalid { message, .. } => message.clone(),
        AppError::Conflict { message, .. } | AppError::BadRequest { message, .. } => message.clone(),
        AppError::NotFound => "未找到".into(),
        AppError::Unavailable => "数据库暂时无法连接，请稍后重试".into(),
        AppError::Internal(m) => format!("内部错误：{m}"),
        other => format!("操作失败：{other}"),
    }
}

/// Prints a refusal to stderr and yields exit code 1.
pub fn refuse(msg: impl AsRef<str>) -> CliResult {
    for line in msg.as_ref().lines() {
        eprintln!("ruxue: {line}");
    }
    Ok(1)
}

pub fn read_bytes(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("无法读取文件「{}」：{}", path.display(), io_reason(&e)))
}

pub fn read_text(path: &Path) -> Result<String, String> {
    let bytes = read_bytes(path)?;
    String::from_utf8(bytes).map_err(|_| format!("文件「{}」不是 UTF-8 编码的文本", path.display()))
}

pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "文件不存在".into(),
        std::io::ErrorKind::PermissionDenied => "没有权限".into(),
        _ => e.to_string(),
    }
}
