//! A bank's dedicated credit quota for a chain (专项授信). `granted_fen` is the sum of the
//! limits of its lines that are `active` or `frozen` (the exposure rule), kept by guarded
//! updates and a `CHECK` that it stays within the quota.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credit_programs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub chain_id: Uuid,
    pub bank_id: Uuid,
    pub name: String,
    pub quota_fen: i64,
    pub max_per_enterprise_fen: i64,
    pub granted_fen: i64,
    /// Percent per year in ten-thousandths (3.45 % → 34500).
    pub rate_floor_e4: i64,
    pub rate_ceiling_e4: i64,
    pub max_term_months: i32,
    pub valid_from: Date,
    pub valid_until: Date,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
