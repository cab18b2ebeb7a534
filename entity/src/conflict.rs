//! A reviewer's declared conflict of interest (利益冲突) with an enterprise: the reviewer may
//! not review that enterprise's applications.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conflicts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub reviewer_id: Uuid,
    pub reviewer_organization_id: Option<Uuid>,
    pub enterprise_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub declared_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
