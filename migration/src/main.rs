//! `cargo run -p migration -- up|down|status|fresh`: the schema CLI, reading `DATABASE_URL`.

use sea_orm_migration::prelude::*;

#[tokio::main]
async fn main() {
    if std::env::var("DATABASE_URL").is_err() {
        // SAFETY: single-threaded at this point; nothing else reads the environment yet.
        unsafe { std::env::set_var("DATABASE_URL", "sqlite://./data/liantong.db?mode=rwc") };
        let _ = std::fs::create_dir_all("./data");
    }
    cli::run_cli(migration::Migrator).await;
}
