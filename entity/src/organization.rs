//! Organizations: enterprises, banks, departments, service centres, chain offices, fund offices.

use crate::enums::OrgKind;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: OrgKind,
    pub name: String,
    #[sea_orm(unique)]
    pub uscc: Option<String>,
    pub region: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub verified: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
