//! The API contract, generated from the handlers and their types with
//! utoipa: every `/api/` route (parent, staff, public) with its parameters,
//! request and response schemas, the one error schema and the security
//! schemes. Served as `GET /api/openapi.json` and as a reference page,
//! `GET /api/docs`, rendered on the server from the same document (no
//! JavaScript, nothing fetched from elsewhere).
//!
//! Adding an endpoint: annotate its handler with `#[utoipa::path(…)]`, add
//! the handler to `paths(…)` below (one line), and register it in its
//! audience's route table (`api_table!` in `web/parent/mod.rs`,
//! `web/public/mod.rs`, or the staff `route_table!`). The test
//! `tests/openapi.rs` fails when a registered `/api/` route is missing here.
//! Its success answer names the type it serialises (`body = SomeView`, the
//! type deriving `utoipa::ToSchema`; a `json!` literal has no schema, so
//! answer a struct) or, for files, `content((shapes::Binary = "text/csv"))`;
//! documents sent as stored bytes are described in [`crate::web::shapes`].
//! The tests refuse a bare `Object` and check real answers against the
//! schemas.
//! Common error answers (400/401/403/404/409/422/429/500) are added to every
//! operation by [`CommonErrors`], so handlers declare only their successes
//! and the errors particular to them.

use crate::error::{ErrorBody, ErrorDetail};
use crate::web::AppState;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use std::sync::OnceLock;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Response};
use utoipa::{Modify, OpenApi, ToSchema};

/// Security scheme names used in `security(…)` of the paths.
pub const GUARDIAN_BEARER: &str = "guardian_bearer";
pub const GUARDIAN_COOKIE: &str = "guardian_cookie";
pub const STAFF_BEARER: &str = "staff_bearer";

/// 422 with every field problem: the usual `error` (the first problem) and
/// `fields`. A request refused before its fields were read (a NUL character
/// anywhere, refused at the edge) has `error` alone, naming the part.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorsBody {
    pub error: ErrorDetail,
    #[schema(required = false)]
    pub fields: Vec<FieldProblem>,
}

/// One field's problem (Chinese message).
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ruxue 义务教育招生 API",
        version = "1.0.0",
        description = "家长报名（与网页表单一致）、工作人员审核与管理、公开查询。错误统一为 {\"error\":{\"code\",\"message\",\"field\"}}，message 为中文。家长：会话 Cookie（修改类请求需带 X-CSRF-Token）或 Authorization: Bearer（GET /api/v1/registration/session 发放）；工作人员：Authorization: Bearer（POST /api/v1/staff/login 发放）。"
    ),
    paths(
        // public
        crate::web::public::keys::keys,
        crate::web::public::draws::list,
        crate::web::public::draws::one,
        crate::web::public::draws::announcement,
        crate::web::public::draws::record,
        crate::web::public::draws::roster,
        crate::web::public::draws::proof,
        crate::web::public::draws::witness_api,
        crate::web::staff::draws::list,
        crate::web::staff::draws::one,
        crate::web::staff::draws::freeze,
        crate::web::staff::draws::add_witness,
        crate::web::staff::draws::witness_value,
        crate::web::staff::draws::announce,
        crate::web::staff::draws::beacon,
        crate::web::staff::draws::run,
        crate::web::staff::draws::publish,
        crate::web::staff::api::campaign_plan,
        crate::web::staff::api::notifications,
        crate::web::staff::api::notification_resend,
        crate::web::staff::after::placements_api,
        crate::web::staff::after::placement_api,
        crate::web::staff::after::placement_decide_api,
        crate::web::staff::after::admit_all_api,
        crate::web::staff::after::notice,
        crate::web::staff::after::school_notices,
        crate::web::staff::after::roster,
        crate::web::staff::after::indicators_api,
        crate::web::parent::api::result,
        crate::web::parent::api::offer,
        crate::web::public::results::lookup_api,
        crate::web::public::results::school_api,
        crate::web::public::lookup::lookup_api,
        document,
        reference,
        // parent
        crate::web::parent::api::session,
        crate::web::parent::api::guardian_get,
        crate::web::parent::api::guardian_put,
        crate::web::parent::api::campaigns,
        crate::web::parent::api::start,
        crate::web::parent::api::draft_get,
        crate::web::parent::api::child_put,
        crate::web::parent::api::documents_post,
        crate::web::parent::api::document_delete,
        crate::web::parent::api::review,
        crate::web::parent::api::submit,
        crate::web::parent::api::applications,
        crate::web::parent::api::application,
        crate::web::parent::api::edit,
        crate::web::parent::api::supplement,
        crate::web::parent::api::withdraw,
        crate::web::parent::api::appeal,
        // staff
        crate::web::staff::api::login,
        crate::web::staff::api::refresh,
        crate::web::staff::api::logout,
        crate::web::staff::api::me,
        crate::web::staff::api::password,
        crate::web::staff::api::queue,
        crate::web::staff::api::detail,
        crate::web::staff::api::decide,
        crate::web::staff::api::assign,
        crate::web::staff::api::second,
        crate::web::staff::api::document,
        crate::web::staff::api::dashboard,
        crate::web::staff::api::dry_run,
        crate::web::staff::api::draw_plan,
        crate::web::staff::api::export,
        crate::web::staff::api::audit,
        crate::web::staff::api::audit_export,
        crate::web::staff::api::accounts,
        crate::web::staff::api::accounts_create,
        crate::web::staff::api::accounts_reset,
        crate::web::staff::api::accounts_state,
        crate::web::staff::api::campaigns,
        crate::web::staff::api::campaign_copy,
        crate::web::staff::api::campaign_advance,
    ),
    components(schemas(ErrorBody, ErrorDetail, FieldErrorsBody, FieldProblem)),
    modifiers(&Security, &CommonErrors),
    tags(
        (name = "public", description = "公开查询（无需登录）"),
        (name = "draws", description = "电脑派位：公告、记录、包含证明与见证人（无需登录）"),
        (name = "parent", description = "家长网上报名（与 /parent 网页表单一致）"),
        (name = "staff", description = "工作人员：登录、审核、统计、导出、审计、账号与招生批次"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            GUARDIAN_BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("家长：GET /api/v1/registration/session 返回的 token"))
                    .build(),
            ),
        );
        c.add_security_scheme(
            GUARDIAN_COOKIE,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::web::parent::auth::SESSION_COOKIE,
                "家长：微信登录后的会话 Cookie；修改类请求另需 X-CSRF-Token 请求头",
            ))),
        );
        c.add_security_scheme(
            STAFF_BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("工作人员：POST /api/v1/staff/login 返回的 access_token（过期后用 refresh_token 换取）"))
                    .build(),
            ),
        );
    }
}

/// Adds the error answers every operation can give, each with [`ErrorBody`].
struct CommonErrors;

fn error_response(description: &str) -> RefOr<Response> {
    use utoipa::openapi::{ContentBuilder, ResponseBuilder};
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ErrorBody")))).build(),
            )
            .build(),
    )
}

impl Modify for CommonErrors {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for item in doc.paths.paths.values_mut() {
            let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for op in ops.into_iter().flatten() {
                // Handler names repeat across audiences (`campaigns`): prefix the tag.
                if let (Some(id), Some(tag)) = (op.operation_id.as_mut(), op.tags.as_ref().and_then(|t| t.first())) {
                    if !id.starts_with(tag.as_str()) {
                        *id = format!("{tag}_{id}");
                    }
                }
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty() && s.iter().any(|r| r != &Default::default()));
                let mut add = |code: &str, text: &str| {
                    op.responses.responses.entry(code.to_string()).or_insert_with(|| error_response(text));
                };
                add("400", "请求格式错误（JSON 或参数无法读取）");
                if secured {
                    add("401", "未登录或登录已过期");
                    add("403", "没有权限，或缺少/错误的 CSRF 令牌");
                }
                add("404", "未找到（或不在本人/本乡镇范围内）");
                // Every operation: a NUL character in any id, query value or
                // body is refused at the edge (`web::guard`), field named.
                add("422", "内容不合规：error.field 指明字段（例如含有 NUL 控制字符）");
                add("429", "请求过于频繁，请稍后再试（带 Retry-After）");
                add("500", "系统内部错误");
                add("503", "系统繁忙（数据库不可用）");
            }
        }
    }
}

/// Timestamps are `chrono::NaiveDateTime` in UTC, serialised without an
/// offset (`2027-07-20T01:00:00`), which is not an RFC 3339 `date-time`:
/// say what they are instead of the format utoipa gives them.
fn utc_without_offset(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            if m.get("format").and_then(|f| f.as_str()) == Some("date-time") {
                m.remove("format");
                m.insert("pattern".into(), r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$".into());
                if !m.contains_key("description") {
                    m.insert("description".into(), "UTC 时间，不带时区后缀（如 2027-07-20T01:00:00，即北京时间 09:00）".into());
                }
            }
            m.values_mut().for_each(utc_without_offset);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(utc_without_offset),
        _ => {}
    }
}

/// The document, built once.
pub fn document_json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        let built = serde_json::to_value(ApiDoc::openapi()).and_then(|mut v| {
            utc_without_offset(&mut v);
            serde_json::to_string_pretty(&v)
        });
        built.unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    })
}

/// `GET /api/openapi.json`: this document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "public", security(()),
    responses((status = 200, description = "OpenAPI 3.1 文档", content_type = "application/json", body = Object)))]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").insert_header(("Cache-Control", "public, max-age=300")).body(document_json())
}

/// One operation on the reference page.
#[derive(Debug, Serialize)]
struct OpView {
    method: String,
    path: String,
    anchor: String,
    summary: String,
    description: String,
    security: Vec<String>,
    params: Vec<Row>,
    body: Option<(String, String)>,
    responses: Vec<(String, String, String)>,
}

/// A schema reference or inline type, in a few words.
fn type_of(s: &serde_json::Value) -> String {
    if let Some(r) = s.get("$ref").and_then(|r| r.as_str()) {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    if let Some(items) = s.get("items") {
        return format!("{}[]", type_of(items));
    }
    if let Some(any) = s.get("oneOf").or_else(|| s.get("anyOf")).and_then(|v| v.as_array()) {
        return any.iter().map(type_of).collect::<Vec<_>>().join(" | ");
    }
    if let Some(all) = s.get("allOf").and_then(|v| v.as_array()) {
        return all.iter().map(type_of).collect::<Vec<_>>().join(" & ");
    }
    match s.get("type") {
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|t| t.as_str()).collect::<Vec<_>>().join(" | "),
        Some(t) => t.as_str().unwrap_or("").to_string(),
        None => "any".into(),
    }
}

/// (field or parameter name, type or location, required, description).
type Row = (String, String, bool, String);
/// (tag description, its operations).
type Group = (String, Vec<OpView>);
/// (schema name, its fields).
type SchemaView = (String, Vec<Row>);

fn reference_view(doc: &serde_json::Value) -> (Vec<Group>, Vec<SchemaView>) {
    let tags: Vec<(String, String)> = doc["tags"]
        .as_array()
        .map(|a| {
            a.iter().map(|t| (t["name"].as_str().unwrap_or("").to_string(), t["description"].as_str().unwrap_or("").to_string())).collect()
        })
        .unwrap_or_default();
    let mut groups: Vec<Group> = tags.iter().map(|(_, d)| (d.clone(), Vec::new())).collect();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in ["get", "post", "put", "delete", "patch"] {
                let Some(op) = item.get(method) else { continue };
                let params = op["parameters"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|p| {
                                (
                                    p["name"].as_str().unwrap_or("").to_string(),
                                    p["in"].as_str().unwrap_or("").to_string(),
                                    p["required"].as_bool().unwrap_or(false),
                                    p["description"].as_str().unwrap_or("").to_string(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let body = op["requestBody"]["content"]
                    .as_object()
                    .and_then(|c| c.iter().next())
                    .map(|(mime, m)| (mime.clone(), type_of(&m["schema"])));
                let responses = op["responses"]
                    .as_object()
                    .map(|r| {
                        r.iter()
                            .map(|(code, resp)| {
                                let ty = resp["content"]
                                    .as_object()
                                    .and_then(|c| c.values().next())
                                    .map(|m| type_of(&m["schema"]))
                                    .unwrap_or_default();
                                (code.clone(), resp["description"].as_str().unwrap_or("").to_string(), ty)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let security = op["security"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|r| r.as_object()).flat_map(|o| o.keys().cloned()).collect())
                    .unwrap_or_default();
                let tag = op["tags"][0].as_str().unwrap_or("");
                let view = OpView {
                    anchor: format!("{method}-{}", path.replace(['/', '{', '}', '.'], "-")),
                    method: method.to_uppercase(),
                    path: path.clone(),
                    summary: op["summary"].as_str().unwrap_or("").to_string(),
                    description: op["description"].as_str().unwrap_or("").to_string(),
                    security,
                    params,
                    body,
                    responses,
                };
                match tags.iter().position(|(n, _)| n == tag) {
                    Some(i) => groups[i].1.push(view),
                    None => groups.push((tag.to_string(), vec![view])),
                }
            }
        }
    }
    let schemas = doc["components"]["schemas"]
        .as_object()
        .map(|s| {
            s.iter()
                .map(|(name, schema)| {
                    let required: Vec<&str> =
                        schema["required"].as_array().map(|r| r.iter().filter_map(|x| x.as_str()).collect()).unwrap_or_default();
                    let props = schema["properties"]
                        .as_object()
                        .map(|p| {
                            p.iter()
                                .map(|(f, v)| {
                                    (
                                        f.clone(),
                                        type_of(v),
                                        required.contains(&f.as_str()),
                                        v["description"].as_str().unwrap_or("").to_string(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    (name.clone(), props)
                })
                .collect()
        })
        .unwrap_or_default();
    (groups, schemas)
}

/// `GET /api/docs`: the reference, rendered from the document.
#[utoipa::path(get, path = "/api/docs", tag = "public", security(()),
    responses((status = 200, description = "API 参考页面（HTML）", content_type = "text/html")))]
pub async fn reference(state: web::Data<AppState>) -> Result<HttpResponse, crate::error::AppError> {
    let doc: serde_json::Value = serde_json::from_str(document_json()).map_err(crate::error::AppError::internal)?;
    let (groups, schemas) = reference_view(&doc);
    let ctx = minijinja::context! {
        bureau => state.settings.bureau.name.clone(),
        title => doc["info"]["title"].clone(),
        version => doc["info"]["version"].clone(),
        description => doc["info"]["description"].clone(),
        groups => groups,
        schemas => schemas,
    };
    crate::web::templates::render(&state.templates, "api_docs.html", ctx)
}
