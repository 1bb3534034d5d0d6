//! `no-virtual-tables`: virtual tables are created at run time, not in migrations.

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::migration::OpKind;

pub const META: RuleMeta = RuleMeta {
    id: "no-virtual-tables",
    severity: Severity::Warning,
    summary: "CREATE VIRTUAL TABLE in a migration (sqlite-vec and FTS tables are created at run time)",
    doc: include_str!("../../rules/no-virtual-tables.md"),
    has_examples: true,
    build: no_options::<NoVirtualTables>,
};

#[derive(Default)]
pub struct NoVirtualTables;

impl Rule for NoVirtualTables {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        for m in &set.migrations {
            for op in m.upgrade_ops() {
                if let OpKind::CreateVirtualTable { name, module } = &op.kind {
                    let span = cx.first_line(op.span);
                    cx.report(span, format!("virtual table `{name}` (USING {module}) created in a migration"))
                        .label("needs the extension loaded wherever migrations run")
                        .help("create it when the application starts, after loading the extension, with CREATE VIRTUAL TABLE IF NOT EXISTS");
                }
            }
        }
    }
}
