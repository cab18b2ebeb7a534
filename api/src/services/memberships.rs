//! Chain membership, consensual: a chain office invites an enterprise, the enterprise accepts
//! or declines; an admin adds at once. Declined invitations are kept as `declined` (the office
//! sees the answer and may invite again). Only `active` memberships count for anything
//! (`scope` decides visibility from them).

use super::{audit::Change, chains};
use crate::{
    auth::{AuthUser, scope},
    error::{AppError, AppResult},
};
use chrono::{DateTime, Utc};
use entity::{
    chain, chain_member,
    enums::{MemberRole, MembershipStatus, OrgKind, Role},
    organization,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// An enterprise in a chain. The organization's name and USCC are its public view: a chain
/// office sees no more of an enterprise it has only invited.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub chain_id: Uuid,
    pub organization_id: Uuid,
    pub organization_name: String,
    /// The enterprise's 统一社会信用代码 (public).
    pub organization_uscc: Option<String>,
    pub role: MemberRole,
    pub role_label: &'static str,
    /// `invited` (waiting for the enterprise), `active`, or `declined`.
    pub status: MembershipStatus,
    pub status_label: &'static str,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub invited_at: Option<DateTime<Utc>>,
    /// When the membership became active (accepted, or added by an admin).
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub accepted_at: Option<DateTime<Utc>>,
}

impl MemberView {
    fn of(m: &chain_member::Model, org: Option<&organization::Model>) -> Self {
        Self {
            chain_id: m.chain_id,
            organization_id: m.organization_id,
            organization_name: org.map(|o| o.name.clone()).unwrap_or_default(),
            organization_uscc: org.and_then(|o| o.uscc.clone()),
            role: m.role,
            role_label: m.role.label_zh(),
            status: m.status,
            status_label: m.status.label_zh(),
            invited_at: m.invited_at,
            accepted_at: m.accepted_at,
        }
    }
}

/// `PUT /chains/{id}/members/{organization_id}`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    pub role: MemberRole,
}

/// The members of `chain` the caller may see (`scope::chain_members`), oldest first.
pub async fn visible(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    chain: &chain::Model,
) -> AppResult<Vec<MemberView>> {
    let members = chain_member::Entity::find()
        .filter(scope::chain_members(actor, chain))
        .order_by_asc(chain_member::Column::CreatedAt)
        .order_by_asc(chain_member::Column::OrganizationId)
        .all(conn)
        .await?;
    let orgs: HashMap<Uuid, organization::Model> = organization::Entity::find()
        .filter(
            organization::Column::Id.is_in(
                members
                    .iter()
                    .map(|m| m.organization_id)
                    .collect::<Vec<_>>(),
            ),
        )
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    Ok(members
        .iter()
        .map(|m| MemberView::of(m, orgs.get(&m.organization_id)))
        .collect())
}

async fn manageable(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<chain::Model> {
    actor.require(&[Role::Admin, Role::ChainOffice])?;
    let chain = chains::find_visible(conn, actor, id).await?;
    if !scope::may_manage_chain_members(actor, &chain) {
        return Err(AppError::forbidden(
            "only the admin or the chain's office may change its members",
        ));
    }
    Ok(chain)
}

fn audit_summary(m: &chain_member::Model) -> serde_json::Value {
    serde_json::json!({"organization_id": m.organization_id, "role": m.role, "status": m.status})
}

/// Adds an enterprise to a chain (admin: `active` at once), invites it (the chain's office:
/// `invited`, again after a decline), or changes the role of an existing membership.
pub async fn put(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    chain_id: Uuid,
    org_id: Uuid,
    input: MemberInput,
) -> AppResult<MemberView> {
    manageable(conn, actor, chain_id).await?;
    let org = chains::org_of_kind(conn, org_id, OrgKind::Enterprise, "organization_id").await?;
    let existing = chain_member::Entity::find_by_id((chain_id, org_id))
        .one(conn)
        .await?;
    let admin = actor.is_admin();
    let invite = |am: &mut chain_member::ActiveModel| {
        am.status = Set(MembershipStatus::Invited);
        am.invited_by = Set(Some(actor.id));
        am.invited_at = Set(Some(now));
        am.accepted_at = Set(None);
    };
    let activate = |am: &mut chain_member::ActiveModel| {
        am.status = Set(MembershipStatus::Active);
        am.accepted_at = Set(Some(now));
    };
    let model = match &existing {
        Some(m) => {
            let mut am: chain_member::ActiveModel = m.clone().into();
            am.role = Set(input.role);
            match m.status {
                // A role change only; an open invitation stays open.
                MembershipStatus::Active => {}
                MembershipStatus::Invited if !admin => {}
                _ if admin => activate(&mut am),
                _ => invite(&mut am),
            }
            am.update(conn).await?
        }
        None => {
            let mut am = chain_member::ActiveModel {
                chain_id: Set(chain_id),
                organization_id: Set(org_id),
                role: Set(input.role),
                status: Set(MembershipStatus::Invited),
                invited_by: Set(None),
                invited_at: Set(None),
                accepted_at: Set(None),
                created_at: Set(now),
            };
            if admin {
                activate(&mut am);
            } else {
                invite(&mut am);
            }
            am.insert(conn).await?
        }
    };
    let action = match (existing.as_ref().map(|m| m.status), model.status) {
        (Some(MembershipStatus::Invited), MembershipStatus::Invited) => "chain.member.put",
        (_, MembershipStatus::Invited) => "chain.member.invite",
        _ => "chain.member.put",
    };
    Change {
        at: now,
        actor: Some(actor.id),
        action,
        object_type: "chain",
        object_id: chain_id.to_string(),
    }
    .record(
        conn,
        existing.as_ref().map(audit_summary).as_ref(),
        Some(&audit_summary(&model)),
    )
    .await?;
    Ok(MemberView::of(&model, Some(&org)))
}

/// Removes a membership or withdraws an invitation (admin, the chain's office); 404 when there
/// is none.
pub async fn delete(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    chain_id: Uuid,
    org_id: Uuid,
) -> AppResult<()> {
    manageable(conn, actor, chain_id).await?;
    let m = chain_member::Entity::find_by_id((chain_id, org_id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    chain_member::Entity::delete_by_id((chain_id, org_id))
        .exec(conn)
        .await?;
    Change {
        at: now,
        actor: Some(actor.id),
        action: "chain.member.delete",
        object_type: "chain",
        object_id: chain_id.to_string(),
    }
    .record(conn, Some(&audit_summary(&m)), None::<&()>)
    .await?;
    Ok(())
}

/// The enterprise's answer to an invitation.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Accept,
    Decline,
}

/// The enterprise answers an invitation of its own (its users): `accept` makes the membership
/// active, `decline` marks it declined. 404 when there is no open invitation for the caller's
/// enterprise, 409 when it is already an active member.
pub async fn answer(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    chain_id: Uuid,
    org_id: Uuid,
    answer: Answer,
) -> AppResult<MemberView> {
    actor.require(&[Role::Enterprise])?;
    if !actor.belongs_to(org_id) {
        return Err(AppError::NotFound);
    }
    let (status, action) = match answer {
        Answer::Accept => (MembershipStatus::Active, "chain.member.accept"),
        Answer::Decline => (MembershipStatus::Declined, "chain.member.decline"),
    };
    let before = chain_member::Entity::find_by_id((chain_id, org_id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut update = chain_member::Entity::update_many()
        .col_expr(chain_member::Column::Status, Expr::val(status))
        .filter(chain_member::Column::ChainId.eq(chain_id))
        .filter(chain_member::Column::OrganizationId.eq(org_id))
        .filter(chain_member::Column::Status.eq(MembershipStatus::Invited));
    if let Answer::Accept = answer {
        update = update.col_expr(chain_member::Column::AcceptedAt, Expr::val(now));
    }
    // The guard in the statement settles an answer racing another answer or a withdrawal.
    let changed = update.exec(conn).await?.rows_affected;
    let m = chain_member::Entity::find_by_id((chain_id, org_id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    if changed == 0 {
        return Err(match m.status {
            MembershipStatus::Active => {
                AppError::conflict("already_member", "the enterprise is already a member")
            }
            _ => AppError::NotFound,
        });
    }
    let org = organization::Entity::find_by_id(org_id).one(conn).await?;
    Change {
        at: now,
        actor: Some(actor.id),
        action,
        object_type: "chain",
        object_id: chain_id.to_string(),
    }
    .record(
        conn,
        Some(&audit_summary(&before)),
        Some(&audit_summary(&m)),
    )
    .await?;
    Ok(MemberView::of(&m, org.as_ref()))
}
