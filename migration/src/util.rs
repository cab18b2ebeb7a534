//! Column and index helpers shared by the migrations.

use sea_orm_migration::{prelude::*, schema::*};

pub(crate) fn ts(name: &'static str) -> ColumnDef {
    timestamp_with_time_zone(name)
}

pub(crate) fn ts_null(name: &'static str) -> ColumnDef {
    timestamp_with_time_zone_null(name)
}

pub(crate) fn fk(
    from_table: &'static str,
    col: &'static str,
    to_table: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{col}"))
        .from(from_table, col)
        .to(to_table, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

pub(crate) fn index(table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("ix_{table}_{}", cols.join("_")))
        .table(table);
    for c in cols {
        stmt.col(*c);
    }
    stmt.to_owned()
}
