//! `concurrently-in-transaction`: `CREATE/DROP INDEX CONCURRENTLY` in a
//! migration the tool runs inside a transaction, which PostgreSQL refuses.

use super::transaction_opt_out;
use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::migration::{Migration, OpKind, Operation, Reach};
use crate::project::config::Dialect;
use crate::source::Span;

pub const META: RuleMeta = RuleMeta {
    id: "concurrently-in-transaction",
    severity: Severity::Error,
    summary: "CONCURRENTLY in a migration run inside a transaction, which PostgreSQL refuses",
    doc: include_str!("../../rules/concurrently-in-transaction.md"),
    has_examples: true,
    build: no_options::<ConcurrentlyInTransaction>,
};

#[derive(Default)]
pub struct ConcurrentlyInTransaction;

/// The operations the rule is about: an index created or dropped
/// CONCURRENTLY, for certain.
fn concurrent_index_ops(m: &Migration) -> impl Iterator<Item = &Operation> {
    m.upgrade_ops().chain(m.downgrade_ops()).filter(|op| {
        matches!(op.kind, OpKind::CreateIndex(_) | OpKind::DropIndex { .. })
            && op.online.concurrently
            && op.reach != Reach::Maybe
    })
}

/// The first CONCURRENTLY of a PostgreSQL folder where whether it runs in a
/// transaction is not known (the rule stays silent there; a note says so).
pub fn unknown_transaction(set: &SetAnalysis) -> Option<Span> {
    if set.dialect != Dialect::Postgresql {
        return None;
    }
    set.migrations.iter().find_map(|m| {
        concurrent_index_ops(m)
            .find(|op| m.runs_in_transaction(op).is_none())
            .map(|op| op.span)
    })
}

impl Rule for ConcurrentlyInTransaction {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        if set.dialect != Dialect::Postgresql {
            return;
        }
        for m in &set.migrations {
            for op in concurrent_index_ops(m) {
                if m.runs_in_transaction(op) != Some(true) {
                    continue;
                }
                let span = cx.first_line(op.span);
                cx.report(
                    span,
                    "PostgreSQL refuses `CONCURRENTLY` inside a transaction, and the tool runs this migration in one",
                )
                .label("ERROR: cannot run inside a transaction block")
                .help(format!(
                    "{}; keep the rest of the migration in a migration of its own",
                    transaction_opt_out(m.flavour)
                ));
            }
        }
    }
}
