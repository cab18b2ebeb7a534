//! A bank serving a chain; at most one lead bank per chain (partial unique index).

use crate::enums::BankRole;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "chain_banks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    pub role: BankRole,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
