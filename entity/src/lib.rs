//! Liantong's domain: sea-orm entities (2.0 format) and pure domain code.

pub mod calendar;
pub mod clock;
pub mod enums;
pub mod sla;
pub mod subject;
pub mod uscc;
pub mod working_days;

pub mod appeal;
pub mod appeal_assignment;
pub mod appeal_event;
pub mod audit_log;
pub mod calendar_day;
pub mod calendar_setting;
pub mod chain;
pub mod chain_bank;
pub mod chain_member;
pub mod idempotency_key;
pub mod job_lease;
pub mod job_run;
pub mod login_attempt;
pub mod login_throttle;
pub mod mail_outbox;
pub mod notification;
pub mod organization;
pub mod qualification;
pub mod qualification_proposal;
pub mod refresh_token;
pub mod routing_rule;
pub mod sla_clock;
pub mod sla_policy;
pub mod supervision;
pub mod user;
pub mod user_preference;
