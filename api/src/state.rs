//! Shared application state handed to every handler.

use crate::{auth::jwt::JwtKeys, auth::password::PasswordPolicy, config::Settings};
use entity::clock::Clock;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// What handlers and services need: the database, time, keys and settings.
#[derive(Clone)]
pub struct AppState {
    /// The writer: every transaction and every write goes here.
    pub db: DatabaseConnection,
    /// Plain reads outside a transaction. On SQLite a separate read-only pool (WAL lets readers
    /// run beside the single writer connection); on PostgreSQL the same pool as `db`.
    pub read_db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub jwt: JwtKeys,
    /// Whether the login behind a token is still alive, cached per process.
    pub sessions: crate::auth::session::Sessions,
    /// The change feed that keeps this process's cached answers right.
    pub feed: jobs::feed::Feed,
    /// Each user's unread-notification count, cached per process.
    pub unread_counts: jobs::feed::Cached<u64>,
    pub passwords: PasswordPolicy,
    pub settings: Arc<Settings>,
    pub calendar: jobs::calendar::CalendarLoader,
    /// Rendered appeal-list items, checked against the database's row versions.
    pub appeal_cache: crate::item_cache::AppealCache,
    /// Rendered fund programs of the eligibility list, checked against their row versions.
    pub program_cache: crate::services::funds::programs::ProgramCache,
    /// The eligibility list's latest answer per enterprise, by what it was computed from.
    pub eligible_answers: crate::services::funds::programs::AnswerCache,
    /// The job runner (its loop runs only with `jobs_embedded`; admins can run a job now).
    pub jobs: jobs::Runner,
    /// Writes the batches of concurrent submissions together (PostgreSQL only).
    pub combiner: Option<jobs::bulk::Combiner>,
    /// New notifications for the event streams open in this process.
    pub notifications: crate::services::notification_hub::NotificationHub,
}
