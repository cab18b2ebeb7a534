//! What the financing-request API reads and answers: views, inputs, and the actions as one enum.

#[allow(unused_imports)]
use super::*;

/// Approval terms: what a credit line is granted with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Terms {
    #[schema(value_type = String, example = "3000000.00")]
    pub limit: Money,
    #[schema(value_type = String, example = "3.45")]
    pub rate: Rate,
    pub term_months: i32,
    pub revolving: bool,
    pub expires_on: NaiveDate,
}

/// An approval above the four-eyes threshold waiting for a second bank user.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposalView {
    pub terms: Terms,
    pub proposed_by: Uuid,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub proposed_at: DateTime<Utc>,
}

/// A financing request as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FinancingRequestView {
    pub id: Uuid,
    pub number: String,
    pub enterprise_id: Uuid,
    pub chain_id: Uuid,
    pub program_id: Option<Uuid>,
    /// The bank it is routed (or referred) to.
    pub bank_id: Uuid,
    #[schema(value_type = String, example = "3000000.00")]
    pub amount: Money,
    pub term_months: i32,
    pub purpose: String,
    pub product: FinancingProduct,
    pub product_label: &'static str,
    pub status: FinancingStatus,
    pub status_label: &'static str,
    /// `accept` and `decide` (a referral starts a new `accept` round).
    pub clocks: Vec<ClockView>,
    /// The pending four-eyes proposal, if any.
    pub proposal: Option<ProposalView>,
    /// Files attached to the request (documents arrive with the documents issue).
    #[schema(value_type = Vec<Object>)]
    /// The documents attached at submission and with supplements (`GET /files/{id}`).
    pub attachments: Vec<crate::services::files::FileView>,
    /// The credit line an approval granted.
    pub credit_line_id: Option<Uuid>,
    pub reject_reason: Option<String>,
    pub refer_count: i32,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub submitted_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub accepted_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub decided_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub withdrawn_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub updated_at: DateTime<Utc>,
}

/// One line of a request's timeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FinancingEventView {
    pub id: Uuid,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub at: DateTime<Utc>,
    /// `None` for the monitor (and, for the enterprise, for officials).
    pub actor_id: Option<Uuid>,
    /// `submit`, `accept`, `refer`, … or the monitor's `breach`, `escalation`.
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: Option<String>,
    /// The bank holding the request when it happened.
    pub bank_id: Option<Uuid>,
    /// Where a referral sent it.
    pub to_bank_id: Option<Uuid>,
    pub visibility: EventVisibility,
}

/// `POST /financing-requests`. `amount` is a decimal string.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFinancingRequest {
    pub chain_id: Uuid,
    pub program_id: Option<Uuid>,
    #[serde(default)]
    #[schema(value_type = String, example = "3000000.00")]
    pub amount: serde_json::Value,
    #[schema(minimum = 1, maximum = 360)]
    pub term_months: i32,
    #[schema(min_length = 1, max_length = 10000)]
    pub purpose: String,
    pub product: FinancingProduct,
    /// Uploads of the caller's own (`POST /files`) not attached to anything yet.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub attachment_ids: Vec<Uuid>,
}

/// `GET /financing-requests` filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct FinancingFilter {
    pub status: Option<FinancingStatus>,
    pub chain_id: Option<Uuid>,
    pub bank_id: Option<Uuid>,
    pub enterprise_id: Option<Uuid>,
    pub program_id: Option<Uuid>,
}

/// `{message}`: request_info, supplement.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinancingMessage {
    #[schema(min_length = 1, max_length = 10000)]
    pub message: String,
}

/// `supplement`: the enterprise's answer, with documents if asked for.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinancingSupplement {
    #[schema(min_length = 1, max_length = 10000)]
    pub message: String,
    /// Uploads of the caller's own (`POST /files`) not attached to anything yet.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub attachment_ids: Vec<Uuid>,
}

/// `{reason}`: reject.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinancingReason {
    #[schema(min_length = 1, max_length = 10000)]
    pub reason: String,
}

/// `approve`: the terms of the credit line. Amounts and rates are decimal strings.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveInput {
    #[serde(default)]
    #[schema(value_type = String, example = "3000000.00")]
    pub limit: serde_json::Value,
    #[serde(default)]
    #[schema(value_type = String, example = "3.45")]
    pub rate: serde_json::Value,
    #[schema(minimum = 1, maximum = 360)]
    pub term_months: i32,
    pub revolving: bool,
    pub expires_on: NaiveDate,
}

/// `refer`: the partner bank and why.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferInput {
    pub bank_id: Uuid,
    #[schema(min_length = 1, max_length = 10000)]
    pub reason: String,
}

/// One action with its input.
#[derive(Debug)]
pub enum Act {
    Accept,
    RequestInfo(FinancingMessage),
    Supplement(FinancingSupplement),
    Approve(ApproveInput),
    Reject(FinancingReason),
    Withdraw,
    Refer(ReferInput),
}

impl Act {
    pub(super) fn action(&self) -> A {
        match self {
            Self::Accept => A::Accept,
            Self::RequestInfo(_) => A::RequestInfo,
            Self::Supplement(_) => A::Supplement,
            Self::Approve(_) => A::Approve,
            Self::Reject(_) => A::Reject,
            Self::Withdraw => A::Withdraw,
            Self::Refer(_) => A::Refer,
        }
    }

    pub(super) fn roles(&self) -> &'static [Role] {
        match self {
            Self::Supplement(_) | Self::Withdraw => &[Role::Enterprise],
            _ => &[Role::Bank],
        }
    }
}

pub(super) fn proposal_of(r: &financing_request::Model) -> Option<ProposalView> {
    Some(ProposalView {
        terms: Terms {
            limit: Money::from_fen(r.proposal_limit_fen?),
            rate: Rate::from_e4(r.proposal_rate_e4?),
            term_months: r.proposal_term_months?,
            revolving: r.proposal_revolving?,
            expires_on: r.proposal_expires_on?,
        },
        proposed_by: r.proposed_by?,
        proposed_at: r.proposed_at?,
    })
}

pub(super) fn view(
    r: financing_request::Model,
    clocks: Vec<sla_clock::Model>,
    line: Option<Uuid>,
    attachments: Vec<crate::services::files::FileView>,
) -> FinancingRequestView {
    let proposal = proposal_of(&r);
    FinancingRequestView {
        id: r.id,
        number: r.number,
        enterprise_id: r.enterprise_id,
        chain_id: r.chain_id,
        program_id: r.program_id,
        bank_id: r.bank_id,
        amount: Money::from_fen(r.amount_fen),
        term_months: r.term_months,
        purpose: r.purpose,
        product: r.product,
        product_label: r.product.label_zh(),
        status: r.status,
        status_label: r.status.label_zh(),
        clocks: clocks.into_iter().map(ClockView::from).collect(),
        proposal,
        attachments,
        credit_line_id: line,
        reject_reason: r.reject_reason,
        refer_count: r.refer_count,
        submitted_at: r.submitted_at,
        accepted_at: r.accepted_at,
        decided_at: r.decided_at,
        withdrawn_at: r.withdrawn_at,
        updated_at: r.updated_at,
    }
}

/// The request's clocks and the line it granted, then its view.
pub(super) async fn full_view(
    conn: &impl ConnectionTrait,
    r: financing_request::Model,
) -> AppResult<FinancingRequestView> {
    let clocks = clocks::of_subject(conn, Subject::financing_request(r.id)).await?;
    let line = credit_line::Entity::find()
        .filter(credit_line::Column::RequestId.eq(r.id))
        .one(conn)
        .await?
        .map(|l| l.id);
    let attachments =
        crate::services::files::of_subject(conn, Subject::financing_request(r.id)).await?;
    Ok(view(r, clocks, line, attachments))
}
