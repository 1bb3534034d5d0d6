//! `table-rewrite`: on PostgreSQL, an ALTER that rewrites a table in use
//! under an ACCESS EXCLUSIVE lock.

use std::sync::LazyLock;

use super::postgres::{on_live_tables, shown};
use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::migration::OpKind;

pub const META: RuleMeta = RuleMeta {
    id: "table-rewrite",
    severity: Severity::Warning,
    summary: "PostgreSQL ALTER that rewrites a table in use: a type change, a volatile default, a serial column",
    doc: include_str!("../../rules/table-rewrite.md"),
    has_examples: true,
    build: no_options::<TableRewrite>,
};

#[derive(Default)]
pub struct TableRewrite;

/// Defaults PostgreSQL computes per row, so adding a column with one
/// writes every row (constant defaults are stored once, since 11).
static VOLATILE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)\b(random|gen_random_uuid|uuid_generate_v[14]|clock_timestamp|timeofday|nextval|txid_current)\s*\(|uuid4|uuid\.uuid",
    )
    .expect("valid regex")
});

impl Rule for TableRewrite {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        for (_, op, table) in on_live_tables(set) {
            let why = match &op.kind {
                OpKind::AlterColumn {
                    column, changes, ..
                } if changes.type_name.is_some() => format!(
                    "changing the type of `{column}` rewrites {} and its indexes",
                    shown(&table)
                ),
                OpKind::AddColumn { column, .. } => {
                    let ty = column
                        .type_name
                        .as_deref()
                        .unwrap_or("")
                        .to_ascii_lowercase();
                    let serial = ty.contains("serial") || ty.contains("identity");
                    let volatile = column
                        .default
                        .as_deref()
                        .is_some_and(|d| VOLATILE.is_match(d));
                    if serial {
                        format!(
                            "adding `{}` as a serial or identity column fills every row of {}",
                            column.name,
                            shown(&table)
                        )
                    } else if volatile {
                        format!(
                            "adding `{}` with a volatile default writes every row of {}",
                            column.name,
                            shown(&table)
                        )
                    } else {
                        continue;
                    }
                }
                _ => continue,
            };
            let span = cx.first_line(op.span);
            cx.report(span, why)
                .label("the table is rewritten under an ACCESS EXCLUSIVE lock")
                .help("add a new column, fill it in batches, and switch to it; or run this when the table may be locked for as long as a full copy takes");
        }
    }
}
