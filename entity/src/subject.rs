//! A subject of the engine: what a clock, a supervision or a timeline line belongs to.

use crate::enums::SubjectType;
use uuid::Uuid;

/// One subject: its type and its id (the row it points to in that type's table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subject {
    pub kind: SubjectType,
    pub id: Uuid,
}

/// The key columns of a row keyed by subject, one per subject type (exactly the one of the
/// row's type is set; the database's `CHECK` keeps it so).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SubjectKeys {
    pub appeal_id: Option<Uuid>,
    pub financing_request_id: Option<Uuid>,
    pub fund_application_id: Option<Uuid>,
    pub risk_claim_id: Option<Uuid>,
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

    /// A fund application.
    pub fn fund_application(id: Uuid) -> Self {
        Self {
            kind: SubjectType::FundApplication,
            id,
        }
    }

    /// A risk-compensation claim.
    pub fn risk_claim(id: Uuid) -> Self {
        Self {
            kind: SubjectType::RiskClaim,
            id,
        }
    }

    /// The subject a row with this type and these keys belongs to.
    pub fn from_keys(kind: SubjectType, keys: SubjectKeys) -> Self {
        let id = match kind {
            SubjectType::Appeal => keys.appeal_id,
            SubjectType::FinancingRequest => keys.financing_request_id,
            SubjectType::FundApplication => keys.fund_application_id,
            SubjectType::RiskClaim => keys.risk_claim_id,
        };
        Self {
            kind,
            id: id.unwrap_or_default(),
        }
    }

    /// The key columns' values for this subject.
    pub fn keys(self) -> SubjectKeys {
        let id = Some(self.id);
        match self.kind {
            SubjectType::Appeal => SubjectKeys {
                appeal_id: id,
                ..SubjectKeys::default()
            },
            SubjectType::FinancingRequest => SubjectKeys {
                financing_request_id: id,
                ..SubjectKeys::default()
            },
            SubjectType::FundApplication => SubjectKeys {
                fund_application_id: id,
                ..SubjectKeys::default()
            },
            SubjectType::RiskClaim => SubjectKeys {
                risk_claim_id: id,
                ..SubjectKeys::default()
            },
        }
    }

    /// The value of the `appeal_id` key column for this subject.
    pub fn appeal_id(self) -> Option<Uuid> {
        self.keys().appeal_id
    }

    /// The value of the `financing_request_id` key column for this subject.
    pub fn financing_request_id(self) -> Option<Uuid> {
        self.keys().financing_request_id
    }

    /// The value of the `fund_application_id` key column for this subject.
    pub fn fund_application_id(self) -> Option<Uuid> {
        self.keys().fund_application_id
    }

    /// The value of the `risk_claim_id` key column for this subject.
    pub fn risk_claim_id(self) -> Option<Uuid> {
        self.keys().risk_claim_id
    }
}

/// The subject accessors of a table keyed by subject (`sla_clocks`, `supervisions`, the
/// timeline, and `files` once attached): `Model::subject()` and `of_subject(subject)`, the
/// condition selecting a subject's rows through its type's key column. A new subject type adds
/// its key here, once for every such table. `keyed_by_subject!(optional)` is for a table whose
/// rows may belong to no subject yet (`subject_type` is then `NULL`, and so is every key).
macro_rules! keyed_by_subject {
    () => {
        impl Model {
            /// The subject this row belongs to.
            pub fn subject(&self) -> $crate::subject::Subject {
                $crate::subject::Subject::from_keys(self.subject_type, self.subject_keys())
            }
        }
        $crate::subject::keyed_by_subject!(@keys);
    };
    (optional) => {
        impl Model {
            /// The subject this row belongs to, if any.
            pub fn subject(&self) -> Option<$crate::subject::Subject> {
                self.subject_type
                    .map(|t| $crate::subject::Subject::from_keys(t, self.subject_keys()))
            }
        }
        $crate::subject::keyed_by_subject!(@keys);
    };
    (@keys) => {
        impl Model {
            fn subject_keys(&self) -> $crate::subject::SubjectKeys {
                $crate::subject::SubjectKeys {
                    appeal_id: self.appeal_id,
                    financing_request_id: self.financing_request_id,
                    fund_application_id: self.fund_application_id,
                    risk_claim_id: self.risk_claim_id,
                }
            }
        }

        /// The key column of subject type `kind`.
        pub fn key_column(kind: $crate::enums::SubjectType) -> Column {
            use $crate::enums::SubjectType as T;
            match kind {
                T::Appeal => Column::AppealId,
                T::FinancingRequest => Column::FinancingRequestId,
                T::FundApplication => Column::FundApplicationId,
                T::RiskClaim => Column::RiskClaimId,
            }
        }

        /// The rows of `subject`, through its type's key column.
        pub fn of_subject(subject: $crate::subject::Subject) -> sea_orm::Condition {
            sea_orm::Condition::all().add(key_column(subject.kind).eq(subject.id))
        }

        /// The rows of the subjects of type `kind` with ids `ids` (a page of a list).
        pub fn of_subjects(
            kind: $crate::enums::SubjectType,
            ids: impl IntoIterator<Item = Uuid>,
        ) -> sea_orm::Condition {
            sea_orm::Condition::all().add(key_column(kind).is_in(ids))
        }
    };
}
pub(crate) use keyed_by_subject;
