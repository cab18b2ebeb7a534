//! Per-test databases cloned from a template migrated once per test process: PostgreSQL
//! `CREATE DATABASE … TEMPLATE`, a file copy on SQLite. The application still runs its
//! migrations at start, which finds nothing left to do.
//!
//! A template is named after the process that made it (`lt_tpl_<pid>_…`, or a file
//! `liantong-test-template-<pid>-….db` in the temp directory). The test harness has no
//! end-of-run hook, so each run removes the templates of processes that are gone.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use std::path::{Path, PathBuf};
use tokio::sync::OnceCell;

static POSTGRES: OnceCell<String> = OnceCell::const_new();
static SQLITE: OnceCell<PathBuf> = OnceCell::const_new();

const PG_PREFIX: &str = "lt_tpl_";
const FILE_PREFIX: &str = "liantong-test-template-";

fn alive(pid: &str) -> bool {
    Path::new("/proc").join(pid).exists()
}

fn suffix() -> String {
    format!(
        "{}_{}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// The name of this process's migrated PostgreSQL template, made on first use.
pub async fn postgres(maintenance: &str) -> &'static str {
    POSTGRES
        .get_or_init(|| async {
            let admin = Database::connect(maintenance)
                .await
                .expect("connect to PostgreSQL");
            drop_stale_postgres(&admin).await;
            let name = format!("{PG_PREFIX}{}", suffix());
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create the template database");
            let url = database_url(maintenance, &name);
            let db = Database::connect(url.as_str())
                .await
                .expect("connect to the template");
            Migrator::up(&db, None).await.expect("migrate the template");
            db.close().await.ok();
            admin.close().await.ok();
            name
        })
        .await
}

/// `maintenance` with its database replaced by `name`.
pub fn database_url(maintenance: &str, name: &str) -> String {
    match maintenance.rsplit_once('/') {
        Some((head, _)) => format!("{head}/{name}"),
        None => panic!("TEST_DATABASE_URL needs a database path"),
    }
}

async fn drop_stale_postgres(admin: &impl ConnectionTrait) {
    let rows = admin
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT datname FROM pg_database WHERE datname LIKE '{PG_PREFIX}%'"),
        ))
        .await
        .unwrap_or_default();
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        let pid = name
            .trim_start_matches(PG_PREFIX)
            .split('_')
            .next()
            .unwrap_or_default();
        if !alive(pid) {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
    }
}

/// This process's migrated SQLite template file, made on first use.
pub async fn sqlite() -> &'static Path {
    SQLITE
        .get_or_init(|| async {
            let dir = std::env::temp_dir();
            drop_stale_files(&dir);
            let path = dir.join(format!("{FILE_PREFIX}{}.db", suffix()));
            let url = format!("sqlite://{}?mode=rwc", path.display());
            let db = Database::connect(url.as_str())
                .await
                .expect("create the SQLite template");
            Migrator::up(&db, None).await.expect("migrate the template");
            db.close().await.ok();
            path
        })
        .await
}

fn drop_stale_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(rest) = name.strip_prefix(FILE_PREFIX) else {
            continue;
        };
        let pid = rest.split('_').next().unwrap_or_default();
        if !alive(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
