//! `batch-mode`: Alembic column and constraint changes must run inside
//! `op.batch_alter_table(...)` on SQLite.

use std::collections::HashSet;

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::diagnostic::Edit;
use crate::migration::{Flavour, OpKind};
use crate::project::config::Dialect;
use crate::source::Span;

pub const META: RuleMeta = RuleMeta {
    id: "batch-mode",
    severity: Severity::Error,
    summary: "Alembic column or constraint change outside `op.batch_alter_table` on SQLite",
    doc: include_str!("../../rules/batch-mode.md"),
    has_examples: true,
    build: no_options::<BatchMode>,
};

/// The `op.*` methods SQLite can only run as a batch table rebuild.
const NEEDS_BATCH: &[&str] = &[
    "add_column",
    "drop_column",
    "alter_column",
    "create_foreign_key",
    "drop_constraint",
    "create_unique_constraint",
    "create_check_constraint",
    "create_primary_key",
];

#[derive(Default)]
pub struct BatchMode;

/// Tables a batch copy may not recreate faithfully, read once per folder
/// (and only when there is something to wrap): those with an expression
/// index (`lower(email)`, `DESC`; Alembic's batch copy drops them), and
/// those an operation miglint could not read may touch.
struct Unsure {
    tables: HashSet<String>,
    /// An unread operation whose tables are unknown: any table.
    any: bool,
}

impl Unsure {
    fn of(set: &SetAnalysis) -> Unsure {
        let mut unsure = Unsure {
            tables: HashSet::new(),
            any: false,
        };
        for op in set
            .migrations
            .iter()
            .flat_map(|m| m.upgrade_ops().chain(m.downgrade_ops()))
        {
            match &op.kind {
                OpKind::CreateIndex(ix)
                    if ix
                        .columns
                        .iter()
                        .any(|c| !c.chars().all(|ch| ch.is_alphanumeric() || ch == '_')) =>
                {
                    unsure.tables.insert(ix.table.to_ascii_lowercase());
                }
                OpKind::Unread { tables, .. } if tables.is_empty() => unsure.any = true,
                OpKind::Unread { tables, .. } => {
                    unsure
                        .tables
                        .extend(tables.iter().map(|t| t.to_ascii_lowercase()));
                }
                _ => {}
            }
        }
        unsure
    }

    fn has(&self, table: &str) -> bool {
        self.any || self.tables.contains(&table.to_ascii_lowercase())
    }
}

impl Rule for BatchMode {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        if set.dialect != Dialect::Sqlite {
            return;
        }
        let mut unsure: Option<Unsure> = None;
        for m in set
            .migrations
            .iter()
            .filter(|m| m.flavour == Flavour::Alembic)
        {
            for op in m.upgrade_ops().chain(m.downgrade_ops()) {
                let Some(method) = op.call.as_deref() else {
                    continue;
                };
                if op.in_batch || op.sql.is_some() || !NEEDS_BATCH.contains(&method) {
                    continue;
                }
                let table = table_of(&op.kind).unwrap_or("<table>");
                let span = cx.first_line(op.span);
                // Alembic's batch copy reflects the table and recreates it:
                // not offered where that may lose what miglint cannot see.
                let unsure = unsure.get_or_insert_with(|| Unsure::of(set));
                let edits = if unsure.has(table) {
                    Vec::new()
                } else {
                    into_batch(cx, op.span, method).into_iter().collect()
                };
                cx.report(
                    span,
                    format!("`op.{method}` on table `{table}` outside batch mode"),
                )
                .label("SQLite cannot run this as a plain ALTER TABLE")
                .help(format!(
                    "run it in a batch, which Alembic turns into a table copy:\n\
                     with op.batch_alter_table(\"{table}\") as batch_op:\n    \
                     batch_op.{method}(...)  # same arguments, without the table name"
                ))
                .fix("run it in `op.batch_alter_table`", edits)
                .fix_new_migrations_only();
            }
        }
    }
}

/// Calls whose first argument is the table, so the batch form is the same
/// call without it.
const TABLE_FIRST: &[&str] = &["add_column", "drop_column", "alter_column"];

/// The edit that turns a statement `op.<method>("t", args...)` into
/// `with op.batch_alter_table("t") as batch_op:` + `batch_op.<method>(args...)`,
/// when the call is a whole statement on its own lines.
fn into_batch(cx: &Context, call: Span, method: &str) -> Option<Edit> {
    if !TABLE_FIRST.contains(&method) {
        return None;
    }
    let file = cx.sources.get(call.file);
    let text = &file.text;
    let start = call.start as usize;
    let indent = crate::edit::line_indent(text, start)?;
    let (open, close) = crate::edit::matching_paren(text, start)?;
    if close + 1 != call.end as usize || !text[start..open].ends_with(&format!("op.{method}")) {
        return None;
    }
    let rest_of_line = text[close + 1..].split('\n').next().unwrap_or("");
    if !rest_of_line.trim().is_empty() && !rest_of_line.trim_start().starts_with('#') {
        return None;
    }
    let comma = *crate::edit::top_level_commas(text, open, close).first()?;
    let table = text[open + 1..comma].trim();
    if table.contains('=') || table.is_empty() {
        return None;
    }
    // One argument per line stays so; continuation lines move in by one
    // level with the call.
    let raw = &text[comma + 1..close];
    let one_per_line = raw.trim_start_matches([' ', '\t']).starts_with('\n');
    let args = if one_per_line { raw } else { raw.trim_start() }.replace('\n', "\n    ");
    Some(Edit {
        span: Span::new(call.file, start, close + 1),
        text: format!(
            "with op.batch_alter_table({table}) as batch_op:\n{indent}    batch_op.{method}({args})"
        ),
    })
}

fn table_of(kind: &OpKind) -> Option<&str> {
    match kind {
        OpKind::AddColumn { table, .. }
        | OpKind::DropColumn { table, .. }
        | OpKind::AlterColumn { table, .. }
        | OpKind::AddConstraint { table, .. }
        | OpKind::DropConstraint { table, .. } => Some(table),
        _ => None,
    }
}
