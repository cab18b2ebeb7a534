//! Less work for every write of a submission (issue 11's `POST /appeals` next to its floor):
//!
//! - Indexes that hold an entry for every row but are only ever searched for non-null values
//!   become partial: the dashboard's resolved and closed ranges (`resolved_at`, `closed_at` are
//!   null until then), a chain's appeals (`chain_id` is null for most), and the monitor's
//!   escalation scan (`escalate_at` is null until a breach). Every query that used them
//!   compares the column, which implies `IS NOT NULL`, so they still use them (on both
//!   databases).
//! - `ix_appeal_events_action_at` goes: `ix_appeal_events_dash` begins with the same columns.
//! - PostgreSQL: the notifications' change-feed trigger function runs one statement, not a
//!   count and then an insert.

use crate::m20261207_000018_change_feed::{MANY, pg_unread};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (name, the definition before, the definition after).
const INDEXES: &[(&str, &str, &str)] = &[
    (
        "ix_appeals_dash_resolved",
        "ON appeals (resolved_at, department_id, chain_id, category, close_working_seconds)",
        "ON appeals (resolved_at, department_id, chain_id, category, close_working_seconds) \
         WHERE resolved_at IS NOT NULL",
    ),
    (
        "ix_appeals_dash_closed",
        "ON appeals (closed_at, department_id, chain_id, category, satisfaction)",
        "ON appeals (closed_at, department_id, chain_id, category, satisfaction) \
         WHERE closed_at IS NOT NULL",
    ),
    (
        "ix_appeals_chain_id_id",
        "ON appeals (chain_id, id)",
        "ON appeals (chain_id, id) WHERE chain_id IS NOT NULL",
    ),
    (
        "ix_sla_clocks_escalate",
        "ON sla_clocks (escalate_at) WHERE met_at IS NULL AND escalated_at IS NULL \
         AND cancelled_at IS NULL AND paused_at IS NULL",
        "ON sla_clocks (escalate_at) WHERE escalate_at IS NOT NULL AND met_at IS NULL \
         AND escalated_at IS NULL AND cancelled_at IS NULL AND paused_at IS NULL",
    ),
];

/// The index a longer one makes redundant.
const PREFIX: (&str, &str) = (
    "ix_appeal_events_action_at",
    "ON appeal_events (action, at)",
);

/// The trigger function as one statement: one keyless row past [`MANY`] notifications, else
/// one row per user.
fn pg_unread_one_statement() -> String {
    format!(
        "CREATE OR REPLACE FUNCTION change_feed_unread() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
            INSERT INTO change_feed (topic, key)
            SELECT DISTINCT 'unread',
                   CASE WHEN (SELECT count(*) FROM changed) > {MANY} THEN NULL ELSE user_id END
            FROM changed;
            RETURN NULL;
         END $$"
    )
}

async fn run(m: &SchemaManager<'_>, statements: Vec<String>) -> Result<(), DbErr> {
    let conn = m.get_connection();
    for s in statements {
        conn.execute_unprepared(&s).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut all = Vec::new();
        for (name, _, after) in INDEXES {
            all.push(format!("DROP INDEX {name}"));
            all.push(format!("CREATE INDEX {name} {after}"));
        }
        all.push(format!("DROP INDEX {}", PREFIX.0));
        if m.get_database_backend() == DatabaseBackend::Postgres {
            all.push(pg_unread_one_statement());
        }
        run(m, all).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut all = Vec::new();
        for (name, before, _) in INDEXES {
            all.push(format!("DROP INDEX {name}"));
            all.push(format!("CREATE INDEX {name} {before}"));
        }
        all.push(format!("CREATE INDEX {} {}", PREFIX.0, PREFIX.1));
        if m.get_database_backend() == DatabaseBackend::Postgres {
            all.push(pg_unread().replacen("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1));
        }
        run(m, all).await
    }
}
