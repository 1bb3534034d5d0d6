//! `table-rewrite`: on PostgreSQL, an ALTER that rewrites a table in use
//! under an ACCESS EXCLUSIVE lock.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::shown;
use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::migration::{OpKind, Operation};

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
        let live: Vec<(&Operation, String)> = set
            .on_live_tables()
            .into_iter()
            .map(|(_, op, table)| (op, table))
            .collect();
        // Each column's type as the chain has declared it so far, to tell
        // a widening (no rewrite) from a change that copies the table.
        let mut types: HashMap<(String, String), String> = HashMap::new();
        let key = |t: &str, c: &str| (t.to_ascii_lowercase(), c.to_ascii_lowercase());
        for op in set.ordered().flat_map(|m| m.upgrade_ops()) {
            let table = live
                .iter()
                .find(|(l, _)| std::ptr::eq(*l, op))
                .map(|(_, t)| t.clone());
            let why = match &op.kind {
                OpKind::CreateTable { name, columns, .. } => {
                    for c in columns {
                        if let Some(t) = &c.type_name {
                            types.insert(key(name, &c.name), t.clone());
                        }
                    }
                    None
                }
                OpKind::AlterColumn {
                    table: t,
                    column,
                    changes,
                } => {
                    let Some(new) = &changes.type_name else {
                        continue;
                    };
                    let old = types.insert(key(t, column), new.clone());
                    let rewrites = match (old.as_deref().map(text_type), text_type(new)) {
                        // A longer or unbounded text type keeps the data as it is.
                        (Some(Some(old)), Some(new)) => !widens(old, new),
                        // Which text type it was is not known: not judged.
                        (None, Some(_)) => false,
                        _ => true,
                    };
                    (rewrites && table.is_some()).then(|| {
                        format!(
                            "changing the type of `{column}` rewrites {} and its indexes",
                            shown(table.as_deref().unwrap_or(""))
                        )
                    })
                }
                OpKind::AddColumn { table: t, column } => {
                    if let Some(ty) = &column.type_name {
                        types.insert(key(t, &column.name), ty.clone());
                    }
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
                    match &table {
                        Some(table) if serial => Some(format!(
                            "adding `{}` as a serial or identity column fills every row of {}",
                            column.name,
                            shown(table)
                        )),
                        Some(table) if volatile => Some(format!(
                            "adding `{}` with a volatile default writes every row of {}",
                            column.name,
                            shown(table)
                        )),
                        _ => None,
                    }
                }
                _ => None,
            };
            let Some(why) = why else { continue };
            let span = cx.first_line(op.span);
            cx.report(span, why)
                .label("the table is rewritten under an ACCESS EXCLUSIVE lock")
                .help("add a new column, fill it in batches, and switch to it; or run this when the table may be locked for as long as a full copy takes");
        }
    }
}

/// A text type's length limit: `Some(None)` unbounded (`text`,
/// `varchar`, `sa.Text()`, `sa.String()`), `Some(Some(n))` for
/// `varchar(n)` / `sa.String(n)`; `None` for any other type.
fn text_type(ty: &str) -> Option<Option<u32>> {
    let t: String = ty
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let t = t
        .trim_start_matches("sa.")
        .trim_start_matches("sqlalchemy.")
        .trim_start_matches("postgresql.");
    let (name, args) = match t.split_once('(') {
        Some((n, rest)) => (n, rest.trim_end_matches(')')),
        None => (t, ""),
    };
    match name {
        "text" | "unicodetext" => Some(None),
        "varchar" | "charactervarying" | "string" | "unicode" => {
            let length = args
                .split(',')
                .next()
                .unwrap_or("")
                .trim_start_matches("length=");
            if length.is_empty() {
                Some(None)
            } else {
                length.parse().ok().map(Some)
            }
        }
        _ => None,
    }
}

/// Whether PostgreSQL changes `old` to `new` without touching the rows:
/// to an unbounded text type, or to a longer limit.
fn widens(old: Option<u32>, new: Option<u32>) -> bool {
    match (old, new) {
        (_, None) => true,
        (Some(a), Some(b)) => b >= a,
        (None, Some(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a PostgreSQL 16 server rewrote (its file node changed) and
    /// what it did not.
    #[test]
    fn widening_a_text_type_is_no_rewrite() {
        let change =
            |old: &str, new: &str| widens(text_type(old).unwrap(), text_type(new).unwrap());
        assert!(change("varchar(20)", "varchar(40)"));
        assert!(change("VARCHAR(20)", "text"));
        assert!(change("text", "text"));
        assert!(change("sa.String(20)", "sa.Text()"));
        assert!(!change("text", "varchar(50)"));
        assert!(!change("varchar(20)", "varchar(10)"));
        assert_eq!(text_type("bigint"), None);
    }
}
