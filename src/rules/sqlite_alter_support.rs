//! `sqlite-alter-support`: SQL ALTER TABLE forms SQLite does not have.

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::migration::OpKind;
use crate::project::config::{Dialect, SqliteVersion};
use crate::schema::facts::{DropRefusal, Fact};

pub const META: RuleMeta = RuleMeta {
    id: "sqlite-alter-support",
    severity: Severity::Error,
    summary: "SQL ALTER TABLE forms SQLite lacks (ALTER COLUMN, constraints, DROP/RENAME COLUMN on old versions)",
    doc: include_str!("../../rules/sqlite-alter-support.md"),
    has_examples: true,
    build: no_options::<SqliteAlterSupport>,
};

#[derive(Default)]
pub struct SqliteAlterSupport;

const DROP_COLUMN: SqliteVersion = SqliteVersion(3, 35, 0);
const RENAME_COLUMN: SqliteVersion = SqliteVersion(3, 25, 0);

impl Rule for SqliteAlterSupport {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        if set.dialect != Dialect::Sqlite {
            return;
        }
        let version = cx.settings.sqlite_version;
        for m in &set.migrations {
            for op in m.upgrade_ops().chain(m.downgrade_ops()) {
                if op.sql.is_none() {
                    continue;
                }
                let problem = match &op.kind {
                    OpKind::AlterColumn { table, column, .. } => Some((
                        format!("SQLite has no ALTER COLUMN (`{table}.{column}`)"),
                        "rebuild the table: create the new shape, copy the rows, drop the old table, rename the new one".to_string(),
                    )),
                    OpKind::AddConstraint { table, .. } => Some((
                        format!("SQLite cannot add a constraint to existing table `{table}`"),
                        "declare constraints in CREATE TABLE, or rebuild the table".to_string(),
                    )),
                    OpKind::DropConstraint { table, name, .. } => Some((
                        format!("SQLite cannot drop constraint `{name}` from `{table}`"),
                        "rebuild the table without the constraint".to_string(),
                    )),
                    OpKind::AddColumn { table, column } if column.primary_key || column.unique => Some((
                        format!(
                            "SQLite cannot add a {} column (`{table}.{}`)",
                            if column.primary_key { "PRIMARY KEY" } else { "UNIQUE" },
                            column.name
                        ),
                        "add the column plainly, then create a UNIQUE INDEX on it".to_string(),
                    )),
                    OpKind::DropColumn { table, column } if version < DROP_COLUMN => Some((
                        format!("DROP COLUMN (`{table}.{column}`) needs SQLite {DROP_COLUMN}; the target is {version}"),
                        "rebuild the table, or raise `sqlite-version` if production runs a newer SQLite".to_string(),
                    )),
                    OpKind::RenameColumn { table, from, .. } if version < RENAME_COLUMN => Some((
                        format!("RENAME COLUMN (`{table}.{from}`) needs SQLite {RENAME_COLUMN}; the target is {version}"),
                        "rebuild the table, or raise `sqlite-version` if production runs a newer SQLite".to_string(),
                    )),
                    _ => None,
                };
                if let Some((message, help)) = problem {
                    let span = cx.first_line(op.span);
                    cx.report(span, message).help(help);
                }
            }
        }
        // What the replay met: a DROP COLUMN SQLite refuses for this column.
        for event in &set.replay.events {
            let Fact::DropColumnRefused {
                table,
                column,
                because,
            } = &event.fact
            else {
                continue;
            };
            let reason = match because {
                DropRefusal::PrimaryKey => "it is part of the primary key".to_string(),
                DropRefusal::Unique => "it has a UNIQUE constraint".to_string(),
                DropRefusal::Indexed(index) => format!("index `{index}` covers it"),
                DropRefusal::Referenced(other) => {
                    format!("a foreign key in `{other}` references it")
                }
            };
            let at = cx.first_line(event.span);
            cx.report(
                at,
                format!("SQLite cannot drop column `{table}.{column}`: {reason}"),
            )
            .label("ALTER TABLE ... DROP COLUMN fails here")
            .help("drop the index or constraint first, or rebuild the table (create a new one, copy the rows, drop and rename)");
        }
    }
}
