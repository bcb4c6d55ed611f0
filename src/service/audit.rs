//! The audit log for people: one page at a time with the chain head to write
//! down, and the whole log as CSV or JSON lines (the download is itself
//! recorded first, so the file includes it).

use super::export::Download;
use super::Ctx;
use crate::db::{audit, review as dbr};
use crate::error::AppError;
use crate::staff::Identity;
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    pub head_seq: i64,
    pub head_hash: String,
    pub entries: Vec<audit::AuditEntry>,
    pub page: i64,
    pub pages: i64,
    pub total: i64,
}

pub const AUDIT_PAGE: i64 = 50;

/// One page of the log, newest first.
pub async fn page(cx: &Ctx, page: Option<i64>) -> Result<AuditPage, AppError> {
    cx.db
        .run(move |c| {
            let (head_seq, head_hash) = audit::head(c)?;
            let total = dbr::audit_count(c)?;
            let pages = ((total + AUDIT_PAGE - 1) / AUDIT_PAGE).max(1);
            let page = page.unwrap_or(1).clamp(1, pages);
            let entries = dbr::audit_entries(c, (page - 1) * AUDIT_PAGE, AUDIT_PAGE)?;
            Ok(AuditPage { head_seq, head_hash, entries, page, pages, total })
        })
        .await
}

/// The CSV columns of the audit download: the stored fields as they are, so
/// that an auditor can recompute every hash from the file.
pub const CSV_COLUMNS: [&str; 9] = ["seq", "at", "actor", "action", "target", "before", "after", "prev_hash", "hash"];

/// The whole log as `jsonl` (default) or `csv`.
pub async fn download(cx: &Ctx, who: &Identity, format: Option<String>) -> Result<Download, AppError> {
    let format = format.unwrap_or_else(|| "jsonl".into());
    if format != "csv" && format != "jsonl" {
        return Err(AppError::invalid("format", "格式只能是 csv 或 jsonl"));
    }
    let (who, f) = (who.clone(), format.clone());
    let entries = cx
        .db
        .write(move |c| {
            audit::append(c, &who.actor(), "audit.export", "audit_log", None, Some(&json!({"format": f})))?;
            dbr::audit_all(c)
        })
        .await?;
    let (bytes, mime) = if format == "jsonl" {
        let mut s = String::new();
        for e in &entries {
            s.push_str(&serde_json::to_string(e).map_err(AppError::internal)?);
            s.push('\n');
        }
        (s.into_bytes(), "application/x-ndjson; charset=utf-8")
    } else {
        let mut t = crate::review::export::Table::new("审计日志", &CSV_COLUMNS);
        for e in entries {
            t.push(vec![
                e.seq.to_string(),
                e.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
                e.actor,
                e.action,
                e.target,
                e.before_json.unwrap_or_default(),
                e.after_json.unwrap_or_default(),
                e.prev_hash,
                e.hash,
            ]);
        }
        (crate::review::export::to_csv(&t).map_err(AppError::internal)?, "text/csv; charset=utf-8")
    };
    Ok(Download { bytes, mime, filename: format!("ruxue-audit.{format}") })
}
