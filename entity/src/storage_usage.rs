//! The bytes an organization's uploads hold, kept within the quota by a guarded update.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "storage_usage")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    pub bytes: i64,
}

impl ActiveModelBehavior for ActiveModel {}
