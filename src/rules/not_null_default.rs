//! `not-null-default`: a NOT NULL column added to an existing table needs a default.

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::migration::OpKind;

pub const META: RuleMeta = RuleMeta {
    id: "not-null-default",
    severity: Severity::Error,
    summary: "A NOT NULL column added to an existing table without a default",
    doc: include_str!("../../rules/not-null-default.md"),
    has_examples: true,
    build: no_options::<NotNullDefault>,
};

#[derive(Default)]
pub struct NotNullDefault;

impl Rule for NotNullDefault {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        for m in &set.migrations {
            for op in m.upgrade_ops().chain(m.downgrade_ops()) {
                let OpKind::AddColumn { table, column } = &op.kind else {
                    continue;
                };
                if column.nullable || column.default.is_some() || column.primary_key {
                    continue;
                }
                let help = if op.sql.is_some() {
                    format!(
                        "give it a DEFAULT (`{} ... NOT NULL DEFAULT ''`), or add it nullable and fill it in a later step",
                        column.name
                    )
                } else {
                    "pass `server_default=...`, or add it with `nullable=True`, fill it, then make it NOT NULL".to_string()
                };
                let span = cx.first_line(op.span);
                cx.report(
                    span,
                    format!(
                        "NOT NULL column `{table}.{}` added without a default",
                        column.name
                    ),
                )
                .label(format!(
                    "{} refuses this as soon as the table has rows",
                    set.dialect.name()
                ))
                .help(help);
            }
        }
    }
}
