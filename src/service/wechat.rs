//! Talking to WeChat's server API (the base URL is `wechat.api_base`, so
//! tests point it at a server of their own): the web-login code exchange.

use super::Ctx;
use crate::registration::wechat::{self, WechatError};
use secrecy::ExposeSecret;
use std::time::Duration;

/// A call to WeChat gives up after this long (the parent sees "try again").
pub const WECHAT_TIMEOUT: Duration = Duration::from_secs(5);

/// Exchanges the code at WeChat (time-limited).
pub async fn exchange_code(cx: &Ctx, code: &str) -> Result<wechat::WechatIdentity, WechatError> {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let client = CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(WECHAT_TIMEOUT)
            .connect_timeout(WECHAT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    });
    let w = &cx.settings.wechat;
    let url = wechat::token_url(&w.api_base, &w.app_id, w.app_secret.expose_secret(), code);
    let resp = match tokio::time::timeout(WECHAT_TIMEOUT, client.get(url).send()).await {
        Err(_) => return Err(WechatError::Timeout),
        Ok(Err(e)) if e.is_timeout() => return Err(WechatError::Timeout),
        Ok(Err(_)) => return Err(WechatError::Unreachable),
        Ok(Ok(r)) => r,
    };
    if !resp.status().is_success() {
        return Err(WechatError::Unreachable);
    }
    let body = match tokio::time::timeout(WECHAT_TIMEOUT, resp.bytes()).await {
        Err(_) => return Err(WechatError::Timeout),
        Ok(Err(e)) if e.is_timeout() => return Err(WechatError::Timeout),
        Ok(Err(_)) => return Err(WechatError::Unreachable),
        Ok(Ok(b)) => b,
    };
    wechat::parse_token_response(&body)
}
