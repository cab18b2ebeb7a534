//! Covering indexes for the SLA dashboard: each of its grouped aggregates reads one index range
//! (the period) and never the table rows, so a 30-day figure costs the appeals and clocks of
//! those 30 days, not the whole history.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (name, table, columns): the range column first, then the group keys and the measured values.
const COVERING: &[(&str, &str, &[&str])] = &[
    (
        "ix_appeals_dash_submitted",
        "appeals",
        &[
            "submitted_at",
            "department_id",
            "chain_id",
            "category",
            "status",
            "id",
        ],
    ),
    (
        "ix_appeals_dash_resolved",
        "appeals",
        &[
            "resolved_at",
            "department_id",
            "chain_id",
            "category",
            "close_working_seconds",
        ],
    ),
    (
        "ix_appeals_dash_closed",
        "appeals",
        &[
            "closed_at",
            "department_id",
            "chain_id",
            "category",
            "satisfaction",
        ],
    ),
    (
        "ix_sla_clocks_dash_due",
        "sla_clocks",
        &[
            "due_at",
            "round",
            "start_at",
            "kind",
            "appeal_id",
            "met_at",
            "breached_at",
            "cancelled_at",
            "paused_at",
        ],
    ),
    (
        "ix_appeal_events_dash",
        "appeal_events",
        &["action", "at", "department_id", "appeal_id"],
    ),
];

/// The unmet clocks of an appeal, for "breached" and "at risk" per open appeal. Same syntax on
/// both databases.
const UNMET: &str = "CREATE INDEX ix_sla_clocks_dash_unmet ON sla_clocks \
     (appeal_id, due_at, warn_at, breached_at, paused_at) \
     WHERE met_at IS NULL AND cancelled_at IS NULL";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, cols) in COVERING {
            let mut stmt = Index::create();
            stmt.name(*name).table(*table);
            for c in *cols {
                stmt.col(*c);
            }
            m.create_index(stmt).await?;
        }
        m.get_connection().execute_unprepared(UNMET).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_sla_clocks_dash_unmet")
                .table("sla_clocks")
                .to_owned(),
        )
        .await?;
        for (name, table, _) in COVERING.iter().rev() {
            m.drop_index(Index::drop().name(*name).table(*table).to_owned())
                .await?;
        }
        Ok(())
    }
}
