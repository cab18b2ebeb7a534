//! The lettre transport: SMTP (`SMTP_URL`: `smtp://` plain or `?tls=required` for STARTTLS,
//! `smtps://` for TLS, user and password in the URL) or, without `SMTP_URL`, `.eml` files in
//! `MAIL_DIR`.

use crate::config::MailConfig;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

/// Why a send failed; permanent failures are not retried.
#[derive(Debug, Clone)]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
}

impl Mailer {
    /// The transport `config` names.
    pub fn from_config(config: &MailConfig) -> anyhow::Result<Self> {
        match &config.smtp_url {
            Some(url) => {
                let t = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("invalid SMTP_URL: {e}"))?
                    .timeout(Some(config.smtp_timeout))
                    .build();
                Ok(Mailer::Smtp(t))
            }
            None => {
                std::fs::create_dir_all(&config.mail_dir).map_err(|e| {
                    anyhow::anyhow!("cannot create {}: {e}", config.mail_dir.display())
                })?;
                Ok(Mailer::File(AsyncFileTransport::new(&config.mail_dir)))
            }
        }
    }

    /// Sends one message.
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self {
            Mailer::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| SendError {
                permanent: e.is_permanent(),
                message: format!("smtp: {e}"),
            }),
            Mailer::File(t) => t.send(message).await.map(|_| ()).map_err(|e| SendError {
                permanent: false,
                message: format!("file: {e}"),
            }),
        }
    }

    /// A short name for logs: `smtp` or `file`.
    pub fn kind(&self) -> &'static str {
        match self {
            Mailer::Smtp(_) => "smtp",
            Mailer::File(_) => "file",
        }
    }
}
