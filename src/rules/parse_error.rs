//! `parse-error`: a migration that is not valid Python, or whose SQL does not parse.

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;

pub const META: RuleMeta = RuleMeta {
    id: "parse-error",
    severity: Severity::Error,
    summary: "A migration is not valid Python, or its SQL does not parse",
    doc: include_str!("../../rules/parse-error.md"),
    has_examples: true,
    build: no_options::<ParseError>,
};

#[derive(Default)]
pub struct ParseError;

impl Rule for ParseError {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        for m in &set.migrations {
            for p in &m.problems {
                cx.report(p.span, p.message.clone()).label("here");
            }
        }
    }
}
