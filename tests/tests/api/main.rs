//! Integration tests: the real application over HTTP, on SQLite or PostgreSQL
//! (`TEST_DATABASE_URL`). One binary, one module per area.

mod appeals;
mod appeals_calendar_races;
mod audit;
mod auth;
mod bank_reports;
mod calendar;
mod chains;
mod credit_lines;
mod dashboard;
mod demo;
mod errors;
mod files;
mod finance;
mod funds;
mod hardening;
mod idempotency;
mod jobs_mail;
mod notifications;
mod notify_many;
mod openapi_docs;
mod organizations;
mod permissions;
mod sla_monitor;
mod smoke;
mod support;
