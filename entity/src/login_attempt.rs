//! Failed login attempts, kept in the database so throttling holds across api instances.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_attempts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub username: String,
    pub at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
