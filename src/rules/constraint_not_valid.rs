//! `constraint-not-valid`: on PostgreSQL, a foreign key or check added to a
//! table in use without `NOT VALID`.

use super::shown;
use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::migration::{ConstraintKind, OpKind};

pub const META: RuleMeta = RuleMeta {
    id: "constraint-not-valid",
    severity: Severity::Warning,
    summary: "PostgreSQL foreign key or check added to a table in use without NOT VALID",
    doc: include_str!("../../rules/constraint-not-valid.md"),
    has_examples: true,
    build: no_options::<ConstraintNotValid>,
};

#[derive(Default)]
pub struct ConstraintNotValid;

impl Rule for ConstraintNotValid {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        for (_, op, table) in set.on_live_tables() {
            if op.online.not_valid {
                continue;
            }
            let what = match &op.kind {
                OpKind::AddConstraint { constraint, .. } => match &constraint.kind {
                    ConstraintKind::ForeignKey(_) => "foreign key",
                    ConstraintKind::Check => "check constraint",
                    _ => continue,
                },
                OpKind::AddColumn { column, .. } if column.references.is_some() => "foreign key",
                _ => continue,
            };
            let help = if op.sql.is_some() {
                "add it with `NOT VALID`, then `ALTER TABLE ... VALIDATE CONSTRAINT ...` in a later migration, which lets writes go on"
            } else {
                "pass `postgresql_not_valid=True` (SQLAlchemy 2.0.17+), then validate it in a later migration with `op.execute(\"ALTER TABLE ... VALIDATE CONSTRAINT ...\")`"
            };
            let span = cx.first_line(op.span);
            cx.report(
                span,
                format!(
                    "adding a {what} to {} checks every row while writes wait",
                    shown(&table)
                ),
            )
            .label("validated under a lock that blocks writes")
            .help(help);
        }
    }
}
