//! Failed login attempts, kept in the database so throttling holds across api instances.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_attempts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The lower-cased username tried; empty when no user could have it.
    pub username: String,
    /// The client address it came from.
    pub address: String,
    pub at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
