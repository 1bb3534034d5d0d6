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
            json!({
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
            })
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
