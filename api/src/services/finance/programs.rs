//! Credit programs: a lead or partner bank's dedicated quota for a chain (专项授信), with a
//! per-enterprise maximum, a rate band, a maximum term and a validity. `granted` is the sum of
//! the limits of its lines that are active or frozen (the exposure rule); `remaining` is the
//! quota less that.

use crate::{
    auth::{AuthUser, scope},
    error::{AppError, AppResult},
    pagination::{self, Page, PageQuery},
    services::validate::Checks,
};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    chain, credit_program,
    enums::Role,
    money::{Money, Rate},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest program name, characters.
const NAME_MAX: usize = 200;

/// A credit program as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProgramView {
    pub id: Uuid,
    pub chain_id: Uuid,
    pub bank_id: Uuid,
    pub name: String,
    #[schema(value_type = String, example = "100000000.00")]
    pub quota: Money,
    #[schema(value_type = String, example = "5000000.00")]
    pub max_per_enterprise: Money,
    /// Limits of its active and frozen lines.
    #[schema(value_type = String, example = "12000000.00")]
    pub granted: Money,
    /// `quota - granted`.
    #[schema(value_type = String, example = "88000000.00")]
    pub remaining: Money,
    #[schema(value_type = String, example = "3.2")]
    pub rate_floor: Rate,
    #[schema(value_type = String, example = "4.35")]
    pub rate_ceiling: Rate,
    pub max_term_months: i32,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
}

impl From<credit_program::Model> for ProgramView {
    fn from(p: credit_program::Model) -> Self {
        Self {
            id: p.id,
            chain_id: p.chain_id,
            bank_id: p.bank_id,
            name: p.name,
            quota: Money::from_fen(p.quota_fen),
            max_per_enterprise: Money::from_fen(p.max_per_enterprise_fen),
            granted: Money::from_fen(p.granted_fen),
            remaining: Money::from_fen(p.quota_fen - p.granted_fen),
            rate_floor: Rate::from_e4(p.rate_floor_e4),
            rate_ceiling: Rate::from_e4(p.rate_ceiling_e4),
            max_term_months: p.max_term_months,
            valid_from: p.valid_from,
            valid_until: p.valid_until,
            created_at: p.created_at,
        }
    }
}

/// `POST /credit-programs`. Amounts and rates are decimal strings.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProgram {
    pub chain_id: Uuid,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(default)]
    #[schema(value_type = String, example = "100000000.00")]
    pub quota: serde_json::Value,
    #[serde(default)]
    #[schema(value_type = String, example = "5000000.00")]
    pub max_per_enterprise: serde_json::Value,
    #[serde(default)]
    #[schema(value_type = String, example = "3.2")]
    pub rate_floor: serde_json::Value,
    #[serde(default)]
    #[schema(value_type = String, example = "4.35")]
    pub rate_ceiling: serde_json::Value,
    #[schema(minimum = 1, maximum = 360)]
    pub max_term_months: i32,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
}

/// `GET /credit-programs` filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ProgramFilter {
    pub chain_id: Option<Uuid>,
    pub bank_id: Option<Uuid>,
}

/// Creates a program (a lead or partner bank of the chain, for itself).
pub async fn create(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    input: NewProgram,
) -> AppResult<ProgramView> {
    actor.require(&[Role::Bank])?;
    let bank = actor
        .organization_id
        .ok_or_else(|| AppError::forbidden("the user belongs to no bank"))?;
    let mut c = Checks::new();
    let name = c.line("name", &input.name, NAME_MAX);
    let quota = c.money("quota", &input.quota, true);
    let max = c.money("max_per_enterprise", &input.max_per_enterprise, true);
    let floor = c.rate("rate_floor", &input.rate_floor);
    let ceiling = c.rate("rate_ceiling", &input.rate_ceiling);
    if !(1..=360).contains(&input.max_term_months) {
        c.add("max_term_months", "must be between 1 and 360 months");
    }
    c.date("valid_from", input.valid_from);
    c.date("valid_until", input.valid_until);
    if input.valid_until < input.valid_from {
        c.add("valid_until", "must not be before valid_from");
    }
    if let (Some(q), Some(m)) = (quota, max)
        && m > q
    {
        c.add("max_per_enterprise", "must not exceed the quota");
    }
    if let (Some(f), Some(ce)) = (floor, ceiling)
        && f > ce
    {
        c.add("rate_ceiling", "must not be below rate_floor");
    }
    c.finish()?;
    let (Some(quota), Some(max), Some(floor), Some(ceiling)) = (quota, max, floor, ceiling) else {
        return Err(AppError::invalid("body", "incomplete"));
    };
    if chain::Entity::find_by_id(input.chain_id)
        .one(conn)
        .await?
        .is_none()
    {
        return Err(AppError::invalid("chain_id", "no such chain"));
    }
    if scope::bank_role(conn, input.chain_id, bank)
        .await?
        .is_none()
    {
        return Err(AppError::forbidden(
            "only a lead or partner bank of the chain may set up a program for it",
        ));
    }
    let p = credit_program::ActiveModel {
        id: Set(Uuid::now_v7()),
        chain_id: Set(input.chain_id),
        bank_id: Set(bank),
        name: Set(name),
        quota_fen: Set(quota.fen()),
        max_per_enterprise_fen: Set(max.fen()),
        granted_fen: Set(0),
        rate_floor_e4: Set(floor.e4()),
        rate_ceiling_e4: Set(ceiling.e4()),
        max_term_months: Set(input.max_term_months),
        valid_from: Set(input.valid_from),
        valid_until: Set(input.valid_until),
        created_by: Set(actor.id),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(p.into())
}

/// The programs the caller may see, oldest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    filter: &ProgramFilter,
    page: &PageQuery,
) -> AppResult<Page<ProgramView>> {
    use credit_program::Column as P;
    let mut q = credit_program::Entity::find().filter(scope::credit_programs(actor));
    if let Some(c) = filter.chain_id {
        q = q.filter(P::ChainId.eq(c));
    }
    if let Some(b) = filter.bank_id {
        q = q.filter(P::BankId.eq(b));
    }
    Ok(
        pagination::fetch(conn, q, P::Id, page, |p: &credit_program::Model| p.id)
            .await?
            .map(ProgramView::from),
    )
}

/// One program the caller may see.
pub async fn get(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<ProgramView> {
    find(conn, actor, id).await.map(ProgramView::from)
}

/// One program the caller may see, as stored.
pub(crate) async fn find(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<credit_program::Model> {
    credit_program::Entity::find_by_id(id)
        .filter(scope::credit_programs(actor))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// A chain's credit across its banks' programs, for `GET /chains/{id}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChainCredit {
    #[schema(value_type = String)]
    pub quota: Money,
    #[schema(value_type = String)]
    pub granted: Money,
    /// Outstanding on the lines granted under those programs.
    #[schema(value_type = String)]
    pub outstanding: Money,
    pub programs: i64,
}

/// The totals of `chain`'s programs: quota, granted, and the outstanding of their lines.
pub async fn chain_credit(conn: &impl ConnectionTrait, chain: Uuid) -> AppResult<ChainCredit> {
    use sea_orm::{FromQueryResult, QuerySelect, sea_query::Expr};
    #[derive(FromQueryResult)]
    struct Totals {
        quota: Option<i64>,
        granted: Option<i64>,
        programs: i64,
    }
    let t = credit_program::Entity::find()
        .select_only()
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(quota_fen), 0) AS BIGINT)"),
            "quota",
        )
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(granted_fen), 0) AS BIGINT)"),
            "granted",
        )
        .column_as(Expr::cust("COUNT(*)"), "programs")
        .filter(credit_program::Column::ChainId.eq(chain))
        .into_model::<Totals>()
        .one(conn)
        .await?;
    #[derive(FromQueryResult)]
    struct Outstanding {
        outstanding: Option<i64>,
    }
    let o = entity::credit_line::Entity::find()
        .select_only()
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(outstanding_fen), 0) AS BIGINT)"),
            "outstanding",
        )
        .filter(entity::credit_line::Column::ChainId.eq(chain))
        .filter(entity::credit_line::Column::ProgramId.is_not_null())
        .into_model::<Outstanding>()
        .one(conn)
        .await?;
    let t = t.unwrap_or(Totals {
        quota: None,
        granted: None,
        programs: 0,
    });
    Ok(ChainCredit {
        quota: Money::from_fen(t.quota.unwrap_or(0)),
        granted: Money::from_fen(t.granted.unwrap_or(0)),
        outstanding: Money::from_fen(o.and_then(|o| o.outstanding).unwrap_or(0)),
        programs: t.programs,
    })
}
