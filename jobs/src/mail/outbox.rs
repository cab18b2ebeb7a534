//! Writing to the outbox. Call [`enqueue`] with the connection or transaction of the event that
//! causes the mail: the mail exists exactly when the event committed. Nothing is sent here.

use super::templates::Template;
use chrono::{DateTime, Utc};
use entity::enums::NotificationKind;
use entity::mail_outbox::{self, MailStatus};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr};
use uuid::Uuid;

/// The domain part of generated `Message-ID`s.
pub const MESSAGE_ID_DOMAIN: &str = "liantong.local";

/// Queues `template` for `to`; the dispatcher sends it from `now` on.
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    to: &str,
    template: &Template,
) -> Result<mail_outbox::Model, DbErr> {
    enqueue_at(conn, now, now, to, template).await
}

/// Queues `template` for `to`, to be sent from `send_after` on.
pub async fn enqueue_at(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    send_after: DateTime<Utc>,
    to: &str,
    template: &Template,
) -> Result<mail_outbox::Model, DbErr> {
    let row = pending_row(now, send_after, to, template)?
        .insert(conn)
        .await?;
    tracing::info!(mail = %row.id, template = %row.template, "mail queued");
    Ok(row)
}

/// A template rendered once for the outbox: its name, subject and data, shared by every copy
/// of the same mail.
pub(crate) struct Prepared {
    name: &'static str,
    subject: String,
    data: String,
}

impl Prepared {
    /// Renders the subject and the stored data of `template`.
    pub(crate) fn of(template: &Template) -> Result<Self, DbErr> {
        Ok(Self {
            name: template.name(),
            subject: template
                .subject()
                .map_err(|e| DbErr::Custom(e.to_string()))?,
            data: template
                .data_json()
                .map_err(|e| DbErr::Custom(e.to_string()))?,
        })
    }
}

/// Whom a mail is for beyond its address: the user and the notification kind (both recorded on
/// the outbox row; `None` for an organization's contact address or a configured mailbox).
#[derive(Debug, Clone, Copy, Default)]
pub struct Addressee {
    pub user_id: Option<Uuid>,
    pub kind: Option<NotificationKind>,
}

/// A pending outbox row: rendered subject, the template's data and a `Message-ID` fixed now.
fn pending_row(
    now: DateTime<Utc>,
    send_after: DateTime<Utc>,
    to: &str,
    template: &Template,
) -> Result<mail_outbox::ActiveModel, DbErr> {
    Ok(prepared_row(
        now,
        send_after,
        to,
        &Prepared::of(template)?,
        Addressee::default(),
    ))
}

/// A pending outbox row of an already rendered mail.
pub(crate) fn prepared_row(
    now: DateTime<Utc>,
    send_after: DateTime<Utc>,
    to: &str,
    mail: &Prepared,
    addressee: Addressee,
) -> mail_outbox::ActiveModel {
    let id = Uuid::now_v7();
    mail_outbox::ActiveModel {
        id: Set(id),
        message_id: Set(format!("<{}@{MESSAGE_ID_DOMAIN}>", id.simple())),
        template: Set(mail.name.to_string()),
        data: Set(mail.data.clone()),
        recipient: Set(to.trim().to_string()),
        subject: Set(mail.subject.clone()),
        status: Set(MailStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(send_after.max(now)),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        sent_at: Set(None),
        user_id: Set(addressee.user_id),
        kind: Set(addressee.kind),
    }
}
