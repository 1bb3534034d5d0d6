//! `rollback-required`: every step that changes something can be undone.

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::migration::{Flavour, Rollback};

pub const META: RuleMeta = RuleMeta {
    id: "rollback-required",
    severity: Severity::Error,
    summary: "A yoyo step without a rollback, or an Alembic downgrade() that does nothing",
    doc: include_str!("../../rules/rollback-required.md"),
    has_examples: true,
    build: no_options::<RollbackRequired>,
};

#[derive(Default)]
pub struct RollbackRequired;

impl Rule for RollbackRequired {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        for m in set.migrations.iter().filter(|m| !m.ops_unknown) {
            for step in &m.steps {
                if !step.apply_does_work {
                    continue;
                }
                match &step.rollback {
                    Rollback::Ops { .. } => {}
                    Rollback::Missing => {
                        let span = cx.first_line(step.span);
                        let (message, help) = match m.flavour {
                            Flavour::Alembic => (
                                "`upgrade()` changes the schema but there is no `downgrade()`"
                                    .to_string(),
                                "add `def downgrade() -> None:` that undoes each operation, in reverse order"
                                    .to_string(),
                            ),
                            Flavour::YoyoPy => (
                                "this step has no rollback".to_string(),
                                "pass the undo SQL as the second argument: `step(apply_sql, rollback_sql)`"
                                    .to_string(),
                            ),
                            Flavour::YoyoSql => (
                                format!("`{}.sql` has no rollback file", m.stem),
                                format!(
                                    "add `{}.rollback.sql` beside it with the SQL that undoes this migration",
                                    m.stem
                                ),
                            ),
                        };
                        cx.report(span, message)
                            .label("cannot be rolled back")
                            .help(help);
                    }
                    Rollback::Empty { span, why } => {
                        let span = cx.first_line(*span);
                        let message = match m.flavour {
                            Flavour::Alembic => format!("`downgrade()` does nothing: {why}"),
                            _ => format!("the rollback does nothing: {why}"),
                        };
                        cx.report(span, message)
                            .label("this undoes nothing")
                            .help("write the statements that undo the upgrade (DROP TABLE IF EXISTS ..., DROP INDEX IF EXISTS ..., ALTER TABLE ... DROP COLUMN ...)");
                    }
                }
            }
        }
    }
}
