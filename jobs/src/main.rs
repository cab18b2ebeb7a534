//! The `jobs` binary: runs the background jobs without the HTTP API. No job is defined yet, so
//! it starts, says so, and exits cleanly.

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    tracing::info!(
        process = jobs::PROCESS_NAME,
        "no background jobs are defined yet; exiting"
    );
}
