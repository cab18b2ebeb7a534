//! One line of an appeal's timeline, written in the same transaction as the change it records.

use crate::enums::{AppealStatus, EventVisibility};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appeal_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub appeal_id: Uuid,
    pub at: DateTimeUtc,
    /// The user who acted; `None` for the SLA monitor.
    pub actor_id: Option<Uuid>,
    pub actor_organization_id: Option<Uuid>,
    /// The department holding the appeal when it happened (before a transfer or return).
    pub department_id: Option<Uuid>,
    /// `submit`, `assign`, `transfer`, ... or `breach`, `escalation` from the monitor.
    pub action: String,
    pub from_status: Option<AppealStatus>,
    pub to_status: AppealStatus,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    /// Where an `assign` or `transfer` sent the appeal.
    pub to_department_id: Option<Uuid>,
    /// What the enterprise may read of it.
    pub visibility: EventVisibility,
}

impl ActiveModelBehavior for ActiveModel {}
