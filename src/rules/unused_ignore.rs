//! `unused-ignore`: a `miglint: ignore[...]` comment that suppresses nothing.

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::diagnostic::Diagnostic;
use crate::source::Span;

pub const ID: &str = "unused-ignore";

pub const META: RuleMeta = RuleMeta {
    id: ID,
    severity: Severity::Warning,
    summary: "An inline `miglint: ignore` comment suppresses nothing",
    doc: include_str!("../../rules/unused-ignore.md"),
    has_examples: true,
    build: no_options::<UnusedIgnore>,
};

/// Reported by the suppression stage, which alone knows what was used.
#[derive(Default)]
pub struct UnusedIgnore;

impl Rule for UnusedIgnore {
    fn check(&self, _: &SetAnalysis, _: &mut Context) {}
}

pub fn report(severity: Severity, span: Span, rule: Option<&str>, known: bool) -> Diagnostic {
    let (message, help) = match (rule, known) {
        (None, _) => (
            "this `miglint: ignore` comment suppresses nothing".to_string(),
            "remove the comment".to_string(),
        ),
        (Some(r), true) => (
            format!("unused suppression: no `{r}` finding here"),
            format!("remove `{r}` from the comment"),
        ),
        (Some(r), false) => (
            format!("unknown rule `{r}` in suppression"),
            "see `miglint rules` for the rule ids".to_string(),
        ),
    };
    let mut d = Diagnostic::new(ID, severity, span, message);
    d.help(help);
    d
}
