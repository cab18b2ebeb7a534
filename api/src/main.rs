//! The `api` binary: `cargo run -p api` serves with the embedded defaults;
//! `cargo run -p api -- --demo` first loads the demo city into an empty database.

use api::{config::Settings, startup::Application, telemetry};
use entity::clock::SystemClock;
use std::sync::Arc;

/// mimalloc instead of glibc's malloc: a page of appeals allocates a few thousand small
/// strings and vectors (see "Why these dependencies" in the README for the measurement).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = std::env::args().skip(1).any(|a| a == "--demo");
    let settings = Settings::load()?;
    telemetry::init(settings.env == api::config::Environment::Production);
    let app = Application::build(settings, Arc::new(SystemClock)).await?;
    if demo {
        api::demo::load(app.state()).await?;
    }
    app.run_until_stopped().await?;
    Ok(())
}
