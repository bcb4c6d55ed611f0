//! Notifications to guardians, as pure decisions: what each event says
//! (subject, text and HTML bodies, WeChat template `data`), the
//! deduplication key, the retry schedule (the random draw is an argument)
//! and what a WeChat `errcode` means. No database, HTTP or clock: delivery
//! is `src/service/notify.rs`, storage `src/db/notify.rs`.
//!
//! Messages never carry ID numbers ([`contains_id_number`] guards that at
//! enqueue time); they name the registration number.

use crate::domain::{NotifyChannels, NotifyEvent};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Every event a guardian is told about (issue #13 item 4). Times are UTC.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The application was submitted.
    Received { application_id: String, registration_no: String, campaign_name: String, at: NaiveDateTime },
    /// A reviewer asked for more (what, and until when).
    Supplement { decision_id: String, registration_no: String, asked: String, deadline: NaiveDateTime },
    /// Approved: the catchment school (or zone) and the admission category.
    Approved { decision_id: String, registration_no: String, school: String, category: String },
    /// Rejected, with the coded reason in words.
    Rejected { decision_id: String, registration_no: String, reason: String },
    /// The public draw's time and the live page.
    DrawScheduled { draw_id: String, application_id: String, registration_no: String, draw_at: NaiveDateTime, live_url: String },
    /// The draw's result for this application.
    DrawResult { draw_id: String, application_id: String, registration_no: String, outcome: DrawOutcome },
    /// The result where no draw was needed: a seat at a school whose seats
    /// fit every approved child (学位充足，无需派位).
    Admitted { offer_id: String, registration_no: String, school: String, deadline: NaiveDateTime },
    /// 24 hours (configurable) before an offer's deadline.
    OfferReminder { offer_id: String, registration_no: String, school: String, deadline: NaiveDateTime },
    /// A seat offered from the waiting list.
    WaitlistOffer { offer_id: String, registration_no: String, school: String, deadline: NaiveDateTime },
    /// Administrative placement (统筹安排).
    Placement { offer_id: String, registration_no: String, school: String, deadline: Option<NaiveDateTime> },
}

/// What the draw did for one application.
#[derive(Debug, Clone, PartialEq)]
pub enum DrawOutcome {
    /// A seat at this school, to be confirmed by the deadline.
    Placed { school: String, confirm_by: NaiveDateTime },
    /// On the waiting list at this position.
    Waitlisted { school: String, position: i64 },
    /// No seat in the draw: the bureau places the child (统筹).
    NotPlaced,
}

impl Event {
    pub fn kind(&self) -> NotifyEvent {
        match self {
            Event::Received { .. } => NotifyEvent::Received,
            Event::Supplement { .. } => NotifyEvent::Supplement,
            Event::Approved { .. } => NotifyEvent::Approved,
            Event::Rejected { .. } => NotifyEvent::Rejected,
            Event::DrawScheduled { .. } => NotifyEvent::DrawScheduled,
            Event::DrawResult { .. } => NotifyEvent::DrawResult,
            Event::Admitted { .. } => NotifyEvent::Admitted,
            Event::OfferReminder { .. } => NotifyEvent::OfferReminder,
            Event::WaitlistOffer { .. } => NotifyEvent::WaitlistOffer,
            Event::Placement { .. } => NotifyEvent::Placement,
        }
    }

    /// What makes this occurrence of the event unique (a decision, an
    /// offer, a draw and an application, …).
    fn occurrence(&self) -> String {
        match self {
            Event::Received { application_id, .. } => application_id.clone(),
            Event::Supplement { decision_id, .. } | Event::Approved { decision_id, .. } | Event::Rejected { decision_id, .. } => {
                decision_id.clone()
            }
            Event::DrawScheduled { draw_id, application_id, .. } | Event::DrawResult { draw_id, application_id, .. } => {
                format!("{draw_id}.{application_id}")
            }
            Event::Admitted { offer_id, .. }
            | Event::OfferReminder { offer_id, .. }
            | Event::WaitlistOffer { offer_id, .. }
            | Event::Placement { offer_id, .. } => offer_id.clone(),
        }
    }

    /// The deduplication key for this event on `channel`: deterministic, so
    /// enqueuing the same event again is a no-op; at most 64 characters of
    /// `[a-z0-9._-]` (it is WeChat's `client_msg_id` and the email Message-ID).
    pub fn dedup_key(&self, channel: &str) -> String {
        use sha2::Digest;
        let occ = self.occurrence();
        let safe = occ.len() <= 40 && occ.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        let occ = if safe { occ.to_ascii_lowercase() } else { hex::encode(sha2::Sha256::digest(occ.as_bytes()))[..32].to_string() };
        format!("{}.{}.{}", self.kind().as_str().replace('_', "-"), occ, channel)
    }
}

/// What the renderer needs besides the event.
#[derive(Debug, Clone)]
pub struct RenderCtx<'a> {
    pub bureau_name: &'a str,
    pub bureau_phone: &'a str,
    /// The guardian's status page for this application (absolute URL).
    pub status_url: &'a str,
}

/// One line of a message: WeChat's `keywordN`, a row of the email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub label: String,
    pub value: String,
}

/// A rendered message, stored as `notifications.data_json` and delivered by
/// either channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub event: String,
    pub title: String,
    pub fields: Vec<Field>,
    pub remark: String,
    pub url: String,
    pub bureau: String,
    pub phone: String,
}

fn bjt(t: NaiveDateTime) -> String {
    (t + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M（北京时间）").to_string()
}

fn f(label: &str, value: impl Into<String>) -> Field {
    Field { label: label.into(), value: value.into() }
}

/// The message an event sends.
pub fn render(event: &Event, cx: &RenderCtx<'_>) -> Message {
    let no = |n: &str| f("报名号", n);
    let (title, fields, remark): (&str, Vec<Field>, String) = match event {
        Event::Received { registration_no, campaign_name, at, .. } => (
            "报名已受理",
            vec![no(registration_no), f("报名批次", campaign_name.as_str()), f("提交时间", bjt(*at))],
            "审核结果将另行通知，请留意消息，也可在“我的报名”中查看进度。".into(),
        ),
        Event::Supplement { registration_no, asked, deadline, .. } => (
            "请补充报名材料",
            vec![no(registration_no), f("需补充的内容", asked.as_str()), f("截止时间", bjt(*deadline))],
            "请在截止时间前通过“我的报名”补充，逾期未补充将按招生政策处理。".into(),
        ),
        Event::Approved { registration_no, school, category, .. } => (
            "报名审核通过",
            vec![no(registration_no), f("对口学校或片区", school.as_str()), f("入学类别", category.as_str())],
            "最终录取以派位或教育局公布的结果为准。".into(),
        ),
        Event::Rejected { registration_no, reason, .. } => {
            ("报名审核未通过", vec![no(registration_no), f("原因", reason.as_str())], "如有异议，可在“我的报名”中申请复核。".into())
        }
        Event::DrawScheduled { registration_no, draw_at, live_url, .. } => (
            "电脑派位时间通知",
            vec![no(registration_no), f("派位时间", bjt(*draw_at)), f("直播页面", live_url.as_str())],
            "派位全程公开，派位后可查询结果并自行验证。".into(),
        ),
        Event::DrawResult { registration_no, outcome, .. } => {
            let (result, next) = match outcome {
                DrawOutcome::Placed { school, confirm_by } => {
                    (format!("已派位至{school}"), format!("请于{}前在“我的报名”中确认入学，逾期未确认视为放弃。", bjt(*confirm_by)))
                }
                DrawOutcome::Waitlisted { school, position } => {
                    (format!("{school}候补第{position}位"), "有空余学位时将按候补顺序通知您。".to_string())
                }
                DrawOutcome::NotPlaced => ("本次派位未派中".to_string(), "教育局将统筹安排学位，安排结果另行通知。".to_string()),
            };
            ("电脑派位结果", vec![no(registration_no), f("派位结果", result)], next)
        }
        Event::Admitted { registration_no, school, deadline, .. } => (
            "录取结果通知",
            vec![no(registration_no), f("录取学校", school.as_str()), f("确认截止时间", bjt(*deadline))],
            "该校学位充足，无需电脑派位。请于截止前在“我的报名”中确认入学，逾期未确认视为放弃。".into(),
        ),
        Event::OfferReminder { registration_no, school, deadline, .. } => (
            "确认入学即将截止",
            vec![no(registration_no), f("录取学校", school.as_str()), f("确认截止时间", bjt(*deadline))],
            "请在截止前于“我的报名”中确认入学，逾期未确认视为放弃学位。".into(),
        ),
        Event::WaitlistOffer { registration_no, school, deadline, .. } => (
            "候补录取通知",
            vec![no(registration_no), f("录取学校", school.as_str()), f("确认截止时间", bjt(*deadline))],
            "您已从候补名单获得学位，请在截止前于“我的报名”中确认入学。".into(),
        ),
        Event::Placement { registration_no, school, deadline, .. } => {
            let mut fields = vec![no(registration_no), f("安排学校", school.as_str())];
            if let Some(d) = deadline {
                fields.push(f("确认截止时间", bjt(*d)));
            }
            ("统筹安排入学通知", fields, "教育局已为您的孩子统筹安排学位，请在“我的报名”中查看并确认。".into())
        }
    };
    // Free text (a reviewer's note) could quote an ID number: never sent.
    let fields = fields.into_iter().map(|f| Field { label: f.label, value: redact_id_numbers(&f.value) }).collect();
    Message {
        event: event.kind().as_str().into(),
        title: title.into(),
        fields,
        remark: format!("{remark}咨询电话：{}。", cx.bureau_phone),
        url: cx.status_url.into(),
        bureau: cx.bureau_name.into(),
        phone: cx.bureau_phone.into(),
    }
}

const EMAIL_TEXT: &str = include_str!("../../templates/notify/email.txt");
const EMAIL_HTML: &str = include_str!("../../templates/notify/email.html");

fn mail_env() -> &'static minijinja::Environment<'static> {
    static ENV: OnceLock<minijinja::Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        env.set_auto_escape_callback(
            |name| {
                if name.ends_with(".html") {
                    minijinja::AutoEscape::Html
                } else {
                    minijinja::AutoEscape::None
                }
            },
        );
        for (name, src) in [("notify/email.txt", EMAIL_TEXT), ("notify/email.html", EMAIL_HTML)] {
            if let Err(e) = env.add_template(name, src) {
                tracing::error!(template = name, error = %e, "template does not compile");
            }
        }
        env
    })
}

impl Message {
    /// The email subject: `【安溪县教育局】报名已受理（报名号 …）`.
    pub fn subject(&self) -> String {
        match self.fields.first().filter(|f| f.label == "报名号") {
            Some(no) => format!("【{}】{}（报名号 {}）", self.bureau, self.title, no.value),
            None => format!("【{}】{}", self.bureau, self.title),
        }
    }

    fn render_mail(&self, name: &str) -> String {
        let out = mail_env().get_template(name).and_then(|t| t.render(minijinja::context! { m => self }));
        // The templates ship in the binary and a test renders both; fall back to plain lines.
        out.unwrap_or_else(|_| {
            let mut s = format!("{}\n", self.title);
            for f in &self.fields {
                s.push_str(&format!("{}：{}\n", f.label, f.value));
            }
            format!("{s}{}\n{}\n", self.remark, self.url)
        })
    }

    /// The plain-text body (also what staff and the WeChat fallback show).
    pub fn text(&self) -> String {
        self.render_mail("notify/email.txt")
    }

    /// The HTML body of the email.
    pub fn html(&self) -> String {
        self.render_mail("notify/email.html")
    }

    /// WeChat template message `data`: `first`, `keyword1…n`, `remark`
    /// (the layout of the classic industry templates the bureau registers).
    pub fn wechat_data(&self) -> serde_json::Value {
        let mut data = serde_json::Map::new();
        data.insert("first".into(), serde_json::json!({"value": self.title}));
        for (i, f) in self.fields.iter().enumerate() {
            data.insert(format!("keyword{}", i + 1), serde_json::json!({"value": f.value}));
        }
        data.insert("remark".into(), serde_json::json!({"value": self.remark}));
        serde_json::Value::Object(data)
    }
}

/// The channels a guardian's choice and contact details allow, in order.
pub fn channels(choice: NotifyChannels, has_email: bool) -> Vec<&'static str> {
    match (choice, has_email) {
        (NotifyChannels::Wechat, _) | (_, false) => vec!["wechat"],
        (NotifyChannels::Email, true) => vec!["email"],
        (NotifyChannels::Both, true) => vec!["wechat", "email"],
    }
}

/// Seconds to wait before the next attempt after `attempt` failed ones
/// (1-based): `min(cap, base × 2^(attempt−1))`, scaled by `0.5 + r/2` for
/// a random draw `r ∈ [0, 1)` (equal jitter: spread, never zero).
pub fn backoff_secs(attempt: i32, base: i64, cap: i64, r: f64) -> i64 {
    let exp = (attempt.max(1) - 1).min(30) as u32;
    let full = base.saturating_mul(1i64 << exp).min(cap).max(1);
    let r = r.clamp(0.0, 1.0);
    ((full as f64) * (0.5 + r / 2.0)).round().max(1.0) as i64
}

/// What to do with a WeChat API answer's `errcode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WechatVerdict {
    Delivered,
    /// 40001 / 42001 (and 40014): the access_token is invalid or expired:
    /// refresh it and retry once.
    RefreshToken,
    /// 43101 (the user refused messages), 40003 (bad openid): record, never retry.
    Refused,
    /// -1 (system busy), other codes, timeouts: retry with backoff.
    Retry,
}

pub fn classify_wechat(errcode: i64) -> WechatVerdict {
    match errcode {
        0 => WechatVerdict::Delivered,
        40001 | 42001 | 40014 => WechatVerdict::RefreshToken,
        43101 | 40003 => WechatVerdict::Refused,
        _ => WechatVerdict::Retry,
    }
}

/// A recipient as staff see it: `z***@example.com`, `o6_b…Q3Yk`.
pub fn mask_recipient(channel: &str, r: &str) -> String {
    if channel == "email" {
        if let Some((user, domain)) = r.split_once('@') {
            let first: String = user.chars().take(1).collect();
            return format!("{first}***@{domain}");
        }
        return "***".into();
    }
    let chars: Vec<char> = r.chars().collect();
    if chars.len() <= 8 {
        let first: String = chars.iter().take(2).collect();
        return format!("{first}…");
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// The spans `(start, end)` (char indices) of runs shaped like a mainland ID
/// number: 18 digits, 17 digits and an X, or an old 15-digit number, not
/// part of a longer ASCII word (a hex id such as an application's UUID may
/// hold a run of digits that is no ID number).
fn id_number_spans(b: &[char]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let n = i - start;
        let mut end = i;
        if n == 17 && i < b.len() && matches!(b[i], 'x' | 'X') {
            end = i + 1;
        }
        let shaped = n == 15 || n == 18 || (n == 17 && end == i + 1);
        let before_ok = start == 0 || !b[start - 1].is_ascii_alphanumeric();
        let after_ok = end >= b.len() || !b[end].is_ascii_alphanumeric();
        if shaped && before_ok && after_ok {
            spans.push((start, end));
        }
        i = end.max(i);
    }
    spans
}

/// `text` with every run shaped like an ID number (see [`contains_id_number`])
/// replaced by `（证件号码已隐去）`.
pub fn redact_id_numbers(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in id_number_spans(&b) {
        out.extend(&b[at..s]);
        out.push_str("（证件号码已隐去）");
        at = e;
    }
    out.extend(&b[at..]);
    out
}

/// Whether `text` holds something shaped like a mainland ID number (17
/// digits and a digit or X, or an old 15-digit number), which a message
/// must never carry.
pub fn contains_id_number(text: &str) -> bool {
    !id_number_spans(&text.chars().collect::<Vec<_>>()).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn t(h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2027, 7, 1).unwrap().and_hms_opt(h, 0, 0).unwrap()
    }

    fn cx() -> RenderCtx<'static> {
        RenderCtx {
            bureau_name: "安溪县教育局", bureau_phone: "0595-23222222", status_url: "https://zs.example/parent/applications/a1"
        }
    }

    fn all_events() -> Vec<Event> {
        let no = "2027G1-00012".to_string();
        vec![
            Event::Received {
                application_id: "a1".into(), registration_no: no.clone(), campaign_name: "2027年一年级".into(), at: t(1)
            },
            Event::Supplement { decision_id: "d1".into(), registration_no: no.clone(), asked: "房产证".into(), deadline: t(2) },
            Event::Approved {
                decision_id: "d2".into(), registration_no: no.clone(), school: "凤城小学".into(), category: "第一类".into()
            },
            Event::Rejected { decision_id: "d3".into(), registration_no: no.clone(), reason: "材料不实".into() },
            Event::DrawScheduled {
                draw_id: "dr".into(),
                application_id: "a1".into(),
                registration_no: no.clone(),
                draw_at: t(1),
                live_url: "https://zs.example/draws/dr/live".into(),
            },
            Event::DrawResult {
                draw_id: "dr".into(),
                application_id: "a1".into(),
                registration_no: no.clone(),
                outcome: DrawOutcome::Placed { school: "凤城小学".into(), confirm_by: t(3) },
            },
            Event::Admitted { offer_id: "o0".into(), registration_no: no.clone(), school: "城厢小学".into(), deadline: t(5) },
            Event::OfferReminder { offer_id: "o1".into(), registration_no: no.clone(), school: "凤城小学".into(), deadline: t(4) },
            Event::WaitlistOffer { offer_id: "o2".into(), registration_no: no.clone(), school: "凤城小学".into(), deadline: t(4) },
            Event::Placement { offer_id: "o3".into(), registration_no: no, school: "城厢小学".into(), deadline: None },
        ]
    }

    #[test]
    fn every_event_renders_in_chinese_with_its_facts() {
        let expect: [&[&str]; 10] = [
            &["报名已受理", "2027G1-00012", "2027年一年级", "2027-07-01 09:00"],
            &["补充", "房产证", "2027-07-01 10:00"],
            &["审核通过", "凤城小学", "第一类"],
            &["未通过", "材料不实", "复核"],
            &["派位时间", "2027-07-01 09:00", "https://zs.example/draws/dr/live"],
            &["派位结果", "已派位至凤城小学", "2027-07-01 11:00"],
            &["录取结果", "城厢小学", "无需电脑派位", "2027-07-01 13:00"],
            &["即将截止", "凤城小学", "2027-07-01 12:00"],
            &["候补", "凤城小学"],
            &["统筹", "城厢小学"],
        ];
        let kinds: std::collections::HashSet<_> = all_events().iter().map(|e| e.kind()).collect();
        assert_eq!(kinds.len(), 10, "one variant per event of item 4 (the result with or without a draw)");
        for (e, want) in all_events().iter().zip(expect) {
            let m = render(e, &cx());
            let (text, html, subject) = (m.text(), m.html(), m.subject());
            assert!(subject.starts_with("【安溪县教育局】") && subject.contains("2027G1-00012"), "{subject}");
            for w in want {
                assert!(text.contains(w), "{e:?}: {w} not in {text}");
                // minijinja escapes `/` in HTML (`&#x2f;`), which browsers read the same.
                let w_html = w.replace('/', "&#x2f;");
                assert!(html.contains(&w_html), "{e:?}: {w} not in {html}");
            }
            assert!(text.contains("0595-23222222") && text.contains(cx().status_url), "{text}");
            assert!(
                html.contains("<html") && html.contains("href=\"https:&#x2f;&#x2f;zs.example&#x2f;parent&#x2f;applications&#x2f;a1\""),
                "{html}"
            );
            let data = m.wechat_data();
            assert_eq!(data["first"]["value"], m.title);
            assert_eq!(data["keyword1"]["value"], "2027G1-00012");
            assert!(data["remark"]["value"].as_str().unwrap().contains("咨询电话"));
            assert!(!contains_id_number(&text) && !contains_id_number(&html));
        }
    }

    #[test]
    fn html_escapes_and_results_say_what_happened() {
        let e = Event::Rejected { decision_id: "d".into(), registration_no: "N".into(), reason: "<b>x</b>".into() };
        let m = render(&e, &cx());
        assert!(m.html().contains("&lt;b&gt;x&lt;&#x2f;b&gt;") && m.text().contains("<b>x</b>"));
        for (o, w) in
            [(DrawOutcome::Waitlisted { school: "凤城小学".into(), position: 3 }, "候补第3位"), (DrawOutcome::NotPlaced, "未派中")]
        {
            let e = Event::DrawResult { draw_id: "d".into(), application_id: "a".into(), registration_no: "N".into(), outcome: o };
            assert!(render(&e, &cx()).text().contains(w));
        }
    }

    #[test]
    fn dedup_keys_are_deterministic_short_and_distinct() {
        let evs = all_events();
        let mut seen = std::collections::HashSet::new();
        for e in &evs {
            for ch in ["wechat", "email"] {
                let k = e.dedup_key(ch);
                assert_eq!(k, e.clone().dedup_key(ch));
                assert!(k.len() <= 64 && k.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)), "{k}");
                assert!(seen.insert(k));
            }
        }
        let long = Event::DrawResult {
            draw_id: "d".repeat(32),
            application_id: "a".repeat(32),
            registration_no: "N".into(),
            outcome: DrawOutcome::NotPlaced,
        };
        assert!(long.dedup_key("wechat").len() <= 64);
    }

    #[test]
    fn backoff_grows_caps_and_jitters() {
        assert_eq!(backoff_secs(1, 30, 3600, 1.0), 30);
        assert_eq!(backoff_secs(1, 30, 3600, 0.0), 15);
        assert_eq!(backoff_secs(2, 30, 3600, 1.0), 60);
        assert_eq!(backoff_secs(5, 30, 3600, 1.0), 480);
        assert_eq!(backoff_secs(20, 30, 3600, 1.0), 3600);
        assert_eq!(backoff_secs(1000, 30, 3600, 0.0), 1800);
        for a in 1..12 {
            for r in [0.0, 0.3, 0.99] {
                let s = backoff_secs(a, 30, 3600, r);
                let full = (30i64 << (a - 1)).min(3600);
                assert!(s >= full / 2 && s <= full, "{a} {r} {s}");
            }
        }
    }

    #[test]
    fn wechat_errcodes() {
        assert_eq!(classify_wechat(0), WechatVerdict::Delivered);
        assert_eq!(classify_wechat(40001), WechatVerdict::RefreshToken);
        assert_eq!(classify_wechat(42001), WechatVerdict::RefreshToken);
        assert_eq!(classify_wechat(43101), WechatVerdict::Refused);
        assert_eq!(classify_wechat(40003), WechatVerdict::Refused);
        assert_eq!(classify_wechat(-1), WechatVerdict::Retry);
        assert_eq!(classify_wechat(45009), WechatVerdict::Retry);
    }

    #[test]
    fn masks_channels_and_id_numbers() {
        assert_eq!(mask_recipient("email", "zhang@example.com"), "z***@example.com");
        assert_eq!(mask_recipient("wechat", "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"), "o6_b…fL2M");
        assert_eq!(mask_recipient("wechat", "o-abc"), "o-…");
        assert_eq!(channels(NotifyChannels::Both, true), vec!["wechat", "email"]);
        assert_eq!(channels(NotifyChannels::Email, false), vec!["wechat"]);
        assert_eq!(channels(NotifyChannels::Email, true), vec!["email"]);
        assert!(contains_id_number("身份证 11010120210315123X 号"));
        assert!(contains_id_number("110101202103151234"));
        assert!(!contains_id_number("报名号 2027G1-00012，电话 13805951234，0595-23222222"));
        assert_eq!(redact_id_numbers("号码 11010120210315123X 与 110101202103151234。"), "号码 （证件号码已隐去） 与 （证件号码已隐去）。");
        assert_eq!(redact_id_numbers("电话 13805951234"), "电话 13805951234");
        // Digits inside a hex id are not an ID number; beside Chinese text they are.
        assert!(!contains_id_number("applications/d01c4cf9123456789012345e04e238a8fb4f56f"));
        assert!(contains_id_number("身份证号110101202103151234，请核对"));
        // A reviewer's note quoting the number is redacted before anything is stored.
        let e = Event::Supplement {
            decision_id: "d".into(),
            registration_no: "N".into(),
            asked: "核对 11010120210315123X".into(),
            deadline: t(1),
        };
        let m = render(&e, &cx());
        assert!(!contains_id_number(&m.text()) && m.text().contains("证件号码已隐去"));
    }
}
