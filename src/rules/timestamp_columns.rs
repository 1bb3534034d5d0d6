//! `timestamp-columns`: every new table carries NOT NULL `created_at` and
//! `updated_at` columns (with a DEFAULT when written in SQL).

use serde::Deserialize;

use super::{Context, Rule, RuleMeta, Severity};
use crate::analysis::SetAnalysis;
use crate::diagnostic::Edit;
use crate::migration::{Column, OpKind};
use crate::project::config::{ConfigError, RuleConfig, Settings, rule_options};
use crate::source::Span;

pub const META: RuleMeta = RuleMeta {
    id: "timestamp-columns",
    severity: Severity::Error,
    summary: "A new table lacks NOT NULL created_at / updated_at columns",
    doc: include_str!("../../rules/timestamp-columns.md"),
    has_examples: true,
    build,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct TimestampColumns {
    /// The columns every table must have.
    columns: Vec<String>,
    /// Tables exempt from the rule (association tables, caches).
    ignore_tables: Vec<String>,
}

impl Default for TimestampColumns {
    fn default() -> Self {
        TimestampColumns {
            columns: vec!["created_at".into(), "updated_at".into()],
            ignore_tables: Vec::new(),
        }
    }
}

fn build(config: Option<&RuleConfig>, _: &Settings) -> Result<Box<dyn Rule>, ConfigError> {
    Ok(Box::new(rule_options::<TimestampColumns>(META.id, config)?))
}

/// How the conventions declare a timestamp column in SQL.
const TIMESTAMP_SQL: &str = "TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now'))";

/// The edit that adds `item` after the last column of the table created by
/// the statement or call at `at` (none when its layout is not understood).
fn add_to_table(cx: &Context, at: Span, columns: &[Column], item: &str) -> Vec<Edit> {
    let file = cx.sources.get(at.file);
    let Some(last) = columns
        .iter()
        .filter(|c| c.span.file == at.file)
        .max_by_key(|c| c.span.start)
    else {
        return Vec::new();
    };
    match crate::edit::matching_paren(&file.text, at.start as usize) {
        Some(parens) if parens.1 <= at.end as usize && parens.0 < last.span.start as usize => {
            vec![crate::edit::insert_item_after(
                file,
                at.file,
                parens,
                last.span.start as usize,
                item,
            )]
        }
        _ => Vec::new(),
    }
}

/// `table` and every name a rename gives it later (a rebuild creates
/// `t_new` and renames it to `t`).
fn names_of(set: &SetAnalysis, table: &str) -> Vec<String> {
    let mut names = vec![table.to_string()];
    loop {
        let more: Vec<String> = set
            .migrations
            .iter()
            .flat_map(|m| m.upgrade_ops())
            .filter_map(|op| match &op.kind {
                OpKind::RenameTable { from, to }
                    if names.iter().any(|n| n.eq_ignore_ascii_case(from))
                        && !names.iter().any(|n| n.eq_ignore_ascii_case(to)) =>
                {
                    Some(to.clone())
                }
                _ => None,
            })
            .collect();
        if more.is_empty() {
            return names;
        }
        names.extend(more);
    }
}

/// Whether a migration of the set inserts into `table` by position
/// (`INSERT INTO t SELECT ...` / `VALUES` without a column list) or copies
/// all its columns by position (`INSERT INTO x SELECT * FROM t`): one more
/// column in `table` makes those statements fail.
fn copied_by_position(set: &SetAnalysis, table: &str) -> bool {
    names_of(set, table)
        .iter()
        .any(|name| copied_by_position_as(set, name))
}

fn copied_by_position_as(set: &SetAnalysis, table: &str) -> bool {
    let name = regex::escape(table);
    let quoted = format!(r#"["`\[]?{name}["`\]]?"#);
    let Ok(into) = regex::Regex::new(&format!(
        r"(?is)\binsert\s+(or\s+\w+\s+)?into\s+{quoted}\s+(select|values)\b"
    )) else {
        return false;
    };
    let Ok(star) = regex::Regex::new(&format!(
        r"(?is)\binsert\b.*\bselect\s+\*\s+from\s+{quoted}(\s|;|$)"
    )) else {
        return false;
    };
    set.migrations
        .iter()
        .flat_map(|m| m.upgrade_ops().chain(m.downgrade_ops()))
        .filter_map(|op| op.sql.as_ref())
        .any(|sql| into.is_match(&sql.statement) || star.is_match(&sql.statement))
}

/// Whether any migration of the set adds, alters, renames or drops
/// `table.column`: adding it to the CREATE TABLE would collide with that,
/// or change what it does (a guarded add that no longer runs).
fn column_changed_later(set: &SetAnalysis, table: &str, column: &str) -> bool {
    let names = names_of(set, table);
    let is_table = |t: &str| names.iter().any(|n| n.eq_ignore_ascii_case(t));
    set.migrations
        .iter()
        .flat_map(|m| m.upgrade_ops().chain(m.downgrade_ops()))
        .any(|op| match &op.kind {
            OpKind::AddColumn {
                table: t,
                column: c,
            } => is_table(t) && c.name.eq_ignore_ascii_case(column),
            OpKind::AlterColumn {
                table: t,
                column: c,
                ..
            }
            | OpKind::DropColumn {
                table: t,
                column: c,
            } => is_table(t) && c.eq_ignore_ascii_case(column),
            OpKind::RenameColumn { table: t, from, to } => {
                is_table(t)
                    && (from.eq_ignore_ascii_case(column) || to.eq_ignore_ascii_case(column))
            }
            _ => false,
        })
}

/// The name the migration file imports SQLAlchemy under (`import
/// sqlalchemy as sa`), if it imports the module itself.
fn sqlalchemy_name(cx: &Context, at: Span) -> Option<String> {
    static IMPORT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?m)^import\s+sqlalchemy(?:\s+as\s+(\w+))?\s*(?:#.*)?$")
            .expect("valid regex")
    });
    let caps = IMPORT.captures(&cx.sources.get(at.file).text)?;
    Some(caps.get(1).map_or("sqlalchemy", |m| m.as_str()).to_string())
}

impl Rule for TimestampColumns {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        for m in &set.migrations {
            for op in m.upgrade_ops() {
                let OpKind::CreateTable { name, columns, .. } = &op.kind else {
                    continue;
                };
                if self.ignore_tables.iter().any(|t| t == name) {
                    continue;
                }
                let from_sql = op.sql.is_some();
                for wanted in &self.columns {
                    match columns.iter().find(|c| c.name.eq_ignore_ascii_case(wanted)) {
                        None => {
                            let span = cx.first_line(op.span);
                            let help = if from_sql {
                                format!("add `{wanted} {TIMESTAMP_SQL}`")
                            } else {
                                format!(
                                    "add `sa.Column(\"{wanted}\", sa.DateTime(), nullable=False, server_default=sa.func.now())`"
                                )
                            };
                            let item = if from_sql {
                                format!("{wanted} {TIMESTAMP_SQL}")
                            } else {
                                format!(
                                    "sa.Column(\"{wanted}\", sa.DateTime(), nullable=False, server_default=sa.func.now())"
                                )
                            };
                            // Adding a column breaks a later copy of the
                            // table by position: no fix then.
                            // Nor when a migration changes that column
                            // itself, or the file has no `sqlalchemy` name
                            // to write the column with.
                            let item = match sqlalchemy_name(cx, op.span) {
                                Some(sa) if !from_sql => item.replace("sa.", &format!("{sa}.")),
                                None if !from_sql => String::new(),
                                _ => item,
                            };
                            let edits = if item.is_empty()
                                || copied_by_position(set, name)
                                || column_changed_later(set, name, wanted)
                            {
                                Vec::new()
                            } else {
                                add_to_table(cx, op.span, columns, &item)
                            };
                            cx.report(span, format!("table `{name}` has no `{wanted}` column"))
                                .label(format!("`{wanted}` missing"))
                                .help(help)
                                .fix(format!("add `{wanted}`"), edits);
                        }
                        Some(col) if col.nullable => {
                            cx.report(
                                cx.first_line(col.span),
                                format!("`{name}.{wanted}` may be NULL"),
                            )
                            .label("declared without NOT NULL")
                            .help(if from_sql {
                                "declare it `NOT NULL` with a DEFAULT".to_string()
                            } else {
                                "pass `nullable=False`".to_string()
                            });
                        }
                        Some(col) if from_sql && col.default.is_none() => {
                            cx.report(
                                cx.first_line(col.span),
                                format!("`{name}.{wanted}` has no DEFAULT"),
                            )
                            .label("rows inserted without it would fail")
                            .help("add `DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now'))`");
                        }
                        Some(_) => {}
                    }
                }
            }
        }
    }
}
