//! `internal-error`: miglint itself failed on a file. The run goes on.

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::diagnostic::Diagnostic;
use crate::source::Span;

pub const ID: &str = "internal-error";

pub const META: RuleMeta = RuleMeta {
    id: ID,
    severity: Severity::Error,
    summary: "miglint failed while handling a file (a bug: please report it)",
    doc: include_str!("../../rules/internal-error.md"),
    has_examples: false,
    build: no_options::<InternalError>,
};

/// Reported by the pipeline, never by a check of its own.
#[derive(Default)]
pub struct InternalError;

impl Rule for InternalError {
    fn check(&self, _: &SetAnalysis, _: &mut Context) {}
}

pub fn diagnostic(span: Span, message: &str) -> Diagnostic {
    let mut d = Diagnostic::new(
        ID,
        Severity::Error,
        span,
        format!("internal error: {message}"),
    );
    d.help("this is a bug in miglint; the other files were still linted");
    d
}
