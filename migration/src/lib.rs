//! Liantong's schema and reference data, portable across SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_foundation;
mod m20261123_000002_calendar_seed;
mod m20261123_000003_jobs_mail;
mod m20261123_000004_appeals;
mod m20261123_000005_dashboard;
mod m20261124_000006_appeal_versions;
mod m20261124_000007_drop_prefix_indexes;
mod m20261130_000008_membership_consent;
mod m20261130_000009_sessions_throttle_visibility;
mod m20261130_000010_clock_warning_lead;
mod m20261201_000011_engine_subjects;
mod m20261201_000012_notifications;
mod m20261202_000013_finance;
mod m20261203_000014_funds;
mod m20261204_000015_files;
mod m20261205_000016_program_versions;
mod m20261206_000017_mail_off_index;
mod m20261207_000018_change_feed;
mod m20261208_000019_leaner_writes;
mod m20261209_000020_calendar_guard;
mod util;

/// Every migration, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_foundation::Migration),
            Box::new(m20261123_000002_calendar_seed::Migration),
            Box::new(m20261123_000003_jobs_mail::Migration),
            Box::new(m20261123_000004_appeals::Migration),
            Box::new(m20261123_000005_dashboard::Migration),
            Box::new(m20261124_000006_appeal_versions::Migration),
            Box::new(m20261124_000007_drop_prefix_indexes::Migration),
            Box::new(m20261130_000008_membership_consent::Migration),
            Box::new(m20261130_000009_sessions_throttle_visibility::Migration),
            Box::new(m20261130_000010_clock_warning_lead::Migration),
            Box::new(m20261201_000011_engine_subjects::Migration),
            Box::new(m20261201_000012_notifications::Migration),
            Box::new(m20261202_000013_finance::Migration),
            Box::new(m20261203_000014_funds::Migration),
            Box::new(m20261204_000015_files::Migration),
            Box::new(m20261205_000016_program_versions::Migration),
            Box::new(m20261206_000017_mail_off_index::Migration),
            Box::new(m20261207_000018_change_feed::Migration),
            Box::new(m20261208_000019_leaner_writes::Migration),
            Box::new(m20261209_000020_calendar_guard::Migration),
        ]
    }
}
