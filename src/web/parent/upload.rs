//! Reading an upload from a multipart body, bounded in size, for the
//! documents step of the page and the API: `_csrf`, `kind`, `file`, and
//! optionally `replace` (the stored name of an upload it replaces).

use crate::error::AppError;
use crate::service::registration::{too_large, UploadForm};

/// Reads `_csrf`, `kind` and `file` from a multipart body, never holding more
/// than `max` bytes of the file: beyond it, 413 naming the field.
pub async fn read_upload(req: &actix_web::HttpRequest, mut mp: actix_multipart::Multipart, max: usize) -> Result<UploadForm, AppError> {
    use futures_util::TryStreamExt;
    const TEXT_MAX: usize = 256;
    if let Some(len) =
        req.headers().get(actix_web::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok())
    {
        if len > max + 64 * 1024 {
            return Err(too_large(max));
        }
    }
    // Every refusal names the form field it is about, in Chinese only.
    let bad = |m: &str| AppError::BadRequest { code: "invalid_multipart", message: m.to_string(), field: Some("file".into()) };
    // The body's deadline (`server.body_read_timeout_secs`, `web::guard`) ends the stream with an error.
    let read_error = |m: &str| if crate::web::guard::BodyDeadline::passed(req) { AppError::Timeout } else { bad(m) };
    let nul = |field: &str| AppError::invalid_code("nul_character", field, "内容中含有不允许的控制字符（NUL），请删除后重新填写");
    let mut out = UploadForm { csrf: String::new(), kind: String::new(), file: None, replace: String::new() };
    while let Some(mut field) = mp.try_next().await.map_err(|_| read_error("上传内容无法读取，请重新选择文件"))? {
        let name = field.name().unwrap_or("").to_string();
        if name.contains('\0') {
            return Err(nul("multipart"));
        }
        let limit = if name == "file" { max } else { TEXT_MAX };
        let mut buf = Vec::new();
        while let Some(chunk) = field.try_next().await.map_err(|_| read_error("上传中断，请重试"))? {
            if buf.len() + chunk.len() > limit {
                return Err(if name == "file" {
                    too_large(max)
                } else {
                    let label = if name == "kind" { "材料类别" } else { "表单内容" };
                    AppError::PayloadTooLarge {
                        field: Some(name.clone()), message: format!("{label}过长，请刷新页面后重新选择")
                    }
                });
            }
            buf.extend_from_slice(&chunk);
        }
        if name != "file" && buf.contains(&0) {
            return Err(nul(&name));
        }
        match name.as_str() {
            "_csrf" => out.csrf = String::from_utf8_lossy(&buf).into_owned(),
            "kind" => out.kind = String::from_utf8_lossy(&buf).trim().to_string(),
            "replace" => out.replace = String::from_utf8_lossy(&buf).trim().to_string(),
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
