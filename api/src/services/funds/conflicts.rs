//! Conflicts of interest (利益冲突): a reviewer (chain office or fund office user) declares one
//! with an enterprise and may no longer review its applications or decide objections to them.

use crate::{
    auth::{AuthUser, scope},
    error::{AppError, AppResult},
    pagination::{self, Page, PageQuery},
};
use chrono::{DateTime, Utc};
use entity::{
    conflict::{self, Column as C},
    enums::{OrgKind, Role},
    organization,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A declared conflict.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConflictView {
    pub id: Uuid,
    pub reviewer_id: Uuid,
    pub reviewer_organization_id: Option<Uuid>,
    pub enterprise_id: Uuid,
    pub reason: String,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub declared_at: DateTime<Utc>,
}

impl From<conflict::Model> for ConflictView {
    fn from(c: conflict::Model) -> Self {
        Self {
            id: c.id,
            reviewer_id: c.reviewer_id,
            reviewer_organization_id: c.reviewer_organization_id,
            enterprise_id: c.enterprise_id,
            reason: c.reason,
            declared_at: c.declared_at,
        }
    }
}

/// `POST /conflicts`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConflict {
    pub enterprise_id: Uuid,
    #[schema(min_length = 1, max_length = 10000)]
    pub reason: String,
}

/// `GET /conflicts` filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ConflictFilter {
    pub reviewer_id: Option<Uuid>,
    pub enterprise_id: Option<Uuid>,
}

/// Declares the caller's conflict with an enterprise (a reviewer: chain office or fund office).
pub async fn declare(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    input: NewConflict,
) -> AppResult<ConflictView> {
    actor.require(&[Role::ChainOffice, Role::FundOffice])?;
    let reason = super::text("reason", &input.reason)?;
    let is_enterprise = organization::Entity::find_by_id(input.enterprise_id)
        .one(conn)
        .await?
        .is_some_and(|o| o.kind == OrgKind::Enterprise);
    if !is_enterprise {
        return Err(AppError::invalid("enterprise_id", "no such enterprise"));
    }
    let existing = conflict::Entity::find()
        .filter(C::ReviewerId.eq(actor.id))
        .filter(C::EnterpriseId.eq(input.enterprise_id))
        .one(conn)
        .await?;
    if existing.is_some() {
        return Err(AppError::conflict(
            "duplicate_conflict",
            "the reviewer has already declared a conflict with this enterprise",
        ));
    }
    let c = conflict::ActiveModel {
        id: Set(Uuid::now_v7()),
        reviewer_id: Set(actor.id),
        reviewer_organization_id: Set(actor.organization_id),
        enterprise_id: Set(input.enterprise_id),
        reason: Set(reason),
        declared_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(c.into())
}

/// The declared conflicts the caller may see (fund office and admin all, a reviewer their
/// own), oldest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    filter: &ConflictFilter,
    page: &PageQuery,
) -> AppResult<Page<ConflictView>> {
    actor.require(&[Role::Admin, Role::FundOffice, Role::ChainOffice])?;
    let mut q = conflict::Entity::find().filter(scope::conflicts(actor));
    if let Some(v) = filter.reviewer_id {
        q = q.filter(C::ReviewerId.eq(v));
    }
    if let Some(v) = filter.enterprise_id {
        q = q.filter(C::EnterpriseId.eq(v));
    }
    let page = pagination::fetch(conn, q, C::Id, page, |c: &conflict::Model| c.id).await?;
    Ok(page.map(ConflictView::from))
}
