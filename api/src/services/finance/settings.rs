//! A bank's settings for financing requests: the four-eyes threshold, the working days to
//! accept and to decide, and how long an approved line may stay unused. A bank without a row
//! has the defaults (none, 1, 5, 90).

use crate::{
    auth::AuthUser,
    error::{AppError, AppResult},
    services::validate::Checks,
};
use chrono::{DateTime, Utc};
use entity::{
    bank_setting,
    enums::{OrgKind, Role},
    money::Money,
    organization,
    working_days::WorkingDays,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, sea_query::OnConflict};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Defaults of a bank without settings.
pub const DEFAULT_ACCEPT_DAYS: u32 = 1;
pub const DEFAULT_DECIDE_DAYS: u32 = 5;
pub const DEFAULT_UNUSED_LINE_EXPIRY_DAYS: i32 = 90;

/// A bank's settings in effect.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BankSettings {
    pub organization_id: Uuid,
    /// Approvals above this amount take two bank users; `null`: never.
    #[schema(value_type = Option<String>, example = "5000000.00")]
    pub four_eyes_threshold: Option<Money>,
    #[schema(value_type = String, example = "1")]
    pub accept_working_days: WorkingDays,
    #[schema(value_type = String, example = "5")]
    pub decide_working_days: WorkingDays,
    pub unused_line_expiry_days: i32,
    /// When they were last changed (`null`: the defaults, never changed).
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// `PUT /banks/{organization_id}/settings`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankSettingsInput {
    /// A money string, or `null` for no four-eyes approval.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "5000000.00")]
    pub four_eyes_threshold: serde_json::Value,
    #[schema(value_type = f64, minimum = 0.125, maximum = 60, example = 1)]
    pub accept_working_days: WorkingDays,
    #[schema(value_type = f64, minimum = 0.125, maximum = 60, example = 5)]
    pub decide_working_days: WorkingDays,
    #[schema(minimum = 1, maximum = 3650, example = 90)]
    pub unused_line_expiry_days: i32,
}

fn of_row(bank: Uuid, row: Option<bank_setting::Model>) -> BankSettings {
    let days = |s: &str, d: u32| s.parse().unwrap_or(WorkingDays::from_int(d));
    match row {
        Some(r) => BankSettings {
            organization_id: bank,
            four_eyes_threshold: r.four_eyes_threshold_fen.map(Money::from_fen),
            accept_working_days: days(&r.accept_working_days, DEFAULT_ACCEPT_DAYS),
            decide_working_days: days(&r.decide_working_days, DEFAULT_DECIDE_DAYS),
            unused_line_expiry_days: r.unused_line_expiry_days,
            updated_at: Some(r.updated_at),
        },
        None => BankSettings {
            organization_id: bank,
            four_eyes_threshold: None,
            accept_working_days: WorkingDays::from_int(DEFAULT_ACCEPT_DAYS),
            decide_working_days: WorkingDays::from_int(DEFAULT_DECIDE_DAYS),
            unused_line_expiry_days: DEFAULT_UNUSED_LINE_EXPIRY_DAYS,
            updated_at: None,
        },
    }
}

/// The settings in effect for `bank` (defaults when it has none).
pub async fn of_bank(conn: &impl ConnectionTrait, bank: Uuid) -> AppResult<BankSettings> {
    let row = bank_setting::Entity::find_by_id(bank).one(conn).await?;
    Ok(of_row(bank, row))
}

/// That bank's users and admins; a bank that does not exist (or is no bank) is 404.
async fn authorize(conn: &impl ConnectionTrait, actor: &AuthUser, bank: Uuid) -> AppResult<()> {
    actor.require(&[Role::Admin, Role::Bank])?;
    if actor.role == Role::Bank && !actor.belongs_to(bank) {
        return Err(AppError::forbidden("only the bank's own users may do this"));
    }
    match organization::Entity::find_by_id(bank).one(conn).await? {
        Some(o) if o.kind == OrgKind::Bank => Ok(()),
        _ => Err(AppError::NotFound),
    }
}

/// `GET /banks/{id}/settings`.
pub async fn get(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    bank: Uuid,
) -> AppResult<BankSettings> {
    authorize(conn, actor, bank).await?;
    of_bank(conn, bank).await
}

/// `PUT /banks/{id}/settings`.
pub async fn put(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    bank: Uuid,
    input: BankSettingsInput,
) -> AppResult<BankSettings> {
    authorize(conn, actor, bank).await?;
    let mut c = Checks::new();
    let threshold = c.opt_money("four_eyes_threshold", &input.four_eyes_threshold);
    let eighth = "0.125".parse::<WorkingDays>().unwrap_or(WorkingDays::ZERO);
    for (field, d) in [
        ("accept_working_days", input.accept_working_days),
        ("decide_working_days", input.decide_working_days),
    ] {
        if d < eighth || d > WorkingDays::from_int(60) {
            c.add(field, "must be between 0.125 and 60 working days");
        }
    }
    if !(1..=3650).contains(&input.unused_line_expiry_days) {
        c.add("unused_line_expiry_days", "must be between 1 and 3650 days");
    }
    c.finish()?;
    let row = bank_setting::ActiveModel {
        organization_id: Set(bank),
        four_eyes_threshold_fen: Set(threshold.flatten().map(Money::fen)),
        accept_working_days: Set(input.accept_working_days.to_string()),
        decide_working_days: Set(input.decide_working_days.to_string()),
        unused_line_expiry_days: Set(input.unused_line_expiry_days),
        updated_at: Set(now),
    };
    use bank_setting::Column as B;
    bank_setting::Entity::insert(row)
        .on_conflict(
            OnConflict::column(B::OrganizationId)
                .update_columns([
                    B::FourEyesThresholdFen,
                    B::AcceptWorkingDays,
                    B::DecideWorkingDays,
                    B::UnusedLineExpiryDays,
                    B::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    of_bank(conn, bank).await
}
