//! Industrial chains, their member enterprises and their banks.

use super::{audit::Change, memberships, validate::Checks};
use crate::{
    auth::{AuthUser, scope},
    error::{AppError, AppResult},
    pagination::{self, Page, PageQuery},
};
use chrono::{DateTime, Utc};
use entity::{
    chain, chain_bank, chain_member,
    enums::{BankRole, MembershipStatus, OrgKind, Role},
    organization,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, sea_query::Query,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// A chain as the API shows it; single reads include members and banks.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChainView {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub office_organization_id: Uuid,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<memberships::MemberView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub banks: Option<Vec<BankView>>,
    /// Single reads: the chain's credit across its banks' programs (quota, granted,
    /// outstanding).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit: Option<super::finance::programs::ChainCredit>,
}

impl From<chain::Model> for ChainView {
    fn from(c: chain::Model) -> Self {
        Self {
            id: c.id,
            code: c.code,
            name: c.name,
            description: c.description,
            office_organization_id: c.office_organization_id,
            created_at: c.created_at,
            members: None,
            banks: None,
            credit: None,
        }
    }
}

/// A bank of a chain.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BankView {
    pub chain_id: Uuid,
    pub organization_id: Uuid,
    pub organization_name: String,
    pub role: BankRole,
    pub role_label: &'static str,
}

/// `POST /chains`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChain {
    /// Letters, digits, `-` and `_`, unique.
    #[schema(
        max_length = 64,
        pattern = r"^(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*[A-Za-z0-9_-]+(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*$"
    )]
    pub code: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*$"
    )]
    pub name: String,
    #[schema(
        max_length = 4000,
        pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$"
    )]
    pub description: Option<String>,
    /// An organization of kind `chain_office`.
    pub office_organization_id: Uuid,
}

/// `PUT /chains/{id}/banks/{organization_id}`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankInput {
    pub role: BankRole,
}

pub(crate) async fn org_of_kind(
    conn: &impl ConnectionTrait,
    id: Uuid,
    kind: OrgKind,
    field: &str,
) -> AppResult<organization::Model> {
    match organization::Entity::find_by_id(id).one(conn).await? {
        Some(o) if o.kind == kind => Ok(o),
        Some(_) => Err(AppError::invalid(
            field,
            format!("must be an organization of kind {}", kind.code()),
        )),
        None => Err(AppError::invalid(field, "no such organization")),
    }
}

/// Creates a chain (admin).
pub async fn create(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    input: NewChain,
) -> AppResult<ChainView> {
    actor.require(&[Role::Admin])?;
    let mut c = Checks::new();
    let code = c.line("code", &input.code, 64);
    if !code
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
    {
        c.add("code", "must use letters, digits, - and _ only");
    }
    let name = c.line("name", &input.name, 200);
    let description = c.opt_text("description", input.description.as_deref(), 4000);
    c.finish()?;
    org_of_kind(
        conn,
        input.office_organization_id,
        OrgKind::ChainOffice,
        "office_organization_id",
    )
    .await?;
    if chain::Entity::find()
        .filter(chain::Column::Code.eq(code.as_str()))
        .one(conn)
        .await?
        .is_some()
    {
        return Err(AppError::conflict(
            "duplicate_chain_code",
            "a chain with this code already exists",
        ));
    }
    let model = chain::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code),
        name: Set(name),
        description: Set(description),
        office_organization_id: Set(input.office_organization_id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    let mut view = ChainView::from(model);
    view.members = Some(vec![]);
    view.banks = Some(vec![]);
    Change {
        at: now,
        actor: Some(actor.id),
        action: "chain.create",
        object_type: "chain",
        object_id: view.id.to_string(),
    }
    .record(conn, None::<&()>, Some(&view))
    .await?;
    Ok(view)
}

/// Loads a chain the caller may see, else 404.
pub async fn find_visible(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<chain::Model> {
    chain::Entity::find_by_id(id)
        .filter(scope::chains(actor))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// Filters of `GET /chains`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ChainFilter {
    /// Enterprise users only: the chains where the caller's enterprise has a membership in this
    /// status (`invited` finds the invitations waiting for an answer).
    pub membership: Option<MembershipStatus>,
}

/// The chains the caller may see.
pub async fn list(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    filter: &ChainFilter,
    page: &PageQuery,
) -> AppResult<Page<ChainView>> {
    let mut q = chain::Entity::find().filter(scope::chains(actor));
    if let Some(status) = filter.membership {
        let org = match (actor.role, actor.organization_id) {
            (Role::Enterprise, Some(org)) => org,
            _ => {
                return Err(AppError::forbidden(
                    "only enterprise users filter chains by their own membership",
                ));
            }
        };
        q = q.filter(
            chain::Column::Id.in_subquery(
                Query::select()
                    .column(chain_member::Column::ChainId)
                    .from(chain_member::Entity)
                    .and_where(chain_member::Column::OrganizationId.eq(org))
                    .and_where(chain_member::Column::Status.eq(status))
                    .to_owned(),
            ),
        );
    }
    let page = pagination::fetch(conn, q, chain::Column::Id, page, |c: &chain::Model| c.id).await?;
    Ok(page.map(ChainView::from))
}

/// One chain with its members (those the caller may see) and banks.
pub async fn get(conn: &impl ConnectionTrait, actor: &AuthUser, id: Uuid) -> AppResult<ChainView> {
    let chain = find_visible(conn, actor, id).await?;
    let members = memberships::visible(conn, actor, &chain).await?;
    let banks = chain_bank::Entity::find()
        .filter(chain_bank::Column::ChainId.eq(id))
        .order_by_asc(chain_bank::Column::CreatedAt)
        .all(conn)
        .await?;
    let names: HashMap<Uuid, String> = organization::Entity::find()
        .filter(
            organization::Column::Id
                .is_in(banks.iter().map(|b| b.organization_id).collect::<Vec<_>>()),
        )
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let credit = super::finance::programs::chain_credit(conn, id).await?;
    let mut view = ChainView::from(chain);
    view.members = Some(members);
    view.credit = Some(credit);
    view.banks = Some(
        banks
            .into_iter()
            .map(|b| BankView {
                organization_name: names.get(&b.organization_id).cloned().unwrap_or_default(),
                chain_id: b.chain_id,
                organization_id: b.organization_id,
                role: b.role,
                role_label: b.role.label_zh(),
            })
            .collect(),
    );
    Ok(view)
}

/// Sets a bank's role in a chain (admin); a second lead bank is 409.
pub async fn put_bank(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    chain_id: Uuid,
    org_id: Uuid,
    input: BankInput,
) -> AppResult<BankView> {
    actor.require(&[Role::Admin])?;
    find_visible(conn, actor, chain_id).await?;
    let org = org_of_kind(conn, org_id, OrgKind::Bank, "organization_id").await?;
    if input.role == BankRole::Lead
        && let Some(lead) = chain_bank::Entity::find()
            .filter(chain_bank::Column::ChainId.eq(chain_id))
            .filter(chain_bank::Column::Role.eq(BankRole::Lead))
            .one(conn)
            .await?
        && lead.organization_id != org_id
    {
        return Err(AppError::conflict(
            "lead_bank_exists",
            "the chain already has a lead bank; remove it first",
        ));
    }
    let existing = chain_bank::Entity::find_by_id((chain_id, org_id))
        .one(conn)
        .await?;
    let before = existing.as_ref().map(|b| b.role);
    let result = match existing {
        Some(b) => {
            let mut am: chain_bank::ActiveModel = b.into();
            am.role = Set(input.role);
            am.update(conn).await.map(|_| ())
        }
        None => chain_bank::ActiveModel {
            chain_id: Set(chain_id),
            organization_id: Set(org_id),
            role: Set(input.role),
            created_at: Set(now),
        }
        .insert(conn)
        .await
        .map(|_| ()),
    };
    // The partial unique index settles two concurrent "lead" requests.
    result.map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::conflict(
            "lead_bank_exists",
            "the chain already has a lead bank; remove it first",
        ),
        _ => e.into(),
    })?;
    let view = BankView {
        chain_id,
        organization_id: org_id,
        organization_name: org.name,
        role: input.role,
        role_label: input.role.label_zh(),
    };
    Change {
        at: now,
        actor: Some(actor.id),
        action: "chain.bank.put",
        object_type: "chain",
        object_id: chain_id.to_string(),
    }
    .record(
        conn,
        before
            .as_ref()
            .map(|r| serde_json::json!({"organization_id": org_id, "role": r}))
            .as_ref(),
        Some(&view),
    )
    .await?;
    Ok(view)
}

/// Removes a bank from a chain (admin); 404 when it does not serve the chain.
pub async fn delete_bank(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    chain_id: Uuid,
    org_id: Uuid,
) -> AppResult<()> {
    actor.require(&[Role::Admin])?;
    find_visible(conn, actor, chain_id).await?;
    let b = chain_bank::Entity::find_by_id((chain_id, org_id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    chain_bank::Entity::delete_by_id((chain_id, org_id))
        .exec(conn)
        .await?;
    Change {
        at: now,
        actor: Some(actor.id),
        action: "chain.bank.delete",
        object_type: "chain",
        object_id: chain_id.to_string(),
    }
    .record(
        conn,
        Some(&serde_json::json!({"organization_id": org_id, "role": b.role})),
        None::<&()>,
    )
    .await?;
    Ok(())
}
