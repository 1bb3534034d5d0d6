//! `filtered-column-index`: every column the application filters, joins or
//! sorts on, and every foreign key column, leads some index.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Context, Rule, RuleMeta, Severity};
use crate::analysis::SetAnalysis;
use crate::diagnostic::Edit;
use crate::migration::SetFlavour;
use crate::migration::{Flavour, OpKind, Rollback};
use crate::project::config::{ConfigError, RuleConfig, Settings, rule_options};
use crate::schema::{Schema, Table};
use crate::source::Span;

pub const ID: &str = "filtered-column-index";

pub const META: RuleMeta = RuleMeta {
    id: ID,
    severity: Severity::Error,
    summary: "A column the application filters or sorts on (or a foreign key) that no index leads with",
    doc: include_str!("../../rules/filtered-column-index.md"),
    has_examples: true,
    build,
};

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct FilteredColumnIndex {
    /// More columns that must be indexed: `["table.column"]`.
    columns: Vec<String>,
}

fn build(config: Option<&RuleConfig>, _: &Settings) -> Result<Box<dyn Rule>, ConfigError> {
    let rule: FilteredColumnIndex = rule_options(ID, config)?;
    for c in &rule.columns {
        if c.split_once('.')
            .is_none_or(|(t, c)| t.is_empty() || c.is_empty())
        {
            return Err(ConfigError(format!(
                "{}: [rules.{ID}] columns: `{c}` is not `table.column`",
                config.map(|c| c.location.as_str()).unwrap_or("config")
            )));
        }
    }
    Ok(Box::new(rule))
}

/// Whether some index (or key) starts with `column`.
fn leads_an_index(schema: &Schema, table: &Table, column: &str) -> bool {
    let same = |c: &str| c.eq_ignore_ascii_case(column);
    // SQLite indexes a primary key, composite ones in their order.
    let pk = table.primary_key_columns();
    pk.first().is_some_and(|c| same(c))
        || table.column(column).is_some_and(|c| c.unique)
        || table
            .unique_constraints
            .iter()
            .any(|u| u.columns.first().is_some_and(|c| same(c)))
        || schema
            .indexes_of(&table.name)
            .any(|ix| ix.columns.first().is_some_and(|c| same(c)))
}

/// Whether the equalities `alongside` a use pin a key of `table` (its
/// primary key, a UNIQUE column, constraint or whole-table unique index):
/// SQLite then finds the row by that key, and this column needs no index
/// for that query (`WHERE id = ? AND password = ?`).
fn found_by_a_key(schema: &Schema, table: &Table, alongside: &[String]) -> bool {
    if alongside.is_empty() {
        return false;
    }
    fn all_in<S: AsRef<str>>(cols: &[S], alongside: &[String]) -> bool {
        !cols.is_empty()
            && cols
                .iter()
                .all(|c| alongside.iter().any(|a| a.eq_ignore_ascii_case(c.as_ref())))
    }
    let pinned = |cols: &[String]| all_in(cols, alongside);
    all_in(&table.primary_key_columns(), alongside)
        || alongside
            .iter()
            .any(|a| table.column(a).is_some_and(|c| c.unique))
        || table.unique_constraints.iter().any(|u| pinned(&u.columns))
        || schema
            .indexes_of(&table.name)
            .any(|ix| ix.unique && ix.where_clause.is_none() && pinned(&ix.columns))
}

/// Why a column needs an index: the first query using it (and how many), or
/// that it is a foreign key, or that the configuration says so.
enum Reason {
    Query { span: Span, count: usize },
    ForeignKey,
    Configured,
}

impl Rule for FilteredColumnIndex {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        let schema = &set.replay.schema;
        let mut wanted: BTreeMap<(String, String), Reason> = BTreeMap::new();
        for u in &set.queries {
            let key = (u.table.to_ascii_lowercase(), u.column.to_ascii_lowercase());
            if schema
                .tables
                .get(&key.0)
                .is_some_and(|t| found_by_a_key(schema, t, &u.alongside))
            {
                continue;
            }
            match wanted.get_mut(&key) {
                Some(Reason::Query { count, .. }) => *count += 1,
                Some(_) => {}
                None => {
                    wanted.insert(
                        key,
                        Reason::Query {
                            span: u.span,
                            count: 1,
                        },
                    );
                }
            }
        }
        for t in schema.tables.values() {
            for fk in &t.foreign_keys {
                if let Some(c) = fk.columns.first() {
                    wanted
                        .entry((t.name.to_ascii_lowercase(), c.to_ascii_lowercase()))
                        .or_insert(Reason::ForeignKey);
                }
            }
        }
        for c in &self.columns {
            if let Some((t, col)) = c.split_once('.') {
                wanted
                    .entry((t.to_ascii_lowercase(), col.to_ascii_lowercase()))
                    .or_insert(Reason::Configured);
            }
        }
        for ((table, column), reason) in wanted {
            let Some(t) = schema.tables.get(&table) else {
                continue;
            };
            if t.virtual_module.is_some() {
                continue;
            }
            let Some(col) = t.column(&column) else {
                continue;
            };
            if leads_an_index(schema, t, &column) {
                continue;
            }
            let (t_name, c_name) = (t.name.clone(), col.name.clone());
            let help = match set.flavour {
                SetFlavour::Alembic => format!(
                    "add `op.create_index(\"ix_{t_name}_{c_name}\", \"{t_name}\", [\"{c_name}\"])` (with `op.drop_index` in the downgrade)"
                ),
                SetFlavour::Yoyo | SetFlavour::Sql(_) => format!(
                    "add `CREATE INDEX IF NOT EXISTS idx_{t_name}_{c_name} ON {t_name}({c_name})` (rollback: `DROP INDEX IF EXISTS idx_{t_name}_{c_name}`)"
                ),
            };
            let origin = col.origin;
            let known_origin = origin.end > origin.start;
            let (primary, why) = match &reason {
                Reason::Query { span, count } => {
                    let more = if *count > 1 {
                        format!(" ({} places)", count)
                    } else {
                        String::new()
                    };
                    (
                        if known_origin {
                            cx.first_line(origin)
                        } else {
                            *span
                        },
                        format!(
                            "`{t_name}.{c_name}` is filtered or sorted on{more} but no index starts with it"
                        ),
                    )
                }
                Reason::ForeignKey => (
                    cx.first_line(origin),
                    format!("foreign key column `{t_name}.{c_name}` has no index"),
                ),
                Reason::Configured => (
                    cx.first_line(origin),
                    format!(
                        "`{t_name}.{c_name}` must be indexed (configured) but no index starts with it"
                    ),
                ),
            };
            let edits = if known_origin {
                index_fix(set, cx, &t_name, &c_name, origin)
            } else {
                Vec::new()
            };
            let d = cx.report(primary, why);
            d.label("created here");
            d.fix(
                "create the index in the migration that adds the column",
                edits,
            );
            if let Reason::Query { span, .. } = reason
                && known_origin
            {
                d.secondary(span, "used here");
            }
            d.help(help);
        }
    }
}

/// Edits that create the index in the migration that added the column (and
/// drop it in its rollback). Offered only with `--base`, for a migration
/// that is not on the base branch yet: a merged one is never rewritten.
fn index_fix(
    set: &SetAnalysis,
    cx: &Context,
    table: &str,
    column: &str,
    origin: Span,
) -> Vec<Edit> {
    let Some(base) = &set.base else {
        return Vec::new();
    };
    let Some(m) = set.migrations.iter().find(|m| m.file == origin.file) else {
        return Vec::new();
    };
    let name = cx.file_name(m.file);
    if base.files.iter().any(|(n, _)| *n == name) {
        return Vec::new();
    }
    let Some((step, op)) = m.steps.iter().find_map(|s| {
        s.apply
            .iter()
            .find(|o| o.span.start <= origin.start && origin.start < o.span.end)
            .map(|o| (s, o))
    }) else {
        return Vec::new();
    };
    let dropped_here = |o: &&crate::migration::Operation| match &o.kind {
        OpKind::DropTable { name } => name.eq_ignore_ascii_case(table),
        OpKind::DropColumn {
            table: t,
            column: c,
        } => t.eq_ignore_ascii_case(table) && c.eq_ignore_ascii_case(column),
        _ => false,
    };
    let file = cx.sources.get(op.span.file);
    let text = &file.text;
    let at = |pos: usize, text: String| Edit {
        span: Span::new(op.span.file, pos, pos),
        text,
    };
    match m.flavour {
        Flavour::Alembic => {
            let ix = format!("ix_{table}_{column}");
            let (Some(indent), Some(end)) = (
                crate::edit::line_indent(text, op.span.start as usize),
                crate::edit::statement_line_end(text, op.span.end as usize),
            ) else {
                return Vec::new();
            };
            let Some(drop) = m.downgrade_ops().find(dropped_here) else {
                return Vec::new();
            };
            let Some(drop_indent) = crate::edit::line_indent(text, drop.span.start as usize) else {
                return Vec::new();
            };
            let receiver = |o: &crate::migration::Operation| -> String {
                let call = &text[o.span.start as usize..o.span.end as usize];
                call.split('.').next().unwrap_or("op").trim().to_string()
            };
            let (create, dropping) = if op.in_batch {
                (
                    format!("{}.create_index(\"{ix}\", [\"{column}\"])", receiver(op)),
                    if drop.in_batch {
                        format!("{}.drop_index(\"{ix}\")", receiver(drop))
                    } else {
                        format!("op.drop_index(\"{ix}\", table_name=\"{table}\")")
                    },
                )
            } else {
                (
                    format!("op.create_index(\"{ix}\", \"{table}\", [\"{column}\"])"),
                    if drop.in_batch {
                        format!("{}.drop_index(\"{ix}\")", receiver(drop))
                    } else {
                        format!("op.drop_index(\"{ix}\", table_name=\"{table}\")")
                    },
                )
            };
            let drop_line = drop.span.start as usize - drop_indent.len();
            vec![
                at(end, format!("\n{indent}{create}")),
                at(drop_line, format!("{drop_indent}{dropping}\n")),
            ]
        }
        Flavour::YoyoSql | Flavour::Sql(_) => {
            let ix = format!("idx_{table}_{column}");
            let after = op.span.end as usize;
            let semicolon = text[after..]
                .find(|c: char| !c.is_whitespace())
                .filter(|&n| text[after + n..].starts_with(';'))
                .map(|n| after + n + 1);
            let create = format!("CREATE INDEX IF NOT EXISTS {ix} ON {table}({column});");
            let mut edits = vec![match semicolon {
                Some(p) => at(p, format!("\n\n{create}")),
                None => at(after, format!(";\n\n{create}")),
            }];
            // The rollback drops the index before anything else.
            let Rollback::Ops { ops, .. } = &step.rollback else {
                return Vec::new();
            };
            let Some(first) = ops.first() else {
                return Vec::new();
            };
            let rb = cx.sources.get(first.span.file);
            let Some(indent) = crate::edit::line_indent(&rb.text, first.span.start as usize) else {
                return Vec::new();
            };
            let line = first.span.start as usize - indent.len();
            edits.push(Edit {
                span: Span::new(first.span.file, line, line),
                text: format!("DROP INDEX IF EXISTS {ix};\n\n"),
            });
            edits
        }
        Flavour::YoyoPy => {
            let ix = format!("idx_{table}_{column}");
            let call_end = step.span.end as usize;
            if !text[step.span.start as usize..].starts_with("step") {
                return Vec::new();
            }
            let Some(indent) = crate::edit::line_indent(text, step.span.start as usize) else {
                return Vec::new();
            };
            let comma = text[call_end..]
                .find(|c: char| !c.is_whitespace())
                .filter(|&n| text[call_end + n..].starts_with(','))
                .map(|n| call_end + n + 1);
            let new_step = format!(
                "{indent}step(\n{indent}    \"CREATE INDEX IF NOT EXISTS {ix} ON {table}({column})\",\n{indent}    \"DROP INDEX IF EXISTS {ix}\",\n{indent}),"
            );
            vec![match comma {
                Some(p) => at(p, format!("\n{new_step}")),
                None => at(call_end, format!(",\n{new_step}")),
            }]
        }
    }
}
