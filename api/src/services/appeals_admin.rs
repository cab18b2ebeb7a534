//! SLA policies per category and routing rules (category → department).

use super::{appeals::days_of, audit::Change};
use crate::{
    auth::AuthUser,
    error::{AppError, AppResult, FieldError},
};
use chrono::{DateTime, Utc};
use entity::{
    enums::{AppealCategory, OrgKind, Role},
    organization, routing_rule, sla_policy,
    working_days::WorkingDays,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, QueryOrder,
    sea_query::OnConflict,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An SLA policy: working days of the three clocks and the warning lead.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PolicyView {
    pub category: AppealCategory,
    pub category_label: &'static str,
    #[schema(value_type = String, example = "1")]
    pub reply_working_days: WorkingDays,
    #[schema(value_type = String, example = "3")]
    pub opinion_working_days: WorkingDays,
    #[schema(value_type = String, example = "5")]
    pub close_working_days: WorkingDays,
    #[schema(value_type = String, example = "2")]
    pub warn_before_working_hours: WorkingDays,
    pub updated_at: DateTime<Utc>,
}

/// `PUT /sla-policies/{category}`: non-negative decimals with up to 3 places.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    #[schema(schema_with = crate::schemas::positive_working_days)]
    pub reply_working_days: WorkingDays,
    /// Not less than `reply_working_days`.
    #[schema(schema_with = crate::schemas::positive_working_days)]
    pub opinion_working_days: WorkingDays,
    /// Not less than `opinion_working_days`.
    #[schema(schema_with = crate::schemas::positive_working_days)]
    pub close_working_days: WorkingDays,
    /// Working hours before a due time when the warning goes out.
    #[schema(schema_with = crate::schemas::working_days)]
    pub warn_before_working_hours: WorkingDays,
}

/// A routing rule.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RuleView {
    pub category: AppealCategory,
    pub category_label: &'static str,
    pub department_id: Uuid,
    pub department_name: String,
    pub updated_at: DateTime<Utc>,
}

/// `PUT /routing-rules/{category}`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    /// An organization of kind `department`.
    pub department_id: Uuid,
}

fn policy_view(p: sla_policy::Model) -> PolicyView {
    PolicyView {
        category: p.category,
        category_label: p.category.label_zh(),
        reply_working_days: days_of(&p.reply_working_days),
        opinion_working_days: days_of(&p.opinion_working_days),
        close_working_days: days_of(&p.close_working_days),
        warn_before_working_hours: days_of(&p.warn_before_working_hours),
        updated_at: p.updated_at,
    }
}

const READERS: &[Role] = &[
    Role::Admin,
    Role::ServiceCenter,
    Role::Department,
    Role::ChainOffice,
];

/// Every category's policy.
pub async fn policies(conn: &impl ConnectionTrait, actor: &AuthUser) -> AppResult<Vec<PolicyView>> {
    actor.require(READERS)?;
    let rows = sla_policy::Entity::find()
        .order_by_asc(sla_policy::Column::Category)
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(policy_view).collect())
}

/// Sets a category's policy (admin). Applies to appeals submitted from now on.
pub async fn put_policy(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    category: AppealCategory,
    input: PolicyInput,
) -> AppResult<PolicyView> {
    actor.require(&[Role::Admin])?;
    let mut errors = Vec::new();
    for (field, v) in [
        ("reply_working_days", input.reply_working_days),
        ("opinion_working_days", input.opinion_working_days),
        ("close_working_days", input.close_working_days),
    ] {
        if v == WorkingDays::ZERO {
            errors.push(FieldError::new(field, "must be more than 0"));
        }
    }
    if input.opinion_working_days < input.reply_working_days {
        errors.push(FieldError::new(
            "opinion_working_days",
            "must not be less than reply_working_days",
        ));
    }
    if input.close_working_days < input.opinion_working_days {
        errors.push(FieldError::new(
            "close_working_days",
            "must not be less than opinion_working_days",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let before = sla_policy::Entity::find_by_id(category)
        .one(conn)
        .await?
        .map(policy_view);
    let row = sla_policy::ActiveModel {
        category: Set(category),
        reply_working_days: Set(input.reply_working_days.to_string()),
        opinion_working_days: Set(input.opinion_working_days.to_string()),
        close_working_days: Set(input.close_working_days.to_string()),
        warn_before_working_hours: Set(input.warn_before_working_hours.to_string()),
        updated_at: Set(now),
    };
    sla_policy::Entity::insert(row)
        .on_conflict(
            OnConflict::column(sla_policy::Column::Category)
                .update_columns([
                    sla_policy::Column::ReplyWorkingDays,
                    sla_policy::Column::OpinionWorkingDays,
                    sla_policy::Column::CloseWorkingDays,
                    sla_policy::Column::WarnBeforeWorkingHours,
                    sla_policy::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    let saved = sla_policy::Entity::find_by_id(category)
        .one(conn)
        .await?
        .map(policy_view)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("policy vanished")))?;
    Change {
        at: now,
        actor: Some(actor.id),
        action: "sla_policy.put",
        object_type: "sla_policy",
        object_id: category.code(),
    }
    .record(conn, before.as_ref(), Some(&saved))
    .await?;
    Ok(saved)
}

/// Every routing rule.
pub async fn rules(conn: &impl ConnectionTrait, actor: &AuthUser) -> AppResult<Vec<RuleView>> {
    actor.require(READERS)?;
    let rows = routing_rule::Entity::find()
        .order_by_asc(routing_rule::Column::Category)
        .all(conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let name = organization::Entity::find_by_id(r.department_id)
            .one(conn)
            .await?
            .map(|o| o.name)
            .unwrap_or_default();
        out.push(RuleView {
            category: r.category,
            category_label: r.category.label_zh(),
            department_id: r.department_id,
            department_name: name,
            updated_at: r.updated_at,
        });
    }
    Ok(out)
}

/// Routes a category to a department (admin).
pub async fn put_rule(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    category: AppealCategory,
    input: RuleInput,
) -> AppResult<RuleView> {
    actor.require(&[Role::Admin])?;
    let department = match organization::Entity::find_by_id(input.department_id)
        .one(conn)
        .await?
    {
        Some(o) if o.kind == OrgKind::Department => o,
        Some(_) => {
            return Err(AppError::invalid(
                "department_id",
                "must be an organization of kind department",
            ));
        }
        None => return Err(AppError::invalid("department_id", "no such organization")),
    };
    let before = routing_rule::Entity::find_by_id(category)
        .one(conn)
        .await?
        .map(|r| r.department_id);
    match routing_rule::Entity::find_by_id(category).one(conn).await? {
        Some(r) => {
            let mut am: routing_rule::ActiveModel = r.into();
            am.department_id = Set(department.id);
            am.updated_at = Set(now);
            am.update(conn).await?;
        }
        None => {
            routing_rule::ActiveModel {
                category: Set(category),
                department_id: Set(department.id),
                updated_at: Set(now),
            }
            .insert(conn)
            .await?;
        }
    }
    Change {
        at: now,
        actor: Some(actor.id),
        action: "routing_rule.put",
        object_type: "routing_rule",
        object_id: category.code(),
    }
    .record(conn, before.as_ref(), Some(&department.id))
    .await?;
    Ok(RuleView {
        category,
        category_label: category.label_zh(),
        department_id: department.id,
        department_name: department.name,
        updated_at: now,
    })
}

/// Removes a category's routing rule (admin); its appeals wait for the service centre again.
pub async fn delete_rule(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    category: AppealCategory,
) -> AppResult<()> {
    actor.require(&[Role::Admin])?;
    let Some(r) = routing_rule::Entity::find_by_id(category).one(conn).await? else {
        return Ok(());
    };
    routing_rule::Entity::delete_by_id(category)
        .exec(conn)
        .await?;
    Change {
        at: now,
        actor: Some(actor.id),
        action: "routing_rule.delete",
        object_type: "routing_rule",
        object_id: category.code(),
    }
    .record(conn, Some(&r.department_id), None::<&()>)
    .await?;
    Ok(())
}
