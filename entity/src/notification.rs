//! The in-app inbox: one row per user and event, written in the event's transaction by
//! `jobs::notify`. UUID v7 keys order a user's notifications newest first.

use crate::enums::NotificationKind;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    /// UUID v7: time-ordered, the pagination key and the SSE event id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: NotificationKind,
    /// Simplified Chinese, one line.
    #[sea_orm(column_type = "Text")]
    pub title: String,
    /// Simplified Chinese.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// What it is about (`appeal`, `organization`, `job_run`), with `object_id`.
    pub object_type: Option<String>,
    pub object_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
