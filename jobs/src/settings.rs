//! The platform's layered settings, read the same way by the api and the `jobs` binary:
//! defaults → optional file (`LIANTONG_CONFIG` or `./liantong.toml`) → `LIANTONG__*`
//! environment variables → the common variables (`DATABASE_URL`, `PORT`, ...).

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::path::PathBuf;

/// Where the process runs; production refuses unsafe defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Development,
    Production,
}

/// Every setting of the platform (the api process and the jobs process).
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub env: Environment,
    pub host: String,
    pub port: u16,
    pub data_dir: PathBuf,
    /// `None`: SQLite under `data_dir`.
    pub database_url: Option<SecretString>,
    pub db_max_connections: u32,
    /// PostgreSQL: the connections of the api's combined writes (`jobs::bulk::Combiner`), beside
    /// `db_max_connections`; 0 writes every submission in its own transaction.
    pub db_combined_writers: u32,
    /// `None`: generated once and kept under `data_dir` (refused in production).
    pub jwt_secret: Option<SecretString>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub bootstrap_admin_password: Option<SecretString>,
    pub smtp_url: Option<SecretString>,
    pub mail_dir: Option<PathBuf>,
    pub jobs_embedded: bool,
    /// The `From:` of outgoing mail.
    pub mail_from: String,
    /// Where job failures are mailed; `None`: the active admins' emails.
    pub admin_email: Option<String>,
    pub smtp_timeout_secs: u64,
    /// Attempts before a mail is marked `failed`.
    pub mail_max_attempts: i32,
    /// First retry delay of a mail (doubles per attempt, with jitter).
    pub mail_backoff_base_secs: i64,
    pub mail_dispatch_every_secs: i64,
    /// How often the SLA monitor passes.
    pub sla_monitor_every_secs: i64,
    /// A job lease not renewed for this long passes to another process.
    pub jobs_lease_ttl_secs: i64,
    /// Failed logins of one username from one address within the window before 429.
    pub login_max_failures: u64,
    /// Failed logins from one client address, whatever the username, within the window.
    pub login_max_failures_per_address: u64,
    pub login_window_secs: i64,
    /// Take the client address from `X-Forwarded-For` / `Forwarded` (only behind a proxy that
    /// sets them); otherwise the TCP peer.
    pub trust_forwarded_for: bool,
    pub max_body_bytes: usize,
    /// Argon2id memory cost in KiB and iterations; lower only in tests.
    pub argon2_m_cost_kib: u32,
    pub argon2_t_cost: u32,
    pub idempotency_ttl_secs: i64,
    /// A department may return (退回) an appeal only this long after its assignment.
    pub appeal_return_window_working_days: entity::working_days::WorkingDays,
    /// An enterprise may reopen (重办) a resolved appeal this long after the resolution.
    pub appeal_reopen_window_working_days: entity::working_days::WorkingDays,
    /// Memory for rendered appeal-list items, MiB per process; 0 turns the cache off.
    pub appeal_cache_mib: u64,
    /// Memory for rendered fund programs of the eligibility list, MiB per process; 0: off.
    pub program_cache_mib: u64,
    /// A request body not received completely within this time is answered 408.
    pub request_body_timeout_ms: u64,
    /// Origins allowed to call the API from a browser, comma-separated (none by default).
    pub cors_allowed_origins: String,
    /// Password hashes computed at once; 0: one per CPU core.
    pub password_hash_concurrency: usize,
    /// How long a login waits for a hashing slot before it is answered 503.
    pub password_hash_wait_ms: u64,
    /// How long an api process keeps what it read of a login's state (user active, session
    /// version, refresh tokens revoked). The change feed drops an answer as soon as either
    /// changes, in any process; this is the backstop. 0: read on every request.
    pub session_check_ms: u64,
    /// How long an api process keeps a user's unread-notification count (the change feed drops
    /// it as soon as the user's notifications change); 0: count on every request.
    pub unread_cache_secs: u64,
    /// How often each api process reads the change feed (`change_feed`, written by triggers):
    /// the longest another process's change stays unseen by this one's caches.
    pub change_feed_poll_ms: u64,
    /// How far back each read of the change feed reaches, so that a change whose transaction
    /// committed after a later one's is still seen.
    pub change_feed_lookback_secs: u64,
    /// How often an api process with open notification streams looks for new notifications
    /// (one query per process, whatever the number of streams).
    pub notification_poll_ms: u64,
    /// How far back (by the time in their UUID v7 ids) each look reaches, so a notification
    /// whose transaction committed after a later one's is still delivered. A transaction open
    /// longer than this when it commits is not pushed (it is in the inbox all the same).
    pub notification_lookback_secs: u64,
    /// A comment line sent on an idle notification stream this often, so proxies keep it open.
    pub sse_heartbeat_ms: u64,
    /// An upload's body not received completely within this time is answered 408.
    pub upload_timeout_secs: u64,
    /// The largest accepted upload, bytes (`FILES_MAX_BYTES`).
    pub files_max_bytes: u64,
    /// What one organization's uploads may hold in all, bytes.
    pub files_quota_bytes: u64,
    /// `local` (under `files_dir`) or `s3`.
    pub files_store: String,
    /// The local store's directory; `None`: `DATA_DIR/files`.
    pub files_dir: Option<PathBuf>,
    /// An upload never attached is removed after this many hours.
    pub files_orphan_hours: i64,
    /// The S3-compatible endpoint (`None`: AWS's for the region).
    pub s3_endpoint: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_region: String,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<SecretString>,
    /// Path-style addressing (`endpoint/bucket/key`), as MinIO-like servers need.
    pub s3_path_style: bool,
}

/// Settings could not be read or are unsafe.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read settings: {0}")]
    Read(#[from] config::ConfigError),
    #[error("{0}")]
    Invalid(String),
}

impl Settings {
    /// Reads the layered settings from the process environment.
    pub fn load() -> Result<Self, SettingsError> {
        let file = std::env::var("LIANTONG_CONFIG").unwrap_or_else(|_| "liantong.toml".into());
        let mut b = defaults()?
            .add_source(config::File::with_name(&file).required(false))
            .add_source(config::Environment::with_prefix("LIANTONG").separator("__"));
        for (var, key) in [
            ("PORT", "port"),
            ("HOST", "host"),
            ("DATABASE_URL", "database_url"),
            ("DATA_DIR", "data_dir"),
            ("JWT_SECRET", "jwt_secret"),
            ("BOOTSTRAP_ADMIN_PASSWORD", "bootstrap_admin_password"),
            ("SMTP_URL", "smtp_url"),
            ("MAIL_DIR", "mail_dir"),
            ("JOBS_EMBEDDED", "jobs_embedded"),
            ("MAIL_FROM", "mail_from"),
            ("ADMIN_EMAIL", "admin_email"),
            ("MAIL_MAX_ATTEMPTS", "mail_max_attempts"),
            ("SMTP_TIMEOUT_SECS", "smtp_timeout_secs"),
            ("JOBS_LEASE_TTL_SECS", "jobs_lease_ttl_secs"),
            ("MAIL_DISPATCH_EVERY_SECS", "mail_dispatch_every_secs"),
            ("SLA_MONITOR_EVERY_SECS", "sla_monitor_every_secs"),
            ("FILES_MAX_BYTES", "files_max_bytes"),
            ("FILES_QUOTA_BYTES", "files_quota_bytes"),
            ("FILES_STORE", "files_store"),
            ("FILES_DIR", "files_dir"),
            ("S3_ENDPOINT", "s3_endpoint"),
            ("S3_BUCKET", "s3_bucket"),
            ("S3_REGION", "s3_region"),
            ("S3_ACCESS_KEY_ID", "s3_access_key_id"),
            ("S3_SECRET_ACCESS_KEY", "s3_secret_access_key"),
        ] {
            if let Ok(v) = std::env::var(var)
                && !v.is_empty()
            {
                b = b.set_override(key, v)?;
            }
        }
        let s: Settings = b.build()?.try_deserialize()?;
        s.validate()?;
        Ok(s)
    }

    /// Defaults only, for tests and tools that set fields themselves.
    pub fn defaults() -> Result<Self, SettingsError> {
        Ok(defaults()?.build()?.try_deserialize()?)
    }

    /// Refuses combinations that are unsafe or meaningless.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.env == Environment::Production {
            match &self.jwt_secret {
                Some(s) if s.expose_secret().len() >= 32 => {}
                _ => {
                    return Err(SettingsError::Invalid(
                        "production needs JWT_SECRET of at least 32 bytes".into(),
                    ));
                }
            }
        }
        if let Some(s) = &self.jwt_secret
            && s.expose_secret().len() < 32
        {
            return Err(SettingsError::Invalid(
                "JWT_SECRET must be at least 32 bytes".into(),
            ));
        }
        for origin in self.cors_origins() {
            let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin.contains('*');
            if !ok {
                return Err(SettingsError::Invalid(format!(
                    "CORS_ALLOWED_ORIGINS: {origin} is not an origin like https://app.example.cn"
                )));
            }
        }
        match self.files_store.as_str() {
            "local" => {}
            "s3" if self.s3_bucket.as_deref().is_some_and(|b| !b.is_empty()) => {}
            "s3" => {
                return Err(SettingsError::Invalid(
                    "FILES_STORE=s3 needs S3_BUCKET".into(),
                ));
            }
            other => {
                return Err(SettingsError::Invalid(format!(
                    "FILES_STORE must be local or s3, not {other}"
                )));
            }
        }
        if self.files_max_bytes == 0 || self.files_orphan_hours <= 0 {
            return Err(SettingsError::Invalid(
                "FILES_MAX_BYTES and files_orphan_hours must be positive".into(),
            ));
        }
        if self.access_token_ttl_secs <= 0 || self.refresh_token_ttl_secs <= 0 {
            return Err(SettingsError::Invalid(
                "token lifetimes must be positive".into(),
            ));
        }
        Ok(())
    }

    /// The database URL in effect (SQLite under `data_dir` by default).
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose_secret().to_string(),
            None => format!("sqlite://{}/liantong.db?mode=rwc", self.data_dir.display()),
        }
    }

    /// Whether the database in effect is SQLite.
    pub fn is_sqlite(&self) -> bool {
        self.database_url().starts_with("sqlite:")
    }

    /// Password hashes computed at once (the setting, or one per CPU core).
    pub fn password_hash_slots(&self) -> usize {
        match self.password_hash_concurrency {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
    }

    /// The CORS allow-list, parsed.
    pub fn cors_origins(&self) -> Vec<String> {
        self.cors_allowed_origins
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect()
    }

    /// The directory of the file mail transport.
    pub fn mail_dir(&self) -> PathBuf {
        self.mail_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("mail"))
    }

    /// Where uploads are kept and their limits.
    pub fn files_config(&self) -> crate::FilesConfig {
        let store = if self.files_store == "s3" {
            crate::config::StoreConfig::S3(crate::config::S3Config {
                endpoint: self.s3_endpoint.clone().filter(|e| !e.is_empty()),
                bucket: self.s3_bucket.clone().unwrap_or_default(),
                region: self.s3_region.clone(),
                access_key_id: self.s3_access_key_id.clone().filter(|k| !k.is_empty()),
                secret_access_key: self.s3_secret_access_key.clone(),
                path_style: self.s3_path_style,
            })
        } else {
            crate::config::StoreConfig::Local {
                dir: self
                    .files_dir
                    .clone()
                    .unwrap_or_else(|| self.data_dir.join("files")),
            }
        };
        crate::FilesConfig {
            store,
            max_bytes: self.files_max_bytes,
            quota_bytes: self.files_quota_bytes,
            orphan_after: chrono::TimeDelta::hours(self.files_orphan_hours),
        }
    }

    /// The settings of the job runner and the mail path.
    pub fn jobs_config(&self) -> crate::JobsConfig {
        let defaults = crate::JobsConfig::default();
        crate::JobsConfig {
            lease_ttl: chrono::TimeDelta::seconds(self.jobs_lease_ttl_secs.max(5)),
            dispatch_every: chrono::TimeDelta::seconds(self.mail_dispatch_every_secs.max(1)),
            sla_monitor_every: chrono::TimeDelta::seconds(self.sla_monitor_every_secs.max(1)),
            admin_email: self.admin_email.clone().filter(|e| !e.trim().is_empty()),
            mail: crate::MailConfig {
                smtp_url: self
                    .smtp_url
                    .as_ref()
                    .map(|u| u.expose_secret().to_string()),
                mail_dir: self.mail_dir(),
                from: self.mail_from.clone(),
                smtp_timeout: std::time::Duration::from_secs(self.smtp_timeout_secs.max(1)),
                max_attempts: self.mail_max_attempts.max(1),
                backoff_base: chrono::TimeDelta::seconds(self.mail_backoff_base_secs.max(1)),
                ..defaults.mail
            },
            files: self.files_config(),
            ..defaults
        }
    }
}

fn defaults() -> Result<config::ConfigBuilder<config::builder::DefaultState>, config::ConfigError> {
    config::Config::builder()
        .set_default("env", "development")?
        .set_default("host", "127.0.0.1")?
        .set_default("port", 8080)?
        .set_default("data_dir", "./data")?
        .set_default("db_max_connections", 10)?
        .set_default("db_combined_writers", 3)?
        .set_default("jwt_issuer", "liantong")?
        .set_default("jwt_audience", "liantong-api")?
        .set_default("access_token_ttl_secs", 900)?
        .set_default("refresh_token_ttl_secs", 30 * 24 * 3600)?
        .set_default("jobs_embedded", true)?
        .set_default("mail_from", "链通平台 <noreply@liantong.local>")?
        .set_default("smtp_timeout_secs", 10)?
        .set_default("mail_max_attempts", 8)?
        .set_default("mail_backoff_base_secs", 30)?
        .set_default("mail_dispatch_every_secs", 10)?
        .set_default("sla_monitor_every_secs", 60)?
        .set_default("jobs_lease_ttl_secs", 60)?
        .set_default("login_max_failures", 5)?
        .set_default("login_window_secs", 900)?
        .set_default("login_max_failures_per_address", 100)?
        .set_default("trust_forwarded_for", false)?
        .set_default("max_body_bytes", 1024 * 1024)?
        .set_default("argon2_m_cost_kib", 19 * 1024)?
        .set_default("argon2_t_cost", 2)?
        .set_default("idempotency_ttl_secs", 24 * 3600)?
        .set_default("appeal_return_window_working_days", "2")?
        .set_default("appeal_reopen_window_working_days", "10")?
        .set_default("appeal_cache_mib", 64)?
        .set_default("program_cache_mib", 16)?
        .set_default("request_body_timeout_ms", 30_000)?
        .set_default("cors_allowed_origins", "")?
        .set_default("password_hash_concurrency", 0)?
        .set_default("password_hash_wait_ms", 2_000)?
        .set_default("session_check_ms", 300_000)?
        .set_default("unread_cache_secs", 300)?
        .set_default("change_feed_poll_ms", 200)?
        .set_default("change_feed_lookback_secs", 30)?
        .set_default("notification_poll_ms", 250)?
        .set_default("notification_lookback_secs", 30)?
        .set_default("sse_heartbeat_ms", 15_000)?
        .set_default("upload_timeout_secs", 600)?
        .set_default("files_max_bytes", 20 * 1024 * 1024)?
        .set_default("files_quota_bytes", 2u64 * 1024 * 1024 * 1024)?
        .set_default("files_store", "local")?
        .set_default("files_orphan_hours", 24)?
        .set_default("s3_region", "us-east-1")?
        .set_default("s3_path_style", true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_refuses_to_start_without_a_strong_jwt_secret() {
        let mut s = Settings::defaults().expect("defaults");
        s.env = Environment::Production;
        assert!(s.validate().is_err());
        s.jwt_secret = Some(SecretString::from("short".to_string()));
        assert!(s.validate().is_err());
        s.jwt_secret = Some(SecretString::from("x".repeat(32)));
        assert!(s.validate().is_ok());
    }

    #[test]
    fn default_database_is_sqlite_under_the_data_dir() {
        let s = Settings::defaults().expect("defaults");
        assert_eq!(s.database_url(), "sqlite://./data/liantong.db?mode=rwc");
        assert!(s.is_sqlite());
        assert_eq!(s.port, 8080);
        assert!(s.jobs_embedded);
    }
}
