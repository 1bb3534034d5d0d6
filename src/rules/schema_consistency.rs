//! `schema-consistency`: an operation the schema at that point of the chain
//! cannot take. The replay records what each operation met
//! ([`crate::schema::facts::Conflict`]); this rule words it.

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::schema::facts::{Conflict, Fact, Use};
use crate::source::Span;

pub const ID: &str = "schema-consistency";

pub const META: RuleMeta = RuleMeta {
    id: ID,
    severity: Severity::Error,
    summary: "An operation impossible against the schema at that point (missing or duplicate table, column, index)",
    doc: include_str!("../../rules/schema-consistency.md"),
    has_examples: true,
    build: no_options::<SchemaConsistency>,
};

#[derive(Default)]
pub struct SchemaConsistency;

impl Rule for SchemaConsistency {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        for event in &set.replay.events {
            if let Fact::Conflict(conflict) = &event.fact {
                report(conflict, event.span, cx);
            }
        }
    }
}

const NO_TABLE_HERE: &str = "no such table at this point of the chain";

/// The finding for one conflict.
pub fn message(conflict: &Conflict) -> String {
    match conflict {
        Conflict::TableExists { table, .. } => format!("table `{table}` already exists"),
        Conflict::TableMissing { table, .. } => format!("table `{table}` does not exist"),
        Conflict::NeverCreated { table } => {
            format!("table `{table}` is used here, but no migration creates it")
        }
        Conflict::ColumnDeclaredTwice { table, column } => {
            format!("column `{table}.{column}` is declared twice")
        }
        Conflict::ColumnExists { table, column } => {
            format!("column `{table}.{column}` already exists")
        }
        Conflict::ColumnMissing { table, column, .. } => {
            format!("column `{table}.{column}` does not exist")
        }
        Conflict::NameTaken {
            table: None,
            from,
            to,
        } => format!("cannot rename `{from}` to `{to}`: `{to}` already exists"),
        Conflict::NameTaken {
            table: Some(table),
            from,
            to,
        } => format!("cannot rename `{table}.{from}` to `{to}`: `{to}` already exists"),
        Conflict::ConstraintColumnMissing { table, column } => {
            format!("constraint on `{table}.{column}`: no such column")
        }
        Conflict::ConstraintMissing { table, name } => {
            format!("table `{table}` has no constraint named `{name}`")
        }
        Conflict::IndexExists { index, .. } => format!("index `{index}` already exists"),
        Conflict::IndexMissing { index, .. } => format!("index `{index}` does not exist"),
        Conflict::IndexTableMissing { index, table } => {
            format!("index `{index}` is on table `{table}`, which does not exist")
        }
        Conflict::IndexColumnMissing {
            index,
            table,
            column,
        } => format!("index `{index}` covers `{table}.{column}`, which does not exist"),
        Conflict::BatchDropIndexedColumn {
            table,
            column,
            index,
        } => format!("column `{table}.{column}` is still covered by index `{index}`"),
        Conflict::BatchCopiesGenerated { table, column } => format!(
            "batch mode recreates `{table}` and copies its rows into generated column `{column}`, which SQLite refuses"
        ),
        Conflict::TableReferenced { table, by } => format!(
            "PostgreSQL refuses to drop table `{table}`: foreign keys of {} still point at it",
            by.iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Conflict::ObjectExists { kind, name } => format!("{kind} `{name}` already exists"),
        Conflict::ObjectMissing { kind, name } => format!("{kind} `{name}` does not exist"),
    }
}

fn report(conflict: &Conflict, span: Span, cx: &mut Context) {
    let at = cx.first_line(span);
    let d = cx.report(at, message(conflict));
    match conflict {
        Conflict::TableExists { first, .. } => {
            d.label("created again here");
            if first.end > 0 || first.start > 0 {
                d.secondary(*first, "first created here");
            }
            d.help("create it once, or write `IF NOT EXISTS` if re-running is intended");
        }
        Conflict::IndexExists { first, .. } => {
            d.label("created again here");
            if first.end > 0 || first.start > 0 {
                d.secondary(*first, "first created here");
            }
        }
        Conflict::TableMissing { by: Use::Drop, .. } => {
            d.label("dropped here")
                .help("drop only tables an earlier migration created (or write `IF EXISTS`)");
        }
        Conflict::TableMissing {
            by: Use::Change, ..
        }
        | Conflict::IndexTableMissing { .. } => {
            d.label(NO_TABLE_HERE);
        }
        Conflict::ColumnExists { .. } => {
            d.label("added again here");
        }
        Conflict::TableReferenced { .. } => {
            d.label("dropped here").help(
                "drop the referencing tables (or their foreign keys) first, or write `DROP TABLE ... CASCADE`",
            );
        }
        Conflict::NeverCreated { .. } => {
            d.label("first used here; not checked further")
                .help("if databases start from `metadata.create_all()` and `alembic stamp`, set `baseline = \"schema.sql\"` (a schema dump) in miglint's configuration so the chain is replayed from it, or `baseline = \"models\"` to take the tables the SQLAlchemy models map as there; otherwise create the table in an earlier migration");
        }
        Conflict::ColumnMissing { by: Use::Drop, .. } => {
            d.label("dropped here");
        }
        Conflict::IndexMissing { .. } => {
            d.label("dropped here")
                .help("drop only indexes an earlier migration created (or write `IF EXISTS`)");
        }
        Conflict::ConstraintMissing { .. } => {
            d.help("only named constraints can be dropped: name them when creating them");
        }
        Conflict::IndexColumnMissing { .. } => {
            d.label("no such column at this point of the chain");
        }
        Conflict::BatchDropIndexedColumn { index, .. } => {
            d.label("batch mode recreates the index after the copy and fails")
                .help(format!("drop index `{index}` before dropping the column"));
        }
        Conflict::BatchCopiesGenerated { column, .. } => {
            d.label("Alembic's copy runs `INSERT INTO ... SELECT` over every column, generated ones too")
                .help(format!(
                    "SQLite says \"cannot INSERT into generated column\": drop `{column}` in the same block and add it back after it, or make the change with plain SQL that copies only the stored columns"
                ));
        }
        _ => {}
    }
}
