//! Shared pieces of the benchmark tools: starting the release `api` binary and waiting for it.

use anyhow::{Context, bail};
use std::{path::Path, process::Stdio, time::Duration};

/// Starts the `api` binary at `api_bin` on `database_url`, listening on 127.0.0.1:`port`, with
/// `jwt_secret`, the bootstrap admin password `admin_password`, the jobs off and `RUST_LOG=warn`;
/// its data directory is `data_dir`. Killed when the handle drops.
pub fn start_api(
    api_bin: &str,
    database_url: &str,
    port: u16,
    data_dir: &Path,
    jwt_secret: &str,
    admin_password: &str,
) -> anyhow::Result<tokio::process::Child> {
    tokio::process::Command::new(api_bin)
        .env("DATABASE_URL", database_url)
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("DATA_DIR", data_dir)
        .env("JWT_SECRET", jwt_secret)
        .env("BOOTSTRAP_ADMIN_PASSWORD", admin_password)
        .env("JOBS_EMBEDDED", "false")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting the api")
}

/// Waits (up to a minute) until `GET {base}/health/ready` answers 200.
pub async fn wait_ready(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..600 {
        if let Ok(r) = client.get(format!("{base}/health/ready")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the api did not become ready")
}
