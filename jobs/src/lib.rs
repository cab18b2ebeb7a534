//! Liantong's background jobs: a runner that schedules named jobs in the working calendar's time
//! zone and runs each slot exactly once across processes (database leases plus one history row
//! per slot), the mail outbox with its dispatcher, and the job steps themselves.
//!
//! [`notify`] is the one way to tell people of an event: in-app notifications and their mail.
//!
//! Every job exposes one step, `run_once(&ctx, now)`, that tests call directly; the runner's loop
//! only decides when to call it.

pub mod bank_reports;
pub mod bulk;
pub mod calendar;
pub mod config;
pub mod credit_lines;
pub mod csv;
pub mod engine;
pub mod feed;
pub mod files;
pub mod funds;
pub mod lease;
pub mod mail;
pub mod notify;
pub mod numbering;
pub mod prune;
pub mod runner;
pub mod schedule;
pub mod settings;

pub use config::{FilesConfig, JobsConfig, MailConfig};
/// The SLA monitor job, by its job name.
pub use engine::monitor as sla_monitor;
pub use runner::{Job, JobContext, Runner};
pub use schedule::Schedule;

/// The name this process reports in logs.
pub const PROCESS_NAME: &str = "liantong-jobs";

/// SIGINT or SIGTERM: the signals on which the jobs process and the api stop gracefully.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
