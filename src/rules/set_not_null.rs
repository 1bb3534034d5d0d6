//! `set-not-null`: on PostgreSQL, `SET NOT NULL` on a column of a table in
//! use with no validated check that proves it first.

use super::shown;
use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::migration::{ConstraintKind, OpKind};

pub const META: RuleMeta = RuleMeta {
    id: "set-not-null",
    severity: Severity::Warning,
    summary: "PostgreSQL SET NOT NULL on a table in use without a validated CHECK (col IS NOT NULL) first",
    doc: include_str!("../../rules/set-not-null.md"),
    has_examples: true,
    build: no_options::<SetNotNull>,
};

#[derive(Default)]
pub struct SetNotNull;

impl Rule for SetNotNull {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        // Checks the chain adds (`CHECK (col IS NOT NULL)`), as written.
        let checks: Vec<(String, String)> = set
            .migrations
            .iter()
            .flat_map(|m| m.upgrade_ops())
            .filter_map(|op| match &op.kind {
                OpKind::AddConstraint { table, constraint }
                    if constraint.kind == ConstraintKind::Check =>
                {
                    let text = match &op.sql {
                        Some(sql) => sql.statement.clone(),
                        None => cx.text(op.span).to_string(),
                    };
                    Some((table.to_ascii_lowercase(), squeeze(&text)))
                }
                _ => None,
            })
            .collect();
        for (_, op, table) in set.on_live_tables() {
            let OpKind::AlterColumn {
                column, changes, ..
            } = &op.kind
            else {
                continue;
            };
            if changes.nullable != Some(false) {
                continue;
            }
            let proof = format!("{}isnotnull", column.to_ascii_lowercase());
            if checks
                .iter()
                .any(|(t, text)| *t == table.to_ascii_lowercase() && text.contains(&proof))
            {
                continue;
            }
            let span = cx.first_line(op.span);
            cx.report(
                span,
                format!(
                    "`SET NOT NULL` on `{column}` reads all of {} under an ACCESS EXCLUSIVE lock",
                    shown(&table)
                ),
            )
            .label("every read and write waits for the scan")
            .help(format!(
                "first add `CHECK ({column} IS NOT NULL) NOT VALID` and `VALIDATE CONSTRAINT` it (writes go on meanwhile); PostgreSQL 12+ then sets NOT NULL without a scan, and the check can be dropped"
            ));
        }
    }
}

/// Lowercase, without spaces, quotes or brackets: `CHECK ("a" IS NOT NULL)`
/// → `check(aisnotnull)`.
fn squeeze(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '"' | '`' | '[' | ']'))
        .flat_map(char::to_lowercase)
        .collect()
}
