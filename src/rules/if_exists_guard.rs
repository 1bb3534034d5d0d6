//! `if-exists-guard`: SQL creates need `IF NOT EXISTS`, SQL drops need `IF EXISTS`.

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::diagnostic::Edit;
use crate::project::config::Dialect;
use crate::source::Span;

pub const META: RuleMeta = RuleMeta {
    id: "if-exists-guard",
    severity: Severity::Error,
    summary: "SQL CREATE without IF NOT EXISTS, or DROP without IF EXISTS",
    doc: include_str!("../../rules/if-exists-guard.md"),
    has_examples: true,
    build: no_options::<IfExistsGuard>,
};

#[derive(Default)]
pub struct IfExistsGuard;

impl Rule for IfExistsGuard {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        for m in &set.migrations {
            for op in m.upgrade_ops().chain(m.downgrade_ops()) {
                let Some(sql) = &op.sql else { continue };
                let Some((object, name, creates)) = op.kind.object_kind() else {
                    continue;
                };
                if sql.guarded || or_replace(&sql.statement) {
                    continue;
                }
                let span = cx.first_line(op.span);
                if set.dialect == Dialect::Postgresql && creates {
                    // PostgreSQL has no `CREATE TRIGGER IF NOT EXISTS`, and
                    // takes `IF NOT EXISTS` only on a named index.
                    let help = match object {
                        "TRIGGER" => Some(format!(
                            "write `CREATE OR REPLACE TRIGGER {name}` (PostgreSQL 14 and later), or drop it first with `DROP TRIGGER IF EXISTS {name} ON ...`"
                        )),
                        "INDEX" if name.is_empty() => Some(
                            "name the index: PostgreSQL takes `IF NOT EXISTS` only with a name (`CREATE INDEX IF NOT EXISTS ix_... ON ...`)"
                                .to_string(),
                        ),
                        _ => None,
                    };
                    if let Some(help) = help {
                        cx.report(span, format!("`CREATE {object}` without a guard"))
                            .label("fails if it exists already")
                            .help(help);
                        continue;
                    }
                }
                let (verb, guard) = if creates {
                    ("CREATE", "IF NOT EXISTS")
                } else {
                    ("DROP", "IF EXISTS")
                };
                let virtual_kw =
                    if matches!(op.kind, crate::migration::OpKind::CreateVirtualTable { .. }) {
                        "VIRTUAL "
                    } else {
                        ""
                    };
                let file = cx.sources.get(op.span.file);
                let edits = crate::edit::guard_insertion(file.slice(op.span), creates)
                    .map(|at| {
                        let at = op.span.start as usize + at;
                        vec![Edit {
                            span: Span::new(op.span.file, at, at),
                            text: format!(" {guard}"),
                        }]
                    })
                    .unwrap_or_default();
                cx.report(
                    span,
                    format!("`{verb} {virtual_kw}{object}` without `{guard}`"),
                )
                .label(format!("add `{guard}`"))
                .help(format!(
                    "write `{verb} {virtual_kw}{object} {guard} {name}`"
                ))
                .fix(format!("add `{guard}`"), edits);
            }
        }
    }
}

/// `CREATE OR REPLACE ...`: guarded by its own words.
fn or_replace(statement: &str) -> bool {
    let words: Vec<String> = statement
        .split_whitespace()
        .take(3)
        .map(str::to_ascii_uppercase)
        .collect();
    words.len() == 3 && words[0] == "CREATE" && words[1] == "OR" && words[2] == "REPLACE"
}
