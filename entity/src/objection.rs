//! An objection (异议) to an application in public notice, decided by the fund office.

use crate::enums::ObjectionStatus;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "objections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub application_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    pub raised_by: Uuid,
    pub raised_by_organization_id: Option<Uuid>,
    pub raised_at: DateTimeUtc,
    pub status: ObjectionStatus,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub decision_note: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
