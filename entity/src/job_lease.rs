//! Job leases: a process runs a job only while it holds the job's row here (owner, expiry).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_leases")]
pub struct Model {
    /// The job's name.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// The process holding the lease; `None` when released.
    pub owner: Option<String>,
    /// The lease is free once this instant has passed.
    pub expires_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
