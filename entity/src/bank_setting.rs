//! A bank's settings for financing requests: the four-eyes threshold, the accept and decide
//! clocks, and when an unused line expires. A bank without a row has the defaults.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bank_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    /// Approvals above this many fen take two bank users; `None`: never.
    pub four_eyes_threshold_fen: Option<i64>,
    /// Working days as normalized decimal strings ("1", "0.5").
    pub accept_working_days: String,
    pub decide_working_days: String,
    /// Calendar days after approval within which a line must be drawn, or it expires.
    pub unused_line_expiry_days: i32,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
