//! Notifications to guardians through the outbox (issue #13).
//!
//! - [`enqueue`]: called by other use cases *inside their transaction*, so a
//!   message exists exactly when the state change it announces does.
//! - [`Worker`]: claims due messages under a lease (`FOR UPDATE SKIP LOCKED`
//!   on PostgreSQL, so several instances share one outbox; one worker on
//!   SQLite), delivers them by email (lettre: SMTP with STARTTLS or implicit
//!   TLS and a connection pool, or `.eml` files) or WeChat template message,
//!   and records the outcome: sent, a retry after an exponential backoff
//!   with jitter, `failed` (refused: 43101, 40003, no address) or `dead`
//!   after `notify.max_attempts`. Runs in `ruxue serve` and as `ruxue worker`.
//! - [`list`] / [`resend`]: the staff page and API (resend audited).
//!
//! A worker that dies between sending and recording leaves its lease to
//! expire; the message is sent again with the same deduplication key
//! (WeChat `client_msg_id`, the email Message-ID), so the guardian sees it once.

use super::Ctx;
use crate::config::{MailBackendKind, Settings, SmtpTls};
use crate::db::models::Notification;
use crate::db::{self, audit, notify as dbn, Db, DbConn};
use crate::domain::{NotifyChannels, NotifyEvent, NotifyStatus, Role};
use crate::error::AppError;
use crate::notify::{self, Event, Message, RenderCtx, WechatVerdict};
use crate::staff::Identity;
use chrono::{Duration, NaiveDateTime};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;

// ---------------------------------------------------------------- enqueue

/// Whom an event concerns.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub guardian_id: &'a str,
    pub application_id: Option<&'a str>,
    pub campaign_id: Option<&'a str>,
}

/// Queues `event` for the guardian on each channel they chose, in the
/// caller's transaction. Returns how many messages were queued (0 when the
/// same event was queued before: the deduplication key). ID-number-shaped
/// text is redacted when the message is rendered; as a last guard a message
/// that still carried one would be refused (nothing written).
pub fn enqueue(conn: &mut DbConn, settings: &Settings, target: Target<'_>, event: &Event, now: NaiveDateTime) -> Result<usize, AppError> {
    let g = dbn::guardian(conn, target.guardian_id)?.ok_or(AppError::NotFound)?;
    let mut queued = 0;
    for row in rows_for(settings, &g, target, event, now)? {
        if dbn::insert(conn, &row)? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// The outbox rows of one event for one guardian: one per channel they chose.
fn rows_for(
    settings: &Settings,
    g: &crate::db::models::Guardian,
    target: Target<'_>,
    event: &Event,
    now: NaiveDateTime,
) -> Result<Vec<Notification>, AppError> {
    let choice = NotifyChannels::parse(&g.notify_channels).unwrap_or(NotifyChannels::Wechat);
    let email = g.email.clone().filter(|e| !e.trim().is_empty());
    let base = settings.server.base_url.trim_end_matches('/');
    let status_url = match target.application_id {
        Some(a) => format!("{base}/parent/applications/{a}"),
        None => format!("{base}/parent"),
    };
    let rc = RenderCtx { bureau_name: &settings.bureau.name, bureau_phone: &settings.bureau.phone, status_url: &status_url };
    let message = notify::render(event, &rc);
    let (subject, body, html) = (message.subject(), message.text(), message.html());
    if notify::contains_id_number(&subject) || notify::contains_id_number(&body) || notify::contains_id_number(&html) {
        return Err(AppError::internal(format!("a {} notification would carry an ID number; not queued", event.kind())));
    }
    let data_json = serde_json::to_string(&message).map_err(AppError::internal)?;
    Ok(notify::channels(choice, email.is_some())
        .into_iter()
        .map(|channel| Notification {
            id: db::new_id(),
            dedup_key: event.dedup_key(channel),
            event: event.kind().as_str().into(),
            campaign_id: target.campaign_id.map(str::to_string),
            application_id: target.application_id.map(str::to_string),
            guardian_id: Some(g.id.clone()),
            channel: channel.into(),
            recipient: if channel == "email" { email.clone().unwrap_or_default() } else { g.openid.clone() },
            subject: subject.clone(),
            body: body.clone(),
            data_json: data_json.clone(),
            status: NotifyStatus::Pending.as_str().into(),
            attempts: 0,
            next_attempt_at: now,
            lease_owner: None,
            lease_expires_at: None,
            last_error: None,
            created_at: now,
            sent_at: None,
        })
        .collect())
}

/// Queues one event per application of a campaign (a draw's announcement or
/// its results: up to 100,000 families) in the caller's transaction, set by
/// set: the guardians are read a chunk of applications at a time and the
/// rows written in multi-row inserts that skip a deduplication key already
/// queued, so running it again queues nothing. Returns how many were queued.
pub fn enqueue_batch(
    conn: &mut DbConn,
    settings: &Settings,
    campaign_id: &str,
    events: &[(String, Event)],
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let ids: Vec<String> = events.iter().map(|(a, _)| a.clone()).collect();
    let guardians = dbn::guardians_of_applications(conn, &ids)?;
    let mut rows = Vec::with_capacity(events.len());
    for (app_id, event) in events {
        let g = guardians.get(app_id).ok_or(AppError::NotFound)?;
        let target = Target { guardian_id: &g.id, application_id: Some(app_id), campaign_id: Some(campaign_id) };
        rows.extend(rows_for(settings, g, target, event, now)?);
    }
    dbn::insert_many(conn, &rows)
}

/// Queues an event for the guardian of `application_id`.
pub fn enqueue_for_application(
    conn: &mut DbConn,
    settings: &Settings,
    application_id: &str,
    campaign_id: &str,
    event: &Event,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let g = dbn::guardian_of_application(conn, application_id)?.ok_or(AppError::NotFound)?;
    enqueue(conn, settings, Target { guardian_id: &g.id, application_id: Some(application_id), campaign_id: Some(campaign_id) }, event, now)
}

/// A school's or zone's name for a message (the id when unknown).
pub fn place_name(conn: &mut DbConn, id: Option<&str>) -> Result<String, AppError> {
    match id {
        None => Ok("待定".into()),
        Some(i) => Ok(dbn::place_name(conn, i)?.unwrap_or_else(|| i.to_string())),
    }
}

/// Queues reminders for open offers whose deadline is within
/// `notify.offer_reminder_hours` (once each: the deduplication key).
pub fn sweep_offer_reminders(db: &Db, settings: &Settings, now: NaiveDateTime) -> Result<usize, AppError> {
    let until = now + Duration::hours(settings.notify.offer_reminder_hours);
    let due = db.write_blocking(|c| dbn::offers_due(c, now, until))?;
    let mut queued = 0;
    for o in due {
        let event = Event::OfferReminder {
            offer_id: o.offer_id.clone(),
            registration_no: o.registration_no.clone(),
            school: o.school.clone(),
            deadline: o.deadline,
        };
        // Already queued: skip without a write transaction.
        if db.write_blocking(|c| dbn::exists(c, &event.dedup_key("wechat")))? {
            continue;
        }
        queued += db.write_blocking(|c| enqueue_for_application(c, settings, &o.application_id, &o.campaign_id, &event, now))?;
    }
    Ok(queued)
}

// ---------------------------------------------------------------- delivery

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Try again later (with backoff), or dead after the last attempt.
    Retry(String),
    /// Never retried (the user refused messages, a bad openid, no address).
    Refused(String),
}

type Smtp = lettre::AsyncSmtpTransport<lettre::Tokio1Executor>;

/// The email transport from `[mail]`.
pub enum Mailer {
    Smtp(Box<Smtp>),
    File(lettre::AsyncFileTransport<lettre::Tokio1Executor>),
    Memory(lettre::transport::stub::AsyncStubTransport),
}

impl Mailer {
    pub fn from_settings(s: &Settings) -> Result<Self, String> {
        let m = &s.mail;
        Ok(match m.backend {
            MailBackendKind::File => {
                std::fs::create_dir_all(&m.file_dir).map_err(|e| format!("mail.file_dir {}: {e}", m.file_dir.display()))?;
                Mailer::File(lettre::AsyncFileTransport::new(&m.file_dir))
            }
            MailBackendKind::Memory => Mailer::Memory(lettre::transport::stub::AsyncStubTransport::new_ok()),
            MailBackendKind::Smtp => {
                use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
                use lettre::transport::smtp::PoolConfig;
                let tls = || -> Result<TlsParameters, String> {
                    let mut b = TlsParameters::builder(m.smtp_host.clone());
                    if let Some(ca) = &m.smtp_ca_file {
                        let pem = std::fs::read(ca).map_err(|e| format!("mail.smtp_ca_file {}: {e}", ca.display()))?;
                        b = b.add_root_certificate(Certificate::from_pem(&pem).map_err(|e| format!("mail.smtp_ca_file: {e}"))?);
                    }
                    b.build_rustls().map_err(|e| format!("mail.smtp_tls: {e}"))
                };
                let mut b = Smtp::builder_dangerous(m.smtp_host.as_str()).port(m.smtp_port);
                b = match m.smtp_tls {
                    SmtpTls::None => b,
                    SmtpTls::Starttls => b.tls(Tls::Required(tls()?)),
                    SmtpTls::Tls => b.tls(Tls::Wrapper(tls()?)),
                };
                if !m.smtp_user.is_empty() {
                    b = b.credentials(lettre::transport::smtp::authentication::Credentials::new(
                        m.smtp_user.clone(),
                        m.smtp_password.expose_secret().to_string(),
                    ));
                }
                let b = b
                    .timeout(Some(std::time::Duration::from_secs(m.smtp_timeout_secs)))
                    .pool_config(PoolConfig::new().max_size(m.smtp_pool_size));
                Mailer::Smtp(Box::new(b.build()))
            }
        })
    }

    async fn send(&self, email: lettre::Message) -> Result<(), String> {
        use lettre::AsyncTransport;
        match self {
            Mailer::Smtp(t) => t.send(email).await.map(|_| ()).map_err(|e| format!("SMTP: {e}")),
            Mailer::File(t) => t.send(email).await.map(|_| ()).map_err(|e| format!("mail file: {e}")),
            Mailer::Memory(t) => t.send(email).await.map(|_| ()).map_err(|e| format!("mail: {e}")),
        }
    }
}

/// Builds the email of a queued message: subject, text and HTML bodies,
/// Message-ID from the deduplication key.
pub fn email_of(settings: &Settings, n: &Notification) -> Result<lettre::Message, String> {
    use lettre::message::{header::ContentType, MultiPart, SinglePart};
    let m: Message = serde_json::from_str(&n.data_json).map_err(|e| format!("stored message: {e}"))?;
    let from = settings.mail.from.parse().map_err(|e| format!("mail.from: {e}"))?;
    let to = n.recipient.parse().map_err(|_| "邮箱地址无效".to_string())?;
    let host = settings.mail.from.rsplit_once('@').map(|(_, h)| h.trim_end_matches('>')).unwrap_or("ruxue.invalid");
    lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(n.subject.clone())
        .message_id(Some(format!("<{}@{host}>", n.dedup_key)))
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(n.body.clone()))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(m.html())),
        )
        .map_err(|e| format!("email: {e}"))
}

/// WeChat's server API: the shared access_token and template messages.
pub struct Wechat {
    http: reqwest::Client,
}

#[derive(serde::Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: Option<String>,
}

#[derive(serde::Deserialize)]
struct SendAnswer {
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: Option<String>,
}

impl Wechat {
    pub fn new(s: &Settings) -> Self {
        let t = std::time::Duration::from_secs(s.wechat.timeout_secs);
        let http = reqwest::Client::builder()
            .timeout(t)
            .connect_timeout(t)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self { http }
    }

    /// The access_token: the shared one while it is fresh; else one instance
    /// fetches (holding `refreshing_until`) and the others wait for it.
    /// `bad` is a token WeChat just called invalid (40001/42001).
    pub async fn token(&self, db: &Db, s: &Settings, bad: Option<&str>) -> Result<String, String> {
        let w = &s.wechat;
        let margin = Duration::seconds(w.token_margin_secs);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(w.timeout_secs * 2 + 5);
        loop {
            let app_id = w.app_id.clone();
            let row = db.run(move |c| dbn::token(c, &app_id)).await.map_err(|e| e.to_string())?;
            let now = db::now();
            if let Some(r) = &row {
                if !r.access_token.is_empty() && r.expires_at > now + margin && Some(r.access_token.as_str()) != bad {
                    return Ok(r.access_token.clone());
                }
            }
            let seen = row.map(|r| r.access_token).unwrap_or_default();
            let until = now + Duration::seconds(w.timeout_secs as i64 + 5);
            let app_id = w.app_id.clone();
            let s2 = seen.clone();
            let mine = db.write(move |c| dbn::take_refresh(c, &app_id, &s2, now, until)).await.map_err(|e| e.to_string())?;
            if mine {
                let fetched = self.fetch_token(s).await;
                let app_id = w.app_id.clone();
                let stored = fetched.as_ref().ok().map(|(t, exp)| (t.clone(), now + Duration::seconds(*exp)));
                db.write(move |c| dbn::store_token(c, &app_id, stored.as_ref().map(|(t, e)| (t.as_str(), *e)), db::now()))
                    .await
                    .map_err(|e| e.to_string())?;
                return fetched.map(|(t, _)| t);
            }
            if std::time::Instant::now() > deadline {
                return Err("等待另一实例获取 access_token 超时".into());
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    async fn fetch_token(&self, s: &Settings) -> Result<(String, i64), String> {
        let w = &s.wechat;
        let url = format!("{}/cgi-bin/token", w.api_base.trim_end_matches('/'));
        let r = self
            .http
            .get(url)
            .query(&[("grant_type", "client_credential"), ("appid", w.app_id.as_str()), ("secret", w.app_secret.expose_secret())])
            .send()
            .await
            .map_err(|e| if e.is_timeout() { "获取 access_token 超时".to_string() } else { "无法连接微信服务器".to_string() })?;
        let a: TokenAnswer = r.json().await.map_err(|_| "微信返回的 access_token 无法解析".to_string())?;
        match (a.access_token, a.errcode.unwrap_or(0)) {
            (Some(t), 0) if !t.is_empty() => Ok((t, a.expires_in.unwrap_or(7200))),
            (_, code) => Err(format!("获取 access_token 失败：errcode {code} {}", a.errmsg.unwrap_or_default())),
        }
    }

    async fn post(&self, s: &Settings, token: &str, body: &serde_json::Value) -> Result<i64, (bool, String)> {
        let url = format!("{}/cgi-bin/message/template/send", s.wechat.api_base.trim_end_matches('/'));
        let r = self.http.post(url).query(&[("access_token", token)]).json(body).send().await.map_err(|e| {
            if e.is_timeout() {
                (true, "微信接口超时".to_string())
            } else {
                (false, "无法连接微信服务器".to_string())
            }
        })?;
        if !r.status().is_success() {
            return Err((false, format!("微信接口 HTTP {}", r.status().as_u16())));
        }
        let a: SendAnswer = r.json().await.map_err(|_| (false, "微信返回无法解析".to_string()))?;
        if let (Some(c), Some(m)) = (a.errcode, &a.errmsg) {
            if c != 0 {
                tracing::debug!(errcode = c, errmsg = %m, "wechat template send refused");
            }
        }
        Ok(a.errcode.unwrap_or(0))
    }

    /// Sends one template message; 40001/42001 refresh the token and retry once.
    pub async fn send(&self, db: &Db, s: &Settings, n: &Notification) -> Delivery {
        let Some(template_id) = template_id(s, &n.event) else {
            return Delivery::Refused(format!("未配置“{}”的微信模板（wechat.template_{}）", event_label(&n.event), template_key(&n.event)));
        };
        let m: Message = match serde_json::from_str(&n.data_json) {
            Ok(m) => m,
            Err(e) => return Delivery::Refused(format!("消息内容无法读取：{e}")),
        };
        let body = json!({
            "touser": n.recipient,
            "template_id": template_id,
            "url": m.url,
            "data": m.wechat_data(),
            "client_msg_id": n.dedup_key,
        });
        let mut bad: Option<String> = None;
        for round in 0..2 {
            let token = match self.token(db, s, bad.as_deref()).await {
                Ok(t) => t,
                Err(e) => return Delivery::Retry(e),
            };
            let code = match self.post(s, &token, &body).await {
                Ok(c) => c,
                Err((_, e)) => return Delivery::Retry(e),
            };
            match notify::classify_wechat(code) {
                WechatVerdict::Delivered => return Delivery::Sent,
                WechatVerdict::Refused if code == 43101 => return Delivery::Refused("用户拒收消息（errcode 43101）".into()),
                WechatVerdict::Refused => return Delivery::Refused(format!("openid 无效（errcode {code}）")),
                WechatVerdict::RefreshToken if round == 0 => bad = Some(token),
                WechatVerdict::RefreshToken => return Delivery::Retry(format!("access_token 刷新后仍无效（errcode {code}）")),
                WechatVerdict::Retry => return Delivery::Retry(format!("微信系统繁忙或出错（errcode {code}）")),
            }
        }
        Delivery::Retry("access_token 无效".into())
    }
}

fn template_key(event: &str) -> &'static str {
    match NotifyEvent::parse(event) {
        Some(NotifyEvent::Received) => "received",
        Some(NotifyEvent::Supplement) => "supplement",
        Some(NotifyEvent::Approved) => "approved",
        Some(NotifyEvent::Rejected) => "rejected",
        Some(NotifyEvent::DrawScheduled) => "draw_scheduled",
        // Admitted without a draw is that family's result: the same template.
        Some(NotifyEvent::DrawResult | NotifyEvent::Admitted) => "result",
        Some(NotifyEvent::OfferReminder) => "offer_reminder",
        Some(NotifyEvent::WaitlistOffer) => "waitlist_offer",
        Some(NotifyEvent::Placement) => "placement",
        Some(NotifyEvent::Legacy) | None => "supplement",
    }
}

fn event_label(event: &str) -> &'static str {
    NotifyEvent::parse(event).map(|e| e.label()).unwrap_or("通知")
}

/// The configured template id for an event (`wechat.template_*`).
fn template_id(s: &Settings, event: &str) -> Option<String> {
    let w = &s.wechat;
    let id = match template_key(event) {
        "received" => &w.template_received,
        "approved" => &w.template_approved,
        "rejected" => &w.template_rejected,
        "draw_scheduled" => &w.template_draw_scheduled,
        "result" => &w.template_result,
        "offer_reminder" => &w.template_offer_reminder,
        "waitlist_offer" => &w.template_waitlist_offer,
        "placement" => &w.template_placement,
        _ => &w.template_supplement,
    };
    Some(id.clone()).filter(|i| !i.trim().is_empty())
}

/// Test-only fault injection: `RUXUE_TEST_PAUSE_AFTER_SEND_MS` makes the
/// worker wait that long between a delivery and recording it (so a test can
/// kill it there). Ignored in production.
fn pause_after_send(s: &Settings) -> Option<std::time::Duration> {
    if s.environment == crate::config::Environment::Production {
        return None;
    }
    std::env::var("RUXUE_TEST_PAUSE_AFTER_SEND_MS").ok()?.parse().ok().map(std::time::Duration::from_millis)
}

/// The outbox worker.
pub struct Worker {
    db: Db,
    settings: Arc<Settings>,
    /// This worker's lease name.
    pub owner: String,
    mailer: Mailer,
    wechat: Wechat,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pass {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub dead: usize,
}

impl Pass {
    pub fn total(&self) -> usize {
        self.sent + self.retried + self.failed + self.dead
    }
}

impl Worker {
    pub fn new(db: Db, settings: Arc<Settings>) -> Result<Self, String> {
        let mailer = Mailer::from_settings(&settings)?;
        let wechat = Wechat::new(&settings);
        let host = std::env::var("HOSTNAME").unwrap_or_default();
        let owner = format!("{}{}{}", host, if host.is_empty() { "" } else { ":" }, db::new_id());
        Ok(Self { db, settings, owner, mailer, wechat })
    }

    /// Claims one batch of due messages and delivers it.
    pub async fn run_once(&self) -> Result<Pass, AppError> {
        let s = &self.settings;
        let now = db::now();
        let until = now + Duration::seconds(s.notify.lease_secs);
        let (owner, limit) = (self.owner.clone(), s.notify.batch_size);
        let batch = self.db.write(move |c| dbn::claim(c, &owner, now, until, limit)).await?;
        let mut pass = Pass::default();
        let mut first_refusal: Option<(String, String, String)> = None;
        for n in batch {
            // A server's error may quote the address: logs and staff see it masked.
            let masked = notify::mask_recipient(&n.channel, &n.recipient);
            let outcome = match self.deliver(&n).await {
                Delivery::Retry(e) => Delivery::Retry(e.replace(&n.recipient, &masked)),
                Delivery::Refused(e) => Delivery::Refused(e.replace(&n.recipient, &masked)),
                Delivery::Sent => Delivery::Sent,
            };
            if let Some(p) = pause_after_send(s) {
                tokio::time::sleep(p).await;
            }
            let at = db::now();
            let (id, owner) = (n.id.clone(), self.owner.clone());
            match outcome {
                Delivery::Sent => {
                    self.db.write(move |c| dbn::mark_sent(c, &id, at)).await?;
                    pass.sent += 1;
                }
                Delivery::Refused(e) => {
                    // One warning per pass (below), not one per message: a
                    // missing template refuses a whole draw's messages at once.
                    tracing::debug!(notification = %n.id, event = %n.event, channel = %n.channel, error = %e, "notification refused");
                    first_refusal.get_or_insert_with(|| (n.event.clone(), n.channel.clone(), e.clone()));
                    self.db.write(move |c| dbn::mark_unsent(c, &id, &owner, "failed", at, &e)).await?;
                    pass.failed += 1;
                }
                Delivery::Retry(e) if n.attempts >= s.notify.max_attempts => {
                    tracing::warn!(notification = %n.id, attempts = n.attempts, error = %e, "notification dead-lettered");
                    let e = format!("已尝试 {} 次：{e}", n.attempts);
                    self.db.write(move |c| dbn::mark_unsent(c, &id, &owner, "dead", at, &e)).await?;
                    pass.dead += 1;
                }
                Delivery::Retry(e) => {
                    let r: f64 = rand::random();
                    let wait = notify::backoff_secs(n.attempts, s.notify.backoff_base_secs, s.notify.backoff_cap_secs, r);
                    let next = at + Duration::seconds(wait);
                    self.db.write(move |c| dbn::mark_unsent(c, &id, &owner, "pending", next, &e)).await?;
                    pass.retried += 1;
                }
            }
        }
        if let Some((event, channel, error)) = first_refusal {
            tracing::warn!(refused = pass.failed, %event, %channel, %error, "notifications refused (listed on the staff notifications page)");
        }
        Ok(pass)
    }

    async fn deliver(&self, n: &Notification) -> Delivery {
        match n.channel.as_str() {
            "email" => match email_of(&self.settings, n) {
                Err(e) => Delivery::Refused(e),
                Ok(m) => match self.mailer.send(m).await {
                    Ok(()) => Delivery::Sent,
                    Err(e) => Delivery::Retry(e),
                },
            },
            "wechat" => self.wechat.send(&self.db, &self.settings, n).await,
            other => Delivery::Refused(format!("不支持的发送渠道 {other}")),
        }
    }

    /// Runs until `stop` resolves: delivers what is due, sweeps offer
    /// reminders once a minute, sleeps `notify.poll_interval_ms` when idle.
    pub async fn run(&self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let poll = std::time::Duration::from_millis(self.settings.notify.poll_interval_ms);
        let mut last_sweep: Option<std::time::Instant> = None;
        loop {
            if last_sweep.map_or(true, |t| t.elapsed() >= std::time::Duration::from_secs(60)) {
                last_sweep = Some(std::time::Instant::now());
                let (db, s) = (self.db.clone(), self.settings.clone());
                match tokio::task::spawn_blocking(move || sweep_offer_reminders(&db, &s, db::now())).await {
                    Ok(Ok(k)) if k > 0 => tracing::info!(queued = k, "offer deadline reminders queued"),
                    Ok(Err(e)) => tracing::warn!(error = %e, "offer reminder sweep failed; retrying later"),
                    _ => {}
                }
            }
            let idle = match self.run_once().await {
                Ok(p) => {
                    if p.total() > 0 {
                        tracing::info!(sent = p.sent, retried = p.retried, failed = p.failed, dead = p.dead, "outbox pass");
                    }
                    p.total() == 0
                }
                Err(e) => {
                    tracing::warn!(error = %e, "outbox pass failed; retrying");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = &mut stop => return,
                    _ = tokio::time::sleep(poll) => {}
                }
            } else {
                tokio::select! {
                    biased;
                    _ = &mut stop => return,
                    _ = std::future::ready(()) => {}
                }
            }
        }
    }
}

// ---------------------------------------------------------------- staff

/// Who reads the outbox and who resends.
pub const READ_ROLES: &[Role] = &[Role::Admin, Role::Operator, Role::Auditor];
pub const RESEND_ROLES: &[Role] = &[Role::Admin];

/// One message as staff see it: the recipient masked, no body.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = NotificationRow)]
pub struct Row {
    pub id: String,
    pub campaign_id: Option<String>,
    pub application_id: Option<String>,
    pub event: String,
    pub event_label: &'static str,
    pub channel: String,
    pub channel_label: &'static str,
    pub recipient: String,
    pub subject: String,
    pub status: String,
    pub status_label: &'static str,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub resendable: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = NotificationListing)]
pub struct Listing {
    pub campaign: Option<String>,
    pub status: Option<String>,
    /// `(code, label, count)` for every status.
    pub counts: Vec<(String, &'static str, i64)>,
    pub rows: Vec<Row>,
    pub limit: i64,
}

fn row_of(n: Notification) -> Row {
    let status = NotifyStatus::parse(&n.status);
    Row {
        event_label: event_label(&n.event),
        channel_label: if n.channel == "email" {
            "电子邮件"
        } else if n.channel == "wechat" {
            "微信"
        } else {
            "短信"
        },
        recipient: notify::mask_recipient(&n.channel, &n.recipient),
        status_label: status.map(|s| s.label()).unwrap_or("未知"),
        resendable: matches!(status, Some(NotifyStatus::Failed | NotifyStatus::Dead)),
        id: n.id,
        campaign_id: n.campaign_id,
        application_id: n.application_id,
        event: n.event,
        channel: n.channel,
        subject: n.subject,
        status: n.status,
        attempts: n.attempts,
        last_error: n.last_error,
        next_attempt_at: n.next_attempt_at,
        created_at: n.created_at,
        sent_at: n.sent_at,
    }
}

/// The outbox of a campaign (or all), newest first, optionally one status.
pub async fn list(cx: &Ctx, who: &Identity, campaign: Option<String>, status: Option<String>) -> Result<Listing, AppError> {
    if !who.is(READ_ROLES) {
        return Err(AppError::Forbidden);
    }
    let campaign = campaign.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    let status = status.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if let Some(s) = &status {
        if NotifyStatus::parse(s).is_none() {
            return Err(AppError::invalid("status", "状态只能是 pending、sending、sent、failed 或 dead"));
        }
    }
    const LIMIT: i64 = 500;
    let (c2, s2) = (campaign.clone(), status.clone());
    let (rows, counts) =
        cx.db.run(move |c| Ok((dbn::list(c, c2.as_deref(), s2.as_deref(), LIMIT)?, dbn::counts(c, c2.as_deref())?))).await?;
    let counts = NotifyStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), s.label(), counts.iter().find(|(c, _)| c == s.as_str()).map(|(_, k)| *k).unwrap_or(0)))
        .collect();
    Ok(Listing { campaign, status, counts, rows: rows.into_iter().map(row_of).collect(), limit: LIMIT })
}

/// An admin sends a failed or dead message again (audited).
pub async fn resend(cx: &Ctx, who: &Identity, id: String) -> Result<Row, AppError> {
    if !who.is(RESEND_ROLES) {
        return Err(AppError::Forbidden);
    }
    let who = who.clone();
    cx.db
        .write(move |c| {
            let before = dbn::get(c, &id)?.ok_or(AppError::NotFound)?;
            let now = db::now();
            if !dbn::requeue(c, &id, now)? {
                return Err(AppError::conflict("not_failed", "只有发送失败或已停止重试的通知可以重新发送"));
            }
            let after = dbn::get(c, &id)?.ok_or(AppError::NotFound)?;
            audit::append(
                c,
                &who.actor(),
                "notify.resend",
                &format!("notification:{id}"),
                Some(&json!({"status": before.status, "attempts": before.attempts, "last_error": before.last_error})),
                Some(&json!({"status": after.status, "attempts": after.attempts, "event": after.event, "channel": after.channel})),
            )?;
            Ok(row_of(after))
        })
        .await
}
