//! `concurrent-index`: on PostgreSQL, an index created or dropped on a table
//! in use without `CONCURRENTLY`.

use super::shown;
use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::migration::OpKind;

pub const META: RuleMeta = RuleMeta {
    id: "concurrent-index",
    severity: Severity::Warning,
    summary: "PostgreSQL index created or dropped without CONCURRENTLY on a table in use",
    doc: include_str!("../../rules/concurrent-index.md"),
    has_examples: true,
    build: no_options::<ConcurrentIndex>,
};

#[derive(Default)]
pub struct ConcurrentIndex;

impl Rule for ConcurrentIndex {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        for (m, op, table) in set.on_live_tables() {
            if op.online.concurrently {
                continue;
            }
            // An index dropped just before its table: DROP TABLE takes the
            // same lock whatever happens to the index.
            if matches!(op.kind, OpKind::DropIndex { .. })
                && !table.is_empty()
                && m.upgrade_ops().any(|o| {
                    matches!(&o.kind, OpKind::DropTable { name } if name.eq_ignore_ascii_case(&table))
                })
            {
                continue;
            }
            let (what, lock, help) = match &op.kind {
                OpKind::CreateIndex(_) => (
                    "creating",
                    "a SHARE lock: every write to it waits until the index is built",
                    if op.sql.is_some() {
                        "write `CREATE INDEX CONCURRENTLY` (outside a transaction)"
                    } else {
                        "pass `postgresql_concurrently=True`, inside `with op.get_context().autocommit_block():`"
                    },
                ),
                OpKind::DropIndex { .. } => (
                    "dropping",
                    "an ACCESS EXCLUSIVE lock: every read and write of it waits",
                    if op.sql.is_some() {
                        "write `DROP INDEX CONCURRENTLY` (outside a transaction)"
                    } else {
                        "pass `postgresql_concurrently=True`, inside `with op.get_context().autocommit_block():`"
                    },
                ),
                _ => continue,
            };
            let span = cx.first_line(op.span);
            cx.report(
                span,
                format!(
                    "{what} an index without `CONCURRENTLY` locks {} while it runs",
                    shown(&table)
                ),
            )
            .label(format!("takes {lock}"))
            .help(help);
        }
    }
}
