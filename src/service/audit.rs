//! The audit log for people: one page at a time with the chain head to write
//! down, and the whole log as CSV or JSON lines (the download is itself
//! recorded first, so the file includes it).

use super::export::Download;
use super::Ctx;
use crate::db::{audit, review as dbr};
use crate::error::AppError;
use crate::review::audit_text::{self as text, Change, Person};
use crate::staff::Identity;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

/// The audit page's filters, as typed (all optional).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// A staff account id (its entries), or an actor as stored (`cli`, `anonymous`, `guardian:…`).
    #[serde(default)]
    pub actor: Option<String>,
    /// An action code (`review.approve`, …).
    #[serde(default)]
    pub action: Option<String>,
    /// `YYYY-MM-DD`, Beijing date, inclusive.
    #[serde(default)]
    pub from: Option<String>,
    /// `YYYY-MM-DD`, Beijing date, inclusive.
    #[serde(default)]
    pub to: Option<String>,
    /// A registration number or application id.
    #[serde(default)]
    pub application: Option<String>,
    #[serde(default)]
    pub page: Option<i64>,
}

impl AuditFilter {
    /// The filter as a query string without the page, for pagination links.
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in
            [("actor", &self.actor), ("action", &self.action), ("from", &self.from), ("to", &self.to), ("application", &self.application)]
        {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                let enc: String = url_encode(v);
                parts.push(format!("{k}={enc}"));
            }
        }
        parts.join("&")
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn parse_day(field: &'static str, s: Option<&str>) -> Result<Option<chrono::NaiveDate>, AppError> {
    match s {
        None => Ok(None),
        Some(s) => {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map(Some).map_err(|_| AppError::invalid(field, "日期格式应为 2027-07-20"))
        }
    }
}

/// One entry as stored, plus how a person reads it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditRow {
    #[serde(flatten)]
    pub entry: audit::AuditEntry,
    /// Who, by name and role.
    pub actor_label: String,
    /// What, in Chinese.
    pub action_label: String,
    pub target_label: String,
    /// The fields that changed, before → after, in words.
    pub changes: Vec<Change>,
    /// The application the entry is about (to open it).
    pub application_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub head_seq: i64,
    pub head_hash: String,
    pub entries: Vec<AuditRow>,
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    pub filter: AuditFilter,
    /// `(id, name and role)` of every staff account, for the actor filter.
    pub people: Vec<(String, String)>,
    /// `(code, label)` of the actions, for the action filter.
    pub actions: Vec<(String, String)>,
}

pub const AUDIT_PAGE: i64 = 50;

fn people_of(c: &mut crate::db::DbConn) -> Result<HashMap<String, Person>, AppError> {
    Ok(dbr::staff_people(c)?.into_iter().map(|(id, name, role)| (id, Person { name, role })).collect())
}

fn rows_of(
    c: &mut crate::db::DbConn,
    entries: Vec<audit::AuditEntry>,
    people: &HashMap<String, Person>,
) -> Result<Vec<AuditRow>, AppError> {
    let ids: Vec<String> = entries.iter().filter_map(|e| text::application_of(&e.target).map(str::to_string)).collect();
    let apps = dbr::registration_nos(c, &ids)?;
    Ok(entries
        .into_iter()
        .map(|e| AuditRow {
            actor_label: text::actor_label(&e.actor, people),
            action_label: text::action_label(&e.action),
            target_label: text::target_label(&e.target, people, &apps),
            changes: text::changes(e.before_json.as_deref(), e.after_json.as_deref()),
            application_id: text::application_of(&e.target).map(str::to_string),
            entry: e,
        })
        .collect())
}

fn where_of(c: &mut crate::db::DbConn, f: &AuditFilter) -> Result<Option<dbr::AuditWhere>, AppError> {
    let from = parse_day("from", nonempty(&f.from))?;
    let to = parse_day("to", nonempty(&f.to))?;
    if let (Some(a), Some(b)) = (from, to) {
        if a > b {
            return Err(AppError::invalid("to", "结束日期不能早于开始日期"));
        }
    }
    let midnight = |d: chrono::NaiveDate| crate::db::from_beijing(d.and_hms_opt(0, 0, 0).unwrap_or_default());
    let target = match nonempty(&f.application) {
        None => None,
        Some(a) => match dbr::application_id_by_no(c, a)? {
            Some(id) => Some(format!("application:{id}")),
            // No such application: nothing matches.
            None => return Ok(None),
        },
    };
    let actor = nonempty(&f.actor).map(|a| {
        if a.contains(':') || matches!(a, "cli" | "anonymous" | "system") {
            a.to_string()
        } else {
            format!("staff:{a}")
        }
    });
    Ok(Some(dbr::AuditWhere {
        actor,
        action: nonempty(&f.action).map(str::to_string),
        target,
        from: from.map(midnight),
        until: to.map(|d| midnight(d + chrono::Days::new(1))),
    }))
}

/// One page of the log, newest first, filtered.
pub async fn page(cx: &Ctx, f: AuditFilter) -> Result<AuditPage, AppError> {
    cx.db
        .run(move |c| {
            audit::seal(c, true)?;
            let (head_seq, head_hash) = audit::head(c)?;
            let people = people_of(c)?;
            let w = where_of(c, &f)?;
            let total = match &w {
                Some(w) => dbr::audit_count_where(c, w)?,
                None => 0,
            };
            let pages = ((total + AUDIT_PAGE - 1) / AUDIT_PAGE).max(1);
            let page = f.page.unwrap_or(1).clamp(1, pages);
            let entries = match &w {
                Some(w) => dbr::audit_entries_where(c, w, (page - 1) * AUDIT_PAGE, AUDIT_PAGE)?,
                None => Vec::new(),
            };
            let entries = rows_of(c, entries, &people)?;
            let mut list: Vec<(String, String)> =
                dbr::staff_people(c)?.into_iter().map(|(id, name, role)| (id, format!("{name}（{}）", role.label()))).collect();
            list.push(("cli".into(), text::actor_label("cli", &people)));
            list.push(("anonymous".into(), text::actor_label("anonymous", &people)));
            let actions = text::ACTIONS.iter().map(|(c, l)| (c.to_string(), l.to_string())).collect();
            Ok(AuditPage { head_seq, head_hash, entries, page, pages, total, filter: f, people: list, actions })
        })
        .await
}

/// The CSV columns of the audit download: the stored fields as they are
/// (so that an auditor can recompute every hash from the file), then the
/// same entry in words. Headers in Chinese; the stored field each column
/// holds is in brackets.
pub const CSV_COLUMNS: [&str; 12] = [
    "序号(seq)",
    "时间UTC(at)",
    "操作人(actor)",
    "操作(action)",
    "对象(target)",
    "变更前(before)",
    "变更后(after)",
    "前一条哈希(prev_hash)",
    "哈希(hash)",
    "操作人姓名与角色",
    "操作说明",
    "变更内容",
];

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
            // The download holds sealed entries only; seal what is committed
            // (this transaction's own entry included) first.
            audit::seal(c, true)?;
            let people = people_of(c)?;
            let all = dbr::audit_all(c)?;
            if f == "csv" {
                rows_of(c, all, &people)
            } else {
                Ok(all
                    .into_iter()
                    .map(|e| AuditRow {
                        entry: e,
                        actor_label: String::new(),
                        action_label: String::new(),
                        target_label: String::new(),
                        changes: Vec::new(),
                        application_id: None,
                    })
                    .collect())
            }
        })
        .await?;
    let (bytes, mime) = if format == "jsonl" {
        let mut s = String::new();
        for e in &entries {
            s.push_str(&serde_json::to_string(&e.entry).map_err(AppError::internal)?);
            s.push('\n');
        }
        (s.into_bytes(), "application/x-ndjson; charset=utf-8")
    } else {
        let mut t = crate::review::export::Table::new("审计日志", &CSV_COLUMNS);
        for r in entries {
            let line = text::changes_line(&r.changes);
            let e = r.entry;
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
                r.actor_label,
                format!("{}（{}）", r.action_label, r.target_label),
                line,
            ]);
        }
        (crate::review::export::to_csv(&t).map_err(AppError::internal)?, "text/csv; charset=utf-8")
    };
    Ok(Download { bytes, mime, filename: format!("ruxue-audit.{format}") })
}
