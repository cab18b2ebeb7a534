//! Funds and subsidies (资金申报): fund programs and explained eligibility, applications with
//! two review stages on the engine, the public notice (公示) and its objections,
//! disbursements, conflicts of interest, and risk-compensation claims. The budget, eligibility
//! facts, application creation and the two jobs live in `jobs::funds`, below the api, so the
//! jobs share them.

pub mod applications;
pub mod conflicts;
pub mod disbursements;
pub mod notices;
pub mod programs;
pub mod risk_claims;

use crate::{
    auth::AuthUser,
    error::{AppError, AppResult},
    services::validate::Checks,
};
use entity::{conflict, eligibility::Verdict, fund_program};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

/// Longest accepted free text (descriptions, comments, objections), characters.
pub(crate) const TEXT_MAX: usize = 10_000;

/// One required free-text field.
pub(crate) fn text(field: &str, value: &str) -> AppResult<String> {
    let mut c = Checks::new();
    let v = c.text(field, value, TEXT_MAX);
    c.finish()?;
    Ok(v)
}

/// A program by id (404 when there is none: programs are public to signed-in users).
pub(crate) async fn program(
    conn: &impl ConnectionTrait,
    id: Uuid,
) -> AppResult<fund_program::Model> {
    fund_program::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// 409 `not_eligible` naming every unmet rule.
pub(crate) fn not_eligible(v: &Verdict) -> AppError {
    AppError::conflict(
        "not_eligible",
        format!("不符合申报条件：{}", v.reasons.join("；")),
    )
}

/// 403 when `reviewer` declared a conflict of interest with `enterprise`, or belongs to it.
pub(crate) async fn ensure_no_conflict(
    conn: &impl ConnectionTrait,
    reviewer: &AuthUser,
    enterprise: Uuid,
) -> AppResult<()> {
    if reviewer.organization_id == Some(enterprise) {
        return Err(AppError::forbidden(
            "nobody reviews an application of their own organization",
        ));
    }
    let declared = conflict::Entity::find()
        .select_only()
        .column(conflict::Column::Id)
        .filter(conflict::Column::ReviewerId.eq(reviewer.id))
        .filter(conflict::Column::EnterpriseId.eq(enterprise))
        .into_tuple::<Uuid>()
        .one(conn)
        .await?;
    if declared.is_some() {
        return Err(AppError::forbidden(
            "the reviewer declared a conflict of interest with this enterprise",
        ));
    }
    Ok(())
}
