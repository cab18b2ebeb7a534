//! Lead-bank reports: generation on demand (the figures and versions are
//! `jobs::bank_reports`, shared with the monthly job), reads and the CSV.

use crate::{
    auth::{AuthUser, scope},
    error::{AppError, AppResult},
    pagination::{self, Page, PageQuery},
};
use chrono::{DateTime, Utc};
use entity::{
    bank_report::{self, Column as B},
    calendar::Calendar,
    enums::Role,
    money::Money,
};
use jobs::bank_reports::{self as reports, Period};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A report as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BankReportView {
    pub id: Uuid,
    pub bank_id: Uuid,
    pub chain_id: Uuid,
    /// `YYYY-MM`.
    #[schema(example = "2026-02")]
    pub period: String,
    /// 1 for the first generation; each regeneration adds one.
    pub version: i32,
    pub requests_received: i32,
    pub accepted_on_time: i32,
    pub decided_on_time: i32,
    pub approved_count: i32,
    #[schema(value_type = String, example = "1500000.00")]
    pub approved_amount: Money,
    pub rejected_count: i32,
    #[schema(value_type = String, example = "500000.00")]
    pub drawn_amount: Money,
    #[schema(value_type = String, example = "100000.00")]
    pub repaid_amount: Money,
    #[schema(value_type = String, example = "400000.00")]
    pub outstanding_end: Money,
    /// Limit-weighted mean rate (percent) of the lines approved in the month.
    #[schema(example = "3.45")]
    pub avg_rate: Option<String>,
    pub enterprises_served: i32,
    #[schema(example = "12.50")]
    pub avg_decision_working_hours: Option<String>,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub generated_at: DateTime<Utc>,
    /// `null` when the monthly job generated it.
    pub generated_by: Option<Uuid>,
}

impl From<&bank_report::Model> for BankReportView {
    fn from(r: &bank_report::Model) -> Self {
        Self {
            id: r.id,
            bank_id: r.bank_id,
            chain_id: r.chain_id,
            period: r.period.clone(),
            version: r.version,
            requests_received: r.requests_received,
            accepted_on_time: r.accepted_on_time,
            decided_on_time: r.decided_on_time,
            approved_count: r.approved_count,
            approved_amount: Money::from_fen(r.approved_amount_fen),
            rejected_count: r.rejected_count,
            drawn_amount: Money::from_fen(r.drawn_amount_fen),
            repaid_amount: Money::from_fen(r.repaid_amount_fen),
            outstanding_end: Money::from_fen(r.outstanding_end_fen),
            avg_rate: r.avg_rate.clone(),
            enterprises_served: r.enterprises_served,
            avg_decision_working_hours: r.avg_decision_working_hours.clone(),
            generated_at: r.generated_at,
            generated_by: r.generated_by,
        }
    }
}

/// The reports one generation made.
#[derive(Debug, Serialize, ToSchema)]
pub struct Generated {
    pub items: Vec<BankReportView>,
}

/// `POST /bank-reports/generate`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateInput {
    /// A month that has ended, `YYYY-MM` (years 1900–9999).
    #[schema(
        pattern = r"^(?:19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])$",
        example = "2026-02"
    )]
    pub period: String,
}

/// `?bank_id=&chain_id=&period=`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportFilter {
    pub bank_id: Option<Uuid>,
    pub chain_id: Option<Uuid>,
    /// `YYYY-MM` (years 1900–9999).
    #[param(pattern = r"^(?:19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])$")]
    pub period: Option<String>,
}

/// Generates a month's reports: every (bank, chain) pair for the admin and the service centre,
/// the calling bank's own pairs for a bank.
pub async fn generate<C: ConnectionTrait + TransactionTrait>(
    conn: &C,
    cal: &Calendar,
    user: &AuthUser,
    now: DateTime<Utc>,
    input: GenerateInput,
) -> AppResult<Generated> {
    user.require(&[Role::Admin, Role::ServiceCenter, Role::Bank])?;
    let bank = match user.role {
        Role::Bank => Some(
            user.organization_id
                .ok_or_else(|| AppError::forbidden("a bank user without a bank"))?,
        ),
        _ => None,
    };
    let tz = cal.settings().time_zone;
    let period = Period::parse(&input.period)
        .ok_or_else(|| AppError::invalid("period", "must be a month as YYYY-MM"))?;
    if !period.is_past(now, tz) {
        return Err(AppError::invalid(
            "period",
            "must be a month that has ended",
        ));
    }
    let made = reports::generate(conn, period, tz, now, bank, Some(user.id)).await?;
    Ok(Generated {
        items: made.iter().map(BankReportView::from).collect(),
    })
}

/// The reports the caller may see, filtered, oldest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    user: &AuthUser,
    f: &ReportFilter,
    page: &PageQuery,
) -> AppResult<Page<BankReportView>> {
    let mut q = bank_report::Entity::find().filter(scope::bank_reports(user));
    if let Some(v) = f.bank_id {
        q = q.filter(B::BankId.eq(v));
    }
    if let Some(v) = f.chain_id {
        q = q.filter(B::ChainId.eq(v));
    }
    if let Some(p) = &f.period {
        let p = Period::parse(p)
            .ok_or_else(|| AppError::BadRequest("period must be a month as YYYY-MM".into()))?;
        q = q.filter(B::Period.eq(p.to_string()));
    }
    let page = pagination::fetch(conn, q, B::Id, page, |m: &bank_report::Model| m.id).await?;
    Ok(page.map(|m| BankReportView::from(&m)))
}

async fn visible(
    conn: &impl ConnectionTrait,
    user: &AuthUser,
    id: Uuid,
) -> AppResult<bank_report::Model> {
    bank_report::Entity::find_by_id(id)
        .filter(scope::bank_reports(user))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// One report.
pub async fn get(
    conn: &impl ConnectionTrait,
    user: &AuthUser,
    id: Uuid,
) -> AppResult<BankReportView> {
    Ok(BankReportView::from(&visible(conn, user, id).await?))
}

/// One report as CSV: (file name, document).
pub async fn csv(
    conn: &impl ConnectionTrait,
    user: &AuthUser,
    id: Uuid,
) -> AppResult<(String, String)> {
    let r = visible(conn, user, id).await?;
    Ok((reports::csv_filename(&r), reports::to_csv(&r)))
}
