//! The mail outbox as the admin sees it: list by status, retry a failed mail.

use crate::{
    auth::AuthUser,
    error::{AppError, AppResult},
    pagination::{self, Page, PageQuery},
};
use chrono::{DateTime, Utc};
use entity::{
    enums::Role,
    mail_outbox::{self, COLUMN as M, MailStatus},
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use uuid::Uuid;

/// A mail of the outbox.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MailView {
    pub id: Uuid,
    pub message_id: String,
    pub template: String,
    pub recipient: String,
    pub subject: String,
    pub status: MailStatus,
    pub attempts: i32,
    /// When the dispatcher tries next (pending mails).
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<mail_outbox::Model> for MailView {
    fn from(m: mail_outbox::Model) -> Self {
        Self {
            id: m.id,
            message_id: m.message_id,
            template: m.template,
            recipient: m.recipient,
            subject: m.subject,
            status: m.status,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

/// Mails, oldest first (admin).
pub async fn list(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    status: Option<MailStatus>,
    page: &PageQuery,
) -> AppResult<Page<MailView>> {
    actor.require(&[Role::Admin])?;
    let mut select = mail_outbox::Entity::find();
    if let Some(s) = status {
        select = select.filter(M.status.eq(s));
    }
    let page = pagination::fetch(
        conn,
        select,
        mail_outbox::Column::Id,
        page,
        |m: &mail_outbox::Model| m.id,
    )
    .await?;
    Ok(page.map(MailView::from))
}

/// Puts a failed mail back in the queue with fresh attempts (admin); 409 unless it failed.
pub async fn retry(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
) -> AppResult<MailView> {
    actor.require(&[Role::Admin])?;
    match jobs::mail::dispatch::retry(conn, id, now).await? {
        None => Err(AppError::NotFound),
        Some(Err(status)) => Err(AppError::conflict(
            "mail_not_failed",
            format!(
                "only failed mails can be retried; this one is {}",
                sea_orm::ActiveEnum::to_value(&status)
            ),
        )),
        Some(Ok(m)) => Ok(MailView::from(m)),
    }
}
