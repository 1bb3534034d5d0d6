//! Applies inline `miglint: ignore[...]` comments and reports the ones that
//! suppressed nothing.

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::migration::{SuppressionComment, SuppressionScope};
use crate::rules::{self, RuleSet};
use crate::source::{FileId, SourceDb};

/// Removes suppressed diagnostics and adds `unused-ignore` findings.
pub fn apply(
    diagnostics: Vec<Diagnostic>,
    comments: &[SuppressionComment],
    sources: &SourceDb,
    rule_set: &RuleSet,
) -> Vec<Diagnostic> {
    let mut by_file: HashMap<FileId, Vec<usize>> = HashMap::new();
    for (i, c) in comments.iter().enumerate() {
        by_file.entry(c.span.file).or_default().push(i);
    }
    // used[i][j]: rule j of comment i suppressed something (j = 0 for bare comments).
    let mut used: Vec<Vec<bool>> = comments
        .iter()
        .map(|c| vec![false; c.rules.len().max(1)])
        .collect();
    let mut kept = Vec::with_capacity(diagnostics.len());
    for d in diagnostics {
        let mut suppressed = false;
        if let Some(list) = by_file.get(&d.span.file) {
            let file = sources.get(d.span.file);
            let line = file.line_index(d.span.start as usize);
            for &ci in list {
                let c = &comments[ci];
                let comment_line = file.line_index(c.span.start as usize);
                let applies = match c.scope {
                    SuppressionScope::File => true,
                    SuppressionScope::Line => comment_line == line,
                    SuppressionScope::NextLine => comment_line + 1 == line,
                };
                if !applies {
                    continue;
                }
                if c.rules.is_empty() {
                    used[ci][0] = true;
                    suppressed = true;
                } else if let Some(j) = c.rules.iter().position(|r| r.name == d.rule) {
                    used[ci][j] = true;
                    suppressed = true;
                }
            }
        }
        if !suppressed {
            kept.push(d);
        }
    }
    let Some(severity) = rule_set.severity_of(rules::unused_ignore::ID) else {
        return kept;
    };
    for (ci, c) in comments.iter().enumerate() {
        if c.rules.is_empty() {
            if !used[ci][0] {
                kept.push(rules::unused_ignore::report(severity, c.span, None, false));
            }
            continue;
        }
        for (j, r) in c.rules.iter().enumerate() {
            if used[ci][j] {
                continue;
            }
            let known = rules::find(&r.name).is_some();
            // A suppression for a rule that is off in this run is not judged.
            if known && rule_set.severity_of(&r.name).is_none() {
                continue;
            }
            kept.push(rules::unused_ignore::report(
                severity,
                r.span,
                Some(&r.name),
                known,
            ));
        }
    }
    kept
}
