//! JSON API mirroring the parent pages, under `/api/v1/registration`. The
//! guardian session comes from the same cookie (then state-changing calls
//! need the `X-CSRF-Token` header) or from `Authorization: Bearer <token>`
//! (`GET /api/v1/registration/session` hands one out). Field names are those
//! of the HTML forms. Described by `GET /api/openapi.json`.

use super::auth::GuardianSession;
use crate::error::AppError;
use crate::error::ErrorBody;
use crate::registration::forms::{self, ChildForm, FieldErrors, GuardianForm};
use crate::registration::session;
use crate::service::registration::{self as service, StepError};
use crate::web::openapi::FieldErrorsBody;
use crate::web::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// The logged-in guardian.
#[derive(Debug, Serialize, ToSchema)]
pub struct GuardianOut {
    pub id: String,
    pub name: String,
    /// 父亲, 母亲, …
    pub relation: String,
    pub mobile: String,
    /// Where notifications go by email (when chosen).
    pub email: Option<String>,
    /// `wechat`, `email` or `both`.
    pub notify: String,
    /// Name, relation and mobile are filled in (needed before registering).
    pub profile_complete: bool,
}

/// `GET /api/v1/registration/session`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionOut {
    pub guardian: GuardianOut,
    /// Repeat in `X-CSRF-Token` on state-changing calls made with the cookie.
    pub csrf_token: String,
    /// A bearer token for `Authorization: Bearer` (no CSRF header needed).
    pub token: String,
    /// Seconds the token is valid.
    pub expires_in: i64,
}

/// The campaigns taking registrations now, each with its notice.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignList {
    pub campaigns: Vec<service::NoticeView>,
}

/// A new draft (start, edit, supplement).
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftCreated {
    pub draft_id: String,
}

/// The multipart upload of one document.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// Document kind: `hukou`, `property_cert`, `purchase_contract`, `residence_permit`,
    /// `social_insurance`, `birth_cert`, `disability`, `policy_care`, `other`.
    kind: String,
    /// The photo (JPEG/PNG) or PDF.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The `content_hash` of an uploaded file this one replaces.
    replace: Option<String>,
    /// The CSRF token, when neither the header nor a bearer token is used.
    #[serde(rename = "_csrf")]
    csrf: Option<String>,
}

/// A stored upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentOut {
    pub kind: String,
    /// Removes or replaces this file.
    pub content_hash: String,
    pub mime: String,
    pub size_bytes: i64,
}

/// A submitted registration.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmitOut {
    pub application_id: String,
    /// 报名号.
    pub registration_no: String,
    #[schema(value_type = String)]
    pub status: crate::domain::ApplicationStatus,
    pub status_label: String,
    pub note: String,
}

/// One of the guardian's registrations.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationRow {
    pub id: String,
    pub registration_no: String,
    pub campaign_id: String,
    pub campaign_name: String,
    pub child_name: String,
    #[schema(value_type = String)]
    pub status: crate::domain::ApplicationStatus,
    pub status_label: String,
    /// Twins share a family id (one lottery number when the policy says so).
    pub family_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationList {
    pub applications: Vec<ApplicationRow>,
}

/// A document uploaded to a draft: the upload's view and the hash that removes or replaces it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftDocument {
    #[serde(flatten)]
    pub doc: crate::registration::upload::DocView,
    pub content_hash: String,
}

/// A document the draft still needs, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct MissingDocument {
    pub kind: String,
    pub label: String,
}

/// `GET /api/v1/registration/drafts/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftOut {
    pub id: String,
    pub campaign_id: String,
    /// `open` or `submitted`.
    pub status: String,
    /// The registration this draft edits or answers (or created).
    pub application_id: Option<String>,
    /// The child as entered (the ID number is not echoed).
    pub child: Option<ChildForm>,
    pub documents: Vec<DraftDocument>,
    pub missing_documents: Vec<MissingDocument>,
}

/// What the ID number says once the child is saved.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChildSaved {
    /// `YYYY-MM-DD`.
    pub birth_date: chrono::NaiveDate,
    /// 男 or 女.
    pub sex: String,
    /// Full years on the campaign's age cut-off.
    pub age: u32,
    /// Set when a legacy 15-digit number was converted.
    pub id_number_note: Option<String>,
}

/// A draft's uploads after one was removed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentsOut {
    pub documents: Vec<DraftDocument>,
    pub missing_documents: Vec<MissingDocument>,
}

type Api = Result<HttpResponse, AppError>;

fn csrf(req: &HttpRequest, s: &GuardianSession) -> Result<(), AppError> {
    let token = req.headers().get("X-CSRF-Token").and_then(|v| v.to_str().ok()).unwrap_or("");
    s.check_csrf(token)
}

/// 422 with the first problem in the usual `error` shape and all of them in `fields`.
pub fn fields_response(errors: &FieldErrors) -> HttpResponse {
    let first = errors.0.first();
    HttpResponse::UnprocessableEntity().json(json!({
        "error": {
            "code": "invalid",
            "message": first.map(|e| e.message.clone()).unwrap_or_default(),
            "field": first.map(|e| e.field.clone()),
        },
        "fields": errors.0,
    }))
}

fn guardian_out(s: &GuardianSession) -> GuardianOut {
    GuardianOut {
        id: s.guardian.id.clone(),
        name: s.guardian.name.clone(),
        relation: s.guardian.relation.clone(),
        mobile: s.guardian.phone.clone(),
        email: s.guardian.email.clone(),
        notify: s.guardian.notify_channels.clone(),
        profile_complete: s.profile_complete(),
    }
}

/// `GET /api/v1/registration/session`: who is logged in, the CSRF token, and a bearer token.
#[utoipa::path(get, path = "/api/v1/registration/session", tag = "parent", security(("guardian_bearer" = []), ("guardian_cookie" = [])), responses((status = 200, description = "当前登录的监护人、CSRF 令牌和 Bearer 令牌", body = SessionOut)))]
pub async fn session(state: web::Data<AppState>, s: GuardianSession) -> Api {
    let minutes = state.settings.security.session_minutes;
    let token = session::issue(
        state.settings.security.jwt_key.expose_secret().as_bytes(),
        s.id(),
        &s.claims.csrf,
        chrono::Utc::now().timestamp(),
        minutes,
    );
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(SessionOut {
        guardian: guardian_out(&s),
        csrf_token: s.claims.csrf.clone(),
        token,
        expires_in: minutes * 60,
    }))
}

#[utoipa::path(get, path = "/api/v1/registration/guardian", tag = "parent", security(("guardian_bearer" = []), ("guardian_cookie" = [])), responses((status = 200, description = "监护人信息", body = GuardianOut)))]
pub async fn guardian_get(s: GuardianSession) -> Api {
    Ok(HttpResponse::Ok().json(guardian_out(&s)))
}

#[utoipa::path(put, path = "/api/v1/registration/guardian", tag = "parent", security(("guardian_bearer" = []), ("guardian_cookie" = [])), request_body = GuardianForm, responses((status = 200, description = "已保存", body = GuardianOut), (status = 422, description = "字段有误（fields 列出全部）", body = FieldErrorsBody)))]
pub async fn guardian_put(state: web::Data<AppState>, s: GuardianSession, req: HttpRequest, body: web::Json<GuardianForm>) -> Api {
    csrf(&req, &s)?;
    match forms::validate_guardian(&body) {
        Err(e) => Ok(fields_response(&e)),
        Ok(v) => {
            service::update_profile(&state.ctx, s.id(), &v).await?;
            Ok(HttpResponse::Ok().json(GuardianOut {
                id: s.id().to_string(),
                name: v.name,
                relation: v.relation,
                mobile: v.mobile,
                email: v.email,
                notify: v.notify.as_str().to_string(),
                profile_complete: true,
            }))
        }
    }
}

/// `GET /api/v1/registration/campaigns`: campaigns taking registrations now, with their notice.
#[utoipa::path(get, path = "/api/v1/registration/campaigns", tag = "parent", security(("guardian_bearer" = []), ("guardian_cookie" = [])), responses((status = 200, description = "正在报名的招生批次及公告", body = CampaignList)))]
pub async fn campaigns(state: web::Data<AppState>, _s: GuardianSession) -> Api {
    let notices = service::open_notices(&state.ctx).await?;
    Ok(HttpResponse::Ok().json(CampaignList { campaigns: notices }))
}

#[utoipa::path(post, path = "/api/v1/registration/campaigns/{cid}/drafts", tag = "parent", security(("guardian_bearer" = []), ("guardian_cookie" = [])), params(("cid" = String, Path, description = "招生批次编号，如 2027-G1")), responses((status = 201, description = "已开始一份报名（草稿）", body = DraftCreated), (status = 409, description = "不在报名时间内", body = ErrorBody), (status = 422, description = "请先填写监护人信息（code = profile_incomplete）", body = ErrorBody)))]
pub async fn start(state: web::Data<AppState>, s: GuardianSession, req: HttpRequest, path: web::Path<String>) -> Api {
    csrf(&req, &s)?;
    if !s.profile_complete() {
        return Err(AppError::invalid_code("profile_incomplete", "guardian", "请先填写监护人姓名、关系和手机号码"));
    }
    let id = service::start_draft(&state.ctx, s.id(), &path).await?;
    Ok(HttpResponse::Created().json(DraftCreated { draft_id: id }))
}

#[utoipa::path(get, path = "/api/v1/registration/drafts/{id}", tag = "parent", security(("guardian_bearer" = []), ("guardian_cookie" = [])), params(("id" = String, Path, description = "草稿编号")), responses((status = 200, description = "报名草稿：id、campaign_id、status、application_id、child（ChildForm，身份证号不回显）、documents、missing_documents", body = DraftOut)))]
pub async fn draft_get(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>) -> Api {
    let d = service::load_draft(&state.ctx, s.id(), &path).await?;
    let child = service::child_form(&state.ctx, &d.data);
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(DraftOut {
        id: d.draft.id.clone(),
        campaign_id: d.draft.campaign_id.clone(),
        status: d.draft.status.clone(),
        application_id: d.draft.application_id.clone(),
        child,
        documents: documents_of(&d.data),
        missing_documents: missing_of(&d.data),
    }))
}

#[utoipa::path(put, path = "/api/v1/registration/drafts/{id}/child", tag = "parent", security(("guardian_bearer" = []), ("guardian_cookie" = [])), params(("id" = String, Path, description = "草稿编号")), request_body = ChildForm, responses((status = 200, description = "已保存：由身份证号得出的 birth_date、sex、age、id_number_note", body = ChildSaved), (status = 422, description = "字段有误（fields 列出全部）", body = FieldErrorsBody)))]
pub async fn child_put(
    state: web::Data<AppState>,
    s: GuardianSession,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ChildForm>,
) -> Api {
    csrf(&req, &s)?;
    match service::save_child(&state.ctx, s.id(), &path, body.into_inner()).await {
        Ok(v) => Ok(HttpResponse::Ok().json(ChildSaved {
            birth_date: v.id.birth_date,
            sex: v.id.sex.label().to_string(),
            age: v.age,
            id_number_note: v.id.note.map(str::to_string),
        })),
        Err(StepError::Fields(e)) => Ok(fields_response(&e)),
        Err(StepError::App(e)) => Err(e),
    }
}

#[utoipa::path(post, path = "/api/v1/registration/drafts/{id}/documents", tag = "parent", security(("guardian_bearer" = []), ("guardian_cookie" = [])), params(("id" = String, Path, description = "草稿编号")), request_body(content_type = "multipart/form-data", content = UploadForm, description = "证明材料（照片或 PDF，去除元数据后按内容哈希保存）"), responses((status = 201, description = "已上传", body = DocumentOut), (status = 413, description = "文件超过大小上限（error.field = file）", body = ErrorBody)))]
pub async fn documents_post(
    state: web::Data<AppState>,
    s: GuardianSession,
    req: HttpRequest,
    path: web::Path<String>,
    mp: actix_multipart::Multipart,
) -> Api {
    let form = super::upload::read_upload(&req, mp, state.settings.uploads.max_bytes).await?;
    if !s.bearer {
        let header = req.headers().get("X-CSRF-Token").and_then(|v| v.to_str().ok()).unwrap_or("");
        let token = if header.is_empty() { form.csrf.as_str() } else { header };
        s.check_csrf(token)?;
    }
    let doc = service::add_document(&state.ctx, s.id(), &path, form).await?;
    Ok(HttpResponse::Created().json(DocumentOut {
        kind: doc.kind.to_string(),
        content_hash: doc.content_hash.clone(),
        mime: doc.mime.clone(),
        size_bytes: doc.size_bytes,
    }))
}

/// A draft's uploads, each with the `content_hash` that removes or replaces it.
fn documents_of(data: &crate::registration::draft::DraftData) -> Vec<DraftDocument> {
    data.documents
        .iter()
        .map(|x| DraftDocument { doc: service::doc_view(&x.kind, &x.mime, x.size_bytes), content_hash: x.content_hash.clone() })
        .collect()
}

fn missing_of(data: &crate::registration::draft::DraftData) -> Vec<MissingDocument> {
    crate::registration::draft::missing_documents(data)
        .iter()
        .map(|(k, why)| MissingDocument { kind: k.to_string(), label: why.to_string() })
        .collect()
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KindQuery {
    #[serde(default)]
    kind: Option<String>,
}

/// `DELETE /api/v1/registration/drafts/{id}/documents/{content_hash}[?kind=]`:
/// a wrong upload taken out before submit; answers the draft's uploads.
#[utoipa::path(delete, path = "/api/v1/registration/drafts/{id}/documents/{hash}", tag = "parent", security(("guardian_bearer" = []), ("guardian_cookie" = [])), params(("id" = String, Path, description = "草稿编号"), ("hash" = String, Path, description = "文件的 content_hash"), KindQuery), responses((status = 200, description = "删除后的 documents 与 missing_documents", body = DocumentsOut)))]
pub async fn document_delete(
    state: web::Data<AppState>,
    s: GuardianSession,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<KindQuery>,
) -> Api {
    csrf(&req, &s)?;
    let (draft, hash) = path.into_inner();
    let data = service::remove_document(&state.ctx, s.id(), &draft, &hash, q.kind.as_deref().filter(|k| !k.is_empty())).await?;
    Ok(HttpResponse::Ok().json(DocumentsOut { documents: documents_of(&data), missing_documents: missing_of(&data) }))
}

#[utoipa::path(get, path = "/api/v1/registration/drafts/{id}/review", tag = "parent", security(("guardian_bearer" = []), ("guardian_cookie" = [])), params(("id" = String, Path, description = "草稿编号")), responses((status = 200, description = "提交前核对：出生日期、性别、暂定对口学校与类别（以审核结果为准）", body = service::ReviewView)))]
pub async fn review(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>) -> Api {
    let v = service::review(&state.ctx, s.id(), &path).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(v))
}

/// The optional body of a submit: the family's reply when the draft
/// answers a supplement request.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct SubmitBody {
    #[serde(default)]
    reply: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/registration/drafts/{id}/submit", tag = "parent", security(("guardian_bearer" = []), ("guardian_cookie" = [])), params(("id" = String, Path, description = "草稿编号"), ("Idempotency-Key" = Option<String>, Header, description = "同一键重复提交只生效一次")), request_body(content = Option<SubmitBody>, description = "答复补充材料要求时可附 reply；其他情况可为空"), responses((status = 201, description = "已创建报名", body = SubmitOut), (status = 200, description = "同一 Idempotency-Key 的重复提交：原报名", body = SubmitOut), (status = 409, description = "同一儿童已报名（返回原报名号）或报名已截止", body = ErrorBody), (status = 422, description = "材料或信息不全", body = ErrorBody)))]
pub async fn submit(state: web::Data<AppState>, s: GuardianSession, req: HttpRequest, path: web::Path<String>, body: web::Bytes) -> Api {
    csrf(&req, &s)?;
    let key = req.headers().get("Idempotency-Key").and_then(|v| v.to_str().ok()).map(str::to_string);
    let input: SubmitBody = if body.iter().all(u8::is_ascii_whitespace) {
        SubmitBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|_| AppError::invalid("reply", "请求内容应为 JSON，例如 {\"reply\": \"已补交房产证\"}"))?
    };
    let done = service::submit(&state.ctx, s.id(), &path, key.as_deref(), input.reply.as_deref()).await?;
    let status = done.status.unwrap_or(crate::domain::ApplicationStatus::Submitted);
    let body = SubmitOut {
        application_id: done.application_id.clone(),
        registration_no: done.registration_no.clone(),
        status,
        status_label: status.label().to_string(),
        note: "报名先后不影响录取结果；对口学校与类别以审核结果为准".into(),
    };
    Ok(if done.created { HttpResponse::Created().json(body) } else { HttpResponse::Ok().json(body) })
}

#[utoipa::path(get, path = "/api/v1/registration/applications", tag = "parent", security(("guardian_bearer" = []), ("guardian_cookie" = [])), responses((status = 200, description = "我的报名", body = ApplicationList)))]
pub async fn applications(state: web::Data<AppState>, s: GuardianSession) -> Api {
    let rows = service::applications(&state.ctx, s.id()).await?;
    let applications = rows
        .iter()
        .map(|(a, ch, cname)| ApplicationRow {
            id: a.id.clone(),
            registration_no: a.registration_no.clone(),
            campaign_id: a.campaign_id.clone(),
            campaign_name: cname.clone(),
            child_name: ch.name.clone(),
            status: a.status,
            status_label: a.status.label().to_string(),
            family_id: a.family_id.clone(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(ApplicationList { applications }))
}

#[utoipa::path(get, path = "/api/v1/registration/applications/{id}", tag = "parent", security(("guardian_bearer" = []), ("guardian_cookie" = [])), params(("id" = String, Path, description = "报名编号")), responses((status = 200, description = "报名状态与进度（时间线、审核意见、补充材料要求、复核）", body = crate::registration::status::StatusView)))]
pub async fn application(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>) -> Api {
    Ok(HttpResponse::Ok().json(service::status(&state.ctx, s.id(), &path).await?))
}

#[utoipa::path(post, path = "/api/v1/registration/applications/{id}/edit", tag = "parent", security(("guardian_bearer" = []), ("guardian_cookie" = [])), params(("id" = String, Path, description = "报名编号")), responses((status = 201, description = "修改用的草稿（报名截止前且未进入审核）", body = DraftCreated), (status = 409, description = "已进入审核或报名已截止", body = ErrorBody)))]
pub async fn edit(state: web::Data<AppState>, s: GuardianSession, req: HttpRequest, path: web::Path<String>) -> Api {
    csrf(&req, &s)?;
    let id = service::start_edit(&state.ctx, s.id(), &path).await?;
    Ok(HttpResponse::Created().json(DraftCreated { draft_id: id }))
}

/// Withdraws a registration before review.
#[utoipa::path(post, path = "/api/v1/registration/applications/{id}/withdraw", tag = "parent", security(("guardian_bearer" = []), ("guardian_cookie" = [])), params(("id" = String, Path, description = "报名编号")), responses((status = 200, description = "已撤回（审核开始前）；返回报名状态", body = crate::registration::status::StatusView), (status = 409, description = "已进入审核，不能撤回", body = ErrorBody)))]
pub async fn withdraw(state: web::Data<AppState>, s: GuardianSession, req: HttpRequest, path: web::Path<String>) -> Api {
    csrf(&req, &s)?;
    service::withdraw(&state.ctx, s.id(), &path).await?;
    Ok(HttpResponse::Ok().json(service::status(&state.ctx, s.id(), &path).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AppealBody {
    #[serde(default)]
    reason: String,
}

/// Files a 复核申请 of a rejection: `{"reason": …}`.
#[utoipa::path(post, path = "/api/v1/registration/applications/{id}/appeal", tag = "parent", security(("guardian_bearer" = []), ("guardian_cookie" = [])), params(("id" = String, Path, description = "报名编号")), request_body = AppealBody, responses((status = 200, description = "已提交复核申请；返回报名状态", body = crate::registration::status::StatusView), (status = 409, description = "不是未通过的报名或已过复核期限", body = ErrorBody), (status = 422, description = "请填写理由", body = ErrorBody)))]
pub async fn appeal(
    state: web::Data<AppState>,
    s: GuardianSession,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<AppealBody>,
) -> Api {
    csrf(&req, &s)?;
    service::appeal(&state.ctx, s.id(), &path, &body.reason).await?;
    Ok(HttpResponse::Ok().json(service::status(&state.ctx, s.id(), &path).await?))
}

/// Starts the answer to a supplement request: a draft to upload into and
/// correct, then submitted with `{"reply": …}`.
#[utoipa::path(post, path = "/api/v1/registration/applications/{id}/supplement", tag = "parent", security(("guardian_bearer" = []), ("guardian_cookie" = [])), params(("id" = String, Path, description = "报名编号")), responses((status = 201, description = "按审核要求补充材料：上传、修改后提交的草稿", body = DraftCreated), (status = 409, description = "没有待补充的要求或已过期限", body = ErrorBody)))]
pub async fn supplement(state: web::Data<AppState>, s: GuardianSession, req: HttpRequest, path: web::Path<String>) -> Api {
    csrf(&req, &s)?;
    let id = service::start_supplement(&state.ctx, s.id(), &path).await?;
    Ok(HttpResponse::Created().json(DraftCreated { draft_id: id }))
}

/// The outcome of one application: the offer, the draw's explanation for
/// every school ranked at, the inclusion proof.
#[utoipa::path(get, path = "/api/v1/registration/applications/{id}/result", tag = "parent", security(("guardian_bearer" = []), ("guardian_cookie" = [])), params(("id" = String, Path, description = "报名编号")), responses((status = 200, description = "录取结果与派位解释、包含证明", body = crate::service::offers::ResultView)))]
pub async fn result(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>) -> Api {
    Ok(HttpResponse::Ok().json(crate::service::offers::result(&state.ctx, s.id(), &path).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OfferBody {
    /// `accept` or `decline`.
    answer: String,
}

/// Accepts or declines the offer: `{"answer": "accept" | "decline"}`.
#[utoipa::path(post, path = "/api/v1/registration/applications/{id}/offer", tag = "parent", security(("guardian_bearer" = []), ("guardian_cookie" = [])), params(("id" = String, Path, description = "报名编号")), request_body = OfferBody, responses((status = 200, description = "已确认或放弃录取；moves 为因此发生的候补递补", body = crate::service::offers::Response), (status = 409, description = "没有待确认的录取、已确认过或已过确认期限", body = ErrorBody)))]
pub async fn offer(
    state: web::Data<AppState>,
    s: GuardianSession,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<OfferBody>,
) -> Api {
    csrf(&req, &s)?;
    let accept = match body.answer.as_str() {
        "accept" => true,
        "decline" => false,
        _ => return Err(AppError::invalid("answer", "answer 只能是 accept 或 decline")),
    };
    let r = crate::service::offers::respond(&state.ctx, s.id(), &path, accept).await?;
    Ok(HttpResponse::Ok().json(r))
}
