//! `--format markdown`: a summary for a pull request page. The GitHub
//! Action appends it to the job summary (`$GITHUB_STEP_SUMMARY`) and can
//! keep one pull request comment up to date with it: counts by rule, the
//! findings by file with links to their lines, and what `--fix` would do.

use std::collections::BTreeMap;
use std::io::Write;

use crate::diagnostic::{Applicability, Severity};
use crate::report::Outcome;

/// Marks the comment the Action keeps up to date, so it finds it again.
pub const MARKER: &str = "<!-- miglint -->";

/// Findings listed one by one; past this the list says how many more (a
/// pull request comment holds 65,536 characters).
const LISTED: usize = 200;

/// Where a file's lines are on the web: `$GITHUB_SERVER_URL /
/// $GITHUB_REPOSITORY / blob / $GITHUB_SHA`, when a workflow sets them.
#[derive(Clone, Debug, Default)]
pub struct Links {
    pub blob: Option<String>,
}

impl Links {
    pub fn from_env() -> Links {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let blob = match (
            var("GITHUB_SERVER_URL"),
            var("GITHUB_REPOSITORY"),
            var("GITHUB_SHA"),
        ) {
            (Some(server), Some(repo), Some(sha)) => Some(format!(
                "{}/{repo}/blob/{sha}",
                server.trim_end_matches('/')
            )),
            _ => None,
        };
        Links { blob }
    }

    /// A link to `path` at `line`, when the path is inside the checkout.
    fn to(&self, path: &str, line: usize) -> Option<String> {
        let blob = self.blob.as_ref()?;
        let inside = !path.starts_with('/') && !path.starts_with("..") && !path.contains('\\');
        inside.then(|| format!("{blob}/{path}#L{line}"))
    }
}

/// Text safe in a Markdown table cell or list item: no HTML, no cell
/// breaks, one line.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace('\n', " ")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn write(outcome: &Outcome, links: &Links, out: &mut dyn Write) -> std::io::Result<()> {
    let (errors, warnings) = (outcome.errors(), outcome.warnings());
    let files = plural(outcome.files, "migration file", "migration files");
    writeln!(out, "{MARKER}")?;
    if outcome.diagnostics.is_empty() {
        return writeln!(
            out,
            "### miglint: all checks passed\n\n{files} linted, no findings."
        );
    }
    writeln!(
        out,
        "### miglint: {} and {}\n\nin {files}.\n",
        plural(errors, "error", "errors"),
        plural(warnings, "warning", "warnings")
    )?;

    // By rule: the most frequent first, errors before warnings.
    let mut by_rule: BTreeMap<(&str, Severity), usize> = BTreeMap::new();
    for d in &outcome.diagnostics {
        *by_rule.entry((d.rule, d.severity)).or_default() += 1;
    }
    let mut rules: Vec<_> = by_rule.into_iter().collect();
    rules.sort_by(|((ra, sa), na), ((rb, sb), nb)| {
        (*sa != Severity::Error)
            .cmp(&(*sb != Severity::Error))
            .then(nb.cmp(na))
            .then(ra.cmp(rb))
    });
    writeln!(out, "| rule | severity | findings |\n|---|---|---:|")?;
    for ((rule, severity), n) in &rules {
        writeln!(out, "| `{rule}` | {} | {n} |", severity_name(*severity))?;
    }

    // By file, in the order the text output shows them.
    writeln!(out, "\n#### By file\n")?;
    let mut by_file: BTreeMap<&str, Vec<&crate::diagnostic::Diagnostic>> = BTreeMap::new();
    for d in &outcome.diagnostics {
        by_file
            .entry(&outcome.sources.get(d.span.file).display_path)
            .or_default()
            .push(d);
    }
    let mut listed = 0;
    for (path, diags) in &by_file {
        if listed >= LISTED {
            break;
        }
        writeln!(
            out,
            "**`{}`** ({})\n",
            escape(path),
            plural(diags.len(), "finding", "findings")
        )?;
        for d in diags {
            if listed >= LISTED {
                break;
            }
            listed += 1;
            let (start, _) = super::positions(outcome, d);
            let at = format!("line {}", start.line);
            let at = match links.to(path, start.line) {
                Some(url) => format!("[{at}]({url})"),
                None => at,
            };
            let fix = match d.fix.as_ref().map(|f| f.applicability) {
                Some(Applicability::Safe) => " (fixable)",
                _ => "",
            };
            writeln!(
                out,
                "- {at}: **{}** `{}`: {}{fix}",
                severity_name(d.severity),
                d.rule,
                escape(&d.message)
            )?;
        }
        writeln!(out)?;
    }
    if outcome.diagnostics.len() > listed {
        writeln!(
            out,
            "… and {} more: run `miglint lint` to see them all.\n",
            plural(outcome.diagnostics.len() - listed, "finding", "findings")
        )?;
    }
    let safe = outcome
        .diagnostics
        .iter()
        .filter(|d| {
            d.fix
                .as_ref()
                .is_some_and(|f| f.applicability == Applicability::Safe)
        })
        .count();
    if safe > 0 {
        writeln!(
            out,
            "{} fixable: run `miglint lint --fix` (`--diff` to preview), then commit the result.",
            plural(safe, "finding is", "findings are")
        )?;
    }
    Ok(())
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_stay_one_line_without_html() {
        assert_eq!(escape("a | b\n<c>"), "a \\| b &lt;c&gt;");
    }

    #[test]
    fn links_only_inside_the_checkout() {
        let links = Links {
            blob: Some("https://github.com/o/r/blob/abc".into()),
        };
        assert_eq!(
            links.to("migrations/versions/001.py", 7).as_deref(),
            Some("https://github.com/o/r/blob/abc/migrations/versions/001.py#L7")
        );
        assert_eq!(links.to("../elsewhere/001.py", 7), None);
        assert_eq!(links.to("/abs/001.py", 7), None);
        assert_eq!(Links::default().to("a.py", 1), None);
    }
}
