//! Use-cases: each public function is one transaction's worth of work across aggregates.

pub mod appeals;
pub mod appeals_admin;
pub mod audit;
pub mod auth;
pub mod bank_reports;
pub mod bootstrap;
pub mod calendar;
pub mod chains;
pub mod clock_view;
pub mod credit_lines;
pub mod dashboard;
pub mod files;
pub mod finance;
pub mod funds;
pub mod memberships;
pub mod notification_hub;
pub mod notifications;
pub mod organizations;
pub mod outbox;
pub mod qualifications;
pub mod timeline_read;
pub mod users;
pub mod validate;
