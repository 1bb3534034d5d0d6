//! `rollback-required`: every step that changes something can be undone.

use serde::Deserialize;

use super::{Context, Rule, RuleMeta, Severity};
use crate::analysis::SetAnalysis;
use crate::migration::{Flavour, Rollback, SqlTool};
use crate::project::config::{ConfigError, RuleConfig, Settings, rule_options};

pub const META: RuleMeta = RuleMeta {
    id: "rollback-required",
    severity: Severity::Error,
    summary: "A yoyo step without a rollback, or an Alembic downgrade() that does nothing",
    doc: include_str!("../../rules/rollback-required.md"),
    has_examples: true,
    build,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct RollbackRequired {
    /// sqlx's forward-only files (`<VERSION>_<description>.sql`) need no
    /// down file; `false` asks for a reversible pair everywhere.
    allow_forward_only: bool,
}

impl Default for RollbackRequired {
    fn default() -> Self {
        RollbackRequired {
            allow_forward_only: true,
        }
    }
}

fn build(config: Option<&RuleConfig>, _: &Settings) -> Result<Box<dyn Rule>, ConfigError> {
    Ok(Box::new(rule_options::<RollbackRequired>(META.id, config)?))
}

impl Rule for RollbackRequired {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        for m in set.migrations.iter().filter(|m| !m.ops_unknown) {
            // refinery has no down migrations at all.
            if m.flavour == Flavour::Sql(SqlTool::Refinery) {
                continue;
            }
            let name = cx.file_name(m.file);
            let forward_only =
                m.flavour == Flavour::Sql(SqlTool::Sqlx) && !name.ends_with(".up.sql");
            if forward_only && self.allow_forward_only {
                continue;
            }
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
                            Flavour::Sql(SqlTool::Dbmate) => (
                                "no `-- migrate:down` section: dbmate refuses to apply this migration (\"dbmate requires each migration to define a down block\")".to_string(),
                                "add a `-- migrate:down` section with the SQL that undoes the `-- migrate:up` one".to_string(),
                            ),
                            Flavour::Sql(SqlTool::Diesel) => (
                                format!("`{name}` has no `down.sql` beside it: `diesel migration revert` cannot undo it"),
                                format!("add `{}/down.sql` with the SQL that undoes `up.sql`", m.stem),
                            ),
                            Flavour::Sql(tool) if forward_only => (
                                format!("`{name}` is forward-only: `{} migrate revert` cannot undo it", tool.name()),
                                format!("rename it to `{}.up.sql` and add `{}.down.sql` with the SQL that undoes it", m.stem, m.stem),
                            ),
                            Flavour::Sql(tool) => (
                                format!("`{name}` has no `{}.down.sql`: {} cannot undo it", m.stem, tool.name()),
                                format!("add `{}.down.sql` beside it with the SQL that undoes this migration", m.stem),
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
                        let help = if why.starts_with("it raises") {
                            "write the statements that undo the upgrade; if it truly cannot be undone (data deleted), keep the `raise` and record that choice with `# miglint: ignore[rollback-required]` on the `def downgrade` line"
                        } else {
                            "write the statements that undo the upgrade (DROP TABLE IF EXISTS ..., DROP INDEX IF EXISTS ..., ALTER TABLE ... DROP COLUMN ...)"
                        };
                        cx.report(span, message)
                            .label("this undoes nothing")
                            .help(help);
                    }
                }
            }
        }
    }
}
