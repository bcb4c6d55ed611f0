//! JSON API mirroring the parent pages, under `/api/v1/registration`. The
//! guardian session comes from the same cookie (then state-changing calls
//! need the `X-CSRF-Token` header) or from `Authorization: Bearer <token>`
//! (`GET /api/v1/registration/session` hands one out). Field names are those
//! of the HTML forms. Described by `GET /api/openapi.json`.

use super::auth::GuardianSession;
use crate::error::AppError;
use crate::registration::forms::{self, ChildForm, FieldErrors, GuardianForm};
use crate::registration::session;
use crate::service::registration::{self as service, StepError};
use crate::web::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{json, Value};

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

fn guardian_json(s: &GuardianSession) -> Value {
    json!({
        "id": s.guardian.id,
        "name": s.guardian.name,
        "relation": s.guardian.relation,
        "mobile": s.guardian.phone,
        "profile_complete": s.profile_complete(),
    })
}

/// `GET /api/v1/registration/session`: who is logged in, the CSRF token, and a bearer token.
pub async fn session(state: web::Data<AppState>, s: GuardianSession) -> Api {
    let minutes = state.settings.security.session_minutes;
    let token = session::issue(
        state.settings.security.jwt_key.expose_secret().as_bytes(),
        s.id(),
        &s.claims.csrf,
        chrono::Utc::now().timestamp(),
        minutes,
    );
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(json!({
        "guardian": guardian_json(&s),
        "csrf_token": s.claims.csrf,
        "token": token,
        "expires_in": minutes * 60,
    })))
}

pub async fn guardian_get(s: GuardianSession) -> Api {
    Ok(HttpResponse::Ok().json(guardian_json(&s)))
}

pub async fn guardian_put(state: web::Data<AppState>, s: GuardianSession, req: HttpRequest, body: web::Json<GuardianForm>) -> Api {
    csrf(&req, &s)?;
    match forms::validate_guardian(&body) {
        Err(e) => Ok(fields_response(&e)),
        Ok(v) => {
            service::update_profile(&state.ctx, s.id(), &v).await?;
            Ok(HttpResponse::Ok()
                .json(json!({"id": s.id(), "name": v.name, "relation": v.relation, "mobile": v.mobile, "profile_complete": true})))
        }
    }
}

/// `GET /api/v1/registration/campaigns`: campaigns taking registrations now, with their notice.
pub async fn campaigns(state: web::Data<AppState>, _s: GuardianSession) -> Api {
    let notices = service::open_notices(&state.ctx).await?;
    Ok(HttpResponse::Ok().json(json!({ "campaigns": notices })))
}

pub async fn start(state: web::Data<AppState>, s: GuardianSession, req: HttpRequest, path: web::Path<String>) -> Api {
    csrf(&req, &s)?;
    if !s.profile_complete() {
        return Err(AppError::invalid_code("profile_incomplete", "guardian", "请先填写监护人姓名、关系和手机号码"));
    }
    let id = service::start_draft(&state.ctx, s.id(), &path).await?;
    Ok(HttpResponse::Created().json(json!({ "draft_id": id })))
}

pub async fn draft_get(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>) -> Api {
    let d = service::load_draft(&state.ctx, s.id(), &path).await?;
    let child = service::child_form(&state.ctx, &d.data);
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(json!({
        "id": d.draft.id,
        "campaign_id": d.draft.campaign_id,
        "status": d.draft.status,
        "application_id": d.draft.application_id,
        "child": child,
        "documents": documents_json(&d.data),
        "missing_documents": crate::registration::draft::missing_documents(&d.data).iter().map(|(k, why)| json!({"kind": k, "label": why})).collect::<Vec<_>>(),
    })))
}

pub async fn child_put(
    state: web::Data<AppState>,
    s: GuardianSession,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ChildForm>,
) -> Api {
    csrf(&req, &s)?;
    match service::save_child(&state.ctx, s.id(), &path, body.into_inner()).await {
        Ok(v) => Ok(HttpResponse::Ok().json(json!({
            "birth_date": v.id.birth_date,
            "sex": v.id.sex.label(),
            "age": v.age,
            "id_number_note": v.id.note,
        }))),
        Err(StepError::Fields(e)) => Ok(fields_response(&e)),
        Err(StepError::App(e)) => Err(e),
    }
}

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
    Ok(HttpResponse::Created().json(json!({
        "kind": doc.kind,
        "content_hash": doc.content_hash,
        "mime": doc.mime,
        "size_bytes": doc.size_bytes,
    })))
}

/// A draft's uploads, each with the `content_hash` that removes or replaces it.
fn documents_json(data: &crate::registration::draft::DraftData) -> Vec<Value> {
    data.documents
        .iter()
        .map(|x| {
            let mut v = json!(service::doc_view(&x.kind, &x.mime, x.size_bytes));
            v["content_hash"] = json!(x.content_hash);
            v
        })
        .collect()
}

#[derive(Debug, serde::Deserialize)]
pub struct KindQuery {
    #[serde(default)]
    kind: Option<String>,
}

/// `DELETE /api/v1/registration/drafts/{id}/documents/{content_hash}[?kind=]`:
/// a wrong upload taken out before submit; answers the draft's uploads.
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
    Ok(HttpResponse::Ok().json(json!({
        "documents": documents_json(&data),
        "missing_documents": crate::registration::draft::missing_documents(&data).iter().map(|(k, why)| json!({"kind": k, "label": why})).collect::<Vec<_>>(),
    })))
}

pub async fn review(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>) -> Api {
    let v = service::review(&state.ctx, s.id(), &path).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(v))
}

/// The optional body of a submit: the family's reply when the draft
/// answers a supplement request.
#[derive(Debug, Default, Deserialize)]
pub struct SubmitBody {
    #[serde(default)]
    reply: Option<String>,
}

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
    let body = json!({
        "application_id": done.application_id,
        "registration_no": done.registration_no,
        "status": status,
        "status_label": status.label(),
        "note": "报名先后不影响录取结果；对口学校与类别以审核结果为准",
    });
    Ok(if done.created { HttpResponse::Created().json(body) } else { HttpResponse::Ok().json(body) })
}

pub async fn applications(state: web::Data<AppState>, s: GuardianSession) -> Api {
    let rows = service::applications(&state.ctx, s.id()).await?;
    let list: Vec<Value> = rows
        .iter()
        .map(|(a, ch, cname)| {
            json!({
                "id": a.id,
                "registration_no": a.registration_no,
                "campaign_id": a.campaign_id,
                "campaign_name": cname,
                "child_name": ch.name,
                "status": a.status,
                "status_label": a.status.label(),
                "family_id": a.family_id,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "applications": list })))
}

pub async fn application(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>) -> Api {
    Ok(HttpResponse::Ok().json(service::status(&state.ctx, s.id(), &path).await?))
}

pub async fn edit(state: web::Data<AppState>, s: GuardianSession, req: HttpRequest, path: web::Path<String>) -> Api {
    csrf(&req, &s)?;
    let id = service::start_edit(&state.ctx, s.id(), &path).await?;
    Ok(HttpResponse::Created().json(json!({ "draft_id": id })))
}

/// Withdraws a registration before review.
pub async fn withdraw(state: web::Data<AppState>, s: GuardianSession, req: HttpRequest, path: web::Path<String>) -> Api {
    csrf(&req, &s)?;
    service::withdraw(&state.ctx, s.id(), &path).await?;
    Ok(HttpResponse::Ok().json(service::status(&state.ctx, s.id(), &path).await?))
}

#[derive(Debug, Deserialize)]
pub struct AppealBody {
    #[serde(default)]
    reason: String,
}

/// Files a 复核申请 of a rejection: `{"reason": …}`.
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
pub async fn supplement(state: web::Data<AppState>, s: GuardianSession, req: HttpRequest, path: web::Path<String>) -> Api {
    csrf(&req, &s)?;
    let id = service::start_supplement(&state.ctx, s.id(), &path).await?;
    Ok(HttpResponse::Created().json(json!({ "draft_id": id })))
}

/// Every `/api/v1` path this module serves: (path, method, summary).
pub const API_PATHS: [(&str, &str, &str); 18] = [
    ("/api/v1/registration/session", "get", "当前登录的监护人、CSRF 令牌和 Bearer 令牌"),
    ("/api/v1/registration/guardian", "get", "监护人信息"),
    ("/api/v1/registration/guardian", "put", "填写或修改监护人信息（姓名、关系、手机号码）"),
    ("/api/v1/registration/campaigns", "get", "正在报名的招生批次及公告"),
    ("/api/v1/registration/campaigns/{campaign_id}/drafts", "post", "开始一份报名（草稿）"),
    ("/api/v1/registration/drafts/{draft_id}", "get", "报名草稿"),
    ("/api/v1/registration/drafts/{draft_id}/child", "put", "填写儿童信息与申报情况"),
    (
        "/api/v1/registration/drafts/{draft_id}/documents",
        "post",
        "上传证明材料（multipart：kind、file；replace 填已上传文件的 content_hash 即替换该文件）",
    ),
    ("/api/v1/registration/drafts/{draft_id}/documents/{content_hash}", "delete", "提交前删除上传错的文件（可带 kind 只删该类别）"),
    ("/api/v1/registration/drafts/{draft_id}/review", "get", "提交前核对：出生日期、性别、暂定对口学校与类别"),
    (
        "/api/v1/registration/drafts/{draft_id}/submit",
        "post",
        "提交报名（以 Idempotency-Key 保证不重复）；补充材料时可附 {\"reply\": 答复说明}",
    ),
    ("/api/v1/registration/applications", "get", "我的报名"),
    ("/api/v1/registration/applications/{application_id}", "get", "报名状态与进度"),
    ("/api/v1/registration/applications/{application_id}/edit", "post", "修改已提交的报名（报名截止前且未进入审核）"),
    ("/api/v1/registration/applications/{application_id}/withdraw", "post", "撤回报名（审核开始前）；撤回后可重新报名"),
    ("/api/v1/registration/applications/{application_id}/appeal", "post", "对审核未通过申请复核（{\"reason\": 理由}，须在复核期限内）"),
    ("/api/v1/registration/applications/{application_id}/supplement", "post", "按审核要求补充材料：返回一份草稿，上传材料、修改信息后提交"),
    ("/api/v1/catchment/lookup", "get", "按地址查询对口学校（无需登录）"),
];

fn child_schema() -> Value {
    let fields = [
        "child_name",
        "id_number",
        "hukou_type",
        "hukou_township",
        "hukou_community",
        "hukou_road",
        "hukou_number",
        "hukou_compound",
        "hukou_building",
        "has_property",
        "prop_cert_no",
        "prop_owner_name",
        "prop_owner_relation",
        "prop_acquired_on",
        "prop_township",
        "prop_community",
        "prop_road",
        "prop_number",
        "prop_compound",
        "prop_building",
        "permit_no",
        "residence_start",
        "permit_issued_on",
        "social_insurance_months",
        "res_township",
        "res_community",
        "res_road",
        "res_number",
        "res_compound",
        "res_building",
        "disability_support",
        "left_behind",
        "care_category",
        "sibling_school",
    ];
    let mut props = serde_json::Map::new();
    for f in fields {
        props.insert(f.into(), json!({"type": "string"}));
    }
    props.insert("hukou_type".into(), json!({"type": "string", "enum": ["local", "migrant"]}));
    props.insert("prop_owner_relation".into(), json!({"type": "string", "enum": ["father", "mother", "grandparent", "self", "other"]}));
    for date in ["residence_start", "permit_issued_on", "prop_acquired_on"] {
        props.insert(date.into(), json!({"type": "string", "format": "date"}));
    }
    json!({"type": "object", "required": ["child_name", "id_number", "hukou_type"], "properties": props})
}

/// `GET /api/openapi.json`.
pub async fn openapi() -> HttpResponse {
    let mut paths = serde_json::Map::new();
    for (path, method, summary) in API_PATHS {
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut op = json!({
            "summary": summary,
            "parameters": params,
            "responses": {
                "200": {"description": "成功"},
                "401": {"description": "未登录", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "422": {"description": "字段有误（error.field 指明字段，fields 列出全部）", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            },
        });
        if path.starts_with("/api/v1/catchment") {
            op["security"] = json!([]);
            op["parameters"] = json!([
                {"name": "address", "in": "query", "required": true, "schema": {"type": "string"}},
                {"name": "grade", "in": "query", "schema": {"type": "string", "enum": ["1", "7"]}},
                {"name": "campaign", "in": "query", "schema": {"type": "string"}}
            ]);
        }
        match (path, method) {
            ("/api/v1/registration/guardian", "put") => {
                op["requestBody"] =
                    json!({"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Guardian"}}}})
            }
            ("/api/v1/registration/drafts/{draft_id}/child", "put") => {
                op["requestBody"] =
                    json!({"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Child"}}}})
            }
            ("/api/v1/registration/drafts/{draft_id}/documents", "post") => {
                op["requestBody"] = json!({"required": true, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["kind", "file"],
                    "properties": {"kind": {"type": "string", "enum": crate::registration::upload::DocumentKind::ALL.iter().map(|k| k.code()).collect::<Vec<_>>()}, "file": {"type": "string", "format": "binary"}}
                }}}});
                op["responses"]["413"] = json!({"description": "文件超过大小上限（error.field = file）"});
            }
            ("/api/v1/registration/drafts/{draft_id}/submit", "post") => {
                if let Some(a) = op["parameters"].as_array_mut() {
                    a.push(json!({"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string"}}));
                }
                op["responses"]["201"] = json!({"description": "已创建报名"});
                op["responses"]["409"] = json!({"description": "同一儿童已报名（返回原报名号）或报名已截止"});
            }
            _ => {}
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[method] = op;
    }
    let doc = json!({
        "openapi": "3.0.3",
        "info": {"title": "ruxue 入学报名 API", "version": "1.0.0", "description": "家长报名（与网页表单一致）。登录后使用会话 Cookie（修改类请求需带 X-CSRF-Token）或 Authorization: Bearer。"},
        "paths": paths,
        "security": [{"bearer": []}, {"cookie": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": super::auth::SESSION_COOKIE}
            },
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string", "nullable": true}}}, "fields": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}}},
                "Guardian": {"type": "object", "required": ["name", "relation", "mobile"], "properties": {"name": {"type": "string"}, "relation": {"type": "string", "enum": forms::RELATIONS}, "mobile": {"type": "string"}}},
                "Child": child_schema()
            }
        }
    });
    HttpResponse::Ok().content_type("application/json").body(serde_json::to_string_pretty(&doc).unwrap_or_default())
}

/// The outcome of one application: the offer, the draw's explanation for
/// every school ranked at, the inclusion proof.
pub async fn result(state: web::Data<AppState>, s: GuardianSession, path: web::Path<String>) -> Api {
    Ok(HttpResponse::Ok().json(crate::service::offers::result(&state.ctx, s.id(), &path).await?))
}

#[derive(Debug, Deserialize)]
pub struct OfferBody {
    /// `accept` or `decline`.
    answer: String,
}

/// Accepts or declines the offer: `{"answer": "accept" | "decline"}`.
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
