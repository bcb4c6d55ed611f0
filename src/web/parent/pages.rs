//! The mobile pages (Simplified Chinese, no JavaScript): home → notice →
//! guardian → child → documents → review → submit → status. Every form post
//! carries the session's CSRF token; success answers 303 to the next page
//! (so a reload never re-posts), a refusal re-renders the form with a
//! message beside each field.

use super::auth::{CsrfForm, GuardianSession};
use super::{error_page, message_page, render_page, with_status};
use crate::error::AppError;
use crate::identity::crypto::mask_phone;
use crate::registration::forms::{self, ChildForm, FieldErrors, GuardianForm};
use crate::registration::session::random_token;
use crate::registration::upload::DocumentKind;
use crate::service::registration::{self as service, StepError};
use crate::web::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde::Deserialize;

type Page = Result<HttpResponse, AppError>;

pub fn parse_form<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    serde_urlencoded::from_bytes(body).map_err(|e| AppError::BadRequest {
        code: "invalid_form",
        message: format!("表单内容无法读取：{e}"),
        field: None,
    })
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to.to_string())).finish()
}

fn local_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/parent") && !n.contains("//") && !n.contains('\\') => n.to_string(),
        _ => "/parent".into(),
    }
}

#[derive(Debug, Deserialize)]
pub struct HomeQuery {
    #[serde(default)]
    login: Option<String>,
}

/// `GET /parent`: login, open campaigns, my registrations.
pub async fn home(state: web::Data<AppState>, s: Option<GuardianSession>, q: web::Query<HomeQuery>) -> Page {
    let service::Home { campaigns, applications: apps, drafts } = service::home(&state.ctx, s.as_ref().map(|s| s.id())).await?;
    let campaigns: Vec<_> = campaigns
        .iter()
        .map(|c| minijinja::context! { id => c.id, name => c.name, closes => service::fmt_time(c.registration_closes) })
        .collect();
    let apps: Vec<_> = apps
        .iter()
        .map(|(a, ch, cname)| {
            minijinja::context! { id => a.id, no => a.registration_no, child => ch.name, campaign => cname, status => a.status.label() }
        })
        .collect();
    let drafts: Vec<_> = drafts
        .iter()
        .map(|d| {
            let child = d.data().ok().and_then(|x| x.child).map(|c| c.child_name).unwrap_or_default();
            minijinja::context! { id => d.id, child => child, editing => d.application_id.is_some() }
        })
        .collect();
    render_page(
        &state,
        "parent/home.html",
        minijinja::context! {
            logged_in => s.is_some(),
            asked_login => q.login.is_some() && s.is_none(),
            guardian_name => s.as_ref().map(|s| s.guardian.name.clone()),
            guardian_phone => s.as_ref().map(|s| mask_phone(&s.guardian.phone)),
            profile_complete => s.as_ref().map(|s| s.profile_complete()).unwrap_or(false),
            csrf => s.as_ref().map(|s| s.claims.csrf.clone()),
            campaigns => campaigns,
            applications => apps,
            drafts => drafts,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

fn profile_render(state: &AppState, s: &GuardianSession, f: &GuardianForm, errors: &FieldErrors, next: &str) -> Page {
    render_page(
        state,
        "parent/profile.html",
        minijinja::context! {
            f => f, errors => errors.map(), relations => forms::RELATIONS, csrf => s.claims.csrf, next => next,
            channels => crate::domain::NotifyChannels::choices(),
        },
    )
}

/// `GET /parent/profile`: 监护人信息.
pub async fn profile_page(state: web::Data<AppState>, s: GuardianSession, q: web::Query<NextQuery>) -> Page {
    let f = GuardianForm {
        name: s.guardian.name.clone(),
        relation: s.guardian.relation.clone(),
        mobile: s.guardian.phone.clone(),
        email: s.guardian.email.clone().unwrap_or_default(),
        notify: s.guardian.notify_channels.clone(),
    };
    profile_render(&state, &s, &f, &FieldErrors::default(), &local_next(q.next.as_deref()))
}

/// `POST /parent/profile`.
pub async fn profile_save(state: web::Data<AppState>, s: GuardianSession, q: web::Query<NextQuery>, body: web::Bytes) -> Page {
    let csrf: CsrfForm = parse_form(&body)?;
    if let Err(e) = s.check_csrf(&csrf.csrf) {
        return Ok(error_page(&state, e));
    }
    let f: GuardianForm = parse_form(&body)?;
    let next = local_next(q.next.as_deref());
    match forms::validate_guardian(&f) {
        Err(errors) => Ok(with_status(profile_render(&state, &s, &f, &errors, &next)?, StatusCode::UNPROCESSABLE_ENTITY)),
        Ok(v) => {
            service::update_profile(&state.ctx, s.id(), &v).await?;
            Ok(see_other(&next))
        }
    }
}

/// `GET /parent/campaigns/{cid}`: 招生公告 — dates and the policy in brief.
pub async fn notice(state: web::Data<AppState>, path: web::Path<String>, s: Option<GuardianSession>) -> Page {
    let cid = path.into_inner();
    let n = match service::notice_of(&state.ctx, &cid).await {
        Ok(n) => n,
        Err(e) => return Ok(error_page(&state, e)),
    };
    render_page(
        &state,
        "parent/notice.html",
        minijinja::context! {
            n => n,
            logged_in => s.is_some(),
            csrf => s.as_ref().map(|s| s.claims.csrf.clone()),
        },
    )
}

/// `POST /parent/campaigns/{cid}/start`.
pub async fn start(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>, form: web::Form<CsrfForm>) -> Page {
    let cid = path.into_inner();
    if let Err(e) = s.check_csrf(&form.csrf) {
        return Ok(error_page(&state, e));
    }
    if !s.profile_complete() {
        return Ok(see_other(&format!("/parent/profile?next=/parent/campaigns/{cid}")));
    }
    match service::start_draft(&state.ctx, s.id(), &cid).await {
        Ok(id) => Ok(see_other(&format!("/parent/drafts/{id}/child"))),
        Err(e) => Ok(error_page(&state, e)),
    }
}

fn child_render(state: &AppState, s: &GuardianSession, d: &service::DraftCtx, f: &ChildForm, errors: &FieldErrors) -> Page {
    let owner_relations: Vec<_> = forms::OWNER_RELATIONS.iter().map(|(v, l)| minijinja::context! { value => v, label => l }).collect();
    let schools: Vec<_> = d.ctx.schools.iter().map(|(v, l)| minijinja::context! { value => v, label => l }).collect();
    render_page(
        state,
        "parent/child.html",
        minijinja::context! {
            draft_id => d.draft.id,
            campaign => d.ctx.campaign.name,
            editing => d.draft.application_id.is_some(),
            f => f,
            errors => errors.map(),
            error_count => errors.0.len(),
            townships => d.ctx.township_names,
            other_township => forms::OTHER_TOWNSHIP,
            care_kinds => d.ctx.policy.care.kinds,
            schools => schools,
            owner_relations => owner_relations,
            csrf => s.claims.csrf,
        },
    )
}

/// `GET /parent/drafts/{id}/child`: 儿童信息.
pub async fn child_page(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>) -> Page {
    let d = match service::load_draft(&state.ctx, s.id(), &path).await.and_then(|d| service::check_editable(&d).map(|_| d)) {
        Ok(d) => d,
        Err(e) => return Ok(error_page(&state, e)),
    };
    let f = service::child_form(&state.ctx, &d.data).unwrap_or_else(|| ChildForm { hukou_type: "local".into(), ..Default::default() });
    child_render(&state, &s, &d, &f, &FieldErrors::default())
}

/// `POST /parent/drafts/{id}/child`.
pub async fn child_save(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>, body: web::Bytes) -> Page {
    let csrf: CsrfForm = parse_form(&body)?;
    if let Err(e) = s.check_csrf(&csrf.csrf) {
        return Ok(error_page(&state, e));
    }
    let f: ChildForm = parse_form(&body)?;
    let id = path.into_inner();
    match service::save_child(&state.ctx, s.id(), &id, f.clone()).await {
        Ok(_) => Ok(see_other(&format!("/parent/drafts/{id}/documents"))),
        Err(StepError::Fields(errors)) => {
            let d = service::load_draft(&state.ctx, s.id(), &id).await?;
            Ok(with_status(child_render(&state, &s, &d, &f, &errors)?, StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(StepError::App(e)) => Ok(error_page(&state, e)),
    }
}

async fn documents_render(state: &AppState, s: &GuardianSession, id: &str, error: Option<(String, String)>, ok: Option<&str>) -> Page {
    let d = service::load_draft(&state.ctx, s.id(), id).await?;
    service::check_editable(&d)?;
    let Some(child) = d.data.child.as_ref() else {
        return Ok(see_other(&format!("/parent/drafts/{id}/child")));
    };
    let required: Vec<_> = crate::registration::draft::required_documents(child)
        .iter()
        .map(|(k, why)| minijinja::context! { kind => k, why => why, done => d.data.documents.iter().any(|x| x.kind == *k) })
        .collect();
    let kinds: Vec<_> = DocumentKind::ALL.iter().map(|k| minijinja::context! { value => k.code(), label => k.label() }).collect();
    let docs: Vec<_> = d
        .data
        .documents
        .iter()
        .map(|x| minijinja::context! { v => service::doc_view(&x.kind, &x.mime, x.size_bytes), hash => x.content_hash })
        .collect();
    render_page(
        state,
        "parent/documents.html",
        minijinja::context! {
            draft_id => id,
            campaign => d.ctx.campaign.name,
            required => required,
            kinds => kinds,
            documents => docs,
            missing => crate::registration::draft::missing_documents(&d.data).len(),
            max => service::human_size(state.settings.uploads.max_bytes),
            error_field => error.as_ref().map(|e| e.0.clone()),
            error => error.map(|e| e.1),
            ok => ok,
            csrf => s.claims.csrf,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct OkQuery {
    #[serde(default)]
    ok: Option<String>,
}

/// `GET /parent/drafts/{id}/documents`: 上传证明材料.
pub async fn documents_page(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>, q: web::Query<OkQuery>) -> Page {
    let ok = match q.ok.as_deref() {
        Some("removed") => Some("已删除该文件。"),
        Some(_) => Some("上传成功。"),
        None => None,
    };
    match documents_render(&state, &s, &path, None, ok).await {
        Ok(r) => Ok(r),
        Err(e) => Ok(error_page(&state, e)),
    }
}

/// `POST /parent/drafts/{id}/documents` (multipart: `_csrf`, `kind`, `file`).
pub async fn documents_upload(
    state: web::Data<AppState>,
    s: GuardianSession,
    path: web::Path<String>,
    req: HttpRequest,
    mp: actix_multipart::Multipart,
) -> Page {
    let id = path.into_inner();
    let outcome = match super::upload::read_upload(&req, mp, state.settings.uploads.max_bytes).await {
        Ok(form) => match s.check_csrf(&form.csrf) {
            Ok(()) => service::add_document(&state.ctx, s.id(), &id, form).await.map(|_| ()),
            Err(e) => return Ok(error_page(&state, e)),
        },
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!("/parent/drafts/{id}/documents?ok=1"))),
        Err(e @ (AppError::Invalid { .. } | AppError::PayloadTooLarge { .. } | AppError::BadRequest { code: "invalid_multipart", .. })) => {
            use actix_web::ResponseError;
            let status = e.status_code();
            let field = e.field().unwrap_or("file").to_string();
            let resp = documents_render(&state, &s, &id, Some((field, e.public_message())), None).await?;
            Ok(with_status(resp, status))
        }
        Err(e) => Ok(error_page(&state, e)),
    }
}

#[derive(Debug, Deserialize)]
pub struct RemoveForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    content_hash: String,
    #[serde(default)]
    kind: String,
}

/// `POST /parent/drafts/{id}/documents/remove`: 删除上传错的文件 (before submit).
pub async fn documents_remove(
    state: web::Data<AppState>,
    s: GuardianSession,
    path: web::Path<String>,
    form: web::Form<RemoveForm>,
) -> Page {
    if let Err(e) = s.check_csrf(&form.csrf) {
        return Ok(error_page(&state, e));
    }
    let id = path.into_inner();
    let kind = Some(form.kind.as_str()).filter(|k| !k.is_empty());
    match service::remove_document(&state.ctx, s.id(), &id, &form.content_hash, kind).await {
        Ok(_) => Ok(see_other(&format!("/parent/drafts/{id}/documents?ok=removed"))),
        Err(e) => Ok(error_page(&state, e)),
    }
}

/// `GET /parent/drafts/{id}/review`: 核对信息.
pub async fn review_page(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>) -> Page {
    let id = path.into_inner();
    match service::review(&state.ctx, s.id(), &id).await {
        Ok(v) => render_page(
            &state,
            "parent/review.html",
            minijinja::context! { r => v, csrf => s.claims.csrf, idempotency_key => random_token() },
        ),
        Err(AppError::Conflict { code: "child_missing", .. }) => Ok(see_other(&format!("/parent/drafts/{id}/child"))),
        Err(e) => Ok(error_page(&state, e)),
    }
}

#[derive(Debug, Deserialize)]
pub struct SubmitForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    idempotency_key: String,
    /// The family's reply to a supplement request.
    #[serde(default)]
    reply: Option<String>,
}

/// `POST /parent/drafts/{id}/submit`: 提交 (idempotent).
pub async fn submit(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>, form: web::Form<SubmitForm>) -> Page {
    if let Err(e) = s.check_csrf(&form.csrf) {
        return Ok(error_page(&state, e));
    }
    let id = path.into_inner();
    match service::submit(&state.ctx, s.id(), &id, Some(&form.idempotency_key), form.reply.as_deref()).await {
        Ok(done) => Ok(see_other(&format!("/parent/applications/{}?submitted=1", done.application_id))),
        Err(e @ AppError::Invalid { .. }) => {
            let back = if DocumentKind::from_code(e.field().unwrap_or("")).is_some() { "documents" } else { "child" };
            let href = format!("/parent/drafts/{id}/{back}");
            message_page(&state, StatusCode::UNPROCESSABLE_ENTITY, "还不能提交", &e.public_message(), Some((&href, "返回修改")))
        }
        Err(e) => Ok(error_page(&state, e)),
    }
}

#[derive(Debug, Deserialize)]
pub struct SubmittedQuery {
    #[serde(default)]
    submitted: Option<String>,
}

/// `GET /parent/applications/{id}`: 报名状态 and timeline.
pub async fn status_page(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>, q: web::Query<SubmittedQuery>) -> Page {
    let r = crate::service::offers::result(&state.ctx, s.id(), &path).await.ok();
    match service::status(&state.ctx, s.id(), &path).await {
        Ok(v) => render_page(
            &state,
            "parent/status.html",
            minijinja::context! { v => v, r => r, csrf => s.claims.csrf, just_submitted => q.submitted.is_some() },
        ),
        Err(e) => Ok(error_page(&state, e)),
    }
}

/// `POST /parent/applications/{id}/withdraw`: 撤回报名 (before review).
pub async fn withdraw(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>, form: web::Form<CsrfForm>) -> Page {
    if let Err(e) = s.check_csrf(&form.csrf) {
        return Ok(error_page(&state, e));
    }
    match service::withdraw(&state.ctx, s.id(), &path).await {
        Ok(()) => Ok(see_other(&format!("/parent/applications/{}", path.as_str()))),
        Err(e) => Ok(error_page(&state, e)),
    }
}

#[derive(Debug, Deserialize)]
pub struct AppealForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /parent/applications/{id}/appeal`: 复核申请 (within the appeal window).
pub async fn appeal(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>, form: web::Form<AppealForm>) -> Page {
    if let Err(e) = s.check_csrf(&form.csrf) {
        return Ok(error_page(&state, e));
    }
    let back = format!("/parent/applications/{}", path.as_str());
    match service::appeal(&state.ctx, s.id(), &path, &form.reason).await {
        Ok(()) => Ok(see_other(&back)),
        Err(e @ AppError::Invalid { .. }) => {
            message_page(&state, StatusCode::UNPROCESSABLE_ENTITY, "复核申请未提交", &e.public_message(), Some((&back, "返回修改")))
        }
        Err(e) => Ok(error_page(&state, e)),
    }
}

/// `POST /parent/applications/{id}/supplement`: 补充材料 (until the request's deadline).
pub async fn supplement(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>, form: web::Form<CsrfForm>) -> Page {
    if let Err(e) = s.check_csrf(&form.csrf) {
        return Ok(error_page(&state, e));
    }
    match service::start_supplement(&state.ctx, s.id(), &path).await {
        Ok(draft) => Ok(see_other(&format!("/parent/drafts/{draft}/documents"))),
        Err(e) => Ok(error_page(&state, e)),
    }
}

/// `POST /parent/applications/{id}/edit`: 修改报名信息 (until registration closes or review begins).
pub async fn edit(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>, form: web::Form<CsrfForm>) -> Page {
    if let Err(e) = s.check_csrf(&form.csrf) {
        return Ok(error_page(&state, e));
    }
    match service::start_edit(&state.ctx, s.id(), &path).await {
        Ok(draft) => Ok(see_other(&format!("/parent/drafts/{draft}/child"))),
        Err(e) => Ok(error_page(&state, e)),
    }
}

#[derive(Debug, Deserialize)]
pub struct OfferForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    answer: String,
}

/// `POST /parent/applications/{id}/offer`: 确认入学 or 放弃学位.
pub async fn offer(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>, form: web::Form<OfferForm>) -> Page {
    if let Err(e) = s.check_csrf(&form.csrf) {
        return Ok(error_page(&state, e));
    }
    let accept = match form.answer.as_str() {
        "accept" => true,
        "decline" => false,
        _ => return Ok(error_page(&state, AppError::invalid("answer", "请选择确认入学或放弃学位"))),
    };
    match crate::service::offers::respond(&state.ctx, s.id(), &path, accept).await {
        Ok(_) => Ok(see_other(&format!("/parent/applications/{}", path.as_str()))),
        Err(e) => Ok(error_page(&state, e)),
    }
}
