//! A guardian's registration, for the pages and the JSON API alike: drafts,
//! the child step, uploads, the review, submit, the status page and edits.
//! Every function takes the guardian's id from the validated session.

use super::Ctx;
use crate::db;
use crate::db::models::Campaign;
use crate::db::registration::{self as dbr, DraftRow, Submitted};
use crate::error::AppError;
use crate::policy::Policy;
use crate::registration::draft::{self, DraftData, DraftDocument};
use crate::registration::forms::{self, ChildForm, FieldErrors, ValidChild};
use crate::registration::upload::{self, DocumentKind};
use chrono::NaiveDate;
use serde::Serialize;
use std::path::Path;

use crate::registration::campaign::registration_open;
pub use crate::registration::campaign::{fmt_date, fmt_time, CampaignCtx, Provisional};
use crate::registration::status::{open_supplement, OpenSupplement};
pub use crate::registration::status::{StatusView, TimelineStep};
pub use crate::registration::upload::{doc_view, human_size, DocView};
use crate::review::supplement;

/// Today in Beijing.
pub fn today() -> NaiveDate {
    crate::registration::campaign::local(db::now()).date()
}

/// A campaign with its policy, rules and form choices, from the cache when
/// nothing changed since it was read, else from the database. Two primary-key
/// reads decide: the `campaign_ctx_version` counter (bumped with every change
/// to rules, plans, zones or policy) and the campaign row itself (so that
/// even a change made by hand to a campaign's dates, phase or policy is seen
/// at once).
pub fn campaign_ctx(cache: &crate::service::CampaignCache, conn: &mut db::DbConn, campaign_id: &str) -> Result<CampaignCtx, AppError> {
    let version = db::campaign_ctx_version(conn)?;
    if let Some(ctx) = cache.get(campaign_id, version) {
        let campaign = db::catchment::load_campaign(conn, campaign_id).map_err(|_| AppError::NotFound)?;
        if campaign == ctx.campaign {
            return Ok(ctx);
        }
    }
    let ctx = load_campaign_ctx(conn, campaign_id)?;
    cache.put(campaign_id, version, ctx.clone());
    Ok(ctx)
}

/// Loads a campaign with its policy, rules and form choices.
pub fn load_campaign_ctx(conn: &mut db::DbConn, campaign_id: &str) -> Result<CampaignCtx, AppError> {
    let campaign = db::catchment::load_campaign(conn, campaign_id).map_err(|_| AppError::NotFound)?;
    let policy = Policy::load_toml(&campaign.policy_toml).map_err(|e| AppError::internal(format!("campaign {campaign_id} policy: {e}")))?;
    let rules = db::catchment::load_rules(conn, campaign_id)?;
    let directory = db::catchment::load_directory(conn, campaign_id)?;
    let townships = dbr::township_names(conn)?;
    let schools = dbr::schools_for(conn, &campaign)?;
    let school_ids = db::catchment::school_ids_by_code(conn)?;
    let zone_ids = db::catchment::zone_ids_by_code(conn, campaign_id)?;
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
    /// The draft answers this supplement request of its application.
    pub answering: Option<OpenSupplement>,
}

pub async fn load_draft(cx: &Ctx, guardian_id: &str, draft_id: &str) -> Result<DraftCtx, AppError> {
    let (gid, id) = (guardian_id.to_string(), draft_id.to_string());
    let cache = cx.campaigns.clone();
    cx.db
        .run(move |c| {
            let draft = dbr::draft(c, &gid, &id)?;
            let data = draft.data()?;
            let ctx = campaign_ctx(&cache, c, &draft.campaign_id)?;
            let answering = match (&draft.application_id, draft.status.as_str()) {
                (Some(app_id), "open") => match db::review::application(c, app_id)? {
                    Some(app) => open_supplement(app.status, &db::review::latest_supplement(c, app_id)?),
                    None => None,
                },
                _ => None,
            };
            Ok(DraftCtx { draft, data, ctx, answering })
        })
        .await
}

/// An open draft of an open campaign, or one answering a supplement request
/// before its deadline, ready to change.
pub fn check_editable(d: &DraftCtx) -> Result<(), AppError> {
    if d.draft.status != "open" {
        return Err(AppError::conflict("draft_submitted", "这份报名已经提交，请在“我的报名”中查看"));
    }
    match &d.answering {
        Some(s) => supplement_window(s, db::now()),
        None => registration_open(&d.ctx.campaign, db::now()),
    }
}

fn supplement_window(s: &OpenSupplement, at: chrono::NaiveDateTime) -> Result<(), AppError> {
    if supplement::is_open(s.deadline, at) {
        Ok(())
    } else {
        Err(AppError::conflict("supplement_expired", format!("补充材料已于 {} 截止，不能再提交；如有疑问请联系招生办", s.deadline_text)))
    }
}

/// The child form with the stored ID number decrypted (the guardian's own page).
pub fn child_form(cx: &Ctx, data: &DraftData) -> Option<ChildForm> {
    let mut f = data.child.clone()?;
    if let Some(enc) = &data.id_number_enc {
        f.id_number = cx.cipher().decrypt(enc).unwrap_or_default();
    }
    Some(f)
}

/// Validates the child step against the campaign and stores it in the draft.
pub async fn save_child(cx: &Ctx, guardian_id: &str, draft_id: &str, form: ChildForm) -> Result<ValidChild, StepError> {
    let d = load_draft(cx, guardian_id, draft_id).await?;
    check_editable(&d)?;
    check_duplicate_budget(cx, guardian_id).await?;
    let valid = forms::validate_child(&form, &d.ctx.child_rules(today())).map_err(StepError::Fields)?;
    let cipher = cx.cipher();
    let hash = cipher.lookup_hash(&valid.id.number);
    let enc = cipher.encrypt(&valid.id.number);
    let mut data = d.data.clone();
    let mut stored = form.clone();
    stored.id_number = String::new();
    data.child = Some(stored);
    data.id_number_enc = Some(enc);
    let (campaign, except, draft_id) = (d.draft.campaign_id.clone(), d.draft.application_id.clone(), d.draft.id.clone());
    let existing = cx
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
        count_duplicate_hit(cx, guardian_id, &e).await?;
        let mut errs = FieldErrors::default();
        errs.add("id_number", duplicate_message(cx, guardian_id, &e));
        return Err(StepError::Fields(errs));
    }
    Ok(valid)
}

/// The window of the duplicate-hit limit: an hour.
const DUPLICATE_WINDOW_SECS: i64 = 3600;

fn duplicate_bucket(guardian_id: &str, now: i64) -> (String, i64) {
    (crate::db::ratelimit::bucket("duplicate", guardian_id), now.div_euclid(DUPLICATE_WINDOW_SECS) * DUPLICATE_WINDOW_SECS)
}

/// Refuses with 429 a guardian who has already run into
/// `ratelimit.duplicate_hits_per_hour` ID numbers registered by other
/// families this hour: the refusal tells whether a child is registered, and
/// trying computed ID numbers must not become a way to find out whose.
async fn check_duplicate_budget(cx: &Ctx, guardian_id: &str) -> Result<(), AppError> {
    let now = chrono::Utc::now().timestamp();
    let (b, start) = duplicate_bucket(guardian_id, now);
    let hits = cx.db.run(move |c| crate::db::ratelimit::current(c, &b, start).map_err(Into::into)).await?;
    if hits >= i64::from(cx.settings.ratelimit.duplicate_hits_per_hour.max(1)) {
        return Err(AppError::Throttled { retry_after_secs: (start + DUPLICATE_WINDOW_SECS - now).max(1) as u64 });
    }
    Ok(())
}

/// Counts a hit on another family's child (one's own is no probe).
async fn count_duplicate_hit(cx: &Ctx, guardian_id: &str, e: &dbr::ExistingChild) -> Result<(), AppError> {
    if e.guardian_id == guardian_id {
        return Ok(());
    }
    let (b, start) = duplicate_bucket(guardian_id, chrono::Utc::now().timestamp());
    cx.db.run(move |c| crate::db::ratelimit::hit(c, &b, start).map_err(Into::into)).await?;
    tracing::warn!("an ID number registered by another family was entered");
    Ok(())
}

/// The refusal of an ID number registered already: the other family's
/// registration stays unnamed ([`forms::duplicate_id_message`]).
fn duplicate_message(cx: &Ctx, guardian_id: &str, e: &dbr::ExistingChild) -> String {
    let own = (e.guardian_id == guardian_id).then_some(e.registration_no.as_str());
    forms::duplicate_id_message(own, &cx.settings.bureau.name, &cx.settings.bureau.phone)
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
    /// The stored name of an uploaded file this one replaces (a wrong
    /// upload corrected in one step), or empty.
    pub replace: String,
}

pub fn too_large(max: usize) -> AppError {
    AppError::PayloadTooLarge {
        field: Some("file".into()), message: format!("文件超过 {} 上限，请压缩或重新拍照后上传", human_size(max))
    }
}

/// Checks, strips and stores one upload, and lists it in the draft.
pub async fn add_document(cx: &Ctx, guardian_id: &str, draft_id: &str, form: UploadForm) -> Result<DraftDocument, AppError> {
    let kind = DocumentKind::from_code(&form.kind).ok_or_else(|| AppError::invalid("kind", "请选择材料类别"))?;
    let bytes = form.file.filter(|b| !b.is_empty()).ok_or_else(|| AppError::invalid("file", "请选择要上传的文件"))?;
    let d = load_draft(cx, guardian_id, draft_id).await?;
    check_editable(&d)?;
    let replace = Some(form.replace.trim().to_string()).filter(|r| !r.is_empty());
    if let Some(r) = &replace {
        if !d.data.documents.iter().any(|x| &x.content_hash == r) {
            return Err(AppError::invalid("replace", "要替换的文件已不在这份报名中，请刷新页面后重试"));
        }
    }
    if replace.is_none() && d.data.documents.len() >= draft::MAX_DOCUMENTS {
        return Err(AppError::invalid("file", format!("每份报名最多上传 {} 个文件", draft::MAX_DOCUMENTS)));
    }
    let max = cx.settings.uploads.max_bytes;
    let limits = cx.settings.uploads.image_limits();
    let prepared = actix_web::web::block(move || upload::sanitise(&bytes, max as u64, limits)).await.map_err(AppError::internal)?.map_err(
        |e| match e {
            upload::UploadError::TooLarge { .. } => too_large(max),
            other => AppError::invalid("file", other.to_string()),
        },
    )?;
    let doc = DraftDocument {
        kind: kind.code().to_string(),
        content_hash: prepared.storage_name.clone(),
        mime: prepared.kind.mime().to_string(),
        size_bytes: prepared.bytes.len() as i64,
    };
    let dir = cx.settings.uploads.dir.clone();
    let name = prepared.storage_name.clone();
    actix_web::web::block(move || store_file(&dir, &name, &prepared.bytes))
        .await
        .map_err(AppError::internal)?
        .map_err(|e| AppError::internal(format!("storing upload: {e}")))?;
    let (id, doc2) = (d.draft.id.clone(), doc.clone());
    let gid = guardian_id.to_string();
    cx.db
        .write(move |c| {
            // Re-read inside the transaction so two uploads at once both stay.
            let row = dbr::draft(c, &gid, &id)?;
            let mut data = row.data()?;
            if let Some(r) = &replace {
                data.documents.retain(|x| &x.content_hash != r);
            }
            if !data.documents.iter().any(|x| x.kind == doc2.kind && x.content_hash == doc2.content_hash) {
                data.documents.push(doc2);
            }
            dbr::save_draft(c, &id, &data)
        })
        .await?;
    Ok(doc)
}

/// Takes a wrong upload out of a draft before submit: every entry with this
/// stored name (and this kind, when given). Drafts are not audited (uploads
/// are not either); the submit records what the application holds. The
/// stored file itself stays: files are shared by content hash.
pub async fn remove_document(
    cx: &Ctx,
    guardian_id: &str,
    draft_id: &str,
    content_hash: &str,
    kind: Option<&str>,
) -> Result<DraftData, AppError> {
    let d = load_draft(cx, guardian_id, draft_id).await?;
    check_editable(&d)?;
    let (gid, id, hash, kind) = (guardian_id.to_string(), d.draft.id.clone(), content_hash.to_string(), kind.map(str::to_string));
    cx.db
        .write(move |c| {
            let row = dbr::draft(c, &gid, &id)?;
            let mut data = row.data()?;
            let before = data.documents.len();
            data.documents.retain(|x| !(x.content_hash == hash && kind.as_ref().map_or(true, |k| &x.kind == k)));
            if data.documents.len() == before {
                return Err(AppError::NotFound);
            }
            dbr::save_draft(c, &id, &data)?;
            Ok(data)
        })
        .await
}

/// The review page's content.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    /// The supplement request this draft answers.
    pub answering: Option<OpenSupplement>,
}

pub async fn review(cx: &Ctx, guardian_id: &str, draft_id: &str) -> Result<ReviewView, AppError> {
    let d = load_draft(cx, guardian_id, draft_id).await?;
    let form = child_form(cx, &d.data).ok_or_else(|| AppError::conflict("child_missing", "请先填写儿童信息"))?;
    let mut problems = Vec::new();
    let valid = match forms::validate_child(&form, &d.ctx.child_rules(today())) {
        Ok(v) => v,
        Err(e) => {
            return Err(AppError::invalid(
                e.0.first().map(|x| x.field.clone()).unwrap_or_default(),
                e.0.first().map(|x| x.message.clone()).unwrap_or_default(),
            ))
        }
    };
    let window = match &d.answering {
        Some(s) => supplement_window(s, db::now()),
        None => registration_open(&d.ctx.campaign, db::now()),
    };
    if let Err(e) = window {
        problems.push(e.public_message());
    }
    if let Some(request) = &d.answering {
        let (app_id, data) = (d.draft.application_id.clone().unwrap_or_default(), d.data.clone());
        let had = cx.db.run(move |c| db::review::documents_of(c, &app_id)).await?;
        let had: Vec<(String, String)> = had.into_iter().map(|x| (x.kind, x.content_hash)).collect();
        if let Err(e) = requested_documents_present(request, &had, &data) {
            problems.push(e.public_message());
        }
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
            let (app, gid) = (app.clone(), guardian_id.to_string());
            Some(cx.db.run(move |c| dbr::application_view(c, &gid, &app)).await?.application.registration_no)
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
        property: f.property.as_ref().map(|p| {
            let acquired = p.acquired_on.map(|d| format!("，取得日期：{}", fmt_date(d))).unwrap_or_default();
            format!("{}（不动产权证号：{}{acquired}）", p.address.display(), p.certificate_no)
        }),
        property_owner: f
            .property
            .as_ref()
            .map(|p| format!("{}（{}）", valid.facts.declared.property_owner_name.clone().unwrap_or_default(), p.owner_relation.label())),
        migrant: f.migrant.as_ref().map(|m| {
            let issued = m.permit_issued_on.map(fmt_date).unwrap_or_else(|| "未填".into());
            format!(
                "居住证号 {}，居住起始 {}，签发日期 {issued}，社保缴纳 {} 个月",
                m.permit_no,
                fmt_date(m.residence_start),
                m.social_insurance_months
            )
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
        answering: d.answering.clone(),
    })
}

/// Every document kind a supplement request asks for has a new upload in
/// the draft (one that the application did not already hold).
fn requested_documents_present(request: &OpenSupplement, had: &[(String, String)], data: &DraftData) -> Result<(), AppError> {
    for kind in &request.items.documents {
        let uploaded = data.documents.iter().any(|d| &d.kind == kind && !had.iter().any(|(k, h)| k == &d.kind && h == &d.content_hash));
        if !uploaded {
            let label = DocumentKind::from_code(kind).map(|k| k.label()).unwrap_or(kind.as_str());
            return Err(AppError::invalid(kind.clone(), format!("请上传审核要求补充的{label}后再提交")));
        }
    }
    Ok(())
}

/// Submits a draft. Safe to repeat: the same key, or the same draft, answers
/// with the same application.
///
/// A draft answering a supplement request sends the application back to
/// review with `reply` (the family's note to the reviewer), and records the
/// answer beside the request.
pub async fn submit(cx: &Ctx, guardian_id: &str, draft_id: &str, key: Option<&str>, reply: Option<&str>) -> Result<Submitted, AppError> {
    let key = key.map(str::trim).filter(|k| !k.is_empty()).map(str::to_string).unwrap_or_else(|| format!("draft:{draft_id}"));
    if key.len() > 200 || key.chars().any(|c| c.is_control()) {
        return Err(AppError::invalid("idempotency_key", "请求标识无效"));
    }
    let ns_key = format!("guardian:{}:submit:{key}", guardian_id);
    let k = ns_key.clone();
    if let Some(done) = cx.db.run(move |c| dbr::remembered(c, &k)).await? {
        return Ok(Submitted { created: false, ..done });
    }
    let d = load_draft(cx, guardian_id, draft_id).await?;
    if d.draft.status == "submitted" {
        if let Some(app) = &d.draft.application_id {
            let (app, gid) = (app.clone(), guardian_id.to_string());
            let view = cx.db.run(move |c| dbr::application_view(c, &gid, &app)).await?;
            return Ok(Submitted {
                application_id: view.application.id,
                registration_no: view.application.registration_no,
                created: false,
                status: Some(view.application.status),
            });
        }
    }
    check_editable(&d)?;
    let reply = supplement::check_reply(reply.unwrap_or("")).map_err(|(f, m)| AppError::invalid(f, m))?;
    let missing = draft::missing_documents(&d.data);
    if let Some((kind, why)) = missing.first() {
        return Err(AppError::invalid(*kind, format!("请上传{why}后再提交")));
    }
    let form = child_form(cx, &d.data).ok_or_else(|| AppError::invalid("child_name", "请先填写儿童信息"))?;
    let valid = forms::validate_child(&form, &d.ctx.child_rules(today())).map_err(|e| {
        let first = e.0.into_iter().next();
        AppError::invalid(first.as_ref().map(|x| x.field.clone()).unwrap_or_default(), first.map(|x| x.message).unwrap_or_default())
    })?;
    let (_, placement) = d.ctx.provisional(&valid.facts.facts);
    let gid = guardian_id.to_string();
    let cipher = cx.cipher();
    let k = ns_key.clone();
    let DraftCtx { draft, data, answering, .. } = d;
    let hash = cipher.lookup_hash(&valid.id.number);
    let campaign = draft.campaign_id.clone();
    let campaign_of_draft = draft.campaign_id.clone();
    let except = draft.application_id.clone();
    let settings = cx.settings.clone();
    if !cx.campaigns.registration_sequences.lock().unwrap_or_else(|p| p.into_inner()).contains(&campaign) {
        let cid = campaign.clone();
        cx.db.run(move |c| dbr::ensure_registration_sequence(c, &cid)).await?;
        cx.campaigns.registration_sequences.lock().unwrap_or_else(|p| p.into_inner()).insert(campaign.clone());
    }
    let result = cx
        .db
        .write(move |c| {
            let input = dbr::SubmitInput {
                guardian_id: &gid,
                draft: &draft,
                data: &data,
                child: &valid,
                placement,
                key: &k,
                cipher: &cipher,
                answering: None,
            };
            let done = match &answering {
                None => dbr::submit(c, input)?,
                Some(request) => answer_supplement(c, &gid, request, &reply, input)?,
            };
            if done.created {
                // 报名已受理, in the same transaction as the application.
                let campaign_name = db::review::campaign(c, &campaign_of_draft)?.name;
                let event = crate::notify::Event::Received {
                    application_id: done.application_id.clone(),
                    registration_no: done.registration_no.clone(),
                    campaign_name,
                    at: db::now(),
                };
                let target = super::notify::Target {
                    guardian_id: &gid,
                    application_id: Some(&done.application_id),
                    campaign_id: Some(&campaign_of_draft),
                };
                super::notify::enqueue(c, &settings, target, &event, db::now())?;
            }
            Ok(done)
        })
        .await;
    match result {
        // Lost a race: the same key committed first, or the same child was registered meanwhile.
        Err(AppError::Conflict { code: "duplicate" | "duplicate_child", .. }) => {
            let k = ns_key.clone();
            if let Some(done) = cx.db.run(move |c| dbr::remembered(c, &k)).await? {
                return Ok(Submitted { created: false, ..done });
            }
            let existing = cx.db.run(move |c| dbr::existing_child(c, &campaign, &hash, except.as_deref())).await?;
            match existing {
                Some(e) => {
                    count_duplicate_hit(cx, guardian_id, &e).await?;
                    Err(AppError::Conflict {
                        code: "duplicate_child",
                        message: duplicate_message(cx, guardian_id, &e),
                        field: Some("id_number".into()),
                    })
                }
                None => Err(AppError::conflict("duplicate", "提交冲突，请刷新页面后重试")),
            }
        }
        other => other,
    }
}

/// Applies a supplement answer in the caller's transaction: checks that the
/// request is still the open one and within its deadline, applies the edit
/// (back to review), and records the answer beside the request (what was
/// uploaded, what changed) with its audit entry.
fn answer_supplement(
    c: &mut db::DbConn,
    guardian_id: &str,
    request: &OpenSupplement,
    reply: &str,
    mut input: dbr::SubmitInput<'_>,
) -> Result<Submitted, AppError> {
    let app_id = input.draft.application_id.clone().ok_or(AppError::NotFound)?;
    let app = db::review::application(c, &app_id)?.ok_or(AppError::NotFound)?;
    let still_open = open_supplement(app.status, &db::review::latest_supplement(c, &app_id)?)
        .filter(|o| o.decision_id == request.decision_id)
        .ok_or_else(|| AppError::conflict("supplement_closed", "这项补充材料要求已经处理，不能再提交"))?;
    let t = db::now();
    supplement_window(&still_open, t)?;
    let rows = |name: &str, masked: &str, f: &forms::StoredFacts| {
        let mut r = vec![("儿童姓名".to_string(), name.to_string()), ("身份证号码".to_string(), masked.to_string())];
        r.extend(crate::review::facts_rows(&f.facts));
        r
    };
    let before_child = db::review::child_of(c, &app.child_id)?;
    let before_facts: forms::StoredFacts = serde_json::from_str(&app.facts_json).map_err(AppError::internal)?;
    let before = rows(&before_child.name, &before_child.id_number_masked, &before_facts);
    let had: Vec<(String, String)> = db::review::documents_of(c, &app_id)?.into_iter().map(|d| (d.kind, d.content_hash)).collect();
    requested_documents_present(&still_open, &had, input.data)?;
    let note =
        if reply.is_empty() { "家长已补充材料，等待审核".to_string() } else { format!("家长已补充材料：{reply}") };
    let (child, data) = (input.child, input.data);
    input.answering = Some(note);
    let submitted = dbr::submit(c, input)?;
    let after = rows(&child.name, &crate::identity::mask_id(&child.id.number), &child.facts);
    let changes = supplement::changes(&before, &after);
    let added: Vec<String> =
        data.documents.iter().filter(|d| !had.iter().any(|(k, h)| k == &d.kind && h == &d.content_hash)).map(|d| d.kind.clone()).collect();
    let response = db::review::SupplementResponse {
        id: db::new_id(),
        decision_id: request.decision_id.clone(),
        application_id: app_id.clone(),
        outcome: "answered".into(),
        reply: reply.to_string(),
        documents_json: serde_json::to_string(&added).map_err(AppError::internal)?,
        changes_json: serde_json::to_string(&changes).map_err(AppError::internal)?,
        at: t,
    };
    if !db::review::insert_supplement_response(c, &response)? {
        return Err(AppError::conflict("supplement_closed", "这项补充材料要求已经处理，不能再提交"));
    }
    // The audit names what changed, not the values (personal data stays in
    // the application's own rows).
    db::audit::append(
        c,
        &format!("guardian:{guardian_id}"),
        "application.supplement_answer",
        &format!("application:{app_id}"),
        Some(&serde_json::json!({"status": app.status, "version": app.version, "request": request.decision_id})),
        Some(&serde_json::json!({
            "status": crate::domain::ApplicationStatus::UnderReview,
            "version": app.version + 1,
            "documents_added": added,
            "fields_changed": changes.iter().map(|c| c.label.clone()).collect::<Vec<_>>(),
            "reply_chars": reply.chars().count(),
        })),
    )?;
    Ok(submitted)
}

/// The status page of one of the guardian's applications.
pub async fn status(cx: &Ctx, guardian_id: &str, app_id: &str) -> Result<StatusView, AppError> {
    let (gid, id) = (guardian_id.to_string(), app_id.to_string());
    let cache = cx.campaigns.clone();
    let (v, ctx) = cx
        .db
        .run(move |c| {
            let v = dbr::application_view(c, &gid, &id)?;
            let ctx = campaign_ctx(&cache, c, &v.application.campaign_id)?;
            Ok((v, ctx))
        })
        .await?;
    let b = &cx.settings.bureau;
    let contact = crate::registration::status::Contact { name: b.name.clone(), phone: b.phone.clone() };
    Ok(crate::registration::status::status_view(&v, &ctx, db::now(), contact))
}

/// Withdraws a registration before review (撤回); the child may be
/// registered again afterwards, under a new registration number.
pub async fn withdraw(cx: &Ctx, guardian_id: &str, app_id: &str) -> Result<(), AppError> {
    let (gid, id) = (guardian_id.to_string(), app_id.to_string());
    let phone = cx.settings.bureau.phone.clone();
    let (actor, target) = (format!("guardian:{guardian_id}"), format!("application:{app_id}"));
    let r = cx
        .db
        .write(move |c| {
            let v = dbr::application_view(c, &gid, &id)?;
            super::draw::guard_application(c, &id)?;
            if v.application.status != crate::domain::ApplicationStatus::Submitted {
                return Err(AppError::conflict(
                    "review_started",
                    format!("报名已进入审核，不能在网上撤回；如需放弃报名请联系招生办（{phone}）"),
                ));
            }
            if !dbr::withdraw_application(c, &v.application, db::now())? {
                return Err(AppError::conflict("stale", "报名信息刚被修改过，请刷新页面后重试"));
            }
            db::audit::append(
                c,
                &format!("guardian:{gid}"),
                "application.withdraw",
                &format!("application:{id}"),
                Some(&serde_json::json!({"status": v.application.status, "version": v.application.version})),
                Some(&serde_json::json!({"status": crate::domain::ApplicationStatus::Withdrawn, "version": v.application.version + 1})),
            )?;
            Ok(())
        })
        .await;
    super::draw::audited(cx, &actor, &target, r).await
}

/// Files the family's review request of a rejection (复核申请), within the
/// campaign's appeal window; it is decided by a staff member other than the
/// one who rejected.
pub async fn appeal(cx: &Ctx, guardian_id: &str, app_id: &str, reason: &str) -> Result<(), AppError> {
    use crate::domain::ApplicationStatus;
    let reason = crate::review::appeal::check_reason(reason).map_err(|(f, m)| AppError::invalid(f, m))?;
    let (gid, id) = (guardian_id.to_string(), app_id.to_string());
    let (actor, target) = (format!("guardian:{guardian_id}"), format!("application:{app_id}"));
    let r = cx
        .db
        .write(move |c| {
            let v = dbr::application_view(c, &gid, &id)?;
            super::draw::guard_application(c, &id)?;
            let a = &v.application;
            let rejected = v.events.iter().rev().find(|e| e.status == ApplicationStatus::Rejected);
            let t = db::now();
            crate::review::appeal::may_appeal(a.status, rejected.map(|e| e.at), v.campaign.appeal_days, v.appeal.is_some(), t)
                .map_err(|m| AppError::conflict("appeal_closed", m))?;
            // The deadline's rejections have no reviewer; a person's do.
            let rejected_by = match rejected.map(|e| e.actor.as_str()) {
                Some("system") => None,
                _ => db::review::latest_reject(c, &id)?.map(|d| d.reviewer_id),
            };
            let row = db::review::AppealRow {
                id: db::new_id(),
                application_id: id.clone(),
                rejected_by,
                reason: reason.clone(),
                filed_at: t,
                outcome: None,
                decided_by: None,
                decided_at: None,
            };
            if !db::review::insert_appeal(c, &row)? {
                return Err(AppError::conflict("appeal_closed", "这份报名已经申请过复核，复核结果为最终结果"));
            }
            if !db::review::update_application(c, &id, a.version, &super::review::keep(a, ApplicationStatus::Appealed))? {
                return Err(AppError::conflict("stale", "报名信息刚被修改过，请刷新页面后重试"));
            }
            db::review::insert_event(
                c,
                &crate::db::models::ApplicationEvent {
                    id: db::new_id(),
                    application_id: id.clone(),
                    at: t,
                    status: ApplicationStatus::Appealed,
                    actor: "guardian".into(),
                    note: format!("监护人申请复核：{reason}"),
                },
            )?;
            db::audit::append(
                c,
                &format!("guardian:{gid}"),
                "application.appeal",
                &format!("application:{id}"),
                Some(&serde_json::json!({"status": a.status, "version": a.version})),
                Some(&serde_json::json!({"status": ApplicationStatus::Appealed, "version": a.version + 1, "appeal": row.id, "rejected_by": row.rejected_by})),
            )?;
            Ok(())
        })
        .await;
    super::draw::audited(cx, &actor, &target, r).await
}

/// Starts an edit of a submitted application: a draft holding its current data.
pub async fn start_edit(cx: &Ctx, guardian_id: &str, app_id: &str) -> Result<String, AppError> {
    let (gid, id) = (guardian_id.to_string(), app_id.to_string());
    let cipher = cx.cipher();
    let (actor, target) = (format!("guardian:{guardian_id}"), format!("application:{app_id}"));
    let r = cx
        .db
        .write(move |c| {
            let v = dbr::application_view(c, &gid, &id)?;
            super::draw::guard_application(c, &id)?;
            if v.application.status != crate::domain::ApplicationStatus::Submitted {
                return Err(AppError::conflict("review_started", "报名已进入审核，不能再修改；如有变化请联系招生办"));
            }
            registration_open(&v.campaign, db::now())?;
            edit_draft(c, &gid, &v, &cipher)
        })
        .await;
    super::draw::audited(cx, &actor, &target, r).await
}

/// Starts the answer to the application's supplement request: a draft
/// holding its current data, in which the family uploads what was asked
/// for and corrects the fields, until the request's deadline.
pub async fn start_supplement(cx: &Ctx, guardian_id: &str, app_id: &str) -> Result<String, AppError> {
    let (gid, id) = (guardian_id.to_string(), app_id.to_string());
    let cipher = cx.cipher();
    let (actor, target) = (format!("guardian:{guardian_id}"), format!("application:{app_id}"));
    let r = cx
        .db
        .write(move |c| {
            let v = dbr::application_view(c, &gid, &id)?;
            super::draw::guard_application(c, &id)?;
            let open = open_supplement(v.application.status, &v.supplement)
                .ok_or_else(|| AppError::conflict("no_supplement", "这份报名目前不需要补充材料"))?;
            supplement_window(&open, db::now())?;
            edit_draft(c, &gid, &v, &cipher)
        })
        .await;
    super::draw::audited(cx, &actor, &target, r).await
}

/// An open edit draft of the application (reused when one is open).
fn edit_draft(c: &mut db::DbConn, gid: &str, v: &dbr::ApplicationView, cipher: &crate::identity::IdCipher) -> Result<String, AppError> {
    let id = &v.application.id;
    if let Some(open) = dbr::open_drafts(c, gid)?.into_iter().find(|d| d.application_id.as_deref() == Some(id.as_str())) {
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
            .map(|d| DraftDocument {
                kind: d.kind.clone(),
                content_hash: d.content_hash.clone(),
                mime: d.mime.clone(),
                size_bytes: d.size_bytes,
            })
            .collect(),
    };
    Ok(dbr::create_draft(c, gid, &v.campaign.id, Some(id), &data)?.id)
}

/// Starts a new registration in an open campaign.
pub async fn start_draft(cx: &Ctx, guardian_id: &str, campaign_id: &str) -> Result<String, AppError> {
    let (gid, cid) = (guardian_id.to_string(), campaign_id.to_string());
    cx.db
        .write(move |c| {
            let campaign = db::catchment::load_campaign(c, &cid).map_err(|_| AppError::NotFound)?;
            registration_open(&campaign, db::now())?;
            // One open new-registration draft per campaign is enough; reuse it.
            if let Some(open) = dbr::open_drafts(c, &gid)?.into_iter().find(|d| d.campaign_id == cid && d.application_id.is_none()) {
                return Ok(open.id);
            }
            Ok(dbr::create_draft(c, &gid, &cid, None, &DraftData::default())?.id)
        })
        .await
}

/// A campaign's notice: dates and the policy in a few lines.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    /// (tier name, label, condition in words), in priority order.
    #[schema(value_type = Vec<Vec<String>>)]
    pub categories: Vec<(String, String, String)>,
    pub care_kinds: Vec<String>,
    pub lottery: Vec<String>,
    /// The whole policy as a readable notice (招生公告), generated from the
    /// same document the keys are computed from.
    pub policy: crate::policy::notice::PolicyNotice,
    /// This campaign's schools and zones decided by lottery alone.
    pub lottery_rules: Vec<String>,
}

/// `foreign_zones`: zone names of other campaigns
/// ([`db::catchment::zone_names_elsewhere`]), left out of this notice.
pub fn notice(ctx: &CampaignCtx, foreign_zones: &[String]) -> NoticeView {
    let c = &ctx.campaign;
    let own = |t: &str| crate::registration::campaign::own_clauses(t, foreign_zones);
    let rule = forms::age_rule(c.min_age, c.max_age, &c.age_cutoff);
    let cutoff = rule.cutoff_date(c.year);
    NoticeView {
        id: c.id.clone(),
        name: c.name.clone(),
        grade: c.grade,
        status: c.status.to_string(),
        open: registration_open(c, db::now()).is_ok(),
        opens: fmt_time(c.registration_opens),
        closes: fmt_time(c.registration_closes),
        review_deadline: fmt_time(c.review_deadline),
        draw_day: fmt_time(c.draw_day),
        offer_deadline: fmt_time(c.offer_deadline),
        age_rule: format!("{}（含当日）前年满 {} 周岁、未满 {} 周岁", fmt_date(cutoff), c.min_age, c.max_age + 1),
        policy_name: ctx.policy.name.clone(),
        policy_version: ctx.policy.version.clone(),
        description: ctx.policy.description.as_deref().and_then(own),
        categories: ctx
            .policy
            .categories
            .iter()
            .enumerate()
            .map(|(i, cat)| (crate::policy::tier_name(i + 1), cat.label.clone(), cat.condition.describe()))
            .collect(),
        care_kinds: ctx.policy.care.kinds.clone(),
        // Only the draws of this campaign's schools and zones.
        lottery: ctx.policy.lottery.iter().filter(|l| ctx.assigns(&l.target)).filter_map(|l| l.note.as_deref().and_then(own)).collect(),
        lottery_rules: ctx
            .policy
            .lottery
            .iter()
            .filter(|l| ctx.assigns(&l.target))
            .map(|l| {
                use crate::catchment::Directory;
                let name =
                    ctx.directory.school_name(&l.target).or_else(|| ctx.directory.zone_name(&l.target)).unwrap_or_else(|| l.target.clone());
                format!("{name}：不分顺位，全部由电脑派位确定{}", if l.keep_policy_care { "（政策性照顾对象仍优先录取）" } else { "" })
            })
            .collect(),
        policy: {
            let mut n = crate::policy::notice::notice(&ctx.policy);
            n.description = ctx.policy.description.as_deref().and_then(own);
            n
        },
    }
}

// ---------------------------------------------------------------- guardians

/// The guardian behind a session, if the account still exists.
pub async fn guardian(cx: &Ctx, guardian_id: &str) -> Result<Option<crate::db::models::Guardian>, AppError> {
    let gid = guardian_id.to_string();
    cx.db.run(move |c| dbr::guardian(c, &gid)).await
}

/// The guardian for a WeChat openid, created at the first login.
pub async fn guardian_for_openid(cx: &Ctx, openid: String, unionid: Option<String>) -> Result<crate::db::models::Guardian, AppError> {
    let (o, u) = (openid.clone(), unionid.clone());
    match cx.db.write(move |c| dbr::upsert_guardian(c, &o, u.as_deref())).await {
        // Two first logins at once: the other one created the row.
        Err(AppError::Conflict { .. }) => cx.db.write(move |c| dbr::upsert_guardian(c, &openid, unionid.as_deref())).await,
        other => other,
    }
}

/// Stores the guardian's validated profile.
pub async fn update_profile(cx: &Ctx, guardian_id: &str, v: &forms::ValidGuardian) -> Result<(), AppError> {
    let gid = guardian_id.to_string();
    let v = v.clone();
    cx.db.write(move |c| dbr::update_guardian(c, &gid, &v)).await
}

/// What the parent home page lists: open campaigns, and (when logged in)
/// the guardian's applications and open drafts.
pub struct Home {
    pub campaigns: Vec<Campaign>,
    pub applications: Vec<(crate::db::models::Application, crate::db::models::Child, String)>,
    pub drafts: Vec<DraftRow>,
}

pub async fn home(cx: &Ctx, guardian_id: Option<&str>) -> Result<Home, AppError> {
    let gid = guardian_id.map(str::to_string);
    cx.db
        .run(move |c| {
            let campaigns = dbr::open_campaigns(c, db::now())?;
            let (applications, drafts) = match &gid {
                Some(g) => (dbr::applications_of(c, g)?, dbr::open_drafts(c, g)?),
                None => (Vec::new(), Vec::new()),
            };
            Ok(Home { campaigns, applications, drafts })
        })
        .await
}

/// The guardian's applications, newest first: (application, child, campaign name).
pub async fn applications(
    cx: &Ctx,
    guardian_id: &str,
) -> Result<Vec<(crate::db::models::Application, crate::db::models::Child, String)>, AppError> {
    let gid = guardian_id.to_string();
    cx.db.run(move |c| dbr::applications_of(c, &gid)).await
}

/// The notices of the campaigns taking registrations now.
pub async fn open_notices(cx: &Ctx) -> Result<Vec<NoticeView>, AppError> {
    let cache = cx.campaigns.clone();
    cx.db
        .run(move |c| {
            let open = dbr::open_campaigns(c, db::now())?;
            open.iter()
                .map(|x| {
                    let foreign = db::catchment::zone_names_elsewhere(c, &x.id)?;
                    campaign_ctx(&cache, c, &x.id).map(|ctx| notice(&ctx, &foreign))
                })
                .collect()
        })
        .await
}

/// One campaign's notice.
pub async fn notice_of(cx: &Ctx, campaign_id: &str) -> Result<NoticeView, AppError> {
    let cid = campaign_id.to_string();
    let cache = cx.campaigns.clone();
    cx.db
        .run(move |c| {
            let ctx = campaign_ctx(&cache, c, &cid)?;
            let foreign = db::catchment::zone_names_elsewhere(c, &cid)?;
            Ok(notice(&ctx, &foreign))
        })
        .await
}
