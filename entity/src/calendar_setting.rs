//! The single calendar settings row (`id = 1`). `revision` grows on every calendar change so
//! that every api instance can tell when its cached calendar is stale.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub time_zone: String,
    /// JSON array of `{"start": "09:00", "end": "17:00"}`.
    #[sea_orm(column_type = "Text")]
    pub working_hours: String,
    pub revision: i64,
    /// The revision every SLA clock has been recomputed for; behind `revision` while a
    /// recompute after a change is under way (or was interrupted: the monitor finishes it).
    pub clocks_revision: i64,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
