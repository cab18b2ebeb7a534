//! Database connections for SQLite (embedded) and PostgreSQL (production).

use crate::config::Settings;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use std::time::Duration;

/// A pooled connection idle at least this long is pinged before it is handed out. sqlx pings on
/// every acquire by default: one more round trip per statement outside a transaction, which
/// was a tenth of a list request's time. A connection that dropped while busy fails its
/// statement either way; the idle ones are the ones a restarted server or a NAT may have cut.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(30);

/// Opens the pool in effect. SQLite runs in WAL mode with foreign keys on and a single pooled
/// connection: writers are serialized in-process (SQLite allows one writer anyway), which keeps
/// every transaction free of `SQLITE_BUSY` upgrades. PostgreSQL uses a real pool.
pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    let url = settings.database_url();
    let mut opts = options(settings);
    if settings.is_sqlite() {
        if let Some(path) = sqlite_path(&url)
            && let Some(dir) = std::path::Path::new(&path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
        }
        // No idle timeout or lifetime: the one connection is never recycled.
        opts.max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
        opts.map_sqlx_sqlite_opts(|o| {
            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
        });
    } else {
        opts.max_connections(settings.db_max_connections)
            .min_connections(1);
    }
    Database::connect(opts).await
}

/// PostgreSQL: the pool of the combined writes (`jobs::bulk::Combiner`), one connection per
/// writer, opened at once; `None` on SQLite or with `db_combined_writers` 0.
pub async fn connect_combiner(settings: &Settings) -> Result<Option<DatabaseConnection>, DbErr> {
    let writers = settings.db_combined_writers;
    if settings.is_sqlite() || writers == 0 {
        return Ok(None);
    }
    let mut opts = options(settings);
    opts.max_connections(writers).min_connections(writers);
    Database::connect(opts).await.map(Some)
}

/// The pool for plain reads: on SQLite a read-only pool of a few connections beside the single
/// writer (WAL readers see every committed write and never block the writer); on PostgreSQL
/// the writer pool itself.
pub async fn connect_reader(
    settings: &Settings,
    writer: &DatabaseConnection,
) -> Result<DatabaseConnection, DbErr> {
    if !settings.is_sqlite() {
        return Ok(writer.clone());
    }
    let mut opts = options(settings);
    opts.max_connections(4)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None);
    opts.map_sqlx_sqlite_opts(|o| {
        o.read_only(true)
            .create_if_missing(false)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
    });
    Database::connect(opts).await
}

/// What every pool of the api shares: no statement logging, a 30 s wait for a connection, and
/// a ping only for a connection idle [`PING_IF_IDLE_FOR`].
fn options(settings: &Settings) -> ConnectOptions {
    let mut opts = ConnectOptions::new(settings.database_url());
    opts.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR);
    opts
}

fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| path.to_string())
}
