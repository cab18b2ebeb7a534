//! The change feed (`change_feed`): one row for every change that a process may hold in memory,
//! written by triggers so that no writer — this project's code, another process, an operator's
//! SQL — can forget it. Each api process polls the rows of the last seconds and drops what it
//! cached for the keys they name (`jobs::feed`):
//!
//! - `login` (key: the refresh-token family): a refresh token was revoked (logout, reuse).
//! - `user` (key: the user): the user's `active` flag or `session_version` changed.
//! - `unread` (key: the user; no key: every user): the user's notifications were added, read or
//!   deleted. On PostgreSQL one row per user and statement, or one keyless row when a statement
//!   touches more than 500 notifications (the window-opening push writes thousands at once).
//!
//! `at_ms` is the database's clock in milliseconds since the epoch, so that the pollers' window
//! does not depend on the application servers' clocks.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A statement that touches more notifications than this writes one keyless `unread` row.
pub(crate) const MANY: u32 = 500;

const PG: &[&str] = &[
    "CREATE TABLE change_feed (
        id BIGSERIAL PRIMARY KEY,
        topic TEXT NOT NULL,
        key UUID,
        at_ms BIGINT NOT NULL DEFAULT ((EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT)
    )",
    "CREATE INDEX ix_change_feed_at_ms ON change_feed (at_ms)",
    "CREATE FUNCTION change_feed_user() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
        INSERT INTO change_feed (topic, key) VALUES ('user', NEW.id);
        RETURN NULL;
     END $$",
    "CREATE TRIGGER users_change_feed AFTER UPDATE ON users FOR EACH ROW
     WHEN (OLD.active IS DISTINCT FROM NEW.active
           OR OLD.session_version IS DISTINCT FROM NEW.session_version)
     EXECUTE FUNCTION change_feed_user()",
    "CREATE FUNCTION change_feed_login() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
        INSERT INTO change_feed (topic, key) VALUES ('login', NEW.family_id);
        RETURN NULL;
     END $$",
    "CREATE TRIGGER refresh_tokens_change_feed AFTER UPDATE ON refresh_tokens FOR EACH ROW
     WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
     EXECUTE FUNCTION change_feed_login()",
];

/// The notifications' statement-level function (its threshold is [`MANY`]).
pub(crate) fn pg_unread() -> String {
    format!(
        "CREATE FUNCTION change_feed_unread() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
            IF (SELECT count(*) FROM changed) > {MANY} THEN
                INSERT INTO change_feed (topic) VALUES ('unread');
            ELSE
                INSERT INTO change_feed (topic, key) SELECT DISTINCT 'unread', user_id FROM changed;
            END IF;
            RETURN NULL;
         END $$"
    )
}

/// PostgreSQL: one statement-level trigger per event (a trigger with a transition table has one
/// event), each naming its rows `changed`.
const PG_NOTIFICATIONS: &[(&str, &str)] = &[
    (
        "insert",
        "INSERT ON notifications REFERENCING NEW TABLE AS changed",
    ),
    (
        "update",
        "UPDATE ON notifications REFERENCING NEW TABLE AS changed",
    ),
    (
        "delete",
        "DELETE ON notifications REFERENCING OLD TABLE AS changed",
    ),
];

/// The database's clock in milliseconds on SQLite.
const SQLITE_NOW_MS: &str = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

fn sqlite() -> Vec<String> {
    let insert = |topic: &str, key: &str| {
        format!(
            "INSERT INTO change_feed (topic, key, at_ms) VALUES ('{topic}', {key}, {SQLITE_NOW_MS});"
        )
    };
    vec![
        "CREATE TABLE change_feed (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            topic TEXT NOT NULL,
            key uuid_text,
            at_ms INTEGER NOT NULL
        )"
        .into(),
        "CREATE INDEX ix_change_feed_at_ms ON change_feed (at_ms)".into(),
        format!(
            "CREATE TRIGGER users_change_feed AFTER UPDATE ON users FOR EACH ROW
             WHEN OLD.active IS NOT NEW.active OR OLD.session_version IS NOT NEW.session_version
             BEGIN {} END",
            insert("user", "NEW.id")
        ),
        format!(
            "CREATE TRIGGER refresh_tokens_change_feed AFTER UPDATE ON refresh_tokens FOR EACH ROW
             WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
             BEGIN {} END",
            insert("login", "NEW.family_id")
        ),
        format!(
            "CREATE TRIGGER notifications_change_feed_insert AFTER INSERT ON notifications
             FOR EACH ROW BEGIN {} END",
            insert("unread", "NEW.user_id")
        ),
        format!(
            "CREATE TRIGGER notifications_change_feed_update AFTER UPDATE ON notifications
             FOR EACH ROW BEGIN {} END",
            insert("unread", "NEW.user_id")
        ),
        format!(
            "CREATE TRIGGER notifications_change_feed_delete AFTER DELETE ON notifications
             FOR EACH ROW BEGIN {} END",
            insert("unread", "OLD.user_id")
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        let statements: Vec<String> = match conn.get_database_backend() {
            DatabaseBackend::Postgres => {
                let mut all: Vec<String> = PG.iter().map(|s| String::from(*s)).collect();
                all.push(pg_unread());
                for (event, on) in PG_NOTIFICATIONS {
                    all.push(format!(
                        "CREATE TRIGGER notifications_change_feed_{event} AFTER {on} \
                         FOR EACH STATEMENT EXECUTE FUNCTION change_feed_unread()"
                    ));
                }
                all
            }
            _ => sqlite(),
        };
        for s in statements {
            conn.execute_unprepared(&s).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        let pg = conn.get_database_backend() == DatabaseBackend::Postgres;
        let on = |table: &str| {
            if pg {
                format!(" ON {table}")
            } else {
                String::new()
            }
        };
        let mut statements = vec![
            format!("DROP TRIGGER IF EXISTS users_change_feed{}", on("users")),
            format!(
                "DROP TRIGGER IF EXISTS refresh_tokens_change_feed{}",
                on("refresh_tokens")
            ),
        ];
        for event in ["insert", "update", "delete"] {
            statements.push(format!(
                "DROP TRIGGER IF EXISTS notifications_change_feed_{event}{}",
                on("notifications")
            ));
        }
        if pg {
            for f in [
                "change_feed_user",
                "change_feed_login",
                "change_feed_unread",
            ] {
                statements.push(format!("DROP FUNCTION IF EXISTS {f}()"));
            }
        }
        statements.push("DROP TABLE change_feed".into());
        for s in statements {
            conn.execute_unprepared(&s).await?;
        }
        Ok(())
    }
}
