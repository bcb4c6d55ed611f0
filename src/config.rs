//! Layered configuration.
//!
//! Order (later wins): `config/default.toml`, `config/{RUXUE_ENV}.toml`
//! (`development` when unset), then environment variables
//! `RUXUE__SECTION__KEY` (values parsed as TOML scalars where they can be,
//! else taken as strings). Every secret may instead come from a file named by
//! `<key>_file` (e.g. `RUXUE__SECURITY__JWT_KEY_FILE=/run/secrets/jwt`).
//! Unknown keys are errors, and every error names the key in one line.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Prefix every development secret carries; production refuses it.
pub const DEV_SECRET_PREFIX: &str = "dev-";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Test,
    Production,
}

impl Environment {
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "development" | "dev" => Ok(Self::Development),
            "test" => Ok(Self::Test),
            "production" | "prod" => Ok(Self::Production),
            other => Err(ConfigError::new("RUXUE_ENV", format!("unknown environment {other:?} (use development, test or production)"))),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        }
    }
}

/// A configuration error: the key it concerns and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self { key: key.into(), message: message.into() }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // One line, whatever the underlying error printed.
        let message: Vec<&str> = self.message.split_whitespace().collect();
        write!(f, "configuration error at `{}`: {}", self.key, message.join(" "))
    }
}
impl std::error::Error for ConfigError {}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub security: SecuritySettings,
    pub mail: MailSettings,
    pub wechat: WechatSettings,
    pub notify: NotifySettings,
    pub uploads: UploadSettings,
    pub admission: AdmissionSettings,
    pub bureau: BureauSettings,
    pub calendar: CalendarSettings,
    pub draw: DrawSettings,
    pub demo: DemoSettings,
    /// Admission notices (录取通知书).
    #[serde(default)]
    pub notices: NoticeSettings,
    pub log: LogSettings,
    /// Request limits per guardian and per client address (`[ratelimit]`).
    #[serde(default)]
    pub ratelimit: RateLimitSettings,
    /// Redis for the rate-limit counters of several instances (`[redis]`).
    #[serde(default)]
    pub redis: RedisSettings,
    /// Filled in by the loader, never read from files.
    #[serde(skip, default = "default_env")]
    pub environment: Environment,
}

fn default_env() -> Environment {
    Environment::Development
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub base_url: String,
    pub body_limit_bytes: usize,
    pub shutdown_timeout_secs: u64,
    pub workers: usize,
    /// Requests per minute per client address on public, no-login pages
    /// (the catchment lookup).
    pub public_rate_per_minute: u32,
    /// Milliseconds a client has to send a request's headers (actix
    /// `client_request_timeout`); a slower client is answered 408 and dropped.
    #[serde(default = "default_client_request_timeout_ms")]
    pub client_request_timeout_ms: u64,
    /// Milliseconds a closing connection may linger (`client_disconnect_timeout`).
    #[serde(default = "default_client_disconnect_timeout_ms")]
    pub client_disconnect_timeout_ms: u64,
    /// Seconds a whole request body (JSON, form or upload) may take to
    /// arrive; a slow sender is cut off with 408.
    #[serde(default = "default_body_read_timeout_secs")]
    pub body_read_timeout_secs: u64,
    /// Requests per minute per client address on the public result lookup
    /// (录取查询): registration number plus six ID digits must not be guessable.
    #[serde(default = "default_results_rate")]
    pub results_rate_per_minute: u32,
    /// Reverse proxies (addresses or CIDR blocks, comma-separated) whose
    /// `X-Forwarded-For` names the client for the per-address limits
    /// (`web::client_addr`). Empty: the connection's peer is the client.
    #[serde(default)]
    pub trusted_proxies: String,
    /// How long the public catchment lookup answers from memory before it
    /// checks (one primary-key read) whether a campaign or its map changed,
    /// in milliseconds; 0 checks on every request (`service::lookup`).
    #[serde(default = "default_lookup_cache_ms")]
    pub lookup_cache_ms: u64,
}

fn default_lookup_cache_ms() -> u64 {
    1_000
}

fn default_client_request_timeout_ms() -> u64 {
    5_000
}
fn default_client_disconnect_timeout_ms() -> u64 {
    2_000
}
fn default_body_read_timeout_secs() -> u64 {
    30
}

/// Fixed one-minute windows. The counters live in the database (table
/// `rate_limits`) so that every `ruxue serve` on one database shares them,
/// or in each process's memory when `store = "memory"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitSettings {
    /// `auto` (the default: `database` on PostgreSQL, `memory` on SQLite),
    /// `database` (shared by every instance) or `memory` (per process).
    pub store: RateLimitStore,
    /// Writes (POST, PUT, DELETE) per minute per guardian (openid) on the parent pages and API.
    pub guardian_writes_per_minute: u32,
    /// Reads (GET) per minute per guardian; counted apart from writes, so a
    /// family throttled for submitting still sees its status pages.
    pub guardian_reads_per_minute: u32,
    /// Requests per minute per client address on the parent pages and API
    /// (an office or a school's NAT can hold many families: keep it generous).
    pub address_per_minute: u32,
    /// ID numbers found registered already (by another family) a guardian may
    /// hit per hour before further checks answer 429: the refusal is an oracle.
    pub duplicate_hits_per_hour: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RateLimitStore {
    /// The database on PostgreSQL (several instances), memory on SQLite (one).
    Auto,
    Database,
    Memory,
    /// Redis at `redis.url` (required then), shared by every instance.
    Redis,
}

/// Redis, when a deployment has one: `url` (`redis://host:6379/0`, a
/// password in it stays secret) makes `ratelimit.store = "auto"` count in
/// Redis, one `INCR` per request instead of a database write.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisSettings {
    pub url: Option<SecretString>,
    /// Prefix of every key, so that several services (or test runs) can
    /// share one Redis.
    pub prefix: String,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self { url: None, prefix: "ruxue".into() }
    }
}

impl RedisSettings {
    /// The URL, when one is set and not empty.
    pub fn url(&self) -> Option<String> {
        self.url.as_ref().map(|u| u.expose_secret().trim().to_string()).filter(|u| !u.is_empty())
    }
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            store: RateLimitStore::Auto,
            guardian_writes_per_minute: 60,
            guardian_reads_per_minute: 240,
            address_per_minute: 1200,
            duplicate_hits_per_hour: 5,
        }
    }
}

fn default_results_rate() -> u32 {
    10
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: u32,
    pub busy_timeout_ms: u32,
    /// Milliseconds a request waits for a pooled connection (or for a new
    /// one to open) before it is answered 503; r2d2's default is 10 s.
    #[serde(default = "default_acquire_timeout_ms")]
    pub acquire_timeout_ms: u64,
    /// Milliseconds `/readyz` waits for the database before answering 503.
    #[serde(default = "default_ready_timeout_ms")]
    pub ready_timeout_ms: u64,
    /// Run `SELECT 1` on every connection taken from the pool (one round
    /// trip per checkout, but a connection broken by a database restart is
    /// replaced instead of failing a request).
    #[serde(default = "default_true")]
    pub check_on_checkout: bool,
    /// libpq `sslmode` added to a PostgreSQL URL that names none (`disable`
    /// for a database on loopback or a private link; empty: libpq's default,
    /// `prefer`).
    #[serde(default)]
    pub sslmode: String,
    /// How often `ruxue serve` seals pending audit entries into the hash
    /// chain (PostgreSQL), in milliseconds.
    #[serde(default = "default_seal_ms")]
    pub audit_seal_interval_ms: u64,
}

fn default_true() -> bool {
    true
}

fn default_seal_ms() -> u64 {
    200
}

fn default_acquire_timeout_ms() -> u64 {
    2_000
}

fn default_ready_timeout_ms() -> u64 {
    500
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    pub jwt_key: SecretString,
    #[serde(default)]
    pub jwt_key_file: Option<PathBuf>,
    pub draw_signing_key: SecretString,
    #[serde(default)]
    pub draw_signing_key_file: Option<PathBuf>,
    pub id_key: SecretString,
    #[serde(default)]
    pub id_key_file: Option<PathBuf>,
    pub dev_login: bool,
    pub cookie_secure: bool,
    pub session_minutes: i64,
    pub staff_access_minutes: i64,
    pub staff_refresh_hours: i64,
    pub max_failed_logins: i32,
    pub lockout_minutes: i64,
    /// Send `Strict-Transport-Security` (only behind HTTPS; production turns it on).
    #[serde(default)]
    pub hsts: bool,
    #[serde(default = "default_hsts_max_age_secs")]
    pub hsts_max_age_secs: u64,
}

fn default_hsts_max_age_secs() -> u64 {
    31_536_000
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailBackendKind {
    Smtp,
    File,
    Memory,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    pub backend: MailBackendKind,
    pub from: String,
    pub file_dir: PathBuf,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_user: String,
    pub smtp_password: SecretString,
    #[serde(default)]
    pub smtp_password_file: Option<PathBuf>,
    /// `none` (plain, loopback relays only), `starttls` or `tls` (implicit TLS, port 465).
    pub smtp_tls: SmtpTls,
    /// A PEM file of extra CA certificates the SMTP server's certificate may
    /// chain to (a bureau's private CA; the tests' self-signed certificate).
    #[serde(default)]
    pub smtp_ca_file: Option<PathBuf>,
    /// Connections kept open to the SMTP server.
    pub smtp_pool_size: u32,
    /// Seconds for connecting to and talking with the SMTP server.
    pub smtp_timeout_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatSettings {
    pub api_base: String,
    pub authorize_base: String,
    pub app_id: String,
    pub app_secret: SecretString,
    #[serde(default)]
    pub app_secret_file: Option<PathBuf>,
    /// The access_token is fetched again this many seconds before it expires.
    pub token_margin_secs: i64,
    /// Seconds a call to WeChat's server API may take.
    pub timeout_secs: u64,
    /// Template message ids (模板消息), one per event; an empty id means that
    /// event is not sent by WeChat.
    pub template_received: String,
    pub template_supplement: String,
    pub template_approved: String,
    pub template_rejected: String,
    pub template_draw_scheduled: String,
    pub template_result: String,
    pub template_offer_reminder: String,
    pub template_waitlist_offer: String,
    pub template_placement: String,
}

/// The outbox worker (`src/service/notify.rs`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// Run the worker inside `ruxue serve` (turn off when `ruxue worker` runs apart).
    pub worker_in_serve: bool,
    /// Attempts before a message is dead-lettered (`dead`).
    pub max_attempts: i32,
    /// Retry delay: base × 2^(attempt−1), at most the cap, then jittered to 50–100 %.
    pub backoff_base_secs: i64,
    pub backoff_cap_secs: i64,
    /// How long a claimed message stays leased to a worker; a worker that
    /// dies loses it after this and another delivers it.
    pub lease_secs: i64,
    /// Milliseconds between polls when the outbox is empty.
    pub poll_interval_ms: u64,
    /// Messages claimed at once.
    pub batch_size: i64,
    /// Offer reminders go out this many hours before an offer's deadline.
    pub offer_reminder_hours: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadSettings {
    pub dir: PathBuf,
    pub max_bytes: usize,
    /// Longest side of an uploaded image, in pixels.
    #[serde(default = "default_max_image_side")]
    pub max_image_side: u32,
    /// Most pixels of an uploaded image (width × height).
    #[serde(default = "default_max_image_pixels")]
    pub max_image_pixels: u64,
}

fn default_max_image_side() -> u32 {
    crate::registration::upload::ImageLimits::default().max_side
}
fn default_max_image_pixels() -> u64 {
    crate::registration::upload::ImageLimits::default().max_pixels
}

impl UploadSettings {
    pub fn image_limits(&self) -> crate::registration::upload::ImageLimits {
        let d = crate::registration::upload::ImageLimits::default();
        // Decoded RGBA at most, plus the re-encoder's copy.
        let max_alloc = (self.max_image_pixels.saturating_mul(8)).max(d.max_alloc);
        crate::registration::upload::ImageLimits { max_side: self.max_image_side, max_pixels: self.max_image_pixels, max_alloc }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdmissionSettings {
    pub class_cap_primary: i32,
    pub class_cap_junior: i32,
    /// How often `ruxue serve` settles what is past its deadline: supplement
    /// requests, and offers not confirmed in time (their seats move along
    /// the waitlists).
    pub deadline_sweep_secs: u64,
    /// Words in a property address that suggest a non-residential building
    /// (a fraud signal for reviewers, never a rejection).
    pub non_residential_keywords: Vec<String>,
}

/// The education bureau that runs the service, as pages and notices name it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BureauSettings {
    /// e.g. 安溪县教育局
    pub name: String,
    /// e.g. 安溪县
    pub county: String,
    /// The admissions office's phone number for parents (招生咨询电话).
    pub phone: String,
}

/// Where a campaign's later phases fall when registration is opened
/// (`ruxue campaign open`), in days after registration closes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSettings {
    pub review_days_after_close: i64,
    pub draw_days_after_close: i64,
    pub offer_days_after_close: i64,
}

/// What `serve --demo` loads besides the county (issue #11 item 8).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSettings {
    /// The seventh-grade review finished and its draw day: 建安片区 drawn and
    /// published (beacon: quicknet round 657413), 德苑片区 announced and
    /// waiting for its witnesses. Tests of other features turn it off
    /// (`config/test.toml`) so that 2027-G7 stays in review for them.
    pub draws: bool,
}

/// Draw day (issue #11): where the public beacon is fetched, how long a
/// witness's one-time link lives, what the announcement says if the beacon fails.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawSettings {
    /// drand HTTP relays, tried in order: `{relay}/{chain hash}/public/{round}`.
    /// A list in files; comma-separated in `RUXUE__DRAW__RELAYS`.
    #[serde(deserialize_with = "list_or_commas")]
    pub relays: Vec<String>,
    pub relay_timeout_ms: u64,
    pub witness_link_hours: i64,
    /// The announced fallback if the beacon round is not published (beacon-drand.md).
    pub fallback: String,
}

/// Admission notices (录取通知书): the CJK font embedded in the PDF (a
/// TrueType font or collection; `font_index` picks the face), when to report
/// and what to bring.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoticeSettings {
    pub font_file: PathBuf,
    pub font_index: u32,
    pub report_date: String,
    pub bring: Vec<String>,
}

impl Default for NoticeSettings {
    fn default() -> Self {
        Self {
            font_file: PathBuf::from("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
            font_index: 0,
            report_date: "按学校通知的时间到校报到（一般为 8 月下旬）".into(),
            bring: vec![
                "本通知书".into(),
                "儿童户口簿原件及复印件".into(),
                "房产证明或居住证（报名时提交的证明材料）原件".into(),
                "儿童预防接种证".into(),
            ],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

/// Where to read configuration from; tests pass their own.
#[derive(Debug, Clone)]
pub struct Source {
    pub dir: PathBuf,
    pub environment: Environment,
    /// `(NAME, value)` pairs, normally `std::env::vars()`.
    pub env: Vec<(String, String)>,
}

impl Source {
    /// The process environment: `RUXUE_CONFIG_DIR` (default `config`) and `RUXUE_ENV`.
    pub fn from_process() -> Result<Self, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let environment = match std::env::var("RUXUE_ENV") {
            Ok(v) => Environment::parse(&v)?,
            Err(_) => Environment::Development,
        };
        let dir = std::env::var("RUXUE_CONFIG_DIR").map(PathBuf::from).unwrap_or_else(|_| default_config_dir());
        Ok(Self { dir, environment, env })
    }
}

/// `config/` in the working directory, else next to the crate (for `cargo run` elsewhere).
fn default_config_dir() -> PathBuf {
    let local = PathBuf::from("config");
    if local.join("default.toml").exists() {
        return local;
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    if beside.join("default.toml").exists() {
        beside
    } else {
        local
    }
}

impl Settings {
    /// Load from the process environment.
    pub fn load() -> Result<Self, ConfigError> {
        Self::load_from(&Source::from_process()?)
    }

    pub fn load_from(src: &Source) -> Result<Self, ConfigError> {
        let default_path = src.dir.join("default.toml");
        let mut merged = read_toml(&default_path)?;
        let overlay_path = src.dir.join(format!("{}.toml", src.environment.as_str()));
        if overlay_path.exists() {
            merge(&mut merged, read_toml(&overlay_path)?);
        }
        for (name, value) in &src.env {
            let Some(rest) = name.strip_prefix("RUXUE__") else {
                continue;
            };
            let path: Vec<String> = rest.split("__").map(|p| p.to_ascii_lowercase()).collect();
            if path.len() != 2 || path.iter().any(|p| p.is_empty()) {
                return Err(ConfigError::new(name.clone(), "expected RUXUE__SECTION__KEY"));
            }
            set_path(&mut merged, &path, parse_env_value(value)).map_err(|m| ConfigError::new(name.clone(), m))?;
        }
        let mut settings: Settings = serde_path_to_error::deserialize(merged).map_err(|e| {
            let key = e.path().to_string();
            let inner = e.into_inner().to_string();
            // serde_path_to_error's path already ends at an unknown field; for a
            // missing field it ends at the section, so append the field name.
            let key = match inner.split('`').nth(1) {
                Some(field) if inner.starts_with("missing field") => {
                    if key == "." || key.is_empty() {
                        field.to_string()
                    } else {
                        format!("{key}.{field}")
                    }
                }
                _ => key,
            };
            ConfigError::new(key, first_line(&inner))
        })?;
        settings.environment = src.environment;
        settings.read_secret_files()?;
        settings.validate()?;
        Ok(settings)
    }

    fn read_secret_files(&mut self) -> Result<(), ConfigError> {
        fn read(path: &Option<PathBuf>, key: &str, target: &mut SecretString) -> Result<(), ConfigError> {
            if let Some(p) = path {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| ConfigError::new(key, format!("cannot read secret file {}: {e}", p.display())))?;
                *target = SecretString::from(text.trim_end_matches(['\n', '\r']));
            }
            Ok(())
        }
        let s = &mut self.security;
        read(&s.jwt_key_file, "security.jwt_key_file", &mut s.jwt_key)?;
        read(&s.draw_signing_key_file, "security.draw_signing_key_file", &mut s.draw_signing_key)?;
        read(&s.id_key_file, "security.id_key_file", &mut s.id_key)?;
        read(&self.mail.smtp_password_file, "mail.smtp_password_file", &mut self.mail.smtp_password)?;
        read(&self.wechat.app_secret_file, "wechat.app_secret_file", &mut self.wechat.app_secret)?;
        Ok(())
    }

    /// Checks that hold everywhere, then the stricter production rules.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.database.pool_size == 0 {
            return Err(ConfigError::new("database.pool_size", "must be at least 1"));
        }
        if let Some(u) = self.redis.url() {
            if !(u.starts_with("redis://") || u.starts_with("rediss://") || u.starts_with("redis+unix://") || u.starts_with("unix://")) {
                return Err(ConfigError::new("redis.url", "must start with redis://, rediss:// or unix://"));
            }
        } else if self.ratelimit.store == RateLimitStore::Redis {
            return Err(ConfigError::new("redis.url", "ratelimit.store = \"redis\" needs redis.url"));
        }
        crate::web::client_addr::parse_trusted(&self.server.trusted_proxies).map_err(|m| ConfigError::new("server.trusted_proxies", m))?;
        crate::db::DbUrl::parse(&self.database.url).map_err(|m| ConfigError::new("database.url", m))?;
        if !matches!(self.database.sslmode.as_str(), "" | "disable" | "allow" | "prefer" | "require" | "verify-ca" | "verify-full") {
            return Err(ConfigError::new("database.sslmode", "one of disable, allow, prefer, require, verify-ca, verify-full"));
        }
        if self.database.audit_seal_interval_ms == 0 {
            return Err(ConfigError::new("database.audit_seal_interval_ms", "must be at least 1"));
        }
        if self.security.jwt_key.expose_secret().len() < 32 {
            return Err(ConfigError::new("security.jwt_key", "must be at least 32 characters"));
        }
        id_key_bytes(self.security.id_key.expose_secret()).map_err(|m| ConfigError::new("security.id_key", m))?;
        self.draw_signing_key().map_err(|m| ConfigError::new("security.draw_signing_key", m))?;
        let n = &self.notify;
        if n.max_attempts < 1 {
            return Err(ConfigError::new("notify.max_attempts", "must be at least 1"));
        }
        if n.backoff_base_secs < 1 || n.backoff_cap_secs < n.backoff_base_secs {
            return Err(ConfigError::new("notify.backoff_cap_secs", "base must be at least 1 and the cap at least the base"));
        }
        if n.lease_secs < 1 || n.batch_size < 1 || n.poll_interval_ms == 0 {
            return Err(ConfigError::new("notify.lease_secs", "lease, batch size and poll interval must be positive"));
        }
        if self.mail.smtp_pool_size == 0 {
            return Err(ConfigError::new("mail.smtp_pool_size", "must be at least 1"));
        }
        if self.uploads.max_bytes == 0 {
            return Err(ConfigError::new("uploads.max_bytes", "must be positive"));
        }
        if self.admission.deadline_sweep_secs == 0 {
            return Err(ConfigError::new("admission.deadline_sweep_secs", "must be at least 1"));
        }
        for (key, v) in [
            ("admission.class_cap_primary", self.admission.class_cap_primary),
            ("admission.class_cap_junior", self.admission.class_cap_junior),
        ] {
            if !(1..=80).contains(&v) {
                return Err(ConfigError::new(key, "must be between 1 and 80"));
            }
        }
        if self.environment == Environment::Production {
            let secrets: [(&str, &SecretString); 5] = [
                ("security.jwt_key", &self.security.jwt_key),
                ("security.draw_signing_key", &self.security.draw_signing_key),
                ("security.id_key", &self.security.id_key),
                ("wechat.app_secret", &self.wechat.app_secret),
                ("mail.smtp_password", &self.mail.smtp_password),
            ];
            for (key, value) in secrets {
                if value.expose_secret().starts_with(DEV_SECRET_PREFIX) {
                    return Err(ConfigError::new(
                        key,
                        "a development secret is not allowed in production; set it from the environment or a *_file",
                    ));
                }
            }
            if self.security.dev_login {
                return Err(ConfigError::new("security.dev_login", "the dev login must be off in production"));
            }
            if self.mail.backend != MailBackendKind::Smtp {
                return Err(ConfigError::new("mail.backend", "production requires the smtp mail backend"));
            }
            if self.mail.smtp_tls == SmtpTls::None && !is_loopback(&self.mail.smtp_host) {
                return Err(ConfigError::new("mail.smtp_tls", "production requires starttls or tls unless the relay is on loopback"));
            }
            if !self.security.cookie_secure {
                return Err(ConfigError::new("security.cookie_secure", "must be true in production"));
            }
        }
        Ok(())
    }

    pub fn bind_address(&self) -> String {
        format!("{}:{}", self.server.host, self.server.port)
    }

    /// The 32-byte key that encrypts ID numbers at rest.
    /// The Ed25519 key that signs draw announcements: 64 hex digits (the
    /// private key's 32-byte seed, RFC 8032), behind `dev-` in development.
    /// `ruxue draw keygen` makes one.
    pub fn draw_signing_key(&self) -> Result<crate::draw::announce::SigningKey, String> {
        let seed = id_key_bytes(self.security.draw_signing_key.expose_secret())?;
        crate::draw::announce::SigningKey::from_seed(seed).map_err(|e| e.0)
    }

    pub fn id_key(&self) -> [u8; 32] {
        // validate() has already checked it.
        id_key_bytes(self.security.id_key.expose_secret()).unwrap_or([0u8; 32])
    }
}

/// Accepts 64 hex digits, optionally behind the development prefix.
pub fn id_key_bytes(s: &str) -> Result<[u8; 32], String> {
    let hexpart = s.strip_prefix(DEV_SECRET_PREFIX).unwrap_or(s).trim();
    let bytes = hex::decode(hexpart).map_err(|_| "must be 64 hexadecimal digits (32 bytes)".to_string())?;
    bytes.try_into().map_err(|_| "must be 64 hexadecimal digits (32 bytes)".to_string())
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).trim().to_string()
}

fn read_toml(path: &Path) -> Result<toml::Value, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::new(path.display().to_string(), format!("cannot read: {e}")))?;
    // A whole document is a table; since toml 0.9 `Value::from_str` parses a single value.
    text.parse::<toml::Table>()
        .map(toml::Value::Table)
        .map_err(|e| ConfigError::new(path.display().to_string(), first_line(&e.to_string())))
}

fn merge(base: &mut toml::Value, overlay: toml::Value) {
    match (base, overlay) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) if existing.is_table() && v.is_table() => merge(existing, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

fn set_path(root: &mut toml::Value, path: &[String], value: toml::Value) -> Result<(), String> {
    let table = root.as_table_mut().ok_or("configuration root is not a table")?;
    let section = table.entry(path[0].clone()).or_insert_with(|| toml::Value::Table(Default::default()));
    let section = section.as_table_mut().ok_or_else(|| format!("`{}` is not a section", path[0]))?;
    section.insert(path[1].clone(), value);
    Ok(())
}

/// `8080` → integer, `true` → bool, anything else → string (secrets stay verbatim).
fn list_or_commas<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum L {
        List(Vec<String>),
        Text(String),
    }
    Ok(match L::deserialize(d)? {
        L::List(v) => v,
        L::Text(t) => t.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
    })
}

fn parse_env_value(v: &str) -> toml::Value {
    if let Ok(i) = v.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    match v {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(v.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(env: Environment, vars: &[(&str, &str)]) -> Source {
        Source {
            dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("config"),
            environment: env,
            env: vars.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
        }
    }

    #[test]
    fn development_loads() {
        let s = Settings::load_from(&src(Environment::Development, &[])).unwrap();
        assert!(s.security.dev_login);
        assert_eq!(s.admission.class_cap_primary, 45);
        assert_eq!(s.admission.class_cap_junior, 50);
    }

    #[test]
    fn env_overrides_and_unknown_keys() {
        let s = Settings::load_from(&src(Environment::Test, &[("RUXUE__SERVER__PORT", "9999")])).unwrap();
        assert_eq!(s.server.port, 9999);
        let e = Settings::load_from(&src(Environment::Test, &[("RUXUE__SERVER__PORTT", "1")])).unwrap_err();
        assert_eq!(e.key, "server.portt");
        let e = Settings::load_from(&src(Environment::Test, &[("RUXUE__NOPE__X", "1")])).unwrap_err();
        assert_eq!(e.key, "nope");
    }

    #[test]
    fn production_refuses_dev_secret() {
        let e = Settings::load_from(&src(Environment::Production, &[])).unwrap_err();
        assert_eq!(e.key, "security.jwt_key");
    }

    #[test]
    fn files_parse_as_documents_and_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let default = std::fs::read_to_string(src(Environment::Test, &[]).dir.join("default.toml")).unwrap();
        std::fs::write(dir.path().join("default.toml"), default).unwrap();
        std::fs::write(dir.path().join("test.toml"), "[server]\nport = 9998\n").unwrap();
        let mut source = src(Environment::Test, &[]);
        source.dir = dir.path().to_path_buf();
        assert_eq!(Settings::load_from(&source).unwrap().server.port, 9998);
        std::fs::write(dir.path().join("test.toml"), "[server\nport = 1\n").unwrap();
        let e = Settings::load_from(&source).unwrap_err();
        assert_eq!(e.key, dir.path().join("test.toml").display().to_string());
        assert!(!e.message.is_empty() && !e.message.contains('\n'), "{e:?}");
    }

    #[test]
    fn secrets_never_print() {
        let s = Settings::load_from(&src(Environment::Development, &[])).unwrap();
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("dev-jwt-key"), "{dbg}");
    }
}
