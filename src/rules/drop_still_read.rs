//! `drop-still-read`: a column or table dropped (or renamed away) for good
//! while the application's queries still read it.

use std::collections::BTreeMap;

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::migration::{OpKind, Operation, Reach};

pub const ID: &str = "drop-still-read";

pub const META: RuleMeta = RuleMeta {
    id: ID,
    severity: Severity::Warning,
    summary: "A column or table dropped or renamed away while the application still reads it",
    doc: include_str!("../../rules/drop-still-read.md"),
    has_examples: true,
    build: no_options::<DropStillRead>,
};

#[derive(Default)]
pub struct DropStillRead;

/// What `op` takes away for good: (table, column or `None` for the whole
/// table, what happens to it).
fn removes(op: &Operation) -> Option<(&str, Option<&str>, &'static str)> {
    Some(match &op.kind {
        OpKind::DropColumn { table, column } => (table, Some(column), "dropped"),
        OpKind::RenameColumn { table, from, .. } => (table, Some(from), "renamed away"),
        OpKind::AlterColumn {
            table,
            column,
            changes,
        } if changes.new_name.is_some() => (table, Some(column), "renamed away"),
        OpKind::DropTable { name } => (name, None, "dropped"),
        OpKind::RenameTable { from, .. } => (from, None, "renamed away"),
        _ => return None,
    })
}

impl Rule for DropStillRead {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        if set.queries.is_empty() {
            return;
        }
        // The last operation that takes each name away, in applied order.
        let mut last: BTreeMap<(String, Option<String>), (&Operation, &'static str)> =
            BTreeMap::new();
        for m in set.ordered() {
            for op in m.upgrade_ops().filter(|op| op.reach != Reach::Maybe) {
                if let Some((table, column, how)) = removes(op) {
                    let key = (
                        table.to_ascii_lowercase(),
                        column.map(str::to_ascii_lowercase),
                    );
                    last.insert(key, (op, how));
                }
            }
        }
        let head = &set.replay.schema;
        for ((table, column), (op, how)) in last {
            // Gone at the head of the chain, for certain.
            if set.replay.uncertain.table(&table) {
                continue;
            }
            let gone = match (head.table(&table), &column) {
                (None, _) => true,
                (Some(t), Some(c)) => t.column(c).is_none(),
                (Some(_), None) => false,
            };
            if !gone {
                continue;
            }
            let reads: Vec<_> = set
                .queries
                .iter()
                .filter(|u| {
                    u.table.eq_ignore_ascii_case(&table)
                        && column
                            .as_deref()
                            .is_none_or(|c| u.column.eq_ignore_ascii_case(c))
                })
                .collect();
            let Some(first) = reads.first() else {
                continue;
            };
            let what = match &column {
                Some(c) => format!("column `{table}.{c}`"),
                None => format!("table `{table}`"),
            };
            let span = cx.first_line(op.span);
            let more = match reads.len() {
                1 => String::new(),
                n => format!(" (and {} more places)", n - 1),
            };
            cx.report(
                span,
                format!("{what} is {how} here, but the application still reads it"),
            )
            .label(format!("{how} here"))
            .secondary(first.span, format!("read here{more}"))
            .help(
                "ship the code that stops reading it first; drop it in a later migration, once no running code reads it",
            );
        }
    }
}
