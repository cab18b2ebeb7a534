//! An enterprise's membership of a chain.

use crate::enums::MemberRole;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "chain_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    pub role: MemberRole,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
