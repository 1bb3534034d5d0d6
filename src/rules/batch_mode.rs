//! `batch-mode`: Alembic column and constraint changes must run inside
//! `op.batch_alter_table(...)` on SQLite.

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::chain::MigrationSet;
use crate::config::Dialect;
use crate::model::{Flavour, OpKind};

pub const META: RuleMeta = RuleMeta {
    id: "batch-mode",
    severity: Severity::Error,
    summary: "Alembic column or constraint change outside `op.batch_alter_table` on SQLite",
    doc: include_str!("../../rules/batch-mode.md"),
    has_examples: true,
    build: no_options::<BatchMode>,
};

/// The `op.*` methods SQLite can only run as a batch table rebuild.
const NEEDS_BATCH: &[&str] = &[
    "add_column",
    "drop_column",
    "alter_column",
    "create_foreign_key",
    "drop_constraint",
    "create_unique_constraint",
    "create_check_constraint",
    "create_primary_key",
];

#[derive(Default)]
pub struct BatchMode;

impl Rule for BatchMode {
    fn check(&self, set: &MigrationSet, cx: &mut Context) {
        if cx.settings.dialect != Dialect::Sqlite {
            return;
        }
        for m in set
            .migrations
            .iter()
            .filter(|m| m.flavour == Flavour::Alembic)
        {
            for op in m.upgrade_ops().chain(m.downgrade_ops()) {
                let Some(method) = op.call.as_deref() else {
                    continue;
                };
                if op.in_batch || op.sql.is_some() || !NEEDS_BATCH.contains(&method) {
                    continue;
                }
                let table = table_of(&op.kind).unwrap_or("<table>");
                let span = cx.first_line(op.span);
                cx.report(
                    span,
                    format!("`op.{method}` on table `{table}` outside batch mode"),
                )
                .label("SQLite cannot run this as a plain ALTER TABLE")
                .help(format!(
                    "run it in a batch, which Alembic turns into a table copy:\n\
                     with op.batch_alter_table(\"{table}\") as batch_op:\n    \
                     batch_op.{method}(...)  # same arguments, without the table name"
                ));
            }
        }
    }
}

fn table_of(kind: &OpKind) -> Option<&str> {
    match kind {
        OpKind::AddColumn { table, .. }
        | OpKind::DropColumn { table, .. }
        | OpKind::AlterColumn { table, .. }
        | OpKind::AddConstraint { table, .. }
        | OpKind::DropConstraint { table, .. } => Some(table),
        _ => None,
    }
}
