//! After the draw (issue #12), documents: admission notices (录取通知书, PDF
//! per child and per school), enrolment rosters (新生名册, CSV and XLSX,
//! ID numbers masked by role) and the inspectors' indicators (督导: page
//! figures and XLSX).

use super::export::Download;
use super::Ctx;
use crate::admission::indicators::{self, ChildCounts, Indicators, SchoolCount};
use crate::admission::notice::{self, NoticeData};
use crate::db::offers as dbo;
use crate::db::review as dbr;
use crate::db::{self, audit, DbConn};
use crate::domain::{ApplicationStatus, Role};
use crate::error::AppError;
use crate::identity::crypto::mask_name;
use crate::review::export::{to_csv, to_xlsx, Table};
use crate::staff::Identity;
use serde_json::json;

/// Who prints notices and rosters: the bureau and the draw operators.
pub const NOTICE_ROLES: [Role; 2] = [Role::Admin, Role::Operator];
/// Who reads rosters and the indicators: also the inspectors.
pub const READ_ROLES: [Role; 3] = [Role::Admin, Role::Operator, Role::Auditor];

/// Applications holding an accepted or open offer at `school` (or, with
/// `None`, this one application), with the school.
fn admitted(
    conn: &mut DbConn,
    campaign_id: &str,
    school: &str,
) -> Result<Vec<(crate::db::models::Application, crate::db::models::Offer)>, AppError> {
    let mut out = Vec::new();
    for (o, _) in dbo::campaign_offers(conn, campaign_id)? {
        if o.school_id == school && (o.status == "accepted" || o.status == "offered") {
            let a = dbo::application(conn, &o.application_id)?.ok_or(AppError::NotFound)?;
            out.push((a, o));
        }
    }
    Ok(out)
}

fn notice_of(
    conn: &mut DbConn,
    cx: &Ctx,
    a: &crate::db::models::Application,
    o: &crate::db::models::Offer,
) -> Result<NoticeData, AppError> {
    use crate::db::schema::schools as sc;
    use diesel::prelude::*;
    let c = dbr::campaign(conn, &a.campaign_id)?;
    let (name, address): (String, String) = sc::table.filter(sc::id.eq(&o.school_id)).select((sc::name, sc::address)).first(conn)?;
    let (child, _, _) = dbo::child_name_and_id(conn, &a.child_id)?;
    let n = &cx.settings.notices;
    Ok(NoticeData {
        bureau: cx.settings.bureau.name.clone(),
        campaign_name: c.name.clone(),
        school_name: name,
        school_address: address,
        child_name: child,
        registration_no: a.registration_no.clone(),
        report_date: n.report_date.clone(),
        bring: n.bring.clone(),
        verify_url: format!("{}/results?registration_no={}", cx.settings.server.base_url.trim_end_matches('/'), a.registration_no),
        issued: crate::db::beijing(db::now()).format("%Y年%m月%d日").to_string(),
    })
}

fn font(cx: &Ctx) -> Result<Vec<u8>, AppError> {
    let path = &cx.settings.notices.font_file;
    std::fs::read(path).map_err(|e| {
        AppError::conflict(
            "font_missing",
            format!("录取通知书所用中文字体 {} 无法读取（{e}）：请安装字体或在 notices.font_file 中配置", path.display()),
        )
    })
}

fn pdf(cx: &Ctx, pages: &[NoticeData], filename: String) -> Result<Download, AppError> {
    let f = font(cx)?;
    let bytes = notice::render(&f, cx.settings.notices.font_index, pages).map_err(|m| AppError::conflict("notice_failed", m))?;
    Ok(Download { bytes, mime: "application/pdf", filename })
}

/// One child's notice; only for a seat held (offered or accepted).
pub async fn notice_for(cx: &Ctx, who: &Identity, app_id: String) -> Result<Download, AppError> {
    if !who.is(&NOTICE_ROLES) {
        return Err(AppError::Forbidden);
    }
    let (cx2, actor) = (cx.clone(), who.actor());
    let page = cx
        .db
        .write(move |c| {
            let a = dbo::application(c, &app_id)?.ok_or(AppError::NotFound)?;
            let o = dbo::live_offer(c, &a.id)?.ok_or_else(|| AppError::conflict("no_offer", "这名儿童尚未录取，不能打印录取通知书"))?;
            let n = notice_of(c, &cx2, &a, &o)?;
            audit::append(c, &actor, "notice.print", &format!("application:{}", a.id), None, Some(&json!({"school": o.school_id})))?;
            Ok(n)
        })
        .await?;
    let name = format!("录取通知书-{}.pdf", page.registration_no);
    pdf(cx, &[page], name)
}

/// A school's notices in one PDF, by registration number.
pub async fn notices_for_school(cx: &Ctx, who: &Identity, campaign_id: String, school_id: String) -> Result<Download, AppError> {
    if !who.is(&NOTICE_ROLES) {
        return Err(AppError::Forbidden);
    }
    let (cx2, actor, sid) = (cx.clone(), who.actor(), school_id.clone());
    let pages = cx
        .db
        .write(move |c| {
            dbr::campaign(c, &campaign_id)?;
            let mut pages = Vec::new();
            for (a, o) in admitted(c, &campaign_id, &sid)? {
                pages.push(notice_of(c, &cx2, &a, &o)?);
            }
            audit::append(
                c,
                &actor,
                "notice.print_school",
                &format!("school:{sid}"),
                None,
                Some(&json!({"campaign": campaign_id, "notices": pages.len()})),
            )?;
            Ok(pages)
        })
        .await?;
    if pages.is_empty() {
        return Err(AppError::conflict("no_offer", "这所学校还没有录取的儿童"));
    }
    pdf(cx, &pages, format!("录取通知书-{school_id}.pdf"))
}

/// A school's enrolment roster (新生名册): admins see full ID numbers,
/// operators and auditors masked ones.
pub async fn roster(cx: &Ctx, who: &Identity, campaign_id: String, school_id: String, format: String) -> Result<Download, AppError> {
    if !who.is(&READ_ROLES) {
        return Err(AppError::Forbidden);
    }
    if format != "csv" && format != "xlsx" {
        return Err(AppError::invalid("format", "格式只能是 csv 或 xlsx"));
    }
    let (who, cipher) = (who.clone(), cx.cipher());
    let (t, name) = cx
        .db
        .write(move |c| {
            dbr::campaign(c, &campaign_id)?;
            let school = dbo::school_name(c, &school_id)?;
            let mut t = Table::new("新生名册", &["序号", "报名号", "儿童姓名", "身份证号", "性别", "出生日期", "录取方式", "状态"]);
            let rows = admitted(c, &campaign_id, &school_id)?;
            for (i, (a, o)) in rows.iter().enumerate() {
                let child = dbr::child_of(c, &a.child_id)?;
                let id = if who.role == Role::Admin {
                    cipher.decrypt(&child.id_number_enc).unwrap_or(child.id_number_masked.clone())
                } else {
                    child.id_number_masked.clone()
                };
                let name = if who.role == Role::Auditor { mask_name(&child.name) } else { child.name.clone() };
                t.push(vec![
                    (i + 1).to_string(),
                    a.registration_no.clone(),
                    name,
                    id,
                    child.sex.clone(),
                    child.birth_date.to_string(),
                    match o.source.as_str() {
                        "draw" => "电脑派位",
                        "waitlist" => "候补递补",
                        "placement" => "统筹安置",
                        _ => "学位充足直接录取",
                    }
                    .into(),
                    if o.status == "accepted" { "已确认入学".into() } else { "待确认".into() },
                ]);
            }
            audit::append(
                c,
                &who.actor(),
                "roster.export",
                &format!("school:{school_id}"),
                None,
                Some(&json!({"campaign": campaign_id, "rows": rows.len()})),
            )?;
            Ok((t, format!("新生名册-{school}")))
        })
        .await?;
    let (bytes, mime) = if format == "csv" {
        (to_csv(&t).map_err(AppError::internal)?, "text/csv; charset=utf-8")
    } else {
        (to_xlsx(&t).map_err(AppError::internal)?, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    };
    Ok(Download { bytes, mime, filename: format!("{name}.{format}") })
}

/// The inspectors' figures for a campaign.
pub fn indicators_in(conn: &mut DbConn, campaign_id: &str, caps: (i32, i32)) -> Result<Indicators, AppError> {
    dbr::campaign(conn, campaign_id)?;
    let offers = dbo::campaign_offers(conn, campaign_id)?;
    let live: std::collections::HashSet<String> =
        offers.iter().filter(|(o, _)| o.status == "offered" || o.status == "accepted").map(|(o, _)| o.application_id.clone()).collect();
    let mut schools = Vec::new();
    for p in dbr::plans_of(conn, campaign_id)? {
        let pupils =
            offers.iter().filter(|(o, _)| o.school_id == p.school_id && (o.status == "offered" || o.status == "accepted")).count() as i64;
        schools.push(SchoolCount {
            cap: if p.kind == "junior" { caps.1 } else { caps.0 },
            school_id: p.school_id,
            name: p.school_name,
            kind: p.kind,
            classes: p.planned_classes,
            pupils,
        });
    }
    let mut k = ChildCounts::default();
    for a in dbr::applications_of(conn, campaign_id)? {
        if matches!(a.status, ApplicationStatus::Withdrawn) {
            continue;
        }
        let Ok(f) = serde_json::from_str::<crate::policy::ApplicantFacts>(&a.facts_json) else { continue };
        let placed = live.contains(&a.id);
        if f.disability_support {
            k.disability_registered += 1;
            k.disability_enrolled += i64::from(placed);
        }
        if f.migrant.is_some() {
            k.migrant_registered += 1;
            k.migrant_placed_public += i64::from(placed);
        }
        k.left_behind += i64::from(f.left_behind);
    }
    Ok(indicators::compute(&schools, &k))
}

pub async fn indicators(cx: &Ctx, who: &Identity, campaign_id: String) -> Result<Indicators, AppError> {
    if !who.is(&READ_ROLES) {
        return Err(AppError::Forbidden);
    }
    let caps = (cx.settings.admission.class_cap_primary, cx.settings.admission.class_cap_junior);
    cx.db.run(move |c| indicators_in(c, &campaign_id, caps)).await
}

/// The indicators as a workbook: one sheet of schools, one of the county's figures.
pub fn indicators_xlsx(i: &Indicators, campaign_id: &str) -> Result<Download, AppError> {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let e = |e: rust_xlsxwriter::XlsxError| AppError::internal(e);
    {
        let ws = wb.add_worksheet().set_name("各校班额").map_err(e)?;
        for (c, h) in ["学校", "学段", "班数", "班额上限", "录取人数", "最大班额", "大班额班数", "是否达标"].iter().enumerate()
        {
            ws.write_string(0, c as u16, *h).map_err(e)?;
        }
        for (r, s) in i.schools.iter().enumerate() {
            let r = r as u32 + 1;
            ws.write_string(r, 0, &s.name).map_err(e)?;
            ws.write_string(r, 1, if s.kind == "junior" { "初中" } else { "小学" }).map_err(e)?;
            ws.write_number(r, 2, f64::from(s.classes)).map_err(e)?;
            ws.write_number(r, 3, f64::from(s.cap)).map_err(e)?;
            ws.write_number(r, 4, s.pupils as f64).map_err(e)?;
            ws.write_number(r, 5, s.largest_class as f64).map_err(e)?;
            ws.write_number(r, 6, s.oversize_classes as f64).map_err(e)?;
            ws.write_string(r, 7, if s.ok { "达标" } else { "存在大班额" }).map_err(e)?;
        }
    }
    {
        let ws = wb.add_worksheet().set_name("县级指标").map_err(e)?;
        let rows: Vec<(&str, String)> = vec![
            ("班级总数", i.classes.to_string()),
            ("录取总人数", i.pupils.to_string()),
            ("大班额班数", i.oversize_classes.to_string()),
            ("存在大班额的学校", i.schools_failing.to_string()),
            ("残疾儿童登记人数", i.disability_registered.to_string()),
            ("残疾儿童随班就读人数", i.disability_enrolled.to_string()),
            ("随班就读比例", indicators::percent_text(i.disability_rate_permille)),
            ("随班就读目标（≥96%）", if i.disability_target_met { "达到".into() } else { "未达到".into() }),
            ("随迁子女报名人数", i.migrant_registered.to_string()),
            ("随迁子女在公办学校就读人数", i.migrant_placed_public.to_string()),
            ("随迁子女公办学校就读比例", indicators::percent_text(i.migrant_rate_permille)),
            ("留守儿童登记人数", i.left_behind.to_string()),
        ];
        ws.write_string(0, 0, "指标").map_err(e)?;
        ws.write_string(0, 1, "数值").map_err(e)?;
        for (r, (k, v)) in rows.iter().enumerate() {
            ws.write_string(r as u32 + 1, 0, *k).map_err(e)?;
            ws.write_string(r as u32 + 1, 1, v).map_err(e)?;
        }
    }
    let bytes = wb.save_to_buffer().map_err(e)?;
    Ok(Download {
        bytes,
        mime: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename: format!("督导指标-{campaign_id}.xlsx"),
    })
}
