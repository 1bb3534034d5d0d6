//! `version-order`: a SQL-folder tool's versions are unique, and a new
//! migration's version is above everything already merged (with `--base`).

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::layout::SqlTool;
use crate::migration::Migration;
use crate::source::Span;

pub const META: RuleMeta = RuleMeta {
    id: "version-order",
    severity: Severity::Error,
    summary: "Two sqlx / diesel / refinery / golang-migrate / dbmate migrations share a version, or a new one sorts before what is merged",
    doc: include_str!("../../rules/version-order.md"),
    has_examples: true,
    build: no_options::<VersionOrder>,
};

#[derive(Default)]
pub struct VersionOrder;

/// What a database that already ran the base's last migration does with a
/// new one that sorts before it.
fn late_effect(tool: SqlTool) -> &'static str {
    match tool {
        SqlTool::GolangMigrate => {
            "golang-migrate records only the latest version, so databases already past it never run it"
        }
        SqlTool::Refinery => {
            "refinery refuses to run a migration below the last applied version (or, told to go on, runs it out of order)"
        }
        _ => {
            "databases already past it run it out of order, after migrations it was written before"
        }
    }
}

impl Rule for VersionOrder {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        let Some(tool) = set.flavour.tool() else {
            return;
        };
        let ms = &set.migrations;
        // Sorted by version already (chain stage): equal versions are neighbours.
        for pair in ms.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if a.id_str() != b.id_str() {
                continue;
            }
            let next = renamed(cx, tool, b, &next_version(tool, ms));
            cx.report(
                Span::new(b.file, 0, 0),
                format!(
                    "two migrations have version {}: `{}` and `{}`",
                    b.id_str(),
                    cx.file_name(a.file),
                    cx.file_name(b.file)
                ),
            )
            .secondary(Span::new(a.file, 0, 0), "same version here")
            .help(format!(
                "{} keeps one row per version: give the later one a version after the last, as `{}`",
                tool.name(),
                next
            ));
        }

        let Some(base) = &set.base else { return };
        let Some(top) = base.migrations.migrations.iter().max_by(|a, b| {
            tool.version_key(a.id_str())
                .cmp(&tool.version_key(b.id_str()))
        }) else {
            return;
        };
        let merged: Vec<&str> = base
            .migrations
            .migrations
            .iter()
            .map(|m| m.id_str())
            .collect();
        for m in ms {
            if merged.contains(&m.id_str())
                || tool.version_key(m.id_str()) >= tool.version_key(top.id_str())
            {
                continue;
            }
            let next = renamed(cx, tool, m, &next_version(tool, std::slice::from_ref(top)));
            cx.report(
                Span::new(m.file, 0, 0),
                format!(
                    "`{}` is new, but its version {} sorts before {} (`{}`), already on {}",
                    cx.file_name(m.file),
                    m.id_str(),
                    top.id_str(),
                    top.stem,
                    base.label
                ),
            )
            .help(format!(
                "{}: give it a version after {}, as `{}`{}",
                late_effect(tool),
                top.id_str(),
                next,
                if m.rollback_file.is_some() && tool != SqlTool::Diesel {
                    " (and its down file)"
                } else {
                    ""
                }
            ));
        }
    }
}

/// The name migration `m` takes with version `version`: the file name, or
/// diesel's folder name.
fn renamed(cx: &Context, tool: SqlTool, m: &Migration, version: &str) -> String {
    let name = cx.file_name(m.file);
    let description = tool.parse(&name).map(|p| p.description).unwrap_or_default();
    let (file, _) = tool.file_names(version, &description);
    match tool {
        SqlTool::Diesel => file.trim_end_matches("/up.sql").to_string(),
        _ if name.ends_with(".up.sql") => file,
        _ => file.replace(".up.sql", ".sql"),
    }
}

/// The version after the highest one in `ms`, at the same width.
fn next_version(tool: SqlTool, ms: &[Migration]) -> String {
    let last = ms
        .iter()
        .map(|m| m.id_str())
        .max_by_key(|v| tool.version_key(v))
        .unwrap_or("0");
    let next = last.parse::<u128>().map(|n| n + 1).unwrap_or(1);
    format!("{next:0width$}", width = last.len())
}
