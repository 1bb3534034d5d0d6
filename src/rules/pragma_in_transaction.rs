//! `pragma-in-transaction`: `PRAGMA foreign_keys` in a migration the tool
//! runs inside a transaction, where SQLite ignores it.

use std::sync::LazyLock;

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::migration::{Flavour, SqlTool};

pub const META: RuleMeta = RuleMeta {
    id: "pragma-in-transaction",
    severity: Severity::Error,
    summary: "PRAGMA foreign_keys in a migration the tool runs in a transaction, where SQLite ignores it",
    doc: include_str!("../../rules/pragma-in-transaction.md"),
    has_examples: true,
    build: no_options::<PragmaInTransaction>,
};

#[derive(Default)]
pub struct PragmaInTransaction;

static FOREIGN_KEYS: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"(?is)^\s*PRAGMA\s+(?:\w+\s*\.\s*)?foreign_keys\s*(?:=|\()")
        .expect("valid regex")
});

impl Rule for PragmaInTransaction {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        for m in &set.migrations {
            let (Some(true), Flavour::Sql(tool)) = (m.in_transaction, m.flavour) else {
                continue;
            };
            for op in m.upgrade_ops().chain(m.downgrade_ops()) {
                let Some(sql) = &op.sql else { continue };
                if !FOREIGN_KEYS.is_match(&sql.statement) {
                    continue;
                }
                let effect = if tool == SqlTool::Sqlx {
                    " sqlx turns foreign keys on for every SQLite connection, so a table rebuilt here (create, copy, DROP TABLE, rename) fires ON DELETE CASCADE and empties the tables that reference it"
                } else {
                    " foreign keys stay as the connection had them: a table rebuilt here (create, copy, DROP TABLE, rename) runs with them on if they were on"
                };
                let span = cx.first_line(op.span);
                cx.report(
                    span,
                    format!(
                        "`PRAGMA foreign_keys` does nothing here: {} runs each migration in a transaction, and SQLite ignores this pragma inside one",
                        tool.name()
                    ),
                )
                .label("ignored inside a transaction")
                .help(format!(
                    "{effect}. To switch foreign keys off for this migration, {}; or rebuild the table without the pragma and check `PRAGMA foreign_key_check` at the end",
                    super::transaction_opt_out(m.flavour)
                ).trim_start().to_string());
            }
        }
    }
}
