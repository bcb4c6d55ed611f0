//! WeChat official-account web authorisation (网页授权, `snsapi_base`): the
//! authorise URL and the reading of the code-exchange answer. Pure; the HTTP
//! call lives in `crate::web::parent::auth`.
//!
//! Documented answer of `GET {api}/sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code`:
//! `{"access_token","expires_in","refresh_token","openid","scope","is_snapshotuser"?,"unionid"?}`
//! on success, `{"errcode":40029,"errmsg":"invalid code"}` on failure. A
//! "snapshot" user (`is_snapshotuser: 1`, the page opened from a Moments
//! snapshot) has a virtual openid and must not be treated as logged in.

use serde::Deserialize;

/// The page WeChat shows the user, then sends back to `redirect_uri` with `code` and `state`.
pub fn authorize_url(authorize_base: &str, app_id: &str, redirect_uri: &str, state: &str) -> String {
    format!(
        "{}/connect/oauth2/authorize?appid={}&redirect_uri={}&response_type=code&scope=snsapi_base&state={}#wechat_redirect",
        authorize_base.trim_end_matches('/'),
        percent_encode(app_id),
        percent_encode(redirect_uri),
        percent_encode(state)
    )
}

/// The code-exchange URL (the secret is part of WeChat's protocol; never log this URL).
pub fn token_url(api_base: &str, app_id: &str, secret: &str, code: &str) -> String {
    format!(
        "{}/sns/oauth2/access_token?appid={}&secret={}&code={}&grant_type=authorization_code",
        api_base.trim_end_matches('/'),
        percent_encode(app_id),
        percent_encode(secret),
        percent_encode(code)
    )
}

/// RFC 3986 percent-encoding of everything but unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Who WeChat says the user is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WechatIdentity {
    pub openid: String,
    pub unionid: Option<String>,
}

/// Why the login did not succeed. `Display` is the Chinese text for the page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WechatError {
    #[error("{}", errcode_message(*.errcode))]
    Api { errcode: i64, errmsg: String },
    #[error("您正在以“快照”模式浏览，无法登录。请点击页面下方“使用完整服务”，或从教育局公众号菜单重新进入")]
    Snapshot,
    #[error("微信返回的信息无法识别，请稍后重试")]
    Malformed,
    #[error("微信服务器响应超时，请稍后重试")]
    Timeout,
    #[error("暂时无法连接微信服务器，请稍后重试")]
    Unreachable,
    #[error("您取消了微信授权，未能登录")]
    Denied,
    #[error("登录请求已过期或不是从本页面发起的，请重新登录")]
    BadState,
}

impl WechatError {
    /// A stable name for logs (never the user's data).
    pub fn kind(&self) -> &'static str {
        match self {
            WechatError::Api { .. } => "errcode",
            WechatError::Snapshot => "snapshot_user",
            WechatError::Malformed => "malformed_answer",
            WechatError::Timeout => "timeout",
            WechatError::Unreachable => "unreachable",
            WechatError::Denied => "denied",
            WechatError::BadState => "bad_state",
        }
    }
}

fn errcode_message(code: i64) -> String {
    match code {
        40029 => "微信登录凭证无效（可能已过期），请重新登录".into(),
        40163 => "微信登录凭证已被使用，请重新登录".into(),
        40125 | 40001 | 40013 => "公众号登录配置有误，请联系教育局招生办".into(),
        -1 => "微信系统繁忙，请稍后重试".into(),
        45011 => "登录过于频繁，请稍后重试".into(),
        other => format!("微信登录失败（错误码 {other}），请重新登录"),
    }
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: Option<String>,
    #[serde(default)]
    openid: Option<String>,
    #[serde(default)]
    unionid: Option<String>,
    #[serde(default)]
    is_snapshotuser: Option<i64>,
}

/// Reads the code-exchange answer. Every `errcode` other than 0, a snapshot
/// user, and a missing openid mean "not logged in".
pub fn parse_token_response(body: &[u8]) -> Result<WechatIdentity, WechatError> {
    let a: TokenAnswer = serde_json::from_slice(body).map_err(|_| WechatError::Malformed)?;
    if let Some(code) = a.errcode.filter(|c| *c != 0) {
        return Err(WechatError::Api { errcode: code, errmsg: a.errmsg.unwrap_or_default() });
    }
    if a.is_snapshotuser == Some(1) {
        return Err(WechatError::Snapshot);
    }
    let openid = a.openid.map(|s| s.trim().to_string()).filter(|s| valid_openid(s)).ok_or(WechatError::Malformed)?;
    let unionid = a.unionid.map(|s| s.trim().to_string()).filter(|s| valid_openid(s));
    Ok(WechatIdentity { openid, unionid })
}

/// An openid as WeChat issues them (28 URL-safe characters), or as typed in the
/// dev login: 1–64 of `[A-Za-z0-9_-]`.
pub fn valid_openid(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        let ok = parse_token_response(
            br#"{"access_token":"A","expires_in":7200,"refresh_token":"R","openid":"oABC_12-x","scope":"snsapi_base"}"#,
        )
        .unwrap();
        assert_eq!(ok, WechatIdentity { openid: "oABC_12-x".into(), unionid: None });
        let u = parse_token_response(br#"{"openid":"o1","unionid":"u1","is_snapshotuser":0}"#).unwrap();
        assert_eq!(u.unionid.as_deref(), Some("u1"));
        for (body, code) in [(r#"{"errcode":40029,"errmsg":"invalid code"}"#, 40029), (r#"{"errcode":-1,"errmsg":"system error"}"#, -1)] {
            match parse_token_response(body.as_bytes()) {
                Err(WechatError::Api { errcode, .. }) => assert_eq!(errcode, code),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(parse_token_response(br#"{"openid":"o1","is_snapshotuser":1}"#), Err(WechatError::Snapshot));
        assert_eq!(parse_token_response(b"<html>"), Err(WechatError::Malformed));
        assert_eq!(parse_token_response(br#"{"scope":"snsapi_base"}"#), Err(WechatError::Malformed));
        assert!(WechatError::Api { errcode: 40163, errmsg: String::new() }.to_string().contains("已被使用"));
    }

    #[test]
    fn urls() {
        let u = authorize_url("https://open.weixin.qq.com/", "wx1", "http://h/parent/wechat/callback", "s t");
        assert_eq!(u, "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx1&redirect_uri=http%3A%2F%2Fh%2Fparent%2Fwechat%2Fcallback&response_type=code&scope=snsapi_base&state=s%20t#wechat_redirect");
    }
}
