//! A subject of the engine: what a clock, a supervision or a timeline line belongs to.

use crate::enums::SubjectType;
use uuid::Uuid;

/// One subject: its type and its id (the row it points to in that type's table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subject {
    pub kind: SubjectType,
    pub id: Uuid,
}

impl Subject {
    /// An appeal.
    pub fn appeal(id: Uuid) -> Self {
        Self {
            kind: SubjectType::Appeal,
            id,
        }
    }

    /// A financing request.
    pub fn financing_request(id: Uuid) -> Self {
        Self {
            kind: SubjectType::FinancingRequest,
            id,
        }
    }

    /// The subject a row with this type and these keys belongs to. The database's `CHECK`
    /// keeps exactly the key of the row's type set.
    pub fn from_keys(
        kind: SubjectType,
        appeal_id: Option<Uuid>,
        financing_request_id: Option<Uuid>,
    ) -> Self {
        match kind {
            SubjectType::Appeal => Self::appeal(appeal_id.unwrap_or_default()),
            SubjectType::FinancingRequest => {
                Self::financing_request(financing_request_id.unwrap_or_default())
            }
        }
    }

    /// The value of the `appeal_id` key column for this subject.
    pub fn appeal_id(self) -> Option<Uuid> {
        (self.kind == SubjectType::Appeal).then_some(self.id)
    }

    /// The value of the `financing_request_id` key column for this subject.
    pub fn financing_request_id(self) -> Option<Uuid> {
        (self.kind == SubjectType::FinancingRequest).then_some(self.id)
    }
}

/// The subject accessors of a table keyed by subject (`sla_clocks`, `supervisions`, the
/// timeline): `Model::subject()` and `of_subject(subject)`, the condition selecting a subject's
/// rows through its type's key column. A new subject type adds its key here, once for all
/// three tables.
macro_rules! keyed_by_subject {
    () => {
        impl Model {
            /// The subject this row belongs to.
            pub fn subject(&self) -> $crate::subject::Subject {
                $crate::subject::Subject::from_keys(
                    self.subject_type,
                    self.appeal_id,
                    self.financing_request_id,
                )
            }
        }

        /// The rows of `subject`, through its type's key column.
        pub fn of_subject(subject: $crate::subject::Subject) -> sea_orm::Condition {
            match subject.kind {
                $crate::enums::SubjectType::Appeal => {
                    sea_orm::Condition::all().add(Column::AppealId.eq(subject.id))
                }
                $crate::enums::SubjectType::FinancingRequest => {
                    sea_orm::Condition::all().add(Column::FinancingRequestId.eq(subject.id))
                }
            }
        }
    };
}
pub(crate) use keyed_by_subject;
