//! What the fund-application API reads and answers.

use crate::services::clock_view::ClockView;
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    disbursement,
    enums::{
        DisbursementKind, EventVisibility, FundStatus, ObjectionStatus, ReviewDecision, ReviewStage,
    },
    fund_application, fund_review,
    money::Money,
    objection,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A fund application as the API shows it; the single-object answers add its reviews,
/// objections, disbursements and timeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FundApplicationView {
    pub id: Uuid,
    pub number: String,
    pub program_id: Uuid,
    pub program_name: String,
    pub enterprise_id: Uuid,
    pub enterprise_name: String,
    /// The chain the enterprise applied through (its office reviews first).
    pub chain_id: Option<Uuid>,
    #[schema(value_type = String, example = "500000.00")]
    pub amount: Money,
    pub project_title: String,
    pub description: String,
    pub status: FundStatus,
    pub status_label: &'static str,
    /// Created by the window-opening job (免申即享).
    pub apply_free: bool,
    #[schema(value_type = Option<String>, example = "400000.00")]
    pub recommended_amount: Option<Money>,
    #[schema(value_type = Option<String>, example = "400000.00")]
    pub approved_amount: Option<Money>,
    #[schema(value_type = String, example = "0.00")]
    pub disbursed_amount: Money,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub notice_ends_at: Option<DateTime<Utc>>,
    /// The same enterprise and project title were approved in another program of the same
    /// year (就高不重复): for the reviewers, not a refusal.
    pub duplicate_funding_flag: bool,
    pub duplicate_of: Option<Uuid>,
    /// `initial_review` and `final_review` (a resubmission starts the next round).
    pub clocks: Vec<ClockView>,
    /// Files attached (documents arrive with the documents issue).
    #[schema(value_type = Vec<Object>)]
    pub attachments: Vec<crate::services::files::FileView>,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub submitted_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub initial_reviewed_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub final_reviewed_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub approved_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub withdrawn_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviews: Option<Vec<ReviewView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objections: Option<Vec<ObjectionView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disbursements: Option<Vec<DisbursementView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<FundEventView>>,
}

impl FundApplicationView {
    pub fn of(
        a: fund_application::Model,
        program_name: String,
        enterprise_name: String,
        clocks: Vec<entity::sla_clock::Model>,
        attachments: Vec<crate::services::files::FileView>,
    ) -> Self {
        Self {
            id: a.id,
            number: a.number,
            program_id: a.program_id,
            program_name,
            enterprise_id: a.enterprise_id,
            enterprise_name,
            chain_id: a.chain_id,
            amount: Money::from_fen(a.amount_fen),
            project_title: a.project_title,
            description: a.description,
            status: a.status,
            status_label: a.status.label_zh(),
            apply_free: a.apply_free,
            recommended_amount: a.recommended_amount_fen.map(Money::from_fen),
            approved_amount: a.approved_amount_fen.map(Money::from_fen),
            disbursed_amount: Money::from_fen(a.disbursed_fen),
            notice_ends_at: a.notice_ends_at,
            duplicate_funding_flag: a.duplicate_funding_flag,
            duplicate_of: a.duplicate_of,
            clocks: clocks.into_iter().map(ClockView::from).collect(),
            attachments,
            submitted_at: a.submitted_at,
            initial_reviewed_at: a.initial_reviewed_at,
            final_reviewed_at: a.final_reviewed_at,
            approved_at: a.approved_at,
            withdrawn_at: a.withdrawn_at,
            updated_at: a.updated_at,
            reviews: None,
            objections: None,
            disbursements: None,
            timeline: None,
        }
    }
}

/// One review decision.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewView {
    pub id: Uuid,
    pub stage: ReviewStage,
    pub decision: ReviewDecision,
    pub decision_label: &'static str,
    pub comment: String,
    /// The recommended (initial) or approved (final) amount.
    #[schema(value_type = Option<String>, example = "400000.00")]
    pub amount: Option<Money>,
    /// The reviewer (hidden from the enterprise).
    pub reviewer_id: Option<Uuid>,
    pub reviewer_organization_id: Option<Uuid>,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub at: DateTime<Utc>,
}

impl ReviewView {
    pub fn of(r: fund_review::Model, show_reviewer: bool) -> Self {
        Self {
            id: r.id,
            stage: r.stage,
            decision: r.decision,
            decision_label: r.decision.label_zh(),
            comment: r.comment,
            amount: r.amount_fen.map(Money::from_fen),
            reviewer_id: show_reviewer.then_some(r.reviewer_id),
            reviewer_organization_id: r.reviewer_organization_id,
            at: r.at,
        }
    }
}

/// An objection (异议) to an application in notice.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ObjectionView {
    pub id: Uuid,
    pub application_id: Uuid,
    /// The application's status now (an upheld objection rejects it).
    pub application_status: FundStatus,
    /// What it says: hidden from the applicant (who reads that an objection came).
    pub content: Option<String>,
    pub status: ObjectionStatus,
    pub status_label: &'static str,
    /// Who objected: shown to the fund office and to the objector only.
    pub raised_by: Option<Uuid>,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub raised_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
}

impl ObjectionView {
    pub fn of(
        o: objection::Model,
        application_status: FundStatus,
        show_author: bool,
        show_content: bool,
    ) -> Self {
        Self {
            id: o.id,
            application_id: o.application_id,
            application_status,
            content: show_content.then_some(o.content),
            status: o.status,
            status_label: o.status.label_zh(),
            raised_by: show_author.then_some(o.raised_by),
            raised_at: o.raised_at,
            decided_at: o.decided_at,
            decision_note: o.decision_note.filter(|_| show_content),
        }
    }
}

/// A payment, or the reversal that voided one.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DisbursementView {
    pub id: Uuid,
    pub program_id: Uuid,
    pub application_id: Option<Uuid>,
    pub risk_claim_id: Option<Uuid>,
    pub kind: DisbursementKind,
    #[schema(value_type = String, example = "200000.00")]
    pub amount: Money,
    pub paid_on: NaiveDate,
    pub reference: Option<String>,
    /// The payment a reversal voids.
    pub reverses_id: Option<Uuid>,
    /// The reversal that voided this payment, if any.
    pub reversed_by: Option<Uuid>,
    pub reason: Option<String>,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub recorded_at: DateTime<Utc>,
}

impl DisbursementView {
    pub fn of(d: disbursement::Model, reversed_by: Option<Uuid>) -> Self {
        Self {
            id: d.id,
            program_id: d.program_id,
            application_id: d.application_id,
            risk_claim_id: d.risk_claim_id,
            kind: d.kind,
            amount: Money::from_fen(d.amount_fen),
            paid_on: d.paid_on,
            reference: d.reference,
            reverses_id: d.reverses_id,
            reversed_by,
            reason: d.reason,
            recorded_at: d.recorded_at,
        }
    }
}

/// One line of an application's (or claim's) timeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FundEventView {
    pub id: Uuid,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub at: DateTime<Utc>,
    /// `None` for the jobs (and, for the enterprise, for officials).
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: Option<String>,
    pub visibility: EventVisibility,
}

impl From<entity::appeal_event::Model> for FundEventView {
    fn from(e: entity::appeal_event::Model) -> Self {
        Self {
            id: e.id,
            at: e.at,
            actor_id: e.actor_id,
            action: e.action,
            from_status: e.from_status,
            to_status: e.to_status,
            note: e.note,
            visibility: e.visibility,
        }
    }
}

/// `POST /fund-applications`. `amount` is a decimal string.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFundApplication {
    pub program_id: Uuid,
    #[serde(default)]
    #[schema(value_type = String, example = "500000.00")]
    pub amount: serde_json::Value,
    #[schema(min_length = 1, max_length = 200)]
    pub project_title: String,
    #[schema(min_length = 1, max_length = 10000)]
    pub description: String,
    /// Uploads of the caller's own (`POST /files`) not attached to anything yet.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub attachment_ids: Vec<Uuid>,
}

/// `GET /fund-applications` filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct FundApplicationFilter {
    pub program_id: Option<Uuid>,
    pub status: Option<FundStatus>,
    pub enterprise_id: Option<Uuid>,
    pub chain_id: Option<Uuid>,
    /// Only applications flagged as possible duplicate funding.
    pub duplicate_funding_flag: Option<bool>,
}

/// The initial review's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InitialDecision {
    Pass,
    Return,
    Reject,
}

/// `initial_review`: a comment is required to return or reject.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InitialReviewInput {
    pub decision: InitialDecision,
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub comment: String,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "400000.00")]
    pub recommended_amount: serde_json::Value,
}

/// The final review's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FinalDecision {
    Approve,
    Reject,
}

/// `final_review`: `approved_amount` defaults to the recommended (else requested) amount; a
/// comment is required to reject.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinalReviewInput {
    pub decision: FinalDecision,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "400000.00")]
    pub approved_amount: serde_json::Value,
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub comment: String,
}

/// `resubmit`: what the enterprise changed after a return (all optional; an empty body keeps
/// everything).
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResubmitInput {
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "450000.00")]
    pub amount: serde_json::Value,
    #[schema(min_length = 1, max_length = 200)]
    pub project_title: Option<String>,
    #[schema(min_length = 1, max_length = 10000)]
    pub description: Option<String>,
    #[schema(max_length = 10000)]
    pub comment: Option<String>,
    /// More uploads of the caller's own, added to those already attached.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub attachment_ids: Vec<Uuid>,
}

/// The actions on an application.
#[derive(Debug)]
pub enum Act {
    InitialReview(InitialReviewInput),
    Resubmit(ResubmitInput),
    FinalReview(FinalReviewInput),
    Withdraw,
}
