//! Liantong's background jobs. The runner, leases, mail outbox and the SLA monitor arrive with
//! the jobs issue; for now the crate only names the jobs process.

/// The name this process reports in logs.
pub const PROCESS_NAME: &str = "liantong-jobs";
