//! The mail outbox: written in the same transaction as the event that causes a mail, sent later
//! by the dispatcher job. A row keeps one `Message-ID` across retries.

use crate::enums::NotificationKind;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Delivery state of a mail.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(16))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum MailStatus {
    /// Waiting for `next_attempt_at` (also while a dispatcher holds the claim).
    Pending,
    Sent,
    /// Gave up after the last attempt; `last_error` says why.
    Failed,
}

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    /// UUID v7: time-ordered, the pagination key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `<...@...>`, fixed at enqueue time.
    #[sea_orm(unique)]
    pub message_id: String,
    pub template: String,
    /// The template's data, JSON.
    #[sea_orm(column_type = "Text")]
    pub data: String,
    pub recipient: String,
    /// Rendered at enqueue time, so lists can show it.
    pub subject: String,
    pub status: MailStatus,
    pub attempts: i32,
    /// When a dispatcher may (re)try: a claim moves it forward, a failure backs it off.
    pub next_attempt_at: DateTimeUtc,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// The user the mail is for; `None` for an organization's contact address or a configured
    /// one (`ADMIN_EMAIL`).
    pub user_id: Option<Uuid>,
    /// The notification kind the mail belongs to (`None` for rows older than notifications).
    pub kind: Option<NotificationKind>,
}

impl ActiveModelBehavior for ActiveModel {}
