//! An uploaded document: what one user sent (its cleaned name, size, sha256 and the type found
//! in its bytes) and, once attached, the one subject it belongs to. The bytes are in the object
//! store under the sha256 ([`crate::file_blob`]).

use crate::enums::SubjectType;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The uploaded name without directories or control characters.
    pub name: String,
    pub size: i64,
    /// Lowercase hex.
    pub sha256: String,
    pub content_type: String,
    pub uploaded_by: Uuid,
    /// The uploader's organization, which the stored bytes count against (`None`: a platform
    /// admin without one).
    pub organization_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    /// `None` until attached; then exactly the key column of this type is set.
    pub subject_type: Option<SubjectType>,
    pub appeal_id: Option<Uuid>,
    pub financing_request_id: Option<Uuid>,
    pub fund_application_id: Option<Uuid>,
    pub risk_claim_id: Option<Uuid>,
    pub attached_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}

crate::subject::keyed_by_subject!(optional);
