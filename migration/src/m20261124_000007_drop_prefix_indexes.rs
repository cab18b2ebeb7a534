//! Drops two indexes that are leading prefixes of the dashboard's covering indexes (migration
//! `m20261123_000005_dashboard`): `sla_clocks (due_at)` of `ix_sla_clocks_dash_due` and
//! `appeals (submitted_at)` of `ix_appeals_dash_submitted`. Every query that could use one can
//! use the other. Worse, PostgreSQL preferred the narrow `due_at` index for the dashboard's
//! clock aggregate (the heap is in due order, so its estimate looked cheap) and read ~95,000
//! heap pages for a 30-day period, where the covering index answers from the index alone:
//! 106–113 ms against 76 ms for that statement over 1M appeals. One index fewer per row also
//! makes every submission's insert cheaper.

use crate::util::index;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, column) of each dropped single-column index.
const PREFIXES: &[(&str, &str)] = &[("sla_clocks", "due_at"), ("appeals", "submitted_at")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in PREFIXES {
            m.drop_index(
                Index::drop()
                    .name(format!("ix_{table}_{column}"))
                    .table(*table)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in PREFIXES {
            m.create_index(index(table, &[column])).await?;
        }
        Ok(())
    }
}
