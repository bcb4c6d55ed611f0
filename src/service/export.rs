//! CSV and XLSX exports for staff, by role: who may download which, with
//! names and ID numbers masked by role; every export is audited.

use super::Ctx;
use crate::db::review as dbr;
use crate::db::{audit, DbConn};
use crate::domain::Role;
use crate::error::AppError;
use crate::identity::{mask_name, IdCipher};
use crate::review::export::Table;
use crate::staff::Identity;
use chrono::NaiveDateTime;
use serde_json::json;
use std::collections::HashMap;

/// Who may download which export.
pub fn roles_for(kind: &str) -> Option<&'static [Role]> {
    match kind {
        "applications" | "reviews" => Some(&[Role::Admin, Role::Reviewer, Role::Auditor]),
        "draws" => Some(&[Role::Admin, Role::Operator, Role::Auditor]),
        "offers" => Some(&[Role::Admin, Role::Reviewer, Role::Operator, Role::Auditor]),
        _ => None,
    }
}

/// A file to download.
pub struct Download {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    pub filename: String,
}

pub const EXPORT_KINDS: [(&str, &str); 4] =
    [("applications", "报名申请"), ("reviews", "审核结果"), ("draws", "派位结果"), ("offers", "录取与安置")];

/// Builds an export for `who` and records it in the audit log.
fn export_in(conn: &mut DbConn, who: &Identity, kind: &str, format: &str, cipher: &IdCipher) -> Result<Table, AppError> {
    let scoped = |q_township: &Option<String>| match who.role {
        Role::Admin => true,
        Role::Reviewer => who.sees_township(q_township.as_deref()),
        _ => true,
    };
    let full_names = matches!(who.role, Role::Admin | Role::Reviewer);
    let dbr::Names { schools: school_names, zones: zone_names, townships: township_names } = dbr::names(conn)?;
    let target = |s: &Option<String>, z: &Option<String>| match (z, s) {
        (Some(z), _) => zone_names.get(z).cloned().unwrap_or_else(|| z.clone()),
        (None, Some(s)) => school_names.get(s).cloned().unwrap_or_else(|| s.clone()),
        _ => String::new(),
    };
    // Exports are read by people: Beijing time.
    let fmt_t = |t: &NaiveDateTime| crate::db::beijing(*t).format("%Y-%m-%d %H:%M:%S").to_string();
    let table = match kind {
        "applications" => {
            let mut t = Table::new(
                "报名申请",
                &["报名号", "招生计划", "儿童姓名", "身份证号", "性别", "出生日期", "乡镇", "对口学校或片区", "类别", "状态", "提交时间"],
            );
            for r in dbr::export_applications(conn)? {
                let (a, child) = r;
                let (no, camp, township, s, z, cat, status, at) = (
                    a.registration_no,
                    a.campaign_id,
                    a.township_id,
                    a.catchment_school_id,
                    a.zone_id,
                    a.category,
                    a.status,
                    a.submitted_at,
                );
                let (name, enc, masked, sex, birth) =
                    (child.name, child.id_number_enc, child.id_number_masked, child.sex, child.birth_date);
                if !scoped(&township) {
                    continue;
                }
                let id = if who.sees_id_numbers() { cipher.decrypt(&enc).unwrap_or(masked) } else { masked };
                t.push(vec![
                    no,
                    camp,
                    if full_names { name } else { mask_name(&name) },
                    id,
                    sex,
                    birth.to_string(),
                    township
                        .as_ref()
                        .and_then(|x| township_names.get(x).cloned())
                        .unwrap_or_else(|| crate::review::scope::COUNTY_QUEUE.into()),
                    target(&s, &z),
                    cat.unwrap_or_default(),
                    status.label().into(),
                    fmt_t(&at),
                ]);
            }
            t
        }
        "reviews" => {
            let mut t = Table::new(
                "审核结果",
                &[
                    "报名号",
                    "决定",
                    "驳回原因",
                    "说明",
                    "改判学校",
                    "改判类别",
                    "需复核",
                    "复核结果",
                    "审核人",
                    "复核人",
                    "时间",
                    "补充截止",
                ],
            );
            let people: HashMap<String, String> = dbr::staff_names(conn)?;
            for (d, no, township) in dbr::export_reviews(conn)? {
                let dbr::DecisionRow {
                    decision: d,
                    reason_code: rc,
                    note,
                    override_school_id: os,
                    override_category: oc,
                    needs_second: needs,
                    second_reviewer_id: second,
                    reviewer_id: reviewer,
                    created_at: at,
                    supplement_deadline: deadline,
                    ..
                } = d;
                if !scoped(&township) {
                    continue;
                }
                t.push(vec![
                    no,
                    d.label().into(),
                    rc.as_deref().and_then(crate::review::reject_reason_label).unwrap_or("").into(),
                    note,
                    os.map(|s| school_names.get(&s).cloned().unwrap_or(s)).unwrap_or_default(),
                    oc.unwrap_or_default(),
                    if needs || second.is_some() { "是".into() } else { "否".into() },
                    match (needs, &second) {
                        (true, Some(_)) => "同意".into(),
                        (false, Some(_)) => "不同意".into(),
                        (true, None) => "待复核".into(),
                        _ => String::new(),
                    },
                    people.get(&reviewer).cloned().unwrap_or(reviewer),
                    second.map(|s| people.get(&s).cloned().unwrap_or(s)).unwrap_or_default(),
                    fmt_t(&at),
                    deadline.map(|d| fmt_t(&d)).unwrap_or_default(),
                ]);
            }
            t
        }
        "draws" => {
            let mut t = Table::new(
                "派位结果",
                &[
                    "派位编号",
                    "招生计划",
                    "类型",
                    "状态",
                    "公告摘要",
                    "结果摘要",
                    "公告时间",
                    "计算时间",
                    "报名号",
                    "派位号",
                    "派位结果",
                    "学校",
                ],
            );
            for r in dbr::export_draws(conn)? {
                let dbr::DrawExportRow {
                    draw_id: id,
                    campaign_id: camp,
                    kind: k,
                    status,
                    announcement_digest: ad,
                    result_digest: rdg,
                    created_at: created,
                    computed_at: computed,
                    record_json: record,
                } = r;
                let lines = record.as_deref().map(crate::review::export::draw_lines).unwrap_or_default();
                let head = vec![
                    id,
                    camp,
                    k.label().to_string(),
                    status.label().to_string(),
                    ad.unwrap_or_default(),
                    rdg.unwrap_or_default(),
                    fmt_t(&created),
                    computed.map(|c| fmt_t(&c)).unwrap_or_default(),
                ];
                if lines.is_empty() {
                    let mut row = head.clone();
                    row.extend([String::new(), String::new(), "尚未派位".to_string(), String::new()]);
                    t.push(row);
                }
                // Roster ids are registration numbers, not names: public already.
                for l in lines {
                    let mut row = head.clone();
                    row.extend([l.id, l.number, l.outcome.to_string(), school_names.get(&l.school).cloned().unwrap_or(l.school)]);
                    t.push(row);
                }
            }
            t
        }
        "offers" => {
            let mut t = Table::new("录取与安置", &["报名号", "儿童姓名", "学校", "来源", "状态", "确认截止", "录取时间", "回复时间"]);
            for r in dbr::export_offers(conn)? {
                let dbr::OfferExportRow {
                    registration_no: no,
                    township_id: township,
                    child_name: name,
                    school_id: school,
                    draw_id: draw,
                    status,
                    deadline,
                    offered_at: offered,
                    responded_at: responded,
                } = r;
                if !scoped(&township) {
                    continue;
                }
                t.push(vec![
                    no,
                    if full_names { name } else { mask_name(&name) },
                    school_names.get(&school).cloned().unwrap_or(school),
                    if draw.is_some() { "电脑派位".into() } else { "统筹安置".into() },
                    status,
                    fmt_t(&deadline),
                    fmt_t(&offered),
                    responded.map(|r| fmt_t(&r)).unwrap_or_default(),
                ]);
            }
            t
        }
        _ => return Err(AppError::NotFound),
    };
    audit::append(
        conn,
        &who.actor(),
        "export",
        &format!("export:{kind}"),
        None,
        Some(&json!({"format": format, "rows": table.rows.len(), "role": who.role.as_str()})),
    )?;
    Ok(table)
}

/// Builds export `kind` as `format` (`csv` or `xlsx`, default csv) for `who`.
pub async fn export(cx: &Ctx, who: &Identity, kind: String, format: Option<String>) -> Result<Download, AppError> {
    let roles = roles_for(&kind).ok_or(AppError::NotFound)?;
    if !who.is(roles) {
        return Err(AppError::Forbidden);
    }
    let format = format.unwrap_or_else(|| "csv".into());
    if format != "csv" && format != "xlsx" {
        return Err(AppError::invalid("format", "格式只能是 csv 或 xlsx"));
    }
    let who = who.clone();
    let cipher = cx.cipher();
    let (k, f) = (kind.clone(), format.clone());
    let table = cx.db.write(move |c| export_in(c, &who, &k, &f, &cipher)).await?;
    let (bytes, mime) = if format == "csv" {
        (crate::review::export::to_csv(&table).map_err(AppError::internal)?, "text/csv; charset=utf-8")
    } else {
        (
            actix_web::web::block(move || crate::review::export::to_xlsx(&table))
                .await
                .map_err(AppError::internal)?
                .map_err(AppError::internal)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    };
    let stamp = crate::db::now().format("%Y%m%d-%H%M%S");
    Ok(Download { bytes, mime, filename: format!("ruxue-{kind}-{stamp}.{format}") })
}
