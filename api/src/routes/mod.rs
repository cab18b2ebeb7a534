//! HTTP routes, one module per resource. Handlers extract, call one service, map the answer.

pub mod appeals;
pub mod auth;
pub mod bank_reports;
pub mod calendar;
pub mod chains;
pub mod credit_lines;
pub mod dashboard;
pub mod files;
pub mod finance;
pub mod funds;
pub mod health;
pub mod jobs;
pub mod notifications;
pub mod organizations;
pub mod outbox;
pub mod pages;
pub mod qualification_proposals;
pub mod sla_admin;
pub mod users;

use crate::{error::AppResult, state::AppState};
use actix_web::web;
use sea_orm::{DatabaseTransaction, TransactionTrait};
use std::future::Future;

/// Runs `f` in one transaction and commits when it succeeds.
pub async fn write<T, F, Fut>(state: &AppState, f: F) -> AppResult<T>
where
    F: FnOnce(DatabaseTransaction) -> Fut,
    Fut: Future<Output = AppResult<(T, DatabaseTransaction)>>,
{
    let txn = state.db.begin().await?;
    let (value, txn) = f(txn).await?;
    txn.commit().await?;
    Ok(value)
}

/// Registers every `/api/v1` route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    auth::configure(cfg);
    organizations::configure(cfg);
    qualification_proposals::configure(cfg);
    users::configure(cfg);
    chains::configure(cfg);
    dashboard::configure(cfg);
    calendar::configure(cfg);
    jobs::configure(cfg);
    outbox::configure(cfg);
    appeals::configure(cfg);
    sla_admin::configure(cfg);
    notifications::configure(cfg);
    finance::configure(cfg);
    credit_lines::configure(cfg);
    bank_reports::configure(cfg);
    funds::configure(cfg);
    files::configure(cfg);
}
