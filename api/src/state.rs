//! Shared application state handed to every handler.

use crate::{auth::jwt::JwtKeys, auth::password::PasswordPolicy, config::Settings};
use entity::clock::Clock;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// What handlers and services need: the database, time, keys and settings.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub jwt: JwtKeys,
    pub passwords: PasswordPolicy,
    pub settings: Arc<Settings>,
    pub calendar: crate::services::calendar::CalendarCache,
    /// The job runner (its loop runs only with `jobs_embedded`; admins can run a job now).
    pub jobs: jobs::Runner,
}
