//! `sqlite-exec`: a statement real SQLite rejects when the chain runs.

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::project::config::Dialect;

pub const ID: &str = "sqlite-exec";

pub const META: RuleMeta = RuleMeta {
    id: ID,
    severity: Severity::Error,
    summary: "A statement SQLite rejects when a migration is applied, rolled back and applied again",
    doc: include_str!("../../rules/sqlite-exec.md"),
    has_examples: true,
    build: no_options::<SqliteExec>,
};

#[derive(Default)]
pub struct SqliteExec;

impl Rule for SqliteExec {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        if set.dialect != Dialect::Sqlite {
            return;
        }
        // Run while the set was built when the run knew this rule was on;
        // else now.
        let ran_now;
        let failures = match &set.sql_failures {
            Some(failures) => failures,
            None => {
                ran_now = crate::schema::exec::execute(
                    set,
                    &set.start,
                    cx.sources,
                    cx.settings.cache_dir.as_deref(),
                );
                &ran_now
            }
        };
        for f in failures {
            let span = cx.first_line(f.span);
            let report = cx.report(span, format!("SQLite: {}", f.message));
            match f.phase.strip_suffix(" with rows") {
                Some(phase) => report
                    .label(format!("while {phase} {} on a table holding rows", f.migration))
                    .help("SQLite accepts this statement on an empty table and refuses it once the table holds a row, as it will in any database in use: add the column without the default (or with a constant one) and fill it with an UPDATE, or (Alembic) add it in `op.batch_alter_table`, which rebuilds the table"),
                None => report
                    .label(format!("while {} {}", f.phase, f.migration))
                    .help("miglint ran this migration in SQLite on the schema the earlier migrations build: apply, roll back, apply again; it stopped at this statement"),
            };
        }
    }
}
