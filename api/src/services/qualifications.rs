//! Qualifications (专精特新 and the like) decide fund eligibility, so only admin and fund office
//! users record them, each with its certificate number and issuing body. A chain office may
//! propose one for an active member of its chain; a fund office (or admin) user confirms it,
//! which records it exactly as a direct `PUT` would, or declines it. Every change is audited.

use super::{audit::Change, organizations, validate::Checks};
use crate::{
    auth::{AuthUser, scope},
    error::{AppError, AppResult},
    pagination::{self, Page, PageQuery},
};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    enums::{OrgKind, ProposalStatus, QualificationKind, Role},
    organization, qualification, qualification_proposal,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// The longest certificate number.
const CERTIFICATE_NO_MAX: usize = 64;
/// The longest name of an issuing body.
const ISSUED_BY_MAX: usize = 200;
/// The longest note of a declined proposal.
const NOTE_MAX: usize = 2000;

/// A qualification as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QualificationView {
    pub organization_id: Uuid,
    pub kind: QualificationKind,
    pub kind_label: &'static str,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    /// The certificate number; null only on qualifications recorded before it was required.
    pub certificate_no: Option<String>,
    /// The body that issued the certificate; null like `certificate_no`.
    pub issued_by: Option<String>,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub updated_at: DateTime<Utc>,
}

impl From<qualification::Model> for QualificationView {
    fn from(q: qualification::Model) -> Self {
        Self {
            organization_id: q.organization_id,
            kind: q.kind,
            kind_label: q.kind.label_zh(),
            valid_from: q.valid_from,
            valid_until: q.valid_until,
            certificate_no: q.certificate_no,
            issued_by: q.issued_by,
            updated_at: q.updated_at,
        }
    }
}

/// `PUT /organizations/{id}/qualifications/{kind}`, and the body of a proposal.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QualificationInput {
    /// From 1900-01-01 to 9999-12-31.
    #[schema(pattern = r"^(?:19[0-9]{2}|[2-9][0-9]{3})-")]
    pub valid_from: NaiveDate,
    /// Not before `valid_from`, at most 9999-12-31.
    #[schema(pattern = r"^(?:19[0-9]{2}|[2-9][0-9]{3})-")]
    pub valid_until: Option<NaiveDate>,
    /// The certificate number (single line, at most 64 characters).
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*$"
    )]
    pub certificate_no: String,
    /// The issuing body, e.g. 江苏省工业和信息化厅 (single line, at most 200 characters).
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*$"
    )]
    pub issued_by: String,
}

/// A checked qualification input.
struct Certified {
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
    certificate_no: String,
    issued_by: String,
}

impl QualificationInput {
    fn check(self) -> AppResult<Certified> {
        let mut c = Checks::new();
        let certificate_no = c.line("certificate_no", &self.certificate_no, CERTIFICATE_NO_MAX);
        let issued_by = c.line("issued_by", &self.issued_by, ISSUED_BY_MAX);
        c.date("valid_from", self.valid_from);
        if let Some(until) = self.valid_until {
            c.date("valid_until", until);
        }
        if let Some(until) = self.valid_until
            && until < self.valid_from
        {
            c.add("valid_until", "must not be before valid_from");
        }
        c.finish()?;
        Ok(Certified {
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            certificate_no,
            issued_by,
        })
    }
}

/// The qualifications of an enterprise, by kind.
pub async fn of(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
) -> AppResult<Vec<QualificationView>> {
    use sea_orm::QueryOrder;
    Ok(qualification::Entity::find()
        .filter(qualification::Column::OrganizationId.eq(organization_id))
        .order_by_asc(qualification::Column::Kind)
        .all(conn)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// The enterprise `id` as a target of a qualification: visible to the caller, else 404; not an
/// enterprise, 422.
async fn enterprise(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<organization::Model> {
    let org = organizations::find_visible(conn, actor, id).await?;
    if org.kind != OrgKind::Enterprise {
        return Err(AppError::invalid(
            "organization_id",
            "qualifications apply to enterprises only",
        ));
    }
    Ok(org)
}

/// Who records qualifications.
const RECORDERS: &[Role] = &[Role::Admin, Role::FundOffice];

/// Writes (creates or replaces) a qualification and its audit row.
async fn record(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
    kind: QualificationKind,
    q: Certified,
) -> AppResult<QualificationView> {
    let existing = qualification::Entity::find_by_id((id, kind))
        .one(conn)
        .await?;
    let before = existing.clone().map(QualificationView::from);
    let mut am: qualification::ActiveModel = match existing {
        Some(q) => q.into(),
        None => qualification::ActiveModel {
            organization_id: Set(id),
            kind: Set(kind),
            ..Default::default()
        },
    };
    am.valid_from = Set(q.valid_from);
    am.valid_until = Set(q.valid_until);
    am.certificate_no = Set(Some(q.certificate_no));
    am.issued_by = Set(Some(q.issued_by));
    am.recorded_by = Set(Some(actor.id));
    am.updated_at = Set(now);
    let model = if before.is_some() {
        am.update(conn).await?
    } else {
        am.insert(conn).await?
    };
    let view = QualificationView::from(model);
    Change {
        at: now,
        actor: Some(actor.id),
        action: "qualification.put",
        object_type: "organization",
        object_id: id.to_string(),
    }
    .record(conn, before.as_ref(), Some(&view))
    .await?;
    Ok(view)
}

/// Sets (creates or replaces) a qualification of an enterprise (admin, fund office).
pub async fn put(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
    kind: QualificationKind,
    input: QualificationInput,
) -> AppResult<QualificationView> {
    actor.require(RECORDERS)?;
    enterprise(conn, actor, id).await?;
    let q = input.check()?;
    record(conn, actor, now, id, kind, q).await
}

/// Removes a qualification (admin, fund office); 404 when the enterprise does not hold it.
pub async fn delete(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
    kind: QualificationKind,
) -> AppResult<()> {
    actor.require(RECORDERS)?;
    enterprise(conn, actor, id).await?;
    let existing = qualification::Entity::find_by_id((id, kind))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    qualification::Entity::delete_by_id((id, kind))
        .exec(conn)
        .await?;
    Change {
        at: now,
        actor: Some(actor.id),
        action: "qualification.delete",
        object_type: "organization",
        object_id: id.to_string(),
    }
    .record(conn, Some(&QualificationView::from(existing)), None::<&()>)
    .await?;
    Ok(())
}

/// A chain office's proposal of a qualification.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposalView {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub organization_name: String,
    pub kind: QualificationKind,
    pub kind_label: &'static str,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub certificate_no: String,
    pub issued_by: String,
    /// `pending`, `confirmed` or `declined`.
    pub status: ProposalStatus,
    pub status_label: &'static str,
    /// The chain-office user who proposed it.
    pub proposed_by: Uuid,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub proposed_at: DateTime<Utc>,
    pub decided_by: Option<Uuid>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub decided_at: Option<DateTime<Utc>>,
    /// The fund office's note on a decline.
    pub decision_note: Option<String>,
}

impl ProposalView {
    fn of(p: qualification_proposal::Model, organization_name: String) -> Self {
        Self {
            id: p.id,
            organization_id: p.organization_id,
            organization_name,
            kind: p.kind,
            kind_label: p.kind.label_zh(),
            valid_from: p.valid_from,
            valid_until: p.valid_until,
            certificate_no: p.certificate_no,
            issued_by: p.issued_by,
            status: p.status,
            status_label: p.status.label_zh(),
            proposed_by: p.proposed_by,
            proposed_at: p.proposed_at,
            decided_by: p.decided_by,
            decided_at: p.decided_at,
            decision_note: p.decision_note,
        }
    }
}

/// Filters of `GET /qualification-proposals`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ProposalFilter {
    pub status: Option<ProposalStatus>,
    pub organization_id: Option<Uuid>,
}

/// `POST /qualification-proposals/{id}/decline`.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineInput {
    /// Why (free text, at most 2000 characters).
    #[schema(
        max_length = 2000,
        pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$"
    )]
    pub note: Option<String>,
}

/// A fund office's decision on a proposal.
#[derive(Debug)]
pub enum Decision {
    Confirm,
    Decline(DeclineInput),
}

/// Who sees proposals (`scope::qualification_proposals` narrows a chain office to its own).
const PROPOSAL_READERS: &[Role] = &[Role::Admin, Role::FundOffice, Role::ChainOffice];

/// A chain office proposes a qualification for an active member of one of its chains.
pub async fn propose(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
    kind: QualificationKind,
    input: QualificationInput,
) -> AppResult<ProposalView> {
    actor.require(&[Role::ChainOffice])?;
    let office = actor
        .organization_id
        .ok_or_else(|| AppError::forbidden("the user belongs to no chain office"))?;
    let org = enterprise(conn, actor, id).await?;
    if !scope::chain_office_has_member(conn, actor, id).await? {
        return Err(AppError::NotFound);
    }
    let q = input.check()?;
    let model = qualification_proposal::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(id),
        kind: Set(kind),
        valid_from: Set(q.valid_from),
        valid_until: Set(q.valid_until),
        certificate_no: Set(q.certificate_no),
        issued_by: Set(q.issued_by),
        status: Set(ProposalStatus::Pending),
        proposed_by: Set(actor.id),
        proposed_by_org: Set(office),
        proposed_at: Set(now),
        decided_by: Set(None),
        decided_at: Set(None),
        decision_note: Set(None),
    }
    .insert(conn)
    .await?;
    let view = ProposalView::of(model, org.name);
    Change {
        at: now,
        actor: Some(actor.id),
        action: "qualification.proposal.create",
        object_type: "qualification_proposal",
        object_id: view.id.to_string(),
    }
    .record(conn, None::<&()>, Some(&view))
    .await?;
    Ok(view)
}

async fn find_visible(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<qualification_proposal::Model> {
    qualification_proposal::Entity::find_by_id(id)
        .filter(scope::qualification_proposals(actor))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

async fn names(
    conn: &impl ConnectionTrait,
    ids: impl Iterator<Item = Uuid>,
) -> AppResult<HashMap<Uuid, String>> {
    Ok(organization::Entity::find()
        .filter(organization::Column::Id.is_in(ids.collect::<Vec<_>>()))
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

async fn view(
    conn: &impl ConnectionTrait,
    p: qualification_proposal::Model,
) -> AppResult<ProposalView> {
    let names = names(conn, std::iter::once(p.organization_id)).await?;
    let name = names.get(&p.organization_id).cloned().unwrap_or_default();
    Ok(ProposalView::of(p, name))
}

/// The proposals the caller may see, oldest first: the fund office and admins all, a chain
/// office its own.
pub async fn list(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    filter: &ProposalFilter,
    page: &PageQuery,
) -> AppResult<Page<ProposalView>> {
    actor.require(PROPOSAL_READERS)?;
    let mut q =
        qualification_proposal::Entity::find().filter(scope::qualification_proposals(actor));
    if let Some(s) = filter.status {
        q = q.filter(qualification_proposal::Column::Status.eq(s));
    }
    if let Some(o) = filter.organization_id {
        q = q.filter(qualification_proposal::Column::OrganizationId.eq(o));
    }
    let page = pagination::fetch(
        conn,
        q,
        qualification_proposal::Column::Id,
        page,
        |p: &qualification_proposal::Model| p.id,
    )
    .await?;
    let names = names(conn, page.items.iter().map(|p| p.organization_id)).await?;
    Ok(page.map(|p| {
        let name = names.get(&p.organization_id).cloned().unwrap_or_default();
        ProposalView::of(p, name)
    }))
}

/// One proposal.
pub async fn get(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<ProposalView> {
    actor.require(PROPOSAL_READERS)?;
    view(conn, find_visible(conn, actor, id).await?).await
}

/// The fund office (or an admin) confirms a proposal, which records the qualification exactly
/// as `PUT` does, or declines it. A proposal is decided once: a second decision is 409.
pub async fn decide(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
    decision: Decision,
) -> AppResult<ProposalView> {
    actor.require(RECORDERS)?;
    let (status, note, action) = match decision {
        Decision::Confirm => (
            ProposalStatus::Confirmed,
            None,
            "qualification.proposal.confirm",
        ),
        Decision::Decline(input) => {
            let mut c = Checks::new();
            let note = c.opt_text("note", input.note.as_deref(), NOTE_MAX);
            c.finish()?;
            (
                ProposalStatus::Declined,
                note,
                "qualification.proposal.decline",
            )
        }
    };
    let before = view(conn, find_visible(conn, actor, id).await?).await?;
    // Decided in the statement that writes: of two concurrent decisions exactly one changes
    // the row.
    let changed = qualification_proposal::Entity::update_many()
        .col_expr(qualification_proposal::Column::Status, Expr::val(status))
        .col_expr(
            qualification_proposal::Column::DecidedBy,
            Expr::val(actor.id),
        )
        .col_expr(qualification_proposal::Column::DecidedAt, Expr::val(now))
        .col_expr(
            qualification_proposal::Column::DecisionNote,
            Expr::val(note),
        )
        .filter(qualification_proposal::Column::Id.eq(id))
        .filter(qualification_proposal::Column::Status.eq(ProposalStatus::Pending))
        .exec(conn)
        .await?
        .rows_affected;
    if changed == 0 {
        return Err(AppError::conflict(
            "proposal_decided",
            "the proposal has already been decided",
        ));
    }
    let model = find_visible(conn, actor, id).await?;
    if status == ProposalStatus::Confirmed {
        let q = Certified {
            valid_from: model.valid_from,
            valid_until: model.valid_until,
            certificate_no: model.certificate_no.clone(),
            issued_by: model.issued_by.clone(),
        };
        record(conn, actor, now, model.organization_id, model.kind, q).await?;
    }
    let after = ProposalView::of(model, before.organization_name.clone());
    Change {
        at: now,
        actor: Some(actor.id),
        action,
        object_type: "qualification_proposal",
        object_id: id.to_string(),
    }
    .record(conn, Some(&before), Some(&after))
    .await?;
    Ok(after)
}
