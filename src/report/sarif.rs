//! `--format sarif`: SARIF 2.1.0 for code scanning, one rule entry per rule.

use std::io::Write;

use serde_json::json;

use crate::diagnostic::Severity;
use crate::report::Outcome;
use crate::rules::ALL;

pub fn write(outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    let rules: Vec<_> = ALL
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "name": m.id,
                "shortDescription": { "text": m.summary },
                "fullDescription": { "text": m.summary },
                "help": { "text": m.doc, "markdown": m.doc },
                "defaultConfiguration": {
                    "level": match m.severity { Severity::Error => "error", Severity::Warning => "warning" }
                }
            })
        })
        .collect();
    let results: Vec<_> = outcome
        .diagnostics
        .iter()
        .map(|d| {
            let (start, end) = super::positions(outcome, d);
            let mut text = d.message.clone();
            if let Some(help) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            let mut result = json!({
                "ruleId": d.rule,
                "ruleIndex": ALL.iter().position(|m| m.id == d.rule).unwrap_or(0),
                "level": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": outcome.sources.get(d.span.file).display_path },
                        "region": {
                            "startLine": start.line,
                            "startColumn": start.column,
                            "endLine": end.line,
                            "endColumn": end.column
                        }
                    }
                }]
            });
            if let Some(fixes) = d.fix.as_ref().and_then(|f| fix(outcome, f)) {
                result["fixes"] = fixes;
            }
            result
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "miglint",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules
                }
            },
            "results": results
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// A finding's fix as SARIF `fixes`: its edits by file, as character
/// ranges replaced; whether `--fix` applies it is in `properties`. A fix
/// that only renames files has no SARIF form.
fn fix(outcome: &Outcome, f: &crate::diagnostic::Fix) -> Option<serde_json::Value> {
    let mut by_file: std::collections::BTreeMap<crate::source::FileId, Vec<serde_json::Value>> =
        Default::default();
    for e in &f.edits {
        let text = &outcome.sources.get(e.span.file).text;
        // SARIF counts characters, not bytes.
        let offset = text[..e.span.start as usize].chars().count();
        let length = text[e.span.start as usize..e.span.end as usize]
            .chars()
            .count();
        by_file.entry(e.span.file).or_default().push(json!({
            "deletedRegion": { "charOffset": offset, "charLength": length },
            "insertedContent": { "text": e.text }
        }));
    }
    if by_file.is_empty() {
        return None;
    }
    let changes: Vec<_> = by_file
        .into_iter()
        .map(|(file, replacements)| {
            json!({
                "artifactLocation": { "uri": outcome.sources.get(file).display_path },
                "replacements": replacements
            })
        })
        .collect();
    Some(json!([{
        "description": { "text": f.title },
        "artifactChanges": changes,
        "properties": { "applicability": f.applicability.name() }
    }]))
}
