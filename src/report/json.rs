//! `--format json`: a stable contract, version 1.

use std::io::Write;

use serde::Serialize;

use crate::report::Outcome;

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    /// What was left unchecked (absent when nothing was).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<JsonNote<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    rule: &'a str,
    severity: &'a str,
    path: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
    help: Option<&'a str>,
    /// The finding's fix, if it has one.
    fix: Option<JsonFix<'a>>,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    title: &'a str,
    /// `safe` (applied by `--fix`) or `unsafe` (edits a migration already
    /// applied: only with `--unsafe-fixes`).
    applicability: &'a str,
}

#[derive(Serialize)]
struct JsonNote<'a> {
    path: &'a str,
    line: usize,
    column: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    errors: usize,
    warnings: usize,
    skipped: usize,
}

pub fn write(outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    let diagnostics = outcome
        .diagnostics
        .iter()
        .map(|d| {
            let (start, end) = super::positions(outcome, d);
            JsonDiagnostic {
                rule: d.rule,
                severity: d.severity.name(),
                path: &outcome.sources.get(d.span.file).display_path,
                line: start.line,
                column: start.column,
                end_line: end.line,
                end_column: end.column,
                message: &d.message,
                help: d.help.as_deref(),
                fix: d.fix.as_ref().map(|f| JsonFix {
                    title: &f.title,
                    applicability: f.applicability.name(),
                }),
            }
        })
        .collect();
    let notes = outcome
        .notes
        .iter()
        .map(|n| {
            let file = outcome.sources.get(n.span.file);
            let at = file.line_col(n.span.start as usize);
            JsonNote {
                path: &file.display_path,
                line: at.line,
                column: at.column,
                message: &n.message,
            }
        })
        .collect();
    let report = Report {
        version: 1,
        diagnostics,
        notes,
        summary: Summary {
            files: outcome.files,
            errors: outcome.errors(),
            warnings: outcome.warnings(),
            skipped: outcome.skipped.len(),
        },
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}
