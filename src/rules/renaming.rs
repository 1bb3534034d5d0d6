//! `renaming`: on PostgreSQL, a column or table renamed while the
//! application still uses the old name.

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::migration::OpKind;

pub const META: RuleMeta = RuleMeta {
    id: "renaming",
    severity: Severity::Warning,
    summary: "PostgreSQL column or table renamed while running code uses the old name",
    doc: include_str!("../../rules/renaming.md"),
    has_examples: true,
    build: no_options::<Renaming>,
};

#[derive(Default)]
pub struct Renaming;

impl Rule for Renaming {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        for (m, op, _) in set.on_live_tables() {
            // A column this migration added is not in use yet.
            let added_here = |table: &str, column: &str| {
                m.upgrade_ops().any(|o| {
                    matches!(&o.kind, OpKind::AddColumn { table: t, column: c }
                        if t.eq_ignore_ascii_case(table) && c.name.eq_ignore_ascii_case(column))
                })
            };
            let (what, from, to) = match &op.kind {
                OpKind::RenameColumn { table, from, .. } if added_here(table, from) => continue,
                OpKind::RenameColumn { table, from, to } => {
                    ("column", format!("{table}.{from}"), to.clone())
                }
                OpKind::AlterColumn {
                    table,
                    column,
                    changes,
                } => match &changes.new_name {
                    Some(_) if added_here(table, column) => continue,
                    Some(to) => ("column", format!("{table}.{column}"), to.clone()),
                    None => continue,
                },
                OpKind::RenameTable { from, to } => ("table", from.clone(), to.clone()),
                _ => continue,
            };
            let span = cx.first_line(op.span);
            cx.report(
                span,
                format!("renaming {what} `{from}` to `{to}` breaks the code still running with the old name"),
            )
            .label("old name gone the moment this commits")
            .help(format!(
                "add the new {what} beside the old one, move the code over, then drop the old one in a later release"
            ));
        }
    }
}
