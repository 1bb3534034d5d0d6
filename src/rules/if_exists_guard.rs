//! `if-exists-guard`: SQL creates need `IF NOT EXISTS`, SQL drops need `IF EXISTS`.

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::diagnostic::Edit;
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
                if sql.guarded {
                    continue;
                }
                let span = cx.first_line(op.span);
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
