//! `sqlite-types`: SQL column types outside SQLite's storage classes.

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::migration::{Column, OpKind};
use crate::project::config::Dialect;
use crate::sqlite::affinity;

pub const META: RuleMeta = RuleMeta {
    id: "sqlite-types",
    severity: Severity::Warning,
    summary: "SQL column type outside SQLite's TEXT, INTEGER, REAL, BLOB, NUMERIC",
    doc: include_str!("../../rules/sqlite-types.md"),
    has_examples: true,
    build: no_options::<SqliteTypes>,
};

const STORAGE_CLASSES: &[&str] = &["TEXT", "INTEGER", "REAL", "BLOB", "NUMERIC"];

#[derive(Default)]
pub struct SqliteTypes;

impl Rule for SqliteTypes {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        if set.dialect != Dialect::Sqlite {
            return;
        }
        for m in &set.migrations {
            for op in m.upgrade_ops() {
                if op.sql.is_none() {
                    continue;
                }
                let columns: Vec<&Column> = match &op.kind {
                    OpKind::CreateTable { columns, .. } => columns.iter().collect(),
                    OpKind::AddColumn { column, .. } => vec![column],
                    _ => continue,
                };
                for c in columns {
                    let Some(ty) = &c.type_name else { continue };
                    let base = ty
                        .split('(')
                        .next()
                        .unwrap_or(ty)
                        .trim()
                        .to_ascii_uppercase();
                    if STORAGE_CLASSES.contains(&base.as_str()) {
                        continue;
                    }
                    let class = affinity(ty);
                    let span = cx.first_line(c.span);
                    cx.report(span, format!("column `{}` is declared `{ty}`, not a SQLite storage class", c.name))
                        .label(format!("SQLite stores it with {class} affinity"))
                        .help(format!("declare it `{class}`: SQLite enforces no length or precision, so the wider type only misleads"));
                }
            }
        }
    }
}
