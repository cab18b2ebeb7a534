//! Settings of the runner and the mail path, derived from the platform's layered settings
//! ([`crate::settings::Settings::jobs_config`]) by the api and the `jobs` binary alike.

use chrono::TimeDelta;
use std::{path::PathBuf, time::Duration};

/// How mail is rendered, sent and retried.
#[derive(Clone)]
pub struct MailConfig {
    /// `smtp://host:port?tls=required` (STARTTLS), `smtps://user:pass@host` (TLS); `None`: the
    /// file transport into `mail_dir`.
    pub smtp_url: Option<String>,
    pub mail_dir: PathBuf,
    /// The `From:` mailbox.
    pub from: String,
    /// Connect and command timeout of SMTP.
    pub smtp_timeout: Duration,
    /// Attempts before a mail is marked `failed`.
    pub max_attempts: i32,
    /// First retry delay; doubles per attempt (with jitter) up to `backoff_max`.
    pub backoff_base: TimeDelta,
    pub backoff_max: TimeDelta,
    /// Mails claimed per batch.
    pub batch_size: u64,
    /// Mails sent at once by one dispatcher. lettre flushes the final `.` of DATA as its own
    /// small write, which Nagle's algorithm holds until the server's (delayed) ACK: up to ~40 ms
    /// per mail on Linux, so throughput comes from sending several at once.
    pub concurrency: usize,
    /// A claimed mail becomes due again after this, should its dispatcher die mid-send.
    pub claim_timeout: TimeDelta,
}

impl std::fmt::Debug for MailConfig {
    // The SMTP URL may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp", &self.smtp_url.as_ref().map(|_| "<set>"))
            .field("mail_dir", &self.mail_dir)
            .field("from", &self.from)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            mail_dir: PathBuf::from("./data/mail"),
            from: "链通平台 <noreply@liantong.local>".into(),
            smtp_timeout: Duration::from_secs(10),
            max_attempts: 8,
            backoff_base: TimeDelta::seconds(30),
            backoff_max: TimeDelta::hours(2),
            batch_size: 100,
            concurrency: 16,
            claim_timeout: TimeDelta::minutes(5),
        }
    }
}

/// The runner's settings.
#[derive(Clone, Debug)]
pub struct JobsConfig {
    /// This process in `job_leases.owner` and `job_runs.owner`; unique per process.
    pub owner: String,
    /// A lease not renewed for this long is free for another process.
    pub lease_ttl: TimeDelta,
    /// How often the loop looks for due jobs (real time).
    pub tick: Duration,
    /// Period of the mail dispatcher.
    pub dispatch_every: TimeDelta,
    /// Period of the SLA monitor (warnings, breaches, escalations).
    pub sla_monitor_every: TimeDelta,
    /// Job history kept by the prune job.
    pub keep_runs: TimeDelta,
    /// Where job failures are reported; `None`: the active admin users' emails.
    pub admin_email: Option<String>,
    pub mail: MailConfig,
    pub files: FilesConfig,
}

/// Where documents' bytes are kept.
#[derive(Clone, Debug)]
pub enum StoreConfig {
    /// A directory of the local file system (the embedded default: `DATA_DIR/files`).
    Local { dir: PathBuf },
    /// An S3-compatible object store.
    S3(S3Config),
}

/// An S3-compatible bucket (AWS S3, MinIO, Ceph RGW, the clouds' S3 APIs).
#[derive(Clone)]
pub struct S3Config {
    /// `None`: AWS's endpoint for the region; `http://` is allowed for a local server.
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    /// `None`: the usual AWS chain (environment, instance profile).
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<secrecy::SecretString>,
    /// `https://endpoint/bucket/key` (MinIO-like servers) rather than
    /// `https://bucket.endpoint/key`.
    pub path_style: bool,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("path_style", &self.path_style)
            .finish_non_exhaustive()
    }
}

/// Uploads: where they are kept and the limits on them.
#[derive(Clone, Debug)]
pub struct FilesConfig {
    pub store: StoreConfig,
    /// The largest accepted upload (413 past it).
    pub max_bytes: u64,
    /// What one organization's uploads may hold in all (409 past it).
    pub quota_bytes: u64,
    /// An upload never attached is removed this long after it was made.
    pub orphan_after: TimeDelta,
}

impl Default for FilesConfig {
    fn default() -> Self {
        Self {
            store: StoreConfig::Local {
                dir: PathBuf::from("./data/files"),
            },
            max_bytes: 20 * 1024 * 1024,
            quota_bytes: 2 * 1024 * 1024 * 1024,
            orphan_after: TimeDelta::hours(24),
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            owner: default_owner(),
            lease_ttl: TimeDelta::seconds(60),
            tick: Duration::from_secs(1),
            dispatch_every: TimeDelta::seconds(10),
            sla_monitor_every: TimeDelta::seconds(60),
            keep_runs: TimeDelta::days(30),
            admin_email: None,
            mail: MailConfig::default(),
            files: FilesConfig::default(),
        }
    }
}

/// `host-pid-random`: unique per process, readable in the tables.
pub fn default_owner() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!(
        "{host}-{}-{}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}
