//! `timestamp-columns`: every new table carries NOT NULL `created_at` and
//! `updated_at` columns (with a DEFAULT when written in SQL).

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use super::{Context, Rule, RuleMeta, Severity};
use crate::analysis::SetAnalysis;
use crate::diagnostic::Edit;
use crate::migration::{Column, OpKind};
use crate::project::config::{ConfigError, Dialect, RuleConfig, Settings, rule_options};
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

/// How the conventions declare a timestamp column in SQL, on each database.
fn timestamp_sql(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now'))",
        Dialect::Postgresql => "TIMESTAMPTZ NOT NULL DEFAULT now()",
        Dialect::Mysql => "DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)",
    }
}

/// The default that stamps a row with the time it was written.
fn now_default(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now'))",
        Dialect::Postgresql => "DEFAULT now()",
        Dialect::Mysql => "DEFAULT CURRENT_TIMESTAMP(6)",
    }
}

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

/// What the chain does to tables after they are created, read once per
/// folder (and only when a table lacks a timestamp): which tables are
/// renamed to what, which columns are added, altered, renamed or dropped,
/// and which tables are inserted into or copied by position.
#[derive(Default)]
struct Later {
    /// (from, to), lowercase.
    renames: Vec<(String, String)>,
    /// (table, column), lowercase.
    columns: HashSet<(String, String)>,
    /// Tables inserted into (`INSERT INTO t SELECT` / `VALUES` without a
    /// column list) or copied (`INSERT INTO x SELECT * FROM t`) by
    /// position, lowercase: one more column makes those statements fail.
    by_position: HashSet<String>,
}

static INTO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?is)\binsert\s+(?:or\s+\w+\s+)?into\s+["`\[]?(\w+)["`\]]?\s+(?:select|values)\b"#,
    )
    .expect("valid regex")
});
static STAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?is)\binsert\b.*\bselect\s+\*\s+from\s+["`\[]?(\w+)"#).expect("valid regex")
});

impl Later {
    fn of(set: &SetAnalysis) -> Later {
        let mut later = Later::default();
        let low = |s: &str| s.to_ascii_lowercase();
        for op in set
            .migrations
            .iter()
            .flat_map(|m| m.upgrade_ops().chain(m.downgrade_ops()))
        {
            match &op.kind {
                OpKind::RenameTable { from, to } => later.renames.push((low(from), low(to))),
                OpKind::AddColumn { table, column } => {
                    later.columns.insert((low(table), low(&column.name)));
                }
                OpKind::AlterColumn { table, column, .. }
                | OpKind::DropColumn { table, column } => {
                    later.columns.insert((low(table), low(column)));
                }
                OpKind::RenameColumn { table, from, to } => {
                    later.columns.insert((low(table), low(from)));
                    later.columns.insert((low(table), low(to)));
                }
                _ => {}
            }
            if let Some(sql) = &op.sql
                && sql
                    .statement
                    .as_bytes()
                    .windows(6)
                    .any(|w| w.eq_ignore_ascii_case(b"insert"))
            {
                for re in [&*INTO, &*STAR] {
                    for caps in re.captures_iter(&sql.statement) {
                        later.by_position.insert(low(&caps[1]));
                    }
                }
            }
        }
        later
    }

    /// `table` and every name a rename gives it later (a rebuild creates
    /// `t_new` and renames it to `t`).
    fn names_of(&self, table: &str) -> Vec<String> {
        let mut names = vec![table.to_ascii_lowercase()];
        let mut i = 0;
        while i < names.len() {
            for (from, to) in &self.renames {
                if *from == names[i] && !names.contains(to) {
                    names.push(to.clone());
                }
            }
            i += 1;
        }
        names
    }

    fn copied_by_position(&self, table: &str) -> bool {
        self.names_of(table)
            .iter()
            .any(|n| self.by_position.contains(n))
    }

    /// Whether a migration adds, alters, renames or drops `table.column`:
    /// adding it to the CREATE TABLE would collide with that, or change what
    /// it does (a guarded add that no longer runs).
    fn column_changed(&self, table: &str, column: &str) -> bool {
        let column = column.to_ascii_lowercase();
        self.names_of(table)
            .into_iter()
            .any(|t| self.columns.contains(&(t, column.clone())))
    }
}

/// The name the migration file imports SQLAlchemy under (`import
/// sqlalchemy as sa`), if it imports the module itself.
fn sqlalchemy_name(cx: &Context, at: Span) -> Option<String> {
    static IMPORT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?m)^import\s+sqlalchemy(?:\s+as\s+(\w+))?\s*(?:#.*)?$").expect("valid regex")
    });
    let caps = IMPORT.captures(&cx.sources.get(at.file).text)?;
    Some(caps.get(1).map_or("sqlalchemy", |m| m.as_str()).to_string())
}

impl Rule for TimestampColumns {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        let mut later: Option<Later> = None;
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
                                format!("add `{wanted} {}`", timestamp_sql(set.dialect))
                            } else {
                                format!(
                                    "add `sa.Column(\"{wanted}\", sa.DateTime(), nullable=False, server_default=sa.func.now())`"
                                )
                            };
                            let item = if from_sql {
                                format!("{wanted} {}", timestamp_sql(set.dialect))
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
                            let later = later.get_or_insert_with(|| Later::of(set));
                            let edits = if item.is_empty()
                                || later.copied_by_position(name)
                                || later.column_changed(name, wanted)
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
                            .help(format!("add `{}`", now_default(set.dialect)));
                        }
                        Some(_) => {}
                    }
                }
            }
        }
    }
}
