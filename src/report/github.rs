//! `--format github`: workflow commands that GitHub shows as annotations.

use std::io::Write;

use crate::diagnostic::Severity;
use crate::report::Outcome;

/// Escapes a workflow command's message.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn write(outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    for d in &outcome.diagnostics {
        let (start, end) = super::positions(outcome, d);
        let kind = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        writeln!(
            out,
            "::{kind} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            escape_property(&outcome.sources.get(d.span.file).display_path),
            start.line,
            start.column,
            end.line,
            end.column,
            escape_property(&format!("miglint({})", d.rule)),
            escape_data(&message)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_the_workflow_command_rules() {
        assert_eq!(escape_data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(escape_property("miglint(x): a,b"), "miglint(x)%3A a%2Cb");
    }
}
