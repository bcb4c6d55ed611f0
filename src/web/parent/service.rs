//! What the pages and the JSON API share: loading a campaign's rules, the
//! child step, uploads, the review, submit and the status timeline.

use super::auth::GuardianSession;
use crate::catchment::{Directory, StaticDirectory};
use crate::db::models::{status_label, Campaign};
use crate::db::registration::{self as dbr, DraftRow, Placement, Submitted};
use crate::db::{self, schema};
use crate::error::AppError;
use crate::identity::crypto::IdCipher;
use crate::policy::{compute_keys, CatchmentContext, Policy};
use crate::registration::draft::{self, DraftData, DraftDocument};
use crate::registration::forms::{self, ChildForm, ChildRules, FieldErrors, ValidChild};
use crate::registration::upload::{self, DocumentKind};
use crate::web::AppState;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use std::path::Path;

/// China Standard Time, for everything a parent reads.
pub fn local(t: NaiveDateTime) -> NaiveDateTime {
    db::beijing(t)
}
pub fn fmt_time(t: NaiveDateTime) -> String {
    local(t).format("%Y年%m月%d日 %H:%M").to_string()
}
pub fn fmt_date(d: NaiveDate) -> String {
    d.format("%Y年%m月%d日").to_string()
}
pub fn today() -> NaiveDate {
    local(db::now()).date()
}

pub fn cipher(state: &AppState) -> IdCipher {
    IdCipher::new(&state.settings.id_key())
}

/// A campaign with its policy, rules and the choices its forms offer.
#[derive(Clone)]
pub struct CampaignCtx {
    pub campaign: Campaign,
    pub policy: Policy,
    pub rules: Vec<crate::catchment::CatchmentRule>,
    pub directory: StaticDirectory,
    /// (id, name)
    pub townships: Vec<(String, String)>,
    pub township_names: Vec<String>,
    /// (id, name) of schools an elder sibling may attend.
    pub schools: Vec<(String, String)>,
    /// school code → id, zone code → id
    pub school_ids: Vec<(String, String)>,
    pub zone_ids: Vec<(String, String)>,
}

impl CampaignCtx {
    pub fn load(conn: &mut db::DbConn, campaign_id: &str) -> Result<CampaignCtx, AppError> {
        let campaign = db::catchment::load_campaign(conn, campaign_id).map_err(|_| AppError::NotFound)?;
        let policy = Policy::load_toml(&campaign.policy_toml)
            .map_err(|e| AppError::internal(format!("campaign {campaign_id} policy: {e}")))?;
        let rules = db::catchment::load_rules(conn, campaign_id)?;
        let directory = db::catchment::load_directory(conn, campaign_id)?;
        let townships = dbr::township_names(conn)?;
        let schools = dbr::schools_for(conn, &campaign)?;
        let school_ids = schema::schools::table.select((schema::schools::code, schema::schools::id)).load(conn)?;
        let zone_ids = schema::zones::table
            .filter(schema::zones::campaign_id.eq(campaign_id))
            .select((schema::zones::code, schema::zones::id))
            .load(conn)?;
        Ok(CampaignCtx {
            township_names: townships.iter().map(|(_, n)| n.clone()).collect(),
            campaign,
            policy,
            rules,
            directory,
            townships,
            schools,
            school_ids,
            zone_ids,
        })
    }

    pub fn child_rules(&self) -> ChildRules<'_> {
        ChildRules {
            today: today(),
            campaign_year: self.campaign.year,
            age: forms::age_rule(self.campaign.min_age, self.campaign.max_age, &self.campaign.age_cutoff),
            townships: &self.township_names,
            care_kinds: &self.policy.care.kinds,
            sibling_schools: &self.schools,
        }
    }

    /// The provisional catchment outcome for these facts.
    pub fn provisional(&self, facts: &crate::policy::ApplicantFacts) -> (Provisional, Placement) {
        let ctx = CatchmentContext { rules: &self.rules, directory: &self.directory };
        let township_of = |name: Option<&str>| {
            name.and_then(|n| self.townships.iter().find(|(_, t)| t == n)).map(|(id, _)| id.clone())
        };
        let township = facts
            .hukou
            .as_ref()
            .or(facts.property.as_ref().map(|p| &p.address))
            .or(facts.migrant.as_ref().and_then(|m| m.residence_address.as_ref()))
            .and_then(|a| a.township.as_deref());
        let mut placement = Placement { township_id: township_of(township), ..Default::default() };
        let mut p = Provisional::default();
        match compute_keys(facts, &self.policy, &ctx) {
            Ok(keys) => {
                p.notes = keys.notes.clone();
                if let Some(best) = keys.schools.first() {
                    p.found = true;
                    p.category_code = Some(best.category_code.clone());
                    p.category_label = Some(match self.policy.category_index(&best.category_code) {
                        Some(i) => format!("{}（{}）", crate::policy::tier_name(i + 1), best.category_label),
                        None => best.category_label.clone(),
                    });
                    p.explanation = Some(best.explanation.clone());
                    p.basis = best.via.iter().map(|b| b.label().to_string()).collect();
                    match &best.zone_id {
                        Some(z) => {
                            p.zone_code = Some(z.clone());
                            p.zone_name = self.directory.zone_name(z).or_else(|| Some(z.clone()));
                            p.schools = self.directory.zone_schools(z).iter().filter_map(|s| self.directory.school_name(s)).collect();
                            placement.zone_id = self.zone_ids.iter().find(|(c, _)| c == z).map(|(_, id)| id.clone());
                        }
                        None => {
                            p.school_code = Some(best.school_id.clone());
                            p.school_name = Some(best.school_name.clone());
                            placement.school_id = self.school_ids.iter().find(|(c, _)| *c == best.school_id).map(|(_, id)| id.clone());
                        }
                    }
                } else {
                    p.notes.push("按您填写的地址未找到对口学校，将由教育局统筹安排学位".into());
                }
            }
            Err(e) => p.notes.push(format!("暂时无法计算对口学校：{e}")),
        }
        (p, placement)
    }
}

/// The provisional catchment school or zone and category ("以审核结果为准").
#[derive(Debug, Clone, Default, Serialize)]
pub struct Provisional {
    pub found: bool,
    pub school_code: Option<String>,
    pub school_name: Option<String>,
    pub zone_code: Option<String>,
    pub zone_name: Option<String>,
    /// The zone's schools, in announced order.
    pub schools: Vec<String>,
    pub category_code: Option<String>,
    pub category_label: Option<String>,
    pub explanation: Option<String>,
    pub basis: Vec<String>,
    pub notes: Vec<String>,
}

/// A page-or-API step outcome: field problems are shown beside the fields.
#[derive(Debug)]
pub enum StepError {
    Fields(FieldErrors),
    App(AppError),
}

impl From<AppError> for StepError {
    fn from(e: AppError) -> Self {
        StepError::App(e)
    }
}

pub struct DraftCtx {
    pub draft: DraftRow,
    pub data: DraftData,
    pub ctx: CampaignCtx,
}

pub async fn load_draft(state: &AppState, s: &GuardianSession, draft_id: &str) -> Result<DraftCtx, AppError> {
    let (gid, id) = (s.id().to_string(), draft_id.to_string());
    state
        .db
        .run(move |c| {
            let draft = dbr::draft(c, &gid, &id)?;
            let data = draft.data()?;
            let ctx = CampaignCtx::load(c, &draft.campaign_id)?;
            Ok(DraftCtx { draft, data, ctx })
        })
        .await
}

/// An open draft of an open campaign, ready to change.
pub fn check_editable(d: &DraftCtx) -> Result<(), AppError> {
    if d.draft.status != "open" {
        return Err(AppError::conflict("draft_submitted", "这份报名已经提交，请在“我的报名”中查看"));
    }
    dbr::registration_open(&d.ctx.campaign, db::now())
}

/// The child form with the stored ID number decrypted (the guardian's own page).
pub fn child_form(state: &AppState, data: &DraftData) -> Option<ChildForm> {
    let mut f = data.child.clone()?;
    if let Some(enc) = &data.id_number_enc {
        f.id_number = cipher(state).decrypt(enc).unwrap_or_default();
    }
    Some(f)
}

/// Validates the child step against the campaign and stores it in the draft.
pub async fn save_child(state: &AppState, s: &GuardianSession, draft_id: &str, form: ChildForm) -> Result<ValidChild, StepError> {
    let d = load_draft(state, s, draft_id).await?;
    check_editable(&d)?;
    let valid = forms::validate_child(&form, &d.ctx.child_rules()).map_err(StepError::Fields)?;
    let cipher = cipher(state);
    let hash = cipher.lookup_hash(&valid.id.number);
    let enc = cipher.encrypt(&valid.id.number);
    let mut data = d.data.clone();
    let mut stored = form.clone();
    stored.id_number = String::new();
    data.child = Some(stored);
    data.id_number_enc = Some(enc);
    let (campaign, except, draft_id) = (d.draft.campaign_id.clone(), d.draft.application_id.clone(), d.draft.id.clone());
    let existing = state
        .db
        .write(move |c| {
            if let Some(e) = dbr::existing_child(c, &campaign, &hash, except.as_deref())? {
                return Ok(Some(e));
            }
            dbr::save_draft(c, &draft_id, &data)?;
            Ok(None)
        })
        .await?;
    if let Some(e) = existing {
        let mut errs = FieldErrors::default();
        errs.add("id_number", e.message());
        return Err(StepError::Fields(errs));
    }
    Ok(valid)
}

/// Stores an uploaded file by content hash (temp file, fsync, rename, fsync dir).
pub fn store_file(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let target = dir.join(name);
    if target.exists() {
        return Ok(());
    }
    let tmp = dir.join(format!(".upload-{}", db::new_id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &target)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// One uploaded file read from a multipart body.
pub struct UploadForm {
    pub csrf: String,
    pub kind: String,
    pub file: Option<Vec<u8>>,
}

fn too_large(max: usize) -> AppError {
    AppError::PayloadTooLarge {
        field: Some("file".into()),
        message: format!("文件（file）超过 {} 上限，请压缩或重新拍照后上传", human_size(max)),
    }
}

pub fn human_size(n: usize) -> String {
    if n >= 1024 * 1024 {
        let mb = n as f64 / (1024.0 * 1024.0);
        format!("{} MB", format!("{mb:.1}").trim_end_matches(".0"))
    } else {
        format!("{} KB", n.div_ceil(1024))
    }
}

/// Reads `_csrf`, `kind` and `file` from a multipart body, never holding more
/// than `max` bytes of the file: beyond it, 413 naming the field.
pub async fn read_upload(req: &actix_web::HttpRequest, mut mp: actix_multipart::Multipart, max: usize) -> Result<UploadForm, AppError> {
    use futures_util::TryStreamExt;
    const TEXT_MAX: usize = 256;
    if let Some(len) = req.headers().get(actix_web::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok()) {
        if len > max + 64 * 1024 {
            return Err(too_large(max));
        }
    }
    let bad = |m: &str| AppError::BadRequest { code: "invalid_multipart", message: m.to_string(), field: None };
    let mut out = UploadForm { csrf: String::new(), kind: String::new(), file: None };
    while let Some(mut field) = mp.try_next().await.map_err(|_| bad("上传内容无法读取，请重新选择文件"))? {
        let name = field.name().unwrap_or("").to_string();
        let limit = if name == "file" { max } else { TEXT_MAX };
        let mut buf = Vec::new();
        while let Some(chunk) = field.try_next().await.map_err(|_| bad("上传中断，请重试"))? {
            if buf.len() + chunk.len() > limit {
                return Err(if name == "file" {
                    too_large(max)
                } else {
                    AppError::PayloadTooLarge { field: Some(name.clone()), message: format!("字段 {name} 过长") }
                });
            }
            buf.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "_csrf" => out.csrf = String::from_utf8_lossy(&buf).into_owned(),
            "kind" => out.kind = String::from_utf8_lossy(&buf).trim().to_string(),
            "file" => {
                if out.file.is_some() {
                    return Err(AppError::invalid("file", "每次只能上传一个文件"));
                }
                out.file = Some(buf);
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Checks, strips and stores one upload, and lists it in the draft.
pub async fn add_document(state: &AppState, s: &GuardianSession, draft_id: &str, form: UploadForm) -> Result<DraftDocument, AppError> {
    let kind = DocumentKind::from_code(&form.kind).ok_or_else(|| AppError::invalid("kind", "请选择材料类别"))?;
    let bytes = form.file.filter(|b| !b.is_empty()).ok_or_else(|| AppError::invalid("file", "请选择要上传的文件"))?;
    let d = load_draft(state, s, draft_id).await?;
    check_editable(&d)?;
    if d.data.documents.len() >= draft::MAX_DOCUMENTS {
        return Err(AppError::invalid("file", format!("每份报名最多上传 {} 个文件", draft::MAX_DOCUMENTS)));
    }
    let max = state.settings.uploads.max_bytes;
    let prepared = actix_web::web::block(move || upload::prepare(&bytes, max as u64))
        .await
        .map_err(AppError::internal)?
        .map_err(|e| match e {
            upload::UploadError::TooLarge { .. } => too_large(max),
            other => AppError::invalid("file", format!("文件（file）：{other}")),
        })?;
    let doc = DraftDocument {
        kind: kind.code().to_string(),
        content_hash: prepared.storage_name.clone(),
        mime: prepared.kind.mime().to_string(),
        size_bytes: prepared.bytes.len() as i64,
    };
    let dir = state.settings.uploads.dir.clone();
    let name = prepared.storage_name.clone();
    actix_web::web::block(move || store_file(&dir, &name, &prepared.bytes))
        .await
        .map_err(AppError::internal)?
        .map_err(|e| AppError::internal(format!("storing upload: {e}")))?;
    let (id, doc2) = (d.draft.id.clone(), doc.clone());
    let gid = s.id().to_string();
    state
        .db
        .write(move |c| {
            // Re-read inside the transaction so two uploads at once both stay.
            let row = dbr::draft(c, &gid, &id)?;
            let mut data = row.data()?;
            if !data.documents.iter().any(|x| x.kind == doc2.kind && x.content_hash == doc2.content_hash) {
                data.documents.push(doc2);
            }
            dbr::save_draft(c, &id, &data)
        })
        .await?;
    Ok(doc)
}

/// The review page's content.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewView {
    pub draft_id: String,
    pub campaign_id: String,
    pub campaign_name: String,
    pub editing_registration_no: Option<String>,
    pub child: ChildForm,
    pub id_number: String,
    pub birth_date: String,
    pub sex: String,
    pub age: u32,
    pub id_note: Option<String>,
    pub hukou: Option<String>,
    pub property: Option<String>,
    pub property_owner: Option<String>,
    pub migrant: Option<String>,
    pub residence_address: Option<String>,
    pub special: Vec<String>,
    pub sibling_school: Option<String>,
    pub documents: Vec<DocView>,
    pub missing_documents: Vec<String>,
    pub provisional: Provisional,
    /// Problems found again at review time (e.g. the campaign changed).
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocView {
    pub kind: String,
    pub label: String,
    pub mime: String,
    pub size: String,
}

pub fn doc_view(kind: &str, mime: &str, size: i64) -> DocView {
    DocView {
        kind: kind.to_string(),
        label: DocumentKind::from_code(kind).map(|k| k.label().to_string()).unwrap_or_else(|| kind.to_string()),
        mime: mime.to_string(),
        size: human_size(size.max(0) as usize),
    }
}

pub async fn review(state: &AppState, s: &GuardianSession, draft_id: &str) -> Result<ReviewView, AppError> {
    let d = load_draft(state, s, draft_id).await?;
    let form = child_form(state, &d.data).ok_or_else(|| AppError::conflict("child_missing", "请先填写儿童信息"))?;
    let mut problems = Vec::new();
    let valid = match forms::validate_child(&form, &d.ctx.child_rules()) {
        Ok(v) => v,
        Err(e) => {
            return Err(AppError::invalid(
                e.0.first().map(|x| x.field.clone()).unwrap_or_default(),
                e.0.first().map(|x| x.message.clone()).unwrap_or_default(),
            ))
        }
    };
    if let Err(e) = dbr::registration_open(&d.ctx.campaign, db::now()) {
        problems.push(e.public_message());
    }
    let f = &valid.facts.facts;
    let (provisional, _) = d.ctx.provisional(f);
    let mut special = Vec::new();
    if f.disability_support {
        special.push("残疾儿童，需要随班就读支持".to_string());
    }
    if f.left_behind {
        special.push("留守儿童".to_string());
    }
    if let Some(c) = &f.care_category {
        special.push(format!("政策性照顾对象：{c}"));
    }
    let editing = match &d.draft.application_id {
        Some(app) => {
            let (app, gid) = (app.clone(), s.id().to_string());
            Some(state.db.run(move |c| dbr::application_view(c, &gid, &app)).await?.application.registration_no)
        }
        None => None,
    };
    Ok(ReviewView {
        draft_id: d.draft.id.clone(),
        campaign_id: d.ctx.campaign.id.clone(),
        campaign_name: d.ctx.campaign.name.clone(),
        editing_registration_no: editing,
        id_number: valid.id.number.clone(),
        birth_date: fmt_date(valid.id.birth_date),
        sex: valid.id.sex.label().to_string(),
        age: valid.age,
        id_note: valid.id.note.map(str::to_string),
        hukou: f.hukou.as_ref().map(|a| a.display()),
        property: f.property.as_ref().map(|p| format!("{}（不动产权证号：{}）", p.address.display(), p.certificate_no)),
        property_owner: f
            .property
            .as_ref()
            .map(|p| format!("{}（{}）", valid.facts.declared.property_owner_name.clone().unwrap_or_default(), p.owner_relation.label())),
        migrant: f.migrant.as_ref().map(|m| {
            format!("居住证号 {}，居住起始 {}，社保缴纳 {} 个月", m.permit_no, fmt_date(m.residence_start), m.social_insurance_months)
        }),
        residence_address: f.migrant.as_ref().and_then(|m| m.residence_address.as_ref()).map(|a| a.display()),
        special,
        sibling_school: f
            .sibling_school_id
            .as_ref()
            .map(|id| d.ctx.schools.iter().find(|(i, _)| i == id).map(|(_, n)| n.clone()).unwrap_or_else(|| id.clone())),
        documents: d.data.documents.iter().map(|x| doc_view(&x.kind, &x.mime, x.size_bytes)).collect(),
        missing_documents: draft::missing_documents(&d.data).iter().map(|(_, why)| why.to_string()).collect(),
        provisional,
        problems,
        child: form,
    })
}

/// Submits a draft. Safe to repeat: the same key, or the same draft, answers
/// with the same application.
pub async fn submit(state: &AppState, s: &GuardianSession, draft_id: &str, key: Option<&str>) -> Result<Submitted, AppError> {
    let key = key.map(str::trim).filter(|k| !k.is_empty()).map(str::to_string).unwrap_or_else(|| format!("draft:{draft_id}"));
    if key.len() > 200 || key.chars().any(|c| c.is_control()) {
        return Err(AppError::invalid("idempotency_key", "请求标识无效"));
    }
    let ns_key = format!("guardian:{}:submit:{key}", s.id());
    let k = ns_key.clone();
    if let Some(done) = state.db.run(move |c| dbr::remembered(c, &k)).await? {
        return Ok(Submitted { created: false, ..done });
    }
    let d = load_draft(state, s, draft_id).await?;
    if d.draft.status == "submitted" {
        if let Some(app) = &d.draft.application_id {
            let (app, gid) = (app.clone(), s.id().to_string());
            let view = state.db.run(move |c| dbr::application_view(c, &gid, &app)).await?;
            return Ok(Submitted { application_id: view.application.id, registration_no: view.application.registration_no, created: false });
        }
    }
    check_editable(&d)?;
    let missing = draft::missing_documents(&d.data);
    if let Some((kind, why)) = missing.first() {
        return Err(AppError::invalid(*kind, format!("请上传{why}后再提交")));
    }
    let form = child_form(state, &d.data).ok_or_else(|| AppError::invalid("child_name", "请先填写儿童信息"))?;
    let valid = forms::validate_child(&form, &d.ctx.child_rules()).map_err(|e| {
        let first = e.0.into_iter().next();
        AppError::invalid(first.as_ref().map(|x| x.field.clone()).unwrap_or_default(), first.map(|x| x.message).unwrap_or_default())
    })?;
    let (_, placement) = d.ctx.provisional(&valid.facts.facts);
    let gid = s.id().to_string();
    let cipher = cipher(state);
    let k = ns_key.clone();
    let DraftCtx { draft, data, .. } = d;
    let hash = cipher.lookup_hash(&valid.id.number);
    let campaign = draft.campaign_id.clone();
    let except = draft.application_id.clone();
    let result = state
        .db
        .write(move |c| {
            dbr::submit(
                c,
                dbr::SubmitInput { guardian_id: &gid, draft: &draft, data: &data, child: &valid, placement, key: &k, cipher: &cipher },
            )
        })
        .await;
    match result {
        // Lost a race: the same key committed first, or the same child was registered meanwhile.
        Err(AppError::Conflict { code: "duplicate", .. }) => {
            let k = ns_key.clone();
            if let Some(done) = state.db.run(move |c| dbr::remembered(c, &k)).await? {
                return Ok(Submitted { created: false, ..done });
            }
            let existing = state.db.run(move |c| dbr::existing_child(c, &campaign, &hash, except.as_deref())).await?;
            match existing {
                Some(e) => Err(AppError::Conflict { code: "duplicate_child", message: e.message(), field: Some("id_number".into()) }),
                None => Err(AppError::conflict("duplicate", "提交冲突，请刷新页面后重试")),
            }
        }
        other => other,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TimelineStep {
    pub label: String,
    pub at: Option<String>,
    pub note: String,
    pub done: bool,
}

/// The status page's content.
#[derive(Debug, Clone, Serialize)]
pub struct StatusView {
    pub application_id: String,
    pub registration_no: String,
    pub campaign_id: String,
    pub campaign_name: String,
    pub child_name: String,
    pub id_number_masked: String,
    pub birth_date: String,
    pub sex: String,
    pub status: String,
    pub status_label: String,
    pub submitted_at: String,
    pub editable: bool,
    pub edit_until: String,
    /// The catchment school or zone: provisional until approved.
    pub provisional: bool,
    pub school_name: Option<String>,
    pub zone_name: Option<String>,
    pub category: Option<String>,
    pub explanation: Option<String>,
    pub family_id: Option<String>,
    pub timeline: Vec<TimelineStep>,
    pub documents: Vec<DocView>,
}

pub async fn status(state: &AppState, s: &GuardianSession, app_id: &str) -> Result<StatusView, AppError> {
    let (gid, id) = (s.id().to_string(), app_id.to_string());
    let (v, ctx) = state
        .db
        .run(move |c| {
            let v = dbr::application_view(c, &gid, &id)?;
            let ctx = CampaignCtx::load(c, &v.application.campaign_id)?;
            Ok((v, ctx))
        })
        .await?;
    let a = &v.application;
    let now = db::now();
    let editable = a.status == "submitted" && dbr::registration_open(&v.campaign, now).is_ok();
    let approved = matches!(a.status.as_str(), "approved" | "in_draw" | "offered" | "accepted" | "declined" | "waitlisted");
    let facts: Option<forms::StoredFacts> = serde_json::from_str(&a.facts_json).ok();
    let prov = facts.as_ref().map(|f| ctx.provisional(&f.facts).0).unwrap_or_default();
    let category = if approved && a.category.is_some() {
        a.category.as_ref().map(|c| {
            let label = ctx.policy.categories.iter().position(|x| &x.code == c).map(|i| {
                format!("{}（{}）", crate::policy::tier_name(i + 1), ctx.policy.categories[i].label)
            });
            label.unwrap_or_else(|| c.clone())
        })
    } else {
        prov.category_label.clone()
    };
    let school_name = v.school_name.clone().or(prov.school_name.clone());
    let zone_name = v.zone_name.clone().or(prov.zone_name.clone());
    let mut timeline: Vec<TimelineStep> = v
        .events
        .iter()
        .map(|e| {
            let mut note = e.note.clone();
            if e.status == "approved" {
                let place = school_name.clone().or(zone_name.clone()).unwrap_or_else(|| "由教育局统筹安排".into());
                note = format!("对口学校（片区）：{place}；类别：{}{}", category.clone().unwrap_or_else(|| "—".into()), if note.is_empty() { String::new() } else { format!("；{note}") });
            }
            TimelineStep { label: status_label(&e.status).to_string(), at: Some(fmt_time(e.at)), note, done: true }
        })
        .collect();
    let past = |t: NaiveDateTime| now >= t;
    if !approved && !matches!(a.status.as_str(), "rejected") {
        timeline.push(TimelineStep {
            label: "资格审核".into(),
            at: Some(format!("{} 前完成", fmt_time(v.campaign.review_deadline))),
            note: "审核通过后显示对口学校和类别".into(),
            done: false,
        });
    }
    if a.status != "rejected" {
        timeline.push(TimelineStep {
            label: "电脑派位日".into(),
            at: Some(fmt_time(v.campaign.draw_day)),
            note: "派位公开进行，结果可由任何人复核".into(),
            done: past(v.campaign.draw_day),
        });
    }
    for (o, school) in &v.offers {
        let (label, note) = match o.status.as_str() {
            "offered" => ("录取结果", format!("{school}，请于 {} 前确认", fmt_time(o.deadline))),
            "accepted" => ("已确认入学", school.clone()),
            "declined" => ("已放弃学位", school.clone()),
            "expired" => ("逾期未确认", school.clone()),
            _ => ("学位已撤回", school.clone()),
        };
        timeline.push(TimelineStep { label: label.into(), at: Some(fmt_time(o.responded_at.unwrap_or(o.offered_at))), note, done: true });
    }
    if v.offers.is_empty() && a.status != "rejected" {
        timeline.push(TimelineStep {
            label: "录取结果与确认".into(),
            at: Some(format!("{} 前确认", fmt_time(v.campaign.offer_deadline))),
            note: String::new(),
            done: false,
        });
    }
    Ok(StatusView {
        application_id: a.id.clone(),
        registration_no: a.registration_no.clone(),
        campaign_id: v.campaign.id.clone(),
        campaign_name: v.campaign.name.clone(),
        child_name: v.child.name.clone(),
        id_number_masked: v.child.id_number_masked.clone(),
        birth_date: fmt_date(v.child.birth_date),
        sex: v.child.sex.clone(),
        status: a.status.clone(),
        status_label: status_label(&a.status).to_string(),
        submitted_at: fmt_time(a.submitted_at),
        editable,
        edit_until: fmt_time(v.campaign.registration_closes),
        provisional: !approved,
        school_name,
        zone_name,
        category,
        explanation: if approved { a.explanation.clone() } else { prov.explanation.clone() },
        family_id: a.family_id.clone(),
        timeline,
        documents: v.documents.iter().map(|x| doc_view(&x.kind, &x.mime, x.size_bytes)).collect(),
    })
}

/// Starts an edit of a submitted application: a draft holding its current data.
pub async fn start_edit(state: &AppState, s: &GuardianSession, app_id: &str) -> Result<String, AppError> {
    let (gid, id) = (s.id().to_string(), app_id.to_string());
    let cipher = cipher(state);
    state
        .db
        .write(move |c| {
            let v = dbr::application_view(c, &gid, &id)?;
            if v.application.status != "submitted" {
                return Err(AppError::conflict("review_started", "报名已进入审核，不能再修改；如有变化请联系招生办"));
            }
            dbr::registration_open(&v.campaign, db::now())?;
            // Reuse an open edit of the same application.
            if let Some(open) = dbr::open_drafts(c, &gid)?.into_iter().find(|d| d.application_id.as_deref() == Some(id.as_str())) {
                return Ok(open.id);
            }
            let facts: forms::StoredFacts = serde_json::from_str(&v.application.facts_json).map_err(AppError::internal)?;
            let number = cipher.decrypt(&v.child.id_number_enc).map_err(AppError::internal)?;
            let mut form = ChildForm::from_stored(&v.child.name, "", &facts);
            form.id_number = String::new();
            let data = DraftData {
                child: Some(form),
                id_number_enc: Some(cipher.encrypt(&number)),
                documents: v
                    .documents
                    .iter()
                    .map(|d| DraftDocument { kind: d.kind.clone(), content_hash: d.content_hash.clone(), mime: d.mime.clone(), size_bytes: d.size_bytes })
                    .collect(),
            };
            Ok(dbr::create_draft(c, &gid, &v.campaign.id, Some(&id), &data)?.id)
        })
        .await
}

/// Starts a new registration in an open campaign.
pub async fn start_draft(state: &AppState, s: &GuardianSession, campaign_id: &str) -> Result<String, AppError> {
    let (gid, cid) = (s.id().to_string(), campaign_id.to_string());
    state
        .db
        .write(move |c| {
            let campaign = db::catchment::load_campaign(c, &cid).map_err(|_| AppError::NotFound)?;
            dbr::registration_open(&campaign, db::now())?;
            // One open new-registration draft per campaign is enough; reuse it.
            if let Some(open) = dbr::open_drafts(c, &gid)?.into_iter().find(|d| d.campaign_id == cid && d.application_id.is_none()) {
                return Ok(open.id);
            }
            Ok(dbr::create_draft(c, &gid, &cid, None, &DraftData::default())?.id)
        })
        .await
}

/// A campaign's notice: dates and the policy in a few lines.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeView {
    pub id: String,
    pub name: String,
    pub grade: i32,
    pub status: String,
    pub open: bool,
    pub opens: String,
    pub closes: String,
    pub review_deadline: String,
    pub draw_day: String,
    pub offer_deadline: String,
    pub age_rule: String,
    pub policy_name: String,
    pub policy_version: String,
    pub description: Option<String>,
    pub categories: Vec<(String, String, String)>,
    pub care_kinds: Vec<String>,
    pub lottery: Vec<String>,
}

pub fn notice(ctx: &CampaignCtx) -> NoticeView {
    let c = &ctx.campaign;
    let rule = forms::age_rule(c.min_age, c.max_age, &c.age_cutoff);
    let cutoff = rule.cutoff_date(c.year);
    NoticeView {
        id: c.id.clone(),
        name: c.name.clone(),
        grade: c.grade,
        status: c.status.clone(),
        open: dbr::registration_open(c, db::now()).is_ok(),
        opens: fmt_time(c.registration_opens),
        closes: fmt_time(c.registration_closes),
        review_deadline: fmt_time(c.review_deadline),
        draw_day: fmt_time(c.draw_day),
        offer_deadline: fmt_time(c.offer_deadline),
        age_rule: format!(
            "{}（含当日）前年满 {} 周岁、未满 {} 周岁",
            fmt_date(cutoff),
            c.min_age,
            c.max_age + 1
        ),
        policy_name: ctx.policy.name.clone(),
        policy_version: ctx.policy.version.clone(),
        description: ctx.policy.description.clone(),
        categories: ctx
            .policy
            .categories
            .iter()
            .enumerate()
            .map(|(i, cat)| (crate::policy::tier_name(i + 1), cat.label.clone(), cat.condition.describe()))
            .collect(),
        care_kinds: ctx.policy.care.kinds.clone(),
        lottery: ctx.policy.lottery.iter().filter_map(|l| l.note.clone()).collect(),
    }
}
