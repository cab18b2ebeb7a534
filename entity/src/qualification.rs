//! Qualifications an enterprise holds, with validity dates and the certificate that proves
//! them; recorded by admin and fund office users only.

use crate::enums::QualificationKind;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "qualifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: QualificationKind,
    pub valid_from: Date,
    pub valid_until: Option<Date>,
    /// The certificate number; `None` only on rows recorded before certificates were required.
    pub certificate_no: Option<String>,
    /// The body that issued the certificate; `None` like `certificate_no`.
    pub issued_by: Option<String>,
    /// The user who recorded it last (`None` before that was kept).
    pub recorded_by: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Whether the qualification holds on `date`.
    pub fn valid_on(&self, date: Date) -> bool {
        self.valid_from <= date && self.valid_until.is_none_or(|until| date <= until)
    }
}
